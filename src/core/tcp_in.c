/*
 * tcp_in.c - TCP input: demultiplexing, then RFC 9293 s3.10.7 SEGMENT
 * ARRIVES step by step (CLOSED, LISTEN, SYN-SENT, then the synchronized
 * states), with RFC 5961 (s3 RST, s4 SYN, s5 ACK checks, challenge ACKs
 * rate-limited per connection), RFC 7323 s5.3 PAWS, SYN cookies (RFC 4987
 * via tcp_isn.h) when a listener's SYN queue is full, and ICMP errors
 * (RFC 5927).
 * Not: what is sent in reply (tcp_out.c), timers (tcp_timer.c).
 * Urgent data is ordinary data (RFC 6093 s6; ATTACKS 27; a DEVIATION, see
 * the sixth step). Deliberate deviations from s3.10.7 are marked DEVIATION. ATTACKS 28
 * (SYN+FIN, ...) never reaches here: the codec rejects those segments.
 * LISTEN-state processing and SYN cookies are in tcp_listen.c; what an ACK
 * means for loss recovery (NewReno / RFC 6675 SACK) is in tcp_recover.c.
 * A SYN in TIME-WAIT may reopen the connection (RFC 1122 4.2.2.13 with
 * RFC 6191: timestamps, else sequence numbers, show it is new); any other
 * SYN in a synchronized state gets a challenge ACK (RFC 5961 s4).
 */
#include <string.h>

#include "core/tcp_impl.h"
#include "core/tcp_isn.h"
#include "tern/wire/checksum.h"

/* RFC 5961 s7: challenge ACKs limited per connection (no global counter an
 * off-path attacker could observe, CVE-2016-5696). */
static void challenge_ack(struct tcp_cb *cb, uint64_t now)
{
    struct tern_stack *s = cb->sk->s;
    if (now - cb->chack_start >= 1000000u) {
        cb->chack_start = now;
        cb->chack_count = 0;
    }
    if (cb->chack_count >= TCP_CHACK_PER_S) {
        s->stats.tcp.challenge_limited++;
        return;
    }
    cb->chack_count++;
    s->stats.tcp.challenge_acks++;
    tcp_send_ack(cb, now);
}

/* RFC 1122 4.2.2.13 / RFC 6191 s2: a SYN for a connection in TIME-WAIT
 * starts a new incarnation when it cannot belong to the old one - its
 * TSval is above TS.Recent (or equal, with SEG.SEQ above RCV.NXT), or,
 * without timestamps on either incarnation, SEG.SEQ > RCV.NXT - and a
 * listener takes it. The old connection ends and the listener answers
 * with an ISN above anything the old one sent (SND.MAX + 65535 + 2, the
 * margin Linux uses), so old duplicates cannot fall into the new window.
 * Returns false (nothing done) otherwise: the caller answers as before.
 * DEVIATION: RFC 6191 drops the SYN it does not honor silently; we keep
 * RFC 5961 s4's challenge ACK (the peer learns where we are, and a real
 * client answers it with a RST that ends the TIME-WAIT). */
static bool tw_reopen(struct tcp_cb *cb, const struct tern_tcp_repr *seg, uint64_t now)
{
    struct tern_sock *sk = cb->sk;
    struct tern_stack *s = sk->s;
    if (seg->flags & (TERN_TCP_ACK | TERN_TCP_RST))
        return false;
    bool seq_new = tern_seq_gt(seg->seq, cb->rcv_nxt);
    bool ok;
    if (cb->ts_ok && seg->opts.has_ts)
        ok = tern_seq_gt(seg->opts.ts_val, cb->ts_recent) ||
             (seg->opts.ts_val == cb->ts_recent && seq_new);
    else
        ok = seq_new;
    if (!ok)
        return false;
    struct tern_ipv4_repr ip = {.src = sk->peer.addr, .dst = sk->local.addr,
                                .proto = TERN_IPPROTO_TCP};
    struct tern_sock *lsk = tcp_find_listener(s, sk->local.addr, sk->local.port);
    if (!lsk || !tcp_listen_can_take(lsk))
        return false;
    uint32_t iss = cb->snd_max + 65535u + 2u;
    s->stats.tcp.tw_reopened++;
    tcp_done(cb, 0); /* frees the 4-tuple (and the socket if let go of) */
    tcp_listen_input_iss(lsk, &ip, seg, &iss, now);
    return true;
}

