/*
 * Tests for src/core/tcp_cc.c and tcp_cubic.c: the RFC 6928 initial window,
 * slow start doubling per RTT and congestion avoidance adding one SMSS per
 * RTT with byte counting (RFC 5681 s3.1, RFC 3465), the loss and timeout
 * responses of NewReno (RFC 5681) and CUBIC (RFC 9438 s4.6-4.8), the CUBIC
 * curve (Figures 1 and 2) and Reno-friendly region (Figure 4) against the
 * formulas evaluated here in double precision, and the RFC 6582 recovery
 * helper. ACK clocking is simulated: one RTT = one window of ACKs.
 */
#include <math.h>
#include <stdlib.h>

#include "core/tcp_cc.h"
#include "harness.h"

#define MSS 1000u

static void setup(struct tern_cc *cc, const struct tern_cc_ops *ops)
{
    cc_init(cc, ops, MSS, cc_initial_window(MSS, false), 0);
}

/* One round trip: the window open at its start is acknowledged in ACKs of
 * ack_bytes each (the last may be short). Returns the time after it. */
static uint64_t one_rtt(struct tern_cc *cc, uint32_t ack_bytes, uint64_t rtt_us, uint64_t now)
{
    uint32_t left = cc->cwnd;
    uint32_t n = (left + ack_bytes - 1) / ack_bytes;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = left < ack_bytes ? left : ack_bytes;
        left -= a;
        cc->ops->on_ack(cc, a, rtt_us, now + rtt_us * (i + 1) / n, false);
    }
    return now + rtt_us;
}

TEST(tcp_cc_initial_window_rfc6928)
{
    /* IW = min (10*MSS, max (2*MSS, 14600)) */
    CHECK_EQ(cc_initial_window(1460, false), 14600);
    CHECK_EQ(cc_initial_window(536, false), 5360);
    CHECK_EQ(cc_initial_window(1000, false), 10000);
    CHECK_EQ(cc_initial_window(8960, false), 17920);
    CHECK_EQ(cc_initial_window(1460, true), 1460); /* SYN was lost */
    struct tern_cc cc;
    setup(&cc, NULL);
    CHECK_STR(cc_name(&cc), "cubic"); /* the default */
    CHECK_EQ(cc_cwnd(&cc), 10 * MSS);
    CHECK_EQ(cc_ssthresh(&cc), TERN_CC_SSTHRESH_INF);
    CHECK(cc_by_name("newreno") == &cc_newreno);
    CHECK(cc_by_name("cubic") == &cc_cubic);
    CHECK(cc_by_name("vegas") == NULL);
}

TEST(tcp_cc_slow_start_doubles_per_rtt)
{
    const struct tern_cc_ops *algs[] = {&cc_newreno, &cc_cubic};
    for (int a = 0; a < 2; a++) {
        /* Per-segment ACKs and delayed ACKs (2*SMSS each): with byte
         * counting and L = 2*SMSS both double cwnd every RTT. */
        for (uint32_t ack = MSS; ack <= 2 * MSS; ack += MSS) {
            struct tern_cc cc;
            setup(&cc, algs[a]);
            uint64_t now = 0;
            for (int r = 0; r < 8; r++) {
                uint32_t before = cc.cwnd;
                now = one_rtt(&cc, ack, 50000, now);
                CHECK_EQ(cc.cwnd, 2 * before);
            }
            CHECK_EQ(cc.cwnd, 10 * MSS << 8);
        }
    }
    /* L caps one ACK's credit: a stretch ACK of 5 segments adds 2 SMSS,
     * and only 1 SMSS in the slow start after an RTO (RFC 3465 s2.3). */
    struct tern_cc cc;
    setup(&cc, &cc_newreno);
    cc.ops->on_ack(&cc, 5 * MSS, 0, 0, false);
    CHECK_EQ(cc.cwnd, 12 * MSS);
    cc.ops->on_rto(&cc, 12 * MSS, false, 0);
    cc.ops->on_ack(&cc, 5 * MSS, 0, 0, false);
    CHECK_EQ(cc.cwnd, 2 * MSS);
}

