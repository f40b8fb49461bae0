/*
 * tests/core/pmtu_test.c - the RFC 1191 path MTU cache (src/core/pmtu.c)
 * on the state world: "fragmentation needed" errors quoting our datagrams
 * lower the estimate for their destination; RFC 1191 s5 plateaus when the
 * router gives no MTU; never raised by an error, never above the route's
 * MTU, never below 68 (ATTACKS 19); aging (s6.3) and the table bound (G3);
 * TCP's MSS for a new connection follows the cached value.
 */
#include <string.h>

#include "core/tcp_impl.h"
#include "harness.h"
#include "tern/wire/icmp.h"
#include "world.h"

#define FAR1 0xc0a80101u /* 192.168.1.1, through the gateway W_PEER */

/* An ICMP frag needed from the gateway quoting a datagram src -> dst of
 * total length total_len (header + 8 bytes quoted). */
static void inject_needfrag(struct world *w, uint32_t src, uint32_t dst, uint16_t total_len,
                            uint16_t next_mtu)
{
    uint8_t quote[28], icmp[64], frame[128];
    struct tern_ipv4_repr q = w_ip(src, dst, TERN_IPPROTO_UDP, 77);
    q.df = true;
    q.payload_len = (uint16_t)(total_len - 20);
    REQUIRE(tern_ipv4_emit(&q, quote, sizeof quote) == 20);
    memset(quote + 20, 0, 8);
    quote[21] = 53, quote[23] = 53; /* ports */
    size_t n = w_icmp(icmp, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_NEEDFRAG, next_mtu, quote,
                      sizeof quote);
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_ICMP, 1);
    size_t fl = w_ip_frame(frame, &ip, icmp, n);
    world_inject(w, frame, fl);
}

static struct world *gw_world(const struct tern_config *cfg)
{
    struct world *w = world_new(cfg);
    CHECK_EQ(tern_route_add(w->s, 0, 0, W_PEER, w->ifindex), 0);
    return w;
}

TEST(pmtu_needfrag_lowers_never_raises)
{
    struct world *w = gw_world(NULL);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1), 1500);
    inject_needfrag(w, W_US, FAR1, 1500, 1400);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1), 1400);
    inject_needfrag(w, W_US, FAR1, 1400, 1280);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1), 1280);
    /* RFC 1191 s6.3: a Datagram Too Big never increases the estimate. */
    inject_needfrag(w, W_US, FAR1, 1500, 1400);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1), 1280);
    /* Other destinations: the route's MTU. */
    CHECK_EQ(tern_pmtu_get(w->s, FAR1 + 1), 1500);
    CHECK_EQ(tern_pmtu_get(w->s, W_PEER), 1500);
    world_end(w);
}

TEST(pmtu_plateau_when_router_sends_zero)
{
    struct world *w = gw_world(NULL);
    /* RFC 1191 s5 table: the greatest plateau below the quoted total
     * length, corrected per the s5 Note (4.2BSD routers add the header
     * length): a length not less than the current estimate is first
     * reduced by the header length (IHL * 4 = 20 here). 1500 against
     * 1500 -> 1480 -> 1006 (not 1492); 1006 against 1006 -> 986 -> 508. */
    inject_needfrag(w, W_US, FAR1, 1500, 0);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1), 1006);
    inject_needfrag(w, W_US, FAR1, 1006, 0);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1), 508);
    /* A length below the current estimate is used as it stands: 1496
     * against 1500 -> 1492 (corrected it would give 1006). */
    inject_needfrag(w, W_US, FAR1 + 1, 1496, 0);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1 + 1), 1492);
    world_end(w);
}

TEST(attack_19_needfrag_below_68_or_bogus_is_ignored)
{
    struct world *w = gw_world(NULL);
    /* ATTACKS 19: MTU 40 (or 1, or 67) would make the MSS 0 or negative:
     * the cache does not believe it at all. */
    inject_needfrag(w, W_US, FAR1, 1500, 40);
    inject_needfrag(w, W_US, FAR1, 1500, 1);
    inject_needfrag(w, W_US, FAR1, 1500, 67);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1), 1500);
    /* 68 is the RFC 791 minimum and is taken. */
    inject_needfrag(w, W_US, FAR1 + 1, 1500, 68);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1 + 1), 68);
    /* An MTU the quoted datagram would have fitted, one above the route's
     * MTU, and a quote of a datagram we did not send change nothing. */
    inject_needfrag(w, W_US, FAR1 + 2, 600, 1000);
    inject_needfrag(w, W_US, FAR1 + 2, 9000, 4000);
    inject_needfrag(w, W_OTHER, FAR1 + 2, 1500, 600);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1 + 2), 1500);
    /* TCP never goes below its floor either. */
    CHECK(tcp_route_mss(w->s, FAR1 + 1) >= TERN_TCP_MSS_FLOOR);
    world_end(w);
}

TEST(pmtu_entries_age_out_and_table_is_bounded)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.pmtu_max = 4;
    cfg.pmtu_timeout_us = 600000000; /* 10 min */
    struct world *w = gw_world(&cfg);
    for (uint32_t i = 0; i < 6; i++) {
        inject_needfrag(w, W_US, FAR1 + i, 1500, (uint16_t)(1000 + i));
        world_run(w, 1000);
    }
    /* Four slots: the two oldest (FAR1, FAR1+1) were evicted. */
    CHECK_EQ(pmtu_count(w->s), 4);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1), 1500);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1 + 1), 1500);
    for (uint32_t i = 2; i < 6; i++)
        CHECK_EQ(tern_pmtu_get(w->s, FAR1 + i), (int)(1000 + i));
    /* RFC 1191 s6.3: after the timeout, the route's MTU again. */
    world_run(w, 600000000);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1 + 5), 1500);
    CHECK_EQ(pmtu_count(w->s), 0);
    /* No route: TERN_E_INVAL. */
    CHECK_EQ(tern_route_del(w->s, 0, 0), 0);
    CHECK_EQ(tern_pmtu_get(w->s, FAR1), TERN_E_INVAL);
    world_end(w);
}

TEST(pmtu_tcp_route_mss_uses_cached_value)
{
    struct world *w = gw_world(NULL);
    CHECK_EQ(tcp_route_mss(w->s, FAR1), 1500 - 40);
    inject_needfrag(w, W_US, FAR1, 1500, 1280);
    CHECK_EQ(tcp_route_mss(w->s, FAR1), 1280 - 40);
    CHECK_EQ(tcp_route_mss(w->s, W_PEER), 1500 - 40);
    world_end(w);
}
