/*
 * ipv6_addr.c - IPv6 state of a stack: creation, the per-interface address
 * table, link-local addresses (RFC 7217 stable opaque IIDs or RFC 4291
 * modified EUI-64), Duplicate Address Detection (RFC 4862 s5.4), address
 * lifetimes (RFC 4862 s5.5.4), source selection (RFC 6724, simplified),
 * the NDP multicast receive filter, and the one IPv6 timer.
 * Not: NDP's neighbour cache (nd6.c), RAs and SLAAC (ra6.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/ip6_impl.h"
#include "core/reasm.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"

static void ip6_timer_fn(struct tern_timer *t, void *arg);

int ip6_init(struct tern_stack *s)
{
    struct ip6_state *v = calloc(1, sizeof *v);
    if (!v)
        return TERN_E_NOMEM;
    s->v6 = v;
    struct tern_reasm_config rc = {.max_bytes = s->cfg.reasm_max_bytes,
                                   .max_datagrams = s->cfg.reasm_max_datagrams,
                                   .timeout_us = 60000000ull}; /* RFC 8200 s4.5: 60 s */
    v->reasm = ip_reasm_new(&rc);
    v->txbuf = malloc(TERN_ETH_HLEN + 65535);
    v->fragbuf = malloc(TERN_ETH_HLEN + 65535);
    v->icmpbuf = malloc(65535);
    tern_timer_init(&v->timer, ip6_timer_fn, s);
    v->frag_id = (uint32_t)prng_next(&s->rng);
    v->icmp_tokens = (uint64_t)s->cfg.icmp_burst * 1000000u;
    v->icmp_last = tern_loop_now(s->loop);
    if (!v->reasm || !v->txbuf || !v->fragbuf || !v->icmpbuf || nd6_init(s) < 0)
        return TERN_E_NOMEM;
    return TERN_OK;
}

void ip6_fini(struct tern_stack *s)
{
    struct ip6_state *v = s->v6;
    if (!v)
        return;
    if (tern_timer_armed(&v->timer))
        tern_timer_cancel(s->loop, &v->timer);
    nd6_fini(s);
    ip_reasm_free(v->reasm);
    free(v->txbuf);
    free(v->fragbuf);
    free(v->icmpbuf);
    free(v);
    s->v6 = NULL;
}

void ip6_timer_at(struct tern_stack *s, uint64_t when)
{
    struct tern_timer *t = &s->v6->timer;
    if (!tern_timer_armed(t) || when < t->when)
        tern_timer_arm(s->loop, t, when);
}

static void notify(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a, int state)
{
    if (s->v6->notify)
        s->v6->notify(s->v6->notify_ctx, ifindex, a, state);
}

/* ---- interface identifiers ---- */

/* RFC 4291 s2.5.1 / appendix A: modified EUI-64 from a 48-bit MAC. */
static void eui64(const uint8_t mac[6], uint8_t iid[8])
{
    iid[0] = mac[0] ^ 0x02;
    iid[1] = mac[1];
    iid[2] = mac[2];
    iid[3] = 0xff;
    iid[4] = 0xfe;
    iid[5] = mac[3];
    iid[6] = mac[4];
    iid[7] = mac[5];
}

/* RFC 5453 s3: reserved IIDs - all zero, and the subnet anycast range
 * fdff:ffff:ffff:ff80..ffff. */
static bool iid_reserved(const uint8_t iid[8])
{
    static const uint8_t z[8];
    if (!memcmp(iid, z, 8))
        return true;
    return iid[0] == 0xfd && iid[1] == 0xff && iid[2] == 0xff && iid[3] == 0xff &&
           iid[4] == 0xff && iid[5] == 0xff && iid[6] == 0xff && iid[7] >= 0x80;
}

