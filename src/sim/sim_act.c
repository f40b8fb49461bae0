/*
 * src/sim/sim_act.c - the timeline: each action starts at its virtual time
 * on its node, with the app of src/app that real mode uses (ping,
 * traceroute, the HTTP client, nc, the resolver, the DHCP client, perf), whose
 * output lines are attributed to the node. Also the network actions: link
 * up/down, netstat snapshots, trace filters, and `say` (a caption).
 * An action is "done" when its app reports so; the run ends after the last.
 */
#include <stdlib.h>
#include <string.h>

#include "app/dhcp_client.h"
#include "app/http_client.h"
#include "app/nc.h"
#include "app/perf.h"
#include "app/netstat.h"
#include "tern/nat.h"
#include "app/ping.h"
#include "app/resolver.h"
#include "app/services.h"
#include "app/traceroute.h"
#include "sim/sim_impl.h"
#include "tern/err.h"
#include "tern/wire/ipv4.h"

void sim_act_finish(struct sim_act *a, int status)
{
    if (a->done)
        return;
    a->done = true;
    a->status = status;
    a->done_us = tern_loop_now(a->sim->loop);
}

#define finish sim_act_finish

static void on_app_done(void *ctx, int status)
{
    finish(ctx, status);
}

/* ---- get / nc output: counted and hashed, never printed ---- */

static ssize_t body_write(void *c, const char *buf, size_t len)
{
    struct sim_act *a = c;
    sim_sha256_update(&a->sha, buf, len);
    a->body_bytes += len;
    return (ssize_t)len;
}

static FILE *body_file(struct sim_act *a)
{
    sim_sha256_init(&a->sha);
    cookie_io_functions_t io = {.write = body_write};
    a->body = fopencookie(a, "w", io);
    if (a->body)
        setvbuf(a->body, NULL, _IONBF, 0);
    return a->body;
}

static void print_hash(FILE *out, const char *what, struct tern_sha256 *c)
{
    uint8_t d[32];
    char hex[65];
    struct tern_sha256 copy = *c;
    sim_sha256_final(&copy, d);
    sim_sha256_hex(d, hex);
    fprintf(out, "%s sha256 %s\n", what, hex);
}

/* ---- get ---- */

static void on_get_done(void *ctx, int status)
{
    struct sim_act *a = ctx;
    double secs = (double)(tern_loop_now(a->sim->loop) - a->cfg->at_us) / 1e6;
    fflush(a->body);
    fprintf(a->out, "get %s: exit %d, HTTP %d, %llu bytes in %.3f s\n", a->cfg->target, status,
            http_get_status(a->get), (unsigned long long)a->body_bytes, secs);
    print_hash(a->out, "get: body", &a->sha);
    finish(a, status);
}

static int start_get(struct sim_act *a, struct sim_node *n)
{
    struct tern_http_get_opts o = {.url = a->cfg->target};
    if (n->dns) {
        o.dns.servers[0] = n->dns;
        o.dns.nservers = 1;
    }
    struct tern_http_get_io io = {.out = body_file(a), .err = a->out, .done = on_get_done,
                                  .ctx = a};
    int err = 0;
    if (!io.out)
        return TERN_E_NOMEM;
    a->get = http_get_start(n->stack, a->sim->loop, &o, &io, &err);
    return a->get ? 0 : err;
}

/* ---- nc: N bytes of the chargen pattern to a TCP port ---- */

static void nc_feed(struct tern_timer *t, void *arg)
{
    (void)t;
    struct sim_act *a = arg;
    uint8_t buf[16384];
    while (a->want && a->nc && a->sent < a->cfg->bytes) {
        size_t n = a->cfg->bytes - a->sent < sizeof buf ? (size_t)(a->cfg->bytes - a->sent)
                                                         : sizeof buf;
        classic_chargen((uint32_t)(a->sent % TERN_SVC_CHARGEN_PERIOD), buf, n);
        int r = nc_input(a->nc, buf, n);
        if (r == TERN_E_AGAIN)
            return;
        if (r < 0)
            return;
        sim_sha256_update(&a->sent_sha, buf, n);
        a->sent += n;
    }
    if (a->nc && a->sent >= a->cfg->bytes && a->want) {
        a->want = false;
        nc_input_eof(a->nc);
    }
}

