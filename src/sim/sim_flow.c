/*
 * src/sim/sim_flow.c - the TCP flows of a simulation, as the hosts' taps see
 * them: per direction the bytes sent (highest sequence end - ISN), segments,
 * retransmissions (data segments starting below the highest end already
 * sent), the time the receiver last got data; RTT samples from the
 * endpoints' socket tables (tern_sock_list); and the tcpplot recorder of
 * each direction, fed at its sender (packets both ways + socket samples).
 * Bounded: SIM_MAX_FLOWS flows, beyond that counted and ignored.
 */
#include <string.h>

#include "sim/sim_impl.h"
#include "sim/tcpplot.h"
#include "tern/nat.h"
#include "tern/wire/seq.h"

#define SAMPLE_US 10000 /* socket samples every 10 ms of virtual time */
#define PLOT_POINTS 20000

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void on_sample(struct tern_timer *t, void *arg)
{
    (void)t;
    struct sim *sim = arg;
    sim_flow_sample(sim);
    tern_timer_arm(sim->loop, &sim->sampler, tern_loop_now(sim->loop) + SAMPLE_US);
}

/* An endpoint that is a NAT's external one (a router with a NAT owns the
 * address and has a session for it toward the other end): the inside
 * endpoint instead, so one connection is one flow on both sides. */
static void inside(struct sim *sim, uint32_t *a, uint16_t *p, uint32_t oa, uint16_t op)
{
    int n = sim_addr_node(sim, *a);
    if (n < 0 || !sim->sc->nodes[n].router)
        return;
    uint32_t ia;
    uint16_t ip;
    if (tern_nat_inside_of(sim->nodes[n].stack, 6, *a, *p, oa, op, &ia, &ip)) {
        *a = ia;
        *p = ip;
    }
}

static struct sim_flow *find(struct sim *sim, uint32_t src, uint16_t sport, uint32_t dst,
                             uint16_t dport, int *dir)
{
    for (unsigned i = 0; i < sim->nflows; i++) {
        struct sim_flow *f = &sim->flows[i];
        for (int d = 0; d < 2; d++)
            if (f->addr[d] == src && f->port[d] == sport && f->addr[!d] == dst &&
                f->port[!d] == dport) {
                *dir = d;
                return f;
            }
    }
    return NULL;
}

/* Throughput bins: when the run outgrows them, every flow's pairs merge
 * and the width doubles, so memory stays fixed whatever the run's length. */
static void bin_add(struct sim *sim, struct sim_flow *f, int k, uint64_t now, uint64_t bytes)
{
    uint64_t i = now / sim->bin_us;
    while (i >= SIM_TPUT_BINS) {
        for (unsigned n = 0; n < sim->nflows; n++)
            for (int e = 0; e < 2; e++) {
                uint64_t *b = sim->flows[n].dl[e].bins;
                for (unsigned j = 0; j < SIM_TPUT_BINS / 2; j++)
                    b[j] = b[2 * j] + b[2 * j + 1];
                memset(b + SIM_TPUT_BINS / 2, 0, SIM_TPUT_BINS / 2 * sizeof *b);
            }
        sim->bin_us *= 2;
        i = now / sim->bin_us;
    }
    f->dl[k].bins[i] += bytes;
}

static void delivered(struct sim *sim, struct sim_flow *f, int k, uint32_t ack, uint64_t now)
{
    if (!f->dl[k].any) {
        f->dl[k].any = true;
        f->dl[k].ack = f->dir[k].isn + 1; /* the SYN takes one number */
    }
    if (!tern_seq_gt(ack, f->dl[k].ack))
        return;
    uint32_t n = ack - f->dl[k].ack;
    f->dl[k].ack = ack;
    if (f->dir[k].fin && ack == f->dir[k].max_end)
        n--; /* the FIN's number is no data */
    if (!n)
        return;
    if (!f->dl[k].bytes)
        f->dl[k].first_us = now;
    f->dl[k].bytes += n;
    f->dl[k].last_us = now;
    bin_add(sim, f, k, now, n);
}

