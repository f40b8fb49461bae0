/*
 * The virtio-net header of TAP/TUN offloads (src/dev/vnet.c): its byte
 * layout, completing a partial checksum on receive, and the header and
 * pseudo-header sum of a TCP super-segment on send. Checksums are checked
 * against tern_tcp_emit's / a from-scratch RFC 1071 sum, not against
 * vnet.c's own arithmetic.
 */
#include <string.h>

#include "dev/vnet.h"
#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/tcp.h"
#include "tern/wire/udp.h"

#define SRC 0x0a000002u
#define DST 0x0a000001u

static uint8_t g_frame[70000];

/* Ethernet + IPv4 + TCP with `plen` payload bytes and timestamps; returns
 * the frame length. The TCP checksum is tern_tcp_emit's (right). */
static size_t tcp_frame(uint8_t *f, size_t plen, uint16_t frag, uint16_t flags)
{
    static uint8_t pay[66000];
    for (size_t i = 0; i < plen; i++)
        pay[i] = (uint8_t)(i * 7 + 3);
    memset(f, 0, 14);
    f[0] = 0x02;
    f[6] = 0x02;
    f[11] = 1;
    tern_put16(f + 12, 0x0800);
    struct tern_tcp_repr t;
    memset(&t, 0, sizeof t);
    t.sport = 40000;
    t.dport = 80;
    t.seq = 1000;
    t.ack = 5000;
    t.flags = flags;
    t.win = 1000;
    t.opts.has_ts = true;
    t.opts.ts_val = 7;
    t.payload = pay;
    t.payload_len = plen;
    int tl = tern_tcp_emit(&t, SRC, DST, f + 34, 65535 - 20);
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.proto = 6;
    ip.src = SRC;
    ip.dst = DST;
    ip.df = !frag;
    ip.mf = frag != 0;
    ip.payload_len = (uint16_t)tl;
    int h = tern_ipv4_emit(&ip, f + 14, 20);
    (void)h;
    return 14 + 20 + (size_t)tl;
}

TEST(vnet_hdr_layout_and_roundtrip)
{
    struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN,
                         .hdr_len = 66, .gso_size = 1448, .csum_start = 34, .csum_offset = 16};
    uint8_t b[VNET_HDR_LEN];
    vnet_hdr_encode(&h, b);
    uint16_t v;
    CHECK_EQ(b[0], 1);
    CHECK_EQ(b[1], 0x81);
    memcpy(&v, b + 2, 2); /* host order, as a tun fd on this host reads it */
    CHECK_EQ(v, 66);
    memcpy(&v, b + 4, 2);
    CHECK_EQ(v, 1448);
    memcpy(&v, b + 6, 2);
    CHECK_EQ(v, 34);
    memcpy(&v, b + 8, 2);
    CHECK_EQ(v, 16);
    struct vnet_hdr d;
    memset(&d, 0xee, sizeof d);
    vnet_hdr_decode(b, &d);
    CHECK_EQ(d.flags, h.flags);
    CHECK_EQ(d.gso_type, h.gso_type);
    CHECK_EQ(d.hdr_len, h.hdr_len);
    CHECK_EQ(d.gso_size, h.gso_size);
    CHECK_EQ(d.csum_start, h.csum_start);
    CHECK_EQ(d.csum_offset, h.csum_offset);
}

/* What the kernel hands over with NEEDS_CSUM: the TCP checksum field holds
 * the pseudo-header sum (folded, not complemented). */
static void make_partial(uint8_t *f, size_t len)
{
    uint16_t tl = (uint16_t)(len - 34);
    uint32_t ps = tern_csum_pseudo_ipv4(SRC, DST, 6, tl);
    while (ps >> 16)
        ps = (ps & 0xffff) + (ps >> 16);
    tern_put16(f + 34 + 16, (uint16_t)ps);
}

TEST(vnet_rx_completes_a_partial_tcp_checksum)
{
    size_t sizes[] = {0, 1, 1448, 1449, 30001, 65000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = tcp_frame(g_frame, sizes[i], 0, TERN_TCP_ACK);
        uint16_t right = tern_get16(g_frame + 50);
        make_partial(g_frame, len);
        CHECK(tern_get16(g_frame + 50) != right || sizes[i] == 0);
        struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
        if (sizes[i] > 1448) {
            h.gso_type = VNET_GSO_TCPV4; /* a GRO'd / unsplit segment: nothing else to do */
            h.gso_size = 1448;
        }
        CHECK_EQ(vnet_rx_fixup(g_frame, len, TERN_LINK_ETHERNET, &h), TERN_RX_CSUM_OK);
        CHECK_EQ(tern_get16(g_frame + 50), right);
        struct tern_tcp_repr r;
        CHECK(tern_tcp_parse(g_frame + 34, len - 34, SRC, DST, 0, &r) >= 0);
        CHECK_EQ(r.payload_len, sizes[i]);
    }
}

