/*
 * Tests for src/dev: memory links, custom devices, the impairment wrapper
 * (statistical rates with binomial tolerances, determinism by seed, timing
 * in virtual time) and opening TAP/TUN interfaces (root only).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"

#define MAXREC 20000

/* Records what reaches an rx handler or a custom device's send. */
struct sink {
    struct tern_loop *l;
    size_t n, bytes;
    uint64_t hash;
    uint32_t seq[MAXREC];
    uint64_t at[MAXREC];
    uint8_t last[2048];
    size_t last_len;
    int depth, max_depth;
    struct tern_device *reply_to; /* if set, received frames are sent back through it */
    size_t reply_limit;           /* ... until this many were received */
};

static struct sink *sink_new(struct tern_loop *l)
{
    struct sink *s = calloc(1, sizeof *s);
    if (s) {
        s->l = l;
        s->hash = 1469598103934665603ULL;
    }
    return s;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static void record(struct sink *s, const uint8_t *frame, size_t len)
{
    uint64_t now = tern_loop_now(s->l);
    if (s->n < MAXREC) {
        s->seq[s->n] = len >= 4 ? (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 |
                                      (uint32_t)frame[2] << 8 | frame[3]
                                : 0;
        s->at[s->n] = now;
    }
    s->n++;
    s->bytes += len;
    s->hash = fnv(fnv(fnv(s->hash, &now, sizeof now), &len, sizeof len), frame, len);
    s->last_len = len < sizeof s->last ? len : sizeof s->last;
    memcpy(s->last, frame, s->last_len);
}

static void sink_rx(void *ctx, struct tern_device *dev, const uint8_t *frame, size_t len)
{
    struct sink *s = ctx;
    (void)dev;
    if (++s->depth > s->max_depth)
        s->max_depth = s->depth;
    record(s, frame, len);
    if (s->reply_to && s->n < s->reply_limit)
        tern_device_send(s->reply_to, frame, len);
    s->depth--;
}

static int sink_send(void *ctx, const uint8_t *frame, size_t len)
{
    record(ctx, frame, len);
    return 0;
}

/* A frame of len bytes: a 32-bit sequence number, then a fixed pattern. */
static void make_frame(uint8_t *f, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(i * 7 + 3);
    if (len >= 4) {
        f[0] = (uint8_t)(seq >> 24);
        f[1] = (uint8_t)(seq >> 16);
        f[2] = (uint8_t)(seq >> 8);
        f[3] = (uint8_t)seq;
    }
}

/* ---- memory links ---- */

TEST(memlink_delivers_on_next_turn_byte_exact)
{
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct tern_device *a, *b;
    struct sink *sa = sink_new(l), *sb = sink_new(l);
    REQUIRE(sa && sb);
    REQUIRE_EQ(tern_memlink_pair(l, TERN_LINK_ETHERNET, 1500, 8, &a, &b), 0);
    CHECK_EQ(a->link, TERN_LINK_ETHERNET);
    CHECK_EQ(a->mtu, 1500);
    CHECK_MEM(a->mac, ((const uint8_t[6]){2, 0, 0, 0, 0, 1}), 6);
    CHECK_MEM(b->mac, ((const uint8_t[6]){2, 0, 0, 0, 0, 2}), 6);
    tern_device_set_rx(a, sink_rx, sa);
    tern_device_set_rx(b, sink_rx, sb);
    uint8_t f[1514];
    make_frame(f, sizeof f, 42);
    CHECK_EQ(tern_device_send(a, f, sizeof f), 0);
    CHECK_EQ(sb->n, 0); /* not inside send */
    tern_loop_run(l, TERN_TIME_NEVER);
    REQUIRE_EQ(sb->n, 1);
    CHECK_EQ(sb->last_len, sizeof f);
    CHECK_MEM(sb->last, f, sizeof f);
    CHECK_EQ(sa->n, 0);
    CHECK_EQ(tern_loop_now(l), 0); /* zero delay */
    CHECK_EQ(a->stats.tx_frames, 1);
    CHECK_EQ(a->stats.tx_bytes, sizeof f);
    CHECK_EQ(b->stats.rx_frames, 1);
    CHECK_EQ(b->stats.rx_bytes, sizeof f);
    make_frame(f, 60, 7);
    CHECK_EQ(tern_device_send(b, f, 60), 0);
    tern_loop_run(l, TERN_TIME_NEVER);
    REQUIRE_EQ(sa->n, 1);
    CHECK_EQ(sa->last_len, 60);
    CHECK_MEM(sa->last, f, 60);
    tern_device_destroy(a);
    tern_device_destroy(b);
    tern_loop_destroy(l);
    free(sa);
    free(sb);
}

TEST(memlink_queue_cap_drops_counted)
{
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct tern_device *a, *b;
    struct sink *sb = sink_new(l);
    REQUIRE(sb);
    REQUIRE_EQ(tern_memlink_pair(l, TERN_LINK_RAW_IP, 576, 4, &a, &b), 0);
    tern_device_set_rx(b, sink_rx, sb);
    uint8_t f[100];
    for (uint32_t i = 0; i < 6; i++) {
        make_frame(f, sizeof f, i);
        CHECK_EQ(tern_device_send(a, f, sizeof f), i < 4 ? 0 : TERN_E_NOMEM);
    }
    CHECK_EQ(a->stats.tx_frames, 4);
    CHECK_EQ(a->stats.tx_dropped, 2);
    tern_loop_run(l, TERN_TIME_NEVER);
    REQUIRE_EQ(sb->n, 4);
    for (uint32_t i = 0; i < 4; i++)
        CHECK_EQ(sb->seq[i], i);
    /* The queue drained: room again. */
    CHECK_EQ(tern_device_send(a, f, sizeof f), 0);
    tern_device_destroy(a);
    tern_device_destroy(b);
    tern_loop_destroy(l);
    free(sb);
}

TEST(memlink_oversize_dropped)
{
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct tern_device *a, *b, *c, *d;
    uint8_t f[200] = {0};
    REQUIRE_EQ(tern_memlink_pair(l, TERN_LINK_ETHERNET, 100, 4, &a, &b), 0);
    REQUIRE_EQ(tern_memlink_pair(l, TERN_LINK_RAW_IP, 100, 4, &c, &d), 0);
    CHECK_EQ(tern_device_send(a, f, 114), 0);
    CHECK_EQ(tern_device_send(a, f, 115), TERN_E_BAD_LEN);
    CHECK_EQ(tern_device_send(c, f, 100), 0);
    CHECK_EQ(tern_device_send(c, f, 101), TERN_E_BAD_LEN);
    CHECK_EQ(a->stats.tx_dropped, 1);
    CHECK_EQ(c->stats.tx_dropped, 1);
    tern_loop_run(l, TERN_TIME_NEVER);
    CHECK_EQ(b->stats.rx_frames, 1);
    CHECK_EQ(b->stats.rx_dropped, 1); /* no rx handler installed */
    CHECK_EQ(d->stats.rx_frames, 1);
    CHECK_EQ(tern_memlink_pair(l, TERN_LINK_ETHERNET, 100, 0, &a, &b), TERN_E_INVAL);
    tern_device_destroy(a);
    tern_device_destroy(b);
    tern_device_destroy(c);
    tern_device_destroy(d);
    tern_loop_destroy(l);
}

TEST(memlink_ping_pong_never_reentrant)
{
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct tern_device *a, *b;
    struct sink *sa = sink_new(l), *sb = sink_new(l);
    REQUIRE(sa && sb);
    REQUIRE_EQ(tern_memlink_pair(l, TERN_LINK_ETHERNET, 1500, 2, &a, &b), 0);
    tern_device_set_rx(a, sink_rx, sa);
    tern_device_set_rx(b, sink_rx, sb);
    sa->reply_to = a; /* echo back and forth, one hop per turn */
    sb->reply_to = b;
    sa->reply_limit = sb->reply_limit = 500;
    uint8_t f[64];
    make_frame(f, sizeof f, 1);
    tern_device_send(a, f, sizeof f);
    tern_device_send(a, f, sizeof f);
    tern_loop_run(l, TERN_TIME_NEVER);
    CHECK_EQ(sa->n, 499); /* b replies to its first 499 frames */
    CHECK_EQ(sb->n, 501);
    CHECK_EQ(sa->max_depth, 1); /* never delivered inside a send */
    CHECK_EQ(sb->max_depth, 1);
    CHECK_EQ(a->stats.tx_dropped + b->stats.tx_dropped, 0);
    tern_device_destroy(a);
    tern_device_destroy(b);
    tern_loop_destroy(l);
    free(sa);
    free(sb);
}

TEST(memlink_destroying_one_side_leaves_the_other_safe)
{
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct tern_device *a, *b;
    struct sink *sa = sink_new(l);
    REQUIRE(sa);
    REQUIRE_EQ(tern_memlink_pair(l, TERN_LINK_ETHERNET, 1500, 4, &a, &b), 0);
    tern_device_set_rx(a, sink_rx, sa);
    uint8_t f[60] = {0};
    tern_device_send(b, f, sizeof f); /* queued for a */
    tern_device_send(a, f, sizeof f); /* queued for b, whose timer is armed */
    tern_device_destroy(b);
    CHECK_EQ(tern_device_send(a, f, sizeof f), TERN_E_IO);
    CHECK_EQ(a->stats.tx_dropped, 1);
    tern_loop_run(l, TERN_TIME_NEVER);
    CHECK_EQ(sa->n, 1); /* what b sent before it went still arrives */
    tern_device_destroy(a);
    tern_loop_destroy(l);
    free(sa);
}

/* ---- custom devices ---- */

TEST(custom_device_send_and_deliver)
{
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct sink *tx = sink_new(l), *rx = sink_new(l);
    REQUIRE(tx && rx);
    const uint8_t mac[6] = {0x02, 1, 2, 3, 4, 5};
    struct tern_device *d = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, sink_send, tx);
    REQUIRE(d);
    CHECK_MEM(d->mac, mac, 6);
    tern_device_set_rx(d, sink_rx, rx);
    uint8_t f[1515];
    make_frame(f, sizeof f, 9);
    CHECK_EQ(tern_device_send(d, f, 1514), 0);
    CHECK_EQ(tern_device_send(d, f, 1515), TERN_E_BAD_LEN);
    CHECK_EQ(tx->n, 1);
    CHECK_EQ(d->stats.tx_frames, 1);
    CHECK_EQ(d->stats.tx_dropped, 1);
    tern_device_deliver(d, f, 100);
    CHECK_EQ(rx->n, 1);
    CHECK_MEM(rx->last, f, 100);
    CHECK_EQ(d->stats.rx_bytes, 100);
    tern_device_destroy(d);
    tern_loop_destroy(l);
    free(tx);
    free(rx);
}

/* ---- impairment ---- */

/* An impairment wrapper over a custom device whose sends land in a sink. */
struct rig {
    struct tern_loop *l;
    struct sink *out;
    struct tern_device *inner, *w;
};

static int rig_open(struct rig *r, const struct tern_impair *cfg)
{
    r->l = tern_loop_virtual_new(0);
    r->out = sink_new(r->l);
    r->inner = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, NULL, sink_send, r->out);
    r->w = r->inner ? tern_impair_wrap(r->l, r->inner, cfg) : NULL;
    return r->w ? 0 : -1;
}

