/*
 * tests/core/route_cache_test.c - a connection's cached route and next hop
 * (src/core/route_cache.c): a segment follows every change the cache must
 * see - a route added or deleted, the neighbour's MAC changing, its ARP
 * entry evicted or gone stale (RFC 1122 s2.3.2.1 revalidation), the
 * interface going down - and the IP IDs it uses are the RFC 7739 s5.3
 * counter ip_next_id would give.
 */
#include <string.h>

#include "harness.h"
#include "tcp_util.h"
#include "tern/wire/arp.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"
#include "world.h"

static const uint8_t zero_mac[6];
static const uint8_t new_peer_mac[6] = {0x02, 0, 0, 0, 0, 0x09};

/* Sends one byte on sk and returns the frame carrying it (ARP skipped),
 * after acknowledging it as the peer so Nagle lets the next one go. */
static const uint8_t *send_byte(struct world *w, struct tern_sock *sk, uint32_t *seq)
{
    static uint8_t copy[2048];
    CHECK_EQ(tern_sock_send(sk, "x", 1, 0), 1);
    size_t len = 0;
    const uint8_t *f = world_pop_ip(w, &len);
    if (!f || len > sizeof copy)
        return NULL;
    memcpy(copy, f, len);
    *seq += 1;
    struct tern_tcp_repr a = wt_peer(P_ISN + 1, *seq, ACKF, 1000);
    wt_inject(w, &a);
    world_drain(w);
    return copy;
}

static void learn(struct world *w, const uint8_t mac[6], uint32_t ip)
{
    uint8_t f[64];
    size_t n = w_arp_frame(f, TERN_ARP_REQUEST, w_mac_bcast, mac, ip, zero_mac, W_US);
    world_inject(w, f, n);
    world_drain(w); /* our reply */
}

TEST(core_route_cache_follows_route_add_and_delete)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    world_drain(w);
    learn(w, w_mac_other, W_OTHER);
    uint32_t seq = ISS + 1;
    const uint8_t *f = send_byte(w, sk, &seq);
    REQUIRE(f != NULL);
    CHECK(memcmp(f, w_mac_peer, 6) == 0);
    /* A host route to the peer through 10.0.0.3: the cached next hop must
     * not survive it. */
    CHECK_EQ(tern_route_add(w->s, W_PEER, 32, W_OTHER, w->ifindex), 0);
    f = send_byte(w, sk, &seq);
    REQUIRE(f != NULL);
    CHECK(memcmp(f, w_mac_other, 6) == 0);
    CHECK_EQ(tern_route_del(w->s, W_PEER, 32), 0);
    f = send_byte(w, sk, &seq);
    REQUIRE(f != NULL);
    CHECK(memcmp(f, w_mac_peer, 6) == 0);
    wt_finish(w, sk, l);
}

TEST(core_route_cache_follows_mac_change)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    world_drain(w);
    uint32_t seq = ISS + 1;
    const uint8_t *f = send_byte(w, sk, &seq);
    REQUIRE(f != NULL);
    CHECK(memcmp(f, w_mac_peer, 6) == 0);
    /* RFC 826 merge: the peer now answers from another MAC. */
    learn(w, new_peer_mac, W_PEER);
    f = send_byte(w, sk, &seq);
    REQUIRE(f != NULL);
    CHECK(memcmp(f, new_peer_mac, 6) == 0);
    wt_finish(w, sk, l);
}

TEST(core_route_cache_arp_eviction_resolves_again)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.arp_cache_max = 2;
    struct world *w = world_new(&cfg);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    world_drain(w);
    uint32_t seq = ISS + 1;
    const uint8_t *f = send_byte(w, sk, &seq);
    REQUIRE(f != NULL);
    CHECK(memcmp(f, w_mac_peer, 6) == 0);
    /* Two other neighbours fill the two-entry cache: the peer's entry is
     * evicted while still reachable, so the next segment must wait for a
     * new resolution (a broadcast request), not use the old MAC. */
    static const uint8_t mac4[6] = {0x02, 0, 0, 0, 0, 0x04};
    learn(w, w_mac_other, W_OTHER);
    learn(w, mac4, 0x0a000004u);
    uint64_t req = w->s->stats.arp.tx_request;
    CHECK_EQ(tern_sock_send(sk, "y", 1, 0), 1);
    CHECK_EQ(w->s->stats.arp.tx_request, req + 1);
    size_t len;
    f = world_pop(w, &len);
    REQUIRE(f != NULL);
    CHECK(memcmp(f, w_mac_bcast, 6) == 0);
    CHECK_EQ(tern_get16(f + 12), TERN_ETHERTYPE_ARP);
    CHECK_EQ(world_pending(w), 0u); /* the segment is queued behind ARP */
    learn(w, w_mac_peer, W_PEER);
    wt_finish(w, sk, l);
}

TEST(core_route_cache_stale_entry_revalidated)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    world_drain(w);
    uint32_t seq = ISS + 1;
    REQUIRE(send_byte(w, sk, &seq) != NULL);
    /* Past arp_reachable_us (30 s) the entry is stale: the next datagram
     * still goes out at once, and one unicast request revalidates the
     * entry (RFC 1122 s2.3.2.1) - the cache must not bypass that. */
    world_run(w, 31000000);
    world_drain(w);
    uint64_t req = w->s->stats.arp.tx_request;
    CHECK_EQ(tern_sock_send(sk, "z", 1, 0), 1);
    CHECK_EQ(w->s->stats.arp.tx_request, req + 1);
    bool arp_unicast = false, data = false;
    size_t len;
    const uint8_t *f;
    while ((f = world_pop(w, &len)) != NULL) {
        CHECK(memcmp(f, w_mac_peer, 6) == 0);
        if (tern_get16(f + 12) == TERN_ETHERTYPE_ARP)
            arp_unicast = true;
        else
            data = true;
    }
    CHECK(arp_unicast);
    CHECK(data);
    wt_finish(w, sk, l);
}

TEST(core_route_cache_iface_down_stops_output)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    world_drain(w);
    uint32_t seq = ISS + 1;
    REQUIRE(send_byte(w, sk, &seq) != NULL);
    CHECK_EQ(tern_iface_set_up(w->s, w->ifindex, false), 0);
    world_drain(w);
    uint64_t noroute = w->s->stats.ip.drop_no_route;
    CHECK_EQ(tern_sock_send(sk, "d", 1, 0), 1);
    CHECK_EQ(world_pending(w), 0u);
    CHECK(w->s->stats.ip.drop_no_route > noroute);
    CHECK_EQ(tern_iface_set_up(w->s, w->ifindex, true), 0);
    world_drain(w);
    wt_finish(w, sk, l);
}

/* RFC 7739 s5.3: the cached flow uses the same counter and offset as the
 * keyed-hash path, so IDs stay unique per (src, dst, proto) and the
 * cache changes no byte on the wire. */
TEST(core_route_cache_ip_ids_match_the_hashed_counter)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    world_drain(w);
    uint32_t seq = ISS + 1;
    for (int i = 0; i < 4; i++) {
        uint16_t want = ip_peek_id(w->s, W_US, W_PEER, TERN_IPPROTO_TCP);
        const uint8_t *f = send_byte(w, sk, &seq);
        REQUIRE(f != NULL);
        CHECK_EQ(tern_get16(f + TERN_ETH_HLEN + 4), want);
    }
    wt_finish(w, sk, l);
}
