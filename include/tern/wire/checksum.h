/*
 * tern/wire/checksum.h - the Internet checksum (RFC 1071) and its
 * incremental update (RFC 1624).
 *
 * Partial sums are 32-bit accumulators in the "big-endian value" domain:
 * the sum of the buffer read as big-endian 16-bit words, a trailing odd
 * byte padded with a zero low byte (RFC 1071 s1). Partial sums of several
 * pieces may be added together with tern_csum_add as long as every piece but
 * the last has an even length. tern_csum_fold turns a partial sum into the
 * value to store in a header (host order: write it with tern_put16).
 *
 * A header or segment whose stored checksum is right sums to 0xffff, so
 * tern_csum_fold(...) over it, checksum field included, returns 0.
 * Pure, thread-safe.
 */
#ifndef TERN_WIRE_CHECKSUM_H
#define TERN_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "tern/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sum + the partial sum of buf[0..len). Fast: word at a time, several
 * accumulators, any alignment. */
TERN_API uint32_t tern_csum_add(uint32_t sum, const void *buf, size_t len);

/* Copies len bytes from src to dst (they must not overlap) and returns sum +
 * the partial sum of those bytes, as tern_csum_add(sum, src, len) would, in
 * the same pass: each byte is read once. Any alignment; never calls memcpy
 * for the bulk. */
TERN_API uint32_t tern_csum_copy(void *dst, const void *src, size_t len, uint32_t sum);

/* sum + piece, where piece is the partial sum (from 0) of bytes that sit
 * `off` bytes into the summed data: for an odd off the piece is
 * byte-swapped (RFC 1071 s2(B)). Joins the sums of pieces of any length. */
TERN_API uint32_t tern_csum_add_at(uint32_t sum, uint32_t piece, size_t off);

/* Fold to 16 bits with end-around carry and complement. */
TERN_API uint16_t tern_csum_fold(uint32_t sum);

/* The whole checksum of one buffer: tern_csum_fold(tern_csum_add(0, buf, len)). */
TERN_API uint16_t tern_csum(const void *buf, size_t len);

/* Partial sum of the IPv4 pseudo-header (RFC 768, RFC 9293 s3.1):
 * src, dst (host order), zero, protocol, upper-layer length. */
TERN_API uint32_t tern_csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* RFC 1624 eqn. 3: the new checksum after a 16-bit field changes from
 * old_word to new_word: HC' = ~(~HC + ~m + m'). All values host order. */
TERN_API uint16_t tern_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);

/* The same for a 32-bit field (e.g. an IPv4 address), as two 16-bit words. */
TERN_API uint16_t tern_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

#ifdef __cplusplus
}
#endif
#endif
