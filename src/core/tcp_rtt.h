/*
 * src/core/tcp_rtt.h - TCP round-trip time estimation and the retransmission
 * timeout value (internal to the core).
 *
 * What it is: the RFC 6298 estimator (SRTT, RTTVAR, RTO with alpha 1/8,
 * beta 1/4, K = 4, clock granularity G, an initial, minimum and maximum RTO
 * and exponential backoff), Karn's algorithm for senders without
 * timestamps (one segment timed at a time, timing cancelled by any
 * retransmission), and RFC 7323 s4 timestamp-based samples (RTTM) with the
 * optional RFC 7323 Appendix G per-window weighting.
 * What it is not: the timer itself (the connection arms one with the value
 * rtt_rto() returns), and no clock: every time is a microsecond number
 * passed in. Pure, no allocation; one struct per connection, not
 * thread-safe on its own (the stack's thread owns it).
 * RFCs: 6298 (RTO), 7323 s4 and Appendix G (RTTM), 9293 s3.8.1.
 */
#ifndef TERN_CORE_TCP_RTT_H
#define TERN_CORE_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

/* All times in microseconds. */
#define TERN_RTT_RFC_INITIAL_US 1000000u /* RFC 6298 s2.1: RTO = 1 s before a sample */
#define TERN_RTT_RFC_MIN_US 1000000u     /* RFC 6298 s2.4: round up to 1 s */
#define TERN_RTT_LINUX_MIN_US 200000u    /* Linux's TCP_RTO_MIN, for a faster profile */
#define TERN_RTT_RFC_MAX_US 60000000u    /* RFC 6298 s2.5: a maximum, at least 60 s */
#define TERN_RTT_SYN_RTO_US 3000000u     /* RFC 6298 s5.7: 3 s after a lost SYN */

struct tern_rtt_cfg {
    uint64_t initial_us;     /* RTO before the first sample (RFC: 1 s) */
    uint64_t min_us;         /* floor of the computed RTO (RFC: 1 s; Linux 200 ms) */
    uint64_t max_us;         /* ceiling of the RTO and of backoff (>= 60 s per RFC) */
    uint64_t granularity_us; /* G, the clock granularity of the timer (>= 1) */
    bool per_window;         /* RFC 7323 Appendix G weighting of timestamp samples */
};

/* The RFC 6298 profile: initial 1 s, min 1 s, max 60 s, G = 1 ms, no App. G. */
void rtt_cfg_default(struct tern_rtt_cfg *cfg);

struct tern_rtt {
    /* The settings, shared: a TCB points at its stack's (tcp_stack.rtt_cfg)
     * rather than carrying a 40-byte copy (issue 12's compact TCB). */
    const struct tern_rtt_cfg *cfg;
    /* Estimator state in units of 1/256 us (so 7/8 and 3/4 lose almost
     * nothing to truncation); valid once has_sample. */
    uint64_t srtt_fp, rttvar_fp;
    uint64_t rto_us;   /* RTO from the estimator (or initial), before backoff */
    uint32_t backoff;  /* number of doublings since the last valid sample */
    uint32_t timed_end;  /* Karn: sequence number the ACK must reach (seg end) */
    bool has_sample;
    /* Karn timing (no timestamps): one segment timed at a time. */
    bool timing;
    uint64_t timed_at;   /* when that segment was first sent */
};

/* Normalises *cfg in place (max within [1 us, 2^40 us], min >= 1 us,
 * G >= 1 us, max >= min, initial within [min, max]: idempotent) and
 * starts r with RTO = initial. r keeps a pointer to cfg, which must
 * outlive it and not change while it is in use (a stack's TCBs share
 * tcp_stack.rtt_cfg). */
void rtt_init(struct tern_rtt *r, struct tern_rtt_cfg *cfg);

/* One RTT measurement R in microseconds (RFC 6298 s2.2/2.3). Resets the
 * backoff (s5, "collapsing" RTO after a valid sample). Samples above the
 * configured maximum RTO are clamped to it. */
void rtt_sample(struct tern_rtt *r, uint64_t rtt_us);

/* The current RTO in microseconds: the estimator's RTO doubled per backoff
 * step, capped at cfg.max_us (RFC 6298 s5.5). */
uint64_t rtt_rto(const struct tern_rtt *r);

/* The retransmission timer expired (RFC 6298 s5.5): double the RTO (capped).
 * Cancels any Karn timing in progress. */
void rtt_backoff(struct tern_rtt *r);
/* Forgets the backoff without a sample: only for the start of data after
 * the handshake (RFC 6298 s5.7). Never on a mere ACK: s5 keeps the
 * backed-off RTO until a valid sample (which resets it itself). */
void rtt_reset_backoff(struct tern_rtt *r);

/* RFC 6298 s5.7: the SYN (or SYN-ACK) was retransmitted and the handshake
 * completed without an RTT sample: raise the RTO to 3 s if it is lower. */
void rtt_syn_retransmitted(struct tern_rtt *r);

/* Karn's algorithm (RFC 6298 s3) for a sender without timestamps. Call
 * on_send for each segment sent, with seq_end = SEG.SEQ + SEG.LEN; a new
 * segment starts timing if none is timed, a retransmission cancels it.
 * Call on_ack for each ACK that advances SND.UNA; it takes a sample when
 * the ACK covers the timed segment and returns true if it did. */
void rtt_on_send(struct tern_rtt *r, uint32_t seq_end, bool retransmission, uint64_t now_us);
bool rtt_on_ack(struct tern_rtt *r, uint32_t ack, uint64_t now_us);

/* RFC 7323 s4 (RTTM): a sample from the echoed timestamp of an ACK that
 * advances SND.UNA (the caller checks that rule, s4.2). ts_now and tsecr
 * are in timestamp clock ticks of us_per_tick microseconds. Timestamps
 * identify which transmission is acknowledged, so retransmitted segments
 * may be sampled (RFC 6298 s3). flight and smss feed Appendix G when
 * cfg.per_window is set. A TSecr ahead of our clock (forged or stale by
 * more than 2^31 ticks) gives no sample; returns true if one was taken. */
bool rtt_sample_ts(struct tern_rtt *r, uint32_t ts_now, uint32_t tsecr, uint32_t us_per_tick,
                        uint32_t flight, uint32_t smss);

/* Read-outs for statistics (microseconds, rounded to nearest; 0 before a
 * sample). */
uint64_t rtt_srtt_us(const struct tern_rtt *r);
uint64_t rtt_rttvar_us(const struct tern_rtt *r);

#endif
