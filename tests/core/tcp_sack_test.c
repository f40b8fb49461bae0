/*
 * Tests for src/core/tcp_sack.c: RFC 6675 s4 IsLost/SetPipe/NextSeg on
 * scenarios worked by hand below (segments of SMSS = 1000 bytes; "segment
 * k" is [B + (k-1)*1000, B + k*1000)), RFC 2883 D-SACK detection, ATTACKS
 * 34, sequence numbers across 2^32, and random SACK streams against a
 * reference bitmap.
 */
#include "harness.h"

#include <stdlib.h>

#include "core/tcp_sack.h"
#include "tern/err.h"
#include "tern/wire/seq.h"

#define MSS 1000u

static uint32_t S(uint32_t base, int k) { return base + (uint32_t)(k - 1) * MSS; } /* start of segment k */

static struct tern_tcp_sack_ack_info ack1(struct tern_tcp_sack *sb, uint32_t ack, uint32_t l,
                                          uint32_t r)
{
    struct tern_tcp_sack_block b = {l, r};
    struct tern_tcp_sack_ack_info info;
    tcp_sack_on_ack(sb, ack, &b, 1, &info);
    return info;
}

static void check_inv(const struct tern_tcp_sack *sb)
{
    uint32_t sum = 0;
    CHECK(sb->n <= sb->max_ranges);
    for (uint32_t k = 0; k < sb->n; k++) {
        CHECK(tern_seq_lt(sb->r[k].left, sb->r[k].right));
        CHECK(tern_seq_geq(sb->r[k].left, sb->snd_una));
        CHECK(tern_seq_leq(sb->r[k].right, sb->snd_max));
        if (k)
            CHECK(tern_seq_gt(sb->r[k].left, sb->r[k - 1].right));
        sum += sb->r[k].right - sb->r[k].left;
    }
    CHECK_EQ(sum, sb->sacked);
}

/* Segments 1..10 sent; 1 and 2 lost; 3..10 arrive and each ACK (ack = seg
 * 1) SACKs [seg 3, seg k]. By hand: after seg 3 and 4 the SACKed bytes above
 * segment 1 are 1000 and 2000, not more than (3-1)*1000, in one range: not
 * lost. After seg 5: 3000 > 2000: lost (the third duplicate ACK). */
