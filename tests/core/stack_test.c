/*
 * tests/core/stack_test.c - the stack object (src/core/stack.c): config
 * validation, interfaces, Ethernet input (ATTACKS 1), loopback delivery,
 * two stacks pinging over a memory link, and the keyed generator
 * (src/core/rng.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "harness.h"
#include "tern/wire/arp.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"
#include "tern/wire/icmp.h"
#include "tern/wire/udp.h"
#include "world.h"

TEST(core_stack_config_defaults_and_validation)
{
    struct tern_config c;
    tern_config_defaults(&c);
    CHECK_EQ(c.default_ttl, 64);
    CHECK_EQ(c.arp_cache_max, 256);
    CHECK_EQ(c.arp_queue_per_entry, 4);
    CHECK_EQ(c.arp_queue_total, 64);
    CHECK_EQ(c.arp_reachable_us, 30000000);
    CHECK_EQ(c.arp_stale_us, 60000000);
    CHECK_EQ(c.arp_retry_us, 1000000);
    CHECK_EQ(c.arp_max_requests, 3);
    CHECK_EQ(c.reasm_max_bytes, 256 * 1024);
    CHECK_EQ(c.reasm_max_datagrams, 64);
    CHECK_EQ(c.reasm_timeout_us, 30000000);
    CHECK_EQ(c.icmp_rate_per_s, 100);
    CHECK_EQ(c.icmp_burst, 50);
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct tern_stack *s = tern_stack_new(&c, l);
    CHECK(s != NULL);
    tern_stack_free(s);
    struct tern_config bad = c;
    bad.default_ttl = 0;
    CHECK(tern_stack_new(&bad, l) == NULL);
    bad = c;
    bad.arp_cache_max = 0;
    CHECK(tern_stack_new(&bad, l) == NULL);
    bad = c;
    bad.arp_queue_total = 0;
    CHECK(tern_stack_new(&bad, l) == NULL);
    bad = c;
    bad.arp_retry_us = 0;
    CHECK(tern_stack_new(&bad, l) == NULL);
    bad = c;
    bad.reasm_max_datagrams = 0;
    CHECK(tern_stack_new(&bad, l) == NULL);
    CHECK(tern_stack_new(NULL, l) == NULL);
    CHECK(tern_stack_new(&c, NULL) == NULL);
    tern_loop_destroy(l);
}

static int sink(void *ctx, const uint8_t *f, size_t n)
{
    (void)ctx, (void)f, (void)n;
    return 0;
}

TEST(core_stack_add_iface_validation_and_get)
{
    struct tern_config c;
    tern_config_defaults(&c);
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct tern_stack *s = tern_stack_new(&c, l);
    struct tern_device *d = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, w_mac_us, sink, NULL);
    struct tern_iface_config ic = {.addr = W_US, .prefix_len = 24, .mtu = 67};
    CHECK_EQ(tern_stack_add_iface(s, d, &ic), TERN_E_INVAL);
    ic.mtu = 1501;
    CHECK_EQ(tern_stack_add_iface(s, d, &ic), TERN_E_INVAL);
    ic.mtu = 0;
    ic.addr = 0xe0000001u;
    CHECK_EQ(tern_stack_add_iface(s, d, &ic), TERN_E_INVAL);
    ic.addr = W_BCAST;
    CHECK_EQ(tern_stack_add_iface(s, d, &ic), TERN_E_INVAL);
    ic.addr = W_US;
    ic.prefix_len = 33;
    CHECK_EQ(tern_stack_add_iface(s, d, &ic), TERN_E_INVAL);
    ic.prefix_len = 24;
    int idx = tern_stack_add_iface(s, d, &ic);
    CHECK_EQ(idx, 0);
    struct tern_iface_config out;
    CHECK_EQ(tern_iface_get(s, idx, &out), 0);
    CHECK_EQ(out.addr, W_US);
    CHECK_EQ(out.prefix_len, 24);
    CHECK_EQ(out.mtu, 1500);
    CHECK_MEM(out.mac, w_mac_us, 6);
    CHECK(!out.up);
    CHECK_EQ(tern_iface_set_up(s, idx, true), 0);
    CHECK_EQ(tern_iface_get(s, idx, &out), 0);
    CHECK(out.up);
    CHECK_EQ(tern_iface_get(s, 5, &out), TERN_E_INVAL);
    CHECK_EQ(tern_iface_set_up(s, -1, true), TERN_E_INVAL);
    tern_stack_free(s);
    /* The device outlives the stack and no longer calls into it. */
    uint8_t f[60] = {0};
    tern_device_deliver(d, f, sizeof f);
    CHECK_EQ(d->stats.rx_dropped, 1);
    tern_device_destroy(d);
    tern_loop_destroy(l);
}

