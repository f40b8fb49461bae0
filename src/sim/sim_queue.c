/*
 * src/sim/sim_queue.c - the link queues as an instrument: for each link
 * direction with a rate, the occupancy of its drop-tail queue (bytes
 * waiting for the serializer) and the queueing delay of each frame (the
 * time it waits before its first bit goes out), over time.
 *
 * The impairment wrapper (src/dev/impair.c) does not show its backlog, so
 * the tap in front of it keeps the same fluid model: the serializer is
 * busy until `done`; a frame accepted at `now` starts at max(now, done)
 * and takes len*8/rate (remainders carried, as the wrapper does). Whether
 * the wrapper accepted a frame (and how many copies: duplication) comes
 * from its counters read around the send, so the model follows every
 * loss, scripted drop and overflow exactly.
 * Points are kept as the TCP plots keep theirs: at most SIM_Q_POINTS per
 * series, halved and thinned evenly when full.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/lineplot.h"
#include "sim/sim_impl.h"

#define SIM_Q_POINTS 4096

struct series {
    double t[SIM_Q_POINTS], v[SIM_Q_POINTS];
    size_t n;
    uint64_t seen;
    unsigned shift;
};

struct sim_queue {
    uint64_t rate_bps, limit;
    uint64_t done, frac;         /* the serializer is busy until done (+ frac / rate us) */
    uint64_t frames, drops, peak_bytes, peak_wait_us, sum_wait_us;
    struct series occ, wait;
};

static void add(struct series *s, double t, double v)
{
    uint64_t i = s->seen++;
    if (i & ((UINT64_C(1) << s->shift) - 1))
        return;
    if (s->n == SIM_Q_POINTS) {
        size_t m = 0;
        for (size_t j = 0; j < s->n; j += 2, m++) {
            s->t[m] = s->t[j];
            s->v[m] = s->v[j];
        }
        s->n = m;
        s->shift++;
        if (i & ((UINT64_C(1) << s->shift) - 1))
            return;
    }
    s->t[s->n] = t;
    s->v[s->n] = v;
    s->n++;
}

static uint64_t backlog(const struct sim_queue *q, uint64_t now)
{
    return q->done > now ? (q->done - now) * q->rate_bps / 8000000u : 0;
}

void sim_queue_sent(struct sim_tap *t, size_t len, const struct tern_impair_stats *before,
                    const struct tern_impair_stats *after)
{
    const struct scn_dir *d = &t->sim->sc->links[t->link].dir[t->end];
    if (!d->rate_bps)
        return;
    struct sim_queue *q = t->queue;
    if (!q) {
        q = t->queue = calloc(1, sizeof *q);
        if (!q)
            return;
        q->rate_bps = d->rate_bps;
    }
    uint64_t now = tern_loop_now(t->sim->loop);
    uint64_t dropped = after->queue_drops - before->queue_drops;
    uint64_t gone = after->lost - before->lost + after->scripted - before->scripted + dropped;
    uint64_t copies = 1 + (after->duplicated - before->duplicated);
    copies = copies > gone ? copies - gone : 0;
    q->drops += dropped;
    for (uint64_t c = 0; c < copies; c++) {
        double ts = (double)now / 1e6;
        if (q->done < now) {
            if (q->occ.n && q->done > 0)
                add(&q->occ, (double)q->done / 1e6, 0); /* it emptied then */
            q->done = now;
            q->frac = 0;
        }
        uint64_t wait = q->done - now;
        add(&q->occ, ts, (double)backlog(q, now));
        uint64_t num = (uint64_t)len * 8000000u + q->frac;
        q->done += num / q->rate_bps;
        q->frac = num % q->rate_bps;
        uint64_t b = backlog(q, now);
        add(&q->occ, ts, (double)b);
        add(&q->wait, ts, (double)wait / 1000);
        q->frames++;
        q->sum_wait_us += wait;
        if (b > q->peak_bytes)
            q->peak_bytes = b;
        if (wait > q->peak_wait_us)
            q->peak_wait_us = wait;
    }
}

