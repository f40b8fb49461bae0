/*
 * forward.c - IPv4 forwarding for a stack with cfg.ip_forward (a router):
 * datagrams from the wire that are not for us are checked (RFC 1812
 * s5.3.4 link-layer broadcasts, s5.3.7 martian destinations), their TTL
 * decremented (s5.3.1) with an incremental checksum update (RFC 1624),
 * routed (longest prefix, ECMP: route.c), fragmented when the next hop's
 * MTU is smaller (RFC 791 s3.2 through frag.c) or refused with
 * "fragmentation needed" and the next-hop MTU when DF is set (RFC 1191
 * s4), and sent with one copy. Errors: time exceeded code 0, net
 * unreachable (no route, RFC 1812 s4.3.3.1), host unreachable (ARP gave
 * up, s5.2.7.1), frag needed; all through icmp_send_error, so RFC 1812
 * s4.3.2.7 "MUST NOT send" rules and the s4.3.2.8 rate limit apply.
 * Not: reassembly (routers forward fragments as they come), redirects
 * (DEVIATION below), directed-broadcast forwarding (RFC 2644 default off:
 * a directed broadcast of one of our subnets is taken as ours; others are
 * indistinguishable from unicast here), IP options processing (source
 * route, record route: options are carried as received), multicast
 * routing, TOS-based routing.
 */
#include <string.h>

#include "core/nat.h"
#include "core/stack_impl.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"
#include "tern/wire/icmp.h"

/* RFC 1812 s5.3.7 (and RFC 3927 s7): destinations a router never forwards
 * to. Sources were already filtered by ipv4_input (src_is_martian). */
static bool dst_unforwardable(uint32_t d)
{
    return (d >> 24) == 0 || ip_is_loopback(d) || ip_is_class_e(d) || ip_is_multicast(d) ||
           (d >> 16) == 0xa9fe; /* 169.254/16 link-local */
}

