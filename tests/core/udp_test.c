/*
 * Tests for src/core/udp.c at stack level: two stacks on a memory link in
 * virtual time (datagram boundaries, truncation, connect filter, errors,
 * fragmentation), and the state world (exact frames out, ATTACKS 22,
 * broadcast, the DHCP hooks). Known-answer frames were built with scapy
 * (Ether/IP/UDP/ICMP/ARP with the addresses of tests/core/world.h, IP ID 0
 * where ours is patched in).
 */
#include <stdlib.h>

#include "core/socket_impl.h"
#include "common/net2.h"
#include "harness.h"
#include "tern/socket.h"
#include "tern/wire/arp.h"
#include "tern/wire/bytes.h"
#include "tern/wire/udp.h"
#include "world.h"

/* k_udp_to_closed */
static const uint8_t k_udp_to_closed[47] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x21, 0x11, 0x11, 0x00, 0x00, 0x40, 0x11,
    0x55, 0xb9, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x04, 0xd2,
    0x27, 0x0f, 0x00, 0x0d, 0x7c, 0x1e, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};
/* k_port_unreach */
static const uint8_t k_port_unreach[75] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x45, 0xc0, 0x00, 0x3d, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
    0x65, 0xfe, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x03, 0x03,
    0x11, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x21, 0x11, 0x11,
    0x00, 0x00, 0x40, 0x11, 0x55, 0xb9, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
    0x00, 0x01, 0x04, 0xd2, 0x27, 0x0f, 0x00, 0x0d, 0x7c, 0x1e, 0x68, 0x65,
    0x6c, 0x6c, 0x6f,
};
/* k_bcast_limited */
static const uint8_t k_bcast_limited[47] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
    0x70, 0xcc, 0x0a, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x13, 0x88,
    0x17, 0x70, 0x00, 0x0d, 0x93, 0x04, 0x62, 0x63, 0x61, 0x73, 0x74,
};
/* k_bcast_directed */
static const uint8_t k_bcast_directed[47] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
    0x65, 0xcd, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0xff, 0x13, 0x88,
    0x17, 0x70, 0x00, 0x0d, 0x88, 0x05, 0x62, 0x63, 0x61, 0x73, 0x74,
};
/* k_dhcp_src0 */
static const uint8_t k_dhcp_src0[50] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
    0x7a, 0xca, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x44,
    0x00, 0x43, 0x00, 0x10, 0x52, 0x92, 0x64, 0x69, 0x73, 0x63, 0x6f, 0x76,
    0x65, 0x72,
};
/* k_arp_probe */
static const uint8_t k_arp_probe[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0a, 0x00, 0x00, 0x32,
};
/* k_garp_new */
static const uint8_t k_garp_new[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x01, 0x07, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0a, 0x00, 0x01, 0x07,
};
/* k_offer_unicast */
static const uint8_t k_offer_unicast[47] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x21, 0x00, 0x07, 0x00, 0x00, 0x40, 0x11,
    0x66, 0x77, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x4d, 0x00, 0x43,
    0x00, 0x44, 0x00, 0x0d, 0xa3, 0x32, 0x6f, 0x66, 0x66, 0x65, 0x72,
};
/* k_offer_bcast */
static const uint8_t k_offer_bcast[47] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x21, 0x00, 0x08, 0x00, 0x00, 0x40, 0x11,
    0x70, 0xc3, 0x0a, 0x00, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0x43,
    0x00, 0x44, 0x00, 0x0d, 0xad, 0x7f, 0x6f, 0x66, 0x66, 0x65, 0x72,
};
/* k_udp_csum0 */
static const uint8_t k_udp_csum0[46] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x20, 0x00, 0x22, 0x00, 0x00, 0x40, 0x11,
    0x66, 0xa9, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x04, 0xd2,
    0x1b, 0x58, 0x00, 0x0c, 0x00, 0x00, 0x7a, 0x65, 0x72, 0x6f,
};
/* k_udp_good */
static const uint8_t k_udp_good[46] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x20, 0x00, 0x23, 0x00, 0x00, 0x40, 0x11,
    0x66, 0xa8, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x04, 0xd2,
    0x1b, 0x58, 0x00, 0x0c, 0xf4, 0xd5, 0x67, 0x6f, 0x6f, 0x64,
};

static const struct tern_stats *st(const struct tern_stack *s)
{
    return tern_stack_stats(s);
}

/* ---- two stacks on a memory link ---------------------------------------- */


#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u


static void net2_run(struct net2 *n, uint64_t us)
{
    tern_loop_run(n->loop, tern_loop_now(n->loop) + us);
}


static struct tern_sock *udp_open_bound(struct tern_stack *s, uint32_t addr, uint16_t port)
{
    int err;
    struct tern_sock *sk = tern_sock_open(s, TERN_SOCK_DGRAM, &err);
    if (!sk)
        return NULL;
    struct tern_sockaddr l = {addr, port};
    if (tern_sock_bind(sk, &l) < 0) {
        tern_sock_close(sk);
        return NULL;
    }
    return sk;
}

