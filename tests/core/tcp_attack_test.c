/*
 * TCP under attack and TCP timers on the state world: SYN floods and
 * cookies (ATTACKS 35), a window shut forever (36), ICMP errors about
 * connections (18, 19), keepalive, TIME_WAIT bounds, and sequence
 * numbers across the 2^32 wrap (two stacks, forced ISNs).
 */
#include <stdlib.h>

#include "harness.h"
#include "tcp_util.h"
#include "tern/wire/bytes.h"

TEST(attack_35_syn_flood_capped_cookies_let_clients_in)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *old = wt_establish(w, 0, &l);
    REQUIRE(old != NULL);
    CHECK_EQ(tern_route_add(w->s, 0, 0, W_PEER, w->ifindex), 0);
    /* 10,000 SYNs from spoofed addresses and ports. */
    for (uint32_t i = 0; i < 10000; i++) {
        struct tern_tcp_repr s = wt_seg((uint16_t)(1024 + i % 60000), 80, i * 7919u,
                                        0, TERN_TCP_SYN, 65535);
        wt_inject_from(w, 0x14000000u + i * 13u, &s);
        if (i % 100 == 0)
            world_drain(w);
    }
    world_drain(w);
    const struct tern_stats *stt = tern_stack_stats(w->s);
    /* Half-open state capped at cfg.tcp_syn_backlog (128); the rest got
     * stateless cookie SYN-ACKs. */
    CHECK_EQ(tcp_cb_of(l)->synq_len, 128);
    CHECK_EQ(tcp_req_count(w->s), 128); /* small records (tcp_req.c), no sockets */
    CHECK_EQ(w->s->sock_count, 2);
    CHECK_EQ(stt->tcp.syncookies_tx, 10000 - 128);
    /* The established connection keeps working. */
    struct tern_tcp_repr d = wt_seg(P_PORT, 80, P_ISN + 1, ISS + 1, ACKF, 1000);
    d.payload = (const uint8_t *)"still here";
    d.payload_len = 10;
    wt_inject(w, &d);
    char buf[32];
    CHECK_EQ(tern_sock_recv(old, buf, sizeof buf, 0), 10);
    /* A new legitimate client gets in through a cookie. */
    struct tern_tcp_repr syn = wt_seg(41000, 80, 777777, 0, TERN_TCP_SYN, 65535);
    syn.opts.has_mss = true;
    syn.opts.mss = 1460;
    syn.opts.has_ts = true;
    syn.opts.ts_val = 5;
    wt_inject(w, &syn);
    struct tern_tcp_repr sa;
    world_run(w, 1000);
    do {
        REQUIRE(wt_pop(w, &sa));
    } while (sa.dport != 41000);
    CHECK_EQ(sa.flags, TERN_TCP_SYN | ACKF);
    CHECK_EQ(sa.ack, 777778);
    CHECK(sa.opts.has_mss && !sa.opts.has_ts && !sa.opts.has_wscale); /* cookie: MSS only */
    struct tern_tcp_repr ack = wt_seg(41000, 80, 777778, sa.seq + 1, ACKF, 65535);
    ack.payload = (const uint8_t *)"GET /";
    ack.payload_len = 5;
    wt_inject(w, &ack);
    CHECK_EQ(stt->tcp.syncookies_ok, 1);
    struct tern_sockaddr from;
    struct tern_sock *c = tern_sock_accept(l, &from, NULL);
    REQUIRE(c != NULL);
    CHECK_EQ(from.port, 41000);
    /* tcp_syn_options with the cookie's offer: its MSS, no other option. */
    CHECK(!tcp_cb_of(c)->ts_ok && !tcp_cb_of(c)->ws_ok && !tcp_cb_of(c)->sack_ok);
    CHECK_EQ(tcp_cb_of(c)->peer_mss, 1460);
    CHECK_EQ(tcp_cb_of(c)->rcv_ws, 0);
    CHECK_EQ(tern_sock_recv(c, buf, sizeof buf, 0), 5);
    CHECK_MEM(buf, "GET /", 5);
    CHECK_EQ(tern_sock_send(c, "200", 3, 0), 3);
    struct tern_tcp_repr r;
    do {
        REQUIRE(wt_pop(w, &r));
    } while (r.dport != 41000);
    CHECK_EQ(r.seq, sa.seq + 1);
    CHECK_EQ(r.ack, 777778 + 5);
    /* A forged cookie ACK is refused with a RST. */
    ack = wt_seg(41001, 80, 5, 123456, ACKF, 65535);
    wt_inject(w, &ack);
    CHECK_EQ(stt->tcp.syncookies_bad, 1);
    /* The half-open ones give up after their SYN-ACK retries. */
    world_run(w, 200000000);
    world_drain(w);
    CHECK_EQ(tcp_cb_of(l)->synq_len, 0);
    CHECK_EQ(w->s->sock_count, 3);
    tern_sock_abort(c);
    tern_sock_abort(old);
    tern_sock_close(l);
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}

