/*
 * src/sim/sim.h - the simulator: builds the network a scenario describes
 * (one tern stack per node on one virtual loop, a memory link with an
 * impairment wrapper per direction for each link, a trace tap on every
 * interface), plays its timeline with the apps of src/app (the same code
 * and output as in real mode) and prints what happened and a summary.
 *
 * Deterministic: every random choice (stacks, impairments) derives from
 * the seed, and the run is in virtual time; same scenario + seed = same
 * output bytes. Not: the scenario parser (scenario.h), the command line
 * (tools/cmd_sim.c).
 */
#ifndef TERN_SIM_SIM_H
#define TERN_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/scenario.h"

struct sim_opts {
    uint64_t seed;            /* used when have_seed, else the scenario's (default 1) */
    bool have_seed;
    uint64_t until_us;        /* 0 = the scenario's `until`, else when the timeline is done */
    const char *pcap_dir;     /* one LINK.pcap per link (captured at the link's first end) */
    const char *plot_dir;     /* SVG plots per TCP flow */
    const char *trace;        /* print every frame: NULL = no, "" or "all" = every link,
                               * else a link, node or NODE.IFACE */
    bool quiet;               /* no app output or traces: the summary only */
    FILE *out;                /* everything printed goes here */
};

/* Runs a parsed scenario. Returns the number of timeline actions that
 * failed, did not finish or did not start (0: all went well; the summary
 * lists them), -2 with one line in err naming the scenario's line (the
 * network it describes cannot be built: a gateway off its subnets, a bad
 * zone, ...), or -1 with one line in err (the system refused: memory, an
 * output file). */
int sim_run(const struct scenario *sc, const struct sim_opts *o, char *err, size_t errcap);

/* The demo scenario (`tern demo`), byte for byte examples/scenarios/demo.scn. */
extern const char sim_demo_scenario[];

#endif