/* s3.10.7.3 SYN-SENT */
static void syn_sent(struct tcp_cb *cb, const struct tern_tcp_repr *seg,
                     const struct tern_ipv4_repr *ip, uint64_t now)
{
    struct tern_stack *s = cb->sk->s;
    bool ack = seg->flags & TERN_TCP_ACK, rst = seg->flags & TERN_TCP_RST;
    /* First: the ACK must acknowledge our SYN: ISS < SEG.ACK =< SND.NXT. */
    if (ack && (tern_seq_leq(seg->ack, cb->iss) || tern_seq_gt(seg->ack, cb->snd_max))) {
        tcp_send_reset(s, ip, seg, now); /* (nothing for a RST, s3.10.7.1 rule) */
        return;
    }
    /* Second: RST - only with an acceptable ACK (RFC 5961 s3: the blind
     * attacker must guess SND.NXT exactly); "connection reset" = refused. */
    if (rst) {
        if (ack)
            tcp_done(cb, TERN_E_CONNREFUSED);
        return;
    }
    /* Third (security) skipped. Fourth: SYN. */
    if (!(seg->flags & TERN_TCP_SYN))
        return;
    /* s3.10.7.3 fourth: RCV.NXT <- SEG.SEQ+1, IRS <- SEG.SEQ, SND.UNA <-
     * SEG.ACK (if there is an ACK); the window of a SYN is never scaled
     * (RFC 7323 s2.2). */
    tcp_seq_init_recv(cb, seg->seq);
    tcp_syn_options(cb, &seg->opts, true, now); /* our SYN offered everything */
    tcp_snd_wnd_set(cb, seg->seq, ack ? seg->ack : cb->snd_una, seg->win);
    if (ack) {
        tcp_seq_syn_acked(cb, seg->ack);
        tcp_rtt_ack(cb, seg, true, now); /* a stale echo of a resent SYN: none */
        tcp_init_conn(cb, now);
        cb->t_rtx = 0;
        cb->rtx_count = 0;
        tcp_set_state(cb, TCP_ESTABLISHED, now);
        /* DEVIATION: s3.10.7.3 continues with the sixth step for text or
         * a FIN riding on the SYN-ACK; we drop them (as Linux does without
         * TCP Fast Open) and the peer retransmits them. */
        cb->ack_now = true;
        tcp_output(cb, now);
        return;
    }
    /* Simultaneous open (s3.5 Figure 7): SYN-RECEIVED, send SYN,ACK - our
     * SYN again, so its ACK no longer times either (RFC 6298 s3, Karn). */
    tcp_set_state(cb, TCP_SYN_RECEIVED, now);
    rtt_on_send(&cb->rtt, cb->iss + 1, true, now);
    tcp_send_syn(cb, now);
    tcp_arm_rtx(cb, now);
    tcp_timer_update(cb);
}

static bool acceptable(const struct tcp_cb *cb, uint32_t seq, uint32_t slen, uint32_t wnd)
{
    /* s3.10.7.4 table: the four cases of SEG.LEN and RCV.WND. */
    uint32_t lo = cb->rcv_nxt, hi = cb->rcv_nxt + wnd;
    if (slen == 0)
        return wnd == 0 ? seq == lo : tern_seq_in(seq, lo, hi);
    /* "If the RCV.WND is zero, no segments will be acceptable, but special
     * allowance should be made to accept valid ACKs, URGs, and RSTs": a
     * segment at exactly RCV.NXT goes on to the RST, SYN and ACK checks
     * (a peer's window probe or data may carry the ACK our sending waits
     * for); its text finds no room in the seventh step and is answered
     * with an ACK there. A FIN alone needs no room and is taken. */
    if (wnd == 0)
        return seq == lo;
    return tern_seq_in(seq, lo, hi) || tern_seq_in(seq + slen - 1, lo, hi);
}

/* The segment passed every check of RFC 9293 s3.10.7.4 up to the ACK
 * field: only now may it change state. RFC 7323 s4.3: TS.Recent from a
 * segment covering Last.ACK.sent (a segment that is then rejected - an
 * ACK of unsent data, an in-window RST or SYN - must not move it, or the
 * next valid segment fails PAWS); keepalive idle time and the "heard from
 * the peer" mark of black-hole detection restart only on an acceptable
 * segment, so forged or stale segments keep neither alive. */
static void accepted(struct tcp_cb *cb, const struct tern_tcp_repr *seg, uint64_t now)
{
    /* An older TSval replaces a TS.Recent gone stale after 24 days idle
     * (s5.5, Appendix D: "save SEG.TSval in variable TS.Recent"). */
    bool ts_stale = now - cb->ts_recent_at > TCP_PAWS_IDLE_US;
    if (cb->ts_ok && seg->opts.has_ts &&
        (tern_seq_geq(seg->opts.ts_val, cb->ts_recent) || ts_stale) &&
        tern_seq_leq(seg->seq, cb->last_ack_sent)) {
        cb->ts_recent = seg->opts.ts_val;
        cb->ts_recent_at = now;
    }
    cb->last_rx = now;
    if (cb->sk->keepalive && (cb->state == TCP_ESTABLISHED || cb->state == TCP_CLOSE_WAIT))
        tcp_arm_keepalive(cb, now);
}

/* Fifth step for ESTABLISHED and later: SND.UNA, the send ring, RTT,
 * congestion control, fast retransmit (RFC 5681 s3.2, RFC 6582), the
 * send window (SND.WL1/WL2 rule). Returns false if the segment is done. */
