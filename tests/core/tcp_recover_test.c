/*
 * TCP loss recovery on the state world: RFC 6675 SACK-based recovery
 * retransmits exactly the lost segment; without SACK, RFC 5681 fast
 * retransmit on the third duplicate ACK and RFC 6582 partial ACKs.
 * Our MSS toward the peer is 1460 (no timestamps), IW10 = 14600 bytes
 * (RFC 6928), the peer's window 128000.
 */
#include "harness.h"
#include "tcp_util.h"

#define MSS 1460u

static struct tern_tcp_repr sack_ack(uint32_t ack, int nblocks, const uint32_t *lr)
{
    struct tern_tcp_repr a = wt_seg(P_PORT, 80, P_ISN + 1, ack, ACKF, 1000);
    a.opts.sack_count = (uint8_t)nblocks;
    for (int i = 0; i < nblocks; i++) {
        a.opts.sack[i].left = lr[2 * i];
        a.opts.sack[i].right = lr[2 * i + 1];
    }
    return a;
}

static int send_ten(struct world *w, struct tern_sock *sk)
{
    static uint8_t data[10 * MSS];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    CHECK_EQ(tern_sock_send(sk, data, sizeof data, 0), (ssize_t)sizeof data);
    int n = 0;
    struct tern_tcp_repr r;
    while (wt_pop(w, &r)) {
        CHECK_EQ(r.seq, ISS + 1 + n * MSS);
        CHECK_EQ(r.payload_len, MSS);
        n++;
    }
    return n;
}

TEST(tcp_recover_sack_retransmits_only_the_hole)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    REQUIRE(tcp_cb_of(sk)->sack_on);
    CHECK_EQ(send_ten(w, sk), 10); /* IW10 */
    /* One 10 ms round trip later (RACK, RFC 8985, times segments: with no
     * time passing every SACK would make segment 0 overdue at once)... */
    world_run(w, 10000);
    CHECK_EQ(world_pending_ip(w), 0);
    /* ...segment 0 lost: three ACKs SACK segments 1, 1-2, 1-3. RACK's
     * reordering window is min_RTT/4 = 2.5 ms until DupThresh segments are
     * SACKed (s6.2 step 4), then 0. */
    uint32_t s1 = ISS + 1 + MSS;
    struct tern_tcp_repr r;
    for (int k = 1; k <= 3; k++) {
        uint32_t lr[2] = {s1, s1 + (uint32_t)k * MSS};
        struct tern_tcp_repr a = sack_ack(ISS + 1, 1, lr);
        wt_inject(w, &a);
        if (k < 3)
            CHECK_EQ(world_pending_ip(w), 0); /* nothing new to send (limited transmit) */
    }
    /* RFC 6675 s5 (4.3): the segment at HighACK + 1, and nothing else. */
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, ISS + 1);
    CHECK_EQ(r.payload_len, MSS);
    CHECK(!wt_pop(w, &r));
    REQUIRE(tcp_cb_of(sk)->cold != NULL);
    CHECK(tcp_cb_of(sk)->cold->sb.in_recovery);
    /* The hole fills: cumulative ACK past segment 3; then everything. */
    struct tern_tcp_repr a = sack_ack(ISS + 1 + 4 * MSS, 0, NULL);
    wt_inject(w, &a);
    /* Segments 4-9 are not lost (RFC 6675 IsLost), but HighACK now passed
     * RescueRxt: NextSeg rule (4) sends one rescue retransmission holding
     * the highest outstanding unSACKed octet - segment 9. */
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, ISS + 1 + 9 * MSS);
    CHECK(!wt_pop(w, &r));
    a = sack_ack(ISS + 1 + 10 * MSS, 0, NULL);
    wt_inject(w, &a);
    CHECK(!tcp_cb_of(sk)->cold || !tcp_cb_of(sk)->cold->sb.in_recovery);
    CHECK_EQ(tcp_cb_of(sk)->retransmits, 2);
    CHECK_EQ(tcp_cb_of(sk)->cc.cwnd, tcp_cb_of(sk)->cc.ssthresh);
    world_drain(w);
    tern_sock_abort(sk);
    tern_sock_close(l);
    world_end(w);
}

TEST(tcp_recover_newreno_fast_retransmit_and_partial_ack)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, WT_NOSACK, &l);
    REQUIRE(sk != NULL);
    CHECK(!tcp_cb_of(sk)->sack_on);
    CHECK_EQ(send_ten(w, sk), 10);
    /* Segments 0 and 5 lost: duplicate ACKs for ISS+1. */
    struct tern_tcp_repr r, a = sack_ack(ISS + 1, 0, NULL);
    wt_inject(w, &a);
    wt_inject(w, &a);
    CHECK_EQ(world_pending_ip(w), 0);
    wt_inject(w, &a); /* the third: RFC 5681 s3.2 step 2, fast retransmit */
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, ISS + 1);
    CHECK_EQ(r.payload_len, MSS);
    CHECK(tcp_cb_of(sk)->rec.in_recovery);
    /* A partial ACK up to segment 5 (RFC 6582 s3.2 step 5): retransmit it. */
    a = sack_ack(ISS + 1 + 5 * MSS, 0, NULL);
    wt_inject(w, &a);
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, ISS + 1 + 5 * MSS);
    CHECK(tcp_cb_of(sk)->rec.in_recovery);
    /* The full ACK ends recovery. */
    a = sack_ack(ISS + 1 + 10 * MSS, 0, NULL);
    wt_inject(w, &a);
    CHECK(!tcp_cb_of(sk)->rec.in_recovery);
    CHECK_EQ(tcp_cb_of(sk)->retransmits, 2);
    world_drain(w);
    tern_sock_abort(sk);
    tern_sock_close(l);
    world_end(w);
}

