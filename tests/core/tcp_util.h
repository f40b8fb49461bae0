/*
 * tests/core/tcp_util.h - helpers for the TCP tests: two stacks on a memory
 * link (optionally impaired) in virtual time, and crafted segments in /
 * parsed segments out on the state world (world.h).
 */
#ifndef TERN_TESTS_CORE_TCP_UTIL_H
#define TERN_TESTS_CORE_TCP_UTIL_H

#include "core/tcp_impl.h"
#include "tern/device.h"
#include "tern/socket.h"
#include "tern/wire/tcp.h"
#include "world.h"

#define TN_A 0x0a000001u
#define TN_B 0x0a000002u

struct tnet {
    struct tern_loop *loop;
    struct tern_device *a, *b;
    struct tern_stack *sa, *sb;
};

/* cfg NULL: defaults. imp NULL: a clean link. Returns 0. */
int tnet_open(struct tnet *n, uint64_t seed, const struct tern_impair *imp,
              const struct tern_config *cfg);
void tnet_close(struct tnet *n);
void tnet_run(struct tnet *n, uint64_t us);
/* Listener on B:port, client on A connected and accepted. 0 on success. */
int tnet_connect(struct tnet *n, uint16_t port, struct tern_sock **lsk, struct tern_sock **ca,
                 struct tern_sock **cb);

/* A segment from the peer (10.0.0.2) to us, injected into w. */
void wt_inject(struct world *w, const struct tern_tcp_repr *r);
void wt_inject_from(struct world *w, uint32_t src, const struct tern_tcp_repr *r);
/* The next TCP segment we sent (ARP skipped); false if none. Payload
 * points into a static buffer. */
bool wt_pop(struct world *w, struct tern_tcp_repr *out);
/* A repr with ports, seq, ack, flags, window. */
struct tern_tcp_repr wt_seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                            uint16_t flags, uint16_t win);

/* The state tests' connection: we (10.0.0.1:80, ISS 5000) accept the peer
 * (10.0.0.2:40000, ISN 1000, MSS 1460, WS 7, SACK, optional timestamps
 * starting at TSval 100); the peer's window is 1000 << 7. */
#define P_PORT 40000
#define P_ISN 1000u
#define ISS 5000u
#define ACKF TERN_TCP_ACK
extern uint32_t g_peer_ts;
#define WT_TS 1     /* both sides use timestamps */
#define WT_NOSACK 2 /* the peer does not offer SACK */
struct tern_sock *wt_establish(struct world *w, unsigned flags, struct tern_sock **lsk);
/* Shorthands of the state tests: a segment from the peer (P_PORT -> 80),
 * a socket's state name, and the end of a test (abort sk, close lsk,
 * drain, check that no socket is left). */
struct tern_tcp_repr wt_peer(uint32_t seq, uint32_t ack, uint16_t flags, uint16_t win);
const char *wt_state(const struct tern_sock *sk);
void wt_finish(struct world *w, struct tern_sock *sk, struct tern_sock *lsk);

#endif
