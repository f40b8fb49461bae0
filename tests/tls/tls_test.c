/*
 * Tests for src/tls/tls.c: TLS streams over tern's TCP between two stacks
 * in virtual time (tests/common/net2.h: A 10.0.0.1 client, B 10.0.0.2
 * server), with a PKI made at run time (certs.h). OpenSSL checks
 * certificate dates against the wall clock, not the virtual one.
 */
#include <stdlib.h>

#include "common/net2.h"
#include "harness.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tls/certs.h"
#include "tls/tls.h"

struct side {
    struct tstream *st;
    uint8_t *rx;
    size_t rxlen, rxcap;
    const uint8_t *tx;
    size_t txlen, txoff;
    bool eof, shut, ready, no_shut;
    int err;
    size_t max_buffered;
};

static void side_fn(struct tstream *st, void *ctx)
{
    struct side *s = ctx;
    uint8_t buf[8192];
    if (tstream_ready(st))
        s->ready = true;
    for (;;) {
        ssize_t n = tstream_recv(st, buf, sizeof buf);
        if (n > 0) {
            if (s->rxlen + (size_t)n > s->rxcap) {
                s->rxcap = (s->rxlen + (size_t)n) * 2;
                s->rx = realloc(s->rx, s->rxcap);
            }
            memcpy(s->rx + s->rxlen, buf, (size_t)n);
            s->rxlen += (size_t)n;
            continue;
        }
        if (n == 0)
            s->eof = true;
        break;
    }
    while (s->txoff < s->txlen) {
        ssize_t n = tstream_send(st, s->tx + s->txoff, s->txlen - s->txoff);
        if (n <= 0)
            break;
        s->txoff += (size_t)n;
    }
    if (s->txoff == s->txlen && !s->shut && !s->no_shut && tstream_ready(st)) {
        tstream_shutdown(st);
        s->shut = true;
    }
    if (tstream_buffered(st) > s->max_buffered)
        s->max_buffered = tstream_buffered(st);
    if (tstream_failed(st) && !s->err)
        s->err = tstream_failed(st);
}

struct tlsnet {
    struct net2 n;
    struct tcerts pki;
    struct ttls_ctx *cctx, *sctx;
    struct tern_sock *lsk;
    struct side cli, srv;
    uint64_t hs_timeout;
    bool plain_server; /* accept without TLS (the client's peer is plain) */
};

static void on_accept(struct tern_sock *lsk, unsigned ev, void *ctx)
{
    struct tlsnet *t = ctx;
    (void)ev;
    struct tern_sockaddr peer;
    int err;
    struct tern_sock *sk = tern_sock_accept(lsk, &peer, &err);
    if (!sk || t->srv.st)
        return;
    t->srv.st = tstream_new(t->n.loop, sk, t->plain_server ? NULL : t->sctx, NULL, t->hs_timeout,
                            side_fn, &t->srv);
}

/* The PKI, a server context with cert/key, a listener on B:443. */
static int tlsnet_open(struct tlsnet *t, const char *cert, const char *key)
{
    memset(t, 0, sizeof *t);
    if (tcerts_make(&t->pki) || net2_open(&t->n, 7, NULL))
        return -1;
    char err[200];
    struct ttls_config sc = {.server = true, .cert_file = cert ? cert : t->pki.cert,
                             .key_file = key ? key : t->pki.key};
    t->sctx = ttls_ctx_new(&sc, err, sizeof err);
    if (!t->sctx) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    int e;
    t->lsk = tern_sock_open(t->n.sb, TERN_SOCK_STREAM, &e);
    struct tern_sockaddr a = {0, 443};
    if (!t->lsk || tern_sock_bind(t->lsk, &a) || tern_sock_listen(t->lsk, 8))
        return -1;
    tern_sock_set_handler(t->lsk, TERN_POLLIN, on_accept, t);
    return 0;
}

/* A client stream from A to B:443 (ctx NULL: plain TCP). */
static struct tstream *dial(struct tlsnet *t, struct ttls_ctx *ctx, const char *host, struct side *s)
{
    int e;
    struct tern_sock *sk = tern_sock_open(t->n.sa, TERN_SOCK_STREAM, &e);
    struct tern_sockaddr b = {NET2_B, 443};
    if (!sk || tern_sock_connect(sk, &b) != TERN_E_INPROGRESS)
        return NULL;
    s->st = tstream_new(t->n.loop, sk, ctx, host, t->hs_timeout, side_fn, s);
    return s->st;
}

