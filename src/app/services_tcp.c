/*
 * src/app/services_tcp.c - the classic services over TCP (see services.h):
 * one listening socket per service and at most tcp_max_conns connections
 * each, all driven by readiness on the socket API (real or virtual loop).
 *
 * Per RFC ("TCP Based ... Service" sections):
 *  - echo (RFC 862): "any data received is sent back"; until the client
 *    closes. Back-pressure: a connection holds at most one buffer of bytes
 *    not yet echoed; while the send queue cannot take them it reads nothing
 *    more (the receive window closes and the client slows down), and it
 *    resumes on POLLOUT. After the client's FIN and the last echo: close.
 *  - discard (RFC 863): "any data received is thrown away"; until the client
 *    closes.
 *  - chargen (RFC 864): "a stream of data is sent out ... (and any data
 *    received is thrown away). This continues until the calling user
 *    terminates the connection." Driven by POLLOUT; each connection starts
 *    at line 0 of the pattern, as inetd's chargen_stream does; it ends when
 *    the connection fails (the client's close, answered by RST), not at
 *    the client's FIN, which is only a half-close.
 *  - daytime (RFC 867), qotd (RFC 865), time (RFC 868): the answer is
 *    sent at once ("any data received is thrown away"), then the server
 *    closes the connection: shutdown(SHUT_WR) right after the answer, then
 *    input is read and dropped until the client's FIN, for at most 5 s.
 * "Closed cleanly": every end is a FIN after the queued data; input is
 * drained first so a close never finds unread data (which RFC 9293 s3.10.4
 * and Linux answer with RST). A connection that fails (RST, timeout) is
 * closed and counted in errors.
 * Exhaustion (ATTACKS G3): a connection that moves no byte either way for
 * tcp_idle_us is closed, and a newcomer to a full service closes the
 * connection longest without a byte moved (a FIN, after its input is
 * drained) rather than waiting behind it: 32 silent connections used to
 * deny the service until they chose to leave.
 * Not inetd: no fork/exec, no rate limiting beyond the connection cap.
 */
#include "app/services.h"

#include <stdlib.h>
#include <string.h>

#include "tern/err.h"
#include "tern/socket.h"

#define ECHO_BUF 8192      /* bytes read but not yet echoed, per echo connection */
#define SCRATCH 16384      /* discarded input / chargen output, shared */
#define LINGER_US 5000000u /* daytime/qotd/time: wait this long for the client's FIN */

struct svc_listen;

struct svc_conn {
    struct svc_listen *l;
    struct tern_sock *sk;  /* NULL: free slot */
    uint8_t *buf;          /* echo: bytes to echo; daytime/qotd/time: the answer */
    size_t off, len;       /* buf[off..len) still to send */
    uint32_t chargen_off;  /* offset in the chargen pattern */
    bool eof;              /* the client sent FIN */
    bool shut;             /* daytime/qotd/time: answer sent, our FIN queued */
    struct tern_timer linger;
    struct tern_timer idle; /* fires at last + idle_us at the latest (lazily re-armed) */
    uint64_t last;          /* accepted, or a byte moved either way */
};

struct svc_listen {
    struct tern_services_tcp *sv;
    enum tern_svc which;
    struct tern_sock *sk;
    struct svc_conn *conns; /* max_conns slots */
    uint32_t active;
};

struct tern_services_tcp {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_services_opts o;
    uint32_t max_conns;
    uint64_t idle_us;
    struct svc_listen ls[TERN_SVC_COUNT];
    char quote[TERN_SVC_QOTD_MAX + 1];
    size_t quote_len;
    struct services_tcp_stats st;
    uint8_t *scratch;
};

static void conn_end(struct svc_conn *c, bool failed)
{
    struct svc_listen *l = c->l;
    struct tern_services_tcp *sv = l->sv;
    tern_timer_cancel(sv->loop, &c->linger);
    tern_timer_cancel(sv->loop, &c->idle);
    tern_sock_close(c->sk);
    c->sk = NULL;
    free(c->buf);
    c->buf = NULL;
    l->active--;
    sv->st.active[l->which]--;
    if (failed)
        sv->st.errors++;
}

