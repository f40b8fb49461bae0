/*
 * src/app/http_server.c - static file server on the socket API (see
 * http_server.h): the listener and the connections. Per connection: READ
 * (parse a request) -> WRITE (head, then the body from memory or a file,
 * as send space allows: POLLOUT) -> READ again (keep-alive) or LINGER
 * (after a close-type response: shut down our side, read and discard until
 * EOF or 2 s, then close - so the client sees the response before any RST,
 * RFC 9112 s9.6). What to answer: http_server_files.c.
 * RFC 9112 s9.3 (persistence), s9.6 (tear-down). Exhaustion (ATTACKS G3):
 * idle_timeout_us while waiting for a request, request_timeout_us for the
 * whole request once it started, and a full table evicts the connection
 * waiting longest for its request (see http_server.h).
 */
#include "app/http_server_impl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tern/err.h"
#include "tern/wire/ipv4.h"

#define MAX_BODY 65536              /* request bodies are read and dropped; more: 413 */
#define LINGER_US 2000000ull

/* ---- connections ---- */

static void conn_free(struct http_srv_conn *c, bool abort)
{
    struct tern_http_server *srv = c->srv;
    tern_timer_cancel(srv->loop, &c->timer);
    if (c->file)
        fclose(c->file);
    free(c->mem);
    if (c->ts) {
        if (abort)
            srv->o.tls->abort(c->ts);
        else
            srv->o.tls->close(c->ts); /* close_notify, then FIN */
    } else if (abort) {
        tern_sock_abort(c->sk);
    } else {
        tern_sock_close(c->sk);
    }
    for (unsigned i = 0; i < srv->nconns; i++)
        if (srv->conns[i] == c) {
            srv->conns[i] = srv->conns[--srv->nconns];
            break;
        }
    free(c);
}

static void arm(struct http_srv_conn *c, uint64_t us)
{
    tern_timer_arm(c->srv->loop, &c->timer, tern_loop_now(c->srv->loop) + us);
}

static void on_timer(struct tern_timer *t, void *arg)
{
    (void)t;
    struct http_srv_conn *c = arg;
    if (c->phase != P_LINGER)
        c->srv->st.timeouts++;
    if (c->phase == P_READ && c->started)
        c->srv->st.request_timeouts++;
    conn_free(c, c->phase == P_WRITE);
}

static void log_response(struct http_srv_conn *c)
{
    if (!c->srv->o.log)
        return;
    char a[16];
    fprintf(c->srv->o.log, "%s:%u \"%s %s\" %d %llu\n", tern_ipv4_ntoa(c->peer.addr, a),
            c->peer.port, c->req.method ? c->req.method : "-", c->req.target ? c->req.target : "-",
            c->status, (unsigned long long)c->sent_body);
    fflush(c->srv->o.log);
}

enum wr { W_WAIT, W_DONE, W_GONE };

/* Sends as much as the socket takes. W_WAIT: waiting for POLLOUT; W_DONE:
 * the response is complete and c is reading again (next request, or
 * lingering before the close); W_GONE: c was freed. */
static enum wr do_write(struct http_srv_conn *c)
{
    for (;;) {
        const char *p;
        size_t n;
        bool body = false;
        if (c->out_off < c->out_len) {
            p = c->out + c->out_off;
            n = c->out_len - c->out_off;
        } else if (c->mem_off < c->mem_len) {
            p = c->mem + c->mem_off;
            n = c->mem_len - c->mem_off;
            body = true;
        } else if (c->file && c->file_left) {
            size_t want = c->file_left < HTTP_SRV_OUT_MAX ? (size_t)c->file_left : HTTP_SRV_OUT_MAX;
            size_t got = fread(c->out, 1, want, c->file);
            if (got == 0) { /* the file shrank or failed: the framing is broken, abort */
                log_response(c);
                conn_free(c, true);
                return W_GONE;
            }
            c->file_left -= got;
            c->out_off = 0;
            c->out_len = got;
            c->srv->st.body_bytes += got;
            c->sent_body += got;
            continue;
        } else {
            break;
        }
        ssize_t k = c->ts ? c->srv->o.tls->send(c->ts, p, n) : tern_sock_send(c->sk, p, n, 0);
        if (k == TERN_E_AGAIN)
            return W_WAIT; /* POLLOUT will call us again */
        if (k < 0) {
            conn_free(c, true);
            return W_GONE;
        }
        if (body) {
            c->mem_off += (size_t)k;
            c->sent_body += (size_t)k;
        } else {
            c->out_off += (size_t)k;
        }
        arm(c, c->srv->o.idle_timeout_us); /* progress */
    }
    /* the whole response is queued */
    log_response(c);
    if (c->file) {
        fclose(c->file);
        c->file = NULL;
    }
    free(c->mem);
    c->mem = NULL;
    c->mem_len = c->mem_off = c->out_len = c->out_off = 0;
    c->sent_body = 0;
    if (c->close_after) {
        c->phase = P_LINGER;
        if (c->ts)
            c->srv->o.tls->shutdown(c->ts); /* RFC 8446 s6.1: close_notify, then FIN */
        else
            tern_sock_shutdown(c->sk, TERN_SHUT_WR);
        arm(c, LINGER_US);
        return W_DONE;
    }
    c->phase = P_READ;
    c->since = tern_loop_now(c->srv->loop);
    c->started = false;
    http_req_init(&c->req, MAX_BODY);
    arm(c, c->srv->o.idle_timeout_us);
    return W_DONE; /* the caller reads on: a pipelined request may be waiting */
}

