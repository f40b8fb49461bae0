/*
 * posix/posix_impl.h - inside the BSD sockets facade: the runtime, its
 * descriptor table, and the lock/wait helpers every call uses.
 *
 * Locking (docs/posix.md): rt->mu guards the stack, the loop's timers and
 * the descriptor table. The runtime thread holds it while its loop processes
 * timers and fds and drops it only while the loop sleeps in epoll (loop sleep
 * hooks). A call takes it, does the non-blocking core call and, if that
 * would block, waits on the descriptor's condition variable, which the
 * socket's readiness handler (runtime thread, mu held) broadcasts.
 */
#ifndef TERN_POSIX_IMPL_H
#define TERN_POSIX_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "tern/posix.h"
#include "tern/socket.h"

struct pfd {
    struct tern_runtime *rt;
    struct tern_sock *sk; /* NULL: free slot */
    uint32_t gen;         /* bumped by close: blocked callers notice */
    int type;             /* SOCK_DGRAM or SOCK_STREAM */
    bool nonblock;
    bool linger_on;
    int linger_s;
    uint64_t rcvtimeo_us, sndtimeo_us; /* 0 = wait forever */
    pthread_cond_t cv;
    unsigned waiters;
};

struct tern_runtime {
    pthread_mutex_t mu;
    pthread_cond_t poll_cv; /* tern_poll waiters; broadcast on any readiness */
    unsigned pollers;
    struct tern_loop *loop;
    struct tern_device *dev;
    struct tern_stack *stack;
    pthread_t thread;
    bool started, quit, failed;
    bool sleeping; /* the loop is (about to be) in epoll_wait without mu */
    void (*pump)(void *ctx);
    void *pump_ctx;
    struct pfd *fds;
    unsigned nfds;
};

/* Sets errno = e and returns -1. */
int px_fail(int e);
/* Locks rt->mu and returns the open descriptor fd, or unlocks and returns
 * NULL with errno EBADF. */
struct pfd *px_enter(struct tern_runtime *rt, int fd);
/* Wakes the loop if it sleeps (so it sees timers armed meanwhile), unlocks. */
void px_leave(struct tern_runtime *rt);
/* Wakes the loop if it sleeps; mu held. */
void px_kick(struct tern_runtime *rt);
/* Absolute CLOCK_MONOTONIC deadline us from now (0 = none). */
void px_deadline(struct timespec *ts, uint64_t us);
/* Waits (mu held) until the descriptor's handler runs, it is closed or the
 * deadline (NULL = none) passes. 0 = re-check; EBADF (closed meanwhile),
 * EAGAIN (deadline passed) or EIO (the runtime thread failed). */
int px_wait(struct pfd *d, uint32_t gen, const struct timespec *deadline);
/* Whether this call must not block. */
static inline bool px_nonblock(const struct pfd *d, int flags)
{
    return d->nonblock || (flags & MSG_DONTWAIT);
}
/* Allocates a descriptor for sk (mu held): the fd, or -1 (table full). */
int px_alloc(struct tern_runtime *rt, struct tern_sock *sk, int type);
/* sockaddr <-> tern_sockaddr */
int px_addr_in(const struct sockaddr *sa, socklen_t len, struct tern_sockaddr *out);
void px_addr_out(const struct tern_sockaddr *a, struct sockaddr *sa, socklen_t *len);

#endif
