/*
 * src/sim/sim_stream.c - a voice-like UDP stream for the simulator: the
 * sender sends fixed-size datagrams at a constant rate for a while, each
 * carrying a sequence number and its send time; the receiver counts what
 * arrives (lost, duplicated, out of order, one-way delay, RFC 3550
 * interarrival jitter). Nobody resends:
 * what the network loses stays lost, as with RTP voice.
 * Both ends use the socket API (tern/socket.h) on their node's stack.
 * To a multicast group, several members receive (each joins the group);
 * the summary gives the SHA-256 of the bytes sent and of what each member
 * received, in arrival order (equal when nothing was lost, duplicated or
 * reordered).
 * Bounded: each receiver's bitmap has one bit per datagram the sender will
 * send (at most 1 << 22).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sha256.h"
#include "sim/sim_impl.h"
#include "tern/err.h"
#include "tern/wire/ipv4.h"

#define MAX_PACKETS (1u << 22)
#define LINGER_US 2000000 /* receiver waits this long after the last datagram is sent */

/* One receiver: a node's socket bound to the port (joined to the group
 * when the destination is one) and what it saw. */
struct stream_rx {
    struct sim_stream *st;
    int node;
    struct tern_sock *sk;
    uint8_t *seen;
    uint32_t received, dups, reordered, highest;
    bool any;
    uint64_t delay_sum, delay_min, delay_max;
    /* RFC 3550 s6.4.1 interarrival jitter, in us (double: the /16 step). */
    double jitter;
    uint64_t last_transit;
    struct tern_sha256 h;     /* every datagram's bytes, in arrival order */
};

struct sim_stream {
    struct sim *sim;
    int from;
    struct tern_sock *tx;
    uint32_t dst;
    uint16_t port;
    uint32_t size, total, sent, send_errors;
    uint64_t interval_us, start_us;
    struct tern_timer timer;
    bool sending, group;
    struct tern_sha256 h;     /* every datagram sent, in order */
    unsigned nrx;
    struct stream_rx rx[SIM_STREAM_MAX_RX];
    void (*done)(void *ctx);
    void *ctx;
};

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void on_rx(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)events;
    struct stream_rx *r = ctx;
    struct sim_stream *st = r->st;
    uint8_t buf[1500];
    ssize_t n;
    while ((n = tern_sock_recvfrom(sk, buf, sizeof buf, 0, NULL, NULL)) >= 0) {
        if (n < 12)
            continue;
        uint32_t seq = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
        uint64_t t = get64(buf + 4);
        if (seq >= st->total)
            continue;
        sim_sha256_update(&r->h, buf, (size_t)n);
        if (r->seen[seq / 8] & (1u << (seq % 8))) {
            r->dups++;
            continue;
        }
        r->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
        r->received++;
        if (r->any && seq < r->highest)
            r->reordered++;
        if (!r->any || seq > r->highest)
            r->highest = seq;
        uint64_t now = tern_loop_now(st->sim->loop);
        uint64_t d = now > t ? now - t : 0;
        /* RFC 3550 s6.4.1: D(i,j) = (Rj - Ri) - (Sj - Si), the change in
         * transit time between consecutive arrivals (in arrival order, the
         * sender's and receiver's clocks being the one virtual clock here),
         * and J(i) = J(i-1) + (|D(i-1,i)| - J(i-1))/16. */
        if (r->any) {
            double dd = (double)d - (double)r->last_transit;
            r->jitter += (fabs(dd) - r->jitter) / 16.0;
        }
        r->last_transit = d;
        r->delay_sum += d;
        if (!r->any || d < r->delay_min)
            r->delay_min = d;
        if (d > r->delay_max)
            r->delay_max = d;
        r->any = true;
    }
}

static void on_tick(struct tern_timer *t, void *arg)
{
    (void)t;
    struct sim_stream *st = arg;
    uint64_t now = tern_loop_now(st->sim->loop);
    if (st->sent >= st->total) {
        st->sending = false;
        st->done(st->ctx);
        return;
    }
    uint8_t buf[1472];
    memset(buf, 0, st->size);
    buf[0] = (uint8_t)(st->sent >> 24);
    buf[1] = (uint8_t)(st->sent >> 16);
    buf[2] = (uint8_t)(st->sent >> 8);
    buf[3] = (uint8_t)st->sent;
    put64(buf + 4, now);
    struct tern_sockaddr to = {.addr = st->dst, .port = st->port};
    if (tern_sock_sendto(st->tx, buf, st->size, 0, &to) < 0)
        st->send_errors++;
    else
        sim_sha256_update(&st->h, buf, st->size);
    st->sent++;
    uint64_t next = st->start_us + st->interval_us * st->sent;
    if (st->sent >= st->total)
        next = now + LINGER_US;
    tern_timer_arm(st->sim->loop, &st->timer, next);
}

