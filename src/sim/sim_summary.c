/*
 * src/sim/sim_summary.c - what a simulation run prints at its end:
 *   - per TCP flow and direction: bytes, segments, retransmissions,
 *     goodput (bytes / (last data received - SYN)), smoothed RTT;
 *   - per UDP stream: sent, received, lost, duplicates, delay;
 *   - per router: datagrams forwarded and dropped, by reason;
 *   - per link direction: what the impairment wrapper dropped (random
 *     loss, scripted, queue overflow) and frames lost while the link was down;
 *   - downloads (get) with the SHA-256 of the body on both ends;
 *   - where the pcaps and plots were written.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "app/http_client.h"
#include "sim/sim_impl.h"
#include "sim/lineplot.h"
#include "sim/tcpplot.h"
#include "tern/nat.h"
#include "tern/wire/ipv4.h"

static const char *node_name(struct sim *sim, int n)
{
    return n >= 0 ? sim->sc->nodes[n].name : "?";
}

static void flows(struct sim *sim, FILE *out)
{
    if (!sim->nflows)
        return;
    fprintf(out, "TCP flows:\n");
    for (unsigned i = 0; i < sim->nflows; i++) {
        struct sim_flow *f = &sim->flows[i];
        char a[16], b[16];
        fprintf(out, "  %s:%u -> %s:%u (%s -> %s)\n", tern_ipv4_ntoa(f->addr[0], a), f->port[0],
                tern_ipv4_ntoa(f->addr[1], b), f->port[1], node_name(sim, f->node[0]),
                node_name(sim, f->node[1]));
        for (int d = 0; d < 2; d++) {
            uint32_t bytes = 0;
            if (f->dir[d].isn_known) {
                bytes = f->dir[d].max_end - f->dir[d].isn - 1;
                if (f->dir[d].fin && bytes)
                    bytes--;
            }
            fprintf(out, "    %-6s -> %-6s %9u bytes %6llu segments %4llu retransmitted",
                    node_name(sim, f->node[d]), node_name(sim, f->node[!d]), bytes,
                    (unsigned long long)f->dir[d].segs, (unsigned long long)f->dir[d].retrans);
            if (bytes >= 10000 && f->dir[d].last_rx_us > f->syn_us)
                fprintf(out, "  goodput %.3f Mbit/s",
                        (double)bytes * 8 / (double)(f->dir[d].last_rx_us - f->syn_us));
            if (f->rtt_us[d])
                fprintf(out, "  rtt %.1f ms (%.1f..%.1f)", f->rtt_us[d] / 1000.0,
                        f->rtt_min_us[d] / 1000.0, f->rtt_max_us[d] / 1000.0);
            if (bytes >= 10000 && f->cc[d])
                fprintf(out, "  cc %s", f->cc[d]);
            fputc('\n', out);
        }
    }
    if (sim->flows_dropped)
        fprintf(out, "  (%llu more flows not tracked)\n", (unsigned long long)sim->flows_dropped);
}

/* Bytes of direction k of f delivered within [a, b) us, from the bins
 * (a bin straddling an end counts in proportion: delivery is taken as
 * even within one bin). */
static double bytes_between(const struct sim *sim, const struct sim_flow *f, int k, uint64_t a,
                            uint64_t b)
{
    double sum = 0, w = (double)sim->bin_us;
    for (unsigned j = 0; j < SIM_TPUT_BINS; j++) {
        double lo = (double)j * w, hi = lo + w;
        double o = fmin(hi, (double)b) - fmax(lo, (double)a);
        if (o > 0 && f->dl[k].bins[j])
            sum += (double)f->dl[k].bins[j] * o / w;
    }
    return sum;
}

/* The flow directions that carried data (>= 10000 bytes delivered). */
#define BULK_BYTES 10000

/* Jain's fairness index (R. Jain, D. Chiu, W. Hawe, DEC-TR-301, 1984):
 * J = (sum x)^2 / (n * sum x^2) over the throughputs x of the n flows
 * carrying data, each measured over the interval all of them were
 * delivering (from the latest first delivery to the earliest last one).
 * 1 = equal shares; 1/n = one flow has it all. */
