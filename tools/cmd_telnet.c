/*
 * tools/cmd_telnet.c - `tern telnet [STACK] HOST [PORT]`: a line-mode
 * client that behaves like Debian's telnet for line protocols (POP3, SMTP,
 * HTTP by hand): "Trying HOST...", "Connected to HOST.", "Escape character
 * is '^]'." on standard output, the server's bytes (TELNET commands
 * filtered, options refused: src/app/telnet.h) on standard output, our
 * lines sent with CR LF (RFC 854), and "Connection closed by foreign host."
 * on standard error when the server closes (exit 0), as telnet does.
 * After the end of standard input the connection stays open until the
 * server closes it or -q SECONDS pass (default 5), then tern telnet closes.
 * Not: the ^] command prompt, character mode, options we could accept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/telnet.h"
#include "servport.h"
#include "stackopts.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/wire/ipv4.h"
#include "tools.h"

static const char telnet_help[] =
    "usage: tern telnet [OPTIONS] --tap IF|--tun IF|--packet IF --addr A/P|--dhcp HOST [PORT]\n"
    "Connect to HOST (an IPv4 address) on PORT (default 23, or a service name),\n"
    "as Debian's telnet does for line protocols: standard input goes out a\n"
    "line at a time with CR LF, what the server sends is printed; every TELNET\n"
    "option the server proposes is refused (RFC 854), so real telnet servers\n"
    "work too. Exit status: 0 the server closed (\"Connection closed by foreign\n"
    "host.\") or input ended, 1 could not connect or the connection was reset,\n"
    "2 usage error.\n"
    "\n"
    "telnet options:\n"
    "  -q SECONDS      after the end of input, wait at most SECONDS for the server\n"
    "                  to close (default 5)\n"
    "  -h, --help      this help\n"
    "\n";

struct tn {
    struct tern_loop *loop;
    struct tern_sock *sk;
    struct tern_telnet t;
    char host[16];
    bool connected, stdin_eof, watching, done;
    int status;
    uint64_t quit_us;
    uint8_t pend[2 * 4096]; /* input for the server the socket has not taken */
    size_t plen, poff;
    struct tern_timer quit_timer, file_timer;
};

static void finish(struct tn *r, int status)
{
    if (r->done)
        return;
    r->done = true;
    r->status = status;
    if (r->watching)
        tern_loop_fd_unwatch(r->loop, STDIN_FILENO);
    r->watching = false;
    tern_timer_cancel(r->loop, &r->file_timer);
    tern_timer_cancel(r->loop, &r->quit_timer);
    tern_loop_stop(r->loop);
}

static void sendq(struct tn *r, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = tern_sock_send(r->sk, p, n, 0);
        if (k <= 0)
            break; /* AGAIN: the rest waits in pend (replies are tiny) */
        p += k;
        n -= (size_t)k;
    }
    if (n && r->plen + n <= sizeof r->pend) {
        memcpy(r->pend + r->plen, p, n);
        r->plen += n;
    }
}

static void watch_stdin(struct tn *r, bool on);

static void read_stdin(struct tn *r)
{
    if (r->plen > r->poff || r->done)
        return;
    uint8_t buf[4096];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        r->stdin_eof = true;
        watch_stdin(r, false);
        tern_timer_arm(r->loop, &r->quit_timer, tern_loop_now(r->loop) + r->quit_us);
        return;
    }
    r->plen = telnet_tx(buf, (size_t)n, r->pend);
    r->poff = 0;
    while (r->poff < r->plen) {
        ssize_t k = tern_sock_send(r->sk, r->pend + r->poff, r->plen - r->poff, 0);
        if (k <= 0)
            break;
        r->poff += (size_t)k;
    }
    if (r->poff == r->plen)
        r->plen = r->poff = 0;
    else
        watch_stdin(r, false); /* back-pressure: POLLOUT turns it on again */
}

static void on_stdin(int fd, void *arg)
{
    (void)fd;
    read_stdin(arg);
}

static void on_file_timer(struct tern_timer *t, void *arg)
{
    struct tn *r = arg;
    read_stdin(r);
    if (!r->stdin_eof && !r->done && !r->watching && r->plen == 0)
        tern_timer_arm(r->loop, t, tern_loop_now(r->loop));
}

static void watch_stdin(struct tn *r, bool on)
{
    if (on && !r->watching && !r->stdin_eof) {
        r->watching = tern_loop_fd_watch(r->loop, STDIN_FILENO, on_stdin, r) == 0;
        if (!r->watching)
            tern_timer_arm(r->loop, &r->file_timer, tern_loop_now(r->loop));
    } else if (!on) {
        if (r->watching)
            tern_loop_fd_unwatch(r->loop, STDIN_FILENO);
        r->watching = false;
        tern_timer_cancel(r->loop, &r->file_timer);
    }
}

static void on_quit(struct tern_timer *t, void *arg)
{
    (void)t;
    finish(arg, 0);
}

