/*
 * RACK-TLP (RFC 8985) end to end: stack A sends to stack B over a memory
 * link with 2 ms delay each way (4 ms RTT); A's device is a custom one that
 * drops or delays chosen data frames of A. A lost fast retransmission is
 * repaired without an RTO, a tail loss by a loss probe, a spurious
 * retransmission's D-SACK widens the reordering window; every transfer is
 * byte-exact and every socket is gone at the end. Virtual time, fixed
 * seeds. (Without SACK RACK is off: tcp_recover_test.c's NewReno case.)
 */
#include <string.h>

#include "harness.h"
#include "tcp_util.h"

#define MAXRULE 4

struct dnet {
    struct tnet t;            /* t.a: the custom device, t.b: B's link end */
    struct tern_device *ia;   /* A's end of the memory link */
    uint32_t data_frames;     /* A's data frames so far (1-based numbering) */
    uint32_t drop_nth[MAXRULE];
    size_t ndrop;
    bool drop_first_rtx;      /* also drop the first resend of a dropped seq */
    uint32_t dropped_seq[MAXRULE];
    bool rtx_seen[MAXRULE];
    size_t nds;
    uint32_t delay_nth;       /* hold this data frame back ... */
    uint64_t delay_us;        /* ... this long */
    uint8_t held[1600];
    size_t held_len;
    struct tern_timer ht;
    uint32_t dropped, delayed;
};

static bool data_seq(const uint8_t *frame, size_t len, uint32_t *seq)
{
    struct tern_ipv4_repr h;
    struct tern_tcp_repr t;
    if (len < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00 ||
        tern_ipv4_parse(frame + 14, len - 14, 0, &h) < 0 || h.proto != TERN_IPPROTO_TCP ||
        tern_tcp_parse(frame + 14 + h.hdr_len, h.payload_len, h.src, h.dst, 0, &t) < 0 ||
        t.payload_len == 0)
        return false;
    *seq = t.seq;
    return true;
}

static void release_held(struct tern_timer *tm, void *arg)
{
    (void)tm;
    struct dnet *n = arg;
    tern_device_send(n->ia, n->held, n->held_len);
    n->held_len = 0;
}

static int dn_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct dnet *n = ctx;
    uint32_t seq;
    if (data_seq(frame, len, &seq)) {
        n->data_frames++;
        for (size_t i = 0; i < n->nds; i++) {
            if (n->dropped_seq[i] == seq && n->drop_first_rtx && !n->rtx_seen[i]) {
                n->rtx_seen[i] = true;
                n->dropped++;
                return 0; /* the retransmission is lost too */
            }
        }
        for (size_t i = 0; i < n->ndrop; i++) {
            if (n->drop_nth[i] == n->data_frames && n->nds < MAXRULE) {
                n->dropped_seq[n->nds++] = seq;
                n->dropped++;
                return 0;
            }
        }
        if (n->delay_nth == n->data_frames && len <= sizeof n->held) {
            memcpy(n->held, frame, len);
            n->held_len = len;
            n->delayed++;
            tern_timer_arm(n->t.loop, &n->ht, tern_loop_now(n->t.loop) + n->delay_us);
            return 0;
        }
    }
    return tern_device_send(n->ia, frame, len);
}

static void dn_rx(void *ctx, struct tern_device *d, const uint8_t *frame, size_t len)
{
    (void)d;
    struct dnet *n = ctx;
    tern_device_deliver(n->t.a, frame, len);
}

