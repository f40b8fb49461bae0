/*
 * tests/core/tcp_sweep_test.c - the TCP simulation sweep of issue 5: 210
 * seeds of two tern stacks on a memory link impaired both ways (loss 0-20 %
 * spread evenly over the seeds, reordering, duplication, corruption, delay
 * and jitter varied by seed), with windows of 16-64 KB so that bulk
 * transfers are several windows long.
 *
 * Per seed, six connections run at once in both directions (some opened by
 * each stack): a bulk exchange both ways, a tiny one (0-64 bytes), a
 * half-close (request, end of input, then the answer), a close() while the
 * data is still in flight, an abort (RST) in the middle of a transfer, and a
 * receiver that closes with unread data (RFC 9293 s3.10.4: RST).
 * Invariants, never traces (the sender's algorithms change): every byte
 * delivered equals the byte sent at that offset (checked byte by byte, and
 * the hashes of what was sent and delivered compared), complete streams end
 * with EOF, cut streams deliver a prefix, every socket is gone once TIME_WAIT
 * (2*MSL) has expired (tern_sock_list empty) and tern_stack_mem (the TCP
 * rings included) is back at its baseline. A digest per seed (data hashes,
 * completion times, counters) shows the run is deterministic; the combined
 * digest of all seeds is printed as a "# " line for whoever wants to compare
 * two builds. The apps: tcp_sweep.c. Replay one seed with
 * TCP_SWEEP_SEED=N [TCP_SWEEP_TRACE=1] unit_tests tcp_sweep_one.
 * Not: exact segments (tcp_state_test.c), speed (bench/).
 */
#include <stdlib.h>
#include <string.h>

#include "common/net2.h"
#include "core/stack_impl.h"
#include "harness.h"
#include "tcp_sweep.h"

#define SWEEP_FIRST 1
#define SWEEP_SEEDS 210
#define APP_LIMIT_US (1200ull * 1000000) /* every transfer and close done by then */

struct totals {
    uint64_t bytes, retransmits, timeouts, connects, resets, max_end_us;
};

/* Checks the seed's invariants; folds what it saw into t. */
static void sweep_check(struct sweep *sw, struct totals *t, uint64_t *digest)
{
    uint64_t d = sw->seed;
    for (int i = 0; i < SWEEP_NCONN; i++) {
        struct sweep_conn *c = &sw->c[i];
        struct sweep_flow *fs[2] = {&c->up, &c->down};
        if (c->cl.err || c->sv.err)
            printf("# seed %llu conn %d (kind %d): errors client %d server %d\n",
                   (unsigned long long)sw->seed, i, c->kind, c->cl.err, c->sv.err);
        CHECK_EQ(c->cl.err, 0);
        CHECK_EQ(c->sv.err, 0);
        for (int k = 0; k < 2; k++) {
            struct sweep_flow *f = fs[k];
            if (f->bad_at != SWEEP_NONE)
                printf("# seed %llu conn %d flow %d: byte %zu differs (got %zu of %zu)\n",
                       (unsigned long long)sw->seed, i, k, f->bad_at, f->got, f->size);
            CHECK(f->bad_at == SWEEP_NONE);
            CHECK(f->got <= f->written);
            if (!f->cut) {
                if (f->got != f->size || !f->eof)
                    printf("# seed %llu conn %d flow %d: %zu of %zu bytes, eof %d\n",
                           (unsigned long long)sw->seed, i, k, f->got, f->size, f->eof);
                CHECK_EQ(f->got, f->size);
                CHECK(f->eof);
                CHECK(f->h_got == f->h_sent);
            }
            t->bytes += f->got;
            d = sweep_mix64(d ^ f->h_got) + f->got + f->done_us;
        }
        t->connects += (uint64_t)c->connects;
    }
    t->resets += sw->resets;
    *digest = d;
}

static uint64_t stats_digest(uint64_t d, const struct tern_stats *st)
{
    return sweep_fnv(d, (const uint8_t *)st, sizeof *st);
}

/* tnet_open (tcp_util.c) with, under TCP_SWEEP_TRACE=1, A's frames printed
 * tcpdump-style on stdout (A sends them before its impairment, receives
 * them after B's). */
static int sweep_open(struct tnet *n, uint64_t seed, const struct tern_impair *imp,
                      struct tern_config *c)
{
    memset(n, 0, sizeof *n);
    n->loop = tern_loop_virtual_new(1000000);
    if (!n->loop || tern_memlink_pair(n->loop, TERN_LINK_ETHERNET, 1500, 4096, &n->a, &n->b) < 0)
        return -1;
    if (net2_impair_pair(n->loop, &n->a, &n->b, imp, seed) < 0)
        return -1;
    if (getenv("TCP_SWEEP_TRACE") && !(n->a = tern_trace_wrap(n->loop, n->a, NULL, stdout)))
        return -1;
    return net2_add_stacks(n->loop, n->a, n->b, c, seed, &n->sa, &n->sb);
}

