/*
 * TCP input-path tests (RFC 9293 s3.10.7.4 step by step, RFC 7323, RFC
 * 5961, RFC 6298) on the state world: crafted segments in, the exact
 * segments out. Each test here was written for a bug and failed before
 * its fix. The peer is 10.0.0.2:40000 with ISN 1000; we are 10.0.0.1:80,
 * ISS 5000 (tcp_util.h).
 */
#include <stdlib.h>

#include "harness.h"
#include "core/stack_impl.h"
#include "tcp_util.h"
#include "tern/wire/bytes.h"
#include "tern/wire/icmp.h"
#include "tern/wire/ipv4.h"

/* A peer segment with a timestamp option. */
static struct tern_tcp_repr ts_peer(uint32_t seq, uint32_t ack, uint16_t flags, uint32_t tsval)
{
    struct tern_tcp_repr r = wt_peer(seq, ack, flags, 1000);
    r.opts.has_ts = true;
    r.opts.ts_val = tsval;
    r.opts.ts_ecr = 1;
    return r;
}

/* RFC 7323 s4.3 / RFC 9293 s3.10.7.4: a segment that is then rejected -
 * an ACK of data never sent, an in-window RST that is not exact, an
 * in-window SYN - must not move TS.Recent, else the next valid segment
 * (with the peer's real, lower clock) fails PAWS and the connection
 * stalls on one bogus segment. */
TEST(tcp_in_rejected_segment_does_not_move_ts_recent)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, WT_TS, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    CHECK_EQ(cb->ts_recent, 101);
    struct tern_tcp_repr bad[3] = {
        ts_peer(P_ISN + 1, ISS + 1 + 50000, ACKF, 90000), /* ACK of unsent data */
        ts_peer(P_ISN + 1 + 10, 0, TERN_TCP_RST, 90001),  /* in window, not RCV.NXT */
        ts_peer(P_ISN + 1, 0, TERN_TCP_SYN, 90002),       /* SYN in a synchronized state */
    };
    for (int i = 0; i < 3; i++) {
        wt_inject(w, &bad[i]);
        struct tern_tcp_repr a;
        REQUIRE(wt_pop(w, &a)); /* the challenge ACK */
        CHECK_EQ(a.flags, ACKF);
        CHECK_EQ(a.ack, P_ISN + 1);
        CHECK_EQ(a.opts.ts_ecr, 101); /* TS.Recent unchanged */
        CHECK_EQ(cb->ts_recent, 101);
    }
    /* The peer's next real segment: accepted, not a PAWS drop. */
    struct tern_tcp_repr d = ts_peer(P_ISN + 1, ISS + 1, ACKF | TERN_TCP_PSH, 102);
    d.payload = (const uint8_t *)"data";
    d.payload_len = 4;
    wt_inject(w, &d);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.paws_drops, 0);
    char buf[8];
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 4);
    CHECK_EQ(cb->ts_recent, 102);
    wt_finish(w, sk, l);
}

/* The same class: keepalive's idle timer and black-hole detection's "heard
 * from the peer" mark move only on an acceptable segment. */
TEST(tcp_in_rejected_segment_does_not_restart_keepalive)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    CHECK_EQ(tern_sock_setopt(sk, TERN_SO_KEEPALIVE, 1), 0);
    uint64_t keep = cb->t_keep, rx = cb->last_rx;
    REQUIRE(keep != 0);
    world_run(w, 1000000);
    /* Out of window, an ACK of unsent data, a non-exact RST, a SYN. */
    struct tern_tcp_repr bad[4] = {
        wt_peer(P_ISN + 1 + 10000000, ISS + 1, ACKF, 1000),
        wt_peer(P_ISN + 1, ISS + 1 + 50000, ACKF, 1000),
        wt_peer(P_ISN + 1 + 10, 0, TERN_TCP_RST, 0),
        wt_peer(P_ISN + 1, 0, TERN_TCP_SYN, 1000),
    };
    for (int i = 0; i < 4; i++)
        wt_inject(w, &bad[i]);
    world_drain(w);
    CHECK_EQ(cb->t_keep, keep);
    CHECK_EQ(cb->last_rx, rx);
    /* An acceptable one restarts both. */
    struct tern_tcp_repr ok = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    wt_inject(w, &ok);
    CHECK(cb->t_keep > keep);
    CHECK(cb->last_rx > rx);
    wt_finish(w, sk, l);
}

