/*
 * Tests for src/app/ping.c in virtual time: two stacks joined by a memory
 * link, optionally impaired. The same app code runs on TAP/TUN
 * (tests/scripts/peer_tap.sh).
 */
#include <stdlib.h>
#include <string.h>

#include "app/ping.h"
#include "common/net2.h"
#include "harness.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/stack.h"




struct done_state {
    struct tern_loop *loop;
    int status;
    int calls;
};

static void on_done(void *ctx, int status)
{
    struct done_state *d = ctx;
    d->status = status;
    d->calls++;
    tern_loop_stop(d->loop);
}

/* Runs one ping; returns its output (malloc'd) and exit status. */
static char *run_ping(struct net2 *n, const struct tern_ping_opts *po, int *status)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct done_state d = {.loop = n->loop, .status = -1};
    struct tern_ping *p = ping_start(n->sa, n->loop, po, f, on_done, &d);
    if (!p) {
        fclose(f);
        free(buf);
        return NULL;
    }
    tern_loop_run(n->loop, 3600ull * 1000000);
    ping_free(p);
    fclose(f);
    *status = d.calls == 1 ? d.status : -1;
    return buf;
}

TEST(ping_virtual_clean_link_exact_output)
{
    /* 5 ms one-way delay, no loss: every RTT is exactly 10 ms of virtual time,
     * so the whole output is known in advance from iputils' formats. */
    struct tern_impair imp = {.delay_us = 5000};
    struct net2 n;
    REQUIRE(net2_open(&n, 1, &imp) == 0);
    struct tern_ping_opts po = {.dst = 0x0a000002, .dst_name = "10.0.0.2", .count = 3,
                                .size = 56, .interval_us = 1000000};
    int st;
    char *out = run_ping(&n, &po, &st);
    REQUIRE(out != NULL);
    /* The first request waits for ARP. The server's gratuitous ARP (sent when
     * its interface came up at t=0) reaches the laptop at 5 ms and, by RFC
     * 826's merge rule, completes the laptop's pending entry for 10.0.0.2;
     * the queued echo then takes its 10 ms round trip: 15 ms. The others find
     * the entry: 10 ms. The run ends at the third reply, 2 s + 10 ms in.
     * avg = 35000/3 = 11666 us; mdev = sqrt((15000^2 + 2*10000^2)/3 - 11666^2)
     * = 2360 us (iputils' integer arithmetic). */
    const char *want = "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n"
                       "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=15.0 ms\n"
                       "64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=10.0 ms\n"
                       "64 bytes from 10.0.0.2: icmp_seq=3 ttl=64 time=10.0 ms\n"
                       "\n"
                       "--- 10.0.0.2 ping statistics ---\n"
                       "3 packets transmitted, 3 received, 0% packet loss, time 2010ms\n"
                       "rtt min/avg/max/mdev = 10.000/11.666/15.000/2.360 ms\n";
    CHECK_STR(out, want);
    CHECK_EQ(st, 0);
    free(out);
    net2_close(&n);
}

TEST(ping_virtual_no_reply_exit_1)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 2, NULL) == 0);
    /* 10.0.0.9 does not exist: ARP fails, requests are dropped. */
    struct tern_ping_opts po = {.dst = 0x0a000009, .dst_name = "10.0.0.9", .count = 2,
                                .size = 56, .interval_us = 1000000, .linger_us = 5000000};
    int st;
    char *out = run_ping(&n, &po, &st);
    REQUIRE(out != NULL);
    CHECK(strstr(out, "2 packets transmitted, 0 received") != NULL);
    CHECK(strstr(out, "100% packet loss") != NULL);
    CHECK(strstr(out, "rtt min") == NULL);
    CHECK_EQ(st, 1);
    free(out);
    net2_close(&n);
}

static char *lossy_run(uint64_t seed, int *st)
{
    struct tern_impair imp = {.loss = 0.3, .dup = 0.05, .reorder = 0.2,
                              .reorder_delay_us = 15000, .delay_us = 5000, .jitter_us = 2000};
    struct net2 n;
    if (net2_open(&n, seed, &imp) < 0)
        return NULL;
    struct tern_ping_opts po = {.dst = 0x0a000002, .dst_name = "10.0.0.2", .count = 1000,
                                .size = 56, .interval_us = 10000, .linger_us = 2000000,
                                .quiet = false};
    char *out = run_ping(&n, &po, st);
    net2_close(&n);
    return out;
}

TEST(ping_virtual_lossy_link_expected_loss_and_deterministic)
{
    int st1, st2, st3;
    char *a = lossy_run(42, &st1);
    char *b = lossy_run(42, &st2);
    char *c = lossy_run(43, &st3);
    REQUIRE(a && b && c);
    /* Same seed, same bytes; another seed, another run. */
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    const char *sum = strstr(a, "1000 packets transmitted, ");
    REQUIRE(sum != NULL);
    unsigned rx = 0;
    REQUIRE(sscanf(sum, "1000 packets transmitted, %u received", &rx) == 1);
    /* Each direction loses 30%: a round trip survives with p = 0.7^2 = 0.49
     * (duplicates add replies, never requests that were lost). Over 1000
     * requests the standard deviation is sqrt(1000*.49*.51) = 15.8; allow
     * 4 sigma. */
    CHECK(rx >= 490 - 64 && rx <= 490 + 64);
    /* 5% duplication on both sides shows up as (DUP!) replies. */
    CHECK(strstr(a, "(DUP!)") != NULL);
    CHECK(strstr(sum, "duplicates") != NULL);
    CHECK_EQ(st1, 0);
    free(a);
    free(b);
    free(c);
}

