/*
 * tools/serve_dhcp.h - the DHCP server part of `tern serve`:
 *   --dhcp-server FIRST-LAST   serve addresses FIRST..LAST (in our subnet)
 *   --lease-time S             lease time in seconds (default 3600)
 *   --lease-file F             keep leases in F (loaded at start, rewritten
 *                              atomically - F.tmp then rename - on changes)
 *   --dhcp-router A            router option (default: --gw if given)
 *   --dhcp-dns A               DNS server option (default: none)
 * Kept apart so cmd_serve.c only adds option entries and two calls.
 */
#ifndef TERN_TOOLS_SERVE_DHCP_H
#define TERN_TOOLS_SERVE_DHCP_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "stackopts.h"

struct tern_dhcp_server;

struct serve_dhcp {
    bool on;
    uint32_t first, last, lease_s, router, dns;
    const char *lease_file;
    struct tern_dhcp_server *srv;
};

/* getopt_long entries (vals SERVE_DHCP_BASE..+4), ending with a zero entry. */
#define SERVE_DHCP_BASE 2000
#define SERVE_DHCP_COUNT 5
extern const struct option serve_dhcp_longopts[];
extern const char serve_dhcp_help[];

/* 1 handled, 0 not ours, -1 bad value (one line printed). */
int serve_dhcp_opt(struct serve_dhcp *d, int opt, const char *arg);
/* Starts the server if --dhcp-server was given. 0, or prints one line and
 * returns 2 (bad setup) or 1. */
int serve_dhcp_start(struct serve_dhcp *d, struct tern_env *env, const struct stack_opts *so);
void serve_dhcp_stop(struct serve_dhcp *d);

#endif
