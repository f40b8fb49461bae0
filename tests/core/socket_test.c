/*
 * Tests for src/core/socket.c: the socket pool and its bound, options, the
 * netstat table (tern_sock_list), shutdown, and handler rules. UDP data
 * paths are in udp_test.c.
 */
#include <stdlib.h>

#include "core/socket_impl.h"
#include "harness.h"
#include "tern/socket.h"
#include "world.h"

TEST(sock_table_bounded)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    c.max_sockets = 4;
    struct world *w = world_new(&c);
    struct tern_sock *sk[5];
    int err = 0;
    for (int i = 0; i < 4; i++) {
        sk[i] = tern_sock_open(w->s, TERN_SOCK_DGRAM, &err);
        CHECK(sk[i] != NULL);
        CHECK_EQ(err, 0);
    }
    CHECK(tern_sock_open(w->s, TERN_SOCK_DGRAM, &err) == NULL);
    CHECK_EQ(err, TERN_E_NOMEM);
    CHECK(tern_sock_open(w->s, (enum tern_sock_type)7, &err) == NULL);
    CHECK_EQ(err, TERN_E_INVAL);
    tern_sock_close(sk[2]);
    sk[2] = tern_sock_open(w->s, TERN_SOCK_DGRAM, &err);
    CHECK(sk[2] != NULL);
    for (int i = 0; i < 4; i++)
        tern_sock_close(sk[i]);
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}

TEST(sock_stream_unsupported_until_tcp)
{
    struct world *w = world_new(NULL);
    int err = 0;
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_STREAM, &err);
    if (sk) { /* the TCP module has landed */
        tern_sock_close(sk);
    } else {
        CHECK_EQ(err, TERN_E_UNSUPPORTED);
    }
    sk = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    REQUIRE(sk != NULL);
    CHECK_EQ(tern_sock_listen(sk, 5), TERN_E_OPNOTSUPP);
    CHECK(tern_sock_accept(sk, NULL, &err) == NULL);
    CHECK_EQ(err, TERN_E_OPNOTSUPP);
    tern_sock_close(sk);
    world_end(w);
}

TEST(sock_options)
{
    struct world *w = world_new(NULL);
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    REQUIRE(sk != NULL);
    int v = -5;
    CHECK_EQ(tern_sock_getopt(sk, TERN_IP_TTL, &v), 0);
    CHECK_EQ(v, 64);
    CHECK_EQ(tern_sock_setopt(sk, TERN_IP_TTL, 300), TERN_E_INVAL);
    CHECK_EQ(tern_sock_setopt(sk, TERN_IP_TTL, 5), 0);
    CHECK_EQ(tern_sock_getopt(sk, TERN_IP_TTL, &v), 0);
    CHECK_EQ(v, 5);
    CHECK_EQ(tern_sock_getopt(sk, TERN_SO_BINDTOIFACE, &v), 0);
    CHECK_EQ(v, -1);
    CHECK_EQ(tern_sock_getopt(sk, TERN_SO_RCVBUF, &v), 0);
    CHECK_EQ(v, 65536);
    CHECK_EQ(tern_sock_setopt(sk, TERN_SO_RCVBUF, 1), 0); /* clamped up */
    CHECK_EQ(tern_sock_getopt(sk, TERN_SO_RCVBUF, &v), 0);
    CHECK_EQ(v, SOCK_RCVBUF_MIN);
    CHECK_EQ(tern_sock_setopt(sk, TERN_SO_RCVBUF, -1), TERN_E_INVAL);
    CHECK_EQ(tern_sock_setopt(sk, TERN_TCP_NODELAY, 1), TERN_E_OPNOTSUPP);
    CHECK_EQ(tern_sock_getopt(sk, TERN_SO_BROADCAST, &v), 0);
    CHECK_EQ(v, 0);
    tern_sock_close(sk);
    world_end(w);
}

TEST(sock_ttl_tos_on_the_wire)
{
    struct world *w = world_new(NULL);
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    REQUIRE(sk != NULL);
    tern_sock_setopt(sk, TERN_IP_TTL, 7);
    tern_sock_setopt(sk, TERN_IP_TOS, 0x10);
    tern_sock_setopt(sk, TERN_SO_BROADCAST, 1);
    struct tern_sockaddr to = {0xffffffffu, 9};
    CHECK_EQ(tern_sock_sendto(sk, "t", 1, 0, &to), 1);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL && n >= 34);
    CHECK_EQ(f[15], 0x10);
    CHECK_EQ(f[22], 7);
    tern_sock_close(sk);
    world_end(w);
}

TEST(sock_shutdown_udp)
{
    struct world *w = world_new(NULL);
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    REQUIRE(sk != NULL);
    CHECK_EQ(tern_sock_poll(sk), TERN_POLLOUT);
    CHECK_EQ(tern_sock_shutdown(sk, 9), TERN_E_INVAL);
    /* Linux: the flags are set, ENOTCONN is returned when unconnected. */
    CHECK_EQ(tern_sock_shutdown(sk, TERN_SHUT_WR), TERN_E_NOTCONN);
    struct tern_sockaddr to = {W_PEER, 9};
    CHECK_EQ(tern_sock_sendto(sk, "x", 1, 0, &to), TERN_E_PIPE);
    CHECK_EQ(tern_sock_poll(sk), 0);
    CHECK_EQ(tern_sock_shutdown(sk, TERN_SHUT_RD), TERN_E_NOTCONN);
    CHECK_EQ(tern_sock_poll(sk), TERN_POLLIN | TERN_POLLHUP);
    uint8_t b[4];
    CHECK_EQ(tern_sock_recv(sk, b, sizeof b, 0), 0); /* end of input */
    tern_sock_close(sk);
    world_end(w);
}

