/*
 * src/tls/tls.h - TLS over tern's TCP, through OpenSSL 3 (libtern-tls.a).
 *
 * Not part of libtern: the core (src/wire, src/core, src/dev, src/loop) and
 * the apps stay libc-only; this module and whatever uses it (the tools,
 * the unit tests) link -lssl -lcrypto. docs/tls.md tells the design.
 *
 * Two layers:
 *  - ttls_ctx: an SSL_CTX (client or server) with tern's policy: TLS 1.2
 *    and 1.3 only (RFC 8446, RFC 5246), no compression, no renegotiation,
 *    the library's default ciphers; a client verifies the server's chain
 *    and its name (RFC 6125 via SSL_set1_host / X509_check_host) unless
 *    insecure is set.
 *  - tstream: one TCP socket, optionally with a TLS session on it, as a
 *    byte stream: recv/send plaintext, half-close, close. The session is
 *    sans-IO (OpenSSL reads and writes memory BIOs; the stream moves the
 *    bytes between them and the tern socket), so it runs unchanged on the
 *    real loop and in virtual time. With ctx NULL the stream is plain TCP,
 *    so one forwarder serves both.
 * Bounds: at most TSTREAM_RBUF bytes of ciphertext wait inside OpenSSL's
 * input (the socket is read only below that), at most TSTREAM_WMAX of
 * ciphertext wait for the socket (send returns TERN_E_AGAIN beyond), and a
 * handshake not done within handshake_timeout_us fails the stream.
 */
#ifndef TERN_TLS_TLS_H
#define TERN_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tern/loop.h"
#include "tern/socket.h"

struct ttls_config {
    bool server;
    const char *ca_file, *ca_dir; /* client: trust anchors; both NULL = the system's */
    const char *cert_file, *key_file; /* server: PEM chain and key */
    bool insecure;                /* client: no verification at all (--insecure) */
};

struct ttls_ctx;

/* NULL on failure, with a one-line reason in err. */
struct ttls_ctx *ttls_ctx_new(const struct ttls_config *c, char *err, size_t errlen);
void ttls_ctx_free(struct ttls_ctx *c);

/* Errors a stream reports besides the socket's own (enum tern_err). */
#define TTLS_E_TLS (-100)       /* a TLS protocol error or an alert from the peer */
#define TTLS_E_VERIFY (-101)    /* the peer's certificate did not verify: ttls_verify_kind */
#define TTLS_E_HSTIMEOUT (-102) /* the handshake did not finish in time */
#define TTLS_E_TRUNCATED (-103) /* TCP ended without a close_notify (RFC 8446 s6.1) */

enum ttls_verify_kind {
    TTLS_VERIFY_OK = 0,
    TTLS_VERIFY_UNTRUSTED, /* no chain to a trusted CA (self-signed, unknown issuer) */
    TTLS_VERIFY_HOSTNAME,  /* the certificate is not for the name we asked for */
    TTLS_VERIFY_EXPIRED,   /* outside its validity period (expired or not yet valid) */
    TTLS_VERIFY_OTHER
};

#define TSTREAM_RBUF 20000 /* > one maximal TLS record (2^14 + 256 + header) */
#define TSTREAM_WMAX 65536
#define TSTREAM_HS_TIMEOUT_US 10000000u

struct tstream;

/* Something may have changed: try recv and send until TERN_E_AGAIN, check
 * tstream_failed. Runs on the loop (never inside a tstream call); the
 * callee may close or abort the stream. */
typedef void (*tstream_fn)(struct tstream *st, void *ctx);

/* Takes sk (connecting, just connected, or accepted). tls NULL: plain TCP.
 * host (client TLS): the name sent as SNI (unless an IP literal, RFC 6066
 * s3) and checked against the certificate; NULL = the certificate's name
 * is not checked. handshake_timeout_us 0 = TSTREAM_HS_TIMEOUT_US. NULL
 * only when memory runs out (sk is then aborted). */
struct tstream *tstream_new(struct tern_loop *loop, struct tern_sock *sk, struct ttls_ctx *tls,
                            const char *host, uint64_t handshake_timeout_us, tstream_fn fn,
                            void *ctx);
/* Plaintext: > 0 bytes, 0 end of stream (TLS: the peer's close_notify),
 * TERN_E_AGAIN, or an error (also kept in tstream_failed). */
ssize_t tstream_recv(struct tstream *st, void *buf, size_t len);
/* Plaintext accepted (all of it or a part), TERN_E_AGAIN (not connected,
 * handshaking, or output full), or an error. */
ssize_t tstream_send(struct tstream *st, const void *buf, size_t len);
/* End of our output: TLS sends close_notify, then TCP's FIN once every
 * byte is out. Reading goes on. */
void tstream_shutdown(struct tstream *st);
/* Graceful: what is queued goes out, then the socket closes; the handle is
 * gone at once (the stream frees itself later). */
void tstream_close(struct tstream *st);
/* At once, with an RST. */
void tstream_abort(struct tstream *st);

/* 0 or the first error (negative). */
int tstream_failed(const struct tstream *st);
/* The handshake is done (plain: connected). */
bool tstream_ready(const struct tstream *st);
/* Every byte we were given is in the socket's queue (and, after shutdown,
 * the FIN too). */
bool tstream_flushed(const struct tstream *st);
/* A readable reason for tstream_failed ("certificate verify failed: ...",
 * "alert handshake failure", ...), "" if none. */
const char *tstream_errmsg(const struct tstream *st);
enum ttls_verify_kind tstream_verify_kind(const struct tstream *st);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "plain" / "" before the handshake. */
const char *tstream_describe(const struct tstream *st, char *buf, size_t cap);
/* Bytes of ciphertext held in memory right now (for the bounded-memory
 * tests). */
size_t tstream_buffered(const struct tstream *st);
struct tern_sock *tstream_sock(const struct tstream *st);

/* The table the libtern apps take (src/app/app_tls.h), with ctx set. */
struct app_tls;
void tls_app_fill(struct app_tls *t, struct ttls_ctx *ctx);

/* Exit statuses of the tools for a failed TLS client (docs/tls.md):
 * curl's where it has one. */
#define TLS_EXIT_HANDSHAKE 35 /* curl's CURLE_SSL_CONNECT_ERROR: alert, protocol error, timeout */
#define TLS_EXIT_HOSTNAME 51  /* curl's historical "peer certificate ... not OK" (name mismatch) */
#define TLS_EXIT_EXPIRED 50   /* tern's own: curl folds this into 60 */
#define TLS_EXIT_UNTRUSTED 60 /* curl's CURLE_PEER_FAILED_VERIFICATION: unknown CA */
int tstream_exit_status(const struct tstream *st);

#endif