TEST(vnet_rx_partial_checksum_ignores_ethernet_padding)
{
    size_t len = tcp_frame(g_frame, 2, 0, TERN_TCP_ACK); /* 68 bytes: padded below */
    uint16_t right = tern_get16(g_frame + 50);
    make_partial(g_frame, len);
    memset(g_frame + len, 0xab, 8);
    struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
    CHECK_EQ(vnet_rx_fixup(g_frame, len + 8, TERN_LINK_ETHERNET, &h), TERN_RX_CSUM_OK);
    CHECK_EQ(tern_get16(g_frame + 50), right);
}

TEST(vnet_rx_raw_ip_and_udp_zero)
{
    /* TUN: no link header; a UDP datagram whose checksum computes to 0
     * must read 0xffff (RFC 768). Payload chosen so the sum is 0xffff:
     * found by trying, then checked from scratch. */
    uint8_t *p = g_frame;
    for (uint32_t k = 0; k < 65536; k++) {
        struct tern_ipv4_repr ip;
        memset(&ip, 0, sizeof ip);
        ip.ttl = 64;
        ip.proto = 17;
        ip.src = SRC;
        ip.dst = DST;
        ip.payload_len = 8 + 2;
        tern_ipv4_emit(&ip, p, 20);
        tern_put16(p + 20, 53);
        tern_put16(p + 22, 1053);
        tern_put16(p + 24, 10);
        tern_put16(p + 26, 0);
        tern_put16(p + 28, (uint16_t)k);
        uint32_t s = tern_csum_add(tern_csum_pseudo_ipv4(SRC, DST, 17, 10), p + 20, 10);
        if (tern_csum_fold(s) != 0)
            continue;
        uint32_t ps = tern_csum_pseudo_ipv4(SRC, DST, 17, 10);
        while (ps >> 16)
            ps = (ps & 0xffff) + (ps >> 16);
        tern_put16(p + 26, (uint16_t)ps);
        struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 6};
        CHECK_EQ(vnet_rx_fixup(p, 30, TERN_LINK_RAW_IP, &h), TERN_RX_CSUM_OK);
        CHECK_EQ(tern_get16(p + 26), 0xffff);
        struct tern_udp_repr u;
        CHECK(tern_udp_parse(p + 20, 10, SRC, DST, 0, &u) >= 0);
        return;
    }
    CHECK(!"no payload with a zero sum found");
}

TEST(vnet_rx_flags_fragments_and_bad_headers)
{
    size_t len = tcp_frame(g_frame, 100, 0, TERN_TCP_ACK);
    struct vnet_hdr v = {.flags = VNET_F_DATA_VALID};
    CHECK_EQ(vnet_rx_fixup(g_frame, len, TERN_LINK_ETHERNET, &v), TERN_RX_CSUM_OK);
    struct vnet_hdr none = {0};
    CHECK_EQ(vnet_rx_fixup(g_frame, len, TERN_LINK_ETHERNET, &none), 0);
    /* A fragment: nothing is known of the datagram's checksum. */
    len = tcp_frame(g_frame, 100, 1, TERN_TCP_ACK);
    CHECK_EQ(vnet_rx_fixup(g_frame, len, TERN_LINK_ETHERNET, &v), 0);
    /* Offsets outside the packet: dropped, nothing written. */
    len = tcp_frame(g_frame, 100, 0, TERN_TCP_ACK);
    uint8_t before[200];
    memcpy(before, g_frame, len);
    struct vnet_hdr b1 = {.flags = VNET_F_NEEDS_CSUM, .csum_start = (uint16_t)len, .csum_offset = 0};
    CHECK_EQ(vnet_rx_fixup(g_frame, len, TERN_LINK_ETHERNET, &b1), -1);
    struct vnet_hdr b2 = {.flags = VNET_F_NEEDS_CSUM, .csum_start = 34,
                          .csum_offset = (uint16_t)(len - 34 - 1)};
    CHECK_EQ(vnet_rx_fixup(g_frame, len, TERN_LINK_ETHERNET, &b2), -1);
    CHECK_MEM(g_frame, before, len);
    /* A checksum that is not the transport header's: completed, not vouched for. */
    struct vnet_hdr b3 = {.flags = VNET_F_NEEDS_CSUM, .csum_start = 40, .csum_offset = 4};
    CHECK_EQ(vnet_rx_fixup(g_frame, len, TERN_LINK_ETHERNET, &b3), 0);
}

