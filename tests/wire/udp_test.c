/* Tests for src/wire/udp.c: scapy known answers both ways (payload and
 * checksum, checksum 0, computed 0 sent as 0xffff), ATTACKS 22, round trip. */
#include <stdlib.h>

#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/udp.h"

#define A_10_0_0_1 0x0a000001u
#define A_10_0_0_2 0x0a000002u

/* scapy: raw(IP(src="10.0.0.1", dst="10.0.0.2")/UDP(sport=40000, dport=53)/b"tern udp payload!")[20:] */
static const uint8_t udp_dns[25] = {
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x19, 0x72, 0xcd, 0x74, 0x65, 0x72, 0x6e,
    0x20, 0x75, 0x64, 0x70, 0x20, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64,
    0x21,
};

/* scapy: raw(IP(src="10.0.0.1", dst="10.0.0.2")/UDP(sport=68, dport=67, chksum=0)/b"no checksum")[20:] */
static const uint8_t udp_nocsum[19] = {
    0x00, 0x44, 0x00, 0x43, 0x00, 0x13, 0x00, 0x00, 0x6e, 0x6f, 0x20, 0x63,
    0x68, 0x65, 0x63, 0x6b, 0x73, 0x75, 0x6d,
};

/* scapy: raw(IP(src="10.0.0.1", dst="10.0.0.2")/UDP(sport=1234, dport=5678)/b"zero\xe3\xfa")[20:] */
static const uint8_t udp_ffff[14] = {
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0e, 0xff, 0xff, 0x7a, 0x65, 0x72, 0x6f,
    0xe3, 0xfa,
};

/* scapy: raw(IP(src="192.168.1.10", dst="192.168.1.255")/UDP(sport=9, dport=9))[20:] */
static const uint8_t udp_empty[8] = {
    0x00, 0x09, 0x00, 0x09, 0x00, 0x08, 0x7b, 0x72,
};

