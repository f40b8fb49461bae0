/*
 * src/app/resolver.c - the DNS stub resolver (see resolver.h).
 *
 * Retransmission follows RFC 1035 s7.2 and RFC 1536 s1: one server at a
 * time, a first wait of 1 s, the next server on timeout, the wait doubled
 * after each round over all servers. A server that answers with an error
 * rcode (SERVFAIL, REFUSED, ...) is skipped at once (RFC 1035 s7.3).
 * Validation of replies is RFC 5452 s9.1 (ID, source address and port,
 * question) plus QR=1 and opcode (ATTACKS 46). The answer is read per
 * RFC 1034 s5.3.3 and RFC 2181 s10.1: the CNAME chain from the name asked
 * is followed inside the answer section, only records of class IN whose
 * owner is the current name count, and a chain that ends at an alias
 * without data is asked again for the alias's target. Authority and
 * additional records are never taken as answers (RFC 2181 s5.4.1).
 * Truncated replies are asked again over TCP (RFC 7766 s5, framing RFC
 * 1035 s4.2.2): one connection per retry, its answer read into a buffer
 * allocated at the first retry and capped at TERN_RESOLVE_TCP_MAX.
 */
#include "app/resolver.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "tern/socket.h"
#include "tern/wire/bytes.h"

#define RX_MAX 4096 /* a reply longer than this is cut, and ignored */
#define TCP_MAX_MSGS 4 /* messages read on one TCP connection before giving up */

struct tern_resolve {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_resolve_opts o;
    tern_resolve_fn done;
    void *ctx;
    struct tern_sock *sk;
    struct tern_timer timer;
    bool finished;
    struct tern_dns_name cur; /* the name being asked */
    uint16_t id;
    unsigned server, round;
    unsigned asked_mask, failed_mask; /* servers asked / that failed, this question */
    struct tern_resolve_result res;
    uint8_t query[TERN_DNS_UDP_MAX];
    size_t query_len;
    uint8_t rx[RX_MAX];
    /* the TCP retry */
    struct tern_sock *tsk;
    unsigned tserver;          /* index of the server asked over TCP */
    bool tsent;
    unsigned tmsgs;            /* messages received on this connection */
    size_t tlen;               /* octets of tbuf filled */
    uint8_t *tbuf;             /* 2 + TERN_RESOLVE_TCP_MAX */
};

static bool tcp_start(struct tern_resolve *q, unsigned si);

static void tcp_drop(struct tern_resolve *q, bool reset)
{
    if (!q->tsk)
        return;
    tern_sock_set_handler(q->tsk, 0, NULL, NULL);
    if (reset)
        tern_sock_abort(q->tsk);
    else
        tern_sock_close(q->tsk);
    q->tsk = NULL;
}


static void finish(struct tern_resolve *q, enum tern_resolve_status st)
{
    if (q->finished)
        return;
    q->finished = true;
    q->res.status = st;
    tern_timer_cancel(q->loop, &q->timer);
    tcp_drop(q, true);
    tern_sock_set_handler(q->sk, 0, NULL, NULL);
    if (q->done)
        q->done(q->ctx, &q->res); /* last: done may free q */
}

static uint64_t wait_us(const struct tern_resolve *q)
{
    unsigned shift = q->round < 16 ? q->round : 16;
    return q->o.timeout_us << shift;
}

static void send_query(struct tern_resolve *q)
{
    struct tern_sockaddr to = {.addr = q->o.servers[q->server], .port = q->o.port};
    q->asked_mask |= 1u << q->server;
    q->res.queries_sent++;
    /* A failed send (no route, ARP queue full) is a lost query: the timer
     * moves on to the next server as for any loss. */
    (void)tern_sock_sendto(q->sk, q->query, q->query_len, 0, &to);
    tern_timer_arm(q->loop, &q->timer, tern_loop_now(q->loop) + wait_us(q));
}

/* The next server in turn; false when every round is used up. */
static bool next_server(struct tern_resolve *q)
{
    if (++q->server >= q->o.nservers) {
        q->server = 0;
        if (++q->round >= q->o.rounds)
            return false;
    }
    return true;
}

