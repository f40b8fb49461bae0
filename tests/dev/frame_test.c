/* Tests for frame buffers (src/dev/frame.c) and frames handed over by
 * reference: the memory link's send_frame, the copying fallback of
 * tern_device_send_frame, and a stack's frames crossing a memory link
 * without a copy (docs/architecture.md "Frame buffers"). */
#include <stdlib.h>
#include <string.h>

#include "common/net2.h"
#include "core/tcp_util.h"
#include "core/stack_impl.h"
#include "dev/frame.h"
#include "harness.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"

struct seen {
    size_t n;
    const uint8_t *at[8]; /* where each frame's bytes were */
    size_t len[8];
    uint8_t first[8];
    tern_rx_fn inner; /* a stack's handler, called after recording */
    void *inner_ctx;
};

static void seen_rx(void *ctx, struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct seen *s = ctx;
    if (s->n < 8) {
        s->at[s->n] = frame;
        s->len[s->n] = len;
        s->first[s->n] = len ? frame[0] : 0;
    }
    s->n++;
    if (s->inner)
        s->inner(s->inner_ctx, d, frame, len);
}

TEST(frame_pool_caps_and_recycles)
{
    struct tern_frame_pool *p = frame_pool_new(100, 2, 1);
    REQUIRE(p);
    struct tern_frame *a = frame_get(p), *b = frame_get(p);
    REQUIRE(a && b);
    CHECK(a != b);
    CHECK_EQ(a->cap, 100);
    CHECK(frame_get(p) == NULL); /* max 2 */
    tern_frame_free(b);
    CHECK(frame_get(p) == b); /* back on the free list */
    tern_frame_free(a);
    tern_frame_free(b);
    frame_pool_release(p);
}

TEST(frame_outlives_released_pool)
{
    /* The owner goes away with a frame still out (queued on a link): the
     * frame stays usable and freeing it frees the pool (ASan: no leak). */
    struct tern_frame_pool *p = frame_pool_new(64, 4, 2);
    REQUIRE(p);
    struct tern_frame *f = frame_get(p);
    REQUIRE(f);
    frame_pool_release(p);
    memset(f->data, 0x5a, f->cap);
    CHECK_EQ(f->data[63], 0x5a);
    tern_frame_free(f);
}

TEST(memlink_send_frame_moves_ownership_no_copy)
{
    struct tern_loop *l = tern_loop_virtual_new(0);
    struct tern_device *a, *b;
    REQUIRE_EQ(tern_memlink_pair(l, TERN_LINK_RAW_IP, 1500, 2, &a, &b), 0);
    struct seen s = {0};
    tern_device_set_rx(b, seen_rx, &s);
    struct tern_frame_pool *p = frame_pool_new(2048, 4, 0);
    REQUIRE(p);
    struct tern_frame *f = frame_get(p);
    REQUIRE(f);
    memset(f->data, 0, 64);
    f->data[10] = 0x45;
    CHECK_EQ(tern_device_send_frame(a, f, 10, 40), 0);
    CHECK_EQ(s.n, 0); /* next turn */
    tern_loop_run(l, TERN_TIME_NEVER);
    REQUIRE_EQ(s.n, 1);
    CHECK(s.at[0] == f->data + 10); /* the sender's own buffer: no copy */
    CHECK_EQ(s.len[0], 40);
    CHECK_EQ(s.first[0], 0x45);
    CHECK_EQ(a->stats.tx_frames, 1);
    CHECK_EQ(b->stats.rx_bytes, 40);
    /* Delivered, so given back: the pool hands the same buffer out again. */
    struct tern_frame *g = frame_get(p);
    CHECK(g == f);
    /* Refused frames are freed too: oversize, then a full queue (qlen 2). */
    CHECK_EQ(tern_device_send_frame(a, g, 0, 1501), TERN_E_BAD_LEN);
    CHECK(frame_get(p) == g);
    struct tern_frame *q[3];
    for (int i = 0; i < 3; i++) {
        q[i] = frame_get(p);
        REQUIRE(q[i]);
    }
    CHECK_EQ(tern_device_send_frame(a, q[0], 0, 20), 0);
    CHECK_EQ(tern_device_send_frame(a, q[1], 0, 20), 0);
    CHECK_EQ(tern_device_send_frame(a, q[2], 0, 20), TERN_E_NOMEM);
    CHECK_EQ(a->stats.tx_dropped, 2);
    CHECK(frame_get(p) == q[2]);
    tern_frame_free(q[2]);
    tern_frame_free(g);
    /* Destroying b with q[0], q[1] queued gives them back to p, which
     * frees itself once released and everything is back (ASan: no leak). */
    tern_device_destroy(b);
    tern_device_destroy(a);
    frame_pool_release(p);
    tern_loop_destroy(l);
}

