/*
 * tests/core/tcp_direct_test.c - received TCP data copied straight into a
 * buffer the application registered (tern_sock_recv_post, tcp_in.c
 * place_payload/process_text): in-order data with an empty receive ring
 * lands there, in order with what the ring holds after it, and the window
 * we advertise counts only the ring's free space (RFC 9293 s3.8.6).
 * Conventions as in tcp_state_test.c.
 */
#include <string.h>

#include "harness.h"
#include "tcp_util.h"

static uint8_t pat[4][1460];

static void fill_pats(void)
{
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 1460; i++)
            pat[k][i] = (uint8_t)(k * 61 + i * 7 + 1);
}

static void data_seg(struct world *w, uint32_t seq, int k)
{
    struct tern_tcp_repr s = wt_peer(seq, ISS + 1, ACKF, 1000);
    s.payload = pat[k];
    s.payload_len = 1460;
    wt_inject(w, &s);
}

/* The window field of the ACK two in-order segments get, with or without
 * a registered buffer; *w0: the one offered before any data. */
static uint16_t two_segments_window(bool post, uint16_t *w0, uint8_t *buf, size_t blen)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    CHECK(sk != NULL);
    if (!sk)
        return 0;
    if (post)
        CHECK_EQ(tern_sock_recv_post(sk, buf, blen), 0);
    /* An old segment: answered at once with the window as it is. */
    struct tern_tcp_repr old = wt_peer(P_ISN, ISS + 1, ACKF, 1000);
    old.payload = pat[0];
    old.payload_len = 1;
    wt_inject(w, &old);
    struct tern_tcp_repr a = {0};
    CHECK(wt_pop(w, &a));
    *w0 = a.win;
    data_seg(w, P_ISN + 1, 0);
    if (post) /* placed before any recv */
        CHECK_MEM(buf, pat[0], 1460);
    data_seg(w, P_ISN + 1 + 1460, 1);
    CHECK(wt_pop(w, &a));
    CHECK_EQ(a.ack, P_ISN + 1 + 2 * 1460);
    uint8_t got[4000];
    ssize_t n = tern_sock_recv(sk, post ? buf : got, post ? blen : sizeof got, 0);
    CHECK_EQ(n, 2 * 1460);
    CHECK_MEM(post ? buf : got, pat[0], 1460);
    CHECK_MEM((post ? buf : got) + 1460, pat[1], 1460);
    wt_finish(w, sk, l);
    return a.win;
}

TEST(tcp_direct_in_order_data_lands_in_the_posted_buffer_window_stays_open)
{
    fill_pats();
    static uint8_t buf[4000];
    memset(buf, 0xee, sizeof buf);
    uint16_t w0p, w0c;
    uint16_t wp = two_segments_window(true, &w0p, buf, sizeof buf);
    uint16_t wc = two_segments_window(false, &w0c, NULL, 0);
    CHECK_EQ(w0p, w0c);
    /* RFC 9293 s3.8.6: the window is the space left to receive into. The
     * ring took nothing: still the whole of it; without the buffer, the
     * ring holds 2920 bytes and the window says so. */
    CHECK_EQ(wp, w0p);
    CHECK(wc < w0c);
}

TEST(tcp_direct_order_kept_across_buffer_and_ring)
{
    fill_pats();
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    static uint8_t small[1000], big[8000];
    memset(small, 0xee, sizeof small);
    CHECK_EQ(tern_sock_recv_post(sk, NULL, 5), TERN_E_INVAL);
    CHECK_EQ(tern_sock_recv_post(sk, small, sizeof small), 0);
    /* 1000 bytes go to the buffer, 460 to the ring; the next segment
     * finds the ring not empty and goes there too. */
    uint32_t seq = P_ISN + 1;
    data_seg(w, seq, 0);
    CHECK_MEM(small, pat[0], 1000);
    data_seg(w, seq + 1460, 1);
    CHECK_EQ(tern_sock_recv_post(sk, big, sizeof big), TERN_E_AGAIN); /* unread bytes */
    CHECK(tern_sock_poll(sk) & TERN_POLLIN);
    /* A peek, then a recv into another buffer: all 2920 bytes in order. */
    uint8_t pk[1500];
    CHECK_EQ(tern_sock_recv(sk, pk, sizeof pk, TERN_MSG_PEEK), 1500);
    CHECK_MEM(pk, pat[0], 1460);
    CHECK_MEM(pk + 1460, pat[1], 40);
    CHECK_EQ(tern_sock_recv(sk, big, 300, 0), 300); /* shorter than what waits */
    CHECK_EQ(tern_sock_recv(sk, big + 300, sizeof big - 300, 0), 2920 - 300);
    CHECK_MEM(big, pat[0], 1460);
    CHECK_MEM(big + 1460, pat[1], 1460);
    /* Out of order: parked in the ring, never in the buffer; the segment
     * filling the hole joins it there. */
    seq += 2 * 1460;
    memset(small, 0xee, sizeof small);
    data_seg(w, seq + 1460, 3);
    CHECK_EQ(small[0], 0xee);
    data_seg(w, seq, 2);
    CHECK_EQ(small[0], 0xee);
    CHECK_EQ(tern_sock_recv(sk, big, sizeof big, 0), 2 * 1460);
    CHECK_MEM(big, pat[2], 1460);
    CHECK_MEM(big + 1460, pat[3], 1460);
    /* Unregistered: data goes to the ring again. */
    CHECK_EQ(tern_sock_recv_post(sk, NULL, 0), 0);
    seq += 2 * 1460;
    data_seg(w, seq, 0);
    CHECK_EQ(small[0], 0xee);
    CHECK_EQ(tern_sock_recv(sk, big, sizeof big, 0), 1460);
    CHECK_MEM(big, pat[0], 1460);
    wt_finish(w, sk, l);
}

