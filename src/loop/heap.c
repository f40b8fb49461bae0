/*
 * heap.c - the timer min-heap of both loops, and tern_timer_init().
 *
 * Ordered by (when, order); see heap.h. Not thread-safe: a heap belongs to
 * its loop's thread. Not a general priority queue: it stores only timers
 * and keeps each timer's heap_idx up to date.
 */
#include "loop/heap.h"

#include <stdio.h>
#include <stdlib.h>

void tern_timer_init(struct tern_timer *t, tern_timer_fn fn, void *arg)
{
    t->when = 0;
    t->fn = fn;
    t->arg = arg;
    t->heap_idx = SIZE_MAX;
    t->order = 0;
}

void tern_heap_init(struct tern_heap *h)
{
    h->v = NULL;
    h->n = h->cap = 0;
    h->next_order = 0;
}

void tern_heap_free(struct tern_heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->v[i]->heap_idx = SIZE_MAX;
    free(h->v);
    tern_heap_init(h);
}

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

void tern_heap_arm(struct tern_heap *h, struct tern_timer *t, uint64_t when)
{
    if (tern_timer_armed(t))
        remove_at(h, t->heap_idx);
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
    sift_up(h, h->n++);
}

void tern_heap_cancel(struct tern_heap *h, struct tern_timer *t)
{
    if (tern_timer_armed(t) && t->heap_idx < h->n && h->v[t->heap_idx] == t)
        remove_at(h, t->heap_idx);
}

struct tern_timer *tern_heap_pop(struct tern_heap *h)
{
    if (h->n == 0)
        return NULL;
    struct tern_timer *t = h->v[0];
    remove_at(h, 0);
    return t;
}
