/*
 * tools/cmd_serve.c - `tern serve`: run a tern stack on a TAP or TUN device
 * until interrupted. Today the stack itself answers ARP and ping; the
 * sockets issue adds the services (--echo, --discard, ...).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "stackopts.h"
#include "tools.h"

static const char serve_help[] =
    "usage: tern serve [OPTIONS] --tap IF|--tun IF --addr A/P\n"
    "Run a tern stack on a device until interrupted (SIGINT/SIGTERM). It answers\n"
    "ARP and ICMP echo (ping). Prints its counters on exit.\n"
    "\n"
    "serve options:\n"
    "  --for SECONDS   stop after SECONDS (default: run until interrupted)\n"
    "  -h, --help      this help\n"
    "\n";

static void on_signal(int fd, void *arg)
{
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
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
        {"help", no_argument, NULL, 'h'}, {"for", required_argument, NULL, 'F'}, {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 4];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    uint64_t duration = 0;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern serve");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (opt) {
        case 'F':
            if (parse_seconds(optarg, &duration) < 0 || duration == 0) {
                fprintf(stderr, "tern serve: bad value '%s' for --for\n", optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(serve_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        case ':':
            fprintf(stderr, "tern serve: option '%s' needs a value (try 'tern serve --help')\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "tern serve: unknown option '%s' (try 'tern serve --help')\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "tern serve: unexpected argument '%s' (try 'tern serve --help')\n",
                argv[optind]);
        return 2;
    }
    struct tern_env env;
    int rc = tern_env_open(&env, &so, "tern serve");
    if (rc)
        return rc;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigfd >= 0)
        tern_loop_fd_watch(env.loop, sigfd, on_signal, env.loop);
    struct tern_timer stop_timer;
    tern_timer_init(&stop_timer, on_timeout, env.loop);
    if (duration)
        tern_timer_arm(env.loop, &stop_timer, tern_loop_now(env.loop) + duration);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char a[16];
    fprintf(stderr, "tern serve: %s/%u on %s, running\n", tern_ipv4_ntoa(so.addr, a), so.prefix,
            so.tap ? so.tap : so.tun);
    tern_loop_run(env.loop, TERN_TIME_NEVER);
    tern_timer_cancel(env.loop, &stop_timer);
    const struct tern_stats *st = tern_stack_stats(env.stack);
    fprintf(stderr,
            "tern serve: ip rx %llu tx %llu, icmp echo requests %llu, arp rx %llu, "
            "reassembled %llu, fragments sent %llu\n",
            (unsigned long long)st->ip.rx, (unsigned long long)st->ip.tx,
            (unsigned long long)st->icmp.echo_requests, (unsigned long long)st->arp.rx,
            (unsigned long long)st->ip.reasm_ok, (unsigned long long)st->ip.frag_tx);
    if (sigfd >= 0) {
        tern_loop_fd_unwatch(env.loop, sigfd);
        close(sigfd);
    }
    tern_env_close(&env);
    return 0;
}