/* RFC 9293 s3.10.7.4 fifth step, SYN-RECEIVED: an ACK that is not in
 * SND.UNA < SEG.ACK =< SND.NXT gets <SEQ=SEG.ACK><CTL=RST> - above SND.NXT
 * too (it used to get RFC 5961's challenge ACK, meant for synchronized
 * states). The half-open connection stays. */
TEST(tcp_in_syn_received_ack_above_snd_nxt_gets_reset)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct tern_sock *l = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(l, &la), 0);
    CHECK_EQ(tern_sock_listen(l, 8), 0);
    tcp_test_force_iss(w->s, ISS);
    struct tern_tcp_repr syn = wt_peer(P_ISN, 0, TERN_TCP_SYN, 65535);
    wt_inject(w, &syn);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    uint32_t acks[2] = {ISS + 2, ISS}; /* above SND.NXT, not above SND.UNA */
    for (int i = 0; i < 2; i++) {
        struct tern_tcp_repr b = wt_peer(P_ISN + 1, acks[i], ACKF, 65535);
        wt_inject(w, &b);
        REQUIRE(wt_pop(w, &a));
        CHECK_EQ(a.flags, TERN_TCP_RST);
        CHECK_EQ(a.seq, acks[i]);
    }
    CHECK_EQ(tern_stack_stats(w->s)->tcp.challenge_acks, 0);
    /* The right ACK still completes the handshake. */
    struct tern_tcp_repr ack = wt_peer(P_ISN + 1, ISS + 1, ACKF, 65535);
    wt_inject(w, &ack);
    struct tern_sock *sk = tern_sock_accept(l, NULL, NULL);
    REQUIRE(sk != NULL);
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    wt_finish(w, sk, l);
}

/* RFC 9293 s3.10.7.4 window update: a retransmission of old data (SEG.SEQ
 * below SND.WL1) that carries an ACK advancing SND.UNA updates the send
 * window; an old ACK (below SND.UNA) with a newer SEG.SEQ does not. */
TEST(tcp_in_window_update_from_old_segment_with_new_ack)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    static uint8_t data[1000];
    CHECK_EQ(tern_sock_send(sk, data, sizeof data, 0), 1000);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.payload_len, 1000);
    /* The peer's data: two segments of 100 bytes, SND.WL1 = P_ISN + 101. */
    static uint8_t pd[300];
    struct tern_tcp_repr d = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    d.payload = pd;
    d.payload_len = 100;
    wt_inject(w, &d);
    d.seq = P_ISN + 101;
    wt_inject(w, &d);
    world_drain(w);
    CHECK_EQ(cb->snd_wl1, P_ISN + 101);
    CHECK_EQ(cb->snd_wnd, 1000u << 7);
    /* A repacketized retransmission from P_ISN + 1 (it ends in the window,
     * so it is acceptable) with the newest ACK and a smaller window. */
    d = wt_peer(P_ISN + 1, ISS + 1001, ACKF, 20);
    d.payload = pd;
    d.payload_len = 300;
    wt_inject(w, &d);
    CHECK_EQ(cb->snd_una, ISS + 1001);
    CHECK_EQ(cb->snd_wnd, 20u << 7);
    CHECK_EQ(cb->snd_wl1, P_ISN + 1);
    CHECK_EQ(cb->snd_wl2, ISS + 1001);
    /* An ACK below SND.UNA with a newer SEG.SEQ: no update. */
    d = wt_peer(P_ISN + 301, ISS + 1, ACKF, 5);
    wt_inject(w, &d);
    CHECK_EQ(cb->snd_wnd, 20u << 7);
    world_drain(w);
    wt_finish(w, sk, l);
}

