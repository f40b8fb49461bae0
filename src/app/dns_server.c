/*
 * src/app/dns_server.c - answers for one zone (RFC 1034 s4.3.2 for an
 * authoritative server, without delegation) and the UDP and TCP server
 * around them (see dns_server.h).
 *
 * The query is read with the bounded reader of tern/wire/dns.h: a message
 * shorter than a header or with QR set gets no reply at all (so two
 * servers can never bounce errors at each other); a query that is not
 * exactly one well-formed question gets FORMERR, another opcode NOTIMP
 * (RFC 1035 s4.1.1). Negative answers carry the SOA in the authority
 * section with TTL min(SOA TTL, MINIMUM) (RFC 2308 s3). NXDOMAIN is kept
 * for names that do not exist; a name with records of other types, or an
 * empty non-terminal (a name with records only below it), is NODATA
 * (RFC 2308 s2.2, RFC 8020).
 */
#include "app/dns_server.h"

#include <stdlib.h>
#include <string.h>

#include "tern/socket.h"
#include "tern/wire/bytes.h"

#define MAX_CHASE 8 /* CNAMEs followed inside the zone per answer */

static bool name_exists_below(const struct tern_dns_zone *z, const struct tern_dns_name *n)
{
    for (size_t i = 0; i < dns_zone_count(z); i++)
        if (tern_dns_name_in_zone(&dns_zone_record(z, i)->name, n))
            return true;
    return false;
}

/* The SOA for a negative answer (RFC 2308 s3). */
static int put_soa(struct tern_dns_writer *w, const struct tern_dns_zone *z)
{
    for (size_t i = 0; i < dns_zone_count(z); i++) {
        const struct tern_dns_rr *r = dns_zone_record(z, i);
        if (r->type != TERN_DNS_T_SOA)
            continue;
        struct tern_dns_rr soa = *r;
        if (soa.u.soa.minimum < soa.ttl)
            soa.ttl = soa.u.soa.minimum;
        return tern_dns_put_rr(w, TERN_DNS_SEC_AUTHORITY, &soa);
    }
    return 0;
}

/* Fills the answer for a question inside the zone; sets h->rcode/tc. */
static void answer_in_zone(const struct tern_dns_zone *z, const struct tern_dns_question *q,
                           struct tern_dns_writer *w, struct tern_dns_header *h)
{
    struct tern_dns_name name = q->name;
    for (int hop = 0; hop <= MAX_CHASE; hop++) {
        bool exists = false, found = false;
        const struct tern_dns_rr *cname = NULL;
        for (size_t i = 0; i < dns_zone_count(z); i++) {
            const struct tern_dns_rr *r = dns_zone_record(z, i);
            if (!tern_dns_name_eq(&r->name, &name))
                continue;
            exists = true;
            if (r->type == TERN_DNS_T_CNAME)
                cname = r;
            if (r->type == q->qtype || q->qtype == TERN_DNS_T_ANY) {
                found = true;
                if (tern_dns_put_rr(w, TERN_DNS_SEC_ANSWER, r) == TERN_E_NOSPC)
                    h->tc = true; /* RFC 2181 s9: the answer did not fit */
            }
        }
        if (found)
            return;
        if (cname) {
            /* RFC 1034 s4.3.2 step 3a: add the CNAME and go on with its
             * target while that is in the zone; the resolver asks on. */
            if (tern_dns_put_rr(w, TERN_DNS_SEC_ANSWER, cname) == TERN_E_NOSPC) {
                h->tc = true;
                return;
            }
            name = cname->u.target;
            if (!tern_dns_name_in_zone(&name, dns_zone_apex(z)))
                return;
            continue;
        }
        /* RFC 6604 s2.1: the rcode is about the last name of the chain. */
        if (!exists && !name_exists_below(z, &name))
            h->rcode = TERN_DNS_R_NXDOMAIN;
        if (put_soa(w, z) == TERN_E_NOSPC)
            h->tc = true;
        return;
    }
    /* A CNAME loop inside the zone: what was written stands. */
}

