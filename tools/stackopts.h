/*
 * tools/stackopts.h - the stack flags every network command accepts, and
 * the wiring of loop + device (+ trace) + stack they describe.
 *
 *   --tap IF | --tun IF   attach to an existing Linux TAP (Ethernet) or TUN (raw IPv4) device
 *   --no-offload          plain frames on it (no virtio-net header, no offloads)
 *   --packet IF           attach to an existing Ethernet interface through AF_PACKET
 *   --create              create it if missing
 *   --addr A/P            our address and prefix length (IPv4 or IPv6; repeatable)
 *   --gw G                default gateway
 *   --mtu N               interface MTU (68..65535)
 *   --mac M               our MAC address (TAP)
 *   --pcap FILE           write every frame to FILE
 *   --trace               print every frame tcpdump-style as it passes
 *   --dhcp                get the address, router and DNS servers by DHCP
 *   --dhcp-fast           the same without the RFC 5227 ARP probe
 *   --impair SPEC         impair both directions (tern's impairment wrapper)
 *                         (in place of --addr; TAP only)
 */
#ifndef TERN_TOOLS_STACKOPTS_H
#define TERN_TOOLS_STACKOPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/device.h"
#include "tern/loop.h"
#include "tern/stack.h"

struct tern_dhcp_client;
struct tern_resolve_opts;

struct stack_opts {
    const char *tap, *tun, *packet; /* exactly one: the device */
    bool have_addr;
    uint32_t addr;
    uint8_t prefix;
    uint32_t gw;
    uint16_t mtu;
    bool have_mac;
    uint8_t mac[6];
    const char *pcap;
    bool trace;
    bool dhcp;
    bool dhcp_fast;               /* --dhcp-fast: no RFC 5227 probe of the offered address */
    bool impair;
    struct tern_impair imp;       /* --impair: applied to each direction */
    bool create;                  /* --create: make the --tap/--tun device if missing */
    bool no_offload;              /* --no-offload: plain frames (TERN_TUNTAP_OFFLOAD off) */
    /* --addr with an IPv6 prefix (repeatable), --gw with an IPv6 router */
    int n_addr6;
    struct tern_ipv6_addr addr6[4];
    uint8_t prefix6[4];
    bool have_gw6;
    struct tern_ipv6_addr gw6;
    bool tapped;                  /* a trace wrapper even without --pcap/--trace
                                   * (--control: `tern dump --control` taps it) */
};

/* getopt_long option table entries for the stack flags (their `val`s are
 * >= STACKOPT_BASE), to append to a command's own table; ends with a zero
 * entry. */
#define STACKOPT_BASE 1000
extern const struct option stackopt_longopts[];
#define STACKOPT_COUNT 14

/* Help text for the stack flags (for a command's --help). */
extern const char stackopt_help[];

/* Handles one option returned by getopt_long. Returns 1 if it was a stack
 * flag (stored), 0 if not, -1 on a bad value (one line printed to stderr,
 * prefixed by prog). */
int stackopt_handle(struct stack_opts *o, int opt, const char *arg, const char *prog);

/* The device's down handler (tool_dev_down) stops the loop and sets gone;
 * the command then exits 1. */
struct tool_dev_gone {
    const char *name; /* as the user gave it */
    struct tern_loop *loop;
    bool gone;
};
/* A tern_down_fn (ctx: struct tool_dev_gone): prints "tern: IF: device
 * removed" (or "device failed: ERROR"), sets gone and stops the loop. */
void tool_dev_down(void *ctx, struct tern_device *dev, int err);
/* The one line for a failed tern_tuntap_open (err: its errno), in plain
 * words: no such device (use --create), needs root, a TUN not a TAP, ... */
void tool_dev_open_error(const char *prog, const char *ifname, bool tap, int err);
/* The same for a failed tern_packet_open (--packet IF). */
void tool_packet_open_error(const char *prog, const char *ifname, int err);
/* --mtu N above the device's own MTU: prints "PROG: MTU N exceeds IF's MTU M"
 * and returns -1 (frames larger than the kernel side's MTU are dropped);
 * 0 if mtu fits (0 = the device's). */
int tool_check_mtu(const char *prog, const struct tern_device *dev, uint16_t mtu);

struct tern_env {
    struct tern_loop *loop;
    struct tern_device *dev;
    struct tern_stack *stack;
    FILE *pcap;
    int ifindex;
    struct tern_dhcp_client *dhcp; /* --dhcp: keeps the lease (renewals) while the loop runs */
    uint32_t dns[4];               /* --dhcp: DNS servers from the lease (0 = none) */
    bool dhcp_waiting;
    struct tern_device *imp_out, *imp_in; /* --impair's two wrappers (inside dev), or NULL */
    const char *ifname;
    struct tool_dev_gone dev_gone;         /* .gone: the device went away; exit 1 */
    struct tern_device *trace_dev;         /* the trace wrapper (--pcap, --trace, tap), or NULL */
};

/* Builds a real loop, the device, the stack, the interface and routes.
 * With --dhcp it then runs the loop until a DHCP lease is bound (printed
 * to stderr as "tern: DHCP lease ...") or 30 s pass (exit status 1).
 * Returns 0, or prints one line and returns 2 (bad setup) or 1 (OS error).
 * If the device goes away later (its TAP deleted), the loop stops with
 * e->dev_gone.gone set and the message printed: the command exits 1. */