static void on_sock(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tn *r = ctx;
    if (r->done)
        return;
    if (!r->connected) {
        if (events & (TERN_POLLERR | TERN_POLLHUP)) {
            int e = tern_sock_error(sk);
            fprintf(stderr, "telnet: Unable to connect to remote host: %s\n",
                    e == TERN_E_CONNREFUSED ? "Connection refused"
                    : e == TERN_E_TIMEDOUT  ? "Connection timed out"
                                            : tern_strerror(e));
            finish(r, 1);
            return;
        }
        if (!(events & TERN_POLLOUT))
            return;
        r->connected = true;
        printf("Connected to %s.\nEscape character is '^]'.\n", r->host);
        fflush(stdout);
        watch_stdin(r, true);
    }
    uint8_t buf[4096], data[4096], reply[3 * 4096];
    for (;;) {
        ssize_t n = tern_sock_recv(sk, buf, sizeof buf, 0);
        if (n == TERN_E_AGAIN)
            break;
        if (n < 0) {
            fprintf(stderr, "telnet: %s\n", n == TERN_E_CONNRESET ? "Connection reset by peer" : tern_strerror((int)n));
            finish(r, 1);
            return;
        }
        if (n == 0) {
            fflush(stdout);
            fprintf(stderr, "Connection closed by foreign host.\n");
            finish(r, 0);
            return;
        }
        size_t dl, rl;
        telnet_rx(&r->t, buf, (size_t)n, data, &dl, reply, &rl);
        fwrite(data, 1, dl, stdout);
        fflush(stdout);
        if (rl)
            sendq(r, reply, rl);
    }
    if (events & TERN_POLLOUT) {
        while (r->poff < r->plen) {
            ssize_t k = tern_sock_send(sk, r->pend + r->poff, r->plen - r->poff, 0);
            if (k <= 0)
                break;
            r->poff += (size_t)k;
        }
        if (r->poff == r->plen) {
            r->plen = r->poff = 0;
            watch_stdin(r, true);
        }
    }
    if (events & TERN_POLLERR) {
        int e = tern_sock_error(sk);
        if (e < 0) {
            fprintf(stderr, "telnet: %s\n", e == TERN_E_CONNRESET ? "Connection reset by peer" : tern_strerror(e));
            finish(r, 1);
        }
    }
}

int cmd_telnet(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 2];
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    uint64_t quit_us = 5000000;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":hq:", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern telnet");
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        switch (opt) {
        case 'q':
            if (parse_seconds(optarg, &quit_us) < 0) {
                fprintf(stderr, "tern telnet: bad value '%s' for -q\n", optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(telnet_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default:
            return tool_opt_error("telnet", opt, argv);
        }
    }
    int nargs = argc - optind;
    if (nargs < 1 || nargs > 2) {
        fprintf(stderr, "tern telnet: expected HOST [PORT] (try 'tern telnet --help')\n");
        return 2;
    }
    struct tern_sockaddr peer = {0, 23};
    if (tern_ipv4_aton(argv[optind], &peer.addr) < 0 || !peer.addr) {
        fprintf(stderr, "tern telnet: %s: not an IPv4 address\n", argv[optind]);
        return 2;
    }
    if (nargs == 2 && tool_parse_port(argv[optind + 1], TERN_SERVDB_TCP, "tern telnet", &peer.port) < 0)
        return 2;
    struct tern_env env;
    int rc = env_open(&env, &so, "tern telnet");
    if (rc)
        return rc;
    struct tn *r = calloc(1, sizeof *r);
    if (!r) {
        env_close(&env);
        return 1;
    }
    r->loop = env.loop;
    r->quit_us = quit_us;
    r->status = 1;
    tern_ipv4_ntoa(peer.addr, r->host);
    tern_timer_init(&r->quit_timer, on_quit, r);
    tern_timer_init(&r->file_timer, on_file_timer, r);
    printf("Trying %s...\n", r->host);
    fflush(stdout);
    int e = 0;
    r->sk = tern_sock_open(env.stack, TERN_SOCK_STREAM, &e);
    if (r->sk) {
        tern_sock_set_handler(r->sk, TERN_POLLIN | TERN_POLLOUT, on_sock, r);
        e = tern_sock_connect(r->sk, &peer);
    }
    if (!r->sk || (e < 0 && e != TERN_E_INPROGRESS)) {
        fprintf(stderr, "telnet: Unable to connect to remote host: %s\n", tern_strerror(e));
        rc = 1;
    } else {
        struct tool_signals sig;
        tool_signals_open(&sig, env.loop, false, tool_stop_loop, env.loop);
        tern_loop_run(env.loop, TERN_TIME_NEVER);
        tool_signals_close(&sig);
        rc = r->done ? r->status : 0;
        watch_stdin(r, false);
        tern_timer_cancel(env.loop, &r->quit_timer);
        /* let our FIN (or the RST of a reset) leave */
        tern_sock_close(r->sk);
        r->sk = NULL;
        tern_loop_run(env.loop, tern_loop_now(env.loop) + 200000);
    }
    if (r->sk)
        tern_sock_abort(r->sk);
    free(r);
    env_close(&env);
    return rc;
}
