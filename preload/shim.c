/*
 * preload/shim.c - libtern-preload.so: runs an unmodified, dynamically
 * linked program over a tern stack daemon (`tern run`, docs/run.md).
 *
 * The shim interposes libc's socket calls (found with dlsym(RTLD_NEXT)).
 * AF_INET SOCK_STREAM and SOCK_DGRAM sockets are created in the daemon
 * named by $TERN_CONTROL; every other descriptor goes to libc untouched.
 * A tern socket is a real descriptor in the process: the eventfd the
 * daemon passes, whose counter mirrors the socket's readiness, so poll,
 * select and epoll work unchanged with the kernel doing the waiting, and
 * dup, fork and the descriptor table behave. The shim maps descriptor ->
 * struct tsock (daemon socket id, shared page with the two rings).
 *
 * Locking: tab_mu guards the descriptor table; ctl_mu one request/response
 * on the control socket; each socket's rx_mu / tx_mu its ring's consumer /
 * producer side (one reader and one writer at a time, as the rings are
 * single-consumer / single-producer). A socket is kept alive by `uses`
 * while a call runs on it; close removes the descriptor at once.
 *
 * Only the interposed libc functions are exported (SHIM_API); the rest is
 * hidden (-fvisibility=hidden).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"

#define SHIM_API __attribute__((visibility("default")))

/* enum tern_sockopt values (tern/socket.h; the shim does not link libtern). */
enum {
    T_SO_REUSEADDR = 1, T_SO_BROADCAST, T_SO_RCVBUF, T_SO_SNDBUF, T_SO_KEEPALIVE,
    T_SO_BINDTOIFACE, T_SO_PRIVILEGED, T_IP_TTL, T_IP_TOS, T_TCP_NODELAY, T_TCP_MAXSEG,
    T_TCP_KEEPIDLE, T_TCP_KEEPINTVL, T_TCP_KEEPCNT
};

/* ---- libc's functions ---- */

#define REAL(name) real_##name
static int (*real_socket)(int, int, int);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_listen)(int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_shutdown)(int, int);
static int (*real_close)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fcntl)(int, int, ...);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int (*real_getpeername)(int, struct sockaddr *, socklen_t *);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
static ssize_t (*real_splice)(int, loff_t *, int, loff_t *, size_t, unsigned);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
static int (*real_getaddrinfo)(const char *, const char *, const struct addrinfo *,
                               struct addrinfo **);
static ssize_t (*real_read_chk)(int, void *, size_t, size_t);
static ssize_t (*real_recv_chk)(int, void *, size_t, size_t, int);
static ssize_t (*real_recvfrom_chk)(int, void *, size_t, size_t, int, struct sockaddr *,
                                    socklen_t *);

static void *sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

static void shim_atfork_child(void);

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool log_on;
static void init_real(void)
{
    real_socket = sym("socket");
    real_bind = sym("bind");
    real_listen = sym("listen");
    real_accept = sym("accept");
    real_accept4 = sym("accept4");
    real_connect = sym("connect");
    real_shutdown = sym("shutdown");
    real_close = sym("close");
    real_dup = sym("dup");
    real_dup2 = sym("dup2");
    real_dup3 = sym("dup3");
    real_fcntl = sym("fcntl");
    real_ioctl = sym("ioctl");
    real_getsockopt = sym("getsockopt");
    real_setsockopt = sym("setsockopt");
    real_getsockname = sym("getsockname");
    real_getpeername = sym("getpeername");
    real_read = sym("read");
    real_write = sym("write");
    real_readv = sym("readv");
    real_writev = sym("writev");
    real_recv = sym("recv");
    real_send = sym("send");
    real_recvfrom = sym("recvfrom");
    real_sendto = sym("sendto");
    real_recvmsg = sym("recvmsg");
    real_sendmsg = sym("sendmsg");
    real_sendfile = sym("sendfile");
    real_splice = sym("splice");
    real_poll = sym("poll");
    real_ppoll = sym("ppoll");
    real_getaddrinfo = sym("getaddrinfo");
    real_read_chk = sym("__read_chk");
    real_recv_chk = sym("__recv_chk");
    real_recvfrom_chk = sym("__recvfrom_chk");
    const char *l = getenv("TERN_PRELOAD_LOG");
    log_on = l && *l && strcmp(l, "0") != 0;
    pthread_atfork(NULL, NULL, shim_atfork_child);
}
static inline void ensure_init(void)
{
    pthread_once(&init_once, init_real);
}

__attribute__((constructor)) static void shim_ctor(void)
{
    ensure_init();
}

/* TERN_PRELOAD_LOG=1: one line per interposed call on a tern socket. */
__attribute__((format(printf, 1, 2))) static void shim_log(const char *fmt, ...)
{
    if (!log_on)
        return;
    char buf[256];
    int n = snprintf(buf, sizeof buf, "tern-preload[%d]: ", (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + ((size_t)m < sizeof buf - (size_t)n - 1 ? (size_t)m : sizeof buf - (size_t)n - 2);
    buf[len++] = '\n';
    (void)!real_write(2, buf, len);
}
#define LOGRET(r, fmt, ...)                                                                 \
    do {                                                                                    \
        if (log_on) {                                                                       \
            int e_ = errno;                                                                 \
            if ((r) < 0)                                                                    \
                shim_log(fmt " = -1 %s", __VA_ARGS__, strerror(e_));                        \
            else                                                                            \
                shim_log(fmt " = %ld", __VA_ARGS__, (long)(r));                             \
            errno = e_;                                                                     \
        }                                                                                   \
    } while (0)

/* ---- the control connection ---- */

static pthread_mutex_t ctl_mu = PTHREAD_MUTEX_INITIALIZER;
static int ctl_fd = -1;
static int ctl_state; /* 0 not tried, 1 attached, -1 not attached */

static int ctl_open(void)
{
    const char *path = getenv("TERN_CONTROL");
    if (!path || !*path)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    strcpy(sa.sun_path, path);
    int fd = real_socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (real_connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        real_close(fd);
        return -1;
    }
    /* Keep it out of the way of programs that expect low descriptors. */
    int hi = real_fcntl(fd, F_DUPFD_CLOEXEC, 1000);
    if (hi >= 0) {
        real_close(fd);
        fd = hi;
    }
    return fd;
}

static int rpc_locked(const struct ctl_req *q, const void *payload, struct ctl_resp *r, void *rpay,
                      size_t rcap, int *fds, int *nfds)
{
    struct iovec iov[2] = {{(void *)q, sizeof *q}, {(void *)payload, q->len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = q->len ? 2 : 1};
    ssize_t n;
    do
        n = real_sendmsg(ctl_fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    if ((q->op == CTL_OP_KICK && !q->a) || q->op == CTL_OP_CLOSE)
        return 0;
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } u;
    uint8_t in[sizeof(struct ctl_resp) + CTL_MAX_MSG];
    struct iovec riov = {in, sizeof in};
    struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    do
        n = real_recvmsg(ctl_fd, &rm, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < (ssize_t)sizeof *r)
        return -1;
    memcpy(r, in, sizeof *r);
    if (rpay && r->len)
        memcpy(rpay, in + sizeof *r, r->len < rcap ? r->len : rcap);
    int got = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&rm); cm; cm = CMSG_NXTHDR(&rm, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + (size_t)i * sizeof(int), sizeof fd);
                if (fds && got < 2)
                    fds[got++] = fd;
                else
                    real_close(fd);
            }
        }
    if (nfds)
        *nfds = got;
    return 0;
}

