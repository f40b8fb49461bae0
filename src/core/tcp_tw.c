/*
 * tcp_tw.c - TIME-WAIT as a small record (RFC 9293 s3.6.1, s3.10.7.4).
 * A connection in TIME-WAIT has nothing left to send: once the application
 * has let go of its socket (close in TIME-WAIT, or TIME-WAIT entered after
 * close), the TCB, its rings and its socket slot are freed and a 64-byte
 * struct tcp_tw keeps what the state still needs: the 4-tuple, SND.NXT,
 * RCV.NXT and the window we offered, MAX.SND.WND (RFC 5961 s5.2), TS.Recent
 * and the timestamp clock (RFC 7323), the 2*MSL deadline, the RFC 5961 s7
 * challenge-ACK count, and hash/list links.
 * Storage: slabs of TCP_TW_SLAB records, taken on demand and kept until the
 * stack ends (a free list reuses them); records are addressed by index + 1
 * (0: none). A hash on (local port, remote address, remote port) finds them
 * (the local address is compared, or matched as a wildcard by ports.c's
 * ephemeral port choice); one list ordered by deadline, and one loop timer
 * per stack at the head's deadline, expire them.
 * Cap: cfg.tcp_tw_mem bytes (records + hash buckets); a new record beyond
 * it recycles the oldest (ATTACKS G3; RFC 9293 s3.6.1's 2*MSL is cut
 * short, as Linux does when its TIME_WAIT buckets run out).
 * What a record answers, as the full TCB in TIME-WAIT did (tcp_in.c):
 * - a SYN that RFC 6191 s2 shows to be new (TSval above TS.Recent, or
 *   equal with SEG.SEQ > RCV.NXT; without timestamps SEG.SEQ > RCV.NXT)
 *   and a listener that takes it: the record goes and the listener answers
 *   with ISS = SND.NXT + 65535 + 2;
 * - RFC 7323 s5.3 PAWS: an older TSval is dropped with an ACK;
 * - an unacceptable segment (s3.10.7.4 first): an ACK, and for a FIN (the
 *   peer's FIN again: our ACK was lost) the 2*MSL timer restarts;
 * - RST exactly at RCV.NXT ends TIME-WAIT (tern's behaviour before the
 *   record: s3.10.7.4 second step, "If the RST bit is set then, enter the
 *   CLOSED state"; DEVIATION from RFC 1337's proposal to ignore it, which
 *   RFC 9293 leaves optional); another in-window RST or a SYN earns a
 *   challenge ACK (RFC 5961 s3.2, s4);
 * - an ACK outside [SND.UNA - MAX.SND.WND, SND.NXT]: challenge ACK (RFC
 *   5961 s5.2); otherwise TS.Recent may move (RFC 7323 s4.3) and a FIN
 *   is ACKed; text is ignored (s3.10.7.4 seventh step).
 * DEVIATION: no D-SACK (RFC 2883) in TIME-WAIT ACKs: the record keeps no
 * SACK state (the peer has nothing left to retransmit but its FIN).
 */
#include <stdlib.h>
#include <string.h>

#include "core/tcp_impl.h"

_Static_assert(sizeof(struct tcp_tw) <= 64, "a TIME-WAIT record fits in 64 bytes");

static struct tcp_tw *tw_at(const struct tcp_stack *t, uint32_t ref)
{
    uint32_t i = ref - 1;
    return &t->tw_slab[i / TCP_TW_SLAB][i % TCP_TW_SLAB];
}

static uint32_t tw_bucket(const struct tern_stack *s, uint16_t lport, uint32_t raddr,
                          uint16_t rport)
{
    uint32_t k[3] = {0x74777462u /* "twtb" */, raddr, ((uint32_t)lport << 16) | rport};
    return (uint32_t)prng_hash(&s->rng, k, sizeof k) & (s->tcp->tw_nb - 1);
}