/* A new question (the name asked, or a CNAME target): new ID, first round. */
static int ask(struct tern_resolve *q, const struct tern_dns_name *name)
{
    q->cur = *name;
    q->id = (uint16_t)tern_stack_random(q->stack); /* keyed PRF: ATTACKS G4 */
    q->round = 0;
    q->asked_mask = q->failed_mask = 0;
    struct tern_dns_writer w;
    struct tern_dns_question qq = {.name = *name, .qtype = q->o.qtype, .qclass = TERN_DNS_C_IN};
    struct tern_dns_header h = {.id = q->id, .rd = true, .opcode = TERN_DNS_OP_QUERY};
    if (tern_dns_writer_init(&w, q->query, sizeof q->query) < 0 ||
        tern_dns_put_question(&w, &qq) < 0)
        return TERN_E_INVAL;
    q->query_len = (size_t)tern_dns_writer_finish(&w, &h);
    send_query(q);
    return 0;
}

static void on_timeout(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_resolve *q = arg;
    if (q->tsk) {
        finish(q, TERN_RESOLVE_TRUNCATED); /* the TCP retry took too long */
        return;
    }
    if (!next_server(q)) {
        finish(q, TERN_RESOLVE_TIMEOUT);
        return;
    }
    send_query(q);
}

static int server_index(const struct tern_resolve *q, const struct tern_sockaddr *from)
{
    if (from->port != q->o.port)
        return -1;
    for (unsigned i = 0; i < q->o.nservers; i++)
        if (q->o.servers[i] == from->addr && (q->asked_mask >> i & 1))
            return (int)i;
    return -1;
}

/* ATTACKS 46: is this datagram the reply to our current question? */
static bool reply_matches(const struct tern_resolve *q, struct tern_dns_reader *r)
{
    struct tern_dns_question qq;
    if (!r->h.qr || r->h.id != q->id || r->h.opcode != TERN_DNS_OP_QUERY || r->h.qdcount != 1)
        return false;
    if (tern_dns_next_question(r, &qq) != 1)
        return false;
    return qq.qtype == q->o.qtype && qq.qclass == TERN_DNS_C_IN &&
           tern_dns_name_eq(&qq.name, &q->cur);
}

/* One record as host(1) prints it (bind's host.c formats: "NAME name
 * server NS.", "NAME mail is handled by PREF HOST.", "NAME descriptive
 * text \"...\"", "NAME has SOA record ...", "NAME domain name pointer
 * HOST.", "NAME is an alias for HOST."). 0, or -1 if the RDATA is bad. */
static int format_rr(const struct tern_dns_rr *rr, const uint8_t *msg, size_t len, char *out,
                     size_t cap)
{
    char n[TERN_DNS_TEXT_MAX], t[TERN_DNS_TEXT_MAX], u[TERN_DNS_TEXT_MAX];
    tern_dns_name_to_text(&rr->name, n, sizeof n);
    size_t off = (size_t)(rr->rdata - msg), end = off + rr->rdlength;
    switch (rr->type) {
    case TERN_DNS_T_NS:
    case TERN_DNS_T_PTR:
    case TERN_DNS_T_CNAME:
        tern_dns_name_to_text(&rr->u.target, t, sizeof t);
        if (snprintf(out, cap, "%s %s %s.", n,
                 rr->type == TERN_DNS_T_NS    ? "name server"
                 : rr->type == TERN_DNS_T_PTR ? "domain name pointer"
                                              : "is an alias for",
                     t) < 0)
            return -1;
        return 0;
    case TERN_DNS_T_SOA:
        tern_dns_name_to_text(&rr->u.soa.mname, t, sizeof t);
        tern_dns_name_to_text(&rr->u.soa.rname, u, sizeof u);
        if (snprintf(out, cap, "%s has SOA record %s. %s. %u %u %u %u %u", n, t, u,
                     rr->u.soa.serial, rr->u.soa.refresh, rr->u.soa.retry, rr->u.soa.expire,
                     rr->u.soa.minimum) < 0)
            return -1;
        return 0;
    case TERN_DNS_T_MX: {
        /* RFC 1035 s3.3.9: PREFERENCE (16 bits), EXCHANGE (a name) */
        struct tern_dns_name x;
        if (rr->rdlength < 3 || tern_dns_name_read(msg, len, off + 2, end, &x) < 0)
            return -1;
        tern_dns_name_to_text(&x, t, sizeof t);
        if (snprintf(out, cap, "%s mail is handled by %u %s.", n,
                     (unsigned)(rr->rdata[0] << 8 | rr->rdata[1]), t) < 0)
            return -1;
        return 0;
    }
    case TERN_DNS_T_TXT: {
        /* RFC 1035 s3.3.14: one or more <character-string>s, each quoted
         * as dig/host print them (\" \\ and \DDD for the unprintable) */
        int k0 = snprintf(out, cap, "%s descriptive text", n);
        if (k0 < 0)
            return -1;
        size_t k = (size_t)k0 < cap ? (size_t)k0 : cap - 1;
        for (size_t i = 0; i < rr->rdlength;) {
            size_t l = rr->rdata[i++];
            if (i + l > rr->rdlength)
                return -1;
            if (k + 3 < cap)
                k += (size_t)snprintf(out + k, cap - k, " \"");
            for (size_t j = 0; j < l && k + 6 < cap; j++, i++) {
                uint8_t c = rr->rdata[i];
                if (c == '"' || c == '\\')
                    k += (size_t)snprintf(out + k, cap - k, "\\%c", c);
                else if (c < 0x20 || c > 0x7e)
                    k += (size_t)snprintf(out + k, cap - k, "\\%03u", c);
                else
                    out[k++] = (char)c;
            }
            if (k + 2 < cap) {
                out[k++] = '"';
                out[k] = 0;
            }
        }
        out[k < cap ? k : cap - 1] = 0;
        return 0;
    }
    default:
        return -1;
    }
}