/* Whether this process is attached to a daemon (connects on first use). */
static bool attached(void)
{
    ensure_init();
    pthread_mutex_lock(&ctl_mu);
    if (ctl_state == 0) {
        ctl_fd = ctl_open();
        ctl_state = -1;
        if (ctl_fd >= 0) {
            struct ctl_req q = {.magic = CTL_MAGIC, .op = CTL_OP_HELLO, .a = CTL_VERSION};
            struct ctl_resp r;
            if (rpc_locked(&q, NULL, &r, NULL, 0, NULL, NULL) == 0 && r.ret == 0) {
                ctl_state = 1;
            } else {
                real_close(ctl_fd);
                ctl_fd = -1;
            }
        }
        if (ctl_state < 0 && getenv("TERN_CONTROL"))
            shim_log("cannot attach to %s: sockets go to the kernel", getenv("TERN_CONTROL"));
    }
    bool ok = ctl_state == 1;
    pthread_mutex_unlock(&ctl_mu);
    return ok;
}

/* One request; r->ret is the daemon's answer. -1 + EIO if the daemon is gone. */
static int rpc(struct ctl_req *q, struct ctl_resp *r, int *fds, int *nfds)
{
    q->magic = CTL_MAGIC;
    pthread_mutex_lock(&ctl_mu);
    int rc = ctl_fd >= 0 ? rpc_locked(q, NULL, r, NULL, 0, fds, nfds) : -1;
    pthread_mutex_unlock(&ctl_mu);
    if (rc < 0) {
        r->ret = -EIO;
        return -1;
    }
    return 0;
}

/* ---- the descriptor table ---- */

struct tsock {
    uint32_t id;
    int type;              /* SOCK_STREAM or SOCK_DGRAM */
    _Atomic int uses;      /* calls in progress + 1 while any descriptor refers to it */
    int nfds;              /* descriptors referring to it (tab_mu) */
    struct ctl_shm *shm;
    _Atomic bool nonblock; /* O_NONBLOCK: shared by dups, as the open file's flag */
    bool udp_connected;
    uint64_t rcvtimeo_ms, sndtimeo_ms;
    pthread_mutex_t rx_mu, tx_mu;
};

static pthread_mutex_t tab_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tsock **tab;
static int tabcap;

static struct tsock *ts_get(int fd)
{
    if (fd < 0)
        return NULL;
    pthread_mutex_lock(&tab_mu);
    struct tsock *t = fd < tabcap ? tab[fd] : NULL;
    if (t)
        atomic_fetch_add(&t->uses, 1);
    pthread_mutex_unlock(&tab_mu);
    return t;
}

static void ts_put(struct tsock *t)
{
    if (atomic_fetch_sub(&t->uses, 1) != 1)
        return;
    munmap(t->shm, CTL_SHM_SIZE);
    pthread_mutex_destroy(&t->rx_mu);
    pthread_mutex_destroy(&t->tx_mu);
    free(t);
}

/* tab_mu held: fd now refers to t. */
static int tab_set_locked(int fd, struct tsock *t)
{
    if (fd >= tabcap) {
        int n = tabcap ? tabcap : 256;
        while (n <= fd)
            n *= 2;
        struct tsock **p = realloc(tab, (size_t)n * sizeof *p);
        if (!p)
            return -1;
        memset(p + tabcap, 0, (size_t)(n - tabcap) * sizeof *p);
        tab = p;
        tabcap = n;
    }
    tab[fd] = t;
    t->nfds++;
    return 0;
}

/* tab_mu held: fd no longer refers to its socket; returns the socket whose
 * last descriptor this was (to close in the daemon), else NULL. */
static struct tsock *tab_clear_locked(int fd)
{
    if (fd < 0 || fd >= tabcap || !tab[fd])
        return NULL;
    struct tsock *t = tab[fd];
    tab[fd] = NULL;
    return --t->nfds == 0 ? t : NULL;
}

static void ts_close_daemon(struct tsock *t)
{
    struct ctl_req q = {.op = CTL_OP_CLOSE, .id = t->id};
    struct ctl_resp r;
    rpc(&q, &r, NULL, NULL);
    ts_put(t);
}

/* A socket from the daemon's fds [memfd, eventfd]: the eventfd becomes
 * the program's descriptor. */
static int ts_adopt(uint32_t id, int type, const int *fds, int nfds, int flags)
{
    if (nfds != 2) {
        for (int i = 0; i < nfds; i++)
            real_close(fds[i]);
        errno = EIO;
        return -1;
    }
    struct tsock *t = calloc(1, sizeof *t);
    void *m = mmap(NULL, CTL_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
    real_close(fds[0]);
    if (!t || m == MAP_FAILED) {
        free(t);
        if (m != MAP_FAILED)
            munmap(m, CTL_SHM_SIZE);
        real_close(fds[1]);
        struct ctl_req q = {.op = CTL_OP_CLOSE, .id = id};
        struct ctl_resp r;
        rpc(&q, &r, NULL, NULL);
        errno = ENOMEM;
        return -1;
    }
    t->id = id;
    t->type = type;
    t->shm = m;
    t->uses = 1;
    t->nonblock = (flags & SOCK_NONBLOCK) != 0;
    pthread_mutex_init(&t->rx_mu, NULL);
    pthread_mutex_init(&t->tx_mu, NULL);
    int fd = fds[1];
    if (!(flags & SOCK_CLOEXEC))
        real_fcntl(fd, F_SETFD, 0); /* arrived with MSG_CMSG_CLOEXEC */
    pthread_mutex_lock(&tab_mu);
    int rc = tab_set_locked(fd, t);
    pthread_mutex_unlock(&tab_mu);
    if (rc < 0) {
        real_close(fd);
        ts_close_daemon(t);
        errno = ENOMEM;
        return -1;
    }
    return fd;
}

/* fork: the child gets its own control connection and takes a reference
 * on every socket it inherited (they belong to the daemon, not to one
 * process). Runs in the child, single-threaded. */
static void shim_atfork_child(void)
{
    pthread_mutex_init(&ctl_mu, NULL);
    pthread_mutex_init(&tab_mu, NULL);
    if (ctl_state != 1)
        return;
    int old = ctl_fd;
    ctl_fd = ctl_open();
    real_close(old);
    if (ctl_fd < 0) {
        ctl_state = -1;
        return;
    }
    struct ctl_req q = {.magic = CTL_MAGIC, .op = CTL_OP_HELLO, .a = CTL_VERSION};
    struct ctl_resp r;
    rpc_locked(&q, NULL, &r, NULL, 0, NULL, NULL);
    for (int fd = 0; fd < tabcap; fd++) {
        struct tsock *t = tab[fd];
        if (!t)
            continue;
        pthread_mutex_init(&t->rx_mu, NULL);
        pthread_mutex_init(&t->tx_mu, NULL);
        bool first = true; /* one reference per socket, however many fds */
        for (int k = 0; k < fd; k++)
            if (tab[k] == t)
                first = false;
        if (!first)
            continue;
        struct ctl_req a = {.magic = CTL_MAGIC, .op = CTL_OP_ADOPT, .id = t->id};
        rpc_locked(&a, NULL, &r, NULL, 0, NULL, NULL);
    }
}

/* ---- waiting and kicking ---- */

static void kick(struct tsock *t, uint32_t bit)
{
    if (!(atomic_fetch_and(&t->shm->want, ~bit) & bit))
        return;
    struct ctl_req q = {.op = CTL_OP_KICK, .id = t->id};
    struct ctl_resp r;
    rpc(&q, &r, NULL, NULL);
}

/* The program read the rx ring empty while the eventfd may still show it
 * readable, or filled the tx ring while it may show it writable: wait for
 * the daemon to set the mirror right, so that a select or epoll right
 * after this call sees the truth (one round trip per empty/full ring). */
static void kick_sync(struct tsock *t, uint32_t bit)
{
    atomic_fetch_and(&t->shm->want, ~bit);
    struct ctl_req q = {.op = CTL_OP_KICK, .id = t->id, .a = 1};
    struct ctl_resp r;
    rpc(&q, &r, NULL, NULL);
}

/* Sleeps until the daemon bumps seq past `seen`, up to the deadline
 * (ms since the epoch of CLOCK_MONOTONIC, 0 = none). 0, or -1 + EAGAIN
 * (deadline passed) / EIO (daemon gone). */
static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
static int ts_wait(struct tsock *t, uint32_t seen, uint64_t deadline)
{
    struct timespec ts = {0, 200 * 1000000}; /* re-check the daemon 5 times a second */
    if (deadline) {
        uint64_t now = now_ms();
        if (now >= deadline) {
            errno = EAGAIN;
            return -1;
        }
        if (deadline - now < 200)
            ts.tv_nsec = (long)(deadline - now) * 1000000;
    }
    atomic_fetch_add(&t->shm->waiters, 1);
    long rc = syscall(SYS_futex, (uint32_t *)&t->shm->seq, FUTEX_WAIT, seen, &ts, NULL, 0);
    atomic_fetch_sub(&t->shm->waiters, 1);
    if (rc < 0 && errno == ETIMEDOUT) {
        struct pollfd p = {ctl_fd, 0, 0};
        if (real_poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR))) {
            errno = EIO;
            return -1;
        }
    }
    return 0;
}
static uint64_t deadline_of(uint64_t timeo_ms)
{
    return timeo_ms ? now_ms() + timeo_ms : 0;
}

