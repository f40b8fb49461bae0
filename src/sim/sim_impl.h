/* src/sim/sim_impl.h - the simulator's internals, shared by src/sim/sim_*.c. */
#ifndef TERN_SIM_SIM_IMPL_H
#define TERN_SIM_SIM_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/scenario.h"
#include "sim/sha256.h"
#include "sim/sim.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/pcap.h"
#include "tern/print.h"
#include "tern/socket.h"
#include "tern/stack.h"

struct sim;
struct tern_tcpplot;
struct tern_perf;

/* ---- trace taps (sim_tap.c) ---- */

#define SIM_TAP_FLOWS 16

struct sim_tap_flow {            /* what one tap remembers of a TCP conversation */
    uint32_t addr[2];
    uint16_t port[2];
    bool isn_known[2];
    uint32_t max_end[2];         /* highest sequence end seen per direction */
    bool fin_seen[2], fin_acked[2];
    uint32_t fin_end[2];
    bool synack_seen, hs_done;
    uint64_t used;
};

struct sim_tap {
    struct tern_device dev;      /* first: the public face */
    struct tern_device *inner;
    struct sim *sim;
    int node, iface, link, end;
    char label[2 * SCN_NAME_MAX + 2]; /* "node.iface" */
    struct tern_pcap_writer pw;
    bool have_pcap;
    bool print_all;              /* --trace */
    unsigned what;               /* timeline trace filter (SCN_TR_*) */
    uint32_t data_left, retrans_left;
    struct tern_printer printer;
    bool printer_used;
    struct sim_tap_flow flows[SIM_TAP_FLOWS];
    uint64_t flow_clock;
    uint64_t down_drops;
    struct sim_queue *queue;     /* this end's egress queue, modelled (sim_queue.c) */
    char line[8192];
};

struct tern_device *sim_tap_wrap(struct sim *sim, struct tern_device *inner, int node, int iface,
                                 int link, int end, FILE *pcap);

/* ---- link queues (sim_queue.c) ---- */

struct sim_queue;
/* A frame went into this tap's impairment wrapper, whose counters were
 * `before` and are `after`: follow the serializer's queue. */
void sim_queue_sent(struct sim_tap *t, size_t len, const struct tern_impair_stats *before,
                    const struct tern_impair_stats *after);
void sim_queue_free(struct sim_tap *t);
void sim_queue_summary(struct sim *sim, FILE *out);
unsigned sim_queue_plots(struct sim *sim, FILE *out);

/* ---- TCP flows seen at hosts (sim_flow.c) ---- */

#define SIM_MAX_FLOWS 64
#define SIM_TPUT_BINS 512        /* throughput bins per flow direction; sim.bin_us wide */

struct sim_flow {
    uint32_t addr[2];            /* [0] the SYN sender (client), [1] the server */
    uint16_t port[2];
    int node[2];                 /* -1 if not a scenario host's address */
    uint64_t syn_us;
    struct {
        bool isn_known, fin;
        uint32_t isn, max_end;
        uint64_t segs, retrans, last_rx_us;
    } dir[2];                    /* [0] client -> server, [1] server -> client */
    uint32_t rtt_us[2], rtt_min_us[2], rtt_max_us[2]; /* smoothed RTT samples at each end */
    const char *cc[2];           /* congestion control of each end's socket (sampled) */
    /* Delivered in order, per direction: the receiver's cumulative ACK as it
     * leaves the receiver (bytes past the ISN + 1), binned over time. */
    struct {
        bool any;
        uint32_t ack;            /* highest ACK the receiver sent */
        uint64_t bytes, first_us, last_us;
        uint64_t bins[SIM_TPUT_BINS];
    } dl[2];
    struct tern_tcpplot *plot[2]; /* plot of the data flowing in dir d, fed at its sender */
};

/* One IPv4 packet leaving (tx) or reaching (rx) a host's interface. */
void sim_flow_packet(struct sim *sim, int node, bool tx, const uint8_t *ip, size_t len);
/* Samples every host's sockets (RTT, cwnd) for flows and plots. */
void sim_flow_sample(struct sim *sim);
void sim_flow_free_all(struct sim *sim);
void sim_flow_init(struct sim *sim);

/* ---- nodes and links ---- */

struct sim_iface {
    struct tern_device *dev;     /* the tap (outermost device) */
    struct sim_tap *tap;
    struct tern_device *impair;  /* this end's egress impairment wrapper */
    int ifindex;
};

struct sim_node {
    const struct scn_node *cfg;
    struct tern_stack *stack;
    struct sim_iface ifaces[SCN_MAX_IFACES];
    FILE *out;                   /* lines attributed to the node */
    uint32_t dns;                /* resolver's server (static or from DHCP) */
    struct tern_dhcp_client *dhcpc;
    struct tern_dhcp_server *dhcpd;
    struct tern_services *svc_udp;
    struct tern_services_tcp *svc_tcp;
    struct tern_http_server *http;
    struct tern_perf *perfd;     /* perf-server */
    FILE *perfd_out;             /* its reports: discarded (the client prints them) */
    struct tern_dns_zone *zone;
    struct tern_dns_server *dnsd;
    char http_root[600];         /* served directory */
    bool http_generated;         /* root is a temporary directory we made */
    char page_file[900];
    struct tern_pop3 *pop3d;     /* pop3-server */
    char mbox[600];              /* its generated maildrop */
    struct {
        void *h;                 /* from sim_opts.tls->start */
        FILE *log;
    } tunnels[SCN_MAX_TUNNELS];
};

