/*
 * tern/wire/udp.h - UDP header codec (RFC 768, RFC 1122 s4.1.3).
 */
#ifndef TERN_WIRE_UDP_H
#define TERN_WIRE_UDP_H

#include "tern/api.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_UDP_HLEN 8

struct tern_udp_repr {
    uint16_t sport, dport;
    uint16_t len;            /* the length field: header + payload */
    uint16_t csum;           /* as received (0 = none); emit computes its own */
    const uint8_t *payload;  /* parse: into buf; emit: copied (memmove) */
    uint16_t payload_len;
};

/* buf/len: the IP payload; src/dst: host order for the pseudo-header.
 * Returns TERN_UDP_HLEN. TERN_E_SHORT (len < 8), TERN_E_BAD_LEN (length
 * field < 8 or > len; a smaller length trims the payload, ATTACKS 22),
 * TERN_E_BAD_CSUM (unless TERN_WIRE_NO_CSUM; a zero checksum is accepted). */
TERN_API int tern_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, unsigned flags,
                            struct tern_udp_repr *out);

/* Writes header + payload with checksum (a computed 0 is sent as 0xffff,
 * RFC 768). Returns 8 + payload_len, TERN_E_NOSPC or TERN_E_INVAL (> 65535). */
TERN_API int tern_udp_emit(const struct tern_udp_repr *r, uint32_t src, uint32_t dst, uint8_t *buf,
                           size_t cap);

#ifdef __cplusplus
}
#endif
#endif
