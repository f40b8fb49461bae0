/*
 * src/core/tcp_ooo.h - TCP receive reassembly: the out-of-order queue and
 * the SACK / D-SACK blocks a receiver advertises (internal to the stack).
 *
 * What it is. Every data segment of a connection goes through
 * tcp_ooo_input together with the connection's receive ring (ringbuf.h),
 * RCV.NXT and RCV.WND. The bytes of a segment land in the ring at their final
 * place: offset (SEG.SEQ - RCV.NXT) into the ring's free area, which is the
 * receive window. In-order bytes are committed (made readable) at once; bytes
 * beyond RCV.NXT stay parked in the free area and a small sorted array of
 * non-overlapping sequence ranges says which are present. When a segment
 * fills the hole at RCV.NXT, the contiguous run (that segment plus every
 * range it now touches) is committed in one step and its length returned;
 * the caller adds it to RCV.NXT. No copy of parked data is ever made again.
 *
 * Rules (RFC 9293 s3.10.7.4, RFC 2018, RFC 2883; ATTACKS 32-33):
 *  - bytes below RCV.NXT are duplicates (counted, reported by D-SACK);
 *  - bytes at or beyond RCV.NXT + min(RCV.WND, ring free) are trimmed and
 *    never written (ATTACKS 32); with RCV.WND 0 nothing is accepted;
 *  - overlaps with parked data: the first-received bytes are kept, the
 *    newcomer's copy of those bytes is discarded (no "last wins" rewrite);
 *  - caps (ATTACKS 33): at most max_ranges ranges and max_bytes parked
 *    out-of-order bytes. In-order data (starting at RCV.NXT) is limited only
 *    by the window and is always accepted, so the hole at RCV.NXT can always
 *    be filled and progress is never blocked by the caps. When a cap is hit
 *    the ARRIVING segment loses: a segment that would need a new range while
 *    all max_ranges are in use is dropped whole; a segment whose new bytes
 *    exceed the byte budget is cut at the budget (its lowest bytes, nearest
 *    RCV.NXT, are kept). This module never discards parked data, so
 *    nothing we have SACKed is reneged (RFC 2018 s8 discourages reneging)
 *    - except that the stack's memory budget may clear a queue whole
 *    (tcp.c tcp_mem_reclaim, allowed by RFC 2018 s8 when the receiver
 *    "runs out of buffer space"); out-of-order bytes no ring chunk can be
 *    had for are dropped (ringbuf_reserve, RING_OPT). DEVIATION: RFC
 *    9293 SHLD-31 says segments beyond RCV.NXT SHOULD be held; beyond the
 *    caps they are not (bounded memory, ATTACKS G3). The sender sees the
 *    dropped bytes as un-SACKed and retransmits them in its normal loss
 *    recovery.
 *  - per-segment cost: one binary search plus a walk and one memmove over at
 *    most max_ranges entries - bounded by the cap, not by how many segments
 *    were queued. tern_tcp_ooo_result.work counts those steps for tests.
 * What it is not: the acceptability test, FIN/SYN/URG handling or ACK policy
 * (the TCP input path does those). A FIN consumes a sequence number the ring
 * does not hold: clear the queue when RCV.NXT passes a FIN.
 * Preconditions: the ring's readable data ends at RCV.NXT and nothing else
 * writes to the ring while ranges are parked; RCV.NXT only advances by the
 * `advanced` values this module returns. Not thread-safe.
 */
#ifndef TERN_CORE_TCP_OOO_H
#define TERN_CORE_TCP_OOO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ringbuf.h"
#include "tern/wire/tcp.h"

#define TERN_TCP_OOO_MAX_RANGES 1024 /* upper bound for the max_ranges parameter */

struct tern_tcp_ooo_range {
    uint32_t left, right; /* [left, right) in sequence space, left != right */
    uint64_t stamp;       /* when a segment last landed in it (for SACK order) */
};

