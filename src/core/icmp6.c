/*
 * icmp6.c - ICMPv6 for a host (RFC 4443): echo replies (s4.2), echo
 * replies and errors for our echo endpoints (tern_echo_bind ids, shared
 * with IPv4 ping), Packet Too Big into the path MTU cache (RFC 8201 s4),
 * the errors we send (s2.4: rate-limited by a token bucket from the
 * icmp_rate_per_s/icmp_burst config; never about an ICMPv6 error, a
 * redirect, a multicast or link-layer multicast packet except Packet Too
 * Big and Parameter Problem code 2 for an option whose action bits say so,
 * or a packet from :: or a multicast source; at most 1280 bytes), and the
 * Neighbor Discovery messages: validated (RFC 4861 s6.1, s7.1 - hop limit
 * 255, source rules, options) by tern_nd_parse, then handed to nd6.c and
 * ra6.c. Not: MLD (the multicast module), redirects (ignored: RFC 4861
 * s8 lets a host do so - "redirects ignored unless enabled").
 */
#include <string.h>

#include "core/ip6_impl.h"
#include "tern/wire/bytes.h"

static bool rate_ok(struct tern_stack *s, uint64_t now)
{
    /* RFC 4443 s2.4 (f): a token bucket, as icmp.c's for IPv4. */
    struct ip6_state *v = s->v6;
    const uint64_t one = 1000000u, cap = (uint64_t)s->cfg.icmp_burst * one;
    uint64_t elapsed = now > v->icmp_last ? now - v->icmp_last : 0;
    v->icmp_last = now > v->icmp_last ? now : v->icmp_last;
    if (elapsed >= cap || elapsed * s->cfg.icmp_rate_per_s >= cap)
        v->icmp_tokens = cap;
    else
        v->icmp_tokens += elapsed * s->cfg.icmp_rate_per_s;
    if (v->icmp_tokens > cap)
        v->icmp_tokens = cap;
    if (v->icmp_tokens < one) {
        v->st.errors_rate_limited++;
        return false;
    }
    v->icmp_tokens -= one;
    return true;
}

/* The ICMPv6 type of the packet, or -1: a walk that only follows the
 * chain (the packet may be in error because of an option, which the wire
 * layer's walk refuses), at most TERN_IPV6_EXT_MAX headers. */
static int upper_icmp_type(const uint8_t *p, size_t len, uint8_t next)
{
    size_t off = 0;
    for (int i = 0; i <= TERN_IPV6_EXT_MAX; i++) {
        if (next == TERN_IPPROTO_ICMPV6)
            return off < len ? p[off] : -1;
        if (next != TERN_IPPROTO_HOPOPTS && next != TERN_IPPROTO_DSTOPTS &&
            next != TERN_IPPROTO_ROUTING && next != TERN_IPPROTO_FRAGMENT)
            return -1;
        if (len - off < 8)
            return -1;
        const uint8_t *h = p + off;
        if (next == TERN_IPPROTO_FRAGMENT && (h[2] || (h[3] & 0xf8)))
            return -1; /* not the first fragment: no upper header here */
        size_t hl = next == TERN_IPPROTO_FRAGMENT ? 8 : ((size_t)h[1] + 1) * 8;
        if (hl > len - off)
            return -1;
        next = h[0];
        off += hl;
    }
    return -1;
}

