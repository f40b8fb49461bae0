/*
 * src/core/stack_impl.h - the inside of struct tern_stack and the prototypes
 * the core's files share (stack.c, arp.c, route.c, ipv4_in.c, ipv4_out.c,
 * icmp.c). Not a public API: tests include it for the memory accessor.
 *
 * Memory: everything below is sized from struct tern_config and allocated in
 * tern_stack_new()/tern_stack_add_iface(); nothing is allocated per packet
 * (DESIGN.md principles 1 and 4).
 * Time: entry points (rx handler, timer callbacks, API calls) read
 * tern_loop_now() once and pass `now` down.
 */
#ifndef TERN_CORE_STACK_IMPL_H
#define TERN_CORE_STACK_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/reasm.h"
#include "core/rng.h"
#include "tern/stack.h"

#define TERN_ECHO_MAX 32          /* bound echo ids per stack */
#define TERN_IPID_BUCKETS 256     /* RFC 7739 s5.3: counters selected by a keyed hash */
#define TERN_LOOPQ_BYTES (160u * 1024u) /* loopback queue: >= 2 maximal datagrams */
#define TERN_TX_FRAMES 1024       /* frame buffers out by reference at once */
#define TERN_LOOPQ_MAX 64         /* datagrams waiting on the loopback queue */
#define TERN_ICMP_ERR_MAX 576     /* RFC 1812 s4.3.2.3: an ICMP error fits in 576 bytes */
#define TERN_ARP_NIL UINT32_MAX

struct tern_iface {
    struct tern_stack *s;
    struct tern_device *dev;
    int index;
    bool used, up;
    enum tern_link_type link;
    uint32_t addr;       /* 0: none */
    uint32_t mask;
    uint32_t bcast;      /* directed broadcast; 0 when none (no address, /31, /32) */
    uint8_t prefix_len;
    uint16_t mtu;
    uint8_t mac[6];
};

/* One route (a member of an ECMP group) in the table (route.c). */
struct route_ent {
    uint32_t dst, gateway;
    int ifindex;
    uint8_t prefix_len;
    bool used;
    uint32_t hnext;           /* hash chain; free list when unused */
};

/* The routing table (route.c): a hash over (prefix, length) and the set
 * of lengths in use; the arrays grow by doubling up to TERN_MAX_ROUTES. */
struct route_table {
    struct route_ent *e;      /* cap entries */
    uint32_t *bucket;         /* nbuckets (>= 2 * cap, a power of two) chain heads */
    uint32_t cap, nbuckets, count, free_head;
    uint32_t per_len[33];     /* routes of each prefix length */
    uint64_t lens;            /* bit L: some route of length L */
    /* A filter, by the top slot_bits bits of the address: bit L - 8 set
     * when a route of length L >= 8 may cover that slot. Deletes leave
     * bits set (a stale bit costs one probe, never a wrong answer); the
     * filter is rebuilt when they pile up and when the table grows. */
    uint32_t *slot_lens;
    int slot_bits;            /* 8..14, growing with cap */
    uint32_t stale;           /* deletes since the last rebuild */
    uint64_t mult;            /* multiply-shift hash, from the stack's key */
    int shift;
};

/* A connection's cached route and next hop (route_cache.c): valid while
 * gen equals s->route_gen, which every route, address, interface and ARP
 * change bumps. Zeroed = empty. */
struct route_cache {
    uint64_t gen;
    uint32_t src, dst;        /* as the transport gives them (src may be 0) */
    uint8_t proto;
    bool has_mac;             /* mac is the next hop's, until mac_until */
    uint8_t mac[6];
    int ifindex;
    uint32_t next_hop;
    uint64_t mac_until;
    uint16_t id_off;          /* RFC 7739 s5.3: this flow's ID counter and offset */
    uint16_t id_bucket;
};

#define TERN_ECMP_MAX 8           /* routes in one equal-cost group (route.c) */

/* The flow a datagram belongs to, for ECMP (route.c). Ports are 0 for
 * protocols without them and for every fragment. */
struct route_key {
    uint32_t src, dst;
    uint8_t proto;
    uint16_t sport, dport;
};

