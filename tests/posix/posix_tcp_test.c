/*
 * Tests for the BSD sockets facade over TCP (tern/posix.h): blocking and
 * non-blocking connect, accept, stream send/recv, shutdown, SO_LINGER
 * reset, and errno values, between two runtimes on tests/posix/rtlink.
 * Expected behaviour and errno values: POSIX and Linux tcp(7)/socket(7).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "posix/pxtest.h"
#include "tern/posix.h"

/* TCP through the facade: echo over one connection with a blocking
 * accept/connect. Runs once the core has TCP (tern_sock_open(STREAM)). */
struct tcp_srv {
    struct tern_runtime *rt;
    int lfd, ok;
};

static void *tcp_echo_server(void *arg)
{
    struct tcp_srv *s = arg;
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int fd = tern_accept(s->rt, s->lfd, SA(&peer), &pl);
    if (fd < 0)
        return NULL;
    char buf[1000];
    ssize_t n;
    while ((n = tern_read(s->rt, fd, buf, sizeof buf)) > 0)
        if (tern_write(s->rt, fd, buf, (size_t)n) != n)
            break;
    s->ok = n == 0 && ntohl(peer.sin_addr.s_addr) == A_ADDR;
    tern_close(s->rt, fd);
    return NULL;
}

TEST(posix_tcp_echo_100k_between_threads)
{
    struct rtlink l;
    struct tern_runtime *ra, *rb;
    REQUIRE(rtlink_open(&l, &ra, &rb, 0) == 0);
    int lfd = tern_socket(rb, AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        CHECK_EQ(errno, EPROTONOSUPPORT);
        fprintf(stderr, "# posix_tcp_echo: the core has no TCP yet, not run\n");
        rtlink_close(&l);
        return;
    }
    struct sockaddr_in any = sin_of(0, 8000), to = sin_of(B_ADDR, 8000);
    CHECK_EQ(tern_bind(rb, lfd, SA(&any), sizeof any), 0);
    CHECK_EQ(tern_listen(rb, lfd, 4), 0);
    struct tcp_srv s = {.rt = rb, .lfd = lfd};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, tcp_echo_server, &s) == 0);
    int c = tern_socket(ra, AF_INET, SOCK_STREAM, 0);
    int one = 1;
    CHECK_EQ(tern_setsockopt(ra, c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    CHECK_EQ(tern_connect(ra, c, SA(&to), sizeof to), 0);
    /* 100 kB: several segments and windows each way. */
    enum { TOTAL = 100000 };
    uint8_t *out = malloc(TOTAL), *in = malloc(TOTAL);
    REQUIRE(out && in);
    for (size_t i = 0; i < TOTAL; i++)
        out[i] = (uint8_t)(i * 7 + i / 251);
    size_t got = 0;
    for (size_t sent = 0; sent < TOTAL;) {
        size_t chunk = TOTAL - sent < 10000 ? TOTAL - sent : 10000;
        ssize_t n = tern_write(ra, c, out + sent, chunk);
        if (n <= 0)
            break;
        sent += (size_t)n;
        while (got < sent) {
            ssize_t m = tern_read(ra, c, in + got, TOTAL - got);
            if (m <= 0)
                break;
            got += (size_t)m;
        }
    }
    CHECK_EQ(got, TOTAL);
    CHECK(memcmp(in, out, TOTAL) == 0);
    CHECK_EQ(tern_shutdown(ra, c, SHUT_WR), 0);
    char x;
    CHECK_EQ(tern_read(ra, c, &x, 1), 0); /* the server closes after our FIN */
    pthread_join(th, NULL);
    CHECK(s.ok);
    tern_close(ra, c);
    tern_close(rb, lfd);
    free(out);
    free(in);
    rtlink_close(&l);
}

/* A listening TCP socket on rb port, or -1 (also when the core has no TCP). */
static int tcp_listener(struct tern_runtime *rb, uint16_t port, int type_flags)
{
    int lfd = tern_socket(rb, AF_INET, SOCK_STREAM | type_flags, 0);
    struct sockaddr_in any = sin_of(0, port);
    if (lfd < 0 || tern_bind(rb, lfd, SA(&any), sizeof any) < 0 || tern_listen(rb, lfd, 8) < 0)
        return -1;
    return lfd;
}

TEST(posix_tcp_nonblocking_connect_poll_so_error)
{
    struct rtlink l;
    struct tern_runtime *ra, *rb;
    REQUIRE(rtlink_open(&l, &ra, &rb, 0) == 0);
    int lfd = tcp_listener(rb, 8001, SOCK_NONBLOCK);
    REQUIRE(lfd >= 0);
    /* Nothing queued yet: a non-blocking accept is EAGAIN. */
    CHECK_ERRNO(tern_accept(rb, lfd, NULL, NULL), EAGAIN);
    int c = tern_socket(ra, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in to = sin_of(B_ADDR, 8001);
    CHECK_ERRNO(tern_connect(ra, c, SA(&to), sizeof to), EINPROGRESS);
    /* The POSIX way to learn the outcome: POLLOUT, then SO_ERROR. */
    struct pollfd p = {.fd = c, .events = POLLOUT};
    CHECK_EQ(tern_poll(ra, &p, 1, 5000), 1);
    CHECK(p.revents & POLLOUT);
    int err = -1;
    socklen_t el = sizeof err;
    CHECK_EQ(tern_getsockopt(ra, c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    CHECK_EQ(err, 0);
    CHECK_ERRNO(tern_connect(ra, c, SA(&to), sizeof to), EISCONN);
    /* The listener polls readable; accept gives the peer's address. */
    struct pollfd lp = {.fd = lfd, .events = POLLIN};
    CHECK_EQ(tern_poll(rb, &lp, 1, 5000), 1);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int s = tern_accept(rb, lfd, SA(&peer), &pl);
    CHECK(s >= 0);
    CHECK_EQ(ntohl(peer.sin_addr.s_addr), A_ADDR);
    struct sockaddr_in me, cl;
    socklen_t ml = sizeof me, cll = sizeof cl;
    CHECK_EQ(tern_getsockname(rb, s, SA(&me), &ml), 0);
    CHECK_EQ(ntohs(me.sin_port), 8001);
    CHECK_EQ(tern_getsockname(ra, c, SA(&cl), &cll), 0);
    CHECK_EQ(cl.sin_port, peer.sin_port);
    int v = 0;
    socklen_t vl = sizeof v;
    CHECK_EQ(tern_getsockopt(rb, s, SOL_SOCKET, SO_TYPE, &v, &vl), 0);
    CHECK_EQ(v, SOCK_STREAM);
    int one = 1;
    CHECK_EQ(tern_setsockopt(ra, c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    CHECK_EQ(tern_getsockopt(ra, c, IPPROTO_TCP, TCP_NODELAY, &v, &vl), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(tern_getsockopt(ra, c, IPPROTO_TCP, TCP_MAXSEG, &v, &vl), 0);
    CHECK(v > 0 && v <= 1460); /* Ethernet MTU 1500 - 40 */
    int idle = 17;
    CHECK_EQ(tern_setsockopt(ra, c, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle), 0);
    CHECK_EQ(tern_getsockopt(ra, c, IPPROTO_TCP, TCP_KEEPIDLE, &v, &vl), 0);
    CHECK_EQ(v, 17);
    /* A non-blocking read with nothing queued: EAGAIN; then data. */
    char buf[8];
    CHECK_ERRNO(tern_read(ra, c, buf, sizeof buf), EAGAIN);
    CHECK_EQ(tern_write(rb, s, "abc", 3), 3);
    p = (struct pollfd){.fd = c, .events = POLLIN};
    CHECK_EQ(tern_poll(ra, &p, 1, 5000), 1);
    CHECK_EQ(tern_read(ra, c, buf, sizeof buf), 3);
    tern_close(ra, c);
    tern_close(rb, s);
    tern_close(rb, lfd);
    rtlink_close(&l);
}

TEST(posix_tcp_connect_refused)
{
    struct rtlink l;
    struct tern_runtime *ra, *rb;
    REQUIRE(rtlink_open(&l, &ra, &rb, 0) == 0);
    int probe = tern_socket(ra, AF_INET, SOCK_STREAM, 0);
    REQUIRE(probe >= 0);
    tern_close(ra, probe);
    /* No listener on port 8999: the peer answers RST (RFC 9293 s3.10.7.1). */
    struct sockaddr_in to = sin_of(B_ADDR, 8999);
    int c = tern_socket(ra, AF_INET, SOCK_STREAM, 0);
    CHECK_ERRNO(tern_connect(ra, c, SA(&to), sizeof to), ECONNREFUSED);
    tern_close(ra, c);
    /* Non-blocking: EINPROGRESS, then POLLERR and SO_ERROR = ECONNREFUSED. */
    c = tern_socket(ra, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK_ERRNO(tern_connect(ra, c, SA(&to), sizeof to), EINPROGRESS);
    struct pollfd p = {.fd = c, .events = POLLOUT};
    CHECK_EQ(tern_poll(ra, &p, 1, 5000), 1);
    CHECK(p.revents & POLLERR);
    int err = 0;
    socklen_t el = sizeof err;
    CHECK_EQ(tern_getsockopt(ra, c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    CHECK_EQ(err, ECONNREFUSED);
    tern_close(ra, c);
    rtlink_close(&l);
}

struct acceptor {
    struct tern_runtime *rt;
    int lfd, fd, err;
};

static void *do_accept(void *arg)
{
    struct acceptor *a = arg;
    a->fd = tern_accept(a->rt, a->lfd, NULL, NULL);
    a->err = a->fd < 0 ? errno : 0;
    return NULL;
}

TEST(posix_tcp_linger_zero_resets_and_stream_errors)
{
    struct rtlink l;
    struct tern_runtime *ra, *rb;
    REQUIRE(rtlink_open(&l, &ra, &rb, 0) == 0);
    int lfd = tcp_listener(rb, 8002, 0);
    if (lfd < 0) {
        rtlink_close(&l);
        return;
    }
    struct acceptor acc = {.rt = rb, .lfd = lfd, .fd = -1};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, do_accept, &acc) == 0);
    int c = tern_socket(ra, AF_INET, SOCK_STREAM, 0);
    char buf[16];
    /* Not connected yet: ENOTCONN for reads and getpeername. */
    CHECK_ERRNO(tern_read(ra, c, buf, sizeof buf), ENOTCONN);
    struct sockaddr_in to = sin_of(B_ADDR, 8002);
    CHECK_EQ(tern_connect(ra, c, SA(&to), sizeof to), 0);
    pthread_join(th, NULL);
    REQUIRE(acc.fd >= 0);
    /* writev/readv over the stream, MSG_WAITALL collects both pieces */
    struct iovec out[2] = {{"hello ", 6}, {"stream", 6}};
    CHECK_EQ(tern_writev(ra, c, out, 2), 12);
    CHECK_EQ(tern_recv(rb, acc.fd, buf, 12, MSG_WAITALL), 12);
    CHECK(memcmp(buf, "hello stream", 12) == 0);
    /* After shutdown(SHUT_WR), sending is EPIPE (no SIGPIPE: DEVIATION) */
    CHECK_EQ(tern_shutdown(ra, c, SHUT_WR), 0);
    CHECK_ERRNO(tern_send(ra, c, "x", 1, 0), EPIPE);
    CHECK_EQ(tern_read(rb, acc.fd, buf, sizeof buf), 0); /* the FIN */
    /* SO_LINGER {1, 0}: close sends RST; the peer's next read fails. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    CHECK_EQ(tern_setsockopt(ra, c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    CHECK_EQ(tern_close(ra, c), 0);
    /* events 0: wait for POLLERR/POLLHUP only (POLLIN is already set by
     * the FIN read above). */
    struct pollfd p = {.fd = acc.fd, .events = 0};
    CHECK_EQ(tern_poll(rb, &p, 1, 5000), 1);
    CHECK(p.revents & (POLLERR | POLLHUP));
    CHECK_ERRNO(tern_write(rb, acc.fd, "y", 1), ECONNRESET);
    tern_close(rb, acc.fd);
    /* close() in another thread wakes a blocked accept with EBADF */
    acc = (struct acceptor){.rt = rb, .lfd = lfd, .fd = -1};
    REQUIRE(pthread_create(&th, NULL, do_accept, &acc) == 0);
    sleep_ms(50);
    CHECK_EQ(tern_close(rb, lfd), 0);
    pthread_join(th, NULL);
    CHECK_EQ(acc.fd, -1);
    CHECK_EQ(acc.err, EBADF);
    rtlink_close(&l);
}
