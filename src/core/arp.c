/*
 * arp.c - ARP for IPv4 over Ethernet: the neighbour cache, resolution with
 * retries, the queue of datagrams waiting for it, replies and announcements.
 * RFC 826 ("Packet Reception" merge algorithm), RFC 1122 s2.3.2.1 (cache
 * validation, request rate), s2.3.2.2 (packet queue), RFC 5227 (probes,
 * announcements, conflicts). Not: the packet codec (src/wire/arp.c), RFC
 * 5227 s2.1.1 probes (arp_probe.c), proxy ARP, address conflict defence.
 *
 * Bounds (ATTACKS 3-4, G3): at most arp_cache_max entries (the oldest is
 * evicted), a keyed hash table so lookups stay O(1) under attack, and a
 * preallocated pool of arp_queue_total frame slots, at most
 * arp_queue_per_entry per entry. Entry life: INCOMPLETE (requests sent at
 * arp_retry_us apart; arp_retry_us after the last of arp_max_requests the
 * queued datagrams are dropped and their senders told: with the defaults,
 * 3 s after the first, as Linux's mcast_solicit 3 x retrans_time 1 s, so
 * ping says "Destination Host Unreachable" when iputils does) -> VALID: reachable for arp_reachable_us after the last
 * confirmation, then stale (still used, one refresh request sent on use)
 * for arp_stale_us, then removed.
 */
#include <stdlib.h>
#include <string.h>

#include "core/stack_impl.h"
#include "tern/wire/arp.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void arp_timer_fn(struct tern_timer *t, void *arg);

int arp_init(struct tern_stack *s)
{
    struct tern_arp *a = &s->arp;
    uint32_t n = s->cfg.arp_cache_max;
    a->nbuckets = 1;
    while (a->nbuckets < 2 * n)
        a->nbuckets <<= 1;
    a->e = calloc(n, sizeof *a->e);
    a->bucket = malloc(a->nbuckets * sizeof *a->bucket);
    a->slot = calloc(s->cfg.arp_queue_total, sizeof *a->slot);
    if (!a->e || !a->bucket || !a->slot)
        return TERN_E_NOMEM;
    for (uint32_t i = 0; i < a->nbuckets; i++)
        a->bucket[i] = TERN_ARP_NIL;
    for (uint32_t i = 0; i < n; i++)
        a->e[i].lnext = i + 1 < n ? i + 1 : TERN_ARP_NIL;
    a->free_head = 0;
    a->old_head = a->old_tail = TERN_ARP_NIL;
    for (uint32_t i = 0; i < s->cfg.arp_queue_total; i++)
        a->slot[i].next = i + 1 < s->cfg.arp_queue_total ? i + 1 : TERN_ARP_NIL;
    a->qfree = 0;
    tern_timer_init(&a->timer, arp_timer_fn, s);
    return TERN_OK;
}

void arp_free(struct tern_stack *s)
{
    struct tern_arp *a = &s->arp;
    if (a->timer.fn && tern_timer_armed(&a->timer))
        tern_timer_cancel(s->loop, &a->timer);
    free(a->e);
    free(a->bucket);
    free(a->slot);
    free(a->qdata);
}

/* Slots hold whole frames, so they must fit the largest Ethernet MTU. */
int arp_grow_queue(struct tern_stack *s, uint16_t mtu)
{
    struct tern_arp *a = &s->arp;
    size_t stride = TERN_ETH_HLEN + (size_t)mtu;
    if (stride <= a->qstride)
        return TERN_OK;
    uint8_t *d = malloc(stride * s->cfg.arp_queue_total);
    if (!d)
        return TERN_E_NOMEM;
    if (a->qdata)
        for (uint32_t i = 0; i < s->cfg.arp_queue_total; i++)
            memcpy(d + i * stride, a->qdata + i * a->qstride, a->qstride);
    free(a->qdata);
    a->qdata = d;
    a->qstride = stride;
    return TERN_OK;
}

size_t arp_queued(const struct tern_stack *s)
{
    return s->arp.qused;
}

static uint8_t *slot_data(struct tern_arp *a, uint32_t i)
{
    return a->qdata + (size_t)i * a->qstride;
}

