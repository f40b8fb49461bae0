/*
 * tcp_req.c - the SYN queue as small request records (issue 12): a
 * passively opened connection in SYN-RECEIVED costs one struct tcp_req
 * (<= 128 bytes: the 4-tuple, ISS and IRS, the options the SYN and our
 * SYN-ACK agreed - MSS, window scale, SACK-permitted, timestamps - the
 * window we offered, the retransmission count and deadline) until the
 * handshake completes; then (the peer's acceptable ACK, RFC 9293
 * s3.10.7.4 fifth step for SYN-RECEIVED) a full socket and TCB are made
 * in SYN-RECEIVED, exactly as the SYN used to make them, and the ACK is
 * processed on it (tcp_established_input), which enters ESTABLISHED and
 * queues it for accept().
 * Until then the record answers as that TCB did (tcp_in.c):
 * - the peer's SYN again (SEG.SEQ = IRS, no ACK): our SYN-ACK again, and
 *   the handshake's RTT is no longer timed (RFC 6298 s3, Karn);
 * - RFC 7323 s5.3 PAWS: an older TSval is dropped with an ACK;
 * - an unacceptable segment (s3.10.7.4 first): an ACK;
 * - RST at RCV.NXT: the record goes (s3.10.7.4 second: a passive open
 *   returns to LISTEN); another in-window RST, or a SYN, earns a
 *   challenge ACK (RFC 5961 s3.2, s4; rate-limited, s7);
 * - an ACK other than ISS + 1: <SEQ=SEG.ACK><CTL=RST> (s3.10.7.4 fifth);
 * - the SYN-ACK retransmission timer (RFC 6298, initial RTO 1 s, backoff
 *   to 60 s) and the RFC 9293 s3.8.3 R2 give-up after 3 minutes.
 * One loop timer per stack at the earliest record's deadline (a list in
 * deadline order); a hash on the 4-tuple. SYN cookies take over when the
 * queue (cfg.tcp_syn_backlog per listener) is full, as before
 * (tcp_listen.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/tcp_impl.h"

_Static_assert(sizeof(struct tcp_req) <= 128, "a SYN-queue record fits in 128 bytes");

#define RQ_BUCKETS 1024u

static uint32_t rq_bucket(const struct tern_stack *s, uint32_t laddr, uint16_t lport,
                          uint32_t raddr, uint16_t rport)
{
    uint32_t k[4] = {0x73796e71u /* "synq" */, laddr, raddr, ((uint32_t)lport << 16) | rport};
    return (uint32_t)prng_hash(&s->rng, k, sizeof k) & (RQ_BUCKETS - 1);
}

/* The record of a 4-tuple; laddr 0 matches any local address. */
static struct tcp_req *rq_find(const struct tern_stack *s, uint32_t laddr, uint16_t lport,
                               uint32_t raddr, uint16_t rport)
{
    const struct tcp_stack *t = s->tcp;
    if (!t || !t->rq_count)
        return NULL;
    if (laddr) {
        for (struct tcp_req *q = t->rq_hash[rq_bucket(s, laddr, lport, raddr, rport)]; q;
             q = q->hnext)
            if (q->laddr == laddr && q->lport == lport && q->raddr == raddr && q->rport == rport)
                return q;
        return NULL;
    }
    for (struct tcp_req *q = t->rq_head; q; q = q->next) /* wildcard: rare (connect) */
        if (q->lport == lport && q->raddr == raddr && q->rport == rport)
            return q;
    return NULL;
}

bool tcp_req_busy(const struct tern_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                  uint16_t rport)
{
    return rq_find(s, laddr, lport, raddr, rport) != NULL;
}

static void rq_timer_update(struct tern_stack *s)
{
    struct tcp_stack *t = s->tcp;
    if (!t->rq_head) {
        if (tern_timer_armed(&t->rq_timer))
            tern_timer_cancel(s->loop, &t->rq_timer);
        return;
    }
    if (!tern_timer_armed(&t->rq_timer) || t->rq_timer.when != t->rq_head->deadline)
        tern_timer_arm(s->loop, &t->rq_timer, t->rq_head->deadline);
}

