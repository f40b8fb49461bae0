/*
 * tcp_sack.c - the sender's SACK scoreboard and RFC 6675 s4 IsLost(),
 * SetPipe(), NextSeg(), with the s5 recovery variables; RFC 2018 s5/s8
 * (processing blocks, reneging after RTO), RFC 2883 s4-5 (D-SACK seen by the
 * sender). Contract, bounds and eviction policy: tcp_sack.h (ATTACKS 34).
 * Not: congestion control, DupAck counting, timers.
 *
 * Every range lies in [SND.UNA, HighData + 1), a span under 2^31, so the
 * tern_seq_* comparisons are exact; all loops are over at most max_ranges
 * ranges.
 */
#include "core/tcp_sack.h"

#include <stdlib.h>
#include <string.h>

#include "tern/err.h"
#include "tern/wire/seq.h"

int tcp_sack_init(struct tern_tcp_sack *sb, struct tern_tcp_sack_range *storage,
                       uint32_t max_ranges, uint32_t snd_una, uint32_t smss, uint32_t dupthresh)
{
    memset(sb, 0, sizeof *sb);
    if (max_ranges == 0 || max_ranges > TERN_TCP_SACK_MAX_RANGES || smss == 0)
        return TERN_E_INVAL;
    if (storage) {
        sb->r = storage;
    } else {
        sb->r = calloc(max_ranges, sizeof *sb->r);
        if (!sb->r)
            return TERN_E_NOMEM;
        sb->owned = true;
    }
    sb->max_ranges = max_ranges;
    sb->snd_una = sb->snd_max = snd_una;
    sb->high_rxt_end = snd_una;
    sb->smss = smss;
    sb->dupthresh = dupthresh ? dupthresh : TERN_TCP_DUPTHRESH;
    return 0;
}

void tcp_sack_fini(struct tern_tcp_sack *sb)
{
    if (sb->owned)
        free(sb->r);
    memset(sb, 0, sizeof *sb);
}

void tcp_sack_set_smss(struct tern_tcp_sack *sb, uint32_t smss)
{
    if (smss)
        sb->smss = smss;
}

void tcp_sack_on_send(struct tern_tcp_sack *sb, uint32_t end)
{
    if (tern_seq_gt(end, sb->snd_max))
        sb->snd_max = end;
}

/* Drops SACK state below the new SND.UNA (RFC 6675 s5: information above
 * HighACK is kept). */
static void advance_una(struct tern_tcp_sack *sb, uint32_t ack, uint32_t *work)
{
    uint32_t k = 0;
    while (k < sb->n && tern_seq_leq(sb->r[k].right, ack)) {
        sb->sacked -= sb->r[k].right - sb->r[k].left;
        k++;
    }
    if (k) {
        memmove(sb->r, sb->r + k, (sb->n - k) * sizeof *sb->r);
        *work += sb->n;
        sb->n -= k;
    }
    if (sb->n && tern_seq_lt(sb->r[0].left, ack)) {
        sb->sacked -= ack - sb->r[0].left;
        sb->r[0].left = ack;
    }
    sb->snd_una = ack;
    if (tern_seq_lt(sb->high_rxt_end, ack))
        sb->high_rxt_end = ack;
}

/* Records [left, right) (already validated), merging with the ranges it
 * overlaps or touches. Returns the bytes newly SACKed. */
static uint32_t add_range(struct tern_tcp_sack *sb, uint32_t left, uint32_t right, uint32_t *work)
{
    /* first range with right >= left (touching counts) */
    uint32_t i = 0, hi = sb->n;
    while (i < hi) {
        uint32_t mid = i + (hi - i) / 2;
        (*work)++;
        if (tern_seq_geq(sb->r[mid].right, left))
            hi = mid;
        else
            i = mid + 1;
    }
    uint32_t j = i, held = 0;
    while (j < sb->n && tern_seq_leq(sb->r[j].left, right)) {
        held += sb->r[j].right - sb->r[j].left;
        j++;
        (*work)++;
    }
    if (i == j && sb->n == sb->max_ranges) {
        /* Full (ATTACKS 34): evict the highest range if the block is below
         * it, else drop the block (policy in tcp_sack.h). */
        if (i == sb->n) {
            sb->dropped_blocks++;
            return 0;
        }
        sb->n--;
        sb->sacked -= sb->r[sb->n].right - sb->r[sb->n].left;
        sb->evicted_ranges++;
    }
    uint32_t nl = (i < j && tern_seq_lt(sb->r[i].left, left)) ? sb->r[i].left : left;
    uint32_t nr = (i < j && tern_seq_gt(sb->r[j - 1].right, right)) ? sb->r[j - 1].right : right;
    if (i == j) {
        memmove(sb->r + i + 1, sb->r + i, (sb->n - i) * sizeof *sb->r);
        *work += sb->n - i;
        sb->n++;
    } else if (j - i > 1) {
        memmove(sb->r + i + 1, sb->r + j, (sb->n - j) * sizeof *sb->r);
        *work += sb->n - j;
        sb->n -= j - i - 1;
    }
    sb->r[i].left = nl;
    sb->r[i].right = nr;
    uint32_t added = (nr - nl) - held;
    sb->sacked += added;
    return added;
}

