/*
 * posix/posix_sock.c - the BSD sockets facade: descriptor management
 * (socket, accept, close), addresses, connection setup and teardown, socket
 * options and fcntl. Data transfer and poll are in posix_io.c.
 *
 * Semantics follow POSIX.1-2017 and Linux socket(7), ip(7), tcp(7), udp(7);
 * DEVIATION: lines mark where tern differs (also in tern/posix.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "posix/posix_impl.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/stack.h"

/* Returns -1 with errno for a negative enum tern_err, else 0; unlocks. */
static int done(struct tern_runtime *rt, int r)
{
    px_leave(rt);
    return r < 0 ? px_fail(tern_errno(r)) : 0;
}

int tern_socket(struct tern_runtime *rt, int domain, int type, int protocol)
{
    if (!rt)
        return px_fail(EINVAL);
    if (domain != AF_INET)
        return px_fail(EAFNOSUPPORT);
    bool nonblock = (type & SOCK_NONBLOCK) != 0;
    type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    enum tern_sock_type tt;
    if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        tt = TERN_SOCK_DGRAM;
    else if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
        tt = TERN_SOCK_STREAM;
    else if (type == SOCK_DGRAM || type == SOCK_STREAM)
        return px_fail(EPROTONOSUPPORT);
    else
        return px_fail(ESOCKTNOSUPPORT);
    pthread_mutex_lock(&rt->mu);
    /* Check the table first so a full table leaves the stack untouched. */
    unsigned i;
    for (i = 0; i < rt->nfds && rt->fds[i].sk; i++)
        ;
    if (i == rt->nfds) {
        px_leave(rt);
        return px_fail(EMFILE);
    }
    int err = 0;
    struct tern_sock *sk = tern_sock_open(rt->stack, tt, &err);
    if (!sk) {
        px_leave(rt);
        /* the stack's socket table is system-wide: ENFILE, as Linux */
        return px_fail(err == TERN_E_NOMEM ? ENFILE
                       : err == TERN_E_UNSUPPORTED ? EPROTONOSUPPORT
                                                   : tern_errno(err));
    }
    int fd = px_alloc(rt, sk, type);
    rt->fds[fd].nonblock = nonblock;
    px_leave(rt);
    return fd;
}

int tern_bind(struct tern_runtime *rt, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct tern_sockaddr a;
    int e = px_addr_in(addr, len, &a);
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    if (e) {
        px_leave(rt);
        return px_fail(e);
    }
    return done(rt, tern_sock_bind(d->sk, &a));
}

int tern_listen(struct tern_runtime *rt, int fd, int backlog)
{
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    return done(rt, tern_sock_listen(d->sk, backlog));
}

int tern_accept(struct tern_runtime *rt, int fd, struct sockaddr *addr, socklen_t *len)
{
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    uint32_t gen = d->gen;
    struct timespec ts;
    if (d->rcvtimeo_us)
        px_deadline(&ts, d->rcvtimeo_us);
    for (;;) {
        unsigned i;
        for (i = 0; i < rt->nfds && rt->fds[i].sk; i++)
            ;
        if (i == rt->nfds) { /* Linux: EMFILE, the connection stays queued */
            px_leave(rt);
            return px_fail(EMFILE);
        }
        int err = 0;
        struct tern_sockaddr peer;
        struct tern_sock *nsk = tern_sock_accept(d->sk, &peer, &err);
        if (nsk) {
            int nfd = px_alloc(rt, nsk, SOCK_STREAM);
            px_addr_out(&peer, addr, len);
            px_leave(rt);
            return nfd;
        }
        if (err != TERN_E_AGAIN || d->nonblock)
            return done(rt, err);
        int w = px_wait(d, gen, d->rcvtimeo_us ? &ts : NULL);
        if (w) {
            px_leave(rt);
            return px_fail(w);
        }
    }
}

