/*
 * src/app/perf.c - `tern perf` (see perf.h): iperf3's control protocol,
 * the server's and the client's state machines, the test's timeline. The
 * data streams are perf_stream.c, the reports perf_report.c. The protocol
 * facts come from watching iperf3 3.12 on loopback (docs/perf.md); the code
 * is tern's own.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/perf.h"
#include "app/perf_impl.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/wire/ipv4.h"

static void ctrl_event(struct tern_sock *sk, unsigned ev, void *ctx);
static void udp_server_event(struct tern_sock *sk, unsigned ev, void *ctx);
static void on_linger(struct tern_timer *t, void *arg);

void perf_errmsg(struct tern_perf *p, const char *msg)
{
    if (p->io.err) {
        fprintf(p->io.err, "tern perf: %s\n", msg);
        fflush(p->io.err);
    }
}

double perf_now_s(struct tern_perf *p, uint64_t t)
{
    return t > p->start_us ? (double)(t - p->start_us) / 1e6 : 0;
}

/* ---- control connection -------------------------------------------- */

static void ctrl_flush(struct tern_perf *p)
{
    while (p->ctrl && p->woff < p->wlen) {
        ssize_t n = tern_sock_send(p->ctrl, p->wbuf + p->woff, p->wlen - p->woff, 0);
        if (n <= 0)
            break;
        p->woff += (size_t)n;
    }
    if (p->woff == p->wlen)
        p->woff = p->wlen = 0;
}

static int ctrl_write(struct tern_perf *p, const void *d, size_t n)
{
    if (p->wlen + n > p->wcap) {
        size_t cap = p->wcap ? p->wcap : 4096;
        while (cap < p->wlen + n)
            cap *= 2;
        uint8_t *b = realloc(p->wbuf, cap);
        if (!b)
            return -1;
        p->wbuf = b;
        p->wcap = cap;
    }
    memcpy(p->wbuf + p->wlen, d, n);
    p->wlen += n;
    ctrl_flush(p);
    return 0;
}

static void ctrl_state(struct tern_perf *p, int state)
{
    uint8_t b = (uint8_t)(int8_t)state;
    p->phase = state;
    ctrl_write(p, &b, 1);
}

/* iperf3's JSON framing: a 32-bit big-endian length, then the text. */
static void ctrl_json(struct tern_perf *p, const char *text)
{
    size_t n = strlen(text);
    uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    ctrl_write(p, h, 4);
    ctrl_write(p, text, n);
}

/* ---- the test's timeline ------------------------------------------ */

static void test_stop(struct tern_perf *p)
{
    if (!p->running)
        return;
    p->running = false;
    p->ended = true;
    p->end_us = tern_loop_now(p->loop);
    tern_timer_cancel(p->loop, &p->end_timer);
    tern_timer_cancel(p->loop, &p->tick_timer);
    tern_timer_cancel(p->loop, &p->iv_timer);
    if (p->interval_us && p->end_us - p->iv_start_us > p->interval_us / 10)
        perf_interval_report(p, p->end_us);
    for (unsigned i = 0; i < p->nst; i++) {
        struct tern_sock_info ti;
        bool have;
        if (!p->udp_test && p->sender)
            perf_stream_retrans(p, p->st[i], &ti, &have);
    }
}

static void on_iv(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_perf *p = arg;
    uint64_t now = tern_loop_now(p->loop);
    perf_interval_report(p, now);
    tern_timer_arm(p->loop, &p->iv_timer, p->iv_start_us + p->interval_us);
}

static void on_tick(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_perf *p = arg;
    perf_send_data(p);
    if (p->running)
        tern_timer_arm(p->loop, &p->tick_timer, tern_loop_now(p->loop) + TICK_US);
}

static void on_end(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_perf *p = arg;
    if (!p->server && !p->running) { /* -w: still connecting */
        perf_errmsg(p, "unable to connect to server: connection timed out");
        perf_finish(p, 1);
        return;
    }
    if (p->server) { /* the client never ended it */
        perf_errmsg(p, "the client did not end the test; closing it");
        test_stop(p);
        perf_finish(p, 1);
        return;
    }
    test_stop(p);
    ctrl_state(p, PS_TEST_END);
}

