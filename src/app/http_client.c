/*
 * src/app/http_client.c - one HTTP/1.1 GET over the socket API (see
 * http_client.h). Steps: [resolve] -> connect (POLLOUT or POLLERR reports
 * the outcome) -> send the request -> read and parse the response
 * incrementally (http_msg.c), body to io.out -> done.
 * RFC 9110 s7.2 (Host), s9.3.1 (GET); RFC 9112 s6.3 (body length), s9.6.
 */
#include "app/http_client.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/http_msg.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/wire/ipv4.h"

#define RX_BUF 16384

struct tern_http_get {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_http_get_opts o;
    struct tern_http_get_io io;
    struct tern_http_url url;
    struct tern_resolve *rq;
    struct tern_sock *sk;
    struct tstream *ts;   /* https: the TLS stream that owns the socket */
    struct tern_timer timer, start_timer;
    uint64_t started, resp_started;
    bool connected, finished, any_reply;
    unsigned redirects;
    char cur[4200];                 /* the URL being fetched (after redirects) */
    char req[4096 + 512];
    size_t req_len, req_off;
    uint8_t rx[RX_BUF];
    struct tern_http_resp resp; /* large: last */
};

__attribute__((format(printf, 2, 3))) static void msg(struct tern_http_get *g, const char *fmt, ...)
{
    if (!g->io.err)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("tern get: ", g->io.err);
    vfprintf(g->io.err, fmt, ap);
    fputc('\n', g->io.err);
    fflush(g->io.err);
    va_end(ap);
}

static void progress(struct tern_http_get *g, bool final)
{
    if (!g->io.progress)
        return;
    uint64_t now = tern_loop_now(g->loop);
    struct tern_http_progress p = {.bytes = g->resp.body.received,
                                   .total = g->resp.has_length ? (int64_t)g->resp.content_length : -1,
                                   .elapsed_us = now - g->started,
                                   .final = final};
    uint64_t dt = g->resp_started ? now - g->resp_started : 0;
    p.rate = dt ? (double)p.bytes * 1e6 / (double)dt : 0;
    g->io.progress(g->io.ctx, &p);
}

static void finish(struct tern_http_get *g, int status)
{
    if (g->finished)
        return;
    g->finished = true;
    tern_timer_cancel(g->loop, &g->timer);
    tern_timer_cancel(g->loop, &g->start_timer);
    if (g->resp_started)
        progress(g, true);
    if (g->io.out)
        fflush(g->io.out);
    if (g->sk) {
        tern_sock_close(g->sk);
        g->sk = NULL;
    }
    if (g->ts) {
        g->o.tls->close(g->ts);
        g->ts = NULL;
    }
    if (g->io.done)
        g->io.done(g->io.ctx, status);
}

static const char *net_error(int e)
{
    switch (e) {
    case TERN_E_CONNREFUSED: return "connection refused";
    case TERN_E_CONNRESET: return "connection reset by peer";
    case TERN_E_TIMEDOUT: return "connection timed out";
    case TERN_E_HOSTUNREACH: return "host unreachable";
    case TERN_E_NETUNREACH: return "network unreachable (no route)";
    default: return tern_strerror(e);
    }
}

/* A socket error: while connecting curl's 7 (28 for a timeout), later 55
 * (sending the request) or 56 (receiving). */
static void fail_net(struct tern_http_get *g, int e)
{
    msg(g, "%s port %u: %s", g->url.host, g->url.port, net_error(e));
    finish(g, e == TERN_E_TIMEDOUT               ? TERN_GET_TIMEOUT
              : !g->connected                    ? TERN_GET_CONNECT
              : g->req_off < g->req_len          ? TERN_GET_SEND_ERROR
                                                 : TERN_GET_RECV_ERROR);
}

static void on_timer(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_http_get *g = arg;
    msg(g, "%s port %u: %s", g->url.host, g->url.port,
        !g->connected ? "connection timed out" : "timed out waiting for data");
    finish(g, TERN_GET_TIMEOUT);
}

