/* src/app/perf_impl.h - internals shared by perf.c, perf_stream.c,
 * perf_report.c and perf_json.c. */
#ifndef TERN_APP_PERF_IMPL_H
#define TERN_APP_PERF_IMPL_H

#include <stdbool.h>
#include <stddef.h>

/* A JSON value in a text: [p, end); p NULL = absent. */
struct pj {
    const char *p, *end;
};

/* The text is one well-formed JSON object. */
bool pj_valid(const char *text, size_t len);
/* The value of obj's member key (absent if obj is not an object). */
struct pj pj_member(struct pj obj, const char *key);
/* The i-th element of an array. */
struct pj pj_index(struct pj arr, size_t i);
bool pj_number(struct pj v, double *out);
bool pj_bool(struct pj v, bool *out);
/* obj.key is true or a non-zero number. */
bool pj_true(struct pj obj, const char *key);

/* ---- the engine shared by perf.c, perf_stream.c and perf_report.c ---- */

#include <stdint.h>
#include <stdio.h>

#include "app/perf.h"
#include "tern/loop.h"
#include "tern/socket.h"

/* iperf3's control states (one signed byte on the control connection). */
enum {
    PS_TEST_START = 1,
    PS_TEST_RUNNING = 2,
    PS_TEST_END = 4,
    PS_PARAM_EXCHANGE = 9,
    PS_CREATE_STREAMS = 10,
    PS_SERVER_TERMINATE = 11,
    PS_CLIENT_TERMINATE = 12,
    PS_EXCHANGE_RESULTS = 13,
    PS_DISPLAY_RESULTS = 14,
    PS_IPERF_DONE = 16,
    PS_ACCESS_DENIED = -1,
    PS_SERVER_ERROR = -2,
};

#define COOKIE_LEN 37                 /* 36 characters and a NUL */
#define CTRL_MAX (256 * 1024)         /* the longest JSON we accept */
#define TICK_US 1000                  /* pacing (iperf3's pacing_timer default) */
#define DEF_DURATION_US 10000000ull
#define DEF_TCP_LEN (128 * 1024)
#define DEF_UDP_LEN 1460
#define DEF_UDP_BPS 1000000ull
#define SERVER_GRACE_US 10000000ull   /* a test the client never ends */
#define LINGER_POLL_US 5000
#define LINGER_MAX_US 2000000ull
#define UDP_HELLO "9876"              /* what iperf3 3.x sends (its int 0x36373839 on x86) */
#define UDP_REPLY "6789"

struct pstream {
    struct tern_perf *p;
    struct tern_sock *sk;         /* TCP data, or the client's UDP socket; NULL: server UDP */
    struct tern_sockaddr peer;    /* server UDP: the client's socket */
    int id;                       /* iperf3's: 1, 3, 4, ... */
    bool ready;                   /* cookie sent/checked, or UDP hello answered */
    uint8_t cookie[COOKIE_LEN];   /* server TCP: the cookie as it arrives */
    size_t cookie_len;            /* received (server) or sent (client) */
    uint64_t bytes, iv_bytes;
    uint64_t packets, iv_packets; /* sent (sender) / highest sequence (receiver) */
    uint64_t lost, iv_lost_base, iv_packets_base;
    uint64_t ooo;
    double jitter, prev_transit;  /* seconds */
    bool have_transit;
    uint32_t retrans_base;        /* the socket's count at the test's start */
    uint32_t retrans, iv_retrans_base;
    double end_s;
    /* the peer's results for this stream */
    bool r_have;
    double r_bytes, r_retrans, r_jitter, r_errors, r_packets, r_end;
};

struct tern_perf {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_perf_opts o;
    struct tern_perf_io io;
    bool server, finished, stopping;
    struct tern_sock *listener, *ctrl, *udp; /* udp: the server's data socket */
    char cookie[COOKIE_LEN];
    /* control input and output */
    uint8_t *rbuf, *wbuf;
    size_t rlen, rcap, wlen, woff, wcap;
    bool ctrl_eof, expect_json, expect_cookie;
    int phase;                    /* the last state sent or received */
    /* the test */
    bool udp_test, reverse, sender, running, ended; /* ended: counting is over */
    uint64_t duration_us, interval_us, bps, udp64;
    uint32_t len;
    unsigned parallel;
    struct pstream *st[TERN_PERF_MAX_STREAMS];
    unsigned nst;
    int next_id;
    uint64_t start_us, iv_start_us, end_us;
    struct tern_timer end_timer, iv_timer, tick_timer, linger_timer;
    uint8_t *buf;                 /* the payload (and the receive scratch) */
    size_t buflen;
    bool peer_retrans;
    bool lingering;
    bool sep_printed; /* the last interval report ended with the separator */
    uint64_t linger_until;            /* the peer's sender_has_retransmits */
    int tests;                    /* server: tests served */
    uint32_t client_addr;
    uint16_t client_port;
    struct tern_perf_result res;
};

/* perf.c */
void perf_all_streams_ready(struct tern_perf *p);
void perf_errmsg(struct tern_perf *p, const char *msg);
double perf_now_s(struct tern_perf *p, uint64_t t);
void perf_finish(struct tern_perf *p, int status);

/* perf_stream.c */
void perf_streams_close(struct tern_perf *p);
void perf_stream_connected_line(struct tern_perf *p, struct pstream *s);
uint32_t perf_get_be32(const uint8_t *b);
struct pstream *perf_stream_new(struct tern_perf *p);
void perf_udp_received(struct tern_perf *p, struct pstream *s, const uint8_t *d, size_t n);
void perf_data_event(struct tern_sock *sk, unsigned ev, void *ctx);
bool perf_stream_info(struct tern_perf *p, struct pstream *s, struct tern_sock_info *out);
void perf_send_data(struct tern_perf *p);

/* perf_report.c */
char *perf_results_json(struct tern_perf *p);
void perf_interval_report(struct tern_perf *p, uint64_t now);
uint32_t perf_stream_retrans(struct tern_perf *p, struct pstream *s, struct tern_sock_info *ti,
                             bool *have);
uint64_t perf_count(double v);
void perf_final_report(struct tern_perf *p);
int perf_take_results(struct tern_perf *p, const char *text, size_t len);
void perf_print_header(struct tern_perf *p, bool final);

#endif
