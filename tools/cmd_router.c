/*
 * tools/cmd_router.c - `tern router`: one tern stack with cfg.ip_forward on
 * two or more Linux TAP devices, forwarding IPv4 between them as an RFC 1812
 * router (src/core/forward.c) until SIGINT or SIGTERM, then printing its
 * forwarding counters. It also answers ping and sends the ICMP errors a
 * router sends (time exceeded: Linux traceroute shows it as a hop).
 * With --nat it translates (NAPT, src/core/nat.c) what leaves through the
 * named interfaces, with --forward it forwards ports inward, with
 * --firewall it filters new inbound flows by a rule file (docs/nat.md);
 * SIGUSR1 prints the table as `conntrack -L` does.
 * Not: dynamic routing, TUN devices.
 */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stackopts.h"
#include "tern/nat.h"
#include "tern/stack6.h"
#include "tools.h"

static const char router_help[] =
    "usage: tern router --tap IF A/P --tap IF A/P [...] [OPTIONS]\n"
    "       (--packet IF A/P in place of any --tap)\n"
    "Forward IPv4 between two or more TAP devices (up to 8) as a router: TTL\n"
    "decrement, longest-prefix routes, ICMP time exceeded / unreachable /\n"
    "fragmentation needed, fragmentation on a smaller MTU, equal-cost multipath.\n"
    "Runs until SIGINT or SIGTERM, then prints its counters to stderr.\n"
    "Exit status: 0 ok, 1 OS error (a TAP could not be opened or was removed),\n"
    "2 usage error.\n"
    "\n"
    "router options:\n"
    "  --tap IF A/P    an existing TAP device (needs root or CAP_NET_ADMIN) and the\n"
    "                  router's address and prefix length on it, e.g. --tap rt0 10.1.0.1/24;\n"
    "                  A/P,A6/P6 adds an IPv6 address (--tap rt0 10.1.0.1/24,fd00:1::1/64)\n"
    "                  and forwards IPv6 too (hop limit, time exceeded, packet too big;\n"
    "                  no fragmentation)\n"
    "  --packet IF A/P the same on an existing Ethernet interface (a veth end, a NIC)\n"
    "                  through AF_PACKET beside the kernel's stack, in promiscuous mode\n"
    "                  (needs root or CAP_NET_RAW; docs/packet.md)\n"
    "  --create        create the --tap devices that do not exist (removed at exit)\n"
    "  --no-offload    accepted as every command takes it; a router's TAPs always\n"
    "                  carry plain MTU-sized frames (a TCP segment the kernel left\n"
    "                  unsplit would not fit the next link)\n"
    "  --route D/P,GW  a static route: destination prefix D/P through gateway GW (on\n"
    "                  one of the TAPs' subnets); repeat a prefix for ECMP\n"
    "  --ecmp flow|packet  spread equal-cost routes per flow (default) or per packet\n"
    "  --mtu N         MTU of every TAP (68..the smallest TAP's MTU, default: the device's)\n"
    "  --pcap FILE     write each TAP's frames to a pcap: FILE with the device name\n"
    "                  before the extension (r.pcap -> r-rt0.pcap, r-rt1.pcap)\n"
    "  --trace         print every frame tcpdump-style as it passes\n"
    "  -h, --help      this help\n"
    "\n"
    "NAT and firewall (docs/nat.md):\n"
    "  --nat IF        translate (NAPT) datagrams leaving through TAP IF to its address\n"
    "  --nat-mapping eim|adm|apdm    mapping behaviour (RFC 4787; default eim)\n"
    "  --nat-filtering eif|adf|apdf  filtering behaviour (RFC 4787; default apdf)\n"
    "  --nat-port-parity             keep the inside port's parity (RFC 4787 REQ-4)\n"
    "  --nat-timeout KIND=S[,...]    idle timeouts in seconds: udp (300), tcp (7440),\n"
    "                  trans (240, TCP transitory), icmp (60); values under the RFC\n"
    "                  floors are for tests\n"
    "  --nat-max N     sessions in all (16384)\n"
    "  --nat-per-host N  sessions per inside host (2048, RFC 6888 REQ-4)\n"
    "  --forward P:EXT=A:PORT  port forwarding: P tcp or udp; new flows to port EXT\n"
    "                  of a --nat address go to A:PORT inside (repeatable)\n"
    "  --firewall [IF=]FILE  default-deny new inbound flows on IF (default: each\n"
    "                  --nat interface) except as FILE's rules allow (docs/nat.md)\n"
    "SIGUSR1 prints the NAT table to stdout as `conntrack -L` prints it.\n";

