/*
 * src/core/tcp_impl.h - the TCP connection core's internals: the TCB
 * (RFC 9293 s3.3.1 send/receive sequence variables), the per-stack TCP
 * state, and the functions tcp.c, tcp_in.c, tcp_listen.c, tcp_out.c,
 * tcp_recover.c, tcp_timer.c and tcp_sock.c share. Not a public API
 * (tests include it for hooks).
 *
 * Storage: one struct tcp_cb per socket slot, allocated with the stack
 * (cfg.max_sockets of them); sk->pcb points at cbs[sk->idx]. A connection's
 * send and receive rings are set up when it is created (connect, or the
 * handshake's ACK or cookie that creates a child) and hold chunks of the
 * stack's pool (tcp_stack.pool, ringbuf.h) only while they hold data,
 * under the budget cfg.tcp_mem_* (tcp.c tcp_mem_*). A half-open passive
 * connection is a request record of <= 128 bytes until then (tcp_req.c,
 * the per-listener SYN queue). A connection in TIME_WAIT whose socket the
 * app let go of is a 64-byte record (tcp_tw.c, capped by cfg.tcp_tw_mem
 * bytes): its TCB, rings and socket slot are freed. The out-of-order
 * ranges live inside the TCB.
 * Lookup: established/child connections sit in the 4-tuple table of
 * ports.c (one hash lookup per segment); listeners on the bind table.
 * The RACK-TLP transmission table (RFC 8985) is also inside the TCB:
 * TCP_RACK_SEGS entries of 16 bytes (2 KiB per socket slot).
 * RFCs: 9293, 5961, 7323, 2018, 6298, 5681, 6582, 6928, 4987, 5927, 8985,
 * 6191, 4821.
 */
#ifndef TERN_CORE_TCP_IMPL_H
#define TERN_CORE_TCP_IMPL_H

#include "core/assert.h"
#include "core/ringbuf.h"
#include "core/socket_impl.h"
#include "core/tcp_cc.h"
#include "core/tcp_ooo.h"
#include "core/tcp_rack.h"
#include "core/tcp_rtt.h"
#include "core/tcp_sack.h"
#include "tern/wire/seq.h"
#include "tern/wire/tcp.h"

enum tcp_state {
    TCP_CLOSED = 0, TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RECEIVED, TCP_ESTABLISHED,
    TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT
};

#define TCP_OOO_RANGES 32          /* holes kept per connection (ATTACKS 33) */
#define TCP_SACK_RANGES 32         /* SACK scoreboard ranges (ATTACKS 34) */
#define TCP_RACK_SEGS 128          /* RACK transmission table entries (tcp_rack.h) */
#define TCP_DACK_US 40000u         /* delayed ACK: 40 ms (<= 200 ms, RFC 9293 s3.8.6.3) */
/* RFC 9293 s3.8.3 (MUST-23, RFC 1122 4.2.3.5): "R2 for a SYN segment MUST
 * be set large enough to provide retransmission of the segment for at
 * least 3 minutes". An open attempt (SYN, or SYN-ACK: a SYN segment too)
 * gives up at the first expiry 3 minutes or more after its first SYN -
 * 183 s with the 1 s initial RTO and the 60 s cap (SYNs at 0, 1, 3, 7, 15,
 * 31, 63, 123 s). Not Linux's defaults, which fall short of the MUST:
 * tcp_syn_retries 6 gives up after 127 s, tcp_synack_retries 5 after 63 s
 * (a connect to a dead host fails ~1 minute later here than there). */
#define TCP_SYN_R2_US (180ull * 1000000)
#define TCP_RETRIES2 15            /* Linux tcp_retries2 (the user timeout usually ends first) */
#define TCP_CHACK_PER_S 10         /* RFC 5961 s7: challenge ACKs per second per connection */
#define TCP_KEEPIDLE_S 7200        /* RFC 1122 4.2.3.6: at least two hours */
#define TCP_KEEPINTVL_S 75
#define TCP_KEEPCNT 9
#define TCP_PAWS_IDLE_US (24ull * 86400 * 1000000) /* RFC 7323 s5.5: 24 days */
#define TCP_DEFAULT_MSS 536        /* RFC 9293 s3.7.1: no MSS option */
#define TCP_MIN_EFF_MSS 64
#define TCP_BLACKHOLE_RTOS 2       /* RFC 4821 s7.7: consecutive RTOs before the MSS drops */
#define TCP_WIN_MAX_PROBE_US 60000000u
#define TCP_TS_SLOTS 64            /* timestamp floors, by address-pair hash (tcp.c) */
#define TCP_TS_BUMP_MAX (1u << 24) /* ticks a clock may run ahead (4.7 h at 1 ms/tick) */
#define TCP_UNDO_MAX 16            /* retransmissions one D-SACK undo can account for */