static bool process_ack(struct tcp_cb *cb, const struct tern_tcp_repr *seg, uint64_t now)
{
    uint32_t ack = seg->ack;
    uint32_t new_wnd = (uint32_t)seg->win << cb->snd_ws;
    /* RFC 9293 s3.10.7.4 fifth step: "If SND.UNA =< SEG.ACK =< SND.NXT, the
     * send window should be updated. If (SND.WL1 < SEG.SEQ or (SND.WL1 =
     * SEG.SEQ and SND.WL2 =< SEG.ACK))" - the WL1/WL2 guard keeps an old,
     * reordered segment from installing an old window. An ACK that
     * advances SND.UNA is newer than anything that set the window, whatever
     * its SEG.SEQ: a retransmission of old data (SEG.SEQ < SND.WL1)
     * carrying the peer's latest ACK and window must update it too, or a
     * window that was closed (or shrunk) stays so until the peer sends new
     * data, which it may never do. So the update is also accepted when the
     * ACK advances SND.UNA (as Linux's tcp_may_update_window does). An ACK
     * below SND.UNA never updates it. */
    bool win_upd = tern_seq_geq(ack, cb->snd_una) &&
                   (tern_seq_gt(ack, cb->snd_una) || tern_seq_lt(cb->snd_wl1, seg->seq) ||
                    (cb->snd_wl1 == seg->seq && tern_seq_leq(cb->snd_wl2, ack)));
    if (tern_seq_gt(ack, cb->snd_una)) {
        uint32_t acked = ack - cb->snd_una;
        size_t queued = ringbuf_len(&cb->snd);
        uint32_t bytes = acked;
        if (cb->fin_pending && !cb->fin_acked && ack == cb->snd_una + (uint32_t)queued + 1) {
            cb->fin_acked = true;
            bytes--;
        }
        if (bytes > queued)
            bytes = (uint32_t)queued;
        ringbuf_consume(&cb->snd, bytes);
        /* RTT (tcp_timer.c); with RACK once the ACK is in its table
         * (tcp_rec_on_ack). */
        if (!cb->rack_on)
            tcp_rtt_ack(cb, seg, true, now);
        /* No rtt_reset_backoff here: RFC 6298 s5 (note after 5.7)
         * collapses a backed-off RTO only "once a new RTT measurement is
         * obtained", and s3 (Karn) forbids a sample from a retransmitted
         * segment: an ACK that advances SND.UNA without a valid sample keeps
         * the backoff. A sample resets it (tcp_rtt.c update). */
        cb->snd_una = ack;
        if (tern_seq_lt(cb->snd_nxt, ack))
            cb->snd_nxt = ack;
        cb->rtx_count = 0;
        cb->ptb_seen = false;
        cb->rto_at = 0;
        cb->stall_since = now;
        tcp_rec_on_ack(cb, seg, acked, false, now);
        sock_notify(cb->sk);
    } else {
        /* RFC 5681 s2 duplicate ACK (or, with SACK, new SACK information). */
        bool dup = ack == cb->snd_una && seg->payload_len == 0 &&
                   !(seg->flags & (TERN_TCP_SYN | TERN_TCP_FIN)) &&
                   cb->snd_max != cb->snd_una && new_wnd == cb->snd_wnd;
        if (dup || (cb->sack_on && seg->opts.sack_count))
            tcp_rec_on_ack(cb, seg, 0, dup, now);
    }
    if (win_upd) {
        tcp_snd_wnd_set(cb, seg->seq, ack, new_wnd);
        if (new_wnd) {
            cb->t_persist = 0;
            cb->persist_count = 0;
        }
    }
    /* State-specific parts of the fifth step. */
    if (cb->fin_acked) {
        switch (cb->state) {
        case TCP_FIN_WAIT_1:
            tcp_set_state(cb, TCP_FIN_WAIT_2, now);
            if (cb->sk->app_closed) /* orphan: don't wait for the peer forever */
                tcp_deadline(cb, &cb->t_2msl, now + 2 * cb->sk->s->cfg.tcp_msl_us);
            break;
        case TCP_CLOSING:
            tcp_enter_time_wait(cb, now);
            return false;
        case TCP_LAST_ACK:
            tcp_done(cb, 0);
            return false;
        default:
            break;
        }
    }
    return true;
}

/* The queue a segment's text goes through. A connection with no cold
 * block (tcp_cold.c) has no range parked: a segment at RCV.NXT that fits
 * the window and the ring only becomes readable - the stack's always
 * empty queue serves it, leaving it empty (tcp_ooo_input parks nothing
 * and notes no duplicate for such a segment). Any other segment needs the
 * connection's own queue: NULL when there is no memory for it. */
static struct tern_tcp_ooo *rx_queue(struct tcp_cb *cb, uint32_t seq, uint32_t len,
                                     uint32_t wnd)
{
    if (cb->cold)
        return &cb->cold->ooo;
    size_t room = ringbuf_free(&cb->rcv);
    uint32_t limit = (size_t)wnd < room ? wnd : (uint32_t)room;
    if (seq == cb->rcv_nxt && len <= limit) {
        struct tern_tcp_ooo *q = &cb->sk->s->tcp->ooo_idle;
        TERN_ASSERT(q->n == 0 && q->bytes == 0);
        q->dsack_pending = false;
        return q;
    }
    struct tcp_cold *c = tcp_cold_get(cb);
    return c ? &c->ooo : NULL;
}