static int answer(const struct tern_dns_zone *z, const uint8_t *query, size_t qlen,
                  uint8_t *out, size_t cap)
{
    struct tern_dns_reader r;
    struct tern_dns_writer w;
    struct tern_dns_question q;
    if (tern_dns_reader_init(&r, query, qlen) < 0 || r.h.qr)
        return -1;
    if (tern_dns_writer_init(&w, out, cap) < 0)
        return -1;
    struct tern_dns_header h = {.id = r.h.id, .qr = true, .opcode = r.h.opcode, .rd = r.h.rd};
    if (r.h.opcode != TERN_DNS_OP_QUERY) {
        h.rcode = TERN_DNS_R_NOTIMP;
        return tern_dns_writer_finish(&w, &h);
    }
    if (r.h.qdcount != 1 || tern_dns_next_question(&r, &q) != 1) {
        h.rcode = TERN_DNS_R_FORMERR;
        return tern_dns_writer_finish(&w, &h);
    }
    if (tern_dns_put_question(&w, &q) < 0) {
        h.rcode = TERN_DNS_R_FORMERR;
        return tern_dns_writer_finish(&w, &h);
    }
    if ((q.qclass != TERN_DNS_C_IN && q.qclass != 255 /* QCLASS "*" */) ||
        !tern_dns_name_in_zone(&q.name, dns_zone_apex(z))) {
        h.rcode = TERN_DNS_R_REFUSED; /* not our zone: no recursion offered */
        return tern_dns_writer_finish(&w, &h);
    }
    h.aa = true;
    answer_in_zone(z, &q, &w, &h);
    return tern_dns_writer_finish(&w, &h);
}

int dns_zone_answer(const struct tern_dns_zone *z, const uint8_t *query, size_t qlen,
                         uint8_t *out, size_t cap)
{
    if (cap > TERN_DNS_UDP_MAX)
        cap = TERN_DNS_UDP_MAX; /* RFC 1035 s4.2.1, no EDNS: TC beyond, the client asks over TCP */
    return answer(z, query, qlen, out, cap);
}

int dns_zone_answer_tcp(const struct tern_dns_zone *z, const uint8_t *query, size_t qlen,
                             uint8_t *out, size_t cap)
{
    return answer(z, query, qlen, out, cap > 0xffff ? 0xffff : cap); /* RFC 1035 s4.2.2 */
}

/* ---- the UDP server ---- */

struct dns_tcp_conn {
    struct tern_dns_server *sv;
    struct tern_sock *sk;      /* NULL: a free slot */
    struct tern_timer idle;
    uint64_t last;             /* accepted, or its last query answered */
    size_t rx_len;             /* octets of rx held: length prefix + query */
    size_t tx_off, tx_len;     /* the answer being sent (prefix included) */
    bool peer_eof;
    uint8_t rx[2 + TERN_DNS_TCP_QUERY_MAX];
    uint8_t tx[2 + TERN_DNS_TCP_ANSWER_MAX];
};

struct tern_dns_server {
    const struct tern_dns_zone *zone;
    struct tern_loop *loop;
    struct tern_sock *sk, *lsk; /* UDP socket, TCP listener */
    struct dns_server_stats st;
    uint8_t rx[2048];
    uint8_t tx[TERN_DNS_UDP_MAX];
    struct dns_tcp_conn tcp[TERN_DNS_TCP_CLIENTS];
};

static void count(struct tern_dns_server *sv, const uint8_t *reply, int n)
{
    struct tern_dns_header h;
    if (n < 0 || tern_dns_header_parse(reply, (size_t)n, &h) < 0) {
        sv->st.dropped++;
        return;
    }
    sv->st.answers++;
    if (h.tc)
        sv->st.truncated++;
    switch (h.rcode) {
    case TERN_DNS_R_NXDOMAIN: sv->st.nxdomain++; break;
    case TERN_DNS_R_REFUSED: sv->st.refused++; break;
    case TERN_DNS_R_FORMERR: sv->st.formerr++; break;
    case TERN_DNS_R_NOTIMP: sv->st.notimp++; break;
    case TERN_DNS_R_NOERROR:
        if (h.ancount == 0)
            sv->st.nodata++;
        break;
    default: break;
    }
}

static void on_ready(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tern_dns_server *sv = ctx;
    (void)events;
    for (;;) {
        struct tern_sockaddr from;
        int fl = 0;
        ssize_t n = tern_sock_recvfrom(sk, sv->rx, sizeof sv->rx, 0, &from, &fl);
        if (n == TERN_E_AGAIN)
            return;
        if (n < 0) {
            if (tern_sock_error(sk) == 0)
                return;
            continue;
        }
        sv->st.queries++;
        if (from.port == 0) {
            sv->st.dropped++; /* nowhere to answer */
            continue;
        }
        /* A query cut by our buffer is still answered from what we have:
         * the question comes first. */
        int k = dns_zone_answer(sv->zone, sv->rx, (size_t)n, sv->tx, sizeof sv->tx);
        count(sv, sv->tx, k);
        if (k > 0)
            (void)tern_sock_sendto(sk, sv->tx, (size_t)k, 0, &from);
    }
}

