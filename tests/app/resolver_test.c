/*
 * Tests for src/app/resolver.c in virtual time.
 *  - Two stacks on a memory link, the resolver against tern's own server
 *    (src/app/dns_server.c with examples/zones/example.test.zone): answer,
 *    CNAME chain, AAAA, NXDOMAIN, NODATA, REFUSED, timeout with retries,
 *    a dead first server, 30% loss (seeded impairment).
 *  - A truncated UDP answer (40 A records > 512 octets) asked again over
 *    TCP (RFC 7766 s5) of tern's server, which answers on TCP port 53 too.
 *  - Crafted replies in the state world (ATTACKS 46): resolver_attack_test.c.
 * Expected output lines are host(1)'s formats (bind9-host 9.18).
 */
#include <stdlib.h>

#include "app/dns_server.h"
#include "app/resolver.h"
#include "harness.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define SERVER 0x0a000002u

struct net2 {
    struct tern_loop *loop;
    struct tern_device *a, *b;
    struct tern_stack *sa, *sb;
    struct tern_dns_zone *zone;
    struct tern_dns_server *srv;
};

static FILE *g_trace; /* set: B's frames printed tcpdump-style */

static int net2_open(struct net2 *n, uint64_t seed, const struct tern_impair *imp)
{
    memset(n, 0, sizeof *n);
    n->loop = tern_loop_virtual_new(0);
    if (!n->loop || tern_memlink_pair(n->loop, TERN_LINK_ETHERNET, 1500, 256, &n->a, &n->b) < 0)
        return -1;
    if (g_trace && !(n->b = tern_trace_wrap(n->loop, n->b, NULL, g_trace)))
        return -1;
    if (imp) {
        struct tern_impair ia = *imp, ib = *imp;
        ia.seed = seed * 2 + 1;
        ib.seed = seed * 2 + 2;
        n->a = tern_impair_wrap(n->loop, n->a, &ia);
        n->b = tern_impair_wrap(n->loop, n->b, &ib);
        if (!n->a || !n->b)
            return -1;
    }
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = seed;
    n->sa = tern_stack_new(&cfg, n->loop);
    cfg.seed = seed + 1000;
    n->sb = tern_stack_new(&cfg, n->loop);
    if (!n->sa || !n->sb)
        return -1;
    struct tern_iface_config ca = {.addr = 0x0a000001, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 1}};
    struct tern_iface_config cb = {.addr = SERVER, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 2}};
    if (tern_stack_add_iface(n->sa, n->a, &ca) < 0 || tern_stack_add_iface(n->sb, n->b, &cb) < 0)
        return -1;
    char err[256];
    n->zone = dns_zone_load("examples/zones/example.test.zone", err, sizeof err);
    int e;
    if (!n->zone || !(n->srv = dns_server_start(n->sb, n->loop, n->zone, 0, &e)))
        return -1;
    return 0;
}

static void net2_close(struct net2 *n)
{
    dns_server_free(n->srv);
    dns_zone_free(n->zone);
    tern_stack_free(n->sa);
    tern_stack_free(n->sb);
    tern_device_destroy(n->a);
    tern_device_destroy(n->b);
    tern_loop_destroy(n->loop);
}

struct done_state {
    struct tern_loop *loop;
    struct tern_resolve_result res;
    int calls;
    uint64_t at;
};

static void on_done(void *ctx, const struct tern_resolve_result *r)
{
    struct done_state *d = ctx;
    d->res = *r;
    d->calls++;
    d->at = tern_loop_now(d->loop);
    tern_loop_stop(d->loop);
}

/* Resolves name on n (server 10.0.0.2 unless o says otherwise); returns
 * the host(1)-style output (malloc'd) and its exit status. */
