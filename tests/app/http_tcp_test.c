/*
 * Tests for src/app/http_server.c and http_client.c over TCP: server on
 * stack A (10.0.0.1:80), client on stack B, a memory link in virtual time
 * (tests/common/net2.h). Files live in a temporary directory made per
 * test.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/http_client.h"
#include "app/http_msg.h"
#include "app/http_server.h"
#include "common/net2.h"
#include "harness.h"
#include "tern/err.h"
#include "tern/socket.h"

#define BIG 300000

struct site {
    char dir[64];
    uint8_t *big;
};

static void put(const char *dir, const char *name, const void *data, size_t n)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static int site_make(struct site *s)
{
    strcpy(s->dir, "/tmp/tern-http-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    char p[256];
    put(s->dir, "hello.txt", "hello, world\n", 13);
    s->big = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        s->big[i] = (uint8_t)(test_rand() >> 17);
    put(s->dir, "big.bin", s->big, BIG);
    snprintf(p, sizeof p, "%s/sub", s->dir);
    mkdir(p, 0755);
    put(s->dir, "sub/index.html", "<p>sub</p>", 10);
    snprintf(p, sizeof p, "%s/list", s->dir);
    mkdir(p, 0755);
    put(s->dir, "list/<b>.txt", "x", 1);
    put(s->dir, "secret-outside", "no", 2); /* target of a symlink from inside */
    snprintf(p, sizeof p, "%s/list/link", s->dir);
    if (symlink("/etc/passwd", p) < 0)
        return -1;
    return 0;
}

static void site_free(struct site *s)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
    free(s->big);
}

static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return 784111777; /* RFC 9110 s5.6.7's example date */
}

static struct tern_http_server *server(struct net2 *n, struct site *s, int *err)
{
    struct tern_http_server_opts o = {.root = s->dir, .index = true, .wall_clock = fixed_clock,
                                      .idle_timeout_us = 5000000};
    return http_server_start(n->sa, n->loop, &o, err);
}

/* ---- raw TCP exchanges: send text, collect everything until EOF ---- */

struct raw {
    struct tern_loop *loop;
    const char *req;
    size_t req_off;
    char *got;
    size_t len, cap;
    bool eof, connected;
    int err;
};

static void raw_ready(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct raw *r = ctx;
    if (ev & TERN_POLLERR) {
        r->err = tern_sock_error(sk);
        if (r->err) {
            tern_loop_stop(r->loop);
            return;
        }
    }
    while (r->req[r->req_off]) {
        ssize_t k = tern_sock_send(sk, r->req + r->req_off, strlen(r->req + r->req_off), 0);
        if (k <= 0)
            break;
        r->req_off += (size_t)k;
    }
    for (;;) {
        if (r->cap - r->len < 4096) {
            r->cap = r->cap * 2 + 65536;
            r->got = realloc(r->got, r->cap);
        }
        ssize_t k = tern_sock_recv(sk, r->got + r->len, r->cap - r->len - 1, 0);
        if (k == 0) {
            r->eof = true;
            tern_loop_stop(r->loop);
            break;
        }
        if (k < 0) {
            if (k != TERN_E_AGAIN) {
                r->err = (int)k;
                tern_loop_stop(r->loop);
            }
            break;
        }
        r->len += (size_t)k;
        r->got[r->len] = '\0';
    }
}

/* Sends req to A:80 from B; returns what came back before the server closed
 * (malloc'd, NUL-terminated), within 10 s of virtual time. */
static char *raw_exchange(struct net2 *n, const char *req, size_t *len)
{
    struct raw r = {.loop = n->loop, .req = req};
    int e;
    struct tern_sock *sk = tern_sock_open(n->sb, TERN_SOCK_STREAM, &e);
    if (!sk)
        return NULL;
    tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, raw_ready, &r);
    struct tern_sockaddr to = {.addr = NET2_A, .port = 80};
    tern_sock_connect(sk, &to);
    tern_loop_run(n->loop, tern_loop_now(n->loop) + 10000000);
    tern_sock_close(sk);
    tern_loop_run(n->loop, tern_loop_now(n->loop) + 1000000); /* let the close finish */
    if (!r.got)
        r.got = calloc(1, 1);
    *len = r.len;
    return r.got;
}

