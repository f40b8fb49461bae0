/* Tests for src/wire/ipv4.c: scapy known answers both ways (options, DF/MF,
 * fragment offsets), ATTACKS 5-8, option walk, ntoa/aton, round trip. */
#include <stdlib.h>

#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/ipv4.h"

/* scapy: raw(IP(src="10.0.0.1", dst="10.0.0.2", id=0x1234, ttl=64, proto=17)/(b"\x00"*8)) */
static const uint8_t ip_plain[28] = {
    0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x54, 0x9b,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
};

/* Record route with room for two addresses, then router alert (RFC 2113),
 * then one EOL byte of padding.
 * scapy: raw(IP(src="192.168.1.10", dst="224.0.0.22", id=7, ttl=1, tos=0xc0, proto=2, options=[IPOption_RR(pointer=4, routers=["0.0.0.0","0.0.0.0"]), IPOption_Router_Alert()])) */
static const uint8_t ip_opts[36] = {
    0x49, 0xc0, 0x00, 0x24, 0x00, 0x07, 0x00, 0x00, 0x01, 0x02, 0x03, 0xaa,
    0xc0, 0xa8, 0x01, 0x0a, 0xe0, 0x00, 0x00, 0x16, 0x07, 0x0b, 0x04, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x94, 0x04, 0x00, 0x00, 0x00,
};

/* scapy: raw(IP(src="10.0.0.1", dst="10.9.9.9", id=99, ttl=32, proto=17, options=[IPOption_NOP(), IPOption_LSRR(routers=["1.2.3.4"])])) */
static const uint8_t ip_nop_lsrr[28] = {
    0x47, 0x00, 0x00, 0x1c, 0x00, 0x63, 0x00, 0x00, 0x20, 0x11, 0x6e, 0xcf,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x09, 0x09, 0x09, 0x01, 0x83, 0x07, 0x04,
    0x01, 0x02, 0x03, 0x04,
};

/* scapy: raw(IP(src="172.16.0.1", dst="8.8.8.8", id=0xbeef, flags="DF", ttl=63, proto=6)/(b"A"*12)) */
static const uint8_t ip_df[32] = {
    0x45, 0x00, 0x00, 0x20, 0xbe, 0xef, 0x40, 0x00, 0x3f, 0x06, 0xc0, 0xc7,
    0xac, 0x10, 0x00, 0x01, 0x08, 0x08, 0x08, 0x08, 0x41, 0x41, 0x41, 0x41,
    0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
};

/* scapy: raw(IP(src="10.1.2.3", dst="10.3.2.1", id=0x4242, flags="MF", frag=0, ttl=64, proto=17)/(b"B"*16)) */
static const uint8_t ip_mf[36] = {
    0x45, 0x00, 0x00, 0x24, 0x42, 0x42, 0x20, 0x00, 0x40, 0x11, 0x00, 0x80,
    0x0a, 0x01, 0x02, 0x03, 0x0a, 0x03, 0x02, 0x01, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};

/* scapy: raw(IP(src="10.1.2.3", dst="10.3.2.1", id=0x4242, flags="MF", frag=185, ttl=64, proto=17)/(b"C"*8)) */
static const uint8_t ip_mf_off[28] = {
    0x45, 0x00, 0x00, 0x1c, 0x42, 0x42, 0x20, 0xb9, 0x40, 0x11, 0xff, 0xce,
    0x0a, 0x01, 0x02, 0x03, 0x0a, 0x03, 0x02, 0x01, 0x43, 0x43, 0x43, 0x43,
    0x43, 0x43, 0x43, 0x43,
};

/* scapy: raw(IP(src="10.1.2.3", dst="10.3.2.1", id=0x4242, flags=0, frag=8191, ttl=64, proto=17)/(b"D"*4)) */
static const uint8_t ip_last_frag[24] = {
    0x45, 0x00, 0x00, 0x18, 0x42, 0x42, 0x1f, 0xff, 0x40, 0x11, 0x00, 0x8d,
    0x0a, 0x01, 0x02, 0x03, 0x0a, 0x03, 0x02, 0x01, 0x44, 0x44, 0x44, 0x44,
};

