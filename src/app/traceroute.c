/*
 * src/app/traceroute.c - traceroute as an event-driven app (see
 * traceroute.h): probes at rising TTLs, one in flight at a time, answers
 * from the ICMP error observers (time exceeded, unreachable) and, with -I,
 * the echo endpoint (echo replies).
 *
 * RFC 792 (time exceeded, unreachable, echo), RFC 1812 s4.3.2.4 / s5.3.1
 * (routers answer a TTL that runs out with time exceeded); the method is
 * Van Jacobson's (LBL traceroute), the output Linux traceroute 2.1's with
 * -n: the header "traceroute to NAME (ADDR), M hops max, L byte packets",
 * per hop "%2u " then per probe " ADDR" (when it differs from the hop's
 * previous answer), "  %.3f ms" and " !X" annotations, or " *" when the
 * probe got no answer within the wait. Annotations and the end of the
 * trace follow Linux's parse_icmp_res(): port unreachable (UDP) or an echo
 * reply (-I) means the destination answered; any other unreachable code
 * prints !N !H !P !F-MTU !X !S !V !C or !<code>, and any such final answer
 * ends the trace after the current hop's probes. Errors from our own
 * addresses (ARP failed for an on-link destination) are no answer: '*'.
 * Not: parallel probes (Linux's -N 16), the -w MAX,HERE,NEAR heuristics,
 * name lookups of hops (always -n), TCP probes, IPv6.
 */
#include "app/traceroute.h"

#include <stdlib.h>
#include <string.h>

#include "tern/err.h"
#include "tern/wire/icmp.h"
#include "tern/wire/udp.h"

#define TR_PORT_DEFAULT 33434
#define TR_MAX_PACKETLEN 65000 /* Linux's MAX_PACKET_LEN */
#define TR_MAX_QUERIES 10      /* Linux: "no more than 10 probes per hop" */
#define TR_HDRS 28             /* IPv4 header + UDP or ICMP echo header */

struct tern_traceroute {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_traceroute_opts o;
    FILE *out;
    void (*done)(void *ctx, int status);
    void *ctx;
    int obs;                  /* tern_icmp_observe handle, -1 none */
    int echo_id;              /* -I: bound echo id, -1 none */
    uint16_t sport;           /* UDP source port of every probe */
    uint32_t src;             /* our address toward dst (UDP pseudo-header) */
    uint8_t ttl;              /* current hop */
    uint32_t q;               /* probe index within the hop */
    uint16_t cur;             /* port (UDP) or sequence (ICMP) of the probe in flight */
    bool waiting;             /* a probe is in flight */
    bool final;               /* this hop got a final answer (destination, unreachable) */
    bool finished;
    bool started;             /* the first probe went out (from the loop) */
    uint64_t sent_at;
    uint32_t last_from;       /* the hop's last answer's address; 0 none yet */
    struct tern_timer timer;  /* the wait, or a zero delay before the next probe */
    uint8_t *probe;           /* packetlen - 20 bytes: UDP or ICMP payload built here */
    size_t plen;              /* bytes of payload after the UDP/ICMP header */
};

static void finish(struct tern_traceroute *t, int status)
{
    if (t->finished)
        return;
    t->finished = true;
    t->waiting = false;
    tern_timer_cancel(t->loop, &t->timer);
    if (t->obs >= 0)
        tern_icmp_unobserve(t->stack, t->obs);
    t->obs = -1;
    if (t->echo_id >= 0)
        tern_echo_unbind(t->stack, (uint16_t)t->echo_id);
    t->echo_id = -1;
    fputc('\n', t->out); /* Linux ends its last line (and the header) here */
    fflush(t->out);
    if (t->done)
        t->done(t->ctx, status);
}

/* One probe's result: from == 0 is a timeout. */
static void report(struct tern_traceroute *t, uint32_t from, uint64_t rtt, const char *note)
{
    FILE *f = t->out;
    if (t->q == 0) {
        fprintf(f, "\n%2u ", t->ttl);
        t->last_from = 0;
    }
    if (!from) {
        fputs(" *", f);
    } else {
        /* Linux prints the address on the hop's first answer and whenever
         * it differs from the previous answer (timeouts skipped). */
        if (from != t->last_from) {
            char a[16];
            fprintf(f, " %s", tern_ipv4_ntoa(from, a));
        }
        t->last_from = from;
        fprintf(f, "  %llu.%03llu ms", (unsigned long long)(rtt / 1000),
                (unsigned long long)(rtt % 1000));
        if (note && *note)
            fprintf(f, " %s", note);
    }
    fflush(f);
}

