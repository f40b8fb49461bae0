/*
 * posix/runtime.c - the runtime of the BSD sockets facade: a real loop, a
 * device and a stack driven by a thread of their own, one mutex, the
 * descriptor table, and the errno mapping of enum tern_err.
 *
 * Not the socket calls themselves (posix_sock.c, posix_io.c). See
 * docs/posix.md for the locking design and its cost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "posix/posix_impl.h"
#include "tern/err.h"

int tern_errno(int err)
{
    switch (err) {
    case TERN_OK: return 0;
    case TERN_E_SHORT: return EINVAL;
    case TERN_E_BAD_LEN: return EMSGSIZE; /* e.g. too big for the MTU with DF */
    case TERN_E_BAD_VERSION: return EPROTONOSUPPORT;
    case TERN_E_BAD_CSUM: return EBADMSG;
    case TERN_E_BAD_OPT: return EINVAL;
    case TERN_E_BAD_FLAGS: return EINVAL;
    case TERN_E_BAD_FIELD: return EINVAL;
    case TERN_E_NOSPC: return ENOBUFS;
    case TERN_E_INVAL: return EINVAL;
    case TERN_E_NOMEM: return ENOMEM;
    case TERN_E_IO: return EIO;
    case TERN_E_FORMAT: return EBADMSG;
    case TERN_E_EOF: return ENODATA;
    case TERN_E_UNSUPPORTED: return EOPNOTSUPP;
    case TERN_E_AGAIN: return EAGAIN;
    case TERN_E_ADDRINUSE: return EADDRINUSE;
    case TERN_E_ADDRNOTAVAIL: return EADDRNOTAVAIL;
    case TERN_E_ACCES: return EACCES;
    case TERN_E_CONNREFUSED: return ECONNREFUSED;
    case TERN_E_CONNRESET: return ECONNRESET;
    case TERN_E_NOTCONN: return ENOTCONN;
    case TERN_E_ISCONN: return EISCONN;
    case TERN_E_MSGSIZE: return EMSGSIZE;
    case TERN_E_INPROGRESS: return EINPROGRESS;
    case TERN_E_ALREADY: return EALREADY;
    case TERN_E_TIMEDOUT: return ETIMEDOUT;
    case TERN_E_HOSTUNREACH: return EHOSTUNREACH;
    case TERN_E_NETUNREACH: return ENETUNREACH;
    case TERN_E_PIPE: return EPIPE;
    case TERN_E_DESTADDRREQ: return EDESTADDRREQ;
    case TERN_E_OPNOTSUPP: return EOPNOTSUPP;
    case TERN_E_NOTFOUND: return ENOENT;
    }
    return err < 0 ? EIO : 0;
}

int px_fail(int e)
{
    errno = e;
    return -1;
}

/* ---- locking ---- */

/* Loop sleep hooks (runtime thread): drop mu while epoll sleeps. */
static void before_sleep(void *ctx)
{
    struct tern_runtime *rt = ctx;
    rt->sleeping = true;
    pthread_mutex_unlock(&rt->mu);
}

static void after_sleep(void *ctx)
{
    struct tern_runtime *rt = ctx;
    pthread_mutex_lock(&rt->mu);
    rt->sleeping = false;
}

void px_kick(struct tern_runtime *rt)
{
    /* The loop computed its sleep from the timers as they were before this
     * caller took mu; wake it so it looks again. One wake per sleep. */
    if (rt->sleeping) {
        rt->sleeping = false;
        tern_loop_wake(rt->loop);
    }
}

void tern_runtime_lock(struct tern_runtime *rt) { pthread_mutex_lock(&rt->mu); }

void px_leave(struct tern_runtime *rt)
{
    px_kick(rt);
    pthread_mutex_unlock(&rt->mu);
}

void tern_runtime_unlock(struct tern_runtime *rt) { px_leave(rt); }

struct tern_stack *tern_runtime_stack(struct tern_runtime *rt) { return rt->stack; }

