/*
 * tests/posix/rtlink.h - two POSIX-facade runtimes joined by an in-memory
 * Ethernet "cable" made of custom devices (tern_custom_device_new).
 *
 * Each runtime has its own thread and real loop, so the cable crosses
 * threads: a frame sent by one runtime (on whatever thread holds its lock)
 * is copied into the other end's mutex-protected bounded queue, and that
 * runtime is woken with tern_runtime_wake(); its pump (cfg.pump, on its own
 * thread with its lock held) delivers the queued frames. Frames are never
 * delivered re-entrantly and no lock of one runtime is held while the other
 * runtime's is taken. Not part of the library: a test fixture, and the
 * pattern an embedder's cross-thread device would follow.
 */
#ifndef TERN_TESTS_POSIX_RTLINK_H
#define TERN_TESTS_POSIX_RTLINK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/posix.h"

#define RTLINK_QLEN 256
#define RTLINK_FRAME 1600

struct rtlink_end {
    pthread_mutex_t mu;          /* guards the queue and rt */
    uint8_t (*q)[RTLINK_FRAME];  /* RTLINK_QLEN frames waiting for this end */
    size_t qlen[RTLINK_QLEN];
    size_t head, count;
    uint64_t drops;
    struct tern_device *dev;     /* this end's device (owned by rt once opened) */
    struct tern_runtime *rt;
    struct rtlink_end *peer;
};

struct rtlink {
    struct rtlink_end a, b;
};

/* Runtimes on 10.0.0.1/24 (*ra) and 10.0.0.2/24 (*rb), max_fds descriptors
 * each (0 = default). 0 or -1. */
int rtlink_open(struct rtlink *l, struct tern_runtime **ra, struct tern_runtime **rb,
                unsigned max_fds);
/* Frees both runtimes, then the cable. */
void rtlink_close(struct rtlink *l);

#endif
