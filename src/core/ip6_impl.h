/*
 * src/core/ip6_impl.h - the IPv6 core's private state and the prototypes
 * its files share: addresses and DAD (ipv6_addr.c), the neighbour cache
 * (nd6.c), input and output (ipv6_in.c, ipv6_out.c), the routing table and
 * path MTUs (route6.c), ICMPv6 (icmp6.c) and router advertisements (ra6.c).
 *
 * Everything hangs off s->v6 (NULL when cfg.ipv6 is off: the IPv4 stack
 * then behaves exactly as before). All tables are fixed arrays allocated in
 * ip6_init; nothing is allocated per packet.
 */
#ifndef TERN_CORE_IP6_IMPL_H
#define TERN_CORE_IP6_IMPL_H

#include "core/stack_impl.h"
#include "tern/stack6.h"
#include "tern/wire/icmpv6.h"
#include "tern/wire/ipv6.h"

#define IP6_ADDRS_MAX 8      /* per interface: link-local, static, SLAAC */
#define IP6_PREFIXES_MAX 16  /* on-link prefixes learned from RAs, per stack */
#define IP6_ROUTERS_MAX 4    /* default routers (RFC 4861 s6.3.4: a bound is allowed) */
#define IP6_ROUTES_MAX 256   /* static and connected routes */
#define IP6_PMTU_MAX 64      /* RFC 8201 cache entries */
#define IP6_RDNSS_MAX 3      /* RFC 8106 s5.3.1: MAXRTRADVDNS... a resolver keeps 3 */
#define IP6_SLAAC_MAX 4      /* SLAAC addresses per interface (RA floods) */
#define IP6_NIL UINT32_MAX

/* RFC 4861 s10 constants */
#define ND_MAX_MULTICAST_SOLICIT 3
#define ND_MAX_UNICAST_SOLICIT 3
#define ND_DELAY_FIRST_PROBE_US 5000000ull
#define ND_RETRANS_US 1000000ull
#define ND_REACHABLE_US 30000000ull
#define ND_MAX_RTR_SOLICITATIONS 3
#define ND_RTR_SOLICITATION_INTERVAL_US 4000000ull
#define ND_MAX_RTR_SOLICITATION_DELAY_US 1000000ull

enum { A6_FREE = 0, A6_TENTATIVE = TERN_ADDR6_TENTATIVE, A6_PREFERRED = TERN_ADDR6_PREFERRED,
       A6_DEPRECATED = TERN_ADDR6_DEPRECATED, A6_DUPLICATE = TERN_ADDR6_DUPLICATE };

struct ip6_addr_ent {
    struct tern_ipv6_addr a;
    uint8_t plen;
    uint8_t state;          /* A6_* */
    uint8_t origin;         /* TERN_ADDR6_LINKLOCAL, _STATIC, _SLAAC */
    uint8_t dad_sent;       /* NS sent for DAD so far */
    uint8_t dad_counter;    /* RFC 7217 s6 DAD_Counter (regenerations) */
    uint64_t dad_next;      /* TENTATIVE: next NS, or the end of DAD */
    uint64_t valid_until;   /* UINT64_MAX: infinite */
    uint64_t preferred_until;
};

struct ip6_iface {
    bool enabled;
    struct ip6_addr_ent addr[IP6_ADDRS_MAX];
    uint32_t mtu;           /* link MTU for IPv6 (an RA's MTU option may lower it) */
    uint8_t hop_limit;      /* CurHopLimit (RFC 4861 s6.3.2) */
    uint64_t reachable_us, retrans_us;
    uint8_t rs_sent;        /* router solicitations sent (RFC 4861 s6.3.7) */
    uint64_t rs_next;       /* 0: none pending */
};

enum { ND_FREE = 0, ND_INCOMPLETE, ND_REACHABLE, ND_STALE, ND_DELAY, ND_PROBE };

struct nd_ent {
    struct tern_ipv6_addr ip;
    uint8_t mac[6];
    uint8_t state;          /* ND_* (RFC 4861 s7.3.2) */
    bool router;            /* IsRouter flag */
    int ifindex;
    uint8_t probes;         /* solicitations sent in this state */
    uint64_t next;          /* INCOMPLETE/PROBE: next NS; REACHABLE: goes STALE;
                             * DELAY: goes PROBE; STALE: removed (gc) */
    uint64_t used;          /* last use or update, for eviction */
    uint32_t hnext;         /* hash chain */
    uint32_t qhead, qtail, qlen; /* frames waiting for this resolution */
    uint32_t qdgrams;       /* ... of that many datagrams */
};

struct nd_qslot {
    uint32_t next;
    uint32_t len;
    uint32_t tag;           /* the datagram it belongs to (fragments share one) */
};

struct ip6_route {
    struct tern_ipv6_addr dst, gw;  /* gw :: = on-link */
    uint8_t plen;
    bool used, connected;
    int ifindex;
};

