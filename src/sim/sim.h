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
#include "tern/loop.h"
#include "tern/stack.h"

/* A `tunnel` line: `tern forward` on a node (stunnel's modes). */
enum sim_tunnel_mode { SIM_TUN_PLAIN, SIM_TUN_CONNECT, SIM_TUN_ACCEPT };
struct sim_tunnel_cfg {
    uint16_t lport;           /* accepts on this port (any of the node's addresses) */
    uint32_t dst;             /* and connects to dst:dport */
    uint16_t dport;
    enum sim_tunnel_mode mode;
    const char *name;         /* TLS: the server's name (its certificate; what is checked) */
};

/* TLS for tunnels, supplied by libtern-tls (src/tls/sim_tls.c,
 * sim_tls_hooks()) so that libtern itself never links OpenSSL. start()
 * keeps its certificates in dir (the run's temporary directory) and
 * returns a handle for stop(), or NULL with one line in err. */
struct sim_tls {
    void *(*start)(const char *dir, struct tern_stack *s, struct tern_loop *loop,
                   const struct sim_tunnel_cfg *c, FILE *log, char *err, size_t errcap);
    void (*stop)(void *tunnel);
};
/* libtern-tls's table (link it, and -lssl -lcrypto, to use it). */
const struct sim_tls *sim_tls_hooks(void);

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
    const struct sim_tls *tls; /* NULL: a scenario with `tunnel` lines cannot run */
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
/* `tern demo forward`, byte for byte examples/scenarios/forward.scn. */
extern const char sim_forward_scenario[];

#endif