static struct ttls_ctx *client_ctx(const char *ca, bool insecure)
{
    char err[200];
    struct ttls_config cc = {.ca_file = ca, .insecure = insecure};
    struct ttls_ctx *c = ttls_ctx_new(&cc, err, sizeof err);
    if (!c)
        fprintf(stderr, "%s\n", err);
    return c;
}

static void tlsnet_close(struct tlsnet *t)
{
    if (t->cli.st)
        tstream_abort(t->cli.st);
    if (t->srv.st)
        tstream_abort(t->srv.st);
    if (t->lsk)
        tern_sock_close(t->lsk);
    if (t->n.loop)
        tern_loop_run(t->n.loop, tern_loop_now(t->n.loop) + 1000000);
    net2_close(&t->n);
    ttls_ctx_free(t->cctx);
    ttls_ctx_free(t->sctx);
    free(t->cli.rx);
    free(t->srv.rx);
    tcerts_free(&t->pki);
}

static uint8_t *random_bytes(size_t n)
{
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(test_rand() >> 13);
    return p;
}

/* 300 kB each way, both directions half-closed by close_notify + FIN,
 * every byte compared; the session is TLS 1.3 (the library's default). */
TEST(tls_stream_both_ways_with_half_close)
{
    struct tlsnet t;
    REQUIRE(tlsnet_open(&t, NULL, NULL) == 0);
    t.cctx = client_ctx(t.pki.ca, false);
    REQUIRE(t.cctx);
    uint8_t *up = random_bytes(300000), *down = random_bytes(300000);
    t.cli.tx = up;
    t.cli.txlen = 300000;
    t.srv.tx = down;
    t.srv.txlen = 300000;
    REQUIRE(dial(&t, t.cctx, "tern.test", &t.cli));
    tern_loop_run(t.n.loop, 20000000);
    REQUIRE(t.srv.st);
    CHECK_EQ(t.cli.err, 0);
    CHECK_EQ(t.srv.err, 0);
    CHECK(t.cli.eof && t.srv.eof);
    CHECK_EQ(t.srv.rxlen, (size_t)300000);
    CHECK_EQ(t.cli.rxlen, (size_t)300000);
    CHECK(t.srv.rxlen == 300000 && !memcmp(t.srv.rx, up, 300000));
    CHECK(t.cli.rxlen == 300000 && !memcmp(t.cli.rx, down, 300000));
    char d[80];
    CHECK(!strncmp(tstream_describe(t.cli.st, d, sizeof d), "TLSv1.3 ", 8));
    CHECK(tstream_flushed(t.cli.st) && tstream_flushed(t.srv.st));
    /* Memory stayed within the stream's bounds all along. */
    CHECK(t.cli.max_buffered <= TSTREAM_RBUF + TSTREAM_WMAX + 16384);
    free(up);
    free(down);
    tlsnet_close(&t);
}

/* One direction closed while the other keeps going: the server ends its
 * output first, then still receives the client's whole upload. */
TEST(tls_stream_half_close_one_side_keeps_sending)
{
    struct tlsnet t;
    REQUIRE(tlsnet_open(&t, NULL, NULL) == 0);
    t.cctx = client_ctx(t.pki.ca, false);
    REQUIRE(t.cctx);
    uint8_t *up = random_bytes(200000);
    t.srv.tx = (const uint8_t *)"bye\n";
    t.srv.txlen = 4; /* the server shuts its side at once */
    t.cli.tx = up;
    t.cli.txlen = 200000;
    t.cli.no_shut = true;
    REQUIRE(dial(&t, t.cctx, "tern.test", &t.cli));
    tern_loop_run(t.n.loop, 5000000);
    CHECK(t.cli.eof);                  /* close_notify read as the end */
    CHECK_EQ(t.cli.rxlen, (size_t)4);
    CHECK_EQ(t.srv.rxlen, (size_t)200000); /* the other direction still works */
    CHECK(!memcmp(t.srv.rx, up, 200000));
    CHECK(!t.srv.eof);
    tstream_shutdown(t.cli.st);
    tern_loop_run(t.n.loop, 6000000);
    CHECK(t.srv.eof);
    CHECK_EQ(t.cli.err, 0);
    CHECK_EQ(t.srv.err, 0);
    free(up);
    tlsnet_close(&t);
}