TEST(attack_01_eth_frame_shorter_than_14_dropped)
{
    struct world *w = world_new(NULL);
    uint8_t f[14];
    memcpy(f, w_mac_us, 6);
    memcpy(f + 6, w_mac_peer, 6);
    tern_put16(f + 12, TERN_ETHERTYPE_IPV4);
    for (size_t n = 0; n < 14; n++)
        world_inject(w, f, n);
    CHECK_EQ(tern_stack_stats(w->s)->eth.drop_short, 14);
    CHECK_EQ(tern_stack_stats(w->s)->eth.rx, 14);
    CHECK_EQ(tern_stack_stats(w->s)->ip.rx, 0);
    /* Exactly 14 bytes: a header and an empty IPv4 payload. */
    world_inject(w, f, 14);
    CHECK_EQ(tern_stack_stats(w->s)->ip.drop_short, 1);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(core_stack_eth_filtering)
{
    struct world *w = world_new(NULL);
    uint8_t f[60] = {0};
    /* To someone else. */
    w_eth(f, w_mac_other, w_mac_peer, TERN_ETHERTYPE_IPV4, NULL, 0);
    world_inject(w, f, 60);
    CHECK_EQ(tern_stack_stats(w->s)->eth.drop_not_for_us, 1);
    /* Multicast for a group not joined here (RFC 1112 s6.4 filter;
     * tests/core/mcast_test.c has the joined cases). */
    static const uint8_t mc[6] = {0x01, 0x00, 0x5e, 1, 2, 3};
    w_eth(f, mc, w_mac_peer, TERN_ETHERTYPE_IPV4, NULL, 0);
    world_inject(w, f, 60);
    CHECK_EQ(tern_stack_stats(w->s)->eth.drop_not_for_us, 2);
    /* IPv6 and 802.3 length frames. */
    w_eth(f, w_mac_us, w_mac_peer, TERN_ETHERTYPE_IPV6, NULL, 0);
    world_inject(w, f, 60);
    w_eth(f, w_mac_us, w_mac_peer, 46, NULL, 0);
    world_inject(w, f, 60);
    CHECK_EQ(tern_stack_stats(w->s)->eth.drop_unknown_type, 2);
    CHECK_EQ(tern_stack_stats(w->s)->ip.rx, 0);
    CHECK_EQ(tern_stack_stats(w->s)->arp.rx, 0);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(core_stack_ping_own_address_via_loopback)
{
    struct world *w = world_new(NULL);
    struct w_echo_log el = {0};
    int id = tern_echo_bind(w->s, 0, w_echo_cb, &el);
    REQUIRE(id > 0);
    struct tern_ip_out o = {.dst = W_US};
    CHECK_EQ(tern_echo_send(w->s, &o, (uint16_t)id, 3, (const uint8_t *)"self", 4), 0);
    /* Not re-entrant: nothing happens until the loop turns. */
    CHECK_EQ(el.n, 0);
    struct tern_stack_mem m;
    stack_mem_usage(w->s, &m);
    CHECK_EQ(m.loop_queued, 1);
    world_run(w, 0);
    REQUIRE_EQ(el.n, 1);
    CHECK(!el.last.is_error);
    CHECK_EQ(el.last.from, W_US);
    CHECK_EQ(el.last.seq, 3);
    CHECK_MEM(el.data, "self", 4);
    CHECK_EQ(world_pending(w), 0); /* nothing on the wire */
    /* 127.0.0.1 works too. */
    o.dst = 0x7f000001u;
    CHECK_EQ(tern_echo_send(w->s, &o, (uint16_t)id, 4, NULL, 0), 0);
    world_run(w, 0);
    CHECK_EQ(el.n, 2);
    CHECK_EQ(el.last.from, 0x7f000001u);
    /* The queue is bounded: flooding it fails cleanly. */
    o.dst = W_US;
    int fails = 0;
    for (int i = 0; i < 100; i++)
        if (tern_echo_send(w->s, &o, (uint16_t)id, 5, NULL, 0) < 0)
            fails++;
    CHECK_EQ(fails, 100 - TERN_LOOPQ_MAX);
    tern_echo_unbind(w->s, (uint16_t)id);
    world_end(w);
}

struct ping_peer {
    struct tern_stack *s;
    struct w_echo_log log;
};

TEST(core_stack_two_stacks_ping_over_memlink)
{
    struct tern_loop *l = tern_loop_virtual_new(W_T0);
    struct tern_device *da, *db;
    REQUIRE_EQ(tern_memlink_pair(l, TERN_LINK_ETHERNET, 1500, 16, &da, &db), 0);
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 11;
    struct tern_stack *a = tern_stack_new(&c, l);
    c.seed = 12;
    struct tern_stack *b = tern_stack_new(&c, l);
    struct tern_iface_config ia = {.addr = 0xc0a80001u, .prefix_len = 24, .up = true};
    struct tern_iface_config ib = {.addr = 0xc0a80002u, .prefix_len = 24, .up = true};
    REQUIRE_EQ(tern_stack_add_iface(a, da, &ia), 0);
    REQUIRE_EQ(tern_stack_add_iface(b, db, &ib), 0);
    tern_loop_run(l, W_T0 + 1000); /* the announcements cross */
    struct w_echo_log la = {0}, lb = {0};
    int ida = tern_echo_bind(a, 0, w_echo_cb, &la);
    int idb = tern_echo_bind(b, 0, w_echo_cb, &lb);
    REQUIRE(ida > 0 && idb > 0);
    uint8_t data[56];
    for (int i = 0; i < 56; i++)
        data[i] = (uint8_t)(i + 0x10);
    struct tern_ip_out oa = {.dst = 0xc0a80002u}, ob = {.dst = 0xc0a80001u};
    for (uint16_t seq = 1; seq <= 3; seq++) {
        CHECK_EQ(tern_echo_send(a, &oa, (uint16_t)ida, seq, data, sizeof data), 0);
        CHECK_EQ(tern_echo_send(b, &ob, (uint16_t)idb, seq, data, sizeof data), 0);
        tern_loop_run(l, tern_loop_now(l) + 1000000);
        CHECK_EQ(la.n, seq);
        CHECK_EQ(lb.n, seq);
        CHECK_EQ(la.last.seq, seq);
        CHECK_EQ(la.last.from, 0xc0a80002u);
        CHECK_EQ(la.last.len, sizeof data);
        CHECK_MEM(la.data, data, sizeof data);
        CHECK_EQ(lb.last.from, 0xc0a80001u);
        CHECK_MEM(lb.data, data, sizeof data);
    }
    /* One ARP request each way, at most (b learned a from a's request). */
    CHECK(tern_stack_stats(a)->arp.tx_request <= 2);
    CHECK_EQ(tern_stack_stats(a)->icmp.echo_replies_tx, 3);
    CHECK_EQ(tern_stack_stats(b)->icmp.echo_replies_rx, 3);
    tern_echo_unbind(a, (uint16_t)ida);
    tern_echo_unbind(b, (uint16_t)idb);
    tern_loop_run(l, tern_loop_now(l) + 200000000ull);
    struct tern_stack_mem m;
    stack_mem_usage(a, &m);
    CHECK_EQ(m.arp_entries + m.arp_queued + m.loop_queued + m.reasm_bytes, 0);
    tern_stack_free(a);
    tern_stack_free(b);
    tern_device_destroy(da);
    tern_device_destroy(db);
    tern_loop_destroy(l);
}

TEST(core_stack_register_proto_rules)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    struct tern_proto_handler h = {0};
    CHECK_EQ(tern_stack_register_proto(w->s, 17, &h), TERN_E_INVAL); /* no input */
    w_proto_record(w, 17, log);
    struct tern_proto_handler icmp = {.input = NULL};
    CHECK_EQ(tern_stack_register_proto(w->s, TERN_IPPROTO_ICMP, &icmp), TERN_E_INVAL);
    CHECK_EQ(tern_stack_register_proto(w->s, 17, NULL), 0); /* unregister */
    free(log);
    world_end(w);
}

/* SipHash-2-4 reference vectors (Aumasson & Bernstein, vectors.h): key
 * 00..0f, message 00..(n-1). */
TEST(core_rng_siphash_reference_vectors)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    uint64_t k0 = 0, k1 = 0;
    for (int i = 7; i >= 0; i--) {
        k0 = k0 << 8 | key[i];
        k1 = k1 << 8 | key[8 + i];
    }
    CHECK(siphash24(k0, k1, msg, 0) == 0x726fdb47dd0e0e31ull);
    CHECK(siphash24(k0, k1, msg, 1) == 0x74f839c593dc67fdull);
    CHECK(siphash24(k0, k1, msg, 15) == 0xa129ca6149be45e5ull); /* the paper's example */
    CHECK(siphash24(k0, k1, msg, 63) == 0x958a324ceb064572ull);
}

