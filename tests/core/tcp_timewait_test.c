/*
 * tests/core/tcp_timewait_test.c - a SYN for a connection in TIME-WAIT
 * (RFC 1122 4.2.2.13, RFC 6191 s2): honored when timestamps or sequence
 * numbers show it is a new incarnation, with an ISN above the old one's
 * sequence space; otherwise the old connection stays and the SYN gets the
 * RFC 5961 s4 challenge ACK (state world, tcp_util.h).
 */
#include <string.h>

#include "harness.h"
#include "tcp_util.h"

/* We (the server, 10.0.0.1:80) close first: FIN, the peer's ACK+FIN, our
 * ACK -> TIME-WAIT with RCV.NXT = P_ISN + 2, SND.MAX = ISS + 2. */
static void to_time_wait(struct world *w, unsigned flags, struct tern_sock **lsk)
{
    struct tern_sock *sk = wt_establish(w, flags, lsk);
    REQUIRE(sk);
    tern_sock_close(sk);
    world_run(w, 0);
    struct tern_tcp_repr out;
    REQUIRE(wt_pop(w, &out));
    CHECK(out.flags & TERN_TCP_FIN);
    CHECK_EQ(out.seq, ISS + 1);
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
    CHECK_EQ(tcp_tw_count(w->s), 1);
    CHECK_EQ(w->s->sock_count, 1); /* the listener: TIME-WAIT is a record (tcp_tw.c) */
}

static struct tern_tcp_repr new_syn(uint32_t seq, bool ts, uint32_t tsval)
{
    struct tern_tcp_repr syn = wt_seg(P_PORT, 80, seq, 0, TERN_TCP_SYN, 65535);
    syn.opts.has_mss = true;
    syn.opts.mss = 1460;
    if (ts) {
        syn.opts.has_ts = true;
        syn.opts.ts_val = tsval;
    }
    return syn;
}

/* The new incarnation answers with ISN = old SND.MAX + 65535 + 2 and is
 * accepted on the listener once the handshake completes. */
static void check_reopened(struct world *w, struct tern_sock *lsk, uint32_t seq)
{
    struct tern_tcp_repr out;
    REQUIRE(wt_pop(w, &out));
    CHECK_EQ(out.flags, TERN_TCP_SYN | ACKF);
    uint32_t iss = ISS + 2 + 65535 + 2;
    CHECK_EQ(out.seq, iss);
    CHECK_EQ(out.ack, seq + 1);
    CHECK_EQ(tcp_tw_count(w->s), 0);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.tw_reopened, 1);
    struct tern_tcp_repr ack = wt_seg(P_PORT, 80, seq + 1, iss + 1, ACKF, 1000);
    if (out.opts.has_ts) {
        ack.opts.has_ts = true;
        ack.opts.ts_val = ++g_peer_ts;
        ack.opts.ts_ecr = out.opts.ts_val;
    }
    wt_inject(w, &ack);
    int err;
    struct tern_sock *sk = tern_sock_accept(lsk, NULL, &err);
    REQUIRE(sk);
    CHECK_STR(tcp_state_name(tcp_cb_of(sk)->state), "ESTABLISHED");
    CHECK_EQ(tcp_cb_of(sk)->snd_una, iss + 1);
    tern_sock_abort(sk);
}

/* Without timestamps: SEG.SEQ > RCV.NXT of the old connection. */
TEST(tcp_timewait_syn_with_higher_seq_reopens)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    to_time_wait(w, 0, &lsk);
    struct tern_tcp_repr syn = new_syn(P_ISN + 100000, false, 0);
    wt_inject(w, &syn);
    check_reopened(w, lsk, P_ISN + 100000);
    tern_sock_close(lsk);
    world_end(w);
}

/* With timestamps: a newer TSval decides, even with a lower SEG.SEQ
 * (RFC 6191 s2: the timestamp rule comes first). */
TEST(tcp_timewait_syn_with_newer_timestamp_reopens)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    to_time_wait(w, WT_TS, &lsk);
    g_peer_ts += 1000;
    struct tern_tcp_repr syn = new_syn(P_ISN - 5000, true, g_peer_ts);
    wt_inject(w, &syn);
    check_reopened(w, lsk, P_ISN - 5000);
    tern_sock_close(lsk);
    world_end(w);
}

/* Not new: an old sequence number (no timestamps), an older TSval (even
 * with a higher SEG.SEQ), or the same TSval with an old sequence number (a
 * duplicate of the old connection's SYN, RFC 6191 s2): TIME-WAIT stays,
 * the SYN gets an ACK of the old connection (RFC 5961 s4 / RFC 7323
 * s5.3), nothing is reopened. */
