/*
 * ipv6_in.c - IPv6 input (RFC 8200): header checks, the destination filter
 * (our usable addresses, the multicast groups we listen to), extension
 * headers walked with the wire layer's bounds (tern_ipv6_ext_walk: at most
 * TERN_IPV6_EXT_MAX headers, TERN_IPV6_EXT_MAX_LEN bytes) with the s4.2
 * option actions and Parameter Problems, RH0 dropped (RFC 5095),
 * reassembly (s4.5) with RFC 5722 (any overlap drops the whole datagram),
 * RFC 7112 (a first fragment without the whole header chain drops it too)
 * and atomic fragments processed on their own (RFC 8200 s4.5, RFC 6946),
 * then delivery to ICMPv6; forwarding when cfg.ip_forward is set
 * (ip6_forward). Not: TCP/UDP over IPv6 (next round: counted as unknown
 * protocol, no error sent), multicast forwarding.
 *
 * Reassembly reuses the IPv4 engine (reasm.c: bounded pool, overlap and
 * duplicate rules, timeouts) in its own instance: a fragment becomes an
 * IPv4-shaped record whose (src, dst, id) are a keyed SipHash of the IPv6
 * (src, dst, Identification) - 80 bits the sender cannot steer into a
 * collision without the stack's secret - and whose tos carries the first
 * fragment's Next Header. The reassembled datagram is the fragmentable part
 * alone: the headers before the Fragment header were processed on every
 * fragment (s4.5: "the unfragmentable part" of the first is kept; here it
 * holds nothing a host acts on after that walk). DEVIATION: no ICMPv6
 * Time Exceeded (code 1) when a reassembly times out.
 */
#include <string.h>

#include "core/ip6_impl.h"
#include "core/reasm.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"

static void deliver(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
                    uint8_t proto, const uint8_t *p, size_t len, const uint8_t *dgram, size_t dlen,
                    uint16_t next_ptr, bool link_mcast, uint64_t now)
{
    struct ip6_state *v = s->v6;
    switch (proto) {
    case TERN_IPPROTO_ICMPV6:
        v->st.delivered++;
        v->cur_ip = ip;
        icmp6_input(s, ifc, ip, p, len, link_mcast, now);
        v->cur_ip = NULL;
        return;
    case TERN_IPPROTO_NONE: /* s4.7: nothing follows */
        v->st.delivered++;
        return;
    case TERN_IPPROTO_TCP:
    case TERN_IPPROTO_UDP:
        /* no IPv6 transport yet: dropped without an error */
        v->st.drop_unknown_proto++;
        return;
    default:
        /* s4 / RFC 4443 s3.4: an unrecognized Next Header - Parameter
         * Problem code 1 pointing at it. */
        v->st.drop_unknown_proto++;
        icmp6_send_error(s, ifc->index, dgram, dlen, link_mcast, TERN_ICMPV6_PARAM_PROB, 1,
                         next_ptr, now);
        return;
    }
}

static void frag_key(struct tern_stack *s, const struct tern_ipv6_repr *ip, uint32_t id,
                     struct tern_ipv4_repr *r)
{
    uint8_t k[37];
    memcpy(k, ip->src.b, 16);
    memcpy(k + 16, ip->dst.b, 16);
    tern_put32(k + 32, id);
    k[36] = 0x6f;
    uint64_t h = prng_hash(&s->rng, k, sizeof k);
    k[36] = 0x70;
    uint64_t h2 = prng_hash(&s->rng, k, sizeof k);
    r->src = (uint32_t)h;
    r->dst = (uint32_t)(h >> 32);
    r->id = (uint16_t)h2;
}

static void reasm_expired(void *ctx, const uint8_t *quote, size_t quote_len)
{
    (void)ctx, (void)quote, (void)quote_len;
}

uint64_t ip6_reasm_expire(struct tern_stack *s, uint64_t now)
{
    return ip_reasm_expire(s->v6->reasm, now, reasm_expired, NULL);
}

/* Minimum upper-layer header bytes the first fragment must hold (RFC 7112
 * s5: the whole header chain, up to and including the upper-layer header). */