TEST(core_rng_deterministic_and_seeded)
{
    struct tern_rng a, b, c;
    prng_init(&a, 42);
    prng_init(&b, 42);
    prng_init(&c, 43);
    int same = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = prng_next(&a);
        CHECK(x == prng_next(&b));
        if (x == prng_next(&c))
            same++;
    }
    CHECK_EQ(same, 0);
    CHECK(prng_hash(&a, "abc", 3) == prng_hash(&b, "abc", 3));
    CHECK(prng_hash(&a, "abc", 3) != prng_hash(&c, "abc", 3));
    for (int i = 0; i < 1000; i++)
        CHECK(prng_below(&a, 7) < 7);
    CHECK_EQ(prng_below(&a, 1), 0);
}

/* A custom device whose send delivers frames to the stack from inside the
 * send (an embedder's loop-back, a synchronous harness): the case the old
 * tx_busy guard refused (the reply built inside the send was dropped). */
struct reenter_dev {
    struct tern_device *dev;
    int depth, max_depth, sends;
    uint8_t f[8][1600];
    size_t flen[8];
    bool intact; /* the frame being sent was unchanged by what the deliveries did */
    int delivered;
};

static int reenter_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct reenter_dev *r = ctx;
    r->depth++;
    if (r->depth > r->max_depth)
        r->max_depth = r->depth;
    int k = r->sends++;
    if (k < 8 && len <= sizeof r->f[0]) {
        memcpy(r->f[k], frame, len);
        r->flen[k] = len;
    }
    if (len > 34 && tern_get16(frame + 12) == TERN_ETHERTYPE_IPV4 && !r->delivered) {
        r->delivered = 1;
        uint8_t buf[200], icmp[64], udp[64];
        /* An echo request from the peer (a reply is due) ... */
        size_t n = w_icmp(icmp, TERN_ICMP_ECHO, 0, 0x12340001u, (const uint8_t *)"abcd", 4);
        struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_ICMP, 7);
        size_t fl = w_ip_frame(buf, &ip, icmp, n);
        tern_device_deliver(r->dev, buf, fl);
        /* ... and a datagram to a closed UDP port (an ICMP error is due). */
        struct tern_udp_repr u = {.sport = 5000, .dport = 9, .payload = (const uint8_t *)"x",
                                  .payload_len = 1};
        int un = tern_udp_emit(&u, W_PEER, W_US, udp, sizeof udp);
        ip = w_ip(W_PEER, W_US, TERN_IPPROTO_UDP, 8);
        fl = w_ip_frame(buf, &ip, udp, (size_t)un);
        tern_device_deliver(r->dev, buf, fl);
        r->intact = memcmp(frame, r->f[k], len) == 0;
    }
    r->depth--;
    return 0;
}