/* Reserved ("evil", RFC 3514) flag and a non-zero TOS.
 * scapy: raw(IP(src="10.0.0.1", dst="10.0.0.2", id=1, flags="evil", tos=0x2e, ttl=255, proto=1)/ICMP()) */
static const uint8_t ip_evil[28] = {
    0x45, 0x2e, 0x00, 0x1c, 0x00, 0x01, 0x80, 0x00, 0xff, 0x01, 0x27, 0xaf,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0xf7, 0xff,
    0x00, 0x00, 0x00, 0x00,
};

/* A minimum-size Ethernet frame: 28-byte datagram plus 18 bytes of padding.
 * scapy: raw(Ether(dst="00:11:22:33:44:55", src="02:aa:bb:cc:dd:ee")/IP(src="10.0.0.1", dst="10.0.0.2", id=1)/ICMP(id=1, seq=1)/Padding(load=b"\x00"*18)) */
static const uint8_t eth_ip_icmp_padded[60] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01,
    0x66, 0xde, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x00,
    0xf7, 0xfd, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

struct kat {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    struct tern_ipv4_repr r; /* expected; opts filled in from bytes + 20 */
};

#define R(...) ((struct tern_ipv4_repr){__VA_ARGS__})
static const struct kat kats[] = {
    {"plain", ip_plain, sizeof ip_plain,
     {.hdr_len = 20, .total_len = 28, .id = 0x1234, .ttl = 64, .proto = 17, .csum = 0x549b,
      .src = 0x0a000001, .dst = 0x0a000002, .payload_len = 8}},
    {"opts", ip_opts, sizeof ip_opts,
     {.hdr_len = 36, .tos = 0xc0, .total_len = 36, .id = 7, .ttl = 1, .proto = 2,
      .csum = 0x03aa, .src = 0xc0a8010a, .dst = 0xe0000016, .opts_len = 16, .payload_len = 0}},
    {"nop_lsrr", ip_nop_lsrr, sizeof ip_nop_lsrr,
     {.hdr_len = 28, .total_len = 28, .id = 99, .ttl = 32, .proto = 17, .csum = 0x6ecf,
      .src = 0x0a000001, .dst = 0x0a090909, .opts_len = 8, .payload_len = 0}},
    {"df", ip_df, sizeof ip_df,
     {.hdr_len = 20, .total_len = 32, .id = 0xbeef, .df = true, .ttl = 63, .proto = 6,
      .csum = 0xc0c7, .src = 0xac100001, .dst = 0x08080808, .payload_len = 12}},
    {"mf", ip_mf, sizeof ip_mf,
     {.hdr_len = 20, .total_len = 36, .id = 0x4242, .mf = true, .ttl = 64, .proto = 17,
      .csum = 0x0080, .src = 0x0a010203, .dst = 0x0a030201, .payload_len = 16}},
    {"mf_off", ip_mf_off, sizeof ip_mf_off,
     {.hdr_len = 20, .total_len = 28, .id = 0x4242, .mf = true, .frag_off = 185 * 8, .ttl = 64,
      .proto = 17, .csum = 0xffce, .src = 0x0a010203, .dst = 0x0a030201, .payload_len = 8}},
    {"last_frag", ip_last_frag, sizeof ip_last_frag,
     {.hdr_len = 20, .total_len = 24, .id = 0x4242, .frag_off = 8191 * 8, .ttl = 64, .proto = 17,
      .csum = 0x008d, .src = 0x0a010203, .dst = 0x0a030201, .payload_len = 4}},
    {"evil", ip_evil, sizeof ip_evil,
     {.hdr_len = 20, .tos = 0x2e, .total_len = 28, .id = 1, .rf = true, .ttl = 255, .proto = 1,
      .csum = 0x27af, .src = 0x0a000001, .dst = 0x0a000002, .payload_len = 8}},
};

