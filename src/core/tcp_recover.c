/*
 * tcp_recover.c - a connection's loss recovery: what an ACK means for
 * congestion control and retransmission. Without SACK: RFC 5681 s3.2 fast
 * retransmit and RFC 6582 NewReno fast recovery through tcp_cc's recovery
 * helper. With SACK agreed on both sides (RFC 2018): the RFC 6675
 * conservative SACK-based recovery through tcp_sack's scoreboard - enter
 * on DupThresh SACK-bearing duplicate ACKs or IsLost(HighACK + 1), cwnd =
 * ssthresh, then send by NextSeg() while cwnd - pipe >= SMSS; leave when a
 * cumulative ACK passes RecoveryPoint. With SACK, RACK-TLP (RFC 8985,
 * tcp_rack.c) runs beside it: segments RACK marks lost (lost
 * retransmissions included) are retransmitted first by the same sending
 * loop and leave pipe; RACK-detected loss also starts recovery; the
 * reordering timer and the tail loss probe avoid waiting for the RTO.
 * Congestion response (RFC 8985 s9): one reduction per recovery episode,
 * plus one when a loss probe repaired a loss (s7.4).
 * Not: the timers (tcp_timer.c) or RTT estimation (tcp_rtt.c); the
 * cumulative ACK bookkeeping (SND.UNA, the send ring) stays in tcp_in.c.
 */
#include <stdlib.h>

#include "core/tcp_impl.h"

void tcp_rec_start(struct tcp_cb *cb)
{
    rec_init(&cb->rec, cb->iss);
    cb->sack_on = false;
    cb->rack_on = false;
    cb->rto_recovery = false;
    cb->sack_dups = 0;
    cb->prr_on = false;
    cb->t_reo = cb->t_tlp = 0;
    free(cb->undo);
    cb->undo = NULL;
    /* The scoreboard and RACK's table live in the cold block (tcp_cold.c),
     * set up from SND.UNA when it is allocated; RACK's variables start as
     * tcp_rack_init leaves them. RFC 8985 needs SACK: RACK-TLP only when
     * both sides agreed on it. */
    if (cb->sack_ok) {
        cb->sack_on = true;
        cb->rack_on = true;
        tcp_rack_keep_reset(cb);
    }
    tcp_cold_sack_restart(cb);
}

/* The sender's cold block: data goes out with SACK on (nothing is
 * outstanding when there is none, tcp_check). Without memory the
 * connection leaves SACK recovery and RACK-TLP for RFC 6582 NewReno and
 * the RTO, which keep their state in the TCB: safe, as nothing is
 * outstanding yet. */
static bool tx_cold(struct tcp_cb *cb)
{
    if (cb->cold || tcp_cold_get(cb))
        return true;
    cb->sack_on = cb->rack_on = false;
    cb->t_reo = cb->t_tlp = 0;
    return false;
}

void tcp_rec_sent(struct tcp_cb *cb, uint32_t end)
{
    if (cb->sack_on && tx_cold(cb))
        tcp_sack_on_send(&cb->cold->sb, end);
}

void tcp_rec_set_mss(struct tcp_cb *cb)
{
    cc_set_mss(&cb->cc, cb->mss);
    if (cb->sack_on && cb->cold)
        tcp_sack_set_smss(&cb->cold->sb, cb->mss);
    if (cb->rack_on && cb->cold)
        cb->cold->rack.smss = cb->mss;
}

void tcp_rec_rto(struct tcp_cb *cb, uint64_t now)
{
    rec_on_rto(&cb->rec, &cb->cc, cb->snd_max, tcp_flight(cb), cb->rtx_count > 1, now);
    if (cb->sack_on && cb->cold)
        tcp_sack_on_rto(&cb->cold->sb); /* RFC 6675 s5.1 */
    if (cb->rack_on && cb->cold) {
        /* DEVIATION (RFC 8985 s6.3 marks lost only what RACK's timing
         * says is overdue): go-back-N from SND.UNA resends everything not
         * SACKed since the RTO (tcp_timer.c, tcp_output), a superset; RACK
         * keeps timing the resent segments. */
        tcp_rack_on_rto(&cb->cold->rack);
        cb->rto_recovery = true;
        cb->t_reo = cb->t_tlp = 0;
    }
    cb->sack_dups = 0;
    cb->prr_on = false; /* RFC 6937: PRR is for fast recovery; the RTO ends it */
    free(cb->undo);
    cb->undo = NULL;
}

