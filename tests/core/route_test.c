/*
 * tests/core/route_test.c - the routing table (src/core/route.c):
 * connected routes, longest-prefix match, default routes, deletion,
 * interfaces going down, the table bound; equal-cost groups (ECMP) in the
 * table and over a diamond of routers (tests/common/chain.h): per flow a
 * flow keeps one path and many flows spread, per packet one flow uses
 * both paths and TCP over them is still byte-exact.
 */
#include "common/chain.h"
#include "harness.h"
#include "world.h"

TEST(core_route_connected_route_installed)
{
    struct world *w = world_new(NULL);
    uint32_t nh = 0;
    int ifi = -1;
    CHECK_EQ(tern_route_lookup(w->s, W_PEER, &nh, &ifi), 0);
    CHECK_EQ(nh, W_PEER);
    CHECK_EQ(ifi, w->ifindex);
    CHECK_EQ(tern_route_lookup(w->s, 0x08080808u, &nh, &ifi), TERN_E_INVAL);
    world_end(w);
}

TEST(core_route_longest_prefix_wins)
{
    struct world *w = world_new(NULL);
    CHECK_EQ(tern_route_add(w->s, 0, 0, 0x0a0000feu, w->ifindex), 0);
    CHECK_EQ(tern_route_add(w->s, 0xc0a80000u, 16, 0x0a0000fdu, w->ifindex), 0);
    CHECK_EQ(tern_route_add(w->s, 0xc0a80100u, 24, 0x0a0000fcu, w->ifindex), 0);
    CHECK_EQ(tern_route_add(w->s, 0xc0a80105u, 32, 0, w->ifindex), 0);
    uint32_t nh;
    int ifi;
    CHECK_EQ(tern_route_lookup(w->s, 0x08080808u, &nh, &ifi), 0);
    CHECK_EQ(nh, 0x0a0000feu);
    CHECK_EQ(tern_route_lookup(w->s, 0xc0a80201u, &nh, &ifi), 0);
    CHECK_EQ(nh, 0x0a0000fdu);
    CHECK_EQ(tern_route_lookup(w->s, 0xc0a80101u, &nh, &ifi), 0);
    CHECK_EQ(nh, 0x0a0000fcu);
    CHECK_EQ(tern_route_lookup(w->s, 0xc0a80105u, &nh, &ifi), 0);
    CHECK_EQ(nh, 0xc0a80105u); /* a host route, directly connected */
    /* Adding the same route again changes nothing; deleting falls back to
     * shorter prefixes. */
    CHECK_EQ(tern_route_add(w->s, 0xc0a80100u, 24, 0x0a0000fcu, w->ifindex), 0);
    CHECK_EQ(tern_route_lookup(w->s, 0xc0a80101u, &nh, &ifi), 0);
    CHECK_EQ(nh, 0x0a0000fcu);
    CHECK_EQ(tern_route_del(w->s, 0xc0a80100u, 24), 0);
    CHECK_EQ(tern_route_del(w->s, 0xc0a80100u, 24), TERN_E_INVAL);
    CHECK_EQ(tern_route_lookup(w->s, 0xc0a80101u, &nh, &ifi), 0);
    CHECK_EQ(nh, 0x0a0000fdu);
    world_end(w);
}

TEST(core_route_validation_bound_and_down_iface)
{
    struct world *w = world_new(NULL);
    CHECK_EQ(tern_route_add(w->s, 0, 33, 0, w->ifindex), TERN_E_INVAL);
    CHECK_EQ(tern_route_add(w->s, 0, 0, 0, 7), TERN_E_INVAL);
    CHECK_EQ(tern_route_add(w->s, 0, 0, 0xe0000001u, w->ifindex), TERN_E_INVAL);
    int added = 0;
    for (uint32_t i = 0; i < TERN_MAX_ROUTES + 16; i++)
        if (tern_route_add(w->s, 0x0b000000u + (i << 8), 24, 0x0a0000feu, w->ifindex) == 0)
            added++;
    CHECK_EQ(added, TERN_MAX_ROUTES - 1); /* the connected route holds one slot */
    CHECK_EQ(tern_iface_set_up(w->s, w->ifindex, false), 0);
    uint32_t nh;
    int ifi;
    CHECK_EQ(tern_route_lookup(w->s, W_PEER, &nh, &ifi), TERN_E_INVAL);
    CHECK_EQ(tern_iface_set_up(w->s, w->ifindex, true), 0);
    CHECK_EQ(tern_route_lookup(w->s, W_PEER, &nh, &ifi), 0);
    world_end(w);
}

