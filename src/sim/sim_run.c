/*
 * src/sim/sim_run.c - runs a scenario: builds the network (sim_build.c),
 * arms one timer per timeline action, runs the virtual loop until the
 * scenario's `until` (or until every action is done, plus a drain for the
 * closes), then prints the summary (sim_summary.c) and tears everything
 * down. App output reaches the caller's FILE as lines
 *     [   2.014] laptop: 64 bytes from 10.0.2.80: icmp_seq=1 ttl=61 time=61.2 ms
 * through one line-assembling FILE per node (fopencookie, unbuffered), so
 * lines of different nodes never interleave and appear in virtual-time order.
 */
#include <stdlib.h>
#include <string.h>

#include "app/servdb.h"
#include "sim/sim_impl.h"
#include "tern/wire/ipv4.h"

#define SLICE_US 100000       /* the runner checks for the end every 100 ms */
#define DRAIN_US 3000000      /* after the last action: closes, TIME_WAIT ACKs */

struct line_file {
    struct sim *sim;
    char label[SCN_NAME_MAX + 8];
    char buf[4096];
    size_t len;
};

static void emit(struct line_file *lf)
{
    struct sim *sim = lf->sim;
    if (!sim->opts->quiet)
        fprintf(sim->out, "[%8.3f] %s: %.*s\n", (double)tern_loop_now(sim->loop) / 1e6,
                lf->label, (int)lf->len, lf->buf);
    lf->len = 0;
}

static ssize_t lf_write(void *c, const char *buf, size_t len)
{
    struct line_file *lf = c;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || lf->len == sizeof lf->buf) {
            emit(lf);
            if (buf[i] == '\n')
                continue;
        }
        if (buf[i] != '\r')
            lf->buf[lf->len++] = buf[i];
    }
    return (ssize_t)len;
}

static int lf_close(void *c)
{
    struct line_file *lf = c;
    if (lf->len)
        emit(lf);
    free(lf);
    return 0;
}

FILE *sim_line_file(struct sim *sim, const char *label)
{
    struct line_file *lf = calloc(1, sizeof *lf);
    if (!lf)
        return NULL;
    lf->sim = sim;
    snprintf(lf->label, sizeof lf->label, "%s", label);
    cookie_io_functions_t io = {.write = lf_write, .close = lf_close};
    FILE *f = fopencookie(lf, "w", io);
    if (!f) {
        free(lf);
        return NULL;
    }
    setvbuf(f, NULL, _IONBF, 0);
    return f;
}

uint32_t sim_node_addr(struct sim *sim, int node)
{
    if (node < 0 || (unsigned)node >= sim->nnodes)
        return 0;
    struct sim_node *n = &sim->nodes[node];
    for (unsigned i = 0; i < n->cfg->nifaces; i++) {
        struct tern_iface_config ic;
        if (n->stack && tern_iface_get(n->stack, n->ifaces[i].ifindex, &ic) == 0 && ic.addr)
            return ic.addr;
    }
    return 0;
}

uint32_t sim_target_addr(struct sim *sim, const char *target)
{
    uint32_t a;
    if (tern_ipv4_aton(target, &a) == 0)
        return a;
    return sim_node_addr(sim, scenario_node(sim->sc, target));
}

int sim_addr_node(struct sim *sim, uint32_t addr)
{
    if (!addr)
        return -1;
    for (unsigned n = 0; n < sim->nnodes; n++) {
        struct sim_node *sn = &sim->nodes[n];
        for (unsigned i = 0; i < sn->cfg->nifaces; i++) {
            const struct scn_iface *f = &sn->cfg->ifaces[i];
            if (!f->dhcp) {
                if (f->addr == addr)
                    return (int)n;
                continue;
            }
            struct tern_iface_config ic;
            if (sn->stack && tern_iface_get(sn->stack, sn->ifaces[i].ifindex, &ic) == 0 &&
                ic.addr == addr)
                return (int)n;
        }
    }
    return -1;
}

static void on_action(struct tern_timer *t, void *arg)
{
    (void)t;
    sim_act_start(arg);
}

/* The trace target of --trace: every link's first end, one link's, a
 * node's interfaces, or one interface. */