static void slot_release(struct tern_arp *a, uint32_t i)
{
    a->slot[i].next = a->qfree;
    a->qfree = i;
    a->qused--;
}

static uint32_t hash_of(const struct tern_stack *s, int ifindex, uint32_t ip)
{
    /* Keyed (SipHash) so a sender cannot aim many addresses at one chain. */
    uint8_t k[8];
    tern_put32(k, ip);
    tern_put32(k + 4, (uint32_t)ifindex);
    return (uint32_t)prng_hash(&s->rng, k, sizeof k) & (s->arp.nbuckets - 1);
}

static uint32_t lookup(const struct tern_stack *s, int ifindex, uint32_t ip)
{
    const struct tern_arp *a = &s->arp;
    uint32_t i = a->bucket[hash_of(s, ifindex, ip)];
    /* Chains hold distinct entries only; count bounds the walk (G2). */
    for (uint32_t steps = 0; i != TERN_ARP_NIL && steps <= a->count; steps++) {
        if (a->e[i].ip == ip && a->e[i].ifindex == ifindex)
            return i;
        i = a->e[i].hnext;
    }
    return TERN_ARP_NIL;
}

static void age_unlink(struct tern_arp *a, uint32_t i)
{
    struct arp_entry *e = &a->e[i];
    if (e->lprev != TERN_ARP_NIL)
        a->e[e->lprev].lnext = e->lnext;
    else
        a->old_head = e->lnext;
    if (e->lnext != TERN_ARP_NIL)
        a->e[e->lnext].lprev = e->lprev;
    else
        a->old_tail = e->lprev;
}

static void age_append(struct tern_arp *a, uint32_t i)
{
    struct arp_entry *e = &a->e[i];
    e->lnext = TERN_ARP_NIL;
    e->lprev = a->old_tail;
    if (a->old_tail != TERN_ARP_NIL)
        a->e[a->old_tail].lnext = i;
    else
        a->old_head = i;
    a->old_tail = i;
}

/* Removes entry i; its queued frames are returned as a chain (*q) when q is
 * given, else dropped and counted. */
static void entry_remove(struct tern_stack *s, uint32_t i, uint32_t *q)
{
    struct tern_arp *a = &s->arp;
    struct arp_entry *e = &a->e[i];
    if (e->state == ARP_VALID)
        route_gen_bump(s); /* a connection may cache its MAC (route_cache.c) */
    uint32_t *pp = &a->bucket[hash_of(s, e->ifindex, e->ip)];
    for (uint32_t steps = 0; *pp != TERN_ARP_NIL && steps <= a->count; steps++) {
        if (*pp == i) {
            *pp = e->hnext;
            break;
        }
        pp = &a->e[*pp].hnext;
    }
    age_unlink(a, i);
    if (q) {
        *q = e->qhead;
    } else {
        for (uint32_t k = e->qhead, steps = 0; k != TERN_ARP_NIL && steps < e->qlen; steps++) {
            uint32_t next = a->slot[k].next;
            slot_release(a, k);
            s->stats.arp.queue_drops++;
            k = next;
        }
    }
    memset(e, 0, sizeof *e);
    e->lnext = a->free_head;
    a->free_head = i;
    a->count--;
}

static uint32_t entry_new(struct tern_stack *s, int ifindex, uint32_t ip, uint8_t state)
{
    struct tern_arp *a = &s->arp;
    if (a->free_head == TERN_ARP_NIL) {
        /* Full: evict the oldest (ATTACKS 4, G3). */
        s->stats.arp.cache_evictions++;
        entry_remove(s, a->old_head, NULL);
    }
    uint32_t i = a->free_head;
    struct arp_entry *e = &a->e[i];
    a->free_head = e->lnext;
    memset(e, 0, sizeof *e);
    e->ip = ip;
    e->ifindex = ifindex;
    e->state = state;
    e->qhead = e->qtail = TERN_ARP_NIL;
    uint32_t b = hash_of(s, ifindex, ip);
    e->hnext = a->bucket[b];
    a->bucket[b] = i;
    age_append(a, i);
    a->count++;
    return i;
}

static void arp_arm(struct tern_stack *s, uint64_t when)
{
    struct tern_timer *t = &s->arp.timer;
    if (!tern_timer_armed(t) || when < t->when)
        tern_timer_arm(s->loop, t, when);
}

