/*
 * vnet.c - the virtio-net header of TAP/TUN offloads (see vnet.h):
 * encoding, decoding, completing a partial checksum on receive and
 * describing a TCP super-segment on send. Pure: no OS calls.
 */
#include "dev/vnet.h"

#include <string.h>

#include "dev/devpriv.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"

static void put16h(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); } /* host order */
static uint16_t get16h(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

void vnet_hdr_encode(const struct vnet_hdr *h, uint8_t out[VNET_HDR_LEN])
{
    out[0] = h->flags;
    out[1] = h->gso_type;
    put16h(out + 2, h->hdr_len);
    put16h(out + 4, h->gso_size);
    put16h(out + 6, h->csum_start);
    put16h(out + 8, h->csum_offset);
}

void vnet_hdr_decode(const uint8_t in[VNET_HDR_LEN], struct vnet_hdr *h)
{
    h->flags = in[0];
    h->gso_type = in[1];
    h->hdr_len = get16h(in + 2);
    h->gso_size = get16h(in + 4);
    h->csum_start = get16h(in + 6);
    h->csum_offset = get16h(in + 8);
}

/* Where the IPv4 packet in frame starts (l2) and how long it is; false if
 * the frame holds no IPv4 packet with a believable header. */
static bool ipv4_at(const uint8_t *frame, size_t len, enum tern_link_type link, size_t *l2,
                    size_t *ihl, size_t *tot)
{
    size_t o = dev_hdr_len(link);
    if (link == TERN_LINK_ETHERNET && (len < o || tern_get16(frame + 12) != 0x0800))
        return false;
    if (len < o + 20 || (frame[o] >> 4) != 4)
        return false;
    size_t h = (size_t)(frame[o] & 0x0f) * 4, t = tern_get16(frame + o + 2);
    if (h < 20 || t < h || o + t > len)
        return false;
    *l2 = o;
    *ihl = h;
    *tot = t;
    return true;
}

int vnet_rx_fixup(uint8_t *frame, size_t len, enum tern_link_type link, const struct vnet_hdr *h)
{
    size_t l2 = 0, ihl = 0, tot = 0;
    bool ip = ipv4_at(frame, len, link, &l2, &ihl, &tot);
    /* A fragment's transport checksum covers the whole datagram: nothing
     * about it is known from one piece. */
    bool whole = ip && (tern_get16(frame + l2 + 6) & 0x3fff) == 0;
    if (h->flags & VNET_F_NEEDS_CSUM) {
        size_t end = ip ? l2 + tot : len;
        size_t at = (size_t)h->csum_start + h->csum_offset;
        if (h->csum_start >= end || at + 2 > end)
            return -1;
        /* The field holds the pseudo-header sum; the sum over
         * [csum_start, end) with it in place is the whole sum, and its
         * complement the checksum (RFC 1071 s1; RFC 9293 s3.1, RFC 768). */
        uint16_t c = tern_csum_fold(tern_csum_add(0, frame + h->csum_start, end - h->csum_start));
        if (c == 0 && ip && frame[l2 + 9] == 17)
            c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
        tern_put16(frame + at, c);
        return whole && h->csum_start == l2 + ihl ? (int)TERN_RX_CSUM_OK : 0;
    }
    if (h->flags & VNET_F_DATA_VALID)
        return whole ? (int)TERN_RX_CSUM_OK : 0;
    return 0;
}

int vnet_tx_prepare(const uint8_t *frame, size_t len, enum tern_link_type link, uint16_t mtu,
                    struct vnet_hdr *h, uint16_t *pseudo, size_t *pseudo_at)
{
    memset(h, 0, sizeof *h);
    *pseudo = 0;
    *pseudo_at = 0;
    size_t o = dev_hdr_len(link);
    if (len <= o + mtu)
        return 0;
    size_t l2, ihl, tot;
    if (!ipv4_at(frame, len, link, &l2, &ihl, &tot) || l2 + tot != len ||
        frame[l2 + 9] != 6 || (tern_get16(frame + l2 + 6) & 0x3fff) != 0 || tot - ihl < 20)
        return -1;
    const uint8_t *th = frame + l2 + ihl;
    size_t thl = (size_t)(th[12] >> 4) * 4;
    if (thl < 20 || ihl + thl >= tot || ihl + thl >= mtu)
        return -1;
    h->flags = VNET_F_NEEDS_CSUM;
    h->gso_type = VNET_GSO_TCPV4;
    if (th[13] & 0x80) /* CWR: the kernel sets it on the first piece only */
        h->gso_type |= VNET_GSO_ECN;
    h->hdr_len = (uint16_t)(l2 + ihl + thl);
    h->gso_size = (uint16_t)(mtu - ihl - thl);
    h->csum_start = (uint16_t)(l2 + ihl);
    h->csum_offset = 16;
    uint32_t src = tern_get32(frame + l2 + 12), dst = tern_get32(frame + l2 + 16);
    *pseudo = (uint16_t)~tern_csum_fold(tern_csum_pseudo_ipv4(src, dst, 6, (uint16_t)(tot - ihl)));
    *pseudo_at = l2 + ihl + 16;
    return 0;
}