TEST(tcp_cc_newreno_congestion_avoidance_one_mss_per_rtt)
{
    for (uint32_t ack = MSS; ack <= 20 * MSS; ack *= 2) {
        struct tern_cc cc;
        setup(&cc, &cc_newreno);
        cc.cwnd = 20 * MSS;
        cc.ssthresh = 10 * MSS;
        uint64_t now = 0;
        for (int r = 0; r < 10; r++) {
            uint32_t before = cc.cwnd;
            now = one_rtt(&cc, ack, 50000, now);
            /* RFC 5681 s3.1 / RFC 3465 s2.1: one SMSS per window of bytes
             * acknowledged, whatever the ACK size. */
            CHECK_EQ(cc.cwnd, before + MSS);
        }
    }
    /* In fast recovery the algorithm leaves cwnd alone. */
    struct tern_cc cc;
    setup(&cc, &cc_newreno);
    cc.ops->on_ack(&cc, MSS, 0, 0, true);
    CHECK_EQ(cc.cwnd, 10 * MSS);
}

TEST(tcp_cc_loss_halves_newreno_and_cubic_keeps_seven_tenths)
{
    struct tern_cc cc;
    setup(&cc, &cc_newreno);
    cc.cwnd = 40 * MSS;
    cc.ops->on_loss(&cc, 40 * MSS, 0);
    CHECK_EQ(cc.ssthresh, 20 * MSS); /* RFC 5681 (4): FlightSize / 2 */
    CHECK_EQ(cc.cwnd, 20 * MSS);
    cc.ops->on_loss(&cc, 3 * MSS, 0);
    CHECK_EQ(cc.ssthresh, 2 * MSS); /* floor 2*SMSS */
    /* ssthresh follows FlightSize, not cwnd (RFC 5681 s3.1 note). */
    cc.cwnd = 40 * MSS;
    cc.ops->on_loss(&cc, 10 * MSS, 0);
    CHECK_EQ(cc.ssthresh, 5 * MSS);

    setup(&cc, &cc_cubic);
    cc.cwnd = 40 * MSS;
    cc.ops->on_loss(&cc, 40 * MSS, 0);
    CHECK_EQ(cc.ssthresh, 28 * MSS); /* RFC 9438 Figure 5: 0.7 * flight */
    CHECK_EQ(cc.cwnd, 28 * MSS);
    CHECK_EQ(cc.cubic.w_max, 40 * MSS);
    cc.ops->on_loss(&cc, 2 * MSS, 0);
    CHECK_EQ(cc.ssthresh, 2 * MSS); /* at least 2 MSS */
    CHECK_EQ(cc.cwnd, 2 * MSS);
}

TEST(tcp_cc_rto_sets_loss_window)
{
    struct tern_cc cc;
    setup(&cc, &cc_newreno);
    cc.cwnd = 30 * MSS;
    cc.ops->on_rto(&cc, 30 * MSS, false, 0);
    /* RFC 5681 s3.1: cwnd = LW = 1 SMSS, ssthresh = max(FlightSize/2, 2*SMSS). */
    CHECK_EQ(cc.cwnd, MSS);
    CHECK_EQ(cc.ssthresh, 15 * MSS);
    /* The same segment timing out again holds ssthresh. */
    cc.ops->on_rto(&cc, MSS, true, 0);
    CHECK_EQ(cc.cwnd, MSS);
    CHECK_EQ(cc.ssthresh, 15 * MSS);
    cc.ops->on_rto(&cc, MSS, false, 0);
    CHECK_EQ(cc.ssthresh, 2 * MSS);

    setup(&cc, &cc_cubic);
    cc.cwnd = 30 * MSS;
    cc.ops->on_rto(&cc, 30 * MSS, false, 0);
    /* RFC 9438 s4.8: cwnd as Reno, ssthresh with beta_cubic. */
    CHECK_EQ(cc.cwnd, MSS);
    CHECK_EQ(cc.ssthresh, 21 * MSS);
    cc.ops->on_rto(&cc, MSS, true, 0); /* repeated: ssthresh held */
    CHECK_EQ(cc.ssthresh, 21 * MSS);
}

/* Figure 1 with Figure 2, in segments and seconds. */
static double cubic_formula(double w_max_seg, double cwnd_epoch_seg, double t)
{
    const double c = 0.4;
    double k = cbrt((w_max_seg - cwnd_epoch_seg) / c);
    return c * pow(t - k, 3) + w_max_seg;
}

