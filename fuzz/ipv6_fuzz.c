/*
 * fuzz/ipv6_fuzz.c - libFuzzer target for the IPv6, ICMPv6/ND/MLD and IGMP
 * codecs (src/wire/ipv6.c, icmpv6.c, igmp.c): the IPv6 header with each
 * flag, the extension-header walk (its bounds: ATTACKS long chains, headers
 * past the packet, RH0), ICMPv6 parse with and without the checksum, the
 * ND receiver checks and option walk, MLD queries and report records, IGMP
 * messages and records, address text both ways. Oracles: every walk stays
 * inside its buffer and ends, parse-emit-parse agrees, text round-trips.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tern/wire/icmpv6.h"
#include "tern/wire/igmp.h"
#include "tern/wire/ipv6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[65536 + 64];

static void check_ext(const uint8_t *p, size_t len, uint8_t next)
{
    struct tern_ipv6_ext x;
    int rc = tern_ipv6_ext_walk(p, len, next, &x);
    if (rc == TERN_OK) {
        if (x.off > len || x.count > TERN_IPV6_EXT_MAX || x.off > TERN_IPV6_EXT_MAX_LEN + 8)
            abort();
        if (x.frag && (x.frag_off % 8 || x.frag_hdr + 8u > len))
            abort();
    } else if (x.icmp && (x.icmp_code > 2 || x.icmp_ptr >= TERN_IPV6_HLEN + len)) {
        abort(); /* a Parameter Problem must point inside the packet */
    }
}

static void check_nd(const struct tern_ipv6_repr *ip, const struct tern_icmpv6_repr *m)
{
    struct tern_nd_repr r;
    if (tern_nd_parse(ip, m, &r) == TERN_OK) {
        size_t pos = 0, n = 0;
        struct tern_nd_opt o;
        int rc;
        while ((rc = tern_nd_opt_next(r.opt_bytes, r.opt_len, &pos, &o)) == 1) {
            if (o.len < 8 || o.p + o.len > r.opt_bytes + r.opt_len || ++n > r.opt_len / 8)
                abort();
            struct tern_nd_prefix pr;
            if (o.type == TERN_ND_OPT_PREFIX && tern_nd_prefix_parse(&o, &pr) == TERN_OK &&
                pr.len > 128)
                abort();
            uint32_t life;
            struct tern_ipv6_addr a;
            for (size_t i = 0; o.type == TERN_ND_OPT_RDNSS && i < 64; i++)
                if (tern_nd_rdnss_get(&o, i, &life, &a) != TERN_OK)
                    break;
        }
        if (rc != 0) /* nd_parse already walked the same options */
            abort();
        if (r.type == TERN_ICMPV6_NEIGHBOR_SOLICIT || r.type == TERN_ICMPV6_NEIGHBOR_ADVERT) {
            uint32_t rest;
            uint8_t body[32];
            int k = tern_nd_emit(&r, r.opts.src_ll, &rest, body, sizeof body);
            if (k != 24 || memcmp(body, r.target.b, 16) != 0)
                abort();
        }
    }
    struct tern_mld_query q;
    if (tern_mld_query_parse(ip, m, &q) == TERN_OK && q.v2 &&
        q.sources + 16 * (size_t)q.nsources > m->data + m->data_len)
        abort();
    if (m->type == TERN_ICMPV6_MLD2_REPORT) {
        size_t pos = 0, idx = 0;
        struct tern_mld2_record rec;
        while (tern_mld2_record_next(m, &pos, &idx, &rec) == 1)
            if (pos > m->data_len || idx > 65535)
                abort();
    }
}

static void check_v6(const uint8_t *d, size_t size, unsigned flags)
{
    struct tern_ipv6_repr ip, ip2;
    if (tern_ipv6_parse(d, size, flags, &ip) != TERN_IPV6_HLEN)
        return;
    if (ip.payload_len > size - TERN_IPV6_HLEN || ip.flow > 0xfffff)
        abort();
    /* the same header back (TRUNC_OK may have clipped the length field) */
    if (tern_ipv6_emit(&ip, out, sizeof out) != TERN_IPV6_HLEN || memcmp(out, d, 4) != 0 ||
        memcmp(out + 6, d + 6, 34) != 0)
        abort();
    /* link padding after the payload is not the parser's business */
    if (!(flags & TERN_WIRE_TRUNC_OK) &&
        tern_ipv6_parse(d, TERN_IPV6_HLEN + ip.payload_len, 0, &ip2) != TERN_IPV6_HLEN)
        abort();
    const uint8_t *p = d + TERN_IPV6_HLEN;
    check_ext(p, ip.payload_len, ip.next);
    struct tern_ipv6_ext x;
    if (tern_ipv6_ext_walk(p, ip.payload_len, ip.next, &x) == TERN_OK &&
        x.proto == TERN_IPPROTO_ICMPV6 && !(x.frag && x.frag_off)) {
        struct tern_icmpv6_repr m;
        size_t n = ip.payload_len - x.off;
        for (unsigned f = 0; f < 2; f++) {
            if (tern_icmpv6_parse(p + x.off, n, &ip.src, &ip.dst, f ? TERN_WIRE_NO_CSUM : 0, &m) != 8)
                continue;
            check_nd(&ip, &m);
            if (f == 0) { /* a verified message emits to the same bytes */
                int k = tern_icmpv6_emit(&m, &ip.src, &ip.dst, out, sizeof out);
                if (k != (int)n)
                    abort();
                if (memcmp(out, p + x.off, 2) || memcmp(out + 4, p + x.off + 4, n - 4))
                    abort();
            }
        }
    }
}

static void check_igmp(const uint8_t *d, size_t size)
{
    struct tern_igmp_repr r;
    for (unsigned f = 0; f < 2; f++) {
        if (tern_igmp_parse(d, size, f ? TERN_WIRE_NO_CSUM : 0, &r) != 8)
            continue;
        if (r.sources && r.sources + r.sources_len > d + size)
            abort();
        size_t pos = 0, idx = 0;
        struct tern_igmp3_record rec;
        while (r.type == TERN_IGMP_V3_REPORT && tern_igmp3_record_next(&r, &pos, &idx, &rec) == 1)
            if (pos > r.sources_len)
                abort();
    }
}

static void check_text(const uint8_t *d, size_t size)
{
    char s[128], t[TERN_IPV6_ADDRSTRLEN];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, d, n);
    s[n] = 0;
    struct tern_ipv6_addr a, b;
    if (tern_ipv6_aton(s, &a) == TERN_OK) {
        tern_ipv6_ntoa(&a, t);
        if (tern_ipv6_aton(t, &b) != TERN_OK || memcmp(a.b, b.b, 16) != 0)
            abort();
    }
    if (size >= 16) {
        memcpy(a.b, d, 16);
        tern_ipv6_ntoa(&a, t);
        if (strlen(t) >= TERN_IPV6_ADDRSTRLEN || tern_ipv6_aton(t, &b) != TERN_OK ||
            memcmp(a.b, b.b, 16) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535 + TERN_IPV6_HLEN)
        return 0;
    check_v6(data, size, 0);
    check_v6(data, size, TERN_WIRE_TRUNC_OK);
    if (size > 0)
        check_ext(data + 1, size - 1, data[0]);
    check_igmp(data, size);
    check_text(data, size);
    return 0;
}
