/*
 * tools/cmd_run.c - `tern run`: run an unmodified program over tern
 * through the preload shim (docs/run.md); `tern ss` and `tern stats`:
 * look at a running stack daemon through its control socket.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/netstat.h"
#include "app/resolver.h"
#include "ctl/ctl.h"
#include "ctl_server.h"
#include "stackopts.h"
#include "tools.h"

static const char run_help[] =
    "usage: tern run [--control PATH | STACK FLAGS] [--] PROGRAM [ARGS...]\n"
    "Run an unmodified, dynamically linked PROGRAM with its IPv4 TCP and UDP\n"
    "sockets on a tern stack (the preload shim libtern-preload.so). Every other\n"
    "descriptor (files, pipes, Unix sockets) stays the kernel's. The exit status\n"
    "is PROGRAM's.\n"
    "\n"
    "run options:\n"
    "  --control PATH  attach to the stack of `tern serve --control PATH` (shared\n"
    "                  with every program attached to it)\n"
    "  --resolver S[,S...]  private stack: DNS servers for PROGRAM's name lookups\n"
    "                  (default: the DHCP lease's servers)\n"
    "  -h, --help      this help\n"
    "Without --control, the stack flags below start a private stack for PROGRAM,\n"
    "removed when it exits.\n"
    "\n"
    "environment:\n"
    "  TERN_PRELOAD_LOG=1  the shim logs each call on a tern socket to stderr\n"
    "  TERN_PRELOAD=FILE   the shim to use (default: beside the tern binary, or\n"
    "                      PREFIX/lib/tern/libtern-preload.so)\n"
    "  TERN_PRELOAD_ASAN=1 (make SAN=1 builds) the shim built with ASan+UBSan\n"
    "\n";

/* The shim: $TERN_PRELOAD, else beside the binary (build tree), else
 * ../lib/tern/ from the binary's directory (installed). */