/* RFC 9110 s15.4: the redirections a user agent may follow automatically. */
static bool is_redirect(int st)
{
    return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

/* This response is followed (-L), not written. */
static bool following(const struct tern_http_get *g)
{
    return g->o.follow && is_redirect(g->resp.status) &&
           http_resp_field(&g->resp, "Location") != NULL;
}

/* The body is not written: a redirect we follow, or an error with -f. */
static bool suppressed(const struct tern_http_get *g)
{
    return following(g) || (g->o.fail && g->resp.status >= 400);
}

static int build_request(struct tern_http_get *g);
static void on_start(struct tern_timer *t, void *arg);

/* RFC 3986 s5.2 (simplified): Location against the current URL, into out. */
static int resolve_ref(const struct tern_http_get *g, const char *loc, char *out, size_t cap)
{
    int n;
    const char *colon = strchr(loc, ':'), *slash = strchr(loc, '/');
    if (colon && (!slash || colon < slash)) /* a scheme: absolute */
        n = snprintf(out, cap, "%s", loc);
    else if (loc[0] == '/' && loc[1] == '/') /* network-path reference */
        n = snprintf(out, cap, "%s:%s", g->url.https ? "https" : "http", loc);
    else if (loc[0] == '/')
        n = snprintf(out, cap, "%s://%s:%u%s", g->url.https ? "https" : "http", g->url.host,
                     g->url.port, loc);
    else {
        const char *q = strchr(g->url.path, '?');
        size_t plen = q ? (size_t)(q - g->url.path) : strlen(g->url.path);
        while (plen && g->url.path[plen - 1] != '/')
            plen--; /* the base's directory (s5.2.3 merge) */
        n = snprintf(out, cap, "%s://%s:%u%.*s%s", g->url.https ? "https" : "http", g->url.host,
                     g->url.port, (int)plen, g->url.path, loc);
    }
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void redirect(struct tern_http_get *g)
{
    const char *loc = http_resp_field(&g->resp, "Location");
    int max = g->o.max_redirs < 0 ? 50 : g->o.max_redirs;
    if ((int)g->redirects >= max) {
        msg(g, "maximum (%d) redirects followed", max);
        finish(g, TERN_GET_TOO_MANY_REDIRECTS);
        return;
    }
    char next[sizeof g->cur], why[512];
    struct tern_http_url u;
    if (resolve_ref(g, loc, next, sizeof next) < 0) {
        msg(g, "redirect to a URL too long");
        finish(g, TERN_GET_URL_MALFORMED);
        return;
    }
    if (http_parse_url(next, &u, why, sizeof why) < 0) {
        msg(g, "redirect: %s", why);
        finish(g, strncasecmp(next, "http:", 5) && strstr(next, "://") ? TERN_GET_UNSUPPORTED
                                                                      : TERN_GET_URL_MALFORMED);
        return;
    }
    if (u.https && !g->o.tls) {
        msg(g, "redirect to %s: https is not supported here (no TLS)", next);
        finish(g, TERN_GET_UNSUPPORTED);
        return;
    }
    if (!u.host_is_ipv4 && !g->o.dns.nservers) {
        msg(g, "%s: no DNS server to look the name up (give --dns)", u.host);
        finish(g, TERN_GET_RESOLVE);
        return;
    }
    g->redirects++;
    snprintf(g->cur, sizeof g->cur, "%s", next);
    g->url = u;
    if (build_request(g) < 0) {
        msg(g, "%s: URL too long", next);
        finish(g, TERN_GET_URL_MALFORMED);
        return;
    }
    if (g->ts) { /* the TLS stream owns its socket */
        g->o.tls->abort(g->ts);
        g->ts = NULL;
    }
    if (g->sk) {
        tern_sock_set_handler(g->sk, 0, NULL, NULL);
        tern_sock_close(g->sk);
        g->sk = NULL;
    }
    if (g->rq) {
        resolve_free(g->rq);
        g->rq = NULL;
    }
    g->connected = g->any_reply = false;
    g->resp_started = 0;
    http_resp_init(&g->resp, false);
    uint64_t now = tern_loop_now(g->loop);
    tern_timer_arm(g->loop, &g->timer, now + g->o.connect_timeout_us);
    tern_timer_arm(g->loop, &g->start_timer, now);
}

static void response_done(struct tern_http_get *g)
{
    int st = g->resp.status;
    if (following(g)) {
        redirect(g);
        return;
    }
    if (g->o.fail && st >= 400) {
        /* curl -f's words */
        msg(g, "the requested URL returned error: %d", st);
        finish(g, TERN_GET_HTTP_ERROR);
        return;
    }
    finish(g, TERN_GET_OK);
}

/* Feeds received bytes to the parser; body to io.out. */
static void consume(struct tern_http_get *g, const uint8_t *p, size_t n)
{
    while (n && g->resp.state != TERN_HTTP_DONE && g->resp.state != TERN_HTTP_ERROR) {
        const uint8_t *b;
        size_t bl;
        size_t k = http_resp_feed(&g->resp, p, n, &b, &bl);
        if (g->resp.state >= TERN_HTTP_BODY && !g->resp_started)
            g->resp_started = tern_loop_now(g->loop);
        if (bl && !suppressed(g) && g->io.out && fwrite(b, 1, bl, g->io.out) != bl) {
            msg(g, "writing the body: output error");
            finish(g, TERN_GET_WRITE_ERROR);
            return;
        }
        p += k;
        n -= k;
    }
}

static ssize_t io_send(struct tern_http_get *g, const void *p, size_t n)
{
    return g->ts ? g->o.tls->send(g->ts, p, n) : tern_sock_send(g->sk, p, n, 0);
}

static ssize_t io_recv(struct tern_http_get *g, void *p, size_t n)
{
    return g->ts ? g->o.tls->recv(g->ts, p, n) : tern_sock_recv(g->sk, p, n, 0);
}

/* A TLS failure: the library's reason, and the exit status for it. */
static void fail_tls(struct tern_http_get *g)
{
    const char *m = g->o.tls->errmsg(g->ts);
    int st = g->o.tls->exit_status ? g->o.tls->exit_status(g->ts) : 0;
    msg(g, "%s port %u: %s", g->url.host, g->url.port,
        m && *m ? m : net_error(g->o.tls->failed(g->ts)));
    finish(g, st ? st : TERN_GET_RECV_ERROR); /* a TLS stream that failed below TLS */
}

/* Request out, response in; on socket or TLS stream events. */
static void step(struct tern_http_get *g, unsigned events)
{
    /* send what is left of the request */
    while (g->req_off < g->req_len) {
        ssize_t k = io_send(g, g->req + g->req_off, g->req_len - g->req_off);
        if (k == TERN_E_AGAIN)
            break;
        if (k < 0) {
            if (g->ts)
                fail_tls(g);
            else
                fail_net(g, (int)k);
            return;
        }
        g->req_off += (size_t)k;
    }
    for (;;) {
        ssize_t n = io_recv(g, g->rx, sizeof g->rx);
        if (n == TERN_E_AGAIN)
            break;
        if (n < 0) {
            if (g->ts)
                fail_tls(g); /* "connection closed without close_notify", an alert, ... */
            else
                fail_net(g, (int)n);
            return;
        }
        tern_timer_arm(g->loop, &g->timer, tern_loop_now(g->loop) + g->o.idle_timeout_us);
        if (n == 0) { /* end of stream */
            bool in_body = g->resp.state == TERN_HTTP_BODY;
            if (http_resp_eof(&g->resp) == TERN_HTTP_DONE) {
                response_done(g);
            } else if (!g->any_reply) {
                msg(g, "empty reply from server");
                finish(g, TERN_GET_EMPTY_REPLY);
            } else {
                msg(g, "%s", g->resp.error);
                finish(g, in_body ? TERN_GET_PARTIAL : TERN_GET_WEIRD_REPLY);
            }
            return;
        }
        g->any_reply = true;
        consume(g, g->rx, (size_t)n);
        if (g->finished)
            return;
        if (g->resp.state == TERN_HTTP_ERROR) {
            msg(g, "bad response: %s", g->resp.error);
            finish(g, TERN_GET_WEIRD_REPLY);
            return;
        }
        if (g->resp.state == TERN_HTTP_DONE) {
            response_done(g);
            return;
        }
        progress(g, false);
    }
    if (g->io.out)
        fflush(g->io.out); /* the body reaches the file as it arrives, as curl writes it */
    if (g->ts) {
        if (g->o.tls->failed(g->ts))
            fail_tls(g);
    } else if (events & TERN_POLLERR) {
        int e = tern_sock_error(g->sk);
        if (e < 0)
            fail_net(g, e);
    }
}

static void on_tls(struct tstream *ts, void *ctx)
{
    struct tern_http_get *g = ctx;
    (void)ts;
    if (g->finished)
        return;
    if (!g->o.tls->ready(g->ts)) {
        if (g->o.tls->failed(g->ts))
            fail_tls(g); /* refused, reset, certificate, alert, handshake timeout */
        return;
    }
    g->connected = true;
    step(g, 0);
}

static void on_sock(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tern_http_get *g = ctx;
    if (g->finished)
        return;
    if (!g->connected) {
        if (events & TERN_POLLERR) {
            int e = tern_sock_error(sk);
            fail_net(g, e ? e : TERN_E_CONNREFUSED);
            return;
        }
        if (!(events & TERN_POLLOUT))
            return;
        g->connected = true;
    }
    step(g, events);
}

static void connect_to(struct tern_http_get *g, uint32_t addr)
{
    int e = 0;
    g->sk = tern_sock_open(g->stack, TERN_SOCK_STREAM, &e);
    if (!g->sk) {
        msg(g, "%s", e == TERN_E_UNSUPPORTED ? "TCP is not available in this build"
                                             : tern_strerror(e));
        finish(g, TERN_GET_CONNECT);
        return;
    }
    struct tern_sockaddr peer = {.addr = addr, .port = g->url.port};
    if (g->url.https) {
        struct tern_sock *sk = g->sk;
        g->sk = NULL;
        e = tern_sock_connect(sk, &peer);
        if (e < 0 && e != TERN_E_INPROGRESS) {
            tern_sock_abort(sk);
            fail_net(g, e);
            return;
        }
        /* the certificate is checked for the URL's host (RFC 9110 s4.3.4,
         * RFC 6125) */
        const char *name = g->o.host_header && !g->redirects ? g->o.host_header : g->url.host;
        g->ts = g->o.tls->wrap(g->loop, sk, g->o.tls->ctx, name, g->o.connect_timeout_us,
                               on_tls, g);
        if (!g->ts) {
            msg(g, "out of memory");
            finish(g, TERN_GET_OUT_OF_MEMORY);
        }
        return;
    }
    tern_sock_set_handler(g->sk, TERN_POLLIN | TERN_POLLOUT, on_sock, g);
    e = tern_sock_connect(g->sk, &peer);
    if (e < 0 && e != TERN_E_INPROGRESS)
        fail_net(g, e);
}

static void on_resolved(void *ctx, const struct tern_resolve_result *r)
{
    struct tern_http_get *g = ctx;
    if (r->status != TERN_RESOLVE_OK || r->naddr == 0) {
        const char *why = r->status == TERN_RESOLVE_NXDOMAIN ? "name not found (NXDOMAIN)"
                          : r->status == TERN_RESOLVE_TIMEOUT ? "no answer from the DNS servers"
                          : r->status == TERN_RESOLVE_NODATA  ? "the name has no IPv4 address"
                                                              : "name lookup failed";
        msg(g, "%s: %s", g->url.host, why);
        finish(g, TERN_GET_RESOLVE);
        return;
    }
    connect_to(g, r->addr[0]);
}

static void on_start(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_http_get *g = arg;
    if (g->url.host_is_ipv4) {
        connect_to(g, g->url.addr);
        return;
    }
    int e = 0;
    g->rq = resolve_start(g->stack, g->loop, g->url.host, &g->o.dns, on_resolved, g, &e);
    if (!g->rq) {
        msg(g, "%s: %s", g->url.host, tern_strerror(e));
        finish(g, TERN_GET_RESOLVE);
    }
}

static int build_request(struct tern_http_get *g)
{
    /* RFC 9110 s7.2: Host carries the port when it is not the default */
    char hostport[TERN_HTTP_HOST_MAX + 8];
    const char *h = g->o.host_header && !g->redirects ? g->o.host_header : g->url.host;
    if (g->url.port == (g->url.https ? 443 : 80))
        snprintf(hostport, sizeof hostport, "%.*s", TERN_HTTP_HOST_MAX, h);
    else
        snprintf(hostport, sizeof hostport, "%.*s:%u", TERN_HTTP_HOST_MAX, h, g->url.port);
    int n = snprintf(g->req, sizeof g->req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
                     "Connection: close\r\n\r\n",
                     g->url.path, hostport, g->o.user_agent ? g->o.user_agent : "tern/0.1");
    if (n < 0 || (size_t)n >= sizeof g->req)
        return -1;
    g->req_len = (size_t)n;
    g->req_off = 0;
    return 0;
}

struct tern_http_get *http_get_start(struct tern_stack *s, struct tern_loop *loop,
                                          const struct tern_http_get_opts *o,
                                          const struct tern_http_get_io *io, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    *err = TERN_E_INVAL;
    if (!s || !loop || !o || !o->url || !io)
        return NULL;
    struct tern_http_get *g = calloc(1, sizeof *g);
    if (!g) {
        *err = TERN_E_NOMEM;
        return NULL;
    }
    g->stack = s;
    g->loop = loop;
    g->o = *o;
    g->io = *io;
    char why[512];
    if (http_parse_url(o->url, &g->url, why, sizeof why) < 0) {
        if (io->err)
            fprintf(io->err, "tern get: %s\n", why);
        free(g);
        return NULL;
    }
    if (g->url.https && !o->tls) {
        if (io->err)
            fprintf(io->err, "tern get: %s: https is not supported here (no TLS)\n", o->url);
        free(g);
        return NULL;
    }
    if (!g->url.host_is_ipv4 && !o->dns.nservers) {
        if (io->err)
            fprintf(io->err, "tern get: %s: no DNS server to look the name up (give --dns)\n",
                    g->url.host);
        free(g);
        return NULL;
    }
    if (!g->o.connect_timeout_us)
        g->o.connect_timeout_us = 10000000ull;
    if (!g->o.idle_timeout_us)
        g->o.idle_timeout_us = 30000000ull;
    snprintf(g->cur, sizeof g->cur, "%s", o->url);
    g->o.url = g->cur;
    if (build_request(g) < 0) {
        if (io->err)
            fprintf(io->err, "tern get: %s: URL too long\n", o->url);
        free(g);
        return NULL;
    }
    http_resp_init(&g->resp, false);
    g->started = tern_loop_now(loop);
    tern_timer_init(&g->timer, on_timer, g);
    tern_timer_init(&g->start_timer, on_start, g);
    /* the connect deadline covers lookup and handshake; replaced by the
     * idle deadline once data flows */
    tern_timer_arm(loop, &g->timer, g->started + g->o.connect_timeout_us);
    tern_timer_arm(loop, &g->start_timer, g->started); /* begin on the loop */
    return g;
}

int http_get_status(const struct tern_http_get *g)
{
    return g->resp.status;
}

unsigned http_get_redirects(const struct tern_http_get *g)
{
    return g->redirects;
}

void http_get_stop(struct tern_http_get *g)
{
    if (g && !g->finished) {
        g->io.done = NULL; /* the caller decides the status of an interruption */
        finish(g, TERN_GET_RECV_ERROR);
    }
}

void http_get_free(struct tern_http_get *g)
{
    if (!g)
        return;
    tern_timer_cancel(g->loop, &g->timer);
    tern_timer_cancel(g->loop, &g->start_timer);
    if (g->rq)
        resolve_free(g->rq);
    if (g->sk)
        tern_sock_abort(g->sk);
    if (g->ts)
        g->o.tls->abort(g->ts);
    free(g);
}
