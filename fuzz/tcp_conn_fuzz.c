/*
 * fuzz/tcp_conn_fuzz.c - whole TCP connections in virtual time: the
 * harness is the peer (fuzz/peer.h), the fuzz bytes its segments, ICMP
 * errors, the application's calls and the passing of time.
 *
 * Input: [mode][options][misc] then operations (an opcode byte and its
 * parameter bytes; missing bytes read as 0).
 *   mode & 0x0f (mod 10): the state reached first - 0 SYN-SENT,
 *     1 SYN-RECEIVED, 2 ESTABLISHED, 3 FIN-WAIT-1, 4 FIN-WAIT-2, 5 CLOSING,
 *     6 TIME-WAIT, 7 CLOSE-WAIT, 8 LAST-ACK, 9 a listener with a small
 *     backlog and SYN queue (up to 4 peers, SYN cookies) with one
 *     connection established;
 *   mode 0x10 active open (connect; SYN-RECEIVED by simultaneous open),
 *   else passive (listen); 0x20 the app writes 1000 bytes first, 0x40 the
 *   peer sends 500 bytes first; 0x80 close() instead of shutdown(WR).
 *   options: 1 timestamps, 2 SACK, 4 window scaling (the peer's SYN),
 *   8 rcvbuf 2048, 0x10 sndbuf 4096, 0x20 keepalive (5 s, 2 s, 2 probes),
 *   0x40 TCP_NODELAY, 0x80 peer MSS 100 (else 1460).
 *   misc: 1 the app shuts down writing at every end-of-stream wake-up,
 *   bits 1-2 the listener's backlog - 1.
 * Sequence and acknowledgment numbers are chosen relative to what the
 * stack last said on the wire (RCV.NXT, the window's right edge, SND.UNA,
 * SND.MAX), SACK blocks inside and below the flight.
 * Oracles (abort): TERN_ASSERT in the engine; the payload, FIN, ACK and
 * livelock checks of peer.h; after the input, every socket closed and the
 * peer silent: nothing left after 30 virtual minutes, stack memory back to
 * baseline. TERN_FUZZ_VERBOSE=1 prints the state reached by the prelude and
 * the states seen (for docs/testing.md).
 */
#include "peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
    const uint8_t *d;
    size_t n, pos;
};

static uint8_t getb(struct in *in)
{
    return in->pos < in->n ? in->d[in->pos++] : 0;
}

static struct pr g;

static uint32_t wnd_of(const struct pr_conn *c)
{
    return (uint32_t)c->st_win << (g.ws ? c->st_ws : 0);
}

static uint32_t rcv_nxt_of(const struct pr_conn *c)
{
    return c->st_ack ? c->st_ack : c->nxt;
}

static uint16_t stack_mss(const struct pr_conn *c)
{
    if (c->app && tcp_cb_of(c->app) && tcp_cb_of(c->app)->mss)
        return tcp_cb_of(c->app)->mss;
    return 100;
}

/* The peer's sequence number for a segment of len bytes. */
static uint32_t seq_pick(struct in *in, const struct pr_conn *c, uint8_t sel, uint32_t len)
{
    uint32_t nxt = rcv_nxt_of(c), edge = nxt + wnd_of(c);
    uint8_t k = getb(in);
    switch (sel % 8) {
    case 0: return nxt;
    case 1: return nxt + (uint32_t)(k % 16 + 1) * (len ? len : 1); /* beyond a hole */
    case 2: return nxt - (k % 2 ? len / 2 : (uint32_t)k);          /* overlapping */
    case 3: return edge - len + (uint32_t)(k % 8) - 4;            /* at the right edge */
    case 4: return edge + (uint32_t)k;                            /* beyond the window */
    case 5: return nxt - 1;
    case 6: return nxt - 70000u - k;
    default: return nxt + (uint32_t)(int8_t)k * 64;
    }
}