static void rig_close(struct rig *r)
{
    tern_device_destroy(r->w); /* destroys inner too */
    tern_loop_destroy(r->l);
    free(r->out);
}

/* Sends n frames of len bytes, one every gap_us, then drains the loop. */
static void rig_send(struct rig *r, uint32_t n, size_t len, uint64_t gap_us)
{
    uint8_t f[1514];
    for (uint32_t i = 0; i < n; i++) {
        tern_loop_run(r->l, (uint64_t)i * gap_us);
        make_frame(f, len, i);
        tern_device_send(r->w, f, len);
    }
    tern_loop_run(r->l, TERN_TIME_NEVER);
}

/* |observed - n p| within 6 binomial standard deviations: deterministic for a
 * fixed seed anyway, but the tolerance shows the rate is right, not tuned. */
static int near_binomial(double observed, double n, double p, double tol)
{
    double d = observed - n * p;
    return d <= tol && d >= -tol;
}

TEST(impair_loss_rate_binomial)
{
    struct rig r;
    struct tern_impair c = {.loss = 0.3, .seed = 1};
    REQUIRE(rig_open(&r, &c) == 0);
    rig_send(&r, 10000, 100, 0);
    /* sd = sqrt(10000 * 0.3 * 0.7) = 46; allow 0.3 +- 0.03 (300 frames). */
    CHECK(near_binomial((double)(10000 - r.out->n), 10000, 0.3, 300));
    CHECK_EQ(r.w->stats.tx_dropped, 10000 - r.out->n);
    CHECK_EQ(r.w->stats.tx_frames, r.out->n);
    for (size_t i = 1; i < r.out->n; i++) /* no delay: order kept */
        CHECK(r.out->seq[i] > r.out->seq[i - 1]);
    rig_close(&r);
}

