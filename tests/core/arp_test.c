/*
 * tests/core/arp_test.c - state tests for src/core/arp.c: replies,
 * announcements, resolution with retries and backoff, the cache bound and
 * the pending queue (ATTACKS 1-4), RFC 826 merge rules.
 * Known answers from scapy (US = "02:00:00:00:00:01", PEER =
 * "02:00:00:00:00:02", BC = "ff:ff:ff:ff:ff:ff").
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tern/wire/arp.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"
#include "tern/wire/icmp.h"
#include "world.h"

/* scapy: Ether(dst=BC, src=US)/ARP(op=1, hwsrc=US, psrc="10.0.0.1", hwdst="00:00:00:00:00:00", pdst="10.0.0.1") */
static const uint8_t k_garp[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0a, 0x00, 0x00, 0x01,
};
/* scapy: Ether(dst=PEER, src=US)/ARP(op=2, hwsrc=US, psrc="10.0.0.1", hwdst=PEER, pdst="10.0.0.2") */
static const uint8_t k_arp_reply[42] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x0a, 0x00, 0x00, 0x02,
};
/* scapy: Ether(dst=BC, src=US)/ARP(op=1, hwsrc=US, psrc="10.0.0.1", hwdst="00:00:00:00:00:00", pdst="10.0.0.2") */
static const uint8_t k_arp_req_peer[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
};

static const uint8_t zero_mac[6];

static void inject_req(struct world *w, const uint8_t sha[6], uint32_t spa, uint32_t tpa)
{
    uint8_t f[64];
    size_t n = w_arp_frame(f, TERN_ARP_REQUEST, w_mac_bcast, sha, spa, zero_mac, tpa);
    world_inject(w, f, n);
}

static void inject_reply(struct world *w, const uint8_t sha[6], uint32_t spa)
{
    uint8_t f[64];
    size_t n = w_arp_frame(f, TERN_ARP_REPLY, w_mac_us, sha, spa, w_mac_us, W_US);
    world_inject(w, f, n);
}

static int send_echo(struct world *w, uint32_t dst, uint16_t id, uint16_t seq)
{
    struct tern_ip_out o = {.dst = dst};
    return tern_echo_send(w->s, &o, id, seq, (const uint8_t *)"ping", 4);
}

static size_t arp_entries(struct world *w)
{
    struct tern_stack_mem m;
    stack_mem_usage(w->s, &m);
    return m.arp_entries;
}

static size_t arp_queued_now(struct world *w)
{
    struct tern_stack_mem m;
    stack_mem_usage(w->s, &m);
    return m.arp_queued;
}

TEST(core_arp_gratuitous_on_up)
{
    struct world *w = world_new_link(NULL, TERN_LINK_ETHERNET, 1500);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    CHECK(w_frame_eq(f, n, k_garp, sizeof k_garp));
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(tern_stack_stats(w->s)->arp.tx_request, 1);
    world_end(w);
}

TEST(core_arp_reply_to_request_exact)
{
    struct world *w = world_new(NULL);
    inject_req(w, w_mac_peer, W_PEER, W_US);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    CHECK(w_frame_eq(f, n, k_arp_reply, sizeof k_arp_reply));
    CHECK_EQ(world_pending(w), 0);
    /* RFC 826: the requester is added to the cache. */
    CHECK_EQ(arp_entries(w), 1);
    CHECK_EQ(tern_stack_stats(w->s)->arp.tx_reply, 1);
    /* ... so a datagram to it leaves at once, without a request. */
    CHECK_EQ(send_echo(w, W_PEER, 1, 1), 0);
    f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK_MEM(f, w_mac_peer, 6);
    CHECK_EQ(tern_get16(f + 12), TERN_ETHERTYPE_IPV4);
    world_end(w);
}

TEST(core_arp_request_for_other_ignored)
{
    struct world *w = world_new(NULL);
    inject_req(w, w_mac_peer, W_PEER, W_OTHER);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(arp_entries(w), 0);
    world_end(w);
}

TEST(attack_01_arp_shorter_than_28_dropped)
{
    struct world *w = world_new(NULL);
    uint8_t f[64];
    size_t n = w_arp_frame(f, TERN_ARP_REQUEST, w_mac_bcast, w_mac_peer, W_PEER, zero_mac, W_US);
    world_inject(w, f, n - 1); /* 27 bytes of ARP */
    world_inject(w, f, TERN_ETH_HLEN); /* none at all */
    CHECK_EQ(tern_stack_stats(w->s)->arp.drop_short, 2);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(arp_entries(w), 0);
    world_end(w);
}