void tcp_sack_on_ack(struct tern_tcp_sack *sb, uint32_t ack,
                          const struct tern_tcp_sack_block *blocks, unsigned nblocks,
                          struct tern_tcp_sack_ack_info *info)
{
    memset(info, 0, sizeof *info);
    /* RFC 9293 s3.10.7.4 fifth check: SND.UNA < SEG.ACK =< SND.NXT. */
    if (tern_seq_gt(ack, sb->snd_una) && tern_seq_leq(ack, sb->snd_max)) {
        info->acked = ack - sb->snd_una;
        advance_una(sb, ack, &info->work);
    }
    if (nblocks == 0 || !blocks)
        return;
    if (nblocks > TERN_TCP_SACK_MAX) { /* ATTACKS 34: cannot come from one option */
        info->ignored = nblocks;
        sb->ignored_blocks += nblocks;
        return;
    }
    unsigned first = 0;
    /* RFC 2883 s4-5: the first block is a D-SACK when it lies below the
     * cumulative ACK of this segment, or inside the second block. A first
     * block merely inside the scoreboard is not taken as one: RFC 2018 s4
     * has receivers repeat blocks in successive ACKs. The caller matches a
     * D-SACK against what it retransmitted (undo). Checked for
     * sanity (left < right, right <= HighData + 1) and reported, never added
     * to the scoreboard: below SEG.ACK there is nothing to record, inside the
     * second block the second block records it. */
    const struct tern_tcp_sack_block *b0 = &blocks[0];
    if (tern_seq_lt(b0->left, b0->right) && tern_seq_leq(b0->right, sb->snd_max) &&
        (tern_seq_lt(b0->left, ack) ||
         (nblocks > 1 && tern_seq_leq(blocks[1].left, b0->left) &&
          tern_seq_leq(b0->right, blocks[1].right) && tern_seq_lt(blocks[1].left, blocks[1].right)))) {
        info->dsack = true;
        info->dsack_block = *b0;
        sb->dsacks++;
        first = 1;
    }
    for (unsigned k = first; k < nblocks; k++) {
        uint32_t l = blocks[k].left, r = blocks[k].right;
        /* ATTACKS 34 / RFC 2018 s5: a block must name bytes we sent and
         * that are not cumulatively acknowledged. */
        if (!tern_seq_lt(l, r) || tern_seq_lt(l, sb->snd_una) || tern_seq_gt(r, sb->snd_max)) {
            info->ignored++;
            sb->ignored_blocks++;
            continue;
        }
        info->newly_sacked += add_range(sb, l, r, &info->work);
    }
}

/* The threshold test of IsLost() for `count` discontiguous SACKed ranges
 * holding `bytes` bytes above a sequence number. RFC 6675 s4: "DupThresh
 * discontiguous SACKed sequences have arrived above 'SeqNum' or more than
 * (DupThresh - 1) * SMSS bytes with sequence numbers greater than 'SeqNum'
 * have been SACKed." DEVIATION (reading): a byte scoreboard has no segment
 * boundaries, so the first test counts SACKed ranges separated by holes (the
 * literal "discontiguous"), not SACKed segments; for full-sized segments the
 * byte test covers contiguous runs (3 SMSS SACKed > 2 SMSS). */
static bool lost_above(const struct tern_tcp_sack *sb, uint32_t count, uint64_t bytes)
{
    return count >= sb->dupthresh || bytes > (uint64_t)(sb->dupthresh - 1) * sb->smss;
}

bool tcp_sack_is_lost(const struct tern_tcp_sack *sb, uint32_t seq)
{
    if (!tern_seq_in(seq, sb->snd_una, sb->snd_max))
        return false;
    uint32_t count = 0;
    uint64_t bytes = 0;
    for (uint32_t k = sb->n; k-- > 0;) {
        if (tern_seq_leq(sb->r[k].right, seq))
            break;
        if (tern_seq_leq(sb->r[k].left, seq))
            return false; /* seq itself is SACKed */
        count++;
        bytes += sb->r[k].right - sb->r[k].left;
    }
    return lost_above(sb, count, bytes);
}

