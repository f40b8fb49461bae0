/*
 * src/core/tcp_rack.h - RACK-TLP loss detection (RFC 8985) for the TCP
 * sender, sans-IO: time is a uint64_t in microseconds given by the caller.
 *
 * What it is: the per-segment transmission table RFC 8985 s6.1 needs
 * (Segment.xmit_ts, .retransmitted, .lost, plus a SACKed mark) over
 * [SND.UNA, SND.MAX), the RACK state (RACK.xmit_ts/end_seq/rtt/min_RTT/
 * fack/reordering_seen), the reordering window with D-SACK adaptation
 * (s6.2 step 4), loss detection with the reordering timer deadline (s6.2
 * step 5), and the TLP arithmetic and episode state (s7: PTO, probe
 * bookkeeping, s7.4 detection of a loss the probe repaired).
 * What it is not: the SACK scoreboard (tcp_sack.[ch], whose ranges are fed
 * in), congestion control (the caller reacts, RFC 8985 s9), sending, timers.
 *
 * Storage (ATTACKS G3): `cap` entries of 16 bytes, given by the caller (the
 * TCB holds them) or allocated once by init; never per segment. An entry is
 * a run of bytes [start, end) with one transmit time and one set of marks;
 * its start is the previous entry's end (the first starts at SND.UNA), so
 * the table always covers [SND.UNA, SND.MAX) exactly. New data sent at the
 * same instant, with nothing (re)sent in between, shares an entry. When the table is full two
 * adjacent entries are merged: the pair with equal marks nearest the tail,
 * else the last two with the marks ANDed (SACKED/LOST) and the later
 * transmit time kept. DEVIATION (bounded memory): a merged entry looks
 * newer than its older bytes were, so RACK may detect their loss later -
 * never earlier; RFC 6675's IsLost and the RTO still cover them.
 * Every call is O(cap) at most.
 */
#ifndef TERN_CORE_TCP_RACK_H
#define TERN_CORE_TCP_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tcp_sack.h"

#define TERN_RACK_MAX_SEGS 4096
#define TERN_RACK_REO_PERSIST 16           /* RFC 8985 s6.2 step 4: 16 recoveries */
#define TERN_RACK_TLP_MAX_ACK_DELAY 200000u /* RFC 8985 s7.2: WCDelAckT = 200 ms */
#define TERN_RACK_PTO_NO_SRTT 1000000u      /* s7.2: PTO = 1 s without SRTT */

enum {
    TERN_RACK_SACKED = 1,  /* selectively acknowledged */
    TERN_RACK_LOST = 2,    /* marked lost, not retransmitted since */
    TERN_RACK_RETRANS = 4, /* retransmitted at least once (Segment.retransmitted) */
    TERN_RACK_WAS_SACKED = 8, /* SACKed once: kept when an RTO clears SACKED */
    TERN_RACK_MARKS = 0xff,   /* the mark bits; those above hold the transmission order */
};
/* Transmission order (tcp_rack.c order_of): a per-table counter of 24 bits
 * given at each (re)transmission and kept in the bits of flags above
 * TERN_RACK_MARKS (the entry stays 16 bytes); it orders the transmissions
 * made at one instant. */
#define TERN_RACK_ORDER_SHIFT 8
#define TERN_RACK_ORDER_MASK 0xffffffu

struct tern_rack_seg {
    uint64_t xmit_ts; /* Segment.xmit_ts: the latest (re)transmission */
    uint32_t end;     /* exclusive; start = previous entry's end */
    uint32_t flags;   /* TERN_RACK_MARKS, and the transmission order above them */
};

struct tern_rack {
    struct tern_rack_seg *seg;
    uint32_t first, n, cap; /* live entries seg[first .. first+n) */
    bool owned;
    uint32_t una, snd_max; /* the table covers [una, snd_max) */
    /* The sender's segment size (0: unknown). When set, a segment joins
     * the entry before it (sent at the same instant) only if every segment
     * already there is full, so an entry's segment boundaries are start +
     * k * smss and its end (whole_segments in tcp_rack.c relies on it). */
    uint32_t smss;
    /* RFC 8985 s6.1 */
    bool have_xmit;        /* RACK.xmit_ts / end_seq defined */
    uint64_t xmit_ts;      /* RACK.xmit_ts */
    uint32_t end_seq;      /* RACK.end_seq */
    uint32_t xmit_order;   /* that segment's transmission order (tcp_rack.c order_of) */
    uint32_t tx_order;     /* the last transmission order given */
    uint64_t rtt;          /* RACK.rtt */
    uint64_t min_rtt;      /* RACK.min_RTT (0: none yet) */
    bool fack_valid;
    uint32_t fack;         /* RACK.fack */
    bool reordering_seen;  /* RACK.reordering_seen */
    uint32_t reo_wnd_mult; /* RACK.reo_wnd_mult (starts at 1) */
    uint32_t reo_wnd_persist;
    bool dsack_round_valid;
    uint32_t dsack_round;  /* RACK.dsack_round */
    uint64_t reo_wnd;      /* the last window used (statistics, tests) */
    /* RFC 8985 s7 */
    bool tlp_active;       /* TLP.end_seq is not None */
    bool tlp_is_retrans;   /* TLP.is_retrans */
    uint32_t tlp_end_seq;  /* TLP.end_seq */
    uint64_t merges;       /* statistics (tests) */
    /* The RTT sample of the last tcp_rack_on_ack (RFC 6298 s3, Karn):
     * the shortest now - xmit_ts over the entries it newly delivered that
     * were never retransmitted nor SACKed before (UINT64_MAX: none, also
     * when it delivered any retransmitted data). */
    uint64_t ack_rtt;
    bool ack_rtx_seen;     /* it delivered retransmitted data: no ack_rtt */
};

