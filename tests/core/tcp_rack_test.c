/*
 * RACK-TLP (RFC 8985) as a pure module (src/core/tcp_rack.h): transmit
 * times per segment, RACK_update / RACK_detect_reordering / the reordering
 * window with D-SACK rounds / RACK_detect_loss (s6.2), TLP_calc_PTO and
 * TLP_process_ack (s7). Expected values come from the RFC's pseudocode
 * worked by hand in the comments; times are microseconds, segments 1000
 * bytes starting at sequence number 1000.
 */
#include "core/tcp_rack.h"
#include "harness.h"
#include "tern/err.h"

#define B 1000u /* first sequence number */
#define L 1000u /* segment length */
#define P(i) (B + (uint32_t)(i) * L) /* start of segment i (0-based) */

static struct tern_rack_seg g_store[64];

static void ack_with(struct tern_rack *r, uint64_t now, uint32_t ack, uint32_t sl, uint32_t sr,
                     bool dsack, uint32_t snd_nxt)
{
    struct tern_tcp_sack_range rg = {sl, sr};
    struct tern_rack_ack a = {.now = now, .ack = ack, .ranges = sl != sr ? &rg : NULL,
                              .nranges = sl != sr ? 1u : 0u, .dsack = dsack,
                              .snd_nxt = snd_nxt};
    tcp_rack_on_ack(r, &a);
}

static bool lost_at(const struct tern_rack *r, uint32_t seq)
{
    uint32_t s, l;
    return tcp_rack_next_lost(r, seq, L, &s, &l) && s == seq;
}

TEST(tcp_rack_init_rejects_bad_capacity)
{
    struct tern_rack r;
    CHECK_EQ(tcp_rack_init(&r, g_store, 0, B), TERN_E_INVAL);
    CHECK_EQ(tcp_rack_init(&r, NULL, TERN_RACK_MAX_SEGS + 1, B), TERN_E_INVAL);
    CHECK_EQ(tcp_rack_init(&r, NULL, 8, B), 0);
    CHECK(r.owned);
    CHECK_EQ(r.reo_wnd_mult, 1);
    tcp_rack_fini(&r);
}

/* RFC 8985 s3.3.1-style fast recovery: P1, P2, P3 sent 100 us apart; P2 is
 * SACKed 10 ms after it left. Step 2: RACK.rtt = 10000, RACK.xmit_ts = 100.
 * Step 4: no reordering seen, not in recovery, 1 segment SACKed (< DupThresh):
 * reo_wnd = min(1 * min_RTT / 4, SRTT) = min(2500, 10000) = 2500. Step 5: P1
 * was sent before P2; its deadline is 0 + 10000 + 2500 = 12500, 2400 us
 * after now (10100); P3 was sent after P2 and is not considered. */
TEST(tcp_rack_detects_loss_after_the_reordering_window)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    for (int i = 0; i < 3; i++)
        tcp_rack_on_send(&r, P(i), P(i + 1), (uint64_t)i * 100);
    CHECK_EQ(tcp_rack_count(&r), 3);
    ack_with(&r, 10100, B, P(1), P(2), false, P(3));
    CHECK_EQ(r.rtt, 10000);
    CHECK_EQ(r.xmit_ts, 100);
    CHECK_EQ(r.end_seq, P(2));
    CHECK(!r.reordering_seen);
    uint64_t w = tcp_rack_reo_wnd(&r, 10000, false, 1, 3);
    CHECK_EQ(w, 2500);
    uint32_t lost = 99;
    CHECK_EQ(tcp_rack_detect_loss(&r, 10100, w, &lost), 2400);
    CHECK_EQ(lost, 0);
    CHECK(!tcp_rack_any_lost(&r));
    /* The reordering timer fires at 12500: P1 lost, P3 still not. */
    CHECK_EQ(tcp_rack_detect_loss(&r, 12500, w, &lost), 0);
    CHECK_EQ(lost, 1);
    CHECK(lost_at(&r, P(0)));
    CHECK(!lost_at(&r, P(2)));
    /* With DupThresh segments SACKed the window is 0 (step 4). */
    CHECK_EQ(tcp_rack_reo_wnd(&r, 10000, false, 3, 3), 0);
    CHECK_EQ(tcp_rack_reo_wnd(&r, 10000, true, 1, 3), 0);
    tcp_rack_fini(&r);
}

