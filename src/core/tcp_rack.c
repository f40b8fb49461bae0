/*
 * tcp_rack.c - RACK-TLP (RFC 8985): the per-segment transmission table,
 * RACK loss detection with the reordering window (s6.2, D-SACK adaptation
 * in step 4) and the TLP arithmetic and episode state (s7). Contract,
 * storage and the merging DEVIATION: tcp_rack.h.
 * Not: the SACK scoreboard, congestion control, sending, timers (the
 * caller: tcp_recover.c, tcp_timer.c).
 *
 * Every entry lies in [una, snd_max), a span under 2^31, so the tern_seq_*
 * comparisons are exact. Indexes i are relative to `first`.
 */
#include "core/tcp_rack.h"

#include <stdlib.h>
#include <string.h>

#include "tern/err.h"
#include "tern/wire/seq.h"

int tcp_rack_init(struct tern_rack *r, struct tern_rack_seg *storage, uint32_t cap,
                   uint32_t snd_una)
{
    memset(r, 0, sizeof *r);
    if (cap < 4 || cap > TERN_RACK_MAX_SEGS)
        return TERN_E_INVAL;
    if (storage) {
        r->seg = storage;
    } else {
        r->seg = calloc(cap, sizeof *r->seg);
        if (!r->seg)
            return TERN_E_NOMEM;
        r->owned = true;
    }
    r->cap = cap;
    r->una = r->snd_max = snd_una;
    r->reo_wnd_mult = 1;
    r->ack_rtt = UINT64_MAX;
    return 0;
}

void tcp_rack_fini(struct tern_rack *r)
{
    if (r->owned)
        free(r->seg);
    memset(r, 0, sizeof *r);
}

static struct tern_rack_seg *at(const struct tern_rack *r, uint32_t i)
{
    return &r->seg[r->first + i];
}

uint32_t tcp_rack_start(const struct tern_rack *r, uint32_t i)
{
    return i == 0 ? r->una : at(r, i - 1)->end;
}

/* Transmission order. RFC 8985 s6.2 step 2's RACK_sent_after(t1, seq1,
 * t2, seq2) breaks a tie of equal transmit times by sequence number: the
 * segments of one send (a TSO burst) share a time stamp and leave in
 * sequence order. A retransmission does not: in one clock tick it can
 * follow new data of higher sequence numbers (an ACK releases new data, a
 * later ACK handled in the same tick marks a hole lost), and a clock as
 * coarse as a virtual loop's microsecond puts whole bursts in one tick.
 * Ordered by sequence, that retransmission looks sent before the new data,
 * and the SACK of the new data marks it lost again one RTT later: a
 * spurious second retransmission and a D-SACK. What RACK asks is which
 * segment was sent most recently (s6.1 RACK.xmit_ts, "the most recently
 * delivered segment"; s3.3 "a segment sent after it"), so a tie of equal
 * times is broken by the order of transmission: a counter given at each
 * (re)transmission (append, tcp_rack_on_send), compared modulo 2^24 -
 * exact, since a tie only ever compares transmissions of one tick - and
 * by sequence number only within one transmission (an entry holds the
 * segments of one send, in sequence order). */
static uint32_t order_of(const struct tern_rack_seg *e)
{
    return e->flags >> TERN_RACK_ORDER_SHIFT;
}

static void set_order(struct tern_rack_seg *e, uint32_t o)
{
    e->flags = (e->flags & TERN_RACK_MARKS) | (o << TERN_RACK_ORDER_SHIFT);
}

static uint32_t next_order(struct tern_rack *r)
{
    r->tx_order = (r->tx_order + 1) & TERN_RACK_ORDER_MASK;
    return r->tx_order;
}

/* o1 given after o2 (modulo 2^24). */
static bool order_after(uint32_t o1, uint32_t o2)
{
    uint32_t d = (o1 - o2) & TERN_RACK_ORDER_MASK;
    return d != 0 && d <= TERN_RACK_ORDER_MASK / 2;
}

/* RACK_sent_after(t1, seq1, t2, seq2) (RFC 8985 s6.2 step 2), a tie of
 * equal times broken by transmission order first (above). */