/* One RFC 1191 path MTU estimate (pmtu.c). */
struct pmtu_entry {
    uint32_t dst;
    uint16_t mtu;
    bool used;
    uint64_t when;            /* learned (or lowered) at */
};

enum { ARP_FREE = 0, ARP_INCOMPLETE = 1, ARP_VALID = 2 };

struct arp_entry {
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;
    int ifindex;
    uint32_t requests;        /* requests sent in this resolution */
    uint64_t confirmed;       /* VALID: when last confirmed by the peer */
    uint64_t next_event;      /* INCOMPLETE: next retry (or give-up) time;
                               * VALID: earliest time for a refresh request */
    uint32_t hnext;           /* hash chain */
    uint32_t lprev, lnext;    /* age list, oldest first; free list via lnext */
    uint32_t qhead, qtail, qlen; /* packets waiting for this resolution */
};

struct arp_qslot {
    uint32_t next;
    uint32_t len;             /* frame bytes, Ethernet header included */
};

struct tern_arp {
    struct arp_entry *e;
    uint32_t *bucket;
    uint32_t nbuckets;        /* power of two */
    uint32_t count;
    uint32_t free_head, old_head, old_tail;
    struct arp_qslot *slot;
    uint8_t *qdata;           /* arp_queue_total slots of qstride bytes */
    size_t qstride;           /* 14 + the largest Ethernet MTU */
    uint32_t qfree, qused;
    struct tern_timer timer;
};

struct echo_ep {
    bool used;
    uint16_t id;
    tern_echo_fn fn;
    void *ctx;
};

/* An ICMP error observer (tern_icmp_observe). */
struct icmp_obs {
    tern_icmp_fn fn;          /* NULL: free slot */
    void *ctx;
};

struct loopq {
    uint8_t *buf;             /* records: [u32 len][u32 ifindex][datagram] */
    size_t used;
    uint32_t count;
    struct tern_timer timer;
};

struct tern_sock;
struct nat;
struct sock_proto_ops;
struct ports;

/* One RFC 5227 s2.1.1 address probe in progress (tern_arp_probe). */
struct arp_probe {
    bool active, in_use;
    struct tern_stack *s;
    int ifindex;
    uint32_t addr;
    uint32_t sent;            /* probes sent so far */
    void (*fn)(void *ctx, bool in_use);
    void *ctx;
    struct tern_timer timer;
};

