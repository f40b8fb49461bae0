/*
 * tools/cmd_get.c - `tern get URL [-o FILE]`: download one http:// URL over
 * a tern stack on a TAP or TUN device. The client itself is
 * src/app/http_client.c (the same code runs in virtual time in tests).
 * A progress bar (size, rate, ETA) is drawn on stderr when it is a
 * terminal and -q is not given.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <strings.h>

#include "app/hosts.h"
#include "app/http_client.h"
#include "app/http_msg.h"
#include "stackopts.h"
#include "tern/wire/ipv4.h"
#include "tls/tls.h"
#include "tools.h"

static const char get_help[] =
    "usage: tern get [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P|--dhcp URL\n"
    "Download URL (http:// or https://host[:port]/path) with HTTP/1.1 over a tern\n"
    "stack and write the body to standard output or FILE, as curl does: an error\n"
    "status (>= 400) is written too unless -f, a redirect is not followed unless -L.\n"
    "HOST is an IPv4 address or a name (--dns, the DHCP lease's server, /etc/hosts).\n"
    "https:// speaks TLS 1.2/1.3 (OpenSSL) and verifies the server's certificate\n"
    "and its name (the URL's host) unless --insecure.\n"
    "Exit status, curl's: 0 ok, 1 unsupported protocol, 2 usage error,\n"
    "3 malformed URL, 6 could not resolve the host, 7 could not connect, 8 the\n"
    "reply is not HTTP, 18 the body ended early, 22 -f and a status >= 400,\n"
    "23 write error, 28 timed out, 47 too many redirects, 52 empty reply,\n"
    "55 send error, 56 receive error (reset); 128+N when stopped by signal N\n"
    "(130 for SIGINT); https only:\n"
    "  60 the certificate does not chain to a trusted CA (curl's 60)\n"
    "  51 the certificate is not for the URL's host (curl's former code for it)\n"
    "  50 the certificate has expired or is not yet valid (curl gives 60)\n"
    "  35 any other TLS handshake failure: alert, protocol error (curl's 35)\n"
    "With -o the partial file is removed whenever the body is not complete,\n"
    "signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE,\n"
    "SIGALRM) included.\n"
    "\n"
    "get options:\n"
    "  -o FILE         write the body to FILE (default: standard output)\n"
    "  -f, --fail      a status >= 400 writes nothing and exits 22 (curl -f)\n"
    "  -L, --location  follow redirects (301, 302, 303, 307, 308), at most\n"
    "                  --max-redirs (default 50); only the last body is written\n"
    "  --max-redirs N  with -L, follow at most N redirects (curl's 47 after that)\n"
    "  -q              no progress bar (it is drawn only when stderr is a terminal)\n"
    "  --dns SERVER[,SERVER...]  DNS servers for a host name (default: from --dhcp)\n"
    "  --timeout SECONDS  give up connecting after SECONDS (default 10)\n"
    "  --cacert FILE   https: trusted CA certificates (PEM; default: the system's)\n"
    "  --capath DIR    https: a directory of trusted CA certificates\n"
    "  -k, --insecure  https: do not verify the server's certificate\n"
    "  -h, --help      this help\n"
    "\n";

struct get_run {
    struct tern_loop *loop;
    int status, signo;
    bool done, bar;
    uint64_t last_draw;
};

static void human(double v, char *out, size_t cap)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void on_progress(void *ctx, const struct tern_http_progress *p)
{
    struct get_run *run = ctx;
    if (!run->bar)
        return;
    if (!p->final && p->elapsed_us - run->last_draw < 100000)
        return; /* at most ten redraws a second */
    run->last_draw = p->elapsed_us;
    char size[32], rate[32];
    human((double)p->bytes, size, sizeof size);
    human(p->rate, rate, sizeof rate);
    if (p->total > 0) {
        int pct = (int)((double)p->bytes * 100.0 / (double)p->total);
        int fill = pct * 30 / 100;
        char bar[31];
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[30] = '\0';
        char eta[32] = "--:--";
        if (p->rate > 0 && !p->final) {
            uint64_t s = (uint64_t)((double)(p->total - (int64_t)p->bytes) / p->rate);
            snprintf(eta, sizeof eta, "%llu:%02llu", (unsigned long long)(s / 60),
                     (unsigned long long)(s % 60));
        } else if (p->final) {
            snprintf(eta, sizeof eta, "done");
        }
        fprintf(stderr, "\r%3d%% [%s] %10s %10s/s  ETA %s  ", pct, bar, size, rate, eta);
    } else {
        fprintf(stderr, "\r%10s %10s/s  ", size, rate);
    }
    if (p->final)
        fputc('\n', stderr);
    fflush(stderr);
}

static void on_signal(int signo, void *ctx)
{
    struct get_run *run = ctx;
    if (!run->signo)
        run->signo = signo;
    tern_loop_stop(run->loop);
}

static void on_done(void *ctx, int status)
{
    struct get_run *run = ctx;
    run->status = status;
    run->done = true;
    tern_loop_stop(run->loop);
}

