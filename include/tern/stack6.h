/*
 * tern/stack6.h - the IPv6 side of a tern stack: addresses (link-local,
 * static, SLAAC) with Duplicate Address Detection, routes, datagram output,
 * ICMPv6 echo and counters.
 *
 * IPv6 runs when struct tern_config's ipv6 is set (tern_config_defaults
 * leaves it off; the tern tools turn it on). Then every Ethernet interface
 * gets a link-local address when it comes up: an RFC 7217 stable opaque
 * interface identifier keyed from the stack's secret (cfg.seed), or the
 * modified EUI-64 of its MAC with cfg.ipv6_eui64. Router advertisements
 * configure SLAAC addresses, default routers, the link MTU and DNS servers.
 *
 * RFCs: 8200 (IPv6), 4861 (Neighbor Discovery), 4862 (SLAAC, DAD), 7217
 * (stable IIDs), 4443 (ICMPv6), 8201 (path MTU), 5095 (RH0), 5722 and 7112
 * (fragments), 8106 (RDNSS).
 */
#ifndef TERN_STACK6_H
#define TERN_STACK6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/api.h"
#include "tern/stack.h"
#include "tern/wire/ipv6.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tern_addr6_state {
    TERN_ADDR6_TENTATIVE = 1,  /* Duplicate Address Detection running */
    TERN_ADDR6_PREFERRED = 2,
    TERN_ADDR6_DEPRECATED = 3, /* preferred lifetime over: kept for existing use */
    TERN_ADDR6_DUPLICATE = 4,  /* DAD found another node using it: never used */
};
enum tern_addr6_origin { TERN_ADDR6_LINKLOCAL = 1, TERN_ADDR6_STATIC = 2, TERN_ADDR6_SLAAC = 3 };

struct tern_addr6_info {
    struct tern_ipv6_addr addr;
    uint8_t prefix_len;
    uint8_t state;             /* enum tern_addr6_state */
    uint8_t origin;            /* enum tern_addr6_origin */
    uint32_t valid_s, preferred_s; /* remaining; UINT32_MAX: infinite */
};

/* Adds a static address (infinite lifetimes) to an interface; it is
 * TENTATIVE until DAD ends (RFC 4862 s5.4). TERN_OK, TERN_E_INVAL (no
 * IPv6, bad address or prefix length), TERN_E_UNSUPPORTED (not an Ethernet
 * interface: no IPv6 over TUN yet), TERN_E_NOMEM (table full). */
TERN_API int tern_stack_add_addr6(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a,
                                  uint8_t prefix_len);
TERN_API int tern_stack_del_addr6(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a);
/* Copies at most max addresses of ifindex into out; returns how many the
 * interface has (may exceed max) or a negative enum tern_err. */
TERN_API int tern_addr6_list(struct tern_stack *s, int ifindex, struct tern_addr6_info *out,
                             size_t max);
/* fn runs when an address changes state: DAD done (PREFERRED), a duplicate
 * found (DUPLICATE: the address is disabled), a SLAAC address added
 * (TENTATIVE) or expired (0). One watcher per stack; NULL removes it. */
typedef void (*tern_addr6_fn)(void *ctx, int ifindex, const struct tern_ipv6_addr *a, int state);
TERN_API void tern_addr6_watch(struct tern_stack *s, tern_addr6_fn fn, void *ctx);

/* Routes: longest-prefix match (RFC 4291 prefixes up to /128), then the
 * on-link prefixes and default routers learned from RAs. gw NULL or ::
 * = on-link. At most 256 routes. */
TERN_API int tern_route6_add(struct tern_stack *s, const struct tern_ipv6_addr *dst, uint8_t prefix_len,
                             const struct tern_ipv6_addr *gw, int ifindex);
TERN_API int tern_route6_del(struct tern_stack *s, const struct tern_ipv6_addr *dst, uint8_t prefix_len);
TERN_API int tern_route6_lookup(struct tern_stack *s, const struct tern_ipv6_addr *dst,
                                struct tern_ipv6_addr *next_hop, int *ifindex);

/* Options for a locally generated IPv6 datagram (what a transport gives
 * with a payload that already holds its checksum, computed over
 * tern_ipv6_pseudo_sum of the src this chooses: pass src explicitly). */
struct tern_ip6_out {
    struct tern_ipv6_addr src; /* :: = chosen for dst (RFC 6724 s5, simplified) */
    struct tern_ipv6_addr dst;
    uint8_t next;              /* upper-layer protocol */
    uint8_t hop_limit;         /* 0 = the interface's (default_ttl or an RA's) */
    uint8_t tclass;
    uint32_t flow;             /* flow label (RFC 6437), 20 bits; 0 = one per (src, dst,
                                * next) from a keyed hash */
    int oif;                   /* >= 0: send out this interface (needed for link-local
                                * and multicast destinations); -1: routed */
    bool dontfrag;             /* too big for the path -> TERN_E_BAD_LEN */
};
TERN_API int tern_ip6_output(struct tern_stack *s, const struct tern_ip6_out *o, const uint8_t *payload,
                             size_t len);
/* The source address tern_ip6_output would choose for dst (oif -1: routed). */
TERN_API int tern_ip6_src_for(struct tern_stack *s, const struct tern_ipv6_addr *dst, int oif,
                              struct tern_ipv6_addr *src);

/* ICMPv6 echo request (RFC 4443 s4.1) with the id of tern_echo_bind;
 * replies and errors reach the bound fn with ev->v6 set (ev->from6). */
TERN_API int tern_echo6_send(struct tern_stack *s, const struct tern_ip6_out *o, uint16_t id,
                             uint16_t seq, const uint8_t *data, size_t len);

/* DNS servers from RAs (RFC 8106 RDNSS) still within their lifetime:
 * copies at most max, returns how many. */
TERN_API int tern_stack_dns6(struct tern_stack *s, struct tern_ipv6_addr *out, size_t max);

/* Path MTU toward dst (RFC 8201): a learned value or the link's; >= 1280. */
TERN_API int tern_pmtu6_get(struct tern_stack *s, const struct tern_ipv6_addr *dst);

struct tern_stats6 {
    uint64_t rx, tx, delivered, drop_short, drop_hdr, drop_ext, drop_rh0, drop_not_for_us,
        drop_no_route, drop_unknown_proto, drop_too_big, frag_rx, frag_tx, reasm_ok, reasm_drop,
        drop_tiny_frag;
    uint64_t icmp_rx, icmp_tx, icmp_drop, echo_requests, errors_tx, errors_rate_limited,
        pkt_too_big_rx;
    uint64_t nd_rx, nd_invalid, ns_tx, na_tx, rs_tx, ra_rx, nd_evictions, nd_queue_drops,
        nd_resolve_failures, dad_duplicates, ra_prefix_drops;
    /* forwarding (cfg.ip_forward) */
    uint64_t forwarded, fwd_hop_limit, fwd_no_route, fwd_too_big, fwd_errors;
};
/* NULL when IPv6 is off. */
TERN_API const struct tern_stats6 *tern_stack_stats6(const struct tern_stack *s);

#ifdef __cplusplus
}
#endif
#endif
