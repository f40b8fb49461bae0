/*
 * src/app/ping.c - ping as an event-driven app (see ping.h).
 *
 * Output follows iputils ping (Debian 12, iputils 20221126): header
 * "PING host (addr) 56(84) bytes of data.", reply lines with iputils' time
 * rounding, "From addr icmp_seq=N <reason>" for ICMP errors, and the summary
 * with rtt min/avg/max/mdev (duplicates included in the timing, as iputils
 * does). RTTs come from a table of send times kept per sequence number, not
 * from the echoed payload, so a corrupted reply cannot fake a time.
 */
#include "app/ping.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/icmp.h"

#define SENT_SLOTS 4096 /* send times kept for the last 4096 sequence numbers */

struct tern_ping {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_ping_opts o;
    FILE *out;
    void (*done)(void *ctx, int status);
    void *ctx;
    int id;
    bool timing, finished;
    uint32_t ntransmitted, nreceived, nrepeats, nerrors;
    uint64_t start_us;
    uint64_t tmin, tmax, tsum;
    double tsum2;
    uint64_t sent_at[SENT_SLOTS];
    uint16_t sent_seq[SENT_SLOTS];
    uint8_t seen[65536 / 8];
    struct tern_timer send_timer, linger_timer, deadline_timer;
    uint64_t last_send;
    uint8_t *data;
};

static void finish(struct tern_ping *p);
static void after_send(struct tern_ping *p, int r, bool df, uint16_t mtu, uint64_t now);
static void send_one6(struct tern_ping *p, uint16_t seq, uint64_t now);

static void put_time(FILE *f, uint64_t t)
{
    /* iputils' rounding: 4 significant digits at most. */
    if (t >= 100000 - 50)
        fprintf(f, " time=%llu ms", (unsigned long long)((t + 500) / 1000));
    else if (t >= 10000 - 5)
        fprintf(f, " time=%llu.%01llu ms", (unsigned long long)((t + 50) / 1000),
                (unsigned long long)(((t + 50) % 1000) / 100));
    else if (t >= 1000)
        fprintf(f, " time=%llu.%02llu ms", (unsigned long long)((t + 5) / 1000),
                (unsigned long long)(((t + 5) % 1000) / 10));
    else
        fprintf(f, " time=%llu.%03llu ms", (unsigned long long)(t / 1000),
                (unsigned long long)(t % 1000));
}

static const char *unreach_text(uint8_t code)
{
    switch (code) {
    case TERN_ICMP_UNREACH_NET: return "Destination Net Unreachable";
    case TERN_ICMP_UNREACH_HOST: return "Destination Host Unreachable";
    case TERN_ICMP_UNREACH_PROTO: return "Destination Protocol Unreachable";
    case TERN_ICMP_UNREACH_PORT: return "Destination Port Unreachable";
    case TERN_ICMP_UNREACH_SRCFAIL: return "Source Route Failed";
    case TERN_ICMP_UNREACH_ADMIN: return "Communication prohibited by filter";
    default: return NULL;
    }
}

/* -D: iputils' "[1700000000.123456] " before a line about a packet. */
static void put_stamp(struct tern_ping *p)
{
    if (!p->o.timestamps)
        return;
    int64_t t = (int64_t)tern_loop_now(p->loop) + p->o.wall_offset_us;
    if (t < 0)
        t = 0;
    fprintf(p->out, "[%lld.%06lld] ", (long long)(t / 1000000), (long long)(t % 1000000));
}

/* iputils' texts for ICMPv6 errors (ping6_common.c: print_icmp). */
static void print_error6(struct tern_ping *p, const struct tern_echo_event *ev)
{
    char a[TERN_IPV6_ADDRSTRLEN];
    FILE *f = p->out;
    put_stamp(p);
    fprintf(f, "From %s icmp_seq=%u ", tern_ipv6_ntoa(&ev->from6, a), ev->seq);
    static const char *const unreach[] = {"No route", "Administratively prohibited",
                                          "Beyond scope of source address", "Address unreachable",
                                          "Port unreachable", "Source address failed ingress/egress policy",
                                          "Reject route to destination"};
    switch (ev->type) {
    case TERN_ICMPV6_DST_UNREACH:
        if (ev->code < sizeof unreach / sizeof unreach[0])
            fprintf(f, "Destination unreachable: %s\n", unreach[ev->code]);
        else
            fprintf(f, "Destination unreachable: Unknown code %u\n", ev->code);
        break;
    case TERN_ICMPV6_PKT_TOO_BIG:
        fprintf(f, "Packet too big: mtu=%u\n", ev->next_mtu);
        break;
    case TERN_ICMPV6_TIME_EXCEEDED:
        fprintf(f, "Time exceeded: %s\n", ev->code == 0 ? "Hop limit" : "Defragmentation failure");
        break;
    case TERN_ICMPV6_PARAM_PROB:
        fprintf(f, "Parameter problem: %s\n",
                ev->code == 0 ? "Wrong header field"
                : ev->code == 1 ? "Unknown header"
                : ev->code == 2 ? "Unknown option"
                                : "Unknown code");
        break;
    default:
        fprintf(f, "Bad ICMP type: %u\n", ev->type);
        break;
    }
}