static void test_begin(struct tern_perf *p)
{
    uint64_t now = tern_loop_now(p->loop);
    p->running = true;
    p->sep_printed = false;
    p->start_us = p->iv_start_us = now;
    p->end_us = 0;
    for (unsigned i = 0; i < p->nst; i++) {
        struct pstream *s = p->st[i];
        struct tern_sock_info ti;
        if (!p->udp_test && p->sender && perf_stream_info(p, s, &ti))
            s->retrans_base = ti.retransmits;
    }
    perf_print_header(p, false);
    fflush(p->io.out);
    tern_timer_arm(p->loop, &p->end_timer,
                   now + p->duration_us + (p->server ? SERVER_GRACE_US : 0));
    if (p->interval_us)
        tern_timer_arm(p->loop, &p->iv_timer, now + p->interval_us);
    if (p->sender && (p->udp_test || p->bps))
        tern_timer_arm(p->loop, &p->tick_timer, now + TICK_US);
    perf_send_data(p);
}

/* ---- server --------------------------------------------------------- */

static void server_reset(struct tern_perf *p)
{
    tern_timer_cancel(p->loop, &p->end_timer);
    tern_timer_cancel(p->loop, &p->tick_timer);
    tern_timer_cancel(p->loop, &p->iv_timer);
    p->running = p->ended = false;
    perf_streams_close(p);
    if (p->ctrl) {
        tern_sock_set_handler(p->ctrl, 0, NULL, NULL);
        tern_sock_close(p->ctrl);
        p->ctrl = NULL;
    }
    p->rlen = p->wlen = p->woff = 0;
    p->ctrl_eof = p->expect_json = false;
    p->phase = 0;
    if (p->o.one_off && p->tests > 0) {
        perf_finish(p, p->res.valid ? 0 : 1);
        return;
    }
    if (p->tests > 0 || p->res.valid) {
        fprintf(p->io.out, "-----------------------------------------------------------\n"
                           "Server listening on %u (test #%d)\n"
                           "-----------------------------------------------------------\n",
                p->o.port, p->tests + 1);
        fflush(p->io.out);
    }
}

void perf_all_streams_ready(struct tern_perf *p)
{
    if (p->nst < p->parallel)
        return;
    for (unsigned i = 0; i < p->nst; i++)
        if (!p->st[i]->ready)
            return;
    for (unsigned i = 0; i < p->nst; i++)
        perf_stream_connected_line(p, p->st[i]);
    ctrl_state(p, PS_TEST_START);
    ctrl_state(p, PS_TEST_RUNNING);
    test_begin(p);
}

static void udp_server_event(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct tern_perf *p = ctx;
    (void)ev;
    for (;;) {
        struct tern_sockaddr from;
        ssize_t n = tern_sock_recvfrom(sk, p->buf, p->buflen, 0, &from, NULL);
        if (n < 0)
            return;
        struct pstream *s = NULL;
        for (unsigned i = 0; i < p->nst; i++)
            if (p->st[i]->peer.addr == from.addr && p->st[i]->peer.port == from.port)
                s = p->st[i];
        if (!s && p->phase == PS_CREATE_STREAMS && n == 4 && p->nst < p->parallel &&
            from.addr == p->client_addr) {
            s = perf_stream_new(p);
            if (!s)
                return;
            s->peer = from;
            s->ready = true;
            tern_sock_sendto(sk, UDP_REPLY, 4, 0, &from);
            perf_all_streams_ready(p);
            continue;
        }
        if (s && n == 4 && !p->running) {
            tern_sock_sendto(sk, UDP_REPLY, 4, 0, &from); /* a repeated hello */
            continue;
        }
        if (s && !p->sender)
            perf_udp_received(p, s, p->buf, (size_t)n);
    }
}