struct sim_stream *sim_stream_start(struct sim *sim, int from, const int *to, unsigned nto,
                                    uint32_t dst, uint16_t port, uint64_t rate_bps, uint32_t size,
                                    uint64_t duration_us, void (*done)(void *ctx), void *ctx,
                                    int *err)
{
    struct sim_stream *st = calloc(1, sizeof *st);
    if (!st) {
        *err = TERN_E_NOMEM;
        return NULL;
    }
    st->sim = sim;
    st->from = from;
    st->dst = dst;
    st->port = port;
    st->size = size;
    st->group = (dst >> 28) == 0xe;
    sim_sha256_init(&st->h);
    tern_timer_init(&st->timer, on_tick, st);
    /* The rate counts the UDP payload bits. */
    st->interval_us = (uint64_t)size * 8 * 1000000 / rate_bps;
    if (!st->interval_us)
        st->interval_us = 1;
    uint64_t total = duration_us / st->interval_us;
    st->total = (uint32_t)(total > MAX_PACKETS ? MAX_PACKETS : total ? total : 1);
    st->done = done;
    st->ctx = ctx;
    st->tx = tern_sock_open(sim->nodes[from].stack, TERN_SOCK_DGRAM, err);
    if (!st->tx)
        goto fail;
    for (unsigned i = 0; i < nto && i < SIM_STREAM_MAX_RX; i++) {
        struct stream_rx *r = &st->rx[st->nrx++];
        r->st = st;
        r->node = to[i];
        sim_sha256_init(&r->h);
        r->seen = calloc(st->total / 8 + 1, 1);
        r->sk = tern_sock_open(sim->nodes[to[i]].stack, TERN_SOCK_DGRAM, err);
        if (!r->seen) {
            *err = TERN_E_NOMEM;
            goto fail;
        }
        struct tern_sockaddr local = {.addr = 0, .port = port};
        /* A member shares the port as group receivers do (SO_REUSEADDR)
         * and joins the group (RFC 1112 s7.1) by route. */
        if (!r->sk || (st->group && (*err = tern_sock_setopt(r->sk, TERN_SO_REUSEADDR, 1)) < 0) ||
            (*err = tern_sock_bind(r->sk, &local)) < 0 ||
            (st->group && (*err = tern_sock_join(r->sk, dst, -1)) < 0))
            goto fail;
        tern_sock_set_handler(r->sk, TERN_POLLIN, on_rx, r);
    }
    st->start_us = tern_loop_now(sim->loop);
    st->sending = true;
    tern_timer_arm(sim->loop, &st->timer, st->start_us);
    return st;
fail:
    sim_stream_free(st);
    return NULL;
}

static void rx_report(const struct sim_stream *st, const struct stream_rx *r, FILE *out)
{
    uint32_t lost = st->sent > r->received ? st->sent - r->received : 0;
    fprintf(out, "  sent %u  received %u  lost %u (%.1f%%)  duplicates %u  out of order %u",
            st->sent, r->received, lost, st->sent ? 100.0 * lost / st->sent : 0.0, r->dups,
            r->reordered);
    if (r->received)
        fprintf(out, "  delay min/avg/max %.1f/%.1f/%.1f ms  jitter %.3f ms",
                (double)r->delay_min / 1000, (double)r->delay_sum / r->received / 1000,
                (double)r->delay_max / 1000, r->jitter / 1000);
}

static void hex_of(const struct tern_sha256 *h, char out[65])
{
    struct tern_sha256 c = *h;
    uint8_t d[32];
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, out);
}

void sim_stream_report(const struct sim_stream *st, FILE *out)
{
    char a[16], b[16], hex[65];
    fprintf(out, "  udp %s -> %s:%u", tern_ipv4_ntoa(sim_node_addr(st->sim, st->from), a),
            tern_ipv4_ntoa(st->dst, b), st->port);
    if (st->group) {
        /* A group: the bytes sent, then each member's view of them. */
        hex_of(&st->h, hex);
        fprintf(out, "  group of %u  sent %u  sha256 %s", st->nrx, st->sent, hex);
        if (st->send_errors)
            fprintf(out, "  send errors %u", st->send_errors);
        fputc('\n', out);
        for (unsigned i = 0; i < st->nrx; i++) {
            const struct stream_rx *r = &st->rx[i];
            fprintf(out, "    member %s", st->sim->sc->nodes[r->node].name);
            rx_report(st, r, out);
            hex_of(&r->h, hex);
            fprintf(out, "  sha256 %s\n", hex);
        }
        return;
    }
    if (st->nrx)
        rx_report(st, &st->rx[0], out);
    if (st->send_errors)
        fprintf(out, "  send errors %u", st->send_errors);
    fputc('\n', out);
}

void sim_stream_free(struct sim_stream *st)
{
    if (!st)
        return;
    tern_timer_cancel(st->sim->loop, &st->timer);
    if (st->tx)
        tern_sock_close(st->tx);
    for (unsigned i = 0; i < st->nrx; i++) {
        if (st->rx[i].sk)
            tern_sock_close(st->rx[i].sk);
        free(st->rx[i].seen);
    }
    free(st);
}