struct router_if {
    const char *name;
    bool packet; /* --packet: AF_PACKET on an existing interface, not a TAP */
    uint32_t addr;
    uint8_t prefix;
    bool have6; /* A/P,A6/P6: an IPv6 address too (IPv6 forwarding on) */
    struct tern_ipv6_addr addr6;
    uint8_t prefix6;
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
    /* NAT and firewall */
    const char *nat_if[TERN_MAX_IFACES];
    int nnat;
    struct tern_nat_config natc;
    struct router_fwd {
        uint8_t proto;
        uint16_t ext, port;
        uint32_t addr;
    } fwd[32];
    int nfwd;
    struct router_fw {
        const char *ifname; /* NULL: every --nat interface */
        const char *file;
    } fw[TERN_MAX_IFACES];
    int nfw;
    struct tern_loop *loop;
    struct tern_stack *stack;
};

static int if_index_of(const struct router *r, const char *name)
{
    for (int i = 0; i < r->nifs; i++)
        if (!strcmp(r->ifs[i].name, name))
            return i;
    return -1;
}

/* "tcp:8080=192.168.1.10:80" */
static int parse_forward(const char *arg, struct router_fwd *f)
{
    char proto[8], addr[32];
    unsigned ext, port;
    char tail;
    if (sscanf(arg, "%7[a-z]:%u=%31[0-9.]:%u%c", proto, &ext, addr, &port, &tail) != 4)
        return -1;
    if (!strcmp(proto, "tcp"))
        f->proto = 6;
    else if (!strcmp(proto, "udp"))
        f->proto = 17;
    else
        return -1;
    if (ext == 0 || ext > 65535 || port == 0 || port > 65535 || tern_ipv4_aton(addr, &f->addr) < 0)
        return -1;
    f->ext = (uint16_t)ext;
    f->port = (uint16_t)port;
    return 0;
}

/* "A.B.C.D/P" or "A.B.C.D" or "any" into addr/mask. */
static int parse_net(const char *w, uint32_t *addr, uint32_t *mask)
{
    if (!strcmp(w, "any")) {
        *addr = *mask = 0;
        return 0;
    }
    uint8_t p = 32;
    if (parse_addr_prefix(w, 32, addr, &p) < 0)
        return -1;
    *mask = p ? ~0u << (32 - p) : 0;
    return 0;
}

/* One rule line: "allow|deny PROTO [from NET] [to NET] [port N[-M]]";
 * 1 a rule, 0 blank/comment, -1 bad. */
static int parse_rule(char *line, struct tern_fw_rule *r)
{
    char *save = NULL, *w = strtok_r(line, " \t\r\n", &save);
    memset(r, 0, sizeof *r);
    if (!w || w[0] == '#')
        return 0;
    if (!strcmp(w, "allow"))
        r->allow = true;
    else if (strcmp(w, "deny"))
        return -1;
    w = strtok_r(NULL, " \t\r\n", &save);
    if (!w)
        return -1;
    if (!strcmp(w, "tcp"))
        r->proto = 6;
    else if (!strcmp(w, "udp"))
        r->proto = 17;
    else if (!strcmp(w, "icmp"))
        r->proto = 1;
    else if (strcmp(w, "all") && strcmp(w, "any"))
        return -1;
    while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
        if (w[0] == '#')
            break;
        char *v = strtok_r(NULL, " \t\r\n", &save);
        if (!v)
            return -1;
        if (!strcmp(w, "from")) {
            if (parse_net(v, &r->src, &r->src_mask) < 0)
                return -1;
        } else if (!strcmp(w, "to")) {
            if (parse_net(v, &r->dst, &r->dst_mask) < 0)
                return -1;
        } else if (!strcmp(w, "port")) {
            unsigned lo, hi;
            char tail;
            int k = sscanf(v, "%u-%u%c", &lo, &hi, &tail);
            if (k == 1)
                hi = lo;
            else if (k != 2)
                return -1;
            if (lo == 0 || hi < lo || hi > 65535 || (r->proto != 6 && r->proto != 17))
                return -1;
            r->dport_lo = (uint16_t)lo;
            r->dport_hi = (uint16_t)hi;
        } else {
            return -1;
        }
    }
    return 1;
}