struct tern_stack {
    struct tern_config cfg;
    struct tern_loop *loop;
    struct tern_rng rng;
    struct tern_stats stats;
    struct tern_iface ifaces[TERN_MAX_IFACES];
    int n_ifaces;
    struct route_table rt;    /* route.c */
    uint64_t route_gen;       /* bumped on any route/ARP/address change (>= 1) */
    struct pmtu_entry *pmtu;  /* cfg.pmtu_max entries (pmtu.c) */
    struct tern_arp arp;
    struct tern_reasm *reasm;
    struct tern_timer reasm_timer;
    uint16_t ip_id[TERN_IPID_BUCKETS];
    struct tern_proto_handler proto[256];
    struct echo_ep echo[TERN_ECHO_MAX];
    struct icmp_obs icmp_obs[TERN_ICMP_OBSERVERS]; /* icmp.c */
    uint64_t icmp_tokens;     /* token bucket in millionths of a token */
    uint64_t icmp_last;
    struct loopq lq;
    uint8_t *txbuf;           /* 14 + 65535: a frame being built (txf->data) */
    struct tern_frame *txf;   /* the frame buffer txbuf lies in (ipv4_out.c) */
    struct tern_frame_pool *fpool; /* frames sent by reference come from here */
    bool tx_pin;              /* txbuf must stay put (fragmenting): send by copy */
    uint8_t *icmpbuf;         /* 65535: an ICMP message being built */
    /* Re-entry from a device (stack.c): while a device's send runs
     * (dev_depth > 0), frames it delivers to us wait on rxq and are
     * received on the next loop turn, so nothing runs inside a send. */
    uint8_t dev_depth;
    struct tern_frame *rxq_head, *rxq_tail;
    struct tern_timer rxq_timer;
    /* Sockets (socket.c, ports.c, udp.c) */
    struct tern_sock **sock_chunks; /* the pool: sock_cap slots, SOCK_CHUNK per chunk (socket.c) */
    uint32_t sock_cap;        /* slots allocated so far (<= cfg.max_sockets) */
    uint32_t sock_free;       /* free list through tern_sock.free_next */
    uint32_t sock_count;
    uint32_t notify_head, notify_tail; /* sockets waiting for a notification */
    uint32_t run_head, run_tail;       /* ... being notified in this turn */
    struct tern_timer notify_timer;    /* zero-delay: notifications run on the loop */
    bool app_turn;                     /* handlers are running (sock_defer_tx) */
    uint8_t ntx_defer;
    uint32_t tx_defer[16];             /* sockets whose output waits for the turn's end */
    const struct sock_proto_ops *sock_ops[3]; /* by enum tern_sock_type */
    struct ports *ports;
    const struct ip_rx *cur_rx; /* the datagram a proto handler is being given */
    uint64_t cur_now;
    struct arp_probe probes[TERN_MAX_IFACES];
    struct tcp_stack *tcp;    /* tcp.c */
    /* NAT and firewall (nat.c, nat_stack.c): NULL until configured */
    struct nat *nat;
    uint8_t *natbuf;          /* 65535: a datagram being translated */
    uint32_t nat_ifs, fw_ifs; /* interfaces (bit per index) with NAT, firewall */
    uint32_t nat_ext[TERN_MAX_IFACES]; /* external address per NAT interface, 0 = its own */
    struct tern_timer nat_timer;
    struct mcast *mc;         /* igmp.c: group tables (core/mcast.h) */
    struct ip6_state *v6;     /* IPv6 (ip6_impl.h): NULL unless cfg.ipv6 */
};

/* A received datagram as the layers above IP see it. */
struct ip_rx {
    struct tern_ipv4_repr ip;
    const uint8_t *hdr;       /* the IP header as received (rebuilt after reassembly) */
    size_t hdr_len;
    const uint8_t *payload;   /* payload_len bytes (padding trimmed, ATTACKS 7) */
    size_t len;
    int ifindex;
    bool link_bcast;          /* arrived as a link-layer broadcast/multicast */
    bool local;               /* came through the loopback queue */
    bool csum_ok;             /* the device vouches for the transport checksum (TERN_RX_CSUM_OK) */
};

/* Memory held by the bounded tables, for "back to baseline" checks. */
struct tern_stack_mem {
    size_t arp_entries, arp_queued, reasm_bytes, reasm_datagrams, loop_queued;
    size_t sockets;           /* sockets in the pool (any protocol, TIME_WAIT too) */
    size_t tcp_conns;         /* TCBs holding send/receive rings */
    size_t tcp_ring_bytes;    /* bytes of those rings */
    size_t tcp_time_wait;     /* connections in TIME_WAIT (records and held TCBs) */
    size_t tcp_tw_bytes;      /* TIME_WAIT records + their hash (tcp_tw.c) */
    size_t tcp_syn_reqs;      /* SYN-queue records (tcp_req.c) */
    size_t tcp_cold;          /* connections' cold blocks held (tcp_cold.c) */
};
void stack_mem_usage(const struct tern_stack *s, struct tern_stack_mem *m);
/* tcp.c: the TCP part of tern_stack_mem (zeros before tcp_init). */
void tcp_mem_usage(const struct tern_stack *s, struct tern_stack_mem *m);

/* stack.c */
struct tern_iface *stack_iface(struct tern_stack *s, int ifindex); /* NULL if unused */
struct tern_iface *stack_iface_by_addr(struct tern_stack *s, uint32_t addr);
/* The first interface that is up (limited broadcast, multicast without a
 * route): NULL if none. */
