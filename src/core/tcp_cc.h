/*
 * src/core/tcp_cc.h - TCP congestion control as a small interface, with
 * NewReno and CUBIC, and the RFC 6582 fast recovery bookkeeping the sender
 * calls (internal to the core).
 *
 * What it is: struct tern_cc holds the window every algorithm shares (cwnd
 * and ssthresh in bytes, SMSS) plus per-algorithm state; struct tern_cc_ops
 * is the algorithm: NewReno (RFC 5681 slow start and congestion avoidance
 * with RFC 3465 byte counting) or CUBIC (RFC 9438, the default). The
 * recovery helper (struct tern_recovery) counts duplicate ACKs and runs the
 * RFC 5681 s3.2 / RFC 6582 fast retransmit and fast recovery steps for
 * either algorithm: recover point, window inflation, partial ACK deflation.
 * What it is not: it sends nothing and keeps no timer; the connection
 * decides what a duplicate ACK is (RFC 5681 s2), sends what the returned
 * action flags ask for, and runs the retransmission timer (tcp_rtt.h).
 * SACK-based recovery (RFC 6675) and HyStart++ are not here yet.
 * Sans-IO: times are microsecond numbers passed in; no allocation; integer
 * arithmetic only, so runs replay exactly. Not thread-safe on its own.
 * RFCs: 5681, 3465, 6582, 6928, 9438.
 */
#ifndef TERN_CORE_TCP_CC_H
#define TERN_CORE_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

/* cwnd never exceeds the largest window a peer can offer (65535 << 14),
 * so it stays bounded however many ACKs arrive. */
#define TERN_CC_CWND_MAX (1u << 30)
/* RFC 5681 s3.1: "The initial value of ssthresh SHOULD be set arbitrarily
 * high". */
#define TERN_CC_SSTHRESH_INF UINT32_MAX

struct tern_cc;

struct tern_cc_ops {
    const char *name;
    /* Algorithm state only; cc_init has set mss, cwnd and ssthresh. */
    void (*init)(struct tern_cc *cc, uint64_t now_us);
    /* An ACK advanced SND.UNA by acked bytes. srtt_us is the smoothed RTT
     * (0 if unknown). In fast recovery the window belongs to the recovery
     * helper and the algorithm does not grow it. */
    void (*on_ack)(struct tern_cc *cc, uint32_t acked, uint64_t srtt_us, uint64_t now_us,
                   bool in_recovery);
    /* A congestion event detected by duplicate ACKs (fast retransmit):
     * set ssthresh and cwnd (before any fast recovery inflation). flight is
     * FlightSize, the bytes outstanding (RFC 5681 s2). */
    void (*on_loss)(struct tern_cc *cc, uint32_t flight, uint64_t now_us);
    /* The retransmission timer expired; repeated is true when the segment
     * had already been retransmitted by the timer (ssthresh is then held,
     * RFC 5681 s3.1). */
    void (*on_rto)(struct tern_cc *cc, uint32_t flight, bool repeated, uint64_t now_us);
    /* Optional: sending restarts after an idle period longer than the RTO
     * (cc_restart_after_idle has already applied the restart window). */
    void (*on_idle_restart)(struct tern_cc *cc, uint64_t now_us);
};

/* CUBIC state (RFC 9438 s4.1 names). Windows in bytes; K in 1/1024 s. */
struct tern_cubic {
    uint32_t w_max;        /* W_max */
    uint32_t cwnd_prior;   /* cwnd when ssthresh was last set */
    uint32_t cwnd_epoch;   /* cwnd_epoch */
    /* K, in 1/1024 s: tcp_cubic.c's icbrt of a value below 2^62 (diff <
     * 2^30, * 5 * 2^29 / mss), which never exceeds 2^21: 32 bits hold it. */
    uint32_t k_u;
    uint64_t t_epoch_us;   /* t_epoch */
    uint64_t w_est_fp;     /* W_est in bytes, 16 fraction bits (up to 2^46) */
    uint32_t grow_frac;    /* fraction (1/65536 byte) of cwnd growth carried over */
    /* One-bit flags: the struct is 40 bytes, not 48 (every TCB holds one). */
    bool epoch_valid : 1;      /* a congestion avoidance stage has started */
    bool have_w_max : 1;       /* W_max holds the window of a congestion event */
    bool after_rto : 1;        /* next stage is the first after a timeout (s4.8) */
    bool alpha_one : 1;        /* alpha_cubic raised to 1 (s4.3) */
    bool fast_convergence : 1; /* s4.7, on by default */
};

struct tern_cc {
    const struct tern_cc_ops *ops;
    uint32_t mss;         /* SMSS, bytes */
    uint32_t cwnd;        /* bytes */
    uint32_t ssthresh;    /* bytes */
    uint32_t bytes_acked; /* RFC 3465 s2.1 counter for congestion avoidance */
    bool ss_after_rto;    /* slow start after an RTO: L = 1*SMSS (RFC 3465 s2.3) */
    struct tern_cubic cubic;
};

