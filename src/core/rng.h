/*
 * src/core/rng.h - the per-stack keyed generator (DESIGN.md principle 5).
 *
 * Two parts, both seeded from struct tern_config.seed and nothing else:
 *  - a keyed hash, SipHash-2-4 (Aumasson & Bernstein 2012), for values that
 *    must be unpredictable yet stable per flow: IP ID counter selection
 *    (RFC 7739 s5.3), later RFC 6528 ISNs and RFC 6056 port offsets;
 *  - a random number stream: SipHash-2-4 of a counter under the same key
 *    (a keyed PRF, so outputs do not reveal later ones: ATTACKS G4), for
 *    one-off choices: echo ids, ephemeral ports, DNS ids, DHCP xids.
 * The key is derived from the 64-bit seed, so it holds 64 bits of secret.
 * Not for key material. No global state: two stacks never share one.
 */
#ifndef TERN_CORE_RNG_H
#define TERN_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

struct tern_rng {
    uint64_t k0, k1;    /* SipHash key */
    uint64_t ctr;       /* position in the stream */
};

void prng_init(struct tern_rng *r, uint64_t seed);
uint64_t prng_next(struct tern_rng *r);
/* Uniform in [0, n) (n > 0), without modulo bias. */
uint64_t prng_below(struct tern_rng *r, uint64_t n);

/* SipHash-2-4 of data[0..len) under the 128-bit key (k0 = key bytes 0..7
 * little-endian, k1 = bytes 8..15). */
uint64_t siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len);
/* SipHash-2-4 under the stack's key. */
static inline uint64_t prng_hash(const struct tern_rng *r, const void *data, size_t len)
{
    return siphash24(r->k0, r->k1, data, len);
}

#endif
