/*
 * Tests for src/core/tcp_ooo.c: reassembly into the receive ring, caps
 * (ATTACKS 32, 33), first-received-wins overlaps, SACK block order from the
 * RFC 2018 s6 examples and D-SACK from the RFC 2883 s4 rules and examples.
 * The expected numbers are the RFC tables, copied by hand.
 */
#include "harness.h"

#include <stdlib.h>

#include "core/ringbuf.h"
#include "core/tcp_ooo.h"
#include "tern/err.h"
#include "tern/wire/seq.h"

/* The byte the sender puts at sequence number s (any fixed function). */
static uint8_t sbyte(uint32_t s) { return (uint8_t)(s * 131u + (s >> 8) * 7u + 3u); }

static void fill(uint8_t *p, uint32_t seq, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        p[i] = sbyte(seq + i);
}

/* A receiver: ring + queue + RCV.NXT. */
struct rx {
    struct tern_ring_pool pool;
    struct tern_ringbuf rb;
    struct tern_tcp_ooo q;
    uint32_t rcv_nxt;
    uint32_t max_work;
};

static int rx_init(struct rx *x, size_t ring, uint32_t max_ranges, uint32_t max_bytes,
                   uint32_t isn)
{
    memset(x, 0, sizeof *x);
    ring_pool_init(&x->pool);
    if (ringbuf_init(&x->rb, &x->pool, ring))
        return -1;
    if (tcp_ooo_init(&x->q, NULL, max_ranges, max_bytes))
        return -1;
    x->rcv_nxt = isn;
    return 0;
}

static void rx_fini(struct rx *x)
{
    tcp_ooo_fini(&x->q);
    ringbuf_fini(&x->rb);
    ring_pool_fini(&x->pool);
}

/* Feeds [seq, seq+n) of the sender's stream with window = ring free. */
static struct tern_tcp_ooo_result rx_seg_w(struct rx *x, uint32_t seq, uint32_t n, uint32_t wnd)
{
    static uint8_t buf[70000];
    struct tern_tcp_ooo_result res;
    fill(buf, seq, n);
    int rc = tcp_ooo_input(&x->q, &x->rb, x->rcv_nxt, wnd, seq, buf, n, &res);
    CHECK_EQ(rc, 0);
    x->rcv_nxt += res.advanced;
    if (res.work > x->max_work)
        x->max_work = res.work;
    return res;
}

static struct tern_tcp_ooo_result rx_seg(struct rx *x, uint32_t seq, uint32_t n)
{
    return rx_seg_w(x, seq, n, (uint32_t)ringbuf_free(&x->rb));
}

/* Reads everything readable and checks it is the stream from `from`. */
static uint32_t rx_drain_check(struct rx *x, uint32_t from)
{
    uint8_t out[4096], exp[4096];
    uint32_t total = 0;
    size_t n;
    while ((n = ringbuf_read(&x->rb, out, sizeof out)) > 0) {
        fill(exp, from + total, (uint32_t)n);
        CHECK_MEM(out, exp, n);
        total += (uint32_t)n;
    }
    return total;
}

/* Invariants: sorted, disjoint, non-adjacent, above RCV.NXT, bytes sum. */
static void check_inv(const struct rx *x)
{
    uint32_t sum = 0;
    const struct tern_tcp_ooo *q = &x->q;
    CHECK(q->n <= q->max_ranges);
    CHECK(q->bytes <= q->max_bytes);
    for (uint32_t k = 0; k < q->n; k++) {
        CHECK(tern_seq_lt(q->r[k].left, q->r[k].right));
        CHECK(tern_seq_gt(q->r[k].left, x->rcv_nxt));
        if (k)
            CHECK(tern_seq_gt(q->r[k].left, q->r[k - 1].right));
        sum += q->r[k].right - q->r[k].left;
    }
    CHECK_EQ(sum, q->bytes);
}

/* Every parked byte in the ring's free area is the sender's byte. */
static void check_parked(const struct rx *x)
{
    for (uint32_t k = 0; k < x->q.n; k++)
        for (uint32_t s = x->q.r[k].left; s != x->q.r[k].right; s++) {
            size_t off = (size_t)(s - x->rcv_nxt);
            size_t idx = (x->rb.head + x->rb.len + off) %
                         ((size_t)x->rb.nslot * TERN_RING_CHUNK);
            const uint8_t *c = x->rb.tab ? x->rb.tab[idx / TERN_RING_CHUNK] : NULL;
            if (!c || c[idx % TERN_RING_CHUNK] != sbyte(s)) {
                test_fail(__FILE__, __LINE__, "parked byte at seq %u (range %u) wrong", s, k);
                return;
            }
        }
}