/* What an ACK carries, for tcp_rack_on_ack. ranges: the SACK scoreboard
 * after this ACK (sorted, disjoint), e.g. tern_tcp_sack's r/n. */
struct tern_rack_ack {
    uint64_t now;
    uint32_t ack;
    const struct tern_tcp_sack_range *ranges;
    uint32_t nranges;
    bool dsack;       /* the ACK carried a D-SACK (RFC 2883) */
    uint32_t snd_nxt; /* SND.NXT (highest sent + 1): RACK.dsack_round */
    uint32_t smss;    /* segment size for partial-SACK rounding (0: none) */
    bool fin_sent;    /* the last sequence number sent (snd_max - 1) is a FIN */
};

/* storage NULL: allocate cap entries. snd_una: the first sequence number of
 * data. Returns 0, TERN_E_INVAL (cap 0 or above TERN_RACK_MAX_SEGS, or below
 * 4) or TERN_E_NOMEM. */
int tcp_rack_init(struct tern_rack *r, struct tern_rack_seg *storage, uint32_t cap,
                   uint32_t snd_una);
void tcp_rack_fini(struct tern_rack *r);

/* [seq, end) was sent at now: below SND.MAX a retransmission (the LOST mark
 * is cleared, RETRANS set, xmit_ts = now), above it new data. */
void tcp_rack_on_send(struct tern_rack *r, uint32_t seq, uint32_t end, uint64_t now);

/* RFC 8985 s6.2 steps 2-4 for one ACK: every segment newly cumulatively
 * acknowledged or SACKed updates RACK.rtt/xmit_ts/end_seq (RACK_update) and
 * RACK.fack/reordering_seen; D-SACK rounds grow reo_wnd_mult. Sets
 * ack_rtt (the connection's RTT sample). Returns the number
 * of entries newly delivered. */
uint32_t tcp_rack_on_ack(struct tern_rack *r, const struct tern_rack_ack *a);

/* Some entry is SACKed (RFC 8985 s7.2 "RACK.segs_sacked" is not zero). */
bool tcp_rack_any_sacked(const struct tern_rack *r);

/* s6.2 step 4 "exiting Fast or RTO recovery": a recovery episode ended. */
void tcp_rack_recovery_done(struct tern_rack *r);

/* RACK_update_reo_wnd()'s result: 0 when no reordering was seen and the
 * sender is in recovery or segs_sacked >= dupthresh, else
 * min(reo_wnd_mult * min_RTT / 4, srtt). */
uint64_t tcp_rack_reo_wnd(const struct tern_rack *r, uint64_t srtt_us, bool in_recovery,
                           uint32_t segs_sacked, uint32_t dupthresh);

/* s6.2 step 5 RACK_detect_loss(): marks LOST every unSACKed segment sent
 * before RACK.xmit_ts (RACK_sent_after) whose xmit_ts + RACK.rtt + reo_wnd
 * has passed. Returns the time left until the next such deadline (0: none:
 * no reordering timer needed); *newly_lost (may be NULL): entries marked. */
uint64_t tcp_rack_detect_loss(struct tern_rack *r, uint64_t now, uint64_t reo_wnd,
                               uint32_t *newly_lost);

/* The lowest LOST range at or above *from (inclusive), up to max_len bytes:
 * true with [*seq, *seq + *len). */
bool tcp_rack_next_lost(const struct tern_rack *r, uint32_t from, uint32_t max_len,
                         uint32_t *seq, uint32_t *len);
/* Any segment marked LOST and not yet retransmitted. */
bool tcp_rack_any_lost(const struct tern_rack *r);

/* RTO (RFC 2018 s8 expunge, go-back-N by the caller): SACKED and LOST marks
 * cleared, the TLP episode ended. */
void tcp_rack_on_rto(struct tern_rack *r);

/* s7.2 TLP_calc_PTO(): 2*SRTT (+ max_ack_delay when FlightSize is one
 * segment), 1 s without an SRTT, then capped so it ends no later than the
 * RTO: rto_left = time until the RTO timer expires (UINT64_MAX: not armed). */
uint64_t tcp_rack_pto(uint64_t srtt_us, bool one_segment, uint64_t max_ack_delay_us,
                       uint64_t rto_left_us);
/* s7.3: a probe was sent; snd_nxt = SND.NXT after it. Starts an episode. */
void tcp_rack_tlp_sent(struct tern_rack *r, uint32_t snd_nxt, bool is_retrans);
/* s7.4 TLP_process_ack(): true when the probe repaired a loss (the caller
 * responds as to a loss, once). dupack_nosack: a duplicate ACK carrying no
 * SACK option. dsack_right: the D-SACK block's right edge (when dsack). */
bool tcp_rack_tlp_on_ack(struct tern_rack *r, uint32_t ack, bool dsack, uint32_t dsack_right,
                          bool dupack_nosack);

/* Read-outs: the entry count and entry i's [start, end). */
static inline uint32_t tcp_rack_count(const struct tern_rack *r) { return r->n; }
static inline const struct tern_rack_seg *tcp_rack_at(const struct tern_rack *r, uint32_t i)
{
    return &r->seg[r->first + i];
}
uint32_t tcp_rack_start(const struct tern_rack *r, uint32_t i);

#endif
