/*
 * arp_probe.c - RFC 5227 s2.1.1 address probes (tern_arp_probe): is an
 * address free before we take it (DHCP DECLINE on a conflict, RFC 2131
 * s2.2). Not: announcements and the cache (arp.c), conflict defence (s2.4).
 */
#include <string.h>

#include "core/stack_impl.h"
#include "tern/wire/arp.h"

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];

/* ---- RFC 5227 s2.1.1 address probes ------------------------------------
 * PROBE_WAIT: a random 0..1 s wait, then PROBE_NUM (3) probes PROBE_MIN..
 * PROBE_MAX (1..2 s, random) apart, then ANNOUNCE_WAIT (2 s). The result is
 * reported from a timer (on the loop), never from the input path. */
#define PROBE_WAIT_US 1000000u
#define PROBE_NUM 3u
#define PROBE_MIN_US 1000000u
#define PROBE_MAX_US 2000000u
#define ANNOUNCE_WAIT_US 2000000u

static void probe_timer_fn(struct tern_timer *t, void *arg)
{
    struct arp_probe *p = arg;
    struct tern_stack *s = p->s;
    uint64_t now = tern_loop_now(s->loop);
    struct tern_iface *ifc = stack_iface(s, p->ifindex);
    if (!p->in_use && p->sent < PROBE_NUM && ifc && ifc->up) {
        /* A probe: a request with sender address 0 (so no cache anywhere
         * learns a binding we do not own yet) and target the address. */
        arp_send(s, ifc, TERN_ARP_REQUEST, bcast_mac, zero_mac, p->addr, 0);
        p->sent++;
        uint64_t wait = p->sent < PROBE_NUM
                            ? PROBE_MIN_US + prng_below(&s->rng, PROBE_MAX_US - PROBE_MIN_US + 1)
                            : ANNOUNCE_WAIT_US;
        tern_timer_arm(s->loop, t, now + wait);
        return;
    }
    p->active = false;
    p->fn(p->ctx, p->in_use);
}

int tern_arp_probe(struct tern_stack *s, int ifindex, uint32_t addr,
                   void (*fn)(void *ctx, bool in_use), void *ctx)
{
    struct tern_iface *ifc = s ? stack_iface(s, ifindex) : NULL;
    if (!ifc || !fn || addr == 0 || ip_is_multicast(addr) || ip_is_class_e(addr) ||
        ip_is_loopback(addr) || addr == 0xffffffffu)
        return TERN_E_INVAL;
    if (ifc->link != TERN_LINK_ETHERNET)
        return TERN_E_UNSUPPORTED;
    if (!ifc->up)
        return TERN_E_INVAL;
    struct arp_probe *p = &s->probes[ifindex];
    if (p->active)
        return TERN_E_ALREADY;
    memset(p, 0, sizeof *p);
    p->active = true;
    p->s = s;
    p->ifindex = ifindex;
    p->addr = addr;
    p->fn = fn;
    p->ctx = ctx;
    tern_timer_init(&p->timer, probe_timer_fn, p);
    tern_timer_arm(s->loop, &p->timer,
                   tern_loop_now(s->loop) + prng_below(&s->rng, PROBE_WAIT_US));
    return TERN_OK;
}

void tern_arp_probe_cancel(struct tern_stack *s, int ifindex, void *ctx)
{
    if (!s || ifindex < 0 || ifindex >= TERN_MAX_IFACES)
        return;
    struct arp_probe *p = &s->probes[ifindex];
    if (!p->active || p->ctx != ctx)
        return;
    if (tern_timer_armed(&p->timer))
        tern_timer_cancel(s->loop, &p->timer);
    p->active = false; /* fn is never called */
}

void arp_probe_fini(struct tern_stack *s)
{
    for (int i = 0; i < TERN_MAX_IFACES; i++)
        if (s->probes[i].active && tern_timer_armed(&s->probes[i].timer))
            tern_timer_cancel(s->loop, &s->probes[i].timer);
}

/* RFC 5227 s2.1.1: any ARP whose sender address is the probed one, or a
 * probe for it from a MAC that is not one of ours, means it is in use. */
void arp_probe_check(struct tern_stack *s, struct tern_iface *ifc, const struct tern_arp_repr *r,
                     uint64_t now)
{
    struct arp_probe *p = &s->probes[ifc->index];
    if (!p->active || p->in_use)
        return;
    for (int i = 0; i < s->n_ifaces; i++)
        if (s->ifaces[i].used && memcmp(r->sha, s->ifaces[i].mac, 6) == 0)
            return; /* our own probe looped back */
    if (r->spa == p->addr || (r->spa == 0 && r->op == TERN_ARP_REQUEST && r->tpa == p->addr)) {
        p->in_use = true;
        tern_timer_arm(s->loop, &p->timer, now); /* report on the next turn */
    }
}