/* ---- data ---- */

static void sigpipe(int flags)
{
    if (!(flags & MSG_NOSIGNAL))
        raise(SIGPIPE);
}

static ssize_t ts_send(struct tsock *t, const void *buf, size_t len, int flags,
                       const struct sockaddr *to, socklen_t tolen)
{
    struct ctl_shm *s = t->shm;
    bool nb = t->nonblock || (flags & MSG_DONTWAIT);
    uint64_t dl = nb ? 0 : deadline_of(t->sndtimeo_ms);
    if (t->type == SOCK_DGRAM) {
        struct ctl_dgram h = {.len = (uint32_t)len};
        if (to) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)to;
            if (tolen < sizeof *sin || sin->sin_family != AF_INET) {
                errno = tolen < sizeof *sin ? EINVAL : EAFNOSUPPORT;
                return -1;
            }
            h.addr = ntohl(sin->sin_addr.s_addr);
            h.port = ntohs(sin->sin_port);
            if (!h.port) {
                errno = EINVAL;
                return -1;
            }
        } else if (!t->udp_connected) {
            errno = EDESTADDRREQ;
            return -1;
        }
        if (len > 65507) {
            errno = EMSGSIZE;
            return -1;
        }
        int e = atomic_exchange(&s->err, 0);
        if (e) {
            errno = e;
            return -1;
        }
        pthread_mutex_lock(&t->tx_mu);
        for (;;) {
            uint32_t seq = atomic_load(&s->seq);
            if (ctl_ring_put_dgram(s, &s->tx, &h, buf))
                break;
            if (nb || ts_wait(t, seq, dl) < 0) {
                pthread_mutex_unlock(&t->tx_mu);
                if (nb)
                    errno = EAGAIN;
                return -1;
            }
        }
        pthread_mutex_unlock(&t->tx_mu);
        kick(t, CTL_WANT_TX);
        return (ssize_t)len;
    }
    if (to && t->type == SOCK_STREAM && atomic_load(&s->state) != CTL_ST_CONNECTED) {
        errno = ENOTCONN; /* TCP Fast Open style sendto is not supported */
        return -1;
    }
    size_t done = 0;
    pthread_mutex_lock(&t->tx_mu);
    for (;;) {
        uint32_t seq = atomic_load(&s->seq);
        uint32_t st = atomic_load(&s->state);
        if (atomic_load(&s->flags) & CTL_F_WR_SHUT) {
            pthread_mutex_unlock(&t->tx_mu);
            sigpipe(flags);
            errno = EPIPE;
            return -1;
        }
        if (st == CTL_ST_CLOSED || st == CTL_ST_NEW || st == CTL_ST_LISTEN) {
            pthread_mutex_unlock(&t->tx_mu);
            if (done)
                return (ssize_t)done;
            int e = atomic_exchange(&s->err, 0);
            if (st == CTL_ST_CLOSED && !e)
                e = EPIPE;
            if (!e)
                e = ENOTCONN;
            if (e == EPIPE)
                sigpipe(flags);
            errno = e;
            return -1;
        }
        if (st == CTL_ST_CONNECTED && done < len) {
            uint32_t n = ctl_ring_write(s, &s->tx, (const uint8_t *)buf + done,
                                        len - done > UINT32_MAX ? UINT32_MAX : (uint32_t)(len - done));
            done += n;
            if (n && ctl_ring_free(&s->tx) == 0)
                kick_sync(t, CTL_WANT_TX);
            else if (n)
                kick(t, CTL_WANT_TX);
        }
        if (done == len)
            break;
        if (nb) {
            if (done)
                break;
            pthread_mutex_unlock(&t->tx_mu);
            errno = EAGAIN;
            return -1;
        }
        if (ts_wait(t, seq, dl) < 0) {
            pthread_mutex_unlock(&t->tx_mu);
            if (done)
                return (ssize_t)done;
            return -1;
        }
    }
    pthread_mutex_unlock(&t->tx_mu);
    return (ssize_t)done;
}

