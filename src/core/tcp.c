/*
 * tcp.c - TCP (RFC 9293) per-stack state: the TCB table, registration with
 * IP (protocol 6) and the socket layer, connection setup and teardown
 * helpers, listener lookup, ISN choice (RFC 6528 via tcp_isn.h).
 * Not: segment processing (tcp_in.c), what to send (tcp_out.c), timers
 * (tcp_timer.c), the socket ops (tcp_sock.c).
 *
 * TCBs: a table of cfg.max_sockets allocated with the stack, indexed like
 * the socket pool; a connection's rings are set up when it starts and
 * finished when it ends; their bytes are chunks of the per-stack pool
 * (ringbuf.c), taken as data arrives and returned as it drains, under the
 * budget cfg.tcp_mem_* (tcp_mem_*: pressure, pruning; counted for
 * tern_stack_mem: tcp_mem_usage).
 * Demultiplexing: the 4-tuple table of ports.c (O(1)), then the listeners
 * bound to the port (a specific address beats 0.0.0.0).
 */
#include <stdlib.h>
#include <string.h>

#include "core/tcp_impl.h"
#include "core/tcp_isn.h"

static const char *const state_names[] = {
    "CLOSE", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1",
    "FIN_WAIT2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"}; /* netstat's names */

const char *tcp_state_name(int state)
{
    return state >= 0 && state <= TCP_TIME_WAIT ? state_names[state] : "UNKNOWN";
}

int tcp_init(struct tern_stack *s)
{
    struct tcp_stack *t = calloc(1, sizeof *t);
    if (!t)
        return TERN_E_NOMEM;
    s->tcp = t;
    ring_pool_init(&t->pool);
    t->pool.max = (size_t)s->cfg.tcp_mem_high;
    t->pool.reclaim = tcp_mem_reclaim;
    t->pool.reclaim_ctx = s;
    t->cb_chunks = calloc((s->cfg.max_sockets + SOCK_CHUNK - 1) / SOCK_CHUNK, sizeof *t->cb_chunks);
    if (!t->cb_chunks)
        return TERN_E_NOMEM;
    tcp_ooo_init(&t->ooo_idle, t->ooo_idle_r, 1, 0);
    /* The RTO estimator's settings every TCB points at (RFC 6298 with the
     * stack's minimum, s2.4); fixed for the stack's life. */
    rtt_cfg_default(&t->rtt_cfg);
    t->rtt_cfg.min_us = s->cfg.tcp_rto_min_us;
    tcp_tw_init(s);
    tcp_req_init(s);
    s->sock_ops[TERN_SOCK_STREAM] = &tcp_sock_ops;
    struct tern_proto_handler h = {.input = tcp_input, .icmp_error = tcp_icmp_error, .ctx = s};
    return tern_stack_register_proto(s, TERN_IPPROTO_TCP, &h);
}

static void cb_free_mem(struct tcp_cb *cb)
{
    if (cb->rings) {
        struct tcp_stack *t = cb->sk->s->tcp;
        t->mem_conns--;
        ringbuf_fini(&cb->snd);
        ringbuf_fini(&cb->rcv);
        cb->rings = false;
    }
    tcp_cold_free(cb);
}

void tcp_fini(struct tern_stack *s)
{
    struct tcp_stack *t = s->tcp;
    if (!t)
        return;
    if (t->cb_chunks && s->sock_chunks) {
        for (uint32_t i = 0; i < s->sock_cap; i++) {
            struct tcp_cb *cb = t->cb_chunks[i >> SOCK_CHUNK_SHIFT]
                                    ? &t->cb_chunks[i >> SOCK_CHUNK_SHIFT][i & (SOCK_CHUNK - 1)]
                                    : NULL;
            if (!cb || !cb->sk)
                continue;
            if (cb->timer.fn && tern_timer_armed(&cb->timer))
                tern_timer_cancel(s->loop, &cb->timer);
            cb_free_mem(cb);
        }
    }
    tcp_tw_fini(s);
    tcp_req_fini(s);
    tcp_cold_fini(s);
    if (t->cb_chunks)
        for (uint32_t c = 0; c < (s->cfg.max_sockets + SOCK_CHUNK - 1) / SOCK_CHUNK; c++)
            free(t->cb_chunks[c]);
    free(t->cb_chunks);
    ring_pool_fini(&t->pool);
    free(t);
    s->tcp = NULL;
}