TEST(ping_unanswered_arp_is_host_unreachable_after_3s)
{
    /* iputils over Linux: "From <us> icmp_seq=N Destination Host Unreachable"
     * once ARP gives up, 3 s after its first request; `ping -c 5` to a
     * silent address ends after ~6 s (the second resolution fails too), not
     * after -W's 10 s linger. */
    struct net2 n;
    REQUIRE(net2_open(&n, 5, NULL) == 0);
    struct tern_ping_opts po = {.dst = 0x0a000009, .dst_name = "10.0.0.9", .count = 5,
                                .size = 56, .interval_us = 1000000};
    int st;
    uint64_t t0 = tern_loop_now(n.loop);
    char *out = run_ping(&n, &po, &st);
    REQUIRE(out != NULL);
    uint64_t took = tern_loop_now(n.loop) - t0;
    for (int seq = 1; seq <= 5; seq++) {
        char line[80];
        snprintf(line, sizeof line, "From 10.0.0.1 icmp_seq=%d Destination Host Unreachable\n", seq);
        CHECK(strstr(out, line) != NULL);
    }
    CHECK(strstr(out, "5 packets transmitted, 0 received, +5 errors, 100% packet loss") != NULL);
    CHECK(took >= 6000000 && took < 6500000);
    CHECK_EQ(st, 1);
    free(out);
    net2_close(&n);
}

TEST(ping_deadline_timestamps_flood)
{
    struct tern_impair imp = {.delay_us = 5000};
    struct net2 n;
    REQUIRE(net2_open(&n, 6, &imp) == 0);
    /* -w 3 -c 10: stops at the deadline with 3 replies; fewer than -c: 1 */
    struct tern_ping_opts po = {.dst = 0x0a000002, .dst_name = "10.0.0.2", .count = 10,
                                .size = 56, .interval_us = 1000000, .deadline_us = 3000000,
                                .timestamps = true, .wall_offset_us = 1700000000000000ll};
    int st;
    uint64_t t0 = tern_loop_now(n.loop);
    char *out = run_ping(&n, &po, &st);
    REQUIRE(out != NULL);
    CHECK_EQ(tern_loop_now(n.loop) - t0, 3000000);
    CHECK(strstr(out, "3 packets transmitted, 3 received, 0% packet loss, time 3000ms") != NULL);
    CHECK_EQ(st, 1);
    /* -D: the wall clock in front of every reply */
    CHECK(strstr(out, "\n[1700000000.0") != NULL);
    CHECK(strstr(out, "] 64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=") != NULL);
    free(out);
    /* -w 3 -c 2: done at the second reply, status 0 */
    po.count = 2;
    po.timestamps = false;
    out = run_ping(&n, &po, &st);
    REQUIRE(out != NULL);
    CHECK(strstr(out, "2 packets transmitted, 2 received") != NULL);
    CHECK_EQ(st, 0);
    free(out);
    net2_close(&n);
    /* -f -c 100 over a 2 ms round trip: the next request when the reply
     * comes, not every 10 ms; '.' per request rubbed out by each reply */
    struct tern_impair fast = {.delay_us = 1000};
    REQUIRE(net2_open(&n, 7, &fast) == 0);
    struct tern_ping_opts fo = {.dst = 0x0a000002, .dst_name = "10.0.0.2", .count = 100,
                                .size = 56, .flood = true};
    t0 = tern_loop_now(n.loop);
    out = run_ping(&n, &fo, &st);
    REQUIRE(out != NULL);
    uint64_t took = tern_loop_now(n.loop) - t0;
    CHECK(took >= 100 * 2000 && took < 100 * 2000 + 50000);
    CHECK(strstr(out, "100 packets transmitted, 100 received, 0% packet loss") != NULL);
    CHECK(strstr(out, ".\b \b.\b \b") != NULL);
    CHECK(strstr(out, "bytes from") == NULL);
    CHECK_EQ(st, 0);
    free(out);
    net2_close(&n);
    /* rate-bounded: with no delay at all, still at most one per 1 ms */
    REQUIRE(net2_open(&n, 8, NULL) == 0);
    fo.count = 50;
    t0 = tern_loop_now(n.loop);
    out = run_ping(&n, &fo, &st);
    REQUIRE(out != NULL);
    took = tern_loop_now(n.loop) - t0;
    CHECK(took >= 49 * TERN_PING_FLOOD_MIN_US);
    CHECK(strstr(out, "50 packets transmitted, 50 received") != NULL);
    free(out);
    net2_close(&n);
}

TEST(ping_source_address_is_used)
{
    /* -I: the requests carry the source given; B answers there. With our
     * own address the replies come back; with an address nobody has, B's
     * replies go to it (and ARP for it fails), so none come back. */
    struct net2 n;
    REQUIRE(net2_open(&n, 10, NULL) == 0);
    struct tern_ping_opts po = {.dst = 0x0a000002, .dst_name = "10.0.0.2", .count = 2,
                                .size = 56, .interval_us = 200000, .src = 0x0a000001,
                                .linger_us = 1000000};
    int st;
    char *out = run_ping(&n, &po, &st);
    REQUIRE(out != NULL);
    CHECK(strstr(out, "2 packets transmitted, 2 received") != NULL);
    CHECK_EQ(st, 0);
    free(out);
    po.src = 0x0a000063; /* 10.0.0.99: not A's */
    out = run_ping(&n, &po, &st);
    REQUIRE(out != NULL);
    CHECK(strstr(out, "2 packets transmitted, 0 received") != NULL);
    CHECK_EQ(st, 1);
    free(out);
    net2_close(&n);
}
