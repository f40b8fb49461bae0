/*
 * route6.c - the IPv6 routing table, the on-link prefix and default router
 * lists of RFC 4861 s5.1/s6.3.4, next-hop determination (s5.2), and the
 * RFC 8201 path MTU cache.
 *
 * The table is a fixed array of IP6_ROUTES_MAX routes searched linearly
 * for the longest match (prefixes up to /128): small tables, as a host's.
 * DEVIATION from route.c: no hash per length and no ECMP for IPv6 yet; a
 * router with thousands of IPv6 routes needs route.c's structure.
 * Lookup order: the longest static/connected route; an on-link prefix from
 * an RA longer than it; then a default router (s6.3.6: one believed
 * reachable first, else round robin - here the first in the list whose
 * neighbour entry has not failed).
 */
#include <string.h>

#include "core/ip6_impl.h"

bool ip6_prefix_match(const struct tern_ipv6_addr *a, const struct tern_ipv6_addr *p, uint8_t plen)
{
    unsigned full = plen / 8, rem = plen % 8;
    if (memcmp(a->b, p->b, full) != 0)
        return false;
    if (!rem)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rem));
    return (a->b[full] & m) == (p->b[full] & m);
}

void ip6_prefix_mask(struct tern_ipv6_addr *a, uint8_t plen)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = plen > i * 8 ? plen - i * 8 : 0;
        if (bits >= 8)
            continue;
        a->b[i] &= (uint8_t)(0xff00 >> bits);
    }
}

int tern_route6_add(struct tern_stack *s, const struct tern_ipv6_addr *dst, uint8_t prefix_len,
                    const struct tern_ipv6_addr *gw, int ifindex)
{
    if (!s || !s->v6 || !dst || prefix_len > 128 || !stack_iface(s, ifindex))
        return TERN_E_INVAL;
    struct tern_ipv6_addr d = *dst, g = {{0}};
    ip6_prefix_mask(&d, prefix_len);
    if (gw)
        g = *gw;
    if (tern_ipv6_is_multicast(&g))
        return TERN_E_INVAL;
    struct ip6_route *free_slot = NULL;
    for (int i = 0; i < IP6_ROUTES_MAX; i++) {
        struct ip6_route *r = &s->v6->routes[i];
        if (!r->used) {
            if (!free_slot)
                free_slot = r;
            continue;
        }
        if (r->plen == prefix_len && !memcmp(r->dst.b, d.b, 16)) {
            r->gw = g; /* replaces (no IPv6 ECMP) */
            r->ifindex = ifindex;
            route_gen_bump(s);
            return TERN_OK;
        }
    }
    if (!free_slot)
        return TERN_E_NOMEM;
    *free_slot = (struct ip6_route){.dst = d, .gw = g, .plen = prefix_len, .used = true,
                                    .ifindex = ifindex};
    route_gen_bump(s);
    return TERN_OK;
}

int tern_route6_del(struct tern_stack *s, const struct tern_ipv6_addr *dst, uint8_t prefix_len)
{
    if (!s || !s->v6 || !dst || prefix_len > 128)
        return TERN_E_INVAL;
    struct tern_ipv6_addr d = *dst;
    ip6_prefix_mask(&d, prefix_len);
    for (int i = 0; i < IP6_ROUTES_MAX; i++) {
        struct ip6_route *r = &s->v6->routes[i];
        if (r->used && r->plen == prefix_len && !memcmp(r->dst.b, d.b, 16)) {
            memset(r, 0, sizeof *r);
            route_gen_bump(s);
            return TERN_OK;
        }
    }
    return TERN_E_INVAL;
}

bool route6_on_link(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a, uint64_t now)
{
    if (tern_ipv6_is_link_local(a))
        return true;
    for (int i = 0; i < IP6_PREFIXES_MAX; i++) {
        struct ip6_prefix *p = &s->v6->prefixes[i];
        if (p->used && p->ifindex == ifindex && p->until > now && ip6_prefix_match(a, &p->p, p->plen))
            return true;
    }
    return false;
}