TEST(impair_dup_rate_binomial)
{
    struct rig r;
    struct tern_impair c = {.dup = 0.2, .seed = 2};
    REQUIRE(rig_open(&r, &c) == 0);
    rig_send(&r, 10000, 100, 0);
    CHECK(near_binomial((double)(r.out->n - 10000), 10000, 0.2, 300));
    size_t dups = 0;
    for (size_t i = 1; i < r.out->n; i++)
        dups += r.out->seq[i] == r.out->seq[i - 1];
    CHECK_EQ(dups, r.out->n - 10000);
    rig_close(&r);
}

static int popcount8(uint8_t x) { return __builtin_popcount(x); }

/* Counts frames that differ from the pattern, checking each differs in one bit. */
struct corrupt_sink {
    size_t n, corrupted, bad;
};

static int corrupt_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct corrupt_sink *s = ctx;
    uint8_t ref[1514];
    make_frame(ref, len, (uint32_t)s->n++);
    int bits = 0;
    for (size_t i = 0; i < len; i++)
        bits += popcount8((uint8_t)(frame[i] ^ ref[i]));
    s->corrupted += bits == 1;
    s->bad += bits > 1;
    return 0;
}

TEST(impair_corrupt_flips_one_bit_at_rate)
{
    struct corrupt_sink s = {0};
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct tern_device *inner = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, NULL, corrupt_send, &s);
    struct tern_impair c = {.corrupt = 0.1, .seed = 3};
    struct tern_device *w = tern_impair_wrap(l, inner, &c);
    REQUIRE(w);
    uint8_t f[1514];
    for (uint32_t i = 0; i < 10000; i++) {
        make_frame(f, 200, i);
        tern_device_send(w, f, 200);
        CHECK(f[0] == (uint8_t)(i >> 24) && f[3] == (uint8_t)i); /* the caller's bytes untouched */
    }
    CHECK_EQ(s.n, 10000);
    CHECK_EQ(s.bad, 0);
    /* sd = 30; 0.1 +- 0.015 */
    CHECK(near_binomial((double)s.corrupted, 10000, 0.1, 150));
    tern_device_destroy(w);
    tern_loop_destroy(l);
}