TEST(tcp_ooo_in_order)
{
    struct rx x;
    REQUIRE_EQ(rx_init(&x, 4096, 32, 4096, 1000), 0);
    struct tern_tcp_ooo_result r = rx_seg(&x, 1000, 100);
    CHECK_EQ(r.advanced, 100);
    r = rx_seg(&x, 1100, 50);
    CHECK_EQ(r.advanced, 50);
    CHECK_EQ(x.rcv_nxt, 1150);
    CHECK_EQ(rx_drain_check(&x, 1000), 150);
    struct tern_tcp_sack_block b[4];
    CHECK_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 0);
    rx_fini(&x);
}

TEST(tcp_ooo_holes_fill_in_order)
{
    struct rx x;
    REQUIRE_EQ(rx_init(&x, 4096, 32, 4096, 0xfffffe00u), 0); /* straddles 2^32 */
    uint32_t b = 0xfffffe00u;
    struct tern_tcp_ooo_result r = rx_seg(&x, b + 1000, 500);
    CHECK_EQ(r.advanced, 0);
    CHECK_EQ(r.queued, 500);
    r = rx_seg(&x, b + 300, 200);
    CHECK_EQ(r.queued, 200);
    CHECK_EQ(tcp_ooo_ranges(&x.q), 2);
    check_inv(&x);
    r = rx_seg(&x, b, 300); /* fills [b, b+300) and joins [b+300, b+500) */
    CHECK_EQ(r.advanced, 500);
    CHECK_EQ(tcp_ooo_ranges(&x.q), 1);
    CHECK_EQ(tcp_ooo_bytes(&x.q), 500);
    r = rx_seg(&x, b + 500, 500); /* joins the rest */
    CHECK_EQ(r.advanced, 1000);
    CHECK_EQ(x.rcv_nxt, b + 1500);
    CHECK_EQ(tcp_ooo_ranges(&x.q), 0);
    CHECK_EQ(tcp_ooo_bytes(&x.q), 0);
    CHECK_EQ(rx_drain_check(&x, b), 1500);
    rx_fini(&x);
}

/* First-received bytes win: a later overlapping segment carrying different
 * bytes does not rewrite parked data. */
TEST(tcp_ooo_overlap_keeps_first_received)
{
    struct rx x;
    REQUIRE_EQ(rx_init(&x, 256, 8, 256, 0), 0);
    struct tern_tcp_ooo_result r;
    uint8_t a[10], bb[20];
    memset(a, 'a', sizeof a);
    memset(bb, 'b', sizeof bb);
    CHECK_EQ(tcp_ooo_input(&x.q, &x.rb, 0, 256, 10, a, 10, &r), 0);
    CHECK_EQ(r.queued, 10);
    CHECK_EQ(tcp_ooo_input(&x.q, &x.rb, 0, 256, 5, bb, 20, &r), 0);
    CHECK_EQ(r.queued, 10); /* [5,10) and [20,25) */
    CHECK_EQ(r.dup, 10);
    uint8_t z[5];
    memset(z, 'z', sizeof z);
    CHECK_EQ(tcp_ooo_input(&x.q, &x.rb, 0, 256, 0, z, 5, &r), 0);
    CHECK_EQ(r.advanced, 25);
    uint8_t out[25];
    CHECK_EQ(ringbuf_read(&x.rb, out, 25), 25);
    CHECK_MEM(out, "zzzzzbbbbbaaaaaaaaaabbbbb", 25);
    rx_fini(&x);
}

/* Random cuts of a stream (overlapping, duplicated), delivered in random
 * order, resent until all is in (the sender retransmitting what the caps
 * dropped), with the application reading as it goes: byte-exact. */
