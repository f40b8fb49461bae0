/*
 * fuzz/peer.h - the scripted peer of the connection fuzzers (included by
 * fuzz/tcp_conn_fuzz.c and fuzz/stack_fuzz.c; static functions only, since
 * each fuzz target and its replayer is one translation unit).
 *
 * One stack (10.0.0.1/24 on an Ethernet capture device, virtual loop); the
 * harness is the peer 10.0.0.2. Segments to the stack are built with
 * tern's own emitters (tern_tcp_emit, tern_ipv4_emit, tern_eth_emit), so
 * checksums are valid and only the fields chosen reach the TCP engine.
 * Every frame the stack sends goes through pr_on_frame, which holds the
 * oracles (each calls abort()):
 *   - payload bytes are a function of their sequence number: the stack's
 *     byte at seq S is pr_pat_out(S), the peer's pr_pat_in(S); every byte
 *     sent must be one the application wrote (offset below `written` past
 *     the ISS), and every byte the application reads must be the peer's;
 *   - a FIN only after the application shut down writing, at ISS + 1 +
 *     written;
 *   - an ACK never covers a sequence number the peer did not send
 *     (SEG.ACK <= the highest SEG.SEQ + SEG.LEN the peer ever sent);
 *   - livelock: more than PR_MAX_EVENTS frames + socket callbacks with
 *     neither the harness acting nor virtual time moving by a second.
 */
#ifndef TERN_FUZZ_PEER_H
#define TERN_FUZZ_PEER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tcp_impl.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern/wire/arp.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/eth.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/tcp.h"

#define PR_US 0x0a000001u
#define PR_PEER 0x0a000002u
#define PR_NPEER 4
#define PR_MAX_EVENTS 50000
#define PR_DIE(why)                                                                    \
    do {                                                                               \
        fprintf(stderr, "%s:%d: oracle: %s\n", __FILE__, __LINE__, why);               \
        abort();                                                                       \
    } while (0)

