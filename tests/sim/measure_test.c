/*
 * The simulator as a measuring instrument (issue 13): whole scenarios in
 * virtual time whose summaries and plots are asserted - app lines of one
 * node never glued, the exit status and the list of failed actions,
 * per-host congestion control, Jain's fairness index, RFC 3550 jitter,
 * per-router drop reasons, queue occupancy and delay, and the plots (node
 * names in titles, retransmissions on the cwnd plot, SACK under the data).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sim/scenario.h"
#include "sim/sim.h"

static char *run_opts(const char *text, uint64_t seed, const char *plot_dir, int *rc)
{
    struct scenario *sc = malloc(sizeof *sc);
    char err[256];
    if (!sc)
        return NULL;
    if (scenario_parse(sc, text, strlen(text), "t.scn", err, sizeof err) < 0) {
        fprintf(stderr, "# parse: %s\n", err);
        free(sc);
        *rc = -3;
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) {
        free(sc);
        return NULL;
    }
    struct sim_opts o = {.seed = seed, .have_seed = true, .out = out, .plot_dir = plot_dir};
    *rc = sim_run(sc, &o, err, sizeof err);
    fclose(out);
    free(sc);
    return buf;
}

static char *run(const char *text, uint64_t seed, int *rc)
{
    return run_opts(text, seed, NULL, rc);
}

/* The number after `key` on the first line holding both `has` and key. */
static double num(const char *out, const char *has, const char *key)
{
    for (const char *l = out; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        char line[1024];
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, l, n);
        line[n] = 0;
        char *k;
        if (strstr(line, has) && (k = strstr(line, key)))
            return strtod(k + strlen(key), NULL);
        l = e ? e + 1 : NULL;
    }
    return -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(1 << 22);
    size_t n = b ? fread(b, 1, (1 << 22) - 1, f) : 0;
    fclose(f);
    if (b)
        b[n] = 0;
    return b;
}

static size_t count(const char *hay, const char *needle)
{
    size_t c = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        c++;
    return c;
}

TEST(sim_two_apps_of_one_node_never_glue_lines)
{
    /* ping and traceroute start together on a: their partial lines
     * ("traceroute to ...", " 1  10.0.1.1 ...") interleave in time. */
    static const char text[] = "host a\n  iface eth0 10.0.1.2/24\n  gateway 10.0.1.1\n"
                               "router r\n  iface l 10.0.1.1/24\n  iface r 10.0.2.1/24\n"
                               "host b\n  iface eth0 10.0.2.2/24\n  gateway 10.0.2.1\n"
                               "link l1 a.eth0 r.l delay 1ms\n"
                               "link l2 r.r b.eth0 delay 1ms\n"
                               "at 1 a ping b count 3 interval 0.2\n"
                               "at 1 a traceroute b queries 1\n";
    int rc;
    char *o = run(text, 1, &rc);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    size_t pings = 0, hops = 0, lines = 0;
    for (char *l = strtok(o, "\n"); l; l = strtok(NULL, "\n")) {
        if (l[0] != '[')
            continue;
        lines++;
        bool ping = strstr(l, "bytes from") != NULL, tr = strstr(l, "traceroute to") != NULL;
        CHECK(!(ping && tr));
        if (ping) {
            CHECK(strstr(l, "] a: 64 bytes from 10.0.2.2: icmp_seq=") != NULL);
            pings++;
        }
        if (strstr(l, "] a:  1  10.0.1.1") || strstr(l, "] a:  2  10.0.2.2"))
            hops++;
    }
    CHECK_EQ(pings, 3);
    CHECK_EQ(hops, 2);
    CHECK(lines > 6);
    free(o);
}