/* Equal transmit times are ordered by transmission, not by sequence
 * (tcp_rack.c order_of; RFC 8985 s6.2 RACK_sent_after asks which was sent
 * most recently). P1-P3 leave at 0; P2, P3 SACKed at 10000 mark P1 lost;
 * at 10000 an ACK first releases new data P4 (then a later ACK of the same
 * tick triggers the retransmission R1 of P1): P4 and R1 share the time
 * stamp 10000, but R1 left after P4. P4 is SACKed at 20500 with R1 not
 * yet delivered: RACK.xmit_ts = 10000 = R1's time, and R1 was sent after
 * P4, so it is not lost - not now, not ever from this delivery (no
 * deadline, no reordering timer). Ordered by sequence, R1 (below P4)
 * looked sent before it: deadline 10000 + 10500 + 0 <= 20500, marked lost
 * and sent a second time. Then the reverse in one tick: R2 of P5 goes
 * before new data P7; P7's SACK does mark R2 lost, one RTT on. */
TEST(tcp_rack_same_instant_retransmission_after_new_data_is_not_lost)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    for (int i = 0; i < 3; i++)
        tcp_rack_on_send(&r, P(i), P(i + 1), 0);
    ack_with(&r, 10000, B, P(1), P(3), false, P(3));
    uint32_t lost;
    tcp_rack_detect_loss(&r, 10000, tcp_rack_reo_wnd(&r, 10000, true, 2, 3), &lost);
    CHECK_EQ(lost, 1);
    CHECK(lost_at(&r, P(0)));
    tcp_rack_on_send(&r, P(3), P(4), 10000); /* P4, new */
    tcp_rack_on_send(&r, P(0), P(1), 10000); /* R1, same microsecond, after P4 */
    CHECK(!tcp_rack_any_lost(&r));
    ack_with(&r, 20500, B, P(1), P(4), false, P(4)); /* P4 SACKed */
    CHECK_EQ(r.xmit_ts, 10000);
    CHECK_EQ(r.end_seq, P(4));
    CHECK_EQ(r.rtt, 10500);
    CHECK_EQ(tcp_rack_detect_loss(&r, 20500, 0, &lost), 0);
    CHECK_EQ(lost, 0);
    CHECK(!tcp_rack_any_lost(&r));
    CHECK_EQ(tcp_rack_detect_loss(&r, 1000000, 0, &lost), 0); /* nor later */
    CHECK_EQ(lost, 0);
    /* R1 delivered: cumulative ACK to P4's end. */
    ack_with(&r, 20600, P(4), P(4), P(4), false, P(4));
    CHECK_EQ(tcp_rack_count(&r), 0);
    /* The reverse order in one tick: P5 new at 30000, lost; at 40000 its
     * retransmission R2 goes first, then new data P7. */
    tcp_rack_on_send(&r, P(4), P(5), 30000);
    tcp_rack_on_send(&r, P(5), P(6), 30000);
    ack_with(&r, 40000, P(4), P(5), P(6), false, P(6)); /* P6 SACKed, not P5 */
    tcp_rack_detect_loss(&r, 40000, 0, &lost);
    CHECK_EQ(lost, 1);
    tcp_rack_on_send(&r, P(4), P(5), 40000); /* R2 */
    tcp_rack_on_send(&r, P(6), P(7), 40000); /* P7, after R2 */
    ack_with(&r, 50000, P(4), P(5), P(7), false, P(7)); /* P7 SACKed, R2 not */
    CHECK_EQ(r.xmit_ts, 40000);
    CHECK_EQ(r.end_seq, P(7));
    CHECK_EQ(tcp_rack_detect_loss(&r, 50000, 0, &lost), 0);
    CHECK_EQ(lost, 1); /* R2 was sent before P7: lost (s3.3.3) */
    CHECK(lost_at(&r, P(4)));
    tcp_rack_fini(&r);
}

