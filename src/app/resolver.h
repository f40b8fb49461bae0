/*
 * src/app/resolver.h - a DNS stub resolver, written once as an
 * event-driven app on the socket API (RFC 1035 s7, RFC 1034 s5.3.3,
 * RFC 2181 s10.1, RFC 5452).
 *
 * One lookup = one struct tern_resolve: it asks for A (or AAAA) records
 * over UDP from a random source port (bind to port 0: the socket layer
 * picks it per RFC 6056) with a random 16-bit ID, waits 1 s, then asks the
 * next server, doubling the wait after each round of all servers, and
 * follows CNAME chains (at most TERN_RESOLVE_MAX_CNAMES aliases), asking
 * again for the chain's target when the answer stops at an alias.
 * Replies are accepted only from a server asked, from its port, with our
 * ID, QR=1, opcode QUERY and exactly our question; anything else is
 * ignored and the lookup keeps waiting (ATTACKS 46).
 * A reply with TC set (RFC 1035 s4.2.2, RFC 7766 s5) is asked again over
 * TCP, of the server that sent it: the same query with a 2-octet length
 * prefix, one connection, at most TERN_RESOLVE_TCP_MAX octets of answer
 * (a longer length prefix fails the retry), the whole exchange bounded by
 * TERN_RESOLVE_TCP_TIMEOUT_US. The TCP answer is validated like a
 * datagram (ID, QR, opcode, question; TC again is a failure); UDP replies
 * that arrive meanwhile are ignored. A failed retry ends the lookup as
 * TERN_RESOLVE_TRUNCATED.
 * Not: a cache, recursion, EDNS(0), DNSSEC, search lists, /etc/hosts.
 * Query IDs come from tern_stack_random() (the stack's keyed generator), so
 * they are unpredictable and a virtual-time run replays exactly by seed.
 */
#ifndef TERN_APP_RESOLVER_H
#define TERN_APP_RESOLVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/loop.h"
#include "tern/stack.h"
#include "tern/wire/dns.h"

#define TERN_RESOLVE_MAX_SERVERS 4
#define TERN_RESOLVE_MAX_ADDRS 64
#define TERN_RESOLVE_TCP_MAX 16384              /* octets of an answer over TCP */
#define TERN_RESOLVE_TCP_TIMEOUT_US 5000000ull  /* connect + query + answer */
#define TERN_RESOLVE_MAX_CNAMES 8
#define TERN_RESOLVE_REC_MAX 600 /* one record's line (a TXT of 255 escaped octets fits) */

struct tern_resolve_opts {
    uint32_t servers[TERN_RESOLVE_MAX_SERVERS]; /* host order, asked in turn */
    unsigned nservers;                          /* 1.. */
    uint16_t port;        /* server port, 0 = 53 */
    uint16_t qtype;       /* TERN_DNS_T_A (also when 0), AAAA, CNAME, NS, SOA, MX,
                           * TXT or PTR */
    uint64_t timeout_us;  /* first wait per query, 0 = 1 s; doubles each round */
    unsigned rounds;      /* rounds over all servers, 0 = 4 (1+2+4+8 s with one server) */
};

enum tern_resolve_status {
    TERN_RESOLVE_OK = 0,     /* addresses found */
    TERN_RESOLVE_NODATA,     /* the name exists, without records of that type */
    TERN_RESOLVE_NXDOMAIN,   /* the name does not exist (rcode 3) */
    TERN_RESOLVE_SERVFAIL,   /* every server answered with an error rcode (see rcode) */
    TERN_RESOLVE_TIMEOUT,    /* no valid reply from any server */
    TERN_RESOLVE_TRUNCATED,  /* TC set, and the TCP retry failed */
    TERN_RESOLVE_LOOP        /* CNAME chain longer than TERN_RESOLVE_MAX_CNAMES */
};

struct tern_resolve_result {
    enum tern_resolve_status status;
    uint8_t rcode;           /* of the last reply accepted */
    uint16_t qtype;
    /* chain[0] is the name asked; chain[i] (i >= 1) the target of the
     * CNAME at chain[i-1]; the addresses belong to chain[ncname]. */
    unsigned ncname;
    struct tern_dns_name chain[TERN_RESOLVE_MAX_CNAMES + 1];
    unsigned naddr;
    uint32_t addr[TERN_RESOLVE_MAX_ADDRS];      /* A, host order */
    uint8_t addr6[TERN_RESOLVE_MAX_ADDRS][16];  /* AAAA */
    /* other types: naddr records, each as host(1) prints it, e.g.
     * "example.test mail is handled by 10 mx.example.test." */
    char rec[TERN_RESOLVE_MAX_ADDRS][TERN_RESOLVE_REC_MAX];
    uint32_t server;         /* the server whose reply ended the lookup (0: none) */
    unsigned queries_sent;   /* datagrams sent, retries included */
    unsigned tcp_queries;    /* TCP retries after a truncated reply */
    unsigned ignored;        /* replies dropped by validation (ATTACKS 46) */
};

struct tern_resolve;

typedef void (*tern_resolve_fn)(void *ctx, const struct tern_resolve_result *r);

/* Starts looking up `name` (text, e.g. "www.example.test"). done(ctx, r)
 * runs once, on the loop (never inside this call); r stays valid until
 * resolve_free(). Returns NULL with *err set: TERN_E_INVAL (bad name
 * or options) or a socket error. */
struct tern_resolve *resolve_start(struct tern_stack *s, struct tern_loop *loop,
                                        const char *name, const struct tern_resolve_opts *o,
                                        tern_resolve_fn done, void *ctx, int *err);
/* Cancels a lookup still running (done is not called) and frees it. May be
 * called from inside done. */
void resolve_free(struct tern_resolve *q);

/* "d.c.b.a.in-addr.arpa" for an IPv4 address (RFC 1035 s3.5), into out. */
void resolve_ptr_name(uint32_t addr, char *out, size_t cap);
/* Prints r as host(1) does ("www.example.test has address 10.0.0.5",
 * "x is an alias for y.", "Host nope.example.test not found: 3(NXDOMAIN)")
 * and returns host's exit status: 0 found (or NODATA), 1 otherwise. `asked`
 * is the name as the user typed it. */
int resolve_print(const struct tern_resolve_result *r, const char *asked, FILE *out);

#endif
