/*
 * tern/wire/ipv6.h - IPv6 header codec (RFC 8200), its extension headers
 * walked with a hard bound, addresses as text (RFC 4291 s2.2, RFC 5952),
 * and the pseudo-header sum for TCP, UDP and ICMPv6 (RFC 8200 s8.1).
 *
 * Conventions of tern/wire/wire.h: pure, no state, no allocation,
 * thread-safe; parsed pointers point into the caller's buffer. Addresses
 * are 16 bytes in network order (struct tern_ipv6_addr), everything else
 * host order.
 */
#ifndef TERN_WIRE_IPV6_H
#define TERN_WIRE_IPV6_H

#include "tern/api.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_IPV6_HLEN 40
#define TERN_IPV6_MIN_MTU 1280 /* RFC 8200 s5 */

/* Next Header values (IANA "Assigned Internet Protocol Numbers") */
#define TERN_IPPROTO_HOPOPTS 0
#define TERN_IPPROTO_ROUTING 43
#define TERN_IPPROTO_FRAGMENT 44
#define TERN_IPPROTO_ESP 50
#define TERN_IPPROTO_AH 51
#define TERN_IPPROTO_ICMPV6 58
#define TERN_IPPROTO_NONE 59
#define TERN_IPPROTO_DSTOPTS 60

/* The bounds of tern_ipv6_ext_walk (ATTACKS: long extension-header chains).
 * RFC 8200 allows any number; real traffic carries at most a few (RFC 7045,
 * RFC 8504 s5.3 lets a node limit them). */
#define TERN_IPV6_EXT_MAX 8        /* extension headers in one chain */
#define TERN_IPV6_EXT_MAX_LEN 1024 /* their total length in bytes */

struct tern_ipv6_addr {
    uint8_t b[16];
};

struct tern_ipv6_repr {
    uint8_t tclass;         /* traffic class: DSCP and ECN */
    uint32_t flow;          /* flow label, 20 bits (RFC 6437) */
    uint16_t payload_len;   /* the header's payload length field */
    uint8_t next;           /* Next Header */
    uint8_t hop_limit;
    struct tern_ipv6_addr src, dst;
};

/* Returns 40; the payload is buf[40 .. 40 + payload_len). Errors:
 * TERN_E_SHORT (len < 40), TERN_E_BAD_VERSION (version != 6), TERN_E_BAD_LEN
 * (payload length 0 - jumbograms, RFC 2675, are not supported - or more
 * than the bytes present unless TERN_WIRE_TRUNC_OK, in which case
 * payload_len is clipped to them). Bytes past payload_len are link padding. */
TERN_API int tern_ipv6_parse(const uint8_t *buf, size_t len, unsigned flags, struct tern_ipv6_repr *out);

/* Writes the 40-byte header with r's fields (payload_len as given).
 * Returns 40, TERN_E_NOSPC, or TERN_E_INVAL (flow label over 20 bits). */
TERN_API int tern_ipv6_emit(const struct tern_ipv6_repr *r, uint8_t *buf, size_t cap);

/* Partial sum (tern/wire/checksum.h) of the upper-layer pseudo-header of
 * RFC 8200 s8.1: source, destination, 32-bit upper-layer length, three zero
 * bytes and the next header value. */
TERN_API uint32_t tern_ipv6_pseudo_sum(const struct tern_ipv6_addr *src, const struct tern_ipv6_addr *dst,
                                       uint32_t len, uint8_t next);

/* What an extension-header chain leads to (tern_ipv6_ext_walk). Offsets
 * count from the start of the IPv6 payload (the byte after the fixed
 * header). */
struct tern_ipv6_ext {
    uint8_t proto;        /* upper-layer protocol (TCP, UDP, ICMPv6, NONE, ESP, ...) */
    uint16_t off;         /* where the upper-layer header starts */
    uint16_t next_ptr;    /* offset, from the start of the IPv6 header, of the
                           * Next Header field that named proto (for a
                           * Parameter Problem code 1 about an unknown one) */
    uint8_t count;        /* extension headers walked */
    bool hbh;             /* a Hop-by-Hop Options header came first */
    bool router_alert;    /* it carried a Router Alert option (RFC 2711), e.g. MLD */
    bool frag;            /* a Fragment header was seen */
    bool atomic;          /* ... with offset 0 and M clear (RFC 8200 s4.5, RFC 6946) */
    uint16_t frag_hdr;    /* offset of the Fragment header */
    uint16_t frag_off;    /* fragment offset in bytes (field * 8) */
    bool more;            /* M flag */
    uint32_t frag_id;     /* Identification */
    uint16_t unfrag_len;  /* bytes before the Fragment header (the unfragmentable part) */
    /* on TERN_E_BAD_OPT / TERN_E_BAD_FIELD: what RFC 8200 says to do */
    bool icmp;            /* send a Parameter Problem (subject to the multicast rule below) */
    bool icmp_if_unicast; /* action 11: only if the destination was not multicast */
    uint8_t icmp_code;    /* 0 erroneous header field, 1 unrecognized Next Header,
                           * 2 unrecognized option (RFC 4443 s3.4) */
    uint32_t icmp_ptr;    /* the Pointer: offset from the start of the IPv6 header */
};

