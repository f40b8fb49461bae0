/*
 * tools/serve_http.h - the HTTP part of `tern serve`:
 *   --http DIR[:PORT]   serve the files under DIR over HTTP/1.1 (default port 80)
 *   --http-index        HTML listings of directories without index.html
 * Kept apart so cmd_serve.c only adds two options and two calls.
 */
#ifndef TERN_TOOLS_SERVE_HTTP_H
#define TERN_TOOLS_SERVE_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "stackopts.h"

#define SERVE_HTTP_OPT_DIR 1200 /* option values (stack 1000+, classic 1100+) */
#define SERVE_HTTP_OPT_INDEX 1201
#define SERVE_HTTP_COUNT 2

struct tern_http_server;

struct serve_http {
    char dir[4096];  /* "" = no HTTP server */
    uint16_t port;
    bool index;
    struct tern_http_server *srv;
};

extern const char serve_http_help[];

/* 1: our option (stored), 0: not ours, -1: bad value (message printed). */
int serve_http_opt(struct serve_http *h, int opt, const char *arg);
/* Starts the server if --http was given. 0, or prints one line and returns
 * 2 (bad directory) or 1 (e.g. the port is in use, no TCP). */
int serve_http_start(struct serve_http *h, struct tern_env *env);
/* Prints the server's counters (if it ran) and frees it. */
void serve_http_stop(struct serve_http *h);

#endif