struct tern_tcp_ooo_stats {
    uint64_t segs_in, bytes_in_order, bytes_queued;
    uint64_t dup_bytes;        /* below RCV.NXT or already parked */
    uint64_t trimmed_bytes;    /* beyond the window (ATTACKS 32) */
    uint64_t cap_bytes_dropped, cap_range_drops; /* ATTACKS 33 */
    uint64_t nomem_bytes_dropped; /* out of order, over the memory budget */
};

struct tern_tcp_ooo {
    struct tern_tcp_ooo_range *r; /* sorted by sequence, disjoint, never adjacent */
    uint32_t n, max_ranges;
    uint32_t bytes, max_bytes;    /* parked bytes; their cap */
    uint64_t clock;               /* stamp source */
    bool owned;
    bool dsack_pending;
    struct tern_tcp_sack_block dsack;
    struct tern_tcp_ooo_stats stats;
    /* Bytes of the segment being processed that already sit at free-area
     * offset 0 (RCV.NXT onwards), copied there by the receive path in the
     * pass that verified the checksum (tcp_in.c): not copied again. Set for
     * one segment, with no range parked; the next tcp_ooo_input
     * consumes it (honoured only if its SEQ is RCV.NXT). */
    uint32_t placed;
};

/* What one segment did. RCV.NXT += advanced. */
struct tern_tcp_ooo_result {
    uint32_t advanced; /* bytes that became readable (this segment + ranges joined) */
    uint32_t queued;   /* new bytes parked out of order */
    uint32_t dup;      /* duplicate bytes (below RCV.NXT or already held) */
    uint32_t trimmed;  /* bytes beyond the window, discarded */
    uint32_t dropped;  /* bytes discarded because a cap was reached */
    uint32_t nomem;    /* of those, bytes no ring chunk could be had for */
    uint32_t work;     /* search steps + ranges walked + entries moved */
};

/* storage == NULL: allocate max_ranges entries now (the only allocation).
 * max_ranges 1..TERN_TCP_OOO_MAX_RANGES; max_bytes 0 disables out-of-order
 * queueing (in-order data still flows). Returns 0, TERN_E_INVAL or
 * TERN_E_NOMEM. */
int tcp_ooo_init(struct tern_tcp_ooo *q, struct tern_tcp_ooo_range *storage,
                      uint32_t max_ranges, uint32_t max_bytes);
void tcp_ooo_fini(struct tern_tcp_ooo *q);
/* Forgets every parked range (their bytes in the ring become free space). */
void tcp_ooo_clear(struct tern_tcp_ooo *q);

/* Feeds one segment's data: seq = SEG.SEQ of data[0] (after the SYN, if
 * any), len <= 2^30. Returns 0 (result in *res) or TERN_E_INVAL. */
int tcp_ooo_input(struct tern_tcp_ooo *q, struct tern_ringbuf *rb, uint32_t rcv_nxt,
                       uint32_t rcv_wnd, uint32_t seq, const void *data, size_t len,
                       struct tern_tcp_ooo_result *res);

/* The SACK blocks for the next ACK, at most max (4, or 3 beside timestamps:
 * RFC 2018 s3): a pending D-SACK block first (RFC 2883 s4), then the range
 * holding it if it lies above RCV.NXT (s4 rule 4), then the ranges in order
 * of the most recent arrival (RFC 2018 s4: the first block holds the segment
 * that triggered this ACK, then the most recently reported others). The
 * D-SACK is reported once (RFC 2883 s4 rule 2): call this once per ACK sent.
 * Returns the number of blocks written. */
int tcp_ooo_sack_blocks(struct tern_tcp_ooo *q, struct tern_tcp_sack_block *out, int max);

static inline uint32_t tcp_ooo_ranges(const struct tern_tcp_ooo *q) { return q->n; }
static inline uint32_t tcp_ooo_bytes(const struct tern_tcp_ooo *q) { return q->bytes; }

#endif
