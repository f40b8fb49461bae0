/*
 * tern/posix.h - the BSD sockets facade: blocking, thread-safe POSIX-style
 * socket calls over a tern stack that runs on a thread of its own.
 *
 * A struct tern_runtime owns a real loop, one device, a stack and a thread
 * (pthread) that runs the loop. Application threads call tern_socket(rt, ...),
 * tern_bind(rt, fd, ...), ... with POSIX types (struct sockaddr_in, socklen_t,
 * struct iovec, struct pollfd), POSIX flag values (MSG_PEEK, SHUT_WR, O_NONBLOCK,
 * ...) and return -1 + errno on failure. Calls block by default. A socket
 * program ports by prefixing calls with tern_ and passing rt first; see
 * examples/posix_udp_echo.c and docs/posix.md.
 *
 * Descriptors are small ints (0, 1, ...) in a bounded table per runtime, not
 * OS file descriptors: EBADF for a bad one, EMFILE when the table is full.
 * IPv4 only (AF_INET; EAFNOSUPPORT otherwise).
 *
 * Thread safety: every call here may be made from any thread, several threads
 * may block at once; one mutex per runtime guards the stack (docs/posix.md).
 * Not async-signal-safe. Do not call tern_runtime_free while other threads
 * are inside calls on that runtime.
 * DEVIATIONS (docs/posix.md): no SIGPIPE (as if MSG_NOSIGNAL); tern_close in
 * one thread wakes threads blocked on that descriptor with EBADF (Linux
 * leaves them blocked); SO_RCVBUF/SO_SNDBUF are not doubled; SO_LINGER with
 * l_linger 0 resets (RST) on close, other linger times close gracefully
 * without waiting.
 */
#ifndef TERN_POSIX_H
#define TERN_POSIX_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "tern/api.h"
#include "tern/device.h"
#include "tern/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tern_runtime;

struct tern_runtime_cfg {
    /* The device: exactly one of these three. */
    const char *tap;            /* open this existing Linux TAP interface */
    const char *tun;            /* ... or this TUN interface (see tern_tuntap_open) */
    struct tern_device *device; /* ... or this device, which must not need a loop
                                 * (tern_custom_device_new); the runtime owns it
                                 * from the call on, also when the call fails */
    uint32_t addr;              /* host order */
    uint8_t prefix_len;
    uint32_t gw;                /* 0 = no default route */
    uint16_t mtu;               /* 0 = the device's */
    uint8_t mac[6];             /* all zero = the device's */
    const struct tern_config *stack; /* NULL = tern_config_defaults() with an OS-random seed */
    unsigned max_fds;           /* descriptor table size; 0 = 256 */
    /* Optional: runs on the runtime's thread, mutex held, after every
     * tern_runtime_wake() (and at other times: it must cope with having
     * nothing to do). Custom devices deliver their received frames here
     * with tern_device_deliver(). */
    void (*pump)(void *ctx);
    void *pump_ctx;
};

/* Builds loop, device, stack and interface, and starts the thread. NULL +
 * errno on failure (EINVAL for a bad cfg). */
TERN_API struct tern_runtime *tern_runtime_new(const struct tern_runtime_cfg *cfg);
/* Stops and joins the thread, closes every descriptor still open (RST on
 * TCP), frees the stack and destroys the device and loop. NULL is a no-op. */
TERN_API void tern_runtime_free(struct tern_runtime *rt);
/* Any thread: makes the runtime's thread call cfg->pump soon. */
TERN_API void tern_runtime_wake(struct tern_runtime *rt);
/* For the core API (tern/socket.h, tern/stack.h) beside the facade: hold
 * the runtime lock around every call on the stack, and call
 * tern_runtime_unlock (which wakes the loop if needed) when done. */
TERN_API struct tern_stack *tern_runtime_stack(struct tern_runtime *rt);
TERN_API void tern_runtime_lock(struct tern_runtime *rt);
TERN_API void tern_runtime_unlock(struct tern_runtime *rt);

/* The errno value for a (negative) enum tern_err; 0 for TERN_OK. */
TERN_API int tern_errno(int tern_err);