int tern_connect(struct tern_runtime *rt, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    if (d->type == SOCK_DGRAM && addr && len >= (socklen_t)sizeof(sa_family_t) &&
        addr->sa_family == AF_UNSPEC) /* dissolve the association (Linux) */
        return done(rt, tern_sock_connect(d->sk, NULL));
    struct tern_sockaddr a;
    int e = px_addr_in(addr, len, &a);
    if (e) {
        px_leave(rt);
        return px_fail(e);
    }
    int r = tern_sock_connect(d->sk, &a);
    if (r != TERN_E_INPROGRESS || d->nonblock)
        return done(rt, r);
    /* Blocking TCP connect: wait for the handshake's outcome. */
    uint32_t gen = d->gen;
    struct timespec ts;
    if (d->sndtimeo_us)
        px_deadline(&ts, d->sndtimeo_us);
    for (;;) {
        unsigned m = tern_sock_poll(d->sk);
        if (m & (TERN_POLLERR | TERN_POLLHUP)) {
            int se = tern_sock_error(d->sk);
            return done(rt, se ? se : TERN_E_CONNREFUSED);
        }
        if (m & TERN_POLLOUT)
            return done(rt, 0);
        int w = px_wait(d, gen, d->sndtimeo_us ? &ts : NULL);
        if (w) {
            px_leave(rt);
            /* SO_SNDTIMEO ran out: the handshake goes on (Linux: EINPROGRESS) */
            return px_fail(w == EAGAIN ? EINPROGRESS : w);
        }
    }
}

int tern_shutdown(struct tern_runtime *rt, int fd, int how)
{
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    int th = how == SHUT_RD ? TERN_SHUT_RD : how == SHUT_WR ? TERN_SHUT_WR
           : how == SHUT_RDWR ? TERN_SHUT_RDWR : -1;
    if (th < 0)
        return done(rt, TERN_E_INVAL);
    int r = tern_sock_shutdown(d->sk, th);
    /* Blocked readers/writers in other threads look again (EOF, EPIPE). */
    if (d->waiters)
        pthread_cond_broadcast(&d->cv);
    return done(rt, r);
}

int tern_close(struct tern_runtime *rt, int fd)
{
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    struct tern_sock *sk = d->sk;
    d->sk = NULL;
    d->gen++;
    int r = 0;
    if (d->linger_on && d->linger_s == 0)
        tern_sock_abort(sk); /* SO_LINGER {1, 0}: reset (RFC 9293 s3.10.4 ABORT) */
    else
        r = tern_sock_close(sk); /* DEVIATION: other linger times do not wait */
    /* DEVIATION: threads blocked on fd wake with EBADF (Linux: they stay blocked). */
    pthread_cond_broadcast(&d->cv);
    if (rt->pollers)
        pthread_cond_broadcast(&rt->poll_cv);
    return done(rt, r);
}

static int name_common(struct tern_runtime *rt, int fd, struct sockaddr *addr, socklen_t *len,
                       bool peer)
{
    if (!addr || !len)
        return px_fail(EFAULT);
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    struct tern_sockaddr a;
    int r = peer ? tern_sock_getpeername(d->sk, &a) : tern_sock_getsockname(d->sk, &a);
    if (r == 0)
        px_addr_out(&a, addr, len);
    return done(rt, r);
}

int tern_getsockname(struct tern_runtime *rt, int fd, struct sockaddr *addr, socklen_t *len)
{
    return name_common(rt, fd, addr, len, false);
}

int tern_getpeername(struct tern_runtime *rt, int fd, struct sockaddr *addr, socklen_t *len)
{
    return name_common(rt, fd, addr, len, true);
}

/* The core option behind (level, name) on a socket of type, or -1. */
static int core_opt(int level, int name, int type)
{
    /* DEVIATION: SO_REUSEPORT on a UDP socket is SO_REUSEADDR - for
     * multicast and broadcast receivers, the reason it is set, Linux
     * gives each socket a copy either way; unicast goes to one socket
     * rather than being balanced by hash. */
    if (level == SOL_SOCKET && name == SO_REUSEPORT && type == SOCK_DGRAM)
        return TERN_SO_REUSEADDR;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR: return TERN_SO_REUSEADDR;
        case SO_KEEPALIVE: return TERN_SO_KEEPALIVE;
        case SO_BROADCAST: return TERN_SO_BROADCAST;
        case SO_RCVBUF: return TERN_SO_RCVBUF;
        case SO_SNDBUF: return TERN_SO_SNDBUF;
        default: return -1;
        }
    }
    if (level == IPPROTO_IP) {
        switch (name) {
        case IP_TTL: return TERN_IP_TTL;
        case IP_TOS: return TERN_IP_TOS;
        default: return -1;
        }
    }
    if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY: return TERN_TCP_NODELAY;
        case TCP_MAXSEG: return TERN_TCP_MAXSEG;
        case TCP_KEEPIDLE: return TERN_TCP_KEEPIDLE;
        case TCP_KEEPINTVL: return TERN_TCP_KEEPINTVL;
        case TCP_KEEPCNT: return TERN_TCP_KEEPCNT;
        default: return -1;
        }
    }
    return -1;
}

