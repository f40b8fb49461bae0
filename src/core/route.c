/*
 * route.c - the routing table: longest-prefix match over connected, static
 * and default routes (RFC 1812 s5.2.4.3, RFC 1122 s3.3.1 for hosts), with
 * equal-cost multipath: routes sharing a destination and prefix but not a
 * next hop form one group of at most TERN_ECMP_MAX members, and a lookup
 * picks one member per flow (a keyed hash of the 5-tuple, RFC 2992's
 * hash-threshold idea with a modulo) or per packet (cfg.ecmp).
 *
 * The structure: one chained hash table keyed by (prefix, length), the set
 * of prefix lengths in use, and a filter indexed by the address's top 8-14
 * bits (more as the table grows) giving the lengths >= 8 that may match
 * there. A lookup probes those lengths from the longest down, one bucket
 * each, and stops at the first length with a usable member: at most 33
 * probes whatever the number of routes, and usually one or two
 * (docs/routing.md). The hash is multiply-shift under a multiplier
 * derived from the stack's key: the admin adds routes, but their chains
 * must not be arrangeable into one (tools take routes from config files).
 * At most TERN_MAX_ROUTES entries; the arrays start at 64 and double on
 * demand (a control-path allocation, never per packet).
 * Every change bumps s->route_gen, which invalidates the connections'
 * cached routes (route_cache.c).
 * Not: redirects (ignored, ATTACKS 21), metrics or weights, route
 * preference between sources (a static route and a connected route with
 * the same prefix form a group).
 */
#include <stdlib.h>
#include <string.h>

#include "core/stack_impl.h"
#include "tern/wire/bytes.h"
#include "tern/wire/ipv4.h"

#define ROUTE_NIL UINT32_MAX
#define ROUTE_CAP0 64u

static uint32_t prefix_mask(uint8_t len)
{
    return len ? 0xffffffffu << (32 - len) : 0;
}

static uint32_t bucket_of(const struct route_table *t, uint32_t dst, uint8_t len)
{
    uint64_t x = ((uint64_t)len << 32) | dst;
    return (uint32_t)((x * t->mult) >> t->shift);
}

void route_free(struct tern_stack *s)
{
    free(s->rt.e);
    free(s->rt.bucket);
    free(s->rt.slot_lens);
    memset(&s->rt, 0, sizeof s->rt);
}

/* Marks the filter slots a route of length len >= 8 covers. */
static void filter_add(struct route_table *t, uint32_t dst, uint8_t len)
{
    if (len < 8)
        return; /* lengths 0..7 are probed for every address */
    uint32_t first = dst >> (32 - t->slot_bits), n = 1;
    if (len < t->slot_bits)
        n = 1u << (t->slot_bits - len);
    for (uint32_t k = 0; k < n; k++)
        t->slot_lens[first + k] |= 1u << (len - 8);
}

static void filter_rebuild(struct route_table *t)
{
    memset(t->slot_lens, 0, ((size_t)1 << t->slot_bits) * sizeof *t->slot_lens);
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->e[i].used)
            filter_add(t, t->e[i].dst, t->e[i].prefix_len);
    t->stale = 0;
}

/* Appends entry i to its chain (members of a group keep their order). */
static void chain_append(struct route_table *t, uint32_t i)
{
    uint32_t *pp = &t->bucket[bucket_of(t, t->e[i].dst, t->e[i].prefix_len)];
    for (uint32_t steps = 0; *pp != ROUTE_NIL && steps < t->count; steps++)
        pp = &t->e[*pp].hnext;
    t->e[i].hnext = ROUTE_NIL;
    *pp = i;
}

