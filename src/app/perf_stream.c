/*
 * src/app/perf_stream.c - `tern perf`'s data streams: opening and closing
 * them, TCP and UDP sending (paced for -b), receiving and counting, the UDP
 * datagram header iperf3 uses (sequence number and timestamp).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/perf.h"
#include "app/perf_impl.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/wire/ipv4.h"

/* ---- streams ------------------------------------------------------- */

struct pstream *perf_stream_new(struct tern_perf *p)
{
    if (p->nst >= TERN_PERF_MAX_STREAMS)
        return NULL;
    struct pstream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = p;
    s->id = p->nst == 0 ? 1 : (int)p->nst + 2; /* iperf3 numbers them 1, 3, 4, ... */
    p->st[p->nst++] = s;
    return s;
}

static void stream_drop(struct tern_perf *p, struct pstream *s)
{
    if (s->sk) {
        tern_sock_set_handler(s->sk, 0, NULL, NULL);
        tern_sock_close(s->sk);
    }
    for (unsigned i = 0; i < p->nst; i++)
        if (p->st[i] == s) {
            memmove(&p->st[i], &p->st[i + 1], (p->nst - i - 1) * sizeof p->st[0]);
            p->nst--;
            break;
        }
    free(s);
}

void perf_streams_close(struct tern_perf *p)
{
    for (unsigned i = 0; i < p->nst; i++) {
        if (p->st[i]->sk) {
            tern_sock_set_handler(p->st[i]->sk, 0, NULL, NULL);
            tern_sock_close(p->st[i]->sk);
        }
        free(p->st[i]);
        p->st[i] = NULL;
    }
    p->nst = 0;
    if (p->udp) {
        tern_sock_set_handler(p->udp, 0, NULL, NULL);
        tern_sock_close(p->udp);
        p->udp = NULL;
    }
}

/* The TCP details of a data socket (retransmissions, cwnd); false if gone. */
bool perf_stream_info(struct tern_perf *p, struct pstream *s, struct tern_sock_info *out)
{
    struct tern_sockaddr l, r;
    if (!s->sk || tern_sock_getsockname(s->sk, &l) < 0 || tern_sock_getpeername(s->sk, &r) < 0)
        return false;
    size_t n = tern_sock_list(p->stack, NULL, 0);
    struct tern_sock_info *rows = calloc(n + 1, sizeof *rows);
    if (!rows)
        return false;
    n = tern_sock_list(p->stack, rows, n + 1);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].type == TERN_SOCK_STREAM && rows[i].local.port == l.port &&
            rows[i].peer.addr == r.addr && rows[i].peer.port == r.port) {
            *out = rows[i];
            found = true;
            break;
        }
    }
    free(rows);
    return found;
}

void perf_stream_connected_line(struct tern_perf *p, struct pstream *s)
{
    struct tern_sockaddr l = {0}, r = s->peer;
    if (s->sk) {
        tern_sock_getsockname(s->sk, &l);
        tern_sock_getpeername(s->sk, &r);
    } else if (p->udp) {
        tern_sock_getsockname(p->udp, &l);
        if (!l.addr && p->ctrl) {
            struct tern_sockaddr c;
            tern_sock_getsockname(p->ctrl, &c);
            l.addr = c.addr;
        }
    }
    char a[16], b[16];
    fprintf(p->io.out, "[%3d] local %s port %u connected to %s port %u\n", s->id,
            tern_ipv4_ntoa(l.addr, a), l.port, tern_ipv4_ntoa(r.addr, b), r.port);
    fflush(p->io.out);
}

/* ---- data ---------------------------------------------------------- */

/* Bytes stream s may send now under the rate (unlimited: SIZE_MAX). */
static uint64_t allowance(struct tern_perf *p, struct pstream *s)
{
    if (!p->bps)
        return UINT64_MAX;
    uint64_t el = tern_loop_now(p->loop) - p->start_us;
    uint64_t due = (uint64_t)((double)p->bps * (double)el / 8e6);
    return due > s->bytes ? due - s->bytes : 0;
}

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

uint32_t perf_get_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void send_stream(struct tern_perf *p, struct pstream *s)
{
    if (!s->ready)
        return;
    uint64_t allow = allowance(p, s);
    if (p->udp_test) {
        /* a datagram whenever the rate owes us one: time and sequence first */
        while (allow > 0 && p->running) {
            uint64_t t = tern_loop_now(p->loop);
            uint64_t seq = s->packets + 1;
            put_be32(p->buf, (uint32_t)(t / 1000000));
            put_be32(p->buf + 4, (uint32_t)(t % 1000000));
            if (p->udp64) {
                put_be32(p->buf + 8, (uint32_t)(seq >> 32));
                put_be32(p->buf + 12, (uint32_t)seq);
            } else {
                put_be32(p->buf + 8, (uint32_t)seq);
            }
            ssize_t n = s->sk ? tern_sock_send(s->sk, p->buf, p->len, 0)
                              : tern_sock_sendto(p->udp, p->buf, p->len, 0, &s->peer);
            if (n < 0)
                return; /* queue full or no ARP yet: the next tick tries again */
            s->packets = seq;
            s->bytes += p->len;
            allow = allow > p->len ? allow - p->len : 0;
        }
        return;
    }
    while (allow > 0 && p->running) {
        size_t k = p->len;
        if (allow < k)
            k = (size_t)allow;
        ssize_t n = tern_sock_send(s->sk, p->buf, k, 0);
        if (n <= 0)
            return;
        s->bytes += (uint64_t)n;
        allow -= (uint64_t)n;
    }
}

