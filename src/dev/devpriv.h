/*
 * src/dev/devpriv.h - helpers shared by the device implementations.
 * Internal to src/dev; not a public API.
 */
#ifndef TERN_DEV_DEVPRIV_H
#define TERN_DEV_DEVPRIV_H

#include <stddef.h>
#include <stdint.h>

#include "tern/device.h"

#define TERN_ETH_HDR_LEN 14

/* Bytes of link header in front of the IP packet (Ethernet II: 14). */
static inline size_t dev_hdr_len(enum tern_link_type link)
{
    return link == TERN_LINK_ETHERNET ? TERN_ETH_HDR_LEN : 0;
}

/* The largest frame a device carries: its MTU plus the link header. */
static inline size_t dev_max_frame(const struct tern_device *d)
{
    return (size_t)d->mtu + dev_hdr_len(d->link);
}

/* The largest frame a device takes for sending: max_frame, or with TCP
 * segmentation offload (tso_max) the largest super-segment's frame. */
static inline size_t dev_max_tx(const struct tern_device *d)
{
    size_t t = (size_t)d->tso_max + dev_hdr_len(d->link);
    return d->tso_max && t > dev_max_frame(d) ? t : dev_max_frame(d);
}

/* Counts one frame handed on for transmission. */
static inline void dev_count_tx(struct tern_device *d, size_t len)
{
    d->stats.tx_frames++;
    d->stats.tx_bytes += len;
}

/* A wrapper's down handler on its inner device: the wrapper (ctx, a struct
 * tern_device *) goes down with it, so whoever watches the outermost device
 * hears of it. */
static inline void dev_pass_down(void *ctx, struct tern_device *inner, int err)
{
    (void)inner;
    tern_device_report_down(ctx, err);
}

/* packet.c: an Ethernet frame carrying IPv4 + TCP or UDP whose transport
 * checksum the kernel left unfinished (TP_STATUS_CSUMNOTREADY) gets it
 * computed and stored in place. 0 done, -1 not such a frame (untouched).
 * The IPv4 header itself is not checked; the stack does that. */
int dev_complete_csum(uint8_t *frame, size_t len);
/* packet.c: TERN_RX_* flags of a received frame from its TPACKET status
 * (a partial checksum is completed in place first). */
unsigned dev_packet_rx_flags(uint32_t tp_status, uint8_t *frame, size_t len);

#endif
