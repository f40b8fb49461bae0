/*
 * nd6.c - IPv6 Neighbor Discovery (RFC 4861) for a host: the neighbour
 * cache with the s7.3.2 states (INCOMPLETE, REACHABLE, STALE, DELAY,
 * PROBE), address resolution (s7.2), NS and NA processing (s7.2.3-s7.2.5,
 * validated by tern_nd_parse first: s7.1), and the queue of datagrams
 * waiting for a resolution. Not: router advertisements (ra6.c), DAD
 * (ipv6_addr.c), redirects (ignored), proxy NA, anycast.
 *
 * Bounds as ARP's (arp.c, ATTACKS 3-4 and the IPv6 "NDP flood" line): at
 * most cfg.arp_cache_max entries in a keyed hash, so a flood of 10,000
 * sources or targets cannot grow it or make lookups slow; beyond the cap
 * an entry is evicted by a clock hand that skips REACHABLE entries and
 * entries with queued datagrams for a few steps (a flood of unsolicited
 * NSs creates STALE entries, s7.2.3, and they go first: existing peers in
 * use keep resolving). Queued datagrams: a preallocated pool of
 * cfg.arp_queue_total frame slots, at most cfg.arp_queue_per_entry per
 * entry (RFC 4861 s7.2.2 asks for at least one; the oldest is dropped).
 */
#include <stdlib.h>
#include <string.h>

#include "core/ip6_impl.h"
#include "tern/wire/eth.h"

int nd6_init(struct tern_stack *s)
{
    struct ip6_state *v = s->v6;
    uint32_t n = s->cfg.arp_cache_max;
    v->nd_max = n;
    v->nd_nbuckets = 1;
    while (v->nd_nbuckets < 2 * n)
        v->nd_nbuckets <<= 1;
    v->nd = calloc(n, sizeof *v->nd);
    v->nd_bucket = malloc(v->nd_nbuckets * sizeof *v->nd_bucket);
    v->qslot = calloc(s->cfg.arp_queue_total, sizeof *v->qslot);
    if (!v->nd || !v->nd_bucket || !v->qslot)
        return TERN_E_NOMEM;
    for (uint32_t i = 0; i < v->nd_nbuckets; i++)
        v->nd_bucket[i] = IP6_NIL;
    for (uint32_t i = 0; i < s->cfg.arp_queue_total; i++)
        v->qslot[i].next = i + 1 < s->cfg.arp_queue_total ? i + 1 : IP6_NIL;
    v->qfree = 0;
    return nd6_grow_queue(s, 1500);
}

void nd6_fini(struct tern_stack *s)
{
    free(s->v6->nd);
    free(s->v6->nd_bucket);
    free(s->v6->qslot);
    free(s->v6->qdata);
}

int nd6_grow_queue(struct tern_stack *s, uint32_t mtu)
{
    struct ip6_state *v = s->v6;
    size_t stride = TERN_ETH_HLEN + (size_t)mtu;
    if (stride <= v->qstride)
        return TERN_OK;
    uint8_t *d = malloc(stride * s->cfg.arp_queue_total);
    if (!d)
        return TERN_E_NOMEM;
    if (v->qdata)
        for (uint32_t i = 0; i < s->cfg.arp_queue_total; i++)
            memcpy(d + i * stride, v->qdata + i * v->qstride, v->qstride);
    free(v->qdata);
    v->qdata = d;
    v->qstride = stride;
    return TERN_OK;
}

size_t nd6_queued(const struct tern_stack *s)
{
    return s->v6 ? s->v6->qused : 0;
}

static uint32_t bucket_of(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *ip)
{
    uint8_t k[17];
    memcpy(k, ip->b, 16);
    k[16] = (uint8_t)ifindex;
    return (uint32_t)prng_hash(&s->rng, k, sizeof k) & (s->v6->nd_nbuckets - 1);
}

struct nd_ent *nd6_lookup(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *ip)
{
    struct ip6_state *v = s->v6;
    for (uint32_t i = v->nd_bucket[bucket_of(s, ifindex, ip)]; i != IP6_NIL; i = v->nd[i].hnext)
        if (v->nd[i].ifindex == ifindex && !memcmp(v->nd[i].ip.b, ip->b, 16))
            return &v->nd[i];
    return NULL;
}