static uint64_t run_mixed(uint64_t seed)
{
    struct rig r;
    struct tern_impair c = {.loss = 0.1, .dup = 0.05, .reorder = 0.1, .corrupt = 0.05,
                            .delay_us = 2000, .jitter_us = 500, .reorder_delay_us = 3000,
                            .rate_bps = 10000000, .queue_frames = 64, .seed = seed};
    if (rig_open(&r, &c) != 0)
        return 0;
    rig_send(&r, 3000, 300, 150);
    uint64_t h = fnv(r.out->hash, &r.out->n, sizeof r.out->n);
    rig_close(&r);
    return h;
}

TEST(impair_same_seed_same_output)
{
    uint64_t h1 = run_mixed(11), h2 = run_mixed(11), h3 = run_mixed(12);
    CHECK(h1 != 0);
    CHECK(h1 == h2);
    CHECK(h1 != h3);
}

TEST(impair_delay_jitter_bounds)
{
    struct rig r;
    struct tern_impair c = {.delay_us = 10000, .jitter_us = 5000, .seed = 4};
    REQUIRE(rig_open(&r, &c) == 0);
    rig_send(&r, 2000, 100, 100); /* frame i sent at i * 100 us */
    REQUIRE_EQ(r.out->n, 2000);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < r.out->n; i++) {
        uint64_t d = r.out->at[i] - (uint64_t)r.out->seq[i] * 100;
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    CHECK(lo >= 10000);
    CHECK(hi < 15000);
    CHECK(lo < 10100); /* the whole range is used */
    CHECK(hi > 14900);
    rig_close(&r);
}

