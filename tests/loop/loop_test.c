/*
 * Tests for src/loop: the timer heap through the virtual loop (order, ties,
 * cancel, re-arm, run(until), advance) and the real loop (timers, fds,
 * wake from another thread, stop). Real-loop tests assert lower bounds on
 * time only; upper bounds are loose (seconds), so a loaded machine passes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tern/err.h"
#include "tern/loop.h"

struct rec {
    struct tern_loop *l;
    int log[64];
    uint64_t at[64];
    int n;
};

struct tt {
    struct tern_timer t;
    struct rec *r;
    int id;
};

static void note(struct tern_timer *t, void *arg)
{
    struct tt *x = arg;
    (void)t;
    if (x->r->n < 64) {
        x->r->at[x->r->n] = tern_loop_now(x->r->l);
        x->r->log[x->r->n++] = x->id;
    }
}

static void setup(struct tt *v, int n, struct rec *r)
{
    for (int i = 0; i < n; i++) {
        tern_timer_init(&v[i].t, note, &v[i]);
        v[i].r = r;
        v[i].id = i;
    }
}

TEST(vloop_fires_in_deadline_order_and_jumps_time)
{
    struct rec r = {.l = tern_loop_virtual_new(1000)};
    struct tt v[4];
    setup(v, 4, &r);
    CHECK_EQ(tern_loop_now(r.l), 1000);
    tern_timer_arm(r.l, &v[0].t, 5000);
    tern_timer_arm(r.l, &v[1].t, 2000);
    tern_timer_arm(r.l, &v[2].t, 9000);
    tern_timer_arm(r.l, &v[3].t, 3000);
    CHECK(tern_timer_armed(&v[0].t));
    CHECK_EQ(tern_loop_next_deadline(r.l), 2000);
    CHECK_EQ(tern_loop_run(r.l, TERN_TIME_NEVER), 0);
    REQUIRE_EQ(r.n, 4);
    int want[] = {1, 3, 0, 2};
    uint64_t at[] = {2000, 3000, 5000, 9000};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(r.log[i], want[i]);
        CHECK_EQ(r.at[i], at[i]);
    }
    CHECK(!tern_timer_armed(&v[0].t));
    CHECK_EQ(tern_loop_now(r.l), 9000);
    CHECK_EQ(tern_loop_next_deadline(r.l), TERN_TIME_NEVER);
    tern_loop_destroy(r.l);
}

TEST(vloop_equal_deadlines_fire_in_arming_order)
{
    struct rec r = {.l = tern_loop_virtual_new(0)};
    struct tt v[10];
    setup(v, 10, &r);
    int arm[] = {7, 2, 9, 0, 5, 1, 8, 3, 6, 4};
    for (int i = 0; i < 10; i++)
        tern_timer_arm(r.l, &v[arm[i]].t, 100);
    /* Re-arming counts as a new arming: 7 moves to the end. */
    tern_timer_arm(r.l, &v[7].t, 100);
    tern_loop_run(r.l, TERN_TIME_NEVER);
    REQUIRE_EQ(r.n, 10);
    int want[] = {2, 9, 0, 5, 1, 8, 3, 6, 4, 7};
    for (int i = 0; i < 10; i++)
        CHECK_EQ(r.log[i], want[i]);
    tern_loop_destroy(r.l);
}

TEST(vloop_cancel_and_rearm)
{
    struct rec r = {.l = tern_loop_virtual_new(0)};
    struct tt v[3];
    setup(v, 3, &r);
    tern_timer_arm(r.l, &v[0].t, 10);
    tern_timer_arm(r.l, &v[1].t, 20);
    tern_timer_arm(r.l, &v[2].t, 30);
    tern_timer_cancel(r.l, &v[1].t);
    CHECK(!tern_timer_armed(&v[1].t));
    tern_timer_cancel(r.l, &v[1].t); /* idle: no-op */
    tern_timer_arm(r.l, &v[0].t, 40);  /* later than it was */
    tern_timer_arm(r.l, &v[2].t, 5);   /* earlier than it was */
    CHECK_EQ(tern_loop_next_deadline(r.l), 5);
    tern_loop_run(r.l, TERN_TIME_NEVER);
    REQUIRE_EQ(r.n, 2);
    CHECK_EQ(r.log[0], 2);
    CHECK_EQ(r.log[1], 0);
    CHECK_EQ(r.at[1], 40);
    tern_loop_destroy(r.l);
}

