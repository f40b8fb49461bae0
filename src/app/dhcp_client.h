/*
 * src/app/dhcp_client.h - a DHCP client (RFC 2131 s4.4), written once as
 * an event-driven app for both worlds (TAP on a real loop; memory links in
 * virtual time).
 *
 * It runs the RFC 2131 s4.4 state machine on one interface: INIT ->
 * SELECTING (DISCOVER, first OFFER wins) -> REQUESTING -> (ARP probe,
 * RFC 5227) -> BOUND -> RENEWING at T1 (unicast REQUEST) -> REBINDING at T2
 * (broadcast REQUEST) -> expiry (address removed, back to INIT). INIT-REBOOT
 * is not implemented: every start begins in INIT. On a lease it sets the
 * interface address (tern_iface_set_addr) and a default route via the first
 * router (option 3), and reports the lease through the owner's callback.
 * It speaks only through the public socket API (a UDP socket on port 68
 * bound to the interface, with TERN_SO_BROADCAST) and the loop's timers.
 * Replies are taken only when xid and chaddr match (ATTACKS 47).
 * Not: a DNS resolver configuration writer - the DNS servers are handed to
 * the owner, who decides.
 */
#ifndef TERN_APP_DHCP_CLIENT_H
#define TERN_APP_DHCP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/loop.h"
#include "tern/stack.h"
#include "tern/wire/dhcp.h"

enum tern_dhcp_state {
    TERN_DHCPC_INIT,
    TERN_DHCPC_SELECTING,
    TERN_DHCPC_REQUESTING,
    TERN_DHCPC_PROBING,    /* not an RFC 2131 state: ACK received, ARP probe running */
    TERN_DHCPC_BOUND,
    TERN_DHCPC_RENEWING,
    TERN_DHCPC_REBINDING
};

struct tern_dhcp_lease {
    uint32_t addr;          /* host order */
    uint8_t prefix_len;     /* from option 1 (classful default if absent) */
    uint32_t server;        /* option 54 */
    uint32_t router;        /* first address of option 3, 0 = none */
    uint8_t n_dns;
    uint32_t dns[TERN_DHCP_MAX_ADDRS];
    uint32_t lease_s, t1_s, t2_s; /* 0xffffffff = infinite */
    char hostname[64];      /* option 12 from the server, "" = none */
};

enum tern_dhcp_event {
    TERN_DHCP_EV_BOUND,    /* a new lease: the address and route are set */
    TERN_DHCP_EV_RENEWED,  /* the lease was extended (T1/T2) */
    TERN_DHCP_EV_DECLINED, /* the ACKed address was in use: DECLINE sent, retry later */
    TERN_DHCP_EV_NAK,      /* a NAK while requesting: back to INIT (no address was set) */
    TERN_DHCP_EV_LOST      /* lease expired or NAKed: address and route removed */
};

typedef void (*tern_dhcp_fn)(void *ctx, enum tern_dhcp_event ev, const struct tern_dhcp_lease *l);

struct tern_dhcp_client_opts {
    int ifindex;              /* an Ethernet interface (chaddr = its MAC) */
    const char *hostname;     /* sent as option 12, NULL = none */
    uint64_t rto_initial_us;  /* 0 = 4 s (RFC 2131 s4.1) */
    uint64_t rto_max_us;      /* 0 = 64 s */
    uint64_t jitter_us;       /* each delay +- this; 0 = 1 s, or rto_initial/4 if that is set */
    uint64_t renew_min_us;    /* 0 = 60 s: least wait between REQUESTs in RENEWING/REBINDING
                               * (RFC 2131 s4.4.5) */
    uint32_t request_tries;   /* 0 = 4 REQUESTs before going back to INIT */
    uint64_t decline_wait_us; /* 0 = 10 s before restarting after a DECLINE (s3.1.5) */
    bool no_probe;            /* skip the ARP probe of the offered address */
};

struct dhcp_client_stats {
    uint64_t discovers, requests, declines, offers, acks, naks;
    uint64_t ignored; /* malformed, wrong xid/chaddr/op, or unexpected in this state */
    uint64_t unusable; /* OFFERs/ACKs (of our xid) refused for their address or options:
                        * not a unicast host address of the offered subnet (0/8, 127/8,
                        * multicast, class E, the subnet's network or broadcast
                        * address), mask 0.0.0.0, /32 or non-contiguous, or a router
                        * that is not unicast; the client keeps waiting */
};

struct tern_dhcp_client;

/* Opens the socket and sends the first DISCOVER at once. NULL with *err set
 * (a socket error, TERN_E_INVAL for a bad interface, TERN_E_NOMEM). fn may
 * be NULL. The stack must outlive the client. */
struct tern_dhcp_client *dhcp_client_start(struct tern_stack *s, struct tern_loop *loop,
                                                const struct tern_dhcp_client_opts *o,
                                                tern_dhcp_fn fn, void *ctx, int *err);
/* Sends RELEASE (when bound) and removes the address and route. */
void dhcp_client_release(struct tern_dhcp_client *c);
/* Stops the client; the address (if any) stays configured. */
void dhcp_client_free(struct tern_dhcp_client *c);

enum tern_dhcp_state dhcp_client_state(const struct tern_dhcp_client *c);
const struct tern_dhcp_lease *dhcp_client_lease(const struct tern_dhcp_client *c);
const struct dhcp_client_stats *dhcp_client_stats(const struct tern_dhcp_client *c);
const char *dhcp_state_name(enum tern_dhcp_state st);

/* "10.0.0.50/24 from 10.0.0.1, router 10.0.0.1, dns 10.0.0.1, 3600 s" (the
 * router and dns parts only when present). Returns snprintf's result. */
int dhcp_lease_format(const struct tern_dhcp_lease *l, char *buf, size_t cap);

#endif
