/*
 * tests/core/ipv4_test.c - state tests for IPv4 input and output
 * (src/core/ipv4_in.c, ipv4_out.c): ATTACKS 5-9 at the stack level,
 * reassembly through tern_device_deliver (ATTACKS 10, 11, 14, 15), IP IDs
 * (ATTACKS 39), fragmentation and DF, raw-IP interfaces, gateways.
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

/* scapy: Ether(dst=US, src=PEER)/IP(src="10.0.0.2", dst="10.0.0.1", id=9, ttl=64, proto=253)/Raw(b"x"*10) */
static const uint8_t k_proto253[44] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x1e, 0x00, 0x09, 0x00, 0x00, 0x40, 0xfd,
    0x65, 0xd8, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x78, 0x78,
    0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
};
/* scapy: Ether(dst=PEER, src=US)/IP(src="10.0.0.1", dst="10.0.0.2", id=0, ttl=64, tos=0xc0)/ICMP(type=3, code=2)/raw(IP(src="10.0.0.2", dst="10.0.0.1", id=9, ttl=64, proto=253)/Raw(b"x"*10)) */
static const uint8_t k_proto_unreach[72] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x45, 0xc0, 0x00, 0x3a, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
    0x66, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x03, 0x02,
    0xa2, 0xa3, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x1e, 0x00, 0x09,
    0x00, 0x00, 0x40, 0xfd, 0x65, 0xd8, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
    0x00, 0x01, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
};
/* scapy: Ether(dst=US, src=PEER)/IP(src="10.0.0.2", dst="10.0.0.1", id=0x4242, flags="MF", ttl=64, proto=17)/Raw(bytes(range(16))) */
static const uint8_t k_frag1[50] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x24, 0x42, 0x42, 0x20, 0x00, 0x40, 0x11,
    0x04, 0x85, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
    0x0e, 0x0f,
};
/* scapy: Ether(dst=PEER, src=US)/IP(src="10.0.0.1", dst="10.0.0.2", id=0, ttl=64, tos=0xc0)/ICMP(type=11, code=1)/raw(IP(src="10.0.0.2", dst="10.0.0.1", id=0x4242, flags="MF", ttl=64, proto=17)/Raw(bytes(range(16))))[:28] */
static const uint8_t k_reasm_timxceed[70] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x45, 0xc0, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
    0x66, 0x03, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x0b, 0x01,
    0xe8, 0xee, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x24, 0x42, 0x42,
    0x20, 0x00, 0x40, 0x11, 0x04, 0x85, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
    0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
};

static const struct tern_stats *st(struct world *w)
{
    return tern_stack_stats(w->s);
}

/* An Ethernet frame peer -> us with raw IP header bytes patched by fn. */
static size_t raw_ip(uint8_t *f, uint8_t proto, size_t payload_len)
{
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, proto, 1);
    uint8_t pl[64] = {0};
    return w_ip_frame(f, &ip, pl, payload_len);
}

static void fix_csum(uint8_t *iph)
{
    size_t hl = (size_t)(iph[0] & 15) * 4;
    tern_put16(iph + 10, 0);
    tern_put16(iph + 10, tern_csum(iph, hl));
}

