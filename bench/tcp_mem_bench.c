/*
 * bench/tcp_mem_bench.c - memory per idle TCP connection.
 *
 * 1. What tern allocates per connection, counted from the structures: the
 *    socket slot (struct tern_sock) and the TCB (struct tcp_cb; the
 *    out-of-order ranges, SACK scoreboard and RACK table are a cold block,
 *    struct tcp_cold, that an idle connection does not hold) come from
 *    pools that grow by chunks of 1024 as sockets open, up to
 *    cfg.max_sockets; the send and receive rings (up to cfg.tcp_sndbuf +
 *    cfg.tcp_rcvbuf) hold 16 KiB chunks of the stack's pool only while
 *    they hold data (src/core/ringbuf.c): none while idle; tern_stack_mem's
 *    tcp_ring_bytes counts them. Plus the port table's two hash tables (bind and 4-tuple) of
 *    4-byte chain heads, the next power of two >= 2 x max_sockets buckets
 *    each (src/core/ports.c): 16 to 32 bytes per socket slot.
 * 2. VmRSS / VmSize (/proc/self/status) with N idle connections (default
 *    100000) between two tern stacks on a memory link (virtual loop): the
 *    client stack connects N sockets to the server stack's listeners on
 *    ports 8000.. (one port per 12500 connections, since a 4-tuple needs a
 *    distinct ephemeral port per server port), the server accepts them all.
 *    Rings are malloc'd but an idle connection never writes into them, so
 *    most of their pages are never touched and never become resident.
 * 3. Linux, same run: the kernel's slab growth (/proc/meminfo "Slab",
 *    machine-wide, so other processes add noise) with M loopback connection
 *    pairs (default 8000, bounded by RLIMIT_NOFILE). Linux allocates socket
 *    buffers only when data is queued, so an idle socket costs slab only.
 * 4. TIME_WAIT: BENCH_TW connections (default 1000000) closed by the
 *    server first; the server's memory per connection in TIME_WAIT
 *    (bench_tern_timewait below). BENCH_IDLE=0 or BENCH_TW=0 skips a part.
 * 5. The SYN queue: the request record's size (counted).
 * Not a test: nothing is asserted.
 *
 *     make bench BENCH=tcp_mem      [BENCH_IDLE=N overrides 100000, at most 1000000]
 *     BENCH_RINGBUF=B: send and receive rings of at most B bytes (>= 1024)
 *     for part 2 (idle rings hold no chunk whatever their size).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "core/tcp_impl.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define PER_PORT 12500u
#define BATCH 200u

static double mib(size_t b) { return (double)b / (1024.0 * 1024.0); }

static int bench_tern_idle(unsigned n)
{
    struct tern_device *da, *db;
    struct tern_config cfg;
    int err;
    unsigned nports = (n + PER_PORT - 1) / PER_PORT;
    size_t rss0 = bench_status_bytes("VmRSS"), vsz0 = bench_status_bytes("VmSize");
    struct tern_loop *loop = tern_loop_virtual_new(0);
    if (!loop || tern_memlink_pair(loop, TERN_LINK_ETHERNET, 1500, 1024, &da, &db) < 0)
        return -1;
    tern_config_defaults(&cfg);
    cfg.max_sockets = n + nports + 16;
    cfg.tcp_syn_backlog = 1024;
    const char *rb = getenv("BENCH_RINGBUF"); /* ring limit */
    if (rb && atoi(rb) >= 1024)
        cfg.tcp_sndbuf = cfg.tcp_rcvbuf = (uint32_t)atoi(rb);
    cfg.seed = 1;
    struct tern_stack *sa = tern_stack_new(&cfg, loop);
    cfg.seed = 2;
    struct tern_stack *sb = tern_stack_new(&cfg, loop);
    struct tern_iface_config ca = {.addr = 0x0a000001, .prefix_len = 24, .up = true};
    struct tern_iface_config cb = {.addr = 0x0a000002, .prefix_len = 24, .up = true};
    if (!sa || !sb || tern_stack_add_iface(sa, da, &ca) < 0 || tern_stack_add_iface(sb, db, &cb) < 0)
        return -1;
    struct tern_sock **ls = calloc(nports, sizeof *ls);
    struct tern_sock **cl = calloc(n, sizeof *cl), **sv = calloc(n, sizeof *sv);
    if (!ls || !cl || !sv)
        return -1;
    for (unsigned p = 0; p < nports; p++) {
        struct tern_sockaddr la = {0, (uint16_t)(8000 + p)};
        ls[p] = tern_sock_open(sb, TERN_SOCK_STREAM, &err);
        if (!ls[p] || tern_sock_bind(ls[p], &la) < 0 || tern_sock_listen(ls[p], 1024) < 0)
            return -1;
    }
    tern_loop_run(loop, tern_loop_now(loop) + 1000);
    size_t rss1 = bench_status_bytes("VmRSS"), vsz1 = bench_status_bytes("VmSize");
    unsigned opened = 0, accepted = 0;
    double t0 = bench_wall();
    while (accepted < n) {
        for (unsigned k = 0; k < BATCH && opened < n; k++, opened++) {
            struct tern_sockaddr peer = {0x0a000002, (uint16_t)(8000 + opened / PER_PORT)};
            cl[opened] = tern_sock_open(sa, TERN_SOCK_STREAM, &err);
            if (!cl[opened] || tern_sock_connect(cl[opened], &peer) != TERN_E_INPROGRESS) {
                printf("%-40s n/a: connect %u failed (%s)\n", "tern", opened, tern_strerror(err));
                return 0;
            }
        }
        unsigned before = accepted;
        for (int spin = 0; spin < 400 && accepted < opened; spin++) {
            tern_loop_run(loop, tern_loop_now(loop) + 1000);
            for (unsigned p = 0; p < nports; p++) {
                struct tern_sock *c;
                while (accepted < n && (c = tern_sock_accept(ls[p], NULL, &err)))
                    sv[accepted++] = c;
            }
        }
        if (accepted == before) {
            printf("%-40s n/a: stuck at %u accepted of %u\n", "tern", accepted, opened);
            return 0;
        }
    }
    double setup = bench_wall() - t0;
    tern_loop_run(loop, tern_loop_now(loop) + 100000); /* let the last ACKs land */
    size_t rss2 = bench_status_bytes("VmRSS"), vsz2 = bench_status_bytes("VmSize");
    size_t est = 0;
    for (unsigned i = 0; i < n; i++)
        est += tern_sock_poll(cl[i]) & TERN_POLLOUT ? 1 : 0;
    size_t nb = 1;
    while (nb < 2 * (size_t)cfg.max_sockets)
        nb <<= 1;
    size_t heads = (2 * nb * sizeof(uint32_t) + cfg.max_sockets - 1) / cfg.max_sockets;
    size_t ctl = sizeof(struct tcp_cb) + sizeof(struct tern_sock) + heads;
    printf("tern, counted per connection endpoint (one socket):\n");
    printf("  struct tcp_cb %zu + struct tern_sock %zu + hash heads %zu = %zu bytes of control "
           "state\n", sizeof(struct tcp_cb), sizeof(struct tern_sock), heads, ctl);
    printf("  cold blocks (struct tcp_cold %zu bytes, only while loss, SACK or a hole needs "
           "one) held by the idle endpoints: %zu\n", sizeof(struct tcp_cold),
           tcp_cold_count(sa) + tcp_cold_count(sb));
    struct tern_stack_mem ma, mb;
    stack_mem_usage(sa, &ma);
    stack_mem_usage(sb, &mb);
    printf("  + rings of up to %u + %u bytes, holding ring chunks only while they hold data: "
           "%zu bytes held by both stacks now\n", cfg.tcp_sndbuf, cfg.tcp_rcvbuf,
           ma.tcp_ring_bytes + mb.tcp_ring_bytes);
    printf("tern, measured: %u idle connections (%u sockets: both ends, %u established) "
           "set up in %.1f s\n", n, 2 * n, (unsigned)est, setup);
    printf("  %-38s %10s %10s\n", "", "VmRSS MiB", "VmSize MiB");
    printf("  %-38s %10.1f %10.1f\n", "before the stacks", mib(rss0), mib(vsz0));
    printf("  %-38s %10.1f %10.1f\n", "two stacks, max_sockets each", mib(rss1), mib(vsz1));
    printf("  %-38s %10.1f %10.1f\n", "with the connections", mib(rss2), mib(vsz2));
    printf("  resident per connection endpoint: %.0f bytes (whole run: %.0f); virtual: %.0f bytes\n",
           (double)(rss2 - rss1) / (2.0 * n), (double)(rss2 - rss0) / (2.0 * n),
           (double)(vsz2 - vsz1) / (2.0 * n));
    for (unsigned i = 0; i < n; i++) {
        tern_sock_abort(cl[i]);
        tern_sock_abort(sv[i]);
    }
    for (unsigned p = 0; p < nports; p++)
        tern_sock_close(ls[p]);
    free(ls);
    free(cl);
    free(sv);
    tern_stack_free(sa);
    tern_stack_free(sb);
    tern_device_destroy(da);
    tern_device_destroy(db);
    tern_loop_destroy(loop);
    return 0;
}