TEST(impair_reorder_lets_later_frames_pass)
{
    struct rig r;
    struct tern_impair c = {.reorder = 0.1, .reorder_delay_us = 1000, .seed = 5};
    REQUIRE(rig_open(&r, &c) == 0);
    rig_send(&r, 2000, 100, 100);
    REQUIRE_EQ(r.out->n, 2000);
    size_t late = 0;
    for (size_t i = 1; i < r.out->n; i++)
        late += r.out->seq[i] < r.out->seq[i - 1];
    CHECK(late > 100); /* about 200 held back */
    CHECK(late < 300);
    rig_close(&r);
}

TEST(impair_rate_spacing)
{
    struct rig r;
    /* 125 bytes at 1 Mbit/s = 1000 us each; 100 bytes = 800 us. */
    struct tern_impair c = {.rate_bps = 1000000, .seed = 6};
    REQUIRE(rig_open(&r, &c) == 0);
    rig_send(&r, 10, 125, 0);
    REQUIRE_EQ(r.out->n, 10);
    for (size_t i = 0; i < 10; i++)
        CHECK_EQ(r.out->at[i], 1000 * (i + 1));
    rig_close(&r);
    /* 3 bytes at 7 bit/s: 24/7 s each; remainders carry, so 7 frames take 24 s. */
    struct tern_impair c2 = {.rate_bps = 7, .seed = 6};
    REQUIRE(rig_open(&r, &c2) == 0);
    rig_send(&r, 7, 3, 0);
    REQUIRE_EQ(r.out->n, 7);
    CHECK_EQ(r.out->at[0], 24000000 / 7);
    CHECK_EQ(r.out->at[6], 24000000);
    rig_close(&r);
}

TEST(impair_queue_cap_drops)
{
    struct rig r;
    struct tern_impair c = {.delay_us = 1000, .queue_frames = 5, .seed = 7};
    REQUIRE(rig_open(&r, &c) == 0);
    uint8_t f[100] = {0};
    for (int i = 0; i < 8; i++)
        CHECK_EQ(tern_device_send(r.w, f, sizeof f), i < 5 ? 0 : TERN_E_NOMEM);
    CHECK_EQ(r.w->stats.tx_dropped, 3);
    tern_loop_run(r.l, TERN_TIME_NEVER);
    CHECK_EQ(r.out->n, 5);
    CHECK_EQ(tern_loop_now(r.l), 1000);
    CHECK_EQ(tern_device_send(r.w, f, 1515), TERN_E_BAD_LEN);
    rig_close(&r);
}

