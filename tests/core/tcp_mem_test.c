/*
 * Buffers on demand (docs/architecture.md "Buffers on demand"): a
 * connection's rings hold chunks of the stack's pool only while they hold
 * data, and the pool's budget (cfg.tcp_mem_low/pressure/high) bounds what
 * many connections parking out-of-order data can take (ATTACKS 33 with
 * chunked rings: a byte parked far ahead costs a whole chunk) while an
 * honest transfer on another connection still completes.
 */
#include "harness.h"

#include <string.h>

#include "tcp_util.h"
#include "world.h"

#define CH TERN_RING_CHUNK

static size_t pool_used(const struct world *w)
{
    return w->s->tcp->pool.used;
}

static uint8_t pbyte(uint32_t i)
{
    return (uint8_t)(i * 131u + 7u);
}

/* An established connection with an idle peer holds no chunk; chunks come
 * with data and go back once it drains, both ways. */
TEST(tcp_mem_idle_connection_holds_no_chunk)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    struct tern_sock *sk = wt_establish(w, 0, &lsk);
    REQUIRE(sk);
    struct tcp_cb *cb = tcp_cb_of(sk);
    CHECK(cb->rings);
    CHECK_EQ(ringbuf_chunks(&cb->rcv), 0);
    CHECK_EQ(ringbuf_chunks(&cb->snd), 0);
    CHECK(cb->rcv.tab == NULL && cb->snd.tab == NULL);
    CHECK_EQ(pool_used(w), 0);
    struct tern_stack_mem m;
    stack_mem_usage(w->s, &m);
    CHECK_EQ(m.tcp_ring_bytes, 0);
    CHECK_EQ(m.tcp_conns, 1);
    /* the peer sends 3000 bytes: one chunk on the receive side */
    static uint8_t data[3000], got[4000];
    for (uint32_t i = 0; i < sizeof data; i++)
        data[i] = pbyte(i);
    struct tern_tcp_repr r = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    r.payload = data;
    r.payload_len = 1400;
    wt_inject(w, &r);
    r.seq += 1400;
    r.payload = data + 1400;
    r.payload_len = 1600;
    wt_inject(w, &r);
    world_drain(w);
    CHECK_EQ(ringbuf_len(&cb->rcv), 3000);
    CHECK_EQ(ringbuf_chunks(&cb->rcv), 1);
    CHECK_EQ(pool_used(w), CH);
    /* the app reads it all: the chunk goes back */
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 3000);
    CHECK_MEM(got, data, 3000);
    CHECK_EQ(ringbuf_chunks(&cb->rcv), 0);
    CHECK(cb->rcv.tab == NULL);
    CHECK_EQ(pool_used(w), 0);
    /* the app sends: one chunk on the send side until the peer ACKs */
    CHECK_EQ(tern_sock_send(sk, "hello", 5, 0), 5);
    CHECK_EQ(ringbuf_chunks(&cb->snd), 1);
    CHECK_EQ(pool_used(w), CH);
    world_drain(w);
    struct tern_tcp_repr ack = wt_peer(P_ISN + 1 + 3000, ISS + 1 + 5, ACKF, 1000);
    wt_inject(w, &ack);
    CHECK_EQ(ringbuf_len(&cb->snd), 0);
    CHECK_EQ(ringbuf_chunks(&cb->snd), 0);
    CHECK_EQ(pool_used(w), 0);
    stack_mem_usage(w->s, &m);
    CHECK_EQ(m.tcp_ring_bytes, 0);
    wt_finish(w, sk, lsk);
}

/* A passive open from port `port` (the peer offers MSS 1460, window scale
 * 7 and SACK); *iss gets our ISS. */
static struct tern_sock *open_from(struct world *w, struct tern_sock *lsk, uint16_t port,
                                   uint32_t isn, uint32_t *iss)
{
    struct tern_tcp_repr syn = wt_seg(port, 80, isn, 0, TERN_TCP_SYN, 65535);
    syn.opts.has_mss = true;
    syn.opts.mss = 1460;
    syn.opts.has_wscale = true;
    syn.opts.wscale = 7;
    syn.opts.sack_perm = true;
    wt_inject(w, &syn);
    struct tern_tcp_repr sa;
    if (!wt_pop(w, &sa) || sa.flags != (TERN_TCP_SYN | ACKF))
        return NULL;
    *iss = sa.seq;
    struct tern_tcp_repr ack = wt_seg(port, 80, isn + 1, sa.seq + 1, ACKF, 1000);
    wt_inject(w, &ack);
    world_drain(w);
    return tern_sock_accept(lsk, NULL, NULL);
}