TEST(udp_send_recv_boundaries_and_trunc)
{
    struct net2 n;
    REQUIRE_EQ(net2_open(&n, 11, NULL), 0);
    int err = 1;
    struct tern_sock *a = tern_sock_open(n.sa, TERN_SOCK_DGRAM, &err);
    CHECK_EQ(err, 0);
    struct tern_sock *b = udp_open_bound(n.sb, 0, 7000);
    REQUIRE(a && b);
    struct tern_sockaddr to = {B_ADDR, 7000}, from, la;
    uint8_t big[1000], buf[2000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    CHECK_EQ(tern_sock_sendto(a, "", 0, 0, &to), 0);
    CHECK_EQ(tern_sock_sendto(a, "x", 1, 0, &to), 1);
    CHECK_EQ(tern_sock_sendto(a, big, sizeof big, 0, &to), 1000);
    CHECK_EQ(tern_sock_sendto(a, big, 10, 0, NULL), TERN_E_DESTADDRREQ);
    /* Nothing arrives before the loop turns (no re-entrancy). */
    CHECK_EQ(tern_sock_recv(b, buf, sizeof buf, 0), TERN_E_AGAIN);
    net2_run(&n, 1000000);
    CHECK_EQ(tern_sock_getsockname(a, &la), 0);
    CHECK(la.port >= 49152);
    int fl = -1;
    CHECK_EQ(tern_sock_recvfrom(b, buf, sizeof buf, 0, &from, &fl), 0);
    CHECK_EQ(fl, 0);
    CHECK_EQ(from.addr, A_ADDR);
    CHECK_EQ(from.port, la.port);
    CHECK_EQ(tern_sock_recvfrom(b, buf, sizeof buf, 0, &from, &fl), 1);
    CHECK_EQ(buf[0], 'x');
    /* MSG_TRUNC semantics on the 1000-byte datagram. */
    CHECK_EQ(tern_sock_recvfrom(b, buf, 10, TERN_MSG_PEEK, NULL, &fl), 10);
    CHECK_EQ(fl, TERN_MSG_TRUNC);
    CHECK_EQ(tern_sock_recvfrom(b, buf, 10, TERN_MSG_PEEK | TERN_MSG_TRUNC, NULL, &fl), 1000);
    CHECK_EQ(tern_sock_recvfrom(b, buf, sizeof buf, TERN_MSG_PEEK, NULL, &fl), 1000);
    CHECK_EQ(fl, 0);
    CHECK_MEM(buf, big, 1000);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(tern_sock_recvfrom(b, buf, 10, 0, NULL, &fl), 10);
    CHECK_EQ(fl, TERN_MSG_TRUNC);
    CHECK_MEM(buf, big, 10);
    CHECK_EQ(buf[10], 0);
    /* The rest of a cut datagram is gone. */
    CHECK_EQ(tern_sock_recv(b, buf, sizeof buf, 0), TERN_E_AGAIN);
    CHECK_EQ(st(n.sb)->udp.rx, 3);
    CHECK_EQ(st(n.sa)->udp.tx, 3);
    tern_sock_close(a);
    tern_sock_close(b);
    net2_close(&n);
}

TEST(udp_connect_filters_peer)
{
    struct net2 n;
    REQUIRE_EQ(net2_open(&n, 11, NULL), 0);
    struct tern_sock *a1 = udp_open_bound(n.sa, 0, 6001), *a2 = udp_open_bound(n.sa, 0, 6002);
    struct tern_sock *b = udp_open_bound(n.sb, 0, 7000);
    REQUIRE(a1 && a2 && b);
    struct tern_sockaddr pa = {A_ADDR, 6001}, to = {B_ADDR, 7000}, got;
    CHECK_EQ(tern_sock_getpeername(b, &got), TERN_E_NOTCONN);
    CHECK_EQ(tern_sock_connect(b, &pa), 0);
    CHECK_EQ(tern_sock_getpeername(b, &got), 0);
    CHECK_EQ(got.addr, A_ADDR);
    CHECK_EQ(got.port, 6001);
    CHECK_EQ(tern_sock_getsockname(b, &got), 0);
    CHECK_EQ(got.addr, B_ADDR); /* the source address, as Linux shows it */
    CHECK_EQ(got.port, 7000);
    CHECK_EQ(tern_sock_sendto(a2, "wrong", 5, 0, &to), 5);
    CHECK_EQ(tern_sock_sendto(a1, "right", 5, 0, &to), 5);
    net2_run(&n, 1000000);
    uint8_t buf[64];
    struct tern_sockaddr from;
    CHECK_EQ(tern_sock_recvfrom(b, buf, sizeof buf, 0, &from, NULL), 5);
    CHECK_MEM(buf, "right", 5);
    CHECK_EQ(from.port, 6001);
    CHECK_EQ(tern_sock_recv(b, buf, sizeof buf, 0), TERN_E_AGAIN);
    CHECK_EQ(st(n.sb)->udp.no_port, 1);
    /* The unconnected a2 ignores the port unreachable it caused. */
    CHECK_EQ(tern_sock_poll(a2) & TERN_POLLERR, 0);
    /* send() on the connected socket goes to its peer. */
    CHECK_EQ(tern_sock_send(b, "back", 4, 0), 4);
    net2_run(&n, 1000000);
    CHECK_EQ(tern_sock_recvfrom(a1, buf, sizeof buf, 0, &from, NULL), 4);
    CHECK_EQ(from.addr, B_ADDR);
    CHECK_EQ(from.port, 7000);
    /* Dissolving the association accepts everyone again. */
    CHECK_EQ(tern_sock_connect(b, NULL), 0);
    CHECK_EQ(tern_sock_sendto(a2, "any", 3, 0, &to), 3);
    net2_run(&n, 1000000);
    CHECK_EQ(tern_sock_recv(b, buf, sizeof buf, 0), 3);
    tern_sock_close(a1);
    tern_sock_close(a2);
    tern_sock_close(b);
    net2_close(&n);
}

struct ev_log {
    int calls;
    unsigned last;
};

static void on_ev(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct ev_log *l = ctx;
    (void)sk;
    l->calls++;
    l->last = events;
}

TEST(udp_port_unreachable_gives_connrefused)
{
    struct net2 n;
    REQUIRE_EQ(net2_open(&n, 11, NULL), 0);
    int err;
    struct tern_sock *a = tern_sock_open(n.sa, TERN_SOCK_DGRAM, &err);
    struct tern_sock *u = tern_sock_open(n.sa, TERN_SOCK_DGRAM, &err);
    REQUIRE(a && u);
    struct ev_log ev = {0};
    tern_sock_set_handler(a, TERN_POLLIN, on_ev, &ev);
    struct tern_sockaddr closed = {B_ADDR, 9};
    CHECK_EQ(tern_sock_connect(a, &closed), 0);
    CHECK_EQ(tern_sock_send(a, "x", 1, 0), 1);
    CHECK_EQ(tern_sock_sendto(u, "y", 1, 0, &closed), 1);
    net2_run(&n, 1000000);
    CHECK_EQ(st(n.sb)->udp.no_port, 2);
    CHECK_EQ(st(n.sb)->icmp.errors_tx, 2);
    /* POLLERR reported (always, whatever the interest). */
    CHECK(tern_sock_poll(a) & TERN_POLLERR);
    CHECK(ev.calls >= 1);
    CHECK(ev.last & TERN_POLLERR);
    CHECK_EQ(tern_sock_poll(u) & TERN_POLLERR, 0);
    /* The next call reports it once (Linux: ECONNREFUSED on send/recv). */
    CHECK_EQ(tern_sock_send(a, "x", 1, 0), TERN_E_CONNREFUSED);
    CHECK_EQ(tern_sock_send(a, "x", 1, 0), 1);
    net2_run(&n, 1000000);
    uint8_t buf[8];
    CHECK_EQ(tern_sock_recv(a, buf, sizeof buf, 0), TERN_E_CONNREFUSED);
    CHECK_EQ(tern_sock_recv(a, buf, sizeof buf, 0), TERN_E_AGAIN);
    CHECK_EQ(tern_sock_error(a), 0);
    CHECK_EQ(tern_sock_sendto(u, "y", 1, 0, &closed), 1);
    tern_sock_close(a);
    tern_sock_close(u);
    net2_close(&n);
}

TEST(udp_65507_fragmented_and_reassembled)
{
    struct net2 n;
    REQUIRE_EQ(net2_open(&n, 11, NULL), 0);
    struct tern_sock *a = udp_open_bound(n.sa, A_ADDR, 5555), *b = udp_open_bound(n.sb, 0, 7000);
    REQUIRE(a && b);
    struct tern_sockaddr to = {B_ADDR, 7000};
    uint8_t *big = malloc(65508), *got = malloc(65600);
    for (size_t i = 0; i < 65508; i++)
        big[i] = (uint8_t)(i ^ (i >> 8));
    CHECK_EQ(tern_sock_sendto(a, big, 65508, 0, &to), TERN_E_MSGSIZE);
    /* Resolve ARP first: 45 fragments would not fit the resolution queue. */
    CHECK_EQ(tern_sock_sendto(a, "hi", 2, 0, &to), 2);
    net2_run(&n, 1000000);
    CHECK_EQ(tern_sock_recv(b, got, 65600, 0), 2);
    uint64_t frags = st(n.sa)->ip.frag_tx;
    CHECK_EQ(tern_sock_sendto(a, big, 65507, 0, &to), 65507);
    /* (65507 + 8) bytes in 1480-byte pieces: 45 fragments. */
    CHECK_EQ(st(n.sa)->ip.frag_tx - frags, 45);
    net2_run(&n, 1000000);
    struct tern_sockaddr from;
    int fl = -1;
    CHECK_EQ(tern_sock_recvfrom(b, got, 65600, 0, &from, &fl), 65507);
    CHECK_EQ(fl, 0);
    CHECK_MEM(got, big, 65507);
    CHECK_EQ(from.port, 5555);
    CHECK_EQ(st(n.sb)->ip.reasm_ok, 1);
    free(big);
    free(got);
    tern_sock_close(a);
    tern_sock_close(b);
    net2_close(&n);
}

/* ---- readiness ---------------------------------------------------------- */

static int g_in_call; /* set while the test is inside a tern call */

struct drain_ctx {
    int calls, got;
    struct tern_sock *other; /* closed from the handler */
};

static void on_readable(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct drain_ctx *d = ctx;
    CHECK_EQ(g_in_call, 0); /* never re-entrant */
    d->calls++;
    CHECK(events & TERN_POLLIN);
    uint8_t buf[64];
    while (tern_sock_recv(sk, buf, sizeof buf, 0) >= 0)
        d->got++;
    if (d->other) {
        tern_sock_close(d->other);
        d->other = NULL;
    }
}

TEST(udp_readiness_delivered_on_loop)
{
    struct net2 n;
    REQUIRE_EQ(net2_open(&n, 11, NULL), 0);
    struct tern_sock *a = udp_open_bound(n.sa, 0, 5000);
    struct tern_sock *b = udp_open_bound(n.sb, 0, 7000), *c = udp_open_bound(n.sb, 0, 7001);
    REQUIRE(a && b && c);
    struct drain_ctx d = {0};
    struct ev_log dc = {0};
    d.other = c; /* b's handler closes c, whose notification is pending too */
    struct tern_sockaddr to = {B_ADDR, 7000}, to_c = {B_ADDR, 7001};
    /* Resolve ARP first (its queue holds 4 datagrams per neighbour). */
    CHECK_EQ(tern_sock_sendto(a, "", 0, 0, &(struct tern_sockaddr){B_ADDR, 9}), 0);
    net2_run(&n, 1000000);
    g_in_call = 1;
    tern_sock_set_handler(b, TERN_POLLIN, on_readable, &d);
    tern_sock_set_handler(c, TERN_POLLIN | TERN_POLLOUT, on_ev, &dc);
    g_in_call = 0;
    CHECK_EQ(d.calls, 0);
    CHECK_EQ(dc.calls, 0);
    /* Nothing readable yet: setting the handler reported nothing for b;
     * c is writable and told so once, on the loop. */
    net2_run(&n, 1000);
    CHECK_EQ(d.calls, 0);
    CHECK_EQ(dc.calls, 1);
    CHECK_EQ(dc.last, TERN_POLLOUT);
    g_in_call = 1;
    for (int i = 0; i < 5; i++)
        CHECK_EQ(tern_sock_sendto(a, "abc", 3, 0, &to), 3);
    CHECK_EQ(tern_sock_sendto(a, "c", 1, 0, &to_c), 1);
    g_in_call = 0;
    net2_run(&n, 1000000);
    CHECK_EQ(d.got, 5);
    CHECK(d.calls >= 1 && d.calls <= 5); /* edge-style: batched per turn */
    CHECK_EQ(dc.calls, 1); /* c was closed by b's handler before its turn */
    int calls = d.calls;
    net2_run(&n, 1000000);
    CHECK_EQ(d.calls, calls); /* no new event, no new call */
    tern_sock_close(a);
    tern_sock_close(b);
    net2_close(&n);
}

/* ---- the state world: exact frames --------------------------------------- */

TEST(udp_closed_port_exact_icmp_port_unreachable)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    uint16_t id = ip_peek_id(w->s, W_US, W_PEER, TERN_IPPROTO_ICMP);
    world_inject(w, k_udp_to_closed, sizeof k_udp_to_closed);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK(w_frame_eq_id(f, n, k_port_unreach, sizeof k_port_unreach, id));
    CHECK_EQ(st(w->s)->udp.no_port, 1);
    /* Open the port: delivered, nothing sent. */
    struct tern_sock *sk = udp_open_bound(w->s, 0, 9999);
    REQUIRE(sk != NULL);
    world_inject(w, k_udp_to_closed, sizeof k_udp_to_closed);
    CHECK_EQ(world_pending(w), 0);
    uint8_t buf[16];
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 5);
    CHECK_MEM(buf, "hello", 5);
    tern_sock_close(sk);
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}

