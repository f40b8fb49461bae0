/* src/app/dhcp_lease.h - private to the DHCP client (see dhcp_lease.c). */
#ifndef TERN_APP_DHCP_LEASE_H
#define TERN_APP_DHCP_LEASE_H

#include "app/dhcp_client.h"

/* Fills l from an OFFER/ACK: yiaddr, prefix from option 1, server id,
 * first router, DNS servers, lease with T1/T2 checked and defaulted. */
void dhcp_lease_from(struct tern_dhcp_lease *l, const struct tern_dhcp_repr *r);

#endif
