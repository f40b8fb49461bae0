/*
 * bench/tcp_connrate_bench.c - TCP connection rate: connect, a 64-byte
 * request, a 64-byte response, close (the server closes after responding,
 * as HTTP/1.0 does, so TIME_WAIT stays on the server and the client's
 * ephemeral ports are not exhausted), one connection after another.
 *
 * tern: a client stack and a server stack on an in-memory Ethernet link on
 * the virtual loop. Virtual, because the memory link hands frames over on
 * the next turn of the loop: on the real loop each turn would be an
 * epoll_wait system call, and we would be timing epoll, not TCP. Virtual
 * time still runs every protocol timer (delayed ACK, TIME_WAIT) in order;
 * it just costs no wall time to wait for them.
 * Linux: a server thread (accept, read 64, write 64, close) and a client
 * thread (connect, write 64, read 64 + EOF, close) on 127.0.0.1, measured in
 * the same run. Both report connections per second of wall time and of
 * process CPU time. Not a test: nothing is asserted.
 *
 *     make bench BENCH=tcp_connrate     [BENCH_CONNS=N overrides 20000]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define MSG 64
static unsigned nconns = 20000;

static void report(const char *who, unsigned n, double wall, double cpu)
{
    printf("%-36s %10.0f %10.0f %8.1f %8.2f %8.2f\n", who, n / wall, n / cpu, cpu / n * 1e6, wall,
           cpu);
}

/* ---- tern ---- */

struct cr {
    struct tern_loop *loop;
    struct tern_stack *sa, *sb;
    struct tern_sock *lsk, *c;
    unsigned done, started;
    size_t c_got;
    int failed;
    /* connections during which either stack's retransmission timer fired
     * (each waits at least the 1 s initial RTO, RFC 6298 s2.1) */
    unsigned rto_waits;
    uint64_t timeouts_at_start;
    uint64_t slowest_us, conn_start;
};

static uint64_t cr_timeouts(const struct cr *r)
{
    return tern_stack_stats(r->sa)->tcp.timeouts + tern_stack_stats(r->sb)->tcp.timeouts;
}

struct srv_conn {
    struct cr *r;
    size_t got;
};
static struct srv_conn srv_slot; /* one server connection at a time */

static void client_start(struct cr *r);

static void on_client(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct cr *r = ctx;
    uint8_t buf[256];
    ssize_t n;
    if (ev & TERN_POLLERR) {
        r->failed = 1;
        tern_loop_stop(r->loop);
        return;
    }
    if ((ev & TERN_POLLOUT) && r->c_got == 0 && !(tern_sock_poll(sk) & TERN_POLLIN)) {
        /* connected: send the request once */
        if (tern_sock_send(sk, buf, MSG, 0) == MSG)
            tern_sock_set_handler(sk, TERN_POLLIN, on_client, r);
        return;
    }
    while ((n = tern_sock_recv(sk, buf, sizeof buf, 0)) > 0)
        r->c_got += (size_t)n;
    if (n == 0 && r->c_got == MSG) { /* response + EOF */
        tern_sock_close(sk);
        r->done++;
        if (cr_timeouts(r) != r->timeouts_at_start)
            r->rto_waits++;
        uint64_t took = tern_loop_now(r->loop) - r->conn_start;
        if (took > r->slowest_us)
            r->slowest_us = took;
        if (r->done == nconns)
            tern_loop_stop(r->loop);
        else
            client_start(r);
    }
}

static void client_start(struct cr *r)
{
    int err;
    struct tern_sockaddr peer = {0x0a000002, 8080};
    r->c_got = 0;
    r->timeouts_at_start = cr_timeouts(r);
    r->conn_start = tern_loop_now(r->loop);
    r->c = tern_sock_open(r->sa, TERN_SOCK_STREAM, &err);
    if (!r->c || tern_sock_connect(r->c, &peer) != TERN_E_INPROGRESS) {
        r->failed = 1;
        tern_loop_stop(r->loop);
        return;
    }
    tern_sock_set_handler(r->c, TERN_POLLOUT, on_client, r);
}