/* Parses the i-th response in buf (head_request for HEAD); NULL if none. */
static const char *nth_response(const char *buf, size_t len, bool head, struct tern_http_resp *p,
                                size_t *body_len)
{
    http_resp_init(p, head);
    size_t off = 0;
    *body_len = 0;
    while (off < len && p->state != TERN_HTTP_DONE && p->state != TERN_HTTP_ERROR) {
        size_t bl;
        const uint8_t *b;
        off += http_resp_feed(p, (const uint8_t *)buf + off, len - off, &b, &bl);
        *body_len += bl;
    }
    return p->state == TERN_HTTP_DONE ? buf + off : NULL;
}

TEST(http_tcp_stream_available)
{
    /* loud failure if this file is enabled before TCP exists */
    struct net2 n;
    REQUIRE(net2_open(&n, 1, NULL) == 0);
    int e = 0;
    struct tern_sock *sk = tern_sock_open(n.sa, TERN_SOCK_STREAM, &e);
    CHECK(sk != NULL);
    CHECK(e != TERN_E_UNSUPPORTED);
    if (sk)
        tern_sock_close(sk);
    net2_close(&n);
}

/* ---- the client ---- */

struct get_state {
    struct tern_loop *loop;
    int status, calls;
    uint64_t last_bytes;
    bool saw_final;
};

static void get_progress(void *ctx, const struct tern_http_progress *p)
{
    struct get_state *g = ctx;
    g->last_bytes = p->bytes;
    if (p->final)
        g->saw_final = true;
}

static void get_done(void *ctx, int status)
{
    struct get_state *g = ctx;
    g->status = status;
    g->calls++;
    tern_loop_stop(g->loop);
}

/* Runs tern get on B with options (url set here); body and messages into
 * malloc'd buffers. */
static int run_get_o(struct net2 *n, struct tern_http_get_opts o, const char *url, char **body,
                     size_t *blen, char **msgs)
{
    size_t mlen;
    FILE *out = open_memstream(body, blen), *err = open_memstream(msgs, &mlen);
    struct get_state g = {.loop = n->loop, .status = -1};
    o.url = url;
    if (!o.connect_timeout_us)
        o.connect_timeout_us = 3000000;
    struct tern_http_get_io io = {.out = out, .err = err, .progress = get_progress,
                                  .done = get_done, .ctx = &g};
    int e;
    struct tern_http_get *h = http_get_start(n->sb, n->loop, &o, &io, &e);
    if (h) {
        tern_loop_run(n->loop, tern_loop_now(n->loop) + 60000000);
        http_get_free(h);
    }
    tern_loop_run(n->loop, tern_loop_now(n->loop) + 1000000);
    fclose(out);
    fclose(err);
    if (h && g.calls != 1)
        return -2;
    return h ? g.status : -1;
}

static int run_get(struct net2 *n, const char *url, char **body, size_t *blen, char **msgs)
{
    return run_get_o(n, (struct tern_http_get_opts){0}, url, body, blen, msgs);
}

TEST(http_tcp_get_file_byte_exact)
{
    struct net2 n;
    struct site s;
    REQUIRE(net2_open(&n, 2, NULL) == 0);
    REQUIRE(site_make(&s) == 0);
    int e;
    struct tern_http_server *srv = server(&n, &s, &e);
    REQUIRE(srv);
    char *body, *msgs;
    size_t blen;
    CHECK_EQ(run_get(&n, "http://10.0.0.1/big.bin", &body, &blen, &msgs), TERN_GET_OK);
    CHECK_EQ(blen, BIG);
    if (blen == BIG)
        CHECK(memcmp(body, s.big, BIG) == 0);
    free(body);
    free(msgs);
    CHECK_EQ(run_get(&n, "http://10.0.0.1/sub/", &body, &blen, &msgs), TERN_GET_OK);
    CHECK_EQ(blen, 10);
    CHECK_MEM(body, "<p>sub</p>", 10);
    free(body);
    free(msgs);
    http_server_free(srv);
    site_free(&s);
    net2_close(&n);
}