static void send_probe(struct tern_traceroute *t)
{
    uint64_t now = tern_loop_now(t->loop);
    uint32_t n = t->o.nqueries * (uint32_t)(t->ttl - t->o.first_ttl) + t->q;
    t->cur = (uint16_t)(t->o.port + n);
    struct tern_ip_out io = {.src = t->src, .dst = t->o.dst, .ttl = t->ttl};
    int rc;
    if (t->o.icmp) {
        rc = tern_echo_send(t->stack, &io, (uint16_t)t->echo_id, t->cur, t->probe + 8, t->plen);
    } else {
        struct tern_udp_repr u = {.sport = t->sport, .dport = t->cur,
                                  .payload = t->probe + 8, .payload_len = (uint16_t)t->plen};
        rc = tern_udp_emit(&u, t->src, t->o.dst, t->probe, t->plen + 8);
        if (rc > 0) {
            io.proto = TERN_IPPROTO_UDP;
            rc = tern_ip_output(t->stack, &io, t->probe, t->plen + 8);
        }
    }
    if (rc < 0) {
        /* Linux's words for a missing route (its connect() fails) */
        fprintf(t->out, "\nconnect: %s",
                rc == TERN_E_INVAL || rc == TERN_E_NETUNREACH ? "Network is unreachable"
                                                              : tern_strerror(rc));
        finish(t, 1);
        return;
    }
    t->sent_at = now;
    t->waiting = true;
    tern_timer_arm(t->loop, &t->timer, now + t->o.wait_us);
}

/* After a probe's answer or timeout: the next probe, hop, or the end. */
static void advance(struct tern_traceroute *t)
{
    if (++t->q < t->o.nqueries) {
        send_probe(t);
        return;
    }
    if (t->final || t->ttl >= t->o.max_ttl) {
        finish(t, 0);
        return;
    }
    t->ttl++;
    t->q = 0;
    t->final = false;
    send_probe(t);
}

static void on_timer(struct tern_timer *tm, void *arg)
{
    (void)tm;
    struct tern_traceroute *t = arg;
    if (t->finished)
        return;
    if (!t->started) {
        t->started = true;
        send_probe(t);
        return;
    }
    if (t->waiting) {
        t->waiting = false;
        report(t, 0, 0, NULL);
    }
    advance(t);
}

/* A matching answer: print it, then the next probe from the loop (not
 * from inside the stack's ICMP input). */
static void answered(struct tern_traceroute *t, uint32_t from, const char *note, bool final)
{
    uint64_t now = tern_loop_now(t->loop);
    t->waiting = false;
    if (final)
        t->final = true;
    report(t, from, now - t->sent_at, note);
    tern_timer_arm(t->loop, &t->timer, now);
}

/* Linux traceroute's parse_icmp_res(): NULL for time exceeded in transit
 * (not final), "" for port unreachable (destination reached), else the
 * annotation printed after the time. */
static const char *annotation(uint8_t type, uint8_t code, uint16_t mtu, char *buf, size_t cap)
{
    if (type == TERN_ICMP_TIMXCEED && code == TERN_ICMP_TIMXCEED_TTL)
        return NULL;
    if (type != TERN_ICMP_UNREACH) {
        snprintf(buf, cap, "!<%u-%u>", type, code);
        return buf;
    }
    switch (code) {
    case 0: case 6: case 8: case 11: return "!N";  /* net, unknown, isolated, TOS */
    case 1: case 7: case 12: return "!H";          /* host, unknown, TOS */
    case 9: case 10: case 13: return "!X";         /* administratively prohibited */
    case TERN_ICMP_UNREACH_PORT: return "";
    case TERN_ICMP_UNREACH_PROTO: return "!P";
    case TERN_ICMP_UNREACH_NEEDFRAG:
        snprintf(buf, cap, "!F-%u", mtu);
        return buf;
    case TERN_ICMP_UNREACH_SRCFAIL: return "!S";
    case 14: return "!V";                          /* host precedence violation */
    case 15: return "!C";                          /* precedence cutoff */
    default:
        snprintf(buf, cap, "!<%u>", code);
        return buf;
    }
}

/* addr is one of the stack's own interface addresses. */
static bool is_ours(struct tern_stack *s, uint32_t addr)
{
    struct tern_iface_config c;
    for (int i = 0; i < 64; i++)
        if (tern_iface_get(s, i, &c) == 0 && c.addr == addr)
            return true;
    return false;
}

