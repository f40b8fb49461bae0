/*
 * tools/cmd_ping.c - `tern ping`: iputils-style ping from a tern stack on a
 * TAP or TUN device. The app itself is src/app/ping.c (the same code runs
 * in the simulator).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/ping.h"
#include "stackopts.h"
#include "tools.h"

static const char ping_help[] =
    "usage: tern ping [OPTIONS] --tap IF|--tun IF --addr A/P HOST\n"
    "Send ICMP echo requests to HOST (an IPv4 address) and print the replies\n"
    "as iputils ping does. Exit status: 0 a reply was received, 1 none, 2 error.\n"
    "\n"
    "ping options:\n"
    "  -c COUNT        stop after COUNT requests (default: until interrupted)\n"
    "  -s SIZE         data bytes per request (default 56, max 65507)\n"
    "  -i SECONDS      interval between requests (default 1)\n"
    "  -t TTL          IP time to live (1..255)\n"
    "  -W SECONDS      time to wait for replies after the last request (default 10)\n"
    "  -M do|dont|want path MTU discovery: always set DF, never, or when it fits\n"
    "  -q              quiet: only the header and the summary\n"
    "  -h, --help      this help\n"
    "\n";

struct ping_run {
    struct tern_loop *loop;
    struct tern_ping *ping;
    int status;
};

static void ping_done(void *ctx, int status)
{
    struct ping_run *r = ctx;
    r->status = status;
    tern_loop_stop(r->loop);
}

static void on_signal(int signo, void *arg)
{
    (void)signo;
    struct ping_run *r = arg;
    tern_ping_stop(r->ping);
}

int cmd_ping(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 4];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    struct tern_ping_opts po = {.size = 56, .interval_us = 1000000, .pmtu = TERN_PMTU_WANT};
    unsigned long v;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":c:s:i:t:W:M:qh", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern ping");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (opt) {
        case 'c':
            if (parse_ulong(optarg, 1, UINT32_MAX, &v) < 0)
                goto bad_value;
            po.count = (uint32_t)v;
            break;
        case 's':
            if (parse_ulong(optarg, 0, TERN_PING_MAX_SIZE, &v) < 0)
                goto bad_value;
            po.size = (uint32_t)v;
            break;
        case 'i':
            if (parse_seconds(optarg, &po.interval_us) < 0 || po.interval_us < 1000)
                goto bad_value;
            break;
        case 't':
            if (parse_ulong(optarg, 1, 255, &v) < 0)
                goto bad_value;
            po.ttl = (uint8_t)v;
            break;
        case 'W':
            if (parse_seconds(optarg, &po.linger_us) < 0 || po.linger_us == 0)
                goto bad_value;
            break;
        case 'M':
            if (!strcmp(optarg, "do"))
                po.pmtu = TERN_PMTU_DO;
            else if (!strcmp(optarg, "dont"))
                po.pmtu = TERN_PMTU_DONT;
            else if (!strcmp(optarg, "want"))
                po.pmtu = TERN_PMTU_WANT;
            else
                goto bad_value;
            break;
        case 'q':
            po.quiet = true;
            break;
        case 'h':
            fputs(ping_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default: /* ':' missing value, '?' unknown */
            return tool_opt_error("ping", opt, argv);
        }
        continue;
    bad_value:
        fprintf(stderr, "tern ping: bad value '%s' for -%c\n", optarg, opt);
        return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "tern ping: expected exactly one HOST (try 'tern ping --help')\n");
        return 2;
    }
    const char *host = argv[optind];
    if (tern_ipv4_aton(host, &po.dst) < 0) {
        fprintf(stderr, "tern ping: %s: not an IPv4 address (names need DNS, not built yet)\n", host);
        return 2;
    }
    po.dst_name = host;

    struct tern_env env;
    int rc = tern_env_open(&env, &so, "tern ping");
    if (rc)
        return rc;
    struct ping_run run = {.loop = env.loop, .status = 2};
    setvbuf(stdout, NULL, _IOLBF, 0);
    run.ping = tern_ping_start(env.stack, env.loop, &po, stdout, ping_done, &run);
    if (!run.ping) {
        fprintf(stderr, "tern ping: cannot start\n");
        tern_env_close(&env);
        return 2;
    }
    struct tool_signals sig;
    tool_signals_open(&sig, env.loop, false, on_signal, &run);
    tern_loop_run(env.loop, TERN_TIME_NEVER);
    tool_signals_close(&sig);
    tern_ping_free(run.ping);
    rc = env.dev_gone.gone ? 1 : run.status;
    tern_env_close(&env);
    return rc;
}
