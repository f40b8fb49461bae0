/*
 * Segments of a short connection (request, response, close), on the state
 * world: what a handler sends, closes and reads goes out at the end of its
 * turn (sock_defer_tx), so the FIN rides on the last data when the
 * application closes right after sending (RFC 9293 s3.10.4: the FIN follows
 * the queued data; a segment may carry both) and the ACK of a request rides
 * on the response (delayed ACK, RFC 1122 s4.2.3.2 / RFC 9293 s3.8.6.3).
 * Outside a handler a send still goes out at once.
 */
#include "harness.h"
#include "tcp_util.h"

static uint8_t g_req[64], g_buf[256];

struct seen {
    int n;
    uint16_t flags[4];
    uint32_t seq[4], ack[4];
    size_t len[4];
};

static void pop_seen(struct world *w, struct seen *s)
{
    struct tern_tcp_repr r;
    memset(s, 0, sizeof *s);
    while (wt_pop(w, &r)) {
        if (s->n < 4) {
            s->flags[s->n] = r.flags;
            s->seq[s->n] = r.seq;
            s->ack[s->n] = r.ack;
            s->len[s->n] = r.payload_len;
        }
        s->n++;
    }
}

/* An HTTP/1.0-style server: read the request, answer, close. */
static void on_request(struct tern_sock *sk, unsigned ev, void *ctx)
{
    int *calls = ctx;
    (void)ev;
    if (tern_sock_recv(sk, g_buf, sizeof g_buf, 0) != 64)
        return;
    (*calls)++;
    tern_sock_send(sk, g_buf, 64, 0);
    tern_sock_set_handler(sk, 0, NULL, NULL);
    tern_sock_close(sk);
}

static void request_in(struct world *w)
{
    struct tern_tcp_repr req = wt_peer(P_ISN + 1, ISS + 1, ACKF | TERN_TCP_PSH, 1000);
    req.payload = g_req;
    req.payload_len = sizeof g_req;
    wt_inject(w, &req);
}

/* The peer's 64-byte request arrives; the handler answers and closes in
 * the same turn. One segment: the ACK of the request, the response, FIN. */
TEST(tcp_short_response_carries_ack_and_fin)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    int calls = 0;
    tern_sock_set_handler(sk, TERN_POLLIN, on_request, &calls);
    request_in(w);
    world_run(w, 0); /* the handler's turn, not the 40 ms delayed ACK */
    CHECK_EQ(calls, 1);
    struct seen s;
    pop_seen(w, &s);
    CHECK_EQ(s.n, 1);
    CHECK_EQ(s.flags[0], ACKF | TERN_TCP_PSH | TERN_TCP_FIN);
    CHECK_EQ(s.seq[0], ISS + 1);
    CHECK_EQ(s.ack[0], P_ISN + 1 + 64);
    CHECK_EQ(s.len[0], 64);
    CHECK_STR(wt_state(sk), "FIN_WAIT1");
    CHECK_EQ(cb->snd_max, ISS + 1 + 64 + 1);
    /* the peer's ACK of data and FIN, then its FIN: TIME-WAIT as usual */
    struct tern_tcp_repr a = wt_peer(P_ISN + 65, ISS + 66, ACKF | TERN_TCP_FIN, 1000);
    wt_inject(w, &a);
    pop_seen(w, &s);
    CHECK_EQ(s.n, 1);
    CHECK_EQ(s.ack[0], P_ISN + 66);
    wt_finish(w, NULL, l);
}

/* Outside a handler nothing waits: send goes out at once, close adds the
 * FIN in a segment of its own (as before). */
TEST(tcp_short_send_outside_handler_is_immediate)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    CHECK_EQ(tern_sock_send(sk, g_buf, 64, 0), 64);
    struct seen s;
    pop_seen(w, &s);
    CHECK_EQ(s.n, 1);
    CHECK_EQ(s.len[0], 64);
    CHECK_EQ(tern_sock_close(sk), TERN_OK);
    pop_seen(w, &s);
    CHECK_EQ(s.n, 1);
    CHECK(s.flags[0] & TERN_TCP_FIN);
    CHECK_EQ(s.seq[0], ISS + 1 + 64);
    struct tern_tcp_repr rst = wt_peer(P_ISN + 1, 0, TERN_TCP_RST, 0);
    wt_inject(w, &rst);
    wt_finish(w, NULL, l);
}

static void on_request_abort(struct tern_sock *sk, unsigned ev, void *ctx)
{
    int *calls = ctx;
    (void)ev;
    (*calls)++;
    tern_sock_send(sk, g_buf, 64, 0);
    tern_sock_set_handler(sk, 0, NULL, NULL);
    tern_sock_abort(sk);
}

/* A handler that sends and then aborts: the held data still goes out
 * before the RST (RFC 9293 s3.10.5 ABORT), as when it was sent at once. */
TEST(tcp_short_abort_in_handler_sends_held_data_first)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    int calls = 0;
    tern_sock_set_handler(sk, TERN_POLLIN, on_request_abort, &calls);
    request_in(w);
    world_run(w, 0);
    CHECK_EQ(calls, 1);
    struct seen s;
    pop_seen(w, &s);
    CHECK_EQ(s.n, 2);
    CHECK_EQ(s.len[0], 64);
    CHECK_EQ(s.seq[0], ISS + 1);
    CHECK(s.flags[1] & TERN_TCP_RST);
    CHECK_EQ(s.seq[1], ISS + 1 + 64);
    wt_finish(w, NULL, l);
}
