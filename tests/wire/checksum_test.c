/* Tests for src/wire/checksum.c against a naive RFC 1071 reference. */
#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"

/* RFC 1071 s4.1, literally: 16-bit big-endian words, odd byte padded. */
static uint16_t naive_csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    while (len > 1) {
        sum += (uint32_t)(p[0] << 8 | p[1]);
        p += 2;
        len -= 2;
    }
    if (len)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

TEST(checksum_matches_naive_every_length_and_alignment)
{
    static uint8_t buf[2048 + 16];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)tern_test_rand();
    for (size_t len = 0; len <= 2048; len++)
        for (size_t align = 0; align < 8; align++) {
            uint16_t a = tern_csum(buf + align, len), b = naive_csum(buf + align, len);
            if (a != b) {
                tern_test_fail(__FILE__, __LINE__, "len %zu align %zu: %04x != %04x", len, align, a, b);
                return;
            }
        }
}

TEST(checksum_all_ones_and_zero_buffers)
{
    static uint8_t ff[4096], zero[4096];
    memset(ff, 0xff, sizeof ff);
    /* 0xffff words sum to 0xffff (negative zero); complement is 0. */
    CHECK_EQ(tern_csum(ff, sizeof ff), naive_csum(ff, sizeof ff));
    CHECK_EQ(tern_csum(ff, sizeof ff), 0);
    CHECK_EQ(tern_csum(zero, sizeof zero), 0xffff);
    CHECK_EQ(tern_csum(zero, 0), 0xffff);
}

TEST(checksum_rfc1071_example)
{
    /* RFC 1071 s3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK_EQ(tern_csum(b, sizeof b), (uint16_t)~0xddf2);
}

TEST(checksum_pieces_add_up)
{
    static uint8_t buf[1500];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)tern_test_rand();
    for (int trial = 0; trial < 200; trial++) {
        size_t cut = (tern_test_rand() % 750) * 2; /* even first piece */
        uint32_t s = tern_csum_add(0, buf, cut);
        s = tern_csum_add(s, buf + cut, sizeof buf - cut);
        CHECK_EQ(tern_csum_fold(s), naive_csum(buf, sizeof buf));
    }
}

TEST(checksum_verifies_to_zero_when_stored)
{
    /* A real IPv4 header (scapy: IP(src="10.0.0.1",dst="10.0.0.2",id=1)/ICMP()). */
    uint8_t ip[20] = {0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01,
                      0x66, 0xde, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02};
    CHECK_EQ(tern_csum(ip, 20), 0);
    ip[10] = ip[11] = 0;
    CHECK_EQ(tern_csum(ip, 20), 0x66de);
}

TEST(checksum_pseudo_header_udp_tcp)
{
    /* Pseudo-header summed naively as 12 big-endian bytes. */
    for (int trial = 0; trial < 1000; trial++) {
        uint32_t src = (uint32_t)tern_test_rand(), dst = (uint32_t)tern_test_rand();
        uint16_t len = (uint16_t)tern_test_rand();
        uint8_t proto = (trial & 1) ? 6 : 17;
        uint8_t ph[12];
        tern_put32(ph, src);
        tern_put32(ph + 4, dst);
        ph[8] = 0;
        ph[9] = proto;
        tern_put16(ph + 10, len);
        CHECK_EQ(tern_csum_fold(tern_csum_pseudo_ipv4(src, dst, proto, len)), naive_csum(ph, 12));
    }
}

TEST(checksum_incremental_update_rfc1624)
{
    static uint8_t buf[64];
    for (int trial = 0; trial < 2000; trial++) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (uint8_t)tern_test_rand();
        uint16_t c = tern_csum(buf, sizeof buf);
        size_t off = (tern_test_rand() % 16) * 2;
        uint16_t oldw = tern_get16(buf + off), neww = (uint16_t)tern_test_rand();
        if (trial % 7 == 0)
            neww = 0; /* the RFC 1624 corner: fields becoming zero */
        tern_put16(buf + off, neww);
        uint16_t full = tern_csum(buf, sizeof buf);
        uint16_t inc = tern_csum_update16(c, oldw, neww);
        /* RFC 1624 s3: eqn. 3 never yields the -0 (0xffff) the full sum can't
         * produce except for an all-zero buffer, so they must be equal. */
        if (inc != full)
            tern_test_fail(__FILE__, __LINE__, "trial %d: %04x != %04x", trial, inc, full);
        size_t off32 = (tern_test_rand() % 8) * 4;
        uint32_t o32 = tern_get32(buf + off32), n32 = (uint32_t)tern_test_rand();
        tern_put32(buf + off32, n32);
        CHECK_EQ(tern_csum_update32(full, o32, n32), tern_csum(buf, sizeof buf));
    }
}