/* scapy: raw(IP(src="10.0.0.1", dst="10.0.0.2", id=2)/UDP(sport=7, dport=7)/b"echo"/Padding(load=b"\x00"*14)) */
static const uint8_t ip_udp_padded[46] = {
    0x45, 0x00, 0x00, 0x20, 0x00, 0x02, 0x00, 0x00, 0x40, 0x11, 0x66, 0xc9,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x07, 0x00, 0x07,
    0x00, 0x0c, 0x1d, 0xf3, 0x65, 0x63, 0x68, 0x6f, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* scapy: raw(IP(src="10.0.0.1", dst="10.0.0.2")/UDP(sport=7, dport=7)/b"echo")[20:] + b"junk!!" */
static const uint8_t udp_trailing[18] = {
    0x00, 0x07, 0x00, 0x07, 0x00, 0x0c, 0x1d, 0xf3, 0x65, 0x63, 0x68, 0x6f,
    0x6a, 0x75, 0x6e, 0x6b, 0x21, 0x21,
};

TEST(udp_parse_known_answer)
{
    struct tern_udp_repr r;
    REQUIRE_EQ(tern_udp_parse(udp_dns, sizeof udp_dns, A_10_0_0_1, A_10_0_0_2, 0, &r), 8);
    CHECK_EQ(r.sport, 40000);
    CHECK_EQ(r.dport, 53);
    CHECK_EQ(r.len, 25);
    CHECK_EQ(r.csum, 0x72cd);
    CHECK(r.payload == udp_dns + 8);
    CHECK_EQ(r.payload_len, 17);
    CHECK_MEM(r.payload, "tern udp payload!", 17);

    REQUIRE_EQ(tern_udp_parse(udp_empty, sizeof udp_empty, 0xc0a8010a, 0xc0a801ff, 0, &r), 8);
    CHECK_EQ(r.sport, 9);
    CHECK_EQ(r.payload_len, 0);
    CHECK_EQ(r.csum, 0x7b72);

    REQUIRE_EQ(tern_udp_parse(udp_ffff, sizeof udp_ffff, A_10_0_0_1, A_10_0_0_2, 0, &r), 8);
    CHECK_EQ(r.csum, 0xffff);
    CHECK_EQ(r.payload_len, 6);
}

TEST(udp_emit_known_answer)
{
    uint8_t buf[64];
    struct tern_udp_repr r = {.sport = 40000, .dport = 53, .len = 999, .csum = 0x1234,
                              .payload = (const uint8_t *)"tern udp payload!", .payload_len = 17};
    REQUIRE_EQ(tern_udp_emit(&r, A_10_0_0_1, A_10_0_0_2, buf, sizeof buf), 25);
    CHECK_MEM(buf, udp_dns, 25);
    for (size_t cap = 0; cap < 25; cap++)
        CHECK_EQ(tern_udp_emit(&r, A_10_0_0_1, A_10_0_0_2, buf, cap), TERN_E_NOSPC);

    struct tern_udp_repr e = {.sport = 9, .dport = 9};
    REQUIRE_EQ(tern_udp_emit(&e, 0xc0a8010a, 0xc0a801ff, buf, sizeof buf), 8);
    CHECK_MEM(buf, udp_empty, 8);
}

TEST(udp_emit_computed_zero_sent_as_ffff)
{
    /* RFC 768: a computed checksum of 0 goes on the wire as 0xffff. */
    uint8_t buf[64];
    struct tern_udp_repr r = {.sport = 1234, .dport = 5678,
                              .payload = (const uint8_t *)"zero\xe3\xfa", .payload_len = 6};
    REQUIRE_EQ(tern_udp_emit(&r, A_10_0_0_1, A_10_0_0_2, buf, sizeof buf), 14);
    CHECK_MEM(buf, udp_ffff, 14);
    CHECK_EQ(tern_get16(buf + 6), 0xffff);
}

TEST(udp_emit_payload_in_place)
{
    /* The payload already sits at buf + 8 (zero-copy send path). */
    uint8_t buf[64];
    memcpy(buf + 8, "tern udp payload!", 17);
    struct tern_udp_repr r = {.sport = 40000, .dport = 53, .payload = buf + 8, .payload_len = 17};
    REQUIRE_EQ(tern_udp_emit(&r, A_10_0_0_1, A_10_0_0_2, buf, sizeof buf), 25);
    CHECK_MEM(buf, udp_dns, 25);
    /* Overlapping the header area. */
    memcpy(buf + 3, "tern udp payload!", 17);
    r.payload = buf + 3;
    REQUIRE_EQ(tern_udp_emit(&r, A_10_0_0_1, A_10_0_0_2, buf, sizeof buf), 25);
    CHECK_MEM(buf, udp_dns, 25);
}

TEST(udp_emit_invalid)
{
    static uint8_t big[65536 + 16];
    struct tern_udp_repr r = {.sport = 1, .dport = 2, .payload = big, .payload_len = 65535 - 8};
    CHECK_EQ(tern_udp_emit(&r, 1, 2, big, sizeof big), 65535);
    struct tern_udp_repr p;
    CHECK_EQ(tern_udp_parse(big, 65535, 1, 2, 0, &p), 8);
    CHECK_EQ(p.payload_len, 65535 - 8);
    r.payload_len = 65535 - 7;
    CHECK_EQ(tern_udp_emit(&r, 1, 2, big, sizeof big), TERN_E_INVAL);
    r.payload = NULL;
    r.payload_len = 1;
    CHECK_EQ(tern_udp_emit(&r, 1, 2, big, sizeof big), TERN_E_INVAL);
}

TEST(udp_parse_short)
{
    for (size_t len = 0; len < 8; len++) {
        uint8_t *p = malloc(len ? len : 1);
        REQUIRE(p != NULL);
        memcpy(p, udp_dns, len);
        struct tern_udp_repr r;
        CHECK_EQ(tern_udp_parse(p, len, A_10_0_0_1, A_10_0_0_2, 0, &r), TERN_E_SHORT);
        CHECK_EQ(tern_udp_parse(p, len, A_10_0_0_1, A_10_0_0_2, TERN_WIRE_NO_CSUM, &r),
                 TERN_E_SHORT);
        free(p);
    }
}

TEST(attack_22_udp_len_below_8)
{
    uint8_t p[sizeof udp_nocsum];
    struct tern_udp_repr r;
    for (unsigned l = 0; l < 8; l++) {
        memcpy(p, udp_nocsum, sizeof p); /* checksum 0: only the length is at stake */
        tern_put16(p + 4, (uint16_t)l);
        CHECK_EQ(tern_udp_parse(p, sizeof p, A_10_0_0_1, A_10_0_0_2, 0, &r), TERN_E_BAD_LEN);
        CHECK_EQ(tern_udp_parse(p, sizeof p, A_10_0_0_1, A_10_0_0_2, TERN_WIRE_NO_CSUM, &r),
                 TERN_E_BAD_LEN);
    }
}

TEST(attack_22_udp_len_beyond_ip_payload)
{
    struct tern_udp_repr r;
    /* udp_dns says 25 bytes: every shorter IP payload from 8 up. */
    for (size_t len = 8; len < sizeof udp_dns; len++) {
        uint8_t *p = malloc(len);
        REQUIRE(p != NULL);
        memcpy(p, udp_dns, len);
        CHECK_EQ(tern_udp_parse(p, len, A_10_0_0_1, A_10_0_0_2, 0, &r), TERN_E_BAD_LEN);
        CHECK_EQ(tern_udp_parse(p, len, A_10_0_0_1, A_10_0_0_2, TERN_WIRE_NO_CSUM, &r),
                 TERN_E_BAD_LEN);
        free(p);
    }
    uint8_t q[sizeof udp_nocsum];
    memcpy(q, udp_nocsum, sizeof q);
    tern_put16(q + 4, 0xffff);
    CHECK_EQ(tern_udp_parse(q, sizeof q, A_10_0_0_1, A_10_0_0_2, 0, &r), TERN_E_BAD_LEN);
}

TEST(attack_22_udp_len_below_ip_payload_trimmed)
{
    /* Bytes after the UDP length are not data, and not checksummed. */
    struct tern_udp_repr r;
    REQUIRE_EQ(tern_udp_parse(udp_trailing, sizeof udp_trailing, A_10_0_0_1, A_10_0_0_2, 0, &r), 8);
    CHECK_EQ(r.len, 12);
    CHECK_EQ(r.payload_len, 4);
    CHECK_MEM(r.payload, "echo", 4);
    /* Through the IP layer: Ethernet padding trimmed by IPv4, then UDP. */
    struct tern_ipv4_repr ip;
    REQUIRE_EQ(tern_ipv4_parse(ip_udp_padded, sizeof ip_udp_padded, 0, &ip), 20);
    CHECK_EQ(ip.payload_len, 12);
    REQUIRE_EQ(tern_udp_parse(ip_udp_padded + 20, ip.payload_len, ip.src, ip.dst, 0, &r), 8);
    CHECK_EQ(r.payload_len, 4);
    CHECK_MEM(r.payload, "echo", 4);
}

TEST(attack_22_udp_checksum_zero_accepted)
{
    struct tern_udp_repr r;
    REQUIRE_EQ(tern_udp_parse(udp_nocsum, sizeof udp_nocsum, A_10_0_0_1, A_10_0_0_2, 0, &r), 8);
    CHECK_EQ(r.csum, 0);
    CHECK_EQ(r.sport, 68);
    CHECK_EQ(r.dport, 67);
    CHECK_EQ(r.payload_len, 11);
    CHECK_MEM(r.payload, "no checksum", 11);
    /* Any addresses: nothing is verified when no checksum was sent. */
    CHECK_EQ(tern_udp_parse(udp_nocsum, sizeof udp_nocsum, 1, 2, 0, &r), 8);
}

TEST(attack_22_udp_wrong_checksum_dropped)
{
    struct tern_udp_repr r;
    uint8_t p[sizeof udp_dns];
    for (size_t i = 0; i < sizeof p; i++) {
        if (i == 4 || i == 5)
            continue; /* length changes are BAD_LEN or trims, tested above */
        memcpy(p, udp_dns, sizeof p);
        p[i] ^= 0x01;
        CHECK_EQ(tern_udp_parse(p, sizeof p, A_10_0_0_1, A_10_0_0_2, 0, &r), TERN_E_BAD_CSUM);
        CHECK_EQ(tern_udp_parse(p, sizeof p, A_10_0_0_1, A_10_0_0_2, TERN_WIRE_NO_CSUM, &r), 8);
    }
    /* Wrong pseudo-header addresses. */
    CHECK_EQ(tern_udp_parse(udp_dns, sizeof udp_dns, A_10_0_0_1, 0x0a000003, 0, &r),
             TERN_E_BAD_CSUM);
    CHECK_EQ(tern_udp_parse(udp_dns, sizeof udp_dns, A_10_0_0_2, A_10_0_0_1, 0, &r), 8); /* symmetric sum */
    /* Trimmed: a wrong checksum over the UDP length is still wrong. */
    memcpy(p, udp_trailing, sizeof udp_trailing);
    p[8] ^= 0x20;
    CHECK_EQ(tern_udp_parse(p, sizeof udp_trailing, A_10_0_0_1, A_10_0_0_2, 0, &r), TERN_E_BAD_CSUM);
}

TEST(udp_round_trip_random)
{
    static uint8_t data[1600], buf[1600 + 8];
    for (int trial = 0; trial < 3000; trial++) {
        for (size_t i = 0; i < 32; i++)
            data[test_rand() % sizeof data] = (uint8_t)test_rand();
        struct tern_udp_repr r = {0}, p;
        r.sport = (uint16_t)test_rand();
        r.dport = (uint16_t)test_rand();
        r.payload = data;
        r.payload_len = (uint16_t)(test_rand() % sizeof data);
        uint32_t src = (uint32_t)test_rand(), dst = (uint32_t)test_rand();
        int n = tern_udp_emit(&r, src, dst, buf, sizeof buf);
        REQUIRE_EQ(n, 8 + r.payload_len);
        size_t extra = (size_t)(test_rand() % 8); /* trailing bytes trimmed */
        REQUIRE_EQ(tern_udp_parse(buf, (size_t)n + extra > sizeof buf ? (size_t)n : (size_t)n + extra,
                                  src, dst, 0, &p), 8);
        CHECK_EQ(p.sport, r.sport);
        CHECK_EQ(p.dport, r.dport);
        CHECK_EQ(p.len, n);
        CHECK(p.csum != 0);
        CHECK_EQ(p.payload_len, r.payload_len);
        CHECK_MEM(p.payload, data, r.payload_len);
        if (test_failed_now())
            return;
    }
}

TEST(udp_emit_copy_fused_with_sum_matches_in_place)
{
    /* A payload apart from the buffer is copied in the pass that sums it;
     * one already in place is summed after. Same bytes, every length and
     * source alignment (odd tails, the copy routine's word and tail paths). */
    static uint8_t src[400], a[420], b[420];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 37 + 11);
    for (size_t len = 0; len <= 300; len++) {
        for (size_t off = 0; off < 8; off++) {
            struct tern_udp_repr r = {.sport = 1234, .dport = 4321, .payload = src + off,
                                      .payload_len = (uint16_t)len};
            REQUIRE_EQ(tern_udp_emit(&r, A_10_0_0_1, A_10_0_0_2, a, sizeof a), (int)(8 + len));
            memcpy(b + 8, src + off, len);
            r.payload = b + 8;
            REQUIRE_EQ(tern_udp_emit(&r, A_10_0_0_1, A_10_0_0_2, b, sizeof b), (int)(8 + len));
            CHECK_MEM(a, b, 8 + len);
            struct tern_udp_repr p;
            CHECK_EQ(tern_udp_parse(a, 8 + len, A_10_0_0_1, A_10_0_0_2, 0, &p), 8);
        }
    }
}
