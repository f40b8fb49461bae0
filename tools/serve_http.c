/* tools/serve_http.c - `tern serve --http DIR[:PORT]` (see serve_http.h). */
#include "serve_http.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/http_server.h"
#include "tern/err.h"

const char serve_http_help[] =
    "HTTP server options:\n"
    "  --http DIR[:PORT]  serve the files under DIR with HTTP/1.1 (GET, HEAD, keep-alive)\n"
    "                   on TCP port PORT (default 80); a DIR whose name ends in\n"
    "                   ':DIGITS' needs an explicit :PORT; at most 64 connections (a\n"
    "                   newcomer closes the one waiting longest for its request),\n"
    "                   30 s to start a request (or between requests), 10 s to send\n"
    "                   a whole request once started\n"
    "  --http-index     list directories that have no index.html\n";

int serve_http_opt(struct serve_http *h, int opt, const char *arg)
{
    if (opt == SERVE_HTTP_OPT_INDEX) {
        h->index = true;
        return 1;
    }
    if (opt != SERVE_HTTP_OPT_DIR)
        return 0;
    size_t len = strlen(arg);
    h->port = 80;
    const char *colon = strrchr(arg, ':');
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        unsigned long p;
        if (parse_ulong(colon + 1, 1, 65535, &p) < 0) {
            fprintf(stderr, "tern serve: bad port in --http '%s'\n", arg);
            return -1;
        }
        h->port = (uint16_t)p;
        len = (size_t)(colon - arg);
    }
    if (len == 0 || len >= sizeof h->dir) {
        fprintf(stderr, "tern serve: bad directory in --http '%s'\n", arg);
        return -1;
    }
    memcpy(h->dir, arg, len);
    h->dir[len] = '\0';
    return 1;
}

static int64_t wall_clock(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

int serve_http_start(struct serve_http *h, struct tern_env *env)
{
    if (!h->dir[0]) {
        if (h->index)
            fprintf(stderr, "tern serve: --http-index needs --http DIR\n");
        return h->index ? 2 : 0;
    }
    struct tern_http_server_opts o = {.root = h->dir, .port = h->port, .index = h->index,
                                      .wall_clock = wall_clock, .log = stdout};
    int e;
    h->srv = tern_http_server_start(env->stack, env->loop, &o, &e);
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

void serve_http_stop(struct serve_http *h)
{
    if (h->srv) {
        const struct tern_http_server_stats *s = tern_http_server_stats(h->srv);
        fprintf(stderr,
                "tern serve: http connections %llu (refused %llu, evicted %llu), requests %llu, 2xx %llu, "
                "3xx %llu, 4xx %llu, 5xx %llu, body bytes %llu, timeouts %llu\n",
                (unsigned long long)s->accepted, (unsigned long long)s->refused,
                (unsigned long long)s->evicted, (unsigned long long)s->requests, (unsigned long long)s->status_2xx,
                (unsigned long long)s->status_3xx, (unsigned long long)s->status_4xx,
                (unsigned long long)s->status_5xx, (unsigned long long)s->body_bytes,
                (unsigned long long)s->timeouts);
    }
    tern_http_server_free(h->srv);
    h->srv = NULL;
}