TEST(tcp_timewait_old_syn_keeps_time_wait)
{
    for (int ts = 0; ts < 3; ts++) {
        struct world *w = world_new(NULL);
        struct tern_sock *lsk;
        to_time_wait(w, ts ? WT_TS : 0, &lsk);
        uint32_t old_ts = g_peer_ts;
        struct tern_tcp_repr syn = ts == 1   ? new_syn(P_ISN + 100000, true, old_ts - 1)
                                   : ts == 2 ? new_syn(P_ISN, true, old_ts)
                                             : new_syn(P_ISN, false, 0);
        wt_inject(w, &syn);
        struct tern_tcp_repr out;
        REQUIRE(wt_pop(w, &out));
        CHECK_EQ(out.flags, ACKF);
        CHECK_EQ(out.seq, ISS + 2);
        CHECK_EQ(out.ack, P_ISN + 2);
        CHECK_EQ(tcp_tw_count(w->s), 1);
        CHECK_EQ(tern_stack_stats(w->s)->tcp.tw_reopened, 0);
        int err;
        CHECK(tern_sock_accept(lsk, NULL, &err) == NULL);
        tern_sock_close(lsk);
        world_end(w);
    }
}

/* End to end, two tern stacks: the server closes first and keeps the
 * 4-tuple in TIME-WAIT; the client connects again from the same port at
 * once. Its timestamp clock must read later than before (RFC 6191 s2 needs
 * one monotonic clock per host pair, hence the offset keyed by the address
 * pair, RFC 7323 s5.4), so the SYN reopens the connection: no SYN
 * retransmission (>= 1 s), for every seed. With a random offset per
 * connection half the seeds would wait. */
static struct tern_sock *tw_client(struct tnet *n, uint16_t lport)
{
    int err;
    struct tern_sock *c = tern_sock_open(n->sa, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr la = {0, lport}, pa = {TN_B, 80};
    bool ok = c && tern_sock_setopt(c, TERN_SO_REUSEADDR, 1) == 0 &&
              tern_sock_bind(c, &la) == 0 && tern_sock_connect(c, &pa) == TERN_E_INPROGRESS;
    CHECK(ok);
    return ok ? c : NULL;
}

TEST(tcp_timewait_same_port_reconnect_reopens_without_stall)
{
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct tnet n;
        REQUIRE(tnet_open(&n, seed, NULL, NULL) == 0);
        int err;
        struct tern_sock *l = tern_sock_open(n.sb, TERN_SOCK_STREAM, &err);
        struct tern_sockaddr la = {0, 80};
        REQUIRE(l && tern_sock_bind(l, &la) == 0 && tern_sock_listen(l, 16) == 0);
        for (int round = 0; round < 2; round++) {
            uint64_t t0 = tern_loop_now(n.loop);
            struct tern_sock *c = tw_client(&n, 40000), *s = NULL;
            REQUIRE(c != NULL);
            for (int i = 0; i < 300 && !s; i++) {
                tnet_run(&n, 1000);
                s = tern_sock_accept(l, NULL, &err);
            }
            REQUIRE(s != NULL);
            CHECK(tern_loop_now(n.loop) - t0 < 100000); /* no 1 s SYN retransmission */
            tern_sock_close(s); /* the server closes first: TIME-WAIT on B */
            tnet_run(&n, 50000);
            tern_sock_close(c);
            tnet_run(&n, 50000);
        }
        CHECK_EQ(tern_stack_stats(n.sb)->tcp.tw_reopened, 1);
        CHECK_EQ(tern_stack_stats(n.sb)->tcp.challenge_acks, 0);
        tern_sock_close(l);
        tnet_run(&n, 200000000);
        CHECK_EQ(n.sa->sock_count, 0);
        CHECK_EQ(n.sb->sock_count, 0);
        tnet_close(&n);
    }
}

/* One exchange from A:lport to B:80 inside microseconds of virtual time
 * (the memory link has no delay): connect, 1000 bytes, the server closes
 * first (TIME-WAIT on B), the client closes; returns the client's timestamp
 * offset, or 0 on a failure (checked). Steps of 10 us, at most 500 us. */
static uint32_t quick_exchange(struct tnet *n, struct tern_sock *l, uint16_t lport)
{
    int err;
    struct tern_sock *c = tw_client(n, lport), *s = NULL;
    if (!c)
        return 0;
    uint32_t off = tcp_cb_of(c)->ts_offset;
    for (int i = 0; i < 50 && !s; i++) {
        tnet_run(n, 10);
        s = tern_sock_accept(l, NULL, &err);
    }
    CHECK(s != NULL);
    if (!s)
        return 0;
    /* 1000 bytes: more than the ISN clock (4 us) advances meanwhile, so
     * the next SYN's SEG.SEQ is below the old RCV.NXT */
    static char b[1000];
    CHECK_EQ(tern_sock_send(c, b, sizeof b, 0), (ssize_t)sizeof b);
    tnet_run(n, 10);
    CHECK_EQ(tern_sock_recv(s, b, sizeof b, 0), (ssize_t)sizeof b);
    tern_sock_close(s); /* the server closes first: TIME-WAIT on B */
    tnet_run(n, 10);
    CHECK_EQ(tern_sock_recv(c, b, sizeof b, 0), 0); /* EOF */
    tern_sock_close(c);
    for (int i = 0; i < 50 && n->sa->sock_count; i++)
        tnet_run(n, 10);
    CHECK_EQ(n->sa->sock_count, 0);
    return off;
}