TEST(http_tcp_client_errors)
{
    struct net2 n;
    struct site s;
    REQUIRE(net2_open(&n, 3, NULL) == 0);
    REQUIRE(site_make(&s) == 0);
    int e;
    struct tern_http_server *srv = server(&n, &s, &e);
    REQUIRE(srv);
    char *body, *msgs;
    size_t blen;
    /* 404 as curl: the body written, status 0 ... */
    CHECK_EQ(run_get(&n, "http://10.0.0.1/nope", &body, &blen, &msgs), TERN_GET_OK);
    CHECK(blen > 0);
    free(body);
    free(msgs);
    /* ... and with -f (curl --fail) 22, nothing written */
    struct tern_http_get_opts f = {.fail = true};
    CHECK_EQ(run_get_o(&n, f, "http://10.0.0.1/nope", &body, &blen, &msgs), TERN_GET_HTTP_ERROR);
    CHECK_EQ(blen, 0);
    CHECK(strstr(msgs, "the requested URL returned error: 404") != NULL);
    free(body);
    free(msgs);
    /* nobody listens on port 81: refused (RST), curl's 7 */
    CHECK_EQ(run_get(&n, "http://10.0.0.1:81/", &body, &blen, &msgs), TERN_GET_CONNECT);
    CHECK(strstr(msgs, "connection refused") != NULL);
    free(body);
    free(msgs);
    /* nobody at 10.0.0.9: timed out, curl's 28 */
    CHECK_EQ(run_get(&n, "http://10.0.0.9/", &body, &blen, &msgs), TERN_GET_TIMEOUT);
    CHECK(strstr(msgs, "timed out") != NULL);
    free(body);
    free(msgs);
    /* bad URLs never start */
    CHECK_EQ(run_get(&n, "https://10.0.0.1/", &body, &blen, &msgs), -1);
    CHECK(strstr(msgs, "https") != NULL);
    free(body);
    free(msgs);
    http_server_free(srv);
    site_free(&s);
    net2_close(&n);
}

/* ---- the server, with raw requests ---- */

