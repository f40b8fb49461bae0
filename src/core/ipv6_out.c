/*
 * ipv6_out.c - IPv6 output (RFC 8200): route, source address, hop limit,
 * fragmentation by the source (s4.5, s5) to the path MTU (RFC 8201), the
 * link mapping (RFC 2464: multicast to 33:33:xx, unicast through NDP).
 * A transport calls tern_ip6_output with its payload (checksum already
 * computed over tern_ipv6_pseudo_sum of the src it passes).
 * Not: extension headers of our own (none are sent but the Fragment
 * header), loopback delivery to our own addresses (DEVIATION: refused with
 * TERN_E_UNSUPPORTED this round), jumbograms.
 */
#include <string.h>

#include "core/ip6_impl.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"

int ip6_link_output(struct tern_stack *s, struct tern_iface *ifc,
                    const struct tern_ipv6_addr *next_hop, const struct tern_ipv6_addr *dst,
                    uint8_t *frame, size_t len, uint64_t now)
{
    if (ifc->link == TERN_LINK_RAW_IP)
        return stack_dev_send(s, ifc->dev, frame + TERN_ETH_HLEN, len - TERN_ETH_HLEN);
    if (tern_ipv6_is_multicast(dst)) {
        uint8_t mac[6];
        tern_ipv6_mcast_mac(dst, mac); /* RFC 2464 s7 */
        return eth_xmit(s, ifc, mac, TERN_ETHERTYPE_IPV6, frame, len);
    }
    return nd6_output(s, ifc, next_hop, frame, len, now);
}

/* The interface and next hop for o: a given oif (link-local and multicast
 * destinations need one, RFC 4007 s6) or the routing table. */
int ip6_pick_route(struct tern_stack *s, const struct tern_ip6_out *o, struct tern_iface **ifc,
                   struct tern_ipv6_addr *nh, uint64_t now)
{
    int ifindex = o->oif;
    bool scoped = tern_ipv6_is_multicast(&o->dst) || tern_ipv6_is_link_local(&o->dst);
    if (ifindex < 0) {
        if (scoped) {
            /* Without a zone, the only IPv6 interface if there is one. */
            int found = -1, n = 0;
            for (int i = 0; i < s->n_ifaces; i++)
                if (s->v6->ifs[i].enabled && s->ifaces[i].up)
                    found = i, n++;
            if (n != 1)
                return TERN_E_INVAL;
            ifindex = found;
            *nh = o->dst;
        } else if (route6_lookup(s, &o->dst, nh, &ifindex, now) < 0) {
            return TERN_E_NETUNREACH;
        }
    } else if (scoped) {
        *nh = o->dst;
    } else {
        int rif;
        if (route6_lookup(s, &o->dst, nh, &rif, now) < 0 || rif != ifindex)
            *nh = o->dst; /* forced out of oif: treat dst as on-link there */
    }
    *ifc = stack_iface(s, ifindex);
    if (!*ifc || !(*ifc)->up || !s->v6->ifs[ifindex].enabled)
        return TERN_E_NETUNREACH;
    return TERN_OK;
}

