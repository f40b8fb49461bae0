/*
 * src/tls/tls.c - TLS sessions over tern's TCP through OpenSSL 3's memory
 * BIOs (see tls.h). No cryptography here: OpenSSL does all of it; this
 * file moves bytes between OpenSSL's memory BIOs and a tern socket and
 * keeps them bounded.
 *
 * RFC 8446 s6.1 (closure alerts): "Each party MUST send a close_notify
 * alert before closing its write side of the connection" - tstream_shutdown
 * sends it, then TCP's FIN; a close_notify received reads as end of stream,
 * and the other direction stays open (TLS 1.3 allows a half-closed
 * connection; we never shut our side only because the peer did). A TCP end
 * without close_notify is a truncation, reported as TTLS_E_TRUNCATED.
 * RFC 8446 s5.1: a record longer than 2^14 (+256 ciphertext expansion) is
 * a record_overflow: OpenSSL rejects it from the header, so the input never
 * holds more than TSTREAM_RBUF bytes.
 * RFC 6125 s6.4 (host name checks): OpenSSL's X509_check_host through
 * SSL_set1_host, subjectAltName dNSName first (s6.4.4: CN only when no
 * DNS SAN), a wildcard only as the whole left-most label (s6.4.3,
 * X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS). An IP literal is checked against
 * iPAddress SANs and not sent as SNI (RFC 6066 s3).
 */
#include "tls/tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "app/app_tls.h"
#include "tern/err.h"

struct ttls_ctx {
    SSL_CTX *ssl;
    bool server, insecure;
};

#define OBUF 16384
#define CLOSE_LINGER_US 30000000u /* a closed stream's ciphertext gets 30 s to leave */

struct tstream {
    struct tern_loop *loop;
    struct tern_sock *sk;
    struct ttls_ctx *tls;
    SSL *ssl;
    BIO *rbio, *wbio; /* OpenSSL reads rbio (from the network), writes wbio */
    tstream_fn fn;
    void *ctx;
    bool sock_err; /* the socket itself failed: nothing more can go out */
    bool connected, hs_done, tcp_eof, shut_req, notify_sent, fin_sent, closing, dead;
    int in_cb;
    int err;
    enum ttls_verify_kind vkind;
    char msg[200];
    uint8_t obuf[OBUF]; /* ciphertext taken from wbio, not yet in the socket */
    size_t olen, ooff;
    struct tern_timer hs_timer, kick_timer, close_timer;
};

struct ttls_ctx *ttls_ctx_new(const struct ttls_config *c, char *err, size_t errlen)
{
    ERR_clear_error();
    struct ttls_ctx *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->server = c->server;
    t->insecure = c->insecure;
    t->ssl = SSL_CTX_new(c->server ? TLS_server_method() : TLS_client_method());
    if (!t->ssl)
        goto fail;
    /* TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1). */
    if (!SSL_CTX_set_min_proto_version(t->ssl, TLS1_2_VERSION))
        goto fail;
    SSL_CTX_set_options(t->ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
    if (c->server) {
        if (!c->cert_file || !c->key_file) {
            snprintf(err, errlen, "a TLS server needs a certificate and a key (--cert, --key)");
            ttls_ctx_free(t);
            return NULL;
        }
        if (SSL_CTX_use_certificate_chain_file(t->ssl, c->cert_file) != 1) {
            snprintf(err, errlen, "cannot load certificate %s: %s", c->cert_file,
                     ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(ERR_peek_last_error()) : "bad file");
            ttls_ctx_free(t);
            return NULL;
        }
        if (SSL_CTX_use_PrivateKey_file(t->ssl, c->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(t->ssl) != 1) {
            snprintf(err, errlen, "cannot use key %s: %s", c->key_file,
                     ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(ERR_peek_last_error()) : "bad file");
            ttls_ctx_free(t);
            return NULL;
        }
    } else if (!c->insecure) {
        SSL_CTX_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
        int ok = (c->ca_file || c->ca_dir)
                     ? SSL_CTX_load_verify_locations(t->ssl, c->ca_file, c->ca_dir)
                     : SSL_CTX_set_default_verify_paths(t->ssl);
        if (ok != 1) {
            snprintf(err, errlen, "cannot load CA %s", c->ca_file ? c->ca_file : c->ca_dir ? c->ca_dir : "(system)");
            ttls_ctx_free(t);
            return NULL;
        }
    }
    ERR_clear_error();
    return t;
fail:
    snprintf(err, errlen, "OpenSSL: %s", ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(ERR_peek_last_error()) : "failed");
    ttls_ctx_free(t);
    return NULL;
}

void ttls_ctx_free(struct ttls_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ssl);
    free(c);
}

static void st_free(struct tstream *st)
{
    tern_timer_cancel(st->loop, &st->hs_timer);
    tern_timer_cancel(st->loop, &st->kick_timer);
    tern_timer_cancel(st->loop, &st->close_timer);
    SSL_free(st->ssl); /* frees both BIOs */
    free(st);
}

static void st_fail(struct tstream *st, int err, const char *msg)
{
    if (st->err)
        return;
    st->err = err;
    snprintf(st->msg, sizeof st->msg, "%s", msg ? msg : tern_strerror(err));
    tern_timer_cancel(st->loop, &st->hs_timer);
}

static void sock_fail(struct tstream *st, int err)
{
    st->sock_err = true;
    st_fail(st, err, NULL);
}

/* The reason OpenSSL left on its error queue. */
static void ssl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, cap, "%s", r ? r : "TLS error");
    ERR_clear_error();
}

