/*
 * src/sim/sha256.h - SHA-256 (FIPS 180-4), for the simulator's summary
 * ("the SHA-256 of the page on both ends"). Plain, streaming, no tables
 * beyond the round constants; not constant-time hardened (no secrets here).
 */
#ifndef TERN_SIM_SHA256_H
#define TERN_SIM_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct tern_sha256 {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed */
    uint8_t buf[64];
    size_t used;
};

void sim_sha256_init(struct tern_sha256 *c);
void sim_sha256_update(struct tern_sha256 *c, const void *data, size_t len);
void sim_sha256_final(struct tern_sha256 *c, uint8_t out[32]);
/* The digest as 64 lowercase hex digits + NUL. */
void sim_sha256_hex(const uint8_t d[32], char out[65]);

#endif
