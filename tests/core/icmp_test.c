/*
 * tests/core/icmp_test.c - state tests for src/core/icmp.c: echo replies,
 * errors we send and refuse to send (ATTACKS 16, 20), errors we receive
 * (ATTACKS 17-19, 21), echo endpoints (G4).
 * Known answers from scapy (US = "02:00:00:00:00:01", PEER =
 * "02:00:00:00:00:02").
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/eth.h"
#include "tern/wire/icmp.h"
#include "world.h"

/* scapy: Ether(dst=US, src=PEER)/IP(src="10.0.0.2", dst="10.0.0.1", id=7, ttl=64)/ICMP(type=8, id=0x1234, seq=1)/Raw(b"abcdefgh"*4) */
static const uint8_t k_echo_req[74] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x07, 0x00, 0x00, 0x40, 0x01,
    0x66, 0xb8, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x9f, 0x74, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x61, 0x62,
    0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68,
};
/* scapy: Ether(dst=PEER, src=US)/IP(src="10.0.0.1", dst="10.0.0.2", id=0, ttl=64)/ICMP(type=0, id=0x1234, seq=1)/Raw(b"abcdefgh"*4) */
static const uint8_t k_echo_reply[74] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
    0x66, 0xbf, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00,
    0xa7, 0x74, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x61, 0x62,
    0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68,
};

static const struct tern_stats *st(struct world *w)
{
    return tern_stack_stats(w->s);
}

/* ICMP message from `from` to us. */
static void inject_icmp(struct world *w, uint32_t from, const uint8_t *icmp, size_t len)
{
    uint8_t *f = malloc(14 + 20 + len);
    struct tern_ipv4_repr ip = w_ip(from, W_US, TERN_IPPROTO_ICMP, 11);
    size_t n = w_ip_frame(f, &ip, icmp, len);
    world_inject(w, f, n);
    free(f);
}

/* The first bytes of a datagram we sent: header (src us) + 8+ bytes of l4. */
static size_t our_dgram(uint8_t *buf, uint32_t dst, uint8_t proto, const uint8_t *l4, size_t l4len)
{
    struct tern_ipv4_repr ip = w_ip(W_US, dst, proto, 0x1111);
    ip.payload_len = (uint16_t)l4len;
    int h = tern_ipv4_emit(&ip, buf, 60);
    memcpy(buf + h, l4, l4len);
    return (size_t)h + l4len;
}

TEST(core_icmp_echo_reply_exact)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint16_t id = ip_peek_id(w->s, W_US, W_PEER, TERN_IPPROTO_ICMP);
    world_inject(w, k_echo_req, sizeof k_echo_req);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    CHECK(w_frame_eq_id(f, n, k_echo_reply, sizeof k_echo_reply, id));
    CHECK_EQ(st(w)->icmp.echo_requests, 1);
    CHECK_EQ(st(w)->icmp.echo_replies_tx, 1);
    world_end(w);
}

TEST(attack_16_echo_shorter_than_header_dropped)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint8_t m[8];
    w_icmp(m, TERN_ICMP_ECHO, 0, 0x00010001, NULL, 0);
    for (size_t len = 0; len < 8; len++)
        inject_icmp(w, W_PEER, m, len);
    CHECK_EQ(st(w)->icmp.drop_short, 8);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(attack_16_echo_length_from_ip_not_frame)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    /* A 2-byte echo whose frame carries 40 bytes of junk after it: the
     * reply holds exactly the 2 bytes the IP total length covers. */
    uint8_t f[128];
    uint8_t m[16];
    size_t ml = w_icmp(m, TERN_ICMP_ECHO, 0, 0x00050006, (const uint8_t *)"ok", 2);
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, 1, 3);
    size_t n = w_ip_frame(f, &ip, m, ml);
    memset(f + n, 0x5a, 40);
    world_inject(w, f, n + 40);
    size_t rn;
    const uint8_t *r = world_pop(w, &rn);
    REQUIRE(r != NULL);
    CHECK_EQ(rn, 14 + 20 + 8 + 2);
    CHECK_EQ(tern_get16(r + 16), 20 + 8 + 2);
    CHECK_MEM(r + 42, "ok", 2);
    CHECK_EQ(tern_csum(r + 34, 10), 0);
    /* A bad checksum is dropped. */
    m[2] ^= 0xff;
    n = w_ip_frame(f, &ip, m, ml);
    world_inject(w, f, n);
    CHECK_EQ(st(w)->icmp.drop_csum, 1);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(attack_17_truncated_quote_ignored)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    w_proto_record(w, 17, log);
    uint8_t udp[8] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0, 0};
    uint8_t q[64], m[128];
    size_t ql = our_dgram(q, W_PEER, 17, udp, 8);
    for (size_t cut = 0; cut < 8; cut++) {
        /* Inner header + fewer than 8 transport bytes. */
        size_t ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PORT, 0, q, ql - 8 + cut);
        inject_icmp(w, W_PEER, m, ml);
    }
    /* Inner header cut short. */
    size_t ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PORT, 0, q, 12);
    inject_icmp(w, W_PEER, m, ml);
    CHECK_EQ(log->n_err, 0);
    CHECK_EQ(st(w)->icmp.errors_ignored, 9);
    /* The whole quote gets through. */
    ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PORT, 0, q, ql);
    inject_icmp(w, W_PEER, m, ml);
    CHECK_EQ(log->n_err, 1);
    CHECK_EQ(log->q.dport, 0x35);
    CHECK_EQ(world_pending(w), 0);
    free(log);
    world_end(w);
}