/* The peer's acknowledgment number. */
static uint32_t ack_pick(struct in *in, const struct pr_conn *c, uint8_t sel)
{
    uint32_t una = c->acked, max = c->st_max;
    uint32_t flight = max - una;
    uint8_t k = getb(in);
    if (!c->st_syn)
        return (uint32_t)k << 24 | (uint32_t)k;
    switch (sel % 8) {
    case 0: return max;
    case 1: return una;
    case 2: {
        uint32_t a = una + (uint32_t)(k % 16 + 1) * stack_mss(c);
        return tern_seq_gt(a, max) ? max : a;
    }
    case 3: return max + 1 + (k % 4);                /* beyond what was sent */
    case 4: return una - 1 - k;                      /* old */
    case 5: return flight ? una + k % flight : una;
    case 6: return max - (k % 3);
    default: return c->st_iss + (uint32_t)k * 1000;
    }
}

static uint16_t win_pick(uint8_t sel, uint8_t k)
{
    switch (sel % 4) {
    case 0: return 0;
    case 1: return (uint16_t)(k % 16 + 1);
    case 2: return 65535;
    default: return (uint16_t)(k << 4 | 0xf);
    }
}

static void sack_pick(struct in *in, const struct pr_conn *c, struct tern_tcp_opts *o)
{
    memset(o, 0, sizeof *o);
    uint8_t sel = getb(in);
    if (!g.sack)
        return;
    unsigned n = sel % 4;
    uint32_t u = stack_mss(c);
    for (unsigned i = 0; i < n; i++) {
        uint8_t a = getb(in), b = getb(in);
        uint32_t l, r;
        if (a & 0x80) { /* a D-SACK: below the cumulative ACK */
            l = c->acked - (uint32_t)(a & 0x7f) * u - u;
            r = l + (uint32_t)(b % 4 + 1) * u;
        } else {
            l = c->acked + (uint32_t)(a % 32) * u;
            r = l + (uint32_t)(b % 8 + 1) * u;
            if (b & 0x80 && tern_seq_gt(r, c->st_max))
                r = c->st_max;
        }
        if (l == r)
            r++;
        o->sack[o->sack_count].left = l;
        o->sack[o->sack_count].right = r;
        o->sack_count++;
    }
    if (sel & 0x40 && g.ts) { /* an old timestamp (PAWS) */
        o->has_ts = true;
        o->ts_val = c->ts - 100000u;
        o->ts_ecr = c->st_tsval;
    }
}

static void ack_all(struct pr_conn *c)
{
    pr_send(&g, c, c->nxt, c->st_max, TERN_TCP_ACK, 65535, 0, NULL);
}

/* In-order data from the peer, at most MSS per segment. */
static void peer_data(struct pr_conn *c, uint32_t len)
{
    uint32_t mss = g.mss;
    while (len) {
        uint32_t n = len < mss ? len : mss;
        pr_send(&g, c, c->nxt, c->st_max, TERN_TCP_ACK | TERN_TCP_PSH, 65535, n, NULL);
        c->nxt += n;
        len -= n;
    }
}

static void peer_fin(struct pr_conn *c, uint32_t ack)
{
    pr_send(&g, c, c->nxt, ack, TERN_TCP_FIN | TERN_TCP_ACK, 65535, 0, NULL);
    c->nxt++;
}

static void app_close_write(struct pr_conn *c, bool use_close)
{
    if (!c->app)
        return;
    if (pr_app_current(c))
        c->wr_shut = true;
    if (use_close) {
        tern_sock_close(c->app);
        c->app = NULL;
    } else {
        tern_sock_shutdown(c->app, TERN_SHUT_WR);
    }
}

static void set_app_opts(struct tern_sock *sk, uint8_t opt)
{
    if (opt & 0x20) {
        tern_sock_setopt(sk, TERN_SO_KEEPALIVE, 1);
        tern_sock_setopt(sk, TERN_TCP_KEEPIDLE, 5);
        tern_sock_setopt(sk, TERN_TCP_KEEPINTVL, 2);
        tern_sock_setopt(sk, TERN_TCP_KEEPCNT, 2);
    }
    if (opt & 0x40)
        tern_sock_setopt(sk, TERN_TCP_NODELAY, 1);
}

