/*
 * Tests for src/app/traceroute.c in virtual time over a line of three
 * routers (tests/common/chain.h):
 *
 *   A 10.0.0.1 --link 0-- R1 --link 1-- R2 --link 2-- R3 --link 3-- B 10.0.3.2
 *
 * Link i delays each frame by D[i] in each direction (tern's impairment
 * wrapper, no rate limit), so once ARP is settled a probe answered by hop k
 * (router k answers from its left address 10.0.(k-1).2, the interface
 * toward A) takes exactly 2 * (D[0] + ... + D[k-1]) - computed in the test
 * from D, not copied from output. The expected lines follow Linux
 * traceroute -n's format (see traceroute.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/traceroute.h"
#include "common/chain.h"
#include "common/net2.h"
#include "core/stack_impl.h"
#include "harness.h"
#include "tern/wire/icmp.h"

static const uint64_t D[4] = {1000, 2000, 3000, 4000}; /* us per link, each way */

struct tr_done {
    struct tern_loop *loop;
    int status, calls;
};

static void on_done(void *ctx, int status)
{
    struct tr_done *d = ctx;
    d->status = status;
    d->calls++;
    tern_loop_stop(d->loop);
}

static int open_line(struct chain *c, struct tern_impair imp[4])
{
    struct chain_opts o;
    memset(&o, 0, sizeof o);
    o.seed = 7;
    for (int i = 0; i < 4; i++) {
        memset(&imp[i], 0, sizeof imp[i]);
        imp[i].delay_us = D[i];
        imp[i].seed = 100 + (uint64_t)i;
        o.link[i].imp = &imp[i];
        o.link[i].rimp = &imp[i];
    }
    return chain_open(c, 3, &o);
}

static void echo_ignore(void *ctx, const struct tern_echo_event *ev)
{
    (void)ev;
    (*(int *)ctx)++;
}

/* One ping A -> B so that every node on the path has its neighbours' MACs:
 * from then on probes see no ARP delay. */
static void settle_arp(struct chain *c)
{
    int replies = 0;
    int id = tern_echo_bind(chain_a(c), 0, echo_ignore, &replies);
    CHECK(id > 0);
    struct tern_ip_out o = {.dst = chain_b_addr(c)};
    CHECK_EQ(tern_echo_send(chain_a(c), &o, (uint16_t)id, 1, (const uint8_t *)"arp", 3), 0);
    chain_run(c, 1000000);
    CHECK_EQ(replies, 1);
    tern_echo_unbind(chain_a(c), (uint16_t)id);
}

/* Runs a traceroute from A; returns its output (malloc'd). */
static char *run_tr(struct chain *c, const struct tern_traceroute_opts *o, int *status)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct tr_done d = {.loop = c->loop, .status = -1};
    struct tern_traceroute *t = traceroute_start(chain_a(c), c->loop, o, f, on_done, &d);
    CHECK(t != NULL);
    if (t)
        tern_loop_run(c->loop, TERN_TIME_NEVER);
    CHECK_EQ(d.calls, t ? 1 : 0);
    *status = d.status;
    traceroute_free(t);
    fclose(f);
    /* Nothing left behind on A: no observer, no echo id. */
    for (int i = 0; i < TERN_ICMP_OBSERVERS; i++)
        CHECK(chain_a(c)->icmp_obs[i].fn == NULL);
    for (int i = 0; i < TERN_ECHO_MAX; i++)
        CHECK(!chain_a(c)->echo[i].used);
    return buf;
}

/* "%2u  ADDR  T ms  T ms  T ms\n" for hop `hop` answered by addr after rtt us. */
static size_t hop_line(char *out, size_t cap, unsigned hop, const char *addr, uint64_t rtt,
                       unsigned n, const char *note)
{
    size_t k = (size_t)snprintf(out, cap, "%2u  %s", hop, addr);
    for (unsigned i = 0; i < n; i++)
        k += (size_t)snprintf(out + k, cap - k, "  %llu.%03llu ms%s%s",
                              (unsigned long long)(rtt / 1000), (unsigned long long)(rtt % 1000),
                              note ? " " : "", note ? note : "");
    k += (size_t)snprintf(out + k, cap - k, "\n");
    return k;
}

/* The whole expected output of a clean trace to B (all hops answer). */
static void expect_full(char *want, size_t cap, const char *name, unsigned packetlen,
                        int silent_hop)
{
    size_t k = (size_t)snprintf(want, cap, "traceroute to %s (10.0.3.2), 30 hops max, %u byte packets\n",
                                name, packetlen);
    uint64_t rtt = 0;
    for (unsigned hop = 1; hop <= 4; hop++) {
        rtt += 2 * D[hop - 1];
        char addr[16];
        snprintf(addr, sizeof addr, "10.0.%u.2", hop - 1); /* router hop's left end; B = 10.0.3.2 */
        if ((int)hop == silent_hop)
            k += (size_t)snprintf(want + k, cap - k, "%2u  * * *\n", hop);
        else
            k += hop_line(want + k, cap - k, hop, addr, rtt, 3, NULL);
    }
}