/* A port of a shared segment's hub (sim_build.c). */
struct sim_hub_port {
    struct sim *sim;
    int link, port;
    struct tern_device *dev; /* the hub's side of the port's memory link */
};

struct sim_link {
    const struct scn_link *cfg;
    bool down;
    FILE *pcap;
    struct sim_hub_port hub[SCN_LINK_ENDS]; /* a segment (cfg->nends > 2) */
};

/* ---- timeline actions (sim_act.c) ---- */

struct sim_act {
    struct sim *sim;
    const struct scn_action *cfg;
    struct tern_timer timer;
    bool started, done;
    int status;
    uint64_t done_us;
    FILE *out;                   /* the app's lines, labelled with the node (sim_line_file) */
    /* the running app (one of) */
    struct tern_ping *ping;
    struct tern_traceroute *tr;
    struct tern_http_get *get;
    struct tern_nc *nc;
    struct tern_resolve *res;
    struct sim_stream *stream;
    struct tern_perf *perf;
    struct sim_pop3 *pop3;
    FILE *body;                  /* get / nc output: hashed and counted */
    struct tern_sha256 sha;
    uint64_t body_bytes;
    /* nc input */
    uint64_t sent;
    bool want;
    struct tern_timer feed;
    struct tern_sha256 sent_sha;
    uint32_t peer;
};

void sim_act_start(struct sim_act *a);
/* The action is over with this exit status (0 = it went well). */
void sim_act_finish(struct sim_act *a, int status);
/* "ping", "get", ... as the timeline writes the action. */
const char *sim_act_verb(enum scn_act_kind k);
void sim_act_free(struct sim_act *a);

/* ---- UDP streams (sim_stream.c) ---- */

struct sim_stream;
#define SIM_STREAM_MAX_RX 16 /* members of a group stream */
/* to[0..nto): the receiving nodes (one for unicast; a group's members). */
struct sim_stream *sim_stream_start(struct sim *sim, int from, const int *to, unsigned nto,
                                    uint32_t dst, uint16_t port, uint64_t rate_bps, uint32_t size,
                                    uint64_t duration_us, void (*done)(void *ctx), void *ctx,
                                    int *err);
void sim_stream_report(const struct sim_stream *st, FILE *out);
void sim_stream_free(struct sim_stream *st);

/* ---- the sniffer (sim_sniff.c) ---- */

struct sim_sniff;
int sim_sniff_init(struct sim *sim);
/* A TCP frame with data at a link's first end. */
void sim_sniff_frame(struct sim *sim, int link, const uint8_t *frame, size_t len, uint32_t src,
                     uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq,
                     const uint8_t *payload, size_t plen);
void sim_sniff_summary(struct sim *sim, FILE *out);
void sim_sniff_free(struct sim *sim);

/* ---- POP3 client (sim_pop3.c) ---- */

struct sim_pop3;
struct sim_pop3 *sim_pop3_start(struct sim *sim, struct sim_act *a, struct tern_stack *s,
                                uint32_t dst, uint16_t port, int *err);
void sim_pop3_free(struct sim_pop3 *p);

/* ---- the run ---- */

struct sim {
    const struct scenario *sc;
    const struct sim_opts *opts;
    uint64_t seed;
    struct tern_loop *loop;
    FILE *out;
    unsigned nnodes, nlinks, nacts;
    struct sim_node nodes[SCN_MAX_NODES];
    struct sim_link links[SCN_MAX_LINKS];
    struct sim_act acts[SCN_MAX_ACTIONS];
    struct sim_flow flows[SIM_MAX_FLOWS];
    unsigned nflows;
    uint64_t flows_dropped;
    uint64_t bin_us;             /* width of the throughput bins (doubles as the run goes) */
    struct tern_timer sampler;
    struct tern_servdb *servdb;
    char tmpdir[256];
    char *err;
    size_t errcap;
    struct sim_sniff *sniff;     /* NULL: no POP3 server, nothing to look for */
    bool scn_error;              /* the build failed on a line of the scenario */
    unsigned failed;             /* actions failed, unfinished or not started (summary) */
};

/* Output: a FILE whose lines are printed as "[   T.TTT] LABEL: line". */
FILE *sim_line_file(struct sim *sim, const char *label);
/* The node's address to reach it (first interface with an address), 0 if none. */
uint32_t sim_node_addr(struct sim *sim, int node);
/* A target word (IPv4 literal or node name) -> address; 0 if unknown. */
uint32_t sim_target_addr(struct sim *sim, const char *target);
/* The node owning addr, -1 if none. */
int sim_addr_node(struct sim *sim, uint32_t addr);

/* --trace: print every frame of a link, node or interface (before any is sent). */
int sim_trace_select(struct sim *sim, const char *what);
/* sim_build.c */
int sim_build(struct sim *sim);
void sim_teardown(struct sim *sim);
/* sim_summary.c */
void sim_summary(struct sim *sim);

#endif