TEST(tcp_cc_cubic_curve_matches_rfc9438)
{
    struct tern_cc cc;
    setup(&cc, &cc_cubic);
    cc.cwnd = 100 * MSS;
    cc.ops->on_loss(&cc, 100 * MSS, 0); /* W_max = 100, cwnd = 70 segments */
    cc.ops->on_ack(&cc, MSS, 100000, 5000000, false); /* epoch starts at 5 s */
    REQUIRE(cc.cubic.epoch_valid);
    CHECK_EQ(cc.cubic.cwnd_epoch, 70 * MSS);
    /* K = cbrt(W_max * (1 - beta) / C) = cbrt(75) s. */
    double k = cbrt(100 * (1 - 0.7) / 0.4);
    CHECK(fabs((double)cubic_k_us(&cc) / 1e6 - k) < 0.001);
    /* W(K) = W_max; W(0) = beta * W_max = cwnd_epoch. */
    CHECK(llabs((long long)cubic_w(&cc, (uint64_t)(k * 1e6)) - 100 * MSS) <= 2);
    CHECK(llabs((long long)cubic_w(&cc, 0) - 70 * MSS) <= 20);
    /* The curve against the formula, and its shape: increments shrink
     * before K (concave) and grow after it (convex). */
    double prev_w = 0, prev_inc = 0;
    for (int i = 0; i <= 16; i++) {
        double t = k * i / 8;
        double w = (double)cubic_w(&cc, (uint64_t)(t * 1e6));
        double want = cubic_formula(100, 70, t) * MSS;
        if (fabs(w - want) > 20)
            test_fail(__FILE__, __LINE__, "W(%.3f) = %.0f, formula %.1f", t, w, want);
        if (i > 0) {
            double inc = w - prev_w;
            CHECK(inc >= 0);
            if (i > 1 && i <= 8)
                CHECK(inc < prev_inc); /* concave: t < K */
            if (i > 9)
                CHECK(inc > prev_inc); /* convex: t > K */
            prev_inc = inc;
        }
        prev_w = w;
    }
}

TEST(tcp_cc_cubic_window_tracks_curve_over_time)
{
    /* 100 ms RTT: the cubic curve grows faster than the Reno estimate, so
     * cwnd follows W_cubic (s4.4 concave, then s4.5 convex). After each RTT
     * cwnd has reached the target set one RTT earlier: W_cubic(t). */
    struct tern_cc cc;
    setup(&cc, &cc_cubic);
    cc.cwnd = 100 * MSS;
    cc.ops->on_loss(&cc, 100 * MSS, 0);
    const uint64_t rtt = 100000, t0 = 1000000;
    uint64_t now = t0;
    for (int r = 0; r < 60; r++) {
        now = one_rtt(&cc, MSS, rtt, now);
        double t = (double)(now - t0) / 1e6;
        double want = cubic_formula(100, 70, t) * MSS;
        if (fabs((double)cc.cwnd - want) > 0.03 * want)
            test_fail(__FILE__, __LINE__, "rtt %d: cwnd %u, W_cubic(%.1f) %.0f", r, cc.cwnd,
                           t, want);
    }
    CHECK(cc.cwnd > 100 * MSS); /* past W_max: the convex region */
}

TEST(tcp_cc_cubic_reno_friendly_region_follows_w_est)
{
    /* 10 ms RTT: the curve grows ~3*C*K^2 = 21 segments/s = 0.2 per RTT,
     * less than alpha_cubic = 3 * 0.3 / 1.7 = 9/17 per RTT, so cwnd =
     * W_est (s4.3). The model applies Figure 4 per ACK in double. */
    struct tern_cc cc;
    setup(&cc, &cc_cubic);
    cc.cwnd = 100 * MSS;
    cc.ops->on_loss(&cc, 100 * MSS, 0);
    const double alpha = 3 * (1 - 0.7) / (1 + 0.7);
    double w_est = 70, cwnd = 70; /* segments */
    uint64_t now = 0;
    for (int r = 0; r < 40; r++) {
        uint32_t n = cc.cwnd / MSS;
        int acks = (int)floor(cwnd);
        for (uint32_t i = 0; i < n; i++)
            cc.ops->on_ack(&cc, MSS, 10000, now + 10000 * (i + 1) / n, false);
        for (int i = 0; i < acks; i++) {
            w_est += alpha * 1 / cwnd;
            cwnd = fmax(cwnd, w_est);
        }
        now += 10000;
    }
    CHECK(fabs((double)cc.cwnd / MSS - cwnd) < 0.05);
    CHECK(cc.cwnd > 70 * MSS + 20 * MSS / 2); /* ~0.53 segments per RTT */
    /* Once W_est reaches cwnd_prior (100 segments) alpha becomes 1 and
     * growth is Reno's 1 segment per RTT. */
    for (int r = 0; r < 80; r++)
        now = one_rtt(&cc, MSS, 10000, now);
    REQUIRE(cc.cwnd > 100 * MSS);
    CHECK(cc.cubic.alpha_one);
    uint32_t before = cc.cwnd;
    now = one_rtt(&cc, MSS, 10000, now);
    CHECK(llabs((long long)cc.cwnd - (long long)before - MSS) <= MSS / 10);
}

