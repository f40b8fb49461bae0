/*
 * Tests for the TCP plot recorder and its SVG (src/sim/tcpplot*.c).
 * Crafted segments check the bookkeeping by arithmetic (relative sequence
 * numbers across the 2^32 wrap, RFC 7323 window scaling, what counts as a
 * retransmission); a scripted loss between two stacks checks the marks
 * against the frames the test itself dropped and the stack's own count; a
 * long run with a tiny max_points checks the bounds.
 * With TERN_PLOT_OUT=DIR the SVGs are also written to DIR for
 * tests/scripts/plot_check.sh to run xmllint on.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sim/tcpplot.h"
#include "sim/tcpplot_impl.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/tcp.h"

#define HA 0x0a000001u
#define HB 0x0a000002u

/* ---- output helpers ---- */

/* Renders one of the plots into a malloc'd string; also into
 * $TERN_PLOT_OUT/name when that is set. */
static char *render(const struct tern_tcpplot *p, bool tsg, const char *title, const char *name)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int rc = tsg ? tcpplot_write_tsg(p, f, title) : tcpplot_write_cwnd(p, f, title);
    fclose(f);
    CHECK_EQ(rc, 0);
    const char *dir = getenv("TERN_PLOT_OUT");
    if (dir && *dir && buf) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *o = fopen(path, "w");
        if (o) {
            fwrite(buf, 1, len, o);
            fclose(o);
        }
    }
    return buf;
}