TEST(sim_failed_unfinished_and_unstarted_actions_are_listed)
{
    static const char text[] = "host a\n  iface eth0 10.0.0.1/24\n"
                               "host b\n  iface eth0 10.0.0.2/24\n  service echo\n"
                               "link l a.eth0 b.eth0 delay 1ms\n"
                               "until 5\n"
                               "at 0.1 a nc b 4444 1000\n"          /* refused */
                               "at 0.1 a nc b echo 1000\n"          /* fine */
                               "at 0.2 a ping 10.0.0.99 count 2\n"  /* nobody: fails */
                               "at 9 a ping b\n";                   /* after until */
    int rc;
    char *o = run(text, 1, &rc);
    REQUIRE(o);
    CHECK_EQ(rc, 3);
    CHECK(strstr(o, "Actions: 3 run, 3 failed or unfinished\n") != NULL);
    CHECK(strstr(o, "  t.scn:8: a nc b: failed (exit 1)\n") != NULL);
    CHECK(strstr(o, "  t.scn:10: a ping 10.0.0.99: failed (exit 1)\n") != NULL);
    CHECK(strstr(o, "  t.scn:11: a ping b: not started (the run ended at 5.000 s)\n") != NULL);
    CHECK(strstr(o, "t.scn:9:") == NULL); /* the echo went well */
    free(o);
}

/* Two senders a1, a2 share r's 4 Mbit/s link to b; each sends to b's discard. */
#define SHARED(cc1, cc2, loss1)                                                         \
    "host a1\n  iface eth0 10.0.1.2/24\n  gateway 10.0.1.1\n" cc1                        \
    "host a2\n  iface eth0 10.0.2.2/24\n  gateway 10.0.2.1\n" cc2                        \
    "router r\n  iface x 10.0.1.1/24\n  iface y 10.0.2.1/24\n  iface z 10.0.3.1/24\n"      \
    "host b\n  iface eth0 10.0.3.2/24\n  gateway 10.0.3.1\n  service discard\n"           \
    "link l1 a1.eth0 r.x rate 100M delay 5ms" loss1 "\n"                                \
    "link l2 a2.eth0 r.y rate 100M delay 5ms\n"                                         \
    "link bn r.z b.eth0 rate 4M/100M delay 10ms queue 30\n"                              \
    "at 0.1 a1 nc b discard 3M\n"                                                       \
    "at 0.1 a2 nc b discard 3M\n"

TEST(sim_per_host_congestion_control)
{
    static const char text[] = SHARED("  cc newreno\n", "  cc cubic\n", "");
    int rc;
    char *o = run(text, 1, &rc);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    /* each sender's socket runs its node's algorithm */
    const char *l2 = strstr(o, "a2     -> b");
    REQUIRE(l2);
    const char *e2 = strchr(l2, '\n');
    const char *c2 = strstr(l2, "cc cubic");
    CHECK(c2 && c2 < e2);
    const char *l1 = strstr(o, "a1     -> b");
    REQUIRE(l1);
    const char *e1 = strchr(l1, '\n');
    const char *c1 = strstr(l1, "cc newreno");
    CHECK(c1 && c1 < e1);
    free(o);
    /* a name the stack does not have is a scenario error at its line */
    struct scenario *sc = malloc(sizeof *sc);
    REQUIRE(sc);
    char err[256];
    static const char bad[] = "host a\n  iface eth0 10.0.0.1/24\n  cc bbr\n";
    CHECK_EQ(scenario_parse(sc, bad, strlen(bad), "t.scn", err, sizeof err), -1);
    CHECK(strstr(err, "t.scn:3: cc: expected 'cc cubic' or 'cc newreno'") == err);
    free(sc);
}

TEST(sim_jain_fairness_index)
{
    /* identical flows: near 1 */
    static const char same[] = SHARED("", "", "");
    int rc;
    char *o = run(same, 1, &rc);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    REQUIRE(strstr(o, "Fairness over ") != NULL);
    double j1 = num(o, "Jain's fairness index", "index ");
    CHECK(j1 > 0.95 && j1 <= 1.0);
    /* the rates listed are each about half the 4 Mbit/s bottleneck */
    double r1 = num(o, "flow1 a", "(port 9)  "), r2 = num(o, "flow2 a", "(port 9)  ");
    CHECK(r1 > 1.4 && r1 < 2.6);
    CHECK(r2 > 1.4 && r2 < 2.6);
    CHECK(r1 + r2 > 3.5 && r1 + r2 <= 4.0);
    free(o);
    /* a1's access link loses 3%: it is starved, the index drops */
    static const char starved[] = SHARED("", "", " loss 3%/0");
    o = run(starved, 1, &rc);
    REQUIRE(o);
    double j2 = num(o, "Jain's fairness index", "index ");
    CHECK(j2 >= 0.5 && j2 < 0.85);
    CHECK(num(o, "flow1 a1", "(port 9)  ") < num(o, "flow2 a2", "(port 9)  "));
    free(o);
}