static void fairness(struct sim *sim, FILE *out)
{
    unsigned n = 0;
    uint64_t a = 0, b = UINT64_MAX;
    for (unsigned i = 0; i < sim->nflows; i++)
        for (int k = 0; k < 2; k++) {
            const struct sim_flow *f = &sim->flows[i];
            if (f->dl[k].bytes < BULK_BYTES)
                continue;
            n++;
            a = f->dl[k].first_us > a ? f->dl[k].first_us : a;
            b = f->dl[k].last_us < b ? f->dl[k].last_us : b;
        }
    if (n < 2)
        return;
    if (b <= a) {
        fprintf(out, "Fairness: the %u TCP flows carrying data never overlapped\n", n);
        return;
    }
    double sum = 0, sq = 0, secs = (double)(b - a) / 1e6;
    fprintf(out, "Fairness over %.3f-%.3f s, where the %u TCP flows carrying data overlap:\n",
            (double)a / 1e6, (double)b / 1e6, n);
    for (unsigned i = 0; i < sim->nflows; i++)
        for (int k = 0; k < 2; k++) {
            const struct sim_flow *f = &sim->flows[i];
            if (f->dl[k].bytes < BULK_BYTES)
                continue;
            double x = bytes_between(sim, f, k, a, b) * 8 / secs / 1e6;
            fprintf(out, "  flow%u %s -> %s (port %u)  %.3f Mbit/s\n", i + 1,
                    node_name(sim, f->node[k]), node_name(sim, f->node[!k]),
                    f->port[1], x);
            sum += x;
            sq += x * x;
        }
    fprintf(out, "  Jain's fairness index %.3f (1 = equal shares, %.3f = one flow has all)\n",
            sq > 0 ? sum * sum / (n * sq) : 0.0, 1.0 / n);
}

static void streams(struct sim *sim, FILE *out)
{
    bool any = false;
    for (unsigned i = 0; i < sim->nacts; i++)
        if (sim->acts[i].stream) {
            if (!any)
                fprintf(out, "UDP streams (nobody resends):\n");
            any = true;
            sim_stream_report(sim->acts[i].stream, out);
        }
}

/* Per router with a NAT or firewall: its counters (docs/nat.md). */
static void nats(struct sim *sim, FILE *out)
{
    bool any = false;
    for (unsigned n = 0; n < sim->nnodes; n++) {
        const struct tern_nat_stats *st = tern_nat_stats(sim->nodes[n].stack);
        if (!st)
            continue;
        if (!any)
            fprintf(out, "NAT (sessions created, expired, evicted; datagrams out, in, "
                         "hairpinned; dropped by filter, by quota; firewall allowed, denied):\n");
        any = true;
        fprintf(out,
                "  %-8s %6llu created %6llu expired %6llu evicted  %7llu out %7llu in %4llu "
                "hairpin  %5llu filter %5llu quota  %4llu allowed %4llu denied\n",
                node_name(sim, (int)n), (unsigned long long)st->created,
                (unsigned long long)st->expired, (unsigned long long)st->evicted,
                (unsigned long long)st->out, (unsigned long long)st->in,
                (unsigned long long)st->hairpin, (unsigned long long)st->drop_filter,
                (unsigned long long)st->drop_quota, (unsigned long long)st->fw_allow,
                (unsigned long long)st->fw_deny);
    }
}

/* Per router: what it forwarded and why it dropped the rest, each datagram
 * under one reason (tern_stats: RFC 1812 s5.2.7.1 no route, s5.3.1 TTL;
 * the queue is its egress links' drop-tail queues, the impairment wrappers
 * of its own interfaces). */
