/*
 * tools/ctl_server.c - the daemon side of the control protocol
 * (src/ctl/ctl.h, docs/run.md): one Unix SOCK_SEQPACKET listener on the
 * stack's loop, one connection per attached process, and per socket a
 * shared page with two rings and an eventfd mirroring its readiness.
 *
 * Ownership: each socket counts the client connections holding it (its
 * creator, the children that adopted it after fork). When the last one
 * closes it, or disappears (its process exited or was killed: the Unix
 * socket reads EOF), the socket is closed as Linux closes the sockets of
 * an exiting process: queued data is still sent, then FIN - or RST at
 * once if received data was never read (RFC 2525 s2.17).
 */
#include "ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "app/netstat.h"
#include "app/resolver.h"
#include "ctl/ctl.h"
#include "servport.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/posix.h"
#include "tern/socket.h"

struct ctl_client;

struct csock {
    struct ctl_server *sv;
    uint32_t id;
    struct tern_sock *sk; /* NULL once closed in the stack */
    struct ctl_shm *shm;
    int evfd;
    uint64_t mirrored;    /* the eventfd's counter as we last set it */
    int refs;             /* client references */
    int type;             /* 1 UDP, 2 TCP */
    bool listener;
    bool closing;         /* no owner left: close once tx is drained */
    bool shut_wr_done;
    bool peer_closed;     /* TCP: end of stream read */
};

struct ctl_lookup {
    struct ctl_client *cl;
    struct tern_resolve *q;
    struct ctl_lookup *next;
};

struct ctl_client {
    struct ctl_server *sv;
    int fd;
    struct ctl_lookup *lookups; /* name lookups running for it */
    uint32_t *ids; /* sockets held (one entry per reference) */
    size_t nids, capids;
    bool dumping;  /* CTL_OP_DUMP: every frame goes to it */
    struct ctl_client *next;
};

struct ctl_server {
    struct tern_env *env;
    int lfd;
    char path[108];
    struct ctl_client *clients;
    struct csock **socks; /* by id - 1 */
    uint32_t nsocks;
    struct tern_resolve_opts ro; /* nservers 0: the DHCP lease's, if any */
    unsigned ndump;              /* clients dumping */
};

static uint8_t scratch[65536];

