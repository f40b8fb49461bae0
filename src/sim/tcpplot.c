/*
 * src/sim/tcpplot.c - the TCP plot recorder (tcpplot.h): follows one flow
 * from the sender's side and keeps, within fixed caps, what the plots need:
 * data segments (retransmissions apart), the receiver's ACK and window,
 * its SACK blocks, and samples of the sender's congestion state.
 * Not: the SVG writer (tcpplot_svg.c), a pcap reader, a TCP implementation
 * (a segment is a retransmission when its data overlaps data sent before,
 * the same rule the stack counts by; nothing else is inferred).
 * RFCs: 9293 s3.4 (sequence space, SEG.LEN), 7323 s2 (window scale),
 * 2018 (SACK blocks).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/tcpplot_impl.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/seq.h"
#include "tern/wire/tcp.h"

#define TP_DEFAULT_POINTS 20000
#define TP_MAX_POINTS ((size_t)1 << 24)

static const size_t tp_elem[TP_KINDS] = {
    [TP_SEG] = sizeof(struct tp_seg),   [TP_RTX] = sizeof(struct tp_seg),
    [TP_ACK] = sizeof(struct tp_ack),   [TP_SACK] = sizeof(struct tp_sack),
    [TP_SAMPLE] = sizeof(struct tp_sample),
};

struct tern_tcpplot *tcpplot_new(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                                      size_t max_points)
{
    if (max_points == 0)
        max_points = TP_DEFAULT_POINTS;
    if (max_points < 2 || max_points > TP_MAX_POINTS)
        return NULL;
    struct tern_tcpplot *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->src = src;
    p->dst = dst;
    p->sport = sport;
    p->dport = dport;
    p->mem = sizeof *p;
    for (int k = 0; k < TP_KINDS; k++) {
        p->s[k].elem = tp_elem[k];
        p->s[k].cap = max_points;
        p->s[k].pts = calloc(max_points, tp_elem[k]);
        if (!p->s[k].pts) {
            tcpplot_free(p);
            return NULL;
        }
        p->mem += max_points * tp_elem[k];
    }
    return p;
}

void tcpplot_free(struct tern_tcpplot *p)
{
    if (!p)
        return;
    for (int k = 0; k < TP_KINDS; k++)
        free(p->s[k].pts);
    free(p);
}

/* Offers one point; see struct tp_series. */
static void series_add(struct tp_series *s, const void *pt)
{
    uint64_t i = s->seen++;
    if (i & ((UINT64_C(1) << s->shift) - 1))
        return;
    if (s->n == s->cap) {
        /* Full: keep the even-indexed points (those on the coarser grid)
         * and halve the rate from now on. */
        uint8_t *b = s->pts;
        size_t m = 0;
        for (size_t j = 0; j < s->n; j += 2, m++)
            memmove(b + m * s->elem, b + j * s->elem, s->elem);
        s->n = m;
        s->shift++;
        if (i & ((UINT64_C(1) << s->shift) - 1))
            return;
    }
    memcpy((uint8_t *)s->pts + s->n * s->elem, pt, s->elem);
    s->n++;
}

/* Relative, unwrapped position of seq: within 2^31 of the last reference
 * (RFC 9293 s3.4: comparisons modulo 2^32), which moves with the data. */
static int64_t unwrap(const struct tern_tcpplot *p, uint32_t seq)
{
    return p->ref64 + tern_seq_diff(seq, p->ref32);
}

static void set_ref(struct tern_tcpplot *p, uint32_t seq)
{
    p->ref64 = unwrap(p, seq);
    p->ref32 = seq;
}

static void on_time(struct tern_tcpplot *p, uint64_t t)
{
    if (!p->have_t) {
        p->t_first = p->t_last = t;
        p->have_t = true;
    }
    if (t < p->t_first)
        p->t_first = t;
    if (t > p->t_last)
        p->t_last = t;
}

static void on_sent(struct tern_tcpplot *p, uint64_t t, const struct tern_tcp_repr *r)
{
    if (r->flags & TERN_TCP_SYN) {
        /* The ISN: position 0 (a retransmitted SYN keeps the base). */
        if (!p->have_base) {
            p->have_base = true;
            p->ref32 = r->seq;
            p->ref64 = 0;
        }
        p->syn_seen = true;
        p->snd_ws = r->opts.has_wscale;
    }
    uint32_t len = tern_tcp_seg_len(r);
    if (!p->have_base) {
        /* Joined mid-flow: the first segment seen is position 1. */
        p->have_base = true;
        p->ref32 = r->seq;
        p->ref64 = 1;
    }
    if (len == 0)
        return; /* a pure ACK from the sender: nothing on the graph */
    int64_t start = unwrap(p, r->seq), end = start + len;
    struct tp_seg seg = {t, start, len};
    if (p->have_high && start < p->high) {
        p->rtx++;
        series_add(&p->s[TP_RTX], &seg);
    } else {
        series_add(&p->s[TP_SEG], &seg);
    }
    if (!p->have_high || end > p->high) {
        p->high = end;
        p->have_high = true;
        set_ref(p, r->seq + len);
    }
}