static void list_unlink(struct tcp_stack *t, struct tcp_req *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        t->rq_head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        t->rq_tail = q->prev;
    q->prev = q->next = NULL;
}

/* Deadline order; equal deadlines keep insertion order. */
static void list_insert(struct tcp_stack *t, struct tcp_req *q)
{
    struct tcp_req *after = t->rq_tail;
    while (after && after->deadline > q->deadline)
        after = after->prev;
    q->prev = after;
    q->next = after ? after->next : t->rq_head;
    if (q->next)
        q->next->prev = q;
    else
        t->rq_tail = q;
    if (after)
        after->next = q;
    else
        t->rq_head = q;
}

static void set_deadline(struct tern_stack *s, struct tcp_req *q, uint64_t when)
{
    list_unlink(s->tcp, q);
    q->deadline = when;
    list_insert(s->tcp, q);
    rq_timer_update(s);
}

/* The record goes; the listener's SYN queue shrinks. */
static void rq_free(struct tern_stack *s, struct tcp_req *q)
{
    struct tcp_stack *t = s->tcp;
    struct tcp_req **pp = &t->rq_hash[rq_bucket(s, q->laddr, q->lport, q->raddr, q->rport)];
    while (*pp && *pp != q)
        pp = &(*pp)->hnext;
    TERN_ASSERT(*pp == q);
    if (*pp)
        *pp = q->hnext;
    list_unlink(t, q);
    struct tern_sock *lsk = sock_at(s, q->lidx);
    if (lsk && lsk->listening && lsk->pcb && tcp_cb_of(lsk)->synq_len)
        tcp_cb_of(lsk)->synq_len--;
    t->rq_count--;
    free(q);
    rq_timer_update(s);
}

#if TERN_ASSERTS_ON
/* A record's invariants: found by its 4-tuple, which no connection and no
 * TIME-WAIT record holds (s3.6.1), on the deadline list in order, its
 * listener listening, the timer no later than its deadline. */
static void rq_check(const struct tern_stack *s, const struct tcp_req *q)
{
    const struct tcp_stack *t = s->tcp;
    TERN_ASSERT(rq_find(s, q->laddr, q->lport, q->raddr, q->rport) == q);
    TERN_ASSERT(!ports_find_conn((struct tern_stack *)s, TERN_IPPROTO_TCP, q->laddr, q->lport,
                                 q->raddr, q->rport));
    TERN_ASSERT(q->prev ? q->prev->next == q : t->rq_head == q);
    TERN_ASSERT(q->next ? q->next->prev == q : t->rq_tail == q);
    TERN_ASSERT(!q->next || q->deadline <= q->next->deadline);
    const struct tern_sock *lsk = sock_at((struct tern_stack *)s, q->lidx);
    TERN_ASSERT(lsk && lsk->listening && tcp_cb_of(lsk)->synq_len > 0);
    TERN_ASSERT(tern_timer_armed(&t->rq_timer) && t->rq_timer.when <= q->deadline);
}
#else
static void rq_check(const struct tern_stack *s, const struct tcp_req *q)
{
    (void)s;
    (void)q;
}
#endif

/* The RTO after n SYN-ACK retransmissions: RFC 6298 with the stack's
 * estimator settings, as the TCB's tern_rtt would give it. */
static uint64_t rq_rto(const struct tern_stack *s, unsigned n)
{
    struct tern_rtt_cfg rc;
    struct tern_rtt r;
    rtt_cfg_default(&rc);
    rc.min_us = s->cfg.tcp_rto_min_us;
    rtt_init(&r, &rc);
    for (unsigned i = 0; i < n; i++)
        rtt_backoff(&r);
    return rtt_rto(&r);
}

/* What tcp_out.c's window_field gives with an empty receive ring of
 * rcvbuf bytes (RFC 9293 s3.8.6.2.2 receiver SWS avoidance; RFC 7323
 * s2.2: a SYN's window unscaled); moves the offered edge. */