void ip6_make_iid(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *prefix,
                  uint8_t dad_counter, struct tern_ipv6_addr *out)
{
    memcpy(out->b, prefix->b, 8);
    if (s->cfg.ipv6_eui64) {
        eui64(ifc->mac, out->b + 8);
        return;
    }
    /* RFC 7217 s5: RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter,
     * secret_key), F a keyed PRF (SipHash-2-4 under the stack's secret, s5
     * asks for a cryptographic hash; the key is the stack's 64-bit secret).
     * Net_Iface is the MAC (stable across restarts, s5 item 2); no
     * Network_ID. A reserved result is retried with the next counter. */
    for (uint8_t extra = 0;; extra++) {
        uint8_t in[8 + 6 + 2];
        memcpy(in, prefix->b, 8);
        memcpy(in + 8, ifc->mac, 6);
        in[14] = (uint8_t)(dad_counter + extra);
        in[15] = 0x7d; /* domain separation from the stack's other hashes */
        uint64_t h = prng_hash(&s->rng, in, sizeof in);
        tern_put32(out->b + 8, (uint32_t)(h >> 32));
        tern_put32(out->b + 12, (uint32_t)h);
        if (!iid_reserved(out->b + 8) || extra == 8)
            break;
    }
}

/* ---- the address table ---- */

struct ip6_addr_ent *ip6_addr_find(struct tern_stack *s, int ifindex,
                                   const struct tern_ipv6_addr *a)
{
    if (!s->v6 || ifindex < 0 || ifindex >= TERN_MAX_IFACES)
        return NULL;
    struct ip6_iface *i6 = &s->v6->ifs[ifindex];
    for (int k = 0; k < IP6_ADDRS_MAX; k++)
        if (i6->addr[k].state != A6_FREE && !memcmp(i6->addr[k].a.b, a->b, 16))
            return &i6->addr[k];
    return NULL;
}

struct ip6_addr_ent *ip6_addr_ours(struct tern_stack *s, const struct tern_ipv6_addr *a,
                                   int *ifindex)
{
    for (int i = 0; i < s->n_ifaces; i++) {
        struct ip6_addr_ent *e = ip6_addr_find(s, i, a);
        if (e) {
            if (ifindex)
                *ifindex = i;
            return e;
        }
    }
    return NULL;
}

static bool usable(const struct ip6_addr_ent *e)
{
    return e->state == A6_PREFERRED || e->state == A6_DEPRECATED;
}

bool ip6_addr_usable(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a)
{
    if (ifindex >= 0) {
        struct ip6_addr_ent *e = ip6_addr_find(s, ifindex, a);
        return e && usable(e);
    }
    for (int i = 0; i < s->n_ifaces; i++)
        if (ip6_addr_usable(s, i, a))
            return true;
    return false;
}

static unsigned common_bits(const struct tern_ipv6_addr *a, const struct tern_ipv6_addr *b)
{
    unsigned n = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t x = a->b[i] ^ b->b[i];
        if (!x) {
            n += 8;
            continue;
        }
        while (!(x & 0x80)) {
            n++;
            x <<= 1;
        }
        break;
    }
    return n;
}

/* Link-local scope: fe80::/10 unicast, ff02::/16 and ff01::/16 multicast. */
static bool link_scope(const struct tern_ipv6_addr *d)
{
    return tern_ipv6_is_link_local(d) ||
           (d->b[0] == 0xff && ((d->b[1] & 0x0f) == 2 || (d->b[1] & 0x0f) == 1));
}

bool ip6_src_select(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *dst,
                    struct tern_ipv6_addr *out)
{
    /* RFC 6724 s5, the rules that matter for a host: 2 (appropriate
     * scope: a link-local destination gets a link-local source), 3 (avoid
     * deprecated addresses), 8 (longest matching prefix). */
    if (ifindex < 0 || ifindex >= TERN_MAX_IFACES || !s->v6)
        return false;
    struct ip6_iface *i6 = &s->v6->ifs[ifindex];
    bool want_ll = link_scope(dst);
    const struct ip6_addr_ent *best = NULL;
    int best_score = -1;
    for (int k = 0; k < IP6_ADDRS_MAX; k++) {
        const struct ip6_addr_ent *e = &i6->addr[k];
        if (!usable(e))
            continue;
        bool ll = tern_ipv6_is_link_local(&e->a);
        int score = 0;
        if (ll == want_ll)
            score += 1 << 10;
        if (e->state == A6_PREFERRED)
            score += 1 << 9;
        score += (int)common_bits(&e->a, dst);
        if (score > best_score) {
            best_score = score;
            best = e;
        }
    }
    if (!best)
        return false;
    *out = best->a;
    return true;
}

