/*
 * tests/core/tcp_twrec_test.c - TIME-WAIT as a small record (tcp_tw.c):
 * once the socket is let go of, TIME-WAIT holds no socket nor TCB, and
 * the record still answers per RFC 9293 s3.10.7.4 (a retransmitted FIN is
 * ACKed again and restarts the 2*MSL timer; out-of-window segments get an
 * ACK; RST at RCV.NXT ends it, another in-window RST gets a challenge ACK,
 * an out-of-window RST nothing; PAWS), expires after 2*MSL, is listed by
 * netstat, blocks its 4-tuple for connect(), and fits in 64 bytes.
 * (RFC 6191 reopening on the record: tcp_timewait_test.c.)
 */
#include <string.h>

#include "harness.h"
#include "tcp_util.h"

_Static_assert(sizeof(struct tcp_tw) <= 64, "TIME-WAIT record <= 64 bytes");

/* The server (10.0.0.1:80) closes first and lets go of its socket:
 * FIN, the peer's ACK+FIN, our ACK -> TIME-WAIT as a record with RCV.NXT =
 * P_ISN + 2, SND.NXT = ISS + 2. */
static uint32_t g_our_ts;
static uint16_t g_our_win;
static void to_record(struct world *w, unsigned flags, struct tern_sock **lsk)
{
    struct tern_sock *sk = wt_establish(w, flags, lsk);
    REQUIRE(sk);
    tern_sock_close(sk);
    world_run(w, 0);
    struct tern_tcp_repr out;
    REQUIRE(wt_pop(w, &out));
    CHECK(out.flags & TERN_TCP_FIN);
    struct tern_tcp_repr fin = wt_seg(P_PORT, 80, P_ISN + 1, ISS + 2, ACKF | TERN_TCP_FIN, 1000);
    if (flags & WT_TS) {
        fin.opts.has_ts = true;
        fin.opts.ts_val = ++g_peer_ts;
        fin.opts.ts_ecr = out.opts.ts_val;
    }
    wt_inject(w, &fin);
    REQUIRE(wt_pop(w, &out));
    CHECK_EQ(out.flags, ACKF);
    CHECK_EQ(out.ack, P_ISN + 2);
    g_our_ts = out.opts.ts_val;
    g_our_win = out.win;
    CHECK_EQ(tcp_tw_count(w->s), 1);
    CHECK_EQ(w->s->sock_count, 1); /* the listener only */
    struct tern_stack_mem m;
    stack_mem_usage(w->s, &m);
    CHECK_EQ(m.tcp_time_wait, 1);
    CHECK_EQ(m.tcp_conns, 0); /* no rings held */
    CHECK(m.tcp_tw_bytes >= sizeof(struct tcp_tw));
}

static void expect_ack(struct world *w, uint32_t seq, uint32_t ack)
{
    struct tern_tcp_repr out;
    REQUIRE(wt_pop(w, &out));
    CHECK_EQ(out.flags, ACKF);
    CHECK_EQ(out.seq, seq);
    CHECK_EQ(out.ack, ack);
    CHECK_EQ(out.sport, 80);
    CHECK_EQ(out.dport, P_PORT);
}

/* s3.10.7.4 eighth step, TIME-WAIT: the peer's FIN again (our ACK was
 * lost) is ACKed and restarts the 2*MSL timeout; then 2*MSL after that
 * restart the record goes, not before. */
TEST(tcp_twrec_retransmitted_fin_reacked_and_2msl_restarted)
{
    for (int ts = 0; ts < 2; ts++) {
        struct world *w = world_new(NULL);
        struct tern_sock *lsk;
        to_record(w, ts ? WT_TS : 0, &lsk);
        uint64_t msl2 = 2 * w->s->cfg.tcp_msl_us;
        world_run(w, msl2 / 2);
        struct tern_tcp_repr fin =
            wt_seg(P_PORT, 80, P_ISN + 1, ISS + 2, ACKF | TERN_TCP_FIN, 1000);
        if (ts) {
            fin.opts.has_ts = true;
            fin.opts.ts_val = ++g_peer_ts;
        }
        wt_inject(w, &fin);
        struct tern_tcp_repr out;
        REQUIRE(wt_pop(w, &out));
        CHECK_EQ(out.flags, ACKF);
        CHECK_EQ(out.seq, ISS + 2);
        CHECK_EQ(out.ack, P_ISN + 2);
        CHECK_EQ(out.win, g_our_win); /* the window the TCB last offered */
        CHECK(out.win > 0);
        CHECK_EQ(out.opts.has_ts, ts == 1);
        if (ts) {
            /* TS.Recent unchanged: an unacceptable segment moves it not
             * (RFC 7323 s4.3 and Appendix D: after the sequence check) */
            CHECK_EQ(out.opts.ts_ecr, g_peer_ts - 1);
            CHECK(out.opts.ts_val >= g_our_ts + 30000 - 1); /* the same clock, 30 s on */
        }
        /* 2*MSL after entering: still there (restarted half-way). */
        world_run(w, msl2 / 2 + 1000);
        CHECK_EQ(tcp_tw_count(w->s), 1);
        world_run(w, msl2 / 2);
        CHECK_EQ(tcp_tw_count(w->s), 0);
        /* Gone: a segment for the 4-tuple now gets a reset (s3.10.7.1). */
        world_learn_peer(w); /* the ARP entry aged out meanwhile */
        struct tern_tcp_repr ack = wt_seg(P_PORT, 80, P_ISN + 2, ISS + 2, ACKF, 1000);
        wt_inject(w, &ack);
        REQUIRE(wt_pop(w, &out));
        CHECK(out.flags & TERN_TCP_RST);
        tern_sock_close(lsk);
        world_end(w);
    }
}