static void futex_wake_all(_Atomic uint32_t *w)
{
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* ---- sockets ---- */

static void cs_free(struct csock *c)
{
    struct ctl_server *sv = c->sv;
    if (c->sk) {
        tern_sock_set_handler(c->sk, 0, NULL, NULL);
        tern_sock_abort(c->sk);
    }
    sv->socks[c->id - 1] = NULL;
    munmap(c->shm, CTL_SHM_SIZE);
    close(c->evfd);
    free(c);
}

/* Stops using the tern socket: graceful close, or RST when abort. */
static void cs_release(struct csock *c, bool abort)
{
    if (!c->sk)
        return;
    tern_sock_set_handler(c->sk, 0, NULL, NULL);
    if (abort)
        tern_sock_abort(c->sk);
    else
        tern_sock_close(c->sk);
    c->sk = NULL;
}

static void cs_fail(struct csock *c, int err)
{
    struct ctl_shm *s = c->shm;
    if (!atomic_load(&s->err))
        atomic_store(&s->err, tern_errno(err));
    atomic_store(&s->state, CTL_ST_CLOSED);
}

static void cs_pump_tcp(struct csock *c)
{
    struct ctl_shm *s = c->shm;
    unsigned ev = tern_sock_poll(c->sk);
    uint32_t st = atomic_load(&s->state);
    if (c->listener) {
        if (ev & TERN_POLLIN)
            atomic_fetch_or(&s->flags, CTL_F_ACCEPT);
        else
            atomic_fetch_and(&s->flags, ~(uint32_t)CTL_F_ACCEPT);
        return;
    }
    if (st == CTL_ST_CONNECTING) {
        if (ev & TERN_POLLERR) {
            cs_fail(c, tern_sock_error(c->sk));
            return;
        }
        if (!(ev & (TERN_POLLOUT | TERN_POLLIN | TERN_POLLHUP)))
            return;
        atomic_store(&s->state, st = CTL_ST_CONNECTED);
    }
    if (st != CTL_ST_CONNECTED)
        return;
    /* rx: stack -> ring */
    while (!c->peer_closed) {
        struct ctl_ring *r = &s->rx;
        uint32_t room = ctl_ring_free(r);
        if (room == 0) {
            atomic_fetch_or(&s->want, CTL_WANT_RX);
            if (ctl_ring_free(r) == 0)
                break;
            continue;
        }
        uint32_t head = atomic_load(&r->head);
        uint32_t at = head & (r->size - 1), seg = r->size - at;
        if (seg > room)
            seg = room;
        ssize_t n = tern_sock_recv(c->sk, ctl_ring_data(s, r) + at, seg, 0);
        if (n > 0) {
            atomic_store(&r->head, head + (uint32_t)n);
        } else if (n == 0) {
            c->peer_closed = true;
            atomic_fetch_or(&s->flags, CTL_F_RX_EOF);
        } else {
            if (n != TERN_E_AGAIN)
                cs_fail(c, (int)n);
            break;
        }
    }
    if (atomic_load(&s->state) != CTL_ST_CONNECTED)
        return;
    /* tx: ring -> stack */
    for (;;) {
        struct ctl_ring *r = &s->tx;
        uint32_t used = ctl_ring_used(r);
        if (used == 0) {
            atomic_fetch_or(&s->want, CTL_WANT_TX);
            if (ctl_ring_used(r) == 0)
                break;
            continue;
        }
        uint32_t tail = atomic_load(&r->tail);
        uint32_t at = tail & (r->size - 1), seg = r->size - at;
        if (seg > used)
            seg = used;
        ssize_t n = tern_sock_send(c->sk, ctl_ring_data(s, r) + at, seg, 0);
        if (n > 0) {
            atomic_store(&r->tail, tail + (uint32_t)n);
        } else {
            if (n != TERN_E_AGAIN) {
                cs_fail(c, (int)n);
                atomic_store(&r->tail, atomic_load(&r->head));
            }
            break;
        }
    }
    if (ctl_ring_used(&s->tx) == 0 && (atomic_load(&s->flags) & CTL_F_WR_SHUT) &&
        !c->shut_wr_done) {
        c->shut_wr_done = true;
        tern_sock_shutdown(c->sk, TERN_SHUT_WR);
    }
}

static void cs_pump_udp(struct csock *c)
{
    struct ctl_shm *s = c->shm;
    for (;;) { /* rx */
        struct tern_sockaddr from;
        int of = 0;
        ssize_t n = tern_sock_recvfrom(c->sk, scratch, 0, TERN_MSG_PEEK | TERN_MSG_TRUNC, &from, &of);
        if (n < 0) {
            if (n != TERN_E_AGAIN)
                atomic_store(&s->err, tern_errno((int)n));
            break;
        }
        if (ctl_ring_free(&s->rx) < ctl_dgram_space((uint32_t)n)) {
            atomic_fetch_or(&s->want, CTL_WANT_RX);
            if (ctl_ring_free(&s->rx) < ctl_dgram_space((uint32_t)n))
                break;
        }
        n = tern_sock_recvfrom(c->sk, scratch, sizeof scratch, 0, &from, &of);
        if (n < 0)
            break;
        struct ctl_dgram h = {.len = (uint32_t)n, .addr = from.addr, .port = from.port};
        ctl_ring_put_dgram(s, &s->rx, &h, scratch);
    }
    for (;;) { /* tx */
        struct ctl_dgram h;
        if (!ctl_ring_peek_dgram(s, &s->tx, &h)) {
            atomic_fetch_or(&s->want, CTL_WANT_TX);
            if (!ctl_ring_peek_dgram(s, &s->tx, &h))
                break;
        }
        uint32_t len = h.len > sizeof scratch ? (uint32_t)sizeof scratch : h.len;
        ctl_ring_take_dgram(s, &s->tx, &h, scratch, len, 1);
        struct tern_sockaddr to = {h.addr, h.port};
        ssize_t n = (h.addr || h.port) ? tern_sock_sendto(c->sk, scratch, len, 0, &to)
                                       : tern_sock_send(c->sk, scratch, len, 0);
        if (n == TERN_E_AGAIN)
            break;
        if (n < 0)
            atomic_store(&s->err, tern_errno((int)n));
        ctl_ring_take_dgram(s, &s->tx, &h, scratch, 0, 0);
    }
}

/* The readiness the program sees, mirrored on the eventfd. */
static void cs_mirror(struct csock *c)
{
    struct ctl_shm *s = c->shm;
    uint32_t st = atomic_load(&s->state), fl = atomic_load(&s->flags);
    bool bad = st == CTL_ST_CLOSED || atomic_load(&s->err) != 0;
    bool rd, wr;
    if (c->listener) {
        rd = (fl & CTL_F_ACCEPT) || bad;
        wr = false;
    } else if (c->type == 1) {
        rd = ctl_ring_used(&s->rx) > 0 || bad;
        wr = ctl_ring_free(&s->tx) >= ctl_dgram_space(65535);
    } else {
        rd = ctl_ring_used(&s->rx) > 0 || (fl & CTL_F_RX_EOF) || bad;
        wr = (st == CTL_ST_CONNECTED && ctl_ring_free(&s->tx) > 0) || bad || st == CTL_ST_NEW;
        if (st == CTL_ST_NEW)
            rd = true; /* Linux: a fresh TCP socket polls POLLOUT|POLLHUP */
    }
    /* A program that drains the rx ring must tell us, or the eventfd would
     * stay readable: it kicks once when it leaves the ring empty. */
    if (rd && !c->listener)
        atomic_fetch_or(&s->want, CTL_WANT_RX);
    uint64_t v = ctl_mirror_value(rd, wr, c->listener);
    if (v != c->mirrored) {
        uint64_t old;
        if (c->mirrored)
            (void)!read(c->evfd, &old, sizeof old);
        if (v)
            (void)!write(c->evfd, &v, sizeof v);
        c->mirrored = v;
    }
    atomic_fetch_add(&s->seq, 1);
    if (atomic_load(&s->waiters))
        futex_wake_all(&s->seq);
}

static void cs_pump(struct csock *c)
{
    if (c->sk) {
        if (c->type == 2)
            cs_pump_tcp(c);
        else
            cs_pump_udp(c);
    }
    if (c->closing) {
        struct ctl_shm *s = c->shm;
        bool drained = ctl_ring_used(&s->tx) == 0 || !c->sk ||
                       atomic_load(&s->state) != CTL_ST_CONNECTED;
        if (drained) {
            /* RFC 2525 s2.17: data received and never read: reset. */
            bool unread = ctl_ring_used(&s->rx) > 0 && c->type == 2;
            cs_release(c, unread);
            cs_free(c);
        }
        return;
    }
    cs_mirror(c);
}

static void cs_event(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)sk;
    (void)events;
    cs_pump(ctx);
}

