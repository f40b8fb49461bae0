/*
 * tcp_cubic.c - CUBIC congestion control, RFC 9438, behind struct
 * tern_cc_ops (see tcp_cc.h). C = 0.4, beta_cubic = 0.7, fast convergence,
 * the Reno-friendly region, the timeout rule. Slow start and fast recovery
 * are the shared RFC 5681 / RFC 6582 ones (s4.10, s4.2: CUBIC "does not make
 * any changes to the TCP Fast Recovery and Fast Retransmit algorithms").
 * Not: HyStart++ (DEVIATION: s4.10 says SHOULD; plain slow start with byte
 * counting is used until it lands), spurious-loss undo (s4.9, MAY), the
 * application-limited rule of s5.8 (the sender must stop calling on_ack
 * growth while it is not cwnd-limited; not enforced here) - except that
 * an idle period longer than the RTO ends the epoch (on_idle_restart).
 *
 * Arithmetic is integer only, so runs replay exactly on every machine: time
 * in units of 1/1024 s (as Linux does), windows in bytes, with
 * C * MSS * t^3 computed as (t^3 >> 20) * (2 * MSS / 5) >> 10, and K by an
 * integer cube root rounded to nearest. Rounding errors are below a byte
 * for W_cubic and below 1/1024 s for K.
 */
#include "core/tcp_cc.h"

#define CUBIC_OFF_MAX ((UINT64_C(1) << 21) - 1) /* |t - K| <= ~2048 s: off^3 < 2^63 */
#define ELAPSED_MAX_US (UINT64_C(1) << 40)
#define FP 16

static uint32_t cap_cwnd(uint64_t v)
{
    return v > TERN_CC_CWND_MAX ? TERN_CC_CWND_MAX : (uint32_t)v;
}

/* Microseconds to 1/1024 s (rounded down). */
static uint64_t us_to_u(uint64_t us)
{
    if (us > ELAPSED_MAX_US)
        us = ELAPSED_MAX_US;
    return us * 1024 / 1000000;
}

/* Nearest integer cube root of x (x < 2^63). */
static uint64_t icbrt(uint64_t x)
{
    uint64_t lo = 0, hi = UINT64_C(1) << 21; /* hi^3 = 2^63 > x */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (mid * mid * mid <= x)
            lo = mid;
        else
            hi = mid;
    }
    /* lo^3 <= x < (lo+1)^3; round to the nearer cube. */
    uint64_t a = x - lo * lo * lo, b = hi * hi * hi - x;
    return b < a ? hi : lo;
}

/* C * MSS * (off / 1024)^3 in bytes, C = 0.4 = 2/5. */
static uint64_t cubic_delta(uint32_t mss, uint64_t off_u)
{
    if (off_u > CUBIC_OFF_MAX)
        off_u = CUBIC_OFF_MAX;
    uint64_t cube = off_u * off_u * off_u; /* (s * 2^10)^3 = s^3 * 2^30 */
    return ((cube >> 20) * (2 * (uint64_t)mss) / 5) >> 10;
}

/* RFC 9438 s4.2, Figure 1: W_cubic(t) = C * (t - K)^3 + W_max (bytes). */
static uint64_t w_cubic(const struct tern_cc *cc, uint64_t t_u)
{
    const struct tern_cubic *cu = &cc->cubic;
    if (t_u >= cu->k_u)
        return (uint64_t)cu->w_max + cubic_delta(cc->mss, t_u - cu->k_u);
    uint64_t d = cubic_delta(cc->mss, cu->k_u - t_u);
    return d >= cu->w_max ? 0 : cu->w_max - d;
}

uint64_t cubic_w(const struct tern_cc *cc, uint64_t t_us)
{
    return w_cubic(cc, us_to_u(t_us));
}

uint64_t cubic_k_us(const struct tern_cc *cc)
{
    return (uint64_t)cc->cubic.k_u * 1000000 / 1024;
}

static void cubic_init(struct tern_cc *cc, uint64_t now_us)
{
    (void)now_us;
    cc->cubic = (struct tern_cubic){.fast_convergence = true};
}