static void scenario_1_to_10(uint32_t B)
{
    struct tern_tcp_sack sb;
    REQUIRE_EQ(tcp_sack_init(&sb, NULL, 32, B, MSS, 0), 0);
    tcp_sack_on_send(&sb, S(B, 11));
    struct tern_tcp_sack_ack_info info = ack1(&sb, B, S(B, 3), S(B, 4));
    CHECK_EQ(info.newly_sacked, 1000);
    CHECK(!tcp_sack_is_lost(&sb, S(B, 1)));
    ack1(&sb, B, S(B, 3), S(B, 5));
    CHECK(!tcp_sack_is_lost(&sb, S(B, 1)));
    info = ack1(&sb, B, S(B, 3), S(B, 6));
    CHECK_EQ(info.newly_sacked, 1000);
    CHECK(tcp_sack_is_lost(&sb, S(B, 1)));
    CHECK(tcp_sack_is_lost(&sb, S(B, 2) + 999));
    for (int k = 7; k <= 11; k++)
        ack1(&sb, B, S(B, 3), S(B, k));
    CHECK_EQ(sb.sacked, 8000);
    CHECK_EQ(sb.n, 1);
    check_inv(&sb);
    CHECK(tcp_sack_is_lost(&sb, S(B, 1)));
    CHECK(tcp_sack_is_lost(&sb, S(B, 2)));
    CHECK(!tcp_sack_is_lost(&sb, S(B, 5))); /* SACKed */
    /* pipe before recovery: holes = segs 1-2, both lost: (a) adds 0, nothing
     * retransmitted: (b) adds 0. Pipe = 0. */
    CHECK_EQ(tcp_sack_set_pipe(&sb), 0);
    /* (4.3): retransmit seg 1; HighRxt = its last octet; (4.4) pipe = 1000 */
    struct tern_tcp_sack_seg first, seg;
    REQUIRE_EQ(tcp_sack_enter_recovery(&sb, &first), 0);
    CHECK_EQ(first.seq, S(B, 1));
    CHECK_EQ(first.len, 1000);
    CHECK_EQ(sb.pipe, 1000);
    /* NextSeg rule 1: seg 2 (> HighRxt, below the highest SACK, lost) */
    REQUIRE_EQ(tcp_sack_next_seg(&sb, 0, &seg), 1);
    CHECK_EQ(seg.seq, S(B, 2));
    CHECK_EQ(seg.len, 1000);
    tcp_sack_sent(&sb, &seg);
    CHECK_EQ(sb.pipe, 2000);
    CHECK_EQ(tcp_sack_set_pipe(&sb), 2000); /* (b) for segs 1 and 2 */
    /* nothing left to retransmit; no rescue (HighACK has not passed
     * RescueRxt); rule 2 if new data may go */
    CHECK_EQ(tcp_sack_next_seg(&sb, 0, &seg), 0);
    REQUIRE_EQ(tcp_sack_next_seg(&sb, 5000, &seg), 2);
    CHECK_EQ(seg.seq, S(B, 11));
    CHECK_EQ(seg.len, 1000);
    REQUIRE_EQ(tcp_sack_next_seg(&sb, 300, &seg), 2);
    CHECK_EQ(seg.len, 300);
    /* partial ACK for seg 1: pipe = seg 2 counted once by (b) = 1000 */
    info = ack1(&sb, S(B, 2), S(B, 3), S(B, 11));
    CHECK_EQ(info.acked, 1000);
    CHECK_EQ(info.newly_sacked, 0);
    CHECK_EQ(tcp_sack_set_pipe(&sb), 1000);
    CHECK(!tcp_sack_recovery_done(&sb));
    /* ACK of everything: ranges gone, recovery over */
    info = ack1(&sb, S(B, 11), 0, 0);
    CHECK_EQ(info.acked, 9000);
    CHECK_EQ(info.ignored, 1); /* the 0-0 block */
    CHECK_EQ(sb.n, 0);
    CHECK_EQ(sb.sacked, 0);
    CHECK(tcp_sack_recovery_done(&sb));
    tcp_sack_exit_recovery(&sb);
    CHECK_EQ(tcp_sack_set_pipe(&sb), 0);
    tcp_sack_fini(&sb);
}

TEST(tcp_sack_rfc6675_segments_1_to_10)
{
    scenario_1_to_10(1000);
}

TEST(tcp_sack_rfc6675_wrap)
{
    scenario_1_to_10(0xffffee6cu); /* 2^32 - 4500: segment 5 straddles 2^32 */
    scenario_1_to_10(0xfffffc18u); /* 2^32 - 1000: segment 2 starts at 0 */
}

/* Segments 1..10 sent; SACKs for 4, 6 and 8 only. By hand:
 *  IsLost(seg 1) and (seg 3): 3 discontiguous SACKed ranges above -> lost;
 *  IsLost(seg 5): 2 ranges, 2000 bytes (not > 2000) -> not lost;
 *  IsLost(seg 7), (seg 9): 1 or 0 ranges -> not lost.
 *  SetPipe: hole 1-3 lost (0), 5 (1000), 7 (1000), 9-10 (2000) = 4000. */