static struct csock *cs_new(struct ctl_server *sv, struct tern_sock *sk, int type, int *memfd)
{
    uint32_t slot = 0;
    while (slot < sv->nsocks && sv->socks[slot])
        slot++;
    if (slot == sv->nsocks) {
        uint32_t n = sv->nsocks ? sv->nsocks * 2 : 64;
        struct csock **p = realloc(sv->socks, n * sizeof *p);
        if (!p)
            return NULL;
        memset(p + sv->nsocks, 0, (n - sv->nsocks) * sizeof *p);
        sv->socks = p;
        sv->nsocks = n;
    }
    struct csock *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    int mfd = memfd_create("tern-socket", MFD_CLOEXEC);
    if (mfd < 0 || ftruncate(mfd, CTL_SHM_SIZE) < 0) {
        if (mfd >= 0)
            close(mfd);
        free(c);
        return NULL;
    }
    void *m = mmap(NULL, CTL_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    c->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m == MAP_FAILED || c->evfd < 0) {
        if (m != MAP_FAILED)
            munmap(m, CTL_SHM_SIZE);
        if (c->evfd >= 0)
            close(c->evfd);
        close(mfd);
        free(c);
        return NULL;
    }
    c->shm = m;
    ctl_shm_init(c->shm, (uint32_t)type);
    c->sv = sv;
    c->id = slot + 1;
    c->sk = sk;
    c->type = type;
    sv->socks[slot] = c;
    *memfd = mfd;
    tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, cs_event, c);
    return c;
}