size_t tcp_tw_mem(const struct tern_stack *s)
{
    const struct tcp_stack *t = s->tcp;
    return t ? (size_t)t->tw_count * sizeof(struct tcp_tw) + (size_t)t->tw_nb * sizeof(uint32_t)
             : 0;
}

size_t tcp_tw_reserved(const struct tern_stack *s)
{
    const struct tcp_stack *t = s->tcp;
    return t ? (size_t)t->tw_nslab * TCP_TW_SLAB * sizeof(struct tcp_tw) +
                   (size_t)t->tw_nb * sizeof(uint32_t)
             : 0;
}

/* The record of a 4-tuple; laddr 0 matches any local address. */
static uint32_t tw_lookup(const struct tern_stack *s, uint32_t laddr, uint16_t lport,
                          uint32_t raddr, uint16_t rport)
{
    const struct tcp_stack *t = s->tcp;
    if (!t || !t->tw_count)
        return 0;
    uint32_t ref = t->tw_hash[tw_bucket(s, lport, raddr, rport)];
    for (uint32_t n = 0; ref && n <= t->tw_count; n++) {
        const struct tcp_tw *w = tw_at(t, ref);
        if (w->lport == lport && w->raddr == raddr && w->rport == rport &&
            (!laddr || w->laddr == laddr))
            return ref;
        ref = w->hnext;
    }
    return 0;
}

bool tcp_tw_busy(const struct tern_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                 uint16_t rport)
{
    return tw_lookup(s, laddr, lport, raddr, rport) != 0;
}

static void tw_hash_insert(struct tern_stack *s, uint32_t ref)
{
    struct tcp_stack *t = s->tcp;
    struct tcp_tw *w = tw_at(t, ref);
    uint32_t *head = &t->tw_hash[tw_bucket(s, w->lport, w->raddr, w->rport)];
    w->hnext = *head;
    *head = ref;
}

static void tw_hash_remove(struct tern_stack *s, uint32_t ref)
{
    struct tcp_stack *t = s->tcp;
    struct tcp_tw *w = tw_at(t, ref);
    uint32_t *pp = &t->tw_hash[tw_bucket(s, w->lport, w->raddr, w->rport)];
    for (uint32_t n = 0; *pp && n <= t->tw_count; n++) {
        if (*pp == ref) {
            *pp = w->hnext;
            w->hnext = 0;
            return;
        }
        pp = &tw_at(t, *pp)->hnext;
    }
    TERN_ASSERT(!"TIME-WAIT record missing from its hash chain");
}

/* Doubles the buckets while the table is loaded above 1 and the cap has
 * room for them (else chains just grow longer). */
static void tw_hash_grow(struct tern_stack *s)
{
    struct tcp_stack *t = s->tcp;
    if (t->tw_nb && t->tw_count <= t->tw_nb)
        return;
    uint32_t nb = t->tw_nb ? t->tw_nb * 2 : 16;
    if (t->tw_nb && (size_t)t->tw_count * sizeof(struct tcp_tw) + (size_t)nb * sizeof(uint32_t) >
                        s->cfg.tcp_tw_mem)
        return;
    uint32_t *h = calloc(nb, sizeof *h);
    if (!h)
        return;
    free(t->tw_hash);
    t->tw_hash = h;
    t->tw_nb = nb;
    for (uint32_t ref = t->tw_head; ref; ref = tw_at(t, ref)->next)
        tw_hash_insert(s, ref);
}

static void tw_timer_update(struct tern_stack *s)
{
    struct tcp_stack *t = s->tcp;
    if (!t->tw_head) {
        if (tern_timer_armed(&t->tw_timer))
            tern_timer_cancel(s->loop, &t->tw_timer);
        return;
    }
    uint64_t when = tw_at(t, t->tw_head)->deadline;
    if (!tern_timer_armed(&t->tw_timer) || t->tw_timer.when != when)
        tern_timer_arm(s->loop, &t->tw_timer, when);
}