struct tcp_cb *tcp_cb_new(struct tern_sock *sk)
{
    struct tern_stack *s = sk->s;
    struct tcp_cb **chunk = &s->tcp->cb_chunks[sk->idx >> SOCK_CHUNK_SHIFT];
    if (!*chunk) { /* TCBs grow with the socket pool, a chunk at a time */
        uint32_t n = s->cfg.max_sockets - (sk->idx & ~(SOCK_CHUNK - 1));
        *chunk = calloc(n < SOCK_CHUNK ? n : SOCK_CHUNK, sizeof **chunk);
        if (!*chunk)
            return NULL;
    }
    struct tcp_cb *cb = &(*chunk)[sk->idx & (SOCK_CHUNK - 1)];
    memset(cb, 0, sizeof *cb);
    cb->sk = sk;
    sk->pcb = cb;
    cb->state = TCP_CLOSED;
    cb->parent = cb->qnext = SOCK_NIL; /* the accept queue: tcp_sock.c tcp_listen */
    cb->keepidle_s = TCP_KEEPIDLE_S;
    cb->keepintvl_s = TCP_KEEPINTVL_S;
    cb->keepcnt = TCP_KEEPCNT;
    tern_timer_init(&cb->timer, tcp_timer_fn, cb);
    sk->rcvbuf = s->cfg.tcp_rcvbuf;
    sk->sndbuf = s->cfg.tcp_sndbuf;
    return cb;
}

int tcp_alloc_rings(struct tcp_cb *cb)
{
    if (cb->rings)
        return TERN_OK;
    struct tern_sock *sk = cb->sk;
    struct tcp_stack *t = sk->s->tcp;
    /* Nothing is allocated here: chunks come as data does (ringbuf.h). A
     * connection made under memory pressure gets small rings - the
     * receive ring only before any window was offered (an active open):
     * a child's SYN-ACK may have offered more (RFC 9293 s3.8.6: the
     * offer stands). */
    uint32_t sndcap = sk->sndbuf, rcvcap = sk->rcvbuf;
    if (tcp_mem_under_pressure(sk->s)) {
        if (sndcap > TCP_MEM_SMALL_BUF)
            sndcap = TCP_MEM_SMALL_BUF;
        if (!cb->passive && rcvcap > TCP_MEM_SMALL_BUF)
            rcvcap = TCP_MEM_SMALL_BUF;
    }
    if (ringbuf_init(&cb->snd, &t->pool, sndcap) < 0 ||
        ringbuf_init(&cb->rcv, &t->pool, rcvcap) < 0)
        return TERN_E_NOMEM;
    /* Out-of-order bytes are parked in the receive ring's free space at
     * their final offsets, inside the window we offered (tcp_ooo.h), so the
     * byte cap is the ring itself: RFC 9293 s3.10.7.4 (SHLD-31) - keep
     * every in-window segment we invited. (A cap of half the buffer threw
     * away offered data: one loss with a full window in flight cost ~90
     * retransmissions.) ATTACKS 33's bound is the range cap, TCP_OOO_RANGES;
     * the bytes never exceed the ring, which is allocated anyway. The
     * queue itself is in the cold block (tcp_cold.c, which sets this cap
     * when it allocates one). */
    cb->rings = true;
    t->mem_conns++;
    /* RFC 7323 s2.3: the smallest shift that lets the window cover the
     * receive ring. */
    cb->rcv_ws = 0;
    while (cb->rcv_ws < TERN_TCP_WSCALE_MAX && (rcvcap >> cb->rcv_ws) > 65535)
        cb->rcv_ws++;
    return TERN_OK;
}

/* The budget's states, as Linux's tcp_mem: pressure is entered over
 * cfg.tcp_mem_pressure and left only below cfg.tcp_mem_low. */