/* The client's parameters (iperf3's send_parameters object). */
static int server_params(struct tern_perf *p, const char *text, size_t len)
{
    if (!pj_valid(text, len))
        return -1;
    struct pj root = {text, text + len};
    double d;
    p->udp_test = pj_true(root, "udp");
    if (!p->udp_test && !pj_true(root, "tcp"))
        return -1; /* SCTP */
    if (pj_true(root, "bidirectional")) {
        perf_errmsg(p, "the client asked for --bidir, which tern perf does not do");
        return -1;
    }
    p->reverse = pj_true(root, "reverse");
    p->sender = p->reverse;
    p->duration_us = pj_number(pj_member(root, "time"), &d) && d > 0 ? (uint64_t)(d * 1e6)
                                                                       : DEF_DURATION_US;
    p->parallel = pj_number(pj_member(root, "parallel"), &d) && d >= 1 && d <= TERN_PERF_MAX_STREAMS
                      ? (unsigned)d : 1;
    p->len = pj_number(pj_member(root, "len"), &d) && d >= 16 && d <= 1024 * 1024
                 ? (uint32_t)d : (p->udp_test ? DEF_UDP_LEN : DEF_TCP_LEN);
    if (p->udp_test && p->len > 65507)
        p->len = 65507;
    p->bps = pj_number(pj_member(root, "bandwidth"), &d) && d > 0 ? (uint64_t)d
             : p->udp_test ? DEF_UDP_BPS : 0;
    p->udp64 = pj_true(root, "udp_counters_64bit");
    p->interval_us = p->o.interval_set ? p->o.interval_us : 1000000;
    return 0;
}

static int alloc_buf(struct tern_perf *p)
{
    size_t want = p->len > 65536 ? p->len : 65536;
    if (p->buflen < want) {
        uint8_t *b = realloc(p->buf, want);
        if (!b)
            return -1;
        p->buf = b;
        p->buflen = want;
    }
    /* a payload that does not compress (iperf3 sends random bytes too) */
    uint64_t x = tern_stack_random(p->stack) | 1;
    for (size_t i = 0; i < p->buflen; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p->buf[i] = (uint8_t)x;
    }
    return 0;
}

static void server_json(struct tern_perf *p, const uint8_t *d, size_t n)
{
    if (p->phase == PS_PARAM_EXCHANGE) {
        if (server_params(p, (const char *)d, n) < 0 || alloc_buf(p) < 0) {
            perf_errmsg(p, "bad parameters from the client");
            uint8_t b = (uint8_t)(int8_t)PS_SERVER_ERROR;
            ctrl_write(p, &b, 1);
            server_reset(p);
            return;
        }
        if (p->udp_test) {
            int err;
            p->udp = tern_sock_open(p->stack, TERN_SOCK_DGRAM, &err);
            struct tern_sockaddr la = {.port = p->o.port};
            if (!p->udp || tern_sock_bind(p->udp, &la) < 0) {
                perf_errmsg(p, "cannot bind the UDP port");
                server_reset(p);
                return;
            }
            tern_sock_setopt(p->udp, TERN_SO_RCVBUF, 1024 * 1024);
            tern_sock_set_handler(p->udp, TERN_POLLIN, udp_server_event, p);
        }
        ctrl_state(p, PS_CREATE_STREAMS);
        return;
    }
    /* EXCHANGE_RESULTS: the client's results first, then ours */
    if (perf_take_results(p, (const char *)d, n) < 0)
        perf_errmsg(p, "bad results from the client");
    char *j = perf_results_json(p);
    if (j) {
        ctrl_json(p, j);
        free(j);
    }
    ctrl_state(p, PS_DISPLAY_RESULTS);
    perf_final_report(p);
    p->tests++;
}

static void server_state(struct tern_perf *p, int state)
{
    switch (state) {
    case PS_TEST_END:
        test_stop(p);
        for (unsigned i = 0; i < p->nst; i++)
            if (p->st[i]->sk) {
                /* as iperf3: the server closes the data connections */
                tern_sock_set_handler(p->st[i]->sk, 0, NULL, NULL);
                tern_sock_close(p->st[i]->sk);
                p->st[i]->sk = NULL;
            }
        ctrl_state(p, PS_EXCHANGE_RESULTS);
        p->expect_json = true;
        break;
    case PS_IPERF_DONE:
        server_reset(p);
        break;
    case PS_CLIENT_TERMINATE:
        test_stop(p);
        fprintf(p->io.out, "iperf3: the client has terminated\n");
        fflush(p->io.out);
        p->tests++;
        server_reset(p);
        break;
    default:
        perf_errmsg(p, "unexpected state from the client");
        p->tests++;
        server_reset(p);
        break;
    }
}