/* An app that acts on every wake-up - reads to end of stream, then calls
 * shutdown, getsockopt and setsockopt again each time (as fuzz/stack_fuzz.c's
 * handler does) - must not be woken by its own calls: notifications follow
 * state changes only, or the loop spins at one instant forever. */
struct wake_app {
    int calls;
    bool eof;
};

static void wake_app_fn(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct wake_app *a = ctx;
    (void)ev;
    if (++a->calls > 10000) { /* livelocked: let the test end and fail */
        tern_sock_set_handler(sk, 0, NULL, NULL);
        return;
    }
    char buf[256];
    ssize_t n;
    while ((n = tern_sock_recv(sk, buf, sizeof buf, 0)) > 0)
        ;
    if (n == 0) {
        a->eof = true;
        tern_sock_shutdown(sk, TERN_SHUT_WR);
        tern_sock_shutdown(sk, TERN_SHUT_RDWR);
    }
    int v;
    tern_sock_getopt(sk, TERN_TCP_NODELAY, &v);
    tern_sock_setopt(sk, TERN_TCP_NODELAY, 1);
}

TEST(tcp_in_shutdown_on_every_wakeup_does_not_livelock)
{
    struct tnet n;
    struct tern_impair imp = {.delay_us = 10000}; /* the FIN's ACK takes 20 ms */
    REQUIRE(tnet_open(&n, 7, &imp, NULL) == 0);
    struct tern_sock *lsk, *ca, *cb;
    REQUIRE(tnet_connect(&n, 80, &lsk, &ca, &cb) == 0);
    struct wake_app app = {0};
    tern_sock_set_handler(cb, TERN_POLLIN | TERN_POLLOUT, wake_app_fn, &app);
    tnet_run(&n, 10000);
    CHECK(app.calls >= 1);
    CHECK_EQ(tern_sock_send(ca, "bye", 3, 0), 3);
    CHECK_EQ(tern_sock_shutdown(ca, TERN_SHUT_WR), 0);
    tnet_run(&n, 1000000); /* one virtual second */
    CHECK(app.eof);
    /* The connect, the data, the FIN, the end: a handful of wake-ups. */
    CHECK(app.calls < 20);
    CHECK(app.calls <= 10000);
    CHECK_STR(tcp_state_name(tcp_cb_of(cb)->state), "CLOSE");
    tern_sock_close(cb);
    tern_sock_close(ca);
    tern_sock_close(lsk);
    tnet_close(&n);
}

/* UDP's shutdown had the same self-notification. */
static void udp_wake_fn(struct tern_sock *sk, unsigned ev, void *ctx)
{
    int *calls = ctx;
    (void)ev;
    if (++*calls > 10000) {
        tern_sock_set_handler(sk, 0, NULL, NULL);
        return;
    }
    tern_sock_shutdown(sk, TERN_SHUT_RD);
}

TEST(udp_shutdown_on_every_wakeup_does_not_livelock)
{
    struct world *w = world_new(NULL);
    struct tern_sock *u = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    REQUIRE(u != NULL);
    struct tern_sockaddr la = {0, 5353};
    CHECK_EQ(tern_sock_bind(u, &la), 0);
    int calls = 0;
    tern_sock_set_handler(u, TERN_POLLIN, udp_wake_fn, &calls);
    tern_sock_shutdown(u, TERN_SHUT_RD);
    world_run(w, 1000000);
    CHECK(calls >= 1);
    CHECK(calls < 5);
    tern_sock_close(u);
    world_end(w);
}

/* A passive open without timestamps, the peer's ACK rtt_us after our
 * SYN-ACK; peer_syn_twice: the peer sends its SYN again first (we resend
 * the SYN-ACK: Karn). Returns the accepted socket. */
