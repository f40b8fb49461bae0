/*
 * What the TCP sender may put on the wire, on the state world: every path
 * that sends from the send ring keeps retransmissions within [SND.UNA,
 * SND.MAX) and new data within SND.UNA + SND.WND (tcp_send_room); the
 * tail-loss probe (RFC 8985 s7.3), the RTO (RFC 6298 s5.4) and the rest of
 * a segment cut down by ICMP "fragmentation needed" (RFC 1191) included;
 * the override timeout of sender SWS avoidance (RFC 1122 4.2.3.4).
 * The peer's window scale is 7: a window field of n offers n * 128 bytes.
 */
#include "harness.h"
#include "tcp_util.h"
#include "tern/wire/bytes.h"

#define MSS 1460u

static uint8_t g_data[20000];

/* The peer's ACK of `ack` with window field `win` (bytes: win << 7). */
static void peer_ack(struct world *w, uint32_t ack, uint16_t win)
{
    struct tern_tcp_repr a = wt_peer(P_ISN + 1, ack, ACKF, win);
    wt_inject(w, &a);
}

/* Pops every segment sent; the highest end of their data (seq + payload)
 * and their number. */
static int pop_all(struct world *w, uint32_t *max_end, uint32_t *bytes)
{
    struct tern_tcp_repr r;
    int n = 0;
    while (wt_pop(w, &r)) {
        uint32_t end = r.seq + (uint32_t)r.payload_len;
        if (n == 0 || tern_seq_gt(end, *max_end))
            *max_end = end;
        if (bytes)
            *bytes += (uint32_t)r.payload_len;
        n++;
    }
    return n;
}

/* RFC 8985 s7.3: the window is full (SND.MAX = SND.UNA + SND.WND) and more
 * data waits behind it. The probe must retransmit the last data sent, not
 * send the never-sent end of the send queue beyond the window. */
TEST(tcp_send_tlp_probe_stays_within_what_was_sent)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    REQUIRE(cb->rack_on);
    peer_ack(w, ISS + 1, 23); /* window 2944 */
    CHECK_EQ(cb->snd_wnd, 2944);
    cb->nodelay = true;
    CHECK_EQ(tern_sock_send(sk, g_data, 2944, 0), 2944);
    uint32_t end = 0, bytes = 0;
    CHECK_EQ(pop_all(w, &end, &bytes), 3); /* 1460 + 1460 + 24 */
    CHECK_EQ(end, ISS + 1 + 2944);
    CHECK_EQ(tern_sock_send(sk, g_data, 5000, 0), 5000); /* held by the window */
    CHECK_EQ(world_pending_ip(w), 0);
    /* The peer is silent: the PTO fires (then the RTO). */
    uint64_t probes = tern_stack_stats(w->s)->tcp.tlp_probes;
    world_run(w, 1500000);
    CHECK(tern_stack_stats(w->s)->tcp.tlp_probes > probes);
    end = 0;
    CHECK(pop_all(w, &end, NULL) >= 1);
    CHECK_EQ(end, ISS + 1 + 2944); /* nothing beyond the window */
    CHECK_EQ(cb->snd_max, ISS + 1 + 2944);
    wt_finish(w, sk, l);
}

/* RFC 6298 s5.4: the RTO retransmits "the earliest segment that has not
 * been acknowledged" - 1000 bytes were sent; the window (1024) holds the
 * rest back. The retransmission must not grow into never-sent data past
 * SND.MAX and the window. */
TEST(tcp_send_rto_retransmits_only_what_was_sent)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, WT_NOSACK, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    CHECK_EQ(tern_sock_send(sk, g_data, 1000, 0), 1000);
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.payload_len, 1000);
    peer_ack(w, ISS + 1, 8); /* a window update: 1024 */
    CHECK_EQ(cb->snd_wnd, 1024);
    CHECK_EQ(tern_sock_send(sk, g_data, 5000, 0), 5000);
    CHECK_EQ(world_pending_ip(w), 0); /* 24 usable bytes: sender SWS holds */
    world_run(w, 1500000);
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, ISS + 1);
    CHECK_EQ(r.payload_len, 1000);
    CHECK_EQ(cb->snd_max, ISS + 1001);
    wt_finish(w, sk, l);
}