/* The lost retransmission RFC 6675 cannot see (RFC 8985 s2.2 / s3.3.3):
 * P1 lost, marked, retransmitted at t=20000 (R1); P4 new at 20100; P4 SACKed
 * at 30100 while R1 is not: R1 was sent before P4, deadline 20000 + 10000 +
 * 0 (in recovery, no reordering) = 30000 <= 30100: P1 is lost again. */
TEST(tcp_rack_detects_a_lost_retransmission)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    for (int i = 0; i < 3; i++)
        tcp_rack_on_send(&r, P(i), P(i + 1), (uint64_t)i * 100);
    ack_with(&r, 10100, B, P(1), P(3), false, P(3)); /* P2, P3 SACKed */
    uint32_t lost;
    tcp_rack_detect_loss(&r, 10100, tcp_rack_reo_wnd(&r, 10000, true, 2, 3), &lost);
    CHECK_EQ(lost, 1);
    uint32_t s, l;
    REQUIRE(tcp_rack_next_lost(&r, B, L, &s, &l));
    CHECK_EQ(s, P(0));
    CHECK_EQ(l, L);
    tcp_rack_on_send(&r, P(0), P(1), 20000); /* R1 */
    CHECK(!tcp_rack_any_lost(&r));
    CHECK(tcp_rack_at(&r, 0)->flags & TERN_RACK_RETRANS);
    tcp_rack_on_send(&r, P(3), P(4), 20100); /* P4 */
    ack_with(&r, 30100, B, P(1), P(4), false, P(4));
    CHECK_EQ(r.xmit_ts, 20100);
    CHECK_EQ(r.rtt, 10000);
    tcp_rack_detect_loss(&r, 30100, tcp_rack_reo_wnd(&r, 10000, true, 3, 3), &lost);
    CHECK_EQ(lost, 1);
    CHECK(lost_at(&r, P(0)));
    /* The second retransmission arrives: cumulative ACK, table empty. */
    tcp_rack_on_send(&r, P(0), P(1), 30200);
    ack_with(&r, 40200, P(4), 0, 0, false, P(4));
    CHECK_EQ(tcp_rack_count(&r), 0);
    CHECK_EQ(r.una, P(4));
    tcp_rack_fini(&r);
}

/* A cumulative ACK that ends exactly where a later flight begins delivers
 * only the earlier one: the flight sent 4 ms later must not yield an RTT of
 * 0 (min_RTT stays 4000). */
TEST(tcp_rack_ack_at_entry_boundary_delivers_only_below)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    tcp_rack_on_send(&r, P(0), P(2), 1000);
    tcp_rack_on_send(&r, P(2), P(4), 5000);
    CHECK_EQ(tcp_rack_count(&r), 2);
    CHECK_EQ(tcp_rack_on_ack(&r, &(struct tern_rack_ack){.now = 5000, .ack = P(2)}), 1);
    CHECK_EQ(r.rtt, 4000);
    CHECK_EQ(r.min_rtt, 4000);
    CHECK_EQ(tcp_rack_count(&r), 1);
    CHECK_EQ(tcp_rack_start(&r, 0), P(2));
    tcp_rack_fini(&r);
}

/* Step 2: a retransmitted segment acknowledged sooner than min_RTT after
 * the retransmission must have been the original's ACK: no RTT update. */
TEST(tcp_rack_ignores_ambiguous_retransmission_samples)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    tcp_rack_on_send(&r, P(0), P(2), 0);
    ack_with(&r, 10000, P(1), 0, 0, false, P(2)); /* min_RTT = RACK.rtt = 10000 */
    CHECK_EQ(r.min_rtt, 10000);
    tcp_rack_on_send(&r, P(1), P(2), 15000); /* spurious retransmission */
    ack_with(&r, 16000, P(2), 0, 0, false, P(2)); /* 1000 us after it */
    CHECK_EQ(r.rtt, 10000);
    CHECK_EQ(r.xmit_ts, 0);
    tcp_rack_fini(&r);
}

/* Step 3: P2 SACKed first, then P1 delivered (never retransmitted) by the
 * cumulative ACK: P1.end_seq < RACK.fack -> reordering_seen, and from then
 * on the window is min_RTT/4 even in recovery. */