TEST(udp_broadcast_needs_so_broadcast)
{
    struct world *w = world_new(NULL);
    struct tern_sock *sk = udp_open_bound(w->s, 0, 5000);
    REQUIRE(sk != NULL);
    struct tern_sockaddr lim = {0xffffffffu, 6000}, dir = {W_BCAST, 6000};
    CHECK_EQ(tern_sock_sendto(sk, "bcast", 5, 0, &lim), TERN_E_ACCES);
    CHECK_EQ(tern_sock_sendto(sk, "bcast", 5, 0, &dir), TERN_E_ACCES);
    CHECK_EQ(tern_sock_connect(sk, &lim), TERN_E_ACCES);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(tern_sock_setopt(sk, TERN_SO_BROADCAST, 1), 0);
    uint16_t id = ip_peek_id(w->s, W_US, 0xffffffffu, TERN_IPPROTO_UDP);
    CHECK_EQ(tern_sock_sendto(sk, "bcast", 5, 0, &lim), 5);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK(w_frame_eq_id(f, n, k_bcast_limited, sizeof k_bcast_limited, id));
    id = ip_peek_id(w->s, W_US, W_BCAST, TERN_IPPROTO_UDP);
    CHECK_EQ(tern_sock_sendto(sk, "bcast", 5, 0, &dir), 5);
    f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK(w_frame_eq_id(f, n, k_bcast_directed, sizeof k_bcast_directed, id));
    tern_sock_close(sk);
    world_end(w);
}