/* RFC 5681 s3.2 / RFC 6582: the fast retransmission is "the lost segment"
 * - with small segments in flight (TCP_NODELAY writes) and the window
 * holding the rest, not an MSS of never-sent data. */
TEST(tcp_send_fast_retransmit_only_what_was_sent)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, WT_NOSACK, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    cb->nodelay = true;
    for (int i = 0; i < 5; i++)
        CHECK_EQ(tern_sock_send(sk, g_data, 100, 0), 100);
    uint32_t end = 0;
    CHECK_EQ(pop_all(w, &end, NULL), 5);
    peer_ack(w, ISS + 1, 4); /* window 512 < 500 + 100: the next write waits */
    CHECK_EQ(tern_sock_send(sk, g_data, 3000, 0), 3000);
    CHECK_EQ(world_pending_ip(w), 0);
    for (int i = 0; i < 3; i++)
        peer_ack(w, ISS + 1, 4); /* duplicate ACKs: the first 100 bytes lost */
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, ISS + 1);
    CHECK(r.payload_len <= 500);
    CHECK_EQ(cb->snd_max, ISS + 501);
    wt_finish(w, sk, l);
}

/* An ICMP error from the peer quoting our segment with sequence seq. */
static void icmp_frag_needed(struct world *w, uint16_t mtu, uint32_t seq)
{
    uint8_t inner[28], msg[64], frame[128];
    struct tern_ipv4_repr in = w_ip(W_US, W_PEER, TERN_IPPROTO_TCP, 9);
    in.payload_len = 120;
    tern_ipv4_emit(&in, inner, sizeof inner);
    tern_put16(inner + 20, 80);
    tern_put16(inner + 22, P_PORT);
    tern_put32(inner + 24, seq);
    size_t n = w_icmp(msg, 3, 4, mtu, inner, sizeof inner);
    struct tern_ipv4_repr out = w_ip(W_PEER, W_US, TERN_IPPROTO_ICMP, 10);
    size_t fl = w_ip_frame(frame, &out, msg, n);
    world_inject(w, frame, fl);
}

/* RFC 1191 s6.5 / RFC 5927: after "fragmentation needed" the data that was
 * too big is resent at the new MSS - all of it at once: the last 40 bytes
 * are a retransmission, not new data, and Nagle (RFC 9293 s3.8.6.2.1) does
 * not hold them until the RTO. */
TEST(tcp_send_frag_needed_resends_all_without_nagle)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    CHECK_EQ(tern_sock_send(sk, g_data, 2 * MSS, 0), (ssize_t)(2 * MSS));
    uint32_t end = 0;
    CHECK_EQ(pop_all(w, &end, NULL), 2);
    icmp_frag_needed(w, 1000, ISS + 1);
    CHECK_EQ(tcp_cb_of(sk)->mss, 960);
    uint32_t bytes = 0;
    end = 0;
    CHECK_EQ(pop_all(w, &end, &bytes), 4); /* 960 960 960 40 */
    CHECK_EQ(bytes, 2 * MSS);
    CHECK_EQ(end, ISS + 1 + 2 * MSS);
    wt_finish(w, sk, l);
}

/* The peer ACKs everything with a window below the MSS and below half its
 * largest, then goes silent. Sender SWS avoidance holds the data, nothing
 * is in flight and the window is not zero: RFC 1122 4.2.3.4 / RFC 9293
 * s3.8.6.2.1 require the override timeout - send anyway - and then the
 * silent peer must end the connection (retransmissions, user timeout)
 * instead of leaving it established forever. */