int eth_xmit(struct tern_stack *s, struct tern_iface *ifc, const uint8_t dst[6], uint16_t type,
             uint8_t *frame, size_t len)
{
    struct tern_eth_repr eth = {.ethertype = type};
    memcpy(eth.dst, dst, 6);
    memcpy(eth.src, ifc->mac, 6);
    (void)tern_eth_emit(&eth, frame, TERN_ETH_HLEN);
    s->stats.eth.tx++;
    return stack_dev_send(s, ifc->dev, frame, len);
}

void arp_send(struct tern_stack *s, struct tern_iface *ifc, uint16_t op,
                     const uint8_t eth_dst[6], const uint8_t tha[6], uint32_t tpa, uint32_t spa)
{
    uint8_t f[TERN_ETH_HLEN + TERN_ARP_LEN];
    struct tern_arp_repr r = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(r.sha, ifc->mac, 6);
    memcpy(r.tha, tha, 6);
    (void)tern_arp_emit(&r, f + TERN_ETH_HLEN, TERN_ARP_LEN);
    if (op == TERN_ARP_REQUEST)
        s->stats.arp.tx_request++;
    else
        s->stats.arp.tx_reply++;
    (void)eth_xmit(s, ifc, eth_dst, TERN_ETHERTYPE_ARP, f, sizeof f);
}

static const uint8_t zero_mac[6];

static void send_request(struct tern_stack *s, struct arp_entry *e, const uint8_t *eth_dst)
{
    struct tern_iface *ifc = stack_iface(s, e->ifindex);
    if (ifc && ifc->up)
        arp_send(s, ifc, TERN_ARP_REQUEST, eth_dst, zero_mac, e->ip, ifc->addr);
}

void arp_announce(struct tern_stack *s, struct tern_iface *ifc)
{
    /* RFC 5227 s3: an announcement is a request with spa == tpa == ours. */
    arp_send(s, ifc, TERN_ARP_REQUEST, bcast_mac, zero_mac, ifc->addr, ifc->addr);
}

/* Sends every frame queued on entry i with its now-known address. */
static void flush_queue(struct tern_stack *s, uint32_t i)
{
    struct tern_arp *a = &s->arp;
    struct arp_entry *e = &a->e[i];
    struct tern_iface *ifc = stack_iface(s, e->ifindex);
    uint32_t k = e->qhead, n = e->qlen;
    e->qhead = e->qtail = TERN_ARP_NIL;
    e->qlen = 0;
    uint8_t mac[6];
    memcpy(mac, e->mac, 6);
    for (uint32_t steps = 0; k != TERN_ARP_NIL && steps < n; steps++) {
        uint32_t next = a->slot[k].next;
        if (ifc && ifc->up)
            (void)eth_xmit(s, ifc, mac, TERN_ETHERTYPE_IPV4, slot_data(a, k), a->slot[k].len);
        slot_release(a, k);
        k = next;
    }
}

static int queue_frame(struct tern_stack *s, uint32_t i, const uint8_t *frame, size_t len)
{
    struct tern_arp *a = &s->arp;
    struct arp_entry *e = &a->e[i];
    if (e->qlen >= s->cfg.arp_queue_per_entry) {
        /* RFC 1122 s2.3.2.2: keep the latest; drop the oldest (ATTACKS 4). */
        uint32_t old = e->qhead;
        e->qhead = a->slot[old].next;
        if (e->qhead == TERN_ARP_NIL)
            e->qtail = TERN_ARP_NIL;
        e->qlen--;
        slot_release(a, old);
        s->stats.arp.queue_drops++;
    }
    if (a->qfree == TERN_ARP_NIL || len > a->qstride) {
        s->stats.arp.queue_drops++; /* the total cap (ATTACKS 4) */
        return TERN_E_NOMEM;
    }
    uint32_t k = a->qfree;
    a->qfree = a->slot[k].next;
    a->qused++;
    memcpy(slot_data(a, k), frame, len);
    a->slot[k].len = (uint32_t)len;
    a->slot[k].next = TERN_ARP_NIL;
    if (e->qtail != TERN_ARP_NIL)
        a->slot[e->qtail].next = k;
    else
        e->qhead = k;
    e->qtail = k;
    e->qlen++;
    return TERN_OK;
}

