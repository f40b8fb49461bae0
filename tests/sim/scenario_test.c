/*
 * Tests for the scenario parser (src/sim/scenario*.c): the value syntaxes,
 * a complete file, and every class of error - each must name the file, the
 * line and what is wrong, never crash (fuzz/scenario_fuzz.c does the
 * rest). Expected values are worked out by hand from docs/scenarios.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sim/scenario.h"
#include "sim/sha256.h"

static struct scenario *parse(const char *text, char *err, size_t cap, int *rc)
{
    struct scenario *sc = malloc(sizeof *sc);
    if (!sc)
        return NULL;
    err[0] = 0;
    *rc = scenario_parse(sc, text, strlen(text), "t.scn", err, cap);
    return sc;
}

/* The text must fail with "t.scn:LINE: " followed by a message containing want. */
static void expect_error(const char *text, int line, const char *want, int at)
{
    char err[512], prefix[32];
    int rc;
    struct scenario *sc = parse(text, err, sizeof err, &rc);
    if (!sc)
        return;
    snprintf(prefix, sizeof prefix, "t.scn:%d: ", line);
    if (rc != -1 || strncmp(err, prefix, strlen(prefix)) || !strstr(err, want))
        test_fail(__FILE__, at, "expected '%s...%s', got rc %d '%s'", prefix, want, rc, err);
    free(sc);
}
#define EXPECT_ERROR(text, line, want) expect_error(text, line, want, __LINE__)

#define TWO_HOSTS                                                                                  \
    "host a\n"                                                                                     \
    "  iface eth0 10.0.0.1/24\n"                                                                   \
    "host b\n"                                                                                     \
    "  iface eth0 10.0.0.2/24\n"

TEST(scenario_values)
{
    uint64_t v;
    double p;
    CHECK(scn_parse_time("1.5", &v) == 0 && v == 1500000);
    CHECK(scn_parse_time("200ms", &v) == 0 && v == 200000);
    CHECK(scn_parse_time("10us", &v) == 0 && v == 10);
    CHECK(scn_parse_time("2m", &v) == 0 && v == 120000000);
    CHECK(scn_parse_time("1h", &v) == 0 && v == 3600000000ull);
    CHECK(scn_parse_time(".25s", &v) == 0 && v == 250000);
    CHECK(scn_parse_time("-1", &v) < 0);
    CHECK(scn_parse_time("1e3", &v) < 0);
    CHECK(scn_parse_time("5 s", &v) < 0);
    CHECK(scn_parse_time("25h", &v) < 0); /* beyond one virtual day */
    CHECK(scn_parse_time("", &v) < 0);
    CHECK(scn_parse_rate("64k", &v) == 0 && v == 64000);
    CHECK(scn_parse_rate("10M", &v) == 0 && v == 10000000);
    CHECK(scn_parse_rate("1.5Gbit", &v) == 0 && v == 1500000000);
    CHECK(scn_parse_rate("9600", &v) == 0 && v == 9600);
    CHECK(scn_parse_rate("0", &v) < 0);
    CHECK(scn_parse_rate("10X", &v) < 0);
    CHECK(scn_parse_bytes("64K", &v) == 0 && v == 65536);
    CHECK(scn_parse_bytes("2M", &v) == 0 && v == 2097152);
    CHECK(scn_parse_bytes("1500", &v) == 0 && v == 1500);
    CHECK(scn_parse_bytes("1.5", &v) < 0); /* not a whole number of bytes */
    CHECK(scn_parse_prob("2%", &p) == 0 && p > 0.0199 && p < 0.0201);
    CHECK(scn_parse_prob("0.5", &p) == 0 && p == 0.5);
    CHECK(scn_parse_prob("101%", &p) < 0);
    CHECK(scn_parse_prob("1.5", &p) < 0);
}

