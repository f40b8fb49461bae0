/*
 * tcp_out.c - what TCP sends: SYN/SYN-ACK with options (MSS from the route
 * MTU, window scale, SACK-permitted, timestamps), data segmented by the
 * effective MSS under cwnd and the peer's window, Nagle (unless
 * TCP_NODELAY), the receive window with silly window avoidance, ACKs
 * carrying timestamps and SACK blocks, RSTs.
 * Not: when to retransmit (tcp_timer.c, tcp_in.c), segment processing.
 * RFCs: 9293 s3.7 (segmentation), s3.8.6.2 (SWS avoidance both sides),
 * s3.10.7.1 (RST for no connection), 7323 (WS, TS), 2018 (SACK), 896/1122
 * 4.2.3.4 (Nagle), 5681 (cwnd), 6928 (IW).
 * Segments are built in place (docs/architecture.md "Frame buffers"): the
 * payload is copied once, from the send ring straight to its place in the
 * stack's frame buffer, with the checksum summed in the same pass; the TCP
 * header goes in front of it, IP's in front of that.
 */
#include <string.h>

#include "core/tcp_impl.h"
#include "tern/wire/checksum.h"

uint32_t tcp_ts_now(const struct tcp_cb *cb, uint64_t now)
{
    return (uint32_t)(now / 1000) + cb->ts_offset; /* 1 ms ticks, RFC 7323 s5.4 */
}

uint32_t tcp_flight(const struct tcp_cb *cb)
{
    return cb->snd_max - cb->snd_una;
}

/* The free receive space, the window we could offer. Under memory
 * pressure (cfg.tcp_mem_*) no more than TCP_MEM_PRESSURE_MSS segments,
 * and over the hard limit nothing new: the right edge already offered
 * stays where it is (window_field never moves it left, RFC 9293 s3.8.6
 * MUST-NOT-shrink / RFC 7323 s2.4), so the window narrows as data
 * arrives instead of being taken back. */
uint32_t tcp_rcv_wnd(const struct tcp_cb *cb)
{
    if (!cb->rings)
        return 0;
    size_t f = ringbuf_free(&cb->rcv);
    uint32_t maxw = (uint32_t)65535 << cb->rcv_ws;
    struct tern_stack *s = cb->sk->s;
    if (tcp_mem_under_pressure(s)) {
        size_t lim = tcp_mem_over_high(s) ? 0 : (size_t)TCP_MEM_PRESSURE_MSS * cb->rcv_mss;
        if (f > lim)
            f = lim;
    }
    return f > maxw ? maxw : (uint32_t)f;
}

/* RFC 9293 s3.8.6.2.2 (RFC 1122 4.2.3.3) receiver SWS avoidance: "keep
 * RCV.NXT+RCV.WND fixed until the reduction satisfies RCV.BUFF - RCV.USER
 * - RCV.WND >= min(Fr * RCV.BUFF, Eff.snd.MSS)", Fr = 1/2. The MSS is the
 * one we offered (rcv_mss), which bounds the peer's segments. */
static uint32_t rcv_sws_thresh(const struct tcp_cb *cb)
{
    uint32_t thresh = (uint32_t)(cb->rcv.cap / 2);
    if (cb->rcv_mss && cb->rcv_mss < thresh)
        thresh = cb->rcv_mss;
    return thresh;
}

/* RFC 9293 s3.8.6.2.2 receiver SWS avoidance: the right edge advances
 * only by at least min(RCV.BUFF/2, Eff.snd.MSS) - a closed window too:
 * reopening it by less would invite the small segments the rule is
 * there to prevent; it never shrinks (RFC 9293 s3.8.6 MUST-NOT-shrink,
 * SHLD-14). Returns the field value. */