static bool sent_after(uint64_t t1, uint32_t o1, uint32_t seq1, uint64_t t2, uint32_t o2,
                       uint32_t seq2)
{
    if (t1 != t2)
        return t1 > t2;
    if (o1 != o2)
        return order_after(o1, o2);
    return tern_seq_gt(seq1, seq2);
}

/* Entry i absorbs entry i + 1. The merged entry takes the later
 * transmission's time and order (the merging DEVIATION, tcp_rack.h). */
static void merge_pair(struct tern_rack *r, uint32_t i)
{
    struct tern_rack_seg *a = at(r, i), *b = at(r, i + 1);
    uint32_t keep = (a->flags & b->flags) & (TERN_RACK_SACKED | TERN_RACK_LOST);
    uint32_t o = order_of(a);
    if (sent_after(b->xmit_ts, order_of(b), b->end, a->xmit_ts, o, a->end))
        o = order_of(b);
    a->flags = keep | ((a->flags | b->flags) & (TERN_RACK_RETRANS | TERN_RACK_WAS_SACKED));
    set_order(a, o);
    if (b->xmit_ts > a->xmit_ts)
        a->xmit_ts = b->xmit_ts;
    a->end = b->end;
    memmove(at(r, i + 1), at(r, i + 2), (r->n - i - 2) * sizeof *r->seg);
    r->n--;
    r->merges++;
}

/* Makes room for one more entry at the tail (policy: tcp_rack.h). */
static void make_room(struct tern_rack *r)
{
    if (r->first + r->n < r->cap)
        return;
    if (r->first) {
        memmove(r->seg, at(r, 0), r->n * sizeof *r->seg);
        r->first = 0;
        return;
    }
    for (uint32_t i = r->n - 1; i-- > 0;) {
        if (((at(r, i)->flags ^ at(r, i + 1)->flags) & TERN_RACK_MARKS) == 0) {
            merge_pair(r, i);
            return;
        }
    }
    merge_pair(r, r->n - 2);
}

/* The entry holding seq (start <= seq < end), or n. Binary search on end. */
static uint32_t find(const struct tern_rack *r, uint32_t seq)
{
    uint32_t lo = 0, hi = r->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tern_seq_gt(at(r, mid)->end, seq))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Makes seq an entry boundary when it falls inside one and there is room
 * (without merging: a split never costs precision elsewhere). */
static void split_at(struct tern_rack *r, uint32_t seq)
{
    if (!tern_seq_gt(seq, r->una) || !tern_seq_lt(seq, r->snd_max))
        return;
    uint32_t i = find(r, seq);
    if (i >= r->n || tcp_rack_start(r, i) == seq)
        return;
    if (r->first + r->n >= r->cap) {
        if (!r->first)
            return;
        memmove(r->seg, at(r, 0), r->n * sizeof *r->seg);
        r->first = 0;
    }
    memmove(at(r, i + 1), at(r, i), (r->n - i) * sizeof *r->seg);
    r->n++;
    at(r, i)->end = seq;
}

static void append(struct tern_rack *r, uint32_t end, uint64_t now)
{
    if (r->n) {
        struct tern_rack_seg *last = at(r, r->n - 1);
        bool full = !r->smss || (last->end - tcp_rack_start(r, r->n - 1)) % r->smss == 0;
        /* Joined only when nothing was (re)sent since: the entry is one
         * transmission, in sequence order (order_of). */
        if (last->xmit_ts == now && (last->flags & TERN_RACK_MARKS) == 0 &&
            order_of(last) == r->tx_order && full) {
            last->end = end;
            r->snd_max = end;
            return;
        }
    }
    make_room(r);
    struct tern_rack_seg *e = at(r, r->n);
    e->xmit_ts = now;
    e->end = end;
    e->flags = 0;
    set_order(e, next_order(r));
    r->n++;
    r->snd_max = end;
}

