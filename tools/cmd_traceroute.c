/*
 * tools/cmd_traceroute.c - `tern traceroute`: Linux-style traceroute from a
 * tern stack on a TAP or TUN device. The app itself is src/app/traceroute.c
 * (the same code runs in the simulator); a host name is looked up first with
 * the stub resolver (src/app/resolver.c), as `tern get` does.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/hosts.h"
#include "app/resolver.h"
#include "app/traceroute.h"
#include "stackopts.h"
#include "tools.h"

static const char traceroute_help[] =
    "usage: tern traceroute [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P|--dhcp HOST [PACKETLEN]\n"
    "Print the route to HOST as Linux traceroute -n does: UDP probes to ports 33434\n"
    "upwards (one port per probe) at rising TTLs, or ICMP echo requests with -I;\n"
    "each hop answers with time exceeded, the destination with port unreachable\n"
    "(or an echo reply). PACKETLEN is the total IP length of a probe (default 60).\n"
    "HOST is an IPv4 address or a name (/etc/hosts, then DNS: --dns or the DHCP\n"
    "lease's server). A probe nobody answers prints '*'; our own stack's error\n"
    "when ARP fails for an on-link HOST is no answer either.\n"
    "Exit status: 0 the trace ran (reached or not, as Linux), 1 network error\n"
    "(name not found, no route), 2 usage error.\n"
    "\n"
    "traceroute options:\n"
    "  -I              ICMP echo probes instead of UDP\n"
    "  -n              numeric output (always: hop names are never looked up)\n"
    "  -f FIRST        first TTL (default 1)\n"
    "  -m MAX          maximum TTL, hops (default 30, at most 255)\n"
    "  -q N            probes per hop (default 3, at most 10)\n"
    "  -w SECONDS      wait for each probe's answer (default 5)\n"
    "  -p PORT         UDP: first destination port (default 33434);\n"
    "                  -I: first ICMP sequence number (default 1)\n"
    "  --dns SERVER[,SERVER...]  DNS servers for a host name (default: from --dhcp)\n"
    "  -h, --help      this help\n"
    "\n";

struct tr_run {
    struct tern_loop *loop;
    int status;
    bool done;
    uint32_t addr;         /* resolved */
};

static void tr_done(void *ctx, int status)
{
    struct tr_run *r = ctx;
    r->status = status;
    r->done = true;
    tern_loop_stop(r->loop);
}

static void resolved(void *ctx, const struct tern_resolve_result *res)
{
    struct tr_run *r = ctx;
    r->done = true;
    if (res->status == TERN_RESOLVE_OK && res->naddr > 0)
        r->addr = res->addr[0];
    tern_loop_stop(r->loop);
}

/* Looks name up over the stack; 0 and *addr, or 1 (message printed). */
static int resolve_name(struct tern_env *env, const char *name, struct tern_resolve_opts *ro,
                        uint32_t *addr)
{
    struct tr_run run = {.loop = env->loop};
    int err;
    struct tern_resolve *q = resolve_start(env->stack, env->loop, name, ro, resolved, &run, &err);
    if (!q) {
        fprintf(stderr, "tern traceroute: %s: %s\n", name, tern_strerror(err));
        return 1;
    }
    tern_loop_run(env->loop, TERN_TIME_NEVER);
    resolve_free(q);
    if (!run.done)
        return tool_interrupted_status();
    if (!run.addr) {
        fprintf(stderr, "tern traceroute: %s: Name or service not known\n", name);
        return 1;
    }
    *addr = run.addr;
    return 0;
}

