/*
 * src/sim/tcpplot_impl.h - the TCP plot recorder's state, shared by
 * tcpplot.c (recording, tcpplot_packet/_sample) and tcpplot_svg.c
 * (writing the SVG documents). Private to src/sim.
 */
#ifndef TERN_SIM_TCPPLOT_IMPL_H
#define TERN_SIM_TCPPLOT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/tcpplot.h"

/* Sequence positions are kept unwrapped: 64-bit, relative to the flow's
 * initial sequence number (the SYN is 0, the first data byte 1, as in
 * tcptrace), so a flow longer than 4 GiB still plots as one rising line. */
struct tp_seg {
    uint64_t t;
    int64_t seq;  /* relative start */
    uint32_t len; /* SEG.LEN (data + SYN + FIN) */
};
struct tp_ack {
    uint64_t t;
    int64_t ack;  /* relative cumulative ACK */
    uint64_t win; /* receive window in bytes, scaled (RFC 7323 s2.3) */
};
struct tp_sack {
    uint64_t t;
    int64_t left, right;
};
struct tp_sample {
    uint64_t t;
    uint32_t cwnd, ssthresh, rtt_us;
};

/* One kind of point, bounded by cap. While it is not full every point is
 * kept; when it fills, every other stored point is dropped and from then on
 * only every (1 << shift)-th point offered is kept: the stored points stay
 * spread evenly over the whole flow, never more than cap of them. */
struct tp_series {
    void *pts;
    size_t elem, cap, n;
    uint64_t seen;   /* points offered */
    unsigned shift;  /* keep 1 in 2^shift */
};

enum { TP_SEG, TP_RTX, TP_ACK, TP_SACK, TP_SAMPLE, TP_KINDS };

struct tern_tcpplot {
    uint32_t src, dst;
    uint16_t sport, dport;
    struct tp_series s[TP_KINDS];
    size_t mem;              /* bytes allocated, fixed at creation */
    /* Sequence space */
    bool have_base;          /* base32 known (the SYN, or the first segment seen) */
    uint32_t ref32;          /* a recent sequence number ... */
    int64_t ref64;           /* ... and its relative position */
    bool have_high;
    int64_t high;            /* highest relative end of data sent (snd_max) */
    /* RFC 7323 s2.2: window scaling is on only when both SYNs carry the option */
    bool syn_seen, synack_seen, snd_ws, rcv_ws_ok;
    uint8_t rcv_ws;          /* the shift the receiver announced in its SYN */
    int64_t last_ack;        /* last ACK point offered, to skip exact repeats */
    uint64_t last_win;
    bool have_ack;
    size_t rtx;              /* retransmitted segments (all, stored or not) */
    uint64_t t_first, t_last;
    bool have_t;
};

#define TP_AT(ser, type, i) (((const type *)(ser)->pts)[i])

#endif