static void check_repr(const char *name, const struct tern_ipv4_repr *a,
                       const struct tern_ipv4_repr *b)
{
    int before = test_failed_now();
    CHECK_EQ(a->hdr_len, b->hdr_len);
    CHECK_EQ(a->tos, b->tos);
    CHECK_EQ(a->total_len, b->total_len);
    CHECK_EQ(a->id, b->id);
    CHECK_EQ(a->rf, b->rf);
    CHECK_EQ(a->df, b->df);
    CHECK_EQ(a->mf, b->mf);
    CHECK_EQ(a->frag_off, b->frag_off);
    CHECK_EQ(a->ttl, b->ttl);
    CHECK_EQ(a->proto, b->proto);
    CHECK_EQ(a->csum, b->csum);
    CHECK_EQ(a->src, b->src);
    CHECK_EQ(a->dst, b->dst);
    CHECK_EQ(a->opts_len, b->opts_len);
    if (a->opts_len == b->opts_len && a->opts_len) {
        REQUIRE(a->opts && b->opts);
        CHECK_MEM(a->opts, b->opts, a->opts_len);
    }
    CHECK_EQ(a->payload_len, b->payload_len);
    if (test_failed_now() != before)
        test_fail(__FILE__, __LINE__, "... in case %s", name);
}

/* Recompute the header checksum after a test modified the header. */
static void fix_csum(uint8_t *h)
{
    size_t hlen = (size_t)(h[0] & 0x0f) * 4;
    tern_put16(h + 10, 0);
    tern_put16(h + 10, tern_csum(h, hlen));
}

TEST(ipv4_parse_known_answers)
{
    for (size_t i = 0; i < sizeof kats / sizeof kats[0]; i++) {
        struct tern_ipv4_repr want = kats[i].r, got;
        want.opts = want.opts_len ? kats[i].bytes + 20 : NULL;
        int rc = tern_ipv4_parse(kats[i].bytes, kats[i].len, 0, &got);
        if (rc != want.hdr_len) {
            test_fail(__FILE__, __LINE__, "%s: parse returned %d", kats[i].name, rc);
            continue;
        }
        check_repr(kats[i].name, &got, &want);
        if (want.opts_len)
            CHECK(got.opts == kats[i].bytes + 20); /* points into the buffer */
    }
}

TEST(ipv4_emit_known_answers)
{
    for (size_t i = 0; i < sizeof kats / sizeof kats[0]; i++) {
        struct tern_ipv4_repr r = kats[i].r;
        r.opts = r.opts_len ? kats[i].bytes + 20 : NULL;
        r.hdr_len = 0; /* ignored by emit */
        r.total_len = 0;
        r.csum = 0;
        uint8_t buf[64];
        memset(buf, 0x77, sizeof buf);
        int rc = tern_ipv4_emit(&r, buf, sizeof buf);
        if (rc != kats[i].r.hdr_len) {
            test_fail(__FILE__, __LINE__, "%s: emit returned %d", kats[i].name, rc);
            continue;
        }
        CHECK_MEM(buf, kats[i].bytes, (size_t)rc);
        CHECK_EQ(buf[rc], 0x77); /* payload untouched */
        for (size_t cap = 0; cap < (size_t)rc; cap++)
            CHECK_EQ(tern_ipv4_emit(&r, buf, cap), TERN_E_NOSPC);
    }
}

