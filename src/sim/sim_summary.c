/*
 * src/sim/sim_summary.c - what a simulation run prints at its end:
 *   - per TCP flow and direction: bytes, segments, retransmissions,
 *     goodput (bytes / (last data received - SYN)), smoothed RTT;
 *   - per UDP stream: sent, received, lost, duplicates, delay;
 *   - per link direction: what the impairment wrapper dropped (random
 *     loss, scripted, queue overflow) and frames lost while the link was down;
 *   - downloads (get) with the SHA-256 of the body on both ends;
 *   - where the pcaps and plots were written.
 */
#include <errno.h>
#include <string.h>

#include "app/http_client.h"
#include "sim/sim_impl.h"
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
            fputc('\n', out);
        }
    }
    if (sim->flows_dropped)
        fprintf(out, "  (%llu more flows not tracked)\n", (unsigned long long)sim->flows_dropped);
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

static void links(struct sim *sim, FILE *out)
{
    fprintf(out, "Links (per direction: frames offered, random loss, scripted drops, queue "
                 "overflows, lost while down):\n");
    for (unsigned l = 0; l < sim->nlinks; l++) {
        const struct scn_link *c = sim->links[l].cfg;
        for (int e = 0; e < 2; e++) {
            const struct sim_iface *si = &sim->nodes[c->node[e]].ifaces[c->iface[e]];
            struct tern_impair_stats st;
            tern_impair_get_stats(si->impair, &st);
            char dir[80];
            snprintf(dir, sizeof dir, "%s %s->%s", c->name, node_name(sim, c->node[e]),
                     node_name(sim, c->node[!e]));
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
    tern_sha256_init(&c);
    uint8_t buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        tern_sha256_update(&c, buf, n);
    fclose(f);
    *bytes = c.len;
    uint8_t d[32];
    tern_sha256_final(&c, d);
    tern_sha256_hex(d, hex);
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
        tern_sha256_final(&c, d);
        tern_sha256_hex(d, hex);
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
                snprintf(title, sizeof title, "%s %s:%u -> %s:%u",
                         kind ? "cwnd, ssthresh and RTT" : "time-sequence graph",
                         tern_ipv4_ntoa(f->addr[d], a), f->port[d],
                         tern_ipv4_ntoa(f->addr[!d], b), f->port[!d]);
                FILE *fp = fopen(path, "w");
                if (!fp) {
                    fprintf(out, "  cannot write %s: %s\n", path, strerror(errno));
                    continue;
                }
                int r = kind ? tern_tcpplot_write_cwnd(f->plot[d], fp, title)
                             : tern_tcpplot_write_tsg(f->plot[d], fp, title);
                if (fclose(fp) != 0 || r < 0)
                    fprintf(out, "  write error on %s\n", path);
                else
                    fprintf(out, "  plot %s (%zu retransmissions marked)\n", path,
                            tern_tcpplot_retransmissions(f->plot[d]));
                written++;
            }
        }
    }
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
        failed += sim->acts[i].started && (!sim->acts[i].done || sim->acts[i].status != 0);
    }
    fprintf(out, "Actions: %u run, %u failed or unfinished\n", started, failed);
    flows(sim, out);
    streams(sim, out);
    nats(sim, out);
    links(sim, out);
    downloads(sim, out);
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
