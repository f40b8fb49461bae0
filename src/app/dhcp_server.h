/*
 * src/app/dhcp_server.h - a small DHCP server (RFC 2131 s4.3), written once
 * for both worlds (TAP on a real loop; memory links in virtual time).
 *
 * One interface, one address pool FIRST-LAST inside the interface's subnet,
 * leases keyed by client identifier (option 61) or, without one, by
 * htype + chaddr (RFC 2131 s4.2), in a table of fixed size allocated at
 * start. OFFER/ACK/NAK per s4.3.1-s4.3.2, DECLINE marks the address bad for
 * a while (s4.3.3), RELEASE frees it (s4.3.4), INFORM is answered (s4.3.5).
 * Options sent: 1 mask, 3 router, 6 DNS, 51 lease, 54 server id, 58 T1
 * (lease/2), 59 T2 (lease*7/8). Leases live in memory; the owner may save
 * and load them with dhcp_server_save/load (a text file, see below).
 * Not: relay agents beyond replying to giaddr, static host reservations,
 * the ICMP echo check of s4.3.1 before offering, failover.
 *
 * Lease file format (one lease a line, '#' starts a comment):
 *     ADDRESS EXPIRES KEY
 * ADDRESS dotted quad; EXPIRES the lease end in Unix seconds; KEY the
 * client's key in hex: "01" + client identifier bytes (option 61 given) or
 * "00" + htype + chaddr (none given). Only bound leases are written.
 */
#ifndef TERN_APP_DHCP_SERVER_H
#define TERN_APP_DHCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/loop.h"
#include "tern/stack.h"
#include "tern/wire/dhcp.h"

struct tern_dhcp_server_opts {
    int ifindex;               /* must have an address: it is the server id */
    uint32_t first, last;      /* the pool, host order, inclusive */
    uint32_t lease_s;          /* 0 = 3600 s */
    uint32_t router;           /* option 3, 0 = not sent */
    uint8_t n_dns;             /* option 6, up to TERN_DHCP_MAX_ADDRS */
    uint32_t dns[TERN_DHCP_MAX_ADDRS];
    uint32_t max_leases;       /* table size; 0 = the pool size, at most 1024 */
    uint64_t offer_hold_us;    /* 0 = 60 s: an unanswered OFFER keeps its address this long */
    uint64_t decline_hold_us;  /* 0 = 600 s: a DECLINEd address rests this long */
    void (*on_change)(void *ctx); /* the set of bound leases changed (save the file) */
    void *ctx;
};

struct dhcp_server_stats {
    uint64_t discovers, requests, declines, releases, informs;
    uint64_t offers, acks, naks;
    uint64_t ignored;          /* malformed, not a request, wrong hlen, relayed badly */
    uint64_t exhausted;        /* a DISCOVER found no address (or no table slot) */
};

/* One lease as seen from outside (tests, listings). */
struct tern_dhcp_server_lease {
    uint32_t addr;
    bool bound;                /* false: offered */
    uint64_t expires_us;       /* loop time */
    uint8_t chaddr[6];
};

struct tern_dhcp_server;

/* Validates the options (pool inside the interface's subnet, first <= last,
 * the interface has an address) and opens UDP port 67. NULL with *err set. */
struct tern_dhcp_server *dhcp_server_start(struct tern_stack *s, struct tern_loop *loop,
                                                const struct tern_dhcp_server_opts *o, int *err);
void dhcp_server_free(struct tern_dhcp_server *srv);

const struct dhcp_server_stats *dhcp_server_stats(const struct tern_dhcp_server *srv);
/* Fills up to cap live (unexpired, offered or bound) leases; returns how many exist. */
size_t dhcp_server_leases(const struct tern_dhcp_server *srv,
                               struct tern_dhcp_server_lease *out, size_t cap);

/* Writes the bound leases in the format above; wall_now_s is the current
 * Unix time (the loop's clock is monotonic). 0 or TERN_E_IO. */
int dhcp_server_save(const struct tern_dhcp_server *srv, FILE *f, int64_t wall_now_s);
/* Reads leases back (lines that are malformed, expired, outside the pool or
 * beyond the table are skipped). Returns the number loaded. */
int dhcp_server_load(struct tern_dhcp_server *srv, FILE *f, int64_t wall_now_s);

#endif