/* Seventh step: segment text into the receive ring / out-of-order queue. */
static void process_text(struct tcp_cb *cb, const struct tern_tcp_repr *seg, uint32_t wnd,
                         uint64_t now)
{
    struct tern_tcp_ooo_result res;
    struct tern_sock *sk = cb->sk;
    /* Bytes place_payload put in the application's waiting buffer: the
     * segment starts at RCV.NXT and, all of it inside the window (RFC 9293
     * s3.10.7.4), is accepted whole, so they are the next bytes of the
     * stream and become the application's. Otherwise (a segment trimmed
     * to the window) they are ignored, and so are its bytes placed in the
     * ring: everything is copied from the segment as usual. The window we
     * advertise is the ring's free space (s3.8.6), which these bytes never
     * took. */
    uint32_t direct = sk->rd_placed;
    sk->rd_placed = 0;
    if (direct && (seg->seq != cb->rcv_nxt || seg->payload_len > wnd)) {
        direct = 0;
        cb->placed = 0;
    }
    sk->rd_got += direct;
    cb->rcv_nxt += direct;
    uint32_t n = (uint32_t)seg->payload_len - direct;
    bool fast = false;
    if (seg->seq + direct == cb->rcv_nxt && !(cb->cold && tcp_ooo_ranges(&cb->cold->ooo)) &&
        n <= wnd - direct && n <= ringbuf_free(&cb->rcv)) {
        /* The in-order fast path: the next bytes expected, all inside the
         * window and the ring, nothing parked out of order - they become
         * readable at once (RFC 9293 s3.10.7.4 seventh step), with the
         * bookkeeping tcp_ooo_input would do for them and none of its
         * range search. Bytes place_payload put in the ring stay there;
         * if the ring cannot take the rest (no chunk), the slow path
         * below decides. */
        uint32_t placed = cb->placed < n ? cb->placed : n;
        if (placed == n ||
            ringbuf_write_at(&cb->rcv, placed, seg->payload + direct + placed, n - placed) ==
                n - placed) {
            cb->placed = 0;
            ringbuf_commit(&cb->rcv, n);
            struct tern_tcp_ooo *st = cb->cold ? &cb->cold->ooo : &sk->s->tcp->ooo_idle;
            st->stats.segs_in++;
            st->stats.bytes_in_order += n;
            memset(&res, 0, sizeof res);
            res.advanced = n;
            fast = true;
        }
    }
    if (!fast) {
        struct tern_tcp_ooo *q = rx_queue(cb, seg->seq + direct, n, wnd - direct);
        if (!q) { /* no memory for the out-of-order queue: dropped, as if lost */
            cb->placed = 0;
            cb->ack_now = true; /* the duplicate ACK tells the sender (RFC 5681 s4.2) */
            if (direct)
                sock_notify(sk);
            return;
        }
        q->placed = cb->placed;
        cb->placed = 0;
        if (tcp_ooo_input(q, &cb->rcv, cb->rcv_nxt, wnd - direct, seg->seq + direct,
                          seg->payload + direct, n, &res) < 0) {
            if (direct)
                sock_notify(sk);
            return;
        }
    }
    cb->rcv_nxt += res.advanced;
    uint32_t advanced = direct + res.advanced;
    if (advanced)
        sock_notify(cb->sk);
    if (res.nomem)
        cb->sk->s->stats.tcp.mem_drops++;
    /* RFC 5681 s4.2 / RFC 9293 s3.8.6.3: ACK at once for out-of-order or
     * duplicate data and when a hole fills; else every second full-sized
     * segment, or after the delayed-ACK timer. A segment larger than our
     * MSS (the kernel's unsplit TSO/GRO segment over an offloading TAP,
     * docs/devices.md) counts as the full-sized segments it holds: it is
     * ACKed at once, not after 40 ms. */
    uint32_t segs = 1;
    if (cb->rcv_mss && seg->payload_len > cb->rcv_mss)
        segs = (uint32_t)((seg->payload_len + cb->rcv_mss - 1) / cb->rcv_mss);
    if (res.queued || res.dup || res.trimmed || res.dropped ||
        (cb->cold && tcp_ooo_ranges(&cb->cold->ooo)) || advanced != seg->payload_len) {
        cb->ack_now = true;
    } else if ((cb->dack_bytes += segs) >= 2) {
        cb->ack_now = true;
    } else if (!cb->t_dack) {
        tcp_deadline(cb, &cb->t_dack, now + TCP_DACK_US); /* any state, FIN-WAIT-2 too */
    }
}

/* The FIN at RCV.NXT (s3.10.7.4 eighth step). Returns false when the
 * connection went to TIME-WAIT (the segment is done). */