static size_t count_str(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The shape every document must have: prolog, one svg root, closed. */
static void check_doc(const char *svg)
{
    REQUIRE(svg != NULL);
    CHECK(strncmp(svg, "<?xml version=\"1.0\"", 19) == 0);
    CHECK_EQ(count_str(svg, "<svg "), 1);
    size_t n = strlen(svg);
    CHECK(n > 7 && strcmp(svg + n - 7, "</svg>\n") == 0);
    CHECK_EQ(count_str(svg, "<title>"), count_str(svg, "</title>"));
}

/* ---- crafted segments ---- */

static size_t craft(uint8_t *buf, bool out, uint32_t seq, uint32_t ack, uint16_t flags,
                    uint16_t win, uint32_t len, int wscale, const uint32_t *sack, int nsack)
{
    static uint8_t data[2000];
    struct tern_tcp_repr t = {.sport = out ? 40000 : 80, .dport = out ? 80 : 40000, .seq = seq,
                              .ack = ack, .flags = flags, .win = win, .payload = data,
                              .payload_len = len};
    if (wscale >= 0) {
        t.opts.has_wscale = true;
        t.opts.wscale = (uint8_t)wscale;
    }
    t.opts.sack_count = (uint8_t)nsack;
    for (int i = 0; i < nsack; i++) {
        t.opts.sack[i].left = sack[2 * i];
        t.opts.sack[i].right = sack[2 * i + 1];
    }
    uint32_t src = out ? HA : HB, dst = out ? HB : HA;
    int tl = tern_tcp_emit(&t, src, dst, buf + 20, 1600);
    struct tern_ipv4_repr ip = {.ttl = 64, .proto = TERN_IPPROTO_TCP, .src = src, .dst = dst,
                                .payload_len = (uint16_t)tl};
    tern_ipv4_emit(&ip, buf, 20);
    return 20 + (size_t)tl;
}

TEST(tcpplot_wrap_window_scale_and_retransmissions)
{
    struct tern_tcpplot *p = tcpplot_new(HA, 40000, HB, 80, 100);
    REQUIRE(p != NULL);
    uint8_t b[1700];
    const uint32_t isn = 0xfffff000u, irs = 777;
    size_t n;
    /* SYN (WS 7) out, SYN-ACK (WS 5, window 65535: never scaled) in. */
    n = craft(b, true, isn, 0, TERN_TCP_SYN, 65535, 0, 7, NULL, 0);
    tcpplot_packet(p, 1000, b, n);
    n = craft(b, false, irs, isn + 1, TERN_TCP_SYN | TERN_TCP_ACK, 65535, 0, 5, NULL, 0);
    tcpplot_packet(p, 2000, b, n);
    /* Three 1000-byte segments; the second crosses 2^32. */
    for (uint32_t i = 0; i < 3; i++) {
        n = craft(b, true, isn + 1 + i * 1000, irs + 1, TERN_TCP_ACK, 100,
                  1000, -1, NULL, 0);
        tcpplot_packet(p, 3000 + i, b, n);
    }
    /* An ACK of the first segment, window 100 << 5, SACKing the third. */
    uint32_t blk[2] = {isn + 1 + 2000, isn + 1 + 3000};
    n = craft(b, false, irs + 1, isn + 1 + 1000, TERN_TCP_ACK, 100, 0, -1, blk, 1);
    tcpplot_packet(p, 4000, b, n);
    /* The second segment again (a retransmission), then a segment that
     * overlaps the end of the third by 500 bytes (also one), then new data. */
    n = craft(b, true, isn + 1 + 1000, irs + 1, TERN_TCP_ACK, 100, 1000, -1, NULL, 0);
    tcpplot_packet(p, 5000, b, n);
    n = craft(b, true, isn + 1 + 2500, irs + 1, TERN_TCP_ACK, 100, 1000, -1, NULL, 0);
    tcpplot_packet(p, 5001, b, n);
    n = craft(b, true, isn + 1 + 3500, irs + 1, TERN_TCP_ACK | TERN_TCP_FIN, 100, 500, -1, NULL, 0);
    tcpplot_packet(p, 5002, b, n);
    /* Ignored: a corrupted copy of the first segment (the stack would drop
     * it too), a truncated packet, no packet. */
    n = craft(b, true, isn + 1, irs + 1, TERN_TCP_ACK, 100, 1000, -1, NULL, 0);
    b[n - 1] ^= 0xff;
    tcpplot_packet(p, 5004, b, n);
    tcpplot_packet(p, 5005, b, 10);
    tcpplot_packet(p, 5006, NULL, 0);

    CHECK_EQ(tcpplot_retransmissions(p), 2);
    struct tcpplot_counts c;
    tcpplot_counts(p, &c);
    CHECK_EQ(c.segments, 1 + 3 + 2 + 1); /* SYN, three, two retransmitted, FIN segment */
    CHECK_EQ(c.rtx, 2);
    CHECK_EQ(c.sacks, 1);
    /* Relative positions: SYN 0, data from 1, increasing through the wrap. */
    const struct tp_series *seg = &p->s[TP_SEG], *rtx = &p->s[TP_RTX];
    REQUIRE_EQ(seg->n, 5);
    CHECK_EQ(TP_AT(seg, struct tp_seg, 0).seq, 0);
    CHECK_EQ(TP_AT(seg, struct tp_seg, 0).len, 1);
    CHECK_EQ(TP_AT(seg, struct tp_seg, 2).seq, 1001);
    CHECK_EQ(TP_AT(seg, struct tp_seg, 3).seq, 2001);
    CHECK_EQ(TP_AT(seg, struct tp_seg, 4).seq, 3501);
    CHECK_EQ(TP_AT(seg, struct tp_seg, 4).len, 501); /* 500 + FIN */
    REQUIRE_EQ(rtx->n, 2);
    CHECK_EQ(TP_AT(rtx, struct tp_seg, 0).seq, 1001);
    CHECK_EQ(TP_AT(rtx, struct tp_seg, 1).seq, 2501);
    /* ACK points: the SYN-ACK's window unscaled, then 100 << 5. */
    const struct tp_series *ack = &p->s[TP_ACK];
    REQUIRE_EQ(ack->n, 2);
    CHECK_EQ(TP_AT(ack, struct tp_ack, 0).ack, 1);
    CHECK_EQ(TP_AT(ack, struct tp_ack, 0).win, 65535);
    CHECK_EQ(TP_AT(ack, struct tp_ack, 1).ack, 1001);
    CHECK_EQ(TP_AT(ack, struct tp_ack, 1).win, 3200);
    CHECK_EQ(TP_AT(&p->s[TP_SACK], struct tp_sack, 0).left, 2001);
    CHECK_EQ(TP_AT(&p->s[TP_SACK], struct tp_sack, 0).right, 3001);

    char *svg = render(p, true, "crafted <flow> & \"wrap\"\x01\xff\xc3\xa9", "crafted_tsg.svg");
    check_doc(svg);
    CHECK_EQ(count_str(svg, "class=\"rtx\""), 2);
    CHECK(strstr(svg, "crafted &lt;flow&gt; &amp; &quot;wrap&quot;??\xc3\xa9") != NULL);
    CHECK(strstr(svg, "window scale 5") != NULL);
    free(svg);
    svg = render(p, false, NULL, "crafted_cwnd.svg");
    check_doc(svg);
    CHECK(strstr(svg, "no samples") != NULL);
    free(svg);
    tcpplot_free(p);
}

TEST(tcpplot_one_side_without_wscale_leaves_window_unscaled)
{
    struct tern_tcpplot *p = tcpplot_new(HA, 40000, HB, 80, 10);
    REQUIRE(p != NULL);
    uint8_t b[1700];
    /* RFC 7323 s2.2: the receiver sends WS but we did not: no scaling. */
    size_t n = craft(b, true, 5, 0, TERN_TCP_SYN, 65535, 0, -1, NULL, 0);
    tcpplot_packet(p, 1, b, n);
    n = craft(b, false, 9, 6, TERN_TCP_SYN | TERN_TCP_ACK, 1000, 0, 7, NULL, 0);
    tcpplot_packet(p, 2, b, n);
    n = craft(b, false, 10, 6, TERN_TCP_ACK, 1234, 0, -1, NULL, 0);
    tcpplot_packet(p, 3, b, n);
    REQUIRE_EQ(p->s[TP_ACK].n, 2);
    CHECK_EQ(TP_AT(&p->s[TP_ACK], struct tp_ack, 1).win, 1234);
    CHECK_EQ(tcpplot_retransmissions(p), 0);
    CHECK(tcpplot_new(HA, 1, HB, 2, 1) == NULL); /* max_points below 2 */
    tcpplot_free(NULL);
    tcpplot_free(p);
}

/* ---- a scripted loss between two stacks ---- */

/* Stack A sits on a custom device that shows the recorder every frame A
 * sends or receives and drops A's data frames number drop[0..] (counted
 * from 1); behind it, a memory link with 10 ms delay and 10 Mb/s each way. */
struct lossnet {
    struct tern_loop *loop;
    struct tern_device *dev, *ia, *ib;
    struct tern_stack *sa, *sb;
    struct tern_tcpplot *plot;
    const uint32_t *drop;
    size_t ndrop;
    uint32_t data_frames, dropped;
};

static const uint8_t *ip_of(const uint8_t *frame, size_t len, size_t *iplen)
{
    if (len < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00)
        return NULL;
    *iplen = len - 14;
    return frame + 14;
}

static int ln_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct lossnet *n = ctx;
    size_t iplen;
    const uint8_t *ip = ip_of(frame, len, &iplen);
    if (ip) {
        tcpplot_packet(n->plot, tern_loop_now(n->loop), ip, iplen);
        struct tern_ipv4_repr h;
        struct tern_tcp_repr t;
        if (tern_ipv4_parse(ip, iplen, 0, &h) >= 0 && h.proto == TERN_IPPROTO_TCP &&
            tern_tcp_parse(ip + h.hdr_len, h.payload_len, h.src, h.dst, 0, &t) >= 0 &&
            t.payload_len > 0) {
            n->data_frames++;
            for (size_t i = 0; i < n->ndrop; i++)
                if (n->drop[i] == n->data_frames) {
                    n->dropped++;
                    return 0; /* lost on the wire */
                }
        }
    }
    return tern_device_send(n->ia, frame, len);
}

