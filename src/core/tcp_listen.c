/*
 * tcp_listen.c - TCP passive open: RFC 9293 s3.10.7.2 (LISTEN state), the
 * per-listener SYN queue (request records in SYN-RECEIVED, tcp_req.c,
 * capped by cfg.tcp_syn_backlog; a socket and TCB once the handshake
 * completes) and accept queue (capped by the backlog), and SYN
 * cookies (RFC 4987 s3.6, tcp_isn.h) once the SYN queue is full, so a
 * flood of spoofed SYNs never holds more than the cap (ATTACKS 35).
 * Not: the synchronized-state input (tcp_in.c), the listen()/accept()
 * socket ops (tcp_sock.c).
 * A connection made from a cookie runs without window scaling, SACK and
 * timestamps (the cookie does not encode them, see tcp_isn.h).
 */
#include <string.h>

#include "core/tcp_impl.h"
#include "core/tcp_isn.h"

/* A new socket for a connection of listener lsk, not yet accepted. */
struct tcp_cb *tcp_child_new(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                             const struct tern_tcp_repr *seg)
{
    struct tern_stack *s = lsk->s;
    struct tcp_cb *l = tcp_cb_of(lsk);
    int err;
    struct tern_sock *sk = tern_sock_open(s, TERN_SOCK_STREAM, &err);
    if (!sk)
        return NULL;
    struct tcp_cb *cb = tcp_cb_of(sk);
    sk->app_closed = true; /* no handle and no notifications until accepted */
    sk->keepalive = lsk->keepalive;
    sk->ttl = lsk->ttl;
    sk->tos = lsk->tos;
    sk->rcvbuf = lsk->rcvbuf;
    sk->sndbuf = lsk->sndbuf;
    cb->nodelay = l->nodelay;
    cb->user_mss = l->user_mss;
    cb->keepidle_s = l->keepidle_s;
    cb->keepintvl_s = l->keepintvl_s;
    cb->keepcnt = l->keepcnt;
    cb->passive = true;
    if (tcp_alloc_rings(cb) < 0) {
        tcp_release(cb);
        return NULL;
    }
    sk->local.addr = ip->dst;
    sk->local.port = seg->dport;
    sk->peer.addr = ip->src;
    sk->peer.port = seg->sport;
    sk->connected = true;
    ports_conn_set(s, sk);
    cb->parent = lsk->idx;
    tcp_conn_setup(cb);
    return cb;
}

static void aq_append(struct tcp_cb *l, struct tcp_cb *cb)
{
    uint32_t idx = cb->sk->idx;
    cb->qnext = SOCK_NIL;
    if (l->aq_tail != SOCK_NIL)
        tcp_cb_of(sock_at(cb->sk->s, l->aq_tail))->qnext = idx;
    else
        l->aq_head = idx;
    l->aq_tail = idx;
    l->aq_len++;
    sock_notify(l->sk);
}

/* SYN-RECEIVED -> ESTABLISHED for a passive child: SYN queue to accept
 * queue (RFC 9293 leaves queueing to the implementation). */
void tcp_child_established(struct tcp_cb *cb)
{
    if (cb->parent == SOCK_NIL)
        return;
    struct tern_sock *lsk = sock_at(cb->sk->s, cb->parent);
    struct tcp_cb *l = tcp_cb_of(lsk);
    if (cb->in_synq && l->synq_len)
        l->synq_len--;
    cb->in_synq = false;
    aq_append(l, cb);
}

static void cookie_syn_ack(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                           const struct tern_tcp_repr *seg, uint64_t now)
{
    struct tern_stack *s = lsk->s;
    struct tern_isn_tuple t = {.laddr = ip->dst, .raddr = ip->src, .lport = seg->dport,
                               .rport = seg->sport};
    /* The cookie carries no options but the MSS (tcp_isn.h): offer none. */
    struct tcp_syn_offer none = {0};
    uint16_t mss = tcp_syn_negotiate(&seg->opts, &none).peer_mss;
    uint16_t ours = tcp_route_mss(s, ip->src);
    if (ours < mss)
        mss = ours;
    uint16_t used;
    struct tern_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = seg->dport;
    r.dport = seg->sport;
    r.seq = syncookie_encode(&s->rng, &t, seg->seq, mss, now, &used);
    r.ack = seg->seq + 1;
    r.flags = TERN_TCP_SYN | TERN_TCP_ACK;
    r.win = (uint16_t)(lsk->rcvbuf > 65535 ? 65535 : lsk->rcvbuf);
    r.opts.has_mss = true;
    r.opts.mss = ours;
    s->stats.tcp.syncookies_tx++;
    tcp_send_raw(s, ip->dst, ip->src, &r, now);
}