static void on_icmp_error(void *ctx, const struct tern_icmp_event *ev)
{
    struct tern_traceroute *t = ctx;
    const struct tern_icmp_quote *q = ev->q;
    if (!t->waiting || q->ip.dst != t->o.dst || q->ip.frag_off != 0)
        return;
    /* Our own stack's "host unreachable" when ARP gave up is no hop: the
     * probe stays unanswered and prints '*', as Linux traceroute shows a
     * silent on-link address (never its own address as a hop). */
    if (is_ours(t->stack, ev->from))
        return;
    /* Only the probe in flight (ATTACKS G4: an answer must quote it). */
    if (t->o.icmp) {
        if (q->ip.proto != TERN_IPPROTO_ICMP || q->l4[0] != TERN_ICMP_ECHO ||
            q->sport != (uint16_t)t->echo_id || q->dport != t->cur)
            return;
    } else if (q->ip.proto != TERN_IPPROTO_UDP || q->sport != t->sport || q->dport != t->cur) {
        return;
    }
    char buf[16];
    const char *note = annotation(ev->type, ev->code, ev->next_mtu, buf, sizeof buf);
    answered(t, ev->from, note, note != NULL);
}

static void on_echo(void *ctx, const struct tern_echo_event *ev)
{
    struct tern_traceroute *t = ctx;
    /* Errors come through on_icmp_error; here only the destination's reply. */
    if (ev->is_error || !t->waiting || ev->seq != t->cur || ev->from != t->o.dst)
        return;
    answered(t, ev->from, "", true);
}

struct tern_traceroute *traceroute_start(struct tern_stack *s, struct tern_loop *loop,
                                              const struct tern_traceroute_opts *o, FILE *out,
                                              void (*done)(void *ctx, int status), void *ctx)
{
    if (!s || !loop || !o || !out || !o->dst)
        return NULL;
    struct tern_traceroute_opts op = *o;
    if (!op.first_ttl)
        op.first_ttl = 1;
    if (!op.max_ttl)
        op.max_ttl = 30;
    if (!op.nqueries)
        op.nqueries = 3;
    if (!op.port)
        op.port = op.icmp ? 1 : TR_PORT_DEFAULT;
    if (!op.packetlen)
        op.packetlen = 60;
    if (op.packetlen < TR_HDRS)
        op.packetlen = TR_HDRS;
    if (!op.wait_us)
        op.wait_us = 5000000;
    if (op.first_ttl > op.max_ttl || op.nqueries > TR_MAX_QUERIES ||
        op.packetlen > TR_MAX_PACKETLEN)
        return NULL;
    struct tern_traceroute *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->probe = malloc(op.packetlen - 20);
    if (!t->probe) {
        free(t);
        return NULL;
    }
    t->stack = s;
    t->loop = loop;
    t->o = op;
    t->out = out;
    t->done = done;
    t->ctx = ctx;
    t->obs = -1;
    t->echo_id = -1;
    t->ttl = op.first_ttl;
    t->plen = op.packetlen - TR_HDRS;
    /* Linux's probe data: 0x40, 0x41, ... ("@ABC..."), repeating every 64. */
    for (size_t i = 0; i < t->plen; i++)
        t->probe[8 + i] = (uint8_t)(0x40 + (i & 0x3f));
    tern_timer_init(&t->timer, on_timer, t);
    /* Our source address toward dst (for the UDP checksum); when there is
     * no route, the first send reports it. */
    uint32_t nh;
    int ifx;
    struct tern_iface_config ic;
    if (tern_route_lookup(s, op.dst, &nh, &ifx) == TERN_OK && tern_iface_get(s, ifx, &ic) == TERN_OK)
        t->src = ic.addr;
    /* One random source port in the dynamic range (RFC 6335 s6) for the
     * UDP probes: answers must quote it. */
    t->sport = (uint16_t)(49152 + tern_stack_random(s) % 16384);
    t->obs = tern_icmp_observe(s, on_icmp_error, t);
    if (t->obs < 0 || (op.icmp && (t->echo_id = tern_echo_bind(s, 0, on_echo, t)) < 0)) {
        if (t->obs >= 0)
            tern_icmp_unobserve(s, t->obs);
        free(t->probe);
        free(t);
        return NULL;
    }
    char a[16];
    tern_ipv4_ntoa(op.dst, a);
    fprintf(out, "traceroute to %s (%s), %u hops max, %u byte packets",
            op.dst_name ? op.dst_name : a, a, op.max_ttl, op.packetlen);
    fflush(out);
    /* The first probe leaves from the loop, so done() never runs inside
     * this call. */
    tern_timer_arm(loop, &t->timer, tern_loop_now(loop));
    return t;
}

void traceroute_stop(struct tern_traceroute *t)
{
    if (t)
        finish(t, 0);
}

void traceroute_free(struct tern_traceroute *t)
{
    if (!t)
        return;
    t->done = NULL; /* freeing a running trace calls no one */
    finish(t, 0);
    free(t->probe);
    free(t);
}
