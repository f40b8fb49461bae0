/*
 * heap.c - the timer queue of both loops (a timing wheel in front of a
 * min-heap, see heap.h), and tern_timer_init().
 *
 * Ordered by (when, order); see heap.h. Not thread-safe: a queue belongs
 * to its loop's thread. Not a general priority queue: it stores only
 * timers and keeps each timer's heap_idx up to date.
 */
#include "loop/heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WMASK ((uint64_t)TERN_WHEEL_SLOTS - 1)

void tern_timer_init(struct tern_timer *t, tern_timer_fn fn, void *arg)
{
    t->when = 0;
    t->fn = fn;
    t->arg = arg;
    t->heap_idx = SIZE_MAX;
    t->order = 0;
    t->wprev = t->wnext = NULL;
}

void timer_heap_init(struct tern_heap *h)
{
    memset(h, 0, sizeof *h);
}

void timer_heap_free(struct tern_heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->v[i]->heap_idx = SIZE_MAX;
    for (size_t s = 0; s < TERN_WHEEL_SLOTS; s++)
        for (struct tern_timer *t = h->slot[s], *nx; t; t = nx) {
            nx = t->wnext;
            t->heap_idx = SIZE_MAX;
            t->wprev = t->wnext = NULL;
        }
    free(h->v);
    timer_heap_init(h);
}

static uint64_t tick_of(uint64_t when) { return when >> TERN_WHEEL_TICK_SHIFT; }

static int earlier(const struct tern_timer *a, const struct tern_timer *b)
{
    return a->when < b->when || (a->when == b->when && a->order < b->order);
}

static void place(struct tern_heap *h, size_t i, struct tern_timer *t)
{
    h->v[i] = t;
    t->heap_idx = i;
}

static void sift_up(struct tern_heap *h, size_t i)
{
    struct tern_timer *t = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(t, h->v[parent]))
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, t);
}

static void sift_down(struct tern_heap *h, size_t i)
{
    struct tern_timer *t = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && earlier(h->v[c + 1], h->v[c]))
            c++;
        if (!earlier(h->v[c], t))
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, t);
}

/* Takes the element at i out, filling the hole with the last element. */
static void remove_at(struct tern_heap *h, size_t i)
{
    struct tern_timer *t = h->v[i];
    struct tern_timer *last = h->v[--h->n];
    t->heap_idx = SIZE_MAX;
    if (i == h->n)
        return;
    place(h, i, last);
    if (i > 0 && earlier(last, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

static void heap_push(struct tern_heap *h, struct tern_timer *t)
{
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
    h->v[h->n] = t;
    sift_up(h, h->n++);
}

static void wheel_insert(struct tern_heap *h, struct tern_timer *t)
{
    size_t s = (size_t)(tick_of(t->when) & WMASK);
    t->heap_idx = TERN_TIMER_IN_WHEEL;
    t->wprev = NULL;
    t->wnext = h->slot[s];
    if (t->wnext)
        t->wnext->wprev = t;
    h->slot[s] = t;
    h->used[s / 64] |= 1ull << (s % 64);
    h->wn++;
}

static void wheel_remove(struct tern_heap *h, struct tern_timer *t)
{
    size_t s = (size_t)(tick_of(t->when) & WMASK);
    if (t->wprev)
        t->wprev->wnext = t->wnext;
    else
        h->slot[s] = t->wnext;
    if (t->wnext)
        t->wnext->wprev = t->wprev;
    if (!h->slot[s])
        h->used[s / 64] &= ~(1ull << (s % 64));
    t->wprev = t->wnext = NULL;
    t->heap_idx = SIZE_MAX;
    h->wn--;
}

void timer_heap_arm(struct tern_heap *h, struct tern_timer *t, uint64_t when)
{
    timer_heap_cancel(h, t);
    t->when = when;
    t->order = h->next_order++;
    if (tick_of(when) <= h->cur)
        heap_push(h, t);
    else
        wheel_insert(h, t); /* O(1): the common case */
}

void timer_heap_cancel(struct tern_heap *h, struct tern_timer *t)
{
    if (t->heap_idx == TERN_TIMER_IN_WHEEL)
        wheel_remove(h, t);
    else if (tern_timer_armed(t) && t->heap_idx < h->n && h->v[t->heap_idx] == t)
        remove_at(h, t->heap_idx);
}

/* The first non-empty slot at or after slot s, circularly (one exists). */
static size_t next_used(const struct tern_heap *h, size_t s)
{
    size_t w = s / 64;
    uint64_t bits = h->used[w] & (~0ull << (s % 64));
    for (size_t k = 0; k <= TERN_WHEEL_SLOTS / 64; k++) {
        if (bits)
            return (w * 64 + (size_t)__builtin_ctzll(bits)) & WMASK;
        w = (w + 1) % (TERN_WHEEL_SLOTS / 64);
        bits = h->used[w];
    }
    return s; /* not reached while h->wn > 0 */
}

/* The near heap is empty: move the cursor to the next tick that holds
 * wheel timers and take them into the heap. Ticks skipped on the way
 * hold nothing (their slots are empty, or hold only timers of later
 * revolutions); after a whole revolution without a timer, the cursor
 * jumps to just before the earliest one (one pass over the wheel). */
static void advance(struct tern_heap *h)
{
    uint64_t scanned = 0;
    while (h->n == 0 && h->wn > 0) {
        if (scanned >= TERN_WHEEL_SLOTS) {
            uint64_t min = UINT64_MAX;
            for (size_t s = 0; s < TERN_WHEEL_SLOTS; s++)
                for (struct tern_timer *t = h->slot[s]; t; t = t->wnext)
                    if (tick_of(t->when) < min)
                        min = tick_of(t->when);
            h->cur = min - 1;
            scanned = 0;
        }
        size_t from = (size_t)((h->cur + 1) & WMASK);
        size_t s = next_used(h, from);
        uint64_t gap = (uint64_t)((s - from) & WMASK);
        uint64_t c = h->cur + 1 + gap;
        h->cur = c;
        scanned += gap + 1;
        for (struct tern_timer *t = h->slot[s], *nx; t; t = nx) {
            nx = t->wnext;
            if (tick_of(t->when) == c) {
                wheel_remove(h, t);
                heap_push(h, t);
            }
        }
    }
}

struct tern_timer *timer_heap_peek(struct tern_heap *h)
{
    if (h->n == 0)
        advance(h);
    return h->n ? h->v[0] : NULL;
}

struct tern_timer *timer_heap_pop(struct tern_heap *h)
{
    struct tern_timer *t = timer_heap_peek(h);
    if (t)
        remove_at(h, 0);
    return t;
}