static void print_error(struct tern_ping *p, const struct tern_echo_event *ev)
{
    if (ev->v6) {
        print_error6(p, ev);
        return;
    }
    char a[16];
    FILE *f = p->out;
    put_stamp(p);
    fprintf(f, "From %s icmp_seq=%u ", tern_ipv4_ntoa(ev->from, a), ev->seq);
    switch (ev->type) {
    case TERN_ICMP_UNREACH:
        if (ev->code == TERN_ICMP_UNREACH_NEEDFRAG)
            fprintf(f, "Frag needed and DF set (mtu = %u)\n", ev->next_mtu);
        else if (unreach_text(ev->code))
            fprintf(f, "%s\n", unreach_text(ev->code));
        else
            fprintf(f, "Dest Unreachable, Bad Code: %u\n", ev->code);
        break;
    case TERN_ICMP_TIMXCEED:
        fprintf(f, "%s\n", ev->code == TERN_ICMP_TIMXCEED_REASS ? "Frag reassembly time exceeded"
                                                                 : "Time to live exceeded");
        break;
    case TERN_ICMP_PARAMPROB:
        fprintf(f, "Parameter problem: pointer = %u\n", ev->code);
        break;
    case TERN_ICMP_SOURCEQUENCH:
        fprintf(f, "Source Quench\n");
        break;
    default:
        fprintf(f, "Bad ICMP type: %u\n", ev->type);
        break;
    }
}

static void on_echo(void *ctx, const struct tern_echo_event *ev)
{
    struct tern_ping *p = ctx;
    if (p->finished)
        return;
    uint64_t now = tern_loop_now(p->loop);
    uint16_t seq = ev->seq;
    /* Accept only what we sent: a sequence number in the window of
     * outstanding requests (ATTACKS G4). */
    uint16_t slot = seq % SENT_SLOTS;
    bool known = p->ntransmitted > 0 && p->sent_seq[slot] == seq &&
                 (uint16_t)(p->ntransmitted - seq) < SENT_SLOTS && seq != 0;
    if (!known || ev->v6 != p->o.v6)
        return;
    if (ev->is_error) {
        p->nerrors++;
        if (p->o.flood) {
            fputs("\bE", p->out); /* iputils' flood mark for an error */
            fflush(p->out);
        } else if (!p->o.quiet) {
            print_error(p, ev);
        }
    } else {
        bool dup = (p->seen[seq >> 3] >> (seq & 7)) & 1;
        p->seen[seq >> 3] |= (uint8_t)(1u << (seq & 7));
        if (dup)
            p->nrepeats++;
        else
            p->nreceived++;
        uint64_t rtt = now - p->sent_at[slot];
        if (p->timing) {
            if (rtt < p->tmin)
                p->tmin = rtt;
            if (rtt > p->tmax)
                p->tmax = rtt;
            p->tsum += rtt;
            p->tsum2 += (double)rtt * (double)rtt;
        }
        if (p->o.flood) {
            fputs("\b \b", p->out); /* the request's '.' rubbed out */
            fflush(p->out);
        } else if (!p->o.quiet) {
            char a[TERN_IPV6_ADDRSTRLEN];
            put_stamp(p);
            fprintf(p->out, "%zu bytes from %s: icmp_seq=%u ttl=%u", ev->len + TERN_ICMP_HLEN,
                    ev->v6 ? tern_ipv6_ntoa(&ev->from6, a) : tern_ipv4_ntoa(ev->from, a), seq,
                    ev->ttl);
            if (p->timing)
                put_time(p->out, rtt);
            fprintf(p->out, "%s\n", dup ? " (DUP!)" : "");
        }
    }
    if (p->o.deadline_us ? p->o.count && p->nreceived >= p->o.count
                         : p->o.count && p->ntransmitted >= p->o.count &&
                               p->nreceived + p->nerrors >= p->o.count) {
        finish(p);
        return;
    }
    /* flood: the next request as soon as this one is answered (bounded) */
    if (p->o.flood && !ev->is_error && tern_timer_armed(&p->send_timer)) {
        uint64_t at = p->last_send + TERN_PING_FLOOD_MIN_US;
        tern_timer_arm(p->loop, &p->send_timer, at > now ? at : now);
    }
}

static void deadline_done(struct tern_timer *t, void *arg)
{
    (void)t;
    finish(arg);
}

