/*
 * tools/serve_classic.h - the classic services (each on UDP and TCP, as
 * inetd's usual configuration has them) and the socket table for
 * `tern serve`: --echo --discard --daytime --qotd --chargen --time (each
 * with an optional =PORT), --all-classic, --quote TEXT, --netstat,
 * --netstat-info, -n.
 * Kept apart from cmd_serve.c so that file only wires these calls in.
 */
#ifndef TERN_TOOLS_SERVE_CLASSIC_H
#define TERN_TOOLS_SERVE_CLASSIC_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "app/services.h"
#include "stackopts.h"

#define SERVE_CLASSIC_BASE 1100 /* option values (stack flags use 1000+) */
#define SERVE_CLASSIC_COUNT 11  /* entries in serve_classic_longopts */
extern const struct option serve_classic_longopts[];
extern const char serve_classic_help[];

struct serve_classic {
    struct tern_services_opts o;
    bool netstat_at_exit, numeric, netstat_info;
    struct tern_services *sv;
    struct tern_services_tcp *svt;
    struct tern_stack *stack;
};

/* Copies cmd's options then ours into out (cap entries, zero-terminated). */
void serve_classic_merge(struct option *out, size_t cap, const struct option *cmd);
/* 1: our option (stored), 0: not ours, -1: bad value (message printed).
 * Also takes -n (numeric netstat). */
int serve_classic_handle(struct serve_classic *c, int opt, const char *arg);
/* Starts the enabled services on env's stack (none enabled: nothing).
 * 0, or prints one line and returns 1 (e.g. a port in use). */
int serve_classic_start(struct serve_classic *c, struct tern_env *env);
/* The socket table, netstat -a style (SIGUSR1). */
void serve_classic_netstat(struct serve_classic *c, FILE *out);
/* --netstat: the table once more, then the services' counters; frees. */
void serve_classic_stop(struct serve_classic *c);

#endif