/* A byte moved: the connection is not idle. */
static void touch(struct svc_conn *c) { c->last = tern_loop_now(c->l->sv->loop); }

/* Sends buf[off..len). 1: all sent, 0: wait for POLLOUT, < 0: error. */
static int flush(struct svc_conn *c)
{
    struct tern_services_tcp *sv = c->l->sv;
    while (c->off < c->len) {
        ssize_t n = tern_sock_send(c->sk, c->buf + c->off, c->len - c->off, 0);
        if (n == TERN_E_AGAIN)
            return 0;
        if (n < 0)
            return (int)n;
        c->off += (size_t)n;
        sv->st.bytes_out[c->l->which] += (uint64_t)n;
        touch(c);
    }
    c->off = c->len = 0;
    return 1;
}

/* Reads and throws away what the client sent. 1: more may come, 0: the
 * client sent FIN (c->eof), < 0: error. */
static int drain(struct svc_conn *c)
{
    struct tern_services_tcp *sv = c->l->sv;
    while (!c->eof) {
        ssize_t n = tern_sock_recv(c->sk, sv->scratch, SCRATCH, 0);
        if (n == TERN_E_AGAIN)
            return 1;
        if (n < 0)
            return (int)n;
        if (n == 0)
            c->eof = true;
        sv->st.bytes_in[c->l->which] += (uint64_t)n;
        touch(c);
    }
    return 0;
}

/* RFC 862: echo until the client closes; never more than ECHO_BUF bytes
 * held, so a client that does not read stops being read. */
static void run_echo(struct svc_conn *c)
{
    struct tern_services_tcp *sv = c->l->sv;
    for (;;) {
        int f = flush(c);
        if (f < 0) {
            conn_end(c, true);
            return;
        }
        if (f == 0)
            return; /* POLLOUT will call again */
        if (c->eof) {
            conn_end(c, false);
            return;
        }
        ssize_t n = tern_sock_recv(c->sk, c->buf, ECHO_BUF, 0);
        if (n == TERN_E_AGAIN)
            return;
        if (n < 0) {
            conn_end(c, true);
            return;
        }
        if (n == 0)
            c->eof = true;
        c->off = 0;
        c->len = (size_t)n;
        sv->st.bytes_in[TERN_SVC_ECHO] += (uint64_t)n;
        touch(c);
    }
}

/* RFC 864: fill the send queue with the pattern until it is full. The
 * client's FIN only says it sends no more (a half-close): the stream goes on
 * until the connection fails - the client's close answered by RST when more
 * data reaches it - as with inetd's chargen_stream, which writes until
 * write(2) fails. */
static void run_chargen(struct svc_conn *c)
{
    struct tern_services_tcp *sv = c->l->sv;
    if (drain(c) < 0) {
        conn_end(c, true);
        return;
    }
    for (;;) {
        classic_chargen(c->chargen_off, sv->scratch, SCRATCH);
        ssize_t n = tern_sock_send(c->sk, sv->scratch, SCRATCH, 0);
        if (n == TERN_E_AGAIN)
            return;
        if (n < 0) {
            conn_end(c, true);
            return;
        }
        c->chargen_off = (uint32_t)((c->chargen_off + (uint64_t)n) % TERN_SVC_CHARGEN_PERIOD);
        sv->st.bytes_out[TERN_SVC_CHARGEN] += (uint64_t)n;
        if (n > 0)
            touch(c);
    }
}

static void on_conn(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct svc_conn *c = ctx;
    if (!c->sk || c->sk != sk)
        return;
    if (events & TERN_POLLERR) {
        int e = tern_sock_error(sk);
        if (e < 0) {
            conn_end(c, true);
            return;
        }
    }
    switch (c->l->which) {
    case TERN_SVC_ECHO:
        run_echo(c);
        return;
    case TERN_SVC_CHARGEN:
        run_chargen(c);
        return;
    case TERN_SVC_DISCARD: {
        int d = drain(c);
        if (d <= 0)
            conn_end(c, d < 0);
        return;
    }
    default: { /* daytime, qotd, time: the answer, then close */
        int d = drain(c);
        if (d < 0) {
            conn_end(c, true);
            return;
        }
        if (!c->shut) {
            int f = flush(c);
            if (f <= 0) {
                if (f < 0)
                    conn_end(c, true);
                return;
            }
            /* our FIN after the answer; the client's data is still read and
             * thrown away until its FIN (or LINGER_US), so the close never
             * meets unread data and never turns into a RST */
            c->shut = true;
            if (tern_sock_shutdown(c->sk, TERN_SHUT_WR) < 0) {
                conn_end(c, true);
                return;
            }
            tern_timer_arm(c->l->sv->loop, &c->linger, tern_loop_now(c->l->sv->loop) + LINGER_US);
        }
        if (c->eof)
            conn_end(c, false);
        return;
    }
    }
}

