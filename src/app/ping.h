/*
 * src/app/ping.h - ping, written once as an event-driven app.
 *
 * Runs on any loop (real: TAP/TUN; virtual: simulator, tests) against the
 * stack's ICMP echo endpoints. Output and exit status follow iputils ping
 * (Debian's `ping`): the same header, per-reply, error and summary lines.
 * Not a raw-socket ping: it speaks only through struct tern_stack.
 */
#ifndef TERN_APP_PING_H
#define TERN_APP_PING_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/loop.h"
#include "tern/stack.h"
#include "tern/stack6.h"
#include "tern/wire/icmpv6.h"

enum tern_pmtudisc {
    TERN_PMTU_WANT = 0, /* DF when the datagram fits the MTU, else fragment (Linux default) */
    TERN_PMTU_DO,       /* always DF; too big is a local error (-M do) */
    TERN_PMTU_DONT      /* never DF (-M dont) */
};

struct tern_ping_opts {
    uint32_t dst;             /* host order */
    const char *dst_name;     /* as the user typed it (printed in the header) */
    uint32_t count;           /* -c; 0 = until stopped */
    uint32_t size;            /* -s data bytes, default 56 */
    uint64_t interval_us;     /* -i, default 1 s */
    uint8_t ttl;              /* -t, 0 = stack default */
    enum tern_pmtudisc pmtu;  /* -M */
    uint64_t linger_us;       /* -W: how long to wait for replies after the last
                               * request, default 10 s */
    bool quiet;               /* -q: header and summary only */
    uint64_t deadline_us;     /* -w: stop this long after the start, whatever was sent
                               * or received; with count, keep sending until count
                               * replies came (exit 1 if fewer did). 0 = none */
    bool timestamps;          /* -D: "[SECONDS.MICROS] " before each line about a packet */
    int64_t wall_offset_us;   /* -D: the wall clock minus the loop's clock */
    bool flood;               /* -f: '.' per request, a backspace per reply, 'E' per
                               * error; the next request when the last is answered or
                               * after interval_us (default 10 ms), never sooner than
                               * TERN_PING_FLOOD_MIN_US after the previous */
    uint32_t src;             /* -I: source address, 0 = the interface's */
    /* IPv6 (ping -6, iputils' ping6 output): dst6/src6 in place of dst/src */
    bool v6;
    struct tern_ipv6_addr dst6, src6; /* src6 :: = chosen */
    int oif6;                 /* interface for link-local/multicast destinations */
};

#define TERN_PING_FLOOD_MIN_US 1000 /* flood: at most 1000 requests a second */

#define TERN_PING_MAX_SIZE 65507 /* 65535 - 20 (IP) - 8 (ICMP) */

struct tern_ping;

/* Starts pinging (the first request goes out at once). `out` receives the
 * lines; done(ctx, status) runs once when ping finishes, with the iputils
 * exit status (0: a reply was received, 1: none, 2: error). Returns NULL on
 * bad options or no memory. */
struct tern_ping *ping_start(struct tern_stack *s, struct tern_loop *loop,
                                  const struct tern_ping_opts *o, FILE *out,
                                  void (*done)(void *ctx, int status), void *ctx);
/* Stops early (SIGINT): prints the summary and calls done. */
void ping_stop(struct tern_ping *p);
void ping_free(struct tern_ping *p);

#endif