static struct tern_sock *passive_open_rtt_ts(struct world *w, uint64_t rtt_us, bool peer_syn_twice,
                                             bool ts, struct tern_sock **lsk)
{
    world_learn_peer(w);
    *lsk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(*lsk, &la), 0);
    CHECK_EQ(tern_sock_listen(*lsk, 8), 0);
    tcp_test_force_iss(w->s, ISS);
    struct tern_tcp_repr syn = wt_peer(P_ISN, 0, TERN_TCP_SYN, 65535);
    syn.opts.has_mss = true;
    syn.opts.mss = 1460;
    syn.opts.sack_perm = true;
    syn.opts.has_ts = ts;
    syn.opts.ts_val = 100;
    wt_inject(w, &syn);
    struct tern_tcp_repr a;
    if (!wt_pop(w, &a) || a.flags != (TERN_TCP_SYN | ACKF))
        return NULL;
    if (peer_syn_twice) {
        world_run(w, rtt_us / 2);
        wt_inject(w, &syn);
        if (!wt_pop(w, &a) || a.flags != (TERN_TCP_SYN | ACKF))
            return NULL;
    }
    world_run(w, rtt_us);
    struct tern_tcp_repr ack = wt_peer(P_ISN + 1, ISS + 1, ACKF, 65535);
    ack.opts.has_ts = ts;
    ack.opts.ts_val = 101;
    ack.opts.ts_ecr = a.opts.ts_val;
    wt_inject(w, &ack);
    return tern_sock_accept(*lsk, NULL, NULL);
}

static struct tern_sock *passive_open_rtt(struct world *w, uint64_t rtt_us, bool peer_syn_twice,
                                          struct tern_sock **lsk)
{
    return passive_open_rtt_ts(w, rtt_us, peer_syn_twice, false, lsk);
}

/* With timestamps the SYN-ACK's echo gives the sample (RFC 7323 s4). */
TEST(tcp_in_passive_open_rtt_from_syn_ack_timestamps)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = passive_open_rtt_ts(w, 20000, false, true, &l);
    REQUIRE(sk != NULL);
    CHECK(tcp_cb_of(sk)->ts_ok);
    CHECK_EQ(rtt_srtt_us(&tcp_cb_of(sk)->rtt), 20000);
    wt_finish(w, sk, l);
}

/* RFC 6298 s2 (first measurement from the SYN-ACK's ACK), RFC 8985 s7.2:
 * an accepted connection has an SRTT, so its first data segment, if lost,
 * is repaired after an RTO from the path (min 200 ms here), not after the
 * 1 s of an estimator without samples. */
TEST(tcp_in_passive_open_rtt_from_syn_ack)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = passive_open_rtt(w, 20000, false, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    CHECK(!cb->ts_ok);
    CHECK_EQ(rtt_srtt_us(&cb->rtt), 20000);
    /* One data segment, lost. */
    CHECK_EQ(tern_sock_send(sk, "request!", 8, 0), 8);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.seq, ISS + 1);
    uint64_t sent = tern_loop_now(w->loop), resent = 0;
    for (int i = 0; i < 200 && !resent; i++) {
        world_run(w, 5000);
        while (wt_pop(w, &a))
            if (a.seq == ISS + 1 && a.payload_len == 8)
                resent = tern_loop_now(w->loop);
    }
    REQUIRE(resent != 0);
    CHECK(resent - sent <= 300000); /* was 1 s */
    wt_finish(w, sk, l);
}

/* Karn (RFC 6298 s3): when the SYN-ACK was sent twice, its ACK is no
 * sample. */
TEST(tcp_in_passive_open_no_rtt_from_resent_syn_ack)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = passive_open_rtt(w, 20000, true, &l);
    REQUIRE(sk != NULL);
    CHECK_EQ(rtt_srtt_us(&tcp_cb_of(sk)->rtt), 0);
    wt_finish(w, sk, l);
}

/* The one SYN option negotiation (RFC 9293 s3.7.1, RFC 7323 s2.2/s2.3/s3.2,
 * RFC 2018 s2): an option is in use only when both SYNs carried it. */