/* RFC 9293 s3.6.1: exactly 2*MSL after entering, without a restart. */
TEST(tcp_twrec_expires_after_2msl)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    to_record(w, 0, &lsk);
    uint64_t msl2 = 2 * w->s->cfg.tcp_msl_us;
    world_run(w, msl2 - 1000);
    CHECK_EQ(tcp_tw_count(w->s), 1);
    world_run(w, 2000);
    CHECK_EQ(tcp_tw_count(w->s), 0);
    struct tern_stack_mem m;
    stack_mem_usage(w->s, &m);
    CHECK_EQ(m.tcp_time_wait, 0);
    CHECK_EQ(m.tcp_tw_bytes, 16 * sizeof(uint32_t)); /* the empty hash only */
    tern_sock_close(lsk);
    world_end(w);
}

/* s3.10.7.4 first step: data beyond the window, or old data, is not
 * acceptable - <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, state unchanged. An
 * in-window pure ACK is silently taken. */
TEST(tcp_twrec_unacceptable_segment_gets_ack)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    to_record(w, 0, &lsk);
    static const uint8_t data[10] = "0123456789";
    struct tern_tcp_repr old = wt_seg(P_PORT, 80, P_ISN - 100, ISS + 2, ACKF, 1000);
    old.payload = data;
    old.payload_len = sizeof data;
    wt_inject(w, &old);
    expect_ack(w, ISS + 2, P_ISN + 2);
    struct tern_tcp_repr far = wt_seg(P_PORT, 80, P_ISN + 2 + 10000000, ISS + 2, ACKF, 1000);
    wt_inject(w, &far);
    expect_ack(w, ISS + 2, P_ISN + 2);
    struct tern_tcp_repr ack = wt_seg(P_PORT, 80, P_ISN + 2, ISS + 2, ACKF, 1000);
    wt_inject(w, &ack);
    struct tern_tcp_repr out;
    CHECK(!wt_pop(w, &out));
    CHECK_EQ(tcp_tw_count(w->s), 1);
    tern_sock_close(lsk);
    world_run(w, 2 * w->s->cfg.tcp_msl_us);
    world_end(w);
}

/* RST handling as tern's full TCB did (s3.10.7.4 second step with RFC 5961
 * s3.2): out of window -> dropped silently; in the window but not at
 * RCV.NXT -> challenge ACK; exactly RCV.NXT -> TIME-WAIT ends. */
TEST(tcp_twrec_rst_rules)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    to_record(w, 0, &lsk);
    struct tern_tcp_repr out;
    struct tern_tcp_repr r1 = wt_seg(P_PORT, 80, P_ISN - 5000, 0, TERN_TCP_RST, 0);
    wt_inject(w, &r1);
    CHECK(!wt_pop(w, &out));
    CHECK_EQ(tcp_tw_count(w->s), 1);
    struct tern_tcp_repr r2 = wt_seg(P_PORT, 80, P_ISN + 2 + 100, 0, TERN_TCP_RST, 0);
    wt_inject(w, &r2);
    expect_ack(w, ISS + 2, P_ISN + 2);
    CHECK_EQ(tcp_tw_count(w->s), 1);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.challenge_acks, 1);
    struct tern_tcp_repr r3 = wt_seg(P_PORT, 80, P_ISN + 2, 0, TERN_TCP_RST, 0);
    wt_inject(w, &r3);
    CHECK(!wt_pop(w, &out));
    CHECK_EQ(tcp_tw_count(w->s), 0);
    tern_sock_close(lsk);
    world_end(w);
}

/* RFC 5961 s7: challenge ACKs from a record are rate-limited too. */
TEST(tcp_twrec_challenge_acks_limited)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    to_record(w, 0, &lsk);
    for (int i = 0; i < 30; i++) {
        struct tern_tcp_repr r = wt_seg(P_PORT, 80, P_ISN + 2 + 100 + (uint32_t)i, 0,
                                        TERN_TCP_RST, 0);
        wt_inject(w, &r);
    }
    size_t n = 0;
    struct tern_tcp_repr out;
    while (wt_pop(w, &out))
        n++;
    CHECK_EQ(n, 10);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.challenge_limited, 20);
    tern_sock_close(lsk);
    world_run(w, 2 * w->s->cfg.tcp_msl_us);
    world_end(w);
}