static size_t upper_min(uint8_t proto)
{
    switch (proto) {
    case TERN_IPPROTO_TCP: return 20;
    case TERN_IPPROTO_UDP: return 8;
    case TERN_IPPROTO_ICMPV6: return 4;
    default: return 0;
    }
}

/* RFC 8200 s3 and RFC 4443 for a router (cfg.ip_forward): hop limit
 * decremented, Time Exceeded when it runs out, Destination Unreachable
 * without a route, Packet Too Big when the next link is too small -
 * routers never fragment (s5). Not forwarded (RFC 4291 s2.5.6, s2.5.2):
 * link-local sources or destinations, an unspecified source. Extension
 * headers are not looked at (RFC 8200 s4: a router may skip Hop-by-Hop).
 * Multicast is not forwarded (no multicast routing). */
static void ip6_forward(struct tern_stack *s, struct tern_iface *in, const struct tern_ipv6_repr *ip,
                        const uint8_t *p, size_t dlen, uint64_t now)
{
    struct ip6_state *v = s->v6;
    if (tern_ipv6_is_unspecified(&ip->src) || tern_ipv6_is_link_local(&ip->src) ||
        tern_ipv6_is_link_local(&ip->dst)) {
        v->st.drop_not_for_us++;
        return;
    }
    if (ip->hop_limit <= 1) {
        v->st.fwd_hop_limit++;
        icmp6_send_error(s, in->index, p, dlen, false, TERN_ICMPV6_TIME_EXCEEDED, 0, 0, now);
        return;
    }
    struct tern_ipv6_addr nh;
    int oif;
    struct tern_iface *out;
    if (route6_lookup(s, &ip->dst, &nh, &oif, now) < 0 || !(out = stack_iface(s, oif)) ||
        !v->ifs[oif].enabled) {
        v->st.fwd_no_route++;
        icmp6_send_error(s, in->index, p, dlen, false, TERN_ICMPV6_DST_UNREACH, 0, 0, now);
        return;
    }
    if (dlen > v->ifs[oif].mtu) {
        v->st.fwd_too_big++;
        icmp6_send_error(s, in->index, p, dlen, false, TERN_ICMPV6_PKT_TOO_BIG, 0,
                         v->ifs[oif].mtu, now);
        return;
    }
    if (v->tx_busy) {
        v->st.fwd_errors++;
        return;
    }
    v->tx_busy = true;
    v->tx_tag++;
    uint8_t *f = v->txbuf;
    memcpy(f + TERN_ETH_HLEN, p, dlen);
    f[TERN_ETH_HLEN + 7] = (uint8_t)(ip->hop_limit - 1);
    v->st.forwarded++;
    if (ip6_link_output(s, out, &nh, &ip->dst, f, TERN_ETH_HLEN + dlen, now) < 0)
        v->st.fwd_errors++;
    v->tx_busy = false;
}