TEST(scenario_parses_a_complete_file)
{
    const char *text = "# a comment\n"
                       "title Two hosts and a router\n"
                       "seed 42\n"
                       "until 30s\n"
                       "host a\n"
                       "  iface eth0 dhcp\n"
                       "router r   # trailing comment\n"
                       "  iface left 10.0.1.1/24 mtu 1400\n"
                       "  iface right 10.0.2.1/24\n"
                       "  ecmp packet\n"
                       "  route 10.9.0.0/16 via 10.0.2.2 via 10.0.2.3\n"
                       "  dhcp-server left pool 10.0.1.100-10.0.1.120 router 10.0.1.1 dns "
                       "10.0.2.2 lease 10m\n"
                       "host b\n"
                       "\tiface eth0 10.0.2.2/24\r\n"
                       "  gateway 10.0.2.1\n"
                       "  service echo discard\n"
                       "  http port 8080 page /x/index.html 64K\n"
                       "  dns-zone example.test\n"
                       "  record www A 10.0.2.2\n"
                       "link l1 a.eth0 r.left rate 10M/1M delay 5ms loss 1%/0 queue 20\n"
                       "link l2 r.right b.eth0 reorder 5% gap 3ms down\n"
                       "at 0 a dhcp noprobe\n"
                       "at 1.5 a ping b count 2 interval 200ms\n"
                       "at 2 a get http://www.example.test:8080/x/\n"
                       "at 2 a nc 10.0.2.2 discard 100K\n"
                       "at 3 b stream a 5004 rate 64k size 160 duration 2s\n"
                       "at 4 link l2 up\n"
                       "at 4 trace r.left handshake data 3 retrans 1 close\n"
                       "at 5 netstat b\n"
                       "at 6 say done\n";
    char err[512];
    int rc;
    struct scenario *sc = parse(text, err, sizeof err, &rc);
    REQUIRE(sc);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "parse failed: %s", err);
    REQUIRE(rc == 0);
    CHECK_STR(sc->title, "Two hosts and a router");
    CHECK_EQ(sc->seed, 42);
    CHECK_EQ(sc->until_us, 30000000);
    REQUIRE_EQ(sc->nnodes, 3);
    CHECK(sc->nodes[0].ifaces[0].dhcp);
    CHECK(sc->nodes[1].router && sc->nodes[1].ecmp_packet);
    CHECK_EQ(sc->nodes[1].ifaces[0].mtu, 1400);
    CHECK_EQ(sc->nodes[1].routes[0].nvia, 2);
    CHECK_EQ(sc->nodes[1].routes[0].dst, 0x0a090000);
    CHECK_EQ(sc->nodes[1].routes[0].prefix, 16);
    CHECK_EQ(sc->nodes[1].dhcpd.first, 0x0a000164);
    CHECK_EQ(sc->nodes[1].dhcpd.lease_s, 600);
    CHECK_EQ(sc->nodes[2].ifaces[0].addr, 0x0a000202); /* the CR of CRLF is ignored */
    CHECK_EQ(sc->nodes[2].gateway, 0x0a000201);
    CHECK_EQ(sc->nodes[2].services, 3u); /* echo (bit 0) + discard (bit 1) */
    CHECK_EQ(sc->nodes[2].http_port, 8080);
    CHECK_EQ(sc->nodes[2].http_page_bytes, 65536);
    CHECK_EQ(sc->nodes[2].nrecords, 1);
    REQUIRE_EQ(sc->nlinks, 2);
    CHECK_EQ(sc->links[0].dir[0].rate_bps, 10000000);
    CHECK_EQ(sc->links[0].dir[1].rate_bps, 1000000);
    CHECK(sc->links[0].dir[0].loss > 0.0099 && sc->links[0].dir[0].loss < 0.0101);
    CHECK(sc->links[0].dir[1].loss == 0);
    CHECK_EQ(sc->links[0].dir[1].delay_us, 5000);
    CHECK_EQ(sc->links[0].dir[0].queue_pkts, 20);
    CHECK(sc->links[1].down);
    CHECK_EQ(sc->links[1].dir[0].reorder_gap_us, 3000);
    REQUIRE_EQ(sc->nactions, 9);
    CHECK_EQ(sc->actions[1].kind, SCN_ACT_PING);
    CHECK_EQ(sc->actions[1].at_us, 1500000);
    CHECK_EQ(sc->actions[1].count, 2);
    CHECK_EQ(sc->actions[1].interval_us, 200000);
    CHECK_EQ(sc->actions[1].node, 0);
    CHECK_EQ(sc->actions[3].port, 9); /* discard */
    CHECK_EQ(sc->actions[3].bytes, 102400);
    CHECK_EQ(sc->actions[4].rate_bps, 64000);
    CHECK_EQ(sc->actions[4].node, 2);
    CHECK_EQ(sc->actions[6].trace_what, SCN_TR_HANDSHAKE | SCN_TR_DATA | SCN_TR_RETRANS |
                                            SCN_TR_CLOSE);
    CHECK_EQ(sc->actions[6].trace_data, 3);
    CHECK_EQ(sc->actions[7].node, 2);
    CHECK_STR(sc->actions[8].text, "done");
    free(sc);
}