static bool take_fin(struct tcp_cb *cb, uint64_t now)
{
    cb->rcv_nxt++;
    cb->fin_rcvd = true;
    cb->fin_ooo = false;
    cb->ack_now = true;
    if (cb->cold)
        tcp_ooo_clear(&cb->cold->ooo);
    ringbuf_trim(&cb->rcv, 0);
    switch (cb->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        tcp_set_state(cb, TCP_CLOSE_WAIT, now);
        break;
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
        if (cb->state == TCP_FIN_WAIT_1 && !cb->fin_acked) {
            tcp_set_state(cb, TCP_CLOSING, now);
            break;
        }
        tcp_send_ack(cb, now); /* our FIN is acknowledged too */
        tcp_enter_time_wait(cb, now);
        return false;
    default:
        break;
    }
    sock_notify(cb->sk);
    return true;
}

/* RFC 2883 s4: data we already have (a spurious retransmission, or an
 * original that lost a race with its retransmission) is reported by a
 * D-SACK block below the cumulative ACK of the ACK a not-acceptable
 * segment gets, so the sender can tell (RFC 8985 s6.2 step 4). Both
 * not-acceptable paths use it: the sequence check, and PAWS (RFC 7323
 * s5.3 R1 - the late original carries the older TSval). No cold block:
 * unreported. */
static void note_dsack(struct tcp_cb *cb, const struct tern_tcp_repr *seg)
{
    uint32_t dend = seg->seq + (uint32_t)seg->payload_len;
    struct tcp_cold *c = NULL;
    if (seg->payload_len && cb->sack_ok && cb->rings && tern_seq_leq(dend, cb->rcv_nxt) &&
        tern_seq_gt(seg->seq, cb->irs) && (c = tcp_cold_get(cb))) {
        c->ooo.dsack.left = seg->seq;
        c->ooo.dsack.right = dend;
        c->ooo.dsack_pending = true;
    }
}

