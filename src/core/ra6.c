/*
 * ra6.c - Router Advertisements for a host (RFC 4861 s6.3.4): default
 * routers, hop limit, timers, the MTU option, on-link prefixes; stateless
 * address autoconfiguration from Prefix Information options (RFC 4862
 * s5.5.3, with RFC 7217 stable IIDs); DNS servers from RDNSS (RFC 8106
 * s5.1); and our Router Solicitations (RFC 4861 s6.3.7).
 *
 * Bounds (ATTACKS "RA floods with thousands of prefixes"): IP6_ROUTERS_MAX
 * default routers, IP6_PREFIXES_MAX on-link prefixes, IP6_SLAAC_MAX SLAAC
 * addresses per interface (the address table itself holds IP6_ADDRS_MAX),
 * IP6_RDNSS_MAX servers; past them new entries are ignored (counted in
 * ra_prefix_drops) and existing ones keep being refreshed.
 */
#include <string.h>

#include "core/ip6_impl.h"

#define TWO_HOURS_S 7200u

static uint64_t until(uint64_t now, uint32_t s)
{
    return s == UINT32_MAX ? UINT64_MAX : now + (uint64_t)s * 1000000u;
}

static void router_update(struct tern_stack *s, struct tern_iface *ifc,
                          const struct tern_ipv6_addr *a, uint16_t lifetime, uint64_t now)
{
    struct ip6_state *v = s->v6;
    struct ip6_router *slot = NULL;
    for (int i = 0; i < IP6_ROUTERS_MAX; i++) {
        struct ip6_router *r = &v->routers[i];
        if (r->used && r->ifindex == ifc->index && !memcmp(r->a.b, a->b, 16)) {
            slot = r;
            break;
        }
        if (!r->used && !slot)
            slot = r;
    }
    if (lifetime == 0) { /* s6.3.4: lifetime 0 - removed from the list */
        if (slot && slot->used && !memcmp(slot->a.b, a->b, 16)) {
            memset(slot, 0, sizeof *slot);
            route_gen_bump(s);
        }
        return;
    }
    if (!slot) {
        v->st.ra_prefix_drops++;
        return;
    }
    bool fresh = !slot->used;
    *slot = (struct ip6_router){.a = *a, .ifindex = ifc->index, .used = true,
                                .until = until(now, lifetime)};
    ip6_timer_at(s, slot->until);
    if (fresh)
        route_gen_bump(s);
}

static void onlink_update(struct tern_stack *s, struct tern_iface *ifc,
                          const struct tern_nd_prefix *px, uint64_t now)
{
    struct ip6_state *v = s->v6;
    struct tern_ipv6_addr p = px->prefix;
    ip6_prefix_mask(&p, px->len);
    struct ip6_prefix *slot = NULL;
    for (int i = 0; i < IP6_PREFIXES_MAX; i++) {
        struct ip6_prefix *e = &v->prefixes[i];
        if (e->used && e->ifindex == ifc->index && e->plen == px->len && !memcmp(e->p.b, p.b, 16)) {
            slot = e;
            break;
        }
        if (!e->used && !slot)
            slot = e;
    }
    if (px->valid == 0) { /* s6.3.4: a zero valid lifetime times it out now */
        if (slot && slot->used && slot->plen == px->len && !memcmp(slot->p.b, p.b, 16)) {
            memset(slot, 0, sizeof *slot);
            route_gen_bump(s);
        }
        return;
    }
    if (!slot) {
        v->st.ra_prefix_drops++;
        return;
    }
    *slot = (struct ip6_prefix){.p = p, .plen = px->len, .used = true, .ifindex = ifc->index,
                                .until = until(now, px->valid)};
    ip6_timer_at(s, slot->until);
    route_gen_bump(s);
}

static void slaac_update(struct tern_stack *s, struct tern_iface *ifc,
                         const struct tern_nd_prefix *px, uint64_t now)
{
    struct ip6_state *v = s->v6;
    /* RFC 4862 s5.5.3 (b, c): not link-local, preferred <= valid; the
     * prefix plus a 64-bit IID must make 128 bits (RFC 4291 s2.5.1). */
    if (tern_ipv6_is_link_local(&px->prefix) || px->preferred > px->valid || px->len != 64)
        return;
    struct ip6_iface *i6 = &v->ifs[ifc->index];
    struct ip6_addr_ent *have = NULL;
    int n_slaac = 0;
    for (int k = 0; k < IP6_ADDRS_MAX; k++) {
        struct ip6_addr_ent *e = &i6->addr[k];
        if (e->state == A6_FREE || e->origin != TERN_ADDR6_SLAAC)
            continue;
        n_slaac++;
        if (ip6_prefix_match(&e->a, &px->prefix, 64))
            have = e;
    }
    if (!have) {
        /* (d): a new prefix with a non-zero valid lifetime - an address */
        if (px->valid == 0)
            return;
        if (n_slaac >= IP6_SLAAC_MAX) {
            v->st.ra_prefix_drops++;
            return;
        }
        struct tern_ipv6_addr a;
        ip6_make_iid(s, ifc, &px->prefix, 0, &a);
        if (ip6_addr_add(s, ifc->index, &a, 64, TERN_ADDR6_SLAAC, px->valid, px->preferred, now) < 0)
            v->st.ra_prefix_drops++;
        else if (v->notify)
            v->notify(v->notify_ctx, ifc->index, &a, TERN_ADDR6_TENTATIVE);
        return;
    }
    if (have->state == A6_DUPLICATE)
        return;
    /* (e): the preferred lifetime is reset; the valid lifetime only as the
     * "two hours" rule allows (against a forged RA shortening it). */
    have->preferred_until = until(now, px->preferred);
    if (have->state == A6_DEPRECATED && px->preferred)
        have->state = A6_PREFERRED;
    uint64_t remaining = have->valid_until == UINT64_MAX ? UINT64_MAX
                         : have->valid_until > now      ? (have->valid_until - now) / 1000000u
                                                        : 0;
    if (px->valid > TWO_HOURS_S || px->valid > remaining)
        have->valid_until = until(now, px->valid);
    else if (remaining > TWO_HOURS_S)
        have->valid_until = until(now, TWO_HOURS_S);
    /* else: ignored */
    if (have->valid_until != UINT64_MAX)
        ip6_timer_at(s, have->valid_until);
    if (have->preferred_until != UINT64_MAX)
        ip6_timer_at(s, have->preferred_until);
}

