/*
 * Tests for src/app/nc_tcp.c (TCP netcat) in virtual time: two stacks on a
 * memory link (tests/common/net2.h). The peer is a plain socket written
 * here, or the TCP echo service. Linux's nc on the other side of a TAP
 * device: tests/scripts/peer_tcp_nc.sh.
 */
#include <stdlib.h>

#include "app/nc.h"
#include "app/services.h"
#include "common/net2.h"
#include "harness.h"
#include "nc_run.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define SEC 1000000ull
#define MS 1000ull
#define CHUNK 16384

static void run_for(struct net2 *n, uint64_t us)
{
    tern_loop_run(n->loop, tern_loop_now(n->loop) + us);
}

/* The stdin side of `tern nc`: chunks while the app wants input, then end
 * of input. */
struct feeder {
    const uint8_t *data;
    size_t len, off;
    bool eof_sent;
    int want_off_before_eof;
};

static void feed(struct tern_nc *nc, struct run *r, struct feeder *f)
{
    while (r->wanting && f->off < f->len && !r->done_calls) {
        size_t k = f->len - f->off < CHUNK ? f->len - f->off : CHUNK;
        if (nc_input(nc, f->data + f->off, k) != 0)
            return;
        f->off += k;
    }
    if (r->wanting && f->off == f->len && !f->eof_sent) {
        f->want_off_before_eof = r->want_off;
        nc_input_eof(nc);
        f->eof_sent = true;
    }
}

/* A peer written on the socket API: accepts one connection, reads nothing
 * until read_after_us, then reads to EOF and only then sends its reply and
 * FIN - so nc must keep reading after its own half-close. */
struct peer {
    struct tern_sock *l, *c;
    uint8_t *got;
    size_t got_len, cap;
    const uint8_t *reply;
    size_t reply_len, reply_off;
    bool eof, shut;
    uint64_t read_after_us, eof_at;
};

static void peer_step(struct peer *p, uint64_t now)
{
    if (!p->c && !(p->c = tern_sock_accept(p->l, NULL, NULL)))
        return;
    if (now < p->read_after_us)
        return;
    while (!p->eof) {
        ssize_t n = tern_sock_recv(p->c, p->got + p->got_len, p->cap - p->got_len, 0);
        if (n <= 0) {
            if (n == 0) {
                p->eof = true;
                p->eof_at = now;
            }
            break;
        }
        p->got_len += (size_t)n;
    }
    if (!p->eof)
        return;
    while (p->reply_off < p->reply_len) {
        ssize_t n = tern_sock_send(p->c, p->reply + p->reply_off, p->reply_len - p->reply_off, 0);
        if (n <= 0)
            return;
        p->reply_off += (size_t)n;
    }
    if (!p->shut)
        p->shut = tern_sock_shutdown(p->c, TERN_SHUT_WR) == 0;
}

static uint8_t *pattern(size_t len, unsigned seed)
{
    uint8_t *d = malloc(len);
    for (size_t i = 0; d && i < len; i++)
        d[i] = (uint8_t)((i * 131 + seed) ^ (i >> 9));
    return d;
}

