/*
 * src/app/nc.c - netcat as an event-driven app (see nc.h): the entry
 * points and UDP; TCP is in nc_tcp.c.
 *
 * Follows OpenBSD netcat 1.219 (Debian's netcat-openbsd) with -u: a
 * client connect()s its UDP socket; a listener waits for one datagram,
 * then connect()s to its sender (readwrite() after "connect" in nc's
 * main), so datagrams from anyone else are ignored. A pending ICMP port
 * unreachable on the connected socket ends the run with "connection
 * refused" and status 1, as nc's "read(net): Connection refused".
 */
#include "app/nc_impl.h"

#include <stdlib.h>
#include <string.h>

#include "tern/err.h"
#include "tern/wire/ipv4.h"

#define RETRY_US 10000ull          /* try a held chunk again every 10 ms ... */
#define RETRY_GIVEUP_US 5000000ull /* ... for at most 5 s */

void nc_finish(struct tern_nc *nc, int status)
{
    if (nc->finished)
        return;
    nc->finished = true;
    tern_timer_cancel(nc->loop, &nc->quit_timer);
    tern_timer_cancel(nc->loop, &nc->retry_timer);
    tern_timer_cancel(nc->loop, &nc->connect_timer);
    tern_timer_cancel(nc->loop, &nc->linger_timer);
    if (nc->io.want_input && !nc->eof)
        nc->io.want_input(nc->io.ctx, false);
    if (nc->io.done)
        nc->io.done(nc->io.ctx, status);
}

void nc_report(struct tern_nc *nc, int err, const char *what)
{
    if (!nc->io.err)
        return;
    char a[16];
    if (err == TERN_E_CONNREFUSED && nc->have_peer)
        fprintf(nc->io.err, "tern nc: %s port %u: connection refused (ICMP port unreachable)\n",
                tern_ipv4_ntoa(nc->peer.addr, a), nc->peer.port);
    else
        fprintf(nc->io.err, "tern nc: %s: %s\n", what, tern_strerror(err));
    fflush(nc->io.err);
}

static void on_quit(struct tern_timer *t, void *arg)
{
    (void)t;
    nc_finish(arg, 0);
}

void nc_arm_quit(struct tern_nc *nc)
{
    if (nc->o.quit_after_eof_us != TERN_TIME_NEVER)
        tern_timer_arm(nc->loop, &nc->quit_timer,
                       tern_loop_now(nc->loop) + nc->o.quit_after_eof_us);
}

/* Sends the held chunk. 0 sent, TERN_E_AGAIN still held, < 0 fatal. */
static bool is_group(uint32_t a) { return (a >> 28) == 0xe; }

/* Multicast: every datagram is printed, from whoever sent it. */
static bool any_sender(const struct tern_nc *nc)
{
    return nc->o.join || (!nc->o.listen && is_group(nc->o.peer_addr));
}

static ssize_t send_one(struct tern_nc *nc, const void *buf, size_t len)
{
    if (!nc->o.listen && is_group(nc->o.peer_addr))
        return tern_sock_sendto(nc->sk, buf, len, 0, &nc->peer); /* unconnected */
    return tern_sock_send(nc->sk, buf, len, 0);
}

static int send_pending(struct tern_nc *nc)
{
    ssize_t r = send_one(nc, nc->pending, nc->pending_len);
    if (r == TERN_E_AGAIN || r == TERN_E_NOMEM) {
        /* the send queue or ARP's queue is full: hold the chunk, stop input */
        if (tern_loop_now(nc->loop) - nc->pending_since < RETRY_GIVEUP_US) {
            tern_timer_arm(nc->loop, &nc->retry_timer, tern_loop_now(nc->loop) + RETRY_US);
            return TERN_E_AGAIN;
        }
    }
    nc->pending_len = 0;
    if (r < 0) {
        nc_report(nc, (int)r, "send");
        nc_finish(nc, 1);
        return (int)r;
    }
    return 0;
}

static void on_retry(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_nc *nc = arg;
    if (nc->finished || !nc->pending_len || send_pending(nc) != 0)
        return;
    if (nc->eof)
        nc_arm_quit(nc);
    else if (nc->io.want_input)
        nc->io.want_input(nc->io.ctx, true);
}

static void take_peer(struct tern_nc *nc, const struct tern_sockaddr *from)
{
    int r = tern_sock_connect(nc->sk, from);
    nc->peer = *from;
    nc->have_peer = true;
    if (r < 0) {
        nc_report(nc, r, "connect");
        nc_finish(nc, 1);
        return;
    }
    if (nc->io.want_input && !nc->eof)
        nc->io.want_input(nc->io.ctx, true);
}

static void on_ready(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tern_nc *nc = ctx;
    if (nc->finished)
        return;
    for (int guard = 0; guard < 1000000; guard++) {
        struct tern_sockaddr from;
        int fl = 0;
        ssize_t n = tern_sock_recvfrom(sk, nc->buf, NC_BUF, 0, &from, &fl);
        if (n == TERN_E_AGAIN)
            break;
        if (n < 0) {
            nc_report(nc, (int)n, "receive");
            nc_finish(nc, 1);
            return;
        }
        if (any_sender(nc)) {
            /* a group member prints what any member sends */
        } else if (!nc->have_peer) {
            take_peer(nc, &from);
            if (nc->finished)
                return;
        } else if (from.addr != nc->peer.addr || from.port != nc->peer.port) {
            continue; /* queued before the listener connected */
        }
        if (nc->io.out && n > 0) {
            fwrite(nc->buf, 1, (size_t)n, nc->io.out);
            fflush(nc->io.out);
        }
    }
    if (events & TERN_POLLERR) {
        int e = tern_sock_error(sk);
        if (e < 0) {
            nc_report(nc, e, "receive");
            nc_finish(nc, 1);
        }
    }
}