static void expect_verify_failure(const char *cert, const char *key, const char *ca, const char *host,
                                  enum ttls_verify_kind kind, const char *words)
{
    struct tlsnet t;
    REQUIRE(tlsnet_open(&t, NULL, NULL) == 0);
    if (cert) {
        ttls_ctx_free(t.sctx);
        char err[200];
        struct ttls_config sc = {.server = true,
                                 .cert_file = !strcmp(cert, "expired") ? t.pki.expired : t.pki.rogue,
                                 .key_file = !strcmp(cert, "expired") ? t.pki.expired_key : t.pki.rogue_key};
        (void)key;
        t.sctx = ttls_ctx_new(&sc, err, sizeof err);
        REQUIRE(t.sctx);
    }
    t.cctx = client_ctx(ca ? ca : t.pki.ca, false);
    REQUIRE(t.cctx);
    t.cli.tx = (const uint8_t *)"secret";
    t.cli.txlen = 6;
    REQUIRE(dial(&t, t.cctx, host, &t.cli));
    tern_loop_run(t.n.loop, 3000000);
    CHECK_EQ(t.cli.err, TTLS_E_VERIFY);
    CHECK_EQ(tstream_verify_kind(t.cli.st), kind);
    /* and the tools' exit status for it (docs/tls.md) */
    CHECK_EQ(tstream_exit_status(t.cli.st), kind == TTLS_VERIFY_HOSTNAME  ? TLS_EXIT_HOSTNAME
                                            : kind == TTLS_VERIFY_EXPIRED ? TLS_EXIT_EXPIRED
                                                                          : TLS_EXIT_UNTRUSTED);
    CHECK(strstr(tstream_errmsg(t.cli.st), words) != NULL);
    if (!strstr(tstream_errmsg(t.cli.st), words))
        fprintf(stderr, "message: %s\n", tstream_errmsg(t.cli.st));
    CHECK(!t.cli.ready);
    CHECK_EQ(t.srv.rxlen, (size_t)0); /* not one byte of plaintext went out */
    CHECK(t.srv.err != 0);            /* the server saw our alert */
    tlsnet_close(&t);
}

TEST(attack_58_tls_wrong_host_name_fails_closed)
{
    expect_verify_failure(NULL, NULL, NULL, "other.example", TTLS_VERIFY_HOSTNAME, "hostname mismatch");
}

TEST(attack_58_tls_partial_wildcard_label_is_no_match)
{
    /* RFC 6125 s6.4.3: *.tern.test matches one whole left-most label only. */
    expect_verify_failure(NULL, NULL, NULL, "a.b.tern.test", TTLS_VERIFY_HOSTNAME, "hostname mismatch");
}

TEST(attack_58_tls_expired_certificate_fails_closed)
{
    expect_verify_failure("expired", NULL, NULL, "tern.test", TTLS_VERIFY_EXPIRED, "expired");
}

TEST(attack_58_tls_unknown_ca_fails_closed)
{
    expect_verify_failure("rogue", NULL, NULL, "tern.test", TTLS_VERIFY_UNTRUSTED, "issuer certificate");
}

TEST(tls_stream_wildcard_and_ip_names_verify)
{
    const char *hosts[] = {"www.tern.test", "10.0.0.2"};
    for (int i = 0; i < 2; i++) {
        struct tlsnet t;
        REQUIRE(tlsnet_open(&t, NULL, NULL) == 0);
        t.cctx = client_ctx(t.pki.ca, false);
        REQUIRE(dial(&t, t.cctx, hosts[i], &t.cli));
        tern_loop_run(t.n.loop, 2000000);
        CHECK(t.cli.ready);
        CHECK_EQ(t.cli.err, 0);
        tlsnet_close(&t);
    }
}

TEST(tls_stream_insecure_accepts_an_unknown_ca)
{
    struct tlsnet t;
    REQUIRE(tlsnet_open(&t, NULL, NULL) == 0);
    ttls_ctx_free(t.sctx);
    char err[200];
    struct ttls_config sc = {.server = true, .cert_file = t.pki.rogue, .key_file = t.pki.rogue_key};
    t.sctx = ttls_ctx_new(&sc, err, sizeof err);
    t.cctx = client_ctx(NULL, true);
    REQUIRE(t.sctx && t.cctx);
    t.cli.tx = (const uint8_t *)"hello";
    t.cli.txlen = 5;
    REQUIRE(dial(&t, t.cctx, "wrong.name", &t.cli));
    tern_loop_run(t.n.loop, 2000000);
    CHECK_EQ(t.cli.err, 0);
    CHECK(t.srv.rxlen == 5 && !memcmp(t.srv.rx, "hello", 5));
    tlsnet_close(&t);
}