bool tcp_mem_pressure_check(struct tern_stack *s)
{
    struct tcp_stack *t = s->tcp;
    size_t used = t->pool.used;
    if (!t->mem_pressure && used > s->cfg.tcp_mem_pressure) {
        t->mem_pressure = true;
        s->stats.tcp.mem_pressure++;
    } else if (t->mem_pressure && used < s->cfg.tcp_mem_low) {
        t->mem_pressure = false;
    }
    return t->mem_pressure;
}

/* The pool's reclaim (an allocation would pass cfg.tcp_mem_high): prune
 * the out-of-order queues of other connections until usage is back under
 * cfg.tcp_mem_pressure. RFC 9293 s3.10.7.4 lets a receiver drop segments
 * beyond RCV.NXT (it SHOULD hold them: SHLD-31, not MUST), and RFC 2018
 * s8 allows discarding even SACKed data "if the receiver runs out of
 * buffer space" (the sender keeps it until cumulatively ACKed and
 * retransmits it on its timeout). In-order data is never pruned: it was
 * ACKed. */
void tcp_mem_reclaim(void *ctx, struct tern_ringbuf *except)
{
    struct tern_stack *s = ctx;
    struct tcp_stack *t = s->tcp;
    struct tern_ring_pool *p = &t->pool;
    for (uint32_t i = p->nparked; i-- > 0 && p->used > s->cfg.tcp_mem_pressure;) {
        if (i >= p->nparked)
            continue;
        struct tern_ringbuf *rb = p->parked[i];
        if (rb == except)
            continue;
        /* Only receive rings park bytes (tcp_ooo.c). */
        struct tcp_cb *cb = (struct tcp_cb *)(void *)((char *)rb - offsetof(struct tcp_cb, rcv));
        if (cb->cold) { /* parked bytes are tracked by the cold block's queue */
            s->stats.tcp.ooo_pruned_bytes += tcp_ooo_bytes(&cb->cold->ooo);
            tcp_ooo_clear(&cb->cold->ooo);
        }
        cb->fin_ooo = false; /* the peer sends its FIN again */
        ringbuf_trim(rb, 0);
    }
}

/* RFC 7323 s5.4: the timestamp clock gets an offset so TSvals reveal no
 * uptime; keyed by the address pair only (as Linux's secure_tcp_ts_off),
 * so successive connections between two hosts see one monotonic clock -
 * what RFC 6191 s2 needs to let a newer SYN reopen a TIME-WAIT 4-tuple.
 * The hash's high bits pick the pair's slot in tcp_stack.ts_floor. */
static uint32_t tcp_ts_offset(const struct tern_stack *s, uint32_t local, uint32_t remote,
                              uint8_t *slot)
{
    uint32_t k[3] = {0x74737466u /* "tstf": not an ISN input */, local, remote};
    uint64_t h = prng_hash(&s->rng, k, sizeof k);
    *slot = (uint8_t)((h >> 32) % TCP_TS_SLOTS);
    return (uint32_t)h;
}

/* RFC 6191 s2 at high rates: a peer in TIME-WAIT honors our SYN for the
 * same 4-tuple when its TSval is above the last one it saw from us, or
 * equal with SEG.SEQ above its RCV.NXT. A 1 ms clock gives a connection
 * that opens within the tick in which the previous one ended (a few
 * hundred microseconds on a LAN) an EQUAL TSval, and the RFC 6528 ISN
 * (4 us clock) has then moved less than the bytes the old connection
 * carried: the peer cannot tell our SYN from an old duplicate of the last
 * one, keeps TIME-WAIT, and we wait a SYN retransmission timeout (1 s).
 * The receiving side cannot fix that without accepting old duplicates, so
 * the sender does: a new connection's clock starts one tick above the
 * highest TSval any connection of the pair has sent (ts_bump extra ticks
 * on top of the pair's offset, constant for the connection: RTT samples
 * and PAWS see a clock of exactly 1 ms per tick). The bump shrinks back
 * to 0 as real time catches up, so the clock never runs ahead by more
 * than the connections opened inside one tick - and at most
 * TCP_TS_BUMP_MAX ticks, far inside RFC 7323 s5.4's limit that the
 * clock's sign bit must not wrap within MSL. Pairs that share a slot only
 * bump each other more: TSvals to every peer still never go back. */
