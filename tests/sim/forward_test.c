/*
 * The encrypted port forwarding scenario (issue 15 item 5,
 * examples/scenarios/forward.scn, `tern demo forward`): a POP3 session in
 * the clear and the same session through two `tern forward` tunnels (TLS
 * via OpenSSL, libtern-tls through struct sim_tls) past a sniffing router.
 * The mailbox's text must be in the captured bytes of the plain session
 * and in none of the tunnel's; both sessions must receive exactly the
 * transcript RFC 1939 and the maildrop make (its SHA-256 computed here).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sim/scenario.h"
#include "sim/sha256.h"
#include "sim/sim.h"

static char *run_fwd(const char *text, const struct sim_tls *tls, int *rc, char *err,
                     size_t errcap)
{
    struct scenario *sc = malloc(sizeof *sc);
    if (!sc)
        return NULL;
    if (scenario_parse(sc, text, strlen(text), "forward.scn", err, errcap) < 0) {
        free(sc);
        *rc = -3;
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct sim_opts o = {.out = out, .tls = tls};
    *rc = sim_run(sc, &o, err, errcap);
    fclose(out);
    free(sc);
    return buf;
}

static void sha_hex(const char *s, size_t n, char hex[65])
{
    struct tern_sha256 c;
    uint8_t d[32];
    sim_sha256_init(&c);
    sim_sha256_update(&c, s, n);
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, hex);
}

/* The line of `out` that contains `has`, copied into line (or ""). */
static const char *line_with(const char *out, const char *has, char *line, size_t cap)
{
    const char *p = strstr(out, has);
    line[0] = 0;
    if (!p)
        return line;
    const char *b = p, *e = strchr(p, '\n');
    while (b > out && b[-1] != '\n')
        b--;
    size_t n = e ? (size_t)(e - b) : strlen(b);
    if (n >= cap)
        n = cap - 1;
    memcpy(line, b, n);
    line[n] = 0;
    return line;
}

TEST(sim_forward_tunnel_hides_the_mailbox_plain_shows_it)
{
    char err[256];
    int rc;
    char *o = run_fwd(sim_forward_scenario, sim_tls_hooks(), &rc, err, sizeof err);
    REQUIRE(o);
    CHECK_EQ(rc, 0);
    /* The sniffer's verdict per conversation on the links (plain: port 110;
     * the tunnel: 995). The scenario's text is what it looks for. */
    const char *text = "Meet me at the old mill at midnight. Bring the map.";
    CHECK(strstr(o, text) != NULL);
    char l110[512], l995[512];
    line_with(o, ":110 <-> ", l110, sizeof l110);
    line_with(o, ":995  on ", l995, sizeof l995);
    CHECK(strstr(l110, "on lan,wan,dc") && strstr(l110, ": TEXT FOUND"));
    CHECK(strstr(l995, "on lan,wan,dc") && strstr(l995, ": text not found"));
    const char *tf = strstr(o, "TEXT FOUND");
    CHECK(tf && !strstr(tf + 1, "TEXT FOUND")); /* in that conversation only */
    /* What the client received, byte for byte, both times: RFC 1939's
     * replies of tern's server around the maildrop's one message (line
     * ends CRLF, its exact size in octets). */
    char msg[512], all[1024];
    int ml = snprintf(msg, sizeof msg,
                      "From: postmaster@example.test\r\nTo: alice@example.test\r\n"
                      "Subject: for your eyes only\r\n\r\n%s\r\n", text);
    int al = snprintf(all, sizeof all,
                      "+OK tern POP3 server ready\r\n+OK send PASS\r\n"
                      "+OK maildrop has 1 message (%d octets)\r\n+OK %d octets\r\n%s.\r\n"
                      "+OK tern POP3 server signing off (1 message left)\r\n", ml, ml, msg);
    char hm[65], ha[65], want[128];
    sha_hex(msg, (size_t)ml, hm);
    sha_hex(all, (size_t)al, ha);
    snprintf(want, sizeof want, "pop3: received sha256 %s\n", ha);
    const char *r1 = strstr(o, want);
    CHECK(r1 && strstr(r1 + 1, want)); /* plain, then through the tunnel */
    snprintf(want, sizeof want, "pop3: message sha256 %s\n", hm);
    const char *m1 = strstr(o, want);
    CHECK(m1 && strstr(m1 + 1, want));
    snprintf(want, sizeof want, "pop3: exit 0, received %d bytes", al);
    CHECK(strstr(o, want) && strstr(strstr(o, want) + 1, want));
    /* Both forwarders ran TLS 1.3 and passed the bytes each way. */
    snprintf(want, sizeof want, "43 bytes sent, %d bytes received (TLSv1.3 ", al);
    const char *f1 = strstr(o, want);
    CHECK(f1 && strstr(f1 + 1, want));
    CHECK(strstr(o, "laptop: tern forward: 127.0.0.1:") != NULL);
    CHECK(strstr(o, "mail: tern forward: 192.168.1.10:") != NULL);
    CHECK(strstr(o, "0 failed or unfinished") != NULL);
    free(o);
}

TEST(sim_forward_example_file_is_the_builtin_demo)
{
    FILE *f = fopen("examples/scenarios/forward.scn", "rb");
    REQUIRE(f);
    char *buf = malloc(SCN_MAX_BYTES);
    REQUIRE(buf);
    size_t n = fread(buf, 1, SCN_MAX_BYTES, f);
    fclose(f);
    CHECK_EQ(n, strlen(sim_forward_scenario));
    CHECK(n == strlen(sim_forward_scenario) && memcmp(buf, sim_forward_scenario, n) == 0);
    free(buf);
}

TEST(sim_tunnel_without_tls_is_a_scenario_error_at_its_line)
{
    char err[256];
    int rc;
    char *o = run_fwd(sim_forward_scenario, NULL, &rc, err, sizeof err);
    free(o);
    CHECK_EQ(rc, -2);
    CHECK(strstr(err, "forward.scn:21: tunnel: this program has no TLS forwarder") == err);
    /* and the parser names a bad tunnel line */
    struct scenario *sc = malloc(sizeof *sc);
    REQUIRE(sc);
    static const char bad[] = "host a\n  iface eth0 10.0.0.1/24\n"
                              "  tunnel 12345:10.0.0.2:995 tls-connect\n";
    CHECK_EQ(scenario_parse(sc, bad, strlen(bad), "t.scn", err, sizeof err), -1);
    CHECK(strncmp(err, "t.scn:3: tunnel: expected ", 26) == 0);
    free(sc);
}
