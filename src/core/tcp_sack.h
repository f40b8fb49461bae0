/*
 * src/core/tcp_sack.h - the TCP sender's SACK scoreboard and the RFC 6675
 * loss-recovery queries (internal to the stack).
 *
 * What it is: the SACKed ranges of [SND.UNA, HighData] as a sorted, bounded
 * array of disjoint, non-adjacent byte ranges, fed by each ACK's cumulative
 * acknowledgment and SACK blocks (RFC 2018 s5, RFC 6675 s4 Update()), plus
 * the RFC 6675 s4 routines IsLost(), SetPipe() and NextSeg() and the loss
 * recovery state they use (RecoveryPoint, HighRxt, RescueRxt; s5), and
 * sender-side D-SACK detection (RFC 2883 s4-5).
 * What it is not: congestion control (cwnd, ssthresh: the caller), DupAck
 * counting and the decision to enter recovery (the caller, with
 * tcp_sack_is_lost and info.newly_sacked), the retransmission queue
 * itself (the send ring), timers. Sequence numbers only via tern_seq_*.
 *
 * Names map to RFC 6675 s2 as: HighACK = snd_una - 1, HighData = snd_max - 1;
 * the struct stores one-past-the-end values (snd_una, snd_max, high_rxt_end =
 * HighRxt + 1, rescue_end = RescueRxt + 1, recovery_end = RecoveryPoint + 1).
 *
 * Bounds (ATTACKS 34): an ACK carrying more than TERN_TCP_SACK_MAX (4) blocks
 * is ignored whole; a block with left >= right, or not inside [SND.UNA,
 * HighData + 1), is ignored (only a first block may instead be a D-SACK).
 * At most max_ranges ranges are kept. When a valid block needs a new range
 * and all are in use, the HIGHEST range is evicted if the new block lies
 * below it, else the new block is dropped: SACK information is advisory
 * (RFC 2018 s8, RFC 6675 s4 Update()), so forgetting some only makes the
 * sender consider those bytes un-SACKed (a possible spurious retransmission,
 * never a lost byte); keeping the ranges nearest SND.UNA keeps NextSeg()
 * precise where retransmission happens first. Every call costs O(max_ranges).
 * Not thread-safe.
 */
#ifndef TERN_CORE_TCP_SACK_H
#define TERN_CORE_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/wire/tcp.h"

#define TERN_TCP_SACK_MAX_RANGES 1024 /* upper bound for max_ranges */
#define TERN_TCP_DUPTHRESH 3          /* RFC 6675 s2 / RFC 5681 */

struct tern_tcp_sack_range {
    uint32_t left, right; /* [left, right) */
};

struct tern_tcp_sack {
    struct tern_tcp_sack_range *r; /* sorted, disjoint, never adjacent */
    uint32_t n, max_ranges;
    bool owned;
    uint32_t snd_una;      /* HighACK + 1 */
    uint32_t snd_max;      /* HighData + 1 */
    uint32_t sacked;       /* bytes in r */
    uint32_t smss;         /* bytes, > 0 */
    uint32_t dupthresh;    /* > 0 */
    /* RFC 6675 s5 loss recovery */
    bool in_recovery;
    bool rescue_valid;     /* RescueRxt defined */
    uint32_t recovery_end; /* RecoveryPoint + 1 */
    uint32_t high_rxt_end; /* HighRxt + 1; == snd_una when nothing retransmitted */
    uint32_t rescue_end;   /* RescueRxt + 1 */
    uint32_t pipe;         /* bytes, set by SetPipe(), raised by sent() (C.4) */
    uint64_t ignored_blocks, evicted_ranges, dropped_blocks, dsacks; /* stats */
};

/* What one ACK told us. */
struct tern_tcp_sack_ack_info {
    uint32_t acked;        /* bytes newly cumulatively acknowledged */
    uint32_t newly_sacked; /* bytes newly SACKed: > 0 makes it a "duplicate
                            * acknowledgment" in RFC 6675 s2's sense */
    uint32_t ignored;      /* blocks ignored as invalid (ATTACKS 34) */
    bool dsack;            /* RFC 2883: blocks[0] reports a duplicate */
    struct tern_tcp_sack_block dsack_block; /* ... this range was received twice */
    uint32_t work;         /* ranges examined or moved (tests) */
};

/* One segment to send, as NextSeg() chose it. */
struct tern_tcp_sack_seg {
    uint32_t seq, len;
    int rule; /* RFC 6675 s4 NextSeg() rule 1..4; 0 = the (4.3) first retransmission */
};