static ssize_t ts_recv(struct tsock *t, void *buf, size_t len, int flags, struct sockaddr *from,
                       socklen_t *fromlen, int *out_flags)
{
    struct ctl_shm *s = t->shm;
    bool nb = t->nonblock || (flags & MSG_DONTWAIT);
    bool peek = (flags & MSG_PEEK) != 0;
    uint64_t dl = nb ? 0 : deadline_of(t->rcvtimeo_ms);
    if (out_flags)
        *out_flags = 0;
    pthread_mutex_lock(&t->rx_mu);
    if (t->type == SOCK_DGRAM) {
        for (;;) {
            uint32_t seq = atomic_load(&s->seq);
            struct ctl_dgram h;
            if (ctl_ring_peek_dgram(s, &s->rx, &h)) {
                uint32_t n = ctl_ring_take_dgram(s, &s->rx, &h, buf,
                                                 len > UINT32_MAX ? UINT32_MAX : (uint32_t)len, peek);
                bool empty = !peek && ctl_ring_used(&s->rx) == 0;
                pthread_mutex_unlock(&t->rx_mu);
                if (empty && (atomic_load(&s->want) & CTL_WANT_RX))
                    kick_sync(t, CTL_WANT_RX);
                if (from && fromlen) {
                    struct sockaddr_in sin = {.sin_family = AF_INET,
                                              .sin_port = htons(h.port),
                                              .sin_addr.s_addr = htonl(h.addr)};
                    memcpy(from, &sin, *fromlen < sizeof sin ? *fromlen : sizeof sin);
                    *fromlen = sizeof sin;
                }
                if (h.len > n && out_flags)
                    *out_flags |= MSG_TRUNC;
                return (flags & MSG_TRUNC) ? (ssize_t)h.len : (ssize_t)n;
            }
            int e = atomic_exchange(&s->err, 0);
            if (e || nb || ts_wait(t, seq, dl) < 0) {
                pthread_mutex_unlock(&t->rx_mu);
                if (e)
                    errno = e;
                else if (nb)
                    errno = EAGAIN;
                return -1;
            }
        }
    }
    size_t done = 0;
    for (;;) {
        uint32_t seq = atomic_load(&s->seq);
        uint32_t fl = atomic_load(&s->flags); /* before the ring: EOF follows the data */
        uint32_t st = atomic_load(&s->state);
        if (st == CTL_ST_NEW || st == CTL_ST_LISTEN) {
            pthread_mutex_unlock(&t->rx_mu);
            errno = ENOTCONN;
            return -1;
        }
        uint32_t n = ctl_ring_read(s, &s->rx, (uint8_t *)buf + done,
                                   len - done > UINT32_MAX ? UINT32_MAX : (uint32_t)(len - done),
                                   peek);
        done += n;
        /* Kick when the ring is left empty (the daemon then clears the
         * eventfd's readable state) or half free (it may have stopped on a
         * full ring). */
        if (n && !peek && ctl_ring_used(&s->rx) == 0 &&
            !(atomic_load(&s->flags) & CTL_F_RX_EOF) && (atomic_load(&s->want) & CTL_WANT_RX))
            kick_sync(t, CTL_WANT_RX);
        else if (n && !peek && ctl_ring_free(&s->rx) >= s->rx.size / 2)
            kick(t, CTL_WANT_RX);
        if (done == len || (done && !(flags & MSG_WAITALL)) || (done && peek))
            break;
        if ((fl & (CTL_F_RX_EOF | CTL_F_RD_SHUT)) || len == 0)
            break;
        int e = st == CTL_ST_CLOSED ? atomic_exchange(&s->err, 0) : 0;
        if (st == CTL_ST_CLOSED) {
            if (!done && e) {
                pthread_mutex_unlock(&t->rx_mu);
                errno = e;
                return -1;
            }
            break;
        }
        if (nb) {
            if (done)
                break;
            pthread_mutex_unlock(&t->rx_mu);
            errno = EAGAIN;
            return -1;
        }
        if (ts_wait(t, seq, dl) < 0) {
            pthread_mutex_unlock(&t->rx_mu);
            if (done)
                return (ssize_t)done;
            return -1;
        }
    }
    pthread_mutex_unlock(&t->rx_mu);
    if (from && fromlen) {
        struct ctl_req q = {.op = CTL_OP_GETNAME, .id = t->id, .a = 1};
        struct ctl_resp r;
        rpc(&q, &r, NULL, NULL);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(r.port),
                                  .sin_addr.s_addr = htonl(r.addr)};
        memcpy(from, &sin, *fromlen < sizeof sin ? *fromlen : sizeof sin);
        *fromlen = sizeof sin;
    }
    return (ssize_t)done;
}

/* ---- addresses ---- */

static int addr_in(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port)
{
    if (!sa || len < sizeof(sa_family_t)) {
        errno = EINVAL;
        return -1;
    }
    if (sa->sa_family != AF_INET) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    if (len < sizeof(struct sockaddr_in)) {
        errno = EINVAL;
        return -1;
    }
    const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
    *addr = ntohl(sin->sin_addr.s_addr);
    *port = ntohs(sin->sin_port);
    return 0;
}

static void addr_out(uint32_t addr, uint16_t port, struct sockaddr *sa, socklen_t *len)
{
    if (!sa || !len)
        return;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(addr)};
    memcpy(sa, &sin, *len < sizeof sin ? *len : sizeof sin);
    *len = sizeof sin;
}

static int ret_err(int e)
{
    errno = e;
    return -1;
}
static int ret_rpc(const struct ctl_resp *r)
{
    if (r->ret < 0)
        return ret_err(-r->ret);
    return 0;
}

/* ---- the interposed calls ---- */

SHIM_API int socket(int domain, int type, int protocol)
{
    ensure_init();
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if ((domain != AF_INET && domain != AF_INET6) || !attached())
        return real_socket(domain, type, protocol);
    if (domain == AF_INET6) {
        shim_log("socket(AF_INET6) refused: EAFNOSUPPORT (tern speaks IPv4)");
        return ret_err(EAFNOSUPPORT);
    }
    if ((base != SOCK_STREAM && base != SOCK_DGRAM) ||
        (base == SOCK_STREAM && protocol && protocol != IPPROTO_TCP) ||
        (base == SOCK_DGRAM && protocol && protocol != IPPROTO_UDP)) {
        shim_log("socket(AF_INET, %d, %d) refused: EPROTONOSUPPORT", base, protocol);
        return ret_err(EPROTONOSUPPORT);
    }
    struct ctl_req q = {.op = CTL_OP_SOCKET, .a = base == SOCK_STREAM ? 2 : 1};
    struct ctl_resp r;
    int fds[2], nfds = 0;
    int fd;
    if (rpc(&q, &r, fds, &nfds) < 0 || r.ret < 0)
        fd = ret_rpc(&r);
    else
        fd = ts_adopt(r.id, base, fds, nfds, type);
    LOGRET(fd, "socket(AF_INET, %s) id %u", base == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_DGRAM",
           r.id);
    return fd;
}

SHIM_API int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_bind(fd, sa, len);
    struct ctl_req q = {.op = CTL_OP_BIND, .id = t->id};
    struct ctl_resp r;
    int rc = addr_in(sa, len, &q.addr, &q.port);
    if (rc == 0)
        rc = rpc(&q, &r, NULL, NULL) < 0 ? ret_err(EIO) : ret_rpc(&r);
    LOGRET(rc, "bind(%d, port %u)", fd, q.port);
    ts_put(t);
    return rc;
}

SHIM_API int listen(int fd, int backlog)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_listen(fd, backlog);
    struct ctl_req q = {.op = CTL_OP_LISTEN, .id = t->id, .a = backlog};
    struct ctl_resp r;
    int rc = t->type != SOCK_STREAM ? ret_err(EOPNOTSUPP)
             : rpc(&q, &r, NULL, NULL) < 0 ? ret_err(EIO) : ret_rpc(&r);
    LOGRET(rc, "listen(%d, %d)", fd, backlog);
    ts_put(t);
    return rc;
}

static int do_accept(struct tsock *t, struct sockaddr *sa, socklen_t *len, int flags)
{
    if (t->type != SOCK_STREAM || atomic_load(&t->shm->state) != CTL_ST_LISTEN)
        return ret_err(t->type != SOCK_STREAM ? EOPNOTSUPP : EINVAL);
    uint64_t dl = deadline_of(t->rcvtimeo_ms);
    for (;;) {
        uint32_t seq = atomic_load(&t->shm->seq);
        struct ctl_req q = {.op = CTL_OP_ACCEPT, .id = t->id};
        struct ctl_resp r;
        int fds[2], nfds = 0;
        if (rpc(&q, &r, fds, &nfds) < 0)
            return ret_err(EIO);
        if (r.ret == 0) {
            int nfd = ts_adopt(r.id, SOCK_STREAM, fds, nfds, flags);
            if (nfd >= 0)
                addr_out(r.addr, r.port, sa, len);
            return nfd;
        }
        if (r.ret != -EAGAIN || t->nonblock)
            return ret_err(-r.ret);
        if (ts_wait(t, seq, dl) < 0)
            return -1;
    }
}

SHIM_API int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_accept4(fd, sa, len, flags);
    int rc = do_accept(t, sa, len, flags);
    LOGRET(rc, "accept4(%d)", fd);
    ts_put(t);
    return rc;
}

SHIM_API int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_accept(fd, sa, len);
    int rc = do_accept(t, sa, len, 0);
    LOGRET(rc, "accept(%d)", fd);
    ts_put(t);
    return rc;
}