static void tcp_ts_start(struct tcp_cb *cb, uint64_t now)
{
    struct tcp_stack *t = cb->sk->s->tcp;
    uint32_t tick = (uint32_t)(now / 1000);
    uint32_t ahead = t->ts_floor[cb->ts_slot] + 1u - tick; /* floor + 1 - tick */
    cb->ts_bump = 0;
    if (t->ts_floor_set[cb->ts_slot] && (int32_t)ahead > 0 && ahead <= TCP_TS_BUMP_MAX)
        cb->ts_bump = ahead;
    cb->ts_offset += cb->ts_bump;
}

uint32_t tcp_ts_clock(struct tern_stack *s, uint32_t laddr, uint32_t raddr, uint64_t now,
                      uint32_t *bump)
{
    struct tcp_stack *t = s->tcp;
    uint8_t slot;
    uint32_t off = tcp_ts_offset(s, laddr, raddr, &slot);
    uint32_t tick = (uint32_t)(now / 1000);
    uint32_t ahead = t->ts_floor[slot] + 1u - tick; /* as tcp_ts_start */
    *bump = 0;
    if (t->ts_floor_set[slot] && (int32_t)ahead > 0 && ahead <= TCP_TS_BUMP_MAX)
        *bump = ahead;
    return off + *bump;
}

void tcp_ts_sent(struct tcp_cb *cb, uint64_t now)
{
    struct tcp_stack *t = cb->sk->s->tcp;
    uint32_t v = (uint32_t)(now / 1000) + cb->ts_bump;
    if (!t->ts_floor_set[cb->ts_slot] || tern_seq_gt(v, t->ts_floor[cb->ts_slot])) {
        t->ts_floor[cb->ts_slot] = v;
        t->ts_floor_set[cb->ts_slot] = true;
    }
}

void tcp_ts_sent_pair(struct tern_stack *s, uint32_t laddr, uint32_t raddr, uint32_t ts_offset,
                      uint64_t now)
{
    struct tcp_stack *t = s->tcp;
    uint8_t slot;
    uint32_t bump = ts_offset - tcp_ts_offset(s, laddr, raddr, &slot);
    uint32_t v = (uint32_t)(now / 1000) + bump;
    if (!t->ts_floor_set[slot] || tern_seq_gt(v, t->ts_floor[slot])) {
        t->ts_floor[slot] = v;
        t->ts_floor_set[slot] = true;
    }
}

void tcp_test_force_iss(struct tern_stack *s, uint32_t iss)
{
    s->tcp->force_iss = iss;
    s->tcp->force_iss_set = true;
}

uint32_t tcp_new_iss(struct tern_stack *s, const struct tern_sockaddr *l,
                     const struct tern_sockaddr *r, uint64_t now)
{
    if (s->tcp->force_iss_set) {
        s->tcp->force_iss_set = false;
        return s->tcp->force_iss;
    }
    struct tern_isn_tuple t = {.laddr = l->addr, .raddr = r->addr, .lport = l->port,
                               .rport = r->port};
    return tcp_isn(&s->rng, &t, now); /* RFC 6528 s3, ATTACKS 38 */
}

/* The effective MSS toward dst from the path MTU (RFC 9293 s3.7.1,
 * RFC 1122 4.2.2.6, RFC 1191 s3.1): MTU - 40, never below the floor
 * (ATTACKS 19/26). The path MTU is the RFC 1191 cache's estimate when one
 * is fresh (pmtu.c), else the route's interface MTU; 1500 without a route.
 * DEVIATION: the MSS we advertise uses it too (RFC 1191 s3.1 bases the
 * option on the first hop); a path known to be narrow is usually narrow
 * both ways, and the peer's segments then need no ICMP round. */
uint16_t tcp_route_mss(struct tern_stack *s, uint32_t dst)
{
    int pmtu = tern_pmtu_get(s, dst);
    uint32_t mtu = pmtu > 0 ? (uint32_t)pmtu : 1500;
    uint32_t mss = mtu > 40 ? mtu - 40 : 0;
    if (mss < TERN_TCP_MSS_FLOOR)
        mss = TERN_TCP_MSS_FLOOR;
    return (uint16_t)(mss > 65495 ? 65495 : mss);
}

