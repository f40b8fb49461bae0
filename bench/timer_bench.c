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
 * Against the same operations on a hashed timing wheel (Varghese and
 * Lauck's scheme 6: 1 ms slots, 4096 of them, a round count for later
 * deadlines; O(1) arm/cancel) written here as the alternative. The wheel
 * fires timers within their 1 ms slot in arming order, not by (when,
 * order): a virtual loop would need a sort per slot to stay deterministic,
 * which this bench does not pay for (it favours the wheel).
 * Three runs each; prints the median and the spread. Never asserts speed.
 * TIMER_BENCH_MAX=100000 to skip the 1M row.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "loop/heap.h"

/* ---- the alternative: a hashed timing wheel -------------------------- */
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
    struct tern_heap h;
    tern_heap_init(&h);
    double c0 = bench_cpu();
    for (size_t i = 0; i < n; i++)
        tern_heap_arm(&h, &t[i], 200000 + rnd() % 1000000);
    double c1 = bench_cpu();
    for (size_t i = 0; i < n; i++) {
        struct tern_timer *x = &t[pick[i]];
        tern_heap_arm(&h, x, x->when + 1000 + rnd() % 199000);
    }
    double c2 = bench_cpu();
    for (size_t i = 0; i < n; i++) {
        struct tern_timer *x = &t[pick[n - 1 - i]];
        uint64_t when = x->when;
        tern_heap_cancel(&h, x);
        tern_heap_arm(&h, x, when + 1000);
    }
    double c3 = bench_cpu();
    size_t popped = 0;
    while (tern_heap_pop(&h))
        popped++;
    double c4 = bench_cpu();
    if (popped != n)
        fprintf(stderr, "heap: popped %zu of %zu\n", popped, n);
    r->arm = (c1 - c0) * 1e9 / (double)n;
    r->rearm = (c2 - c1) * 1e9 / (double)n;
    r->cancel_arm = (c3 - c2) * 1e9 / (double)n;
    r->expire = (c4 - c3) * 1e9 / (double)n;
    tern_heap_free(&h);
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
    printf("  sizeof(struct tern_timer) = %zu B + 8 B heap slot; wheel node %zu B\n",
           sizeof(struct tern_timer), sizeof(struct wtimer));
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        if (n > max)
            break;
        struct result hr[3], wr[3];
        for (int k = 0; k < 3; k++) {
            run_heap(n, &hr[k]);
            run_wheel(n, &wr[k]);
        }
        report("heap", n, hr);
        report("wheel", n, wr);
    }
    return 0;
}
