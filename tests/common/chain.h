/*
 * tests/common/chain.h - a line of stacks in virtual time: host A, routers
 * R1..Rn, host B, each neighbour pair on its own memory link:
 *
 *     A --link 0-- R1 --link 1-- R2 ... Rn --link n-- B
 *
 * Link i is 10.0.i.0/24: its left end is 10.0.i.1, its right end 10.0.i.2
 * (A = 10.0.0.1, B = 10.0.n.2; router k is 10.0.(k-1).2 and 10.0.k.1).
 * A and B route by default through their router; each router has a route
 * for every link subnet not its own (left ones via its left neighbour,
 * right ones via its right). Routers have cfg.ip_forward set.
 * Per link: MTU, an impairment per direction, and a meter per direction
 * (frames, bytes, largest frame sent into the link).
 * The lower layer (chain_node_new, chain_link_add) builds any other
 * shape (ECMP diamonds) on the same loop and is cleaned up by chain_close.
 * Everything is seeded: a test replays exactly.
 */
#ifndef TERN_TESTS_CHAIN_H
#define TERN_TESTS_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/device.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define CHAIN_MAX_NODES 16
#define CHAIN_MAX_LINKS 24

/* 10.0.link.end (end 1 = left, 2 = right). */
#define CHAIN_ADDR(link, end) (0x0a000000u | ((uint32_t)(link) << 8) | (uint32_t)(end))

struct chain_meter {
    uint64_t frames, bytes;
    uint64_t ip_frames;       /* of which IPv4 (ethertype 0x0800) */
    size_t max_len;           /* largest frame (Ethernet header included) */
};

struct chain_link_opts {
    uint16_t mtu;                   /* 0 = 1500 */
    const struct tern_impair *imp;  /* left -> right (left end's egress); NULL = clean */
    const struct tern_impair *rimp; /* right -> left; NULL = clean */
};

struct chain_link {
    struct tern_device *dev[2];     /* [0] left end's device, [1] right end's (outermost) */
    struct tern_device *imp[2];     /* the impairment wrappers (NULL when clean) */
    struct chain_meter *meter[2];   /* frames sent into the link by each end */
    int node[2], ifindex[2];
    uint32_t addr[2];
};

struct chain {
    struct tern_loop *loop;
    int n_routers;
    struct tern_stack *node[CHAIN_MAX_NODES]; /* line: 0 = A, 1..n = routers, n+1 = B */
    int n_nodes;
    struct chain_link link[CHAIN_MAX_LINKS];
    int n_links;
    uint64_t seed;
};

/* Per-run options for chain_open; NULL = all defaults. */
struct chain_opts {
    uint64_t seed;                           /* stacks get seed + 1000 * node */
    struct chain_link_opts link[CHAIN_MAX_LINKS]; /* by link number */
    const struct tern_config *host_cfg;      /* NULL = defaults (seeded) */
    const struct tern_config *router_cfg;    /* NULL = defaults + ip_forward */
};

/* Builds the line with n_routers (0..CHAIN_MAX_NODES-2) routers. 0 or -1. */
int chain_open(struct chain *c, int n_routers, const struct chain_opts *o);
void chain_close(struct chain *c);
static inline struct tern_stack *chain_a(const struct chain *c) { return c->node[0]; }
static inline struct tern_stack *chain_b(const struct chain *c) { return c->node[c->n_nodes - 1]; }
static inline uint32_t chain_a_addr(const struct chain *c) { (void)c; return CHAIN_ADDR(0, 1); }
static inline uint32_t chain_b_addr(const struct chain *c) { return CHAIN_ADDR(c->n_routers, 2); }
void chain_run(struct chain *c, uint64_t us);

/* Lower layer: an empty chain (loop only), nodes, links. */
int chain_init(struct chain *c, uint64_t seed);
/* A stack (cfg NULL: defaults seeded from c->seed + 1000 * index; forward
 * sets ip_forward). Returns its index or -1. */
int chain_node_new(struct chain *c, const struct tern_config *cfg, bool forward);
/* Joins node l (address laddr) and node r (raddr), both /24 on the link,
 * with unique MACs. Returns the link index or -1. */
int chain_link_add(struct chain *c, int l, uint32_t laddr, int r, uint32_t raddr,
                   const struct chain_link_opts *o);

/* Runs 400 s of virtual time, then checks every stack's tables are empty
 * (ARP queue, reassembly, loopback queue, sockets). True when clean. */
bool chain_settled(struct chain *c);

/* A TCP transfer of len pattern bytes from stack `from` to a listener on
 * stack `to` at (to_addr, port), reading as it goes; then both ends close
 * and the sockets are gone after TIME_WAIT. */
struct chain_xfer {
    size_t sent, got;
    bool hash_ok;             /* the bytes received equal the bytes sent */
    uint16_t mss;             /* the sender's effective MSS at the end */
    uint32_t retransmits;     /* the sender's */
    uint64_t elapsed_us;      /* connect to last byte */
};
int chain_tcp_transfer(struct chain *c, struct tern_stack *from, struct tern_stack *to,
                       uint32_t to_addr, uint16_t port, size_t len, uint64_t max_us,
                       struct chain_xfer *x);

#endif
