/*
 * tools/cmd_forward.c - `tern forward`: an stunnel-like port forwarder over
 * a tern stack (src/tls/forward.c), plain or with TLS on one side:
 *   tern forward -L [BIND:]LPORT:HOST:PORT [--tls-connect [--ca F] [--sni NAME]]
 *   tern forward -L [BIND:]LPORT:HOST:PORT --tls-accept --cert F --key F
 * The -L syntax is ssh's (`ssh -L 12345:pop3-server:110`); HOST is an IPv4
 * address.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "servport.h"
#include "stackopts.h"
#include "tern/err.h"
#include "tern/wire/ipv4.h"
#include "tls/forward.h"
#include "tools.h"

static const char forward_help[] =
    "usage: tern forward [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P|--dhcp -L [BIND:]LPORT:HOST:PORT\n"
    "Accept TCP connections on LPORT and forward each to HOST:PORT, as stunnel\n"
    "does (or ssh -L): plain TCP, or TLS on one side. Both directions are\n"
    "copied; the end of one side's input (FIN, or TLS close_notify) is passed\n"
    "on as the end of the other side's output, and the other direction goes on.\n"
    "A reset, a TLS alert or a failed handshake resets the other side.\n"
    "One line per connection on stderr:\n"
    "  tern forward: CLIENT -> HOST:PORT closed: N bytes sent, M bytes received (TLS)\n"
    "  tern forward: CLIENT -> HOST:PORT reset: WHY; N bytes sent, M bytes received\n"
    "Runs until interrupted (SIGINT/SIGTERM) or --for SECONDS.\n"
    "\n"
    "forward options:\n"
    "  -L [BIND:]LPORT:HOST:PORT  listen on LPORT (on BIND, default all our\n"
    "                  addresses), forward to HOST:PORT (HOST an IPv4 address)\n"
    "  --tls-connect   speak TLS to HOST:PORT (stunnel's client mode); the\n"
    "                  certificate is verified against --ca (default: the\n"
    "                  system's CAs) and the name --sni (default: HOST)\n"
    "  --ca FILE       trusted CA certificates (PEM)\n"
    "  --capath DIR    a directory of trusted CA certificates (c_rehash form)\n"
    "  --sni NAME      the server name sent (SNI) and checked (RFC 6125)\n"
    "  --insecure      do not verify the server's certificate at all\n"
    "  --tls-accept    speak TLS to the clients on LPORT (stunnel's server mode)\n"
    "  --cert FILE     --tls-accept: our certificate chain (PEM)\n"
    "  --key FILE      --tls-accept: our private key (PEM)\n"
    "  --handshake-timeout SECONDS  a TLS handshake not done by then is\n"
    "                  reset (default 10)\n"
    "  --max-conns N   connections at once (default 256; more are reset)\n"
    "  --for SECONDS   stop after SECONDS\n"
    "  -h, --help      this help\n"
    "\n";

enum { O_TLSC = 1, O_TLSA, O_CA, O_CAPATH, O_SNI, O_INSECURE, O_CERT, O_KEY, O_HST, O_MAX, O_FOR };

static void on_timeout(struct tern_timer *t, void *arg)
{
    (void)t;
    tern_loop_stop(arg);
}

/* [BIND:]LPORT:HOST:PORT */
static int parse_L(const char *arg, struct tfwd_opts *o)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    char *f[4];
    int n = 0;
    for (char *p = buf, *tok; n < 4 && (tok = strsep(&p, ":")) != NULL;)
        f[n++] = tok;
    int colons = 0;
    for (const char *p = arg; *p; p++)
        colons += *p == ':';
    if (colons < 2 || colons > 3 || n != colons + 1) {
        fprintf(stderr, "tern forward: bad -L '%s' (want [BIND:]LPORT:HOST:PORT)\n", arg);
        return -1;
    }
    int i = 0;
    if (n == 4 && tern_ipv4_aton(f[i++], &o->bind_addr) < 0) {
        fprintf(stderr, "tern forward: %s: not an IPv4 address\n", f[0]);
        return -1;
    }
    if (tool_parse_port(f[i++], TERN_SERVDB_TCP, "tern forward", &o->listen_port) < 0)
        return -1;
    if (tern_ipv4_aton(f[i], &o->dst_addr) < 0 || !o->dst_addr) {
        fprintf(stderr, "tern forward: %s: not an IPv4 address\n", f[i]);
        return -1;
    }
    i++;
    if (tool_parse_port(f[i], TERN_SERVDB_TCP, "tern forward", &o->dst_port) < 0)
        return -1;
    if (!o->listen_port || !o->dst_port) {
        fprintf(stderr, "tern forward: port 0 in -L\n");
        return -1;
    }
    return 0;
}

