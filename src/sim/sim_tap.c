/*
 * src/sim/sim_tap.c - the simulator's trace tap: a device wrapper on every
 * interface of every node (outermost, so it sees what the node's stack
 * sends and receives, as tcpdump on that host would). It
 *   - writes the link's pcap (at the link's first end);
 *   - prints frames as tcpdump -n -r does (tern_print_frame, the printer
 *     of tern's own trace tap), all of them (--trace) or those a timeline
 *     `trace` filter picks: handshake, first data, retransmissions, close,
 *     ARP/ICMP/UDP/DNS/DHCP;
 *   - hands IPv4 packets to the flow table (summary and plots);
 *   - cuts the cable: while its link is down, frames are lost both ways.
 * Not sans-IO core: simulator code (writes FILEs).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_impl.h"
#include "tern/wire/seq.h"

struct peek {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags, proto;
    size_t payload;
    const uint8_t *ip;
    size_t iplen;
};

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The IPv4 packet in an Ethernet frame (0 if none), and its TCP/UDP header
 * fields when present (flags/ports 0 otherwise). Every length is checked. */
static int peek(const uint8_t *f, size_t len, struct peek *k)
{
    memset(k, 0, sizeof *k);
    if (len < 14 || f[12] != 0x08 || f[13] != 0x00)
        return 0;
    const uint8_t *ip = f + 14;
    size_t n = len - 14;
    if (n < 20 || (ip[0] >> 4) != 4)
        return 0;
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = (size_t)ip[2] << 8 | ip[3];
    if (ihl < 20 || tot < ihl || tot > n)
        return 0;
    k->ip = ip;
    k->iplen = tot;
    k->proto = ip[9];
    k->src = be32(ip + 12);
    k->dst = be32(ip + 16);
    bool first = ((ip[6] & 0x1f) | ip[7]) == 0;
    const uint8_t *l4 = ip + ihl;
    size_t l4len = tot - ihl;
    if (!first)
        return 1;
    if ((k->proto == 6 && l4len >= 20) || (k->proto == 17 && l4len >= 8)) {
        k->sport = (uint16_t)(l4[0] << 8 | l4[1]);
        k->dport = (uint16_t)(l4[2] << 8 | l4[3]);
    }
    if (k->proto == 6 && l4len >= 20) {
        size_t doff = (size_t)(l4[12] >> 4) * 4;
        if (doff < 20 || doff > l4len)
            return 1;
        k->seq = be32(l4 + 4);
        k->ack = be32(l4 + 8);
        k->flags = l4[13];
        k->payload = l4len - doff;
    }
    return 1;
}

static struct sim_tap_flow *tap_flow(struct sim_tap *t, const struct peek *k, int *dir)
{
    struct sim_tap_flow *oldest = &t->flows[0];
    for (int i = 0; i < SIM_TAP_FLOWS; i++) {
        struct sim_tap_flow *f = &t->flows[i];
        if (!f->used)
            continue;
        for (int d = 0; d < 2; d++)
            if (f->addr[d] == k->src && f->port[d] == k->sport && f->addr[!d] == k->dst &&
                f->port[!d] == k->dport) {
                *dir = d;
                f->used = ++t->flow_clock;
                return f;
            }
    }
    for (int i = 0; i < SIM_TAP_FLOWS; i++)
        if (t->flows[i].used < oldest->used)
            oldest = &t->flows[i];
    memset(oldest, 0, sizeof *oldest);
    oldest->addr[0] = k->src;
    oldest->port[0] = k->sport;
    oldest->addr[1] = k->dst;
    oldest->port[1] = k->dport;
    oldest->used = ++t->flow_clock;
    *dir = 0;
    return oldest;
}

/* Does the timeline filter pick this TCP segment? Updates the tap's view
 * of the conversation either way. */
static bool pick_tcp(struct sim_tap *t, const struct peek *k)
{
    int d;
    struct sim_tap_flow *f = tap_flow(t, k, &d);
    bool pick = false;
    uint32_t end = k->seq + (uint32_t)k->payload + ((k->flags & F_SYN) ? 1u : 0u) +
                   ((k->flags & F_FIN) ? 1u : 0u);
    if (k->flags & F_SYN) {
        pick |= (t->what & SCN_TR_HANDSHAKE) != 0;
        if (k->flags & F_ACK)
            f->synack_seen = true;
    } else if ((k->flags & F_ACK) && f->synack_seen && !f->hs_done && !k->payload) {
        f->hs_done = true; /* the third segment of the handshake */
        pick |= (t->what & SCN_TR_HANDSHAKE) != 0;
    }
    if (k->flags & (F_FIN | F_RST))
        pick |= (t->what & SCN_TR_CLOSE) != 0;
    if ((k->flags & F_ACK) && f->fin_seen[!d] && !f->fin_acked[!d] && k->ack == f->fin_end[!d] &&
        !k->payload) {
        f->fin_acked[!d] = true; /* the first ACK of the peer's FIN */
        pick |= (t->what & SCN_TR_CLOSE) != 0;
    }
    if (k->payload) {
        bool re = f->isn_known[d] && tern_seq_lt(k->seq, f->max_end[d]);
        if (re && (t->what & SCN_TR_RETRANS) && t->retrans_left) {
            t->retrans_left--;
            pick = true;
        } else if (!re && (t->what & SCN_TR_DATA) && t->data_left) {
            t->data_left--;
            pick = true;
        }
    }
    if (!f->isn_known[d] || tern_seq_gt(end, f->max_end[d])) {
        f->max_end[d] = end;
        f->isn_known[d] = true;
    }
    if (k->flags & F_FIN) {
        f->fin_seen[d] = true;
        f->fin_end[d] = end;
    }
    return pick;
}

