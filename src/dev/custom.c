/*
 * custom.c - a device supplied by an embedder: tern calls the embedder's
 * send function, the embedder calls tern_device_deliver() for frames it
 * receives. No queue, no timers; frames longer than MTU + link header are
 * dropped before they reach the embedder.
 */
#include <stdlib.h>
#include <string.h>

#include "dev/devpriv.h"
#include "tern/err.h"

struct custom_dev {
    struct tern_device dev;
    int (*send)(void *ctx, const uint8_t *frame, size_t len);
    void *ctx;
};

static int custom_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct custom_dev *c = (struct custom_dev *)d;
    if (len > dev_max_tx(d)) { /* an embedder that set tso_max takes super-segments */
        d->stats.tx_dropped++;
        return TERN_E_BAD_LEN;
    }
    int rc = c->send(c->ctx, frame, len);
    if (rc < 0) {
        d->stats.tx_dropped++;
        return rc;
    }
    dev_count_tx(d, len);
    return 0;
}

static void custom_destroy(struct tern_device *d) { free(d); }

static const struct tern_device_ops custom_ops = {.send = custom_send, .destroy = custom_destroy};

struct tern_device *tern_custom_device_new(enum tern_link_type link, uint16_t mtu,
                                           const uint8_t mac[6],
                                           int (*send)(void *ctx, const uint8_t *frame, size_t len),
                                           void *ctx)
{
    if (!send || mtu == 0 || (link != TERN_LINK_ETHERNET && link != TERN_LINK_RAW_IP))
        return NULL;
    struct custom_dev *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->dev.ops = &custom_ops;
    c->dev.link = link;
    c->dev.mtu = mtu;
    if (mac)
        memcpy(c->dev.mac, mac, 6);
    strcpy(c->dev.name, "custom");
    c->send = send;
    c->ctx = ctx;
    return &c->dev;
}
