/*
 * src/app/http_server.h - a static file server (HTTP/1.1, RFC 9112/9110)
 * written once as an event-driven app on the core socket API: it runs on
 * TAP/TUN with the real loop (`tern serve --http DIR[:PORT]`) and in
 * virtual time in tests.
 *
 * GET and HEAD of regular files under one directory; 400 (bad request or
 * path), 404, 405 (with Allow), 413, 414, 431, 500, 501, 505 from the
 * parser and the file system; 301 to add the '/' of a directory; an
 * index.html in a directory is served for it, else (with opts.index) an
 * HTML listing with escaped names. Keep-alive by default in HTTP/1.1
 * (RFC 9112 s9.3), "Connection: close" honoured, pipelined requests
 * answered in order, one at a time. Each connection has a deadline: a
 * connection waiting for a request is closed after idle_timeout_us without
 * one starting; once its first byte is in, the whole request (head and
 * the body we drop) must arrive within request_timeout_us, however slowly
 * it trickles (as Apache's mod_reqtimeout and nginx's client_header_timeout
 * bound it); a response that makes no progress for idle_timeout_us is
 * aborted. With max_conns connections open, a newcomer closes the one that
 * has waited longest for its request (or is closing): it has cost the
 * server nothing yet, and a few slow clients can no longer lock everyone
 * out. Only when every connection is busy answering is the newcomer
 * refused.
 *
 * DEVIATION (like the DNS zone loader and servdb): files are read with
 * stdio/stat/opendir - the only OS calls in this app, in one small section
 * of http_server_files.c (and the root's realpath/stat at start in
 * http_server.c). Symbolic links are followed only when their target
 * stays inside the served directory (checked with realpath).
 * Not: ranges, conditional requests, compression, request bodies (framed
 * and discarded, 413 over 64 KiB), HTTPS.
 */
#ifndef TERN_APP_HTTP_SERVER_H
#define TERN_APP_HTTP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/app_tls.h"
#include "tern/loop.h"
#include "tern/stack.h"

struct tern_http_server_opts {
    const char *root;          /* the directory served */
    uint32_t addr;             /* listen address, 0 = any */
    uint16_t port;             /* 0 = 80 */
    unsigned max_conns;        /* simultaneous connections, 0 = 64; beyond: see above */
    int backlog;               /* listen backlog, 0 = 16 */
    uint64_t idle_timeout_us;  /* no request started / no response progress, 0 = 30 s */
    uint64_t request_timeout_us; /* a whole request from its first byte, 0 = 10 s */
    bool index;                /* HTML listings of directories without index.html */
    /* Wall-clock seconds for the Date header (RFC 9110 s6.6.1); NULL = send no Date. */
    int64_t (*wall_clock)(void *ctx);
    void *clock_ctx;
    FILE *log;                 /* one line per response ("PEER \"METHOD TARGET\" STATUS BYTES"); NULL = none */
    /* HTTPS (RFC 9110 s4.2.2): every connection speaks TLS through these
     * functions (libtern-tls fills them, src/app/app_tls.h); NULL = plain. */
    const struct app_tls *tls;
};

struct http_server_stats {
    uint64_t accepted, refused; /* connections (refused: every one busy answering) */
    uint64_t evicted;           /* waiting for a request, closed to make room for a newcomer */
    uint64_t requests, status_2xx, status_3xx, status_4xx, status_5xx;
    uint64_t body_bytes;        /* file bytes queued to sockets */
    uint64_t timeouts;          /* idle or request timeouts (all of them) */
    uint64_t request_timeouts;  /* of which: a request that took too long to arrive */
};

struct tern_http_server;

/* Opens the listening socket. NULL with *err: TERN_E_INVAL (no root, or not
 * a directory), TERN_E_UNSUPPORTED (no TCP in this build), a bind error. */
struct tern_http_server *http_server_start(struct tern_stack *s, struct tern_loop *loop,
                                                const struct tern_http_server_opts *o, int *err);
const struct http_server_stats *http_server_stats(const struct tern_http_server *srv);
unsigned http_server_conns(const struct tern_http_server *srv);
/* Aborts every connection, closes the listener and frees. NULL is fine. */
void http_server_free(struct tern_http_server *srv);

#endif