TEST(attack_18_tcp_quote_reaches_handler_intact)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    w_proto_record(w, TERN_IPPROTO_TCP, log);
    uint8_t tcp[20] = {0x9c, 0x40, 0x00, 0x50, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0x50, 0x02};
    uint8_t q[64], m[128];
    size_t ql = our_dgram(q, 0x08080808u, TERN_IPPROTO_TCP, tcp, 20);
    size_t ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_HOST, 0, q, ql);
    inject_icmp(w, 0x0a0000feu, m, ml);
    REQUIRE_EQ(log->n_err, 1);
    CHECK_EQ(log->type, TERN_ICMP_UNREACH);
    CHECK_EQ(log->code, TERN_ICMP_UNREACH_HOST);
    CHECK_EQ(log->q.tcp_seq, 0xdeadbeefu);
    CHECK_EQ(log->q.sport, 40000);
    CHECK_EQ(log->q.dport, 80);
    CHECK_EQ(log->q.ip.dst, 0x08080808u);
    CHECK_EQ(log->q.l4_len, 20);
    CHECK_MEM(log->quote_l4, tcp, 20);
    /* Nothing else happens: no reply, no other delivery. */
    CHECK_EQ(log->n_input, 0);
    CHECK_EQ(world_pending(w), 0);
    /* A quote of a datagram we could not have sent is not passed on. */
    uint8_t q2[64];
    struct tern_ipv4_repr ip = w_ip(W_OTHER, 0x08080808u, TERN_IPPROTO_TCP, 1);
    ip.payload_len = 20;
    tern_ipv4_emit(&ip, q2, 60);
    memcpy(q2 + 20, tcp, 20);
    ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_HOST, 0, q2, 40);
    inject_icmp(w, 0x0a0000feu, m, ml);
    CHECK_EQ(log->n_err, 1);
    CHECK_EQ(st(w)->icmp.errors_ignored, 1);
    free(log);
    world_end(w);
}

TEST(attack_19_needfrag_mtu_below_68_clamped)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    w_proto_record(w, TERN_IPPROTO_TCP, log);
    uint8_t tcp[20] = {0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1};
    uint8_t q[64], m[128];
    size_t ql = our_dgram(q, W_PEER, TERN_IPPROTO_TCP, tcp, 20);
    static const uint16_t in[] = {0, 1, 40, 67, 68, 576, 1400};
    static const uint16_t out[] = {68, 68, 68, 68, 68, 576, 1400};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        size_t ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_NEEDFRAG, in[i], q, ql);
        inject_icmp(w, W_PEER, m, ml);
        CHECK_EQ(log->n_err, (int)i + 1);
        CHECK_EQ(log->next_mtu, out[i]);
    }
    /* Echo endpoints see the clamped value too. */
    struct w_echo_log el = {0};
    int id = tern_echo_bind(w->s, 0x4321, w_echo_cb, &el);
    CHECK_EQ(id, 0x4321);
    uint8_t echo[8];
    w_icmp(echo, TERN_ICMP_ECHO, 0, 0x43210009, NULL, 0);
    ql = our_dgram(q, W_PEER, TERN_IPPROTO_ICMP, echo, 8);
    size_t ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_NEEDFRAG, 12, q, ql);
    inject_icmp(w, W_PEER, m, ml);
    REQUIRE_EQ(el.n, 1);
    CHECK(el.last.is_error);
    CHECK_EQ(el.last.next_mtu, 68);
    CHECK_EQ(el.last.seq, 9);
    CHECK_EQ(el.last.from, W_PEER);
    tern_echo_unbind(w->s, 0x4321);
    free(log);
    world_end(w);
}