static void routers(struct sim *sim, FILE *out)
{
    bool any = false;
    for (unsigned n = 0; n < sim->nnodes; n++) {
        const struct sim_node *sn = &sim->nodes[n];
        if (!sn->cfg->router)
            continue;
        if (!any)
            fprintf(out, "Routers (datagrams forwarded; dropped for: no route, TTL expired, "
                         "queue overflow, ARP unanswered, too big with DF, NAT/firewall, "
                         "other):\n");
        any = true;
        const struct tern_stats *st = tern_stack_stats(sn->stack);
        /* A full queue refuses the frame: the forwarding path counts it in
         * fwd_errors too, so "other" is what is left of those. */
        uint64_t queue = 0;
        for (unsigned i = 0; i < sn->cfg->nifaces; i++) {
            struct tern_impair_stats is;
            tern_impair_get_stats(sn->ifaces[i].impair, &is);
            queue += is.queue_drops;
        }
        fprintf(out, "  %-8s %7llu forwarded  %5llu no-route %5llu ttl %5llu queue %5llu arp "
                     "%4llu df %5llu nat %4llu other\n",
                node_name(sim, (int)n), (unsigned long long)st->ip.forwarded,
                (unsigned long long)st->ip.fwd_no_route, (unsigned long long)st->ip.drop_ttl,
                (unsigned long long)queue, (unsigned long long)st->arp.queue_drops,
                (unsigned long long)st->ip.fwd_needfrag, (unsigned long long)st->ip.fwd_nat_drop,
                (unsigned long long)(st->ip.fwd_errors > queue ? st->ip.fwd_errors - queue : 0));
    }
}

static void links(struct sim *sim, FILE *out)
{
    fprintf(out, "Links (per direction: frames offered, random loss, scripted drops, queue "
                 "overflows, lost while down):\n");
    for (unsigned l = 0; l < sim->nlinks; l++) {
        const struct scn_link *c = sim->links[l].cfg;
        /* a segment: each end into the hub */
        for (unsigned e = 0; e < c->nends; e++) {
            const struct sim_iface *si = &sim->nodes[c->node[e]].ifaces[c->iface[e]];
            struct tern_impair_stats st;
            tern_impair_get_stats(si->impair, &st);
            char dir[80];
            snprintf(dir, sizeof dir, "%s %s->%s", c->name, node_name(sim, c->node[e]),
                     c->nends > 2 ? "hub" : node_name(sim, c->node[!e]));
            fprintf(out, "  %-28s %7llu frames %5llu lost %3llu scripted %5llu queue %4llu down\n",
                    dir, (unsigned long long)st.frames, (unsigned long long)st.lost,
                    (unsigned long long)st.scripted, (unsigned long long)st.queue_drops,
                    (unsigned long long)si->tap->down_drops);
        }
    }
}

/* The file an HTTP server node serves for a URL path ("/" -> index.html). */
static int server_hash(struct sim *sim, int node, const char *url, char hex[65], uint64_t *bytes)
{
    const struct sim_node *sn = &sim->nodes[node];
    if (!sn->http)
        return -1;
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    char path[1200];
    snprintf(path, sizeof path, "%s%s%s", sn->http_root, p ? p : "/",
             (!p || p[strlen(p) - 1] == '/') ? "index.html" : "");
    if (strstr(p ? p : "", ".."))
        return -1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct tern_sha256 c;
    sim_sha256_init(&c);
    uint8_t buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sim_sha256_update(&c, buf, n);
    fclose(f);
    *bytes = c.len;
    uint8_t d[32];
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, hex);
    return 0;
}

static void downloads(struct sim *sim, FILE *out)
{
    bool any = false;
    for (unsigned i = 0; i < sim->nacts; i++) {
        struct sim_act *a = &sim->acts[i];
        if (a->cfg->kind != SCN_ACT_GET || !a->started)
            continue;
        if (!any)
            fprintf(out, "Downloads (SHA-256 of the body on both ends):\n");
        any = true;
        struct tern_sha256 c = a->sha;
        uint8_t d[32];
        char hex[65], shex[65];
        sim_sha256_final(&c, d);
        sim_sha256_hex(d, hex);
        fprintf(out, "  %s get %s: %s\n", node_name(sim, a->cfg->node), a->cfg->target,
                a->done ? (a->status == 0 ? "complete" : "FAILED") : "unfinished");
        fprintf(out, "    received by %-8s %9llu bytes  sha256 %s\n", node_name(sim, a->cfg->node),
                (unsigned long long)a->body_bytes, hex);
        /* The server: the peer of the client's last flow to the URL's port
         * that started after the action. */
        int srv = -1;
        for (unsigned k = 0; k < sim->nflows; k++)
            if (sim->flows[k].node[0] == a->cfg->node && sim->flows[k].syn_us >= a->cfg->at_us)
                srv = sim->flows[k].node[1];
        uint64_t sb = 0;
        if (srv >= 0 && server_hash(sim, srv, a->cfg->target, shex, &sb) == 0)
            fprintf(out, "    served by   %-8s %9llu bytes  sha256 %s  %s\n", node_name(sim, srv),
                    (unsigned long long)sb, shex,
                    !strcmp(hex, shex) && sb == a->body_bytes ? "(identical)" : "(DIFFERENT)");
    }
}