TEST(tcp_send_sws_override_then_silent_peer_times_out)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    CHECK_EQ(tern_sock_send(sk, g_data, 2 * MSS, 0), (ssize_t)(2 * MSS));
    uint32_t end = 0;
    CHECK_EQ(pop_all(w, &end, NULL), 2);
    peer_ack(w, ISS + 1 + 2 * MSS, 8); /* all ACKed, window 1024 */
    CHECK_EQ(tern_sock_send(sk, g_data, 5000, 0), 5000);
    CHECK_EQ(world_pending_ip(w), 0); /* sender SWS */
    world_run(w, 5000000);
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, ISS + 1 + 2 * MSS);
    CHECK(r.payload_len > 0 && r.payload_len <= 1024); /* within the window */
    for (int i = 0; i < 100 && tcp_cb_of(sk)->state != TCP_CLOSED; i++)
        world_run(w, 10000000);
    CHECK_STR(wt_state(sk), "CLOSE");
    /* Timed out; the soft error (the peer's unanswered ARP revalidation:
     * host unreachable) is what is reported then (RFC 1122 4.2.3.9). */
    int err = tern_sock_error(sk);
    CHECK(err == TERN_E_TIMEDOUT || err == TERN_E_HOSTUNREACH);
    wt_finish(w, sk, l);
}

/* The same after close(): the connection must not sit in FIN-WAIT-1 for
 * good (a remote peer could pin every socket slot so). */
TEST(tcp_send_sws_stall_after_close_ends)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    CHECK_EQ(tern_sock_send(sk, g_data, 2 * MSS, 0), (ssize_t)(2 * MSS));
    world_drain(w);
    peer_ack(w, ISS + 1 + 2 * MSS, 8);
    CHECK_EQ(tern_sock_send(sk, g_data, 5000, 0), 5000);
    tern_sock_close(sk);
    CHECK_EQ(w->s->sock_count, 2);
    for (int i = 0; i < 100 && w->s->sock_count > 1; i++) {
        world_run(w, 10000000);
        world_drain(w);
    }
    CHECK_EQ(w->s->sock_count, 1); /* only the listener */
    wt_finish(w, NULL, l);
}

/* RFC 9293 s3.7.1 / RFC 1122 4.2.2.6: Eff.snd.MSS = min(SendMSS + 20,
 * MMS_S) - TCPhdrsize - IPoptionsize, one function (tcp_eff_mss) for the
 * handshake, ICMP "fragmentation needed" and the RFC 4821 fallback. */
TEST(tcp_send_effective_mss_one_rule)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, WT_TS, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    /* Peer 1460, route MTU 1500 (1460), timestamps: 1460 - 12. */
    CHECK_EQ(cb->mss, 1448);
    CHECK_EQ(tcp_eff_mss(cb), 1448);
    cb->peer_mss = 1000; /* SendMSS below the path */
    CHECK_EQ(tcp_eff_mss(cb), 988);
    cb->user_mss = 900; /* TCP_MAXSEG */
    CHECK_EQ(tcp_eff_mss(cb), 888);
    cb->mss_cap = 536; /* a learned cap (black-hole fallback) */
    CHECK_EQ(tcp_eff_mss(cb), 524);
    cb->ts_ok = false;
    CHECK_EQ(tcp_eff_mss(cb), 536);
    cb->ts_ok = true;
    cb->mss_cap = 28; /* MTU 68: never below the floor */
    CHECK_EQ(tcp_eff_mss(cb), TCP_MIN_EFF_MSS);
    cb->peer_mss = 0; /* no MSS option: 536 */
    cb->user_mss = 0;
    cb->mss_cap = 0;
    CHECK_EQ(tcp_eff_mss(cb), 524);
    cb->peer_mss = 1460;
    /* ICMP frag-needed, MTU 1000: 960 less the timestamp option, through
     * the same function. */
    CHECK_EQ(tern_sock_send(sk, g_data, 2000, 0), 2000);
    world_drain(w);
    icmp_frag_needed(w, 1000, ISS + 1);
    CHECK_EQ(cb->mss_cap, 960);
    CHECK_EQ(cb->mss, 948);
    CHECK_EQ(tcp_eff_mss(cb), 948);
    world_drain(w);
    wt_finish(w, sk, l);
}

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

