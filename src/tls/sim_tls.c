/*
 * src/tls/sim_tls.c - TLS for the simulator (`tunnel` lines of a scenario,
 * docs/scenarios.md): starts the forwarder of src/tls/forward.c on a
 * simulated node. Lives in libtern-tls, not in src/sim, so that libtern
 * stays libc-only: the simulator calls it through struct sim_tls
 * (src/sim/sim.h), which the tern command and the unit tests fill with
 * sim_tls_hooks().
 *
 * Certificates are made at run time with OpenSSL's API, never committed
 * (no private key in the repository, nothing that expires in the tree):
 * one CA per run ("tern sim CA") and, per server name, a certificate it
 * signs (Ed25519: fixed-size signatures, so handshake sizes do not vary
 * from run to run). They are PEM files in the run's temporary directory,
 * which the simulator removes. Verification is the same as `tern forward
 * --tls-connect --ca`: the chain to the run's CA and the name asked for.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sim/sim.h"
#include "tern/err.h"
#include "tls/forward.h"
#include "tls/tls.h"

struct sim_tunnel_run {
    struct tfwd *fwd;
    struct ttls_ctx *tls;
};

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex)
        return -1;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok ? 0 : -1;
}

/* key's certificate named cn (a server: also its subjectAltName), signed by
 * ikey / issuer (NULL: self-signed CA), valid from an hour ago for a day
 * (the handshake checks it against the real clock, RFC 5280 s4.1.2.5). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, long serial)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : x;
    int bad = 0;
    if (!issuer) {
        bad |= add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        bad |= add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        char san[300];
        snprintf(san, sizeof san, "DNS:%s", cn);
        bad |= add_ext(x, iss, NID_basic_constraints, "CA:FALSE");
        bad |= add_ext(x, iss, NID_ext_key_usage, "serverAuth");
        bad |= add_ext(x, iss, NID_subject_alt_name, san);
    }
    bad |= add_ext(x, iss, NID_subject_key_identifier, "hash");
    if (issuer)
        bad |= add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    /* Ed25519 signs the message itself: no digest (RFC 8410 s6) */
    if (bad || !X509_sign(x, ikey ? ikey : key, NULL)) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int save(const char *path, X509 *x, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* dir/ca.pem and dir/ca.key: made on first use in the run's directory. */
static int ensure_ca(const char *dir, char *err, size_t errcap)
{
    char pem[600], key[600];
    snprintf(pem, sizeof pem, "%s/ca.pem", dir);
    snprintf(key, sizeof key, "%s/ca.key", dir);
    if (access(pem, R_OK) == 0 && access(key, R_OK) == 0)
        return 0;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    X509 *x = k ? make_cert(k, "tern sim CA", NULL, NULL, 1) : NULL;
    int rc = x && save(pem, x, NULL) == 0 && save(key, NULL, k) == 0 ? 0 : -1;
    if (rc < 0)
        snprintf(err, errcap, "cannot make the run's CA in %s", dir);
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

static int issue(const char *dir, const char *name, char *err, size_t errcap)
{
    char pem[600], key[600], capem[600], cakey[600];
    snprintf(pem, sizeof pem, "%s/%s.pem", dir, name);
    snprintf(key, sizeof key, "%s/%s.key", dir, name);
    if (access(pem, R_OK) == 0)
        return 0;
    snprintf(capem, sizeof capem, "%s/ca.pem", dir);
    snprintf(cakey, sizeof cakey, "%s/ca.key", dir);
    FILE *f1 = fopen(capem, "r"), *f2 = fopen(cakey, "r");
    X509 *ca = f1 ? PEM_read_X509(f1, NULL, NULL, NULL) : NULL;
    EVP_PKEY *cak = f2 ? PEM_read_PrivateKey(f2, NULL, NULL, NULL) : NULL;
    if (f1)
        fclose(f1);
    if (f2)
        fclose(f2);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    X509 *x = ca && cak && k ? make_cert(k, name, ca, cak, 2) : NULL;
    int rc = x && save(pem, x, NULL) == 0 && save(key, NULL, k) == 0 ? 0 : -1;
    if (rc < 0)
        snprintf(err, errcap, "cannot issue a certificate for %s", name);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(k);
    EVP_PKEY_free(cak);
    return rc;
}

static void *tunnel_start(const char *dir, struct tern_stack *s, struct tern_loop *loop,
                          const struct sim_tunnel_cfg *c, FILE *log, char *err, size_t errcap)
{
    struct sim_tunnel_run *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    if (c->mode != SIM_TUN_PLAIN) {
        char cert[600], key[600], ca[600];
        if (ensure_ca(dir, err, errcap) < 0 ||
            (c->mode == SIM_TUN_ACCEPT && issue(dir, c->name, err, errcap) < 0)) {
            free(t);
            return NULL;
        }
        snprintf(cert, sizeof cert, "%s/%s.pem", dir, c->name);
        snprintf(key, sizeof key, "%s/%s.key", dir, c->name);
        snprintf(ca, sizeof ca, "%s/ca.pem", dir);
        struct ttls_config tc = {.server = c->mode == SIM_TUN_ACCEPT};
        if (tc.server) {
            tc.cert_file = cert;
            tc.key_file = key;
        } else {
            tc.ca_file = ca;
        }
        t->tls = ttls_ctx_new(&tc, err, errcap);
        if (!t->tls) {
            free(t);
            return NULL;
        }
    }
    struct tfwd_opts o = {.listen_port = c->lport, .dst_addr = c->dst, .dst_port = c->dport,
                          .log = log};
    if (c->mode == SIM_TUN_ACCEPT)
        o.accept_tls = t->tls;
    if (c->mode == SIM_TUN_CONNECT) {
        o.connect_tls = t->tls;
        o.verify_name = c->name;
    }
    int e = 0;
    t->fwd = tfwd_start(s, loop, &o, &e);
    if (!t->fwd) {
        snprintf(err, errcap, "cannot listen on port %u: %s", c->lport, tern_strerror(e));
        ttls_ctx_free(t->tls);
        free(t);
        return NULL;
    }
    return t;
}

static void tunnel_stop(void *p)
{
    struct sim_tunnel_run *t = p;
    if (!t)
        return;
    tfwd_free(t->fwd);
    ttls_ctx_free(t->tls);
    free(t);
}

static const struct sim_tls hooks = {.start = tunnel_start, .stop = tunnel_stop};

const struct sim_tls *sim_tls_hooks(void)
{
    return &hooks;
}