TEST(tcp_cc_cubic_fast_convergence)
{
    struct tern_cc cc;
    setup(&cc, &cc_cubic);
    cc.cwnd = 100 * MSS;
    cc.ops->on_loss(&cc, 100 * MSS, 0);
    CHECK_EQ(cc.cubic.w_max, 100 * MSS);
    /* A second event below W_max: W_max = cwnd * (1 + beta) / 2 (s4.7). */
    cc.cwnd = 80 * MSS;
    cc.ops->on_loss(&cc, 80 * MSS, 0);
    CHECK_EQ(cc.cubic.w_max, 68 * MSS);
    /* Disabled: W_max = cwnd. */
    setup(&cc, &cc_cubic);
    cc.cubic.fast_convergence = false;
    cc.cwnd = 100 * MSS;
    cc.ops->on_loss(&cc, 100 * MSS, 0);
    cc.cwnd = 80 * MSS;
    cc.ops->on_loss(&cc, 80 * MSS, 0);
    CHECK_EQ(cc.cubic.w_max, 80 * MSS);
}

TEST(tcp_cc_cubic_after_rto_k_is_zero)
{
    struct tern_cc cc;
    setup(&cc, &cc_cubic);
    cc.cwnd = 100 * MSS;
    cc.ops->on_rto(&cc, 100 * MSS, false, 0);
    CHECK_EQ(cc.cwnd, MSS);
    CHECK_EQ(cc.ssthresh, 70 * MSS);
    uint64_t now = 0;
    while (cc.cwnd < cc.ssthresh)
        now = one_rtt(&cc, MSS, 50000, now);
    cc.ops->on_ack(&cc, MSS, 50000, now, false);
    /* s4.8: K = 0 and W_max = cwnd at the start of congestion avoidance. */
    REQUIRE(cc.cubic.epoch_valid);
    CHECK_EQ(cubic_k_us(&cc), 0);
    CHECK_EQ(cc.cubic.w_max, cc.cubic.cwnd_epoch);
    CHECK_EQ(cubic_w(&cc, 0), cc.cubic.cwnd_epoch);
    /* W(t) = C * t^3 + W_max from there. */
    double w2 = 0.4 * 8 * MSS + cc.cubic.w_max;
    CHECK(fabs((double)cubic_w(&cc, 2000000) - w2) <= 2);
}

/* ---- RFC 6582 recovery ------------------------------------------------- */