struct tern_iface *stack_first_up_iface(struct tern_stack *s);
bool stack_is_our_addr(const struct tern_stack *s, uint32_t addr);
bool stack_is_bcast(const struct tern_stack *s, uint32_t addr); /* limited or a directed bcast of ours */
static inline bool ip_is_multicast(uint32_t a) { return (a >> 28) == 0xe; }
static inline bool ip_is_class_e(uint32_t a) { return (a >> 28) == 0xf; }
static inline bool ip_is_loopback(uint32_t a) { return (a >> 24) == 127; }

/* route.c */
void route_iface_changed(struct tern_stack *s, struct tern_iface *ifc);
void route_free(struct tern_stack *s);
size_t route_count(const struct tern_stack *s);
/* Invalidates every cached route (route_cache.c). */
static inline void route_gen_bump(struct tern_stack *s) { s->route_gen++; }
/* Longest-prefix match; among an equal-cost group, the member chosen by
 * cfg.ecmp (flow: keyed hash of k; packet: the stack's generator). */
int route_lookup_key(struct tern_stack *s, const struct route_key *k, uint32_t *next_hop,
                     int *ifindex);
/* The flow key of a datagram: ports from payload for unfragmented TCP and
 * UDP (frag: part of a fragmented datagram - every fragment hashes alike). */
void route_key_make(struct route_key *k, uint32_t src, uint32_t dst, uint8_t proto, bool frag,
                    const uint8_t *payload, size_t len);

/* forward.c: a datagram not for us, from the wire (RFC 1812 s5). */
void ip_forward(struct tern_stack *s, const struct ip_rx *rx, uint64_t now);
/* forward.c: a datagram queued behind ARP could not be sent (RFC 1122
 * s2.3.2.2): ours -> icmp_local_unreach; forwarded -> host unreachable
 * to its source (RFC 1812 s5.2.7.1). */
void ip_queued_unreach(struct tern_stack *s, const uint8_t *dgram, size_t len, uint8_t code,
                       uint64_t now);

/* pmtu.c: RFC 1191 cache. */
int pmtu_init(struct tern_stack *s);
void pmtu_fini(struct tern_stack *s);
/* The path MTU a "fragmentation needed" error quoting q implies: its
 * next-hop MTU, or for an old router's 0 the RFC 1191 s5 plateau estimate
 * from the quoted total length (0 if none). Call before pmtu_icmp_error:
 * it compares with the current estimate. */
struct tern_icmp_quote;
uint32_t pmtu_implied(struct tern_stack *s, uint16_t next_mtu, const struct tern_icmp_quote *q);
/* An ICMP error quoting one of our datagrams: a frag needed lowers the
 * estimate for q->ip.dst to mtu (pmtu_implied's; other types are
 * ignored). */
void pmtu_icmp_error(struct tern_stack *s, uint8_t type, uint8_t code, uint32_t mtu,
                     const struct tern_icmp_quote *q);
size_t pmtu_count(const struct tern_stack *s);

/* arp.c */
int arp_init(struct tern_stack *s);
void arp_free(struct tern_stack *s);
int arp_grow_queue(struct tern_stack *s, uint16_t mtu);
void arp_input(struct tern_stack *s, struct tern_iface *ifc, const uint8_t *p, size_t len,
               uint64_t now);
/* frame[0..len): room for the Ethernet header + the IP datagram at frame+14.
 * Fills in the header and sends, or queues a copy behind a resolution. */
int arp_output(struct tern_stack *s, struct tern_iface *ifc, uint32_t next_hop, uint8_t *frame,
               size_t len, uint64_t now);
/* Fills in the Ethernet header of frame[0..len) and sends it. */
int eth_xmit(struct tern_stack *s, struct tern_iface *ifc, const uint8_t dst[6], uint16_t type,
             uint8_t *frame, size_t len);
void arp_announce(struct tern_stack *s, struct tern_iface *ifc);
void arp_flush_iface(struct tern_stack *s, struct tern_iface *ifc);
size_t arp_queued(const struct tern_stack *s);
/* The MAC of a valid, reachable (not stale) entry for next_hop on ifc and
 * when it stops being reachable; false if none. */
bool arp_peek(struct tern_stack *s, const struct tern_iface *ifc, uint32_t next_hop,
              uint8_t mac[6], uint64_t *until, uint64_t now);

