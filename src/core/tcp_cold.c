/*
 * tcp_cold.c - a connection's cold block (struct tcp_cold, tcp_impl.h):
 * the out-of-order ranges (RFC 9293 s3.10.7.4 SHLD-31, RFC 2018/2883
 * blocks to send), the SACK scoreboard (RFC 6675) and the RACK-TLP
 * transmission table (RFC 8985). An idle connection has none: the block
 * is allocated when first needed and freed when the connection is clean
 * again, so an idle endpoint's control state is the TCB alone.
 *
 * Set-up on allocation: the scoreboard and the RACK table start from the
 * connection's SND.UNA exactly as tcp_rec_start set them up after the
 * handshake (a clean connection has nothing outstanding, so that is what
 * they held), and RACK's per-connection variables come back from
 * tcb->rk. The byte cap of the out-of-order queue is the receive ring
 * (tcp.c tcp_alloc_rings explains why).
 * No memory: each user degrades safely - an out-of-order segment is
 * dropped (the peer retransmits it), a D-SACK goes unreported, and a
 * sender without a block turns SACK recovery and RACK-TLP off and keeps
 * RFC 6582 NewReno and the RTO (tcp_recover.c tx_cold), which need none.
 * Freed blocks: up to COLD_CACHE are kept for reuse (a request/response
 * connection takes and frees one per exchange).
 */
#include <stdlib.h>
#include <string.h>

#include "core/tcp_impl.h"

#define COLD_CACHE 16

/* A cached block's first bytes hold the next one. */
static struct tcp_cold *link_get(const struct tcp_cold *c)
{
    struct tcp_cold *n;
    memcpy(&n, (const void *)c, sizeof(void *));
    return n;
}

static void link_set(struct tcp_cold *c, struct tcp_cold *next)
{
    memcpy((void *)c, &next, sizeof(void *));
}