/* RFC 7323 s5.3 PAWS on the record: an older TSval is dropped with an
 * ACK echoing TS.Recent; a FIN with it would not restart the timer. */
TEST(tcp_twrec_paws)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    to_record(w, WT_TS, &lsk);
    uint32_t recent = g_peer_ts;
    struct tern_tcp_repr ack = wt_seg(P_PORT, 80, P_ISN + 2, ISS + 2, ACKF, 1000);
    ack.opts.has_ts = true;
    ack.opts.ts_val = recent - 10;
    wt_inject(w, &ack);
    struct tern_tcp_repr out;
    REQUIRE(wt_pop(w, &out));
    CHECK_EQ(out.flags, ACKF);
    CHECK_EQ(out.opts.ts_ecr, recent);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.paws_drops, 1);
    tern_sock_close(lsk);
    world_run(w, 2 * w->s->cfg.tcp_msl_us);
    world_end(w);
}

/* netstat (tern_sock_list) still lists the connection in TIME_WAIT. */
TEST(tcp_twrec_listed_by_netstat)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    to_record(w, 0, &lsk);
    struct tern_sock_info rows[4];
    CHECK_EQ(tern_sock_list(w->s, rows, 4), 2);
    CHECK_STR(rows[0].state, "LISTEN");
    CHECK_STR(rows[1].state, "TIME_WAIT");
    CHECK_EQ(rows[1].type, TERN_SOCK_STREAM);
    CHECK_EQ(rows[1].local.addr, W_US);
    CHECK_EQ(rows[1].local.port, 80);
    CHECK_EQ(rows[1].peer.addr, W_PEER);
    CHECK_EQ(rows[1].peer.port, P_PORT);
    tern_sock_close(lsk);
    world_run(w, 2 * w->s->cfg.tcp_msl_us);
    CHECK_EQ(tern_sock_list(w->s, rows, 4), 0);
    world_end(w);
}

/* The 4-tuple stays taken while the record lives (s3.6.1): a connect()
 * from the same port to the same peer is refused, a different peer port
 * is fine; an automatic port never picks the record's 4-tuple. */
TEST(tcp_twrec_blocks_its_4tuple)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    to_record(w, 0, &lsk);
    tern_sock_close(lsk);
    int err;
    struct tern_sock *c = tern_sock_open(w->s, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr la = {0, 80}, pa = {W_PEER, P_PORT}, pb = {W_PEER, P_PORT + 1};
    REQUIRE(c && tern_sock_setopt(c, TERN_SO_REUSEADDR, 1) == 0 && tern_sock_bind(c, &la) == 0);
    CHECK_EQ(tern_sock_connect(c, &pa), TERN_E_ADDRINUSE);
    CHECK_EQ(tern_sock_connect(c, &pb), TERN_E_INPROGRESS);
    tern_sock_abort(c);
    world_run(w, 2 * w->s->cfg.tcp_msl_us);
    world_end(w);
}

/* The cap is memory: with room for N records, N + 5 connections closed in
 * a row leave N records, the 5 oldest recycled, and the bytes within the
 * cap. */
TEST(tcp_twrec_cap_is_bytes)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    const size_t nrec = 12;
    cfg.tcp_tw_mem = nrec * sizeof(struct tcp_tw) + 16 * sizeof(uint32_t);
    struct world *w = world_new(&cfg);
    world_learn_peer(w);
    struct tern_sock *lsk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    REQUIRE(tern_sock_bind(lsk, &la) == 0 && tern_sock_listen(lsk, 8) == 0);
    for (uint32_t i = 0; i < nrec + 5; i++) {
        uint16_t port = (uint16_t)(50000 + i);
        uint32_t isn = 7000u + i * 100000u;
        struct tern_tcp_repr syn = wt_seg(port, 80, isn, 0, TERN_TCP_SYN, 65535);
        wt_inject(w, &syn);
        struct tern_tcp_repr sa;
        REQUIRE(wt_pop(w, &sa));
        struct tern_tcp_repr ack = wt_seg(port, 80, isn + 1, sa.seq + 1, ACKF, 65535);
        wt_inject(w, &ack);
        struct tern_sock *sk = tern_sock_accept(lsk, NULL, NULL);
        REQUIRE(sk);
        tern_sock_close(sk);
        world_run(w, 0);
        struct tern_tcp_repr out;
        REQUIRE(wt_pop(w, &out));
        REQUIRE(out.flags & TERN_TCP_FIN);
        struct tern_tcp_repr fin = wt_seg(port, 80, isn + 1, sa.seq + 2, ACKF | TERN_TCP_FIN, 65535);
        wt_inject(w, &fin);
        world_drain(w);
    }
    CHECK_EQ(tcp_tw_count(w->s), nrec);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.tw_recycled, 5);
    CHECK(tcp_tw_mem(w->s) <= cfg.tcp_tw_mem);
    CHECK_EQ(w->s->sock_count, 1);
    tern_sock_close(lsk);
    world_run(w, 2 * cfg.tcp_msl_us);
    world_end(w);
}
