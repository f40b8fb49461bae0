/*
 * TCP over a device with offloads (docs/devices.md), on the state world:
 * with tso_max set on the capture device and our MSS the one its MTU
 * gives, TCP sends super-segments of whole MSS-sized segments (the device
 * cuts them), and IP passes them unfragmented; without it, or with a
 * smaller MSS, MSS-sized segments as before. Received: a TCP segment
 * larger than the MTU is taken, and TERN_RX_CSUM_OK skips the checksum.
 */
#include <string.h>

#include "harness.h"
#include "tcp_util.h"
#include "tern/wire/bytes.h"

static uint8_t g_data[200000];

/* Pops every segment sent: their count, payload lengths in lens[]. */
static int pop_lens(struct world *w, size_t *lens, int max, uint32_t *first_seq)
{
    struct tern_tcp_repr r;
    int n = 0;
    while (wt_pop(w, &r)) {
        if (n == 0)
            *first_seq = r.seq;
        if (n < max)
            lens[n] = r.payload_len;
        n++;
    }
    return n;
}

TEST(tso_super_segments_of_whole_mss_when_the_device_cuts_them)
{
    struct world *w = world_new(NULL);
    w->dev->tso_max = 65535;
    struct tern_sock *lsk, *sk = wt_establish(w, WT_TS, &lsk);
    REQUIRE(sk);
    CHECK_EQ(tcp_cb_of(sk)->mss, 1448); /* 1500 - 40 - 12 */
    CHECK_EQ(tern_sock_send(sk, g_data, sizeof g_data, 0), (long)sizeof g_data);
    size_t lens[64];
    uint32_t seq = 0;
    /* The initial window, 10 segments (RFC 6928), in one piece. */
    int n = pop_lens(w, lens, 64, &seq);
    CHECK_EQ(n, 1);
    CHECK_EQ(lens[0], 10 * 1448);
    CHECK_EQ(seq, ISS + 1);
    /* The peer opens its window wide and acknowledges: the next flight
     * goes in super-segments of at most 45 MSS (45 * 1448 + 52 <= 65535),
     * each a whole number of MSS. */
    uint32_t acked = ISS + 1 + 10 * 1448, sent_to = acked;
    size_t total = 10 * 1448;
    for (int round = 0; round < 40 && total < sizeof g_data; round++) {
        struct tern_tcp_repr a = wt_peer(P_ISN + 1, acked, ACKF, 4000);
        wt_inject(w, &a);
        n = pop_lens(w, lens, 64, &seq);
        for (int i = 0; i < n && i < 64; i++) {
            CHECK(lens[i] <= 45 * 1448);
            if (total + lens[i] < sizeof g_data) /* all but the stream's tail */
                CHECK_EQ(lens[i] % 1448, 0);
            total += lens[i];
            sent_to += (uint32_t)lens[i];
        }
        acked = sent_to;
    }
    CHECK_EQ(total, sizeof g_data);
    CHECK(tern_stack_stats(w->s)->ip.frag_tx == 0);
    wt_finish(w, sk, lsk);
}

TEST(tso_mss_segments_without_the_device_capability)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk, *sk = wt_establish(w, WT_TS, &lsk);
    REQUIRE(sk);
    CHECK_EQ(tern_sock_send(sk, g_data, 20000, 0), 20000);
    size_t lens[64];
    uint32_t seq = 0;
    int n = pop_lens(w, lens, 64, &seq);
    CHECK_EQ(n, 10);
    for (int i = 0; i < n && i < 64; i++)
        CHECK_EQ(lens[i], 1448);
    wt_finish(w, sk, lsk);
}

TEST(tso_mss_segments_when_the_mss_is_not_the_devices)
{
    /* An MSS below what the MTU gives (as a peer's smaller MSS option or a
     * lower path MTU make it): the device would cut at the MTU's size, so
     * TCP keeps to its own segments. */
    struct world *w = world_new(NULL);
    w->dev->tso_max = 65535;
    struct tern_sock *lsk, *sk = wt_establish(w, WT_TS, &lsk);
    REQUIRE(sk);
    tcp_cb_of(sk)->mss = 1000;
    CHECK_EQ(tern_sock_send(sk, g_data, 20000, 0), 20000);
    size_t lens[64];
    uint32_t seq = 0;
    int n = pop_lens(w, lens, 64, &seq);
    CHECK(n >= 10);
    for (int i = 0; i < n && i < 64; i++)
        CHECK_EQ(lens[i], 1000);
    wt_finish(w, sk, lsk);
}