/* Go-back-N after an RTO with SACK (RFC 6675 s5.1: use the SACK
 * information that arrives during the recovery that follows an RTO):
 * segments 0, 4 and 7 lost, the RTO resends segment 0, then SACKs arrive
 * for 1-3, 5-6 and 8-9. The ACK of 0-3 makes cwnd 2 SMSS (slow start after
 * the RTO, RFC 3465 L = 1 SMSS): segment 4 goes, then segment 7 - 5-6 are
 * skipped and, being SACKed, are not counted in flight (as SetPipe does),
 * so the second SMSS of cwnd holds segment 7. Nothing SACKed is resent. */
TEST(tcp_recover_rto_go_back_n_skips_sacked_and_counts_them_out)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    REQUIRE(cb->sack_on);
    CHECK_EQ(send_ten(w, sk), 10);
    struct tern_tcp_repr r;
    /* Silence until the RTO (a loss probe of segment 9 may come first). */
    for (int i = 0; i < 1000 && cb->rtt.backoff == 0; i++)
        world_run(w, 10000);
    REQUIRE_EQ(cb->rtt.backoff, 1u);
    uint32_t last = 0;
    while (wt_pop(w, &r))
        last = r.seq;
    CHECK_EQ(last, ISS + 1); /* the RTO resent segment 0 */
#define SEG(k) (ISS + 1 + (uint32_t)(k) * MSS)
    uint32_t lr[6] = {SEG(1), SEG(4), SEG(5), SEG(7), SEG(8), SEG(10)};
    struct tern_tcp_repr a = sack_ack(ISS + 1, 3, lr);
    wt_inject(w, &a);
    CHECK(!wt_pop(w, &r)); /* cwnd (1 SMSS) is full */
    a = sack_ack(SEG(4), 2, lr + 2);
    wt_inject(w, &a);
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, SEG(4));
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, SEG(7));
    CHECK_EQ(r.payload_len, MSS);
    CHECK(!wt_pop(w, &r));
    a = sack_ack(SEG(10), 0, NULL);
    wt_inject(w, &a);
    CHECK(!wt_pop(w, &r));
#undef SEG
    world_drain(w);
    tern_sock_abort(sk);
    tern_sock_close(l);
    world_end(w);
}

/* One loss, one retransmission, when the retransmission leaves in the same
 * microsecond as new data of higher sequence numbers sent just before it
 * (RFC 8985 s6.2 RACK_sent_after; tcp_rack.c order_of). Ten segments go
 * at T0; at T1 = T0 + 10 ms the ACK of segment 0 releases new data (slow
 * start), then SACKs of segments 2-4 - in the same instant - start
 * recovery and retransmit segment 1 (R1). At T1 + 10.5 ms a SACK covers
 * 2 up to the first new segment sent before R1, R1 not yet delivered:
 * RACK.xmit_ts is T1, R1's own time. R1 left after that new segment, so
 * it is not overdue; ordered by sequence it looked sent first and was
 * retransmitted again (a second retransmission of one loss, then a
 * D-SACK from the peer). */
TEST(tcp_recover_same_instant_retransmission_after_new_data_sent_once)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    REQUIRE(cb->rack_on);
#define SEG(k) (ISS + 1 + (uint32_t)(k) * MSS)
    static uint8_t data[20 * MSS];
    CHECK_EQ(tern_sock_send(sk, data, sizeof data, 0), (ssize_t)sizeof data);
    struct tern_tcp_repr r;
    int n = 0;
    while (wt_pop(w, &r))
        n++;
    CHECK_EQ(n, 10); /* IW10 at T0 */
    world_run(w, 10000);
    CHECK_EQ(world_pending_ip(w), 0);
    /* T1: segment 0 acknowledged, then segments 2, 2-3, 2-4 SACKed. */
    struct tern_tcp_repr a = sack_ack(SEG(1), 0, NULL);
    wt_inject(w, &a);
    for (uint32_t k = 1; k <= 3; k++) {
        uint32_t lr[2] = {SEG(2), SEG(2 + k)};
        a = sack_ack(SEG(1), 1, lr);
        wt_inject(w, &a);
    }
    /* What left at T1, in order: new data first, then R1. */
    uint32_t new_before = 0, rtx = 0;
    while (wt_pop(w, &r)) {
        if (r.seq == SEG(1)) {
            rtx++;
        } else if (!rtx && !new_before) {
            CHECK(tern_seq_geq(r.seq, SEG(10)));
            new_before = r.seq + (uint32_t)r.payload_len;
        }
    }
    CHECK_EQ(rtx, 1);
    REQUIRE(new_before != 0); /* the premise: new data went before R1 */
    CHECK(cb->cold && cb->cold->sb.in_recovery);
    /* T1 + 10.5 ms: everything from segment 2 to that new data SACKed. */
    world_run(w, 10500);
    uint32_t lr[2] = {SEG(2), new_before};
    a = sack_ack(SEG(1), 1, lr);
    wt_inject(w, &a);
    world_run(w, 1000);
    while (wt_pop(w, &r))
        CHECK(r.seq != SEG(1)); /* R1 is not marked lost again */
    CHECK_EQ(cb->retransmits, 1);
    /* R1 arrives: everything sent is acknowledged; still one retransmission. */
    a = sack_ack(cb->snd_max, 0, NULL);
    wt_inject(w, &a);
    CHECK_EQ(cb->retransmits, 1);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.retransmits, 1);
#undef SEG
    world_drain(w);
    tern_sock_abort(sk);
    tern_sock_close(l);
    world_end(w);
}
