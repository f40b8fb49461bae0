/* Tests for src/wire/arp.c: scapy known answers both ways, ATTACKS 1-2,
 * round trip. */
#include <stdlib.h>

#include "harness.h"
#include "tern/wire/arp.h"

/* scapy: raw(ARP(op=1, hwsrc="52:54:00:12:34:56", psrc="192.168.1.10", hwdst="00:00:00:00:00:00", pdst="192.168.1.1")) */
static const uint8_t arp_request[28] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12,
    0x34, 0x56, 0xc0, 0xa8, 0x01, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xc0, 0xa8, 0x01, 0x01,
};

/* scapy: raw(ARP(op=2, hwsrc="00:1b:21:aa:bb:cc", psrc="192.168.1.1", hwdst="52:54:00:12:34:56", pdst="192.168.1.10")) */
static const uint8_t arp_reply[28] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x00, 0x1b, 0x21, 0xaa,
    0xbb, 0xcc, 0xc0, 0xa8, 0x01, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0xc0, 0xa8, 0x01, 0x0a,
};

static const struct tern_arp_repr req_repr = {
    .op = TERN_ARP_REQUEST,
    .sha = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
    .spa = 0xc0a8010a, /* 192.168.1.10 */
    .tha = {0},
    .tpa = 0xc0a80101, /* 192.168.1.1 */
};

static const struct tern_arp_repr reply_repr = {
    .op = TERN_ARP_REPLY,
    .sha = {0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc},
    .spa = 0xc0a80101,
    .tha = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
    .tpa = 0xc0a8010a,
};

static void check_repr_eq(const struct tern_arp_repr *a, const struct tern_arp_repr *b)
{
    CHECK_EQ(a->op, b->op);
    CHECK_MEM(a->sha, b->sha, 6);
    CHECK_EQ(a->spa, b->spa);
    CHECK_MEM(a->tha, b->tha, 6);
    CHECK_EQ(a->tpa, b->tpa);
}

TEST(arp_parse_request_reply)
{
    struct tern_arp_repr r;
    REQUIRE_EQ(tern_arp_parse(arp_request, sizeof arp_request, &r), TERN_ARP_LEN);
    check_repr_eq(&r, &req_repr);
    REQUIRE_EQ(tern_arp_parse(arp_reply, sizeof arp_reply, &r), TERN_ARP_LEN);
    check_repr_eq(&r, &reply_repr);
}

TEST(arp_parse_ignores_trailing_padding)
{
    /* ARP in a minimum Ethernet frame carries 18 bytes of padding. */
    uint8_t f[46] = {0};
    memcpy(f, arp_reply, 28);
    memset(f + 28, 0xee, 18);
    struct tern_arp_repr r;
    REQUIRE_EQ(tern_arp_parse(f, sizeof f, &r), TERN_ARP_LEN);
    check_repr_eq(&r, &reply_repr);
}

TEST(arp_emit_request_reply)
{
    uint8_t buf[28];
    REQUIRE_EQ(tern_arp_emit(&req_repr, buf, sizeof buf), 28);
    CHECK_MEM(buf, arp_request, 28);
    REQUIRE_EQ(tern_arp_emit(&reply_repr, buf, sizeof buf), 28);
    CHECK_MEM(buf, arp_reply, 28);
    for (size_t cap = 0; cap < 28; cap++)
        CHECK_EQ(tern_arp_emit(&req_repr, buf, cap), TERN_E_NOSPC);
}

TEST(attack_01_arp_shorter_than_28)
{
    for (size_t len = 0; len < TERN_ARP_LEN; len++) {
        uint8_t *p = malloc(len ? len : 1); /* exact size: ASan sees over-reads */
        REQUIRE(p != NULL);
        memcpy(p, arp_request, len);
        struct tern_arp_repr r;
        memset(&r, 0x5a, sizeof r);
        struct tern_arp_repr before = r;
        CHECK_EQ(tern_arp_parse(p, len, &r), TERN_E_SHORT);
        CHECK_MEM(&r, &before, sizeof r);
        free(p);
    }
}

static int parse_modified(size_t off, uint8_t val)
{
    uint8_t p[28];
    memcpy(p, arp_request, 28);
    p[off] = val;
    struct tern_arp_repr r;
    return tern_arp_parse(p, sizeof p, &r);
}

TEST(attack_02_arp_bad_htype)
{
    CHECK_EQ(parse_modified(1, 0), TERN_E_BAD_VERSION);  /* htype 0 */
    CHECK_EQ(parse_modified(1, 6), TERN_E_BAD_VERSION);  /* htype 6 (IEEE 802) */
    CHECK_EQ(parse_modified(0, 1), TERN_E_BAD_VERSION);  /* htype 0x0101 */
}

TEST(attack_02_arp_bad_ptype)
{
    CHECK_EQ(parse_modified(2, 0x86), TERN_E_BAD_VERSION); /* 0x8600 */
    CHECK_EQ(parse_modified(3, 0x06), TERN_E_BAD_VERSION); /* 0x0806 */
    CHECK_EQ(parse_modified(2, 0x00), TERN_E_BAD_VERSION); /* 0x0000 */
}

TEST(attack_02_arp_bad_hlen)
{
    for (int v = 0; v < 256; v++)
        if (v != 6)
            CHECK_EQ(parse_modified(4, (uint8_t)v), TERN_E_BAD_VERSION);
}

TEST(attack_02_arp_bad_plen)
{
    for (int v = 0; v < 256; v++)
        if (v != 4)
            CHECK_EQ(parse_modified(5, (uint8_t)v), TERN_E_BAD_VERSION);
}

TEST(arp_bad_op)
{
    CHECK_EQ(parse_modified(7, 0), TERN_E_BAD_FIELD);
    CHECK_EQ(parse_modified(7, 3), TERN_E_BAD_FIELD);  /* RARP request */
    CHECK_EQ(parse_modified(6, 1), TERN_E_BAD_FIELD);  /* 0x0101 */
    CHECK_EQ(parse_modified(7, 2), TERN_ARP_LEN);
}

TEST(arp_round_trip_random)
{
    for (int trial = 0; trial < 2000; trial++) {
        struct tern_arp_repr r, p;
        r.op = (trial & 1) ? TERN_ARP_REPLY : TERN_ARP_REQUEST;
        for (int i = 0; i < 6; i++) {
            r.sha[i] = (uint8_t)test_rand();
            r.tha[i] = (uint8_t)test_rand();
        }
        r.spa = (uint32_t)test_rand();
        r.tpa = (uint32_t)test_rand();
        uint8_t buf[28];
        REQUIRE_EQ(tern_arp_emit(&r, buf, sizeof buf), 28);
        REQUIRE_EQ(tern_arp_parse(buf, sizeof buf, &p), 28);
        check_repr_eq(&p, &r);
    }
}
