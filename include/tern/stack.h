/*
 * tern/stack.h - a tern stack: interfaces, ARP, IPv4, ICMP.
 *
 * One struct tern_stack holds all protocol state; two stacks in one process
 * share nothing. The stack is sans-IO: frames arrive from its devices' rx
 * handlers, leave through tern_device_send(), and time comes from the loop
 * it was created on (tern_loop_now() at each entry point, timers armed on
 * the loop). All tables are bounded by struct tern_config; memory is
 * allocated in tern_stack_new() and tern_stack_add_iface(), never per packet.
 *
 * RFCs: 826 (ARP), 791 and 1122 s3 (IPv4), 792 and 1122 s3.2.2 (ICMP),
 * 1812 s4.3.2.8 (ICMP rate limiting), 815 (reassembly).
 * Thread safety: a stack belongs to the thread that runs its loop.
 */
#ifndef TERN_STACK_H
#define TERN_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/api.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/wire/icmp.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/ipv6.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_MAX_IFACES 8
#define TERN_MAX_ROUTES 16384 /* the table grows to this on demand (route.c) */

enum tern_ecmp_mode { TERN_ECMP_FLOW = 0, TERN_ECMP_PACKET = 1 };

/* Limits and timers; tern_config_defaults() documents each default. */
struct tern_config {
    uint64_t seed;                /* keys every random choice (IP IDs, echo ids, ...);
                                   * tools pass OS randomness, the simulator its seed */
    uint8_t default_ttl;          /* 64 (RFC 1700 / Linux) */
    /* ARP, RFC 826 + RFC 1122 s2.3.2 */
    uint32_t arp_cache_max;       /* 256 entries; the oldest is evicted beyond */
    uint32_t arp_queue_per_entry; /* 4 packets may wait for one resolution */
    uint32_t arp_queue_total;     /* 64 packets may wait in all */
    uint64_t arp_reachable_us;    /* 30 s: an entry is used without re-asking */
    uint64_t arp_stale_us;        /* 60 s after that, an unused entry is removed */
    uint64_t arp_retry_us;        /* 1 s between requests (Linux's retrans_time) */
    uint32_t arp_max_requests;    /* 3 requests, then the queued packets are dropped */
    /* Reassembly, RFC 791 s3.2 / RFC 815; ATTACKS 10-15 */
    uint32_t reasm_max_bytes;     /* 256 KiB held in all */
    uint32_t reasm_max_datagrams; /* 64 datagrams in progress; the oldest is evicted */
    uint64_t reasm_timeout_us;    /* 30 s */
    /* Sockets and ports (tern/socket.h) */
    uint32_t max_sockets;         /* 1024 sockets per stack (UDP and TCP together) */
    uint16_t ephemeral_lo;        /* 49152 (RFC 6335 s6) ... */
    uint16_t ephemeral_hi;        /* ... 65535; chosen per RFC 6056 */
    bool privileged_ports;        /* false; true: ports < 1024 need TERN_SO_PRIVILEGED */
    uint32_t udp_rcvbuf;          /* 65536 bytes queued per UDP socket by default */
    /* ICMP errors we send: a token bucket, RFC 1812 s4.3.2.8 */
    uint32_t icmp_rate_per_s;     /* 100 tokens a second */
    uint32_t icmp_burst;          /* 50 */
    /* TCP (RFC 9293), src/core/tcp*.c */
    uint32_t tcp_sndbuf;          /* 262144 bytes of send queue per connection */
    uint32_t tcp_rcvbuf;          /* 262144 bytes of receive queue (the window) */
    uint64_t tcp_msl_us;          /* 30 s: TIME_WAIT lasts 2*MSL = 60 s (Linux's
                                   * TCP_TIMEWAIT_LEN; RFC 9293 s3.4.2 suggests 2 min) */
    uint64_t tcp_tw_mem;          /* 16 MiB of TIME_WAIT records (64 B each, with their
                                   * hash: ~250k connections); beyond, the oldest is
                                   * recycled */
    /* TCP buffer memory, bytes of ring chunks held by all connections
     * (src/core/ringbuf.c; as Linux's tcp_mem, docs/architecture.md
     * "Buffers on demand"): over tcp_mem_pressure the stack is under
     * pressure until back below tcp_mem_low - new windows stay small and
     * new connections get 64 KiB rings; at tcp_mem_high out-of-order data
     * is pruned first, then new data refused (data inside a window
     * already offered is still taken). */
    uint64_t tcp_mem_low;         /* 192 MiB */
    uint64_t tcp_mem_pressure;    /* 256 MiB */
    uint64_t tcp_mem_high;        /* 384 MiB */
    uint32_t tcp_syn_backlog;     /* 128 half-open per listener; beyond, SYN cookies */
    uint64_t tcp_user_timeout_us; /* 300 s (RFC 9293 s3.8.4 / RFC 5482): no progress -> abort */
    uint64_t tcp_rto_min_us;      /* 200 ms as Linux (RFC 6298 s2.4 says 1 s: DEVIATION) */
    char tcp_cc[16];              /* congestion control of new connections: "" or "cubic"
                                   * (RFC 9438, the default), "newreno" (RFC 5681/6582) */
    /* Forwarding, RFC 1812 (src/core/forward.c) */
    bool ip_forward;              /* false (a host); true: forward datagrams not for us */
    enum tern_ecmp_mode ecmp;     /* TERN_ECMP_FLOW: routes sharing a prefix are chosen by
                                   * a keyed hash of the 5-tuple; TERN_ECMP_PACKET: per
                                   * packet from the stack's generator (reorders flows) */
    /* Path MTU discovery, RFC 1191 (and RFC 4821 in TCP) */
    uint32_t pmtu_max;            /* 64 destinations cached; the oldest is evicted beyond */
    uint64_t pmtu_timeout_us;     /* 10 min (RFC 1191 s6.3): then the route MTU again */
    /* Multicast, RFC 3376 (src/core/igmp.c) */
    uint32_t mcast_groups;        /* 32 groups per interface (joined or reporting a leave);
                                   * a join past it fails (TERN_E_NOSPC) */
    /* IPv6 (tern/stack6.h) */
    bool ipv6;                    /* false; true: IPv6 with a link-local address per
                                   * Ethernet interface, NDP, SLAAC */
    bool ipv6_eui64;              /* false: RFC 7217 stable IIDs; true: EUI-64 from the MAC */
    uint8_t ipv6_dad_transmits;   /* 1 (RFC 4862 s5.1 DupAddrDetectTransmits); 0: no DAD */
};