static bool src_unforwardable(uint32_t a)
{
    return (a >> 16) == 0xa9fe; /* RFC 3927 s7: link-local never leaves the link */
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m the 16-bit word holding TTL
 * and protocol; no full recomputation for a one-byte change. */
static void ttl_decrement(uint8_t *h)
{
    uint16_t old = tern_get16(h + 8);
    h[8]--;
    uint32_t sum = (uint32_t)(uint16_t)~tern_get16(h + 10) + (uint16_t)~old + tern_get16(h + 8);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    tern_put16(h + 10, (uint16_t)~sum);
}

void ip_forward(struct tern_stack *s, const struct ip_rx *rx, uint64_t now)
{
    const struct tern_ipv4_repr *ip = &rx->ip;
    /* RFC 1812 s5.3.4: never forward what arrived as a link-layer
     * broadcast (it was meant for this link only). */
    if (rx->link_bcast) {
        s->stats.ip.drop_not_for_us++;
        return;
    }
    if (dst_unforwardable(ip->dst) || src_unforwardable(ip->src)) {
        s->stats.ip.drop_martian++;
        return;
    }
    /* RFC 1812 s5.3.1: a datagram is forwarded only with TTL >= 2 (it
     * leaves with TTL - 1 >= 1); else time exceeded, code 0 (in transit).
     * Checked before the route, so traceroute sees this hop even toward a
     * destination it cannot reach. */
    if (ip->ttl <= 1) {
        s->stats.ip.drop_ttl++;
        icmp_send_error(s, rx, TERN_ICMP_TIMXCEED, TERN_ICMP_TIMXCEED_TTL, 0, now);
        return;
    }
    struct route_key key;
    route_key_make(&key, ip->src, ip->dst, ip->proto, ip->mf || ip->frag_off, rx->payload,
                   rx->len);
    uint32_t next_hop;
    int oif;
    struct tern_iface *ifc = NULL;
    if (route_lookup_key(s, &key, &next_hop, &oif) == TERN_OK)
        ifc = stack_iface(s, oif);
    if (!ifc || !ifc->up) {
        /* RFC 1812 s4.3.3.1: no route at all -> network unreachable. */
        s->stats.ip.fwd_no_route++;
        icmp_send_error(s, rx, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_NET, 0, now);
        return;
    }
    /* DEVIATION: RFC 1812 s5.2.7.2 says a router SHOULD send a redirect
     * when it forwards a datagram out of the interface it came in on
     * toward a next hop on the sender's subnet. We forward it and send
     * none (hosts here ignore redirects anyway, ATTACKS 21). */
    size_t total = rx->hdr_len + rx->len;
    if (total > ifc->mtu && ip->df) {
        /* RFC 1191 s4: "fragmentation needed and DF set" carries the MTU
         * of the next-hop network in the low 16 bits. */
        s->stats.ip.fwd_needfrag++;
        icmp_send_error(s, rx, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_NEEDFRAG, ifc->mtu, now);
        return;
    }
    /* NAT and firewall (nat_stack.c), after the checks above so that the
     * router's own ICMP errors quote what the sender sent. */
    struct ip_rx nat_rx;
    if (s->nat) {
        rx = nat_stack_forward(s, rx, ifc, &nat_rx, now);
        if (!rx)
            return;
        ip = &rx->ip;
    }
    int rc;
    uint8_t *at = s->txbuf + TERN_ETH_HLEN;
    if (total <= ifc->mtu) {
        /* The one copy: header as received (options too), then payload;
         * only TTL and checksum change. */
        memcpy(at, rx->hdr, rx->hdr_len);
        memcpy(at + rx->hdr_len, rx->payload, rx->len);
        ttl_decrement(at);
        rc = ip_link_output(s, ifc, next_hop, ip->dst, s->txbuf, TERN_ETH_HLEN + total, now);
    } else {
        /* RFC 791 s3.2: fragment for the next hop (a fragment is
         * refragmented, keeping its offset and final MF); frag.c copies
         * only copy-flagged options into the later fragments. Each
         * fragment is built once in txbuf. */
        struct tern_ipv4_repr h = *ip;
        h.ttl = (uint8_t)(ip->ttl - 1);
        h.opts = rx->hdr_len > TERN_IPV4_HLEN_MIN ? rx->hdr + TERN_IPV4_HLEN_MIN : NULL;
        h.opts_len = (uint8_t)(rx->hdr_len - TERN_IPV4_HLEN_MIN);
        struct ip_frag_ctx c = {.s = s, .ifc = ifc, .next_hop = next_hop, .dst = ip->dst, .now = now};
        rc = ipv4_fragment(&h, rx->payload, rx->len, ifc->mtu, at, TERN_IPV4_MAX_LEN,
                                ip_frag_emit, &c);
        if (rc >= 0)
            s->stats.ip.fwd_fragmented++;
    }
    if (rc < 0)
        s->stats.ip.fwd_errors++;
    else
        s->stats.ip.forwarded++;
}

void ip_queued_unreach(struct tern_stack *s, const uint8_t *dgram, size_t len, uint8_t code,
                       uint64_t now)
{
    struct ip_rx rx;
    memset(&rx, 0, sizeof rx);
    int h = tern_ipv4_parse(dgram, len, TERN_WIRE_TRUNC_OK | TERN_WIRE_NO_CSUM, &rx.ip);
    if (h < 0)
        return;
    if (stack_is_our_addr(s, rx.ip.src) || ip_is_loopback(rx.ip.src)) {
        icmp_local_unreach(s, dgram, len, code); /* ours: tell its owner */
        return;
    }
    /* A forwarded datagram: RFC 1812 s5.2.7.1, host unreachable to its
     * source. The quote shows the header as we sent it (TTL already
     * decremented), as Linux's does. */
    rx.hdr = dgram;
    rx.hdr_len = (size_t)h;
    rx.payload = dgram + h;
    rx.len = rx.ip.payload_len; /* clipped to the bytes present */
    icmp_send_error(s, &rx, TERN_ICMP_UNREACH, code, 0, now);
}