static void on_linger(struct tern_timer *t, void *arg)
{
    (void)t;
    struct svc_conn *c = arg;
    /* the client keeps its side open: drop what it sent and close (our FIN
     * is out already; the stack finishes the close) */
    conn_end(c, drain(c) < 0);
}

/* No byte moved either way for idle_us: close (a FIN after draining the
 * input). Activity only moves c->last; the timer catches up when it fires. */
static void on_idle(struct tern_timer *t, void *arg)
{
    struct svc_conn *c = arg;
    struct tern_services_tcp *sv = c->l->sv;
    uint64_t due = c->last + sv->idle_us;
    if (tern_loop_now(sv->loop) < due) {
        tern_timer_arm(sv->loop, t, due);
        return;
    }
    sv->st.idle_closed++;
    conn_end(c, drain(c) < 0);
}

static bool conn_init(struct svc_listen *l, struct svc_conn *c, struct tern_sock *sk)
{
    struct tern_services_tcp *sv = l->sv;
    memset(c, 0, sizeof *c);
    c->l = l;
    c->sk = sk;
    tern_timer_init(&c->linger, on_linger, c);
    tern_timer_init(&c->idle, on_idle, c);
    touch(c);
    tern_timer_arm(sv->loop, &c->idle, c->last + sv->idle_us);
    unsigned interest = TERN_POLLIN | TERN_POLLOUT;
    switch (l->which) {
    case TERN_SVC_ECHO:
        if (!(c->buf = malloc(ECHO_BUF)))
            return false;
        break;
    case TERN_SVC_DISCARD:
        interest = TERN_POLLIN;
        break;
    case TERN_SVC_CHARGEN:
        break;
    default:
        if (!(c->buf = malloc(TERN_SVC_ANSWER_MAX)))
            return false;
        /* the time is read when the connection is accepted */
        c->len = classic_answer(l->which, classic_unix_now(sv->loop, sv->o.epoch_offset_us),
                                 sv->quote, sv->quote_len, c->buf);
        break;
    }
    /* schedules one report of what is ready now: the answer or the first
     * chargen lines go out from there */
    tern_sock_set_handler(sk, interest, on_conn, c);
    return true;
}

/* The service is full: the connection longest without a byte moved makes
 * room for the newcomer (it has had the server's time the longest for
 * nothing). Its unread input is drained so the close is a FIN. */
static struct svc_conn *evict(struct svc_listen *l)
{
    struct tern_services_tcp *sv = l->sv;
    struct svc_conn *v = NULL;
    for (uint32_t i = 0; i < sv->max_conns; i++)
        if (l->conns[i].sk && (!v || l->conns[i].last < v->last))
            v = &l->conns[i];
    if (!v)
        return NULL;
    sv->st.evicted++;
    conn_end(v, drain(v) < 0);
    return v;
}

static void accept_more(struct svc_listen *l)
{
    struct tern_services_tcp *sv = l->sv;
    for (;;) {
        int err = 0;
        struct tern_sock *sk = tern_sock_accept(l->sk, NULL, &err);
        if (!sk)
            return; /* TERN_E_AGAIN: the backlog is empty */
        struct svc_conn *c = NULL;
        for (uint32_t i = 0; i < sv->max_conns && !c; i++)
            if (!l->conns[i].sk)
                c = &l->conns[i];
        if (!c)
            c = evict(l);
        if (!c || !conn_init(l, c, sk)) {
            if (c) {
                free(c->buf);
                memset(c, 0, sizeof *c);
            }
            tern_sock_abort(sk);
            sv->st.errors++;
            continue;
        }
        l->active++;
        sv->st.active[l->which]++;
        sv->st.accepted[l->which]++;
    }
}