TEST(attack_02_arp_bad_hardware_or_protocol_dropped)
{
    struct world *w = world_new(NULL);
    for (int field = 0; field < 4; field++) {
        uint8_t f[64];
        size_t n = w_arp_frame(f, TERN_ARP_REQUEST, w_mac_bcast, w_mac_peer, W_PEER, zero_mac,
                               W_US);
        uint8_t *a = f + TERN_ETH_HLEN;
        switch (field) {
        case 0: tern_put16(a, 6); break;          /* htype IEEE 802 */
        case 1: tern_put16(a + 2, 0x86dd); break; /* ptype IPv6 */
        case 2: a[4] = 8; break;                  /* hlen */
        case 3: a[5] = 16; break;                 /* plen */
        }
        world_inject(w, f, n);
    }
    CHECK_EQ(tern_stack_stats(w->s)->arp.drop_unsupported, 4);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(arp_entries(w), 0);
    world_end(w);
}

TEST(attack_03_unsolicited_reply_creates_no_entry)
{
    struct world *w = world_new(NULL);
    inject_reply(w, w_mac_peer, W_PEER);
    CHECK_EQ(arp_entries(w), 0);
    CHECK_EQ(world_pending(w), 0);
    /* Proof: traffic to the peer still has to resolve it. */
    CHECK_EQ(send_echo(w, W_PEER, 1, 1), 0);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    CHECK(w_frame_eq(f, n, k_arp_req_peer, sizeof k_arp_req_peer));
    world_end(w);
}

TEST(attack_03_sender_ip_ours_is_conflict)
{
    struct world *w = world_new(NULL);
    inject_req(w, w_mac_peer, W_US, W_US);   /* someone else announces our address */
    inject_reply(w, w_mac_peer, W_US);
    inject_req(w, w_mac_us, W_US, W_US);     /* our own announcement echoed: no conflict */
    CHECK_EQ(tern_stack_stats(w->s)->arp.conflicts, 2);
    CHECK_EQ(arp_entries(w), 0);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(attack_03_group_or_zero_sender_mac_no_entry)
{
    struct world *w = world_new(NULL);
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    inject_req(w, w_mac_bcast, W_PEER, W_US);
    inject_req(w, mcast, W_PEER, W_US);
    inject_req(w, zero_mac, W_PEER, W_US);
    CHECK_EQ(tern_stack_stats(w->s)->arp.drop_bad_sender, 3);
    CHECK_EQ(arp_entries(w), 0);
    CHECK_EQ(world_pending(w), 0);
    /* A broadcast or multicast sender IP is no better. */
    inject_req(w, w_mac_peer, W_BCAST, W_US);
    inject_req(w, w_mac_peer, 0xe0000001u, W_US);
    CHECK_EQ(tern_stack_stats(w->s)->arp.drop_bad_sender, 5);
    CHECK_EQ(arp_entries(w), 0);
    world_end(w);
}

TEST(attack_04_cache_capped_under_10000_senders)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 7;
    c.arp_cache_max = 256;
    struct world *w = world_new(&c);
    for (uint32_t i = 0; i < 10000; i++) {
        uint8_t mac[6] = {0x02, 0x10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 0x01};
        inject_req(w, mac, 0x0b000000u + i, W_US);
        world_drain(w);
    }
    CHECK_EQ(arp_entries(w), 256);
    CHECK_EQ(tern_stack_stats(w->s)->arp.cache_evictions, 10000 - 256);
    CHECK_EQ(tern_stack_stats(w->s)->arp.tx_reply, 10000);
    /* The newest senders are the ones kept: the last one resolves at once. */
    struct tern_ip_out o = {.dst = 0x0b000000u + 9999};
    CHECK_EQ(tern_route_add(w->s, 0, 0, 0, w->ifindex), 0); /* on-link default */
    CHECK_EQ(tern_echo_send(w->s, &o, 1, 1, NULL, 0), 0);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK_EQ(tern_get16(f + 12), TERN_ETHERTYPE_IPV4);
    world_end(w);
}

TEST(attack_04_pending_queue_capped_per_entry_and_total)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 3;
    c.arp_queue_per_entry = 4;
    c.arp_queue_total = 10;
    struct world *w = world_new(&c);
    for (int i = 0; i < 9; i++)
        CHECK_EQ(send_echo(w, W_PEER, 1, (uint16_t)i), 0);
    CHECK_EQ(arp_queued_now(w), 4);
    CHECK_EQ(tern_stack_stats(w->s)->arp.queue_drops, 5);
    /* Other hosts fill the rest of the pool, then new datagrams are refused. */
    for (uint32_t h = 10; h < 20; h++)
        for (int i = 0; i < 4; i++)
            (void)send_echo(w, 0x0a000000u + h, 1, (uint16_t)i);
    CHECK_EQ(arp_queued_now(w), 10);
    CHECK(tern_stack_stats(w->s)->arp.queue_drops > 5);
    /* One request per new host, no more. */
    CHECK_EQ(tern_stack_stats(w->s)->arp.tx_request, 1 + 1 + 10);
    /* The peer answers: its 4 (the latest 4: seq 5..8) leave in order. */
    world_drain(w);
    inject_reply(w, w_mac_peer, W_PEER);
    for (int i = 5; i < 9; i++) {
        size_t n;
        const uint8_t *f = world_pop(w, &n);
        REQUIRE(f != NULL);
        CHECK_MEM(f, w_mac_peer, 6);
        CHECK_EQ(tern_get16(f + 14 + 20 + 6), i); /* ICMP seq */
    }
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(arp_queued_now(w), 6);
    world_end(w);
}