static void queue_drop_all(struct tern_stack *s, struct nd_ent *e)
{
    struct ip6_state *v = s->v6;
    while (e->qlen) {
        uint32_t k = e->qhead;
        e->qhead = v->qslot[k].next;
        v->qslot[k].next = v->qfree;
        v->qfree = k;
        v->qused--;
        e->qlen--;
        v->st.nd_queue_drops++;
    }
    e->qhead = e->qtail = IP6_NIL;
    e->qdgrams = 0;
}

static void ent_free(struct tern_stack *s, struct nd_ent *e)
{
    struct ip6_state *v = s->v6;
    queue_drop_all(s, e);
    uint32_t idx = (uint32_t)(e - v->nd);
    uint32_t *pp = &v->nd_bucket[bucket_of(s, e->ifindex, &e->ip)];
    while (*pp != IP6_NIL && *pp != idx)
        pp = &v->nd[*pp].hnext;
    if (*pp == idx)
        *pp = e->hnext;
    memset(e, 0, sizeof *e);
    v->nd_count--;
    route_gen_bump(s);
}

static struct nd_ent *ent_new(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *ip,
                              uint64_t now)
{
    struct ip6_state *v = s->v6;
    struct nd_ent *e = NULL;
    if (v->nd_count < v->nd_max) {
        for (uint32_t i = 0; i < v->nd_max; i++) {
            uint32_t k = (v->nd_hand + i) % v->nd_max;
            if (v->nd[k].state == ND_FREE) {
                e = &v->nd[k];
                v->nd_hand = k + 1;
                break;
            }
        }
    }
    if (!e) {
        /* Full: evict. A few steps of the hand look for an entry that is
         * neither REACHABLE nor holding queued datagrams; then the one
         * under the hand goes whatever it is (bounded work per packet). */
        struct nd_ent *victim = NULL;
        for (uint32_t i = 0; i < 16 && !victim; i++) {
            struct nd_ent *c = &v->nd[(v->nd_hand + i) % v->nd_max];
            if (c->state != ND_REACHABLE && !c->qlen)
                victim = c;
        }
        if (!victim)
            victim = &v->nd[v->nd_hand % v->nd_max];
        v->nd_hand = (uint32_t)(victim - v->nd) + 1;
        ent_free(s, victim);
        v->st.nd_evictions++;
        e = victim;
    }
    e->ip = *ip;
    e->ifindex = ifindex;
    e->used = now;
    e->qhead = e->qtail = IP6_NIL;
    uint32_t b = bucket_of(s, ifindex, ip);
    e->hnext = v->nd_bucket[b];
    v->nd_bucket[b] = (uint32_t)(e - v->nd);
    v->nd_count++;
    return e;
}

static uint64_t reachable_us(struct tern_stack *s, int ifindex)
{
    /* RFC 4861 s6.3.2: ReachableTime is BaseReachableTime times a random
     * factor in [0.5, 1.5); s6.3.4 recomputes it on change. Drawn per
     * confirmation here (same distribution). */
    uint64_t base = s->v6->ifs[ifindex].reachable_us;
    return base / 2 + prng_below(&s->rng, base ? base : 1);
}

static void flush_queue(struct tern_stack *s, struct tern_iface *ifc, struct nd_ent *e)
{
    struct ip6_state *v = s->v6;
    while (e->qlen) {
        uint32_t k = e->qhead;
        e->qhead = v->qslot[k].next;
        e->qlen--;
        uint8_t *f = v->qdata + (size_t)k * v->qstride;
        (void)eth_xmit(s, ifc, e->mac, TERN_ETHERTYPE_IPV6, f, v->qslot[k].len);
        v->qslot[k].next = v->qfree;
        v->qfree = k;
        v->qused--;
    }
    e->qhead = e->qtail = IP6_NIL;
    e->qdgrams = 0;
}

void nd6_send_ns(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *target,
                 const struct tern_ipv6_addr *dst, bool dad, uint64_t now)
{
    /* RFC 4861 s7.2.2 / RFC 4862 s5.4.2: hop limit 255; a DAD NS comes
     * from :: without the source link-layer option. */
    struct tern_nd_repr r = {.type = TERN_ICMPV6_NEIGHBOR_SOLICIT, .target = *target};
    uint8_t body[32];
    uint32_t rest;
    static const struct tern_ipv6_addr unspec;
    struct tern_ipv6_addr src = unspec;
    if (!dad && !ip6_src_select(s, ifc->index, target, &src))
        return; /* no usable address yet: nothing to ask from */
    int n = tern_nd_emit(&r, dad ? NULL : ifc->mac, &rest, body, sizeof body);
    if (n < 0)
        return;
    s->v6->st.ns_tx++;
    (void)ip6_send_nd(s, ifc, &src, dst, TERN_ICMPV6_NEIGHBOR_SOLICIT, rest, body, (size_t)n, now);
}

