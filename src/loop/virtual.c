/*
 * virtual.c - the virtual event loop: an event heap and a time variable.
 *
 * run() pops the earliest timer, jumps the time to its deadline (never
 * backwards) and fires it; no wall-clock time passes, so minutes of
 * simulated time take milliseconds. The same loop serves embedders who
 * drive tern from their own loop with tern_loop_advance(). It is not a real
 * loop: it watches no file descriptors (fd_watch -> TERN_E_UNSUPPORTED).
 * Deterministic: equal deadlines fire in arming order (heap.h).
 */
#include <stdlib.h>

#include "loop/heap.h"
#include "tern/err.h"
#include "tern/loop.h"

struct vloop {
    struct tern_loop base;
    struct tern_heap heap;
    uint64_t now;
    int stopped;
};

static const struct tern_loop_ops vloop_ops;

static struct vloop *vl(struct tern_loop *l) { return (struct vloop *)l; }

static uint64_t v_now(struct tern_loop *l) { return vl(l)->now; }

static void v_arm(struct tern_loop *l, struct tern_timer *t, uint64_t when)
{
    timer_heap_arm(&vl(l)->heap, t, when);
}

static void v_cancel(struct tern_loop *l, struct tern_timer *t) { timer_heap_cancel(&vl(l)->heap, t); }

static int v_fd_watch(struct tern_loop *l, int fd, tern_fd_fn fn, void *arg)
{
    (void)l, (void)fd, (void)fn, (void)arg;
    return TERN_E_UNSUPPORTED;
}

static void v_fd_unwatch(struct tern_loop *l, int fd) { (void)l, (void)fd; }

/* Pops t, moves time forward to its deadline and fires it. The timer is
 * idle when its callback runs, so the callback may re-arm it. */
static void fire(struct vloop *v, struct tern_timer *t)
{
    timer_heap_pop(&v->heap);
    if (t->when > v->now)
        v->now = t->when;
    t->fn(t, t->arg);
}

static int v_run(struct tern_loop *l, uint64_t until)
{
    struct vloop *v = vl(l);
    struct tern_timer *t;
    while (!v->stopped && (t = timer_heap_peek(&v->heap)) && t->when <= until)
        fire(v, t);
    /* The run covered [now, until]: time reaches `until` unless stopped. */
    if (!v->stopped && until != TERN_TIME_NEVER && until > v->now)
        v->now = until;
    v->stopped = 0;
    return 0;
}

static void v_stop(struct tern_loop *l) { vl(l)->stopped = 1; }

static void v_destroy(struct tern_loop *l)
{
    timer_heap_free(&vl(l)->heap);
    free(l);
}

static const struct tern_loop_ops vloop_ops = {
    .now = v_now,
    .timer_arm = v_arm,
    .timer_cancel = v_cancel,
    .fd_watch = v_fd_watch,
    .fd_unwatch = v_fd_unwatch,
    .run = v_run,
    .stop = v_stop,
    .destroy = v_destroy,
};

struct tern_loop *tern_loop_virtual_new(uint64_t start)
{
    struct vloop *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->base.ops = &vloop_ops;
    timer_heap_init(&v->heap);
    v->now = start;
    return &v->base;
}

void tern_loop_advance(struct tern_loop *l, uint64_t now)
{
    if (!l || l->ops != &vloop_ops)
        return;
    struct vloop *v = vl(l);
    struct tern_timer *t;
    /* Timers armed while firing with a deadline <= now fire in this call too. */
    while ((t = timer_heap_peek(&v->heap)) && t->when <= now)
        fire(v, t);
    if (now > v->now)
        v->now = now;
}

uint64_t tern_loop_next_deadline(struct tern_loop *l)
{
    if (!l || l->ops != &vloop_ops)
        return TERN_TIME_NEVER;
    struct tern_timer *t = timer_heap_peek(&vl(l)->heap);
    return t ? t->when : TERN_TIME_NEVER;
}
