/*
 * src/app/traceroute.h - traceroute written once for real devices and the
 * simulator, on the stack's public API: probes sent with tern_ip_output at
 * rising TTLs, answers taken from tern_icmp_observe (time exceeded from each
 * hop, port unreachable / echo reply from the destination).
 *
 * Output follows Linux traceroute (Debian's traceroute 2.1), numeric (-n):
 *   traceroute to 10.0.3.2 (10.0.3.2), 30 hops max, 60 byte packets
 *    1  10.0.1.1  0.512 ms  0.401 ms  0.398 ms
 *    2  * * *
 * Probes: UDP to ports 33434 upwards by default (one port per probe, as
 * Linux), ICMP echo with -I.
 */
#ifndef TERN_APP_TRACEROUTE_H
#define TERN_APP_TRACEROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/loop.h"
#include "tern/stack.h"

struct tern_traceroute_opts {
    uint32_t dst;             /* host order */
    const char *dst_name;     /* as the user typed it (printed in the header) */
    bool icmp;                /* -I: ICMP echo probes instead of UDP */
    uint8_t first_ttl;        /* -f, default 1 */
    uint8_t max_ttl;          /* -m, default 30 */
    uint32_t nqueries;        /* -q, default 3 */
    uint16_t port;            /* -p, default 33434 (UDP: first port; ICMP: first seq) */
    uint32_t packetlen;       /* total IP length, default 60 */
    uint64_t wait_us;         /* -w: per-probe wait, default 5 s */
};

struct tern_traceroute;

/* Starts at once; `out` receives the header and one line per hop; done(ctx,
 * status) runs once when the destination answered or max_ttl was reached
 * (status 0), or on a local error (status 1, message printed). NULL on bad
 * options or no memory. */
struct tern_traceroute *tern_traceroute_start(struct tern_stack *s, struct tern_loop *loop,
                                              const struct tern_traceroute_opts *o, FILE *out,
                                              void (*done)(void *ctx, int status), void *ctx);
void tern_traceroute_stop(struct tern_traceroute *t);
void tern_traceroute_free(struct tern_traceroute *t);

#endif