/* The server's key does not match its certificate: refused at load. */
TEST(tls_ctx_refuses_a_key_that_is_not_the_certificates)
{
    struct tcerts pki;
    REQUIRE(tcerts_make(&pki) == 0);
    char err[200] = "";
    struct ttls_config sc = {.server = true, .cert_file = pki.ca, .key_file = pki.key};
    struct ttls_ctx *c = ttls_ctx_new(&sc, err, sizeof err);
    CHECK(c == NULL);
    CHECK(strstr(err, "cannot use key") != NULL);
    ttls_ctx_free(c);
    tcerts_free(&pki);
}

/* A plain client talks garbage to the TLS server: the server fails at the
 * first bytes, sends an alert, holds at most TSTREAM_RBUF of input. */
TEST(attack_57_tls_garbage_fails_fast_with_bounded_memory)
{
    struct tlsnet t;
    REQUIRE(tlsnet_open(&t, NULL, NULL) == 0);
    uint8_t *junk = random_bytes(200000);
    junk[0] = 0x16; /* looks like a handshake record, then nonsense */
    t.cli.tx = junk;
    t.cli.txlen = 200000;
    REQUIRE(dial(&t, NULL, NULL, &t.cli));
    tern_loop_run(t.n.loop, 2000000);
    REQUIRE(t.srv.st);
    CHECK_EQ(t.srv.err, TTLS_E_TLS);
    CHECK(t.srv.max_buffered <= TSTREAM_RBUF);
    CHECK(t.srv.rxlen == 0);
    free(junk);
    tlsnet_close(&t);
}

/* A record header announcing 65535 bytes (RFC 8446 s5.1: at most 2^14):
 * record_overflow from the header alone, before the body arrives. */
TEST(attack_57_tls_oversized_record_is_refused_from_its_header)
{
    struct tlsnet t;
    REQUIRE(tlsnet_open(&t, NULL, NULL) == 0);
    size_t n = 5 + 65535;
    uint8_t *rec = random_bytes(n);
    rec[0] = 0x16;
    rec[1] = 0x03;
    rec[2] = 0x01;
    rec[3] = 0xff;
    rec[4] = 0xff;
    t.cli.tx = rec;
    t.cli.txlen = n;
    REQUIRE(dial(&t, NULL, NULL, &t.cli));
    tern_loop_run(t.n.loop, 2000000);
    REQUIRE(t.srv.st);
    CHECK_EQ(t.srv.err, TTLS_E_TLS);
    CHECK(t.srv.max_buffered <= TSTREAM_RBUF);
    /* Our alert went back: the plain client read a TLS alert record (21). */
    CHECK(t.cli.rxlen >= 7 && t.cli.rx[0] == 21);
    free(rec);
    tlsnet_close(&t);
}

/* A client that connects and says nothing (or stops mid-handshake): the
 * handshake timer ends it after the timeout, not before. */
TEST(attack_57_tls_stalled_handshake_times_out)
{
    struct tlsnet t;
    REQUIRE(tlsnet_open(&t, NULL, NULL) == 0);
    t.hs_timeout = 5000000;
    t.cli.no_shut = true;
    REQUIRE(dial(&t, NULL, NULL, &t.cli));
    tern_loop_run(t.n.loop, 4900000);
    REQUIRE(t.srv.st);
    CHECK_EQ(t.srv.err, 0);
    tern_loop_run(t.n.loop, 5200000);
    CHECK_EQ(t.srv.err, TTLS_E_HSTIMEOUT);
    CHECK(strstr(tstream_errmsg(t.srv.st), "timed out") != NULL);
    tlsnet_close(&t);
}

/* TCP's FIN with no close_notify first: a truncation, not an end. */
TEST(tls_stream_fin_without_close_notify_is_truncation)
{
    struct tlsnet t;
    REQUIRE(tlsnet_open(&t, NULL, NULL) == 0);
    t.cctx = client_ctx(t.pki.ca, false);
    t.cli.no_shut = true;
    t.srv.no_shut = true;
    REQUIRE(dial(&t, t.cctx, "tern.test", &t.cli));
    tern_loop_run(t.n.loop, 1000000);
    REQUIRE(t.cli.ready && t.srv.st);
    /* The client's TCP half-closes under TLS's feet. */
    tern_sock_shutdown(tstream_sock(t.cli.st), TERN_SHUT_WR);
    tern_loop_run(t.n.loop, 2000000);
    CHECK(!t.srv.eof);
    CHECK_EQ(t.srv.err, TTLS_E_TRUNCATED);
    tlsnet_close(&t);
}

