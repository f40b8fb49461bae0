/*
 * tests/core/ipv6_test.c - the IPv6 core in the state world: link-local
 * addresses and DAD (RFC 4862, RFC 7217), NDP states and validity checks
 * (RFC 4861), input with extension headers, RH0 (RFC 5095), fragments
 * (RFC 8200 s4.5, RFC 5722, RFC 7112), ICMPv6 (RFC 4443), path MTU (RFC
 * 8201), RAs and SLAAC, and the IPv6 ATTACKS lines.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ip6_impl.h"
#include "harness.h"
#include "tern/stack6.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/eth.h"
#include "tern/wire/icmpv6.h"
#include "world.h"

static const struct tern_ipv6_addr PEER_LL = {{0xfe, 0x80, [15] = 2}};
static const struct tern_ipv6_addr ALL_NODES = {{0xff, 0x02, [15] = 1}};
static const struct tern_ipv6_addr UNSPEC;
static const struct tern_ipv6_addr G_US = {{0xfd, 0x00, 0, 0x77, [15] = 1}};
static const struct tern_ipv6_addr G_PEER = {{0xfd, 0x00, 0, 0x77, [15] = 2}};

static struct world *w6_new_cfg(struct tern_config *c)
{
    c->ipv6 = true;
    struct world *w = world_new(c);
    world_run(w, 15000000); /* DAD of the link-local address, the 3 RSs */
    world_drain(w);
    return w;
}

static struct world *w6_new(void)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    return w6_new_cfg(&c);
}

static struct tern_ipv6_addr our_ll(struct world *w)
{
    struct tern_addr6_info a[8];
    int n = tern_addr6_list(w->s, w->ifindex, a, 8);
    for (int i = 0; i < n; i++)
        if (a[i].origin == TERN_ADDR6_LINKLOCAL)
            return a[i].addr;
    return UNSPEC;
}

static int addr_state(struct world *w, const struct tern_ipv6_addr *x)
{
    struct tern_addr6_info a[8];
    int n = tern_addr6_list(w->s, w->ifindex, a, 8);
    for (int i = 0; i < n && i < 8; i++)
        if (!memcmp(a[i].addr.b, x->b, 16))
            return a[i].state;
    return 0;
}

/* Ethernet + IPv6 header + payload (payload already final). */
static size_t v6_frame(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6],
                       const struct tern_ipv6_addr *src, const struct tern_ipv6_addr *dst,
                       uint8_t hop, uint8_t next, const uint8_t *pl, size_t len)
{
    struct tern_ipv6_repr h = {.payload_len = (uint16_t)len, .next = next, .hop_limit = hop,
                               .src = *src, .dst = *dst};
    w_eth(buf, dmac, smac, TERN_ETHERTYPE_IPV6, NULL, 0);
    tern_ipv6_emit(&h, buf + 14, 40);
    memcpy(buf + 54, pl, len);
    return 54 + len;
}

/* An ICMPv6 message into out (checksum for src -> dst). */
static size_t v6_icmp(uint8_t *out, const struct tern_ipv6_addr *src,
                      const struct tern_ipv6_addr *dst, uint8_t type, uint8_t code, uint32_t rest,
                      const uint8_t *body, size_t blen)
{
    struct tern_icmpv6_repr m = {.type = type, .code = code, .rest = rest, .data = body,
                                 .data_len = blen};
    return (size_t)tern_icmpv6_emit(&m, src, dst, out, 70000);
}

static size_t v6_icmp_frame(uint8_t *buf, const uint8_t dmac[6], const struct tern_ipv6_addr *src,
                            const struct tern_ipv6_addr *dst, uint8_t hop, uint8_t type,
                            uint8_t code, uint32_t rest, const uint8_t *body, size_t blen)
{
    static uint8_t m[70000];
    size_t n = v6_icmp(m, src, dst, type, code, rest, body, blen);
    return v6_frame(buf, dmac, w_mac_peer, src, dst, hop, TERN_IPPROTO_ICMPV6, m, n);
}

/* NS from src for target to dst, with an SLLA (peer's MAC) unless src is ::. */
static size_t ns_frame(uint8_t *buf, const struct tern_ipv6_addr *src,
                       const struct tern_ipv6_addr *dst, const struct tern_ipv6_addr *target,
                       uint8_t hop, const uint8_t *sll)
{
    struct tern_nd_repr r = {.type = TERN_ICMPV6_NEIGHBOR_SOLICIT, .target = *target};
    uint8_t body[32];
    uint32_t rest;
    int n = tern_nd_emit(&r, sll, &rest, body, sizeof body);
    uint8_t dmac[6];
    if (tern_ipv6_is_multicast(dst))
        tern_ipv6_mcast_mac(dst, dmac);
    else
        memcpy(dmac, w_mac_us, 6);
    return v6_icmp_frame(buf, dmac, src, dst, hop, TERN_ICMPV6_NEIGHBOR_SOLICIT, 0, rest, body,
                         (size_t)n);
}

static size_t na_frame(uint8_t *buf, const struct tern_ipv6_addr *src,
                       const struct tern_ipv6_addr *dst, const struct tern_ipv6_addr *target,
                       uint8_t hop, bool solicited, bool override, const uint8_t *tll)
{
    struct tern_nd_repr r = {.type = TERN_ICMPV6_NEIGHBOR_ADVERT, .target = *target,
                             .solicited = solicited, .override = override};
    uint8_t body[32];
    uint32_t rest;
    int n = tern_nd_emit(&r, tll, &rest, body, sizeof body);
    uint8_t dmac[6];
    if (tern_ipv6_is_multicast(dst))
        tern_ipv6_mcast_mac(dst, dmac);
    else
        memcpy(dmac, w_mac_us, 6);
    return v6_icmp_frame(buf, dmac, src, dst, hop, TERN_ICMPV6_NEIGHBOR_ADVERT, 0, rest, body,
                         (size_t)n);
}

struct popped6 {
    uint8_t dmac[6];
    struct tern_ipv6_repr ip;
    struct tern_icmpv6_repr m; /* valid when ip.next is ICMPv6 */
    const uint8_t *payload;
    size_t len;
};

/* The next IPv6 frame sent (ARP skipped); false if none. */
static bool pop6(struct world *w, struct popped6 *o)
{
    size_t len;
    const uint8_t *f;
    while ((f = world_pop(w, &len)) != NULL) {
        if (len < 14 || tern_get16(f + 12) != TERN_ETHERTYPE_IPV6)
            continue;
        memset(o, 0, sizeof *o);
        memcpy(o->dmac, f, 6);
        if (tern_ipv6_parse(f + 14, len - 14, 0, &o->ip) < 0)
            return false;
        o->payload = f + 54;
        o->len = o->ip.payload_len;
        if (o->ip.next == TERN_IPPROTO_ICMPV6)
            CHECK_EQ(tern_icmpv6_parse(o->payload, o->len, &o->ip.src, &o->ip.dst, 0, &o->m), 8);
        return true;
    }
    return false;
}

/* The peer answers our NS for its address (solicited NA with its MAC). */
static void answer_ns(struct world *w, const struct tern_ipv6_addr *peer,
                      const struct tern_ipv6_addr *us)
{
    uint8_t f[200];
    size_t n = na_frame(f, peer, us, peer, 255, true, true, w_mac_peer);
    world_inject(w, f, n);
}

/* ---- addresses and DAD ---- */

TEST(ipv6_linklocal_dad)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    c.ipv6 = true;
    struct world *w = world_new(&c);
    struct tern_addr6_info a[8];
    REQUIRE_EQ(tern_addr6_list(w->s, w->ifindex, a, 8), 1);
    CHECK(tern_ipv6_is_link_local(&a[0].addr));
    CHECK_EQ(a[0].state, TERN_ADDR6_TENTATIVE);
    CHECK_EQ(a[0].prefix_len, 64);
    world_run(w, 0);
    /* RFC 4862 s5.4.2: NS from :: to the solicited-node group, hop 255,
     * target the tentative address, no source link-layer option. */
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    struct tern_ipv6_addr sn;
    tern_ipv6_solicited_node(&a[0].addr, &sn);
    CHECK(tern_ipv6_is_unspecified(&p.ip.src));
    CHECK(!memcmp(p.ip.dst.b, sn.b, 16));
    CHECK_EQ(p.ip.hop_limit, 255);
    CHECK_EQ(p.m.type, TERN_ICMPV6_NEIGHBOR_SOLICIT);
    CHECK_EQ(p.m.data_len, 16); /* the target, no option */
    CHECK(!memcmp(p.m.data, a[0].addr.b, 16));
    uint8_t mac[6];
    tern_ipv6_mcast_mac(&sn, mac);
    CHECK(!memcmp(p.dmac, mac, 6));
    CHECK_EQ(mac[2], 0xff);
    /* Not usable while tentative: an echo request to it is discarded. */
    CHECK_EQ(addr_state(w, &a[0].addr), TERN_ADDR6_TENTATIVE);
    world_run(w, 1100000);
    CHECK_EQ(addr_state(w, &a[0].addr), TERN_ADDR6_PREFERRED);
    world_drain(w);
    world_end(w);
}

