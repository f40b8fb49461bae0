/*
 * src/sim/scenario.h - scenario files of the simulator (`tern sim`): the
 * parsed form and the parser. The format is documented in docs/scenarios.md.
 *
 * The parser is pure text -> struct: no stack, no loop, no file access (a
 * zone or directory named by a scenario is checked when the network is
 * built). Every limit is fixed (SCN_MAX_*); every error names the file, the
 * line and what is wrong ("demo.scn:12: unknown link option 'lose' ...").
 * Not: the runner (sim.h) or the apps it starts.
 */
#ifndef TERN_SIM_SCENARIO_H
#define TERN_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/nat.h"

#define SCN_MAX_NODES 32
#define SCN_MAX_IFACES 8      /* per node (TERN_MAX_IFACES) */
#define SCN_MAX_LINKS 64
#define SCN_MAX_ROUTES 16     /* per node */
#define SCN_MAX_VIA 4         /* next hops of one ECMP route */
#define SCN_MAX_ACTIONS 128
#define SCN_MAX_RECORDS 64    /* DNS records per node */
#define SCN_MAX_ARGS 16       /* words of one timeline action */
#define SCN_MAX_FWDS 8        /* port forwards per router */
#define SCN_MAX_FWRULES 16    /* firewall rules per router */
#define SCN_MAX_TUNNELS 4     /* `tunnel` lines (tern forward) per node */
#define SCN_CRED_MAX 32       /* POP3 user name and password */
#define SCN_NAME_MAX 32
#define SCN_TEXT_MAX 256
#define SCN_MAX_LINE 1024     /* longer lines are an error */
#define SCN_MAX_BYTES (1u << 20)
#define SCN_MAX_TIME_US (24ull * 3600 * 1000000) /* one virtual day */

struct scn_iface {
    char name[SCN_NAME_MAX];
    bool dhcp;                /* address from DHCP (the node's client runs on it) */
    uint32_t addr;            /* host order */
    uint8_t prefix;
    uint16_t mtu;             /* 0 = the link's */
    int line;
    int link;                 /* index of the link it is on, -1 = none yet */
};

struct scn_route {
    uint32_t dst;
    uint8_t prefix;
    unsigned nvia;
    uint32_t via[SCN_MAX_VIA];
    int line;
};

struct scn_record {
    char owner[SCN_TEXT_MAX];  /* as written: relative to the zone or absolute with '.' */
    char type[8];
    char data[SCN_TEXT_MAX];
    int line;
};

struct scn_dhcpd {
    bool on;
    int iface;                /* index into the node's ifaces */
    uint32_t first, last, router, dns;
    uint32_t lease_s;
    int line;
};

struct scn_node {
    char name[SCN_NAME_MAX];
    bool router;              /* forwards (cfg.ip_forward) */
    bool ecmp_packet;         /* per-packet ECMP instead of per flow */
    char cc[16];              /* TCP congestion control: "" (cubic), "cubic", "newreno" */
    int line;
    unsigned nifaces;
    struct scn_iface ifaces[SCN_MAX_IFACES];
    uint32_t gateway;         /* default route, 0 = none */
    int gateway_line;
    uint32_t dns;             /* resolver's server, 0 = none (or from DHCP) */
    unsigned nroutes;
    struct scn_route routes[SCN_MAX_ROUTES];
    unsigned services;        /* 1u << enum tern_svc, UDP and TCP */
    uint16_t http_port;       /* 0 = no HTTP server */
    char http_dir[SCN_TEXT_MAX]; /* served directory, "" = generated pages */
    char http_page[SCN_TEXT_MAX]; /* generated page path (e.g. "/index.html") */
    uint64_t http_page_bytes;
    int http_line;
    uint16_t perf_port;       /* 0 = no `tern perf` (iperf3) server */
    char zone[SCN_TEXT_MAX];  /* DNS zone apex ("example.test"), "" = no server */
    char zone_file[SCN_TEXT_MAX]; /* or a master file */
    int zone_line;
    unsigned nrecords;
    struct scn_record records[SCN_MAX_RECORDS];
    struct scn_dhcpd dhcpd;
    /* NAT and firewall (routers; docs/nat.md) */
    unsigned nat_ifs;         /* bit per iface index: `nat IF` */
    uint32_t nat_ext[SCN_MAX_IFACES]; /* `nat IF address A`, 0 = the iface's */
    int nat_line;
    struct tern_nat_config nat; /* mapping, filtering, timers, quotas */
    unsigned nfwds;
    struct scn_fwd {
        uint8_t proto;
        uint16_t ext, port;
        uint32_t addr;
        int line;
    } fwds[SCN_MAX_FWDS];
    /* POP3 server (src/app/pop3.c) with a generated one-message maildrop */
    uint16_t pop3_port;       /* 0 = none */
    char pop3_user[SCN_CRED_MAX], pop3_pass[SCN_CRED_MAX];
    char pop3_text[SCN_TEXT_MAX]; /* the message's body: what a sniffer looks for */
    int pop3_line;
    /* Port forwarders (`tern forward`, stunnel's modes), src/tls/forward.c */
    unsigned ntunnels;
    struct scn_tunnel {
        uint16_t lport, dport;
        uint32_t dst;
        int mode;             /* enum sim_tunnel_mode: 0 plain, 1 tls-connect, 2 tls-accept */
        char name[SCN_NAME_MAX * 2]; /* TLS server name */
        int line;
    } tunnels[SCN_MAX_TUNNELS];
    unsigned nfw;
    struct scn_fwrule {
        int iface;
        bool has_rule;        /* false: `firewall IF` alone (default deny) */
        struct tern_fw_rule r;
        int line;
    } fw[SCN_MAX_FWRULES];
};

