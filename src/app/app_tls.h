/*
 * src/app/app_tls.h - how an app of libtern (the HTTP client and server)
 * runs over TLS without libtern linking OpenSSL: the caller hands in this
 * table of functions, filled by libtern-tls (src/tls/tls.h: tls_app_client,
 * tls_app_server); libtern only sees pointers to the incomplete types
 * struct tstream and struct ttls_ctx. NULL table = plain TCP.
 * A stream wraps a TCP socket (connecting or accepted) and reports through
 * fn(stream, ctx) whenever it may have become readable, writable or failed;
 * the app then reads and writes until TERN_E_AGAIN, as with a socket.
 */
#ifndef TERN_APP_APP_TLS_H
#define TERN_APP_APP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tern/loop.h"
#include "tern/socket.h"

struct tstream;
struct ttls_ctx;

struct app_tls {
    struct ttls_ctx *ctx; /* client: trust and policy; server: certificate and key */
    struct tstream *(*wrap)(struct tern_loop *loop, struct tern_sock *sk, struct ttls_ctx *ctx,
                            const char *host, uint64_t handshake_timeout_us,
                            void (*fn)(struct tstream *st, void *fctx), void *fctx);
    ssize_t (*recv)(struct tstream *st, void *buf, size_t len);
    ssize_t (*send)(struct tstream *st, const void *buf, size_t len);
    void (*shutdown)(struct tstream *st);
    void (*close)(struct tstream *st);
    void (*abort)(struct tstream *st);
    bool (*ready)(const struct tstream *st);
    int (*failed)(const struct tstream *st);
    const char *(*errmsg)(const struct tstream *st);
    /* A failed client handshake: the exit status the tools give it (see
     * docs/tls.md), 0 = none special. */
    int (*exit_status)(const struct tstream *st);
};

#endif