static void nc_want(void *ctx, bool on)
{
    struct sim_act *a = ctx;
    a->want = on;
    if (on && !tern_timer_armed(&a->feed))
        tern_timer_arm(a->sim->loop, &a->feed, tern_loop_now(a->sim->loop));
}

static void nc_done(void *ctx, int status)
{
    struct sim_act *a = ctx;
    double secs = (double)(tern_loop_now(a->sim->loop) - a->cfg->at_us) / 1e6;
    fflush(a->body);
    fprintf(a->out, "nc %s %u: exit %d, sent %llu bytes, received %llu, in %.3f s\n",
            a->cfg->target, a->cfg->port, status, (unsigned long long)a->sent,
            (unsigned long long)a->body_bytes, secs);
    print_hash(a->out, "nc: sent", &a->sent_sha);
    if (a->body_bytes)
        print_hash(a->out, "nc: received", &a->sha);
    finish(a, status);
}

static int start_nc(struct sim_act *a, struct sim_node *n, uint32_t dst)
{
    struct tern_nc_opts o = {.peer_addr = dst, .peer_port = a->cfg->port, .tcp = true,
                             .quit_after_eof_us = 30000000, .connect_timeout_us = 20000000};
    struct tern_nc_io io = {.out = body_file(a), .err = a->out, .want_input = nc_want,
                            .done = nc_done, .ctx = a};
    int err = 0;
    if (!io.out)
        return TERN_E_NOMEM;
    sim_sha256_init(&a->sent_sha);
    tern_timer_init(&a->feed, nc_feed, a);
    a->nc = nc_start(n->stack, a->sim->loop, &o, &io, &err);
    return a->nc ? 0 : err;
}

/* ---- resolve, dhcp ---- */

static void on_resolved(void *ctx, const struct tern_resolve_result *r)
{
    struct sim_act *a = ctx;
    finish(a, resolve_print(r, a->cfg->target, a->out));
}

static void on_dhcp(void *ctx, enum tern_dhcp_event ev, const struct tern_dhcp_lease *l)
{
    struct sim_act *a = ctx;
    struct sim_node *n = &a->sim->nodes[a->cfg->node];
    char b[160];
    dhcp_lease_format(l, b, sizeof b);
    static const char *const what[] = {"bound", "renewed", "declined", "NAK", "lost"};
    fprintf(a->out, "dhcp: %s %s\n", what[ev], b);
    if (ev == TERN_DHCP_EV_BOUND || ev == TERN_DHCP_EV_RENEWED) {
        if (!n->cfg->dns && l->n_dns)
            n->dns = l->dns[0];
        finish(a, 0);
    }
}

static int start_dhcp(struct sim_act *a, struct sim_node *n)
{
    if (n->dhcpc) {
        fprintf(a->out, "dhcp: already running\n");
        finish(a, 0);
        return 0;
    }
    int ifi = -1;
    for (unsigned i = 0; i < n->cfg->nifaces && ifi < 0; i++)
        if (n->cfg->ifaces[i].dhcp)
            ifi = (int)i;
    struct tern_dhcp_client_opts o = {.ifindex = n->ifaces[ifi].ifindex,
                                      .hostname = n->cfg->name,
                                      .no_probe = a->cfg->noprobe};
    int err = 0;
    n->dhcpc = dhcp_client_start(n->stack, a->sim->loop, &o, on_dhcp, a, &err);
    return n->dhcpc ? 0 : err;
}

/* ---- network actions ---- */