TERN_API void tern_config_defaults(struct tern_config *cfg);

struct tern_stack;

/* NULL if cfg is invalid or memory is short. The stack keeps `loop`. */
TERN_API struct tern_stack *tern_stack_new(const struct tern_config *cfg, struct tern_loop *loop);
/* Frees the stack; its devices stay the caller's (destroy them after). */
TERN_API void tern_stack_free(struct tern_stack *s);

struct tern_iface_config {
    uint32_t addr;        /* host order; 0 = no address yet */
    uint8_t prefix_len;   /* 0..32 */
    uint16_t mtu;         /* 0 = the device's */
    uint8_t mac[6];       /* all zero = the device's */
    bool up;              /* up at once (sends a gratuitous ARP on Ethernet) */
};

/* Attaches dev (installs its rx handler) and the connected route.
 * Returns the interface index (>= 0) or a negative enum tern_err. */
TERN_API int tern_stack_add_iface(struct tern_stack *s, struct tern_device *dev,
                                  const struct tern_iface_config *cfg);
TERN_API int tern_iface_set_up(struct tern_stack *s, int ifindex, bool up);
TERN_API int tern_iface_get(struct tern_stack *s, int ifindex, struct tern_iface_config *out);
/* Sets (addr != 0) or clears (addr 0) an interface's address and replaces
 * its connected route (DHCP uses this). */
TERN_API int tern_iface_set_addr(struct tern_stack *s, int ifindex, uint32_t addr, uint8_t prefix_len);
/* RFC 5227 s2.1.1 address probe: ARP requests with sender address 0 asking
 * for `addr`; fn(ctx, in_use) runs once, with in_use true if any host
 * answered or probed for the same address. TERN_OK or a negative error. */
TERN_API int tern_arp_probe(struct tern_stack *s, int ifindex, uint32_t addr,
                            void (*fn)(void *ctx, bool in_use), void *ctx);
/* Cancels the probe running on ifindex for this ctx; its fn is never called.
 * Harmless if none is running. */
TERN_API void tern_arp_probe_cancel(struct tern_stack *s, int ifindex, void *ctx);

/* Routes: longest-prefix match over connected, static and default (prefix 0)
 * routes. gateway 0 = directly connected. Adding a route whose dst/prefix is
 * already there with another gateway or interface adds a member to that
 * prefix's equal-cost group (ECMP, at most 8; cfg.ecmp picks among them);
 * adding an identical route is a no-op; del removes the whole group. */
TERN_API int tern_route_add(struct tern_stack *s, uint32_t dst, uint8_t prefix_len, uint32_t gateway,
                            int ifindex);