/* The peer's view of our window to `port`: the highest right edge seen in
 * our segments to it (RFC 7323 s2.3: SEG.WND << our shift, 3 here). */
static void read_acks(struct world *w, uint16_t port, uint32_t *edge)
{
    struct tern_tcp_repr s;
    while (wt_pop(w, &s)) {
        if (s.dport != port || !(s.flags & ACKF))
            continue;
        uint32_t e = s.ack + ((uint32_t)s.win << 3);
        if (tern_seq_gt(e, *edge))
            *edge = e;
    }
}

#define ATTACKERS 16
#define HONEST_BYTES (768u * 1024)

/* Attackers park 1-byte segments at every other offset near RCV.NXT
 * (ATTACKS 33), then one byte every half chunk across their windows, over
 * and over (the 32-range cap keeps what each holds within a window's
 * chunks; with sparse chunks each such byte costs one),
 * while an honest peer sends HONEST_BYTES in order. Returns the pool's
 * use after the first attack round; *delivered gets the honest bytes the
 * app read (checked byte by byte). */
static size_t run_attack(const struct tern_config *cfg, uint32_t *delivered, size_t *peak)
{
    struct world *w = world_new(cfg);
    world_learn_peer(w);
    struct tern_sock *lsk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(lsk, &la), 0);
    CHECK_EQ(tern_sock_listen(lsk, 64), 0);
    uint32_t hiss;
    struct tern_sock *honest = open_from(w, lsk, 30000, 7000, &hiss);
    CHECK(honest != NULL);
    if (!honest)
        return 0;
    struct tern_sock *att[ATTACKERS];
    uint32_t aiss[ATTACKERS];
    for (int a = 0; a < ATTACKERS; a++) {
        att[a] = open_from(w, lsk, (uint16_t)(31000 + a), 100000u * (uint32_t)(a + 1), &aiss[a]);
        CHECK(att[a] != NULL);
        if (!att[a])
            return 0;
    }
    static const uint8_t one = 'A';
    size_t after_attack = 0;
    uint32_t hseq = 7001, hedge = 7001 + 65535; /* the SYN-ACK's window */
    uint32_t got = 0;
    static uint8_t seg[1448], rd[65536];
    for (int round = 0; round < 4000 && got < HONEST_BYTES; round++) {
        /* the attack: each attacker parks bytes spread over 256 KiB */
        if (round < 8 || round % 4 == 0) {
            for (int a = 0; a < ATTACKERS; a++) {
                uint32_t base = 100000u * (uint32_t)(a + 1) + 1;
                for (uint32_t k = 1; k <= (round == 0 ? 8u : 23u); k++) {
                    uint32_t off = round == 0 ? 2 * k : k * (uint32_t)(CH / 2) + (uint32_t)round;
                    struct tern_tcp_repr r =
                        wt_seg((uint16_t)(31000 + a), 80, base + off, aiss[a] + 1, ACKF, 1000);
                    r.payload = &one;
                    r.payload_len = 1;
                    wt_inject(w, &r);
                }
                world_drain(w);
            }
            if (round == 7)
                after_attack = pool_used(w);
        }
        /* the honest peer: in order, inside the window we offered */
        read_acks(w, 30000, &hedge);
        int sent = 0;
        while (tern_seq_lt(hseq, hedge) && hseq - 7001 < HONEST_BYTES && sent < 64) {
            uint32_t n = hedge - hseq < sizeof seg ? hedge - hseq : (uint32_t)sizeof seg;
            if (n > HONEST_BYTES - (hseq - 7001))
                n = HONEST_BYTES - (hseq - 7001);
            for (uint32_t i = 0; i < n; i++)
                seg[i] = pbyte(hseq - 7001 + i);
            struct tern_tcp_repr r = wt_seg(30000, 80, hseq, hiss + 1, ACKF, 1000);
            r.payload = seg;
            r.payload_len = n;
            wt_inject(w, &r);
            hseq += n;
            sent++;
            read_acks(w, 30000, &hedge);
        }
        if (!sent) { /* closed window: a zero-window probe (RFC 9293 s3.8.6.1) */
            struct tern_tcp_repr r = wt_seg(30000, 80, hseq - 1, hiss + 1, ACKF, 1000);
            wt_inject(w, &r);
            read_acks(w, 30000, &hedge);
        }
        /* the honest app reads everything */
        ssize_t n;
        while ((n = tern_sock_recv(honest, rd, sizeof rd, 0)) > 0) {
            for (ssize_t i = 0; i < n; i++)
                if (rd[i] != pbyte(got + (uint32_t)i)) {
                    CHECK(rd[i] == pbyte(got + (uint32_t)i));
                    break;
                }
            got += (uint32_t)n;
        }
        read_acks(w, 30000, &hedge);
        world_drain(w);
    }
    *delivered = got;
    *peak = w->s->tcp->pool.peak;
    for (int a = 0; a < ATTACKERS; a++) {
        CHECK_EQ(strcmp(wt_state(att[a]), "ESTABLISHED"), 0); /* not reset: only pruned */
        tern_sock_abort(att[a]);
    }
    tern_sock_abort(honest);
    tern_sock_close(lsk);
    world_drain(w);
    CHECK_EQ(pool_used(w), 0);
    const struct tern_stats *st = tern_stack_stats(w->s);
    if (cfg->tcp_mem_high < (1u << 20)) {
        CHECK(st->tcp.mem_pressure >= 1);
        CHECK(st->tcp.mem_drops > 0);           /* out-of-order bytes refused */
        CHECK(st->tcp.ooo_pruned_bytes > 0);    /* and parked ones pruned for in-order data */
    }
    world_end(w);
    return after_attack;
}