TEST(attack_36_zero_window_persist_backoff_user_timeout)
{
    /* RFC 6298 s2.4's 1 s minimum RTO: the handshake's sample (0 us in the
     * state world) leaves the RTO at 1 s, the base of the schedule below. */
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.tcp_rto_min_us = 1000000;
    struct world *w = world_new(&cfg);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    uint64_t t0 = tern_loop_now(w->loop);
    struct tern_tcp_repr z = wt_seg(P_PORT, 80, P_ISN + 1, ISS + 1, ACKF, 0);
    wt_inject(w, &z);
    static uint8_t data[1000];
    CHECK_EQ(tern_sock_send(sk, data, sizeof data, 0), 1000);
    CHECK_EQ(world_pending_ip(w), 0); /* the window is shut */
    /* Probes back off: RTO 1 s doubling, at most 60 s apart. */
    uint64_t want[] = {1, 3, 7, 15, 31, 63, 123, 183, 243};
    for (int i = 0; i < 9; i++) {
        world_learn_peer(w); /* keep the ARP entry fresh over minutes */
        world_run(w, t0 + want[i] * 1000000 - tern_loop_now(w->loop) - 1000);
        CHECK_EQ(world_pending_ip(w), 0);
        world_run(w, 2000);
        struct tern_tcp_repr p;
        if (!wt_pop(w, &p)) {
            test_fail(__FILE__, __LINE__, "no probe %d at %llu", i, (unsigned long long)(tern_loop_now(w->loop) - t0));
            return;
        }
        CHECK_EQ(p.flags, ACKF);
        CHECK_EQ(p.seq, ISS); /* SND.UNA - 1: the peer must answer */
        CHECK_EQ(p.payload_len, 0);
        wt_inject(w, &z); /* "still zero" */
    }
    /* The user timeout (300 s without progress) ends it with a RST. */
    world_learn_peer(w);
    world_run(w, t0 + 304000000 - tern_loop_now(w->loop));
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r));
    CHECK(r.flags & TERN_TCP_RST);
    CHECK_EQ(r.seq, ISS + 1);
    CHECK_EQ(tern_sock_error(sk), TERN_E_TIMEDOUT);
    CHECK_STR(wt_state(sk), "CLOSE");
    tern_sock_close(sk);
    tern_sock_close(l);
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}

/* An ICMP error from the peer quoting our segment with sequence seq. */
static void icmp_about(struct world *w, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq)
{
    uint8_t inner[28], msg[64], frame[128];
    struct tern_ipv4_repr in = w_ip(W_US, W_PEER, TERN_IPPROTO_TCP, 9);
    in.payload_len = 120;
    tern_ipv4_emit(&in, inner, sizeof inner);
    tern_put16(inner + 20, 80);
    tern_put16(inner + 22, P_PORT);
    tern_put32(inner + 24, seq);
    size_t n = w_icmp(msg, type, code, mtu, inner, sizeof inner);
    struct tern_ipv4_repr out = w_ip(W_PEER, W_US, TERN_IPPROTO_ICMP, 10);
    size_t fl = w_ip_frame(frame, &out, msg, n);
    world_inject(w, frame, fl);
}