/* storage NULL: allocate max_ranges entries (the only allocation).
 * snd_una: the first sequence number to be sent (ISS + 1 after the SYN).
 * dupthresh 0 means TERN_TCP_DUPTHRESH. Returns 0, TERN_E_INVAL, TERN_E_NOMEM. */
int tcp_sack_init(struct tern_tcp_sack *sb, struct tern_tcp_sack_range *storage,
                       uint32_t max_ranges, uint32_t snd_una, uint32_t smss, uint32_t dupthresh);
void tcp_sack_fini(struct tern_tcp_sack *sb);
/* SMSS changed (path MTU). */
void tcp_sack_set_smss(struct tern_tcp_sack *sb, uint32_t smss);

/* New data sent up to `end` (exclusive): HighData = end - 1 if higher. */
void tcp_sack_on_send(struct tern_tcp_sack *sb, uint32_t end);

/* An ACK arrived (after the caller's RFC 5961 acceptability checks): SEG.ACK
 * `ack` and its SACK blocks. Advances SND.UNA when SND.UNA < ack <= HighData
 * + 1 (ranges below are dropped), detects a D-SACK, then records the valid
 * blocks (RFC 6675 s4 Update()). Never fails; *info says what happened. */
void tcp_sack_on_ack(struct tern_tcp_sack *sb, uint32_t ack,
                          const struct tern_tcp_sack_block *blocks, unsigned nblocks,
                          struct tern_tcp_sack_ack_info *info);

/* RFC 6675 s4 IsLost(seq); a SACKed or out-of-range seq is not lost. */
bool tcp_sack_is_lost(const struct tern_tcp_sack *sb, uint32_t seq);
/* RFC 6675 s4 SetPipe(): stores and returns pipe. */
uint32_t tcp_sack_set_pipe(struct tern_tcp_sack *sb);
/* What SetPipe() counts for the octets of [left, right) (RACK, RFC 8985:
 * the caller subtracts segments it knows are lost and not yet resent). */
uint32_t tcp_sack_pipe_of(const struct tern_tcp_sack *sb, uint32_t left, uint32_t right);

/* RFC 6675 s5 step (4): enter loss recovery. RecoveryPoint = HighData; *first
 * = the segment at SND.UNA to retransmit (4.3), HighRxt and RescueRxt set to
 * its last byte; pipe recomputed (4.4). Send *first without calling
 * tcp_sack_sent. Returns TERN_E_INVAL when nothing is outstanding. */
int tcp_sack_enter_recovery(struct tern_tcp_sack *sb, struct tern_tcp_sack_seg *first);
/* RFC 6675 s5: a cumulative ACK above RecoveryPoint ends recovery. */
bool tcp_sack_recovery_done(const struct tern_tcp_sack *sb);
void tcp_sack_exit_recovery(struct tern_tcp_sack *sb);
/* Retransmission timeout (RFC 6675 s5.1, RFC 2018 s8): RecoveryPoint =
 * HighData, recovery ends, and the SACK information is expunged (the
 * receiver may have reneged). */
void tcp_sack_on_rto(struct tern_tcp_sack *sb);

/* Go-back-N retransmission with SACK (after an RTO, RFC 6675 s5.1: use
 * the SACK information that arrives during the recovery that follows):
 * the first sequence number at or after seq, in [SND.UNA, HighData + 1],
 * that is not SACKed; *to_sacked = the bytes from there to the next SACKed
 * range (UINT32_MAX: none), *sacked_below = the SACKed bytes below it. */
uint32_t tcp_sack_skip(const struct tern_tcp_sack *sb, uint32_t seq, uint32_t *to_sacked,
                            uint32_t *sacked_below);

/* RFC 6675 s4 NextSeg(): new_avail = bytes of new data the caller could send
 * now (unsent data within the peer's window; 0 if none). Pure: returns the
 * rule used (1..4) with *seg filled, or 0 when nothing qualifies. Rule 4
 * (rescue) is only offered in recovery. */
int tcp_sack_next_seg(const struct tern_tcp_sack *sb, uint32_t new_avail,
                           struct tern_tcp_sack_seg *seg);
/* The segment from next_seg was sent: RFC 6675 s5 (C.2)-(C.4) - HighRxt
 * (not for rule 4, which sets RescueRxt = RecoveryPoint), HighData, pipe. */
void tcp_sack_sent(struct tern_tcp_sack *sb, const struct tern_tcp_sack_seg *seg);

#endif