/* ipv4_in.c */
void ipv4_input(struct tern_stack *s, struct tern_iface *ifc, const uint8_t *p, size_t len,
                bool link_bcast, bool local, uint64_t now);
void reasm_timer_fn(struct tern_timer *t, void *arg);

/* ipv4_out.c */
int ip_output(struct tern_stack *s, const struct tern_ip_out *o, const uint8_t *payload,
              size_t len, uint64_t now);
uint16_t ip_next_id(struct tern_stack *s, uint32_t src, uint32_t dst, uint8_t proto);
uint16_t ip_peek_id(const struct tern_stack *s, uint32_t src, uint32_t dst, uint8_t proto);
/* ip_output with a connection's route cache (NULL: none): on a hit, no
 * route lookup, no ARP lookup, no hash for the IP ID. */
int ip_output_rc(struct tern_stack *s, const struct tern_ip_out *o, struct route_cache *rc,
                 const uint8_t *payload, size_t len, uint64_t now);

/* route_cache.c */
/* rc holds o's route (a hit: ifc and next hop are rc's). */
static inline bool route_cache_hit(const struct tern_stack *s, const struct route_cache *rc,
                                   const struct tern_ip_out *o)
{
    return rc->gen == s->route_gen && rc->dst == o->dst && rc->src == o->src &&
           rc->proto == o->proto;
}
/* Fills rc after a full lookup sent o on ifc toward next_hop from src. */
void route_cache_fill(struct tern_stack *s, struct route_cache *rc, const struct tern_ip_out *o,
                      const struct tern_iface *ifc, uint32_t next_hop, uint32_t src);
/* The next IP ID of rc's flow (the same counter ip_next_id would pick). */
static inline uint16_t route_cache_next_id(struct tern_stack *s, struct route_cache *rc)
{
    return (uint16_t)(rc->id_off + s->ip_id[rc->id_bucket]++);
}
/* ip_link_output with rc's cached MAC when fresh; else through ARP,
 * then caches the MAC if the entry is valid. */
int route_cache_link_output(struct tern_stack *s, struct route_cache *rc, struct tern_iface *ifc,
                            uint8_t *frame, size_t len, uint64_t now);
void loopq_timer_fn(struct tern_timer *t, void *arg);
/* stack.c: receives the frames devices delivered from inside a send. */
void rxq_timer_fn(struct tern_timer *t, void *arg);

/* ipv4_in.c: during a proto handler's input call, sends an ICMP error
 * about the datagram being delivered (RFC 1122 s3.2.2 rules apply). */
void ip_deliver_icmp_error(struct tern_stack *s, uint8_t type, uint8_t code);

/* ipv4_out.c: sends the datagram at frame + 14 (frame[0..len)) on ifc
 * toward next_hop (ARP, or the broadcast/multicast mapping for dst). */
int ip_link_output(struct tern_stack *s, struct tern_iface *ifc, uint32_t next_hop, uint32_t dst,
                   uint8_t *frame, size_t len, uint64_t now);
/* Every frame the stack sends goes through here (ipv4_out.c): a frame that
 * is the stack's txbuf goes to a device that can take it by reference (the
 * memory link) as the frame buffer itself, and txbuf moves to a fresh
 * buffer; any other frame, or any other device, is sent by copy. */
int stack_dev_send(struct tern_stack *s, struct tern_device *d, uint8_t *frame, size_t len);
/* Where a transport builds a datagram in place: the byte after an IPv4
 * header without options in txbuf (never NULL: no output can start while
 * a frame is with a device, stack.c defers what a device delivers during
 * its send). ip_output sends a payload found there without copying it. */
uint8_t *ip_tx_payload(struct tern_stack *s);
/* Fragments of one datagram leaving on ifc (tern_fragment's emit callback,
 * ctx a struct ip_frag_ctx): local output and forwarding share it. */
struct ip_frag_ctx {
    struct tern_stack *s;
    struct tern_iface *ifc;
    uint32_t next_hop, dst;
    uint64_t now;
};
int ip_frag_emit(void *arg, const uint8_t *frag, size_t len);

