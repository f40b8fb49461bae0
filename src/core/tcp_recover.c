/*
 * tcp_recover.c - a connection's loss recovery: what an ACK means for
 * congestion control and retransmission. Without SACK: RFC 5681 s3.2 fast
 * retransmit and RFC 6582 NewReno fast recovery through tcp_cc's recovery
 * helper. With SACK agreed on both sides (RFC 2018): the RFC 6675
 * conservative SACK-based recovery through tcp_sack's scoreboard - enter
 * on DupThresh SACK-bearing duplicate ACKs or IsLost(HighACK + 1), cwnd =
 * ssthresh, then send by NextSeg() while cwnd - pipe >= SMSS; leave when a
 * cumulative ACK passes RecoveryPoint.
 * Not: the timers (tcp_timer.c) or RTT estimation (tcp_rtt.c); the
 * cumulative ACK bookkeeping (SND.UNA, the send ring) stays in tcp_in.c.
 */
#include "core/tcp_impl.h"

void tcp_rec_start(struct tcp_cb *cb)
{
    tern_rec_init(&cb->rec, cb->iss);
    cb->sack_on = false;
    cb->sack_dups = 0;
    if (cb->sack_ok &&
        tern_tcp_sack_init(&cb->sb, cb->sb_r, TCP_SACK_RANGES, cb->snd_una, cb->mss, 0) == 0)
        cb->sack_on = true;
}

void tcp_rec_sent(struct tcp_cb *cb, uint32_t end)
{
    if (cb->sack_on)
        tern_tcp_sack_on_send(&cb->sb, end);
}

void tcp_rec_set_mss(struct tcp_cb *cb)
{
    tern_cc_set_mss(&cb->cc, cb->mss);
    if (cb->sack_on)
        tern_tcp_sack_set_smss(&cb->sb, cb->mss);
}

void tcp_rec_rto(struct tcp_cb *cb, uint64_t now)
{
    tern_rec_on_rto(&cb->rec, &cb->cc, cb->snd_max, tcp_flight(cb), cb->rtx_count > 1, now);
    if (cb->sack_on)
        tern_tcp_sack_on_rto(&cb->sb); /* RFC 6675 s5.1 */
    cb->sack_dups = 0;
}

static uint32_t new_avail(const struct tcp_cb *cb)
{
    uint32_t queued = (uint32_t)tern_ringbuf_len(&cb->snd);
    uint32_t sent = cb->snd_max - cb->snd_una;
    if (cb->fin_pending && sent)
        sent = sent > queued ? queued : sent; /* the FIN is not data */
    uint32_t unsent = queued > sent ? queued - sent : 0;
    uint32_t room = cb->snd_wnd > sent ? cb->snd_wnd - sent : 0;
    return unsent < room ? unsent : room;
}