int route6_lookup(struct tern_stack *s, const struct tern_ipv6_addr *dst,
                  struct tern_ipv6_addr *next_hop, int *ifindex, uint64_t now)
{
    struct ip6_state *v = s->v6;
    const struct ip6_route *best = NULL;
    for (int i = 0; i < IP6_ROUTES_MAX; i++) {
        const struct ip6_route *r = &v->routes[i];
        if (!r->used || (best && r->plen <= best->plen))
            continue;
        struct tern_iface *ifc = stack_iface(s, r->ifindex);
        if (!ifc || !ifc->up || !ip6_prefix_match(dst, &r->dst, r->plen))
            continue;
        best = r;
    }
    const struct ip6_prefix *bp = NULL;
    for (int i = 0; i < IP6_PREFIXES_MAX; i++) {
        const struct ip6_prefix *p = &v->prefixes[i];
        if (!p->used || p->until <= now || (best && p->plen <= best->plen) ||
            (bp && p->plen <= bp->plen))
            continue;
        struct tern_iface *ifc = stack_iface(s, p->ifindex);
        if (!ifc || !ifc->up || !ip6_prefix_match(dst, &p->p, p->plen))
            continue;
        bp = p;
    }
    if (bp) {
        *next_hop = *dst;
        *ifindex = bp->ifindex;
        return TERN_OK;
    }
    if (best) { /* a static default route (plen 0) wins over RA routers too */
        *next_hop = tern_ipv6_is_unspecified(&best->gw) ? *dst : best->gw;
        *ifindex = best->ifindex;
        return TERN_OK;
    }
    /* s6.3.6: default routers - one whose neighbour entry is not failing. */
    const struct ip6_router *pick = NULL;
    for (int i = 0; i < IP6_ROUTERS_MAX; i++) {
        const struct ip6_router *r = &v->routers[i];
        struct tern_iface *ifc = stack_iface(s, r->ifindex);
        if (!r->used || r->until <= now || !ifc || !ifc->up)
            continue;
        const struct nd_ent *e = nd6_lookup(s, r->ifindex, &r->a);
        if (!pick || (e && e->state != ND_INCOMPLETE && e->state != ND_PROBE))
            pick = r;
        if (e && e->state != ND_INCOMPLETE && e->state != ND_PROBE)
            break;
    }
    if (!pick)
        return TERN_E_NETUNREACH;
    *next_hop = pick->a;
    *ifindex = pick->ifindex;
    return TERN_OK;
}

int tern_route6_lookup(struct tern_stack *s, const struct tern_ipv6_addr *dst,
                       struct tern_ipv6_addr *next_hop, int *ifindex)
{
    if (!s || !s->v6 || !dst || !next_hop || !ifindex)
        return TERN_E_INVAL;
    return route6_lookup(s, dst, next_hop, ifindex, tern_loop_now(s->loop)) < 0 ? TERN_E_INVAL
                                                                               : TERN_OK;
}

void route6_flush_iface(struct tern_stack *s, int ifindex)
{
    for (int i = 0; i < IP6_PREFIXES_MAX; i++)
        if (s->v6->prefixes[i].ifindex == ifindex)
            memset(&s->v6->prefixes[i], 0, sizeof s->v6->prefixes[i]);
    for (int i = 0; i < IP6_ROUTERS_MAX; i++)
        if (s->v6->routers[i].ifindex == ifindex)
            memset(&s->v6->routers[i], 0, sizeof s->v6->routers[i]);
}

