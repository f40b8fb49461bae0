/*
 * route.c - the routing table: longest-prefix match over connected, static
 * and default routes (RFC 1812 s5.2.4.3, RFC 1122 s3.3.1 for hosts).
 * At most TERN_MAX_ROUTES entries; a lookup scans them once (bounded).
 * Not: forwarding (a later issue), redirects (ignored, ATTACKS 21), metrics.
 */
#include <string.h>

#include "core/stack_impl.h"

static uint32_t prefix_mask(uint8_t len)
{
    return len ? 0xffffffffu << (32 - len) : 0;
}

static struct tern_route *route_find(struct tern_stack *s, uint32_t dst, uint8_t prefix_len)
{
    for (int i = 0; i < TERN_MAX_ROUTES; i++) {
        struct tern_route *r = &s->routes[i];
        if (r->used && r->dst == dst && r->prefix_len == prefix_len)
            return r;
    }
    return NULL;
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
    struct tern_route *r = route_find(s, dst, prefix_len);
    if (!r) {
        for (int i = 0; i < TERN_MAX_ROUTES && !r; i++)
            if (!s->routes[i].used)
                r = &s->routes[i];
        if (!r)
            return TERN_E_NOMEM;
    }
    r->used = true;
    r->dst = dst;
    r->mask = mask;
    r->prefix_len = prefix_len;
    r->gateway = gateway;
    r->ifindex = ifindex;
    return TERN_OK;
}

int tern_route_del(struct tern_stack *s, uint32_t dst, uint8_t prefix_len)
{
    if (!s || prefix_len > 32)
        return TERN_E_INVAL;
    struct tern_route *r = route_find(s, dst & prefix_mask(prefix_len), prefix_len);
    if (!r)
        return TERN_E_INVAL;
    memset(r, 0, sizeof *r);
    return TERN_OK;
}

int tern_route_lookup(struct tern_stack *s, uint32_t dst, uint32_t *next_hop, int *ifindex)
{
    const struct tern_route *best = NULL;
    for (int i = 0; i < TERN_MAX_ROUTES; i++) {
        const struct tern_route *r = &s->routes[i];
        if (!r->used || (dst & r->mask) != r->dst)
            continue;
        const struct tern_iface *ifc = stack_iface(s, r->ifindex);
        if (!ifc || !ifc->up)
            continue; /* a route through a down interface does not match */
        if (!best || r->prefix_len > best->prefix_len)
            best = r;
    }
    if (!best)
        return TERN_E_INVAL;
    if (next_hop)
        *next_hop = best->gateway ? best->gateway : dst;
    if (ifindex)
        *ifindex = best->ifindex;
    return TERN_OK;
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