/* A timer that re-arms itself twice, and arms a sibling in the past. */
struct chain {
    struct tern_timer t, other;
    struct tern_loop *l;
    int fired, other_fired;
    uint64_t other_at;
};

static void chain_other(struct tern_timer *t, void *arg)
{
    (void)t;
    struct chain *c = arg;
    c->other_fired++;
    c->other_at = tern_loop_now(c->l);
}

static void chain_fn(struct tern_timer *t, void *arg)
{
    struct chain *c = arg;
    CHECK(!tern_timer_armed(t));
    if (++c->fired < 3)
        tern_timer_arm(c->l, t, tern_loop_now(c->l) + 100);
    else
        tern_timer_arm(c->l, &c->other, 0); /* in the past: fires next, time stays */
}

TEST(vloop_arm_from_callback)
{
    struct chain c = {.l = tern_loop_virtual_new(0)};
    tern_timer_init(&c.t, chain_fn, &c);
    tern_timer_init(&c.other, chain_other, &c);
    tern_timer_arm(c.l, &c.t, 100);
    tern_loop_run(c.l, TERN_TIME_NEVER);
    CHECK_EQ(c.fired, 3);
    CHECK_EQ(c.other_fired, 1);
    CHECK_EQ(c.other_at, 300); /* time never runs backwards */
    CHECK_EQ(tern_loop_now(c.l), 300);
    tern_loop_destroy(c.l);
}

TEST(vloop_run_until_stops_at_until)
{
    struct rec r = {.l = tern_loop_virtual_new(0)};
    struct tt v[3];
    setup(v, 3, &r);
    tern_timer_arm(r.l, &v[0].t, 100);
    tern_timer_arm(r.l, &v[1].t, 200);
    tern_timer_arm(r.l, &v[2].t, 300);
    tern_loop_run(r.l, 200); /* a timer due at `until` fires */
    CHECK_EQ(r.n, 2);
    CHECK_EQ(tern_loop_now(r.l), 200);
    tern_loop_run(r.l, 250);
    CHECK_EQ(r.n, 2);
    CHECK_EQ(tern_loop_now(r.l), 250);
    CHECK(tern_timer_armed(&v[2].t));
    tern_loop_run(r.l, 1000); /* nothing left before 1000: time still reaches it */
    CHECK_EQ(r.n, 3);
    CHECK_EQ(tern_loop_now(r.l), 1000);
    tern_loop_destroy(r.l);
}

static void stopper(struct tern_timer *t, void *arg)
{
    (void)t;
    tern_loop_stop(arg);
}

TEST(vloop_stop_from_callback)
{
    struct rec r = {.l = tern_loop_virtual_new(0)};
    struct tt v[2];
    struct tern_timer s;
    setup(v, 2, &r);
    tern_timer_init(&s, stopper, r.l);
    tern_timer_arm(r.l, &v[0].t, 10);
    tern_timer_arm(r.l, &s, 20);
    tern_timer_arm(r.l, &v[1].t, 30);
    tern_loop_run(r.l, 1000);
    CHECK_EQ(r.n, 1);
    CHECK_EQ(tern_loop_now(r.l), 20); /* stopped: time stays at the stop */
    tern_loop_run(r.l, TERN_TIME_NEVER); /* the stop was consumed */
    CHECK_EQ(r.n, 2);
    tern_loop_destroy(r.l);
}

