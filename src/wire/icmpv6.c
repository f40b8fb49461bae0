/*
 * src/wire/icmpv6.c - ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861,
 * RFC 8106) and MLD (RFC 2710, RFC 3810) codecs (tern/wire/icmpv6.h).
 */
#include "tern/wire/icmpv6.h"

#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"

static uint32_t icmpv6_sum(const struct tern_ipv6_addr *src, const struct tern_ipv6_addr *dst,
                           size_t len)
{
    /* RFC 4443 s2.3: the pseudo-header of RFC 8200 s8.1, Next Header 58 */
    return tern_ipv6_pseudo_sum(src, dst, (uint32_t)len, TERN_IPPROTO_ICMPV6);
}

int tern_icmpv6_parse(const uint8_t *buf, size_t len, const struct tern_ipv6_addr *src,
                      const struct tern_ipv6_addr *dst, unsigned flags,
                      struct tern_icmpv6_repr *out)
{
    if (len < TERN_ICMPV6_HLEN)
        return TERN_E_SHORT;
    if (!(flags & TERN_WIRE_NO_CSUM) &&
        tern_csum_fold(tern_csum_add(icmpv6_sum(src, dst, len), buf, len)) != 0)
        return TERN_E_BAD_CSUM;
    out->type = buf[0];
    out->code = buf[1];
    out->csum = tern_get16(buf + 2);
    out->rest = tern_get32(buf + 4);
    out->data = buf + TERN_ICMPV6_HLEN;
    out->data_len = len - TERN_ICMPV6_HLEN;
    return TERN_ICMPV6_HLEN;
}

int tern_icmpv6_emit(const struct tern_icmpv6_repr *r, const struct tern_ipv6_addr *src,
                     const struct tern_ipv6_addr *dst, uint8_t *buf, size_t cap)
{
    if (cap < TERN_ICMPV6_HLEN || r->data_len > cap - TERN_ICMPV6_HLEN ||
        r->data_len > UINT32_MAX - TERN_ICMPV6_HLEN)
        return TERN_E_NOSPC;
    size_t len = TERN_ICMPV6_HLEN + r->data_len;
    if (r->data_len && r->data != buf + TERN_ICMPV6_HLEN)
        memmove(buf + TERN_ICMPV6_HLEN, r->data, r->data_len);
    buf[0] = r->type;
    buf[1] = r->code;
    tern_put16(buf + 2, 0);
    tern_put32(buf + 4, r->rest);
    tern_put16(buf + 2, tern_csum_fold(tern_csum_add(icmpv6_sum(src, dst, len), buf, len)));
    return (int)len;
}

/* ---- Neighbor Discovery ---- */

int tern_nd_opt_next(const uint8_t *opts, size_t len, size_t *pos, struct tern_nd_opt *opt)
{
    if (*pos >= len)
        return 0;
    if (len - *pos < 2)
        return TERN_E_BAD_OPT;
    const uint8_t *p = opts + *pos;
    size_t olen = (size_t)p[1] * 8; /* RFC 4861 s4.6: units of 8 octets */
    if (olen == 0 || olen > len - *pos)
        return TERN_E_BAD_OPT; /* s4.6: length 0 - discard the whole packet */
    opt->type = p[0];
    opt->len = olen;
    opt->p = p;
    *pos += olen;
    return 1;
}

int tern_nd_prefix_parse(const struct tern_nd_opt *o, struct tern_nd_prefix *out)
{
    /* RFC 4861 s4.6.2: length 4 (32 bytes), prefix length 0..128 */
    if (o->type != TERN_ND_OPT_PREFIX || o->len != 32 || o->p[2] > 128)
        return TERN_E_BAD_OPT;
    out->len = o->p[2];
    out->on_link = o->p[3] & 0x80;
    out->autonomous = o->p[3] & 0x40;
    out->valid = tern_get32(o->p + 4);
    out->preferred = tern_get32(o->p + 8);
    memcpy(out->prefix.b, o->p + 16, 16);
    return TERN_OK;
}

