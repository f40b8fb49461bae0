/*
 * Tests for src/app/services_tcp.c: each classic service over TCP across
 * two stacks on a memory link in virtual time (tests/common/net2.h), byte
 * for byte against the RFCs: daytime/time values from Python's datetime
 * (as in services_test.c), RFC 864's pattern written out independently,
 * echo of 1 MB through a client that stops reading (back-pressure), the
 * per-service connection cap (the longest-idle connection makes room) and
 * the idle timeout. Linux's nc against the same services:
 * tests/scripts/peer_tcp_nc.sh.
 */
#include <stdlib.h>

#include "app/services.h"
#include "common/net2.h"
#include "harness.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define SEC 1000000ull
#define MS 1000ull

static struct tern_sock *dial(struct net2 *n, uint16_t port)
{
    struct tern_sock *c = tern_sock_open(n->sb, TERN_SOCK_STREAM, NULL);
    if (!c)
        return NULL;
    struct tern_sockaddr to = {.addr = NET2_A, .port = port};
    int r = tern_sock_connect(c, &to);
    if (r != TERN_E_INPROGRESS && r != 0) {
        tern_sock_close(c);
        return NULL;
    }
    return c;
}

static void run_for(struct net2 *n, uint64_t us)
{
    tern_loop_run(n->loop, tern_loop_now(n->loop) + us);
}

/* Reads what is queued into buf (appending at *len, up to cap). Returns 1
 * at end of stream, a negative error, or 0. */
static int slurp(struct tern_sock *c, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t tmp[4096];
    for (;;) {
        size_t room = cap - *len < sizeof tmp ? cap - *len : sizeof tmp;
        if (!room)
            return 0; /* full: leave the rest queued */
        ssize_t r = tern_sock_recv(c, buf + *len, room, 0);
        if (r == TERN_E_AGAIN)
            return 0;
        if (r < 0)
            return (int)r;
        if (r == 0)
            return 1;
        *len += (size_t)r;
    }
}

static struct tern_services_tcp *start(struct net2 *n, unsigned enable, int64_t off,
                                       uint32_t max_conns)
{
    struct tern_services_opts o = {.enable = enable, .epoch_offset_us = off,
                                   .tcp_max_conns = max_conns};
    int err = 1;
    enum tern_svc failed = TERN_SVC_ECHO;
    struct tern_services_tcp *sv = services_tcp_start(n->sa, n->loop, &o, &err, &failed);
    CHECK_EQ(err, TERN_OK);
    CHECK_EQ(failed, TERN_SVC_COUNT);
    return sv;
}

/* All connections gone on both stacks once TIME_WAIT (2 MSL) is over. */
static void check_all_closed(struct net2 *n)
{
    run_for(n, 200 * SEC);
    CHECK_EQ(tern_sock_list(n->sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(n->sb, NULL, 0), 0);
}

/* One connection to port: the whole answer and whether the server closed. */
static size_t ask(struct net2 *n, uint16_t port, uint8_t *got, size_t cap, int *end)
{
    struct tern_sock *c = dial(n, port);
    size_t len = 0;
    *end = -100;
    if (!c)
        return 0;
    run_for(n, SEC);
    *end = slurp(c, got, cap, &len);
    tern_sock_close(c);
    run_for(n, 100 * MS); /* our FIN reaches the server */
    return len;
}

TEST(svc_tcp_daytime_time_qotd_then_close)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 31, NULL) == 0);
    /* loop time 5 s = 2026-11-21 12:34:56.25 UTC (as in services_test.c) */
    struct tern_services_tcp *sv =
        start(&n, (1u << TERN_SVC_DAYTIME) | (1u << TERN_SVC_TIME) | (1u << TERN_SVC_QOTD),
              (1795264496ll - 5) * 1000000 + 250000, 0);
    REQUIRE(sv != NULL);
    run_for(&n, 5 * SEC);
    uint8_t got[1024];
    int end = 0;
    /* the memory link has no delay: the connection is accepted at 5 s */
    size_t len = ask(&n, 13, got, sizeof got, &end);
    const char *want = "Saturday, November 21, 2026 12:34:56-UTC\r\n";
    CHECK_EQ(end, 1); /* RFC 867: "the service closes the connection" */
    CHECK_EQ(len, strlen(want));
    CHECK(len == strlen(want) && memcmp(got, want, len) == 0);
    /* RFC 868: 4 bytes, big-endian, then close; at 6 s: 4004253297 */
    len = ask(&n, 37, got, sizeof got, &end);
    static const uint8_t want_time[4] = {0xee, 0xac, 0x0e, 0x71};
    CHECK_EQ(end, 1);
    CHECK_EQ(len, 4);
    CHECK_MEM(got, want_time, 4);
    /* RFC 865: the quote (< 512 bytes), then close */
    len = ask(&n, 17, got, sizeof got, &end);
    CHECK_EQ(end, 1);
    CHECK_EQ(len, strlen(classic_default_quote));
    CHECK(len < 512 && memcmp(got, classic_default_quote, len) == 0);
    struct services_tcp_stats st;
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.accepted[TERN_SVC_DAYTIME], 1);
    CHECK_EQ(st.accepted[TERN_SVC_TIME], 1);
    CHECK_EQ(st.accepted[TERN_SVC_QOTD], 1);
    CHECK_EQ(st.active[TERN_SVC_DAYTIME] + st.active[TERN_SVC_TIME] + st.active[TERN_SVC_QOTD], 0);
    CHECK_EQ(st.errors, 0);
    services_tcp_free(sv);
    check_all_closed(&n);
    net2_close(&n);
}

