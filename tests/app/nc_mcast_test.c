/*
 * `tern nc --join` (src/app/nc.c) in virtual time: a receive-only group
 * member (-u -l --join) and a client sending to the group on two stacks
 * of a memory link; the client joined too gets its own datagrams back
 * (IP_MULTICAST_LOOP). tests/scripts/peer_mcast.sh does it against Linux.
 */
#include <string.h>

#include "app/nc.h"
#include "common/net2.h"
#include "harness.h"
#include "nc_run.h"
#include "tern/err.h"

#define SEC 1000000ull
#define GROUP 0xef010203u

TEST(nc_udp_join_group_stream)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 31, NULL) == 0);
    struct run rl, rc;
    struct tern_nc_io iol, ioc;
    run_init(&rl, n.loop, &iol, false);
    run_init(&rc, n.loop, &ioc, false);
    struct tern_nc_opts ol = {.listen = true, .local_port = 5000, .join = GROUP,
                              .quit_after_eof_us = SEC};
    struct tern_nc *l = nc_start(n.sb, n.loop, &ol, &iol, NULL);
    REQUIRE(l != NULL);
    CHECK(!rl.wanting); /* receive only: no input wanted */
    struct tern_nc_opts oc = {.peer_addr = GROUP, .peer_port = 5000, .join = GROUP,
                              .quit_after_eof_us = SEC};
    struct tern_nc *c = nc_start(n.sa, n.loop, &oc, &ioc, NULL);
    REQUIRE(c != NULL);
    CHECK(rc.wanting);
    tern_loop_run(n.loop, tern_loop_now(n.loop) + SEC);
    CHECK_EQ(nc_input(c, "one\n", 4), 0);
    CHECK_EQ(nc_input(c, "two\n", 4), 0);
    tern_loop_run(n.loop, tern_loop_now(n.loop) + SEC);
    nc_input_eof(c);
    tern_loop_run(n.loop, tern_loop_now(n.loop) + 3 * SEC);
    CHECK_EQ(rc.done_calls, 1);
    CHECK_EQ(rc.status, 0);
    CHECK_EQ(rl.done_calls, 0); /* a member listens until stopped */
    fflush(rl.fo);
    fflush(rc.fo);
    CHECK(rl.out_len == 8 && memcmp(rl.out, "one\ntwo\n", 8) == 0);
    CHECK(rc.out_len == 8 && memcmp(rc.out, "one\ntwo\n", 8) == 0); /* its own, looped */
    nc_stop(l);
    CHECK_EQ(rl.status, 0);
    fflush(rl.fe);
    CHECK_EQ(rl.err_len, 0);

    struct tern_nc_opts bad = {.listen = true, .local_port = 5001, .join = 0x0a000001u};
    int err = 0;
    CHECK(nc_start(n.sb, n.loop, &bad, &iol, &err) == NULL);
    CHECK_EQ(err, TERN_E_INVAL);
    nc_free(l);
    nc_free(c);
    run_fini(&rl);
    run_fini(&rc);
    net2_close(&n);
}