static int copy_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct seen *s = ctx;
    if (s->n < 8) {
        s->at[s->n] = frame;
        s->len[s->n] = len;
        s->first[s->n] = frame[0];
    }
    s->n++;
    return 0;
}

TEST(send_frame_copying_fallback_frees_frame)
{
    struct seen s = {0};
    struct tern_device *d = tern_custom_device_new(TERN_LINK_RAW_IP, 1500, NULL, copy_send, &s);
    REQUIRE(d);
    struct tern_frame_pool *p = frame_pool_new(256, 1, 0);
    REQUIRE(p);
    struct tern_frame *f = frame_get(p);
    REQUIRE(f);
    f->data[3] = 0x99;
    CHECK_EQ(tern_device_send_frame(d, f, 3, 50), 0);
    REQUIRE_EQ(s.n, 1);
    CHECK_EQ(s.len[0], 50);
    CHECK_EQ(s.first[0], 0x99);
    CHECK(frame_get(p) == f); /* freed after the (borrowing) send */
    tern_frame_free(f);
    frame_pool_release(p);
    tern_device_destroy(d);
}

/* A stack's datagram crosses the memory link as the frame buffer it was
 * built in: B's handler reads A's buffer, and A builds on in a fresh one. */
TEST(stack_frames_cross_memlink_by_reference)
{
    struct net2 n;
    REQUIRE_EQ(net2_open(&n, 7, NULL), 0);
    struct seen s = {0};
    s.inner = n.b->rx;
    s.inner_ctx = n.b->rx_ctx;
    tern_device_set_rx(n.b, seen_rx, &s);
    int err;
    struct tern_sock *rx = tern_sock_open(n.sb, TERN_SOCK_DGRAM, &err);
    struct tern_sock *tx = tern_sock_open(n.sa, TERN_SOCK_DGRAM, &err);
    REQUIRE(rx && tx);
    struct tern_sockaddr la = {0, 7000}, to = {NET2_B, 7000};
    REQUIRE_EQ(tern_sock_bind(rx, &la), 0);
    CHECK_EQ(tern_sock_sendto(tx, "first", 5, 0, &to), 5); /* waits for ARP */
    tern_loop_run(n.loop, tern_loop_now(n.loop) + 100000);
    size_t before = s.n;
    const uint8_t *built_in = n.sa->txbuf;
    CHECK_EQ(tern_sock_sendto(tx, "second", 6, 0, &to), 6);
    CHECK(n.sa->txbuf != built_in); /* handed over; A builds in a new buffer */
    tern_loop_run(n.loop, tern_loop_now(n.loop) + 100000);
    REQUIRE_EQ(s.n, before + 1);
    CHECK(s.at[before] == built_in);
    CHECK_EQ(s.len[before], 14 + 20 + 8 + 6);
    char buf[16];
    struct tern_sockaddr from;
    int fl = 0;
    CHECK_EQ(tern_sock_recvfrom(rx, buf, sizeof buf, 0, &from, &fl), 5);
    CHECK_EQ(tern_sock_recvfrom(rx, buf, sizeof buf, 0, &from, &fl), 6);
    CHECK(memcmp(buf, "second", 6) == 0);
    tern_sock_close(rx);
    tern_sock_close(tx);
    net2_close(&n);
}

/* A memory link at MTU 65535 (the IPv4 maximum): TCP uses the MSS it
 * allows (65535 - 40) and 2 MiB arrive intact (every segment's checksum,
 * summed while the payload was copied from the send ring, is checked by
 * the receiver) in segments of up to 65495 bytes. */
static uint8_t pat(size_t i) { return (uint8_t)(i * 7 + i / 251); }