static uint32_t new_avail(const struct tcp_cb *cb)
{
    uint32_t queued = (uint32_t)ringbuf_len(&cb->snd);
    uint32_t sent = cb->snd_max - cb->snd_una;
    if (cb->fin_pending && sent)
        sent = sent > queued ? queued : sent; /* the FIN is not data */
    uint32_t unsent = queued > sent ? queued - sent : 0;
    uint32_t room = cb->snd_wnd > sent ? cb->snd_wnd - sent : 0;
    return unsent < room ? unsent : room;
}

/* What SetPipe() counts for segments RACK marked lost and that were not
 * resent since: RFC 8985 considers them gone from the network. */
static uint32_t rack_lost_pipe(const struct tcp_cb *cb)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < tcp_rack_count(&cb->cold->rack); i++)
        if (tcp_rack_at(&cb->cold->rack, i)->flags & TERN_RACK_LOST)
            sum += tcp_sack_pipe_of(&cb->cold->sb, tcp_rack_start(&cb->cold->rack, i),
                                         tcp_rack_at(&cb->cold->rack, i)->end);
    return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

/* Spurious recovery undo. Detection per RFC 3708 s3: a recovery episode
 * was needless when every segment it retransmitted is reported by a D-SACK
 * (RFC 2883), i.e. the receiver got each twice. Response per RFC 4015 s3
 * (as Linux's tcp_try_undo_dsack): restore the congestion window and slow
 * start threshold saved when the episode began. Only retransmissions the
 * episode sent are counted (a D-SACK for a frame the network duplicated
 * matches none of them); beyond TCP_UNDO_MAX of them no undo is tried (a
 * burst that large is rarely reordering). An RTO cancels the episode's
 * undo (F-RTO, RFC 5682, is not implemented). */
static void undo_begin(struct tcp_cb *cb)
{
    struct tcp_undo *u = cb->undo;
    if (!u)
        u = cb->undo = malloc(sizeof *u); /* no memory: no undo this episode */
    if (!u)
        return;
    u->overflow = u->struck = false;
    u->n = 0;
    u->prior_cwnd = cb->cc.cwnd;
    u->prior_ssthresh = cb->cc.ssthresh;
}

static void undo_note_rtx(struct tcp_cb *cb, uint32_t seq)
{
    struct tcp_undo *u = cb->undo;
    if (!u)
        return;
    for (unsigned i = 0; i < u->n; i++)
        if (u->seq[i] == seq)
            return; /* sent again (a lost retransmission): one D-SACK still clears it */
    if (u->n < TCP_UNDO_MAX)
        u->seq[u->n++] = seq;
    else
        u->overflow = true;
}

static void undo_try(struct tcp_cb *cb)
{
    struct tcp_undo *u = cb->undo;
    if (!u || u->overflow || !u->struck || u->n || cb->cold->sb.in_recovery)
        return;
    if (cb->cc.cwnd < u->prior_cwnd)
        cb->cc.cwnd = u->prior_cwnd;
    if (cb->cc.ssthresh < u->prior_ssthresh)
        cb->cc.ssthresh = u->prior_ssthresh;
    free(u);
    cb->undo = NULL;
    cb->sk->s->stats.tcp.spurious_undos++;
}

static void undo_on_dsack(struct tcp_cb *cb, const struct tern_tcp_sack_block *b)
{
    struct tcp_undo *u = cb->undo;
    if (!u)
        return;
    for (unsigned i = 0; i < u->n; i++) {
        if (tern_seq_geq(u->seq[i], b->left) && tern_seq_lt(u->seq[i], b->right)) {
            u->seq[i] = u->seq[--u->n];
            u->struck = true;
            return;
        }
    }
}