/* The path MTU (RFC 1191 cache, else the route's interface MTU), as Linux's
 * ping sees it through the socket: -M want fragments above it, -M do fails
 * locally ("message too long"). 0: no route. */
static uint16_t route_mtu(struct tern_ping *p)
{
    int mtu = tern_pmtu_get(p->stack, p->o.dst);
    return mtu > 0 ? (uint16_t)mtu : 0;
}

static void send_one(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_ping *p = arg;
    uint64_t now = tern_loop_now(p->loop);
    uint16_t seq = (uint16_t)(p->ntransmitted + 1);
    if (seq == 0)
        seq = 1; /* iputils wraps 65535 -> 0; we keep 0 unused to mark free slots */
    p->ntransmitted++;
    p->sent_at[seq % SENT_SLOTS] = now;
    p->sent_seq[seq % SENT_SLOTS] = seq;
    p->seen[seq >> 3] &= (uint8_t)~(1u << (seq & 7));
    /* The payload starts with the send time, as iputils' does (a struct
     * timeval there; 8 bytes of microseconds here). */
    if (p->o.size >= 8) {
        tern_put32(p->data, (uint32_t)(now >> 32));
        tern_put32(p->data + 4, (uint32_t)now);
    }
    if (p->o.v6) {
        send_one6(p, seq, now);
        return;
    }
    uint16_t mtu = route_mtu(p);
    struct tern_ip_out o = {.src = p->o.src, .dst = p->o.dst, .proto = TERN_IPPROTO_ICMP,
                            .ttl = p->o.ttl};
    size_t dgram = (size_t)p->o.size + TERN_ICMP_HLEN + TERN_IPV4_HLEN_MIN;
    o.df = p->o.pmtu == TERN_PMTU_DO || (p->o.pmtu == TERN_PMTU_WANT && mtu && dgram <= mtu);
    int r = o.df && mtu && dgram > mtu
                ? TERN_E_BAD_LEN
                : tern_echo_send(p->stack, &o, (uint16_t)p->id, seq, p->data, p->o.size);
    after_send(p, r, o.df, mtu, now);
}

static void after_send(struct tern_ping *p, int r, bool df, uint16_t mtu, uint64_t now)
{
    p->last_send = now;
    if (p->o.flood) {
        fputc('.', p->out);
        fflush(p->out);
    }
    if (r < 0) {
        p->nerrors++;
        if (r == TERN_E_BAD_LEN && df)
            fprintf(p->out, "ping: local error: message too long, mtu=%u\n", mtu);
        else
            fprintf(p->out, "ping: sendmsg: %s\n", tern_strerror(r));
    }
    if (!p->o.count || p->ntransmitted < p->o.count || p->o.deadline_us)
        tern_timer_arm(p->loop, &p->send_timer, now + p->o.interval_us);
    else if (p->nreceived + p->nerrors >= p->o.count)
        finish(p);
    else
        tern_timer_arm(p->loop, &p->linger_timer, now + p->o.linger_us);
}

/* ping -6: the same schedule; an echo request over IPv6. -M do: never
 * fragmented (too big for the path MTU is a local error); otherwise the
 * source fragments (IPv6 has no DF: routers never fragment). */
static void send_one6(struct tern_ping *p, uint16_t seq, uint64_t now)
{
    int pm = tern_pmtu6_get(p->stack, &p->o.dst6);
    uint16_t mtu = pm > 0 ? (uint16_t)pm : 0;
    struct tern_ip6_out o = {.src = p->o.src6, .dst = p->o.dst6, .hop_limit = p->o.ttl,
                             .oif = tern_ipv6_is_link_local(&p->o.dst6) ||
                                            tern_ipv6_is_multicast(&p->o.dst6)
                                        ? p->o.oif6
                                        : -1,
                             .dontfrag = p->o.pmtu == TERN_PMTU_DO};
    int r = tern_echo6_send(p->stack, &o, (uint16_t)p->id, seq, p->data, p->o.size);
    after_send(p, r, o.dontfrag, mtu, now);
}

static void linger_done(struct tern_timer *t, void *arg)
{
    (void)t;
    finish(arg);
}