static void send_ns_for(struct tern_stack *s, struct nd_ent *e, bool unicast, uint64_t now)
{
    struct tern_iface *ifc = stack_iface(s, e->ifindex);
    if (!ifc)
        return;
    struct tern_ipv6_addr dst;
    if (unicast)
        dst = e->ip;
    else
        tern_ipv6_solicited_node(&e->ip, &dst);
    nd6_send_ns(s, ifc, &e->ip, &dst, false, now);
}

int nd6_output(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *next_hop,
               uint8_t *frame, size_t len, uint64_t now)
{
    struct ip6_state *v = s->v6;
    struct nd_ent *e = nd6_lookup(s, ifc->index, next_hop);
    if (e && e->state != ND_INCOMPLETE) {
        /* s7.3.3: sending to a STALE entry starts DELAY. */
        if (e->state == ND_REACHABLE && e->next <= now) {
            e->state = ND_STALE;
        }
        if (e->state == ND_STALE) {
            e->state = ND_DELAY;
            e->next = now + ND_DELAY_FIRST_PROBE_US;
            ip6_timer_at(s, e->next);
        }
        e->used = now;
        uint8_t mac[6];
        memcpy(mac, e->mac, 6);
        return eth_xmit(s, ifc, mac, TERN_ETHERTYPE_IPV6, frame, len);
    }
    if (len > v->qstride)
        return TERN_E_BAD_LEN;
    bool fresh = false;
    if (!e) {
        e = ent_new(s, ifc->index, next_hop, now);
        e->state = ND_INCOMPLETE;
        e->probes = 0;
        fresh = true;
    }
    /* s7.2.2: queue, at most arp_queue_per_entry datagrams per entry (the
     * oldest goes; the fragments of one datagram count once, so a
     * fragmented datagram is not cut by its own tail: RFC 4861 s7.2.2 asks
     * for "at least one packet") and arp_queue_total frames in all (then
     * this one is dropped). */
    bool new_dgram = e->qtail == IP6_NIL || v->qslot[e->qtail].tag != v->tx_tag;
    if (new_dgram && e->qdgrams >= s->cfg.arp_queue_per_entry) {
        uint32_t tag = v->qslot[e->qhead].tag;
        while (e->qlen && v->qslot[e->qhead].tag == tag) {
            uint32_t k = e->qhead;
            e->qhead = v->qslot[k].next;
            e->qlen--;
            v->qslot[k].next = v->qfree;
            v->qfree = k;
            v->qused--;
            v->st.nd_queue_drops++;
        }
        e->qdgrams--;
        if (!e->qlen)
            e->qtail = IP6_NIL;
    }
    if (v->qfree == IP6_NIL) {
        v->st.nd_queue_drops++;
    } else {
        uint32_t k = v->qfree;
        v->qfree = v->qslot[k].next;
        v->qslot[k].next = IP6_NIL;
        v->qslot[k].len = (uint32_t)len;
        v->qslot[k].tag = v->tx_tag;
        if (new_dgram)
            e->qdgrams++;
        memcpy(v->qdata + (size_t)k * v->qstride, frame, len);
        if (e->qtail != IP6_NIL)
            v->qslot[e->qtail].next = k;
        else
            e->qhead = k;
        e->qtail = k;
        e->qlen++;
        v->qused++;
    }
    if (fresh) {
        /* s7.2.2: a multicast NS to the solicited-node group, then
         * RetransTimer apart, MAX_MULTICAST_SOLICIT in all. */
        e->probes = 1;
        e->next = now + v->ifs[ifc->index].retrans_us;
        ip6_timer_at(s, e->next);
        send_ns_for(s, e, false, now);
    }
    return TERN_OK;
}

void nd6_learn(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *ip,
               const uint8_t mac[6], bool is_router, uint64_t now)
{
    /* s7.2.3 (NS), s6.3.4 (RA), s6.2.6 (RS): a source link-layer option
     * creates a STALE entry, or updates one whose address differs (then
     * STALE); an INCOMPLETE entry gets its address and sends its queue. */
    struct nd_ent *e = nd6_lookup(s, ifc->index, ip);
    if (!e) {
        e = ent_new(s, ifc->index, ip, now);
        memcpy(e->mac, mac, 6);
        e->state = ND_STALE;
        e->next = now + s->cfg.arp_stale_us;
        e->router = is_router;
        ip6_timer_at(s, e->next);
        return;
    }
    if (is_router)
        e->router = true;
    if (e->state == ND_INCOMPLETE || memcmp(e->mac, mac, 6) != 0) {
        memcpy(e->mac, mac, 6);
        e->state = ND_STALE;
        e->next = now + s->cfg.arp_stale_us;
        ip6_timer_at(s, e->next);
        route_gen_bump(s);
        flush_queue(s, ifc, e);
    }
}