/* ---- clients ---- */

static int client_send(struct ctl_client *cl, const struct ctl_resp *r, const void *payload,
                       const int *fds, int nfds)
{
    struct iovec iov[2] = {{(void *)r, sizeof *r}, {(void *)payload, r->len}};
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = r->len ? 2 : 1};
    if (nfds) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
    }
    return sendmsg(cl->fd, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static bool client_add_id(struct ctl_client *cl, uint32_t id)
{
    if (cl->nids == cl->capids) {
        size_t n = cl->capids ? cl->capids * 2 : 16;
        uint32_t *p = realloc(cl->ids, n * sizeof *p);
        if (!p)
            return false;
        cl->ids = p;
        cl->capids = n;
    }
    cl->ids[cl->nids++] = id;
    return true;
}

/* The socket id if this client holds it, else NULL. */
static struct csock *client_sock(struct ctl_client *cl, uint32_t id)
{
    for (size_t i = 0; i < cl->nids; i++)
        if (cl->ids[i] == id)
            return cl->sv->socks[id - 1];
    return NULL;
}

static void cs_unref(struct csock *c)
{
    if (--c->refs > 0)
        return;
    c->closing = true;
    if (c->listener || c->type == 1 || atomic_load(&c->shm->state) != CTL_ST_CONNECTED)
        cs_release(c, false);
    cs_pump(c);
}

static void client_drop_id(struct ctl_client *cl, uint32_t id)
{
    for (size_t i = 0; i < cl->nids; i++)
        if (cl->ids[i] == id) {
            cl->ids[i] = cl->ids[--cl->nids];
            cs_unref(cl->sv->socks[id - 1]);
            return;
        }
}

static void client_close(struct ctl_client *cl)
{
    struct ctl_server *sv = cl->sv;
    while (cl->lookups) {
        struct ctl_lookup *lk = cl->lookups;
        cl->lookups = lk->next;
        resolve_free(lk->q);
        free(lk);
    }
    for (struct ctl_client **pp = &sv->clients; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    if (cl->dumping && --sv->ndump == 0)
        tern_trace_set_tap(sv->env->trace_dev, NULL, NULL);
    tern_loop_fd_unwatch(sv->env->loop, cl->fd);
    close(cl->fd);
    while (cl->nids)
        client_drop_id(cl, cl->ids[cl->nids - 1]);
    free(cl->ids);
    free(cl);
}

static int map_opt(int a)
{
    return a; /* the shim sends enum tern_sockopt values */
}

/* Sends text in chunks, then an empty chunk. */
static void send_text(struct ctl_client *cl, const char *text, size_t len)
{
    struct ctl_resp r = {0};
    while (len) {
        size_t n = len > 60000 ? 60000 : len;
        r.len = (uint16_t)n;
        if (client_send(cl, &r, text, NULL, 0) < 0)
            return;
        text += n;
        len -= n;
    }
    r.len = 0;
    client_send(cl, &r, NULL, NULL, 0);
}

static void do_stats(struct ctl_client *cl)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    const struct tern_stats *st = tern_stack_stats(cl->sv->env->stack);
    fprintf(f, "ip rx %llu tx %llu delivered %llu\n", (unsigned long long)st->ip.rx,
            (unsigned long long)st->ip.tx, (unsigned long long)st->ip.delivered);
    fprintf(f, "icmp rx %llu tx %llu echo_requests %llu\n", (unsigned long long)st->icmp.rx,
            (unsigned long long)st->icmp.tx, (unsigned long long)st->icmp.echo_requests);
    fprintf(f, "udp rx %llu tx %llu no_port %llu rcvbuf_errors %llu\n",
            (unsigned long long)st->udp.rx, (unsigned long long)st->udp.tx,
            (unsigned long long)st->udp.no_port, (unsigned long long)st->udp.rcvbuf_errors);
    fprintf(f, "tcp rx %llu tx %llu rst_tx %llu retransmits %llu timeouts %llu\n",
            (unsigned long long)st->tcp.rx, (unsigned long long)st->tcp.tx,
            (unsigned long long)st->tcp.rst_tx, (unsigned long long)st->tcp.retransmits,
            (unsigned long long)st->tcp.timeouts);
    fprintf(f, "arp rx %llu\n", (unsigned long long)st->arp.rx);
    size_t nc = 0, ns = 0;
    for (struct ctl_client *c = cl->sv->clients; c; c = c->next)
        nc++;
    for (uint32_t i = 0; i < cl->sv->nsocks; i++)
        ns += cl->sv->socks[i] != NULL;
    fprintf(f, "control clients %zu sockets %zu\n", nc, ns);
    fclose(f);
    send_text(cl, buf, len);
    free(buf);
}

static void do_ss(struct ctl_client *cl, unsigned flags)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    netstat_print(f, cl->sv->env->stack, (flags & TERN_NETSTAT_NUMERIC) ? NULL : tool_servdb(),
                  flags);
    fclose(f);
    send_text(cl, buf, len);
    free(buf);
}

