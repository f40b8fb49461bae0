/*
 * tests/core/tcp_synflood_test.c - a spoofed SYN flood (ATTACKS 35,
 * RFC 4987) costs bounded memory while an established connection on the
 * same listener keeps transferring (state world, tcp_util.h).
 * 10,000 SYN/s from spoofed addresses and ports for 3 s of virtual time
 * (the 30 s flood, shortened; the bound does not depend on the
 * duration: the SYN queue is full after 128 SYNs - 128 request records of
 * <= 128 bytes, no socket nor TCB (tcp_req.c) - and SYN cookies answer
 * the rest statelessly). Meanwhile the peer of the established connection
 * sends 100 bytes every 10 ms: every byte is delivered in order and
 * acknowledged.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tcp_util.h"

TEST(tcp_synflood_bounded_memory_while_transfer_continues)
{
    struct world *w = world_new(NULL);
    struct tern_sock *lsk;
    struct tern_sock *sk = wt_establish(w, 0, &lsk);
    REQUIRE(sk);
    struct tern_stack_mem m0, m;
    stack_mem_usage(w->s, &m0);
    uint32_t backlog = w->s->cfg.tcp_syn_backlog;
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    uint32_t sent = 0, acked = P_ISN + 1, got = 0;
    size_t peak_conns = 0, peak_socks = 0, peak_rings = 0, peak_reqs = 0;
    static uint8_t data[100], rbuf[4096];
    const int steps = 300, syns_per_step = 100; /* 10 ms steps: 10,000 SYN/s */
    for (int step = 0; step < steps; step++) {
        for (int i = 0; i < syns_per_step; i++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            uint32_t src = 0x0a000000u | (uint32_t)(3 + rng % 250); /* 10.0.0.3-252 */
            uint16_t sport = (uint16_t)(1024 + (rng >> 16) % 30000);
            struct tern_tcp_repr syn = wt_seg(sport, 80, (uint32_t)(rng >> 32), 0,
                                              TERN_TCP_SYN, 65535);
            syn.opts.has_mss = true;
            syn.opts.mss = 1460;
            wt_inject_from(w, src, &syn);
        }
        for (size_t k = 0; k < sizeof data; k++)
            data[k] = (uint8_t)(sent + k);
        struct tern_tcp_repr d = wt_seg(P_PORT, 80, P_ISN + 1 + sent, ISS + 1, ACKF, 1000);
        d.payload = data;
        d.payload_len = sizeof data;
        wt_inject(w, &d);
        sent += sizeof data;
        world_run(w, 10000);
        struct tern_tcp_repr out;
        while (wt_pop(w, &out))
            if (out.dport == P_PORT && (out.flags & ACKF) && tern_seq_gt(out.ack, acked))
                acked = out.ack;
        ssize_t n;
        while ((n = tern_sock_recv(sk, rbuf, sizeof rbuf, 0)) > 0) {
            for (ssize_t k = 0; k < n; k++)
                if (rbuf[k] != (uint8_t)(got + (uint32_t)k)) {
                    CHECK(!"received byte out of order");
                    break;
                }
            got += (uint32_t)n;
        }
        stack_mem_usage(w->s, &m);
        if (m.tcp_conns > peak_conns)
            peak_conns = m.tcp_conns;
        if (m.sockets > peak_socks)
            peak_socks = m.sockets;
        if (m.tcp_ring_bytes > peak_rings)
            peak_rings = m.tcp_ring_bytes;
        if (m.tcp_syn_reqs > peak_reqs)
            peak_reqs = m.tcp_syn_reqs;
    }
    world_run(w, 100000); /* the delayed ACK of the last segment */
    struct tern_tcp_repr out;
    while (wt_pop(w, &out))
        if (out.dport == P_PORT && (out.flags & ACKF) && tern_seq_gt(out.ack, acked))
            acked = out.ack;
    CHECK_EQ(got, sent);
    CHECK_EQ(acked, P_ISN + 1 + sent);
    CHECK_STR(wt_state(sk), "ESTABLISHED");
    /* Bounded: the established connection and at most the SYN queue hold
     * state; every other SYN was answered by a cookie. */
    const struct tern_stats *st = tern_stack_stats(w->s);
    CHECK_EQ(peak_reqs, backlog);           /* the SYN queue filled up ... */
    CHECK_EQ(peak_socks, m0.sockets);       /* ... with records: no socket, */
    CHECK_EQ(peak_conns, m0.tcp_conns);     /* no TCB with rings (tcp_req.c) */
    CHECK_EQ(peak_rings, m0.tcp_ring_bytes);
    CHECK(st->tcp.syncookies_tx >= (uint64_t)steps * syns_per_step - backlog);
    printf("# SYN flood: %d SYNs, %llu cookies; peak %zu SYN-queue records (%zu bytes), %zu "
           "sockets, %zu TCBs with rings, %zu ring bytes (%zu at the start)\n",
           steps * syns_per_step, (unsigned long long)st->tcp.syncookies_tx, peak_reqs,
           peak_reqs * sizeof(struct tcp_req), peak_socks, peak_conns, peak_rings,
           m0.tcp_ring_bytes);
    tern_sock_abort(sk);
    tern_sock_close(lsk);
    world_end(w);
}
