/*
 * tern/wire/seq.h - wrap-safe TCP sequence number arithmetic.
 *
 * RFC 9293 s3.4: "all arithmetic dealing with sequence numbers must be
 * performed modulo 2**32". Comparisons use the signed difference, which is
 * correct while the two numbers are less than 2^31 apart (always true for
 * numbers inside one window). A raw `<` on sequence numbers is a bug; use
 * these. Pure, header-only, thread-safe.
 */
#ifndef TERN_WIRE_SEQ_H
#define TERN_WIRE_SEQ_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline int32_t tern_seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline bool tern_seq_lt(uint32_t a, uint32_t b) { return tern_seq_diff(a, b) < 0; }
static inline bool tern_seq_leq(uint32_t a, uint32_t b) { return tern_seq_diff(a, b) <= 0; }
static inline bool tern_seq_gt(uint32_t a, uint32_t b) { return tern_seq_diff(a, b) > 0; }
static inline bool tern_seq_geq(uint32_t a, uint32_t b) { return tern_seq_diff(a, b) >= 0; }
static inline uint32_t tern_seq_max(uint32_t a, uint32_t b) { return tern_seq_gt(a, b) ? a : b; }
static inline uint32_t tern_seq_min(uint32_t a, uint32_t b) { return tern_seq_lt(a, b) ? a : b; }

/* lo <= x < hi, modulo 2^32 (an empty range when lo == hi). */
static inline bool tern_seq_in(uint32_t x, uint32_t lo, uint32_t hi)
{
    return (uint32_t)(x - lo) < (uint32_t)(hi - lo);
}

/* lo <= x <= hi, modulo 2^32. */
static inline bool tern_seq_in_incl(uint32_t x, uint32_t lo, uint32_t hi)
{
    return (uint32_t)(x - lo) <= (uint32_t)(hi - lo);
}

#ifdef __cplusplus
}
#endif
#endif