/* A UDP datagram from the peer: Ethernet dst mac, IP src -> dst. */
static size_t udp_frame(uint8_t *f, const uint8_t *mac_dst, uint32_t src, uint16_t sport,
                        uint32_t dst, uint16_t dport, const void *data, size_t len)
{
    uint8_t dg[2048];
    struct tern_udp_repr u = {.sport = sport, .dport = dport, .payload = data,
                              .payload_len = (uint16_t)len};
    int m = tern_udp_emit(&u, src, dst, dg, sizeof dg);
    struct tern_ipv4_repr ip = w_ip(src, dst, TERN_IPPROTO_UDP, 77);
    size_t n = w_ip_frame(f, &ip, dg, (size_t)m);
    memcpy(f, mac_dst, 6);
    return n;
}

TEST(udp_broadcast_to_all_unicast_to_one)
{
    struct world *w = world_new(NULL);
    int err;
    struct tern_sock *s1 = tern_sock_open(w->s, TERN_SOCK_DGRAM, &err);
    struct tern_sock *s2 = tern_sock_open(w->s, TERN_SOCK_DGRAM, &err);
    struct tern_sock *s3 = tern_sock_open(w->s, TERN_SOCK_DGRAM, &err);
    REQUIRE(s1 && s2 && s3);
    struct tern_sockaddr any = {0, 6000}, spec = {W_US, 6000};
    for (int i = 0; i < 3; i++)
        tern_sock_setopt(i == 0 ? s1 : i == 1 ? s2 : s3, TERN_SO_REUSEADDR, 1);
    CHECK_EQ(tern_sock_bind(s1, &any), 0);
    CHECK_EQ(tern_sock_bind(s2, &any), 0);
    CHECK_EQ(tern_sock_bind(s3, &spec), 0);
    uint8_t f[256], buf[16];
    size_t n = udp_frame(f, w_mac_bcast, W_PEER, 1000, 0xffffffffu, 6000, "B", 1);
    world_inject(w, f, n);
    n = udp_frame(f, w_mac_bcast, W_PEER, 1000, W_BCAST, 6000, "D", 1);
    world_inject(w, f, n);
    /* Both wildcard sockets get both broadcasts; the one bound to a
     * unicast address gets none (Linux __udp_is_mcast_sock). */
    for (int i = 0; i < 2; i++) {
        struct tern_sock *sk = i ? s2 : s1;
        CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 1);
        CHECK_EQ(buf[0], 'B');
        CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 1);
        CHECK_EQ(buf[0], 'D');
    }
    CHECK_EQ(tern_sock_recv(s3, buf, sizeof buf, 0), TERN_E_AGAIN);
    /* Unicast: one socket, the most specific. */
    n = udp_frame(f, w_mac_us, W_PEER, 1000, W_US, 6000, "U", 1);
    world_inject(w, f, n);
    CHECK_EQ(tern_sock_recv(s3, buf, sizeof buf, 0), 1);
    CHECK_EQ(tern_sock_recv(s1, buf, sizeof buf, 0), TERN_E_AGAIN);
    CHECK_EQ(tern_sock_recv(s2, buf, sizeof buf, 0), TERN_E_AGAIN);
    /* No ICMP for a broadcast nobody takes. */
    n = udp_frame(f, w_mac_bcast, W_PEER, 1000, 0xffffffffu, 6001, "B", 1);
    world_inject(w, f, n);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(st(w->s)->udp.no_port, 1);
    tern_sock_close(s1);
    tern_sock_close(s2);
    tern_sock_close(s3);
    world_end(w);
}