/* ---- Duplicate Address Detection (RFC 4862 s5.4) ---- */

static void dad_start(struct tern_stack *s, int ifindex, struct ip6_addr_ent *e, uint64_t now)
{
    e->state = A6_TENTATIVE;
    e->dad_sent = 0;
    e->dad_next = now; /* s5.4.2: the first NS goes out at once (no random delay:
                        * DEVIATION, RFC 4862 s5.4.2 asks for 0..1 s when the
                        * interface comes up, against synchronised starts) */
    struct tern_iface *ifc = stack_iface(s, ifindex);
    if (ifc && ifc->up)
        ip6_timer_at(s, now);
}

static void dad_done(struct tern_stack *s, int ifindex, struct ip6_addr_ent *e)
{
    e->state = e->preferred_until == 0 ? A6_DEPRECATED : A6_PREFERRED;
    route_gen_bump(s);
    notify(s, ifindex, &e->a, e->state);
}

static void dad_duplicate(struct tern_stack *s, int ifindex, struct ip6_addr_ent *e)
{
    /* s5.4.5: a duplicate is not assigned to the interface. A link-local
     * or SLAAC address with a stable IID is regenerated with the next
     * DAD_Counter (RFC 7217 s6), at most IDGEN_RETRIES = 3 times. */
    s->v6->st.dad_duplicates++;
    struct tern_ipv6_addr dup = e->a;
    e->state = A6_DUPLICATE;
    notify(s, ifindex, &dup, A6_DUPLICATE);
    struct tern_iface *ifc = stack_iface(s, ifindex);
    if (ifc && e->origin != TERN_ADDR6_STATIC && !s->cfg.ipv6_eui64 && e->dad_counter < 3) {
        struct tern_ipv6_addr na;
        ip6_make_iid(s, ifc, &dup, (uint8_t)(e->dad_counter + 1), &na);
        if (!ip6_addr_find(s, ifindex, &na)) {
            e->a = na;
            e->dad_counter++;
            dad_start(s, ifindex, e, tern_loop_now(s->loop));
            notify(s, ifindex, &na, A6_TENTATIVE);
        }
    }
}

void ip6_dad_ns_rx(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *target,
                   const struct tern_ipv6_addr *src)
{
    struct ip6_addr_ent *e = ip6_addr_find(s, ifindex, target);
    if (!e || e->state != A6_TENTATIVE)
        return;
    /* s5.4.3: an NS from :: for a tentative address is another node's DAD
     * (ours does not come back: the device does not loop our frames);
     * one from a unicast source is someone resolving it - discarded. */
    if (tern_ipv6_is_unspecified(src))
        dad_duplicate(s, ifindex, e);
}

void ip6_dad_na_rx(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *target)
{
    struct ip6_addr_ent *e = ip6_addr_find(s, ifindex, target);
    /* s5.4.4: an NA for a tentative address: it is a duplicate. */
    if (e && e->state == A6_TENTATIVE)
        dad_duplicate(s, ifindex, e);
}

