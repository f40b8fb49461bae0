/*
 * End-to-end TCP tests: two stacks on a memory link in virtual time, the
 * socket API (tern/socket.h) on both ends. Handshake, data both ways,
 * half-close, orderly close from each side, TIME_WAIT expiry, close with
 * unread data (RST), lossy transfers with a hash check. Every test ends
 * with every socket and TCB gone (ASan checks the buffers). The 210-seed
 * sweep over impaired links: tcp_sweep_test.c.
 */
#include <stdlib.h>

#include "harness.h"
#include "tcp_util.h"

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Moves len bytes of pattern from src to dst (both connected), reading on
 * dst as it goes; returns the bytes received with their hash in *hash. */
static size_t pump(struct tnet *n, struct tern_sock *src, struct tern_sock *dst, size_t len,
                   uint64_t seed, uint64_t *hash_in, uint64_t *hash_out, uint64_t max_us)
{
    static uint8_t out[16384], buf[65536];
    size_t sent = 0, got = 0, have = 0, off = 0;
    uint64_t hi = 0xcbf29ce484222325ull, ho = hi;
    uint64_t end = tern_loop_now(n->loop) + max_us;
    uint64_t x = seed;
    while (got < len && tern_loop_now(n->loop) < end) {
        for (;;) {
            if (off == have && sent + have < len) { /* refill with the next pattern bytes */
                size_t k = len - sent - have;
                if (k > sizeof out)
                    k = sizeof out;
                for (size_t i = 0; i < k; i++) {
                    x = x * 6364136223846793005ull + 1442695040888963407ull;
                    out[i] = (uint8_t)(x >> 56);
                }
                hi = fnv(hi, out, k);
                sent += have;
                have = k;
                off = 0;
            }
            if (off == have)
                break;
            ssize_t w = tern_sock_send(src, out + off, have - off, 0);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        tnet_run(n, 1000);
        ssize_t r;
        while ((r = tern_sock_recv(dst, buf, sizeof buf, 0)) > 0) {
            ho = fnv(ho, buf, (size_t)r);
            got += (size_t)r;
        }
    }
    *hash_in = hi;
    *hash_out = ho;
    return got;
}

static const char *state_of(struct tern_sock *sk)
{
    return tcp_state_name(tcp_cb_of(sk)->state);
}

TEST(tcp_e2e_handshake_data_both_ways_orderly_close)
{
    struct tnet n;
    REQUIRE(tnet_open(&n, 7, NULL, NULL) == 0);
    struct tern_sock *l, *a, *b;
    REQUIRE(tnet_connect(&n, 80, &l, &a, &b) == 0);
    CHECK_STR(state_of(a), "ESTABLISHED");
    CHECK_STR(state_of(b), "ESTABLISHED");
    struct tern_sockaddr pa, pb;
    CHECK_EQ(tern_sock_getpeername(b, &pb), 0);
    CHECK_EQ(pb.addr, TN_A);
    CHECK_EQ(tern_sock_getpeername(a, &pa), 0);
    CHECK_EQ(pa.port, 80);
    uint64_t h1, h2;
    CHECK_EQ(pump(&n, a, b, 300000, 1, &h1, &h2, 30000000), 300000);
    CHECK(h1 == h2);
    CHECK_EQ(pump(&n, b, a, 100000, 2, &h1, &h2, 30000000), 100000);
    CHECK(h1 == h2);
    /* Orderly close from A's side: A FIN_WAIT, B reads EOF. */
    CHECK_EQ(tern_sock_shutdown(a, TERN_SHUT_WR), 0);
    tnet_run(&n, 100000);
    CHECK_STR(state_of(a), "FIN_WAIT2");
    CHECK_STR(state_of(b), "CLOSE_WAIT");
    uint8_t c;
    CHECK_EQ(tern_sock_recv(b, &c, 1, 0), 0);
    CHECK(tern_sock_poll(b) & TERN_POLLIN);
    /* Half-close: B can still send to A. */
    CHECK_EQ(tern_sock_send(b, "late", 4, 0), 4);
    tnet_run(&n, 100000);
    char buf[8];
    CHECK_EQ(tern_sock_recv(a, buf, sizeof buf, 0), 4);
    CHECK_MEM(buf, "late", 4);
    CHECK_EQ(tern_sock_close(b), 0);
    tnet_run(&n, 100000);
    CHECK_STR(state_of(a), "TIME_WAIT");
    CHECK_EQ(tern_sock_recv(a, buf, sizeof buf, 0), 0);
    CHECK_EQ(tcp_tw_count(n.sa), 1);
    CHECK_EQ(n.sb->sock_count, 1); /* the listener only */
    CHECK_EQ(tern_sock_close(a), 0);
    /* Let go of in TIME_WAIT: the socket goes, a record stays (tcp_tw.c). */
    CHECK_EQ(n.sa->sock_count, 0);
    CHECK_EQ(tcp_tw_count(n.sa), 1);
    tnet_run(&n, 59000000);
    CHECK_EQ(tcp_tw_count(n.sa), 1);
    tnet_run(&n, 2000000); /* 2*MSL = 60 s after entering */
    CHECK_EQ(tcp_tw_count(n.sa), 0);
    tern_sock_close(l);
    CHECK_EQ(n.sb->sock_count, 0);
    tnet_close(&n);
}

TEST(tcp_e2e_close_from_passive_side)
{
    struct tnet n;
    REQUIRE(tnet_open(&n, 8, NULL, NULL) == 0);
    struct tern_sock *l, *a, *b;
    REQUIRE(tnet_connect(&n, 7, &l, &a, &b) == 0);
    CHECK_EQ(tern_sock_send(b, "hello", 5, 0), 5);
    CHECK_EQ(tern_sock_close(b), 0);
    tnet_run(&n, 100000);
    char buf[16];
    CHECK_EQ(tern_sock_recv(a, buf, sizeof buf, 0), 5);
    CHECK_EQ(tern_sock_recv(a, buf, sizeof buf, 0), 0);
    CHECK_STR(state_of(a), "CLOSE_WAIT");
    CHECK_EQ(tern_sock_close(a), 0);
    tnet_run(&n, 100000);
    CHECK_EQ(n.sa->sock_count, 0); /* LAST_ACK -> CLOSED */
    CHECK_EQ(tcp_tw_count(n.sb), 1);
    tnet_run(&n, 61000000);
    CHECK_EQ(n.sb->sock_count, 1);
    tern_sock_close(l);
    tnet_close(&n);
}

TEST(tcp_e2e_close_with_unread_data_sends_rst)
{
    struct tnet n;
    REQUIRE(tnet_open(&n, 9, NULL, NULL) == 0);
    struct tern_sock *l, *a, *b;
    REQUIRE(tnet_connect(&n, 80, &l, &a, &b) == 0);
    CHECK_EQ(tern_sock_send(a, "unread", 6, 0), 6);
    tnet_run(&n, 100000);
    CHECK_EQ(ringbuf_len(&tcp_cb_of(b)->rcv), 6);
    CHECK_EQ(tern_sock_close(b), 0); /* 6 bytes never read */
    CHECK_EQ(n.sb->sock_count, 1);
    tnet_run(&n, 100000);
    CHECK_EQ(tern_sock_error(a), TERN_E_CONNRESET);
    CHECK_STR(state_of(a), "CLOSE");
    CHECK(tern_sock_poll(a) & TERN_POLLHUP);
    CHECK_EQ(tern_sock_send(a, "x", 1, 0), TERN_E_PIPE);
    tern_sock_close(a);
    tern_sock_close(l);
    CHECK_EQ(n.sa->sock_count, 0);
    CHECK_EQ(n.sb->sock_count, 0);
    tnet_close(&n);
}

TEST(tcp_e2e_connection_refused)
{
    struct tnet n;
    REQUIRE(tnet_open(&n, 10, NULL, NULL) == 0);
    struct tern_sock *a = tern_sock_open(n.sa, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr pa = {TN_B, 81};
    CHECK_EQ(tern_sock_connect(a, &pa), TERN_E_INPROGRESS);
    tnet_run(&n, 100000);
    CHECK(tern_sock_poll(a) & TERN_POLLERR);
    CHECK_EQ(tern_sock_error(a), TERN_E_CONNREFUSED);
    tern_sock_close(a);
    CHECK_EQ(n.sa->sock_count, 0);
    tnet_close(&n);
}

TEST(tcp_e2e_simultaneous_open)
{
    struct tnet n;
    REQUIRE(tnet_open(&n, 11, NULL, NULL) == 0);
    struct tern_sock *a = tern_sock_open(n.sa, TERN_SOCK_STREAM, NULL);
    struct tern_sock *b = tern_sock_open(n.sb, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 5000}, lb = {0, 6000};
    CHECK_EQ(tern_sock_bind(a, &la), 0);
    CHECK_EQ(tern_sock_bind(b, &lb), 0);
    struct tern_sockaddr pa = {TN_B, 6000}, pb = {TN_A, 5000};
    /* ARP first, so both SYNs cross on the wire. */
    uint8_t d = 0;
    struct tern_ip_out o = {.dst = TN_B, .proto = 253};
    tern_ip_output(n.sa, &o, &d, 1);
    tnet_run(&n, 10000);
    CHECK_EQ(tern_sock_connect(a, &pa), TERN_E_INPROGRESS);
    CHECK_EQ(tern_sock_connect(b, &pb), TERN_E_INPROGRESS);
    tnet_run(&n, 100000);
    CHECK_STR(state_of(a), "ESTABLISHED");
    CHECK_STR(state_of(b), "ESTABLISHED");
    uint64_t h1, h2;
    CHECK_EQ(pump(&n, a, b, 20000, 3, &h1, &h2, 10000000), 20000);
    CHECK(h1 == h2);
    tern_sock_abort(a);
    tern_sock_abort(b);
    CHECK_EQ(n.sa->sock_count, 0);
    CHECK_EQ(n.sb->sock_count, 0);
    tnet_close(&n);
}

static void lossy_transfer(uint64_t seed, double loss, size_t len, uint64_t *hash, uint32_t *rtx)
{
    struct tern_impair imp = {.loss = loss, .reorder = loss, .dup = loss, .delay_us = 2000,
                              .reorder_delay_us = 3000};
    struct tnet n;
    REQUIRE(tnet_open(&n, seed, &imp, NULL) == 0);
    struct tern_sock *l, *a, *b;
    REQUIRE(tnet_connect(&n, 80, &l, &a, &b) == 0);
    uint64_t h1, h2;
    size_t got = pump(&n, a, b, len, seed, &h1, &h2, 600000000);
    CHECK_EQ(got, len);
    CHECK(h1 == h2);
    *hash = h2;
    struct tern_sock_info info[4];
    size_t k = tern_sock_list(n.sa, info, 4);
    CHECK_EQ(k, 1);
    *rtx = info[0].retransmits;
    if (getenv("TCP_DEBUG"))
        fprintf(stderr, "loss %.2f: timeouts=%llu t=%llu ms rtx=%u cwnd=%u ssthresh=%u rtt=%u rto=%u\n", loss, (unsigned long long)tern_stack_stats(n.sa)->tcp.timeouts, (unsigned long long)(tern_loop_now(n.loop) / 1000), info[0].retransmits, info[0].cwnd, info[0].ssthresh, info[0].rtt_us, info[0].rto_us);
    if (loss == 0) {
        CHECK_EQ(info[0].retransmits, 0);
        CHECK(info[0].cwnd > 10 * info[0].mss); /* grew beyond IW10 */
        CHECK_EQ(info[0].mss, 1448);           /* 1500 - 40 - 12 (timestamps) */
        CHECK(info[0].rtt_us >= 4000 && info[0].rtt_us < 100000);
    }
    /* Close from both ends; everything goes away after TIME_WAIT. */
    tern_sock_close(a);
    for (int i = 0; i < 600; i++) {
        tnet_run(&n, 100000);
        uint8_t c;
        if (tern_sock_recv(b, &c, 1, 0) == 0)
            break;
    }
    tern_sock_close(b);
    tern_sock_close(l);
    tnet_run(&n, 400000000);
    CHECK_EQ(n.sa->sock_count, 0);
    CHECK_EQ(n.sb->sock_count, 0);
    tnet_close(&n);
}

TEST(tcp_e2e_transfer_clean_cwnd_grows)
{
    uint64_t h;
    uint32_t rtx;
    lossy_transfer(21, 0, 2000000, &h, &rtx);
}

TEST(tcp_e2e_transfer_lossy_reorder_dup_deterministic)
{
    uint64_t h1, h2;
    uint32_t r1, r2;
    lossy_transfer(22, 0.05, 2000000, &h1, &r1);
    lossy_transfer(22, 0.05, 2000000, &h2, &r2);
    CHECK(h1 == h2);
    CHECK_EQ(r1, r2); /* same seed, same run */
    CHECK(r1 > 0);
}
