/*
 * src/app/dns_server.h - a small authoritative DNS server: one zone from a
 * master file, answered over UDP and TCP on the socket API (RFC 1035 s4,
 * s5, s6.2; RFC 1034 s4.3.2; RFC 2308 negative answers; RFC 3596 AAAA;
 * RFC 7766 DNS over TCP).
 *
 * Three parts:
 *  - the zone (dns_zone.c): a documented subset of RFC 1035 s5 master-file
 *    syntax (docs/dns.md): $ORIGIN, $TTL, "name [ttl] [IN] TYPE data" for
 *    A, AAAA, CNAME, NS and SOA, blank owners, '@', ( ) across lines and
 *    ';' comments; errors name the file and line;
 *  - the answer (dns_zone_answer, pure: bytes in, bytes out): AA set,
 *    CNAME chains followed inside the zone, NXDOMAIN or NODATA with the SOA
 *    in the authority section, REFUSED outside the zone, FORMERR for
 *    garbage, NOTIMP for other opcodes, TC when 512 octets are not enough;
 *  - the server (dns_server.c): a UDP socket and a TCP listener on port 53
 *    of a stack. Over TCP (RFC 1035 s4.2.2, RFC 7766) each message has a
 *    2-octet length prefix, answers may be up to TERN_DNS_TCP_ANSWER_MAX
 *    octets, queries on one connection are answered in order (pipelining,
 *    RFC 7766 s6.2.1.1), and everything is bounded: at most
 *    TERN_DNS_TCP_CLIENTS connections at once (one more closes the one
 *    longest without an answered query, RFC 7766 s6.2.3), a query
 *    longer than TERN_DNS_TCP_QUERY_MAX octets closes its connection, and
 *    a connection idle for TERN_DNS_TCP_IDLE_US is closed (RFC 7766
 *    s6.2.3).
 * For tests, the simulator and `tern serve --dns`: a linear scan over the
 * records per query, no zone transfers, no delegation (NS records below the
 * apex are plain data - DEVIATION from RFC 1034 s4.3.2 step 3b, which
 * would refer), no wildcards, no EDNS (an OPT record in a query is ignored
 * and the reply has none, as from a pre-EDNS server, RFC 6891 s7).
 */
#ifndef TERN_APP_DNS_SERVER_H
#define TERN_APP_DNS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/loop.h"
#include "tern/stack.h"
#include "tern/wire/dns.h"

#define TERN_DNS_ZONE_MAX_RECORDS 10000
#define TERN_DNS_ZONE_MAX_BYTES (1u << 20) /* zone file size */
#define TERN_DNS_TCP_CLIENTS 16            /* TCP connections served at once */
#define TERN_DNS_TCP_QUERY_MAX 1024        /* octets of one query over TCP */
#define TERN_DNS_TCP_ANSWER_MAX 16384      /* octets of one answer over TCP */
#define TERN_DNS_TCP_IDLE_US 10000000ull   /* 10 s without a query closes a connection */

struct tern_dns_zone;

/* Parses master-file text (len bytes; need not end with a NUL). fname is
 * used in error messages only. Returns NULL on error with one line in err:
 * "FILE:LINE: what". */
struct tern_dns_zone *dns_zone_parse(const char *text, size_t len, const char *fname,
                                          char *err, size_t errcap);
/* Reads and parses a file (at most TERN_DNS_ZONE_MAX_BYTES). */
struct tern_dns_zone *dns_zone_load(const char *path, char *err, size_t errcap);
void dns_zone_free(struct tern_dns_zone *z);
/* The zone's apex (the SOA owner) and record count. */
const struct tern_dns_name *dns_zone_apex(const struct tern_dns_zone *z);
size_t dns_zone_count(const struct tern_dns_zone *z);
/* Record i (0..count-1), in file order. */
const struct tern_dns_rr *dns_zone_record(const struct tern_dns_zone *z, size_t i);

/* Builds the reply to one query into out (cap octets; replies are cut to
 * 512 with TC set). Returns its length, or -1: no reply at all (shorter
 * than a header, or QR set: never answer a response). */
int dns_zone_answer(const struct tern_dns_zone *z, const uint8_t *query, size_t qlen,
                         uint8_t *out, size_t cap);
/* The same for a query that came over TCP: the reply may use all of cap
 * (at most 65535; TC only if even that is not enough). */
int dns_zone_answer_tcp(const struct tern_dns_zone *z, const uint8_t *query, size_t qlen,
                             uint8_t *out, size_t cap);

struct dns_server_stats {
    uint64_t queries, answers, nxdomain, nodata, refused, formerr, notimp, dropped, truncated;
    /* TCP: queries is counted above as well; connections accepted, closed
     * to make room for a newcomer when all slots were busy, closed idle,
     * closed for a too-long query */
    uint64_t tcp_queries, tcp_conns, tcp_evicted, tcp_idle_closed, tcp_too_long;
};

struct tern_dns_server;

/* Serves z (borrowed: keep it alive until dns_server_free) on UDP
 * and TCP port `port` (0 = 53) of every address of s. NULL with *err set
 * (a stack without TCP serves UDP only). */
struct tern_dns_server *dns_server_start(struct tern_stack *s, struct tern_loop *loop,
                                              const struct tern_dns_zone *z, uint16_t port,
                                              int *err);
const struct dns_server_stats *dns_server_stats(const struct tern_dns_server *sv);
void dns_server_free(struct tern_dns_server *sv);

#endif