static uint16_t rq_window(struct tcp_req *q, bool syn)
{
    uint32_t maxw = (uint32_t)65535 << q->rcv_ws;
    uint32_t avail = q->rcvbuf > maxw ? maxw : q->rcvbuf;
    if (syn) {
        uint16_t f = (uint16_t)(avail > 65535 ? 65535 : avail);
        if (q->rcv_wnd < f)
            q->rcv_wnd = f;
        return f;
    }
    uint32_t thresh = q->rcvbuf / 2;
    if (q->rcv_mss && q->rcv_mss < thresh)
        thresh = q->rcv_mss;
    if (avail > q->rcv_wnd && avail - q->rcv_wnd >= thresh)
        q->rcv_wnd = avail;
    uint32_t field = (q->rcv_wnd + (1u << q->rcv_ws) - 1) >> q->rcv_ws;
    if (field > 65535)
        field = 65535;
    if ((field << q->rcv_ws) > q->rcv_wnd)
        q->rcv_wnd = field << q->rcv_ws;
    return (uint16_t)field;
}

static void rq_xmit(struct tern_stack *s, struct tcp_req *q, uint32_t seq, uint16_t flags,
                    uint64_t now)
{
    struct tern_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = q->lport;
    r.dport = q->rport;
    r.seq = seq;
    r.ack = q->irs + 1;
    r.flags = flags;
    bool syn = flags & TERN_TCP_SYN;
    r.win = rq_window(q, syn);
    if (syn) {
        r.opts.has_mss = true;
        r.opts.mss = q->rcv_mss;
        r.opts.has_wscale = q->ws_ok;
        r.opts.wscale = q->ws_ok ? q->rcv_ws : 0;
        r.opts.sack_perm = q->sack_ok;
    }
    if (q->ts_ok && !(flags & TERN_TCP_RST)) {
        r.opts.has_ts = true;
        r.opts.ts_val = (uint32_t)(now / 1000) + q->ts_offset;
        r.opts.ts_ecr = q->ts_recent;
        tcp_ts_sent_pair(s, q->laddr, q->raddr, q->ts_offset, now);
    }
    tcp_send_raw(s, q->laddr, q->raddr, &r, now);
}

static void rq_send_synack(struct tern_stack *s, struct tcp_req *q, uint64_t now)
{
    rq_xmit(s, q, q->iss, TERN_TCP_SYN | TERN_TCP_ACK, now);
}

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (SND.NXT = ISS + 1). */
static void rq_send_ack(struct tern_stack *s, struct tcp_req *q, uint64_t now)
{
    rq_xmit(s, q, q->iss + 1, TERN_TCP_ACK, now);
}

static void rq_challenge_ack(struct tern_stack *s, struct tcp_req *q, uint64_t now)
{
    uint16_t sec = (uint16_t)(now / 1000000u);
    if (sec != q->chack_sec || !q->chack_on) {
        q->chack_sec = sec;
        q->chack_count = 0;
        q->chack_on = true;
    }
    if (q->chack_count >= TCP_CHACK_PER_S) {
        s->stats.tcp.challenge_limited++;
        return;
    }
    q->chack_count++;
    s->stats.tcp.challenge_acks++;
    rq_send_ack(s, q, now);
}

