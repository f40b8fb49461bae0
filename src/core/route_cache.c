/*
 * route_cache.c - a connection's cached route and next hop. A TCP segment
 * on an established connection then costs no route lookup, no ARP hash and
 * no keyed hash for its IP ID: ip_output_rc checks one generation number.
 *
 * Validity: s->route_gen is bumped by every change that could alter what
 * the cache holds - a route added or deleted, an interface's address or
 * up/down state, an ARP entry removed (expired, evicted, flushed) or its
 * MAC changed. The MAC is used only while the ARP entry is reachable
 * (RFC 1122 s2.3.2.1): past confirmed + arp_reachable_us the datagram
 * goes through arp_output once, which revalidates a stale entry with a
 * unicast request as it always did, and the cache refills on the next
 * datagram after the peer confirms. The path MTU is not cached (ip_output
 * reads the interface's MTU, TCP its own MSS).
 * Not cached: datagrams to our own addresses (the loopback queue),
 * broadcasts, an interface-bound socket's (oif) output, and anything under
 * per-packet ECMP (each datagram must draw its own path).
 */
#include <string.h>

#include "core/stack_impl.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"

void route_cache_fill(struct tern_stack *s, struct route_cache *rc, const struct tern_ip_out *o,
                      const struct tern_iface *ifc, uint32_t next_hop, uint32_t src)
{
    memset(rc, 0, sizeof *rc);
    if (s->cfg.ecmp == TERN_ECMP_PACKET || o->dst == 0xffffffffu || ip_is_multicast(o->dst) ||
        (ifc->bcast && o->dst == ifc->bcast))
        return;
    rc->gen = s->route_gen;
    rc->src = o->src;
    rc->dst = o->dst;
    rc->proto = o->proto;
    rc->ifindex = ifc->index;
    rc->next_hop = next_hop;
    /* RFC 7739 s5.3 (see ipv4_out.c): the keyed hash of (src, dst, proto)
     * that picks this flow's counter and offset, computed once per
     * connection instead of once per datagram; the IDs are the ones
     * ip_next_id would give. */
    uint8_t k[9];
    tern_put32(k, src);
    tern_put32(k + 4, o->dst);
    k[8] = o->proto;
    uint64_t h = prng_hash(&s->rng, k, sizeof k);
    rc->id_off = (uint16_t)(h >> 32);
    rc->id_bucket = (uint16_t)(h % TERN_IPID_BUCKETS);
}

int route_cache_link_output(struct tern_stack *s, struct route_cache *rc, struct tern_iface *ifc,
                            uint8_t *frame, size_t len, uint64_t now)
{
    if (ifc->link == TERN_LINK_ETHERNET) {
        if (rc->has_mac && now < rc->mac_until)
            return eth_xmit(s, ifc, rc->mac, TERN_ETHERTYPE_IPV4, frame, len);
        rc->has_mac = false;
    }
    uint64_t gen = s->route_gen;
    int r = ip_link_output(s, ifc, rc->next_hop, rc->dst, frame, len, now);
    /* Only when the send changed nothing (a device may re-enter us). */
    if (ifc->link == TERN_LINK_ETHERNET && gen == s->route_gen && rc->gen == gen)
        rc->has_mac = arp_peek(s, ifc, rc->next_hop, rc->mac, &rc->mac_until, now);
    return r;
}