/* Reads and answers requests until the socket has no more data, a
 * response waits for send space, or c is freed. Iterative (no recursion
 * however many requests are pipelined). */
static void do_read(struct http_srv_conn *c)
{
    for (;;) {
        if (c->phase == P_WRITE)
            return;
        if (c->in_off == c->in_len) {
            ssize_t n = c->ts ? c->srv->o.tls->recv(c->ts, c->in, sizeof c->in)
                              : tern_sock_recv(c->sk, c->in, sizeof c->in, 0);
            if (n == TERN_E_AGAIN)
                return;
            if (n <= 0) { /* EOF or error */
                conn_free(c, n < 0);
                return;
            }
            c->in_off = 0;
            c->in_len = (size_t)n;
        }
        if (c->phase == P_LINGER) {
            c->in_off = c->in_len = 0; /* discarded */
            continue;
        }
        if (!c->started && c->in_off < c->in_len) {
            /* a request begins: all of it must be in within request_timeout_us
             * from now, however slowly it trickles (a slowloris client that
             * sends a byte now and then no longer holds the slot) */
            c->started = true;
            arm(c, c->srv->o.request_timeout_us);
        }
        while (c->in_off < c->in_len && c->req.state != TERN_HTTP_DONE &&
               c->req.state != TERN_HTTP_ERROR)
            c->in_off += http_req_feed(&c->req, c->in + c->in_off, c->in_len - c->in_off,
                                            NULL, NULL); /* request bodies are dropped */
        if (c->req.state == TERN_HTTP_DONE || c->req.state == TERN_HTTP_ERROR) {
            http_srv_handle(c);
            if (do_write(c) != W_DONE)
                return; /* waiting for POLLOUT, or gone */
        }
    }
}

static void on_conn(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)sk;
    struct http_srv_conn *c = ctx;
    if (c->phase == P_WRITE && (events & TERN_POLLOUT)) {
        if (do_write(c) != W_DONE)
            return;
        do_read(c);
        return;
    }
    if ((events & (TERN_POLLIN | TERN_POLLHUP)) && c->phase != P_WRITE) {
        do_read(c);
        return;
    }
    if (events & TERN_POLLERR) {
        int e = tern_sock_error(c->sk);
        if (e < 0)
            conn_free(c, true);
    }
}

/* Every slot taken: the connection that has waited longest for its request
 * (or is lingering in its close) makes room - it has cost the server
 * nothing yet - so slow or silent clients cannot lock the others out. NULL
 * when every connection is busy answering a request. */
static bool evict_waiting(struct tern_http_server *srv)
{
    struct http_srv_conn *v = NULL;
    for (unsigned i = 0; i < srv->nconns; i++) {
        struct http_srv_conn *c = srv->conns[i];
        if (c->phase == P_WRITE)
            continue;
        if (!v || (c->phase == P_LINGER) > (v->phase == P_LINGER) ||
            ((c->phase == P_LINGER) == (v->phase == P_LINGER) && c->since < v->since))
            v = c;
    }
    if (!v)
        return false;
    srv->st.evicted++;
    conn_free(v, false);
    return true;
}

