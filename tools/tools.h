/* tools/tools.h - subcommands of the `tern` command. */
#ifndef TERN_TOOLS_H
#define TERN_TOOLS_H

struct tern_cmd {
    const char *name;
    const char *help;
    int (*fn)(int argc, char **argv); /* argv[0] is the command name */
};

/* Each returns the process exit status: 0 ok, 1 failure, 2 usage error. */
int cmd_dump(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_nc(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_traceroute(int argc, char **argv);
int cmd_router(int argc, char **argv);
int cmd_perf(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_telnet(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_ss(int argc, char **argv);
int cmd_stats(int argc, char **argv);

/* A SOCK_SEQPACKET connection to a daemon's control socket (tern serve
 * --control PATH), or -1 with one line printed. */
int tool_ctl_connect(const char *path, const char *prog);

#endif
