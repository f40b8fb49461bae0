/*
 * tests/core/tcp_timer_test.c - TCP timer arming (tcp_timer.c): every
 * deadline that is set re-arms the connection's loop timer, in every state
 * (state world, tcp_util.h).
 */
#include <string.h>

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

/* RFC 6298 s5 (note after 5.7) and s3 (Karn): the RTO backed off by an
 * expiry collapses only once a valid RTT sample is taken. With timestamps
 * (and, with SACK, RACK's transmit-time table) an ACK of the retransmitted
 * segment whose TSecr echoes the ORIGINAL transmission (older than the
 * retransmission) cannot say which transmission it answers: no sample, the
 * backoff stays. An ACK echoing the retransmission's TSval is a valid sample
 * and resets it. (The conformance script rto/backoff_kept_until_valid_sample
 * covers the Karn path without timestamps.) process_ack used to reset the
 * backoff on every ACK that advanced SND.UNA. */
TEST(tcp_timer_backoff_kept_without_rtt_sample_ts)
{
    for (int v = 0; v < 2; v++) {
        struct world *w = world_new(NULL);
        struct tern_sock *lsk, *sk = wt_establish(w, WT_TS | (v ? WT_NOSACK : 0), &lsk);
        REQUIRE(sk);
        struct tcp_cb *cb = tcp_cb_of(sk);
        CHECK_EQ(cb->rack_on, v == 0);
        static uint8_t d[1000];
        struct tern_tcp_repr out, ack;
        REQUIRE(tern_sock_send(sk, d, sizeof d, 0) == (ssize_t)sizeof d);
        world_run(w, 0);
        REQUIRE(wt_pop(w, &out));
        uint32_t orig_ts = out.opts.ts_val, rtx_ts = 0;
        uint64_t rto = rtt_rto(&cb->rtt);
        /* Until the RTO fires (a TLP probe may come first). */
        for (int i = 0; i < 1000 && cb->rtt.backoff == 0; i++)
            world_run(w, 10000);
        CHECK_EQ(cb->rtt.backoff, 1u);
        while (wt_pop(w, &out)) {
            CHECK_EQ(out.seq, ISS + 1);
            rtx_ts = out.opts.ts_val;
        }
        REQUIRE(rtx_ts != orig_ts);
        /* The ACK echoes the original transmission: no sample. */
        ack = wt_peer(P_ISN + 1, ISS + 1 + sizeof d, ACKF, 1000);
        ack.opts.has_ts = true;
        ack.opts.ts_val = ++g_peer_ts;
        ack.opts.ts_ecr = orig_ts;
        wt_inject(w, &ack);
        CHECK_EQ(cb->snd_una, ISS + 1 + sizeof d);
        CHECK_EQ(cb->rtt.backoff, 1u);
        CHECK_EQ(rtt_rto(&cb->rtt), 2 * rto);
        /* New data, ACKed with its own TSval echoed: a valid sample. */
        REQUIRE(tern_sock_send(sk, d, sizeof d, 0) == (ssize_t)sizeof d);
        world_run(w, 0);
        REQUIRE(wt_pop(w, &out));
        world_run(w, 20000);
        ack = wt_peer(P_ISN + 1, ISS + 1 + 2 * sizeof d, ACKF, 1000);
        ack.opts.has_ts = true;
        ack.opts.ts_val = ++g_peer_ts;
        ack.opts.ts_ecr = out.opts.ts_val;
        wt_inject(w, &ack);
        CHECK_EQ(cb->rtt.backoff, 0u);
        wt_finish(w, sk, lsk);
    }
}

/* The time (us after the call, >= 1) until the next segment we send, or 0
 * if none within limit_us; steps of 10 ms. */
static uint64_t until_next_segment(struct world *w, struct tern_tcp_repr *out, uint64_t limit_us)
{
    for (uint64_t t = 0; t <= limit_us; t += 10000) {
        if (wt_pop(w, out))
            return t ? t : 1;
        world_run(w, 10000);
    }
    return 0;
}

/* RFC 1122 4.2.3.6: the keep-alive interval MUST be configurable; a value
 * set while the timer runs counts at once (as Linux's TCP_KEEPIDLE), not
 * after the next segment re-arms the timer. The conformance script
 * rfc1122/keepalive_idle_set_after_enable covers TCP_KEEPIDLE while idle;
 * here TCP_KEEPIDLE lowered below the time already idle (the probe goes
 * at once), and TCP_KEEPINTVL changed between probes (the next probe
 * follows the last by the new interval: tern's choice, Linux applies a
 * new interval only after the next probe). ARP entries are kept for the
 * whole test (the state world does not answer ARP requests). */
TEST(tcp_timer_keepalive_options_apply_to_running_timer)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.arp_reachable_us = 1200ull * 1000000; /* gone by world_end */
    cfg.arp_stale_us = 1000000;
    struct world *w = world_new(&cfg);
    struct tern_sock *lsk, *sk = wt_establish(w, WT_NOSACK, &lsk);
    REQUIRE(sk);
    struct tern_tcp_repr out;
    memset(&out, 0, sizeof out);
    CHECK_EQ(tern_sock_setopt(sk, TERN_SO_KEEPALIVE, 1), 0); /* default idle: 2 h */
    world_run(w, 100 * 1000000ull);
    CHECK(!wt_pop(w, &out));
    /* 100 s idle already: an idle time of 30 s has passed: probe now. */
    CHECK_EQ(tern_sock_setopt(sk, TERN_TCP_KEEPIDLE, 30), 0);
    uint64_t t = until_next_segment(w, &out, 1000000);
    CHECK(t > 0 && t <= 10000);
    CHECK_EQ(out.seq, ISS); /* SND.NXT - 1: a keep-alive probe */
    /* Probing: the next probe after the default 75 s interval... */
    world_run(w, 20 * 1000000ull);
    CHECK(!wt_pop(w, &out));
    /* ...unless the interval is lowered: 5 s after the last probe has
     * passed (20 s ago): the next probe goes now; then every 5 s. */
    CHECK_EQ(tern_sock_setopt(sk, TERN_TCP_KEEPINTVL, 5), 0);
    t = until_next_segment(w, &out, 1000000);
    CHECK(t > 0 && t <= 10000);
    CHECK_EQ(out.seq, ISS);
    t = until_next_segment(w, &out, 10 * 1000000);
    CHECK(t >= 4990000 && t <= 5010000);
    /* TCP_KEEPIDLE changed while probing waits for the next idle period. */
    CHECK_EQ(tern_sock_setopt(sk, TERN_TCP_KEEPIDLE, 1000), 0);
    t = until_next_segment(w, &out, 10 * 1000000);
    CHECK(t >= 4990000 && t <= 5010000);
    /* An answer ends the probing; the idle time is the new 1000 s. */
    struct tern_tcp_repr ack = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    wt_inject(w, &ack);
    world_run(w, 999 * 1000000ull);
    CHECK(!wt_pop(w, &out));
    t = until_next_segment(w, &out, 2 * 1000000);
    CHECK(t > 990000 && t <= 1010000);
    wt_finish(w, sk, lsk);
}
