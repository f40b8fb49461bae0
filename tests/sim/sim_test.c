/*
 * Simulation tests for the runner (src/sim/sim_*.c): whole scenarios in
 * virtual time, output captured in memory. Determinism by seed (same seed,
 * same bytes; another seed, other bytes when there is loss), byte-exact
 * transfers through lossy links and a router (the client's SHA-256 of what
 * it received equals the SHA-256 of the file on the server, and the nc
 * echo comes back with the SHA-256 of what was sent), a queue overflow
 * visible in the summary while the transfer completes, the demo scenario
 * identical to examples/scenarios/demo.scn, and build errors with a line.
 * Leaks: the runner frees everything (ASan's leak checker runs these too).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sim/scenario.h"
#include "sim/sim.h"

/* Runs text with seed; returns the output (malloc'd) or NULL. rc gets sim_run's result. */
static char *run(const char *text, uint64_t seed, int *rc, char *err, size_t errcap)
{
    struct scenario *sc = malloc(sizeof *sc);
    if (!sc)
        return NULL;
    if (scenario_parse(sc, text, strlen(text), "t.scn", err, errcap) < 0) {
        free(sc);
        *rc = -2;
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) {
        free(sc);
        return NULL;
    }
    struct sim_opts o = {.seed = seed, .have_seed = true, .out = out};
    *rc = sim_run(sc, &o, err, errcap);
    fclose(out);
    free(sc);
    return buf;
}

/* The value after `key` on the first line containing `line_has` and key. */
static long long field(const char *out, const char *line_has, const char *key)
{
    for (const char *l = out; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        char line[512];
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, l, n);
        line[n] = 0;
        char *k;
        if (strstr(line, line_has) && (k = strstr(line, key)))
            return strtoll(k + strlen(key), NULL, 10);
        l = e ? e + 1 : NULL;
    }
    return -1;
}


/* Column k (0 frames, 1 lost, 2 scripted, 3 queue, 4 down) of the summary's
 * line for link direction "NAME A->B"; -1 if the line is missing. */