TEST(svc_tcp_daytime_client_data_thrown_away_no_rst)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 32, NULL) == 0);
    struct tern_services_tcp *sv = start(&n, 1u << TERN_SVC_DAYTIME, 0, 0);
    REQUIRE(sv != NULL);
    struct tern_sock *c = dial(&n, 13);
    REQUIRE(c != NULL);
    run_for(&n, 10 * MS);
    /* "any data received is thrown away" (RFC 867); the close is a FIN */
    CHECK_EQ(tern_sock_send(c, "hello?\n", 7, 0), 7);
    run_for(&n, SEC);
    uint8_t got[128];
    size_t len = 0;
    CHECK_EQ(slurp(c, got, sizeof got, &len), 1);
    CHECK_EQ(len, strlen("Thursday, January 1, 1970 00:00:00-UTC\r\n"));
    tern_sock_close(c);
    run_for(&n, 100 * MS);
    struct services_tcp_stats st;
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.active[TERN_SVC_DAYTIME], 0);
    CHECK_EQ(st.errors, 0);
    CHECK_EQ(st.bytes_in[TERN_SVC_DAYTIME], 7);
    services_tcp_free(sv);
    check_all_closed(&n);
    net2_close(&n);
}

TEST(svc_tcp_daytime_waits_5s_for_client_fin)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 38, NULL) == 0);
    struct tern_services_tcp *sv = start(&n, 1u << TERN_SVC_DAYTIME, 0, 0);
    REQUIRE(sv != NULL);
    struct tern_sock *c = dial(&n, 13);
    REQUIRE(c != NULL);
    run_for(&n, SEC);
    uint8_t got[128];
    size_t len = 0;
    CHECK_EQ(slurp(c, got, sizeof got, &len), 1); /* answer + the server's FIN */
    struct services_tcp_stats st;
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.active[TERN_SVC_DAYTIME], 1); /* waiting for the client's FIN */
    run_for(&n, 5 * SEC);
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.active[TERN_SVC_DAYTIME], 0); /* bounded wait */
    CHECK_EQ(st.errors, 0);
    tern_sock_close(c);
    services_tcp_free(sv);
    check_all_closed(&n);
    net2_close(&n);
}

/* RFC 864's rule, written out independently (see services_test.c). */
static uint8_t rfc864_byte(uint64_t off)
{
    uint64_t line = off / 74 % 95, col = off % 74;
    if (col == 72)
        return '\r';
    if (col == 73)
        return '\n';
    return (uint8_t)(' ' + (line + col) % 95);
}

