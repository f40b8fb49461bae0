/*
 * src/core/mcast.h - IPv4 multicast host side (igmp.c): the per-interface
 * group table, IGMPv3 membership reports with IGMPv1/v2 compatibility, the
 * receive filter, and socket memberships. Not a public API.
 *
 * Bounds (G3, ATTACKS 64): cfg.mcast_groups groups per interface (joined or
 * still reporting a leave), SOCK_MC_MAX memberships per socket of
 * SOCK_MC_SRC_MAX sources, MC_SRC_MAX sources per interface state; nothing
 * from the wire creates state (a query for a group we are not in is
 * ignored).
 */
#ifndef TERN_CORE_MCAST_H
#define TERN_CORE_MCAST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stack_impl.h"

#define SOCK_MC_MAX 20            /* memberships per socket (Linux IP_MAX_MEMBERSHIPS) */
#define SOCK_MC_SRC_MAX 10        /* sources per socket membership (Linux igmp_max_msf) */
#define MC_SRC_MAX 16             /* an interface's source list; more: EXCLUDE {} */
#define MC_ALL_HOSTS 0xe0000001u  /* 224.0.0.1, joined on every interface (RFC 1112 s4) */
#define MC_ALL_ROUTERS 0xe0000002u
#define MC_IGMP3_ROUTERS 0xe0000016u /* 224.0.0.22 (RFC 3376 s4.2.14) */

/* A filter state (RFC 3376 s3.2): mode TERN_IGMP3_MODE_IS_INCLUDE (1; also
 * 0, the empty state) or _EXCLUDE (2) and a source list. */
struct mc_state {
    uint8_t mode;
    uint8_t n;
    uint32_t src[MC_SRC_MAX];
};

struct mc_group {
    uint32_t group;           /* 0: free slot */
    uint16_t users;           /* socket memberships; 0 while a leave is still being reported */
    uint8_t rexmit;           /* state-change reports still to send (RFC 3376 s5.1) */
    bool mode_chg;            /* the filter mode changed since prev: TO_EX/TO_IN records */
    struct mc_state cur;      /* the interface state */
    struct mc_state prev;     /* before the changes being reported (while rexmit) */
    uint64_t rexmit_at;       /* next one (valid while rexmit) */
    uint64_t resp_at;         /* pending answer to a group-specific query; 0: none */
    /* The sources that answer is about (group-and-source-specific queries,
     * RFC 3376 s5.2); qn 0: the whole state. */
    uint8_t qn;
    uint32_t qsrc[MC_SRC_MAX];
};

struct mc_iface {
    struct mc_group *g;       /* cfg.mcast_groups slots */
    uint32_t count;           /* slots in use */
    uint64_t general_at;      /* pending answer to a general query; 0: none */
    uint64_t v1_until, v2_until; /* older-version querier present (RFC 3376 s7.2.1) */
    uint8_t qrv;              /* robustness variable (last v3 query's QRV, default 2) */
    uint16_t qqi_s;           /* query interval, seconds (default 125) */
};

struct mcast {
    struct mc_iface ifs[TERN_MAX_IFACES];
    struct tern_timer timer;  /* the earliest pending report of any interface */
    uint32_t cap;
};

/* A socket's membership (udp.c, igmp.c): any-source is EXCLUDE {}. */
struct sock_mc {
    uint32_t group;
    int ifindex;
    uint8_t mode;             /* TERN_IGMP3_MODE_IS_INCLUDE / _EXCLUDE */
    uint8_t n;
    uint32_t src[SOCK_MC_SRC_MAX];
};

int mcast_init(struct tern_stack *s);
void mcast_fini(struct tern_stack *s);
/* The receive filter: a datagram for group may come in on ifindex (the
 * all-hosts group, or a group with users there). */
bool mcast_wanted(const struct tern_stack *s, int ifindex, uint32_t group);
/* The IP-level filter: the group and, by its interface state, the source. */
bool mcast_src_wanted(const struct tern_stack *s, int ifindex, uint32_t group, uint32_t src);
/* The same for a destination MAC 01:00:5e:xx (RFC 1112 s6.4 mapping). */
bool mcast_mac_wanted(const struct tern_stack *s, int ifindex, const uint8_t mac[6]);
/* An IGMP message for us (ipv4_in.c). */
void igmp_input(struct tern_stack *s, const struct ip_rx *rx, uint64_t now);
/* The interface a socket's traffic to group uses (IP_MULTICAST_IF, else
 * the route, else the first up interface); NULL if none. */
struct tern_iface *mcast_out_iface(struct tern_stack *s, int mc_ifindex, uint32_t group);
/* A socket lets go of every membership (close). */
struct tern_sock;
void mcast_sock_release(struct tern_sock *sk);
/* Whether sk takes a datagram from src to group on ifindex: by its
 * membership's source filter, else IP_MULTICAST_ALL (Linux). */
bool mcast_sock_allow(const struct tern_sock *sk, uint32_t group, int ifindex, uint32_t src);
/* Interface state for tests: the slot of group on ifindex, NULL if none. */
const struct mc_group *mcast_find(const struct tern_stack *s, int ifindex, uint32_t group);
uint32_t mcast_count(const struct tern_stack *s, int ifindex);

#endif