/* The start of a congestion avoidance stage (s4.2, s4.3, s4.8). */
static void start_epoch(struct tern_cc *cc, uint64_t now_us)
{
    struct tern_cubic *cu = &cc->cubic;
    cu->epoch_valid = true;
    cu->t_epoch_us = now_us;
    cu->cwnd_epoch = cc->cwnd;
    /* s4.3: "W_est is set equal to cwnd_epoch at the start of the
     * congestion avoidance stage." */
    cu->w_est_fp = (uint64_t)cc->cwnd << FP;
    cu->grow_frac = 0;
    if (cu->after_rto || !cu->have_w_max || cu->w_max <= cc->cwnd) {
        /* s4.8: the first stage after a timeout uses "K is set to 0, and
         * W_max is set to the congestion window size at the beginning of
         * the current congestion avoidance stage"; s4.10 does the same when
         * slow start ended without a loss. A cwnd already at or above W_max
         * (Figure 2 would need a negative K) is handled the same way, as
         * Linux does: the curve starts at its plateau. */
        cu->w_max = cc->cwnd;
        cu->k_u = 0;
        cu->after_rto = false;
        cu->have_w_max = true;
        return;
    }
    /* s4.2, Figure 2: K = cubic_root((W_max - cwnd_epoch) / C), here with
     * windows in bytes: K^3 = diff / (C * MSS) s^3 = diff * 5 * 2^29 / MSS
     * in (1/1024 s)^3. diff < 2^30, so the product stays below 2^62. */
    uint64_t diff = cu->w_max - cc->cwnd;
    cu->k_u = (uint32_t)icbrt(diff * 5 * (UINT64_C(1) << 29) / cc->mss); /* <= 2^21 */
}

static void cubic_on_ack(struct tern_cc *cc, uint32_t acked, uint64_t srtt_us, uint64_t now_us,
                         bool in_recovery)
{
    struct tern_cubic *cu = &cc->cubic;
    /* s4.2: the window grows only on a new ACK, and not during fast
     * recovery (RFC 6582 owns cwnd there). */
    if (in_recovery || acked == 0)
        return;
    if (cc->cwnd < cc->ssthresh) {
        cc_reno_grow(cc, acked); /* s4.10: RFC 5681 slow start */
        return;
    }
    cc->ss_after_rto = false;
    if (!cu->epoch_valid)
        start_epoch(cc, now_us);
    uint64_t cwnd = cc->cwnd;
    uint64_t a = acked < cwnd ? acked : cwnd; /* one ACK counts for at most a window */
    uint64_t t_u = us_to_u(now_us > cu->t_epoch_us ? now_us - cu->t_epoch_us : 0);

    /* s4.3, Figure 4: W_est += alpha_cubic * segments_acked / cwnd, in
     * bytes: alpha * acked * MSS / cwnd, with alpha_cubic = 3 * (1 - 0.7)
     * / (1 + 0.7) = 9/17 until W_est reaches cwnd_prior, then 1. */
    uint64_t p = a * cc->mss;
    uint64_t inc = ((p / cwnd) << FP) + (((p % cwnd) << FP) / cwnd);
    if (!cu->alpha_one)
        inc = inc * 9 / 17;
    cu->w_est_fp += inc;
    if (cu->w_est_fp > ((uint64_t)TERN_CC_CWND_MAX << FP))
        cu->w_est_fp = (uint64_t)TERN_CC_CWND_MAX << FP;
    uint64_t w_est = cu->w_est_fp >> FP;
    if (w_est >= cu->cwnd_prior)
        cu->alpha_one = true;

    if (w_cubic(cc, t_u) < w_est) {
        /* s4.3: the Reno-friendly region, "cwnd SHOULD be set to W_est".
         * DEVIATION: never below the current cwnd (cwnd follows the target
         * one RTT ahead, so it may already exceed W_est); a congestion
         * event is the only thing that lowers cwnd. */
        if (w_est > cwnd)
            cc->cwnd = cap_cwnd(w_est);
        return;
    }
    /* s4.2: target = W_cubic(t + RTT), bounded to [cwnd, 1.5 * cwnd]. */
    uint64_t target = w_cubic(cc, t_u + us_to_u(srtt_us));
    if (target < cwnd)
        target = cwnd;
    if (target > cwnd + cwnd / 2)
        target = cwnd + cwnd / 2;
    /* s4.4 (concave) and s4.5 (convex): cwnd += (target - cwnd) / cwnd per
     * new ACK (segments). Scaled by the bytes acknowledged, so one window
     * of ACKs adds target - cwnd whether or not the receiver delays its
     * ACKs (byte counting as in RFC 3465; Linux does the same). The
     * fraction of a byte is carried to the next ACK. */
    uint64_t g = (target - cwnd) * a; /* < 2^29 * 2^30 */
    uint64_t whole = g / cwnd;
    uint64_t frac = cu->grow_frac + (((g % cwnd) << FP) / cwnd);
    whole += frac >> FP;
    cu->grow_frac = (uint32_t)(frac & ((1u << FP) - 1));
    cc->cwnd = cap_cwnd(cwnd + whole);
}

