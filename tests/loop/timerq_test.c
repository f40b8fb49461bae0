/*
 * Tests for the loops' timer queue (src/loop/heap.c: a timing wheel in
 * front of a min-heap) against a reference model: random arms, re-arms,
 * cancels and pops, with deadlines from the same tick to many wheel
 * revolutions away and before the cursor, must pop exactly in (when,
 * arming order) - the order the plain heap gave, which a deterministic
 * virtual run depends on.
 */
#include <stdlib.h>

#include "harness.h"
#include "loop/heap.h"

enum { NT = 3000 };

struct model {
    bool armed[NT];
    uint64_t when[NT], order[NT], next_order;
};

/* The reference: the armed timer with the least (when, order). */
static int model_min(const struct model *m)
{
    int best = -1;
    for (int i = 0; i < NT; i++)
        if (m->armed[i] && (best < 0 || m->when[i] < m->when[best] ||
                            (m->when[i] == m->when[best] && m->order[i] < m->order[best])))
            best = i;
    return best;
}

static void nop(struct tern_timer *t, void *arg)
{
    (void)t;
    (void)arg;
}

static uint64_t pick_when(uint64_t now)
{
    uint32_t r = test_rand();
    switch (r % 6) {
    case 0: return now + r % 1024;                       /* within a tick or two */
    case 1: return now + r % 200000;                     /* RTO-like */
    case 2: return now + (uint64_t)(r % 64) * 4194304u;  /* whole revolutions away */
    case 3: return now > 5000 ? now - r % 5000 : 0;      /* in the past */
    case 4: return now + 7200000000ull + r % 1000;       /* keepalive-like, 2 h */
    default: return now + r % 5000000;
    }
}

TEST(timerq_matches_reference_order)
{
    static struct tern_timer t[NT];
    static struct model m;
    struct tern_heap *h = malloc(sizeof *h);
    REQUIRE(h);
    timer_heap_init(h);
    for (int i = 0; i < NT; i++) {
        tern_timer_init(&t[i], nop, NULL);
        m.armed[i] = false;
    }
    m.next_order = 0;
    uint64_t now = 1000000;
    int bad = 0, pops = 0;
    for (int step = 0; step < 200000 && !bad; step++) {
        uint32_t r = test_rand();
        int i = (int)(r % NT);
        switch ((r >> 16) % 8) {
        case 0:
        case 1:
        case 2: { /* arm or re-arm */
            uint64_t w = pick_when(now);
            timer_heap_arm(h, &t[i], w);
            m.armed[i] = true;
            m.when[i] = w;
            m.order[i] = m.next_order++;
            break;
        }
        case 3: /* cancel */
            timer_heap_cancel(h, &t[i]);
            m.armed[i] = false;
            break;
        case 4: { /* peek agrees */
            int e = model_min(&m);
            struct tern_timer *p = timer_heap_peek(h);
            if (e < 0 ? p != NULL : p != &t[e])
                bad++;
            break;
        }
        default: { /* pop: time moves to its deadline */
            int e = model_min(&m);
            struct tern_timer *p = timer_heap_pop(h);
            if (e < 0 ? p != NULL : p != &t[e]) {
                bad++;
                break;
            }
            if (e >= 0) {
                m.armed[e] = false;
                CHECK(!tern_timer_armed(&t[e]));
                if (m.when[e] > now)
                    now = m.when[e];
                pops++;
            }
            break;
        }
        }
        size_t armed = 0;
        if (step % 997 == 0) {
            for (int k = 0; k < NT; k++)
                armed += m.armed[k];
            CHECK_EQ(timer_heap_count(h), armed);
            for (int k = 0; k < NT; k++)
                if (tern_timer_armed(&t[k]) != m.armed[k])
                    bad++;
        }
    }
    CHECK_EQ(bad, 0);
    CHECK(pops > 10000);
    /* Drain: the rest in order. */
    int e;
    while ((e = model_min(&m)) >= 0 && !bad) {
        if (timer_heap_pop(h) != &t[e])
            bad++;
        m.armed[e] = false;
    }
    CHECK_EQ(bad, 0);
    CHECK(timer_heap_pop(h) == NULL);
    CHECK_EQ(timer_heap_count(h), 0);
    timer_heap_free(h);
    free(h);
}

/* Freeing the queue leaves every timer idle, wheel ones included. */
TEST(timerq_free_idles_all)
{
    static struct tern_timer t[100];
    struct tern_heap *h = malloc(sizeof *h);
    REQUIRE(h);
    timer_heap_init(h);
    for (int i = 0; i < 100; i++) {
        tern_timer_init(&t[i], nop, NULL);
        timer_heap_arm(h, &t[i], (uint64_t)i * 100000u);
    }
    CHECK(timer_heap_peek(h) == &t[0]);
    timer_heap_free(h);
    for (int i = 0; i < 100; i++)
        CHECK(!tern_timer_armed(&t[i]));
    free(h);
}