/* ---- DNS over TCP (RFC 1035 s4.2.2, RFC 7766) ---- */

static void tcp_release(struct dns_tcp_conn *c, bool reset)
{
    tern_timer_cancel(c->sv->loop, &c->idle);
    tern_sock_set_handler(c->sk, 0, NULL, NULL);
    if (reset)
        tern_sock_abort(c->sk);
    else
        tern_sock_close(c->sk);
    c->sk = NULL;
}

static void tcp_idle(struct tern_timer *t, void *arg)
{
    (void)t;
    struct dns_tcp_conn *c = arg;
    c->sv->st.tcp_idle_closed++;
    tcp_release(c, false); /* RFC 7766 s6.2.3: the server closes idle connections */
}

/* Sends what is left of the answer. true: all sent. */
static bool tcp_flush(struct dns_tcp_conn *c)
{
    while (c->tx_off < c->tx_len) {
        ssize_t n = tern_sock_send(c->sk, c->tx + c->tx_off, c->tx_len - c->tx_off, 0);
        if (n == TERN_E_AGAIN)
            return false;
        if (n < 0) {
            c->tx_off = c->tx_len = 0;
            return false;
        }
        c->tx_off += (size_t)n;
    }
    c->tx_off = c->tx_len = 0;
    return true;
}

/* Reads and answers queries, one at a time: the next is read only once the
 * answer before it is queued (a client that never reads its answers stops
 * being read: bounded by the send queue). */
static void tcp_serve(struct dns_tcp_conn *c)
{
    struct tern_dns_server *sv = c->sv;
    for (;;) {
        if (c->tx_len && !tcp_flush(c)) {
            if (c->tx_len == 0)
                break; /* send failed: the connection is gone */
            return;    /* wait for POLLOUT */
        }
        if (c->peer_eof)
            break;
        size_t want = c->rx_len < 2 ? 2 : 2 + tern_get16(c->rx);
        ssize_t n = tern_sock_recv(c->sk, c->rx + c->rx_len, want - c->rx_len, 0);
        if (n == TERN_E_AGAIN)
            return;
        if (n <= 0) {
            c->peer_eof = true; /* end of stream (or an error): answer nothing more */
            continue;
        }
        c->rx_len += (size_t)n;
        if (c->rx_len == 2 && tern_get16(c->rx) > TERN_DNS_TCP_QUERY_MAX) {
            sv->st.tcp_too_long++;
            tcp_release(c, true);
            return;
        }
        if (c->rx_len < 2 || c->rx_len < 2 + (size_t)tern_get16(c->rx))
            continue;
        sv->st.queries++;
        sv->st.tcp_queries++;
        int k = dns_zone_answer_tcp(sv->zone, c->rx + 2, c->rx_len - 2, c->tx + 2,
                                         TERN_DNS_TCP_ANSWER_MAX);
        count(sv, c->tx + 2, k);
        c->rx_len = 0;
        c->last = tern_loop_now(sv->loop);
        tern_timer_arm(sv->loop, &c->idle, c->last + TERN_DNS_TCP_IDLE_US);
        if (k > 0) {
            tern_put16(c->tx, (uint16_t)k);
            c->tx_off = 0;
            c->tx_len = 2 + (size_t)k;
        }
    }
    tcp_release(c, false); /* the client is done: close our side too */
}

static void on_tcp_conn(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)sk;
    struct dns_tcp_conn *c = ctx;
    if (!c->sk)
        return;
    if (events & TERN_POLLERR) {
        (void)tern_sock_error(c->sk);
        tcp_release(c, true);
        return;
    }
    tcp_serve(c);
}

/*
 * Every slot busy: RFC 7766 s6.2.3 - "servers MAY close idle connections to
 * make room for new ones" rather than refuse the newcomer (which a few
 * silent connections would otherwise do to every real query). The victim is
 * the connection longest without an answered query (accepted, or last
 * answered, earliest), preferring one with no answer still being sent.
 */