static int do_connect(struct tsock *t, const struct sockaddr *sa, socklen_t len)
{
    struct ctl_req q = {.op = CTL_OP_CONNECT, .id = t->id};
    struct ctl_resp r;
    if (sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC && t->type == SOCK_DGRAM) {
        q.a = 1; /* dissolve the association */
    } else if (addr_in(sa, len, &q.addr, &q.port) < 0) {
        return -1;
    }
    if (rpc(&q, &r, NULL, NULL) < 0)
        return ret_err(EIO);
    if (t->type == SOCK_DGRAM) {
        if (r.ret == 0)
            t->udp_connected = q.a == 0;
        return ret_rpc(&r);
    }
    if (r.ret != -EINPROGRESS)
        return ret_rpc(&r);
    if (t->nonblock)
        return ret_err(EINPROGRESS);
    struct ctl_shm *s = t->shm;
    uint64_t dl = deadline_of(t->sndtimeo_ms);
    for (;;) {
        uint32_t seq = atomic_load(&s->seq);
        uint32_t st = atomic_load(&s->state);
        if (st == CTL_ST_CONNECTED)
            return 0;
        if (st != CTL_ST_CONNECTING) {
            int e = atomic_exchange(&s->err, 0);
            return ret_err(e ? e : ECONNREFUSED);
        }
        if (ts_wait(t, seq, dl) < 0)
            return errno == EAGAIN ? ret_err(EINPROGRESS) : -1;
    }
}

SHIM_API int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_connect(fd, sa, len);
    int rc = do_connect(t, sa, len);
    if (log_on && sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        uint32_t a = ntohl(sin->sin_addr.s_addr);
        LOGRET(rc, "connect(%d, %u.%u.%u.%u:%u)", fd, a >> 24, (a >> 16) & 255, (a >> 8) & 255,
               a & 255, ntohs(sin->sin_port));
    }
    ts_put(t);
    return rc;
}

SHIM_API int shutdown(int fd, int how)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_shutdown(fd, how);
    struct ctl_req q = {.op = CTL_OP_SHUTDOWN, .id = t->id, .a = how};
    struct ctl_resp r;
    int rc = (how < SHUT_RD || how > SHUT_RDWR) ? ret_err(EINVAL)
             : rpc(&q, &r, NULL, NULL) < 0     ? ret_err(EIO)
                                               : ret_rpc(&r);
    LOGRET(rc, "shutdown(%d, %d)", fd, how);
    ts_put(t);
    return rc;
}

SHIM_API int close(int fd)
{
    ensure_init();
    if (fd >= 0 && fd == ctl_fd)
        return 0; /* the control connection is the shim's, not the program's */
    pthread_mutex_lock(&tab_mu);
    bool tern = fd >= 0 && fd < tabcap && tab[fd];
    struct tsock *last = tab_clear_locked(fd);
    pthread_mutex_unlock(&tab_mu);
    int rc = real_close(fd);
    if (last)
        ts_close_daemon(last);
    if (tern)
        LOGRET(rc, "close(%d)%s", fd, last ? " (last descriptor)" : "");
    return rc;
}

/* newfd (from libc's dup*) refers to oldfd's socket too. */
static int dup_track(int oldfd, int newfd)
{
    if (newfd < 0)
        return newfd;
    pthread_mutex_lock(&tab_mu);
    struct tsock *t = oldfd < tabcap ? tab[oldfd] : NULL;
    struct tsock *last = NULL;
    if (newfd != oldfd) {
        last = tab_clear_locked(newfd); /* dup2 onto a tern socket closed it */
        if (t && tab_set_locked(newfd, t) < 0) {
            pthread_mutex_unlock(&tab_mu);
            real_close(newfd);
            if (last)
                ts_close_daemon(last);
            return ret_err(EMFILE);
        }
    }
    pthread_mutex_unlock(&tab_mu);
    if (last)
        ts_close_daemon(last);
    if (t)
        shim_log("dup(%d) -> %d", oldfd, newfd);
    return newfd;
}

SHIM_API int dup(int fd)
{
    ensure_init();
    return dup_track(fd, real_dup(fd));
}

/* The program wants the control connection's descriptor number: the
 * connection moves out of its way. */
static void ctl_move_from(int fd)
{
    pthread_mutex_lock(&ctl_mu);
    if (ctl_fd >= 0 && ctl_fd == fd) {
        int n = real_fcntl(ctl_fd, F_DUPFD_CLOEXEC, ctl_fd + 1);
        if (n >= 0) {
            real_close(ctl_fd);
            ctl_fd = n;
        }
    }
    pthread_mutex_unlock(&ctl_mu);
}

SHIM_API int dup2(int oldfd, int newfd)
{
    ensure_init();
    ctl_move_from(newfd);
    return dup_track(oldfd, real_dup2(oldfd, newfd));
}

SHIM_API int dup3(int oldfd, int newfd, int flags)
{
    ensure_init();
    ctl_move_from(newfd);
    return dup_track(oldfd, real_dup3(oldfd, newfd, flags));
}

static int do_fcntl(int fd, int cmd, void *argp, long argl)
{
    struct tsock *t = ts_get(fd);
    if (!t) {
        switch (cmd) {
        case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: case F_GETLEASE:
        case F_GETPIPE_SZ: case F_GET_SEALS:
            return real_fcntl(fd, cmd);
        case F_DUPFD: case F_DUPFD_CLOEXEC:
            return real_fcntl(fd, cmd, (int)argl);
        case F_SETFD: case F_SETFL: case F_SETOWN: case F_SETSIG: case F_SETLEASE:
        case F_NOTIFY: case F_SETPIPE_SZ: case F_ADD_SEALS:
            return real_fcntl(fd, cmd, (int)argl);
        default:
            return real_fcntl(fd, cmd, argp);
        }
    }
    int rc;
    switch (cmd) {
    case F_GETFL:
        rc = O_RDWR | (t->nonblock ? O_NONBLOCK : 0);
        break;
    case F_SETFL:
        t->nonblock = (argl & O_NONBLOCK) != 0;
        rc = 0;
        break;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        rc = dup_track(fd, real_fcntl(fd, cmd, (int)argl));
        break;
    case F_GETFD:
        rc = real_fcntl(fd, cmd);
        break;
    case F_SETFD:
        rc = real_fcntl(fd, cmd, (int)argl);
        break;
    default:
        rc = ret_err(EINVAL);
        break;
    }
    LOGRET(rc, "fcntl(%d, %d, %ld)", fd, cmd, argl);
    ts_put(t);
    return rc;
}

SHIM_API int fcntl(int fd, int cmd, ...)
{
    ensure_init();
    va_list ap;
    va_start(ap, cmd);
    void *argp = va_arg(ap, void *); /* every argument fits a pointer on LP64 */
    va_end(ap);
    return do_fcntl(fd, cmd, argp, (long)(intptr_t)argp);
}

SHIM_API int fcntl64(int fd, int cmd, ...);
SHIM_API int fcntl64(int fd, int cmd, ...)
{
    ensure_init();
    va_list ap;
    va_start(ap, cmd);
    void *argp = va_arg(ap, void *);
    va_end(ap);
    return do_fcntl(fd, cmd, argp, (long)(intptr_t)argp);
}

SHIM_API int ioctl(int fd, unsigned long req, ...)
{
    ensure_init();
    va_list ap;
    va_start(ap, req);
    void *argp = va_arg(ap, void *);
    va_end(ap);
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_ioctl(fd, req, argp);
    int rc;
    if (req == FIONREAD) {
        struct ctl_dgram h;
        int v = t->type == SOCK_DGRAM ? (ctl_ring_peek_dgram(t->shm, &t->shm->rx, &h) ? (int)h.len : 0)
                                      : (int)ctl_ring_used(&t->shm->rx);
        memcpy(argp, &v, sizeof v); /* the caller's int may be unaligned (python's bytes) */
        rc = 0;
    } else if (req == FIONBIO) {
        int v;
        memcpy(&v, argp, sizeof v);
        t->nonblock = v != 0;
        rc = 0;
    } else if (req == FIOCLEX || req == FIONCLEX) {
        rc = real_ioctl(fd, req, argp);
    } else {
        rc = ret_err(ENOTTY);
    }
    LOGRET(rc, "ioctl(%d, %#lx)", fd, req);
    ts_put(t);
    return rc;
}