TEST(core_stack_device_delivering_inside_its_send_is_served_next_turn)
{
    struct tern_loop *l = tern_loop_virtual_new(W_T0);
    struct reenter_dev *r = calloc(1, sizeof *r);
    REQUIRE(r);
    r->dev = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, w_mac_us, reenter_send, r);
    REQUIRE(r->dev);
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 3;
    struct tern_stack *s = tern_stack_new(&c, l);
    struct tern_iface_config ic = {.addr = W_US, .prefix_len = 24, .up = true};
    REQUIRE(s && tern_stack_add_iface(s, r->dev, &ic) >= 0);
    tern_loop_run(l, W_T0 + 1000); /* the announcement */
    uint8_t f[64];
    static const uint8_t zero[6];
    size_t n = w_arp_frame(f, TERN_ARP_REQUEST, w_mac_bcast, w_mac_peer, W_PEER, zero, W_US);
    tern_device_deliver(r->dev, f, n); /* learns the peer, replies */
    int before = r->sends;
    struct tern_ip_out o = {.dst = W_PEER};
    CHECK_EQ(tern_echo_send(s, &o, 77, 1, (const uint8_t *)"ping", 4), 0);
    REQUIRE_EQ(r->sends, before + 1);
    CHECK(r->intact);
    /* Nothing ran inside the send: no output nested in it. */
    CHECK_EQ(r->max_depth, 1);
    CHECK_EQ(tern_stack_stats(s)->icmp.echo_replies_tx, 0);
    tern_loop_run(l, tern_loop_now(l) + 1000);
    /* Next turn: the echo reply and the port unreachable both left. */
    REQUIRE_EQ(r->sends, before + 3);
    CHECK_EQ(r->max_depth, 1);
    CHECK_EQ(tern_stack_stats(s)->icmp.echo_replies_tx, 1);
    CHECK_EQ(tern_stack_stats(s)->icmp.errors_tx, 1);
    const uint8_t *e = r->f[before + 1];
    CHECK_EQ(e[14 + 9], TERN_IPPROTO_ICMP);
    CHECK_EQ(e[34], TERN_ICMP_ECHOREPLY);
    CHECK_MEM(e + 42, "abcd", 4);
    e = r->f[before + 2];
    CHECK_EQ(e[34], TERN_ICMP_UNREACH);
    CHECK_EQ(e[35], TERN_ICMP_UNREACH_PORT);
    CHECK_EQ(tern_get32(e + 14 + 16), W_PEER);
    tern_stack_free(s);
    tern_device_destroy(r->dev);
    tern_loop_destroy(l);
    free(r);
}
