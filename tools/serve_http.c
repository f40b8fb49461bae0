/* tools/serve_http.c - `tern serve --http DIR[:PORT]` (see serve_http.h). */
#include "serve_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/http_server.h"
#include "tern/err.h"
#include "tls/tls.h"
#include "app/app_tls.h"
#include "servport.h"

const char serve_http_help[] =
    "HTTP server options:\n"
    "  --http DIR[:PORT]  serve the files under DIR with HTTP/1.1 (GET, HEAD, keep-alive)\n"
    "                   on TCP port PORT (default 80); a DIR whose name ends in\n"
    "                   ':DIGITS' needs an explicit :PORT; at most 64 connections (a\n"
    "                   newcomer closes the one waiting longest for its request),\n"
    "                   30 s to start a request (or between requests), 10 s to send\n"
    "                   a whole request once started\n"
    "  --http-index     list directories that have no index.html\n"
    "  --https DIR[:PORT]  the same over TLS 1.2/1.3 (RFC 9110 s4.2.2; default\n"
    "                   port 443), with --cert FILE (PEM chain) and --key FILE\n"
    "  --cert FILE      --https: our certificate chain\n"
    "  --key FILE       --https: our private key\n";

int serve_http_opt(struct serve_http *h, int opt, const char *arg)
{
    if (opt == SERVE_HTTP_OPT_INDEX) {
        h->index = true;
        return 1;
    }
    if (opt == SERVE_HTTPS_OPT_DIR)
        return tool_path_port("--https", "directory", arg, h->sdir, sizeof h->sdir, &h->sport, 443);
    if (opt == SERVE_HTTPS_OPT_CERT) {
        h->cert = arg;
        return 1;
    }
    if (opt == SERVE_HTTPS_OPT_KEY) {
        h->key = arg;
        return 1;
    }
    if (opt != SERVE_HTTP_OPT_DIR)
        return 0;
    return tool_path_port("--http", "directory", arg, h->dir, sizeof h->dir, &h->port, 80);
}

static int64_t wall_clock(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

static int https_start(struct serve_http *h, struct tern_env *env)
{
    if (!h->sdir[0]) {
        if (h->cert || h->key) {
            fprintf(stderr, "tern serve: --cert and --key need --https DIR\n");
            return 2;
        }
        return 0;
    }
    if (!h->cert || !h->key) {
        fprintf(stderr, "tern serve: --https needs --cert FILE and --key FILE\n");
        return 2;
    }
    char err[256];
    struct ttls_config c = {.server = true, .cert_file = h->cert, .key_file = h->key};
    if (!(h->tctx = ttls_ctx_new(&c, err, sizeof err))) {
        fprintf(stderr, "tern serve: --https: %s\n", err);
        return 2;
    }
    struct app_tls *t = calloc(1, sizeof *t);
    if (!t)
        return 1;
    tls_app_fill(t, h->tctx);
    h->tls = t;
    struct tern_http_server_opts o = {.root = h->sdir, .port = h->sport, .index = h->index,
                                      .wall_clock = wall_clock, .log = stdout, .tls = t};
    int e;
    h->ssrv = http_server_start(env->stack, env->loop, &o, &e);
    if (!h->ssrv) {
        if (e == TERN_E_INVAL) {
            fprintf(stderr, "tern serve: --https: '%s' is not a readable directory\n", h->sdir);
            return 2;
        }
        fprintf(stderr, "tern serve: --https: tcp port %u: %s\n", h->sport, tern_strerror(e));
        return 1;
    }
    fprintf(stderr, "tern serve: https: %s on tcp port %u%s\n", h->sdir, h->sport,
            h->index ? " (directory listings on)" : "");
    return 0;
}

int serve_http_start(struct serve_http *h, struct tern_env *env)
{
    int rc = https_start(h, env);
    if (rc)
        return rc;
    if (!h->dir[0]) {
        if (h->index && !h->sdir[0])
            fprintf(stderr, "tern serve: --http-index needs --http DIR\n");
        return h->index && !h->sdir[0] ? 2 : 0;
    }
    struct tern_http_server_opts o = {.root = h->dir, .port = h->port, .index = h->index,
                                      .wall_clock = wall_clock, .log = stdout};
    int e;
    h->srv = http_server_start(env->stack, env->loop, &o, &e);
    if (!h->srv) {
        if (e == TERN_E_INVAL) {
            fprintf(stderr, "tern serve: --http: '%s' is not a readable directory\n", h->dir);
            return 2;
        }
        fprintf(stderr, "tern serve: --http: tcp port %u: %s\n", h->port,
                e == TERN_E_UNSUPPORTED ? "TCP is not available in this build" : tern_strerror(e));
        return 1;
    }
    fprintf(stderr, "tern serve: http: %s on tcp port %u%s\n", h->dir, h->port,
            h->index ? " (directory listings on)" : "");
    return 0;
}

static void print_stats(const char *what, struct tern_http_server *srv)
{
    if (srv) {
        const struct http_server_stats *s = http_server_stats(srv);
        fprintf(stderr,
                "tern serve: %s connections %llu (refused %llu, evicted %llu), requests %llu, 2xx %llu, "
                "3xx %llu, 4xx %llu, 5xx %llu, body bytes %llu, timeouts %llu\n",
                what, (unsigned long long)s->accepted, (unsigned long long)s->refused,
                (unsigned long long)s->evicted, (unsigned long long)s->requests, (unsigned long long)s->status_2xx,
                (unsigned long long)s->status_3xx, (unsigned long long)s->status_4xx,
                (unsigned long long)s->status_5xx, (unsigned long long)s->body_bytes,
                (unsigned long long)s->timeouts);
    }
}

void serve_http_stop(struct serve_http *h)
{
    print_stats("http", h->srv);
    print_stats("https", h->ssrv);
    http_server_free(h->srv);
    h->srv = NULL;
    http_server_free(h->ssrv);
    h->ssrv = NULL;
    ttls_ctx_free(h->tctx);
    h->tctx = NULL;
    free(h->tls);
    h->tls = NULL;
}