/* Socket options: (level, name) -> enum tern_sockopt, 0 = not tern's. */
static int opt_map(int level, int name)
{
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR: return T_SO_REUSEADDR;
        case SO_BROADCAST: return T_SO_BROADCAST;
        case SO_RCVBUF: return T_SO_RCVBUF;
        case SO_SNDBUF: return T_SO_SNDBUF;
        case SO_KEEPALIVE: return T_SO_KEEPALIVE;
        }
    } else if (level == IPPROTO_IP) {
        switch (name) {
        case IP_TTL: return T_IP_TTL;
        case IP_TOS: return T_IP_TOS;
        }
    } else if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY: return T_TCP_NODELAY;
        case TCP_MAXSEG: return T_TCP_MAXSEG;
        case TCP_KEEPIDLE: return T_TCP_KEEPIDLE;
        case TCP_KEEPINTVL: return T_TCP_KEEPINTVL;
        case TCP_KEEPCNT: return T_TCP_KEEPCNT;
        }
    }
    return 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
    if (!val || !len || *len < sizeof(int))
        return ret_err(EINVAL);
    memcpy(val, &v, sizeof v);
    *len = sizeof v;
    return 0;
}

static int timeo_get(uint64_t ms, void *val, socklen_t *len)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    if (!val || !len || *len < sizeof tv)
        return ret_err(EINVAL);
    memcpy(val, &tv, sizeof tv);
    *len = sizeof tv;
    return 0;
}

SHIM_API int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_getsockopt(fd, level, name, val, len);
    int rc;
    struct ctl_resp r;
    int o = opt_map(level, name);
    if (level == SOL_SOCKET && name == SO_ERROR) {
        struct ctl_req q = {.op = CTL_OP_GETOPT, .id = t->id, .a = 0};
        rc = rpc(&q, &r, NULL, NULL) < 0 ? ret_err(EIO) : put_int(val, len, (int)r.val);
    } else if (level == SOL_SOCKET && name == SO_TYPE) {
        rc = put_int(val, len, t->type);
    } else if (level == SOL_SOCKET && name == SO_DOMAIN) {
        rc = put_int(val, len, AF_INET);
    } else if (level == SOL_SOCKET && name == SO_PROTOCOL) {
        rc = put_int(val, len, t->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
    } else if (level == SOL_SOCKET && name == SO_ACCEPTCONN) {
        rc = put_int(val, len, atomic_load(&t->shm->state) == CTL_ST_LISTEN);
    } else if (level == SOL_SOCKET && name == SO_RCVTIMEO) {
        rc = timeo_get(t->rcvtimeo_ms, val, len);
    } else if (level == SOL_SOCKET && name == SO_SNDTIMEO) {
        rc = timeo_get(t->sndtimeo_ms, val, len);
    } else if (o) {
        struct ctl_req q = {.op = CTL_OP_GETOPT, .id = t->id, .a = o};
        rc = rpc(&q, &r, NULL, NULL) < 0 ? ret_err(EIO)
             : r.ret < 0                 ? ret_rpc(&r)
                                         : put_int(val, len, (int)r.val);
    } else {
        rc = ret_err(ENOPROTOOPT);
    }
    LOGRET(rc, "getsockopt(%d, %d, %d)", fd, level, name);
    ts_put(t);
    return rc;
}

SHIM_API int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_setsockopt(fd, level, name, val, len);
    int rc;
    int o = opt_map(level, name);
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        struct timeval tv;
        if (!val || len < sizeof tv) {
            rc = ret_err(EINVAL);
        } else {
            memcpy(&tv, val, sizeof tv);
            uint64_t ms = (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
            if (!ms && tv.tv_usec)
                ms = 1;
            if (name == SO_RCVTIMEO)
                t->rcvtimeo_ms = ms;
            else
                t->sndtimeo_ms = ms;
            rc = 0;
        }
    } else if (o) {
        int v = 0;
        if (!val || len < 1) {
            rc = ret_err(EINVAL);
        } else {
            if (len >= sizeof v)
                memcpy(&v, val, sizeof v);
            else
                v = *(const unsigned char *)val;
            struct ctl_req q = {.op = CTL_OP_SETOPT, .id = t->id, .a = o, .b = v};
            struct ctl_resp r;
            rc = rpc(&q, &r, NULL, NULL) < 0 ? ret_err(EIO) : ret_rpc(&r);
        }
    } else {
        /* Options tern has no equivalent for (SO_REUSEPORT, SO_LINGER,
         * TCP_QUICKACK, IP_RECVERR, ...) are accepted and ignored. */
        shim_log("setsockopt(%d, %d, %d) ignored: tern has no such option", fd, level, name);
        rc = 0;
    }
    LOGRET(rc, "setsockopt(%d, %d, %d)", fd, level, name);
    ts_put(t);
    return rc;
}

static int do_getname(int fd, struct sockaddr *sa, socklen_t *len, int peer)
{
    struct tsock *t = ts_get(fd);
    if (!t)
        return peer ? real_getpeername(fd, sa, len) : real_getsockname(fd, sa, len);
    struct ctl_req q = {.op = CTL_OP_GETNAME, .id = t->id, .a = peer};
    struct ctl_resp r;
    int rc = rpc(&q, &r, NULL, NULL) < 0 ? ret_err(EIO) : ret_rpc(&r);
    if (rc == 0)
        addr_out(r.addr, r.port, sa, len);
    LOGRET(rc, "%s(%d)", peer ? "getpeername" : "getsockname", fd);
    ts_put(t);
    return rc;
}

SHIM_API int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    ensure_init();
    return do_getname(fd, sa, len, 0);
}

SHIM_API int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    ensure_init();
    return do_getname(fd, sa, len, 1);
}

SHIM_API ssize_t read(int fd, void *buf, size_t len)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_read(fd, buf, len);
    ssize_t n = ts_recv(t, buf, len, 0, NULL, NULL, NULL);
    LOGRET(n, "read(%d, %zu)", fd, len);
    ts_put(t);
    return n;
}

SHIM_API ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
SHIM_API ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_read_chk(fd, buf, len, buflen);
    ts_put(t);
    if (len > buflen)
        abort(); /* as glibc's __chk_fail */
    return read(fd, buf, len);
}

SHIM_API ssize_t write(int fd, const void *buf, size_t len)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_write(fd, buf, len);
    ssize_t n = ts_send(t, buf, len, 0, NULL, 0);
    LOGRET(n, "write(%d, %zu)", fd, len);
    ts_put(t);
    return n;
}

SHIM_API ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_recv(fd, buf, len, flags);
    ssize_t n = ts_recv(t, buf, len, flags, NULL, NULL, NULL);
    LOGRET(n, "recv(%d, %zu, %#x)", fd, len, flags);
    ts_put(t);
    return n;
}

SHIM_API ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
SHIM_API ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_recv_chk(fd, buf, len, buflen, flags);
    ts_put(t);
    if (len > buflen)
        abort();
    return recv(fd, buf, len, flags);
}

SHIM_API ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_send(fd, buf, len, flags);
    ssize_t n = ts_send(t, buf, len, flags, NULL, 0);
    LOGRET(n, "send(%d, %zu, %#x)", fd, len, flags);
    ts_put(t);
    return n;
}