TEST(impair_rx_passes_through_and_config_checked)
{
    struct rig r;
    struct tern_impair c = {.loss = 1.0, .seed = 8};
    REQUIRE(rig_open(&r, &c) == 0);
    struct sink *rx = sink_new(r.l);
    REQUIRE(rx);
    tern_device_set_rx(r.w, sink_rx, rx);
    uint8_t f[64];
    make_frame(f, sizeof f, 5);
    tern_device_deliver(r.inner, f, sizeof f); /* ingress is not impaired */
    CHECK_EQ(rx->n, 1);
    CHECK_MEM(rx->last, f, sizeof f);
    CHECK_EQ(r.w->stats.rx_frames, 1);
    tern_device_send(r.w, f, sizeof f); /* loss 1.0: everything lost */
    CHECK_EQ(r.out->n, 0);
    struct tern_impair bad = {.loss = 1.5};
    CHECK(tern_impair_wrap(r.l, r.inner, &bad) == NULL);
    rig_close(&r);
    free(rx);
}

/* ingress = true: received frames are impaired on their way up, sent frames
 * pass straight through. */
TEST(impair_ingress_impairs_received_frames_only)
{
    struct rig r;
    struct tern_impair c = {.delay_us = 5000, .seed = 9, .ingress = true};
    REQUIRE(rig_open(&r, &c) == 0);
    struct sink *rx = sink_new(r.l);
    REQUIRE(rx);
    tern_device_set_rx(r.w, sink_rx, rx);
    uint8_t f[64];
    make_frame(f, sizeof f, 6);
    tern_device_send(r.w, f, sizeof f); /* egress: not delayed */
    CHECK_EQ(r.out->n, 1);
    tern_device_deliver(r.inner, f, sizeof f); /* ingress: held 5 ms */
    CHECK_EQ(rx->n, 0);
    tern_loop_run(r.l, tern_loop_now(r.l) + 4999);
    CHECK_EQ(rx->n, 0);
    tern_loop_run(r.l, tern_loop_now(r.l) + 1);
    CHECK_EQ(rx->n, 1);
    CHECK_MEM(rx->last, f, sizeof f);
    rig_close(&r);
    free(rx);
    /* loss 1.0 on ingress: nothing comes up, drops counted as rx_dropped */
    struct tern_impair lossy = {.loss = 1.0, .seed = 10, .ingress = true};
    REQUIRE(rig_open(&r, &lossy) == 0);
    rx = sink_new(r.l);
    REQUIRE(rx);
    tern_device_set_rx(r.w, sink_rx, rx);
    for (uint32_t i = 0; i < 10; i++)
        tern_device_deliver(r.inner, f, sizeof f);
    tern_loop_run(r.l, tern_loop_now(r.l) + 1000000);
    CHECK_EQ(rx->n, 0);
    CHECK_EQ(r.w->stats.rx_dropped, 10);
    rig_close(&r);
    free(rx);
}

/* ---- TAP / TUN (root only; creates and removes its own interfaces) ---- */

static int if_exists(const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/sys/class/net/%s", name);
    return access(path, F_OK) == 0;
}

struct down_seen {
    int calls, err;
    struct tern_device *dev;
};
static void on_down(void *ctx, struct tern_device *dev, int err)
{
    struct down_seen *d = ctx;
    d->calls++;
    d->err = err;
    d->dev = dev;
}

/* A device that goes down says so once; wrappers pass it outward, and a
 * handler installed late hears it at once. */