TEST(attack_05_ihl_below_5_dropped)
{
    struct world *w = world_new(NULL);
    uint8_t f[128];
    size_t n = raw_ip(f, 253, 20);
    f[14] = 0x44;
    fix_csum(f + 14);
    world_inject(w, f, n);
    CHECK_EQ(st(w)->ip.drop_len, 1);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(attack_05_ihl_beyond_frame_dropped)
{
    struct world *w = world_new(NULL);
    uint8_t f[128];
    size_t n = raw_ip(f, 253, 0);
    f[14] = 0x4f; /* 60-byte header in a 20-byte packet */
    world_inject(w, f, n);
    CHECK_EQ(st(w)->ip.drop_short, 1);
    world_inject(w, f, 14 + 19); /* shorter than any header */
    CHECK_EQ(st(w)->ip.drop_short, 2);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(attack_06_total_length_below_header_dropped)
{
    struct world *w = world_new(NULL);
    uint8_t f[128];
    size_t n = raw_ip(f, 253, 8);
    tern_put16(f + 14 + 2, 19);
    fix_csum(f + 14);
    world_inject(w, f, n);
    CHECK_EQ(st(w)->ip.drop_len, 1);
    CHECK_EQ(st(w)->ip.drop_unknown_proto, 0);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(attack_07_total_length_beyond_frame_dropped)
{
    struct world *w = world_new(NULL);
    uint8_t f[128];
    size_t n = raw_ip(f, 253, 8);
    tern_put16(f + 14 + 2, 29);
    fix_csum(f + 14);
    world_inject(w, f, n);
    CHECK_EQ(st(w)->ip.drop_len, 1);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

TEST(attack_07_padding_trimmed_for_every_layer)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    w_proto_record(w, 200, log);
    uint8_t f[128];
    size_t n = raw_ip(f, 200, 4);
    memcpy(f + 34, "abcd", 4);
    memset(f + n, 0xee, 60 - n); /* Ethernet padding up to 60 bytes */
    world_inject(w, f, 60);
    REQUIRE_EQ(log->n_input, 1);
    CHECK_EQ(log->len, 4);
    CHECK_EQ(log->ip.payload_len, 4);
    CHECK_MEM(log->payload, "abcd", 4);
    free(log);
    world_end(w);
}

static void inject_with_opts(struct world *w, const uint8_t *opts, size_t olen)
{
    uint8_t f[128];
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, 253, 1);
    ip.opts = opts;
    ip.opts_len = (uint8_t)olen;
    size_t n = w_ip_frame(f, &ip, (const uint8_t *)"xxxx", 4);
    world_inject(w, f, n);
}

TEST(attack_08_bad_options_dropped_never_quoted)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    static const uint8_t len0[4] = {0x07, 0x00, 0x00, 0x00};
    static const uint8_t len1[4] = {0x44, 0x01, 0x00, 0x00};
    static const uint8_t past[4] = {0x07, 0x09, 0x04, 0x00};
    inject_with_opts(w, len0, 4);
    inject_with_opts(w, len1, 4);
    inject_with_opts(w, past, 4);
    CHECK_EQ(st(w)->ip.drop_opt, 3);
    /* No protocol-unreachable carrying the bad options. */
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(st(w)->icmp.errors_tx, 0);
    /* Valid options (NOP NOP NOP EOL) are quoted as received. */
    static const uint8_t ok[4] = {0x01, 0x01, 0x01, 0x00};
    inject_with_opts(w, ok, 4);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK_EQ(n, 14 + 20 + 8 + 24 + 4);
    CHECK_MEM(f + 14 + 28 + 20, ok, 4);
    world_end(w);
}

TEST(attack_09_martian_sources_dropped)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    static const uint32_t bad[] = {0x00000000u, 0xffffffffu, W_BCAST, 0xe0000001u,
                                   0xf0000001u, 0x7f000001u, W_US, 0x00000005u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t f[128];
        struct tern_ipv4_repr ip = w_ip(bad[i], W_US, 253, 1);
        size_t n = w_ip_frame(f, &ip, (const uint8_t *)"xxxxxxxx", 8);
        world_inject(w, f, n);
    }
    CHECK_EQ(st(w)->ip.drop_martian, sizeof bad / sizeof bad[0]);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(st(w)->ip.drop_unknown_proto, 0);
    world_end(w);
}

TEST(attack_09_dhcp_client_zero_source_accepted)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    w_proto_record(w, 17, log);
    uint8_t udp[8] = {0, 68, 0, 67, 0, 8, 0, 0};
    uint8_t f[128];
    struct tern_ipv4_repr ip = w_ip(0, 0xffffffffu, 17, 1);
    size_t n = w_ip_frame(f, &ip, udp, 8);
    memcpy(f, w_mac_bcast, 6);
    world_inject(w, f, n);
    CHECK_EQ(log->n_input, 1);
    /* The same from port 69 is a martian. */
    f[14 + 20 + 1] = 69;
    world_inject(w, f, n);
    CHECK_EQ(log->n_input, 1);
    CHECK_EQ(st(w)->ip.drop_martian, 1);
    free(log);
    world_end(w);
}