struct tern_nc *nc_start(struct tern_stack *s, struct tern_loop *loop,
                              const struct tern_nc_opts *o, const struct tern_nc_io *io, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    if (!s || !loop || !o || !io || (!o->listen && (!o->peer_addr || !o->peer_port))) {
        *err = TERN_E_INVAL;
        return NULL;
    }
    struct tern_nc *nc = calloc(1, sizeof *nc);
    if (!nc || !(nc->buf = malloc(NC_BUF)) || !(nc->pending = malloc(NC_BUF))) {
        if (nc)
            free(nc->buf);
        free(nc);
        *err = TERN_E_NOMEM;
        return NULL;
    }
    nc->stack = s;
    nc->loop = loop;
    nc->o = *o;
    nc->io = *io;
    tern_timer_init(&nc->quit_timer, on_quit, nc);
    tern_timer_init(&nc->retry_timer, on_retry, nc);
    tern_timer_init(&nc->connect_timer, nc_tcp_connect_timeout, nc);
    tern_timer_init(&nc->linger_timer, nc_tcp_linger, nc);
    int r = 0;
    if (o->tcp) {
        if ((r = nc_tcp_open(nc)) < 0)
            goto fail;
        *err = TERN_OK;
        return nc;
    }
    nc->sk = tern_sock_open(s, TERN_SOCK_DGRAM, &r);
    if (!nc->sk)
        goto fail;
    /* the user at the terminal may bind low ports, as root may with nc */
    if ((r = tern_sock_setopt(nc->sk, TERN_SO_PRIVILEGED, 1)) < 0)
        goto fail;
    if (o->join && !is_group(o->join)) {
        r = TERN_E_INVAL;
        goto fail;
    }
    /* Group members share the port (SO_REUSEADDR, as Linux receivers do). */
    if (o->join && (r = tern_sock_setopt(nc->sk, TERN_SO_REUSEADDR, 1)) < 0)
        goto fail;
    if (o->mcast_ttl && (r = tern_sock_setopt(nc->sk, TERN_IP_MULTICAST_TTL, o->mcast_ttl)) < 0)
        goto fail;
    if (o->listen || o->local_port || o->local_addr || o->join) {
        uint16_t port = o->local_port ? o->local_port : o->join ? o->peer_port : 0;
        struct tern_sockaddr local = {.addr = o->local_addr, .port = port};
        if ((r = tern_sock_bind(nc->sk, &local)) < 0)
            goto fail;
    }
    if (o->join && (r = tern_sock_join(nc->sk, o->join, -1)) < 0)
        goto fail;
    tern_sock_set_handler(nc->sk, TERN_POLLIN, on_ready, nc);
    if (!o->listen) {
        struct tern_sockaddr peer = {.addr = o->peer_addr, .port = o->peer_port};
        if (!is_group(o->peer_addr) && (r = tern_sock_connect(nc->sk, &peer)) < 0)
            goto fail;
        nc->peer = peer;
        nc->have_peer = true;
        if (io->want_input)
            io->want_input(io->ctx, true);
    }
    *err = TERN_OK;
    return nc;
fail:
    *err = r ? r : TERN_E_NOMEM;
    nc_free(nc);
    return NULL;
}

int nc_input(struct tern_nc *nc, const void *buf, size_t len)
{
    if (nc->finished || nc->eof)
        return TERN_E_PIPE;
    if (nc->o.tcp)
        return nc_tcp_input(nc, buf, len);
    if (!nc->have_peer)
        return TERN_E_DESTADDRREQ;
    if (nc->pending_len)
        return TERN_E_AGAIN; /* input was asked to stop; the caller fed us anyway */
    if (len == 0) {
        /* an empty datagram is a datagram; never held */
        ssize_t r = send_one(nc, buf, 0);
        if (r < 0 && r != TERN_E_AGAIN && r != TERN_E_NOMEM) {
            nc_report(nc, (int)r, "send");
            nc_finish(nc, 1);
            return (int)r;
        }
        return 0;
    }
    if (len > NC_BUF)
        len = NC_BUF;
    memcpy(nc->pending, buf, len);
    nc->pending_len = len;
    nc->pending_since = tern_loop_now(nc->loop);
    int r = send_pending(nc);
    if (r == TERN_E_AGAIN && nc->io.want_input)
        nc->io.want_input(nc->io.ctx, false);
    return r == TERN_E_AGAIN ? 0 : r;
}

void nc_input_eof(struct tern_nc *nc)
{
    if (nc->eof || nc->finished)
        return;
    if (nc->o.tcp) {
        nc_tcp_input_eof(nc);
        return;
    }
    nc->eof = true;
    if (nc->io.want_input)
        nc->io.want_input(nc->io.ctx, false);
    if (!nc->pending_len)
        nc_arm_quit(nc); /* else once the held chunk is out */
}

void nc_stop(struct tern_nc *nc)
{
    nc_finish(nc, 0);
}

void nc_free(struct tern_nc *nc)
{
    if (!nc)
        return;
    tern_timer_cancel(nc->loop, &nc->quit_timer);
    tern_timer_cancel(nc->loop, &nc->retry_timer);
    tern_timer_cancel(nc->loop, &nc->connect_timer);
    tern_timer_cancel(nc->loop, &nc->linger_timer);
    if (nc->lsk)
        tern_sock_close(nc->lsk);
    if (nc->sk)
        tern_sock_close(nc->sk);
    free(nc->buf);
    free(nc->pending);
    free(nc);
}