int tern_nd_rdnss_get(const struct tern_nd_opt *o, size_t i, uint32_t *lifetime,
                      struct tern_ipv6_addr *out)
{
    /* RFC 8106 s5.1: 8 bytes, then 16 per address; length >= 3 */
    if (o->type != TERN_ND_OPT_RDNSS || o->len < 24 || (o->len - 8) % 16)
        return TERN_E_BAD_OPT;
    if (i >= (o->len - 8) / 16)
        return TERN_E_BAD_OPT;
    *lifetime = tern_get32(o->p + 4);
    memcpy(out->b, o->p + 8 + 16 * i, 16);
    return TERN_OK;
}

static int nd_collect(const uint8_t *opts, size_t len, struct tern_nd_opts *o)
{
    memset(o, 0, sizeof *o);
    size_t pos = 0;
    struct tern_nd_opt x;
    int rc;
    while ((rc = tern_nd_opt_next(opts, len, &pos, &x)) == 1) {
        switch (x.type) {
        case TERN_ND_OPT_SRC_LLADDR:
        case TERN_ND_OPT_TGT_LLADDR: {
            /* RFC 2464 s8: length 1, the 6-byte Ethernet address */
            if (x.len != 8)
                break; /* another link type's address: not ours to use */
            bool src = x.type == TERN_ND_OPT_SRC_LLADDR;
            bool *have = src ? &o->have_src_ll : &o->have_tgt_ll;
            if (!*have) {
                memcpy(src ? o->src_ll : o->tgt_ll, x.p + 2, 6);
                *have = true;
            }
            break;
        }
        case TERN_ND_OPT_PREFIX:
            o->prefixes++;
            break;
        case TERN_ND_OPT_RDNSS:
            o->rdnss++;
            break;
        case TERN_ND_OPT_MTU:
            if (x.len != 8)
                return TERN_E_BAD_OPT;
            if (!o->have_mtu) {
                o->mtu = tern_get32(x.p + 4);
                o->have_mtu = true;
            }
            break;
        case TERN_ND_OPT_REDIRECTED:
            if (!o->redirected) {
                o->redirected = x.p + 8;
                o->redirected_len = x.len - 8;
            }
            break;
        default: /* s4.6: unknown options are ignored */
            break;
        }
    }
    return rc;
}