TEST(svc_tcp_chargen_stream_until_client_closes)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 33, NULL) == 0);
    struct tern_services_tcp *sv = start(&n, 1u << TERN_SVC_CHARGEN, 0, 0);
    REQUIRE(sv != NULL);
    struct tern_sock *c = dial(&n, 19);
    REQUIRE(c != NULL);
    run_for(&n, SEC);
    /* the first lines, as inetd's chargen_stream starts each connection */
    static const char line0[] =
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n";
    static const char line1[] =
        "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n";
    static uint8_t got[300000];
    size_t len = 0;
    CHECK_EQ(slurp(c, got, 148, &len), 0);
    REQUIRE_EQ(len, 148);
    CHECK_MEM(got, line0, 74);
    CHECK_MEM(got + 74, line1, 74);
    /* keep reading: the stream goes on across the pattern's period (95
     * lines), byte-exact, as fast as the client reads */
    for (int i = 0; i < 100 && len < sizeof got; i++) {
        CHECK_EQ(slurp(c, got, sizeof got, &len), 0);
        run_for(&n, 10 * MS);
    }
    CHECK_EQ(len, sizeof got);
    for (size_t i = 0; i < len; i++)
        if (got[i] != rfc864_byte(i)) {
            CHECK_EQ(i, len);
            break;
        }
    /* a half-close does not stop it (inetd writes until write fails) */
    CHECK_EQ(tern_sock_shutdown(c, TERN_SHUT_WR), 0);
    run_for(&n, SEC);
    struct services_tcp_stats st;
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.active[TERN_SVC_CHARGEN], 1);
    /* the client's close with data unread is a RST: the server's connection ends */
    tern_sock_close(c);
    run_for(&n, SEC);
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.active[TERN_SVC_CHARGEN], 0);
    CHECK_EQ(st.accepted[TERN_SVC_CHARGEN], 1);
    CHECK(st.bytes_out[TERN_SVC_CHARGEN] >= sizeof got);
    services_tcp_free(sv);
    check_all_closed(&n);
    net2_close(&n);
}

TEST(svc_tcp_discard_reads_until_close)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 34, NULL) == 0);
    struct tern_services_tcp *sv = start(&n, 1u << TERN_SVC_DISCARD, 0, 0);
    REQUIRE(sv != NULL);
    struct tern_sock *c = dial(&n, 9);
    REQUIRE(c != NULL);
    run_for(&n, 10 * MS);
    static uint8_t data[100000];
    memset(data, 'd', sizeof data);
    size_t sent = 0;
    for (int i = 0; i < 1000 && sent < sizeof data; i++) {
        ssize_t w = tern_sock_send(c, data + sent, sizeof data - sent, 0);
        if (w > 0)
            sent += (size_t)w;
        run_for(&n, 10 * MS);
    }
    CHECK_EQ(sent, sizeof data);
    CHECK_EQ(tern_sock_shutdown(c, TERN_SHUT_WR), 0);
    run_for(&n, SEC);
    uint8_t got[16];
    size_t len = 0;
    CHECK_EQ(slurp(c, got, sizeof got, &len), 1); /* nothing back, then FIN */
    CHECK_EQ(len, 0);
    struct services_tcp_stats st;
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.bytes_in[TERN_SVC_DISCARD], sizeof data);
    CHECK_EQ(st.active[TERN_SVC_DISCARD], 0);
    tern_sock_close(c);
    services_tcp_free(sv);
    check_all_closed(&n);
    net2_close(&n);
}

#define ECHO_TOTAL (1u << 20)

