/*
 * tools/cmd_demo.c - `tern demo` (what `make demo` runs): the seed texts'
 * Internet in virtual time, from the built-in scenario src/sim/demo_scn.c
 * (the same text as examples/scenarios/demo.scn). A laptop gets its
 * address by DHCP from its home router, resolves www.example.test, fetches
 * a page across two routers joined by a fast path and a slow lossy one with
 * a small queue, pings and traceroutes the server, while a voice-like UDP
 * stream loses a few packets nobody resends. Prints the apps' output, the
 * tcpdump-format trace of the TCP connection's handshake, first data,
 * retransmissions and close, a netstat of the server mid-transfer, and the
 * summary; writes one pcap per link and SVG plots of the flow to DIR.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/scenario.h"
#include "sim/sim.h"
#include "stackopts.h"
#include "tools.h"

static const char demo_help[] =
    "usage: tern demo [forward] [--seed N] [--dir DIR] [--trace] [--quiet]\n"
    "The demo: a laptop gets an address by DHCP, resolves www.example.test, fetches\n"
    "a page across two routers joined by a fast path and a slow, lossy one with a\n"
    "small queue, pings and traceroutes the server, while a voice-like UDP stream\n"
    "loses a few packets - all in virtual time, in well under a second of wall time.\n"
    "It is the scenario examples/scenarios/demo.scn (installed by `make install` as\n"
    "PREFIX/share/tern/scenarios/demo.scn; run it with `tern sim`, or edit a copy:\n"
    "docs/scenarios.md).\n"
    "`tern demo forward`: encrypted port forwarding (examples/scenarios/forward.scn):\n"
    "a POP3 session read by a sniffing router, then the same session through a TLS\n"
    "tunnel (`tern forward`, OpenSSL) that the router cannot read (docs/tls.md).\n"
    "  --seed N   seed of every random choice (default 1): same seed, same output\n"
    "  --dir DIR  where to write one pcap per link and the SVG plots of the TCP flow\n"
    "             (default tern-demo-out)\n"
    "  --trace    also print every frame of every link\n"
    "  --quiet    print the summary only\n";

/* The demo's scenario file, for the closing hint: examples/scenarios/demo.scn
 * when we run in a source tree, else the copy `make install` put in
 * PREFIX/share/tern/scenarios beside PREFIX/bin/tern (found from our own
 * path, so an installed tree may be moved). */
static const char *demo_scn_path(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "examples/scenarios/%s", name); /* in a source tree */
    if (access(buf, R_OK) == 0)
        return buf;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
    if (!slash)
        return buf;
    *slash = 0;
    char installed[PATH_MAX + 128];
    snprintf(installed, sizeof installed, "%s/../share/tern/scenarios/%s", exe, name);
    char real[PATH_MAX];
    if (!realpath(installed, real) || access(real, R_OK) != 0)
        return buf;
    snprintf(buf, cap, "%s", real);
    return buf;
}

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"seed", required_argument, NULL, 's'},
                                         {"dir", required_argument, NULL, 'd'},
                                         {"trace", no_argument, NULL, 't'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct sim_opts so = {.out = stdout, .pcap_dir = "tern-demo-out", .tls = sim_tls_hooks()};
    unsigned long seed;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (parse_ulong(optarg, 0, ULONG_MAX, &seed) < 0) {
                fprintf(stderr, "tern demo: bad value '%s' for --seed\n", optarg);
                return 2;
            }
            so.seed = seed;
            so.have_seed = true;
            break;
        case 'd':
            so.pcap_dir = optarg;
            break;
        case 't':
            so.trace = "";
            break;
        case 'q':
            so.quiet = true;
            break;
        case 'h':
            fputs(demo_help, stdout);
            return 0;
        default:
            return tool_opt_error("demo", opt, argv);
        }
    }
    bool forward = false;
    if (optind < argc && !strcmp(argv[optind], "forward")) {
        forward = true;
        optind++;
    }
    if (optind != argc) {
        fprintf(stderr, "tern demo: unexpected argument '%s' (the demos: the default one, "
                        "forward)\n", argv[optind]);
        return 2;
    }
    const char *text = forward ? sim_forward_scenario : sim_demo_scenario;
    so.plot_dir = so.pcap_dir;
    if (mkdir(so.pcap_dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "tern demo: cannot create %s: %s\n", so.pcap_dir, strerror(errno));
        return 1;
    }
    struct scenario *sc = malloc(sizeof *sc);
    char err[512];
    if (!sc) {
        fprintf(stderr, "tern demo: out of memory\n");
        return 1;
    }
    if (scenario_parse(sc, text, strlen(text), forward ? "forward.scn" : "demo.scn", err,
                       sizeof err) < 0) {
        fprintf(stderr, "tern demo: %s\n", err); /* a bug: the test suite parses it too */
        free(sc);
        return 1;
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    int rc = sim_run(sc, &so, err, sizeof err);
    char scn[PATH_MAX];
    if (rc >= 0 && forward)
        printf("\nEverything above ran in virtual time; TLS is OpenSSL's, the certificates were "
               "made for this run.\nLook closer:\n"
               "  tcpdump -n -A -r %s/wan.pcap 'tcp port 110'   the plain session: eve reads "
               "every word\n"
               "  tcpdump -n -X -r %s/wan.pcap 'tcp port 995'   the tunnel: TLS records, "
               "garbled\n"
               "  tern sim %s --trace=wan    every frame eve saw\n",
               so.pcap_dir, so.pcap_dir, demo_scn_path("forward.scn", scn, sizeof scn));
    else if (rc >= 0)
        printf("\nEverything above ran in virtual time. Look closer:\n"
               "  tcpdump -n -r %s/slow.pcap     the lossy path, frame by frame\n"
               "  tern dump %s/lan.pcap          the same printer, built into tern\n"
               "  %s/flow*-tsg.svg               the time-sequence graph (open in a browser)\n"
               "  tern sim %s --seed 2    another roll of the dice\n",
               so.pcap_dir, so.pcap_dir, so.pcap_dir, demo_scn_path("demo.scn", scn, sizeof scn));
    fflush(stdout);
    if (rc < 0)
        fprintf(stderr, "tern demo: %s\n", err);
    else if (rc > 0)
        fprintf(stderr, "tern demo: %d action%s failed or did not finish (listed in the summary)\n",
                rc, rc == 1 ? "" : "s");
    free(sc);
    return rc != 0 ? 1 : 0;
}