TEST(tcp_cc_newreno_recovery_entry_inflation_partial_full)
{
    struct tern_cc cc;
    struct tern_recovery rec;
    const uint32_t iss = 0xfffff000u; /* the run crosses the 2^32 wrap */
    setup(&cc, &cc_newreno);
    rec_init(&rec, iss);
    cc.cwnd = 20 * MSS;
    cc.ssthresh = 10 * MSS;
    uint32_t una = iss + 1, nxt = una + 20 * MSS;
    /* Duplicate ACKs 1 and 2: limited transmit; 3: fast retransmit. */
    CHECK_EQ(rec_on_dupack(&rec, &cc, una, nxt, 20 * MSS, 0), TERN_REC_LIMITED_TX);
    CHECK_EQ(rec_on_dupack(&rec, &cc, una, nxt, 20 * MSS, 0), TERN_REC_LIMITED_TX);
    CHECK_EQ(rec_on_dupack(&rec, &cc, una, nxt, 20 * MSS, 0),
             TERN_REC_RETRANSMIT | TERN_REC_ENTERED);
    CHECK(rec.in_recovery);
    CHECK_EQ(rec.recover, nxt);
    CHECK_EQ(cc.ssthresh, 10 * MSS);
    CHECK_EQ(cc.cwnd, 13 * MSS); /* ssthresh + 3*SMSS */
    /* Each further duplicate ACK inflates by SMSS, but never past the
     * bytes in flight (a spoofed flood gains nothing). */
    CHECK_EQ(rec_on_dupack(&rec, &cc, una, nxt, 20 * MSS, 0), TERN_REC_NONE);
    CHECK_EQ(cc.cwnd, 14 * MSS);
    for (int i = 0; i < 1000; i++)
        rec_on_dupack(&rec, &cc, una, nxt, 20 * MSS, 0);
    CHECK_EQ(cc.cwnd, 10 * MSS + 20 * MSS);
    /* Partial ACK of 5 segments: deflate by 5*SMSS, add back SMSS,
     * retransmit, reset the timer on the first partial ACK only. */
    uint32_t before = cc.cwnd;
    unsigned act = rec_on_ack(&rec, &cc, una + 5 * MSS, 5 * MSS, 15 * MSS, 100000, 0);
    CHECK_EQ(act, TERN_REC_RETRANSMIT | TERN_REC_RESET_TIMER);
    CHECK_EQ(cc.cwnd, before - 5 * MSS + MSS);
    una += 5 * MSS;
    before = cc.cwnd;
    act = rec_on_ack(&rec, &cc, una + 500, 500, 15 * MSS - 500, 100000, 0);
    CHECK_EQ(act, TERN_REC_RETRANSMIT); /* < SMSS acked: no add-back */
    CHECK_EQ(cc.cwnd, before - 500);
    una += 500;
    CHECK(rec.in_recovery);
    /* Full ACK (covers recover): cwnd = min(ssthresh, max(FlightSize,
     * SMSS) + SMSS); recovery ends. With 3 segments still out (new data
     * sent during recovery), that is 4 segments. */
    act = rec_on_ack(&rec, &cc, nxt, nxt - una, 3 * MSS, 100000, 0);
    CHECK_EQ(act, TERN_REC_EXITED);
    CHECK(!rec.in_recovery);
    CHECK_EQ(cc.cwnd, 4 * MSS);
    CHECK_EQ(cc.ssthresh, 10 * MSS);
    /* Back to normal growth: slow start up to ssthresh. */
    rec_on_ack(&rec, &cc, nxt + MSS, MSS, 2 * MSS, 100000, 0);
    CHECK_EQ(cc.cwnd, 5 * MSS);
}

TEST(tcp_cc_recovery_not_reentered_for_old_data)
{
    struct tern_cc cc;
    struct tern_recovery rec;
    setup(&cc, &cc_newreno);
    rec_init(&rec, 1000);
    cc.cwnd = 20 * MSS;
    uint32_t una = 1001, nxt = una + 20 * MSS;
    /* The timer fires: recover = SND.NXT (RFC 6582 s3.2 step 6). */
    rec_on_rto(&rec, &cc, nxt, 20 * MSS, false, 0);
    CHECK_EQ(cc.cwnd, MSS);
    CHECK_EQ(cc.ssthresh, 10 * MSS);
    /* Duplicate ACKs for data sent before the timeout do not trigger a
     * second reduction (step 2: ACK does not cover more than recover). */
    for (int i = 0; i < 5; i++)
        CHECK(!(rec_on_dupack(&rec, &cc, una + MSS, nxt, 19 * MSS, 0) & TERN_REC_RETRANSMIT));
    CHECK(!rec.in_recovery);
    CHECK_EQ(cc.ssthresh, 10 * MSS);
    /* Once the ACK passes recover, a new loss is a new congestion event. */
    rec_on_ack(&rec, &cc, nxt + MSS, 20 * MSS, 4 * MSS, 0, 0);
    for (int i = 0; i < 2; i++)
        rec_on_dupack(&rec, &cc, nxt + MSS, nxt + 5 * MSS, 4 * MSS, 0);
    CHECK(rec_on_dupack(&rec, &cc, nxt + MSS, nxt + 5 * MSS, 4 * MSS, 0) & TERN_REC_ENTERED);
    CHECK_EQ(cc.ssthresh, 2 * MSS);
}