/* Loads FILE's rules for ifindex; 0, or 2 with a message. */
static int load_rules(struct tern_stack *s, int ifindex, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "tern router: cannot read %s: %s\n", file, strerror(errno));
        return 2;
    }
    char line[512];
    int lineno = 0, rc = 0;
    if (tern_fw_rule_add(s, ifindex, NULL) < 0)
        rc = 2;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        struct tern_fw_rule r;
        int k = parse_rule(line, &r);
        if (k < 0) {
            fprintf(stderr, "tern router: %s:%d: bad rule (allow|deny tcp|udp|icmp|all "
                            "[from NET] [to NET] [port N[-M]])\n", file, lineno);
            rc = 2;
        } else if (k > 0 && tern_fw_rule_add(s, ifindex, &r) < 0) {
            fprintf(stderr, "tern router: %s:%d: too many rules\n", file, lineno);
            rc = 2;
        }
    }
    fclose(f);
    return rc;
}

static int parse_behavior(const char *v, const char *const names[3], enum tern_nat_behavior *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(v, names[i])) {
            *out = (enum tern_nat_behavior)i;
            return 0;
        }
    return -1;
}

/* "udp=5,tcp=7440" */
static int parse_timeouts(const char *arg, struct tern_nat_config *c)
{
    char buf[128];
    if (strlen(arg) >= sizeof buf)
        return -1;
    strcpy(buf, arg);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        unsigned long v;
        if (!eq)
            return -1;
        *eq = 0;
        if (parse_ulong(eq + 1, 1, 86400 * 7, &v) < 0)
            return -1;
        uint64_t us = (uint64_t)v * 1000000u;
        if (!strcmp(t, "udp"))
            c->udp_timeout_us = us;
        else if (!strcmp(t, "tcp"))
            c->tcp_est_timeout_us = us;
        else if (!strcmp(t, "trans"))
            c->tcp_trans_timeout_us = us;
        else if (!strcmp(t, "icmp"))
            c->icmp_timeout_us = us;
        else
            return -1;
    }
    return 0;
}

static struct tern_stack *usr1_stack;

static void print_conntrack(struct tern_stack *s)
{
    static char buf[1 << 20];
    size_t need = tern_nat_list(s, buf, sizeof buf);
    fputs(buf, stdout);
    if (need >= sizeof buf)
        printf("(table truncated: %zu bytes)\n", need);
    const struct tern_nat_stats *st = tern_nat_stats(s);
    if (st)
        printf("conntrack v1.4.7 (tern): %" PRIu64 " flow entries have been shown.\n",
               st->entries);
    fflush(stdout);
}

static void on_signal(int signo, void *loop)
{
    if (signo == SIGUSR1) {
        if (usr1_stack)
            print_conntrack(usr1_stack);
    } else {
        tern_loop_stop(loop);
    }
}

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