static void permutation_run(uint32_t isn, uint32_t total, uint32_t max_ranges, uint32_t max_bytes)
{
    struct rx x;
    REQUIRE_EQ(rx_init(&x, 3000, max_ranges, max_bytes, isn), 0);
    enum { NSEG = 600 };
    static uint32_t sseq[NSEG], slen[NSEG];
    uint32_t nseg = 0, pos = 0;
    while (pos < total && nseg < NSEG) {
        uint32_t len = 1 + (uint32_t)(test_rand() % 120);
        uint32_t back = (uint32_t)(test_rand() % 4) == 0 ? (uint32_t)(test_rand() % 40) : 0;
        uint32_t st = pos > back ? pos - back : 0;
        if (st + len > total)
            len = total - st;
        sseq[nseg] = isn + st;
        slen[nseg] = len;
        nseg++;
        pos = st + len > pos ? st + len : pos;
        if (test_rand() % 8 == 0 && nseg < NSEG) { /* a duplicate */
            sseq[nseg] = sseq[nseg - 1];
            slen[nseg] = slen[nseg - 1];
            nseg++;
        }
    }
    REQUIRE(pos == total);
    uint32_t read = 0;
    for (int round = 0; round < 200 && read < total; round++) {
        for (uint32_t k = nseg; k > 1; k--) { /* Fisher-Yates */
            uint32_t z = (uint32_t)(test_rand() % k);
            uint32_t t = sseq[k - 1]; sseq[k - 1] = sseq[z]; sseq[z] = t;
            t = slen[k - 1]; slen[k - 1] = slen[z]; slen[z] = t;
        }
        for (uint32_t k = 0; k < nseg; k++) {
            rx_seg(&x, sseq[k], slen[k]);
            check_inv(&x);
            check_parked(&x);
            if (test_rand() % 3 == 0)
                read += rx_drain_check(&x, isn + read);
        }
        read += rx_drain_check(&x, isn + read);
    }
    CHECK_EQ(read, total);
    CHECK_EQ(x.rcv_nxt, isn + total);
    CHECK_EQ(tcp_ooo_ranges(&x.q), 0);
    rx_fini(&x);
}

TEST(tcp_ooo_random_permutations_reassemble)
{
    for (int t = 0; t < 20; t++) {
        uint32_t isn = (uint32_t)test_rand();
        if (t % 4 == 0)
            isn = 0xffffffffu - (uint32_t)(test_rand() % 5000); /* across the wrap */
        permutation_run(isn, 2000 + (uint32_t)(test_rand() % 8000), 32, 2048);
        permutation_run(isn, 3000, 4, 300); /* tight caps force drops */
    }
}

/* ATTACKS 32: data beyond RCV.NXT + RCV.WND is trimmed and never written. */
TEST(attack_32_beyond_window_trimmed_never_buffered)
{
    struct rx x;
    memset(&x, 0, sizeof x);
    ring_pool_init(&x.pool);
    REQUIRE_EQ(ringbuf_init(&x.rb, &x.pool, 1000), 0);
    /* One chunk holds the whole 1000-byte ring: take it now and mark it. */
    REQUIRE(ringbuf_reserve(&x.rb, 0, 1000, RING_MUST));
    REQUIRE_EQ(ringbuf_chunks(&x.rb), 1);
    uint8_t *st = x.rb.tab[0];
    memset(st, 0xaa, 1000);
    REQUIRE_EQ(tcp_ooo_init(&x.q, NULL, 32, 1000), 0);
    x.rcv_nxt = 5000;
    /* wholly beyond a 100-byte window */
    struct tern_tcp_ooo_result r = rx_seg_w(&x, 5100, 50, 100);
    CHECK_EQ(r.trimmed, 50);
    CHECK_EQ(r.queued, 0);
    CHECK_EQ(tcp_ooo_bytes(&x.q), 0);
    /* straddling the right edge: only [5080, 5100) is kept */
    r = rx_seg_w(&x, 5080, 60, 100);
    CHECK_EQ(r.trimmed, 40);
    CHECK_EQ(r.queued, 20);
    CHECK_EQ(x.q.r[0].right, 5100);
    /* in order, longer than the window */
    r = rx_seg_w(&x, 5000, 300, 100);
    CHECK_EQ(r.advanced, 100);
    CHECK_EQ(r.trimmed, 200);
    /* zero window: nothing at all */
    r = rx_seg_w(&x, x.rcv_nxt, 10, 0);
    CHECK_EQ(r.trimmed, 10);
    CHECK_EQ(r.advanced, 0);
    /* a window larger than the ring is clipped to the ring's free space */
    r = rx_seg_w(&x, x.rcv_nxt + 850, 200, 1u << 20);
    CHECK_EQ(r.queued, 50);
    CHECK_EQ(r.trimmed, 150);
    /* no byte beyond 100 (the window) + the last 50 was ever written */
    for (int i = 100; i < 950; i++)
        if (st[i] != 0xaa) {
            CHECK(st[i] == 0xaa);
            break;
        }
    CHECK_EQ(rx_drain_check(&x, 5000), 100);
    rx_fini(&x);
}

/* ATTACKS 33: 10,000 one-byte segments at every other offset, in three
 * orders. Parked bytes <= max_bytes, ranges <= max_ranges, and each
 * segment's work bounded by a constant of the caps (not growing with the
 * number of segments sent). */
