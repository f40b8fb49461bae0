/*
 * bench/timer_bench.c - is the loop's timer heap (src/loop/heap.c) cheap
 * enough at a million connections, or does tern need a timing wheel?
 * (issue 12, item 3)
 *
 * N timers (1k, 100k, 1M), each standing for one connection's loop timer
 * (struct tern_timer, as inside struct tcp_cb), with deadlines spread over
 * 0.2-1.2 s like retransmission timers. Measured, in CPU ns per operation:
 *   arm     - every timer armed once (an idle table filling up);
 *   rearm   - a random timer moved 1-200 ms later, N times: what every ACK
 *             that advances SND.UNA does to the RTO (tcp_arm_rtx), the
 *             hot path of a busy stack;
 *   cancel+arm - a random timer cancelled and armed again (a connection
 *             that ends and a new one that starts);
 *   expire  - every timer popped in deadline order (the loop's run).
 Three queues: "heap", the plain binary heap of (when, order) the loops
 * used before (O(log n) arm and cancel; kept here as it was); "loop", the
 * loops' queue now (src/loop/heap.c: a hashed timing wheel in front of a
 * small heap, same exact order); "wheel", a bare hashed timing wheel
 * (Varghese and Lauck's scheme 6: 1 ms slots, 4096 of them, a round count
 * for later deadlines; O(1) arm/cancel) that fires within a slot in list
 * order, not by (when, order) - the lower bound, not usable as is by a
 * deterministic virtual loop.
 * Three runs each; prints the median and the spread. Never asserts speed.
 * TIMER_BENCH_MAX=100000 to skip the 1M row.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "loop/heap.h"

/* ---- before: the plain binary heap the loops used until issue 12 (tern's
 * own src/loop/heap.c of that time, kept here so the comparison can be
 * rerun) ---- */
struct pheap {
    struct tern_timer **v;
    size_t n, cap;
    uint64_t next_order;
};

static int p_earlier(const struct tern_timer *a, const struct tern_timer *b)
{
    return a->when < b->when || (a->when == b->when && a->order < b->order);
}

static void p_place(struct pheap *h, size_t i, struct tern_timer *t)
{
    h->v[i] = t;
    t->heap_idx = i;
}

static void p_sift_up(struct pheap *h, size_t i)
{
    struct tern_timer *t = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!p_earlier(t, h->v[parent]))
            break;
        p_place(h, i, h->v[parent]);
        i = parent;
    }
    p_place(h, i, t);
}

static void p_sift_down(struct pheap *h, size_t i)
{
    struct tern_timer *t = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && p_earlier(h->v[c + 1], h->v[c]))
            c++;
        if (!p_earlier(h->v[c], t))
            break;
        p_place(h, i, h->v[c]);
        i = c;
    }
    p_place(h, i, t);
}

/* Takes the element at i out, filling the hole with the last element. */
static void p_remove_at(struct pheap *h, size_t i)
{
    struct tern_timer *t = h->v[i];
    struct tern_timer *last = h->v[--h->n];
    t->heap_idx = SIZE_MAX;
    if (i == h->n)
        return;
    p_place(h, i, last);
    if (i > 0 && p_earlier(last, h->v[(i - 1) / 2]))
        p_sift_up(h, i);
    else
        p_sift_down(h, i);
}

static void pheap_arm(struct pheap *h, struct tern_timer *t, uint64_t when)
{
    if ((t->heap_idx != SIZE_MAX))
        p_remove_at(h, t->heap_idx);
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct tern_timer **v = realloc(h->v, cap * sizeof *v);
        if (!v) {
            fputs("tern: out of memory growing the timer heap\n", stderr);
            abort();
        }
        h->v = v;
        h->cap = cap;
    }
    t->when = when;
    t->order = h->next_order++;
    h->v[h->n] = t;
    p_sift_up(h, h->n++);
}

static void pheap_cancel(struct pheap *h, struct tern_timer *t)
{
    if ((t->heap_idx != SIZE_MAX) && t->heap_idx < h->n && h->v[t->heap_idx] == t)
        p_remove_at(h, t->heap_idx);
}

static struct tern_timer *pheap_pop(struct pheap *h)
{
    if (h->n == 0)
        return NULL;
    struct tern_timer *t = h->v[0];
    p_remove_at(h, 0);
    return t;
}

/* ---- a bare hashed timing wheel (the lower bound) ---------------------- */
#define W_SLOTS 4096u
#define W_TICK 1000u /* us */
struct wtimer {
    struct wtimer *next, *prev; /* slot list */
    uint64_t when;
    uint32_t rounds;
    uint32_t slot;              /* UINT32_MAX: idle */
};
struct wheel {
    struct wtimer head[W_SLOTS]; /* sentinels */
    uint64_t now_tick;
    size_t n;
};