/* Sends with src exactly as given when keep_src (DAD's ::). */
static int output(struct tern_stack *s, const struct tern_ip6_out *o, bool keep_src,
                  const uint8_t *payload, size_t len, uint64_t now)
{
    struct ip6_state *v = s->v6;
    if (!v)
        return TERN_E_INVAL;
    if (len > 65535)
        return TERN_E_BAD_LEN;
    if (o->flow > 0xfffffu || tern_ipv6_is_unspecified(&o->dst))
        return TERN_E_INVAL;
    if (ip6_addr_ours(s, &o->dst, NULL) || tern_ipv6_is_loopback(&o->dst))
        return TERN_E_UNSUPPORTED;
    struct tern_iface *ifc;
    struct tern_ipv6_addr nh;
    int rc = ip6_pick_route(s, o, &ifc, &nh, now);
    if (rc < 0) {
        v->st.drop_no_route++;
        return rc;
    }
    struct ip6_iface *i6 = &v->ifs[ifc->index];
    struct tern_ipv6_repr h = {.tclass = o->tclass, .flow = o->flow, .next = o->next,
                               .src = o->src, .dst = o->dst};
    if (!keep_src && tern_ipv6_is_unspecified(&h.src) &&
        !ip6_src_select(s, ifc->index, &o->dst, &h.src))
        return TERN_E_ADDRNOTAVAIL;
    if (!h.flow) {
        /* RFC 6437 s3: a flow label per flow, from a keyed hash of what
         * names the flow here (addresses, protocol): unpredictable, the
         * same for every datagram of it. A transport with ports passes its
         * own. RFC 6437 s2: never 0 when set, so 0 means "choose". */
        uint8_t k[33];
        memcpy(k, h.src.b, 16);
        memcpy(k + 16, h.dst.b, 16);
        k[32] = o->next;
        h.flow = (uint32_t)prng_hash(&s->rng, k, sizeof k) & 0xfffffu;
        if (!h.flow)
            h.flow = 1;
    }
    h.hop_limit = o->hop_limit ? o->hop_limit
                  : tern_ipv6_is_multicast(&o->dst) ? 1 /* RFC 3493 s5.2 default */
                                                    : i6->hop_limit;
    if (v->tx_busy)
        return TERN_E_AGAIN;
    v->tx_busy = true;
    v->tx_tag++;
    uint32_t mtu = tern_ipv6_is_multicast(&o->dst) ? i6->mtu : pmtu6_get(s, &o->dst, i6->mtu, now);
    uint8_t *f = v->txbuf;
    if (TERN_IPV6_HLEN + len <= mtu) {
        h.payload_len = (uint16_t)len;
        (void)tern_ipv6_emit(&h, f + TERN_ETH_HLEN, TERN_IPV6_HLEN);
        if (len && payload != f + TERN_ETH_HLEN + TERN_IPV6_HLEN)
            memmove(f + TERN_ETH_HLEN + TERN_IPV6_HLEN, payload, len);
        v->st.tx++;
        rc = ip6_link_output(s, ifc, &nh, &o->dst, f, TERN_ETH_HLEN + TERN_IPV6_HLEN + len, now);
        v->tx_busy = false;
        return rc < 0 && rc != TERN_E_NOMEM ? rc : TERN_OK;
    }
    if (o->dontfrag) {
        v->tx_busy = false;
        v->st.drop_too_big++;
        return TERN_E_BAD_LEN;
    }
    /* RFC 8200 s4.5: the source splits the fragmentable part (here the
     * whole payload: we add no extension headers) into pieces whose
     * lengths, all but the last, are multiples of 8, each after the IPv6
     * header and a Fragment header, the same Identification in all. The
     * id comes from the keyed generator (RFC 7739 s5.1: unpredictable). */
    size_t per = (mtu - TERN_IPV6_HLEN - 8) & ~(size_t)7;
    uint32_t id = (uint32_t)prng_next(&s->rng);
    uint8_t *g = v->fragbuf;
    for (size_t off = 0; off < len; off += per) {
        size_t n = len - off < per ? len - off : per;
        struct tern_ipv6_repr fh = h;
        fh.next = TERN_IPPROTO_FRAGMENT;
        fh.payload_len = (uint16_t)(8 + n);
        (void)tern_ipv6_emit(&fh, g + TERN_ETH_HLEN, TERN_IPV6_HLEN);
        struct tern_ipv6_frag_repr fr = {.next = o->next, .frag_off = (uint16_t)off,
                                         .more = off + n < len, .id = id};
        (void)tern_ipv6_frag_emit(&fr, g + TERN_ETH_HLEN + TERN_IPV6_HLEN, 8);
        memcpy(g + TERN_ETH_HLEN + TERN_IPV6_HLEN + 8, payload + off, n);
        v->st.tx++;
        v->st.frag_tx++;
        rc = ip6_link_output(s, ifc, &nh, &o->dst, g, TERN_ETH_HLEN + TERN_IPV6_HLEN + 8 + n,
                             now);
        if (rc < 0 && rc != TERN_E_NOMEM)
            break;
        rc = TERN_OK;
    }
    v->tx_busy = false;
    return rc;
}

int ip6_output(struct tern_stack *s, const struct tern_ip6_out *o, const uint8_t *payload,
               size_t len, uint64_t now)
{
    return output(s, o, false, payload, len, now);
}

