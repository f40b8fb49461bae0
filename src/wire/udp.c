/*
 * udp.c - UDP header codec (RFC 768, RFC 1122 s4.1.3).
 * Checks the length field against the IP payload and the checksum over the
 * IPv4 pseudo-header (ATTACKS 22). Not: ports, sockets, ICMP port
 * unreachable - that is the UDP layer.
 */
#include "tern/wire/udp.h"

#include <stdbool.h>
#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/ipv4.h"

int tern_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, unsigned flags,
                   struct tern_udp_repr *out)
{
    if (len < TERN_UDP_HLEN)
        return TERN_E_SHORT;
    /* RFC 768 "Length": header plus data, so at least 8. ATTACKS 22: it must
     * fit in the IP payload; a shorter one trims the payload (the bytes
     * after it are not UDP data). */
    size_t ulen = tern_get16(buf + 4);
    if (ulen < TERN_UDP_HLEN || ulen > len)
        return TERN_E_BAD_LEN;
    uint16_t csum = tern_get16(buf + 6);
    /* RFC 768 / RFC 1122 s4.1.3.4: a zero checksum means "none sent" and is
     * accepted on IPv4; otherwise the sum over pseudo-header, header and data
     * (the length field's bytes only) must verify. */
    if (csum != 0 && !(flags & TERN_WIRE_NO_CSUM)) {
        uint32_t s = tern_csum_pseudo_ipv4(src, dst, TERN_IPPROTO_UDP, (uint16_t)ulen);
        if (tern_csum_fold(tern_csum_add(s, buf, ulen)) != 0)
            return TERN_E_BAD_CSUM;
    }
    out->sport = tern_get16(buf);
    out->dport = tern_get16(buf + 2);
    out->len = (uint16_t)ulen;
    out->csum = csum;
    out->payload = buf + TERN_UDP_HLEN;
    out->payload_len = (uint16_t)(ulen - TERN_UDP_HLEN); /* ulen >= 8 checked */
    return TERN_UDP_HLEN;
}

int tern_udp_emit(const struct tern_udp_repr *r, uint32_t src, uint32_t dst, uint8_t *buf,
                  size_t cap)
{
    /* r->len and r->csum are ignored: the length is 8 + payload_len and the
     * checksum is computed here. */
    size_t n = TERN_UDP_HLEN + (size_t)r->payload_len;
    if (n > 0xffff || (r->payload_len && !r->payload))
        return TERN_E_INVAL;
    if (cap < n)
        return TERN_E_NOSPC;
    /* Payload first. Apart from the buffer (the usual case: an
     * application's data), it is copied in the pass that sums it
     * (tern_csum_copy); when it may already sit at buf + 8 or overlap the
     * header bytes about to be written, moved, then summed. */
    uint32_t psum = 0;
    bool fused = false;
    if (r->payload_len) {
        uintptr_t p = (uintptr_t)r->payload, b = (uintptr_t)buf;
        if (p + r->payload_len <= b || b + n <= p) {
            psum = tern_csum_copy(buf + TERN_UDP_HLEN, r->payload, r->payload_len, 0);
            fused = true;
        } else {
            memmove(buf + TERN_UDP_HLEN, r->payload, r->payload_len);
        }
    }
    tern_put16(buf, r->sport);
    tern_put16(buf + 2, r->dport);
    tern_put16(buf + 4, (uint16_t)n);
    tern_put16(buf + 6, 0);
    /* RFC 768: the sum over pseudo-header, header and data; the data joins
     * at an even offset (8). */
    uint32_t s = tern_csum_pseudo_ipv4(src, dst, TERN_IPPROTO_UDP, (uint16_t)n);
    s = fused ? tern_csum_add_at(tern_csum_add(s, buf, TERN_UDP_HLEN), psum, 0)
              : tern_csum_add(s, buf, n);
    uint16_t c = tern_csum_fold(s);
    /* RFC 768: "If the computed checksum is zero, it is transmitted as all
     * ones" - zero on the wire means no checksum. */
    if (c == 0)
        c = 0xffff;
    tern_put16(buf + 6, c);
    return (int)n;
}
