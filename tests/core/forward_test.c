/*
 * tests/core/forward_test.c - IPv4 forwarding (src/core/forward.c) over a
 * line of stacks (tests/common/chain.h) in virtual time: ping through two
 * routers, time exceeded, net and host unreachable, fragmentation for a
 * smaller link, DF and "fragmentation needed" feeding the RFC 1191 cache,
 * TCP path MTU discovery end to end, and the link queue of the impairment
 * wrapper (drop-tail in bytes, scripted drops, its statistics).
 * A state test on one stack checks the forwarded bytes exactly (TTL and
 * RFC 1624 checksum against a full recomputation, options kept) and what
 * is never forwarded. Expected values come from the RFCs and arithmetic
 * written out here.
 */
#include <string.h>

#include "common/chain.h"
#include "harness.h"
#include "tern/wire/arp.h"
#include "tern/wire/eth.h"
#include "tern/wire/icmp.h"
#include "world.h"

struct ev_log {
    int replies, errors;
    struct tern_echo_event last;
    size_t len;
    uint8_t data[2048];
    /* from the ICMP observer */
    int observed;
    uint32_t q_dst, q_src;
    uint8_t q_ttl, q_proto;
    uint16_t q_id, q_seq;
};

static void on_echo(void *ctx, const struct tern_echo_event *ev)
{
    struct ev_log *l = ctx;
    l->last = *ev;
    if (ev->is_error) {
        l->errors++;
    } else {
        l->replies++;
        l->len = ev->len < sizeof l->data ? ev->len : sizeof l->data;
        memcpy(l->data, ev->data, l->len);
    }
    l->last.data = NULL;
}

static void on_icmp(void *ctx, const struct tern_icmp_event *ev)
{
    struct ev_log *l = ctx;
    l->observed++;
    l->q_dst = ev->q->ip.dst;
    l->q_src = ev->q->ip.src;
    l->q_ttl = ev->q->ip.ttl;
    l->q_proto = ev->q->ip.proto;
    l->q_id = ev->q->sport;
    l->q_seq = ev->q->dport;
}

/* One echo request from A to B (payload len bytes of a pattern). */
static void ping_b(struct chain *c, struct ev_log *l, int id, uint16_t seq, size_t len,
                   uint8_t ttl, bool df)
{
    static uint8_t pat[2048];
    for (size_t i = 0; i < len; i++)
        pat[i] = (uint8_t)(i * 7 + 3);
    struct tern_ip_out o = {.dst = chain_b_addr(c), .ttl = ttl, .df = df};
    CHECK_EQ(tern_echo_send(chain_a(c), &o, (uint16_t)id, seq, pat, len), 0);
    (void)l;
}

static const struct tern_stats *st(struct chain *c, int node)
{
    return tern_stack_stats(c->node[node]);
}

