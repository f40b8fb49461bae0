/*
 * tests/core/tcp_sweep.c - see tcp_sweep.h. The byte at offset i of a
 * stream is pat(key, i), so a receiver checks each byte where it lands and
 * a cut stream (abort, reset) is checked as a prefix. Test code.
 */
#include "tcp_sweep.h"

#include <stdlib.h>

#include "harness.h"

uint64_t sweep_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint8_t pat(uint64_t key, size_t i)
{
    return (uint8_t)(sweep_mix64(key ^ (i >> 3)) >> ((i & 7) * 8));
}

uint64_t sweep_fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* A number in [lo, hi] from the seed's stream r. */
uint64_t sweep_pick(uint64_t *r, uint64_t lo, uint64_t hi)
{
    *r = sweep_mix64(*r);
    return lo + *r % (hi - lo + 1);
}

static void sweep_flow_init(struct sweep_flow *f, uint64_t key, size_t size)
{
    *f = (struct sweep_flow){.key = key, .size = size, .h_sent = 0xcbf29ce484222325ull,
                       .h_got = 0xcbf29ce484222325ull, .bad_at = SWEEP_NONE};
}

bool sweep_all_closed(const struct sweep *sw)
{
    return sw->open_eps == 0;
}

static void ep_gone(struct sweep *sw)
{
    if (--sw->open_eps == 0 && sw->running)
        tern_loop_stop(sw->n.loop);
}

void sweep_ep_close(struct sweep_ep *e, bool abort)
{
    if (e->closed)
        return;
    e->closed = true;
    if (e->sk) {
        if (abort)
            tern_sock_abort(e->sk);
        else
            tern_sock_close(e->sk);
    }
    e->sk = NULL;
    ep_gone(e->c->sw);
}

static void ep_step(struct sweep_ep *e);
static void conn_connect(struct sweep_conn *c);

static void ep_fn(struct tern_sock *sk, unsigned ev, void *ctx)
{
    (void)sk;
    (void)ev;
    ep_step(ctx);
}

/* An error on e: expected on a cut stream (counted: the reset arrived),
 * a failure of the run on any other. The app closes. */
static void ep_fail(struct sweep_ep *e, int err, bool cut)
{
    if (cut)
        e->c->sw->resets++;
    else if (!e->err)
        e->err = err;
    sweep_ep_close(e, false);
}

/* Reads what is queued, checking each byte against the pattern. */
static void ep_read(struct sweep_ep *e)
{
    static uint8_t buf[16384];
    struct sweep_flow *f = e->in;
    struct sweep_conn *c = e->c;
    while (!e->closed && !e->stop_reading && !f->eof) {
        ssize_t r = tern_sock_recv(e->sk, buf, sizeof buf, 0);
        if (r == TERN_E_AGAIN)
            return;
        if (r < 0) {
            ep_fail(e, (int)r, f->cut);
            return;
        }
        if (r == 0) {
            f->eof = true;
            f->done_us = tern_loop_now(c->sw->n.loop);
            return;
        }
        for (size_t i = 0; i < (size_t)r && f->bad_at == SWEEP_NONE; i++)
            if (f->got + i >= f->size || buf[i] != pat(f->key, f->got + i))
                f->bad_at = f->got + i;
        f->h_got = sweep_fnv(f->h_got, buf, (size_t)r);
        f->got += (size_t)r;
        if (c->cut_at && f->got >= c->cut_at && e == &c->sv) {
            if (c->kind == K_ABORT && !c->cl.closed) {
                sweep_ep_close(&c->cl, true); /* the sender gives up: RST */
                /* If the RST is lost nothing more arrives; the app gives
                 * up after a while (an idle ESTABLISHED socket lives on). */
                tern_timer_arm(c->sw->n.loop, &c->linger,
                               tern_loop_now(c->sw->n.loop) + 20000000);
            }
            if (c->kind == K_RSTCLOSE)
                e->stop_reading = true; /* close once more data waits unread */
        }
    }
}

