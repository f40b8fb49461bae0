/*
 * TCP flow details on the state world: delayed ACKs and immediate ACKs for
 * out-of-order data with SACK blocks, Nagle and TCP_NODELAY, a FIN beyond a
 * hole, netstat rows, and one-byte segments at every other offset (ATTACKS
 * 33) on a live connection. Conventions as in tcp_state_test.c.
 */
#include "harness.h"
#include "tcp_util.h"

TEST(tcp_state_delayed_ack_every_second_segment)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    static uint8_t d[1460];
    struct tern_tcp_repr s = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    s.payload = d;
    s.payload_len = sizeof d;
    wt_inject(w, &s);
    CHECK_EQ(world_pending_ip(w), 0); /* the first waits */
    s.seq += sizeof d;
    wt_inject(w, &s);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a)); /* RFC 9293 s3.8.6.3 / RFC 1122 4.2.3.2: the second is ACKed at once */
    CHECK_EQ(a.ack, P_ISN + 1 + 2 * 1460);
    /* Out of order: an immediate duplicate ACK with a SACK block (RFC 5681
     * s4.2, RFC 2018). */
    s.seq += 2 * sizeof d;
    wt_inject(w, &s);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.ack, P_ISN + 1 + 2 * 1460);
    REQUIRE_EQ(a.opts.sack_count, 1);
    CHECK_EQ(a.opts.sack[0].left, P_ISN + 1 + 3 * 1460);
    CHECK_EQ(a.opts.sack[0].right, P_ISN + 1 + 4 * 1460);
    wt_finish(w, sk, l);
}

TEST(tcp_state_nagle_and_nodelay)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tern_tcp_repr a;
    CHECK_EQ(tern_sock_send(sk, "a", 1, 0), 1);
    REQUIRE(wt_pop(w, &a)); /* nothing outstanding: it goes */
    CHECK_EQ(tern_sock_send(sk, "b", 1, 0), 1);
    CHECK_EQ(world_pending_ip(w), 0); /* RFC 1122 4.2.3.4: waits for the ACK */
    struct tern_tcp_repr ack = wt_peer(P_ISN + 1, ISS + 2, ACKF, 1000);
    wt_inject(w, &ack);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.seq, ISS + 2);
    CHECK_MEM(a.payload, "b", 1);
    CHECK_EQ(tern_sock_setopt(sk, TERN_TCP_NODELAY, 1), 0);
    CHECK_EQ(tern_sock_send(sk, "c", 1, 0), 1);
    REQUIRE(wt_pop(w, &a)); /* with TCP_NODELAY: at once, "b" still unacknowledged */
    CHECK_EQ(a.seq, ISS + 3);
    wt_finish(w, sk, l);
}

TEST(tcp_state_netstat_rows)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tern_sock_info rows[4];
    CHECK_EQ(tern_sock_list(w->s, rows, 4), 2);
    CHECK_STR(rows[0].state, "LISTEN");
    CHECK_EQ(rows[0].local.port, 80);
    CHECK_STR(rows[1].state, "ESTABLISHED");
    CHECK_EQ(rows[1].peer.addr, W_PEER);
    CHECK_EQ(rows[1].peer.port, P_PORT);
    CHECK_EQ(rows[1].mss, 1460);
    CHECK_EQ(rows[1].cwnd, 14600); /* RFC 6928 IW10 */
    /* RFC 6298 s2.2: the ACK of our SYN-ACK gave the first sample (0 us in
     * the state world), so RTO = the configured minimum (s2.4), 200 ms. */
    CHECK_EQ(rows[1].rto_us, 200000);
    wt_finish(w, sk, l);
}

TEST(attack_33_one_byte_segments_every_other_offset_bounded)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    for (uint32_t i = 0; i < 5000; i++) {
        struct tern_tcp_repr s = wt_peer(P_ISN + 2 + 2 * i, ISS + 1, ACKF, 1000);
        s.payload = (const uint8_t *)"z";
        s.payload_len = 1;
        wt_inject(w, &s);
        world_drain(w);
    }
    struct tcp_cb *cb = tcp_cb_of(sk);
    CHECK(!cb->cold || tcp_ooo_ranges(&cb->cold->ooo) <= TCP_OOO_RANGES);
    CHECK(!cb->cold || tcp_ooo_bytes(&cb->cold->ooo) <= TCP_OOO_RANGES);
    /* The hole at RCV.NXT fills and the parked bytes become readable. */
    struct tern_tcp_repr s = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    s.payload = (const uint8_t *)"z";
    s.payload_len = 1;
    wt_inject(w, &s);
    CHECK_EQ(cb->rcv_nxt, P_ISN + 3);
    wt_finish(w, sk, l);
}

TEST(tcp_state_fin_beyond_hole_taken_when_filled)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tern_tcp_repr s = wt_peer(P_ISN + 11, ISS + 1, ACKF | TERN_TCP_FIN, 1000);
    s.payload = (const uint8_t *)"0123456789";
    s.payload_len = 10;
    wt_inject(w, &s);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.ack, P_ISN + 1); /* out of order: a duplicate ACK */
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    s = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    s.payload = (const uint8_t *)"abcdefghij";
    s.payload_len = 10;
    wt_inject(w, &s);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.ack, P_ISN + 1 + 20 + 1); /* the data and the FIN */
    CHECK_STR(wt_state(sk), "CLOSE_WAIT");
    char buf[32];
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 20);
    CHECK_MEM(buf, "abcdefghij0123456789", 20);
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 0);
    /* Our close: LAST_ACK with FIN <SEQ=ISS+1>; the peer's ACK ends it. */
    CHECK_EQ(tern_sock_close(sk), 0);
    REQUIRE(wt_pop(w, &a));
    CHECK_EQ(a.flags, ACKF | TERN_TCP_FIN);
    CHECK_EQ(a.seq, ISS + 1);
    s = wt_peer(P_ISN + 22, ISS + 2, ACKF, 1000);
    wt_inject(w, &s);
    CHECK_EQ(w->s->sock_count, 1);
    wt_finish(w, NULL, l);
}
