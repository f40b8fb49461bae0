/*
 * rng.c - SipHash-2-4: the keyed hash and, over a counter, the stream behind
 * every random choice of a stack (DESIGN.md principle 5, ATTACKS G4 and 39).
 * Seeding: splitmix64 expands the 64-bit seed into the SipHash key, so one
 * scenario seed replays a run exactly. Not: OS entropy
 * (tools pass it in as the seed).
 */
#include "core/rng.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void prng_init(struct tern_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    r->k0 = splitmix64(&x);
    r->k1 = splitmix64(&x);
    r->ctr = 0;
}

/* The stream is SipHash-2-4 of a counter under the stack key (a keyed PRF):
 * seeing any number of outputs tells nothing about the next one without the
 * key (ATTACKS G4: DNS IDs, DHCP xids, ephemeral ports, echo ids). A linear
 * generator such as xoshiro would give its state away after a few hundred
 * observed outputs. The tag byte keeps the stream apart from the keyed
 * hashes other modules take of their own data. */
uint64_t prng_next(struct tern_rng *r)
{
    uint8_t in[9];
    uint64_t c = r->ctr++;
    in[0] = 'R';
    for (int i = 0; i < 8; i++)
        in[1 + i] = (uint8_t)(c >> (8 * i));
    return siphash24(r->k0, r->k1, in, sizeof in);
}

uint64_t prng_below(struct tern_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection sampling: values in the top partial range are redrawn
     * (probability < n / 2^64 per draw, so the loop ends almost at once). */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do {
        v = prng_next(r);
    } while (v >= limit);
    return v % n;
}

static inline uint64_t load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                                  \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                                     \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                                     \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                                  \
    } while (0)

uint64_t siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t v0 = 0x736f6d6570736575ull ^ k0;
    uint64_t v1 = 0x646f72616e646f6dull ^ k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k0;
    uint64_t v3 = 0x7465646279746573ull ^ k1;
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load64_le(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint8_t tail[8] = {0};
    if (len > full)
        memcpy(tail, p + full, len - full);
    uint64_t b = load64_le(tail) | (uint64_t)len << 56;
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}