TEST(ipv6_iid_stable_and_eui64)
{
    /* RFC 7217: stable for the same secret, different for another, never
     * the MAC-derived EUI-64; cfg.ipv6_eui64 gives RFC 4291 appendix A. */
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    struct world *w1 = w6_new_cfg(&c);
    tern_config_defaults(&c);
    c.seed = 1;
    struct world *w2 = w6_new_cfg(&c);
    tern_config_defaults(&c);
    c.seed = 2;
    struct world *w3 = w6_new_cfg(&c);
    tern_config_defaults(&c);
    c.seed = 1;
    c.ipv6_eui64 = true;
    struct world *w4 = w6_new_cfg(&c);
    struct tern_ipv6_addr a1 = our_ll(w1), a2 = our_ll(w2), a3 = our_ll(w3), a4 = our_ll(w4);
    CHECK(!memcmp(a1.b, a2.b, 16));
    CHECK(memcmp(a1.b, a3.b, 16) != 0);
    struct tern_ipv6_addr eui;
    REQUIRE_EQ(tern_ipv6_aton("fe80::ff:fe00:1", &eui), 0); /* 02:00:00:00:00:01 */
    CHECK(!memcmp(a4.b, eui.b, 16));
    CHECK(memcmp(a1.b, eui.b, 16) != 0);
    world_end(w1);
    world_end(w2);
    world_end(w3);
    world_end(w4);
}

static int notified_state;
static struct tern_ipv6_addr notified_addr;
static void on_addr(void *ctx, int ifindex, const struct tern_ipv6_addr *a, int state)
{
    (void)ctx, (void)ifindex;
    notified_state = state;
    notified_addr = *a;
}

TEST(ipv6_dad_duplicate_na)
{
    struct world *w = w6_new();
    tern_addr6_watch(w->s, on_addr, NULL);
    REQUIRE_EQ(tern_stack_add_addr6(w->s, w->ifindex, &G_US, 64), 0);
    CHECK_EQ(addr_state(w, &G_US), TERN_ADDR6_TENTATIVE);
    world_run(w, 0);
    world_drain(w);
    /* s5.4.4: an NA for the tentative address - it is a duplicate */
    uint8_t f[200];
    size_t n = na_frame(f, &G_PEER, &ALL_NODES, &G_US, 255, false, true, w_mac_peer);
    world_inject(w, f, n);
    CHECK_EQ(addr_state(w, &G_US), TERN_ADDR6_DUPLICATE);
    CHECK_EQ(notified_state, TERN_ADDR6_DUPLICATE);
    CHECK(!memcmp(notified_addr.b, G_US.b, 16));
    CHECK_EQ(tern_stack_stats6(w->s)->dad_duplicates, 1);
    /* still duplicate later, and never answered for */
    world_run(w, 3000000);
    CHECK_EQ(addr_state(w, &G_US), TERN_ADDR6_DUPLICATE);
    world_drain(w);
    n = ns_frame(f, &PEER_LL, &G_US, &G_US, 255, w_mac_peer);
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    world_end(w);
}

TEST(ipv6_dad_duplicate_ns_and_unicast_ns_ignored)
{
    struct world *w = w6_new();
    REQUIRE_EQ(tern_stack_add_addr6(w->s, w->ifindex, &G_US, 64), 0);
    world_run(w, 0);
    world_drain(w);
    uint8_t f[200];
    /* s5.4.3: an NS from a unicast source for a tentative address is
     * discarded (no answer, still tentative) */
    size_t n = ns_frame(f, &PEER_LL, &G_US, &G_US, 255, w_mac_peer);
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(addr_state(w, &G_US), TERN_ADDR6_TENTATIVE);
    /* ... one from :: is another node's DAD: duplicate */
    struct tern_ipv6_addr sn;
    tern_ipv6_solicited_node(&G_US, &sn);
    n = ns_frame(f, &UNSPEC, &sn, &G_US, 255, NULL);
    world_inject(w, f, n);
    CHECK_EQ(addr_state(w, &G_US), TERN_ADDR6_DUPLICATE);
    world_end(w);
}

TEST(ipv6_linklocal_duplicate_regenerates)
{
    /* RFC 7217 s6: a duplicate link-local address is regenerated with the
     * next DAD_Counter. */
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    c.ipv6 = true;
    struct world *w = world_new(&c);
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t f[200];
    size_t n = na_frame(f, &PEER_LL, &ALL_NODES, &ll, 255, false, true, w_mac_peer);
    world_inject(w, f, n);
    struct tern_ipv6_addr ll2 = our_ll(w);
    CHECK(memcmp(ll.b, ll2.b, 16) != 0);
    CHECK(tern_ipv6_is_link_local(&ll2));
    CHECK_EQ(addr_state(w, &ll2), TERN_ADDR6_TENTATIVE);
    world_run(w, 3000000);
    CHECK_EQ(addr_state(w, &ll2), TERN_ADDR6_PREFERRED);
    world_drain(w);
    world_end(w);
}

/* ---- NDP ---- */

TEST(ipv6_ns_answered_with_na)
{
    struct world *w = w6_new();
    struct tern_ipv6_addr ll = our_ll(w), sn;
    tern_ipv6_solicited_node(&ll, &sn);
    uint8_t f[200];
    size_t n = ns_frame(f, &PEER_LL, &sn, &ll, 255, w_mac_peer);
    world_inject(w, f, n);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    /* s7.2.4: solicited NA to the solicitor, O set, our MAC in the TLLA */
    CHECK_EQ(p.m.type, TERN_ICMPV6_NEIGHBOR_ADVERT);
    CHECK_EQ(p.ip.hop_limit, 255);
    CHECK(!memcmp(p.ip.src.b, ll.b, 16));
    CHECK(!memcmp(p.ip.dst.b, PEER_LL.b, 16));
    CHECK(!memcmp(p.dmac, w_mac_peer, 6)); /* learned from the SLLA */
    CHECK_EQ(p.m.rest, 0x60000000u);       /* S and O */
    REQUIRE_EQ(p.m.data_len, 24);
    CHECK(!memcmp(p.m.data, ll.b, 16));
    CHECK_EQ(p.m.data[16], TERN_ND_OPT_TGT_LLADDR);
    CHECK(!memcmp(p.m.data + 18, w_mac_us, 6));
    /* s7.2.3: the solicitor's entry was created STALE; sending the NA
     * to it made it DELAY (s7.3.3) */
    struct nd_ent *e = nd6_lookup(w->s, w->ifindex, &PEER_LL);
    REQUIRE(e != NULL);
    CHECK_EQ(e->state, ND_DELAY);
    CHECK(!memcmp(e->mac, w_mac_peer, 6));
    world_end(w);
}

TEST(attack_61_ipv6_nd_invalid_ignored)
{
    /* RFC 4861 s7.1.1/s7.1.2 (ATTACKS: NA/NS with hop limit != 255 or a
     * bad source -> ignored) */
    struct world *w = w6_new();
    struct tern_ipv6_addr ll = our_ll(w), sn;
    tern_ipv6_solicited_node(&ll, &sn);
    uint8_t f[200];
    const struct tern_stats6 *st = tern_stack_stats6(w->s);
    size_t n = ns_frame(f, &PEER_LL, &sn, &ll, 64, w_mac_peer); /* hop limit 64 */
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK(nd6_lookup(w->s, w->ifindex, &PEER_LL) == NULL);
    CHECK_EQ(st->nd_invalid, 1);
    /* DAD-style NS from :: not to a solicited-node group */
    n = ns_frame(f, &UNSPEC, &ll, &ll, 255, NULL);
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(st->nd_invalid, 2);
    /* An NA with hop limit 254 does not complete a resolution */
    REQUIRE_EQ(tern_echo_bind(w->s, 7, w_echo_cb, NULL), 7);
    struct tern_ip6_out o = {.dst = PEER_LL, .oif = w->ifindex};
    CHECK_EQ(tern_echo6_send(w->s, &o, 7, 1, (const uint8_t *)"x", 1), 0);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_NEIGHBOR_SOLICIT);
    n = na_frame(f, &PEER_LL, &ll, &PEER_LL, 254, true, true, w_mac_peer);
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(nd6_lookup(w->s, w->ifindex, &PEER_LL)->state, ND_INCOMPLETE);
    CHECK_EQ(st->nd_invalid, 3);
    /* A solicited NA to a multicast destination is invalid too */
    n = na_frame(f, &PEER_LL, &ALL_NODES, &PEER_LL, 255, true, true, w_mac_peer);
    world_inject(w, f, n);
    CHECK_EQ(nd6_lookup(w->s, w->ifindex, &PEER_LL)->state, ND_INCOMPLETE);
    CHECK_EQ(st->nd_invalid, 4);
    tern_echo_unbind(w->s, 7);
    world_end(w);
}