static char *resolve(struct net2 *n, const char *name, struct tern_resolve_opts *o,
                     struct done_state *d, int *status)
{
    struct tern_resolve_opts def = {.servers = {SERVER}, .nservers = 1};
    if (!o)
        o = &def;
    memset(d, 0, sizeof *d);
    d->loop = n->loop;
    uint64_t t0 = tern_loop_now(n->loop);
    int err;
    struct tern_resolve *q = resolve_start(n->sa, n->loop, name, o, on_done, d, &err);
    if (!q)
        return NULL;
    CHECK_EQ(d->calls, 0); /* never from inside start */
    tern_loop_run(n->loop, t0 + 600ull * 1000000);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *status = d->calls == 1 ? resolve_print(&d->res, name, f) : -1;
    fclose(f);
    resolve_free(q);
    d->at -= t0;
    return buf;
}

TEST(resolver_answer_from_tern_server)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 1, NULL) == 0);
    struct done_state d;
    int st;
    char *out = resolve(&n, "www.example.test", NULL, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, "www.example.test has address 10.0.0.5\n");
    CHECK_EQ(st, 0);
    CHECK_EQ(d.res.status, TERN_RESOLVE_OK);
    CHECK_EQ(d.res.rcode, 0);
    CHECK_EQ(d.res.server, SERVER);
    CHECK_EQ(d.res.queries_sent, 1);
    CHECK_EQ(d.res.ignored, 0);
    free(out);
    /* AAAA */
    struct tern_resolve_opts o = {.servers = {SERVER}, .nservers = 1, .qtype = TERN_DNS_T_AAAA};
    out = resolve(&n, "www.example.test", &o, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, "www.example.test has IPv6 address 2001:db8::5\n");
    CHECK_EQ(st, 0);
    free(out);
    const struct dns_server_stats *ss = dns_server_stats(n.srv);
    CHECK_EQ(ss->queries, 2);
    CHECK_EQ(ss->answers, 2);
    net2_close(&n);
}

TEST(resolver_cname_chain)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 2, NULL) == 0);
    struct done_state d;
    int st;
    char *out = resolve(&n, "alias.example.test", NULL, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, "alias.example.test is an alias for web.example.test.\n"
                   "web.example.test is an alias for www.example.test.\n"
                   "www.example.test has address 10.0.0.5\n");
    CHECK_EQ(st, 0);
    CHECK_EQ(d.res.ncname, 2);
    CHECK_EQ(d.res.queries_sent, 1); /* the whole chain came in one answer */
    free(out);
    /* an alias leaving the zone: the resolver asks again for the target,
     * which this server refuses */
    out = resolve(&n, "ext.example.test", NULL, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, "ext.example.test is an alias for www.example.org.\n"
                   "Host ext.example.test not found: 5(REFUSED)\n");
    CHECK_EQ(st, 1);
    CHECK_EQ(d.res.status, TERN_RESOLVE_SERVFAIL);
    CHECK_EQ(d.res.queries_sent, 2);
    free(out);
    net2_close(&n);
}

TEST(resolver_nxdomain_nodata_refused)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 3, NULL) == 0);
    struct done_state d;
    int st;
    char *out = resolve(&n, "nope.example.test", NULL, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, "Host nope.example.test not found: 3(NXDOMAIN)\n");
    CHECK_EQ(st, 1);
    CHECK_EQ(d.res.status, TERN_RESOLVE_NXDOMAIN);
    free(out);
    struct tern_resolve_opts o = {.servers = {SERVER}, .nservers = 1, .qtype = TERN_DNS_T_AAAA};
    out = resolve(&n, "mail.example.test", &o, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, "mail.example.test has no AAAA record\n");
    CHECK_EQ(st, 0);
    free(out);
    /* NODATA at the end of a chain: the SOA in the authority section
     * (RFC 2308 s2.2) ends it without another query; host(1) prints the
     * alias alone */
    out = resolve(&n, "smtp.example.test", &o, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, "smtp.example.test is an alias for mail.example.test.\n");
    CHECK_EQ(st, 0);
    CHECK_EQ(d.res.status, TERN_RESOLVE_NODATA);
    CHECK_EQ(d.res.queries_sent, 1);
    free(out);
    out = resolve(&n, "www.example.org", NULL, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, "Host www.example.org not found: 5(REFUSED)\n");
    CHECK_EQ(st, 1);
    CHECK_EQ(d.res.queries_sent, 1); /* one server, it refused: no retry */
    free(out);
    net2_close(&n);
}