/* TLS: the stream says something may have changed (no event bits). */
static void on_tls_conn(struct tstream *ts, void *ctx)
{
    (void)ts;
    struct http_srv_conn *c = ctx;
    if (c->phase == P_WRITE) {
        if (do_write(c) != W_DONE)
            return;
    }
    do_read(c); /* also reports a failed handshake or an alert: recv < 0 frees c */
}

static void on_listen(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)events;
    struct tern_http_server *srv = ctx;
    for (;;) {
        struct tern_sockaddr peer;
        int err = 0;
        struct tern_sock *nsk = tern_sock_accept(sk, &peer, &err);
        if (!nsk)
            return;
        if (srv->nconns >= srv->o.max_conns)
            evict_waiting(srv);
        struct http_srv_conn *c = srv->nconns < srv->o.max_conns ? calloc(1, sizeof *c) : NULL;
        if (!c) {
            srv->st.refused++;
            tern_sock_abort(nsk);
            continue;
        }
        srv->st.accepted++;
        c->srv = srv;
        c->sk = nsk;
        c->peer = peer;
        c->phase = P_READ;
        c->since = tern_loop_now(srv->loop);
        http_req_init(&c->req, MAX_BODY);
        tern_timer_init(&c->timer, on_timer, c);
        srv->conns[srv->nconns++] = c;
        arm(c, srv->o.idle_timeout_us);
        if (srv->o.tls) {
            c->sk = NULL;
            /* the idle timer bounds the handshake too */
            c->ts = srv->o.tls->wrap(srv->loop, nsk, srv->o.tls->ctx, NULL, srv->o.idle_timeout_us,
                                     on_tls_conn, c);
            if (!c->ts) {
                tern_timer_cancel(srv->loop, &c->timer);
                srv->conns[--srv->nconns] = NULL;
                free(c);
            }
            continue;
        }
        tern_sock_set_handler(nsk, TERN_POLLIN | TERN_POLLOUT, on_conn, c);
        do_read(c);
    }
}

struct tern_http_server *http_server_start(struct tern_stack *s, struct tern_loop *loop,
                                                const struct tern_http_server_opts *o, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    *err = TERN_E_INVAL;
    if (!s || !loop || !o || !o->root)
        return NULL;
    struct tern_http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        *err = TERN_E_NOMEM;
        return NULL;
    }
    srv->stack = s;
    srv->loop = loop;
    srv->o = *o;
    if (!srv->o.port)
        srv->o.port = 80;
    if (!srv->o.max_conns)
        srv->o.max_conns = 64;
    if (!srv->o.backlog)
        srv->o.backlog = 16;
    if (!srv->o.idle_timeout_us)
        srv->o.idle_timeout_us = 30000000ull;
    if (!srv->o.request_timeout_us)
        srv->o.request_timeout_us = 10000000ull;
    struct stat sb;
    if (!realpath(o->root, srv->root) || stat(srv->root, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        free(srv);
        return NULL;
    }
    if (!(srv->conns = calloc(srv->o.max_conns, sizeof *srv->conns))) {
        free(srv);
        *err = TERN_E_NOMEM;
        return NULL;
    }
    int r = 0;
    srv->listener = tern_sock_open(s, TERN_SOCK_STREAM, &r);
    if (!srv->listener)
        goto fail;
    tern_sock_setopt(srv->listener, TERN_SO_REUSEADDR, 1);
    tern_sock_setopt(srv->listener, TERN_SO_PRIVILEGED, 1); /* the operator chose the port */
    struct tern_sockaddr local = {.addr = o->addr, .port = srv->o.port};
    if ((r = tern_sock_bind(srv->listener, &local)) < 0 ||
        (r = tern_sock_listen(srv->listener, srv->o.backlog)) < 0)
        goto fail;
    tern_sock_set_handler(srv->listener, TERN_POLLIN, on_listen, srv);
    return srv;
fail:
    *err = r;
    if (srv->listener)
        tern_sock_abort(srv->listener);
    free(srv->conns);
    free(srv);
    return NULL;
}

const struct http_server_stats *http_server_stats(const struct tern_http_server *srv)
{
    return &srv->st;
}

unsigned http_server_conns(const struct tern_http_server *srv)
{
    return srv->nconns;
}

void http_server_free(struct tern_http_server *srv)
{
    if (!srv)
        return;
    while (srv->nconns)
        conn_free(srv->conns[srv->nconns - 1], true);
    tern_sock_abort(srv->listener);
    free(srv->conns);
    free(srv);
}
