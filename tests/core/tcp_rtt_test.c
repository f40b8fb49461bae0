/*
 * Tests for src/core/tcp_rtt.c: the RFC 6298 estimator checked against the
 * RFC's formulas evaluated here in double precision (s2.2 first sample,
 * s2.3 later samples, s2.4 minimum, s2.5 maximum, G), backoff doubling and
 * its cap (s5.5), the 3 s rule after a lost SYN (s5.7), Karn's algorithm
 * (s3), RFC 7323 s4 timestamp samples and the Appendix G weighting.
 */
#include <math.h>

#include "core/tcp_rtt.h"
#include "harness.h"

/* The RFC 6298 s2 recurrence, written out independently of the code. */
struct model {
    double srtt, rttvar;
    int n;
};

static void model_sample(struct model *m, double r, double expected_samples)
{
    const double alpha = 1.0 / 8, beta = 1.0 / 4;
    if (m->n++ == 0) {
        m->srtt = r;       /* SRTT <- R */
        m->rttvar = r / 2; /* RTTVAR <- R/2 */
        return;
    }
    double a = alpha / expected_samples, b = beta / expected_samples;
    m->rttvar = (1 - b) * m->rttvar + b * fabs(m->srtt - r);
    m->srtt = (1 - a) * m->srtt + a * r;
}

/* RTO <- SRTT + max (G, K*RTTVAR), then [min, max]. */
static double model_rto(const struct model *m, double g, double min, double max)
{
    double rto = m->srtt + fmax(g, 4 * m->rttvar);
    return fmin(fmax(rto, min), max);
}

static void cfg_raw(struct tern_rtt_cfg *c)
{
    rtt_cfg_default(c);
    c->min_us = 1; /* expose the raw formula */
    c->granularity_us = 1000;
}

TEST(tcp_rtt_initial_rto_is_one_second)
{
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    rtt_cfg_default(&c);
    rtt_init(&r, &c);
    /* RFC 6298 s2.1: RTO = 1 s until a measurement. */
    CHECK_EQ(rtt_rto(&r), 1000000);
    CHECK_EQ(rtt_srtt_us(&r), 0);
    CHECK_EQ(c.max_us, 60000000); /* s2.5: a maximum of at least 60 s */
}

TEST(tcp_rtt_first_sample_rule)
{
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    cfg_raw(&c);
    rtt_init(&r, &c);
    rtt_sample(&r, 100000); /* R = 100 ms */
    /* s2.2: SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max(G, 4*RTTVAR). */
    CHECK_EQ(rtt_srtt_us(&r), 100000);
    CHECK_EQ(rtt_rttvar_us(&r), 50000);
    CHECK_EQ(rtt_rto(&r), 100000 + 4 * 50000);

    /* s2.4: with the RFC's 1 s minimum the same sample gives 1 s; with a
     * Linux-like 200 ms floor, 300 ms stands. */
    rtt_cfg_default(&c);
    rtt_init(&r, &c);
    rtt_sample(&r, 100000);
    CHECK_EQ(rtt_rto(&r), 1000000);
    c.min_us = TERN_RTT_LINUX_MIN_US;
    rtt_init(&r, &c);
    rtt_sample(&r, 100000);
    CHECK_EQ(rtt_rto(&r), 300000);
    rtt_init(&r, &c);
    rtt_sample(&r, 20000); /* 20 + 40 ms -> raised to the 200 ms floor */
    CHECK_EQ(rtt_rto(&r), 200000);
}

TEST(tcp_rtt_sequence_matches_rfc6298_formulas)
{
    static const uint64_t samples[] = {
        100000, 120000, 80000, 300000, 95000, 100000, 101000, 99000, 250000, 40000,
        100000, 100000, 100000, 5000000, 100000, 70000, 130000, 1, 100000, 100000,
    };
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    struct model m = {0};
    cfg_raw(&c);
    rtt_init(&r, &c);
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        rtt_sample(&r, samples[i]);
        model_sample(&m, (double)samples[i], 1);
        double rto = model_rto(&m, 1000, 1, 60e6);
        /* Integer state in 1/256 us: within 1 us of the exact recurrence;
         * RTO is rounded up to whole microseconds. */
        CHECK(fabs((double)rtt_srtt_us(&r) - m.srtt) <= 1.0);
        CHECK(fabs((double)rtt_rttvar_us(&r) - m.rttvar) <= 1.0);
        CHECK(fabs((double)rtt_rto(&r) - rto) <= 2.0);
    }
    /* A long random sequence stays within the same bounds. */
    cfg_raw(&c);
    rtt_init(&r, &c);
    m = (struct model){0};
    for (int i = 0; i < 5000; i++) {
        uint64_t s = 1000 + test_rand() % 400000;
        rtt_sample(&r, s);
        model_sample(&m, (double)s, 1);
        if (fabs((double)rtt_srtt_us(&r) - m.srtt) > 1.0 ||
            fabs((double)rtt_rttvar_us(&r) - m.rttvar) > 1.0) {
            test_fail(__FILE__, __LINE__, "sample %d: srtt %llu vs %.3f, rttvar %llu vs %.3f",
                           i, (unsigned long long)rtt_srtt_us(&r), m.srtt,
                           (unsigned long long)rtt_rttvar_us(&r), m.rttvar);
            return;
        }
    }
}