TERN_API int tern_route_del(struct tern_stack *s, uint32_t dst, uint8_t prefix_len);
/* Next hop and interface for dst, or TERN_E_INVAL when no route matches.
 * Among an ECMP group it hashes dst alone (never draws from the generator);
 * the stack's own traffic and forwarding hash the whole flow. */
TERN_API int tern_route_lookup(struct tern_stack *s, uint32_t dst, uint32_t *next_hop, int *ifindex);

/* A random 64-bit value from the stack's generator: SipHash-2-4 of a
 * counter under the stack's secret key (derived from cfg.seed), so outputs
 * do not reveal later ones (ATTACKS G4). Apps draw DNS IDs, DHCP xids and
 * the like from here; the same seed replays the same values. */
TERN_API uint64_t tern_stack_random(struct tern_stack *s);

/* Counters; every dropped frame is counted under exactly one reason. */
struct tern_stats {
    struct {
        uint64_t rx, tx, drop_short, drop_not_for_us, drop_unknown_type;
    } eth;
    struct {
        uint64_t rx, tx_request, tx_reply, drop_short, drop_unsupported, drop_bad_sender,
            conflicts, cache_evictions, queue_drops, resolve_failures;
    } arp;
    struct {
        uint64_t rx, tx, delivered, drop_short, drop_version, drop_len, drop_csum, drop_opt,
            drop_martian, drop_not_for_us, drop_no_route, drop_unknown_proto, drop_df_too_big,
            frag_rx, frag_tx, reasm_ok, reasm_drop, reasm_timeout, reasm_evicted;
        /* Forwarding (cfg.ip_forward, RFC 1812): forwarded datagrams (in
         * fragments: fwd_fragmented too); drops: TTL expired (time exceeded
         * sent), no route (net unreachable sent), DF and too big for the
         * next hop (fragmentation needed sent), fwd_errors (the output
         * path was busy or the device refused). ARP failures count in
         * arp.queue_drops (host unreachable sent). fwd_nat_drop: refused
         * by the NAT or firewall (tern/nat.h counts why). */
        uint64_t forwarded, fwd_fragmented, drop_ttl, fwd_no_route, fwd_needfrag, fwd_errors,
            fwd_nat_drop;
    } ip;
    struct {
        uint64_t rx, tx, drop_short, drop_csum, echo_requests, echo_replies_tx,
            echo_replies_rx, errors_rx, errors_ignored, errors_tx, errors_rate_limited,
            ignored_types;
    } icmp;
    struct {
        /* rx: datagrams handed to UDP; tx: datagrams sent; drop_*: malformed
         * (ATTACKS 22); no_port: no socket (port unreachable sent unless
         * broadcast); rcvbuf_errors: a socket's receive queue was full. */
        uint64_t rx, tx, drop_csum, drop_len, no_port, rcvbuf_errors;
    } udp;
    struct {
        /* rx/tx: segments; drop_bad: malformed (ATTACKS 23-28); no_conn: no
         * socket (RST sent unless the segment was a RST); the rest count
         * RFC 5961 / RFC 7323 / RFC 4987 events. */
        uint64_t rx, tx, drop_csum, drop_bad, no_conn, rst_tx, retransmits, timeouts,
            challenge_acks, challenge_limited, paws_drops, syncookies_tx, syncookies_ok,
            syncookies_bad, syn_dropped, tw_recycled, icmp_ignored;
        /* RFC 8985: segments RACK marked lost, tail loss probes sent,
         * probes that repaired a loss (s7.4), D-SACKs received (RFC 2883). */
        uint64_t rack_lost, tlp_probes, tlp_recoveries, dsacks_rx;
        /* TIME-WAIT connections reopened by a new SYN (RFC 6191), MSS
         * reductions after a suspected PMTU black hole (RFC 4821 s7.7),
         * congestion responses undone as spurious (RFC 2883 D-SACK /
         * RFC 4015 Eifel). */
        uint64_t tw_reopened, blackhole_mss_downs, spurious_undos;
        /* Buffer memory (cfg tcp_mem_*): entries into the pressure state,
         * out-of-order bytes pruned over tcp_mem_high, segments (or parts)
         * refused for want of buffer memory. */
        uint64_t mem_pressure, ooo_pruned_bytes, mem_drops;
    } tcp;
    struct {
        /* IGMP messages in and out (drop_bad: malformed or misaddressed;
         * queries: heard; reports_tx, leaves_tx: v1/v2/v3 reports, v2
         * leaves), filtered: datagrams for groups not joined on their
         * interface (frames whose multicast MAC maps no joined group count
         * in eth.drop_not_for_us, RFC 1112 s6.4), groups_full: joins
         * refused at cfg.mcast_groups (ATTACKS 64). */
        uint64_t rx, tx, drop_bad, queries, reports_tx, leaves_tx, filtered, groups_full;
    } igmp;
};
TERN_API const struct tern_stats *tern_stack_stats(const struct tern_stack *s);