TEST(dev_down_reported_once_through_wrappers)
{
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct sink tx = {.l = l};
    struct tern_device *inner = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, NULL, sink_send, &tx);
    REQUIRE(inner);
    struct tern_impair imp = {.seed = 1};
    struct tern_device *w = tern_impair_wrap(l, inner, &imp);
    REQUIRE(w);
    struct tern_device *t = tern_trace_wrap(l, w, NULL, NULL);
    REQUIRE(t);
    struct down_seen seen = {0};
    tern_device_set_down(t, on_down, &seen);
    CHECK_EQ(seen.calls, 0);
    tern_device_report_down(inner, ENODEV);
    CHECK_EQ(seen.calls, 1);
    CHECK_EQ(seen.err, ENODEV);
    CHECK(seen.dev == t);
    CHECK_EQ(t->down_err, ENODEV);
    tern_device_report_down(inner, EIO); /* the first report wins, said once */
    CHECK_EQ(seen.calls, 1);
    CHECK_EQ(inner->down_err, ENODEV);
    struct down_seen late = {0};
    tern_device_set_down(w, on_down, &late);
    CHECK_EQ(late.calls, 1);
    CHECK_EQ(late.err, ENODEV);
    tern_device_destroy(t);
    tern_loop_destroy(l);
}

TEST(tuntap_open_creates_and_removes_interface)
{
    if (geteuid() != 0) {
        printf("skip - tuntap_open_creates_and_removes_interface: not root\n");
        return;
    }
    REQUIRE(!if_exists("ternt0") && !if_exists("ternt1") && !if_exists("ternt2"));
    struct tern_loop *l = tern_loop_real_new(NULL, NULL);
    REQUIRE(l);
    /* Opening is not creating: a missing name fails and makes nothing. */
    errno = 0;
    CHECK(tern_tap_open(l, "ternt0") == NULL);
    CHECK_EQ(errno, ENODEV);
    CHECK(!if_exists("ternt0"));
    CHECK_EQ(tern_tuntap_kind("ternt0"), 0);
    struct tern_device *tap = tern_tuntap_open(l, "ternt0", TERN_LINK_ETHERNET, TERN_TUNTAP_CREATE);
    REQUIRE(tap);
    CHECK_EQ(tern_tuntap_kind("ternt0"), TERN_LINK_ETHERNET);
    CHECK_EQ(tern_tuntap_kind("lo"), -1);
    CHECK(if_exists("ternt0"));
    CHECK_STR(tap->name, "ternt0");
    CHECK_EQ(tap->link, TERN_LINK_ETHERNET);
    CHECK_EQ(tap->mtu, 1500);
    CHECK_EQ(tap->mac[0] & 3, 2); /* unicast, locally administered */
    struct tern_device *tun = tern_tuntap_open(l, "ternt1", TERN_LINK_RAW_IP, TERN_TUNTAP_CREATE);
    REQUIRE(tun);
    CHECK(if_exists("ternt1"));
    CHECK_EQ(tun->link, TERN_LINK_RAW_IP);
    CHECK_EQ(tern_tuntap_kind("ternt1"), TERN_LINK_RAW_IP);
    /* The wrong kind, or not a TUN/TAP at all: EMEDIUMTYPE, even with CREATE. */
    errno = 0;
    CHECK(tern_tap_open(l, "ternt1") == NULL);
    CHECK_EQ(errno, EMEDIUMTYPE);
    errno = 0;
    CHECK(tern_tuntap_open(l, "ternt0", TERN_LINK_RAW_IP, TERN_TUNTAP_CREATE) == NULL);
    CHECK_EQ(errno, EMEDIUMTYPE);
    errno = 0;
    CHECK(tern_tun_open(l, "lo") == NULL);
    CHECK_EQ(errno, EMEDIUMTYPE);
    tern_device_destroy(tap);
    tern_device_destroy(tun);
    CHECK(!if_exists("ternt0"));
    CHECK(!if_exists("ternt1"));
    /* A virtual loop has no fds: open fails and leaves nothing behind. */
    struct tern_loop *v = tern_loop_virtual_new(0);
    errno = 0;
    CHECK(tern_tuntap_open(v, "ternt2", TERN_LINK_ETHERNET, TERN_TUNTAP_CREATE) == NULL);
    CHECK(errno != 0);
    CHECK(!if_exists("ternt2"));
    CHECK(tern_tap_open(l, "a-name-longer-than-ifnamsiz") == NULL);
    CHECK_EQ(errno, EINVAL);
    tern_loop_destroy(v);
    tern_loop_destroy(l);
}
