/*
 * TCP per-state tests (RFC 9293 s3.10.7): crafted segments in, the exact
 * segments out, on the state world (world.h). Expected sequence and
 * acknowledgment numbers come from the RFC text cited at each check; our
 * ISN is forced through tcp_test_force_iss so the numbers are known.
 * The peer is 10.0.0.2:40000 with ISN 1000; we are 10.0.0.1:80, ISS 5000.
 */
#include <stdlib.h>

#include "harness.h"
#include "tcp_util.h"

TEST(tcp_state_passive_open_data_and_ack)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    struct tern_tcp_repr d = wt_peer(P_ISN + 1, ISS + 1, ACKF | TERN_TCP_PSH, 1000);
    d.payload = (const uint8_t *)"hello";
    d.payload_len = 5;
    wt_inject(w, &d);
    /* One segment: the ACK is delayed (RFC 9293 s3.8.6.3), <= 200 ms. */
    CHECK_EQ(world_pending_ip(w), 0);
    world_run(w, 200000);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.flags, ACKF);
    CHECK_EQ(a.seq, ISS + 1);
    CHECK_EQ(a.ack, P_ISN + 6);
    char buf[16];
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 5);
    CHECK_MEM(buf, "hello", 5);
    /* Our data: one segment, ACK + PSH, seq ISS+1. */
    CHECK_EQ(tern_sock_send(sk, "world", 5, 0), 5);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.flags, ACKF | TERN_TCP_PSH);
    CHECK_EQ(a.seq, ISS + 1);
    CHECK_EQ(a.payload_len, 5);
    CHECK_MEM(a.payload, "world", 5);
    wt_finish(w, sk, l);
}

TEST(tcp_state_rst_on_closed_port_exact)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    /* RFC 9293 s3.10.7.1, ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
     * SEG.LEN counts the SYN and the 3 data bytes. */
    struct tern_tcp_repr s = wt_seg(P_PORT, 9, 777, 0, TERN_TCP_SYN, 1024);
    s.payload = (const uint8_t *)"abc";
    s.payload_len = 3;
    wt_inject(w, &s);
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.flags, TERN_TCP_RST | ACKF);
    CHECK_EQ(r.seq, 0);
    CHECK_EQ(r.ack, 777 + 4);
    CHECK_EQ(r.sport, 9);
    CHECK_EQ(r.dport, P_PORT);
    CHECK_EQ(r.payload_len, 0);
    /* ACK on: <SEQ=SEG.ACK><CTL=RST>. */
    s = wt_seg(P_PORT, 9, 777, 0xdeadbeef, ACKF, 1024);
    wt_inject(w, &s);
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.flags, TERN_TCP_RST);
    CHECK_EQ(r.seq, 0xdeadbeef);
    /* An incoming RST is discarded. */
    s = wt_seg(P_PORT, 9, 777, 0, TERN_TCP_RST, 0);
    wt_inject(w, &s);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.no_conn, 3);
    world_end(w);
}

TEST(tcp_state_listen_ack_gets_rst_and_rst_ignored)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct tern_sock *l = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(l, &la), 0);
    CHECK_EQ(tern_sock_listen(l, 8), 0);
    /* s3.10.7.2: an ACK to a listener -> <SEQ=SEG.ACK><CTL=RST> (a forged
     * cookie does not verify). */
    struct tern_tcp_repr s = wt_peer(1, 12345, ACKF, 100);
    wt_inject(w, &s);
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.flags, TERN_TCP_RST);
    CHECK_EQ(r.seq, 12345);
    s = wt_peer(1, 0, TERN_TCP_RST, 0);
    wt_inject(w, &s);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(w->s->sock_count, 1);
    wt_finish(w, NULL, l);
}