/* 4. TIME_WAIT: n connections, each closed by the server first (as
 * HTTP/1.0 does), so the server holds n connections in TIME_WAIT; the
 * clients bind distinct 4-tuples (no RFC 6191 reopening) and end in
 * LAST_ACK -> CLOSED. MSL is set to an hour so none expires during the
 * run. With TIME_WAIT records (tcp_tw.c) the server's sockets are freed
 * and max_sockets stays small; before them, each TIME_WAIT held its
 * socket, TCB and rings, so max_sockets and the cap had to cover n. */
#define TW_BATCH 500u
#define TW_PER_PORT 50000u
static int bench_tern_timewait(unsigned n)
{
    struct tern_device *da, *db;
    struct tern_config cfg;
    int err;
    unsigned nports = (n + TW_PER_PORT - 1) / TW_PER_PORT;
    size_t rss0 = bench_status_bytes("VmRSS"), vsz0 = bench_status_bytes("VmSize");
    struct tern_loop *loop = tern_loop_virtual_new(0);
    if (!loop || tern_memlink_pair(loop, TERN_LINK_ETHERNET, 1500, 1024, &da, &db) < 0)
        return -1;
    tern_config_defaults(&cfg);
    cfg.tcp_msl_us = 3600ull * 1000000;
#ifdef TCP_TW_SLAB
    cfg.max_sockets = 4 * TW_BATCH + nports + 16;
    cfg.tcp_tw_mem = (uint64_t)n * (sizeof(struct tcp_tw) + 8) + 4096;
#else
    cfg.max_sockets = n + 4 * TW_BATCH + nports + 16;
    cfg.tcp_tw_max = n;
#endif
    cfg.tcp_syn_backlog = 1024;
    cfg.seed = 1;
    struct tern_stack *sa = tern_stack_new(&cfg, loop);
    cfg.seed = 2;
    struct tern_stack *sb = tern_stack_new(&cfg, loop);
    struct tern_iface_config ca = {.addr = 0x0a000001, .prefix_len = 24, .up = true};
    struct tern_iface_config cb = {.addr = 0x0a000002, .prefix_len = 24, .up = true};
    if (!sa || !sb || tern_stack_add_iface(sa, da, &ca) < 0 || tern_stack_add_iface(sb, db, &cb) < 0)
        return -1;
    struct tern_sock **ls = calloc(nports, sizeof *ls);
    struct tern_sock **cl = calloc(TW_BATCH, sizeof *cl), **sv = calloc(TW_BATCH, sizeof *sv);
    if (!ls || !cl || !sv)
        return -1;
    for (unsigned p = 0; p < nports; p++) {
        struct tern_sockaddr la = {0, (uint16_t)(8000 + p)};
        ls[p] = tern_sock_open(sb, TERN_SOCK_STREAM, &err);
        if (!ls[p] || tern_sock_bind(ls[p], &la) < 0 || tern_sock_listen(ls[p], 1024) < 0)
            return -1;
    }
    tern_loop_run(loop, tern_loop_now(loop) + 1000);
    size_t rss1 = bench_status_bytes("VmRSS"), vsz1 = bench_status_bytes("VmSize");
    double t0 = bench_wall(), c0 = bench_cpu();
    for (unsigned done = 0; done < n;) {
        unsigned b = n - done < TW_BATCH ? n - done : TW_BATCH, acc = 0;
        for (unsigned k = 0; k < b; k++) {
            unsigned i = done + k;
            struct tern_sockaddr la = {0, (uint16_t)(10000 + i % TW_PER_PORT)};
            struct tern_sockaddr peer = {0x0a000002, (uint16_t)(8000 + i / TW_PER_PORT)};
            cl[k] = tern_sock_open(sa, TERN_SOCK_STREAM, &err);
            if (!cl[k] || tern_sock_bind(cl[k], &la) < 0 ||
                tern_sock_connect(cl[k], &peer) != TERN_E_INPROGRESS) {
                printf("%-40s n/a: connect %u failed\n", "tern TIME_WAIT", i);
                return 0;
            }
        }
        for (int spin = 0; spin < 2500 && acc < b; spin++) { /* SYNs lost behind ARP: 1 s RTO */
            tern_loop_run(loop, tern_loop_now(loop) + 1000);
            for (unsigned p = 0; p < nports; p++) {
                struct tern_sock *c;
                while (acc < b && (c = tern_sock_accept(ls[p], NULL, &err)))
                    sv[acc++] = c;
            }
        }
        if (acc < b) {
            printf("%-40s n/a: stuck at %u accepted\n", "tern TIME_WAIT", done + acc);
            return 0;
        }
        for (unsigned k = 0; k < b; k++)
            tern_sock_close(sv[k]); /* the server closes first: TIME_WAIT there */
        tern_loop_run(loop, tern_loop_now(loop) + 1000);
        for (unsigned k = 0; k < b; k++)
            tern_sock_close(cl[k]);
        tern_loop_run(loop, tern_loop_now(loop) + 2000);
        done += b;
    }
    double setup = bench_wall() - t0, cpu = bench_cpu() - c0;
    size_t rss2 = bench_status_bytes("VmRSS"), vsz2 = bench_status_bytes("VmSize");
    size_t tw = tcp_tw_count(sb);
    printf("tern, TIME_WAIT: %u connections closed by the server first, %zu in TIME_WAIT on the "
           "server (%zu sockets left), %.1f s (%.1f s CPU)\n", n, tw,
           (size_t)tern_sock_list(sb, NULL, 0) - tw, setup, cpu);
#ifdef TCP_TW_SLAB
    printf("  counted: struct tcp_tw %zu bytes; records + hash %zu bytes (%.1f per connection), "
           "slabs + hash reserved %zu bytes (%.1f MiB)\n", sizeof(struct tcp_tw), tcp_tw_mem(sb),
           tw ? (double)tcp_tw_mem(sb) / (double)tw : 0.0, tcp_tw_reserved(sb),
           mib(tcp_tw_reserved(sb)));
#else
    printf("  counted: struct tcp_cb %zu + struct tern_sock %zu per connection (rings: chunks "
           "only while holding data)\n", sizeof(struct tcp_cb), sizeof(struct tern_sock));
#endif
    printf("  %-38s %10s %10s\n", "", "VmRSS MiB", "VmSize MiB");
    printf("  %-38s %10.1f %10.1f\n", "before the stacks", mib(rss0), mib(vsz0));
    printf("  %-38s %10.1f %10.1f\n", "two stacks, max_sockets each", mib(rss1), mib(vsz1));
    printf("  %-38s %10.1f %10.1f\n", "with the TIME_WAIT connections", mib(rss2), mib(vsz2));
    printf("  resident per TIME_WAIT connection: %.0f bytes (whole run: %.0f); virtual: %.0f "
           "bytes\n", tw ? (double)(rss2 - rss1) / (double)tw : 0.0,
           tw ? (double)(rss2 - rss0) / (double)tw : 0.0,
           tw ? (double)(vsz2 - vsz1) / (double)tw : 0.0);
    for (unsigned p = 0; p < nports; p++)
        tern_sock_close(ls[p]);
    free(ls);
    free(cl);
    free(sv);
    tern_stack_free(sa);
    tern_stack_free(sb);
    tern_device_destroy(da);
    tern_device_destroy(db);
    tern_loop_destroy(loop);
    return 0;
}