/* Bytes of [l, r) below `end` (the HighRxt + 1 test of SetPipe (b)). */
static uint32_t part_below(uint32_t l, uint32_t r, uint32_t end)
{
    if (tern_seq_leq(end, l))
        return 0;
    return tern_seq_min(r, end) - l;
}

uint32_t tcp_sack_set_pipe(struct tern_tcp_sack *sb)
{
    /* RFC 6675 s4 SetPipe(): for each unSACKed octet S1 in [HighACK+1,
     * HighData]: (a) +1 if !IsLost(S1); (b) +1 if S1 <= HighRxt. IsLost is
     * constant across one hole (the SACKed data above it is the same), so
     * the walk is per hole, bottom up, with the SACK totals above it. */
    uint64_t pipe = 0, above = sb->sacked;
    uint32_t cur = sb->snd_una;
    for (uint32_t k = 0;; k++) {
        uint32_t hole_end = k < sb->n ? sb->r[k].left : sb->snd_max;
        if (tern_seq_lt(cur, hole_end)) {
            if (!lost_above(sb, sb->n - k, above))
                pipe += hole_end - cur;
            pipe += part_below(cur, hole_end, sb->high_rxt_end);
        }
        if (k == sb->n)
            break;
        above -= sb->r[k].right - sb->r[k].left;
        cur = sb->r[k].right;
    }
    sb->pipe = pipe > UINT32_MAX ? UINT32_MAX : (uint32_t)pipe;
    return sb->pipe;
}

uint32_t tcp_sack_pipe_of(const struct tern_tcp_sack *sb, uint32_t left, uint32_t right)
{
    /* SetPipe()'s walk, restricted to [left, right). */
    uint64_t pipe = 0, above = sb->sacked;
    uint32_t cur = sb->snd_una;
    for (uint32_t k = 0;; k++) {
        uint32_t hole_end = k < sb->n ? sb->r[k].left : sb->snd_max;
        uint32_t lo = tern_seq_max(cur, left), hi = tern_seq_min(hole_end, right);
        if (tern_seq_lt(lo, hi)) {
            if (!lost_above(sb, sb->n - k, above))
                pipe += hi - lo;
            pipe += part_below(lo, hi, sb->high_rxt_end);
        }
        if (k == sb->n || !tern_seq_lt(hole_end, right))
            break;
        above -= sb->r[k].right - sb->r[k].left;
        cur = sb->r[k].right;
    }
    return pipe > UINT32_MAX ? UINT32_MAX : (uint32_t)pipe;
}

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

uint32_t tcp_sack_skip(const struct tern_tcp_sack *sb, uint32_t seq, uint32_t *to_sacked,
                            uint32_t *sacked_below)
{
    /* Ranges are sorted, disjoint and inside [SND.UNA, HighData + 1). */
    uint64_t below = 0;
    *to_sacked = UINT32_MAX;
    for (uint32_t k = 0; k < sb->n; k++) {
        const struct tern_tcp_sack_range *r = &sb->r[k];
        if (tern_seq_lt(seq, r->left)) {
            *to_sacked = r->left - seq;
            break;
        }
        below += r->right - r->left;
        if (tern_seq_lt(seq, r->right))
            seq = r->right; /* inside a SACKed range: past it */
    }
    *sacked_below = below > UINT32_MAX ? UINT32_MAX : (uint32_t)below;
    return seq;
}

