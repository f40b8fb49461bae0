/*
 * src/sim/sim_build.c - builds the network of a scenario: one stack per
 * node (seeded from the scenario seed, forwarding on for routers), for
 * each link a memory link pair whose two ends each get an impairment
 * wrapper (that direction's rate, delay, loss, queue, ...) and a trace tap,
 * then routes, and the servers each node runs (classic services, HTTP on a
 * generated page or a directory, a DNS zone, a DHCP server).
 * Generated pages live in a temporary directory removed at teardown.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/dhcp_client.h"
#include "app/dhcp_server.h"
#include "app/dns_server.h"
#include "app/http_server.h"
#include "app/perf.h"
#include "app/pop3.h"
#include "app/services.h"
#include "sim/sim_impl.h"
#include "tern/nat.h"
#include "tern/err.h"
#include "tern/wire/ipv4.h"

/* 2026-01-01 00:00:00 UTC: what the daytime/time services say at virtual 0. */
#define SIM_EPOCH_US (1767225600ll * 1000000)

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull; /* splitmix64 */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static int fail(struct sim *sim, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The system said no (memory, a file to write): not the scenario's fault. */
#define sys_fail(sim, ...) (fail(sim, __VA_ARGS__), (sim)->scn_error = false, -1)

static ssize_t discard_write(void *c, const char *buf, size_t len)
{
    (void)c;
    (void)buf;
    return (ssize_t)len;
}

/* A mistake in the scenario, named by its line (`tern sim` exits 2). */
static int fail(struct sim *sim, int line, const char *fmt, ...)
{
    sim->scn_error = true;
    int n = snprintf(sim->err, sim->errcap, "%s:%d: ", sim->sc->fname, line);
    if (n >= 0 && (size_t)n < sim->errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sim->err + n, sim->errcap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void dir_impair(const struct scn_dir *d, uint16_t mtu, uint64_t seed, struct tern_impair *im)
{
    memset(im, 0, sizeof *im);
    im->loss = d->loss;
    im->dup = d->dup;
    im->reorder = d->reorder;
    im->corrupt = d->corrupt;
    im->delay_us = d->delay_us;
    im->jitter_us = d->jitter_us;
    im->reorder_delay_us = d->reorder_gap_us ? d->reorder_gap_us : 10000;
    im->rate_bps = d->rate_bps;
    im->queue_frames = 100000;
    /* "queue N" counts full-size frames waiting for the serializer. */
    im->queue_bytes = d->queue_bytes ? d->queue_bytes
                                     : (size_t)d->queue_pkts * (size_t)(mtu + 14u);
    memcpy(im->drop_at, d->drop_at, sizeof im->drop_at);
    im->seed = seed;
}

/* A segment's hub: a repeater, every frame that comes in on one port goes
 * out of every other (the memory links queue it: never re-entrant). The
 * ends filter by MAC as Ethernet NICs do (unicast to others, multicast
 * for groups not joined). */
static void hub_rx(void *ctx, struct tern_device *dev, const uint8_t *frame, size_t len)
{
    struct sim_hub_port *hp = ctx;
    struct sim_link *sl = &hp->sim->links[hp->link];
    (void)dev;
    if (sl->down)
        return;
    for (unsigned k = 0; k < sl->cfg->nends; k++)
        if ((int)k != hp->port && sl->hub[k].dev)
            (void)tern_device_send(sl->hub[k].dev, frame, len);
}

static int build_links(struct sim *sim)
{
    const struct scenario *sc = sim->sc;
    for (unsigned i = 0; i < sc->nlinks; i++) {
        const struct scn_link *l = &sc->links[i];
        struct sim_link *sl = &sim->links[i];
        sl->cfg = l;
        sl->down = l->down;
        if (sim->opts->pcap_dir) {
            char path[1200];
            snprintf(path, sizeof path, "%s/%s.pcap", sim->opts->pcap_dir, l->name);
            sl->pcap = fopen(path, "wb");
            if (!sl->pcap)
                return sys_fail(sim, l->line, "cannot write %s: %s", path, strerror(errno));
        }
        struct tern_device *dev[2];
        if (l->nends > 2) {
            /* A segment: each end is cabled to a port of the hub. The first
             * end's tap sees every frame of the segment. */
            for (unsigned e = 0; e < l->nends; e++) {
                struct sim_hub_port *hp = &sl->hub[e];
                struct tern_device *end;
                if (tern_memlink_pair(sim->loop, TERN_LINK_ETHERNET, l->mtu, 1024, &end,
                                      &hp->dev) < 0)
                    return sys_fail(sim, l->line, "link %s: out of memory%s", l->name, "");
                hp->sim = sim;
                hp->link = (int)i;
                hp->port = (int)e;
                tern_device_set_rx(hp->dev, hub_rx, hp);
                struct tern_impair im;
                static const struct scn_dir clean;
                dir_impair(&clean, l->mtu, mix(sim->seed ^ mix(i * 2u + e + 1)), &im);
                struct tern_device *imp = tern_impair_wrap(sim->loop, end, &im);
                if (!imp) {
                    tern_device_destroy(end);
                    return sys_fail(sim, l->line, "link %s: out of memory%s", l->name, "");
                }
                struct sim_iface *si = &sim->nodes[l->node[e]].ifaces[l->iface[e]];
                si->impair = imp;
                /* end index 0 or 1: the tap's per-direction state (queue model,
                 * flows) has two sides; every end past the first is "1" */
                si->dev = sim_tap_wrap(sim, imp, l->node[e], l->iface[e], (int)i, e ? 1 : 0,
                                       e == 0 ? sl->pcap : NULL);
                if (!si->dev) {
                    tern_device_destroy(imp);
                    return sys_fail(sim, l->line, "link %s: out of memory%s", l->name, "");
                }
                si->tap = (struct sim_tap *)si->dev;
            }
            continue;
        }
        if (tern_memlink_pair(sim->loop, TERN_LINK_ETHERNET, l->mtu, 1024, &dev[0], &dev[1]) < 0)
            return sys_fail(sim, l->line, "link %s: out of memory%s", l->name, "");
        for (int e = 0; e < 2; e++) {
            struct tern_impair im;
            dir_impair(&l->dir[e], l->mtu, mix(sim->seed ^ mix(i * 2u + (unsigned)e + 1)), &im);
            struct tern_device *imp = tern_impair_wrap(sim->loop, dev[e], &im);
            if (!imp) {
                tern_device_destroy(dev[e]);
                if (!e)
                    tern_device_destroy(dev[1]);
                return fail(sim, l->line, "link %s: bad impairment%s", l->name, "");
            }
            struct sim_iface *si = &sim->nodes[l->node[e]].ifaces[l->iface[e]];
            si->impair = imp;
            si->dev = sim_tap_wrap(sim, imp, l->node[e], l->iface[e], (int)i, e,
                                   e == 0 ? sl->pcap : NULL);
            if (!si->dev) {
                tern_device_destroy(imp);
                if (!e)
                    tern_device_destroy(dev[1]);
                return sys_fail(sim, l->line, "link %s: out of memory%s", l->name, "");
            }
            si->tap = (struct sim_tap *)si->dev;
        }
    }
    return 0;
}

/* The interface of node n whose subnet holds addr, -1 if none. */
static int iface_for(struct sim *sim, int n, uint32_t addr)
{
    const struct scn_node *c = sim->nodes[n].cfg;
    for (unsigned i = 0; i < c->nifaces; i++) {
        const struct scn_iface *f = &c->ifaces[i];
        uint32_t mask = f->prefix ? ~0u << (32 - f->prefix) : 0;
        if (!f->dhcp && (f->addr & mask) == (addr & mask))
            return sim->nodes[n].ifaces[i].ifindex;
    }
    return -1;
}

static int build_routes(struct sim *sim, int n)
{
    const struct scn_node *c = sim->nodes[n].cfg;
    struct tern_stack *s = sim->nodes[n].stack;
    char a[16];
    if (c->gateway) {
        int ifi = iface_for(sim, n, c->gateway);
        if (ifi < 0 || tern_route_add(s, 0, 0, c->gateway, ifi) < 0)
            return fail(sim, c->gateway_line, "%s: gateway %s is on none of its subnets", c->name,
                        tern_ipv4_ntoa(c->gateway, a));
    }
    for (unsigned r = 0; r < c->nroutes; r++) {
        const struct scn_route *rt = &c->routes[r];
        for (unsigned v = 0; v < rt->nvia; v++) {
            int ifi = iface_for(sim, n, rt->via[v]);
            if (ifi < 0)
                return fail(sim, rt->line, "route via %s: not on any subnet of %s",
                            tern_ipv4_ntoa(rt->via[v], a), c->name);
            int rc = tern_route_add(s, rt->dst, rt->prefix, rt->via[v], ifi);
            if (rc < 0)
                return fail(sim, rt->line, "route: %s%s", tern_strerror(rc), "");
        }
    }
    return 0;
}

static int mkdirs(const char *path)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return 0;
}

/* A deterministic page of exactly `bytes` bytes: an HTML head, then the
 * chargen pattern (RFC 864), then the closing tags when they fit. */
static int ensure_tmpdir(struct sim *sim, int line)
{
    if (!sim->tmpdir[0]) {
        snprintf(sim->tmpdir, sizeof sim->tmpdir, "/tmp/tern-sim-XXXXXX");
        if (!mkdtemp(sim->tmpdir)) {
            sim->tmpdir[0] = 0;
            return sys_fail(sim, line, "cannot create a temporary directory: %s%s",
                            strerror(errno), "");
        }
    }
    return 0;
}

static int gen_page(struct sim *sim, struct sim_node *sn)
{
    const struct scn_node *c = sn->cfg;
    if (ensure_tmpdir(sim, c->http_line) < 0)
        return -1;
    snprintf(sn->http_root, sizeof sn->http_root, "%s/%s", sim->tmpdir, c->name);
    snprintf(sn->page_file, sizeof sn->page_file, "%s%s", sn->http_root, c->http_page);
    sn->http_generated = true;
    if (mkdir(sn->http_root, 0755) < 0 || mkdirs(sn->page_file) < 0)
        return sys_fail(sim, c->http_line, "cannot create %s: %s", sn->http_root, strerror(errno));
    FILE *f = fopen(sn->page_file, "wb");
    if (!f)
        return sys_fail(sim, c->http_line, "cannot write %s: %s", sn->page_file, strerror(errno));
    char head[256], tail[] = "\n</pre></body></html>\n";
    int hl = snprintf(head, sizeof head,
                      "<!DOCTYPE html>\n<html><head><title>%s</title></head><body><pre>\n",
                      c->http_page);
    uint64_t left = c->http_page_bytes, off = 0;
    uint64_t body = left > (uint64_t)hl + sizeof tail - 1 ? left - (uint64_t)hl - (sizeof tail - 1) : 0;
    if (body)
        fwrite(head, 1, (size_t)hl, f);
    uint8_t buf[8192];
    uint64_t n = body ? body : left;
    while (n) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        classic_chargen((uint32_t)(off % TERN_SVC_CHARGEN_PERIOD), buf, k);
        fwrite(buf, 1, k, f);
        off += k;
        n -= k;
    }
    if (body)
        fwrite(tail, 1, sizeof tail - 1, f);
    if (fclose(f) != 0)
        return sys_fail(sim, c->http_line, "cannot write %s: %s", sn->page_file, strerror(errno));
    return 0;
}

static int build_zone(struct sim *sim, struct sim_node *sn)
{
    const struct scn_node *c = sn->cfg;
    char err[300];
    if (c->zone_file[0]) {
        char path[1200];
        if (c->zone_file[0] == '/' || !sim->sc->dir[0])
            snprintf(path, sizeof path, "%s", c->zone_file);
        else
            snprintf(path, sizeof path, "%s/%s", sim->sc->dir, c->zone_file);
        sn->zone = dns_zone_load(path, err, sizeof err);
        if (!sn->zone)
            return fail(sim, c->zone_line, "dns-zone: %s%s", err, "");
    } else {
        /* The records become master-file lines 4.. after a generated SOA/NS. */
        size_t cap = 512 + (size_t)c->nrecords * 2 * (SCN_TEXT_MAX + 16);
        char *t = malloc(cap);
        if (!t)
            return sys_fail(sim, c->zone_line, "out of memory%s%s", "", "");
        const char *dot = c->zone[strlen(c->zone) - 1] == '.' ? "" : ".";
        size_t off = (size_t)snprintf(t, cap,
                                      "$ORIGIN %s%s\n$TTL 300\n@ IN SOA ns hostmaster 1 3600 600 "
                                      "86400 60\n",
                                      c->zone, dot);
        for (unsigned i = 0; i < c->nrecords; i++)
            off += (size_t)snprintf(t + off, cap - off, "%s IN %s %s\n", c->records[i].owner,
                                    c->records[i].type, c->records[i].data);
        sn->zone = dns_zone_parse(t, off, "zone", err, sizeof err);
        free(t);
        if (!sn->zone) {
            /* "zone:LINE: what" -> the scenario line of that record */
            int zl = atoi(err + 5);
            const char *what = strchr(err + 5, ':');
            int line = zl >= 4 && (unsigned)(zl - 4) < c->nrecords ? c->records[zl - 4].line
                                                                   : c->zone_line;
            return fail(sim, line, "dns record: %s%s", what ? what + 2 : err, "");
        }
    }
    int e = 0;
    sn->dnsd = dns_server_start(sn->stack, sim->loop, sn->zone, 53, &e);
    if (!sn->dnsd)
        return fail(sim, c->zone_line, "dns server: %s%s", tern_strerror(e), "");
    return 0;
}

/* The POP3 server's maildrop: one message whose body is the scenario's
 * text, in an mbox (RFC 4155) in the run's temporary directory. */
static int build_pop3(struct sim *sim, struct sim_node *sn)
{
    const struct scn_node *c = sn->cfg;
    if (ensure_tmpdir(sim, c->pop3_line) < 0)
        return -1;
    snprintf(sn->mbox, sizeof sn->mbox, "%s/%s.mbox", sim->tmpdir, c->name);
    FILE *f = fopen(sn->mbox, "w");
    if (!f)
        return sys_fail(sim, c->pop3_line, "cannot write %s: %s", sn->mbox, strerror(errno));
    fprintf(f, "From postmaster@example.test Thu Jan  1 00:00:00 2026\n"
               "From: postmaster@example.test\nTo: %s@example.test\nSubject: for your eyes "
               "only\n\n%s\n",
            c->pop3_user, c->pop3_text);
    if (fclose(f) != 0)
        return sys_fail(sim, c->pop3_line, "cannot write %s: %s", sn->mbox, strerror(errno));
    struct tern_pop3_opts o = {.maildrop = sn->mbox, .user = c->pop3_user, .pass = c->pop3_pass,
                               .port = c->pop3_port, .log = sn->out};
    int e = 0;
    sn->pop3d = pop3_start(sn->stack, sim->loop, &o, &e);
    if (!sn->pop3d)
        return fail(sim, c->pop3_line, "pop3-server: %s%s", tern_strerror(e), "");
    return 0;
}

/* A `tunnel` line: the forwarder of libtern-tls, through sim_opts.tls. */
static int build_tunnel(struct sim *sim, struct sim_node *sn, unsigned k)
{
    const struct scn_tunnel *t = &sn->cfg->tunnels[k];
    if (!sim->opts->tls)
        return fail(sim, t->line, "tunnel: this program has no TLS forwarder (libtern-tls is "
                                  "not linked in)%s", "");
    if (ensure_tmpdir(sim, t->line) < 0)
        return -1;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/tls", sim->tmpdir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return sys_fail(sim, t->line, "cannot create %s: %s", dir, strerror(errno));
    sn->tunnels[k].log = sim_line_file(sim, sn->cfg->name);
    if (!sn->tunnels[k].log)
        return sys_fail(sim, t->line, "out of memory%s%s", "", "");
    struct sim_tunnel_cfg tc = {.lport = t->lport, .dst = t->dst, .dport = t->dport,
                                .mode = (enum sim_tunnel_mode)t->mode, .name = t->name};
    char err[256];
    sn->tunnels[k].h = sim->opts->tls->start(dir, sn->stack, sim->loop, &tc, sn->tunnels[k].log,
                                             err, sizeof err);
    if (!sn->tunnels[k].h)
        return fail(sim, t->line, "tunnel: %s%s", err, "");
    return 0;
}

static int build_servers(struct sim *sim, int n)
{
    struct sim_node *sn = &sim->nodes[n];
    const struct scn_node *c = sn->cfg;
    int e = 0;
    if (c->services) {
        struct tern_services_opts o = {.enable = c->services, .epoch_offset_us = SIM_EPOCH_US};
        enum tern_svc failed;
        sn->svc_udp = services_start(sn->stack, sim->loop, &o, &e, &failed);
        if (sn->svc_udp)
            sn->svc_tcp = services_tcp_start(sn->stack, sim->loop, &o, &e, &failed);
        if (!sn->svc_tcp)
            return fail(sim, c->line, "%s: cannot start its services: %s", c->name,
                        tern_strerror(e));
    }
    if (c->http_port) {
        if (c->http_page[0]) {
            if (gen_page(sim, sn) < 0)
                return -1;
        } else if (c->http_dir[0] == '/' || !sim->sc->dir[0]) {
            snprintf(sn->http_root, sizeof sn->http_root, "%s", c->http_dir);
        } else {
            snprintf(sn->http_root, sizeof sn->http_root, "%s/%s", sim->sc->dir, c->http_dir);
        }
        struct tern_http_server_opts o = {.root = sn->http_root, .port = c->http_port,
                                          .log = sn->out};
        sn->http = http_server_start(sn->stack, sim->loop, &o, &e);
        if (!sn->http)
            return fail(sim, c->http_line, "http: cannot serve %s: %s", sn->http_root,
                        tern_strerror(e));
    }
    if (c->perf_port) {
        /* an iperf3 server; the client's node prints the reports */
        static const cookie_io_functions_t discard = {.write = discard_write};
        sn->perfd_out = fopencookie(NULL, "w", discard);
        struct tern_perf_opts o = {.server = true, .port = c->perf_port};
        struct tern_perf_io io = {.out = sn->perfd_out, .err = sn->out};
        if (!sn->perfd_out || !(sn->perfd = perf_start(sn->stack, sim->loop, &o, &io, &e)))
            return fail(sim, c->line, "perf-server: %s", tern_strerror(sn->perfd_out ? e
                                                                         : TERN_E_NOMEM));
    }
    if (c->zone[0] && build_zone(sim, sn) < 0)
        return -1;
    if (c->pop3_port && build_pop3(sim, sn) < 0)
        return -1;
    for (unsigned k = 0; k < c->ntunnels; k++)
        if (build_tunnel(sim, sn, k) < 0)
            return -1;
    if (c->dhcpd.on) {
        struct tern_dhcp_server_opts o = {.ifindex = sn->ifaces[c->dhcpd.iface].ifindex,
                                          .first = c->dhcpd.first, .last = c->dhcpd.last,
                                          .lease_s = c->dhcpd.lease_s, .router = c->dhcpd.router};
        if (c->dhcpd.dns) {
            o.n_dns = 1;
            o.dns[0] = c->dhcpd.dns;
        }
        sn->dhcpd = dhcp_server_start(sn->stack, sim->loop, &o, &e);
        if (!sn->dhcpd)
            return fail(sim, c->dhcpd.line, "dhcp-server: %s%s", tern_strerror(e), "");
    }
    return 0;
}

/* A router's NAT, port forwards and firewall (docs/nat.md). */
static int build_nat(struct sim *sim, int n)
{
    struct sim_node *sn = &sim->nodes[n];
    const struct scn_node *c = sn->cfg;
    for (unsigned i = 0; i < c->nifaces; i++) {
        if (!(c->nat_ifs >> i & 1u))
            continue;
        int ifx = sn->ifaces[i].ifindex;
        int rc = tern_nat_enable(sn->stack, ifx, &c->nat);
        if (rc == 0 && c->nat_ext[i])
            rc = tern_nat_set_external(sn->stack, ifx, c->nat_ext[i]);
        if (rc < 0)
            return fail(sim, c->nat_line, "nat: %s%s", tern_strerror(rc),
                        c->nat_ext[i] ? " (is the address one of this router's?)" : "");
    }
    for (unsigned k = 0; k < c->nfwds; k++) {
        const struct scn_fwd *f = &c->fwds[k];
        int rc = tern_nat_forward_add(sn->stack, f->proto, f->ext, f->addr, f->port);
        if (rc < 0)
            return fail(sim, f->line, "forward: %s%s", tern_strerror(rc),
                        " (a port given twice, or too many?)");
    }
    for (unsigned k = 0; k < c->nfw; k++) {
        const struct scn_fwrule *w = &c->fw[k];
        int rc = tern_fw_rule_add(sn->stack, sn->ifaces[w->iface].ifindex,
                                  w->has_rule ? &w->r : NULL);
        if (rc < 0)
            return fail(sim, w->line, "firewall: %s%s", tern_strerror(rc), "");
    }
    return 0;
}

int sim_build(struct sim *sim)
{
    const struct scenario *sc = sim->sc;
    sim->nnodes = sc->nnodes;
    sim->nlinks = sc->nlinks;
    for (unsigned n = 0; n < sc->nnodes; n++) {
        struct sim_node *sn = &sim->nodes[n];
        sn->cfg = &sc->nodes[n];
        sn->dns = sn->cfg->dns;
        sn->out = sim_line_file(sim, sn->cfg->name);
        struct tern_config cfg;
        tern_config_defaults(&cfg);
        cfg.seed = mix(sim->seed ^ mix(0x5eed0000u + n));
        cfg.ip_forward = sn->cfg->router;
        cfg.ecmp = sn->cfg->ecmp_packet ? TERN_ECMP_PACKET : TERN_ECMP_FLOW;
        snprintf(cfg.tcp_cc, sizeof cfg.tcp_cc, "%s", sn->cfg->cc);
        sn->stack = tern_stack_new(&cfg, sim->loop);
        if (!sn->stack || !sn->out)
            return sys_fail(sim, sn->cfg->line, "%s: out of memory%s", sn->cfg->name, "");
    }
    if (build_links(sim) < 0)
        return -1;
    if (sim_sniff_init(sim) < 0)
        return sys_fail(sim, 1, "out of memory%s%s", "", "");
    if (sim->opts->trace && sim_trace_select(sim, sim->opts->trace) < 0)
        return -1;
    for (unsigned n = 0; n < sc->nnodes; n++) {
        struct sim_node *sn = &sim->nodes[n];
        for (unsigned i = 0; i < sn->cfg->nifaces; i++) {
            const struct scn_iface *f = &sn->cfg->ifaces[i];
            struct tern_iface_config ic = {.addr = f->dhcp ? 0 : f->addr,
                                           .prefix_len = f->dhcp ? 0 : f->prefix, .mtu = f->mtu,
                                           .mac = {0x02, 0, 0, 0, (uint8_t)(n + 1),
                                                   (uint8_t)(i + 1)},
                                           .up = true};
            int ifi = tern_stack_add_iface(sn->stack, sn->ifaces[i].dev, &ic);
            if (ifi < 0)
                return fail(sim, f->line, "iface %s: %s", f->name, tern_strerror(ifi));
            sn->ifaces[i].ifindex = ifi;
        }
    }
    for (unsigned n = 0; n < sc->nnodes; n++)
        if (build_routes(sim, (int)n) < 0 || build_servers(sim, (int)n) < 0 ||
            build_nat(sim, (int)n) < 0)
            return -1;
    return 0;
}

static void rm_tree(const char *root, const char *page)
{
    /* Only what gen_page made: the page, its directories, the root. */
    char p[1200];
    snprintf(p, sizeof p, "%s", page);
    unlink(p);
    size_t rl = strlen(root);
    for (char *s = strrchr(p, '/'); s && (size_t)(s - p) > rl; s = strrchr(p, '/')) {
        *s = 0;
        rmdir(p);
    }
    rmdir(root);
}

void sim_teardown(struct sim *sim)
{
    for (unsigned i = 0; i < sim->nacts; i++)
        sim_act_free(&sim->acts[i]);
    for (unsigned n = 0; n < sim->nnodes; n++) {
        struct sim_node *sn = &sim->nodes[n];
        if (sn->dhcpc)
            dhcp_client_free(sn->dhcpc);
        if (sn->dhcpd)
            dhcp_server_free(sn->dhcpd);
        services_free(sn->svc_udp);
        services_tcp_free(sn->svc_tcp);
        http_server_free(sn->http);
        perf_free(sn->perfd);
        if (sn->perfd_out)
            fclose(sn->perfd_out);
        if (sn->dnsd)
            dns_server_free(sn->dnsd);
        if (sn->zone)
            dns_zone_free(sn->zone);
        if (sn->http_generated)
            rm_tree(sn->http_root, sn->page_file);
        pop3_free(sn->pop3d);
        if (sn->mbox[0])
            unlink(sn->mbox);
        for (unsigned k = 0; k < SCN_MAX_TUNNELS; k++) {
            if (sn->tunnels[k].h)
                sim->opts->tls->stop(sn->tunnels[k].h);
            if (sn->tunnels[k].log)
                fclose(sn->tunnels[k].log);
        }
    }
    if (sim->tmpdir[0]) {
        /* what the TLS glue made: the run's CA and certificates */
        char dir[300];
        snprintf(dir, sizeof dir, "%s/tls", sim->tmpdir);
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char f[600];
            if (e->d_name[0] == '.')
                continue;
            snprintf(f, sizeof f, "%s/%s", dir, e->d_name);
            unlink(f);
        }
        if (d) {
            closedir(d);
            rmdir(dir);
        }
    }
    for (unsigned n = 0; n < sim->nnodes; n++)
        if (sim->nodes[n].stack)
            tern_stack_free(sim->nodes[n].stack);
    for (unsigned n = 0; n < sim->nnodes; n++) {
        struct sim_node *sn = &sim->nodes[n];
        for (unsigned i = 0; i < SCN_MAX_IFACES; i++)
            tern_device_destroy(sn->ifaces[i].dev);
        if (sn->out)
            fclose(sn->out);
    }
    for (unsigned l = 0; l < sim->nlinks; l++) {
        if (sim->links[l].pcap)
            fclose(sim->links[l].pcap);
        for (unsigned k = 0; k < SCN_LINK_ENDS; k++)
            tern_device_destroy(sim->links[l].hub[k].dev);
    }
    if (sim->tmpdir[0])
        rmdir(sim->tmpdir);
    sim_flow_free_all(sim);
    sim_sniff_free(sim);
}
