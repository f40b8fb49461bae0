/*
 * socket.c - the generic half of tern's socket API (tern/socket.h): the
 * per-stack socket pool, common options, readiness notifications deferred
 * to the loop, the byte ring used by receive queues, and the netstat table.
 * Not: anything protocol-specific (udp.c, later tcp_*.c, through struct
 * sock_proto_ops), the port table (ports.c).
 *
 * Notifications: an event that may change readiness puts the socket on a
 * per-stack list and arms a zero-delay timer; the timer callback (a fresh
 * turn of the loop) calls each handler with poll() & (interest|ERR|HUP).
 * The handler never runs inside the input path or inside another tern
 * call, so an app may call any tern function from it (edge-style, like
 * EPOLLET: one call per batch of events, not per datagram).
 */
#include <stdlib.h>
#include <string.h>

#include "core/mcast.h"
#include "core/socket_impl.h"

/* ---- byte ring ---------------------------------------------------------- */

int ring_alloc(struct sock_ring *r, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->buf = malloc(cap ? cap : 1);
    if (!r->buf)
        return TERN_E_NOMEM;
    r->cap = cap;
    return TERN_OK;
}

void ring_free(struct sock_ring *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

size_t ring_space(const struct sock_ring *r)
{
    return r->cap - r->used;
}

void ring_write(struct sock_ring *r, const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t tail = (r->head + r->used) % (r->cap ? r->cap : 1);
    size_t first = r->cap - tail < n ? r->cap - tail : n;
    memcpy(r->buf + tail, b, first);
    if (n > first)
        memcpy(r->buf, b + first, n - first);
    r->used += n;
}

void ring_peek(const struct sock_ring *r, size_t off, void *p, size_t n)
{
    uint8_t *b = p;
    if (!n)
        return;
    size_t at = (r->head + off) % r->cap;
    size_t first = r->cap - at < n ? r->cap - at : n;
    memcpy(b, r->buf + at, first);
    if (n > first)
        memcpy(b + first, r->buf, n - first);
}

void ring_skip(struct sock_ring *r, size_t n)
{
    r->head = r->cap ? (r->head + n) % r->cap : 0;
    r->used -= n;
    if (r->used == 0)
        r->head = 0;
}

int ring_resize(struct sock_ring *r, size_t cap)
{
    if (cap < r->used)
        return TERN_E_INVAL;
    uint8_t *nb = malloc(cap ? cap : 1);
    if (!nb)
        return TERN_E_NOMEM;
    ring_peek(r, 0, nb, r->used);
    free(r->buf);
    r->buf = nb;
    r->cap = cap;
    r->head = 0;
    return TERN_OK;
}

/* ---- pool and notification lists --------------------------------------- */

struct tern_sock *sock_at(struct tern_stack *s, uint32_t idx)
{
    return idx == SOCK_NIL ? NULL : sock_slot(s, idx);
}

static void nlist_unlink(struct tern_stack *s, struct tern_sock *sk)
{
    uint32_t *head = sk->nlist == 1 ? &s->notify_head : &s->run_head;
    uint32_t *tail = sk->nlist == 1 ? &s->notify_tail : &s->run_tail;
    if (!sk->nlist)
        return;
    if (sk->nprev != SOCK_NIL)
        sock_slot(s, sk->nprev)->nnext = sk->nnext;
    else
        *head = sk->nnext;
    if (sk->nnext != SOCK_NIL)
        sock_slot(s, sk->nnext)->nprev = sk->nprev;
    else
        *tail = sk->nprev;
    sk->nlist = 0;
    sk->nprev = sk->nnext = SOCK_NIL;
}

static void notify_timer_fn(struct tern_timer *t, void *arg)
{
    struct tern_stack *s = arg;
    (void)t;
    /* This turn serves what was pending when it began; events raised by the
     * handlers below go to the (now empty) notify list and the next turn. */
    s->run_head = s->notify_head;
    s->run_tail = s->notify_tail;
    s->notify_head = s->notify_tail = SOCK_NIL;
    for (uint32_t i = s->run_head; i != SOCK_NIL; i = sock_slot(s, i)->nnext)
        sock_slot(s, i)->nlist = 2;
    s->app_turn = true;
    while (s->run_head != SOCK_NIL) {
        struct tern_sock *sk = sock_slot(s, s->run_head);
        nlist_unlink(s, sk);
        if (!sk->used || sk->app_closed || !sk->fn)
            continue;
        unsigned ev = sk->ops->poll(sk) & (sk->interest | TERN_POLLERR | TERN_POLLHUP);
        if (ev)
            sk->fn(sk, ev, sk->ctx); /* may close sk or any other socket */
    }
    s->app_turn = false;
    /* What the handlers sent, closed and read goes out now: data and the
     * FIN of a send-then-close in one segment, the ACK of a request on its
     * response (a socket freed meanwhile was cleared, memset). */
    for (unsigned i = 0; i < s->ntx_defer; i++) {
        struct tern_sock *sk = sock_slot(s, s->tx_defer[i]);
        if (sk->used && sk->tx_deferred) {
            sk->tx_deferred = false;
            sk->ops->flush(sk);
        }
    }
    s->ntx_defer = 0;
}

bool sock_defer_tx(struct tern_sock *sk)
{
    struct tern_stack *s = sk->s;
    if (!s->app_turn || !sk->ops->flush)
        return false;
    if (sk->tx_deferred)
        return true;
    if (s->ntx_defer == sizeof s->tx_defer / sizeof s->tx_defer[0])
        return false;
    s->tx_defer[s->ntx_defer++] = sk->idx;
    sk->tx_deferred = true;
    return true;
}

void sock_notify(struct tern_sock *sk)
{
    struct tern_stack *s = sk->s;
    if (!sk->fn || sk->app_closed || sk->nlist == 1)
        return;
    if (sk->nlist == 2)
        nlist_unlink(s, sk); /* not served yet this turn: move to the next */
    sk->nlist = 1;
    sk->nnext = SOCK_NIL;
    sk->nprev = s->notify_tail;
    if (s->notify_tail != SOCK_NIL)
        sock_slot(s, s->notify_tail)->nnext = sk->idx;
    else
        s->notify_head = sk->idx;
    s->notify_tail = sk->idx;
    if (!tern_timer_armed(&s->notify_timer))
        tern_timer_arm(s->loop, &s->notify_timer, tern_loop_now(s->loop));
}

void sock_set_error(struct tern_sock *sk, int err)
{
    sk->so_error = err;
    sock_notify(sk);
}

int sock_take_error(struct tern_sock *sk)
{
    int e = sk->so_error;
    sk->so_error = 0;
    return e;
}

int sock_init(struct tern_stack *s)
{
    uint32_t nchunks = (s->cfg.max_sockets + SOCK_CHUNK - 1) / SOCK_CHUNK;
    s->sock_chunks = calloc(nchunks, sizeof *s->sock_chunks);
    if (!s->sock_chunks)
        return TERN_E_NOMEM;
    s->sock_cap = 0;
    s->sock_free = SOCK_NIL;
    s->notify_head = s->notify_tail = s->run_head = s->run_tail = SOCK_NIL;
    tern_timer_init(&s->notify_timer, notify_timer_fn, s);
    return ports_init(s);
}

/* One more chunk of slots when every slot is taken, up to cfg.max_sockets.
 * The new slots join the free list in ascending order, as the whole table
 * did when it was allocated at once: sockets get the same indexes. */
static int sock_grow(struct tern_stack *s)
{
    uint32_t cap = s->sock_cap, max = s->cfg.max_sockets;
    if (cap >= max)
        return TERN_E_NOMEM;
    uint32_t n = max - cap < SOCK_CHUNK ? max - cap : SOCK_CHUNK;
    struct tern_sock *c = calloc(n, sizeof *c);
    if (!c)
        return TERN_E_NOMEM;
    s->sock_chunks[cap >> SOCK_CHUNK_SHIFT] = c;
    for (uint32_t i = 0; i < n; i++) {
        c[i].idx = cap + i;
        c[i].free_next = i + 1 < n ? cap + i + 1 : SOCK_NIL;
    }
    s->sock_free = cap;
    s->sock_cap = cap + n;
    ports_grow(s);
    return TERN_OK;
}

void sock_fini(struct tern_stack *s)
{
    if (s->notify_timer.fn && tern_timer_armed(&s->notify_timer))
        tern_timer_cancel(s->loop, &s->notify_timer);
    if (s->sock_chunks)
        for (uint32_t i = 0; i < s->sock_cap; i++) {
            struct tern_sock *sk = sock_slot(s, i);
            if (!sk->used)
                continue;
            if (sk->type == TERN_SOCK_DGRAM)
                udp_sock_free(sk); /* sockets the app never closed */
            free(sk->mc);          /* no leave reports at teardown */
        }
    ports_free(s);
    if (s->sock_chunks)
        for (uint32_t c = 0; c < (s->sock_cap + SOCK_CHUNK - 1) / SOCK_CHUNK; c++)
            free(s->sock_chunks[c]);
    free(s->sock_chunks);
}

void sock_release(struct tern_sock *sk)
{
    struct tern_stack *s = sk->s;
    nlist_unlink(s, sk);
    ports_unbind(s, sk);
    mcast_sock_release(sk); /* RFC 1112 s7.1: leaving with the last user */
    if (sk->type == TERN_SOCK_DGRAM)
        udp_sock_free(sk);
    uint32_t idx = sk->idx;
    memset(sk, 0, sizeof *sk);
    sk->idx = idx;
    sk->free_next = s->sock_free;
    s->sock_free = idx;
    s->sock_count--;
}

/* ---- the API ------------------------------------------------------------ */

struct tern_sock *tern_sock_open(struct tern_stack *s, enum tern_sock_type type, int *err)
{
    int e = TERN_OK;
    struct tern_sock *sk = NULL;
    if (!s || (type != TERN_SOCK_DGRAM && type != TERN_SOCK_STREAM))
        e = TERN_E_INVAL;
    else if (!s->sock_ops[type])
        e = TERN_E_UNSUPPORTED;
    else if (s->sock_free == SOCK_NIL && sock_grow(s) < 0)
        e = TERN_E_NOMEM; /* the table is full (G3: TIME_WAIT holds no slot, tcp_tw.c) */
    if (e == TERN_OK) {
        sk = sock_slot(s, s->sock_free);
        s->sock_free = sk->free_next;
        s->sock_count++;
        uint32_t idx = sk->idx;
        memset(sk, 0, sizeof *sk);
        sk->idx = idx;
        sk->used = true;
        sk->s = s;
        sk->type = type;
        sk->ops = s->sock_ops[type];
        sk->proto = sk->ops->proto;
        sk->bind_ifindex = -1;
        sk->mc_ifindex = -1;
        sk->mc_ttl = 1;    /* RFC 1112 s6.1: multicast stays on the link unless asked */
        sk->mc_loop = true; /* Linux IP_MULTICAST_LOOP default */
        sk->mc_all = true;  /* Linux IP_MULTICAST_ALL default */
        sk->nprev = sk->nnext = sk->bnext = sk->cnext = sk->free_next = SOCK_NIL;
        sk->rcvbuf = s->cfg.udp_rcvbuf;
        sk->sndbuf = s->cfg.udp_rcvbuf;
        e = sk->ops->open(sk);
        if (e < 0) {
            sock_release(sk);
            sk = NULL;
        }
    }
    if (err)
        *err = e;
    return sk;
}

void tern_sock_set_handler(struct tern_sock *sk, unsigned interest, tern_sock_fn fn, void *ctx)
{
    sk->fn = fn;
    sk->ctx = ctx;
    sk->interest = interest;
    /* Edge-style: whatever is already ready is reported once, on the loop. */
    if (fn)
        sock_notify(sk);
    else if (sk->nlist)
        nlist_unlink(sk->s, sk);
}

unsigned tern_sock_poll(const struct tern_sock *sk)
{
    return sk->ops->poll(sk);
}

int tern_sock_bind(struct tern_sock *sk, const struct tern_sockaddr *local)
{
    if (!local)
        return TERN_E_INVAL;
    return sk->ops->bind(sk, local);
}

int tern_sock_connect(struct tern_sock *sk, const struct tern_sockaddr *peer)
{
    return sk->ops->connect(sk, peer);
}

int tern_sock_listen(struct tern_sock *sk, int backlog)
{
    return sk->ops->listen(sk, backlog);
}

struct tern_sock *tern_sock_accept(struct tern_sock *sk, struct tern_sockaddr *peer, int *err)
{
    return sk->ops->accept(sk, peer, err);
}

ssize_t tern_sock_sendto(struct tern_sock *sk, const void *buf, size_t len, int flags,
                         const struct tern_sockaddr *to)
{
    if (len && !buf)
        return TERN_E_INVAL;
    return sk->ops->sendto(sk, buf, len, flags, to);
}

ssize_t tern_sock_send(struct tern_sock *sk, const void *buf, size_t len, int flags)
{
    return tern_sock_sendto(sk, buf, len, flags, NULL);
}

ssize_t tern_sock_recvfrom(struct tern_sock *sk, void *buf, size_t len, int flags,
                           struct tern_sockaddr *from, int *out_flags)
{
    if (out_flags)
        *out_flags = 0;
    if (len && !buf)
        return TERN_E_INVAL;
    return sk->ops->recvfrom(sk, buf, len, flags, from, out_flags);
}

int tern_sock_recv_post(struct tern_sock *sk, void *buf, size_t len)
{
    if (!sk || sk->type != TERN_SOCK_STREAM || (len && !buf))
        return TERN_E_INVAL;
    if (sk->rd_got)
        return TERN_E_AGAIN; /* its bytes would be lost */
    sk->rd_buf = len ? buf : NULL;
    sk->rd_len = len;
    return TERN_OK;
}

ssize_t tern_sock_recv(struct tern_sock *sk, void *buf, size_t len, int flags)
{
    return tern_sock_recvfrom(sk, buf, len, flags, NULL, NULL);
}

int tern_sock_shutdown(struct tern_sock *sk, int how)
{
    if (how != TERN_SHUT_RD && how != TERN_SHUT_WR && how != TERN_SHUT_RDWR)
        return TERN_E_INVAL;
    return sk->ops->shutdown(sk, how);
}

int tern_sock_close(struct tern_sock *sk)
{
    if (!sk)
        return TERN_E_INVAL;
    sk->app_closed = true;
    sk->fn = NULL;
    nlist_unlink(sk->s, sk);
    return sk->ops->close(sk);
}

void tern_sock_abort(struct tern_sock *sk)
{
    if (!sk)
        return;
    sk->app_closed = true;
    sk->fn = NULL;
    nlist_unlink(sk->s, sk);
    sk->ops->abort(sk);
}

int tern_sock_getsockname(const struct tern_sock *sk, struct tern_sockaddr *local)
{
    if (!local)
        return TERN_E_INVAL;
    *local = sk->local;
    return TERN_OK;
}

int tern_sock_getpeername(const struct tern_sock *sk, struct tern_sockaddr *peer)
{
    if (!peer)
        return TERN_E_INVAL;
    if (!sk->connected)
        return TERN_E_NOTCONN;
    *peer = sk->peer;
    return TERN_OK;
}

int tern_sock_error(struct tern_sock *sk)
{
    return sock_take_error(sk);
}

int tern_sock_setopt(struct tern_sock *sk, enum tern_sockopt opt, int value)
{
    switch (opt) {
    case TERN_SO_REUSEADDR: sk->reuseaddr = value != 0; return TERN_OK;
    case TERN_SO_BROADCAST: sk->broadcast = value != 0; return TERN_OK;
    case TERN_SO_PRIVILEGED: sk->privileged = value != 0; return TERN_OK;
    case TERN_SO_KEEPALIVE: sk->keepalive = value != 0; break; /* TCP acts on it */
    case TERN_SO_BINDTOIFACE:
        if (value != -1 && !stack_iface(sk->s, value))
            return TERN_E_INVAL;
        sk->bind_ifindex = value;
        return TERN_OK;
    case TERN_IP_TTL:
        if (value < 0 || value > 255)
            return TERN_E_INVAL;
        sk->ttl = (uint8_t)value;
        return TERN_OK;
    case TERN_IP_TOS:
        if (value < 0 || value > 255)
            return TERN_E_INVAL;
        sk->tos = (uint8_t)value;
        return TERN_OK;
    case TERN_IP_MULTICAST_TTL:
        if (value < -1 || value > 255)
            return TERN_E_INVAL;
        sk->mc_ttl = (uint8_t)(value < 0 ? 1 : value); /* Linux: -1 = the default 1 */
        return TERN_OK;
    case TERN_IP_MULTICAST_LOOP: sk->mc_loop = value != 0; return TERN_OK;
    case TERN_IP_MULTICAST_ALL: sk->mc_all = value != 0; return TERN_OK;
    case TERN_IP_MULTICAST_IF:
        if (value != -1 && !stack_iface(sk->s, value))
            return TERN_E_INVAL;
        sk->mc_ifindex = value;
        return TERN_OK;
    case TERN_SO_RCVBUF:
    case TERN_SO_SNDBUF:
        if (value < 0)
            return TERN_E_INVAL;
        break; /* the protocol clamps and applies */
    default:
        break;
    }
    return sk->ops->setopt(sk, opt, value);
}

int tern_sock_getopt(const struct tern_sock *sk, enum tern_sockopt opt, int *value)
{
    if (!value)
        return TERN_E_INVAL;
    switch (opt) {
    case TERN_SO_REUSEADDR: *value = sk->reuseaddr; return TERN_OK;
    case TERN_SO_BROADCAST: *value = sk->broadcast; return TERN_OK;
    case TERN_SO_PRIVILEGED: *value = sk->privileged; return TERN_OK;
    case TERN_SO_KEEPALIVE: *value = sk->keepalive; return TERN_OK;
    case TERN_SO_BINDTOIFACE: *value = sk->bind_ifindex; return TERN_OK;
    case TERN_SO_RCVBUF: *value = (int)sk->rcvbuf; return TERN_OK;
    case TERN_SO_SNDBUF: *value = (int)sk->sndbuf; return TERN_OK;
    case TERN_IP_TTL: *value = sk->ttl ? sk->ttl : sk->s->cfg.default_ttl; return TERN_OK;
    case TERN_IP_TOS: *value = sk->tos; return TERN_OK;
    case TERN_IP_MULTICAST_TTL: *value = sk->mc_ttl; return TERN_OK;
    case TERN_IP_MULTICAST_LOOP: *value = sk->mc_loop; return TERN_OK;
    case TERN_IP_MULTICAST_ALL: *value = sk->mc_all; return TERN_OK;
    case TERN_IP_MULTICAST_IF: *value = sk->mc_ifindex; return TERN_OK;
    default: return sk->ops->getopt ? sk->ops->getopt(sk, opt, value) : TERN_E_OPNOTSUPP;
    }
}

/* ---- netstat ------------------------------------------------------------ */

static int info_cmp(const struct tern_sock_info *a, const struct tern_sock_info *b)
{
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    if (a->local.addr != b->local.addr)
        return a->local.addr < b->local.addr ? -1 : 1;
    if (a->local.port != b->local.port)
        return a->local.port < b->local.port ? -1 : 1;
    if (a->peer.addr != b->peer.addr)
        return a->peer.addr < b->peer.addr ? -1 : 1;
    return a->peer.port < b->peer.port ? -1 : a->peer.port > b->peer.port;
}

struct list_ctx {
    struct tern_sock_info *out;
    size_t cap, kept;
};

/* Insertion into the first `cap` rows, kept sorted. */
static void list_add(void *arg, const struct tern_sock_info *row)
{
    struct list_ctx *c = arg;
    if (!c->out || c->cap == 0)
        return;
    size_t at = c->kept;
    while (at > 0 && info_cmp(row, &c->out[at - 1]) < 0)
        at--;
    if (at >= c->cap)
        return;
    size_t move = (c->kept < c->cap ? c->kept : c->cap - 1) - at;
    memmove(&c->out[at + 1], &c->out[at], move * sizeof *c->out);
    c->out[at] = *row;
    if (c->kept < c->cap)
        c->kept++;
}

size_t tern_sock_list(struct tern_stack *s, struct tern_sock_info *out, size_t cap)
{
    size_t n = 0;
    struct list_ctx c = {out, cap, 0};
    if (!s)
        return 0;
    for (uint32_t i = 0; i < s->sock_cap; i++) {
        struct tern_sock *sk = sock_slot(s, i);
        if (!sk->used)
            continue;
        n++;
        if (!out || cap == 0)
            continue;
        struct tern_sock_info row;
        memset(&row, 0, sizeof row);
        sk->ops->info(sk, &row);
        list_add(&c, &row);
    }
    /* TIME_WAIT connections whose socket is gone (tcp_tw.c) */
    n += tcp_tw_rows(s, out && cap ? list_add : NULL, &c);
    /* SYN_RECV connections still in the SYN queue (tcp_req.c) */
    n += tcp_req_rows(s, out && cap ? list_add : NULL, &c);
    return n;
}