static void ln_rx(void *ctx, struct tern_device *d, const uint8_t *frame, size_t len)
{
    (void)d;
    struct lossnet *n = ctx;
    size_t iplen;
    const uint8_t *ip = ip_of(frame, len, &iplen);
    if (ip)
        tcpplot_packet(n->plot, tern_loop_now(n->loop), ip, iplen);
    tern_device_deliver(n->dev, frame, len);
}

static int ln_open(struct lossnet *n, size_t max_points, const uint32_t *drop, size_t ndrop)
{
    memset(n, 0, sizeof *n);
    n->drop = drop;
    n->ndrop = ndrop;
    n->loop = tern_loop_virtual_new(0);
    struct tern_device *a, *b;
    if (!n->loop || tern_memlink_pair(n->loop, TERN_LINK_ETHERNET, 1500, 4096, &a, &b) < 0)
        return -1;
    struct tern_impair imp = {.delay_us = 10000, .rate_bps = 10000000, .seed = 1};
    n->ia = tern_impair_wrap(n->loop, a, &imp);
    imp.seed = 2;
    n->ib = tern_impair_wrap(n->loop, b, &imp);
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    n->dev = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, ln_send, n);
    n->plot = tcpplot_new(HA, 40000, HB, 80, max_points);
    if (!n->ia || !n->ib || !n->dev || !n->plot)
        return -1;
    tern_device_set_rx(n->ia, ln_rx, n);
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 7;
    n->sa = tern_stack_new(&cfg, n->loop);
    cfg.seed = 8;
    n->sb = tern_stack_new(&cfg, n->loop);
    struct tern_iface_config ca = {.addr = HA, .prefix_len = 24, .up = true, .mac = {2, 0, 0, 0, 0, 1}};
    struct tern_iface_config cb = {.addr = HB, .prefix_len = 24, .up = true, .mac = {2, 0, 0, 0, 0, 2}};
    if (!n->sa || !n->sb || tern_stack_add_iface(n->sa, n->dev, &ca) < 0 ||
        tern_stack_add_iface(n->sb, n->ib, &cb) < 0)
        return -1;
    return 0;
}