bool tcp_req_new(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                 const struct tern_tcp_repr *seg, uint32_t iss, uint64_t now)
{
    struct tern_stack *s = lsk->s;
    struct tcp_stack *t = s->tcp;
    struct tcp_cb *l = tcp_cb_of(lsk);
    if (!t->rq_hash) {
        t->rq_hash = calloc(RQ_BUCKETS, sizeof *t->rq_hash);
        if (!t->rq_hash)
            return false;
    }
    struct tcp_req *q = calloc(1, sizeof *q);
    if (!q)
        return false;
    q->laddr = ip->dst;
    q->raddr = ip->src;
    q->lport = seg->dport;
    q->rport = seg->sport;
    q->lidx = lsk->idx;
    /* s3.10.7.2: RCV.NXT <- SEG.SEQ+1, IRS <- SEG.SEQ, select an ISS. */
    q->irs = seg->seq;
    q->iss = iss;
    q->snd_wnd = seg->win; /* RFC 7323 s2.2: unscaled in a SYN */
    q->rcvbuf = lsk->rcvbuf;
    q->rcv_mss = tcp_route_mss(s, ip->src);
    if (l->user_mss && l->user_mss < q->rcv_mss)
        q->rcv_mss = l->user_mss;
    /* RFC 7323 s2.3: the smallest shift that lets the window cover rcvbuf
     * (as tcp_alloc_rings). */
    uint8_t ws = 0;
    while (ws < TERN_TCP_WSCALE_MAX && (lsk->rcvbuf >> ws) > 65535)
        ws++;
    /* We implement every option: the SYN-ACK echoes what was agreed. */
    struct tcp_syn_offer ours = {.ws = true, .sack = true, .ts = true, .ws_shift = ws};
    struct tcp_syn_result r = tcp_syn_negotiate(&seg->opts, &ours);
    q->peer_mss = r.peer_mss;
    q->ws_ok = r.ws_ok;
    q->snd_ws = r.snd_ws;
    q->rcv_ws = r.rcv_ws;
    q->sack_ok = r.sack_ok;
    q->ts_ok = r.ts_ok;
    if (r.ts_ok) /* RFC 7323 s4.3: TS.Recent starts from the SYN's TSval */
        q->ts_recent = seg->opts.ts_val;
    uint32_t bump;
    q->ts_offset = tcp_ts_clock(s, q->laddr, q->raddr, now, &bump);
    q->syn_at = now;
    q->deadline = now + rq_rto(s, 0);
    struct tcp_req **head = &t->rq_hash[rq_bucket(s, q->laddr, q->lport, q->raddr, q->rport)];
    q->hnext = *head;
    *head = q;
    list_insert(t, q);
    t->rq_count++;
    l->synq_len++;
    /* DEVIATION: s3.10.7.2 says text in the SYN "should be queued for
     * processing later"; we drop it (as Linux does without TCP Fast Open)
     * and the peer sends it again after the handshake. */
    rq_send_synack(s, q, now);
    rq_timer_update(s);
    rq_check(s, q);
    return true;
}

/* The handshake completes: the socket and TCB the SYN used to make, in
 * SYN-RECEIVED, then the ACK on it. */
static void rq_promote(struct tern_stack *s, struct tcp_req *q, const struct tern_tcp_repr *seg,
                       uint64_t now)
{
    struct tern_sock *lsk = sock_at(s, q->lidx);
    struct tern_ipv4_repr ip = {.src = q->raddr, .dst = q->laddr, .proto = TERN_IPPROTO_TCP};
    struct tern_tcp_repr syn = {.sport = q->rport, .dport = q->lport};
    struct tcp_cb *cb = tcp_child_new(lsk, &ip, &syn);
    if (!cb)
        return; /* socket table full: the record waits (the peer sends again) */
    cb->in_synq = true; /* the record's place in the SYN queue passes to it */
    tcp_seq_init_recv(cb, q->irs);
    tcp_seq_init_send(cb, q->iss);
    cb->snd_nxt = cb->snd_max = q->iss + 1; /* the SYN-ACK was sent */
    tcp_snd_wnd_set(cb, q->irs, q->iss, q->snd_wnd);
    cb->peer_mss = q->peer_mss;
    cb->rcv_mss = q->rcv_mss;
    cb->ws_ok = q->ws_ok;
    cb->snd_ws = q->snd_ws;
    cb->rcv_ws = q->rcv_ws;
    cb->sack_ok = q->sack_ok;
    cb->ts_ok = q->ts_ok;
    cb->ts_recent = q->ts_recent;
    cb->ts_recent_at = q->syn_at;
    uint32_t pair_bump;
    uint32_t pair = tcp_ts_clock(s, q->laddr, q->raddr, now, &pair_bump) - pair_bump;
    cb->ts_offset = q->ts_offset;
    cb->ts_bump = q->ts_offset - pair;
    cb->rcv_adv = cb->rcv_nxt + q->rcv_wnd;
    cb->last_ack_sent = cb->rcv_nxt;
    cb->syn_at = q->syn_at;
    /* RFC 6298 s3 (Karn): the handshake's RTT was timed from the first
     * SYN-ACK, unless one was sent again. */
    rtt_on_send(&cb->rtt, q->iss + 1, false, q->syn_at);
    if (q->karn || q->rtx)
        rtt_on_send(&cb->rtt, q->iss + 1, true, q->last_tx);
    for (unsigned i = 0; i < q->rtx; i++)
        rtt_backoff(&cb->rtt);
    cb->rtx_count = cb->retransmits = q->rtx;
    cb->syn_rtx = q->rtx > 0;
    cb->rtx_last_at = q->last_tx;
    cb->chack_start = q->chack_on ? (uint64_t)q->chack_sec * 1000000u : 0;
    cb->chack_count = q->chack_on ? q->chack_count : 0;
    cb->mss_cap = q->mss_cap;
    cb->ptb_seen = q->ptb_seen;
    cb->soft_err = q->soft_err;
    cb->state = TCP_SYN_RECEIVED;
    tcp_deadline(cb, &cb->t_rtx, q->deadline);
    /* The record goes (its SYN-queue count went to cb above). */
    q->lidx = SOCK_NIL;
    rq_free(s, q);
    tcp_check(cb);
    struct tern_sock *sk = cb->sk;
    tcp_established_input(cb, seg, now);
    if (sk->pcb == cb)
        tcp_check(cb);
}

