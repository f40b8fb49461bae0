/*
 * tcp_timer.c - TCP's timers, one loop timer per connection armed at the
 * earliest of its deadlines: retransmission (RFC 6298 with tcp_rtt's
 * backoff; SYN and SYN-ACK retries), persist with zero-window probes and
 * backoff (RFC 9293 s3.8.6.1, ATTACKS 36), delayed ACK (RFC 9293
 * s3.8.6.3), TIME_WAIT 2*MSL (s3.4.2; also the orphaned FIN_WAIT_2
 * timeout, as Linux's tcp_fin_timeout), the user timeout (s3.8.4: no
 * forward progress for cfg.tcp_user_timeout_us -> abort), keepalive
 * (RFC 1122 4.2.3.6, idle/interval/count per socket), and with SACK the
 * RFC 8985 RACK reordering timer and tail loss probe (PTO; tcp_recover.c
 * decides what they do).
 * Not: the RTO arithmetic (tcp_rtt.c), congestion response (tcp_cc.c).
 * RFC 4821 s7.7 black-hole detection lowers the MSS after repeated
 * timeouts of full-size segments (blackhole_check).
 * The user timeout is checked when the retransmission or persist timer
 * fires, so a connection is aborted at the first expiry after it passed
 * (within one backed-off RTO, at most 60 s late).
 */
#include "core/tcp_impl.h"

static void set_min(uint64_t *m, uint64_t t)
{
    if (t && (!*m || t < *m))
        *m = t;
}

void tcp_timer_update(struct tcp_cb *cb)
{
    struct tern_loop *loop = cb->sk->s->loop;
    uint64_t m = 0;
    if (cb->state == TCP_CLOSED || cb->state == TCP_TIME_WAIT)
        cb->t_reo = cb->t_tlp = 0; /* tcp_done clears the others */
    set_min(&m, cb->t_rtx);
    set_min(&m, cb->t_dack);
    set_min(&m, cb->t_keep);
    set_min(&m, cb->t_2msl);
    set_min(&m, cb->t_persist);
    set_min(&m, cb->t_reo);
    set_min(&m, cb->t_tlp);
    if (!m) {
        if (tern_timer_armed(&cb->timer))
            tern_timer_cancel(loop, &cb->timer);
        return;
    }
    if (!tern_timer_armed(&cb->timer) || cb->timer.when != m)
        tern_timer_arm(loop, &cb->timer, m);
}

/* Every deadline that is set goes through here, so the loop timer can
 * never be left later than a deadline (a delayed ACK set in a state where
 * tcp_output sends nothing was once never armed). Clearing a deadline
 * needs no update: a timer firing with nothing due just re-arms. */
void tcp_deadline(struct tcp_cb *cb, uint64_t *slot, uint64_t when)
{
    *slot = when;
    tcp_timer_update(cb);
}

void tcp_arm_rtx(struct tcp_cb *cb, uint64_t now)
{
    cb->t_persist = 0;
    tcp_deadline(cb, &cb->t_rtx, now + rtt_rto(&cb->rtt));
}

/* Where an ACK's RTT sample comes from, best first:
 * 1. With RACK (SACK), its transmit-time table: the newly cumulatively
 *    ACKed or SACKed data that was never retransmitted nor SACKed before an
 *    RTO, and none if the ACK also delivers retransmitted data (RFC 6298
 *    s3, Karn; tcp_rack.c picks the sample). As Linux's tcp_ack_update_rtt,
 *    this is preferred to the timestamp echo, and taken on SACK-only ACKs.
 * 2. RFC 7323 s4 timestamps, only on an ACK that advances SND.UNA (s4.2
 *    RTTM rule) and only if the echoed TSval is not older than our latest
 *    retransmission. The receiver echoes TS.Recent, which s4.3 updates only
 *    from in-sequence segments (SEG.SEQ =< Last.ACK.sent): a retransmission
 *    that arrives as a duplicate (its earlier ACKs were lost) is ACKed
 *    with the TSval of the last in-sequence segment, possibly sent minutes
 *    before, and an ACK whose TSecr predates the retransmission may be
 *    for the original (RFC 3522 s2 - Eifel: ambiguous). Those echoes are
 *    exactly the ones that cannot say which transmission is measured, the
 *    premise of RFC 6298 s3's timestamp exception, so they give no sample.
 * 3. Without timestamps, Karn's timed segment (tcp_rtt.c). */