/* The effective send MSS, the one place it is computed (RFC 9293 s3.7.1,
 * RFC 1122 4.2.2.6): Eff.snd.MSS = min(SendMSS + 20, MMS_S) - TCPhdrsize -
 * IPoptionsize, where
 * - SendMSS is the peer's MSS option (536 without one, RFC 9293 s3.7.1),
 *   capped by TCP_MAXSEG (user_mss) like Linux's mss_clamp;
 * - MMS_S = path MTU - 20: the RFC 1191 cache's estimate or the route's
 *   MTU (tcp_route_mss), and the lower caps this connection learned
 *   (mss_cap: ICMP "fragmentation needed", RFC 1191/5927, or the RFC 4821
 *   black-hole fallback), so min(SendMSS + 20, MMS_S) - 20 = min(SendMSS,
 *   MTU - 40, caps);
 * - TCPhdrsize beyond the fixed 20 bytes is the 12-byte timestamp option,
 *   on every segment once agreed (RFC 7323 s3); SACK blocks are fitted
 *   into the room left (tcp_out.c xmit); no IP options are sent.
 * Never below TCP_MIN_EFF_MSS (ATTACKS 19). */
uint32_t tcp_eff_mss(const struct tcp_cb *cb)
{
    uint32_t mss = cb->peer_mss ? cb->peer_mss : TCP_DEFAULT_MSS;
    uint32_t path = tcp_route_mss(cb->sk->s, cb->sk->peer.addr);
    if (path < mss)
        mss = path;
    if (cb->user_mss && cb->user_mss < mss)
        mss = cb->user_mss;
    if (cb->mss_cap && cb->mss_cap < mss)
        mss = cb->mss_cap;
    if (cb->ts_ok)
        mss = mss > 12 ? mss - 12 : 0;
    return mss < TCP_MIN_EFF_MSS ? TCP_MIN_EFF_MSS : mss;
}

/* A new connection's pre-handshake setup, once sk's local and peer
 * addresses are set (active open and a listener's child alike): the MSS
 * we advertise (path MSS, capped by the user's), the RTO estimator
 * (RFC 6298 s2.1) and the timestamp offset (RFC 7323 s5.4, above every
 * TSval sent to the peer so far: tcp_ts_start). */
void tcp_conn_setup(struct tcp_cb *cb)
{
    struct tern_sock *sk = cb->sk;
    struct tern_stack *s = sk->s;
    cb->rcv_mss = tcp_route_mss(s, sk->peer.addr);
    if (cb->user_mss && cb->user_mss < cb->rcv_mss)
        cb->rcv_mss = cb->user_mss;
    rtt_init(&cb->rtt, &s->tcp->rtt_cfg);
    cb->ts_offset = tcp_ts_offset(s, sk->local.addr, sk->peer.addr, &cb->ts_slot);
    tcp_ts_start(cb, tern_loop_now(s->loop));
}

void tcp_seq_init_send(struct tcp_cb *cb, uint32_t iss)
{
    cb->iss = iss;
    cb->snd_una = cb->snd_nxt = cb->snd_max = iss;
}

void tcp_seq_init_recv(struct tcp_cb *cb, uint32_t irs)
{
    cb->irs = irs;
    cb->rcv_nxt = irs + 1;
    cb->rcv_adv = cb->rcv_nxt;
}

void tcp_seq_syn_acked(struct tcp_cb *cb, uint32_t ack)
{
    cb->snd_una = ack;
    if (tern_seq_lt(cb->snd_nxt, ack))
        cb->snd_nxt = ack;
    if (tern_seq_lt(cb->snd_max, ack))
        cb->snd_max = ack;
}

void tcp_snd_wnd_set(struct tcp_cb *cb, uint32_t seq, uint32_t ack, uint32_t wnd)
{
    cb->snd_wnd = wnd;
    cb->snd_wl1 = seq;
    cb->snd_wl2 = ack;
    /* RFC 5961 s5.2 MAX.SND.WND: "the largest window that the local sender
     * has ever received from its peer" (the SYN's included). */
    if (wnd > cb->max_snd_wnd)
        cb->max_snd_wnd = wnd;
}

