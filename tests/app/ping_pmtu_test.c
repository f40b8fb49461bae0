/*
 * ping and path MTU discovery (RFC 1191) in virtual time: A - R1 - B where
 * the link R1 - B carries 1280-byte packets. A 1400-byte echo with DF meets
 * R1's "fragmentation needed (mtu = 1280)"; after that the stack's path MTU
 * cache says 1280 and ping behaves as iputils' on Linux: -M want (the
 * default) sends the next requests fragmented, -M do fails them locally with
 * "message too long, mtu=1280".
 */
#include <stdlib.h>
#include <string.h>

#include "app/ping.h"
#include "common/chain.h"
#include "harness.h"

struct pm_done {
    struct tern_loop *loop;
    int status, calls;
};

static void pm_on_done(void *ctx, int status)
{
    struct pm_done *d = ctx;
    d->status = status;
    d->calls++;
    tern_loop_stop(d->loop);
}

static char *pmtu_ping(enum tern_pmtudisc mode, int *status)
{
    struct chain_opts co = {.seed = 7};
    co.link[1].mtu = 1280;
    struct chain c;
    if (chain_open(&c, 1, &co) != 0)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct pm_done d = {.loop = c.loop, .status = -1};
    struct tern_ping_opts po = {.dst = chain_b_addr(&c), .dst_name = "10.0.1.2", .count = 3,
                                .size = 1400, .interval_us = 1000000, .pmtu = mode,
                                .linger_us = 2000000};
    struct tern_ping *p = ping_start(chain_a(&c), c.loop, &po, f, pm_on_done, &d);
    if (p) {
        tern_loop_run(c.loop, 60ull * 1000000);
        ping_free(p);
    }
    fclose(f);
    *status = d.calls == 1 ? d.status : -1;
    CHECK_EQ(tern_pmtu_get(chain_a(&c), chain_b_addr(&c)), 1280);
    chain_close(&c);
    return buf;
}

TEST(ping_pmtu_want_fragments_after_frag_needed)
{
    int st;
    char *out = pmtu_ping(TERN_PMTU_WANT, &st);
    REQUIRE(out != NULL);
    /* R1's address on A's link is 10.0.0.2 (tests/common/chain.h). */
    CHECK(strstr(out, "From 10.0.0.2 icmp_seq=1 Frag needed and DF set (mtu = 1280)") != NULL);
    CHECK(strstr(out, "1408 bytes from 10.0.1.2: icmp_seq=2") != NULL);
    CHECK(strstr(out, "1408 bytes from 10.0.1.2: icmp_seq=3") != NULL);
    CHECK(strstr(out, "3 packets transmitted, 2 received, +1 errors") != NULL);
    CHECK_EQ(st, 0); /* iputils: exit 1 only when nothing came back (or -w deadline) */
    if (test_failed_now())
        fprintf(stderr, "%s", out);
    free(out);
}

TEST(ping_pmtu_do_fails_locally_after_frag_needed)
{
    int st;
    char *out = pmtu_ping(TERN_PMTU_DO, &st);
    REQUIRE(out != NULL);
    CHECK(strstr(out, "From 10.0.0.2 icmp_seq=1 Frag needed and DF set (mtu = 1280)") != NULL);
    CHECK(strstr(out, "ping: local error: message too long, mtu=1280") != NULL);
    CHECK(strstr(out, "bytes from 10.0.1.2") == NULL);
    CHECK(strstr(out, ", 0 received") != NULL);
    if (test_failed_now())
        fprintf(stderr, "%s", out);
    free(out);
}