/* An ACK to a listener: the end of a cookie handshake, or a reset. */
static void cookie_ack(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                       const struct tern_tcp_repr *seg, uint64_t now)
{
    struct tern_stack *s = lsk->s;
    struct tcp_cb *l = tcp_cb_of(lsk);
    struct tern_isn_tuple t = {.laddr = ip->dst, .raddr = ip->src, .lport = seg->dport,
                               .rport = seg->sport};
    int mss = syncookie_decode(&s->rng, &t, seg->seq, seg->ack, now);
    if (mss <= 0 || l->aq_len >= l->backlog) {
        if (mss <= 0)
            s->stats.tcp.syncookies_bad++;
        tcp_send_reset(s, ip, seg, now); /* s3.10.7.2: <SEQ=SEG.ACK><CTL=RST> */
        return;
    }
    struct tcp_cb *cb = tcp_child_new(lsk, ip, seg);
    if (!cb)
        return;
    s->stats.tcp.syncookies_ok++;
    /* The cookie was our ISS, the peer's ISN one below its ACK's SEG.SEQ;
     * our SYN-ACK went out statelessly and is acknowledged now. */
    tcp_seq_init_send(cb, seg->ack - 1);
    tcp_seq_init_recv(cb, seg->seq - 1);
    tcp_seq_syn_acked(cb, seg->ack);
    /* What the cookie's SYN-ACK agreed to: the MSS it encodes, no other
     * option (the SYN's other options are not known any more). */
    struct tern_tcp_opts syn_opts = {.has_mss = true, .mss = (uint16_t)mss};
    tcp_syn_options(cb, &syn_opts, false, now);
    tcp_snd_wnd_set(cb, seg->seq, seg->ack, seg->win); /* no scaling with a cookie */
    /* The window the cookie's SYN-ACK offered (cookie_syn_ack). */
    cb->rcv_adv = cb->rcv_nxt + (lsk->rcvbuf > 65535 ? 65535 : lsk->rcvbuf);
    tcp_init_conn(cb, now);
    tcp_set_state(cb, TCP_ESTABLISHED, now);
    aq_append(l, cb);
    /* Data or FIN riding on the ACK: the ordinary input path takes it. */
    if (seg->payload_len || (seg->flags & TERN_TCP_FIN))
        tcp_established_input(cb, seg, now);
}

bool tcp_listen_can_take(const struct tern_sock *lsk)
{
    const struct tcp_cb *l = tcp_cb_of(lsk);
    return l->aq_len < l->backlog && l->synq_len < lsk->s->cfg.tcp_syn_backlog;
}

void tcp_listen_input(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                      const struct tern_tcp_repr *seg, uint64_t now)
{
    tcp_listen_input_iss(lsk, ip, seg, NULL, now);
}

/* s3.10.7.2 LISTEN */
void tcp_listen_input_iss(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                          const struct tern_tcp_repr *seg, const uint32_t *iss, uint64_t now)
{
    struct tern_stack *s = lsk->s;
    struct tcp_cb *l = tcp_cb_of(lsk);
    /* First: a RST is ignored. */
    if (seg->flags & TERN_TCP_RST)
        return;
    /* Second: an ACK is bad here - unless it completes a cookie handshake. */
    if (seg->flags & TERN_TCP_ACK) {
        if (!(seg->flags & TERN_TCP_SYN))
            cookie_ack(lsk, ip, seg, now);
        else
            tcp_send_reset(s, ip, seg, now);
        return;
    }
    /* Third: SYN. */
    if (!(seg->flags & TERN_TCP_SYN))
        return;
    if (l->aq_len >= l->backlog) {
        s->stats.tcp.syn_dropped++; /* accept queue full: the client retries */
        return;
    }
    if (l->synq_len >= s->cfg.tcp_syn_backlog) {
        cookie_syn_ack(lsk, ip, seg, now); /* ATTACKS 35: no state */
        return;
    }
    /* s3.10.7.2: RCV.NXT <- SEG.SEQ+1, IRS <- SEG.SEQ, select an ISS; a
     * small record until the handshake completes (tcp_req.c), then the
     * socket and TCB. */
    struct tern_sockaddr la = {ip->dst, seg->dport}, ra = {ip->src, seg->sport};
    uint32_t isn = iss ? *iss : tcp_new_iss(s, &la, &ra, now);
    if (!tcp_req_new(lsk, ip, seg, isn, now))
        cookie_syn_ack(lsk, ip, seg, now); /* no memory: still stateless */
}