/* RFC 6675 SetPipe(), less what RACK marked lost and was not resent. */
static uint32_t rec_pipe(struct tcp_cb *cb)
{
    uint32_t pipe = tcp_sack_set_pipe(&cb->cold->sb);
    if (cb->rack_on) {
        uint32_t gone = rack_lost_pipe(cb);
        pipe = pipe > gone ? pipe - gone : 0;
    }
    return pipe;
}

/* Proportional Rate Reduction, RFC 6937 s3 with the PRR-SSRB reduction
 * bound (RFC 9937, which obsoletes RFC 6937, keeps the algorithm and this
 * bound; its text could not be consulted here, so the RFC 6937 form is
 * what is implemented): during fast recovery the data sent per ACK follows
 * the data delivered, so that the flight glides from RecoverFS down to
 * ssthresh instead of stopping and then bursting.
 *   on entering recovery: prr_delivered = prr_out = 0,
 *                         RecoverFS = snd.nxt - snd.una
 *   on every ACK:  prr_delivered += DeliveredData
 *     pipe > ssthresh:  sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out
 *     else (SSRB):      sndcnt = MIN(ssthresh - pipe,
 *                                    MAX(prr_delivered - prr_out, DeliveredData) + MSS)
 *     sndcnt = MAX(sndcnt, 0); cwnd = pipe + sndcnt
 *   on any transmission: prr_out += data sent (tcp_send_data)
 * Returns sndcnt. */
static uint32_t prr_sndcnt(struct tcp_cb *cb, uint32_t delivered, uint32_t pipe)
{
    uint64_t pd = (uint64_t)cb->prr_delivered + delivered;
    cb->prr_delivered = pd > UINT32_MAX ? UINT32_MAX : (uint32_t)pd;
    uint64_t ss = cb->cc.ssthresh;
    int64_t sndcnt;
    if (pipe > ss) {
        uint64_t rfs = cb->prr_recover_fs ? cb->prr_recover_fs : 1;
        sndcnt = (int64_t)((cb->prr_delivered * ss + rfs - 1) / rfs) - (int64_t)cb->prr_out;
    } else {
        int64_t lim = (int64_t)cb->prr_delivered - (int64_t)cb->prr_out;
        if (lim < (int64_t)delivered)
            lim = delivered;
        lim += cb->mss;
        sndcnt = (int64_t)(ss - pipe) < lim ? (int64_t)(ss - pipe) : lim;
    }
    return sndcnt > 0 ? (uint32_t)(sndcnt > UINT32_MAX / 2 ? UINT32_MAX / 2 : sndcnt) : 0;
}

static void prr_begin(struct tcp_cb *cb)
{
    cb->prr_on = true;
    cb->prr_delivered = cb->prr_out = 0;
    cb->prr_recover_fs = tcp_flight(cb); /* RecoverFS = snd.nxt - snd.una */
    cb->prr_dup_est = 0;
}

/* NewReno recovery (RFC 6582) with PRR: pipe is FlightSize less what the
 * duplicate ACKs say left the network; cwnd = FlightSize + sndcnt, so
 * that tcp_output (which counts FlightSize) sends sndcnt new bytes - the
 * retransmissions of RFC 6582 were already counted in prr_out. This
 * replaces RFC 5681's inflation and RFC 6582's deflation of cwnd. */
static void prr_reno_ack(struct tcp_cb *cb, uint32_t delivered, bool rtx, uint64_t now)
{
    uint32_t flight = tcp_flight(cb);
    uint32_t pipe = flight > cb->prr_dup_est ? flight - cb->prr_dup_est : 0;
    uint32_t sndcnt = prr_sndcnt(cb, delivered, pipe);
    if (rtx) {
        /* RFC 6937 s3: sndcnt is computed once for this ACK; the
         * retransmission RFC 6582 makes on it (the fast retransmit, or the
         * first unacknowledged segment on a partial ACK) goes regardless
         * but spends it ("prr_out += (data sent) // strictly less than or
         * equal to sndcnt"). Computed after the retransmission, PRR-SSRB's
         * MAX(prr_delivered - prr_out, DeliveredData) + MSS would ignore
         * it and allow one segment more. */
        uint32_t before = cb->prr_out;
        tcp_send_data(cb, cb->snd_una, cb->mss, true, now);
        uint32_t sent = cb->prr_out - before;
        sndcnt = sndcnt > sent ? sndcnt - sent : 0;
    }
    uint64_t c = (uint64_t)flight + sndcnt;
    if (c < cb->mss)
        c = cb->mss;
    cb->cc.cwnd = c > TERN_CC_CWND_MAX ? TERN_CC_CWND_MAX : (uint32_t)c;
}