TEST(attack_20_no_error_about_icmp_error_or_broadcast)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    /* An ICMP error that sits in reassembly until it times out: the time
     * exceeded would be an error about an error - not sent. */
    uint8_t m[64];
    uint8_t junk[24] = {0};
    size_t ml = w_icmp(m, TERN_ICMP_UNREACH, 1, 0, junk, sizeof junk);
    uint8_t f[128];
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_ICMP, 44);
    ip.mf = true;
    size_t n = w_ip_frame(f, &ip, m, 16);
    (void)ml;
    world_inject(w, f, n);
    world_run(w, 31000000);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(st(w)->ip.reasm_timeout, 1);
    world_learn_peer(w);
    /* Unknown protocol to our directed or the limited broadcast, or as a
     * link-layer broadcast: dropped without an error. */
    uint32_t dsts[2] = {W_BCAST, 0xffffffffu};
    for (int i = 0; i < 2; i++) {
        ip = w_ip(W_PEER, dsts[i], 253, 1);
        n = w_ip_frame(f, &ip, (const uint8_t *)"xxxx", 4);
        world_inject(w, f, n);
    }
    ip = w_ip(W_PEER, W_US, 253, 1);
    n = w_ip_frame(f, &ip, (const uint8_t *)"xxxx", 4);
    memcpy(f, w_mac_bcast, 6);
    world_inject(w, f, n);
    CHECK_EQ(st(w)->ip.drop_unknown_proto, 3);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(st(w)->icmp.errors_tx, 0);
    world_end(w);
}

TEST(attack_20_error_quotes_at_most_576_and_only_received_bytes)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint8_t *big = malloc(1400);
    for (int i = 0; i < 1400; i++)
        big[i] = (uint8_t)i;
    uint8_t *f = malloc(1500);
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, 253, 1);
    size_t n = w_ip_frame(f, &ip, big, 1400);
    world_inject(w, f, n);
    size_t rn;
    const uint8_t *r = world_pop(w, &rn);
    REQUIRE(r != NULL);
    CHECK_EQ(rn, 14 + 576);
    CHECK_EQ(tern_get16(r + 16), 576);
    CHECK_MEM(r + 42, f + 14, 576 - 28); /* the datagram's first 548 bytes */
    free(big);
    free(f);
    world_end(w);
}

TEST(attack_21_redirect_timestamp_mask_quench_ignored)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint8_t q[64], m[128];
    uint8_t udp[8] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0, 0};
    size_t ql = our_dgram(q, W_PEER, 17, udp, 8);
    size_t ml = w_icmp(m, TERN_ICMP_REDIRECT, 1, W_OTHER, q, ql);
    inject_icmp(w, W_PEER, m, ml);
    ml = w_icmp(m, TERN_ICMP_SOURCEQUENCH, 0, 0, q, ql);
    inject_icmp(w, W_PEER, m, ml);
    uint8_t ts[12] = {0};
    ml = w_icmp(m, TERN_ICMP_TSTAMP, 0, 0x00010001, ts, sizeof ts);
    inject_icmp(w, W_PEER, m, ml);
    uint8_t mask[4] = {0};
    ml = w_icmp(m, TERN_ICMP_MASKREQ, 0, 0x00010001, mask, sizeof mask);
    inject_icmp(w, W_PEER, m, ml);
    CHECK_EQ(st(w)->icmp.ignored_types, 4);
    CHECK_EQ(world_pending(w), 0);
    /* The redirect changed no route: traffic to W_PEER still goes direct. */
    uint32_t nh;
    int ifi;
    CHECK_EQ(tern_route_lookup(w->s, W_PEER, &nh, &ifi), 0);
    CHECK_EQ(nh, W_PEER);
    world_end(w);
}