/* ---- the forwarder (src/tls/forward.c) ---- */
#include "tls/forward.h"

struct fwdnet {
    struct tlsnet t;
    struct tfwd *f1, *f2;
    char *log;
    size_t loglen;
    FILE *logf;
};

/* client (A) -> B:8000 [f1: plain in, TLS out] -> A:8443 [f2: TLS in,
 * plain out] -> B:443 (the plain test server, t.srv). tls false: both
 * forwarders plain. */
static int fwdnet_open(struct fwdnet *w, bool tls, uint64_t hs_timeout)
{
    memset(w, 0, sizeof *w);
    if (tlsnet_open(&w->t, NULL, NULL))
        return -1;
    w->t.plain_server = true;
    w->t.cctx = client_ctx(w->t.pki.ca, false);
    w->logf = open_memstream(&w->log, &w->loglen);
    int err;
    struct tfwd_opts o1 = {.listen_port = 8000, .dst_addr = NET2_A, .dst_port = 8443,
                           .connect_tls = tls ? w->t.cctx : NULL, .verify_name = "tern.test",
                           .handshake_timeout_us = hs_timeout, .log = w->logf};
    struct tfwd_opts o2 = {.listen_port = 8443, .dst_addr = NET2_B, .dst_port = 443,
                           .accept_tls = tls ? w->t.sctx : NULL,
                           .handshake_timeout_us = hs_timeout, .log = w->logf};
    w->f1 = tfwd_start(w->t.n.sb, w->t.n.loop, &o1, &err);
    w->f2 = tfwd_start(w->t.n.sa, w->t.n.loop, &o2, &err);
    return w->t.cctx && w->f1 && w->f2 ? 0 : -1;
}

static void fwdnet_close(struct fwdnet *w)
{
    tfwd_free(w->f1);
    tfwd_free(w->f2);
    tlsnet_close(&w->t);
    fclose(w->logf);
    free(w->log);
}

static struct tstream *dial_port(struct tlsnet *t, uint32_t addr, uint16_t port, struct side *s)
{
    int e;
    struct tern_sock *sk = tern_sock_open(t->n.sa, TERN_SOCK_STREAM, &e);
    struct tern_sockaddr b = {addr, port};
    if (!sk || tern_sock_connect(sk, &b) != TERN_E_INPROGRESS)
        return NULL;
    s->st = tstream_new(t->n.loop, sk, NULL, NULL, 0, side_fn, s);
    return s->st;
}

static void forward_chain(bool tls)
{
    struct fwdnet w;
    REQUIRE(fwdnet_open(&w, tls, 0) == 0);
    uint8_t *up = random_bytes(200000), *down = random_bytes(100000);
    w.t.cli.tx = up;
    w.t.cli.txlen = 200000;
    w.t.srv.tx = down;
    w.t.srv.txlen = 100000;
    w.t.srv.no_shut = true; /* the server answers only after the client's end */
    REQUIRE(dial_port(&w.t, NET2_B, 8000, &w.t.cli));
    tern_loop_run(w.t.n.loop, 5000000);
    REQUIRE(w.t.srv.st);
    /* Half-close passed through: the server saw the client's end while
     * its own direction is still open. */
    CHECK(w.t.srv.eof);
    CHECK(!w.t.cli.eof);
    CHECK(w.t.srv.rxlen == 200000 && !memcmp(w.t.srv.rx, up, 200000));
    w.t.srv.no_shut = false;
    side_fn(w.t.srv.st, &w.t.srv); /* now it answers and closes */
    tern_loop_run(w.t.n.loop, 10000000);
    CHECK(w.t.cli.eof);
    CHECK(w.t.cli.rxlen == 100000 && !memcmp(w.t.cli.rx, down, 100000));
    CHECK_EQ(w.t.cli.err, 0);
    struct tfwd_stats s1, s2;
    tfwd_stats(w.f1, &s1);
    tfwd_stats(w.f2, &s2);
    CHECK(s1.closed == 1 && s2.closed == 1 && s1.active == 0 && s2.active == 0);
    fflush(w.logf);
    CHECK(strstr(w.log, "tern forward: 10.0.0.1:") != NULL);
    CHECK(strstr(w.log, "-> 10.0.0.1:8443 closed: 200000 bytes sent, 100000 bytes received") != NULL);
    CHECK(strstr(w.log, "-> 10.0.0.2:443 closed: 200000 bytes sent, 100000 bytes received") != NULL);
    CHECK((strstr(w.log, "(TLSv1.3 ") != NULL) == tls);
    free(up);
    free(down);
    fwdnet_close(&w);
}