static void ep_write(struct sweep_ep *e)
{
    static uint8_t buf[16384];
    struct sweep_flow *f = e->out;
    while (f->written < f->size) {
        size_t k = f->size - f->written;
        if (k > sizeof buf)
            k = sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = pat(f->key, f->written + i);
        ssize_t w = tern_sock_send(e->sk, buf, k, 0);
        if (w == TERN_E_AGAIN)
            return;
        if (w < 0) {
            ep_fail(e, (int)w, f->cut);
            return;
        }
        f->h_sent = sweep_fnv(f->h_sent, buf, (size_t)w);
        f->written += (size_t)w;
    }
}

static void ep_step(struct sweep_ep *e)
{
    if (e->closed || !e->sk)
        return;
    struct sweep_conn *c = e->c;
    unsigned p = tern_sock_poll(e->sk);
    if (!e->connected) {
        if (p & TERN_POLLERR) {
            int err = tern_sock_error(e->sk);
            /* The handshake can fail on a bad enough link (all SYN
             * retries lost): the app tries again on a new socket. A
             * soft error seen meanwhile (ARP gave up on a SYN: host
             * unreachable) is what the timeout reports then (RFC 1122
             * 4.2.3.9), as Linux does: the same case. */
            tern_sock_close(e->sk);
            e->sk = NULL;
            if ((err == TERN_E_TIMEDOUT || err == TERN_E_HOSTUNREACH ||
                 err == TERN_E_NETUNREACH) && c->connects < 4) {
                conn_connect(c);
                return;
            }
            if (!e->err)
                e->err = err ? err : -1000;
            e->closed = true;
            ep_gone(c->sw);
            return;
        }
        if (!(p & TERN_POLLOUT))
            return;
        e->connected = true;
    }
    if (e->stop_reading) {
        uint8_t b;
        if (tern_sock_recv(e->sk, &b, 1, TERN_MSG_PEEK) != TERN_E_AGAIN)
            sweep_ep_close(e, false); /* unread data (or EOF/error): close now */
        return;
    }
    ep_read(e);
    if (e->closed)
        return;
    if (!e->shut && !(e->send_after_eof && !e->in->eof)) {
        ep_write(e);
        if (e->closed)
            return;
        if (e->out->written == e->out->size) {
            if (e->close_after_send) {
                sweep_ep_close(e, false); /* the data and the FIN still in flight */
                return;
            }
            int rc = tern_sock_shutdown(e->sk, TERN_SHUT_WR);
            if (rc < 0 && !e->out->cut && !e->err)
                e->err = rc;
            e->shut = true;
        }
    }
    if (tern_sock_poll(e->sk) & TERN_POLLERR) {
        int err = tern_sock_error(e->sk);
        if (err) {
            ep_fail(e, err, e->in->cut);
            return;
        }
    }
    if (e->shut && e->in->eof)
        sweep_ep_close(e, false);
}

static void listener_fn(struct tern_sock *lsk, unsigned ev, void *ctx)
{
    (void)ev;
    struct sweep_conn *c = ctx;
    struct tern_sock *sk;
    struct tern_sockaddr peer;
    while (c->lsk && (sk = tern_sock_accept(lsk, &peer, NULL)) != NULL) {
        if (peer.port != c->cl_port || c->sv.sk || c->sv.closed) {
            tern_sock_close(sk); /* a child of an earlier, abandoned attempt */
            continue;
        }
        c->sv.sk = sk;
        c->sv.connected = true;
        tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, ep_fn, &c->sv);
        tern_sock_close(c->lsk);
        c->lsk = NULL;
        ep_step(&c->sv); /* data may be queued already */
    }
}