TEST(tcp_rack_detects_reordering)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    tcp_rack_on_send(&r, P(0), P(1), 0);
    tcp_rack_on_send(&r, P(1), P(2), 10);
    ack_with(&r, 8010, B, P(1), P(2), false, P(2));
    CHECK_EQ(r.fack, P(2));
    CHECK(!r.reordering_seen);
    ack_with(&r, 8200, P(2), 0, 0, false, P(2));
    CHECK(r.reordering_seen);
    CHECK_EQ(r.min_rtt, 8000);
    CHECK_EQ(tcp_rack_reo_wnd(&r, 9000, true, 5, 3), 2000);
    CHECK_EQ(tcp_rack_reo_wnd(&r, 1000, true, 5, 3), 1000); /* capped by SRTT */
    tcp_rack_fini(&r);
}

/* Step 4: each round trip with a D-SACK adds min_RTT/4 (reo_wnd_mult + 1,
 * persist 16); D-SACKs within the same round (SND.UNA < dsack_round) do
 * not; after 16 D-SACK-free recoveries the multiplier is 1 again. */
TEST(tcp_rack_dsack_rounds_widen_reo_wnd)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    r.reordering_seen = true;
    r.min_rtt = 8000;
    for (int i = 0; i < 6; i++)
        tcp_rack_on_send(&r, P(i), P(i + 1), (uint64_t)i);
    CHECK_EQ(tcp_rack_reo_wnd(&r, 100000, false, 0, 3), 2000);
    ack_with(&r, 9000, P(1), 0, 0, true, P(6)); /* round ends when SND.UNA >= P(6) */
    CHECK_EQ(r.reo_wnd_mult, 2);
    CHECK_EQ(r.reo_wnd_persist, 16);
    CHECK_EQ(tcp_rack_reo_wnd(&r, 100000, false, 0, 3), 4000);
    ack_with(&r, 9100, P(2), 0, 0, true, P(6)); /* same round */
    CHECK_EQ(r.reo_wnd_mult, 2);
    ack_with(&r, 9200, P(6), 0, 0, true, P(6)); /* round over: a new one */
    CHECK_EQ(r.reo_wnd_mult, 3);
    CHECK_EQ(tcp_rack_reo_wnd(&r, 100000, false, 0, 3), 6000);
    CHECK_EQ(tcp_rack_reo_wnd(&r, 5000, false, 0, 3), 5000); /* <= SRTT */
    for (int i = 0; i < 15; i++)
        tcp_rack_recovery_done(&r);
    CHECK_EQ(r.reo_wnd_mult, 3);
    tcp_rack_recovery_done(&r);
    CHECK_EQ(r.reo_wnd_mult, 1);
    tcp_rack_fini(&r);
}

/* s7.2 TLP_calc_PTO. */
TEST(tcp_rack_pto_arithmetic)
{
    CHECK_EQ(tcp_rack_pto(10000, false, 200000, UINT64_MAX), 20000);
    CHECK_EQ(tcp_rack_pto(10000, true, 200000, UINT64_MAX), 220000);
    CHECK_EQ(tcp_rack_pto(10000, true, 200000, 150000), 150000); /* RTO first */
    CHECK_EQ(tcp_rack_pto(0, false, 200000, UINT64_MAX), 1000000);
}

/* s7.4 TLP_process_ack for a probe that retransmitted the last segment
 * (TLP.end_seq = 5000) and for one that sent new data. */