void tcp_rtt_ack(struct tcp_cb *cb, const struct tern_tcp_repr *seg, bool advanced, uint64_t now)
{
    if (cb->rack_on && cb->cold && cb->cold->rack.ack_rtt != UINT64_MAX) {
        rtt_sample(&cb->rtt, cb->cold->rack.ack_rtt);
        if (cb->rtt.timing && advanced && tern_seq_geq(seg->ack, cb->rtt.timed_end))
            cb->rtt.timing = false; /* measured already: no later, stale Karn sample */
        return;
    }
    if (!advanced)
        return;
    if (!cb->ts_ok) {
        rtt_on_ack(&cb->rtt, seg->ack, now);
        return;
    }
    if (!seg->opts.has_ts || !seg->opts.ts_ecr)
        return;
    if (cb->rtx_last_at && tern_seq_lt(seg->opts.ts_ecr, tcp_ts_now(cb, cb->rtx_last_at)))
        return;
    rtt_sample_ts(&cb->rtt, tcp_ts_now(cb, now), seg->opts.ts_ecr, 1000, tcp_flight(cb),
                       cb->mss);
}

void tcp_arm_persist(struct tcp_cb *cb, uint64_t now)
{
    if (cb->t_persist || cb->t_rtx)
        return;
    uint64_t d = rtt_rto(&cb->rtt) << (cb->persist_count < 16 ? cb->persist_count : 16);
    if (d > TCP_WIN_MAX_PROBE_US)
        d = TCP_WIN_MAX_PROBE_US;
    tcp_deadline(cb, &cb->t_persist, now + d);
}

void tcp_arm_keepalive(struct tcp_cb *cb, uint64_t now)
{
    cb->keep_probes = 0;
    cb->keep_last = now;
    tcp_deadline(cb, &cb->t_keep,
                 cb->sk->keepalive ? now + (uint64_t)cb->keepidle_s * 1000000u : 0);
}

/* RFC 1122 4.2.3.6: the keep-alive interval "MUST be configurable" - and
 * a new value counts at once, not after the next segment re-arms the
 * timer (as Linux's TCP_KEEPIDLE): the running timer is moved to the new
 * idle time after the last time it was (re)started (idle), or to the new
 * interval after the last probe (probing). Never into the past: a time
 * already passed fires now. TCP_KEEPCNT needs nothing: on_keepalive reads
 * it each time. */
void tcp_keepalive_retime(struct tcp_cb *cb, bool idle, uint64_t now)
{
    if (!cb->t_keep || !cb->sk->keepalive ||
        (cb->state != TCP_ESTABLISHED && cb->state != TCP_CLOSE_WAIT))
        return;
    if (idle != (cb->keep_probes == 0))
        return; /* the other phase's value: used when that phase comes */
    uint64_t at = cb->keep_last +
                  (uint64_t)(idle ? cb->keepidle_s : cb->keepintvl_s) * 1000000u;
    tcp_deadline(cb, &cb->t_keep, at > now ? at : now);
}

void tcp_tw_unlink(struct tcp_cb *cb)
{
    if (!cb->on_tw)
        return;
    cb->on_tw = false;
    cb->sk->s->tcp->tw_full--;
}

/* RFC 9293 s3.6.1: TIME-WAIT for 2*MSL. A connection whose socket the app
 * has let go of (and not a child waiting to be accepted) becomes a small
 * record at once (tcp_tw.c) - nothing is left to send; else the TCB
 * waits, and becomes a record when the app closes it (tcp_sock.c). */