TEST(nc_tcp_client_half_close_both_directions)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 41, NULL) == 0);
    enum { UP = 600000, DOWN = 300000 };
    uint8_t *up = pattern(UP, 1), *down = pattern(DOWN, 2);
    struct peer p = {.cap = UP + 1, .reply = down, .reply_len = DOWN, .read_after_us = 2 * SEC};
    p.got = malloc(p.cap);
    REQUIRE(up && down && p.got);
    p.l = tern_sock_open(n.sa, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {.port = 5000};
    REQUIRE(p.l && tern_sock_bind(p.l, &la) == 0 && tern_sock_listen(p.l, 4) == 0);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, false);
    struct tern_nc_opts o = {.tcp = true, .peer_addr = NET2_A, .peer_port = 5000,
                             .quit_after_eof_us = TERN_TIME_NEVER};
    int err = 1;
    struct tern_nc *nc = nc_start(n.sb, n.loop, &o, &io, &err);
    REQUIRE(nc != NULL);
    CHECK_EQ(err, TERN_OK);
    CHECK(!r.wanting); /* TCP: input once connected */
    struct feeder f = {.data = up, .len = UP};
    for (int i = 0; i < 60000 && !r.done_calls; i++) {
        feed(nc, &r, &f);
        peer_step(&p, tern_loop_now(n.loop));
        run_for(&n, MS);
    }
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 0);
    /* back-pressure: the peer read nothing for 2 s, so input was turned off */
    CHECK(f.want_off_before_eof > 0);
    CHECK_EQ(p.got_len, UP);
    CHECK(p.got_len == UP && memcmp(p.got, up, UP) == 0);
    /* nc's FIN came first; the reply was sent only after it and still arrived */
    CHECK(p.eof && p.eof_at < r.done_at);
    fflush(r.fo);
    CHECK_EQ(r.out_len, DOWN);
    CHECK(r.out_len == DOWN && memcmp(r.out, down, DOWN) == 0);
    fflush(r.fe);
    CHECK_EQ(r.err_len, 0);
    nc_free(nc);
    tern_sock_close(p.c);
    tern_sock_close(p.l);
    run_for(&n, 200 * SEC); /* TIME_WAIT */
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(n.sb, NULL, 0), 0);
    free(up);
    free(down);
    free(p.got);
    run_fini(&r);
    net2_close(&n);
}

/* The peer closes its side at once (Linux `nc -l -N </dev/null`) and only
 * reads. nc has both directions ended as soon as its input is queued, with
 * most of it not yet sent; a process whose stack lives inside it must not
 * end then. When done() fires, everything nc sent must already be
 * acknowledged, FIN included: A holds all bytes without the loop running
 * again (the tool exits right after done()). */
TEST(nc_tcp_done_only_after_the_peer_has_everything)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 46, NULL) == 0);
    enum { LEN = 600000 };
    uint8_t *data = pattern(LEN, 5), *got = malloc(LEN + 1);
    REQUIRE(data && got);
    struct tern_sock *l = tern_sock_open(n.sa, TERN_SOCK_STREAM, NULL), *c = NULL;
    struct tern_sockaddr la = {.port = 5000};
    REQUIRE(l && tern_sock_bind(l, &la) == 0 && tern_sock_listen(l, 4) == 0);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, true);
    struct tern_nc_opts o = {.tcp = true, .peer_addr = NET2_A, .peer_port = 5000,
                             .quit_after_eof_us = TERN_TIME_NEVER};
    struct tern_nc *nc = nc_start(n.sb, n.loop, &o, &io, NULL);
    REQUIRE(nc != NULL);
    struct feeder f = {.data = data, .len = LEN};
    size_t got_len = 0;
    for (int i = 0; i < 20000 && !r.done_calls; i++) {
        feed(nc, &r, &f);
        if (!c && (c = tern_sock_accept(l, NULL, NULL)))
            CHECK_EQ(tern_sock_shutdown(c, TERN_SHUT_WR), 0);
        for (ssize_t k; c && (k = tern_sock_recv(c, got + got_len, LEN + 1 - got_len, 0)) > 0;)
            got_len += (size_t)k;
        run_for(&n, MS);
    }
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 0);
    REQUIRE(c != NULL);
    /* no more loop turns: what A has now is all it would ever get */
    ssize_t k;
    while ((k = tern_sock_recv(c, got + got_len, LEN + 1 - got_len, 0)) > 0)
        got_len += (size_t)k;
    CHECK_EQ(k, 0); /* nc's FIN arrived too */
    CHECK_EQ(got_len, LEN);
    CHECK(got_len == LEN && memcmp(got, data, LEN) == 0);
    nc_free(nc);
    tern_sock_close(c);
    tern_sock_close(l);
    run_for(&n, 200 * SEC); /* TIME_WAIT */
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(n.sb, NULL, 0), 0);
    free(data);
    free(got);
    run_fini(&r);
    net2_close(&n);
}