TEST(tcp_cc_cubic_uses_the_same_recovery)
{
    struct tern_cc cc;
    struct tern_recovery rec;
    setup(&cc, &cc_cubic);
    rec_init(&rec, 0);
    cc.cwnd = 40 * MSS;
    cc.ssthresh = 20 * MSS;
    for (int i = 0; i < 3; i++)
        rec_on_dupack(&rec, &cc, 1, 1 + 40 * MSS, 40 * MSS, 0);
    CHECK(rec.in_recovery);
    CHECK_EQ(cc.ssthresh, 28 * MSS);
    CHECK_EQ(cc.cwnd, 31 * MSS);
    /* No CUBIC growth in recovery; exit restores a bounded window. */
    rec_on_ack(&rec, &cc, 1 + 40 * MSS, 40 * MSS, 0, 100000, 1000);
    CHECK_EQ(cc.cwnd, 2 * MSS); /* min(ssthresh, max(0, SMSS) + SMSS) */
    CHECK(!cc.cubic.epoch_valid);
}

/* RFC 5681 s4.1: after an idle period longer than the RTO, cwnd restarts
 * at no more than RW = min(IW, cwnd); ssthresh is kept. A cwnd already
 * below IW stays. Both algorithms. */
TEST(tcp_cc_restart_after_idle_sets_restart_window)
{
    const struct tern_cc_ops *algs[] = {&cc_newreno, &cc_cubic};
    uint32_t iw = cc_initial_window(MSS, false);
    for (int a = 0; a < 2; a++) {
        struct tern_cc cc;
        setup(&cc, algs[a]);
        cc.cwnd = 40 * MSS;
        cc.ops->on_loss(&cc, 40 * MSS, 0);
        uint32_t ss = cc.ssthresh;
        cc_restart_after_idle(&cc, iw, 10000000);
        CHECK_EQ(cc.cwnd, iw);
        CHECK_EQ(cc.ssthresh, ss);
        cc.cwnd = 3 * MSS;
        cc_restart_after_idle(&cc, iw, 20000000);
        CHECK_EQ(cc.cwnd, 3 * MSS);
    }
}

/* RFC 9438 s5.8: t of W_cubic(t) must not include time in which cwnd was
 * not updated for lack of data to send. After the restart the CUBIC
 * epoch is new: once slow start has brought cwnd back to ssthresh, the
 * first congestion avoidance ACK starts a new epoch, and the curve starts
 * at the cwnd of then, below W_max - it does not resume 100 s into the old
 * curve, where the target would be the 1.5 * cwnd bound (+500 bytes on
 * one 1000-byte ACK here). */
TEST(tcp_cc_cubic_restart_after_idle_starts_new_epoch)
{
    struct tern_cc cc;
    setup(&cc, &cc_cubic);
    cc.cwnd = 40 * MSS;
    cc.ops->on_loss(&cc, 40 * MSS, 0); /* W_max 40, cwnd = ssthresh = 28 segments */
    const uint64_t rtt = 100000;
    uint64_t now = one_rtt(&cc, MSS, rtt, 1000000); /* congestion avoidance */
    REQUIRE(cc.cubic.epoch_valid);
    CHECK_EQ(cc.cubic.t_epoch_us, 1000000 + rtt / 28);
    now += 100000000; /* 100 s idle */
    cc_restart_after_idle(&cc, cc_initial_window(MSS, false), now);
    CHECK(!cc.cubic.epoch_valid);
    CHECK_EQ(cc.cwnd, 10 * MSS);
    /* Slow start back to ssthresh. */
    int guard = 0;
    while (cc.cwnd < cc.ssthresh && guard++ < 1000) {
        now += 1000;
        cc.ops->on_ack(&cc, MSS, rtt, now, false);
    }
    uint32_t before = cc.cwnd;
    now += 1000;
    cc.ops->on_ack(&cc, MSS, rtt, now, false);
    REQUIRE(cc.cubic.epoch_valid);
    CHECK_EQ(cc.cubic.t_epoch_us, now);
    CHECK_EQ(cc.cubic.w_max, 40 * MSS);
    CHECK(cc.cwnd - before < 100);
}