TEST(core_route_ecmp_group_add_del_bound)
{
    struct world *w = world_new(NULL);
    uint32_t dst = 0xc0a80000u;
    /* Up to TERN_ECMP_MAX next hops share one prefix; a duplicate is a
     * no-op; the ninth is refused. */
    for (uint32_t i = 0; i < TERN_ECMP_MAX; i++)
        CHECK_EQ(tern_route_add(w->s, dst, 16, 0x0a000010u + i, w->ifindex), 0);
    CHECK_EQ(tern_route_add(w->s, dst, 16, 0x0a000010u, w->ifindex), 0);
    CHECK_EQ(tern_route_add(w->s, dst, 16, 0x0a000020u, w->ifindex), TERN_E_NOMEM);
    /* Lookups land on members; the public lookup is stable for a dst. */
    bool seen[TERN_ECMP_MAX] = {0};
    for (uint32_t h = 0; h < 256; h++) {
        uint32_t nh = 0, nh2 = 0;
        int ifi;
        CHECK_EQ(tern_route_lookup(w->s, dst | h, &nh, &ifi), 0);
        CHECK_EQ(tern_route_lookup(w->s, dst | h, &nh2, &ifi), 0);
        CHECK_EQ(nh, nh2);
        REQUIRE(nh >= 0x0a000010u && nh < 0x0a000010u + TERN_ECMP_MAX);
        seen[nh - 0x0a000010u] = true;
    }
    int used = 0;
    for (int i = 0; i < TERN_ECMP_MAX; i++)
        used += seen[i];
    CHECK_EQ(used, TERN_ECMP_MAX); /* 256 destinations over 8 members */
    /* Deleting the prefix removes the whole group. */
    CHECK_EQ(tern_route_del(w->s, dst, 16), 0);
    CHECK_EQ(tern_route_lookup(w->s, dst | 1, NULL, NULL), TERN_E_INVAL);
    CHECK_EQ(tern_route_del(w->s, dst, 16), TERN_E_INVAL);
    world_end(w);
}

/* The diamond: A - R1 = {Ra, Rb} = R3 - B. Links: 0 A-R1, 1 R1-Ra,
 * 2 R1-Rb, 3 Ra-R3, 4 Rb-R3, 5 R3-B (10.0.link.0/24, left end .1). R1
 * and R3 have two equal routes toward the far side. */
enum { D_A, D_R1, D_RA, D_RB, D_R3, D_B };

static void diamond(struct chain *c, uint64_t seed, enum tern_ecmp_mode mode,
                    const struct tern_impair *slow)
{
    REQUIRE(chain_init(c, seed) == 0);
    struct tern_config cfg;
    for (int i = 0; i < 6; i++) {
        tern_config_defaults(&cfg);
        cfg.seed = seed + 1000u * (uint64_t)i;
        cfg.ecmp = mode;
        REQUIRE(chain_node_new(c, &cfg, i != D_A && i != D_B) == i);
    }
    struct chain_link_opts p2 = {.imp = slow};
    static const int ends[6][2] = {{D_A, D_R1}, {D_R1, D_RA}, {D_R1, D_RB},
                                   {D_RA, D_R3}, {D_RB, D_R3}, {D_R3, D_B}};
    for (int l = 0; l < 6; l++)
        REQUIRE(chain_link_add(c, ends[l][0], CHAIN_ADDR(l, 1), ends[l][1], CHAIN_ADDR(l, 2),
                               l == 2 ? &p2 : NULL) == l);
#define IFX(l, e) c->link[l].ifindex[e]
    REQUIRE(tern_route_add(c->node[D_A], 0, 0, CHAIN_ADDR(0, 2), IFX(0, 0)) == 0);
    REQUIRE(tern_route_add(c->node[D_B], 0, 0, CHAIN_ADDR(5, 1), IFX(5, 1)) == 0);
    REQUIRE(tern_route_add(c->node[D_R1], CHAIN_ADDR(5, 0), 24, CHAIN_ADDR(1, 2), IFX(1, 0)) == 0);
    REQUIRE(tern_route_add(c->node[D_R1], CHAIN_ADDR(5, 0), 24, CHAIN_ADDR(2, 2), IFX(2, 0)) == 0);
    REQUIRE(tern_route_add(c->node[D_R3], CHAIN_ADDR(0, 0), 24, CHAIN_ADDR(3, 1), IFX(3, 1)) == 0);
    REQUIRE(tern_route_add(c->node[D_R3], CHAIN_ADDR(0, 0), 24, CHAIN_ADDR(4, 1), IFX(4, 1)) == 0);
    REQUIRE(tern_route_add(c->node[D_RA], CHAIN_ADDR(0, 0), 24, CHAIN_ADDR(1, 1), IFX(1, 1)) == 0);
    REQUIRE(tern_route_add(c->node[D_RA], CHAIN_ADDR(5, 0), 24, CHAIN_ADDR(3, 2), IFX(3, 0)) == 0);
    REQUIRE(tern_route_add(c->node[D_RB], CHAIN_ADDR(0, 0), 24, CHAIN_ADDR(2, 1), IFX(2, 1)) == 0);
    REQUIRE(tern_route_add(c->node[D_RB], CHAIN_ADDR(5, 0), 24, CHAIN_ADDR(4, 2), IFX(4, 0)) == 0);
#undef IFX
}