static void opt_out(void *val, socklen_t *len, const void *v, size_t n);

/* ---- multicast options (IPPROTO_IP) --------------------------------------
 * Interfaces: an ip_mreqn's imr_ifindex n > 0 is tern interface n - 1
 * (Linux numbers interfaces from 1); an address is the interface that has
 * it; INADDR_ANY is "by route" (-1). */

static bool is_mcast_opt(int level, int name)
{
    return level == IPPROTO_IP &&
           (name == IP_ADD_MEMBERSHIP || name == IP_DROP_MEMBERSHIP || name == IP_MULTICAST_IF ||
            name == IP_MULTICAST_TTL || name == IP_MULTICAST_LOOP || name == IP_MULTICAST_ALL ||
            name == IP_ADD_SOURCE_MEMBERSHIP || name == IP_DROP_SOURCE_MEMBERSHIP ||
            name == IP_BLOCK_SOURCE || name == IP_UNBLOCK_SOURCE);
}

/* The tern interface of an address (0: -1); -2 if none has it. */
static int iface_of_addr(struct tern_stack *s, uint32_t addr)
{
    if (addr == 0)
        return -1;
    for (int i = 0; i < TERN_MAX_IFACES; i++) {
        struct tern_iface_config c;
        if (tern_iface_get(s, i, &c) == 0 && c.addr == addr)
            return i;
    }
    return -2;
}

/* The interface of an ip_mreqn / ip_mreq / in_addr (by len), or -2. */
static int mreq_iface(struct tern_stack *s, const void *val, socklen_t len, size_t addr_off)
{
    if (len >= (socklen_t)sizeof(struct ip_mreqn)) {
        struct ip_mreqn m;
        memcpy(&m, val, sizeof m);
        if (m.imr_ifindex > 0)
            return m.imr_ifindex - 1 < TERN_MAX_IFACES ? m.imr_ifindex - 1 : -2;
    }
    struct in_addr a;
    memcpy(&a, (const uint8_t *)val + addr_off, sizeof a);
    return iface_of_addr(s, ntohl(a.s_addr));
}

/* Linux takes an int or, for TTL and LOOP, a single byte. */
static int int_or_byte(const void *val, socklen_t len, int *v)
{
    if (len >= (socklen_t)sizeof(int)) {
        memcpy(v, val, sizeof *v);
        return 0;
    }
    if (len < 1)
        return EINVAL;
    *v = *(const unsigned char *)val;
    return 0;
}