bool tcp_req_input(struct tern_stack *s, const struct tern_ipv4_repr *ip,
                   const struct tern_tcp_repr *seg, uint64_t now)
{
    struct tcp_req *q = rq_find(s, ip->dst, seg->dport, ip->src, seg->sport);
    if (!q)
        return false;
    uint16_t fl = seg->flags;
    bool rst = fl & TERN_TCP_RST, syn = fl & TERN_TCP_SYN, ack = fl & TERN_TCP_ACK;
    /* The peer's SYN again: our SYN-ACK again (Karn: ambiguous now). */
    if (syn && !ack && seg->seq == q->irs) {
        q->karn = true;
        q->last_tx = now;
        rq_send_synack(s, q, now);
        rq_check(s, q);
        return true;
    }
    /* RFC 7323 s5.3 PAWS. */
    if (q->ts_ok && seg->opts.has_ts && !rst && tern_seq_lt(seg->opts.ts_val, q->ts_recent)) {
        s->stats.tcp.paws_drops++;
        rq_send_ack(s, q, now);
        rq_check(s, q);
        return true;
    }
    /* s3.10.7.4 first: acceptability against RCV.NXT = IRS + 1. */
    uint32_t slen = tern_tcp_seg_len(seg), lo = q->irs + 1, hi = lo + q->rcv_wnd;
    bool ok;
    if (slen == 0)
        ok = q->rcv_wnd == 0 ? seg->seq == lo : tern_seq_in(seg->seq, lo, hi);
    else if (q->rcv_wnd == 0)
        ok = seg->seq == lo;
    else
        ok = tern_seq_in(seg->seq, lo, hi) || tern_seq_in(seg->seq + slen - 1, lo, hi);
    if (!ok) {
        if (!rst) {
            rq_send_ack(s, q, now);
            rq_check(s, q);
        }
        return true;
    }
    if (rst) { /* RFC 5961 s3.2 */
        if (seg->seq == lo)
            rq_free(s, q); /* a passive open returns to LISTEN */
        else
            rq_challenge_ack(s, q, now);
        return true;
    }
    if (syn) { /* RFC 5961 s4 */
        rq_challenge_ack(s, q, now);
        rq_check(s, q);
        return true;
    }
    if (!ack)
        return true;
    /* s3.10.7.4 fifth, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT, i.e.
     * SEG.ACK = ISS + 1; else <SEQ=SEG.ACK><CTL=RST>. */
    if (seg->ack != q->iss + 1) {
        tcp_send_reset(s, ip, seg, now);
        return true;
    }
    rq_promote(s, q, seg, now);
    return true;
}

/* The SYN-ACK retransmission timer (RFC 6298 s5, as tcp_timer.c's on_rtx
 * for SYN-RECEIVED) and the RFC 9293 s3.8.3 R2 limit. */