struct ip6_prefix {        /* RFC 4861 s6.3.4 prefix list (on-link prefixes) */
    struct tern_ipv6_addr p;
    uint8_t plen;
    bool used;
    int ifindex;
    uint64_t until;
};

struct ip6_router {        /* Default Router List */
    struct tern_ipv6_addr a;
    int ifindex;
    bool used;
    uint64_t until;
};

struct ip6_pmtu {
    struct tern_ipv6_addr dst;
    uint32_t mtu;
    bool used;
    uint64_t when;
};

struct ip6_state {
    struct ip6_iface ifs[TERN_MAX_IFACES];
    struct tern_stats6 st;
    /* neighbour cache (nd6.c), bounded as ARP's */
    struct nd_ent *nd;
    uint32_t *nd_bucket, nd_nbuckets, nd_count, nd_max;
    uint32_t nd_hand;       /* eviction clock position */
    struct nd_qslot *qslot;
    uint8_t *qdata;
    size_t qstride;
    uint32_t qfree, qused;
    uint32_t tx_tag;        /* bumped per datagram sent: its fragments share the tag */
    /* routes (route6.c) */
    struct ip6_route routes[IP6_ROUTES_MAX];
    struct ip6_prefix prefixes[IP6_PREFIXES_MAX];
    struct ip6_router routers[IP6_ROUTERS_MAX];
    struct ip6_pmtu pmtu[IP6_PMTU_MAX];
    struct tern_ipv6_addr rdnss[IP6_RDNSS_MAX];
    uint64_t rdnss_until[IP6_RDNSS_MAX];
    /* reassembly: the IPv4 engine, keyed by a hash of (src, dst, id) */
    struct tern_reasm *reasm;
    uint8_t *txbuf;         /* 14 + 65535: a frame being built */
    uint8_t *fragbuf;       /* 14 + 65535: fragments of it */
    uint8_t *icmpbuf;       /* 65535: an ICMPv6 message being built */
    bool tx_busy;
    uint32_t frag_id;       /* RFC 7739: per-destination ids from a keyed hash + counter */
    struct tern_timer timer;
    uint64_t timer_when;
    uint64_t icmp_tokens, icmp_last;
    tern_addr6_fn notify;
    void *notify_ctx;
    /* the datagram being delivered (for errors from a transport) */
    const struct tern_ipv6_repr *cur_ip;
};

/* ipv6_addr.c */
int ip6_init(struct tern_stack *s);
void ip6_fini(struct tern_stack *s);
void ip6_iface_up(struct tern_stack *s, struct tern_iface *ifc, bool up, uint64_t now);
struct ip6_addr_ent *ip6_addr_find(struct tern_stack *s, int ifindex,
                                   const struct tern_ipv6_addr *a);
/* An address of ours (any state); *ifindex the interface. */
struct ip6_addr_ent *ip6_addr_ours(struct tern_stack *s, const struct tern_ipv6_addr *a,
                                   int *ifindex);
/* A usable (preferred or deprecated) address of ours on ifindex (-1: any). */
bool ip6_addr_usable(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a);
/* RFC 6724-lite source selection for dst out of ifindex: same scope,
 * preferred before deprecated, longest matching prefix. */
bool ip6_src_select(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *dst,
                    struct tern_ipv6_addr *out);
/* NS/NA about a tentative address (RFC 4862 s5.4.3, s5.4.4). */
void ip6_dad_ns_rx(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *target,
                   const struct tern_ipv6_addr *src);
void ip6_dad_na_rx(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *target);
/* Adds (or refreshes) an address; lifetimes in seconds (UINT32_MAX: infinite). */
int ip6_addr_add(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a, uint8_t plen,
                 uint8_t origin, uint32_t valid_s, uint32_t pref_s, uint64_t now);
/* RFC 7217 IID (or EUI-64) for prefix on ifc. */
void ip6_make_iid(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *prefix,
                  uint8_t dad_counter, struct tern_ipv6_addr *out);
void ip6_timer_at(struct tern_stack *s, uint64_t when);
/* Receive filter (RFC 4861 s7.2.1, RFC 4291 s2.8): the multicast groups an
 * interface listens to for NDP - all-nodes and the solicited-node group of
 * each of its addresses. The multicast branch adds joined groups here. */
bool ip6_mcast_listening(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *g);
bool ip6_mcast_mac_listening(struct tern_stack *s, int ifindex, const uint8_t mac[6]);

/* nd6.c */
int nd6_init(struct tern_stack *s);
void nd6_fini(struct tern_stack *s);
int nd6_grow_queue(struct tern_stack *s, uint32_t mtu);
/* frame[0..len): Ethernet header room + the IPv6 datagram. Sends or queues. */
int nd6_output(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *next_hop,
               uint8_t *frame, size_t len, uint64_t now);