static const uint8_t pr_mac_us[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t pr_mac_peer[6] = {0x02, 0, 0, 0, 0, 0x02};

static inline uint8_t pr_pat_out(uint32_t seq) { return (uint8_t)((seq * 0x9E3779B1u) >> 24); }
static inline uint8_t pr_pat_in(uint32_t seq) { return (uint8_t)(((seq * 0x85EBCA6Bu) >> 23) ^ 0x5a); }

/* One connection as the peer sees it. */
struct pr_conn {
    uint16_t pport, lport;   /* peer's port, the stack's port */
    bool used;               /* the peer sent something on it */
    uint32_t isn, nxt;       /* the peer's ISN, its next in-order sequence */
    uint32_t hi;             /* highest SEG.SEQ + SEG.LEN the peer sent */
    uint32_t acked;          /* highest ACK the peer sent */
    uint32_t ts;             /* the peer's TSval clock */
    bool fin_sent;
    /* what the stack sent, as seen on the wire */
    bool st_syn;             /* its SYN seen: st_iss valid */
    uint32_t st_iss, st_max, st_ack, st_tsval;
    uint32_t st_synack;      /* the ACK of its last SYN-ACK */
    uint16_t st_win;
    uint8_t st_ws;
    bool st_fin;
    /* the application side */
    struct tern_sock *app;
    uint64_t written, readn; /* bytes the app wrote / read on this incarnation */
    bool wr_shut;            /* the app may have sent a FIN */
    bool app_eof;
};

struct pr {
    struct tern_loop *loop;
    struct tern_stack *s;
    struct tern_device *dev;
    struct pr_conn c[PR_NPEER];
    int nconn;
    /* the peer's handshake options */
    bool ts, sack, ws;
    uint16_t mss;
    bool reactive;           /* the app shuts down writing at every EOF wake-up */
    /* livelock detection */
    uint64_t ev_sec;
    uint32_t events;
    uint32_t states_seen;    /* bit per tcp_state the connections passed through */
    uint64_t frames_out;
    /* UDP datagrams the stack sends (the UDP target's oracle) */
    void (*udp_out)(struct pr *p, const struct tern_ipv4_repr *ip, const uint8_t *udp,
                    size_t len);
    uint8_t buf[70000], seg[70000];
};

static inline void pr_event(struct pr *p)
{
    uint64_t sec = tern_loop_now(p->loop) / 1000000u;
    if (sec != p->ev_sec) {
        p->ev_sec = sec;
        p->events = 0;
    }
    if (++p->events > PR_MAX_EVENTS)
        PR_DIE("livelock: too many events without time passing");
}

/* The harness acts: the livelock count restarts. */
static inline void pr_act(struct pr *p)
{
    p->events = 0;
}

static inline struct pr_conn *pr_find(struct pr *p, uint16_t lport, uint16_t pport)
{
    for (int i = 0; i < p->nconn; i++)
        if (p->c[i].lport == lport && p->c[i].pport == pport)
            return &p->c[i];
    return NULL;
}

static inline void pr_check_out(struct pr *p, const struct tern_tcp_repr *r)
{
    struct pr_conn *c = pr_find(p, r->sport, r->dport);
    if (!c)
        return; /* e.g. a RST to a port we never used: nothing to compare */
    uint32_t slen = tern_tcp_seg_len(r);
    if ((r->flags & TERN_TCP_ACK) && !(r->flags & TERN_TCP_SYN && !c->used)) {
        /* Never ACK what the peer did not send. */
        if (!c->used || tern_seq_gt(r->ack, c->hi))
            PR_DIE("ACK of a sequence number the peer never sent");
    }
    if (r->flags & TERN_TCP_RST)
        return;
    if (r->flags & TERN_TCP_SYN) {
        /* A new incarnation (or the first): another ISS, or a SYN-ACK for
         * another SYN of the peer (a new incarnation may get the same ISS
         * when no virtual time passed: RFC 6528's clock did not move). */
        bool fresh = !c->st_syn || c->st_iss != r->seq ||
                     ((r->flags & TERN_TCP_ACK) && r->ack != c->st_synack);
        if (r->flags & TERN_TCP_ACK)
            c->st_synack = r->ack;
        if (fresh) {
            c->st_syn = true;
            c->st_iss = r->seq;
            c->st_max = r->seq + 1;
            c->st_fin = false;
            c->acked = r->seq; /* nothing of it acknowledged yet */
            /* Nothing written on this incarnation yet: the app's counters
             * belong to the socket it holds, which is an older one (a
             * listener's new child is counted from its accept). */
            c->written = 0;
            c->wr_shut = false;
        }
        c->st_ws = r->opts.has_wscale ? r->opts.wscale : 0;
    }
    if (r->flags & TERN_TCP_ACK) {
        c->st_ack = r->ack;
        c->st_win = r->win;
    }
    if (r->opts.has_ts)
        c->st_tsval = r->opts.ts_val;
    if (!c->st_syn) {
        if (r->payload_len || (r->flags & TERN_TCP_FIN))
            PR_DIE("data or FIN before a SYN");
        return;
    }
    uint32_t base = c->st_iss + 1;
    for (size_t i = 0; i < r->payload_len; i++) {
        uint32_t sq = r->seq + (uint32_t)i;
        uint32_t off = sq - base;
        if (off >= c->written && getenv("TERN_FUZZ_VERBOSE"))
            fprintf(stderr, "seq %u iss %u off %u written %llu\n", sq, c->st_iss, off,
                    (unsigned long long)c->written);
        if (off >= c->written)
            PR_DIE("a byte sent that the application never wrote");
        if (r->payload[i] != pr_pat_out(sq))
            PR_DIE("a byte sent differs from the one written");
    }
    if (r->flags & TERN_TCP_FIN) {
        if (!c->wr_shut)
            PR_DIE("FIN before the application closed");
        if (r->seq + (uint32_t)r->payload_len != base + (uint32_t)c->written)
            PR_DIE("FIN not right after the last byte written");
    }
    if (tern_seq_gt(r->seq + slen, c->st_max))
        c->st_max = r->seq + slen;
}

static inline int pr_cap_send(void *ctx, const uint8_t *f, size_t len)
{
    struct pr *p = ctx;
    pr_event(p);
    p->frames_out++;
    struct tern_eth_repr e;
    if (tern_eth_parse(f, len, &e) < 0 || e.ethertype != TERN_ETHERTYPE_IPV4)
        return 0;
    struct tern_ipv4_repr ip;
    int h = tern_ipv4_parse(f + TERN_ETH_HLEN, len - TERN_ETH_HLEN, 0, &ip);
    if (h < 0)
        PR_DIE("the stack sent a bad IPv4 header");
    if (ip.proto == TERN_IPPROTO_UDP && p->udp_out && !ip.frag_off && !ip.mf) {
        p->udp_out(p, &ip, f + TERN_ETH_HLEN + h, ip.payload_len);
        return 0;
    }
    if (ip.proto != TERN_IPPROTO_TCP || ip.frag_off || ip.mf)
        return 0;
    struct tern_tcp_repr r;
    if (tern_tcp_parse(f + TERN_ETH_HLEN + h, ip.payload_len, ip.src, ip.dst, 0, &r) < 0)
        PR_DIE("the stack sent a bad TCP segment");
    if (getenv("TERN_FUZZ_TRACE"))
        fprintf(stderr, "  < %u->%u %03x seq %u ack %u win %u len %zu\n", r.sport, r.dport,
                r.flags, r.seq, r.ack, r.win, r.payload_len);
    pr_check_out(p, &r);
    return 0;
}

/* Delivers an IPv4 packet from the peer to dst. */
static inline void pr_ip_in_to(struct pr *p, uint32_t dst, uint8_t proto, const uint8_t *pl, size_t n)
{
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.src = PR_PEER;
    ip.dst = dst;
    ip.proto = proto;
    ip.payload_len = (uint16_t)n;
    struct tern_eth_repr e = {.ethertype = TERN_ETHERTYPE_IPV4};
    memcpy(e.dst, pr_mac_us, 6);
    memcpy(e.src, pr_mac_peer, 6);
    tern_eth_emit(&e, p->buf, TERN_ETH_HLEN);
    int h = tern_ipv4_emit(&ip, p->buf + TERN_ETH_HLEN, 60);
    if (h < 0)
        abort();
    memcpy(p->buf + TERN_ETH_HLEN + h, pl, n);
    size_t len = TERN_ETH_HLEN + (size_t)h + n;
    uint8_t *copy = malloc(len); /* exact size: ASan sees over-reads */
    memcpy(copy, p->buf, len);
    tern_device_deliver(p->dev, copy, len);
    free(copy);
}

static inline void pr_ip_in(struct pr *p, uint8_t proto, const uint8_t *pl, size_t n)
{
    pr_ip_in_to(p, PR_US, proto, pl, n);
}

/* A segment from the peer on connection c (payload = the peer's pattern
 * at its sequence numbers). */
static inline void pr_send(struct pr *p, struct pr_conn *c, uint32_t seq, uint32_t ack, uint16_t flags,
                    uint16_t win, size_t plen, const struct tern_tcp_opts *extra)
{
    static uint8_t data[65536];
    struct tern_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = c->pport;
    r.dport = c->lport;
    r.seq = seq;
    r.ack = ack;
    r.flags = flags;
    r.win = win;
    if (extra)
        r.opts = *extra;
    if (flags & TERN_TCP_SYN) {
        r.opts.has_mss = true;
        r.opts.mss = p->mss;
        r.opts.has_wscale = p->ws;
        r.opts.wscale = 2;
        r.opts.sack_perm = p->sack;
    }
    if (p->ts && !(flags & TERN_TCP_RST) && !(extra && extra->has_ts)) {
        r.opts.has_ts = true;
        r.opts.ts_val = ++c->ts;
        r.opts.ts_ecr = (flags & TERN_TCP_ACK) ? c->st_tsval : 0;
    }
    if (plen > sizeof data)
        plen = sizeof data;
    for (size_t i = 0; i < plen; i++)
        data[i] = pr_pat_in(seq + (flags & TERN_TCP_SYN ? 1u : 0u) + (uint32_t)i);
    r.payload = data;
    r.payload_len = plen;
    int n = tern_tcp_emit(&r, PR_PEER, PR_US, p->seg, sizeof p->seg);
    if (n < 0) {
        r.opts.sack_count = 0; /* too many options: drop the blocks */
        n = tern_tcp_emit(&r, PR_PEER, PR_US, p->seg, sizeof p->seg);
        if (n < 0)
            return;
    }
    uint32_t end = seq + tern_tcp_seg_len(&r);
    if (!(flags & TERN_TCP_RST)) {
        if (!c->used || tern_seq_gt(end, c->hi))
            c->hi = end;
        c->used = true;
        if ((flags & TERN_TCP_ACK) && tern_seq_gt(ack, c->acked))
            c->acked = ack;
    }
    if (flags & TERN_TCP_FIN)
        c->fin_sent = true;
    pr_act(p);
    if (getenv("TERN_FUZZ_TRACE"))
        fprintf(stderr, "  > %u->%u %03x seq %u ack %u win %u len %zu sack %u\n", r.sport,
                r.dport, r.flags, r.seq, r.ack, r.win, r.payload_len, r.opts.sack_count);
    pr_ip_in(p, TERN_IPPROTO_TCP, p->seg, (size_t)n);
}

/* The peer's ARP request, so the stack knows its MAC. */
static inline void pr_arp(struct pr *p)
{
    struct tern_arp_repr a = {.op = TERN_ARP_REQUEST, .spa = PR_PEER, .tpa = PR_US};
    memcpy(a.sha, pr_mac_peer, 6);
    uint8_t pl[TERN_ARP_LEN];
    tern_arp_emit(&a, pl, sizeof pl);
    struct tern_eth_repr e = {.ethertype = TERN_ETHERTYPE_ARP};
    memset(e.dst, 0xff, 6);
    memcpy(e.src, pr_mac_peer, 6);
    tern_eth_emit(&e, p->buf, TERN_ETH_HLEN);
    memcpy(p->buf + TERN_ETH_HLEN, pl, sizeof pl);
    tern_device_deliver(p->dev, p->buf, TERN_ETH_HLEN + sizeof pl);
}

/* An ICMP error from the peer quoting a segment of c with sequence seq. */
static inline void pr_icmp(struct pr *p, struct pr_conn *c, uint8_t type, uint8_t code, uint16_t mtu,
                    uint32_t seq)
{
    uint8_t m[8 + 20 + 8];
    memset(m, 0, sizeof m);
    m[0] = type;
    m[1] = code;
    tern_put16(m + 6, mtu);
    struct tern_ipv4_repr q;
    memset(&q, 0, sizeof q);
    q.ttl = 64;
    q.df = true;
    q.src = PR_US;
    q.dst = PR_PEER;
    q.proto = TERN_IPPROTO_TCP;
    q.payload_len = 1000;
    tern_ipv4_emit(&q, m + 8, 20);
    tern_put16(m + 28, c->lport);
    tern_put16(m + 30, c->pport);
    tern_put32(m + 32, seq);
    tern_put16(m + 2, tern_csum(m, sizeof m));
    pr_act(p);
    pr_ip_in(p, TERN_IPPROTO_ICMP, m, sizeof m);
}

/* Reads what the app may read on c, checking every byte. */
static inline void pr_read(struct pr *p, struct pr_conn *c, size_t max)
{
    static uint8_t b[8192];
    (void)p;
    if (!c->app)
        return;
    while (max) {
        size_t want = max < sizeof b ? max : sizeof b;
        ssize_t n = tern_sock_recv(c->app, b, want, 0);
        if (n == 0)
            c->app_eof = true;
        if (n <= 0)
            return;
        const struct tcp_cb *cb = tcp_cb_of(c->app);
        if (!cb)
            PR_DIE("data from a socket without a TCB");
        uint32_t base = cb->irs + 1 + (uint32_t)c->readn;
        for (ssize_t i = 0; i < n; i++)
            if (b[i] != pr_pat_in(base + (uint32_t)i))
                PR_DIE("a byte delivered differs from the one the peer sent");
        c->readn += (uint64_t)n;
        max -= (size_t)n;
        if (n < (ssize_t)want)
            return;
    }
}

/* Writes up to n bytes of the pattern on c. */
/* The app's socket is the incarnation the peer now talks to. */
static inline bool pr_app_current(const struct pr_conn *c)
{
    return c->app && tcp_cb_of(c->app) && tcp_cb_of(c->app)->iss == c->st_iss;
}

static inline void pr_write(struct pr *p, struct pr_conn *c, size_t n)
{
    static uint8_t b[65536];
    (void)p;
    if (!c->app || !tcp_cb_of(c->app))
        return;
    if (!pr_app_current(c)) { /* an old incarnation: the call must fail */
        if (tern_sock_send(c->app, b, n ? n : 1, 0) > 0)
            PR_DIE("an ended connection took data");
        return;
    }
    if (n > sizeof b)
        n = sizeof b;
    uint32_t base = c->st_iss + 1 + (uint32_t)c->written;
    for (size_t i = 0; i < n; i++)
        b[i] = pr_pat_out(base + (uint32_t)i);
    /* The stack may send during the call: allow the n bytes, then keep
     * what it took and check nothing past that went out. */
    uint64_t before = c->written;
    c->written += n;
    ssize_t k = tern_sock_send(c->app, b, n, 0);
    c->written = before + (k > 0 ? (uint64_t)k : 0);
    if (tern_seq_gt(c->st_max, c->st_iss + 1 + (uint32_t)c->written + (c->wr_shut ? 1u : 0u))) {
        if (getenv("TERN_FUZZ_VERBOSE"))
            fprintf(stderr, "st_max %u iss %u written %llu shut %d k %zd n %zu\n", c->st_max,
                    c->st_iss, (unsigned long long)c->written, c->wr_shut, k, n);
        PR_DIE("sent beyond what the application wrote");
    }
}

static inline void pr_on_sock(struct tern_sock *sk, unsigned events, void *ctx);

static inline void pr_attach(struct pr *p, struct pr_conn *c, struct tern_sock *sk)
{
    c->app = sk;
    c->written = c->readn = 0;
    c->wr_shut = c->app_eof = false;
    const struct tcp_cb *cb = tcp_cb_of(sk);
    if (cb->state != TCP_SYN_SENT && cb->iss != c->st_iss)
        PR_DIE("accepted a connection whose ISS is not the SYN-ACK's");
    tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, pr_on_sock, p);
}