TEST(memlink_mtu_65535_tcp_bulk_large_segments)
{
    struct tnet n;
    memset(&n, 0, sizeof n);
    n.loop = tern_loop_virtual_new(1000000);
    REQUIRE(n.loop);
    REQUIRE_EQ(tern_memlink_pair(n.loop, TERN_LINK_ETHERNET, 65535, 256, &n.a, &n.b), 0);
    REQUIRE_EQ(net2_add_stacks(n.loop, n.a, n.b, NULL, 3, &n.sa, &n.sb), 0);
    struct tern_sock *l, *ca, *cb;
    REQUIRE_EQ(tnet_connect(&n, 5001, &l, &ca, &cb), 0);
    const size_t total = 2u << 20;
    static uint8_t out[65536], in[65536];
    size_t sent = 0, got = 0;
    bool ok = true;
    uint64_t tx0 = tern_stack_stats(n.sa)->tcp.tx;
    for (int turn = 0; turn < 100000 && got < total; turn++) {
        if (sent < total) {
            size_t k = total - sent < sizeof out ? total - sent : sizeof out;
            for (size_t i = 0; i < k; i++)
                out[i] = pat(sent + i);
            ssize_t w = tern_sock_send(ca, out, k, 0);
            if (w > 0)
                sent += (size_t)w;
        }
        tnet_run(&n, 100);
        ssize_t r;
        while ((r = tern_sock_recv(cb, in, sizeof in, 0)) > 0) {
            for (ssize_t i = 0; i < r && ok; i++)
                ok = in[i] == pat(got + (size_t)i);
            got += (size_t)r;
        }
    }
    CHECK_EQ(got, total);
    CHECK(ok);
    uint64_t segs = tern_stack_stats(n.sa)->tcp.tx - tx0;
    CHECK(segs >= total / 65495);
    /* 64 KiB writes do not line up with the MSS: up to two segments per
     * MSS of data, far from the ~1440 of MTU 1500. */
    CHECK(segs < 2 * (total / 65495) + 10);
    CHECK_EQ(tern_stack_stats(n.sb)->tcp.drop_csum, 0);
    tern_sock_abort(ca);
    tern_sock_abort(cb);
    tern_sock_close(l);
    tnet_close(&n);
}

/* A UDP datagram larger than the MTU is built in place in the frame
 * buffer and then fragmented (the one output step that copies): the
 * fragments must not overwrite the payload they are cut from. */
TEST(udp_built_in_place_then_fragmented_arrives_intact)
{
    struct net2 n;
    REQUIRE_EQ(net2_open(&n, 11, NULL), 0);
    int err;
    struct tern_sock *rx = tern_sock_open(n.sb, TERN_SOCK_DGRAM, &err);
    struct tern_sock *tx = tern_sock_open(n.sa, TERN_SOCK_DGRAM, &err);
    REQUIRE(rx && tx);
    struct tern_sockaddr la = {0, 7001}, to = {NET2_B, 7001};
    REQUIRE_EQ(tern_sock_bind(rx, &la), 0);
    static uint8_t out[4000], in[5000];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = pat(i);
    CHECK_EQ(tern_sock_sendto(tx, "x", 1, 0, &to), 1); /* ARP first */
    tern_loop_run(n.loop, tern_loop_now(n.loop) + 100000);
    struct tern_sockaddr from;
    int fl = 0;
    CHECK_EQ(tern_sock_recvfrom(rx, in, sizeof in, 0, &from, &fl), 1);
    uint64_t frags = tern_stack_stats(n.sa)->ip.frag_tx;
    CHECK_EQ(tern_sock_sendto(tx, out, sizeof out, 0, &to), (ssize_t)sizeof out);
    tern_loop_run(n.loop, tern_loop_now(n.loop) + 100000);
    CHECK_EQ(tern_stack_stats(n.sa)->ip.frag_tx - frags, 3);
    CHECK_EQ(tern_sock_recvfrom(rx, in, sizeof in, 0, &from, &fl), (ssize_t)sizeof out);
    CHECK(memcmp(in, out, sizeof out) == 0);
    tern_sock_close(rx);
    tern_sock_close(tx);
    net2_close(&n);
}

/* The receive path copies in-order payload into the receive ring while it
 * verifies the checksum (tcp_in.c place_payload): a segment whose checksum
 * is wrong must still be dropped and counted, its bytes never readable,
 * and the right segment for the same sequence number delivered as sent -
 * in order, and with a range parked out of order (the separate pass). */
static void inject_corrupt(struct world *w, const struct tern_tcp_repr *r)
{
    static uint8_t seg[2000], frame[2100];
    int n = tern_tcp_emit(r, W_PEER, W_US, seg, sizeof seg);
    REQUIRE(n > 40);
    seg[n - 1] ^= 0x40; /* a payload bit, after the checksum was computed */
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_TCP, 1);
    world_inject(w, frame, w_ip_frame(frame, &ip, seg, (size_t)n));
}

