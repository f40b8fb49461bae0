/*
 * tools/cmd_router.c - `tern router`: one tern stack with cfg.ip_forward on
 * two or more Linux TAP devices, forwarding IPv4 between them as an RFC 1812
 * router (src/core/forward.c) until SIGINT or SIGTERM, then printing its
 * forwarding counters. It also answers ping and sends the ICMP errors a
 * router sends (time exceeded: Linux traceroute shows it as a hop).
 * Not: dynamic routing, NAT, firewalling, TUN devices.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stackopts.h"
#include "tools.h"

static const char router_help[] =
    "usage: tern router --tap IF A/P --tap IF A/P [...] [OPTIONS]\n"
    "Forward IPv4 between two or more TAP devices (up to 8) as a router: TTL\n"
    "decrement, longest-prefix routes, ICMP time exceeded / unreachable /\n"
    "fragmentation needed, fragmentation on a smaller MTU, equal-cost multipath.\n"
    "Runs until SIGINT or SIGTERM, then prints its counters to stderr.\n"
    "Exit status: 0 ok, 1 OS error (a TAP could not be opened or was removed),\n"
    "2 usage error.\n"
    "\n"
    "router options:\n"
    "  --tap IF A/P    an existing TAP device (needs root or CAP_NET_ADMIN) and the\n"
    "                  router's address and prefix length on it, e.g. --tap rt0 10.1.0.1/24\n"
    "  --create        create the --tap devices that do not exist (removed at exit)\n"
    "  --route D/P,GW  a static route: destination prefix D/P through gateway GW (on\n"
    "                  one of the TAPs' subnets); repeat a prefix for ECMP\n"
    "  --ecmp flow|packet  spread equal-cost routes per flow (default) or per packet\n"
    "  --mtu N         MTU of every TAP (68..the smallest TAP's MTU, default: the device's)\n"
    "  --pcap FILE     write each TAP's frames to a pcap: FILE with the device name\n"
    "                  before the extension (r.pcap -> r-rt0.pcap, r-rt1.pcap)\n"
    "  --trace         print every frame tcpdump-style as it passes\n"
    "  -h, --help      this help\n";

struct router_if {
    const char *name;
    uint32_t addr;
    uint8_t prefix;
    FILE *pcap;
    struct tern_device *dev;
};

struct router_route {
    uint32_t dst, gw;
    uint8_t prefix;
};

struct router {
    struct router_if ifs[TERN_MAX_IFACES];
    int nifs;
    struct router_route routes[TERN_MAX_ROUTES];
    int nroutes;
    enum tern_ecmp_mode ecmp;
    uint16_t mtu;
    const char *pcap;
    bool trace;
    bool create;
    struct tool_dev_gone gone[TERN_MAX_IFACES]; /* a TAP deleted under us: exit 1 */
    struct tern_loop *loop;
    struct tern_stack *stack;
};

/* "D/P,GW" */
static int parse_route(const char *arg, struct router_route *r)
{
    char buf[64];
    const char *comma = strchr(arg, ',');
    if (!comma || (size_t)(comma - arg) >= sizeof buf)
        return -1;
    memcpy(buf, arg, (size_t)(comma - arg));
    buf[comma - arg] = 0;
    if (!strchr(buf, '/') || parse_addr_prefix(buf, 32, &r->dst, &r->prefix) < 0)
        return -1;
    return tern_ipv4_aton(comma + 1, &r->gw) < 0 || r->gw == 0 ? -1 : 0;
}

/* The index in r->ifs of the TAP whose subnet holds gw, or -1. */
static int route_iface(const struct router *r, uint32_t gw)
{
    for (int i = 0; i < r->nifs; i++) {
        uint32_t m = ~0u << (32 - r->ifs[i].prefix); /* prefix 1..30 */
        if ((gw & m) == (r->ifs[i].addr & m))
            return i;
    }
    return -1;
}

/* FILE with "-IF" before its extension. */
static void pcap_name(const char *file, const char *ifname, char *out, size_t cap)
{
    const char *slash = strrchr(file, '/');
    const char *dot = strrchr(file, '.');
    if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : file))
        snprintf(out, cap, "%s-%s", file, ifname);
    else
        snprintf(out, cap, "%.*s-%s%s", (int)(dot - file), file, ifname, dot);
}