void nd6_ns_input(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
                  const struct tern_nd_repr *nd, uint64_t now)
{
    bool dad = tern_ipv6_is_unspecified(&ip->src);
    struct ip6_addr_ent *t = ip6_addr_find(s, ifc->index, &nd->target);
    /* s7.2.3: the target must be one of our addresses on this interface. */
    if (!t || t->state == A6_DUPLICATE)
        return;
    if (t->state == A6_TENTATIVE) {
        ip6_dad_ns_rx(s, ifc->index, &nd->target, &ip->src); /* RFC 4862 s5.4.3 */
        return;
    }
    if (!dad && nd->opts.have_src_ll)
        nd6_learn(s, ifc, &ip->src, nd->opts.src_ll, false, now);
    /* s7.2.4: answer with our link-layer address; to a DAD probe, to
     * all-nodes with S clear (RFC 4862 s5.4.3 - the other node learns its
     * address is taken). */
    struct tern_nd_repr r = {.type = TERN_ICMPV6_NEIGHBOR_ADVERT,
                             .target = nd->target,
                             .solicited = !dad,
                             .override = true,
                             .router = s->cfg.ip_forward};
    uint8_t body[32];
    uint32_t rest;
    int n = tern_nd_emit(&r, ifc->mac, &rest, body, sizeof body);
    if (n < 0)
        return;
    static const struct tern_ipv6_addr all_nodes = {{0xff, 0x02, [15] = 1}};
    s->v6->st.na_tx++;
    (void)ip6_send_nd(s, ifc, &nd->target, dad ? &all_nodes : &ip->src,
                      TERN_ICMPV6_NEIGHBOR_ADVERT, rest, body, (size_t)n, now);
}

void nd6_na_input(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
                  const struct tern_nd_repr *nd, uint64_t now)
{
    (void)ip;
    /* RFC 4862 s5.4.4: an NA for a tentative address of ours. */
    if (ip6_addr_find(s, ifc->index, &nd->target)) {
        ip6_dad_na_rx(s, ifc->index, &nd->target);
        return;
    }
    /* s7.2.5: no entry - silently discarded (no entry is created). */
    struct nd_ent *e = nd6_lookup(s, ifc->index, &nd->target);
    if (!e)
        return;
    bool have = nd->opts.have_tgt_ll;
    if (e->state == ND_INCOMPLETE) {
        if (!have)
            return;
        memcpy(e->mac, nd->opts.tgt_ll, 6);
        if (nd->solicited) {
            e->state = ND_REACHABLE;
            e->next = now + reachable_us(s, ifc->index);
        } else {
            e->state = ND_STALE;
            e->next = now + s->cfg.arp_stale_us;
        }
        e->router = nd->router;
        e->probes = 0;
        e->used = now;
        ip6_timer_at(s, e->next);
        route_gen_bump(s);
        flush_queue(s, ifc, e);
        return;
    }
    bool differs = have && memcmp(e->mac, nd->opts.tgt_ll, 6) != 0;
    if (!nd->override && differs) {
        /* s7.2.5: O clear and a different address - REACHABLE becomes
         * STALE, the address is not updated. */
        if (e->state == ND_REACHABLE) {
            e->state = ND_STALE;
            e->next = now + s->cfg.arp_stale_us;
            ip6_timer_at(s, e->next);
        }
        return;
    }
    if (differs) {
        memcpy(e->mac, nd->opts.tgt_ll, 6);
        route_gen_bump(s);
    }
    if (nd->solicited) {
        e->state = ND_REACHABLE;
        e->probes = 0;
        e->next = now + reachable_us(s, ifc->index);
        ip6_timer_at(s, e->next);
    } else if (differs) {
        e->state = ND_STALE;
        e->next = now + s->cfg.arp_stale_us;
        ip6_timer_at(s, e->next);
    }
    e->router = nd->router;
}

/* RFC 4861 s7.2.2 / RFC 4443 s3.1: the datagrams waiting for a failed
 * resolution get a Destination Unreachable code 3 (address unreachable):
 * sent to their source when they were forwarded, shown to their echo owner
 * when they were ours (ping prints "Address unreachable", as iputils does
 * for Linux's own). The queue is detached from the entry first: sending an
 * error may resolve (and so evict) neighbours. */