void tcp_established_input(struct tcp_cb *cb, const struct tern_tcp_repr *seg,
                              uint64_t now)
{
    struct tern_sock *sk = cb->sk;
    struct tern_stack *s = sk->s;
    uint16_t fl = seg->flags;
    bool rst = fl & TERN_TCP_RST, syn = fl & TERN_TCP_SYN, fin = fl & TERN_TCP_FIN;
    uint32_t slen = tern_tcp_seg_len(seg);
    uint32_t wnd = tern_seq_gt(cb->rcv_adv, cb->rcv_nxt) ? cb->rcv_adv - cb->rcv_nxt : 0;
    /* Nothing below changes connection state until the segment has passed
     * the sequence, RST, SYN and ACK checks (RFC 9293 s3.10.7.4: a segment
     * that fails one is dropped, at most answered with an ACK; RFC 7323
     * s4.3): see accepted(). */

    /* SYN-RECEIVED: a retransmitted SYN repeats our SYN-ACK. */
    if (cb->state == TCP_SYN_RECEIVED && syn && !(fl & TERN_TCP_ACK) && seg->seq == cb->irs) {
        cb->rtx_last_at = now;
        rtt_on_send(&cb->rtt, cb->iss + 1, true, now); /* Karn: ambiguous now */
        tcp_send_syn(cb, now);
        return;
    }
    if (cb->state == TCP_TIME_WAIT && syn && tw_reopen(cb, seg, now))
        return;
    /* RFC 7323 s5.3 PAWS (R1-R3), before the sequence check: a segment
     * whose TSval is older than TS.Recent is dropped with an ACK (ATTACKS
     * 37), unless TS.Recent is more than 24 days old (s5.5).
     * DEVIATION: RFC 7323 s3.2 says a non-RST segment without a TSopt on a
     * connection that negotiated timestamps SHOULD be dropped; we accept
     * it (as Linux does): it gets no PAWS check and moves no TS.Recent. */
    if (cb->ts_ok && seg->opts.has_ts && !rst && tern_seq_lt(seg->opts.ts_val, cb->ts_recent) &&
        now - cb->ts_recent_at <= TCP_PAWS_IDLE_US) {
        s->stats.tcp.paws_drops++;
        note_dsack(cb, seg); /* R1: "not acceptable", as below */
        tcp_send_ack(cb, now);
        return;
    }
    /* First: sequence number check (acceptability table). */
    if (!acceptable(cb, seg->seq, slen, wnd)) {
        if (!rst) {
            if (cb->state == TCP_TIME_WAIT && fin) /* s3.10.7.4 eighth: restart 2MSL */
                tcp_deadline(cb, &cb->t_2msl, now + 2 * s->cfg.tcp_msl_us);
            note_dsack(cb, seg);
            tcp_send_ack(cb, now); /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
        }
        return; /* an out-of-window RST is dropped silently (RFC 5961 s3.2) */
    }
    /* Second: RST (RFC 5961 s3.2): exactly RCV.NXT resets, anything else in
     * the window earns a challenge ACK (ATTACKS 29). */
    if (rst) {
        if (seg->seq != cb->rcv_nxt) {
            challenge_ack(cb, now);
            return;
        }
        if (cb->state == TCP_SYN_RECEIVED)
            tcp_done(cb, cb->passive ? 0 : TERN_E_CONNREFUSED); /* passive: back to LISTEN */
        else if (cb->state >= TCP_CLOSING)
            tcp_done(cb, 0);
        else
            tcp_done(cb, TERN_E_CONNRESET);
        return;
    }
    /* Third: security. DEVIATION: tern neither sends nor checks the IP
     * security/compartment option (RFC 791/1108), so this check never
     * fails. Fourth: SYN in a synchronized state -> challenge ACK, never a
     * reset (RFC 5961 s4, ATTACKS 30). DEVIATION: s3.10.7.4 returns a
     * passively opened SYN-RECEIVED connection to LISTEN on a SYN; we send
     * the challenge ACK there too, so a blind SYN cannot tear down a
     * half-open connection (a retransmission of the peer's own SYN was
     * answered with our SYN-ACK above). */
    if (syn) {
        challenge_ack(cb, now);
        return;
    }
    /* Fifth: the ACK field. */
    if (!(fl & TERN_TCP_ACK))
        return;
    if (cb->state == TCP_SYN_RECEIVED) {
        /* s3.10.7.4 fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT,
         * then enter ESTABLISHED ... If the segment acknowledgment is not
         * acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST>" (RFC
         * 5961 s5.2's challenge ACK is for synchronized states). */
        if (!tern_seq_gt(seg->ack, cb->snd_una) || tern_seq_gt(seg->ack, cb->snd_max)) {
            struct tern_ipv4_repr ip = {.src = sk->peer.addr, .dst = sk->local.addr};
            tcp_send_reset(s, &ip, seg, now);
            return;
        }
        accepted(cb, seg, now);
        /* "set SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK" */
        tcp_seq_syn_acked(cb, seg->ack);
        tcp_snd_wnd_set(cb, seg->seq, seg->ack, (uint32_t)seg->win << cb->snd_ws);
        tcp_rtt_ack(cb, seg, true, now);
        tcp_init_conn(cb, now);
        cb->t_rtx = 0;
        cb->rtx_count = 0;
        tcp_set_state(cb, TCP_ESTABLISHED, now);
        tcp_child_established(cb);
        /* RFC 9293 s3.10.4 CLOSE in SYN-RECEIVED (a simultaneous open
         * shut for writing): the FIN was "queued for processing after
         * entering ESTABLISHED state" - it goes now (tcp_output below). */
        if (sk->shut_wr && !cb->fin_pending) {
            cb->fin_pending = true;
            tcp_set_state(cb, TCP_FIN_WAIT_1, now);
        }
    } else {
        /* RFC 5961 s5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT, else
         * a challenge ACK and drop (ATTACKS 31); RFC 9293 s3.10.7.4: an
         * ACK of something not yet sent is answered and dropped. */
        if (!tern_seq_in_incl(seg->ack, cb->snd_una - cb->max_snd_wnd, cb->snd_max)) {
            challenge_ack(cb, now);
            return;
        }
        accepted(cb, seg, now);
        if (!process_ack(cb, seg, now))
            return;
    }
    /* Sixth: URG. DEVIATION: RFC 9293 s3.8.5 (MUST-30..33) asks for the
     * urgent pointer to be passed up; RFC 6093 s6 advises applications not
     * to use it, and we treat urgent data as ordinary data in sequence
     * (the urgent pointer is ignored, ATTACKS 27). */
    /* Seventh: segment text. */
    bool in_data_state = cb->state == TCP_ESTABLISHED || cb->state == TCP_FIN_WAIT_1 ||
                         cb->state == TCP_FIN_WAIT_2;
    if (seg->payload_len && in_data_state) {
        if (sk->app_closed && cb->state != TCP_ESTABLISHED) {
            /* RFC 9293 s3.10.4 / RFC 1122 4.2.2.13: nobody will read it. */
            tcp_send_rst_for(cb, now);
            tcp_done(cb, 0);
            return;
        }
        process_text(cb, seg, wnd, now);
    }
    /* Eighth: FIN, taken once everything before it is in; a FIN beyond a
     * hole (inside the window) is remembered until the hole fills. */
    if (fin && cb->state != TCP_CLOSED && !cb->fin_rcvd) {
        uint32_t fseq = seg->seq + (uint32_t)seg->payload_len;
        cb->ack_now = true;
        if (fseq == cb->rcv_nxt) {
            if (!take_fin(cb, now))
                return;
        } else if (tern_seq_gt(fseq, cb->rcv_nxt) && tern_seq_leq(fseq, cb->rcv_adv)) {
            cb->fin_ooo = true;
            cb->fin_ooo_seq = fseq;
        }
    } else if (fin) {
        cb->ack_now = true;
    }
    if (cb->fin_ooo && !cb->fin_rcvd && cb->rcv_nxt == cb->fin_ooo_seq) {
        if (!take_fin(cb, now))
            return;
    } else if (cb->fin_ooo && tern_seq_gt(cb->rcv_nxt, cb->fin_ooo_seq)) {
        cb->fin_ooo = false; /* data went past it: it was not the end */
    }
    tcp_output(cb, now);
}

/* RFC 9293 s3.1: the checksum over the pseudo-header and the segment; 0
 * when it is right. */
