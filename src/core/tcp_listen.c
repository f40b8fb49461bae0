/*
 * tcp_listen.c - TCP passive open: RFC 9293 s3.10.7.2 (LISTEN state), the
 * per-listener SYN queue (children in SYN-RECEIVED, capped by
 * cfg.tcp_syn_backlog) and accept queue (capped by the backlog), and SYN
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
static struct tcp_cb *child_new(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
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
    struct tcp_cb *cbs = cb->sk->s->tcp->cbs;
    uint32_t idx = cb->sk->idx;
    cb->qnext = SOCK_NIL;
    if (l->aq_tail != SOCK_NIL)
        cbs[l->aq_tail].qnext = idx;
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
    r.seq = tern_syncookie_encode(&s->rng, &t, seg->seq, mss, now, &used);
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
    int mss = tern_syncookie_decode(&s->rng, &t, seg->seq, seg->ack, now);
    if (mss <= 0 || l->aq_len >= l->backlog) {
        if (mss <= 0)
            s->stats.tcp.syncookies_bad++;
        tcp_send_reset(s, ip, seg, now); /* s3.10.7.2: <SEQ=SEG.ACK><CTL=RST> */
        return;
    }
    struct tcp_cb *cb = child_new(lsk, ip, seg);
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
    struct tcp_cb *cb = child_new(lsk, ip, seg);
    if (!cb) {
        cookie_syn_ack(lsk, ip, seg, now); /* socket table full: still stateless */
        return;
    }
    l->synq_len++;
    cb->in_synq = true;
    /* s3.10.7.2: RCV.NXT <- SEG.SEQ+1, IRS <- SEG.SEQ, select an ISS. */
    tcp_seq_init_recv(cb, seg->seq);
    tcp_seq_init_send(cb, iss ? *iss : tcp_new_iss(s, &cb->sk->local, &cb->sk->peer, now));
    tcp_snd_wnd_set(cb, seg->seq, cb->iss, seg->win); /* RFC 7323 s2.2: unscaled in a SYN */
    /* We implement every option: the SYN-ACK echoes what was agreed. */
    tcp_syn_options(cb, &seg->opts, true, now);
    cb->state = TCP_SYN_RECEIVED;
    /* DEVIATION: s3.10.7.2 says text in the SYN "should be queued for
     * processing later"; we drop it (as Linux does without TCP Fast Open)
     * and the peer sends it again after the handshake. */
    tcp_send_syn(cb, now);
    /* RFC 6298 s2/s3: the ACK of the SYN-ACK gives the first RTT sample
     * (without timestamps, from this timing; Karn: none if the SYN-ACK is
     * sent again, see tcp_established_input and the retransmission timer),
     * so an accepted connection starts with an SRTT - a tail loss probe
     * (RFC 8985 s7.2) and an RTO from the path, not the 1 s default. */
    tern_rtt_on_send(&cb->rtt, cb->iss + 1, false, now);
    tcp_arm_rtx(cb, now);
    tcp_timer_update(cb);
}