static int find_shim(char *out, size_t cap)
{
    const char *e = getenv("TERN_PRELOAD");
    if (e && *e) {
        snprintf(out, cap, "%s", e);
        return access(out, R_OK);
    }
    char exe[PATH_MAX - 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    snprintf(out, cap, "%s/libtern-preload.so", exe);
    if (access(out, R_OK) == 0)
        return 0;
    snprintf(out, cap, "%s/../lib/tern/libtern-preload.so", exe);
    return access(out, R_OK);
}



/* In the child: the environment for the shim, then exec. */
static void exec_program(const char *control, const char *shim, char **argv)
{
    const char *old = getenv("LD_PRELOAD");
    size_t len = strlen(shim) + (old ? strlen(old) + 2 : 1);
    char *pre = malloc(len);
    if (!pre)
        _exit(127);
    if (old && *old)
        snprintf(pre, len, "%s:%s", shim, old);
    else
        snprintf(pre, len, "%s", shim);
#ifdef TERN_PRELOAD_ASAN
    /* TERN_PRELOAD_ASAN=1 in the ASan build: the shim built with ASan
     * (libtern-preload-asan.so beside the plain one), the shared ASan
     * runtime first in line; leak checking off for the programs (not
     * tern's leaks). */
    const char *want_asan = getenv("TERN_PRELOAD_ASAN");
    const char *dot = strrchr(shim, '.');
    if (want_asan && *want_asan && strcmp(want_asan, "0") && dot && !strcmp(dot, ".so")) {
        size_t l2 = strlen(TERN_PRELOAD_ASAN) + 1 + strlen(shim) + 6 + 1 + (old ? strlen(old) + 1 : 0);
        char *p2 = malloc(l2);
        if (!p2)
            _exit(127);
        snprintf(p2, l2, "%s:%.*s-asan.so%s%s", TERN_PRELOAD_ASAN, (int)(dot - shim), shim,
                 old && *old ? ":" : "", old && *old ? old : "");
        free(pre);
        pre = p2;
        if (!getenv("ASAN_OPTIONS"))
            setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    }
#endif
    setenv("LD_PRELOAD", pre, 1);
    setenv("TERN_CONTROL", control, 1);
    execvp(argv[0], argv);
    fprintf(stderr, "tern run: %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

struct run_ctx {
    struct tern_loop *loop;
    pid_t child;
    int pidfd;
};

static void on_child_exit(int fd, void *arg)
{
    (void)fd;
    tern_loop_stop(((struct run_ctx *)arg)->loop);
}

static void on_run_signal(int signo, void *arg)
{
    struct run_ctx *rc = arg;
    kill(rc->child, signo); /* the program decides; its exit ends the run */
}

static int private_stack(const struct stack_opts *so, const struct tern_resolve_opts *ro,
                         const char *shim, char **argv)
{
    char dir[] = "/tmp/tern-run-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "tern run: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char control[sizeof dir + 16];
    snprintf(control, sizeof control, "%s/control", dir);
    struct tern_env env;
    int rc = env_open(&env, so, "tern run");
    if (rc) {
        rmdir(dir);
        return rc;
    }
    struct ctl_server *ctl = ctl_server_open(&env, control, "tern run");
    if (!ctl) {
        env_close(&env);
        rmdir(dir);
        return 1;
    }
    if (ro->nservers)
        ctl_server_set_resolver(ctl, ro);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "tern run: fork: %s\n", strerror(errno));
        ctl_server_close(ctl);
        env_close(&env);
        rmdir(dir);
        return 1;
    }
    if (pid == 0)
        exec_program(control, shim, argv);
    struct run_ctx rx = {.loop = env.loop, .child = pid, .pidfd = -1};
    rx.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (rx.pidfd >= 0)
        tern_loop_fd_watch(env.loop, rx.pidfd, on_child_exit, &rx);
    struct tool_signals sig;
    tool_signals_open(&sig, env.loop, false, on_run_signal, &rx);
    int status = 0;
    for (;;) {
        tern_loop_run(env.loop, TERN_TIME_NEVER);
        if (waitpid(pid, &status, WNOHANG) == pid || env.dev_gone.gone)
            break;
    }
    if (env.dev_gone.gone && waitpid(pid, &status, WNOHANG) != pid) {
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
    }
    tool_signals_close(&sig);
    if (rx.pidfd >= 0) {
        tern_loop_fd_unwatch(env.loop, rx.pidfd);
        close(rx.pidfd);
    }
    /* Let the stack take what the program left queued in its rings (its
     * last bytes, then FIN) before the stack goes: until every socket is
     * handed to the stack, at most 2 s; then 50 ms for the segments to go. */
    uint64_t until = tern_loop_now(env.loop) + 2000000;
    while (ctl_server_sockets(ctl) && tern_loop_now(env.loop) < until)
        tern_loop_run(env.loop, tern_loop_now(env.loop) + 10000);
    tern_loop_run(env.loop, tern_loop_now(env.loop) + 50000);
    ctl_server_close(ctl);
    env_close(&env);
    rmdir(dir);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

int cmd_run(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'},
                                        {"control", required_argument, NULL, 'C'},
                                        {"resolver", required_argument, NULL, 'R'},
                                        {NULL, 0, NULL, 0}};
    struct option longopts[STACKOPT_COUNT + 4];
    struct tern_resolve_opts ro = {0};
    stackopt_merge(longopts, sizeof longopts / sizeof longopts[0], own);
    struct stack_opts so = {0};
    const char *control = NULL;
    bool stackflags = false;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        int r = stackopt_handle(&so, opt, optarg, "tern run");
        if (r < 0)
            return 2;
        if (r > 0) {
            stackflags = true;
            continue;
        }
        switch (opt) {
        case 'C':
            control = optarg;
            break;
        case 'R':
            if (parse_dns_opt("run", optarg, &ro) < 0)
                return 2;
            stackflags = true;
            break;
        case 'h':
            fputs(run_help, stdout);
            fputs(stackopt_help, stdout);
            return 0;
        default:
            return tool_opt_error("run", opt, argv);
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "tern run: no program given (try 'tern run --help')\n");
        return 2;
    }
    if (control && stackflags) {
        fprintf(stderr, "tern run: --control attaches to a running stack: no stack flags with it\n");
        return 2;
    }
    if (!control && !stackflags) {
        fprintf(stderr, "tern run: give --control PATH or the stack flags (--tap IF --addr A/P ...)\n");
        return 2;
    }
    char shim[PATH_MAX];
    if (find_shim(shim, sizeof shim) < 0) {
        fprintf(stderr, "tern run: libtern-preload.so not found (set TERN_PRELOAD)\n");
        return 1;
    }
    if (control) {
        /* Fail here rather than let the program's sockets go to the kernel. */
        int fd = tool_ctl_connect(control, "tern run");
        if (fd < 0)
            return 1;
        close(fd);
        exec_program(control, shim, argv + optind);
        return 127; /* not reached */
    }
    so.tapped = true; /* `tern dump --control` on the private stack's socket */
    return private_stack(&so, &ro, shim, argv + optind);
}

/* ---- tern ss, tern stats ---- */