TEST(tcp_state_active_open_exact_and_rst_in_syn_sent)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr me = {0, 3333}, to = {W_PEER, 80};
    CHECK_EQ(tern_sock_bind(sk, &me), 0);
    tcp_test_force_iss(w->s, 0x10000);
    CHECK_EQ(tern_sock_connect(sk, &to), TERN_E_INPROGRESS);
    CHECK_EQ(tern_sock_connect(sk, &to), TERN_E_ALREADY);
    struct tern_tcp_repr syn;
    REQUIRE(wt_pop(w, &syn));
    CHECK_EQ(syn.flags, TERN_TCP_SYN);
    CHECK_EQ(syn.seq, 0x10000);
    CHECK(syn.opts.has_mss && syn.opts.has_wscale && syn.opts.sack_perm && syn.opts.has_ts);
    CHECK_STR(wt_state(sk), "SYN_SENT");
    /* s3.10.7.3: an ACK not acknowledging our SYN (SEG.ACK =< ISS) ->
     * <SEQ=SEG.ACK><CTL=RST>, state unchanged. */
    struct tern_tcp_repr bad = wt_seg(80, 3333, 9, 0x10000, ACKF, 100);
    wt_inject(w, &bad);
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.flags, TERN_TCP_RST);
    CHECK_EQ(r.seq, 0x10000);
    /* A RST without an acceptable ACK is dropped (RFC 5961 s3.2 / 9293). */
    bad = wt_seg(80, 3333, 9, 0, TERN_TCP_RST, 0);
    wt_inject(w, &bad);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_STR(wt_state(sk), "SYN_SENT");
    /* RST with ACK = ISS+1: connection refused. */
    bad = wt_seg(80, 3333, 0, 0x10001, TERN_TCP_RST | ACKF, 0);
    wt_inject(w, &bad);
    CHECK_STR(wt_state(sk), "CLOSE");
    CHECK_EQ(tern_sock_error(sk), TERN_E_CONNREFUSED);
    tern_sock_close(sk);
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}

/* A world whose ARP entry for the peer outlives a 3-minute open attempt
 * (the state world does not answer ARP requests) and is gone by
 * world_end. */
static struct world *long_arp_world(void)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.arp_reachable_us = 300ull * 1000000;
    cfg.arp_stale_us = 1000000;
    return world_new(&cfg);
}

TEST(tcp_state_syn_retries_then_timeout)
{
    struct world *w = long_arp_world();
    world_learn_peer(w);
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr to = {W_PEER, 80};
    CHECK_EQ(tern_sock_connect(sk, &to), TERN_E_INPROGRESS);
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r));
    uint32_t iss = r.seq;
    /* RFC 6298 s5.5: the RTO doubles, up to its 60 s maximum: SYNs at 1,
     * 3, 7, 15, 31, 63, 123 s after the first (initial RTO 1 s); RFC 9293
     * s3.8.3: the attempt lasts at least 3 minutes: it times out at the
     * next expiry, 183 s. */
    uint64_t t0 = tern_loop_now(w->loop), want[] = {1, 3, 7, 15, 31, 63, 123};
    for (int i = 0; i < 7; i++) {
        world_run(w, (want[i] * 1000000 + t0) - tern_loop_now(w->loop) - 1);
        CHECK_EQ(world_pending_ip(w), 0);
        world_run(w, 1);
        REQUIRE(wt_pop(w, &r));
        CHECK_EQ(r.flags, TERN_TCP_SYN);
        CHECK_EQ(r.seq, iss);
    }
    world_run(w, 59999999);
    CHECK_EQ(tern_sock_error(sk), 0);
    CHECK_STR(wt_state(sk), "SYN_SENT");
    world_run(w, 1);
    CHECK_EQ(tern_sock_error(sk), TERN_E_TIMEDOUT);
    tern_sock_close(sk);
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}

/* The SYN-ACK is a SYN segment too (RFC 9293 s3.8.3 MUST-23, R2 at least
 * 3 minutes): the embryonic connection resends it at 1, 3, ... 123 s and
 * is dropped at the expiry after 3 minutes, 183 s (Linux: 63 s). */