TEST(svc_tcp_echo_1mb_back_pressure)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 35, NULL) == 0);
    struct tern_services_tcp *sv = start(&n, 1u << TERN_SVC_ECHO, 0, 0);
    REQUIRE(sv != NULL);
    struct tern_sock *c = tern_sock_open(n.sb, TERN_SOCK_STREAM, NULL);
    REQUIRE(c != NULL);
    /* small client queues, so the path's total buffering (client send 16 KiB
     * + server receive + the echo buffer + server send + client receive
     * 16 KiB) is well under 1 MB */
    REQUIRE(tern_sock_setopt(c, TERN_SO_SNDBUF, 16384) == 0);
    REQUIRE(tern_sock_setopt(c, TERN_SO_RCVBUF, 16384) == 0);
    struct tern_sockaddr to = {.addr = NET2_A, .port = 7};
    CHECK_EQ(tern_sock_connect(c, &to), TERN_E_INPROGRESS);
    run_for(&n, 10 * MS);
    uint8_t *data = malloc(ECHO_TOTAL), *back = malloc(ECHO_TOTAL + 1);
    REQUIRE(data && back);
    for (size_t i = 0; i < ECHO_TOTAL; i++)
        data[i] = (uint8_t)(test_rand() >> 24);
    /* 1: the client writes and never reads: the echo stalls */
    size_t sent = 0, got = 0;
    for (int i = 0; i < 300; i++) {
        ssize_t w = tern_sock_send(c, data + sent, ECHO_TOTAL - sent, 0);
        if (w > 0)
            sent += (size_t)w;
        run_for(&n, 10 * MS);
    }
    struct services_tcp_stats st;
    services_tcp_stats(sv, &st);
    /* bounded by the queues on the path: 16 KiB + 256 KiB (server receive)
     * + 8 KiB (echo buffer) + 256 KiB (server send) + 16 KiB = 552 KiB */
    CHECK(sent <= 565248);
    CHECK(sent >= 524288); /* ... and they did fill up */
    CHECK(st.bytes_in[TERN_SVC_ECHO] <= sent);
    /* the server holds at most its 8 KiB echo buffer beyond its queues */
    CHECK(st.bytes_in[TERN_SVC_ECHO] - st.bytes_out[TERN_SVC_ECHO] <= 8192);
    uint64_t stalled_in = st.bytes_in[TERN_SVC_ECHO];
    run_for(&n, 5 * SEC);
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.bytes_in[TERN_SVC_ECHO], stalled_in); /* nothing moved */
    /* 2: the client reads too: everything comes back, byte-exact */
    bool shut = false;
    int end = 0;
    for (int i = 0; i < 100000 && end == 0; i++) {
        if (sent < ECHO_TOTAL) {
            ssize_t w = tern_sock_send(c, data + sent, ECHO_TOTAL - sent, 0);
            if (w > 0)
                sent += (size_t)w;
        } else if (!shut) {
            CHECK_EQ(tern_sock_shutdown(c, TERN_SHUT_WR), 0); /* half-close */
            shut = true;
        }
        end = slurp(c, back, ECHO_TOTAL + 1, &got);
        run_for(&n, MS);
    }
    CHECK_EQ(end, 1); /* after the client's FIN and the last echo: FIN */
    CHECK_EQ(sent, ECHO_TOTAL);
    CHECK_EQ(got, ECHO_TOTAL);
    CHECK(got == ECHO_TOTAL && memcmp(back, data, ECHO_TOTAL) == 0);
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.bytes_in[TERN_SVC_ECHO], ECHO_TOTAL);
    CHECK_EQ(st.bytes_out[TERN_SVC_ECHO], ECHO_TOTAL);
    CHECK_EQ(st.active[TERN_SVC_ECHO], 0);
    CHECK_EQ(st.errors, 0);
    tern_sock_close(c);
    free(data);
    free(back);
    services_tcp_free(sv);
    check_all_closed(&n);
    net2_close(&n);
}

/* A full service (cap 2) used to make newcomers wait in the backlog for
 * as long as the silent connections chose to stay: now the one longest
 * without a byte moved is closed (a FIN) and the newcomer served. */
TEST(svc_tcp_full_service_evicts_longest_idle)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 36, NULL) == 0);
    struct tern_services_tcp *sv = start(&n, 1u << TERN_SVC_ECHO, 0, 2);
    REQUIRE(sv != NULL);
    struct tern_sock *c[3];
    c[0] = dial(&n, 7);
    run_for(&n, 10 * MS);
    c[1] = dial(&n, 7);
    REQUIRE(c[0] != NULL && c[1] != NULL);
    run_for(&n, SEC);
    /* c[0], older, echoes something: c[1] is now the longest idle */
    uint8_t got[16];
    size_t len[3] = {0, 0, 0};
    CHECK_EQ(tern_sock_send(c[0], "ping", 4, 0), 4);
    run_for(&n, SEC);
    CHECK_EQ(slurp(c[0], got, sizeof got, &len[0]), 0);
    CHECK_EQ(len[0], 4);
    c[2] = dial(&n, 7);
    REQUIRE(c[2] != NULL);
    run_for(&n, 10 * MS);
    CHECK_EQ(tern_sock_send(c[2], "pong", 4, 0), 4);
    run_for(&n, SEC);
    CHECK_EQ(slurp(c[2], got, sizeof got, &len[2]), 0);
    CHECK_EQ(len[2], 4); /* the newcomer is served at once */
    CHECK(len[2] == 4 && memcmp(got, "pong", 4) == 0);
    CHECK_EQ(slurp(c[1], got, sizeof got, &len[1]), 1); /* c[1]: the server's FIN */
    CHECK_EQ(len[1], 0);
    struct services_tcp_stats st;
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.evicted, 1);
    CHECK_EQ(st.accepted[TERN_SVC_ECHO], 3);
    CHECK_EQ(st.active[TERN_SVC_ECHO], 2);
    CHECK_EQ(st.errors, 0);
    /* c[0] still echoes */
    len[0] = 0;
    CHECK_EQ(tern_sock_send(c[0], "more", 4, 0), 4);
    run_for(&n, SEC);
    CHECK_EQ(slurp(c[0], got, sizeof got, &len[0]), 0);
    CHECK_EQ(len[0], 4);
    for (int i = 0; i < 3; i++)
        tern_sock_close(c[i]);
    run_for(&n, SEC);
    services_tcp_free(sv);
    check_all_closed(&n);
    net2_close(&n);
}

