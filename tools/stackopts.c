/* tools/stackopts.c - common stack flags and environment wiring. */
#include "stackopts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "app/dhcp_client.h"
#include "app/hosts.h"
#include "app/stable_mac.h"
#include "app/resolver.h"
#include "tern/stack6.h"
#include "tern/wire/eth.h"

#define DHCP_WAIT_US 30000000 /* --dhcp: give up after 30 s without a lease */

const struct option stackopt_longopts[] = {
    {"tap", required_argument, NULL, STACKOPT_BASE + 0},
    {"tun", required_argument, NULL, STACKOPT_BASE + 1},
    {"addr", required_argument, NULL, STACKOPT_BASE + 2},
    {"gw", required_argument, NULL, STACKOPT_BASE + 3},
    {"mtu", required_argument, NULL, STACKOPT_BASE + 4},
    {"mac", required_argument, NULL, STACKOPT_BASE + 5},
    {"pcap", required_argument, NULL, STACKOPT_BASE + 6},
    {"trace", no_argument, NULL, STACKOPT_BASE + 7},
    {"dhcp", no_argument, NULL, STACKOPT_BASE + 8},
    {"impair", required_argument, NULL, STACKOPT_BASE + 9},
    {"create", no_argument, NULL, STACKOPT_BASE + 10},
    {"dhcp-fast", no_argument, NULL, STACKOPT_BASE + 11},
    {"no-offload", no_argument, NULL, STACKOPT_BASE + 12},
    {"packet", required_argument, NULL, STACKOPT_BASE + 13},
    {NULL, 0, NULL, 0},
};

const char stackopt_help[] =
    "stack options:\n"
    "  --tap IF        use the existing Linux TAP device IF (Ethernet), e.g. made by\n"
    "                  'ip tuntap add dev IF mode tap' (needs root or CAP_NET_ADMIN)\n"
    "  --tun IF        use the existing Linux TUN device IF (raw IPv4, no ARP)\n"
    "  --packet IF     use the existing Linux interface IF (a veth, a NIC) through an\n"
    "                  AF_PACKET socket beside the kernel's stack, in promiscuous mode\n"
    "                  (needs root or CAP_NET_RAW; give the kernel no address on IF and\n"
    "                  'ip link set IF arp off': see docs/packet.md)\n"
    "  --create        create the --tap/--tun device if it does not exist (removed\n"
    "                  again at exit); without it a missing device is an error\n"
    "  --addr A/P      our address and prefix length, IPv4 (10.0.0.2/24) or IPv6\n"
    "                  (fd00:77::2/64); repeatable (one IPv4, up to 4 IPv6). IPv6 always\n"
    "                  has a link-local address; RAs add SLAAC addresses\n"
    "  --gw G          default gateway (IPv4 or IPv6)\n"
    "  --no-offload    plain frames on the TAP/TUN: no checksum or TCP segmentation\n"
    "                  offload (by default tern sends TCP segments up to 64 KiB that\n"
    "                  the kernel cuts, and takes the kernel's unsplit ones; off\n"
    "                  with --impair, which works on MTU-sized frames)\n"
    "  --mtu N         interface MTU, 68..(the device's MTU) (default: the device's)\n"
    "  --mac M         our MAC address (default on TAP/packet: the same for IF every run,\n"
    "                  derived from /etc/machine-id and IF, locally administered)\n"
    "  --pcap FILE     write every frame to FILE (pcap)\n"
    "  --trace         print every frame tcpdump-style as it passes\n"
    "  --dhcp          get address, router and DNS by DHCP instead of --addr (on TAP\n"
    "                  or packet devices); the offered address is probed with ARP\n"
    "                  first (RFC 5227, ~1-2 s)\n"
    "  --dhcp-fast     --dhcp without the ARP probe (as dhcpcd's noarp): faster, but an\n"
    "                  address another host already uses is taken anyway\n"
    "  --impair SPEC   impair frames both ways, e.g. loss=5%,reorder=5%,dup=1%,delay=2ms\n"
    "                  keys: loss dup reorder corrupt (% or 0..1), delay jitter\n"
    "                  reorder-delay (us/ms/s, default ms), rate (bit/s, k/M/G), seed\n"
    "If the device is deleted while the command runs, it prints\n"
    "'tern: IF: device removed' and exits with status 1.\n";

static const char impair_keys[] =
    "loss, dup, reorder, corrupt, delay, jitter, reorder-delay, rate, seed";

/* "loss=5%,reorder=5%,delay=2ms,seed=7" into *imp. 0 ok; -1 bad, with why
 * (one phrase naming the item at fault) in why[0..wlen). */
