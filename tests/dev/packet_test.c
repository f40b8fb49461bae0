/*
 * Tests for src/dev/packet.c: completing the transport checksums the kernel
 * left unfinished (TP_STATUS_CSUMNOTREADY), and tern_packet_open's errors.
 * The device itself runs against Linux in tests/scripts/peer_packet.sh.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <string.h>
#include <unistd.h>

#include "dev/devpriv.h"
#include "harness.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"

/* Ethernet + IPv4 (10.81.0.1 -> 10.81.0.2) + a transport header of hlen
 * bytes and plen payload bytes; returns the frame length. */
static size_t mk_frame(uint8_t *f, uint8_t proto, size_t hlen, size_t plen)
{
    memset(f, 0, 14 + 20 + hlen + plen);
    memset(f, 0x02, 12);
    tern_put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    tern_put16(ip + 2, (uint16_t)(20 + hlen + plen));
    ip[8] = 64;
    ip[9] = proto;
    tern_put32(ip + 12, 0x0a510001);
    tern_put32(ip + 16, 0x0a510002);
    tern_put16(ip + 10, tern_csum(ip, 20));
    uint8_t *l4 = ip + 20;
    tern_put16(l4, 5001);
    tern_put16(l4 + 2, 7);
    if (proto == 17)
        tern_put16(l4 + 4, (uint16_t)(hlen + plen));
    else
        l4[12] = (uint8_t)((hlen / 4) << 4);
    for (size_t i = 0; i < plen; i++)
        l4[hlen + i] = (uint8_t)(i * 7 + 3);
    return 14 + 20 + hlen + plen;
}

/* RFC 1071 s1: a segment whose checksum is right sums, with the
 * pseudo-header, to all ones (folds to 0). */
static bool l4_sum_ok(const uint8_t *f, size_t l4len, uint8_t proto)
{
    const uint8_t *ip = f + 14;
    uint32_t s = tern_csum_pseudo_ipv4(tern_get32(ip + 12), tern_get32(ip + 16), proto,
                                       (uint16_t)l4len);
    return tern_csum_fold(tern_csum_add(s, ip + 20, l4len)) == 0;
}

TEST(packet_complete_csum_tcp_and_udp)
{
    static uint8_t f[14 + 65535];
    /* A 64 KiB TCP super-segment (GSO through a veth), odd length, with the
     * kernel's partial sum (anything) in the field. */
    size_t n = mk_frame(f, 6, 20, 65000 - 40 + 1);
    tern_put16(f + 14 + 20 + 16, 0x1234);
    CHECK(!l4_sum_ok(f, n - 34, 6));
    CHECK_EQ(dev_complete_csum(f, n), 0);
    CHECK(l4_sum_ok(f, n - 34, 6));
    /* UDP */
    n = mk_frame(f, 17, 8, 100);
    tern_put16(f + 14 + 20 + 6, 0xbeef);
    CHECK_EQ(dev_complete_csum(f, n), 0);
    CHECK(l4_sum_ok(f, n - 34, 17));
    CHECK(tern_get16(f + 14 + 20 + 6) != 0); /* RFC 768: 0 would mean "none" */
    /* Trailing Ethernet padding past the IP total length is not summed. */
    n = mk_frame(f, 6, 20, 6);
    memset(f + n, 0xab, 10);
    tern_put16(f + 14 + 20 + 16, 0);
    CHECK_EQ(dev_complete_csum(f, n + 10), 0);
    CHECK(l4_sum_ok(f, n - 34, 6));
}

TEST(packet_rx_flags_from_the_kernel_status)
{
    static uint8_t f[2048];
    /* TP_STATUS_CSUM_VALID (the kernel or the NIC verified it): the stack
     * is told, the frame untouched (even a field the stack would reject). */
    size_t n = mk_frame(f, 6, 20, 100);
    tern_put16(f + 14 + 20 + 16, 0x1234);
    CHECK_EQ(dev_packet_rx_flags(TP_STATUS_USER | TP_STATUS_CSUM_VALID, f, n), TERN_RX_CSUM_OK);
    CHECK_EQ(tern_get16(f + 14 + 20 + 16), 0x1234);
    /* No word from the kernel: the stack verifies. */
    CHECK_EQ(dev_packet_rx_flags(TP_STATUS_USER, f, n), 0u);
    /* Partial (TP_STATUS_CSUMNOTREADY): completed here, then vouched for. */
    CHECK_EQ(dev_packet_rx_flags(TP_STATUS_USER | TP_STATUS_CSUMNOTREADY, f, n), TERN_RX_CSUM_OK);
    CHECK(l4_sum_ok(f, n - 34, 6));
    /* Partial but not TCP/UDP over IPv4: nothing to vouch for. */
    n = mk_frame(f, 1, 8, 56);
    CHECK_EQ(dev_packet_rx_flags(TP_STATUS_USER | TP_STATUS_CSUMNOTREADY, f, n), 0u);
}

TEST(packet_complete_csum_leaves_other_frames)
{
    static uint8_t f[2048], g[2048];
    size_t n = mk_frame(f, 1, 8, 56); /* ICMP: the kernel never leaves it partial */
    memcpy(g, f, sizeof g);
    CHECK_EQ(dev_complete_csum(f, n), -1);
    CHECK_MEM(f, g, n);
    n = mk_frame(f, 6, 20, 100);
    tern_put16(f + 14 + 6, 0x2000); /* more fragments: no whole segment */
    memcpy(g, f, sizeof g);
    CHECK_EQ(dev_complete_csum(f, n), -1);
    CHECK_MEM(f, g, n);
    n = mk_frame(f, 6, 20, 100);
    memcpy(g, f, sizeof g);
    CHECK_EQ(dev_complete_csum(f, n - 1), -1); /* IP length beyond the frame */
    CHECK_MEM(f, g, n);
    tern_put16(f + 12, 0x0806); /* ARP */
    CHECK_EQ(dev_complete_csum(f, n), -1);
    n = mk_frame(f, 6, 20, 0);
    CHECK_EQ(dev_complete_csum(f, 30), -1); /* shorter than an IPv4 header */
    f[14] = 0x44; /* IHL 4: bad */
    CHECK_EQ(dev_complete_csum(f, n), -1);
    n = mk_frame(f, 17, 8, 0);
    tern_put16(f + 16, 20 + 4); /* IP length leaves no whole UDP header */
    CHECK_EQ(dev_complete_csum(f, n), -1);
}

TEST(packet_open_errors)
{
    struct tern_loop *l = tern_loop_real_new(NULL, NULL);
    REQUIRE(l);
    errno = 0;
    CHECK(tern_packet_open(NULL, "lo", 0) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(tern_packet_open(l, "", 0) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(tern_packet_open(l, "a-name-longer-than-ifnamsiz", 0) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(tern_packet_open(l, "lo", 0x80) == NULL); /* unknown flag */
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(tern_packet_open(l, "ternpk-none", 0) == NULL);
    CHECK_EQ(errno, ENODEV);
    if (geteuid() == 0) {
        errno = 0;
        CHECK(tern_packet_open(l, "lo", 0) == NULL); /* loopback: not Ethernet */
        CHECK_EQ(errno, EMEDIUMTYPE);
    } else {
        printf("skip - packet_open_errors on lo: not root\n");
    }
    tern_loop_destroy(l);
}