int ip6_addr_add(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a, uint8_t plen,
                 uint8_t origin, uint32_t valid_s, uint32_t pref_s, uint64_t now)
{
    struct tern_iface *ifc = stack_iface(s, ifindex);
    if (!s->v6 || !ifc || plen > 128 || tern_ipv6_is_unspecified(a) ||
        tern_ipv6_is_multicast(a) || tern_ipv6_is_loopback(a) || tern_ipv6_is_v4mapped(a))
        return TERN_E_INVAL;
    if (ifc->link != TERN_LINK_ETHERNET)
        return TERN_E_UNSUPPORTED; /* IPv6 runs on Ethernet interfaces (not TUN) for now */
    struct ip6_iface *i6 = &s->v6->ifs[ifindex];
    uint64_t vu = valid_s == UINT32_MAX ? UINT64_MAX : now + (uint64_t)valid_s * 1000000u;
    uint64_t pu = pref_s == UINT32_MAX ? UINT64_MAX : now + (uint64_t)pref_s * 1000000u;
    struct ip6_addr_ent *e = ip6_addr_find(s, ifindex, a);
    if (e) {
        e->valid_until = vu;
        e->preferred_until = pu;
        if (e->state == A6_DEPRECATED && pref_s)
            e->state = A6_PREFERRED;
        return TERN_OK;
    }
    for (int k = 0; k < IP6_ADDRS_MAX; k++) {
        e = &i6->addr[k];
        if (e->state != A6_FREE)
            continue;
        memset(e, 0, sizeof *e);
        e->a = *a;
        e->plen = plen;
        e->origin = origin;
        e->valid_until = vu;
        e->preferred_until = pu;
        dad_start(s, ifindex, e, now);
        if (vu != UINT64_MAX)
            ip6_timer_at(s, vu);
        if (pu != UINT64_MAX)
            ip6_timer_at(s, pu);
        /* The prefix is on-link (RFC 4862 s5.4: a manual address with
         * its prefix, RFC 5942: not for SLAAC - the RA's L flag says). */
        if (origin == TERN_ADDR6_STATIC && plen < 128) {
            struct tern_ipv6_addr p = *a;
            ip6_prefix_mask(&p, plen);
            (void)tern_route6_add(s, &p, plen, NULL, ifindex);
        }
        return TERN_OK;
    }
    return TERN_E_NOMEM;
}

static void addr_remove(struct tern_stack *s, int ifindex, struct ip6_addr_ent *e)
{
    struct tern_ipv6_addr a = e->a;
    if (e->origin == TERN_ADDR6_STATIC && e->plen < 128) {
        /* the connected route, unless another static address shares it */
        struct tern_ipv6_addr p = a;
        ip6_prefix_mask(&p, e->plen);
        bool shared = false;
        for (int k = 0; k < IP6_ADDRS_MAX; k++) {
            struct ip6_addr_ent *o = &s->v6->ifs[ifindex].addr[k];
            if (o != e && o->state != A6_FREE && o->origin == TERN_ADDR6_STATIC &&
                o->plen == e->plen && ip6_prefix_match(&o->a, &p, e->plen))
                shared = true;
        }
        if (!shared)
            (void)tern_route6_del(s, &p, e->plen);
    }
    memset(e, 0, sizeof *e);
    route_gen_bump(s);
    notify(s, ifindex, &a, 0);
}

void ip6_iface_up(struct tern_stack *s, struct tern_iface *ifc, bool up, uint64_t now)
{
    if (!s->v6 || ifc->link != TERN_LINK_ETHERNET)
        return;
    struct ip6_iface *i6 = &s->v6->ifs[ifc->index];
    if (!i6->enabled) {
        i6->enabled = true;
        i6->mtu = ifc->mtu;
        i6->hop_limit = s->cfg.default_ttl;
        i6->reachable_us = ND_REACHABLE_US;
        i6->retrans_us = ND_RETRANS_US;
        /* RFC 4291 s2.5.6, RFC 4862 s5.3: fe80::/64 + the IID. */
        struct tern_ipv6_addr ll = {{0xfe, 0x80}}, a;
        ip6_make_iid(s, ifc, &ll, 0, &a);
        /* no fe80::/64 route: link-local destinations are sent out the
         * interface the caller names (ip6_pick_route), RFC 4007 s6 */
        (void)ip6_addr_add(s, ifc->index, &a, 64, TERN_ADDR6_LINKLOCAL, UINT32_MAX, UINT32_MAX,
                           now);
    }
    if (!up) {
        nd6_flush_iface(s, ifc->index);
        i6->rs_next = 0;
        return;
    }
    /* RFC 4862 s5.4: DAD whenever the interface (re)starts. */
    for (int k = 0; k < IP6_ADDRS_MAX; k++) {
        struct ip6_addr_ent *e = &i6->addr[k];
        if (e->state != A6_FREE && e->state != A6_DUPLICATE)
            dad_start(s, ifc->index, e, now);
    }
    /* RFC 4861 s6.3.7: a host solicits routers when the interface comes
     * up (a router does not). */
    i6->rs_sent = 0;
    if (s->cfg.ip_forward)
        return;
    i6->rs_next = now + (prng_next(&s->rng) % ND_MAX_RTR_SOLICITATION_DELAY_US);
    ip6_timer_at(s, i6->rs_next);
}