TEST(attack_22_udp_lengths_and_checksums_at_stack_level)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    struct tern_sock *sk = udp_open_bound(w->s, 0, 7000);
    REQUIRE(sk != NULL);
    uint8_t f[64], buf[16];
    /* Checksum 0: "no checksum", accepted (RFC 768). */
    world_inject(w, k_udp_csum0, sizeof k_udp_csum0);
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 4);
    CHECK_MEM(buf, "zero", 4);
    world_inject(w, k_udp_good, sizeof k_udp_good);
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 4);
    CHECK_MEM(buf, "good", 4);
    /* A wrong checksum: dropped, counted, no ICMP. */
    memcpy(f, k_udp_good, sizeof k_udp_good);
    f[41] ^= 0x01;
    world_inject(w, f, sizeof k_udp_good);
    CHECK_EQ(st(w->s)->udp.drop_csum, 1);
    /* Length field 7 (< 8) and 13 (> the 12-byte IP payload): dropped. */
    memcpy(f, k_udp_good, sizeof k_udp_good);
    f[40] = f[41] = 0;
    tern_put16(f + 38, 7);
    world_inject(w, f, sizeof k_udp_good);
    tern_put16(f + 38, 13);
    world_inject(w, f, sizeof k_udp_good);
    tern_put16(f + 38, 0);
    world_inject(w, f, sizeof k_udp_good);
    CHECK_EQ(st(w->s)->udp.drop_len, 3);
    /* IP payload 8 bytes short of a header: dropped. */
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_UDP, 5);
    size_t n = w_ip_frame(f, &ip, k_udp_good + 34, 7);
    world_inject(w, f, n);
    CHECK_EQ(st(w->s)->udp.drop_len, 4);
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), TERN_E_AGAIN);
    CHECK_EQ(world_pending(w), 0);
    /* Length 10 < the IP payload: trimmed to 2 bytes, every later use too. */
    memcpy(f, k_udp_good, sizeof k_udp_good);
    f[40] = f[41] = 0;
    tern_put16(f + 38, 10);
    world_inject(w, f, sizeof k_udp_good);
    int fl = -1;
    CHECK_EQ(tern_sock_recvfrom(sk, buf, sizeof buf, 0, NULL, &fl), 2);
    CHECK_MEM(buf, "go", 2);
    CHECK_EQ(fl, 0);
    CHECK_EQ(st(w->s)->udp.rx, 8);
    tern_sock_close(sk);
    world_end(w);
}