TEST(tso_super_segments_from_the_route_cache_and_after_a_route_change)
{
    /* tcp_output takes the segment size from the connection's route cache
     * once a segment has filled it, and looks the route up again when a
     * routing change invalidates the cache: super-segments either way. */
    struct world *w = world_new(NULL);
    w->dev->tso_max = 65535;
    struct tern_sock *lsk, *sk = wt_establish(w, WT_TS, &lsk);
    REQUIRE(sk);
    CHECK_EQ(tern_sock_send(sk, g_data, sizeof g_data, 0), (long)sizeof g_data);
    size_t lens[64];
    uint32_t seq = 0;
    CHECK_EQ(pop_lens(w, lens, 64, &seq), 1);
    CHECK_EQ(lens[0], 10 * 1448);
    struct tcp_cb *cb = tcp_cb_of(sk);
    CHECK(cb->rt.gen != 0 && cb->rt.ifindex == w->ifindex); /* filled */
    uint32_t acked = ISS + 1 + 10 * 1448;
    for (int round = 0; round < 2; round++) {
        if (round == 1) { /* an unrelated route: every cache is stale */
            CHECK_EQ(tern_route_add(w->s, 0x0a630000u, 16, 0, w->ifindex), 0);
            CHECK(cb->rt.gen != w->s->route_gen);
        }
        struct tern_tcp_repr a = wt_peer(P_ISN + 1, acked, ACKF, 4000);
        wt_inject(w, &a);
        int n = pop_lens(w, lens, 64, &seq);
        CHECK(n >= 1);
        CHECK(lens[0] > 1448 && lens[0] <= 45 * 1448);
        CHECK_EQ(lens[0] % 1448, 0);
        for (int i = 0; i < n && i < 64; i++)
            acked += (uint32_t)lens[i];
    }
    CHECK(cb->rt.gen == w->s->route_gen); /* refilled after the change */
    wt_finish(w, sk, lsk);
}

TEST(tso_tail_below_one_mss_waits_for_nagle_as_without_offload)
{
    /* 3.5 MSS queued with data in flight: the super-segment carries the
     * three whole segments; the half segment waits for the ACK (RFC 1122
     * 4.2.3.4), as it would segment by segment. */
    struct world *w = world_new(NULL);
    w->dev->tso_max = 65535;
    struct tern_sock *lsk, *sk = wt_establish(w, WT_TS, &lsk);
    REQUIRE(sk);
    CHECK_EQ(tern_sock_send(sk, g_data, 100, 0), 100);
    size_t lens[8];
    uint32_t seq = 0;
    CHECK_EQ(pop_lens(w, lens, 8, &seq), 1);
    CHECK_EQ(lens[0], 100);
    CHECK_EQ(tern_sock_send(sk, g_data, 3 * 1448 + 724, 0), 3 * 1448 + 724);
    int n = pop_lens(w, lens, 8, &seq);
    CHECK_EQ(n, 1);
    CHECK_EQ(lens[0], 3 * 1448);
    struct tern_tcp_repr a = wt_peer(P_ISN + 1, ISS + 1 + 100 + 3 * 1448, ACKF, 1000);
    wt_inject(w, &a);
    n = pop_lens(w, lens, 8, &seq);
    CHECK_EQ(n, 1);
    CHECK_EQ(lens[0], 724);
    wt_finish(w, sk, lsk);
}

/* A segment from the peer with a wrong checksum, delivered with flags. */
static void inject_bad_csum(struct world *w, const struct tern_tcp_repr *r, unsigned flags)
{
    static uint8_t seg[70000], frame[70000];
    int n = tern_tcp_emit(r, W_PEER, W_US, seg, sizeof seg);
    REQUIRE(n > 0);
    tern_put16(seg + 16, (uint16_t)(tern_get16(seg + 16) ^ 0x5a5a));
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_TCP, 1);
    size_t fl = w_ip_frame(frame, &ip, seg, (size_t)n);
    tern_device_deliver_flags(w->dev, frame, fl, flags);
}

TEST(tso_receives_a_segment_larger_than_the_mtu_and_trusts_csum_ok)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk, *sk = wt_establish(w, 0, &lsk);
    REQUIRE(sk);
    static uint8_t pay[30000], got[30000];
    for (size_t i = 0; i < sizeof pay; i++)
        pay[i] = (uint8_t)(i * 13 + 1);
    /* An unsplit segment (the kernel's TSO / GRO), 20000 bytes > MTU. */
    struct tern_tcp_repr r = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    r.payload = pay;
    r.payload_len = 20000;
    wt_inject(w, &r);
    /* Many full-sized segments' worth: ACKed at once (RFC 5681 s4.2
     * "every second full-sized segment"), not after the delayed-ACK timer. */
    struct tern_tcp_repr ack;
    REQUIRE(wt_pop(w, &ack));
    CHECK_EQ(ack.ack, P_ISN + 1 + 20000);
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 20000);
    CHECK(memcmp(got, pay, 20000) == 0);
    /* A wrong checksum without the flag: dropped, counted. */
    uint64_t drops = tern_stack_stats(w->s)->tcp.drop_csum;
    r = wt_peer(P_ISN + 1 + 20000, ISS + 1, ACKF, 1000);
    r.payload = pay + 20000;
    r.payload_len = 5000;
    inject_bad_csum(w, &r, 0);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.drop_csum, drops + 1);
    CHECK(tern_sock_recv(sk, got, sizeof got, 0) < 0);
    /* The same with TERN_RX_CSUM_OK (the device vouches): taken. */
    inject_bad_csum(w, &r, TERN_RX_CSUM_OK);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.drop_csum, drops + 1);
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 5000);
    CHECK(memcmp(got, pay + 20000, 5000) == 0);
    /* The flag lasts for its frame only. */
    CHECK_EQ(w->dev->rx_flags, 0);
    wt_finish(w, sk, lsk);
}
