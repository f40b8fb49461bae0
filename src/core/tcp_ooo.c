/*
 * tcp_ooo.c - TCP receive reassembly into the receive ring, the bounded
 * out-of-order range list, and the receiver's SACK / D-SACK blocks.
 * Contract and drop policy: tcp_ooo.h. RFCs: RFC 9293 s3.10.7.4 (trimming
 * to the window, holding later segments: SHLD-31), RFC 2018 s4 and s8 (SACK
 * block order, reneging), RFC 2883 s4 (D-SACK). ATTACKS 32-33.
 * Not: the acceptability test, FIN, ACK timing - the TCP input path.
 *
 * Sequence numbers are compared only with tern_seq_*; every range lies in
 * (RCV.NXT, RCV.NXT + window], far less than 2^31 wide, so the comparisons
 * are exact. Offsets into the ring are (seq - RCV.NXT) modulo 2^32.
 */
#include "core/tcp_ooo.h"

#include <stdlib.h>
#include <string.h>

#include "tern/err.h"
#include "tern/wire/seq.h"

int tcp_ooo_init(struct tern_tcp_ooo *q, struct tern_tcp_ooo_range *storage,
                      uint32_t max_ranges, uint32_t max_bytes)
{
    memset(q, 0, sizeof *q);
    if (max_ranges == 0 || max_ranges > TERN_TCP_OOO_MAX_RANGES || max_bytes > (1u << 30))
        return TERN_E_INVAL;
    if (storage) {
        q->r = storage;
    } else {
        q->r = calloc(max_ranges, sizeof *q->r);
        if (!q->r)
            return TERN_E_NOMEM;
        q->owned = true;
    }
    q->max_ranges = max_ranges;
    q->max_bytes = max_bytes;
    return 0;
}

void tcp_ooo_fini(struct tern_tcp_ooo *q)
{
    if (q->owned)
        free(q->r);
    memset(q, 0, sizeof *q);
}

void tcp_ooo_clear(struct tern_tcp_ooo *q)
{
    q->n = 0;
    q->bytes = 0;
    q->dsack_pending = false;
}

/* RFC 2883 s4 rules 1 and 3: the D-SACK block is the first duplicate
 * contiguous sequence of the most recent duplicate segment; a later
 * duplicate replaces an unreported one. DEVIATION: rule 1 speaks of "the
 * most recent packet"; a segment without duplicates leaves a pending D-SACK
 * alone, so an input path that ACKs once after a batch of segments still
 * reports it (duplicates are ACKed at once in practice, RFC 5681 s4.2). */
static void note_dup(struct tern_tcp_ooo *q, bool *noted, uint32_t left, uint32_t right,
                     struct tern_tcp_ooo_result *res)
{
    res->dup += right - left;
    if (*noted)
        return;
    *noted = true;
    q->dsack.left = left;
    q->dsack.right = right;
    q->dsack_pending = true;
}

/* Index of the first range whose right edge is >= seq (it overlaps or
 * touches [seq, ...) from the left, or lies wholly above). Binary search. */