/* Walks the answer section for the chain starting at q->cur, collecting
 * aliases into res.chain and addresses of the final name. Returns false if
 * the section is malformed. */
static bool read_answer(struct tern_resolve *q, const uint8_t *msg, size_t len, bool *loop)
{
    struct tern_dns_name name = q->cur;
    *loop = false;
    for (unsigned pass = 0; pass <= TERN_RESOLVE_MAX_CNAMES; pass++) {
        struct tern_dns_reader r;
        struct tern_dns_rr rr;
        int sec, k;
        bool alias = false;
        struct tern_dns_name target;
        tern_dns_reader_init(&r, msg, len);
        while ((k = tern_dns_next_rr(&r, &rr, &sec)) == 1) {
            if (sec != TERN_DNS_SEC_ANSWER || rr.rclass != TERN_DNS_C_IN ||
                !tern_dns_name_eq(&rr.name, &name))
                continue;
            if (rr.type == TERN_DNS_T_CNAME && !alias && q->o.qtype != TERN_DNS_T_CNAME) {
                alias = true;
                target = rr.u.target;
            } else if (rr.type == q->o.qtype && q->res.naddr < TERN_RESOLVE_MAX_ADDRS) {
                if (rr.type == TERN_DNS_T_A)
                    q->res.addr[q->res.naddr++] = rr.u.a;
                else if (rr.type == TERN_DNS_T_AAAA)
                    memcpy(q->res.addr6[q->res.naddr++], rr.u.aaaa, 16);
                else if (format_rr(&rr, msg, len, q->res.rec[q->res.naddr],
                                   sizeof q->res.rec[0]) == 0)
                    q->res.naddr++;
            }
        }
        if (k < 0)
            return false;
        if (q->res.naddr > 0 || !alias)
            return true;
        /* RFC 2181 s10.1: the alias's data is at its target. */
        if (q->res.ncname >= TERN_RESOLVE_MAX_CNAMES) {
            *loop = true;
            return true;
        }
        q->res.chain[++q->res.ncname] = target;
        name = target;
    }
    return true;
}

static bool has_soa(const uint8_t *msg, size_t len)
{
    struct tern_dns_reader r;
    struct tern_dns_rr rr;
    int sec;
    tern_dns_reader_init(&r, msg, len);
    while (tern_dns_next_rr(&r, &rr, &sec) == 1)
        if (sec == TERN_DNS_SEC_AUTHORITY && rr.type == TERN_DNS_T_SOA)
            return true;
    return false;
}

/* Handles one datagram. Returns true if the lookup finished (q may then
 * be freed already: the caller must not touch it). */