TEST(tcp_sack_rfc6675_discontiguous)
{
    struct tern_tcp_sack sb;
    const uint32_t B = 0x7ffffc00u;
    REQUIRE_EQ(tcp_sack_init(&sb, NULL, 32, B, MSS, 3), 0);
    tcp_sack_on_send(&sb, S(B, 11));
    struct tern_tcp_sack_block bl[3] = {{S(B, 8), S(B, 9)}, {S(B, 6), S(B, 7)}, {S(B, 4), S(B, 5)}};
    struct tern_tcp_sack_ack_info info;
    tcp_sack_on_ack(&sb, B, bl, 3, &info);
    CHECK_EQ(info.newly_sacked, 3000);
    CHECK(!info.dsack);
    CHECK_EQ(sb.n, 3);
    CHECK(tcp_sack_is_lost(&sb, S(B, 1)));
    CHECK(tcp_sack_is_lost(&sb, S(B, 3)));
    CHECK(!tcp_sack_is_lost(&sb, S(B, 5)));
    CHECK(!tcp_sack_is_lost(&sb, S(B, 7)));
    CHECK(!tcp_sack_is_lost(&sb, S(B, 9)));
    CHECK_EQ(tcp_sack_set_pipe(&sb), 4000);
    /* recovery: first = seg 1; rule 1 gives seg 2 then seg 3; then rule 3
     * (unSACKed below the highest SACK, not lost): seg 5 - unless new data
     * may be sent (rule 2 comes first) */
    struct tern_tcp_sack_seg first, seg;
    REQUIRE_EQ(tcp_sack_enter_recovery(&sb, &first), 0);
    CHECK_EQ(first.seq, S(B, 1));
    CHECK_EQ(sb.pipe, 5000); /* 4000 + seg 1 by (b) */
    REQUIRE_EQ(tcp_sack_next_seg(&sb, 0, &seg), 1);
    CHECK_EQ(seg.seq, S(B, 2));
    tcp_sack_sent(&sb, &seg);
    REQUIRE_EQ(tcp_sack_next_seg(&sb, 0, &seg), 1);
    CHECK_EQ(seg.seq, S(B, 3));
    CHECK_EQ(seg.len, 1000); /* stops at the SACKed seg 4 */
    tcp_sack_sent(&sb, &seg);
    CHECK_EQ(sb.pipe, 7000);
    CHECK_EQ(tcp_sack_set_pipe(&sb), 7000);
    REQUIRE_EQ(tcp_sack_next_seg(&sb, 1000, &seg), 2);
    REQUIRE_EQ(tcp_sack_next_seg(&sb, 0, &seg), 3);
    CHECK_EQ(seg.seq, S(B, 5));
    tcp_sack_sent(&sb, &seg);
    /* seg 5 now counted twice by SetPipe ("octets retransmitted without
     * being considered lost are counted twice"): 7000 + 1000 */
    CHECK_EQ(tcp_sack_set_pipe(&sb), 8000);
    tcp_sack_fini(&sb);
}

/* "more than (DupThresh - 1) * SMSS bytes": exactly 2000 is not enough. */
TEST(tcp_sack_is_lost_byte_boundary)
{
    struct tern_tcp_sack sb;
    REQUIRE_EQ(tcp_sack_init(&sb, NULL, 8, 0, MSS, 3), 0);
    tcp_sack_on_send(&sb, 10000);
    ack1(&sb, 0, 1000, 3000);
    CHECK(!tcp_sack_is_lost(&sb, 0));
    ack1(&sb, 0, 3000, 3001);
    CHECK(tcp_sack_is_lost(&sb, 0));
    CHECK(!tcp_sack_is_lost(&sb, 10000)); /* beyond HighData */
    tcp_sack_fini(&sb);
}

/* Rule 4: segments 1..10; 1, 9 and 10 lost; SACK 2..8. Recovery retransmits
 * seg 1 (RescueRxt = its last octet). ACK 9 arrives (HighACK = end of 8 >
 * RescueRxt); no SACK above, no new data: the rescue is one segment ending
 * at the highest unSACKed octet = seg 10. After it, no second rescue. */
