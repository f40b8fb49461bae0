/*
 * tools/serve_http.h - the HTTP part of `tern serve`:
 *   --http DIR[:PORT]   serve the files under DIR over HTTP/1.1 (default port 80)
 *   --http-index        HTML listings of directories without index.html
 *   --https DIR[:PORT] --cert F --key F   the same over TLS (default port 443)
 * Kept apart so cmd_serve.c only adds two options and two calls.
 */
#ifndef TERN_TOOLS_SERVE_HTTP_H
#define TERN_TOOLS_SERVE_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "stackopts.h"

#define SERVE_HTTP_OPT_DIR 1200 /* option values (stack 1000+, classic 1100+) */
#define SERVE_HTTP_OPT_INDEX 1201
#define SERVE_HTTPS_OPT_DIR 1202
#define SERVE_HTTPS_OPT_CERT 1203
#define SERVE_HTTPS_OPT_KEY 1204
#define SERVE_HTTP_COUNT 5

struct tern_http_server;

struct ttls_ctx;

struct serve_http {
    char dir[4096];  /* "" = no HTTP server */
    uint16_t port;
    bool index;
    struct tern_http_server *srv;
    /* --https DIR[:PORT] --cert F --key F */
    char sdir[4096];
    uint16_t sport;
    const char *cert, *key;
    struct ttls_ctx *tctx;
    struct tern_http_server *ssrv;
    void *tls;       /* struct app_tls, kept while the server runs */
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
