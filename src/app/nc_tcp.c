/*
 * src/app/nc_tcp.c - TCP netcat (see nc.h): connect or accept one
 * connection, input -> the stream with back-pressure, the stream -> output,
 * end of input -> half-close.
 *
 * Follows Debian's netcat-openbsd: `nc -N` (shutdown(SHUT_WR) after end of
 * input, RFC 9293 s3.6 "CLOSE ... the user ... can continue to RECEIVE
 * until ... the other side has CLOSED"), a run that ends when both
 * directions have ended (nc's readwrite() returns once stdin and the
 * network are both at EOF), `-l` accepting one connection and closing the
 * listener, `-w` bounding the connect. Messages name the peer and the
 * error as Linux's strerror words them ("Connection refused" ->
 * "connection refused", ETIMEDOUT -> "connection timed out").
 * Keep-alives (--keepalive, RFC 1122 s4.2.3.6) are the socket options
 * SO_KEEPALIVE, TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, as Linux programs set them.
 * DEVIATION: -w bounds only the connect; OpenBSD nc also ends an
 * established connection idle for -w seconds.
 */
#include <stdlib.h>
#include <string.h>

#include "app/nc_impl.h"
#include "tern/err.h"
#include "tern/wire/ipv4.h"

static void tcp_fail(struct tern_nc *nc, int err)
{
    if (nc->io.err) {
        char a[16];
        const char *why = err == TERN_E_TIMEDOUT ? "connection timed out" : tern_strerror(err);
        fprintf(nc->io.err, "tern nc: %s port %u: %s\n", tern_ipv4_ntoa(nc->peer.addr, a),
                nc->peer.port, why);
        fflush(nc->io.err);
    }
    nc_finish(nc, 1);
}

#define LINGER_POLL_US 5000 /* how often a finished run checks for its FIN's ACK */

/* Everything we sent, FIN included, is acknowledged (FIN-WAIT-2,
 * TIME-WAIT, or CLOSED after LAST-ACK), or the connection is gone. */
static bool delivered(struct tern_nc *nc)
{
    struct tern_sockaddr local;
    struct tern_sock_info rows[8];
    if (tern_sock_getsockname(nc->sk, &local) < 0)
        return true;
    size_t n = tern_sock_list(nc->stack, rows, 8);
    for (size_t i = 0; i < n && i < 8; i++) {
        const struct tern_sock_info *r = &rows[i];
        if (r->type != TERN_SOCK_STREAM || r->local.port != local.port ||
            r->peer.addr != nc->peer.addr || r->peer.port != nc->peer.port)
            continue;
        return !strcmp(r->state, "FIN_WAIT2") || !strcmp(r->state, "TIME_WAIT") ||
               !strcmp(r->state, "CLOSE");
    }
    return true;
}

/* Both directions have ended. A kernel's nc exits here and the kernel goes
 * on delivering what is queued; our stack lives in this process, so the
 * run ends only once the peer has acknowledged all of it, FIN included
 * (RFC 9293 s3.6: CLOSE hands the data over "reliably"): through loss the
 * peer may close before our last segments arrive. A reset or the stack
 * giving up ends it through on_stream's POLLERR (status 1); -q still bounds
 * it. */
static void maybe_done(struct tern_nc *nc)
{
    if (nc->finished || !nc->peer_eof || !nc->shut_wr)
        return;
    if (tern_sock_poll(nc->sk) & TERN_POLLERR)
        return; /* on_stream reports it */
    if (delivered(nc))
        nc_finish(nc, 0);
    else
        tern_timer_arm(nc->loop, &nc->linger_timer, tern_loop_now(nc->loop) + LINGER_POLL_US);
}

void nc_tcp_linger(struct tern_timer *t, void *arg)
{
    (void)t;
    maybe_done(arg);
}