TEST(vloop_advance_fires_due_timers)
{
    struct rec r = {.l = tern_loop_virtual_new(0)};
    struct tt v[3];
    setup(v, 3, &r);
    tern_timer_arm(r.l, &v[0].t, 50);
    tern_timer_arm(r.l, &v[1].t, 150);
    tern_timer_arm(r.l, &v[2].t, 100);
    tern_loop_advance(r.l, 120);
    REQUIRE_EQ(r.n, 2);
    CHECK_EQ(r.log[0], 0);
    CHECK_EQ(r.at[0], 50);
    CHECK_EQ(r.log[1], 2);
    CHECK_EQ(r.at[1], 100);
    CHECK_EQ(tern_loop_now(r.l), 120);
    tern_loop_advance(r.l, 60); /* never backwards */
    CHECK_EQ(tern_loop_now(r.l), 120);
    CHECK_EQ(tern_loop_next_deadline(r.l), 150);
    tern_loop_advance(r.l, 150);
    CHECK_EQ(r.n, 3);
    tern_loop_destroy(r.l);
}

TEST(vloop_advance_fires_timers_armed_meanwhile)
{
    struct chain c = {.l = tern_loop_virtual_new(0)};
    tern_timer_init(&c.t, chain_fn, &c);
    tern_timer_init(&c.other, chain_other, &c);
    tern_timer_arm(c.l, &c.t, 100);
    tern_loop_advance(c.l, 250); /* fires at 100 and 200; 300 is later */
    CHECK_EQ(c.fired, 2);
    tern_loop_advance(c.l, 300); /* fires at 300, which arms `other` in the past */
    CHECK_EQ(c.fired, 3);
    CHECK_EQ(c.other_fired, 1);
    tern_loop_destroy(c.l);
}

TEST(vloop_fd_watch_unsupported)
{
    struct tern_loop *l = tern_loop_virtual_new(0);
    CHECK_EQ(tern_loop_fd_watch(l, 0, NULL, NULL), TERN_E_UNSUPPORTED);
    tern_loop_destroy(l);
}

struct big {
    struct tern_loop *l;
    uint64_t last_when, last_order;
    size_t fired, bad;
};

struct bt {
    struct tern_timer t;
    struct big *b;
};

static void big_fn(struct tern_timer *t, void *arg)
{
    struct big *b = ((struct bt *)arg)->b;
    if (b->fired && (t->when < b->last_when || (t->when == b->last_when && t->order <= b->last_order)))
        b->bad++;
    if (tern_loop_now(b->l) != t->when)
        b->bad++;
    b->last_when = t->when;
    b->last_order = t->order;
    b->fired++;
}

TEST(vloop_100k_random_timers_fire_sorted)
{
    enum { N = 100000 };
    struct bt *v = calloc(N, sizeof *v);
    struct big b = {.l = tern_loop_virtual_new(0)};
    REQUIRE(v);
    for (size_t i = 0; i < N; i++) {
        tern_timer_init(&v[i].t, big_fn, &v[i]);
        v[i].b = &b;
        tern_timer_arm(b.l, &v[i].t, test_rand() % 50000); /* many ties */
    }
    size_t cancelled = 0;
    for (size_t i = 0; i < N; i += 7) { /* cancel some, re-arm others */
        if (i % 2) {
            tern_timer_cancel(b.l, &v[i].t);
            cancelled++;
        } else {
            tern_timer_arm(b.l, &v[i].t, test_rand() % 50000);
        }
    }
    tern_loop_run(b.l, TERN_TIME_NEVER);
    CHECK_EQ(b.fired, N - cancelled);
    CHECK_EQ(b.bad, 0);
    tern_loop_destroy(b.l);
    free(v);
}

/* ---- the real loop ---- */

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct rt {
    struct tern_timer t;
    struct tern_loop *l;
    uint64_t fired_at;
};

static void rt_fn(struct tern_timer *t, void *arg)
{
    (void)t;
    struct rt *x = arg;
    x->fired_at = mono_us();
    tern_loop_stop(x->l);
}

TEST(rloop_timer_fires_after_deadline)
{
    struct rt x = {.l = tern_loop_real_new(NULL, NULL)};
    REQUIRE(x.l);
    tern_timer_init(&x.t, rt_fn, &x);
    uint64_t start = mono_us(), now = tern_loop_now(x.l);
    tern_timer_arm(x.l, &x.t, now + 20000);
    CHECK_EQ(tern_loop_run(x.l, now + 5000000), 0);
    CHECK(x.fired_at != 0);
    CHECK(x.fired_at - start >= 20000);
    CHECK(x.fired_at - start < 2000000);
    CHECK(tern_loop_now(x.l) >= now + 20000);
    tern_loop_destroy(x.l);
}