static uint16_t window_field(struct tcp_cb *cb, bool syn)
{
    /* Over the memory budget's hard limit no window grows (tcp_rcv_wnd);
     * a connection whose offer has run low gets room back by pruning
     * out-of-order data parked elsewhere (tcp_mem_reclaim, RFC 2018 s8),
     * so in-order transfers go on while parked bytes are refused - else
     * a zero-window probe, which takes no memory, would never free any. */
    if (!syn && cb->rings && tcp_mem_over_high(cb->sk->s) &&
        (uint32_t)(cb->rcv_adv - cb->rcv_nxt) < TCP_MEM_PRESSURE_MSS * (uint32_t)cb->rcv_mss)
        tcp_mem_reclaim(cb->sk->s, &cb->rcv);
    uint32_t avail = tcp_rcv_wnd(cb);
    if (syn) { /* RFC 7323 s2.2: the window of a SYN is not scaled */
        uint16_t f = (uint16_t)(avail > 65535 ? 65535 : avail);
        if (tern_seq_lt(cb->rcv_adv, cb->rcv_nxt + f))
            cb->rcv_adv = cb->rcv_nxt + f;
        return f;
    }
    uint32_t edge = cb->rcv_nxt + avail;
    if (tern_seq_gt(edge, cb->rcv_adv) && edge - cb->rcv_adv >= rcv_sws_thresh(cb))
        cb->rcv_adv = edge;
    if (tern_seq_lt(cb->rcv_adv, cb->rcv_nxt))
        cb->rcv_adv = cb->rcv_nxt;
    uint32_t w = cb->rcv_adv - cb->rcv_nxt;
    /* Round the scaled value up so the offer is not shrunk by scaling. */
    uint32_t field = (w + (1u << cb->rcv_ws) - 1) >> cb->rcv_ws;
    if (field > 65535)
        field = 65535;
    if (tern_seq_gt(cb->rcv_nxt + (field << cb->rcv_ws), cb->rcv_adv))
        cb->rcv_adv = cb->rcv_nxt + (field << cb->rcv_ws);
    return (uint16_t)field;
}

/* The segment r (payload_len bytes, found in sp[0..nsp-1]) built where IP
 * will send it from, and sent; rc: the connection's route cache or NULL. */
static void send_seg(struct tern_stack *s, uint32_t src, uint32_t dst, struct tern_tcp_repr *r,
                     const struct tern_ringbuf_span *sp, int nsp, struct route_cache *rc,
                     uint64_t now)
{
    uint8_t *seg = ip_tx_payload(s);
    int h = tern_tcp_emit_hdr(r, seg, TERN_IPV4_MAX_LEN - TERN_IPV4_HLEN_MIN);
    if (h < 0)
        return;
    /* The one copy of the payload on the way out, fused with its sum: one
     * pass per span (a span ends where the ring's chunk does, unless the
     * next chunk follows it in memory); tern_csum_add_at places an
     * odd-offset span's sum. */
    uint32_t sum = 0;
    size_t at = 0;
    for (int i = 0; i < nsp && at < r->payload_len; i++) {
        size_t n = sp[i].n < r->payload_len - at ? sp[i].n : r->payload_len - at;
        sum = tern_csum_add_at(sum, tern_csum_copy(seg + h + at, sp[i].p, n, 0), at);
        at += n;
    }
    TERN_ASSERT(at == r->payload_len);
    tern_tcp_set_csum(seg, (size_t)h, at, src, dst, sum);
    struct tern_ip_out o = {.src = src, .dst = dst, .proto = TERN_IPPROTO_TCP, .df = true};
    if (ip_output_rc(s, &o, rc, seg, (size_t)h + at, now) >= 0)
        s->stats.tcp.tx++;
    if (r->flags & TERN_TCP_RST)
        s->stats.tcp.rst_tx++;
}

void tcp_send_raw(struct tern_stack *s, uint32_t src, uint32_t dst, struct tern_tcp_repr *r,
                  uint64_t now)
{
    struct tern_ringbuf_span sp = {(uint8_t *)(uintptr_t)r->payload, r->payload_len};
    send_seg(s, src, dst, r, &sp, r->payload_len ? 1 : 0, NULL, now);
}

/* Builds and sends one segment of the connection. data: payload or NULL.
 * Returns true when SACK blocks were left out for want of room. */
