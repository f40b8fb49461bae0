/*
 * tests/core/tcp_cold_test.c - the connection's cold block (tcp_cold.c):
 * none on an idle connection, allocated when SACK recovery, RACK or the
 * out-of-order queue first need it, given back when the connection is
 * clean again, and safe degradation when it cannot be allocated.
 */
#include <string.h>

#include "../harness.h"
#include "tcp_util.h"

#define MSS 1460u

static uint8_t g_data[8 * MSS];

static struct tern_tcp_repr sack_ack(uint32_t ack, uint32_t l, uint32_t r)
{
    struct tern_tcp_repr a = wt_peer(P_ISN + 1, ack, ACKF, 1000);
    if (l != r) {
        a.opts.sack_count = 1;
        a.opts.sack[0].left = l;
        a.opts.sack[0].right = r;
    }
    return a;
}

static struct tern_tcp_repr data_at(uint32_t seq, size_t len)
{
    struct tern_tcp_repr d = wt_peer(seq, ISS + 1, ACKF, 1000);
    d.payload = g_data;
    d.payload_len = len;
    return d;
}

static void drain(struct world *w)
{
    struct tern_tcp_repr r;
    while (wt_pop(w, &r))
        ;
}

/* The split's purpose: the always-present part fits the budget. */
TEST(tcp_cold_tcb_size)
{
    CHECK(sizeof(struct tcp_cb) < 1024);
    CHECK(sizeof(struct tcp_cold) > 2048); /* what an idle connection no longer holds */
}

TEST(tcp_cold_none_when_idle_given_back_when_acked)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    REQUIRE(cb->sack_on && cb->rack_on);
    CHECK(cb->cold == NULL);
    CHECK_EQ(tcp_cold_count(w->s), 0);
    /* Data out with SACK on: RACK's table times it (RFC 8985 s6.1). */
    CHECK_EQ(tern_sock_send(sk, g_data, 2 * MSS, 0), (ssize_t)(2 * MSS));
    drain(w);
    REQUIRE(cb->cold != NULL);
    CHECK_EQ(tcp_rack_count(&cb->cold->rack), 1); /* two segments sent at once: one entry */
    CHECK_EQ(tcp_cold_count(w->s), 1);
    world_run(w, 5000);
    struct tern_tcp_repr a = sack_ack(ISS + 1 + 2 * MSS, 0, 0);
    wt_inject(w, &a);
    CHECK(cb->cold == NULL); /* nothing outstanding: clean */
    CHECK_EQ(tcp_cold_count(w->s), 0);
    /* RACK's variables outlive the block: the ACK gave an RTT sample. */
    struct tern_rack rk;
    tcp_rack_view(cb, &rk);
    CHECK(rk.have_xmit);
    CHECK(rk.min_rtt >= 5000 && rk.min_rtt < 6000);
    CHECK_EQ(rk.reo_wnd_mult, 1);
    CHECK_EQ(rk.end_seq, ISS + 1 + 2 * MSS);
    /* The next flight takes a block again, with RACK's variables back. */
    CHECK_EQ(tern_sock_send(sk, g_data, MSS, 0), (ssize_t)MSS);
    drain(w);
    REQUIRE(cb->cold != NULL);
    CHECK_EQ(cb->cold->rack.min_rtt, rk.min_rtt);
    CHECK(cb->cold->rack.have_xmit);
    CHECK_EQ(cb->cold->sb.snd_una, ISS + 1 + 2 * MSS);
    CHECK_EQ(cb->cold->sb.snd_max, ISS + 1 + 3 * MSS);
    world_drain(w);
    tern_sock_abort(sk);
    CHECK_EQ(tcp_cold_count(w->s), 0); /* the connection's block went with it */
    wt_finish(w, NULL, l);
}

/* A hole: the out-of-order queue needs the block until it fills. */
TEST(tcp_cold_out_of_order_until_the_hole_fills)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    struct tern_tcp_repr d = data_at(P_ISN + 1, 100); /* in order: no block */
    wt_inject(w, &d);
    CHECK(cb->cold == NULL);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 101);
    d = data_at(P_ISN + 201, 100); /* a hole of 100 bytes */
    wt_inject(w, &d);
    REQUIRE(cb->cold != NULL);
    CHECK_EQ(tcp_ooo_ranges(&cb->cold->ooo), 1);
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r)); /* the duplicate ACK at once, with the SACK block */
    CHECK_EQ(r.ack, P_ISN + 101);
    CHECK_EQ(r.opts.sack_count, 1);
    CHECK_EQ(r.opts.sack[0].left, P_ISN + 201);
    d = data_at(P_ISN + 101, 100); /* fills it */
    wt_inject(w, &d);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 301);
    CHECK(cb->cold == NULL);
    /* A duplicate owes a D-SACK (RFC 2883): a block until it is sent. */
    drain(w);
    d = data_at(P_ISN + 101, 100);
    wt_inject(w, &d);
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.opts.sack_count, 1);
    CHECK_EQ(r.opts.sack[0].left, P_ISN + 101);
    CHECK_EQ(r.opts.sack[0].right, P_ISN + 201);
    CHECK(cb->cold == NULL); /* reported: clean again */
    static uint8_t got[400];
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 300);
    world_drain(w);
    wt_finish(w, sk, l);
}

/* No memory for the block: an out-of-order segment is dropped (the peer
 * sends it again), a duplicate goes without its D-SACK; in-order data
 * never needs the block. */