TEST(forward_tls_chain_both_ways_with_half_close) { forward_chain(true); }
TEST(forward_plain_both_ways_with_half_close) { forward_chain(false); }

/* Nothing listens at the destination: the client is reset (stunnel's
 * "Connection reset") and the log says why. */
TEST(forward_destination_refused_resets_the_client)
{
    struct fwdnet w;
    REQUIRE(fwdnet_open(&w, false, 0) == 0);
    tern_sock_close(w.t.lsk);
    w.t.lsk = NULL;
    w.t.cli.no_shut = true;
    REQUIRE(dial_port(&w.t, NET2_B, 8000, &w.t.cli));
    tern_loop_run(w.t.n.loop, 2000000);
    CHECK_EQ(w.t.cli.err, TERN_E_CONNRESET);
    fflush(w.logf);
    CHECK(strstr(w.log, "reset: destination: ") != NULL);
    fwdnet_close(&w);
}

/* A TLS client with the wrong trust: f1 verifies the server as
 * "other.name", fails, and resets the plain client; the log has the
 * verification message. */
TEST(attack_58_forward_wrong_name_resets_and_logs)
{
    struct fwdnet w;
    REQUIRE(fwdnet_open(&w, true, 0) == 0);
    tfwd_free(w.f1);
    int err;
    struct tfwd_opts o1 = {.listen_port = 8000, .dst_addr = NET2_A, .dst_port = 8443,
                           .connect_tls = w.t.cctx, .verify_name = "other.name", .log = w.logf};
    w.f1 = tfwd_start(w.t.n.sb, w.t.n.loop, &o1, &err);
    REQUIRE(w.f1);
    w.t.cli.tx = (const uint8_t *)"USER alice\r\n";
    w.t.cli.txlen = 12;
    REQUIRE(dial_port(&w.t, NET2_B, 8000, &w.t.cli));
    tern_loop_run(w.t.n.loop, 3000000);
    CHECK_EQ(w.t.cli.err, TERN_E_CONNRESET);
    CHECK(w.t.srv.rxlen == 0);
    fflush(w.logf);
    CHECK(strstr(w.log, "reset: destination: certificate verify failed: hostname mismatch") != NULL);
    fwdnet_close(&w);
}

/* ATTACKS 57 at the forwarder: one client stalls mid-handshake, one sends
 * garbage, one an oversized record; a good client goes through meanwhile,
 * and the bad ones are reset (garbage at once, the staller at the
 * handshake timeout). */
TEST(attack_57_forward_keeps_serving_during_bad_handshakes)
{
    struct fwdnet w;
    REQUIRE(fwdnet_open(&w, true, 3000000) == 0);
    struct side stall = {.no_shut = true}, junk = {0}, big = {0};
    uint8_t *g = random_bytes(50000);
    uint8_t hdr[5 + 1000] = {0x16, 0x03, 0x01, 0xff, 0xff};
    junk.tx = g;
    junk.txlen = 50000;
    big.tx = hdr;
    big.txlen = sizeof hdr;
    big.no_shut = true;
    REQUIRE(dial_port(&w.t, NET2_A, 8443, &stall));
    REQUIRE(dial_port(&w.t, NET2_A, 8443, &junk));
    REQUIRE(dial_port(&w.t, NET2_A, 8443, &big));
    tern_loop_run(w.t.n.loop, 500000);
    w.t.cli.tx = (const uint8_t *)"RETR 1\r\n";
    w.t.cli.txlen = 8;
    w.t.srv.tx = (const uint8_t *)"+OK\r\n";
    w.t.srv.txlen = 5;
    REQUIRE(dial_port(&w.t, NET2_B, 8000, &w.t.cli));
    tern_loop_run(w.t.n.loop, 1500000); /* before the handshake timeout */
    CHECK(w.t.cli.rxlen == 5 && !memcmp(w.t.cli.rx, "+OK\r\n", 5));
    CHECK(w.t.srv.rxlen == 8);
    CHECK(junk.err != 0 || junk.eof); /* reset (or closed after our alert) */
    CHECK(big.err != 0 || big.eof);
    CHECK(stall.err == 0 && !stall.eof);
    tern_loop_run(w.t.n.loop, 4000000);
    CHECK(stall.err != 0 || stall.eof);
    fflush(w.logf);
    CHECK(strstr(w.log, "reset: client: TLS handshake timed out") != NULL);
    struct tfwd_stats s2;
    tfwd_stats(w.f2, &s2);
    CHECK_EQ(s2.active, 0u);
    CHECK_EQ(s2.reset, 3u);
    CHECK_EQ(s2.closed, 1u);
    for (struct side *s = &stall; s; s = s == &stall ? &junk : s == &junk ? &big : NULL) {
        if (s->st)
            tstream_abort(s->st); /* a failed stream is still its owner's to free */
        free(s->rx);
    }
    free(g);
    fwdnet_close(&w);
}

