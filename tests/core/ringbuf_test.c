/*
 * Tests for src/core/ringbuf.c: init errors, chunk boundaries, chunks
 * taken on demand and given back as the ring drains, the pool's budget
 * classes and reclaim, spans across chunks, and long random operation
 * sequences checked against a reference model (a flat array FIFO with
 * memmove, obviously correct and slow), with the pool's count checked
 * against the chunks the rings hold.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "core/ringbuf.h"
#include "tern/err.h"

#define CH TERN_RING_CHUNK

TEST(ringbuf_init_errors)
{
    struct tern_ring_pool pool;
    ring_pool_init(&pool);
    struct tern_ringbuf rb;
    CHECK_EQ(ringbuf_init(&rb, &pool, 0), TERN_E_INVAL);
    CHECK_EQ(ringbuf_init(&rb, &pool, TERN_RINGBUF_MAX + 1), TERN_E_INVAL);
    CHECK_EQ(ringbuf_init(&rb, NULL, 100), TERN_E_INVAL);
    REQUIRE_EQ(ringbuf_init(&rb, &pool, 100), 0);
    CHECK_EQ(ringbuf_cap(&rb), 100);
    CHECK_EQ(ringbuf_free(&rb), 100);
    CHECK_EQ(ringbuf_chunks(&rb), 0); /* nothing until data comes */
    CHECK_EQ(pool.used, 0);
    ringbuf_fini(&rb);
    CHECK_EQ(rb.cap, 0);
    ring_pool_fini(&pool);
}

/* Chunks come with data and go back as it is consumed; an empty ring holds
 * none, not even its slot table. */
TEST(ringbuf_chunks_on_demand)
{
    struct tern_ring_pool pool;
    ring_pool_init(&pool);
    struct tern_ringbuf rb;
    REQUIRE_EQ(ringbuf_init(&rb, &pool, 4 * CH), 0);
    static uint8_t in[4 * CH], out[4 * CH];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 + 3);
    CHECK_EQ(ringbuf_write(&rb, in, 10), 10);
    CHECK_EQ(ringbuf_chunks(&rb), 1);
    CHECK_EQ(pool.used, CH);
    CHECK(rb.tab != NULL);
    /* 2.5 chunks more: 3 chunks in all (10 + 2.5 CH bytes) */
    CHECK_EQ(ringbuf_write(&rb, in + 10, CH * 5 / 2), CH * 5 / 2);
    CHECK_EQ(ringbuf_chunks(&rb), 3);
    CHECK_EQ(pool.used, 3 * CH);
    /* consuming the first chunk's bytes gives it back */
    CHECK_EQ(ringbuf_read(&rb, out, CH), CH);
    CHECK_MEM(out, in, CH);
    CHECK_EQ(ringbuf_chunks(&rb), 2);
    CHECK_EQ(pool.used, 2 * CH);
    /* the rest, across the chunk boundaries */
    size_t left = ringbuf_len(&rb);
    CHECK_EQ(ringbuf_read(&rb, out, sizeof out), left);
    CHECK_MEM(out, in + CH, left);
    CHECK_EQ(ringbuf_chunks(&rb), 0);
    CHECK(rb.tab == NULL);
    CHECK_EQ(pool.used, 0);
    CHECK_EQ(pool.tab_bytes, 0);
    /* bytes placed in the free area for a segment that was then dropped
     * (free_spans, never committed) do not keep a chunk once the ring
     * drains */
    struct tern_ringbuf_span sp[TERN_RINGBUF_SPANS];
    CHECK_EQ(ringbuf_write(&rb, in, 3), 3);
    CHECK(ringbuf_free_spans(&rb, 0, 100, sp, TERN_RINGBUF_SPANS, RING_MUST) == 1);
    CHECK_EQ(ringbuf_read(&rb, out, 3), 3);
    CHECK_EQ(ringbuf_chunks(&rb), 0);
    CHECK_EQ(pool.used, 0);
    /* the chunks went back to the pool, not to the allocator */
    CHECK_EQ(pool.nfree, pool.nslabs * TERN_RING_SLAB_CHUNKS);
    CHECK_EQ(pool.nslabs, 1);
    ringbuf_fini(&rb);
    ring_pool_fini(&pool);
}