TEST(tcp_direct_bad_checksum_leaves_nothing_readable)
{
    fill_pats();
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    static uint8_t buf[2000];
    CHECK_EQ(tern_sock_recv_post(sk, buf, sizeof buf), 0);
    struct tern_tcp_repr s = wt_peer(P_ISN + 1, ISS + 1, ACKF, 1000);
    s.payload = pat[0];
    s.payload_len = 1460;
    uint8_t seg[1600], frame[1700];
    int h = tern_tcp_emit(&s, W_PEER, W_US, seg, sizeof seg);
    REQUIRE(h > 0);
    seg[h - 1] ^= 0x40; /* one payload bit */
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_TCP, 9);
    size_t fl = w_ip_frame(frame, &ip, seg, (size_t)h);
    world_inject(w, frame, fl);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.drop_csum, 1);
    CHECK(!(tern_sock_poll(sk) & TERN_POLLIN));
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), TERN_E_AGAIN);
    /* The same segment intact is taken. */
    data_seg(w, P_ISN + 1, 0);
    CHECK_EQ(tern_sock_recv(sk, buf, sizeof buf, 0), 1460);
    CHECK_MEM(buf, pat[0], 1460);
    wt_finish(w, sk, l);
}

/* The in-order fast path (process_text) without bytes placed ahead:
 * FIN-WAIT-1 data (place_payload serves ESTABLISHED only) is written from
 * the segment, counted as tcp_ooo_input would count it, readable in order;
 * after a hole it is tcp_ooo_input's again. */
TEST(tcp_direct_in_order_fast_path_in_fin_wait)
{
    fill_pats();
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    CHECK_EQ(tern_sock_shutdown(sk, TERN_SHUT_WR), 0);
    struct tern_tcp_repr a;
    REQUIRE(wt_pop(w, &a)); /* our FIN */
    CHECK_STR(wt_state(sk), "FIN_WAIT1");
    struct tcp_cb *cb = tcp_cb_of(sk);
    struct tern_tcp_ooo_stats st;
    tcp_stack_ooo_stats(w->s, &st); /* the stack's totals: the queue may be a cold block's */
    uint64_t segs0 = st.segs_in, inord0 = st.bytes_in_order;
    uint32_t seq = P_ISN + 1;
    data_seg(w, seq, 0);
    data_seg(w, seq + 1460, 1);
    tcp_stack_ooo_stats(w->s, &st);
    CHECK_EQ(st.segs_in - segs0, 2);
    CHECK_EQ(st.bytes_in_order - inord0, 2 * 1460);
    CHECK_EQ(cb->rcv_nxt, seq + 2 * 1460);
    /* A hole, then the segment filling it (the general path). */
    data_seg(w, seq + 3 * 1460, 3);
    REQUIRE(cb->cold != NULL); /* a hole needs the connection's own queue */
    CHECK_EQ(tcp_ooo_ranges(&cb->cold->ooo), 1);
    data_seg(w, seq + 2 * 1460, 2);
    CHECK(cb->cold == NULL || tcp_ooo_ranges(&cb->cold->ooo) == 0);
    CHECK_EQ(cb->rcv_nxt, seq + 4 * 1460);
    static uint8_t got[8000];
    CHECK_EQ(tern_sock_recv(sk, got, sizeof got, 0), 4 * 1460);
    for (int k = 0; k < 4; k++)
        CHECK_MEM(got + k * 1460, pat[k], 1460);
    wt_finish(w, sk, l);
}
