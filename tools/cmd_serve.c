/*
 * tools/cmd_serve.c - `tern serve`: run a tern stack on a TAP or TUN device
 * until interrupted. Today the stack itself answers ARP and ping; the
 * sockets issue adds the services (--echo, --discard, ...).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/resolver.h"
#include "ctl_server.h"
#include "serve_classic.h"
#include "serve_dhcp.h"
#include "serve_dns.h"
#include "serve_http.h"
#include "serve_pop3.h"
#include "stackopts.h"
#include "tools.h"

static const char serve_help[] =
    "usage: tern serve [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P|--dhcp\n"
    "Run a tern stack on a device until interrupted (SIGINT/SIGTERM), with the\n"
    "services chosen below. The stack always answers ARP and ICMP echo (ping).\n"
    "Prints its counters on exit.\n"
    "\n"
    "serve options:\n"
    "  --for SECONDS   stop after SECONDS (default: run until interrupted)\n"
    "  --control PATH  also listen on the Unix socket PATH for programs started by\n"
    "                  `tern run --control PATH`, `tern ss`, `tern stats` and `tern dump`: they\n"
    "                  share this stack (docs/run.md)\n"
    "  --resolver S[,S...]  DNS servers for the attached programs' name lookups\n"
    "                  (getaddrinfo; default: the DHCP lease's servers)\n"
    "  -h, --help      this help\n"
    "\n";

static void on_signal(int signo, void *arg)
{
    if (signo == SIGUSR1)
        serve_classic_netstat(NULL, stdout); /* the socket table, netstat -a style */
    else
        tern_loop_stop(arg);
}

static void on_timeout(struct tern_timer *t, void *arg)
{
    (void)t;
    tern_loop_stop(arg);
}

