/*
 * Tests for src/app/services*.c: the content functions against known
 * answers (dates and RFC 868 values from Python's datetime/calendar and
 * RFC 868's own examples; the chargen pattern from RFC 864's rule), then
 * each UDP service across two stacks on a memory link in virtual time.
 * Peer tests against Linux's nc: tests/scripts/peer_udp.sh.
 */
#include <stdlib.h>

#include "app/services.h"
#include "common/net2.h"
#include "harness.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define A_ADDR 0x0a000001u /* server */
#define B_ADDR 0x0a000002u /* client */
#define SEC 1000000ull

TEST(svc_time_value_rfc868_examples)
{
    /* RFC 868 s"The Time": "the time 2,208,988,800 corresponds to 00:00 1
     * Jan 1970 GMT", "2,629,584,000 corresponds to 00:00 1 May 1983 GMT",
     * "-1,297,728,000 corresponds to 00:00 17 Nov 1858 GMT". */
    CHECK_EQ(classic_time_value(0), 2208988800u);
    CHECK_EQ(classic_time_value(420595200), 2629584000u);
    CHECK_EQ(classic_time_value(-3506716800ll), (uint32_t)-1297728000);
    /* 1900-01-01 is 0; the field wraps at 2036-02-07 06:28:16 (Python) */
    CHECK_EQ(classic_time_value(-2208988800ll), 0);
    CHECK_EQ(classic_time_value(2085978496), 0);
    CHECK_EQ(classic_time_value(2085978495), 0xffffffffu);
    CHECK_EQ(classic_time_value(1795264496), 4004253296u);
}

