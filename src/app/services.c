/*
 * src/app/services.c - the classic services over UDP (see services.h), one
 * datagram socket each, driven by readiness on the socket API.
 *
 * Per RFC: echo sends the datagram back (RFC 862 "UDP Based Echo
 * Service"); discard drops it (RFC 863); daytime, qotd and time answer any
 * datagram, whatever it holds (RFC 867, 865, 868: "the datagram content is
 * ignored" / "an empty datagram"); chargen answers with "a random number
 * (between 0 and 512) of characters" of its pattern (RFC 864), each reply
 * starting at the next line of the pattern, as inetd's chargen rotates.
 * DEVIATION: datagrams from source ports below 1024 are ignored (and
 * counted), as inetd does (OpenBSD inetd's dg_badinput): two of these
 * services on different hosts would otherwise answer each other forever
 * (echo <-> chargen, CERT CA-1996-01), and a forged source port 7/19 is how
 * that loop is started. Also ignored: source 0.0.0.0, 255.255.255.255 and
 * multicast (there is no one to answer).
 * The TCP variants are in services_tcp.c, on the same services_gen.c.
 */
#include "app/services.h"

#include <stdlib.h>
#include <string.h>

#include "tern/err.h"
#include "tern/socket.h"

#define BUF_MAX 65536 /* > the largest UDP payload (65507) */

struct svc_sock {
    struct tern_services *sv;
    enum tern_svc which;
    struct tern_sock *sk;
};

struct tern_services {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_services_opts o;
    struct svc_sock socks[TERN_SVC_COUNT];
    char quote[TERN_SVC_QOTD_MAX + 1];
    size_t quote_len;
    uint32_t chargen_line;      /* next reply starts at this line of the pattern */
    struct services_stats st;
    uint8_t *buf;               /* BUF_MAX bytes: request, then reply */
};


static bool ignore_source(const struct tern_sockaddr *from)
{
    return from->port < 1024 || from->addr == 0 || from->addr == 0xffffffffu ||
           (from->addr >> 28) == 0xe;
}

/* The reply to one request of `len` bytes (in sv->buf), built in place.
 * Returns its length, or -1 for none. */
static long reply(struct tern_services *sv, enum tern_svc which, size_t len)
{
    switch (which) {
    case TERN_SVC_ECHO:
        return (long)len;
    case TERN_SVC_DISCARD:
        return -1;
    case TERN_SVC_DAYTIME:
    case TERN_SVC_QOTD:
    case TERN_SVC_TIME:
        return (long)classic_answer(which, classic_unix_now(sv->loop, sv->o.epoch_offset_us),
                                     sv->quote, sv->quote_len, sv->buf);
    case TERN_SVC_CHARGEN: {
        size_t n = (size_t)(tern_stack_random(sv->stack) % 513); /* 0..512 */
        classic_chargen(sv->chargen_line * 74u, sv->buf, n);
        sv->chargen_line = (sv->chargen_line + 1) % 95;
        return (long)n;
    }
    default:
        return -1;
    }
}

static void on_ready(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct svc_sock *ss = ctx;
    struct tern_services *sv = ss->sv;
    if (events & TERN_POLLERR)
        (void)tern_sock_error(sk); /* an ICMP error for an earlier reply: nothing to do */
    /* Drain the queue: edge-style readiness (tern/socket.h). The queue is
     * bounded, so this ends. */
    bool retried = false;
    for (;;) {
        struct tern_sockaddr from;
        int fl = 0;
        ssize_t n = tern_sock_recvfrom(sk, sv->buf, BUF_MAX, 0, &from, &fl);
        if (n == TERN_E_AGAIN)
            break;
        if (n < 0) {
            /* a pending error reported in place of a datagram: take it and
             * try once more */
            (void)tern_sock_error(sk);
            if (retried)
                break;
            retried = true;
            continue;
        }
        sv->st.requests[ss->which]++;
        if (ignore_source(&from)) {
            sv->st.ignored++;
            continue;
        }
        long r = reply(sv, ss->which, (size_t)n);
        if (r < 0)
            continue;
        ssize_t w = tern_sock_sendto(sk, sv->buf, (size_t)r, 0, &from);
        if (w < 0)
            sv->st.send_errors++;
        else
            sv->st.replies[ss->which]++;
    }
}

struct tern_services *services_start(struct tern_stack *s, struct tern_loop *loop,
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
    struct tern_services *sv = calloc(1, sizeof *sv);
    if (!sv || !(sv->buf = malloc(BUF_MAX))) {
        free(sv);
        *err = TERN_E_NOMEM;
        return NULL;
    }
    sv->stack = s;
    sv->loop = loop;
    sv->o = *o;
    const char *q = o->quote ? o->quote : classic_default_quote;
    sv->quote_len = strlen(q);
    if (sv->quote_len > TERN_SVC_QOTD_MAX)
        sv->quote_len = TERN_SVC_QOTD_MAX;
    memcpy(sv->quote, q, sv->quote_len);
    for (int i = 0; i < TERN_SVC_COUNT; i++) {
        struct svc_sock *ss = &sv->socks[i];
        ss->sv = sv;
        ss->which = (enum tern_svc)i;
        if (!(o->enable & (1u << i)))
            continue;
        int r = 0;
        ss->sk = tern_sock_open(s, TERN_SOCK_DGRAM, &r);
        if (!ss->sk)
            goto fail;
        struct tern_sockaddr local = {.addr = o->addr,
                                      .port = o->port[i] ? o->port[i] : classic_port(ss->which)};
        if ((r = tern_sock_setopt(ss->sk, TERN_SO_PRIVILEGED, 1)) < 0 ||
            (r = tern_sock_bind(ss->sk, &local)) < 0)
            goto fail;
        tern_sock_set_handler(ss->sk, TERN_POLLIN, on_ready, ss);
        continue;
    fail:
        *err = r ? r : TERN_E_NOMEM;
        *failed = ss->which;
        services_free(sv);
        return NULL;
    }
    *err = TERN_OK;
    return sv;
}

void services_stats(const struct tern_services *sv, struct services_stats *out)
{
    *out = sv->st;
}

void services_free(struct tern_services *sv)
{
    if (!sv)
        return;
    for (int i = 0; i < TERN_SVC_COUNT; i++)
        if (sv->socks[i].sk)
            tern_sock_close(sv->socks[i].sk);
    free(sv->buf);
    free(sv);
}