TEST(tcp_mem_attack_parked_ooo_bounded_honest_completes)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    c.tcp_mem_low = 6 * CH;
    c.tcp_mem_pressure = 8 * CH;
    c.tcp_mem_high = 12 * CH;
    uint32_t got = 0;
    size_t peak = 0;
    size_t used = run_attack(&c, &got, &peak);
    /* The attackers never hold more than the budget... */
    CHECK(used <= c.tcp_mem_high);
    /* ...and the whole pool never passes it by more than the honest
     * connection's in-order data inside the window it was offered (the
     * SYN-ACK's 64 KiB, then at most TCP_MEM_PRESSURE_MSS segments). */
    CHECK(peak <= c.tcp_mem_high + ((65535 + CH - 1) / CH + 1) * CH);
    /* The honest transfer completes, every byte in order. */
    CHECK_EQ(got, HONEST_BYTES);
    printf("# tcp_mem attack: %d attackers, pool %zu bytes after the attack (budget %llu), "
           "peak %zu; honest %u bytes\n",
           ATTACKERS, used, (unsigned long long)c.tcp_mem_high, peak, got);

    /* Control: with the default budget the same attack takes far more -
     * so the bound above is the budget's doing. */
    tern_config_defaults(&c);
    c.seed = 1;
    got = 0;
    used = run_attack(&c, &got, &peak);
    CHECK(used > 4 * 12 * CH);
    CHECK_EQ(got, HONEST_BYTES);
    printf("# tcp_mem attack, default budget: pool %zu bytes after the attack\n", used);
}

/* Under pressure, a new connection gets 64 KiB rings (an active open: its
 * SYN offers no more) and windows stop growing; an offered right edge is
 * never taken back (RFC 9293 s3.8.6, RFC 7323 s2.4). */
TEST(tcp_mem_pressure_small_buffers_no_shrink)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    c.tcp_mem_low = 2 * CH;
    c.tcp_mem_pressure = 3 * CH;
    c.tcp_mem_high = 64 * CH;
    struct world *w = world_new(&c);
    struct tern_sock *lsk;
    struct tern_sock *sk = wt_establish(w, 0, &lsk);
    REQUIRE(sk);
    struct tcp_cb *cb = tcp_cb_of(sk);
    /* 4 chunks of unread data: over tcp_mem_pressure */
    static uint8_t data[1400];
    memset(data, 'd', sizeof data);
    uint32_t seq = P_ISN + 1, edge = 0;
    struct tern_tcp_repr s;
    for (int i = 0; i < 48; i++) {
        struct tern_tcp_repr r = wt_peer(seq, ISS + 1, ACKF, 1000);
        r.payload = data;
        r.payload_len = sizeof data;
        wt_inject(w, &r);
        seq += sizeof data;
        while (wt_pop(w, &s)) {
            uint32_t e = s.ack + ((uint32_t)s.win << 3);
            CHECK(!edge || tern_seq_geq(e, edge)); /* never shrinks */
            if (!edge || tern_seq_gt(e, edge))
                edge = e;
        }
    }
    CHECK(pool_used(w) > c.tcp_mem_pressure);
    const struct tern_stats *st = tern_stack_stats(w->s);
    CHECK_EQ(st->tcp.mem_pressure, 1);
    CHECK(w->s->tcp->mem_pressure);
    /* windows stop growing: the offer beyond RCV.NXT is at most what was
     * offered before plus TCP_MEM_PRESSURE_MSS segments */
    CHECK(edge - cb->rcv_nxt <= 4u * 1460u + 8u || edge == cb->rcv_adv);
    CHECK(tcp_rcv_wnd(cb) <= 4u * 1460u);
    /* a new connection now gets small rings */
    struct tern_sock *c2 = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr pa = {W_PEER, 9999};
    CHECK_EQ(tern_sock_connect(c2, &pa), TERN_E_INPROGRESS);
    CHECK_EQ(ringbuf_cap(&tcp_cb_of(c2)->snd), 65536);
    CHECK_EQ(ringbuf_cap(&tcp_cb_of(c2)->rcv), 65536);
    CHECK_EQ(tcp_cb_of(c2)->rcv_ws, 1); /* 65536 >> 1 <= 65535 */
    tern_sock_abort(c2);
    /* the app reads: below tcp_mem_low the pressure ends */
    static uint8_t rd[65536];
    while (tern_sock_recv(sk, rd, sizeof rd, 0) > 0) {
    }
    CHECK_EQ(pool_used(w), 0);
    CHECK(tcp_rcv_wnd(cb) > 4u * 1460u);
    CHECK(!w->s->tcp->mem_pressure);
    wt_finish(w, sk, lsk);
}