TEST(udp_rcvbuf_overflow_counted_and_bounded)
{
    struct world *w = world_new(NULL);
    struct tern_sock *sk = udp_open_bound(w->s, 0, 7000);
    REQUIRE(sk != NULL);
    CHECK_EQ(tern_sock_setopt(sk, TERN_SO_RCVBUF, 1024), 0);
    int v;
    CHECK_EQ(tern_sock_getopt(sk, TERN_SO_RCVBUF, &v), 0);
    CHECK_EQ(v, 1024);
    uint8_t f[256], data[100], buf[200];
    memset(data, 0xab, sizeof data);
    for (int i = 0; i < 20; i++) {
        size_t n = udp_frame(f, w_mac_us, W_PEER, 1000, W_US, 7000, data, sizeof data);
        world_inject(w, f, n);
    }
    /* 100 bytes + an 8-byte record header each: 9 fit in 1024. */
    struct tern_sock_info row;
    CHECK_EQ(tern_sock_list(w->s, &row, 1), 1);
    CHECK_EQ(row.recv_q, 900);
    CHECK_EQ(row.rx_drops, 11);
    CHECK_EQ(st(w->s)->udp.rcvbuf_errors, 11);
    CHECK(udp_of(sk)->rq.cap == 1024 && udp_of(sk)->rq.used <= 1024);
    int got = 0;
    while (tern_sock_recv(sk, buf, sizeof buf, 0) == 100)
        got++;
    CHECK_EQ(got, 9);
    /* Room again. */
    size_t n = udp_frame(f, w_mac_us, W_PEER, 1000, W_US, 7000, data, sizeof data);
    world_inject(w, f, n);
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 100);
    tern_sock_close(sk);
    world_end(w);
}

TEST(udp_loopback_to_own_address)
{
    struct world *w = world_new(NULL);
    struct tern_sock *a = udp_open_bound(w->s, 0, 0), *b = udp_open_bound(w->s, 0, 7000);
    REQUIRE(a && b);
    struct tern_sockaddr to = {W_US, 7000}, lo = {0x7f000001u, 7000}, from;
    CHECK_EQ(tern_sock_sendto(a, "me", 2, 0, &to), 2);
    CHECK_EQ(tern_sock_sendto(a, "lo", 2, 0, &lo), 2);
    world_run(w, 1000);
    uint8_t buf[8];
    CHECK_EQ(tern_sock_recvfrom(b, buf, sizeof buf, 0, &from, NULL), 2);
    CHECK_MEM(buf, "me", 2);
    CHECK_EQ(from.addr, W_US);
    CHECK_EQ(tern_sock_recvfrom(b, buf, sizeof buf, 0, &from, NULL), 2);
    CHECK_MEM(buf, "lo", 2);
    CHECK_EQ(world_pending(w), 0);
    tern_sock_close(a);
    tern_sock_close(b);
    world_end(w);
}