int cmd_serve(int argc, char **argv)
{
    static const struct option own[] = {
        {"help", no_argument, NULL, 'h'}, {"for", required_argument, NULL, 'F'},
        {"control", required_argument, NULL, 'C'},
        {"resolver", required_argument, NULL, 'R'},
        {"dns", required_argument, NULL, 'D'},
        {"http", required_argument, NULL, SERVE_HTTP_OPT_DIR},
        {"http-index", no_argument, NULL, SERVE_HTTP_OPT_INDEX},
        {"https", required_argument, NULL, SERVE_HTTPS_OPT_DIR},
        {"cert", required_argument, NULL, SERVE_HTTPS_OPT_CERT},
        {"key", required_argument, NULL, SERVE_HTTPS_OPT_KEY},
        {"pop3", required_argument, NULL, SERVE_POP3_OPT_DROP},
        {"pop3-user", required_argument, NULL, SERVE_POP3_OPT_USER}, {NULL, 0, NULL, 0}};
    struct option own_dhcp[sizeof own / sizeof own[0] + SERVE_DHCP_COUNT];
    size_t nown = 0;
    for (const struct option *p = own; p->name; p++)
        own_dhcp[nown++] = *p;
    for (const struct option *p = serve_dhcp_longopts; p->name; p++)
        own_dhcp[nown++] = *p;
    memset(&own_dhcp[nown], 0, sizeof own_dhcp[nown]);
    struct option own_all[sizeof own_dhcp / sizeof own_dhcp[0] + SERVE_CLASSIC_COUNT];
    serve_classic_merge(own_all, sizeof own_all / sizeof own_all[0], own_dhcp);
    struct option longopts[STACKOPT_COUNT + SERVE_DHCP_COUNT + SERVE_CLASSIC_COUNT + 6 +
                           SERVE_HTTP_COUNT + SERVE_POP3_COUNT];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own_all);
    struct serve_classic classic = {0};
    struct serve_dhcp dh = {0};
    struct serve_dns dns = {0};
    struct serve_http http = {0};
    struct serve_pop3 pop3 = {0};
    struct stack_opts so = {0};
    uint64_t duration = 0;
    const char *control = NULL;
    struct tern_resolve_opts ro = {0};
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":hn", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern serve");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if ((r = serve_classic_handle(&classic, opt, optarg)) != 0) {
            if (r < 0)
                return 2;
            continue;
        }
        if ((r = serve_dhcp_opt(&dh, opt, optarg)) != 0) {
            if (r < 0)
                return 2;
            continue;
        }
        if ((r = serve_http_opt(&http, opt, optarg)) != 0) {
            if (r < 0)
                return 2;
            continue;
        }
        if ((r = serve_pop3_opt(&pop3, opt, optarg)) != 0) {
            if (r < 0)
                return 2;
            continue;
        }
        switch (opt) {
        case 'C':
            control = optarg;
            break;
        case 'R':
            if (parse_dns_opt("serve", optarg, &ro) < 0)
                return 2;
            break;
        case 'D':
            dns.zonefile = optarg;
            break;
        case 'F':
            if (parse_seconds(optarg, &duration) < 0 || duration == 0) {
                fprintf(stderr, "tern serve: bad value '%s' for --for\n", optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(serve_help, stdout);
            fputs(serve_dhcp_help, stdout);
            fputs("\n", stdout);
            fputs(serve_dns_help, stdout);
            fputs("\n", stdout);
            fputs(serve_http_help, stdout);
            fputs("\n", stdout);
            fputs(serve_pop3_help, stdout);
            fputs("\n", stdout);
            fputs(serve_classic_help, stdout);
            fputs("\n", stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default: /* ':' missing value, '?' unknown */
            return tool_opt_error("serve", opt, argv);
        }
    }
    if (optind != argc) {
        fprintf(stderr, "tern serve: unexpected argument '%s' (try 'tern serve --help')\n",
                argv[optind]);
        return 2;
    }
    so.tapped = control != NULL; /* `tern dump --control` taps the device */
    struct tern_env env;
    int rc = env_open(&env, &so, "tern serve");
    if (rc)
        return rc;
    if ((rc = serve_dhcp_start(&dh, &env, &so)) != 0) {
        env_close(&env);
        return rc;
    }
    if ((rc = serve_classic_start(&classic, &env)) != 0) {
        serve_dhcp_stop(&dh);
        env_close(&env);
        return rc;
    }
    if ((rc = serve_dns_start(&dns, &env)) != 0) {
        serve_classic_stop(&classic);
        serve_dhcp_stop(&dh);
        env_close(&env);
        return rc;
    }
    if ((rc = serve_http_start(&http, &env)) != 0) {
        serve_dns_stop(&dns);
        serve_classic_stop(&classic);
        serve_dhcp_stop(&dh);
        env_close(&env);
        return rc;
    }
    if ((rc = serve_pop3_start(&pop3, &env)) != 0) {
        serve_http_stop(&http);
        serve_dns_stop(&dns);
        serve_classic_stop(&classic);
        serve_dhcp_stop(&dh);
        env_close(&env);
        return rc;
    }
    struct ctl_server *ctl = NULL;
    if (control && !(ctl = ctl_server_open(&env, control, "tern serve"))) {
        serve_pop3_stop(&pop3);
        serve_http_stop(&http);
        serve_dns_stop(&dns);
        serve_classic_stop(&classic);
        serve_dhcp_stop(&dh);
        env_close(&env);
        return 1;
    }
    if (ctl && ro.nservers)
        ctl_server_set_resolver(ctl, &ro);
    struct tool_signals sig;
    tool_signals_open(&sig, env.loop, true, on_signal, env.loop);
    struct tern_timer stop_timer;
    tern_timer_init(&stop_timer, on_timeout, env.loop);
    if (duration)
        tern_timer_arm(env.loop, &stop_timer, tern_loop_now(env.loop) + duration);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char a[16];
    struct tern_iface_config ic; /* --dhcp: the leased address */
    tern_iface_get(env.stack, env.ifindex, &ic);
    fprintf(stderr, "tern serve: %s/%u on %s, running\n", tern_ipv4_ntoa(ic.addr, a), ic.prefix_len,
            env.ifname);
    tern_loop_run(env.loop, TERN_TIME_NEVER);
    tern_timer_cancel(env.loop, &stop_timer);
    const struct tern_stats *st = tern_stack_stats(env.stack);
    fprintf(stderr,
            "tern serve: ip rx %llu tx %llu, icmp echo requests %llu, arp rx %llu, "
            "reassembled %llu, fragments sent %llu\n",
            (unsigned long long)st->ip.rx, (unsigned long long)st->ip.tx,
            (unsigned long long)st->icmp.echo_requests, (unsigned long long)st->arp.rx,
            (unsigned long long)st->ip.reasm_ok, (unsigned long long)st->ip.frag_tx);
    tool_signals_close(&sig);
    ctl_server_close(ctl);
    serve_pop3_stop(&pop3);
    serve_http_stop(&http);
    serve_dns_stop(&dns);
    serve_classic_stop(&classic);
    serve_dhcp_stop(&dh);
    rc = env.dev_gone.gone ? 1 : 0;
    env_close(&env);
    return rc;
}