TEST(sim_udp_jitter_rfc3550)
{
    static const char steady[] = "host a\n  iface eth0 10.0.0.1/24\n"
                                 "host b\n  iface eth0 10.0.0.2/24\n"
                                 "link l a.eth0 b.eth0 rate 10M delay 20ms\n"
                                 "at 0 a ping b count 1\n" /* ARP first: no first-packet wait */
                                 "at 0.1 a stream b 5004 rate 64k size 160 duration 2\n";
    static const char jittery[] = "host a\n  iface eth0 10.0.0.1/24\n"
                                  "host b\n  iface eth0 10.0.0.2/24\n"
                                  "link l a.eth0 b.eth0 rate 10M delay 20ms jitter 4ms\n"
                                  "at 0.1 a stream b 5004 rate 64k size 160 duration 2\n";
    int rc;
    char *o = run(steady, 1, &rc);
    REQUIRE(o);
    CHECK(strstr(o, "jitter 0.000 ms") != NULL);
    free(o);
    o = run(jittery, 1, &rc);
    REQUIRE(o);
    /* uniform [0, 4) ms: E|D| = 4/3 ms, and J converges near it */
    double j = num(o, "udp 10.0.0.1", "jitter ");
    CHECK(j > 0.5 && j < 2.5);
    free(o);
}

TEST(sim_router_drop_reasons)
{
    /* r1 and r2 send 10.9.0.0/16 to each other: a loop that TTL ends;
     * r2 has no route to 10.8.0.0/16. */
    static const char text[] = "host a\n  iface eth0 10.0.1.2/24\n  gateway 10.0.1.1\n"
                               "router r1\n  iface l 10.0.1.1/24\n  iface m 10.0.9.1/30\n"
                               "  route default via 10.0.9.2\n"
                               "router r2\n  iface m 10.0.9.2/30\n"
                               "  route 10.9.0.0/16 via 10.0.9.1\n"
                               "  route 10.0.1.0/24 via 10.0.9.1\n"
                               "link l1 a.eth0 r1.l delay 1ms\n"
                               "link l2 r1.m r2.m delay 1ms\n"
                               "at 0.1 a ping 10.9.9.9 count 3 interval 0.2\n"
                               "at 0.1 a ping 10.8.8.8 count 2 interval 0.2\n";
    int rc;
    char *o = run(text, 1, &rc);
    REQUIRE(o);
    CHECK(strstr(o, "Routers (datagrams forwarded; dropped for: no route, TTL expired") != NULL);
    /* 3 pings loop until their TTL runs out at one of the two routers */
    const char *r1 = strstr(o, "\n  r1 "), *r2 = strstr(o, "\n  r2 ");
    REQUIRE(r1 && r2);
    long v1[8], v2[8];
    REQUIRE(sscanf(r1, "\n  r1 %ld forwarded %ld no-route %ld ttl %ld queue %ld arp %ld df %ld nat "
                       "%ld other", &v1[0], &v1[1], &v1[2], &v1[3], &v1[4], &v1[5], &v1[6],
                   &v1[7]) == 8);
    REQUIRE(sscanf(r2, "\n  r2 %ld forwarded %ld no-route %ld ttl %ld queue %ld arp %ld df %ld nat "
                       "%ld other", &v2[0], &v2[1], &v2[2], &v2[3], &v2[4], &v2[5], &v2[6],
                   &v2[7]) == 8);
    CHECK_EQ(v1[2] + v2[2], 3); /* TTL: one per looping ping */
    CHECK_EQ(v2[1], 2);         /* no route: both pings to 10.8.8.8, at r2 */
    CHECK_EQ(v1[1], 0);
    CHECK(v1[0] + v2[0] > 60);  /* the loop forwarded each ping ~63 times */
    CHECK_EQ(v1[3] + v2[3] + v1[7] + v2[7], 0);
    CHECK(strstr(o, "Time to live exceeded") != NULL);
    free(o);
}