/* ---- DHCP hooks ------------------------------------------------------- */

TEST(udp_unaddressed_iface_receives_port_68)
{
    struct world *w = world_new(NULL);
    CHECK_EQ(tern_iface_set_addr(w->s, w->ifindex, 0, 0), 0);
    world_drain(w);
    struct tern_sock *c = udp_open_bound(w->s, 0, 68), *d = udp_open_bound(w->s, 0, 69);
    REQUIRE(c && d);
    CHECK_EQ(tern_sock_setopt(c, TERN_SO_BINDTOIFACE, w->ifindex), 0);
    CHECK_EQ(tern_sock_setopt(c, TERN_SO_BINDTOIFACE, 5), TERN_E_INVAL);
    world_inject(w, k_offer_unicast, sizeof k_offer_unicast);
    world_inject(w, k_offer_bcast, sizeof k_offer_bcast);
    uint8_t buf[16];
    struct tern_sockaddr from;
    CHECK_EQ(tern_sock_recvfrom(c, buf, sizeof buf, 0, &from, NULL), 5);
    CHECK_MEM(buf, "offer", 5);
    CHECK_EQ(from.addr, W_PEER);
    CHECK_EQ(from.port, 67);
    CHECK_EQ(tern_sock_recv(c, buf, sizeof buf, 0), 5);
    /* A socket not bound to the interface does not take unicast for an
     * address that is not ours; no ICMP either. */
    uint8_t f[128];
    size_t n = udp_frame(f, w_mac_us, W_PEER, 67, 0x0a00004du, 69, "x", 1);
    world_inject(w, f, n);
    CHECK_EQ(tern_sock_recv(d, buf, sizeof buf, 0), TERN_E_AGAIN);
    CHECK_EQ(world_pending(w), 0);
    /* Once addressed, unicast for other addresses is not for us again. */
    CHECK_EQ(tern_iface_set_addr(w->s, w->ifindex, W_US, 24), 0);
    world_drain(w);
    world_inject(w, k_offer_unicast, sizeof k_offer_unicast);
    CHECK_EQ(tern_sock_recv(c, buf, sizeof buf, 0), TERN_E_AGAIN);
    tern_sock_close(c);
    tern_sock_close(d);
    world_end(w);
}

TEST(udp_src0_broadcast_out_when_unaddressed)
{
    struct world *w = world_new(NULL);
    CHECK_EQ(tern_iface_set_addr(w->s, w->ifindex, 0, 0), 0);
    world_drain(w);
    struct tern_sock *c = udp_open_bound(w->s, 0, 68);
    REQUIRE(c != NULL);
    CHECK_EQ(tern_sock_setopt(c, TERN_SO_BINDTOIFACE, w->ifindex), 0);
    CHECK_EQ(tern_sock_setopt(c, TERN_SO_BROADCAST, 1), 0);
    struct tern_sockaddr to = {0xffffffffu, 67};
    uint16_t id = ip_peek_id(w->s, 0, 0xffffffffu, TERN_IPPROTO_UDP);
    CHECK_EQ(tern_sock_sendto(c, "discover", 8, 0, &to), 8);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK(w_frame_eq_id(f, n, k_dhcp_src0, sizeof k_dhcp_src0, id));
    tern_sock_close(c);
    world_end(w);
}

TEST(udp_server_receives_src0_broadcast)
{
    struct world *w = world_new(NULL);
    struct tern_sock *srv = udp_open_bound(w->s, 0, 67);
    REQUIRE(srv != NULL);
    uint8_t f[sizeof k_dhcp_src0];
    memcpy(f, k_dhcp_src0, sizeof f);
    memcpy(f + 6, w_mac_peer, 6);
    world_inject(w, f, sizeof f);
    uint8_t buf[16];
    struct tern_sockaddr from = {1, 1};
    CHECK_EQ(tern_sock_recvfrom(srv, buf, sizeof buf, 0, &from, NULL), 8);
    CHECK_MEM(buf, "discover", 8);
    CHECK_EQ(from.addr, 0);
    CHECK_EQ(from.port, 68);
    tern_sock_close(srv);
    world_end(w);
}

/* ---- tern_iface_set_addr and tern_arp_probe ------------------------------ */