int cmd_forward(int argc, char **argv)
{
    static const struct option own[] = {
        {"help", no_argument, NULL, 'h'},           {"tls-connect", no_argument, NULL, O_TLSC},
        {"tls-accept", no_argument, NULL, O_TLSA},  {"ca", required_argument, NULL, O_CA},
        {"capath", required_argument, NULL, O_CAPATH}, {"sni", required_argument, NULL, O_SNI},
        {"insecure", no_argument, NULL, O_INSECURE}, {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"handshake-timeout", required_argument, NULL, O_HST},
        {"max-conns", required_argument, NULL, O_MAX}, {"for", required_argument, NULL, O_FOR},
        {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + sizeof own / sizeof own[0] + 1];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    struct tfwd_opts fo = {.log = stderr};
    struct ttls_config cc = {0}, sc = {.server = true};
    bool tls_c = false, tls_a = false, have_L = false;
    uint64_t duration = 0;
    unsigned long ul;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":hL:", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern forward");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (opt) {
        case 'L':
            if (parse_L(optarg, &fo) < 0)
                return 2;
            have_L = true;
            break;
        case O_TLSC: tls_c = true; break;
        case O_TLSA: tls_a = true; break;
        case O_CA: cc.ca_file = optarg; break;
        case O_CAPATH: cc.ca_dir = optarg; break;
        case O_SNI: fo.verify_name = optarg; break;
        case O_INSECURE: cc.insecure = true; break;
        case O_CERT: sc.cert_file = optarg; break;
        case O_KEY: sc.key_file = optarg; break;
        case O_HST:
            if (parse_seconds(optarg, &fo.handshake_timeout_us) < 0 || !fo.handshake_timeout_us) {
                fprintf(stderr, "tern forward: bad value '%s' for --handshake-timeout\n", optarg);
                return 2;
            }
            break;
        case O_MAX:
            if (parse_ulong(optarg, 1, 100000, &ul) < 0) {
                fprintf(stderr, "tern forward: bad value '%s' for --max-conns\n", optarg);
                return 2;
            }
            fo.max_conns = (unsigned)ul;
            break;
        case O_FOR:
            if (parse_seconds(optarg, &duration) < 0 || !duration) {
                fprintf(stderr, "tern forward: bad value '%s' for --for\n", optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(forward_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default:
            return tool_opt_error("forward", opt, argv);
        }
    }
    if (optind != argc) {
        fprintf(stderr, "tern forward: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!have_L) {
        fprintf(stderr, "tern forward: -L [BIND:]LPORT:HOST:PORT is required (try 'tern forward --help')\n");
        return 2;
    }
    if (tls_c && tls_a) {
        fprintf(stderr, "tern forward: --tls-connect and --tls-accept exclude each other (chain two forwarders)\n");
        return 2;
    }
    if (!tls_c && (cc.ca_file || cc.ca_dir || fo.verify_name || cc.insecure)) {
        fprintf(stderr, "tern forward: --ca, --capath, --sni and --insecure need --tls-connect\n");
        return 2;
    }
    if (!tls_a && (sc.cert_file || sc.key_file)) {
        fprintf(stderr, "tern forward: --cert and --key need --tls-accept\n");
        return 2;
    }
    if (tls_a && (!sc.cert_file || !sc.key_file)) {
        fprintf(stderr, "tern forward: --tls-accept needs --cert FILE and --key FILE\n");
        return 2;
    }
    char err[256];
    struct ttls_ctx *ctx = NULL;
    if (tls_c || tls_a) {
        ctx = ttls_ctx_new(tls_c ? &cc : &sc, err, sizeof err);
        if (!ctx) {
            fprintf(stderr, "tern forward: %s\n", err);
            return 2;
        }
        if (tls_c)
            fo.connect_tls = ctx;
        else
            fo.accept_tls = ctx;
    }
    struct tern_env env;
    int rc = env_open(&env, &so, "tern forward");
    if (rc) {
        ttls_ctx_free(ctx);
        return rc;
    }
    int e = 0;
    struct tfwd *f = tfwd_start(env.stack, env.loop, &fo, &e);
    if (!f) {
        fprintf(stderr, "tern forward: cannot listen on port %u: %s\n", fo.listen_port, tern_strerror(e));
        env_close(&env);
        ttls_ctx_free(ctx);
        return 1;
    }
    struct tool_signals sig;
    tool_signals_open(&sig, env.loop, false, tool_stop_loop, env.loop);
    struct tern_timer stop_timer;
    tern_timer_init(&stop_timer, on_timeout, env.loop);
    if (duration)
        tern_timer_arm(env.loop, &stop_timer, tern_loop_now(env.loop) + duration);
    char a[16];
    fprintf(stderr, "tern forward: listening on port %u, to %s:%u (%s)\n", fo.listen_port,
            tern_ipv4_ntoa(fo.dst_addr, a), fo.dst_port,
            tls_c ? "TLS to the destination" : tls_a ? "TLS from the clients" : "plain");
    tern_loop_run(env.loop, TERN_TIME_NEVER);
    tern_timer_cancel(env.loop, &stop_timer);
    struct tfwd_stats st;
    tfwd_stats(f, &st);
    fprintf(stderr, "tern forward: %llu connections: %llu closed, %llu reset, %llu refused (full)\n",
            (unsigned long long)st.accepted, (unsigned long long)st.closed,
            (unsigned long long)st.reset, (unsigned long long)st.refused_full);
    tool_signals_close(&sig);
    tfwd_free(f);
    /* let the resets of still-open connections leave */
    tern_loop_run(env.loop, tern_loop_now(env.loop) + 100000);
    env_close(&env);
    ttls_ctx_free(ctx);
    return 0;
}