/* One plot with every bulk flow's delivered throughput over time. */
static unsigned throughput_plot(struct sim *sim, FILE *out)
{
    struct sim_plot_series ser[8];
    static double tv[8][2][SIM_TPUT_BINS];
    char labels[8][160];
    size_t ns = 0, nbins = 0;
    unsigned more = 0;
    double w = (double)sim->bin_us;
    for (unsigned i = 0; i < sim->nflows; i++)
        for (int k = 0; k < 2; k++) {
            const struct sim_flow *f = &sim->flows[i];
            if (f->dl[k].bytes < BULK_BYTES)
                continue;
            size_t last = (size_t)(f->dl[k].last_us / sim->bin_us) + 1;
            nbins = last > nbins ? last : nbins;
        }
    for (unsigned i = 0; i < sim->nflows; i++)
        for (int k = 0; k < 2; k++) {
            const struct sim_flow *f = &sim->flows[i];
            if (f->dl[k].bytes < BULK_BYTES)
                continue;
            if (ns == 8) {
                more++;
                continue;
            }
            char a[16], b[16];
            snprintf(labels[ns], sizeof labels[ns], "flow%u %s -> %s (%s:%u -> %s:%u)%s%s",
                     i + 1, node_name(sim, f->node[k]), node_name(sim, f->node[!k]),
                     tern_ipv4_ntoa(f->addr[k], a), f->port[k], tern_ipv4_ntoa(f->addr[!k], b),
                     f->port[!k], f->cc[k] ? ", " : "", f->cc[k] ? f->cc[k] : "");
            for (size_t j = 0; j < nbins && j < SIM_TPUT_BINS; j++) {
                tv[ns][0][j] = ((double)j + 0.5) * w / 1e6;
                tv[ns][1][j] = (double)f->dl[k].bins[j] * 8 / w; /* bytes/us * 8 = Mbit/s */
            }
            ser[ns] = (struct sim_plot_series){.label = labels[ns], .t = tv[ns][0],
                                               .v = tv[ns][1], .n = nbins, .cls = "tput"};
            ns++;
        }
    if (!ns)
        return 0;
    char path[700], sub[200];
    snprintf(path, sizeof path, "%s/throughput.svg", sim->opts->plot_dir);
    snprintf(sub, sizeof sub, "delivered in order (the receivers' ACKs), per %.0f ms%s",
             w / 1000, more ? "; more flows not drawn" : "");
    struct sim_plot_panel pn = {.ylabel = "throughput (Mbit/s)", .unit = SIM_PLOT_NUMBER,
                                .s = ser, .ns = ns};
    FILE *fp = fopen(path, "w");
    if (!fp) {
        fprintf(out, "  cannot write %s: %s\n", path, strerror(errno));
        return 0;
    }
    char title[300];
    snprintf(title, sizeof title, "TCP throughput over time: %s", sim->sc->fname);
    int r = sim_plot_write(fp, title, sub, &pn, 1);
    if (fclose(fp) != 0 || r < 0) {
        fprintf(out, "  write error on %s\n", path);
        return 0;
    }
    fprintf(out, "  plot %s (%zu flow%s)\n", path, ns, ns == 1 ? "" : "s");
    return 1;
}

