/*
 * tests/tls/certs.h - a throw-away PKI made at run time with OpenSSL's API
 * (no private key is committed): in a fresh /tmp directory,
 *   ca.pem            a test CA ("tern test CA"), CA:TRUE
 *   other-ca.pem      a second CA nobody trusts
 *   server.pem/.key   "tern.test" (SAN DNS:tern.test, DNS:*.tern.test,
 *                     IP:10.0.0.2), signed by ca, valid from an hour ago
 *                     for a day
 *   expired.pem/.key  "tern.test" signed by ca, expired yesterday
 *   rogue.pem/.key    "tern.test" signed by other-ca
 * Keys are P-256. Used by the TLS unit tests and by `tern`-free shell tests
 * only through the files.
 */
#ifndef TERN_TESTS_TLS_CERTS_H
#define TERN_TESTS_TLS_CERTS_H

struct tcerts {
    char dir[64];
    char ca[96], other_ca[96];
    char cert[96], key[96];
    char expired[96], expired_key[96];
    char rogue[96], rogue_key[96];
};

/* 0, or -1 (and the directory removed). */
int tcerts_make(struct tcerts *c);
void tcerts_free(struct tcerts *c);

#endif