static void print_stats(struct tern_stack *s)
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
    const struct tern_stats6 *s6 = tern_stack_stats6(s);
    if (s6)
        fprintf(stderr,
                "tern router: IPv6: %" PRIu64 " received, %" PRIu64 " forwarded; dropped: %" PRIu64
                " hop limit expired, %" PRIu64 " no route, %" PRIu64 " too big, %" PRIu64
                " output errors\n",
                s6->rx, s6->forwarded, s6->fwd_hop_limit, s6->fwd_no_route, s6->fwd_too_big,
                s6->fwd_errors);
    const struct tern_nat_stats *n = tern_nat_stats((struct tern_stack *)s);
    if (n)
        fprintf(stderr,
                "tern router: NAT: %" PRIu64 " out, %" PRIu64 " in, %" PRIu64 " hairpinned, %" PRIu64
                " ICMP errors translated; sessions %" PRIu64 " created, %" PRIu64 " expired, %" PRIu64
                " evicted, %" PRIu64 " live; dropped %" PRIu64 " by filter, %" PRIu64
                " by quota, %" PRIu64 " unmatched; firewall %" PRIu64 " allowed, %" PRIu64
                " denied\n",
                n->out, n->in, n->hairpin, n->icmp_errors, n->created, n->expired, n->evicted,
                n->entries, n->drop_filter, n->drop_quota, n->drop_nomatch, n->fw_allow,
                n->fw_deny);
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
        if (f->packet) {
            f->dev = tern_packet_open(r->loop, f->name, TERN_PACKET_PROMISC);
            if (!f->dev) {
                tool_packet_open_error("tern router", f->name, errno);
                return 1;
            }
        } else {
            f->dev = tern_tuntap_open(r->loop, f->name, TERN_LINK_ETHERNET,
                                      r->create ? TERN_TUNTAP_CREATE : 0);
        }
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
    for (int i = 0; i < r->nifs; i++)
        cfg.ipv6 |= r->ifs[i].have6; /* IPv6 only when an interface has an address */
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
        if (r->ifs[i].have6) {
            int rc = tern_stack_add_addr6(r->stack, ifx[i], &r->ifs[i].addr6, r->ifs[i].prefix6);
            if (rc < 0) {
                fprintf(stderr, "tern router: %s: IPv6 address: %s\n", r->ifs[i].name,
                        tern_strerror(rc));
                return 2;
            }
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
    for (int k = 0; k < r->nnat; k++) {
        int rc = tern_nat_enable(r->stack, ifx[if_index_of(r, r->nat_if[k])], &r->natc);
        if (rc < 0) {
            fprintf(stderr, "tern router: --nat %s: %s\n", r->nat_if[k], tern_strerror(rc));
            return 2;
        }
    }
    for (int k = 0; k < r->nfwd; k++) {
        int rc = tern_nat_forward_add(r->stack, r->fwd[k].proto, r->fwd[k].ext, r->fwd[k].addr,
                                      r->fwd[k].port);
        if (rc < 0) {
            fprintf(stderr, "tern router: --forward: %s (a port given twice?)\n",
                    tern_strerror(rc));
            return 2;
        }
    }
    for (int k = 0; k < r->nfw; k++) {
        for (int j = 0; j < r->nnat || r->fw[k].ifname; j++) {
            const char *name = r->fw[k].ifname ? r->fw[k].ifname : r->nat_if[j];
            int rc = load_rules(r->stack, ifx[if_index_of(r, name)], r->fw[k].file);
            if (rc)
                return rc;
            if (r->fw[k].ifname)
                break;
        }
    }
    return 0;
}