TEST(core_echo_bind_random_id_and_only_bound_id_delivered)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct w_echo_log el = {0};
    int id = tern_echo_bind(w->s, 0, w_echo_cb, &el);
    REQUIRE(id > 0);
    CHECK_EQ(tern_echo_bind(w->s, (uint16_t)id, w_echo_cb, &el), TERN_E_INVAL);
    int id2 = tern_echo_bind(w->s, 0, w_echo_cb, &el);
    CHECK(id2 > 0 && id2 != id);
    tern_echo_unbind(w->s, (uint16_t)id2);
    /* A reply for another id: not ours (G4). */
    uint8_t m[32];
    size_t ml = w_icmp(m, TERN_ICMP_ECHOREPLY, 0, (uint32_t)(uint16_t)(id + 1) << 16 | 1,
                       (const uint8_t *)"data", 4);
    inject_icmp(w, W_PEER, m, ml);
    CHECK_EQ(el.n, 0);
    ml = w_icmp(m, TERN_ICMP_ECHOREPLY, 0, (uint32_t)id << 16 | 7, (const uint8_t *)"data", 4);
    inject_icmp(w, W_PEER, m, ml);
    REQUIRE_EQ(el.n, 1);
    CHECK(!el.last.is_error);
    CHECK_EQ(el.last.seq, 7);
    CHECK_EQ(el.last.len, 4);
    CHECK_MEM(el.data, "data", 4);
    CHECK_EQ(el.last.ttl, 64);
    CHECK_EQ(el.last.from, W_PEER);
    tern_echo_unbind(w->s, (uint16_t)id);
    ml = w_icmp(m, TERN_ICMP_ECHOREPLY, 0, (uint32_t)id << 16 | 8, (const uint8_t *)"data", 4);
    inject_icmp(w, W_PEER, m, ml);
    CHECK_EQ(el.n, 1);
    /* Two stacks with the same seed pick the same random id. */
    struct world *w2 = world_new(NULL);
    int id3 = tern_echo_bind(w2->s, 0, w_echo_cb, &el);
    CHECK_EQ(id3, id);
    tern_echo_unbind(w2->s, (uint16_t)id3);
    world_end(w2);
    world_end(w);
}

TEST(core_echo_send_exact_and_time_exceeded_to_owner)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct w_echo_log el = {0};
    int id = tern_echo_bind(w->s, 0x1234, w_echo_cb, &el);
    REQUIRE_EQ(id, 0x1234);
    /* The request is the scapy reply above with type 8 and swapped addresses. */
    struct tern_ip_out o = {.dst = W_PEER};
    uint16_t ipid = ip_peek_id(w->s, W_US, W_PEER, TERN_IPPROTO_ICMP);
    CHECK_EQ(tern_echo_send(w->s, &o, 0x1234, 1, (const uint8_t *)"abcdefghabcdefghabcdefghabcdefgh", 32), 0);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    REQUIRE_EQ(n, sizeof k_echo_req);
    CHECK_MEM(f, k_echo_req + 6, 6);   /* dst = peer */
    CHECK_MEM(f + 6, k_echo_req, 6);   /* src = us */
    CHECK_EQ(tern_get16(f + 18), ipid);
    CHECK_MEM(f + 34, k_echo_req + 34, sizeof k_echo_req - 34); /* ICMP identical */
    /* A router's time exceeded about it reaches the owner. */
    uint8_t m[128];
    size_t ml = w_icmp(m, TERN_ICMP_TIMXCEED, 0, 0, f + 14, 28);
    inject_icmp(w, 0x0a0000feu, m, ml);
    REQUIRE_EQ(el.n, 1);
    CHECK(el.last.is_error);
    CHECK_EQ(el.last.type, TERN_ICMP_TIMXCEED);
    CHECK_EQ(el.last.from, 0x0a0000feu);
    CHECK_EQ(el.last.seq, 1);
    tern_echo_unbind(w->s, 0x1234);
    world_end(w);
}

/* ---- ICMP error observers (tern_icmp_observe) ---- */

struct obs_log {
    int n;
    struct tern_icmp_event last; /* last.q points into q */
    struct tern_icmp_quote q;
    int handler_calls_seen;      /* the TCP handler's count when we ran */
    struct w_proto_log *plog;
    struct tern_stack *s;
    int self_handle;             /* >= 0: unobserve ourselves on the first call */
};