/* SACK recovery: one ACK's PRR step sets cwnd for sack_xmit. */
static void prr_sack_ack(struct tcp_cb *cb, uint32_t delivered)
{
    uint32_t pipe = rec_pipe(cb);
    uint64_t c = (uint64_t)pipe + prr_sndcnt(cb, delivered, pipe);
    cb->cc.cwnd = c > TERN_CC_CWND_MAX ? TERN_CC_CWND_MAX : (uint32_t)c;
}

/* RFC 6675 s5 step (C): send while cwnd - pipe >= 1 SMSS. With RACK, the
 * segments it marked lost go first (RFC 8985 s6.2: they are retransmitted
 * "as in RFC 6675" - a lost retransmission included), then NextSeg(). */
static void sack_xmit(struct tcp_cb *cb, uint64_t now)
{
    for (int guard = 0; guard < 4096; guard++) {
        uint32_t pipe = rec_pipe(cb);
        if (cb->cc.cwnd < pipe || cb->cc.cwnd - pipe < cb->mss)
            break;
        struct tern_tcp_sack_seg sg;
        if (cb->rack_on &&
            tcp_rack_next_lost(&cb->cold->rack, cb->snd_una, cb->mss, &sg.seq, &sg.len)) {
            sg.rule = 1; /* a retransmission of lost data: HighRxt, pipe (C.2-C.4) */
            tcp_sack_sent(&cb->cold->sb, &sg);
            undo_note_rtx(cb, sg.seq);
            tcp_send_data(cb, sg.seq, sg.len, true, now);
            continue;
        }
        int rule = tcp_sack_next_seg(&cb->cold->sb, new_avail(cb), &sg);
        if (!rule || !sg.len)
            break;
        bool fresh = rule == 2;
        /* Scoreboard first: sent() must see new data as new (C.2-C.4). */
        tcp_sack_sent(&cb->cold->sb, &sg);
        if (!fresh)
            undo_note_rtx(cb, sg.seq);
        tcp_send_data(cb, sg.seq, sg.len, !fresh, now);
        if (fresh && cb->snd_nxt == sg.seq)
            cb->snd_nxt = cb->snd_max;
    }
}

/* RFC 3042 limited transmit: on the first and second duplicate ACK, one
 * new segment if the peer's window allows and FlightSize stays within
 * cwnd + 2*SMSS. */
static void limited_transmit(struct tcp_cb *cb, uint64_t now)
{
    uint32_t avail = new_avail(cb);
    if (!avail || cb->snd_nxt != cb->snd_max ||
        (uint64_t)tcp_flight(cb) + cb->mss > (uint64_t)cb->cc.cwnd + 2u * cb->mss)
        return;
    uint32_t len = avail < cb->mss ? avail : cb->mss;
    if (len < cb->mss && len < (uint32_t)ringbuf_len(&cb->snd) - tcp_flight(cb))
        return;
    uint32_t seq = cb->snd_max;
    tcp_send_data(cb, seq, len, false, now);
    cb->snd_nxt = cb->snd_max;
}

bool tcp_rec_output(struct tcp_cb *cb, uint64_t now)
{
    if (!cb->sack_on || !cb->cold || !cb->cold->sb.in_recovery || cb->snd_nxt != cb->snd_max)
        return false;
    sack_xmit(cb, now);
    return true;
}

