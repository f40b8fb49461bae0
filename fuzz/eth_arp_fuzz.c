/*
 * fuzz/eth_arp_fuzz.c - libFuzzer target for the Ethernet and ARP codecs
 * (src/wire/eth.c, src/wire/arp.c) and the MAC address text helpers.
 * Every successful parse is emitted and re-parsed; any disagreement aborts.
 * Not a whole-stack target: no state, just the pure codecs (ATTACKS 1-2).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tern/wire/arp.h"
#include "tern/wire/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int arp_eq(const struct tern_arp_repr *a, const struct tern_arp_repr *b)
{
    return a->op == b->op && memcmp(a->sha, b->sha, 6) == 0 && a->spa == b->spa &&
           memcmp(a->tha, b->tha, 6) == 0 && a->tpa == b->tpa;
}

static void check_arp(const uint8_t *p, size_t len)
{
    struct tern_arp_repr a, b;
    int rc = tern_arp_parse(p, len, &a);
    if (rc < 0) {
        if (rc != TERN_E_SHORT && rc != TERN_E_BAD_VERSION && rc != TERN_E_BAD_FIELD)
            abort();
        if ((rc == TERN_E_SHORT) != (len < TERN_ARP_LEN))
            abort();
        return;
    }
    if (rc != TERN_ARP_LEN || len < TERN_ARP_LEN)
        abort();
    uint8_t out[TERN_ARP_LEN];
    if (tern_arp_emit(&a, out, sizeof out) != TERN_ARP_LEN)
        abort();
    /* Every field of the 28 bytes is either checked or carried: exact. */
    if (memcmp(out, p, TERN_ARP_LEN) != 0)
        abort();
    if (tern_arp_parse(out, sizeof out, &b) != TERN_ARP_LEN || !arp_eq(&a, &b))
        abort();
}

static void check_mac_text(const uint8_t *data, size_t size)
{
    char s[32];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    uint8_t mac[6], mac2[6];
    if (tern_eth_aton(s, mac) != TERN_OK)
        return;
    char t[18];
    tern_eth_ntoa(mac, t);
    /* Strict syntax: the text can only differ from ntoa's in letter case. */
    if (strlen(s) != 17)
        abort();
    for (size_t i = 0; i < 17; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (c != t[i])
            abort();
    }
    if (tern_eth_aton(t, mac2) != TERN_OK || memcmp(mac, mac2, 6) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tern_eth_repr e, e2;
    int rc = tern_eth_parse(data, size, &e);
    if (rc >= 0) {
        if (rc != TERN_ETH_HLEN || size < TERN_ETH_HLEN || e.ethertype < 0x0600)
            abort();
        uint8_t out[TERN_ETH_HLEN];
        if (tern_eth_emit(&e, out, sizeof out) != TERN_ETH_HLEN || memcmp(out, data, 14) != 0)
            abort();
        if (tern_eth_parse(out, sizeof out, &e2) != TERN_ETH_HLEN || memcmp(&e, &e2, sizeof e) != 0)
            abort();
        if (tern_eth_is_broadcast(e.dst) && !tern_eth_is_multicast(e.dst))
            abort();
        /* The ARP payload, whatever the ethertype says (more coverage). */
        check_arp(data + TERN_ETH_HLEN, size - TERN_ETH_HLEN);
    } else if (rc != TERN_E_SHORT && rc != TERN_E_UNSUPPORTED) {
        abort();
    } else if ((rc == TERN_E_SHORT) != (size < TERN_ETH_HLEN)) {
        abort();
    }
    /* The raw input as a bare ARP packet and as MAC address text. */
    check_arp(data, size);
    check_mac_text(data, size);
    return 0;
}