TEST(tcp_state_syn_ack_retries_three_minutes)
{
    struct world *w = long_arp_world();
    world_learn_peer(w);
    struct tern_sock *lsk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(lsk, &la), 0);
    CHECK_EQ(tern_sock_listen(lsk, 8), 0);
    struct tern_tcp_repr syn = wt_peer(P_ISN, 0, TERN_TCP_SYN, 65535), r;
    wt_inject(w, &syn);
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.flags, TERN_TCP_SYN | ACKF);
    uint32_t iss = r.seq;
    /* the listener, and the embryonic connection as a SYN-queue record
     * (tcp_req.c): no socket yet */
    CHECK_EQ(w->s->sock_count, 1u);
    CHECK_EQ(tcp_req_count(w->s), 1u);
    uint64_t t0 = tern_loop_now(w->loop), want[] = {1, 3, 7, 15, 31, 63, 123};
    for (int i = 0; i < 7; i++) {
        world_run(w, (want[i] * 1000000 + t0) - tern_loop_now(w->loop) - 1);
        CHECK_EQ(world_pending_ip(w), 0);
        world_run(w, 1);
        REQUIRE(wt_pop(w, &r));
        CHECK_EQ(r.flags, TERN_TCP_SYN | ACKF);
        CHECK_EQ(r.seq, iss);
    }
    world_run(w, 59999999);
    CHECK_EQ(tcp_req_count(w->s), 1u);
    world_run(w, 1);
    CHECK_EQ(tcp_req_count(w->s), 0u); /* R2: given up 183 s after the SYN */
    CHECK_EQ(tcp_cb_of(lsk)->synq_len, 0u);
    CHECK_EQ(w->s->sock_count, 1u);
    CHECK_EQ(world_pending_ip(w), 0);
    tern_sock_close(lsk);
    world_end(w);
}

TEST(attack_29_rst_in_window_challenge_exact_resets_outside_dropped)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    /* In the window, not RCV.NXT: a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>. */
    struct tern_tcp_repr rst = wt_peer(P_ISN + 1 + 100, 0, TERN_TCP_RST, 0);
    wt_inject(w, &rst);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.flags, ACKF);
    CHECK_EQ(a.seq, ISS + 1);
    CHECK_EQ(a.ack, P_ISN + 1);
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    /* Outside the window: silently dropped. */
    rst = wt_peer(P_ISN + 1 + 10000000, 0, TERN_TCP_RST, 0);
    wt_inject(w, &rst);
    rst = wt_peer(P_ISN - 5, 0, TERN_TCP_RST, 0);
    wt_inject(w, &rst);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    /* Exactly RCV.NXT: reset. */
    rst = wt_peer(P_ISN + 1, 0, TERN_TCP_RST, 0);
    wt_inject(w, &rst);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_STR(wt_state(sk), "CLOSE");
    CHECK_EQ(tern_sock_error(sk), TERN_E_CONNRESET);
    CHECK(tern_sock_poll(sk) & TERN_POLLHUP);
    wt_finish(w, sk, l);
}

TEST(attack_30_syn_on_synchronized_challenge_ack)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    uint32_t seqs[] = {P_ISN + 1, P_ISN + 50, P_ISN + 100000000u, 7};
    for (int i = 0; i < 4; i++) {
        struct tern_tcp_repr s = wt_peer(seqs[i], 0, TERN_TCP_SYN, 1000);
        wt_inject(w, &s);
        struct tern_tcp_repr a;
        REQUIRE(wt_pop(w, &a));
        CHECK_EQ(a.flags, ACKF); /* never a RST (RFC 5961 s4.2) */
        CHECK_EQ(a.seq, ISS + 1);
        CHECK_EQ(a.ack, P_ISN + 1);
    }
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    /* The two out-of-window SYNs fail the first step (sequence check) and
     * get its ACK; the in-window ones reach the fourth step's challenge
     * ACK. Either way: an ACK, no reset, no state change. */
    CHECK_EQ(tern_stack_stats(w->s)->tcp.challenge_acks, 2);
    wt_finish(w, sk, l);
}

