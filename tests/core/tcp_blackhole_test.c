/*
 * tests/core/tcp_blackhole_test.c - RFC 4821 s7.7 / RFC 2923 s2.1: a path
 * whose narrow link's router drops DF packets without an ICMP "fragmentation
 * needed" (a PMTUD black hole). TCP must notice the repeated timeouts of
 * full-size segments and lower its MSS until segments get through.
 * Virtual time, fixed seed (tests/common/chain.h).
 */
#include "common/chain.h"
#include "core/stack_impl.h"
#include "core/tcp_impl.h"
#include "harness.h"

/* A - R1 - R2 - B; link 1 (R1 -> R2) has MTU 1280 and R1 sends no ICMP
 * errors at all (rate limit 0, the way traceroute_test silences a hop).
 * The 1448-byte segments (1500 - 40 - 12 of timestamps) never cross. */
TEST(tcp_blackhole_pmtud_without_icmp_falls_back)
{
    struct chain_opts o = {.seed = 9};
    o.link[1].mtu = 1280;
    struct chain c;
    REQUIRE(chain_open(&c, 2, &o) == 0);
    struct tern_stack *r1 = c.node[1];
    r1->cfg.icmp_rate_per_s = 0;
    r1->cfg.icmp_burst = 0;
    r1->icmp_tokens = 0;
    struct chain_xfer x;
    CHECK_EQ(chain_tcp_transfer(&c, chain_a(&c), chain_b(&c), chain_b_addr(&c), 80, 300000,
                                60000000, &x), 0);
    CHECK(x.hash_ok);
    CHECK_EQ(x.got, 300000);
    const struct tern_stats *sa = tern_stack_stats(chain_a(&c));
    /* No ICMP reached A: R1 needed to say "fragmentation needed" and was
     * silenced; A never learned a path MTU. */
    CHECK(tern_stack_stats(r1)->ip.fwd_needfrag >= 1);
    CHECK(tern_stack_stats(r1)->icmp.errors_rate_limited >= 1);
    CHECK_EQ(tern_pmtu_get(chain_a(&c), chain_b_addr(&c)), 1500);
    /* One step (1448 -> 1024 - 12 = 1012) is enough for a 1280 link:
     * 1012 + 12 + 40 = 1064 <= 1280. */
    CHECK_EQ(sa->tcp.blackhole_mss_downs, 1);
    CHECK_EQ(x.mss, 1024 - 12);
    CHECK(c.link[1].meter[0]->ip_frames > 200); /* the data did cross */
    CHECK(chain_settled(&c));
    chain_close(&c);
}