int tool_ctl_connect(const char *path, const char *prog)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "%s: control path too long\n", prog);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Sends one request and copies the text chunks of the response to stdout. */
static int ctl_text(const char *path, const char *prog, uint16_t op, int a)
{
    int fd = tool_ctl_connect(path, prog);
    if (fd < 0)
        return 1;
    struct ctl_req q = {.magic = CTL_MAGIC, .op = CTL_OP_HELLO, .a = CTL_VERSION};
    static uint8_t buf[sizeof(struct ctl_resp) + CTL_MAX_MSG];
    struct ctl_resp r;
    if (send(fd, &q, sizeof q, 0) < 0 || recv(fd, buf, sizeof buf, 0) < (ssize_t)sizeof r) {
        fprintf(stderr, "%s: %s: no answer\n", prog, path);
        close(fd);
        return 1;
    }
    memcpy(&r, buf, sizeof r);
    if (r.ret < 0) {
        fprintf(stderr, "%s: %s: protocol version %d, daemon speaks %lld\n", prog, path,
                CTL_VERSION, (long long)r.val);
        close(fd);
        return 1;
    }
    q.op = op;
    q.a = a;
    if (send(fd, &q, sizeof q, 0) < 0) {
        close(fd);
        return 1;
    }
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < (ssize_t)sizeof r) {
            fprintf(stderr, "%s: %s: answer cut short\n", prog, path);
            close(fd);
            return 1;
        }
        memcpy(&r, buf, sizeof r);
        if (r.len == 0)
            break;
        fwrite(buf + sizeof r, 1, r.len, stdout);
    }
    close(fd);
    return 0;
}

static const char ss_help[] =
    "usage: tern ss [-t] [-u] [-l] [-a] [-n] [-i] --control PATH\n"
    "Print the sockets of a running stack (`tern serve --control PATH`, shared by\n"
    "every program attached to it), one row each as `tern serve --netstat` does.\n"
    "Like ss, connected sockets only by default.\n"
    "\n"
    "options:\n"
    "  -t              TCP sockets (with neither -t nor -u: both)\n"
    "  -u              UDP sockets\n"
    "  -l              listening sockets only (TCP LISTEN, unconnected UDP)\n"
    "  -a              all sockets, listening and connected\n"
    "  -n              numeric ports (no service names)\n"
    "  -i              each TCP connection's details, as ss -i\n"
    "  --control PATH  the daemon's control socket\n"
    "  -h, --help      this help\n";

int cmd_ss(int argc, char **argv)
{
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'},
                                       {"control", required_argument, NULL, 'C'},
                                       {NULL, 0, NULL, 0}};
    const char *control = NULL;
    unsigned flags = 0;
    bool listening = false, all = false;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":tulanih", lo, NULL)) != -1) {
        switch (opt) {
        case 't': flags |= TERN_NETSTAT_TCP; break;
        case 'u': flags |= TERN_NETSTAT_UDP; break;
        case 'l': listening = true; break;
        case 'a': all = true; break;
        case 'n': flags |= TERN_NETSTAT_NUMERIC; break;
        case 'i': flags |= TERN_NETSTAT_INFO; break;
        case 'C': control = optarg; break;
        case 'h': fputs(ss_help, stdout); return 0;
        default: return tool_opt_error("ss", opt, argv);
        }
    }
    if (!control || optind != argc) {
        fprintf(stderr, "tern ss: give --control PATH (try 'tern ss --help')\n");
        return 2;
    }
    if (!all)
        flags |= listening ? TERN_NETSTAT_LISTENING : TERN_NETSTAT_CONNECTED;
    return ctl_text(control, "tern ss", CTL_OP_SS, (int)flags);
}

static const char stats_help[] =
    "usage: tern stats --control PATH\n"
    "Print the counters of a running stack (`tern serve --control PATH`): IP, ICMP,\n"
    "UDP, TCP and ARP, then the attached programs and their sockets, one line each\n"
    "as \"PROTO NAME VALUE ...\".\n"
    "\n"
    "options:\n"
    "  --control PATH  the daemon's control socket\n"
    "  -h, --help      this help\n";

int cmd_stats(int argc, char **argv)
{
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'},
                                       {"control", required_argument, NULL, 'C'},
                                       {NULL, 0, NULL, 0}};
    const char *control = NULL;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        switch (opt) {
        case 'C': control = optarg; break;
        case 'h': fputs(stats_help, stdout); return 0;
        default: return tool_opt_error("stats", opt, argv);
        }
    }
    if (!control || optind != argc) {
        fprintf(stderr, "tern stats: give --control PATH (try 'tern stats --help')\n");
        return 2;
    }
    return ctl_text(control, "tern stats", CTL_OP_STATS, 0);
}