extern const struct tern_cc_ops cc_newreno;
extern const struct tern_cc_ops cc_cubic;
/* CUBIC (issue 5: the default). */
const struct tern_cc_ops *cc_default(void);
/* "newreno", "reno" or "cubic"; NULL for an unknown name. */
const struct tern_cc_ops *cc_by_name(const char *name);

/* RFC 6928 s2: IW = min(10*MSS, max(2*MSS, 14600)); one segment when the
 * SYN or SYN-ACK had to be retransmitted (RFC 6928 s2, RFC 5681 s3.1). */
uint32_t cc_initial_window(uint32_t mss, bool syn_retransmitted);

/* ops NULL selects the default. mss is clamped to [1, 65535]; iw to
 * [mss, TERN_CC_CWND_MAX]. */
void cc_init(struct tern_cc *cc, const struct tern_cc_ops *ops, uint32_t mss, uint32_t iw,
                  uint64_t now_us);
/* RFC 5681 s4.1: no data sent for longer than the RTO: before sending
 * again, cwnd <- at most RW = min(IW, cwnd) (iw: the connection's IW); the
 * algorithm forgets its growth epoch (CUBIC, RFC 9438 s5.8). ssthresh is
 * kept. */
void cc_restart_after_idle(struct tern_cc *cc, uint32_t iw, uint64_t now_us);
/* The path MSS changed (PMTU, RFC 5927 "fragmentation needed"). */
void cc_set_mss(struct tern_cc *cc, uint32_t mss);

static inline uint32_t cc_cwnd(const struct tern_cc *cc) { return cc->cwnd; }
static inline uint32_t cc_ssthresh(const struct tern_cc *cc) { return cc->ssthresh; }
static inline const char *cc_name(const struct tern_cc *cc) { return cc->ops->name; }

/* Shared by both algorithms: RFC 5681 s3.1 slow start (cwnd < ssthresh)
 * with RFC 3465 byte counting, else congestion avoidance with byte
 * counting (one SMSS per cwnd of acknowledged bytes). */
void cc_reno_grow(struct tern_cc *cc, uint32_t acked);
/* RFC 5681 s3.1 equation (4): max(FlightSize / 2, 2*SMSS). */
uint32_t cc_reno_ssthresh(const struct tern_cc *cc, uint32_t flight);

/* CUBIC read-outs (tests and statistics): W_cubic(t) in bytes for t
 * microseconds after t_epoch (RFC 9438 Figure 1), and K in microseconds. */
uint64_t cubic_w(const struct tern_cc *cc, uint64_t t_us);
uint64_t cubic_k_us(const struct tern_cc *cc);

/* ---- RFC 6582 fast retransmit / fast recovery ------------------------ */

struct tern_recovery {
    uint32_t recover;   /* exclusive: SND.NXT when recovery or an RTO began */
    uint32_t dupacks;   /* consecutive duplicate ACKs */
    uint32_t inflated;  /* bytes added to cwnd by duplicate ACKs (bounded) */
    bool in_recovery;
    bool partial_seen;  /* a partial ACK arrived in this recovery */
};

/* Action flags returned to the sender. */
enum {
    TERN_REC_NONE = 0,
    TERN_REC_LIMITED_TX = 1 << 0, /* 1st/2nd dup ACK: RFC 3042 may send one new segment */
    TERN_REC_RETRANSMIT = 1 << 1, /* retransmit the first unacknowledged segment */
    TERN_REC_RESET_TIMER = 1 << 2, /* restart the retransmission timer */
    TERN_REC_ENTERED = 1 << 3,    /* fast recovery began */
    TERN_REC_EXITED = 1 << 4,     /* a full ACK ended fast recovery */
};

#define TERN_REC_DUPTHRESH 3 /* RFC 5681 s2 */

/* RFC 6582 s3.2 step 1: recover <- the initial send sequence number. */
void rec_init(struct tern_recovery *rec, uint32_t iss);
/* A duplicate ACK (as RFC 5681 s2 defines it) for cumulative ack `ack`;
 * snd_nxt is the highest sequence sent + 1, flight the bytes outstanding. */
unsigned rec_on_dupack(struct tern_recovery *rec, struct tern_cc *cc, uint32_t ack,
                            uint32_t snd_nxt, uint32_t flight, uint64_t now_us);
/* An ACK that advanced SND.UNA to ack by acked bytes; flight is what is
 * still outstanding after it. Outside recovery it passes the ACK to the
 * algorithm (window growth). */
unsigned rec_on_ack(struct tern_recovery *rec, struct tern_cc *cc, uint32_t ack,
                         uint32_t acked, uint32_t flight, uint64_t srtt_us, uint64_t now_us);
/* The retransmission timer expired: RFC 6582 s3.2 step 6 (recover <-
 * snd_nxt, leave fast recovery) and the algorithm's on_rto. */
void rec_on_rto(struct tern_recovery *rec, struct tern_cc *cc, uint32_t snd_nxt,
                     uint32_t flight, bool repeated, uint64_t now_us);

#endif