TEST(tcp_syn_negotiate_table)
{
    struct tern_tcp_opts all = {.has_mss = true, .mss = 1400, .has_wscale = true, .wscale = 7,
                                .sack_perm = true, .has_ts = true, .ts_val = 9};
    struct tern_tcp_opts bare = {0};
    struct tcp_syn_offer full = {.ws = true, .sack = true, .ts = true, .ws_shift = 3};
    struct tcp_syn_offer none = {0};
    struct tcp_syn_result r = tcp_syn_negotiate(&all, &full);
    CHECK_EQ(r.peer_mss, 1400);
    CHECK(r.ws_ok && r.sack_ok && r.ts_ok);
    CHECK_EQ(r.snd_ws, 7);
    CHECK_EQ(r.rcv_ws, 3);
    /* The peer offered nothing: MSS 536 (MUST-15), no scaling either way. */
    r = tcp_syn_negotiate(&bare, &full);
    CHECK_EQ(r.peer_mss, 536);
    CHECK(!r.ws_ok && !r.sack_ok && !r.ts_ok);
    CHECK_EQ(r.snd_ws, 0);
    CHECK_EQ(r.rcv_ws, 0);
    /* We offered nothing (a SYN cookie): the peer's offers are not taken. */
    r = tcp_syn_negotiate(&all, &none);
    CHECK_EQ(r.peer_mss, 1400);
    CHECK(!r.ws_ok && !r.sack_ok && !r.ts_ok);
    CHECK_EQ(r.snd_ws, 0);
    CHECK_EQ(r.rcv_ws, 0);
    /* Each option on its own; a shift above 14 counts as 14 (s2.3). */
    struct tern_tcp_opts ws = {.has_wscale = true, .wscale = 15};
    r = tcp_syn_negotiate(&ws, &full);
    CHECK(r.ws_ok && !r.sack_ok && !r.ts_ok);
    CHECK_EQ(r.snd_ws, 14);
    struct tern_tcp_opts ts = {.has_ts = true, .ts_val = 5};
    struct tcp_syn_offer only_ts = {.ts = true};
    r = tcp_syn_negotiate(&ts, &only_ts);
    CHECK(r.ts_ok && !r.ws_ok && !r.sack_ok);
    r = tcp_syn_negotiate(&all, &only_ts);
    CHECK(r.ts_ok && !r.ws_ok && !r.sack_ok);
    CHECK_EQ(r.rcv_ws, 0);
}

/* tcp_syn_options sets the TCB: a passive open where the peer offers only
 * timestamps gets exactly that, TS.Recent from the SYN, and a SYN-ACK that
 * echoes only the TSopt (the cookie child: attack_35). */
TEST(tcp_syn_options_passive)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct tern_sock *l = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(l, &la), 0);
    CHECK_EQ(tern_sock_listen(l, 8), 0);
    struct tern_tcp_repr syn = wt_peer(P_ISN, 0, TERN_TCP_SYN, 65535);
    syn.opts.has_ts = true;
    syn.opts.ts_val = 777;
    wt_inject(w, &syn);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    CHECK(a.opts.has_ts && !a.opts.has_wscale && !a.opts.sack_perm);
    CHECK_EQ(a.opts.ts_ecr, 777);
    struct tern_tcp_repr ack = wt_peer(P_ISN + 1, a.seq + 1, ACKF, 65535);
    ack.opts.has_ts = true;
    ack.opts.ts_val = 778;
    ack.opts.ts_ecr = a.opts.ts_val;
    wt_inject(w, &ack);
    struct tern_sock *sk = tern_sock_accept(l, NULL, NULL);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    CHECK(cb->ts_ok && !cb->ws_ok && !cb->sack_ok);
    CHECK_EQ(cb->snd_ws, 0);
    CHECK_EQ(cb->rcv_ws, 0);
    CHECK_EQ(cb->peer_mss, 536);
    CHECK_EQ(cb->ts_recent, 778);
    tern_sock_abort(sk);
    world_drain(w);
    wt_finish(w, NULL, l);
}

/* The sequence-space functions (RFC 9293 s3.4.1, s3.10.7.2/3) on their
 * own, then through every opening: active (SYN-SENT -> ESTABLISHED),
 * simultaneous open, passive. */