void ipv6_input(struct tern_stack *s, struct tern_iface *ifc, const uint8_t *p, size_t len,
                bool link_mcast, uint64_t now)
{
    struct ip6_state *v = s->v6;
    v->st.rx++;
    struct tern_ipv6_repr ip;
    int rc = tern_ipv6_parse(p, len, 0, &ip);
    if (rc < 0) {
        if (rc == TERN_E_SHORT)
            v->st.drop_short++;
        else
            v->st.drop_hdr++;
        return;
    }
    size_t dlen = TERN_IPV6_HLEN + ip.payload_len; /* link padding trimmed */
    /* RFC 4291 s2.7: a multicast source is never valid; RFC 4291 s2.5.3:
     * ::1 never arrives from a link. */
    if (tern_ipv6_is_multicast(&ip.src) || tern_ipv6_is_loopback(&ip.src) ||
        tern_ipv6_is_loopback(&ip.dst)) {
        v->st.drop_hdr++;
        return;
    }
    bool mcast = tern_ipv6_is_multicast(&ip.dst);
    if (mcast) {
        if (!ip6_mcast_listening(s, ifc->index, &ip.dst)) {
            v->st.drop_not_for_us++;
            return;
        }
    } else {
        /* ours on any interface (weak host model, as IPv4 here), usable -
         * RFC 4862 s5.4: packets to a tentative address are discarded */
        int oif;
        struct ip6_addr_ent *e = ip6_addr_ours(s, &ip.dst, &oif);
        if (!e && s->cfg.ip_forward) {
            ip6_forward(s, ifc, &ip, p, dlen, now);
            return;
        }
        if (!e || e->state == A6_TENTATIVE || e->state == A6_DUPLICATE) {
            v->st.drop_not_for_us++;
            return;
        }
    }
    const uint8_t *pl = p + TERN_IPV6_HLEN;
    struct tern_ipv6_ext x;
    rc = tern_ipv6_ext_walk(pl, ip.payload_len, ip.next, &x);
    if (rc < 0) {
        /* RFC 5095 s3: RH0 with Segments Left > 0 is an unrecognized type:
         * Parameter Problem pointing at the type (walk says so) - counted
         * apart. The walk points at a Pad1 (type 0) for no other error. */
        if (rc == TERN_E_BAD_FIELD && x.icmp_code == 0 && x.icmp_ptr < dlen && p[x.icmp_ptr] == 0)
            v->st.drop_rh0++;
        else
            v->st.drop_ext++;
        /* s4.2 action 10 sends even to multicast; 11 only for unicast */
        if (x.icmp && (!x.icmp_if_unicast || !mcast))
            icmp6_send_error(s, ifc->index, p, dlen, link_mcast && x.icmp_if_unicast,
                             TERN_ICMPV6_PARAM_PROB, x.icmp_code, x.icmp_ptr, now);
        return;
    }
    if (x.frag && !x.atomic) {
        v->st.frag_rx++;
        size_t data_off = (size_t)x.frag_hdr + 8;
        struct tern_ipv4_repr r = {.hdr_len = TERN_IPV4_HLEN_MIN, .ttl = ip.hop_limit,
                                   .mf = x.more, .frag_off = x.frag_off};
        frag_key(s, &ip, x.frag_id, &r);
        if (x.frag_off == 0) {
            /* the walk went on into the data: x.proto is the upper layer */
            r.tos = pl[x.frag_hdr]; /* the Fragment header's Next Header */
            if ((size_t)ip.payload_len - x.off < upper_min(x.proto)) {
                /* RFC 7112 s5 / ATTACKS "tiny first fragment": dropped,
                 * with the whole datagram (a zero-length record makes the
                 * engine abandon what it holds under that key). */
                v->st.drop_tiny_frag++;
                r.payload_len = 0;
                const uint8_t *o;
                size_t olen;
                struct tern_ipv4_repr oi;
                (void)ip_reasm_input(v->reasm, &r, pl, 0, now, &o, &olen, &oi);
                return;
            }
        }
        size_t n = ip.payload_len - data_off;
        r.payload_len = (uint16_t)n;
        const uint8_t *o;
        size_t olen;
        struct tern_ipv4_repr oi;
        rc = ip_reasm_input(v->reasm, &r, pl + data_off, n, now, &o, &olen, &oi);
        ip6_timer_at(s, now + 60000000ull);
        if (rc < 0) {
            v->st.reasm_drop++;
            return;
        }
        if (rc == 0)
            return;
        v->st.reasm_ok++;
        /* Rebuild the datagram: the header, then the fragmentable part. */
        uint8_t *d = v->fragbuf;
        if (olen > 65535 || v->tx_busy) {
            v->st.reasm_drop++;
            return;
        }
        struct tern_ipv6_repr rh = ip;
        rh.next = oi.tos;
        rh.payload_len = (uint16_t)olen;
        (void)tern_ipv6_emit(&rh, d, TERN_IPV6_HLEN);
        memcpy(d + TERN_IPV6_HLEN, o, olen);
        struct tern_ipv6_ext x2;
        rc = tern_ipv6_ext_walk(d + TERN_IPV6_HLEN, olen, rh.next, &x2);
        if (rc < 0 || x2.frag) {
            v->st.drop_ext++;
            return;
        }
        deliver(s, ifc, &rh, x2.proto, d + TERN_IPV6_HLEN + x2.off, olen - x2.off, d,
                TERN_IPV6_HLEN + olen, x2.next_ptr, link_mcast, now);
        return;
    }
    deliver(s, ifc, &ip, x.proto, pl + x.off, ip.payload_len - x.off, p, dlen, x.next_ptr,
            link_mcast, now);
}