/* D-SACK undo of a spurious recovery (tcp_recover.c; RFC 3708 detection,
 * RFC 4015 s3 response): cwnd/ssthresh before the reduction and the start
 * sequence of each retransmission of the episode, struck off as D-SACKs
 * report them; none left -> every retransmission was needless. Allocated
 * when an episode begins, freed when it ends (undone, an RTO, or the next
 * episode); no memory: no undo for that episode. */
struct tcp_undo {
    bool overflow, struck;
    uint8_t n;
    uint32_t prior_cwnd, prior_ssthresh;
    uint32_t seq[TCP_UNDO_MAX];
};

/* The part of a connection only loss, SACK information or a hole needs
 * (tcp_cold.c): allocated when first needed - data sent with SACK on (the
 * RACK table times every transmission), a segment that is not the next
 * in order, a D-SACK to report - and freed once the connection is clean
 * again: nothing outstanding, no recovery or loss probe episode, no hole,
 * no D-SACK owed. TERN_ASSERTed in tcp_check. */
struct tcp_cold {
    struct tern_tcp_ooo ooo;
    struct tern_tcp_sack sb;
    struct tern_rack rack;
    struct tern_tcp_ooo_range ooo_r[TCP_OOO_RANGES];
    struct tern_tcp_sack_range sb_r[TCP_SACK_RANGES];
    struct tern_rack_seg rack_s[TCP_RACK_SEGS];
};

/* RFC 8985 s6.1's per-connection RACK variables that outlive a flight
 * (RACK.xmit_ts, end_seq, rtt, min_RTT, fack, reordering_seen,
 * reo_wnd_mult, reo_wnd_persist, dsack_round), kept here while the cold
 * block is freed and put back when it is allocated again (tcp_cold.c). */
struct tcp_rack_keep {
    uint64_t xmit_ts;
    uint32_t end_seq, fack, dsack_round;
    uint32_t rtt, min_rtt;     /* us (a sample never nears 71 minutes: saturating) */
    uint32_t reo_wnd_mult;
    uint8_t reo_wnd_persist;
    uint8_t have_xmit : 1, fack_valid : 1, reordering_seen : 1, dsack_round_valid : 1;
};