static void attack33(int order, uint32_t max_ranges, uint32_t max_bytes)
{
    struct rx x;
    enum { N = 10000 };
    REQUIRE_EQ(rx_init(&x, 32768, max_ranges, max_bytes, 7), 0);
    static uint32_t offs[N];
    for (uint32_t k = 0; k < N; k++)
        offs[k] = 1 + 2 * k; /* 1, 3, 5, ... */
    if (order == 1)
        for (uint32_t k = 0; k < N / 2; k++) {
            uint32_t t = offs[k]; offs[k] = offs[N - 1 - k]; offs[N - 1 - k] = t;
        }
    if (order == 2)
        for (uint32_t k = N; k > 1; k--) {
            uint32_t z = (uint32_t)(test_rand() % k);
            uint32_t t = offs[k - 1]; offs[k - 1] = offs[z]; offs[z] = t;
        }
    /* log2(cap) + 1 search steps, <= 2 * touched + 1 per walk, 3 walks, one
     * memmove over all ranges */
    uint32_t bound = 12 + 6 * max_ranges;
    uint32_t first_half_max = 0;
    for (uint32_t k = 0; k < N; k++) {
        struct tern_tcp_ooo_result r = rx_seg(&x, 7 + offs[k], 1);
        CHECK(r.work <= bound);
        if (k == N / 2)
            first_half_max = x.max_work;
        CHECK(tcp_ooo_bytes(&x.q) <= max_bytes);
        CHECK(tcp_ooo_ranges(&x.q) <= max_ranges);
        if (test_failed_now())
            break;
    }
    check_inv(&x);
    CHECK(x.max_work <= bound);
    CHECK(x.max_work <= first_half_max + 2 * max_ranges); /* no growth with N */
    CHECK(x.q.stats.cap_range_drops + x.q.stats.cap_bytes_dropped > 0);
    /* The in-order segment is always accepted: the whole stream arrives. */
    struct tern_tcp_ooo_result r = rx_seg(&x, 7, 2 * N + 1);
    CHECK_EQ(r.advanced, 2 * N + 1);
    CHECK_EQ(tcp_ooo_ranges(&x.q), 0);
    CHECK_EQ(rx_drain_check(&x, 7), 2 * N + 1);
    rx_fini(&x);
}

TEST(attack_33_one_byte_every_other_offset_capped)
{
    for (int order = 0; order < 3; order++) {
        attack33(order, 32, 65536); /* the range cap binds */
        attack33(order, 32, 16);    /* the byte cap binds */
        attack33(order, 1024, 100000);
    }
}

/* RFC 2018 s6, "Case 3": 500-byte segments from 5000; the 2nd, 4th, 6th and
 * 8th are dropped; then the 4th arrives, then the 2nd. Tables copied from
 * the RFC; we add a 9th segment (9000) to show the recency order and the
 * 3-block limit. */
TEST(tcp_ooo_sack_blocks_rfc2018_case3)
{
    struct rx x;
    REQUIRE_EQ(rx_init(&x, 8192, 32, 8192, 5000), 0);
    struct tern_tcp_sack_block b[4];
    rx_seg(&x, 5000, 500);
    CHECK_EQ(x.rcv_nxt, 5500);
    CHECK_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 0);
    rx_seg(&x, 6000, 500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 1);
    CHECK(b[0].left == 6000 && b[0].right == 6500);
    rx_seg(&x, 7000, 500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 2);
    CHECK(b[0].left == 7000 && b[0].right == 7500);
    CHECK(b[1].left == 6000 && b[1].right == 6500);
    rx_seg(&x, 8000, 500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 3);
    CHECK(b[0].left == 8000 && b[0].right == 8500);
    CHECK(b[1].left == 7000 && b[1].right == 7500);
    CHECK(b[2].left == 6000 && b[2].right == 6500);
    /* only 3 fit beside timestamps: the oldest report is the one left out */
    rx_seg(&x, 9000, 500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 3), 3);
    CHECK(b[0].left == 9000 && b[2].left == 7000);
    /* the 4th segment (6500) arrives out of order */
    rx_seg(&x, 6500, 500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 2), 2);
    CHECK(b[0].left == 6000 && b[0].right == 7500);
    CHECK(b[1].left == 9000 && b[1].right == 9500);
    /* the 2nd segment (5500) arrives: ACK 7500 */
    struct tern_tcp_ooo_result r = rx_seg(&x, 5500, 500);
    CHECK_EQ(r.advanced, 2000);
    CHECK_EQ(x.rcv_nxt, 7500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 2);
    CHECK(b[0].left == 9000 && b[0].right == 9500);
    CHECK(b[1].left == 8000 && b[1].right == 8500);
    rx_fini(&x);
}