static void list_unlink(struct tcp_stack *t, uint32_t ref)
{
    struct tcp_tw *w = tw_at(t, ref);
    if (w->prev)
        tw_at(t, w->prev)->next = w->next;
    else
        t->tw_head = w->next;
    if (w->next)
        tw_at(t, w->next)->prev = w->prev;
    else
        t->tw_tail = w->prev;
    w->prev = w->next = 0;
}

/* Into the deadline-ordered list: from the tail back (every deadline is
 * "now + 2*MSL" but a converted TCB's, which may be earlier). */
static void list_insert(struct tcp_stack *t, uint32_t ref)
{
    struct tcp_tw *w = tw_at(t, ref);
    uint32_t after = t->tw_tail;
    while (after && tw_at(t, after)->deadline > w->deadline)
        after = tw_at(t, after)->prev;
    w->prev = after;
    w->next = after ? tw_at(t, after)->next : t->tw_head;
    if (w->next)
        tw_at(t, w->next)->prev = ref;
    else
        t->tw_tail = ref;
    if (after)
        tw_at(t, after)->next = ref;
    else
        t->tw_head = ref;
}

static void tw_free(struct tern_stack *s, uint32_t ref)
{
    struct tcp_stack *t = s->tcp;
    tw_hash_remove(s, ref);
    list_unlink(t, ref);
    struct tcp_tw *w = tw_at(t, ref);
    memset(w, 0, sizeof *w);
    w->next = t->tw_free;
    t->tw_free = ref;
    t->tw_count--;
    tw_timer_update(s);
}

#if TERN_ASSERTS_ON
/* A record's invariants: in its hash chain once, in deadline order on the
 * list, its 4-tuple held by no connection (s3.6.1: one incarnation per
 * 4-tuple), and the records within the cap. */
static void tw_check(const struct tern_stack *s, uint32_t ref)
{
    const struct tcp_stack *t = s->tcp;
    const struct tcp_tw *w = tw_at(t, ref);
    TERN_ASSERT(w->deadline != 0);
    TERN_ASSERT(tw_lookup(s, w->laddr, w->lport, w->raddr, w->rport) == ref);
    TERN_ASSERT(w->prev ? tw_at(t, w->prev)->next == ref : t->tw_head == ref);
    TERN_ASSERT(w->next ? tw_at(t, w->next)->prev == ref : t->tw_tail == ref);
    TERN_ASSERT(!w->prev || tw_at(t, w->prev)->deadline <= w->deadline);
    TERN_ASSERT(!w->next || w->deadline <= tw_at(t, w->next)->deadline);
    TERN_ASSERT(!ports_find_conn((struct tern_stack *)s, TERN_IPPROTO_TCP, w->laddr, w->lport,
                                 w->raddr, w->rport));
    TERN_ASSERT((size_t)t->tw_count * sizeof(struct tcp_tw) <= s->cfg.tcp_tw_mem);
    TERN_ASSERT(tern_timer_armed(&t->tw_timer) && t->tw_timer.when <= w->deadline);
}
#else
static void tw_check(const struct tern_stack *s, uint32_t ref)
{
    (void)s;
    (void)ref;
}
#endif