TEST(ipv4_option_walk_known_answer)
{
    struct tern_ipv4_repr r;
    REQUIRE_EQ(tern_ipv4_parse(ip_opts, sizeof ip_opts, 0, &r), 36);
    size_t pos = 0;
    struct tern_ipv4_opt o;
    REQUIRE_EQ(tern_ipv4_opt_next(r.opts, r.opts_len, &pos, &o), 1);
    CHECK_EQ(o.type, TERN_IPOPT_RR);
    CHECK_EQ(o.len, 11);
    REQUIRE(o.data == ip_opts + 22);
    CHECK_EQ(o.data[0], 4); /* RR pointer */
    REQUIRE_EQ(tern_ipv4_opt_next(r.opts, r.opts_len, &pos, &o), 1);
    CHECK_EQ(o.type, TERN_IPOPT_RA);
    CHECK_EQ(o.len, 4);
    CHECK_EQ(tern_get16(o.data), 0); /* RFC 2113: 0 = every router examines it */
    CHECK_EQ(tern_ipv4_opt_next(r.opts, r.opts_len, &pos, &o), 0); /* EOL */
    CHECK_EQ(tern_ipv4_opt_next(r.opts, r.opts_len, &pos, &o), 0); /* stays at the end */

    REQUIRE_EQ(tern_ipv4_parse(ip_nop_lsrr, sizeof ip_nop_lsrr, 0, &r), 28);
    pos = 0;
    REQUIRE_EQ(tern_ipv4_opt_next(r.opts, r.opts_len, &pos, &o), 1);
    CHECK_EQ(o.type, TERN_IPOPT_NOP);
    CHECK_EQ(o.len, 1);
    CHECK(o.data == NULL);
    CHECK_EQ(pos, 1);
    REQUIRE_EQ(tern_ipv4_opt_next(r.opts, r.opts_len, &pos, &o), 1);
    CHECK_EQ(o.type, TERN_IPOPT_LSRR);
    CHECK_EQ(o.len, 7);
    CHECK_EQ(tern_get32(o.data + 1), 0x01020304);
    CHECK_EQ(pos, 8);
    CHECK_EQ(tern_ipv4_opt_next(r.opts, r.opts_len, &pos, &o), 0); /* no bytes left */
}

TEST(ipv4_option_walk_all_nops)
{
    uint8_t opts[40];
    memset(opts, TERN_IPOPT_NOP, sizeof opts);
    size_t pos = 0;
    struct tern_ipv4_opt o;
    int n = 0;
    while (n < 100 && tern_ipv4_opt_next(opts, sizeof opts, &pos, &o) == 1)
        n++;
    CHECK_EQ(n, 40);
    CHECK_EQ(pos, 40);
}

TEST(ipv4_parse_short)
{
    for (size_t len = 0; len < 20; len++) {
        uint8_t *p = malloc(len ? len : 1);
        REQUIRE(p != NULL);
        memcpy(p, ip_plain, len);
        struct tern_ipv4_repr r;
        CHECK_EQ(tern_ipv4_parse(p, len, 0, &r), TERN_E_SHORT);
        CHECK_EQ(tern_ipv4_parse(p, len, TERN_WIRE_TRUNC_OK | TERN_WIRE_NO_CSUM, &r), TERN_E_SHORT);
        free(p);
    }
}

TEST(ipv4_bad_version)
{
    uint8_t p[28];
    struct tern_ipv4_repr r;
    for (int v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        memcpy(p, ip_plain, sizeof p);
        p[0] = (uint8_t)(v << 4 | 5);
        fix_csum(p);
        CHECK_EQ(tern_ipv4_parse(p, sizeof p, 0, &r), TERN_E_BAD_VERSION);
    }
}

TEST(ipv4_bad_checksum)
{
    uint8_t p[28];
    struct tern_ipv4_repr r;
    for (size_t byte = 0; byte < 20; byte++) {
        if (byte == 0 || byte == 2 || byte == 3)
            continue; /* version/IHL/total length changes fail earlier */
        memcpy(p, ip_plain, sizeof p);
        p[byte] ^= 0x10;
        CHECK_EQ(tern_ipv4_parse(p, sizeof p, 0, &r), TERN_E_BAD_CSUM);
        CHECK_EQ(tern_ipv4_parse(p, sizeof p, TERN_WIRE_NO_CSUM, &r), 20);
    }
    /* Checksum covers the options too. */
    uint8_t q[36];
    memcpy(q, ip_opts, sizeof q);
    q[23] ^= 1;
    CHECK_EQ(tern_ipv4_parse(q, sizeof q, 0, &r), TERN_E_BAD_CSUM);
    CHECK_EQ(tern_ipv4_parse(q, sizeof q, TERN_WIRE_NO_CSUM, &r), 36);
    /* Payload is not covered (RFC 791 s3.1). */
    memcpy(p, ip_plain, sizeof p);
    p[25] = 0xff;
    CHECK_EQ(tern_ipv4_parse(p, sizeof p, 0, &r), 20);
}