struct tcp_cb {
    struct tern_sock *sk;
    uint8_t state;
    bool passive : 1, syn_rtx : 1;
    bool ws_ok : 1, sack_ok : 1, ts_ok : 1;
    bool fin_pending : 1, fin_acked : 1, fin_rcvd : 1, fin_ooo : 1;
    bool nodelay : 1, ack_now : 1, accepted : 1, in_synq : 1;
    bool sws_override : 1;         /* the override timeout expired (tcp_timer.c on_persist) */
    bool rings : 1;
    bool sack_on : 1;              /* RFC 6675 recovery in use (both sides SACK) */
    bool rack_on : 1, rto_recovery : 1, tlp_sending : 1; /* RFC 8985 RACK-TLP, with SACK */
    bool prr_on : 1;               /* PRR (below) in use */
    bool ptb_seen : 1;             /* ICMP frag-needed since the last forward progress */
    bool on_tw : 1;                /* counted in tcp_stack.tw_full */
    uint8_t snd_ws, rcv_ws;
    uint8_t ts_slot;           /* index into tcp_stack.ts_floor */
    uint8_t keepcnt;           /* TCP_KEEPCNT: 1..127 (tcp_sock.c) */
    uint32_t fin_ooo_seq;      /* a FIN seen beyond a hole */
    /* RFC 9293 s3.3.1 */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent;
    /* RFC 7323 */
    uint32_t ts_recent, ts_offset;
    uint32_t ts_bump;          /* ticks added to the clock so TSvals to the peer never repeat */
    uint32_t placed;           /* payload bytes already in the receive ring (tcp_in.c place_payload) */
    uint16_t mss, rcv_mss, peer_mss, user_mss;
    uint16_t mss_cap;          /* RFC 1191 frag-needed / RFC 4821 fallback cap (0: none) */
    uint16_t keepidle_s, keepintvl_s; /* TCP_KEEPIDLE/INTVL: 1..32767 s (tcp_sock.c) */
    /* RFC 5961 s7 per-connection challenge ACK limit (with chack_start):
     * never above TCP_CHACK_PER_S (tcp_in.c) */
    uint16_t chack_count;
    uint32_t dack_bytes;       /* in-order segments not yet ACKed (delayed ACK) */
    uint64_t ts_recent_at;
    struct tern_ringbuf snd, rcv;
    /* Loss recovery, SACK scoreboard, RACK table, out-of-order ranges:
     * allocated when first needed, freed when the connection is clean
     * again (tcp_cold.c). NULL on an idle connection. */
    struct tcp_cold *cold;
    struct tcp_undo *undo;     /* a D-SACK undo episode (tcp_recover.c), or NULL */
    /* A listener never sends data or runs RACK (rack_on stays false: set
     * only by tcp_rec_start after a handshake, on the child) and a
     * connection never has an accept or SYN queue (tcp_listen sets these
     * up when the socket enters LISTEN, which only a never-connected
     * socket may; tcp_check asserts both): the two share the bytes. */
    union {
        struct tcp_rack_keep rk; /* RACK's per-connection variables while cold is NULL */
        struct {                 /* listener (state LISTEN) only */
            uint32_t aq_head, aq_tail, aq_len, backlog, synq_len;
        };
    };
    struct tern_rtt rtt;
    struct tern_cc cc;
    struct tern_recovery rec;
    uint32_t sack_dups;
    /* Proportional Rate Reduction during fast recovery (tcp_recover.c,
     * RFC 6937 s3 with PRR-SSRB; RFC 9937 keeps both): bytes delivered to
     * and sent since recovery began, FlightSize then, and (without SACK)
     * the bytes duplicate ACKs are taken to have delivered. */
    uint32_t prr_delivered, prr_out, prr_recover_fs, prr_dup_est;
    int soft_err;
    /* timers: one loop timer at the earliest deadline (0 = off) */
    struct tern_timer timer;
    uint64_t t_rtx, t_dack, t_keep, t_2msl, t_persist;
    uint64_t t_reo, t_tlp;     /* RFC 8985 reordering timer, loss probe (PTO) */
    uint32_t rtx_count, persist_count, keep_probes, retransmits;
    uint64_t rtx_last_at;      /* the latest retransmission (0: none): RTT guard */
    uint64_t stall_since;      /* user timeout: since when no forward progress */
    uint64_t last_rx;
    uint64_t data_tx_at;       /* the latest data or FIN segment sent (0: none) */
    uint64_t syn_at;           /* the first SYN (or SYN-ACK) sent: R2 of the open */
    uint64_t keep_last;        /* keep-alive timer last started: idle start or last probe */
    uint64_t chack_start;      /* RFC 5961 s7: the challenge ACK second began */
    uint64_t rto_at;           /* the last RTO of the current stall (0: none) */
    /* listener / child */
    uint32_t parent;           /* listener's socket index (child not yet accepted) */
    uint32_t qnext;            /* accept queue / SYN queue chain */
    struct route_cache rt;     /* route, next hop, MAC, IP ID counter (route_cache.c) */
};

/* The always-present part of a connection. DEVIATION from issue 12's
 * 256-byte goal: the split (tcp_cold.c) took it from 3968 to 760 bytes;
 * sharing the RTO settings (tern_rtt.cfg), the listener's queues in rk's
 * bytes, field order and CUBIC's flags as bits, to 664. The rest is the
 * rings' descriptors (80), the timers (7 deadlines + a 56-byte loop
 * timer), 64-bit timestamps, RTT and CUBIC state, the route cache (48) -
 * docs/performance.md. */
_Static_assert(sizeof(struct tcp_cb) <= 664, "struct tcp_cb grew: keep it compact (tcp_cold.c)");