static void sack_enter(struct tcp_cb *cb, uint32_t delivered, uint64_t now)
{
    struct tern_tcp_sack_seg first;
    /* RFC 6675 s5 (4.2): ssthresh per the algorithm (RFC 5681 (4) for
     * NewReno, RFC 9438 s4.6 for CUBIC), cwnd = ssthresh. RFC 8985 s9: the
     * same single reduction when RACK detected the loss. */
    undo_begin(cb);
    cb->cc.ops->on_loss(&cb->cc, tcp_flight(cb), now);
    cb->cc.cwnd = cb->cc.ssthresh;
    cb->rec.recover = cb->snd_max;
    cb->t_tlp = 0;
    if (!tern_seq_lt(cb->snd_una, cb->snd_max))
        return;
    /* RFC 6937 s3: the event that starts recovery (an ACK, or RACK's
     * reordering timer with DeliveredData = 0, RFC 8985 s6.3) computes
     * sndcnt first, with prr_out = 0 and the pipe before any
     * retransmission; everything sent in response, the fast retransmit
     * included ("On any data transmission or retransmission: prr_out +=
     * (data sent) // strictly less than or equal to sndcnt"), spends
     * that one sndcnt. Computing it after the fast retransmit would let
     * PRR-SSRB's MAX(prr_delivered - prr_out, DeliveredData) + MSS floor
     * forget the retransmission and send one segment more. */
    prr_begin(cb);
    uint32_t pipe0 = rec_pipe(cb);
    uint32_t sndcnt = prr_sndcnt(cb, delivered, pipe0);
    if (tcp_sack_enter_recovery(&cb->cold->sb, &first) < 0) {
        cb->prr_on = false; /* not reached: SND.UNA < SND.MAX was checked */
        return;
    }
    undo_note_rtx(cb, first.seq);
    /* (4.3): the first retransmission goes even when sndcnt < its size:
     * RFC 9937 s4 forces the fast retransmit when prr_out and sndcnt are
     * both 0 (sndcnt = SMSS), as RFC 6675 (4.3) does. */
    tcp_send_data(cb, first.seq, first.len, true, now);
    tcp_arm_rtx(cb, now);
    uint32_t left = sndcnt > first.len ? sndcnt - first.len : 0;
    uint64_t c = (uint64_t)rec_pipe(cb) + left; /* cwnd = pipe + what sndcnt has left */
    cb->cc.cwnd = c > TERN_CC_CWND_MAX ? TERN_CC_CWND_MAX : (uint32_t)c;
    sack_xmit(cb, now);
}

/* RFC 8985 s7.2: (re)start the PTO after new data or an ACK of new data,
 * unless in fast or RTO recovery, with SACKed segments outstanding
 * ("RACK.segs_sacked": whole segments, as RACK counts them - a partial
 * SACK does not stop the probe), or while a probe episode is open (s7.3:
 * one at a time). */
static bool pto_allowed(const struct tcp_cb *cb)
{
    return cb->rack_on && !cb->cold->sb.in_recovery && !cb->rto_recovery &&
           !tcp_rack_any_sacked(&cb->cold->rack) && !cb->cold->rack.tlp_active &&
           cb->snd_una != cb->snd_max;
}

static void arm_pto(struct tcp_cb *cb, uint64_t now)
{
    cb->t_tlp = 0;
    if (!pto_allowed(cb))
        return;
    uint64_t rto_left = UINT64_MAX;
    if (cb->t_rtx)
        rto_left = cb->t_rtx > now ? cb->t_rtx - now : 0;
    uint64_t pto = tcp_rack_pto(rtt_srtt_us(&cb->rtt), tcp_flight(cb) <= cb->mss,
                                 TERN_RACK_TLP_MAX_ACK_DELAY, rto_left);
    if (pto)
        tcp_deadline(cb, &cb->t_tlp, now + pto);
}

void tcp_rec_data_sent(struct tcp_cb *cb, uint32_t seq, uint32_t end, uint64_t now)
{
    if (!cb->rack_on || !tx_cold(cb))
        return;
    bool fresh = tern_seq_gt(end, cb->cold->rack.snd_max);
    tcp_rack_on_send(&cb->cold->rack, seq, end, now);
    if (fresh && !cb->tlp_sending)
        arm_pto(cb, now);
}