static long meminfo_kb(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':')
            v = atol(line + kl + 1);
    fclose(f);
    return v;
}

static int linux_idle(unsigned m)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (2 * (rlim_t)m + 64 > rl.rlim_cur)
        m = (unsigned)((rl.rlim_cur - 64) / 2);
    int *fds = calloc(2 * (size_t)m, sizeof *fds);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (!fds || ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0)
        return -1;
    long s0 = meminfo_kb("Slab");
    unsigned k = 0;
    for (; k < m; k++) {
        fds[2 * k] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[2 * k] < 0 || connect(fds[2 * k], (struct sockaddr *)&a, sizeof a) < 0)
            break;
        fds[2 * k + 1] = accept(ls, NULL, NULL);
        if (fds[2 * k + 1] < 0) {
            close(fds[2 * k]);
            break;
        }
    }
    usleep(200000);
    long s1 = meminfo_kb("Slab");
    printf("Linux, measured: %u idle loopback connections (%u sockets): kernel Slab +%.1f MiB "
           "= %.0f bytes per socket (machine-wide counter)\n", k, 2 * k, (double)(s1 - s0) / 1024,
           k ? (double)(s1 - s0) * 1024 / (2.0 * k) : 0.0);
    for (unsigned i = 0; i < 2 * k; i++)
        close(fds[i]);
    close(ls);
    free(fds);
    return 0;
}