/* A byte parked far ahead costs one chunk, not the span before it; trim
 * gives it back. */
TEST(ringbuf_parked_sparse_and_trim)
{
    struct tern_ring_pool pool;
    ring_pool_init(&pool);
    struct tern_ringbuf rb;
    REQUIRE_EQ(ringbuf_init(&rb, &pool, 16 * CH), 0);
    CHECK_EQ(ringbuf_write_at(&rb, 10 * CH + 5, "Z", 1), 1);
    CHECK_EQ(ringbuf_chunks(&rb), 1);
    CHECK(ringbuf_parked(&rb));
    CHECK_EQ(pool.nparked, 1);
    CHECK_EQ(ringbuf_write_at(&rb, 0, "abc", 3), 3);
    CHECK_EQ(ringbuf_chunks(&rb), 2);
    CHECK_EQ(ringbuf_commit(&rb, 16 * CH), 0); /* more than free */
    CHECK_EQ(ringbuf_commit(&rb, 3), 3);
    CHECK(ringbuf_parked(&rb)); /* "Z" still is */
    ringbuf_trim(&rb, 0);
    CHECK(!ringbuf_parked(&rb));
    CHECK_EQ(pool.nparked, 0);
    CHECK_EQ(ringbuf_chunks(&rb), 1);
    uint8_t out[4];
    CHECK_EQ(ringbuf_read(&rb, out, 4), 3);
    CHECK_MEM(out, "abc", 3);
    CHECK_EQ(ringbuf_chunks(&rb), 0);
    CHECK_EQ(pool.used, 0);
    ringbuf_fini(&rb);
    ring_pool_fini(&pool);
}

static int reclaims;
static struct tern_ringbuf *victim;

static void test_reclaim(void *ctx, struct tern_ringbuf *except)
{
    (void)ctx;
    reclaims++;
    if (victim && victim != except)
        ringbuf_trim(victim, 0);
}

/* The budget: RING_OPT fails beyond max without reclaiming; RING_WANT
 * reclaims, then fails; RING_MUST reclaims, then goes beyond. */
TEST(ringbuf_pool_budget_classes)
{
    struct tern_ring_pool pool;
    ring_pool_init(&pool);
    pool.max = 2 * CH;
    pool.reclaim = test_reclaim;
    reclaims = 0;
    victim = NULL;
    struct tern_ringbuf a, b;
    REQUIRE_EQ(ringbuf_init(&a, &pool, 8 * CH), 0);
    REQUIRE_EQ(ringbuf_init(&b, &pool, 8 * CH), 0);
    static uint8_t buf[8 * CH];
    memset(buf, 'x', sizeof buf);
    /* a parks two chunks of out-of-order bytes: the whole budget */
    CHECK_EQ(ringbuf_write_at(&a, 3 * CH, buf, 2 * CH), 2 * CH);
    CHECK_EQ(pool.used, 2 * CH);
    /* b: out-of-order bytes are refused, nothing reclaimed */
    CHECK(!ringbuf_reserve(&b, CH, 10, RING_OPT));
    CHECK_EQ(reclaims, 0);
    CHECK_EQ(ringbuf_chunks(&b), 0);
    CHECK(pool.refused > 0);
    /* b: a write reclaims (nothing to reclaim: victim unset) and fails */
    CHECK_EQ(ringbuf_write(&b, buf, 100), 0);
    CHECK_EQ(reclaims, 1);
    CHECK_EQ(ringbuf_chunks(&b), 0);
    CHECK(b.tab == NULL);
    /* with a as the victim, the write reclaims a's parked chunks */
    victim = &a;
    CHECK_EQ(ringbuf_write(&b, buf, 100), 100);
    CHECK_EQ(ringbuf_chunks(&a), 0);
    CHECK_EQ(pool.used, CH);
    /* RING_MUST goes beyond the budget */
    victim = NULL;
    CHECK(ringbuf_reserve(&b, 0, 3 * CH, RING_MUST));
    CHECK_EQ(pool.used, 4 * CH);
    CHECK(pool.peak >= 4 * CH);
    /* writable: the chunks held only, over budget */
    CHECK_EQ(ringbuf_writable(&b), 4 * CH - 100);
    CHECK_EQ(ringbuf_writable(&a), 0);
    ringbuf_fini(&a);
    ringbuf_fini(&b);
    CHECK_EQ(pool.used, 0);
    ring_pool_fini(&pool);
}

