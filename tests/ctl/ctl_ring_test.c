/*
 * Tests for the control protocol's shared rings and readiness mirror
 * (src/ctl/ctl.h, docs/run.md): stream bytes and datagram records across
 * the ring's wrap point, a datagram that does not fit left unwritten, peek,
 * cut datagrams; and the eventfd mirror: poll(2) on a real eventfd set to
 * each value ctl_mirror_value gives reports exactly the readiness meant.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "harness.h"

static struct ctl_shm *shm_new(void)
{
    struct ctl_shm *s = calloc(1, CTL_SHM_SIZE);
    if (s)
        ctl_shm_init(s, 2);
    return s;
}

TEST(ctl_ring_stream_wraps)
{
    struct ctl_shm *s = shm_new();
    REQUIRE(s);
    struct ctl_ring *r = &s->tx;
    uint8_t *in = malloc(CTL_RING_SIZE), *out = malloc(CTL_RING_SIZE);
    REQUIRE(in && out);
    for (uint32_t i = 0; i < CTL_RING_SIZE; i++)
        in[i] = (uint8_t)(i * 7 + 3);
    /* Move the positions near the end, then write across the wrap. */
    atomic_store(&r->head, CTL_RING_SIZE - 100);
    atomic_store(&r->tail, CTL_RING_SIZE - 100);
    CHECK_EQ(ctl_ring_free(r), CTL_RING_SIZE);
    CHECK_EQ(ctl_ring_write(s, r, in, 1000), 1000u);
    CHECK_EQ(ctl_ring_used(r), 1000u);
    CHECK_EQ(ctl_ring_read(s, r, out, 10, 1), 10u); /* peek leaves it */
    CHECK_EQ(ctl_ring_used(r), 1000u);
    CHECK_EQ(ctl_ring_read(s, r, out, 4096, 0), 1000u);
    CHECK_MEM(out, in, 1000);
    CHECK_EQ(ctl_ring_used(r), 0u);
    /* Full: a write takes only what fits. */
    CHECK_EQ(ctl_ring_write(s, r, in, CTL_RING_SIZE), CTL_RING_SIZE);
    CHECK_EQ(ctl_ring_write(s, r, in, 1), 0u);
    CHECK_EQ(ctl_ring_free(r), 0u);
    CHECK_EQ(ctl_ring_read(s, r, out, CTL_RING_SIZE, 0), CTL_RING_SIZE);
    CHECK_MEM(out, in, CTL_RING_SIZE);
    /* The free-running counters wrap around 2^32. */
    atomic_store(&r->head, UINT32_MAX - 5);
    atomic_store(&r->tail, UINT32_MAX - 5);
    CHECK_EQ(ctl_ring_write(s, r, in, 50), 50u);
    CHECK_EQ(ctl_ring_used(r), 50u);
    CHECK_EQ(ctl_ring_read(s, r, out, 50, 0), 50u);
    CHECK_MEM(out, in, 50);
    free(in);
    free(out);
    free(s);
}

TEST(ctl_ring_dgrams)
{
    struct ctl_shm *s = shm_new();
    REQUIRE(s);
    struct ctl_ring *r = &s->rx;
    static uint8_t d[70000], out[70000];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)(i ^ 0x5a);
    struct ctl_dgram h = {.len = 3, .addr = 0x0a000001, .port = 53}, g;
    CHECK(!ctl_ring_peek_dgram(s, r, &g));
    atomic_store(&r->head, CTL_RING_SIZE - 8); /* the header itself wraps */
    atomic_store(&r->tail, CTL_RING_SIZE - 8);
    CHECK(ctl_ring_put_dgram(s, r, &h, d));
    CHECK_EQ(ctl_ring_used(r), ctl_dgram_space(3));
    CHECK_EQ(ctl_dgram_space(3), (uint32_t)sizeof h + 4u); /* padded to 4 */
    REQUIRE(ctl_ring_peek_dgram(s, r, &g));
    CHECK_EQ(g.len, 3u);
    CHECK_EQ(g.addr, 0x0a000001u);
    CHECK_EQ(g.port, 53);
    /* Cut to 2 bytes with peek: the record stays. */
    CHECK_EQ(ctl_ring_take_dgram(s, r, &g, out, 2, 1), 2u);
    CHECK_MEM(out, d, 2);
    CHECK(ctl_ring_peek_dgram(s, r, &g));
    CHECK_EQ(ctl_ring_take_dgram(s, r, &g, out, 100, 0), 3u);
    CHECK_MEM(out, d, 3);
    CHECK_EQ(ctl_ring_used(r), 0u);
    /* Fill with 65507-byte datagrams until one does not fit: nothing of it is written. */
    h.len = 65507;
    int n = 0;
    while (ctl_ring_put_dgram(s, r, &h, d))
        n++;
    CHECK_EQ(n, (int)(CTL_RING_SIZE / ctl_dgram_space(65507)));
    uint32_t used = ctl_ring_used(r);
    CHECK(!ctl_ring_put_dgram(s, r, &h, d));
    CHECK_EQ(ctl_ring_used(r), used);
    for (int i = 0; i < n; i++) {
        REQUIRE(ctl_ring_peek_dgram(s, r, &g));
        CHECK_EQ(g.len, 65507u);
        CHECK_EQ(ctl_ring_take_dgram(s, r, &g, out, sizeof out, 0), 65507u);
        CHECK_MEM(out, d, 65507);
    }
    CHECK(!ctl_ring_peek_dgram(s, r, &g));
    free(s);
}

static short poll_evfd(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLOUT, 0};
    return poll(&p, 1, 0) == 1 ? (short)(p.revents & (POLLIN | POLLOUT)) : 0;
}

static void evfd_set(int fd, uint64_t *cur, uint64_t v)
{
    uint64_t x;
    if (*cur)
        CHECK_EQ(read(fd, &x, sizeof x), (ssize_t)sizeof x);
    if (v)
        CHECK_EQ(write(fd, &v, sizeof v), (ssize_t)sizeof v);
    *cur = v;
}

TEST(ctl_mirror_eventfd)
{
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    REQUIRE(fd >= 0);
    uint64_t cur = 0;
    /* readable + writable, readable only, writable only: exact */
    evfd_set(fd, &cur, ctl_mirror_value(1, 1, 0));
    CHECK_EQ(poll_evfd(fd), POLLIN | POLLOUT);
    evfd_set(fd, &cur, ctl_mirror_value(1, 0, 0));
    CHECK_EQ(poll_evfd(fd), POLLIN);
    evfd_set(fd, &cur, ctl_mirror_value(0, 1, 0));
    CHECK_EQ(poll_evfd(fd), POLLOUT);
    /* neither: shown as readable only (never POLLOUT: a connect waiter sleeps) */
    evfd_set(fd, &cur, ctl_mirror_value(0, 0, 0));
    CHECK_EQ(poll_evfd(fd), POLLIN);
    /* a listener: readable or not */
    evfd_set(fd, &cur, ctl_mirror_value(1, 0, 1));
    CHECK(poll_evfd(fd) & POLLIN);
    evfd_set(fd, &cur, ctl_mirror_value(0, 0, 1));
    CHECK(!(poll_evfd(fd) & POLLIN));
    close(fd);
}
