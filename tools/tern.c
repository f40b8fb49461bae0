/*
 * tools/tern.c - the `tern` command: dispatches to subcommands.
 * Thin by design: each subcommand parses flags and wires library pieces.
 */
#include <stdio.h>
#include <string.h>

#include "tern/version.h"
#include "tools.h"

static const struct tern_cmd cmds[] = {
    {"dump", "print a pcap file as tcpdump -n -r does", cmd_dump},
    {"ping", "send ICMP echo requests, as iputils ping (over TAP or TUN)", cmd_ping},
    {"nc", "netcat over TCP or UDP (-u): stdin/stdout <-> a socket (over TAP or TUN)", cmd_nc},
    {"serve", "run a stack with services: classics, DNS, DHCP, HTTP(S), POP3 (TAP or TUN)", cmd_serve},
    {"resolve", "look up a DNS name as host(1) does (over TAP or TUN)", cmd_resolve},
    {"get", "download an http:// URL (HTTP/1.1 client, over TAP or TUN)", cmd_get},
    {"traceroute", "print the route to a host as Linux traceroute -n (UDP or -I ICMP probes)", cmd_traceroute},
    {"perf", "measure throughput as iperf3 does: client (-c) or server (-s), iperf3's protocol", cmd_perf},
    {"forward", "forward TCP ports, plain or with TLS on one side, as stunnel (ssh -L)", cmd_forward},
    {"telnet", "a line-mode telnet client (for POP3, SMTP, ... by hand), as Debian's telnet", cmd_telnet},
    {"router", "forward IPv4 between two or more TAP devices (an RFC 1812 router)", cmd_router},
    {"run", "run an unmodified program (curl, nc, python3) with its sockets on tern", cmd_run},
    {"ss", "print a running stack's sockets (tern serve --control), as ss", cmd_ss},
    {"stats", "print a running stack's counters (tern serve --control)", cmd_stats},
    {"sim", "run a scenario file: hosts, routers, links and a timeline, in virtual time", cmd_sim},
    {"demo", "the demo: the seed texts' Internet in a built-in scenario, in virtual time", cmd_demo},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tern COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "\noptions:\n"
               "  -h, --help      this help\n"
               "  --version       print tern's version (\"tern MAJOR.MINOR.PATCH\") and exit\n"
               "\n`tern COMMAND --help` describes each command, as does its manual page:\n"
               "man tern-COMMAND.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tern %s\n", tern_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "tern: unknown command '%s' (try 'tern --help')\n", argv[1]);
    return 2;
}