/* TIME-WAIT as a small record once the socket is let go of (tcp_tw.c):
 * <= 64 bytes. References are index + 1 into tcp_stack.tw_slab (0: none). */
#define TCP_TW_SLAB 1024           /* records per slab (64 KiB) */
struct tcp_tw {
    uint64_t deadline;         /* 2*MSL over (RFC 9293 s3.6.1) */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint32_t snd_nxt;          /* = SND.UNA = SND.MAX: our FIN is acknowledged */
    uint32_t rcv_nxt;          /* the peer's FIN + 1 */
    uint32_t rcv_wnd;          /* the window we last offered (bytes) */
    uint32_t max_snd_wnd;      /* RFC 5961 s5.2 */
    uint32_t ts_recent;        /* RFC 7323 TS.Recent */
    uint32_t ts_offset;        /* our timestamp clock's offset (ts_bump included) */
    uint32_t hnext, prev, next; /* hash chain; deadline-ordered list (free list: next) */
    uint16_t chack_sec;        /* RFC 5961 s7: the second of the last challenge ACKs */
    uint8_t chack_count;
    uint8_t ts_ok : 1, rcv_ws : 4;
};

/* A half-open passive connection in the SYN queue (tcp_req.c): <= 128
 * bytes until the handshake completes. */
struct tcp_req {
    uint64_t deadline;         /* next SYN-ACK retransmission */
    uint64_t syn_at;           /* the SYN arrived, the first SYN-ACK left (R2, RTT) */
    uint64_t last_tx;          /* the latest SYN-ACK sent again (0: none) */
    struct tcp_req *hnext, *prev, *next; /* hash chain; deadline-ordered list */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint32_t iss, irs;
    uint32_t snd_wnd;          /* the SYN's window (unscaled, RFC 7323 s2.2) */
    uint32_t rcv_wnd;          /* RCV.ADV - RCV.NXT: the window offered so far */
    uint32_t ts_recent, ts_offset;
    uint32_t rcvbuf;           /* the listener's, at the SYN */
    uint32_t lidx;             /* the listener's socket index */
    uint16_t peer_mss, rcv_mss;
    uint16_t chack_sec;        /* RFC 5961 s7 */
    uint8_t chack_count, rtx;  /* rtx: SYN-ACK retransmissions by the timer */
    uint8_t snd_ws, rcv_ws;
    bool ws_ok : 1, sack_ok : 1, ts_ok : 1, karn : 1, chack_on : 1, ptb_seen : 1;
    uint16_t mss_cap;          /* RFC 1191 frag-needed about the SYN-ACK (0: none) */
    int16_t soft_err;          /* RFC 5927 s4.1 soft error (reported at a timeout) */
};

struct tcp_stack {
    /* TCBs by socket index, a chunk of SOCK_CHUNK allocated when a socket
     * of the chunk first needs one; never freed before the stack (a TCB
     * is pool memory: code may look at one it just released). */
    struct tcp_cb **cb_chunks;
    /* TIME-WAIT records (tcp_tw.c) */
    struct tcp_tw **tw_slab;
    uint32_t tw_nslab, tw_free, tw_head, tw_tail, tw_count;
    uint32_t *tw_hash;         /* tw_nb buckets (power of two) */
    uint32_t tw_nb;
    struct tern_timer tw_timer; /* at the list head's deadline */
    uint32_t tw_full;          /* full TCBs in TIME-WAIT (the app still holds them) */
    /* SYN-queue records (tcp_req.c) */
    struct tcp_req **rq_hash;
    struct tcp_req *rq_head, *rq_tail;
    uint32_t rq_count;
    struct tern_timer rq_timer;
    uint32_t force_iss;        /* test hook: next ISN if force_iss_set */
    bool force_iss_set;
    struct tern_rtt_cfg rtt_cfg; /* every TCB's RTO settings (tcp.c tcp_init) */
    size_t mem_conns;          /* TCBs with rings set up (tcp.c), for tern_stack_mem */
    /* Ring chunks of every connection (ringbuf.c) and the budget's state
     * (tcp.c tcp_mem_*: cfg.tcp_mem_low/pressure/high). */
    struct tern_ring_pool pool;
    bool mem_pressure;
    /* Cold blocks (tcp_cold.c): in use, and a few freed ones kept for reuse */
    uint32_t cold_count, cold_cached;
    struct tcp_cold *cold_cache; /* chained through the block's first bytes */
    bool cold_fail;            /* test hook: every cold allocation fails */
    uint64_t cold_nomem;       /* cold allocations that failed */
    /* The out-of-order queue an in-order segment of a connection without a
     * cold block goes through: always empty (tcp_in.c process_text). */
    struct tern_tcp_ooo ooo_idle;
    struct tern_tcp_ooo_range ooo_idle_r[1];
    struct tern_tcp_ooo_stats ooo_done; /* of the cold blocks given back */
    /* The highest timestamp tick (now in ms + the connection's ts_bump,
     * without the pair's offset) sent on any connection of an address
     * pair hashed to the slot: a new connection's clock starts above it,
     * so a host's TSvals to a peer increase strictly from one connection
     * to the next even within one 1 ms tick (tcp.c, tcp_ts_start). */
    uint32_t ts_floor[TCP_TS_SLOTS];
    bool ts_floor_set[TCP_TS_SLOTS];
};