TEST(attack_05_ihl_below_5)
{
    uint8_t p[28];
    struct tern_ipv4_repr r;
    for (int ihl = 0; ihl < 5; ihl++) {
        memcpy(p, ip_plain, sizeof p);
        p[0] = (uint8_t)(0x40 | ihl);
        fix_csum(p); /* sums only ihl*4 bytes; wrong either way, so use NO_CSUM too */
        CHECK_EQ(tern_ipv4_parse(p, sizeof p, 0, &r), TERN_E_BAD_LEN);
        CHECK_EQ(tern_ipv4_parse(p, sizeof p, TERN_WIRE_NO_CSUM | TERN_WIRE_TRUNC_OK, &r),
                 TERN_E_BAD_LEN);
    }
}

TEST(attack_05_ihl_beyond_frame)
{
    /* IHL 6..15 with only 20 bytes present, and IHL 15 with 20..59 bytes. */
    struct tern_ipv4_repr r;
    for (int ihl = 6; ihl < 16; ihl++) {
        uint8_t *p = malloc(20);
        REQUIRE(p != NULL);
        memcpy(p, ip_plain, 20);
        p[0] = (uint8_t)(0x40 | ihl);
        tern_put16(p + 2, 60);
        CHECK_EQ(tern_ipv4_parse(p, 20, 0, &r), TERN_E_SHORT);
        CHECK_EQ(tern_ipv4_parse(p, 20, TERN_WIRE_NO_CSUM | TERN_WIRE_TRUNC_OK, &r), TERN_E_SHORT);
        free(p);
    }
    for (size_t len = 20; len < 60; len++) {
        uint8_t *p = malloc(len);
        REQUIRE(p != NULL);
        memset(p, TERN_IPOPT_NOP, len);
        memcpy(p, ip_plain, 20);
        p[0] = 0x4f;
        tern_put16(p + 2, 60);
        CHECK_EQ(tern_ipv4_parse(p, len, TERN_WIRE_NO_CSUM | TERN_WIRE_TRUNC_OK, &r), TERN_E_SHORT);
        free(p);
    }
}

TEST(attack_06_total_length_below_header_length)
{
    struct tern_ipv4_repr r;
    uint8_t p[36];
    for (unsigned tl = 0; tl < 20; tl++) {
        memcpy(p, ip_plain, 28);
        tern_put16(p + 2, (uint16_t)tl);
        fix_csum(p);
        CHECK_EQ(tern_ipv4_parse(p, 28, 0, &r), TERN_E_BAD_LEN);
        CHECK_EQ(tern_ipv4_parse(p, 28, TERN_WIRE_TRUNC_OK | TERN_WIRE_NO_CSUM, &r), TERN_E_BAD_LEN);
    }
    /* With options: total length 20..35 is below the 36-byte header. */
    for (unsigned tl = 0; tl < 36; tl++) {
        memcpy(p, ip_opts, 36);
        tern_put16(p + 2, (uint16_t)tl);
        fix_csum(p);
        CHECK_EQ(tern_ipv4_parse(p, 36, 0, &r), TERN_E_BAD_LEN);
    }
    /* Equal to the header length: valid, empty payload. */
    memcpy(p, ip_plain, 28);
    tern_put16(p + 2, 20);
    fix_csum(p);
    CHECK_EQ(tern_ipv4_parse(p, 28, 0, &r), 20);
    CHECK_EQ(r.payload_len, 0);
}

