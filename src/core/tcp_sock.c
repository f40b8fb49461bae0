/*
 * tcp_sock.c - TCP's socket ops (struct sock_proto_ops, socket_impl.h):
 * connect (TERN_E_INPROGRESS, then POLLOUT or POLLERR), listen with a
 * backlog, accept, send into the send ring (TERN_E_AGAIN when full), recv
 * from the receive ring (0 at end of stream), shutdown(WR) (FIN after the
 * queued data), close (graceful; a RST instead when unread data is pending,
 * RFC 9293 s3.10.4 / RFC 1122 4.2.2.13), abort (RST), poll, netstat rows
 * and the TCP options.
 * Not: protocol processing (tcp_in.c, tcp_out.c, tcp_timer.c).
 */
#include <string.h>

#include "core/tcp_impl.h"

static int tcp_open(struct tern_sock *sk)
{
    return tcp_cb_new(sk) ? TERN_OK : TERN_E_NOMEM;
}

static int tcp_bind(struct tern_sock *sk, const struct tern_sockaddr *local)
{
    if (tcp_cb_of(sk)->state != TCP_CLOSED || sk->connected)
        return TERN_E_INVAL;
    return ports_bind(sk->s, sk, local->addr, local->port, NULL);
}

/* RFC 1122 s3.3.4.3: the bound address, else the outgoing interface's. */
static int tcp_source(struct tern_sock *sk, uint32_t dst, uint32_t *src)
{
    struct tern_stack *s = sk->s;
    if (stack_is_our_addr(s, dst) || ip_is_loopback(dst)) {
        *src = sk->local.addr ? sk->local.addr : dst;
        return TERN_OK;
    }
    int ifindex;
    if (tern_route_lookup(s, dst, NULL, &ifindex) < 0)
        return TERN_E_NETUNREACH;
    struct tern_iface *ifc = stack_iface(s, ifindex);
    if (!ifc || !ifc->up || !ifc->addr)
        return TERN_E_NETUNREACH;
    *src = sk->local.addr ? sk->local.addr : ifc->addr;
    return TERN_OK;
}

static int tcp_connect(struct tern_sock *sk, const struct tern_sockaddr *peer)
{
    struct tern_stack *s = sk->s;
    struct tcp_cb *cb = tcp_cb_of(sk);
    uint64_t now = tern_loop_now(s->loop);
    if (cb->state == TCP_SYN_SENT || cb->state == TCP_SYN_RECEIVED)
        return TERN_E_ALREADY;
    if (cb->state != TCP_CLOSED || sk->listening)
        return TERN_E_ISCONN;
    if (sk->connected) /* a finished connection is not reused (as Linux after close) */
        return TERN_E_ISCONN;
    if (!peer || peer->addr == 0 || peer->port == 0)
        return TERN_E_INVAL;
    if (stack_is_bcast(s, peer->addr) || ip_is_multicast(peer->addr))
        return TERN_E_NETUNREACH; /* RFC 1122 4.2.3.10 */
    uint32_t src;
    int rc = tcp_source(sk, peer->addr, &src);
    if (rc < 0)
        return rc;
    if (!sk->bound) {
        rc = ports_bind(s, sk, 0, 0, peer);
        if (rc < 0)
            return rc;
    }
    uint32_t laddr = sk->local.addr ? sk->local.addr : src;
    if (ports_find_conn(s, TERN_IPPROTO_TCP, laddr, sk->local.port, peer->addr, peer->port) ||
        tcp_tw_busy(s, laddr, sk->local.port, peer->addr, peer->port) ||
        tcp_req_busy(s, laddr, sk->local.port, peer->addr, peer->port))
        return TERN_E_ADDRINUSE; /* that 4-tuple is taken (TIME_WAIT included) */
    rc = tcp_alloc_rings(cb);
    if (rc < 0)
        return rc;
    if (sk->local.addr == 0) {
        sk->local.addr = src;
        sk->autoaddr = true;
    }
    sk->peer = *peer;
    sk->connected = true;
    ports_conn_set(s, sk);
    tcp_conn_setup(cb);
    tcp_seq_init_send(cb, tcp_new_iss(s, &sk->local, peer, now));
    cb->state = TCP_SYN_SENT;
    tcp_send_syn(cb, now);
    rtt_on_send(&cb->rtt, cb->iss + 1, false, now);
    cb->stall_since = now;
    cb->syn_at = now;
    tcp_arm_rtx(cb, now);
    tcp_timer_update(cb);
    return TERN_E_INPROGRESS;
}