TEST(tcp_seq_init_functions)
{
    struct tcp_cb cb = {0};
    tcp_seq_init_send(&cb, 0xfffffff0u);
    CHECK_EQ(cb.iss, 0xfffffff0u);
    CHECK(cb.snd_una == cb.iss && cb.snd_nxt == cb.iss && cb.snd_max == cb.iss);
    tcp_seq_init_recv(&cb, 0xffffffffu); /* RCV.NXT wraps */
    CHECK_EQ(cb.irs, 0xffffffffu);
    CHECK_EQ(cb.rcv_nxt, 0);
    CHECK_EQ(cb.rcv_adv, 0);
    tcp_seq_syn_acked(&cb, 0xfffffff1u);
    CHECK(cb.snd_una == 0xfffffff1u && cb.snd_nxt == 0xfffffff1u && cb.snd_max == 0xfffffff1u);
    tcp_snd_wnd_set(&cb, 7, 0xfffffff1u, 5000);
    tcp_snd_wnd_set(&cb, 8, 0xfffffff1u, 3000);
    CHECK_EQ(cb.snd_wnd, 3000);
    CHECK_EQ(cb.max_snd_wnd, 5000); /* RFC 5961 s5.2 MAX.SND.WND */
    CHECK_EQ(cb.snd_wl1, 8);
    CHECK_EQ(cb.snd_wl2, 0xfffffff1u);
}

TEST(tcp_seq_init_active_and_simultaneous_open)
{
    for (int simul = 0; simul < 2; simul++) {
        struct world *w = world_new(NULL);
        world_learn_peer(w);
        struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
        struct tern_sockaddr me = {0, 3333}, to = {W_PEER, 80};
        CHECK_EQ(tern_sock_bind(sk, &me), 0);
        tcp_test_force_iss(w->s, 0x10000);
        CHECK_EQ(tern_sock_connect(sk, &to), TERN_E_INPROGRESS);
        struct tcp_cb *cb = tcp_cb_of(sk);
        CHECK(cb->iss == 0x10000 && cb->snd_una == 0x10000);
        CHECK(cb->snd_nxt == 0x10001 && cb->snd_max == 0x10001); /* the SYN */
        struct tern_tcp_repr a;
        REQUIRE(wt_pop(w, &a));
        struct tern_tcp_repr in = wt_seg(80, 3333, 700, simul ? 0 : 0x10001,
                                         simul ? TERN_TCP_SYN : TERN_TCP_SYN | ACKF, 4000);
        wt_inject(w, &in);
        CHECK_EQ(cb->irs, 700);
        CHECK_EQ(cb->rcv_nxt, 701);
        CHECK_EQ(cb->snd_wnd, 4000); /* RFC 7323 s2.2: not scaled in a SYN */
        CHECK_EQ(cb->snd_wl1, 700);
        REQUIRE(wt_pop(w, &a));
        CHECK_EQ(a.ack, 701);
        if (simul) {
            CHECK_STR(wt_state(sk), "SYN_RECV");
            CHECK_EQ(a.flags, TERN_TCP_SYN | ACKF);
            CHECK_EQ(a.seq, 0x10000);
            CHECK_EQ(cb->snd_una, 0x10000);
            struct tern_tcp_repr ack = wt_seg(80, 3333, 701, 0x10001, ACKF, 50);
            wt_inject(w, &ack);
        }
        CHECK_STR(wt_state(sk), "ESTABLISHED");
        CHECK(cb->snd_una == 0x10001 && cb->snd_nxt == 0x10001 && cb->snd_max == 0x10001);
        CHECK_EQ(cb->snd_wl2, 0x10001);
        tern_sock_abort(sk);
        world_drain(w);
        CHECK_EQ(w->s->sock_count, 0);
        world_end(w);
    }
}

/* One ICMP classification for TCP and UDP (RFC 792, RFC 1122 3.2.2.1 and
 * 4.2.3.9, RFC 1812 s5.2.7.1, RFC 5927). */