static void resolve_failed(struct tern_stack *s, struct nd_ent *e, uint64_t now)
{
    struct ip6_state *v = s->v6;
    uint32_t k = e->qhead, n = e->qlen, last_tag = UINT32_MAX;
    int ifindex = e->ifindex;
    e->qhead = e->qtail = IP6_NIL;
    e->qlen = e->qdgrams = 0;
    ent_free(s, e);
    while (n--) {
        uint32_t next = v->qslot[k].next, tag = v->qslot[k].tag;
        const uint8_t *d = v->qdata + (size_t)k * v->qstride + TERN_ETH_HLEN;
        size_t dlen = v->qslot[k].len - TERN_ETH_HLEN;
        struct tern_ipv6_repr ip;
        v->st.nd_queue_drops++;
        if (tag != last_tag && tern_ipv6_parse(d, dlen, TERN_WIRE_TRUNC_OK, &ip) >= 0) {
            last_tag = tag; /* once per datagram, not per fragment */
            if (!ip6_addr_ours(s, &ip.src, NULL)) {
                icmp6_send_error(s, ifindex, d, dlen, false, TERN_ICMPV6_DST_UNREACH, 3, 0, now);
            } else {
                /* our echo request (first fragment or whole) */
                const uint8_t *m = d + TERN_IPV6_HLEN;
                size_t ml = dlen - TERN_IPV6_HLEN;
                if (ip.next == TERN_IPPROTO_FRAGMENT && ml >= 8 && !(m[2] || (m[3] & 0xf8))) {
                    ip.next = m[0];
                    m += 8;
                    ml -= 8;
                }
                if (ip.next == TERN_IPPROTO_ICMPV6 && ml >= 8 && m[0] == TERN_ICMPV6_ECHO_REQUEST)
                    icmp6_echo_local_error(s, &ip.src, (uint16_t)(m[4] << 8 | m[5]),
                                           (uint16_t)(m[6] << 8 | m[7]), TERN_ICMPV6_DST_UNREACH, 3);
            }
        }
        v->qslot[k].next = v->qfree;
        v->qfree = k;
        v->qused--;
        k = next;
    }
}

void nd6_tick(struct tern_stack *s, uint64_t now)
{
    struct ip6_state *v = s->v6;
    for (uint32_t i = 0; i < v->nd_max; i++) {
        struct nd_ent *e = &v->nd[i];
        if (e->state == ND_FREE)
            continue;
        if (e->next > now) {
            ip6_timer_at(s, e->next);
            continue;
        }
        struct ip6_iface *i6 = &v->ifs[e->ifindex];
        switch (e->state) {
        case ND_INCOMPLETE:
            if (e->probes >= ND_MAX_MULTICAST_SOLICIT) {
                /* s7.2.2: resolution failed - an address unreachable
                 * for each queued datagram, then they are dropped. */
                v->st.nd_resolve_failures++;
                resolve_failed(s, e, now);
                continue;
            }
            e->probes++;
            e->next = now + i6->retrans_us;
            send_ns_for(s, e, false, now);
            break;
        case ND_REACHABLE:
            e->state = ND_STALE; /* s7.3.3: ReachableTime passed */
            e->next = now + s->cfg.arp_stale_us;
            break;
        case ND_STALE:
            ent_free(s, e); /* unused for arp_stale_us: collected */
            continue;
        case ND_DELAY:
            e->state = ND_PROBE; /* s7.3.3: DELAY_FIRST_PROBE_TIME passed */
            e->probes = 1;
            e->next = now + i6->retrans_us;
            send_ns_for(s, e, true, now);
            break;
        case ND_PROBE:
            if (e->probes >= ND_MAX_UNICAST_SOLICIT) {
                ent_free(s, e); /* s7.3.3: unreachable - deleted */
                continue;
            }
            e->probes++;
            e->next = now + i6->retrans_us;
            send_ns_for(s, e, true, now);
            break;
        default:
            break;
        }
        if (e->state != ND_FREE)
            ip6_timer_at(s, e->next);
    }
}

void nd6_flush_iface(struct tern_stack *s, int ifindex)
{
    struct ip6_state *v = s->v6;
    for (uint32_t i = 0; i < v->nd_max; i++)
        if (v->nd[i].state != ND_FREE && v->nd[i].ifindex == ifindex)
            ent_free(s, &v->nd[i]);
}