static bool on_reply(struct tern_resolve *q, const uint8_t *msg, size_t len,
                     const struct tern_sockaddr *from)
{
    struct tern_dns_reader r;
    int si = server_index(q, from);
    if (si < 0 || tern_dns_reader_init(&r, msg, len) < 0 || !reply_matches(q, &r)) {
        q->res.ignored++;
        return false;
    }
    q->res.rcode = r.h.rcode;
    if (r.h.tc) {
        /* RFC 7766 s5: ask the same server again over TCP; a TC over TCP
         * (the answer does not fit even there) is a failure. */
        q->res.server = from->addr;
        if (q->tsk || !tcp_start(q, (unsigned)si)) {
            finish(q, TERN_RESOLVE_TRUNCATED);
            return true;
        }
        return false;
    }
    if (r.h.rcode != TERN_DNS_R_NOERROR && r.h.rcode != TERN_DNS_R_NXDOMAIN) {
        /* RFC 1035 s7.3: this server cannot help; try the next one now. */
        q->failed_mask |= 1u << si;
        if (q->failed_mask == (1u << q->o.nservers) - 1) {
            q->res.server = from->addr;
            finish(q, TERN_RESOLVE_SERVFAIL);
            return true;
        }
        if (si == (int)q->server) {
            tern_timer_cancel(q->loop, &q->timer);
            if (!next_server(q)) {
                finish(q, TERN_RESOLVE_SERVFAIL);
                return true;
            }
            send_query(q);
        }
        return false;
    }
    unsigned ncname0 = q->res.ncname;
    bool loop;
    if (!read_answer(q, msg, len, &loop)) {
        /* A malformed body: treat like garbage, keep waiting. */
        q->res.ncname = ncname0;
        q->res.naddr = 0;
        q->res.ignored++;
        return false;
    }
    q->res.server = from->addr;
    tern_timer_cancel(q->loop, &q->timer);
    enum tern_resolve_status st;
    if (loop)
        st = TERN_RESOLVE_LOOP;
    else if (q->res.naddr > 0)
        st = TERN_RESOLVE_OK;
    else if (r.h.rcode == TERN_DNS_R_NXDOMAIN)
        st = TERN_RESOLVE_NXDOMAIN; /* for the chain's last name (RFC 2308 s2.1) */
    else if (q->res.ncname > ncname0 && !has_soa(msg, len)) {
        /* RFC 2308 s2.2: an SOA in the authority section says the chain's
         * last name has no data (NODATA); without one, ask on. */
        q->server = (unsigned)si; /* ask the same server for the target */
        if (ask(q, &q->res.chain[q->res.ncname]) == 0)
            return false;
        st = TERN_RESOLVE_LOOP;
    } else
        st = TERN_RESOLVE_NODATA;
    finish(q, st);
    return true;
}

/* One whole message arrived over TCP (tbuf + 2, len octets). */
static bool on_tcp_message(struct tern_resolve *q, size_t len)
{
    struct tern_dns_reader r;
    if (tern_dns_reader_init(&r, q->tbuf + 2, len) < 0 || !reply_matches(q, &r)) {
        q->res.ignored++; /* ATTACKS 46 over TCP too; read on, boundedly */
        if (++q->tmsgs >= TCP_MAX_MSGS) {
            finish(q, TERN_RESOLVE_TRUNCATED);
            return true;
        }
        q->tlen = 0;
        return false;
    }
    /* the answer is in: this connection is done (RFC 7766 s6.2.1: the
     * client may close once it has its answers) */
    tcp_drop(q, false);
    struct tern_sockaddr from = {.addr = q->o.servers[q->tserver], .port = q->o.port};
    if (r.h.tc) {
        q->res.server = from.addr;
        finish(q, TERN_RESOLVE_TRUNCATED);
        return true;
    }
    return on_reply(q, q->tbuf + 2, len, &from);
}