static void on_accept(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct tern_perf *p = ctx;
    (void)ev;
    for (;;) {
        struct tern_sockaddr peer;
        struct tern_sock *c = tern_sock_accept(sk, &peer, NULL);
        if (!c)
            return;
        if (!p->ctrl) {
            char a[16];
            p->ctrl = c;
            p->client_addr = peer.addr;
            p->client_port = peer.port;
            p->expect_cookie = true;
            p->res.valid = false;
            fprintf(p->io.out, "Accepted connection from %s, port %u\n",
                    tern_ipv4_ntoa(peer.addr, a), peer.port);
            fflush(p->io.out);
            tern_sock_set_handler(c, TERN_POLLIN | TERN_POLLOUT, ctrl_event, p);
            ctrl_event(c, tern_sock_poll(c), p);
            continue;
        }
        if (p->phase == PS_CREATE_STREAMS && !p->udp_test && p->nst < p->parallel) {
            struct pstream *s = perf_stream_new(p);
            if (!s) {
                tern_sock_abort(c);
                continue;
            }
            s->sk = c;
            tern_sock_setopt(c, TERN_SO_RCVBUF, 1024 * 1024);
            tern_sock_set_handler(c, TERN_POLLIN | TERN_POLLOUT, perf_data_event, s);
            perf_data_event(c, tern_sock_poll(c), s);
            continue;
        }
        /* busy: as iperf3, one byte ACCESS_DENIED and close */
        uint8_t b = (uint8_t)(int8_t)PS_ACCESS_DENIED;
        tern_sock_send(c, &b, 1, 0);
        tern_sock_close(c);
    }
}

/* ---- client --------------------------------------------------------- */

static int client_params(struct tern_perf *p)
{
    char j[512];
    int n = snprintf(j, sizeof j, "{\"%s\":true,\"omit\":0,\"time\":%.6g,\"num\":0,"
                                  "\"blockcount\":0,\"parallel\":%u,%s\"len\":%u,",
                     p->udp_test ? "udp" : "tcp", (double)p->duration_us / 1e6, p->parallel,
                     p->reverse ? "\"reverse\":true," : "", p->len);
    if (p->bps)
        n += snprintf(j + n, sizeof j - (size_t)n, "\"bandwidth\":%" PRIu64 ",", p->bps);
    snprintf(j + n, sizeof j - (size_t)n,
             "\"pacing_timer\":1000,\"client_version\":\"tern-perf\"}");
    ctrl_json(p, j);
    return 0;
}

static void client_streams(struct tern_perf *p)
{
    for (unsigned i = 0; i < p->parallel; i++) {
        struct pstream *s = perf_stream_new(p);
        int err;
        if (!s || !(s->sk = tern_sock_open(p->stack, p->udp_test ? TERN_SOCK_DGRAM
                                                                  : TERN_SOCK_STREAM, &err))) {
            perf_errmsg(p, "cannot open a data socket");
            perf_finish(p, 1);
            return;
        }
        struct tern_sockaddr to = {.addr = p->o.addr, .port = p->o.port};
        tern_sock_setopt(s->sk, TERN_SO_RCVBUF, 1024 * 1024);
        tern_sock_set_handler(s->sk, TERN_POLLIN | TERN_POLLOUT, perf_data_event, s);
        int r = tern_sock_connect(s->sk, &to);
        if (r < 0 && r != TERN_E_INPROGRESS) {
            char m[128];
            snprintf(m, sizeof m, "unable to connect stream: %s", tern_strerror(r));
            perf_errmsg(p, m);
            perf_finish(p, 1);
            return;
        }
        if (p->udp_test)
            tern_sock_send(s->sk, UDP_HELLO, 4, 0);
    }
}

/* After IPERF_DONE: done() only once the server has the byte (a tool
 * exits right after done(), taking its stack with it). */
static void on_linger(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_perf *p = arg;
    struct tern_sockaddr l, r;
    bool drained = true;
    if (p->ctrl && tern_sock_getsockname(p->ctrl, &l) == 0 &&
        tern_sock_getpeername(p->ctrl, &r) == 0) {
        struct tern_sock_info rows[64];
        size_t n = tern_sock_list(p->stack, rows, 64);
        for (size_t i = 0; i < n && i < 64; i++)
            if (rows[i].type == TERN_SOCK_STREAM && rows[i].local.port == l.port &&
                rows[i].peer.addr == r.addr && rows[i].peer.port == r.port)
                drained = rows[i].send_q == 0 && rows[i].unacked == 0;
    }
    if (drained || tern_loop_now(p->loop) >= p->linger_until) {
        p->lingering = false;
        perf_finish(p, 0);
        return;
    }
    tern_timer_arm(p->loop, &p->linger_timer, tern_loop_now(p->loop) + LINGER_POLL_US);
}