TEST(ipv6_nd_states)
{
    struct world *w = w6_new();
    struct tern_ipv6_addr ll = our_ll(w);
    struct w_echo_log log;
    memset(&log, 0, sizeof log);
    REQUIRE_EQ(tern_echo_bind(w->s, 9, w_echo_cb, &log), 9);
    struct tern_ip6_out o = {.dst = PEER_LL, .oif = w->ifindex};
    /* INCOMPLETE: the datagram waits, a multicast NS goes out */
    CHECK_EQ(tern_echo6_send(w->s, &o, 9, 1, (const uint8_t *)"abc", 3), 0);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_NEIGHBOR_SOLICIT);
    struct tern_ipv6_addr sn;
    tern_ipv6_solicited_node(&PEER_LL, &sn);
    CHECK(!memcmp(p.ip.dst.b, sn.b, 16));
    CHECK(!memcmp(p.ip.src.b, ll.b, 16));
    CHECK_EQ(p.m.data_len, 24); /* target + SLLA */
    CHECK_EQ(world_pending_ip(w), 0);
    struct nd_ent *e = nd6_lookup(w->s, w->ifindex, &PEER_LL);
    REQUIRE(e != NULL);
    CHECK_EQ(e->state, ND_INCOMPLETE);
    CHECK_EQ(nd6_queued(w->s), 1);
    /* A solicited NA: REACHABLE, the echo request leaves to the MAC */
    answer_ns(w, &PEER_LL, &ll);
    CHECK_EQ(e->state, ND_REACHABLE);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REQUEST);
    CHECK(!memcmp(p.dmac, w_mac_peer, 6));
    CHECK_EQ(p.m.rest, (9u << 16) | 1);
    CHECK_EQ(nd6_queued(w->s), 0);
    /* ReachableTime (<= 45 s) passes: STALE */
    world_run(w, 46000000);
    CHECK_EQ(e->state, ND_STALE);
    /* sending to STALE: DELAY, sent at once */
    CHECK_EQ(tern_echo6_send(w->s, &o, 9, 2, (const uint8_t *)"abc", 3), 0);
    CHECK_EQ(e->state, ND_DELAY);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REQUEST);
    /* 5 s later: PROBE, a unicast NS */
    world_run(w, 5000000);
    CHECK_EQ(e->state, ND_PROBE);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_NEIGHBOR_SOLICIT);
    CHECK(!memcmp(p.ip.dst.b, PEER_LL.b, 16));
    CHECK(!memcmp(p.dmac, w_mac_peer, 6));
    /* a solicited NA in PROBE: REACHABLE again */
    answer_ns(w, &PEER_LL, &ll);
    CHECK_EQ(e->state, ND_REACHABLE);
    /* then STALE, DELAY, PROBE with no answer: 3 unicast NSs, deleted */
    world_run(w, 46000000);
    CHECK_EQ(tern_echo6_send(w->s, &o, 9, 3, (const uint8_t *)"abc", 3), 0);
    world_drain(w);
    world_run(w, 5000000 + 3 * 1000000 + 100000);
    CHECK(nd6_lookup(w->s, w->ifindex, &PEER_LL) == NULL);
    int ns = 0;
    while (pop6(w, &p))
        ns += p.m.type == TERN_ICMPV6_NEIGHBOR_SOLICIT;
    CHECK_EQ(ns, 3);
    tern_echo_unbind(w->s, 9);
    world_end(w);
}

TEST(ipv6_nd_resolution_fails)
{
    struct world *w = w6_new();
    struct w_echo_log log;
    memset(&log, 0, sizeof log);
    REQUIRE_EQ(tern_echo_bind(w->s, 9, w_echo_cb, &log), 9);
    struct tern_ip6_out o = {.dst = PEER_LL, .oif = w->ifindex};
    CHECK_EQ(tern_echo6_send(w->s, &o, 9, 1, (const uint8_t *)"abc", 3), 0);
    world_run(w, 3100000);
    struct popped6 p;
    int ns = 0;
    while (pop6(w, &p))
        ns += p.m.type == TERN_ICMPV6_NEIGHBOR_SOLICIT;
    CHECK_EQ(ns, 3); /* MAX_MULTICAST_SOLICIT */
    CHECK(nd6_lookup(w->s, w->ifindex, &PEER_LL) == NULL);
    CHECK_EQ(nd6_queued(w->s), 0);
    CHECK_EQ(tern_stack_stats6(w->s)->nd_resolve_failures, 1);
    /* s7.2.2: the echo owner hears "address unreachable" from us */
    CHECK_EQ(log.n, 1);
    CHECK(log.last.is_error && log.last.v6);
    CHECK_EQ(log.last.type, TERN_ICMPV6_DST_UNREACH);
    CHECK_EQ(log.last.code, 3);
    CHECK_EQ(log.last.seq, 1);
    struct tern_ipv6_addr ll = our_ll(w);
    CHECK(!memcmp(log.last.from6.b, ll.b, 16));
    tern_echo_unbind(w->s, 9);
    world_end(w);
}

TEST(attack_61_ipv6_nd_flood_capped_peer_resolves)
{
    /* ATTACKS: an NDP flood of 10,000 sources -> the neighbour cache stays
     * at its cap and resolution for existing peers works. */
    struct world *w = w6_new();
    struct tern_ipv6_addr ll = our_ll(w), sn;
    tern_ipv6_solicited_node(&ll, &sn);
    REQUIRE_EQ(tern_echo_bind(w->s, 9, w_echo_cb, NULL), 9);
    struct tern_ip6_out o = {.dst = PEER_LL, .oif = w->ifindex};
    CHECK_EQ(tern_echo6_send(w->s, &o, 9, 1, (const uint8_t *)"abc", 3), 0);
    answer_ns(w, &PEER_LL, &ll);
    world_drain(w);
    uint8_t f[200];
    for (int i = 0; i < 10000; i++) {
        struct tern_ipv6_addr src = {{0xfe, 0x80, [12] = 0x10, [13] = (uint8_t)(i >> 16),
                                      [14] = (uint8_t)(i >> 8), [15] = (uint8_t)i}};
        uint8_t mac[6] = {0x02, 0x10, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        size_t n = ns_frame(f, &src, &sn, &ll, 255, mac);
        world_inject(w, f, n);
        if (world_pending(w) > 400)
            world_drain(w);
        /* the peer keeps being used, as a live flow would */
        if (i % 1000 == 999) {
            CHECK_EQ(tern_echo6_send(w->s, &o, 9, (uint16_t)i, (const uint8_t *)"a", 1), 0);
            world_drain(w);
        }
    }
    world_drain(w);
    CHECK_EQ(w->s->v6->nd_count, w->s->cfg.arp_cache_max);
    CHECK(tern_stack_stats6(w->s)->nd_evictions >= 10000 - 256);
    /* the existing peer: sent straight to its MAC */
    CHECK_EQ(tern_echo6_send(w->s, &o, 9, 2, (const uint8_t *)"abc", 3), 0);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REQUEST);
    CHECK(!memcmp(p.dmac, w_mac_peer, 6));
    /* a new peer still resolves despite the full cache */
    struct tern_ipv6_addr other = {{0xfe, 0x80, [15] = 3}};
    o.dst = other;
    CHECK_EQ(tern_echo6_send(w->s, &o, 9, 3, (const uint8_t *)"abc", 3), 0);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_NEIGHBOR_SOLICIT);
    size_t n = na_frame(f, &other, &ll, &other, 255, true, true, w_mac_other);
    world_inject(w, f, n);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REQUEST);
    CHECK(!memcmp(p.dmac, w_mac_other, 6));
    CHECK(w->s->v6->nd_count <= w->s->cfg.arp_cache_max);
    tern_echo_unbind(w->s, 9);
    world_end(w);
}