static int parse_impair(const char *spec, struct tern_impair *imp, char *why, size_t wlen)
{
    memset(imp, 0, sizeof *imp);
    imp->reorder_delay_us = 10000;
    char buf[256];
    if (strlen(spec) >= sizeof buf) {
        snprintf(why, wlen, "too long (at most %zu characters)", sizeof buf - 1);
        return -1;
    }
    strcpy(buf, spec);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1]) {
            snprintf(why, wlen, "'%s' is not KEY=VALUE (keys: %s)", tok, impair_keys);
            return -1;
        }
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        bool is_rate = !strcmp(k, "loss") || !strcmp(k, "dup") || !strcmp(k, "reorder") ||
                    !strcmp(k, "corrupt");
        bool is_time = !strcmp(k, "delay") || !strcmp(k, "jitter") || !strcmp(k, "reorder-delay");
        if (!is_rate && !is_time && strcmp(k, "rate") && strcmp(k, "seed")) {
            snprintf(why, wlen, "unknown key '%s' (keys: %s)", k, impair_keys);
            return -1;
        }
        const char *expect = is_rate ? "a fraction 0..1 or a percentage, e.g. 5%"
                             : is_time ? "a time up to 60 s, e.g. 20ms, 500us, 1s (default ms)"
                             : !strcmp(k, "rate") ? "bit/s with an optional k, M or G, e.g. 10M"
                                                  : "a whole number";
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        bool bad = errno || end == v || !(x >= 0);
        if (!bad && is_rate) {
            if (!strcmp(end, "%"))
                x /= 100;
            else if (*end)
                bad = true;
            if (x > 1)
                bad = true;
            if (!bad)
                *(!strcmp(k, "loss") ? &imp->loss
                  : !strcmp(k, "dup") ? &imp->dup
                  : !strcmp(k, "reorder") ? &imp->reorder
                                          : &imp->corrupt) = x;
        } else if (!bad && is_time) {
            double mult = !strcmp(end, "us") ? 1 : !strcmp(end, "s") ? 1e6
                          : (!*end || !strcmp(end, "ms")) ? 1e3 : -1;
            if (mult < 0 || x * mult > 60e6)
                bad = true;
            else
                *(!strcmp(k, "delay") ? &imp->delay_us
                  : !strcmp(k, "jitter") ? &imp->jitter_us : &imp->reorder_delay_us) =
                    (uint64_t)(x * mult + 0.5);
        } else if (!bad && !strcmp(k, "rate")) {
            double mult = !*end ? 1 : !strcmp(end, "k") ? 1e3 : !strcmp(end, "M") ? 1e6
                          : !strcmp(end, "G") ? 1e9 : -1;
            if (mult < 0 || x * mult > 1e12)
                bad = true;
            else
                imp->rate_bps = (uint64_t)(x * mult);
        } else if (!bad) { /* seed */
            if (*end || x != (double)(uint64_t)x)
                bad = true;
            else
                imp->seed = (uint64_t)x;
        }
        if (bad) {
            snprintf(why, wlen, "bad value '%s' for %s (expected %s)", v, k, expect);
            return -1;
        }
    }
    return 0;
}

int tool_opt_error(const char *cmd, int opt, char **argv)
{
    const char *a = argv[optind - 1];
    char name[64];
    if (a[0] == '-' && a[1] != '-' && optopt > 0 && optopt < 128)
        snprintf(name, sizeof name, "-%c", optopt); /* a short option, maybe in a cluster */
    else
        snprintf(name, sizeof name, "%.*s", (int)strcspn(a, "="), a);
    if (opt == ':')
        fprintf(stderr, "tern %s: option '%s' needs a value (try 'tern %s --help')\n", cmd, name, cmd);
    else
        fprintf(stderr, "tern %s: unknown option '%s' (try 'tern %s --help')\n", cmd, name, cmd);
    return 2;
}

int tool_caught_signal;

int tool_interrupted_status(void)
{
    return tool_caught_signal ? 128 + tool_caught_signal : TOOL_EXIT_INTERRUPTED;
}

static void signals_readable(int fd, void *arg)
{
    struct tool_signals *t = arg;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        tool_caught_signal = (int)si.ssi_signo;
        t->fn((int)si.ssi_signo, t->ctx);
    }
}

static void signals_open_mask(struct tool_signals *t, struct tern_loop *loop,
                              const sigset_t *maskp, void (*fn)(int signo, void *ctx), void *ctx);