static void plots(struct sim *sim, FILE *out)
{
    const char *dir = sim->opts->plot_dir;
    if (!dir)
        return;
    unsigned written = 0;
    for (unsigned i = 0; i < sim->nflows; i++) {
        struct sim_flow *f = &sim->flows[i];
        for (int d = 0; d < 2; d++) {
            uint32_t bytes = f->dir[d].isn_known ? f->dir[d].max_end - f->dir[d].isn - 1 : 0;
            if (!f->plot[d] || bytes < 8192)
                continue;
            for (int kind = 0; kind < 2; kind++) {
                char path[700], title[160], a[16], b[16];
                snprintf(path, sizeof path, "%s/flow%u-%s-%s-%s.svg", dir, i + 1,
                         node_name(sim, f->node[d]), node_name(sim, f->node[!d]),
                         kind ? "cwnd" : "tsg");
                snprintf(title, sizeof title, "%s, flow %u: %s -> %s (%s:%u -> %s:%u)",
                         kind ? "cwnd, ssthresh and RTT" : "time-sequence graph", i + 1,
                         node_name(sim, f->node[d]), node_name(sim, f->node[!d]),
                         tern_ipv4_ntoa(f->addr[d], a), f->port[d],
                         tern_ipv4_ntoa(f->addr[!d], b), f->port[!d]);
                FILE *fp = fopen(path, "w");
                if (!fp) {
                    fprintf(out, "  cannot write %s: %s\n", path, strerror(errno));
                    continue;
                }
                int r = kind ? tcpplot_write_cwnd(f->plot[d], fp, title)
                             : tcpplot_write_tsg(f->plot[d], fp, title);
                if (fclose(fp) != 0 || r < 0)
                    fprintf(out, "  write error on %s\n", path);
                else
                    fprintf(out, "  plot %s (%zu retransmissions marked)\n", path,
                            tcpplot_retransmissions(f->plot[d]));
                written++;
            }
        }
    }
    written += throughput_plot(sim, out);
    written += sim_queue_plots(sim, out);
    if (!written)
        fprintf(out, "  no TCP flow carried data: no plots\n");
}

void sim_summary(struct sim *sim)
{
    FILE *out = sim->out;
    fflush(out);
    fprintf(out, "\n== summary: %.3f s of virtual time, seed %llu\n",
            (double)tern_loop_now(sim->loop) / 1e6, (unsigned long long)sim->seed);
    unsigned failed = 0, started = 0;
    for (unsigned i = 0; i < sim->nacts; i++) {
        started += sim->acts[i].started;
        failed += !sim->acts[i].done || sim->acts[i].status != 0;
    }
    fprintf(out, "Actions: %u run, %u failed or unfinished\n", started, failed);
    /* Which ones: `tern sim` exits 1 when there is any (docs/scenarios.md). */
    for (unsigned i = 0; i < sim->nacts; i++) {
        const struct sim_act *a = &sim->acts[i];
        if (a->done && a->status == 0)
            continue;
        fprintf(out, "  %s:%d: %s%s%s%s%s: ", sim->sc->fname, a->cfg->line,
                a->cfg->node >= 0 ? node_name(sim, a->cfg->node) : "",
                a->cfg->node >= 0 ? " " : "", sim_act_verb(a->cfg->kind),
                a->cfg->target[0] ? " " : "", a->cfg->target);
        if (!a->started)
            fprintf(out, "not started (the run ended at %.3f s)\n",
                    (double)tern_loop_now(sim->loop) / 1e6);
        else if (!a->done)
            fprintf(out, "unfinished\n");
        else
            fprintf(out, "failed (exit %d)\n", a->status);
    }
    sim->failed = failed;
    flows(sim, out);
    fairness(sim, out);
    streams(sim, out);
    nats(sim, out);
    routers(sim, out);
    links(sim, out);
    sim_queue_summary(sim, out);
    downloads(sim, out);
    sim_sniff_summary(sim, out);
    if (sim->opts->pcap_dir) {
        fprintf(out, "Pcaps (each captured at the link's first end):\n");
        for (unsigned l = 0; l < sim->nlinks; l++) {
            const struct scn_link *c = sim->links[l].cfg;
            fprintf(out, "  %s/%s.pcap  at %s.%s\n", sim->opts->pcap_dir, c->name,
                    node_name(sim, c->node[0]), sim->sc->nodes[c->node[0]].ifaces[c->iface[0]].name);
        }
    }
    if (sim->opts->plot_dir)
        fprintf(out, "Plots:\n");
    plots(sim, out);
}
