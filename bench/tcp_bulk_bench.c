/*
 * bench/tcp_bulk_bench.c - in-process TCP bulk throughput: 1 GiB one way
 * between two tern stacks joined by an in-memory Ethernet link on the
 * virtual loop, next to the Linux kernel over loopback (a sender and a
 * receiver thread on 127.0.0.1) measured in the same run. The virtual loop never sleeps, so the tern figure is the protocol's
 * CPU cost: both stacks, the copies and the checksums, on one thread.
 *
 * Both at MTU 1500 and 65535 (BENCH_MTUS), the Linux loopback's MTU set
 * to the same value inside a network namespace of the bench's own (needs
 * root; never the host's lo); each pair runs BENCH_RUNS times (default
 * 3), interleaved.
 * Prints, per side: Gb/s by wall time, Gb/s by process CPU time, and CPU
 * cycles per byte = process CPU seconds (CLOCK_PROCESS_CPUTIME_ID, every
 * thread, user + system) x the "cpu MHz" of /proc/cpuinfo / bytes moved;
 * for tern also cycles per segment (data segments and ACKs of both stacks).
 * Not a test: nothing is asserted about speed.
 *
 *     make bench BENCH=tcp_bulk        [BENCH_BYTES=N overrides 1 GiB]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

static uint64_t total_bytes = 1ull << 30;
static uint8_t txbuf[1 << 17], rxbuf[1 << 17];

static int nruns = 3;

static void report(const char *who, uint64_t bytes, double wall, double cpu, double mhz)
{
    double b = (double)bytes;
    printf("%-36s %8.2f %8.2f %10.2f %8.2f %8.2f\n", who, b * 8 / wall / 1e9, b * 8 / cpu / 1e9,
           mhz > 0 ? cpu * mhz * 1e6 / b : 0.0, wall, cpu);
    fflush(stdout);
}

/* ---- tern: two stacks, a memory link, the virtual loop ---- */

struct tern_run {
    struct tern_loop *loop;
    struct tern_sock *tx, *rx, *lsk;
    uint64_t sent, got;
    int err;
};

static void on_tx(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct tern_run *r = ctx;
    (void)ev;
    while (r->sent < total_bytes) {
        uint64_t left = total_bytes - r->sent;
        size_t n = left < sizeof txbuf ? (size_t)left : sizeof txbuf;
        ssize_t w = tern_sock_send(sk, txbuf, n, 0);
        if (w <= 0)
            break;
        r->sent += (uint64_t)w;
    }
    if (r->sent == total_bytes)
        tern_sock_set_handler(sk, 0, NULL, NULL);
}

static void on_rx(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct tern_run *r = ctx;
    ssize_t n;
    (void)ev;
    while ((n = tern_sock_recv(sk, rxbuf, sizeof rxbuf, 0)) > 0)
        r->got += (uint64_t)n;
    if (r->got >= total_bytes)
        tern_loop_stop(r->loop);
}