static int tcp_listen(struct tern_sock *sk, int backlog)
{
    struct tcp_cb *cb = tcp_cb_of(sk);
    if (cb->state != TCP_CLOSED && cb->state != TCP_LISTEN)
        return TERN_E_INVAL;
    if (sk->connected)
        return TERN_E_INVAL;
    int rc;
    if (!sk->bound && (rc = ports_bind(sk->s, sk, 0, 0, NULL)) < 0)
        return rc;
    if ((rc = ports_check_listen(sk->s, sk)) < 0)
        return rc;
    if (backlog < 1)
        backlog = 1;
    if (backlog > 4096)
        backlog = 4096; /* Linux somaxconn */
    if (cb->state == TCP_CLOSED) {
        /* The queues take the bytes of RACK's kept variables (tcp_impl.h
         * struct tcp_cb), which a listener never uses. */
        cb->rack_on = false;
        cb->aq_head = cb->aq_tail = SOCK_NIL;
        cb->aq_len = cb->synq_len = 0;
    }
    cb->backlog = (uint32_t)backlog;
    sk->listening = true;
    cb->state = TCP_LISTEN;
    return TERN_OK;
}

static struct tern_sock *tcp_accept(struct tern_sock *sk, struct tern_sockaddr *peer, int *err)
{
    struct tcp_cb *l = tcp_cb_of(sk);
    int e = TERN_OK;
    struct tern_sock *c = NULL;
    if (!sk->listening)
        e = TERN_E_INVAL;
    else if (l->aq_head == SOCK_NIL)
        e = TERN_E_AGAIN;
    else {
        struct tcp_cb *cb = tcp_cb_of(sock_at(sk->s, l->aq_head));
        tcp_child_remove(cb);
        cb->accepted = true;
        c = cb->sk;
        c->app_closed = false;
        if (peer)
            *peer = c->peer;
        sock_notify(c);
    }
    if (err)
        *err = e;
    return c;
}

static ssize_t tcp_sendto(struct tern_sock *sk, const void *buf, size_t len, int flags,
                          const struct tern_sockaddr *to)
{
    struct tcp_cb *cb = tcp_cb_of(sk);
    (void)flags, (void)to;
    int e = sock_take_error(sk);
    if (e)
        return e;
    if (sk->shut_wr || cb->fin_pending)
        return TERN_E_PIPE;
    switch (cb->state) {
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
        return TERN_E_AGAIN; /* POLLOUT comes with ESTABLISHED */
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
        break;
    case TCP_CLOSED:
        return sk->connected ? TERN_E_PIPE : TERN_E_NOTCONN;
    default:
        return TERN_E_NOTCONN;
    }
    size_t n = ringbuf_write(&cb->snd, buf, len);
    if (n == 0 && len)
        return TERN_E_AGAIN;
    if (!sock_defer_tx(sk)) /* in a handler: at the end of the turn, tcp_flush */
        tcp_output(cb, tern_loop_now(sk->s->loop));
    tcp_check(cb);
    return (ssize_t)n;
}

static ssize_t tcp_recvfrom(struct tern_sock *sk, void *buf, size_t len, int flags,
                            struct tern_sockaddr *from, int *out_flags)
{
    struct tcp_cb *cb = tcp_cb_of(sk);
    (void)out_flags;
    if (from)
        *from = sk->peer;
    if (sk->rd_got) {
        /* In-order bytes placed in the registered buffer (tcp_in.c) come
         * first; the ring holds only what arrived after them. */
        size_t n = len < sk->rd_got ? len : sk->rd_got;
        if ((uint8_t *)buf != sk->rd_buf)
            memmove(buf, sk->rd_buf, n);
        if (!(flags & TERN_MSG_PEEK)) {
            if (n < sk->rd_got)
                memmove(sk->rd_buf, sk->rd_buf + n, sk->rd_got - n);
            sk->rd_got -= n;
        }
        size_t more = 0;
        if (n < len && cb->rings && ringbuf_len(&cb->rcv) && (flags & TERN_MSG_PEEK))
            more = ringbuf_peek(&cb->rcv, (uint8_t *)buf + n, len - n);
        else if (n < len && cb->rings && ringbuf_len(&cb->rcv)) {
            more = ringbuf_read(&cb->rcv, (uint8_t *)buf + n, len - n);
            if (!sock_defer_tx(sk))
                tcp_maybe_window_update(cb, tern_loop_now(sk->s->loop));
        }
        tcp_check(cb);
        return (ssize_t)(n + more);
    }
    if (cb->rings && ringbuf_len(&cb->rcv)) {
        size_t n = (flags & TERN_MSG_PEEK) ? ringbuf_peek(&cb->rcv, buf, len)
                                           : ringbuf_read(&cb->rcv, buf, len);
        if (!(flags & TERN_MSG_PEEK) && !sock_defer_tx(sk))
            tcp_maybe_window_update(cb, tern_loop_now(sk->s->loop));
        tcp_check(cb);
        return (ssize_t)n;
    }
    int e = sock_take_error(sk);
    if (e)
        return e;
    if (cb->fin_rcvd || sk->shut_rd)
        return 0;
    if (cb->state == TCP_CLOSED)
        return sk->connected ? 0 : TERN_E_NOTCONN;
    if (cb->state == TCP_LISTEN)
        return TERN_E_NOTCONN;
    return TERN_E_AGAIN;
}

