/*
 * bench/sim_speed_bench.c - how much faster than real time the simulator
 * runs (issue 6: "a 30-virtual-minute 10 Mb/s transfer across 3 routers
 * completes in well under 30 s of wall time"). Builds host A - R1 - R2 - R3
 * - host B in virtual time: five tern stacks, the routers with
 * cfg.ip_forward, each link a memory link impaired in both directions with
 * a 10 Mb/s serialization rate, a modest one-way delay and a drop-tail
 * queue of 64 KB (about 50 ms at 10 Mb/s); then runs one TCP bulk transfer A -> B for 30 virtual minutes.
 * Prints virtual seconds, wall seconds, their ratio, bytes delivered and
 * goodput. Not a test: nothing is asserted about speed.
 *
 *     sim_speed_bench [--minutes N] [--routers N] [--rate-mbps N]
 *                     [--delay-ms N] [--queue-kb N] [--seed N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define MAX_ROUTERS 8
#define NODES (MAX_ROUTERS + 2)

struct opts {
    double minutes, rate_mbps, delay_ms;
    int routers;
    size_t queue_kb;
    uint64_t seed;
};

struct run {
    struct tern_loop *loop;
    struct tern_stack *st[NODES];
    struct tern_device *dev[NODES][2]; /* [node][0: toward A, 1: toward B] */
    struct tern_sock *lsk, *tx, *rx;
    uint64_t sent, got;
};

static uint8_t txbuf[1 << 16], rxbuf[1 << 16];

/* Link j joins node j and node j + 1: 10.0.j.1 (left) and 10.0.j.2 (right). */
static uint32_t link_addr(int j, int side) { return 0x0a000000u | (uint32_t)j << 8 | (uint32_t)(side + 1); }

static void on_tx(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct run *r = ctx;
    (void)ev;
    for (;;) { /* an endless source: the bench stops the clock, not the data */
        ssize_t w = tern_sock_send(sk, txbuf, sizeof txbuf, 0);
        if (w <= 0)
            break;
        r->sent += (uint64_t)w;
    }
}

static void on_rx(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct run *r = ctx;
    ssize_t n;
    (void)ev;
    while ((n = tern_sock_recv(sk, rxbuf, sizeof rxbuf, 0)) > 0)
        r->got += (uint64_t)n;
}

static int build(struct run *r, const struct opts *o)
{
    int nodes = o->routers + 2, links = o->routers + 1;
    r->loop = tern_loop_virtual_new(0);
    if (!r->loop)
        return -1;
    struct tern_impair imp = {.rate_bps = (uint64_t)(o->rate_mbps * 1e6),
                              .delay_us = (uint64_t)(o->delay_ms * 1000),
                              .queue_bytes = o->queue_kb * 1024, .queue_frames = 4096};
    for (int j = 0; j < links; j++) {
        struct tern_device *a, *b;
        if (tern_memlink_pair(r->loop, TERN_LINK_ETHERNET, 1500, 4096, &a, &b) < 0)
            return -1;
        imp.seed = o->seed * 100 + (uint64_t)j * 2;
        r->dev[j][1] = tern_impair_wrap(r->loop, a, &imp);
        imp.seed++;
        r->dev[j + 1][0] = tern_impair_wrap(r->loop, b, &imp);
        if (!r->dev[j][1] || !r->dev[j + 1][0])
            return -1;
    }
    for (int i = 0; i < nodes; i++) {
        struct tern_config cfg;
        tern_config_defaults(&cfg);
        cfg.seed = o->seed + (uint64_t)i;
        cfg.ip_forward = i > 0 && i < nodes - 1;
        r->st[i] = tern_stack_new(&cfg, r->loop);
        if (!r->st[i])
            return -1;
        int ifx[2] = {-1, -1};
        for (int side = 0; side < 2; side++) {
            int j = side ? i : i - 1; /* the link on this side */
            if (!r->dev[i][side])
                continue;
            struct tern_iface_config c = {.addr = link_addr(j, side ? 0 : 1), .prefix_len = 24,
                                          .up = true,
                                          .mac = {2, 0, 0, (uint8_t)j, 0, (uint8_t)(side ? 1 : 2)}};
            if ((ifx[side] = tern_stack_add_iface(r->st[i], r->dev[i][side], &c)) < 0)
                return -1;
        }
        /* Routes to every link that is not adjacent: toward A through the
         * left neighbour, toward B through the right one. */
        for (int j = 0; j < links; j++) {
            if (j == i - 1 || j == i)
                continue;
            int gw_link = j < i ? i - 1 : i;
            uint32_t gw = link_addr(gw_link, j < i ? 0 : 1);
            if (tern_route_add(r->st[i], link_addr(j, 0) & 0xffffff00u, 24, gw, ifx[j < i ? 0 : 1]) < 0)
                return -1;
        }
    }
    return 0;
}

static void teardown(struct run *r, int nodes)
{
    for (int i = 0; i < nodes; i++)
        tern_stack_free(r->st[i]);
    for (int i = 0; i < nodes; i++)
        for (int side = 0; side < 2; side++)
            tern_device_destroy(r->dev[i][side]);
    tern_loop_destroy(r->loop);
}