TEST(rloop_run_until_returns)
{
    struct tern_loop *l = tern_loop_real_new(NULL, NULL);
    REQUIRE(l);
    uint64_t now = tern_loop_now(l);
    CHECK_EQ(tern_loop_run(l, now + 10000), 0);
    CHECK(tern_loop_now(l) >= now + 10000);
    tern_loop_destroy(l);
}

struct pipe_ctx {
    struct tern_loop *l;
    int reads;
    char got;
};

static void on_pipe(int fd, void *arg)
{
    struct pipe_ctx *p = arg;
    if (read(fd, &p->got, 1) == 1)
        p->reads++;
    tern_loop_stop(p->l);
}

TEST(rloop_fd_watch_dispatches)
{
    struct pipe_ctx p = {.l = tern_loop_real_new(NULL, NULL)};
    int fds[2];
    REQUIRE(p.l);
    REQUIRE(pipe(fds) == 0);
    CHECK_EQ(tern_loop_fd_watch(p.l, fds[0], on_pipe, &p), 0);
    CHECK(write(fds[1], "x", 1) == 1);
    CHECK_EQ(tern_loop_run(p.l, tern_loop_now(p.l) + 5000000), 0);
    CHECK_EQ(p.reads, 1);
    CHECK_EQ(p.got, 'x');
    /* Unwatched: a second byte is not dispatched. */
    tern_loop_fd_unwatch(p.l, fds[0]);
    CHECK(write(fds[1], "y", 1) == 1);
    tern_loop_run(p.l, tern_loop_now(p.l) + 20000);
    CHECK_EQ(p.reads, 1);
    close(fds[0]);
    close(fds[1]);
    tern_loop_destroy(p.l);
}

static void *waker(void *arg)
{
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    tern_loop_wake(arg);
    return NULL;
}

TEST(rloop_wake_from_another_thread_returns_from_run)
{
    struct tern_loop *l = tern_loop_real_new(NULL, NULL);
    pthread_t th;
    REQUIRE(l);
    uint64_t start = mono_us();
    REQUIRE(pthread_create(&th, NULL, waker, l) == 0);
    /* Nothing armed: only the wake ends the run before the 5 s bound. */
    CHECK_EQ(tern_loop_run(l, tern_loop_now(l) + 5000000), 0);
    pthread_join(th, NULL);
    CHECK(mono_us() - start >= 30000);
    CHECK(mono_us() - start < 2000000);
    tern_loop_destroy(l);
}

TEST(rloop_stop_from_timer_and_before_run)
{
    struct rt x = {.l = tern_loop_real_new(NULL, NULL)};
    struct tern_timer later;
    REQUIRE(x.l);
    tern_timer_init(&x.t, rt_fn, &x);
    tern_timer_init(&later, rt_fn, &x);
    uint64_t now = tern_loop_now(x.l);
    tern_timer_arm(x.l, &x.t, now);
    tern_timer_arm(x.l, &later, now + 3600000000u);
    CHECK_EQ(tern_loop_run(x.l, TERN_TIME_NEVER), 0);
    CHECK(x.fired_at != 0);
    CHECK(tern_timer_armed(&later));
    tern_loop_stop(x.l); /* outside run: the next run returns at once */
    uint64_t start = mono_us();
    CHECK_EQ(tern_loop_run(x.l, tern_loop_now(x.l) + 3000000), 0);
    CHECK(mono_us() - start < 2000000);
    tern_timer_cancel(x.l, &later);
    tern_loop_destroy(x.l);
}

static uint64_t fake_clock(void *ctx) { return *(uint64_t *)ctx; }

TEST(rloop_custom_clock_never_backwards)
{
    uint64_t t = 5000;
    struct tern_loop *l = tern_loop_real_new(fake_clock, &t);
    REQUIRE(l);
    CHECK_EQ(tern_loop_now(l), 5000);
    t = 4000;
    CHECK_EQ(tern_loop_now(l), 5000);
    t = 7000;
    CHECK_EQ(tern_loop_now(l), 7000);
    tern_loop_destroy(l);
}