TEST(fwd_ping_through_two_routers)
{
    struct chain c;
    REQUIRE(chain_open(&c, 2, NULL) == 0);
    struct ev_log l = {0};
    int id = tern_echo_bind(chain_a(&c), 0, on_echo, &l);
    REQUIRE(id > 0);
    ping_b(&c, &l, id, 1, 56, 0, false);
    chain_run(&c, 1000000);
    CHECK_EQ(l.replies, 1);
    CHECK_EQ(l.last.from, CHAIN_ADDR(2, 2));
    CHECK_EQ(l.last.ttl, 64 - 2); /* B's reply crossed two routers */
    CHECK_EQ(l.len, 56);
    /* Each router forwarded the request and the reply. */
    CHECK_EQ(st(&c, 1)->ip.forwarded, 2);
    CHECK_EQ(st(&c, 2)->ip.forwarded, 2);
    CHECK_EQ(st(&c, 1)->ip.delivered, 0);
    tern_echo_unbind(chain_a(&c), (uint16_t)id);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(fwd_ttl_exceeded_names_each_hop_and_quotes_the_probe)
{
    struct chain c;
    REQUIRE(chain_open(&c, 2, NULL) == 0);
    struct ev_log l = {0};
    int id = tern_echo_bind(chain_a(&c), 0, on_echo, &l);
    int h = tern_icmp_observe(chain_a(&c), on_icmp, &l);
    REQUIRE(id > 0 && h >= 0);
    ping_b(&c, &l, id, 7, 32, 1, false);
    chain_run(&c, 1000000);
    /* RFC 1812 s5.3.1: R1 drops TTL 1 and sends time exceeded, code 0,
     * from the interface toward A (RFC 1812 s4.3.2.4). */
    CHECK_EQ(l.errors, 1);
    CHECK_EQ(l.last.from, CHAIN_ADDR(0, 2));
    CHECK_EQ(l.last.type, TERN_ICMP_TIMXCEED);
    CHECK_EQ(l.last.code, 0);
    CHECK_EQ(l.observed, 1);
    CHECK_EQ(l.q_src, CHAIN_ADDR(0, 1));
    CHECK_EQ(l.q_dst, CHAIN_ADDR(2, 2));
    CHECK_EQ(l.q_ttl, 1); /* the probe as it arrived */
    CHECK_EQ(l.q_proto, TERN_IPPROTO_ICMP);
    CHECK_EQ(l.q_id, id);
    CHECK_EQ(l.q_seq, 7);
    CHECK_EQ(st(&c, 1)->ip.drop_ttl, 1);
    /* TTL 2 passes R1 (leaving with 1) and expires at R2. */
    ping_b(&c, &l, id, 8, 32, 2, false);
    chain_run(&c, 1000000);
    CHECK_EQ(l.errors, 2);
    CHECK_EQ(l.last.from, CHAIN_ADDR(1, 2));
    CHECK_EQ(l.q_ttl, 1);
    CHECK_EQ(l.q_seq, 8);
    CHECK_EQ(st(&c, 2)->ip.drop_ttl, 1);
    CHECK_EQ(st(&c, 1)->ip.forwarded, 2); /* the probe and R2's error */
    tern_icmp_unobserve(chain_a(&c), h);
    tern_echo_unbind(chain_a(&c), (uint16_t)id);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(fwd_no_route_sends_net_unreachable)
{
    struct chain c;
    REQUIRE(chain_open(&c, 2, NULL) == 0);
    CHECK_EQ(tern_route_del(c.node[1], CHAIN_ADDR(2, 0), 24), 0);
    struct ev_log l = {0};
    int id = tern_echo_bind(chain_a(&c), 0, on_echo, &l);
    ping_b(&c, &l, id, 1, 16, 0, false);
    chain_run(&c, 1000000);
    /* RFC 1812 s4.3.3.1: no route at all -> code 0. */
    CHECK_EQ(l.errors, 1);
    CHECK_EQ(l.last.from, CHAIN_ADDR(0, 2));
    CHECK_EQ(l.last.type, TERN_ICMP_UNREACH);
    CHECK_EQ(l.last.code, TERN_ICMP_UNREACH_NET);
    CHECK_EQ(st(&c, 1)->ip.fwd_no_route, 1);
    CHECK_EQ(st(&c, 1)->ip.forwarded, 0);
    tern_echo_unbind(chain_a(&c), (uint16_t)id);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(fwd_arp_failure_sends_host_unreachable)
{
    struct chain c;
    REQUIRE(chain_open(&c, 2, NULL) == 0);
    /* B goes silent: R2's ARP for it never gets an answer. */
    CHECK_EQ(tern_iface_set_up(chain_b(&c), c.link[2].ifindex[1], false), 0);
    struct ev_log l = {0};
    int id = tern_echo_bind(chain_a(&c), 0, on_echo, &l);
    ping_b(&c, &l, id, 1, 16, 0, false);
    chain_run(&c, 1000000);
    CHECK_EQ(l.errors, 0);
    /* 3 requests at 0, 1 s and 3 s (doubling), given up at 7 s. */
    chain_run(&c, 10000000);
    CHECK_EQ(l.errors, 1);
    CHECK_EQ(l.last.from, CHAIN_ADDR(1, 2)); /* R2, toward A */
    CHECK_EQ(l.last.type, TERN_ICMP_UNREACH);
    CHECK_EQ(l.last.code, TERN_ICMP_UNREACH_HOST); /* RFC 1812 s5.2.7.1 */
    CHECK_EQ(st(&c, 2)->arp.resolve_failures, 1);
    tern_echo_unbind(chain_a(&c), (uint16_t)id);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(fwd_fragments_for_a_576_link_and_far_host_reassembles)
{
    struct chain_opts o = {.seed = 3};
    o.link[1].mtu = 576;
    struct chain c;
    REQUIRE(chain_open(&c, 2, &o) == 0);
    struct ev_log l = {0};
    int id = tern_echo_bind(chain_a(&c), 0, on_echo, &l);
    ping_b(&c, &l, id, 1, 1400, 0, false);
    chain_run(&c, 1000000);
    CHECK_EQ(l.replies, 1);
    CHECK_EQ(l.len, 1400);
    int same = 1;
    for (size_t i = 0; i < 1400; i++)
        same &= l.data[i] == (uint8_t)(i * 7 + 3);
    CHECK(same);
    /* 8 + 1400 = 1408 ICMP bytes; a 576 MTU carries (576 - 20) / 8 * 8 =
     * 552 per fragment: 552 + 552 + 304 -> 3 fragments each way. */
    CHECK_EQ(st(&c, 1)->ip.fwd_fragmented, 1);
    CHECK_EQ(st(&c, 1)->ip.frag_tx, 3);
    CHECK_EQ(st(&c, 2)->ip.fwd_fragmented, 1);
    CHECK_EQ(st(&c, 2)->ip.frag_tx, 3);
    CHECK_EQ(st(&c, 3)->ip.reasm_ok, 1);
    CHECK_EQ(st(&c, 0)->ip.reasm_ok, 1);
    CHECK(c.link[1].meter[0]->max_len <= 576 + 14);
    CHECK(c.link[1].meter[1]->max_len <= 576 + 14);
    tern_echo_unbind(chain_a(&c), (uint16_t)id);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(fwd_df_too_big_sends_frag_needed_and_lowers_pmtu)
{
    struct chain_opts o = {.seed = 4};
    o.link[1].mtu = 576;
    struct chain c;
    REQUIRE(chain_open(&c, 2, &o) == 0);
    CHECK_EQ(tern_pmtu_get(chain_a(&c), chain_b_addr(&c)), 1500);
    struct ev_log l = {0};
    int id = tern_echo_bind(chain_a(&c), 0, on_echo, &l);
    ping_b(&c, &l, id, 1, 1000, 0, true);
    chain_run(&c, 1000000);
    /* RFC 1191 s4: code 4 with the next hop's MTU, from R1. */
    CHECK_EQ(l.replies, 0);
    CHECK_EQ(l.errors, 1);
    CHECK_EQ(l.last.from, CHAIN_ADDR(0, 2));
    CHECK_EQ(l.last.type, TERN_ICMP_UNREACH);
    CHECK_EQ(l.last.code, TERN_ICMP_UNREACH_NEEDFRAG);
    CHECK_EQ(l.last.next_mtu, 576);
    CHECK_EQ(st(&c, 1)->ip.fwd_needfrag, 1);
    CHECK_EQ(st(&c, 1)->ip.frag_tx, 0);
    CHECK_EQ(tern_pmtu_get(chain_a(&c), chain_b_addr(&c)), 576);
    /* Other destinations keep the route's MTU. */
    CHECK_EQ(tern_pmtu_get(chain_a(&c), CHAIN_ADDR(1, 2)), 1500);
    /* Sized for the path, the same ping passes with DF. */
    ping_b(&c, &l, id, 2, 576 - 28, 0, true);
    chain_run(&c, 1000000);
    CHECK_EQ(l.replies, 1);
    tern_echo_unbind(chain_a(&c), (uint16_t)id);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(fwd_tcp_finds_1280_path_mtu_end_to_end)
{
    struct chain_opts o = {.seed = 5};
    o.link[1].mtu = 1280;
    struct chain c;
    REQUIRE(chain_open(&c, 2, &o) == 0);
    struct chain_xfer x;
    CHECK_EQ(chain_tcp_transfer(&c, chain_a(&c), chain_b(&c), chain_b_addr(&c), 80, 300000,
                                60000000, &x), 0);
    CHECK(x.hash_ok);
    CHECK_EQ(x.got, 300000);
    /* DF on every segment, so R1 never fragments: it says "fragmentation
     * needed" and A's TCP and PMTU cache shrink to 1280. */
    CHECK_EQ(st(&c, 1)->ip.fwd_fragmented, 0);
    CHECK(st(&c, 1)->ip.fwd_needfrag >= 1);
    CHECK_EQ(tern_pmtu_get(chain_a(&c), chain_b_addr(&c)), 1280);
    CHECK(x.mss <= 1280 - 40);
    CHECK(c.link[1].meter[0]->max_len <= 1280 + 14);
    CHECK(c.link[1].meter[0]->ip_frames > 200); /* the data did cross there */
    /* A second connection starts from the cached PMTU: no new ICMP. */
    uint64_t nf = st(&c, 1)->ip.fwd_needfrag;
    CHECK_EQ(chain_tcp_transfer(&c, chain_a(&c), chain_b(&c), chain_b_addr(&c), 81, 100000,
                                60000000, &x), 0);
    CHECK(x.hash_ok);
    CHECK_EQ(st(&c, 1)->ip.fwd_needfrag, nf);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(fwd_queue_overflow_drops_and_tcp_still_completes)
{
    /* R1's link toward R2: 2 Mb/s with an 8000-byte drop-tail queue (about
     * five full frames); A's link is unlimited, so R1's queue overflows. */
    struct tern_impair q = {.rate_bps = 2000000, .queue_bytes = 8000, .delay_us = 5000};
    struct chain_opts o = {.seed = 6};
    o.link[1].imp = &q;
    struct chain c;
    REQUIRE(chain_open(&c, 2, &o) == 0);
    struct chain_xfer x;
    CHECK_EQ(chain_tcp_transfer(&c, chain_a(&c), chain_b(&c), chain_b_addr(&c), 80, 400000,
                                600000000, &x), 0);
    CHECK(x.hash_ok);
    CHECK_EQ(x.got, 400000);
    struct tern_impair_stats is;
    tern_impair_get_stats(c.link[1].imp[0], &is);
    CHECK(is.queue_drops > 0);
    CHECK_EQ(is.lost, 0);
    CHECK_EQ(is.scripted, 0);
    CHECK(x.retransmits > 0);
    /* The goodput cannot beat the link: 400000 bytes need >= 1.6 s. */
    CHECK(x.elapsed_us >= 1600000);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

/* --- the impairment wrapper as a link queue (src/dev/impair.c) --- */

struct sink {
    int n;
    size_t len[64];
};

static int sink_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct sink *k = ctx;
    (void)frame;
    if (k->n < 64)
        k->len[k->n] = len;
    k->n++;
    return 0;
}

TEST(fwd_impair_queue_bytes_drop_tail_with_rate)
{
    struct tern_loop *loop = tern_loop_virtual_new(0);
    struct sink k = {0};
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
    struct tern_device *inner = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, sink_send, &k);
    /* 8 Mb/s: a 1000-byte frame takes 1000 us. Queue 3000 bytes: the 1st
     * frame goes at once (backlog 0), the 2nd sees 1000 bytes pending, the
     * 3rd 2000; the 4th would make 4000 > 3000 and is dropped, as are the
     * rest sent in the same instant. */
    struct tern_impair cfg = {.rate_bps = 8000000, .queue_bytes = 3000, .seed = 1};
    struct tern_device *d = tern_impair_wrap(loop, inner, &cfg);
    REQUIRE(d != NULL);
    static uint8_t f[1000];
    int ok = 0;
    for (int i = 0; i < 10; i++)
        ok += tern_device_send(d, f, sizeof f) == 0;
    CHECK_EQ(ok, 3);
    struct tern_impair_stats s;
    tern_impair_get_stats(d, &s);
    CHECK_EQ(s.frames, 10);
    CHECK_EQ(s.queue_drops, 7);
    tern_loop_run(loop, 10000);
    CHECK_EQ(k.n, 3);
    /* 1500 us later the queue has drained by 1500 bytes: 1 more fits... */
    CHECK_EQ(tern_device_send(d, f, sizeof f), 0);
    tern_impair_get_stats(d, &s);
    CHECK_EQ(s.queue_drops, 7);
    /* Not an impairment wrapper: zeros. */
    tern_impair_get_stats(inner, &s);
    CHECK_EQ(s.frames, 0);
    tern_device_destroy(d);
    tern_loop_destroy(loop);
}

TEST(fwd_impair_scripted_drops_and_stats)
{
    struct tern_loop *loop = tern_loop_virtual_new(0);
    struct sink k = {0};
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
    struct tern_device *inner = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, sink_send, &k);
    struct tern_impair cfg = {.drop_at = {3, 5, 12}, .seed = 2};
    struct tern_device *d = tern_impair_wrap(loop, inner, &cfg);
    REQUIRE(d != NULL);
    for (size_t i = 1; i <= 10; i++) {
        uint8_t f[64];
        CHECK_EQ(tern_device_send(d, f, 20 + i), 0); /* a drop looks like a send */
    }
    tern_loop_run(loop, 1000);
    /* Frames 3 and 5 are gone (12 never came); the rest in order. */
    CHECK_EQ(k.n, 8);
    size_t want[8] = {21, 22, 24, 26, 27, 28, 29, 30};
    for (int i = 0; i < 8; i++)
        CHECK_EQ(k.len[i], want[i]);
    struct tern_impair_stats s;
    tern_impair_get_stats(d, &s);
    CHECK_EQ(s.frames, 10);
    CHECK_EQ(s.scripted, 2);
    CHECK_EQ(s.lost + s.queue_drops + s.duplicated + s.corrupted + s.reordered, 0);
    CHECK_EQ(d->stats.tx_dropped, 2);
    tern_device_destroy(d);
    tern_loop_destroy(loop);
}

/* --- one forwarding stack on the state world (exact bytes) --- */

/* peer -> dst datagram with a Router Alert option (RFC 2113: type 148,
 * copied) and 100 bytes of payload, as a frame to us (eth dst patched). */
static size_t fwd_frame(uint8_t *buf, uint32_t dst, uint8_t ttl, uint16_t id, bool bcast,
                        struct tern_ipv4_repr *ip)
{
    static const uint8_t ra[4] = {0x94, 4, 0, 0};
    static uint8_t pay[100];
    for (size_t i = 0; i < sizeof pay; i++)
        pay[i] = (uint8_t)i;
    *ip = w_ip(W_PEER, dst, 253, id);
    ip->ttl = ttl;
    ip->opts = ra;
    ip->opts_len = 4;
    size_t n = w_ip_frame(buf, ip, pay, sizeof pay);
    if (bcast)
        memset(buf, 0xff, 6);
    return n;
}

TEST(fwd_state_ttl_and_incremental_checksum_exact)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.ip_forward = true;
    struct world *w = world_new(&cfg);
    /* W_OTHER asks for us: we learn its MAC (RFC 826 merge). */
    uint8_t f[256], want[256], hdr[64];
    static const uint8_t zero[6];
    size_t n = w_arp_frame(f, TERN_ARP_REQUEST, w_mac_bcast, w_mac_other, W_OTHER, zero, W_US);
    world_inject(w, f, n);
    world_drain(w);
    /* Every IP ID: the checksum after the decrement takes every value,
     * among them the 0x0000/0xffff corner RFC 1624 s3 is about (where
     * RFC 1141's update differed from a recomputation). */
    int corner = 0;
    for (uint32_t id = 0; id < 65536; id++) {
        struct tern_ipv4_repr ip;
        n = fwd_frame(f, W_OTHER, 64, (uint16_t)id, false, &ip);
        world_inject(w, f, n);
        size_t glen;
        const uint8_t *got = world_pop_ip(w, &glen);
        REQUIRE(got != NULL);
        /* Expected: the same header with TTL 63, checksum recomputed in
         * full by the codec, the same payload; to W_OTHER's MAC. */
        ip.ttl = 63;
        ip.payload_len = 100;
        int h = tern_ipv4_emit(&ip, hdr, sizeof hdr);
        REQUIRE(h == 24);
        uint8_t dgram[124];
        memcpy(dgram, hdr, 24);
        memcpy(dgram + 24, f + 14 + 24, 100);
        size_t wl = w_eth(want, w_mac_other, w_mac_us, TERN_ETHERTYPE_IPV4, dgram, sizeof dgram);
        CHECK(w_frame_eq(got, glen, want, wl));
        corner += (hdr[10] == 0 && hdr[11] == 0) || (hdr[10] == 0xff && hdr[11] == 0xff);
    }
    CHECK(corner > 0);
    CHECK_EQ(tern_stack_stats(w->s)->ip.forwarded, 65536);
    world_end(w);
}

TEST(fwd_state_never_forwarded)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.ip_forward = true;
    struct world *w = world_new(&cfg);
    uint8_t f[256];
    struct tern_ipv4_repr ip;
    const struct tern_stats *s = tern_stack_stats(w->s);
    /* RFC 1812 s5.3.4: arrived as a link-layer broadcast. */
    world_inject(w, f, fwd_frame(f, W_OTHER, 64, 1, true, &ip));
    CHECK_EQ(s->ip.drop_not_for_us, 1);
    /* s5.3.7 martian destinations; RFC 3927 s7 link-local. */
    world_inject(w, f, fwd_frame(f, 0x7f000001u, 64, 2, false, &ip));
    world_inject(w, f, fwd_frame(f, 0xa9fe0101u, 64, 3, false, &ip));
    world_inject(w, f, fwd_frame(f, 0xf0000001u, 64, 4, false, &ip));
    world_inject(w, f, fwd_frame(f, 0x00000005u, 64, 5, false, &ip));
    CHECK_EQ(s->ip.drop_martian, 4);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(s->ip.forwarded, 0);
    world_end(w);
    /* A host (ip_forward off) drops what is not for it. */
    w = world_new(NULL);
    s = tern_stack_stats(w->s);
    world_inject(w, f, fwd_frame(f, W_OTHER, 64, 6, false, &ip));
    CHECK_EQ(s->ip.drop_not_for_us, 1);
    CHECK_EQ(world_pending_ip(w), 0);
    world_end(w);
}