static void finish(struct tern_ping *p)
{
    if (p->finished)
        return;
    p->finished = true;
    tern_timer_cancel(p->loop, &p->send_timer);
    tern_timer_cancel(p->loop, &p->linger_timer);
    tern_timer_cancel(p->loop, &p->deadline_timer);
    uint64_t elapsed = tern_loop_now(p->loop) - p->start_us;
    FILE *f = p->out;
    if (p->o.flood)
        fputc('\n', f);
    fprintf(f, "\n--- %s ping statistics ---\n", p->o.dst_name);
    fprintf(f, "%u packets transmitted, %u received", p->ntransmitted, p->nreceived);
    if (p->nrepeats)
        fprintf(f, ", +%u duplicates", p->nrepeats);
    if (p->nerrors)
        fprintf(f, ", +%u errors", p->nerrors);
    if (p->ntransmitted) {
        float loss = (float)((double)(p->ntransmitted - p->nreceived) * 100.0 / p->ntransmitted);
        fprintf(f, ", %g%% packet loss", (double)loss);
        fprintf(f, ", time %llums", (unsigned long long)((elapsed + 500) / 1000));
    }
    fputc('\n', f);
    uint32_t n = p->nreceived + p->nrepeats;
    if (p->nreceived && p->timing) {
        uint64_t avg = p->tsum / n;
        double var = p->tsum2 / n - (double)avg * (double)avg;
        uint64_t mdev = var > 0 ? (uint64_t)sqrt(var) : 0;
        fprintf(f, "rtt min/avg/max/mdev = %llu.%03llu/%llu.%03llu/%llu.%03llu/%llu.%03llu ms\n",
                (unsigned long long)(p->tmin / 1000), (unsigned long long)(p->tmin % 1000),
                (unsigned long long)(avg / 1000), (unsigned long long)(avg % 1000),
                (unsigned long long)(p->tmax / 1000), (unsigned long long)(p->tmax % 1000),
                (unsigned long long)(mdev / 1000), (unsigned long long)(mdev % 1000));
    }
    fflush(f);
    tern_echo_unbind(p->stack, (uint16_t)p->id);
    /* iputils: failure without replies, or with -w fewer than -c */
    bool ok = p->nreceived && !(p->o.deadline_us && p->o.count && p->nreceived < p->o.count);
    if (p->done)
        p->done(p->ctx, ok ? 0 : 1);
}

struct tern_ping *ping_start(struct tern_stack *s, struct tern_loop *loop,
                                  const struct tern_ping_opts *o, FILE *out,
                                  void (*done)(void *ctx, int status), void *ctx)
{
    if (!s || !loop || !o || !out || o->size > TERN_PING_MAX_SIZE ||
        (o->interval_us == 0 && !o->flood))
        return NULL;
    struct tern_ping *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->data = malloc(o->size ? o->size : 1);
    if (!p->data) {
        free(p);
        return NULL;
    }
    p->stack = s;
    p->loop = loop;
    p->o = *o;
    if (!p->o.dst_name)
        p->o.dst_name = "";
    if (!p->o.linger_us)
        p->o.linger_us = 10000000;
    p->out = out;
    p->done = done;
    p->ctx = ctx;
    p->timing = o->size >= 16; /* iputils: timing needs room for a struct timeval */
    p->tmin = UINT64_MAX;
    /* iputils fills the data with 0x10 + i after the timestamp */
    for (uint32_t i = 0; i < o->size; i++)
        p->data[i] = (uint8_t)(0x10 + i);
    p->id = tern_echo_bind(s, 0, on_echo, p);
    if (p->id < 0) {
        free(p->data);
        free(p);
        return NULL;
    }
    tern_timer_init(&p->send_timer, send_one, p);
    tern_timer_init(&p->linger_timer, linger_done, p);
    tern_timer_init(&p->deadline_timer, deadline_done, p);
    if (p->o.flood && !o->interval_us)
        p->o.interval_us = 10000; /* iputils: as fast as replies come, or 100 a second */
    if (p->o.flood && p->o.interval_us < TERN_PING_FLOOD_MIN_US)
        p->o.interval_us = TERN_PING_FLOOD_MIN_US;
    char a[TERN_IPV6_ADDRSTRLEN];
    if (o->v6) /* iputils' ping6 header */
        fprintf(out, "PING %s(%s) %u data bytes\n", p->o.dst_name, tern_ipv6_ntoa(&o->dst6, a),
                o->size);
    else
        fprintf(out, "PING %s (%s) %u(%u) bytes of data.\n", p->o.dst_name,
                tern_ipv4_ntoa(o->dst, a), o->size, o->size + TERN_ICMP_HLEN + TERN_IPV4_HLEN_MIN);
    p->start_us = tern_loop_now(loop);
    tern_timer_arm(loop, &p->send_timer, p->start_us);
    if (p->o.deadline_us)
        tern_timer_arm(loop, &p->deadline_timer, p->start_us + p->o.deadline_us);
    return p;
}

void ping_stop(struct tern_ping *p)
{
    if (p)
        finish(p);
}

void ping_free(struct tern_ping *p)
{
    if (!p)
        return;
    if (!p->finished) {
        tern_timer_cancel(p->loop, &p->send_timer);
        tern_timer_cancel(p->loop, &p->linger_timer);
        tern_timer_cancel(p->loop, &p->deadline_timer);
        tern_echo_unbind(p->stack, (uint16_t)p->id);
    }
    free(p->data);
    free(p);
}