/* A lookup ended: the response carries up to 16 IPv4 addresses (uint32,
 * host order) and val = their count; ret -ENOENT (no such name or no address),
 * -EAGAIN (no server answered). */
static void lookup_done(void *ctx, const struct tern_resolve_result *res)
{
    struct ctl_lookup *lk = ctx;
    struct ctl_client *cl = lk->cl;
    struct ctl_resp r = {0};
    uint32_t addrs[16];
    unsigned n = 0;
    if (res->status == TERN_RESOLVE_OK)
        for (; n < res->naddr && n < 16; n++)
            addrs[n] = res->addr[n];
    if (n) {
        r.len = (uint16_t)(n * sizeof addrs[0]);
        r.val = n;
    } else {
        r.ret = res->status == TERN_RESOLVE_TIMEOUT || res->status == TERN_RESOLVE_SERVFAIL
                    ? -EAGAIN : -ENOENT;
    }
    for (struct ctl_lookup **pp = &cl->lookups; *pp; pp = &(*pp)->next)
        if (*pp == lk) {
            *pp = lk->next;
            break;
        }
    resolve_free(lk->q);
    free(lk);
    client_send(cl, &r, addrs, NULL, 0);
}

/* RESOLVE: the answer is sent when the lookup ends (the program's shim
 * waits for it; it sends nothing else meanwhile). */
static void do_resolve(struct ctl_client *cl, const struct ctl_req *q, const uint8_t *payload)
{
    struct ctl_server *sv = cl->sv;
    struct ctl_resp r = {0};
    char name[256];
    struct tern_resolve_opts ro = sv->ro;
    if (!ro.nservers)
        for (unsigned i = 0; i < 4 && sv->env->dns[i] && ro.nservers < TERN_RESOLVE_MAX_SERVERS; i++)
            ro.servers[ro.nservers++] = sv->env->dns[i];
    if (!ro.nservers) {
        r.ret = -ENOSYS; /* no DNS server: the shim asks libc */
        client_send(cl, &r, NULL, NULL, 0);
        return;
    }
    if (q->len == 0 || q->len >= sizeof name) {
        r.ret = -EINVAL;
        client_send(cl, &r, NULL, NULL, 0);
        return;
    }
    memcpy(name, payload, q->len);
    name[q->len] = 0;
    ro.qtype = 0; /* A */
    struct ctl_lookup *lk = calloc(1, sizeof *lk);
    int e = 0;
    if (lk) {
        lk->cl = cl;
        lk->q = resolve_start(sv->env->stack, sv->env->loop, name, &ro, lookup_done, lk, &e);
    }
    if (!lk || !lk->q) {
        free(lk);
        r.ret = lk ? -tern_errno(e) : -ENOMEM;
        client_send(cl, &r, NULL, NULL, 0);
        return;
    }
    lk->next = cl->lookups;
    cl->lookups = lk;
}

