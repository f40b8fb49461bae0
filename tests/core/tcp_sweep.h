/*
 * tests/core/tcp_sweep.h - the applications of the TCP simulation sweep
 * (tcp_sweep_test.c): per seed, SWEEP_NCONN connections between the stacks
 * of a struct tnet, each driven through the socket API's readiness
 * handlers by a small app per end that writes a seeded byte pattern,
 * checks every byte it reads against it, shuts down, closes, aborts or
 * closes with unread data as its kind says. Test code.
 */
#ifndef TERN_TESTS_CORE_TCP_SWEEP_H
#define TERN_TESTS_CORE_TCP_SWEEP_H

#include "tcp_util.h"

#define SWEEP_NCONN 6
#define SWEEP_NONE ((size_t)-1)

enum sweep_kind { K_BULK, K_TINY, K_HALF, K_INFLIGHT, K_ABORT, K_RSTCLOSE };

struct sweep_flow {                 /* one direction of one connection */
    uint64_t key;             /* the byte at offset i is pat(key, i) */
    size_t size;              /* bytes the sender writes */
    size_t written, got;
    uint64_t h_sent, h_got;   /* FNV-1a of what was written / delivered */
    size_t bad_at;            /* first delivered byte that differs, SWEEP_NONE */
    bool eof;                 /* the receiver read the end of the stream */
    bool cut;                 /* aborted or reset: a prefix is all we may get */
    uint64_t done_us;         /* when the EOF was read */
};

struct sweep_conn;
struct sweep_ep {                   /* one end of a connection, as an app drives it */
    struct sweep_conn *c;
    struct tern_sock *sk;
    struct sweep_flow *out, *in;
    bool connected, shut, closed, stop_reading;
    bool send_after_eof;      /* the half-close server answers after EOF */
    bool close_after_send;    /* close() as soon as everything is written */
    int err;                  /* first unexpected error */
};

struct sweep;
struct sweep_conn {
    struct sweep *sw;
    enum sweep_kind kind;
    struct sweep_ep cl, sv;         /* the connecting and the accepting end */
    struct sweep_flow up, down;     /* cl -> sv, sv -> cl */
    struct tern_stack *cs, *ss;
    struct tern_sock *lsk;    /* the listener, closed once sv is accepted */
    uint16_t port, cl_port;
    size_t cut_at;            /* K_ABORT / K_RSTCLOSE: bytes received first */
    int connects;
    struct tern_timer start, linger;
};

struct sweep {
    struct tnet n;
    uint64_t seed;
    struct sweep_conn c[SWEEP_NCONN];
    uint32_t win;
    int open_eps;
    unsigned resets;          /* cut streams that ended in an error (RST seen) */
    bool running;             /* in the apps' run: the last close stops it */
};

uint64_t sweep_mix64(uint64_t x);
uint64_t sweep_fnv(uint64_t h, const uint8_t *p, size_t n);
/* A number in [lo, hi] from the stream *r. */
uint64_t sweep_pick(uint64_t *r, uint64_t lo, uint64_t hi);
/* Opens the listeners and arms the connects of sw->seed's connections
 * (sw->n open, sw->seed and sw->win set); r: the seed's random stream. */
void sweep_setup(struct sweep *sw, uint64_t *r);
bool sweep_all_closed(const struct sweep *sw);
/* The app lets go of e (close, or abort: RST), once. */
void sweep_ep_close(struct sweep_ep *e, bool abort);

#endif