static void on_received(struct tern_tcpplot *p, uint64_t t, const struct tern_tcp_repr *r)
{
    if (r->flags & TERN_TCP_SYN) {
        p->synack_seen = true;
        p->rcv_ws_ok = r->opts.has_wscale;
        p->rcv_ws = r->opts.wscale; /* clamped to 14 by the codec (RFC 7323 s2.3) */
    }
    if (!(r->flags & TERN_TCP_ACK))
        return;
    if (!p->have_base) {
        p->have_base = true;
        p->ref32 = r->ack;
        p->ref64 = 1;
    }
    /* RFC 7323 s2.2: "The window field in a segment where the SYN bit is
     * set (i.e., a <SYN> or <SYN,ACK>) MUST NOT be scaled"; the others are
     * shifted by the receiver's announced scale when both sides sent WS. */
    uint64_t win = r->win;
    if (!(r->flags & TERN_TCP_SYN) && p->syn_seen && p->snd_ws && p->rcv_ws_ok)
        win <<= p->rcv_ws;
    int64_t ack = unwrap(p, r->ack);
    if (!p->have_ack || ack != p->last_ack || win != p->last_win) {
        struct tp_ack a = {t, ack, win};
        series_add(&p->s[TP_ACK], &a);
        p->have_ack = true;
        p->last_ack = ack;
        p->last_win = win;
    }
    for (unsigned i = 0; i < r->opts.sack_count; i++) {
        struct tp_sack b = {t, unwrap(p, r->opts.sack[i].left), unwrap(p, r->opts.sack[i].right)};
        if (b.right > b.left)
            series_add(&p->s[TP_SACK], &b);
    }
}

void tcpplot_packet(struct tern_tcpplot *p, uint64_t t_us, const uint8_t *ip, size_t len)
{
    struct tern_ipv4_repr h;
    if (!p || !ip || tern_ipv4_parse(ip, len, 0, &h) < 0 || h.proto != TERN_IPPROTO_TCP)
        return;
    if (h.mf || h.frag_off)
        return; /* a fragment: not a whole segment */
    bool out = h.src == p->src && h.dst == p->dst;
    bool in = h.src == p->dst && h.dst == p->src;
    if (!out && !in)
        return;
    struct tern_tcp_repr r;
    if (tern_tcp_parse(ip + h.hdr_len, h.payload_len, h.src, h.dst, 0, &r) < 0)
        return; /* a corrupted segment the stack drops too */
    if (out && r.sport == p->sport && r.dport == p->dport) {
        on_time(p, t_us);
        on_sent(p, t_us, &r);
    } else if (in && r.sport == p->dport && r.dport == p->sport) {
        on_time(p, t_us);
        on_received(p, t_us, &r);
    }
}

void tcpplot_sample(struct tern_tcpplot *p, uint64_t t_us, const struct tern_sock_info *in)
{
    if (!p || !in || in->cwnd == 0)
        return; /* no congestion state yet (SYN_SENT) or any more */
    on_time(p, t_us);
    struct tp_sample s = {t_us, in->cwnd, in->ssthresh, in->rtt_us};
    series_add(&p->s[TP_SAMPLE], &s);
}

size_t tcpplot_retransmissions(const struct tern_tcpplot *p)
{
    return p ? p->rtx : 0;
}

void tcpplot_counts(const struct tern_tcpplot *p, struct tcpplot_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!p)
        return;
    out->segments = (size_t)p->s[TP_SEG].seen + (size_t)p->s[TP_RTX].seen;
    out->rtx = (size_t)p->s[TP_RTX].seen;
    out->acks = (size_t)p->s[TP_ACK].seen;
    out->sacks = (size_t)p->s[TP_SACK].seen;
    out->samples = (size_t)p->s[TP_SAMPLE].seen;
    out->segments_stored = p->s[TP_SEG].n + p->s[TP_RTX].n;
    out->rtx_stored = p->s[TP_RTX].n;
    out->acks_stored = p->s[TP_ACK].n;
    out->sacks_stored = p->s[TP_SACK].n;
    out->samples_stored = p->s[TP_SAMPLE].n;
    out->mem = p->mem;
}