static void set_trace(struct sim *sim, struct sim_tap *t, const struct scn_action *c)
{
    (void)sim;
    t->what = c->trace_what == SCN_TR_OFF ? 0 : c->trace_what;
    t->data_left = c->trace_data;
    t->retrans_left = c->trace_retrans;
}

static void do_trace(struct sim *sim, const struct scn_action *c)
{
    const struct scenario *sc = sim->sc;
    int l = scenario_link(sc, c->target), nd = scenario_node(sc, c->target), f;
    if (!strcmp(c->target, "all")) {
        for (unsigned i = 0; i < sim->nlinks; i++) {
            const struct scn_link *lk = &sc->links[i];
            set_trace(sim, sim->nodes[lk->node[0]].ifaces[lk->iface[0]].tap, c);
        }
    } else if (l >= 0) {
        const struct scn_link *lk = &sc->links[l];
        set_trace(sim, sim->nodes[lk->node[0]].ifaces[lk->iface[0]].tap, c);
    } else if (nd >= 0) {
        for (unsigned i = 0; i < sc->nodes[nd].nifaces; i++)
            set_trace(sim, sim->nodes[nd].ifaces[i].tap, c);
    } else if (scenario_endpoint(sc, c->target, &nd, &f) == 0) {
        set_trace(sim, sim->nodes[nd].ifaces[f].tap, c);
    }
}

const char *sim_act_verb(enum scn_act_kind k)
{
    static const char *const v[] = {"ping", "traceroute", "get", "nc", "stream", "resolve",
                                    "dhcp", "perf", "link", "netstat", "trace", "say", "pop3"};
    return k <= SCN_ACT_POP3 ? v[k] : "?";
}

#define verb sim_act_verb

static void on_stream_done(void *ctx)
{
    finish(ctx, 0);
}