void icmp6_send_error(struct tern_stack *s, int ifindex, const uint8_t *dgram, size_t dlen,
                      bool link_mcast, uint8_t type, uint8_t code, uint32_t rest, uint64_t now)
{
    struct tern_ipv6_repr ip;
    if (tern_ipv6_parse(dgram, dlen, TERN_WIRE_TRUNC_OK, &ip) < 0)
        return;
    /* s2.4 (e.6): the source must identify a single node */
    if (tern_ipv6_is_unspecified(&ip.src) || tern_ipv6_is_multicast(&ip.src))
        return;
    /* s2.4 (e.3, e.4): not about multicast, except Packet Too Big and a
     * Parameter Problem code 2 (option action 10, RFC 8200 s4.2) */
    bool exempt = type == TERN_ICMPV6_PKT_TOO_BIG || (type == TERN_ICMPV6_PARAM_PROB && code == 2);
    if ((tern_ipv6_is_multicast(&ip.dst) || link_mcast) && !exempt)
        return;
    /* s2.4 (e.1, e.2): not about an ICMPv6 error or a redirect. The
     * upper layer is found by walking the extension headers. */
    int t = upper_icmp_type(dgram + TERN_IPV6_HLEN, dlen - TERN_IPV6_HLEN, ip.next);
    if (t >= 0 && (tern_icmpv6_is_error((uint8_t)t) || t == TERN_ICMPV6_REDIRECT))
        return;
    if (!rate_ok(s, now))
        return;
    /* s2.4 (c): as much of the invoking packet as fits in the minimum MTU */
    size_t q = dlen;
    if (q > TERN_IPV6_MIN_MTU - TERN_IPV6_HLEN - TERN_ICMPV6_HLEN)
        q = TERN_IPV6_MIN_MTU - TERN_IPV6_HLEN - TERN_ICMPV6_HLEN;
    /* s2.2: the source is the destination of the invoking packet when it
     * was one of our unicast addresses, else chosen. */
    const struct tern_ipv6_addr *src = NULL;
    if (!tern_ipv6_is_multicast(&ip.dst) && ip6_addr_usable(s, -1, &ip.dst))
        src = &ip.dst;
    /* copy the quote first: dgram may be the reassembly buffer */
    uint8_t quote[TERN_IPV6_MIN_MTU];
    memcpy(quote, dgram, q);
    int oif = tern_ipv6_is_link_local(&ip.src) ? ifindex : -1;
    if (ip6_send_icmp(s, oif, src, &ip.src, 0, type, code, rest, quote, q, now) == TERN_OK)
        s->v6->st.errors_tx++;
}

static struct echo_ep *echo_find6(struct tern_stack *s, uint16_t id)
{
    for (int i = 0; i < TERN_ECHO_MAX; i++)
        if (s->echo[i].used && s->echo[i].id == id)
            return &s->echo[i];
    return NULL;
}

void icmp6_echo_local_error(struct tern_stack *s, const struct tern_ipv6_addr *from, uint16_t id,
                            uint16_t seq, uint8_t type, uint8_t code)
{
    struct echo_ep *ep = echo_find6(s, id);
    if (!ep)
        return;
    struct tern_echo_event ev = {.is_error = true, .v6 = true, .from6 = *from, .id = id,
                                 .seq = seq, .type = type, .code = code};
    ep->fn(ep->ctx, &ev);
}

/* An error quoting one of our datagrams: PMTU, echo owners. */
static void error_input(struct tern_stack *s, const struct tern_ipv6_repr *ip,
                        const struct tern_icmpv6_repr *m, uint64_t now)
{
    struct tern_ipv6_repr q;
    if (tern_ipv6_parse(m->data, m->data_len, TERN_WIRE_TRUNC_OK, &q) < 0)
        return;
    /* it must quote a datagram we sent (from one of our addresses) */
    if (!ip6_addr_ours(s, &q.src, NULL))
        return;
    if (m->type == TERN_ICMPV6_PKT_TOO_BIG) {
        s->v6->st.pkt_too_big_rx++;
        pmtu6_learn(s, &q.dst, m->rest, now); /* RFC 8201 s4 */
    }
    struct tern_ipv6_ext x;
    size_t plen = m->data_len - TERN_IPV6_HLEN;
    if (tern_ipv6_ext_walk(m->data + TERN_IPV6_HLEN, plen, q.next, &x) < 0 ||
        x.proto != TERN_IPPROTO_ICMPV6 || (x.frag && x.frag_off) || plen - x.off < 8)
        return;
    const uint8_t *e = m->data + TERN_IPV6_HLEN + x.off;
    if (e[0] != TERN_ICMPV6_ECHO_REQUEST)
        return;
    struct echo_ep *ep = echo_find6(s, tern_get16(e + 4));
    if (!ep)
        return;
    struct tern_echo_event ev = {.is_error = true, .v6 = true, .from6 = ip->src,
                                 .id = tern_get16(e + 4), .seq = tern_get16(e + 6),
                                 .ttl = ip->hop_limit, .type = m->type, .code = m->code,
                                 .next_mtu = m->type == TERN_ICMPV6_PKT_TOO_BIG
                                                 ? (uint16_t)(m->rest > 65535 ? 65535 : m->rest)
                                                 : 0};
    ep->fn(ep->ctx, &ev);
}