TEST(ipv6_receive_filter)
{
    /* Only all-nodes and our solicited-node groups pass the Ethernet
     * filter; another node's solicited-node group does not. */
    struct world *w = w6_new();
    struct tern_ipv6_addr ll = our_ll(w), sn;
    tern_ipv6_solicited_node(&ll, &sn);
    uint8_t mac[6];
    tern_ipv6_mcast_mac(&sn, mac);
    CHECK(ip6_mcast_mac_listening(w->s, w->ifindex, mac));
    uint8_t all[6] = {0x33, 0x33, 0, 0, 0, 1};
    CHECK(ip6_mcast_mac_listening(w->s, w->ifindex, all));
    struct tern_ipv6_addr x = {{0xfe, 0x80, [13] = 0x12, [14] = 0x34, [15] = 0x56}}, xsn;
    tern_ipv6_solicited_node(&x, &xsn);
    tern_ipv6_mcast_mac(&xsn, mac);
    CHECK(!ip6_mcast_mac_listening(w->s, w->ifindex, mac));
    uint64_t before = tern_stack_stats(w->s)->eth.drop_not_for_us;
    uint8_t f[200];
    size_t n = ns_frame(f, &PEER_LL, &xsn, &x, 255, w_mac_peer);
    world_inject(w, f, n);
    CHECK_EQ(tern_stack_stats(w->s)->eth.drop_not_for_us, before + 1);
    world_end(w);
}

/* ---- input, ICMPv6, extension headers, fragments ---- */

static void learn_peer6(struct world *w)
{
    struct tern_ipv6_addr ll = our_ll(w), sn;
    tern_ipv6_solicited_node(&ll, &sn);
    uint8_t f[200];
    size_t n = ns_frame(f, &PEER_LL, &sn, &ll, 255, w_mac_peer);
    world_inject(w, f, n);
    world_drain(w);
}

TEST(ipv6_echo_reply)
{
    struct world *w = w6_new();
    learn_peer6(w);
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t f[400], data[56];
    for (int i = 0; i < 56; i++)
        data[i] = (uint8_t)i;
    size_t n = v6_icmp_frame(f, w_mac_us, &PEER_LL, &ll, 64, TERN_ICMPV6_ECHO_REQUEST, 0,
                             0x12340001u, data, sizeof data);
    world_inject(w, f, n);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REPLY);
    CHECK_EQ(p.m.rest, 0x12340001u);
    CHECK(!memcmp(p.ip.src.b, ll.b, 16));
    CHECK(!memcmp(p.ip.dst.b, PEER_LL.b, 16));
    CHECK_EQ(p.ip.hop_limit, 64);
    REQUIRE_EQ(p.m.data_len, 56);
    CHECK(!memcmp(p.m.data, data, 56));
    /* an echo request to all-nodes is answered from a unicast address */
    n = v6_icmp_frame(f, (const uint8_t[]){0x33, 0x33, 0, 0, 0, 1}, &PEER_LL, &ALL_NODES, 64,
                      TERN_ICMPV6_ECHO_REQUEST, 0, 0x12340002u, data, 8);
    world_inject(w, f, n);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REPLY);
    CHECK(!memcmp(p.ip.src.b, ll.b, 16));
    /* a bad checksum: nothing */
    n = v6_icmp_frame(f, w_mac_us, &PEER_LL, &ll, 64, TERN_ICMPV6_ECHO_REQUEST, 0, 1, data, 8);
    f[54 + 2] ^= 1;
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    world_end(w);
}

/* An echo request to us behind the extension headers ext[0..elen) whose
 * first Next Header is first (the last one's must be 58). */
static size_t echo_with_ext(struct world *w, uint8_t *f, uint8_t first, const uint8_t *ext,
                            size_t elen)
{
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t pl[2000];
    memcpy(pl, ext, elen);
    size_t m = v6_icmp(pl + elen, &PEER_LL, &ll, TERN_ICMPV6_ECHO_REQUEST, 0, 0x00010001u,
                       (const uint8_t *)"hello!!!", 8);
    return v6_frame(f, w_mac_us, w_mac_peer, &PEER_LL, &ll, 64, first, pl, elen + m);
}

TEST(attack_59_ipv6_rh0_dropped)
{
    /* RFC 5095 s3: a type 0 Routing header with Segments Left > 0 is
     * dropped (Parameter Problem code 0 pointing at the type). */
    struct world *w = w6_new();
    learn_peer6(w);
    uint8_t rh[24] = {TERN_IPPROTO_ICMPV6, 2, 0, 1}; /* RH0, one address */
    memcpy(rh + 8, G_PEER.b, 16);
    uint8_t f[400];
    size_t n = echo_with_ext(w, f, TERN_IPPROTO_ROUTING, rh, sizeof rh);
    world_inject(w, f, n);
    CHECK_EQ(tern_stack_stats6(w->s)->drop_rh0, 1);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_PARAM_PROB);
    CHECK_EQ(p.m.code, 0);
    CHECK_EQ(p.m.rest, 42); /* 40 + 2: the Routing Type */
    CHECK_EQ(world_pending_ip(w), 0); /* no echo reply */
    /* Segments Left 0: the header is ignored, the echo answered */
    rh[3] = 0;
    n = echo_with_ext(w, f, TERN_IPPROTO_ROUTING, rh, sizeof rh);
    world_inject(w, f, n);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REPLY);
    world_end(w);
}

TEST(attack_59_ipv6_ext_chain_bound)
{
    /* ATTACKS: extension-header chains past the bound, or a header running
     * past the packet -> dropped. */
    struct world *w = w6_new();
    learn_peer6(w);
    uint8_t ext[8 * 9];
    for (int i = 0; i < 9; i++) {
        uint8_t *h = ext + 8 * i;
        memset(h, 0, 8);
        h[0] = i == 8 ? TERN_IPPROTO_ICMPV6 : TERN_IPPROTO_DSTOPTS;
        h[2] = 1; /* PadN, 4 bytes */
        h[3] = 4;
    }
    uint8_t f[400];
    size_t n = echo_with_ext(w, f, TERN_IPPROTO_DSTOPTS, ext, sizeof ext);
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(tern_stack_stats6(w->s)->drop_ext, 1);
    /* 8 headers are within the bound: answered */
    n = echo_with_ext(w, f, TERN_IPPROTO_DSTOPTS, ext + 8, sizeof ext - 8);
    world_inject(w, f, n);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REPLY);
    /* a header whose length runs past the packet */
    uint8_t big[8] = {TERN_IPPROTO_ICMPV6, 200, 1, 4};
    n = echo_with_ext(w, f, TERN_IPPROTO_DSTOPTS, big, sizeof big);
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(tern_stack_stats6(w->s)->drop_ext, 2);
    world_end(w);
}

TEST(ipv6_unknown_option_action)
{
    /* RFC 8200 s4.2: an unknown option with action 10 - discard and send
     * a Parameter Problem code 2 even to multicast; 00 - skipped. */
    struct world *w = w6_new();
    learn_peer6(w);
    uint8_t d[8] = {TERN_IPPROTO_ICMPV6, 0, 0x87, 4, 0, 0, 0, 0};
    uint8_t f[400];
    size_t n = echo_with_ext(w, f, TERN_IPPROTO_DSTOPTS, d, sizeof d);
    world_inject(w, f, n);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_PARAM_PROB);
    CHECK_EQ(p.m.code, 2);
    CHECK_EQ(p.m.rest, 42);
    CHECK_EQ(world_pending_ip(w), 0);
    d[2] = 0x07; /* action 00: skip */
    n = echo_with_ext(w, f, TERN_IPPROTO_DSTOPTS, d, sizeof d);
    world_inject(w, f, n);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REPLY);
    world_end(w);
}

/* A fragment of an echo request: msg is the whole ICMPv6 message; this
 * carries msg[off .. off+len) with M = more. */
static size_t frag_frame(struct world *w, uint8_t *f, uint32_t id, const uint8_t *msg, size_t off,
                         size_t len, bool more)
{
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t pl[2000];
    struct tern_ipv6_frag_repr fr = {.next = TERN_IPPROTO_ICMPV6, .frag_off = (uint16_t)off,
                                     .more = more, .id = id};
    tern_ipv6_frag_emit(&fr, pl, 8);
    memcpy(pl + 8, msg + off, len);
    return v6_frame(f, w_mac_us, w_mac_peer, &PEER_LL, &ll, 64, TERN_IPPROTO_FRAGMENT, pl, 8 + len);
}