int cmd_router(int argc, char **argv)
{
    enum { O_TAP = 1000, O_ROUTE, O_ECMP, O_MTU, O_PCAP, O_TRACE, O_CREATE, O_NAT, O_NATMAP,
           O_NATFILT, O_NATPAR, O_NATTMO, O_NATMAX, O_NATHOST, O_FWD, O_FW, O_NOOFF, O_PACKET };
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {"tap", required_argument, NULL, O_TAP},
                                         {"packet", required_argument, NULL, O_PACKET},
                                         {"route", required_argument, NULL, O_ROUTE},
                                         {"ecmp", required_argument, NULL, O_ECMP},
                                         {"mtu", required_argument, NULL, O_MTU},
                                         {"pcap", required_argument, NULL, O_PCAP},
                                         {"trace", no_argument, NULL, O_TRACE},
                                         {"create", no_argument, NULL, O_CREATE},
                                         {"no-offload", no_argument, NULL, O_NOOFF},
                                         {"nat", required_argument, NULL, O_NAT},
                                         {"nat-mapping", required_argument, NULL, O_NATMAP},
                                         {"nat-filtering", required_argument, NULL, O_NATFILT},
                                         {"nat-port-parity", no_argument, NULL, O_NATPAR},
                                         {"nat-timeout", required_argument, NULL, O_NATTMO},
                                         {"nat-max", required_argument, NULL, O_NATMAX},
                                         {"nat-per-host", required_argument, NULL, O_NATHOST},
                                         {"forward", required_argument, NULL, O_FWD},
                                         {"firewall", required_argument, NULL, O_FW},
                                         {NULL, 0, NULL, 0}};
    static const char *const maps[3] = {"eim", "adm", "apdm"};
    static const char *const filts[3] = {"eif", "adf", "apdf"};
    struct router r;
    memset(&r, 0, sizeof r);
    tern_nat_config_defaults(&r.natc);
    unsigned long v;
    int opt;
    opterr = 0;
    optind = 1;
    /* "+": no permutation, so --tap's second value is the next argv word */
    while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (opt) {
        case O_PACKET:
        case O_TAP: {
            const char *on = opt == O_PACKET ? "--packet" : "--tap";
            if (r.nifs >= TERN_MAX_IFACES) {
                fprintf(stderr, "tern router: at most %d --tap/--packet devices\n", TERN_MAX_IFACES);
                return 2;
            }
            struct router_if *f = &r.ifs[r.nifs];
            f->name = optarg;
            f->packet = opt == O_PACKET;
            if (optind >= argc || argv[optind][0] == '-') {
                fprintf(stderr, "tern router: %s %s needs an address: %s IF A/P\n", on, optarg, on);
                return 2;
            }
            const char *a = argv[optind++];
            if (!*f->name || strlen(f->name) >= 16) {
                fprintf(stderr, "tern router: bad %s name '%s'\n", f->packet ? "interface" : "TAP",
                        f->name);
                return 2;
            }
            char a4[64];
            const char *comma = strchr(a, ',');
            snprintf(a4, sizeof a4, "%.*s", comma ? (int)(comma - a) : (int)strlen(a), a);
            if (comma) {
                if (parse_addr6_prefix(comma + 1, 64, &f->addr6, &f->prefix6) < 0 ||
                    tern_ipv6_is_link_local(&f->addr6)) {
                    fprintf(stderr, "tern router: bad IPv6 address '%s' for %s %s\n", comma + 1,
                            on, f->name);
                    return 2;
                }
                f->have6 = true;
            }
            a = a4;
            if (!strchr(a, '/') || parse_addr_prefix(a, 24, &f->addr, &f->prefix) < 0 ||
                f->addr == 0 || f->prefix == 0 || f->prefix > 30) {
                fprintf(stderr, "tern router: bad address '%s' for %s %s (A.B.C.D/P, P 1..30)\n",
                        a, on, f->name);
                return 2;
            }
            for (int i = 0; i < r.nifs; i++)
                if (!strcmp(r.ifs[i].name, f->name)) {
                    fprintf(stderr, "tern router: %s %s given twice\n", on, f->name);
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
        case O_NOOFF:
            break; /* the router's only mode (see its help) */
        case O_NAT:
            if (r.nnat >= TERN_MAX_IFACES) {
                fprintf(stderr, "tern router: too many --nat\n");
                return 2;
            }
            r.nat_if[r.nnat++] = optarg;
            break;
        case O_NATMAP:
            if (parse_behavior(optarg, maps, &r.natc.mapping) < 0) {
                fprintf(stderr, "tern router: bad value '%s' for --nat-mapping (eim, adm, apdm)\n",
                        optarg);
                return 2;
            }
            break;
        case O_NATFILT:
            if (parse_behavior(optarg, filts, &r.natc.filtering) < 0) {
                fprintf(stderr,
                        "tern router: bad value '%s' for --nat-filtering (eif, adf, apdf)\n",
                        optarg);
                return 2;
            }
            break;
        case O_NATPAR:
            r.natc.port_parity = true;
            break;
        case O_NATTMO:
            if (parse_timeouts(optarg, &r.natc) < 0) {
                fprintf(stderr, "tern router: bad value '%s' for --nat-timeout "
                                "(udp|tcp|trans|icmp=SECONDS,...)\n", optarg);
                return 2;
            }
            break;
        case O_NATMAX:
        case O_NATHOST:
            if (parse_ulong(optarg, 1, 1u << 22, &v) < 0) {
                fprintf(stderr, "tern router: bad value '%s' for %s\n", optarg,
                        opt == O_NATMAX ? "--nat-max" : "--nat-per-host");
                return 2;
            }
            if (opt == O_NATMAX)
                r.natc.max_entries = (uint32_t)v;
            else
                r.natc.max_per_host = (uint32_t)v;
            break;
        case O_FWD:
            if (r.nfwd >= 32 || parse_forward(optarg, &r.fwd[r.nfwd]) < 0) {
                fprintf(stderr, "tern router: bad value '%s' for --forward "
                                "(tcp|udp:EXTPORT=A.B.C.D:PORT, at most 32)\n", optarg);
                return 2;
            }
            r.nfwd++;
            break;
        case O_FW: {
            if (r.nfw >= TERN_MAX_IFACES) {
                fprintf(stderr, "tern router: too many --firewall\n");
                return 2;
            }
            const char *eq = strchr(optarg, '=');
            r.fw[r.nfw].file = eq ? eq + 1 : optarg;
            r.fw[r.nfw].ifname = NULL;
            if (eq) {
                static char names[TERN_MAX_IFACES][16];
                if ((size_t)(eq - optarg) >= sizeof names[0]) {
                    fprintf(stderr, "tern router: bad interface in --firewall '%s'\n", optarg);
                    return 2;
                }
                memcpy(names[r.nfw], optarg, (size_t)(eq - optarg));
                names[r.nfw][eq - optarg] = 0;
                r.fw[r.nfw].ifname = names[r.nfw];
            }
            r.nfw++;
            break;
        }
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
        fprintf(stderr, "tern router: give at least two --tap IF A/P or --packet IF A/P (try 'tern router --help')\n");
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
    for (int k = 0; k < r.nnat; k++)
        if (if_index_of(&r, r.nat_if[k]) < 0) {
            fprintf(stderr, "tern router: --nat %s: no such --tap\n", r.nat_if[k]);
            return 2;
        }
    for (int k = 0; k < r.nfw; k++) {
        if (r.fw[k].ifname && if_index_of(&r, r.fw[k].ifname) < 0) {
            fprintf(stderr, "tern router: --firewall %s: no such --tap\n", r.fw[k].ifname);
            return 2;
        }
        if (!r.fw[k].ifname && r.nnat == 0) {
            fprintf(stderr, "tern router: --firewall FILE needs --nat IF (or use IF=FILE)\n");
            return 2;
        }
    }
    if (r.nfwd && r.nnat == 0) {
        fprintf(stderr, "tern router: --forward needs --nat IF\n");
        return 2;
    }
    int rc = router_open(&r);
    if (rc) {
        router_close(&r);
        return rc;
    }
    for (int i = 0; i < r.nifs; i++) {
        char a[16];
        bool nat = false;
        for (int k = 0; k < r.nnat; k++)
            nat |= !strcmp(r.nat_if[k], r.ifs[i].name);
        fprintf(stderr, "tern router: %s %s/%u%s\n", r.ifs[i].name,
                tern_ipv4_ntoa(r.ifs[i].addr, a), r.ifs[i].prefix, nat ? " (NAT outside)" : "");
    }
    fprintf(stderr, "tern router: forwarding (SIGINT or SIGTERM to stop)\n");
    struct tool_signals sig;
    usr1_stack = r.stack;
    tool_signals_open(&sig, r.loop, true, on_signal, r.loop);
    tern_loop_run(r.loop, TERN_TIME_NEVER);
    tool_signals_close(&sig);
    if (r.trace)
        fflush(stdout);
    print_stats(r.stack);
    rc = 0;
    for (int i = 0; i < r.nifs; i++)
        if (r.gone[i].gone)
            rc = 1;
    usr1_stack = NULL;
    router_close(&r);
    return rc;
}