/* One seed, start to finish; returns its digest (0 if it could not run). */
static uint64_t sweep_seed(uint64_t seed, struct totals *t)
{
    uint64_t r = sweep_mix64(seed ^ 0x5eedull);
    struct tern_impair imp = {
        .loss = (double)(seed % 21) / 100.0, /* 0, 1, ... 20 % */
        .reorder = (double)sweep_pick(&r, 0, 200) / 1000.0,
        .dup = (double)sweep_pick(&r, 0, 100) / 1000.0,
        .corrupt = (double)sweep_pick(&r, 0, 50) / 1000.0,
        .delay_us = sweep_pick(&r, 200, 5000),
        .jitter_us = sweep_pick(&r, 0, 1) ? sweep_pick(&r, 1, 1000) : 0,
        .reorder_delay_us = sweep_pick(&r, 500, 8000),
    };
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    static const uint32_t wins[] = {16384, 32768, 65536};
    struct sweep *sw = calloc(1, sizeof *sw);
    if (!sw)
        return 0;
    sw->seed = seed;
    sw->win = wins[sweep_pick(&r, 0, 2)];
    cfg.tcp_rcvbuf = cfg.tcp_sndbuf = sw->win;
    cfg.max_sockets = 64; /* a dozen are used; smaller tables set up faster */
    if (sweep_open(&sw->n, seed, &imp, &cfg) != 0) {
        CHECK(!"sweep_open");
        free(sw);
        return 0;
    }
    struct tern_loop *loop = sw->n.loop;
    struct tern_stack *st[2] = {sw->n.sa, sw->n.sb};
    struct tern_stack_mem base[2], m;
    for (int k = 0; k < 2; k++)
        stack_mem_usage(st[k], &base[k]);
    uint64_t t0 = tern_loop_now(loop);
    sweep_setup(sw, &r);

    /* The apps run until every end has closed (they stop the loop). */
    sw->running = true;
    tern_loop_run(loop, t0 + APP_LIMIT_US);
    sw->running = false;
    uint64_t t_app = tern_loop_now(loop);
    if (!sweep_all_closed(sw))
        printf("# seed %llu: apps not done after %llu s\n", (unsigned long long)seed,
               (unsigned long long)(APP_LIMIT_US / 1000000));
    CHECK(sweep_all_closed(sw));
    for (int i = 0; i < SWEEP_NCONN; i++) {
        struct sweep_conn *c = &sw->c[i];
        sweep_ep_close(&c->cl, false);
        sweep_ep_close(&c->sv, false);
        if (c->lsk)
            tern_sock_close(c->lsk); /* connected or not, the listener goes */
        c->lsk = NULL;
        if (tern_timer_armed(&c->start))
            tern_timer_cancel(loop, &c->start);
        if (tern_timer_armed(&c->linger))
            tern_timer_cancel(loop, &c->linger);
    }

    /* Closing connections finish (FIN retries are bounded) and TIME_WAIT
     * lasts 2*MSL: then no socket (nor TIME_WAIT record) is left on
     * either stack. */
    uint64_t limit = t_app + 2 * cfg.tcp_msl_us + cfg.tcp_user_timeout_us;
    while (tern_loop_now(loop) < limit &&
           (tern_sock_list(sw->n.sa, NULL, 0) || tern_sock_list(sw->n.sb, NULL, 0)))
        tern_loop_run(loop, tern_loop_now(loop) + 1000000);
    uint64_t t_end = tern_loop_now(loop);
    for (int k = 0; k < 2; k++) {
        struct tern_sock_info info[4];
        size_t left = tern_sock_list(st[k], info, 4);
        if (left)
            printf("# seed %llu stack %c: %zu sockets left, first %s send_q %u recv_q %u\n",
                   (unsigned long long)seed, "AB"[k], left, info[0].state, info[0].send_q,
                   info[0].recv_q);
        CHECK_EQ(left, 0);
    }
    /* ARP entries age out 90 s after their last use. */
    tern_loop_run(loop, tern_loop_now(loop) + cfg.arp_reachable_us + cfg.arp_stale_us + 1000000);
    for (int k = 0; k < 2; k++) {
        stack_mem_usage(st[k], &m);
        CHECK_EQ(m.sockets, base[k].sockets);
        CHECK_EQ(m.tcp_conns, base[k].tcp_conns);
        CHECK_EQ(m.tcp_ring_bytes, base[k].tcp_ring_bytes);
        CHECK_EQ(m.tcp_time_wait, base[k].tcp_time_wait);
        CHECK_EQ(m.tcp_syn_reqs, base[k].tcp_syn_reqs);
        CHECK_EQ(m.tcp_cold, base[k].tcp_cold);
        CHECK_EQ(m.arp_entries, base[k].arp_entries);
        CHECK_EQ(m.arp_queued, base[k].arp_queued);
        CHECK_EQ(m.reasm_bytes, base[k].reasm_bytes);
        CHECK_EQ(m.reasm_datagrams, base[k].reasm_datagrams);
        CHECK_EQ(m.loop_queued, base[k].loop_queued);
    }

    uint64_t d;
    sweep_check(sw, t, &d);
    d = sweep_mix64(d ^ (t_app - t0)) ^ sweep_mix64(t_end - t0);
    d = stats_digest(stats_digest(d, tern_stack_stats(sw->n.sa)), tern_stack_stats(sw->n.sb));
    for (int k = 0; k < 2; k++) {
        t->retransmits += tern_stack_stats(st[k])->tcp.retransmits;
        t->timeouts += tern_stack_stats(st[k])->tcp.timeouts;
    }
    if (t_app - t0 > t->max_end_us)
        t->max_end_us = t_app - t0;
    if (getenv("TCP_SWEEP_DEBUG"))
        printf("# seed %llu loss %.2f win %u: apps done %.3f s, sockets gone %.3f s, digest %016llx\n",
               (unsigned long long)seed, imp.loss, sw->win, (double)(t_app - t0) / 1e6,
               (double)(t_end - t0) / 1e6, (unsigned long long)d);
    tnet_close(&sw->n);
    free(sw);
    return d;
}