TEST(attack_09_unknown_protocol_gets_protocol_unreachable)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint16_t id = ip_peek_id(w->s, W_US, W_PEER, TERN_IPPROTO_ICMP);
    world_inject(w, k_proto253, sizeof k_proto253);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    CHECK(w_frame_eq_id(f, n, k_proto_unreach, sizeof k_proto_unreach, id));
    CHECK_EQ(st(w)->ip.drop_unknown_proto, 1);
    CHECK_EQ(st(w)->icmp.errors_tx, 1);
    world_end(w);
}

TEST(attack_09_protocol_unreachable_rate_limited)
{
    struct world *w = world_new(NULL); /* 100/s, burst 50 */
    world_learn_peer(w);
    for (int i = 0; i < 80; i++)
        world_inject(w, k_proto253, sizeof k_proto253);
    CHECK_EQ(world_pending(w), 50);
    CHECK_EQ(st(w)->icmp.errors_rate_limited, 30);
    world_drain(w);
    world_run(w, 100000); /* 0.1 s: 10 tokens */
    for (int i = 0; i < 20; i++)
        world_inject(w, k_proto253, sizeof k_proto253);
    CHECK_EQ(world_pending(w), 10);
    world_end(w);
}

TEST(core_ipv4_not_for_us_bad_csum_bad_version)
{
    struct world *w = world_new(NULL);
    uint8_t f[128];
    struct tern_ipv4_repr ip = w_ip(W_PEER, 0x0a000009u, 253, 1);
    size_t n = w_ip_frame(f, &ip, (const uint8_t *)"xx", 2);
    world_inject(w, f, n);
    CHECK_EQ(st(w)->ip.drop_not_for_us, 1);
    n = raw_ip(f, 253, 4);
    f[14 + 10] ^= 1;
    world_inject(w, f, n);
    CHECK_EQ(st(w)->ip.drop_csum, 1);
    n = raw_ip(f, 253, 4);
    f[14] = 0x65;
    world_inject(w, f, n);
    CHECK_EQ(st(w)->ip.drop_version, 1);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(st(w)->ip.rx, 3);
    world_end(w);
}

TEST(core_ipv4_udp_without_handler_port_unreachable)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint8_t udp[12] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0, 0, 'd', 'a', 't', 'a'};
    uint8_t f[128];
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, 17, 1);
    size_t n = w_ip_frame(f, &ip, udp, sizeof udp);
    world_inject(w, f, n);
    size_t m;
    const uint8_t *r = world_pop(w, &m);
    REQUIRE(r != NULL);
    CHECK_EQ(m, 14 + 20 + 8 + 20 + 12);
    CHECK_EQ(r[34], TERN_ICMP_UNREACH);
    CHECK_EQ(r[35], TERN_ICMP_UNREACH_PORT);
    CHECK_MEM(r + 42, f + 14, 32); /* the whole datagram, as received */
    /* Sent to our directed broadcast: no error (RFC 1122 s3.2.2). */
    ip.dst = W_BCAST;
    n = w_ip_frame(f, &ip, udp, sizeof udp);
    world_inject(w, f, n);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

/* A fragment peer -> us: off in bytes. */
static void inject_frag(struct world *w, uint8_t proto, uint16_t id, uint16_t off, bool mf,
                        const uint8_t *data, size_t len)
{
    uint8_t *f = malloc(14 + 20 + len);
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, proto, id);
    ip.frag_off = off;
    ip.mf = mf;
    size_t n = w_ip_frame(f, &ip, data, len);
    world_inject(w, f, n);
    free(f);
}

TEST(core_ipv4_reassembled_datagram_delivered)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    w_proto_record(w, 200, log);
    uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    inject_frag(w, 200, 99, 1480, true, data + 1480, 1480);
    inject_frag(w, 200, 99, 0, true, data, 1480);
    CHECK_EQ(log->n_input, 0);
    inject_frag(w, 200, 99, 2960, false, data + 2960, 40);
    REQUIRE_EQ(log->n_input, 1);
    CHECK_EQ(log->len, 3000);
    CHECK_MEM(log->payload, data, 3000);
    CHECK_EQ(st(w)->ip.reasm_ok, 1);
    CHECK_EQ(st(w)->ip.frag_rx, 3);
    free(log);
    world_end(w);
}

