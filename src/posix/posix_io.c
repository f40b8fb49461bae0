/*
 * posix/posix_io.c - the BSD sockets facade: data transfer (send, recv,
 * sendto, recvfrom, read, write, readv, writev) and poll.
 *
 * Blocking calls retry the non-blocking core call after each readiness
 * notification (posix_impl.h). POSIX.1-2017 send/recv/poll semantics;
 * SO_RCVTIMEO/SO_SNDTIMEO as Linux (EAGAIN when they run out, or the count
 * transferred so far).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "posix/posix_impl.h"
#include "tern/err.h"

#define KNOWN_FLAGS (MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_WAITALL | MSG_NOSIGNAL)

static int core_flags(int flags)
{
    return ((flags & MSG_PEEK) ? TERN_MSG_PEEK : 0) | ((flags & MSG_TRUNC) ? TERN_MSG_TRUNC : 0);
}

/* Sends with d locked; returns bytes or -errno. Stream: every byte unless
 * non-blocking (or an error/timeout after some: the count so far). */
static ssize_t do_send(struct pfd *d, const void *buf, size_t len, int flags,
                       const struct tern_sockaddr *to)
{
    if (flags & ~KNOWN_FLAGS)
        return -EOPNOTSUPP;
    if (len > SSIZE_MAX)
        return -EINVAL;
    uint32_t gen = d->gen;
    struct timespec ts;
    if (d->sndtimeo_us)
        px_deadline(&ts, d->sndtimeo_us);
    size_t done = 0;
    for (;;) {
        ssize_t n = tern_sock_sendto(d->sk, (const uint8_t *)buf + done, len - done, 0, to);
        if (n >= 0) {
            done += (size_t)n;
            if (d->type == SOCK_DGRAM || done == len || px_nonblock(d, flags))
                return (ssize_t)done;
            continue;
        }
        if (n != TERN_E_AGAIN || px_nonblock(d, flags))
            return done ? (ssize_t)done : -tern_errno((int)n);
        int w = px_wait(d, gen, d->sndtimeo_us ? &ts : NULL);
        if (w)
            return done && w == EAGAIN ? (ssize_t)done : -w;
    }
}

/* Receives with d locked; returns bytes or -errno. MSG_WAITALL (stream):
 * until len bytes, EOF or an error. *oflags gets TERN_MSG_TRUNC. */
static ssize_t do_recv(struct pfd *d, void *buf, size_t len, int flags,
                       struct tern_sockaddr *from, int *oflags)
{
    if (flags & ~KNOWN_FLAGS)
        return -EOPNOTSUPP;
    if (len > SSIZE_MAX)
        return -EINVAL;
    uint32_t gen = d->gen;
    struct timespec ts;
    if (d->rcvtimeo_us)
        px_deadline(&ts, d->rcvtimeo_us);
    bool waitall = d->type == SOCK_STREAM && (flags & MSG_WAITALL) && !(flags & MSG_PEEK);
    size_t done = 0;
    for (;;) {
        ssize_t n = tern_sock_recvfrom(d->sk, (uint8_t *)buf + done, len - done, core_flags(flags),
                                       from, oflags);
        if (n > 0 && waitall) {
            done += (size_t)n;
            if (done < len)
                continue;
            return (ssize_t)done;
        }
        if (n >= 0)
            return (ssize_t)(done + (size_t)n); /* n == 0: EOF (or an empty datagram) */
        if (n != TERN_E_AGAIN || px_nonblock(d, flags))
            return done ? (ssize_t)done : -tern_errno((int)n);
        int w = px_wait(d, gen, d->rcvtimeo_us ? &ts : NULL);
        if (w)
            return done ? (ssize_t)done : -w;
    }
}

static ssize_t result(struct tern_runtime *rt, ssize_t r)
{
    px_leave(rt);
    return r < 0 ? px_fail((int)-r) : r;
}

ssize_t tern_sendto(struct tern_runtime *rt, int fd, const void *buf, size_t len, int flags,
                    const struct sockaddr *to, socklen_t tolen)
{
    struct tern_sockaddr a;
    int e = to ? px_addr_in(to, tolen, &a) : 0;
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    if (e)
        return result(rt, -e);
    /* Linux: a destination on a TCP socket is ignored (EISCONN if connected). */
    return result(rt, do_send(d, buf, len, flags, to && d->type == SOCK_DGRAM ? &a : NULL));
}

ssize_t tern_send(struct tern_runtime *rt, int fd, const void *buf, size_t len, int flags)
{
    return tern_sendto(rt, fd, buf, len, flags, NULL, 0);
}

ssize_t tern_write(struct tern_runtime *rt, int fd, const void *buf, size_t len)
{
    return tern_sendto(rt, fd, buf, len, 0, NULL, 0);
}

ssize_t tern_recvfrom(struct tern_runtime *rt, int fd, void *buf, size_t len, int flags,
                      struct sockaddr *from, socklen_t *fromlen)
{
    if (from && !fromlen)
        return px_fail(EFAULT);
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    struct tern_sockaddr a = {0, 0};
    ssize_t r = do_recv(d, buf, len, flags, &a, NULL);
    if (r >= 0 && from) {
        if (d->type == SOCK_DGRAM)
            px_addr_out(&a, from, fromlen);
        else
            *fromlen = 0; /* Linux: no address for a stream socket */
    }
    return result(rt, r);
}