TEST(iface_set_addr_route_and_gratuitous_arp)
{
    struct world *w = world_new(NULL);
    CHECK_EQ(tern_iface_set_addr(w->s, w->ifindex, 0x0a000107u, 24), 0);
    size_t n;
    const uint8_t *f = world_pop(w, &n);
    REQUIRE(f != NULL);
    CHECK(w_frame_eq(f, n, k_garp_new, sizeof k_garp_new));
    int ifx = -1;
    uint32_t nh;
    CHECK_EQ(tern_route_lookup(w->s, 0x0a000109u, &nh, &ifx), 0);
    CHECK_EQ(ifx, w->ifindex);
    CHECK_EQ(tern_route_lookup(w->s, 0x0a000009u, &nh, &ifx), TERN_E_INVAL);
    struct tern_iface_config ic;
    CHECK_EQ(tern_iface_get(w->s, w->ifindex, &ic), 0);
    CHECK_EQ(ic.addr, 0x0a000107u);
    CHECK_EQ(ic.prefix_len, 24);
    CHECK_EQ(tern_iface_set_addr(w->s, w->ifindex, 0x0a0001ffu, 24), TERN_E_INVAL);
    CHECK_EQ(tern_iface_set_addr(w->s, w->ifindex, 0x7f000001u, 8), TERN_E_INVAL);
    CHECK_EQ(tern_iface_set_addr(w->s, 7, W_US, 24), TERN_E_INVAL);
    struct tern_sock *sk = udp_open_bound(w->s, W_US, 1);
    CHECK(sk == NULL); /* no longer ours */
    sk = udp_open_bound(w->s, 0x0a000107u, 2000);
    CHECK(sk != NULL);
    tern_sock_close(sk);
    /* Cleared: no route, no announcement. */
    CHECK_EQ(tern_iface_set_addr(w->s, w->ifindex, 0, 0), 0);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(tern_route_lookup(w->s, 0x0a000109u, &nh, &ifx), TERN_E_INVAL);
    world_end(w);
}

struct probe_res {
    int calls;
    bool in_use;
    uint64_t when;
    struct tern_loop *loop;
};

static void on_probe(void *ctx, bool in_use)
{
    struct probe_res *r = ctx;
    CHECK_EQ(g_in_call, 0);
    r->calls++;
    r->in_use = in_use;
    r->when = tern_loop_now(r->loop);
}

TEST(arp_probe_no_answer_means_free)
{
    struct world *w = world_new(NULL);
    struct probe_res r = {.loop = w->loop};
    uint64_t t0 = tern_loop_now(w->loop);
    CHECK_EQ(tern_arp_probe(w->s, w->ifindex, 0x0a000032u, on_probe, &r), 0);
    CHECK_EQ(tern_arp_probe(w->s, w->ifindex, 0x0a000033u, on_probe, &r), TERN_E_ALREADY);
    CHECK_EQ(tern_arp_probe(w->s, w->ifindex, 0, on_probe, &r), TERN_E_INVAL);
    world_run(w, 20000000);
    CHECK_EQ(r.calls, 1);
    CHECK(!r.in_use);
    /* PROBE_WAIT 0..1 s, 3 probes 1..2 s apart, ANNOUNCE_WAIT 2 s. */
    CHECK(r.when - t0 >= 4000000 && r.when - t0 <= 7000000);
    int probes = 0;
    size_t n;
    const uint8_t *f;
    while ((f = world_pop(w, &n)) != NULL) {
        CHECK(w_frame_eq(f, n, k_arp_probe, sizeof k_arp_probe));
        probes++;
    }
    CHECK_EQ(probes, 3);
    world_end(w);
}

TEST(arp_probe_detects_conflict)
{
    for (int how = 0; how < 3; how++) {
        struct world *w = world_new(NULL);
        struct probe_res r = {.loop = w->loop};
        CHECK_EQ(tern_arp_probe(w->s, w->ifindex, 0x0a000032u, on_probe, &r), 0);
        world_run(w, 1500000);
        world_drain(w);
        uint8_t f[64];
        static const uint8_t zero[6];
        size_t n;
        if (how == 0) /* a reply claiming the address */
            n = w_arp_frame(f, TERN_ARP_REPLY, w_mac_us, w_mac_peer, 0x0a000032u, w_mac_us, 0);
        else if (how == 1) /* another host probing for it */
            n = w_arp_frame(f, TERN_ARP_REQUEST, w_mac_bcast, w_mac_peer, 0, zero, 0x0a000032u);
        else /* our own probe looped back: not a conflict */
            n = w_arp_frame(f, TERN_ARP_REQUEST, w_mac_bcast, w_mac_us, 0, zero, 0x0a000032u);
        g_in_call = 1;
        world_inject(w, f, n);
        g_in_call = 0;
        CHECK_EQ(r.calls, 0); /* reported on the loop, not from the input path */
        world_run(w, 20000000);
        CHECK_EQ(r.calls, 1);
        CHECK_EQ(r.in_use, how != 2);
        world_end(w);
    }
}