/* Proportional Rate Reduction (RFC 6937 s3, PRR-SSRB; kept by RFC 9937).
 * A flight of 40 segments (20 more wait) loses its first 20; the next 20
 * arrive and each is SACKed by its own ACK. The first two ACKs release a
 * limited-transmit segment each (RFC 3042): 42 in flight. On the third,
 * recovery starts (RFC 6675 DupThresh; RACK marks the 20 lost): ssthresh
 * = 0.7 * 42 segments (CUBIC, RFC 9438 s4.6), pipe = 42 - 20 lost - 3
 * SACKed = 19. RFC 6675 alone sets cwnd = ssthresh and sends cwnd - pipe
 * = 10 segments on that one ACK; PRR-SSRB sends at most
 * MAX(prr_delivered - prr_out, DeliveredData) + 1 SMSS per ACK (after the
 * forced first retransmission), like slow start, until pipe reaches
 * ssthresh, then one for one. */
TEST(tcp_send_prr_no_burst_in_recovery)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    REQUIRE(cb->rack_on);
    cb->cc.cwnd = 40 * MSS; /* a large flight (the peer's window is 128000) */
    static uint8_t big[60 * MSS]; /* 20 more segments wait for cwnd */
    CHECK_EQ(tern_sock_send(sk, big, sizeof big, 0), (ssize_t)sizeof big);
    uint32_t end = 0;
    CHECK_EQ(pop_all(w, &end, NULL), 40);
    world_run(w, 10000);
    uint32_t s20 = ISS + 1 + 20 * MSS;
    int max_per_ack = 0, sent_in_rec = 0, acks_in_rec = 0;
    for (uint32_t k = 1; k <= 20; k++) {
        struct tern_tcp_repr a = sack_ack(ISS + 1, s20, s20 + k * MSS);
        wt_inject(w, &a);
        bool rec = cb->cold && cb->cold->sb.in_recovery;
        struct tern_tcp_repr r;
        int n = 0;
        while (wt_pop(w, &r))
            n += r.payload_len > 0;
        if (rec) {
            acks_in_rec++;
            sent_in_rec += n;
            if (n > max_per_ack)
                max_per_ack = n;
        }
        world_run(w, 100);
    }
    CHECK(acks_in_rec >= 17);
    CHECK(max_per_ack <= 3); /* no burst: RFC 6675 alone sent 11 at once */
    uint32_t ss = cb->cc.ssthresh;
    CHECK(ss > 29 * MSS && ss < 30 * MSS); /* 0.7 * 42 segments */
    /* PRR brought the data in flight to ssthresh by the end of recovery. */
    REQUIRE(cb->cold != NULL); /* data outstanding with SACK on */
    uint32_t pipe = tcp_sack_set_pipe(&cb->cold->sb);
    CHECK(pipe <= ss && pipe + 2 * MSS >= ss);
    CHECK(sent_in_rec >= 20); /* every lost segment resent */
    /* Everything arrives: a cumulative ACK of all sent ends recovery. */
    struct tern_tcp_repr a = sack_ack(cb->snd_max, 0, 0);
    wt_inject(w, &a);
    CHECK(!cb->cold || !cb->cold->sb.in_recovery);
    CHECK(!cb->prr_on);
    CHECK_EQ(cb->cc.cwnd, ss); /* RFC 6937 s3 / RFC 6675: cwnd = ssthresh on exit */
    world_drain(w);
    wt_finish(w, sk, l);
}

/* PRR without SACK (RFC 6937 s3: a duplicate ACK delivered 1 SMSS) in
 * RFC 6582 NewReno fast recovery. 40 segments in flight, the first lost,
 * the others arrive and each draws a duplicate ACK. After the fast
 * retransmission, RFC 5681's inflation sends nothing until cwnd = ssthresh
 * + 3 SMSS + the inflation passes FlightSize (about 10 ACKs), then one
 * segment per ACK; PRR sends from the start, ssthresh / RecoverFS (0.7)
 * of a segment per ACK - never a burst - and over the recovery about
 * ssthresh in all. */