TEST(nc_tcp_to_echo_service)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 42, NULL) == 0);
    struct tern_services_opts so = {.enable = 1u << TERN_SVC_ECHO};
    struct tern_services_tcp *sv = services_tcp_start(n.sa, n.loop, &so, NULL, NULL);
    REQUIRE(sv != NULL);
    enum { LEN = 200000 };
    uint8_t *data = pattern(LEN, 3);
    REQUIRE(data != NULL);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, false);
    struct tern_nc_opts o = {.tcp = true, .peer_addr = NET2_A, .peer_port = 7,
                             .quit_after_eof_us = TERN_TIME_NEVER};
    struct tern_nc *nc = nc_start(n.sb, n.loop, &o, &io, NULL);
    REQUIRE(nc != NULL);
    struct feeder f = {.data = data, .len = LEN};
    for (int i = 0; i < 20000 && !r.done_calls; i++) {
        feed(nc, &r, &f);
        run_for(&n, MS);
    }
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 0);
    fflush(r.fo);
    CHECK_EQ(r.out_len, LEN);
    CHECK(r.out_len == LEN && memcmp(r.out, data, LEN) == 0);
    nc_free(nc);
    services_tcp_free(sv);
    free(data);
    run_fini(&r);
    net2_close(&n);
}

TEST(nc_tcp_listen_accepts_one)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 43, NULL) == 0);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, false);
    struct tern_nc_opts o = {.tcp = true, .listen = true, .local_port = 5000,
                             .quit_after_eof_us = TERN_TIME_NEVER};
    struct tern_nc *nc = nc_start(n.sa, n.loop, &o, &io, NULL);
    REQUIRE(nc != NULL);
    CHECK(!r.wanting);
    CHECK_EQ(nc_input(nc, "x", 1), TERN_E_NOTCONN);
    struct tern_sock *c = tern_sock_open(n.sb, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr to = {.addr = NET2_A, .port = 5000};
    REQUIRE(c != NULL);
    CHECK_EQ(tern_sock_connect(c, &to), TERN_E_INPROGRESS);
    run_for(&n, 10 * MS);
    CHECK(r.wanting);
    CHECK_EQ(tern_sock_send(c, "hello nc\n", 9, 0), 9);
    CHECK_EQ(tern_sock_shutdown(c, TERN_SHUT_WR), 0);
    run_for(&n, SEC);
    fflush(r.fo);
    CHECK_EQ(r.out_len, 9);
    CHECK(r.out_len == 9 && memcmp(r.out, "hello nc\n", 9) == 0);
    CHECK_EQ(r.done_calls, 0); /* the peer's FIN alone does not end the run */
    /* one connection only: the listener is gone, a second client is refused */
    struct tern_sock *c2 = tern_sock_open(n.sb, TERN_SOCK_STREAM, NULL);
    REQUIRE(c2 != NULL);
    CHECK_EQ(tern_sock_connect(c2, &to), TERN_E_INPROGRESS);
    CHECK_EQ(nc_input(nc, "and back\n", 9), 0);
    nc_input_eof(nc);
    run_for(&n, SEC);
    CHECK_EQ(tern_sock_error(c2), TERN_E_CONNREFUSED);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 0);
    char buf[32];
    CHECK_EQ(tern_sock_recv(c, buf, sizeof buf, 0), 9);
    CHECK(memcmp(buf, "and back\n", 9) == 0);
    CHECK_EQ(tern_sock_recv(c, buf, sizeof buf, 0), 0);
    tern_sock_close(c);
    tern_sock_close(c2);
    nc_free(nc);
    run_fini(&r);
    net2_close(&n);
}

