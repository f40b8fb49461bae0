/*
 * tern/nat.h - NAPT (RFC 4787 UDP, RFC 5382 TCP, RFC 5508 ICMP, RFC 7857)
 * and a stateful firewall for a forwarding stack (cfg.ip_forward), in
 * src/core/nat.c (the table and the translation) and src/core/nat_stack.c
 * (where the stack calls it). docs/nat.md says what is done and why.
 *
 * A NAT interface is an "outside" interface: datagrams routed out of it
 * from any other interface get its address as their source (and a mapped
 * port), replies arriving on it for that address are translated back.
 * A firewall interface gets default-deny for new inbound flows arriving on
 * it, with ordered allow/deny rules; flows started from inside (the table)
 * and ICMP errors about them pass. An interface may be both.
 */
#ifndef TERN_NAT_H
#define TERN_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/api.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;

/* RFC 4787 s4.1 (mapping) and s5 (filtering) behaviours. */
enum tern_nat_behavior {
    TERN_NAT_EI = 0,  /* endpoint-independent */
    TERN_NAT_AD = 1,  /* address-dependent */
    TERN_NAT_APD = 2, /* address-and-port-dependent */
};

struct tern_nat_config {
    enum tern_nat_behavior mapping;   /* TERN_NAT_EI (RFC 4787 REQ-1, RFC 5382 REQ-1) */
    enum tern_nat_behavior filtering; /* TERN_NAT_APD (RFC 4787 REQ-8: the stringent choice) */
    bool port_parity;                 /* false; RFC 4787 REQ-4 (port parity preservation) */
    uint16_t port_lo, port_hi;        /* 1024..65535: where random ports are drawn */
    uint64_t udp_timeout_us;          /* 300 s (RFC 4787 REQ-5: >= 120 s, 300 s recommended) */
    uint64_t tcp_est_timeout_us;      /* 7440 s (RFC 5382 REQ-5: >= 2 h 4 min) */
    uint64_t tcp_trans_timeout_us;    /* 240 s (RFC 5382 REQ-5, RFC 7857 s2.2) */
    uint64_t icmp_timeout_us;         /* 60 s (RFC 5508 REQ-1: >= 60 s) */
    uint32_t max_entries;             /* 16384 sessions in all */
    uint32_t max_per_host;            /* 2048 per inside host (RFC 6888 REQ-4) */
};

TERN_API void tern_nat_config_defaults(struct tern_nat_config *c);

/* Makes ifindex an outside (NAT) interface. The first call sets the
 * table's configuration (c NULL: defaults); later calls add interfaces
 * with the same configuration. 0 or a negative enum tern_err. */
TERN_API int tern_nat_enable(struct tern_stack *s, int ifindex, const struct tern_nat_config *c);

/* The address datagrams leaving through NAT interface ifindex are
 * translated to (0: the interface's own, the default). It must be one of
 * the router's addresses, on a NAT interface whose network routes it back
 * (docs/nat.md: the demo NATs both uplinks to one of them). */
TERN_API int tern_nat_set_external(struct tern_stack *s, int ifindex, uint32_t addr);

/* Port forwarding (DNAT): new inbound flows to (proto, ext_port) on any
 * NAT interface go to addr:port inside. proto 6 or 17. */
TERN_API int tern_nat_forward_add(struct tern_stack *s, uint8_t proto, uint16_t ext_port, uint32_t addr,
                                  uint16_t port);

/* One firewall rule: matches when every given field matches (proto 0 =
 * any, masks 0 = any address, dport_hi 0 = any port). */
struct tern_fw_rule {
    bool allow;
    uint8_t proto;
    uint32_t src, src_mask, dst, dst_mask; /* host order */
    uint16_t dport_lo, dport_hi;
};

/* Turns the firewall on for ifindex (default deny of new inbound flows)
 * and appends the rule if r is not NULL. Rules are tried in the order
 * added; the first match decides. 0 or a negative enum tern_err. */
TERN_API int tern_fw_rule_add(struct tern_stack *s, int ifindex, const struct tern_fw_rule *r);
/* Hits of rule k (in the order added, across interfaces), 0 if none. */
TERN_API uint64_t tern_fw_rule_hits(const struct tern_stack *s, int k);

struct tern_nat_stats {
    uint64_t created, expired, evicted;   /* table entries */
    uint64_t drop_filter;    /* inbound refused by the filtering behaviour */
    uint64_t drop_quota;     /* new flow refused: table or per-host quota full */
    uint64_t drop_nomatch;   /* ICMP error or packet quoting no session */
    uint64_t out, in;        /* datagrams translated each way */
    uint64_t hairpin;        /* datagrams hairpinned (RFC 4787 REQ-9) */
    uint64_t icmp_errors;    /* ICMP errors translated (RFC 5508 REQ-4/5) */
    uint64_t fw_allow, fw_deny; /* new inbound flows by the firewall's rules */
    uint64_t entries;        /* live now */
};
/* NULL when the stack has no NAT and no firewall. */
TERN_API const struct tern_nat_stats *tern_nat_stats(struct tern_stack *s);

/* The inside endpoint of the session using external endpoint (ext_addr,
 * ext_port) toward remote (rem_addr, rem_port), proto 6 or 17: true and
 * *int_addr, *int_port set, or false (no such session). For tools that
 * follow one connection on both sides of the NAT (the simulator's flows). */
TERN_API bool tern_nat_inside_of(struct tern_stack *s, uint8_t proto, uint32_t ext_addr,
                                 uint16_t ext_port, uint32_t rem_addr, uint16_t rem_port,
                                 uint32_t *int_addr, uint16_t *int_port);

/* The table as `conntrack -L` prints it, one line per entry, into buf
 * (NUL-terminated, truncated to cap). Returns the length it needed. */
TERN_API size_t tern_nat_list(struct tern_stack *s, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
