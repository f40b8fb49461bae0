/*
 * src/tls/forward.c - the port forwarder (see forward.h).
 *
 * RFC 9293 s3.6: a FIN ends one direction only ("the user ... can continue
 * to RECEIVE"); RFC 8446 s6.1: close_notify likewise ends one direction of
 * a TLS 1.3 connection. So each direction is a pipe of its own and the
 * forwarder passes each end across, as stunnel does with its
 * shutdown(SHUT_WR) / SSL_shutdown() pairing.
 */
#include "tls/forward.h"

#include <stdlib.h>
#include <string.h>

#include "tern/err.h"
#include "tern/wire/ipv4.h"

#define CHUNK 16384

struct pipe {
    uint8_t buf[CHUNK];
    size_t len, off;
    bool eof, shut;
    uint64_t bytes;
};

struct fconn {
    struct tfwd *f;
    struct tstream *cli, *dst; /* accepted side, outgoing side */
    struct pipe up, down;      /* cli -> dst, dst -> cli */
    struct tern_sockaddr peer;
    struct fconn *prev, *next;
    bool done;
};

struct tfwd {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tfwd_opts o;
    char dst_text[16];
    struct tern_sock *lsk;
    struct fconn *conns;
    struct tfwd_stats st;
};

static void conn_unlink_free(struct fconn *c)
{
    struct tfwd *f = c->f;
    if (c->prev)
        c->prev->next = c->next;
    else
        f->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    f->st.active--;
    free(c);
}

static void log_end(struct fconn *c, const char *how, const char *why)
{
    FILE *lf = c->f->o.log;
    if (!lf)
        return;
    char a[16], b[16], d[96] = "";
    struct tstream *tls_side = c->f->o.connect_tls ? c->dst : c->f->o.accept_tls ? c->cli : NULL;
    if (tls_side)
        tstream_describe(tls_side, d, sizeof d);
    fprintf(lf, "tern forward: %s:%u -> %s:%u %s%s%s%s %llu bytes sent, %llu bytes received%s%s%s\n",
            tern_ipv4_ntoa(c->peer.addr, a), c->peer.port, tern_ipv4_ntoa(c->f->o.dst_addr, b),
            c->f->o.dst_port, how, why ? ": " : "", why ? why : "", why ? ";" : ":",
            (unsigned long long)c->up.bytes, (unsigned long long)c->down.bytes,
            d[0] ? " (" : "", d, d[0] ? ")" : "");
    fflush(lf);
}

/* The end: graceful (both directions done) or a reset of both sides. */
static void conn_end(struct fconn *c, bool reset, const char *why)
{
    if (c->done)
        return;
    c->done = true;
    if (reset) {
        c->f->st.reset++;
        log_end(c, "reset", why);
        tstream_abort(c->cli);
        if (c->dst)
            tstream_abort(c->dst);
    } else {
        c->f->st.closed++;
        log_end(c, "closed", NULL);
        tstream_close(c->cli);
        tstream_close(c->dst);
    }
    c->cli = c->dst = NULL;
    conn_unlink_free(c);
}

/* One direction: from -> to, with end of input passed across. */
static void pump(struct pipe *p, struct tstream *from, struct tstream *to)
{
    for (;;) {
        while (p->off < p->len) {
            ssize_t n = tstream_send(to, p->buf + p->off, p->len - p->off);
            if (n <= 0)
                return; /* AGAIN, or an error the caller sees in tstream_failed */
            p->off += (size_t)n;
            p->bytes += (uint64_t)n;
        }
        p->off = p->len = 0;
        if (p->eof) {
            if (!p->shut) {
                tstream_shutdown(to);
                p->shut = true;
            }
            return;
        }
        ssize_t n = tstream_recv(from, p->buf, CHUNK);
        if (n == 0)
            p->eof = true;
        else if (n < 0)
            return;
        else
            p->len = (size_t)n;
    }
}

static void on_stream(struct tstream *st, void *ctx);
static void dial(struct fconn *c);