int sim_trace_select(struct sim *sim, const char *what)
{
    const struct scenario *sc = sim->sc;
    int l = scenario_link(sc, what), n = scenario_node(sc, what), f;
    if (!*what || !strcmp(what, "all")) {
        for (unsigned i = 0; i < sc->nlinks; i++)
            sim->nodes[sc->links[i].node[0]].ifaces[sc->links[i].iface[0]].tap->print_all = true;
    } else if (l >= 0) {
        sim->nodes[sc->links[l].node[0]].ifaces[sc->links[l].iface[0]].tap->print_all = true;
    } else if (n >= 0) {
        for (unsigned i = 0; i < sc->nodes[n].nifaces; i++)
            sim->nodes[n].ifaces[i].tap->print_all = true;
    } else if (scenario_endpoint(sc, what, &n, &f) == 0) {
        sim->nodes[n].ifaces[f].tap->print_all = true;
    } else {
        snprintf(sim->err, sim->errcap, "--trace: '%s' is no link, node or NODE.IFACE of %s",
                 what, sc->fname);
        return -1;
    }
    return 0;
}

static void add_acts(struct sim *sim)
{
    const struct scenario *sc = sim->sc;
    for (unsigned i = 0; i < sc->nactions; i++)
        sim->acts[sim->nacts++].cfg = &sc->actions[i];
}

int sim_run(const struct scenario *sc, const struct sim_opts *o, char *err, size_t errcap)
{
    struct sim *sim = calloc(1, sizeof *sim);
    struct scn_action *implicit = calloc(SCN_MAX_NODES, sizeof *implicit);
    if (!sim || !implicit) {
        free(sim);
        free(implicit);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    sim->sc = sc;
    sim->opts = o;
    sim->out = o->out;
    sim->err = err;
    sim->errcap = errcap;
    sim->seed = o->have_seed ? o->seed : sc->seed;
    sim->loop = tern_loop_virtual_new(0);
    sim->servdb = servdb_builtin();
    sim_flow_init(sim);
    int rc = -1;
    if (!sim->loop || !sim->servdb) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    unsigned hosts = 0, routers = 0;
    for (unsigned n = 0; n < sc->nnodes; n++)
        sc->nodes[n].router ? routers++ : hosts++;
    fprintf(sim->out, "tern sim %s (seed %llu): %u host%s, %u router%s, %u link%s\n", sc->fname,
            (unsigned long long)sim->seed, hosts, hosts == 1 ? "" : "s", routers,
            routers == 1 ? "" : "s", sc->nlinks, sc->nlinks == 1 ? "" : "s");
    if (sc->title[0])
        fprintf(sim->out, "%s\n", sc->title);
    if (sim_build(sim) < 0)
        goto out;
    add_acts(sim);
    /* Hosts with a DHCP interface and no `dhcp` action start their client at 0. */
    for (unsigned n = 0; n < sc->nnodes; n++) {
        const struct scn_node *c = &sc->nodes[n];
        bool dhcp = false, act = false;
        for (unsigned i = 0; i < c->nifaces; i++)
            dhcp |= c->ifaces[i].dhcp;
        for (unsigned i = 0; i < sc->nactions; i++)
            act |= sc->actions[i].kind == SCN_ACT_DHCP && sc->actions[i].node == (int)n;
        if (dhcp && !act && sim->nacts < SCN_MAX_ACTIONS) {
            implicit[n].kind = SCN_ACT_DHCP;
            implicit[n].node = (int)n;
            implicit[n].line = c->line;
            sim->acts[sim->nacts++].cfg = &implicit[n];
        }
    }
    uint64_t last_at = 0;
    for (unsigned i = 0; i < sim->nacts; i++) {
        struct sim_act *a = &sim->acts[i];
        a->sim = sim;
        tern_timer_init(&a->timer, on_action, a);
        tern_timer_arm(sim->loop, &a->timer, a->cfg->at_us);
        if (a->cfg->at_us > last_at)
            last_at = a->cfg->at_us;
    }
    fflush(sim->out);
    uint64_t until = o->until_us ? o->until_us : sc->until_us;
    uint64_t end = until ? until : SCN_MAX_TIME_US;
    while (tern_loop_now(sim->loop) < end) {
        uint64_t next = tern_loop_now(sim->loop) + SLICE_US;
        tern_loop_run(sim->loop, next < end ? next : end);
        if (until)
            continue;
        bool all = tern_loop_now(sim->loop) >= last_at;
        for (unsigned i = 0; i < sim->nacts && all; i++)
            all = sim->acts[i].done;
        if (all && end == SCN_MAX_TIME_US)
            end = tern_loop_now(sim->loop) + DRAIN_US;
    }
    sim_summary(sim);
    rc = (int)sim->failed;
out:
    if (rc < 0 && sim->scn_error)
        rc = -2;
    if (sim->loop) {
        sim_teardown(sim);
        tern_timer_cancel(sim->loop, &sim->sampler);
        for (unsigned i = 0; i < sim->nacts; i++)
            tern_timer_cancel(sim->loop, &sim->acts[i].timer);
    }
    servdb_free(sim->servdb);
    tern_loop_destroy(sim->loop);
    fflush(o->out);
    free(sim);
    free(implicit);
    return rc;
}
