/*
 * tools/cmd_demo.c - `tern demo` (what `make demo` runs): the largest thing
 * tern can do today, in virtual time.
 *
 * Two stacks, "laptop" 10.0.0.1 and "server" 10.0.0.2, joined by a memory
 * link that delays, jitters, loses, duplicates and reorders frames (seeded,
 * so every run with the same seed prints the same bytes). The laptop pings
 * the server with small packets, then with 3000-byte packets that IP must
 * fragment and reassemble. Every frame on the laptop's side is printed as
 * tcpdump prints it and written to a pcap. Grows with the stack: the
 * simulator issue replaces it with the full story of the seed texts.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/ping.h"
#include "stackopts.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/stack.h"
#include "tools.h"

static const char demo_help[] =
    "usage: tern demo [--seed N] [--dir DIR] [--no-trace]\n"
    "Two tern stacks ping each other across an impaired link (10 ms delay, 2 ms\n"
    "jitter, 5% loss, 3% duplication, 5% reordering) in virtual time: small\n"
    "pings, then 3000-byte pings that are fragmented and reassembled. Prints the\n"
    "tcpdump-format trace of the laptop's link, ping's output and the counters,\n"
    "and writes DIR/laptop.pcap (default DIR: tern-demo).\n"
    "  --seed N     seed of every random choice (default 1): same seed, same output\n"
    "  --dir DIR    where to write the pcap\n"
    "  --no-trace   do not print the frame trace\n";

struct demo_done {
    struct tern_loop *loop;
    int status;
};

static void on_done(void *ctx, int status)
{
    struct demo_done *d = ctx;
    d->status = status;
    tern_loop_stop(d->loop);
}

static int run_ping(struct tern_stack *s, struct tern_loop *loop, uint32_t count, uint32_t size)
{
    struct tern_ping_opts po = {.dst = 0x0a000002, .dst_name = "10.0.0.2", .count = count,
                                .size = size, .interval_us = 200000, .linger_us = 2000000};
    struct demo_done d = {.loop = loop, .status = 2};
    printf("\n$ ping -c %u -s %u -i 0.2 10.0.0.2\n", count, size);
    struct tern_ping *p = tern_ping_start(s, loop, &po, stdout, on_done, &d);
    if (!p)
        return 2;
    tern_loop_run(loop, TERN_TIME_NEVER);
    tern_ping_free(p);
    return d.status;
}

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"seed", required_argument, NULL, 's'},
                                         {"dir", required_argument, NULL, 'd'},
                                         {"no-trace", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    unsigned long seed = 1;
    const char *dir = "tern-demo";
    bool trace = true;
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
            break;
        case 'd':
            dir = optarg;
            break;
        case 'n':
            trace = false;
            break;
        case 'h':
            fputs(demo_help, stdout);
            return 0;
        default:
            return tool_opt_error("demo", opt, argv);
        }
    }
    if (optind != argc) {
        fprintf(stderr, "tern demo: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "tern demo: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/laptop.pcap", dir);
    FILE *pcap = fopen(path, "wb");
    if (!pcap) {
        fprintf(stderr, "tern demo: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);

    printf("tern demo (seed %lu): laptop 10.0.0.1 <-> server 10.0.0.2 over a link with\n"
           "10 ms delay, 2 ms jitter, 5%% loss, 3%% duplication, 5%% reordering, in virtual time.\n"
           "%s",
           seed, trace ? "Every frame on the laptop's side, as tcpdump -n prints it:\n" : "");
    struct tern_loop *loop = tern_loop_virtual_new(0);
    struct tern_device *a, *b;
    if (!loop || tern_memlink_pair(loop, TERN_LINK_ETHERNET, 1500, 256, &a, &b) < 0) {
        fprintf(stderr, "tern demo: setup failed\n");
        return 1;
    }
    struct tern_impair imp = {.loss = 0.05, .dup = 0.03, .reorder = 0.05,
                              .reorder_delay_us = 25000, .delay_us = 10000, .jitter_us = 2000};
    imp.seed = seed * 2 + 1;
    a = tern_impair_wrap(loop, a, &imp);
    imp.seed = seed * 2 + 2;
    b = tern_impair_wrap(loop, b, &imp);
    a = tern_trace_wrap(loop, a, pcap, trace ? stdout : NULL);
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = seed;
    struct tern_stack *laptop = tern_stack_new(&cfg, loop);
    cfg.seed = seed + 1;
    struct tern_stack *server = tern_stack_new(&cfg, loop);
    struct tern_iface_config la = {.addr = 0x0a000001, .prefix_len = 24, .up = true,
                                   .mac = {0x02, 0, 0, 0, 0, 0x01}};
    struct tern_iface_config sa = {.addr = 0x0a000002, .prefix_len = 24, .up = true,
                                   .mac = {0x02, 0, 0, 0, 0, 0x02}};
    if (!a || !b || !laptop || !server || tern_stack_add_iface(laptop, a, &la) < 0 ||
        tern_stack_add_iface(server, b, &sa) < 0) {
        fprintf(stderr, "tern demo: setup failed\n");
        return 1;
    }

    int s1 = run_ping(laptop, loop, 10, 56);
    int s2 = run_ping(laptop, loop, 5, 3000);
    /* Let the last timers (ARP, reassembly) play out before the counters. */
    tern_loop_run(loop, tern_loop_now(loop) + 1000000);
    const struct tern_stats *ls = tern_stack_stats(laptop), *ss = tern_stack_stats(server);
    printf("\ncounters       laptop   server\n"
           "ip sent      %8llu %8llu\n"
           "ip received  %8llu %8llu\n"
           "frags sent   %8llu %8llu\n"
           "reassembled  %8llu %8llu\n"
           "arp requests %8llu %8llu\n",
           (unsigned long long)ls->ip.tx, (unsigned long long)ss->ip.tx,
           (unsigned long long)ls->ip.rx, (unsigned long long)ss->ip.rx,
           (unsigned long long)ls->ip.frag_tx, (unsigned long long)ss->ip.frag_tx,
           (unsigned long long)ls->ip.reasm_ok, (unsigned long long)ss->ip.reasm_ok,
           (unsigned long long)ls->arp.tx_request, (unsigned long long)ss->arp.tx_request);
    printf("\nvirtual time elapsed: %.3f s\n", (double)tern_loop_now(loop) / 1e6);
    printf("pcap of the laptop's link: %s (try: tcpdump -n -r %s, or tern dump %s)\n", path, path,
           path);
    tern_stack_free(laptop);
    tern_stack_free(server);
    tern_device_destroy(a);
    tern_device_destroy(b);
    tern_loop_destroy(loop);
    fclose(pcap);
    fflush(stdout);
    return s1 == 0 && s2 == 0 ? 0 : 1;
}