static void half_close(struct tern_nc *nc)
{
    int r = tern_sock_shutdown(nc->sk, TERN_SHUT_WR);
    if (r < 0 && r != TERN_E_NOTCONN) {
        tcp_fail(nc, r);
        return;
    }
    nc->shut_wr = true;
    nc_arm_quit(nc);
    maybe_done(nc);
}

/* Sends what is held. 1: nothing left, 0: wait for POLLOUT, < 0: failed
 * (reported). */
static int flush(struct tern_nc *nc)
{
    while (nc->pending_off < nc->pending_len) {
        ssize_t n = tern_sock_send(nc->sk, nc->pending + nc->pending_off,
                                   nc->pending_len - nc->pending_off, 0);
        if (n == TERN_E_AGAIN)
            return 0;
        if (n < 0) {
            tcp_fail(nc, (int)n);
            return (int)n;
        }
        nc->pending_off += (size_t)n;
    }
    nc->pending_off = nc->pending_len = 0;
    return 1;
}

/* Output side is free again: send what is held, then ask for more input
 * or half-close after the end of input. */
static void pump_out(struct tern_nc *nc)
{
    if (nc->finished || nc->shut_wr || flush(nc) != 1 || nc->finished)
        return;
    if (nc->eof)
        half_close(nc);
    else if (nc->io.want_input)
        nc->io.want_input(nc->io.ctx, true);
}

static void pump_in(struct tern_nc *nc)
{
    while (!nc->peer_eof && !nc->finished) {
        ssize_t n = tern_sock_recv(nc->sk, nc->buf, NC_BUF, 0);
        if (n == TERN_E_AGAIN)
            return;
        if (n < 0) {
            tcp_fail(nc, (int)n); /* "connection reset by peer", ... */
            return;
        }
        if (n == 0) {
            nc->peer_eof = true;
            maybe_done(nc);
            return;
        }
        if (nc->io.out) {
            fwrite(nc->buf, 1, (size_t)n, nc->io.out);
            fflush(nc->io.out);
        }
    }
}

static void connected(struct tern_nc *nc)
{
    nc->connected = true;
    tern_timer_cancel(nc->loop, &nc->connect_timer);
    pump_out(nc); /* input on, or the half-close if input already ended */
}

static void on_stream(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tern_nc *nc = ctx;
    if (nc->finished)
        return;
    if (!nc->connected) {
        int e = (events & (TERN_POLLERR | TERN_POLLHUP)) ? tern_sock_error(sk) : 0;
        if (e < 0) {
            tcp_fail(nc, e); /* refused (RST to our SYN), timed out, unreachable */
            return;
        }
        if (!(tern_sock_poll(sk) & TERN_POLLOUT))
            return;
        connected(nc);
        if (nc->finished)
            return;
    }
    pump_in(nc);
    if (!nc->finished && (events & TERN_POLLOUT))
        pump_out(nc);
    if (!nc->finished && (events & TERN_POLLERR)) {
        int e = tern_sock_error(sk);
        if (e < 0)
            tcp_fail(nc, e);
    }
}

static void on_listener(struct tern_sock *lsk, unsigned events, void *ctx)
{
    struct tern_nc *nc = ctx;
    (void)events;
    if (nc->finished || nc->sk)
        return;
    int err = 0;
    struct tern_sock *sk = tern_sock_accept(lsk, &nc->peer, &err);
    if (!sk) {
        if (err != TERN_E_AGAIN) {
            nc_report(nc, err, "accept");
            nc_finish(nc, 1);
        }
        return;
    }
    /* one connection, as OpenBSD nc -l without -k: the listener goes */
    tern_sock_close(lsk);
    nc->lsk = NULL;
    nc->sk = sk;
    nc->have_peer = true;
    tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, on_stream, nc);
    connected(nc);
}

void nc_tcp_connect_timeout(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_nc *nc = arg;
    if (nc->finished || nc->connected)
        return;
    /* stop the SYN retries now rather than at close */
    tern_sock_abort(nc->sk);
    nc->sk = NULL;
    tcp_fail(nc, TERN_E_TIMEDOUT);
}