static inline void pr_on_sock(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct pr *p = ctx;
    pr_event(p);
    struct pr_conn *c = NULL;
    for (int i = 0; i < p->nconn; i++)
        if (p->c[i].app == sk)
            c = &p->c[i];
    if (!c)
        return;
    if (events & TERN_POLLERR)
        tern_sock_error(sk);
    if (events & TERN_POLLIN) {
        pr_read(p, c, 65536);
        /* An app that answers every end-of-stream wake-up with a shutdown
         * (as many event loops do): must not make the stack wake it again
         * and again at the same instant. */
        if (c->app_eof && p->reactive) {
            if (pr_app_current(c))
                c->wr_shut = true;
            tern_sock_shutdown(sk, TERN_SHUT_WR);
        }
    }
}

static inline void pr_note_states(struct pr *p)
{
    for (int i = 0; i < p->nconn; i++) {
        struct tern_sock *sk = p->c[i].app;
        if (sk && tcp_cb_of(sk))
            p->states_seen |= 1u << tcp_cb_of(sk)->state;
    }
    /* Orphans and unaccepted children too: every TCP socket in the pool. */
    for (uint32_t i = 0; i < p->s->sock_cap; i++) {
        const struct tern_sock *sk = sock_slot(p->s, i);
        if (sk->used && sk->pcb && sk->type == TERN_SOCK_STREAM)
            p->states_seen |= 1u << tcp_cb_of(sk)->state;
    }
}

