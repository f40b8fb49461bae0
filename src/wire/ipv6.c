/*
 * src/wire/ipv6.c - IPv6 header, extension-header walk and addresses
 * (tern/wire/ipv6.h). RFC 8200 (the header, s4 extension headers, s8.1 the
 * pseudo-header), RFC 5095 (RH0), RFC 4291 / RFC 5952 (addresses).
 */
#include "tern/wire/ipv6.h"

#include <stdio.h>
#include <string.h>

#include "tern/wire/bytes.h"
#include "wire/text.h"
#include "tern/wire/checksum.h"

int tern_ipv6_parse(const uint8_t *buf, size_t len, unsigned flags, struct tern_ipv6_repr *out)
{
    if (len < TERN_IPV6_HLEN)
        return TERN_E_SHORT;
    /* RFC 8200 s3: version 4 bits, traffic class 8, flow label 20 */
    uint32_t w = tern_get32(buf);
    if (w >> 28 != 6)
        return TERN_E_BAD_VERSION;
    uint16_t plen = tern_get16(buf + 4);
    if (plen == 0) /* a Jumbo Payload option would follow (RFC 2675): not supported */
        return TERN_E_BAD_LEN;
    if (plen > len - TERN_IPV6_HLEN) {
        if (!(flags & TERN_WIRE_TRUNC_OK))
            return TERN_E_BAD_LEN;
        plen = (uint16_t)(len - TERN_IPV6_HLEN);
    }
    out->tclass = (uint8_t)(w >> 20);
    out->flow = w & 0xfffffu;
    out->payload_len = plen;
    out->next = buf[6];
    out->hop_limit = buf[7];
    memcpy(out->src.b, buf + 8, 16);
    memcpy(out->dst.b, buf + 24, 16);
    return TERN_IPV6_HLEN;
}

int tern_ipv6_emit(const struct tern_ipv6_repr *r, uint8_t *buf, size_t cap)
{
    if (r->flow > 0xfffffu)
        return TERN_E_INVAL;
    if (cap < TERN_IPV6_HLEN)
        return TERN_E_NOSPC;
    tern_put32(buf, 6u << 28 | (uint32_t)r->tclass << 20 | r->flow);
    tern_put16(buf + 4, r->payload_len);
    buf[6] = r->next;
    buf[7] = r->hop_limit;
    memcpy(buf + 8, r->src.b, 16);
    memcpy(buf + 24, r->dst.b, 16);
    return TERN_IPV6_HLEN;
}

uint32_t tern_ipv6_pseudo_sum(const struct tern_ipv6_addr *src, const struct tern_ipv6_addr *dst,
                              uint32_t len, uint8_t next)
{
    /* RFC 8200 s8.1: 16 + 16 address bytes, the 32-bit upper-layer packet
     * length, 24 zero bits, the Next Header of the upper layer. */
    uint32_t s = tern_csum_add(0, src->b, 16);
    s = tern_csum_add(s, dst->b, 16);
    return s + (len >> 16) + (len & 0xffff) + next;
}

/* Options of a Hop-by-Hop or Destination Options header (RFC 8200 s4.2).
 * h points at the header, n its length; base is its offset from the IPv6
 * header (for the ICMP pointer). */
static int ext_options(const uint8_t *h, size_t n, uint32_t base, bool hbh,
                       struct tern_ipv6_ext *out)
{
    size_t i = 2, pad = 0;
    while (i < n) {
        uint8_t t = h[i];
        if (t == 0) { /* Pad1 */
            if (++pad > 7)
                return TERN_E_BAD_OPT;
            i++;
            continue;
        }
        if (i + 2 > n || i + 2 + (size_t)h[i + 1] > n)
            return TERN_E_BAD_OPT; /* an option runs past its header */
        size_t olen = h[i + 1];
        if (t == 1) { /* PadN */
            pad += 2 + olen;
            if (pad > 7)
                return TERN_E_BAD_OPT;
            for (size_t k = 0; k < olen; k++)
                if (h[i + 2 + k])
                    return TERN_E_BAD_OPT;
            i += 2 + olen;
            continue;
        }
        pad = 0;
        if (t == 5 && hbh) { /* Router Alert (RFC 2711): 2 bytes of value */
            if (olen != 2)
                return TERN_E_BAD_OPT;
            out->router_alert = true;
        } else {
            /* s4.2: the two high bits of an unrecognized type say what to do */
            switch (t >> 6) {
            case 0: /* skip */
                break;
            case 1: /* discard silently */
                return TERN_E_BAD_OPT;
            case 2: /* discard, Parameter Problem code 2 even to multicast */
            case 3: /* discard, Parameter Problem code 2 unless multicast */
                out->icmp = true;
                out->icmp_if_unicast = (t >> 6) == 3;
                out->icmp_code = 2;
                out->icmp_ptr = base + (uint32_t)i;
                return TERN_E_BAD_OPT;
            }
        }
        i += 2 + olen;
    }
    return TERN_OK;
}