unsigned ctl_server_sockets(const struct ctl_server *sv)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < sv->nsocks; i++)
        n += sv->socks[i] != NULL;
    return n;
}

void ctl_server_set_resolver(struct ctl_server *sv, const struct tern_resolve_opts *ro)
{
    sv->ro = *ro;
}

/* The trace wrapper's tap while a client dumps: each frame to each
 * dumping client, never blocking the stack (a full socket drops it). */
static void dump_tap(void *ctx, uint64_t ts_us, const uint8_t *frame, size_t len)
{
    struct ctl_server *sv = ctx;
    struct ctl_resp r = {.val = (int64_t)ts_us, .id = (uint32_t)len};
    r.len = (uint16_t)(len > 65535 ? 65535 : len);
    struct iovec iov[2] = {{&r, sizeof r}, {(void *)frame, r.len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    for (struct ctl_client *cl = sv->clients; cl; cl = cl->next)
        if (cl->dumping)
            (void)sendmsg(cl->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void do_dump(struct ctl_client *cl)
{
    struct ctl_server *sv = cl->sv;
    struct ctl_resp r = {0};
    struct tern_device *t = sv->env->trace_dev;
    if (!t || cl->dumping) {
        r.ret = t ? -EALREADY : -ENOSYS;
        client_send(cl, &r, NULL, NULL, 0);
        return;
    }
    r.val = tern_trace_set_tap(t, dump_tap, sv);
    if (sv->ndump == 0 && client_send(cl, &r, NULL, NULL, 0) < 0) {
        tern_trace_set_tap(t, NULL, NULL);
        return;
    }
    if (sv->ndump > 0 && client_send(cl, &r, NULL, NULL, 0) < 0)
        return;
    int sz = 4 << 20; /* room for a burst while the client prints */
    setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    cl->dumping = true;
    sv->ndump++;
}

static void client_request(struct ctl_client *cl, const struct ctl_req *q, const uint8_t *payload)
{
    struct ctl_server *sv = cl->sv;
    struct ctl_resp r = {0};
    struct csock *c = NULL;
    int memfd = -1;
    if (q->op != CTL_OP_HELLO && q->op != CTL_OP_SOCKET && q->op != CTL_OP_SS &&
        q->op != CTL_OP_STATS && q->op != CTL_OP_RESOLVE && q->op != CTL_OP_DUMP) {
        c = client_sock(cl, q->id);
        if (!c) {
            if ((q->op == CTL_OP_KICK && !q->a) || q->op == CTL_OP_CLOSE)
                return;
            if (q->op == CTL_OP_ADOPT && q->id >= 1 && q->id <= sv->nsocks &&
                sv->socks[q->id - 1] && !sv->socks[q->id - 1]->closing) {
                c = sv->socks[q->id - 1];
            } else {
                r.ret = -EBADF;
                client_send(cl, &r, NULL, NULL, 0);
                return;
            }
        }
    }
    struct tern_sockaddr a = {q->addr, q->port};
    int e;
    switch (q->op) {
    case CTL_OP_HELLO:
        r.val = CTL_VERSION;
        r.ret = q->a == CTL_VERSION ? 0 : -EPROTONOSUPPORT;
        break;
    case CTL_OP_SOCKET: {
        if (q->a != 1 && q->a != 2) {
            r.ret = -EINVAL;
            break;
        }
        struct tern_sock *sk = tern_sock_open(sv->env->stack, q->a == 2 ? TERN_SOCK_STREAM
                                                                          : TERN_SOCK_DGRAM, &e);
        if (!sk) {
            r.ret = -tern_errno(e);
            break;
        }
        c = cs_new(sv, sk, q->a, &memfd);
        if (!c || !client_add_id(cl, c->id)) {
            if (c)
                cs_free(c);
            else
                tern_sock_abort(sk);
            if (memfd >= 0)
                close(memfd);
            r.ret = -ENOMEM;
            break;
        }
        c->refs = 1;
        r.id = c->id;
        r.val = CTL_SHM_SIZE;
        int fds[2] = {memfd, c->evfd};
        cs_mirror(c);
        client_send(cl, &r, NULL, fds, 2);
        close(memfd);
        return;
    }
    case CTL_OP_BIND:
        r.ret = c->sk ? -tern_errno(tern_sock_bind(c->sk, &a)) : -EINVAL;
        break;
    case CTL_OP_LISTEN:
        if (!c->sk || c->type != 2) {
            r.ret = -EOPNOTSUPP;
            break;
        }
        r.ret = -tern_errno(tern_sock_listen(c->sk, q->a));
        if (!r.ret) {
            c->listener = true;
            atomic_store(&c->shm->state, CTL_ST_LISTEN);
        }
        cs_pump(c);
        break;
    case CTL_OP_CONNECT:
        if (!c->sk) {
            r.ret = -EBADF;
            break;
        }
        if (c->type == 2 && atomic_load(&c->shm->state) == CTL_ST_CONNECTING) {
            r.ret = -EALREADY;
            break;
        }
        e = tern_sock_connect(c->sk, q->a == 1 ? NULL : &a);
        if (e == TERN_E_INPROGRESS) {
            atomic_store(&c->shm->state, CTL_ST_CONNECTING);
            r.ret = -EINPROGRESS;
        } else {
            r.ret = -tern_errno(e);
            if (!e && c->type == 2)
                atomic_store(&c->shm->state, CTL_ST_CONNECTED);
        }
        cs_pump(c);
        break;
    case CTL_OP_ACCEPT: {
        if (!c->sk || !c->listener) {
            r.ret = -EINVAL;
            break;
        }
        struct tern_sockaddr peer;
        struct tern_sock *nsk = tern_sock_accept(c->sk, &peer, &e);
        if (!nsk) {
            r.ret = -tern_errno(e);
            cs_pump(c);
            break;
        }
        struct csock *n = cs_new(sv, nsk, 2, &memfd);
        if (!n || !client_add_id(cl, n->id)) {
            if (n)
                cs_free(n);
            else
                tern_sock_abort(nsk);
            if (memfd >= 0)
                close(memfd);
            r.ret = -ENOMEM;
            cs_pump(c);
            break;
        }
        n->refs = 1;
        atomic_store(&n->shm->state, CTL_ST_CONNECTED);
        r.id = n->id;
        r.addr = peer.addr;
        r.port = peer.port;
        r.val = CTL_SHM_SIZE;
        cs_pump(n);
        cs_pump(c);
        int fds[2] = {memfd, n->evfd};
        client_send(cl, &r, NULL, fds, 2);
        close(memfd);
        return;
    }
    case CTL_OP_SHUTDOWN:
        if (!c->sk) {
            r.ret = -ENOTCONN;
            break;
        }
        if (c->type == 2 && atomic_load(&c->shm->state) != CTL_ST_CONNECTED) {
            r.ret = -ENOTCONN;
            break;
        }
        if (q->a == SHUT_RD || q->a == SHUT_RDWR)
            atomic_fetch_or(&c->shm->flags, CTL_F_RD_SHUT);
        if (q->a == SHUT_WR || q->a == SHUT_RDWR) {
            if (c->type == 2)
                atomic_fetch_or(&c->shm->flags, CTL_F_WR_SHUT);
            else
                r.ret = -tern_errno(tern_sock_shutdown(c->sk, TERN_SHUT_WR));
        }
        cs_pump(c);
        break;
    case CTL_OP_CLOSE:
        client_drop_id(cl, q->id);
        return;
    case CTL_OP_GETNAME: {
        struct tern_sockaddr o = {0, 0};
        if (c->sk)
            r.ret = -tern_errno(q->a ? tern_sock_getpeername(c->sk, &o)
                                     : tern_sock_getsockname(c->sk, &o));
        else
            r.ret = q->a ? -ENOTCONN : 0;
        r.addr = o.addr;
        r.port = o.port;
        break;
    }
    case CTL_OP_SETOPT:
        r.ret = c->sk ? -tern_errno(tern_sock_setopt(c->sk, (enum tern_sockopt)map_opt(q->a), q->b))
                      : -EINVAL;
        break;
    case CTL_OP_GETOPT:
        if (q->a == 0) { /* SO_ERROR */
            int pend = atomic_exchange(&c->shm->err, 0);
            if (!pend && c->sk)
                pend = tern_errno(tern_sock_error(c->sk));
            r.val = pend;
            break;
        }
        if (c->sk) {
            int v = 0;
            r.ret = -tern_errno(tern_sock_getopt(c->sk, (enum tern_sockopt)map_opt(q->a), &v));
            r.val = v;
        } else {
            r.ret = -EINVAL;
        }
        break;
    case CTL_OP_ADOPT:
        if (!client_add_id(cl, c->id)) {
            r.ret = -ENOMEM;
            break;
        }
        c->refs++;
        break;
    case CTL_OP_KICK:
        cs_pump(c);
        if (!q->a)
            return;
        break; /* a = 1: the program waits until the mirror is up to date */
    case CTL_OP_SS:
        do_ss(cl, (unsigned)q->a);
        return;
    case CTL_OP_STATS:
        do_stats(cl);
        return;
    case CTL_OP_RESOLVE:
        do_resolve(cl, q, payload);
        return;
    case CTL_OP_DUMP:
        do_dump(cl);
        return;
    default:
        r.ret = -ENOSYS;
        break;
    }
    client_send(cl, &r, NULL, NULL, 0);
}

static void client_readable(int fd, void *arg)
{
    struct ctl_client *cl = arg;
    static uint8_t buf[sizeof(struct ctl_req) + 4096];
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            client_close(cl); /* the process exited or was killed */
            return;
        }
        struct ctl_req q;
        if ((size_t)n < sizeof q) {
            client_close(cl);
            return;
        }
        memcpy(&q, buf, sizeof q);
        if (q.magic != CTL_MAGIC || sizeof q + q.len > (size_t)n) {
            client_close(cl);
            return;
        }
        client_request(cl, &q, buf + sizeof q);
    }
}

static void server_readable(int fd, void *arg)
{
    struct ctl_server *sv = arg;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0)
        return;
    struct ctl_client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        close(cfd);
        return;
    }
    /* Responses are sent blocking (the client waits for them), but never
     * for more than a second: a client that stops reading is dropped. */
    int fl = fcntl(cfd, F_GETFL);
    fcntl(cfd, F_SETFL, fl & ~O_NONBLOCK);
    struct timeval tv = {1, 0};
    setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    cl->sv = sv;
    cl->fd = cfd;
    if (tern_loop_fd_watch(sv->env->loop, cfd, client_readable, cl) < 0) {
        close(cfd);
        free(cl);
        return;
    }
    cl->next = sv->clients;
    sv->clients = cl;
}