/* socket(2): domain AF_INET; type SOCK_DGRAM or SOCK_STREAM, optionally
 * | SOCK_NONBLOCK | SOCK_CLOEXEC (ignored); protocol 0 or the type's. */
TERN_API int tern_socket(struct tern_runtime *rt, int domain, int type, int protocol);
TERN_API int tern_bind(struct tern_runtime *rt, int fd, const struct sockaddr *addr, socklen_t len);
TERN_API int tern_listen(struct tern_runtime *rt, int fd, int backlog);
TERN_API int tern_accept(struct tern_runtime *rt, int fd, struct sockaddr *addr, socklen_t *len);
/* Blocking TCP connect waits for the handshake (SO_SNDTIMEO: EINPROGRESS
 * after it); non-blocking returns EINPROGRESS: poll for POLLOUT, then read
 * SO_ERROR. UDP: AF_UNSPEC dissolves the association. */
TERN_API int tern_connect(struct tern_runtime *rt, int fd, const struct sockaddr *addr, socklen_t len);
TERN_API int tern_shutdown(struct tern_runtime *rt, int fd, int how);
TERN_API int tern_close(struct tern_runtime *rt, int fd);

/* flags: MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT, MSG_WAITALL (stream recv),
 * MSG_NOSIGNAL (accepted, no signals are ever raised); others EOPNOTSUPP.
 * Blocking stream sends return once every byte is queued (or an error
 * after some bytes: the count so far). */
TERN_API ssize_t tern_send(struct tern_runtime *rt, int fd, const void *buf, size_t len, int flags);
TERN_API ssize_t tern_recv(struct tern_runtime *rt, int fd, void *buf, size_t len, int flags);
TERN_API ssize_t tern_sendto(struct tern_runtime *rt, int fd, const void *buf, size_t len, int flags,
                             const struct sockaddr *to, socklen_t tolen);
TERN_API ssize_t tern_recvfrom(struct tern_runtime *rt, int fd, void *buf, size_t len, int flags,
                               struct sockaddr *from, socklen_t *fromlen);
TERN_API ssize_t tern_read(struct tern_runtime *rt, int fd, void *buf, size_t len);
TERN_API ssize_t tern_write(struct tern_runtime *rt, int fd, const void *buf, size_t len);
/* UDP: one datagram scattered over / gathered from the vector. */
TERN_API ssize_t tern_readv(struct tern_runtime *rt, int fd, const struct iovec *iov, int iovcnt);
TERN_API ssize_t tern_writev(struct tern_runtime *rt, int fd, const struct iovec *iov, int iovcnt);

TERN_API int tern_getsockname(struct tern_runtime *rt, int fd, struct sockaddr *addr, socklen_t *len);
TERN_API int tern_getpeername(struct tern_runtime *rt, int fd, struct sockaddr *addr, socklen_t *len);
/* SOL_SOCKET: SO_REUSEADDR, SO_KEEPALIVE, SO_BROADCAST, SO_RCVBUF, SO_SNDBUF,
 * SO_ERROR, SO_TYPE (get), SO_LINGER, SO_RCVTIMEO, SO_SNDTIMEO;
 * IPPROTO_IP: IP_TTL, IP_TOS; IPPROTO_TCP: TCP_NODELAY, TCP_MAXSEG,
 * TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT. Others: ENOPROTOOPT. */
TERN_API int tern_getsockopt(struct tern_runtime *rt, int fd, int level, int name, void *val,
                             socklen_t *len);
TERN_API int tern_setsockopt(struct tern_runtime *rt, int fd, int level, int name, const void *val,
                             socklen_t len);
/* F_GETFL (O_RDWR plus O_NONBLOCK if set) and F_SETFL (O_NONBLOCK). */
TERN_API int tern_fcntl(struct tern_runtime *rt, int fd, int cmd, ...);
/* poll(2) over descriptors of rt: negative fd entries are ignored, bad ones
 * get POLLNVAL. timeout_ms < 0 waits forever. */
TERN_API int tern_poll(struct tern_runtime *rt, struct pollfd *fds, nfds_t nfds, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