TEST(vnet_tx_plain_frame_and_super_segment)
{
    struct vnet_hdr h;
    uint16_t ps;
    size_t at;
    size_t len = tcp_frame(g_frame, 1448, 0, TERN_TCP_ACK); /* 20 + 32 + 1448 = 1500 */
    CHECK_EQ(vnet_tx_prepare(g_frame, len, TERN_LINK_ETHERNET, 1500, &h, &ps, &at), 0);
    CHECK_EQ(h.flags, 0);
    CHECK_EQ(h.gso_type, 0);
    CHECK_EQ(at, 0);

    len = tcp_frame(g_frame, 45 * 1448, 0, TERN_TCP_ACK | TERN_TCP_PSH);
    uint16_t right = tern_get16(g_frame + 50);
    CHECK_EQ(vnet_tx_prepare(g_frame, len, TERN_LINK_ETHERNET, 1500, &h, &ps, &at), 0);
    CHECK_EQ(h.flags, VNET_F_NEEDS_CSUM);
    CHECK_EQ(h.gso_type, VNET_GSO_TCPV4);
    CHECK_EQ(h.gso_size, 1448); /* 1500 - 20 - 32 */
    CHECK_EQ(h.hdr_len, 14 + 20 + 32);
    CHECK_EQ(h.csum_start, 34);
    CHECK_EQ(h.csum_offset, 16);
    CHECK_EQ(at, 50);
    /* What the kernel does with it: sums from csum_start with the pseudo
     * sum in the field. The result must be the right checksum. */
    tern_put16(g_frame + 50, ps);
    CHECK_EQ(tern_csum_fold(tern_csum_add(0, g_frame + 34, len - 34)), right);
    /* ... and the pseudo sum is RFC 9293 s3.1's, from scratch. */
    uint32_t want = (SRC >> 16) + (SRC & 0xffff) + (DST >> 16) + (DST & 0xffff) + 6 + (len - 34);
    while (want >> 16)
        want = (want & 0xffff) + (want >> 16);
    CHECK_EQ(ps, want);

    len = tcp_frame(g_frame, 3000, 0, TERN_TCP_ACK | 0x80 /* CWR */);
    CHECK_EQ(vnet_tx_prepare(g_frame, len, TERN_LINK_ETHERNET, 1500, &h, &ps, &at), 0);
    CHECK_EQ(h.gso_type, VNET_GSO_TCPV4 | VNET_GSO_ECN);
    /* TUN: no link header. */
    CHECK_EQ(vnet_tx_prepare(g_frame + 14, len - 14, TERN_LINK_RAW_IP, 1500, &h, &ps, &at), 0);
    CHECK_EQ(h.csum_start, 20);
    CHECK_EQ(at, 36);
    CHECK_EQ(h.gso_size, 1448);
}

TEST(vnet_tx_refuses_what_it_cannot_cut)
{
    struct vnet_hdr h;
    uint16_t ps;
    size_t at;
    /* Too big and a fragment. */
    size_t len = tcp_frame(g_frame, 3000, 1, TERN_TCP_ACK);
    CHECK_EQ(vnet_tx_prepare(g_frame, len, TERN_LINK_ETHERNET, 1500, &h, &ps, &at), -1);
    /* Too big and UDP. */
    len = tcp_frame(g_frame, 3000, 0, TERN_TCP_ACK);
    g_frame[14 + 9] = 17;
    CHECK_EQ(vnet_tx_prepare(g_frame, len, TERN_LINK_ETHERNET, 1500, &h, &ps, &at), -1);
    /* Too big and cut short (IP length beyond the frame). */
    len = tcp_frame(g_frame, 3000, 0, TERN_TCP_ACK);
    CHECK_EQ(vnet_tx_prepare(g_frame, len - 1, TERN_LINK_ETHERNET, 1500, &h, &ps, &at), -1);
    /* Not IPv4 (ARP's ethertype). */
    tern_put16(g_frame + 12, 0x0806);
    CHECK_EQ(vnet_tx_prepare(g_frame, len, TERN_LINK_ETHERNET, 1500, &h, &ps, &at), -1);
}