TEST(svc_daytime_text)
{
    /* expected strings: Python datetime strftime("%A, %B %-d, %Y %H:%M:%S-UTC") */
    static const struct { int64_t t; const char *s; } v[] = {
        {1795264496, "Saturday, November 21, 2026 12:34:56-UTC\r\n"},
        {383247463, "Monday, February 22, 1982 17:37:43-UTC\r\n"},
        {951868799, "Tuesday, February 29, 2000 23:59:59-UTC\r\n"},
        {0, "Thursday, January 1, 1970 00:00:00-UTC\r\n"},
        {-1, "Wednesday, December 31, 1969 23:59:59-UTC\r\n"},
        {2147483648ll, "Tuesday, January 19, 2038 03:14:08-UTC\r\n"},
        {4107542400ll, "Monday, March 1, 2100 00:00:00-UTC\r\n"},
        {-2208988800ll, "Monday, January 1, 1900 00:00:00-UTC\r\n"},
        {-3506716800ll, "Wednesday, November 17, 1858 00:00:00-UTC\r\n"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char buf[TERN_SVC_DAYTIME_MAX];
        size_t n = classic_daytime(v[i].t, buf);
        CHECK_EQ(n, strlen(v[i].s));
        CHECK_STR(buf, v[i].s);
    }
    /* absurd times stay inside the buffer */
    char buf[TERN_SVC_DAYTIME_MAX];
    CHECK(classic_daytime(INT64_MAX, buf) < TERN_SVC_DAYTIME_MAX);
    CHECK(classic_daytime(INT64_MIN, buf) < TERN_SVC_DAYTIME_MAX);
}

/* RFC 864's rule, written out independently: the 95 printing characters
 * sorted (codes 32..126), line N holds characters N..N+71 (mod 95), then
 * CR LF. */
static uint8_t rfc864_byte(uint64_t off)
{
    uint64_t line = off / 74, col = off % 74;
    if (col == 72)
        return '\r';
    if (col == 73)
        return '\n';
    static const char sorted[] =
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
        "abcdefghijklmnopqrstuvwxyz{|}~";
    return (uint8_t)sorted[(line + col) % 95];
}

TEST(svc_chargen_pattern)
{
    uint8_t buf[3 * TERN_SVC_CHARGEN_PERIOD];
    uint32_t next = classic_chargen(0, buf, sizeof buf);
    CHECK_EQ(next, 0); /* three whole periods */
    for (size_t i = 0; i < sizeof buf; i++)
        if (buf[i] != rfc864_byte(i)) {
            CHECK_EQ(buf[i], rfc864_byte(i));
            break;
        }
    /* line 1 (line 0 starts with the space), and the ring wrapping in line 34 */
    CHECK(memcmp(buf + 74, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n",
                 74) == 0);
    CHECK(memcmp(buf + 34 * 74 + 60, "~ !\"#$%&'()*\r\n", 14) == 0);
    /* resuming mid-line continues the same stream */
    uint8_t part[500];
    uint32_t o = classic_chargen(1000, part, sizeof part);
    CHECK_EQ(o, 1500);
    CHECK_MEM(part, buf + 1000, sizeof part);
}

/* ---- two stacks on a memory link ---- */




/* Sends req to A:port from a fresh client socket on B (source port 40000),
 * runs the loop for 1 s and returns the number of replies; the first is
 * copied to out (*out_len). */
static int ask(struct net2 *n, uint16_t port, const void *req, size_t len, uint8_t *out,
               size_t cap, size_t *out_len)
{
    int err = 0;
    struct tern_sock *c = tern_sock_open(n->sb, TERN_SOCK_DGRAM, &err);
    if (!c)
        return -100;
    struct tern_sockaddr local = {.addr = 0, .port = 40000}, to = {.addr = A_ADDR, .port = port};
    if (tern_sock_bind(c, &local) < 0 || tern_sock_sendto(c, req, len, 0, &to) != (ssize_t)len) {
        tern_sock_close(c);
        return -101;
    }
    tern_loop_run(n->loop, tern_loop_now(n->loop) + SEC);
    int replies = 0;
    *out_len = 0;
    for (;;) {
        uint8_t tmp[65536];
        struct tern_sockaddr from;
        ssize_t r = tern_sock_recvfrom(c, tmp, sizeof tmp, 0, &from, NULL);
        if (r < 0)
            break;
        if (from.addr != A_ADDR || from.port != port)
            continue;
        if (replies++ == 0) {
            *out_len = (size_t)r < cap ? (size_t)r : cap;
            memcpy(out, tmp, *out_len);
        }
    }
    tern_sock_close(c);
    return replies;
}

static struct tern_services *start_all(struct net2 *n, int64_t offset_us)
{
    struct tern_services_opts o = {.enable = (1u << TERN_SVC_COUNT) - 1,
                                   .epoch_offset_us = offset_us};
    int err = 1;
    enum tern_svc failed = TERN_SVC_ECHO;
    struct tern_services *sv = services_start(n->sa, n->loop, &o, &err, &failed);
    CHECK_EQ(err, TERN_OK);
    CHECK_EQ(failed, TERN_SVC_COUNT);
    return sv;
}

TEST(svc_udp_echo_byte_exact)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 11, NULL) == 0);
    struct tern_services *sv = start_all(&n, 0);
    REQUIRE(sv != NULL);
    static uint8_t req[8000], got[65536];
    for (size_t i = 0; i < sizeof req; i++)
        req[i] = (uint8_t)(i * 7 + 3);
    /* 0 bytes, one line, a full Ethernet payload (1472) and a fragmented 8000 */
    size_t sizes[] = {0, 11, 1472, 8000};
    memcpy(req, "hello tern\n", 11);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t gl = 99;
        CHECK_EQ(ask(&n, 7, req, sizes[k], got, sizeof got, &gl), 1);
        CHECK_EQ(gl, sizes[k]);
        CHECK(memcmp(got, req, sizes[k]) == 0);
    }
    struct services_stats st;
    services_stats(sv, &st);
    CHECK_EQ(st.requests[TERN_SVC_ECHO], 4);
    CHECK_EQ(st.replies[TERN_SVC_ECHO], 4);
    services_free(sv);
    net2_close(&n);
}

