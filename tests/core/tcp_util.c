/*
 * tests/core/tcp_util.c - see tcp_util.h. Test code.
 */
#include "tcp_util.h"

#include <stdlib.h>
#include <string.h>

#include "common/net2.h"
#include "harness.h"
#include "tern/wire/eth.h"
#include "tern/wire/ipv4.h"

int tnet_open(struct tnet *n, uint64_t seed, const struct tern_impair *imp,
              const struct tern_config *cfg)
{
    memset(n, 0, sizeof *n);
    n->loop = tern_loop_virtual_new(1000000);
    if (!n->loop || tern_memlink_pair(n->loop, TERN_LINK_ETHERNET, 1500, 4096, &n->a, &n->b) < 0)
        return -1;
    if (net2_impair_pair(n->loop, &n->a, &n->b, imp, seed) < 0)
        return -1;
    return net2_add_stacks(n->loop, n->a, n->b, cfg, seed, &n->sa, &n->sb);
}

void tnet_close(struct tnet *n)
{
    tern_stack_free(n->sa);
    tern_stack_free(n->sb);
    tern_device_destroy(n->a);
    tern_device_destroy(n->b);
    tern_loop_destroy(n->loop);
}

void tnet_run(struct tnet *n, uint64_t us)
{
    tern_loop_run(n->loop, tern_loop_now(n->loop) + us);
}

int tnet_connect(struct tnet *n, uint16_t port, struct tern_sock **lsk, struct tern_sock **ca,
                 struct tern_sock **cb)
{
    int err;
    *lsk = tern_sock_open(n->sb, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr la = {0, port};
    if (!*lsk || tern_sock_bind(*lsk, &la) < 0 || tern_sock_listen(*lsk, 16) < 0)
        return -1;
    *ca = tern_sock_open(n->sa, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr pa = {TN_B, port};
    if (!*ca || tern_sock_connect(*ca, &pa) != TERN_E_INPROGRESS)
        return -2;
    for (int i = 0; i < 200; i++) {
        tnet_run(n, 10000);
        *cb = tern_sock_accept(*lsk, NULL, &err);
        if (*cb)
            break;
    }
    if (!*cb)
        return -3;
    for (int i = 0; i < 200 && !(tern_sock_poll(*ca) & TERN_POLLOUT); i++)
        tnet_run(n, 10000);
    return (tern_sock_poll(*ca) & TERN_POLLOUT) ? 0 : -4;
}

void wt_inject_from(struct world *w, uint32_t src, const struct tern_tcp_repr *r)
{
    static uint8_t seg[70000], frame[70000];
    int n = tern_tcp_emit(r, src, W_US, seg, sizeof seg);
    REQUIRE(n > 0);
    struct tern_ipv4_repr ip = w_ip(src, W_US, TERN_IPPROTO_TCP, 1);
    size_t fl = w_ip_frame(frame, &ip, seg, (size_t)n);
    world_inject(w, frame, fl);
}

void wt_inject(struct world *w, const struct tern_tcp_repr *r)
{
    wt_inject_from(w, W_PEER, r);
}

bool wt_pop(struct world *w, struct tern_tcp_repr *out)
{
    static uint8_t keep[70000];
    size_t len;
    const uint8_t *f;
    while ((f = world_pop_ip(w, &len))) {
        struct tern_ipv4_repr ip;
        if (len < TERN_ETH_HLEN || tern_ipv4_parse(f + TERN_ETH_HLEN, len - TERN_ETH_HLEN, 0, &ip) < 0)
            continue;
        if (ip.proto != TERN_IPPROTO_TCP)
            continue;
        memcpy(keep, f, len);
        const uint8_t *pl = keep + TERN_ETH_HLEN + ip.hdr_len;
        size_t pll = ip.total_len - ip.hdr_len;
        if (tern_tcp_parse(pl, pll, ip.src, ip.dst, 0, out) < 0)
            return false;
        return true;
    }
    return false;
}

struct tern_tcp_repr wt_seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                            uint16_t flags, uint16_t win)
{
    struct tern_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = sport;
    r.dport = dport;
    r.seq = seq;
    r.ack = ack;
    r.flags = flags;
    r.win = win;
    return r;
}

struct tern_tcp_repr wt_peer(uint32_t seq, uint32_t ack, uint16_t flags, uint16_t win)
{
    return wt_seg(P_PORT, 80, seq, ack, flags, win);
}

const char *wt_state(const struct tern_sock *sk)
{
    return tcp_state_name(tcp_cb_of(sk)->state);
}

void wt_finish(struct world *w, struct tern_sock *sk, struct tern_sock *lsk)
{
    if (sk)
        tern_sock_abort(sk);
    if (lsk)
        tern_sock_close(lsk);
    world_drain(w);
    CHECK_EQ(w->s->sock_count, 0);
    world_end(w);
}

uint32_t g_peer_ts = 100;

/* Passive open of one connection; *lsk gets the listener. ts: both sides
 * use timestamps. Returns the accepted socket or NULL. */
struct tern_sock *wt_establish(struct world *w, unsigned flags, struct tern_sock **lsk)
{
    world_learn_peer(w);
    *lsk = tern_sock_open(w->s, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {0, 80};
    CHECK_EQ(tern_sock_bind(*lsk, &la), 0);
    CHECK_EQ(tern_sock_listen(*lsk, 8), 0);
    tcp_test_force_iss(w->s, ISS);
    struct tern_tcp_repr syn = wt_seg(P_PORT, 80, P_ISN, 0, TERN_TCP_SYN, 65535);
    syn.opts.has_mss = true;
    syn.opts.mss = 1460;
    syn.opts.has_wscale = true;
    syn.opts.wscale = 7;
    bool ts = flags & WT_TS;
    syn.opts.sack_perm = !(flags & WT_NOSACK);
    if (ts) {
        syn.opts.has_ts = true;
        syn.opts.ts_val = g_peer_ts = 100;
    }
    wt_inject(w, &syn);
    struct tern_tcp_repr sa;
    if (!wt_pop(w, &sa))
        return NULL;
    /* RFC 9293 s3.10.7.2: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
    CHECK_EQ(sa.flags, TERN_TCP_SYN | ACKF);
    CHECK_EQ(sa.seq, ISS);
    CHECK_EQ(sa.ack, P_ISN + 1);
    CHECK_EQ(sa.sport, 80);
    CHECK_EQ(sa.dport, P_PORT);
    CHECK(sa.opts.has_mss && sa.opts.mss == 1460); /* route MTU 1500 - 40 */
    CHECK(sa.opts.has_wscale && sa.opts.wscale == 3); /* 256 KiB >> 3 <= 65535 */
    CHECK_EQ(sa.opts.sack_perm, !(flags & WT_NOSACK));
    CHECK_EQ(sa.opts.has_ts, ts);
    if (ts)
        CHECK_EQ(sa.opts.ts_ecr, 100);
    CHECK_EQ(sa.win, 65535); /* RFC 7323 s2.2: a SYN's window is not scaled */
    struct tern_tcp_repr ack = wt_seg(P_PORT, 80, P_ISN + 1, ISS + 1, ACKF, 1000); /* 1000 << 7 */
    if (ts) {
        ack.opts.has_ts = true;
        ack.opts.ts_val = ++g_peer_ts;
        ack.opts.ts_ecr = sa.opts.ts_val;
    }
    wt_inject(w, &ack);
    CHECK_EQ(world_pending_ip(w), 0);
    int err;
    struct tern_sock *sk = tern_sock_accept(*lsk, NULL, &err);
    CHECK(sk != NULL);
    return sk;
}

