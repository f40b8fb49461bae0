/*
 * tests/core/tcp_synq_test.c - the SYN queue as request records
 * (tcp_req.c): a half-open passive connection holds no socket nor TCB
 * until the handshake completes, is listed by netstat as SYN_RECV, is
 * reset when its listener closes, and becomes a connection with the
 * handshake's RTT (RFC 6298 s3: none after a SYN-ACK retransmission,
 * Karn). Retransmission timing: tcp_state_test.c; RFC 5961 and RFC 6191
 * cases: the conformance scripts.
 */
#include <string.h>

#include "harness.h"
#include "tcp_util.h"

_Static_assert(sizeof(struct tcp_req) <= 128, "SYN-queue record <= 128 bytes");

static struct tern_sock *listen80(struct world *w)
{
    world_learn_peer(w);
    struct tern_sock *lsk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(lsk, &la), 0);
    CHECK_EQ(tern_sock_listen(lsk, 8), 0);
    return lsk;
}

TEST(tcp_synq_record_listed_and_reset_on_listener_close)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk = listen80(w);
    tcp_test_force_iss(w->s, ISS);
    struct tern_tcp_repr syn = wt_peer(P_ISN, 0, TERN_TCP_SYN, 65535), r;
    wt_inject(w, &syn);
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.flags, TERN_TCP_SYN | ACKF);
    CHECK_EQ(r.seq, ISS);
    CHECK_EQ(w->s->sock_count, 1);
    struct tern_stack_mem m;
    stack_mem_usage(w->s, &m);
    CHECK_EQ(m.tcp_syn_reqs, 1);
    CHECK_EQ(m.tcp_conns, 0);
    struct tern_sock_info rows[4];
    CHECK_EQ(tern_sock_list(w->s, rows, 4), 2);
    CHECK_STR(rows[0].state, "LISTEN");
    CHECK_STR(rows[1].state, "SYN_RECV");
    CHECK_EQ(rows[1].peer.port, P_PORT);
    CHECK_EQ(rows[1].advmss, 1460);
    /* RFC 9293 s3.10.5 ABORT of the listener: the half-open connection is
     * reset, <SEQ=SND.NXT><CTL=RST>. */
    tern_sock_close(lsk);
    REQUIRE(wt_pop(w, &r));
    CHECK(r.flags & TERN_TCP_RST);
    CHECK_EQ(r.seq, ISS + 1);
    CHECK_EQ(tcp_req_count(w->s), 0);
    CHECK_EQ(tern_sock_list(w->s, rows, 4), 0);
    world_end(w);
}

/* The ACK of the SYN-ACK 30 ms later: the connection gets the 30 ms RTT
 * sample (RFC 6298 s2.2); had the SYN-ACK been sent again, no sample
 * (Karn) and the RFC 6298 s5.7 3 s RTO. */
TEST(tcp_synq_promotion_keeps_handshake_rtt_and_karn)
{
    for (int again = 0; again < 2; again++) {
        struct world *w = world_new(NULL);
        struct tern_sock *lsk = listen80(w);
        tcp_test_force_iss(w->s, ISS);
        struct tern_tcp_repr syn = wt_peer(P_ISN, 0, TERN_TCP_SYN, 65535), r;
        wt_inject(w, &syn);
        REQUIRE(wt_pop(w, &r));
        if (again) {
            world_run(w, 1000000); /* the SYN-ACK again after the 1 s RTO */
            REQUIRE(wt_pop(w, &r));
            CHECK_EQ(r.flags, TERN_TCP_SYN | ACKF);
        }
        world_run(w, 30000);
        struct tern_tcp_repr ack = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
        wt_inject(w, &ack);
        CHECK_EQ(tcp_req_count(w->s), 0);
        struct tern_sock *sk = tern_sock_accept(lsk, NULL, NULL);
        REQUIRE(sk);
        const struct tcp_cb *cb = tcp_cb_of(sk);
        CHECK_STR(wt_state(sk), "ESTABLISHED");
        CHECK_EQ(cb->snd_una, ISS + 1);
        CHECK_EQ(cb->rcv_nxt, P_ISN + 1);
        CHECK_EQ(cb->snd_wnd, 1000); /* no window scaling offered by the peer */
        CHECK_EQ(cb->retransmits, (uint32_t)again);
        if (again) {
            CHECK(!cb->rtt.has_sample);
            CHECK_EQ(rtt_rto(&cb->rtt), 3000000u);
        } else {
            CHECK(cb->rtt.has_sample);
            CHECK_EQ(rtt_srtt_us(&cb->rtt), 30000u);
        }
        CHECK_EQ(tcp_cb_of(lsk)->synq_len, 0);
        tern_sock_abort(sk);
        tern_sock_close(lsk);
        world_end(w);
    }
}