static uint16_t tcp_seg_csum(const struct tern_ipv4_repr *ip, const uint8_t *p, size_t len)
{
    uint32_t sum = tern_csum_pseudo_ipv4(ip->src, ip->dst, TERN_IPPROTO_TCP, (uint16_t)len);
    return tern_csum_fold(tern_csum_add(sum, p, len));
}

/* The receive path's one pass over in-order data: the common segment -
 * the next bytes expected on an established connection with nothing
 * parked out of order - has its payload copied into the receive ring's
 * free area, where it would land anyway, while its checksum is summed
 * (RFC 9293 s3.1) - or, when the application has a read waiting
 * (tern_sock_recv_post) and the ring is empty, its first bytes straight
 * into the application's buffer. Returns 1 when the checksum was right and
 * the payload is in place (sk->rd_placed bytes in the application's buffer,
 * then cb->placed in the ring, which tcp_ooo.c skips copying), -1
 * when the checksum was wrong (the bytes copied are in the free area or
 * past rd_got, not readable, and nothing refers to them: harmless), 0 when the
 * segment is not the common case (its checksum is still to verify). */
static int place_payload(struct tcp_cb *cb, const struct tern_ipv4_repr *ip, const uint8_t *p,
                         size_t hlen, const struct tern_tcp_repr *seg, bool csum_ok)
{
    struct tern_ringbuf_span sp[TERN_RINGBUF_SPANS];
    /* Only inside the window we offered: chunks for it are taken even over
     * the memory budget (RING_MUST, RFC 9293 s3.8.6 - the offer stands);
     * anything else takes the slow path, which trims it. */
    int nsp = 0;
    if (!cb || cb->state != TCP_ESTABLISHED || !cb->rings || !seg->payload_len ||
        seg->seq != cb->rcv_nxt || (seg->flags & (TERN_TCP_SYN | TERN_TCP_RST)) ||
        (cb->cold && (tcp_ooo_ranges(&cb->cold->ooo) || cb->cold->ooo.bytes)) ||
        tern_seq_gt(seg->seq + (uint32_t)seg->payload_len, cb->rcv_adv))
        return 0;
    /* A read waiting in the application's buffer (tern_sock_recv_post) with
     * nothing queued before this segment: its first bytes go there. */
    struct tern_sock *sk = cb->sk;
    size_t direct = 0;
    if (sk->rd_buf && sk->rd_got < sk->rd_len && ringbuf_len(&cb->rcv) == 0)
        direct = sk->rd_len - sk->rd_got < seg->payload_len ? sk->rd_len - sk->rd_got
                                                            : seg->payload_len;
    size_t rest = seg->payload_len - direct;
    if (rest && (nsp = ringbuf_free_spans(&cb->rcv, 0, rest, sp, TERN_RINGBUF_SPANS,
                                          RING_MUST)) == 0)
        return 0;
    size_t len = hlen + seg->payload_len;
    uint32_t sum = tern_csum_pseudo_ipv4(ip->src, ip->dst, TERN_IPPROTO_TCP, (uint16_t)len);
    sum = tern_csum_add(sum, p, hlen); /* hlen is a multiple of 4 */
    if (direct) /* past rd_got: not the application's until accepted */
        sum = tern_csum_add_at(sum, tern_csum_copy(sk->rd_buf + sk->rd_got, seg->payload, direct, 0),
                               0);
    size_t at = direct;
    for (int i = 0; i < nsp; i++) {
        sum = tern_csum_add_at(sum, tern_csum_copy(sp[i].p, seg->payload + at, sp[i].n, 0), at);
        at += sp[i].n;
    }
    if (!csum_ok && tern_csum_fold(sum) != 0) { /* csum_ok: the device verified it */
        ringbuf_trim(&cb->rcv, 0); /* nothing parked (above): hold no chunk for it */
        return -1;
    }
    sk->rd_placed = (uint32_t)direct;
    cb->placed = (uint32_t)rest;
    return 1;
}