TEST(tcp_cold_nomem_receiver_drops_out_of_order)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    tcp_test_cold_fail(w->s, true);
    struct tern_tcp_repr d = data_at(P_ISN + 201, 100);
    wt_inject(w, &d);
    CHECK(cb->cold == NULL);
    CHECK(tcp_cold_nomem(w->s) >= 1);
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r)); /* a duplicate ACK, no SACK block */
    CHECK_EQ(r.ack, P_ISN + 1);
    CHECK_EQ(r.opts.sack_count, 0);
    d = data_at(P_ISN + 1, 200); /* in order: taken */
    wt_inject(w, &d);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 201);
    d = data_at(P_ISN + 201, 100); /* the retransmission of the dropped one */
    wt_inject(w, &d);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 301);
    drain(w);
    d = data_at(P_ISN + 101, 100); /* a duplicate: no D-SACK without a block */
    wt_inject(w, &d);
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.ack, P_ISN + 301);
    CHECK_EQ(r.opts.sack_count, 0);
    static uint8_t got[400];
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 300);
    CHECK_MEM(got, g_data, 200);
    CHECK_MEM(got + 200, g_data, 100);
    tcp_test_cold_fail(w->s, false);
    world_drain(w);
    wt_finish(w, sk, l);
}

/* No memory when data first goes out with SACK on: the connection leaves
 * SACK recovery and RACK-TLP for NewReno and the RTO (RFC 6582, RFC 6298),
 * which need no block, and a loss is still repaired. */
TEST(tcp_cold_nomem_sender_falls_back_to_newreno)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    tcp_test_cold_fail(w->s, true);
    CHECK_EQ(tern_sock_send(sk, g_data, 4 * MSS, 0), (ssize_t)(4 * MSS));
    drain(w);
    CHECK(cb->cold == NULL);
    CHECK(!cb->sack_on && !cb->rack_on);
    CHECK_EQ(cb->snd_max, ISS + 1 + 4 * MSS);
    /* The first segment is lost: the peer SACKs the rest (ignored now). */
    world_run(w, 5000);
    for (uint32_t k = 2; k <= 4; k++) {
        struct tern_tcp_repr a = sack_ack(ISS + 1, ISS + 1 + MSS, ISS + 1 + k * MSS);
        wt_inject(w, &a);
    }
    /* Three duplicate ACKs: RFC 5681 fast retransmit of SND.UNA. */
    struct tern_tcp_repr r;
    bool resent = false;
    while (wt_pop(w, &r))
        resent |= r.seq == ISS + 1 && r.payload_len == MSS;
    CHECK(resent);
    CHECK(cb->rec.in_recovery);
    struct tern_tcp_repr a = sack_ack(ISS + 1 + 4 * MSS, 0, 0);
    wt_inject(w, &a);
    CHECK_EQ(cb->snd_una, ISS + 1 + 4 * MSS);
    CHECK(!cb->rec.in_recovery);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.timeouts, 0);
    tcp_test_cold_fail(w->s, false);
    world_drain(w);
    wt_finish(w, sk, l);
}

/* The socket pool and the TCBs grow with use, a chunk at a time, up to
 * cfg.max_sockets: a new stack holds none; indexes are handed out in
 * ascending order as when the whole table was allocated at once; the port
 * table's hash grows with the pool (ports.c ports_grow). */
TEST(tcp_pool_grows_with_use_up_to_max_sockets)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.max_sockets = SOCK_CHUNK + 10;
    struct tern_loop *loop = tern_loop_virtual_new(0);
    REQUIRE(loop != NULL);
    struct tern_stack *s = tern_stack_new(&cfg, loop);
    REQUIRE(s != NULL);
    CHECK_EQ(s->sock_cap, 0);
    static struct tern_sock *sk[SOCK_CHUNK + 10];
    int err;
    for (uint32_t i = 0; i < SOCK_CHUNK + 10; i++) {
        sk[i] = tern_sock_open(s, i % 2 ? TERN_SOCK_DGRAM : TERN_SOCK_STREAM, &err);
        REQUIRE(sk[i] != NULL);
        CHECK_EQ(sk[i]->idx, i);
        CHECK_EQ(s->sock_cap, i < SOCK_CHUNK ? SOCK_CHUNK : SOCK_CHUNK + 10);
        CHECK(i % 2 ? sk[i]->pcb != NULL : tcp_cb_of(sk[i])->sk == sk[i]);
        if (i % 2) { /* bound: in the port table, which grows with the pool */
            struct tern_sockaddr la = {0, (uint16_t)(10000 + i)};
            CHECK_EQ(tern_sock_bind(sk[i], &la), TERN_OK);
        }
    }
    /* Every binding is still found after the tables grew past their start. */
    for (uint32_t i = 1; i < SOCK_CHUNK + 10; i += 2)
        CHECK(ports_first(s, TERN_IPPROTO_UDP, (uint16_t)(10000 + i)) == sk[i]);
    CHECK(tern_sock_open(s, TERN_SOCK_STREAM, &err) == NULL); /* the cap */
    CHECK_EQ(err, TERN_E_NOMEM);
    /* A released slot is the next one given (LIFO free list). */
    tern_sock_close(sk[5]);
    struct tern_sock *again = tern_sock_open(s, TERN_SOCK_STREAM, &err);
    REQUIRE(again != NULL);
    CHECK_EQ(again->idx, 5);
    CHECK(again == sk[5]); /* slots never move */
    sk[5] = again;
    for (uint32_t i = 0; i < SOCK_CHUNK + 10; i++)
        tern_sock_close(sk[i]);
    CHECK_EQ(s->sock_count, 0);
    tern_stack_free(s);
    tern_loop_destroy(loop);
}