int cmd_get(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'},
                                        {"dns", required_argument, NULL, 'D'},
                                        {"timeout", required_argument, NULL, 'T'},
                                        {"fail", no_argument, NULL, 'f'},
                                        {"location", no_argument, NULL, 'L'},
                                        {"max-redirs", required_argument, NULL, 'M'},
                                        {"cacert", required_argument, NULL, 'C'},
                                        {"capath", required_argument, NULL, 'P'},
                                        {"insecure", no_argument, NULL, 'k'},
                                        {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 8];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    struct tern_http_get_opts go = {.max_redirs = -1};
    unsigned long v;
    const char *outfile = NULL;
    bool quiet = false;
    int opt;
    opterr = 0;
    optind = 1;
    struct ttls_config tc = {0};
    while ((opt = getopt_long(argc, argv, ":o:qfLhk", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern get");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (opt) {
        case 'o':
            outfile = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'f':
            go.fail = true;
            break;
        case 'L':
            go.follow = true;
            break;
        case 'M':
            if (parse_ulong(optarg, 0, 1000, &v) < 0) {
                fprintf(stderr, "tern get: bad value '%s' for --max-redirs (0..1000)\n", optarg);
                return 2;
            }
            go.max_redirs = (int)v;
            break;
        case 'C':
            tc.ca_file = optarg;
            break;
        case 'P':
            tc.ca_dir = optarg;
            break;
        case 'k':
            tc.insecure = true;
            break;
        case 'D':
            if (parse_dns_opt("get", optarg, &go.dns) < 0)
                return 2;
            break;
        case 'T':
            if (parse_seconds(optarg, &go.connect_timeout_us) < 0 || go.connect_timeout_us < 1000) {
                fprintf(stderr, "tern get: bad value '%s' for --timeout\n", optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(get_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default: /* ':' missing value, '?' unknown */
            return tool_opt_error("get", opt, argv);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "tern get: expected exactly one URL (try 'tern get --help')\n");
        return 2;
    }
    go.url = argv[optind];
    struct tern_http_url u;
    char why[512];
    if (http_parse_url(go.url, &u, why, sizeof why) < 0) {
        fprintf(stderr, "tern get: %s\n", why);
        /* curl: 1 for a protocol it does not speak, 3 for a malformed URL */
        return strstr(go.url, "://") && strncasecmp(go.url, "http://", 7) ? TERN_GET_UNSUPPORTED
                                                                          : TERN_GET_URL_MALFORMED;
    }

    struct ttls_ctx *tctx = NULL;
    struct app_tls tls;
    if (u.https) {
        char terr[256];
        if (!(tctx = ttls_ctx_new(&tc, terr, sizeof terr))) {
            fprintf(stderr, "tern get: %s\n", terr);
            return 2;
        }
        tls_app_fill(&tls, tctx);
        go.tls = &tls;
    } else if (tc.ca_file || tc.ca_dir || tc.insecure) {
        fprintf(stderr, "tern get: --cacert, --capath and --insecure are for https:// URLs\n");
        return 2;
    }
    struct tern_env env;
    int rc = env_open(&env, &so, "tern get");
    if (rc) {
        ttls_ctx_free(tctx);
        return rc;
    }
    if (!go.dns.nservers)
        for (unsigned i = 0; i < 4 && env.dns[i] && i < TERN_RESOLVE_MAX_SERVERS; i++)
            go.dns.servers[go.dns.nservers++] = env.dns[i];
    char literal[64];
    if (!u.host_is_ipv4) {
        /* a name: /etc/hosts, then DNS in the client (curl's 6 when neither knows it) */
        uint32_t a;
        if (hosts_lookup_path("/etc/hosts", u.host, &a) == 0) {
            static char rewritten[4200];
            char ab[16];
            snprintf(literal, sizeof literal, "%s", tern_ipv4_ntoa(a, ab));
            const char *scheme = u.https ? "https://" : "http://";
            const char *rest = go.url + strlen(scheme) + strlen(u.host);
            snprintf(rewritten, sizeof rewritten, "%s%s%s", scheme, literal, rest);
            go.url = rewritten;
            go.host_header = u.host;
        } else if (!go.dns.nservers) {
            fprintf(stderr, "tern get: %s: not in /etc/hosts and no DNS server to ask (give "
                            "--dns SERVER or --dhcp)\n", u.host);
            env_close(&env);
            ttls_ctx_free(tctx);
            return TERN_GET_RESOLVE;
        }
    }
    FILE *out = stdout;
    if (outfile && !(out = fopen(outfile, "wb"))) {
        fprintf(stderr, "tern get: %s: cannot open for writing\n", outfile);
        env_close(&env);
        ttls_ctx_free(tctx);
        return TERN_GET_WRITE_ERROR;
    }
    struct get_run run = {.loop = env.loop, .status = 1, .bar = !quiet && isatty(2)};
    struct tool_signals sig;
    tool_signals_open_all(&sig, env.loop, on_signal, &run);
    struct tern_http_get_io io = {.out = out, .err = stderr, .progress = on_progress,
                                  .done = on_done, .ctx = &run};
    int err;
    struct tern_http_get *g = http_get_start(env.stack, env.loop, &go, &io, &err);
    if (!g) {
        rc = 1;
    } else {
        tern_loop_run(env.loop, TERN_TIME_NEVER);
        if (!run.done)
            http_get_stop(g); /* interrupted */
        rc = run.done ? run.status : tool_interrupted_status();
        http_get_free(g);
    }
    if (outfile) {
        if (fclose(out) != 0 && rc == 0) {
            fprintf(stderr, "tern get: %s: write error\n", outfile);
            rc = TERN_GET_WRITE_ERROR;
        }
        if (rc != 0)
            remove(outfile);
    } else {
        fflush(stdout);
    }
    tool_signals_close(&sig);
    if (env.dev_gone.gone)
        rc = 1;
    env_close(&env);
    ttls_ctx_free(tctx);
    return rc;
}