static void wheel_init(struct wheel *w)
{
    for (uint32_t i = 0; i < W_SLOTS; i++)
        w->head[i].next = w->head[i].prev = &w->head[i];
    w->now_tick = 0;
    w->n = 0;
}

static void wheel_cancel(struct wheel *w, struct wtimer *t)
{
    if (t->slot == UINT32_MAX)
        return;
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->slot = UINT32_MAX;
    w->n--;
}

static void wheel_arm(struct wheel *w, struct wtimer *t, uint64_t when)
{
    wheel_cancel(w, t);
    uint64_t tick = when / W_TICK;
    if (tick < w->now_tick)
        tick = w->now_tick;
    uint64_t d = tick - w->now_tick;
    t->when = when;
    t->rounds = (uint32_t)(d / W_SLOTS);
    t->slot = (uint32_t)(tick % W_SLOTS);
    struct wtimer *h = &w->head[t->slot];
    t->prev = h->prev;
    t->next = h;
    h->prev->next = t;
    h->prev = t;
    w->n++;
}

/* Advances one tick: fires (here, counts) what is due in the slot. */
static size_t wheel_tick(struct wheel *w)
{
    size_t fired = 0;
    struct wtimer *h = &w->head[w->now_tick % W_SLOTS];
    for (struct wtimer *t = h->next, *nx; t != h; t = nx) {
        nx = t->next;
        if (t->rounds) {
            t->rounds--;
            continue;
        }
        wheel_cancel(w, t);
        fired++;
    }
    w->now_tick++;
    return fired;
}

/* ---- the runs ---------------------------------------------------------- */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void nop_fn(struct tern_timer *t, void *arg)
{
    (void)t;
    (void)arg;
}

struct result {
    double arm, rearm, cancel_arm, expire; /* ns per op */
};

static void run_plain(size_t n, struct result *r)
{
    struct tern_timer *t = calloc(n, sizeof *t);
    uint32_t *pick = malloc(n * sizeof *pick);
    if (!t || !pick)
        exit(1);
    for (size_t i = 0; i < n; i++) {
        tern_timer_init(&t[i], nop_fn, NULL);
        pick[i] = (uint32_t)(rnd() % n);
    }
    struct pheap h = {0};
    double c0 = bench_cpu();
    for (size_t i = 0; i < n; i++)
        pheap_arm(&h, &t[i], 200000 + rnd() % 1000000);
    double c1 = bench_cpu();
    for (size_t i = 0; i < n; i++) {
        struct tern_timer *x = &t[pick[i]];
        pheap_arm(&h, x, x->when + 1000 + rnd() % 199000);
    }
    double c2 = bench_cpu();
    for (size_t i = 0; i < n; i++) {
        struct tern_timer *x = &t[pick[n - 1 - i]];
        uint64_t when = x->when;
        pheap_cancel(&h, x);
        pheap_arm(&h, x, when + 1000);
    }
    double c3 = bench_cpu();
    size_t popped = 0;
    while (pheap_pop(&h))
        popped++;
    double c4 = bench_cpu();
    if (popped != n)
        fprintf(stderr, "plain heap: popped %zu of %zu\n", popped, n);
    r->arm = (c1 - c0) * 1e9 / (double)n;
    r->rearm = (c2 - c1) * 1e9 / (double)n;
    r->cancel_arm = (c3 - c2) * 1e9 / (double)n;
    r->expire = (c4 - c3) * 1e9 / (double)n;
    free(h.v);
    free(t);
    free(pick);
}

