/*
 * tools/cmd_nc.c - `tern nc`: TCP (default) or UDP (-u) netcat between
 * stdin/stdout and a socket of a tern stack on a TAP or TUN device. The app
 * is src/app/nc.c + nc_tcp.c (the same code runs in virtual time); this
 * file reads stdin on the loop and handles flags and signals. Flags follow
 * OpenBSD netcat (Debian's nc): -u, -l, -p, -q, -w, -N; --keepalive is
 * tern's (nc has no such flag; the socket options are Linux's).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/nc.h"
#include "app/resolver.h"
#include "servport.h"
#include "stackopts.h"
#include "tools.h"

static const char nc_help[] =
    "usage: tern nc [-u] [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P HOST PORT\n"
    "       tern nc -l [-u] [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P [ADDR] PORT\n"
    "netcat: stdin goes to HOST PORT and what comes back goes to stdout.\n"
    "TCP (default): connect to HOST PORT, or with -l accept one connection on PORT\n"
    "(on ADDR, default all of ours). At end of stdin the sending side is shut down\n"
    "(a half-close, as Debian's nc -N) and reading goes on until the peer closes;\n"
    "the run ends when both directions have ended.\n"
    "UDP (-u): each chunk read from stdin is one datagram; with -l, wait for a first\n"
    "datagram and talk to its sender only, as OpenBSD nc -u -l does.\n"
    "PORT may be a service name from /etc/services (e.g. echo, daytime, domain).\n"
    "Exit status: 0 done, 1 runtime error (\"connection refused\": TCP RST to our SYN\n"
    "or UDP ICMP port unreachable; \"connection timed out\"; \"connection reset by\n"
    "peer\"), 2 usage error.\n"
    "\n"
    "nc options:\n"
    "  -u              UDP instead of TCP\n"
    "  -l              listen: accept one connection (TCP) or wait for the first\n"
    "                  datagram (UDP) instead of connecting\n"
    "  -p PORT         local (source) port; with -l, the port to listen on\n"
    "  -q SECONDS      after end of input, wait at most SECONDS, then quit (-1: no\n"
    "                  limit); default: TCP until the peer closes, UDP 1 s\n"
    "  -w SECONDS      TCP: give up connecting after SECONDS (default: the stack's\n"
    "                  SYN retries, about two minutes); bounds only the connect\n"
    "  -N              accepted for Debian nc compatibility (always on for TCP)\n"
    "  --dns SERVER[,SERVER...]  DNS servers for a HOST name (default: from --dhcp;\n"
    "                  /etc/hosts is read first)\n"
    "  -v              at exit, print the stack's TCP counters to stderr (\"tern nc: tcp\n"
    "                  rx N tx N retransmits N timeouts N ...\") and, with --impair,\n"
    "                  what the impairment did each way (\"tern nc: impair out frames N\n"
    "                  lost N ...\"); not Debian nc's -v\n"
    "  --keepalive IDLE[,INTVL[,CNT]]\n"
    "                  TCP: send keep-alive probes after IDLE seconds without\n"
    "                  traffic, every INTVL seconds (default 75), and give up\n"
    "                  (\"connection timed out\", exit 1) after CNT unanswered\n"
    "                  probes (default 9): SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT\n"
    "  --join GROUP    UDP: join the multicast GROUP (IGMPv3) on the port (-l PORT,\n"
    "                  -p PORT, else the client's PORT, shared with SO_REUSEADDR)\n"
    "                  and print every datagram from any sender; with -l nothing\n"
    "                  is sent (receive only). A client whose HOST is a group\n"
    "                  sends to it unconnected, with or without --join\n"
    "  --mcast-ttl N   UDP: TTL of datagrams to a group, 0-255 (default 1:\n"
    "                  IP_MULTICAST_TTL)\n"
    "  -h, --help      this help\n"
    "\n";

#define CHUNK 16384 /* bytes read from stdin per datagram, as OpenBSD nc's BUFSIZE */

struct nc_run {
    struct tern_loop *loop;
    struct tern_nc *nc;
    int status;
    bool watching, input_on, stdin_eof;
    struct tern_timer file_timer; /* stdin that epoll refuses (a regular file) */
    uint8_t buf[CHUNK];
};

static void read_stdin(struct nc_run *r)
{
    ssize_t n = read(STDIN_FILENO, r->buf, sizeof r->buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        r->stdin_eof = true;
        nc_input_eof(r->nc); /* calls want_input(off) */
        return;
    }
    nc_input(r->nc, r->buf, (size_t)n);
}

static void on_stdin(int fd, void *arg)
{
    (void)fd;
    read_stdin(arg);
}