TEST(attack_31_ack_outside_window_challenge_rate_limited)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    /* SEG.ACK > SND.NXT (RFC 5961 s5.2): dropped with a challenge ACK; the
     * data it carries is not taken. */
    int acks = 0;
    for (int i = 0; i < 30; i++) {
        struct tern_tcp_repr s = wt_peer(P_ISN + 1, ISS + 1 + 100000, ACKF, 1000);
        s.payload = (const uint8_t *)"x";
        s.payload_len = 1;
        wt_inject(w, &s);
        struct tern_tcp_repr a;
        while (wt_pop(w, &a)) {
            CHECK_EQ(a.flags, ACKF);
            CHECK_EQ(a.ack, P_ISN + 1);
            acks++;
        }
    }
    CHECK_EQ(acks, 10); /* RFC 5961 s7: per connection, 10 a second */
    CHECK_EQ(tern_sock_recv(sk, (char[4]){0}, 4, 0), TERN_E_AGAIN);
    /* A second later the budget is back. */
    world_run(w, 1000000);
    struct tern_tcp_repr s = wt_peer(P_ISN + 1, ISS - 200000, ACKF, 1000); /* below SND.UNA-MAX.SND.WND */
    wt_inject(w, &s);
    struct tern_tcp_repr a;
    CHECK(wt_pop(w, &a));
    CHECK_EQ(tern_stack_stats(w->s)->tcp.challenge_limited, 20);
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    wt_finish(w, sk, l);
}

TEST(attack_32_data_beyond_window_trimmed)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct tern_sock *l = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    CHECK_EQ(tern_sock_setopt(l, TERN_SO_RCVBUF, 4096), 0);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(l, &la), 0);
    CHECK_EQ(tern_sock_listen(l, 8), 0);
    tcp_test_force_iss(w->s, ISS);
    struct tern_tcp_repr syn = wt_peer(P_ISN, 0, TERN_TCP_SYN, 65535);
    wt_inject(w, &syn);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.win, 4096);
    CHECK(!a.opts.has_wscale); /* the peer did not offer it */
    struct tern_tcp_repr ack = wt_peer(P_ISN + 1, ISS + 1, ACKF, 65535);
    wt_inject(w, &ack);
    struct tern_sock *sk = tern_sock_accept(l, NULL, NULL);
    REQUIRE(sk != NULL);
    static uint8_t big[6000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    struct tern_tcp_repr d = wt_peer(P_ISN + 1, ISS + 1, ACKF, 65535);
    d.payload = big;
    d.payload_len = sizeof big;
    wt_inject(w, &d);
    /* Only RCV.WND = 4096 bytes are taken; the ACK says so at once. */
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.ack, P_ISN + 1 + 4096);
    CHECK_EQ(a.win, 0);
    static uint8_t got[8192];
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 4096);
    CHECK_MEM(got, big, 4096);
    struct tern_tcp_ooo_stats os; /* the world's stack holds this one connection */
    tcp_stack_ooo_stats(w->s, &os);
    CHECK_EQ(os.trimmed_bytes, 6000 - 4096);
    /* A window update follows the read (RFC 9293 s3.8.6.2.2). */
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.win, 4096);
    /* Entirely beyond the window: not buffered, a duplicate ACK. */
    d.seq = P_ISN + 1 + 4096 + 4096;
    d.payload_len = 100;
    wt_inject(w, &d);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.ack, P_ISN + 1 + 4096);
    CHECK(!tcp_cb_of(sk)->cold || tcp_ooo_bytes(&tcp_cb_of(sk)->cold->ooo) == 0);
    wt_finish(w, sk, l);
}