static inline void pr_open(struct pr *p, struct tern_config *cfg)
{
    p->loop = tern_loop_virtual_new(1000000000ull);
    p->s = tern_stack_new(cfg, p->loop);
    p->dev = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, pr_mac_us, pr_cap_send, p);
    if (!p->loop || !p->s || !p->dev)
        abort();
    struct tern_iface_config ic = {.addr = PR_US, .prefix_len = 24, .up = true};
    if (tern_stack_add_iface(p->s, p->dev, &ic) < 0)
        abort();
    pr_arp(p);
}

/* Lets the loop run for `us` (the livelock count is per virtual second). */
static inline void pr_run(struct pr *p, uint64_t us)
{
    tern_loop_run(p->loop, tern_loop_now(p->loop) + us);
    pr_act(p);
}

/* The end of every input: the app closes everything, the peer goes away;
 * after 30 virtual minutes no socket may be left (orphans end by the user
 * timeout, TIME_WAIT by 2*MSL) and the stack's memory is back to baseline. */
static inline void pr_close(struct pr *p, struct tern_sock *extra)
{
    for (int i = 0; i < p->nconn; i++)
        if (p->c[i].app) {
            if (pr_app_current(&p->c[i]))
                p->c[i].wr_shut = true;
            tern_sock_close(p->c[i].app);
            p->c[i].app = NULL;
        }
    if (extra)
        tern_sock_close(extra);
    pr_run(p, 1800ull * 1000000u);
    struct tern_stack_mem m;
    stack_mem_usage(p->s, &m);
    if (p->s->sock_count)
        PR_DIE("a socket alive 30 minutes after close with the peer gone");
    if (m.tcp_conns || m.tcp_ring_bytes || m.tcp_time_wait || m.tcp_syn_reqs || m.tcp_cold ||
        m.arp_queued || m.loop_queued || m.reasm_bytes)
        PR_DIE("stack memory not back to baseline");
    tern_stack_free(p->s);
    tern_device_destroy(p->dev);
    tern_loop_destroy(p->loop);
}

#endif