int tern_nd_parse(const struct tern_ipv6_repr *ip, const struct tern_icmpv6_repr *m,
                  struct tern_nd_repr *out)
{
    memset(out, 0, sizeof *out);
    out->type = m->type;
    size_t fixed; /* bytes of the body before the options */
    switch (m->type) {
    case TERN_ICMPV6_ROUTER_SOLICIT: fixed = 0; break;
    case TERN_ICMPV6_ROUTER_ADVERT: fixed = 8; break;
    case TERN_ICMPV6_NEIGHBOR_SOLICIT:
    case TERN_ICMPV6_NEIGHBOR_ADVERT: fixed = 16; break;
    case TERN_ICMPV6_REDIRECT: fixed = 32; break;
    default: return TERN_E_UNSUPPORTED;
    }
    /* Every ND receiver (s6.1.1, s6.1.2, s7.1.1, s7.1.2, s8.1): hop limit
     * 255 (the packet cannot have come through a router), code 0, the
     * ICMP length at least the fixed part. */
    if (ip->hop_limit != 255 || m->code != 0)
        return TERN_E_BAD_FIELD;
    if (m->data_len < fixed)
        return TERN_E_SHORT;
    const uint8_t *d = m->data;
    out->opt_bytes = d + fixed;
    out->opt_len = m->data_len - fixed;
    int rc = nd_collect(out->opt_bytes, out->opt_len, &out->opts);
    if (rc < 0)
        return rc;
    bool src_unspec = tern_ipv6_is_unspecified(&ip->src);
    switch (m->type) {
    case TERN_ICMPV6_ROUTER_SOLICIT:
        /* s6.1.1: unspecified source - no source link-layer option */
        if (src_unspec && out->opts.have_src_ll)
            return TERN_E_BAD_FIELD;
        break;
    case TERN_ICMPV6_ROUTER_ADVERT:
        /* s6.1.2: the source is link-local */
        if (!tern_ipv6_is_link_local(&ip->src))
            return TERN_E_BAD_FIELD;
        out->cur_hop_limit = (uint8_t)(m->rest >> 24);
        out->managed = m->rest & 0x800000u;
        out->other = m->rest & 0x400000u;
        out->router_lifetime = (uint16_t)m->rest;
        out->reachable_ms = tern_get32(d);
        out->retrans_ms = tern_get32(d + 4);
        break;
    case TERN_ICMPV6_NEIGHBOR_SOLICIT: {
        memcpy(out->target.b, d, 16);
        /* s7.1.1: target not multicast; an unspecified source (DAD) goes
         * to a solicited-node group and carries no source link-layer option */
        if (tern_ipv6_is_multicast(&out->target))
            return TERN_E_BAD_FIELD;
        if (src_unspec) {
            struct tern_ipv6_addr sn;
            tern_ipv6_solicited_node(&ip->dst, &sn);
            if (memcmp(sn.b, ip->dst.b, 16) != 0 || out->opts.have_src_ll)
                return TERN_E_BAD_FIELD;
        }
        break;
    }
    case TERN_ICMPV6_NEIGHBOR_ADVERT:
        memcpy(out->target.b, d, 16);
        out->router = m->rest & 0x80000000u;
        out->solicited = m->rest & 0x40000000u;
        out->override = m->rest & 0x20000000u;
        /* s7.1.2: target not multicast; to a multicast destination the
         * Solicited flag is zero */
        if (tern_ipv6_is_multicast(&out->target) ||
            (tern_ipv6_is_multicast(&ip->dst) && out->solicited))
            return TERN_E_BAD_FIELD;
        break;
    case TERN_ICMPV6_REDIRECT:
        memcpy(out->target.b, d, 16);
        memcpy(out->dest.b, d + 16, 16);
        /* s8.1: link-local source; destination not multicast; the target
         * is link-local (a better router) or the destination itself */
        if (!tern_ipv6_is_link_local(&ip->src) || tern_ipv6_is_multicast(&out->dest) ||
            (!tern_ipv6_is_link_local(&out->target) && memcmp(out->target.b, out->dest.b, 16)))
            return TERN_E_BAD_FIELD;
        break;
    }
    return TERN_OK;
}

int tern_nd_emit(const struct tern_nd_repr *r, const uint8_t *ll, uint32_t *rest, uint8_t *buf,
                 size_t cap)
{
    size_t n = 0;
    uint8_t opt_type;
    switch (r->type) {
    case TERN_ICMPV6_ROUTER_SOLICIT:
        *rest = 0;
        opt_type = TERN_ND_OPT_SRC_LLADDR;
        break;
    case TERN_ICMPV6_NEIGHBOR_SOLICIT:
    case TERN_ICMPV6_NEIGHBOR_ADVERT:
        if (cap < 16)
            return TERN_E_NOSPC;
        memcpy(buf, r->target.b, 16);
        n = 16;
        if (r->type == TERN_ICMPV6_NEIGHBOR_SOLICIT) {
            *rest = 0;
            opt_type = TERN_ND_OPT_SRC_LLADDR;
        } else {
            *rest = (r->router ? 0x80000000u : 0) | (r->solicited ? 0x40000000u : 0) |
                    (r->override ? 0x20000000u : 0);
            opt_type = TERN_ND_OPT_TGT_LLADDR;
        }
        break;
    default:
        return TERN_E_INVAL;
    }
    if (ll) {
        if (cap - n < 8)
            return TERN_E_NOSPC;
        buf[n] = opt_type;
        buf[n + 1] = 1; /* RFC 2464 s8: one 8-byte unit */
        memcpy(buf + n + 2, ll, 6);
        n += 8;
    }
    return (int)n;
}