TEST(attack_10_stack_fragment_past_65535_dropped)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    w_proto_record(w, 200, log);
    uint8_t data[64] = {0};
    inject_frag(w, 200, 5, 0, true, data, 64);
    inject_frag(w, 200, 5, 65528, false, data, 16); /* 65528 + 16 > 65535 */
    CHECK_EQ(log->n_input, 0);
    CHECK(st(w)->ip.reasm_drop >= 1);
    free(log);
    world_end(w);
}

TEST(attack_11_stack_overlapping_fragments_never_delivered)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    w_proto_record(w, 200, log);
    uint8_t a[64], b[64];
    memset(a, 'A', sizeof a);
    memset(b, 'B', sizeof b);
    inject_frag(w, 200, 6, 0, true, a, 64);
    inject_frag(w, 200, 6, 32, true, b, 64); /* overlaps 32..64 */
    inject_frag(w, 200, 6, 96, false, b, 8);
    inject_frag(w, 200, 6, 64, true, b, 32);
    CHECK_EQ(log->n_input, 0);
    CHECK(st(w)->ip.reasm_drop >= 1);
    free(log);
    world_end(w);
}

TEST(attack_14_stack_tiny_tcp_fragments_dropped)
{
    struct world *w = world_new(NULL);
    struct w_proto_log *log = malloc(sizeof *log);
    w_proto_record(w, TERN_IPPROTO_TCP, log);
    uint8_t d[64] = {0};
    /* RFC 1858 s3: a first fragment without the whole TCP header... */
    inject_frag(w, TERN_IPPROTO_TCP, 7, 0, true, d, 8);
    inject_frag(w, TERN_IPPROTO_TCP, 7, 8, false, d, 32);
    /* ...and a fragment at offset 8 rewriting the flags (RFC 3128). */
    inject_frag(w, TERN_IPPROTO_TCP, 8, 0, true, d, 24);
    inject_frag(w, TERN_IPPROTO_TCP, 8, 8, false, d, 24);
    CHECK_EQ(log->n_input, 0);
    CHECK(st(w)->ip.reasm_drop >= 2);
    free(log);
    world_end(w);
}

TEST(attack_15_stack_reassembly_timeout_sends_time_exceeded)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint16_t id = ip_peek_id(w->s, W_US, W_PEER, TERN_IPPROTO_ICMP);
    world_inject(w, k_frag1, sizeof k_frag1);
    world_run(w, 29999999);
    CHECK_EQ(world_pending(w), 0);
    world_run(w, 1);
    size_t n;
    const uint8_t *f = world_pop_ip(w, &n); /* after a revalidation ARP request */
    CHECK(w_frame_eq_id(f, n, k_reasm_timxceed, sizeof k_reasm_timxceed, id));
    CHECK_EQ(st(w)->ip.reasm_timeout, 1);
    world_end(w);
}

TEST(attack_15_stack_no_time_exceeded_without_first_fragment)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint8_t d[16] = {0};
    inject_frag(w, 17, 0x99, 16, true, d, 16);
    world_run(w, 31000000);
    CHECK_EQ(world_pending_ip(w), 0);
    CHECK_EQ(st(w)->ip.reasm_timeout, 1);
    world_end(w);
}

TEST(attack_15_stack_10000_incomplete_datagrams_bounded)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 9;
    struct world *w = world_new(&c);
    world_learn_peer(w);
    uint8_t d[256] = {0};
    for (int i = 0; i < 10000; i++) {
        inject_frag(w, 17, (uint16_t)i, 0, true, d, sizeof d);
        struct tern_stack_mem m;
        stack_mem_usage(w->s, &m);
        if (m.reasm_bytes > c.reasm_max_bytes || m.reasm_datagrams > c.reasm_max_datagrams) {
            CHECK(!"reassembly over its cap");
            break;
        }
    }
    CHECK_EQ(st(w)->ip.reasm_evicted, 10000 - c.reasm_max_datagrams);
    /* Evicted datagrams get no ICMP; the 64 left time out with one each,
     * minus what the rate limiter holds back (burst 50). */
    world_run(w, 31000000);
    CHECK_EQ(world_pending_ip(w), 50);
    CHECK_EQ(st(w)->icmp.errors_rate_limited, c.reasm_max_datagrams - 50);
    world_end(w);
}