/* Walks the extension headers of payload[0..len) starting with Next
 * Header `next` (RFC 8200 s4): Hop-by-Hop Options (only as the first, s4.1),
 * Destination Options, Routing, Fragment and AH; stops at the first other
 * value (the upper layer, including No Next Header and ESP) and returns
 * TERN_OK. Options in Hop-by-Hop and Destination Options headers are
 * checked (s4.2): Pad1 and PadN (at most 7 padding bytes in a row, PadN's
 * bytes zero: RFC 8200 leaves it open, RFC 4942 s2.1.9.5 advises it, Linux
 * does the same), Router Alert; an unknown option is skipped, or discards
 * the packet, by the two high bits of its type. A Routing header with
 * Segments Left 0 is ignored; with Segments Left > 0 every type is refused,
 * type 0 in particular (RFC 5095 s3). A Fragment header with a non-zero
 * offset ends the walk (the rest belongs to the reassembled datagram) with
 * proto = its Next Header. Errors: TERN_E_SHORT (a header runs past len),
 * TERN_E_BAD_OPT (an option says discard, or is malformed), TERN_E_BAD_FIELD
 * (Hop-by-Hop not first, a refused Routing header), TERN_E_UNSUPPORTED (more
 * than TERN_IPV6_EXT_MAX headers or TERN_IPV6_EXT_MAX_LEN bytes). The icmp
 * fields say whether RFC 8200 asks for a Parameter Problem and with what. */
TERN_API int tern_ipv6_ext_walk(const uint8_t *payload, size_t len, uint8_t next, struct tern_ipv6_ext *out);

/* The 8-byte Fragment header (RFC 8200 s4.5). */
struct tern_ipv6_frag_repr {
    uint8_t next;
    uint16_t frag_off; /* bytes, multiple of 8 */
    bool more;
    uint32_t id;
};
/* Returns 8, TERN_E_NOSPC or TERN_E_INVAL (offset not a multiple of 8 or
 * over 65528). */
TERN_API int tern_ipv6_frag_emit(const struct tern_ipv6_frag_repr *r, uint8_t *buf, size_t cap);

/* Address classes (RFC 4291 s2.4) */
TERN_API bool tern_ipv6_is_unspecified(const struct tern_ipv6_addr *a); /* :: */
TERN_API bool tern_ipv6_is_loopback(const struct tern_ipv6_addr *a);    /* ::1 */
TERN_API bool tern_ipv6_is_multicast(const struct tern_ipv6_addr *a);   /* ff00::/8 */
TERN_API bool tern_ipv6_is_link_local(const struct tern_ipv6_addr *a);  /* fe80::/10 */
TERN_API bool tern_ipv6_is_v4mapped(const struct tern_ipv6_addr *a);    /* ::ffff:0:0/96 */
/* The solicited-node multicast group of a (RFC 4291 s2.7.1):
 * ff02::1:ffXX:XXXX with a's low 24 bits. */
TERN_API void tern_ipv6_solicited_node(const struct tern_ipv6_addr *a, struct tern_ipv6_addr *out);
/* The Ethernet address a multicast IPv6 address maps to (RFC 2464 s7):
 * 33:33 and the address's last four bytes. */
TERN_API void tern_ipv6_mcast_mac(const struct tern_ipv6_addr *a, uint8_t mac[6]);

#define TERN_IPV6_ADDRSTRLEN 46 /* as INET6_ADDRSTRLEN, with the NUL */

/* RFC 5952 text into buf (>= TERN_IPV6_ADDRSTRLEN bytes): lower case, no
 * leading zeros, the longest run of two or more zero groups as "::" (the
 * first if tied), ::ffff:a.b.c.d for v4-mapped addresses. Returns buf. */
TERN_API char *tern_ipv6_ntoa(const struct tern_ipv6_addr *a, char *buf);
/* Any RFC 4291 s2.2 form (with at most one "::", an IPv4 dotted quad as the
 * last 32 bits); no zone, no prefix. TERN_OK or TERN_E_INVAL. */
TERN_API int tern_ipv6_aton(const char *s, struct tern_ipv6_addr *out);

#ifdef __cplusplus
}
#endif
#endif
