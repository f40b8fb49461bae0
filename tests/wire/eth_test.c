/* Tests for src/wire/eth.c: known answers from scapy, ATTACKS 1, helpers,
 * round trip. */
#include <stdlib.h>

#include "harness.h"
#include "tern/wire/eth.h"

/* scapy: raw(Ether(dst="00:11:22:33:44:55", src="02:aa:bb:cc:dd:ee", type=0x0800)) */
static const uint8_t eth_ipv4[14] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
    0x08, 0x00,
};

/* scapy: raw(Ether(dst="ff:ff:ff:ff:ff:ff", src="52:54:00:12:34:56")/ARP(op=1, hwsrc="52:54:00:12:34:56", psrc="192.168.1.10", pdst="192.168.1.1")) */
static const uint8_t eth_bcast_arp[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
    0x00, 0x12, 0x34, 0x56, 0xc0, 0xa8, 0x01, 0x0a, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xc0, 0xa8, 0x01, 0x01,
};

TEST(eth_parse_known_answer)
{
    struct tern_eth_repr r;
    const uint8_t dst[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
    const uint8_t src[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    REQUIRE_EQ(tern_eth_parse(eth_ipv4, sizeof eth_ipv4, &r), 14);
    CHECK_MEM(r.dst, dst, 6);
    CHECK_MEM(r.src, src, 6);
    CHECK_EQ(r.ethertype, TERN_ETHERTYPE_IPV4);

    REQUIRE_EQ(tern_eth_parse(eth_bcast_arp, sizeof eth_bcast_arp, &r), 14);
    CHECK(tern_eth_is_broadcast(r.dst));
    CHECK_EQ(r.ethertype, TERN_ETHERTYPE_ARP);
}

TEST(eth_emit_known_answer)
{
    struct tern_eth_repr r = {
        .dst = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55},
        .src = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee},
        .ethertype = TERN_ETHERTYPE_IPV4,
    };
    uint8_t buf[14];
    REQUIRE_EQ(tern_eth_emit(&r, buf, sizeof buf), 14);
    CHECK_MEM(buf, eth_ipv4, 14);

    struct tern_eth_repr a = {
        .dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        .src = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
        .ethertype = TERN_ETHERTYPE_ARP,
    };
    REQUIRE_EQ(tern_eth_emit(&a, buf, sizeof buf), 14);
    CHECK_MEM(buf, eth_bcast_arp, 14);
}

TEST(eth_emit_nospc)
{
    struct tern_eth_repr r = {.ethertype = 0x0800};
    uint8_t buf[14];
    for (size_t cap = 0; cap < 14; cap++)
        CHECK_EQ(tern_eth_emit(&r, buf, cap), TERN_E_NOSPC);
}

TEST(eth_8023_length_field_unsupported)
{
    uint8_t f[60];
    memcpy(f, eth_ipv4, 14);
    struct tern_eth_repr r;
    /* 802.3 length 46 and the largest length 1500, then the 1501..1535 gap. */
    const uint16_t types[] = {0x0000, 0x002e, 0x05dc, 0x05ff};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        f[12] = (uint8_t)(types[i] >> 8);
        f[13] = (uint8_t)types[i];
        CHECK_EQ(tern_eth_parse(f, sizeof f, &r), TERN_E_UNSUPPORTED);
    }
    f[12] = 0x06;
    f[13] = 0x00;
    CHECK_EQ(tern_eth_parse(f, sizeof f, &r), 14);
    f[12] = 0x81; /* VLAN tag: reported as the ethertype */
    CHECK_EQ(tern_eth_parse(f, sizeof f, &r), 14);
    CHECK_EQ(r.ethertype, TERN_ETHERTYPE_VLAN);
}

TEST(attack_01_eth_shorter_than_14)
{
    for (size_t len = 0; len < TERN_ETH_HLEN; len++) {
        /* Exact-size heap copy: ASan flags any read of a byte not present. */
        uint8_t *p = malloc(len ? len : 1);
        REQUIRE(p != NULL);
        memcpy(p, eth_ipv4, len);
        struct tern_eth_repr r;
        memset(&r, 0xa5, sizeof r);
        struct tern_eth_repr before = r;
        CHECK_EQ(tern_eth_parse(p, len, &r), TERN_E_SHORT);
        CHECK_MEM(&r, &before, sizeof r); /* nothing written */
        free(p);
    }
}

TEST(eth_address_classes)
{
    const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    const uint8_t ucast[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    const uint8_t zero[6] = {0};
    const uint8_t almost[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    CHECK(tern_eth_is_broadcast(bcast));
    CHECK(tern_eth_is_multicast(bcast));
    CHECK(!tern_eth_is_zero(bcast));
    CHECK(!tern_eth_is_broadcast(mcast));
    CHECK(tern_eth_is_multicast(mcast));
    CHECK(!tern_eth_is_broadcast(ucast));
    CHECK(!tern_eth_is_multicast(ucast));
    CHECK(!tern_eth_is_zero(ucast));
    CHECK(tern_eth_is_zero(zero));
    CHECK(!tern_eth_is_multicast(zero));
    CHECK(!tern_eth_is_broadcast(almost));
    CHECK(tern_eth_is_multicast(almost));
}

TEST(eth_ntoa_aton)
{
    const uint8_t mac[6] = {0x02, 0xaa, 0xbb, 0x0c, 0x0d, 0xee};
    char buf[18];
    CHECK_STR(tern_eth_ntoa(mac, buf), "02:aa:bb:0c:0d:ee");
    uint8_t out[6];
    REQUIRE_EQ(tern_eth_aton("02:aa:bb:0c:0d:ee", out), TERN_OK);
    CHECK_MEM(out, mac, 6);
    REQUIRE_EQ(tern_eth_aton("02:AA:bB:0C:0d:EE", out), TERN_OK);
    CHECK_MEM(out, mac, 6);
    const char *bad[] = {"", "02:aa:bb:0c:0d", "02:aa:bb:0c:0d:ee:", "02:aa:bb:0c:0d:ee:ff",
                         "2:aa:bb:c:d:ee", "02-aa-bb-0c-0d-ee", "02:aa:bb:0c:0d:eg",
                         " 02:aa:bb:0c:0d:ee", "02:aa:bb:0c:0d:ee ", "02:aa:bb:0c:0d:e",
                         "02aa:bb:0c:0d:ee:ff", "0x:aa:bb:0c:0d:ee"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t o[6] = {1, 2, 3, 4, 5, 6};
        if (tern_eth_aton(bad[i], o) != TERN_E_INVAL)
            test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
        CHECK_MEM(o, "\1\2\3\4\5\6", 6);
    }
}

TEST(eth_round_trip_random)
{
    for (int trial = 0; trial < 2000; trial++) {
        struct tern_eth_repr r, p;
        for (int i = 0; i < 6; i++) {
            r.dst[i] = (uint8_t)test_rand();
            r.src[i] = (uint8_t)test_rand();
        }
        r.ethertype = (uint16_t)(0x0600 + test_rand() % (0x10000 - 0x0600));
        uint8_t buf[64];
        REQUIRE_EQ(tern_eth_emit(&r, buf, sizeof buf), 14);
        REQUIRE_EQ(tern_eth_parse(buf, 14, &p), 14);
        CHECK_MEM(p.dst, r.dst, 6);
        CHECK_MEM(p.src, r.src, 6);
        CHECK_EQ(p.ethertype, r.ethertype);
        char s[18];
        uint8_t m[6];
        CHECK_EQ(tern_eth_aton(tern_eth_ntoa(r.src, s), m), TERN_OK);
        CHECK_MEM(m, r.src, 6);
    }
}