static bool pick(struct sim_tap *t, const uint8_t *frame, size_t len, const struct peek *k,
                 bool is_ip)
{
    unsigned w = t->what;
    if (w & SCN_TR_ALL)
        return true;
    if (!is_ip)
        return len >= 14 && frame[12] == 0x08 && frame[13] == 0x06 && (w & SCN_TR_ARP);
    if (k->proto == 1)
        return (w & SCN_TR_ICMP) != 0;
    if (k->proto == 17) {
        if (k->sport == 53 || k->dport == 53)
            return (w & (SCN_TR_DNS | SCN_TR_UDP)) != 0;
        if (k->sport == 67 || k->dport == 67 || k->sport == 68 || k->dport == 68)
            return (w & (SCN_TR_DHCP | SCN_TR_UDP)) != 0;
        return (w & SCN_TR_UDP) != 0;
    }
    if (k->proto == 6)
        return pick_tcp(t, k);
    return false;
}

static void record(struct sim_tap *t, const uint8_t *frame, size_t len, bool tx)
{
    struct sim *sim = t->sim;
    uint64_t now = tern_loop_now(sim->loop);
    if (t->have_pcap && tern_pcap_write(&t->pw, now, frame, len, len) < 0)
        t->have_pcap = false;
    struct peek k;
    int is_ip = peek(frame, len, &k);
    if (is_ip)
        sim_flow_packet(sim, t->node, tx, k.ip, k.iplen);
    if (is_ip && t->end == 0 && k.proto == 6 && k.payload)
        sim_sniff_frame(sim, t->link, frame, len, k.src, k.sport, k.dst, k.dport, k.seq,
                        k.ip + k.iplen - k.payload, k.payload);
    if (!t->print_all && !t->what)
        return;
    /* The printer sees every frame while printing is on, so relative
     * sequence numbers match tcpdump's reading of the whole pcap. */
    bool show = t->print_all;
    if (t->what && pick(t, frame, len, &k, is_ip))
        show = true;
    int n = snprintf(t->line, sizeof t->line, "[%s] ", t->label);
    size_t off = n > 0 ? (size_t)n : 0;
    off += tern_print_ts(now, 0, t->line + off, sizeof t->line - off);
    tern_print_frame(&t->printer, TERN_LINKTYPE_ETHERNET, frame, len, len, t->line + off,
                     sizeof t->line - off);
    if (show && !sim->opts->quiet) {
        fputs(t->line, sim->out);
        fputc('\n', sim->out);
    }
}

static int tap_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct sim_tap *t = (struct sim_tap *)d;
    if (t->sim->links[t->link].down) {
        t->down_drops++;
        d->stats.tx_dropped++;
        return 0; /* the cable is cut: the frame is lost on the wire */
    }
    record(t, frame, len, true);
    struct tern_impair_stats before, after;
    tern_impair_get_stats(t->inner, &before);
    int r = tern_device_send(t->inner, frame, len);
    tern_impair_get_stats(t->inner, &after);
    sim_queue_sent(t, len, &before, &after);
    if (r < 0) {
        d->stats.tx_dropped++;
    } else {
        d->stats.tx_frames++;
        d->stats.tx_bytes += len;
    }
    return r;
}

static void tap_rx(void *ctx, struct tern_device *inner, const uint8_t *frame, size_t len)
{
    (void)inner;
    struct sim_tap *t = ctx;
    if (t->sim->links[t->link].down) {
        t->down_drops++;
        t->dev.stats.rx_dropped++;
        return;
    }
    record(t, frame, len, false);
    tern_device_deliver(&t->dev, frame, len);
}

static void tap_destroy(struct tern_device *d)
{
    struct sim_tap *t = (struct sim_tap *)d;
    if (t->have_pcap)
        tern_pcap_writer_flush(&t->pw);
    tern_device_destroy(t->inner);
    sim_queue_free(t);
    free(t);
}

static const struct tern_device_ops tap_ops = {.send = tap_send, .destroy = tap_destroy};

struct tern_device *sim_tap_wrap(struct sim *sim, struct tern_device *inner, int node, int iface,
                                 int link, int end, FILE *pcap)
{
    struct sim_tap *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->dev.ops = &tap_ops;
    t->dev.link = inner->link;
    t->dev.mtu = inner->mtu;
    memcpy(t->dev.mac, inner->mac, 6);
    t->inner = inner;
    t->sim = sim;
    t->node = node;
    t->iface = iface;
    t->link = link;
    t->end = end;
    snprintf(t->label, sizeof t->label, "%s.%s", sim->sc->nodes[node].name,
             sim->sc->nodes[node].ifaces[iface].name);
    snprintf(t->dev.name, sizeof t->dev.name, "%.31s", t->label);
    tern_printer_init(&t->printer, NULL);
    if (pcap) {
        if (tern_pcap_writer_init(&t->pw, pcap, TERN_LINKTYPE_ETHERNET, 0) < 0) {
            free(t);
            return NULL;
        }
        t->have_pcap = true;
    }
    tern_device_set_rx(inner, tap_rx, t);
    return &t->dev;
}