static uint32_t find_first(const struct tern_tcp_ooo *q, uint32_t seq, uint32_t *work)
{
    uint32_t lo = 0, hi = q->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        (*work)++;
        if (tern_seq_geq(q->r[mid].right, seq))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Pass 1: how far [seq, end) may go with `budget` new bytes. Returns the cut
 * end (== end when the budget suffices) and the new bytes in *newb. */
static uint32_t budget_end(const struct tern_tcp_ooo *q, uint32_t i, uint32_t seq, uint32_t end,
                           uint32_t budget, uint32_t *newb, uint32_t *work)
{
    uint32_t cur = seq, k = i;
    *newb = 0;
    while (tern_seq_lt(cur, end)) {
        (*work)++;
        if (k < q->n && tern_seq_leq(q->r[k].left, cur)) {
            if (tern_seq_gt(q->r[k].right, cur))
                cur = tern_seq_min(q->r[k].right, end);
            k++;
            continue;
        }
        uint32_t gap_end = (k < q->n && tern_seq_lt(q->r[k].left, end)) ? q->r[k].left : end;
        uint32_t g = gap_end - cur;
        if (g > budget) {
            *newb += budget;
            return cur + budget;
        }
        budget -= g;
        *newb += g;
        cur = gap_end;
    }
    return end;
}

int tcp_ooo_input(struct tern_tcp_ooo *q, struct tern_ringbuf *rb, uint32_t rcv_nxt,
                       uint32_t rcv_wnd, uint32_t seq, const void *data, size_t len,
                       struct tern_tcp_ooo_result *res)
{
    memset(res, 0, sizeof *res);
    if (!q || !rb || (len && !data) || len > ((size_t)1 << 30))
        return TERN_E_INVAL;
    q->stats.segs_in++;
    /* Bytes already in place (tcp_in.c): they are this segment's only if
     * it starts at RCV.NXT, and they serve one call. */
    uint32_t placed = seq == rcv_nxt ? q->placed : 0;
    q->placed = 0;
    const uint8_t *p = data;
    uint32_t n = (uint32_t)len;
    bool noted = false;

    /* RFC 9293 s3.10.7.4: bytes below RCV.NXT were received already; they
     * are trimmed and reported as a duplicate (RFC 2883 s4). */
    if (n && tern_seq_lt(seq, rcv_nxt)) {
        uint32_t below = rcv_nxt - seq;
        uint32_t d = below < n ? below : n;
        note_dup(q, &noted, seq, seq + d, res);
        p += d;
        n -= d;
        seq += d;
    }
    if (n == 0)
        goto out;

    /* RFC 9293 s3.10.7.4: "trimming off any portions that lie outside the
     * window". The window is also clipped to the ring's free space so no
     * byte is ever written outside it (ATTACKS 32). */
    uint32_t off = seq - rcv_nxt;
    size_t room = ringbuf_free(rb);
    uint32_t limit = (size_t)rcv_wnd < room ? rcv_wnd : (uint32_t)room;
    if (off >= limit) {
        res->trimmed = n;
        goto out;
    }
    if (n > limit - off) {
        res->trimmed = n - (limit - off);
        n = limit - off;
    }
    uint32_t end = seq + n;
    bool in_order = off == 0;

    /* Pass 1: ranges touched, new bytes, byte cap. In-order data is bounded
     * by the window alone (it becomes readable at once). */
    uint32_t i = find_first(q, seq, &res->work);
    uint32_t budget = in_order ? UINT32_MAX : q->max_bytes - q->bytes;
    uint32_t newb;
    uint32_t end2 = budget_end(q, i, seq, end, budget, &newb, &res->work);
    uint32_t j = i;
    while (j < q->n && tern_seq_leq(q->r[j].left, end2)) {
        j++;
        res->work++;
    }
    if (end2 == seq) { /* byte budget exhausted at the first new byte */
        res->dropped = n;
        q->stats.cap_bytes_dropped += n;
        goto out;
    }
    if (i == j && !in_order && q->n >= q->max_ranges) {
        /* ATTACKS 33: no range free and the segment touches none: drop it
         * rather than renege on parked (possibly SACKed) data. */
        res->dropped = n;
        q->stats.cap_range_drops++;
        q->stats.cap_bytes_dropped += n;
        goto out;
    }
    /* Chunks for the bytes to be written (ringbuf.h). In-order data lies
     * in the window we offered and is taken even over the memory budget
     * (RFC 9293 s3.8.6: an offered window is not taken back); out-of-order
     * data only while the budget allows (cfg.tcp_mem_high: so many
     * connections parking data cannot take more than the budget). */
    if (!ringbuf_reserve(rb, off, end2 - seq, in_order ? RING_MUST : RING_OPT)) {
        res->dropped = n;
        res->nomem = end2 - seq;
        q->stats.nomem_bytes_dropped += end2 - seq;
        q->stats.cap_bytes_dropped += end - end2;
        goto out;
    }
    res->dropped = end - end2;
    q->stats.cap_bytes_dropped += end - end2;

    /* Pass 2: copy the gaps into the ring at (seq - RCV.NXT); bytes already
     * parked are kept as first received and the newcomer's are counted as
     * duplicates. */
    uint32_t held = 0;
    uint32_t cur = seq, k = i;
    while (tern_seq_lt(cur, end2)) {
        res->work++;
        if (k < j && tern_seq_leq(q->r[k].left, cur)) {
            if (tern_seq_gt(q->r[k].right, cur)) {
                uint32_t dend = tern_seq_min(q->r[k].right, end2);
                note_dup(q, &noted, cur, dend, res);
                cur = dend;
            }
            k++;
            continue;
        }
        uint32_t gap_end = (k < j && tern_seq_lt(q->r[k].left, end2)) ? q->r[k].left : end2;
        uint32_t from = cur;
        if (placed && cur == rcv_nxt) /* already in place (tcp_in.c) */
            from = tern_seq_min(gap_end, rcv_nxt + placed);
        if (tern_seq_lt(from, gap_end))
            ringbuf_write_at(rb, from - rcv_nxt, p + (from - seq), gap_end - from);
        cur = gap_end;
    }
    for (k = i; k < j; k++)
        held += q->r[k].right - q->r[k].left;

    /* Merge [seq, end2) with the ranges it touches into one. */
    uint32_t left = (i < j && tern_seq_lt(q->r[i].left, seq)) ? q->r[i].left : seq;
    uint32_t right = (i < j && tern_seq_gt(q->r[j - 1].right, end2)) ? q->r[j - 1].right : end2;
    if (in_order) {
        /* The hole at RCV.NXT is filled: everything up to `right` is now
         * contiguous and readable. i == 0 here (no range starts at or below
         * RCV.NXT). */
        res->advanced = right - rcv_nxt;
        ringbuf_commit(rb, res->advanced);
        q->bytes -= held;
        memmove(q->r, q->r + j, (q->n - j) * sizeof *q->r);
        res->work += q->n - j;
        q->n -= j;
        q->stats.bytes_in_order += res->advanced - held;
    } else {
        if (i == j) { /* a new range at i */
            memmove(q->r + i + 1, q->r + i, (q->n - i) * sizeof *q->r);
            res->work += q->n - i;
            q->n++;
        } else if (j - i > 1) { /* ranges i..j-1 collapse into one */
            memmove(q->r + i + 1, q->r + j, (q->n - j) * sizeof *q->r);
            res->work += q->n - j;
            q->n -= j - i - 1;
        }
        q->r[i].left = left;
        q->r[i].right = right;
        q->r[i].stamp = ++q->clock; /* RFC 2018 s4: newest first */
        q->bytes += newb;
        res->queued = newb;
        q->stats.bytes_queued += newb;
    }
out:
    if (q->n == 0 && ringbuf_parked(rb)) /* nothing parked: hold no chunk past the data */
        ringbuf_trim(rb, 0);
    q->stats.dup_bytes += res->dup;
    q->stats.trimmed_bytes += res->trimmed;
    return 0;
}

int tcp_ooo_sack_blocks(struct tern_tcp_ooo *q, struct tern_tcp_sack_block *out, int max)
{
    int k = 0;
    uint32_t skip = UINT32_MAX;
    if (max <= 0)
        return 0;
    /* RFC 2883 s4: the D-SACK block goes first; rule 4: if it lies inside a
     * block held above RCV.NXT, that block comes second. Reported once. */
    if (q->dsack_pending) {
        out[k++] = q->dsack;
        q->dsack_pending = false;
        for (uint32_t x = 0; x < q->n && k < max; x++) {
            if (tern_seq_leq(q->r[x].left, q->dsack.left) &&
                tern_seq_leq(q->dsack.right, q->r[x].right)) {
                out[k].left = q->r[x].left;
                out[k].right = q->r[x].right;
                k++;
                skip = x;
                break;
            }
        }
    }
    /* RFC 2018 s4: the block holding the most recent segment first, then
     * the most recently reported others: descending arrival stamps (stamps
     * are unique, so this visits each range at most once). */
    uint64_t prev = UINT64_MAX;
    while (k < max) {
        uint32_t best = UINT32_MAX;
        for (uint32_t x = 0; x < q->n; x++) {
            if (x == skip || q->r[x].stamp >= prev)
                continue;
            if (best == UINT32_MAX || q->r[x].stamp > q->r[best].stamp)
                best = x;
        }
        if (best == UINT32_MAX)
            break;
        out[k].left = q->r[best].left;
        out[k].right = q->r[best].right;
        k++;
        prev = q->r[best].stamp;
    }
    return k;
}
