/*
 * eth.c - Ethernet II header codec (RFC 894, IEEE 802.3 s3.2) and MAC
 * address helpers.
 * Not: 802.3 length/LLC frames (TERN_E_UNSUPPORTED), VLAN tag handling
 * (0x8100 is reported as the ethertype), FCS (devices strip/add it),
 * minimum-size padding (devices pad on emit).
 */
#include "tern/wire/eth.h"

#include <stdio.h>
#include <string.h>

#include "tern/wire/bytes.h"
#include "wire/text.h"

int tern_eth_parse(const uint8_t *buf, size_t len, struct tern_eth_repr *out)
{
    /* ATTACKS 1: the length is checked before any byte is read. */
    if (len < TERN_ETH_HLEN)
        return TERN_E_SHORT;
    uint16_t type = tern_get16(buf + 12);
    /* IEEE 802.3 s3.2.6: values <= 1500 are a length (802.3/LLC framing),
     * 1501..1535 are undefined; Ethernet II types start at 0x0600. */
    if (type < 0x0600)
        return TERN_E_UNSUPPORTED;
    memcpy(out->dst, buf, TERN_ETH_ALEN);
    memcpy(out->src, buf + 6, TERN_ETH_ALEN);
    out->ethertype = type;
    return TERN_ETH_HLEN;
}

int tern_eth_emit(const struct tern_eth_repr *r, uint8_t *buf, size_t cap)
{
    if (cap < TERN_ETH_HLEN)
        return TERN_E_NOSPC;
    memcpy(buf, r->dst, TERN_ETH_ALEN);
    memcpy(buf + 6, r->src, TERN_ETH_ALEN);
    tern_put16(buf + 12, r->ethertype);
    return TERN_ETH_HLEN;
}

bool tern_eth_is_broadcast(const uint8_t mac[TERN_ETH_ALEN])
{
    for (int i = 0; i < TERN_ETH_ALEN; i++)
        if (mac[i] != 0xff)
            return false;
    return true;
}

bool tern_eth_is_multicast(const uint8_t mac[TERN_ETH_ALEN])
{
    /* IEEE 802 s8.2: the I/G bit, least significant bit of the first octet. */
    return (mac[0] & 0x01) != 0;
}

bool tern_eth_is_zero(const uint8_t mac[TERN_ETH_ALEN])
{
    for (int i = 0; i < TERN_ETH_ALEN; i++)
        if (mac[i] != 0)
            return false;
    return true;
}

char *tern_eth_ntoa(const uint8_t mac[TERN_ETH_ALEN], char *buf)
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
    return buf;
}

int tern_eth_aton(const char *s, uint8_t mac[TERN_ETH_ALEN])
{
    /* Exactly six groups of two hex digits separated by ':' and nothing
     * else: no shortened "a:b:..." groups, no '-' separators, no junk. */
    uint8_t tmp[TERN_ETH_ALEN];
    if (!s)
        return TERN_E_INVAL;
    for (int i = 0; i < TERN_ETH_ALEN; i++) {
        int hi = wire_hexval(s[0]);
        if (hi < 0)
            return TERN_E_INVAL;
        int lo = wire_hexval(s[1]);
        if (lo < 0)
            return TERN_E_INVAL;
        tmp[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < TERN_ETH_ALEN - 1) {
            if (*s != ':')
                return TERN_E_INVAL;
            s++;
        }
    }
    if (*s != '\0')
        return TERN_E_INVAL;
    memcpy(mac, tmp, TERN_ETH_ALEN);
    return TERN_OK;
}