static bool xmit(struct tcp_cb *cb, uint32_t seq, uint16_t flags,
                 const struct tern_ringbuf_span *data, int ndata, size_t len, uint64_t now)
{
    struct tern_sock *sk = cb->sk;
    struct tern_tcp_repr r;
    bool trimmed = false;
    memset(&r, 0, sizeof r);
    r.sport = sk->local.port;
    r.dport = sk->peer.port;
    r.seq = seq;
    r.flags = flags;
    bool syn = flags & TERN_TCP_SYN;
    if (flags & TERN_TCP_ACK)
        r.ack = cb->rcv_nxt;
    if (!(flags & TERN_TCP_RST) || (flags & TERN_TCP_ACK))
        r.win = cb->rings ? window_field(cb, syn) : 0;
    if (syn) {
        r.opts.has_mss = true;
        r.opts.mss = cb->rcv_mss;
        /* Active open offers everything; a SYN-ACK echoes what was offered. */
        bool act = cb->state == TCP_SYN_SENT && !cb->passive;
        if (act || cb->ws_ok) {
            r.opts.has_wscale = true;
            r.opts.wscale = cb->rcv_ws;
        }
        r.opts.sack_perm = act || cb->sack_ok;
        if (act || cb->ts_ok) {
            r.opts.has_ts = true;
            r.opts.ts_val = tcp_ts_now(cb, now);
            r.opts.ts_ecr = cb->ts_ok ? cb->ts_recent : 0;
            tcp_ts_sent(cb, now);
        }
    } else if (!(flags & TERN_TCP_RST)) {
        if (cb->ts_ok) {
            r.opts.has_ts = true;
            r.opts.ts_val = tcp_ts_now(cb, now);
            r.opts.ts_ecr = cb->ts_recent;
            tcp_ts_sent(cb, now);
        }
        if (cb->sack_ok && cb->rings && (flags & TERN_TCP_ACK)) {
            /* SACK blocks (NOP NOP + 2 + 8n bytes) must not push a data
             * segment past the path MTU: the effective MSS only reserved
             * room for timestamps (RFC 9293 s3.7.1: the MSS counts data
             * only, options come out of the MTU). Data at full MSS goes
             * without blocks and a pure ACK follows with them. */
            unsigned maxb = cb->ts_ok ? 3 : 4;
            uint32_t room = len < cb->mss ? cb->mss - (uint32_t)len : 0;
            if (len && room < 12)
                maxb = 0;
            else if (len && (room - 4) / 8 < maxb)
                maxb = (room - 4) / 8;
            struct tern_tcp_ooo *q = cb->cold ? &cb->cold->ooo : NULL; /* none: no blocks */
            uint32_t want = q ? tcp_ooo_ranges(q) + (q->dsack_pending ? 1u : 0u) : 0;
            if (want > (cb->ts_ok ? 3u : 4u))
                want = cb->ts_ok ? 3u : 4u;
            if (maxb && q)
                r.opts.sack_count = (uint8_t)tcp_ooo_sack_blocks(q, r.opts.sack, maxb);
            trimmed = r.opts.sack_count < want;
        }
    }
    r.payload_len = len;
    if (flags & TERN_TCP_ACK) {
        cb->last_ack_sent = cb->rcv_nxt;
        cb->t_dack = 0;
        cb->dack_bytes = 0;
        cb->ack_now = false;
    }
    send_seg(sk->s, sk->local.addr, sk->peer.addr, &r, data, ndata, &cb->rt, now);
    return trimmed;
}

void tcp_send_ack(struct tcp_cb *cb, uint64_t now)
{
    /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with SND.NXT the highest sequence
     * sent: after an RTO, go-back-N rewinds snd_nxt below what the peer
     * already received, and a pure ACK carrying that old SEQ would fail the
     * peer's acceptability test (RFC 9293 s3.10.7.4) and be dropped with
     * its acknowledgment - two ends that both timed out would then never
     * hear each other (Linux likewise keeps snd_nxt at the highest). */
    xmit(cb, tern_seq_gt(cb->snd_max, cb->snd_nxt) ? cb->snd_max : cb->snd_nxt, TERN_TCP_ACK,
         NULL, 0, 0, now);
    tcp_timer_update(cb);
}

void tcp_send_probe(struct tcp_cb *cb, uint64_t now)
{
    /* An old sequence number: the peer must answer with an ACK showing
     * its window (RFC 9293 s3.8.6.1 probe; RFC 1122 4.2.3.6 keepalive). */
    xmit(cb, cb->snd_una - 1, TERN_TCP_ACK, NULL, 0, 0, now);
}

void tcp_send_syn(struct tcp_cb *cb, uint64_t now)
{
    uint16_t f = TERN_TCP_SYN;
    if (cb->state == TCP_SYN_RECEIVED)
        f |= TERN_TCP_ACK;
    xmit(cb, cb->iss, f, NULL, 0, 0, now);
    if (tern_seq_lt(cb->snd_max, cb->iss + 1))
        cb->snd_max = cb->iss + 1;
    cb->snd_nxt = cb->iss + 1;
}