TEST(tcp_rtt_granularity_bounds_the_variance_term)
{
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    cfg_raw(&c);
    c.granularity_us = 10000; /* a coarse 10 ms timer */
    rtt_init(&r, &c);
    /* A perfectly steady 10 ms path: RTTVAR decays towards 0, and RTO
     * settles at SRTT + G (s2.3: max(G, K*RTTVAR)). */
    for (int i = 0; i < 80; i++)
        rtt_sample(&r, 10000);
    CHECK_EQ(rtt_srtt_us(&r), 10000);
    CHECK_EQ(rtt_rto(&r), 20000);
}

TEST(tcp_rtt_maximum_caps_rto_and_samples)
{
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    rtt_cfg_default(&c);
    rtt_init(&r, &c);
    rtt_sample(&r, 100000000); /* 100 s: clamped to the 60 s maximum */
    CHECK_EQ(rtt_srtt_us(&r), 60000000);
    CHECK_EQ(rtt_rto(&r), 60000000);
}

TEST(tcp_rtt_backoff_doubles_to_the_cap)
{
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    rtt_cfg_default(&c);
    rtt_init(&r, &c);
    /* s5.5: RTO <- RTO * 2 per expiry, bounded by the s2.5 maximum. */
    uint64_t want = 1000000;
    for (int i = 0; i < 70; i++) {
        CHECK_EQ(rtt_rto(&r), want);
        rtt_backoff(&r);
        want = want * 2 > 60000000 ? 60000000 : want * 2;
    }
    CHECK_EQ(rtt_rto(&r), 60000000);
    rtt_reset_backoff(&r);
    CHECK_EQ(rtt_rto(&r), 1000000);

    /* A valid new sample collapses the backed-off RTO (s5, after 5.7). */
    c.min_us = TERN_RTT_LINUX_MIN_US;
    c.max_us = 120000000;
    rtt_init(&r, &c);
    rtt_sample(&r, 100000);
    rtt_backoff(&r);
    rtt_backoff(&r);
    CHECK_EQ(rtt_rto(&r), 4 * 300000);
    struct model m = {0};
    model_sample(&m, 100000, 1);
    model_sample(&m, 100000, 1);
    rtt_sample(&r, 100000);
    CHECK(fabs((double)rtt_rto(&r) - model_rto(&m, 1000, 200000, 120e6)) <= 2.0);
}

TEST(tcp_rtt_syn_retransmitted_gives_three_seconds)
{
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    rtt_cfg_default(&c);
    rtt_init(&r, &c);
    rtt_backoff(&r); /* the SYN timed out once */
    rtt_syn_retransmitted(&r);
    rtt_reset_backoff(&r); /* handshake done, data begins */
    CHECK_EQ(rtt_rto(&r), 3000000); /* s5.7 */
    /* With a sample (timestamps), the measured RTO stands. */
    rtt_init(&r, &c);
    rtt_sample(&r, 400000);
    rtt_syn_retransmitted(&r);
    CHECK_EQ(rtt_rto(&r), 400000 + 4 * 200000);
}