void tool_signals_open(struct tool_signals *t, struct tern_loop *loop, bool usr1,
                       void (*fn)(int signo, void *ctx), void *ctx)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (usr1)
        sigaddset(&mask, SIGUSR1);
    signals_open_mask(t, loop, &mask, fn, ctx);
}

void tool_signals_open_all(struct tool_signals *t, struct tern_loop *loop,
                           void (*fn)(int signo, void *ctx), void *ctx)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE,
                               SIGALRM};
    sigset_t mask;
    sigemptyset(&mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&mask, sigs[i]);
    signals_open_mask(t, loop, &mask, fn, ctx);
}

static void signals_open_mask(struct tool_signals *t, struct tern_loop *loop,
                              const sigset_t *maskp, void (*fn)(int signo, void *ctx), void *ctx)
{
    *t = (struct tool_signals){.loop = loop, .fd = -1, .fn = fn, .ctx = ctx};
    sigset_t mask = *maskp;
    int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return;
    if (tern_loop_fd_watch(loop, fd, signals_readable, t) < 0) {
        close(fd);
        return;
    }
    sigprocmask(SIG_BLOCK, &mask, NULL);
    t->fd = fd;
}

void tool_signals_close(struct tool_signals *t)
{
    if (t->fd < 0)
        return;
    tern_loop_fd_unwatch(t->loop, t->fd);
    close(t->fd);
    t->fd = -1;
}

void tool_stop_loop(int signo, void *loop)
{
    (void)signo;
    tern_loop_stop(loop);
}

int parse_addr_list(const char *arg, uint32_t *out, int max)
{
    char buf[256];
    if (strlen(arg) >= sizeof buf)
        return -1;
    strcpy(buf, arg);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n >= max || tern_ipv4_aton(t, &out[n]) < 0)
            return -1;
        n++;
    }
    return n ? n : -1;
}

int parse_dns_opt(const char *cmd, const char *arg, struct tern_resolve_opts *ro)
{
    int n = parse_addr_list(arg, ro->servers, TERN_RESOLVE_MAX_SERVERS);
    if (n < 0) {
        fprintf(stderr, "tern %s: bad value '%s' for --dns (IPv4 addresses, comma-separated, "
                        "at most %d)\n",
                cmd, arg, TERN_RESOLVE_MAX_SERVERS);
        ro->nservers = 0;
        return -1;
    }
    ro->nservers = (unsigned)n;
    return 0;
}

int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int parse_seconds(const char *s, uint64_t *us)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= 0) || v > 1e6)
        return -1;
    *us = (uint64_t)(v * 1e6 + 0.5);
    return 0;
}

void stackopt_merge(struct option *out, size_t cap, const struct option *cmd)
{
    size_t n = 0;
    for (; cmd && cmd->name && n + 1 < cap; cmd++)
        out[n++] = *cmd;
    for (const struct option *s = stackopt_longopts; s->name && n + 1 < cap; s++)
        out[n++] = *s;
    memset(&out[n], 0, sizeof out[n]);
}

int stackopt_handle(struct stack_opts *o, int opt, const char *arg, const char *prog)
{
    unsigned long v;
    switch (opt - STACKOPT_BASE) {
    case 0:
        o->tap = arg;
        break;
    case 1:
        o->tun = arg;
        break;
    case 13:
        o->packet = arg;
        break;
    case 2:
        if (strchr(arg, ':')) {
            if (o->n_addr6 == 4) {
                fprintf(stderr, "%s: at most 4 IPv6 --addr\n", prog);
                return -1;
            }
            if (parse_addr6_prefix(arg, 64, &o->addr6[o->n_addr6], &o->prefix6[o->n_addr6]) < 0)
                goto bad;
            o->n_addr6++;
            break;
        }
        if (parse_addr_prefix(arg, 24, &o->addr, &o->prefix) < 0)
            goto bad;
        o->have_addr = true;
        break;
    case 3:
        if (strchr(arg, ':')) {
            if (tern_ipv6_aton(arg, &o->gw6) < 0 || tern_ipv6_is_multicast(&o->gw6) ||
                tern_ipv6_is_unspecified(&o->gw6))
                goto bad;
            o->have_gw6 = true;
            break;
        }
        if (tern_ipv4_aton(arg, &o->gw) < 0)
            goto bad;
        break;
    case 4:
        if (parse_ulong(arg, 68, 65535, &v) < 0)
            goto bad;
        o->mtu = (uint16_t)v;
        break;
    case 5:
        if (tern_eth_aton(arg, o->mac) < 0 || tern_eth_is_multicast(o->mac) || tern_eth_is_zero(o->mac))
            goto bad;
        o->have_mac = true;
        break;
    case 6:
        o->pcap = arg;
        break;
    case 7:
        o->trace = true;
        break;
    case 8:
        o->dhcp = true;
        break;
    case 9: {
        char why[200];
        if (parse_impair(arg, &o->imp, why, sizeof why) < 0) {
            fprintf(stderr, "%s: --impair %s: %s\n", prog, arg, why);
            return -1;
        }
        o->impair = true;
        break;
    }
    case 10:
        o->create = true;
        break;
    case 11:
        o->dhcp = true;
        o->dhcp_fast = true;
        break;
    case 12:
        o->no_offload = true;
        break;
    default:
        return 0;
    }
    return 1;
bad:
    fprintf(stderr, "%s: bad value '%s' for --%s\n", prog, arg,
            stackopt_longopts[opt - STACKOPT_BASE].name);
    return -1;
}

