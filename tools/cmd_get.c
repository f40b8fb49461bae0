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

#include "app/http_client.h"
#include "app/http_msg.h"
#include "stackopts.h"
#include "tls/tls.h"
#include "tools.h"

static const char get_help[] =
    "usage: tern get [OPTIONS] --tap IF|--tun IF --addr A/P|--dhcp URL\n"
    "Download URL (http:// or https://host[:port]/path) with HTTP/1.1 over a tern\n"
    "stack and write the body to standard output or FILE. Redirects are not\n"
    "followed. https:// speaks TLS 1.2/1.3 (OpenSSL) and verifies the server's\n"
    "certificate and its name (the URL's host) unless --insecure.\n"
    "Exit status: 0 ok, 1 network or protocol error (name not found, connection\n"
    "refused, timed out, reset, bad response), 2 usage error (bad flags or URL),\n"
    "3 the server answered with a status >= 400 (the body is not written; with\n"
    "-o the partial file is removed on any failure); https only:\n"
    "  60 the certificate does not chain to a trusted CA (curl's 60)\n"
    "  51 the certificate is not for the URL's host (curl's former code for it)\n"
    "  50 the certificate has expired or is not yet valid (curl gives 60)\n"
    "  35 any other TLS handshake failure: alert, protocol error (curl's 35)\n"
    "\n"
    "get options:\n"
    "  -o FILE         write the body to FILE (default: standard output)\n"
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
    int status;
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
                                        {"cacert", required_argument, NULL, 'C'},
                                        {"capath", required_argument, NULL, 'P'},
                                        {"insecure", no_argument, NULL, 'k'},
                                        {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 8];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    struct tern_http_get_opts go = {0};
    const char *outfile = NULL;
    bool quiet = false;
    int opt;
    opterr = 0;
    optind = 1;
    struct ttls_config tc = {0};
    while ((opt = getopt_long(argc, argv, ":o:qhk", longopts, NULL)) != -1) {
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
    if (tern_http_url_parse(go.url, &u, why, sizeof why) < 0) {
        fprintf(stderr, "tern get: %s\n", why);
        return 2;
    }
    if (!u.host_is_ipv4 && !go.dns.nservers && !so.dhcp) {
        fprintf(stderr, "tern get: %s is a name: give --dns SERVER (or --dhcp)\n", u.host);
        return 2;
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
    int rc = tern_env_open(&env, &so, "tern get");
    if (rc) {
        ttls_ctx_free(tctx);
        return rc;
    }
    if (!u.host_is_ipv4 && !go.dns.nservers) {
        for (unsigned i = 0; i < 4 && env.dns[i] && i < TERN_RESOLVE_MAX_SERVERS; i++)
            go.dns.servers[go.dns.nservers++] = env.dns[i];
        if (!go.dns.nservers) {
            fprintf(stderr, "tern get: the DHCP lease names no DNS server: give --dns\n");
            tern_env_close(&env);
            ttls_ctx_free(tctx);
            return 1;
        }
    }
    FILE *out = stdout;
    if (outfile && !(out = fopen(outfile, "wb"))) {
        fprintf(stderr, "tern get: %s: cannot open for writing\n", outfile);
        tern_env_close(&env);
        ttls_ctx_free(tctx);
        return 1;
    }
    struct tool_signals sig;
    tool_signals_open(&sig, env.loop, false, tool_stop_loop, env.loop);
    struct get_run run = {.loop = env.loop, .status = 1, .bar = !quiet && isatty(2)};
    struct tern_http_get_io io = {.out = out, .err = stderr, .progress = on_progress,
                                  .done = on_done, .ctx = &run};
    int err;
    struct tern_http_get *g = tern_http_get_start(env.stack, env.loop, &go, &io, &err);
    if (!g) {
        rc = 1;
    } else {
        tern_loop_run(env.loop, TERN_TIME_NEVER);
        if (!run.done)
            tern_http_get_stop(g); /* interrupted */
        rc = run.status;
        tern_http_get_free(g);
    }
    if (outfile) {
        if (fclose(out) != 0 && rc == 0) {
            fprintf(stderr, "tern get: %s: write error\n", outfile);
            rc = 1;
        }
        if (rc != 0)
            remove(outfile);
    } else {
        fflush(stdout);
    }
    tool_signals_close(&sig);
    tern_env_close(&env);
    ttls_ctx_free(tctx);
    return rc;
}