TEST(tcp_rx_in_place_bad_checksum_dropped_data_intact)
{
    struct world *w = world_new(NULL);
    REQUIRE(w);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    static uint8_t a[1000], b[1000], in[4000];
    memset(a, 'A', sizeof a);
    memset(b, 'B', sizeof b);
    uint64_t bad0 = tern_stack_stats(w->s)->tcp.drop_csum;
    /* In order: corrupt, then the right one (shorter) at the same SEQ. */
    struct tern_tcp_repr d = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    d.payload = a;
    d.payload_len = sizeof a;
    inject_corrupt(w, &d);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.drop_csum, bad0 + 1);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 1);
    CHECK_EQ(cb->placed, 0);
    CHECK_EQ(tern_sock_recv(sk, in, sizeof in, 0), TERN_E_AGAIN);
    d.payload = b;
    d.payload_len = 600;
    wt_inject(w, &d);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 601);
    world_drain(w);
    CHECK_EQ(tern_sock_recv(sk, in, sizeof in, 0), 600);
    CHECK(memcmp(in, b, 600) == 0);
    /* Out of order parked at +1000, then a corrupt and a right in-order
     * segment that fills the hole (the separate checksum pass). */
    struct tern_tcp_repr o = wt_peer(P_ISN + 601 + 1000, ISS + 1, ACKF, 1000);
    o.payload = a;
    o.payload_len = 300;
    wt_inject(w, &o);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 601);
    d = wt_peer(P_ISN + 601, ISS + 1, ACKF, 1000);
    d.payload = b;
    d.payload_len = 1000;
    inject_corrupt(w, &d);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.drop_csum, bad0 + 2);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 601);
    wt_inject(w, &d);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 601 + 1300);
    world_drain(w);
    CHECK_EQ(tern_sock_recv(sk, in, sizeof in, 0), 1300);
    CHECK(memcmp(in, b, 1000) == 0);
    CHECK(memcmp(in + 1000, a, 300) == 0);
    wt_finish(w, sk, l);
}

/* A segment whose payload wraps the send ring with an odd first piece
 * (175 + 905 bytes): the two pieces are copied into the frame and their
 * sums joined at an odd offset (tern_csum_add_at); the receiver-side
 * parse verifies the checksum and the bytes. */
TEST(tcp_tx_ring_wrap_odd_piece_checksum_right)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.tcp_sndbuf = 4096;
    struct world *w = world_new(&cfg);
    REQUIRE(w);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    static uint8_t out[5001];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = pat(i);
    CHECK_EQ(tern_sock_send(sk, out, 1001, 0), 1001);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a)); /* parsed with the checksum checked */
    CHECK_EQ(a.payload_len, 1001);
    wt_inject(w, &(struct tern_tcp_repr){.sport = P_PORT, .dport = 80, .seq = P_ISN + 1,
                                         .ack = ISS + 1 + 1001, .flags = ACKF, .win = 1000});
    CHECK_EQ(tern_sock_send(sk, out + 1001, 4000, 0), 4000);
    size_t got = 0;
    bool same = true;
    while (wt_pop(w, &a)) {
        if (!a.payload_len)
            continue;
        CHECK_EQ(a.seq, ISS + 1 + 1001 + (uint32_t)got);
        same = same && memcmp(a.payload, out + 1001 + got, a.payload_len) == 0;
        got += a.payload_len;
        /* Acknowledged, so Nagle lets the last, short segment go. */
        wt_inject(w, &(struct tern_tcp_repr){.sport = P_PORT, .dport = 80, .seq = P_ISN + 1,
                                             .ack = ISS + 1 + 1001 + (uint32_t)got,
                                             .flags = ACKF, .win = 1000});
    }
    CHECK_EQ(got, 4000); /* wt_pop stops at a segment whose checksum is wrong */
    CHECK(same);
    tern_sock_abort(sk);
    tern_sock_close(l);
    world_end(w);
}

/* The receive side of the same: in-order segments copied into the
 * receive ring (256 KiB), one of them across its end with an odd first
 * piece (1001 + 178 * 1460 = 260881: 1263 bytes before the wrap), the
 * checksum verified in that pass (place_payload); nothing dropped and the
 * bytes as sent. */
TEST(tcp_rx_ring_wrap_odd_piece_checksum_right)
{
    struct world *w = world_new(NULL);
    REQUIRE(w);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    REQUIRE_EQ(tcp_cb_of(sk)->rcv.cap, 262144);
    static uint8_t seg[1460], in[4096];
    uint64_t bad0 = tern_stack_stats(w->s)->tcp.drop_csum;
    size_t sent = 0, got = 0;
    bool same = true;
    for (int k = 0; k < 181; k++) {
        size_t n = k == 0 ? 1001 : 1460;
        for (size_t i = 0; i < n; i++)
            seg[i] = pat((sent + i) * 3);
        struct tern_tcp_repr d = wt_peer(P_ISN + 1 + (uint32_t)sent, ISS + 1, ACKF, 1000);
        d.payload = seg;
        d.payload_len = n;
        wt_inject(w, &d);
        sent += n;
        world_drain(w);
        ssize_t r;
        while ((r = tern_sock_recv(sk, in, sizeof in, 0)) > 0) {
            for (ssize_t i = 0; i < r; i++)
                same = same && in[i] == pat((got + (size_t)i) * 3);
            got += (size_t)r;
        }
    }
    CHECK_EQ(tern_stack_stats(w->s)->tcp.drop_csum, bad0);
    CHECK_EQ(got, sent);
    CHECK(sent > 262144);
    CHECK(same);
    tern_sock_abort(sk);
    tern_sock_close(l);
    world_end(w);
}
