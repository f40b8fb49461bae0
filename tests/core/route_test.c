/*
 * tests/core/route_test.c - the routing table (src/core/route.c):
 * connected routes, longest-prefix match, default routes, deletion,
 * interfaces going down, the table bound.
 */
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
    /* Replacing keeps one entry; deleting falls back to shorter prefixes. */
    CHECK_EQ(tern_route_add(w->s, 0xc0a80100u, 24, 0x0a0000fbu, w->ifindex), 0);
    CHECK_EQ(tern_route_lookup(w->s, 0xc0a80101u, &nh, &ifi), 0);
    CHECK_EQ(nh, 0x0a0000fbu);
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
    for (uint32_t i = 0; i < 100; i++)
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