TEST(tcp_sack_rfc6675_rescue_retransmission)
{
    struct tern_tcp_sack sb;
    const uint32_t B = 0xfffff000u;
    REQUIRE_EQ(tcp_sack_init(&sb, NULL, 32, B, MSS, 3), 0);
    tcp_sack_on_send(&sb, S(B, 11));
    ack1(&sb, B, S(B, 2), S(B, 9));
    struct tern_tcp_sack_seg first, seg;
    REQUIRE_EQ(tcp_sack_enter_recovery(&sb, &first), 0);
    CHECK_EQ(first.seq, B);
    CHECK_EQ(tcp_sack_next_seg(&sb, 0, &seg), 0); /* HighACK == B - 1 */
    ack1(&sb, S(B, 9), 0, 0);
    CHECK_EQ(sb.n, 0);
    REQUIRE_EQ(tcp_sack_next_seg(&sb, 0, &seg), 4);
    CHECK_EQ(seg.seq, S(B, 10));
    CHECK_EQ(seg.len, 1000);
    uint32_t hr = sb.high_rxt_end;
    tcp_sack_sent(&sb, &seg);
    CHECK_EQ(sb.high_rxt_end, hr); /* "HighRxt MUST NOT be updated" */
    CHECK_EQ(sb.rescue_end, S(B, 11)); /* RescueRxt = RecoveryPoint */
    CHECK_EQ(tcp_sack_next_seg(&sb, 0, &seg), 0);
    /* outside recovery there is no rescue */
    tcp_sack_exit_recovery(&sb);
    CHECK_EQ(tcp_sack_next_seg(&sb, 0, &seg), 0);
    tcp_sack_fini(&sb);
}

/* The same loss, but the tail (seg 10) was already retransmitted in this
 * recovery, as RACK does with a segment it marked lost (rule (1)
 * bookkeeping, HighRxt = its end): rule (4) must not send it a second time
 * (it did - the same FIN twice in one microsecond in `tern demo`). */
TEST(tcp_sack_rescue_not_repeated_after_tail_retransmitted)
{
    struct tern_tcp_sack sb;
    const uint32_t B = 0xfffff000u;
    REQUIRE_EQ(tcp_sack_init(&sb, NULL, 32, B, MSS, 3), 0);
    tcp_sack_on_send(&sb, S(B, 11));
    ack1(&sb, B, S(B, 2), S(B, 9));
    struct tern_tcp_sack_seg first, seg;
    REQUIRE_EQ(tcp_sack_enter_recovery(&sb, &first), 0);
    struct tern_tcp_sack_seg tail = {.seq = S(B, 10), .len = MSS, .rule = 1};
    tcp_sack_sent(&sb, &tail);
    CHECK_EQ(sb.high_rxt_end, S(B, 11));
    ack1(&sb, S(B, 9), 0, 0);
    CHECK_EQ(tcp_sack_next_seg(&sb, 0, &seg), 0); /* was 4: seg 10 again */
    tcp_sack_exit_recovery(&sb);
    tcp_sack_fini(&sb);
}

