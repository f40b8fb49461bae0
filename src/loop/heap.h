/*
 * src/loop/heap.h - the timer queue shared by the real and virtual loops:
 * a hashed timing wheel in front of a small binary min-heap.
 *
 * Order: timers fire by (when, order). `order` comes from a per-queue
 * counter taken at arm time, so equal deadlines fire in arming order (a
 * virtual run is deterministic) - exactly as with the plain heap this
 * replaced (docs/architecture.md, "Timers").
 * Structure: time is cut into ticks of TERN_WHEEL_TICK_SHIFT bits of
 * microseconds (1.024 ms). A cursor tick `cur` splits the armed timers:
 * those due at a tick <= cur sit in the near heap, ordered by (when,
 * order); later ones sit in the wheel, one doubly linked list per slot
 * (tick mod TERN_WHEEL_SLOTS, a bitmap marks non-empty slots), unordered.
 * Every heap timer is due before every wheel timer, so the heap's top is
 * the earliest timer. When the heap is empty, peek moves the cursor to the
 * next tick that holds timers and takes that tick's timers into the heap.
 * Cost: arming a timer due after the cursor, and cancelling a wheel timer,
 * is O(1) (the common case: an RTO pushed later by each ACK); the heap
 * only holds the timers of one tick plus those armed earlier than the
 * earliest wheel timer. Memory: 56 bytes per struct tern_timer (two list
 * links), no per-timer heap slot for wheel timers.
 * Internal to src/loop; not a public API.
 */
#ifndef TERN_LOOP_HEAP_H
#define TERN_LOOP_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "tern/loop.h"

#define TERN_WHEEL_TICK_SHIFT 10   /* 1024 us per tick */
#define TERN_WHEEL_SLOTS 4096u     /* one revolution: 4.2 s */

struct tern_heap {
    struct tern_timer **v;  /* the near heap */
    size_t n, cap;
    uint64_t next_order;    /* arming counter: ties on `when` break by it */
    uint64_t cur;           /* cursor tick: heap timers are due at <= cur, wheel ones after */
    size_t wn;              /* timers in the wheel */
    struct tern_timer *slot[TERN_WHEEL_SLOTS];
    uint64_t used[TERN_WHEEL_SLOTS / 64]; /* non-empty slots */
};

void timer_heap_init(struct tern_heap *h);
/* Marks every timer still queued idle and frees the storage. */
void timer_heap_free(struct tern_heap *h);
/* Arms (or re-arms: the old position is dropped) t at `when`. The near
 * heap grows by doubling; if that allocation fails the process aborts,
 * because timer_arm cannot report an error and a lost timer would hang a
 * connection silently. */
void timer_heap_arm(struct tern_heap *h, struct tern_timer *t, uint64_t when);
/* Removes t if it is armed; no-op otherwise. */
void timer_heap_cancel(struct tern_heap *h, struct tern_timer *t);
/* The earliest timer, or NULL (may move the cursor: not const). */
struct tern_timer *timer_heap_peek(struct tern_heap *h);
/* Removes and returns the earliest timer (now idle), or NULL. */
struct tern_timer *timer_heap_pop(struct tern_heap *h);
/* Armed timers (heap and wheel). */
static inline size_t timer_heap_count(const struct tern_heap *h) { return h->n + h->wn; }

#endif