static void rq_timer_fn(struct tern_timer *tm, void *arg)
{
    struct tern_stack *s = arg;
    struct tcp_stack *t = s->tcp;
    (void)tm;
    uint64_t now = tern_loop_now(s->loop);
    while (t->rq_head && t->rq_head->deadline <= now) {
        struct tcp_req *q = t->rq_head;
        s->stats.tcp.timeouts++;
        if (now - q->syn_at >= TCP_SYN_R2_US) {
            rq_free(s, q);
            continue;
        }
        if (q->rtx < 255)
            q->rtx++;
        q->last_tx = now;
        q->karn = true;
        s->stats.tcp.retransmits++;
        rq_send_synack(s, q, now);
        set_deadline(s, q, now + rq_rto(s, q->rtx));
    }
    rq_timer_update(s);
}

bool tcp_req_icmp(struct tern_stack *s, uint8_t type, uint8_t code, uint16_t next_mtu,
                  const struct tern_icmp_quote *qt)
{
    struct tcp_req *q = rq_find(s, qt->ip.src, qt->sport, qt->ip.dst, qt->dport);
    struct icmp_err_class c;
    /* RFC 5927 s4.1 / ATTACKS 18: SND.UNA =< seq < SND.NXT, i.e. the ISS. */
    if (!q || qt->tcp_seq != q->iss || !icmp_classify(type, code, &c))
        return false;
    if (c.pmtu) { /* RFC 1191: a lower MSS for the connection to come */
        uint32_t mtu = next_mtu < 68 ? 68 : next_mtu;
        if (!q->mss_cap || mtu - 40 < q->mss_cap)
            q->mss_cap = (uint16_t)(mtu - 40);
        q->ptb_seen = true;
        return true;
    }
    q->soft_err = (int16_t)c.err; /* soft in SYN-RECEIVED (RFC 1122 4.2.3.9) */
    return true;
}

void tcp_req_drop_listener(struct tern_stack *s, uint32_t lidx, uint64_t now)
{
    struct tcp_stack *t = s->tcp;
    for (struct tcp_req *q = t->rq_head, *nx; q; q = nx) {
        nx = q->next;
        if (q->lidx != lidx)
            continue;
        /* RFC 9293 s3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST> (with ACK, as
         * tcp_send_rst_for). */
        rq_xmit(s, q, q->iss + 1, TERN_TCP_RST | TERN_TCP_ACK, now);
        rq_free(s, q);
    }
}

void tcp_req_init(struct tern_stack *s)
{
    tern_timer_init(&s->tcp->rq_timer, rq_timer_fn, s);
}

void tcp_req_fini(struct tern_stack *s)
{
    struct tcp_stack *t = s->tcp;
    if (t->rq_timer.fn && tern_timer_armed(&t->rq_timer))
        tern_timer_cancel(s->loop, &t->rq_timer);
    for (struct tcp_req *q = t->rq_head, *nx; q; q = nx) {
        nx = q->next;
        free(q);
    }
    free(t->rq_hash);
    t->rq_hash = NULL;
    t->rq_head = t->rq_tail = NULL;
    t->rq_count = 0;
}

size_t tcp_req_rows(const struct tern_stack *s,
                   void (*fn)(void *ctx, const struct tern_sock_info *row), void *ctx)
{
    const struct tcp_stack *t = s->tcp;
    size_t n = 0;
    if (!t)
        return 0;
    for (const struct tcp_req *q = t->rq_head; q; q = q->next, n++) {
        struct tern_sock_info row;
        memset(&row, 0, sizeof row);
        row.type = TERN_SOCK_STREAM;
        row.state = tcp_state_name(TCP_SYN_RECEIVED);
        row.local.addr = q->laddr;
        row.local.port = q->lport;
        row.peer.addr = q->raddr;
        row.peer.port = q->rport;
        row.ts = q->ts_ok;
        row.sack = q->sack_ok;
        row.wscale = q->ws_ok;
        row.snd_wscale = q->snd_ws;
        row.rcv_wscale = q->rcv_ws;
        row.advmss = q->rcv_mss;
        if (fn)
            fn(ctx, &row);
    }
    return n;
}

size_t tcp_req_count(const struct tern_stack *s)
{
    return s->tcp ? s->tcp->rq_count : 0;
}