TEST(tcp_send_prr_newreno_proportional)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, WT_NOSACK, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    REQUIRE(!cb->sack_on);
    cb->cc.cwnd = 40 * MSS;
    static uint8_t big[80 * MSS];
    CHECK_EQ(tern_sock_send(sk, big, sizeof big, 0), (ssize_t)sizeof big);
    uint32_t end = 0;
    CHECK_EQ(pop_all(w, &end, NULL), 40);
    world_run(w, 10000);
    int first10 = 0, total = 0, max_per_ack = 0, in_rec = 0;
    for (int k = 1; k <= 39; k++) {
        struct tern_tcp_repr a = sack_ack(ISS + 1, 0, 0);
        wt_inject(w, &a);
        struct tern_tcp_repr r;
        int n = 0;
        while (wt_pop(w, &r))
            n += r.payload_len > 0 && r.seq != ISS + 1; /* new data */
        if (cb->rec.in_recovery) {
            in_rec++;
            total += n;
            if (in_rec <= 10)
                first10 += n;
            if (n > max_per_ack)
                max_per_ack = n;
        }
        world_run(w, 100);
    }
    CHECK_EQ(in_rec, 37);
    CHECK(first10 >= 5);     /* RFC 5681 inflation: none yet */
    CHECK(max_per_ack <= 1); /* no burst */
    uint32_t ss = cb->cc.ssthresh;
    /* prr_out (the retransmission and new data) tracks
     * CEIL(prr_delivered * ssthresh / RecoverFS). */
    CHECK(total + 1 <= (int)(ss / MSS) + 1);
    CHECK(total + 1 >= (int)(37 * 7 / 10) - 1);
    /* The retransmission arrives: the full ACK ends fast recovery. */
    struct tern_tcp_repr a = sack_ack(cb->snd_max, 0, 0);
    wt_inject(w, &a);
    CHECK(!cb->rec.in_recovery);
    CHECK(!cb->prr_on);
    world_drain(w);
    wt_finish(w, sk, l);
}

/* A SACK block covering only the last byte of a segment (RFC 2018 allows
 * any byte range; an honest receiver reports whole segments as they
 * arrived, so this is a re-segmenting middlebox or a lying receiver).
 * RFC 6675 keeps the byte-wise scoreboard: one SACKed byte is far from
 * IsLost()'s DupThresh * SMSS. RFC 8985 s6.2 works on segments ("for each
 * segment newly acknowledged"): the segment is not delivered until all of
 * it is, so RACK must not time everything sent before it as lost. No loss
 * recovery; the tail loss probe (s7) finds out. */
TEST(tcp_send_partial_sack_is_not_a_delivered_segment)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    struct tcp_cb *cb = tcp_cb_of(sk);
    REQUIRE(cb->rack_on);
    CHECK_EQ(tern_sock_send(sk, g_data, 10 * MSS, 0), (ssize_t)(10 * MSS));
    uint32_t end = 0;
    CHECK_EQ(pop_all(w, &end, NULL), 10);
    world_run(w, 10000);
    uint32_t s2 = ISS + 1 + 2 * MSS;
    struct tern_tcp_repr a = sack_ack(ISS + 1, s2 - 1, s2);
    wt_inject(w, &a);
    REQUIRE(cb->cold != NULL);
    CHECK_EQ(cb->cold->sb.sacked, 1); /* the scoreboard has the byte */
    world_run(w, 50000);        /* far past RACK's reordering window */
    REQUIRE(cb->cold != NULL);
    CHECK(!cb->cold->sb.in_recovery);
    CHECK(!tcp_rack_any_lost(&cb->cold->rack));
    struct tern_tcp_repr r;
    /* Nothing resent from the front: the first retransmission is the
     * loss probe of the last segment (s7.3). */
    world_run(w, 1500000);
    CHECK(tern_stack_stats(w->s)->tcp.tlp_probes >= 1);
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, ISS + 1 + 9 * MSS);
    world_drain(w);
    wt_finish(w, sk, l);
}