TEST(svc_udp_discard_no_reply)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 11, NULL) == 0);
    struct tern_services *sv = start_all(&n, 0);
    REQUIRE(sv != NULL);
    uint8_t got[16];
    size_t gl;
    CHECK_EQ(ask(&n, 9, "into the void", 13, got, sizeof got, &gl), 0);
    struct services_stats st;
    services_stats(sv, &st);
    CHECK_EQ(st.requests[TERN_SVC_DISCARD], 1);
    CHECK_EQ(st.replies[TERN_SVC_DISCARD], 0);
    services_free(sv);
    net2_close(&n);
}

TEST(svc_udp_time_and_daytime_from_loop_clock)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 11, NULL) == 0);
    /* The request reaches the server at loop time 5 s (the link has no
     * delay); offset so that this is 2026-11-21 12:34:56 UTC. */
    struct tern_services *sv = start_all(&n, (1795264496ll - 5) * 1000000 + 250000);
    REQUIRE(sv != NULL);
    uint8_t got[600];
    size_t gl;
    CHECK_EQ(ask(&n, 7, "warm", 4, got, sizeof got, &gl), 1); /* resolves ARP */
    tern_loop_run(n.loop, 5 * SEC);
    REQUIRE_EQ(tern_loop_now(n.loop), 5 * SEC);
    CHECK_EQ(ask(&n, 37, "", 0, got, sizeof got, &gl), 1);
    /* RFC 868: 4 bytes, big-endian; 4004253296 = 0xeeac0e70 (Python hex()) */
    CHECK_EQ(gl, 4);
    static const uint8_t want_time[4] = {0xee, 0xac, 0x0e, 0x70};
    CHECK_MEM(got, want_time, 4);
    tern_loop_run(n.loop, 10 * SEC); /* 5 s later */
    CHECK_EQ(ask(&n, 13, "x", 1, got, sizeof got, &gl), 1);
    const char *want = "Saturday, November 21, 2026 12:35:01-UTC\r\n";
    CHECK_EQ(gl, strlen(want));
    CHECK(gl == strlen(want) && memcmp(got, want, gl) == 0);
    services_free(sv);
    net2_close(&n);
}

TEST(svc_udp_qotd)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 11, NULL) == 0);
    struct tern_services *sv = start_all(&n, 0);
    REQUIRE(sv != NULL);
    uint8_t got[600];
    size_t gl;
    CHECK_EQ(ask(&n, 17, "?", 1, got, sizeof got, &gl), 1);
    CHECK_EQ(gl, strlen(classic_default_quote));
    CHECK(gl < 512); /* RFC 865 */
    CHECK(memcmp(got, classic_default_quote, gl) == 0);
    services_free(sv);
    /* a custom quote, and one too long for RFC 865 cut to 511 bytes */
    char longq[700];
    memset(longq, 'q', sizeof longq - 1);
    longq[sizeof longq - 1] = 0;
    const char *quotes[2] = {"Ask not.\r\n", longq};
    for (int k = 0; k < 2; k++) {
        struct tern_services_opts o = {.enable = 1u << TERN_SVC_QOTD, .quote = quotes[k]};
        sv = services_start(n.sa, n.loop, &o, NULL, NULL);
        REQUIRE(sv != NULL);
        CHECK_EQ(ask(&n, 17, "", 0, got, sizeof got, &gl), 1);
        CHECK_EQ(gl, k ? 511 : 10);
        CHECK(memcmp(got, quotes[k], gl) == 0);
        services_free(sv);
    }
    net2_close(&n);
}

