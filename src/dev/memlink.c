/*
 * memlink.c - two devices joined back to back in memory.
 *
 * What side A sends goes into B's receive FIFO (qlen entries; full ->
 * drop-tail, counted in A's tx_dropped) and a zero-delay timer on the loop
 * hands the queued frames to B's rx handler on the next turn, never inside
 * A's send. A frame sent by reference (send_frame: a stack's frame buffer)
 * is queued as it is - ownership moves, as with a NIC's DMA, and the buffer
 * goes back to its pool once B's handler returns; a frame sent by plain
 * send() is copied into one of B's qlen preallocated buffers. No loss,
 * delay or reordering: wrap a side with tern_impair_wrap() for that. No
 * allocation after creation.
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
#include "dev/frame.h"
#include "tern/err.h"

struct ml_ent {
    struct tern_frame *f;
    size_t off, len; /* the frame is f->data[off, off + len) */
};

struct memlink_dev {
    struct tern_device dev;
    struct memlink_dev *peer; /* NULL once the peer is destroyed */
    struct tern_loop *loop;
    struct tern_timer timer;  /* delivers this side's FIFO to its rx handler */
    /* Frames waiting to be received by this side: a ring of qlen entries. */
    struct ml_ent *q;
    size_t qlen, head, count;
    struct tern_frame_pool *pool; /* qlen buffers for frames sent by copy */
};

/* Why d cannot queue a len-byte frame to its peer now (0: it can). */
static int ml_refuse(struct tern_device *d, size_t len)
{
    struct memlink_dev *p = ((struct memlink_dev *)d)->peer;
    int err = len > dev_max_frame(d) ? TERN_E_BAD_LEN
              : !p                        ? TERN_E_IO     /* the peer was destroyed */
              : p->count == p->qlen       ? TERN_E_NOMEM  /* drop-tail */
                                          : 0;
    if (err)
        d->stats.tx_dropped++;
    return err;
}

static void ml_enqueue(struct tern_device *d, struct tern_frame *f, size_t off, size_t len)
{
    struct memlink_dev *p = ((struct memlink_dev *)d)->peer;
    p->q[(p->head + p->count) % p->qlen] = (struct ml_ent){.f = f, .off = off, .len = len};
    p->count++;
    dev_count_tx(d, len);
    if (!tern_timer_armed(&p->timer))
        tern_timer_arm(p->loop, &p->timer, tern_loop_now(p->loop));
}

static int ml_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    int err = ml_refuse(d, len);
    if (err)
        return err;
    /* A free buffer is certain: the peer's pool has qlen and only its
     * queue (count < qlen) holds them. */
    struct tern_frame *f = frame_get(((struct memlink_dev *)d)->peer->pool);
    if (!f) {
        d->stats.tx_dropped++;
        return TERN_E_NOMEM;
    }
    memcpy(f->data, frame, len);
    ml_enqueue(d, f, 0, len);
    return 0;
}

static int ml_send_frame(struct tern_device *d, struct tern_frame *f, size_t off, size_t len)
{
    int err = ml_refuse(d, len);
    if (err) {
        tern_frame_free(f);
        return err;
    }
    ml_enqueue(d, f, off, len); /* by reference: no copy */
    return 0;
}

/* Hands over the frames queued when the turn began; frames sent by the rx
 * handlers meanwhile wait for the next turn. The entry stays occupied while
 * its handler runs (so the queue cannot overflow into it), and its buffer
 * goes back to its pool afterwards: the handler only borrows the bytes. */
static void ml_deliver(struct tern_timer *t, void *arg)
{
    (void)t;
    struct memlink_dev *m = arg;
    for (size_t n = m->count; n > 0 && m->count > 0; n--) {
        struct ml_ent e = m->q[m->head];
        tern_device_deliver(&m->dev, e.f->data + e.off, e.len);
        m->head = (m->head + 1) % m->qlen;
        m->count--;
        tern_frame_free(e.f);
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
    for (; m->q && m->count; m->count--) { /* queued frames go back to their pools */
        tern_frame_free(m->q[m->head].f);
        m->head = (m->head + 1) % m->qlen;
    }
    frame_pool_release(m->pool);
    free(m->q);
    free(m);
}

static const struct tern_device_ops ml_ops = {
    .send = ml_send, .destroy = ml_destroy, .send_frame = ml_send_frame};

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
    m->q = calloc(qlen, sizeof *m->q);
    m->pool = frame_pool_new(dev_max_frame(&m->dev), qlen, qlen);
    if (!m->q || !m->pool) {
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