struct ctl_server *ctl_server_open(struct tern_env *env, const char *path, const char *prog)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "%s: control path too long: %s\n", prog, path);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    struct stat stt;
    if (stat(path, &stt) == 0 && S_ISSOCK(stt.st_mode))
        unlink(path);
    struct ctl_server *sv = calloc(1, sizeof *sv);
    if (!sv)
        return NULL;
    sv->env = env;
    strcpy(sv->path, path);
    sv->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sv->lfd < 0 || bind(sv->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(sv->lfd, 64) < 0) {
        fprintf(stderr, "%s: control socket %s: %s\n", prog, path, strerror(errno));
        if (sv->lfd >= 0)
            close(sv->lfd);
        free(sv);
        return NULL;
    }
    if (tern_loop_fd_watch(env->loop, sv->lfd, server_readable, sv) < 0) {
        close(sv->lfd);
        unlink(path);
        free(sv);
        return NULL;
    }
    return sv;
}

void ctl_server_close(struct ctl_server *sv)
{
    if (!sv)
        return;
    while (sv->clients)
        client_close(sv->clients);
    for (uint32_t i = 0; i < sv->nsocks; i++)
        if (sv->socks[i])
            cs_free(sv->socks[i]);
    free(sv->socks);
    tern_loop_fd_unwatch(sv->env->loop, sv->lfd);
    close(sv->lfd);
    unlink(sv->path);
    free(sv);
}
