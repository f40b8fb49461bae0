/*
 * nat_impl.h - what the NAT's two halves share: the session table (nat.c)
 * and the translation of datagrams through it (nat_xlate.c). Private to
 * src/core; the public face is include/tern/nat.h, the stack's core/nat.h.
 */
#ifndef TERN_CORE_NAT_IMPL_H
#define TERN_CORE_NAT_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/nat.h"
#include "core/rng.h"

#define NIL UINT32_MAX
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17

/* entry flags */
#define F_SEEN_OUT 0x01u /* a datagram went out */
#define F_SEEN_IN 0x02u  /* a reply came in */
#define F_ASSURED 0x04u  /* replied and (TCP) established: conntrack's [ASSURED] */
#define F_SYN_OUT 0x08u
#define F_SYN_IN 0x10u
#define F_FIN_OUT 0x20u
#define F_FIN_IN 0x40u
#define F_INBOUND 0x80u /* created by an inbound datagram (DNAT, EIF, firewall allow) */
#define F_RST 0x100u    /* a RST was seen: closed for good */

struct nat_entry {
    uint32_t int_addr, rem_addr, ext_addr;
    uint16_t int_port, rem_port, ext_port;
    uint8_t proto, tcp;
    uint16_t flags;
    bool used;
    uint64_t expires;
    uint32_t h_sess, h_ext, h_int; /* next in each chain */
    uint32_t free_next;
};

struct nat_host {
    uint32_t addr, count, next;
};

struct nat_fwd {
    uint8_t proto;
    uint16_t ext_port, port;
    uint32_t addr;
};

struct nat_rule {
    int ifindex;
    struct tern_fw_rule r;
    uint64_t hits;
};

struct nat {
    struct tern_nat_config cfg;
    struct tern_rng rng;
    struct nat_entry *e;
    uint32_t cap, nbuckets; /* nbuckets: power of two */
    uint32_t *b_sess, *b_ext, *b_int, *b_host;
    uint32_t free_head;
    struct nat_host *hosts; /* cap of them: every host holds >= 1 entry */
    uint32_t host_free;
    struct nat_fwd fwd[NAT_MAX_FORWARDS];
    int nfwd;
    struct nat_rule rules[NAT_MAX_FW_RULES];
    int nrules;
    uint64_t soonest; /* the earliest expiry set since nat_take_soonest */
    struct tern_nat_stats st;
};

/* nat.c: the table, used by the translation */
bool nat_fwd_reserved(const struct nat *n, uint8_t p, uint16_t port);
bool nat_transitory(const struct nat_entry *x);
uint32_t nat_find_sess(const struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra,
                       uint16_t rp, uint64_t now);
uint32_t nat_h_ext(const struct nat *n, uint8_t p, uint32_t ea, uint16_t ep);
bool nat_pick_port(struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra, uint32_t ea,
                   uint64_t now, uint16_t *out);
bool nat_live(const struct nat_entry *x, uint64_t now);
uint32_t nat_entry_new(struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra, uint16_t rp,
                       uint32_t ea, uint16_t ep, uint64_t now);
uint64_t nat_timeout_of(const struct nat *n, const struct nat_entry *x);
bool nat_make_room(struct nat *n, uint32_t a, uint64_t now);

#endif