static void run_heap(size_t n, struct result *r)
{
    struct tern_timer *t = calloc(n, sizeof *t);
    uint32_t *pick = malloc(n * sizeof *pick);
    if (!t || !pick)
        exit(1);
    for (size_t i = 0; i < n; i++) {
        tern_timer_init(&t[i], nop_fn, NULL);
        pick[i] = (uint32_t)(rnd() % n);
    }
    struct tern_heap *hp = malloc(sizeof *hp);
    if (!hp)
        exit(1);
    timer_heap_init(hp);
    double c0 = bench_cpu();
    for (size_t i = 0; i < n; i++)
        timer_heap_arm(hp, &t[i], 200000 + rnd() % 1000000);
    double c1 = bench_cpu();
    for (size_t i = 0; i < n; i++) {
        struct tern_timer *x = &t[pick[i]];
        timer_heap_arm(hp, x, x->when + 1000 + rnd() % 199000);
    }
    double c2 = bench_cpu();
    for (size_t i = 0; i < n; i++) {
        struct tern_timer *x = &t[pick[n - 1 - i]];
        uint64_t when = x->when;
        timer_heap_cancel(hp, x);
        timer_heap_arm(hp, x, when + 1000);
    }
    double c3 = bench_cpu();
    size_t popped = 0;
    while (timer_heap_pop(hp))
        popped++;
    double c4 = bench_cpu();
    if (popped != n)
        fprintf(stderr, "heap: popped %zu of %zu\n", popped, n);
    r->arm = (c1 - c0) * 1e9 / (double)n;
    r->rearm = (c2 - c1) * 1e9 / (double)n;
    r->cancel_arm = (c3 - c2) * 1e9 / (double)n;
    r->expire = (c4 - c3) * 1e9 / (double)n;
    timer_heap_free(hp);
    free(hp);
    free(t);
    free(pick);
}

static void run_wheel(size_t n, struct result *r)
{
    struct wheel *w = malloc(sizeof *w);
    struct wtimer *t = calloc(n, sizeof *t);
    uint32_t *pick = malloc(n * sizeof *pick);
    if (!w || !t || !pick)
        exit(1);
    wheel_init(w);
    for (size_t i = 0; i < n; i++) {
        t[i].slot = UINT32_MAX;
        pick[i] = (uint32_t)(rnd() % n);
    }
    double c0 = bench_cpu();
    for (size_t i = 0; i < n; i++)
        wheel_arm(w, &t[i], 200000 + rnd() % 1000000);
    double c1 = bench_cpu();
    for (size_t i = 0; i < n; i++) {
        struct wtimer *x = &t[pick[i]];
        wheel_arm(w, x, x->when + 1000 + rnd() % 199000);
    }
    double c2 = bench_cpu();
    for (size_t i = 0; i < n; i++) {
        struct wtimer *x = &t[pick[n - 1 - i]];
        uint64_t when = x->when;
        wheel_cancel(w, x);
        wheel_arm(w, x, when + 1000);
    }
    double c3 = bench_cpu();
    size_t fired = 0;
    while (w->n)
        fired += wheel_tick(w);
    double c4 = bench_cpu();
    if (fired != n)
        fprintf(stderr, "wheel: fired %zu of %zu\n", fired, n);
    r->arm = (c1 - c0) * 1e9 / (double)n;
    r->rearm = (c2 - c1) * 1e9 / (double)n;
    r->cancel_arm = (c3 - c2) * 1e9 / (double)n;
    r->expire = (c4 - c3) * 1e9 / (double)n;
    free(w);
    free(t);
    free(pick);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, size_t n, struct result *r)
{
    double v[4][3];
    for (int k = 0; k < 3; k++) {
        v[0][k] = r[k].arm;
        v[1][k] = r[k].rearm;
        v[2][k] = r[k].cancel_arm;
        v[3][k] = r[k].expire;
    }
    printf("  %-6s %8zu", name, n);
    for (int j = 0; j < 4; j++) {
        qsort(v[j], 3, sizeof v[j][0], cmp_d);
        printf("  %7.1f (%5.1f-%5.1f)", v[j][1], v[j][0], v[j][2]);
    }
    printf("\n");
}

int main(void)
{
    size_t sizes[] = {1000, 100000, 1000000};
    const char *e = getenv("TIMER_BENCH_MAX");
    size_t max = e ? (size_t)strtoull(e, NULL, 10) : 1000000;
    printf("timer_bench: CPU ns per operation, median of 3 runs (min-max)\n");
    printf("  %-6s %8s  %-23s  %-23s  %-23s  %-23s\n", "kind", "timers", "arm", "rearm later",
           "cancel+arm", "expire");
    printf("  heap: the plain binary heap before issue 12 (40 B timer + 8 B slot); loop: the\n"
           "  loops' queue now (src/loop/heap.c, wheel + near heap, %zu B timer); wheel: a bare\n"
           "  hashed wheel without exact ordering (%zu B node), the lower bound\n",
           sizeof(struct tern_timer), sizeof(struct wtimer));
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        if (n > max)
            break;
        struct result pr[3], hr[3], wr[3];
        for (int k = 0; k < 3; k++) {
            run_plain(n, &pr[k]);
            run_heap(n, &hr[k]);
            run_wheel(n, &wr[k]);
        }
        report("heap", n, pr);
        report("loop", n, hr);
        report("wheel", n, wr);
    }
    return 0;
}