/* RFC 8985 s6.2 step 5 with the reordering timer: returns the segments
 * newly marked lost. */
static uint32_t rack_detect(struct tcp_cb *cb, uint64_t now)
{
    uint32_t segs_sacked = (cb->cold->sb.sacked + cb->mss - 1) / cb->mss;
    uint64_t w = tcp_rack_reo_wnd(&cb->cold->rack, rtt_srtt_us(&cb->rtt),
                                   cb->cold->sb.in_recovery || cb->rto_recovery, segs_sacked,
                                   TERN_TCP_DUPTHRESH);
    uint32_t lost = 0;
    uint64_t left = tcp_rack_detect_loss(&cb->cold->rack, now, w, &lost);
    cb->sk->s->stats.tcp.rack_lost += lost;
    tcp_deadline(cb, &cb->t_reo, left ? now + left : 0);
    return lost;
}

/* May a loss start a new recovery episode? Not for data sent before an
 * earlier recovery or timeout ended (RFC 6582 s3.2 style; recover is
 * HighData + 1, so "SEG.ACK > HighData" reads ack >= recover). */
static bool may_enter(const struct tcp_cb *cb, uint32_t ack)
{
    return cb->snd_max != cb->snd_una && !cb->rto_recovery && tern_seq_geq(ack, cb->rec.recover);
}

/* A state in which data may still be (re)sent. */
static bool sending_state(const struct tcp_cb *cb)
{
    int st = cb->state;
    return cb->rings && (st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT || st == TCP_FIN_WAIT_1 ||
                         st == TCP_CLOSING || st == TCP_LAST_ACK);
}

void tcp_rec_reo_timeout(struct tcp_cb *cb, uint64_t now)
{
    cb->t_reo = 0;
    if (!cb->rack_on || !cb->cold || !sending_state(cb) || cb->snd_una == cb->snd_max)
        return;
    rack_detect(cb, now);
    if (!tcp_rack_any_lost(&cb->cold->rack))
        return;
    if (cb->cold->sb.in_recovery)
        tcp_rec_output(cb, now); /* within the cwnd PRR set at the last ACK */
    else if (may_enter(cb, cb->snd_una))
        sack_enter(cb, 0, now);
}

void tcp_rec_tlp_timeout(struct tcp_cb *cb, uint64_t now)
{
    cb->t_tlp = 0;
    if (!cb->rack_on || !cb->cold || !sending_state(cb) || cb->snd_una == cb->snd_max ||
        cb->cold->sb.in_recovery || cb->rto_recovery ||
        cb->cold->rack.tlp_active || cb->snd_nxt != cb->snd_max)
        return;
    /* RFC 8985 s7.3: "If a previously unsent segment exists AND the
     * receive window allows new data to be sent", send it; else
     * "retransmit the highest-sequence segment sent so far". That is the
     * last MSS of what was sent - [., SND.MAX), not the end of the send
     * queue: data held back by the peer's window was never sent, and a
     * probe made of it would go past the window and move SND.MAX over a
     * hole (tcp_send_room enforces it). */
    uint32_t avail = new_avail(cb);
    bool rtx = avail == 0;
    cb->tlp_sending = true;
    if (!rtx) {
        tcp_send_data(cb, cb->snd_max, avail < cb->mss ? avail : cb->mss, false, now);
        cb->snd_nxt = cb->snd_max;
    } else {
        uint32_t data_end = cb->snd_una + (uint32_t)ringbuf_len(&cb->snd);
        uint32_t sent_end = tern_seq_min(cb->snd_max, data_end);
        uint32_t out = sent_end - cb->snd_una;
        uint32_t len = out < cb->mss ? out : cb->mss;
        tcp_send_data(cb, sent_end - len, len, true, now); /* a sent FIN rides along */
    }
    cb->tlp_sending = false;
    tcp_rack_tlp_sent(&cb->cold->rack, cb->snd_max, rtx);
    cb->sk->s->stats.tcp.tlp_probes++;
    tcp_arm_rtx(cb, now); /* s7.3: the RTO, not another PTO */
}

