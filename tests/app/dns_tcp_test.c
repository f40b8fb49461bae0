/*
 * Tests for DNS over TCP in src/app/dns_server.c (RFC 1035 s4.2.2,
 * RFC 7766) in virtual time: tern's server on stack B (10.0.0.2), plain
 * TCP sockets on stack A as clients. Pipelined queries answered in order;
 * the bounds of ATTACKS G3 (connections capped, the longest-idle one
 * closed for a newcomer, a too-long length prefix
 * closes the connection, idle connections closed after
 * TERN_DNS_TCP_IDLE_US whatever trickles in).
 */
#include <stdlib.h>

#include "app/dns_server.h"
#include "common/net2.h"
#include "harness.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/wire/bytes.h"
#include "tern/wire/dns.h"

struct dt {
    struct net2 n;
    struct tern_dns_zone *zone;
    struct tern_dns_server *srv;
};

static int dt_open(struct dt *t)
{
    memset(t, 0, sizeof *t);
    if (net2_open(&t->n, 5, NULL) < 0)
        return -1;
    char err[256];
    t->zone = dns_zone_load("examples/zones/example.test.zone", err, sizeof err);
    int e;
    if (!t->zone || !(t->srv = dns_server_start(t->n.sb, t->n.loop, t->zone, 0, &e)))
        return -1;
    return 0;
}

static void dt_close(struct dt *t)
{
    dns_server_free(t->srv);
    dns_zone_free(t->zone);
    net2_close(&t->n);
}

static void run(struct dt *t, uint64_t us)
{
    tern_loop_run(t->n.loop, tern_loop_now(t->n.loop) + us);
}