SHIM_API ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
                          socklen_t *salen)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_recvfrom(fd, buf, len, flags, sa, salen);
    ssize_t n = ts_recv(t, buf, len, flags, sa, salen, NULL);
    LOGRET(n, "recvfrom(%d, %zu, %#x)", fd, len, flags);
    ts_put(t);
    return n;
}

SHIM_API ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                struct sockaddr *sa, socklen_t *salen);
SHIM_API ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                struct sockaddr *sa, socklen_t *salen)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_recvfrom_chk(fd, buf, len, buflen, flags, sa, salen);
    ts_put(t);
    if (len > buflen)
        abort();
    return recvfrom(fd, buf, len, flags, sa, salen);
}

SHIM_API ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa,
                        socklen_t salen)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_sendto(fd, buf, len, flags, sa, salen);
    ssize_t n = ts_send(t, buf, len, flags, sa, salen);
    LOGRET(n, "sendto(%d, %zu, %#x)", fd, len, flags);
    ts_put(t);
    return n;
}

static size_t iov_total(const struct iovec *iov, int n)
{
    size_t s = 0;
    for (int i = 0; i < n; i++)
        s += iov[i].iov_len;
    return s;
}

/* Scatter/gather through one buffer: a datagram stays one datagram. */
static ssize_t ts_sendv(struct tsock *t, const struct iovec *iov, int n, int flags,
                        const struct sockaddr *to, socklen_t tolen)
{
    if (n < 0 || n > IOV_MAX)
        return ret_err(EINVAL);
    size_t len = iov_total(iov, n);
    if (n == 1)
        return ts_send(t, iov[0].iov_base, len, flags, to, tolen);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return ret_err(ENOMEM);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    ssize_t r = ts_send(t, buf, len, flags, to, tolen);
    free(buf);
    return r;
}

static ssize_t ts_recvv(struct tsock *t, const struct iovec *iov, int n, int flags,
                        struct sockaddr *from, socklen_t *fromlen, int *out_flags)
{
    if (n < 0 || n > IOV_MAX)
        return ret_err(EINVAL);
    size_t len = iov_total(iov, n);
    if (n == 1)
        return ts_recv(t, iov[0].iov_base, len, flags, from, fromlen, out_flags);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return ret_err(ENOMEM);
    ssize_t r = ts_recv(t, buf, len, flags, from, fromlen, out_flags);
    if (r > 0) {
        size_t left = (size_t)r < len ? (size_t)r : len, off = 0;
        for (int i = 0; i < n && left; i++) {
            size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
            memcpy(iov[i].iov_base, buf + off, k);
            off += k;
            left -= k;
        }
    }
    free(buf);
    return r;
}

SHIM_API ssize_t readv(int fd, const struct iovec *iov, int n)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_readv(fd, iov, n);
    ssize_t r = ts_recvv(t, iov, n, 0, NULL, NULL, NULL);
    LOGRET(r, "readv(%d, %d)", fd, n);
    ts_put(t);
    return r;
}

SHIM_API ssize_t writev(int fd, const struct iovec *iov, int n)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_writev(fd, iov, n);
    ssize_t r = ts_sendv(t, iov, n, 0, NULL, 0);
    LOGRET(r, "writev(%d, %d)", fd, n);
    ts_put(t);
    return r;
}

SHIM_API ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_recvmsg(fd, m, flags);
    int of = 0;
    socklen_t nl = m->msg_namelen;
    ssize_t r = ts_recvv(t, m->msg_iov, (int)m->msg_iovlen, flags,
                         m->msg_name, m->msg_name ? &nl : NULL, &of);
    if (r >= 0) {
        m->msg_namelen = m->msg_name ? nl : 0;
        m->msg_controllen = 0; /* no ancillary data from tern sockets */
        m->msg_flags = of;
    }
    LOGRET(r, "recvmsg(%d, %#x)", fd, flags);
    ts_put(t);
    return r;
}

SHIM_API ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
    ensure_init();
    struct tsock *t = ts_get(fd);
    if (!t)
        return real_sendmsg(fd, m, flags);
    ssize_t r = ts_sendv(t, m->msg_iov, (int)m->msg_iovlen, flags, m->msg_name, m->msg_namelen);
    LOGRET(r, "sendmsg(%d, %#x)", fd, flags);
    ts_put(t);
    return r;
}

/* sendfile from a file to a tern socket: read and send in 64 KiB pieces. */
static ssize_t do_sendfile(int out, int in, off_t *off, size_t count)
{
    struct tsock *ti = ts_get(in);
    if (ti) {
        ts_put(ti);
        return ret_err(EINVAL);
    }
    struct tsock *t = ts_get(out);
    if (!t)
        return real_sendfile(out, in, off, count);
    static __thread uint8_t buf[65536];
    size_t done = 0;
    while (done < count) {
        size_t want = count - done < sizeof buf ? count - done : sizeof buf;
        ssize_t n = off ? pread(in, buf, want, *off) : real_read(in, buf, want);
        if (n <= 0) {
            if (n < 0 && !done) {
                ts_put(t);
                return -1;
            }
            break;
        }
        ssize_t w = ts_send(t, buf, (size_t)n, 0, NULL, 0);
        if (w < 0) {
            if (!done) {
                ts_put(t);
                return -1;
            }
            break;
        }
        if (off)
            *off += w;
        else if (w < n)
            lseek(in, w - n, SEEK_CUR);
        done += (size_t)w;
        if (w < n)
            break;
    }
    LOGRET((ssize_t)done, "sendfile(%d <- %d, %zu)", out, in, count);
    ts_put(t);
    return (ssize_t)done;
}

SHIM_API ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
    ensure_init();
    return do_sendfile(out, in, off, count);
}

SHIM_API ssize_t sendfile64(int out, int in, off_t *off, size_t count);
SHIM_API ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
    ensure_init();
    return do_sendfile(out, in, off, count);
}

/* splice needs a pipe and kernel socket buffers: refused on tern sockets. */
SHIM_API ssize_t splice(int in, loff_t *offin, int out, loff_t *offout, size_t len, unsigned flags)
{
    ensure_init();
    struct tsock *a = ts_get(in), *b = ts_get(out);
    if (a || b) {
        if (a)
            ts_put(a);
        if (b)
            ts_put(b);
        shim_log("splice(%d, %d) refused: EINVAL (tern socket)", in, out);
        return ret_err(EINVAL);
    }
    return real_splice(in, offin, out, offout, len, flags);
}

/* poll: the kernel waits on the eventfds; the shim then replaces each
 * tern socket's revents with its exact readiness (the eventfd can show
 * three of the four states: see ctl_mirror_value), adding POLLHUP and
 * POLLERR, and polls again if nothing real is left. */
static short ts_revents(struct tsock *t, short events)
{
    struct ctl_shm *s = t->shm;
    uint32_t st = atomic_load(&s->state), fl = atomic_load(&s->flags);
    short re = 0;
    bool err = atomic_load(&s->err) != 0;
    if (st == CTL_ST_LISTEN) {
        if (fl & CTL_F_ACCEPT)
            re |= POLLIN;
    } else if (t->type == SOCK_DGRAM) {
        if (ctl_ring_used(&s->rx))
            re |= POLLIN;
        if (ctl_ring_free(&s->tx) >= ctl_dgram_space(65535))
            re |= POLLOUT;
    } else {
        if (ctl_ring_used(&s->rx) || (fl & CTL_F_RX_EOF))
            re |= POLLIN | POLLRDNORM;
        if (fl & CTL_F_RX_EOF)
            re |= POLLRDHUP;
        if (st == CTL_ST_CONNECTED && ctl_ring_free(&s->tx) && !(fl & CTL_F_WR_SHUT))
            re |= POLLOUT | POLLWRNORM;
        if (st == CTL_ST_CLOSED)
            re |= POLLIN | POLLHUP;
        if (st == CTL_ST_NEW)
            re |= POLLOUT | POLLHUP;
    }
    if (err)
        re |= POLLERR;
    return (short)(re & (events | POLLERR | POLLHUP | POLLNVAL));
}

