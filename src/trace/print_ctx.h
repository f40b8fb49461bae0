/*
 * src/trace/print_ctx.h - internals shared by the print*.c files (not public).
 *
 * The printer renders a frame exactly as tcpdump 4.99.3 `-n -r` does. tcpdump
 * aborts a dissector with a longjmp when a field lies past the captured bytes
 * and then appends " [|proto]". We get the same output without longjmp:
 * every field is read through pc_u8/pc_u16/pc_u32, which check the bytes
 * against `end` (the current snapshot end); the first failed read marks the
 * context truncated and records the protocol being dissected, after which
 * all output is suppressed and every read returns 0. The frame printer then
 * appends " [|proto]". Code after a failed read must not change state (the
 * TCP conversation table checks pc->trunc) and all loops are bounded by
 * the header lengths, so the values 0 are harmless.
 */
#ifndef TERN_TRACE_PRINT_CTX_H
#define TERN_TRACE_PRINT_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/print.h"
#include "tern/wire/bytes.h"

struct pc {
    struct tern_printer *p;
    char *out;
    size_t cap, len;        /* out[0..len) written, always NUL-terminated if cap > 0 */
    const uint8_t *end;     /* one past the last byte we may read */
    const char *proto;      /* protocol being dissected (tcpdump's ndo_protocol) */
    const char *trunc_proto;
    bool trunc;             /* a read failed: suppress everything else */
    bool ports_only;        /* IPv6 with extension headers: the addresses were
                             * printed before them, TCP/UDP print ports alone */
};

/* printf into the line unless truncated; output beyond cap is dropped. */
void pc_printf(struct pc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Marks the context truncated (tcpdump's longjmp) with the current protocol. */
void pc_fail(struct pc *c);
/* " [|proto]" with the current protocol, printed like tcpdump's nd_print_trunc. */
void pc_print_trunc(struct pc *c);

static inline bool pc_has(const struct pc *c, const uint8_t *p, size_t n)
{
    return p <= c->end && (size_t)(c->end - p) >= n;
}

static inline uint8_t pc_u8(struct pc *c, const uint8_t *p)
{
    if (c->trunc || !pc_has(c, p, 1)) {
        pc_fail(c);
        return 0;
    }
    return p[0];
}

static inline uint16_t pc_u16(struct pc *c, const uint8_t *p)
{
    if (c->trunc || !pc_has(c, p, 2)) {
        pc_fail(c);
        return 0;
    }
    return tern_get16(p);
}

static inline uint32_t pc_u32(struct pc *c, const uint8_t *p)
{
    if (c->trunc || !pc_has(c, p, 4)) {
        pc_fail(c);
        return 0;
    }
    return tern_get32(p);
}

/* Dotted quad at p (read through pc_u32) into buf[16]. */
const char *pc_ip(struct pc *c, const uint8_t *p, char buf[16]);

/* Source and destination of the IPv4 or IPv6 header at ip (version from
 * its first octet, already checked by the IP printer) as text. */
#define PC_ADDR_MAX 46
void pc_addrs(struct pc *c, const uint8_t *ip, char s[PC_ADDR_MAX], char d[PC_ADDR_MAX]);
/* A 32-bit key for the TCP conversation table: the IPv4 address, or a hash
 * of the IPv6 address (which = 0 source, 1 destination). */
uint32_t pc_addr_key(const uint8_t *ip, int which);

/* tcpdump's default printer: "\n\t0x0000:  4500 ..." hex and ASCII lines. */
void pc_hexdump(struct pc *c, const uint8_t *p, size_t len);

/* Dissectors. length: the length the layer below claims (tcpdump's
 * `length`), which may exceed the captured bytes. */
void pc_ip_print(struct pc *c, const uint8_t *bp, uint32_t length);
void pc_ip6_print(struct pc *c, const uint8_t *bp, uint32_t length);
void pc_icmp6_print(struct pc *c, const uint8_t *bp, uint32_t length);
/* IGMP v1-v3 (IPv4 protocol 2), print_icmp6.c */
void pc_igmp_print(struct pc *c, const uint8_t *bp, uint32_t length);
void pc_tcp_print(struct pc *c, const uint8_t *bp, uint32_t length, const uint8_t *ip);
void pc_udp_print(struct pc *c, const uint8_t *bp, uint32_t length, const uint8_t *ip,
                  bool fragmented);
void pc_icmp_print(struct pc *c, const uint8_t *bp, uint32_t length);

/* Application dissectors (print_dns.c, print_app.c), chosen by port as
 * tcpdump does (pc_udp_print, pc_tcp_print). */
void pc_dns_print(struct pc *c, const uint8_t *bp, uint32_t length, bool over_tcp, bool mdns);
void pc_bootp_print(struct pc *c, const uint8_t *bp, uint32_t length);
void pc_ntp_print(struct pc *c, const uint8_t *bp, uint32_t length);
void pc_http_print(struct pc *c, const uint8_t *bp, uint32_t length);

/* tcpdump's escape of one octet: "M-" for bit 7, "^X" for controls. */
void pc_print_char(struct pc *c, uint8_t ch);
/* Text of a 16-octet IPv6 address as tcpdump prints it (RFC 5952 zero
 * compression, IPv4-mapped and -compatible forms dotted). */
void pc_ip6_str(const uint8_t *a, char *buf, size_t cap);

#endif