/* ---- the NDP receive filter ---- */

bool ip6_mcast_listening(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *g)
{
    static const struct tern_ipv6_addr all_nodes = {{0xff, 0x02, [15] = 1}};
    static const struct tern_ipv6_addr all_nodes_if = {{0xff, 0x01, [15] = 1}};
    if (!memcmp(g->b, all_nodes.b, 16) || !memcmp(g->b, all_nodes_if.b, 16))
        return true;
    if (!s->v6 || ifindex < 0 || ifindex >= TERN_MAX_IFACES)
        return false;
    /* RFC 4862 s5.4.2: the solicited-node group of every address, tentative
     * ones included (a DAD NS from another node arrives there). */
    struct ip6_iface *i6 = &s->v6->ifs[ifindex];
    for (int k = 0; k < IP6_ADDRS_MAX; k++) {
        if (i6->addr[k].state == A6_FREE || i6->addr[k].state == A6_DUPLICATE)
            continue;
        struct tern_ipv6_addr sn;
        tern_ipv6_solicited_node(&i6->addr[k].a, &sn);
        if (!memcmp(sn.b, g->b, 16))
            return true;
    }
    return false;
}

bool ip6_mcast_mac_listening(struct tern_stack *s, int ifindex, const uint8_t mac[6])
{
    /* RFC 2464 s7: 33:33 + the group's low 32 bits. */
    if (mac[0] != 0x33 || mac[1] != 0x33)
        return false;
    if (mac[2] == 0 && mac[3] == 0 && mac[4] == 0 && mac[5] == 1)
        return true; /* all-nodes */
    if (!s->v6 || ifindex < 0 || ifindex >= TERN_MAX_IFACES)
        return false;
    struct ip6_iface *i6 = &s->v6->ifs[ifindex];
    for (int k = 0; k < IP6_ADDRS_MAX; k++) {
        if (i6->addr[k].state == A6_FREE || i6->addr[k].state == A6_DUPLICATE)
            continue;
        /* 33:33:ff:xx:xx:xx - the solicited-node group's MAC */
        if (mac[2] == 0xff && !memcmp(mac + 3, i6->addr[k].a.b + 13, 3))
            return true;
    }
    return false;
}

/* ---- the timer ---- */

static void addr_tick(struct tern_stack *s, uint64_t now)
{
    for (int i = 0; i < s->n_ifaces; i++) {
        struct ip6_iface *i6 = &s->v6->ifs[i];
        struct tern_iface *ifc = stack_iface(s, i);
        if (!i6->enabled || !ifc)
            continue;
        for (int k = 0; k < IP6_ADDRS_MAX; k++) {
            struct ip6_addr_ent *e = &i6->addr[k];
            if (e->state == A6_FREE || e->state == A6_DUPLICATE)
                continue;
            /* RFC 4862 s5.5.4: valid lifetime over - removed; preferred
             * over - deprecated. */
            if (e->valid_until <= now) {
                addr_remove(s, i, e);
                continue;
            }
            if (e->valid_until != UINT64_MAX)
                ip6_timer_at(s, e->valid_until);
            if (e->state == A6_PREFERRED && e->preferred_until <= now) {
                e->state = A6_DEPRECATED;
                route_gen_bump(s);
                notify(s, i, &e->a, A6_DEPRECATED);
            } else if (e->state == A6_PREFERRED && e->preferred_until != UINT64_MAX) {
                ip6_timer_at(s, e->preferred_until);
            }
            if (e->state != A6_TENTATIVE || !ifc->up)
                continue;
            if (e->dad_next > now) {
                ip6_timer_at(s, e->dad_next);
                continue;
            }
            /* s5.4.2: DupAddrDetectTransmits (1) NS, RetransTimer apart,
             * from ::, to the solicited-node group; then RetransTimer
             * without a reply: the address is unique. */
            if (e->dad_sent >= s->cfg.ipv6_dad_transmits) {
                dad_done(s, i, e);
                continue;
            }
            struct tern_ipv6_addr sn;
            tern_ipv6_solicited_node(&e->a, &sn);
            e->dad_sent++;
            e->dad_next = now + i6->retrans_us;
            ip6_timer_at(s, e->dad_next);
            nd6_send_ns(s, ifc, &e->a, &sn, true, now);
        }
        if (i6->rs_next && ifc->up) {
            if (i6->rs_next <= now) {
                ra6_send_rs(s, ifc, now);
                i6->rs_sent++;
                i6->rs_next = i6->rs_sent < ND_MAX_RTR_SOLICITATIONS
                                  ? now + ND_RTR_SOLICITATION_INTERVAL_US
                                  : 0;
            }
            if (i6->rs_next)
                ip6_timer_at(s, i6->rs_next);
        }
    }
}