/* n UDP datagrams from A:sport to B:9 (no listener: B answers with port
 * unreachable, which travels back over links 3/4). */
static void udp_burst(struct chain *c, uint16_t sport, int n)
{
    int err;
    struct tern_sock *u = tern_sock_open(c->node[D_A], TERN_SOCK_DGRAM, &err);
    REQUIRE(u != NULL);
    struct tern_sockaddr la = {0, sport}, to = {CHAIN_ADDR(5, 2), 9};
    REQUIRE(tern_sock_bind(u, &la) == 0);
    for (int i = 0; i < n; i++) {
        uint8_t d[8] = {(uint8_t)i};
        CHECK_EQ(tern_sock_sendto(u, d, sizeof d, 0, &to), (ssize_t)sizeof d);
        tern_loop_run(c->loop, tern_loop_now(c->loop) + 1000);
    }
    tern_loop_run(c->loop, tern_loop_now(c->loop) + 100000);
    tern_sock_close(u);
}

static uint64_t via(struct chain *c, int link)
{
    return c->link[link].meter[0]->ip_frames; /* R1 -> Ra or R1 -> Rb */
}

TEST(core_route_ecmp_flow_mode_one_path_per_flow_many_flows_spread)
{
    struct chain c;
    diamond(&c, 11, TERN_ECMP_FLOW, NULL);
    udp_burst(&c, 5000, 50);
    /* One flow: all 50 datagrams on one of the two paths. */
    CHECK_EQ(via(&c, 1) + via(&c, 2), 50);
    CHECK(via(&c, 1) == 0 || via(&c, 2) == 0);
    /* 32 more flows (one datagram each): both paths get some. P(all on
     * one path) = 2 * 2^-32 for a keyed hash; the seed fixes the run. */
    uint64_t p1 = via(&c, 1), p2 = via(&c, 2);
    for (uint16_t f = 0; f < 32; f++)
        udp_burst(&c, (uint16_t)(6000 + f), 1);
    CHECK(via(&c, 1) > p1);
    CHECK(via(&c, 2) > p2);
    CHECK_EQ(via(&c, 1) + via(&c, 2), 82);
    /* R1 forwarded those and B's port unreachables on their way back. */
    CHECK_EQ(tern_stack_stats(c.node[D_R1])->ip.forwarded,
             82 + tern_stack_stats(c.node[D_B])->icmp.errors_tx);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(core_route_ecmp_packet_mode_spreads_one_flow_and_tcp_stays_exact)
{
    struct chain c;
    /* Path 2 is 3 ms slower, so per-packet spreading reorders. */
    struct tern_impair slow = {.delay_us = 3000};
    diamond(&c, 12, TERN_ECMP_PACKET, &slow);
    udp_burst(&c, 5000, 100);
    /* One flow over both paths: each draw is a fair coin; 100 draws put
     * at least 20 on each side except with probability < 1e-9. */
    CHECK_EQ(via(&c, 1) + via(&c, 2), 100);
    CHECK(via(&c, 1) >= 20);
    CHECK(via(&c, 2) >= 20);
    uint64_t p1 = via(&c, 1), p2 = via(&c, 2);
    struct chain_xfer x;
    CHECK_EQ(chain_tcp_transfer(&c, c.node[D_A], c.node[D_B], CHAIN_ADDR(5, 2), 80, 500000,
                                120000000, &x), 0);
    CHECK(x.hash_ok);
    CHECK_EQ(x.got, 500000);
    CHECK(via(&c, 1) - p1 > 100); /* the data took both paths */
    CHECK(via(&c, 2) - p2 > 100);
    CHECK(chain_settled(&c));
    chain_close(&c);
}