int arp_output(struct tern_stack *s, struct tern_iface *ifc, uint32_t next_hop, uint8_t *frame,
               size_t len, uint64_t now)
{
    const struct tern_config *c = &s->cfg;
    uint32_t i = lookup(s, ifc->index, next_hop);
    if (i != TERN_ARP_NIL && s->arp.e[i].state == ARP_VALID) {
        struct arp_entry *e = &s->arp.e[i];
        uint64_t age = now - e->confirmed;
        if (age < c->arp_reachable_us + c->arp_stale_us) {
            /* Stale but in use: RFC 1122 s2.3.2.1 - revalidate with a
             * unicast request, at most one per retry interval. */
            if (age >= c->arp_reachable_us && now >= e->next_event) {
                e->next_event = now + c->arp_retry_us;
                send_request(s, e, e->mac);
            }
            return eth_xmit(s, ifc, e->mac, TERN_ETHERTYPE_IPV4, frame, len);
        }
        /* Expired before the timer removed it: resolve again. */
        entry_remove(s, i, NULL);
        i = TERN_ARP_NIL;
    }
    if (i == TERN_ARP_NIL) {
        i = entry_new(s, ifc->index, next_hop, ARP_INCOMPLETE);
        struct arp_entry *e = &s->arp.e[i];
        e->requests = 1;
        e->next_event = now + c->arp_retry_us;
        send_request(s, e, bcast_mac);
        arp_arm(s, e->next_event);
    }
    return queue_frame(s, i, frame, len);
}

void arp_flush_iface(struct tern_stack *s, struct tern_iface *ifc)
{
    for (uint32_t i = 0; i < s->cfg.arp_cache_max; i++)
        if (s->arp.e[i].state != ARP_FREE && s->arp.e[i].ifindex == ifc->index)
            entry_remove(s, i, NULL);
}

static void arp_timer_fn(struct tern_timer *t, void *arg)
{
    struct tern_stack *s = arg;
    struct tern_arp *a = &s->arp;
    const struct tern_config *c = &s->cfg;
    (void)t;
    uint64_t now = tern_loop_now(s->loop);
    uint64_t next = TERN_TIME_NEVER;
    uint32_t failed = TERN_ARP_NIL; /* queued frames of failed resolutions */
    for (uint32_t i = 0; i < c->arp_cache_max; i++) {
        struct arp_entry *e = &a->e[i];
        if (e->state == ARP_INCOMPLETE && now >= e->next_event) {
            if (e->requests >= c->arp_max_requests) {
                /* RFC 1122 s2.3.2.2: give up; the datagrams are dropped
                 * and their senders told (below). */
                s->stats.arp.resolve_failures++;
                uint32_t q, tail = e->qtail;
                entry_remove(s, i, &q);
                if (q != TERN_ARP_NIL) {
                    a->slot[tail].next = failed;
                    failed = q;
                }
                continue;
            }
            /* RFC 1122 s2.3.2.1: at most one request per arp_retry_us */
            e->next_event = now + c->arp_retry_us;
            e->requests++;
            send_request(s, e, bcast_mac);
        } else if (e->state == ARP_VALID && now - e->confirmed >= c->arp_reachable_us + c->arp_stale_us) {
            entry_remove(s, i, NULL);
            continue;
        }
        if (e->state == ARP_INCOMPLETE && e->next_event < next)
            next = e->next_event;
        else if (e->state == ARP_VALID && e->confirmed + c->arp_reachable_us + c->arp_stale_us < next)
            next = e->confirmed + c->arp_reachable_us + c->arp_stale_us;
    }
    if (next != TERN_TIME_NEVER)
        tern_timer_arm(s->loop, &a->timer, next);
    /* Callbacks last: an echo owner may send again from its handler. */
    for (uint32_t k = failed, steps = 0; k != TERN_ARP_NIL && steps < c->arp_queue_total; steps++) {
        uint32_t nk = a->slot[k].next;
        if (a->slot[k].len > TERN_ETH_HLEN)
            ip_queued_unreach(s, slot_data(a, k) + TERN_ETH_HLEN, a->slot[k].len - TERN_ETH_HLEN,
                              TERN_ICMP_UNREACH_HOST, now);
        s->stats.arp.queue_drops++;
        slot_release(a, k);
        k = nk;
    }
}

