/*
 * src/app/perf.h - `tern perf`: an iperf3-compatible throughput tester,
 * client and server, written once as an event-driven app on the socket API
 * (it runs on TAP/TUN with the real loop and in virtual time in tests and
 * in the simulator). Linux's iperf3 measures tern and tern measures Linux.
 *
 * The wire protocol is iperf3's (as iperf3 3.x speaks it; see docs/perf.md):
 *  - control: a TCP connection to the server's port (5201). The client sends
 *    a 37-byte cookie (36 characters and a NUL); the server drives the test
 *    with one-byte states: PARAM_EXCHANGE 9 (the client answers with its
 *    parameters as JSON: a 32-bit big-endian length, then the text),
 *    CREATE_STREAMS 10, TEST_START 1, TEST_RUNNING 2; the client ends the
 *    test with TEST_END 4; the server answers EXCHANGE_RESULTS 13 (the
 *    client sends its results JSON, the server its own), DISPLAY_RESULTS 14;
 *    the client closes with IPERF_DONE 16. ACCESS_DENIED -1 (busy server or
 *    wrong cookie), SERVER_ERROR -2, SERVER_TERMINATE 11, CLIENT_TERMINATE 12.
 *  - TCP data: one connection per stream (-P) to the same port, opened by
 *    the client (also with -R), each starting with the cookie.
 *  - UDP data: the client sends a 4-byte hello from each stream's socket to
 *    the server's port, the server answers with 4 bytes; then each datagram
 *    starts with seconds, microseconds and a sequence number (from 1), all
 *    32-bit big-endian (the sequence 64-bit when udp_counters_64bit is set).
 *    The receiver counts loss from sequence gaps and RFC 3550 s6.4.1
 *    interarrival jitter.
 * Stream ids are iperf3's: 1, 3, 4, 5, ... in creation order.
 * Not here: SCTP, --bidir, -n/-k byte limits, -O omit, authentication.
 */
#ifndef TERN_APP_PERF_H
#define TERN_APP_PERF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/loop.h"
#include "tern/stack.h"

#define TERN_PERF_PORT 5201
#define TERN_PERF_MAX_STREAMS 128

struct tern_perf_opts {
    bool server;            /* -s: serve tests on port; else a client of addr:port */
    uint32_t addr;          /* client: the server */
    uint16_t port;          /* 0 = 5201 */
    bool one_off;           /* server -1: finish after one test */
    /* client only (the server takes them from the client's parameters): */
    uint64_t duration_us;   /* -t, 0 = 10 s */
    uint64_t interval_us;   /* -i, reports every interval; 0 = none (also for the server) */
    bool interval_set;      /* interval_us given (else 1 s) */
    bool reverse;           /* -R: the server sends */
    bool udp;               /* -u */
    uint64_t bandwidth_bps; /* -b; 0 = unlimited for TCP, 1 Mbit/s for UDP */
    unsigned parallel;      /* -P, 0 = 1 */
    uint32_t len;           /* -l, 0 = 128 KiB (TCP), 1460 (UDP) */
    uint64_t connect_timeout_us; /* client: 0 = the stack's SYN retries */
};

struct tern_perf_io {
    FILE *out;  /* reports, as iperf3 prints them */
    FILE *err;  /* one-line errors ("tern perf: ...") */
    /* Once (client; server with one_off): 0 the test ran, 1 an error. */
    void (*done)(void *ctx, int status);
    void *ctx;
};

/* What a finished test measured (the client's view, or the server's last). */
struct tern_perf_result {
    bool valid;
    double seconds;               /* the test's length */
    uint64_t sent_bytes, received_bytes;
    uint64_t retransmits;         /* TCP sender's */
    uint64_t packets, lost;       /* UDP: receiver's count */
    double jitter_ms;             /* UDP receiver's, mean over streams */
};

struct tern_perf;

/* NULL with *err a negative enum tern_err (e.g. TERN_E_ADDRINUSE for the
 * server's port); everything later goes through io. */
struct tern_perf *perf_start(struct tern_stack *s, struct tern_loop *loop,
                                  const struct tern_perf_opts *o, const struct tern_perf_io *io,
                                  int *err);
/* Interrupted (a signal): a running client tells the server
 * (CLIENT_TERMINATE) and ends with done(1); the server closes everything. */
void perf_stop(struct tern_perf *p);
void perf_get_result(const struct tern_perf *p, struct tern_perf_result *r);
void perf_free(struct tern_perf *p);

#endif