TEST(icmp_classify_table)
{
    static const struct {
        uint8_t code;
        int err;
        bool hard;
    } want[] = {
        {0, TERN_E_NETUNREACH, false},   {1, TERN_E_HOSTUNREACH, false},
        {2, TERN_E_CONNREFUSED, true},   {3, TERN_E_CONNREFUSED, true},
        {4, TERN_E_MSGSIZE, false},      {5, TERN_E_HOSTUNREACH, false},
        {6, TERN_E_NETUNREACH, true},    {7, TERN_E_HOSTUNREACH, true},
        {8, TERN_E_HOSTUNREACH, true},   {9, TERN_E_NETUNREACH, true},
        {10, TERN_E_HOSTUNREACH, true},  {11, TERN_E_NETUNREACH, true},
        {12, TERN_E_HOSTUNREACH, true},  {13, TERN_E_HOSTUNREACH, true},
        {14, TERN_E_HOSTUNREACH, true},  {15, TERN_E_HOSTUNREACH, true},
        {200, TERN_E_HOSTUNREACH, false},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct icmp_err_class c;
        REQUIRE(icmp_classify(TERN_ICMP_UNREACH, want[i].code, &c));
        CHECK_EQ(c.err, want[i].err);
        CHECK_EQ(c.hard, want[i].hard);
        CHECK_EQ(c.pmtu, want[i].code == 4);
    }
    struct icmp_err_class c;
    REQUIRE(icmp_classify(TERN_ICMP_TIMXCEED, 0, &c));
    CHECK(!c.hard && c.err == TERN_E_HOSTUNREACH);
    REQUIRE(icmp_classify(TERN_ICMP_PARAMPROB, 0, &c));
    CHECK(!c.hard);
    CHECK(!icmp_classify(TERN_ICMP_ECHO, 0, &c));
    CHECK(!icmp_classify(TERN_ICMP_REDIRECT, 0, &c));
}

/* An ICMP error from the peer about a TCP segment lport -> rport, seq. */
static void icmp_tcp(struct world *w, uint8_t code, uint16_t lport, uint16_t rport, uint32_t seq)
{
    uint8_t inner[28], msg[64], frame[128];
    struct tern_ipv4_repr in = w_ip(W_US, W_PEER, TERN_IPPROTO_TCP, 9);
    in.payload_len = 20;
    tern_ipv4_emit(&in, inner, sizeof inner);
    tern_put16(inner + 20, lport);
    tern_put16(inner + 22, rport);
    tern_put32(inner + 24, seq);
    size_t n = w_icmp(msg, TERN_ICMP_UNREACH, code, 0, inner, sizeof inner);
    struct tern_ipv4_repr out = w_ip(W_PEER, W_US, TERN_IPPROTO_ICMP, 10);
    world_inject(w, frame, w_ip_frame(frame, &out, msg, n));
}

/* Code 11 is "network unreachable for TOS": TCP reported it as a host
 * error and did not treat it as hard; now both transports read the one
 * table - a connect attempt ends with ENETUNREACH, an established
 * connection remembers it as its soft error. */
TEST(tcp_icmp_code_11_is_network_unreachable)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr me = {0, 3333}, to = {W_PEER, 80};
    CHECK_EQ(tern_sock_bind(sk, &me), 0);
    tcp_test_force_iss(w->s, 0x10000);
    CHECK_EQ(tern_sock_connect(sk, &to), TERN_E_INPROGRESS);
    world_drain(w);
    icmp_tcp(w, 11, 3333, 80, 0x10000);
    CHECK_STR(wt_state(sk), "CLOSE");
    CHECK_EQ(tern_sock_error(sk), TERN_E_NETUNREACH);
    tern_sock_close(sk);
    world_drain(w);
    struct tern_sock *l, *c = wt_establish(w, 0, &l);
    REQUIRE(c != NULL);
    CHECK_EQ(tern_sock_send(c, "x", 1, 0), 1);
    world_drain(w);
    icmp_tcp(w, 11, 80, P_PORT, ISS + 1);
    CHECK_STR(wt_state(c), "ESTABLISHED"); /* RFC 5927 s4.1: soft when synchronized */
    CHECK_EQ(tcp_cb_of(c)->soft_err, TERN_E_NETUNREACH);
    wt_finish(w, c, l);
}