TEST(attack_18_icmp_quoted_seq_outside_window_ignored)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    static uint8_t data[3000];
    CHECK_EQ(tern_sock_send(sk, data, sizeof data, 0), 3000);
    world_drain(w);
    struct tcp_cb *cb = tcp_cb_of(sk);
    CHECK_EQ(cb->mss, 1460);
    /* SND.UNA = ISS+1, SND.NXT = ISS+3001: quotes outside are ignored. */
    icmp_about(w, 3, 4, 1000, ISS + 5000);
    icmp_about(w, 3, 4, 1000, ISS);
    CHECK_EQ(cb->mss, 1460);
    CHECK_EQ(tern_stack_stats(w->s)->tcp.icmp_ignored, 2);
    /* Hard errors on an established connection are soft (RFC 5927). */
    icmp_about(w, 3, 3, 0, ISS + 1);
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    CHECK_EQ(tern_sock_error(sk), 0);
    /* Inside: fragmentation needed lowers the MSS and resends. */
    icmp_about(w, 3, 4, 1000, ISS + 1);
    CHECK_EQ(cb->mss, 960);
    struct tern_tcp_repr r;
    REQUIRE(wt_pop(w, &r));
    CHECK_EQ(r.seq, ISS + 1);
    CHECK_EQ(r.payload_len, 960);
    world_drain(w);
    tern_sock_abort(sk);
    tern_sock_close(l);
    world_end(w);
}

TEST(attack_19_frag_needed_tiny_mtu_clamped)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    static uint8_t data[3000];
    CHECK_EQ(tern_sock_send(sk, data, sizeof data, 0), 3000);
    world_drain(w);
    icmp_about(w, 3, 4, 8, ISS + 1); /* MTU 8 */
    CHECK_EQ(tcp_cb_of(sk)->mss, 64); /* 68 - 40 = 28, raised to 64: never 0 */
    icmp_about(w, 3, 4, 0, ISS + 1);
    CHECK_EQ(tcp_cb_of(sk)->mss, 64);
    world_drain(w);
    tern_sock_abort(sk);
    tern_sock_close(l);
    world_end(w);
}

TEST(tcp_keepalive_probes_then_abort)
{
    struct world *w = world_new(NULL);
    struct tern_sock *l, *sk = wt_establish(w, 0, &l);
    REQUIRE(sk != NULL);
    CHECK_EQ(tern_sock_setopt(sk, TERN_TCP_KEEPIDLE, 10), 0);
    CHECK_EQ(tern_sock_setopt(sk, TERN_TCP_KEEPINTVL, 2), 0);
    CHECK_EQ(tern_sock_setopt(sk, TERN_TCP_KEEPCNT, 3), 0);
    CHECK_EQ(tern_sock_setopt(sk, TERN_SO_KEEPALIVE, 1), 0);
    world_run(w, 9999000);
    CHECK_EQ(world_pending_ip(w), 0);
    world_run(w, 2000);
    struct tern_tcp_repr p;
    REQUIRE(wt_pop(w, &p));
    CHECK_EQ(p.flags, ACKF);
    CHECK_EQ(p.seq, ISS); /* RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT - 1 */
    CHECK_EQ(p.ack, P_ISN + 1);
    /* An answer restarts the idle time. */
    struct tern_tcp_repr ans = wt_seg(P_PORT, 80, P_ISN + 1, ISS + 1, ACKF, 1000);
    wt_inject(w, &ans);
    world_run(w, 9000000);
    CHECK_EQ(world_pending_ip(w), 0);
    world_run(w, 1000000);
    REQUIRE(wt_pop(w, &p));
    /* Unanswered: 2 more probes 2 s apart, then the connection is dropped. */
    for (int i = 0; i < 2; i++) {
        world_run(w, 2000000);
        REQUIRE(wt_pop(w, &p));
        CHECK_EQ(p.seq, ISS);
    }
    world_run(w, 2000000);
    REQUIRE(wt_pop(w, &p));
    CHECK(p.flags & TERN_TCP_RST);
    CHECK_EQ(tern_sock_error(sk), TERN_E_TIMEDOUT);
    tern_sock_close(sk);
    tern_sock_close(l);
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}

