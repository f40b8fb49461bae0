/*
 * tests/posix/pxtest.h - small helpers shared by the POSIX facade tests.
 */
#ifndef TERN_TESTS_POSIX_PXTEST_H
#define TERN_TESTS_POSIX_PXTEST_H

#include <errno.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "posix/rtlink.h"
#include "tern/posix.h"

static inline struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(addr);
    s.sin_port = htons(port);
    return s;
}
#define SA(p) ((struct sockaddr *)(p))
#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u

static inline uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A UDP socket on rt bound to port (0 = ephemeral), or -1. */
static inline int udp_bound(struct tern_runtime *rt, uint16_t port)
{
    int fd = tern_socket(rt, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = sin_of(0, port);
    if (fd < 0 || tern_bind(rt, fd, SA(&a), sizeof a) < 0)
        return -1;
    return fd;
}

#define CHECK_ERRNO(call, e)                                            \
    do {                                                                \
        errno = 0;                                                      \
        CHECK_EQ((call), -1);                                           \
        CHECK_EQ(errno, (e));                                           \
    } while (0)

#endif