TEST(sock_list_rows_sorted)
{
    struct world *w = world_new(NULL);
    struct tern_sock *a = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    struct tern_sock *b = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    struct tern_sock *c = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    REQUIRE(a && b && c);
    struct tern_sockaddr la = {W_US, 53}, lb = {0, 67}, lc = {0, 7}, peer = {W_PEER, 5353};
    CHECK_EQ(tern_sock_bind(a, &la), 0);
    CHECK_EQ(tern_sock_bind(b, &lb), 0);
    CHECK_EQ(tern_sock_bind(c, &lc), 0);
    CHECK_EQ(tern_sock_connect(a, &peer), 0);
    struct tern_sock_info rows[3];
    memset(rows, 0, sizeof rows);
    CHECK_EQ(tern_sock_list(w->s, rows, 3), 3);
    /* Sorted by type, local address, local port. */
    CHECK_EQ(rows[0].local.port, 7);
    CHECK_EQ(rows[1].local.port, 67);
    CHECK_EQ(rows[2].local.port, 53);
    CHECK_EQ(rows[2].local.addr, W_US);
    CHECK_STR(rows[2].state, "ESTABLISHED");
    CHECK_EQ(rows[2].peer.addr, W_PEER);
    CHECK_EQ(rows[2].peer.port, 5353);
    CHECK_STR(rows[0].state, "");
    CHECK_EQ(rows[0].peer.addr, 0);
    CHECK_EQ(rows[0].type, TERN_SOCK_DGRAM);
    CHECK_EQ(rows[0].recv_q, 0);
    /* Fewer rows than sockets: the first ones in order, the full count. */
    memset(rows, 0, sizeof rows);
    CHECK_EQ(tern_sock_list(w->s, rows, 2), 3);
    CHECK_EQ(rows[0].local.port, 7);
    CHECK_EQ(rows[1].local.port, 67);
    CHECK_EQ(tern_sock_list(w->s, NULL, 0), 3);
    tern_sock_close(a);
    tern_sock_close(b);
    tern_sock_close(c);
    CHECK_EQ(tern_sock_list(w->s, rows, 3), 0);
    world_end(w);
}

static void close_self(struct tern_sock *sk, unsigned ev, void *ctx)
{
    int *n = ctx;
    (void)ev;
    (*n)++;
    tern_sock_close(sk);
}

TEST(sock_handler_may_close_itself_and_stack_free_cleans_up)
{
    struct world *w = world_new(NULL);
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    REQUIRE(sk != NULL);
    int n = 0;
    tern_sock_set_handler(sk, TERN_POLLOUT, close_self, &n);
    world_run(w, 10);
    CHECK_EQ(n, 1);
    CHECK_EQ(w->s->sock_count, 0);
    /* A socket left open, with a notification pending, is freed with the
     * stack (ASan's leak check). */
    sk = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    tern_sock_set_handler(sk, TERN_POLLOUT, close_self, &n);
    world_end(w);
    CHECK_EQ(n, 2); /* world_end ran the loop first */
}

/* A probe cancelled before it ends never calls back, and frees nothing twice. */
static int cancel_calls;
static void cancel_cb(void *ctx, bool in_use)
{
    (void)ctx;
    (void)in_use;
    cancel_calls++;
}

TEST(arp_probe_cancel_never_calls_back)
{
    struct tern_loop *loop = tern_loop_virtual_new(0);
    struct tern_stack *s = NULL;
    struct tern_device *a = NULL, *b = NULL;
    REQUIRE(loop && tern_memlink_pair(loop, TERN_LINK_ETHERNET, 1500, 16, &a, &b) == 0);
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    s = tern_stack_new(&cfg, loop);
    REQUIRE(s != NULL);
    struct tern_iface_config ic = {.addr = 0x0a000001, .prefix_len = 24, .up = true};
    int ifx = tern_stack_add_iface(s, a, &ic);
    REQUIRE(ifx >= 0);
    int tag = 0;
    cancel_calls = 0;
    REQUIRE(tern_arp_probe(s, ifx, 0x0a000063, cancel_cb, &tag) == TERN_OK);
    tern_arp_probe_cancel(s, ifx, &tag);
    tern_loop_run(loop, 20000000);
    CHECK_EQ(cancel_calls, 0);
    /* the interface is free for a new probe, which does report */
    REQUIRE(tern_arp_probe(s, ifx, 0x0a000063, cancel_cb, &tag) == TERN_OK);
    tern_loop_run(loop, 40000000);
    CHECK_EQ(cancel_calls, 1);
    tern_stack_free(s);
    tern_device_destroy(a);
    tern_device_destroy(b);
    tern_loop_destroy(loop);
}
