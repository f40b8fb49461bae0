/*
 * tools/cmd_resolve.c - `tern resolve`: look a name up over a tern stack
 * on a TAP or TUN device and print it as host(1) does. The resolver itself
 * is src/app/resolver.c (the same code runs in virtual time in the tests).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "app/resolver.h"
#include "stackopts.h"
#include "tools.h"

static const char resolve_help[] =
    "usage: tern resolve [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P|--dhcp NAME|ADDRESS\n"
    "Look NAME up with a DNS stub resolver on a tern stack and print the answer as\n"
    "host(1) does; an IPv4 ADDRESS is looked up backwards (PTR in in-addr.arpa),\n"
    "as host does. Exit status: 0 found (or the name has no record of that type),\n"
    "1 not found / no answer, 2 usage error.\n"
    "\n"
    "resolve options:\n"
    "  --dns SERVER[,SERVER...]  DNS servers (IPv4), asked in turn (default: from --dhcp)\n"
    "  -t TYPE         record type: A (default), AAAA, CNAME, NS, SOA, MX, TXT, PTR\n"
    "  -W SECONDS      first wait for a reply, doubled after each round (default 1)\n"
    "  -R ROUNDS       rounds over all servers before giving up (default 4)\n"
    "  -h, --help      this help\n"
    "A reply with TC set (too big for UDP) is asked again over TCP (RFC 7766).\n"
    "\n";

struct resolve_run {
    struct tern_loop *loop;
    const char *name, *asked;
    int status;
    bool done;
};

static void resolve_done(void *ctx, const struct tern_resolve_result *r)
{
    struct resolve_run *run = ctx;
    run->status = resolve_print(r, run->asked, stdout);
    run->done = true;
    tern_loop_stop(run->loop);
}

int cmd_resolve(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'},
                                        {"dns", required_argument, NULL, 'D'},
                                        {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 4];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    struct tern_resolve_opts ro = {.qtype = TERN_DNS_T_A};
    bool type_given = false;
    unsigned long v;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":t:W:R:h", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern resolve");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (opt) {
        case 'D':
            if (parse_dns_opt("resolve", optarg, &ro) < 0)
                return 2;
            break;
        case 't': {
            static const struct {
                const char *n;
                uint16_t t;
            } types[] = {{"A", TERN_DNS_T_A},     {"AAAA", TERN_DNS_T_AAAA},
                         {"CNAME", TERN_DNS_T_CNAME}, {"NS", TERN_DNS_T_NS},
                         {"SOA", TERN_DNS_T_SOA}, {"MX", TERN_DNS_T_MX},
                         {"TXT", TERN_DNS_T_TXT}, {"PTR", TERN_DNS_T_PTR}};
            size_t i;
            for (i = 0; i < sizeof types / sizeof types[0]; i++)
                if (!strcasecmp(optarg, types[i].n))
                    break;
            if (i == sizeof types / sizeof types[0]) {
                fprintf(stderr, "tern resolve: bad value '%s' for -t (A, AAAA, CNAME, NS, SOA, "
                                "MX, TXT or PTR)\n", optarg);
                return 2;
            }
            ro.qtype = types[i].t;
            type_given = true;
            break;
        }
        case 'W':
            if (parse_seconds(optarg, &ro.timeout_us) < 0 || ro.timeout_us < 1000)
                goto bad_value;
            break;
        case 'R':
            if (parse_ulong(optarg, 1, 16, &v) < 0)
                goto bad_value;
            ro.rounds = (unsigned)v;
            break;
        case 'h':
            fputs(resolve_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default: /* ':' missing value, '?' unknown */
            return tool_opt_error("resolve", opt, argv);
        }
        continue;
    bad_value:
        fprintf(stderr, "tern resolve: bad value '%s' for -%c\n", optarg, opt);
        return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "tern resolve: expected exactly one NAME (try 'tern resolve --help')\n");
        return 2;
    }
    const char *name = argv[optind];
    char ptr[64], asked[72];
    uint32_t lit;
    if (tern_ipv4_aton(name, &lit) == 0 && (!type_given || ro.qtype == TERN_DNS_T_PTR)) {
        /* host(1): an address is looked up backwards, in-addr.arpa PTR */
        resolve_ptr_name(lit, ptr, sizeof ptr);
        snprintf(asked, sizeof asked, "%s", ptr);
        name = ptr;
        ro.qtype = TERN_DNS_T_PTR;
    } else {
        snprintf(asked, sizeof asked, "%.*s", (int)sizeof asked - 1, argv[optind]);
    }
    struct tern_dns_name check;
    if (tern_dns_name_from_text(name, &check) < 0 || check.len <= 1) {
        fprintf(stderr, "tern resolve: '%s' is not a valid domain name\n", name);
        return 2;
    }
    if (!ro.nservers && !so.dhcp) {
        fprintf(stderr, "tern resolve: no DNS server: give --dns SERVER (or --dhcp)\n");
        return 2;
    }

    struct tern_env env;
    int rc = env_open(&env, &so, "tern resolve");
    if (rc)
        return rc;
    if (!ro.nservers) {
        for (unsigned i = 0; i < 4 && env.dns[i] && i < TERN_RESOLVE_MAX_SERVERS; i++)
            ro.servers[ro.nservers++] = env.dns[i];
        if (!ro.nservers) {
            fprintf(stderr, "tern resolve: the DHCP lease names no DNS server: give --dns\n");
            env_close(&env);
            return 1;
        }
    }
    struct tool_signals sig;
    tool_signals_open(&sig, env.loop, false, tool_stop_loop, env.loop);
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct resolve_run run = {.loop = env.loop, .name = name, .asked = asked, .status = 1};
    int err;
    struct tern_resolve *q = resolve_start(env.stack, env.loop, name, &ro, resolve_done, &run, &err);
    if (!q) {
        fprintf(stderr, "tern resolve: %s\n", tern_strerror(err));
        rc = 1;
    } else {
        tern_loop_run(env.loop, TERN_TIME_NEVER);
        rc = run.done ? run.status : tool_interrupted_status();
        resolve_free(q);
    }
    tool_signals_close(&sig);
    if (env.dev_gone.gone)
        rc = 1;
    env_close(&env);
    return rc;
}
