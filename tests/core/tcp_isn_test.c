/*
 * Tests for src/core/tcp_isn.c: RFC 6528 ISNs (ATTACKS 38: 1,000
 * consecutive connections give no usable prediction; the same 4-tuple
 * advances with the 4 us clock M) and the RFC 4987 s3.6 SYN cookies (round
 * trip, expiry after two 64 s slots, wrong tuple or client ISN, forgeries).
 */
#include <stdlib.h>

#include "core/tcp_isn.h"
#include "harness.h"
#include "tern/err.h"

#define N 1000

static struct tern_isn_tuple tuple(uint16_t rport)
{
    return (struct tern_isn_tuple){.laddr = 0x0a000001u, .raddr = 0x0a000002u, .lport = 80,
                                   .rport = rport};
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

TEST(attack_38_isn_unpredictable)
{
    struct tern_rng rng;
    prng_init(&rng, 38);
    static uint32_t isn[N], diff[N - 1];
    /* 1,000 connections from consecutive client ports, 1 ms apart: what an
     * attacker sees when opening connections of its own to learn ours. */
    uint64_t now = 5000000;
    for (int i = 0; i < N; i++) {
        struct tern_isn_tuple t = tuple((uint16_t)(40000 + i));
        isn[i] = tcp_isn(&rng, &t, now);
        now += 1000;
    }
    for (int i = 0; i < N - 1; i++)
        diff[i] = isn[i + 1] - isn[i];

    /* 1. The steps between consecutive ISNs are not constant: (almost) all
     * differ from each other. */
    qsort(diff, N - 1, sizeof diff[0], cmp_u32);
    int distinct = 1;
    for (int i = 1; i < N - 1; i++)
        distinct += diff[i] != diff[i - 1];
    CHECK(distinct >= N - 1 - 2);

    /* 2. Predicting the next ISN from the previous one plus the elapsed
     * clock (1 ms = 250 ticks of M), or plus any step seen before, lands in
     * a 64 KiB window (what a blind in-window attack needs) about as often
     * as chance: 2^17 / 2^32 per try. */
    int hits = 0;
    for (int i = 0; i < N - 1; i++) {
        uint32_t guess = isn[i] + 250;
        uint32_t off = isn[i + 1] - guess + 65536;
        hits += off < 131072;
    }
    CHECK(hits <= 2);

    /* 3. Values and steps spread over the whole space: a chi-square test on
     * the top 4 bits (16 buckets, 15 degrees of freedom; 37.7 is the 0.1%
     * critical value) and every bit set in 40-60% of the ISNs. */
    int bucket[16] = {0}, dbucket[16] = {0}, bits[32] = {0};
    for (int i = 0; i < N; i++) {
        bucket[isn[i] >> 28]++;
        for (int b = 0; b < 32; b++)
            bits[b] += (isn[i] >> b) & 1;
    }
    for (int i = 0; i < N - 1; i++)
        dbucket[diff[i] >> 28]++;
    double chi = 0, dchi = 0, e = N / 16.0, de = (N - 1) / 16.0;
    for (int b = 0; b < 16; b++) {
        chi += (bucket[b] - e) * (bucket[b] - e) / e;
        dchi += (dbucket[b] - de) * (dbucket[b] - de) / de;
    }
    CHECK(chi < 37.7);
    CHECK(dchi < 37.7);
    for (int b = 0; b < 32; b++)
        CHECK(bits[b] > 400 && bits[b] < 600);

    /* 4. Another stack (another secret) numbers the same tuple differently. */
    struct tern_rng other;
    prng_init(&other, 39);
    struct tern_isn_tuple t0 = tuple(40000);
    CHECK(tcp_isn(&other, &t0, 5000000) != isn[0]);
}

TEST(attack_38_isn_same_tuple_follows_4us_clock)
{
    struct tern_rng rng;
    prng_init(&rng, 7);
    struct tern_isn_tuple t = tuple(51000);
    uint32_t a = tcp_isn(&rng, &t, 1000000);
    /* RFC 6528 s3: M advances every 4 us; F is fixed for the tuple, so a
     * later connection on the same tuple starts later in sequence space
     * (what RFC 9293 s3.4.1 needs for old duplicates). */
    CHECK_EQ(tcp_isn(&rng, &t, 1000000 + 4000000) - a, 1000000);
    CHECK_EQ(tcp_isn(&rng, &t, 1000000 + 3) - a, 0);
    CHECK_EQ(tcp_isn(&rng, &t, 1000000 + 4) - a, 1);
    /* M wraps modulo 2^32 ticks (about 4.77 hours). */
    CHECK_EQ(tcp_isn(&rng, &t, 1000000 + (UINT64_C(4) << 32)) - a, 0);
    /* Each tuple field matters. */
    struct tern_isn_tuple u = t;
    u.laddr ^= 1;
    CHECK(tcp_isn(&rng, &u, 1000000) != a);
    u = t;
    u.lport ^= 1;
    CHECK(tcp_isn(&rng, &u, 1000000) != a);
    u = t;
    u.raddr ^= 1;
    CHECK(tcp_isn(&rng, &u, 1000000) != a);
}

TEST(tcp_syncookie_round_trip)
{
    struct tern_rng rng;
    prng_init(&rng, 35);
    struct tern_isn_tuple t = tuple(43210);
    uint32_t client_isn = 0xfffffffeu; /* SEG.SEQ of the ACK wraps to 0xffffffff */
    uint16_t used = 0;
    uint64_t now = UINT64_C(1000) * TERN_SYNCOOKIE_SLOT_US + 12345;
    uint32_t cookie = syncookie_encode(&rng, &t, client_isn, 1460, now, &used);
    CHECK_EQ(used, 1460);
    /* Layout: t mod 32 in the top 5 bits, the MSS index in the next 3. */
    CHECK_EQ(cookie >> 27, 1000 % 32);
    CHECK_EQ(syncookie_mss_table[(cookie >> 24) & 7], 1460);
    /* The ACK: SEG.SEQ = client ISN + 1, SEG.ACK = cookie + 1. */
    CHECK_EQ(syncookie_decode(&rng, &t, client_isn + 1, cookie + 1, now), 1460);
    CHECK_EQ(syncookie_decode(&rng, &t, client_isn + 1, cookie + 1, now + 1000000), 1460);
    /* Still valid in the next 64 s slot (two slots accepted). */
    CHECK_EQ(syncookie_decode(&rng, &t, client_isn + 1, cookie + 1,
                                   now + TERN_SYNCOOKIE_SLOT_US),
             1460);
    /* All 24 hash bits vary from one client ISN to the next. */
    uint32_t seen = 0;
    for (uint32_t i = 0; i < 64; i++)
        seen |= syncookie_encode(&rng, &t, i, 1460, now, NULL);
    CHECK_EQ(seen & 0xffffffu, 0xffffffu);
    /* MSS rounds down to the table. */
    static const struct {
        uint16_t in, out;
    } m[] = {{1400, 1360}, {9000, 8960}, {536, 536}, {600, 536}, {50, 88}, {1459, 1452}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        cookie = syncookie_encode(&rng, &t, 77, m[i].in, now, &used);
        CHECK_EQ(used, m[i].out);
        CHECK_EQ(syncookie_decode(&rng, &t, 78, cookie + 1, now), m[i].out);
    }
}

TEST(tcp_syncookie_expired_rejected)
{
    struct tern_rng rng;
    prng_init(&rng, 35);
    struct tern_isn_tuple t = tuple(43210);
    uint64_t now = UINT64_C(77) * TERN_SYNCOOKIE_SLOT_US;
    uint32_t cookie = syncookie_encode(&rng, &t, 1000, 1460, now, NULL);
    /* Two slots later (128 s) and beyond: rejected, including 32 slots
     * later when the 5-bit counter has wrapped back to the same value. */
    CHECK_EQ(syncookie_decode(&rng, &t, 1001, cookie + 1, now + 2 * TERN_SYNCOOKIE_SLOT_US),
             TERN_E_TIMEDOUT);
    CHECK_EQ(syncookie_decode(&rng, &t, 1001, cookie + 1, now + 31 * TERN_SYNCOOKIE_SLOT_US),
             TERN_E_TIMEDOUT);
    CHECK_EQ(syncookie_decode(&rng, &t, 1001, cookie + 1, now + 32 * TERN_SYNCOOKIE_SLOT_US),
             TERN_E_BAD_FIELD);
    /* A cookie "from the future" (the clock went back a slot) fails too. */
    CHECK(syncookie_decode(&rng, &t, 1001, cookie + 1, now - 1) < 0);
}

TEST(tcp_syncookie_wrong_tuple_or_forged_rejected)
{
    struct tern_rng rng;
    prng_init(&rng, 35);
    struct tern_isn_tuple t = tuple(43210);
    uint64_t now = UINT64_C(500) * TERN_SYNCOOKIE_SLOT_US;
    uint32_t cookie = syncookie_encode(&rng, &t, 1000, 1460, now, NULL);
    /* Another client port, address, our address or port. */
    struct tern_isn_tuple u = t;
    u.rport++;
    CHECK_EQ(syncookie_decode(&rng, &u, 1001, cookie + 1, now), TERN_E_BAD_FIELD);
    u = t;
    u.raddr++;
    CHECK_EQ(syncookie_decode(&rng, &u, 1001, cookie + 1, now), TERN_E_BAD_FIELD);
    u = t;
    u.lport++;
    CHECK_EQ(syncookie_decode(&rng, &u, 1001, cookie + 1, now), TERN_E_BAD_FIELD);
    /* Another client ISN. */
    CHECK_EQ(syncookie_decode(&rng, &t, 1002, cookie + 1, now), TERN_E_BAD_FIELD);
    /* Another stack's secret. */
    struct tern_rng other;
    prng_init(&other, 36);
    CHECK_EQ(syncookie_decode(&other, &t, 1001, cookie + 1, now), TERN_E_BAD_FIELD);
    /* A bigger MSS index with the same hash bits. */
    uint32_t bumped = (cookie & ~(7u << 24)) | (7u << 24);
    CHECK_EQ(syncookie_decode(&rng, &t, 1001, bumped + 1, now), TERN_E_BAD_FIELD);
    /* 100,000 blind guesses in the right slot: each passes with
     * probability 2^-24, so (with this fixed seed) none does. */
    int accepted = 0;
    uint32_t slot_bits = (uint32_t)((now / TERN_SYNCOOKIE_SLOT_US) & 31) << 27;
    for (int i = 0; i < 100000; i++) {
        uint32_t guess = slot_bits | ((uint32_t)test_rand() & 0x07ffffffu);
        accepted += syncookie_decode(&rng, &t, 1001, guess + 1, now) > 0;
    }
    CHECK_EQ(accepted, 0);
}