void tcp_rack_on_send(struct tern_rack *r, uint32_t seq, uint32_t end, uint64_t now)
{
    if (!tern_seq_gt(end, r->una))
        return;
    if (tern_seq_lt(seq, r->una))
        seq = r->una;
    uint32_t old_max = r->snd_max;
    if (tern_seq_lt(seq, old_max)) {
        uint32_t rend = tern_seq_min(end, old_max);
        split_at(r, seq);
        split_at(r, rend);
        for (uint32_t i = find(r, seq); i < r->n; i++) {
            if (!tern_seq_lt(tcp_rack_start(r, i), rend))
                break;
            struct tern_rack_seg *e = at(r, i);
            e->xmit_ts = now;
            e->flags = (e->flags & ~(uint32_t)TERN_RACK_LOST) | TERN_RACK_RETRANS;
            set_order(e, next_order(r));
        }
    }
    if (tern_seq_gt(end, old_max))
        append(r, end, now);
}

/* One segment [., end) newly delivered: s6.2 steps 2 and 3. */
static void delivered(struct tern_rack *r, const struct tern_rack_seg *e, uint32_t end,
                      uint64_t now)
{
    bool rtx = e->flags & TERN_RACK_RETRANS;
    uint64_t rtt = now >= e->xmit_ts ? now - e->xmit_ts : 0;
    if (e->flags & TERN_RACK_WAS_SACKED) {
        /* SACKed before an RTO cleared the mark (tcp_rack_on_rto): it
         * was delivered back then; its cumulative ACK now measures
         * nothing about the path (steps 2 and 3 saw it the first time). */
        return;
    }
    /* The connection's RTT sample (RFC 6298 s3: never from a segment that
     * was retransmitted). Like Linux (tcp_clean_rtx_queue / sacktag), from
     * newly cumulatively ACKed or SACKed never-retransmitted data; unlike
     * its first_ackt, the shortest such sample - the segment that most
     * likely triggered this ACK - so that a block reported again after it
     * fell out of the 3-4 a SACK option carries, or an entry delivered
     * earlier whose ACK was lost, cannot inflate SRTT. */
    if (!rtx && rtt < r->ack_rtt)
        r->ack_rtt = rtt;
    if (rtx)
        r->ack_rtx_seen = true;
    /* Step 2 RACK_update(): a retransmitted segment's sample is ambiguous;
     * without its TSecr, one shorter than min_RTT must be the original's
     * ACK (DEVIATION: the TSecr test is not made - timestamps are in 1 ms
     * ticks here, coarser than xmit_ts). */
    if (!rtx || !r->min_rtt || rtt >= r->min_rtt) {
        r->rtt = rtt;
        if (!rtx && (!r->min_rtt || rtt < r->min_rtt)) /* step 1 (DEVIATION: not windowed) */
            r->min_rtt = rtt ? rtt : 1;
        if (!r->have_xmit ||
            sent_after(e->xmit_ts, order_of(e), end, r->xmit_ts, r->xmit_order, r->end_seq)) {
            r->xmit_ts = e->xmit_ts;
            r->xmit_order = order_of(e);
            r->end_seq = end;
            r->have_xmit = true;
        }
    }
    /* Step 3 RACK_detect_reordering(). */
    if (!r->fack_valid || tern_seq_gt(end, r->fack)) {
        r->fack = end;
        r->fack_valid = true;
    } else if (tern_seq_lt(end, r->fack) && !rtx) {
        r->reordering_seen = true;
    }
}

/* Narrows a SACKed range [*lo, *hi) to the whole segments inside it. RFC
 * 8985 s6.2 steps 2-3 take "each segment newly acknowledged"; a segment is
 * delivered when all of it is, not when a block covers part of it - say
 * its last byte, which would time every segment sent before it as
 * overdue and start recovery on one byte (the RFC 6675 scoreboard, byte
 * by byte, keeps the part: IsLost() needs DupThresh * SMSS bytes, s4).
 * The table has no segment boundaries inside an entry (tcp_rack.h: a run
 * sent at one instant); with r->smss set, a segment joins an entry only
 * when all before it there are full (append), so the boundaries are
 * start + k * SMSS and the entry's end. DEVIATION: after a partial
 * cumulative ACK, a merge forced by a full table (make_room) or an MSS
 * change they are approximate; a part then left unmarked is marked by a
 * later block or cumulative ACK. (Linux likewise ignores a
 * SACK of less than an MSS of a packet.) */
