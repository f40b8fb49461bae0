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
 * Linux), ICMP echo with -I. One probe is in flight at a time (Linux's
 * -N 1 -z 0): the next goes out when the answer arrives or the wait ends,
 * so RTTs in virtual time are exact and routers' ICMP rate limits are
 * met by one error per probe.
 * first_ttl, max_ttl, nqueries, port, packetlen and wait_us: 0 means the
 * default (first_ttl 1, max_ttl 30, nqueries 3).
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
    uint16_t port;            /* -p; 0 = default: UDP first port 33434, ICMP first seq 1 */
    uint32_t packetlen;       /* total IP length, default 60 (0 = default); 28..65000,
                               * less than the headers is raised to them, as Linux */
    uint64_t wait_us;         /* -w: per-probe wait, default 5 s (0 = default) */
};

struct tern_traceroute;

/* Starts at once; `out` receives the header and one line per hop; done(ctx,
 * status) runs once when the destination answered or max_ttl was reached
 * (status 0), or on a local error (status 1, message printed). NULL on bad
 * options or no memory. */
struct tern_traceroute *traceroute_start(struct tern_stack *s, struct tern_loop *loop,
                                              const struct tern_traceroute_opts *o, FILE *out,
                                              void (*done)(void *ctx, int status), void *ctx);
void traceroute_stop(struct tern_traceroute *t);
void traceroute_free(struct tern_traceroute *t);

#endif
