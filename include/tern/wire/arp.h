/*
 * tern/wire/arp.h - ARP for IPv4 over Ethernet (RFC 826).
 * Only htype 1 / ptype 0x0800 / hlen 6 / plen 4 is accepted (ATTACKS 2).
 */
#ifndef TERN_WIRE_ARP_H
#define TERN_WIRE_ARP_H

#include "tern/api.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_ARP_LEN 28
#define TERN_ARP_REQUEST 1
#define TERN_ARP_REPLY 2

struct tern_arp_repr {
    uint16_t op;     /* TERN_ARP_REQUEST or TERN_ARP_REPLY */
    uint8_t sha[6];  /* sender hardware address */
    uint32_t spa;    /* sender protocol address, host order */
    uint8_t tha[6];  /* target hardware address */
    uint32_t tpa;    /* target protocol address, host order */
};

/* Returns TERN_ARP_LEN. TERN_E_SHORT when len < 28 (no field is read,
 * ATTACKS 1); TERN_E_BAD_VERSION on htype/ptype/hlen/plen other than
 * 1/0x0800/6/4 (ATTACKS 2); TERN_E_BAD_FIELD on an op other than 1 or 2. */
TERN_API int tern_arp_parse(const uint8_t *buf, size_t len, struct tern_arp_repr *out);
TERN_API int tern_arp_emit(const struct tern_arp_repr *r, uint8_t *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