static struct dns_tcp_conn *tcp_evict(struct tern_dns_server *sv)
{
    struct dns_tcp_conn *v = NULL;
    for (int i = 0; i < TERN_DNS_TCP_CLIENTS; i++) {
        struct dns_tcp_conn *c = &sv->tcp[i];
        if (!v || (c->tx_len == 0) > (v->tx_len == 0) ||
            ((c->tx_len == 0) == (v->tx_len == 0) && c->last < v->last))
            v = c;
    }
    sv->st.tcp_evicted++;
    tcp_release(v, false);
    return v;
}

static void on_tcp_listen(struct tern_sock *lsk, unsigned events, void *ctx)
{
    struct tern_dns_server *sv = ctx;
    (void)events;
    for (;;) {
        int e = 0;
        struct tern_sock *sk = tern_sock_accept(lsk, NULL, &e);
        if (!sk)
            return;
        struct dns_tcp_conn *c = NULL;
        for (int i = 0; i < TERN_DNS_TCP_CLIENTS && !c; i++)
            if (!sv->tcp[i].sk)
                c = &sv->tcp[i];
        if (!c)
            c = tcp_evict(sv);
        sv->st.tcp_conns++;
        c->sk = sk;
        c->rx_len = c->tx_off = c->tx_len = 0;
        c->peer_eof = false;
        c->last = tern_loop_now(sv->loop);
        tern_timer_arm(sv->loop, &c->idle, c->last + TERN_DNS_TCP_IDLE_US);
        tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, on_tcp_conn, c);
        tcp_serve(c); /* data may have come with the handshake */
    }
}

static int tcp_start(struct tern_dns_server *sv, struct tern_stack *s,
                     const struct tern_sockaddr *local)
{
    int e = 0;
    sv->lsk = tern_sock_open(s, TERN_SOCK_STREAM, &e);
    if (!sv->lsk)
        return e == TERN_E_UNSUPPORTED ? 0 : e;
    if ((e = tern_sock_setopt(sv->lsk, TERN_SO_PRIVILEGED, 1)) < 0 ||
        (e = tern_sock_setopt(sv->lsk, TERN_SO_REUSEADDR, 1)) < 0 ||
        (e = tern_sock_bind(sv->lsk, local)) < 0 ||
        (e = tern_sock_listen(sv->lsk, TERN_DNS_TCP_CLIENTS)) < 0)
        return e;
    for (int i = 0; i < TERN_DNS_TCP_CLIENTS; i++) {
        sv->tcp[i].sv = sv;
        tern_timer_init(&sv->tcp[i].idle, tcp_idle, &sv->tcp[i]);
    }
    tern_sock_set_handler(sv->lsk, TERN_POLLIN, on_tcp_listen, sv);
    return 0;
}

struct tern_dns_server *dns_server_start(struct tern_stack *s, struct tern_loop *loop,
                                              const struct tern_dns_zone *z, uint16_t port,
                                              int *err)
{
    int e = TERN_E_INVAL;
    struct tern_dns_server *sv = NULL;
    if (!s || !z || !loop)
        goto fail;
    sv = calloc(1, sizeof *sv);
    if (!sv) {
        e = TERN_E_NOMEM;
        goto fail;
    }
    sv->zone = z;
    sv->loop = loop;
    sv->sk = tern_sock_open(s, TERN_SOCK_DGRAM, &e);
    if (!sv->sk)
        goto fail;
    struct tern_sockaddr local = {.addr = 0, .port = port ? port : TERN_DNS_PORT};
    if ((e = tern_sock_setopt(sv->sk, TERN_SO_PRIVILEGED, 1)) < 0 ||
        (e = tern_sock_bind(sv->sk, &local)) < 0)
        goto fail;
    tern_sock_set_handler(sv->sk, TERN_POLLIN, on_ready, sv);
    if ((e = tcp_start(sv, s, &local)) < 0)
        goto fail;
    return sv;
fail:
    if (sv && sv->sk)
        tern_sock_close(sv->sk);
    if (sv && sv->lsk)
        tern_sock_close(sv->lsk);
    free(sv);
    if (err)
        *err = e;
    return NULL;
}

const struct dns_server_stats *dns_server_stats(const struct tern_dns_server *sv)
{
    return &sv->st;
}

void dns_server_free(struct tern_dns_server *sv)
{
    if (!sv)
        return;
    for (int i = 0; i < TERN_DNS_TCP_CLIENTS; i++)
        if (sv->tcp[i].sk)
            tcp_release(&sv->tcp[i], true);
    if (sv->lsk)
        tern_sock_close(sv->lsk);
    tern_sock_close(sv->sk);
    free(sv);
}