static int usage(const char *prog, int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: %s [--minutes N] [--routers N] [--rate-mbps N] [--delay-ms N] [--queue-kb N]"
            " [--seed N]\n  defaults: 30 virtual minutes, 3 routers, 10 Mb/s links, 2 ms per"
            " link each way, 64 KB queues, seed 1\n",
            prog);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = {.minutes = 30, .rate_mbps = 10, .delay_ms = 2, .routers = 3, .queue_kb = 64,
                     .seed = 1};
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return usage(argv[0], 0);
        if (i + 1 >= argc)
            return usage(argv[0], 2);
        char *end;
        double v = strtod(argv[i + 1], &end);
        if (*end || v < 0)
            return usage(argv[0], 2);
        if (!strcmp(argv[i], "--minutes") && v > 0)
            o.minutes = v;
        else if (!strcmp(argv[i], "--routers") && v <= MAX_ROUTERS)
            o.routers = (int)v;
        else if (!strcmp(argv[i], "--rate-mbps") && v > 0)
            o.rate_mbps = v;
        else if (!strcmp(argv[i], "--delay-ms"))
            o.delay_ms = v;
        else if (!strcmp(argv[i], "--queue-kb") && v >= 2)
            o.queue_kb = (size_t)v;
        else if (!strcmp(argv[i], "--seed"))
            o.seed = (uint64_t)v;
        else
            return usage(argv[0], 2);
    }
    struct run r;
    memset(&r, 0, sizeof r);
    int nodes = o.routers + 2, err;
    if (build(&r, &o) < 0) {
        fprintf(stderr, "sim_speed_bench: building the network failed\n");
        return 1;
    }
    struct tern_stack *A = r.st[0], *B = r.st[nodes - 1];
    struct tern_sockaddr la = {0, 5001}, peer = {link_addr(o.routers, 1), 5001};
    r.lsk = tern_sock_open(B, TERN_SOCK_STREAM, &err);
    r.tx = tern_sock_open(A, TERN_SOCK_STREAM, &err);
    if (!r.lsk || !r.tx || tern_sock_bind(r.lsk, &la) < 0 || tern_sock_listen(r.lsk, 4) < 0 ||
        tern_sock_connect(r.tx, &peer) != TERN_E_INPROGRESS) {
        fprintf(stderr, "sim_speed_bench: socket setup failed\n");
        return 1;
    }
    for (int i = 0; i < 500 && !r.rx; i++) {
        tern_loop_run(r.loop, tern_loop_now(r.loop) + 10000);
        r.rx = tern_sock_accept(r.lsk, NULL, &err);
    }
    if (!r.rx) {
        fprintf(stderr, "sim_speed_bench: no connection across %d routers (forwarding?)\n",
                o.routers);
        return 1;
    }
    tern_sock_set_handler(r.rx, TERN_POLLIN, on_rx, &r);
    tern_sock_set_handler(r.tx, TERN_POLLOUT, on_tx, &r);
    uint64_t t0 = tern_loop_now(r.loop), span = (uint64_t)(o.minutes * 60e6);
    double w0 = bench_wall(), c0 = bench_cpu();
    on_tx(r.tx, TERN_POLLOUT, &r);
    tern_loop_run(r.loop, t0 + span);
    double wall = bench_wall() - w0, cpu = bench_cpu() - c0;
    double vsec = (double)(tern_loop_now(r.loop) - t0) / 1e6;
    struct tern_sock_info info[4];
    size_t k = tern_sock_list(A, info, 4);
    printf("sim_speed: A -> %d routers -> B, links %.3g Mb/s, %.3g ms one way, queue %zu KB\n",
           o.routers, o.rate_mbps, o.delay_ms, o.queue_kb);
    printf("  virtual time   %10.1f s\n", vsec);
    printf("  wall time      %10.2f s   (cpu %.2f s)\n", wall, cpu);
    printf("  ratio          %10.1f x real time (virtual / wall)\n", wall > 0 ? vsec / wall : 0);
    printf("  bytes          %10llu delivered\n", (unsigned long long)r.got);
    printf("  goodput        %10.3f Mb/s (%.1f%% of the link rate)\n", (double)r.got * 8 / vsec / 1e6,
           (double)r.got * 8 / vsec / 1e6 / o.rate_mbps * 100);
    const struct tern_stats *st = tern_stack_stats(A);
    printf("  sender         %llu segments, %llu retransmitted, %llu timeouts",
           (unsigned long long)st->tcp.tx, (unsigned long long)st->tcp.retransmits,
           (unsigned long long)st->tcp.timeouts);
    if (k >= 1)
        printf(", srtt %.1f ms, cwnd %u", info[0].rtt_us / 1000.0, info[0].cwnd);
    printf("\n  queue drops   ");
    for (int i = 0; i < nodes; i++)
        for (int side = 0; side < 2; side++)
            if (r.dev[i][side]) {
                struct tern_impair_stats is;
                tern_impair_get_stats(r.dev[i][side], &is);
                printf(" %llu", (unsigned long long)is.queue_drops);
            }
    printf(" (per link end, A to B)\n");
    printf("  frame-hops/s   %10.0f (segments both ways x links, per wall second)\n",
           wall > 0 ? (double)(st->tcp.tx + tern_stack_stats(B)->tcp.tx) * (o.routers + 1) / wall : 0);
    tern_sock_abort(r.tx);
    tern_sock_abort(r.rx);
    tern_sock_close(r.lsk);
    teardown(&r, nodes);
    return 0;
}