TEST(attack_37_paws_old_timestamp_dropped_with_ack)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, WT_TS, &l);
    REQUIRE(sk != NULL);
    struct tern_tcp_repr d = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    d.opts.has_ts = true;
    d.opts.ts_val = 50; /* older than TS.Recent = 101 */
    d.payload = (const uint8_t *)"old";
    d.payload_len = 3;
    wt_inject(w, &d);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.flags, ACKF);
    CHECK_EQ(a.ack, P_ISN + 1); /* not taken */
    CHECK(a.opts.has_ts);
    CHECK_EQ(a.opts.ts_ecr, 101);
    CHECK_EQ(tern_sock_recv(sk, (char[4]){0}, 4, 0), TERN_E_AGAIN);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.paws_drops, 1);
    /* A fresh timestamp is taken, and TS.Recent follows it (RFC 7323 s4.3). */
    d.opts.ts_val = 102;
    d.payload = (const uint8_t *)"new";
    wt_inject(w, &d);
    world_run(w, 100000);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.ack, P_ISN + 4);
    CHECK_EQ(a.opts.ts_ecr, 102);
    CHECK_EQ(tern_sock_recv(sk, (char[4]){0}, 4, 0), 3);
    /* An RST is not subject to PAWS (R1: "and the RST bit is off"). */
    struct tern_tcp_repr rst = wt_peer(P_ISN + 4, 0, TERN_TCP_RST, 0);
    rst.opts.has_ts = true;
    rst.opts.ts_val = 1;
    wt_inject(w, &rst);
    CHECK_STR(wt_state(sk), "CLOSE");
    wt_finish(w, sk, l);
}

TEST(attack_28_bad_flag_combinations_change_nothing)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    uint16_t bad[] = {TERN_TCP_SYN | TERN_TCP_FIN, TERN_TCP_SYN | TERN_TCP_RST, 0,
                      TERN_TCP_FIN | TERN_TCP_SYN | TERN_TCP_RST | TERN_TCP_PSH | ACKF |
                          TERN_TCP_URG};
    for (int i = 0; i < 4; i++) {
        struct tern_tcp_repr s = wt_peer(P_ISN + 1, ISS + 1, bad[i], 1000);
        wt_inject(w, &s); /* on the connection */
        s.sport = 40001;
        wt_inject(w, &s); /* to the listener */
    }
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    CHECK_EQ(w->s->sock_count, 2);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.drop_bad, 8);
    wt_finish(w, sk, l);
}

/* RFC 7323 s5.3 R1 makes a segment that fails PAWS "not acceptable", and
 * RFC 2883 s4 reports data we already have with a D-SACK block: an
 * original that arrives after its retransmission (it carries the older
 * TSval, so PAWS drops it) is reported like any other duplicate, so the
 * sender's RACK sees the reordering (RFC 8985 s6.2 step 4). Data beyond
 * RCV.NXT that fails PAWS is not ours yet: no D-SACK for it. */
TEST(tcp_paws_dropped_duplicate_gets_a_dsack)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, WT_TS, &l);
    REQUIRE(sk != NULL);
    /* The retransmission (TSval 110) arrives first and is taken. */
    struct tern_tcp_repr d = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    d.opts.has_ts = true;
    d.opts.ts_val = 110;
    d.payload = (const uint8_t *)"abcdefgh";
    d.payload_len = 8;
    wt_inject(w, &d);
    world_run(w, 100000);
    struct tern_tcp_repr a;
    while (wt_pop(w, &a))
        ;
    CHECK_EQ(tcp_cb_of(sk)->rcv_nxt, P_ISN + 9);
    /* Then the delayed original, with its older TSval. */
    d.opts.ts_val = 105;
    wt_inject(w, &d);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(tern_stack_stats(w->s)->tcp.paws_drops, 1);
    CHECK_EQ(a.ack, P_ISN + 9);
    CHECK_EQ(a.opts.sack_count, 1);
    CHECK_EQ(a.opts.sack[0].left, P_ISN + 1);
    CHECK_EQ(a.opts.sack[0].right, P_ISN + 9);
    /* An old segment beyond RCV.NXT: dropped by PAWS, not D-SACKed. */
    struct tern_tcp_repr e = wt_peer(P_ISN + 9, ISS + 1, ACKF, 1000);
    e.opts.has_ts = true;
    e.opts.ts_val = 104;
    e.payload = (const uint8_t *)"xyz";
    e.payload_len = 3;
    wt_inject(w, &e);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(tern_stack_stats(w->s)->tcp.paws_drops, 2);
    CHECK_EQ(a.ack, P_ISN + 9);
    CHECK_EQ(a.opts.sack_count, 0);
    char got[16];
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 8);
    wt_finish(w, sk, l);
}