static void accept_all(struct tern_sock *lsk, uint8_t opt)
{
    struct tern_sock *sk;
    struct tern_sockaddr from;
    while (lsk && (sk = tern_sock_accept(lsk, &from, NULL)) != NULL) {
        struct pr_conn *c = pr_find(&g, 80, from.port);
        if (c && c->app && tcp_cb_of(c->app)->state == TCP_CLOSED) {
            tern_sock_close(c->app); /* the previous incarnation is over */
            c->app = NULL;
        }
        if (!c || c->app) {
            tern_sock_abort(sk);
            continue;
        }
        pr_attach(&g, c, sk);
        set_app_opts(sk, opt);
    }
}

static int state_of(const struct pr_conn *c)
{
    if (c->app && tcp_cb_of(c->app))
        return tcp_cb_of(c->app)->state;
    struct tern_sock *sk =
        ports_find_conn(g.s, TERN_IPPROTO_TCP, PR_US, c->lport, PR_PEER, c->pport);
    return sk && sk->pcb ? tcp_cb_of(sk)->state : TCP_CLOSED;
}

static void op(struct in *in, struct tern_sock *lsk, int *cur, uint8_t opt)
{
    uint8_t code = getb(in);
    struct pr_conn *c = &g.c[*cur];
    switch (code % 16) {
    case 0: { /* data, any flags */
        uint8_t f = getb(in), ssel = getb(in), l = getb(in), w = getb(in);
        uint32_t len = (f & 0x80) ? (uint32_t)l * 16 : l;
        uint32_t seq = seq_pick(in, c, ssel, len);
        uint16_t flags = TERN_TCP_ACK | TERN_TCP_PSH;
        if (f & 1)
            flags |= TERN_TCP_FIN;
        if (f & 2)
            flags &= (uint16_t)~TERN_TCP_ACK;
        if (f & 4)
            flags |= TERN_TCP_URG;
        uint32_t ack = ack_pick(in, c, f >> 3);
        struct tern_tcp_opts o;
        sack_pick(in, c, &o);
        pr_send(&g, c, seq, ack, flags, win_pick(w, w >> 2), len, &o);
        if (seq == c->nxt)
            c->nxt = seq + len + (flags & TERN_TCP_FIN ? 1 : 0);
        break;
    }
    case 1: { /* a pure ACK, maybe with SACK blocks */
        uint8_t a = getb(in), w = getb(in);
        uint32_t ack = ack_pick(in, c, a);
        struct tern_tcp_opts o;
        sack_pick(in, c, &o);
        pr_send(&g, c, (a & 0x80) ? seq_pick(in, c, a >> 3, 0) : c->nxt, ack, TERN_TCP_ACK,
                win_pick(w, w >> 2), 0, &o);
        break;
    }
    case 2: /* FIN */
        peer_fin(c, ack_pick(in, c, getb(in)));
        break;
    case 3: { /* RST */
        uint8_t s = getb(in);
        uint32_t seq = (s & 0x80) ? rcv_nxt_of(c) : seq_pick(in, c, s, 0);
        pr_send(&g, c, seq, (s & 0x40) ? ack_pick(in, c, s) : 0,
                TERN_TCP_RST | ((s & 0x40) ? TERN_TCP_ACK : 0), 0, 0, NULL);
        break;
    }
    case 4: { /* SYN: a new peer (listener), a challenge, a TIME-WAIT reopen */
        uint8_t s = getb(in);
        if (!c->used || (s & 0x80)) {
            /* A new ISN, forward of anything sent (so "the highest
             * sequence number the peer sent" stays well defined). */
            c->isn = c->hi + 1 + ((s & 0x40) ? 100000u : (uint32_t)(s & 0x3f) * 1000u);
            c->nxt = c->isn + 1;
            pr_send(&g, c, c->isn, 0, TERN_TCP_SYN, 65535, 0, NULL);
        } else {
            pr_send(&g, c, seq_pick(in, c, s, 0), (s & 0x20) ? ack_pick(in, c, s) : 0,
                    TERN_TCP_SYN | ((s & 0x20) ? TERN_TCP_ACK : 0), 65535, 0, NULL);
        }
        break;
    }
    case 5: { /* an ICMP error quoting the connection */
        static const uint8_t tc[][2] = {{3, 4}, {3, 1}, {3, 3}, {3, 0}, {11, 0}, {3, 13},
                                        {12, 0}, {3, 2}};
        uint8_t t = getb(in), q = getb(in);
        uint16_t mtu = (uint16_t)(getb(in) * 6);
        uint32_t seq = (q & 0x80) ? c->st_max - 1 - (q & 0x7f) : c->acked + (q & 0x7f);
        pr_icmp(&g, c, tc[t % 8][0], tc[t % 8][1], mtu, seq);
        break;
    }
    case 6: /* the app writes */
        pr_write(&g, c, (size_t)getb(in) * 32 + 1);
        break;
    case 7: /* the app reads */
        pr_read(&g, c, (size_t)getb(in) * 32 + 1);
        break;
    case 8: { /* shutdown */
        uint8_t how = getb(in) % 3;
        if (c->app) {
            if (how != TERN_SHUT_RD && pr_app_current(c))
                c->wr_shut = true;
            tern_sock_shutdown(c->app, how);
        }
        break;
    }
    case 9: /* close */
        app_close_write(c, true);
        break;
    case 10: /* abort */
        if (c->app) {
            tern_sock_abort(c->app);
            c->app = NULL;
        }
        break;
    case 11: { /* a socket option */
        static const enum tern_sockopt opts[] = {TERN_SO_KEEPALIVE, TERN_TCP_NODELAY,
                                                 TERN_TCP_MAXSEG, TERN_TCP_KEEPIDLE,
                                                 TERN_SO_RCVBUF, TERN_SO_SNDBUF};
        uint8_t o = getb(in), v = getb(in);
        if (c->app)
            tern_sock_setopt(c->app, opts[o % 6], (o & 0x80) ? v * 64 : v);
        break;
    }
    case 12: { /* time passes */
        uint8_t t = getb(in);
        uint64_t us = (t & 0xc0) == 0 ? (uint64_t)t * 1000u
                      : (t & 0xc0) == 0x40 ? (uint64_t)(t & 0x3f) * 100000u
                                           : (uint64_t)(t & 0x7f) * 1000000u;
        pr_run(&g, us);
        break;
    }
    case 13: /* the peer acknowledges everything, window open */
        ack_all(c);
        break;
    case 14: { /* three duplicate ACKs with growing SACK blocks */
        uint8_t k = getb(in);
        uint32_t u = stack_mss(c);
        for (int i = 1; i <= 3; i++) {
            struct tern_tcp_opts o;
            memset(&o, 0, sizeof o);
            if (g.sack) {
                o.sack_count = 1;
                o.sack[0].left = c->acked + (uint32_t)(k % 4 + 1) * u;
                o.sack[0].right = o.sack[0].left + (uint32_t)i * u;
            }
            pr_send(&g, c, c->nxt, c->acked, TERN_TCP_ACK, 65535, 0, &o);
        }
        break;
    }
    default: { /* another peer (listener mode); accept */
        uint8_t k = getb(in);
        if (g.nconn > 1)
            *cur = k % g.nconn;
        if (k & 0x80)
            accept_all(lsk, opt);
        break;
    }
    }
    if (g.nconn > 1 && lsk && (code & 0x80))
        accept_all(lsk, opt);
    pr_note_states(&g);
}

