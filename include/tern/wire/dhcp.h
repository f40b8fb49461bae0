/*
 * tern/wire/dhcp.h - DHCP message codec (RFC 2131 s2 and s4.1, RFC 2132
 * options, RFC 951 BOOTP fixed header).
 *
 * Pure: no state, no allocation, no time (see tern/wire/wire.h). The UDP
 * payload in, a repr out; a repr in, the UDP payload out. Not: the client
 * or server state machines (src/app/dhcp_client.c, dhcp_server.c).
 *
 * Options understood: 0 PAD, 1 subnet mask, 3 router, 6 DNS servers,
 * 12 host name, 50 requested IP, 51 lease time, 52 option overload,
 * 53 message type, 54 server id, 55 parameter request list, 56 message,
 * 58 T1, 59 T2, 61 client id, 255 END. Others are skipped by length.
 *
 * Parsing (ATTACKS 47) walks the options with a bound: every option's
 * length is checked against the bytes present before it is read; an option
 * running past the end of its area, a missing END, or a known option with a
 * length RFC 2132 forbids makes the whole message TERN_E_BAD_OPT. Option
 * overload (52) is honoured (RFC 2131 s4.1: options field, then file, then
 * sname), each area walked once with its own bound (at most 3 areas, so at
 * most len bytes are looked at in all); an overload option inside an
 * overloaded field is ignored, never followed again.
 * DEVIATION: an option that appears twice keeps its first value; RFC 3396
 * concatenation of split long options is not done (none of the options
 * above needs more than 255 bytes in practice).
 */
#ifndef TERN_WIRE_DHCP_H
#define TERN_WIRE_DHCP_H

#include "tern/api.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_DHCP_SERVER_PORT 67
#define TERN_DHCP_CLIENT_PORT 68
#define TERN_DHCP_FIXED_LEN 236     /* op .. file (RFC 2131 s2, figure 1) */
#define TERN_DHCP_COOKIE 0x63825363u /* RFC 2131 s3: 99.130.83.99 */
#define TERN_DHCP_MIN_LEN 240       /* fixed header + cookie */
#define TERN_DHCP_BOOTP_MIN 300     /* RFC 951/1542 s2.1: emit pads to this size */
#define TERN_DHCP_MAX_ADDRS 4       /* router / DNS addresses kept from a list */

#define TERN_DHCP_BOOTREQUEST 1
#define TERN_DHCP_BOOTREPLY 2
#define TERN_DHCP_FLAG_BROADCAST 0x8000u /* RFC 2131 s2, figure 2 */

/* Option 53 values, RFC 2132 s9.6. */
enum tern_dhcp_type {
    TERN_DHCP_NONE = 0, /* no option 53: plain BOOTP */
    TERN_DHCP_DISCOVER = 1,
    TERN_DHCP_OFFER = 2,
    TERN_DHCP_REQUEST = 3,
    TERN_DHCP_DECLINE = 4,
    TERN_DHCP_ACK = 5,
    TERN_DHCP_NAK = 6,
    TERN_DHCP_RELEASE = 7,
    TERN_DHCP_INFORM = 8
};

/* Option codes, RFC 2132. */
#define TERN_DHCP_OPT_PAD 0
#define TERN_DHCP_OPT_MASK 1
#define TERN_DHCP_OPT_ROUTER 3
#define TERN_DHCP_OPT_DNS 6
#define TERN_DHCP_OPT_HOSTNAME 12
#define TERN_DHCP_OPT_REQ_IP 50
#define TERN_DHCP_OPT_LEASE 51
#define TERN_DHCP_OPT_OVERLOAD 52
#define TERN_DHCP_OPT_MSG_TYPE 53
#define TERN_DHCP_OPT_SERVER_ID 54
#define TERN_DHCP_OPT_PRL 55
#define TERN_DHCP_OPT_MESSAGE 56
#define TERN_DHCP_OPT_T1 58
#define TERN_DHCP_OPT_T2 59
#define TERN_DHCP_OPT_CLIENT_ID 61
#define TERN_DHCP_OPT_END 255

struct tern_dhcp_repr {
    /* fixed header (host order) */
    uint8_t op, htype, hlen, hops;
    uint32_t xid;
    uint16_t secs, flags;
    uint32_t ciaddr, yiaddr, siaddr, giaddr;
    uint8_t chaddr[16];
    /* sname (64 bytes) and file (128 bytes): parse points into the buffer,
     * NULL when the field is overloaded with options; emit copies them
     * (NULL = zeros). */
    const uint8_t *sname, *file;
    /* options; has_* / counts say which are present */
    uint8_t msg_type;               /* enum tern_dhcp_type, 0 = absent */
    bool has_mask, has_lease, has_t1, has_t2, has_server_id, has_req_ip;
    uint32_t mask, lease_s, t1_s, t2_s, server_id, req_ip;
    uint8_t n_routers, n_dns;       /* addresses kept (the first TERN_DHCP_MAX_ADDRS) */
    uint32_t routers[TERN_DHCP_MAX_ADDRS], dns[TERN_DHCP_MAX_ADDRS];
    uint8_t overload;               /* parse: option 52's value (0 none); emit: ignored */
    /* byte strings: parse points into the buffer; emit copies (len 0 = absent) */
    const uint8_t *hostname, *prl, *client_id, *message;
    uint8_t hostname_len, prl_len, client_id_len, message_len;
};

/* buf/len: a UDP payload. Returns the number of bytes the message used
 * (up to and including the END option; trailing padding is allowed), or
 * TERN_E_SHORT (< 240 bytes), TERN_E_BAD_VERSION (no magic cookie: not
 * DHCP), TERN_E_BAD_FIELD (op not 1/2, hlen > 16), TERN_E_BAD_OPT (the
 * option rules above). */
TERN_API int tern_dhcp_parse(const uint8_t *buf, size_t len, struct tern_dhcp_repr *out);

/* Writes the message: fixed header, cookie, options in the order 53, 61,
 * 50, 54, 51, 58, 59, 1, 3, 6, 12, 56, 55, then END, then PAD bytes up to
 * 300 bytes in all. Returns the length, TERN_E_NOSPC, or TERN_E_INVAL
 * (hlen > 16, more than TERN_DHCP_MAX_ADDRS addresses, a client id of 1 byte). */
TERN_API int tern_dhcp_emit(const struct tern_dhcp_repr *r, uint8_t *buf, size_t cap);

/* "DISCOVER", "OFFER", ... or "?" */
TERN_API const char *tern_dhcp_type_name(unsigned type);

#ifdef __cplusplus
}
#endif
#endif