static void obs_cb(void *ctx, const struct tern_icmp_event *ev)
{
    struct obs_log *l = ctx;
    l->n++;
    l->last = *ev;
    l->q = *ev->q;
    l->last.q = &l->q;
    if (l->plog)
        l->handler_calls_seen = l->plog->n_err;
    if (l->self_handle >= 0) {
        tern_icmp_unobserve(l->s, l->self_handle);
        l->self_handle = -1;
    }
}

/* A UDP datagram sent with tern_ip_output (no socket, as traceroute
 * does): 8-byte header, checksum 0 (RFC 768: none computed). */
static const uint8_t *send_udp_probe(struct world *w, uint16_t dport, uint8_t ttl, size_t *n)
{
    uint8_t udp[12] = {0x80, 0x00, (uint8_t)(dport >> 8), (uint8_t)dport, 0, 12, 0, 0,
                       'p', 'r', 'o', 'b'};
    struct tern_ip_out o = {.dst = W_PEER, .proto = TERN_IPPROTO_UDP, .ttl = ttl};
    CHECK_EQ(tern_ip_output(w->s, &o, udp, sizeof udp), 0);
    const uint8_t *f = world_pop_ip(w, n);
    CHECK(f != NULL);
    if (f)
        CHECK_EQ(f[14 + 8], ttl);
    return f;
}

TEST(core_icmp_observer_sees_socketless_udp_errors)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct obs_log ol = {.self_handle = -1};
    int h = tern_icmp_observe(w->s, obs_cb, &ol);
    REQUIRE(h >= 0);
    /* Time exceeded from a router 10.0.0.254, quoting the probe's first 28
     * bytes (RFC 792: header + 64 bits). */
    size_t n;
    const uint8_t *f = send_udp_probe(w, 33434, 1, &n);
    REQUIRE(f != NULL);
    uint8_t dg[64], m[128];
    memcpy(dg, f + 14, 28);
    size_t ml = w_icmp(m, TERN_ICMP_TIMXCEED, TERN_ICMP_TIMXCEED_TTL, 0, dg, 28);
    inject_icmp(w, 0x0a0000feu, m, ml);
    REQUIRE_EQ(ol.n, 1);
    CHECK_EQ(ol.last.from, 0x0a0000feu);
    CHECK_EQ(ol.last.type, TERN_ICMP_TIMXCEED);
    CHECK_EQ(ol.last.code, TERN_ICMP_TIMXCEED_TTL);
    CHECK_EQ(ol.last.ttl, 64); /* w_ip's TTL on the error datagram */
    CHECK_EQ(ol.q.ip.proto, TERN_IPPROTO_UDP);
    CHECK_EQ(ol.q.ip.src, W_US);
    CHECK_EQ(ol.q.ip.dst, W_PEER);
    CHECK_EQ(ol.q.ip.ttl, 1);
    CHECK_EQ(ol.q.ip.id, tern_get16(f + 18));
    CHECK_EQ(ol.q.sport, 0x8000);
    CHECK_EQ(ol.q.dport, 33434);
    /* Port unreachable from the destination, quoting the whole probe. */
    f = send_udp_probe(w, 33435, 64, &n);
    REQUIRE(f != NULL);
    memcpy(dg, f + 14, 32);
    ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PORT, 0, dg, 32);
    inject_icmp(w, W_PEER, m, ml);
    REQUIRE_EQ(ol.n, 2);
    CHECK_EQ(ol.last.from, W_PEER);
    CHECK_EQ(ol.last.type, TERN_ICMP_UNREACH);
    CHECK_EQ(ol.last.code, TERN_ICMP_UNREACH_PORT);
    CHECK_EQ(ol.q.dport, 33435);
    CHECK_EQ(ol.q.l4_len, 12);
    /* Needfrag: the observer gets the clamped next-hop MTU like owners do. */
    ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_NEEDFRAG, 1200, dg, 32);
    inject_icmp(w, 0x0a0000feu, m, ml);
    REQUIRE_EQ(ol.n, 3);
    CHECK_EQ(ol.last.next_mtu, 1200);
    /* Not ours (quoted source is another host): nobody sees it. */
    dg[12 + 3] = 0x03; /* inner src 10.0.0.3 (checksum not verified in quotes) */
    ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PORT, 0, dg, 32);
    inject_icmp(w, W_PEER, m, ml);
    CHECK_EQ(ol.n, 3);
    /* Unobserved: no more calls. */
    tern_icmp_unobserve(w->s, h);
    dg[12 + 3] = 0x01;
    inject_icmp(w, W_PEER, m, w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PORT, 0, dg, 32));
    CHECK_EQ(ol.n, 3);
    CHECK_EQ(world_pending_ip(w), 0);
    world_end(w);
}