/* ipv4_out.c: a copy of a datagram we send to a group, received by our
 * own stack through the loopback queue as if it came in on ifindex
 * (IP_MULTICAST_LOOP). */
int ip_mcast_loop(struct tern_stack *s, const struct tern_ip_out *o, int ifindex,
                  const uint8_t *payload, size_t len, uint64_t now);
/* ipv4_out.c: ip_output on interface oif (>= 0; limited broadcasts go out
 * there, unicast must route through it) or routed (oif < 0). */
int ip_output_oif(struct tern_stack *s, const struct tern_ip_out *o, int oif,
                  const uint8_t *payload, size_t len, uint64_t now);

/* socket.c / ports.c / udp.c (see socket_impl.h) */
int sock_init(struct tern_stack *s);
void sock_fini(struct tern_stack *s);
int udp_init(struct tern_stack *s);
struct tcp_stack;
int tcp_init(struct tern_stack *s);  /* tcp.c */
void tcp_fini(struct tern_stack *s);
/* tcp_tw.c: a TIME_WAIT record holds (laddr, lport, raddr, rport); laddr
 * 0 matches any local address. */
bool tcp_tw_busy(const struct tern_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                 uint16_t rport);
/* tcp_req.c: a SYN-queue record holds the 4-tuple (laddr 0: any). */
bool tcp_req_busy(const struct tern_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                  uint16_t rport);
/* tcp_req.c: netstat rows of the SYN-queue records (SYN_RECV). */
struct tern_sock_info;
size_t tcp_req_rows(const struct tern_stack *s,
                    void (*fn)(void *ctx, const struct tern_sock_info *row), void *ctx);
/* tcp_tw.c: netstat rows of the TIME_WAIT records (fn called for each);
 * returns how many. */
struct tern_sock_info;
size_t tcp_tw_rows(const struct tern_stack *s,
                   void (*fn)(void *ctx, const struct tern_sock_info *row), void *ctx);

/* arp.c: sends one ARP packet from ifc (sha = ifc's MAC). */
struct tern_arp_repr;
void arp_send(struct tern_stack *s, struct tern_iface *ifc, uint16_t op, const uint8_t eth_dst[6],
              const uint8_t tha[6], uint32_t tpa, uint32_t spa);
/* arp_probe.c: RFC 5227 probes; check is called for every valid ARP packet. */
void arp_probe_check(struct tern_stack *s, struct tern_iface *ifc, const struct tern_arp_repr *r,
                     uint64_t now);
void arp_probe_fini(struct tern_stack *s);

/* icmp.c */
void icmp_input(struct tern_stack *s, const struct ip_rx *rx, uint64_t now);
/* Sends an ICMP error about rx unless RFC 1122 s3.2.2 forbids it or the
 * rate limit says no. `extra` is the next-hop MTU (needfrag) or pointer. */
void icmp_send_error(struct tern_stack *s, const struct ip_rx *rx, uint8_t type, uint8_t code,
                     uint16_t extra, uint64_t now);
/* Reassembly timeout (tern_reasm_expired_fn): ctx is a struct reasm_cb_ctx,
 * quote the first fragment's header + 8 bytes. */
struct reasm_cb_ctx {
    struct tern_stack *s;
    uint64_t now;
};
void icmp_reasm_expired(void *ctx, const uint8_t *quote, size_t quote_len);
/* What an ICMP error about one of our datagrams means to a transport - the
 * one table TCP and UDP share (icmp.c): the socket error, and whether it
 * is hard (the destination cannot be reached at all: an attempt may be
 * given up, RFC 1122 4.2.3.9, RFC 5927 s4) or soft. pmtu: fragmentation
 * needed, for the RFC 1191 path (the transport's own business). Returns
 * false for a message that means nothing to a transport. */
struct icmp_err_class {
    int err;
    bool hard, pmtu;
};
bool icmp_classify(uint8_t type, uint8_t code, struct icmp_err_class *out);
/* A datagram we queued could not be sent (ARP failure): tell its echo owner. */
void icmp_local_unreach(struct tern_stack *s, const uint8_t *dgram, size_t len, uint8_t code);

#endif
