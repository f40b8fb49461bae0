/*
 * ipv4.c - IPv4 header codec (RFC 791 s3.1, RFC 1122 s3.2.1), option walk
 * and dotted-quad conversion.
 * Validates version, IHL, total length, header checksum and the generic
 * option TLV structure (ATTACKS 5-8). Not: the meaning of individual options
 * (source routes, record route, timestamps), martian addresses, fragment
 * reassembly or routing - those belong to the network layer.
 */
#include "tern/wire/ipv4.h"

#include <stdio.h>
#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"

#define IP_FLAG_RF 0x8000u
#define IP_FLAG_DF 0x4000u
#define IP_FLAG_MF 0x2000u
#define IP_OFF_MASK 0x1fffu

/* Options occupy at most 40 bytes and every step consumes >= 1 byte, so 40
 * steps always suffice; the bound is a belt-and-braces guard (ATTACKS G2). */
#define IP_OPT_MAX_STEPS (TERN_IPV4_HLEN_MAX - TERN_IPV4_HLEN_MIN)

int tern_ipv4_parse(const uint8_t *buf, size_t len, unsigned flags, struct tern_ipv4_repr *out)
{
    if (len < TERN_IPV4_HLEN_MIN)
        return TERN_E_SHORT;
    /* RFC 1122 s3.2.1.1: a datagram whose version is not 4 is silently dropped. */
    if (buf[0] >> 4 != 4)
        return TERN_E_BAD_VERSION;
    /* RFC 791 s3.1: IHL counts 32-bit words, minimum 5 (ATTACKS 5). */
    size_t hlen = (size_t)(buf[0] & 0x0f) * 4;
    if (hlen < TERN_IPV4_HLEN_MIN)
        return TERN_E_BAD_LEN;
    if (hlen > len)
        return TERN_E_SHORT;
    /* ATTACKS 6/7: compare total length with hlen and len before any
     * subtraction, so no difference below is ever negative. */
    size_t total = tern_get16(buf + 2);
    if (total < hlen)
        return TERN_E_BAD_LEN;
    size_t payload;
    if (total <= len) {
        /* Shorter than the frame: the rest is link padding (ATTACKS 7);
         * trimmed here once, every upper layer sees payload_len only. */
        payload = total - hlen;
    } else if (flags & TERN_WIRE_TRUNC_OK) {
        payload = len - hlen; /* hlen <= len checked above */
    } else {
        return TERN_E_BAD_LEN;
    }
    /* RFC 1122 s3.2.1.2: a datagram with a wrong header checksum is dropped. */
    if (!(flags & TERN_WIRE_NO_CSUM) && tern_csum(buf, hlen) != 0)
        return TERN_E_BAD_CSUM;

    const uint8_t *opts = buf + TERN_IPV4_HLEN_MIN;
    size_t opts_len = hlen - TERN_IPV4_HLEN_MIN;
    size_t pos = 0;
    struct tern_ipv4_opt opt;
    for (int step = 0; step < IP_OPT_MAX_STEPS; step++) {
        int rc = tern_ipv4_opt_next(opts, opts_len, &pos, &opt);
        if (rc < 0)
            return rc; /* ATTACKS 8 */
        if (rc == 0)
            break;
    }

    uint16_t fl = tern_get16(buf + 6);
    out->hdr_len = (uint8_t)hlen;
    out->tos = buf[1];
    out->total_len = (uint16_t)total;
    out->id = tern_get16(buf + 4);
    out->rf = (fl & IP_FLAG_RF) != 0;
    out->df = (fl & IP_FLAG_DF) != 0;
    out->mf = (fl & IP_FLAG_MF) != 0;
    out->frag_off = (uint16_t)((fl & IP_OFF_MASK) * 8); /* <= 8191 * 8 = 65528 */
    out->ttl = buf[8];
    out->proto = buf[9];
    out->csum = tern_get16(buf + 10);
    out->src = tern_get32(buf + 12);
    out->dst = tern_get32(buf + 16);
    out->opts = opts_len ? opts : NULL;
    out->opts_len = (uint8_t)opts_len;
    out->payload_len = (uint16_t)payload; /* <= total <= 65535 */
    return (int)hlen;
}

