/*
 * impair.c - a device wrapper that loses, duplicates, corrupts, delays,
 * jitters, reorders and rate-limits the frames it sends (egress only, like
 * Linux netem on one side). Received frames pass straight through.
 *
 * All randomness comes from a xoshiro256** generator seeded (through
 * splitmix64) from cfg->seed and kept in the wrapper: the same seed, config
 * and input give the same output, byte for byte and microsecond for
 * microsecond. Every frame draws the same count of random numbers whatever
 * the rates are, so changing one rate does not reshuffle the other choices.
 *
 * Held frames (delay, jitter, reorder, rate) are copied into preallocated
 * slots and kept in a min-heap by (release time, arrival order); one loop
 * timer releases them to the inner device. Beyond queue_frames the frame is
 * dropped (tail drop). No allocation after creation.
 *
 * Rate: the serializer is busy until tx_done; a frame starts at
 * max(now, tx_done), takes len*8/rate_bps seconds (remainders carried, so
 * long runs are exact), then travels delay + jitter (+ reorder_delay).
 * queue_bytes: the serializer's backlog is (tx_done - now) * rate_bps / 8
 * bytes (the fluid view of what is waiting or being sent); a frame that
 * would take it past queue_bytes is dropped, as a drop-tail router queue
 * does. Without a rate, the backlog is every byte held.
 * Scripted drops (drop_at) come first and draw the same random numbers as
 * any frame, so adding one does not reshuffle the rest of a run.
 */
#include <stdlib.h>
#include <string.h>

#include "dev/devpriv.h"
#include "tern/err.h"

struct held {
    uint64_t release, seq;
    size_t len;
    size_t slot;
};