TEST(ipv6_fragments_reassembled)
{
    struct world *w = w6_new();
    learn_peer6(w);
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t data[2400], msg[2500], f[2000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    size_t m = v6_icmp(msg, &PEER_LL, &ll, TERN_ICMPV6_ECHO_REQUEST, 0, 0x55550001u, data,
                       sizeof data);
    /* out of order: the tail first */
    world_inject(w, f, frag_frame(w, f, 77, msg, 1232, m - 1232, false));
    CHECK_EQ(world_pending_ip(w), 0);
    world_inject(w, f, frag_frame(w, f, 77, msg, 0, 1232, true));
    CHECK_EQ(tern_stack_stats6(w->s)->reasm_ok, 1);
    /* the reply (2408 bytes) leaves in two fragments of <= 1500 */
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.ip.next, TERN_IPPROTO_FRAGMENT);
    CHECK(40 + p.ip.payload_len <= 1500);
    CHECK_EQ((p.ip.payload_len - 8) % 8, 0);
    uint32_t id = tern_get32(p.payload + 4);
    CHECK_EQ(tern_get16(p.payload + 2), 1); /* offset 0, M */
    uint8_t back[2500];
    size_t first = p.ip.payload_len - 8;
    memcpy(back, p.payload + 8, first);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.ip.next, TERN_IPPROTO_FRAGMENT);
    CHECK_EQ(tern_get32(p.payload + 4), id);
    CHECK_EQ(tern_get16(p.payload + 2), first); /* offset, M clear */
    memcpy(back + first, p.payload + 8, p.ip.payload_len - 8);
    size_t total = first + p.ip.payload_len - 8;
    REQUIRE_EQ(total, m);
    struct tern_icmpv6_repr r;
    REQUIRE_EQ(tern_icmpv6_parse(back, total, &ll, &PEER_LL, 0, &r), 8);
    CHECK_EQ(r.type, TERN_ICMPV6_ECHO_REPLY);
    CHECK(r.data_len == sizeof data && !memcmp(r.data, data, sizeof data));
    world_end(w);
}

TEST(attack_60_ipv6_fragments_overlap_drop_datagram)
{
    /* RFC 5722 s4 (ATTACKS: overlapping fragments -> whole datagram
     * dropped): the datagram is discarded, later fragments too. */
    struct world *w = w6_new();
    learn_peer6(w);
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t data[2400], msg[2500], f[2000];
    memset(data, 0x5a, sizeof data);
    size_t m = v6_icmp(msg, &PEER_LL, &ll, TERN_ICMPV6_ECHO_REQUEST, 0, 0x55550001u, data,
                       sizeof data);
    world_inject(w, f, frag_frame(w, f, 78, msg, 0, 1232, true));
    world_inject(w, f, frag_frame(w, f, 78, msg, 1224, 16, true)); /* overlaps by 8 */
    struct tern_stack_mem mem;
    stack_mem_usage(w->s, &mem);
    CHECK_EQ(mem.reasm_datagrams, 0);
    CHECK_EQ(tern_stack_stats6(w->s)->reasm_drop, 1);
    /* the rest cannot complete it */
    world_inject(w, f, frag_frame(w, f, 78, msg, 1232, m - 1232, false));
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(tern_stack_stats6(w->s)->reasm_ok, 0);
    world_end(w);
}

TEST(attack_60_ipv6_tiny_first_fragment)
{
    /* RFC 7112 s5 (ATTACKS: tiny first fragments -> whole datagram
     * dropped): a first fragment holding a Destination Options header but
     * not the ICMPv6 header. */
    struct world *w = w6_new();
    learn_peer6(w);
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t pl[200], f[400], msg[200];
    size_t m = v6_icmp(msg + 8, &PEER_LL, &ll, TERN_ICMPV6_ECHO_REQUEST, 0, 1,
                       (const uint8_t *)"0123456789abcdef", 16);
    /* the fragmentable part: DstOpts(8) + ICMPv6 (24) */
    memset(msg, 0, 8);
    msg[0] = TERN_IPPROTO_ICMPV6;
    msg[2] = 1, msg[3] = 4;
    /* the second fragment first (held), then the tiny first */
    struct tern_ipv6_frag_repr fr = {.next = TERN_IPPROTO_DSTOPTS, .frag_off = 8, .more = false,
                                     .id = 5};
    tern_ipv6_frag_emit(&fr, pl, 8);
    memcpy(pl + 8, msg + 8, m);
    world_inject(w, f, v6_frame(f, w_mac_us, w_mac_peer, &PEER_LL, &ll, 64, TERN_IPPROTO_FRAGMENT,
                                pl, 8 + m));
    struct tern_stack_mem mem;
    stack_mem_usage(w->s, &mem);
    CHECK_EQ(mem.reasm_datagrams, 1);
    fr.frag_off = 0;
    fr.more = true;
    tern_ipv6_frag_emit(&fr, pl, 8);
    memcpy(pl + 8, msg, 8);
    world_inject(w, f, v6_frame(f, w_mac_us, w_mac_peer, &PEER_LL, &ll, 64, TERN_IPPROTO_FRAGMENT,
                                pl, 16));
    CHECK_EQ(tern_stack_stats6(w->s)->drop_tiny_frag, 1);
    stack_mem_usage(w->s, &mem);
    CHECK_EQ(mem.reasm_datagrams, 0);
    CHECK_EQ(world_pending_ip(w), 0);
    world_end(w);
}

TEST(ipv6_atomic_fragment)
{
    /* RFC 8200 s4.5 / RFC 6946: offset 0 and M clear - processed at once,
     * never mixed with a reassembly under the same id. */
    struct world *w = w6_new();
    learn_peer6(w);
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t msg[100], f[400];
    size_t m = v6_icmp(msg, &PEER_LL, &ll, TERN_ICMPV6_ECHO_REQUEST, 0, 0x00030001u,
                       (const uint8_t *)"atomic!!", 8);
    world_inject(w, f, frag_frame(w, f, 9, msg, 0, m, false));
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_ECHO_REPLY);
    CHECK_EQ(p.m.rest, 0x00030001u);
    struct tern_stack_mem mem;
    stack_mem_usage(w->s, &mem);
    CHECK_EQ(mem.reasm_datagrams, 0);
    world_end(w);
}

TEST(attack_63_ipv6_unknown_next_header_errors)
{
    /* RFC 8200 s4 / RFC 4443 s3.4: Parameter Problem code 1 at the Next
     * Header; s2.4 (e.3): never about a multicast destination; s2.4 (f):
     * rate-limited (burst 50). */
    struct world *w = w6_new();
    learn_peer6(w);
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t f[200], pl[8] = {0};
    size_t n = v6_frame(f, w_mac_us, w_mac_peer, &PEER_LL, &ll, 64, 253, pl, sizeof pl);
    world_inject(w, f, n);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_PARAM_PROB);
    CHECK_EQ(p.m.code, 1);
    CHECK_EQ(p.m.rest, 6);
    CHECK_EQ(p.m.data_len, 48); /* the whole invoking packet */
    n = v6_frame(f, (const uint8_t[]){0x33, 0x33, 0, 0, 0, 1}, w_mac_peer, &PEER_LL, &ALL_NODES, 64,
                 253, pl, sizeof pl);
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    n = v6_frame(f, w_mac_us, w_mac_peer, &PEER_LL, &ll, 64, 253, pl, sizeof pl);
    for (int i = 0; i < 200; i++)
        world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 49);
    CHECK_EQ(tern_stack_stats6(w->s)->errors_rate_limited, 151);
    world_end(w);
}

TEST(attack_63_ipv6_no_error_about_icmp_error)
{
    /* s2.4 (e.1): an ICMPv6 error behind an unknown Destination option
     * with action 11 gets no Parameter Problem */
    struct world *w = w6_new();
    learn_peer6(w);
    struct tern_ipv6_addr ll = our_ll(w);
    uint8_t pl[200], f[400];
    uint8_t d[8] = {TERN_IPPROTO_ICMPV6, 0, 0xc7, 4, 0, 0, 0, 0};
    memcpy(pl, d, 8);
    uint8_t quote[48] = {0x60};
    size_t m = v6_icmp(pl + 8, &PEER_LL, &ll, TERN_ICMPV6_DST_UNREACH, 4, 0, quote, sizeof quote);
    size_t n = v6_frame(f, w_mac_us, w_mac_peer, &PEER_LL, &ll, 64, TERN_IPPROTO_DSTOPTS, pl, 8 + m);
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(tern_stack_stats6(w->s)->drop_ext, 1);
    world_end(w);
}

/* ---- output, routes, PMTU ---- */