TEST(nc_tcp_connection_refused_exit_1)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 44, NULL) == 0);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, false);
    /* nothing listens on A:9999: A answers the SYN with RST (RFC 9293
     * s3.10.7.1), which is ECONNREFUSED */
    struct tern_nc_opts o = {.tcp = true, .peer_addr = NET2_A, .peer_port = 9999,
                             .connect_timeout_us = 5 * SEC};
    struct tern_nc *nc = nc_start(n.sb, n.loop, &o, &io, NULL);
    REQUIRE(nc != NULL);
    run_for(&n, 10 * SEC);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 1);
    CHECK(r.done_at < SEC);
    fflush(r.fe);
    CHECK_STR(r.err, "tern nc: 10.0.0.1 port 9999: connection refused\n");
    CHECK(!r.wanting);
    CHECK_EQ(r.want_on, 0);
    nc_free(nc);
    CHECK_EQ(tern_sock_list(n.sb, NULL, 0), 0);
    run_fini(&r);
    net2_close(&n);
}

/* 192.0.2.1 (TEST-NET-1) routed via A, which does not forward: SYNs vanish. */
static void blackhole_route(struct net2 *n)
{
    uint32_t nh = 0;
    int ifx = -1;
    REQUIRE(tern_route_lookup(n->sb, NET2_A, &nh, &ifx) == 0);
    REQUIRE(tern_route_add(n->sb, 0xc0000200u, 24, NET2_A, ifx) == 0);
}

TEST(nc_tcp_connect_timeout_w)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 45, NULL) == 0);
    blackhole_route(&n);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, false);
    struct tern_nc_opts o = {.tcp = true, .peer_addr = 0xc0000201u, .peer_port = 80,
                             .connect_timeout_us = 3 * SEC};
    struct tern_nc *nc = nc_start(n.sb, n.loop, &o, &io, NULL);
    REQUIRE(nc != NULL);
    run_for(&n, 10 * SEC);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 1);
    CHECK_EQ(r.done_at, 3 * SEC); /* nc -w 3 */
    fflush(r.fe);
    CHECK_STR(r.err, "tern nc: 192.0.2.1 port 80: connection timed out\n");
    nc_free(nc);
    CHECK_EQ(tern_sock_list(n.sb, NULL, 0), 0);
    run_fini(&r);
    net2_close(&n);
}

TEST(nc_tcp_connect_timeout_syn_retries)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 46, NULL) == 0);
    blackhole_route(&n);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, false);
    /* no -w: the stack gives up after its SYN retries (Linux: 6, ~127 s) */
    struct tern_nc_opts o = {.tcp = true, .peer_addr = 0xc0000201u, .peer_port = 80};
    struct tern_nc *nc = nc_start(n.sb, n.loop, &o, &io, NULL);
    REQUIRE(nc != NULL);
    run_for(&n, 400 * SEC);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 1);
    CHECK(r.done_at >= 60 * SEC && r.done_at <= 200 * SEC);
    fflush(r.fe);
    CHECK_STR(r.err, "tern nc: 192.0.2.1 port 80: connection timed out\n");
    nc_free(nc);
    run_fini(&r);
    net2_close(&n);
}

TEST(nc_tcp_reset_by_peer)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 47, NULL) == 0);
    struct tern_sock *l = tern_sock_open(n.sa, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {.port = 5000};
    REQUIRE(l && tern_sock_bind(l, &la) == 0 && tern_sock_listen(l, 4) == 0);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, false);
    struct tern_nc_opts o = {.tcp = true, .peer_addr = NET2_A, .peer_port = 5000};
    struct tern_nc *nc = nc_start(n.sb, n.loop, &o, &io, NULL);
    REQUIRE(nc != NULL);
    run_for(&n, 10 * MS);
    struct tern_sock *c = tern_sock_accept(l, NULL, NULL);
    REQUIRE(c != NULL);
    CHECK_EQ(tern_sock_send(c, "bye", 3, 0), 3);
    run_for(&n, 10 * MS);
    tern_sock_abort(c); /* RST */
    run_for(&n, SEC);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 1);
    fflush(r.fo);
    CHECK_EQ(r.out_len, 3);
    fflush(r.fe);
    CHECK_STR(r.err, "tern nc: 10.0.0.1 port 5000: connection reset by peer\n");
    nc_free(nc);
    tern_sock_close(l);
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(n.sb, NULL, 0), 0);
    run_fini(&r);
    net2_close(&n);
}