ssize_t tern_recv(struct tern_runtime *rt, int fd, void *buf, size_t len, int flags)
{
    return tern_recvfrom(rt, fd, buf, len, flags, NULL, NULL);
}

ssize_t tern_read(struct tern_runtime *rt, int fd, void *buf, size_t len)
{
    return tern_recvfrom(rt, fd, buf, len, 0, NULL, NULL);
}

static ssize_t iov_total(const struct iovec *iov, int iovcnt)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt && !iov))
        return -EINVAL;
    size_t t = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > SSIZE_MAX - t)
            return -EINVAL;
        t += iov[i].iov_len;
    }
    return (ssize_t)t;
}

ssize_t tern_writev(struct tern_runtime *rt, int fd, const struct iovec *iov, int iovcnt)
{
    ssize_t tot = iov_total(iov, iovcnt);
    if (tot < 0)
        return px_fail((int)-tot);
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    if (d->type == SOCK_DGRAM || iovcnt == 1) {
        /* One datagram: gather it (the core call takes one buffer). */
        uint8_t *buf = iovcnt == 1 ? iov[0].iov_base : malloc(tot ? (size_t)tot : 1);
        if (!buf)
            return result(rt, -ENOBUFS);
        size_t off = 0;
        for (int i = 0; iovcnt != 1 && i < iovcnt; i++) {
            if (iov[i].iov_len)
                memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
        ssize_t r = do_send(d, buf, (size_t)tot, 0, NULL);
        if (iovcnt != 1)
            free(buf);
        return result(rt, r);
    }
    /* Stream: each piece in turn; stop short when one is only partly taken. */
    ssize_t done = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (!iov[i].iov_len)
            continue;
        ssize_t r = do_send(d, iov[i].iov_base, iov[i].iov_len, 0, NULL);
        if (r < 0)
            return result(rt, done ? done : r);
        done += r;
        if ((size_t)r < iov[i].iov_len || !d->sk)
            break;
    }
    return result(rt, done);
}

ssize_t tern_readv(struct tern_runtime *rt, int fd, const struct iovec *iov, int iovcnt)
{
    ssize_t tot = iov_total(iov, iovcnt);
    if (tot < 0)
        return px_fail((int)-tot);
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    if (iovcnt == 1)
        return result(rt, do_recv(d, iov[0].iov_base, iov[0].iov_len, 0, NULL, NULL));
    /* Receive into one buffer, then scatter: one datagram, or (stream) what
     * one blocking read returns. */
    uint8_t *buf = malloc(tot ? (size_t)tot : 1);
    if (!buf)
        return result(rt, -ENOBUFS);
    ssize_t r = do_recv(d, buf, (size_t)tot, 0, NULL, NULL);
    size_t off = 0;
    for (int i = 0; r > 0 && i < iovcnt && off < (size_t)r; i++) {
        size_t n = (size_t)r - off < iov[i].iov_len ? (size_t)r - off : iov[i].iov_len;
        if (n)
            memcpy(iov[i].iov_base, buf + off, n);
        off += n;
    }
    free(buf);
    return result(rt, r);
}

/* ---- poll ---- */

static short core_to_poll(unsigned m)
{
    return (short)(((m & TERN_POLLIN) ? POLLIN : 0) | ((m & TERN_POLLOUT) ? POLLOUT : 0) |
                   ((m & TERN_POLLERR) ? POLLERR : 0) | ((m & TERN_POLLHUP) ? POLLHUP : 0));
}

/* Fills revents; the number of entries with revents != 0. mu held. */
static int poll_scan(struct tern_runtime *rt, struct pollfd *fds, nfds_t nfds)
{
    int n = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        int fd = fds[i].fd;
        fds[i].revents = 0;
        if (fd < 0)
            continue;
        if ((unsigned)fd >= rt->nfds || !rt->fds[fd].sk)
            fds[i].revents = POLLNVAL;
        else
            fds[i].revents = (short)(core_to_poll(tern_sock_poll(rt->fds[fd].sk)) &
                                     (fds[i].events | POLLERR | POLLHUP));
        if (fds[i].revents)
            n++;
    }
    return n;
}

int tern_poll(struct tern_runtime *rt, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    if (!rt || (nfds && !fds))
        return px_fail(EFAULT);
    struct timespec ts;
    if (timeout_ms > 0)
        px_deadline(&ts, (uint64_t)timeout_ms * 1000u);
    pthread_mutex_lock(&rt->mu);
    int n;
    while ((n = poll_scan(rt, fds, nfds)) == 0 && timeout_ms != 0) {
        if (rt->failed) {
            px_leave(rt);
            return px_fail(EIO);
        }
        px_kick(rt);
        rt->pollers++;
        int rc = timeout_ms > 0 ? pthread_cond_timedwait(&rt->poll_cv, &rt->mu, &ts)
                                : pthread_cond_wait(&rt->poll_cv, &rt->mu);
        rt->pollers--;
        if (rc == ETIMEDOUT) {
            n = poll_scan(rt, fds, nfds);
            break;
        }
    }
    px_leave(rt);
    return n;
}
