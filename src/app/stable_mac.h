/*
 * src/app/stable_mac.h - a MAC address that stays the same for one
 * interface of one machine across runs (as systemd-networkd's
 * MACAddressPolicy=persistent): the tools' default for a TAP device, so
 * that a DHCP server sees the same client (chaddr and the client
 * identifier, type 1 + MAC, RFC 2132 s9.14) each run and hands out the same
 * lease instead of a new address from the pool every time.
 */
#ifndef TERN_APP_STABLE_MAC_H
#define TERN_APP_STABLE_MAC_H

#include <stdint.h>

/* FNV-1a over machine_id, a separator and ifname, folded into 6 octets;
 * the first octet's multicast bit cleared and its local bit set (IEEE 802:
 * a locally administered unicast address). */
void stable_mac(const char *machine_id, const char *ifname, uint8_t mac[6]);
/* The machine's id: /etc/machine-id, else /var/lib/dbus/machine-id, else
 * the host name; "" if none. out has cap bytes. */
void stable_mac_machine_id(char *out, unsigned cap);

#endif