TEST(core_icmp_observer_after_owner_and_slots_bounded)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *plog = malloc(sizeof *plog);
    w_proto_record(w, TERN_IPPROTO_TCP, plog);
    struct obs_log ol[TERN_ICMP_OBSERVERS];
    int h[TERN_ICMP_OBSERVERS];
    for (int i = 0; i < TERN_ICMP_OBSERVERS; i++) {
        ol[i] = (struct obs_log){.plog = plog, .s = w->s, .self_handle = -1};
        h[i] = tern_icmp_observe(w->s, obs_cb, &ol[i]);
        CHECK_EQ(h[i], i);
    }
    struct obs_log extra = {.self_handle = -1};
    CHECK_EQ(tern_icmp_observe(w->s, obs_cb, &extra), TERN_E_NOMEM);
    CHECK_EQ(tern_icmp_observe(w->s, NULL, &extra), TERN_E_INVAL);
    /* Observer 1 removes itself from inside its first call. */
    ol[1].self_handle = h[1];
    uint8_t tcp[20] = {0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1};
    uint8_t q[64], m[128];
    size_t ql = our_dgram(q, 0x08080808u, TERN_IPPROTO_TCP, tcp, 20);
    size_t ml = w_icmp(m, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_HOST, 0, q, ql);
    inject_icmp(w, 0x0a0000feu, m, ml);
    REQUIRE_EQ(plog->n_err, 1);
    for (int i = 0; i < TERN_ICMP_OBSERVERS; i++) {
        CHECK_EQ(ol[i].n, 1);
        CHECK_EQ(ol[i].handler_calls_seen, 1); /* the owner ran first */
        CHECK_EQ(ol[i].q.tcp_seq, 1);
    }
    inject_icmp(w, 0x0a0000feu, m, ml);
    CHECK_EQ(ol[0].n, 2);
    CHECK_EQ(ol[1].n, 1);
    CHECK_EQ(ol[3].n, 2);
    /* The freed slot is taken again; unobserve of a bad handle is harmless. */
    CHECK_EQ(tern_icmp_observe(w->s, obs_cb, &extra), h[1]);
    tern_icmp_unobserve(w->s, -1);
    tern_icmp_unobserve(w->s, TERN_ICMP_OBSERVERS);
    inject_icmp(w, 0x0a0000feu, m, ml);
    CHECK_EQ(extra.n, 1);
    CHECK_EQ(ol[0].n, 3);
    for (int i = 0; i < TERN_ICMP_OBSERVERS; i++)
        tern_icmp_unobserve(w->s, h[i]);
    free(plog);
    world_end(w);
}

TEST(core_icmp_observer_sees_local_host_unreachable)
{
    /* A socketless UDP datagram to 10.0.0.3, which never answers ARP: when
     * the stack gives up (3 requests, 1 + 2 + 4 s by the defaults), the
     * observer hears "host unreachable" from our own address, as Linux
     * reports a local EHOSTUNREACH to traceroute. */
    struct world *w = world_new(NULL);
    struct obs_log ol = {.self_handle = -1};
    int h = tern_icmp_observe(w->s, obs_cb, &ol);
    REQUIRE(h >= 0);
    uint8_t udp[12] = {0x80, 0x00, 0x82, 0x9a, 0, 12, 0, 0, 'p', 'r', 'o', 'b'};
    struct tern_ip_out o = {.dst = W_OTHER, .proto = TERN_IPPROTO_UDP, .ttl = 3};
    CHECK_EQ(tern_ip_output(w->s, &o, udp, sizeof udp), 0);
    world_run(w, 10000000);
    world_drain(w);
    REQUIRE_EQ(ol.n, 1);
    CHECK_EQ(ol.last.from, W_US);
    CHECK_EQ(ol.last.type, TERN_ICMP_UNREACH);
    CHECK_EQ(ol.last.code, TERN_ICMP_UNREACH_HOST);
    CHECK_EQ(ol.q.ip.dst, W_OTHER);
    CHECK_EQ(ol.q.ip.ttl, 3);
    CHECK_EQ(ol.q.dport, 33434);
    tern_icmp_unobserve(w->s, h);
    world_end(w);
}