TEST(attack_07_total_length_beyond_frame_dropped)
{
    struct tern_ipv4_repr r;
    /* ip_df says 32 bytes; every shorter frame that still holds the header. */
    for (size_t len = 20; len < sizeof ip_df; len++) {
        uint8_t *p = malloc(len);
        REQUIRE(p != NULL);
        memcpy(p, ip_df, len);
        CHECK_EQ(tern_ipv4_parse(p, len, 0, &r), TERN_E_BAD_LEN);
        free(p);
    }
    uint8_t p[28];
    memcpy(p, ip_plain, sizeof p);
    tern_put16(p + 2, 0xffff);
    fix_csum(p);
    CHECK_EQ(tern_ipv4_parse(p, sizeof p, 0, &r), TERN_E_BAD_LEN);
}

TEST(attack_07_total_length_beyond_frame_trunc_ok_clips)
{
    struct tern_ipv4_repr r;
    for (size_t len = 20; len <= sizeof ip_df; len++) {
        uint8_t *p = malloc(len);
        REQUIRE(p != NULL);
        memcpy(p, ip_df, len);
        REQUIRE_EQ(tern_ipv4_parse(p, len, TERN_WIRE_TRUNC_OK, &r), 20);
        CHECK_EQ(r.total_len, 32);
        CHECK_EQ(r.payload_len, len - 20);
        free(p);
    }
}

TEST(attack_07_total_length_below_frame_trimmed)
{
    /* Ethernet padding after a 28-byte datagram: payload_len is 8, not 26. */
    struct tern_ipv4_repr r;
    const uint8_t *ip = eth_ip_icmp_padded + 14;
    size_t len = sizeof eth_ip_icmp_padded - 14;
    REQUIRE_EQ(tern_ipv4_parse(ip, len, 0, &r), 20);
    CHECK_EQ(r.total_len, 28);
    CHECK_EQ(r.payload_len, 8);
    CHECK_EQ(r.proto, TERN_IPPROTO_ICMP);
    /* Same with TRUNC_OK: trimming still applies. */
    REQUIRE_EQ(tern_ipv4_parse(ip, len, TERN_WIRE_TRUNC_OK, &r), 20);
    CHECK_EQ(r.payload_len, 8);
}

/* A header with IHL 6 whose 4 option bytes are `o`. */
static int parse_with_opts(const uint8_t o[4], unsigned flags)
{
    uint8_t p[24];
    memcpy(p, ip_plain, 20);
    memcpy(p + 20, o, 4);
    p[0] = 0x46;
    tern_put16(p + 2, 24);
    fix_csum(p);
    struct tern_ipv4_repr r;
    return tern_ipv4_parse(p, sizeof p, flags, &r);
}

TEST(attack_08_option_len_0)
{
    const uint8_t o1[4] = {TERN_IPOPT_RR, 0, 0, 0};
    const uint8_t o2[4] = {TERN_IPOPT_NOP, 0x44, 0, 0}; /* timestamp with length 0 */
    CHECK_EQ(parse_with_opts(o1, 0), TERN_E_BAD_OPT);
    CHECK_EQ(parse_with_opts(o2, 0), TERN_E_BAD_OPT);
    CHECK_EQ(parse_with_opts(o1, TERN_WIRE_NO_CSUM | TERN_WIRE_TRUNC_OK), TERN_E_BAD_OPT);
    size_t pos = 0;
    struct tern_ipv4_opt opt;
    CHECK_EQ(tern_ipv4_opt_next(o1, 4, &pos, &opt), TERN_E_BAD_OPT);
}

TEST(attack_08_option_len_1)
{
    const uint8_t o1[4] = {TERN_IPOPT_RA, 1, 0, 0};
    const uint8_t o2[4] = {TERN_IPOPT_NOP, TERN_IPOPT_NOP, 0x99, 1};
    CHECK_EQ(parse_with_opts(o1, 0), TERN_E_BAD_OPT);
    CHECK_EQ(parse_with_opts(o2, 0), TERN_E_BAD_OPT);
}