void route6_tick(struct tern_stack *s, uint64_t now, uint64_t *next)
{
    struct ip6_state *v = s->v6;
    /* RFC 4861 s6.3.5: lifetimes run out - entries removed. */
    for (int i = 0; i < IP6_PREFIXES_MAX; i++) {
        struct ip6_prefix *p = &v->prefixes[i];
        if (p->used && p->until <= now) {
            memset(p, 0, sizeof *p);
            route_gen_bump(s);
        } else if (p->used && p->until < *next) {
            *next = p->until;
        }
    }
    for (int i = 0; i < IP6_ROUTERS_MAX; i++) {
        struct ip6_router *r = &v->routers[i];
        if (r->used && r->until <= now) {
            memset(r, 0, sizeof *r);
            route_gen_bump(s);
        } else if (r->used && r->until < *next) {
            *next = r->until;
        }
    }
    for (int i = 0; i < IP6_RDNSS_MAX; i++) {
        if (v->rdnss_until[i] && v->rdnss_until[i] <= now) {
            memset(&v->rdnss[i], 0, sizeof v->rdnss[i]);
            v->rdnss_until[i] = 0;
        } else if (v->rdnss_until[i] && v->rdnss_until[i] < *next) {
            *next = v->rdnss_until[i];
        }
    }
    for (int i = 0; i < IP6_PMTU_MAX; i++) {
        struct ip6_pmtu *p = &v->pmtu[i];
        uint64_t end = p->when + s->cfg.pmtu_timeout_us;
        if (p->used && end <= now)
            memset(p, 0, sizeof *p);
        else if (p->used && end < *next)
            *next = end;
    }
}

/* ---- RFC 8201 path MTU ---- */

uint32_t pmtu6_get(struct tern_stack *s, const struct tern_ipv6_addr *dst, uint32_t link_mtu,
                   uint64_t now)
{
    for (int i = 0; i < IP6_PMTU_MAX; i++) {
        struct ip6_pmtu *p = &s->v6->pmtu[i];
        if (p->used && !memcmp(p->dst.b, dst->b, 16)) {
            /* s4: after the timeout the estimate goes back to the link MTU */
            if (p->when + s->cfg.pmtu_timeout_us <= now) {
                memset(p, 0, sizeof *p);
                break;
            }
            return p->mtu < link_mtu ? p->mtu : link_mtu;
        }
    }
    return link_mtu;
}

void pmtu6_learn(struct tern_stack *s, const struct tern_ipv6_addr *dst, uint32_t mtu, uint64_t now)
{
    /* RFC 8201 s4: a Packet Too Big lowers the estimate to its MTU field;
     * RFC 8200 s5 / RFC 8021: never below 1280 (a smaller value means
     * 1280, and no atomic fragments are sent). Never raised by a PTB. */
    if (mtu < TERN_IPV6_MIN_MTU)
        mtu = TERN_IPV6_MIN_MTU;
    struct ip6_pmtu *slot = NULL, *oldest = NULL;
    for (int i = 0; i < IP6_PMTU_MAX; i++) {
        struct ip6_pmtu *p = &s->v6->pmtu[i];
        if (p->used && !memcmp(p->dst.b, dst->b, 16)) {
            if (mtu < p->mtu) {
                p->mtu = mtu;
                p->when = now;
            }
            return;
        }
        if (!p->used && !slot)
            slot = p;
        if (p->used && (!oldest || p->when < oldest->when))
            oldest = p;
    }
    if (!slot)
        slot = oldest;
    *slot = (struct ip6_pmtu){.dst = *dst, .mtu = mtu, .used = true, .when = now};
    ip6_timer_at(s, now + s->cfg.pmtu_timeout_us);
}

int tern_pmtu6_get(struct tern_stack *s, const struct tern_ipv6_addr *dst)
{
    if (!s || !s->v6 || !dst)
        return TERN_E_INVAL;
    uint64_t now = tern_loop_now(s->loop);
    struct tern_ipv6_addr nh;
    int ifindex;
    if (route6_lookup(s, dst, &nh, &ifindex, now) < 0)
        return TERN_E_INVAL;
    return (int)pmtu6_get(s, dst, s->v6->ifs[ifindex].mtu, now);
}
