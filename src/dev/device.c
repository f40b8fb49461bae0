/*
 * device.c - what every device shares: handing a received frame to the
 * stack. Not a device itself; see memlink.c, custom.c, impair.c, tuntap.c.
 */
#include <errno.h>

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

void tern_device_deliver_flags(struct tern_device *d, const uint8_t *frame, size_t len,
                               unsigned flags)
{
    unsigned saved = d->rx_flags;
    d->rx_flags = flags;
    tern_device_deliver(d, frame, len);
    d->rx_flags = saved;
}

void tern_device_set_down(struct tern_device *d, tern_down_fn fn, void *ctx)
{
    d->down = fn;
    d->down_ctx = ctx;
    if (fn && d->down_err)
        fn(ctx, d, d->down_err);
}

void tern_device_report_down(struct tern_device *d, int err)
{
    if (d->down_err)
        return; /* said once */
    d->down_err = err ? err : EIO;
    if (d->down)
        d->down(d->down_ctx, d, d->down_err);
}