/* a_sndbuf: A's send buffer (0: the default). */
static int dn_open_buf(struct dnet *n, uint64_t seed, uint32_t a_sndbuf)
{
    memset(n, 0, sizeof *n);
    tern_timer_init(&n->ht, release_held, n);
    n->t.loop = tern_loop_virtual_new(1000000);
    struct tern_device *a, *b;
    if (!n->t.loop || tern_memlink_pair(n->t.loop, TERN_LINK_ETHERNET, 1500, 4096, &a, &b) < 0)
        return -1;
    struct tern_impair imp = {.delay_us = 2000, .seed = seed * 2 + 1};
    n->ia = tern_impair_wrap(n->t.loop, a, &imp);
    imp.seed = seed * 2 + 2;
    n->t.b = tern_impair_wrap(n->t.loop, b, &imp);
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    n->t.a = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, dn_send, n);
    if (!n->ia || !n->t.b || !n->t.a)
        return -1;
    tern_device_set_rx(n->ia, dn_rx, n);
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = seed;
    uint32_t def_sndbuf = c.tcp_sndbuf;
    if (a_sndbuf)
        c.tcp_sndbuf = a_sndbuf;
    n->t.sa = tern_stack_new(&c, n->t.loop);
    c.tcp_sndbuf = def_sndbuf;
    c.seed = seed + 1000;
    n->t.sb = tern_stack_new(&c, n->t.loop);
    struct tern_iface_config ca = {.addr = TN_A, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 1}};
    struct tern_iface_config cb = {.addr = TN_B, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 2}};
    if (!n->t.sa || !n->t.sb || tern_stack_add_iface(n->t.sa, n->t.a, &ca) < 0 ||
        tern_stack_add_iface(n->t.sb, n->t.b, &cb) < 0)
        return -1;
    return 0;
}

static int dn_open(struct dnet *n, uint64_t seed)
{
    return dn_open_buf(n, seed, 0);
}

static void dn_close(struct dnet *n)
{
    if (tern_timer_armed(&n->ht))
        tern_timer_cancel(n->t.loop, &n->ht);
    tern_stack_free(n->t.sa);
    tern_stack_free(n->t.sb);
    tern_device_destroy(n->t.a);
    tern_device_destroy(n->ia);
    tern_device_destroy(n->t.b);
    tern_loop_destroy(n->t.loop);
}

static uint8_t pat(size_t i) { return (uint8_t)(i * 7 + i / 251); }

/* A writes len pattern bytes to B, B reads and checks them; stops when all
 * arrived or after max_us. Returns the bytes B got in order and intact. */