/* Over the hard limit with the pool full of parked out-of-order bytes, a
 * connection opened now offers no window in its SYN (nothing may grow);
 * its first ACK prunes the parked data (tcp_mem_reclaim from
 * window_field) and offers a window, so it is not starved by an attacker
 * who keeps the pool full. */
TEST(tcp_mem_over_high_new_connection_not_starved)
{
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    c.tcp_mem_low = 6 * CH;
    c.tcp_mem_pressure = 8 * CH;
    c.tcp_mem_high = 12 * CH;
    struct world *w = world_new(&c);
    world_learn_peer(w);
    struct tern_sock *lsk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(lsk, &la), 0);
    CHECK_EQ(tern_sock_listen(lsk, 64), 0);
    struct tern_sock *att[4];
    uint32_t aiss[4];
    static const uint8_t one = 'A';
    for (int a = 0; a < 4; a++) {
        att[a] = open_from(w, lsk, (uint16_t)(31000 + a), 100000u * (uint32_t)(a + 1), &aiss[a]);
        REQUIRE(att[a]);
        for (uint32_t k = 1; k <= 7; k++) { /* inside the SYN-ACK's 64 KiB */
            struct tern_tcp_repr r = wt_seg((uint16_t)(31000 + a), 80,
                                            100000u * (uint32_t)(a + 1) + 1 + k * (uint32_t)(CH / 2),
                                            aiss[a] + 1, ACKF, 1000);
            r.payload = &one;
            r.payload_len = 1;
            wt_inject(w, &r);
        }
        world_drain(w);
    }
    CHECK_EQ(pool_used(w), c.tcp_mem_high); /* full: 12 of 4 x 4 chunks taken */
    CHECK(tern_stack_stats(w->s)->tcp.mem_drops > 0);
    uint64_t pruned0 = tern_stack_stats(w->s)->tcp.ooo_pruned_bytes;
    /* an active open now */
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr pa = {W_PEER, 9999};
    CHECK_EQ(tern_sock_connect(sk, &pa), TERN_E_INPROGRESS);
    struct tern_tcp_repr syn;
    REQUIRE(wt_pop(w, &syn));
    CHECK_EQ(syn.flags, TERN_TCP_SYN);
    CHECK_EQ(syn.win, 0); /* over the hard limit: no window offered yet */
    struct tern_tcp_repr sa = wt_seg(9999, syn.sport, 777, syn.seq + 1, TERN_TCP_SYN | ACKF, 65535);
    sa.opts.has_mss = true;
    sa.opts.mss = 1460;
    wt_inject(w, &sa);
    struct tern_tcp_repr ack;
    REQUIRE(wt_pop(w, &ack));
    CHECK_EQ(ack.flags, ACKF);
    CHECK(ack.win > 0); /* parked bytes were pruned to make room */
    CHECK(tern_stack_stats(w->s)->tcp.ooo_pruned_bytes > pruned0);
    CHECK(pool_used(w) <= c.tcp_mem_pressure);
    /* and data flows */
    static uint8_t d[1000], rd[2000];
    memset(d, 'z', sizeof d);
    struct tern_tcp_repr r = wt_seg(9999, syn.sport, 778, syn.seq + 1, ACKF, 65535);
    r.payload = d;
    r.payload_len = sizeof d;
    wt_inject(w, &r);
    CHECK_EQ(tern_sock_recv(sk, rd, sizeof rd, 0), (ssize_t)sizeof d);
    tern_sock_abort(sk);
    for (int a = 0; a < 4; a++)
        tern_sock_abort(att[a]);
    tern_sock_close(lsk);
    world_drain(w);
    CHECK_EQ(pool_used(w), 0);
    world_end(w);
}