int main(void)
{
    unsigned n = 100000, m = 8000;
    const char *e = getenv("BENCH_IDLE");
    if (e && atoi(e) >= 0)
        n = (unsigned)atoi(e);
    if (n > 8 * PER_PORT * 10) /* 1M: max_sockets stays below 2^20 */
        n = 8 * PER_PORT * 10;
    unsigned ntw = 1000000;
    e = getenv("BENCH_TW");
    if (e && atoi(e) >= 0)
        ntw = (unsigned)atoi(e);
    if (ntw > 60000 * 20)
        ntw = 60000 * 20;
#ifdef TCP_TW_SLAB
    /* 5. The SYN queue, counted: a half-open connection is a request
     * record until its handshake completes (tests/core/tcp_synflood_test.c
     * measures a flood: 128 records, no socket). */
    printf("tern, SYN queue: struct tcp_req %zu bytes per half-open connection (no socket, TCB "
           "or ring until the handshake completes; a full queue of cfg.tcp_syn_backlog 128: "
           "%zu bytes)\n", sizeof(struct tcp_req), 128 * sizeof(struct tcp_req));
#endif
    if (n && bench_tern_idle(n) < 0)
        printf("tern: n/a: setup failed\n");
    if (ntw && bench_tern_timewait(ntw) < 0)
        printf("tern TIME_WAIT: n/a: setup failed\n");
    if (linux_idle(m) < 0)
        printf("Linux: n/a: %s\n", strerror(errno));
    return 0;
}