static void print_stats(const struct tern_stack *s)
{
    const struct tern_stats *st = tern_stack_stats(s);
    fprintf(stderr,
            "tern router: %" PRIu64 " datagrams received, %" PRIu64 " forwarded (%" PRIu64
            " fragmented), %" PRIu64 " for the router itself\n",
            st->ip.rx, st->ip.forwarded, st->ip.fwd_fragmented, st->ip.delivered);
    fprintf(stderr,
            "tern router: dropped: %" PRIu64 " TTL expired, %" PRIu64 " no route, %" PRIu64
            " too big with DF, %" PRIu64 " output errors, %" PRIu64 " waiting for ARP\n",
            st->ip.drop_ttl, st->ip.fwd_no_route, st->ip.fwd_needfrag, st->ip.fwd_errors,
            st->arp.queue_drops);
    fprintf(stderr,
            "tern router: ICMP errors sent %" PRIu64 " (%" PRIu64 " held back by the rate limit)"
            ", echo replies sent %" PRIu64 "\n",
            st->icmp.errors_tx, st->icmp.errors_rate_limited, st->icmp.echo_replies_tx);
}

static void router_close(struct router *r)
{
    tern_stack_free(r->stack);
    for (int i = 0; i < r->nifs; i++) {
        tern_device_destroy(r->ifs[i].dev);
        if (r->ifs[i].pcap)
            fclose(r->ifs[i].pcap);
    }
    if (r->loop)
        tern_loop_destroy(r->loop);
}