/* Spans across chunk boundaries: each ends where its chunk does unless the
 * next chunk follows in memory; `max` clips; free_spans reserve. */
TEST(ringbuf_spans_across_chunks)
{
    struct tern_ring_pool pool;
    ring_pool_init(&pool);
    struct tern_ringbuf rb;
    REQUIRE_EQ(ringbuf_init(&rb, &pool, 8 * CH), 0);
    static uint8_t in[8 * CH];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i ^ (i >> 8));
    CHECK_EQ(ringbuf_write(&rb, in, 3 * CH + 100), 3 * CH + 100);
    struct tern_ringbuf_span sp[TERN_RINGBUF_SPANS];
    /* fresh slab: chunks adjacent in memory, one span */
    int k = ringbuf_spans(&rb, 50, 3 * CH, sp, TERN_RINGBUF_SPANS);
    CHECK_EQ(k, 1);
    CHECK_EQ(sp[0].n, 3 * CH);
    CHECK_MEM(sp[0].p, in + 50, 3 * CH);
    /* break adjacency: swap chunk 1 for one from elsewhere */
    uint8_t *c1 = rb.tab[1];
    uint8_t *other = malloc(CH);
    REQUIRE(other);
    memcpy(other, c1, CH);
    rb.tab[1] = other;
    k = ringbuf_spans(&rb, 50, 3 * CH, sp, TERN_RINGBUF_SPANS);
    CHECK_EQ(k, 3);
    CHECK_EQ(sp[0].n, CH - 50);
    CHECK_EQ(sp[1].n, CH);
    CHECK_EQ(sp[2].n, CH + 50);
    size_t at = 0;
    static uint8_t got[8 * CH];
    for (int i = 0; i < k; i++) {
        memcpy(got + at, sp[i].p, sp[i].n);
        at += sp[i].n;
    }
    CHECK_MEM(got, in + 50, 3 * CH);
    CHECK_EQ(ringbuf_spans(&rb, 50, 3 * CH, sp, 2), 2); /* clipped at max */
    rb.tab[1] = c1;
    free(other);
    /* free spans reserve chunks; nothing becomes readable */
    k = ringbuf_free_spans(&rb, 0, 2 * CH, sp, TERN_RINGBUF_SPANS, RING_WANT);
    CHECK(k >= 1);
    CHECK_EQ(ringbuf_len(&rb), 3 * CH + 100);
    CHECK_EQ(ringbuf_chunks(&rb), 6);
    CHECK_EQ(ringbuf_free_spans(&rb, 5 * CH, 5 * CH, sp, TERN_RINGBUF_SPANS, RING_WANT), 0);
    ringbuf_fini(&rb);
    CHECK_EQ(pool.used, 0);
    ring_pool_fini(&pool);
}

static void rand_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)test_rand();
}