static void on_file_timer(struct tern_timer *t, void *arg)
{
    struct nc_run *r = arg;
    read_stdin(r);
    if (r->input_on && !r->watching)
        tern_timer_arm(r->loop, t, tern_loop_now(r->loop));
}

static void want_input(void *ctx, bool on)
{
    struct nc_run *r = ctx;
    if (on == r->input_on || (on && r->stdin_eof))
        return;
    r->input_on = on;
    if (on) {
        /* epoll takes pipes, terminals and sockets; a regular file or
         * /dev/null is always readable: read it from a timer at each turn */
        r->watching = tern_loop_fd_watch(r->loop, STDIN_FILENO, on_stdin, r) == 0;
        if (!r->watching)
            tern_timer_arm(r->loop, &r->file_timer, tern_loop_now(r->loop));
    } else {
        if (r->watching)
            tern_loop_fd_unwatch(r->loop, STDIN_FILENO);
        r->watching = false;
        tern_timer_cancel(r->loop, &r->file_timer);
    }
}

static void nc_done(void *ctx, int status)
{
    struct nc_run *r = ctx;
    r->status = status;
    tern_loop_stop(r->loop);
}

/* IDLE[,INTVL[,CNT]]: the ranges of Linux's TCP_KEEPIDLE/INTVL (1..32767 s)
 * and TCP_KEEPCNT (1..127). */
static int parse_keepalive(const char *arg, struct tern_nc_opts *no)
{
    static const unsigned long max[3] = {32767, 32767, 127};
    uint32_t v[3] = {0, 0, 0};
    const char *p = arg;
    for (int i = 0; i < 3; i++) {
        char *end;
        if (*p < '0' || *p > '9')
            return -1;
        errno = 0;
        unsigned long x = strtoul(p, &end, 10);
        if (errno || x < 1 || x > max[i])
            return -1;
        v[i] = (uint32_t)x;
        if (*end == 0)
            break;
        if (*end != ',' || i == 2)
            return -1;
        p = end + 1;
    }
    no->keepalive = true;
    no->keepidle_s = v[0];
    no->keepintvl_s = v[1];
    no->keepcnt = v[2];
    return 0;
}

static void on_signal(int signo, void *arg)
{
    (void)signo;
    struct nc_run *r = arg;
    nc_stop(r->nc);
}