int tern_ipv6_ext_walk(const uint8_t *payload, size_t len, uint8_t next, struct tern_ipv6_ext *out)
{
    memset(out, 0, sizeof *out);
    size_t off = 0;
    uint32_t next_ptr = 6; /* the fixed header's Next Header field */
    for (;;) {
        if (next != TERN_IPPROTO_HOPOPTS && next != TERN_IPPROTO_DSTOPTS &&
            next != TERN_IPPROTO_ROUTING && next != TERN_IPPROTO_FRAGMENT &&
            next != TERN_IPPROTO_AH)
            break; /* the upper layer (or No Next Header, ESP, an unknown one) */
        if (out->count == TERN_IPV6_EXT_MAX || off > TERN_IPV6_EXT_MAX_LEN)
            return TERN_E_UNSUPPORTED;
        uint32_t base = TERN_IPV6_HLEN + (uint32_t)off;
        if (next == TERN_IPPROTO_HOPOPTS && off != 0) {
            /* s4.1: Hop-by-Hop only right after the IPv6 header; elsewhere
             * its value is an unrecognized Next Header (code 1). */
            out->icmp = true;
            out->icmp_code = 1;
            out->icmp_ptr = next_ptr;
            return TERN_E_BAD_FIELD;
        }
        if (len - off < 8)
            return TERN_E_SHORT; /* every extension header is at least 8 bytes */
        const uint8_t *h = payload + off;
        size_t hlen = next == TERN_IPPROTO_FRAGMENT ? 8
                      : next == TERN_IPPROTO_AH     ? ((size_t)h[1] + 2) * 4 /* RFC 4302 s2.2 */
                                                    : ((size_t)h[1] + 1) * 8;
        if (hlen > len - off)
            return TERN_E_SHORT;
        out->count++;
        switch (next) {
        case TERN_IPPROTO_HOPOPTS:
        case TERN_IPPROTO_DSTOPTS: {
            bool hbh = next == TERN_IPPROTO_HOPOPTS;
            if (hbh)
                out->hbh = true;
            int rc = ext_options(h, hlen, base, hbh, out);
            if (rc < 0)
                return rc;
            break;
        }
        case TERN_IPPROTO_ROUTING:
            /* s4.4: Segments Left 0 - ignore the header and go on; otherwise
             * the type must be one we process, and we process none (RFC 5095
             * s3: type 0 is treated as unrecognized): Parameter Problem code
             * 0 pointing at the Routing Type. */
            if (h[3] != 0) {
                out->icmp = true;
                out->icmp_code = 0;
                out->icmp_ptr = base + 2;
                return TERN_E_BAD_FIELD;
            }
            break;
        case TERN_IPPROTO_FRAGMENT: {
            uint16_t fo = tern_get16(h + 2);
            out->frag = true;
            out->frag_hdr = (uint16_t)off;
            out->unfrag_len = (uint16_t)off;
            out->frag_off = (uint16_t)(fo & 0xfff8u);
            out->more = fo & 1u;
            out->frag_id = tern_get32(h + 4);
            out->atomic = out->frag_off == 0 && !out->more;
            if (out->frag_off != 0) {
                /* not the first fragment: what follows is data */
                out->proto = h[0];
                out->next_ptr = (uint16_t)base;
                out->off = (uint16_t)(off + 8);
                return TERN_OK;
            }
            break;
        }
        default: /* AH: walked over; its check is IPsec's business */
            break;
        }
        next_ptr = base; /* every extension header's Next Header is its first byte */
        next = h[0];
        off += hlen;
    }
    if (off > TERN_IPV6_EXT_MAX_LEN)
        return TERN_E_UNSUPPORTED;
    out->proto = next;
    out->off = (uint16_t)off;
    out->next_ptr = (uint16_t)next_ptr;
    return TERN_OK;
}

int tern_ipv6_frag_emit(const struct tern_ipv6_frag_repr *r, uint8_t *buf, size_t cap)
{
    if (r->frag_off % 8 || r->frag_off > 65528)
        return TERN_E_INVAL;
    if (cap < 8)
        return TERN_E_NOSPC;
    buf[0] = r->next;
    buf[1] = 0;
    tern_put16(buf + 2, (uint16_t)(r->frag_off | (r->more ? 1u : 0u)));
    tern_put32(buf + 4, r->id);
    return 8;
}

static bool zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

bool tern_ipv6_is_unspecified(const struct tern_ipv6_addr *a) { return zero(a->b, 16); }
bool tern_ipv6_is_loopback(const struct tern_ipv6_addr *a) { return zero(a->b, 15) && a->b[15] == 1; }
bool tern_ipv6_is_multicast(const struct tern_ipv6_addr *a) { return a->b[0] == 0xff; }
bool tern_ipv6_is_link_local(const struct tern_ipv6_addr *a)
{
    return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}
