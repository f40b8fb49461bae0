/*
 * tern/wire/ipv4.h - IPv4 header codec (RFC 791, RFC 1122 s3.2.1).
 * Parsing validates version, IHL, total length, checksum and the option
 * list (ATTACKS 5-8). Martian addresses, fragments and routing are the
 * network layer's business, not this codec's.
 */
#ifndef TERN_WIRE_IPV4_H
#define TERN_WIRE_IPV4_H

#include "tern/api.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_IPV4_HLEN_MIN 20
#define TERN_IPV4_HLEN_MAX 60
#define TERN_IPV4_MAX_LEN 65535

#define TERN_IPPROTO_ICMP 1
#define TERN_IPPROTO_TCP 6
#define TERN_IPPROTO_UDP 17

/* Option types (RFC 791 s3.1) */
#define TERN_IPOPT_EOL 0
#define TERN_IPOPT_NOP 1
#define TERN_IPOPT_RR 7
#define TERN_IPOPT_TS 68
#define TERN_IPOPT_LSRR 131
#define TERN_IPOPT_SSRR 137
#define TERN_IPOPT_RA 148 /* router alert, RFC 2113 */

struct tern_ipv4_repr {
    uint8_t hdr_len;      /* bytes, 20..60 */
    uint8_t tos;          /* DSCP and ECN */
    uint16_t total_len;   /* the header's total length field */
    uint16_t id;
    bool rf, df, mf;      /* reserved, don't fragment, more fragments */
    uint16_t frag_off;    /* fragment offset in bytes (field * 8) */
    uint8_t ttl;
    uint8_t proto;
    uint16_t csum;        /* as received; emit computes its own */
    uint32_t src, dst;    /* host order */
    const uint8_t *opts;  /* option bytes: parse points into buf; emit copies */
    uint8_t opts_len;     /* 0..40; emit requires a multiple of 4 */
    uint16_t payload_len; /* bytes after the header that belong to the datagram
                           * (link padding excluded, ATTACKS 7) */
};

/* Returns hdr_len; the payload is buf[hdr_len .. hdr_len + payload_len).
 * Errors: TERN_E_SHORT (len < 20, or IHL*4 > len), TERN_E_BAD_VERSION
 * (version != 4), TERN_E_BAD_LEN (IHL < 5, total length < header length,
 * total length > len unless TERN_WIRE_TRUNC_OK, in which case payload_len
 * is clipped to the bytes present), TERN_E_BAD_CSUM (unless
 * TERN_WIRE_NO_CSUM), TERN_E_BAD_OPT (see tern_ipv4_opt_next). */
TERN_API int tern_ipv4_parse(const uint8_t *buf, size_t len, unsigned flags, struct tern_ipv4_repr *out);

/* Writes the header (20 + opts_len bytes) with total_len = hdr + payload_len
 * and a fresh checksum; the payload is not touched. Returns the header
 * length, TERN_E_NOSPC, or TERN_E_INVAL (opts_len > 40 or not a multiple of 4,
 * opts NULL with opts_len > 0, frag_off not a multiple of 8, or
 * header + payload_len > 65535). r->hdr_len, total_len and csum are ignored. */
TERN_API int tern_ipv4_emit(const struct tern_ipv4_repr *r, uint8_t *buf, size_t cap);

struct tern_ipv4_opt {
    uint8_t type;
    uint8_t len;          /* whole option length; 1 for NOP */
    const uint8_t *data;  /* len - 2 bytes (NULL for NOP) */
};

/* Option walk over opts[0..len). Returns 1 with *opt set, 0 at the end
 * (EOL or no bytes left), TERN_E_BAD_OPT for an option whose length is 0 or 1
 * or runs past the end (ATTACKS 8). Every call that returns 1 advances *pos
 * by at least one byte. */
TERN_API int tern_ipv4_opt_next(const uint8_t *opts, size_t len, size_t *pos, struct tern_ipv4_opt *opt);

/* Dotted quad of a host-order address into buf (>= 16 bytes); returns buf. */
TERN_API char *tern_ipv4_ntoa(uint32_t addr, char *buf);
/* Strict dotted quad ("a.b.c.d", each 0..255, no leading junk/trailing junk);
 * TERN_OK or TERN_E_INVAL. */
TERN_API int tern_ipv4_aton(const char *s, uint32_t *addr);

#ifdef __cplusplus
}
#endif
#endif
