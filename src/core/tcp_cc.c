/*
 * tcp_cc.c - the congestion control interface, NewReno, the initial window
 * and the RFC 6582 fast recovery helper (see tcp_cc.h). CUBIC is in
 * tcp_cubic.c. Not: SACK recovery (RFC 6675), ECN, HyStart++, cwnd
 * validation for application-limited periods (RFC 7661).
 * RFCs: 5681 s3.1-3.2, 3465 s2, 6582 s3.2, 6928 s2.
 */
#include "core/tcp_cc.h"

#include <string.h>

#include "tern/wire/seq.h"

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t max32(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* SMSS as the wire can carry it (16 bits); keeps every product in 64 bits. */
static uint32_t clamp_mss(uint32_t mss)
{
    return mss == 0 ? 1 : mss > 65535 ? 65535 : mss;
}

static uint32_t cap_cwnd(uint64_t v)
{
    return v > TERN_CC_CWND_MAX ? TERN_CC_CWND_MAX : (uint32_t)v;
}

const struct tern_cc_ops *cc_default(void)
{
    return &cc_cubic;
}

const struct tern_cc_ops *cc_by_name(const char *name)
{
    if (!name)
        return NULL;
    if (strcmp(name, "newreno") == 0 || strcmp(name, "reno") == 0)
        return &cc_newreno;
    if (strcmp(name, "cubic") == 0)
        return &cc_cubic;
    return NULL;
}

uint32_t cc_initial_window(uint32_t mss, bool syn_retransmitted)
{
    if (mss == 0)
        mss = 1;
    /* RFC 6928 s2: "If the SYN or SYN/ACK is lost, the initial window used
     * by a sender after a correctly transmitted SYN MUST be one segment
     * consisting of at most SMSS bytes." (also RFC 5681 s3.1) */
    if (syn_retransmitted)
        return mss;
    /* RFC 6928 s2: IW = min (10*MSS, max (2*MSS, 14600)). */
    uint64_t ten = 10 * (uint64_t)mss, two = 2 * (uint64_t)mss;
    uint64_t floor = two > 14600 ? two : 14600;
    return cap_cwnd(ten < floor ? ten : floor);
}

void cc_init(struct tern_cc *cc, const struct tern_cc_ops *ops, uint32_t mss, uint32_t iw,
                  uint64_t now_us)
{
    memset(cc, 0, sizeof *cc);
    cc->ops = ops ? ops : cc_default();
    cc->mss = clamp_mss(mss);
    cc->cwnd = cap_cwnd(max32(iw, cc->mss));
    cc->ssthresh = TERN_CC_SSTHRESH_INF;
    cc->ops->init(cc, now_us);
}

void cc_restart_after_idle(struct tern_cc *cc, uint32_t iw, uint64_t now_us)
{
    /* RFC 5681 s4.1: "a TCP SHOULD set cwnd to no more than RW before
     * beginning transmission if the TCP has not sent data in an interval
     * exceeding the retransmission timeout", RW = min(IW, cwnd): the
     * window measured before the silence may no longer be safe to send in
     * one burst. (RFC 7661 is the experimental alternative; Linux does
     * this with tcp_slow_start_after_idle = 1, its default.) */
    if (cc->cwnd > iw)
        cc->cwnd = max32(iw, cc->mss);
    cc->bytes_acked = 0;
    if (cc->ops->on_idle_restart)
        cc->ops->on_idle_restart(cc, now_us);
}

void cc_set_mss(struct tern_cc *cc, uint32_t mss)
{
    cc->mss = clamp_mss(mss);
    if (cc->cwnd < cc->mss)
        cc->cwnd = cc->mss;
}

uint32_t cc_reno_ssthresh(const struct tern_cc *cc, uint32_t flight)
{
    /* RFC 5681 s3.1 (4): ssthresh = max (FlightSize / 2, 2*SMSS). */
    return max32(flight / 2, cap_cwnd(2 * (uint64_t)cc->mss));
}

void cc_reno_grow(struct tern_cc *cc, uint32_t acked)
{
    if (cc->cwnd < cc->ssthresh) {
        /* Slow start (RFC 5681 s3.1: used when cwnd < ssthresh) with
         * appropriate byte counting (RFC 3465 s2.2): cwnd grows by the
         * bytes acknowledged, at most L per ACK. RFC 3465 s2.3: L = 2*SMSS,
         * but L = 1*SMSS in the slow start that follows an RTO, where one
         * ACK may cover much data sent before the timeout. DEVIATION: RFC
         * 5681 s3.1 asks for min(N, SMSS); L = 2*SMSS (the experimental RFC
         * 3465 value) keeps slow start doubling per RTT under delayed ACKs. */
        uint64_t l = (cc->ss_after_rto ? 1u : 2u) * (uint64_t)cc->mss;
        cc->cwnd = cap_cwnd((uint64_t)cc->cwnd + (acked < l ? acked : l));
        return;
    }
    cc->ss_after_rto = false;
    /* Congestion avoidance with byte counting (RFC 3465 s2.1, allowed by
     * RFC 5681 s3.1): "When bytes_acked becomes greater than or equal to
     * the value of the congestion window, bytes_acked is reduced by the
     * value of cwnd. Next, cwnd is incremented by a full-sized segment". */
    uint64_t b = (uint64_t)cc->bytes_acked + acked;
    if (b >= cc->cwnd) {
        b -= cc->cwnd;
        cc->cwnd = cap_cwnd((uint64_t)cc->cwnd + cc->mss);
    }
    /* Bounded: never more than one window's worth carried over. */
    cc->bytes_acked = (uint32_t)(b < cc->cwnd ? b : cc->cwnd);
}

/* ---- NewReno ----------------------------------------------------------- */

static void reno_init(struct tern_cc *cc, uint64_t now_us)
{
    (void)cc;
    (void)now_us;
}

static void reno_on_ack(struct tern_cc *cc, uint32_t acked, uint64_t srtt_us, uint64_t now_us,
                        bool in_recovery)
{
    (void)srtt_us;
    (void)now_us;
    /* During fast recovery cwnd follows RFC 6582 s3.2 (the helper below). */
    if (!in_recovery)
        cc_reno_grow(cc, acked);
}

static void reno_on_loss(struct tern_cc *cc, uint32_t flight, uint64_t now_us)
{
    (void)now_us;
    /* RFC 5681 s3.2 step 2 (RFC 6582 s3.2 step 3): ssthresh per (4); the
     * helper then sets cwnd = ssthresh + 3*SMSS. */
    cc->ssthresh = cc_reno_ssthresh(cc, flight);
    cc->cwnd = cc->ssthresh;
    cc->bytes_acked = 0;
    cc->ss_after_rto = false;
}

static void reno_on_rto(struct tern_cc *cc, uint32_t flight, bool repeated, uint64_t now_us)
{
    (void)now_us;
    /* RFC 5681 s3.1: on a timeout ssthresh per (4), except that it is held
     * when the segment was already retransmitted by the timer; "cwnd MUST
     * be set to no more than the loss window, LW, which equals 1 full-sized
     * segment". */
    if (!repeated)
        cc->ssthresh = cc_reno_ssthresh(cc, flight);
    cc->cwnd = cc->mss;
    cc->bytes_acked = 0;
    cc->ss_after_rto = true;
}

const struct tern_cc_ops cc_newreno = {
    .name = "newreno",
    .init = reno_init,
    .on_ack = reno_on_ack,
    .on_loss = reno_on_loss,
    .on_rto = reno_on_rto,
};

/* ---- RFC 6582 fast retransmit and fast recovery ------------------------ */

void rec_init(struct tern_recovery *rec, uint32_t iss)
{
    /* s3.2 step 1: "the TCP sender SHOULD set recover to the initial send
     * sequence number". */
    *rec = (struct tern_recovery){.recover = iss};
}

unsigned rec_on_dupack(struct tern_recovery *rec, struct tern_cc *cc, uint32_t ack,
                            uint32_t snd_nxt, uint32_t flight, uint64_t now_us)
{
    uint32_t mss = cc->mss;
    if (rec->in_recovery) {
        /* RFC 5681 s3.2 step 4 (RFC 6582 s3.2 step 4): each further
         * duplicate ACK inflates cwnd by SMSS, a segment having left the
         * network. DEVIATION (bounded state, ATTACKS G3): the inflation is
         * capped at the bytes outstanding, since an honest receiver cannot
         * send more duplicate ACKs than there are segments in flight; a
         * spoofed flood of them cannot open cwnd further. */
        if ((uint64_t)rec->inflated + mss <= flight) {
            cc->cwnd = cap_cwnd((uint64_t)cc->cwnd + mss);
            rec->inflated += mss;
        }
        return TERN_REC_NONE;
    }
    if (rec->dupacks < UINT32_MAX)
        rec->dupacks++;
    if (rec->dupacks < TERN_REC_DUPTHRESH)
        return TERN_REC_LIMITED_TX; /* RFC 5681 s3.2 step 1, RFC 3042 */
    if (rec->dupacks > TERN_REC_DUPTHRESH)
        return TERN_REC_NONE;
    /* RFC 6582 s3.2 step 2: on the third duplicate ACK, enter only "If the
     * Cumulative Acknowledgment field covers more than recover"; otherwise
     * (data sent before an earlier recovery or RTO) "do not enter the fast
     * retransmit and fast recovery procedure" and leave ssthresh alone.
     * recover is kept exclusive (SND.NXT, not SND.NXT - 1), as FreeBSD and
     * Linux do. */
    if (!tern_seq_gt(ack, rec->recover))
        return TERN_REC_NONE;
    /* Step 3: recover <- highest sequence number transmitted; ssthresh per
     * the algorithm (RFC 5681 s3.2 step 2 for NewReno, RFC 9438 s4.6 for
     * CUBIC); retransmit; cwnd = ssthresh + 3*SMSS. */
    rec->recover = snd_nxt;
    rec->in_recovery = true;
    rec->partial_seen = false;
    cc->ops->on_loss(cc, flight, now_us);
    cc->cwnd = cap_cwnd((uint64_t)cc->ssthresh + 3 * (uint64_t)mss);
    rec->inflated = 3 * mss;
    return TERN_REC_RETRANSMIT | TERN_REC_ENTERED;
}

unsigned rec_on_ack(struct tern_recovery *rec, struct tern_cc *cc, uint32_t ack,
                         uint32_t acked, uint32_t flight, uint64_t srtt_us, uint64_t now_us)
{
    uint32_t mss = cc->mss;
    rec->dupacks = 0;
    if (!rec->in_recovery) {
        cc->ops->on_ack(cc, acked, srtt_us, now_us, false);
        return TERN_REC_NONE;
    }
    cc->ops->on_ack(cc, acked, srtt_us, now_us, true);
    if (tern_seq_geq(ack, rec->recover)) {
        /* s3.2 step 5, full acknowledgment: option (1), "Set cwnd to min
         * (ssthresh, max(FlightSize, SMSS) + SMSS)", which avoids a burst
         * when little is outstanding; exit fast recovery. */
        cc->cwnd = min32(cc->ssthresh, cap_cwnd((uint64_t)max32(flight, mss) + mss));
        rec->in_recovery = false;
        rec->inflated = 0;
        return TERN_REC_EXITED;
    }
    /* s3.2 step 5, partial acknowledgment: retransmit the first
     * unacknowledged segment; "Deflate the congestion window by the amount
     * of new data acknowledged by the Cumulative Acknowledgment field. If
     * the partial ACK acknowledges at least one SMSS of new data, then add
     * back SMSS bytes"; do not exit; "For the first partial ACK that
     * arrives during fast recovery, also reset the retransmit timer". The
     * floor of one SMSS keeps the retransmission itself sendable. */
    uint32_t c = cc->cwnd > acked ? cc->cwnd - acked : 0;
    if (acked >= mss)
        c = cap_cwnd((uint64_t)c + mss);
    cc->cwnd = max32(c, mss);
    rec->inflated = 0;
    unsigned act = TERN_REC_RETRANSMIT;
    if (!rec->partial_seen)
        act |= TERN_REC_RESET_TIMER;
    rec->partial_seen = true;
    return act;
}

void rec_on_rto(struct tern_recovery *rec, struct tern_cc *cc, uint32_t snd_nxt,
                     uint32_t flight, bool repeated, uint64_t now_us)
{
    /* RFC 6582 s3.2 step 6: "After a retransmit timeout, record the highest
     * sequence number transmitted in the variable recover, and exit the
     * fast recovery procedure if applicable." */
    rec->recover = snd_nxt;
    rec->in_recovery = false;
    rec->partial_seen = false;
    rec->dupacks = 0;
    rec->inflated = 0;
    cc->ops->on_rto(cc, flight, repeated, now_us);
}