/* RFC 9293 s3.10.4 CLOSE for the sending side: the FIN goes after the
 * queued data; the state changes now. */
static void close_send_side(struct tcp_cb *cb, uint64_t now)
{
    if (cb->fin_pending)
        return;
    if (cb->state == TCP_ESTABLISHED) {
        cb->fin_pending = true;
        tcp_set_state(cb, TCP_FIN_WAIT_1, now);
    } else if (cb->state == TCP_CLOSE_WAIT) {
        cb->fin_pending = true;
        tcp_set_state(cb, TCP_LAST_ACK, now);
    } else {
        return;
    }
    /* RFC 9293 s3.10.4: the FIN may ride on the last data: in a handler
     * that sent and then closed, both are still unsent here (tcp_flush). */
    if (!sock_defer_tx(cb->sk))
        tcp_output(cb, now);
}

/* The end of a handler turn (sock_defer_tx): the data, FIN and window the
 * handler's calls left, in as few segments as Nagle and the window allow;
 * the ACK of what the handler read rides on them (RFC 1122 s4.2.3.2,
 * RFC 9293 s3.8.6.3: a delayed ACK is sent with data). */
static void tcp_flush(struct tern_sock *sk)
{
    struct tcp_cb *cb = tcp_cb_of(sk);
    uint64_t now = tern_loop_now(sk->s->loop);
    tcp_output(cb, now);
    tcp_maybe_window_update(cb, now); /* nothing if the output announced it */
    tcp_check(cb);
}

static int tcp_shutdown(struct tern_sock *sk, int how)
{
    struct tcp_cb *cb = tcp_cb_of(sk);
    uint64_t now = tern_loop_now(sk->s->loop);
    if (cb->state == TCP_CLOSED || cb->state == TCP_LISTEN || cb->state == TCP_SYN_SENT)
        return TERN_E_NOTCONN;
    /* Readiness is notified on a change only (a state change notifies in
     * tcp_set_state): an app that calls shutdown on every end-of-stream
     * wake-up would otherwise re-arm its own wake-up at the same instant
     * and spin the loop forever. */
    bool changed = false;
    if (how != TERN_SHUT_WR && !sk->shut_rd)
        sk->shut_rd = changed = true;
    if (how != TERN_SHUT_RD) {
        if (!sk->shut_wr)
            sk->shut_wr = changed = true;
        close_send_side(cb, now);
    }
    if (changed)
        sock_notify(sk);
    tcp_check(cb);
    return TERN_OK;
}

static void abort_children(struct tcp_cb *l, uint64_t now)
{
    struct tern_stack *s = l->sk->s;
    /* Children not yet accepted: reset and freed, found through the table
     * of TCBs whose parent is this listener; then the SYN queue's request
     * records (tcp_req.c). */
    for (uint32_t i = 0; i < s->sock_cap; i++) {
        struct tern_sock *k = sock_slot(s, i);
        struct tcp_cb *c = k->used && k->type == TERN_SOCK_STREAM ? tcp_cb_of(k) : NULL;
        if (c && c->sk && c->parent == l->sk->idx && !c->accepted) {
            tcp_send_rst_for(c, now);
            tcp_release(c);
        }
    }
    tcp_req_drop_listener(s, l->sk->idx, now); /* the SYN queue's records */
}

static void tcp_abort(struct tern_sock *sk)
{
    struct tcp_cb *cb = tcp_cb_of(sk);
    uint64_t now = tern_loop_now(sk->s->loop);
    if (sk->tx_deferred) { /* what a handler sent goes before the RST, as it would have */
        sk->tx_deferred = false;
        tcp_output(cb, now);
    }
    if (cb->state == TCP_LISTEN)
        abort_children(cb, now);
    else if (cb->state >= TCP_SYN_RECEIVED && cb->state != TCP_TIME_WAIT)
        tcp_send_rst_for(cb, now); /* RFC 9293 s3.10.5 ABORT */
    tcp_release(cb);
}