TEST(svc_udp_chargen_rfc864)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 11, NULL) == 0);
    struct tern_services *sv = start_all(&n, 0);
    REQUIRE(sv != NULL);
    /* RFC 864: 0..512 characters of the pattern per answer; ours start at
     * line 0, 1, 2, ... (the ring rotates as inetd's does) */
    size_t min = 513, max = 0;
    for (uint64_t k = 0; k < 40; k++) {
        uint8_t got[600];
        size_t gl = 0;
        CHECK_EQ(ask(&n, 19, "go", 2, got, sizeof got, &gl), 1);
        CHECK(gl <= 512);
        for (size_t i = 0; i < gl; i++)
            if (got[i] != rfc864_byte(k * 74 + i)) {
                CHECK_EQ(got[i], rfc864_byte(k * 74 + i));
                break;
            }
        min = gl < min ? gl : min;
        max = gl > max ? gl : max;
    }
    CHECK(max > min); /* the length varies */
    services_free(sv);
    net2_close(&n);
}

TEST(svc_udp_loop_guard_and_port_override)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 11, NULL) == 0);
    struct tern_services_opts o = {.enable = (1u << TERN_SVC_ECHO) | (1u << TERN_SVC_CHARGEN),
                                   .port = {[TERN_SVC_ECHO] = 7007}};
    struct tern_services *sv = services_start(n.sa, n.loop, &o, NULL, NULL);
    REQUIRE(sv != NULL);
    uint8_t got[100];
    size_t gl;
    CHECK_EQ(ask(&n, 7007, "hi", 2, got, sizeof got, &gl), 1);
    CHECK_EQ(ask(&n, 7, "hi", 2, got, sizeof got, &gl), 0); /* not on 7 now */
    /* a datagram "from" chargen's port 19 (or any port < 1024) gets no answer:
     * the echo <-> chargen loop of CERT CA-1996-01 never starts */
    struct tern_sock *c = tern_sock_open(n.sb, TERN_SOCK_DGRAM, NULL);
    REQUIRE(c != NULL);
    struct tern_sockaddr l19 = {.port = 19}, to = {.addr = A_ADDR, .port = 7007};
    REQUIRE(tern_sock_setopt(c, TERN_SO_PRIVILEGED, 1) == 0);
    REQUIRE(tern_sock_bind(c, &l19) == 0);
    CHECK_EQ(tern_sock_sendto(c, "loop", 4, 0, &to), 4);
    tern_loop_run(n.loop, tern_loop_now(n.loop) + SEC);
    CHECK_EQ(tern_sock_recvfrom(c, got, sizeof got, 0, NULL, NULL), TERN_E_AGAIN);
    tern_sock_close(c);
    struct services_stats st;
    services_stats(sv, &st);
    CHECK_EQ(st.ignored, 1);
    services_free(sv);
    net2_close(&n);
}

TEST(svc_udp_start_errors)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 11, NULL) == 0);
    /* daytime's port is taken: start fails naming daytime, nothing leaks */
    struct tern_sock *c = tern_sock_open(n.sa, TERN_SOCK_DGRAM, NULL);
    REQUIRE(c != NULL);
    struct tern_sockaddr l13 = {.port = 13};
    REQUIRE(tern_sock_setopt(c, TERN_SO_PRIVILEGED, 1) == 0);
    REQUIRE(tern_sock_bind(c, &l13) == 0);
    struct tern_services_opts o = {.enable = (1u << TERN_SVC_COUNT) - 1};
    int err = 0;
    enum tern_svc failed = TERN_SVC_COUNT;
    CHECK(services_start(n.sa, n.loop, &o, &err, &failed) == NULL);
    CHECK_EQ(err, TERN_E_ADDRINUSE);
    CHECK_EQ(failed, TERN_SVC_DAYTIME);
    tern_sock_close(c);
    o.enable = 0;
    CHECK(services_start(n.sa, n.loop, &o, &err, &failed) == NULL);
    CHECK_EQ(err, TERN_E_INVAL);
    /* everything closed again: only sockets still bound would be listed */
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 0);
    net2_close(&n);
}