TEST(scenario_error_unknown_keyword_and_context)
{
    EXPECT_ERROR("hots a\n", 1, "unknown keyword 'hots'");
    EXPECT_ERROR("# c\n\n  iface eth0 10.0.0.1/24\n", 3, "outside a host or router");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nrecord www A 1.2.3.4\n", 6,
                 "outside a host or router");
}

TEST(scenario_error_link_options)
{
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0 lose 1%\n", 5,
                 "unknown link option 'lose' (expected rate, delay,");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0 loss 120%\n", 5, "'loss': bad value '120%'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0 delay 10ms/x\n", 5, "'delay': bad value 'x'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0 rate\n", 5, "'rate' needs a value");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0 mtu 100\n", 5, "link mtu: bad value '100'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0 queue 0\n", 5, "'queue': bad value '0'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0 drop 0\n", 5, "'drop': bad value '0'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0 drop 1,2,3,4,5,6,7,8,9\n", 5, "'drop': bad value");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0 drop 3,x\n", 5, "'drop': bad value '3,x'");
}

TEST(scenario_error_names_and_endpoints)
{
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 c.eth0\n", 5, "no interface 'c.eth0'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth1 b.eth0\n", 5, "no interface 'a.eth1'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nlink m a.eth0 b.eth0\n", 6,
                 "a.eth0 is already on link l");
    EXPECT_ERROR(TWO_HOSTS "host a\n", 5, "name 'a' is used twice");
    /* Segments: three or more ends, mtu and down only, no end twice. */
    EXPECT_ERROR(TWO_HOSTS "host c\n  iface eth0 10.0.0.3/24\n"
                           "link l a.eth0 b.eth0 c.eth0 loss 1%\n",
                 7, "a segment of 3 ends takes mtu and down only (got 'loss')");
    EXPECT_ERROR(TWO_HOSTS "host c\n  iface eth0 10.0.0.3/24\nlink l a.eth0 b.eth0 a.eth0\n", 7,
                 "a.eth0 is an end twice");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 a.eth0\n", 5, "a.eth0 is an end twice");
    EXPECT_ERROR("host a.b\n", 1, "bad node name 'a.b'");
    EXPECT_ERROR("host a\n  iface e 10.0.0.1/24\n  iface e 10.0.0.2/24\n", 3, "defined twice");
    EXPECT_ERROR(TWO_HOSTS, 2, "interface a.eth0 is on no link");
    EXPECT_ERROR("host a\nhost b\n", 1, "host a has no interface");
}

TEST(scenario_error_addresses)
{
    EXPECT_ERROR("host a\n  iface eth0 10.0.0.256/24\n", 2, "expected ADDRESS/PREFIX");
    EXPECT_ERROR("host a\n  iface eth0 10.0.0.1\n", 2, "expected ADDRESS/PREFIX");
    EXPECT_ERROR("host a\n  iface eth0 10.0.0.1/33\n", 2, "expected ADDRESS/PREFIX");
    EXPECT_ERROR("host a\n  iface eth0 10.0.0.1/31\n", 2, "leaves no room");
    EXPECT_ERROR("host a\n  gateway 10.0.0\n", 2, "bad IPv4 address '10.0.0'");
    EXPECT_ERROR("router r\n  route 10.0.0.0/8 via\n", 2, "expected 'route DST/PREFIX via");
    EXPECT_ERROR("router r\n  route 10.0.0.0/8 by 1.2.3.4\n", 2, "unknown word 'by'");
    EXPECT_ERROR("router r\n  iface x 10.0.0.1/24\n  dhcp-server x pool 10.0.1.5-10.0.1.9\n", 3,
                 "inside x's subnet");
    EXPECT_ERROR("router r\n  dhcp-server x pool 1.1.1.1-1.1.1.2\n", 2, "no interface 'x'");
}