static uint32_t sat32(uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

static void keep_save(struct tcp_rack_keep *k, const struct tern_rack *r)
{
    k->xmit_ts = r->xmit_ts;
    k->end_seq = r->end_seq;
    k->fack = r->fack;
    k->dsack_round = r->dsack_round;
    k->rtt = sat32(r->rtt);
    k->min_rtt = sat32(r->min_rtt);
    k->reo_wnd_mult = r->reo_wnd_mult;
    k->reo_wnd_persist = (uint8_t)(r->reo_wnd_persist > 255 ? 255 : r->reo_wnd_persist);
    k->have_xmit = r->have_xmit;
    k->fack_valid = r->fack_valid;
    k->reordering_seen = r->reordering_seen;
    k->dsack_round_valid = r->dsack_round_valid;
}

/* The transmission orders (tcp_rack.c order_of) are not kept: the block
 * goes only when nothing is outstanding, so every later (re)transmission
 * follows RACK.xmit_ts's segment; tcp_rack_init's xmit_order 0 and the
 * orders counted again from 1 say so, also when the time stamps tie. */
static void keep_load(struct tern_rack *r, const struct tcp_rack_keep *k)
{
    r->xmit_ts = k->xmit_ts;
    r->end_seq = k->end_seq;
    r->fack = k->fack;
    r->dsack_round = k->dsack_round;
    r->rtt = k->rtt;
    r->min_rtt = k->min_rtt;
    r->reo_wnd_mult = k->reo_wnd_mult;
    r->reo_wnd_persist = k->reo_wnd_persist;
    r->have_xmit = k->have_xmit;
    r->fack_valid = k->fack_valid;
    r->reordering_seen = k->reordering_seen;
    r->dsack_round_valid = k->dsack_round_valid;
}

void tcp_rack_keep_reset(struct tcp_cb *cb)
{
    struct tern_rack r;
    struct tern_rack_seg one[4];
    tcp_rack_init(&r, one, 4, cb->snd_una);
    keep_save(&cb->rk, &r);
}

/* The scoreboard and RACK table of a connection with nothing outstanding
 * (tcp_rec_start's set-up, RACK's variables from rk). */
static void cold_setup_tx(struct tcp_cb *cb, struct tcp_cold *c)
{
    if (!cb->sack_on)
        return;
    tcp_sack_init(&c->sb, c->sb_r, TCP_SACK_RANGES, cb->snd_una, cb->mss, 0);
    if (cb->rack_on) {
        tcp_rack_init(&c->rack, c->rack_s, TCP_RACK_SEGS, cb->snd_una);
        keep_load(&c->rack, &cb->rk);
        c->rack.smss = cb->mss;
    }
}

struct tcp_cold *tcp_cold_get(struct tcp_cb *cb)
{
    if (cb->cold)
        return cb->cold;
    struct tcp_stack *t = cb->sk->s->tcp;
    struct tcp_cold *c = t->cold_fail ? NULL : t->cold_cache;
    if (c) {
        t->cold_cache = link_get(c);
        t->cold_cached--;
    } else if (!t->cold_fail) {
        c = malloc(sizeof *c);
    }
    if (!c) {
        t->cold_nomem++;
        return NULL;
    }
    /* The headers only: the arrays are read below n. */
    memset(c, 0, offsetof(struct tcp_cold, ooo_r));
    tcp_ooo_init(&c->ooo, c->ooo_r, TCP_OOO_RANGES, (uint32_t)ringbuf_cap(&cb->rcv));
    cold_setup_tx(cb, c);
    cb->cold = c;
    t->cold_count++;
    return c;
}

void tcp_cold_sack_restart(struct tcp_cb *cb)
{
    if (cb->cold)
        cold_setup_tx(cb, cb->cold);
}

bool tcp_cold_clean(const struct tcp_cb *cb)
{
    const struct tcp_cold *c = cb->cold;
    if (!c)
        return true;
    if (c->ooo.n || c->ooo.bytes || c->ooo.dsack_pending)
        return false;
    if (!cb->sack_on)
        return true;
    /* Sender: nothing outstanding (the table covers exactly what the
     * connection sent), no recovery or timeout episode, no SACK state. */
    if (cb->snd_una != cb->snd_max || cb->snd_nxt != cb->snd_max || c->sb.n ||
        c->sb.in_recovery || c->sb.snd_una != cb->snd_una || c->sb.snd_max != cb->snd_max ||
        cb->rto_recovery)
        return false;
    if (cb->rack_on && (c->rack.n || c->rack.tlp_active || c->rack.una != cb->snd_una ||
                        c->rack.snd_max != cb->snd_max || cb->t_reo || cb->t_tlp))
        return false;
    return true;
}

static void stats_add(struct tern_tcp_ooo_stats *a, const struct tern_tcp_ooo_stats *b)
{
    a->segs_in += b->segs_in;
    a->bytes_in_order += b->bytes_in_order;
    a->bytes_queued += b->bytes_queued;
    a->dup_bytes += b->dup_bytes;
    a->trimmed_bytes += b->trimmed_bytes;
    a->cap_bytes_dropped += b->cap_bytes_dropped;
    a->cap_range_drops += b->cap_range_drops;
}

void tcp_stack_ooo_stats(const struct tern_stack *s, struct tern_tcp_ooo_stats *out)
{
    const struct tcp_stack *t = s->tcp;
    memset(out, 0, sizeof *out);
    stats_add(out, &t->ooo_done);
    stats_add(out, &t->ooo_idle.stats);
    for (uint32_t i = 0; i < s->sock_cap; i++) {
        struct tern_sock *sk = sock_slot(s, i);
        if (sk->used && sk->type == TERN_SOCK_STREAM && sk->pcb &&
            tcp_cb_of(sk)->cold)
            stats_add(out, &tcp_cb_of(sk)->cold->ooo.stats);
    }
}

void tcp_rack_view(const struct tcp_cb *cb, struct tern_rack *out)
{
    if (cb->cold) {
        *out = cb->cold->rack;
        return;
    }
    memset(out, 0, sizeof *out);
    out->una = out->snd_max = cb->snd_una;
    out->ack_rtt = UINT64_MAX;
    out->smss = cb->mss;
    keep_load(out, &cb->rk);
}

static void cold_put(struct tcp_cb *cb)
{
    struct tcp_stack *t = cb->sk->s->tcp;
    struct tcp_cold *c = cb->cold;
    stats_add(&t->ooo_done, &c->ooo.stats);
    cb->cold = NULL;
    t->cold_count--;
    if (t->cold_cached < COLD_CACHE) {
        link_set(c, t->cold_cache);
        t->cold_cache = c;
        t->cold_cached++;
    } else {
        free(c);
    }
}

void tcp_cold_trim(struct tcp_cb *cb)
{
    if (!cb->cold || !tcp_cold_clean(cb))
        return;
    if (cb->rack_on)
        keep_save(&cb->rk, &cb->cold->rack);
    cold_put(cb);
}

void tcp_cold_free(struct tcp_cb *cb)
{
    if (cb->cold)
        cold_put(cb);
    free(cb->undo);
    cb->undo = NULL;
}

void tcp_cold_fini(struct tern_stack *s)
{
    struct tcp_stack *t = s->tcp;
    while (t->cold_cache) {
        struct tcp_cold *c = t->cold_cache;
        t->cold_cache = link_get(c);
        free(c);
    }
    t->cold_cached = 0;
}

void tcp_test_cold_fail(struct tern_stack *s, bool on) { s->tcp->cold_fail = on; }

size_t tcp_cold_count(const struct tern_stack *s) { return s->tcp ? s->tcp->cold_count : 0; }

uint64_t tcp_cold_nomem(const struct tern_stack *s) { return s->tcp ? s->tcp->cold_nomem : 0; }
