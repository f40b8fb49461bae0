/*
 * Threads and the POSIX facade: several client threads each echo many
 * datagrams through a server thread of their own, across two runtimes (the
 * locking stress case; also run under ThreadSanitizer), and the real loop's
 * sleep hooks the runtime's locking is built on.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "posix/pxtest.h"
#include "tern/loop.h"
#include "tern/posix.h"

struct echo_srv {
    struct tern_runtime *rt;
    int fd, count;
};

static void *echo_server(void *arg)
{
    struct echo_srv *s = arg;
    char buf[2048];
    for (int i = 0; i < s->count; i++) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = tern_recvfrom(s->rt, s->fd, buf, sizeof buf, 0, SA(&from), &fl);
        if (n < 0 || fl != sizeof from)
            return NULL;
        if (tern_sendto(s->rt, s->fd, buf, (size_t)n, 0, SA(&from), fl) != n)
            return NULL;
    }
    return arg;
}

/* Several client threads each echo many datagrams through one server
 * thread per client: the stress case for the locking (run under TSan too). */
struct client {
    struct tern_runtime *rt;
    uint16_t port;
    int rounds, ok;
};

static void *client_thread(void *arg)
{
    struct client *c = arg;
    int fd = tern_socket(c->rt, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = sin_of(B_ADDR, c->port);
    if (tern_connect(c->rt, fd, SA(&to), sizeof to) < 0)
        return NULL;
    struct timeval tv = {.tv_sec = 2};
    tern_setsockopt(c->rt, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < c->rounds; i++) {
        char msg[32], got[32];
        int len = snprintf(msg, sizeof msg, "%u:%d", c->port, i);
        if (tern_send(c->rt, fd, msg, (size_t)len, 0) != len)
            break;
        ssize_t n = tern_recv(c->rt, fd, got, sizeof got, 0);
        if (n == len && memcmp(got, msg, (size_t)len) == 0)
            c->ok++;
    }
    tern_close(c->rt, fd);
    return NULL;
}

TEST(posix_threaded_udp_echo_stress)
{
    enum { N = 4, ROUNDS = 200 };
    struct rtlink l;
    struct tern_runtime *ra, *rb;
    REQUIRE(rtlink_open(&l, &ra, &rb, 0) == 0);
    struct echo_srv s[N];
    struct client c[N];
    pthread_t st[N], ct[N];
    for (int i = 0; i < N; i++) {
        s[i] = (struct echo_srv){.rt = rb, .fd = udp_bound(rb, (uint16_t)(7100 + i)),
                                 .count = ROUNDS};
        c[i] = (struct client){.rt = ra, .port = (uint16_t)(7100 + i), .rounds = ROUNDS};
        REQUIRE(pthread_create(&st[i], NULL, echo_server, &s[i]) == 0);
    }
    for (int i = 0; i < N; i++)
        REQUIRE(pthread_create(&ct[i], NULL, client_thread, &c[i]) == 0);
    for (int i = 0; i < N; i++) {
        pthread_join(ct[i], NULL);
        CHECK_EQ(c[i].ok, ROUNDS);
        if (c[i].ok != ROUNDS)
            tern_close(rb, s[i].fd); /* unblock a server left waiting */
        pthread_join(st[i], NULL);
        tern_close(rb, s[i].fd);
    }
    rtlink_close(&l);
}

struct hooks {
    int before, after;
    bool in_sleep_ok;
};

static void h_before(void *ctx)
{
    struct hooks *h = ctx;
    h->in_sleep_ok = h->before == h->after; /* strictly alternating */
    h->before++;
}

static void h_after(void *ctx)
{
    struct hooks *h = ctx;
    h->after++;
    h->in_sleep_ok = h->in_sleep_ok && h->before == h->after;
}

static void stop_timer(struct tern_timer *t, void *arg)
{
    (void)t;
    tern_loop_stop(arg);
}

TEST(posix_loop_sleep_hooks_bracket_each_epoll_wait)
{
    struct tern_loop *l = tern_loop_real_new(NULL, NULL);
    REQUIRE(l);
    struct hooks h = {0, 0, true};
    tern_loop_real_set_sleep_hooks(l, h_before, h_after, &h);
    struct tern_timer t;
    tern_timer_init(&t, stop_timer, l);
    tern_timer_arm(l, &t, tern_loop_now(l) + 20000);
    CHECK_EQ(tern_loop_run(l, TERN_TIME_NEVER), 0);
    CHECK(h.before >= 1);
    CHECK_EQ(h.before, h.after);
    CHECK(h.in_sleep_ok);
    /* Removed hooks are not called; other loops ignore the call. */
    tern_loop_real_set_sleep_hooks(l, NULL, NULL, NULL);
    tern_timer_arm(l, &t, tern_loop_now(l) + 1000);
    int before = h.before;
    CHECK_EQ(tern_loop_run(l, TERN_TIME_NEVER), 0);
    CHECK_EQ(h.before, before);
    tern_loop_destroy(l);
    struct tern_loop *v = tern_loop_virtual_new(0);
    tern_loop_real_set_sleep_hooks(v, h_before, h_after, &h);
    tern_loop_destroy(v);
}