/* RFC 8985 s6.2 steps 1-4 and s7.4 for one ACK (the scoreboard has it). */
static void rack_on_ack(struct tcp_cb *cb, const struct tern_tcp_repr *seg,
                        const struct tern_tcp_sack_ack_info *info, bool dup, uint64_t now)
{
    struct tern_rack_ack ra = {.now = now, .ack = cb->snd_una, .ranges = cb->cold->sb.r,
                               .nranges = cb->cold->sb.n, .dsack = info->dsack,
                               .snd_nxt = cb->snd_max, .smss = cb->mss,
                               .fin_sent = cb->fin_pending &&
                                           cb->snd_max == cb->snd_una +
                                               (uint32_t)ringbuf_len(&cb->snd) + 1};
    tcp_rack_on_ack(&cb->cold->rack, &ra);
    if (tcp_rack_tlp_on_ack(&cb->cold->rack, seg->ack, info->dsack, info->dsack_block.right,
                             dup && !seg->opts.sack_count)) {
        cb->sk->s->stats.tcp.tlp_recoveries++;
        if (!cb->cold->sb.in_recovery) { /* s7.4: the probe hid a loss: respond once */
            cb->cc.ops->on_loss(&cb->cc, tcp_flight(cb), now);
            cb->cc.cwnd = cb->cc.ssthresh;
        }
    }
}

/* An acceptable ACK (RFC 5961 checks passed). acked: bytes SND.UNA moved
 * (already applied); dup: an RFC 5681 s2 duplicate ACK. */