bool tern_ipv6_is_v4mapped(const struct tern_ipv6_addr *a)
{
    return zero(a->b, 10) && a->b[10] == 0xff && a->b[11] == 0xff;
}

void tern_ipv6_solicited_node(const struct tern_ipv6_addr *a, struct tern_ipv6_addr *out)
{
    static const uint8_t pfx[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    uint8_t low[3] = {a->b[13], a->b[14], a->b[15]}; /* a and out may be the same */
    memcpy(out->b, pfx, 13);
    memcpy(out->b + 13, low, 3);
}

void tern_ipv6_mcast_mac(const struct tern_ipv6_addr *a, uint8_t mac[6])
{
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, a->b + 12, 4);
}

char *tern_ipv6_ntoa(const struct tern_ipv6_addr *a, char *buf)
{
    uint16_t g[8];
    for (int i = 0; i < 8; i++)
        g[i] = tern_get16(a->b + 2 * i);
    /* RFC 5952 s4.2: the longest run of >= 2 zero groups, the first if tied */
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        if (g[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && !g[j])
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    char *p = buf;
    size_t left = TERN_IPV6_ADDRSTRLEN;
    /* RFC 5952 s5: ::ffff:a.b.c.d for v4-mapped addresses */
    bool mapped = tern_ipv6_is_v4mapped(a);
    int ngroups = mapped ? 6 : 8;
    for (int i = 0; i < ngroups;) {
        if (i == best) {
            int n = snprintf(p, left, "::");
            p += n;
            left -= (size_t)n;
            i += best_len;
            continue;
        }
        int n = snprintf(p, left, "%x%s", g[i], i + 1 < ngroups && i + 1 != best ? ":" : "");
        p += n;
        left -= (size_t)n;
        i++;
    }
    if (mapped) {
        if (p > buf && p[-1] != ':')
            *p++ = ':', left--;
        snprintf(p, left, "%u.%u.%u.%u", a->b[12], a->b[13], a->b[14], a->b[15]);
    }
    return buf;
}

/* a.b.c.d at s (to its end): 4 bytes, strict (each 0..255, no leading zeros
 * beyond a single digit 0). */
static bool quad(const char *s, uint8_t out[4])
{
    for (int k = 0; k < 4; k++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned v = 0;
        const char *start = s;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s - '0');
            if (v > 255 || s - start > 2)
                return false;
            s++;
        }
        if (s - start > 1 && *start == '0')
            return false;
        out[k] = (uint8_t)v;
        if (k < 3 && *s++ != '.')
            return false;
    }
    return *s == '\0';
}

int tern_ipv6_aton(const char *s, struct tern_ipv6_addr *out)
{
    uint8_t b[16] = {0};
    int n = 0, gap = -1; /* groups written; where "::" stands (in groups) */
    const char *p = s;
    if (p[0] == ':') {
        if (p[1] != ':')
            return TERN_E_INVAL;
        gap = 0;
        p += 2;
        if (*p == '\0')
            goto done;
    }
    for (;;) {
        /* a dotted quad ends the address (RFC 4291 s2.2 form 3) */
        const char *q = p;
        while (*q && *q != ':' && *q != '.')
            q++;
        if (*q == '.') {
            if (n > 6 || !quad(p, b + 2 * n))
                return TERN_E_INVAL;
            n += 2;
            break;
        }
        int v = 0, digits = 0;
        while (digits < 5 && wire_hexval(*p) >= 0) {
            v = v << 4 | wire_hexval(*p++);
            digits++;
        }
        if (digits == 0 || digits > 4 || n == 8)
            return TERN_E_INVAL;
        b[2 * n] = (uint8_t)(v >> 8);
        b[2 * n + 1] = (uint8_t)v;
        n++;
        if (*p == '\0')
            break;
        if (*p != ':')
            return TERN_E_INVAL;
        p++;
        if (*p == ':') {
            if (gap >= 0)
                return TERN_E_INVAL; /* at most one "::" */
            gap = n;
            p++;
            if (*p == '\0')
                break;
        } else if (*p == '\0') {
            return TERN_E_INVAL; /* a trailing single ':' */
        }
    }
done:
    if (gap >= 0) {
        if (n == 8)
            return TERN_E_INVAL; /* "::" must stand for at least one group */
        int tail = n - gap;
        memmove(b + 16 - 2 * tail, b + 2 * gap, (size_t)(2 * tail));
        memset(b + 2 * gap, 0, (size_t)(16 - 2 * gap - 2 * tail));
    } else if (n != 8) {
        return TERN_E_INVAL;
    }
    memcpy(out->b, b, 16);
    return TERN_OK;
}