/* "ADDR[/PREFIX]": ADDR copied into buf (NUL-terminated), the prefix
 * length (lo..hi) into *prefix, def_prefix without one. -1: too long or a
 * bad prefix. */
static int split_prefix(const char *arg, char *buf, size_t bufsz, uint8_t def_prefix,
                        unsigned long lo, unsigned long hi, uint8_t *prefix)
{
    unsigned long v;
    const char *slash = strchr(arg, '/');
    size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
    if (n >= bufsz)
        return -1;
    memcpy(buf, arg, n);
    buf[n] = 0;
    *prefix = def_prefix;
    if (slash) {
        if (parse_ulong(slash + 1, lo, hi, &v) < 0)
            return -1;
        *prefix = (uint8_t)v;
    }
    return 0;
}

int parse_addr6_prefix(const char *arg, uint8_t def_prefix, struct tern_ipv6_addr *addr,
                       uint8_t *prefix)
{
    char buf[64];
    if (split_prefix(arg, buf, sizeof buf, def_prefix, 1, 128, prefix) < 0 ||
        tern_ipv6_aton(buf, addr) < 0 || tern_ipv6_is_multicast(addr) ||
        tern_ipv6_is_unspecified(addr) || tern_ipv6_is_loopback(addr))
        return -1;
    return 0;
}

int parse_addr_prefix(const char *arg, uint8_t def_prefix, uint32_t *addr, uint8_t *prefix)
{
    char buf[32];
    if (split_prefix(arg, buf, sizeof buf, def_prefix, 0, 32, prefix) < 0 ||
        tern_ipv4_aton(buf, addr) < 0)
        return -1;
    return 0;
}

uint64_t tool_os_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
    }
    return s;
}

/* --dhcp: lease events from the client, printed as one line each. */
static void on_dhcp(void *ctx, enum tern_dhcp_event ev, const struct tern_dhcp_lease *l)
{
    struct tern_env *e = ctx;
    char b[200], a[16];
    dhcp_lease_format(l, b, sizeof b);
    switch (ev) {
    case TERN_DHCP_EV_BOUND:
        fprintf(stderr, "tern: DHCP lease %s\n", b);
        for (unsigned i = 0; i < 4; i++)
            e->dns[i] = i < l->n_dns ? l->dns[i] : 0;
        if (e->dhcp_waiting)
            tern_loop_stop(e->loop); /* env_dhcp is waiting for this */
        break;
    case TERN_DHCP_EV_DECLINED:
        fprintf(stderr, "tern: DHCP: %s is in use by another host, declined\n",
                tern_ipv4_ntoa(l->addr, a));
        break;
    case TERN_DHCP_EV_LOST:
        fprintf(stderr, "tern: DHCP lease %s lost\n", tern_ipv4_ntoa(l->addr, a));
        break;
    default:
        break;
    }
}

static void on_dhcp_timeout(struct tern_timer *t, void *arg)
{
    (void)t;
    tern_loop_stop(arg);
}