struct tcp_syn_result tcp_syn_negotiate(const struct tern_tcp_opts *peer,
                                        const struct tcp_syn_offer *ours)
{
    struct tcp_syn_result r = {0};
    /* RFC 9293 s3.7.1 (MUST-15): without an MSS option, assume 536. */
    r.peer_mss = peer->has_mss ? peer->mss : TCP_DEFAULT_MSS;
    /* RFC 7323 s2.2: "both sides MUST send Window Scale options in their
     * <SYN> segments to enable window scaling in either direction"; s2.3:
     * a shift.cnt above 14 is used as 14. Otherwise both shifts are 0. */
    if (ours->ws && peer->has_wscale) {
        r.ws_ok = true;
        r.snd_ws = peer->wscale > TERN_TCP_WSCALE_MAX ? TERN_TCP_WSCALE_MAX : peer->wscale;
        r.rcv_ws = ours->ws_shift > TERN_TCP_WSCALE_MAX ? TERN_TCP_WSCALE_MAX : ours->ws_shift;
    }
    /* RFC 2018 s2: SACK only when both SYNs carried SACK-permitted. */
    r.sack_ok = ours->sack && peer->sack_perm;
    /* RFC 7323 s3.2: timestamps are in use when both the <SYN> and the
     * <SYN,ACK> carry TSopt (a responder sends it only if the SYN had it). */
    r.ts_ok = ours->ts && peer->has_ts;
    return r;
}

void tcp_syn_options(struct tcp_cb *cb, const struct tern_tcp_opts *peer, bool offer_all,
                     uint64_t now)
{
    struct tcp_syn_offer ours = {.ws = offer_all, .sack = offer_all, .ts = offer_all,
                                 .ws_shift = cb->rcv_ws};
    struct tcp_syn_result r = tcp_syn_negotiate(peer, &ours);
    cb->peer_mss = r.peer_mss;
    cb->ws_ok = r.ws_ok;
    cb->snd_ws = r.snd_ws;
    cb->rcv_ws = r.rcv_ws;
    cb->sack_ok = r.sack_ok;
    cb->ts_ok = r.ts_ok;
    if (r.ts_ok) { /* RFC 7323 s4.3: TS.Recent starts from the SYN's TSval */
        cb->ts_recent = peer->ts_val;
        cb->ts_recent_at = now;
    }
}

/* After the handshake settled the options: effective send MSS
 * (tcp_eff_mss), RTO estimator, congestion control (CUBIC, IW10: RFC 6928). */
void tcp_init_conn(struct tcp_cb *cb, uint64_t now)
{
    uint32_t mss = tcp_eff_mss(cb); /* RFC 9293 s3.7.1 */
    cb->mss = (uint16_t)mss;
    cc_init(&cb->cc, cc_by_name(cb->sk->s->cfg.tcp_cc), mss,
                 cc_initial_window(mss, cb->syn_rtx), now);
    tcp_rec_start(cb);
    if (cb->syn_rtx)
        rtt_syn_retransmitted(&cb->rtt);
    /* RFC 6298 s5.7: data starts with the (re-initialized) RTO, not with
     * the doublings of the SYN's retransmissions. */
    rtt_reset_backoff(&cb->rtt);
    cb->stall_since = now;
}

/* Readiness notifications follow changes only, never a call that changed
 * nothing (an app acting on each wake-up would re-arm itself forever). */
void tcp_set_state(struct tcp_cb *cb, int state, uint64_t now)
{
    if (cb->state == state)
        return;
    cb->state = (uint8_t)state;
    if (state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT)
        tcp_arm_keepalive(cb, now);
    sock_notify(cb->sk);
}

