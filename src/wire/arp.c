/*
 * arp.c - ARP packet codec for IPv4 over Ethernet (RFC 826, RFC 5227 s1.1
 * terminology). Only the 28-byte Ethernet/IPv4 form is spoken (ATTACKS 2).
 * Not: the cache, request policy, gratuitous/conflict handling - that is the
 * ARP layer (ATTACKS 3-4).
 */
#include "tern/wire/arp.h"

#include <string.h>

#include "tern/wire/bytes.h"

#define ARP_HTYPE_ETHER 1      /* RFC 826 "ar$hrd": Ethernet */
#define ARP_PTYPE_IPV4 0x0800  /* "ar$pro": the IPv4 ethertype */

int tern_arp_parse(const uint8_t *buf, size_t len, struct tern_arp_repr *out)
{
    /* ATTACKS 1: check the length before any field is read. */
    if (len < TERN_ARP_LEN)
        return TERN_E_SHORT;
    /* RFC 826 "Packet Reception": ar$hrd, ar$pro (and their lengths) must be
     * ones we speak; everything else is dropped (ATTACKS 2). */
    if (tern_get16(buf) != ARP_HTYPE_ETHER || tern_get16(buf + 2) != ARP_PTYPE_IPV4 ||
        buf[4] != 6 || buf[5] != 4)
        return TERN_E_BAD_VERSION;
    uint16_t op = tern_get16(buf + 6);
    if (op != TERN_ARP_REQUEST && op != TERN_ARP_REPLY)
        return TERN_E_BAD_FIELD;
    out->op = op;
    memcpy(out->sha, buf + 8, 6);
    out->spa = tern_get32(buf + 14);
    memcpy(out->tha, buf + 18, 6);
    out->tpa = tern_get32(buf + 24);
    return TERN_ARP_LEN;
}

int tern_arp_emit(const struct tern_arp_repr *r, uint8_t *buf, size_t cap)
{
    if (cap < TERN_ARP_LEN)
        return TERN_E_NOSPC;
    tern_put16(buf, ARP_HTYPE_ETHER);
    tern_put16(buf + 2, ARP_PTYPE_IPV4);
    buf[4] = 6;
    buf[5] = 4;
    tern_put16(buf + 6, r->op);
    memcpy(buf + 8, r->sha, 6);
    tern_put32(buf + 14, r->spa);
    memcpy(buf + 18, r->tha, 6);
    tern_put32(buf + 24, r->tpa);
    return TERN_ARP_LEN;
}
