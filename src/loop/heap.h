/*
 * src/loop/heap.h - the timer heap shared by the real and virtual loops.
 *
 * A binary min-heap of struct tern_timer pointers ordered by (when, order).
 * `order` comes from a per-heap counter taken at arm time, so equal
 * deadlines fire in arming order (a virtual run is deterministic). Each
 * timer records its slot in heap_idx, so cancel and re-arm are O(log n).
 * Internal to src/loop; not a public API.
 */
#ifndef TERN_LOOP_HEAP_H
#define TERN_LOOP_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "tern/loop.h"

struct tern_heap {
    struct tern_timer **v;
    size_t n, cap;
    uint64_t next_order; /* arming counter: ties on `when` break by it */
};

void tern_heap_init(struct tern_heap *h);
/* Marks every timer still in the heap idle and frees the storage. */
void tern_heap_free(struct tern_heap *h);
/* Arms (or re-arms: the old position is dropped) t at `when`. The storage
 * grows by doubling; if that allocation fails the process aborts, because
 * timer_arm cannot report an error and a lost timer would hang a
 * connection silently. */
void tern_heap_arm(struct tern_heap *h, struct tern_timer *t, uint64_t when);
/* Removes t if it is armed; no-op otherwise. */
void tern_heap_cancel(struct tern_heap *h, struct tern_timer *t);
/* The earliest timer, or NULL. */
static inline struct tern_timer *tern_heap_peek(const struct tern_heap *h)
{
    return h->n ? h->v[0] : NULL;
}
/* Removes and returns the earliest timer (now idle), or NULL. */
struct tern_timer *tern_heap_pop(struct tern_heap *h);

#endif