int tcp_sack_next_seg(const struct tern_tcp_sack *sb, uint32_t new_avail,
                           struct tern_tcp_sack_seg *seg)
{
    memset(seg, 0, sizeof *seg);
    /* Rules (1) and (3): the smallest unSACKed S2 with (1.a) S2 > HighRxt and
     * (1.b) S2 below the highest SACKed octet - every such S2 is in a hole
     * under some range - and for rule (1) also (1.c) IsLost(S2). IsLost only
     * weakens going up, so the first candidate decides rule (1). */
    uint64_t above = sb->sacked;
    uint32_t cur = sb->snd_una;
    for (uint32_t k = 0; k < sb->n; k++) {
        uint32_t hole_end = sb->r[k].left;
        uint32_t s2 = tern_seq_max(cur, sb->high_rxt_end);
        if (tern_seq_lt(s2, hole_end)) {
            seg->seq = s2;
            seg->len = min32(sb->smss, hole_end - s2); /* never into SACKed data */
            seg->rule = lost_above(sb, sb->n - k, above) ? 1 : 3;
            break;
        }
        above -= sb->r[k].right - sb->r[k].left;
        cur = sb->r[k].right;
    }
    if (seg->rule == 1)
        return 1;
    /* Rule (2): new data from HighData + 1, if any may be sent. */
    if (new_avail > 0) {
        seg->seq = sb->snd_max;
        seg->len = min32(sb->smss, new_avail);
        seg->rule = 2;
        return 2;
    }
    /* Rule (3): SHOULD - the candidate found above without (1.c). */
    if (seg->rule == 3)
        return 3;
    /* Rule (4): one rescue retransmission per recovery, when HighACK >
     * RescueRxt (or RescueRxt undefined): a segment ending at the highest
     * outstanding unSACKed octet. */
    if (!sb->in_recovery || (sb->rescue_valid && !tern_seq_gt(sb->snd_una, sb->rescue_end)))
        return 0;
    uint32_t hi_end = sb->snd_max, lo = sb->snd_una; /* the topmost hole [lo, hi_end) */
    if (sb->n) {
        if (sb->r[sb->n - 1].right == sb->snd_max) {
            hi_end = sb->r[sb->n - 1].left;
            lo = sb->n > 1 ? sb->r[sb->n - 2].right : sb->snd_una;
        } else {
            lo = sb->r[sb->n - 1].right;
        }
    }
    if (!tern_seq_lt(lo, hi_end))
        return 0;
    /* The rescue is for a tail nothing has retransmitted. When the highest
     * unSACKed octet is already below HighRxt (RACK's lost-segment pass,
     * RFC 8985 s6.2, resent the tail - often the lone FIN - under rule
     * (1)'s bookkeeping), a rescue would send the same segment again at
     * the same instant: the duplicate FIN `tern demo --seed 59` showed. */
    if (!tern_seq_gt(hi_end, sb->high_rxt_end))
        return 0;
    seg->len = min32(sb->smss, hi_end - lo);
    seg->seq = hi_end - seg->len;
    seg->rule = 4;
    return 4;
}

void tcp_sack_sent(struct tern_tcp_sack *sb, const struct tern_tcp_sack_seg *seg)
{
    uint32_t end = seg->seq + seg->len;
    if (seg->rule == 4) {
        /* NextSeg rule (4): RescueRxt = RecoveryPoint; HighRxt unchanged. */
        sb->rescue_end = sb->recovery_end;
        sb->rescue_valid = true;
    } else if (tern_seq_lt(seg->seq, sb->snd_max)) {
        /* (C.2): HighRxt = the highest octet retransmitted. */
        if (tern_seq_gt(tern_seq_min(end, sb->snd_max), sb->high_rxt_end))
            sb->high_rxt_end = tern_seq_min(end, sb->snd_max);
    }
    tcp_sack_on_send(sb, end); /* (C.3) HighData */
    uint64_t pipe = (uint64_t)sb->pipe + seg->len; /* (C.4) */
    sb->pipe = pipe > UINT32_MAX ? UINT32_MAX : (uint32_t)pipe;
}

int tcp_sack_enter_recovery(struct tern_tcp_sack *sb, struct tern_tcp_sack_seg *first)
{
    memset(first, 0, sizeof *first);
    if (!tern_seq_lt(sb->snd_una, sb->snd_max))
        return TERN_E_INVAL;
    /* (4.1) RecoveryPoint = HighData. */
    sb->in_recovery = true;
    sb->recovery_end = sb->snd_max;
    /* (4.3) retransmit the segment at HighACK + 1; HighRxt = RescueRxt =
     * its highest octet. */
    uint32_t hole_end = sb->n ? sb->r[0].left : sb->snd_max;
    first->seq = sb->snd_una;
    first->len = min32(sb->smss, hole_end - sb->snd_una);
    if (first->len == 0) /* SND.UNA itself SACKed: only a lying receiver does that */
        first->len = min32(sb->smss, sb->snd_max - sb->snd_una);
    sb->high_rxt_end = first->seq + first->len;
    sb->rescue_end = sb->high_rxt_end;
    sb->rescue_valid = true;
    /* (4.4) SetPipe(). */
    tcp_sack_set_pipe(sb);
    return 0;
}

bool tcp_sack_recovery_done(const struct tern_tcp_sack *sb)
{
    /* "An incoming cumulative ACK for a sequence number greater than
     * RecoveryPoint signals the end of loss recovery." */
    return sb->in_recovery && tern_seq_geq(sb->snd_una, sb->recovery_end);
}

void tcp_sack_exit_recovery(struct tern_tcp_sack *sb)
{
    sb->in_recovery = false;
    sb->rescue_valid = false;
    sb->high_rxt_end = sb->snd_una;
}

void tcp_sack_on_rto(struct tern_tcp_sack *sb)
{
    /* RFC 6675 s5.1: RecoveryPoint = HighData, recovery terminated. RFC 2018
     * s8: the sender SHOULD expunge SACK information after an RTO (the
     * receiver may have reneged). */
    sb->recovery_end = sb->snd_max;
    tcp_sack_exit_recovery(sb);
    sb->n = 0;
    sb->sacked = 0;
}