TEST(core_arp_resolution_sends_queued_datagram)
{
    struct world *w = world_new(NULL);
    CHECK_EQ(send_echo(w, W_PEER, 0x77, 1), 0);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    CHECK(w_frame_eq(f, n, k_arp_req_peer, sizeof k_arp_req_peer));
    CHECK_EQ(arp_queued_now(w), 1);
    inject_reply(w, w_mac_peer, W_PEER);
    f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK_EQ(n, 14 + 20 + 8 + 4);
    CHECK_MEM(f, w_mac_peer, 6);
    CHECK_MEM(f + 6, w_mac_us, 6);
    CHECK_EQ(tern_get32(f + 14 + 16), W_PEER);
    CHECK_EQ(arp_queued_now(w), 0);
    CHECK_EQ(arp_entries(w), 1);
    world_end(w);
}

TEST(core_arp_retries_then_host_unreachable_after_3s)
{
    struct world *w = world_new(NULL);
    struct w_echo_log log = {0};
    int id = tern_echo_bind(w->s, 0, w_echo_cb, &log);
    REQUIRE(id > 0);
    CHECK_EQ(send_echo(w, W_OTHER, (uint16_t)id, 5), 0);
    size_t n;
    CHECK(world_pop(w, &n) != NULL); /* request 1 at t0 */
    /* arp_retry_us = 1 s apart, as Linux: requests at +1 s and +2 s. */
    world_run(w, 999999);
    CHECK_EQ(world_pending(w), 0);
    world_run(w, 1);
    CHECK_EQ(world_pending(w), 1);
    world_drain(w);
    world_run(w, 999999);
    CHECK_EQ(world_pending(w), 0);
    world_run(w, 1);
    CHECK_EQ(world_pending(w), 1);
    world_drain(w);
    CHECK_EQ(tern_stack_stats(w->s)->arp.tx_request, 1 + 3);
    /* 1 s after the third, 3 s after the first (iputils' ~3 s), it fails. */
    world_run(w, 999999);
    CHECK_EQ(log.n, 0);
    world_run(w, 1);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(tern_stack_stats(w->s)->arp.resolve_failures, 1);
    CHECK_EQ(arp_queued_now(w), 0);
    CHECK_EQ(arp_entries(w), 0);
    /* ping prints "From 10.0.0.1 icmp_seq=5 Destination Host Unreachable". */
    REQUIRE_EQ(log.n, 1);
    CHECK(log.last.is_error);
    CHECK_EQ(log.last.type, TERN_ICMP_UNREACH);
    CHECK_EQ(log.last.code, TERN_ICMP_UNREACH_HOST);
    CHECK_EQ(log.last.from, W_US);
    CHECK_EQ(log.last.id, id);
    CHECK_EQ(log.last.seq, 5);
    tern_echo_unbind(w->s, (uint16_t)id);
    world_end(w);
}

TEST(core_arp_entry_goes_stale_then_removed)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    CHECK_EQ(arp_entries(w), 1);
    world_run(w, 30000000); /* reachable time over: stale */
    CHECK_EQ(send_echo(w, W_PEER, 1, 1), 0);
    /* A unicast revalidation request, and the datagram goes out anyway. */
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK_EQ(tern_get16(f + 12), TERN_ETHERTYPE_ARP);
    CHECK_MEM(f, w_mac_peer, 6);
    f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK_EQ(tern_get16(f + 12), TERN_ETHERTYPE_IPV4);
    world_run(w, 60000000);
    CHECK_EQ(arp_entries(w), 0);
    world_end(w);
}

TEST(core_arp_merge_updates_existing_entry)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    /* A gratuitous ARP from the peer with a new MAC updates the entry. */
    inject_req(w, w_mac_other, W_PEER, W_PEER);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(send_echo(w, W_PEER, 1, 1), 0);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK_MEM(f, w_mac_other, 6);
    world_end(w);
}

TEST(core_arp_iface_down_flushes)
{
    struct world *w = world_new(NULL);
    CHECK_EQ(send_echo(w, W_PEER, 1, 1), 0);
    CHECK_EQ(arp_queued_now(w), 1);
    CHECK_EQ(tern_iface_set_up(w->s, w->ifindex, false), 0);
    CHECK_EQ(arp_queued_now(w), 0);
    CHECK_EQ(arp_entries(w), 0);
    world_drain(w);
    /* Down: no route, nothing received. */
    CHECK(send_echo(w, W_PEER, 1, 2) < 0);
    inject_req(w, w_mac_peer, W_PEER, W_US);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}