TEST(sim_queue_occupancy_delay_and_plots)
{
    char dir[] = "/tmp/tern-measure-XXXXXX";
    REQUIRE(mkdtemp(dir));
    static const char text[] = SHARED("", "", " loss 0/0");
    int rc;
    char *o = run_opts(text, 2, dir, &rc);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    /* the bottleneck's queue: 30 frames of 1514 bytes at most */
    double peak = num(o, "  bn r->b", "peak ");
    CHECK(peak > 10000 && peak <= 30 * 1514);
    double mean = num(o, "  bn r->b", "delay mean ");
    double pk = num(o, "  bn r->b", "ms peak ");
    /* 30 * 1514 bytes at 4 Mbit/s drain in 90.8 ms */
    CHECK(mean > 1 && mean < pk && pk <= 90.9);
    CHECK(num(o, "  bn b->r", "peak ") < 2000); /* ACKs at 100 Mbit/s hardly queue */
    char path[256];
    snprintf(path, sizeof path, "%s/queue-bn.svg", dir);
    char *svg = slurp(path);
    REQUIRE(svg);
    CHECK(strstr(svg, "link bn (r - b): queue occupancy and queueing delay") != NULL);
    CHECK(strstr(svg, "r -&gt; b (4 Mbit/s)") != NULL);
    CHECK_EQ(count(svg, "class=\"queue\""), 2);
    CHECK_EQ(count(svg, "class=\"delay\""), 2);
    free(svg);
    snprintf(path, sizeof path, "%s/throughput.svg", dir);
    svg = slurp(path);
    REQUIRE(svg);
    CHECK_EQ(count(svg, "class=\"tput\""), 2);
    CHECK(strstr(svg, "flow1 a1 -&gt; b (10.0.1.2:") != NULL);
    CHECK(strstr(svg, "flow2 a2 -&gt; b (10.0.2.2:") != NULL);
    free(svg);
    /* the cwnd plot marks each retransmission the TSG marks; node names in titles */
    snprintf(path, sizeof path, "%s/flow1-a1-b-cwnd.svg", dir);
    svg = slurp(path);
    REQUIRE(svg);
    snprintf(path, sizeof path, "%s/flow1-a1-b-tsg.svg", dir);
    char *tsg = slurp(path);
    REQUIRE(tsg);
    size_t marks = count(tsg, "class=\"rtx\"");
    CHECK(marks > 0);
    CHECK_EQ(count(svg, "class=\"rtx\""), marks);
    CHECK(strstr(svg, "<title>cwnd, ssthresh and RTT, flow 1: a1 -&gt; b (10.0.1.2:") != NULL);
    CHECK(strstr(tsg, "<title>time-sequence graph, flow 1: a1 -&gt; b (10.0.1.2:") != NULL);
    /* SACK blocks under the data: drawn before the segments */
    const char *legend = strstr(tsg, ">SACK</text>");
    REQUIRE(legend);
    const char *sack = strstr(legend, "<path class=\"sack\"");
    const char *seg = strstr(legend, "<path class=\"seg\"");
    CHECK(sack && seg && sack < seg);
    char want[64];
    snprintf(want, sizeof want, "(%zu retransmissions marked)", marks);
    CHECK(strstr(o, want) != NULL);
    free(svg);
    free(tsg);
    free(o);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ(system(cmd), 0);
}

TEST(sim_stack_config_tcp_cc_names)
{
    /* tern_config.tcp_cc: "", "cubic" and "newreno" make a stack; a name
     * the stack does not have is an invalid configuration. */
    struct tern_loop *loop = tern_loop_virtual_new(0);
    REQUIRE(loop);
    static const char *const good[] = {"", "cubic", "newreno"};
    for (size_t i = 0; i < 3; i++) {
        struct tern_config c;
        tern_config_defaults(&c);
        snprintf(c.tcp_cc, sizeof c.tcp_cc, "%s", good[i]);
        struct tern_stack *s = tern_stack_new(&c, loop);
        CHECK(s != NULL);
        if (s)
            tern_stack_free(s);
    }
    struct tern_config c;
    tern_config_defaults(&c);
    snprintf(c.tcp_cc, sizeof c.tcp_cc, "bbr");
    CHECK(tern_stack_new(&c, loop) == NULL);
    memset(c.tcp_cc, 'x', sizeof c.tcp_cc); /* not terminated */
    CHECK(tern_stack_new(&c, loop) == NULL);
    tern_loop_destroy(loop);
}