TEST(ipv6_static_addr_route_pmtu)
{
    struct world *w = w6_new();
    REQUIRE_EQ(tern_stack_add_addr6(w->s, w->ifindex, &G_US, 64), 0);
    world_run(w, 1100000);
    world_drain(w);
    CHECK_EQ(addr_state(w, &G_US), TERN_ADDR6_PREFERRED);
    struct tern_ipv6_addr nh;
    int oif;
    REQUIRE_EQ(tern_route6_lookup(w->s, &G_PEER, &nh, &oif), 0);
    CHECK(!memcmp(nh.b, G_PEER.b, 16));
    struct tern_ipv6_addr far = {{0x20, 0x01, 0x0d, 0xb8, [15] = 9}};
    CHECK(tern_route6_lookup(w->s, &far, &nh, &oif) < 0);
    struct tern_ipv6_addr def = {{0}};
    REQUIRE_EQ(tern_route6_add(w->s, &def, 0, &G_PEER, w->ifindex), 0);
    REQUIRE_EQ(tern_route6_lookup(w->s, &far, &nh, &oif), 0);
    CHECK(!memcmp(nh.b, G_PEER.b, 16));
    /* source selection: global for a global destination */
    struct tern_ipv6_addr src;
    REQUIRE_EQ(tern_ip6_src_for(w->s, &far, -1, &src), 0);
    CHECK(!memcmp(src.b, G_US.b, 16));
    REQUIRE_EQ(tern_ip6_src_for(w->s, &PEER_LL, w->ifindex, &src), 0);
    CHECK(tern_ipv6_is_link_local(&src));
    /* a Packet Too Big (RFC 8201) lowers the path MTU, floor 1280 */
    CHECK_EQ(tern_pmtu6_get(w->s, &far), 1500);
    uint8_t quote[48] = {0x60, 0, 0, 0, 0, 8, TERN_IPPROTO_ICMPV6, 64};
    memcpy(quote + 8, G_US.b, 16);
    memcpy(quote + 24, far.b, 16);
    uint8_t f[300];
    size_t n = v6_icmp_frame(f, w_mac_us, &G_PEER, &G_US, 64, TERN_ICMPV6_PKT_TOO_BIG, 0, 1400,
                             quote, sizeof quote);
    world_inject(w, f, n);
    CHECK_EQ(tern_pmtu6_get(w->s, &far), 1400);
    n = v6_icmp_frame(f, w_mac_us, &G_PEER, &G_US, 64, TERN_ICMPV6_PKT_TOO_BIG, 0, 500, quote,
                      sizeof quote);
    world_inject(w, f, n);
    CHECK_EQ(tern_pmtu6_get(w->s, &far), 1280);
    /* a PTB quoting someone else's datagram is ignored */
    struct tern_ipv6_addr far2 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 10}};
    memcpy(quote + 8, G_PEER.b, 16);
    memcpy(quote + 24, far2.b, 16);
    n = v6_icmp_frame(f, w_mac_us, &G_PEER, &G_US, 64, TERN_ICMPV6_PKT_TOO_BIG, 0, 1300, quote,
                      sizeof quote);
    world_inject(w, f, n);
    CHECK_EQ(tern_pmtu6_get(w->s, &far2), 1500);
    /* sending 2000 bytes to far now: fragments of <= 1280 to the router */
    world_drain(w);
    REQUIRE_EQ(tern_echo_bind(w->s, 4, w_echo_cb, NULL), 4);
    struct tern_ip6_out o = {.dst = far, .oif = -1};
    static uint8_t big[2000];
    CHECK_EQ(tern_echo6_send(w->s, &o, 4, 1, big, sizeof big), 0);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_NEIGHBOR_SOLICIT); /* resolving the router */
    answer_ns(w, &G_PEER, &G_US);
    int frags = 0;
    while (pop6(w, &p)) {
        CHECK_EQ(p.ip.next, TERN_IPPROTO_FRAGMENT);
        CHECK(40 + p.ip.payload_len <= 1280);
        CHECK(!memcmp(p.dmac, w_mac_peer, 6));
        frags++;
    }
    CHECK_EQ(frags, 2);
    o.dontfrag = true;
    CHECK_EQ(tern_echo6_send(w->s, &o, 4, 2, big, sizeof big), TERN_E_BAD_LEN);
    tern_echo_unbind(w->s, 4);
    world_end(w);
}

TEST(ipv6_echo_event_to_owner)
{
    struct world *w = w6_new();
    learn_peer6(w);
    struct tern_ipv6_addr ll = our_ll(w);
    struct w_echo_log log;
    memset(&log, 0, sizeof log);
    REQUIRE_EQ(tern_echo_bind(w->s, 0x4242, w_echo_cb, &log), 0x4242);
    uint8_t f[300];
    size_t n = v6_icmp_frame(f, w_mac_us, &PEER_LL, &ll, 61, TERN_ICMPV6_ECHO_REPLY, 0,
                             0x42420005u, (const uint8_t *)"pong", 4);
    world_inject(w, f, n);
    CHECK_EQ(log.n, 1);
    CHECK(log.last.v6);
    CHECK(!log.last.is_error);
    CHECK_EQ(log.last.seq, 5);
    CHECK_EQ(log.last.ttl, 61);
    CHECK(!memcmp(log.last.from6.b, PEER_LL.b, 16));
    /* an id nobody bound: nothing */
    n = v6_icmp_frame(f, w_mac_us, &PEER_LL, &ll, 61, TERN_ICMPV6_ECHO_REPLY, 0, 0x43430005u,
                      (const uint8_t *)"pong", 4);
    world_inject(w, f, n);
    CHECK_EQ(log.n, 1);
    tern_echo_unbind(w->s, 0x4242);
    world_end(w);
}

/* ---- router advertisements ---- */

static size_t ra_opt_prefix(uint8_t *o, const struct tern_ipv6_addr *p, uint8_t plen, bool l,
                            bool a, uint32_t valid, uint32_t pref)
{
    memset(o, 0, 32);
    o[0] = TERN_ND_OPT_PREFIX;
    o[1] = 4;
    o[2] = plen;
    o[3] = (uint8_t)((l ? 0x80 : 0) | (a ? 0x40 : 0));
    tern_put32(o + 4, valid);
    tern_put32(o + 8, pref);
    memcpy(o + 16, p->b, 16);
    return 32;
}

static size_t ra_frame_from(uint8_t *f, const struct tern_ipv6_addr *rtr, uint8_t hop,
                            uint16_t lifetime, const uint8_t *opts, size_t olen)
{
    uint8_t body[1500];
    memset(body, 0, 8); /* reachable time, retrans timer: unspecified */
    if (olen)
        memcpy(body + 8, opts, olen);
    uint32_t rest = (64u << 24) | lifetime;
    return v6_icmp_frame(f, (const uint8_t[]){0x33, 0x33, 0, 0, 0, 1}, rtr, &ALL_NODES, hop,
                         TERN_ICMPV6_ROUTER_ADVERT, 0, rest, body, 8 + olen);
}

static size_t ra_frame(uint8_t *f, uint8_t hop, uint16_t lifetime, const uint8_t *opts, size_t olen)
{
    static const struct tern_ipv6_addr rtr = {{0xfe, 0x80, [15] = 1}};
    return ra_frame_from(f, &rtr, hop, lifetime, opts, olen);
}