TEST(tcp_rtt_karn_no_sample_from_retransmitted_segment)
{
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    cfg_raw(&c);
    rtt_init(&r, &c);
    /* Segment [0, 1000) timed at t = 0; a second segment does not restart
     * the timing. */
    rtt_on_send(&r, 1000, false, 0);
    rtt_on_send(&r, 2000, false, 10);
    /* The timer fires: the first segment is resent at t = 1 s. Its ACK is
     * ambiguous (RFC 6298 s3): no sample, however it arrives. */
    rtt_backoff(&r);
    rtt_on_send(&r, 1000, true, 1000000);
    CHECK(!rtt_on_ack(&r, 2000, 1000100));
    CHECK_EQ(rtt_srtt_us(&r), 0);
    CHECK_EQ(rtt_rto(&r), 2000000); /* backoff kept: no valid sample */
    /* New data sent after the retransmission is timed again. */
    rtt_on_send(&r, 3000, false, 2000000);
    CHECK(!rtt_on_ack(&r, 2500, 2000020)); /* does not cover it yet */
    CHECK(rtt_on_ack(&r, 3000, 2000050));
    CHECK_EQ(rtt_srtt_us(&r), 50);
    CHECK_EQ(rtt_rto(&r), 50 + 1000); /* backoff reset; G dominates 4*25 */
    /* A fast retransmission (no timer expiry) cancels the timing too. */
    rtt_init(&r, &c);
    rtt_on_send(&r, 1000, false, 0);
    rtt_on_send(&r, 1000, true, 300);
    CHECK(!rtt_on_ack(&r, 1000, 400));
    CHECK_EQ(rtt_srtt_us(&r), 0);
    /* Timing a segment that ends just past the 2^32 wrap. */
    rtt_init(&r, &c);
    rtt_on_send(&r, 0x00000010u, false, 500);
    CHECK(!rtt_on_ack(&r, 0xfffffff0u, 600));
    CHECK(rtt_on_ack(&r, 0x00000010u, 700));
    CHECK_EQ(rtt_srtt_us(&r), 200);
}

TEST(tcp_rtt_timestamps_sample_retransmissions)
{
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    cfg_raw(&c);
    rtt_init(&r, &c);
    rtt_backoff(&r);
    rtt_backoff(&r);
    /* RFC 7323 s4.1 with a 1 ms timestamp clock: TSecr 1000 echoed at
     * 1050 -> 50 ms, even though the segment was retransmitted (the echo
     * names the transmission; RFC 6298 s3). Backoff is reset. */
    CHECK(rtt_sample_ts(&r, 1050, 1000, 1000, 10000, 1000));
    CHECK_EQ(rtt_srtt_us(&r), 50000);
    CHECK_EQ(rtt_rto(&r), 50000 + 4 * 25000);
    /* Across the 2^32 wrap of the timestamp clock. */
    CHECK(rtt_sample_ts(&r, 20, 0xfffffff6u, 1000, 10000, 1000));
    struct model m = {0};
    model_sample(&m, 50000, 1);
    model_sample(&m, 30000, 1);
    CHECK(fabs((double)rtt_srtt_us(&r) - m.srtt) <= 1.0);
    /* A TSecr ahead of our clock was never sent by us: ignored. */
    uint64_t before = rtt_srtt_us(&r);
    CHECK(!rtt_sample_ts(&r, 1000, 1005, 1000, 10000, 1000));
    CHECK(!rtt_sample_ts(&r, 1000, 1000u + 0x80000000u, 1000, 10000, 1000));
    CHECK_EQ(rtt_srtt_us(&r), before);
}

TEST(tcp_rtt_rfc7323_appendix_g_weights)
{
    struct tern_rtt_cfg c;
    struct tern_rtt r;
    cfg_raw(&c);
    c.per_window = true;
    rtt_init(&r, &c);
    struct model m = {0};
    /* FlightSize 20 * SMSS: ExpectedSamples = ceiling(20 / 2) = 10, so
     * alpha' = 1/80 and beta' = 1/40. An odd flight rounds up. */
    static const struct {
        uint32_t ts_now, tsecr, flight;
        double n;
    } s[] = {
        {1100, 1000, 20000, 10}, {2200, 2000, 20000, 10}, {3150, 3000, 21000, 11},
        {4080, 4000, 500, 1},    {5100, 5000, 0, 1},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        CHECK(rtt_sample_ts(&r, s[i].ts_now, s[i].tsecr, 1000, s[i].flight, 1000));
        model_sample(&m, (double)(s[i].ts_now - s[i].tsecr) * 1000, s[i].n);
        CHECK(fabs((double)rtt_srtt_us(&r) - m.srtt) <= 1.0);
        CHECK(fabs((double)rtt_rttvar_us(&r) - m.rttvar) <= 1.0);
    }
    /* Without Appendix G the same samples weigh 1/8 and 1/4. */
    cfg_raw(&c);
    rtt_init(&r, &c);
    m = (struct model){0};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        rtt_sample_ts(&r, s[i].ts_now, s[i].tsecr, 1000, s[i].flight, 1000);
        model_sample(&m, (double)(s[i].ts_now - s[i].tsecr) * 1000, 1);
    }
    CHECK(fabs((double)rtt_srtt_us(&r) - m.srtt) <= 1.0);
}
