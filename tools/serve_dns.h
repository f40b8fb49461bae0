/*
 * tools/serve_dns.h - the DNS part of `tern serve`:
 *   --dns ZONEFILE   answer for the zone in ZONEFILE on UDP port 53
 *                    (format: docs/dns.md)
 * Kept apart so cmd_serve.c only adds an option and two calls.
 */
#ifndef TERN_TOOLS_SERVE_DNS_H
#define TERN_TOOLS_SERVE_DNS_H

#include "stackopts.h"

struct tern_dns_zone;
struct tern_dns_server;

struct serve_dns {
    const char *zonefile; /* NULL: no DNS server */
    struct tern_dns_zone *zone;
    struct tern_dns_server *srv;
};

extern const char serve_dns_help[];

/* Loads the zone and starts the server if zonefile is set. 0, or prints
 * one line and returns 2 (bad zone file) or 1. */
int serve_dns_start(struct serve_dns *d, struct tern_env *env);
/* Prints the server's counters (if it ran) and frees it. */
void serve_dns_stop(struct serve_dns *d);

#endif