TEST(core_ipv4_output_fragments_and_df)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint8_t *data = malloc(3000);
    for (int i = 0; i < 3000; i++)
        data[i] = (uint8_t)i;
    struct tern_ip_out o = {.dst = W_PEER, .proto = 200};
    uint16_t id = ip_peek_id(w->s, W_US, W_PEER, 200);
    CHECK_EQ(tern_ip_output(w->s, &o, data, 3000), 0);
    static const size_t sizes[3] = {1480, 1480, 40};
    for (int i = 0; i < 3; i++) {
        size_t n;
        const uint8_t *f = world_pop(w, &n);
        REQUIRE(f != NULL);
        struct tern_ipv4_repr ip;
        REQUIRE(tern_ipv4_parse(f + 14, n - 14, 0, &ip) == 20);
        CHECK_EQ(ip.id, id);
        CHECK_EQ(ip.frag_off, i * 1480);
        CHECK_EQ(ip.mf, i < 2);
        CHECK_EQ(ip.payload_len, sizes[i]);
        CHECK_MEM(f + 34, data + i * 1480, sizes[i]);
    }
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(st(w)->ip.frag_tx, 3);
    o.df = true;
    CHECK_EQ(tern_ip_output(w->s, &o, data, 3000), TERN_E_BAD_LEN);
    CHECK_EQ(st(w)->ip.drop_df_too_big, 1);
    CHECK_EQ(world_pending(w), 0);
    free(data);
    world_end(w);
}

TEST(attack_39_ip_id_not_one_global_counter)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint16_t a[4], b[4];
    for (int i = 0; i < 4; i++) {
        a[i] = ip_next_id(w->s, W_US, W_PEER, 17);
        b[i] = ip_next_id(w->s, W_US, 0x08080808u, 17);
    }
    /* Each flow counts on its own (RFC 6864 uniqueness per flow)... */
    for (int i = 1; i < 4; i++) {
        CHECK_EQ((uint16_t)(a[i] - a[i - 1]), 1);
        CHECK_EQ((uint16_t)(b[i] - b[i - 1]), 1);
    }
    /* ...and one flow's IDs say nothing about another's. */
    CHECK((uint16_t)(b[0] - a[0]) != 1);
    /* Another seed, other values. */
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 2;
    struct world *w2 = world_new(&c);
    CHECK(ip_peek_id(w2->s, W_US, W_PEER, 17) != a[3] + 1);
    world_end(w2);
    world_end(w);
}

TEST(core_ipv4_raw_ip_iface_echo)
{
    struct world *w = world_new_link(NULL, TERN_LINK_RAW_IP, 1500);
    CHECK_EQ(world_pending(w), 0); /* no ARP on raw IP */
    uint8_t icmp[16];
    size_t il = w_icmp(icmp, TERN_ICMP_ECHO, 0, 0x00010002, (const uint8_t *)"hi", 2);
    uint8_t f[128];
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, 1, 3);
    size_t n = w_ip_frame(f, &ip, icmp, il);
    world_inject(w, f + 14, n - 14);
    size_t m;
    const uint8_t *r = world_pop(w, &m);
    REQUIRE(r != NULL);
    CHECK_EQ(m, 20 + 8 + 2);
    CHECK_EQ(r[0], 0x45);
    CHECK_EQ(tern_get32(r + 16), W_PEER);
    CHECK_EQ(r[20], TERN_ICMP_ECHOREPLY);
    world_end(w);
}

TEST(core_ipv4_default_route_via_gateway)
{
    struct world *w = world_new(NULL);
    uint32_t gw = 0x0a0000feu;
    CHECK_EQ(tern_route_add(w->s, 0, 0, gw, w->ifindex), 0);
    struct tern_ip_out o = {.dst = 0x08080808u, .proto = 200};
    CHECK_EQ(tern_ip_output(w->s, &o, (const uint8_t *)"x", 1), 0);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK_EQ(tern_get16(f + 12), TERN_ETHERTYPE_ARP);
    CHECK_EQ(tern_get32(f + 14 + 24), gw); /* asks for the gateway */
    /* No route at all: an error, counted. */
    CHECK_EQ(tern_route_del(w->s, 0, 0), 0);
    CHECK(tern_ip_output(w->s, &o, (const uint8_t *)"x", 1) < 0);
    CHECK_EQ(st(w)->ip.drop_no_route, 1);
    world_end(w);
}