/* RFC 6675 s5 step (C): send while cwnd - pipe >= 1 SMSS. */
static void sack_xmit(struct tcp_cb *cb, uint64_t now)
{
    for (int guard = 0; guard < 4096; guard++) {
        uint32_t pipe = tern_tcp_sack_set_pipe(&cb->sb);
        if (cb->cc.cwnd < pipe || cb->cc.cwnd - pipe < cb->mss)
            break;
        struct tern_tcp_sack_seg sg;
        int rule = tern_tcp_sack_next_seg(&cb->sb, new_avail(cb), &sg);
        if (!rule || !sg.len)
            break;
        bool fresh = rule == 2;
        /* Scoreboard first: sent() must see new data as new (C.2-C.4). */
        tern_tcp_sack_sent(&cb->sb, &sg);
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
    if (len < cb->mss && len < (uint32_t)tern_ringbuf_len(&cb->snd) - tcp_flight(cb))
        return;
    uint32_t seq = cb->snd_max;
    tcp_send_data(cb, seq, len, false, now);
    cb->snd_nxt = cb->snd_max;
}

bool tcp_rec_output(struct tcp_cb *cb, uint64_t now)
{
    if (!cb->sack_on || !cb->sb.in_recovery || cb->snd_nxt != cb->snd_max)
        return false;
    sack_xmit(cb, now);
    return true;
}

static void sack_enter(struct tcp_cb *cb, uint64_t now)
{
    struct tern_tcp_sack_seg first;
    /* RFC 6675 s5 (4.2): ssthresh per the algorithm (RFC 5681 (4) for
     * NewReno, RFC 9438 s4.6 for CUBIC), cwnd = ssthresh. */
    cb->cc.ops->on_loss(&cb->cc, tcp_flight(cb), now);
    cb->cc.cwnd = cb->cc.ssthresh;
    cb->rec.recover = cb->snd_max;
    if (tern_tcp_sack_enter_recovery(&cb->sb, &first) < 0)
        return;
    tcp_send_data(cb, first.seq, first.len, true, now); /* (4.3) */
    tcp_arm_rtx(cb, now);
    sack_xmit(cb, now);
}

/* An acceptable ACK (RFC 5961 checks passed). acked: bytes SND.UNA moved
 * (already applied); dup: an RFC 5681 s2 duplicate ACK. */
void tcp_rec_on_ack(struct tcp_cb *cb, const struct tern_tcp_repr *seg, uint32_t acked, bool dup,
                    uint64_t now)
{
    uint32_t ack = seg->ack;
    if (!cb->sack_on) {
        if (acked) {
            unsigned act = tern_rec_on_ack(&cb->rec, &cb->cc, ack, acked, tcp_flight(cb),
                                           tern_rtt_srtt_us(&cb->rtt), now);
            if (cb->snd_una == cb->snd_max)
                cb->t_rtx = 0;
            else if (!(act & TERN_REC_RETRANSMIT) || (act & TERN_REC_RESET_TIMER))
                tcp_arm_rtx(cb, now); /* RFC 6298 s5.3 */
            if (act & TERN_REC_RETRANSMIT) /* RFC 6582 partial ACK */
                tcp_send_data(cb, cb->snd_una, cb->mss, true, now);
        } else if (dup) {
            unsigned act = tern_rec_on_dupack(&cb->rec, &cb->cc, ack, cb->snd_max,
                                              tcp_flight(cb), now);
            if (act & TERN_REC_LIMITED_TX)
                limited_transmit(cb, now);
            if (act & TERN_REC_RETRANSMIT) {
                tcp_send_data(cb, cb->snd_una, cb->mss, true, now);
                tcp_arm_rtx(cb, now);
            }
        }
        return;
    }
    struct tern_tcp_sack_ack_info info;
    tern_tcp_sack_on_ack(&cb->sb, ack, seg->opts.sack, seg->opts.sack_count, &info);
    if (acked) {
        cb->sack_dups = 0;
        bool was = cb->sb.in_recovery;
        /* No window growth from ACKs of a recovery, the last one included. */
        cb->cc.ops->on_ack(&cb->cc, acked, tern_rtt_srtt_us(&cb->rtt), now, was);
        if (was && tern_tcp_sack_recovery_done(&cb->sb)) {
            tern_tcp_sack_exit_recovery(&cb->sb);
            cb->cc.cwnd = cb->cc.ssthresh; /* RFC 5681 s3.2 step 6 */
        }
        if (cb->snd_una == cb->snd_max)
            cb->t_rtx = 0;
        else
            tcp_arm_rtx(cb, now);
    } else if (ack == cb->snd_una && info.newly_sacked && cb->sack_dups < UINT32_MAX) {
        cb->sack_dups++; /* RFC 6675 s2 "duplicate acknowledgment" */
    }
    (void)dup;
    if (cb->sb.in_recovery) {
        tcp_rec_output(cb, now);
        return;
    }
    /* RFC 6675 s5 step (4) trigger; RFC 6582-style guard: not for data sent
     * before an earlier recovery or timeout ended. */
    if (cb->snd_max != cb->snd_una && tern_seq_gt(ack, cb->rec.recover) &&
        (cb->sack_dups >= TERN_TCP_DUPTHRESH || tern_tcp_sack_is_lost(&cb->sb, cb->snd_una)))
        sack_enter(cb, now);
    else if (!acked && info.newly_sacked && cb->sack_dups < TERN_TCP_DUPTHRESH)
        limited_transmit(cb, now);
}