TEST(resolver_timeout_doubles_then_gives_up)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 4, NULL) == 0);
    struct done_state d;
    int st;
    /* 10.0.0.9 does not exist: 4 rounds, waits of 1, 2, 4 and 8 s */
    struct tern_resolve_opts o = {.servers = {0x0a000009}, .nservers = 1};
    char *out = resolve(&n, "www.example.test", &o, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, ";; connection timed out; no servers could be reached\n");
    CHECK_EQ(st, 1);
    CHECK_EQ(d.res.status, TERN_RESOLVE_TIMEOUT);
    CHECK_EQ(d.res.queries_sent, 4);
    CHECK_EQ(d.at, 15000000);
    free(out);
    /* a dead first server, then ours: answered after the first 1 s wait */
    struct tern_resolve_opts o2 = {.servers = {0x0a000009, SERVER}, .nservers = 2};
    out = resolve(&n, "www.example.test", &o2, &d, &st);
    REQUIRE(out != NULL);
    CHECK_STR(out, "www.example.test has address 10.0.0.5\n");
    CHECK_EQ(d.res.queries_sent, 2);
    CHECK_EQ(d.res.server, SERVER);
    CHECK(d.at >= 1000000 && d.at < 1100000);
    free(out);
    /* a server port nobody listens on: ICMP port unreachable, then timeouts */
    struct tern_resolve_opts o3 = {.servers = {SERVER}, .nservers = 1, .port = 5353,
                                   .timeout_us = 100000, .rounds = 2};
    out = resolve(&n, "www.example.test", &o3, &d, &st);
    REQUIRE(out != NULL);
    CHECK_EQ(d.res.status, TERN_RESOLVE_TIMEOUT);
    CHECK_EQ(d.at, 300000);
    free(out);
    net2_close(&n);
}

static int lossy(uint64_t seed, struct done_state *d)
{
    struct tern_impair imp = {.loss = 0.3, .delay_us = 2000, .jitter_us = 1000};
    struct net2 n;
    if (net2_open(&n, seed, &imp) < 0)
        return -1;
    struct tern_resolve_opts o = {.servers = {SERVER}, .nservers = 1, .rounds = 6};
    int st;
    char *out = resolve(&n, "alias.example.test", &o, d, &st);
    free(out);
    net2_close(&n);
    return d->calls == 1 ? st : -1;
}

TEST(resolver_retries_under_30_percent_loss)
{
    /* Each try survives with 0.7 * 0.7 = 0.49 (plus ARP's own losses); six
     * rounds fail with about 0.51^6 = 1.8%. Over 20 seeds at least 18 must
     * succeed, some only after retries, and a seed replays exactly. */
    int ok = 0, retried = 0;
    for (uint64_t seed = 100; seed < 120; seed++) {
        struct done_state d;
        int st = lossy(seed, &d);
        if (st == 0 && d.res.status == TERN_RESOLVE_OK && d.res.naddr == 1 &&
            d.res.addr[0] == 0x0a000005 && d.res.ncname == 2)
            ok++;
        if (d.res.queries_sent > 1)
            retried++;
    }
    CHECK(ok >= 18);
    CHECK(retried >= 5);
    struct done_state a, b;
    REQUIRE_EQ(lossy(105, &a), lossy(105, &b));
    CHECK_EQ(a.at, b.at);
    CHECK_EQ(a.res.queries_sent, b.res.queries_sent);
}

