/*
 * tern/wire/icmp.h - ICMPv4 codec (RFC 792, RFC 1191 next-hop MTU).
 * Echo, destination unreachable, time exceeded, parameter problem and the
 * datagram quoted inside an error. Which errors to send or honour is the
 * ICMP layer's business (ATTACKS 16-21), not this codec's.
 */
#ifndef TERN_WIRE_ICMP_H
#define TERN_WIRE_ICMP_H

#include "tern/api.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_ICMP_HLEN 8

#define TERN_ICMP_ECHOREPLY 0
#define TERN_ICMP_UNREACH 3
#define TERN_ICMP_SOURCEQUENCH 4
#define TERN_ICMP_REDIRECT 5
#define TERN_ICMP_ECHO 8
#define TERN_ICMP_TIMXCEED 11
#define TERN_ICMP_PARAMPROB 12
#define TERN_ICMP_TSTAMP 13
#define TERN_ICMP_TSTAMPREPLY 14
#define TERN_ICMP_MASKREQ 17
#define TERN_ICMP_MASKREPLY 18

/* Destination unreachable codes */
#define TERN_ICMP_UNREACH_NET 0
#define TERN_ICMP_UNREACH_HOST 1
#define TERN_ICMP_UNREACH_PROTO 2
#define TERN_ICMP_UNREACH_PORT 3
#define TERN_ICMP_UNREACH_NEEDFRAG 4
#define TERN_ICMP_UNREACH_SRCFAIL 5
#define TERN_ICMP_UNREACH_ADMIN 13
/* Time exceeded codes */
#define TERN_ICMP_TIMXCEED_TTL 0
#define TERN_ICMP_TIMXCEED_REASS 1

struct tern_icmp_repr {
    uint8_t type, code;
    uint16_t csum;         /* as received; emit computes its own */
    uint32_t rest;         /* bytes 4..7, raw; used by emit for types not below */
    uint16_t id, seq;      /* echo request / reply */
    uint16_t next_mtu;     /* unreachable, needfrag (RFC 1191) */
    uint8_t pointer;       /* parameter problem */
    uint32_t gateway;      /* redirect, host order */
    const uint8_t *data;   /* echo payload or quoted datagram */
    size_t data_len;
};

/* Returns TERN_ICMP_HLEN; data = buf + 8 for len - 8 bytes. Checksum covers
 * the whole message. TERN_E_SHORT when len < 8 (ATTACKS 16), TERN_E_BAD_CSUM. */
TERN_API int tern_icmp_parse(const uint8_t *buf, size_t len, unsigned flags, struct tern_icmp_repr *out);

/* Writes header + data (memmove, so data may already sit at buf + 8) with a
 * fresh checksum. Bytes 4..7 come from id/seq (echo), next_mtu (needfrag),
 * pointer (paramprob), gateway (redirect) or rest (other types).
 * Returns 8 + data_len, TERN_E_NOSPC, or TERN_E_INVAL (8 + data_len > 65535,
 * or data NULL with data_len > 0). */
TERN_API int tern_icmp_emit(const struct tern_icmp_repr *r, uint8_t *buf, size_t cap);

/* The datagram quoted in an ICMP error (RFC 792: IP header + first 64 bits). */
struct tern_icmp_quote {
    struct tern_ipv4_repr ip; /* inner header; its total_len may exceed what is quoted */
    uint16_t sport, dport;    /* TCP/UDP ports; ICMP: id in sport, seq in dport */
    uint32_t tcp_seq;         /* TCP only: the quoted sequence number */
    const uint8_t *l4;        /* quoted transport bytes */
    size_t l4_len;            /* >= 8 */
};

/* Parses data[0..len) of an error message. Requires a whole inner IPv4
 * header (options included) and at least 8 transport bytes; otherwise
 * TERN_E_SHORT (ATTACKS 17). The inner checksum is not verified; other inner
 * header errors (version, IHL, options) are returned as from tern_ipv4_parse.
 * l4_len counts the quoted bytes that belong to the inner datagram (never
 * past its total length). For a non-first fragment (ip.frag_off != 0) the
 * quoted bytes hold no transport header: sport, dport and tcp_seq are 0.
 * Returns TERN_OK. */
TERN_API int tern_icmp_parse_quote(const uint8_t *data, size_t len, struct tern_icmp_quote *out);

TERN_API bool tern_icmp_is_error(uint8_t type); /* unreach, source quench, redirect, timxceed, paramprob */

#ifdef __cplusplus
}
#endif
#endif