TEST(tcp_rack_tlp_episode_outcomes)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    tcp_rack_tlp_sent(&r, 5000, true);
    CHECK(r.tlp_active);
    tcp_rack_tlp_sent(&r, 6000, false); /* one episode at a time */
    CHECK_EQ(r.tlp_end_seq, 5000);
    CHECK(!tcp_rack_tlp_on_ack(&r, 4000, false, 0, false)); /* below end_seq */
    CHECK(!tcp_rack_tlp_on_ack(&r, 5000, false, 0, false)); /* not yet decided */
    CHECK(r.tlp_active);
    CHECK(tcp_rack_tlp_on_ack(&r, 5001, false, 0, false)); /* repaired a loss */
    CHECK(!r.tlp_active);
    CHECK(!tcp_rack_tlp_on_ack(&r, 6000, false, 0, false)); /* reported once */
    /* Both the original and the probe arrived: the D-SACK names it. */
    tcp_rack_tlp_sent(&r, 5000, true);
    CHECK(!tcp_rack_tlp_on_ack(&r, 5000, true, 5000, false));
    CHECK(!r.tlp_active);
    /* A duplicate ACK without SACK at end_seq: assume both delivered. */
    tcp_rack_tlp_sent(&r, 5000, true);
    CHECK(!tcp_rack_tlp_on_ack(&r, 5000, false, 0, true));
    CHECK(!r.tlp_active);
    /* New data as the probe: delivered, no loss inferred. */
    tcp_rack_tlp_sent(&r, 7000, false);
    CHECK(!tcp_rack_tlp_on_ack(&r, 8000, false, 0, false));
    CHECK(!r.tlp_active);
    tcp_rack_fini(&r);
}

/* ATTACKS G3: a table of 8 entries under 1000 segments each sent at a
 * different time and SACKed in a pattern: never more than 8 entries, the
 * entries always cover [una, snd_max) exactly, and an ACK of everything
 * empties it. */
TEST(tcp_rack_table_stays_bounded_and_exact)
{
    struct tern_rack r;
    struct tern_rack_seg small[8];
    REQUIRE(tcp_rack_init(&r, small, 8, B) == 0);
    uint32_t una = B;
    for (int i = 0; i < 1000; i++) {
        tcp_rack_on_send(&r, P(i), P(i + 1), (uint64_t)i * 10);
        if (i % 7 == 3) /* SACK a segment now and then, slide the ACK */
            ack_with(&r, (uint64_t)i * 10 + 5, una, P(i), P(i + 1), false, P(i + 1));
        if (i % 50 == 49) {
            una = P(i - 20);
            ack_with(&r, (uint64_t)i * 10 + 6, una, 0, 0, false, P(i + 1));
        }
        CHECK(tcp_rack_count(&r) <= 8);
        CHECK_EQ(r.una, una);
        CHECK_EQ(tcp_rack_at(&r, tcp_rack_count(&r) - 1)->end, P(i + 1));
        for (uint32_t k = 0; k + 1 < tcp_rack_count(&r); k++)
            CHECK(tcp_rack_at(&r, k)->end - tcp_rack_start(&r, k) > 0);
    }
    CHECK(r.merges > 0);
    ack_with(&r, 20000, P(1000), 0, 0, false, P(1000));
    CHECK_EQ(tcp_rack_count(&r), 0);
    tcp_rack_fini(&r);
}

/* RTO: the scoreboard is expunged (RFC 2018 s8), so the table forgets its
 * SACKED and LOST marks; the probe episode ends. */
TEST(tcp_rack_rto_clears_marks)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    for (int i = 0; i < 4; i++)
        tcp_rack_on_send(&r, P(i), P(i + 1), (uint64_t)i);
    ack_with(&r, 10000, B, P(3), P(4), false, P(4));
    uint32_t lost;
    tcp_rack_detect_loss(&r, 10000, 0, &lost);
    CHECK_EQ(lost, 3);
    tcp_rack_tlp_sent(&r, P(4), true);
    tcp_rack_on_rto(&r);
    CHECK(!tcp_rack_any_lost(&r));
    CHECK(!r.tlp_active);
    for (uint32_t k = 0; k < tcp_rack_count(&r); k++)
        CHECK_EQ(tcp_rack_at(&r, k)->flags & (TERN_RACK_SACKED | TERN_RACK_LOST), 0);
    tcp_rack_fini(&r);
}

/* Partial SACKs (tcp_rack.c whole_segments): with smss set, a block
 * counts only for the whole segments it covers; segment boundaries inside
 * an entry (a run sent at one instant) are start + k * SMSS and its end. */
