/*
 * Multicast in the simulator: a shared segment (a link of three or more
 * ends, repeated by a hub) and a UDP stream to a group with several
 * members (docs/scenarios.md, docs/multicast.md). The summary hashes the
 * bytes sent and each member's bytes as received; the test recomputes the
 * sender's hash from the stream's datagram format on its own.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sim/scenario.h"
#include "sim/sha256.h"
#include "sim/sim.h"

static char *run_seed(const char *text, uint64_t seed, int *rc)
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
    struct sim_opts o = {.seed = seed, .have_seed = true, .out = out};
    *rc = sim_run(sc, &o, err, sizeof err);
    fclose(out);
    free(sc);
    return buf;
}

/* The sha256 on the line holding `has`, or "". */
static void hash_on(const char *out, const char *has, char hex[65])
{
    hex[0] = 0;
    const char *l = strstr(out, has);
    const char *h = l ? strstr(l, "sha256 ") : NULL;
    const char *e = l ? strchr(l, '\n') : NULL;
    if (h && (!e || h < e) && strlen(h) >= 7 + 64) {
        memcpy(hex, h + 7, 64);
        hex[64] = 0;
    }
}

static const char group_scn[] =
    "host src\n  iface eth0 10.0.0.1/24\n"
    "host m1\n  iface eth0 10.0.0.2/24\n"
    "host m2\n  iface eth0 10.0.0.3/24\n"
    "host m3\n  iface eth0 10.0.0.4/24\n"
    "host other\n  iface eth0 10.0.0.5/24\n"
    "link lan src.eth0 m1.eth0 m2.eth0 m3.eth0 other.eth0\n"
    "at 0.5 src stream 239.1.2.3 5004 rate 64k size 160 duration 2 members m1,m2,m3\n"
    "at 3 other stream 239.1.2.3 5006 rate 64k size 160 duration 1 members m2\n";

/* The sender's bytes, rebuilt: 100 datagrams of 160 bytes, each the
 * sequence number (32 bits) and the send time in us (64 bits, virtual clock
 * from 0, 64 kbit/s = one per 20 ms from 0.5 s), zeros after. */
static void expected_hash(char hex[65])
{
    struct tern_sha256 c;
    uint8_t d[32], b[160];
    sim_sha256_init(&c);
    for (uint32_t i = 0; i < 100; i++) {
        memset(b, 0, sizeof b);
        b[0] = (uint8_t)(i >> 24), b[1] = (uint8_t)(i >> 16), b[2] = (uint8_t)(i >> 8);
        b[3] = (uint8_t)i;
        uint64_t t = 500000u + 20000u * i;
        for (int k = 0; k < 8; k++)
            b[4 + k] = (uint8_t)(t >> (56 - 8 * k));
        sim_sha256_update(&c, b, sizeof b);
    }
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, hex);
}

TEST(sim_group_stream_members_hash_delivered_bytes)
{
    int rc;
    char *o = run_seed(group_scn, 7, &rc);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    char want[65], sent[65], h[65];
    expected_hash(want);
    hash_on(o, "udp 10.0.0.1 -> 239.1.2.3:5004  group of 3  sent 100", sent);
    CHECK_STR(sent, want);
    const char *m[3] = {"member m1  sent 100  received 100  lost 0",
                        "member m2  sent 100  received 100  lost 0",
                        "member m3  sent 100  received 100  lost 0"};
    for (int i = 0; i < 3; i++) {
        hash_on(o, m[i], h);
        CHECK_STR(h, want);
    }
    /* The second stream, from a host that is no member, reaches m2 only. */
    CHECK(strstr(o, "udp 10.0.0.5 -> 239.1.2.3:5006  group of 1  sent 50") != NULL);
    CHECK(strstr(o, "member m2  sent 50  received 50  lost 0") != NULL);
    /* Every end sent into the hub; the members' IGMP reports among them. */
    CHECK(strstr(o, "lan m3->hub") != NULL);
    /* Same seed, same bytes. */
    char *o2 = run_seed(group_scn, 7, &rc);
    REQUIRE(o2);
    CHECK_STR(o2, o);
    free(o2);
    free(o);
}

TEST(sim_group_stream_errors)
{
    int rc;
    static const char no_members[] = "host a\n  iface eth0 10.0.0.1/24\n"
                                     "host b\n  iface eth0 10.0.0.2/24\n"
                                     "host c\n  iface eth0 10.0.0.3/24\n"
                                     "link lan a.eth0 b.eth0 c.eth0\n"
                                     "at 0 a stream 239.1.2.3 5004 duration 1\n";
    char *o = run_seed(no_members, 1, &rc);
    REQUIRE(o);
    CHECK(rc != 0); /* the action failed: listed in the summary */
    CHECK(strstr(o, "is a group: give its receivers (members NODE,...)") != NULL);
    CHECK(strstr(o, "t.scn:8: a stream 239.1.2.3: failed (exit 2)") != NULL);
    free(o);
    static const char bad_member[] = "host a\n  iface eth0 10.0.0.1/24\n"
                                     "host b\n  iface eth0 10.0.0.2/24\n"
                                     "link l a.eth0 b.eth0\n"
                                     "at 0 a stream 239.1.2.3 5004 duration 1 members b,zz\n"
                                     "at 0 a stream b 5005 duration 1 members b\n";
    o = run_seed(bad_member, 1, &rc);
    REQUIRE(o);
    CHECK(rc != 0); /* the action failed: listed in the summary */
    CHECK(strstr(o, "stream: member zz is no node of the scenario") != NULL);
    CHECK(strstr(o, "stream: members are for a multicast group, not 10.0.0.2") != NULL);
    free(o);
}