static void whole_segments(const struct tern_rack *r, uint32_t smss, bool fin_sent, uint32_t *lo,
                           uint32_t *hi)
{
    /* A FIN takes the last sequence number but no SACK block covers it
     * (blocks report data, RFC 2018 s3): a block ending where the data
     * ends covers the last segment. */
    uint32_t data_end = fin_sent ? r->snd_max - 1 : r->snd_max;
    uint32_t i = find(r, *lo);
    if (i < r->n) {
        uint32_t start = tcp_rack_start(r, i), end = at(r, i)->end;
        uint32_t off = *lo - start;
        if (off % smss) {
            uint64_t up = (uint64_t)(off / smss + 1) * smss;
            *lo = up >= end - start ? end : start + (uint32_t)up;
        }
    }
    if (!tern_seq_lt(*lo, *hi))
        return;
    uint32_t j = find(r, *hi - 1);
    if (j < r->n) {
        uint32_t start = tcp_rack_start(r, j), end = at(r, j)->end;
        if (*hi != end && *hi != data_end)
            *hi = start + (*hi - start) / smss * smss;
    }
}

bool tcp_rack_any_sacked(const struct tern_rack *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (at(r, i)->flags & TERN_RACK_SACKED)
            return true;
    return false;
}

uint32_t tcp_rack_on_ack(struct tern_rack *r, const struct tern_rack_ack *a)
{
    uint32_t count = 0, ack = a->ack;
    r->ack_rtt = UINT64_MAX;
    r->ack_rtx_seen = false;
    /* Cumulatively acknowledged entries (a straddling one is delivered up
     * to the ACK and trimmed). */
    if (tern_seq_gt(ack, r->una) && tern_seq_leq(ack, r->snd_max)) {
        uint32_t k = 0;
        while (k < r->n && tern_seq_lt(tcp_rack_start(r, k), ack)) {
            struct tern_rack_seg *e = at(r, k);
            uint32_t end = tern_seq_min(e->end, ack);
            if (!(e->flags & TERN_RACK_SACKED)) {
                delivered(r, e, end, a->now);
                count++;
            }
            if (tern_seq_gt(e->end, ack))
                break;
            k++;
        }
        r->first += k;
        r->n -= k;
        if (!r->n)
            r->first = 0;
        r->una = ack;
    }
    /* SACKed entries: split at the block edges, then mark those inside. */
    for (uint32_t b = 0; a->ranges && b < a->nranges; b++) {
        uint32_t lo = tern_seq_max(a->ranges[b].left, r->una);
        uint32_t hi = tern_seq_min(a->ranges[b].right, r->snd_max);
        if (a->smss)
            whole_segments(r, a->smss, a->fin_sent, &lo, &hi);
        if (!tern_seq_lt(lo, hi))
            continue;
        split_at(r, lo);
        split_at(r, hi);
        for (uint32_t i = find(r, lo); i < r->n; i++) {
            struct tern_rack_seg *e = at(r, i);
            if (tern_seq_gt(e->end, hi))
                break;
            if (tern_seq_lt(tcp_rack_start(r, i), lo) || (e->flags & TERN_RACK_SACKED))
                continue;
            delivered(r, e, e->end, a->now);
            e->flags = (e->flags & ~(uint32_t)TERN_RACK_LOST) | TERN_RACK_SACKED |
                       TERN_RACK_WAS_SACKED;
            count++;
        }
    }
    /* Karn (RFC 6298 s3) for the whole ACK, as Linux's
     * FLAG_RETRANS_DATA_ACKED (tcp_clean_rtx_queue), here for SACKed data
     * too: an ACK that newly delivers retransmitted data may have been
     * sent when the retransmission arrived, so the never-retransmitted
     * data it also reports (delivered long before, its ACKs or SACK blocks
     * lost) would be timed from its send to this later arrival. */
    if (r->ack_rtx_seen)
        r->ack_rtt = UINT64_MAX;
    /* Step 4: one reo_wnd_mult step per round trip that sees a D-SACK. */
    if (r->dsack_round_valid && tern_seq_geq(r->una, r->dsack_round))
        r->dsack_round_valid = false;
    if (!r->dsack_round_valid && a->dsack) {
        r->dsack_round_valid = true;
        r->dsack_round = a->snd_nxt;
        if (r->reo_wnd_mult < 1024)
            r->reo_wnd_mult++;
        r->reo_wnd_persist = TERN_RACK_REO_PERSIST;
    }
    return count;
}

