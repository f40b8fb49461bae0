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
        buf[i] = (uint8_t)test_rand();
    for (size_t len = 0; len <= 2048; len++)
        for (size_t align = 0; align < 8; align++) {
            uint16_t a = tern_csum(buf + align, len), b = naive_csum(buf + align, len);
            if (a != b) {
                test_fail(__FILE__, __LINE__, "len %zu align %zu: %04x != %04x", len, align, a, b);
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

TEST(checksum_header_lengths_all_ones_carries_and_running_sums)
{
    /* The word path for multiples of 4 up to 64 (headers): words that
     * carry on every addition, and a running sum carried in. */
    static uint8_t ff[64], mix[64];
    memset(ff, 0xff, sizeof ff);
    for (size_t i = 0; i < sizeof mix; i++)
        mix[i] = (uint8_t)(i % 3 ? 0xff : 0xfe);
    for (size_t len = 4; len <= 64; len += 4) {
        CHECK_EQ(tern_csum(ff, len), naive_csum(ff, len));
        CHECK_EQ(tern_csum(mix, len), naive_csum(mix, len));
        uint32_t run = tern_csum_add(0xfffeu, mix, len);
        uint8_t two[66];
        two[0] = 0xff;
        two[1] = 0xfe;
        memcpy(two + 2, mix, len);
        CHECK_EQ(tern_csum_fold(run), naive_csum(two, len + 2));
    }
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
        buf[i] = (uint8_t)test_rand();
    for (int trial = 0; trial < 200; trial++) {
        size_t cut = (test_rand() % 750) * 2; /* even first piece */
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
        uint32_t src = (uint32_t)test_rand(), dst = (uint32_t)test_rand();
        uint16_t len = (uint16_t)test_rand();
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
            buf[i] = (uint8_t)test_rand();
        uint16_t c = tern_csum(buf, sizeof buf);
        size_t off = (test_rand() % 16) * 2;
        uint16_t oldw = tern_get16(buf + off), neww = (uint16_t)test_rand();
        if (trial % 7 == 0)
            neww = 0; /* the RFC 1624 corner: fields becoming zero */
        tern_put16(buf + off, neww);
        uint16_t full = tern_csum(buf, sizeof buf);
        uint16_t inc = tern_csum_update16(c, oldw, neww);
        /* RFC 1624 s3: eqn. 3 never yields the -0 (0xffff) the full sum can't
         * produce except for an all-zero buffer, so they must be equal. */
        if (inc != full)
            test_fail(__FILE__, __LINE__, "trial %d: %04x != %04x", trial, inc, full);
        size_t off32 = (test_rand() % 8) * 4;
        uint32_t o32 = tern_get32(buf + off32), n32 = (uint32_t)test_rand();
        tern_put32(buf + off32, n32);
        CHECK_EQ(tern_csum_update32(full, o32, n32), tern_csum(buf, sizeof buf));
    }
}

/* tern_csum_copy: the bytes land unchanged at dst (nothing around them is
 * touched) and the sum equals the plain checksum, for every length up to
 * 300 and every source/destination alignment pair mod 8, then a few long
 * ones (the 32-byte loop). */
TEST(checksum_copy_matches_plain_every_length_and_alignment)
{
    static uint8_t src[70000 + 16], dst[70000 + 32];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)test_rand();
    size_t lens[300 + 6];
    size_t nl = 0;
    for (size_t l = 0; l < 300; l++)
        lens[nl++] = l;
    lens[nl++] = 1459, lens[nl++] = 1460, lens[nl++] = 8191;
    lens[nl++] = 16385, lens[nl++] = 65495, lens[nl++] = 70000;
    for (size_t k = 0; k < nl; k++) {
        size_t len = lens[k];
        for (size_t sa = 0; sa < 8; sa++)
            for (size_t da = 0; da < 8; da++) {
                if (len > 300 && (sa + da) % 5) /* long ones: a few pairs */
                    continue;
                memset(dst, 0xa5, len + da + 16);
                uint32_t s = tern_csum_copy(dst + da, src + sa, len, 0);
                uint16_t want = naive_csum(src + sa, len);
                if (tern_csum_fold(s) != want || memcmp(dst + da, src + sa, len) != 0 ||
                    (da && dst[da - 1] != 0xa5) || dst[da + len] != 0xa5) {
                    test_fail(__FILE__, __LINE__, "len %zu src+%zu dst+%zu: %04x != %04x",
                                   len, sa, da, tern_csum_fold(s), want);
                    return;
                }
            }
    }
}

/* Pieces of any length (odd too) joined with tern_csum_add_at, the first
 * starting from a non-zero sum, give the checksum of the whole. */
TEST(checksum_copy_odd_pieces_join)
{
    static uint8_t src[3000], dst[3000];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)test_rand();
    const uint8_t hdr[6] = {0x12, 0x34, 0xfe, 0xdc, 0x00, 0x07};
    for (int trial = 0; trial < 500; trial++) {
        size_t a = test_rand() % 1500, b = test_rand() % 1500;
        uint32_t s = tern_csum_add(0, hdr, sizeof hdr);
        uint32_t p1 = tern_csum_copy(dst, src, a, 0);
        uint32_t p2 = tern_csum_copy(dst + a, src + a, b, 0);
        s = tern_csum_add_at(s, p1, 0);
        s = tern_csum_add_at(s, p2, a);
        uint8_t whole[6 + 3000];
        memcpy(whole, hdr, sizeof hdr);
        memcpy(whole + 6, src, a + b);
        CHECK_EQ(tern_csum_fold(s), naive_csum(whole, 6 + a + b));
        CHECK(memcmp(dst, src, a + b) == 0);
    }
}