void tcp_rec_on_ack(struct tcp_cb *cb, const struct tern_tcp_repr *seg, uint32_t acked, bool dup,
                    uint64_t now)
{
    uint32_t ack = seg->ack;
    if (!cb->sack_on) {
        if (acked) {
            unsigned act = rec_on_ack(&cb->rec, &cb->cc, ack, acked, tcp_flight(cb),
                                           rtt_srtt_us(&cb->rtt), now);
            if (cb->snd_una == cb->snd_max)
                cb->t_rtx = 0;
            else if (!(act & TERN_REC_RETRANSMIT) || (act & TERN_REC_RESET_TIMER))
                tcp_arm_rtx(cb, now); /* RFC 6298 s5.3 */
            if (act & TERN_REC_EXITED)
                cb->prr_on = false; /* cwnd per RFC 6582 s3.2 step 5 option (1) */
            /* RFC 6937 s3 without SACK: a cumulative ACK delivered the
             * change in snd.una less what the duplicate ACKs before it
             * were already counted for. */
            uint32_t d = acked > cb->prr_dup_est ? acked - cb->prr_dup_est : 0;
            cb->prr_dup_est = cb->prr_dup_est > acked ? cb->prr_dup_est - acked : 0;
            bool rtx = act & TERN_REC_RETRANSMIT; /* RFC 6582 partial ACK */
            if (cb->prr_on)
                prr_reno_ack(cb, d, rtx, now); /* the retransmission spends sndcnt */
            else if (rtx)
                tcp_send_data(cb, cb->snd_una, cb->mss, true, now);
        } else if (dup) {
            unsigned act = rec_on_dupack(&cb->rec, &cb->cc, ack, cb->snd_max,
                                              tcp_flight(cb), now);
            if (act & TERN_REC_LIMITED_TX)
                limited_transmit(cb, now);
            if (act & TERN_REC_ENTERED) {
                prr_begin(cb);
                /* The DupThresh duplicate ACKs each stand for a segment
                 * that left the network (RFC 5681 s3.2 step 3). */
                cb->prr_dup_est = TERN_REC_DUPTHRESH * cb->mss;
            } else if (cb->prr_on) {
                cb->prr_dup_est += cb->prr_dup_est < tcp_flight(cb) ? cb->mss : 0;
            }
            bool rtx = act & TERN_REC_RETRANSMIT; /* the fast retransmit goes regardless */
            if (cb->prr_on) /* RFC 6937 s3: a duplicate ACK delivered one SMSS */
                prr_reno_ack(cb, cb->mss, rtx, now);
            else if (rtx)
                tcp_send_data(cb, cb->snd_una, cb->mss, true, now);
            if (rtx)
                tcp_arm_rtx(cb, now);
        }
        return;
    }
    /* SACK on: the cold block exists while data is outstanding; an ACK
     * with blocks for a connection with nothing outstanding (a late
     * D-SACK) needs one. Without memory the blocks are ignored: nothing
     * is outstanding, so there is nothing to recover. */
    if (!cb->cold && !tcp_cold_get(cb)) {
            return;
    }
    struct tern_tcp_sack_ack_info info;
    uint32_t sacked_before = cb->cold->sb.sacked;
    tcp_sack_on_ack(&cb->cold->sb, ack, seg->opts.sack, seg->opts.sack_count, &info);
    /* RFC 6937 s3: DeliveredData = change_in(snd.una) + change_in(SACKd). */
    int64_t dd = (int64_t)acked + (int64_t)cb->cold->sb.sacked - (int64_t)sacked_before;
    uint32_t delivered = dd > 0 ? (uint32_t)dd : 0;
    if (info.dsack) {
        cb->sk->s->stats.tcp.dsacks_rx++;
        undo_on_dsack(cb, &info.dsack_block);
        undo_try(cb); /* the last D-SACK often comes after the episode ended */
    }
    if (cb->rack_on) {
        rack_on_ack(cb, seg, &info, dup, now);
        tcp_rtt_ack(cb, seg, acked != 0, now); /* before the RTO is re-armed */
    }
    if (acked) {
        cb->sack_dups = 0;
        bool was = cb->cold->sb.in_recovery;
        /* No window growth from ACKs of a recovery, the last one included. */
        cb->cc.ops->on_ack(&cb->cc, acked, rtt_srtt_us(&cb->rtt), now, was);
        if (was && tcp_sack_recovery_done(&cb->cold->sb)) {
            tcp_sack_exit_recovery(&cb->cold->sb);
            cb->prr_on = false;
            cb->cc.cwnd = cb->cc.ssthresh; /* RFC 5681 s3.2 step 6, RFC 6937 s3 */
            if (cb->rack_on)
                tcp_rack_recovery_done(&cb->cold->rack);
        }
        undo_try(cb); /* after the exit's cwnd = ssthresh: the restore wins */
        if (cb->rto_recovery && tern_seq_geq(cb->snd_una, cb->rec.recover)) {
            cb->rto_recovery = false; /* RFC 8985 s6.2 step 4: RTO recovery over */
            tcp_rack_recovery_done(&cb->cold->rack);
        }
        if (cb->snd_una == cb->snd_max)
            cb->t_rtx = 0;
        else
            tcp_arm_rtx(cb, now);
    } else if (ack == cb->snd_una && info.newly_sacked && cb->sack_dups < UINT32_MAX) {
        cb->sack_dups++; /* RFC 6675 s2 "duplicate acknowledgment" */
    }
    if (cb->rack_on) {
        rack_detect(cb, now);
        /* RFC 8985 s7.2: only an ACK that "cumulatively acknowledges new
         * data" restarts the PTO; any other (a duplicate, a D-SACK) leaves
         * it running, or stops it if it no longer applies (a SACK made
         * RACK.segs_sacked non-zero). */
        if (acked)
            arm_pto(cb, now);
        else if (!pto_allowed(cb))
            cb->t_tlp = 0;
    }
    if (cb->cold->sb.in_recovery) {
        prr_sack_ack(cb, delivered); /* RFC 6937: what this ACK lets us send */
        tcp_rec_output(cb, now);
        return;
    }
    /* RFC 6675 s5 step (4) trigger, or a loss RACK detected (RFC 8985). */
    if (may_enter(cb, ack) &&
        (cb->sack_dups >= TERN_TCP_DUPTHRESH || tcp_sack_is_lost(&cb->cold->sb, cb->snd_una) ||
         (cb->rack_on && tcp_rack_any_lost(&cb->cold->rack))))
        sack_enter(cb, delivered, now);
    else if (!acked && info.newly_sacked && cb->sack_dups < TERN_TCP_DUPTHRESH)
        limited_transmit(cb, now);
}
