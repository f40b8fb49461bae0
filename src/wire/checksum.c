/*
 * checksum.c - the Internet checksum, RFC 1071, with RFC 1624 updates.
 *
 * Speed: the buffer is read 8 bytes at a time (memcpy, so any alignment is
 * fine and no pointer is cast) and each 64-bit load is split into two 32-bit
 * halves added into 64-bit accumulators; four accumulators run per 32-byte
 * step so the additions do not form one dependency chain. 32-bit halves
 * added into 64 bits cannot overflow for any buffer smaller than 16 GiB.
 * The sum is taken in native byte order and swapped once at the end, which
 * RFC 1071 s2(B) ("byte order independence") allows.
 */
#include "tern/wire/checksum.h"

#include <string.h>

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t fold64(uint64_t x)
{
    x = (x & 0xffffffffu) + (x >> 32);
    return (x & 0xffffffffu) + (x >> 32);
}

/* Native-order 16-bit ones' complement sum of an even-length prefix,
 * folded to 16 bits. */
static uint16_t native_sum16(const uint8_t *p, size_t len)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    while (len >= 32) {
        uint64_t w0 = load64(p), w1 = load64(p + 8), w2 = load64(p + 16), w3 = load64(p + 24);
        a += (w0 & 0xffffffffu) + (w0 >> 32);
        b += (w1 & 0xffffffffu) + (w1 >> 32);
        c += (w2 & 0xffffffffu) + (w2 >> 32);
        d += (w3 & 0xffffffffu) + (w3 >> 32);
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w = load64(p);
        a += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        len -= 8;
    }
    while (len >= 2) {
        uint16_t h;
        memcpy(&h, p, 2);
        b += h;
        p += 2;
        len -= 2;
    }
    /* Fold each accumulator to 32 bits (2^32 == 1 modulo 2^16-1, so folding
     * at 32-bit boundaries keeps the ones' complement sum), add, fold to 16. */
    uint64_t s = fold64(a) + fold64(b) + fold64(c) + fold64(d);
    s = fold64(s);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static inline int host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Headers (IPv4, TCP, ICMP: a multiple of 4 bytes, at most 60): one
 * accumulator of 32-bit words and one fold, instead of native_sum16's
 * four accumulators and their folds - a fixed cost paid by every segment
 * sent and received. The same ones' complement sum (RFC 1071 s2(B)). */
static inline uint16_t native_sum16_words(const uint8_t *p, size_t len)
{
    uint64_t a = 0;
    for (; len; p += 4, len -= 4) {
        uint32_t w;
        memcpy(&w, p, sizeof w);
        a += w;
    }
    a = fold64(a);
    a = (a & 0xffff) + (a >> 16);
    a = (a & 0xffff) + (a >> 16);
    return (uint16_t)((a & 0xffff) + (a >> 16));
}

uint32_t tern_csum_add(uint32_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t even = len & ~(size_t)1;
    uint32_t s16 = len <= 64 && !(len & 3) ? native_sum16_words(p, len) : native_sum16(p, even);
    if (host_is_little_endian())
        s16 = (uint16_t)((s16 >> 8) | (s16 << 8));
    if (len & 1)
        s16 += (uint32_t)p[even] << 8;
    /* Keep the accumulator from overflowing when many pieces are added. */
    uint64_t t = (uint64_t)sum + s16;
    t = (t & 0xffffffffu) + (t >> 32);
    return (uint32_t)t;
}

static inline void store64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof v);
}

/* native_sum16 that also stores every word it reads at dst: the bytes are
 * loaded once, for the copy and the sum alike. Plain 8-byte loads and
 * stores, so the copy never goes through the C library's `rep movsb` path
 * (slow on some CPUs when dst - src is a few bytes past a multiple of 4
 * KiB; docs/performance.md). */
static uint16_t native_sum16_copy(uint8_t *dst, const uint8_t *p, size_t len)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    while (len >= 32) {
        uint64_t w0 = load64(p), w1 = load64(p + 8), w2 = load64(p + 16), w3 = load64(p + 24);
        store64(dst, w0);
        store64(dst + 8, w1);
        store64(dst + 16, w2);
        store64(dst + 24, w3);
        a += (w0 & 0xffffffffu) + (w0 >> 32);
        b += (w1 & 0xffffffffu) + (w1 >> 32);
        c += (w2 & 0xffffffffu) + (w2 >> 32);
        d += (w3 & 0xffffffffu) + (w3 >> 32);
        p += 32;
        dst += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w = load64(p);
        store64(dst, w);
        a += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        dst += 8;
        len -= 8;
    }
    while (len >= 2) {
        uint16_t h;
        memcpy(&h, p, 2);
        memcpy(dst, &h, 2);
        b += h;
        p += 2;
        dst += 2;
        len -= 2;
    }
    uint64_t s = fold64(a) + fold64(b) + fold64(c) + fold64(d);
    s = fold64(s);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

uint32_t tern_csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
    uint8_t *q = dst;
    const uint8_t *p = src;
    size_t even = len & ~(size_t)1;
    uint32_t s16 = native_sum16_copy(q, p, even);
    if (host_is_little_endian())
        s16 = (uint16_t)((s16 >> 8) | (s16 << 8));
    if (len & 1) {
        q[even] = p[even];
        s16 += (uint32_t)p[even] << 8;
    }
    uint64_t t = (uint64_t)sum + s16;
    t = (t & 0xffffffffu) + (t >> 32);
    return (uint32_t)t;
}

uint32_t tern_csum_add_at(uint32_t sum, uint32_t piece, size_t off)
{
    if (off & 1) {
        /* RFC 1071 s2(B): a piece starting at an odd offset sums with its
         * bytes swapped; fold it to 16 bits first, then swap. */
        while (piece >> 16)
            piece = (piece & 0xffff) + (piece >> 16);
        piece = (uint16_t)((piece >> 8) | (piece << 8));
    }
    uint64_t t = (uint64_t)sum + piece;
    t = (t & 0xffffffffu) + (t >> 32);
    return (uint32_t)t;
}

uint16_t tern_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t tern_csum(const void *buf, size_t len)
{
    return tern_csum_fold(tern_csum_add(0, buf, len));
}

uint32_t tern_csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint32_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
    return s + proto + len;
}

uint16_t tern_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
    /* RFC 1624 s3, eqn. 3: HC' = ~(~HC + ~m + m') */
    uint32_t s = (uint16_t)~csum + (uint32_t)(uint16_t)~old_word + new_word;
    return tern_csum_fold(s);
}

uint16_t tern_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
    csum = tern_csum_update16(csum, (uint16_t)(old_val >> 16), (uint16_t)(new_val >> 16));
    return tern_csum_update16(csum, (uint16_t)old_val, (uint16_t)new_val);
}