static int env_dhcp(struct tern_env *e, const char *prog, bool fast)
{
    struct tern_dhcp_client_opts co = {.ifindex = e->ifindex, .no_probe = fast};
    char host[64];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = 0;
        co.hostname = host;
    }
    int err;
    e->dhcp = dhcp_client_start(e->stack, e->loop, &co, on_dhcp, e, &err);
    if (!e->dhcp) {
        fprintf(stderr, "%s: DHCP client: %s\n", prog, tern_strerror(err));
        return 1;
    }
    struct tern_timer t;
    tern_timer_init(&t, on_dhcp_timeout, e->loop);
    tern_timer_arm(e->loop, &t, tern_loop_now(e->loop) + DHCP_WAIT_US);
    e->dhcp_waiting = true;
    tern_loop_run(e->loop, TERN_TIME_NEVER);
    e->dhcp_waiting = false;
    tern_timer_cancel(e->loop, &t);
    if (e->dev_gone.gone)
        return 1; /* said why */
    if (dhcp_client_state(e->dhcp) != TERN_DHCPC_BOUND) {
        fprintf(stderr, "%s: no DHCP lease after %d s\n", prog, DHCP_WAIT_US / 1000000);
        return 1;
    }
    return 0;
}

struct tern_device *tool_trace_wrap(struct tern_loop *loop, struct tern_device *dev, FILE *pcap,
                                    bool trace)
{
    struct tern_device *t = tern_trace_wrap(loop, dev, pcap, trace ? stdout : NULL);
    if (!t)
        return NULL;
    /* pcap timestamps in wall-clock time, trace lines in local time */
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t wall = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000;
    struct tm tm;
    time_t now = rt.tv_sec;
    localtime_r(&now, &tm);
    tern_trace_set_clock(t, wall - (int64_t)tern_loop_now(loop), tm.tm_gmtoff);
    return t;
}

void tool_dev_open_error(const char *prog, const char *ifname, bool tap, int err)
{
    int kind = tern_tuntap_kind(ifname);
    switch (err) {
    case ENODEV:
        fprintf(stderr, "%s: %s: no such device (use --create to make one)\n", prog, ifname);
        break;
    case EPERM:
    case EACCES:
        fprintf(stderr, "%s: cannot open %s: needs root or CAP_NET_ADMIN\n", prog, ifname);
        break;
    case EBUSY:
        fprintf(stderr, "%s: %s is in use by another program\n", prog, ifname);
        break;
    case EMEDIUMTYPE:
        if (kind == TERN_LINK_ETHERNET || kind == TERN_LINK_RAW_IP)
            fprintf(stderr, "%s: %s is a %s device, not %s\n", prog, ifname,
                    kind == TERN_LINK_ETHERNET ? "TAP" : "TUN", tap ? "TAP" : "TUN");
        else
            fprintf(stderr, "%s: %s is not a TUN/TAP device\n", prog, ifname);
        break;
    default:
        fprintf(stderr, "%s: cannot open %s %s: %s\n", prog, tap ? "TAP" : "TUN", ifname,
                strerror(err));
    }
}

void tool_packet_open_error(const char *prog, const char *ifname, int err)
{
    switch (err) {
    case ENODEV:
        fprintf(stderr, "%s: %s: no such interface\n", prog, ifname);
        break;
    case EPERM:
    case EACCES:
        fprintf(stderr, "%s: cannot open %s: needs root or CAP_NET_RAW\n", prog, ifname);
        break;
    case EMEDIUMTYPE:
        fprintf(stderr, "%s: %s is not an Ethernet interface\n", prog, ifname);
        break;
    default:
        fprintf(stderr, "%s: cannot open %s with AF_PACKET: %s\n", prog, ifname, strerror(err));
    }
}

int tool_check_mtu(const char *prog, const struct tern_device *dev, uint16_t mtu)
{
    if (mtu <= dev->mtu)
        return 0;
    fprintf(stderr, "%s: MTU %u exceeds %s's MTU %u\n", prog, mtu, dev->name, dev->mtu);
    return -1;
}

void tool_dev_down(void *ctx, struct tern_device *dev, int err)
{
    (void)dev;
    struct tool_dev_gone *g = ctx;
    if (err == ENODEV)
        fprintf(stderr, "tern: %s: device removed\n", g->name);
    else
        fprintf(stderr, "tern: %s: device failed: %s\n", g->name, strerror(err));
    g->gone = true;
    tern_loop_stop(g->loop);
}

static void on_addr6(void *ctx, int ifindex, const struct tern_ipv6_addr *a, int state);