TEST(attack_08_option_running_past_header)
{
    const uint8_t o1[4] = {TERN_IPOPT_RR, 5, 4, 0};          /* 5 > 4 bytes left */
    const uint8_t o2[4] = {TERN_IPOPT_NOP, TERN_IPOPT_RA, 4, 0}; /* 4 > 3 left */
    const uint8_t o3[4] = {TERN_IPOPT_NOP, TERN_IPOPT_NOP, TERN_IPOPT_NOP, TERN_IPOPT_RR};
    const uint8_t o4[4] = {TERN_IPOPT_LSRR, 255, 4, 0};
    CHECK_EQ(parse_with_opts(o1, 0), TERN_E_BAD_OPT);
    CHECK_EQ(parse_with_opts(o2, 0), TERN_E_BAD_OPT);
    CHECK_EQ(parse_with_opts(o3, 0), TERN_E_BAD_OPT); /* length byte missing */
    CHECK_EQ(parse_with_opts(o4, 0), TERN_E_BAD_OPT);
    /* Exactly filling the header, or ended by EOL with junk after it, is fine. */
    const uint8_t ok1[4] = {TERN_IPOPT_RA, 4, 0, 0};
    const uint8_t ok2[4] = {TERN_IPOPT_EOL, 0xff, 0, 1};
    const uint8_t ok3[4] = {TERN_IPOPT_NOP, TERN_IPOPT_NOP, TERN_IPOPT_NOP, TERN_IPOPT_NOP};
    CHECK_EQ(parse_with_opts(ok1, 0), 24);
    CHECK_EQ(parse_with_opts(ok2, 0), 24);
    CHECK_EQ(parse_with_opts(ok3, 0), 24);
    /* The walk itself on an option at the last byte. */
    size_t pos = 3;
    struct tern_ipv4_opt opt;
    CHECK_EQ(tern_ipv4_opt_next(o3, 4, &pos, &opt), TERN_E_BAD_OPT);
}

TEST(ipv4_emit_invalid)
{
    uint8_t opts[44] = {0};
    uint8_t buf[128];
    struct tern_ipv4_repr r = {.ttl = 64, .proto = 17, .opts = opts};
    for (unsigned ol = 0; ol <= 44; ol++) {
        r.opts_len = (uint8_t)ol;
        int want = (ol % 4 == 0 && ol <= 40) ? (int)(20 + ol) : TERN_E_INVAL;
        CHECK_EQ(tern_ipv4_emit(&r, buf, sizeof buf), want);
    }
    r.opts_len = 4;
    r.opts = NULL;
    CHECK_EQ(tern_ipv4_emit(&r, buf, sizeof buf), TERN_E_INVAL);
    r.opts_len = 0;
    r.payload_len = 65535 - 20;
    CHECK_EQ(tern_ipv4_emit(&r, buf, sizeof buf), 20);
    r.payload_len = 65535 - 19;
    CHECK_EQ(tern_ipv4_emit(&r, buf, sizeof buf), TERN_E_INVAL);
    r.opts = opts;
    r.opts_len = 4;
    r.payload_len = 65535 - 20;
    CHECK_EQ(tern_ipv4_emit(&r, buf, sizeof buf), TERN_E_INVAL);
    r.opts_len = 0;
    r.payload_len = 0;
    r.frag_off = 12;
    CHECK_EQ(tern_ipv4_emit(&r, buf, sizeof buf), TERN_E_INVAL);
    r.frag_off = 65528;
    CHECK_EQ(tern_ipv4_emit(&r, buf, sizeof buf), 20);
    CHECK_EQ(tern_get16(buf + 6), 0x1fff);
}