static void run_random(size_t cap, int ops)
{
    struct tern_ring_pool pool;
    ring_pool_init(&pool);
    struct tern_ringbuf rb;
    uint8_t *m = malloc(cap + 1);
    uint8_t *in = malloc(cap + 64), *out = malloc(cap + 64), *ref = malloc(cap + 64);
    size_t mlen = 0;
    REQUIRE(m && in && out && ref);
    REQUIRE_EQ(ringbuf_init(&rb, &pool, cap), 0);
    for (int op = 0; op < ops && !test_failed_now(); op++) {
        /* sizes around chunk boundaries as often as small ones */
        size_t n = test_rand() % 2 ? (size_t)(test_rand() % (cap + 3))
                                   : (size_t)(test_rand() % 40);
        size_t off = (size_t)(test_rand() % (cap + 2));
        switch (test_rand() % 8) {
        case 0: { /* write */
            rand_bytes(in, n);
            size_t want = n < cap - mlen ? n : cap - mlen;
            CHECK_EQ(ringbuf_write(&rb, in, n), want);
            memcpy(m + mlen, in, want);
            mlen += want;
            break;
        }
        case 1: { /* read */
            size_t want = n < mlen ? n : mlen;
            CHECK_EQ(ringbuf_read(&rb, out, n), want);
            CHECK_MEM(out, m, want);
            memmove(m, m + want, mlen - want);
            mlen -= want;
            break;
        }
        case 2: { /* peek */
            size_t want = n < mlen ? n : mlen;
            CHECK_EQ(ringbuf_peek(&rb, out, n), want);
            CHECK_MEM(out, m, want);
            break;
        }
        case 3: { /* peek_at */
            size_t want = off >= mlen ? 0 : (n < mlen - off ? n : mlen - off);
            CHECK_EQ(ringbuf_peek_at(&rb, off, out, n), want);
            if (want)
                CHECK_MEM(out, m + off, want);
            break;
        }
        case 4: { /* consume */
            size_t want = n < mlen ? n : mlen;
            CHECK_EQ(ringbuf_consume(&rb, n), want);
            memmove(m, m + want, mlen - want);
            mlen -= want;
            break;
        }
        case 5: { /* write_at then commit a prefix */
            size_t room = cap - mlen;
            rand_bytes(in, n);
            bool fits = n && off <= room && n <= room - off;
            CHECK_EQ(ringbuf_write_at(&rb, off, in, n), fits ? n : 0);
            if (fits && off == 0) {
                size_t c = (size_t)(test_rand() % (n + 1));
                CHECK_EQ(ringbuf_commit(&rb, c), c);
                memcpy(m + mlen, in, c);
                mlen += c;
            }
            break;
        }
        case 6: /* forget parked bytes */
            ringbuf_trim(&rb, off);
            break;
        default: { /* spans reassemble to the model */
            struct tern_ringbuf_span sp[64];
            int k = ringbuf_spans(&rb, off, n, sp, 64);
            size_t want = off >= mlen ? 0 : (n < mlen - off ? n : mlen - off);
            size_t got = 0;
            for (int s = 0; s < k; s++) {
                memcpy(ref + got, sp[s].p, sp[s].n);
                got += sp[s].n;
            }
            if (want / CH + 2 <= 64)
                CHECK_EQ(got, want);
            if (got)
                CHECK_MEM(ref, m + off, got);
            break;
        }
        }
        CHECK_EQ(ringbuf_len(&rb), mlen);
        CHECK_EQ(ringbuf_free(&rb), cap - mlen);
        /* the pool counts exactly what the ring holds; never more than
         * the slots a cap-byte window can touch */
        CHECK_EQ(pool.used, ringbuf_chunks(&rb) * CH);
        CHECK(ringbuf_chunks(&rb) <= rb.nslot);
        if (mlen == 0 && !ringbuf_parked(&rb))
            CHECK_EQ(ringbuf_chunks(&rb), 0);
    }
    /* final drain equals the model, and gives every chunk back */
    size_t left = mlen;
    CHECK_EQ(ringbuf_read(&rb, out, cap + 3), left);
    CHECK_MEM(out, m, left);
    ringbuf_trim(&rb, 0);
    CHECK_EQ(ringbuf_chunks(&rb), 0);
    CHECK_EQ(pool.used, 0);
    ringbuf_fini(&rb);
    ring_pool_fini(&pool);
    free(m);
    free(in);
    free(out);
    free(ref);
}

TEST(ringbuf_random_vs_model)
{
    static const size_t caps[] = {1, 2, 3, 7, 64, 1000, 4096, CH, CH + 1, 3 * CH - 5, 100000};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
        run_random(caps[c], caps[c] > 5000 ? 4000 : 20000);
}
