/*
 * tcp_rtt.c - RFC 6298 RTT estimation, RTO computation and backoff, Karn's
 * algorithm, and RFC 7323 s4 timestamp samples (see tcp_rtt.h).
 * Not: the timer wheel, or any decision about what to retransmit.
 * Arithmetic: SRTT and RTTVAR are kept in 1/256 us, so the RFC's 7/8 and
 * 3/4 weights truncate at most 1/256 us per sample (the tests compare with
 * the RFC formulas in double precision). Integers only: runs replay exactly.
 */
#include "core/tcp_rtt.h"

#include "tern/wire/seq.h"

#define FP_SHIFT 8                       /* 1/256 us */
#define MAX_TIME_US (UINT64_C(1) << 40)  /* ~12.7 days: keeps every product in 64 bits */
#define MAX_BACKOFF 32u

void rtt_cfg_default(struct tern_rtt_cfg *cfg)
{
    cfg->initial_us = TERN_RTT_RFC_INITIAL_US;
    cfg->min_us = TERN_RTT_RFC_MIN_US;
    cfg->max_us = TERN_RTT_RFC_MAX_US;
    cfg->granularity_us = 1000;
    cfg->per_window = false;
}

static uint64_t clamp64(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void rtt_init(struct tern_rtt *r, struct tern_rtt_cfg *cfg)
{
    struct tern_rtt_cfg *c = cfg;
    c->max_us = clamp64(c->max_us, 1, MAX_TIME_US);
    c->min_us = clamp64(c->min_us, 1, c->max_us);
    c->granularity_us = clamp64(c->granularity_us, 1, c->max_us);
    /* RFC 6298 s2.1: "the sender SHOULD set RTO <- 1 second" until a sample. */
    c->initial_us = clamp64(c->initial_us, c->min_us, c->max_us);
    *r = (struct tern_rtt){.cfg = c, .rto_us = c->initial_us};
}

static void compute_rto(struct tern_rtt *r)
{
    /* RFC 6298 s2.2/2.3: RTO <- SRTT + max (G, K*RTTVAR), K = 4. */
    uint64_t g = r->cfg->granularity_us << FP_SHIFT;
    uint64_t var4 = r->rttvar_fp * 4;
    uint64_t rto_fp = r->srtt_fp + (var4 > g ? var4 : g);
    uint64_t rto = (rto_fp + (1u << FP_SHIFT) - 1) >> FP_SHIFT; /* round up */
    /* s2.4: below the minimum -> rounded up (1 s per the RFC; configurable,
     * DEVIATION when set lower, e.g. Linux's 200 ms). s2.5: a maximum. */
    r->rto_us = clamp64(rto, r->cfg->min_us, r->cfg->max_us);
}

/* One RFC 6298 update with the gains divided by n (RFC 7323 Appendix G:
 * alpha' = alpha / ExpectedSamples, beta' = beta / ExpectedSamples; n = 1
 * is plain RFC 6298). */
static void update(struct tern_rtt *r, uint64_t rtt_us, uint64_t n)
{
    if (rtt_us > r->cfg->max_us)
        rtt_us = r->cfg->max_us;
    uint64_t rfp = rtt_us << FP_SHIFT;
    if (!r->has_sample) {
        /* s2.2: the first measurement R: SRTT <- R, RTTVAR <- R/2. */
        r->srtt_fp = rfp;
        r->rttvar_fp = rfp / 2;
        r->has_sample = true;
    } else {
        /* s2.3: RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'| with
         * beta = 1/4, using the SRTT from before this sample, then
         * SRTT <- (1 - alpha) * SRTT + alpha * R' with alpha = 1/8. Written
         * as X += (target - X) * gain in signed arithmetic (all values
         * < 2^50, so int64 cannot overflow). */
        int64_t err = (int64_t)r->srtt_fp - (int64_t)rfp;
        if (err < 0)
            err = -err;
        int64_t var = (int64_t)r->rttvar_fp;
        var += (err - var) / (int64_t)(4 * n);
        int64_t srtt = (int64_t)r->srtt_fp;
        srtt += ((int64_t)rfp - srtt) / (int64_t)(8 * n);
        r->rttvar_fp = (uint64_t)(var < 0 ? 0 : var);
        r->srtt_fp = (uint64_t)(srtt < 0 ? 0 : srtt);
    }
    compute_rto(r);
    /* s5 (after rule 5.7): a new measurement recomputes RTO, "collapsing"
     * it back after backoff. */
    r->backoff = 0;
}

void rtt_sample(struct tern_rtt *r, uint64_t rtt_us)
{
    update(r, rtt_us, 1);
}

uint64_t rtt_rto(const struct tern_rtt *r)
{
    uint64_t max = r->cfg->max_us, rto = r->rto_us;
    /* s5.5: RTO <- RTO * 2 per expiry; "the maximum value discussed in
     * (2.5) above may be used to provide an upper bound to this doubling". */
    if (r->backoff >= 63 || rto > (max >> r->backoff))
        return max;
    return rto << r->backoff;
}

void rtt_backoff(struct tern_rtt *r)
{
    if (r->backoff < MAX_BACKOFF)
        r->backoff++;
    /* Karn: whatever was being timed may now be acknowledged by either
     * transmission. */
    r->timing = false;
}

void rtt_reset_backoff(struct tern_rtt *r)
{
    r->backoff = 0;
}

void rtt_syn_retransmitted(struct tern_rtt *r)
{
    /* s5.7: "If the timer expires awaiting the ACK of a SYN segment and the
     * TCP implementation is using an RTO less than 3 seconds, the RTO MUST
     * be re-initialized to 3 seconds when data transmission begins". A
     * sample (possible with timestamps) already reflects the path. */
    if (!r->has_sample && r->rto_us < TERN_RTT_SYN_RTO_US)
        r->rto_us = TERN_RTT_SYN_RTO_US < r->cfg->max_us ? TERN_RTT_SYN_RTO_US : r->cfg->max_us;
}

void rtt_on_send(struct tern_rtt *r, uint32_t seq_end, bool retransmission, uint64_t now_us)
{
    /* RFC 6298 s3: "RTT samples MUST NOT be made using segments that were
     * retransmitted". Like BSD, any retransmission cancels the timing in
     * progress, which also covers the timed segment being the one resent. */
    if (retransmission) {
        r->timing = false;
        return;
    }
    /* "at least one RTT measurement per RTT": time one segment at a time. */
    if (!r->timing) {
        r->timing = true;
        r->timed_end = seq_end;
        r->timed_at = now_us;
    }
}

bool rtt_on_ack(struct tern_rtt *r, uint32_t ack, uint64_t now_us)
{
    if (!r->timing || !tern_seq_geq(ack, r->timed_end))
        return false;
    r->timing = false;
    update(r, now_us >= r->timed_at ? now_us - r->timed_at : 0, 1);
    return true;
}

bool rtt_sample_ts(struct tern_rtt *r, uint32_t ts_now, uint32_t tsecr, uint32_t us_per_tick,
                        uint32_t flight, uint32_t smss)
{
    /* RFC 7323 s4.1: RTT = current timestamp clock - TSecr. A negative
     * difference cannot come from a segment we sent: ignore it. */
    int32_t ticks = tern_seq_diff(ts_now, tsecr);
    if (ticks < 0 || us_per_tick == 0)
        return false;
    uint64_t n = 1;
    if (r->cfg->per_window && smss > 0) {
        /* Appendix G: ExpectedSamples = ceiling(FlightSize / (SMSS * 2)). */
        uint64_t seg2 = 2 * (uint64_t)smss;
        n = ((uint64_t)flight + seg2 - 1) / seg2;
        if (n == 0)
            n = 1;
    }
    update(r, (uint64_t)ticks * us_per_tick, n);
    return true;
}

uint64_t rtt_srtt_us(const struct tern_rtt *r)
{
    return r->has_sample ? (r->srtt_fp + (1u << (FP_SHIFT - 1))) >> FP_SHIFT : 0;
}

uint64_t rtt_rttvar_us(const struct tern_rtt *r)
{
    return r->has_sample ? (r->rttvar_fp + (1u << (FP_SHIFT - 1))) >> FP_SHIFT : 0;
}
