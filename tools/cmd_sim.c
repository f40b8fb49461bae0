/*
 * tools/cmd_sim.c - `tern sim FILE`: runs a scenario file (docs/scenarios.md)
 * in virtual time and prints what happened (src/sim/sim.h does the work).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/scenario.h"
#include "sim/sim.h"
#include "stackopts.h"
#include "tools.h"

static const char sim_help[] =
    "usage: tern sim FILE [--seed N] [--until T] [--pcap DIR] [--trace[=NODE|LINK]]\n"
    "                [--plot DIR] [--quiet]\n"
    "Runs the network a scenario file describes (hosts, routers, links and a timeline;\n"
    "see docs/scenarios.md) in virtual time, deterministically from a seed, and prints\n"
    "what happened: each app's output attributed to its node, the frames a timeline\n"
    "`trace` picks, netstat snapshots, and a summary (TCP flows and their fairness,\n"
    "UDP streams with RFC 3550 jitter, drops per router and reason, link queues,\n"
    "SHA-256 of downloads on both ends, what a sniffer finds in the captures).\n"
    "  --seed N        seed of every random choice (default: the file's, else 1)\n"
    "  --until T       stop at virtual time T (e.g. 30s; default: the file's `until`,\n"
    "                  else when the timeline is done)\n"
    "  --pcap DIR      write DIR/LINK.pcap for every link (captured at its first end)\n"
    "  --trace[=X]     print every frame as tcpdump -n prints it: of every link, or of\n"
    "                  link X, node X or interface NODE.IFACE; lines start '[NODE.IFACE] '\n"
    "  --plot DIR      write SVG plots (docs/plots.md): per TCP flow the time-sequence\n"
    "                  graph and cwnd/RTT, every flow's throughput, each link's queue\n"
    "  --quiet         print the summary only\n"
    "Exit status: 0 every action of the timeline succeeded; 1 an action failed, did not\n"
    "finish or did not start (the summary lists each with its line), or the system\n"
    "refused (memory, an output file); 2 usage, or a mistake in the scenario (its line).\n";

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "tern sim: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int cmd_sim(int argc, char **argv)
{
    static const struct option opts[] = {{"seed", required_argument, NULL, 's'},
                                         {"until", required_argument, NULL, 'u'},
                                         {"pcap", required_argument, NULL, 'p'},
                                         {"trace", optional_argument, NULL, 't'},
                                         {"plot", required_argument, NULL, 'P'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct sim_opts so = {.out = stdout, .tls = sim_tls_hooks()};
    unsigned long seed;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (parse_ulong(optarg, 0, ULONG_MAX, &seed) < 0) {
                fprintf(stderr, "tern sim: bad value '%s' for --seed\n", optarg);
                return 2;
            }
            so.seed = seed;
            so.have_seed = true;
            break;
        case 'u':
            if (scn_parse_time(optarg, &so.until_us) < 0 || !so.until_us) {
                fprintf(stderr, "tern sim: bad value '%s' for --until (e.g. 30s, 500ms)\n",
                        optarg);
                return 2;
            }
            break;
        case 'p':
            so.pcap_dir = optarg;
            break;
        case 't':
            so.trace = optarg ? optarg : "";
            break;
        case 'P':
            so.plot_dir = optarg;
            break;
        case 'q':
            so.quiet = true;
            break;
        case 'h':
            fputs(sim_help, stdout);
            return 0;
        default:
            return tool_opt_error("sim", opt, argv);
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "tern sim: expected exactly one scenario FILE (try 'tern sim --help')\n");
        return 2;
    }
    struct scenario *sc = malloc(sizeof *sc);
    char err[512];
    if (!sc) {
        fprintf(stderr, "tern sim: out of memory\n");
        return 1;
    }
    if (scenario_load(sc, argv[optind], err, sizeof err) < 0) {
        fprintf(stderr, "tern sim: %s\n", err);
        free(sc);
        return 2;
    }
    int n, f;
    if (so.trace && *so.trace && strcmp(so.trace, "all") && scenario_link(sc, so.trace) < 0 &&
        scenario_node(sc, so.trace) < 0 && scenario_endpoint(sc, so.trace, &n, &f) < 0) {
        fprintf(stderr, "tern sim: --trace: '%s' is no link, node or NODE.IFACE of %s\n",
                so.trace, argv[optind]);
        free(sc);
        return 2;
    }
    if ((so.pcap_dir && make_dir(so.pcap_dir) < 0) || (so.plot_dir && make_dir(so.plot_dir) < 0)) {
        free(sc);
        return 1;
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    int rc = sim_run(sc, &so, err, sizeof err);
    fflush(stdout);
    if (rc < 0)
        fprintf(stderr, "tern sim: %s\n", err);
    else if (rc > 0)
        fprintf(stderr, "tern sim: %d action%s failed or did not finish (listed in the summary)\n",
                rc, rc == 1 ? "" : "s");
    free(sc);
    return rc == -2 ? 2 : rc != 0 ? 1 : 0;
}