static void ln_close(struct lossnet *n)
{
    tern_stack_free(n->sa);
    tern_stack_free(n->sb);
    tern_device_destroy(n->dev);
    tern_device_destroy(n->ia);
    tern_device_destroy(n->ib);
    tern_loop_destroy(n->loop);
    tcpplot_free(n->plot);
}

/* A (port 40000) sends len pattern bytes to B:80, sampling A's socket into
 * the recorder every 1 ms; closes both ends and waits out TIME_WAIT.
 * Returns the bytes B received intact (in order, pattern-checked). */
static size_t ln_transfer(struct lossnet *n, size_t len)
{
    int err;
    struct tern_sock *l = tern_sock_open(n->sb, TERN_SOCK_STREAM, &err);
    struct tern_sock *c = tern_sock_open(n->sa, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr la = {0, 80}, ca = {0, 40000}, pa = {HB, 80};
    if (!l || !c || tern_sock_bind(l, &la) < 0 || tern_sock_listen(l, 4) < 0 ||
        tern_sock_bind(c, &ca) < 0 || tern_sock_connect(c, &pa) != TERN_E_INPROGRESS)
        return 0;
    struct tern_sock *s = NULL;
    size_t sent = 0, got = 0;
    bool ok = true, closed = false;
    uint64_t end = tern_loop_now(n->loop) + 600000000;
    static uint8_t buf[65536];
    while (got < len && tern_loop_now(n->loop) < end) {
        if (!s)
            s = tern_sock_accept(l, NULL, &err);
        while (sent < len) {
            size_t k = len - sent < sizeof buf ? len - sent : sizeof buf;
            for (size_t i = 0; i < k; i++)
                buf[i] = (uint8_t)((sent + i) * 7 + (sent + i) / 251);
            ssize_t w = tern_sock_send(c, buf, k, 0);
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
        if (sent == len && !closed) {
            tern_sock_close(c); /* FIN after the data */
            closed = true;
        }
        tern_loop_run(n->loop, tern_loop_now(n->loop) + 1000);
        struct tern_sock_info info[2];
        if (tern_sock_list(n->sa, info, 2) == 1)
            tcpplot_sample(n->plot, tern_loop_now(n->loop), &info[0]);
        ssize_t r;
        while (s && (r = tern_sock_recv(s, buf, sizeof buf, 0)) > 0) {
            for (ssize_t i = 0; i < r; i++)
                ok = ok && buf[i] == (uint8_t)((got + (size_t)i) * 7 + (got + (size_t)i) / 251);
            got += (size_t)r;
        }
    }
    if (!closed)
        tern_sock_abort(c);
    if (s)
        tern_sock_close(s);
    tern_sock_close(l);
    tern_loop_run(n->loop, tern_loop_now(n->loop) + 200000000); /* TIME_WAIT */
    CHECK_EQ(tern_sock_list(n->sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(n->sb, NULL, 0), 0);
    return ok ? got : 0;
}

TEST(tcpplot_scripted_loss_marks_each_retransmission)
{
    /* Three data frames lost, far apart: each is resent once, so the graph
     * must carry exactly three marks and the stack must agree. */
    static const uint32_t drop[] = {20, 150, 400};
    struct lossnet n;
    REQUIRE(ln_open(&n, 0, drop, 3) == 0);
    CHECK_EQ(ln_transfer(&n, 1000000), 1000000);
    CHECK_EQ(n.dropped, 3);
    const struct tern_stats *st = tern_stack_stats(n.sa);
    if (getenv("TCPPLOT_DEBUG"))
        fprintf(stderr, "data frames %u, stack rtx %llu timeouts %llu, plot rtx %zu\n",
                n.data_frames, (unsigned long long)st->tcp.retransmits,
                (unsigned long long)st->tcp.timeouts, tcpplot_retransmissions(n.plot));
    CHECK_EQ(st->tcp.retransmits, n.dropped);
    CHECK_EQ(tcpplot_retransmissions(n.plot), n.dropped);
    /* 1000000 bytes in MSS-sized segments plus the resent ones (the exact
     * MSS depends on options; at least ceil(1e6 / 1460)). */
    CHECK(n.data_frames >= 685 + 3);
    char *svg = render(n.plot, true, "1 MB, frames 20, 150 and 400 lost", "loss_tsg.svg");
    check_doc(svg);
    CHECK_EQ(count_str(svg, "class=\"rtx\""), n.dropped);
    CHECK(strstr(svg, "class=\"sack\"") != NULL); /* SACK is on by default */
    CHECK(strstr(svg, "class=\"ack\"") != NULL && strstr(svg, "class=\"win\"") != NULL);
    free(svg);
    svg = render(n.plot, false, "1 MB, frames 20, 150 and 400 lost", "loss_cwnd.svg");
    check_doc(svg);
    CHECK(strstr(svg, "class=\"cwnd\" d=\"M") != NULL);
    CHECK(strstr(svg, "class=\"ssthresh-clip\" d=\"M") != NULL); /* infinite at first */
    CHECK(strstr(svg, "class=\"ssthresh\" d=\"M") != NULL);     /* finite after the loss */
    CHECK(strstr(svg, "class=\"rtt\" d=\"M") != NULL);
    /* the cwnd plot marks the same retransmissions (issue 13: it claimed
     * to in the summary and drew none) */
    CHECK_EQ(count_str(svg, "<path class=\"rtx\""), n.dropped);
    free(svg);
    ln_close(&n);
}

TEST(tcpplot_bounded_with_ten_times_max_points)
{
    /* max_points 64 against ~700 segments, ~350 ACK points, ~1000 samples:
     * nothing grows, every kind stays within 64, output still complete. */
    static const uint32_t drop[] = {300};
    struct lossnet n;
    REQUIRE(ln_open(&n, 64, drop, 1) == 0);
    struct tcpplot_counts c0, c;
    tcpplot_counts(n.plot, &c0);
    CHECK_EQ(ln_transfer(&n, 1000000), 1000000);
    tcpplot_counts(n.plot, &c);
    if (getenv("TCPPLOT_DEBUG"))
        fprintf(stderr, "data frames %u, stack rtx %llu to %llu qdrop %llu, plot rtx %zu, seen %zu/%zu/%zu/%zu\n",
                n.data_frames, (unsigned long long)tern_stack_stats(n.sa)->tcp.retransmits, (unsigned long long)tern_stack_stats(n.sa)->tcp.timeouts, (unsigned long long)n.ia->stats.tx_dropped,
                tcpplot_retransmissions(n.plot), c.segments, c.acks, c.sacks, c.samples);
    CHECK_EQ(c.mem, c0.mem);
    CHECK(c.segments >= 640);
    CHECK(c.samples >= 640);
    CHECK(c.segments_stored - c.rtx_stored <= 64);
    CHECK(c.rtx_stored <= 64 && c.acks_stored <= 64 && c.sacks_stored <= 64);
    CHECK(c.samples_stored <= 64 && c.samples_stored >= 32); /* halving keeps >= half */
    CHECK(c.segments_stored - c.rtx_stored >= 32);
    /* Frame 300 is lost with ~250 KB in flight; the receiver keeps only
     * rcvbuf/2 out of order, so more than the one segment is resent. The
     * recorder and the stack must still agree on how many. */
    CHECK(tcpplot_retransmissions(n.plot) >= 1);
    CHECK_EQ(tcpplot_retransmissions(n.plot), tern_stack_stats(n.sa)->tcp.retransmits);
    char *svg = render(n.plot, true, "bounded", "bounded_tsg.svg");
    check_doc(svg);
    CHECK(strstr(svg, "drawn)") != NULL);
    CHECK(svg && strlen(svg) < 40000);
    free(svg);
    svg = render(n.plot, false, "bounded", "bounded_cwnd.svg");
    check_doc(svg);
    CHECK(strstr(svg, "(decimated)") != NULL);
    free(svg);
    ln_close(&n);
}

/* printf("%f") writes "inf", "-inf", "nan" or "-nan" for non-finite
 * numbers: a word "inf" or "nan" not inside a longer word. */
static bool has_nonfinite(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (strncmp(p, "inf", 3) != 0 && strncmp(p, "nan", 3) != 0)
            continue;
        bool before = p > s && ((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'));
        bool after = p[3] >= 'a' && p[3] <= 'z';
        if (!before && !after)
            return true;
    }
    return false;
}

TEST(tcpplot_random_segments_stay_bounded_and_drawable)
{
    /* Arbitrary (valid) segments of the flow both ways: jumps of up to 2^31,
     * any flags, windows, SACK blocks and samples. Nothing may overflow the
     * caps, and the SVG must hold no NaN or infinity. */
    struct tern_tcpplot *p = tcpplot_new(HA, 40000, HB, 80, 16);
    REQUIRE(p != NULL);
    uint8_t b[1700];
    uint32_t seq = (uint32_t)test_rand(), ack = (uint32_t)test_rand();
    for (int i = 0; i < 2000; i++) {
        uint64_t r = test_rand();
        bool out = r & 1;
        uint16_t flags = (uint16_t)((r >> 1) & 0x1f) | TERN_TCP_ACK;
        if ((flags & TERN_TCP_SYN) && (flags & (TERN_TCP_FIN | TERN_TCP_RST)))
            flags &= (uint16_t)~TERN_TCP_SYN;
        seq += (uint32_t)(r >> 8) % ((r & 0x300) ? 3000u : 0x80000000u);
        ack += (uint32_t)(r >> 40) % 3000u;
        uint32_t blk[2] = {ack + 100, ack + 100 + (uint32_t)(r >> 50) % 5000};
        size_t n = craft(b, out, seq, ack, flags, (uint16_t)(r >> 20), (uint32_t)(r >> 32) % 1400,
                         (r & 0x400) ? (int)((r >> 12) % 15) : -1, blk, (r & 0x800) ? 1 : 0);
        tcpplot_packet(p, (uint64_t)i * 997 + ((r >> 60) ? 5 : 0), b, n);
        struct tern_sock_info in = {.cwnd = (uint32_t)(r >> 3), .ssthresh = (r & 0x1000) ? UINT32_MAX : (uint32_t)(r >> 7),
                                    .rtt_us = (uint32_t)(r >> 33)};
        tcpplot_sample(p, (uint64_t)i * 997, &in);
    }
    struct tcpplot_counts c;
    tcpplot_counts(p, &c);
    CHECK(c.segments_stored - c.rtx_stored <= 16 && c.rtx_stored <= 16);
    CHECK(c.acks_stored <= 16 && c.sacks_stored <= 16 && c.samples_stored <= 16);
    CHECK(c.samples >= 1900);
    for (int k = 0; k < 2; k++) {
        char *svg = render(p, k == 0, "random", k ? "random_cwnd.svg" : "random_tsg.svg");
        check_doc(svg);
        CHECK(svg && !has_nonfinite(svg));
        free(svg);
    }
    tcpplot_free(p);
}