/* Opens the devices, builds the stack; 0, or 1/2 with one line printed. */
static int router_open(struct router *r)
{
    r->loop = tern_loop_real_new(NULL, NULL);
    if (!r->loop) {
        fprintf(stderr, "tern router: event loop: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < r->nifs; i++) {
        struct router_if *f = &r->ifs[i];
        f->dev = tern_tuntap_open(r->loop, f->name, TERN_LINK_ETHERNET,
                                  r->create ? TERN_TUNTAP_CREATE : 0);
        if (!f->dev) {
            tool_dev_open_error("tern router", f->name, true, errno);
            return 1;
        }
        if (tool_check_mtu("tern router", f->dev, r->mtu) < 0)
            return 2;
        if (r->pcap || r->trace) {
            char path[4096];
            if (r->pcap) {
                pcap_name(r->pcap, f->name, path, sizeof path);
                if (!(f->pcap = fopen(path, "wb"))) {
                    fprintf(stderr, "tern router: cannot write %s: %s\n", path, strerror(errno));
                    return 1;
                }
            }
            struct tern_device *t = tool_trace_wrap(r->loop, f->dev, f->pcap, r->trace);
            if (!t) {
                fprintf(stderr, "tern router: cannot set up --pcap/--trace\n");
                return 1;
            }
            f->dev = t;
        }
        r->gone[i] = (struct tool_dev_gone){.name = f->name, .loop = r->loop};
        tern_device_set_down(f->dev, tool_dev_down, &r->gone[i]);
    }
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = tool_os_seed();
    cfg.ip_forward = true;
    cfg.ecmp = r->ecmp;
    r->stack = tern_stack_new(&cfg, r->loop);
    if (!r->stack) {
        fprintf(stderr, "tern router: cannot create the stack\n");
        return 1;
    }
    int ifx[TERN_MAX_IFACES];
    for (int i = 0; i < r->nifs; i++) {
        struct tern_iface_config ic = {.addr = r->ifs[i].addr, .prefix_len = r->ifs[i].prefix,
                                       .mtu = r->mtu, .up = true};
        ifx[i] = tern_stack_add_iface(r->stack, r->ifs[i].dev, &ic);
        if (ifx[i] < 0) {
            fprintf(stderr, "tern router: %s: interface setup: %s\n", r->ifs[i].name,
                    tern_strerror(ifx[i]));
            return 2;
        }
    }
    for (int k = 0; k < r->nroutes; k++) {
        const struct router_route *rt = &r->routes[k];
        char g[16];
        int rc = tern_route_add(r->stack, rt->dst, rt->prefix, rt->gw, ifx[route_iface(r, rt->gw)]);
        if (rc < 0) {
            fprintf(stderr, "tern router: --route via %s: %s\n", tern_ipv4_ntoa(rt->gw, g),
                    tern_strerror(rc));
            return 2;
        }
    }
    return 0;
}

int cmd_router(int argc, char **argv)
{
    enum { O_TAP = 1000, O_ROUTE, O_ECMP, O_MTU, O_PCAP, O_TRACE, O_CREATE };
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {"tap", required_argument, NULL, O_TAP},
                                         {"route", required_argument, NULL, O_ROUTE},
                                         {"ecmp", required_argument, NULL, O_ECMP},
                                         {"mtu", required_argument, NULL, O_MTU},
                                         {"pcap", required_argument, NULL, O_PCAP},
                                         {"trace", no_argument, NULL, O_TRACE},
                                         {"create", no_argument, NULL, O_CREATE},
                                         {NULL, 0, NULL, 0}};
    struct router r;
    memset(&r, 0, sizeof r);
    unsigned long v;
    int opt;
    opterr = 0;
    optind = 1;
    /* "+": no permutation, so --tap's second value is the next argv word */
    while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (opt) {
        case O_TAP: {
            if (r.nifs >= TERN_MAX_IFACES) {
                fprintf(stderr, "tern router: at most %d --tap devices\n", TERN_MAX_IFACES);
                return 2;
            }
            struct router_if *f = &r.ifs[r.nifs];
            f->name = optarg;
            if (optind >= argc || argv[optind][0] == '-') {
                fprintf(stderr, "tern router: --tap %s needs an address: --tap IF A/P\n", optarg);
                return 2;
            }
            const char *a = argv[optind++];
            if (!*f->name || strlen(f->name) >= 16) {
                fprintf(stderr, "tern router: bad TAP name '%s'\n", f->name);
                return 2;
            }
            if (!strchr(a, '/') || parse_addr_prefix(a, 24, &f->addr, &f->prefix) < 0 ||
                f->addr == 0 || f->prefix == 0 || f->prefix > 30) {
                fprintf(stderr, "tern router: bad address '%s' for --tap %s (A.B.C.D/P, P 1..30)\n",
                        a, f->name);
                return 2;
            }
            for (int i = 0; i < r.nifs; i++)
                if (!strcmp(r.ifs[i].name, f->name)) {
                    fprintf(stderr, "tern router: --tap %s given twice\n", f->name);
                    return 2;
                }
            r.nifs++;
            break;
        }
        case O_ROUTE:
            if (r.nroutes >= TERN_MAX_ROUTES - TERN_MAX_IFACES) {
                fprintf(stderr, "tern router: too many --route\n");
                return 2;
            }
            if (parse_route(optarg, &r.routes[r.nroutes]) < 0) {
                fprintf(stderr, "tern router: bad value '%s' for --route (D.D.D.D/P,GW)\n", optarg);
                return 2;
            }
            r.nroutes++;
            break;
        case O_ECMP:
            if (!strcmp(optarg, "flow"))
                r.ecmp = TERN_ECMP_FLOW;
            else if (!strcmp(optarg, "packet"))
                r.ecmp = TERN_ECMP_PACKET;
            else {
                fprintf(stderr, "tern router: bad value '%s' for --ecmp (flow or packet)\n", optarg);
                return 2;
            }
            break;
        case O_MTU:
            if (parse_ulong(optarg, 68, 65535, &v) < 0) {
                fprintf(stderr, "tern router: bad value '%s' for --mtu\n", optarg);
                return 2;
            }
            r.mtu = (uint16_t)v;
            break;
        case O_PCAP:
            r.pcap = optarg;
            break;
        case O_TRACE:
            r.trace = true;
            break;
        case O_CREATE:
            r.create = true;
            break;
        case 'h':
            fputs(router_help, stdout);
            return 0;
        default: /* ':' missing value, '?' unknown */
            return tool_opt_error("router", opt, argv);
        }
    }
    if (optind != argc) {
        fprintf(stderr, "tern router: unexpected argument '%s' (try 'tern router --help')\n",
                argv[optind]);
        return 2;
    }
    if (r.nifs < 2) {
        fprintf(stderr, "tern router: give at least two --tap IF A/P (try 'tern router --help')\n");
        return 2;
    }
    for (int k = 0; k < r.nroutes; k++) {
        if (route_iface(&r, r.routes[k].gw) < 0) {
            char g[16];
            fprintf(stderr, "tern router: --route: gateway %s is on none of the TAPs' subnets\n",
                    tern_ipv4_ntoa(r.routes[k].gw, g));
            return 2;
        }
    }
    int rc = router_open(&r);
    if (rc) {
        router_close(&r);
        return rc;
    }
    for (int i = 0; i < r.nifs; i++) {
        char a[16];
        fprintf(stderr, "tern router: %s %s/%u\n", r.ifs[i].name,
                tern_ipv4_ntoa(r.ifs[i].addr, a), r.ifs[i].prefix);
    }
    fprintf(stderr, "tern router: forwarding (SIGINT or SIGTERM to stop)\n");
    struct tool_signals sig;
    tool_signals_open(&sig, r.loop, false, tool_stop_loop, r.loop);
    tern_loop_run(r.loop, TERN_TIME_NEVER);
    tool_signals_close(&sig);
    if (r.trace)
        fflush(stdout);
    print_stats(r.stack);
    rc = 0;
    for (int i = 0; i < r.nifs; i++)
        if (r.gone[i].gone)
            rc = 1;
    router_close(&r);
    return rc;
}