int env_open(struct tern_env *e, const struct stack_opts *o, const char *prog);
/* Runs the loop until the interface's IPv6 addresses finished DAD (or
 * timeout_us passed): for a command about to send from them. */
void tool_wait_v6(struct tern_env *e, uint64_t timeout_us);
void env_close(struct tern_env *e);

/* Two lines on stderr for scripts (`tern nc -v` at exit), each counter as
 * "NAME VALUE" after the prefix, NAME a field of struct tern_stats.tcp:
 *   PROG: tcp rx N tx N retransmits N timeouts N rack_lost N tlp_probes N
 *         dsacks_rx N spurious_undos N challenge_acks N   (one line)
 *   PROG: impair out frames N lost N duplicated N reordered N in frames N
 *         lost N duplicated N reordered N          (only with --impair)
 * retransmits counts every segment sent again (RTO, fast retransmit, RACK,
 * tail loss probes); timeouts the retransmission timer's expiries. */
void tool_print_tcp_stats(const struct tern_env *e, const char *prog);

/* Merges a command's long options with stackopt_longopts into out
 * (capacity cap entries). */
void stackopt_merge(struct option *out, size_t cap, const struct option *cmd);

/* The one line every command prints for a getopt_long failure (opt ':' =
 * option without its value, anything else = unknown option), naming the
 * option as the user typed it; returns 2, the usage-error exit status. */
int tool_opt_error(const char *cmd, int opt, char **argv);

/* SIGINT and SIGTERM (and SIGUSR1 with usr1) delivered through the loop:
 * fn(signo, ctx) runs from the loop, never inside a signal handler. The
 * signals stay blocked after close (the process is about to exit). */
struct tool_signals {
    struct tern_loop *loop;
    int fd; /* -1 when signalfd failed: the signals then keep their defaults */
    void (*fn)(int signo, void *ctx);
    void *ctx;
};
void tool_signals_open(struct tool_signals *t, struct tern_loop *loop, bool usr1,
                       void (*fn)(int signo, void *ctx), void *ctx);
/* The same for every signal that would end the process silently: SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM (a command
 * that must clean up - `tern get -o` removing a partial file). */
void tool_signals_open_all(struct tool_signals *t, struct tern_loop *loop,
                           void (*fn)(int signo, void *ctx), void *ctx);
void tool_signals_close(struct tool_signals *t);
/* A tool_signals fn that stops the loop given as ctx. */
void tool_stop_loop(int signo, void *loop);

/* The exit status of every command stopped by SIGINT or SIGTERM (as a
 * shell reports a process killed by SIGINT: 128 + 2). */
#define TOOL_EXIT_INTERRUPTED 130
/* The last signal a tool_signals delivered (0: none), and the status of a
 * command it stopped: 128 + that signal (TOOL_EXIT_INTERRUPTED if none). */
extern int tool_caught_signal;
int tool_interrupted_status(void);

/* HOST as an IPv4 address: a literal, else a name from /etc/hosts, else a
 * DNS lookup (A) through dns's servers or, if none, the DHCP lease's,
 * running e's loop until it ends. 0 and *addr, or one line on stderr
 * ("PROG: HOST: name not found", "... give --dns SERVER") and 1 (2 when
 * no server is known: a usage error). */
int tool_resolve_host(struct tern_env *e, const struct tern_resolve_opts *dns, const char *host,
                      const char *prog, uint32_t *addr);

/* "A,B,C" (IPv4 addresses) into out[0..max); returns the count, -1 if bad. */
int parse_addr_list(const char *arg, uint32_t *out, int max);
/* --dns SERVER[,SERVER...] into ro->servers/nservers; on a bad list prints
 * "tern CMD: bad value ..." and returns -1 (the caller exits 2). */
struct tern_resolve_opts;
int parse_dns_opt(const char *cmd, const char *arg, struct tern_resolve_opts *ro);

/* "A.B.C.D/P" (or "A.B.C.D", prefix def_prefix) into addr/prefix; 0 ok, -1 bad. */
int parse_addr_prefix(const char *arg, uint8_t def_prefix, uint32_t *addr, uint8_t *prefix);
/* "A/P" with an IPv6 address (def_prefix when no /P). */
int parse_addr6_prefix(const char *arg, uint8_t def_prefix, struct tern_ipv6_addr *addr,
                       uint8_t *prefix);
/* 64 random bits from the OS (getrandom; the clock if that fails): stack seeds. */
uint64_t tool_os_seed(void);
/* A trace wrapper around dev (--pcap/--trace: pcap may be NULL, trace
 * prints to stdout) with wall-clock pcap timestamps and local-time trace
 * lines; NULL on failure (dev is then still the caller's). */
struct tern_device *tool_trace_wrap(struct tern_loop *loop, struct tern_device *dev, FILE *pcap,
                                    bool trace);

/* Parses a strict decimal in [lo, hi]; 0 ok, -1 bad. */
int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);
/* Parses seconds with a fraction ("0.2", "1", "10.5") into microseconds. */
int parse_seconds(const char *s, uint64_t *us);

#endif