/* A free record, recycling the oldest when the cap is reached. */
static uint32_t tw_alloc(struct tern_stack *s)
{
    struct tcp_stack *t = s->tcp;
    while (t->tw_head &&
           (size_t)(t->tw_count + 1) * sizeof(struct tcp_tw) + (size_t)t->tw_nb * sizeof(uint32_t) >
               s->cfg.tcp_tw_mem) {
        s->stats.tcp.tw_recycled++;
        tw_free(s, t->tw_head);
    }
    if ((size_t)(t->tw_count + 1) * sizeof(struct tcp_tw) > s->cfg.tcp_tw_mem)
        return 0;
    if (!t->tw_free) {
        struct tcp_tw **v = realloc(t->tw_slab, (t->tw_nslab + 1) * sizeof *v);
        if (!v)
            return 0;
        t->tw_slab = v;
        struct tcp_tw *slab = calloc(TCP_TW_SLAB, sizeof *slab);
        if (!slab)
            return 0;
        v[t->tw_nslab] = slab;
        uint32_t base = t->tw_nslab * TCP_TW_SLAB;
        t->tw_nslab++;
        for (uint32_t i = TCP_TW_SLAB; i-- > 0;) {
            slab[i].next = t->tw_free;
            t->tw_free = base + i + 1;
        }
    }
    if (!t->tw_nb) {
        tw_hash_grow(s);
        if (!t->tw_nb)
            return 0;
    }
    uint32_t ref = t->tw_free;
    struct tcp_tw *w = tw_at(t, ref);
    t->tw_free = w->next;
    memset(w, 0, sizeof *w);
    return ref;
}

bool tcp_tw_take(struct tcp_cb *cb, uint64_t now)
{
    struct tern_sock *sk = cb->sk;
    struct tern_stack *s = sk->s;
    struct tcp_stack *t = s->tcp;
    TERN_ASSERT(cb->state == TCP_TIME_WAIT && sk->app_closed);
    uint32_t ref = tw_alloc(s);
    if (!ref)
        return false; /* no memory: the full TCB stays until 2*MSL */
    struct tcp_tw *w = tw_at(t, ref);
    w->laddr = sk->local.addr;
    w->raddr = sk->peer.addr;
    w->lport = sk->local.port;
    w->rport = sk->peer.port;
    w->snd_nxt = tern_seq_gt(cb->snd_max, cb->snd_nxt) ? cb->snd_max : cb->snd_nxt;
    w->rcv_nxt = cb->rcv_nxt;
    w->rcv_wnd = tern_seq_gt(cb->rcv_adv, cb->rcv_nxt) ? cb->rcv_adv - cb->rcv_nxt : 0;
    w->max_snd_wnd = cb->max_snd_wnd;
    w->ts_recent = cb->ts_recent;
    w->ts_offset = cb->ts_offset;
    w->ts_ok = cb->ts_ok;
    w->rcv_ws = cb->rcv_ws;
    w->chack_count = (uint8_t)(cb->chack_count > 255 ? 255 : cb->chack_count);
    w->chack_sec = (uint16_t)(cb->chack_start / 1000000u);
    w->deadline = cb->t_2msl ? cb->t_2msl : now + 2 * s->cfg.tcp_msl_us;
    /* The TCB goes (its 4-tuple leaves the connection table first). */
    cb->t_2msl = 0;
    tcp_done(cb, 0);
    tw_hash_insert(s, ref);
    list_insert(t, ref);
    t->tw_count++;
    tw_hash_grow(s);
    tw_timer_update(s);
    tw_check(s, ref);
    return true;
}

static void tw_timer_fn(struct tern_timer *tm, void *arg)
{
    struct tern_stack *s = arg;
    struct tcp_stack *t = s->tcp;
    (void)tm;
    uint64_t now = tern_loop_now(s->loop);
    /* RFC 9293 s3.6.1: 2*MSL passed - "delete the TCB" (here, the record). */
    while (t->tw_head && tw_at(t, t->tw_head)->deadline <= now)
        tw_free(s, t->tw_head);
    tw_timer_update(s);
}

void tcp_tw_init(struct tern_stack *s)
{
    tern_timer_init(&s->tcp->tw_timer, tw_timer_fn, s);
}

void tcp_tw_fini(struct tern_stack *s)
{
    struct tcp_stack *t = s->tcp;
    if (t->tw_timer.fn && tern_timer_armed(&t->tw_timer))
        tern_timer_cancel(s->loop, &t->tw_timer);
    for (uint32_t i = 0; i < t->tw_nslab; i++)
        free(t->tw_slab[i]);
    free(t->tw_slab);
    free(t->tw_hash);
    t->tw_slab = NULL;
    t->tw_hash = NULL;
    t->tw_nslab = t->tw_nb = t->tw_count = 0;
}

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> from the record, with the window we
 * last offered and, with timestamps, TSval from the connection's clock and
 * TSecr = TS.Recent (RFC 7323 s3.2). */
