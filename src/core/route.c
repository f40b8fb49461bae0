/*
 * route.c - the routing table: longest-prefix match over connected, static
 * and default routes (RFC 1812 s5.2.4.3, RFC 1122 s3.3.1 for hosts), with
 * equal-cost multipath: routes sharing a destination and prefix but not a
 * next hop form one group of at most TERN_ECMP_MAX members, and a lookup
 * picks one member per flow (a keyed hash of the 5-tuple, RFC 2992's
 * hash-threshold idea with a modulo) or per packet (cfg.ecmp).
 * At most TERN_MAX_ROUTES entries; a lookup scans them once (bounded).
 * Not: redirects (ignored, ATTACKS 21), metrics or weights, route
 * preference between sources (a static route and a connected route with
 * the same prefix form a group).
 */
#include <string.h>

#include "core/stack_impl.h"
#include "tern/wire/bytes.h"
#include "tern/wire/ipv4.h"

static uint32_t prefix_mask(uint8_t len)
{
    return len ? 0xffffffffu << (32 - len) : 0;
}

static int group_size(const struct tern_stack *s, uint32_t dst, uint8_t prefix_len)
{
    int n = 0;
    for (int i = 0; i < TERN_MAX_ROUTES; i++) {
        const struct tern_route *r = &s->routes[i];
        n += r->used && r->dst == dst && r->prefix_len == prefix_len;
    }
    return n;
}

int tern_route_add(struct tern_stack *s, uint32_t dst, uint8_t prefix_len, uint32_t gateway,
                   int ifindex)
{
    if (!s || prefix_len > 32 || !stack_iface(s, ifindex))
        return TERN_E_INVAL;
    uint32_t mask = prefix_mask(prefix_len);
    dst &= mask; /* host bits beyond the prefix are ignored */
    /* A gateway must be a unicast host address (RFC 1812 s5.2.4.3). */
    if (gateway && (ip_is_multicast(gateway) || ip_is_class_e(gateway) ||
                    ip_is_loopback(gateway) || stack_is_bcast(s, gateway)))
        return TERN_E_INVAL;
    struct tern_route *r = NULL;
    for (int i = 0; i < TERN_MAX_ROUTES; i++) {
        struct tern_route *c = &s->routes[i];
        if (c->used && c->dst == dst && c->prefix_len == prefix_len && c->gateway == gateway &&
            c->ifindex == ifindex)
            return TERN_OK; /* already there */
        if (!c->used && !r)
            r = c;
    }
    /* A new next hop for an existing prefix joins its group (ECMP). */
    if (!r || group_size(s, dst, prefix_len) >= TERN_ECMP_MAX)
        return TERN_E_NOMEM;
    r->used = true;
    r->dst = dst;
    r->mask = mask;
    r->prefix_len = prefix_len;
    r->gateway = gateway;
    r->ifindex = ifindex;
    return TERN_OK;
}

/* Removes the route, or the whole group, for dst/prefix_len. */
int tern_route_del(struct tern_stack *s, uint32_t dst, uint8_t prefix_len)
{
    if (!s || prefix_len > 32)
        return TERN_E_INVAL;
    dst &= prefix_mask(prefix_len);
    int n = 0;
    for (int i = 0; i < TERN_MAX_ROUTES; i++) {
        struct tern_route *r = &s->routes[i];
        if (r->used && r->dst == dst && r->prefix_len == prefix_len) {
            memset(r, 0, sizeof *r);
            n++;
        }
    }
    return n ? TERN_OK : TERN_E_INVAL;
}

void route_key_make(struct route_key *k, uint32_t src, uint32_t dst, uint8_t proto, bool frag,
                    const uint8_t *payload, size_t len)
{
    memset(k, 0, sizeof *k);
    k->src = src;
    k->dst = dst;
    k->proto = proto;
    /* Fragments carry no ports after the first; hashing every fragment of
     * a datagram on addresses only keeps them together (as Linux does). */
    if (!frag && len >= 4 && (proto == TERN_IPPROTO_TCP || proto == TERN_IPPROTO_UDP)) {
        k->sport = tern_get16(payload);
        k->dport = tern_get16(payload + 2);
    }
}

static uint64_t flow_hash(const struct tern_stack *s, const struct route_key *k)
{
    uint8_t b[13];
    tern_put32(b, k->src);
    tern_put32(b + 4, k->dst);
    b[8] = k->proto;
    tern_put16(b + 9, k->sport);
    tern_put16(b + 11, k->dport);
    /* Keyed with the stack's secret: an outsider cannot aim flows at one
     * path (or predict which path a flow takes). */
    return tern_rng_hash(&s->rng, b, sizeof b);
}

static const struct tern_route *lookup(struct tern_stack *s, const struct route_key *k,
                                       bool per_packet)
{
    const struct tern_route *best = NULL;
    const struct tern_route *group[TERN_ECMP_MAX];
    int n = 0;
    for (int i = 0; i < TERN_MAX_ROUTES; i++) {
        const struct tern_route *r = &s->routes[i];
        if (!r->used || (k->dst & r->mask) != r->dst)
            continue;
        const struct tern_iface *ifc = stack_iface(s, r->ifindex);
        if (!ifc || !ifc->up)
            continue; /* a route through a down interface does not match */
        if (!best || r->prefix_len > best->prefix_len) {
            best = r;
            n = 0;
        }
        if (r->prefix_len == best->prefix_len && n < TERN_ECMP_MAX)
            group[n++] = r; /* members in table order: stable choices */
    }
    if (n <= 1)
        return best;
    uint64_t pick = per_packet ? tern_rng_below(&s->rng, (uint64_t)n)
                               : flow_hash(s, k) % (uint64_t)n;
    return group[pick];
}

static int answer(const struct tern_route *r, uint32_t dst, uint32_t *next_hop, int *ifindex)
{
    if (!r)
        return TERN_E_INVAL;
    if (next_hop)
        *next_hop = r->gateway ? r->gateway : dst;
    if (ifindex)
        *ifindex = r->ifindex;
    return TERN_OK;
}

int route_lookup_key(struct tern_stack *s, const struct route_key *k, uint32_t *next_hop,
                     int *ifindex)
{
    return answer(lookup(s, k, s->cfg.ecmp == TERN_ECMP_PACKET), k->dst, next_hop, ifindex);
}

/* The public lookup hashes dst alone in either mode: it never draws from
 * the generator, so asking (a tool, tcp_route_mss) changes nothing. */
int tern_route_lookup(struct tern_stack *s, uint32_t dst, uint32_t *next_hop, int *ifindex)
{
    if (!s)
        return TERN_E_INVAL;
    struct route_key k = {.dst = dst};
    return answer(lookup(s, &k, false), dst, next_hop, ifindex);
}

/* The connected route of an interface follows its address (RFC 1122
 * s3.3.1.1: destinations on a connected subnet are reached directly). */
void route_iface_changed(struct tern_stack *s, struct tern_iface *ifc)
{
    for (int i = 0; i < TERN_MAX_ROUTES; i++) {
        struct tern_route *r = &s->routes[i];
        if (r->used && r->ifindex == ifc->index && r->gateway == 0 && r->prefix_len == ifc->prefix_len)
            memset(r, 0, sizeof *r);
    }
    if (ifc->addr)
        (void)tern_route_add(s, ifc->addr & ifc->mask, ifc->prefix_len, 0, ifc->index);
}
