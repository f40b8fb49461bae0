/*
 * tools/cmd_perf.c - `tern perf`: an iperf3-compatible client (-c HOST) or
 * server (-s) over a tern stack on a TAP or TUN device. The app is
 * src/app/perf.c (the same code runs in virtual time and in `tern sim`);
 * flags are iperf3's.
 */
#include <stdlib.h>
#include <string.h>

#include "app/perf.h"
#include "app/resolver.h"
#include "tern/err.h"
#include "stackopts.h"
#include "tools.h"

static const char perf_help[] =
    "usage: tern perf -s [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P|--dhcp\n"
    "       tern perf -c HOST [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P|--dhcp\n"
    "Measure throughput as iperf3 does, speaking iperf3's protocol: a tern client\n"
    "measures Linux's `iperf3 -s`, and Linux's `iperf3 -c` measures a tern server.\n"
    "Reports every interval and a summary, as iperf3 prints them.\n"
    "Exit status: 0 the test ran, 1 an error (connection refused, server busy,\n"
    "protocol error, interrupted), 2 usage error.\n"
    "\n"
    "perf options:\n"
    "  -s, --server    serve tests on PORT until interrupted (one at a time)\n"
    "  -c, --client HOST  run a test against the iperf3 server HOST (an IPv4 address\n"
    "                  or a name: --dns, the DHCP lease's server or /etc/hosts)\n"
    "  -p, --port PORT server port (default 5201)\n"
    "  -1, --one-off   server: handle one test, then exit\n"
    "  -t, --time SECONDS  test length (default 10)\n"
    "  -i, --interval SECONDS  seconds between reports (default 1, 0 = none)\n"
    "  -R, --reverse   the server sends, the client receives\n"
    "  -u, --udp       UDP instead of TCP\n"
    "  -b, --bitrate RATE[K|M|G]  bits/s per stream (default: unlimited for TCP,\n"
    "                  1M for UDP)\n"
    "  -P, --parallel N  streams, 1..128 (default 1)\n"
    "  -l, --length N[K|M]  bytes per write (default 128K for TCP, 1460 for UDP)\n"
    "  --dns SERVER[,SERVER...]  DNS servers for HOST (default: from --dhcp)\n"
    "  -h, --help      this help\n"
    "\n";

struct perf_run {
    struct tern_loop *loop;
    struct tern_perf *perf;
    int status;
    bool done;
};

static void on_done(void *ctx, int status)
{
    struct perf_run *r = ctx;
    r->status = status;
    r->done = true;
    tern_loop_stop(r->loop);
}

static void on_signal(int signo, void *ctx)
{
    (void)signo;
    struct perf_run *r = ctx;
    perf_stop(r->perf);
    r->status = tool_interrupted_status();
    tern_loop_stop(r->loop);
}

/* "10M", "1.5G", "500K", "1000000": bits or bytes with 1000 (rate) or 1024
 * (length) multiples, as iperf3 reads them. */
static int parse_scaled(const char *s, double k, double max, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (*end == 'k' || *end == 'K')
        v *= k, end++;
    else if (*end == 'm' || *end == 'M')
        v *= k * k, end++;
    else if (*end == 'g' || *end == 'G')
        v *= k * k * k, end++;
    if (*end || !(v >= 0) || v > max)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int cmd_perf(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'},
                                        {"server", no_argument, NULL, 's'},
                                        {"client", required_argument, NULL, 'c'},
                                        {"port", required_argument, NULL, 'p'},
                                        {"one-off", no_argument, NULL, '1'},
                                        {"time", required_argument, NULL, 't'},
                                        {"interval", required_argument, NULL, 'i'},
                                        {"reverse", no_argument, NULL, 'R'},
                                        {"udp", no_argument, NULL, 'u'},
                                        {"bitrate", required_argument, NULL, 'b'},
                                        {"bandwidth", required_argument, NULL, 'b'},
                                        {"parallel", required_argument, NULL, 'P'},
                                        {"length", required_argument, NULL, 'l'},
                                        {"dns", required_argument, NULL, 'D'},
                                        {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 16];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    struct tern_perf_opts po = {0};
    struct tern_resolve_opts dns = {0};
    const char *host = NULL;
    unsigned long v;
    uint64_t u;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":sc:p:1t:i:Rub:P:l:h", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern perf");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (opt) {
        case 's':
            po.server = true;
            break;
        case 'c':
            host = optarg;
            break;
        case 'p':
            if (parse_ulong(optarg, 1, 65535, &v) < 0)
                goto bad_value;
            po.port = (uint16_t)v;
            break;
        case '1':
            po.one_off = true;
            break;
        case 't':
            if (parse_seconds(optarg, &po.duration_us) < 0 || po.duration_us < 100000 ||
                po.duration_us > 86400ull * 1000000)
                goto bad_value;
            break;
        case 'i':
            if (parse_seconds(optarg, &po.interval_us) < 0 ||
                (po.interval_us && po.interval_us < 100000))
                goto bad_value;
            po.interval_set = true;
            break;
        case 'R':
            po.reverse = true;
            break;
        case 'u':
            po.udp = true;
            break;
        case 'b':
            if (parse_scaled(optarg, 1000, 1e12, &po.bandwidth_bps) < 0)
                goto bad_value;
            break;
        case 'P':
            if (parse_ulong(optarg, 1, TERN_PERF_MAX_STREAMS, &v) < 0)
                goto bad_value;
            po.parallel = (unsigned)v;
            break;
        case 'l':
            if (parse_scaled(optarg, 1024, 1024 * 1024, &u) < 0 || u < 16)
                goto bad_value;
            po.len = (uint32_t)u;
            break;
        case 'D':
            if (parse_dns_opt("perf", optarg, &dns) < 0)
                return 2;
            break;
        case 'h':
            fputs(perf_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default: /* ':' missing value, '?' unknown */
            return tool_opt_error("perf", opt, argv);
        }
        continue;
    bad_value:
        fprintf(stderr, "tern perf: bad value '%s' for -%c\n", optarg, opt);
        return 2;
    }
    if (po.server == !!host) {
        fprintf(stderr, "tern perf: give exactly one of -s or -c HOST (try 'tern perf --help')\n");
        return 2;
    }
    if (optind != argc) {
        fprintf(stderr, "tern perf: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (po.udp && po.len > 65507) {
        fprintf(stderr, "tern perf: -l %u is more than a UDP datagram holds (65507)\n", po.len);
        return 2;
    }
    struct tern_env env;
    int rc = env_open(&env, &so, "tern perf");
    if (rc)
        return rc;
    if (host && (rc = tool_resolve_host(&env, &dns, host, "tern perf", &po.addr)) != 0) {
        env_close(&env);
        return rc;
    }
    struct perf_run run = {.loop = env.loop, .status = 1};
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct tern_perf_io io = {.out = stdout, .err = stderr, .done = on_done, .ctx = &run};
    int err;
    run.perf = perf_start(env.stack, env.loop, &po, &io, &err);
    if (!run.perf) {
        fprintf(stderr, "tern perf: cannot start: %s\n", tern_strerror(err));
        env_close(&env);
        return 1;
    }
    struct tool_signals sig;
    tool_signals_open(&sig, env.loop, false, on_signal, &run);
    tern_loop_run(env.loop, TERN_TIME_NEVER);
    tool_signals_close(&sig);
    perf_free(run.perf);
    env_close(&env);
    return run.status;
}
