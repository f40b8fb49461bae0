/*
 * src/core/reasm.h - IPv4 fragment reassembly (RFC 791 s3.2, RFC 815) and
 * output fragmentation, internal to the stack.
 *
 * Reassembly is overlap-safe and bounded (ATTACKS 10-15):
 *  - offset*8 + length > 65535                         -> whole datagram dropped (10)
 *  - any overlap with data already held                -> datagram abandoned (11)
 *  - an exact duplicate of a held fragment             -> ignored (12)
 *  - non-final fragment not a multiple of 8, zero-length fragment, a second
 *    different final fragment, data past the known end -> abandoned (13)
 *  - TCP: first fragment too short to hold the 20-byte TCP header, or any
 *    TCP fragment at offset 8 (RFC 1858 s3, RFC 3128)  -> dropped (14)
 *  - at most max_datagrams in progress and max_bytes held; beyond, the
 *    oldest datagram is evicted; each datagram times out after timeout_us;
 *    the time-exceeded callback runs only for datagrams whose first fragment
 *    (offset 0) arrived (15, RFC 792 / RFC 1122 s3.3.2).
 *  - more than 64 fragments in one datagram            -> abandoned (NOMEM)
 * Datagrams are keyed by (src, dst, proto, id) per RFC 791.
 * All memory is allocated in ip_reasm_new; none per fragment.
 */
#ifndef TERN_CORE_REASM_H
#define TERN_CORE_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "tern/wire/ipv4.h"

struct tern_reasm_config {
    uint32_t max_bytes;      /* pool bytes held in all datagrams (payload is kept
                              * in 128-byte chunks, so held >= payload bytes);
                              * < 128 or > 1 GiB is a bad config */
    uint32_t max_datagrams;  /* datagrams in progress, 1..65536 */
    uint64_t timeout_us;     /* > 0; counted from each datagram's first-arrived fragment */
};

struct ip_reasm_stats {
    uint64_t frags_in, completed, dropped_bad, dropped_overlap, duplicates, evicted, timeouts;
};

struct tern_reasm; /* opaque; defined in reasm.c */

/* NULL on bad config or no memory. */
struct tern_reasm *ip_reasm_new(const struct tern_reasm_config *cfg);
void ip_reasm_free(struct tern_reasm *r);

/* Feeds one fragment: ip is its parsed header (ip->mf or ip->frag_off != 0),
 * payload/len its data (len == ip->payload_len). Returns
 *   1  the datagram is complete: *out points to the reassembled payload
 *      (owned by r, valid until the next call), *out_len its length, and
 *      *out_ip the first fragment's header with mf/frag_off cleared,
 *      payload_len = *out_len and total_len = hdr_len + *out_len; hdr_len
 *      is the first fragment's, but opts is NULL and opts_len 0 (the
 *      option bytes are not returned);
 *   0  held, waiting for more fragments;
 *  <0  dropped (a negative enum tern_err; counted in the stats).
 */
int ip_reasm_input(struct tern_reasm *r, const struct tern_ipv4_repr *ip, const uint8_t *payload,
                     size_t len, uint64_t now, const uint8_t **out, size_t *out_len,
                     struct tern_ipv4_repr *out_ip);

/* The quote for an ICMP time exceeded (reassembly): the first fragment's IP
 * header (options included) + the first 8 bytes of its data, as received. */
typedef void (*tern_reasm_expired_fn)(void *ctx, const uint8_t *quote, size_t quote_len);

/* Drops datagrams older than the timeout, calling fn for those whose first
 * fragment arrived. Returns the next expiry deadline or UINT64_MAX. */
uint64_t ip_reasm_expire(struct tern_reasm *r, uint64_t now, tern_reasm_expired_fn fn, void *ctx);

const struct ip_reasm_stats *ip_reasm_stats(const struct tern_reasm *r);
size_t ip_reasm_bytes_held(const struct tern_reasm *r);
size_t ip_reasm_datagrams_held(const struct tern_reasm *r);

/* Output fragmentation (RFC 791 s3.2 "fragmentation"): splits a datagram
 * whose header is `ip` (opts copied into every fragment only when the option
 * has the copy flag, bit 0x80) and whose payload is payload[0..len) into
 * fragments that fit `mtu` (data of each but the last a multiple of 8).
 * emit is called once per fragment with the complete fragment bytes (header
 * with checksum + data) in a buffer owned by the caller-provided scratch of
 * scratch_cap bytes (>= mtu). A datagram that fits is emitted whole (1).
 * Returns the number of fragments, or TERN_E_INVAL if mtu < 68, DF is set
 * and the datagram does not fit, or it cannot be split, or the first
 * error emit returned. Refragmenting a fragment keeps its offset as the
 * base and its MF on the last piece (RFC 791 s3.2 steps 5, 12). */
typedef int (*tern_frag_emit_fn)(void *ctx, const uint8_t *frag, size_t len);
int ipv4_fragment(const struct tern_ipv4_repr *ip, const uint8_t *payload, size_t len,
                       uint16_t mtu, uint8_t *scratch, size_t scratch_cap, tern_frag_emit_fn emit,
                       void *ctx);

#endif