/* RFC 2883 s4-5 as seen by the sender. */
TEST(tcp_sack_dsack_detection)
{
    struct tern_tcp_sack sb;
    REQUIRE_EQ(tcp_sack_init(&sb, NULL, 8, 3000, 500, 3), 0);
    tcp_sack_on_send(&sb, 6000);
    /* ACK lost example: "4000, SACK=3000-3500" - below the cumulative ACK */
    struct tern_tcp_sack_ack_info info = ack1(&sb, 4000, 3000, 3500);
    CHECK(info.dsack);
    CHECK(info.dsack_block.left == 3000 && info.dsack_block.right == 3500);
    CHECK_EQ(info.acked, 1000);
    CHECK_EQ(sb.n, 0);
    CHECK_EQ(info.ignored, 0);
    /* replicated packet: "4000, SACK=4500-5000, 4500-5000" - the first block
     * inside the second */
    struct tern_tcp_sack_block b2[2] = {{4500, 5000}, {4500, 5000}};
    tcp_sack_on_ack(&sb, 4000, b2, 2, &info);
    CHECK(info.dsack);
    CHECK_EQ(info.newly_sacked, 500);
    CHECK_EQ(sb.n, 1);
    /* a plain repeat of a SACKed block is not a D-SACK (RFC 2018 repeats
     * blocks in successive ACKs) */
    info = ack1(&sb, 4000, 4500, 5000);
    CHECK(!info.dsack);
    CHECK_EQ(info.newly_sacked, 0);
    /* a D-SACK inside a larger second block */
    struct tern_tcp_sack_block b3[2] = {{4600, 4700}, {4500, 5500}};
    tcp_sack_on_ack(&sb, 4000, b3, 2, &info);
    CHECK(info.dsack);
    CHECK_EQ(info.newly_sacked, 500);
    CHECK_EQ(sb.sacked, 1000);
    CHECK_EQ(sb.dsacks, 3);
    tcp_sack_fini(&sb);
}

/* ATTACKS 34: malformed and out-of-range blocks are ignored. */
TEST(attack_34_invalid_sack_blocks_ignored)
{
    struct tern_tcp_sack sb;
    REQUIRE_EQ(tcp_sack_init(&sb, NULL, 8, 10000, MSS, 3), 0);
    tcp_sack_on_send(&sb, 20000);
    struct tern_tcp_sack_ack_info info;
    /* left >= right */
    info = ack1(&sb, 10000, 12000, 12000);
    CHECK_EQ(info.ignored, 1);
    info = ack1(&sb, 10000, 13000, 12000);
    CHECK_EQ(info.ignored, 1);
    /* left > right (as a modulo-2^32 length it would be ~4 GB) */
    info = ack1(&sb, 10000, 12000, 11000);
    CHECK_EQ(info.ignored, 1);
    /* beyond SND.NXT, straddling SND.NXT */
    info = ack1(&sb, 10000, 20000, 21000);
    CHECK_EQ(info.ignored, 1);
    info = ack1(&sb, 10000, 19000, 20001);
    CHECK_EQ(info.ignored, 1);
    /* below SND.UNA as a non-first block (a first one would be a D-SACK) */
    struct tern_tcp_sack_block b2[2] = {{12000, 13000}, {9000, 9500}};
    tcp_sack_on_ack(&sb, 10000, b2, 2, &info);
    CHECK_EQ(info.ignored, 1);
    CHECK_EQ(info.newly_sacked, 1000);
    /* straddling SND.UNA as a second block */
    struct tern_tcp_sack_block b3[2] = {{14000, 15000}, {9500, 10500}};
    tcp_sack_on_ack(&sb, 10000, b3, 2, &info);
    CHECK_EQ(info.ignored, 1);
    /* more than 4 blocks: all ignored */
    struct tern_tcp_sack_block b5[5] = {{16000, 16100}, {16200, 16300}, {16400, 16500},
                                        {16600, 16700}, {16800, 16900}};
    tcp_sack_on_ack(&sb, 10000, b5, 5, &info);
    CHECK_EQ(info.ignored, 5);
    CHECK_EQ(info.newly_sacked, 0);
    CHECK_EQ(sb.n, 2);
    CHECK_EQ(sb.sacked, 2000);
    check_inv(&sb);
    tcp_sack_fini(&sb);
}

/* ATTACKS 34: a receiver SACKing one byte at every other offset cannot
 * split the scoreboard beyond its cap; work per ACK stays bounded; the
 * ranges kept are the lowest (nearest SND.UNA). */