void tcp_rack_recovery_done(struct tern_rack *r)
{
    /* Step 4: "Reset the window after 16 DSACK-free recoveries". */
    if (r->reo_wnd_persist > 0 && --r->reo_wnd_persist == 0)
        r->reo_wnd_mult = 1;
}

uint64_t tcp_rack_reo_wnd(const struct tern_rack *r, uint64_t srtt_us, bool in_recovery,
                           uint32_t segs_sacked, uint32_t dupthresh)
{
    if (!r->reordering_seen && (in_recovery || segs_sacked >= dupthresh))
        return 0;
    uint64_t w = (uint64_t)r->reo_wnd_mult * r->min_rtt / 4;
    return srtt_us && w > srtt_us ? srtt_us : w;
}

uint64_t tcp_rack_detect_loss(struct tern_rack *r, uint64_t now, uint64_t reo_wnd,
                               uint32_t *newly_lost)
{
    uint64_t timeout = 0;
    uint32_t lost = 0;
    r->reo_wnd = reo_wnd;
    for (uint32_t i = 0; r->have_xmit && i < r->n; i++) {
        struct tern_rack_seg *e = at(r, i);
        if (e->flags & (TERN_RACK_SACKED | TERN_RACK_LOST))
            continue;
        if (!sent_after(r->xmit_ts, r->xmit_order, r->end_seq, e->xmit_ts, order_of(e), e->end))
            continue;
        uint64_t deadline = e->xmit_ts + r->rtt + reo_wnd;
        if (deadline <= now) {
            e->flags |= TERN_RACK_LOST;
            lost++;
        } else if (deadline - now > timeout) {
            timeout = deadline - now;
        }
    }
    if (newly_lost)
        *newly_lost = lost;
    return timeout;
}

bool tcp_rack_next_lost(const struct tern_rack *r, uint32_t from, uint32_t max_len,
                         uint32_t *seq, uint32_t *len)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const struct tern_rack_seg *e = at(r, i);
        if (!(e->flags & TERN_RACK_LOST) || tern_seq_leq(e->end, from))
            continue;
        uint32_t s = tern_seq_max(tcp_rack_start(r, i), from);
        uint32_t l = e->end - s;
        *seq = s;
        *len = l < max_len ? l : max_len;
        return *len > 0;
    }
    return false;
}

bool tcp_rack_any_lost(const struct tern_rack *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (at(r, i)->flags & TERN_RACK_LOST)
            return true;
    return false;
}

void tcp_rack_on_rto(struct tern_rack *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        at(r, i)->flags &= ~(uint32_t)(TERN_RACK_SACKED | TERN_RACK_LOST);
    r->tlp_active = false;
}

uint64_t tcp_rack_pto(uint64_t srtt_us, bool one_segment, uint64_t max_ack_delay_us,
                       uint64_t rto_left_us)
{
    uint64_t pto = TERN_RACK_PTO_NO_SRTT;
    if (srtt_us) {
        pto = 2 * srtt_us;
        if (one_segment)
            pto += max_ack_delay_us;
    }
    return pto < rto_left_us ? pto : rto_left_us;
}

void tcp_rack_tlp_sent(struct tern_rack *r, uint32_t snd_nxt, bool is_retrans)
{
    /* s7.3: one probe episode at a time. */
    if (r->tlp_active)
        return;
    r->tlp_active = true;
    r->tlp_is_retrans = is_retrans;
    r->tlp_end_seq = snd_nxt;
}

bool tcp_rack_tlp_on_ack(struct tern_rack *r, uint32_t ack, bool dsack, uint32_t dsack_right,
                          bool dupack_nosack)
{
    if (!r->tlp_active || tern_seq_lt(ack, r->tlp_end_seq))
        return false;
    if (!r->tlp_is_retrans) {
        r->tlp_active = false; /* a probe of new data was delivered */
    } else if (dsack && dsack_right == r->tlp_end_seq) {
        r->tlp_active = false; /* original and probe both arrived */
    } else if (tern_seq_gt(ack, r->tlp_end_seq)) {
        r->tlp_active = false; /* the probe repaired a loss */
        return true;
    } else if (dupack_nosack) {
        r->tlp_active = false; /* assume both delivered */
    }
    return false;
}