static inline struct tcp_cb *tcp_cb_of(const struct tern_sock *sk) { return sk->pcb; }

/* tcp.c */
const char *tcp_state_name(int state);
struct tcp_cb *tcp_cb_new(struct tern_sock *sk);
int tcp_alloc_rings(struct tcp_cb *cb);
/* The buffer memory budget (docs/architecture.md "Buffers on demand"):
 * under pressure (entered over cfg.tcp_mem_pressure, left below
 * cfg.tcp_mem_low); over cfg.tcp_mem_high. */
bool tcp_mem_pressure_check(struct tern_stack *s); /* the transitions */
static inline bool tcp_mem_under_pressure(struct tern_stack *s)
{
    const struct tcp_stack *t = s->tcp;
    if (!t->mem_pressure && t->pool.used <= s->cfg.tcp_mem_pressure)
        return false; /* the common case, inline */
    return tcp_mem_pressure_check(s);
}
static inline bool tcp_mem_over_high(const struct tern_stack *s)
{
    return s->tcp->pool.used + TERN_RING_CHUNK > s->cfg.tcp_mem_high;
}
void tcp_mem_reclaim(void *ctx, struct tern_ringbuf *except); /* the pool's reclaim */
#define TCP_MEM_SMALL_BUF 65536u   /* rings of a connection created under pressure */
#define TCP_MEM_PRESSURE_MSS 4u    /* window growth under pressure: segments */
uint32_t tcp_new_iss(struct tern_stack *s, const struct tern_sockaddr *l,
                     const struct tern_sockaddr *r, uint64_t now);
void tcp_set_state(struct tcp_cb *cb, int state, uint64_t now);
/* The connection is over (err 0: orderly). Releases the socket if the app
 * has let go of it, else keeps it CLOSED with the error pending. */
void tcp_done(struct tcp_cb *cb, int err);
void tcp_release(struct tcp_cb *cb);
struct tern_sock *tcp_find_listener(struct tern_stack *s, uint32_t addr, uint16_t port);
void tcp_child_remove(struct tcp_cb *cb); /* from its listener's queues */
uint16_t tcp_route_mss(struct tern_stack *s, uint32_t dst);
/* The effective send MSS (RFC 9293 s3.7.1): the only place it is computed. */
uint32_t tcp_eff_mss(const struct tcp_cb *cb);
/* Before the handshake, once local/peer are set: advertised MSS, RTO
 * estimator, timestamp offset (connect and a listener's child). */
void tcp_conn_setup(struct tcp_cb *cb);
void tcp_init_conn(struct tcp_cb *cb, uint64_t now); /* MSS, cc, recovery, RTO after the handshake */
/* SYN option negotiation (RFC 9293 s3.7.1, RFC 7323 s1.3/s2.2/s3.2, RFC
 * 2018 s2): the one place that decides a connection's MSS, window scaling,
 * SACK and timestamps from the peer's SYN (or SYN-ACK) options and ours. */
struct tcp_syn_offer {         /* what our SYN (or SYN-ACK) offers */
    bool ws, sack, ts;
    uint8_t ws_shift;          /* our shift.cnt (rcv_ws) */
};
struct tcp_syn_result {
    uint16_t peer_mss;         /* the peer's MSS option, or the 536 default */
    bool ws_ok, sack_ok, ts_ok;
    uint8_t snd_ws, rcv_ws;    /* 0 unless ws_ok */
};
struct tcp_syn_result tcp_syn_negotiate(const struct tern_tcp_opts *peer,
                                        const struct tcp_syn_offer *ours);