static int mcast_setopt(struct pfd *d, int name, const void *val, socklen_t len)
{
    struct tern_stack *s = d->rt->stack;
    int v = 0, r, e;
    switch (name) {
    case IP_ADD_MEMBERSHIP:
    case IP_DROP_MEMBERSHIP: {
        if (len < (socklen_t)sizeof(struct ip_mreq))
            return EINVAL;
        struct ip_mreq m;
        memcpy(&m, val, sizeof m);
        /* ip_mreq's imr_interface and ip_mreqn's imr_address share the offset. */
        int ifindex = mreq_iface(s, val, len, offsetof(struct ip_mreq, imr_interface));
        if (ifindex == -2)
            return ENODEV;
        uint32_t g = ntohl(m.imr_multiaddr.s_addr);
        r = name == IP_ADD_MEMBERSHIP ? tern_sock_join(d->sk, g, ifindex)
                                      : tern_sock_leave(d->sk, g, ifindex);
        return r < 0 ? (r == TERN_E_NOSPC ? ENOBUFS : tern_errno(r)) : 0;
    }
    case IP_ADD_SOURCE_MEMBERSHIP:
    case IP_DROP_SOURCE_MEMBERSHIP:
    case IP_BLOCK_SOURCE:
    case IP_UNBLOCK_SOURCE: {
        struct ip_mreq_source m;
        if (len < (socklen_t)sizeof m)
            return EINVAL;
        memcpy(&m, val, sizeof m);
        int ifindex = iface_of_addr(s, ntohl(m.imr_interface.s_addr));
        if (ifindex == -2)
            return ENODEV;
        enum tern_mc_source_op op = name == IP_ADD_SOURCE_MEMBERSHIP    ? TERN_MC_ADD_SOURCE
                                    : name == IP_DROP_SOURCE_MEMBERSHIP ? TERN_MC_DROP_SOURCE
                                    : name == IP_BLOCK_SOURCE           ? TERN_MC_BLOCK_SOURCE
                                                                        : TERN_MC_UNBLOCK_SOURCE;
        r = tern_sock_source(d->sk, op, ntohl(m.imr_multiaddr.s_addr),
                             ntohl(m.imr_sourceaddr.s_addr), ifindex);
        return r < 0 ? (r == TERN_E_NOSPC ? ENOBUFS : tern_errno(r)) : 0;
    }
    case IP_MULTICAST_IF:
        if (len < (socklen_t)sizeof(struct in_addr))
            return EINVAL;
        /* an in_addr, an ip_mreq (imr_interface) or an ip_mreqn (imr_address) */
        v = mreq_iface(s, val, len, len >= (socklen_t)sizeof(struct ip_mreq) ? 4 : 0);
        if (v == -2)
            return EADDRNOTAVAIL;
        r = tern_sock_setopt(d->sk, TERN_IP_MULTICAST_IF, v);
        break;
    case IP_MULTICAST_TTL:
    case IP_MULTICAST_LOOP:
        if ((e = int_or_byte(val, len, &v)) != 0)
            return e;
        r = tern_sock_setopt(d->sk, name == IP_MULTICAST_TTL ? TERN_IP_MULTICAST_TTL
                                                             : TERN_IP_MULTICAST_LOOP, v);
        break;
    default: /* IP_MULTICAST_ALL */
        if (len < (socklen_t)sizeof(int))
            return EINVAL;
        memcpy(&v, val, sizeof v);
        r = tern_sock_setopt(d->sk, TERN_IP_MULTICAST_ALL, v);
        break;
    }
    return r < 0 ? tern_errno(r) : 0;
}

static int mcast_getopt(struct pfd *d, int name, void *val, socklen_t *len)
{
    int v = 0;
    if (name != IP_MULTICAST_IF && name != IP_MULTICAST_TTL && name != IP_MULTICAST_LOOP &&
        name != IP_MULTICAST_ALL)
        return ENOPROTOOPT; /* the membership calls are set-only */
    enum tern_sockopt o = name == IP_MULTICAST_TTL    ? TERN_IP_MULTICAST_TTL
                          : name == IP_MULTICAST_LOOP ? TERN_IP_MULTICAST_LOOP
                          : name == IP_MULTICAST_ALL  ? TERN_IP_MULTICAST_ALL
                                                      : TERN_IP_MULTICAST_IF;
    int r = tern_sock_getopt(d->sk, o, &v);
    if (r < 0)
        return tern_errno(r);
    if (o == TERN_IP_MULTICAST_IF) { /* Linux: the interface's address */
        struct tern_iface_config c;
        struct in_addr a = {0};
        if (v >= 0 && tern_iface_get(d->rt->stack, v, &c) == 0)
            a.s_addr = htonl(c.addr);
        opt_out(val, len, &a, sizeof a);
    } else if (*len < (socklen_t)sizeof(int) && o != TERN_IP_MULTICAST_ALL) {
        unsigned char b = (unsigned char)v; /* Linux: one byte for a short buffer */
        opt_out(val, len, &b, 1);
    } else {
        opt_out(val, len, &v, sizeof v);
    }
    return 0;
}

static bool is_timeo(int level, int name)
{
    return level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO);
}