void sim_queue_free(struct sim_tap *t)
{
    free(t->queue);
    t->queue = NULL;
}

static const char *end_name(struct sim *sim, const struct scn_link *l, int e)
{
    return sim->sc->nodes[l->node[e]].name;
}

void sim_queue_summary(struct sim *sim, FILE *out)
{
    bool any = false;
    for (unsigned l = 0; l < sim->nlinks; l++) {
        const struct scn_link *c = sim->links[l].cfg;
        for (int e = 0; e < 2; e++) {
            const struct sim_queue *q = sim->nodes[c->node[e]].ifaces[c->iface[e]].tap->queue;
            if (!q || !q->frames)
                continue;
            if (!any)
                fprintf(out, "Queues (per link direction with a rate: frames queued, peak "
                             "occupancy, queueing delay mean and peak, overflows):\n");
            any = true;
            char dir[80];
            snprintf(dir, sizeof dir, "%s %s->%s", c->name, end_name(sim, c, e),
                     end_name(sim, c, !e));
            fprintf(out, "  %-28s %7llu frames  peak %7llu bytes  delay mean %.3f ms peak "
                         "%.3f ms  %llu dropped\n",
                    dir, (unsigned long long)q->frames, (unsigned long long)q->peak_bytes,
                    (double)q->sum_wait_us / (double)q->frames / 1000,
                    (double)q->peak_wait_us / 1000, (unsigned long long)q->drops);
        }
    }
}

/* One SVG per link where some frame had to wait: occupancy and delay,
 * both directions. Returns the number written. */
unsigned sim_queue_plots(struct sim *sim, FILE *out)
{
    unsigned written = 0;
    for (unsigned l = 0; l < sim->nlinks; l++) {
        const struct scn_link *c = sim->links[l].cfg;
        struct sim_plot_series occ[2], wait[2];
        char lab[2][120];
        size_t ns = 0;
        bool queued = false;
        for (int e = 0; e < 2; e++) {
            const struct sim_queue *q = sim->nodes[c->node[e]].ifaces[c->iface[e]].tap->queue;
            if (!q || !q->frames)
                continue;
            queued |= q->peak_wait_us > 0; /* some frame had to wait */
            snprintf(lab[ns], sizeof lab[ns], "%s -> %s (%.3g Mbit/s)", end_name(sim, c, e),
                     end_name(sim, c, !e), (double)q->rate_bps / 1e6);
            occ[ns] = (struct sim_plot_series){lab[ns], q->occ.t, q->occ.v, q->occ.n, "queue"};
            wait[ns] = (struct sim_plot_series){lab[ns], q->wait.t, q->wait.v, q->wait.n, "delay"};
            ns++;
        }
        if (!queued)
            continue;
        char path[700], title[200];
        snprintf(path, sizeof path, "%s/queue-%s.svg", sim->opts->plot_dir, c->name);
        snprintf(title, sizeof title, "link %s (%s - %s): queue occupancy and queueing delay",
                 c->name, end_name(sim, c, 0), end_name(sim, c, 1));
        struct sim_plot_panel pn[2] = {
            {.ylabel = "queue occupancy (bytes)", .unit = SIM_PLOT_BYTES, .s = occ, .ns = ns},
            {.ylabel = "queueing delay (ms)", .unit = SIM_PLOT_NUMBER, .s = wait, .ns = ns}};
        FILE *fp = fopen(path, "w");
        if (!fp) {
            fprintf(out, "  cannot write %s: %s\n", path, strerror(errno));
            continue;
        }
        int r = sim_plot_write(fp, title,
                               "bytes waiting for the serializer, and each frame's wait before "
                               "its first bit goes out", pn, 2);
        if (fclose(fp) != 0 || r < 0) {
            fprintf(out, "  write error on %s\n", path);
            continue;
        }
        fprintf(out, "  plot %s\n", path);
        written++;
    }
    return written;
}