void tcp_enter_time_wait(struct tcp_cb *cb, uint64_t now)
{
    struct tern_stack *s = cb->sk->s;
    cb->state = TCP_TIME_WAIT;
    cb->t_rtx = cb->t_persist = cb->t_keep = cb->t_dack = cb->t_reo = cb->t_tlp = 0;
    cb->t_2msl = now + 2 * s->cfg.tcp_msl_us;
    if (!cb->on_tw) {
        cb->on_tw = true;
        s->tcp->tw_full++;
    }
    if (cb->sk->app_closed && cb->parent == SOCK_NIL && tcp_tw_take(cb, now))
        return;
    sock_notify(cb->sk);
    tcp_timer_update(cb);
}

static bool user_timeout(struct tcp_cb *cb, uint64_t now)
{
    uint64_t ut = cb->sk->s->cfg.tcp_user_timeout_us;
    return now - cb->stall_since >= ut;
}

/* RFC 4821 s7.7 (full-stop timeout) with Linux's tcp_mtu_probing=1
 * policy: when full-size segments time out again and again and no ICMP
 * "fragmentation needed" came back (RFC 2923 s2.1: a PMTUD black hole - a
 * router that drops DF packets silently, or an ICMP filter), the path MTU
 * is suspect: the second consecutive RTO of a segment of len == MSS with
 * nothing received from the peer since the previous RTO, and the fourth,
 * lower the effective MSS one step, to 1024 and then 536 bytes (less the
 * timestamp option; as a cap in tcp_eff_mss), never below TCP_MIN_EFF_MSS. Heavy random loss that
 * is not about size costs at most those steps. DEVIATION: no probing back
 * up (RFC 4821 s7.2 search); the smaller MSS stays for the connection. */
static const uint16_t blackhole_steps[] = {1024, 536};

static void blackhole_check(struct tcp_cb *cb, size_t queued, uint64_t now)
{
    /* Nothing at all from the peer since the previous RTO: what we sent
     * since then (full-size) went nowhere. */
    bool quiet = cb->rto_at && cb->last_rx < cb->rto_at;
    cb->rto_at = now;
    if (cb->rtx_count < TCP_BLACKHOLE_RTOS || (cb->rtx_count - TCP_BLACKHOLE_RTOS) % 2 ||
        !quiet || cb->ptb_seen || queued < cb->mss)
        return;
    for (size_t i = 0; i < sizeof blackhole_steps / sizeof blackhole_steps[0]; i++) {
        uint16_t old_cap = cb->mss_cap;
        if (!cb->mss_cap || blackhole_steps[i] < cb->mss_cap)
            cb->mss_cap = blackhole_steps[i];
        uint32_t m = tcp_eff_mss(cb);
        if (m >= cb->mss) {
            cb->mss_cap = old_cap; /* no lower: try the next step */
            continue;
        }
        cb->mss = (uint16_t)m;
        tcp_rec_set_mss(cb);
        cb->sk->s->stats.tcp.blackhole_mss_downs++;
        return;
    }
}

static void on_rtx(struct tcp_cb *cb, uint64_t now)
{
    struct tern_stack *s = cb->sk->s;
    cb->t_rtx = 0;
    s->stats.tcp.timeouts++;
    if (cb->state == TCP_SYN_SENT || cb->state == TCP_SYN_RECEIVED) {
        ++cb->rtx_count;
        if (now - cb->syn_at >= TCP_SYN_R2_US) { /* RFC 9293 s3.8.3 R2 (tcp_impl.h) */
            tcp_done(cb, cb->soft_err ? cb->soft_err : TERN_E_TIMEDOUT);
            return;
        }
        cb->syn_rtx = true;
        cb->rtx_last_at = now;
        rtt_backoff(&cb->rtt);
        cb->retransmits++;
        s->stats.tcp.retransmits++;
        tcp_send_syn(cb, now);
        tcp_arm_rtx(cb, now);
        return;
    }
    if (cb->snd_una == cb->snd_max)
        return; /* nothing outstanding */
    if (++cb->rtx_count > TCP_RETRIES2 || user_timeout(cb, now)) {
        tcp_send_rst_for(cb, now);
        tcp_done(cb, cb->soft_err ? cb->soft_err : TERN_E_TIMEDOUT);
        return;
    }
    /* RFC 6298 s5.4-5.6: retransmit the earliest segment, back off, restart;
     * RFC 5681 s3.1 / RFC 6582 s3.2 step 6 through tcp_cc. Go-back-N from
     * SND.UNA within the (now one-segment) window. */
    tcp_rec_rto(cb, now);
    rtt_backoff(&cb->rtt);
    cb->snd_nxt = cb->snd_una;
    blackhole_check(cb, ringbuf_len(&cb->snd), now);
    /* The first segment again: what was sent of [SND.UNA, SND.UNA + MSS)
     * (tcp_send_room: never data beyond SND.MAX, which may lie past the
     * window), with the FIN if it was sent and is the last. */
    cb->snd_nxt = cb->snd_una + tcp_send_data(cb, cb->snd_una, cb->mss, true, now);
    tcp_arm_rtx(cb, now);
}