void sim_act_start(struct sim_act *a)
{
    struct sim *sim = a->sim;
    const struct scn_action *c = a->cfg;
    a->started = true;
    if (c->kind == SCN_ACT_SAY) {
        if (!sim->opts->quiet)
            fprintf(sim->out, "\n== %s\n", c->text);
        return finish(a, 0);
    }
    if (c->kind == SCN_ACT_LINK) {
        int l = scenario_link(sim->sc, c->target);
        sim->links[l].down = !c->up;
        if (!sim->opts->quiet)
            fprintf(sim->out, "[%8.3f] link %s %s\n", (double)tern_loop_now(sim->loop) / 1e6,
                    c->target, c->up ? "up" : "down");
        return finish(a, 0);
    }
    if (c->kind == SCN_ACT_TRACE) {
        do_trace(sim, c);
        return finish(a, 0);
    }
    struct sim_node *n = &sim->nodes[c->node];
    /* Each app writes its lines through its own line-assembling FILE:
     * two apps of one node printing at the same instant never share a
     * half-written line (issue 13). */
    if (!a->out)
        a->out = sim_line_file(sim, n->cfg->name);
    if (!a->out) {
        fprintf(n->out, "%s: out of memory\n", verb(c->kind));
        return finish(a, 2);
    }
    if (c->kind == SCN_ACT_NETSTAT) {
        fprintf(a->out, "$ netstat -a\n");
        netstat_print(a->out, n->stack, sim->servdb, 0);
        if (tern_nat_stats(n->stack)) {
            /* A NAT or firewall: its table as conntrack -L prints it. */
            static char buf[1 << 16];
            size_t need = tern_nat_list(n->stack, buf, sizeof buf);
            fprintf(a->out, "$ conntrack -L\n%s", buf);
            if (need >= sizeof buf)
                fprintf(a->out, "(%zu more bytes not shown)\n", need - (sizeof buf - 1));
            fprintf(a->out, "conntrack: %llu flow entries have been shown.\n",
                    (unsigned long long)tern_nat_stats(n->stack)->entries);
        }
        return finish(a, 0);
    }
    uint32_t dst = 0;
    if (c->kind == SCN_ACT_PING || c->kind == SCN_ACT_TRACEROUTE || c->kind == SCN_ACT_NC ||
        c->kind == SCN_ACT_STREAM || c->kind == SCN_ACT_PERF || c->kind == SCN_ACT_POP3) {
        dst = sim_target_addr(sim, c->target);
        if (!dst) {
            fprintf(a->out, "%s: %s has no address (yet)\n", verb(c->kind), c->target);
            return finish(a, 2);
        }
    }
    char d[16];
    int err = 0;
    switch (c->kind) {
    case SCN_ACT_PING: {
        fprintf(a->out, "$ ping -c %u -s %u %s\n", c->count, c->size, c->target);
        struct tern_ping_opts o = {.dst = dst, .dst_name = c->target, .count = c->count,
                                   .size = c->size, .interval_us = c->interval_us,
                                   .ttl = (uint8_t)c->max_ttl, .linger_us = 5000000};
        a->ping = ping_start(n->stack, sim->loop, &o, a->out, on_app_done, a);
        err = a->ping ? 0 : TERN_E_INVAL;
        break;
    }
    case SCN_ACT_TRACEROUTE: {
        fprintf(a->out, "$ traceroute -n%s %s\n", c->icmp ? " -I" : "", c->target);
        struct tern_traceroute_opts o = {.dst = dst, .dst_name = c->target, .icmp = c->icmp,
                                         .first_ttl = 1, .max_ttl = (uint8_t)(c->max_ttl ? c->max_ttl : 30),
                                         .nqueries = c->nqueries ? c->nqueries : 3,
                                         .port = c->icmp ? 1 : 33434, .packetlen = 60,
                                         .wait_us = 5000000};
        a->tr = traceroute_start(n->stack, sim->loop, &o, a->out, on_app_done, a);
        err = a->tr ? 0 : TERN_E_INVAL;
        break;
    }
    case SCN_ACT_GET:
        fprintf(a->out, "$ get %s\n", c->target);
        err = start_get(a, n);
        break;
    case SCN_ACT_NC:
        fprintf(a->out, "$ nc %s %u < %llu bytes\n", c->target, c->port,
                (unsigned long long)c->bytes);
        a->peer = dst;
        err = start_nc(a, n, dst);
        break;
    case SCN_ACT_STREAM: {
        int to = sim_addr_node(sim, dst);
        /* To a router's NAT address with a port forward for this UDP port:
         * the receiver is the inside host it forwards to (docs/nat.md). */
        for (unsigned k = 0; to >= 0 && k < sim->sc->nodes[to].nfwds; k++) {
            const struct scn_fwd *f = &sim->sc->nodes[to].fwds[k];
            if (f->proto == 17 && f->ext == c->port && f->port == c->port) {
                to = sim_addr_node(sim, f->addr);
                break;
            }
        }
        fprintf(a->out, "$ stream %s:%u, %u-byte datagrams at %llu bit/s for %.3f s%s%s\n",
                tern_ipv4_ntoa(dst, d), c->port, c->size, (unsigned long long)c->rate_bps,
                (double)c->duration_us / 1e6, c->members[0] ? " to members " : "", c->members);
        int members[SIM_STREAM_MAX_RX];
        unsigned nm = 0;
        if ((dst >> 28) == 0xe) {
            /* A group (docs/multicast.md): its members, on the sender's
             * segment (no multicast routing). */
            char list[SCN_TEXT_MAX];
            snprintf(list, sizeof list, "%s", c->members);
            for (char *save = NULL, *w = strtok_r(list, ",", &save); w;
                 w = strtok_r(NULL, ",", &save)) {
                int m = scenario_node(sim->sc, w);
                if (m < 0 || nm == SIM_STREAM_MAX_RX) {
                    fprintf(a->out, m < 0 ? "stream: member %s is no node of the scenario\n"
                                          : "stream: more than 16 members (%s)\n", w);
                    return finish(a, 2);
                }
                members[nm++] = m;
            }
            if (!nm) {
                fprintf(a->out, "stream: %s is a group: give its receivers (members NODE,...)\n",
                        d);
                return finish(a, 2);
            }
        } else if (to < 0) {
            fprintf(a->out, "stream: %s is no node of the scenario\n", d);
            return finish(a, 2);
        } else if (c->members[0]) {
            fprintf(a->out, "stream: members are for a multicast group, not %s\n", d);
            return finish(a, 2);
        } else {
            members[nm++] = to;
        }
        a->stream = sim_stream_start(sim, c->node, members, nm, dst, c->port, c->rate_bps,
                                     c->size, c->duration_us, on_stream_done, a, &err);
        break;
    }
    case SCN_ACT_RESOLVE: {
        fprintf(a->out, "$ host %s\n", c->target);
        struct tern_resolve_opts o = {.servers = {n->dns}, .nservers = 1};
        if (!n->dns) {
            fprintf(a->out, "resolve: %s has no DNS server (give 'dns ADDR' or use DHCP)\n",
                    n->cfg->name);
            return finish(a, 1);
        }
        a->res = resolve_start(n->stack, sim->loop, c->target, &o, on_resolved, a, &err);
        break;
    }
    case SCN_ACT_DHCP:
        fprintf(a->out, "$ dhcp%s\n", c->noprobe ? " (no ARP probe)" : "");
        err = start_dhcp(a, n);
        break;
    case SCN_ACT_PERF: {
        fprintf(a->out, "$ iperf3 -c %s -p %u -t %g%s%s", c->target, c->port,
                (double)c->duration_us / 1e6, c->reverse ? " -R" : "", c->udp ? " -u" : "");
        if (c->rate_bps)
            fprintf(a->out, " -b %llu", (unsigned long long)c->rate_bps);
        if (c->parallel > 1)
            fprintf(a->out, " -P %u", c->parallel);
        if (c->size)
            fprintf(a->out, " -l %u", c->size);
        fputc('\n', a->out);
        struct tern_perf_opts o = {.addr = dst, .port = c->port, .duration_us = c->duration_us,
                                   .reverse = c->reverse, .udp = c->udp,
                                   .bandwidth_bps = c->rate_bps, .parallel = c->parallel,
                                   .len = c->size};
        struct tern_perf_io io = {.out = a->out, .err = a->out, .done = on_app_done, .ctx = a};
        a->perf = perf_start(n->stack, sim->loop, &o, &io, &err);
        break;
    }
    case SCN_ACT_POP3:
        fprintf(a->out, "$ telnet %s %u   (then USER %s, PASS, RETR 1, QUIT)\n", c->target,
                c->port, c->user);
        a->pop3 = sim_pop3_start(sim, a, n->stack, dst, c->port, &err);
        break;
    default:
        break;
    }
    if (err < 0) {
        fprintf(a->out, "%s: %s\n", verb(c->kind), tern_strerror(err));
        finish(a, 2);
    }
}

void sim_act_free(struct sim_act *a)
{
    ping_free(a->ping);
    if (a->tr)
        traceroute_free(a->tr);
    if (a->get)
        http_get_free(a->get);
    if (a->nc) {
        tern_timer_cancel(a->sim->loop, &a->feed);
        nc_free(a->nc);
    }
    if (a->res)
        resolve_free(a->res);
    if (a->stream)
        sim_stream_free(a->stream);
    sim_pop3_free(a->pop3);
    a->pop3 = NULL;
    perf_free(a->perf);
    a->perf = NULL;
    if (a->body)
        fclose(a->body);
    if (a->out)
        fclose(a->out);
    a->out = NULL;
    a->ping = NULL;
    a->tr = NULL;
    a->get = NULL;
    a->nc = NULL;
    a->res = NULL;
    a->stream = NULL;
    a->body = NULL;
}