static void conn_step(struct fconn *c)
{
    if (c->done)
        return;
    if (!c->dst && tstream_ready(c->cli) && !tstream_failed(c->cli)) {
        dial(c);
        if (c->done)
            return;
    }
    if (c->dst && tstream_ready(c->cli) && tstream_ready(c->dst)) {
        pump(&c->up, c->cli, c->dst);
        pump(&c->down, c->dst, c->cli);
    }
    int ec = tstream_failed(c->cli), ed = c->dst ? tstream_failed(c->dst) : 0;
    if (ec || ed) {
        char why[240];
        struct tstream *bad = ec ? c->cli : c->dst;
        const char *side = ec ? "client" : "destination";
        const char *m = tstream_errmsg(bad);
        snprintf(why, sizeof why, "%s: %s", side, m && *m ? m : tern_strerror(ec ? ec : ed));
        conn_end(c, true, why);
        return;
    }
    if (c->dst && c->up.shut && c->down.shut && tstream_flushed(c->cli) && tstream_flushed(c->dst))
        conn_end(c, false, NULL);
}

static void dial(struct fconn *c)
{
    struct tfwd *f = c->f;
    int err = 0;
    struct tern_sock *out = tern_sock_open(f->stack, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr dst = {f->o.dst_addr, f->o.dst_port};
    int r = out ? tern_sock_connect(out, &dst) : err;
    if (!out || (r < 0 && r != TERN_E_INPROGRESS)) {
        if (out)
            tern_sock_abort(out);
        char why[96];
        snprintf(why, sizeof why, "destination: %s", tern_strerror(r));
        conn_end(c, true, why);
        return;
    }
    const char *name = f->o.verify_name ? f->o.verify_name : f->dst_text;
    c->dst = tstream_new(f->loop, out, f->o.connect_tls, name, f->o.handshake_timeout_us, on_stream, c);
    if (!c->dst)
        conn_end(c, true, "out of memory");
}

static void on_stream(struct tstream *st, void *ctx)
{
    (void)st;
    conn_step(ctx);
}

static void on_listener(struct tern_sock *lsk, unsigned events, void *ctx)
{
    struct tfwd *f = ctx;
    (void)events;
    for (;;) {
        struct tern_sockaddr peer;
        int err = 0;
        struct tern_sock *sk = tern_sock_accept(lsk, &peer, &err);
        if (!sk)
            return;
        f->st.accepted++;
        if (f->st.active >= f->o.max_conns) {
            f->st.refused_full++;
            tern_sock_abort(sk);
            continue;
        }
        struct fconn *c = calloc(1, sizeof *c);
        if (!c) {
            tern_sock_abort(sk);
            continue;
        }
        c->f = f;
        c->peer = peer;
        c->next = f->conns;
        if (f->conns)
            f->conns->prev = c;
        f->conns = c;
        f->st.active++;
        c->cli = tstream_new(f->loop, sk, f->o.accept_tls, NULL, f->o.handshake_timeout_us, on_stream, c);
        if (!c->cli) {
            conn_unlink_free(c);
            continue;
        }
        /* stunnel's order: server mode (TLS accepted) finishes the
         * handshake before it connects to the destination, so a client
         * that fails TLS never reaches it; other modes connect at once. */
        if (!f->o.accept_tls)
            dial(c);
    }
}

struct tfwd *tfwd_start(struct tern_stack *s, struct tern_loop *loop, const struct tfwd_opts *o,
                        int *err)
{
    struct tfwd *f = calloc(1, sizeof *f);
    if (!f) {
        *err = TERN_E_NOMEM;
        return NULL;
    }
    f->stack = s;
    f->loop = loop;
    f->o = *o;
    if (!f->o.max_conns)
        f->o.max_conns = 256;
    tern_ipv4_ntoa(o->dst_addr, f->dst_text);
    f->lsk = tern_sock_open(s, TERN_SOCK_STREAM, err);
    if (!f->lsk) {
        free(f);
        return NULL;
    }
    struct tern_sockaddr a = {o->bind_addr, o->listen_port};
    tern_sock_setopt(f->lsk, TERN_SO_REUSEADDR, 1);
    tern_sock_setopt(f->lsk, TERN_SO_PRIVILEGED, 1);
    int r = tern_sock_bind(f->lsk, &a);
    if (r == 0)
        r = tern_sock_listen(f->lsk, 64);
    if (r < 0) {
        *err = r;
        tern_sock_close(f->lsk);
        free(f);
        return NULL;
    }
    tern_sock_set_handler(f->lsk, TERN_POLLIN, on_listener, f);
    return f;
}

void tfwd_stats(const struct tfwd *f, struct tfwd_stats *out) { *out = f->st; }

void tfwd_free(struct tfwd *f)
{
    if (!f)
        return;
    while (f->conns)
        conn_end(f->conns, true, "forwarder stopped");
    tern_sock_close(f->lsk);
    free(f);
}