TEST(attack_34_scoreboard_split_capped)
{
    struct tern_tcp_sack sb;
    enum { CAP = 32 };
    const uint32_t B = 0xffff0000u;
    REQUIRE_EQ(tcp_sack_init(&sb, NULL, CAP, B, MSS, 3), 0);
    tcp_sack_on_send(&sb, B + 40000);
    uint32_t max_work = 0;
    for (int order = 0; order < 2; order++) {
        for (uint32_t k = 0; k < 20000; k += 4) {
            struct tern_tcp_sack_block b[4];
            for (uint32_t z = 0; z < 4; z++) {
                /* descending first (each lower block evicts the highest
                 * range), then ascending (each block is dropped) */
                uint32_t o = order == 1 ? 1 + 2 * (k + z) : 1 + 2 * (19999 - k - z);
                b[z].left = B + o;
                b[z].right = B + o + 1;
            }
            struct tern_tcp_sack_ack_info info;
            tcp_sack_on_ack(&sb, B, b, 4, &info);
            if (info.work > max_work)
                max_work = info.work;
            CHECK(sb.n <= CAP);
        }
        check_inv(&sb);
        CHECK_EQ(sb.n, CAP);
        CHECK_EQ(sb.sacked, CAP);
        /* the lowest CAP one-byte ranges survive */
        CHECK_EQ(sb.r[0].left, B + 1);
        CHECK_EQ(sb.r[CAP - 1].left, B + 1 + 2 * (CAP - 1));
    }
    /* 4 blocks x (log2(CAP) + 1 search + CAP walk + CAP move) */
    CHECK(max_work <= 4 * (6 + 2 * CAP + 2));
    CHECK(sb.evicted_ranges + sb.dropped_blocks > 0);
    /* SetPipe, IsLost, NextSeg stay exact on the capped board */
    struct tern_tcp_sack_seg seg;
    CHECK(tcp_sack_is_lost(&sb, B));
    CHECK_EQ(tcp_sack_next_seg(&sb, 0, &seg), 1);
    CHECK_EQ(seg.seq, B);
    CHECK_EQ(seg.len, 1);
    tcp_sack_fini(&sb);
}

/* Random ACKs with valid and invalid blocks against a bitmap of what the
 * receiver SACKed (cap large enough never to evict). */
TEST(tcp_sack_random_vs_bitmap)
{
    enum { SPAN = 4000 };
    static uint8_t bm[SPAN];
    for (int run = 0; run < 20; run++) {
        struct tern_tcp_sack sb;
        uint32_t B = (uint32_t)test_rand();
        if (run % 3 == 0)
            B = 0xffffffffu - (uint32_t)(test_rand() % SPAN);
        REQUIRE_EQ(tcp_sack_init(&sb, NULL, 1024, B, 100, 3), 0);
        tcp_sack_on_send(&sb, B + SPAN);
        memset(bm, 0, sizeof bm);
        uint32_t una = 0;
        for (int op = 0; op < 3000 && !test_failed_now(); op++) {
            struct tern_tcp_sack_block b[4] = {{0, 0}};
            unsigned nb = 1 + (unsigned)(test_rand() % 4);
            uint32_t ack = una + (test_rand() % 8 == 0 ? (uint32_t)(test_rand() % 50) : 0);
            if (ack > SPAN)
                ack = SPAN;
            for (unsigned z = 0; z < nb; z++) {
                uint32_t l = (uint32_t)(test_rand() % (SPAN + 200)) ;
                uint32_t len = (uint32_t)(test_rand() % 60);
                b[z].left = B + l - 100;
                b[z].right = B + l - 100 + len - (test_rand() % 10 == 0 ? 70 : 0);
            }
            struct tern_tcp_sack_ack_info info;
            tcp_sack_on_ack(&sb, B + ack, b, nb, &info);
            /* RFC 2883 D-SACK, computed in plain integers */
            int32_t l0 = tern_seq_diff(b[0].left, B), r0 = tern_seq_diff(b[0].right, B);
            int32_t l1 = tern_seq_diff(b[1].left, B), r1 = tern_seq_diff(b[1].right, B);
            bool dsack = l0 < r0 && r0 <= SPAN &&
                         (l0 < (int32_t)ack || (nb > 1 && l1 < r1 && l1 <= l0 && r0 <= r1));
            CHECK_EQ(info.dsack, dsack);
            /* the model: advance, then apply what a correct scoreboard takes */
            uint32_t newly = 0;
            for (uint32_t o = una; o < ack; o++)
                bm[o] = 0;
            if (ack > una)
                una = ack;
            for (unsigned z = info.dsack ? 1 : 0; z < nb; z++) {
                int32_t l = tern_seq_diff(b[z].left, B), r = tern_seq_diff(b[z].right, B);
                if (l >= r || l < (int32_t)una || r > SPAN)
                    continue;
                for (int32_t o = l; o < r; o++)
                    if (!bm[o]) {
                        bm[o] = 1;
                        newly++;
                    }
            }
            CHECK_EQ(info.newly_sacked, newly);
            uint32_t sum = 0;
            for (uint32_t o = una; o < SPAN; o++)
                sum += bm[o];
            CHECK_EQ(sb.sacked, sum);
            check_inv(&sb);
            /* IsLost at a random unSACKed point, from the bitmap */
            uint32_t s = una + (uint32_t)(test_rand() % (SPAN - una + 1));
            if (s < SPAN && !bm[s]) {
                uint32_t cnt = 0, bytes = 0;
                for (uint32_t o = s + 1; o < SPAN; o++) {
                    bytes += bm[o];
                    if (bm[o] && !bm[o - 1])
                        cnt++;
                }
                CHECK_EQ(tcp_sack_is_lost(&sb, B + s), cnt >= 3 || bytes > 200);
            }
        }
        tcp_sack_fini(&sb);
    }
}

