/*
 * src/sim/sim_stream.c - a voice-like UDP stream for the simulator: the
 * sender sends fixed-size datagrams at a constant rate for a while, each
 * carrying a sequence number and its send time; the receiver counts what
 * arrives (lost, duplicated, out of order, one-way delay, RFC 3550
 * interarrival jitter). Nobody resends:
 * what the network loses stays lost, as with RTP voice.
 * Both ends use the socket API (tern/socket.h) on their node's stack.
 * Bounded: the receiver's bitmap has one bit per datagram the sender will
 * send (at most 1 << 22).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_impl.h"
#include "tern/err.h"
#include "tern/wire/ipv4.h"

#define MAX_PACKETS (1u << 22)
#define LINGER_US 2000000 /* receiver waits this long after the last datagram is sent */

struct sim_stream {
    struct sim *sim;
    int from, to;
    struct tern_sock *tx, *rx;
    uint32_t dst;
    uint16_t port;
    uint32_t size, total, sent;
    uint64_t interval_us, start_us;
    struct tern_timer timer;
    bool sending;
    /* receiver */
    uint8_t *seen;
    uint32_t received, dups, reordered, highest, send_errors;
    bool any;
    uint64_t delay_sum, delay_min, delay_max;
    /* RFC 3550 s6.4.1 interarrival jitter, in us (double: the /16 step). */
    double jitter;
    uint64_t last_transit;
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
    struct sim_stream *st = ctx;
    uint8_t buf[1500];
    ssize_t n;
    while ((n = tern_sock_recvfrom(sk, buf, sizeof buf, 0, NULL, NULL)) >= 0) {
        if (n < 12)
            continue;
        uint32_t seq = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
        uint64_t t = get64(buf + 4);
        if (seq >= st->total)
            continue;
        if (st->seen[seq / 8] & (1u << (seq % 8))) {
            st->dups++;
            continue;
        }
        st->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
        st->received++;
        if (st->any && seq < st->highest)
            st->reordered++;
        if (!st->any || seq > st->highest)
            st->highest = seq;
        uint64_t now = tern_loop_now(st->sim->loop);
        uint64_t d = now > t ? now - t : 0;
        /* RFC 3550 s6.4.1: D(i,j) = (Rj - Ri) - (Sj - Si), the change in
         * transit time between consecutive arrivals (in arrival order, the
         * sender's and receiver's clocks being the one virtual clock here),
         * and J(i) = J(i-1) + (|D(i-1,i)| - J(i-1))/16. */
        if (st->any) {
            double dd = (double)d - (double)st->last_transit;
            st->jitter += (fabs(dd) - st->jitter) / 16.0;
        }
        st->last_transit = d;
        st->delay_sum += d;
        if (!st->any || d < st->delay_min)
            st->delay_min = d;
        if (d > st->delay_max)
            st->delay_max = d;
        st->any = true;
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
    st->sent++;
    uint64_t next = st->start_us + st->interval_us * st->sent;
    if (st->sent >= st->total)
        next = now + LINGER_US;
    tern_timer_arm(st->sim->loop, &st->timer, next);
}

struct sim_stream *sim_stream_start(struct sim *sim, int from, int to, uint32_t dst,
                                    uint16_t port, uint64_t rate_bps, uint32_t size,
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
    st->to = to;
    st->dst = dst;
    st->port = port;
    st->size = size;
    /* The rate counts the UDP payload bits. */
    st->interval_us = (uint64_t)size * 8 * 1000000 / rate_bps;
    if (!st->interval_us)
        st->interval_us = 1;
    uint64_t total = duration_us / st->interval_us;
    st->total = (uint32_t)(total > MAX_PACKETS ? MAX_PACKETS : total ? total : 1);
    st->seen = calloc(st->total / 8 + 1, 1);
    st->done = done;
    st->ctx = ctx;
    st->tx = tern_sock_open(sim->nodes[from].stack, TERN_SOCK_DGRAM, err);
    st->rx = tern_sock_open(sim->nodes[to].stack, TERN_SOCK_DGRAM, err);
    struct tern_sockaddr local = {.addr = 0, .port = port};
    if (!st->seen || !st->tx || !st->rx || (*err = tern_sock_bind(st->rx, &local)) < 0) {
        if (!st->seen)
            *err = TERN_E_NOMEM;
        sim_stream_free(st);
        return NULL;
    }
    tern_sock_set_handler(st->rx, TERN_POLLIN, on_rx, st);
    tern_timer_init(&st->timer, on_tick, st);
    st->start_us = tern_loop_now(sim->loop);
    st->sending = true;
    tern_timer_arm(sim->loop, &st->timer, st->start_us);
    return st;
}

void sim_stream_report(const struct sim_stream *st, FILE *out)
{
    char a[16], b[16];
    uint32_t lost = st->sent - st->received;
    fprintf(out, "  udp %s -> %s:%u  sent %u  received %u  lost %u (%.1f%%)  duplicates %u  "
                 "out of order %u",
            tern_ipv4_ntoa(sim_node_addr(st->sim, st->from), a), tern_ipv4_ntoa(st->dst, b),
            st->port, st->sent, st->received, lost,
            st->sent ? 100.0 * lost / st->sent : 0.0, st->dups, st->reordered);
    if (st->received)
        fprintf(out, "  delay min/avg/max %.1f/%.1f/%.1f ms  jitter %.3f ms",
                (double)st->delay_min / 1000, (double)st->delay_sum / st->received / 1000,
                (double)st->delay_max / 1000, st->jitter / 1000);
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
    if (st->rx)
        tern_sock_close(st->rx);
    free(st->seen);
    free(st);
}