/* RFC 6191 at high rates: the client reconnects from the same port within
 * the same 1 ms timestamp tick in which the first connection ended, with
 * the same RFC 6528 ISN (no time passed). With one 1 ms clock per pair its
 * SYN would carry TSval == TS.Recent and SEG.SEQ < RCV.NXT: B could not
 * tell it from an old duplicate of the first SYN, would keep TIME-WAIT,
 * and A would wait a 1 s SYN retransmission timeout. A's clock for the
 * second connection starts one tick higher (tcp_ts_start), so B reopens at
 * once; a connection made after the tick has passed is back on the plain
 * clock (the bump only covers the burst). */
TEST(tcp_timewait_reopen_in_the_same_ms_tick)
{
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct tnet n;
        REQUIRE(tnet_open(&n, seed, NULL, NULL) == 0);
        int err;
        struct tern_sock *l = tern_sock_open(n.sb, TERN_SOCK_STREAM, &err);
        struct tern_sockaddr la = {0, 80};
        REQUIRE(l && tern_sock_bind(l, &la) == 0 && tern_sock_listen(l, 16) == 0);
        uint64_t t0 = tern_loop_now(n.loop);
        REQUIRE(t0 % 1000 == 0); /* a tick starts here */
        uint32_t off1 = quick_exchange(&n, l, 40000);
        REQUIRE(off1 != 0);
        CHECK_EQ(tcp_tw_count(n.sb), 1);
        /* The same 4-tuple again, still inside the first tick. */
        REQUIRE(tern_loop_now(n.loop) - t0 < 1000);
        uint32_t off2 = quick_exchange(&n, l, 40000);
        CHECK(tern_loop_now(n.loop) - t0 < 1000); /* no SYN retransmission */
        CHECK_EQ(off2, off1 + 1);                  /* one tick above the first */
        CHECK_EQ(tern_stack_stats(n.sb)->tcp.tw_reopened, 1);
        CHECK_EQ(tern_stack_stats(n.sb)->tcp.challenge_acks, 0);
        CHECK_EQ(tern_stack_stats(n.sa)->tcp.timeouts, 0);
        CHECK_EQ(tcp_tw_count(n.sb), 1); /* the second one's */
        /* Later, another port: the plain clock again (bump 0). */
        tnet_run(&n, 5000);
        uint32_t off3 = quick_exchange(&n, l, 40001);
        CHECK_EQ(off3, off1);
        tern_sock_close(l);
        tnet_run(&n, 200000000);
        CHECK_EQ(n.sa->sock_count, 0);
        CHECK_EQ(n.sb->sock_count, 0);
        tnet_close(&n);
    }
}

/* ATTACKS G3: TIME-WAIT connections must not lock live ones out of a full
 * socket table. B has 6 socket slots; 30 connections in a row, each closed
 * by the server first, leave a TIME-WAIT behind every time (different client
 * ports, so no reopening): each is a record without a socket, and every
 * exchange completes. */
TEST(tcp_timewait_full_table_recycles_oldest)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.max_sockets = 6;
    struct tnet n;
    REQUIRE(tnet_open(&n, 5, NULL, &cfg) == 0);
    int err;
    struct tern_sock *l = tern_sock_open(n.sb, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr la = {0, 80};
    REQUIRE(l && tern_sock_bind(l, &la) == 0 && tern_sock_listen(l, 4) == 0);
    int ok = 0;
    for (int round = 0; round < 30; round++) {
        struct tern_sock *c = tw_client(&n, (uint16_t)(41000 + round)), *s = NULL;
        REQUIRE(c != NULL);
        for (int i = 0; i < 300 && !s; i++) {
            tnet_run(&n, 1000);
            s = tern_sock_accept(l, NULL, &err);
        }
        if (s) {
            char b[4] = {0};
            CHECK_EQ(tern_sock_send(c, "ping", 4, 0), 4);
            tnet_run(&n, 5000);
            if (tern_sock_recv(s, b, 4, 0) == 4 && !memcmp(b, "ping", 4))
                ok++;
            tern_sock_close(s);
        }
        tnet_run(&n, 50000);
        tern_sock_close(c);
        tnet_run(&n, 50000);
    }
    CHECK_EQ(ok, 30);
    /* TIME-WAIT holds no socket slot once let go of (a record, tcp_tw.c):
     * all 30 are still in TIME-WAIT, none had to be cut short. */
    CHECK_EQ(tcp_tw_count(n.sb), 30);
    CHECK_EQ(tern_stack_stats(n.sb)->tcp.tw_recycled, 0);
    tern_sock_close(l);
    tnet_run(&n, 200000000);
    CHECK_EQ(n.sa->sock_count, 0);
    CHECK_EQ(n.sb->sock_count, 0);
    tnet_close(&n);
}