static void rdnss_update(struct tern_stack *s, const struct tern_nd_opt *o, uint64_t now)
{
    struct ip6_state *v = s->v6;
    uint32_t life;
    struct tern_ipv6_addr a;
    for (size_t i = 0; tern_nd_rdnss_get(o, i, &life, &a) == TERN_OK; i++) {
        int slot = -1;
        for (int k = 0; k < IP6_RDNSS_MAX; k++)
            if (v->rdnss_until[k] && !memcmp(v->rdnss[k].b, a.b, 16))
                slot = k;
        if (life == 0) { /* RFC 8106 s5.1: lifetime 0 - no longer used */
            if (slot >= 0) {
                memset(&v->rdnss[slot], 0, 16);
                v->rdnss_until[slot] = 0;
            }
            continue;
        }
        for (int k = 0; k < IP6_RDNSS_MAX && slot < 0; k++)
            if (!v->rdnss_until[k])
                slot = k;
        if (slot < 0)
            continue; /* s5.3.1: a host keeps at most a few */
        v->rdnss[slot] = a;
        v->rdnss_until[slot] = until(now, life);
        ip6_timer_at(s, v->rdnss_until[slot] == UINT64_MAX ? now + 3600000000ull
                                                          : v->rdnss_until[slot]);
    }
}

void ra6_input(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
               const struct tern_nd_repr *nd, uint64_t now)
{
    struct ip6_state *v = s->v6;
    struct ip6_iface *i6 = &v->ifs[ifc->index];
    if (!i6->enabled)
        return;
    /* s6.3.4 */
    router_update(s, ifc, &ip->src, nd->router_lifetime, now);
    if (nd->cur_hop_limit)
        i6->hop_limit = nd->cur_hop_limit;
    if (nd->reachable_ms && nd->reachable_ms <= 3600000u) /* MAX_REACHABLE_TIME */
        i6->reachable_us = (uint64_t)nd->reachable_ms * 1000u;
    if (nd->retrans_ms)
        i6->retrans_us = (uint64_t)nd->retrans_ms * 1000u;
    if (nd->opts.have_src_ll)
        nd6_learn(s, ifc, &ip->src, nd->opts.src_ll, true, now);
    /* s6.3.4: an MTU option within [1280, the link's maximum] */
    if (nd->opts.have_mtu && nd->opts.mtu >= TERN_IPV6_MIN_MTU && nd->opts.mtu <= ifc->mtu)
        i6->mtu = nd->opts.mtu;
    size_t pos = 0;
    struct tern_nd_opt o;
    while (tern_nd_opt_next(nd->opt_bytes, nd->opt_len, &pos, &o) == 1) {
        if (o.type == TERN_ND_OPT_RDNSS) {
            rdnss_update(s, &o, now);
            continue;
        }
        if (o.type != TERN_ND_OPT_PREFIX)
            continue;
        struct tern_nd_prefix px;
        if (tern_nd_prefix_parse(&o, &px) < 0)
            continue;
        if (px.on_link && !tern_ipv6_is_link_local(&px.prefix))
            onlink_update(s, ifc, &px, now);
        if (px.autonomous)
            slaac_update(s, ifc, &px, now);
    }
    /* a router answered: no more solicitations (s6.3.7) */
    i6->rs_next = 0;
}

void ra6_send_rs(struct tern_stack *s, struct tern_iface *ifc, uint64_t now)
{
    /* RFC 4861 s6.3.7 / s4.1: to all-routers, hop limit 255; from our
     * link-local address with the source link-layer option, or from ::
     * without it while it is tentative. */
    static const struct tern_ipv6_addr all_routers = {{0xff, 0x02, [15] = 2}};
    static const struct tern_ipv6_addr unspec;
    struct tern_ipv6_addr src;
    bool have = ip6_src_select(s, ifc->index, &all_routers, &src) && tern_ipv6_is_link_local(&src);
    struct tern_nd_repr r = {.type = TERN_ICMPV6_ROUTER_SOLICIT};
    uint8_t body[16];
    uint32_t rest;
    int n = tern_nd_emit(&r, have ? ifc->mac : NULL, &rest, body, sizeof body);
    if (n < 0)
        return;
    s->v6->st.rs_tx++;
    (void)ip6_send_nd(s, ifc, have ? &src : &unspec, &all_routers, TERN_ICMPV6_ROUTER_SOLICIT,
                      rest, body, (size_t)n, now);
}

int tern_stack_dns6(struct tern_stack *s, struct tern_ipv6_addr *out, size_t max)
{
    if (!s || !s->v6)
        return 0;
    uint64_t now = tern_loop_now(s->loop);
    int n = 0;
    for (int k = 0; k < IP6_RDNSS_MAX; k++) {
        if (!s->v6->rdnss_until[k] || s->v6->rdnss_until[k] <= now)
            continue;
        if ((size_t)n < max && out)
            out[n] = s->v6->rdnss[k];
        n++;
    }
    return n;
}