/* s4.6 Figure 5 and s4.7: the response to a congestion event. */
static void reduce(struct tern_cc *cc, uint32_t flight)
{
    struct tern_cubic *cu = &cc->cubic;
    /* s4.7: "if cwnd < W_max and fast convergence enabled", W_max = cwnd *
     * (1 + beta_cubic) / 2 = cwnd * 17 / 20; otherwise W_max = cwnd. */
    if (cu->fast_convergence && cu->have_w_max && cc->cwnd < cu->w_max)
        cu->w_max = (uint32_t)((uint64_t)cc->cwnd * 17 / 20);
    else
        cu->w_max = cc->cwnd;
    cu->have_w_max = true;
    /* Figure 5: cwnd_prior = cwnd; ssthresh = flight_size * beta_cubic,
     * at least 2 MSS. */
    cu->cwnd_prior = cc->cwnd;
    uint64_t ss = (uint64_t)flight * 7 / 10, two = 2 * (uint64_t)cc->mss;
    cc->ssthresh = cap_cwnd(ss > two ? ss : two);
    cu->epoch_valid = false;
    cu->alpha_one = false;
    cc->bytes_acked = 0;
}

static void cubic_on_loss(struct tern_cc *cc, uint32_t flight, uint64_t now_us)
{
    (void)now_us;
    reduce(cc, flight);
    /* Figure 5: "cwnd = max(ssthresh, 2)" on loss. */
    cc->cwnd = cc->ssthresh;
    cc->ss_after_rto = false;
}

static void cubic_on_rto(struct tern_cc *cc, uint32_t flight, bool repeated, uint64_t now_us)
{
    (void)now_us;
    /* s4.8: "CUBIC follows Reno to reduce cwnd [RFC5681], but sets ssthresh
     * using beta_cubic (same as in Section 4.6)". A repeated timeout of the
     * same segment holds ssthresh (RFC 5681 s3.1). */
    if (!repeated)
        reduce(cc, flight);
    cc->cubic.epoch_valid = false;
    cc->cubic.after_rto = true;
    cc->cwnd = cc->mss; /* RFC 5681 s3.1: the loss window, 1 SMSS */
    cc->bytes_acked = 0;
    cc->ss_after_rto = true;
}

static void cubic_on_idle_restart(struct tern_cc *cc, uint64_t now_us)
{
    (void)now_us;
    /* s5.8: "t in Figure 1 [must] not include periods during which cwnd
     * has not been updated due to application-limited behavior, such as a
     * lack of new data sent": the idle time would count in t and make
     * W_cubic jump. The epoch ends; the next congestion avoidance ACK
     * starts a new one from the restarted cwnd toward the W_max kept
     * (s4.2 Figure 2), with W_est from that cwnd (s4.3). */
    cc->cubic.epoch_valid = false;
    cc->cubic.grow_frac = 0;
}

const struct tern_cc_ops cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_loss = cubic_on_loss,
    .on_rto = cubic_on_rto,
    .on_idle_restart = cubic_on_idle_restart,
};