/* Negotiates with what cb offers (offer_all: everything we implement, with
 * cb->rcv_ws; else nothing but the MSS - a SYN cookie's SYN-ACK) and sets
 * the result in cb, with TS.Recent from the SYN's TSval (RFC 7323 s4.3). */
void tcp_syn_options(struct tcp_cb *cb, const struct tern_tcp_opts *peer, bool offer_all,
                     uint64_t now);
/* Sequence-space initialisation (RFC 9293 s3.4.1, s3.10.7.2/3), the one
 * place for each side. Send side from ISS: nothing sent yet, SND.UNA =
 * SND.NXT = SND.MAX = ISS (sending the SYN advances SND.NXT/SND.MAX). */
void tcp_seq_init_send(struct tcp_cb *cb, uint32_t iss);
/* Receive side from the peer's SYN: IRS = SEG.SEQ, RCV.NXT = IRS + 1, the
 * advertised edge at RCV.NXT (widened by the first window we send). */
void tcp_seq_init_recv(struct tcp_cb *cb, uint32_t irs);
/* Our SYN is acknowledged (s3.10.7.3 / s3.10.7.4 SYN-RECEIVED, or a SYN
 * cookie's ACK): SND.UNA = SEG.ACK, which also counts as sent. */
void tcp_seq_syn_acked(struct tcp_cb *cb, uint32_t ack);
/* SND.WND <- wnd, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK (s3.10.7.3, and
 * the fifth step's update once its guard passed); MAX.SND.WND follows. */
void tcp_snd_wnd_set(struct tcp_cb *cb, uint32_t seq, uint32_t ack, uint32_t wnd);
/* test hook: the next ISN chosen by this stack */
void tcp_test_force_iss(struct tern_stack *s, uint32_t iss);
size_t tcp_tw_count(const struct tern_stack *s);
/* TERN_ASSERTs the connection's invariants (no-op in release builds);
 * called where the engine hands control back: after a segment, a timer,
 * an ICMP error or an application call on the connection. */
#if TERN_ASSERTS_ON
void tcp_check(const struct tcp_cb *cb);
#else
static inline void tcp_check(const struct tcp_cb *cb) { (void)cb; }
#endif

/* tcp_cold.c */
/* The connection's cold block, allocated (and set up from the connection's
 * state) if it has none; NULL when there is no memory. */
struct tcp_cold *tcp_cold_get(struct tcp_cb *cb);
/* Nothing in the cold block that a fresh one would not hold. */
bool tcp_cold_clean(const struct tcp_cb *cb);
/* Frees the cold block if the connection is clean (where the engine hands
 * control back: after a segment, a timer). */
void tcp_cold_trim(struct tcp_cb *cb);
/* The connection ends: its cold block and undo record go. */
void tcp_cold_free(struct tcp_cb *cb);
/* tcp_rec_start: a cold block's scoreboard and RACK table start over. */
void tcp_cold_sack_restart(struct tcp_cb *cb);
/* RACK's variables as tcp_rack_init leaves them (tcp_rec_start). */
void tcp_rack_keep_reset(struct tcp_cb *cb);
void tcp_cold_fini(struct tern_stack *s);
/* test hook: cold allocations fail while on */
void tcp_test_cold_fail(struct tern_stack *s, bool on);
size_t tcp_cold_count(const struct tern_stack *s);
uint64_t tcp_cold_nomem(const struct tern_stack *s);
/* Out-of-order queue statistics summed over the stack: every segment's
 * (the idle queue's, the cold blocks' given back and held). */
void tcp_stack_ooo_stats(const struct tern_stack *s, struct tern_tcp_ooo_stats *out);
/* RACK's state as the cold block holds it, or as it will come back from
 * tcb->rk (no table entries) - tests and statistics. */
void tcp_rack_view(const struct tcp_cb *cb, struct tern_rack *out);

/* tcp_in.c */
void tcp_input(void *ctx, const struct tern_ipv4_repr *ip, const uint8_t *p, size_t len,
               int ifindex);
