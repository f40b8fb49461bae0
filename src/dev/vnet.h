/*
 * src/dev/vnet.h - the virtio-net header that prefixes every frame on a
 * TAP/TUN fd opened with IFF_VNET_HDR (tuntap.c), and the two fixups it
 * asks for. Pure (no OS calls): unit-tested in tests/dev/vnet_test.c.
 * Internal to src/dev; not a public API.
 *
 * Layout (struct virtio_net_hdr of linux/virtio_net.h, the legacy 10-byte
 * header; multi-byte fields in host byte order, which is what a tun fd
 * without TUNSETVNETLE/BE uses on a little-endian host):
 *   0 flags  1 gso_type  2 hdr_len  4 gso_size  6 csum_start  8 csum_offset
 */
#ifndef TERN_DEV_VNET_H
#define TERN_DEV_VNET_H

#include <stddef.h>
#include <stdint.h>

#include "tern/device.h"

#define VNET_HDR_LEN 10
/* flags */
#define VNET_F_NEEDS_CSUM 1u /* checksum from csum_start to the end, stored at +csum_offset */
#define VNET_F_DATA_VALID 2u /* the kernel checked the checksum */
/* gso_type */
#define VNET_GSO_NONE 0u
#define VNET_GSO_TCPV4 1u
#define VNET_GSO_ECN 0x80u

struct vnet_hdr {
    uint8_t flags, gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

void vnet_hdr_encode(const struct vnet_hdr *h, uint8_t out[VNET_HDR_LEN]);
void vnet_hdr_decode(const uint8_t in[VNET_HDR_LEN], struct vnet_hdr *h);

/* A received frame (link: its link type) and its header: completes a
 * partial checksum in place (VNET_F_NEEDS_CSUM: the field holds the
 * pseudo-header sum, the one's complement sum from csum_start to the end
 * of the IP packet is folded into it). Returns the TERN_RX_* flags for
 * tern_device_deliver_flags (TERN_RX_CSUM_OK for a completed or a
 * DATA_VALID frame that is not an IP fragment), or -1: a header that does
 * not fit the frame (drop it). A GSO frame (gso_type TCPV4, larger than
 * the MTU) needs nothing: it is one large, well-formed TCP segment. */
int vnet_rx_fixup(uint8_t *frame, size_t len, enum tern_link_type link,
                  const struct vnet_hdr *h);

/* The header for sending frame[0..len) on a device of this link type and
 * MTU. A packet that fits the MTU goes as it is (flags 0: tern computed
 * every checksum). A larger one must be a TCP/IPv4 super-segment (not a
 * fragment): GSO TCPV4 with gso_size = MTU - IP header - TCP header (the
 * segments the kernel cuts fill the MTU; tcp_out.c builds super-segments
 * only when its MSS is that size), NEEDS_CSUM at the TCP checksum, and
 * *pseudo = the pseudo-header sum (RFC 9293 s3.1, the super-segment's TCP
 * length, folded, not complemented) that must replace the TCP checksum
 * field at *pseudo_at on the wire: the kernel sums the rest and writes each
 * piece's checksum. *pseudo_at = 0 when nothing is replaced.
 * Returns 0, or -1: too big and not a TCP/IPv4 segment (drop it). */
int vnet_tx_prepare(const uint8_t *frame, size_t len, enum tern_link_type link, uint16_t mtu,
                    struct vnet_hdr *h, uint16_t *pseudo, size_t *pseudo_at);

#endif
