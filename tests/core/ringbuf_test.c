/*
 * Tests for src/core/ringbuf.c: known small cases at the wrap point, init
 * errors, and long random operation sequences checked against a reference
 * model (a flat array FIFO with memmove, obviously correct and slow).
 */
#include "harness.h"

#include <stdlib.h>

#include "core/ringbuf.h"
#include "tern/err.h"

TEST(ringbuf_init_errors)
{
    struct tern_ringbuf rb;
    uint8_t st[4];
    CHECK_EQ(ringbuf_init(&rb, NULL, 0), TERN_E_INVAL);
    CHECK_EQ(ringbuf_init(&rb, st, TERN_RINGBUF_MAX + 1), TERN_E_INVAL);
    REQUIRE_EQ(ringbuf_init(&rb, st, sizeof st), 0);
    CHECK(!rb.owned);
    CHECK_EQ(ringbuf_free(&rb), 4);
    ringbuf_fini(&rb);
    REQUIRE_EQ(ringbuf_init(&rb, NULL, 100), 0);
    CHECK(rb.owned);
    CHECK_EQ(ringbuf_cap(&rb), 100);
    ringbuf_fini(&rb);
    CHECK_EQ(rb.cap, 0);
}

TEST(ringbuf_wrap_two_pieces)
{
    struct tern_ringbuf rb;
    uint8_t st[7];
    REQUIRE_EQ(ringbuf_init(&rb, st, sizeof st), 0);
    CHECK_EQ(ringbuf_write(&rb, "abcde", 5), 5);
    uint8_t out[16];
    CHECK_EQ(ringbuf_read(&rb, out, 3), 3);
    CHECK_MEM(out, "abc", 3);
    /* head = 3, len = 2: 5 more bytes wrap (4 at the end, 1 at the start) */
    CHECK_EQ(ringbuf_write(&rb, "fghijk", 6), 5); /* only 5 fit */
    CHECK_EQ(ringbuf_len(&rb), 7);
    CHECK_EQ(ringbuf_free(&rb), 0);
    CHECK_MEM(st, "hijdefg", 7); /* "hij" wrapped to the start */
    struct tern_ringbuf_span sp[2];
    CHECK_EQ(ringbuf_spans(&rb, 0, 7, sp), 2);
    CHECK_EQ(sp[0].n, 4);
    CHECK_EQ(sp[1].n, 3);
    CHECK(sp[0].p == st + 3 && sp[1].p == st);
    CHECK_EQ(ringbuf_peek_at(&rb, 2, out, 10), 5);
    CHECK_MEM(out, "fghij", 5);
    CHECK_EQ(ringbuf_peek_at(&rb, 7, out, 1), 0);
    CHECK_EQ(ringbuf_consume(&rb, 100), 7);
    CHECK_EQ(ringbuf_len(&rb), 0);
}

TEST(ringbuf_write_at_commit)
{
    struct tern_ringbuf rb;
    uint8_t st[8];
    REQUIRE_EQ(ringbuf_init(&rb, st, sizeof st), 0);
    ringbuf_write(&rb, "xy", 2);
    CHECK_EQ(ringbuf_write_at(&rb, 3, "DEF", 3), 3); /* free offsets 3..5 */
    CHECK_EQ(ringbuf_write_at(&rb, 4, "ZZZ", 3), 0); /* 4 + 3 > 6 free */
    CHECK_EQ(ringbuf_len(&rb), 2);
    CHECK_EQ(ringbuf_write_at(&rb, 0, "abc", 3), 3);
    CHECK_EQ(ringbuf_commit(&rb, 7), 0); /* more than free */
    CHECK_EQ(ringbuf_commit(&rb, 6), 6);
    uint8_t out[8];
    CHECK_EQ(ringbuf_read(&rb, out, 8), 8);
    CHECK_MEM(out, "xyabcDEF", 8);
}

/* Reference FIFO. */
struct model {
    uint8_t d[4200];
    size_t len, cap;
};

static void rand_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)test_rand();
}

static void run_random(size_t cap, int ops)
{
    struct tern_ringbuf rb;
    uint8_t *st = malloc(cap);
    static struct model m;
    memset(&m, 0, sizeof m);
    m.cap = cap;
    REQUIRE(st);
    REQUIRE_EQ(ringbuf_init(&rb, st, cap), 0);
    uint8_t in[4200], out[4200], ref[4200];
    for (int op = 0; op < ops && !test_failed_now(); op++) {
        size_t n = (size_t)(test_rand() % (cap + 3));
        size_t off = (size_t)(test_rand() % (cap + 2));
        switch (test_rand() % 7) {
        case 0: { /* write */
            rand_bytes(in, n);
            size_t want = n < cap - m.len ? n : cap - m.len;
            CHECK_EQ(ringbuf_write(&rb, in, n), want);
            memcpy(m.d + m.len, in, want);
            m.len += want;
            break;
        }
        case 1: { /* read */
            size_t want = n < m.len ? n : m.len;
            CHECK_EQ(ringbuf_read(&rb, out, n), want);
            CHECK_MEM(out, m.d, want);
            memmove(m.d, m.d + want, m.len - want);
            m.len -= want;
            break;
        }
        case 2: { /* peek */
            size_t want = n < m.len ? n : m.len;
            CHECK_EQ(ringbuf_peek(&rb, out, n), want);
            CHECK_MEM(out, m.d, want);
            break;
        }
        case 3: { /* peek_at */
            size_t want = off >= m.len ? 0 : (n < m.len - off ? n : m.len - off);
            CHECK_EQ(ringbuf_peek_at(&rb, off, out, n), want);
            if (want)
                CHECK_MEM(out, m.d + off, want);
            break;
        }
        case 4: { /* consume */
            size_t want = n < m.len ? n : m.len;
            CHECK_EQ(ringbuf_consume(&rb, n), want);
            memmove(m.d, m.d + want, m.len - want);
            m.len -= want;
            break;
        }
        case 5: { /* write_at then commit a prefix */
            size_t room = cap - m.len;
            rand_bytes(in, n);
            bool fits = off <= room && n <= room - off;
            CHECK_EQ(ringbuf_write_at(&rb, off, in, n), fits ? n : 0);
            if (fits && off == 0) {
                size_t c = n ? (size_t)(test_rand() % (n + 1)) : 0;
                CHECK_EQ(ringbuf_commit(&rb, c), c);
                memcpy(m.d + m.len, in, c);
                m.len += c;
            }
            break;
        }
        default: { /* spans reassemble to the model */
            struct tern_ringbuf_span sp[2];
            int k = ringbuf_spans(&rb, off, n, sp);
            size_t want = off >= m.len ? 0 : (n < m.len - off ? n : m.len - off);
            size_t got = 0;
            for (int s = 0; s < k; s++) {
                memcpy(ref + got, sp[s].p, sp[s].n);
                got += sp[s].n;
            }
            CHECK_EQ(got, want);
            if (want)
                CHECK_MEM(ref, m.d + off, want);
            break;
        }
        }
        CHECK_EQ(ringbuf_len(&rb), m.len);
        CHECK_EQ(ringbuf_free(&rb), cap - m.len);
    }
    /* final drain equals the model */
    size_t left = m.len;
    CHECK_EQ(ringbuf_read(&rb, out, sizeof out), left);
    CHECK_MEM(out, m.d, left);
    ringbuf_fini(&rb);
    free(st);
}

TEST(ringbuf_random_vs_model)
{
    static const size_t caps[] = {1, 2, 3, 7, 64, 1000, 4096};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
        run_random(caps[c], 20000);
}
