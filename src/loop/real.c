/*
 * real.c - the real event loop: epoll, CLOCK_MONOTONIC and a timer heap.
 *
 * Each turn fires the timers that are due, then sleeps in epoll_wait until
 * the next deadline (rounded up to whole milliseconds, so a timer never
 * fires early) or until a watched fd is readable, and dispatches the fds.
 * tern_loop_wake() writes an eventfd so another thread can interrupt the
 * sleep; run() then returns 0 so its caller can do the cross-thread work.
 * Optional sleep hooks run just before and after each epoll_wait (the POSIX
 * facade drops its runtime mutex there). Linux only (epoll, eventfd). Not
 * thread-safe apart from tern_loop_wake().
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "loop/heap.h"
#include "tern/err.h"
#include "tern/loop.h"

#define MAX_EVENTS 32
#define MAX_SLEEP_MS 60000 /* re-read the clock at least once a minute */

struct watch {
    int fd;
    tern_fd_fn fn;
    void *arg;
};

struct rloop {
    struct tern_loop base;
    struct tern_heap heap;
    uint64_t (*clock)(void *ctx);
    void *clock_ctx;
    uint64_t last; /* the clock never runs backwards, even an embedder's */
    int epfd, wakefd;
    int stopped;
    struct watch *w; /* a handful of fds (devices): a linear table is enough */
    size_t nw, capw;
    void (*before_sleep)(void *ctx), (*after_sleep)(void *ctx); /* tern_loop_real_set_sleep_hooks */
    void *hook_ctx;
};

static const struct tern_loop_ops rloop_ops;

static struct rloop *rl(struct tern_loop *l) { return (struct rloop *)l; }

static uint64_t mono_us(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t r_now(struct tern_loop *l)
{
    struct rloop *r = rl(l);
    uint64_t t = r->clock(r->clock_ctx);
    if (t > r->last)
        r->last = t;
    return r->last;
}

static void r_arm(struct tern_loop *l, struct tern_timer *t, uint64_t when)
{
    timer_heap_arm(&rl(l)->heap, t, when);
}

static void r_cancel(struct tern_loop *l, struct tern_timer *t) { timer_heap_cancel(&rl(l)->heap, t); }

static struct watch *find_watch(struct rloop *r, int fd)
{
    for (size_t i = 0; i < r->nw; i++)
        if (r->w[i].fd == fd)
            return &r->w[i];
    return NULL;
}

static int r_fd_watch(struct tern_loop *l, int fd, tern_fd_fn fn, void *arg)
{
    struct rloop *r = rl(l);
    if (fd < 0 || !fn)
        return TERN_E_INVAL;
    struct watch *w = find_watch(r, fd);
    if (w) { /* already watched: just replace the handler */
        w->fn = fn;
        w->arg = arg;
        return 0;
    }
    if (r->nw == r->capw) {
        size_t cap = r->capw ? r->capw * 2 : 8;
        struct watch *nw = realloc(r->w, cap * sizeof *nw);
        if (!nw)
            return TERN_E_NOMEM;
        r->w = nw;
        r->capw = cap;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return TERN_E_IO;
    r->w[r->nw++] = (struct watch){fd, fn, arg};
    return 0;
}

static void r_fd_unwatch(struct tern_loop *l, int fd)
{
    struct rloop *r = rl(l);
    struct watch *w = find_watch(r, fd);
    if (!w)
        return;
    epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL); /* fails harmlessly if fd was closed */
    *w = r->w[--r->nw];
}

/* Fires the timers due now that were armed before this pass began; timers
 * armed by these callbacks wait for the next turn, so a timer that re-arms
 * itself at `now` cannot starve the fds. */
static void fire_due(struct rloop *r)
{
    uint64_t now = r_now(&r->base), horizon = r->heap.next_order;
    struct tern_timer *t;
    while (!r->stopped && (t = timer_heap_peek(&r->heap)) && t->when <= now && t->order < horizon) {
        timer_heap_pop(&r->heap);
        t->fn(t, t->arg);
    }
}

/* Milliseconds epoll may sleep: until the next deadline or `until`. */
static int sleep_ms(struct rloop *r, uint64_t until)
{
    struct tern_timer *t = timer_heap_peek(&r->heap);
    uint64_t next = t && t->when < until ? t->when : until, now = r_now(&r->base);
    if (next == TERN_TIME_NEVER)
        return -1;
    if (next <= now)
        return 0;
    uint64_t ms = (next - now + 999) / 1000; /* round up: never wake early */
    return ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)ms;
}