int nc_tcp_open(struct tern_nc *nc)
{
    const struct tern_nc_opts *o = &nc->o;
    int r = 0;
    struct tern_sock *sk = tern_sock_open(nc->stack, TERN_SOCK_STREAM, &r);
    if (!sk)
        return r ? r : TERN_E_NOMEM;
    if (o->listen)
        nc->lsk = sk;
    else
        nc->sk = sk;
    /* the user at the terminal may bind low ports, as root may with nc */
    if ((r = tern_sock_setopt(sk, TERN_SO_PRIVILEGED, 1)) < 0)
        return r;
    if (o->listen && (r = tern_sock_setopt(sk, TERN_SO_REUSEADDR, 1)) < 0)
        return r;
    /* RFC 1122 s4.2.3.6 keep-alives, set before the connection exists (an
     * accepted connection inherits them from the listener) */
    if (o->keepalive) {
        if ((o->keepidle_s && (r = tern_sock_setopt(sk, TERN_TCP_KEEPIDLE, (int)o->keepidle_s)) < 0) ||
            (o->keepintvl_s &&
             (r = tern_sock_setopt(sk, TERN_TCP_KEEPINTVL, (int)o->keepintvl_s)) < 0) ||
            (o->keepcnt && (r = tern_sock_setopt(sk, TERN_TCP_KEEPCNT, (int)o->keepcnt)) < 0) ||
            (r = tern_sock_setopt(sk, TERN_SO_KEEPALIVE, 1)) < 0)
            return r;
    }
    if (o->listen || o->local_port || o->local_addr) {
        struct tern_sockaddr local = {.addr = o->local_addr, .port = o->local_port};
        if ((r = tern_sock_bind(sk, &local)) < 0)
            return r;
    }
    if (o->listen) {
        if ((r = tern_sock_listen(sk, 1)) < 0)
            return r;
        tern_sock_set_handler(sk, TERN_POLLIN, on_listener, nc);
        return 0;
    }
    nc->peer = (struct tern_sockaddr){.addr = o->peer_addr, .port = o->peer_port};
    nc->have_peer = true;
    tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, on_stream, nc);
    r = tern_sock_connect(sk, &nc->peer);
    if (r < 0 && r != TERN_E_INPROGRESS)
        return r; /* no route, no port, ... */
    if (o->connect_timeout_us)
        tern_timer_arm(nc->loop, &nc->connect_timer,
                       tern_loop_now(nc->loop) + o->connect_timeout_us);
    return 0;
}

int nc_tcp_input(struct tern_nc *nc, const void *buf, size_t len)
{
    if (!nc->connected)
        return TERN_E_NOTCONN;
    if (nc->pending_len)
        return TERN_E_AGAIN; /* input was asked to stop; the caller fed us anyway */
    if (len > NC_BUF)
        return TERN_E_MSGSIZE;
    size_t done = 0;
    while (done < len) {
        ssize_t n = tern_sock_send(nc->sk, (const uint8_t *)buf + done, len - done, 0);
        if (n == TERN_E_AGAIN)
            break;
        if (n < 0) {
            tcp_fail(nc, (int)n);
            return (int)n;
        }
        done += (size_t)n;
    }
    if (done < len) {
        /* the send queue is full: hold the rest, no input until POLLOUT */
        memcpy(nc->pending, (const uint8_t *)buf + done, len - done);
        nc->pending_off = 0;
        nc->pending_len = len - done;
        if (nc->io.want_input)
            nc->io.want_input(nc->io.ctx, false);
    }
    return 0;
}

void nc_tcp_input_eof(struct tern_nc *nc)
{
    nc->eof = true;
    if (nc->io.want_input)
        nc->io.want_input(nc->io.ctx, false);
    if (nc->connected && !nc->pending_len)
        half_close(nc); /* else once connected / once the held bytes are queued */
}