static int tcp_close(struct tern_sock *sk)
{
    struct tcp_cb *cb = tcp_cb_of(sk);
    uint64_t now = tern_loop_now(sk->s->loop);
    switch (cb->state) {
    case TCP_CLOSED:
    case TCP_LISTEN:
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED: /* DEVIATION: RFC 9293 queues a FIN; we reset */
        tcp_abort(sk);
        return TERN_OK;
    default:
        break;
    }
    /* RFC 1122 4.2.2.13 / RFC 9293 s3.10.4: unread data -> RST, not FIN. */
    if (cb->rings && ringbuf_len(&cb->rcv)) {
        tcp_abort(sk);
        return TERN_OK;
    }
    sk->shut_rd = sk->shut_wr = true;
    /* TIME-WAIT: nothing left to send - a small record from now on. */
    if (cb->state == TCP_TIME_WAIT && cb->parent == SOCK_NIL && tcp_tw_take(cb, now))
        return TERN_OK;
    close_send_side(cb, now);
    if (cb->state == TCP_FIN_WAIT_2 && !cb->t_2msl) {
        tcp_deadline(cb, &cb->t_2msl, now + 2 * sk->s->cfg.tcp_msl_us);
    }
    return TERN_OK;
}

static unsigned tcp_poll(const struct tern_sock *sk)
{
    const struct tcp_cb *cb = tcp_cb_of(sk);
    unsigned m = 0;
    if (cb->state == TCP_LISTEN)
        return cb->aq_head != SOCK_NIL ? TERN_POLLIN : 0;
    if ((cb->rings && ringbuf_len(&cb->rcv)) || sk->rd_got || cb->fin_rcvd || sk->shut_rd ||
        (cb->state == TCP_CLOSED && sk->connected))
        m |= TERN_POLLIN;
    if ((cb->state == TCP_ESTABLISHED || cb->state == TCP_CLOSE_WAIT) && !sk->shut_wr &&
        !cb->fin_pending && ringbuf_writable(&cb->snd) > 0)
        m |= TERN_POLLOUT;
    if (sk->so_error)
        m |= TERN_POLLERR;
    if (cb->state == TCP_CLOSED && sk->connected)
        m |= TERN_POLLHUP;
    else if (cb->fin_rcvd && (cb->fin_pending || sk->shut_wr))
        m |= TERN_POLLHUP;
    return m;
}

/* Bytes retransmitted and not yet acknowledged (Linux's retrans_out counts
 * segments): in RFC 6675 recovery up to HighRxt; after a timeout the
 * go-back-N range resent so far (at least the first segment); in NewReno
 * fast recovery the one segment resent. */
static uint32_t retrans_out(const struct tcp_cb *cb)
{
    uint32_t out = cb->snd_max - cb->snd_una;
    uint32_t one = cb->mss && cb->mss < out ? cb->mss : out;
    if (cb->sack_on && cb->cold && cb->cold->sb.in_recovery &&
        tern_seq_gt(cb->cold->sb.high_rxt_end, cb->snd_una))
        return cb->cold->sb.high_rxt_end - cb->snd_una;
    if (cb->rtx_count > 0) {
        uint32_t resent = cb->snd_nxt - cb->snd_una;
        return tern_seq_lt(cb->snd_nxt, cb->snd_max) && resent > one ? resent : one;
    }
    return cb->rec.in_recovery ? one : 0;
}

static void tcp_info(const struct tern_sock *sk, struct tern_sock_info *out)
{
    const struct tcp_cb *cb = tcp_cb_of(sk);
    out->type = TERN_SOCK_STREAM;
    out->state = tcp_state_name(cb->state);
    out->local = sk->local;
    if (sk->connected)
        out->peer = sk->peer;
    if (cb->state == TCP_LISTEN) {
        out->recv_q = cb->aq_len; /* ss: accept queue length and backlog */
        out->send_q = cb->backlog;
        return;
    }
    if (cb->rings) {
        out->recv_q = (uint32_t)ringbuf_len(&cb->rcv);
        out->send_q = (uint32_t)ringbuf_len(&cb->snd);
    }
    if (cb->state >= TCP_SYN_SENT) {
        out->rtt_us = (uint32_t)rtt_srtt_us(&cb->rtt);
        out->rttvar_us = (uint32_t)rtt_rttvar_us(&cb->rtt);
        out->rto_us = (uint32_t)rtt_rto(&cb->rtt);
        out->cwnd = cb->cc.cwnd;
        out->ssthresh = cb->cc.ssthresh;
        out->mss = cb->mss;
        out->retransmits = cb->retransmits;
        out->cc = cb->cc.ops ? cb->cc.ops->name : NULL;
        out->ts = cb->ts_ok;
        out->sack = cb->sack_ok;
        out->wscale = cb->ws_ok;
        out->snd_wscale = cb->snd_ws;
        out->rcv_wscale = cb->rcv_ws;
        out->backoff = cb->rtt.backoff;
        out->advmss = cb->rcv_mss;
        out->unacked = cb->snd_max - cb->snd_una;
        out->retrans_out = retrans_out(cb);
        out->snd_wnd = cb->snd_wnd;
        if (cb->rings) {
            uint32_t q = (uint32_t)ringbuf_len(&cb->snd);
            uint32_t sent = cb->snd_max - cb->snd_una;
            if (cb->state == TCP_SYN_SENT || cb->state == TCP_SYN_RECEIVED)
                sent = 0; /* the SYN is not in the ring */
            out->notsent = q > sent ? q - sent : 0;
        }
    }
}

