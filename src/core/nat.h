/*
 * src/core/nat.h - the NAPT table and translation engine (nat.c) and the
 * stack's hooks into it (nat_stack.c). Not a public API (tern/nat.h is);
 * tests include it to drive the engine on crafted datagrams.
 *
 * The engine works on whole IPv4 datagrams in writable buffers whose header
 * checksum is valid; every rewrite updates the checksums incrementally
 * (RFC 1624 eqn. 3), never recomputing them over data. It never sees a
 * fragment: the stack reassembles what goes through a NAT or firewall
 * interface first (docs/nat.md).
 */
#ifndef TERN_CORE_NAT_H
#define TERN_CORE_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/nat.h"

struct nat;

enum nat_verdict {
    NAT_PASS = 0,    /* translated (or tracked): forward it */
    NAT_NOMATCH = 1, /* inbound: no session, no rule - not the NAT's (e.g. for the router) */
    NAT_DROP = -1,   /* refused (filter, quota, firewall, malformed) */
};

/* Entry TCP states (RFC 5382 s5: transitory vs established). */
enum nat_tcp_state {
    NAT_TCP_SYN_SENT, NAT_TCP_SYN_RECV, NAT_TCP_ESTABLISHED, NAT_TCP_FIN_WAIT,
    NAT_TCP_TIME_WAIT, NAT_TCP_CLOSE,
};

#define NAT_MAX_FW_RULES 64
#define NAT_MAX_FORWARDS 32

/* c NULL: defaults. NULL on bad config or no memory. */
struct nat *nat_new(const struct tern_nat_config *c, uint64_t seed);
void nat_free(struct nat *n);

/* A datagram leaving through an outside interface (from an inside one).
 * translate: rewrite the source to ext_addr and a mapped port (NAT); false:
 * only track the flow for a firewall (the entry maps it to itself). */
int nat_outbound(struct nat *n, uint8_t *d, size_t len, uint32_t ext_addr, bool translate,
                 uint64_t now);
/* A datagram that arrived on an outside interface (ifindex): for a NAT, to
 * its address; for a firewall-only interface, routed through. */
#define NAT_IN_FW 1u      /* the firewall is on for ifindex */
#define NAT_IN_HAIRPIN 2u /* from inside, already through nat_outbound (RFC 4787 REQ-9) */
#define NAT_IN_ROUTED 4u  /* not addressed to the NAT: a firewall-only interface */
int nat_inbound(struct nat *n, uint8_t *d, size_t len, int ifindex, unsigned flags, uint64_t now);
/* A live session or a forwarding rule uses (proto, ext_addr, ext_port)
 * (ICMP: the identifier). */
bool nat_has_mapping(const struct nat *n, uint8_t proto, uint32_t ext_addr, uint16_t ext_port,
                     uint64_t now);
/* Drops expired entries; returns the time of the next expiry (UINT64_MAX
 * when the table is empty). */
uint64_t nat_expire(struct nat *n, uint64_t now);
/* The earliest expiry any datagram set since the last call (UINT64_MAX:
 * none), so the caller's timer can be pulled earlier. */
uint64_t nat_take_soonest(struct nat *n);
/* Next expiry without expiring. */
uint64_t nat_next_expiry(const struct nat *n);

int nat_forward_add(struct nat *n, uint8_t proto, uint16_t ext_port, uint32_t addr,
                    uint16_t port);
int nat_fw_rule_add(struct nat *n, int ifindex, const struct tern_fw_rule *r);
uint64_t nat_fw_rule_hits(const struct nat *n, int k);

struct tern_nat_stats *nat_stats(struct nat *n);
size_t nat_list(const struct nat *n, char *buf, size_t cap, uint64_t now);
const struct tern_nat_config *nat_config(const struct nat *n);

/* Looks up the session of a flow by its inside endpoint, for tests:
 * writes the external port and returns true when one exists. */
bool nat_lookup(const struct nat *n, uint8_t proto, uint32_t int_addr, uint16_t int_port,
                uint32_t rem_addr, uint16_t rem_port, uint64_t now, uint16_t *ext_port,
                int *tcp_state);
/* The session with external endpoint (ea, ep) and remote (ra, rp). */
bool nat_inside_of(const struct nat *n, uint8_t proto, uint32_t ea, uint16_t ep, uint32_t ra,
                   uint16_t rp, uint64_t now, uint32_t *ia, uint16_t *ip);
/* Entries held for inside host addr (the RFC 6888 quota's count). */
uint32_t nat_host_count(const struct nat *n, uint32_t addr);

/* nat_stack.c: the stack's hooks (only called when s->nat is set). */
struct tern_stack;
struct ip_rx;
struct tern_iface;
/* ipv4_input: a datagram from the wire. True when the NAT took it
 * (translated and forwarded, reassembling first, or dropped). */
bool nat_stack_input(struct tern_stack *s, struct ip_rx *rx, uint64_t now);
/* ip_forward: a datagram routed out of oif. Returns rx (untouched), a
 * translated copy in the NAT's buffer, or NULL to drop it. */
const struct ip_rx *nat_stack_forward(struct tern_stack *s, const struct ip_rx *rx,
                                      struct tern_iface *oif, struct ip_rx *tmp, uint64_t now);
/* Whether a fragment must be reassembled before forwarding (it will meet
 * the NAT or firewall). */
bool nat_stack_wants_whole(struct tern_stack *s, const struct ip_rx *rx);
void nat_stack_free(struct tern_stack *s);

#endif