/* s3.10.7.4: a segment for a synchronized connection (or SYN-RECEIVED). */
void tcp_established_input(struct tcp_cb *cb, const struct tern_tcp_repr *seg, uint64_t now);
void tcp_icmp_error(void *ctx, uint8_t type, uint8_t code, uint16_t next_mtu,
                    const struct tern_icmp_quote *q);

/* tcp_req.c: SYN-queue records */
void tcp_req_init(struct tern_stack *s);
void tcp_req_fini(struct tern_stack *s);
/* A record for lsk's SYN with ISS iss; sends the SYN-ACK. false: no
 * memory (the caller answers with a cookie). */
bool tcp_req_new(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                 const struct tern_tcp_repr *seg, uint32_t iss, uint64_t now);
/* A segment for a record's 4-tuple: handled (true) or no record. */
bool tcp_req_input(struct tern_stack *s, const struct tern_ipv4_repr *ip,
                   const struct tern_tcp_repr *seg, uint64_t now);
/* The listener (socket index lidx) goes: its records are reset and freed. */
void tcp_req_drop_listener(struct tern_stack *s, uint32_t lidx, uint64_t now);
size_t tcp_req_count(const struct tern_stack *s);
/* An ICMP error quoting a record's SYN-ACK (RFC 5927 s4.1: seq = ISS):
 * true if a record took it, as tcp_icmp_error does for a TCB. */
bool tcp_req_icmp(struct tern_stack *s, uint8_t type, uint8_t code, uint16_t next_mtu,
                  const struct tern_icmp_quote *q);

/* tcp_listen.c */
/* A new socket and TCB for a connection of listener lsk (from ip/seg's
 * addresses and ports), not yet accepted; NULL if none can be had. */
struct tcp_cb *tcp_child_new(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                             const struct tern_tcp_repr *seg);
void tcp_listen_input(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                      const struct tern_tcp_repr *seg, uint64_t now);
void tcp_child_established(struct tcp_cb *cb);
/* The same with the ISN chosen by the caller (iss NULL: RFC 6528). */
void tcp_listen_input_iss(struct tern_sock *lsk, const struct tern_ipv4_repr *ip,
                          const struct tern_tcp_repr *seg, const uint32_t *iss, uint64_t now);
/* Room in the SYN queue and the accept queue for one more child. */
bool tcp_listen_can_take(const struct tern_sock *lsk);

/* tcp_out.c */
void tcp_output(struct tcp_cb *cb, uint64_t now);            /* data/FIN/ACK as allowed */
void tcp_send_ack(struct tcp_cb *cb, uint64_t now);          /* a pure ACK now */
void tcp_send_syn(struct tcp_cb *cb, uint64_t now);          /* SYN or SYN-ACK per state */
void tcp_send_rst_for(struct tcp_cb *cb, uint64_t now);      /* RST on a connection */
void tcp_send_probe(struct tcp_cb *cb, uint64_t now);        /* seq SND.UNA-1: window/keepalive probe */
/* Data bytes from seq that may leave the send ring now: a retransmission
 * (rtx) within [SND.UNA, SND.MAX), new data also up to SND.UNA + SND.WND. */
uint32_t tcp_send_room(const struct tcp_cb *cb, uint32_t seq, bool rtx);
/* Sends one segment [seq, seq+len) from the send ring, cut by
 * tcp_send_room; returns the sequence space sent (FIN included). */
uint32_t tcp_send_data(struct tcp_cb *cb, uint32_t seq, uint32_t len, bool rtx, uint64_t now);
/* RFC 9293 s3.10.7.1 reset for a segment that matches no connection. */
void tcp_send_reset(struct tern_stack *s, const struct tern_ipv4_repr *ip,
                    const struct tern_tcp_repr *seg, uint64_t now);
/* A stateless segment (SYN cookie SYN-ACK). */
void tcp_send_raw(struct tern_stack *s, uint32_t src, uint32_t dst, struct tern_tcp_repr *r,
                  uint64_t now);
uint32_t tcp_ts_now(const struct tcp_cb *cb, uint64_t now);
/* tcp.c: a TSval goes out at now: raises the pair's floor (tcp_stack.ts_floor). */
void tcp_ts_sent(struct tcp_cb *cb, uint64_t now);
uint32_t tcp_rcv_wnd(const struct tcp_cb *cb); /* window we could offer now */
void tcp_maybe_window_update(struct tcp_cb *cb, uint64_t now);
uint32_t tcp_flight(const struct tcp_cb *cb);