static void client_state(struct tern_perf *p, int state)
{
    switch (state) {
    case PS_PARAM_EXCHANGE:
        p->phase = state;
        client_params(p);
        break;
    case PS_CREATE_STREAMS:
        p->phase = state;
        client_streams(p);
        break;
    case PS_TEST_START:
        p->phase = state;
        break;
    case PS_TEST_RUNNING:
        p->phase = state;
        for (unsigned i = 0; i < p->nst; i++)
            p->st[i]->ready = true; /* the server has them all */
        test_begin(p);
        break;
    case PS_EXCHANGE_RESULTS: {
        p->phase = state;
        test_stop(p);
        char *j = perf_results_json(p);
        if (!j) {
            perf_finish(p, 1);
            return;
        }
        ctrl_json(p, j);
        free(j);
        p->expect_json = true;
        break;
    }
    case PS_DISPLAY_RESULTS:
        p->phase = state;
        perf_final_report(p);
        fprintf(p->io.out, "\niperf Done.\n");
        fflush(p->io.out);
        ctrl_state(p, PS_IPERF_DONE);
        for (unsigned i = 0; i < p->nst; i++)
            if (p->st[i]->sk) {
                tern_sock_set_handler(p->st[i]->sk, 0, NULL, NULL);
                tern_sock_close(p->st[i]->sk);
                p->st[i]->sk = NULL;
            }
        p->lingering = true;
        p->linger_until = tern_loop_now(p->loop) + LINGER_MAX_US;
        on_linger(&p->linger_timer, p);
        break;
    case PS_ACCESS_DENIED:
        perf_errmsg(p, "the server is busy running a test. try again later");
        perf_finish(p, 1);
        break;
    case PS_SERVER_ERROR:
        perf_errmsg(p, "the server reported an error");
        perf_finish(p, 1);
        break;
    case PS_SERVER_TERMINATE:
        perf_errmsg(p, "the server has terminated");
        perf_finish(p, 1);
        break;
    default: {
        char m[64];
        snprintf(m, sizeof m, "unexpected state %d from the server", state);
        perf_errmsg(p, m);
        perf_finish(p, 1);
    }
    }
}

/* ---- control events ------------------------------------------------- */