/* poll and ppoll: timeout in ms (< 0: none); ppoll passes its signal mask
 * on each wait (pp). */
static int poll_exact(struct pollfd *fds, nfds_t n, int timeout, bool pp, const sigset_t *mask)
{
    uint64_t dl = timeout > 0 ? now_ms() + (uint64_t)timeout : 0;
    for (;;) {
        int rc;
        if (pp) {
            struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000};
            rc = real_ppoll(fds, n, timeout < 0 ? NULL : &ts, mask);
        } else {
            rc = real_poll(fds, n, timeout);
        }
        if (rc <= 0)
            return rc;
        int ready = 0;
        for (nfds_t i = 0; i < n; i++) {
            struct tsock *t = ts_get(fds[i].fd);
            if (t) {
                /* the eventfd's own answer may be the approximation */
                fds[i].revents = ts_revents(t, fds[i].events);
                ts_put(t);
            }
            ready += fds[i].revents != 0;
        }
        if (ready)
            return ready;
        if (timeout == 0)
            return 0;
        if (timeout > 0) {
            uint64_t now = now_ms();
            if (now >= dl)
                return 0;
            timeout = (int)(dl - now);
        }
        /* A socket the eventfd shows readable that is not: wait a little
         * for the daemon before asking the kernel again. */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static bool any_tsock(const struct pollfd *fds, nfds_t n)
{
    bool any = false;
    pthread_mutex_lock(&tab_mu);
    for (nfds_t i = 0; i < n && !any; i++)
        any = fds[i].fd >= 0 && fds[i].fd < tabcap && tab[fds[i].fd];
    pthread_mutex_unlock(&tab_mu);
    return any;
}

SHIM_API int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    ensure_init();
    if (!any_tsock(fds, n))
        return real_poll(fds, n, timeout);
    return poll_exact(fds, n, timeout, false, NULL);
}

/* ppoll as poll (OpenSSH's ssh and sshd wait with it): the timeout rounded
 * up to a millisecond, the signal mask in place during each wait. */
SHIM_API int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
    ensure_init();
    if (!any_tsock(fds, n))
        return real_ppoll(fds, n, tmo, mask);
    int timeout = -1;
    if (tmo) {
        if (tmo->tv_sec < 0 || tmo->tv_nsec < 0 || tmo->tv_nsec >= 1000000000L)
            return ret_err(EINVAL);
        uint64_t ms = (uint64_t)tmo->tv_sec * 1000u + ((uint64_t)tmo->tv_nsec + 999999u) / 1000000u;
        timeout = ms > INT_MAX ? INT_MAX : (int)ms;
    }
    return poll_exact(fds, n, timeout, true, mask);
}

/* Whether /etc/hosts names `name` with an IPv4 address. */
static bool in_etc_hosts(const char *name)
{
    FILE *f = fopen("/etc/hosts", "re");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
        struct in_addr a;
        if (!tok || inet_pton(AF_INET, tok, &a) != 1)
            continue;
        while ((tok = strtok_r(NULL, " \t\r\n", &save)))
            if (!strcasecmp(tok, name))
                found = true;
    }
    fclose(f);
    return found;
}

/* Asks the daemon's resolver: 0 and addrs[0..*n), or an EAI_ code;
 * 1 = the daemon has no DNS server (ask libc). */
static int daemon_resolve(const char *node, uint32_t *addrs, unsigned *n)
{
    size_t len = strlen(node);
    if (len == 0 || len > 255)
        return EAI_NONAME;
    struct ctl_req q = {.magic = CTL_MAGIC, .op = CTL_OP_RESOLVE, .len = (uint16_t)len};
    struct ctl_resp r;
    uint32_t buf[16];
    pthread_mutex_lock(&ctl_mu);
    int rc = ctl_fd >= 0 ? rpc_locked(&q, node, &r, buf, sizeof buf, NULL, NULL) : -1;
    pthread_mutex_unlock(&ctl_mu);
    if (rc < 0)
        return EAI_SYSTEM;
    if (r.ret == -ENOSYS)
        return 1;
    if (r.ret == -ENOENT)
        return EAI_NONAME;
    if (r.ret == -EAGAIN)
        return EAI_AGAIN;
    if (r.ret < 0 || r.val <= 0)
        return EAI_FAIL;
    *n = (unsigned)(r.val > 16 ? 16 : r.val);
    memcpy(addrs, buf, *n * sizeof addrs[0]);
    return 0;
}

/* tern speaks IPv4: a lookup for any family asks for IPv4 only (as with
 * AI_ADDRCONFIG on a host without IPv6), so programs do not try AF_INET6
 * sockets first. A name that is not a literal and not in /etc/hosts goes
 * to the daemon's resolver, over tern, when the daemon has a DNS server. */
SHIM_API int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                         struct addrinfo **res)
{
    ensure_init();
    if (!attached() || (hints && hints->ai_family != AF_UNSPEC && hints->ai_family != AF_INET))
        return real_getaddrinfo(node, service, hints, res);
    struct addrinfo h = {0};
    if (hints)
        h = *hints;
    else
        h.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG;
    h.ai_family = AF_INET;
    h.ai_flags &= ~AI_ADDRCONFIG; /* the kernel's addresses are not tern's */
    struct in_addr lit;
    if (!node || (h.ai_flags & AI_NUMERICHOST) || inet_pton(AF_INET, node, &lit) == 1 ||
        !strcasecmp(node, "localhost") || in_etc_hosts(node)) {
        int rc = real_getaddrinfo(node, service, &h, res);
        shim_log("getaddrinfo(%s, %s) as AF_INET = %d", node ? node : "NULL",
                 service ? service : "NULL", rc);
        return rc;
    }
    uint32_t addrs[16];
    unsigned n = 0;
    int rc = daemon_resolve(node, addrs, &n);
    if (rc == 1) {
        rc = real_getaddrinfo(node, service, &h, res);
        shim_log("getaddrinfo(%s): the daemon has no DNS server; libc = %d", node, rc);
        return rc;
    }
    if (rc) {
        shim_log("getaddrinfo(%s) through tern's resolver = %s", node, gai_strerror(rc));
        return rc;
    }
    /* One libc lookup per address, numeric (no DNS): libc fills in the
     * service, socket types and protocols; the lists are chained. */
    struct addrinfo *head = NULL, **tail = &head;
    h.ai_flags |= AI_NUMERICHOST;
    bool canon = (h.ai_flags & AI_CANONNAME) != 0;
    h.ai_flags &= ~AI_CANONNAME;
    for (unsigned i = 0; i < n; i++) {
        char txt[INET_ADDRSTRLEN];
        struct in_addr a = {htonl(addrs[i])};
        inet_ntop(AF_INET, &a, txt, sizeof txt);
        struct addrinfo *one = NULL;
        rc = real_getaddrinfo(txt, service, &h, &one);
        if (rc) {
            if (head)
                freeaddrinfo(head);
            return rc;
        }
        *tail = one;
        while (*tail)
            tail = &(*tail)->ai_next;
    }
    if (canon && head)
        head->ai_canonname = strdup(node);
    *res = head;
    shim_log("getaddrinfo(%s) through tern's resolver: %u address(es)", node, n);
    return 0;
}