TEST(scenario_error_services)
{
    EXPECT_ERROR("host a\n  service echo ftp\n", 2, "unknown service 'ftp'");
    EXPECT_ERROR("host a\n  http\n", 2, "give 'page PATH BYTES' or 'dir DIRECTORY'");
    EXPECT_ERROR("host a\n  http page index.html 10\n", 2, "must start with '/'");
    EXPECT_ERROR("host a\n  http page /i.html lots\n", 2, "bad size 'lots'");
    EXPECT_ERROR("host a\n  record www A 1.2.3.4\n", 2, "no dns-zone on a");
    EXPECT_ERROR("host a\n  dns-zone x.test\n  record www MX 10 mail\n", 3, "unknown type 'MX'");
    EXPECT_ERROR("host a\n  iface eth0 10.0.0.1/24\n  dns-zone x.test\nhost b\n"
                 "  iface eth0 10.0.0.2/24\nlink l a.eth0 b.eth0\n",
                 3, "has no record");
}

TEST(scenario_error_timeline)
{
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat soon a ping b\n", 6, "bad time 'soon'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 a fly b\n", 6, "unknown action 'fly'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 c ping b\n", 6, "no node named 'c'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 a ping nowhere\n", 6,
                 "'nowhere' is no IPv4 address and no node");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 a ping b count x\n", 6,
                 "ping count: bad value 'x'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 a ping b colour red\n", 6,
                 "ping: unknown option 'colour' (expected count, size, interval, ttl)");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 a get ftp://b/\n", 6,
                 "expected an http:// URL");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 a nc b discard\n", 6, "missing arguments");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 a nc b 99999 10\n", 6, "port: bad value");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 a dhcp\n", 6, "has no 'iface NAME dhcp'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 link m down\n", 6, "no link named 'm'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 link l sideways\n", 6, "up|down");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 trace l everything\n", 6,
                 "unknown filter 'everything'");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 trace l off data 2\n", 6,
                 "'off' stands alone");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 trace q all\n", 6, "no link, node");
    EXPECT_ERROR(TWO_HOSTS "link l a.eth0 b.eth0\nat 1 netstat q\n", 6, "no node named 'q'");
}