struct pfd *px_enter(struct tern_runtime *rt, int fd)
{
    if (!rt) {
        errno = EINVAL;
        return NULL;
    }
    pthread_mutex_lock(&rt->mu);
    if (fd < 0 || (unsigned)fd >= rt->nfds || !rt->fds[fd].sk) {
        pthread_mutex_unlock(&rt->mu);
        errno = EBADF;
        return NULL;
    }
    return &rt->fds[fd];
}

void px_deadline(struct timespec *ts, uint64_t us)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    uint64_t ns = (uint64_t)ts->tv_nsec + (us % 1000000u) * 1000u;
    ts->tv_sec += (time_t)(us / 1000000u + ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
}

int px_wait(struct pfd *d, uint32_t gen, const struct timespec *deadline)
{
    struct tern_runtime *rt = d->rt;
    if (rt->failed)
        return EIO;
    px_kick(rt); /* our core call may have armed a timer (ARP, retransmit) */
    d->waiters++;
    int rc = deadline ? pthread_cond_timedwait(&d->cv, &rt->mu, deadline)
                      : pthread_cond_wait(&d->cv, &rt->mu);
    d->waiters--;
    if (d->gen != gen || !d->sk)
        return EBADF;
    if (rt->failed)
        return EIO;
    return rc == ETIMEDOUT ? EAGAIN : 0;
}

/* Readiness handler of every facade socket (runtime thread, mu held). */
static void on_ready(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)sk;
    (void)events;
    struct pfd *d = ctx;
    if (d->waiters)
        pthread_cond_broadcast(&d->cv);
    if (d->rt->pollers)
        pthread_cond_broadcast(&d->rt->poll_cv);
}

int px_alloc(struct tern_runtime *rt, struct tern_sock *sk, int type)
{
    for (unsigned i = 0; i < rt->nfds; i++) {
        struct pfd *d = &rt->fds[i];
        if (d->sk)
            continue;
        d->sk = sk;
        d->type = type;
        d->nonblock = d->linger_on = false;
        d->linger_s = 0;
        d->rcvtimeo_us = d->sndtimeo_us = 0;
        tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, on_ready, d);
        return (int)i;
    }
    return -1;
}

int px_addr_in(const struct sockaddr *sa, socklen_t len, struct tern_sockaddr *out)
{
    if (!sa || len < (socklen_t)sizeof(struct sockaddr_in))
        return EINVAL;
    if (sa->sa_family != AF_INET)
        return EAFNOSUPPORT;
    struct sockaddr_in sin;
    memcpy(&sin, sa, sizeof sin);
    out->addr = ntohl(sin.sin_addr.s_addr);
    out->port = ntohs(sin.sin_port);
    return 0;
}

void px_addr_out(const struct tern_sockaddr *a, struct sockaddr *sa, socklen_t *len)
{
    if (!sa || !len)
        return;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(a->addr);
    sin.sin_port = htons(a->port);
    /* POSIX: truncated to the caller's buffer, *len = the real size. */
    size_t n = *len < sizeof sin ? *len : sizeof sin;
    memcpy(sa, &sin, n);
    *len = sizeof sin;
}

/* ---- the runtime thread ---- */

static void *rt_main(void *arg)
{
    struct tern_runtime *rt = arg;
    pthread_mutex_lock(&rt->mu);
    while (!rt->quit) {
        /* Returns 0 after each tern_loop_wake (kicks, pump requests, quit). */
        int r = tern_loop_run(rt->loop, TERN_TIME_NEVER);
        if (rt->pump)
            rt->pump(rt->pump_ctx);
        if (r < 0) {
            rt->failed = true; /* epoll failed: fail every blocked call */
            for (unsigned i = 0; i < rt->nfds; i++)
                pthread_cond_broadcast(&rt->fds[i].cv);
            pthread_cond_broadcast(&rt->poll_cv);
            break;
        }
    }
    pthread_mutex_unlock(&rt->mu);
    return NULL;
}

void tern_runtime_wake(struct tern_runtime *rt)
{
    if (rt)
        tern_loop_wake(rt->loop);
}