int tern_ipv4_emit(const struct tern_ipv4_repr *r, uint8_t *buf, size_t cap)
{
    /* RFC 791 s3.1: the header is padded to a 32-bit boundary; we require
     * the caller to supply padded options (EOL/NOP filled). */
    if (r->opts_len > TERN_IPV4_HLEN_MAX - TERN_IPV4_HLEN_MIN || r->opts_len % 4 != 0 ||
        (r->opts_len && !r->opts))
        return TERN_E_INVAL;
    /* The fragment offset field counts 8-byte units; an unaligned offset
     * can't be represented. */
    if (r->frag_off % 8 != 0)
        return TERN_E_INVAL;
    size_t hlen = TERN_IPV4_HLEN_MIN + (size_t)r->opts_len;
    if ((size_t)r->payload_len > TERN_IPV4_MAX_LEN - hlen)
        return TERN_E_INVAL;
    if (cap < hlen)
        return TERN_E_NOSPC;
    if (r->opts_len)
        memmove(buf + TERN_IPV4_HLEN_MIN, r->opts, r->opts_len);
    buf[0] = (uint8_t)(0x40 | hlen / 4);
    buf[1] = r->tos;
    tern_put16(buf + 2, (uint16_t)(hlen + r->payload_len));
    tern_put16(buf + 4, r->id);
    uint16_t fl = (uint16_t)(r->frag_off / 8);
    if (r->rf)
        fl |= IP_FLAG_RF;
    if (r->df)
        fl |= IP_FLAG_DF;
    if (r->mf)
        fl |= IP_FLAG_MF;
    tern_put16(buf + 6, fl);
    buf[8] = r->ttl;
    buf[9] = r->proto;
    tern_put16(buf + 10, 0);
    tern_put32(buf + 12, r->src);
    tern_put32(buf + 16, r->dst);
    /* RFC 791 s3.1 "Header Checksum"; RFC 1071. */
    tern_put16(buf + 10, tern_csum(buf, hlen));
    return (int)hlen;
}

int tern_ipv4_opt_next(const uint8_t *opts, size_t len, size_t *pos, struct tern_ipv4_opt *opt)
{
    size_t p = *pos;
    if (p >= len)
        return 0;
    uint8_t type = opts[p];
    /* RFC 791 s3.1: "End of Option List" ends the list; what follows is padding. */
    if (type == TERN_IPOPT_EOL)
        return 0;
    /* RFC 791 s3.1: NOP is a single octet (option-type only). */
    if (type == TERN_IPOPT_NOP) {
        opt->type = type;
        opt->len = 1;
        opt->data = NULL;
        *pos = p + 1;
        return 1;
    }
    /* Every other option is type, length (counting type and length), data.
     * RFC 1122 s3.2.1.8: a length that is missing, below 2 or beyond the
     * header is malformed (ATTACKS 8: length 0 would loop forever). */
    if (len - p < 2)
        return TERN_E_BAD_OPT;
    uint8_t olen = opts[p + 1];
    if (olen < 2 || olen > len - p)
        return TERN_E_BAD_OPT;
    opt->type = type;
    opt->len = olen;
    opt->data = opts + p + 2;
    *pos = p + olen; /* olen >= 2: always advances */
    return 1;
}

char *tern_ipv4_ntoa(uint32_t addr, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16 & 0xff),
             (unsigned)(addr >> 8 & 0xff), (unsigned)(addr & 0xff));
    return buf;
}

int tern_ipv4_aton(const char *s, uint32_t *addr)
{
    /* Strict form, as inet_pton(AF_INET): exactly four decimal parts of
     * 1-3 digits, each 0..255, no leading zeros (which inet_aton would read
     * as octal), no sign, spaces, hex or trailing characters. */
    uint32_t a = 0;
    if (!s)
        return TERN_E_INVAL;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (*s != '.')
                return TERN_E_INVAL;
            s++;
        }
        if (*s < '0' || *s > '9')
            return TERN_E_INVAL;
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
            return TERN_E_INVAL;
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 3)
                return TERN_E_INVAL;
            v = v * 10 + (unsigned)(*s - '0');
            s++;
        }
        if (v > 255)
            return TERN_E_INVAL;
        a = a << 8 | v;
    }
    if (*s != '\0')
        return TERN_E_INVAL;
    *addr = a;
    return TERN_OK;
}