static void ctrl_event(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct tern_perf *p = ctx;
    if (p->finished || sk != p->ctrl)
        return;
    if (!p->server && p->phase == 0) {
        if (ev & TERN_POLLERR) {
            int e = tern_sock_error(sk);
            char m[128];
            snprintf(m, sizeof m, "unable to connect to server: %s",
                     e == TERN_E_TIMEDOUT ? "connection timed out"
                                          : tern_strerror(e ? e : TERN_E_CONNREFUSED));
            perf_errmsg(p, m);
            perf_finish(p, 1);
            return;
        }
        if (!(ev & TERN_POLLOUT))
            return;
        /* connected: the cookie first */
        p->phase = -100; /* cookie sent */
        ctrl_write(p, p->cookie, COOKIE_LEN);
    }
    if (ev & TERN_POLLOUT)
        ctrl_flush(p);
    /* read what there is */
    for (;;) {
        if (p->rlen == p->rcap) {
            if (p->rcap >= CTRL_MAX + 8)
                break;
            size_t cap = p->rcap ? p->rcap * 2 : 4096;
            uint8_t *b = realloc(p->rbuf, cap);
            if (!b)
                break;
            p->rbuf = b;
            p->rcap = cap;
        }
        ssize_t n = tern_sock_recv(sk, p->rbuf + p->rlen, p->rcap - p->rlen, 0);
        if (n == 0)
            p->ctrl_eof = true;
        if (n <= 0)
            break;
        p->rlen += (size_t)n;
    }
    size_t off = 0;
    while (!p->finished && p->ctrl == sk) {
        size_t avail = p->rlen - off;
        if (p->server && p->expect_cookie) {
            if (avail < COOKIE_LEN)
                break;
            memcpy(p->cookie, p->rbuf + off, COOKIE_LEN);
            off += COOKIE_LEN;
            p->expect_cookie = false;
            ctrl_state(p, PS_PARAM_EXCHANGE);
            p->expect_json = true;
            continue;
        }
        if (p->expect_json) {
            if (avail < 4)
                break;
            uint32_t n = perf_get_be32(p->rbuf + off);
            if (n > CTRL_MAX) {
                perf_errmsg(p, "control message too long");
                if (p->server) {
                    p->tests++;
                    server_reset(p);
                } else {
                    perf_finish(p, 1);
                }
                return;
            }
            if (avail < 4 + (size_t)n)
                break;
            p->expect_json = false;
            const uint8_t *d = p->rbuf + off + 4;
            off += 4 + n;
            if (p->server) {
                server_json(p, d, n);
            } else if (perf_take_results(p, (const char *)d, n) < 0) {
                perf_errmsg(p, "bad results from the server");
                perf_finish(p, 1);
            }
            continue;
        }
        if (avail < 1)
            break;
        int state = (int8_t)p->rbuf[off++];
        if (p->server)
            server_state(p, state);
        else
            client_state(p, state);
    }
    if (p->ctrl != sk)
        return; /* reset or finished: the buffer was dropped with the connection */
    memmove(p->rbuf, p->rbuf + off, p->rlen - off);
    p->rlen -= off;
    if (p->lingering && (p->ctrl_eof || (ev & TERN_POLLERR))) {
        p->lingering = false; /* the server had IPERF_DONE and closed */
        tern_timer_cancel(p->loop, &p->linger_timer);
        perf_finish(p, 0);
        return;
    }
    if (p->ctrl_eof && !p->finished) {
        if (p->server) {
            /* after DISPLAY_RESULTS the test is over: a client that closes
             * without IPERF_DONE has lost nothing */
            if (p->phase != 0 && p->phase != PS_DISPLAY_RESULTS)
                fprintf(p->io.out, "iperf3: the client has unexpectedly closed the connection\n");
            test_stop(p);
            p->tests++;
            server_reset(p);
        } else {
            perf_errmsg(p, "the control connection closed unexpectedly");
            perf_finish(p, 1);
        }
    } else if ((ev & TERN_POLLERR) && !p->finished) {
        int e = tern_sock_error(sk);
        if (!e)
            return;
        if (p->server) {
            p->tests++;
            server_reset(p);
        } else {
            char m[128];
            snprintf(m, sizeof m, "control connection: %s", tern_strerror(e));
            perf_errmsg(p, m);
            perf_finish(p, 1);
        }
    }
}

/* ---- lifecycle ------------------------------------------------------- */

void perf_finish(struct tern_perf *p, int status)
{
    if (p->finished)
        return;
    p->finished = true;
    tern_timer_cancel(p->loop, &p->end_timer);
    tern_timer_cancel(p->loop, &p->tick_timer);
    tern_timer_cancel(p->loop, &p->iv_timer);
    p->running = false;
    if (p->io.done)
        p->io.done(p->io.ctx, status);
}

static void make_cookie(struct tern_perf *p)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567"; /* as iperf3's */
    for (int i = 0; i < COOKIE_LEN - 1; i++)
        p->cookie[i] = alphabet[tern_stack_random(p->stack) % 32];
    p->cookie[COOKIE_LEN - 1] = 0;
}