void tcp_send_rst_for(struct tcp_cb *cb, uint64_t now)
{
    /* RFC 9293 s3.10.4 ABORT / RFC 1122 4.2.2.13: <SEQ=SND.NXT><CTL=RST>. */
    xmit(cb, cb->snd_nxt, TERN_TCP_RST | TERN_TCP_ACK, NULL, 0, 0, now);
}

void tcp_send_reset(struct tern_stack *s, const struct tern_ipv4_repr *ip,
                    const struct tern_tcp_repr *seg, uint64_t now)
{
    /* RFC 9293 s3.10.7.1: an incoming RST is discarded; if the ACK bit is
     * off, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; else <SEQ=SEG.ACK>
     * <CTL=RST>. */
    if (seg->flags & TERN_TCP_RST)
        return;
    struct tern_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = seg->dport;
    r.dport = seg->sport;
    if (seg->flags & TERN_TCP_ACK) {
        r.seq = seg->ack;
        r.flags = TERN_TCP_RST;
    } else {
        r.seq = 0;
        r.ack = seg->seq + tern_tcp_seg_len(seg);
        r.flags = TERN_TCP_RST | TERN_TCP_ACK;
    }
    tcp_send_raw(s, ip->dst, ip->src, &r, now);
}

/* The one rule for what may leave the send ring from seq (every sending
 * path goes through tcp_send_data, which applies it): data bytes from seq
 * that may be sent now.
 * - A retransmission (rtx) lies within [SND.UNA, SND.MAX): only data that
 *   was sent before is sent again (RFC 9293 s3.8.1, RFC 6298 s5.4, RFC 6675
 *   NextSeg rules 1, 3, 4, RFC 8985 s7.3); it is not bounded by the offered
 *   window, which may have shrunk under data already sent (RFC 9293
 *   s3.8.6: the sender must tolerate it).
 * - New data (!rtx) may also go up to SND.UNA + SND.WND (RFC 9293 s3.8.6,
 *   RFC 5681 s3.1: never beyond the receiver's window). The persist timer's
 *   zero-window probe carries no data (tcp_send_probe), so no exception.
 * - Nothing starts above SND.MAX: a segment there would leave a hole that
 *   was never sent (the send ring is one contiguous stream).
 * The congestion window, Nagle and sender SWS avoidance are the callers'
 * business (they apply to new data only: RFC 9293 s3.8.6.2.1). */
uint32_t tcp_send_room(const struct tcp_cb *cb, uint32_t seq, bool rtx)
{
    uint32_t data_end = cb->snd_una + (uint32_t)ringbuf_len(&cb->snd);
    uint32_t sent_end = tern_seq_min(cb->snd_max, data_end); /* SND.MAX may count a FIN */
    if (tern_seq_lt(seq, cb->snd_una) || tern_seq_gt(seq, sent_end))
        return 0;
    uint32_t lim = sent_end;
    if (!rtx) {
        uint32_t e = tern_seq_min(data_end, cb->snd_una + cb->snd_wnd);
        if (tern_seq_gt(e, lim))
            lim = e;
    }
    return lim - seq;
}

/* Data segment [seq, seq+len) from the send ring, cut to what
 * tcp_send_room allows; FIN added when it ends where the queued data ends
 * and a FIN is pending. Returns the sequence space sent (data + FIN), 0 if
 * nothing was. */