void tcp_input(void *ctx, const struct tern_ipv4_repr *ip, const uint8_t *p, size_t len,
               int ifindex)
{
    struct tern_stack *s = ctx;
    (void)ifindex;
    uint64_t now = tern_loop_now(s->loop);
    struct tern_tcp_repr seg;
    s->stats.tcp.rx++;
    /* RFC 1122 4.2.3.10: no TCP to broadcast or multicast addresses. */
    if (stack_is_bcast(s, ip->dst) || ip_is_multicast(ip->dst) || stack_is_bcast(s, ip->src) ||
        ip_is_multicast(ip->src)) {
        s->stats.tcp.drop_bad++;
        return;
    }
    /* RFC 9293 s3.1: the checksum is verified before anything acts on the
     * segment - not always in a pass of its own (see place_payload), and not
     * at all when the device already did (an offloading TAP: docs/devices.md;
     * a segment the kernel merged keeps its first part's checksum field). */
    const struct ip_rx *rx = s->cur_rx;
    bool csum_ok = rx && rx->csum_ok && rx->payload == p;
    int rc = tern_tcp_parse(p, len, ip->src, ip->dst, TERN_WIRE_NO_CSUM, &seg);
    if (rc < 0) /* malformed: judged as before, the checksum first */
        rc = tern_tcp_parse(p, len, ip->src, ip->dst, csum_ok ? TERN_WIRE_NO_CSUM : 0, &seg);
    if (rc == TERN_E_BAD_CSUM) {
        s->stats.tcp.drop_csum++;
        return;
    }
    if (rc < 0) { /* ATTACKS 23-28: dropped, no state touched */
        s->stats.tcp.drop_bad++;
        return;
    }
    struct tern_sock *sk =
        ports_find_conn(s, TERN_IPPROTO_TCP, ip->dst, seg.dport, ip->src, seg.sport);
    struct tcp_cb *pcb = sk ? sk->pcb : NULL;
    int placed = place_payload(pcb, ip, p, (size_t)rc, &seg, csum_ok);
    if (placed < 0 || (placed == 0 && !csum_ok && tcp_seg_csum(ip, p, len) != 0)) {
        s->stats.tcp.drop_csum++;
        return;
    }
    if (pcb) {
        struct tcp_cb *cb = pcb;
        if (cb->state == TCP_SYN_SENT)
            syn_sent(cb, &seg, ip, now);
        else if (cb->state != TCP_CLOSED && cb->state != TCP_LISTEN)
            tcp_established_input(cb, &seg, now);
        sk->rd_placed = 0; /* sk is pool memory: safe even if it was released */
        if (sk->pcb == cb) { /* else released */
            cb->placed = 0;
            tcp_cold_trim(cb); /* a clean connection gives its cold block back */
            tcp_check(cb);
        }
        return;
    }
    /* TIME-WAIT whose socket is gone: a record (tcp_tw.c) */
    if (tcp_tw_input(s, ip, &seg, now))
        return;
    /* SYN-RECEIVED in a listener's SYN queue: a record (tcp_req.c) */
    if (tcp_req_input(s, ip, &seg, now))
        return;
    struct tern_sock *lsk = tcp_find_listener(s, ip->dst, seg.dport);
    if (lsk) {
        tcp_listen_input(lsk, ip, &seg, now);
        tcp_check(tcp_cb_of(lsk));
        return;
    }
    /* s3.10.7.1 CLOSED: no connection - a reset. */
    s->stats.tcp.no_conn++;
    tcp_send_reset(s, ip, &seg, now);
}

/* RFC 5927: ICMP errors about our segments. */
void tcp_icmp_error(void *ctx, uint8_t type, uint8_t code, uint16_t next_mtu,
                    const struct tern_icmp_quote *q)
{
    struct tern_stack *s = ctx;
    uint64_t now = tern_loop_now(s->loop);
    if (q->ip.frag_off != 0)
        return;
    struct tern_sock *sk =
        ports_find_conn(s, TERN_IPPROTO_TCP, q->ip.src, q->sport, q->ip.dst, q->dport);
    struct tcp_cb *cb = sk ? sk->pcb : NULL;
    if (!cb && tcp_req_icmp(s, type, code, next_mtu, q))
        return; /* about a SYN-queue record's SYN-ACK (tcp_req.c) */
    /* RFC 5927 s4.1 / ATTACKS 18: the quoted sequence number must be one
     * we sent and is not yet acknowledged: SND.UNA =< seq < SND.NXT. */
    if (!cb || cb->state == TCP_LISTEN || cb->state == TCP_CLOSED ||
        !tern_seq_in(q->tcp_seq, cb->snd_una, cb->snd_max)) {
        s->stats.tcp.icmp_ignored++;
        s->stats.icmp.errors_ignored++;
        return;
    }
    struct icmp_err_class c; /* the table UDP uses too (icmp.c) */
    if (!icmp_classify(type, code, &c)) {
        s->stats.tcp.icmp_ignored++;
        s->stats.icmp.errors_ignored++;
        return;
    }
    if (c.pmtu) {
        /* Fragmentation needed (RFC 1191): a lower MSS, clamped so it never
         * reaches 0 (ATTACKS 19): MTU below 68 counts as 68, MSS >= 64. */
        uint32_t mtu = next_mtu < 68 ? 68 : next_mtu;
        if (!cb->mss_cap || mtu - 40 < cb->mss_cap)
            cb->mss_cap = (uint16_t)(mtu - 40);
        uint32_t mss = tcp_eff_mss(cb);
        cb->ptb_seen = true; /* PMTUD works on this path: no black hole */
        if (mss < cb->mss && cb->state != TCP_SYN_SENT) {
            cb->mss = (uint16_t)mss;
            tcp_rec_set_mss(cb);
            cb->snd_nxt = cb->snd_una; /* resend what was too big */
            tcp_output(cb, now);
            tcp_check(cb);
        }
        return;
    }
    /* RFC 5927 s4.1 / RFC 1122 4.2.3.9: on a synchronized connection every
     * error is soft (remembered, reported if the connection times out). A
     * hard error during SYN-SENT aborts the attempt, as Linux does. */
    if (cb->state == TCP_SYN_SENT && c.hard) {
        tcp_done(cb, c.err);
        return;
    }
    cb->soft_err = c.err;
}