void tcp_child_remove(struct tcp_cb *cb)
{
    struct tern_stack *s = cb->sk->s;
    if (cb->parent == SOCK_NIL)
        return;
    struct tern_sock *lsk = sock_at(s, cb->parent);
    struct tcp_cb *l = tcp_cb_of(lsk);
    if (cb->in_synq && l->synq_len)
        l->synq_len--;
    cb->in_synq = false;
    /* The accept queue is a singly linked list through qnext. */
    uint32_t prev = SOCK_NIL;
    for (uint32_t i = l->aq_head, n = 0; i != SOCK_NIL && n < s->cfg.max_sockets; n++) {
        struct tcp_cb *c = tcp_cb_of(sock_at(s, i));
        if (c == cb) {
            if (prev == SOCK_NIL)
                l->aq_head = c->qnext;
            else
                tcp_cb_of(sock_at(s, prev))->qnext = c->qnext;
            if (l->aq_tail == i)
                l->aq_tail = prev;
            l->aq_len--;
            break;
        }
        prev = i;
        i = c->qnext;
    }
    cb->parent = SOCK_NIL;
    cb->qnext = SOCK_NIL;
}

void tcp_release(struct tcp_cb *cb)
{
    struct tern_sock *sk = cb->sk;
    struct tern_stack *s = sk->s;
    if (tern_timer_armed(&cb->timer))
        tern_timer_cancel(s->loop, &cb->timer);
    tcp_tw_unlink(cb);
    tcp_child_remove(cb);
    cb_free_mem(cb);
    cb->sk = NULL;
    sk->pcb = NULL;
    sock_release(sk);
}

void tcp_done(struct tcp_cb *cb, int err)
{
    struct tern_sock *sk = cb->sk;
    cb->state = TCP_CLOSED;
    cb->t_rtx = cb->t_dack = cb->t_keep = cb->t_2msl = cb->t_persist = 0;
    tcp_timer_update(cb);
    tcp_tw_unlink(cb);
    ports_conn_clear(sk->s, sk); /* later segments for this tuple get a RST */
    if (sk->app_closed || (cb->parent != SOCK_NIL && !cb->accepted)) {
        tcp_release(cb);
        return;
    }
    sk->shut_rd = sk->shut_wr = true;
    if (err)
        sock_set_error(sk, err);
    else
        sock_notify(sk);
}

struct tern_sock *tcp_find_listener(struct tern_stack *s, uint32_t addr, uint16_t port)
{
    struct tern_sock *best = NULL;
    for (struct tern_sock *sk = ports_first(s, TERN_IPPROTO_TCP, port); sk;
         sk = ports_next(s, sk)) {
        if (!sk->listening || (sk->local.addr && sk->local.addr != addr))
            continue;
        if (sk->local.addr)
            return sk;
        if (!best)
            best = sk;
    }
    return best;
}

size_t tcp_tw_count(const struct tern_stack *s)
{
    return (size_t)s->tcp->tw_count + s->tcp->tw_full; /* records and held TCBs */
}

void tcp_mem_usage(const struct tern_stack *s, struct tern_stack_mem *m)
{
    const struct tcp_stack *t = s->tcp;
    m->tcp_conns = t ? t->mem_conns : 0;
    m->tcp_ring_bytes = t ? t->pool.used : 0;
    m->tcp_time_wait = t ? (size_t)t->tw_count + t->tw_full : 0;
    m->tcp_tw_bytes = tcp_tw_mem(s);
    m->tcp_syn_reqs = tcp_req_count(s);
    m->tcp_cold = tcp_cold_count(s);
}

#if TERN_ASSERTS_ON
static bool synchronized_or_opening(int st)
{
    return st != TCP_CLOSED && st != TCP_LISTEN;
}

