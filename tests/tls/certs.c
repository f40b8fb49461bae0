/* tests/tls/certs.c - see certs.h. */
#include "tls/certs.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

/* A certificate for key, named cn, signed by ikey (issuer NULL: self-signed),
 * valid from now+nb to now+na seconds. */
static X509 *make(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, bool ca,
                  const char *san, long nb, long na, long serial)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), nb);
    X509_gmtime_adj(X509_getm_notAfter(x), na);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : x;
    int bad = 0;
    if (ca) {
        bad |= add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        bad |= add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        bad |= add_ext(x, iss, NID_basic_constraints, "CA:FALSE");
        bad |= add_ext(x, iss, NID_ext_key_usage, "serverAuth");
        if (san)
            bad |= add_ext(x, iss, NID_subject_alt_name, san);
    }
    bad |= add_ext(x, iss, NID_subject_key_identifier, "hash");
    if (issuer)
        bad |= add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    if (bad || !X509_sign(x, ikey ? ikey : key, EVP_sha256())) {
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

void tcerts_free(struct tcerts *c)
{
    char cmd[128];
    if (!c->dir[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", c->dir);
    c->dir[0] = 0;
}

int tcerts_make(struct tcerts *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->dir, "/tmp/tern-tls-XXXXXX");
    if (!mkdtemp(c->dir)) {
        c->dir[0] = 0;
        return -1;
    }
#define P(f, n) snprintf(c->f, sizeof c->f, "%s/%s", c->dir, n)
    P(ca, "ca.pem");
    P(other_ca, "other-ca.pem");
    P(cert, "server.pem");
    P(key, "server.key");
    P(expired, "expired.pem");
    P(expired_key, "expired.key");
    P(rogue, "rogue.pem");
    P(rogue_key, "rogue.key");
#undef P
    const char *san = "DNS:tern.test,DNS:*.tern.test,IP:10.0.0.2";
    EVP_PKEY *kca = EVP_EC_gen("P-256"), *kother = EVP_EC_gen("P-256"), *ksrv = EVP_EC_gen("P-256");
    X509 *ca = NULL, *other = NULL, *srv = NULL, *exp = NULL, *rogue = NULL;
    int rc = -1;
    if (!kca || !kother || !ksrv)
        goto out;
    ca = make(kca, "tern test CA", NULL, NULL, true, NULL, -3600, 86400, 1);
    other = make(kother, "tern other CA", NULL, NULL, true, NULL, -3600, 86400, 2);
    if (!ca || !other)
        goto out;
    srv = make(ksrv, "tern.test", ca, kca, false, san, -3600, 86400, 3);
    exp = make(ksrv, "tern.test", ca, kca, false, san, -3 * 86400, -86400, 4);
    rogue = make(ksrv, "tern.test", other, kother, false, san, -3600, 86400, 5);
    if (!srv || !exp || !rogue)
        goto out;
    if (save(c->ca, ca, NULL) || save(c->other_ca, other, NULL) || save(c->cert, srv, NULL) ||
        save(c->key, NULL, ksrv) || save(c->expired, exp, NULL) || save(c->expired_key, NULL, ksrv) ||
        save(c->rogue, rogue, NULL) || save(c->rogue_key, NULL, ksrv))
        goto out;
    rc = 0;
out:
    X509_free(ca);
    X509_free(other);
    X509_free(srv);
    X509_free(exp);
    X509_free(rogue);
    EVP_PKEY_free(kca);
    EVP_PKEY_free(kother);
    EVP_PKEY_free(ksrv);
    if (rc)
        tcerts_free(c);
    return rc;
}