int env_open(struct tern_env *e, const struct stack_opts *o, const char *prog)
{
    memset(e, 0, sizeof *e);
    if ((o->tap != NULL) + (o->tun != NULL) + (o->packet != NULL) != 1) {
        fprintf(stderr, "%s: give exactly one of --tap IF, --tun IF or --packet IF\n", prog);
        return 2;
    }
    if (!o->have_addr && !o->dhcp && !o->n_addr6) {
        fprintf(stderr, "%s: --addr A/P (or --dhcp) is required\n", prog);
        return 2;
    }
    if (o->have_addr && o->dhcp) {
        fprintf(stderr, "%s: give --addr or --dhcp, not both\n", prog);
        return 2;
    }
    if (o->create && o->packet) {
        fprintf(stderr, "%s: --create makes TAP/TUN devices, not --packet interfaces\n", prog);
        return 2;
    }
    if (o->dhcp && o->tun) {
        fprintf(stderr, "%s: --dhcp needs an Ethernet device (--tap or --packet)\n", prog);
        return 2;
    }
    e->loop = tern_loop_real_new(NULL, NULL);
    if (!e->loop) {
        fprintf(stderr, "%s: event loop: %s\n", prog, strerror(errno));
        return 1;
    }
    const char *ifname = o->tap ? o->tap : o->tun ? o->tun : o->packet;
    e->ifname = ifname;
    /* Offloads (docs/devices.md) unless asked not to, or impaired: the
     * impairment wrappers lose, delay and corrupt MTU-sized frames. */
    unsigned of = (o->create ? TERN_TUNTAP_CREATE : 0) |
                  (o->no_offload || o->impair ? 0 : TERN_TUNTAP_OFFLOAD);
    if (o->packet)
        e->dev = tern_packet_open(e->loop, ifname, TERN_PACKET_PROMISC);
    else
        e->dev = tern_tuntap_open(e->loop, ifname, o->tap ? TERN_LINK_ETHERNET : TERN_LINK_RAW_IP,
                                  of);
    if (!e->dev && o->packet) {
        tool_packet_open_error(prog, ifname, errno);
        env_close(e);
        return 1;
    }
    if (!e->dev) {
        tool_dev_open_error(prog, ifname, o->tap != NULL, errno);
        env_close(e);
        return 1;
    }
    if (tool_check_mtu(prog, e->dev, o->mtu) < 0) {
        env_close(e);
        return 2;
    }
    if (o->impair) {
        /* tern's own impairment, both ways: egress, then ingress (the trace
         * below sits outside, so pcaps show what the stack sent and got) */
        struct tern_impair eg = o->imp, in = o->imp;
        if (!eg.seed)
            eg.seed = tool_os_seed();
        in.seed = eg.seed + 1;
        in.ingress = true;
        struct tern_device *w = tern_impair_wrap(e->loop, e->dev, &eg);
        struct tern_device *w2 = w ? tern_impair_wrap(e->loop, w, &in) : NULL;
        if (!w2) {
            fprintf(stderr, "%s: cannot set up --impair\n", prog);
            if (w)
                e->dev = w;
            env_close(e);
            return 1;
        }
        e->dev = w2;
        e->imp_out = w;
        e->imp_in = w2;
    }
    if (o->pcap || o->trace || o->tapped) {
        if (o->pcap && !(e->pcap = fopen(o->pcap, "wb"))) {
            fprintf(stderr, "%s: cannot write %s: %s\n", prog, o->pcap, strerror(errno));
            env_close(e);
            return 1;
        }
        struct tern_device *t = tool_trace_wrap(e->loop, e->dev, e->pcap, o->trace);
        if (!t) {
            fprintf(stderr, "%s: cannot set up --pcap/--trace\n", prog);
            env_close(e);
            return 1;
        }
        e->dev = t;
        e->trace_dev = t;
    }
    e->dev_gone = (struct tool_dev_gone){.name = ifname, .loop = e->loop};
    tern_device_set_down(e->dev, tool_dev_down, &e->dev_gone);
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = tool_os_seed();
    cfg.ipv6 = true; /* dual stack: a link-local address on every Ethernet interface */
    e->stack = tern_stack_new(&cfg, e->loop);
    if (!e->stack) {
        fprintf(stderr, "%s: cannot create the stack\n", prog);
        env_close(e);
        return 1;
    }
    struct tern_iface_config ic = {.addr = o->dhcp ? 0 : o->addr, .prefix_len = o->prefix,
                                   .mtu = o->mtu, .up = true};
    if (o->have_mac) {
        memcpy(ic.mac, o->mac, 6);
    } else if (o->tap || o->packet) {
        /* the same MAC for this interface every run (and so the same DHCP
         * client identifier, type 1 + MAC): a second run gets its lease back */
        char id[128];
        stable_mac_machine_id(id, sizeof id);
        stable_mac(id, o->tap ? o->tap : o->packet, ic.mac);
    }
    e->ifindex = tern_stack_add_iface(e->stack, e->dev, &ic);
    if (e->ifindex < 0) {
        fprintf(stderr, "%s: interface setup: %s\n", prog, tern_strerror(e->ifindex));
        env_close(e);
        return 2;
    }
    tern_addr6_watch(e->stack, on_addr6, e);
    for (int i = 0; i < o->n_addr6; i++) {
        int r = tern_stack_add_addr6(e->stack, e->ifindex, &o->addr6[i], o->prefix6[i]);
        if (r < 0) {
            fprintf(stderr, "%s: --addr (IPv6): %s\n", prog, tern_strerror(r));
            env_close(e);
            return 2;
        }
    }
    if (o->have_gw6) {
        static const struct tern_ipv6_addr any;
        int r = tern_route6_add(e->stack, &any, 0, &o->gw6, e->ifindex);
        if (r < 0) {
            fprintf(stderr, "%s: --gw (IPv6): %s\n", prog, tern_strerror(r));
            env_close(e);
            return 2;
        }
    }
    if (o->n_addr6)
        tool_wait_v6(e, 3000000);
    if (o->gw) {
        int r = tern_route_add(e->stack, 0, 0, o->gw, e->ifindex);
        if (r < 0) {
            fprintf(stderr, "%s: --gw: %s\n", prog, tern_strerror(r));
            env_close(e);
            return 2;
        }
    }
    if (o->dhcp) {
        int r = env_dhcp(e, prog, o->dhcp_fast);
        if (r) {
            env_close(e);
            return r;
        }
    }
    return 0;
}

