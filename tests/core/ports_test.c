/*
 * Tests for src/core/ports.c: bind conflicts with the Linux SO_REUSEADDR
 * rules, ephemeral ports (RFC 6056: in range, randomized, not sequential),
 * range exhaustion, and the privileged-port policy.
 */
#include <stdlib.h>

#include "core/socket_impl.h"
#include "harness.h"
#include "tern/socket.h"
#include "world.h"

static struct tern_sock *udp(struct world *w)
{
    int err;
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_DGRAM, &err);
    CHECK(sk != NULL);
    return sk;
}

static int bind_to(struct tern_sock *sk, uint32_t addr, uint16_t port)
{
    struct tern_sockaddr l = {addr, port};
    return tern_sock_bind(sk, &l);
}

static void end(struct world *w)
{
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}

TEST(ports_bind_conflicts)
{
    struct world *w = world_new(NULL);
    struct tern_sock *a = udp(w), *b = udp(w), *c = udp(w), *d = udp(w);
    CHECK_EQ(bind_to(a, W_US, 5000), 0);
    CHECK_EQ(bind_to(a, W_US, 5001), TERN_E_INVAL);        /* already bound */
    CHECK_EQ(bind_to(b, W_US, 5000), TERN_E_ADDRINUSE);    /* same address */
    CHECK_EQ(bind_to(b, 0, 5000), TERN_E_ADDRINUSE);       /* wildcard overlaps */
    CHECK_EQ(bind_to(b, 0x7f000001u, 5000), 0);            /* another address: fine */
    CHECK_EQ(bind_to(c, W_PEER, 5000), TERN_E_ADDRNOTAVAIL); /* not ours */
    CHECK_EQ(bind_to(c, 0, 5002), 0);
    CHECK_EQ(bind_to(d, W_US, 5002), TERN_E_ADDRINUSE);    /* under a wildcard */
    tern_sock_close(a);
    CHECK_EQ(bind_to(d, W_US, 5000), 0);                   /* freed by close */
    tern_sock_close(b);
    tern_sock_close(c);
    tern_sock_close(d);
    end(w);
}

TEST(ports_reuseaddr_linux_rules)
{
    struct world *w = world_new(NULL);
    struct tern_sock *a = udp(w), *b = udp(w), *c = udp(w);
    /* Only one side set: conflict. */
    CHECK_EQ(tern_sock_setopt(a, TERN_SO_REUSEADDR, 1), 0);
    CHECK_EQ(bind_to(a, 0, 6000), 0);
    CHECK_EQ(bind_to(b, 0, 6000), TERN_E_ADDRINUSE);
    /* Both set: UDP sockets share even the exact address (Linux). */
    CHECK_EQ(tern_sock_setopt(b, TERN_SO_REUSEADDR, 1), 0);
    CHECK_EQ(bind_to(b, 0, 6000), 0);
    CHECK_EQ(tern_sock_setopt(c, TERN_SO_REUSEADDR, 1), 0);
    CHECK_EQ(bind_to(c, W_US, 6000), 0);
    int v = 0;
    CHECK_EQ(tern_sock_getopt(c, TERN_SO_REUSEADDR, &v), 0);
    CHECK_EQ(v, 1);
    tern_sock_close(a);
    tern_sock_close(b);
    tern_sock_close(c);
    /* TCP rule (exercised on the shared table directly): no sharing with a
     * listener even when both set SO_REUSEADDR. */
    a = udp(w), b = udp(w);
    tern_sock_setopt(a, TERN_SO_REUSEADDR, 1);
    tern_sock_setopt(b, TERN_SO_REUSEADDR, 1);
    CHECK_EQ(bind_to(a, 0, 6001), 0);
    a->listening = true;
    CHECK_EQ(bind_to(b, 0, 6001), TERN_E_ADDRINUSE);
    a->listening = false;
    CHECK_EQ(bind_to(b, 0, 6001), 0);
    CHECK_EQ(ports_check_listen(w->s, a), TERN_E_ADDRINUSE);
    tern_sock_close(b);
    CHECK_EQ(ports_check_listen(w->s, a), 0);
    tern_sock_close(a);
    end(w);
}

TEST(ports_bindtoiface_separates)
{
    struct world *w = world_new(NULL);
    struct tern_sock *a = udp(w), *b = udp(w);
    CHECK_EQ(tern_sock_setopt(a, TERN_SO_BINDTOIFACE, w->ifindex), 0);
    CHECK_EQ(bind_to(a, 0, 68), 0);
    /* An unbound socket overlaps every interface. */
    CHECK_EQ(bind_to(b, 0, 68), TERN_E_ADDRINUSE);
    tern_sock_close(a);
    tern_sock_close(b);
    end(w);
}

TEST(ports_privileged_policy)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 3;
    c.privileged_ports = true;
    struct world *w = world_new(&c);
    struct tern_sock *a = udp(w), *b = udp(w), *d = udp(w);
    CHECK_EQ(bind_to(a, 0, 80), TERN_E_ACCES);
    CHECK_EQ(bind_to(a, 0, 1023), TERN_E_ACCES);
    CHECK_EQ(bind_to(a, 0, 1024), 0);
    CHECK_EQ(tern_sock_setopt(b, TERN_SO_PRIVILEGED, 1), 0);
    CHECK_EQ(bind_to(b, 0, 80), 0);
    CHECK_EQ(bind_to(d, 0, 0), 0); /* ephemeral ports are never privileged */
    tern_sock_close(a);
    tern_sock_close(b);
    tern_sock_close(d);
    end(w);
    /* Policy off (the default): anyone may bind 80. */
    w = world_new(NULL);
    a = udp(w);
    CHECK_EQ(bind_to(a, 0, 80), 0);
    tern_sock_close(a);
    end(w);
}