TEST(traceroute_virtual_udp_lists_every_router_then_destination)
{
    struct chain c;
    struct tern_impair imp[4];
    REQUIRE_EQ(open_line(&c, imp), 0);
    settle_arp(&c);
    struct tern_traceroute_opts o = {.dst = chain_b_addr(&c), .dst_name = "10.0.3.2"};
    int status;
    char *out = run_tr(&c, &o, &status);
    char want[1024];
    expect_full(want, sizeof want, "10.0.3.2", 60, 0);
    CHECK_STR(out, want);
    CHECK_EQ(status, 0);
    /* B answered each of its 3 probes with port unreachable: the probes
     * were UDP to ports 33434 + 9..11 that nobody listens on. */
    CHECK_EQ(tern_stack_stats(chain_b(&c))->udp.no_port, 3);
    /* Each router sent exactly 3 time exceeded per TTL that ended there. */
    for (int k = 1; k <= 3; k++)
        CHECK_EQ(tern_stack_stats(c.node[k])->ip.drop_ttl, 3);
    free(out);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(traceroute_virtual_icmp_mode_and_packetlen)
{
    struct chain c;
    struct tern_impair imp[4];
    REQUIRE_EQ(open_line(&c, imp), 0);
    settle_arp(&c);
    struct tern_traceroute_opts o = {.dst = chain_b_addr(&c), .dst_name = "b.example",
                                     .icmp = true, .packetlen = 100};
    int status;
    char *out = run_tr(&c, &o, &status);
    char want[1024];
    expect_full(want, sizeof want, "b.example", 100, 0);
    CHECK_STR(out, want);
    CHECK_EQ(status, 0);
    /* B answered 3 echo requests carrying 100 - 28 bytes of data each. */
    CHECK_EQ(tern_stack_stats(chain_b(&c))->icmp.echo_replies_tx, 3 + 1); /* + settle_arp's */
    CHECK_EQ(tern_stack_stats(chain_b(&c))->udp.no_port, 0);
    free(out);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(traceroute_virtual_silent_router_prints_stars)
{
    struct chain c;
    struct tern_impair imp[4];
    REQUIRE_EQ(open_line(&c, imp), 0);
    settle_arp(&c);
    /* R2 sends no ICMP errors at all: its RFC 1812 s4.3.2.8 token bucket
     * is empty and never refills. It still forwards. */
    struct tern_stack *r2 = c.node[2];
    r2->cfg.icmp_rate_per_s = 0;
    r2->cfg.icmp_burst = 0;
    r2->icmp_tokens = 0;
    struct tern_traceroute_opts o = {.dst = chain_b_addr(&c), .dst_name = "10.0.3.2",
                                     .wait_us = 2000000};
    uint64_t t0 = tern_loop_now(c.loop);
    int status;
    char *out = run_tr(&c, &o, &status);
    char want[1024];
    expect_full(want, sizeof want, "10.0.3.2", 60, 2);
    CHECK_STR(out, want);
    CHECK_EQ(status, 0);
    CHECK(tern_stack_stats(r2)->icmp.errors_rate_limited >= 3);
    /* Virtual time: 3 waits of 2 s for hop 2, plus the answered probes. */
    uint64_t answered = 3 * (2 * D[0] + 2 * (D[0] + D[1] + D[2]) + 2 * (D[0] + D[1] + D[2] + D[3]));
    CHECK_EQ(tern_loop_now(c.loop) - t0, 3 * 2000000 + answered);
    free(out);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(traceroute_virtual_max_ttl_first_ttl_and_nqueries)
{
    struct chain c;
    struct tern_impair imp[4];
    REQUIRE_EQ(open_line(&c, imp), 0);
    settle_arp(&c);
    /* -f 2 -m 3 -q 2: hops 2 and 3 only, then stop short of B. */
    struct tern_traceroute_opts o = {.dst = chain_b_addr(&c), .dst_name = "10.0.3.2",
                                     .first_ttl = 2, .max_ttl = 3, .nqueries = 2};
    int status;
    char *out = run_tr(&c, &o, &status);
    char want[512];
    size_t k = (size_t)snprintf(want, sizeof want,
                                "traceroute to 10.0.3.2 (10.0.3.2), 3 hops max, 60 byte packets\n");
    k += hop_line(want + k, sizeof want - k, 2, "10.0.1.2", 2 * (D[0] + D[1]), 2, NULL);
    hop_line(want + k, sizeof want - k, 3, "10.0.2.2", 2 * (D[0] + D[1] + D[2]), 2, NULL);
    CHECK_STR(out, want);
    CHECK_EQ(status, 0);
    CHECK_EQ(tern_stack_stats(chain_b(&c))->udp.no_port, 0); /* B never reached */
    free(out);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(traceroute_virtual_net_unreachable_annotated_and_final)
{
    struct chain c;
    struct tern_impair imp[4];
    REQUIRE_EQ(open_line(&c, imp), 0);
    settle_arp(&c);
    /* 10.9.9.9: A's default route sends it to R1, which has no route:
     * net unreachable (RFC 1812 s4.3.3.1) -> "!N" after each time, and
     * the trace ends with that hop, as Linux's does. tern's router checks
     * the TTL before the route (Linux routes first and would answer !N
     * already at TTL 1): then hop 1 is an ordinary time exceeded from R1
     * and hop 2 the !N. Either order is RFC 1812; both are accepted. */
    struct tern_traceroute_opts o = {.dst = 0x0a090909u, .dst_name = "10.9.9.9"};
    int status;
    char *out = run_tr(&c, &o, &status);
    char want1[512], want2[512];
    size_t k = (size_t)snprintf(want1, sizeof want1,
                                "traceroute to 10.9.9.9 (10.9.9.9), 30 hops max, 60 byte packets\n");
    memcpy(want2, want1, k + 1);
    hop_line(want1 + k, sizeof want1 - k, 1, "10.0.0.2", 2 * D[0], 3, "!N");
    k += hop_line(want2 + k, sizeof want2 - k, 1, "10.0.0.2", 2 * D[0], 3, NULL);
    hop_line(want2 + k, sizeof want2 - k, 2, "10.0.0.2", 2 * D[0], 3, "!N");
    if (strcmp(out, want1) != 0)
        CHECK_STR(out, want2);
    CHECK_EQ(status, 0);
    free(out);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(traceroute_virtual_deterministic_and_bad_options)
{
    /* The same seed gives the same bytes, ARP delays included (no settle). */
    char *outs[2];
    for (int run = 0; run < 2; run++) {
        struct chain c;
        struct tern_impair imp[4];
        REQUIRE_EQ(open_line(&c, imp), 0);
        struct tern_traceroute_opts o = {.dst = chain_b_addr(&c), .nqueries = 1};
        int status;
        outs[run] = run_tr(&c, &o, &status);
        CHECK_EQ(status, 0);
        /* Without a name the address is printed twice, as Linux does. */
        CHECK(strncmp(outs[run], "traceroute to 10.0.3.2 (10.0.3.2), 30 hops max", 46) == 0);
        /* The first probe of each hop waits for ARP on the new link(s):
         * its RTT is larger than the settled one, but every hop answers. */
        CHECK(strstr(outs[run], "\n 4  10.0.3.2  ") != NULL);
        CHECK(chain_settled(&c));
        chain_close(&c);
    }
    CHECK_STR(outs[0], outs[1]);
    free(outs[0]);
    free(outs[1]);
    /* Bad options: NULL, nothing sent. */
    struct chain c;
    struct tern_impair imp[4];
    REQUIRE_EQ(open_line(&c, imp), 0);
    struct tern_traceroute_opts bad[] = {
        {.dst = 0},
        {.dst = chain_b_addr(&c), .first_ttl = 5, .max_ttl = 4},
        {.dst = chain_b_addr(&c), .nqueries = 11},
        {.dst = chain_b_addr(&c), .packetlen = 65001},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(traceroute_start(chain_a(&c), c.loop, &bad[i], stdout, on_done, NULL) == NULL);
    CHECK_EQ(tern_stack_stats(chain_a(&c))->ip.tx, 0);
    CHECK(chain_settled(&c));
    chain_close(&c);
}

TEST(traceroute_virtual_silent_onlink_address_is_stars_never_ourselves)
{
    /* 10.0.0.9 is on A's subnet and nobody answers ARP: ARP gives up after
     * 3 s and A's stack reports "host unreachable" from its own address to
     * the probe waiting for it; Linux traceroute prints '*' for every probe
     * (its own address is never a hop). */
    struct net2 n;
    REQUIRE(net2_open(&n, 9, NULL) == 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct tr_done d = {.loop = n.loop, .status = -1};
    struct tern_traceroute_opts o = {.dst = 0x0a000009, .dst_name = "10.0.0.9", .max_ttl = 3,
                                     .wait_us = 1000000};
    struct tern_traceroute *t = traceroute_start(n.sa, n.loop, &o, f, on_done, &d);
    REQUIRE(t != NULL);
    tern_loop_run(n.loop, TERN_TIME_NEVER);
    traceroute_free(t);
    fclose(f);
    CHECK_STR(buf, "traceroute to 10.0.0.9 (10.0.0.9), 3 hops max, 60 byte packets\n"
                   " 1  * * *\n"
                   " 2  * * *\n"
                   " 3  * * *\n");
    CHECK_EQ(d.calls, 1);
    free(buf);
    net2_close(&n);
}