static void tw_send_ack(struct tern_stack *s, struct tcp_tw *w, uint64_t now)
{
    struct tern_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = w->lport;
    r.dport = w->rport;
    r.seq = w->snd_nxt;
    r.ack = w->rcv_nxt;
    r.flags = TERN_TCP_ACK;
    uint32_t field = (w->rcv_wnd + (1u << w->rcv_ws) - 1) >> w->rcv_ws;
    r.win = (uint16_t)(field > 65535 ? 65535 : field);
    if (w->ts_ok) {
        r.opts.has_ts = true;
        r.opts.ts_val = (uint32_t)(now / 1000) + w->ts_offset;
        r.opts.ts_ecr = w->ts_recent;
        tcp_ts_sent_pair(s, w->laddr, w->raddr, w->ts_offset, now);
    }
    tcp_send_raw(s, w->laddr, w->raddr, &r, now);
}

/* RFC 5961 s7: at most TCP_CHACK_PER_S challenge ACKs a second. */
static void tw_challenge_ack(struct tern_stack *s, struct tcp_tw *w, uint64_t now)
{
    uint16_t sec = (uint16_t)(now / 1000000u);
    if (sec != w->chack_sec) {
        w->chack_sec = sec;
        w->chack_count = 0;
    }
    if (w->chack_count >= TCP_CHACK_PER_S) {
        s->stats.tcp.challenge_limited++;
        return;
    }
    w->chack_count++;
    s->stats.tcp.challenge_acks++;
    tw_send_ack(s, w, now);
}

/* RFC 6191 s2 (RFC 1122 4.2.2.13): the SYN starts a new incarnation. */
static bool tw_reopen(struct tern_stack *s, uint32_t ref, const struct tern_tcp_repr *seg,
                      uint64_t now)
{
    struct tcp_tw *w = tw_at(s->tcp, ref);
    if (seg->flags & (TERN_TCP_ACK | TERN_TCP_RST))
        return false;
    bool seq_new = tern_seq_gt(seg->seq, w->rcv_nxt);
    bool ok;
    if (w->ts_ok && seg->opts.has_ts)
        ok = tern_seq_gt(seg->opts.ts_val, w->ts_recent) ||
             (seg->opts.ts_val == w->ts_recent && seq_new);
    else
        ok = seq_new;
    if (!ok)
        return false;
    struct tern_sock *lsk = tcp_find_listener(s, w->laddr, w->lport);
    if (!lsk || !tcp_listen_can_take(lsk))
        return false;
    struct tern_ipv4_repr ip = {.src = w->raddr, .dst = w->laddr, .proto = TERN_IPPROTO_TCP};
    uint32_t iss = w->snd_nxt + 65535u + 2u; /* above anything the old one sent */
    s->stats.tcp.tw_reopened++;
    tw_free(s, ref);
    tcp_listen_input_iss(lsk, &ip, seg, &iss, now);
    tcp_check(tcp_cb_of(lsk));
    return true;
}