static void check_random_ports(const uint16_t *p, int n, uint16_t lo, uint16_t hi)
{
    int seq = 0, bins[16] = {0};
    uint32_t span = (uint32_t)hi - lo + 1;
    for (int i = 0; i < n; i++) {
        CHECK(p[i] >= lo && p[i] <= hi);
        bins[(uint32_t)(p[i] - lo) * 16 / span]++;
        if (i && (p[i] == p[i - 1] + 1 || p[i] == p[i - 1] - 1))
            seq++;
    }
    /* A sequential allocator makes n-1 neighbours; a uniform one ~2n/span. */
    CHECK(seq < 10);
    /* Pearson chi-square over 16 equal bins, 15 degrees of freedom: 37.7
     * is the p = 0.001 critical value. */
    double e = n / 16.0, chi = 0;
    for (int i = 0; i < 16; i++)
        chi += (bins[i] - e) * (bins[i] - e) / e;
    CHECK(chi < 37.7);
}

TEST(attack_39_ephemeral_ports_randomized)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 99;
    struct world *w = world_new(&c);
    static struct tern_sock *sk[1000];
    static uint16_t p[1000];
    /* 1000 sockets held at once: all distinct, in range, random. */
    for (int i = 0; i < 1000; i++) {
        sk[i] = udp(w);
        REQUIRE(sk[i]);
        CHECK_EQ(bind_to(sk[i], 0, 0), 0);
        struct tern_sockaddr l;
        tern_sock_getsockname(sk[i], &l);
        p[i] = l.port;
        CHECK_EQ(l.addr, 0);
    }
    check_random_ports(p, 1000, 49152, 65535);
    for (int i = 0; i < 1000; i++)
        for (int j = i + 1; j < 1000; j++)
            if (p[i] == p[j])
                CHECK(!"duplicate port");
    for (int i = 0; i < 1000; i++)
        tern_sock_close(sk[i]);
    /* 1000 bind/close cycles (the port is free again each time). */
    for (int i = 0; i < 1000; i++) {
        struct tern_sock *s1 = udp(w);
        CHECK_EQ(bind_to(s1, 0, 0), 0);
        struct tern_sockaddr l;
        tern_sock_getsockname(s1, &l);
        p[i] = l.port;
        tern_sock_close(s1);
    }
    check_random_ports(p, 1000, 49152, 65535);
    /* Connected sockets (RFC 6056 Algorithm 4 + random increments): one
     * peer's successive ports are not sequential either. */
    struct tern_sockaddr peer = {W_PEER, 53};
    for (int i = 0; i < 200; i++) {
        struct tern_sock *s1 = udp(w);
        CHECK_EQ(tern_sock_connect(s1, &peer), 0);
        struct tern_sockaddr l;
        tern_sock_getsockname(s1, &l);
        CHECK_EQ(l.addr, W_US);
        p[i] = l.port;
        tern_sock_close(s1);
    }
    int seq = 0;
    for (int i = 1; i < 200; i++) {
        CHECK(p[i] >= 49152);
        seq += p[i] == p[i - 1] + 1;
    }
    CHECK(seq < 5);
    end(w);
}

TEST(ports_ephemeral_range_exhausted)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 5;
    c.ephemeral_lo = 40000;
    c.ephemeral_hi = 40009;
    struct world *w = world_new(&c);
    struct tern_sock *sk[11];
    bool seen[10] = {false};
    for (int i = 0; i < 10; i++) {
        sk[i] = udp(w);
        CHECK_EQ(bind_to(sk[i], 0, 0), 0);
        struct tern_sockaddr l;
        tern_sock_getsockname(sk[i], &l);
        REQUIRE(l.port >= 40000 && l.port <= 40009);
        CHECK(!seen[l.port - 40000]);
        seen[l.port - 40000] = true;
    }
    sk[10] = udp(w);
    CHECK_EQ(bind_to(sk[10], 0, 0), TERN_E_ADDRINUSE);
    struct tern_sockaddr to = {W_PEER, 9};
    CHECK_EQ(tern_sock_sendto(sk[10], "x", 1, 0, &to), TERN_E_ADDRINUSE);
    for (int i = 0; i < 11; i++)
        tern_sock_close(sk[i]);
    end(w);
}

TEST(ports_config_validated)
{
    struct tern_config c;
    tern_config_defaults(&c);
    CHECK_EQ(c.max_sockets, 1024);
    CHECK_EQ(c.ephemeral_lo, 49152);
    CHECK_EQ(c.ephemeral_hi, 65535);
    CHECK(!c.privileged_ports);
    CHECK_EQ(c.udp_rcvbuf, 65536);
    struct tern_loop *loop = tern_loop_virtual_new(0);
    c.ephemeral_lo = 50000;
    c.ephemeral_hi = 49999;
    CHECK(tern_stack_new(&c, loop) == NULL);
    tern_config_defaults(&c);
    c.max_sockets = 0;
    CHECK(tern_stack_new(&c, loop) == NULL);
    tern_config_defaults(&c);
    c.udp_rcvbuf = 10;
    CHECK(tern_stack_new(&c, loop) == NULL);
    tern_loop_destroy(loop);
}