/* Options for locally generated datagrams. */
struct tern_ip_out {
    uint32_t src;     /* 0 = the outgoing interface's address */
    uint32_t dst;
    uint8_t proto;
    uint8_t ttl;      /* 0 = default_ttl */
    uint8_t tos;
    bool df;          /* don't fragment: too big for the MTU -> TERN_E_BAD_LEN */
};

/* Sends payload[0..len) as one IPv4 datagram (fragmented if larger than the
 * MTU and df is off). The payload is copied once. Returns 0 (sent, or queued
 * behind ARP) or a negative enum tern_err. */
TERN_API int tern_ip_output(struct tern_stack *s, const struct tern_ip_out *o, const uint8_t *payload,
                            size_t len);

/* Upper-layer protocols (UDP and TCP register here in later modules). */
struct tern_proto_handler {
    /* A datagram for us (reassembled, checksums of lower layers verified). */
    void (*input)(void *ctx, const struct tern_ipv4_repr *ip, const uint8_t *payload,
                  size_t len, int ifindex);
    /* A checked ICMP error quoting one of our datagrams of this protocol. */
    void (*icmp_error)(void *ctx, uint8_t type, uint8_t code, uint16_t next_mtu,
                       const struct tern_icmp_quote *q);
    void *ctx;
};
TERN_API int tern_stack_register_proto(struct tern_stack *s, uint8_t proto,
                                       const struct tern_proto_handler *h);

/* ICMP echo endpoints: what ping uses (the sockets module folds this into
 * its socket API later). */
struct tern_echo_event {
    bool is_error;            /* false: an echo reply; true: an ICMP error about our request */
    uint32_t from;            /* who sent it */
    uint16_t id, seq;
    uint8_t ttl;              /* of the reply datagram */
    uint8_t type, code;       /* ICMP type/code (errors) */
    uint16_t next_mtu;        /* frag needed */
    const uint8_t *data;      /* echo payload (replies) */
    size_t len;
    bool v6;                  /* ICMPv6 (tern_echo6_send): from6 holds the sender */
    struct tern_ipv6_addr from6;
};
typedef void (*tern_echo_fn)(void *ctx, const struct tern_echo_event *ev);
/* Binds an echo id (0 = pick an unused random one). Returns the id or a
 * negative enum tern_err. */
TERN_API int tern_echo_bind(struct tern_stack *s, uint16_t id, tern_echo_fn fn, void *ctx);
TERN_API void tern_echo_unbind(struct tern_stack *s, uint16_t id);
TERN_API int tern_echo_send(struct tern_stack *s, const struct tern_ip_out *o, uint16_t id, uint16_t seq,
                            const uint8_t *data, size_t len);

/* ICMP error observers (traceroute, tests): every checked ICMP error that
 * reaches this stack (its inner datagram is one we sent) is also shown to
 * each observer, after the normal dispatch - also when no socket or echo
 * id owns the datagram (UDP sent with tern_ip_output), and for the local
 * "host unreachable" when ARP gives up on a queued datagram (from = our
 * address). An observer may unobserve from inside its callback. At most
 * TERN_ICMP_OBSERVERS. */
#define TERN_ICMP_OBSERVERS 4
struct tern_icmp_event {
    uint32_t from;                   /* the error's source address */
    uint8_t type, code, ttl;         /* ttl: of the datagram carrying the error */
    uint16_t next_mtu;               /* frag needed */
    const struct tern_icmp_quote *q; /* the quoted datagram (valid for the call) */
};
typedef void (*tern_icmp_fn)(void *ctx, const struct tern_icmp_event *ev);
/* Returns a handle >= 0 or TERN_E_NOMEM (all slots taken). */
TERN_API int tern_icmp_observe(struct tern_stack *s, tern_icmp_fn fn, void *ctx);
TERN_API void tern_icmp_unobserve(struct tern_stack *s, int handle);

/* Path MTU for dst: the cached RFC 1191 value if one is known and fresh,
 * else the MTU of the route's interface; TERN_E_INVAL without a route. */
TERN_API int tern_pmtu_get(struct tern_stack *s, uint32_t dst);

#ifdef __cplusplus
}
#endif
#endif
