/*
 * src/core/tcp_isn.h - TCP initial sequence numbers (RFC 6528) and SYN
 * cookies (RFC 4987 s3.6), internal to the core.
 *
 * What it is: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a 4-microsecond clock taken from the time passed in, F
 * SipHash-2-4 under the stack's key (src/core/rng.h) with its own domain
 * tag, so no other keyed value of the stack (ports, IP IDs) reveals it.
 * And a SYN-cookie encoder/decoder for a listener whose SYN queue is full.
 * What it is not: the SYN queue, the decision to use cookies, or any state.
 * Pure functions; thread-safe for a const struct tern_rng.
 * RFCs: 6528 s3 (ISN), 4987 s3.6 (cookies), 9293 s3.4.1, ATTACKS 35, 38.
 *
 * Cookie layout (the 32-bit ISN of our SYN-ACK), RFC 4987 s3.6:
 *   bits 31..27  t mod 32, t = now / 64 s
 *   bits 26..24  index of the MSS in syncookie_mss_table
 *   bits 23..0   low 24 bits of SipHash-2-4 (stack key) over a tag, the
 *                4-tuple, the client's ISN, the full t and the MSS index.
 * Encoded: time slot, MSS (rounded down to the table). Not encoded: window
 * scale, SACK-permitted, timestamps: a connection made from a cookie runs
 * without them (Linux hides them in TSval; a later refinement). A blind
 * forger must guess 24 hash bits (and the slot): success 2^-24 per try.
 */
#ifndef TERN_CORE_TCP_ISN_H
#define TERN_CORE_TCP_ISN_H

#include <stdint.h>

#include "core/rng.h"

/* A connection's addresses and ports, host byte order. */
struct tern_isn_tuple {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
};

/* RFC 6528 s3 ISN for the tuple at time now_us. */
uint32_t tcp_isn(const struct tern_rng *rng, const struct tern_isn_tuple *t, uint64_t now_us);

#define TERN_SYNCOOKIE_SLOT_US UINT64_C(64000000) /* RFC 4987 s3.6: 64 s */
#define TERN_SYNCOOKIE_MSS_COUNT 8
extern const uint16_t syncookie_mss_table[TERN_SYNCOOKIE_MSS_COUNT];

/* The ISN for our SYN-ACK to a SYN with sequence number peer_isn offering
 * mss (already the MSS we will use: min of theirs and ours). *mss_used gets
 * the table entry encoded: the largest not above mss (the smallest entry if
 * mss is below all of them). */
uint32_t syncookie_encode(const struct tern_rng *rng, const struct tern_isn_tuple *t,
                               uint32_t peer_isn, uint16_t mss, uint64_t now_us,
                               uint16_t *mss_used);

/* Checks the ACK completing a handshake answered with a cookie: seg_ack - 1
 * must be a cookie made for this tuple and client ISN (seg_seq - 1) in the
 * current or the previous 64 s slot. Returns the encoded MSS (> 0), or
 * TERN_E_TIMEDOUT for a cookie from an older (or future) slot, or
 * TERN_E_BAD_FIELD for one that does not verify (forged, other tuple). */
int syncookie_decode(const struct tern_rng *rng, const struct tern_isn_tuple *t,
                          uint32_t seg_seq, uint32_t seg_ack, uint64_t now_us);

#endif