/* ---- MLD ---- */

int tern_mld_query_parse(const struct tern_ipv6_repr *ip, const struct tern_icmpv6_repr *m,
                         struct tern_mld_query *out)
{
    memset(out, 0, sizeof *out);
    if (m->type != TERN_ICMPV6_MLD_QUERY)
        return TERN_E_UNSUPPORTED;
    /* RFC 2710 s3 and RFC 3810 s5: sent with hop limit 1 from a link-local
     * address; RFC 3810 s5.1.14: queries from other sources are ignored. */
    if (ip->hop_limit != 1 || !tern_ipv6_is_link_local(&ip->src))
        return TERN_E_BAD_FIELD;
    if (m->data_len < 16)
        return TERN_E_SHORT;
    uint16_t code = (uint16_t)(m->rest >> 16);
    memcpy(out->group.b, m->data, 16);
    if (m->data_len < 20) { /* RFC 3810 s8.1: 24 bytes is an MLDv1 query */
        if (m->data_len != 16)
            return TERN_E_BAD_LEN; /* s8.1: 25..27 bytes: neither; ignore it */
        out->max_resp_ms = code;
        return TERN_OK;
    }
    out->v2 = true;
    /* RFC 3810 s5.1.3: Maximum Response Code, floating point from 32768 */
    out->max_resp_ms = code < 32768 ? code
                                    : (uint32_t)((code & 0xfffu) | 0x1000u)
                                          << (((code >> 12) & 7u) + 3);
    const uint8_t *d = m->data;
    out->s_flag = d[16] & 0x08;
    out->qrv = d[16] & 0x07;
    uint8_t qqic = d[17]; /* s5.1.9 */
    out->qqi_s = qqic < 128 ? qqic : (uint32_t)((qqic & 0xfu) | 0x10u) << (((qqic >> 4) & 7u) + 3);
    out->nsources = tern_get16(d + 18);
    if ((size_t)out->nsources * 16 > m->data_len - 20)
        return TERN_E_BAD_LEN;
    out->sources = d + 20;
    return TERN_OK;
}

int tern_mld2_record_next(const struct tern_icmpv6_repr *m, size_t *pos, size_t *index,
                          struct tern_mld2_record *rec)
{
    /* RFC 3810 s5.2: rest = Reserved (16) | Nr of Mcast Address Records (16) */
    size_t count = m->rest & 0xffffu;
    if (*index >= count)
        return *pos == m->data_len ? 0 : TERN_E_BAD_LEN;
    if (m->data_len - *pos < 20)
        return TERN_E_SHORT;
    const uint8_t *r = m->data + *pos;
    /* s5.2.4: type, aux data length (32-bit words), number of sources,
     * the address, the sources, the auxiliary data */
    size_t nsrc = tern_get16(r + 2);
    size_t need = 20 + 16 * nsrc + 4 * (size_t)r[1];
    if (need > m->data_len - *pos)
        return TERN_E_SHORT;
    rec->type = r[0];
    memcpy(rec->group.b, r + 4, 16);
    rec->nsources = (uint16_t)nsrc;
    rec->sources = r + 20;
    *pos += need;
    (*index)++;
    return 1;
}

int tern_mld2_report_emit(const struct tern_mld2_record *recs, size_t n, uint32_t *rest,
                          uint8_t *buf, size_t cap)
{
    if (n > 0xffff || n * 20 > cap)
        return TERN_E_NOSPC;
    for (size_t i = 0; i < n; i++) {
        uint8_t *r = buf + 20 * i;
        r[0] = recs[i].type;
        r[1] = 0;
        tern_put16(r + 2, 0);
        memcpy(r + 4, recs[i].group.b, 16);
    }
    *rest = (uint32_t)n;
    return (int)(n * 20);
}