static struct tern_sock *dial(struct dt *t)
{
    struct tern_sock *sk = tern_sock_open(t->n.sa, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr to = {NET2_B, 53};
    if (!sk || tern_sock_connect(sk, &to) != TERN_E_INPROGRESS)
        return NULL;
    return sk;
}

/* A query for name/A with its 2-octet length prefix; returns its length. */
static size_t framed_query(uint8_t *buf, uint16_t id, const char *name)
{
    struct tern_dns_writer w;
    struct tern_dns_question q = {.qtype = TERN_DNS_T_A, .qclass = TERN_DNS_C_IN};
    tern_dns_name_from_text(name, &q.name);
    tern_dns_writer_init(&w, buf + 2, 512);
    tern_dns_put_question(&w, &q);
    struct tern_dns_header h = {.id = id, .rd = true};
    int n = tern_dns_writer_finish(&w, &h);
    tern_put16(buf, (uint16_t)n);
    return 2 + (size_t)n;
}

TEST(dns_tcp_pipelined_queries_answered_in_order)
{
    struct dt t;
    REQUIRE(dt_open(&t) == 0);
    struct tern_sock *c = dial(&t);
    REQUIRE(c != NULL);
    run(&t, 100000);
    /* two queries in one send (RFC 7766 s6.2.1.1) */
    uint8_t q[1100];
    size_t l1 = framed_query(q, 0x1111, "www.example.test");
    size_t l2 = framed_query(q + l1, 0x2222, "nope.example.test");
    REQUIRE_EQ(tern_sock_send(c, q, l1 + l2, 0), (ssize_t)(l1 + l2));
    run(&t, 100000);
    uint8_t a[4096];
    ssize_t n = tern_sock_recv(c, a, sizeof a, 0);
    REQUIRE(n > 4);
    size_t m1 = tern_get16(a);
    REQUIRE((size_t)n >= 2 + m1 + 2);
    size_t m2 = tern_get16(a + 2 + m1);
    CHECK_EQ((size_t)n, 2 + m1 + 2 + m2);
    struct tern_dns_header h1, h2;
    REQUIRE(tern_dns_header_parse(a + 2, m1, &h1) == TERN_DNS_HLEN);
    REQUIRE(tern_dns_header_parse(a + 4 + m1, m2, &h2) == TERN_DNS_HLEN);
    CHECK_EQ(h1.id, 0x1111);
    CHECK_EQ(h1.rcode, TERN_DNS_R_NOERROR);
    CHECK_EQ(h1.ancount, 1);
    CHECK_EQ(h2.id, 0x2222);
    CHECK_EQ(h2.rcode, TERN_DNS_R_NXDOMAIN);
    /* the client half-closes: the server closes its side too */
    CHECK_EQ(tern_sock_shutdown(c, TERN_SHUT_WR), 0);
    run(&t, 100000);
    CHECK_EQ(tern_sock_recv(c, a, sizeof a, 0), 0);
    const struct dns_server_stats *st = dns_server_stats(t.srv);
    CHECK_EQ(st->tcp_queries, 2);
    CHECK_EQ(st->tcp_conns, 1);
    tern_sock_close(c);
    run(&t, 300000000);
    CHECK_EQ(tern_sock_list(t.n.sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(t.n.sb, NULL, 0), 2); /* the UDP socket and the listener */
    dt_close(&t);
}

TEST(dns_tcp_query_length_over_cap_closes_connection)
{
    struct dt t;
    REQUIRE(dt_open(&t) == 0);
    struct tern_sock *c = dial(&t);
    REQUIRE(c != NULL);
    run(&t, 100000);
    /* a length prefix of 65535 (> TERN_DNS_TCP_QUERY_MAX): nothing is
     * buffered for it, the connection is reset */
    uint8_t big[2] = {0xff, 0xff};
    REQUIRE_EQ(tern_sock_send(c, big, 2, 0), 2);
    run(&t, 100000);
    uint8_t a[64];
    CHECK_EQ(tern_sock_recv(c, a, sizeof a, 0), TERN_E_CONNRESET);
    CHECK_EQ(dns_server_stats(t.srv)->tcp_too_long, 1);
    CHECK_EQ(dns_server_stats(t.srv)->tcp_queries, 0);
    tern_sock_close(c);
    run(&t, 1000000);
    CHECK_EQ(tern_sock_list(t.n.sa, NULL, 0), 0);
    dt_close(&t);
}

/* 16 connections that never ask anything must not lock a real client out
 * (they used to: the 17th was reset, for as long as they stayed): RFC 7766
 * s6.2.3, the longest-idle one is closed to make room. */
TEST(dns_tcp_connections_capped_idle_ones_make_room)
{
    struct dt t;
    REQUIRE(dt_open(&t) == 0);
    struct tern_sock *c[TERN_DNS_TCP_CLIENTS];
    for (int i = 0; i < TERN_DNS_TCP_CLIENTS; i++) {
        c[i] = dial(&t);
        REQUIRE(c[i] != NULL);
        run(&t, 10000);
    }
    run(&t, 100000);
    uint8_t a[512], q[600];
    size_t l = framed_query(q, 0x3333, "www.example.test");
    /* c[0], the oldest, asks a query: it is no longer the longest idle */
    REQUIRE_EQ(tern_sock_send(c[0], q, l, 0), (ssize_t)l);
    run(&t, 100000);
    ssize_t n = tern_sock_recv(c[0], a, sizeof a, 0);
    REQUIRE(n > 2);
    CHECK_EQ((size_t)n, 2 + (size_t)tern_get16(a));
    /* a real client comes while all 16 slots are held */
    struct tern_sock *real = dial(&t);
    REQUIRE(real != NULL);
    run(&t, 100000);
    REQUIRE_EQ(tern_sock_send(real, q, l, 0), (ssize_t)l);
    run(&t, 100000);
    n = tern_sock_recv(real, a, sizeof a, 0);
    REQUIRE(n > 2);
    CHECK_EQ((size_t)n, 2 + (size_t)tern_get16(a)); /* served */
    CHECK_EQ(dns_server_stats(t.srv)->tcp_evicted, 1);
    CHECK_EQ(dns_server_stats(t.srv)->tcp_conns, TERN_DNS_TCP_CLIENTS + 1);
    /* the victim was c[1] (longest without a query), closed with a FIN;
     * c[0] and the rest still hold */
    CHECK_EQ(tern_sock_recv(c[1], a, sizeof a, 0), 0);
    CHECK_EQ(tern_sock_recv(c[0], a, sizeof a, 0), TERN_E_AGAIN);
    CHECK_EQ(tern_sock_recv(c[2], a, sizeof a, 0), TERN_E_AGAIN);
    /* a second newcomer takes c[2]'s place */
    struct tern_sock *real2 = dial(&t);
    REQUIRE(real2 != NULL);
    run(&t, 100000);
    CHECK_EQ(tern_sock_recv(c[2], a, sizeof a, 0), 0);
    CHECK_EQ(dns_server_stats(t.srv)->tcp_evicted, 2);
    tern_sock_close(real);
    tern_sock_close(real2);
    for (int i = 0; i < TERN_DNS_TCP_CLIENTS; i++)
        tern_sock_close(c[i]);
    run(&t, 300000000);
    CHECK_EQ(tern_sock_list(t.n.sa, NULL, 0), 0);
    dt_close(&t);
}

TEST(dns_tcp_idle_connection_closed_even_if_trickling)
{
    struct dt t;
    REQUIRE(dt_open(&t) == 0);
    struct tern_sock *c = dial(&t);
    REQUIRE(c != NULL);
    run(&t, 100000);
    /* one byte of a length prefix every 3 s does not keep it open */
    uint8_t b = 0;
    REQUIRE_EQ(tern_sock_send(c, &b, 1, 0), 1);
    run(&t, 3000000);
    uint8_t a[64];
    CHECK_EQ(tern_sock_recv(c, a, sizeof a, 0), TERN_E_AGAIN);
    b = 40;
    REQUIRE_EQ(tern_sock_send(c, &b, 1, 0), 1);
    run(&t, TERN_DNS_TCP_IDLE_US - 3000000 - 100000 - 50000);
    CHECK_EQ(tern_sock_recv(c, a, sizeof a, 0), TERN_E_AGAIN);
    run(&t, 200000);
    CHECK_EQ(tern_sock_recv(c, a, sizeof a, 0), 0); /* the server's FIN */
    CHECK_EQ(dns_server_stats(t.srv)->tcp_idle_closed, 1);
    tern_sock_close(c);
    run(&t, 300000000);
    CHECK_EQ(tern_sock_list(t.n.sa, NULL, 0), 0);
    dt_close(&t);
}
