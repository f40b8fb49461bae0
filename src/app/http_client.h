/*
 * src/app/http_client.h - `tern get`: one HTTP/1.1 GET (RFC 9110 s9.3.1,
 * RFC 9112) written once as an event-driven app on the socket API; it runs
 * on TAP/TUN with the real loop and in virtual time in tests.
 *
 * Resolves the host with the DNS stub resolver (src/app/resolver.h) unless
 * it is an IPv4 literal, connects to the first address, sends
 *     GET PATH HTTP/1.1 / Host / User-Agent / Accept: * / * / Connection: close
 * and writes the body (Content-Length, chunked or close-delimited) to
 * io.out as it arrives, reporting progress. Redirects are not followed
 * (a 3xx is reported, its body written, status 0 - as curl without -L).
 *
 * Exit statuses (done callback), documented for `tern get`:
 *   0  the whole body was received and the status was < 400
 *   1  network or protocol error: name not found, connection refused,
 *      timed out, reset, malformed or truncated response
 *   3  the server answered with a status >= 400 (as curl --fail; the body
 *      is not written)
 * (2 is the tool's usage error, e.g. a bad URL.)
 * https:// (RFC 9110 s4.2.2) when opts.tls is given (libtern-tls fills it,
 * src/app/app_tls.h): the server's certificate is verified for the URL's
 * host; a failed handshake ends with the status opts.tls->exit_status
 * gives (docs/tls.md: 35, 50, 51, 60) or 1.
 * Not: IPv6, proxies, redirects, authentication, compression.
 */
#ifndef TERN_APP_HTTP_CLIENT_H
#define TERN_APP_HTTP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/app_tls.h"
#include "app/resolver.h"
#include "tern/loop.h"
#include "tern/stack.h"

#define TERN_GET_OK 0
#define TERN_GET_NETWORK 1
#define TERN_GET_USAGE 2
#define TERN_GET_HTTP_STATUS 3

struct tern_http_get_opts {
    const char *url;                /* http://host[:port]/path */
    struct tern_resolve_opts dns;   /* servers, for a host that is not an IPv4 literal */
    uint64_t connect_timeout_us;    /* 0 = 10 s (name lookup + TCP handshake) */
    uint64_t idle_timeout_us;       /* 0 = 30 s without receiving anything */
    const char *user_agent;         /* NULL = "tern/0.1" */
    const struct app_tls *tls;      /* https://: the TLS functions; NULL = no https */
};

struct tern_http_progress {
    uint64_t bytes;      /* body bytes received */
    int64_t total;       /* Content-Length, -1 if unknown */
    double rate;         /* bytes per second since the response began */
    uint64_t elapsed_us; /* since the start */
    bool final;          /* the last call */
};

struct tern_http_get_io {
    FILE *out;           /* the body */
    FILE *err;           /* one-line messages ("tern get: ..."), may be NULL */
    void (*progress)(void *ctx, const struct tern_http_progress *p); /* may be NULL */
    void (*done)(void *ctx, int status); /* once, on the loop */
    void *ctx;
};

struct tern_http_get;

/* NULL with *err = TERN_E_INVAL for a bad URL (reason printed to io->err)
 * or missing DNS servers for a name, TERN_E_NOMEM. Everything else is
 * reported through done(). */
struct tern_http_get *tern_http_get_start(struct tern_stack *s, struct tern_loop *loop,
                                          const struct tern_http_get_opts *o,
                                          const struct tern_http_get_io *io, int *err);
/* The final HTTP status (0 before one arrived). */
int tern_http_get_status(const struct tern_http_get *g);
/* Stops early (a signal): done(ctx, 1) unless already done. */
void tern_http_get_stop(struct tern_http_get *g);
void tern_http_get_free(struct tern_http_get *g);

#endif