static void ip6_timer_fn(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_stack *s = arg;
    uint64_t now = tern_loop_now(s->loop);
    addr_tick(s, now);
    nd6_tick(s, now);
    uint64_t next = UINT64_MAX;
    route6_tick(s, now, &next);
    uint64_t r = ip6_reasm_expire(s, now);
    if (r < next)
        next = r;
    if (next != UINT64_MAX)
        ip6_timer_at(s, next);
}

/* ---- public API ---- */

int tern_stack_add_addr6(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a,
                         uint8_t prefix_len)
{
    if (!s || !a || !s->v6)
        return TERN_E_INVAL;
    return ip6_addr_add(s, ifindex, a, prefix_len, TERN_ADDR6_STATIC, UINT32_MAX, UINT32_MAX,
                        tern_loop_now(s->loop));
}

int tern_stack_del_addr6(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a)
{
    if (!s || !a || !s->v6)
        return TERN_E_INVAL;
    struct ip6_addr_ent *e = ip6_addr_find(s, ifindex, a);
    if (!e)
        return TERN_E_INVAL;
    addr_remove(s, ifindex, e);
    return TERN_OK;
}

int tern_addr6_list(struct tern_stack *s, int ifindex, struct tern_addr6_info *out, size_t max)
{
    if (!s || !s->v6 || !stack_iface(s, ifindex))
        return TERN_E_INVAL;
    uint64_t now = tern_loop_now(s->loop);
    int n = 0;
    struct ip6_iface *i6 = &s->v6->ifs[ifindex];
    for (int k = 0; k < IP6_ADDRS_MAX; k++) {
        const struct ip6_addr_ent *e = &i6->addr[k];
        if (e->state == A6_FREE)
            continue;
        if ((size_t)n < max && out) {
            struct tern_addr6_info *o = &out[n];
            memset(o, 0, sizeof *o);
            o->addr = e->a;
            o->prefix_len = e->plen;
            o->state = e->state;
            o->origin = e->origin;
            o->valid_s = e->valid_until == UINT64_MAX ? UINT32_MAX
                         : e->valid_until > now       ? (uint32_t)((e->valid_until - now) / 1000000u)
                                                      : 0;
            o->preferred_s = e->preferred_until == UINT64_MAX ? UINT32_MAX
                             : e->preferred_until > now
                                 ? (uint32_t)((e->preferred_until - now) / 1000000u)
                                 : 0;
        }
        n++;
    }
    return n;
}

void tern_addr6_watch(struct tern_stack *s, tern_addr6_fn fn, void *ctx)
{
    if (!s || !s->v6)
        return;
    s->v6->notify = fn;
    s->v6->notify_ctx = ctx;
}

int tern_ip6_src_for(struct tern_stack *s, const struct tern_ipv6_addr *dst, int oif,
                     struct tern_ipv6_addr *src)
{
    if (!s || !s->v6 || !dst || !src)
        return TERN_E_INVAL;
    struct tern_ip6_out o = {.dst = *dst, .oif = oif};
    struct tern_iface *ifc;
    struct tern_ipv6_addr nh;
    if (ip6_pick_route(s, &o, &ifc, &nh, tern_loop_now(s->loop)) < 0)
        return TERN_E_INVAL;
    return ip6_src_select(s, ifc->index, dst, src) ? TERN_OK : TERN_E_INVAL;
}

const struct tern_stats6 *tern_stack_stats6(const struct tern_stack *s)
{
    return s && s->v6 ? &s->v6->st : NULL;
}
