/*
 * tern/loop.h - the event loop interface: time, timers and readiness.
 *
 * Time is uint64_t microseconds on the loop's own clock. The stack, devices
 * and apps never read a clock or sleep; they ask their loop for `now` at an
 * entry point and arm timers on it (DESIGN.md principles 1 and 2). Three
 * implementations:
 *   - the real loop: epoll + CLOCK_MONOTONIC (or an embedder's clock);
 *   - the virtual loop: an event heap, time jumps to the next event
 *     (simulator, tests, fuzzing); also the "manual" loop of an embedder,
 *     who calls tern_loop_advance() from its own loop;
 *   - anything an embedder writes against struct tern_loop_ops.
 * Timers fire in deadline order; equal deadlines fire in arming order, so a
 * virtual run is deterministic.
 *
 * Ownership: a struct tern_timer lives inside its owner's struct; the loop
 * only links it. Cancel (or let it fire) before freeing it.
 * Thread safety: a loop and everything attached to it belong to one thread,
 * except tern_loop_wake() (real loop), which any thread may call.
 */
#ifndef TERN_LOOP_H
#define TERN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/api.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_TIME_NEVER UINT64_MAX

struct tern_loop;
struct tern_timer;

typedef void (*tern_timer_fn)(struct tern_timer *t, void *arg);
typedef void (*tern_fd_fn)(int fd, void *arg);

struct tern_timer {
    uint64_t when;      /* deadline, loop microseconds (read-only for users) */
    tern_timer_fn fn;
    void *arg;
    size_t heap_idx;    /* internal: position in the near heap, TERN_TIMER_IN_WHEEL,
                         * or SIZE_MAX when idle (src/loop/heap.c) */
    uint64_t order;     /* internal: arming order, breaks ties deterministically */
    struct tern_timer *wprev, *wnext; /* internal: timing wheel slot list */
};
#define TERN_TIMER_IN_WHEEL (SIZE_MAX - 1)

struct tern_loop_ops {
    uint64_t (*now)(struct tern_loop *l);
    void (*timer_arm)(struct tern_loop *l, struct tern_timer *t, uint64_t when);
    void (*timer_cancel)(struct tern_loop *l, struct tern_timer *t);
    /* Readability of a file descriptor (real loops only; others return
     * TERN_E_UNSUPPORTED). */
    int (*fd_watch)(struct tern_loop *l, int fd, tern_fd_fn fn, void *arg);
    void (*fd_unwatch)(struct tern_loop *l, int fd);
    /* Runs until tern_loop_stop() or until loop time reaches `until`
     * (TERN_TIME_NEVER: until stopped or, for a virtual loop, until no event
     * is left). Timers due at `until` itself fire. A virtual loop that was
     * not stopped leaves its time at `until` (if finite). Returns 0, or a
     * negative enum tern_err. */
    int (*run)(struct tern_loop *l, uint64_t until);
    /* Makes run() return once the callback in progress is done. Called
     * while no run() is active, it makes the next run() return at once. */
    void (*stop)(struct tern_loop *l);
    void (*destroy)(struct tern_loop *l);
};

struct tern_loop {
    const struct tern_loop_ops *ops;
};

TERN_API void tern_timer_init(struct tern_timer *t, tern_timer_fn fn, void *arg);
static inline bool tern_timer_armed(const struct tern_timer *t) { return t->heap_idx != SIZE_MAX; }

static inline uint64_t tern_loop_now(struct tern_loop *l) { return l->ops->now(l); }
/* Arms (or re-arms) t to fire at `when`; a deadline in the past fires at the
 * next turn of the loop. Re-arming counts as a new arming for the tie order.
 * The built-in loops grow their timer heap on demand (amortised, not per
 * packet) and abort the process if that allocation fails, since this call
 * cannot report an error. */
static inline void tern_timer_arm(struct tern_loop *l, struct tern_timer *t, uint64_t when)
{
    l->ops->timer_arm(l, t, when);
}
static inline void tern_timer_cancel(struct tern_loop *l, struct tern_timer *t)
{
    l->ops->timer_cancel(l, t);
}
static inline int tern_loop_fd_watch(struct tern_loop *l, int fd, tern_fd_fn fn, void *arg)
{
    return l->ops->fd_watch(l, fd, fn, arg);
}
static inline void tern_loop_fd_unwatch(struct tern_loop *l, int fd) { l->ops->fd_unwatch(l, fd); }
static inline int tern_loop_run(struct tern_loop *l, uint64_t until) { return l->ops->run(l, until); }
static inline void tern_loop_stop(struct tern_loop *l) { l->ops->stop(l); }
static inline void tern_loop_destroy(struct tern_loop *l)
{
    if (l)
        l->ops->destroy(l);
}

/* The real loop. clock may be NULL (CLOCK_MONOTONIC) or an embedder's clock
 * returning microseconds. Returns NULL on failure (errno set). */
TERN_API struct tern_loop *tern_loop_real_new(uint64_t (*clock)(void *ctx), void *clock_ctx);
/* Wakes a real loop blocked in epoll from another thread: the loop's run()
 * returns 0 after the turn in which it sees the wake (or at once if the wake
 * came while it was not running), so the caller of run() can pick up work
 * another thread left for it and call run() again. The only thread-safe
 * call on a loop. No-op on other loops. */
TERN_API void tern_loop_wake(struct tern_loop *l);
/* Real loop: before(ctx) runs just before each epoll_wait (the sleep) and
 * after(ctx) right after it, on the loop's thread. The POSIX facade uses
 * them to release its runtime mutex while the loop sleeps, so the loop holds
 * it only while it processes timers and fds. NULLs remove the hooks. No-op
 * on other loops. */
TERN_API void tern_loop_real_set_sleep_hooks(struct tern_loop *l, void (*before)(void *ctx),
                                             void (*after)(void *ctx), void *ctx);

/* The virtual loop, starting at time `start`. run() pops events in order and
 * jumps time to each; no wall-clock time passes. */
TERN_API struct tern_loop *tern_loop_virtual_new(uint64_t start);
/* Virtual loop: fire every timer due at or before `now` (including timers
 * armed meanwhile with such deadlines), each with the time set to its
 * deadline, then set the time to `now` (never backwards). For embedders
 * driving tern from their own loop. No-op on other loops. */
TERN_API void tern_loop_advance(struct tern_loop *l, uint64_t now);
/* Virtual loop: the next deadline, or TERN_TIME_NEVER (also for other loops). */
TERN_API uint64_t tern_loop_next_deadline(struct tern_loop *l);

#ifdef __cplusplus
}
#endif
#endif
