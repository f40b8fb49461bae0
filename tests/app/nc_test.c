/*
 * Tests for src/app/nc.c (UDP netcat) in virtual time: two stacks on a
 * memory link, the classic echo service on one side. What Linux's nc does
 * on the other side of a TAP device is checked in tests/scripts/peer_udp.sh.
 */
#include <stdlib.h>

#include "app/nc.h"
#include "app/services.h"
#include "common/net2.h"
#include "harness.h"
#include "nc_run.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define SEC 1000000ull

TEST(nc_udp_client_to_echo)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 21, NULL) == 0);
    struct tern_services_opts so = {.enable = 1u << TERN_SVC_ECHO};
    struct tern_services *sv = services_start(n.sa, n.loop, &so, NULL, NULL);
    REQUIRE(sv != NULL);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, true);
    struct tern_nc_opts o = {.peer_addr = A_ADDR, .peer_port = 7, .quit_after_eof_us = SEC};
    int err = 1;
    struct tern_nc *nc = nc_start(n.sb, n.loop, &o, &io, &err);
    REQUIRE(nc != NULL);
    CHECK_EQ(err, TERN_OK);
    CHECK(r.wanting); /* a client wants input at once */
    CHECK_EQ(nc_input(nc, "hello\n", 6), 0);
    CHECK_EQ(nc_input(nc, "world\n", 6), 0);
    tern_loop_run(n.loop, 2 * SEC);
    CHECK_EQ(r.done_calls, 0); /* no end of input yet */
    nc_input_eof(nc);
    CHECK(!r.wanting);
    tern_loop_run(n.loop, 10 * SEC);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 0);
    CHECK_EQ(r.done_at, 3 * SEC); /* -q 1 after the end of input */
    fflush(r.fo);
    CHECK_EQ(r.out_len, 12);
    CHECK(r.out_len == 12 && memcmp(r.out, "hello\nworld\n", 12) == 0);
    fflush(r.fe);
    CHECK_EQ(r.err_len, 0);
    nc_free(nc);
    services_free(sv);
    run_fini(&r);
    net2_close(&n);
}

TEST(nc_udp_connection_refused_exit_1)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 21, NULL) == 0);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, true);
    /* nothing listens on A:9999: A answers ICMP port unreachable (RFC 1122
     * s4.1.3.1), which the connected socket turns into ECONNREFUSED */
    struct tern_nc_opts o = {.peer_addr = A_ADDR, .peer_port = 9999, .quit_after_eof_us = SEC};
    struct tern_nc *nc = nc_start(n.sb, n.loop, &o, &io, NULL);
    REQUIRE(nc != NULL);
    CHECK_EQ(nc_input(nc, "anyone?\n", 8), 0);
    tern_loop_run(n.loop, 10 * SEC);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 1);
    CHECK(r.done_at < SEC);
    fflush(r.fe);
    CHECK_STR(r.err, "tern nc: 10.0.0.1 port 9999: connection refused (ICMP port unreachable)\n");
    CHECK(!r.wanting);
    nc_free(nc);
    run_fini(&r);
    net2_close(&n);
}

TEST(nc_udp_listen_takes_first_peer_only)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 21, NULL) == 0);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, true);
    struct tern_nc_opts o = {.listen = true, .local_port = 5000, .quit_after_eof_us = SEC};
    struct tern_nc *nc = nc_start(n.sa, n.loop, &o, &io, NULL);
    REQUIRE(nc != NULL);
    CHECK(!r.wanting); /* no peer yet: no input */
    CHECK_EQ(nc_input(nc, "x", 1), TERN_E_DESTADDRREQ);
    struct tern_sock *p1 = tern_sock_open(n.sb, TERN_SOCK_DGRAM, NULL);
    struct tern_sock *p2 = tern_sock_open(n.sb, TERN_SOCK_DGRAM, NULL);
    REQUIRE(p1 && p2);
    struct tern_sockaddr l1 = {0, 40001}, l2 = {0, 40002}, to = {A_ADDR, 5000};
    REQUIRE(tern_sock_bind(p1, &l1) == 0 && tern_sock_bind(p2, &l2) == 0);
    CHECK_EQ(tern_sock_sendto(p1, "first\n", 6, 0, &to), 6);
    tern_loop_run(n.loop, 1 * SEC);
    CHECK(r.wanting); /* the peer is known */
    CHECK_EQ(tern_sock_sendto(p2, "intruder\n", 9, 0, &to), 9);
    CHECK_EQ(tern_sock_sendto(p1, "second\n", 7, 0, &to), 7);
    tern_loop_run(n.loop, 2 * SEC);
    fflush(r.fo);
    CHECK_EQ(r.out_len, 13);
    CHECK(r.out_len == 13 && memcmp(r.out, "first\nsecond\n", 13) == 0);
    /* input goes back to the first peer */
    CHECK_EQ(nc_input(nc, "back at you\n", 12), 0);
    tern_loop_run(n.loop, 3 * SEC);
    char buf[64];
    struct tern_sockaddr from;
    CHECK_EQ(tern_sock_recvfrom(p1, buf, sizeof buf, 0, &from, NULL), 12);
    CHECK(memcmp(buf, "back at you\n", 12) == 0);
    CHECK_EQ(from.port, 5000);
    CHECK_EQ(tern_sock_recvfrom(p2, buf, sizeof buf, 0, &from, NULL), TERN_E_AGAIN);
    nc_input_eof(nc);
    tern_loop_run(n.loop, 10 * SEC);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 0);
    tern_sock_close(p1);
    tern_sock_close(p2);
    nc_free(nc);
    run_fini(&r);
    net2_close(&n);
}

TEST(nc_udp_start_errors_and_stop)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 21, NULL) == 0);
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, true);
    int err = 0;
    struct tern_nc_opts bad = {.peer_addr = A_ADDR, .peer_port = 0};
    CHECK(nc_start(n.sb, n.loop, &bad, &io, &err) == NULL);
    CHECK_EQ(err, TERN_E_INVAL);
    /* the listen port is taken */
    struct tern_nc_opts l = {.listen = true, .local_port = 5000};
    struct tern_nc *first = nc_start(n.sa, n.loop, &l, &io, &err);
    REQUIRE(first != NULL);
    CHECK(nc_start(n.sa, n.loop, &l, &io, &err) == NULL);
    CHECK_EQ(err, TERN_E_ADDRINUSE);
    /* no route to the peer */
    struct tern_nc_opts far = {.peer_addr = 0xc0000201, .peer_port = 7};
    CHECK(nc_start(n.sb, n.loop, &far, &io, &err) == NULL);
    CHECK_EQ(err, TERN_E_NETUNREACH);
    /* a signal: done(0) once */
    nc_stop(first);
    nc_stop(first);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 0);
    nc_free(first);
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(n.sb, NULL, 0), 0);
    run_fini(&r);
    net2_close(&n);
}