int tern_setsockopt(struct tern_runtime *rt, int fd, int level, int name, const void *val,
                    socklen_t len)
{
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    int e = 0;
    if (!val) {
        e = EFAULT;
    } else if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (len < (socklen_t)sizeof l) {
            e = EINVAL;
        } else {
            memcpy(&l, val, sizeof l);
            d->linger_on = l.l_onoff != 0;
            d->linger_s = l.l_linger < 0 ? 0 : l.l_linger;
        }
    } else if (is_mcast_opt(level, name)) {
        e = d->type == SOCK_DGRAM ? mcast_setopt(d, name, val, len) : ENOPROTOOPT;
    } else if (is_timeo(level, name)) {
        struct timeval tv;
        if (len < (socklen_t)sizeof tv) {
            e = EINVAL;
        } else {
            memcpy(&tv, val, sizeof tv);
            if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
                e = tv.tv_sec < 0 ? 0 : EDOM; /* Linux: negative = no timeout */
                tv.tv_sec = tv.tv_usec = 0;
            }
            uint64_t us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
            if (!e)
                *(name == SO_RCVTIMEO ? &d->rcvtimeo_us : &d->sndtimeo_us) = us;
        }
    } else {
        int opt = core_opt(level, name, d->type);
        int v;
        if (opt < 0)
            e = ENOPROTOOPT;
        else if (len < (socklen_t)sizeof(int))
            e = EINVAL;
        else {
            memcpy(&v, val, sizeof v);
            int r = tern_sock_setopt(d->sk, (enum tern_sockopt)opt, v);
            if (r < 0)
                e = tern_errno(r);
        }
    }
    px_leave(rt);
    return e ? px_fail(e) : 0;
}

/* Writes v (an int, or len bytes of a struct) to the caller's buffer,
 * truncated to *len as Linux does. */
static void opt_out(void *val, socklen_t *len, const void *v, size_t n)
{
    size_t m = *len < n ? *len : n;
    memcpy(val, v, m);
    *len = (socklen_t)m;
}

int tern_getsockopt(struct tern_runtime *rt, int fd, int level, int name, void *val,
                    socklen_t *len)
{
    if (!val || !len)
        return px_fail(EFAULT);
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    int e = 0, v = 0;
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l = {.l_onoff = d->linger_on, .l_linger = d->linger_s};
        opt_out(val, len, &l, sizeof l);
    } else if (is_mcast_opt(level, name)) {
        e = d->type == SOCK_DGRAM ? mcast_getopt(d, name, val, len) : ENOPROTOOPT;
    } else if (is_timeo(level, name)) {
        uint64_t us = name == SO_RCVTIMEO ? d->rcvtimeo_us : d->sndtimeo_us;
        struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
                             .tv_usec = (suseconds_t)(us % 1000000u)};
        opt_out(val, len, &tv, sizeof tv);
    } else if (level == SOL_SOCKET && (name == SO_ERROR || name == SO_TYPE)) {
        v = name == SO_TYPE ? d->type : tern_errno(tern_sock_error(d->sk));
        opt_out(val, len, &v, sizeof v);
    } else {
        int opt = core_opt(level, name, d->type);
        if (opt < 0) {
            e = ENOPROTOOPT;
        } else {
            int r = tern_sock_getopt(d->sk, (enum tern_sockopt)opt, &v);
            if (r < 0)
                e = tern_errno(r);
            else
                opt_out(val, len, &v, sizeof v);
        }
    }
    px_leave(rt);
    return e ? px_fail(e) : 0;
}

int tern_fcntl(struct tern_runtime *rt, int fd, int cmd, ...)
{
    int arg = 0;
    if (cmd == F_SETFL) {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
    }
    struct pfd *d = px_enter(rt, fd);
    if (!d)
        return -1;
    int r;
    if (cmd == F_GETFL) {
        r = O_RDWR | (d->nonblock ? O_NONBLOCK : 0);
    } else if (cmd == F_SETFL) {
        d->nonblock = (arg & O_NONBLOCK) != 0; /* other status flags: ignored, as Linux */
        r = 0;
    } else {
        px_leave(rt);
        return px_fail(EINVAL);
    }
    px_leave(rt);
    return r;
}