TEST(tcp_time_wait_bounded_oldest_recycled)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    /* room for two TIME_WAIT records and their 16-bucket hash */
    cfg.tcp_tw_mem = 2 * sizeof(struct tcp_tw) + 16 * sizeof(uint32_t);
    struct tnet n;
    REQUIRE(tnet_open(&n, 31, NULL, &cfg) == 0);
    struct tern_sock *l = NULL;
    for (int i = 0; i < 3; i++) {
        struct tern_sock *l2, *a, *b;
        if (i == 0) {
            REQUIRE(tnet_connect(&n, 80, &l, &a, &b) == 0);
        } else {
            a = tern_sock_open(n.sa, TERN_SOCK_STREAM, NULL);
            struct tern_sockaddr pa = {TN_B, 80};
            CHECK_EQ(tern_sock_connect(a, &pa), TERN_E_INPROGRESS);
            tnet_run(&n, 50000);
            b = tern_sock_accept(l, NULL, NULL);
            REQUIRE(b != NULL);
        }
        (void)l2;
        tern_sock_close(a);
        tnet_run(&n, 50000);
        tern_sock_close(b);
        tnet_run(&n, 50000);
    }
    CHECK_EQ(tcp_tw_count(n.sa), 2);
    CHECK_EQ(tern_stack_stats(n.sa)->tcp.tw_recycled, 1);
    CHECK_EQ(n.sa->sock_count, 0); /* TIME_WAIT records hold no socket */
    CHECK(tcp_tw_mem(n.sa) <= cfg.tcp_tw_mem);
    tnet_run(&n, 61000000);
    CHECK_EQ(tcp_tw_count(n.sa), 0);
    tern_sock_close(l);
    tnet_close(&n);
}

TEST(tcp_sequence_numbers_across_the_wrap)
{
    struct tnet n;
    REQUIRE(tnet_open(&n, 41, NULL, NULL) == 0);
    tcp_test_force_iss(n.sa, 0xffffffffu - 3000);
    tcp_test_force_iss(n.sb, 0xffffffffu - 100);
    struct tern_sock *l, *a, *b;
    REQUIRE(tnet_connect(&n, 80, &l, &a, &b) == 0);
    CHECK_EQ(tcp_cb_of(a)->iss, 0xffffffffu - 3000);
    CHECK_EQ(tcp_cb_of(b)->iss, 0xffffffffu - 100);
    static uint8_t buf[100000], got[100000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    size_t s1 = 0, r1 = 0, s2 = 0, r2 = 0;
    for (int i = 0; i < 2000 && (r1 < sizeof buf || r2 < sizeof buf); i++) {
        ssize_t k;
        if (s1 < sizeof buf && (k = tern_sock_send(a, buf + s1, sizeof buf - s1, 0)) > 0)
            s1 += (size_t)k;
        if (s2 < sizeof buf && (k = tern_sock_send(b, buf + s2, sizeof buf - s2, 0)) > 0)
            s2 += (size_t)k;
        tnet_run(&n, 1000);
        while ((k = tern_sock_recv(b, got + r1, sizeof got - r1, 0)) > 0) {
            CHECK_MEM(got + r1, buf + r1, (size_t)k);
            r1 += (size_t)k;
        }
        while ((k = tern_sock_recv(a, got + r2, sizeof got - r2, 0)) > 0) {
            CHECK_MEM(got + r2, buf + r2, (size_t)k);
            r2 += (size_t)k;
        }
    }
    CHECK_EQ(r1, sizeof buf);
    CHECK_EQ(r2, sizeof buf);
    /* Both directions wrapped through 0. */
    CHECK(tcp_cb_of(a)->snd_una < 0x10000000u);
    CHECK(tcp_cb_of(b)->snd_una < 0x10000000u);
    tern_sock_close(a);
    tnet_run(&n, 100000);
    tern_sock_close(b);
    tern_sock_close(l);
    tnet_run(&n, 61000000);
    CHECK_EQ(n.sa->sock_count, 0);
    CHECK_EQ(n.sb->sock_count, 0);
    tnet_close(&n);
}
