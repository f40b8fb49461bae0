/*
 * Tests for include/tern/wire/seq.h: wrap-safe sequence arithmetic
 * (RFC 9293 s3.4, "modulo 2**32") around the 2^32 wrap.
 */
#include "harness.h"
#include "tern/wire/seq.h"

TEST(seq_compare_across_wrap)
{
    /* 0xffffffff is just before 0. */
    CHECK(tern_seq_lt(0xffffffffu, 0));
    CHECK(tern_seq_leq(0xffffffffu, 0));
    CHECK(tern_seq_gt(0, 0xffffffffu));
    CHECK(tern_seq_geq(0, 0xffffffffu));
    CHECK(!tern_seq_gt(0xffffffffu, 0));
    CHECK(!tern_seq_lt(0, 0xffffffffu));
    CHECK_EQ(tern_seq_diff(0, 0xffffffffu), 1);
    CHECK_EQ(tern_seq_diff(0xffffffffu, 0), -1);
    CHECK_EQ(tern_seq_diff(5, 0xfffffffbu), 10);
    /* Equal values. */
    CHECK(!tern_seq_lt(7, 7) && tern_seq_leq(7, 7) && !tern_seq_gt(7, 7) && tern_seq_geq(7, 7));
    CHECK(tern_seq_leq(0xffffffffu, 0xffffffffu));
}

TEST(seq_compare_half_space)
{
    /* Within 2^31 - 1 the order is the "short way round". */
    CHECK(tern_seq_lt(0, 0x7fffffffu));
    CHECK(tern_seq_gt(0x7fffffffu, 0));
    CHECK(tern_seq_lt(0x80000001u, 0)); /* 0 is 2^31 - 1 ahead */
    CHECK(tern_seq_lt(0xc0000000u, 0x3fffffffu));
    /* Exactly 2^31 apart the order is undefined in the arithmetic: both
     * directions say "less". Callers keep compared numbers within one
     * window (< 2^30), so this never matters; pinned here so that a change
     * of the helpers is noticed. */
    CHECK(tern_seq_lt(0, 0x80000000u));
    CHECK(tern_seq_lt(0x80000000u, 0));
}

TEST(seq_max_min_across_wrap)
{
    CHECK_EQ(tern_seq_max(0xfffffff0u, 0x10), 0x10);
    CHECK_EQ(tern_seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
    CHECK_EQ(tern_seq_max(0x10, 0xfffffff0u), 0x10);
    CHECK_EQ(tern_seq_min(0x10, 0xfffffff0u), 0xfffffff0u);
    CHECK_EQ(tern_seq_max(3, 3), 3);
    CHECK_EQ(tern_seq_min(100, 200), 100);
}

TEST(seq_in_half_open_range)
{
    /* Plain range [10, 20). */
    CHECK(!tern_seq_in(9, 10, 20));
    CHECK(tern_seq_in(10, 10, 20));
    CHECK(tern_seq_in(19, 10, 20));
    CHECK(!tern_seq_in(20, 10, 20));
    /* Range spanning the wrap [0xfffffff0, 0x10). */
    CHECK(!tern_seq_in(0xffffffefu, 0xfffffff0u, 0x10));
    CHECK(tern_seq_in(0xfffffff0u, 0xfffffff0u, 0x10));
    CHECK(tern_seq_in(0xffffffffu, 0xfffffff0u, 0x10));
    CHECK(tern_seq_in(0, 0xfffffff0u, 0x10));
    CHECK(tern_seq_in(0xf, 0xfffffff0u, 0x10));
    CHECK(!tern_seq_in(0x10, 0xfffffff0u, 0x10));
    CHECK(!tern_seq_in(0x80000000u, 0xfffffff0u, 0x10));
    /* Range ending exactly at the wrap [0xfffffffe, 0). */
    CHECK(tern_seq_in(0xffffffffu, 0xfffffffeu, 0));
    CHECK(!tern_seq_in(0, 0xfffffffeu, 0));
    /* Range starting at 0 (e.g. a window after the wrap). */
    CHECK(tern_seq_in(0, 0, 1));
    CHECK(!tern_seq_in(0xffffffffu, 0, 1));
}

TEST(seq_in_empty_range)
{
    /* lo == hi is empty (a zero window): nothing is inside, not even lo. */
    const uint32_t v[] = {0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++)
            CHECK(!tern_seq_in(v[i], v[j], v[j]));
}

TEST(seq_in_incl_closed_range)
{
    CHECK(tern_seq_in_incl(10, 10, 20));
    CHECK(tern_seq_in_incl(20, 10, 20));
    CHECK(!tern_seq_in_incl(21, 10, 20));
    CHECK(!tern_seq_in_incl(9, 10, 20));
    /* lo == hi: exactly one value (e.g. ACK == SND.UNA == SND.NXT). */
    CHECK(tern_seq_in_incl(5, 5, 5));
    CHECK(!tern_seq_in_incl(4, 5, 5));
    CHECK(!tern_seq_in_incl(6, 5, 5));
    CHECK(tern_seq_in_incl(0xffffffffu, 0xffffffffu, 0xffffffffu));
    CHECK(!tern_seq_in_incl(0, 0xffffffffu, 0xffffffffu));
    /* Spanning the wrap [0xffffffff, 0]. */
    CHECK(tern_seq_in_incl(0xffffffffu, 0xffffffffu, 0));
    CHECK(tern_seq_in_incl(0, 0xffffffffu, 0));
    CHECK(!tern_seq_in_incl(1, 0xffffffffu, 0));
    CHECK(!tern_seq_in_incl(0xfffffffeu, 0xffffffffu, 0));
    /* Full space minus one: [1, 0] wraps all the way round. */
    CHECK(tern_seq_in_incl(0x80000000u, 1, 0));
    CHECK(tern_seq_in_incl(0, 1, 0));
}

TEST(seq_in_agrees_with_64bit_reference)
{
    /* Random ranges of width < 2^30 anywhere (including across the wrap),
     * checked against arithmetic on unwrapped 64-bit numbers. */
    for (int t = 0; t < 100000; t++) {
        uint64_t r = test_rand();
        uint64_t lo = (uint32_t)r;
        uint64_t w = (r >> 32) & 0x3fffffffu; /* offsets below stay < 2^31 */
        int64_t off = (int64_t)(test_rand() % (2 * w + 3)) - (int64_t)(w / 2 + 1);
        uint64_t x64 = lo + (uint64_t)((int64_t)(1ull << 32) + off); /* keep positive */
        uint64_t lo64 = lo + (1ull << 32);
        uint32_t x = (uint32_t)x64, l = (uint32_t)lo, h = (uint32_t)(lo + w);
        bool in = x64 >= lo64 && x64 < lo64 + w;
        bool incl = x64 >= lo64 && x64 <= lo64 + w;
        if (tern_seq_in(x, l, h) != in || tern_seq_in_incl(x, l, h) != incl) {
            test_fail(__FILE__, __LINE__, "x %08x in [%08x, %08x): got %d/%d want %d/%d", x, l,
                           h, tern_seq_in(x, l, h), tern_seq_in_incl(x, l, h), in, incl);
            return;
        }
        /* lt/gt agree with the unwrapped order within half the space. */
        if (tern_seq_lt(x, l) != (x64 < lo64) || tern_seq_geq(x, l) != (x64 >= lo64)) {
            test_fail(__FILE__, __LINE__, "lt/geq %08x vs %08x", x, l);
            return;
        }
    }
}