TEST(tcp_sack_init_errors)
{
    struct tern_tcp_sack sb;
    struct tern_tcp_sack_range st[2];
    struct tern_tcp_sack_seg seg;
    CHECK_EQ(tcp_sack_init(&sb, NULL, 0, 0, MSS, 3), TERN_E_INVAL);
    CHECK_EQ(tcp_sack_init(&sb, NULL, 4, 0, 0, 3), TERN_E_INVAL);
    REQUIRE_EQ(tcp_sack_init(&sb, st, 2, 0, MSS, 0), 0);
    CHECK_EQ(sb.dupthresh, TERN_TCP_DUPTHRESH);
    CHECK_EQ(tcp_sack_enter_recovery(&sb, &seg), TERN_E_INVAL); /* nothing outstanding */
    tcp_sack_on_send(&sb, 5000);
    ack1(&sb, 0, 1000, 2000);
    tcp_sack_on_rto(&sb);
    CHECK_EQ(sb.n, 0);
    CHECK_EQ(sb.recovery_end, 5000);
    tcp_sack_fini(&sb);
}

/* tcp_sack_pipe_of (for RACK's lost segments) is SetPipe() restricted
 * to a range. The discontiguous scenario above, in recovery with segments 1
 * to 3 retransmitted: seg 1-3 count 1 each (lost, (b) only), 5 and 7 count
 * 1 ((a): not lost), 9-10 count 1 each, SACKed 4, 6, 8 count 0. */