TEST(ipv4_ntoa_aton)
{
    char s[16];
    CHECK_STR(tern_ipv4_ntoa(0xc0a8010a, s), "192.168.1.10");
    CHECK_STR(tern_ipv4_ntoa(0, s), "0.0.0.0");
    CHECK_STR(tern_ipv4_ntoa(0xffffffff, s), "255.255.255.255");
    uint32_t a = 0;
    CHECK_EQ(tern_ipv4_aton("192.168.1.10", &a), TERN_OK);
    CHECK_EQ(a, 0xc0a8010a);
    CHECK_EQ(tern_ipv4_aton("0.0.0.0", &a), TERN_OK);
    CHECK_EQ(a, 0);
    CHECK_EQ(tern_ipv4_aton("255.255.255.255", &a), TERN_OK);
    CHECK_EQ(a, 0xffffffff);
    CHECK_EQ(tern_ipv4_aton("10.0.0.1", &a), TERN_OK);
    CHECK_EQ(a, 0x0a000001);
    const char *bad[] = {"", "1", "1.2.3", "1.2.3.4.", "1.2.3.4.5", "256.0.0.1", "1.2.3.256",
                         "1.2.3.1000", "01.2.3.4", "1.2.3.04", "1.2.3.00", "0x1.2.3.4", "1..3.4",
                         ".1.2.3", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "+1.2.3.4", "-1.2.3.4",
                         "1.2.3.a", "1.2.3.4/24", "999.1.1.1", "1,2,3,4", "0001.2.3.4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t b = 0x5a5a5a5a;
        if (tern_ipv4_aton(bad[i], &b) != TERN_E_INVAL)
            test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
        CHECK_EQ(b, 0x5a5a5a5a);
    }
}

/* Random but well-formed options: NOPs and TLVs, EOL-padded to a multiple of 4. */
static size_t random_opts(uint8_t *o)
{
    size_t cap = (test_rand() % 11) * 4; /* 0..40 */
    size_t n = 0;
    while (n < cap) {
        size_t room = cap - n;
        unsigned k = (unsigned)(test_rand() % 4);
        if (k == 0) {
            o[n++] = TERN_IPOPT_NOP;
        } else if (k == 1 || room < 2) {
            memset(o + n, TERN_IPOPT_EOL, room); /* EOL, then padding */
            n = cap;
        } else {
            size_t l = 2 + test_rand() % (room - 1); /* 2..room */
            const uint8_t types[] = {TERN_IPOPT_RR, TERN_IPOPT_TS, TERN_IPOPT_LSRR,
                                     TERN_IPOPT_SSRR, TERN_IPOPT_RA, 0x99};
            o[n] = types[test_rand() % sizeof types];
            o[n + 1] = (uint8_t)l;
            for (size_t j = 2; j < l; j++)
                o[n + j] = (uint8_t)test_rand();
            n += l;
        }
    }
    return cap;
}

TEST(ipv4_round_trip_random)
{
    static uint8_t buf[65535 + 64];
    for (int trial = 0; trial < 3000; trial++) {
        uint8_t opts[40];
        struct tern_ipv4_repr r = {0}, p;
        r.opts_len = (uint8_t)random_opts(opts);
        r.opts = r.opts_len ? opts : NULL;
        r.tos = (uint8_t)test_rand();
        r.id = (uint16_t)test_rand();
        r.rf = test_rand() & 1;
        r.df = test_rand() & 1;
        r.mf = test_rand() & 1;
        r.frag_off = (uint16_t)((test_rand() % 8192) * 8);
        r.ttl = (uint8_t)test_rand();
        r.proto = (uint8_t)test_rand();
        r.src = (uint32_t)test_rand();
        r.dst = (uint32_t)test_rand();
        size_t maxp = 65535u - 20u - r.opts_len;
        r.payload_len = (uint16_t)((trial % 10 == 0) ? maxp : test_rand() % 1500);
        int h = tern_ipv4_emit(&r, buf, sizeof buf);
        REQUIRE_EQ(h, 20 + r.opts_len);
        size_t len = (size_t)h + r.payload_len + (size_t)(test_rand() % 8); /* + padding */
        REQUIRE_EQ(tern_ipv4_parse(buf, len, 0, &p), h);
        r.hdr_len = (uint8_t)h;
        r.total_len = (uint16_t)(h + r.payload_len);
        r.csum = tern_get16(buf + 10);
        check_repr("random", &p, &r);
        if (test_failed_now())
            return;
    }
}