static void on_persist(struct tcp_cb *cb, uint64_t now)
{
    cb->t_persist = 0;
    if (cb->snd_wnd != 0 || ringbuf_len(&cb->snd) == 0) {
        /* The window is open but sender SWS avoidance held the data: the
         * override timeout expired (RFC 1122 4.2.3.4, RFC 9293
         * s3.8.6.2.1): send what the window allows now. */
        cb->persist_count = 0;
        cb->sws_override = true;
        tcp_output(cb, now);
        cb->sws_override = false;
        return;
    }
    /* ATTACKS 36: a window that stays shut ends by the user timeout. */
    if (user_timeout(cb, now)) {
        tcp_send_rst_for(cb, now);
        tcp_done(cb, TERN_E_TIMEDOUT);
        return;
    }
    tcp_send_probe(cb, now);
    cb->persist_count++;
    tcp_arm_persist(cb, now);
}

static void on_keepalive(struct tcp_cb *cb, uint64_t now)
{
    cb->t_keep = 0;
    if (!cb->sk->keepalive ||
        (cb->state != TCP_ESTABLISHED && cb->state != TCP_CLOSE_WAIT))
        return;
    if (cb->keep_probes >= cb->keepcnt) {
        tcp_send_rst_for(cb, now);
        tcp_done(cb, TERN_E_TIMEDOUT);
        return;
    }
    tcp_send_probe(cb, now);
    cb->keep_probes++;
    cb->keep_last = now;
    tcp_deadline(cb, &cb->t_keep, now + (uint64_t)cb->keepintvl_s * 1000000u);
}

void tcp_timer_fn(struct tern_timer *t, void *arg)
{
    struct tcp_cb *cb = arg;
    (void)t;
    struct tern_stack *s = cb->sk->s;
    uint64_t now = tern_loop_now(s->loop);
    uint32_t idx = cb->sk->idx;
    if (cb->t_2msl && cb->t_2msl <= now) {
        cb->t_2msl = 0;
        tcp_done(cb, 0); /* TIME_WAIT over, or orphaned FIN_WAIT_2 given up */
        return;
    }
    if (cb->t_dack && cb->t_dack <= now) {
        cb->t_dack = 0;
        cb->ack_now = true;
        tcp_output(cb, now);
    }
    /* RFC 8985: the reordering timer and the probe run before the RTO; a
     * probe re-arms the RTO (s7.3). */
    if (cb->t_reo && cb->t_reo <= now)
        tcp_rec_reo_timeout(cb, now);
    if (cb->t_tlp && cb->t_tlp <= now)
        tcp_rec_tlp_timeout(cb, now);
    if (cb->t_rtx && cb->t_rtx <= now)
        on_rtx(cb, now);
    if (!cb->sk || cb->sk->idx != idx || cb->state == TCP_CLOSED)
        return;
    if (cb->t_persist && cb->t_persist <= now)
        on_persist(cb, now);
    if (!cb->sk || cb->state == TCP_CLOSED)
        return;
    if (cb->t_keep && cb->t_keep <= now)
        on_keepalive(cb, now);
    if (!cb->sk || cb->state == TCP_CLOSED)
        return;
    tcp_timer_update(cb);
    tcp_cold_trim(cb); /* a clean connection gives its cold block back */
    tcp_check(cb);
}