TEST(tcp_sweep_210_seeds_loss_reorder_dup_corrupt)
{
    struct totals t = {0};
    uint64_t combined = 0xcbf29ce484222325ull;
    for (uint64_t seed = SWEEP_FIRST; seed < SWEEP_FIRST + SWEEP_SEEDS; seed++) {
        int before = test_failed_now();
        uint64_t d = sweep_seed(seed, &t);
        combined = sweep_mix64(combined ^ d);
        if (test_failed_now() != before)
            printf("# seed %llu failed (replay: TCP_SWEEP_SEED=%llu)\n",
                   (unsigned long long)seed, (unsigned long long)seed);
        if (test_failed_now() > 20)
            break; /* one bug, many seeds: the first reports say enough */
    }
    printf("# tcp sweep: %d seeds, %llu bytes delivered, %llu retransmits, %llu RTOs, "
           "%llu connects, %llu resets seen, slowest %.1f s virtual, combined digest %016llx\n",
           SWEEP_SEEDS, (unsigned long long)t.bytes, (unsigned long long)t.retransmits,
           (unsigned long long)t.timeouts, (unsigned long long)t.connects,
           (unsigned long long)t.resets, (double)t.max_end_us / 1e6,
           (unsigned long long)combined);
    /* The abort and unread-data kinds do reach their peers as resets
     * (a lost RST is allowed: the peer then gives up on its own). */
    CHECK(t.resets > SWEEP_SEEDS / 2);
}

/* Same seed, same run: the digest covers completion times and every
 * counter of both stacks, so any dependence on something but the seed
 * (addresses, uninitialised memory, wall time) shows. */
TEST(tcp_sweep_deterministic_replay)
{
    static const uint64_t seeds[] = {20, 104};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        struct totals t1 = {0}, t2 = {0};
        uint64_t d1 = sweep_seed(seeds[i], &t1);
        uint64_t d2 = sweep_seed(seeds[i], &t2);
        CHECK(d1 != 0);
        CHECK(d1 == d2);
        CHECK_EQ(t1.retransmits, t2.retransmits);
        CHECK_EQ(t1.bytes, t2.bytes);
    }
}

/* One seed on demand: TCP_SWEEP_SEED=N unit_tests tcp_sweep_one. */
/* Replays one seed (TCP_SWEEP_SEED=N, default the heaviest-loss seed 20)
 * with its invariants checked as in the sweep; TCP_SWEEP_TRACE=1 prints
 * its frames. */
TEST(tcp_sweep_one)
{
    const char *s = getenv("TCP_SWEEP_SEED");
    if (!s)
        s = "20";
    struct totals t = {0};
    uint64_t d = sweep_seed(strtoull(s, NULL, 10), &t);
    CHECK(d != 0); /* 0: the seed could not run */
    printf("# seed %s: digest %016llx, %llu bytes, %llu retransmits\n", s,
           (unsigned long long)d, (unsigned long long)t.bytes,
           (unsigned long long)t.retransmits);
}