struct tern_perf *perf_start(struct tern_stack *s, struct tern_loop *loop,
                                  const struct tern_perf_opts *o, const struct tern_perf_io *io,
                                  int *err)
{
    int e = TERN_E_NOMEM;
    struct tern_perf *p = calloc(1, sizeof *p);
    if (!p)
        goto fail;
    p->stack = s;
    p->loop = loop;
    p->o = *o;
    p->io = *io;
    p->server = o->server;
    if (!p->o.port)
        p->o.port = TERN_PERF_PORT;
    tern_timer_init(&p->end_timer, on_end, p);
    tern_timer_init(&p->iv_timer, on_iv, p);
    tern_timer_init(&p->tick_timer, on_tick, p);
    tern_timer_init(&p->linger_timer, on_linger, p);
    if (p->server) {
        p->listener = tern_sock_open(s, TERN_SOCK_STREAM, &e);
        if (!p->listener)
            goto fail;
        tern_sock_setopt(p->listener, TERN_SO_REUSEADDR, 1);
        struct tern_sockaddr la = {.port = p->o.port};
        if ((e = tern_sock_bind(p->listener, &la)) < 0 ||
            (e = tern_sock_listen(p->listener, 16)) < 0)
            goto fail;
        tern_sock_set_handler(p->listener, TERN_POLLIN, on_accept, p);
        fprintf(p->io.out, "-----------------------------------------------------------\n"
                           "Server listening on %u (test #1)\n"
                           "-----------------------------------------------------------\n",
                p->o.port);
        fflush(p->io.out);
    } else {
        p->udp_test = o->udp;
        p->reverse = o->reverse;
        p->sender = !o->reverse;
        p->duration_us = o->duration_us ? o->duration_us : DEF_DURATION_US;
        p->interval_us = o->interval_set ? o->interval_us : 1000000;
        p->parallel = o->parallel ? o->parallel : 1;
        if (p->parallel > TERN_PERF_MAX_STREAMS) {
            e = TERN_E_INVAL;
            goto fail;
        }
        p->len = o->len ? o->len : o->udp ? DEF_UDP_LEN : DEF_TCP_LEN;
        if (o->udp && (p->len < 16 || p->len > 65507)) {
            e = TERN_E_INVAL;
            goto fail;
        }
        p->bps = o->bandwidth_bps ? o->bandwidth_bps : o->udp ? DEF_UDP_BPS : 0;
        if (alloc_buf(p) < 0)
            goto fail;
        make_cookie(p);
        p->ctrl = tern_sock_open(s, TERN_SOCK_STREAM, &e);
        if (!p->ctrl)
            goto fail;
        tern_sock_set_handler(p->ctrl, TERN_POLLIN | TERN_POLLOUT, ctrl_event, p);
        struct tern_sockaddr to = {.addr = o->addr, .port = p->o.port};
        char a[16];
        fprintf(p->io.out, "Connecting to host %s, port %u\n", tern_ipv4_ntoa(o->addr, a),
                p->o.port);
        if (o->reverse)
            fprintf(p->io.out, "Reverse mode, remote host %s is sending\n", a);
        fflush(p->io.out);
        e = tern_sock_connect(p->ctrl, &to);
        if (e < 0 && e != TERN_E_INPROGRESS)
            goto fail;
        if (o->connect_timeout_us)
            tern_timer_arm(loop, &p->end_timer, tern_loop_now(loop) + o->connect_timeout_us);
    }
    if (err)
        *err = TERN_OK;
    return p;
fail:
    if (err)
        *err = e;
    if (p) {
        if (p->listener)
            tern_sock_close(p->listener);
        if (p->ctrl)
            tern_sock_close(p->ctrl);
        free(p->buf);
        free(p);
    }
    return NULL;
}

void perf_stop(struct tern_perf *p)
{
    if (p->finished)
        return;
    if (!p->server && p->ctrl && p->phase != 0 && p->phase != -100) {
        test_stop(p);
        ctrl_state(p, PS_CLIENT_TERMINATE);
    }
    if (p->server) {
        test_stop(p);
        if (p->ctrl)
            ctrl_state(p, PS_SERVER_TERMINATE);
    }
    perf_finish(p, 1);
}

void perf_get_result(const struct tern_perf *p, struct tern_perf_result *r)
{
    *r = p->res;
}

void perf_free(struct tern_perf *p)
{
    if (!p)
        return;
    tern_timer_cancel(p->loop, &p->end_timer);
    tern_timer_cancel(p->loop, &p->tick_timer);
    tern_timer_cancel(p->loop, &p->iv_timer);
    tern_timer_cancel(p->loop, &p->linger_timer);
    perf_streams_close(p);
    if (p->ctrl) {
        tern_sock_set_handler(p->ctrl, 0, NULL, NULL);
        tern_sock_close(p->ctrl);
    }
    if (p->listener) {
        tern_sock_set_handler(p->listener, 0, NULL, NULL);
        tern_sock_close(p->listener);
    }
    free(p->rbuf);
    free(p->wbuf);
    free(p->buf);
    free(p);
}
