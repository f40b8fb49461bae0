/*
 * tests/core/ports_cache_test.c - the one-entry shortcut in front of the
 * keyed 4-tuple table (ports.c ports_find_conn): a socket that left the
 * table is never found through it.
 */
#include <string.h>

#include "harness.h"
#include "tern/socket.h"
#include "tern/wire/bytes.h"
#include "world.h"

static void inject_udp(struct world *w, uint16_t sport, uint16_t dport, const char *msg)
{
    uint8_t u[64], f[128];
    size_t n = strlen(msg);
    tern_put16(u, sport);
    tern_put16(u + 2, dport);
    tern_put16(u + 4, (uint16_t)(8 + n));
    tern_put16(u + 6, 0); /* no checksum (RFC 768) */
    memcpy(u + 8, msg, n);
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_UDP, 1);
    world_inject(w, f, w_ip_frame(f, &ip, u, 8 + n));
    world_run(w, 1000);
}

TEST(core_ports_last_match_forgets_closed_socket)
{
    struct world *w = world_new(NULL);
    world_learn_peer(w);
    int err;
    struct tern_sock *a = tern_sock_open(w->s, TERN_SOCK_DGRAM, &err);
    REQUIRE(a != NULL);
    struct tern_sockaddr local = {0, 5000}, peer = {W_PEER, 6000};
    CHECK_EQ(tern_sock_bind(a, &local), 0);
    CHECK_EQ(tern_sock_connect(a, &peer), 0);
    char buf[16];
    inject_udp(w, 6000, 5000, "one");
    CHECK_EQ(tern_sock_recv(a, buf, sizeof buf, 0), 3);
    CHECK(memcmp(buf, "one", 3) == 0);
    /* The connected socket goes; an unconnected one takes the port: the
     * same 4-tuple now belongs to it. */
    tern_sock_close(a);
    struct tern_sock *c = tern_sock_open(w->s, TERN_SOCK_DGRAM, &err);
    REQUIRE(c != NULL);
    CHECK_EQ(tern_sock_bind(c, &local), 0);
    inject_udp(w, 6000, 5000, "two");
    CHECK_EQ(tern_sock_recv(c, buf, sizeof buf, 0), 3);
    CHECK(memcmp(buf, "two", 3) == 0);
    /* And a connected socket again, on the same slot or another. */
    tern_sock_close(c);
    struct tern_sock *d = tern_sock_open(w->s, TERN_SOCK_DGRAM, &err);
    REQUIRE(d != NULL);
    CHECK_EQ(tern_sock_bind(d, &local), 0);
    struct tern_sockaddr peer2 = {W_PEER, 6001};
    CHECK_EQ(tern_sock_connect(d, &peer2), 0);
    inject_udp(w, 6000, 5000, "three");
    CHECK_EQ(tern_sock_recv(d, buf, sizeof buf, 0), TERN_E_AGAIN); /* not its peer */
    inject_udp(w, 6001, 5000, "four");
    CHECK_EQ(tern_sock_recv(d, buf, sizeof buf, 0), 4);
    tern_sock_close(d);
    world_end(w);
}