void nd6_ns_input(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
                  const struct tern_nd_repr *nd, uint64_t now);
void nd6_na_input(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
                  const struct tern_nd_repr *nd, uint64_t now);
/* RFC 4861 s6.3.4 / s7.2.3: a source link-layer option from a router etc. */
void nd6_learn(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *ip,
               const uint8_t mac[6], bool is_router, uint64_t now);
void nd6_tick(struct tern_stack *s, uint64_t now);
void nd6_flush_iface(struct tern_stack *s, int ifindex);
size_t nd6_queued(const struct tern_stack *s);
/* Sends an NS for target (src :: for DAD) to dst (multicast or unicast). */
void nd6_send_ns(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *target,
                 const struct tern_ipv6_addr *dst, bool dad, uint64_t now);
struct nd_ent *nd6_lookup(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *ip);

/* ipv6_out.c */
/* Sends a datagram: header from o, payload[0..len) (already holding the
 * upper-layer checksum). Routes unless o->oif >= 0; fragments when needed. */
int ip6_output(struct tern_stack *s, const struct tern_ip6_out *o, const uint8_t *payload,
               size_t len, uint64_t now);
/* The interface and next hop for o: o->oif when given (link-local and
 * multicast destinations need one unless a single interface runs IPv6),
 * else the routing table. */
int ip6_pick_route(struct tern_stack *s, const struct tern_ip6_out *o, struct tern_iface **ifc,
                   struct tern_ipv6_addr *nh, uint64_t now);
/* ICMPv6 message (type/code/rest + body) from src (:: = choose) to dst. */
int ip6_send_icmp(struct tern_stack *s, int oif, const struct tern_ipv6_addr *src,
                  const struct tern_ipv6_addr *dst, uint8_t hop_limit, uint8_t type, uint8_t code,
                  uint32_t rest, const uint8_t *body, size_t blen, uint64_t now);
/* An ND message (NS, NA, RS) straight to the link: dst on-link. */
int ip6_send_nd(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_addr *src,
                const struct tern_ipv6_addr *dst, uint8_t type, uint32_t rest, const uint8_t *body,
                size_t blen, uint64_t now);
/* Link output of a frame whose datagram is at frame + 14. */
int ip6_link_output(struct tern_stack *s, struct tern_iface *ifc,
                    const struct tern_ipv6_addr *next_hop, const struct tern_ipv6_addr *dst,
                    uint8_t *frame, size_t len, uint64_t now);

/* ipv6_in.c */
void ipv6_input(struct tern_stack *s, struct tern_iface *ifc, const uint8_t *p, size_t len,
                bool link_mcast, uint64_t now);
uint64_t ip6_reasm_expire(struct tern_stack *s, uint64_t now);

/* route6.c */
int route6_lookup(struct tern_stack *s, const struct tern_ipv6_addr *dst,
                  struct tern_ipv6_addr *next_hop, int *ifindex, uint64_t now);
bool route6_on_link(struct tern_stack *s, int ifindex, const struct tern_ipv6_addr *a, uint64_t now);
uint32_t pmtu6_get(struct tern_stack *s, const struct tern_ipv6_addr *dst, uint32_t link_mtu,
                   uint64_t now);
void pmtu6_learn(struct tern_stack *s, const struct tern_ipv6_addr *dst, uint32_t mtu, uint64_t now);
bool ip6_prefix_match(const struct tern_ipv6_addr *a, const struct tern_ipv6_addr *p, uint8_t plen);
void ip6_prefix_mask(struct tern_ipv6_addr *a, uint8_t plen);
void route6_flush_iface(struct tern_stack *s, int ifindex);
void route6_tick(struct tern_stack *s, uint64_t now, uint64_t *next);

/* icmp6.c */
void icmp6_input(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
                 const uint8_t *p, size_t len, bool link_mcast, uint64_t now);
/* An error about the datagram dgram[0..dlen) (its IPv6 header first), unless
 * RFC 4443 s2.4 (e) forbids it or the rate limit says no. */
void icmp6_send_error(struct tern_stack *s, int ifindex, const uint8_t *dgram, size_t dlen,
                      bool link_mcast, uint8_t type, uint8_t code, uint32_t rest, uint64_t now);

/* Our own echo request (id, seq) could not be sent (type/code): tells its
 * owner, as an error from `from` would. */
void icmp6_echo_local_error(struct tern_stack *s, const struct tern_ipv6_addr *from, uint16_t id,
                            uint16_t seq, uint8_t type, uint8_t code);

/* ra6.c */
void ra6_input(struct tern_stack *s, struct tern_iface *ifc, const struct tern_ipv6_repr *ip,
               const struct tern_nd_repr *nd, uint64_t now);
void ra6_send_rs(struct tern_stack *s, struct tern_iface *ifc, uint64_t now);

#endif