struct impair_dev {
    struct tern_device dev;
    struct tern_device *inner;
    struct tern_loop *loop;
    struct tern_impair cfg;
    uint64_t rng[4];
    struct tern_timer timer;      /* armed at the earliest release time */
    uint64_t tx_done, tx_frac;    /* rate: serializer busy until tx_done (+ tx_frac/rate us) */
    uint64_t seq;                 /* arrival order, breaks release-time ties */
    size_t cap, n, slot_size, nfree;
    struct held *heap;            /* n held frames */
    size_t *free_slots;           /* nfree unused slot numbers */
    uint8_t *slots;               /* cap * slot_size bytes */
    uint8_t *scratch;             /* a corrupted frame sent at once */
    size_t held_bytes;            /* bytes of the n held frames */
    struct tern_impair_stats st;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** (Blackman and Vigna). */
static uint64_t rng_next(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* True with probability p: a 53-bit uniform in [0, 1) below p. */
static bool chance(uint64_t r, double p) { return (double)(r >> 11) * 0x1.0p-53 < p; }

static bool earlier(const struct held *a, const struct held *b)
{
    return a->release < b->release || (a->release == b->release && a->seq < b->seq);
}

static void heap_push(struct impair_dev *w, struct held h)
{
    size_t i = w->n++;
    while (i > 0 && earlier(&h, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = h;
}

static struct held heap_pop(struct impair_dev *w)
{
    struct held top = w->heap[0], last = w->heap[--w->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= w->n)
            break;
        if (c + 1 < w->n && earlier(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!earlier(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (w->n > 0)
        w->heap[i] = last;
    return top;
}

/* A frame leaves the wrapper: down to inner (egress) or up (ingress). */
static void pass_on(struct impair_dev *w, const uint8_t *frame, size_t len)
{
    if (w->cfg.ingress) {
        tern_device_deliver(&w->dev, frame, len);
        return;
    }
    dev_count_tx(&w->dev, len);
    tern_device_send(w->inner, frame, len);
}

static void release(struct tern_timer *t, void *arg)
{
    (void)t;
    struct impair_dev *w = arg;
    uint64_t now = tern_loop_now(w->loop);
    while (w->n > 0 && w->heap[0].release <= now) {
        struct held h = heap_pop(w);
        w->free_slots[w->nfree++] = h.slot;
        w->held_bytes -= h.len;
        pass_on(w, w->slots + h.slot * w->slot_size, h.len);
    }
    if (w->n > 0)
        tern_timer_arm(w->loop, &w->timer, w->heap[0].release);
}

static void count_drop(struct impair_dev *w)
{
    if (w->cfg.ingress)
        w->dev.stats.rx_dropped++;
    else
        w->dev.stats.tx_dropped++;
}

/* One copy of a frame: corrupt it, time it, send it now or hold it. */
static int emit_copy(struct impair_dev *w, const uint8_t *frame, size_t len)
{
    const struct tern_impair *c = &w->cfg;
    uint64_t r_corrupt = rng_next(w->rng), r_bit = rng_next(w->rng);
    uint64_t r_jitter = rng_next(w->rng), r_reorder = rng_next(w->rng);
    uint64_t now = tern_loop_now(w->loop), t = now, done = w->tx_done, frac = w->tx_frac;
    if (c->rate_bps) {
        if (done < now)
            done = now, frac = 0; /* the link went idle */
        uint64_t num = (uint64_t)len * 8000000u + frac;
        t = done = done + num / c->rate_bps;
        frac = num % c->rate_bps;
    }
    t += c->delay_us;
    if (c->jitter_us)
        t += r_jitter % c->jitter_us;
    bool reordered = chance(r_reorder, c->reorder) && c->reorder_delay_us;
    if (reordered)
        t += c->reorder_delay_us;
    bool corrupt = len > 0 && chance(r_corrupt, c->corrupt);
    size_t bit = len ? (size_t)(r_bit % ((uint64_t)len * 8)) : 0;
    if (c->queue_bytes) {
        /* Drop-tail on the serializer's backlog (see the top comment). */
        uint64_t backlog = w->held_bytes;
        if (c->rate_bps)
            backlog = w->tx_done > now ? (w->tx_done - now) * c->rate_bps / 8000000u : 0;
        if (backlog + len > c->queue_bytes) {
            count_drop(w);
            w->st.queue_drops++;
            return TERN_E_NOMEM;
        }
    }
    /* Counted for copies that go on (a queue drop below takes it back). */
    w->st.corrupted += corrupt;
    w->st.reordered += reordered;

    /* Due now and nothing held for the same moment: no copy needed. */
    if (t <= now && (w->n == 0 || w->heap[0].release > t)) {
        w->tx_done = done;
        w->tx_frac = frac;
        if (corrupt) {
            memcpy(w->scratch, frame, len);
            w->scratch[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            frame = w->scratch;
        }
        pass_on(w, frame, len);
        return 0;
    }
    if (w->n == w->cap) {
        count_drop(w); /* tail drop; the serializer did no work */
        w->st.queue_drops++;
        w->st.corrupted -= corrupt;
        w->st.reordered -= reordered;
        return TERN_E_NOMEM;
    }
    w->tx_done = done;
    w->tx_frac = frac;
    size_t slot = w->free_slots[--w->nfree];
    uint8_t *p = w->slots + slot * w->slot_size;
    memcpy(p, frame, len);
    if (corrupt)
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    heap_push(w, (struct held){t, w->seq++, len, slot});
    w->held_bytes += len;
    if (w->heap[0].seq == w->seq - 1) /* the new frame is the earliest */
        tern_timer_arm(w->loop, &w->timer, t);
    return 0;
}


/* Loss, duplication, then emit_copy's corruption, delay and reordering. */
static int impair_frame(struct impair_dev *w, const uint8_t *frame, size_t len)
{
    uint64_t number = ++w->st.frames;
    if (len > w->slot_size) {
        count_drop(w);
        w->st.queue_drops++;
        return TERN_E_BAD_LEN;
    }
    uint64_t r_loss = rng_next(w->rng), r_dup = rng_next(w->rng);
    for (size_t i = 0; i < sizeof w->cfg.drop_at / sizeof w->cfg.drop_at[0]; i++) {
        if (w->cfg.drop_at[i] && w->cfg.drop_at[i] == number) {
            count_drop(w); /* scripted: the sender sees success, as for loss */
            w->st.scripted++;
            return 0;
        }
    }
    if (chance(r_loss, w->cfg.loss)) {
        count_drop(w); /* lost on the wire: the sender sees success */
        w->st.lost++;
        return 0;
    }
    int rc = emit_copy(w, frame, len);
    if (chance(r_dup, w->cfg.dup)) {
        w->st.duplicated++;
        emit_copy(w, frame, len);
    }
    return rc;
}

static int imp_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct impair_dev *w = (struct impair_dev *)d;
    if (!w->cfg.ingress)
        return impair_frame(w, frame, len);
    dev_count_tx(d, len); /* an ingress impairer lets sent frames through */
    return tern_device_send(w->inner, frame, len);
}

static void imp_rx(void *ctx, struct tern_device *inner, const uint8_t *frame, size_t len)
{
    struct impair_dev *w = ctx;
    if (w->cfg.ingress)
        impair_frame(w, frame, len);
    else
        tern_device_deliver_flags(&w->dev, frame, len, inner->rx_flags);
}

static void imp_destroy(struct tern_device *d)
{
    struct impair_dev *w = (struct impair_dev *)d;
    tern_timer_cancel(w->loop, &w->timer);
    tern_device_destroy(w->inner);
    free(w->heap);
    free(w->free_slots);
    free(w->slots);
    free(w->scratch);
    free(w);
}

static const struct tern_device_ops imp_ops = {.send = imp_send, .destroy = imp_destroy};

void tern_impair_get_stats(const struct tern_device *d, struct tern_impair_stats *st)
{
    if (!st)
        return;
    if (!d || d->ops != &imp_ops) {
        memset(st, 0, sizeof *st);
        return;
    }
    *st = ((const struct impair_dev *)d)->st;
}

static bool is_prob(double p) { return p >= 0.0 && p <= 1.0; } /* false for NaN */

struct tern_device *tern_impair_wrap(struct tern_loop *loop, struct tern_device *inner,
                                     const struct tern_impair *cfg)
{
    if (!loop || !inner || !cfg || !is_prob(cfg->loss) || !is_prob(cfg->dup) ||
        !is_prob(cfg->reorder) || !is_prob(cfg->corrupt))
        return NULL;
    struct impair_dev *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->dev = *inner;
    w->dev.ops = &imp_ops;
    w->dev.rx = NULL;
    w->dev.rx_ctx = NULL;
    w->dev.tso_max = 0; /* impairs MTU-sized frames: TCP must not send super-segments */
    w->dev.rx_flags = 0;
    memset(&w->dev.stats, 0, sizeof w->dev.stats);
    w->inner = inner;
    w->loop = loop;
    w->cfg = *cfg;
    uint64_t x = cfg->seed;
    for (int i = 0; i < 4; i++)
        w->rng[i] = splitmix64(&x);
    tern_timer_init(&w->timer, release, w);
    w->cap = cfg->queue_frames ? cfg->queue_frames : 1000;
    w->slot_size = dev_max_frame(inner);
    if (w->slot_size > 0 && w->cap <= SIZE_MAX / w->slot_size / 2) {
        w->heap = calloc(w->cap, sizeof *w->heap);
        w->free_slots = calloc(w->cap, sizeof *w->free_slots);
        w->slots = malloc(w->cap * w->slot_size);
        w->scratch = malloc(w->slot_size);
    }
    if (!w->heap || !w->free_slots || !w->slots || !w->scratch) {
        w->inner = NULL; /* the caller keeps inner when we fail */
        imp_destroy(&w->dev);
        return NULL;
    }
    for (size_t i = 0; i < w->cap; i++)
        w->free_slots[i] = w->cap - 1 - i;
    w->nfree = w->cap;
    tern_device_set_rx(inner, imp_rx, w);
    tern_device_set_down(inner, dev_pass_down, &w->dev);
    return &w->dev;
}