/* ---- HTTPS: src/app/http_client.c and http_server.c over TLS ---- */
#include <sys/stat.h>

#include "app/app_tls.h"
#include "app/http_client.h"
#include "app/http_server.h"

struct get_result {
    int status;
    bool done;
};

static void get_done(void *ctx, int status)
{
    struct get_result *r = ctx;
    r->status = status;
    r->done = true;
}

/* tern serve --https on B:443 with cert/key (NULL: the good ones); tern get
 * URL from A trusting ca. Returns the get's status; body and messages out. */
static int https_get(const char *url, int which_cert, const char *body, size_t blen, char **out,
                     size_t *outlen, char **msgs)
{
    struct tcerts pki;
    if (tcerts_make(&pki))
        return -1;
    char path[160];
    snprintf(path, sizeof path, "%s/www", pki.dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/www/f.bin", pki.dir);
    FILE *f = fopen(path, "wb");
    fwrite(body, 1, blen, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/www", pki.dir);
    struct net2 n;
    if (net2_open(&n, 3, NULL))
        return -1;
    char err[200];
    const char *cert = which_cert == 1 ? pki.expired : which_cert == 2 ? pki.rogue : pki.cert;
    const char *key = which_cert == 1 ? pki.expired_key : which_cert == 2 ? pki.rogue_key : pki.key;
    struct ttls_config sc = {.server = true, .cert_file = cert, .key_file = key};
    struct ttls_config cc = {.ca_file = pki.ca};
    struct ttls_ctx *sctx = ttls_ctx_new(&sc, err, sizeof err), *cctx = ttls_ctx_new(&cc, err, sizeof err);
    struct app_tls st, ct;
    tls_app_fill(&st, sctx);
    tls_app_fill(&ct, cctx);
    struct tern_http_server_opts so = {.root = path, .port = 443, .idle_timeout_us = 5000000, .tls = &st};
    int e;
    struct tern_http_server *srv = http_server_start(n.sb, n.loop, &so, &e);
    FILE *o = open_memstream(out, outlen), *m = open_memstream(msgs, &(size_t){0});
    struct get_result r = {0};
    struct tern_http_get_opts go = {.url = url, .tls = &ct};
    struct tern_http_get_io io = {.out = o, .err = m, .done = get_done, .ctx = &r};
    struct tern_http_get *g = srv ? http_get_start(n.sa, n.loop, &go, &io, &e) : NULL;
    if (g)
        tern_loop_run(n.loop, tern_loop_now(n.loop) + 30000000);
    http_get_free(g);
    http_server_free(srv);
    tern_loop_run(n.loop, tern_loop_now(n.loop) + 1000000);
    fclose(o);
    fclose(m);
    net2_close(&n);
    ttls_ctx_free(sctx);
    ttls_ctx_free(cctx);
    tcerts_free(&pki);
    return g && r.done ? r.status : -1;
}

TEST(https_get_from_tern_serve_byte_exact)
{
    size_t blen = 500000;
    char *body = (char *)random_bytes(blen), *out = NULL, *msgs = NULL;
    size_t outlen = 0;
    CHECK_EQ(https_get("https://10.0.0.2/f.bin", 0, body, blen, &out, &outlen, &msgs), 0);
    CHECK(outlen == blen && !memcmp(out, body, blen));
    if (msgs && *msgs)
        fprintf(stderr, "%s", msgs);
    free(out);
    free(msgs);
    free(body);
}

/* The exit statuses of docs/tls.md, each with its message. */
TEST(attack_58_https_get_exit_statuses)
{
    struct {
        const char *url;
        int cert, status;
        const char *words;
    } cases[] = {
        {"https://10.0.0.2/f.bin", 1, TLS_EXIT_EXPIRED, "certificate has expired"},
        {"https://10.0.0.2/f.bin", 2, TLS_EXIT_UNTRUSTED, "unable to get local issuer certificate"},
        {"https://10.0.0.2:443/f.bin", 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, *msgs = NULL;
        size_t outlen = 0;
        int st = https_get(cases[i].url, cases[i].cert, "x", 1, &out, &outlen, &msgs);
        CHECK_EQ(st, cases[i].status);
        if (cases[i].words) {
            CHECK(msgs && strstr(msgs, cases[i].words) != NULL);
            CHECK_EQ(outlen, (size_t)0);
        }
        free(out);
        free(msgs);
    }
}

/* Many connections at once through the TLS chain: 12 clients, each its own
 * bytes, all served side by side and each answered with its own data; the
 * forwarders end with every connection closed and none left. */
struct many {
    struct side cli[12];
    struct side srv[12];
    int nsrv;
    struct tern_sock *lsk;
    struct tern_loop *loop;
};

static void many_accept(struct tern_sock *lsk, unsigned ev, void *ctx)
{
    struct many *m = ctx;
    (void)ev;
    for (;;) {
        struct tern_sockaddr peer;
        int err;
        struct tern_sock *sk = tern_sock_accept(lsk, &peer, &err);
        if (!sk)
            return;
        if (m->nsrv >= 12) {
            tern_sock_abort(sk);
            continue;
        }
        struct side *s = &m->srv[m->nsrv++];
        s->no_shut = true; /* answers once the client's end has come */
        s->st = tstream_new(m->loop, sk, NULL, NULL, 0, side_fn, s);
    }
}

TEST(forward_tls_many_connections_at_once)
{
    struct fwdnet w;
    REQUIRE(fwdnet_open(&w, true, 0) == 0);
    tern_sock_close(w.t.lsk); /* our own server on B:443 instead */
    w.t.lsk = NULL;
    static struct many m;
    memset(&m, 0, sizeof m);
    m.loop = w.t.n.loop;
    int e;
    m.lsk = tern_sock_open(w.t.n.sb, TERN_SOCK_STREAM, &e);
    struct tern_sockaddr a = {0, 443};
    REQUIRE(m.lsk && tern_sock_bind(m.lsk, &a) == 0 && tern_sock_listen(m.lsk, 16) == 0);
    tern_sock_set_handler(m.lsk, TERN_POLLIN, many_accept, &m);
    uint8_t *data[12];
    for (int i = 0; i < 12; i++) {
        data[i] = random_bytes(20000 + (size_t)i * 1000);
        m.cli[i].tx = data[i];
        m.cli[i].txlen = 20000 + (size_t)i * 1000;
        REQUIRE(dial_port(&w.t, NET2_B, 8000, &m.cli[i]));
    }
    tern_loop_run(w.t.n.loop, 5000000);
    REQUIRE_EQ(m.nsrv, 12);
    size_t seen = 0;
    for (int i = 0; i < 12; i++) { /* each server got one client's bytes, whole */
        CHECK(m.srv[i].eof);
        for (int j = 0; j < 12; j++)
            if (m.srv[i].rxlen == m.cli[j].txlen && !memcmp(m.srv[i].rx, data[j], m.srv[i].rxlen))
                seen |= (size_t)1 << j;
        m.srv[i].tx = m.srv[i].rx; /* echo it back */
        m.srv[i].txlen = m.srv[i].rxlen;
        m.srv[i].no_shut = false;
        side_fn(m.srv[i].st, &m.srv[i]);
    }
    CHECK_EQ(seen, (size_t)0xfff);
    tern_loop_run(w.t.n.loop, 10000000);
    for (int i = 0; i < 12; i++) {
        CHECK(m.cli[i].eof && m.cli[i].err == 0);
        CHECK(m.cli[i].rxlen == m.cli[i].txlen && !memcmp(m.cli[i].rx, data[i], m.cli[i].rxlen));
    }
    struct tfwd_stats s1, s2;
    tfwd_stats(w.f1, &s1);
    tfwd_stats(w.f2, &s2);
    CHECK(s1.closed == 12 && s2.closed == 12 && s1.active == 0 && s2.active == 0);
    for (int i = 0; i < 12; i++) {
        tstream_abort(m.cli[i].st);
        tstream_abort(m.srv[i].st);
        free(m.cli[i].rx);
        free(m.srv[i].rx);
        free(data[i]);
    }
    tern_sock_close(m.lsk);
    fwdnet_close(&w);
}