static void on_server_conn(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct srv_conn *sc = ctx;
    uint8_t buf[256];
    ssize_t n;
    (void)ev;
    while ((n = tern_sock_recv(sk, buf, sizeof buf, 0)) > 0)
        sc->got += (size_t)n;
    if (sc->got >= MSG) {
        tern_sock_send(sk, buf, MSG, 0);
        tern_sock_set_handler(sk, 0, NULL, NULL);
        tern_sock_close(sk);
    }
}

static void on_listen(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct cr *r = ctx;
    struct tern_sock *c;
    int err;
    (void)ev;
    while ((c = tern_sock_accept(sk, NULL, &err))) {
        srv_slot.r = r;
        srv_slot.got = 0;
        tern_sock_set_handler(c, TERN_POLLIN, on_server_conn, &srv_slot);
        on_server_conn(c, TERN_POLLIN, &srv_slot);
    }
}

static int bench_tern_rate(void)
{
    struct cr r = {0};
    struct tern_device *da, *db;
    struct tern_config cfg;
    int err;
    r.loop = tern_loop_virtual_new(0);
    if (!r.loop || tern_memlink_pair(r.loop, TERN_LINK_ETHERNET, 1500, 256, &da, &db) < 0)
        return -1;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    r.sa = tern_stack_new(&cfg, r.loop);
    cfg.seed = 2;
    r.sb = tern_stack_new(&cfg, r.loop);
    struct tern_iface_config ca = {.addr = 0x0a000001, .prefix_len = 24, .up = true};
    struct tern_iface_config cb = {.addr = 0x0a000002, .prefix_len = 24, .up = true};
    if (!r.sa || !r.sb || tern_stack_add_iface(r.sa, da, &ca) < 0 ||
        tern_stack_add_iface(r.sb, db, &cb) < 0)
        return -1;
    r.lsk = tern_sock_open(r.sb, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr la = {0, 8080};
    if (!r.lsk || tern_sock_bind(r.lsk, &la) < 0 || tern_sock_listen(r.lsk, 128) < 0)
        return -1;
    tern_sock_set_handler(r.lsk, TERN_POLLIN, on_listen, &r);
    uint64_t tx0 = tern_stack_stats(r.sa)->tcp.tx + tern_stack_stats(r.sb)->tcp.tx;
    double w0 = bench_wall(), c0 = bench_cpu();
    uint64_t v0 = tern_loop_now(r.loop);
    client_start(&r);
    tern_loop_run(r.loop, TERN_TIME_NEVER);
    double wall = bench_wall() - w0, cpu = bench_cpu() - c0;
    uint64_t vt = tern_loop_now(r.loop) - v0;
    if (r.failed || r.done != nconns) {
        printf("%-36s n/a: failed after %u connections\n", "tern -> tern", r.done);
        return 0;
    }
    report("tern -> tern (memlink, virtual loop)", r.done, wall, cpu);
    /* TCP segments both stacks sent (client + server), per connection */
    uint64_t tx = tern_stack_stats(r.sa)->tcp.tx + tern_stack_stats(r.sb)->tcp.tx - tx0;
    printf("    (%.2f TCP segments per connection, both directions)\n", (double)tx / r.done);
    const struct tern_stats *st = tern_stack_stats(r.sb);
    printf("    (%.1f s of virtual time; server: %llu segments in, %llu TIME_WAIT recycled,\n"
           "     %llu TIME_WAIT reopened by a SYN (RFC 6191), %llu challenge ACKs)\n",
           (double)vt / 1e6, (unsigned long long)st->tcp.rx,
           (unsigned long long)st->tcp.tw_recycled, (unsigned long long)st->tcp.tw_reopened,
           (unsigned long long)st->tcp.challenge_acks);
    printf("    (%u connections waited a retransmission timeout; slowest %.3f s virtual)\n",
           r.rto_waits, (double)r.slowest_us / 1e6);
    tern_sock_close(r.lsk);
    tern_stack_free(r.sa);
    tern_stack_free(r.sb);
    tern_device_destroy(da);
    tern_device_destroy(db);
    tern_loop_destroy(r.loop);
    return 0;
}

/* ---- Linux ---- */

/* Tcp OutSegs of /proc/net/snmp (this network namespace), -1 if unread. */
static long long linux_outsegs(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    char hdr[1024], val[1024];
    long long r = -1;
    if (!f)
        return -1;
    while (fgets(hdr, sizeof hdr, f) && fgets(val, sizeof val, f)) {
        if (strncmp(hdr, "Tcp:", 4) || strncmp(val, "Tcp:", 4))
            continue;
        char *hs, *vs, *h = strtok_r(hdr, " \n", &hs), *v = strtok_r(val, " \n", &vs);
        for (; h && v; h = strtok_r(NULL, " \n", &hs), v = strtok_r(NULL, " \n", &vs))
            if (!strcmp(h, "OutSegs"))
                r = atoll(v);
        break;
    }
    fclose(f);
    return r;
}

/* A network namespace of our own with lo up, so that OutSegs counts this
 * bench's segments only. 0, or -1 with errno (not root: EPERM). */
static int private_netns(void)
{
    if (unshare(CLONE_NEWNET) < 0)
        return -1;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    int rc = fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ? -1 : 0;
    ifr.ifr_flags |= IFF_UP;
    if (rc == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        rc = -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

static void *linux_server(void *arg)
{
    int ls = *(int *)arg;
    uint8_t buf[256];
    for (unsigned i = 0; i < nconns; i++) {
        int c = accept(ls, NULL, NULL);
        if (c < 0)
            return NULL;
        size_t got = 0;
        ssize_t n;
        while (got < MSG && (n = read(c, buf, sizeof buf)) > 0)
            got += (size_t)n;
        if (write(c, buf, MSG) != MSG) {
            close(c);
            return NULL;
        }
        close(c);
    }
    return NULL;
}

static int netns_err; /* errno of private_netns, 0 if we have our own */

static int linux_rate(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 128) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0)
        return -1;
    pthread_t th;
    long long segs0 = linux_outsegs();
    double w0 = bench_wall(), c0 = bench_cpu();
    if (pthread_create(&th, NULL, linux_server, &ls) != 0)
        return -1;
    uint8_t buf[256] = {0};
    unsigned done = 0;
    for (; done < nconns; done++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0 || write(c, buf, MSG) != MSG)
            break;
        size_t got = 0;
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0)
            got += (size_t)n;
        close(c);
        if (got != MSG)
            break;
    }
    int e = errno;
    if (done < nconns) {
        shutdown(ls, SHUT_RDWR); /* unblocks the server's accept */
        pthread_join(th, NULL);
        close(ls);
        printf("%-36s n/a: failed after %u connections (%s)\n", "Linux -> Linux", done,
               strerror(e));
        return 0;
    }
    pthread_join(th, NULL);
    double wall = bench_wall() - w0, cpu = bench_cpu() - c0;
    close(ls);
    report("Linux -> Linux (127.0.0.1, 2 thr)", done, wall, cpu);
    long long segs1 = linux_outsegs();
    if (netns_err)
        printf("    (TCP segments per connection: n/a - no private network namespace (%s),\n"
               "     and the shared one's OutSegs counts other traffic too)\n",
               strerror(netns_err));
    else if (segs0 < 0 || segs1 < 0)
        printf("    (TCP segments per connection: n/a - /proc/net/snmp unreadable)\n");
    else
        printf("    (%.2f TCP segments per connection, both directions: Tcp OutSegs of the\n"
               "     bench's own network namespace)\n", (double)(segs1 - segs0) / done);
    return 0;
}

int main(void)
{
    const char *e = getenv("BENCH_CONNS");
    if (e && atoi(e) > 0)
        nconns = (unsigned)atoi(e);
    printf("TCP connection rate: connect + %d-byte request + %d-byte response + close, "
           "%u in sequence\n", MSG, MSG, nconns);
    printf("%-36s %10s %10s %8s %8s %8s\n", "", "conn/s", "conn/s", "CPU us", "wall", "CPU");
    printf("%-36s %10s %10s %8s %8s %8s\n", "", "(wall)", "(CPU)", "per conn", "s", "s");
    if (bench_tern_rate() < 0)
        printf("%-36s n/a: setup failed\n", "tern -> tern");
    if (private_netns() < 0)
        netns_err = errno ? errno : EPERM;
    if (linux_rate() < 0)
        printf("%-36s n/a: %s\n", "Linux -> Linux", strerror(errno));
    return 0;
}
