/*
 * tern/wire/eth.h - Ethernet II header codec (IEEE 802.3 / RFC 894).
 * Not handled: 802.3 length frames, VLAN tags (reported as the ethertype).
 */
#ifndef TERN_WIRE_ETH_H
#define TERN_WIRE_ETH_H

#include "tern/api.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_ETH_ALEN 6
#define TERN_ETH_HLEN 14
#define TERN_ETH_MIN_FRAME 60 /* without FCS: shorter frames are padded on emit by devices */

#define TERN_ETHERTYPE_IPV4 0x0800
#define TERN_ETHERTYPE_ARP 0x0806
#define TERN_ETHERTYPE_VLAN 0x8100
#define TERN_ETHERTYPE_IPV6 0x86dd

struct tern_eth_repr {
    uint8_t dst[TERN_ETH_ALEN];
    uint8_t src[TERN_ETH_ALEN];
    uint16_t ethertype;
};

/* Returns TERN_ETH_HLEN; TERN_E_SHORT when len < 14 (nothing is read,
 * ATTACKS 1); TERN_E_UNSUPPORTED for an 802.3 length field (< 0x0600). */
TERN_API int tern_eth_parse(const uint8_t *buf, size_t len, struct tern_eth_repr *out);
TERN_API int tern_eth_emit(const struct tern_eth_repr *r, uint8_t *buf, size_t cap);

TERN_API bool tern_eth_is_broadcast(const uint8_t mac[TERN_ETH_ALEN]);
TERN_API bool tern_eth_is_multicast(const uint8_t mac[TERN_ETH_ALEN]); /* group bit; includes broadcast */
TERN_API bool tern_eth_is_zero(const uint8_t mac[TERN_ETH_ALEN]);

/* "aa:bb:cc:dd:ee:ff" into buf (>= 18 bytes); returns buf. */
TERN_API char *tern_eth_ntoa(const uint8_t mac[TERN_ETH_ALEN], char *buf);
/* Parses "aa:bb:cc:dd:ee:ff"; TERN_OK or TERN_E_INVAL. */
TERN_API int tern_eth_aton(const char *s, uint8_t mac[TERN_ETH_ALEN]);

#ifdef __cplusplus
}
#endif
#endif
