/*
 * Tests for `tern nc --keepalive` (src/app/nc_tcp.c) in virtual time: the
 * app sets SO_KEEPALIVE and TCP_KEEPIDLE/INTVL/CNT on its socket, so an
 * idle connection to a live peer stays up (each probe answered), and one
 * to a peer gone silent ends after the probes run out (RFC 1122 s4.2.3.6)
 * with "connection timed out" and status 1. The peer (stack B) is a plain
 * socket that accepts and never sends.
 */
#include <stdlib.h>

#include "app/nc.h"
#include "common/net2.h"
#include "harness.h"
#include "nc_run.h"
#include "tern/err.h"
#include "tern/socket.h"

TEST(nc_keepalive_probes_keep_idle_connection_then_time_out)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 21, NULL) == 0);
    struct tern_sock *l = tern_sock_open(n.sb, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {NET2_B, 6000};
    REQUIRE(l && tern_sock_bind(l, &la) == 0 && tern_sock_listen(l, 1) == 0);
    struct tern_nc_opts o = {.tcp = true, .peer_addr = NET2_B, .peer_port = 6000,
                             .quit_after_eof_us = TERN_TIME_NEVER, .keepalive = true,
                             .keepidle_s = 1, .keepintvl_s = 1, .keepcnt = 3};
    struct run r;
    struct tern_nc_io io;
    run_init(&r, n.loop, &io, true);
    int err = 0;
    struct tern_nc *nc = nc_start(n.sa, n.loop, &o, &io, &err);
    REQUIRE(nc != NULL);
    tern_loop_run(n.loop, tern_loop_now(n.loop) + 500000);
    struct tern_sock *b = tern_sock_accept(l, NULL, NULL);
    REQUIRE(b != NULL);
    /* 20 s idle: a probe 1 s (KEEPIDLE) after the last segment heard, each
     * ACKed by B (which restarts the idle time): 20 probes out, 20 ACKs
     * back (one either way at the edges), and no end */
    uint64_t tx0 = tern_stack_stats(n.sa)->tcp.tx, rx0 = tern_stack_stats(n.sb)->tcp.tx;
    uint64_t t0 = tern_loop_now(n.loop);
    tern_loop_run(n.loop, t0 + 20000000);
    CHECK_EQ(r.done_calls, 0);
    uint64_t probes = tern_stack_stats(n.sa)->tcp.tx - tx0;
    uint64_t acks = tern_stack_stats(n.sb)->tcp.tx - rx0;
    CHECK(probes >= 19 && probes <= 21);
    CHECK(acks + 1 >= probes && acks <= probes);

    /* B goes silent: the next probe is due within 1 s (idle), then 3
     * probes 1 s apart get no answer; at the next expiry the connection
     * is reset and nc ends: at most 1 + 3 * 1 = 4 s later, at least 3 s */
    REQUIRE(tern_iface_set_up(n.sb, 0, false) == 0);
    uint64_t t1 = tern_loop_now(n.loop);
    tern_loop_run(n.loop, t1 + 10000000);
    REQUIRE_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 1);
    CHECK(r.done_at - t1 >= 3000000 && r.done_at - t1 <= 4000000);
    fflush(r.fe);
    CHECK(r.err && strstr(r.err, "tern nc: 10.0.0.2 port 6000: connection timed out\n") != NULL);

    nc_free(nc);
    tern_sock_abort(b);
    tern_sock_close(l);
    run_fini(&r);
    tern_loop_run(n.loop, tern_loop_now(n.loop) + 1000000);
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(n.sb, NULL, 0), 0);
    net2_close(&n);
}