TEST(http_tcp_server_statuses)
{
    struct net2 n;
    struct site s;
    REQUIRE(net2_open(&n, 4, NULL) == 0);
    REQUIRE(site_make(&s) == 0);
    int e;
    struct tern_http_server *srv = server(&n, &s, &e);
    REQUIRE(srv);
    struct tern_http_resp *p = malloc(sizeof *p);
    size_t len, bl;
    char *got;
    /* HEAD: the GET head, no body (RFC 9110 s9.3.2) */
    got = raw_exchange(&n, "HEAD /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);
    REQUIRE(got);
    const char *rest = nth_response(got, len, true, p, &bl);
    CHECK(rest != NULL);
    CHECK_EQ(p->status, 200);
    CHECK_EQ(p->content_length, 13);
    CHECK(rest && *rest == '\0'); /* nothing after the head */
    CHECK_STR(http_resp_field(p, "Date"), "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK_STR(http_resp_field(p, "Content-Type"), "text/plain; charset=utf-8");
    free(got);
    /* 405 with Allow (RFC 9110 s15.5.6) */
    got = raw_exchange(&n, "DELETE /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                       &len);
    CHECK(nth_response(got, len, false, p, &bl) != NULL);
    CHECK_EQ(p->status, 405);
    CHECK_STR(http_resp_field(p, "Allow"), "GET, HEAD");
    free(got);
    /* traversal: 400, whatever the spelling; a symlink out of the root: 404 */
    static const char *const bad[] = {"/../secret-outside", "/%2e%2e/x", "/a/..%2f..%2fx",
                                      "/%00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", bad[i]);
        got = raw_exchange(&n, req, &len);
        CHECK(nth_response(got, len, false, p, &bl) != NULL);
        CHECK_EQ(p->status, 400);
        free(got);
    }
    got = raw_exchange(&n, "GET /list/link HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);
    CHECK(nth_response(got, len, false, p, &bl) != NULL);
    CHECK_EQ(p->status, 404);
    CHECK(strstr(got, "root:") == NULL);
    free(got);
    /* a directory without its slash: 301 to it */
    got = raw_exchange(&n, "GET /sub HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);
    CHECK(nth_response(got, len, false, p, &bl) != NULL);
    CHECK_EQ(p->status, 301);
    CHECK_STR(http_resp_field(p, "Location"), "/sub/");
    free(got);
    /* the listing escapes names */
    got = raw_exchange(&n, "GET /list/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);
    CHECK(nth_response(got, len, false, p, &bl) != NULL);
    CHECK_EQ(p->status, 200);
    CHECK(strstr(got, "<a href=\"%3Cb%3E.txt\">&lt;b&gt;.txt</a>") != NULL);
    free(got);
    /* parser errors: 505, 431, missing Host */
    got = raw_exchange(&n, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", &len);
    CHECK(nth_response(got, len, false, p, &bl) != NULL);
    CHECK_EQ(p->status, 505);
    free(got);
    got = raw_exchange(&n, "GET / HTTP/1.1\r\n\r\n", &len);
    CHECK(nth_response(got, len, false, p, &bl) != NULL);
    CHECK_EQ(p->status, 400);
    free(got);
    free(p);
    CHECK_EQ(http_server_conns(srv), 0);
    http_server_free(srv);
    site_free(&s);
    net2_close(&n);
}

TEST(http_tcp_keep_alive)
{
    struct net2 n;
    struct site s;
    REQUIRE(net2_open(&n, 5, NULL) == 0);
    REQUIRE(site_make(&s) == 0);
    int e;
    struct tern_http_server *srv = server(&n, &s, &e);
    REQUIRE(srv);
    struct tern_http_resp *p = malloc(sizeof *p);
    size_t len, bl;
    /* two pipelined requests on one connection; the second asks to close */
    char *got = raw_exchange(&n, "GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
                                 "GET /sub/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                             &len);
    const char *rest = nth_response(got, len, false, p, &bl);
    REQUIRE(rest);
    CHECK_EQ(p->status, 200);
    CHECK_EQ(bl, 13);
    CHECK(p->keep_alive);
    rest = nth_response(rest, len - (size_t)(rest - got), false, p, &bl);
    CHECK(rest != NULL);
    CHECK_EQ(p->status, 200);
    CHECK_EQ(bl, 10);
    CHECK_STR(http_resp_field(p, "Connection"), "close");
    CHECK_EQ(http_server_stats(srv)->accepted, 1);
    CHECK_EQ(http_server_stats(srv)->requests, 2);
    free(got);
    free(p);
    /* an idle connection is closed after the timeout */
    got = raw_exchange(&n, "", &len);
    CHECK_EQ(len, 0);
    CHECK_EQ(http_server_stats(srv)->timeouts, 1);
    free(got);
    CHECK_EQ(http_server_conns(srv), 0);
    http_server_free(srv);
    site_free(&s);
    net2_close(&n);
}

/* ---- exhaustion (ATTACKS G3) ---- */

static struct tern_sock *dial80(struct net2 *n)
{
    struct tern_sock *sk = tern_sock_open(n->sb, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr to = {.addr = NET2_A, .port = 80};
    if (sk && tern_sock_connect(sk, &to) != TERN_E_INPROGRESS) {
        tern_sock_close(sk);
        return NULL;
    }
    return sk;
}

static void run_us(struct net2 *n, uint64_t us)
{
    tern_loop_run(n->loop, tern_loop_now(n->loop) + us);
}

/* Every slot held by a client that sends nothing (or a byte now and then)
 * used to refuse every newcomer; now the one waiting longest for its
 * request makes room, and the newcomer is answered. */
TEST(http_tcp_full_table_evicts_longest_waiting)
{
    struct net2 n;
    struct site s;
    REQUIRE(net2_open(&n, 7, NULL) == 0);
    REQUIRE(site_make(&s) == 0);
    struct tern_http_server_opts o = {.root = s.dir, .max_conns = 4};
    int e;
    struct tern_http_server *srv = http_server_start(n.sa, n.loop, &o, &e);
    REQUIRE(srv);
    struct tern_sock *slow[4];
    for (int i = 0; i < 4; i++) {
        slow[i] = dial80(&n);
        REQUIRE(slow[i] != NULL);
        run_us(&n, 100000);
    }
    /* slow[0] trickles a byte: still waiting for its request head */
    CHECK_EQ(tern_sock_send(slow[0], "G", 1, 0), 1);
    run_us(&n, 1000000);
    CHECK_EQ(http_server_conns(srv), 4);
    size_t len;
    char *got = raw_exchange(&n, "GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                             &len);
    struct tern_http_resp *p = malloc(sizeof *p);
    size_t bl;
    CHECK(nth_response(got, len, false, p, &bl) != NULL);
    CHECK_EQ(p->status, 200);
    CHECK_EQ(bl, 13);
    CHECK_EQ(http_server_stats(srv)->evicted, 1);
    CHECK_EQ(http_server_stats(srv)->refused, 0);
    /* the victim: slow[0], the longest waiting (its byte does not count) */
    char b[16];
    ssize_t k = tern_sock_recv(slow[0], b, sizeof b, 0);
    CHECK(k == 0 || k == TERN_E_CONNRESET);
    CHECK_EQ(tern_sock_recv(slow[1], b, sizeof b, 0), TERN_E_AGAIN);
    free(got);
    free(p);
    for (int i = 0; i < 4; i++)
        tern_sock_close(slow[i]);
    http_server_free(srv);
    site_free(&s);
    net2_close(&n);
}

/* Once a request's first byte is in, the whole request must arrive within
 * request_timeout_us (10 s), however slowly it trickles; before a request
 * starts, idle_timeout_us (30 s) applies. */
TEST(http_tcp_request_must_arrive_within_timeout)
{
    struct net2 n;
    struct site s;
    REQUIRE(net2_open(&n, 8, NULL) == 0);
    REQUIRE(site_make(&s) == 0);
    struct tern_http_server_opts o = {.root = s.dir};
    int e;
    struct tern_http_server *srv = http_server_start(n.sa, n.loop, &o, &e);
    REQUIRE(srv);
    /* a slowloris: one header byte every 2 s */
    struct tern_sock *sl = dial80(&n);
    REQUIRE(sl != NULL);
    run_us(&n, 100000);
    uint64_t t0 = tern_loop_now(n.loop);
    const char *req = "GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-Pad: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    char b[256];
    bool closed = false;
    uint64_t t_closed = 0;
    for (size_t i = 0; req[i] && !closed; i++) {
        if (tern_sock_send(sl, req + i, 1, 0) != 1)
            break;
        for (int k = 0; k < 20 && !closed; k++) {
            run_us(&n, 100000);
            ssize_t r = tern_sock_recv(sl, b, sizeof b, 0);
            if (r == 0 || (r < 0 && r != TERN_E_AGAIN)) {
                closed = true;
                t_closed = tern_loop_now(n.loop);
            }
        }
    }
    CHECK(closed);
    CHECK(t_closed - t0 >= 10000000);
    CHECK(t_closed - t0 <= 10300000); /* 10 s from its first byte, not 30 s */
    CHECK_EQ(http_server_stats(srv)->request_timeouts, 1);
    CHECK_EQ(http_server_stats(srv)->requests, 0);
    tern_sock_close(sl);
    /* a client that waits 20 s, then sends its request at once, is served */
    struct tern_sock *late = dial80(&n);
    REQUIRE(late != NULL);
    run_us(&n, 20000000);
    const char *r2 = "GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK_EQ(tern_sock_send(late, r2, strlen(r2), 0), (ssize_t)strlen(r2));
    run_us(&n, 500000);
    ssize_t r = tern_sock_recv(late, b, sizeof b - 1, 0);
    REQUIRE(r > 12);
    b[r] = 0;
    CHECK(strncmp(b, "HTTP/1.1 200", 12) == 0);
    /* and then closed 30 s after its response (keep-alive idle), not before */
    run_us(&n, 29000000);
    CHECK_EQ(tern_sock_recv(late, b, sizeof b, 0), TERN_E_AGAIN);
    run_us(&n, 2000000);
    CHECK_EQ(tern_sock_recv(late, b, sizeof b, 0), 0);
    CHECK_EQ(http_server_stats(srv)->timeouts, 2);
    CHECK_EQ(http_server_stats(srv)->request_timeouts, 1);
    tern_sock_close(late);
    http_server_free(srv);
    site_free(&s);
    net2_close(&n);
}

TEST(http_tcp_get_follows_redirects_when_asked)
{
    struct net2 n;
    struct site s;
    REQUIRE(net2_open(&n, 5, NULL) == 0);
    REQUIRE(site_make(&s) == 0);
    int e;
    struct tern_http_server *srv = server(&n, &s, &e);
    REQUIRE(srv);
    char *body, *msgs;
    size_t blen;
    /* the server answers /sub with 301 Location: /sub/ */
    CHECK_EQ(run_get(&n, "http://10.0.0.1/sub", &body, &blen, &msgs), TERN_GET_OK);
    CHECK(blen > 0 && (blen != 10 || memcmp(body, "<p>sub</p>", 10) != 0)); /* the 301's own body */
    free(body);
    free(msgs);
    /* -L: the page it points to, and only that body */
    struct tern_http_get_opts o = {.follow = true, .max_redirs = -1};
    CHECK_EQ(run_get_o(&n, o, "http://10.0.0.1/sub", &body, &blen, &msgs), TERN_GET_OK);
    CHECK_EQ(blen, 10);
    CHECK_MEM(body, "<p>sub</p>", 10);
    free(body);
    free(msgs);
    /* bounded: --max-redirs 0 stops at the first, curl's 47 */
    o.max_redirs = 0;
    CHECK_EQ(run_get_o(&n, o, "http://10.0.0.1/sub", &body, &blen, &msgs),
             TERN_GET_TOO_MANY_REDIRECTS);
    CHECK_EQ(blen, 0);
    CHECK(strstr(msgs, "maximum (0) redirects followed") != NULL);
    free(body);
    free(msgs);
    http_server_free(srv);
    site_free(&s);
    net2_close(&n);
}

/* A server that answers the first request with a head promising 100 bytes,
 * 3 of them, then resets the connection (RST). */
struct rst_server {
    struct tern_sock *l, *c;
    bool sent;
};

static void rst_conn(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct rst_server *r = ctx;
    (void)ev;
    char buf[1024];
    if (r->sent || tern_sock_recv(sk, buf, sizeof buf, 0) <= 0)
        return;
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc";
    tern_sock_send(sk, resp, sizeof resp - 1, 0);
    r->sent = true;
    tern_sock_set_handler(sk, 0, NULL, NULL);
    tern_sock_abort(sk);
    r->c = NULL;
}

static void rst_accept(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct rst_server *r = ctx;
    (void)ev;
    struct tern_sock *c = tern_sock_accept(sk, NULL, NULL);
    if (!c)
        return;
    r->c = c;
    tern_sock_set_handler(c, TERN_POLLIN, rst_conn, r);
}

TEST(http_tcp_get_curl_codes_resolve_and_reset)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 6, NULL) == 0);
    char *body, *msgs;
    size_t blen;
    /* a name nobody answers for (no DNS server on A): curl's 6 */
    struct tern_http_get_opts o = {.dns = {.servers = {NET2_A}, .nservers = 1,
                                           .timeout_us = 200000, .rounds = 1}};
    CHECK_EQ(run_get_o(&n, o, "http://nope.test/", &body, &blen, &msgs), TERN_GET_RESOLVE);
    CHECK(strstr(msgs, "nope.test") != NULL);
    free(body);
    free(msgs);
    /* a reset in the middle of the body: curl's 56 */
    struct rst_server r = {0};
    r.l = tern_sock_open(n.sa, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {.port = 8080};
    REQUIRE(r.l && tern_sock_bind(r.l, &la) == 0 && tern_sock_listen(r.l, 4) == 0);
    tern_sock_set_handler(r.l, TERN_POLLIN, rst_accept, &r);
    CHECK_EQ(run_get(&n, "http://10.0.0.1:8080/", &body, &blen, &msgs), TERN_GET_RECV_ERROR);
    CHECK(r.sent);
    CHECK(strstr(msgs, "reset") != NULL);
    free(body);
    free(msgs);
    tern_sock_close(r.l);
    net2_close(&n);
}