static int rt_setup(struct tern_runtime *rt, const struct tern_runtime_cfg *cfg)
{
    rt->loop = tern_loop_real_new(NULL, NULL);
    if (!rt->loop)
        return errno ? errno : ENOMEM;
    if (cfg->device)
        rt->dev = cfg->device;
    else if (cfg->tap)
        rt->dev = tern_tap_open(rt->loop, cfg->tap);
    else
        rt->dev = tern_tun_open(rt->loop, cfg->tun);
    if (!rt->dev)
        return errno ? errno : EINVAL;
    struct tern_config sc;
    if (cfg->stack) {
        sc = *cfg->stack;
    } else {
        tern_config_defaults(&sc);
        if (getrandom(&sc.seed, sizeof sc.seed, 0) != (ssize_t)sizeof sc.seed)
            sc.seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)rt;
    }
    rt->stack = tern_stack_new(&sc, rt->loop);
    if (!rt->stack)
        return EINVAL;
    struct tern_iface_config ic = {.addr = cfg->addr, .prefix_len = cfg->prefix_len,
                                   .mtu = cfg->mtu, .up = true};
    memcpy(ic.mac, cfg->mac, 6);
    int ifx = tern_stack_add_iface(rt->stack, rt->dev, &ic);
    if (ifx < 0)
        return tern_errno(ifx);
    if (cfg->gw) {
        int r = tern_route_add(rt->stack, 0, 0, cfg->gw, ifx);
        if (r < 0)
            return tern_errno(r);
    }
    rt->nfds = cfg->max_fds ? cfg->max_fds : 256;
    rt->fds = calloc(rt->nfds, sizeof *rt->fds);
    if (!rt->fds)
        return ENOMEM;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (unsigned i = 0; i < rt->nfds; i++) {
        rt->fds[i].rt = rt;
        pthread_cond_init(&rt->fds[i].cv, &ca);
    }
    pthread_cond_init(&rt->poll_cv, &ca);
    pthread_condattr_destroy(&ca);
    rt->pump = cfg->pump;
    rt->pump_ctx = cfg->pump_ctx;
    tern_loop_real_set_sleep_hooks(rt->loop, before_sleep, after_sleep, rt);
    int e = pthread_create(&rt->thread, NULL, rt_main, rt);
    if (e)
        return e;
    rt->started = true;
    return 0;
}

struct tern_runtime *tern_runtime_new(const struct tern_runtime_cfg *cfg)
{
    int ndev = cfg ? (cfg->tap != NULL) + (cfg->tun != NULL) + (cfg->device != NULL) : 0;
    if (ndev != 1) {
        if (cfg && cfg->device)
            tern_device_destroy(cfg->device);
        errno = EINVAL;
        return NULL;
    }
    struct tern_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        tern_device_destroy(cfg->device);
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&rt->mu, NULL);
    errno = 0;
    int e = rt_setup(rt, cfg);
    if (e) {
        if (!rt->dev)
            rt->dev = cfg->device; /* ours to destroy all the same */
        tern_runtime_free(rt);
        errno = e;
        return NULL;
    }
    return rt;
}

void tern_runtime_free(struct tern_runtime *rt)
{
    if (!rt)
        return;
    if (rt->started) {
        pthread_mutex_lock(&rt->mu);
        rt->quit = true;
        pthread_mutex_unlock(&rt->mu);
        tern_loop_wake(rt->loop);
        pthread_join(rt->thread, NULL);
    }
    if (rt->fds) {
        for (unsigned i = 0; i < rt->nfds; i++) {
            if (rt->fds[i].sk) {
                tern_sock_set_handler(rt->fds[i].sk, 0, NULL, NULL);
                tern_sock_abort(rt->fds[i].sk);
            }
            pthread_cond_destroy(&rt->fds[i].cv);
        }
        pthread_cond_destroy(&rt->poll_cv);
        free(rt->fds);
    }
    tern_stack_free(rt->stack);
    tern_device_destroy(rt->dev);
    tern_loop_destroy(rt->loop);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
}