/* IPv6 address events, one line each on stderr: scripts read the SLAAC
 * address from "tern: IPv6 ADDR/64 (slaac) preferred". Not for the
 * link-local address unless DAD found it duplicate. */
static void on_addr6(void *ctx, int ifindex, const struct tern_ipv6_addr *a, int state)
{
    (void)ctx, (void)ifindex;
    struct tern_addr6_info info[8];
    struct tern_env *e = ctx;
    int n = tern_addr6_list(e->stack, e->ifindex, info, 8);
    const char *origin = "";
    uint8_t plen = 128;
    for (int i = 0; i < n && i < 8; i++)
        if (!memcmp(info[i].addr.b, a->b, 16)) {
            plen = info[i].prefix_len;
            origin = info[i].origin == TERN_ADDR6_SLAAC       ? "slaac"
                     : info[i].origin == TERN_ADDR6_LINKLOCAL ? "link-local"
                                                              : "static";
        }
    static const char *const names[] = {"removed", "tentative", "preferred", "deprecated",
                                        "duplicate (disabled)"};
    char b[TERN_IPV6_ADDRSTRLEN];
    if (state < 0 || state > 4)
        return;
    /* only what a user needs: usable, duplicate, gone; the link-local
     * address only when something is wrong with it (every command has one:
     * its line would be noise in every command's output) */
    if (state == TERN_ADDR6_TENTATIVE ||
        (!strcmp(origin, "link-local") && state != TERN_ADDR6_DUPLICATE))
        return;
    fprintf(stderr, "tern: IPv6 %s/%u%s%s%s %s\n", tern_ipv6_ntoa(a, b), plen, *origin ? " (" : "",
            origin, *origin ? ")" : "", names[state]);
}

static void wait6_tick(struct tern_timer *t, void *arg)
{
    struct tern_env *e = arg;
    struct tern_addr6_info info[8];
    int n = tern_addr6_list(e->stack, e->ifindex, info, 8);
    for (int i = 0; i < n && i < 8; i++)
        if (info[i].state == TERN_ADDR6_TENTATIVE) {
            tern_timer_arm(e->loop, t, tern_loop_now(e->loop) + 50000);
            return;
        }
    tern_loop_stop(e->loop);
}

static void wait6_end(struct tern_timer *t, void *arg)
{
    (void)t;
    tern_loop_stop(((struct tern_env *)arg)->loop);
}

void tool_wait_v6(struct tern_env *e, uint64_t timeout_us)
{
    if (!tern_stack_stats6(e->stack))
        return;
    struct tern_timer tick, end;
    tern_timer_init(&tick, wait6_tick, e);
    tern_timer_init(&end, wait6_end, e);
    uint64_t now = tern_loop_now(e->loop);
    tern_timer_arm(e->loop, &tick, now);
    tern_timer_arm(e->loop, &end, now + timeout_us);
    tern_loop_run(e->loop, TERN_TIME_NEVER);
    if (tern_timer_armed(&tick))
        tern_timer_cancel(e->loop, &tick);
    if (tern_timer_armed(&end))
        tern_timer_cancel(e->loop, &end);
}

