/*
 * bench/tap_tern.c - tern's side of the TAP benchmark: one tern stack on a
 * Linux TAP device (real epoll loop), sending or receiving one bulk TCP
 * connection, timed like bench/tcpblast.c. Not a benchmark by itself;
 * bench/tap_bench.sh runs it inside a namespace it created.
 *
 *   tap_tern [--no-offload] IFNAME ADDR/PREFIX recv PORT BYTES
 *   tap_tern [--no-offload] IFNAME ADDR/PREFIX send HOST PORT BYTES
 *
 * The TAP is opened with offloads (TERN_TUNTAP_OFFLOAD: TCP super-segments
 * both ways, docs/devices.md) unless --no-offload.
 * IFNAME "packet:IF" runs on interface IF (a veth end) through AF_PACKET
 * (tern_packet_open) instead; --no-offload does not apply to it.
 *
 * Prints "RESULT bytes=N sec=S gbps=G cpu=C" (C: this process's CPU
 * seconds over the same interval, system calls included); gives up after
 * 60 s. Exit 0, 1 on a
 * failure, 2 on usage errors.
 */
#include <stdbool.h>
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
#include "tern/wire/ipv4.h"

static uint8_t buf[1 << 17];

struct run {
    struct tern_loop *loop;
    struct tern_sock *lsk, *c;
    uint64_t want, done;
    double t0, t1, c0, c1;
    int failed, shut;
};

static void finish(struct run *r, int failed)
{
    r->failed = failed;
    r->t1 = bench_wall();
    r->c1 = bench_cpu();
    tern_loop_stop(r->loop);
}

static void on_recv(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct run *r = ctx;
    ssize_t n;
    (void)ev;
    while ((n = tern_sock_recv(sk, buf, sizeof buf, 0)) > 0)
        r->done += (uint64_t)n;
    if (r->done >= r->want || n == 0 || (n < 0 && n != TERN_E_AGAIN))
        finish(r, r->done < r->want);
}

static void on_accept(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct run *r = ctx;
    int err;
    (void)ev;
    if (r->c)
        return;
    r->c = tern_sock_accept(sk, NULL, &err);
    if (r->c) {
        r->t0 = bench_wall();
        r->c0 = bench_cpu();
        tern_sock_set_handler(r->c, TERN_POLLIN, on_recv, r);
        on_recv(r->c, TERN_POLLIN, r);
    }
}

static void on_send(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct run *r = ctx;
    if (ev & TERN_POLLERR) {
        finish(r, 1);
        return;
    }
    if (r->t0 == 0) {
        r->t0 = bench_wall();
        r->c0 = bench_cpu();
    }
    while (r->done < r->want) {
        uint64_t left = r->want - r->done;
        ssize_t w = tern_sock_send(sk, buf, left < sizeof buf ? (size_t)left : sizeof buf, 0);
        if (w <= 0)
            break;
        r->done += (uint64_t)w;
    }
    if (r->done < r->want)
        return;
    /* All queued: half-close and wait for the receiver's close (EOF). */
    if (!r->shut) {
        r->shut = 1;
        tern_sock_shutdown(sk, TERN_SHUT_WR);
        tern_sock_set_handler(sk, TERN_POLLIN, on_send, r);
        return;
    }
    ssize_t n;
    while ((n = tern_sock_recv(sk, buf, sizeof buf, 0)) > 0)
        ;
    if (n == 0 || n != TERN_E_AGAIN)
        finish(r, n != 0);
}

static void on_timeout(struct tern_timer *t, void *arg)
{
    (void)t;
    fprintf(stderr, "tap_tern: timed out\n");
    finish(arg, 1);
}

static int usage(void)
{
    fprintf(stderr, "usage: tap_tern [--no-offload] IFNAME ADDR/PREFIX recv PORT BYTES\n"
                    "       tap_tern [--no-offload] IFNAME ADDR/PREFIX send HOST PORT BYTES\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct run r = {0};
    uint32_t addr, host = 0;
    int err;
    bool offload = true;
    if (argc > 1 && strcmp(argv[1], "--no-offload") == 0) {
        offload = false;
        argc--;
        argv++;
    }
    if (argc < 6)
        return usage();
    char *slash = strchr(argv[2], '/');
    if (!slash)
        return usage();
    *slash = 0;
    int recv_mode = strcmp(argv[3], "recv") == 0;
    if (tern_ipv4_aton(argv[2], &addr) < 0 || (!recv_mode && strcmp(argv[3], "send") != 0) ||
        (recv_mode && argc != 6) || (!recv_mode && (argc != 7 || tern_ipv4_aton(argv[4], &host) < 0)))
        return usage();
    uint16_t port = (uint16_t)atoi(argv[recv_mode ? 4 : 5]);
    r.want = strtoull(argv[recv_mode ? 5 : 6], NULL, 10);

    r.loop = tern_loop_real_new(NULL, NULL);
    /* "packet:IF": an AF_PACKET device on interface IF instead of a TAP */
    int pk = strncmp(argv[1], "packet:", 7) == 0;
    struct tern_device *dev =
        !r.loop ? NULL
        : pk    ? tern_packet_open(r.loop, argv[1] + 7, 0)
                : tern_tuntap_open(r.loop, argv[1], TERN_LINK_ETHERNET, offload ? TERN_TUNTAP_OFFLOAD : 0);
    if (!dev) {
        perror(pk ? "tap_tern: packet" : "tap_tern: tap");
        return 1;
    }
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = (uint64_t)bench_wall() * 1000003u;
    struct tern_stack *s = tern_stack_new(&cfg, r.loop);
    struct tern_iface_config ic = {.addr = addr, .prefix_len = (uint8_t)atoi(slash + 1), .up = true};
    if (!s || tern_stack_add_iface(s, dev, &ic) < 0) {
        fprintf(stderr, "tap_tern: stack setup failed\n");
        return 1;
    }
    struct tern_timer guard;
    tern_timer_init(&guard, on_timeout, &r);
    tern_timer_arm(r.loop, &guard, tern_loop_now(r.loop) + 60000000);
    if (recv_mode) {
        struct tern_sockaddr la = {0, port};
        r.lsk = tern_sock_open(s, TERN_SOCK_STREAM, &err);
        if (!r.lsk || tern_sock_bind(r.lsk, &la) < 0 || tern_sock_listen(r.lsk, 1) < 0)
            return 1;
        tern_sock_set_handler(r.lsk, TERN_POLLIN, on_accept, &r);
    } else {
        struct tern_sockaddr pa = {host, port};
        r.c = tern_sock_open(s, TERN_SOCK_STREAM, &err);
        if (!r.c || tern_sock_connect(r.c, &pa) != TERN_E_INPROGRESS)
            return 1;
        tern_sock_set_handler(r.c, TERN_POLLOUT, on_send, &r);
    }
    tern_loop_run(r.loop, TERN_TIME_NEVER);
    tern_timer_cancel(r.loop, &guard);
    if (!r.failed)
        printf("RESULT bytes=%llu sec=%.4f gbps=%.3f cpu=%.4f\n", (unsigned long long)r.done,
               r.t1 - r.t0, (double)r.done * 8 / (r.t1 - r.t0) / 1e9, r.c1 - r.c0);
    else
        fprintf(stderr, "tap_tern: failed after %llu bytes\n", (unsigned long long)r.done);
    if (r.c)
        tern_sock_abort(r.c);
    if (r.lsk)
        tern_sock_close(r.lsk);
    tern_stack_free(s);
    tern_device_destroy(dev);
    tern_loop_destroy(r.loop);
    return r.failed;
}