TEST(tcp_rack_partial_sack_counts_whole_segments_only)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    tcp_rack_on_send(&r, P(0), P(3) + 24, 0); /* 3 segments + a 24-byte one, one entry */
    CHECK_EQ(tcp_rack_count(&r), 1);
    struct tern_tcp_sack_range rg = {P(1) - 1, P(1)}; /* the last byte of segment 0 */
    struct tern_rack_ack a = {.now = 10000, .ack = B, .ranges = &rg, .nranges = 1,
                              .snd_nxt = P(3) + 24, .smss = L};
    CHECK_EQ(tcp_rack_on_ack(&r, &a), 0);
    CHECK(!tcp_rack_any_sacked(&r));
    CHECK(!r.have_xmit); /* nothing delivered: RACK.xmit_ts untouched */
    rg = (struct tern_tcp_sack_range){P(1) - 1, P(2) + 5}; /* all of segment 1 and bits */
    CHECK_EQ(tcp_rack_on_ack(&r, &a), 1);
    CHECK_EQ(r.end_seq, P(2));
    rg = (struct tern_tcp_sack_range){P(3), P(3) + 24}; /* the short last segment */
    a.ranges = &rg;
    CHECK_EQ(tcp_rack_on_ack(&r, &a), 1);
    CHECK_EQ(r.end_seq, P(3) + 24);
    /* Without smss (the module's plain use) the byte counts. */
    struct tern_rack r2;
    static struct tern_rack_seg store2[8];
    REQUIRE(tcp_rack_init(&r2, store2, 8, B) == 0);
    tcp_rack_on_send(&r2, P(0), P(2), 0);
    rg = (struct tern_tcp_sack_range){P(1) - 1, P(1)};
    a.smss = 0;
    a.snd_nxt = P(2);
    CHECK_EQ(tcp_rack_on_ack(&r2, &a), 1);
    tcp_rack_fini(&r2);
    tcp_rack_fini(&r);
}

/* The boundaries whole_segments relies on: with smss set, a segment sent
 * at the same instant joins the entry before it only if all there are
 * full; a FIN's sequence number is never in a SACK block, so a block that
 * ends where the data ends covers the last segment. */
TEST(tcp_rack_entry_boundaries_and_fin)
{
    struct tern_rack r;
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    r.smss = L;
    tcp_rack_on_send(&r, P(0), P(1), 0);
    tcp_rack_on_send(&r, P(1), P(2) - 24, 0); /* short: joins (P(0) was full) */
    CHECK_EQ(tcp_rack_count(&r), 1);
    tcp_rack_on_send(&r, P(2) - 24, P(3) - 24, 0); /* after a short one: own entry */
    CHECK_EQ(tcp_rack_count(&r), 2);
    tcp_rack_on_send(&r, P(3) - 24, P(3) - 23, 0); /* a FIN after a full one: joins */
    CHECK_EQ(tcp_rack_count(&r), 2);
    /* The second entry [P(2) - 24, P(3) - 24) is one segment: SACKed whole. */
    struct tern_tcp_sack_range rg = {P(2) - 24, P(3) - 24};
    struct tern_rack_ack a = {.now = 10000, .ack = B, .ranges = &rg, .nranges = 1,
                              .snd_nxt = P(3) - 23, .smss = L, .fin_sent = true};
    CHECK_EQ(tcp_rack_on_ack(&r, &a), 1);
    tcp_rack_fini(&r);
    /* One entry of data + FIN: a block up to the data's end is whole. */
    REQUIRE(tcp_rack_init(&r, g_store, 64, B) == 0);
    r.smss = L;
    tcp_rack_on_send(&r, P(0), P(2) - 23, 0); /* L + (L - 24) bytes, the FIN on the last */
    rg = (struct tern_tcp_sack_range){P(1), P(2) - 24};
    a.snd_nxt = P(2) - 23;
    a.fin_sent = false; /* not known as a FIN: the block misses a byte */
    CHECK_EQ(tcp_rack_on_ack(&r, &a), 0);
    a.fin_sent = true;
    CHECK_EQ(tcp_rack_on_ack(&r, &a), 1);
    CHECK_EQ(r.end_seq, P(2) - 24);
    tcp_rack_fini(&r);
}