static void on_tcp(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tern_resolve *q = ctx;
    if (q->finished || sk != q->tsk)
        return;
    if ((events & (TERN_POLLERR | TERN_POLLHUP)) && tern_sock_error(sk) < 0) {
        finish(q, TERN_RESOLVE_TRUNCATED); /* refused, reset, unreachable */
        return;
    }
    if (!q->tsent) {
        if (!(tern_sock_poll(sk) & TERN_POLLOUT))
            return; /* still connecting */
        uint8_t m[2 + TERN_DNS_UDP_MAX];
        tern_put16(m, (uint16_t)q->query_len);
        memcpy(m + 2, q->query, q->query_len);
        ssize_t n = tern_sock_send(sk, m, 2 + q->query_len, 0);
        if (n == TERN_E_AGAIN)
            return;
        if (n != (ssize_t)(2 + q->query_len)) {
            finish(q, TERN_RESOLVE_TRUNCATED); /* 514 octets fit any fresh send queue */
            return;
        }
        q->tsent = true;
    }
    for (;;) {
        size_t want = q->tlen < 2 ? 2 : 2 + (size_t)tern_get16(q->tbuf);
        ssize_t n = tern_sock_recv(sk, q->tbuf + q->tlen, want - q->tlen, 0);
        if (n == TERN_E_AGAIN)
            return;
        if (n <= 0) {
            finish(q, TERN_RESOLVE_TRUNCATED); /* closed before a whole answer */
            return;
        }
        q->tlen += (size_t)n;
        if (q->tlen < 2)
            continue;
        size_t mlen = tern_get16(q->tbuf);
        if (mlen < TERN_DNS_HLEN || mlen > TERN_RESOLVE_TCP_MAX) {
            q->res.ignored++;
            finish(q, TERN_RESOLVE_TRUNCATED); /* nothing we would take: give up */
            return;
        }
        if (q->tlen == 2 + mlen && on_tcp_message(q, mlen))
            return;
    }
}

static bool tcp_start(struct tern_resolve *q, unsigned si)
{
    if (!q->tbuf && !(q->tbuf = malloc(2 + TERN_RESOLVE_TCP_MAX)))
        return false;
    int e = 0;
    q->tsk = tern_sock_open(q->stack, TERN_SOCK_STREAM, &e);
    if (!q->tsk)
        return false;
    q->tserver = si;
    q->tsent = false;
    q->tlen = 0;
    q->tmsgs = 0;
    q->res.tcp_queries++;
    tern_sock_set_handler(q->tsk, TERN_POLLIN | TERN_POLLOUT, on_tcp, q);
    struct tern_sockaddr to = {.addr = q->o.servers[si], .port = q->o.port};
    int r = tern_sock_connect(q->tsk, &to);
    if (r < 0 && r != TERN_E_INPROGRESS) {
        tcp_drop(q, true);
        return false;
    }
    tern_timer_arm(q->loop, &q->timer, tern_loop_now(q->loop) + TERN_RESOLVE_TCP_TIMEOUT_US);
    return true;
}

static void on_ready(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tern_resolve *q = ctx;
    (void)events;
    for (;;) {
        struct tern_sockaddr from;
        int fl = 0;
        ssize_t n = tern_sock_recvfrom(sk, q->rx, sizeof q->rx, 0, &from, &fl);
        if (n == TERN_E_AGAIN)
            return;
        if (n < 0) {
            /* a pending ICMP error is cleared and the timer handles it; any
             * other failure ends this turn */
            if (tern_sock_error(sk) == 0)
                return;
            continue;
        }
        if ((fl & TERN_MSG_TRUNC) || q->tsk) {
            q->res.ignored++; /* cut, or the question is being asked over TCP */
            continue;
        }
        if (on_reply(q, q->rx, (size_t)n, &from))
            return;
    }
}