void tool_print_tcp_stats(const struct tern_env *e, const char *prog)
{
    const struct tern_stats *st = tern_stack_stats(e->stack);
    fprintf(stderr,
            "%s: tcp rx %llu tx %llu retransmits %llu timeouts %llu rack_lost %llu "
            "tlp_probes %llu dsacks_rx %llu spurious_undos %llu challenge_acks %llu\n",
            prog, (unsigned long long)st->tcp.rx, (unsigned long long)st->tcp.tx,
            (unsigned long long)st->tcp.retransmits, (unsigned long long)st->tcp.timeouts,
            (unsigned long long)st->tcp.rack_lost, (unsigned long long)st->tcp.tlp_probes,
            (unsigned long long)st->tcp.dsacks_rx, (unsigned long long)st->tcp.spurious_undos,
            (unsigned long long)st->tcp.challenge_acks);
    if (!e->imp_out)
        return;
    struct tern_impair_stats o, i;
    tern_impair_get_stats(e->imp_out, &o);
    tern_impair_get_stats(e->imp_in, &i);
    fprintf(stderr,
            "%s: impair out frames %llu lost %llu duplicated %llu reordered %llu "
            "in frames %llu lost %llu duplicated %llu reordered %llu\n",
            prog, (unsigned long long)o.frames, (unsigned long long)o.lost,
            (unsigned long long)o.duplicated, (unsigned long long)o.reordered,
            (unsigned long long)i.frames, (unsigned long long)i.lost,
            (unsigned long long)i.duplicated, (unsigned long long)i.reordered);
}

void env_close(struct tern_env *e)
{
    dhcp_client_free(e->dhcp);
    tern_stack_free(e->stack);
    tern_device_destroy(e->dev);
    if (e->pcap)
        fclose(e->pcap);
    tern_loop_destroy(e->loop);
    memset(e, 0, sizeof *e);
}

struct resolve_wait {
    struct tern_loop *loop;
    bool done;
    enum tern_resolve_status status;
    uint32_t addr;
};

static void resolve_wait_done(void *ctx, const struct tern_resolve_result *r)
{
    struct resolve_wait *w = ctx;
    w->done = true;
    w->status = r->status;
    if (r->status == TERN_RESOLVE_OK && r->naddr)
        w->addr = r->addr[0];
    else if (r->status == TERN_RESOLVE_OK)
        w->status = TERN_RESOLVE_NODATA;
    tern_loop_stop(w->loop);
}

int tool_resolve_host(struct tern_env *e, const struct tern_resolve_opts *dns, const char *host,
                      const char *prog, uint32_t *addr)
{
    if (tern_ipv4_aton(host, addr) == 0)
        return 0;
    if (hosts_lookup_path("/etc/hosts", host, addr) == 0)
        return 0;
    struct tern_resolve_opts ro = dns ? *dns : (struct tern_resolve_opts){0};
    if (!ro.nservers)
        for (unsigned i = 0; i < 4 && e->dns[i] && ro.nservers < TERN_RESOLVE_MAX_SERVERS; i++)
            ro.servers[ro.nservers++] = e->dns[i];
    if (!ro.nservers) {
        fprintf(stderr, "%s: %s: not an address or a name in /etc/hosts; give --dns SERVER "
                        "(or --dhcp) to look it up\n", prog, host);
        return 2;
    }
    struct resolve_wait w = {.loop = e->loop};
    int err;
    struct tern_resolve *q = resolve_start(e->stack, e->loop, host, &ro, resolve_wait_done,
                                                &w, &err);
    if (!q) {
        fprintf(stderr, "%s: %s: %s\n", prog, host, tern_strerror(err));
        return err == TERN_E_INVAL ? 2 : 1;
    }
    struct tool_signals sig;
    tool_signals_open(&sig, e->loop, false, tool_stop_loop, e->loop);
    tern_loop_run(e->loop, TERN_TIME_NEVER);
    tool_signals_close(&sig);
    resolve_free(q);
    if (!w.done)
        return tool_interrupted_status();
    if (w.status == TERN_RESOLVE_OK) {
        *addr = w.addr;
        return 0;
    }
    fprintf(stderr, "%s: %s: %s\n", prog, host,
            w.status == TERN_RESOLVE_TIMEOUT ? "no answer from the DNS servers"
            : w.status == TERN_RESOLVE_NODATA ? "no address for this name"
            : w.status == TERN_RESOLVE_NXDOMAIN ? "name not found"
                                                 : "name lookup failed");
    return 1;
}
