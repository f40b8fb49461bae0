/*
 * device.c - what every device shares: handing a received frame to the
 * stack. Not a device itself; see memlink.c, custom.c, impair.c, tuntap.c.
 */
#include "tern/device.h"

void tern_device_deliver(struct tern_device *d, const uint8_t *frame, size_t len)
{
    d->stats.rx_frames++;
    d->stats.rx_bytes += len;
    if (d->rx)
        d->rx(d->rx_ctx, d, frame, len);
    else
        d->stats.rx_dropped++; /* nobody attached yet */
}