static void nd_input(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
                     const struct tern_icmpv6_repr *m, uint64_t now)
{
    struct ip6_state *v = s->v6;
    v->st.nd_rx++;
    struct tern_nd_repr nd;
    /* RFC 4861 s6.1, s7.1: invalid messages are silently discarded */
    if (tern_nd_parse(ip, m, &nd) < 0) {
        v->st.nd_invalid++;
        return;
    }
    switch (m->type) {
    case TERN_ICMPV6_NEIGHBOR_SOLICIT:
        nd6_ns_input(s, ifc, ip, &nd, now);
        break;
    case TERN_ICMPV6_NEIGHBOR_ADVERT:
        nd6_na_input(s, ifc, ip, &nd, now);
        break;
    case TERN_ICMPV6_ROUTER_ADVERT:
        v->st.ra_rx++;
        if (!s->cfg.ip_forward) /* RFC 4861 s6.2.7: routers only note them */
            ra6_input(s, ifc, ip, &nd, now);
        break;
    default: /* RS (a host ignores them, s6.2.6), Redirect (ignored) */
        break;
    }
}

void icmp6_input(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
                 const uint8_t *p, size_t len, bool link_mcast, uint64_t now)
{
    struct ip6_state *v = s->v6;
    v->st.icmp_rx++;
    struct tern_icmpv6_repr m;
    if (tern_icmpv6_parse(p, len, &ip->src, &ip->dst, 0, &m) < 0) {
        v->st.icmp_drop++;
        return;
    }
    (void)link_mcast;
    switch (m.type) {
    case TERN_ICMPV6_ECHO_REQUEST: {
        v->st.echo_requests++;
        if (tern_ipv6_is_unspecified(&ip->src))
            return;
        /* s4.2: the reply's source is the request's destination if that
         * was unicast; to a multicast request, a unicast address of ours
         * (chosen). Data and identifiers are returned unchanged. */
        const struct tern_ipv6_addr *src =
            tern_ipv6_is_multicast(&ip->dst) ? NULL : &ip->dst;
        int oif = tern_ipv6_is_link_local(&ip->src) ? ifc->index : -1;
        (void)ip6_send_icmp(s, oif, src, &ip->src, 0, TERN_ICMPV6_ECHO_REPLY, 0, m.rest, m.data,
                            m.data_len, now);
        return;
    }
    case TERN_ICMPV6_ECHO_REPLY: {
        struct echo_ep *ep = echo_find6(s, (uint16_t)(m.rest >> 16));
        if (!ep)
            return;
        struct tern_echo_event ev = {.v6 = true, .from6 = ip->src, .id = (uint16_t)(m.rest >> 16),
                                     .seq = (uint16_t)m.rest, .ttl = ip->hop_limit,
                                     .data = m.data, .len = m.data_len};
        ep->fn(ep->ctx, &ev);
        return;
    }
    case TERN_ICMPV6_ROUTER_SOLICIT:
    case TERN_ICMPV6_ROUTER_ADVERT:
    case TERN_ICMPV6_NEIGHBOR_SOLICIT:
    case TERN_ICMPV6_NEIGHBOR_ADVERT:
    case TERN_ICMPV6_REDIRECT:
        nd_input(s, ifc, ip, &m, now);
        return;
    default:
        if (tern_icmpv6_is_error(m.type))
            error_input(s, ip, &m, now);
        /* s2.4 (a, b): unknown informational messages are dropped */
        return;
    }
}