/* Room for one more entry: the arrays double up to TERN_MAX_ROUTES. */
static int grow(struct tern_stack *s)
{
    struct route_table *t = &s->rt;
    if (t->count < t->cap)
        return TERN_OK;
    if (t->cap >= TERN_MAX_ROUTES)
        return TERN_E_NOMEM;
    uint32_t cap = t->cap ? t->cap * 2 : ROUTE_CAP0;
    if (cap > TERN_MAX_ROUTES)
        cap = TERN_MAX_ROUTES;
    uint32_t nb = 1, bits = 0;
    while (nb < 2 * cap)
        nb <<= 1, bits++;
    int sbits = 8;
    while (sbits < 14 && (1u << sbits) < cap)
        sbits++;
    struct route_ent *e = calloc(cap, sizeof *e);
    uint32_t *b = malloc(nb * sizeof *b);
    uint32_t *sl = malloc(((size_t)1 << sbits) * sizeof *sl);
    if (!e || !b || !sl) {
        free(e);
        free(b);
        free(sl);
        return TERN_E_NOMEM;
    }
    free(t->slot_lens);
    t->slot_lens = sl;
    t->slot_bits = sbits;
    if (t->e)
        memcpy(e, t->e, t->cap * sizeof *e);
    free(t->e);
    if (!t->cap)
        t->free_head = ROUTE_NIL;
    for (uint32_t i = 0; i < nb; i++)
        b[i] = ROUTE_NIL;
    if (!t->mult) {
        /* From the stack's key, without drawing from its generator (a
         * simulation's random stream stays as it was). Odd: a bijection. */
        static const uint8_t tag[] = "route-lpm";
        t->mult = prng_hash(&s->rng, tag, sizeof tag) | 1;
    }
    /* Rehash chain by chain, so the members of a group keep their order. */
    uint32_t *old = t->bucket, oldn = t->nbuckets;
    t->e = e;
    t->bucket = b;
    t->nbuckets = nb;
    t->shift = 64 - (int)bits;
    for (uint32_t k = 0; k < oldn; k++)
        for (uint32_t i = old[k], steps = 0; i != ROUTE_NIL && steps < t->count; steps++) {
            uint32_t next = e[i].hnext;
            chain_append(t, i);
            i = next;
        }
    free(old);
    filter_rebuild(t);
    /* The new slots go on the free list. */
    for (uint32_t i = cap; i-- > t->cap;) {
        e[i].hnext = t->free_head;
        t->free_head = i;
    }
    t->cap = cap;
    return TERN_OK;
}

static int group_size(const struct route_table *t, uint32_t dst, uint8_t prefix_len)
{
    int n = 0;
    if (!t->nbuckets)
        return 0;
    for (uint32_t i = t->bucket[bucket_of(t, dst, prefix_len)], steps = 0;
         i != ROUTE_NIL && steps < t->count; steps++, i = t->e[i].hnext)
        n += t->e[i].dst == dst && t->e[i].prefix_len == prefix_len;
    return n;
}

static void unlink_ent(struct route_table *t, uint32_t i)
{
    uint32_t *pp = &t->bucket[bucket_of(t, t->e[i].dst, t->e[i].prefix_len)];
    for (uint32_t steps = 0; *pp != ROUTE_NIL && steps < t->count; steps++) {
        if (*pp == i) {
            *pp = t->e[i].hnext;
            break;
        }
        pp = &t->e[*pp].hnext;
    }
    uint8_t len = t->e[i].prefix_len;
    if (--t->per_len[len] == 0)
        t->lens &= ~(1ull << len);
    t->stale++;
    memset(&t->e[i], 0, sizeof t->e[i]);
    t->e[i].hnext = t->free_head;
    t->free_head = i;
    t->count--;
}

int tern_route_add(struct tern_stack *s, uint32_t dst, uint8_t prefix_len, uint32_t gateway,
                   int ifindex)
{
    if (!s || prefix_len > 32 || !stack_iface(s, ifindex))
        return TERN_E_INVAL;
    struct route_table *t = &s->rt;
    dst &= prefix_mask(prefix_len); /* host bits beyond the prefix are ignored */
    /* A gateway must be a unicast host address (RFC 1812 s5.2.4.3). */
    if (gateway && (ip_is_multicast(gateway) || ip_is_class_e(gateway) ||
                    ip_is_loopback(gateway) || stack_is_bcast(s, gateway)))
        return TERN_E_INVAL;
    if (t->nbuckets)
        for (uint32_t i = t->bucket[bucket_of(t, dst, prefix_len)], steps = 0;
             i != ROUTE_NIL && steps < t->count; steps++, i = t->e[i].hnext) {
            const struct route_ent *c = &t->e[i];
            if (c->dst == dst && c->prefix_len == prefix_len && c->gateway == gateway &&
                c->ifindex == ifindex)
                return TERN_OK; /* already there */
        }
    /* A new next hop for an existing prefix joins its group (ECMP). */
    if (group_size(t, dst, prefix_len) >= TERN_ECMP_MAX || grow(s) < 0)
        return TERN_E_NOMEM;
    uint32_t i = t->free_head;
    struct route_ent *r = &t->e[i];
    t->free_head = r->hnext;
    r->used = true;
    r->dst = dst;
    r->prefix_len = prefix_len;
    r->gateway = gateway;
    r->ifindex = ifindex;
    t->count++;
    chain_append(t, i);
    t->per_len[prefix_len]++;
    t->lens |= 1ull << prefix_len;
    filter_add(t, dst, prefix_len);
    route_gen_bump(s);
    return TERN_OK;
}