/* RFC 2883 s4 example of ACK loss: 3000-3499 and 3500-3999 arrive, their
 * ACKs are lost, 3000-3499 is retransmitted: "4000, SACK=3000-3500". */
TEST(tcp_ooo_dsack_below_rcv_nxt)
{
    struct rx x;
    REQUIRE_EQ(rx_init(&x, 8192, 32, 8192, 3000), 0);
    struct tern_tcp_sack_block b[4];
    rx_seg(&x, 3000, 500);
    rx_seg(&x, 3500, 500);
    CHECK_EQ(x.rcv_nxt, 4000);
    struct tern_tcp_ooo_result r = rx_seg(&x, 3000, 500);
    CHECK_EQ(r.dup, 500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 1);
    CHECK(b[0].left == 3000 && b[0].right == 3500);
    /* rule 2: reported once */
    CHECK_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 0);
    /* a duplicate with out-of-order data held: D-SACK first, then the rest */
    rx_seg(&x, 4500, 500);
    rx_seg(&x, 3500, 500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 2);
    CHECK(b[0].left == 3500 && b[0].right == 4000);
    CHECK(b[1].left == 4500 && b[1].right == 5000);
    rx_fini(&x);
}

/* RFC 2883 s4 example of a packet replicated by the network: 4000-4499
 * lost, 4500-4999 arrives twice, then 5000-5499:
 *   4000, SACK=4500-5000
 *   4000, SACK=4500-5000, 4500-5000   (D-SACK, then its block: rule 4)
 *   4000, SACK=4500-5500 */
TEST(tcp_ooo_dsack_inside_held_range)
{
    struct rx x;
    REQUIRE_EQ(rx_init(&x, 8192, 32, 8192, 3000), 0);
    struct tern_tcp_sack_block b[4];
    rx_seg(&x, 3000, 500);
    rx_seg(&x, 3500, 500);
    rx_seg(&x, 4500, 500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 1);
    CHECK(b[0].left == 4500 && b[0].right == 5000);
    struct tern_tcp_ooo_result r = rx_seg(&x, 4500, 500);
    CHECK_EQ(r.dup, 500);
    CHECK_EQ(r.queued, 0);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 2);
    CHECK(b[0].left == 4500 && b[0].right == 5000);
    CHECK(b[1].left == 4500 && b[1].right == 5000);
    rx_seg(&x, 5000, 500);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 1);
    CHECK(b[0].left == 4500 && b[0].right == 5500);
    /* a partial duplicate: [5200, 5500) is held, [5500, 5600) is new; the
     * D-SACK names the duplicate part only (rule 3), the second block the
     * larger range now holding it */
    r = rx_seg(&x, 5200, 400);
    CHECK_EQ(r.dup, 300);
    CHECK_EQ(r.queued, 100);
    REQUIRE_EQ(tcp_ooo_sack_blocks(&x.q, b, 4), 2);
    CHECK(b[0].left == 5200 && b[0].right == 5500);
    CHECK(b[1].left == 4500 && b[1].right == 5600);
    rx_fini(&x);
}

TEST(tcp_ooo_init_errors)
{
    struct tern_tcp_ooo q;
    struct tern_tcp_ooo_range st[4];
    CHECK_EQ(tcp_ooo_init(&q, NULL, 0, 100), TERN_E_INVAL);
    CHECK_EQ(tcp_ooo_init(&q, NULL, TERN_TCP_OOO_MAX_RANGES + 1, 100), TERN_E_INVAL);
    REQUIRE_EQ(tcp_ooo_init(&q, st, 4, 100), 0);
    CHECK(!q.owned);
    struct tern_ring_pool pool;
    ring_pool_init(&pool);
    struct tern_ringbuf rb;
    REQUIRE_EQ(ringbuf_init(&rb, &pool, 16), 0);
    struct tern_tcp_ooo_result r;
    CHECK_EQ(tcp_ooo_input(&q, &rb, 0, 16, 0, NULL, 5, &r), TERN_E_INVAL);
    CHECK_EQ(tcp_ooo_input(&q, &rb, 0, 16, 0, NULL, 0, &r), 0);
    tcp_ooo_fini(&q);
    ringbuf_fini(&rb);
    ring_pool_fini(&pool);
}