TEST(scenario_forward_references_resolve)
{
    char err[512];
    int rc;
    struct scenario *sc = parse("at 1 a ping b\n" TWO_HOSTS "link l a.eth0 b.eth0\n", err,
                                sizeof err, &rc);
    REQUIRE(sc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(sc->actions[0].node, 0);
    free(sc);
}

TEST(scenario_error_limits)
{
    /* A line longer than SCN_MAX_LINE, NUL bytes, too many words, too many nodes. */
    char *big = malloc(SCN_MAX_LINE + 64);
    REQUIRE(big);
    memset(big, 'x', SCN_MAX_LINE + 10);
    memcpy(big, "title ", 6);
    big[SCN_MAX_LINE + 10] = 0;
    EXPECT_ERROR(big, 1, "longer than");
    free(big);
    char err[256];
    struct scenario *sc = malloc(sizeof *sc);
    REQUIRE(sc);
    static const char nul[] = "host a\n  ser\0vice echo\n";
    CHECK_EQ(scenario_parse(sc, nul, sizeof nul - 1, "t.scn", err, sizeof err), -1);
    CHECK(strstr(err, "t.scn:2: NUL byte") == err);
    size_t cap = 64 * (SCN_MAX_NODES + 2);
    char *many = malloc(cap);
    REQUIRE(many);
    size_t off = 0;
    for (int i = 0; i <= SCN_MAX_NODES; i++)
        off += (size_t)snprintf(many + off, cap - off, "host h%d\n", i);
    CHECK_EQ(scenario_parse(sc, many, off, "t.scn", err, sizeof err), -1);
    CHECK(strstr(err, "too many nodes") != NULL);
    char line[40];
    snprintf(line, sizeof line, "t.scn:%d:", SCN_MAX_NODES + 1);
    CHECK(strncmp(err, line, strlen(line)) == 0);
    free(many);
    /* A tiny error buffer is still NUL-terminated and never overrun. */
    char tiny[8];
    memset(tiny, 'z', sizeof tiny);
    CHECK_EQ(scenario_parse(sc, "bogus\n", 6, "t.scn", tiny, sizeof tiny), -1);
    CHECK(memchr(tiny, 0, sizeof tiny) != NULL);
    free(sc);
}

/* FIPS 180-2 appendix B test vectors. */
TEST(sim_sha256_vectors)
{
    struct tern_sha256 c;
    uint8_t d[32];
    char hex[65];
    sim_sha256_init(&c);
    sim_sha256_update(&c, "abc", 3);
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sim_sha256_init(&c);
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sim_sha256_init(&c);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (size_t i = 0; i < strlen(m); i++) /* byte by byte: the buffering path */
        sim_sha256_update(&c, m + i, 1);
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    uint8_t a[1000];
    memset(a, 'a', sizeof a);
    sim_sha256_init(&c);
    for (int i = 0; i < 1000; i++)
        sim_sha256_update(&c, a, sizeof a);
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(scenario_nat_forward_firewall_lines)
{
    const char *text = "router gw\n"
                       "  iface in 192.168.1.1/24\n"
                       "  iface out 10.0.0.1/24\n"
                       "  iface out2 10.0.1.1/24\n"
                       "  nat out mapping adm filtering eif udp-timeout 30s per-host 50\n"
                       "  nat out2 address 10.0.0.1 max 500\n"
                       "  forward tcp:8080=192.168.1.10:80\n"
                       "  firewall out\n"
                       "  firewall out allow tcp from 10.0.0.0/24 to 192.168.1.10 port 80-81\n"
                       "  firewall out deny all\n"
                       "host a\n  iface e 192.168.1.10/24\n"
                       "host b\n  iface e 10.0.0.2/24\n"
                       "host c\n  iface e 10.0.1.2/24\n"
                       "link l1 gw.in a.e\nlink l2 gw.out b.e\nlink l3 gw.out2 c.e\n";
    char err[512];
    int rc;
    struct scenario *sc = parse(text, err, sizeof err, &rc);
    REQUIRE(sc);
    if (rc)
        fprintf(stderr, "# %s\n", err);
    CHECK_EQ(rc, 0);
    const struct scn_node *n = &sc->nodes[0];
    CHECK_EQ(n->nat_ifs, 6u); /* ifaces 1 and 2 */
    CHECK_EQ(n->nat.mapping, TERN_NAT_AD);
    CHECK_EQ(n->nat.filtering, TERN_NAT_EI);
    CHECK_EQ(n->nat.udp_timeout_us, 30000000);
    CHECK_EQ(n->nat.max_per_host, 50);
    CHECK_EQ(n->nat.max_entries, 500);
    CHECK_EQ(n->nat.tcp_est_timeout_us, 7440ull * 1000000); /* default kept */
    CHECK_EQ(n->nat_ext[2], 0x0a000001u);
    CHECK_EQ(n->nfwds, 1);
    CHECK_EQ(n->fwds[0].proto, 6);
    CHECK_EQ(n->fwds[0].ext, 8080);
    CHECK_EQ(n->fwds[0].addr, 0xc0a8010au);
    CHECK_EQ(n->fwds[0].port, 80);
    CHECK_EQ(n->nfw, 3);
    CHECK(!n->fw[0].has_rule);
    CHECK(n->fw[1].has_rule && n->fw[1].r.allow && n->fw[1].r.proto == 6);
    CHECK_EQ(n->fw[1].r.src_mask, 0xffffff00u);
    CHECK_EQ(n->fw[1].r.dst_mask, 0xffffffffu);
    CHECK_EQ(n->fw[1].r.dport_lo, 80);
    CHECK_EQ(n->fw[1].r.dport_hi, 81);
    CHECK(n->fw[2].has_rule && !n->fw[2].r.allow && n->fw[2].r.proto == 0);
    free(sc);
    EXPECT_ERROR("host h\n  iface e 10.0.0.2/24\n  nat e\n", 3, "only a router translates");
    EXPECT_ERROR("router r\n  iface e 10.0.0.1/24\n  nat x\n", 3, "no interface 'x'");
    EXPECT_ERROR("router r\n  iface e 10.0.0.1/24\n  nat e mapping full\n", 3,
                 "expected eim, adm or apdm");
    EXPECT_ERROR("router r\n  iface e 10.0.0.1/24\n  forward tcp:0=1.2.3.4:80\n", 3,
                 "expected 'forward tcp|udp:PORT=ADDR:PORT'");
    EXPECT_ERROR("router r\n  iface e 10.0.0.1/24\n  firewall e allow udp port 0\n", 3,
                 "firewall port");
}