static int tcp_setopt(struct tern_sock *sk, enum tern_sockopt opt, int value)
{
    struct tcp_cb *cb = tcp_cb_of(sk);
    uint64_t now = tern_loop_now(sk->s->loop);
    switch (opt) {
    case TERN_SO_RCVBUF:
    case TERN_SO_SNDBUF: {
        uint32_t v = (uint32_t)value;
        if (v < 1024)
            v = 1024;
        if (v > (64u << 20))
            v = 64u << 20;
        if (cb->rings)
            return TERN_OK; /* DEVIATION: fixed once the connection has started */
        if (opt == TERN_SO_RCVBUF)
            sk->rcvbuf = v;
        else
            sk->sndbuf = v;
        return TERN_OK;
    }
    case TERN_SO_KEEPALIVE:
        if (cb->state == TCP_ESTABLISHED || cb->state == TCP_CLOSE_WAIT) {
            tcp_arm_keepalive(cb, now);
            tcp_timer_update(cb);
        }
        return TERN_OK;
    case TERN_TCP_NODELAY:
        cb->nodelay = value != 0;
        if (cb->nodelay)
            tcp_output(cb, now);
        return TERN_OK;
    case TERN_TCP_MAXSEG:
        if (value < TERN_TCP_MSS_FLOOR || value > 65495)
            return TERN_E_INVAL;
        cb->user_mss = (uint16_t)value;
        return TERN_OK;
    case TERN_TCP_KEEPIDLE:
    case TERN_TCP_KEEPINTVL:
        if (value < 1 || value > 32767)
            return TERN_E_INVAL;
        if (opt == TERN_TCP_KEEPIDLE)
            cb->keepidle_s = (uint16_t)value;
        else
            cb->keepintvl_s = (uint16_t)value;
        tcp_keepalive_retime(cb, opt == TERN_TCP_KEEPIDLE, now);
        return TERN_OK;
    case TERN_TCP_KEEPCNT:
        if (value < 1 || value > 127)
            return TERN_E_INVAL;
        cb->keepcnt = (uint8_t)value;
        return TERN_OK;
    default:
        return TERN_E_OPNOTSUPP;
    }
}

static int tcp_getopt(const struct tern_sock *sk, enum tern_sockopt opt, int *value)
{
    const struct tcp_cb *cb = tcp_cb_of(sk);
    switch (opt) {
    case TERN_TCP_NODELAY: *value = cb->nodelay; return TERN_OK;
    /* Linux: the MSS in use once connected, else the user's cap or 536
     * (RFC 9293 s3.7.1 default). */
    case TERN_TCP_MAXSEG:
        *value = cb->mss ? cb->mss : cb->user_mss ? cb->user_mss : 536;
        return TERN_OK;
    case TERN_TCP_KEEPIDLE: *value = (int)cb->keepidle_s; return TERN_OK;
    case TERN_TCP_KEEPINTVL: *value = (int)cb->keepintvl_s; return TERN_OK;
    case TERN_TCP_KEEPCNT: *value = (int)cb->keepcnt; return TERN_OK;
    default: return TERN_E_OPNOTSUPP;
    }
}

const struct sock_proto_ops tcp_sock_ops = {
    .proto = TERN_IPPROTO_TCP,
    .open = tcp_open,
    .bind = tcp_bind,
    .connect = tcp_connect,
    .listen = tcp_listen,
    .accept = tcp_accept,
    .sendto = tcp_sendto,
    .flush = tcp_flush,
    .recvfrom = tcp_recvfrom,
    .shutdown = tcp_shutdown,
    .close = tcp_close,
    .abort = tcp_abort,
    .poll = tcp_poll,
    .info = tcp_info,
    .setopt = tcp_setopt,
    .getopt = tcp_getopt,
};