TEST(ipv6_ra_slaac)
{
    struct world *w = w6_new();
    struct tern_ipv6_addr pfx = {{0x20, 0x01, 0x0d, 0xb8, 0, 1}};
    uint8_t opts[200];
    size_t ol = ra_opt_prefix(opts, &pfx, 64, true, true, 86400, 14400);
    /* MTU 1400 */
    uint8_t *m = opts + ol;
    memset(m, 0, 8);
    m[0] = TERN_ND_OPT_MTU, m[1] = 1;
    tern_put32(m + 4, 1400);
    ol += 8;
    /* source link-layer address */
    uint8_t *sl = opts + ol;
    sl[0] = TERN_ND_OPT_SRC_LLADDR, sl[1] = 1;
    memcpy(sl + 2, w_mac_peer, 6);
    ol += 8;
    /* RDNSS (RFC 8106): lifetime 600, one server */
    uint8_t *rd = opts + ol;
    memset(rd, 0, 24);
    rd[0] = TERN_ND_OPT_RDNSS, rd[1] = 3;
    tern_put32(rd + 4, 600);
    struct tern_ipv6_addr dns = {{0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x53}};
    memcpy(rd + 8, dns.b, 16);
    ol += 24;
    uint8_t f[600];
    /* hop limit 64: invalid, ignored (RFC 4861 s6.1.2) */
    world_inject(w, f, ra_frame(f, 64, 1800, opts, ol));
    CHECK_EQ(tern_addr6_list(w->s, w->ifindex, NULL, 0), 1);
    world_inject(w, f, ra_frame(f, 255, 1800, opts, ol));
    struct tern_addr6_info a[8];
    REQUIRE_EQ(tern_addr6_list(w->s, w->ifindex, a, 8), 2);
    CHECK_EQ(a[1].origin, TERN_ADDR6_SLAAC);
    CHECK(ip6_prefix_match(&a[1].addr, &pfx, 64));
    CHECK_EQ(a[1].state, TERN_ADDR6_TENTATIVE);
    CHECK_EQ(a[1].preferred_s, 14400);
    world_run(w, 1100000);
    CHECK_EQ(addr_state(w, &a[1].addr), TERN_ADDR6_PREFERRED);
    /* the default router and the on-link prefix */
    struct tern_ipv6_addr far = {{0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1}}, near = pfx, nh;
    near.b[15] = 7;
    int oif;
    REQUIRE_EQ(tern_route6_lookup(w->s, &far, &nh, &oif), 0);
    CHECK(tern_ipv6_is_link_local(&nh) && nh.b[15] == 1);
    REQUIRE_EQ(tern_route6_lookup(w->s, &near, &nh, &oif), 0);
    CHECK(!memcmp(nh.b, near.b, 16));
    CHECK_EQ(tern_pmtu6_get(w->s, &far), 1400);
    struct tern_ipv6_addr d[3];
    REQUIRE_EQ(tern_stack_dns6(w->s, d, 3), 1);
    CHECK(!memcmp(d[0].b, dns.b, 16));
    /* the router's MAC came with the RA */
    struct nd_ent *e = nd6_lookup(w->s, w->ifindex, &nh);
    (void)e;
    struct tern_ipv6_addr rtr = {{0xfe, 0x80, [15] = 1}};
    e = nd6_lookup(w->s, w->ifindex, &rtr);
    REQUIRE(e != NULL);
    CHECK(e->router);
    CHECK(!memcmp(e->mac, w_mac_peer, 6));
    /* two hours rule (RFC 4862 s5.5.3 e): a valid lifetime of 60 s does
     * not cut a remaining 86400 s below 2 hours */
    ol = ra_opt_prefix(opts, &pfx, 64, true, true, 60, 30);
    world_inject(w, f, ra_frame(f, 255, 1800, opts, ol));
    REQUIRE_EQ(tern_addr6_list(w->s, w->ifindex, a, 8), 2);
    CHECK(a[1].valid_s >= 7199 && a[1].valid_s <= 7200);
    CHECK_EQ(a[1].preferred_s, 30);
    /* the lifetimes run out: deprecated, then removed; the router too */
    world_run(w, 31000000);
    CHECK_EQ(addr_state(w, &a[1].addr), TERN_ADDR6_DEPRECATED);
    world_run(w, 7200000000ull);
    CHECK_EQ(tern_addr6_list(w->s, w->ifindex, NULL, 0), 1);
    CHECK(tern_route6_lookup(w->s, &far, &nh, &oif) < 0);
    CHECK_EQ(tern_stack_dns6(w->s, d, 3), 0);
    world_drain(w);
    world_end(w);
}

TEST(attack_62_ipv6_ra_flood_capped)
{
    /* ATTACKS: RA floods with thousands of prefixes -> address and prefix
     * lists capped. 100 RAs x 40 prefixes = 4000 prefixes. */
    struct world *w = w6_new();
    uint8_t opts[1400], f[1600];
    for (int r = 0; r < 100; r++) {
        size_t ol = 0;
        for (int k = 0; k < 40; k++) {
            int i = r * 40 + k;
            struct tern_ipv6_addr p = {{0x20, 0x01, 0x0d, 0xb8, (uint8_t)(i >> 8), (uint8_t)i}};
            ol += ra_opt_prefix(opts + ol, &p, 64, true, true, 86400, 14400);
        }
        world_inject(w, f, ra_frame(f, 255, 1800, opts, ol));
        world_drain(w);
    }
    int n = tern_addr6_list(w->s, w->ifindex, NULL, 0);
    CHECK(n <= IP6_ADDRS_MAX);
    CHECK_EQ(n, 1 + 4); /* the link-local + IP6_SLAAC_MAX */
    int used = 0;
    for (int i = 0; i < IP6_PREFIXES_MAX; i++)
        used += w->s->v6->prefixes[i].used;
    CHECK_EQ(used, IP6_PREFIXES_MAX);
    CHECK(tern_stack_stats6(w->s)->ra_prefix_drops >= 4000 - IP6_PREFIXES_MAX);
    /* RAs from 10 routers: the default router list stays at its cap */
    for (int r = 0; r < 10; r++) {
        struct tern_ipv6_addr src = {{0xfe, 0x80, [13] = 1, [15] = (uint8_t)r}};
        world_inject(w, f, ra_frame_from(f, &src, 255, 1800, NULL, 0));
    }
    used = 0;
    for (int i = 0; i < IP6_ROUTERS_MAX; i++)
        used += w->s->v6->routers[i].used;
    CHECK_EQ(used, IP6_ROUTERS_MAX);
    CHECK_EQ(tern_stack_stats6(w->s)->ra_rx, 110);
    /* a static address still fits beside them */
    CHECK_EQ(tern_stack_add_addr6(w->s, w->ifindex, &G_US, 64), 0);
    world_drain(w);
    world_end(w);
}

TEST(ipv6_off_by_default)
{
    /* cfg.ipv6 false: IPv6 frames are dropped as an unknown type, nothing
     * sent, and the IPv4 stack sends what it sent before. */
    struct world *w = world_new(NULL);
    CHECK(w->s->v6 == NULL);
    CHECK(tern_stack_stats6(w->s) == NULL);
    uint8_t f[200], pl[8] = {0};
    size_t n = v6_frame(f, w_mac_us, w_mac_peer, &PEER_LL, &ALL_NODES, 64, 59, pl, 8);
    world_inject(w, f, n);
    CHECK_EQ(tern_stack_stats(w->s)->eth.drop_unknown_type, 1);
    world_run(w, 10000000);
    CHECK_EQ(world_pending_ip(w), 0);
    world_end(w);
}

TEST(ipv6_flow_label_per_flow)
{
    /* RFC 6437 s3: one non-zero label per flow, kept for its datagrams,
     * another for another flow; an explicit label is used as given. */
    struct world *w = w6_new();
    learn_peer6(w);
    REQUIRE_EQ(tern_echo_bind(w->s, 5, w_echo_cb, NULL), 5);
    struct tern_ip6_out o = {.dst = PEER_LL, .oif = w->ifindex};
    struct popped6 p;
    uint32_t f1, f2, f3;
    CHECK_EQ(tern_echo6_send(w->s, &o, 5, 1, (const uint8_t *)"a", 1), 0);
    REQUIRE(pop6(w, &p));
    f1 = p.ip.flow;
    CHECK_EQ(tern_echo6_send(w->s, &o, 5, 2, (const uint8_t *)"a", 1), 0);
    REQUIRE(pop6(w, &p));
    f2 = p.ip.flow;
    CHECK(f1 != 0);
    CHECK_EQ(f1, f2);
    o.dst = ALL_NODES;
    CHECK_EQ(tern_echo6_send(w->s, &o, 5, 3, (const uint8_t *)"a", 1), 0);
    REQUIRE(pop6(w, &p));
    f3 = p.ip.flow;
    CHECK(f3 != 0 && f3 != f1);
    o.flow = 0x12345;
    CHECK_EQ(tern_echo6_send(w->s, &o, 5, 4, (const uint8_t *)"a", 1), 0);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.ip.flow, 0x12345);
    tern_echo_unbind(w->s, 5);
    world_end(w);
}

struct cap2 {
    int n;
    uint8_t last[2000];
    size_t len;
};

static int cap2_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct cap2 *c = ctx;
    c->n++;
    c->len = len < sizeof c->last ? len : sizeof c->last;
    memcpy(c->last, frame, c->len);
    return 0;
}