void perf_send_data(struct tern_perf *p)
{
    if (!p->running || !p->sender)
        return;
    for (unsigned i = 0; i < p->nst; i++)
        send_stream(p, p->st[i]);
}

/* RFC 3550 s6.4.1 interarrival jitter and iperf3's loss perf_count. */
void perf_udp_received(struct tern_perf *p, struct pstream *s, const uint8_t *d, size_t n)
{
    if (n < (p->udp64 ? 16u : 12u) || p->ended)
        return;
    s->bytes += n;
    uint64_t sent_us = (uint64_t)perf_get_be32(d) * 1000000 + perf_get_be32(d + 4);
    uint64_t seq = p->udp64 ? (uint64_t)perf_get_be32(d + 8) << 32 | perf_get_be32(d + 12)
                            : perf_get_be32(d + 8);
    if (seq > s->packets) {
        if (seq > s->packets + 1)
            s->lost += seq - 1 - s->packets; /* a gap: lost unless they come later */
        s->packets = seq;
    } else {
        s->ooo++;
        if (s->lost > 0)
            s->lost--; /* a late one fills a gap */
    }
    /* transit time in seconds; the two clocks differ by a constant, which
     * cancels in D (RFC 3550 s6.4.1) */
    double transit = ((double)tern_loop_now(p->loop) - (double)sent_us) / 1e6;
    if (s->have_transit) {
        double dd = fabs(transit - s->prev_transit);
        s->jitter += (dd - s->jitter) / 16.0;
    }
    s->prev_transit = transit;
    s->have_transit = true;
}

static void recv_stream(struct tern_perf *p, struct pstream *s)
{
    for (;;) {
        ssize_t n = tern_sock_recv(s->sk, p->buf, p->buflen, 0);
        if (n <= 0)
            return;
        if (p->udp_test)
            perf_udp_received(p, s, p->buf, (size_t)n);
        else if (!p->ended)
            s->bytes += (uint64_t)n;
    }
}


void perf_data_event(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct pstream *s = ctx;
    struct tern_perf *p = s->p;
    (void)sk;
    if (p->finished)
        return;
    if (!s->ready) {
        if (p->server && !p->udp_test) {
            /* the stream's first 37 bytes are the test's cookie */
            ssize_t n = tern_sock_recv(s->sk, s->cookie + s->cookie_len,
                                       COOKIE_LEN - s->cookie_len, 0);
            if (n > 0)
                s->cookie_len += (size_t)n;
            if (s->cookie_len == COOKIE_LEN) {
                if (memcmp(s->cookie, p->cookie, COOKIE_LEN) != 0) {
                    uint8_t b = (uint8_t)(int8_t)PS_ACCESS_DENIED;
                    tern_sock_send(s->sk, &b, 1, 0);
                    stream_drop(p, s);
                    return;
                }
                s->ready = true;
                perf_all_streams_ready(p);
                if (!p->sender)
                    recv_stream(p, s);
            } else if (n == 0 || (ev & TERN_POLLERR)) {
                stream_drop(p, s);
            }
            return;
        }
        if (!p->server && !p->udp_test) {
            if (ev & TERN_POLLERR) {
                int e = tern_sock_error(s->sk);
                char m[128];
                snprintf(m, sizeof m, "unable to connect stream: %s",
                         tern_strerror(e ? e : TERN_E_CONNREFUSED));
                perf_errmsg(p, m);
                perf_finish(p, 1);
                return;
            }
            if (ev & TERN_POLLOUT) {
                ssize_t n = tern_sock_send(s->sk, p->cookie + s->cookie_len,
                                           COOKIE_LEN - s->cookie_len, 0);
                if (n > 0)
                    s->cookie_len += (size_t)n;
                if (s->cookie_len == COOKIE_LEN) {
                    s->ready = true;
                    perf_stream_connected_line(p, s);
                }
            }
            return;
        }
        if (!p->server && p->udp_test) {
            /* the server's 4-byte answer to our hello */
            uint8_t b[8];
            ssize_t n = tern_sock_recv(s->sk, b, sizeof b, 0);
            if (n == 4) {
                s->ready = true;
                perf_stream_connected_line(p, s);
            } else if (n < 0 && n != TERN_E_AGAIN) {
                perf_errmsg(p, "unable to connect UDP stream: connection refused");
                perf_finish(p, 1);
            }
            return;
        }
        return;
    }
    if (!p->sender || p->udp_test)
        recv_stream(p, s);
    else if (ev & TERN_POLLIN)
        recv_stream(p, s); /* nothing is expected; keep the queue empty */
    if (p->sender && (ev & TERN_POLLOUT) && !p->bps)
        send_stream(p, s);
}