/* A connection that moves no byte either way for tcp_idle_us is closed (a
 * FIN); one that keeps talking is not. */
TEST(svc_tcp_idle_connection_closed)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 38, NULL) == 0);
    struct tern_services_opts o = {.enable = (1u << TERN_SVC_ECHO) | (1u << TERN_SVC_DISCARD)};
    int err = 1;
    struct tern_services_tcp *sv = services_tcp_start(n.sa, n.loop, &o, &err, NULL);
    REQUIRE(sv != NULL);
    struct tern_sock *quiet = dial(&n, 9), *talker = dial(&n, 7);
    REQUIRE(quiet != NULL && talker != NULL);
    run_for(&n, 10 * MS);
    uint64_t t0 = tern_loop_now(n.loop);
    uint8_t got[64];
    size_t len = 0;
    /* the talker echoes a byte every 10 s, for 70 s */
    for (int i = 0; i < 7; i++) {
        CHECK_EQ(tern_sock_send(talker, "x", 1, 0), 1);
        run_for(&n, 10 * SEC);
    }
    CHECK_EQ(slurp(talker, got, sizeof got, &len), 0);
    CHECK_EQ(len, 7);
    /* the quiet one was closed once TERN_SVC_TCP_IDLE_US had passed */
    size_t ql = 0;
    CHECK_EQ(slurp(quiet, got, sizeof got, &ql), 1);
    CHECK(tern_loop_now(n.loop) - t0 >= TERN_SVC_TCP_IDLE_US);
    struct services_tcp_stats st;
    services_tcp_stats(sv, &st);
    CHECK_EQ(st.idle_closed, 1);
    CHECK_EQ(st.active[TERN_SVC_DISCARD], 0);
    CHECK_EQ(st.active[TERN_SVC_ECHO], 1);
    /* and not before: a fresh quiet connection still stands 59 s later */
    struct tern_sock *q2 = dial(&n, 9);
    REQUIRE(q2 != NULL);
    run_for(&n, TERN_SVC_TCP_IDLE_US - SEC);
    ql = 0;
    CHECK_EQ(slurp(q2, got, sizeof got, &ql), 0);
    run_for(&n, 2 * SEC);
    CHECK_EQ(slurp(q2, got, sizeof got, &ql), 1);
    tern_sock_close(quiet);
    tern_sock_close(q2);
    tern_sock_close(talker);
    run_for(&n, SEC);
    services_tcp_free(sv);
    check_all_closed(&n);
    net2_close(&n);
}

TEST(svc_tcp_start_errors)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 37, NULL) == 0);
    struct tern_sock *l = tern_sock_open(n.sa, TERN_SOCK_STREAM, NULL);
    REQUIRE(l != NULL);
    struct tern_sockaddr l13 = {.port = 13};
    REQUIRE(tern_sock_setopt(l, TERN_SO_PRIVILEGED, 1) == 0);
    REQUIRE(tern_sock_bind(l, &l13) == 0);
    REQUIRE(tern_sock_listen(l, 4) == 0);
    struct tern_services_opts o = {.enable = (1u << TERN_SVC_COUNT) - 1};
    int err = 0;
    enum tern_svc failed = TERN_SVC_COUNT;
    CHECK(services_tcp_start(n.sa, n.loop, &o, &err, &failed) == NULL);
    CHECK_EQ(err, TERN_E_ADDRINUSE);
    CHECK_EQ(failed, TERN_SVC_DAYTIME);
    tern_sock_close(l);
    o.enable = 0;
    CHECK(services_tcp_start(n.sa, n.loop, &o, &err, &failed) == NULL);
    CHECK_EQ(err, TERN_E_INVAL);
    /* UDP and TCP on the same ports side by side, as inetd has them */
    o.enable = (1u << TERN_SVC_COUNT) - 1;
    struct tern_services *su = services_start(n.sa, n.loop, &o, &err, NULL);
    struct tern_services_tcp *st = services_tcp_start(n.sa, n.loop, &o, &err, NULL);
    CHECK(su != NULL);
    CHECK(st != NULL);
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 2 * TERN_SVC_COUNT);
    services_tcp_free(st);
    services_free(su);
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 0);
    net2_close(&n);
}