int cmd_nc(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'},
                                        {"keepalive", required_argument, NULL, 'K'},
                                        {"dns", required_argument, NULL, 'D'},
                                        {"join", required_argument, NULL, 'J'},
                                        {"mcast-ttl", required_argument, NULL, 'T'},
                                        {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 7];
    struct tern_resolve_opts dns = {0};
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    struct tern_nc_opts no = {.quit_after_eof_us = 1000000};
    bool udp = false, qflag = false, verbose = false, mcast_ttl_set = false;
    const char *pflag = NULL;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":ulp:q:w:Nvh", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern nc");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (opt) {
        case 'u':
            udp = true;
            break;
        case 'l':
            no.listen = true;
            break;
        case 'p':
            pflag = optarg;
            break;
        case 'N':
            break;
        case 'D':
            if (parse_dns_opt("nc", optarg, &dns) < 0)
                return 2;
            break;
        case 'v':
            verbose = true;
            break;
        case 'J':
            if (tern_ipv4_aton(optarg, &no.join) < 0 || (no.join >> 28) != 0xe) {
                fprintf(stderr, "tern nc: --join %s: not an IPv4 multicast group\n", optarg);
                return 2;
            }
            break;
        case 'T': {
            char *end;
            errno = 0;
            unsigned long t = strtoul(optarg, &end, 10);
            if (errno || *end || end == optarg || t > 255 || optarg[0] == '-') {
                fprintf(stderr, "tern nc: bad value '%s' for --mcast-ttl (0-255)\n", optarg);
                return 2;
            }
            no.mcast_ttl = (uint8_t)t;
            mcast_ttl_set = true;
            break;
        }
        case 'K':
            if (parse_keepalive(optarg, &no) < 0) {
                fprintf(stderr, "tern nc: bad value '%s' for --keepalive (IDLE[,INTVL[,CNT]]: "
                                "seconds 1-32767, count 1-127)\n", optarg);
                return 2;
            }
            break;
        case 'w':
            if (parse_seconds(optarg, &no.connect_timeout_us) < 0 || !no.connect_timeout_us) {
                fprintf(stderr, "tern nc: bad value '%s' for -w\n", optarg);
                return 2;
            }
            break;
        case 'q':
            qflag = true;
            if (!strcmp(optarg, "-1"))
                no.quit_after_eof_us = TERN_TIME_NEVER;
            else if (parse_seconds(optarg, &no.quit_after_eof_us) < 0) {
                fprintf(stderr, "tern nc: bad value '%s' for -q\n", optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(nc_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default: /* ':' missing value, '?' unknown */
            return tool_opt_error("nc", opt, argv);
        }
    }
    no.tcp = !udp;
    if (!udp && (no.join || mcast_ttl_set)) {
        fprintf(stderr, "tern nc: --join and --mcast-ttl are for UDP (-u)\n");
        return 2;
    }
    if (mcast_ttl_set && no.mcast_ttl == 0) {
        fprintf(stderr, "tern nc: --mcast-ttl 0 would send nothing to the network\n");
        return 2;
    }
    if (udp && no.keepalive) {
        fprintf(stderr, "tern nc: --keepalive is for TCP, not -u\n");
        return 2;
    }
    if (no.tcp && !qflag)
        no.quit_after_eof_us = TERN_TIME_NEVER; /* until the peer closes */
    uint8_t proto = udp ? TERN_SERVDB_UDP : TERN_SERVDB_TCP;
    int nargs = argc - optind;
    const char *host = NULL, *port = NULL;
    if (no.listen) {
        /* -l PORT, -l ADDR PORT, or -l -p PORT (Debian's traditional form) */
        if (nargs == 2) {
            host = argv[optind];
            port = argv[optind + 1];
        } else if (nargs == 1) {
            port = argv[optind];
        } else if (nargs != 0 || !pflag) {
            fprintf(stderr, "tern nc: -l takes [ADDR] PORT (try 'tern nc --help')\n");
            return 2;
        }
        if (port && pflag) {
            fprintf(stderr, "tern nc: give the listen port once (-p or PORT)\n");
            return 2;
        }
        if (!port)
            port = pflag;
        if (tool_parse_port(port, proto, "tern nc", &no.local_port) < 0)
            return 2;
        if (no.local_port == 0) {
            fprintf(stderr, "tern nc: cannot listen on port 0\n");
            return 2;
        }
        if (host && tern_ipv4_aton(host, &no.local_addr) < 0) {
            fprintf(stderr, "tern nc: %s: not an IPv4 address\n", host);
            return 2;
        }
    } else {
        if (nargs != 2) {
            fprintf(stderr, "tern nc: expected HOST PORT (try 'tern nc --help')\n");
            return 2;
        }
        host = argv[optind];
        if (tern_ipv4_aton(host, &no.peer_addr) == 0 && no.peer_addr == 0) {
            fprintf(stderr, "tern nc: %s: not a destination\n", host);
            return 2;
        }
        if (tool_parse_port(argv[optind + 1], proto, "tern nc", &no.peer_port) < 0)
            return 2;
        if (no.peer_port == 0) {
            fprintf(stderr, "tern nc: cannot send to port 0\n");
            return 2;
        }
        if (pflag && tool_parse_port(pflag, proto, "tern nc", &no.local_port) < 0)
            return 2;
    }

    struct tern_env env;
    int rc = env_open(&env, &so, "tern nc");
    if (rc)
        return rc;
    if (!no.listen && (rc = tool_resolve_host(&env, &dns, host, "tern nc", &no.peer_addr)) != 0) {
        env_close(&env);
        return rc;
    }
    struct nc_run *run = calloc(1, sizeof *run);
    if (!run) {
        env_close(&env);
        return 1;
    }
    run->loop = env.loop;
    run->status = 1;
    tern_timer_init(&run->file_timer, on_file_timer, run);
    struct tern_nc_io io = {.out = stdout, .err = stderr, .want_input = want_input,
                            .done = nc_done, .ctx = run};
    int err = 0;
    run->nc = nc_start(env.stack, env.loop, &no, &io, &err);
    if (!run->nc) {
        char a[16];
        if (no.listen)
            fprintf(stderr, "tern nc: cannot listen on %s port %u: %s\n",
                    tern_ipv4_ntoa(no.local_addr, a), no.local_port, tern_strerror(err));
        else
            fprintf(stderr, "tern nc: cannot %s %s port %u: %s\n",
                    udp ? "send to" : "connect to", tern_ipv4_ntoa(no.peer_addr, a), no.peer_port,
                    tern_strerror(err));
        rc = 1;
    } else {
        struct tool_signals sig;
        tool_signals_open(&sig, env.loop, false, on_signal, run);
        tern_loop_run(env.loop, TERN_TIME_NEVER);
        rc = tool_caught_signal ? tool_interrupted_status() : run->status;
        want_input(run, false);
        tool_signals_close(&sig);
        nc_free(run->nc);
        if (verbose)
            tool_print_tcp_stats(&env, "tern nc");
    }
    tern_timer_cancel(env.loop, &run->file_timer);
    free(run);
    if (env.dev_gone.gone)
        rc = 1;
    env_close(&env);
    return rc;
}