int cmd_traceroute(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'},
                                        {"dns", required_argument, NULL, 'D'},
                                        {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 4];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    struct tern_traceroute_opts to = {.first_ttl = 1, .max_ttl = 30, .nqueries = 3,
                                      .packetlen = 60, .wait_us = 5000000};
    struct tern_resolve_opts ro = {0};
    unsigned long v;
    int opt;
    opterr = 0;
    optind = 1;
    /* "+": options stop at HOST, so a PACKETLEN is never taken for one */
    while ((opt = getopt_long(argc, argv, "+:Inf:m:q:w:p:h", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern traceroute");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (opt) {
        case 'I':
            to.icmp = true;
            break;
        case 'n':
            break;
        case 'f':
            if (parse_ulong(optarg, 1, 255, &v) < 0)
                goto bad_value;
            to.first_ttl = (uint8_t)v;
            break;
        case 'm':
            if (parse_ulong(optarg, 1, 255, &v) < 0)
                goto bad_value;
            to.max_ttl = (uint8_t)v;
            break;
        case 'q':
            if (parse_ulong(optarg, 1, 10, &v) < 0)
                goto bad_value;
            to.nqueries = (uint32_t)v;
            break;
        case 'w':
            if (parse_seconds(optarg, &to.wait_us) < 0 || to.wait_us < 1000 ||
                to.wait_us > 3600000000ull)
                goto bad_value;
            break;
        case 'p':
            if (parse_ulong(optarg, 1, 65535, &v) < 0)
                goto bad_value;
            to.port = (uint16_t)v;
            break;
        case 'D':
            if (parse_dns_opt("traceroute", optarg, &ro) < 0)
                return 2;
            break;
        case 'h':
            fputs(traceroute_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default: /* ':' missing value, '?' unknown */
            return tool_opt_error("traceroute", opt, argv);
        }
        continue;
    bad_value:
        fprintf(stderr, "tern traceroute: bad value '%s' for -%c\n", optarg, opt);
        return 2;
    }
    if (optind != argc - 1 && optind != argc - 2) {
        fprintf(stderr, "tern traceroute: expected HOST [PACKETLEN] (try 'tern traceroute --help')\n");
        return 2;
    }
    const char *host = argv[optind];
    if (optind == argc - 2) {
        if (parse_ulong(argv[optind + 1], 0, 65000, &v) < 0) {
            fprintf(stderr, "tern traceroute: bad PACKETLEN '%s' (0..65000)\n", argv[optind + 1]);
            return 2;
        }
        to.packetlen = v < 28 ? 28 : (uint32_t)v; /* Linux raises it to the headers */
    }
    if (to.first_ttl > to.max_ttl) {
        fprintf(stderr, "tern traceroute: first hop %u is beyond max hops %u\n", to.first_ttl,
                to.max_ttl);
        return 2;
    }
    bool is_addr = tern_ipv4_aton(host, &to.dst) == 0;
    if (is_addr && to.dst == 0) {
        fprintf(stderr, "tern traceroute: %s: not a destination\n", host);
        return 2;
    }
    if (!is_addr) {
        struct tern_dns_name check;
        if (tern_dns_name_from_text(host, &check) < 0 || check.len <= 1) {
            fprintf(stderr, "tern traceroute: '%s' is neither an IPv4 address nor a name\n", host);
            return 2;
        }
        uint32_t a;
        if (hosts_lookup_path("/etc/hosts", host, &a) == 0) {
            to.dst = a; /* /etc/hosts first, as the resolver library does */
            is_addr = true;
        } else if (!ro.nservers && !so.dhcp) {
            fprintf(stderr, "tern traceroute: %s is not in /etc/hosts: give --dns SERVER (or "
                            "--dhcp)\n", host);
            return 2;
        }
    }
    to.dst_name = host;

    struct tern_env env;
    int rc = env_open(&env, &so, "tern traceroute");
    if (rc)
        return rc;
    struct tool_signals sig;
    tool_signals_open(&sig, env.loop, false, tool_stop_loop, env.loop);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!is_addr) {
        if (!ro.nservers)
            for (unsigned i = 0; i < 4 && env.dns[i] && i < TERN_RESOLVE_MAX_SERVERS; i++)
                ro.servers[ro.nservers++] = env.dns[i];
        if (!ro.nservers) {
            fprintf(stderr, "tern traceroute: the DHCP lease names no DNS server: give --dns\n");
            rc = 1;
        } else {
            rc = resolve_name(&env, host, &ro, &to.dst);
        }
    }
    if (rc == 0) {
        struct tr_run run = {.loop = env.loop, .status = 1};
        struct tern_traceroute *t = traceroute_start(env.stack, env.loop, &to, stdout,
                                                          tr_done, &run);
        if (!t) {
            fprintf(stderr, "tern traceroute: cannot start\n");
            rc = 1;
        } else {
            tern_loop_run(env.loop, TERN_TIME_NEVER);
            bool interrupted = !run.done;
            if (interrupted)
                traceroute_stop(t); /* ends the line */
            rc = interrupted ? tool_interrupted_status() : run.status;
            traceroute_free(t);
        }
    }
    fflush(stdout);
    tool_signals_close(&sig);
    if (env.dev_gone.gone)
        rc = 1;
    env_close(&env);
    return rc;
}
