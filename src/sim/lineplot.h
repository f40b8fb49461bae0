/*
 * src/sim/lineplot.h - a small SVG line plot of several series over time,
 * in one or more panels sharing the time axis (the simulator's throughput
 * and queue plots, docs/plots.md). Written by tcpplot_svg.c with the same
 * axes, escaping and style as the TCP plots. Private to src/sim.
 */
#ifndef TERN_SIM_LINEPLOT_H
#define TERN_SIM_LINEPLOT_H

#include <stddef.h>
#include <stdio.h>

enum sim_plot_unit { SIM_PLOT_NUMBER, SIM_PLOT_BYTES };

struct sim_plot_series {
    const char *label;        /* legend text (escaped) */
    const double *t, *v;      /* n points: time in seconds, value */
    size_t n;
    const char *cls;          /* CSS class of the path (a colour is picked by index too) */
};

struct sim_plot_panel {
    const char *ylabel;       /* e.g. "Mbit/s" */
    enum sim_plot_unit unit;
    const struct sim_plot_series *s;
    size_t ns;
};

/* Writes a standalone SVG document; 0 or a negative enum tern_err. */
int sim_plot_write(FILE *out, const char *title, const char *subtitle,
                   const struct sim_plot_panel *panels, size_t npanels);

#endif