/* Impairment of one direction of a link (units: us, bps, probabilities). */
struct scn_dir {
    uint64_t rate_bps, delay_us, jitter_us, reorder_gap_us;
    double loss, dup, reorder, corrupt;
    uint32_t queue_pkts;      /* 0 = default */
    uint64_t queue_bytes;     /* 0 = no byte limit */
    uint32_t drop_at[8];      /* scripted loss: 1-based frame numbers, 0 = unused */
};

#define SCN_LINK_ENDS 8        /* ends of a shared segment (a hub) */

struct scn_link {
    char name[SCN_NAME_MAX];
    /* The ends, in the order written: two for a cable; three or more make a
     * shared segment (a hub repeats every frame to every other end). */
    int node[SCN_LINK_ENDS], iface[SCN_LINK_ENDS];
    unsigned nends;
    uint16_t mtu;             /* 1500 default */
    bool down;                /* starts down */
    struct scn_dir dir[2];    /* [0]: end 0 -> end 1, [1]: end 1 -> end 0 */
    int line;
};

enum scn_act_kind {
    SCN_ACT_PING, SCN_ACT_TRACEROUTE, SCN_ACT_GET, SCN_ACT_NC, SCN_ACT_STREAM,
    SCN_ACT_RESOLVE, SCN_ACT_DHCP, SCN_ACT_PERF, SCN_ACT_LINK, SCN_ACT_NETSTAT, SCN_ACT_TRACE,
    SCN_ACT_SAY, SCN_ACT_POP3
};

struct scn_action {
    uint64_t at_us;
    enum scn_act_kind kind;
    int node;                 /* the host acting (-1 for link/trace/say) */
    int line;
    /* The words after the action name, checked by the parser; the runner
     * reads them through the fields below. */
    char target[SCN_TEXT_MAX]; /* host name, address, URL or link/tap name */
    uint32_t count, size, max_ttl, nqueries;
    uint64_t interval_us, duration_us, bytes, rate_bps;
    uint16_t port;
    bool icmp, udp, up, noprobe;
    bool reverse;             /* perf -R */
    uint32_t parallel;        /* perf -P */
    unsigned trace_what;      /* SCN_TR_* bits */
    uint32_t trace_data, trace_retrans; /* "data N", "retrans N" */
    char text[SCN_TEXT_MAX];  /* say TEXT; the command line echoed */
    char user[SCN_CRED_MAX], pass[SCN_CRED_MAX]; /* pop3 */
    char members[SCN_TEXT_MAX]; /* stream to a group: "NODE,NODE..." receiving it */
};

/* Trace filter bits (timeline `trace TARGET WHAT...`). */
#define SCN_TR_ALL 0x01
#define SCN_TR_HANDSHAKE 0x02
#define SCN_TR_CLOSE 0x04
#define SCN_TR_DATA 0x08
#define SCN_TR_RETRANS 0x10
#define SCN_TR_ARP 0x20
#define SCN_TR_ICMP 0x40
#define SCN_TR_UDP 0x80
#define SCN_TR_DNS 0x100
#define SCN_TR_DHCP 0x200
#define SCN_TR_OFF 0x400

struct scenario {
    char fname[SCN_TEXT_MAX]; /* for messages */
    char dir[SCN_TEXT_MAX];   /* relative paths (zone files, http dirs) start here; "" = cwd */
    uint64_t seed;
    bool have_seed;
    uint64_t until_us;        /* 0 = when the timeline is done (plus a drain) */
    char title[SCN_TEXT_MAX];
    unsigned nnodes, nlinks, nactions;
    struct scn_node nodes[SCN_MAX_NODES];
    struct scn_link links[SCN_MAX_LINKS];
    struct scn_action actions[SCN_MAX_ACTIONS];
};

/* Parses len bytes of text (need not be NUL-terminated). fname is used in
 * messages only. Returns 0, or -1 with one line in err ("FILE:LINE: what").
 * The scenario is large (~1 MB): allocate it. */
int scenario_parse(struct scenario *sc, const char *text, size_t len, const char *fname,
                   char *err, size_t errcap);
/* Reads a file (at most SCN_MAX_BYTES) and parses it. */
int scenario_load(struct scenario *sc, const char *path, char *err, size_t errcap);

/* Lookups: node by name, link by name, "node.iface" -> (node, iface). -1 if none. */
int scenario_node(const struct scenario *sc, const char *name);
int scenario_link(const struct scenario *sc, const char *name);
int scenario_endpoint(const struct scenario *sc, const char *spec, int *node, int *iface);

/* Parsers of the value syntaxes (exposed for tests): 0 or -1. */
int scn_parse_time(const char *s, uint64_t *us);     /* "1.5", "1.5s", "200ms", "10us", "2m" */
int scn_parse_rate(const char *s, uint64_t *bps);    /* "64k", "10M", "1G", "100Mbit", "2000" */
int scn_parse_bytes(const char *s, uint64_t *bytes); /* "1500", "64K", "2M" (1024-based) */
int scn_parse_prob(const char *s, double *p);        /* "2%", "0.02" */

#endif
