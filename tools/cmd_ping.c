/*
 * tools/cmd_ping.c - `tern ping`: iputils-style ping from a tern stack on a
 * TAP or TUN device. The app itself is src/app/ping.c (the same code runs
 * in the simulator).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <time.h>

#include "app/ping.h"
#include "app/resolver.h"
#include "tern/wire/ipv4.h"
#include "stackopts.h"
#include "tools.h"

static const char ping_help[] =
    "usage: tern ping [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P HOST\n"
    "Send ICMP echo requests to HOST (an IPv4 address, or a name: --dns, the DHCP\n"
    "lease's server, /etc/hosts; an IPv6 address - fe80::1 on the link, or with\n"
    "%IF - sends ICMPv6 and prints as iputils' ping -6) and print the replies as\n"
    "iputils ping does. When\n"
    "ARP gets no answer (3 s), each request waiting for it is reported as \"From\n"
    "OURS icmp_seq=N Destination Host Unreachable\". SIGINT prints the summary.\n"
    "Exit status: 0 a reply was received (with -w: -c replies), 1 none, 2 error.\n"
    "\n"
    "ping options:\n"
    "  -6              IPv6 (HOST must be an IPv6 address)\n"
    "  -4              IPv4 (the default for names)\n"
    "  -c COUNT        stop after COUNT requests (default: until interrupted)\n"
    "  -s SIZE         data bytes per request (default 56, max 65507)\n"
    "  -i SECONDS      interval between requests (default 1)\n"
    "  -t TTL          IP time to live (1..255)\n"
    "  -W SECONDS      time to wait for replies after the last request (default 10)\n"
    "  -M do|dont|want path MTU discovery: always set DF, never, or when it fits\n"
    "  -q              quiet: only the header and the summary\n"
    "  -w DEADLINE     stop after DEADLINE seconds whatever was sent; with -c, keep\n"
    "                  sending until COUNT replies came\n"
    "  -D              print the time (seconds.microseconds since 1970) before each line\n"
    "  -f              flood: '.' per request, a backspace per reply; the next request\n"
    "                  when the reply comes or after -i (default 10 ms), at most 1000\n"
    "                  a second\n"
    "  -I ADDR         source address of the requests\n"
    "  --dns SERVER[,SERVER...]  DNS servers for a HOST name (default: from --dhcp)\n"
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
    ping_stop(r->ping);
}

int cmd_ping(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'},
                                        {"dns", required_argument, NULL, 'N'},
                                        {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 4];
    struct tern_resolve_opts dns = {0};
    bool interval_given = false;
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    struct tern_ping_opts po = {.size = 56, .interval_us = 1000000, .pmtu = TERN_PMTU_WANT};
    unsigned long v;
    int opt;
    opterr = 0;
    optind = 1;
    bool want6 = false;
    const char *src_arg = NULL;
    while ((opt = getopt_long(argc, argv, ":c:s:i:t:W:M:qw:DfI:h46", longopts, NULL)) != -1) {
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
            interval_given = true;
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
        case 'w':
            if (parse_seconds(optarg, &po.deadline_us) < 0 || po.deadline_us == 0)
                goto bad_value;
            break;
        case 'D':
            po.timestamps = true;
            break;
        case 'f':
            po.flood = true;
            break;
        case '6':
            want6 = true;
            break;
        case '4':
            want6 = false;
            break;
        case 'I':
            src_arg = optarg;
            if (strchr(optarg, ':'))
                break; /* IPv6: checked with the host below */
            if (tern_ipv4_aton(optarg, &po.src) < 0) {
                fprintf(stderr, "tern ping: -I %s: give our IPv4 address\n", optarg);
                return 2;
            }
            break;
        case 'N':
            if (parse_dns_opt("ping", optarg, &dns) < 0)
                return 2;
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
    po.dst_name = host;
    if (po.flood && !interval_given)
        po.interval_us = 0; /* the app's flood default */

    if (strchr(host, ':') || want6) {
        /* an IPv6 literal; a %zone suffix names our one interface */
        char h[64];
        size_t hl = strcspn(host, "%");
        if (hl >= sizeof h) {
            fprintf(stderr, "tern ping: %s: Name or service not known\n", host);
            return 2;
        }
        memcpy(h, host, hl);
        h[hl] = 0;
        if (tern_ipv6_aton(h, &po.dst6) < 0) {
            fprintf(stderr, "tern ping: %s: %s\n", host,
                    want6 ? "give an IPv6 address (no IPv6 name lookup yet)"
                          : "Name or service not known");
            return 2;
        }
        po.v6 = true;
        if (src_arg && (tern_ipv6_aton(src_arg, &po.src6) < 0)) {
            fprintf(stderr, "tern ping: -I %s: give our IPv6 address\n", src_arg);
            return 2;
        }
    } else if (src_arg && strchr(src_arg, ':')) {
        fprintf(stderr, "tern ping: -I %s: give our IPv4 address\n", src_arg);
        return 2;
    }
    struct tern_env env;
    int rc = env_open(&env, &so, "tern ping");
    if (rc)
        return rc;
    if (po.v6) {
        po.oif6 = env.ifindex;
        tool_wait_v6(&env, 3000000); /* the link-local address's DAD */
    } else if ((rc = tool_resolve_host(&env, &dns, host, "tern ping", &po.dst)) != 0) {
        env_close(&env);
        return rc > 128 ? rc : 2; /* iputils: an unknown host is 2 */
    }
    if (po.timestamps) {
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        po.wall_offset_us = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 -
                            (int64_t)tern_loop_now(env.loop);
    }
    struct ping_run run = {.loop = env.loop, .status = 2};
    setvbuf(stdout, NULL, _IOLBF, 0);
    run.ping = ping_start(env.stack, env.loop, &po, stdout, ping_done, &run);
    if (!run.ping) {
        fprintf(stderr, "tern ping: cannot start\n");
        env_close(&env);
        return 2;
    }
    struct tool_signals sig;
    tool_signals_open(&sig, env.loop, false, on_signal, &run);
    tern_loop_run(env.loop, TERN_TIME_NEVER);
    tool_signals_close(&sig);
    ping_free(run.ping);
    rc = env.dev_gone.gone ? 1 : run.status;
    env_close(&env);
    return rc;
}