void arp_input(struct tern_stack *s, struct tern_iface *ifc, const uint8_t *p, size_t len,
               uint64_t now)
{
    struct tern_arp_repr r;
    s->stats.arp.rx++;
    int rc = tern_arp_parse(p, len, &r); /* ATTACKS 1-2: length first, then types */
    if (rc == TERN_E_SHORT) {
        s->stats.arp.drop_short++;
        return;
    }
    if (rc < 0) {
        s->stats.arp.drop_unsupported++;
        return;
    }
    /* ATTACKS 3: a group or zero sender MAC never enters the cache. */
    if (tern_eth_is_multicast(r.sha) || tern_eth_is_zero(r.sha)) {
        s->stats.arp.drop_bad_sender++;
        return;
    }
    arp_probe_check(s, ifc, &r, now);
    if (!ifc->addr)
        return;
    if (stack_is_our_addr(s, r.spa)) {
        /* RFC 5227 s2.4: someone else claims our address. Our own
         * announcement echoed back is not a conflict. */
        if (memcmp(r.sha, ifc->mac, 6) != 0)
            s->stats.arp.conflicts++;
        return;
    }
    bool probe = r.spa == 0; /* RFC 5227 s2.1.1 probe: no sender address */
    if (!probe && (ip_is_multicast(r.spa) || ip_is_class_e(r.spa) || ip_is_loopback(r.spa) ||
                   stack_is_bcast(s, r.spa) || (r.spa >> 24) == 0)) {
        s->stats.arp.drop_bad_sender++;
        return;
    }
    /* RFC 826 "Packet Reception": if the sender is in the table, update it
     * (the merge). This is the only way a reply changes the cache. */
    bool merged = false;
    uint32_t i = probe ? TERN_ARP_NIL : lookup(s, ifc->index, r.spa);
    if (i != TERN_ARP_NIL) {
        struct arp_entry *e = &s->arp.e[i];
        if (e->state == ARP_VALID && memcmp(e->mac, r.sha, 6) != 0)
            route_gen_bump(s); /* the neighbour moved: cached MACs too */
        memcpy(e->mac, r.sha, 6);
        e->state = ARP_VALID;
        e->confirmed = now;
        e->next_event = now;
        e->requests = 0;
        age_unlink(&s->arp, i);
        age_append(&s->arp, i);
        merged = true;
        flush_queue(s, i);
        arp_arm(s, now + s->cfg.arp_reachable_us + s->cfg.arp_stale_us);
    }
    if (r.tpa != ifc->addr)
        return;
    if (!merged && !probe && r.op == TERN_ARP_REQUEST) {
        /* RFC 826: "If Merge_flag is false, add the triplet". DEVIATION:
         * only for a request to us (the requester will talk to us next);
         * an unsolicited reply creates nothing (ATTACKS 3). */
        i = entry_new(s, ifc->index, r.spa, ARP_VALID);
        struct arp_entry *e = &s->arp.e[i];
        memcpy(e->mac, r.sha, 6);
        e->confirmed = now;
        e->next_event = now;
        arp_arm(s, now + s->cfg.arp_reachable_us + s->cfg.arp_stale_us);
    }
    if (r.op == TERN_ARP_REQUEST) {
        /* RFC 826: swap sender and target, fill in our address, reply
         * to the requester directly. */
        arp_send(s, ifc, TERN_ARP_REPLY, r.sha, r.sha, r.spa, ifc->addr);
    }
}

bool arp_peek(struct tern_stack *s, const struct tern_iface *ifc, uint32_t next_hop,
              uint8_t mac[6], uint64_t *until, uint64_t now)
{
    uint32_t i = lookup(s, ifc->index, next_hop);
    if (i == TERN_ARP_NIL || s->arp.e[i].state != ARP_VALID)
        return false;
    const struct arp_entry *e = &s->arp.e[i];
    /* Reachable only: a stale entry goes through arp_output, which
     * revalidates it (RFC 1122 s2.3.2.1). */
    if (now - e->confirmed >= s->cfg.arp_reachable_us)
        return false;
    memcpy(mac, e->mac, 6);
    *until = e->confirmed + s->cfg.arp_reachable_us;
    return true;
}