uint32_t tcp_send_data(struct tcp_cb *cb, uint32_t seq, uint32_t len, bool rtx, uint64_t now)
{
    uint32_t off = seq - cb->snd_una;
    size_t queued = ringbuf_len(&cb->snd);
    uint32_t fin_seq = cb->snd_una + (uint32_t)queued;
    if (off > queued)
        return 0;
    uint32_t room = tcp_send_room(cb, seq, rtx);
    if (len > room)
        len = room;
    struct tern_ringbuf_span sp[TERN_RINGBUF_SPANS];
    int nsp = 0;
    if (len > 65535)
        len = 65535; /* one IP datagram's worth: TERN_RINGBUF_SPANS spans cover it */
    if (len && (nsp = ringbuf_spans(&cb->snd, off, len, sp, TERN_RINGBUF_SPANS)) == 0)
        len = 0;
    uint16_t flags = TERN_TCP_ACK;
    bool fin = cb->fin_pending && !cb->fin_acked && seq + len == fin_seq;
    if (fin)
        flags |= TERN_TCP_FIN;
    if (len && (off + len == queued))
        flags |= TERN_TCP_PSH;
    if (!len && !fin)
        return 0;
    /* RFC 9293 s3.3.1: what we send lies in the send sequence space. A
     * segment starts at or after SND.UNA and no later than SND.MAX (a
     * retransmission, or new data continuing where the sent data ends -
     * never leaving a hole); the part beyond SND.MAX is new data and must
     * fit the offered window, SND.UNA + SND.WND (s3.8.6.2.1 / RFC 5681
     * s3.1), except a 1-byte zero-window probe (s3.8.6.1). A FIN takes
     * no window. */
    TERN_ASSERT(tern_seq_geq(seq, cb->snd_una));
    TERN_ASSERT(tern_seq_leq(seq, cb->snd_max));
    TERN_ASSERT(tern_seq_leq(seq + len, cb->snd_max) ||
                tern_seq_leq(seq + len, cb->snd_una + cb->snd_wnd) ||
                (cb->snd_wnd == 0 && len == 1 && seq == cb->snd_una));
    bool sack_owed = xmit(cb, seq, flags, sp, nsp, len, now);
    cb->data_tx_at = now; /* RFC 5681 s4.1 idle restart (tcp_output) */
    uint32_t end = seq + len + (fin ? 1 : 0);
    if (!cb->ts_ok)
        rtt_on_send(&cb->rtt, end, rtx || tern_seq_lt(seq, cb->snd_max), now);
    if (rtx || tern_seq_lt(seq, cb->snd_max)) {
        cb->rtx_last_at = now;
        cb->retransmits++;
        cb->sk->s->stats.tcp.retransmits++;
    }
    if (cb->prr_on) /* RFC 6937 s3: "prr_out += (data sent)" */
        cb->prr_out = end - seq > UINT32_MAX - cb->prr_out ? UINT32_MAX : cb->prr_out + (end - seq);
    if (tern_seq_gt(end, cb->snd_max)) {
        cb->snd_max = end;
        tcp_rec_sent(cb, end);
    }
    if (!cb->t_rtx)
        tcp_arm_rtx(cb, now);
    tcp_rec_data_sent(cb, seq, end, now); /* RFC 8985 transmit times, PTO */
    if (sack_owed) /* the SACK information the full segment had no room for */
        xmit(cb, cb->snd_max, TERN_TCP_ACK, NULL, 0, 0, now);
    return end - seq;
}

/* The most data one segment may carry: the effective MSS, or with TCP
 * segmentation offload (docs/devices.md) a whole multiple of it up to the
 * route's device's tso_max - a super-segment the device cuts into MSS-sized
 * segments, each of which fits the MTU. Only while our MSS is exactly the
 * one that device's MTU gives (MTU - 40 - timestamps): the device cuts at
 * that size, so a smaller MSS (the peer's option, a lower path MTU,
 * TCP_MAXSEG) keeps MSS-sized segments. To TCP a super-segment is one
 * segment: sequence numbers, SACK and retransmission work on bytes, and a
 * retransmission from snd_nxt may be big again (the loss-recovery paths
 * that send one MSS, tcp_recover.c, tcp_timer.c, stay one MSS). */
static uint32_t seg_max(struct tcp_cb *cb)
{
    struct tern_sock *sk = cb->sk;
    struct tern_stack *s = sk->s;
    uint32_t dst = sk->peer.addr;
    /* The interface ip_output will pick: the same flow key (an ECMP group
     * hashes it); per-packet ECMP may pick any member, so no offload. */
    struct route_key k = {.src = sk->local.addr, .dst = dst, .proto = TERN_IPPROTO_TCP,
                          .sport = sk->local.port, .dport = sk->peer.port};
    int ifindex;
    const struct tern_ip_out o = {.src = sk->local.addr, .dst = dst, .proto = TERN_IPPROTO_TCP};
    if (s->cfg.ecmp == TERN_ECMP_PACKET)
        return cb->mss;
    /* The connection's route cache, when valid, names the interface its
     * last segment left on (ip_output_rc fills it only for routed, not
     * local, destinations; any route/address/ARP change invalidates it):
     * no lookup per tcp_output call. */
    if (cb->rt.gen && route_cache_hit(s, &cb->rt, &o))
        ifindex = cb->rt.ifindex;
    else if (stack_iface_by_addr(s, dst) || ip_is_loopback(dst) ||
             route_lookup_key(s, &k, NULL, &ifindex) != TERN_OK)
        return cb->mss;
    const struct tern_iface *ifc = stack_iface(s, ifindex);
    const struct tern_device *d = ifc ? ifc->dev : NULL;
    uint32_t hdrs = 40u + (cb->ts_ok ? 12u : 0u);
    if (!d || !d->tso_max || ifc->mtu != d->mtu || (uint32_t)cb->mss + hdrs != d->mtu ||
        d->tso_max < hdrs + 2u * cb->mss)
        return cb->mss;
    return (d->tso_max - hdrs) / cb->mss * cb->mss;
}

