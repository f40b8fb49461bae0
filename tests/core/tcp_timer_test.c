/*
 * tests/core/tcp_timer_test.c - TCP timer arming (tcp_timer.c): every
 * deadline that is set re-arms the connection's loop timer, in every state
 * (state world, tcp_util.h).
 */
#include "harness.h"
#include "tcp_util.h"

/* RFC 9293 s3.8.6.3 / RFC 1122 4.2.3.2: an in-order segment may wait for
 * the delayed-ACK timer, at most 500 ms (we use 40 ms) - in FIN-WAIT-2 too,
 * where tcp_output sends nothing. The deadline used to be set without
 * re-arming the loop timer there, so no ACK came until another segment
 * arrived; under loss the peer's RTT samples then included its whole RTO
 * and its RTO climbed to 60 s. */
TEST(tcp_timer_delayed_ack_fires_in_fin_wait_2)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk, *sk = wt_establish(w, 0, &lsk);
    REQUIRE(sk);
    CHECK_EQ(tern_sock_shutdown(sk, TERN_SHUT_WR), 0);
    world_run(w, 0);
    struct tern_tcp_repr out;
    REQUIRE(wt_pop(w, &out));
    CHECK(out.flags & TERN_TCP_FIN);
    struct tern_tcp_repr ack = wt_seg(P_PORT, 80, P_ISN + 1, ISS + 2, ACKF, 1000);
    wt_inject(w, &ack); /* our FIN acknowledged: FIN-WAIT-2 */
    CHECK_STR(tcp_state_name(tcp_cb_of(sk)->state), "FIN_WAIT2");
    static uint8_t d[100];
    struct tern_tcp_repr seg = wt_seg(P_PORT, 80, P_ISN + 1, ISS + 2, ACKF, 1000);
    seg.payload = d;
    seg.payload_len = 100;
    wt_inject(w, &seg);
    CHECK(!wt_pop(w, &out)); /* one segment: the ACK is delayed */
    world_run(w, 500000);    /* > the 40 ms delayed-ACK timer, < 500 ms */
    REQUIRE(wt_pop(w, &out));
    CHECK_EQ(out.ack, P_ISN + 101);
    CHECK_EQ(out.payload_len, 0u);
    tern_sock_abort(sk);
    tern_sock_close(lsk);
    world_end(w);
}
