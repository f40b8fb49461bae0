/*
 * pmtu.c - the RFC 1191 path MTU cache: one estimate per destination,
 * lowered by ICMP "fragmentation needed" errors that quote a datagram we
 * sent, read by transports (tern_pmtu_get; TCP sizes new connections from
 * it, tcp.c tcp_route_mss).
 * Bounded (ATTACKS G3): cfg.pmtu_max entries, the oldest evicted beyond;
 * an entry lasts cfg.pmtu_timeout_us after its last decrease (RFC 1191
 * s6.3: then the route's MTU is tried again). Scans are linear over at
 * most pmtu_max (<= 4096) entries and run only on an ICMP error or a
 * connection setup, never per packet.
 * RFC 1191 s4 (next-hop MTU), s5 (plateau table for old routers), s6.3
 * (never below 68, never raised by an ICMP message, aging); ATTACKS 19.
 * Not: RFC 4821 probing (TCP's), the per-connection MSS (tcp_in.c lowers
 * it on the same error), IPv6.
 */
#include <stdlib.h>
#include <string.h>

#include "core/stack_impl.h"
#include "tern/wire/icmp.h"

#define PMTU_MIN 68u /* RFC 791 s3.2 / RFC 1191 s6.3 */

int pmtu_init(struct tern_stack *s)
{
    if (s->cfg.pmtu_max == 0)
        return TERN_OK; /* no cache: the route's MTU always */
    s->pmtu = calloc(s->cfg.pmtu_max, sizeof *s->pmtu);
    return s->pmtu ? TERN_OK : TERN_E_NOMEM;
}

void pmtu_fini(struct tern_stack *s)
{
    free(s->pmtu);
    s->pmtu = NULL;
}

/* The MTU of dst's first hop: the route's interface (our own address: its
 * interface, the loopback path). 0 without a route. */
static uint32_t route_mtu(struct tern_stack *s, uint32_t dst)
{
    struct tern_iface *ifc = stack_iface_by_addr(s, dst);
    int ifindex;
    if (!ifc && tern_route_lookup(s, dst, NULL, &ifindex) == TERN_OK)
        ifc = stack_iface(s, ifindex);
    return ifc ? ifc->mtu : 0;
}

/* The fresh entry for dst, or NULL; expired entries are freed on the way. */
static struct pmtu_entry *find(struct tern_stack *s, uint32_t dst, uint64_t now)
{
    for (uint32_t i = 0; i < (s->pmtu ? s->cfg.pmtu_max : 0); i++) {
        struct pmtu_entry *e = &s->pmtu[i];
        if (!e->used)
            continue;
        if (now - e->when >= s->cfg.pmtu_timeout_us) {
            e->used = false; /* RFC 1191 s6.3: aged out */
            continue;
        }
        if (e->dst == dst)
            return e;
    }
    return NULL;
}

/* RFC 1191 s5 table 7-1: the plateaus a host steps down through when a
 * router does not say its MTU (next_mtu 0). */
static uint32_t plateau_below(uint32_t len)
{
    static const uint16_t plateaus[] = {65535, 32000, 17914, 8166, 4352, 2002,
                                        1492,  1006,  508,   296,  68};
    for (size_t i = 0; i < sizeof plateaus / sizeof plateaus[0]; i++)
        if (plateaus[i] < len)
            return plateaus[i];
    return 0;
}

uint32_t pmtu_implied(struct tern_stack *s, uint16_t next_mtu, const struct tern_icmp_quote *q)
{
    if (next_mtu)
        return next_mtu; /* RFC 1191 s4: the constricting hop's MTU */
    /* RFC 1191 s5 (old-style message, field 0): "use as the next PMTU
     * estimate the greatest plateau value that is less than the returned
     * Total Length field (corrected, if necessary, according to the Note
     * above)". The Note: routers derived from 4.2BSD return Total Length
     * plus the header length, and "the host must be conservative and
     * assume that it is. If the Total Length field returned is not less
     * than the current PMTU estimate, it must be reduced by 4 times the
     * value of the returned Header Length field" (hdr_len is IHL * 4). */
    uint32_t len = q->ip.total_len;
    int cur = tern_pmtu_get(s, q->ip.dst);
    if (cur > 0 && len >= (uint32_t)cur && len > q->ip.hdr_len)
        len -= q->ip.hdr_len;
    return plateau_below(len);
}

void pmtu_icmp_error(struct tern_stack *s, uint8_t type, uint8_t code, uint32_t mtu,
                     const struct tern_icmp_quote *q)
{
    if (type != TERN_ICMP_UNREACH || code != TERN_ICMP_UNREACH_NEEDFRAG || !s->pmtu)
        return;
    uint64_t now = tern_loop_now(s->loop);
    uint32_t dst = q->ip.dst, sent = q->ip.total_len;
    /* ATTACKS 19: an MTU below 68 is not believed at all (RFC 1191 s6.3:
     * a host MUST never reduce its estimate below 68). An MTU the quoted
     * datagram would have fitted is not a reason to shrink either. */
    if (mtu < PMTU_MIN || mtu >= sent)
        return;
    uint32_t first_hop = route_mtu(s, dst);
    if (first_hop == 0)
        return;
    if (mtu > first_hop)
        mtu = first_hop; /* never above the route's MTU */
    struct pmtu_entry *e = find(s, dst, now);
    if (e) {
        /* RFC 1191 s6.3: a Datagram Too Big never raises the estimate. */
        if (mtu < e->mtu) {
            e->mtu = (uint16_t)mtu;
            e->when = now;
        }
        return;
    }
    if (mtu >= first_hop)
        return;
    /* A free slot, else the oldest entry (G3). */
    struct pmtu_entry *victim = NULL;
    for (uint32_t i = 0; i < s->cfg.pmtu_max; i++) {
        struct pmtu_entry *c = &s->pmtu[i];
        if (!c->used) {
            victim = c;
            break;
        }
        if (!victim || c->when < victim->when)
            victim = c;
    }
    *victim = (struct pmtu_entry){.dst = dst, .mtu = (uint16_t)mtu, .used = true, .when = now};
}

int tern_pmtu_get(struct tern_stack *s, uint32_t dst)
{
    if (!s)
        return TERN_E_INVAL;
    uint32_t mtu = route_mtu(s, dst);
    if (mtu == 0)
        return TERN_E_INVAL;
    const struct pmtu_entry *e = find(s, dst, tern_loop_now(s->loop));
    if (e && e->mtu < mtu)
        mtu = e->mtu; /* a route whose MTU shrank since still wins */
    return (int)mtu;
}

size_t pmtu_count(const struct tern_stack *s)
{
    size_t n = 0;
    for (uint32_t i = 0; i < (s->pmtu ? s->cfg.pmtu_max : 0); i++)
        n += s->pmtu[i].used;
    return n;
}