/* RFC 9293 s3.10.7.4 first step: with RCV.WND zero, "special allowance
 * should be made to accept valid ACKs, URGs, and RSTs" - a data segment
 * at RCV.NXT (a peer's window probe) still delivers its ACK; its text is
 * not taken and an ACK says so. */
TEST(tcp_in_zero_window_segment_at_rcv_nxt_delivers_its_ack)
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
    struct tern_tcp_repr ack = wt_peer(P_ISN + 1, ISS + 1, ACKF, 65535);
    wt_inject(w, &ack);
    struct tern_sock *sk = tern_sock_accept(l, NULL, NULL);
    REQUIRE(sk != NULL);
    static uint8_t fill[4096];
    struct tern_tcp_repr d = wt_peer(P_ISN + 1, ISS + 1, ACKF, 65535);
    d.payload = fill;
    d.payload_len = sizeof fill;
    wt_inject(w, &d);
    world_run(w, 200000); /* the delayed ACK */
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.win, 0); /* our window is shut */
    CHECK_EQ(tern_sock_send(sk, "0123456789", 10, 0), 10);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.payload_len, 10);
    /* The peer's 1-byte probe at RCV.NXT acknowledges our 10 bytes. */
    struct tern_tcp_repr p = wt_peer(P_ISN + 1 + 4096, ISS + 11, ACKF, 65535);
    p.payload = (const uint8_t *)"z";
    p.payload_len = 1;
    wt_inject(w, &p);
    CHECK_EQ(tcp_cb_of(sk)->snd_una, ISS + 11);
    REQUIRE(wt_pop(w, &a)); /* the byte is not taken */
    CHECK_EQ(a.flags, ACKF);
    CHECK_EQ(a.ack, P_ISN + 1 + 4096);
    CHECK_EQ(a.win, 0);
    /* Beyond RCV.NXT with a zero window: not acceptable, nothing taken. */
    p = wt_peer(P_ISN + 2 + 4096, ISS + 11, ACKF, 65535);
    p.payload = (const uint8_t *)"y";
    p.payload_len = 1;
    wt_inject(w, &p);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.ack, P_ISN + 1 + 4096);
    /* A FIN alone at RCV.NXT needs no room: taken, acknowledged. */
    struct tern_tcp_repr f = wt_peer(P_ISN + 1 + 4096, ISS + 11, ACKF | TERN_TCP_FIN, 65535);
    wt_inject(w, &f);
    CHECK_STR(wt_state(sk), "CLOSE_WAIT");
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.ack, P_ISN + 2 + 4096);
    static uint8_t got[8192];
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 4096);
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 0);
    wt_finish(w, sk, l);
}

/* RFC 9293 s3.10.4: shutdown(WR) in SYN-RECEIVED (simultaneous open)
 * queues the FIN until ESTABLISHED; it used to be forgotten, the socket
 * shut for writing and no FIN ever sent. */
TEST(tcp_in_shutdown_in_syn_received_sends_fin_once_established)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr me = {0, 3333}, to = {W_PEER, 80};
    CHECK_EQ(tern_sock_bind(sk, &me), 0);
    tcp_test_force_iss(w->s, 0x10000);
    CHECK_EQ(tern_sock_connect(sk, &to), TERN_E_INPROGRESS);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    struct tern_tcp_repr syn = wt_seg(80, 3333, 700, 0, TERN_TCP_SYN, 4000);
    wt_inject(w, &syn);
    REQUIRE(wt_pop(w, &a)); /* our SYN-ACK */
    CHECK_STR(wt_state(sk), "SYN_RECV");
    CHECK_EQ(tern_sock_shutdown(sk, TERN_SHUT_WR), 0);
    CHECK_EQ(world_pending_ip(w), 0); /* nothing before ESTABLISHED */
    struct tern_tcp_repr ack = wt_seg(80, 3333, 701, 0x10001, ACKF, 4000);
    wt_inject(w, &ack);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.flags & TERN_TCP_FIN, TERN_TCP_FIN);
    CHECK_EQ(a.seq, 0x10001);
    CHECK_STR(wt_state(sk), "FIN_WAIT1");
    tern_sock_abort(sk);
    world_drain(w);
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}
