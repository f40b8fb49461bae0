/*
 * src/app/http_client.h - `tern get`: one HTTP/1.1 GET (RFC 9110 s9.3.1,
 * RFC 9112) written once as an event-driven app on the socket API; it runs
 * on TAP/TUN with the real loop and in virtual time in tests.
 *
 * Resolves the host with the DNS stub resolver (src/app/resolver.h) unless
 * it is an IPv4 literal, connects to the first address, sends
 *     GET PATH HTTP/1.1 / Host / User-Agent / Accept: * / * / Connection: close
 * and writes the body (Content-Length, chunked or close-delimited) to
 * io.out as it arrives, reporting progress. As curl: a status >= 400 is
 * written and ends with 0 unless fail (-f) is set; a 3xx is written and
 * ends with 0 unless follow (-L) is set, when Location is followed (RFC
 * 9110 s15.4; a relative reference resolved against the URL, RFC 3986
 * s5.2) at most max_redirs times, only the last body written.
 *
 * Exit statuses (done callback): curl's numbers, documented for `tern get`:
 *   0  the whole body was received
 *   1  https:// without TLS support (a URL or a redirect)
 *   3  a redirect to a malformed URL
 *   6  the host name could not be resolved
 *   7  could not connect (refused, unreachable)
 *   8  the server's reply is not HTTP/1.x (malformed head)
 *  18  the connection closed before the whole body arrived
 *  22  fail and a status >= 400 (nothing written)
 *  23  writing the body failed
 *  27  out of memory (an https:// connection could not be set up)
 *  28  timed out (connecting, or idle_timeout_us without data)
 *  47  more than max_redirs redirects
 *  52  the connection closed without a byte of reply
 *  55  sending the request failed
 *  56  receiving failed (connection reset)
 * (2 is the tool's usage error; the tool also uses 1 for an unsupported
 * and 3 for a malformed URL given on the command line.)
 * https:// (RFC 9110 s4.2.2) when opts.tls is given (libtern-tls fills it,
 * src/app/app_tls.h): the server's certificate is verified for the URL's
 * host; a failed handshake ends with the status opts.tls->exit_status
 * gives (docs/tls.md: 35, 50, 51, 60) or 1.
 * Not: IPv6, proxies, authentication, compression.
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
#define TERN_GET_UNSUPPORTED 1
#define TERN_GET_USAGE 2
#define TERN_GET_URL_MALFORMED 3
#define TERN_GET_RESOLVE 6
#define TERN_GET_CONNECT 7
#define TERN_GET_WEIRD_REPLY 8
#define TERN_GET_PARTIAL 18
#define TERN_GET_HTTP_ERROR 22
#define TERN_GET_WRITE_ERROR 23
#define TERN_GET_OUT_OF_MEMORY 27
#define TERN_GET_TIMEOUT 28
#define TERN_GET_TOO_MANY_REDIRECTS 47
#define TERN_GET_EMPTY_REPLY 52
#define TERN_GET_SEND_ERROR 55
#define TERN_GET_RECV_ERROR 56

struct tern_http_get_opts {
    const char *url;                /* http://host[:port]/path */
    struct tern_resolve_opts dns;   /* servers, for a host that is not an IPv4 literal */
    uint64_t connect_timeout_us;    /* 0 = 10 s (name lookup + TCP handshake) */
    uint64_t idle_timeout_us;       /* 0 = 30 s without receiving anything */
    const char *user_agent;         /* NULL = "tern/0.1" */
    const char *host_header;        /* the Host field's name for the first URL (a name
                                     * the caller resolved into the URL's literal), or NULL */
    bool fail;                      /* -f: a status >= 400 ends with 22, body not written */
    bool follow;                    /* -L: follow redirects */
    int max_redirs;                 /* with follow: at most this many (0 = none); -1 = 50 */
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
struct tern_http_get *http_get_start(struct tern_stack *s, struct tern_loop *loop,
                                          const struct tern_http_get_opts *o,
                                          const struct tern_http_get_io *io, int *err);
/* The final HTTP status (0 before one arrived). */
int http_get_status(const struct tern_http_get *g);
/* The number of redirects followed so far. */
unsigned http_get_redirects(const struct tern_http_get *g);
/* Stops early (a signal): done(ctx, 1) unless already done. */
void http_get_stop(struct tern_http_get *g);
void http_get_free(struct tern_http_get *g);

#endif
