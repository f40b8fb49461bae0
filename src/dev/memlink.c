/*
 * memlink.c - two devices joined back to back in memory.
 *
 * What side A sends is copied into B's receive FIFO (qlen preallocated
 * slots of MTU + link header bytes; full -> drop-tail, counted in A's
 * tx_dropped) and a zero-delay timer on the loop hands the queued frames to
 * B's rx handler on the next turn, never inside A's send. No loss, delay or
 * reordering: wrap a side with tern_impair_wrap() for that. No allocation
 * after creation.
 *
 * Ethernet sides get MACs 02:00:00:00:00:01 (a) and 02:00:00:00:00:02 (b):
 * locally administered and deterministic; callers running several links on
 * one segment override them in struct tern_iface_config.
 * Destroying one side leaves the other safe (its sends are dropped and
 * counted); destroy both.
 */
#include <stdlib.h>
#include <string.h>

#include "dev/devpriv.h"
#include "tern/err.h"

struct memlink_dev {
    struct tern_device dev;
    struct memlink_dev *peer; /* NULL once the peer is destroyed */
    struct tern_loop *loop;
    struct tern_timer timer;  /* delivers this side's FIFO to its rx handler */
    /* Frames waiting to be received by this side: a ring of qlen slots. */
    uint8_t *slots;
    size_t *lens;
    size_t slot_size, qlen, head, count;
};

static int ml_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct memlink_dev *m = (struct memlink_dev *)d, *p = m->peer;
    int err = len > tern_dev_max_frame(d) ? TERN_E_BAD_LEN
              : !p                        ? TERN_E_IO     /* the peer was destroyed */
              : p->count == p->qlen       ? TERN_E_NOMEM  /* drop-tail */
                                          : 0;
    if (err) {
        d->stats.tx_dropped++;
        return err;
    }
    size_t i = (p->head + p->count) % p->qlen;
    memcpy(p->slots + i * p->slot_size, frame, len);
    p->lens[i] = len;
    p->count++;
    tern_dev_count_tx(d, len);
    if (!tern_timer_armed(&p->timer))
        tern_timer_arm(p->loop, &p->timer, tern_loop_now(p->loop));
    return 0;
}

/* Hands over the frames queued when the turn began; frames sent by the rx
 * handlers meanwhile wait for the next turn. The slot stays occupied while
 * its handler runs, so a send from the handler cannot overwrite it. */
static void ml_deliver(struct tern_timer *t, void *arg)
{
    (void)t;
    struct memlink_dev *m = arg;
    for (size_t n = m->count; n > 0 && m->count > 0; n--) {
        tern_device_deliver(&m->dev, m->slots + m->head * m->slot_size, m->lens[m->head]);
        m->head = (m->head + 1) % m->qlen;
        m->count--;
    }
    if (m->count > 0)
        tern_timer_arm(m->loop, &m->timer, tern_loop_now(m->loop));
}

static void ml_destroy(struct tern_device *d)
{
    struct memlink_dev *m = (struct memlink_dev *)d;
    if (m->peer)
        m->peer->peer = NULL;
    tern_timer_cancel(m->loop, &m->timer);
    free(m->slots);
    free(m->lens);
    free(m);
}

static const struct tern_device_ops ml_ops = {.send = ml_send, .destroy = ml_destroy};

static struct memlink_dev *ml_new(struct tern_loop *loop, enum tern_link_type link, uint16_t mtu,
                                  size_t qlen, uint8_t id)
{
    struct memlink_dev *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->dev.ops = &ml_ops;
    m->dev.link = link;
    m->dev.mtu = mtu;
    if (link == TERN_LINK_ETHERNET)
        memcpy(m->dev.mac, (const uint8_t[6]){0x02, 0, 0, 0, 0, id}, 6);
    memcpy(m->dev.name, id == 1 ? "mem-a" : "mem-b", 6);
    m->loop = loop;
    tern_timer_init(&m->timer, ml_deliver, m);
    m->qlen = qlen;
    m->slot_size = tern_dev_max_frame(&m->dev);
    m->slots = malloc(qlen * m->slot_size);
    m->lens = calloc(qlen, sizeof *m->lens);
    if (!m->slots || !m->lens) {
        ml_destroy(&m->dev);
        return NULL;
    }
    return m;
}

int tern_memlink_pair(struct tern_loop *loop, enum tern_link_type link, uint16_t mtu,
                      size_t qlen, struct tern_device **a, struct tern_device **b)
{
    if (!loop || !a || !b || mtu == 0 || qlen == 0 || qlen > SIZE_MAX / 65600 ||
        (link != TERN_LINK_ETHERNET && link != TERN_LINK_RAW_IP))
        return TERN_E_INVAL;
    struct memlink_dev *ma = ml_new(loop, link, mtu, qlen, 1);
    struct memlink_dev *mb = ma ? ml_new(loop, link, mtu, qlen, 2) : NULL;
    if (!mb) {
        if (ma)
            ml_destroy(&ma->dev);
        return TERN_E_NOMEM;
    }
    ma->peer = mb;
    mb->peer = ma;
    *a = &ma->dev;
    *b = &mb->dev;
    return 0;
}
