/*
 * tests/core/world.h - the "state world" of DESIGN.md: one stack on a
 * virtual loop with a capture device. Tests inject crafted frames with
 * tern_device_deliver(), pop the exact frames the stack sent, and end with
 * world_end(), which runs the clock far enough for every timer to fire and
 * checks that the bounded tables are back to baseline before freeing.
 *
 * Addresses: us 10.0.0.1/24 at 02:00:00:00:00:01, the peer 10.0.0.2 at
 * 02:00:00:00:00:02 (another host 10.0.0.3 at ...:03).
 */
#ifndef TERN_TESTS_CORE_WORLD_H
#define TERN_TESTS_CORE_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/stack_impl.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/stack.h"
#include "tern/wire/ipv4.h"

#define W_US 0x0a000001u   /* 10.0.0.1 */
#define W_PEER 0x0a000002u /* 10.0.0.2 */
#define W_OTHER 0x0a000003u
#define W_BCAST 0x0a0000ffu
#define W_T0 1000000000ull /* virtual start time (us) */
#define W_MAXF 512

extern const uint8_t w_mac_us[6], w_mac_peer[6], w_mac_other[6], w_mac_bcast[6];

struct world {
    struct tern_loop *loop;
    struct tern_stack *s;
    struct tern_device *dev;
    int ifindex;
    uint8_t *f[W_MAXF];
    size_t flen[W_MAXF];
    uint64_t at[W_MAXF]; /* the loop's time when each frame was sent */
    size_t head, count, total_sent;
};

/* cfg NULL: defaults with seed 1. The interface is up; the gratuitous ARP
 * it sends is popped and checked (only when announce_check is set). */
struct world *world_new(const struct tern_config *cfg);
struct world *world_new_link(const struct tern_config *cfg, enum tern_link_type link,
                             uint16_t mtu);
/* Runs 200 s of virtual time, checks ARP queue/cache, reassembly and the
 * loopback queue are empty (CHECKs), frees everything. */
void world_end(struct world *w);
void world_inject(struct world *w, const uint8_t *frame, size_t len);
/* Next captured frame (owned by w, valid until the next pop/inject/run) or
 * NULL; *len its length. */
const uint8_t *world_pop(struct world *w, size_t *len);
size_t world_pending(const struct world *w);
/* Like world_pop, skipping ARP frames (e.g. stale-entry revalidations). */
const uint8_t *world_pop_ip(struct world *w, size_t *len);
/* Frames pending that are not ARP; drops the ARP ones. */
size_t world_pending_ip(struct world *w);
void world_drain(struct world *w);
/* Advances virtual time by us, firing timers. */
void world_run(struct world *w, uint64_t us);
/* Teaches the stack the peer's MAC (an ARP request from the peer for us;
 * the reply is popped). */
void world_learn_peer(struct world *w);

/* Frame builders: return the frame length written into buf. */
size_t w_eth(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type,
             const uint8_t *payload, size_t len);
/* Ethernet (peer -> us) + IPv4 header from ip (hdr/opts as given) + payload. */
size_t w_ip_frame(uint8_t *buf, const struct tern_ipv4_repr *ip, const uint8_t *payload,
                  size_t len);
/* A plain IPv4 repr: ttl 64, given src/dst/proto/id. */
struct tern_ipv4_repr w_ip(uint32_t src, uint32_t dst, uint8_t proto, uint16_t id);
/* ICMP message bytes into buf. */
size_t w_icmp(uint8_t *buf, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data,
              size_t len);
size_t w_arp_frame(uint8_t *buf, uint16_t op, const uint8_t eth_dst[6], const uint8_t sha[6],
                   uint32_t spa, const uint8_t tha[6], uint32_t tpa);

/* Echo events and protocol handler calls, recorded. */
struct w_echo_log {
    int n;
    struct tern_echo_event last;
    uint8_t data[2048];
};
void w_echo_cb(void *ctx, const struct tern_echo_event *ev);

struct w_proto_log {
    int n_input, n_err;
    struct tern_ipv4_repr ip;
    uint8_t payload[65536];
    size_t len;
    int ifindex;
    uint8_t type, code;
    uint16_t next_mtu;
    struct tern_icmp_quote q;
    uint8_t quote_l4[64];
};
/* Registers a recording handler for proto on w's stack. */
void w_proto_record(struct world *w, uint8_t proto, struct w_proto_log *log);

/* Compares an IPv4-over-Ethernet frame with a known answer whose IP ID was
 * 0: patches `id` into a copy of want (and its header checksum) first.
 * Prints both on mismatch. */
bool w_frame_eq_id(const uint8_t *got, size_t glen, const uint8_t *want, size_t wlen,
                   uint16_t id);
bool w_frame_eq(const uint8_t *got, size_t glen, const uint8_t *want, size_t wlen);

#endif