static void on_listen(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct svc_listen *l = ctx;
    if (events & TERN_POLLERR)
        (void)tern_sock_error(sk);
    accept_more(l);
}

struct tern_services_tcp *services_tcp_start(struct tern_stack *s, struct tern_loop *loop,
                                                  const struct tern_services_opts *o, int *err,
                                                  enum tern_svc *failed)
{
    int e_dummy;
    enum tern_svc f_dummy;
    if (!err)
        err = &e_dummy;
    if (!failed)
        failed = &f_dummy;
    *failed = TERN_SVC_COUNT;
    if (!s || !loop || !o || !(o->enable & ((1u << TERN_SVC_COUNT) - 1))) {
        *err = TERN_E_INVAL;
        return NULL;
    }
    struct tern_services_tcp *sv = calloc(1, sizeof *sv);
    if (!sv || !(sv->scratch = malloc(SCRATCH))) {
        free(sv);
        *err = TERN_E_NOMEM;
        return NULL;
    }
    sv->stack = s;
    sv->loop = loop;
    sv->o = *o;
    sv->max_conns = o->tcp_max_conns ? o->tcp_max_conns : TERN_SVC_TCP_MAX_CONNS;
    sv->idle_us = o->tcp_idle_us ? o->tcp_idle_us : TERN_SVC_TCP_IDLE_US;
    const char *q = o->quote ? o->quote : classic_default_quote;
    sv->quote_len = strlen(q);
    if (sv->quote_len > TERN_SVC_QOTD_MAX)
        sv->quote_len = TERN_SVC_QOTD_MAX;
    memcpy(sv->quote, q, sv->quote_len);
    for (int i = 0; i < TERN_SVC_COUNT; i++) {
        struct svc_listen *l = &sv->ls[i];
        l->sv = sv;
        l->which = (enum tern_svc)i;
        if (!(o->enable & (1u << i)))
            continue;
        int r = 0;
        if (!(l->conns = calloc(sv->max_conns, sizeof *l->conns)))
            goto fail;
        l->sk = tern_sock_open(s, TERN_SOCK_STREAM, &r);
        if (!l->sk)
            goto fail;
        struct tern_sockaddr local = {.addr = o->addr,
                                      .port = o->port[i] ? o->port[i] : classic_port(l->which)};
        if ((r = tern_sock_setopt(l->sk, TERN_SO_PRIVILEGED, 1)) < 0 ||
            (r = tern_sock_setopt(l->sk, TERN_SO_REUSEADDR, 1)) < 0 ||
            (r = tern_sock_bind(l->sk, &local)) < 0 ||
            (r = tern_sock_listen(l->sk, TERN_SVC_TCP_BACKLOG)) < 0)
            goto fail;
        tern_sock_set_handler(l->sk, TERN_POLLIN, on_listen, l);
        continue;
    fail:
        *err = r ? r : TERN_E_NOMEM;
        *failed = l->which;
        services_tcp_free(sv);
        return NULL;
    }
    *err = TERN_OK;
    return sv;
}

void services_tcp_stats(const struct tern_services_tcp *sv,
                             struct services_tcp_stats *out)
{
    *out = sv->st;
}

void services_tcp_free(struct tern_services_tcp *sv)
{
    if (!sv)
        return;
    for (int i = 0; i < TERN_SVC_COUNT; i++) {
        struct svc_listen *l = &sv->ls[i];
        if (l->sk)
            tern_sock_close(l->sk); /* first: no more accepts */
        l->sk = NULL;
        for (uint32_t k = 0; l->conns && k < sv->max_conns; k++) {
            struct svc_conn *c = &l->conns[k];
            if (!c->sk)
                continue;
            tern_timer_cancel(sv->loop, &c->linger);
            tern_timer_cancel(sv->loop, &c->idle);
            (void)drain(c);
            tern_sock_close(c->sk);
            free(c->buf);
        }
        free(l->conns);
    }
    free(sv->scratch);
    free(sv);
}