TEST(tcp_sack_pipe_of_ranges)
{
    struct tern_tcp_sack sb;
    const uint32_t B = 0xfffff000u; /* across 2^32 */
    REQUIRE_EQ(tcp_sack_init(&sb, NULL, 32, B, MSS, 3), 0);
    tcp_sack_on_send(&sb, S(B, 11));
    struct tern_tcp_sack_block bl[3] = {{S(B, 8), S(B, 9)}, {S(B, 6), S(B, 7)}, {S(B, 4), S(B, 5)}};
    struct tern_tcp_sack_ack_info info;
    tcp_sack_on_ack(&sb, B, bl, 3, &info);
    struct tern_tcp_sack_seg first, seg;
    REQUIRE_EQ(tcp_sack_enter_recovery(&sb, &first), 0);
    for (int k = 0; k < 2; k++) {
        REQUIRE_EQ(tcp_sack_next_seg(&sb, 0, &seg), 1);
        tcp_sack_sent(&sb, &seg);
    }
    uint32_t pipe = tcp_sack_set_pipe(&sb);
    CHECK_EQ(pipe, 7000);
    CHECK_EQ(tcp_sack_pipe_of(&sb, S(B, 1), S(B, 11)), pipe);
    CHECK_EQ(tcp_sack_pipe_of(&sb, S(B, 1), S(B, 2)), 1000);
    CHECK_EQ(tcp_sack_pipe_of(&sb, S(B, 4), S(B, 5)), 0);    /* SACKed */
    CHECK_EQ(tcp_sack_pipe_of(&sb, S(B, 3), S(B, 6)), 2000); /* 3 and 5 */
    CHECK_EQ(tcp_sack_pipe_of(&sb, S(B, 9) + 500, S(B, 11)), 1500);
    uint32_t sum = 0;
    for (int k = 1; k <= 10; k++)
        sum += tcp_sack_pipe_of(&sb, S(B, k), S(B, k + 1));
    CHECK_EQ(sum, pipe);
    tcp_sack_fini(&sb);
}

/* tcp_sack_skip (go-back-N after an RTO with SACK, RFC 6675 s5.1):
 * segments 1..10 sent, the scoreboard expunged by the RTO (RFC 2018 s8),
 * then segments 3-4 and 7-8 SACKed. From segment 1: not SACKed, 2000
 * bytes to the next range, none below. From inside or at the start of
 * 3-4: segment 5, 2000 bytes to 7-8, 2000 SACKed below. From 8: segment 9,
 * no range above, 4000 below. Across 2^32 as well. */
TEST(tcp_sack_skip_moves_past_sacked_ranges)
{
    static const uint32_t bases[] = {1000, 0xfffff000u};
    for (int b = 0; b < 2; b++) {
        uint32_t B = bases[b];
        struct tern_tcp_sack sb;
        REQUIRE_EQ(tcp_sack_init(&sb, NULL, 32, B, MSS, 0), 0);
        tcp_sack_on_send(&sb, S(B, 11));
        ack1(&sb, B, S(B, 5), S(B, 6)); /* before the RTO: forgotten */
        tcp_sack_on_rto(&sb);
        uint32_t room, below;
        CHECK_EQ(tcp_sack_skip(&sb, S(B, 5), &room, &below), S(B, 5));
        CHECK_EQ(room, UINT32_MAX);
        CHECK_EQ(below, 0u);
        struct tern_tcp_sack_block blk[2] = {{S(B, 3), S(B, 5)}, {S(B, 7), S(B, 9)}};
        struct tern_tcp_sack_ack_info info;
        tcp_sack_on_ack(&sb, B, blk, 2, &info);
        CHECK_EQ(tcp_sack_skip(&sb, S(B, 1), &room, &below), S(B, 1));
        CHECK_EQ(room, 2000u);
        CHECK_EQ(below, 0u);
        CHECK_EQ(tcp_sack_skip(&sb, S(B, 3), &room, &below), S(B, 5));
        CHECK_EQ(room, 2000u);
        CHECK_EQ(below, 2000u);
        CHECK_EQ(tcp_sack_skip(&sb, S(B, 3) + 500, &room, &below), S(B, 5));
        CHECK_EQ(tcp_sack_skip(&sb, S(B, 6), &room, &below), S(B, 6));
        CHECK_EQ(room, 1000u);
        CHECK_EQ(below, 2000u);
        CHECK_EQ(tcp_sack_skip(&sb, S(B, 8), &room, &below), S(B, 9));
        CHECK_EQ(room, UINT32_MAX);
        CHECK_EQ(below, 4000u);
        tcp_sack_fini(&sb);
    }
}
