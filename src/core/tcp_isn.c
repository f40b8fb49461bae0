/*
 * tcp_isn.c - RFC 6528 initial sequence numbers and RFC 4987 s3.6 SYN
 * cookies (see tcp_isn.h for the cookie layout and what it does not carry).
 * Not: a SYN queue or any state; time is a microsecond number passed in.
 */
#include "core/tcp_isn.h"

#include "tern/err.h"
#include "tern/wire/bytes.h"

/* Distinct leading tags keep these hashes apart from every other use of the
 * stack key (ports use 'b', 'c', 'F', 'G'; IP IDs hash 9 untagged bytes). */
#define TAG_ISN 'I'
#define TAG_COOKIE 'K'

static void put_tuple(uint8_t *k, const struct tern_isn_tuple *t)
{
    tern_put32(k, t->laddr);
    tern_put16(k + 4, t->lport);
    tern_put32(k + 6, t->raddr);
    tern_put16(k + 10, t->rport);
}

uint32_t tcp_isn(const struct tern_rng *rng, const struct tern_isn_tuple *t, uint64_t now_us)
{
    /* RFC 6528 s3: ISN = M + F(localip, localport, remoteip, remoteport,
     * secretkey), "where M is the 4 microsecond timer" and F() a
     * pseudorandom function that "MUST NOT be computable from the
     * outside"; SipHash-2-4 keyed by the per-stack secret replaces the MD5
     * the RFC suggests. M wraps modulo 2^32 like the sequence space. */
    uint8_t k[13];
    k[0] = TAG_ISN;
    put_tuple(k + 1, t);
    uint32_t f = (uint32_t)prng_hash(rng, k, sizeof k);
    uint32_t m = (uint32_t)(now_us / 4);
    return m + f;
}

/* Common MSS values (bytes): the RFC 9293 floor used by our parser
 * (TERN_TCP_MSS_FLOOR), the IPv4 default 536, IPv6-in-tunnel, PPPoE,
 * Ethernet 1460 and jumbo 9000-byte frames. */
const uint16_t syncookie_mss_table[TERN_SYNCOOKIE_MSS_COUNT] = {
    88, 536, 1220, 1360, 1440, 1452, 1460, 8960,
};

/* The 24 hash bits s of RFC 4987 s3.6 for a full slot counter. */
static uint32_t cookie_hash(const struct tern_rng *rng, const struct tern_isn_tuple *t,
                            uint32_t peer_isn, uint64_t slot, unsigned mss_idx)
{
    uint8_t k[26];
    k[0] = TAG_COOKIE;
    put_tuple(k + 1, t);
    tern_put32(k + 13, peer_isn);
    tern_put32(k + 17, (uint32_t)(slot >> 32));
    tern_put32(k + 21, (uint32_t)slot);
    k[25] = (uint8_t)mss_idx;
    return (uint32_t)prng_hash(rng, k, sizeof k) & 0xffffffu;
}

uint32_t syncookie_encode(const struct tern_rng *rng, const struct tern_isn_tuple *t,
                               uint32_t peer_isn, uint16_t mss, uint64_t now_us,
                               uint16_t *mss_used)
{
    unsigned idx = 0;
    for (unsigned i = 1; i < TERN_SYNCOOKIE_MSS_COUNT; i++)
        if (syncookie_mss_table[i] <= mss)
            idx = i;
    if (mss_used)
        *mss_used = syncookie_mss_table[idx];
    /* RFC 4987 s3.6: "the top five bits are t mod 32, where t is a 32-bit
     * time counter that increases every 64 seconds; the next three bits
     * encode a value m for the server's MSS; the remaining 24 bits are a
     * server-selected secret function of the client IP address and port
     * number, the server IP address and port number, and t". The client's
     * ISN is hashed too, so the cookie answers that one SYN only. */
    uint64_t slot = now_us / TERN_SYNCOOKIE_SLOT_US;
    return (uint32_t)(slot & 31) << 27 | (uint32_t)idx << 24 |
           cookie_hash(rng, t, peer_isn, slot, idx);
}

int syncookie_decode(const struct tern_rng *rng, const struct tern_isn_tuple *t,
                          uint32_t seg_seq, uint32_t seg_ack, uint64_t now_us)
{
    /* The final ACK carries SEG.ACK = cookie + 1 and SEG.SEQ = client ISN
     * + 1 (RFC 9293 s3.5, a handshake with no data before it). */
    uint32_t cookie = seg_ack - 1, peer_isn = seg_seq - 1;
    uint64_t cur = now_us / TERN_SYNCOOKIE_SLOT_US;
    unsigned age = (unsigned)((cur - (cookie >> 27)) & 31);
    /* Accept the current and the previous slot only (64 to 128 s). */
    if (age > 1 || cur < age)
        return TERN_E_TIMEDOUT;
    unsigned idx = (cookie >> 24) & 7;
    if (cookie_hash(rng, t, peer_isn, cur - age, idx) != (cookie & 0xffffffu))
        return TERN_E_BAD_FIELD;
    return syncookie_mss_table[idx];
}