TEST(resolver_truncated_udp_answer_retried_over_tcp)
{
    /* 40 A records at one name: over UDP 30 fit in 512 octets
     * ((512 - 12 header - 19 question) / 16 per compressed record) and TC
     * is set; over TCP the whole answer, 12 + 19 + 40 * 16 = 671 octets. */
    char *trace = NULL;
    size_t tlen = 0;
    FILE *tf = open_memstream(&trace, &tlen);
    g_trace = tf;
    struct net2 n;
    int rc = net2_open(&n, 7, NULL);
    g_trace = NULL;
    REQUIRE(rc == 0);
    dns_server_free(n.srv);
    dns_zone_free(n.zone);
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text,
                                "$ORIGIN big.test.\n@ IN SOA ns hm 1 3600 600 86400 300\n");
    for (int i = 1; i <= 40; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "many IN A 192.0.2.%d\n", i);
    char err[256];
    int e;
    n.zone = dns_zone_parse(text, o, "big", err, sizeof err);
    REQUIRE(n.zone != NULL);
    n.srv = dns_server_start(n.sb, n.loop, n.zone, 0, &e);
    REQUIRE(n.srv != NULL);

    struct done_state d;
    int st;
    char *out = resolve(&n, "many.big.test", NULL, &d, &st);
    REQUIRE(out != NULL);
    CHECK_EQ(st, 0);
    CHECK_EQ(d.res.status, TERN_RESOLVE_OK);
    REQUIRE_EQ(d.res.naddr, 40);
    for (unsigned i = 0; i < 40; i++)
        CHECK_EQ(d.res.addr[i], 0xc0000201u + i);
    CHECK_EQ(d.res.queries_sent, 1); /* one datagram */
    CHECK_EQ(d.res.tcp_queries, 1);  /* one TCP retry */
    CHECK(strncmp(out, "many.big.test has address 192.0.2.1\n", 36) == 0);
    free(out);
    const struct dns_server_stats *ss = dns_server_stats(n.srv);
    CHECK_EQ(ss->queries, 2);
    CHECK_EQ(ss->truncated, 1);
    CHECK_EQ(ss->tcp_queries, 1);
    CHECK_EQ(ss->tcp_conns, 1);
    /* let both sides finish closing (TIME_WAIT is 2 MSL) */
    tern_loop_run(n.loop, tern_loop_now(n.loop) + 600ull * 1000000);
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 0);
    net2_close(&n);
    fclose(tf);
    /* The capture (tcpdump lines at B, DNS dissected as tcpdump -n does):
     * the UDP query (31 octets), the cut UDP answer (TC set: "|";
     * 12 + 19 + 30 * 16 = 511 octets), then a TCP connection to port 53
     * carrying the query (2 + 31 octets) and the whole answer (2 + 671,
     * all 40 A records). */
    const char *udp_q = strstr(trace, " > 10.0.0.2.53: ");
    udp_q = udp_q ? strstr(udp_q, " A? many.big.test. (31)\n") : NULL;
    const char *udp_a = strstr(trace, "| 30/0/0 A 192.0.2.1, A 192.0.2.2,");
    CHECK(udp_a && strstr(udp_a, "A 192.0.2.30 (511)\n") != NULL);
    const char *syn = strstr(trace, " > 10.0.0.2.53: Flags [S], ");
    const char *tq = strstr(trace, " > 10.0.0.2.53: Flags [P.], seq 1:34, ");
    tq = tq ? strstr(tq, ", length 33 ") : NULL;
    const char *ta = strstr(trace, "IP 10.0.0.2.53 > 10.0.0.1.");
    ta = ta ? strstr(ta, ", length 673 ") : NULL;
    const char *ta_end = ta ? strstr(ta, " 40/0/0 A 192.0.2.1, A 192.0.2.2,") : NULL;
    CHECK(ta_end != NULL);
    CHECK(ta_end && strstr(ta_end, "A 192.0.2.40 (671)\n") != NULL);
    CHECK(udp_q && udp_a && syn && tq && ta);
    CHECK(udp_q < udp_a && udp_a < syn && syn < tq && tq < ta);
    free(trace);
}
