/*
 * src/sim/tcpplot.h - plots of one TCP flow, written as standalone SVG:
 *   - the time-sequence graph (tcptrace style): data segments as vertical
 *     bars at their send time, retransmissions in another colour and
 *     marked, the ACK line, the receive-window line (ACK + window) and
 *     SACK blocks;
 *   - cwnd, ssthresh and smoothed RTT over time.
 * The recorder is fed from the sender's side: every IPv4 packet the sender
 * sends or receives (tcpplot_packet), and periodic samples of its
 * socket info (tcpplot_sample). It keeps at most `max_points` points of
 * each kind (beyond: counted, not stored), never grows without bound.
 * Not: a pcap reader (feed it packets from a trace tap or a pcap yourself).
 */
#ifndef TERN_SIM_TCPPLOT_H
#define TERN_SIM_TCPPLOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/socket.h"

struct tern_tcpplot;

/* The flow is identified from the sender's side (host order). */
struct tern_tcpplot *tcpplot_new(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                                      size_t max_points);
void tcpplot_free(struct tern_tcpplot *p);
/* An IPv4 packet (no link header) seen at the sender at time t_us, either
 * direction; packets of other flows are ignored. */
void tcpplot_packet(struct tern_tcpplot *p, uint64_t t_us, const uint8_t *ip, size_t len);
/* The sender's socket state at t_us (cwnd, ssthresh, rtt_us, mss used). */
void tcpplot_sample(struct tern_tcpplot *p, uint64_t t_us, const struct tern_sock_info *in);
/* Segments whose data had been sent before (what the graph marks). */
size_t tcpplot_retransmissions(const struct tern_tcpplot *p);
/* Writes an SVG document; 0 or a negative enum tern_err (write error). */
int tcpplot_write_tsg(const struct tern_tcpplot *p, FILE *out, const char *title);
int tcpplot_write_cwnd(const struct tern_tcpplot *p, FILE *out, const char *title);

/* What the recorder saw and kept. `seen` counts every point offered, `stored`
 * those kept (at most max_points of each kind: segments, retransmitted
 * segments, ACK points, SACK blocks, socket samples); mem is the bytes
 * allocated, fixed by tcpplot_new. max_points 0 means 20000. */
struct tcpplot_counts {
    size_t segments, rtx, acks, sacks, samples;        /* seen */
    size_t segments_stored, rtx_stored, acks_stored, sacks_stored, samples_stored;
    size_t mem;
};
void tcpplot_counts(const struct tern_tcpplot *p, struct tcpplot_counts *out);

#endif