/* tcp_recover.c */
void tcp_rec_start(struct tcp_cb *cb);                 /* after the handshake */
void tcp_rec_sent(struct tcp_cb *cb, uint32_t end);    /* new data up to end */
void tcp_rec_set_mss(struct tcp_cb *cb);
void tcp_rec_rto(struct tcp_cb *cb, uint64_t now);
void tcp_rec_on_ack(struct tcp_cb *cb, const struct tern_tcp_repr *seg, uint32_t acked, bool dup,
                    uint64_t now);
bool tcp_rec_output(struct tcp_cb *cb, uint64_t now); /* true: SACK recovery sent */
/* tcp_send_data sent [seq, end) (end counts a FIN): RACK's table, PTO. */
void tcp_rec_data_sent(struct tcp_cb *cb, uint32_t seq, uint32_t end, uint64_t now);
void tcp_rec_reo_timeout(struct tcp_cb *cb, uint64_t now); /* RFC 8985 s6.2 timer */
void tcp_rec_tlp_timeout(struct tcp_cb *cb, uint64_t now); /* RFC 8985 s7.3 probe */

/* tcp_timer.c */
void tcp_timer_fn(struct tern_timer *t, void *arg);
void tcp_timer_update(struct tcp_cb *cb);
/* Sets one of the t_* deadlines and re-arms the loop timer: the only way a
 * deadline is set (clearing one may be done directly). */
void tcp_deadline(struct tcp_cb *cb, uint64_t *slot, uint64_t when);
void tcp_arm_rtx(struct tcp_cb *cb, uint64_t now);
void tcp_arm_keepalive(struct tcp_cb *cb, uint64_t now);
/* TCP_KEEPIDLE (idle) or TCP_KEEPINTVL changed: moves the running timer. */
void tcp_keepalive_retime(struct tcp_cb *cb, bool idle, uint64_t now);
void tcp_arm_persist(struct tcp_cb *cb, uint64_t now);
/* The RTT sample an ACK gives (RFC 6298, RFC 7323 s4): advanced = it
 * moved SND.UNA; with RACK, call after tcp_rack_on_ack saw it. */
void tcp_rtt_ack(struct tcp_cb *cb, const struct tern_tcp_repr *seg, bool advanced, uint64_t now);
void tcp_enter_time_wait(struct tcp_cb *cb, uint64_t now);
void tcp_tw_unlink(struct tcp_cb *cb);

/* tcp_tw.c: TIME-WAIT records */
void tcp_tw_init(struct tern_stack *s);
void tcp_tw_fini(struct tern_stack *s);
/* cb is in TIME-WAIT and its socket let go of: a record replaces it and
 * the TCB is released (false: no record could be had, cb stays). */
bool tcp_tw_take(struct tcp_cb *cb, uint64_t now);
/* A segment for a record's 4-tuple: handled (true) or no record. */
bool tcp_tw_input(struct tern_stack *s, const struct tern_ipv4_repr *ip,
                  const struct tern_tcp_repr *seg, uint64_t now);
size_t tcp_tw_mem(const struct tern_stack *s);      /* records + hash buckets, bytes */
size_t tcp_tw_reserved(const struct tern_stack *s); /* slabs + hash buckets, bytes */
/* tcp.c: the timestamp clock offset a new connection of the pair gets
 * (RFC 7323 s5.4 offset plus the bump above the pair's floor, as
 * tcp_conn_setup); *bump receives the bump. */
uint32_t tcp_ts_clock(struct tern_stack *s, uint32_t laddr, uint32_t raddr, uint64_t now,
                      uint32_t *bump);
/* tcp.c: a TSval sent on the pair (laddr, raddr) with clock offset
 * ts_offset raises the pair's floor (tcp_ts_sent without a TCB). */
void tcp_ts_sent_pair(struct tern_stack *s, uint32_t laddr, uint32_t raddr, uint32_t ts_offset,
                      uint64_t now);

/* tcp_sock.c */
extern const struct sock_proto_ops tcp_sock_ops;

#endif