void sim_flow_packet(struct sim *sim, int node, bool tx, const uint8_t *ip, size_t len)
{
    if (ip[9] != 6)
        return;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (((ip[6] & 0x1f) | ip[7]) != 0 || len < ihl + 20)
        return;
    const uint8_t *th = ip + ihl;
    size_t doff = (size_t)(th[12] >> 4) * 4;
    if (doff < 20 || doff > len - ihl)
        return;
    uint32_t src = be32(ip + 12), dst = be32(ip + 16);
    uint16_t sport = (uint16_t)(th[0] << 8 | th[1]), dport = (uint16_t)(th[2] << 8 | th[3]);
    uint32_t raw_src = src, raw_dst = dst;
    uint16_t raw_sport = sport, raw_dport = dport;
    inside(sim, &src, &sport, raw_dst, raw_dport);
    inside(sim, &dst, &dport, raw_src, raw_sport);
    uint32_t seq = be32(th + 4);
    uint8_t flags = th[13];
    size_t payload = len - ihl - doff;
    /* Only the endpoints count: the sender on tx, the receiver on rx. */
    if (sim_addr_node(sim, tx ? src : dst) != node)
        return;
    int d;
    struct sim_flow *f = find(sim, src, sport, dst, dport, &d);
    uint64_t now = tern_loop_now(sim->loop);
    if (!f) {
        if (!tx || (flags & 0x12) != 0x02)
            return; /* flows start with the client's SYN */
        if (sim->nflows >= SIM_MAX_FLOWS) {
            sim->flows_dropped++;
            return;
        }
        f = &sim->flows[sim->nflows++];
        memset(f, 0, sizeof *f);
        f->addr[0] = src;
        f->port[0] = sport;
        f->addr[1] = dst;
        f->port[1] = dport;
        f->node[0] = node;
        f->node[1] = sim_addr_node(sim, dst);
        f->syn_us = now;
        if (!tern_timer_armed(&sim->sampler))
            tern_timer_arm(sim->loop, &sim->sampler, now + SAMPLE_US);
        d = 0;
    }
    /* The plot of direction k is fed at its sender, both ways, with the
     * addresses as that sender sees them (the far side of a NAT sees the
     * NAT's external endpoint): made at its first packet there. */
    for (int k = 0; k < 2; k++) {
        if (f->node[k] != node)
            continue;
        if (!f->plot[k] && sim->opts->plot_dir) {
            bool fwd = k == d; /* this packet travels in direction k */
            f->plot[k] = tcpplot_new(fwd ? raw_src : raw_dst, fwd ? raw_sport : raw_dport,
                                          fwd ? raw_dst : raw_src, fwd ? raw_dport : raw_sport,
                                          PLOT_POINTS);
        }
        if (f->plot[k])
            tcpplot_packet(f->plot[k], now, ip, len);
    }
    if (!tx) {
        if (payload)
            f->dir[d].last_rx_us = now;
        return;
    }
    /* The receiver's ACK of the other direction: bytes delivered in order. */
    if ((flags & 0x10) && f->dir[!d].isn_known && sim_addr_node(sim, src) == f->node[d])
        delivered(sim, f, !d, be32(th + 8), now);
    uint32_t end = seq + (uint32_t)payload + ((flags & 0x02) ? 1u : 0u) + ((flags & 0x01) ? 1u : 0u);
    if (flags & 0x02) {
        f->dir[d].isn = seq;
        f->dir[d].isn_known = true;
    }
    if (!f->dir[d].isn_known)
        return;
    f->dir[d].segs++;
    if (payload && tern_seq_lt(seq, f->dir[d].max_end))
        f->dir[d].retrans++;
    if (tern_seq_gt(end, f->dir[d].max_end) || f->dir[d].max_end == 0)
        f->dir[d].max_end = end;
    if (flags & 0x01)
        f->dir[d].fin = true;
}

void sim_flow_sample(struct sim *sim)
{
    struct tern_sock_info rows[64];
    uint64_t now = tern_loop_now(sim->loop);
    for (unsigned n = 0; n < sim->nnodes; n++) {
        bool any = false;
        for (unsigned i = 0; i < sim->nflows && !any; i++)
            any = sim->flows[i].node[0] == (int)n || sim->flows[i].node[1] == (int)n;
        if (!any)
            continue;
        size_t cnt = tern_sock_list(sim->nodes[n].stack, rows, 64);
        if (cnt > 64)
            cnt = 64;
        for (size_t r = 0; r < cnt; r++) {
            if (rows[r].type != TERN_SOCK_STREAM)
                continue;
            int d;
            uint32_t pa = rows[r].peer.addr;
            uint16_t pp = rows[r].peer.port;
            inside(sim, &pa, &pp, rows[r].local.addr, rows[r].local.port);
            struct sim_flow *f = find(sim, rows[r].local.addr, rows[r].local.port, pa, pp, &d);
            if (!f || f->node[d] != (int)n)
                continue;
            if (rows[r].cc)
                f->cc[d] = rows[r].cc;
            if (rows[r].rtt_us) {
                f->rtt_us[d] = rows[r].rtt_us;
                if (!f->rtt_min_us[d] || rows[r].rtt_us < f->rtt_min_us[d])
                    f->rtt_min_us[d] = rows[r].rtt_us;
                if (rows[r].rtt_us > f->rtt_max_us[d])
                    f->rtt_max_us[d] = rows[r].rtt_us;
            }
            /* A connection in TIME_WAIT sends nothing more: its frozen cwnd
             * would only draw a flat line to the end of the run. */
            if (f->plot[d] && strcmp(rows[r].state, "TIME_WAIT") != 0)
                tcpplot_sample(f->plot[d], now, &rows[r]);
        }
    }
}

void sim_flow_free_all(struct sim *sim)
{
    for (unsigned i = 0; i < sim->nflows; i++)
        for (int k = 0; k < 2; k++) {
            tcpplot_free(sim->flows[i].plot[k]);
            sim->flows[i].plot[k] = NULL;
        }
}

void sim_flow_init(struct sim *sim)
{
    sim->bin_us = 100000; /* 100 ms */
    tern_timer_init(&sim->sampler, on_sample, sim);
}