static void conn_connect(struct sweep_conn *c)
{
    c->connects++;
    c->cl.sk = tern_sock_open(c->cs, TERN_SOCK_STREAM, NULL);
    if (!c->cl.sk) {
        c->cl.err = -2000;
        return;
    }
    uint32_t to = c->ss == c->sw->n.sb ? TN_B : TN_A;
    struct tern_sockaddr peer = {to, c->port}, local;
    tern_sock_set_handler(c->cl.sk, TERN_POLLIN | TERN_POLLOUT, ep_fn, &c->cl);
    int rc = tern_sock_connect(c->cl.sk, &peer);
    if (rc != TERN_E_INPROGRESS)
        c->cl.err = rc ? rc : -3000;
    tern_sock_getsockname(c->cl.sk, &local);
    c->cl_port = local.port;
}

static void start_fn(struct tern_timer *t, void *arg)
{
    (void)t;
    conn_connect(arg);
}

static void linger_fn(struct tern_timer *t, void *arg)
{
    (void)t;
    struct sweep_conn *c = arg;
    sweep_ep_close(&c->sv, false);
}

/* The connections of one seed; sizes, who opens and when vary by seed. */
void sweep_setup(struct sweep *sw, uint64_t *r)
{
    static const enum sweep_kind kinds[SWEEP_NCONN] = {K_BULK, K_TINY, K_HALF, K_INFLIGHT, K_ABORT,
                                           K_RSTCLOSE};
    uint32_t w = sw->win;
    for (int i = 0; i < SWEEP_NCONN; i++) {
        struct sweep_conn *c = &sw->c[i];
        c->sw = sw;
        c->kind = kinds[i];
        c->port = (uint16_t)(8000 + i);
        bool b_opens = sweep_pick(r, 0, 1); /* which stack connects */
        c->cs = b_opens ? sw->n.sb : sw->n.sa;
        c->ss = b_opens ? sw->n.sa : sw->n.sb;
        c->cl = (struct sweep_ep){.c = c, .out = &c->up, .in = &c->down};
        c->sv = (struct sweep_ep){.c = c, .out = &c->down, .in = &c->up};
        uint64_t key = sweep_mix64(sw->seed * 64 + (uint64_t)i * 2);
        size_t up = 0, down = 0;
        switch (c->kind) {
        case K_BULK: /* both ways at once, each more than a window */
            up = sweep_pick(r, w + w / 2, 3 * w);
            down = sweep_pick(r, w / 2, 2 * w);
            break;
        case K_TINY:
            up = sweep_pick(r, 0, 64);
            down = sweep_pick(r, 0, 64);
            break;
        case K_HALF:
            up = sweep_pick(r, 1, w);
            down = sweep_pick(r, 1, 2 * w);
            c->sv.send_after_eof = true;
            break;
        case K_INFLIGHT: /* one side writes (at most its send buffer) and closes at once */
            if (sweep_pick(r, 0, 1)) {
                up = sweep_pick(r, 1, w);
                c->cl.close_after_send = true;
            } else {
                down = sweep_pick(r, 1, w);
                c->sv.close_after_send = true;
            }
            break;
        case K_ABORT:
        case K_RSTCLOSE:
            up = 4 * (size_t)w;
            c->cut_at = sweep_pick(r, 1, w);
            break;
        }
        sweep_flow_init(&c->up, key, up);
        sweep_flow_init(&c->down, sweep_mix64(key + 1), down);
        if (c->kind == K_ABORT || c->kind == K_RSTCLOSE)
            c->up.cut = c->down.cut = true;
        if (c->kind == K_INFLIGHT) /* the closing end never reads its EOF */
            (c->cl.close_after_send ? &c->down : &c->up)->cut = true;
        c->lsk = tern_sock_open(c->ss, TERN_SOCK_STREAM, NULL);
        struct tern_sockaddr la = {0, c->port};
        CHECK(c->lsk && tern_sock_bind(c->lsk, &la) == 0 && tern_sock_listen(c->lsk, 4) == 0);
        tern_sock_set_handler(c->lsk, TERN_POLLIN, listener_fn, c);
        tern_timer_init(&c->start, start_fn, c);
        tern_timer_init(&c->linger, linger_fn, c);
        tern_timer_arm(sw->n.loop, &c->start, tern_loop_now(sw->n.loop) + sweep_pick(r, 0, 50000));
        sw->open_eps += 2;
    }
}