static enum ttls_verify_kind classify(long vr)
{
    switch (vr) {
    case X509_V_OK:
        return TTLS_VERIFY_OK;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return TTLS_VERIFY_HOSTNAME;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return TTLS_VERIFY_EXPIRED;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return TTLS_VERIFY_UNTRUSTED;
    default:
        return TTLS_VERIFY_OTHER;
    }
}

/* An OpenSSL call returned r <= 0: WANT_READ is no error; anything else
 * fails the stream with the most precise reason we have. */
static int ssl_result(struct tstream *st, int r)
{
    int e = SSL_get_error(st->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return TERN_E_AGAIN;
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    char why[160];
    long vr = st->tls->server ? X509_V_OK : SSL_get_verify_result(st->ssl);
    if (!st->hs_done && vr != X509_V_OK && !st->tls->insecure) {
        st->vkind = classify(vr);
        snprintf(why, sizeof why, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
        ERR_clear_error();
        st_fail(st, TTLS_E_VERIFY, why);
        return TTLS_E_VERIFY;
    }
    unsigned long le = ERR_peek_last_error();
    if (st->tcp_eof && (le == 0 || ERR_GET_REASON(le) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        ERR_clear_error();
        st_fail(st, TTLS_E_TRUNCATED, st->hs_done ? "connection closed without close_notify"
                                                  : "connection closed during the TLS handshake");
        return TTLS_E_TRUNCATED;
    }
    ssl_reason(why, sizeof why);
    st_fail(st, TTLS_E_TLS, why);
    return TTLS_E_TLS;
}

/* Socket -> rbio, while OpenSSL's input holds less than TSTREAM_RBUF.
 * Returns true if bytes were added or the end came. */
static bool fill(struct tstream *st)
{
    bool any = false;
    uint8_t buf[4096];
    while (!st->err && !st->tcp_eof && st->connected) {
        size_t held = (size_t)BIO_ctrl_pending(st->rbio);
        if (held >= TSTREAM_RBUF)
            break;
        size_t want = TSTREAM_RBUF - held;
        if (want > sizeof buf)
            want = sizeof buf;
        ssize_t n = tern_sock_recv(st->sk, buf, want, 0);
        if (n == TERN_E_AGAIN)
            break;
        if (n < 0) {
            sock_fail(st, (int)n);
            return true;
        }
        if (n == 0) {
            st->tcp_eof = true;
            BIO_set_mem_eof_return(st->rbio, 0); /* drained input now reads as EOF */
            return true;
        }
        BIO_write(st->rbio, buf, (int)n);
        any = true;
    }
    return any;
}

/* wbio -> obuf -> socket. */
static void flush(struct tstream *st)
{
    /* After a TLS failure the alert OpenSSL queued still goes out. */
    while (!st->sock_err && st->connected && st->sk) {
        if (st->ooff == st->olen) {
            int n = BIO_read(st->wbio, st->obuf, OBUF);
            if (n <= 0) {
                st->ooff = st->olen = 0;
                break;
            }
            st->ooff = 0;
            st->olen = (size_t)n;
        }
        ssize_t n = tern_sock_send(st->sk, st->obuf + st->ooff, st->olen - st->ooff, 0);
        if (n == TERN_E_AGAIN)
            break;
        if (n < 0) {
            sock_fail(st, (int)n);
            break;
        }
        st->ooff += (size_t)n;
    }
}

static size_t out_held(const struct tstream *st)
{
    return (st->olen - st->ooff) + (st->wbio ? (size_t)BIO_ctrl_pending(st->wbio) : 0);
}

static void maybe_fin(struct tstream *st)
{
    if (!st->shut_req || st->fin_sent || st->err || !st->connected)
        return;
    if (st->ssl) {
        if (!st->hs_done)
            return;
        if (!st->notify_sent) {
            ERR_clear_error();
            SSL_shutdown(st->ssl); /* queues close_notify (returns 0: theirs not seen yet) */
            ERR_clear_error();
            st->notify_sent = true;
            flush(st);
        }
        if (out_held(st))
            return;
    }
    int r = tern_sock_shutdown(st->sk, TERN_SHUT_WR);
    if (r < 0 && r != TERN_E_NOTCONN)
        sock_fail(st, r);
    st->fin_sent = true;
}

/* Everything the stream can do on its own: connect check, input, handshake,
 * output, FIN. */
static void pump(struct tstream *st)
{
    if (!st->sk)
        return;
    if (st->err) {
        flush(st); /* an alert may still be queued */
        return;
    }
    if (!st->connected) {
        unsigned ev = tern_sock_poll(st->sk);
        if (ev & (TERN_POLLERR | TERN_POLLHUP)) {
            int e = tern_sock_error(st->sk);
            sock_fail(st, e < 0 ? e : TERN_E_CONNRESET);
            return;
        }
        if (!(ev & TERN_POLLOUT))
            return;
        st->connected = true;
    }
    if (st->ssl) {
        fill(st);
        if (!st->hs_done && !st->err) {
            ERR_clear_error();
            int r = SSL_do_handshake(st->ssl);
            if (r == 1) {
                st->hs_done = true;
                tern_timer_cancel(st->loop, &st->hs_timer);
            } else {
                ssl_result(st, r);
            }
            flush(st); /* the handshake's flight, or our alert */
            if (!st->hs_done && !st->err)
                fill(st);
        }
        flush(st);
    } else if (tern_sock_poll(st->sk) & TERN_POLLERR) {
        int e = tern_sock_error(st->sk);
        if (e < 0)
            sock_fail(st, e);
    }
    maybe_fin(st);
}

static void finish_close(struct tstream *st)
{
    if (st->dead)
        return;
    if (st->sock_err || !st->connected)
        tern_sock_abort(st->sk);
    else
        tern_sock_close(st->sk);
    st->sk = NULL;
    st->dead = true;
}

/* A closed stream: its last ciphertext is out, then the socket closes. */
static void close_step(struct tstream *st)
{
    pump(st);
    if (st->sock_err || !st->connected ||
        (out_held(st) == 0 && (st->err || !st->ssl || st->fin_sent || !st->hs_done)))
        finish_close(st);
}

static void on_sock(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tstream *st = ctx;
    (void)sk;
    (void)events;
    if (st->dead)
        return;
    st->in_cb++;
    if (st->closing) {
        close_step(st);
    } else {
        pump(st);
        if (st->fn)
            st->fn(st, st->ctx);
    }
    st->in_cb--;
    if (st->dead && !st->in_cb)
        st_free(st);
}

static void on_kick(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tstream *st = arg;
    on_sock(st->sk, 0, st);
}

static void on_hs_timeout(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tstream *st = arg;
    if (st->hs_done || st->err)
        return;
    st_fail(st, TTLS_E_HSTIMEOUT, "TLS handshake timed out");
    on_sock(st->sk, 0, st);
}

static void on_close_timeout(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tstream *st = arg;
    st->in_cb++;
    sock_fail(st, TERN_E_TIMEDOUT);
    finish_close(st);
    st->in_cb--;
    st_free(st);
}

static bool ip_literal(const char *h)
{
    struct in_addr a;
    return inet_pton(AF_INET, h, &a) == 1;
}

struct tstream *tstream_new(struct tern_loop *loop, struct tern_sock *sk, struct ttls_ctx *tls,
                            const char *host, uint64_t handshake_timeout_us, tstream_fn fn,
                            void *ctx)
{
    struct tstream *st = calloc(1, sizeof *st);
    if (!st) {
        tern_sock_abort(sk);
        return NULL;
    }
    st->loop = loop;
    st->sk = sk;
    st->tls = tls;
    st->fn = fn;
    st->ctx = ctx;
    tern_timer_init(&st->hs_timer, on_hs_timeout, st);
    tern_timer_init(&st->kick_timer, on_kick, st);
    tern_timer_init(&st->close_timer, on_close_timeout, st);
    if (tls) {
        ERR_clear_error();
        st->ssl = SSL_new(tls->ssl);
        st->rbio = BIO_new(BIO_s_mem());
        st->wbio = BIO_new(BIO_s_mem());
        if (!st->ssl || !st->rbio || !st->wbio) {
            BIO_free(st->rbio);
            BIO_free(st->wbio);
            SSL_free(st->ssl);
            free(st);
            tern_sock_abort(sk);
            return NULL;
        }
        BIO_set_mem_eof_return(st->rbio, -1); /* empty = retry, not EOF */
        SSL_set_bio(st->ssl, st->rbio, st->wbio);
        if (tls->server) {
            SSL_set_accept_state(st->ssl);
        } else {
            SSL_set_connect_state(st->ssl);
            if (host && *host) {
                bool ip = ip_literal(host);
                if (!ip)
                    SSL_set_tlsext_host_name(st->ssl, host); /* SNI, RFC 6066 s3 */
                if (!tls->insecure) {
                    if (ip) {
                        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(st->ssl), host);
                    } else {
                        SSL_set_hostflags(st->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                        SSL_set1_host(st->ssl, host);
                    }
                }
            }
        }
        ERR_clear_error();
        tern_timer_arm(loop, &st->hs_timer,
                       tern_loop_now(loop) + (handshake_timeout_us ? handshake_timeout_us : TSTREAM_HS_TIMEOUT_US));
    }
    tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, on_sock, st);
    tern_timer_arm(loop, &st->kick_timer, tern_loop_now(loop)); /* first look, on the loop */
    return st;
}

ssize_t tstream_recv(struct tstream *st, void *buf, size_t len)
{
    if (st->err)
        return st->err;
    if (!st->connected)
        return TERN_E_AGAIN;
    if (!st->ssl) {
        ssize_t n = tern_sock_recv(st->sk, buf, len, 0);
        if (n < 0 && n != TERN_E_AGAIN)
            sock_fail(st, (int)n);
        return n;
    }
    if (!st->hs_done) {
        pump(st);
        if (!st->hs_done)
            return st->err ? st->err : TERN_E_AGAIN;
    }
    if (len > INT32_MAX)
        len = INT32_MAX;
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(st->ssl, buf, (int)len);
        if (r > 0) {
            flush(st); /* a KeyUpdate answer, for one */
            return r;
        }
        int res = ssl_result(st, r);
        flush(st);
        if (res != TERN_E_AGAIN)
            return res;
        if (!fill(st))
            return st->err ? st->err : TERN_E_AGAIN;
    }
}

ssize_t tstream_send(struct tstream *st, const void *buf, size_t len)
{
    if (st->err)
        return st->err;
    if (st->shut_req)
        return TERN_E_PIPE;
    if (!st->connected)
        return TERN_E_AGAIN;
    if (!st->ssl) {
        ssize_t n = tern_sock_send(st->sk, buf, len, 0);
        if (n < 0 && n != TERN_E_AGAIN)
            sock_fail(st, (int)n);
        return n;
    }
    if (!st->hs_done)
        return TERN_E_AGAIN;
    if (out_held(st) >= TSTREAM_WMAX) {
        flush(st);
        if (out_held(st) >= TSTREAM_WMAX)
            return st->err ? st->err : TERN_E_AGAIN;
    }
    if (len > 16384)
        len = 16384; /* one record */
    if (len == 0)
        return 0;
    ERR_clear_error();
    int r = SSL_write(st->ssl, buf, (int)len);
    if (r <= 0) {
        int res = ssl_result(st, r);
        return res == 0 ? TERN_E_PIPE : res;
    }
    flush(st);
    return r;
}

void tstream_shutdown(struct tstream *st)
{
    if (st->shut_req)
        return;
    st->shut_req = true;
    maybe_fin(st);
}

void tstream_close(struct tstream *st)
{
    if (!st || st->closing || st->dead)
        return;
    st->closing = true;
    st->fn = NULL;
    st->shut_req = true;
    tern_timer_cancel(st->loop, &st->kick_timer);
    tern_timer_arm(st->loop, &st->close_timer, tern_loop_now(st->loop) + CLOSE_LINGER_US);
    st->in_cb++;
    close_step(st);
    st->in_cb--;
    if (st->dead && !st->in_cb)
        st_free(st);
}

void tstream_abort(struct tstream *st)
{
    if (!st || st->dead)
        return;
    if (!st->err)
        st->err = TERN_E_CONNRESET;
    st->fn = NULL;
    tern_sock_abort(st->sk);
    st->sk = NULL;
    st->dead = true;
    if (!st->in_cb)
        st_free(st);
}

int tstream_failed(const struct tstream *st) { return st->err; }

bool tstream_ready(const struct tstream *st)
{
    return st->connected && (!st->ssl || st->hs_done);
}

bool tstream_flushed(const struct tstream *st)
{
    return out_held(st) == 0 && (!st->shut_req || st->fin_sent);
}

const char *tstream_errmsg(const struct tstream *st) { return st->msg; }

enum ttls_verify_kind tstream_verify_kind(const struct tstream *st) { return st->vkind; }

const char *tstream_describe(const struct tstream *st, char *buf, size_t cap)
{
    if (!st->ssl)
        snprintf(buf, cap, "plain");
    else if (!st->hs_done)
        snprintf(buf, cap, "%s", "");
    else
        snprintf(buf, cap, "%s %s", SSL_get_version(st->ssl), SSL_get_cipher_name(st->ssl));
    return buf;
}

size_t tstream_buffered(const struct tstream *st)
{
    return out_held(st) + (st->rbio ? (size_t)BIO_ctrl_pending(st->rbio) : 0);
}

struct tern_sock *tstream_sock(const struct tstream *st) { return st->sk; }

int tstream_exit_status(const struct tstream *st)
{
    if (!st->err || st->hs_done)
        return 0;
    if (st->err == TTLS_E_VERIFY) {
        switch (st->vkind) {
        case TTLS_VERIFY_HOSTNAME: return TLS_EXIT_HOSTNAME;
        case TTLS_VERIFY_EXPIRED: return TLS_EXIT_EXPIRED;
        default: return TLS_EXIT_UNTRUSTED;
        }
    }
    if (st->err == TTLS_E_TLS || st->err == TTLS_E_HSTIMEOUT || st->err == TTLS_E_TRUNCATED)
        return TLS_EXIT_HANDSHAKE;
    return 0;
}

void tls_app_fill(struct app_tls *t, struct ttls_ctx *ctx)
{
    t->ctx = ctx;
    t->wrap = tstream_new;
    t->recv = tstream_recv;
    t->send = tstream_send;
    t->shutdown = tstream_shutdown;
    t->close = tstream_close;
    t->abort = tstream_abort;
    t->ready = tstream_ready;
    t->failed = tstream_failed;
    t->errmsg = tstream_errmsg;
    t->exit_status = tstream_exit_status;
}