static int bench_tern_bulk(double mhz, uint16_t mtu)
{
    struct tern_run r = {0};
    struct tern_device *da, *db;
    struct tern_config cfg;
    int err;
    r.loop = tern_loop_virtual_new(0);
    if (!r.loop || tern_memlink_pair(r.loop, TERN_LINK_ETHERNET, mtu, 1024, &da, &db) < 0)
        return -1;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    struct tern_stack *sa = tern_stack_new(&cfg, r.loop);
    cfg.seed = 2;
    struct tern_stack *sb = tern_stack_new(&cfg, r.loop);
    struct tern_iface_config ca = {.addr = 0x0a000001, .prefix_len = 24, .up = true};
    struct tern_iface_config cb = {.addr = 0x0a000002, .prefix_len = 24, .up = true};
    if (!sa || !sb || tern_stack_add_iface(sa, da, &ca) < 0 || tern_stack_add_iface(sb, db, &cb) < 0)
        return -1;
    r.lsk = tern_sock_open(sb, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr la = {0, 5001}, peer = {0x0a000002, 5001};
    if (!r.lsk || tern_sock_bind(r.lsk, &la) < 0 || tern_sock_listen(r.lsk, 4) < 0)
        return -1;
    r.tx = tern_sock_open(sa, TERN_SOCK_STREAM, &err);
    if (!r.tx || tern_sock_connect(r.tx, &peer) != TERN_E_INPROGRESS)
        return -1;
    for (int i = 0; i < 100 && !r.rx; i++) {
        tern_loop_run(r.loop, tern_loop_now(r.loop) + 10000);
        r.rx = tern_sock_accept(r.lsk, NULL, &err);
    }
    if (!r.rx)
        return -1;
    /* BENCH_RECV_POST=0: the receiver reads from its ring only; else its
     * buffer is registered (tern_sock_recv_post) and in-order data lands
     * there while the ring is empty. */
    const char *rp = getenv("BENCH_RECV_POST");
    if (!(rp && atoi(rp) == 0) && tern_sock_recv_post(r.rx, rxbuf, sizeof rxbuf) < 0)
        return -1;
    tern_sock_set_handler(r.rx, TERN_POLLIN, on_rx, &r);
    tern_sock_set_handler(r.tx, TERN_POLLOUT, on_tx, &r);
    double w0 = bench_wall(), c0 = bench_cpu();
    on_tx(r.tx, TERN_POLLOUT, &r);
    tern_loop_run(r.loop, TERN_TIME_NEVER);
    double wall = bench_wall() - w0, cpu = bench_cpu() - c0;
    char who[64];
    snprintf(who, sizeof who, "tern -> tern (memlink, MTU %u)", (unsigned)mtu);
    if (r.got != total_bytes) {
        printf("%-36s n/a: received %llu of %llu bytes\n", who, (unsigned long long)r.got,
               (unsigned long long)total_bytes);
        return -1;
    }
    report(who, r.got, wall, cpu, mhz);
    const struct tern_stats *st = tern_stack_stats(sa);
    const struct tern_stats *sr = tern_stack_stats(sb);
    uint64_t segs = st->tcp.tx + sr->tcp.tx;
    printf("    (tern sender: %llu segments out, %llu retransmitted; receiver: %llu ACKs;"
           " %.0f cycles per segment, both stacks)\n",
           (unsigned long long)st->tcp.tx, (unsigned long long)st->tcp.retransmits,
           (unsigned long long)sr->tcp.tx, segs && mhz > 0 ? cpu * mhz * 1e6 / (double)segs : 0.0);
    tern_sock_abort(r.tx);
    tern_sock_abort(r.rx);
    tern_sock_close(r.lsk);
    tern_stack_free(sa);
    tern_stack_free(sb);
    tern_device_destroy(da);
    tern_device_destroy(db);
    tern_loop_destroy(r.loop);
    return 0;
}

/* ---- Linux: sender and receiver threads over 127.0.0.1 ---- */

static void *linux_rx(void *arg)
{
    int fd = *(int *)arg;
    uint64_t got = 0;
    ssize_t n;
    while ((n = read(fd, rxbuf, sizeof rxbuf)) > 0)
        got += (uint64_t)n;
    *(uint64_t *)arg = got; /* the fd is no longer needed: reuse the slot */
    return NULL;
}

static int linux_bulk(double mhz, const char *who)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0)
        return -1;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0)
        return -1;
    union { int fd; uint64_t got; } slot = {.fd = accept(ls, NULL, NULL)};
    close(ls);
    if (slot.fd < 0)
        return -1;
    pthread_t th;
    double w0 = bench_wall(), c0 = bench_cpu();
    if (pthread_create(&th, NULL, linux_rx, &slot) != 0)
        return -1;
    uint64_t sent = 0;
    while (sent < total_bytes) {
        uint64_t left = total_bytes - sent;
        ssize_t w = write(c, txbuf, left < sizeof txbuf ? (size_t)left : sizeof txbuf);
        if (w <= 0)
            return -1;
        sent += (uint64_t)w;
    }
    close(c);
    pthread_join(th, NULL);
    double wall = bench_wall() - w0, cpu = bench_cpu() - c0;
    report(who, slot.got, wall, cpu, mhz);
    return 0;
}

/* Linux over a loopback with tern's MTU: a child process in a network
 * namespace of its own (needs root), where lo is brought up with the MTU
 * asked for (never the host's lo); the namespace disappears with the child. */
static void linux_bulk_mtu(double mhz, int mtu)
{
    char who[64];
    snprintf(who, sizeof who, "Linux -> Linux (lo MTU %d, 2 thr)", mtu);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct ifreq ifr = {0};
        int fd;
        if (unshare(CLONE_NEWNET) < 0 || (fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
            printf("%-36s n/a: needs root (unshare: %s)\n", who, strerror(errno));
            _exit(0);
        }
        strcpy(ifr.ifr_name, "lo");
        ifr.ifr_mtu = mtu;
        if (ioctl(fd, SIOCSIFMTU, &ifr) < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
            printf("%-36s n/a: %s\n", who, strerror(errno));
            _exit(0);
        }
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 || linux_bulk(mhz, who) < 0)
            printf("%-36s n/a: %s\n", who, strerror(errno));
        fflush(stdout);
        _exit(0);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

int main(void)
{
    const char *e = getenv("BENCH_BYTES");
    if (e && strtoull(e, NULL, 10) > 0)
        total_bytes = strtoull(e, NULL, 10);
    for (size_t i = 0; i < sizeof txbuf; i++)
        txbuf[i] = (uint8_t)(i * 7 + 1);
    double mhz = bench_cpu_mhz();
    printf("TCP bulk, %llu bytes one way, in-process; cycles = CPU time x %.0f MHz\n",
           (unsigned long long)total_bytes, mhz);
    printf("%-36s %8s %8s %10s %8s %8s\n", "", "Gb/s", "Gb/s", "cycles", "wall", "CPU");
    printf("%-36s %8s %8s %10s %8s %8s\n", "", "(wall)", "(CPU)", "per byte", "s", "s");
    /* BENCH_MTUS: the MTUs compared (default "1500 65535"); each pair of
     * tern and Linux runs BENCH_RUNS times (default 3), interleaved so a
     * change in the machine's load hits both. */
    const char *m = getenv("BENCH_MTUS");
    const char *rs = getenv("BENCH_RUNS");
    if (rs && atoi(rs) > 0)
        nruns = atoi(rs);
    char mtus[128];
    snprintf(mtus, sizeof mtus, "%s", m && *m ? m : "1500 65535");
    for (char *tok = strtok(mtus, " ,"); tok; tok = strtok(NULL, " ,")) {
        int mtu = atoi(tok);
        if (mtu < 576 || mtu > 65535)
            continue;
        for (int run = 0; run < nruns; run++) {
            if (bench_tern_bulk(mhz, (uint16_t)mtu) < 0)
                printf("%-36s n/a: setup failed (MTU %d)\n", "tern -> tern", mtu);
            linux_bulk_mtu(mhz, mtu);
        }
    }
    return 0;
}