int ip6_send_icmp(struct tern_stack *s, int oif, const struct tern_ipv6_addr *src,
                  const struct tern_ipv6_addr *dst, uint8_t hop_limit, uint8_t type, uint8_t code,
                  uint32_t rest, const uint8_t *body, size_t blen, uint64_t now)
{
    struct ip6_state *v = s->v6;
    struct tern_ip6_out o = {.dst = *dst, .next = TERN_IPPROTO_ICMPV6, .hop_limit = hop_limit,
                             .oif = oif};
    /* The checksum covers the source (RFC 4443 s2.3): choose it first. */
    if (src) {
        o.src = *src;
    } else {
        struct tern_ipv6_addr nh;
        struct tern_iface *ifc;
        if (ip6_pick_route(s, &o, &ifc, &nh, now) < 0 || !ip6_src_select(s, ifc->index, dst, &o.src))
            return TERN_E_ADDRNOTAVAIL;
    }
    if (8 + blen > 65535)
        return TERN_E_BAD_LEN;
    struct tern_icmpv6_repr m = {.type = type, .code = code, .rest = rest, .data = body,
                                 .data_len = blen};
    int n = tern_icmpv6_emit(&m, &o.src, &o.dst, v->icmpbuf, 65535);
    if (n < 0)
        return n;
    v->st.icmp_tx++;
    return output(s, &o, src != NULL, v->icmpbuf, (size_t)n, now);
}

int ip6_send_nd(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *src,
                const struct tern_ipv6_addr *dst, uint8_t type, uint32_t rest, const uint8_t *body,
                size_t blen, uint64_t now)
{
    /* Built in a frame of its own, never in txbuf/icmpbuf: an NS is sent
     * from inside output() (a resolution starting) while those hold the
     * datagram waiting for it. RFC 4861 s7.1: hop limit 255. */
    uint8_t f[TERN_ETH_HLEN + TERN_IPV6_HLEN + 128];
    if (blen > 128 - TERN_ICMPV6_HLEN)
        return TERN_E_BAD_LEN;
    struct tern_icmpv6_repr m = {.type = type, .rest = rest, .data = body, .data_len = blen};
    int n = tern_icmpv6_emit(&m, src, dst, f + TERN_ETH_HLEN + TERN_IPV6_HLEN, 128);
    if (n < 0)
        return n;
    struct tern_ipv6_repr h = {.payload_len = (uint16_t)n, .next = TERN_IPPROTO_ICMPV6,
                               .hop_limit = 255, .src = *src, .dst = *dst};
    (void)tern_ipv6_emit(&h, f + TERN_ETH_HLEN, TERN_IPV6_HLEN);
    s->v6->st.icmp_tx++;
    s->v6->st.tx++;
    s->v6->tx_tag++;
    return ip6_link_output(s, ifc, dst, dst, f, TERN_ETH_HLEN + TERN_IPV6_HLEN + (size_t)n, now);
}

int tern_ip6_output(struct tern_stack *s, const struct tern_ip6_out *o, const uint8_t *payload,
                    size_t len)
{
    if (!s || !o || (len && !payload) || !s->v6)
        return TERN_E_INVAL;
    return ip6_output(s, o, payload, len, tern_loop_now(s->loop));
}

int tern_echo6_send(struct tern_stack *s, const struct tern_ip6_out *o, uint16_t id, uint16_t seq,
                    const uint8_t *data, size_t len)
{
    if (!s || !o || !s->v6 || (len && !data) || len > 65535 - 8)
        return TERN_E_INVAL;
    uint64_t now = tern_loop_now(s->loop);
    const struct tern_ipv6_addr *src = tern_ipv6_is_unspecified(&o->src) ? NULL : &o->src;
    struct ip6_state *v = s->v6;
    if (!src) {
        /* choose it the way the datagram will go */
        struct tern_ipv6_addr sel;
        if (tern_ip6_src_for(s, &o->dst, o->oif, &sel) < 0)
            return TERN_E_ADDRNOTAVAIL;
        struct tern_ip6_out o2 = *o;
        o2.src = sel;
        return tern_echo6_send(s, &o2, id, seq, data, len);
    }
    /* RFC 4443 s4.1: Identifier and Sequence Number in the rest word. */
    struct tern_icmpv6_repr m = {.type = TERN_ICMPV6_ECHO_REQUEST,
                                 .rest = (uint32_t)id << 16 | seq,
                                 .data = data,
                                 .data_len = len};
    int n = tern_icmpv6_emit(&m, src, &o->dst, v->icmpbuf, 65535);
    if (n < 0)
        return n;
    struct tern_ip6_out o2 = *o;
    o2.next = TERN_IPPROTO_ICMPV6;
    v->st.icmp_tx++;
    return output(s, &o2, true, v->icmpbuf, (size_t)n, now);
}