/* Removes the route, or the whole group, for dst/prefix_len. */
int tern_route_del(struct tern_stack *s, uint32_t dst, uint8_t prefix_len)
{
    if (!s || prefix_len > 32)
        return TERN_E_INVAL;
    struct route_table *t = &s->rt;
    dst &= prefix_mask(prefix_len);
    int n = 0;
    if (t->nbuckets)
        for (uint32_t i = t->bucket[bucket_of(t, dst, prefix_len)], steps = 0;
             i != ROUTE_NIL && steps <= TERN_MAX_ROUTES; steps++) {
            uint32_t next = t->e[i].hnext;
            if (t->e[i].dst == dst && t->e[i].prefix_len == prefix_len) {
                unlink_ent(t, i);
                n++;
            }
            i = next;
        }
    if (n)
        route_gen_bump(s);
    if (t->stale > 64 && t->stale > t->count)
        filter_rebuild(t); /* amortized: after as many deletes as routes */
    return n ? TERN_OK : TERN_E_INVAL;
}

size_t route_count(const struct tern_stack *s)
{
    return s->rt.count;
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
    return prng_hash(&s->rng, b, sizeof b);
}

static const struct route_ent *lookup(struct tern_stack *s, const struct route_key *k,
                                      bool per_packet)
{
    const struct route_table *t = &s->rt;
    const struct route_ent *group[TERN_ECMP_MAX];
    /* The lengths in use, longest first: the first with a usable member
     * is the longest match (a route through a down interface does not
     * match, so a shorter one may). Lengths 8..32 only where dst's /8
     * has a route of that length; 0..7 wherever they are used. */
    if (!t->slot_lens)
        return NULL;
    uint64_t lens = (t->lens & 0xff) | (t->lens & (uint64_t)t->slot_lens[k->dst >> (32 - t->slot_bits)] << 8);
    while (lens) {
        uint8_t len = (uint8_t)(63 - __builtin_clzll(lens));
        lens &= ~(1ull << len);
        uint32_t dst = k->dst & prefix_mask(len);
        int n = 0;
        for (uint32_t i = t->bucket[bucket_of(t, dst, len)], steps = 0;
             i != ROUTE_NIL && steps < t->count; steps++, i = t->e[i].hnext) {
            const struct route_ent *r = &t->e[i];
            if (r->dst != dst || r->prefix_len != len)
                continue;
            const struct tern_iface *ifc = stack_iface(s, r->ifindex);
            if (ifc && ifc->up && n < TERN_ECMP_MAX)
                group[n++] = r; /* members in the order added: stable choices */
        }
        if (n == 1)
            return group[0];
        if (n > 1) {
            uint64_t pick = per_packet ? prng_below(&s->rng, (uint64_t)n)
                                       : flow_hash(s, k) % (uint64_t)n;
            return group[pick];
        }
    }
    return NULL;
}

static int answer(const struct route_ent *r, uint32_t dst, uint32_t *next_hop, int *ifindex)
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
    struct route_table *t = &s->rt;
    for (uint32_t i = 0; i < t->cap; i++) {
        const struct route_ent *r = &t->e[i];
        if (r->used && r->ifindex == ifc->index && r->gateway == 0 &&
            r->prefix_len == ifc->prefix_len)
            unlink_ent(t, i);
    }
    route_gen_bump(s);
    if (ifc->addr)
        (void)tern_route_add(s, ifc->addr & ifc->mask, ifc->prefix_len, 0, ifc->index);
}