/* Decide and send: RFC 9293 s3.8.6.2.1 sender SWS avoidance and Nagle
 * (RFC 1122 4.2.3.4), limited by min(cwnd, SND.WND) (RFC 5681 s3.1). */
void tcp_output(struct tcp_cb *cb, uint64_t now)
{
    int st = cb->state;
    bool can_send = st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT || st == TCP_FIN_WAIT_1 ||
                    st == TCP_CLOSING || st == TCP_LAST_ACK;
    if (!can_send || !cb->rings) {
        if (cb->ack_now && st != TCP_CLOSED && st != TCP_LISTEN && st != TCP_SYN_SENT)
            tcp_send_ack(cb, now);
        return;
    }
    if (tcp_rec_output(cb, now)) { /* RFC 6675: NextSeg() decides */
        if (cb->ack_now)
            tcp_send_ack(cb, now);
        tcp_timer_update(cb);
        return;
    }
    bool sent = false;
    /* The user timeout measures a stall of outstanding data (or of a shut
     * window, while the persist timer runs); idle time does not count. */
    if (cb->snd_max == cb->snd_una && !cb->t_persist)
        cb->stall_since = now;
    /* RFC 5681 s4.1: nothing sent for longer than the RTO: the restart
     * window before sending again (tcp_cc.c). */
    if (cb->snd_max == cb->snd_una && cb->data_tx_at &&
        now - cb->data_tx_at > rtt_rto(&cb->rtt)) {
        cc_restart_after_idle(&cb->cc, cc_initial_window(cb->mss, cb->syn_rtx), now);
        cb->data_tx_at = 0; /* once per idle period */
    }
    uint32_t smax = seg_max(cb);
    for (int guard = 0; guard < 65536; guard++) {
        size_t queued = ringbuf_len(&cb->snd);
        uint32_t fin_seq = cb->snd_una + (uint32_t)queued;
        /* Go-back-N (below SND.MAX) with SACK skips what the peer SACKed
         * since the RTO (RFC 6675 s5.1: "utilize all SACK information made
         * available during the loss recovery following an RTO"; the older
         * information was expunged, RFC 2018 s8), and counts it out of the
         * flight (as SetPipe does). A FIN is resent whatever a SACK says. */
        uint32_t gbn_room = UINT32_MAX, gbn_sacked = 0;
        TERN_ASSERT(!cb->sack_on || cb->cold || cb->snd_nxt == cb->snd_max); /* tcp_check */
        if (cb->sack_on && cb->cold && tern_seq_lt(cb->snd_nxt, cb->snd_max)) {
            uint32_t nxt = tcp_sack_skip(&cb->cold->sb, cb->snd_nxt, &gbn_room, &gbn_sacked);
            cb->snd_nxt = tern_seq_min(nxt, tern_seq_max(fin_seq, cb->snd_nxt));
            if (!tern_seq_lt(cb->snd_nxt, cb->snd_max) ||
                gbn_sacked > cb->snd_nxt - cb->snd_una)
                gbn_sacked = 0; /* new data again: the flight is FlightSize */
        }
        uint32_t off = cb->snd_nxt - cb->snd_una;
        bool fin_now = cb->fin_pending && !cb->fin_acked && cb->snd_nxt == fin_seq;
        uint32_t avail = off < queued ? (uint32_t)(queued - off) : 0;
        if (!avail && !fin_now)
            break;
        uint32_t wnd = cb->snd_wnd < cb->cc.cwnd ? cb->snd_wnd : cb->cc.cwnd;
        uint32_t inflight = cb->snd_nxt - cb->snd_una - gbn_sacked;
        uint32_t usable = wnd > inflight ? wnd - inflight : 0;
        uint32_t len = avail < smax ? avail : smax;
        if (len > usable)
            len = usable;
        if (len > gbn_room)
            len = gbn_room; /* up to the next SACKed range */
        /* Below SND.MAX (go-back-N after an RTO, the rest of a segment an
         * ICMP "fragmentation needed" cut down): a retransmission, kept to
         * data sent before. Nagle and sender SWS avoidance are about new
         * data (RFC 9293 s3.8.6.2.1, RFC 1122 4.2.3.4): a retransmission
         * never waits for them. */
        uint32_t sent_end = tern_seq_min(cb->snd_max, fin_seq);
        bool rtx = tern_seq_lt(cb->snd_nxt, sent_end);
        if (rtx && len > sent_end - cb->snd_nxt)
            len = sent_end - cb->snd_nxt;
        /* A super-segment holds whole MSS-sized segments; the tail goes in
         * its own turn, under Nagle and SWS avoidance as without offload. */
        if (len > cb->mss)
            len -= len % cb->mss;
        if (avail) {
            if (!len)
                break; /* window closed: the persist timer takes over */
            /* RFC 1122 4.2.3.4 / RFC 9293 s3.8.6.2.1: when the override
             * timeout (the persist timer, below) expired, send anyway. */
            bool hold = !rtx && !cb->sws_override;
            if (hold && len < cb->mss && len < avail && len < cb->max_snd_wnd / 2)
                break; /* sender SWS: a full segment or half the largest window */
            if (hold && len < cb->mss && len == avail && !cb->nodelay && inflight > 0 &&
                !cb->fin_pending)
                break; /* Nagle: a small segment waits for the outstanding ACK */
        }
        uint32_t used = tcp_send_data(cb, cb->snd_nxt, len, rtx, now);
        if (!used)
            break;
        bool with_fin = cb->fin_pending && !cb->fin_acked && cb->snd_nxt + used == fin_seq + 1;
        cb->snd_nxt += used;
        sent = true;
        cb->sws_override = false;
        if (with_fin)
            break;
    }
    if (!sent && cb->ack_now)
        tcp_send_ack(cb, now);
    /* Data (or a FIN) waits and nothing is in flight, so no ACK will come
     * to release it: a shut window (RFC 9293 s3.8.6.1 zero-window probes),
     * or one the sender SWS rule will not fill (less than an MSS and half
     * the largest window). For the latter RFC 1122 4.2.3.4 and RFC 9293
     * s3.8.6.2.1 require the override timeout, "a segment is sent anyway
     * when it expires"; the persist timer serves as both (as in Linux),
     * so a peer that goes silent behind a small window still meets the
     * retransmission timer and the user timeout. */
    if (ringbuf_len(&cb->snd) > (size_t)(cb->snd_nxt - cb->snd_una) &&
        cb->snd_nxt == cb->snd_una && cb->snd_max == cb->snd_una)
        tcp_arm_persist(cb, now);
    tcp_timer_update(cb);
}

/* After the app read: a window update when the offer grows enough
 * (RFC 9293 s3.8.6.2.2; also RFC 1122 4.2.3.3). */
void tcp_maybe_window_update(struct tcp_cb *cb, uint64_t now)
{
    if (cb->state != TCP_ESTABLISHED && cb->state != TCP_FIN_WAIT_1 &&
        cb->state != TCP_FIN_WAIT_2)
        return;
    uint32_t edge = cb->rcv_nxt + tcp_rcv_wnd(cb);
    uint32_t thresh = (uint32_t)(cb->rcv.cap / 2);
    if (2u * cb->rcv_mss < thresh)
        thresh = 2u * cb->rcv_mss;
    /* A closed window: the peer can only probe it, at backed-off
     * intervals, so the reopening is announced as soon as SWS avoidance
     * lets the edge move (window_field), as Linux does for a zero window. */
    if (tern_seq_leq(cb->rcv_adv, cb->rcv_nxt))
        thresh = rcv_sws_thresh(cb);
    if (tern_seq_gt(edge, cb->rcv_adv) && edge - cb->rcv_adv >= thresh)
        tcp_send_ack(cb, now);
}