/* The connection invariants, each with the clause it comes from. */
void tcp_check(const struct tcp_cb *cb)
{
    const struct tern_sock *sk = cb->sk;
    if (!sk)
        return; /* released */
    int st = cb->state;
    TERN_ASSERT(st >= TCP_CLOSED && st <= TCP_TIME_WAIT);
    /* State and tables agree. A connection is found by its 4-tuple from
     * SYN-SENT/SYN-RECEIVED to TIME-WAIT (RFC 9293 s3.3.2: the TCB exists
     * from OPEN until CLOSED; s3.10.7.1: a segment for a CLOSED connection
     * gets a reset, so a CLOSED or LISTEN socket must not be found). */
    TERN_ASSERT(synchronized_or_opening(st) == sk->in_conn_table);
    /* RFC 9293 s3.6.1 TIME-WAIT: exactly the TIME-WAIT TCBs are counted in
     * tw_full; one the app has let go of is a record (tcp_tw.c), unless no
     * record could be had, or it is a child not yet accepted. */
    TERN_ASSERT(cb->on_tw == (st == TCP_TIME_WAIT));
    TERN_ASSERT(!cb->in_synq || (st == TCP_SYN_RECEIVED && cb->parent != SOCK_NIL));
    TERN_ASSERT(sk->listening == (st == TCP_LISTEN));
    /* A listener's queues share rk's bytes (tcp_impl.h struct tcp_cb). */
    TERN_ASSERT(st != TCP_LISTEN || (!cb->rack_on && !cb->cold));
    /* Ring lengths <= capacity (ringbuf.h). */
    if (cb->rings) {
        TERN_ASSERT(ringbuf_len(&cb->snd) <= ringbuf_cap(&cb->snd));
        TERN_ASSERT(ringbuf_len(&cb->rcv) <= ringbuf_cap(&cb->rcv));
    }
    if (synchronized_or_opening(st)) {
        TERN_ASSERT(cb->rings);
        /* RFC 9293 s3.3.1 (send sequence space): SND.UNA =< SND.NXT =<
         * SND.MAX (the highest sequence sent; RFC 6675/RFC 8985 keep it
         * apart from SND.NXT after go-back-N). */
        TERN_ASSERT(tern_seq_leq(cb->snd_una, cb->snd_nxt));
        TERN_ASSERT(tern_seq_leq(cb->snd_nxt, cb->snd_max));
        /* Nothing sent beyond what the application wrote: the
         * unacknowledged sequence space is the queued bytes plus the SYN
         * while it is unacknowledged and the FIN once it is due
         * (RFC 9293 s3.4: SYN and FIN each occupy one sequence number). */
        uint32_t limit = (uint32_t)ringbuf_len(&cb->snd) +
                         (cb->snd_una == cb->iss ? 1u : 0u) +
                         (cb->fin_pending && !cb->fin_acked ? 1u : 0u);
        TERN_ASSERT(cb->snd_max - cb->snd_una <= limit);
    }
    /* The cold block (tcp_cold.c) exists whenever state that lives in it
     * is not empty: data outstanding with SACK on (the RACK table and the
     * scoreboard, RFC 8985 s6.1 / RFC 6675 s3, cover every byte sent and
     * not acknowledged), an RTO recovery episode; the stack's idle queue
     * never holds a range (tcp_in.c rx_queue). */
    if (!cb->cold) {
        TERN_ASSERT(!cb->sack_on || cb->snd_una == cb->snd_max);
        TERN_ASSERT(!cb->rto_recovery && !cb->t_reo && !cb->t_tlp);
    }
    TERN_ASSERT(!cb->undo || cb->sack_on);
    TERN_ASSERT(tcp_ooo_ranges(&sk->s->tcp->ooo_idle) == 0 && !sk->s->tcp->ooo_idle.bytes);
    /* One loop timer per connection, never later than the earliest pending
     * deadline (tcp_timer.c: every deadline set re-arms it; a cleared one
     * may leave it early, a harmless wake-up that re-arms). RFC 6298 s5,
     * RFC 9293 s3.8.6.3 and s3.6.1 need each deadline to fire. */
    uint64_t d[] = {cb->t_rtx, cb->t_dack, cb->t_keep, cb->t_2msl, cb->t_persist, cb->t_reo,
                    cb->t_tlp};
    uint64_t m = 0;
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (d[i] && (!m || d[i] < m))
            m = d[i];
    if (m) {
        TERN_ASSERT(tern_timer_armed(&cb->timer));
        TERN_ASSERT(cb->timer.when <= m);
    }
    if (st == TCP_CLOSED)
        TERN_ASSERT(!cb->t_rtx && !cb->t_dack && !cb->t_keep && !cb->t_2msl && !cb->t_persist);
}
#endif
