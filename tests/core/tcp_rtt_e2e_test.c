/*
 * tests/core/tcp_rtt_e2e_test.c - the RTT estimate of a connection under
 * heavy loss in both directions stays near the path's real round trip.
 * Stack A sends a bulk stream to B over a memory link with a fixed delay
 * each way and 15 % random loss of frames both ways (no jitter, no
 * reordering, unlimited rate), so data holes, lost ACKs and RTOs happen
 * all the time. Every honest RTT sample lies in [2*delay, 2*delay +
 * delayed-ACK time]; the sources that used to inflate SRTT (a timestamp
 * echo of the last in-sequence segment ACKing a retransmission that
 * arrived as a duplicate, data SACKed before an RTO cumulatively ACKed
 * again later, never-retransmitted data reported by the ACK of a
 * retransmission) would give samples of seconds. Virtual time, fixed seed.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tcp_util.h"

#define DELAY_US 5000u
#define TOTAL (2u << 20)
#define WARMUP (256u << 10) /* the handshake's sample may include a SYN-ACK retry */

TEST(tcp_rtt_heavy_loss_base_rto_stays_near_path_rtt)
{
    struct tern_impair imp = {.loss = 0.15, .delay_us = DELAY_US};
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    struct tnet n;
    REQUIRE(tnet_open(&n, 7, &imp, &cfg) == 0);
    struct tern_stack_mem base;
    stack_mem_usage(n.sa, &base);
    struct tern_sock *lsk, *ca, *cb;
    REQUIRE(tnet_connect(&n, 9000, &lsk, &ca, &cb) == 0);
    struct tcp_cb *tcb = tcp_cb_of(ca);
    CHECK(tcb->ts_ok && tcb->rack_on); /* both sources in play */

    /* RFC 6298 s2: RTO = SRTT + 4 * RTTVAR. With every sample R in
     * [2d, 2d + DACK], SRTT stays in that range and RTTVAR below its
     * first value R/2 or the spread DACK (whichever is larger), so
     * RTO <= (2d + DACK) + 4 * max((2d + DACK) / 2, DACK), and never
     * below the configured minimum. */
    uint64_t hi = 2 * DELAY_US + TCP_DACK_US;
    uint64_t var = hi / 2 > TCP_DACK_US ? hi / 2 : TCP_DACK_US;
    uint64_t bound = hi + 4 * var;
    if (bound < cfg.tcp_rto_min_us)
        bound = cfg.tcp_rto_min_us;

    static uint8_t buf[16384];
    size_t sent = 0, got = 0;
    uint64_t max_rto = 0, samples_after = 0;
    uint64_t t0 = tern_loop_now(n.loop);
    while (got < TOTAL && tern_loop_now(n.loop) - t0 < 600ull * 1000000) {
        while (sent < TOTAL) {
            size_t want = TOTAL - sent < sizeof buf ? TOTAL - sent : sizeof buf;
            for (size_t i = 0; i < want; i++)
                buf[i] = (uint8_t)((sent + i) * 7);
            ssize_t w = tern_sock_send(ca, buf, want, 0);
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
        tnet_run(&n, 1000);
        ssize_t r;
        while ((r = tern_sock_recv(cb, buf, sizeof buf, 0)) > 0) {
            for (ssize_t i = 0; i < r; i++)
                if (buf[i] != (uint8_t)((got + (size_t)i) * 7)) {
                    CHECK(!"byte differs");
                    break;
                }
            got += (size_t)r;
        }
        if (got >= WARMUP && tcb->rtt.has_sample) {
            samples_after++;
            if (tcb->rtt.rto_us > max_rto)
                max_rto = tcb->rtt.rto_us;
        }
    }
    CHECK_EQ(got, (size_t)TOTAL);
    const struct tern_stats *st = tern_stack_stats(n.sa);
    printf("# 15%% loss both ways, %u us each way: %llu retransmits, %llu RTOs, "
           "max base RTO %llu us (bound %llu), %.1f s\n",
           DELAY_US, (unsigned long long)st->tcp.retransmits,
           (unsigned long long)st->tcp.timeouts, (unsigned long long)max_rto,
           (unsigned long long)bound, (double)(tern_loop_now(n.loop) - t0) / 1e6);
    CHECK(st->tcp.timeouts > 0); /* the case the bound is about did happen */
    CHECK(samples_after > 0);
    CHECK(max_rto <= bound);

    tern_sock_close(ca);
    tern_sock_close(cb);
    tern_sock_close(lsk);
    tnet_run(&n, 2 * cfg.tcp_msl_us + cfg.tcp_user_timeout_us);
    CHECK_EQ(n.sa->sock_count, 0);
    CHECK_EQ(n.sb->sock_count, 0);
    struct tern_stack_mem m;
    stack_mem_usage(n.sa, &m);
    CHECK_EQ(m.tcp_conns, base.tcp_conns);
    CHECK_EQ(m.tcp_ring_bytes, base.tcp_ring_bytes);
    tnet_close(&n);
}