static size_t transfer(struct dnet *n, struct tern_sock *a, struct tern_sock *b, size_t len,
                       uint64_t max_us)
{
    static uint8_t buf[65536];
    size_t sent = 0, got = 0;
    bool ok = true;
    uint64_t end = tern_loop_now(n->t.loop) + max_us;
    while (got < len && tern_loop_now(n->t.loop) < end) {
        while (sent < len) {
            size_t k = len - sent < sizeof buf ? len - sent : sizeof buf;
            for (size_t i = 0; i < k; i++)
                buf[i] = pat(sent + i);
            ssize_t w = tern_sock_send(a, buf, k, 0);
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
        tnet_run(&n->t, 1000);
        ssize_t r;
        while ((r = tern_sock_recv(b, buf, sizeof buf, 0)) > 0) {
            for (ssize_t i = 0; i < r; i++)
                ok = ok && buf[i] == pat(got + (size_t)i);
            got += (size_t)r;
        }
    }
    return ok ? got : 0;
}

static void finish(struct dnet *n, struct tern_sock *l, struct tern_sock *a, struct tern_sock *b)
{
    tern_sock_close(a);
    tern_sock_close(b);
    tern_sock_close(l);
    tnet_run(&n->t, 200000000); /* past TIME_WAIT */
    CHECK_EQ(n->t.sa->sock_count, 0);
    CHECK_EQ(n->t.sb->sock_count, 0);
    dn_close(n);
}

TEST(tcp_rack_e2e_lost_fast_retransmission_without_rto)
{
    struct dnet n;
    REQUIRE(dn_open(&n, 31) == 0);
    n.drop_nth[0] = 40; /* mid-stream, with data flowing behind it */
    n.ndrop = 1;
    n.drop_first_rtx = true; /* ... and its fast retransmission */
    struct tern_sock *l, *a, *b;
    REQUIRE(tnet_connect(&n.t, 80, &l, &a, &b) == 0);
    REQUIRE(tcp_cb_of(a)->rack_on);
    const struct tern_stats *st = tern_stack_stats(n.t.sa);
    uint64_t rtx0 = st->tcp.retransmits;
    CHECK_EQ(transfer(&n, a, b, 400000, 10000000), 400000);
    CHECK_EQ(n.dropped, 2);
    CHECK(n.rtx_seen[0]);
    /* RFC 6675 alone finds a lost retransmission only by the RTO; RACK
     * sees segments sent after it SACKed and marks it lost again. */
    CHECK_EQ(st->tcp.timeouts, 0);
    CHECK(st->tcp.rack_lost >= 2);
    /* A real loss: no D-SACK ever reports the retransmissions, no undo. */
    CHECK_EQ(st->tcp.spurious_undos, 0);
    CHECK(tcp_cb_of(a)->cc.ssthresh != TERN_CC_SSTHRESH_INF);
    CHECK(st->tcp.retransmits - rtx0 >= 2);
    finish(&n, l, a, b);
}

TEST(tcp_rack_e2e_tail_loss_repaired_by_probe)
{
    struct dnet n;
    REQUIRE(dn_open(&n, 32) == 0);
    struct tern_sock *l, *a, *b;
    REQUIRE(tnet_connect(&n.t, 80, &l, &a, &b) == 0);
    const struct tern_stats *st = tern_stack_stats(n.t.sa);
    /* A first exchange gives A an SRTT (4 ms). */
    CHECK_EQ(transfer(&n, a, b, 20000, 1000000), 20000);
    uint32_t mss = tcp_cb_of(a)->mss;
    /* Then ten full segments, the last two lost: nothing follows them, so
     * no ACK can reveal the loss - only a probe (PTO = 2*SRTT, about 8 ms)
     * or the RTO (at least 200 ms). */
    n.drop_nth[0] = n.data_frames + 9;
    n.drop_nth[1] = n.data_frames + 10;
    n.ndrop = 2;
    uint64_t t0 = tern_loop_now(n.t.loop);
    CHECK_EQ(transfer(&n, a, b, 10 * (size_t)mss, 1000000), 10 * (size_t)mss);
    uint64_t took = tern_loop_now(n.t.loop) - t0;
    CHECK_EQ(n.dropped, 2);
    CHECK_EQ(st->tcp.timeouts, 0);
    CHECK_EQ(st->tcp.tlp_probes, 1);
    CHECK(took < rtt_rto(&tcp_cb_of(a)->rtt)); /* done before an RTO could fire */
    /* The probe (the last segment) was SACKed; RACK found the other one. */
    CHECK(st->tcp.rack_lost >= 1);
    finish(&n, l, a, b);
}

/* Frame 40 (the 10th of a 40-segment flight) is held back 2 ms: the SACKs
 * of the 30 segments behind it reach A one RTT (4 ms) after they were
 * sent, RACK marks it lost and retransmits it; the original reaches B at
 * that same instant, 2 ms before the retransmission, which B reports as a
 * duplicate with a D-SACK. (Held back longer than the RTT, the original
 * would come after the retransmission, with an older TSval: B drops it by
 * PAWS, RFC 7323 s5.3, and sends no D-SACK. The 30 ms this test used to
 * hold it only got its D-SACK from a second, spurious retransmission of
 * the retransmission - RACK ordered a retransmission sent in the same
 * microsecond as new data behind that data, tcp_rack.c order_of.) */
TEST(tcp_rack_e2e_dsack_of_spurious_retransmission_widens_reo_wnd)
{
    struct dnet n;
    REQUIRE(dn_open(&n, 33) == 0);
    n.delay_nth = 40;
    n.delay_us = 2000;
    struct tern_sock *l, *a, *b;
    REQUIRE(tnet_connect(&n.t, 80, &l, &a, &b) == 0);
    const struct tern_stats *st = tern_stack_stats(n.t.sa);
    struct tcp_cb *cb = tcp_cb_of(a);
    struct tern_rack rk;
    tcp_rack_view(cb, &rk);
    CHECK_EQ(rk.reo_wnd_mult, 1);
    uint64_t rtx0 = st->tcp.retransmits;
    CHECK_EQ(transfer(&n, a, b, 400000, 10000000), 400000);
    CHECK_EQ(n.delayed, 1);
    CHECK_EQ(st->tcp.timeouts, 0);
    CHECK_EQ(st->tcp.retransmits - rtx0, 1); /* the one spurious retransmission */
    CHECK_EQ(st->tcp.dsacks_rx, 1);
    /* RFC 8985 s6.2 step 4: one D-SACK round -> reo_wnd_mult 2, persisting
     * for 16 recoveries; the window is now 2 * min_RTT / 4 (<= SRTT). The
     * D-SACK came before the recovery episode ended (its cumulative ACK
     * waits for the flight sent at the retransmission), and that exit
     * counts as the first of the 16 ("Else if exiting ... recovery"). */
    tcp_rack_view(cb, &rk); /* from the cold block, or kept in the TCB once it went */
    CHECK_EQ(rk.reo_wnd_mult, 2);
    CHECK_EQ(rk.reo_wnd_persist, 15);
    uint64_t srtt = rtt_srtt_us(&cb->rtt);
    uint64_t want = 2 * rk.min_rtt / 4;
    CHECK(rk.min_rtt >= 4000);
    CHECK_EQ(tcp_rack_reo_wnd(&rk, srtt, false, 0, 3), want < srtt ? want : srtt);
    CHECK(tcp_rack_reo_wnd(&rk, srtt, false, 0, 3) > rk.min_rtt / 4);
    /* RFC 3708/4015: the episode's only retransmission was D-SACKed, so the
     * reduction is undone - nothing was lost on this path, and ssthresh is
     * back at its initial "arbitrarily high" value (RFC 5681 s3.1). */
    CHECK_EQ(st->tcp.spurious_undos, 1);
    CHECK_EQ(cb->cc.ssthresh, TERN_CC_SSTHRESH_INF);
    finish(&n, l, a, b);
}

/* RFC 9293 s3.10.7.4 / SHLD-31: a receiver should keep in-window segments
 * that arrive out of order - everything it offered. B offers its whole
 * 256 KiB receive buffer; A fills it (cwnd grows past it on the clean 4 ms
 * path), then one segment is lost. Every segment behind the hole lies
 * inside the offered window, so B must park all of them and the single
 * fast retransmission fills the hole: one retransmission, no RTO. (With
 * out-of-order bytes capped at half the buffer, the rest of the window
 * was discarded and cost ~90 retransmissions and an RTO.) */
TEST(tcp_rack_e2e_one_loss_full_window_one_retransmission)
{
    struct dnet n;
    /* A's send buffer is larger than B's window, so the window limits. */
    REQUIRE(dn_open_buf(&n, 34, 1u << 20) == 0);
    n.drop_nth[0] = 855; /* the 2nd segment of a window-limited flight */
    n.ndrop = 1;
    struct tern_sock *l, *a, *b;
    REQUIRE(tnet_connect(&n.t, 80, &l, &a, &b) == 0);
    const struct tern_stats *st = tern_stack_stats(n.t.sa);
    uint64_t rtx0 = st->tcp.retransmits;
    CHECK_EQ(transfer(&n, a, b, 4000000, 20000000), 4000000);
    CHECK_EQ(n.dropped, 1);
    /* The window really was full when the loss happened: more than half
     * the receive buffer was parked behind the hole at some point. */
    struct tern_tcp_ooo_stats os; /* B's stack holds this one connection */
    tcp_stack_ooo_stats(n.t.sb, &os);
    CHECK(os.bytes_queued > tcp_cb_of(b)->rcv.cap / 2);
    CHECK_EQ(os.cap_bytes_dropped, 0);
    CHECK_EQ(st->tcp.retransmits - rtx0, 1);
    CHECK_EQ(st->tcp.timeouts, 0);
    finish(&n, l, a, b);
}