static void drain_wake(struct rloop *r)
{
    uint64_t v;
    while (read(r->wakefd, &v, sizeof v) == (ssize_t)sizeof v)
        ;
    r->stopped = 1;
}

static int r_run(struct tern_loop *l, uint64_t until)
{
    struct rloop *r = rl(l);
    struct epoll_event ev[MAX_EVENTS];
    int rc = 0;
    while (!r->stopped) {
        fire_due(r);
        if (r->stopped || (until != TERN_TIME_NEVER && r_now(l) >= until))
            break;
        int ms = sleep_ms(r, until);
        if (r->before_sleep)
            r->before_sleep(r->hook_ctx);
        int n = epoll_wait(r->epfd, ev, MAX_EVENTS, ms);
        int err = errno;
        if (r->after_sleep)
            r->after_sleep(r->hook_ctx);
        if (n < 0) {
            if (err == EINTR)
                continue;
            rc = TERN_E_IO;
            break;
        }
        for (int i = 0; i < n && !r->stopped; i++) {
            if (ev[i].data.fd == r->wakefd) {
                drain_wake(r);
                continue;
            }
            /* Look the fd up now: an earlier callback may have unwatched it. */
            struct watch *w = find_watch(r, ev[i].data.fd);
            if (w)
                w->fn(w->fd, w->arg);
        }
    }
    r->stopped = 0;
    return rc;
}

static void r_stop(struct tern_loop *l) { rl(l)->stopped = 1; }

static void r_destroy(struct tern_loop *l)
{
    struct rloop *r = rl(l);
    timer_heap_free(&r->heap);
    if (r->epfd >= 0)
        close(r->epfd);
    if (r->wakefd >= 0)
        close(r->wakefd);
    free(r->w);
    free(r);
}

static const struct tern_loop_ops rloop_ops = {
    .now = r_now,
    .timer_arm = r_arm,
    .timer_cancel = r_cancel,
    .fd_watch = r_fd_watch,
    .fd_unwatch = r_fd_unwatch,
    .run = r_run,
    .stop = r_stop,
    .destroy = r_destroy,
};

struct tern_loop *tern_loop_real_new(uint64_t (*clock)(void *ctx), void *clock_ctx)
{
    struct rloop *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->base.ops = &rloop_ops;
    timer_heap_init(&r->heap);
    r->clock = clock ? clock : mono_us;
    r->clock_ctx = clock ? clock_ctx : NULL;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = r->wakefd};
    if (r->epfd < 0 || r->wakefd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->wakefd, &ev) < 0) {
        int e = errno;
        r_destroy(&r->base);
        errno = e;
        return NULL;
    }
    return &r->base;
}

void tern_loop_real_set_sleep_hooks(struct tern_loop *l, void (*before)(void *ctx),
                                    void (*after)(void *ctx), void *ctx)
{
    if (!l || l->ops != &rloop_ops)
        return;
    rl(l)->before_sleep = before;
    rl(l)->after_sleep = after;
    rl(l)->hook_ctx = ctx;
}

void tern_loop_wake(struct tern_loop *l)
{
    if (!l || l->ops != &rloop_ops)
        return;
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the wake is pending. */
    ssize_t n = write(rl(l)->wakefd, &one, sizeof one);
    (void)n;
}