struct tern_resolve *resolve_start(struct tern_stack *s, struct tern_loop *loop,
                                        const char *name, const struct tern_resolve_opts *o,
                                        tern_resolve_fn done, void *ctx, int *err)
{
    int e = TERN_E_INVAL;
    struct tern_dns_name n;
    if (!s || !loop || !o || !name || o->nservers < 1 || o->nservers > TERN_RESOLVE_MAX_SERVERS ||
        tern_dns_name_from_text(name, &n) < 0 || n.len <= 1 ||
        (o->qtype && o->qtype != TERN_DNS_T_A && o->qtype != TERN_DNS_T_AAAA &&
         o->qtype != TERN_DNS_T_CNAME && o->qtype != TERN_DNS_T_NS &&
         o->qtype != TERN_DNS_T_SOA && o->qtype != TERN_DNS_T_MX &&
         o->qtype != TERN_DNS_T_TXT && o->qtype != TERN_DNS_T_PTR))
        goto fail;
    struct tern_resolve *q = calloc(1, sizeof *q);
    if (!q) {
        e = TERN_E_NOMEM;
        goto fail;
    }
    q->stack = s;
    q->loop = loop;
    q->o = *o;
    if (!q->o.port)
        q->o.port = TERN_DNS_PORT;
    if (!q->o.qtype)
        q->o.qtype = TERN_DNS_T_A;
    if (!q->o.timeout_us)
        q->o.timeout_us = 1000000;
    if (!q->o.rounds)
        q->o.rounds = 4;
    q->done = done;
    q->ctx = ctx;
    q->res.qtype = q->o.qtype;
    q->res.chain[0] = n;
    tern_timer_init(&q->timer, on_timeout, q);
    q->sk = tern_sock_open(s, TERN_SOCK_DGRAM, &e);
    struct tern_sockaddr any = {0};
    if (!q->sk || (e = tern_sock_bind(q->sk, &any)) < 0) {
        if (q->sk)
            tern_sock_close(q->sk);
        free(q);
        goto fail;
    }
    tern_sock_set_handler(q->sk, TERN_POLLIN, on_ready, q);
    if ((e = ask(q, &n)) < 0) {
        resolve_free(q);
        goto fail;
    }
    return q;
fail:
    if (err)
        *err = e;
    return NULL;
}

void resolve_free(struct tern_resolve *q)
{
    if (!q)
        return;
    tern_timer_cancel(q->loop, &q->timer);
    tcp_drop(q, true);
    tern_sock_close(q->sk);
    free(q->tbuf);
    free(q);
}

int resolve_print(const struct tern_resolve_result *r, const char *asked, FILE *out)
{
    char a[TERN_DNS_TEXT_MAX], b[TERN_DNS_TEXT_MAX];
    for (unsigned i = 0; i < r->ncname; i++) {
        tern_dns_name_to_text(&r->chain[i], a, sizeof a);
        tern_dns_name_to_text(&r->chain[i + 1], b, sizeof b);
        fprintf(out, "%s is an alias for %s.\n", a, b);
    }
    tern_dns_name_to_text(&r->chain[r->ncname], a, sizeof a);
    const char *tn = tern_dns_type_name(r->qtype);
    switch (r->status) {
    case TERN_RESOLVE_OK:
        for (unsigned i = 0; i < r->naddr; i++) {
            if (r->qtype != TERN_DNS_T_A && r->qtype != TERN_DNS_T_AAAA) {
                fprintf(out, "%s\n", r->rec[i]);
                continue;
            }
            char t[INET6_ADDRSTRLEN];
            if (r->qtype == TERN_DNS_T_AAAA) {
                inet_ntop(AF_INET6, r->addr6[i], t, sizeof t);
                fprintf(out, "%s has IPv6 address %s\n", a, t);
            } else {
                fprintf(out, "%s has address %s\n", a, tern_ipv4_ntoa(r->addr[i], t));
            }
        }
        return 0;
    case TERN_RESOLVE_NODATA:
        /* host(1) prints this only when the answer section is empty; after
         * aliases it prints the aliases alone */
        if (r->ncname == 0)
            fprintf(out, "%s has no %s record\n", a, tn);
        return 0;
    case TERN_RESOLVE_NXDOMAIN:
    case TERN_RESOLVE_SERVFAIL:
        fprintf(out, "Host %s not found: %u(%s)\n", asked, r->rcode, tern_dns_rcode_name(r->rcode));
        return 1;
    case TERN_RESOLVE_TIMEOUT:
        fprintf(out, ";; connection timed out; no servers could be reached\n");
        return 1;
    case TERN_RESOLVE_TRUNCATED:
        fprintf(out, ";; Truncated answer for %s, and the retry over TCP failed\n", asked);
        return 1;
    case TERN_RESOLVE_LOOP:
    default:
        fprintf(out, ";; CNAME chain for %s longer than %u aliases\n", asked,
                TERN_RESOLVE_MAX_CNAMES);
        return 1;
    }
}

void resolve_ptr_name(uint32_t addr, char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa", addr & 0xff, (addr >> 8) & 0xff,
             (addr >> 16) & 0xff, addr >> 24);
}