bool tcp_tw_input(struct tern_stack *s, const struct tern_ipv4_repr *ip,
                  const struct tern_tcp_repr *seg, uint64_t now)
{
    uint32_t ref = tw_lookup(s, ip->dst, seg->dport, ip->src, seg->sport);
    if (!ref)
        return false;
    struct tcp_stack *t = s->tcp;
    struct tcp_tw *w = tw_at(t, ref);
    uint16_t fl = seg->flags;
    bool rst = fl & TERN_TCP_RST, syn = fl & TERN_TCP_SYN, fin = fl & TERN_TCP_FIN;
    if (syn && tw_reopen(s, ref, seg, now))
        return true;
    /* RFC 7323 s5.3 PAWS (TIME-WAIT lasts far less than s5.5's 24 days). */
    if (w->ts_ok && seg->opts.has_ts && !rst && tern_seq_lt(seg->opts.ts_val, w->ts_recent)) {
        s->stats.tcp.paws_drops++;
        tw_send_ack(s, w, now);
        tw_check(s, ref);
        return true;
    }
    /* s3.10.7.4 first: the acceptability test against RCV.NXT/RCV.WND. */
    uint32_t slen = tern_tcp_seg_len(seg), lo = w->rcv_nxt, hi = w->rcv_nxt + w->rcv_wnd;
    bool ok;
    if (slen == 0)
        ok = w->rcv_wnd == 0 ? seg->seq == lo : tern_seq_in(seg->seq, lo, hi);
    else if (w->rcv_wnd == 0)
        ok = seg->seq == lo;
    else
        ok = tern_seq_in(seg->seq, lo, hi) || tern_seq_in(seg->seq + slen - 1, lo, hi);
    if (!ok) {
        if (!rst) {
            if (fin) {
                /* s3.10.7.4 eighth, TIME-WAIT: "Restart the 2 MSL
                 * time-wait timeout" - the peer's FIN again. */
                list_unlink(t, ref);
                w->deadline = now + 2 * s->cfg.tcp_msl_us;
                list_insert(t, ref);
                tw_timer_update(s);
            }
            tw_send_ack(s, w, now);
            tw_check(s, ref);
        }
        return true; /* RFC 5961 s3.2: an out-of-window RST is dropped */
    }
    if (rst) {
        if (seg->seq == w->rcv_nxt)
            tw_free(s, ref); /* s3.10.7.4 second: CLOSED */
        else
            tw_challenge_ack(s, w, now);
        return true;
    }
    if (syn) { /* RFC 5961 s4 */
        tw_challenge_ack(s, w, now);
        tw_check(s, ref);
        return true;
    }
    if (!(fl & TERN_TCP_ACK))
        return true;
    /* RFC 5961 s5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT (SND.UNA
     * = SND.NXT: our FIN is acknowledged). */
    if (!tern_seq_in_incl(seg->ack, w->snd_nxt - w->max_snd_wnd, w->snd_nxt)) {
        tw_challenge_ack(s, w, now);
        tw_check(s, ref);
        return true;
    }
    /* RFC 7323 s4.3: TS.Recent from a segment covering Last.ACK.sent
     * (RCV.NXT: every ACK from TIME-WAIT acknowledges it). */
    if (w->ts_ok && seg->opts.has_ts && tern_seq_geq(seg->opts.ts_val, w->ts_recent) &&
        tern_seq_leq(seg->seq, w->rcv_nxt))
        w->ts_recent = seg->opts.ts_val;
    if (fin)
        tw_send_ack(s, w, now); /* s3.10.7.4 eighth: acknowledge it */
    tw_check(s, ref);
    return true;
}

size_t tcp_tw_rows(const struct tern_stack *s,
                   void (*fn)(void *ctx, const struct tern_sock_info *row), void *ctx)
{
    const struct tcp_stack *t = s->tcp;
    size_t n = 0;
    if (!t)
        return 0;
    for (uint32_t ref = t->tw_head; ref; ref = tw_at(t, ref)->next, n++) {
        const struct tcp_tw *w = tw_at(t, ref);
        struct tern_sock_info row;
        memset(&row, 0, sizeof row);
        row.type = TERN_SOCK_STREAM;
        row.state = tcp_state_name(TCP_TIME_WAIT);
        row.local.addr = w->laddr;
        row.local.port = w->lport;
        row.peer.addr = w->raddr;
        row.peer.port = w->rport;
        row.ts = w->ts_ok;
        if (fn)
            fn(ctx, &row);
    }
    return n;
}