static const char *const names[] = {"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED",
                                    "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                    "CLOSING", "LAST-ACK", "TIME-WAIT"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size, 0};
    uint8_t mode = getb(&in), opt = getb(&in), misc = getb(&in);
    int target = (mode & 0x0f) % 10;
    bool active = (mode & 0x10) && target != 9;
    memset(&g, 0, sizeof g);
    g.ts = opt & 1;
    g.sack = opt & 2;
    g.ws = opt & 4;
    g.mss = (opt & 0x80) ? 100 : 1460;
    g.reactive = misc & 1;
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.max_sockets = 16;
    cfg.tcp_rcvbuf = (opt & 8) ? 2048 : 16384;
    cfg.tcp_sndbuf = (opt & 0x10) ? 4096 : 32768;
    cfg.tcp_syn_backlog = 2;
    pr_open(&g, &cfg);

    struct pr_conn *c = &g.c[0];
    struct tern_sock *lsk = NULL;
    g.nconn = target == 9 ? PR_NPEER : 1;
    for (int i = 0; i < g.nconn; i++) {
        g.c[i].pport = active ? 80 : (uint16_t)(40000 + i);
        g.c[i].lport = active ? 50000 : 80;
        g.c[i].isn = 1000u + (uint32_t)i * 0x10000000u;
        g.c[i].nxt = g.c[i].isn + 1;
        g.c[i].ts = 100;
    }
    if (active) {
        struct tern_sock *sk = tern_sock_open(g.s, TERN_SOCK_STREAM, NULL);
        set_app_opts(sk, opt);
        tern_sock_bind(sk, &(struct tern_sockaddr){0, 50000});
        tern_sock_connect(sk, &(struct tern_sockaddr){PR_PEER, 80});
        pr_attach(&g, c, sk);
        if (target == 1) {
            pr_send(&g, c, c->isn, 0, TERN_TCP_SYN, 65535, 0, NULL);
        } else if (target != 0) {
            pr_send(&g, c, c->isn, c->st_iss + 1, TERN_TCP_SYN | TERN_TCP_ACK, 65535, 0, NULL);
        }
    } else {
        lsk = tern_sock_open(g.s, TERN_SOCK_STREAM, NULL);
        tern_sock_bind(lsk, &(struct tern_sockaddr){0, 80});
        tern_sock_listen(lsk, target == 9 ? 1 + ((misc >> 1) & 3) : 4);
        pr_send(&g, c, c->isn, 0, TERN_TCP_SYN, 65535, 0, NULL);
        if (target != 1 && target != 0) {
            pr_send(&g, c, c->nxt, c->st_iss + 1, TERN_TCP_ACK, 65535, 0, NULL);
            accept_all(lsk, opt);
        }
    }
    if (target >= 2) {
        if (mode & 0x20)
            pr_write(&g, c, 1000);
        if (mode & 0x40)
            peer_data(c, 500);
        if ((mode & 0x20) && target != 3 && target != 5)
            ack_all(c);
        bool use_close = mode & 0x80;
        switch (target) {
        case 3: /* FIN-WAIT-1 */
            app_close_write(c, use_close);
            break;
        case 4: /* FIN-WAIT-2 */
        case 6: /* TIME-WAIT */
            app_close_write(c, use_close);
            ack_all(c);
            if (target == 6)
                peer_fin(c, c->st_max);
            break;
        case 5: /* CLOSING: the FINs cross */
            app_close_write(c, use_close);
            peer_fin(c, c->acked);
            break;
        case 7: /* CLOSE-WAIT */
        case 8: /* LAST-ACK */
            peer_fin(c, c->st_max);
            pr_read(&g, c, 65536);
            if (target == 8)
                app_close_write(c, use_close);
            break;
        default:
            break;
        }
    }
    int reached = state_of(c);
    g.states_seen = 0;
    pr_note_states(&g);
    int cur = 0;
    while (in.pos < in.n)
        op(&in, lsk, &cur, opt);
    if (getenv("TERN_FUZZ_VERBOSE")) {
        fprintf(stderr, "prelude %d -> %s; states seen:", target, names[reached]);
        for (int i = 0; i <= TCP_TIME_WAIT; i++)
            if (g.states_seen & (1u << i))
                fprintf(stderr, " %s", names[i]);
        fprintf(stderr, "\n");
    }
    pr_close(&g, lsk);
    return 0;
}