static long long link_stat(const char *o, const char *dir, int k)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\n  %s ", dir);
    const char *l = strstr(o, pat);
    long long v[5];
    if (!l || sscanf(l + strlen(pat), "%lld frames %lld lost %lld scripted %lld queue %lld down",
                     &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
        return -1;
    return v[k];
}

/* Two hosts on a lossy, reordering link with a web page and echo. */
static const char lossy[] = "host a\n"
                            "  iface eth0 10.0.0.1/24\n"
                            "host b\n"
                            "  iface eth0 10.0.0.2/24\n"
                            "  http page /p.bin 150K\n"
                            "  service echo\n"
                            "link l a.eth0 b.eth0 rate 10M delay 5ms jitter 1ms loss 3% "
                            "reorder 2% dup 1%\n"
                            "at 0.1 a get http://10.0.0.2/p.bin\n"
                            "at 0.1 a ping b count 4 interval 100ms\n";

TEST(sim_deterministic_by_seed)
{
    char err[256];
    int rc1, rc2, rc3;
    char *o1 = run(lossy, 7, &rc1, err, sizeof err);
    char *o2 = run(lossy, 7, &rc2, err, sizeof err);
    char *o3 = run(lossy, 8, &rc3, err, sizeof err);
    REQUIRE(o1 && o2 && o3);
    CHECK_EQ(rc1, 0);
    CHECK_EQ(rc3, 0);
    CHECK(strcmp(o1, o2) == 0);
    CHECK(strcmp(o1, o3) != 0); /* 3% loss: another seed loses other frames */
    CHECK(strstr(o1, "(seed 7)") != NULL);
    /* Something was really lost, so the seeds had something to differ on. */
    CHECK(link_stat(o1, "l a->b", 0) > 50);
    CHECK(link_stat(o1, "l b->a", 0) > 100);
    CHECK(link_stat(o1, "l b->a", 1) + link_stat(o1, "l a->b", 1) > 0);
    free(o1);
    free(o2);
    free(o3);
}

/* Client - router - server; the server's side loses 5%, both transfers
 * must arrive byte for byte. */
static const char routed[] = "host a\n"
                             "  iface eth0 10.0.1.2/24\n"
                             "  gateway 10.0.1.1\n"
                             "router r\n"
                             "  iface left 10.0.1.1/24\n"
                             "  iface right 10.0.2.1/24\n"
                             "host b\n"
                             "  iface eth0 10.0.2.2/24\n"
                             "  gateway 10.0.2.1\n"
                             "  http page /index.html 200K\n"
                             "  service echo discard\n"
                             "link l1 a.eth0 r.left rate 20M delay 2ms\n"
                             "link l2 r.right b.eth0 rate 10M delay 10ms loss 5%\n"
                             "at 0.5 a get http://10.0.2.2/\n"
                             "at 0.5 a nc b echo 100000\n";

TEST(sim_lossy_transfer_byte_exact_through_a_router)
{
    char err[256];
    int rc;
    char *o = run(routed, 3, &rc, err, sizeof err);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    /* The page: 200K = 204800 bytes on both ends, and identical digests. */
    CHECK_EQ(field(o, "received by a", "a "), 204800);
    CHECK_EQ(field(o, "served by   b", "b "), 204800);
    CHECK(strstr(o, "(identical)") != NULL);
    CHECK(strstr(o, "(DIFFERENT)") == NULL);
    /* nc to echo: what came back is what was sent. */
    const char *s = strstr(o, "nc: sent sha256 "), *r = strstr(o, "nc: received sha256 ");
    REQUIRE(s && r);
    CHECK(strncmp(s + 16, r + 20, 64) == 0);
    CHECK(strstr(o, "sent 100000 bytes, received 100000") != NULL);
    /* The loss really happened on l2 and TCP retransmitted. */
    CHECK(link_stat(o, "l2 b->r", 1) > 0);
    CHECK_EQ(link_stat(o, "l1 a->r", 1), 0);
    CHECK(field(o, "b      -> a", "segments ") > 0);
    CHECK(strstr(o, "0 failed or unfinished") != NULL);
    free(o);
}

/* A 2 Mbit/s bottleneck with a 4-frame queue: TCP's slow start overflows it. */
static const char queue[] = "host a\n"
                            "  iface eth0 10.0.0.1/24\n"
                            "host b\n"
                            "  iface eth0 10.0.0.2/24\n"
                            "  http page /big 300K\n"
                            "link l a.eth0 b.eth0 rate 100M/2M delay 20ms queue 4\n"
                            "at 0.1 a get http://10.0.0.2/big\n";

static long long queue_drops(const char *o, const char *dir)
{
    return link_stat(o, dir, 3);
}

TEST(sim_queue_overflow_in_summary_transfer_completes)
{
    char err[256];
    int rc;
    char *o = run(queue, 1, &rc, err, sizeof err);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    CHECK(queue_drops(o, "l b->a") > 0);
    CHECK_EQ(queue_drops(o, "l a->b"), 0);
    CHECK(strstr(o, "complete") != NULL);
    CHECK(strstr(o, "(identical)") != NULL);
    CHECK_EQ(field(o, "received by a", "a "), 300 * 1024);
    free(o);
}

TEST(sim_link_down_loses_frames)
{
    static const char text[] = "host a\n  iface eth0 10.0.0.1/24\n"
                               "host b\n  iface eth0 10.0.0.2/24\n"
                               "link l a.eth0 b.eth0 delay 1ms\n"
                               "at 0 a ping b count 6 interval 1\n"
                               "at 1.5 link l down\n"
                               "at 3.5 link l up\n";
    char err[256];
    int rc;
    char *o = run(text, 1, &rc, err, sizeof err);
    REQUIRE(o);
    /* Requests at 0..5 s; those at 2 and 3 s are sent while the cable is cut. */
    CHECK(strstr(o, "6 packets transmitted, 4 received,") != NULL);
    CHECK_EQ(link_stat(o, "l a->b", 4), 2); /* the requests of 2 s and 3 s */
    CHECK(strstr(o, "icmp_seq=3 ") == NULL && strstr(o, "icmp_seq=4 ") == NULL);
    free(o);
}

TEST(sim_build_errors_name_the_line)
{
    static const char text[] = "host a\n  iface eth0 10.0.0.1/24\n  gateway 10.9.9.9\n"
                               "host b\n  iface eth0 10.0.0.2/24\n"
                               "link l a.eth0 b.eth0\n";
    char err[256];
    int rc;
    char *o = run(text, 1, &rc, err, sizeof err);
    CHECK_EQ(rc, -2); /* a scenario error: `tern sim` exits 2 */
    /* the gateway's own line (3), not the host's (1) */
    CHECK(strstr(err, "t.scn:3: a: gateway 10.9.9.9 is on none of its subnets") == err);
    free(o);
    static const char zone[] = "host a\n  iface eth0 10.0.0.1/24\n  dns-zone x.test\n"
                               "  record www A 10.0.0.300\n"
                               "host b\n  iface eth0 10.0.0.2/24\n"
                               "link l a.eth0 b.eth0\n";
    o = run(zone, 1, &rc, err, sizeof err);
    CHECK_EQ(rc, -2);
    CHECK(strncmp(err, "t.scn:4: dns record: ", 21) == 0);
    free(o);
}

TEST(sim_demo_matches_example_file)
{
    FILE *f = fopen("examples/scenarios/demo.scn", "rb");
    REQUIRE(f);
    char *buf = malloc(SCN_MAX_BYTES);
    REQUIRE(buf);
    size_t n = fread(buf, 1, SCN_MAX_BYTES, f);
    fclose(f);
    CHECK_EQ(n, strlen(sim_demo_scenario));
    CHECK(n == strlen(sim_demo_scenario) && memcmp(buf, sim_demo_scenario, n) == 0);
    free(buf);
}

TEST(sim_demo_tells_the_story)
{
    char err[256];
    int rc;
    char *o = run(sim_demo_scenario, 1, &rc, err, sizeof err);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    CHECK(strstr(o, "dhcp: bound 192.168.1.100/24 from 192.168.1.1") != NULL);
    CHECK(strstr(o, "www.example.test has address 10.0.2.80") != NULL);
    CHECK(strstr(o, "3 packets transmitted, 3 received") != NULL);
    CHECK(strstr(o, " 1  192.168.1.1 ") != NULL);     /* traceroute: home ... */
    CHECK(strstr(o, " 3  10.0.2.80 ") != NULL);       /* ... isp, then the server */
    CHECK(strstr(o, "Flags [S.]") != NULL);           /* the handshake in the trace */
    CHECK(strstr(o, "ESTABLISHED") != NULL);          /* netstat mid-transfer */
    CHECK(strstr(o, "(identical)") != NULL);
    CHECK(field(o, "udp 10.0.2.80", "lost ") > 0);    /* the stream lost a few */
    CHECK(queue_drops(o, "slow isp->home") > 0);
    CHECK(strstr(o, "0 failed or unfinished") != NULL);
    free(o);
}

TEST(sim_scripted_drops_are_counted_and_repaired)
{
    /* Frames 20 and 25 from b to a are dropped: both fall inside the page's
     * data (the handshake, the request's ACK and ARP are the first few). */
    static const char text[] = "host a\n  iface eth0 10.0.0.1/24\n"
                               "host b\n  iface eth0 10.0.0.2/24\n  http page /p 100K\n"
                               "link l a.eth0 b.eth0 delay 5ms rate 10M drop none/20,25\n"
                               "at 0.1 a get http://10.0.0.2/p\n";
    char err[256];
    int rc;
    char *o = run(text, 1, &rc, err, sizeof err);
    REQUIRE(o);
    CHECK_EQ(link_stat(o, "l b->a", 2), 2);
    CHECK_EQ(link_stat(o, "l a->b", 2), 0);
    CHECK_EQ(link_stat(o, "l b->a", 1), 0);
    CHECK(strstr(o, "(identical)") != NULL);
    /* Each lost data segment is sent again at least once. */
    CHECK(field(o, "b      -> a", "segments ") >= 2);
    free(o);
}

TEST(sim_perf_measures_the_bottleneck)
{
    /* tern perf (iperf3's protocol) through a 10 Mbit/s link with 20 ms of
     * delay: the client reports what the server received, close to the
     * link's rate; a UDP test at 2 Mbit/s over 1% loss counts some lost. */
    static const char scn2[] =
        "host a\n  iface eth0 10.0.0.1/24\n"
        "host b\n  iface eth0 10.0.0.2/24\n  perf-server\n"
        "link l a.eth0 b.eth0 rate 10M delay 20ms queue 100 loss 0/1%\n"
        "at 0.1 a perf b time 5\n"
        "at 6 a perf 10.0.0.2 udp reverse rate 2M time 3 length 1000\n";
    char err[256];
    int rc;
    char *o = run(scn2, 3, &rc, err, sizeof err);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    CHECK(strstr(o, "$ iperf3 -c b -p 5201 -t 5\n") != NULL);
    /* the receiver's line: between 8 and 10 Mbit/s through a 10 Mbit/s link */
    const char *r = strstr(o, "  receiver\n");
    REQUIRE(r);
    const char *ls = r;
    while (ls > o && ls[-1] != '\n')
        ls--;
    const char *mb = strstr(ls, "Mbits/sec");
    REQUIRE(mb && mb < r);
    double rate = strtod(mb - 5, NULL);
    CHECK(rate > 8.0 && rate <= 10.0);
    /* the 100-frame queue overflowed in slow start: the sender line counts
     * the retransmissions (the summary's TCP flow has the same number) */
    const char *snd = strstr(o, "  sender\n");
    REQUIRE(snd);
    const char *sp = snd;
    while (sp > o && sp[-1] != '\n')
        sp--;
    const char *bits = strstr(sp, "Mbits/sec");
    REQUIRE(bits && bits < snd);
    long retr = strtol(bits + 9, NULL, 10);
    CHECK(retr > 0);
    CHECK_EQ(retr, field(o, "goodput", "segments "));
    CHECK(strstr(o, "$ iperf3 -c 10.0.0.2 -p 5201 -t 3 -R -u -b 2000000 -l 1000\n") != NULL);
    /* 750 datagrams, about 1% lost */
    const char *u = strstr(o, "-u -b 2000000");
    REQUIRE(u);
    const char *ur = strstr(u, "  receiver\n");
    REQUIRE(ur);
    const char *sl = ur;
    while (sl > u && sl[-1] != '/')
        sl--;
    long total = strtol(sl, NULL, 10);
    const char *ll = sl - 1;
    while (ll > u && ll[-1] != ' ')
        ll--;
    long lost = strtol(ll, NULL, 10);
    CHECK(total >= 740 && total <= 760);
    CHECK(lost >= 1 && lost <= 30);
    CHECK(strstr(o, "0 failed or unfinished") != NULL);
    free(o);
}