TEST(ipv6_forwarding)
{
    /* RFC 8200 s3, RFC 4443 s3.1-s3.3 for a router: hop limit, Time
     * Exceeded, Destination Unreachable (no route), Packet Too Big (no
     * fragmentation by routers), link-local never forwarded. */
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    c.ip_forward = true;
    struct world *w = w6_new_cfg(&c);
    static const uint8_t mac2[6] = {0x02, 0, 0, 0, 1, 1}, mac_host2[6] = {0x02, 0, 0, 0, 1, 2};
    struct cap2 cap;
    memset(&cap, 0, sizeof cap);
    struct tern_device *d2 = tern_custom_device_new(TERN_LINK_ETHERNET, 1280, mac2, cap2_send, &cap);
    struct tern_iface_config ic = {.up = true};
    int if2 = tern_stack_add_iface(w->s, d2, &ic);
    REQUIRE(if2 > 0);
    struct tern_ipv6_addr net2 = {{0xfd, 0x00, 0, 0x88, [15] = 1}}, host2 = net2;
    host2.b[15] = 5;
    REQUIRE_EQ(tern_stack_add_addr6(w->s, w->ifindex, &G_US, 64), 0);
    REQUIRE_EQ(tern_stack_add_addr6(w->s, if2, &net2, 64), 0);
    world_run(w, 1100000);
    world_drain(w);
    /* from the peer on link 1 to host2 on link 2: resolved, then sent with
     * the hop limit one lower */
    uint8_t f[2000], pl[1300];
    memset(pl, 0xab, sizeof pl);
    size_t n = v6_frame(f, w_mac_us, w_mac_peer, &G_PEER, &host2, 64, TERN_IPPROTO_NONE, pl, 100);
    world_inject(w, f, n);
    const struct tern_stats6 *st = tern_stack_stats6(w->s);
    CHECK_EQ(st->forwarded, 1);
    REQUIRE(cap.n >= 1);
    CHECK_EQ(cap.last[14 + 40], TERN_ICMPV6_NEIGHBOR_SOLICIT); /* resolving host2 */
    uint8_t na[200];
    size_t nn = na_frame(na, &host2, &net2, &host2, 255, true, true, mac_host2);
    memcpy(na, mac2, 6);
    memcpy(na + 6, mac_host2, 6);
    int before = cap.n;
    tern_device_deliver(d2, na, nn);
    REQUIRE_EQ(cap.n, before + 1);
    CHECK(!memcmp(cap.last, mac_host2, 6));
    CHECK_EQ(cap.last[14 + 7], 63);
    CHECK(!memcmp(cap.last + 14 + 24, host2.b, 16));
    CHECK_EQ(cap.len, 14 + 40 + 100);
    /* hop limit 1: Time Exceeded to the source, nothing forwarded */
    n = v6_frame(f, w_mac_us, w_mac_peer, &G_PEER, &host2, 1, TERN_IPPROTO_NONE, pl, 100);
    world_inject(w, f, n);
    struct popped6 p;
    REQUIRE(pop6(w, &p));
    if (p.m.type == TERN_ICMPV6_NEIGHBOR_SOLICIT) { /* resolving the peer */
        answer_ns(w, &G_PEER, &G_US);
        REQUIRE(pop6(w, &p));
    }
    CHECK_EQ(p.m.type, TERN_ICMPV6_TIME_EXCEEDED);
    CHECK_EQ(p.m.code, 0);
    CHECK(!memcmp(p.ip.dst.b, G_PEER.b, 16));
    CHECK_EQ(st->forwarded, 1);
    /* no route: Destination Unreachable code 0 */
    struct tern_ipv6_addr far = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    n = v6_frame(f, w_mac_us, w_mac_peer, &G_PEER, &far, 64, TERN_IPPROTO_NONE, pl, 100);
    world_inject(w, f, n);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_DST_UNREACH);
    CHECK_EQ(p.m.code, 0);
    /* too big for link 2 (MTU 1280): Packet Too Big, never fragmented */
    before = cap.n;
    n = v6_frame(f, w_mac_us, w_mac_peer, &G_PEER, &host2, 64, TERN_IPPROTO_NONE, pl, 1300);
    world_inject(w, f, n);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_PKT_TOO_BIG);
    CHECK_EQ(p.m.rest, 1280);
    CHECK_EQ(cap.n, before);
    CHECK_EQ(st->fwd_too_big, 1);
    /* a host on link 2 that never answers: after 3 NSs, Destination
     * Unreachable code 3 (address unreachable) to the source (RFC 4861
     * s7.2.2) */
    struct tern_ipv6_addr host9 = net2;
    host9.b[15] = 9;
    n = v6_frame(f, w_mac_us, w_mac_peer, &G_PEER, &host9, 64, TERN_IPPROTO_NONE, pl, 100);
    world_inject(w, f, n);
    world_run(w, 3100000);
    REQUIRE(pop6(w, &p));
    CHECK_EQ(p.m.type, TERN_ICMPV6_DST_UNREACH);
    CHECK_EQ(p.m.code, 3);
    CHECK(!memcmp(p.ip.dst.b, G_PEER.b, 16));
    before = cap.n;
    /* a link-local destination that is not ours: dropped, no error */
    struct tern_ipv6_addr ll9 = {{0xfe, 0x80, [15] = 9}};
    n = v6_frame(f, w_mac_us, w_mac_peer, &PEER_LL, &ll9, 64, TERN_IPPROTO_NONE, pl, 100);
    world_inject(w, f, n);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(cap.n, before);
    world_end(w);
    tern_device_destroy(d2);
}

TEST(ipv6_nd_queue_counts_datagrams)
{
    /* RFC 4861 s7.2.2: datagrams wait for a resolution, at most
     * arp_queue_per_entry (4) of them - the fragments of one count once, so
     * an 8000-byte echo is not cut by its own fragments. */
    struct world *w = w6_new();
    struct tern_ipv6_addr ll = our_ll(w);
    REQUIRE_EQ(tern_echo_bind(w->s, 9, w_echo_cb, NULL), 9);
    struct tern_ip6_out o = {.dst = PEER_LL, .oif = w->ifindex};
    static uint8_t big[8000];
    CHECK_EQ(tern_echo6_send(w->s, &o, 9, 1, big, sizeof big), 0);
    CHECK_EQ(nd6_queued(w->s), 6); /* 8008 bytes in 1448-byte fragments */
    world_drain(w);
    answer_ns(w, &PEER_LL, &ll);
    struct popped6 p;
    int frags = 0;
    while (pop6(w, &p))
        frags += p.ip.next == TERN_IPPROTO_FRAGMENT;
    CHECK_EQ(frags, 6);
    /* five small datagrams to an unresolved neighbour: the oldest goes */
    struct tern_ipv6_addr other = {{0xfe, 0x80, [15] = 3}};
    o.dst = other;
    for (int i = 0; i < 5; i++)
        CHECK_EQ(tern_echo6_send(w->s, &o, 9, (uint16_t)(10 + i), big, 8), 0);
    CHECK_EQ(nd6_queued(w->s), 4);
    CHECK_EQ(tern_stack_stats6(w->s)->nd_queue_drops, 1);
    world_drain(w);
    uint8_t f[200];
    world_inject(w, f, na_frame(f, &other, &ll, &other, 255, true, true, w_mac_other));
    int seqs = 0;
    while (pop6(w, &p)) {
        CHECK(p.m.type == TERN_ICMPV6_ECHO_REQUEST && (p.m.rest & 0xffff) >= 11);
        seqs++;
    }
    CHECK_EQ(seqs, 4);
    tern_echo_unbind(w->s, 9);
    world_end(w);
}

TEST(ipv6_raw_ip_interface_refused)
{
    /* IPv6 runs on Ethernet only for now: a TUN interface gets no
     * link-local address and refuses static ones (never stuck tentative). */
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    c.ipv6 = true;
    struct world *w = world_new_link(&c, TERN_LINK_RAW_IP, 1500);
    CHECK_EQ(tern_addr6_list(w->s, w->ifindex, NULL, 0), 0);
    CHECK_EQ(tern_stack_add_addr6(w->s, w->ifindex, &G_US, 64), TERN_E_UNSUPPORTED);
    world_run(w, 5000000);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(ipv6_link_local_needs_interface)
{
    /* RFC 4007 s6: a link-local destination is ambiguous with two IPv6
     * interfaces unless the sender names one; with one it is that one. */
    struct world *w = w6_new();
    struct tern_ipv6_addr src;
    CHECK_EQ(tern_ip6_src_for(w->s, &PEER_LL, -1, &src), 0);
    CHECK(tern_ipv6_is_link_local(&src));
    struct cap2 cap;
    memset(&cap, 0, sizeof cap);
    static const uint8_t mac2[6] = {0x02, 0, 0, 0, 1, 1};
    struct tern_device *d2 = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac2, cap2_send, &cap);
    struct tern_iface_config ic = {.up = true};
    int if2 = tern_stack_add_iface(w->s, d2, &ic);
    REQUIRE(if2 > 0);
    world_run(w, 2000000);
    world_drain(w);
    CHECK_EQ(tern_ip6_src_for(w->s, &PEER_LL, -1, &src), TERN_E_INVAL);
    struct tern_ipv6_addr src2;
    REQUIRE_EQ(tern_ip6_src_for(w->s, &PEER_LL, if2, &src2), 0);
    REQUIRE_EQ(tern_ip6_src_for(w->s, &PEER_LL, w->ifindex, &src), 0);
    CHECK(memcmp(src.b, src2.b, 16) != 0); /* each interface its own link-local */
    REQUIRE_EQ(tern_echo_bind(w->s, 3, w_echo_cb, NULL), 3);
    struct tern_ip6_out o = {.dst = PEER_LL, .oif = -1};
    CHECK_EQ(tern_echo6_send(w->s, &o, 3, 1, (const uint8_t *)"a", 1), TERN_E_ADDRNOTAVAIL);
    tern_echo_unbind(w->s, 3);
    world_end(w);
    tern_device_destroy(d2);
}
