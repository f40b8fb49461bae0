/*
 * src/app/perf.c - `tern perf` (see perf.h): iperf3's control protocol,
 * TCP and UDP data streams, interval and final reports as iperf3 prints
 * them. The protocol facts come from watching iperf3 3.12 on loopback
 * (docs/perf.md); the code is tern's own.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/perf.h"
#include "app/perf_impl.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/wire/ipv4.h"

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

static void finish(struct tern_perf *p, int status);
static void ctrl_event(struct tern_sock *sk, unsigned ev, void *ctx);
static void data_event(struct tern_sock *sk, unsigned ev, void *ctx);
static void udp_server_event(struct tern_sock *sk, unsigned ev, void *ctx);
static void send_data(struct tern_perf *p);
static void on_linger(struct tern_timer *t, void *arg);

static void errmsg(struct tern_perf *p, const char *msg)
{
    if (p->io.err) {
        fprintf(p->io.err, "tern perf: %s\n", msg);
        fflush(p->io.err);
    }
}

static double now_s(struct tern_perf *p, uint64_t t)
{
    return t > p->start_us ? (double)(t - p->start_us) / 1e6 : 0;
}

/* ---- numbers as iperf3 prints them ---------------------------------- */

/* Three significant figures and an adaptive unit: bytes in powers of 1024
 * ("1.25 MBytes"), bits in powers of 1000 ("10.5 Mbits"). */
static void units(char *out, size_t cap, double v, bool bits)
{
    static const char *const bu[] = {"Bytes", "KBytes", "MBytes", "GBytes", "TBytes"};
    static const char *const tu[] = {"bits", "Kbits", "Mbits", "Gbits", "Tbits"};
    double base = bits ? 1000 : 1024;
    int i = 0;
    while (v >= base && i < 4) {
        v /= base;
        i++;
    }
    int prec = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
    snprintf(out, cap, "%4.*f %s", prec, v, bits ? tu[i] : bu[i]);
}

static void line_head(char *out, size_t cap, int id, double a, double b, double bytes)
{
    char xfer[32], rate[32];
    units(xfer, sizeof xfer, bytes, false);
    units(rate, sizeof rate, b > a ? bytes * 8 / (b - a) : 0, true);
    char tag[16];
    if (id < 0)
        snprintf(tag, sizeof tag, "SUM");
    else
        snprintf(tag, sizeof tag, "%3d", id);
    snprintf(out, cap, "[%s] %6.2f-%-6.2f sec  %s  %s/sec", tag, a, b, xfer, rate);
}

/* ---- control connection -------------------------------------------- */

static void ctrl_flush(struct tern_perf *p)
{
    while (p->ctrl && p->woff < p->wlen) {
        ssize_t n = tern_sock_send(p->ctrl, p->wbuf + p->woff, p->wlen - p->woff, 0);
        if (n <= 0)
            break;
        p->woff += (size_t)n;
    }
    if (p->woff == p->wlen)
        p->woff = p->wlen = 0;
}

static int ctrl_write(struct tern_perf *p, const void *d, size_t n)
{
    if (p->wlen + n > p->wcap) {
        size_t cap = p->wcap ? p->wcap : 4096;
        while (cap < p->wlen + n)
            cap *= 2;
        uint8_t *b = realloc(p->wbuf, cap);
        if (!b)
            return -1;
        p->wbuf = b;
        p->wcap = cap;
    }
    memcpy(p->wbuf + p->wlen, d, n);
    p->wlen += n;
    ctrl_flush(p);
    return 0;
}

static void ctrl_state(struct tern_perf *p, int state)
{
    uint8_t b = (uint8_t)(int8_t)state;
    p->phase = state;
    ctrl_write(p, &b, 1);
}

/* iperf3's JSON framing: a 32-bit big-endian length, then the text. */
static void ctrl_json(struct tern_perf *p, const char *text)
{
    size_t n = strlen(text);
    uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    ctrl_write(p, h, 4);
    ctrl_write(p, text, n);
}

/* ---- streams ------------------------------------------------------- */

static struct pstream *stream_new(struct tern_perf *p)
{
    if (p->nst >= TERN_PERF_MAX_STREAMS)
        return NULL;
    struct pstream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = p;
    s->id = p->nst == 0 ? 1 : (int)p->nst + 2; /* iperf3 numbers them 1, 3, 4, ... */
    p->st[p->nst++] = s;
    return s;
}

static void stream_drop(struct tern_perf *p, struct pstream *s)
{
    if (s->sk) {
        tern_sock_set_handler(s->sk, 0, NULL, NULL);
        tern_sock_close(s->sk);
    }
    for (unsigned i = 0; i < p->nst; i++)
        if (p->st[i] == s) {
            memmove(&p->st[i], &p->st[i + 1], (p->nst - i - 1) * sizeof p->st[0]);
            p->nst--;
            break;
        }
    free(s);
}

static void streams_close(struct tern_perf *p)
{
    for (unsigned i = 0; i < p->nst; i++) {
        if (p->st[i]->sk) {
            tern_sock_set_handler(p->st[i]->sk, 0, NULL, NULL);
            tern_sock_close(p->st[i]->sk);
        }
        free(p->st[i]);
        p->st[i] = NULL;
    }
    p->nst = 0;
    if (p->udp) {
        tern_sock_set_handler(p->udp, 0, NULL, NULL);
        tern_sock_close(p->udp);
        p->udp = NULL;
    }
}

/* The TCP details of a data socket (retransmissions, cwnd); false if gone. */
static bool stream_info(struct tern_perf *p, struct pstream *s, struct tern_sock_info *out)
{
    struct tern_sockaddr l, r;
    if (!s->sk || tern_sock_getsockname(s->sk, &l) < 0 || tern_sock_getpeername(s->sk, &r) < 0)
        return false;
    size_t n = tern_sock_list(p->stack, NULL, 0);
    struct tern_sock_info *rows = calloc(n + 1, sizeof *rows);
    if (!rows)
        return false;
    n = tern_sock_list(p->stack, rows, n + 1);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].type == TERN_SOCK_STREAM && rows[i].local.port == l.port &&
            rows[i].peer.addr == r.addr && rows[i].peer.port == r.port) {
            *out = rows[i];
            found = true;
            break;
        }
    }
    free(rows);
    return found;
}

static void stream_connected_line(struct tern_perf *p, struct pstream *s)
{
    struct tern_sockaddr l = {0}, r = s->peer;
    if (s->sk) {
        tern_sock_getsockname(s->sk, &l);
        tern_sock_getpeername(s->sk, &r);
    } else if (p->udp) {
        tern_sock_getsockname(p->udp, &l);
        if (!l.addr && p->ctrl) {
            struct tern_sockaddr c;
            tern_sock_getsockname(p->ctrl, &c);
            l.addr = c.addr;
        }
    }
    char a[16], b[16];
    fprintf(p->io.out, "[%3d] local %s port %u connected to %s port %u\n", s->id,
            tern_ipv4_ntoa(l.addr, a), l.port, tern_ipv4_ntoa(r.addr, b), r.port);
    fflush(p->io.out);
}

/* ---- reports ------------------------------------------------------- */

static void print_header(struct tern_perf *p, bool final)
{
    const char *h;
    if (p->udp_test)
        h = p->sender && !final ? "Total Datagrams" : "Jitter    Lost/Total Datagrams";
    else
        h = final ? (p->sender || !p->server ? "Retr" : "")
                  : (p->sender ? "Retr  Cwnd" : "");
    fprintf(p->io.out, "[ ID] Interval           Transfer     Bitrate%s%s\n", *h ? "         " : "",
            h);
}

static uint32_t stream_retrans(struct tern_perf *p, struct pstream *s, struct tern_sock_info *ti,
                               bool *have)
{
    *have = !p->udp_test && p->sender && stream_info(p, s, ti);
    /* the count only grows; a connection the peer has closed reports 0 */
    if (*have && ti->retransmits >= s->retrans_base && ti->retransmits - s->retrans_base > s->retrans)
        s->retrans = ti->retransmits - s->retrans_base;
    return s->retrans;
}

static void interval_report(struct tern_perf *p, uint64_t now)
{
    double a = now_s(p, p->iv_start_us), b = now_s(p, now);
    char line[160], cw[32];
    uint64_t sum_bytes = 0, sum_pk = 0, sum_lost = 0;
    uint32_t sum_retr = 0;
    double sum_jit = 0;
    for (unsigned i = 0; i < p->nst; i++) {
        struct pstream *s = p->st[i];
        uint64_t bytes = s->bytes - s->iv_bytes;
        line_head(line, sizeof line, s->id, a, b, (double)bytes);
        sum_bytes += bytes;
        if (p->udp_test && p->sender) {
            uint64_t pk = s->packets - s->iv_packets_base;
            fprintf(p->io.out, "%s  %" PRIu64 "  \n", line, pk);
            sum_pk += pk;
        } else if (p->udp_test) {
            uint64_t pk = s->packets - s->iv_packets_base, lost = s->lost - s->iv_lost_base;
            fprintf(p->io.out, "%s  %5.3f ms  %" PRIu64 "/%" PRIu64 " (%.2g%%)  \n", line,
                    s->jitter * 1e3, lost, pk, pk ? 100.0 * (double)lost / (double)pk : 0.0);
            sum_pk += pk;
            sum_lost += lost;
            sum_jit += s->jitter;
        } else if (p->sender) {
            struct tern_sock_info ti;
            bool have;
            uint32_t r = stream_retrans(p, s, &ti, &have);
            units(cw, sizeof cw, have ? (double)ti.cwnd : 0, false);
            fprintf(p->io.out, "%s  %3u   %s       \n", line, r - s->iv_retrans_base, cw);
            sum_retr += r - s->iv_retrans_base;
            s->iv_retrans_base = r;
        } else {
            fprintf(p->io.out, "%s                  \n", line);
        }
        s->iv_bytes = s->bytes;
        s->iv_packets_base = s->packets;
        s->iv_lost_base = s->lost;
    }
    if (p->nst > 1) {
        line_head(line, sizeof line, -1, a, b, (double)sum_bytes);
        if (p->udp_test && p->sender)
            fprintf(p->io.out, "%s  %" PRIu64 "  \n", line, sum_pk);
        else if (p->udp_test)
            fprintf(p->io.out, "%s  %5.3f ms  %" PRIu64 "/%" PRIu64 " (%.2g%%)  \n", line,
                    sum_jit / p->nst * 1e3, sum_lost, sum_pk,
                    sum_pk ? 100.0 * (double)sum_lost / (double)sum_pk : 0.0);
        else if (p->sender)
            fprintf(p->io.out, "%s  %3u             \n", line, sum_retr);
        else
            fprintf(p->io.out, "%s                  \n", line);
        fprintf(p->io.out, "- - - - - - - - - - - - - - - - - - - - - - - - -\n");
    }
    p->sep_printed = p->nst > 1;
    fflush(p->io.out);
    p->iv_start_us = now;
}

/* One final line: bytes over secs, with the UDP or TCP columns. */
static void final_line(struct tern_perf *p, int id, double secs, double bytes, bool retr_col,
                       double retr, double jitter, double lost, double pk, const char *who)
{
    char line[160];
    line_head(line, sizeof line, id, 0, secs, bytes);
    if (p->udp_test)
        fprintf(p->io.out, "%s  %5.3f ms  %.0f/%.0f (%.2g%%)  %s\n", line, jitter * 1e3, lost, pk,
                pk > 0 ? 100.0 * lost / pk : 0.0, who);
    else if (retr_col)
        fprintf(p->io.out, "%s  %3.0f             %s\n", line, retr, who);
    else
        fprintf(p->io.out, "%s                  %s\n", line, who);
}

/* A count from either end as an integer; iperf3 sends -1 for "none". */
static uint64_t count(double v)
{
    return v > 0 && v < 1.8e19 ? (uint64_t)v : 0;
}

/* The summary: on the client both ends' lines (the peer's from its
 * results), on the server its own. Fills p->res. */
static void final_report(struct tern_perf *p)
{
    struct tern_perf_result *r = &p->res;
    memset(r, 0, sizeof *r);
    r->valid = true;
    double secs = now_s(p, p->end_us ? p->end_us : tern_loop_now(p->loop));
    r->seconds = secs;
    if (!p->sep_printed)
        fprintf(p->io.out, "- - - - - - - - - - - - - - - - - - - - - - - - -\n");
    print_header(p, true);
    double s_sum[5] = {0}, r_sum[5] = {0}; /* bytes, retr, jitter, lost, packets */
    double s_secs = secs, r_secs = secs;
    bool retr_col = p->sender ? !p->udp_test : p->peer_retrans && !p->udp_test;
    for (unsigned i = 0; i < p->nst; i++) {
        struct pstream *s = p->st[i];
        struct tern_sock_info ti;
        bool have;
        if (!p->udp_test && p->sender)
            stream_retrans(p, s, &ti, &have);
        /* ours */
        double mine[5] = {(double)s->bytes, (double)s->retrans, p->sender ? 0 : s->jitter,
                          p->sender ? 0 : (double)s->lost, (double)s->packets};
        double theirs[5] = {s->r_bytes, s->r_retrans, s->r_jitter, s->r_errors, s->r_packets};
        double *snd = p->sender ? mine : theirs, *rcv = p->sender ? theirs : mine;
        double snd_t = p->sender ? secs : (s->r_end > 0 ? s->r_end : secs);
        double rcv_t = p->sender ? (s->r_end > 0 ? s->r_end : secs) : secs;
        bool show_peer = !p->server && s->r_have;
        if (p->sender || show_peer) {
            final_line(p, s->id, snd_t, snd[0], retr_col, snd[1], snd[2], snd[3], snd[4], "sender");
            for (int k = 0; k < 5; k++)
                s_sum[k] += snd[k];
            s_secs = snd_t;
        }
        if (!p->sender || show_peer) {
            final_line(p, s->id, rcv_t, rcv[0], false, 0, rcv[2], rcv[3], rcv[4], "receiver");
            for (int k = 0; k < 5; k++)
                r_sum[k] += rcv[k];
            r_secs = rcv_t;
        }
        r->sent_bytes += count(snd[0]);
        r->received_bytes += count(rcv[0]);
        r->retransmits += count(snd[1]); /* -1 from a peer without the count */
        r->lost += count(rcv[3]);
        r->packets += count(rcv[4]);
        r->jitter_ms += rcv[2] * 1e3 / p->nst;
    }
    if (p->nst > 1) {
        if (p->sender || !p->server)
            final_line(p, -1, s_secs, s_sum[0], retr_col, s_sum[1], s_sum[2] / p->nst, s_sum[3],
                       s_sum[4], "sender");
        if (!p->sender || !p->server)
            final_line(p, -1, r_secs, r_sum[0], false, 0, r_sum[2] / p->nst, r_sum[3], r_sum[4],
                       "receiver");
    }
    fflush(p->io.out);
}

/* Our results, as iperf3's get_results reads them. */
static char *results_json(struct tern_perf *p)
{
    size_t cap = 256 + (size_t)p->nst * 256;
    char *j = malloc(cap);
    if (!j)
        return NULL;
    double secs = now_s(p, p->end_us);
    bool tcp_sender = p->sender && !p->udp_test;
    size_t n = (size_t)snprintf(j, cap,
                                "{\"cpu_util_total\":0,\"cpu_util_user\":0,\"cpu_util_system\":0,"
                                "\"sender_has_retransmits\":%d,%s\"streams\":[",
                                tcp_sender ? 1 : p->sender ? 0 : -1,
                                p->udp_test ? "" : "\"congestion_used\":\"cubic\",");
    for (unsigned i = 0; i < p->nst; i++) {
        struct pstream *s = p->st[i];
        struct tern_sock_info ti;
        bool have;
        if (tcp_sender)
            stream_retrans(p, s, &ti, &have);
        n += (size_t)snprintf(j + n, cap - n,
                              "%s{\"id\":%d,\"bytes\":%" PRIu64 ",\"retransmits\":%lld,"
                              "\"jitter\":%.9g,\"errors\":%" PRIu64 ",\"packets\":%" PRIu64
                              ",\"start_time\":0,\"end_time\":%.6f}",
                              i ? "," : "", s->id, s->bytes,
                              tcp_sender ? (long long)s->retrans : -1LL,
                              p->sender ? 0.0 : s->jitter, p->sender ? 0 : s->lost, s->packets,
                              secs);
    }
    snprintf(j + n, cap - n, "]}");
    return j;
}

/* The peer's results (iperf3's send_results object). */
static int take_results(struct tern_perf *p, const char *text, size_t len)
{
    if (!pj_valid(text, len))
        return -1;
    struct pj root = {text, text + len};
    double d;
    if (!pj_number(pj_member(root, "sender_has_retransmits"), &d))
        return -1;
    p->peer_retrans = d == 1;
    struct pj arr = pj_member(root, "streams");
    for (size_t i = 0;; i++) {
        struct pj e = pj_index(arr, i);
        if (!e.p)
            break;
        double id;
        if (!pj_number(pj_member(e, "id"), &id))
            return -1;
        struct pstream *s = NULL;
        for (unsigned k = 0; k < p->nst; k++)
            if (p->st[k]->id == (int)id)
                s = p->st[k];
        if (!s)
            return -1; /* as iperf3: a stream id we do not have */
        if (!pj_number(pj_member(e, "bytes"), &s->r_bytes) ||
            !pj_number(pj_member(e, "retransmits"), &s->r_retrans) ||
            !pj_number(pj_member(e, "jitter"), &s->r_jitter) ||
            !pj_number(pj_member(e, "errors"), &s->r_errors) ||
            !pj_number(pj_member(e, "packets"), &s->r_packets))
            return -1;
        if (!pj_number(pj_member(e, "end_time"), &s->r_end))
            s->r_end = 0;
        s->r_have = true;
    }
    return 0;
}

/* ---- the test's timeline ------------------------------------------ */

static void test_stop(struct tern_perf *p)
{
    if (!p->running)
        return;
    p->running = false;
    p->ended = true;
    p->end_us = tern_loop_now(p->loop);
    tern_timer_cancel(p->loop, &p->end_timer);
    tern_timer_cancel(p->loop, &p->tick_timer);
    tern_timer_cancel(p->loop, &p->iv_timer);
    if (p->interval_us && p->end_us - p->iv_start_us > p->interval_us / 10)
        interval_report(p, p->end_us);
    for (unsigned i = 0; i < p->nst; i++) {
        struct tern_sock_info ti;
        bool have;
        if (!p->udp_test && p->sender)
            stream_retrans(p, p->st[i], &ti, &have);
    }
}

static void on_iv(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_perf *p = arg;
    uint64_t now = tern_loop_now(p->loop);
    interval_report(p, now);
    tern_timer_arm(p->loop, &p->iv_timer, p->iv_start_us + p->interval_us);
}

static void on_tick(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_perf *p = arg;
    send_data(p);
    if (p->running)
        tern_timer_arm(p->loop, &p->tick_timer, tern_loop_now(p->loop) + TICK_US);
}

static void on_end(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_perf *p = arg;
    if (!p->server && !p->running) { /* -w: still connecting */
        errmsg(p, "unable to connect to server: connection timed out");
        finish(p, 1);
        return;
    }
    if (p->server) { /* the client never ended it */
        errmsg(p, "the client did not end the test; closing it");
        test_stop(p);
        finish(p, 1);
        return;
    }
    test_stop(p);
    ctrl_state(p, PS_TEST_END);
}

static void test_begin(struct tern_perf *p)
{
    uint64_t now = tern_loop_now(p->loop);
    p->running = true;
    p->sep_printed = false;
    p->start_us = p->iv_start_us = now;
    p->end_us = 0;
    for (unsigned i = 0; i < p->nst; i++) {
        struct pstream *s = p->st[i];
        struct tern_sock_info ti;
        if (!p->udp_test && p->sender && stream_info(p, s, &ti))
            s->retrans_base = ti.retransmits;
    }
    print_header(p, false);
    fflush(p->io.out);
    tern_timer_arm(p->loop, &p->end_timer,
                   now + p->duration_us + (p->server ? SERVER_GRACE_US : 0));
    if (p->interval_us)
        tern_timer_arm(p->loop, &p->iv_timer, now + p->interval_us);
    if (p->sender && (p->udp_test || p->bps))
        tern_timer_arm(p->loop, &p->tick_timer, now + TICK_US);
    send_data(p);
}

/* ---- data ---------------------------------------------------------- */

/* Bytes stream s may send now under the rate (unlimited: SIZE_MAX). */
static uint64_t allowance(struct tern_perf *p, struct pstream *s)
{
    if (!p->bps)
        return UINT64_MAX;
    uint64_t el = tern_loop_now(p->loop) - p->start_us;
    uint64_t due = (uint64_t)((double)p->bps * (double)el / 8e6);
    return due > s->bytes ? due - s->bytes : 0;
}

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void send_stream(struct tern_perf *p, struct pstream *s)
{
    if (!s->ready)
        return;
    uint64_t allow = allowance(p, s);
    if (p->udp_test) {
        /* a datagram whenever the rate owes us one: time and sequence first */
        while (allow > 0 && p->running) {
            uint64_t t = tern_loop_now(p->loop);
            uint64_t seq = s->packets + 1;
            put_be32(p->buf, (uint32_t)(t / 1000000));
            put_be32(p->buf + 4, (uint32_t)(t % 1000000));
            if (p->udp64) {
                put_be32(p->buf + 8, (uint32_t)(seq >> 32));
                put_be32(p->buf + 12, (uint32_t)seq);
            } else {
                put_be32(p->buf + 8, (uint32_t)seq);
            }
            ssize_t n = s->sk ? tern_sock_send(s->sk, p->buf, p->len, 0)
                              : tern_sock_sendto(p->udp, p->buf, p->len, 0, &s->peer);
            if (n < 0)
                return; /* queue full or no ARP yet: the next tick tries again */
            s->packets = seq;
            s->bytes += p->len;
            allow = allow > p->len ? allow - p->len : 0;
        }
        return;
    }
    while (allow > 0 && p->running) {
        size_t k = p->len;
        if (allow < k)
            k = (size_t)allow;
        ssize_t n = tern_sock_send(s->sk, p->buf, k, 0);
        if (n <= 0)
            return;
        s->bytes += (uint64_t)n;
        allow -= (uint64_t)n;
    }
}

static void send_data(struct tern_perf *p)
{
    if (!p->running || !p->sender)
        return;
    for (unsigned i = 0; i < p->nst; i++)
        send_stream(p, p->st[i]);
}

/* RFC 3550 s6.4.1 interarrival jitter and iperf3's loss count. */
static void udp_received(struct tern_perf *p, struct pstream *s, const uint8_t *d, size_t n)
{
    if (n < (p->udp64 ? 16u : 12u) || p->ended)
        return;
    s->bytes += n;
    uint64_t sent_us = (uint64_t)get_be32(d) * 1000000 + get_be32(d + 4);
    uint64_t seq = p->udp64 ? (uint64_t)get_be32(d + 8) << 32 | get_be32(d + 12) : get_be32(d + 8);
    if (seq > s->packets) {
        if (seq > s->packets + 1)
            s->lost += seq - 1 - s->packets; /* a gap: lost unless they come later */
        s->packets = seq;
    } else {
        s->ooo++;
        if (s->lost > 0)
            s->lost--; /* a late one fills a gap */
    }
    /* transit time in seconds; the two clocks differ by a constant, which
     * cancels in D (RFC 3550 s6.4.1) */
    double transit = ((double)tern_loop_now(p->loop) - (double)sent_us) / 1e6;
    if (s->have_transit) {
        double dd = fabs(transit - s->prev_transit);
        s->jitter += (dd - s->jitter) / 16.0;
    }
    s->prev_transit = transit;
    s->have_transit = true;
}

static void recv_stream(struct tern_perf *p, struct pstream *s)
{
    for (;;) {
        ssize_t n = tern_sock_recv(s->sk, p->buf, p->buflen, 0);
        if (n <= 0)
            return;
        if (p->udp_test)
            udp_received(p, s, p->buf, (size_t)n);
        else if (!p->ended)
            s->bytes += (uint64_t)n;
    }
}

static void all_streams_ready(struct tern_perf *p);

static void data_event(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct pstream *s = ctx;
    struct tern_perf *p = s->p;
    (void)sk;
    if (p->finished)
        return;
    if (!s->ready) {
        if (p->server && !p->udp_test) {
            /* the stream's first 37 bytes are the test's cookie */
            ssize_t n = tern_sock_recv(s->sk, s->cookie + s->cookie_len,
                                       COOKIE_LEN - s->cookie_len, 0);
            if (n > 0)
                s->cookie_len += (size_t)n;
            if (s->cookie_len == COOKIE_LEN) {
                if (memcmp(s->cookie, p->cookie, COOKIE_LEN) != 0) {
                    uint8_t b = (uint8_t)(int8_t)PS_ACCESS_DENIED;
                    tern_sock_send(s->sk, &b, 1, 0);
                    stream_drop(p, s);
                    return;
                }
                s->ready = true;
                all_streams_ready(p);
                if (!p->sender)
                    recv_stream(p, s);
            } else if (n == 0 || (ev & TERN_POLLERR)) {
                stream_drop(p, s);
            }
            return;
        }
        if (!p->server && !p->udp_test) {
            if (ev & TERN_POLLERR) {
                int e = tern_sock_error(s->sk);
                char m[128];
                snprintf(m, sizeof m, "unable to connect stream: %s",
                         tern_strerror(e ? e : TERN_E_CONNREFUSED));
                errmsg(p, m);
                finish(p, 1);
                return;
            }
            if (ev & TERN_POLLOUT) {
                ssize_t n = tern_sock_send(s->sk, p->cookie + s->cookie_len,
                                           COOKIE_LEN - s->cookie_len, 0);
                if (n > 0)
                    s->cookie_len += (size_t)n;
                if (s->cookie_len == COOKIE_LEN) {
                    s->ready = true;
                    stream_connected_line(p, s);
                }
            }
            return;
        }
        if (!p->server && p->udp_test) {
            /* the server's 4-byte answer to our hello */
            uint8_t b[8];
            ssize_t n = tern_sock_recv(s->sk, b, sizeof b, 0);
            if (n == 4) {
                s->ready = true;
                stream_connected_line(p, s);
            } else if (n < 0 && n != TERN_E_AGAIN) {
                errmsg(p, "unable to connect UDP stream: connection refused");
                finish(p, 1);
            }
            return;
        }
        return;
    }
    if (!p->sender || p->udp_test)
        recv_stream(p, s);
    else if (ev & TERN_POLLIN)
        recv_stream(p, s); /* nothing is expected; keep the queue empty */
    if (p->sender && (ev & TERN_POLLOUT) && !p->bps)
        send_stream(p, s);
}

/* ---- server --------------------------------------------------------- */

static void server_reset(struct tern_perf *p)
{
    tern_timer_cancel(p->loop, &p->end_timer);
    tern_timer_cancel(p->loop, &p->tick_timer);
    tern_timer_cancel(p->loop, &p->iv_timer);
    p->running = p->ended = false;
    streams_close(p);
    if (p->ctrl) {
        tern_sock_set_handler(p->ctrl, 0, NULL, NULL);
        tern_sock_close(p->ctrl);
        p->ctrl = NULL;
    }
    p->rlen = p->wlen = p->woff = 0;
    p->ctrl_eof = p->expect_json = false;
    p->phase = 0;
    if (p->o.one_off && p->tests > 0) {
        finish(p, p->res.valid ? 0 : 1);
        return;
    }
    if (p->tests > 0 || p->res.valid) {
        fprintf(p->io.out, "-----------------------------------------------------------\n"
                           "Server listening on %u (test #%d)\n"
                           "-----------------------------------------------------------\n",
                p->o.port, p->tests + 1);
        fflush(p->io.out);
    }
}

static void all_streams_ready(struct tern_perf *p)
{
    if (p->nst < p->parallel)
        return;
    for (unsigned i = 0; i < p->nst; i++)
        if (!p->st[i]->ready)
            return;
    for (unsigned i = 0; i < p->nst; i++)
        stream_connected_line(p, p->st[i]);
    ctrl_state(p, PS_TEST_START);
    ctrl_state(p, PS_TEST_RUNNING);
    test_begin(p);
}

static void udp_server_event(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct tern_perf *p = ctx;
    (void)ev;
    for (;;) {
        struct tern_sockaddr from;
        ssize_t n = tern_sock_recvfrom(sk, p->buf, p->buflen, 0, &from, NULL);
        if (n < 0)
            return;
        struct pstream *s = NULL;
        for (unsigned i = 0; i < p->nst; i++)
            if (p->st[i]->peer.addr == from.addr && p->st[i]->peer.port == from.port)
                s = p->st[i];
        if (!s && p->phase == PS_CREATE_STREAMS && n == 4 && p->nst < p->parallel &&
            from.addr == p->client_addr) {
            s = stream_new(p);
            if (!s)
                return;
            s->peer = from;
            s->ready = true;
            tern_sock_sendto(sk, UDP_REPLY, 4, 0, &from);
            all_streams_ready(p);
            continue;
        }
        if (s && n == 4 && !p->running) {
            tern_sock_sendto(sk, UDP_REPLY, 4, 0, &from); /* a repeated hello */
            continue;
        }
        if (s && !p->sender)
            udp_received(p, s, p->buf, (size_t)n);
    }
}

/* The client's parameters (iperf3's send_parameters object). */
static int server_params(struct tern_perf *p, const char *text, size_t len)
{
    if (!pj_valid(text, len))
        return -1;
    struct pj root = {text, text + len};
    double d;
    p->udp_test = pj_true(root, "udp");
    if (!p->udp_test && !pj_true(root, "tcp"))
        return -1; /* SCTP */
    if (pj_true(root, "bidirectional")) {
        errmsg(p, "the client asked for --bidir, which tern perf does not do");
        return -1;
    }
    p->reverse = pj_true(root, "reverse");
    p->sender = p->reverse;
    p->duration_us = pj_number(pj_member(root, "time"), &d) && d > 0 ? (uint64_t)(d * 1e6)
                                                                       : DEF_DURATION_US;
    p->parallel = pj_number(pj_member(root, "parallel"), &d) && d >= 1 && d <= TERN_PERF_MAX_STREAMS
                      ? (unsigned)d : 1;
    p->len = pj_number(pj_member(root, "len"), &d) && d >= 16 && d <= 1024 * 1024
                 ? (uint32_t)d : (p->udp_test ? DEF_UDP_LEN : DEF_TCP_LEN);
    if (p->udp_test && p->len > 65507)
        p->len = 65507;
    p->bps = pj_number(pj_member(root, "bandwidth"), &d) && d > 0 ? (uint64_t)d
             : p->udp_test ? DEF_UDP_BPS : 0;
    p->udp64 = pj_true(root, "udp_counters_64bit");
    p->interval_us = p->o.interval_set ? p->o.interval_us : 1000000;
    return 0;
}

static int alloc_buf(struct tern_perf *p)
{
    size_t want = p->len > 65536 ? p->len : 65536;
    if (p->buflen < want) {
        uint8_t *b = realloc(p->buf, want);
        if (!b)
            return -1;
        p->buf = b;
        p->buflen = want;
    }
    /* a payload that does not compress (iperf3 sends random bytes too) */
    uint64_t x = tern_stack_random(p->stack) | 1;
    for (size_t i = 0; i < p->buflen; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p->buf[i] = (uint8_t)x;
    }
    return 0;
}

static void server_json(struct tern_perf *p, const uint8_t *d, size_t n)
{
    if (p->phase == PS_PARAM_EXCHANGE) {
        if (server_params(p, (const char *)d, n) < 0 || alloc_buf(p) < 0) {
            errmsg(p, "bad parameters from the client");
            uint8_t b = (uint8_t)(int8_t)PS_SERVER_ERROR;
            ctrl_write(p, &b, 1);
            server_reset(p);
            return;
        }
        if (p->udp_test) {
            int err;
            p->udp = tern_sock_open(p->stack, TERN_SOCK_DGRAM, &err);
            struct tern_sockaddr la = {.port = p->o.port};
            if (!p->udp || tern_sock_bind(p->udp, &la) < 0) {
                errmsg(p, "cannot bind the UDP port");
                server_reset(p);
                return;
            }
            tern_sock_setopt(p->udp, TERN_SO_RCVBUF, 1024 * 1024);
            tern_sock_set_handler(p->udp, TERN_POLLIN, udp_server_event, p);
        }
        ctrl_state(p, PS_CREATE_STREAMS);
        return;
    }
    /* EXCHANGE_RESULTS: the client's results first, then ours */
    if (take_results(p, (const char *)d, n) < 0)
        errmsg(p, "bad results from the client");
    char *j = results_json(p);
    if (j) {
        ctrl_json(p, j);
        free(j);
    }
    ctrl_state(p, PS_DISPLAY_RESULTS);
    final_report(p);
    p->tests++;
}

static void server_state(struct tern_perf *p, int state)
{
    switch (state) {
    case PS_TEST_END:
        test_stop(p);
        for (unsigned i = 0; i < p->nst; i++)
            if (p->st[i]->sk) {
                /* as iperf3: the server closes the data connections */
                tern_sock_set_handler(p->st[i]->sk, 0, NULL, NULL);
                tern_sock_close(p->st[i]->sk);
                p->st[i]->sk = NULL;
            }
        ctrl_state(p, PS_EXCHANGE_RESULTS);
        p->expect_json = true;
        break;
    case PS_IPERF_DONE:
        server_reset(p);
        break;
    case PS_CLIENT_TERMINATE:
        test_stop(p);
        fprintf(p->io.out, "iperf3: the client has terminated\n");
        fflush(p->io.out);
        p->tests++;
        server_reset(p);
        break;
    default:
        errmsg(p, "unexpected state from the client");
        p->tests++;
        server_reset(p);
        break;
    }
}

static void on_accept(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct tern_perf *p = ctx;
    (void)ev;
    for (;;) {
        struct tern_sockaddr peer;
        struct tern_sock *c = tern_sock_accept(sk, &peer, NULL);
        if (!c)
            return;
        if (!p->ctrl) {
            char a[16];
            p->ctrl = c;
            p->client_addr = peer.addr;
            p->client_port = peer.port;
            p->expect_cookie = true;
            p->res.valid = false;
            fprintf(p->io.out, "Accepted connection from %s, port %u\n",
                    tern_ipv4_ntoa(peer.addr, a), peer.port);
            fflush(p->io.out);
            tern_sock_set_handler(c, TERN_POLLIN | TERN_POLLOUT, ctrl_event, p);
            ctrl_event(c, tern_sock_poll(c), p);
            continue;
        }
        if (p->phase == PS_CREATE_STREAMS && !p->udp_test && p->nst < p->parallel) {
            struct pstream *s = stream_new(p);
            if (!s) {
                tern_sock_abort(c);
                continue;
            }
            s->sk = c;
            tern_sock_setopt(c, TERN_SO_RCVBUF, 1024 * 1024);
            tern_sock_set_handler(c, TERN_POLLIN | TERN_POLLOUT, data_event, s);
            data_event(c, tern_sock_poll(c), s);
            continue;
        }
        /* busy: as iperf3, one byte ACCESS_DENIED and close */
        uint8_t b = (uint8_t)(int8_t)PS_ACCESS_DENIED;
        tern_sock_send(c, &b, 1, 0);
        tern_sock_close(c);
    }
}

/* ---- client --------------------------------------------------------- */

static int client_params(struct tern_perf *p)
{
    char j[512];
    int n = snprintf(j, sizeof j, "{\"%s\":true,\"omit\":0,\"time\":%.6g,\"num\":0,"
                                  "\"blockcount\":0,\"parallel\":%u,%s\"len\":%u,",
                     p->udp_test ? "udp" : "tcp", (double)p->duration_us / 1e6, p->parallel,
                     p->reverse ? "\"reverse\":true," : "", p->len);
    if (p->bps)
        n += snprintf(j + n, sizeof j - (size_t)n, "\"bandwidth\":%" PRIu64 ",", p->bps);
    snprintf(j + n, sizeof j - (size_t)n,
             "\"pacing_timer\":1000,\"client_version\":\"tern-perf\"}");
    ctrl_json(p, j);
    return 0;
}

static void client_streams(struct tern_perf *p)
{
    for (unsigned i = 0; i < p->parallel; i++) {
        struct pstream *s = stream_new(p);
        int err;
        if (!s || !(s->sk = tern_sock_open(p->stack, p->udp_test ? TERN_SOCK_DGRAM
                                                                  : TERN_SOCK_STREAM, &err))) {
            errmsg(p, "cannot open a data socket");
            finish(p, 1);
            return;
        }
        struct tern_sockaddr to = {.addr = p->o.addr, .port = p->o.port};
        tern_sock_setopt(s->sk, TERN_SO_RCVBUF, 1024 * 1024);
        tern_sock_set_handler(s->sk, TERN_POLLIN | TERN_POLLOUT, data_event, s);
        int r = tern_sock_connect(s->sk, &to);
        if (r < 0 && r != TERN_E_INPROGRESS) {
            char m[128];
            snprintf(m, sizeof m, "unable to connect stream: %s", tern_strerror(r));
            errmsg(p, m);
            finish(p, 1);
            return;
        }
        if (p->udp_test)
            tern_sock_send(s->sk, UDP_HELLO, 4, 0);
    }
}

/* After IPERF_DONE: done() only once the server has the byte (a tool
 * exits right after done(), taking its stack with it). */
static void on_linger(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_perf *p = arg;
    struct tern_sockaddr l, r;
    bool drained = true;
    if (p->ctrl && tern_sock_getsockname(p->ctrl, &l) == 0 &&
        tern_sock_getpeername(p->ctrl, &r) == 0) {
        struct tern_sock_info rows[64];
        size_t n = tern_sock_list(p->stack, rows, 64);
        for (size_t i = 0; i < n && i < 64; i++)
            if (rows[i].type == TERN_SOCK_STREAM && rows[i].local.port == l.port &&
                rows[i].peer.addr == r.addr && rows[i].peer.port == r.port)
                drained = rows[i].send_q == 0 && rows[i].unacked == 0;
    }
    if (drained || tern_loop_now(p->loop) >= p->linger_until) {
        p->lingering = false;
        finish(p, 0);
        return;
    }
    tern_timer_arm(p->loop, &p->linger_timer, tern_loop_now(p->loop) + LINGER_POLL_US);
}

static void client_state(struct tern_perf *p, int state)
{
    switch (state) {
    case PS_PARAM_EXCHANGE:
        p->phase = state;
        client_params(p);
        break;
    case PS_CREATE_STREAMS:
        p->phase = state;
        client_streams(p);
        break;
    case PS_TEST_START:
        p->phase = state;
        break;
    case PS_TEST_RUNNING:
        p->phase = state;
        for (unsigned i = 0; i < p->nst; i++)
            p->st[i]->ready = true; /* the server has them all */
        test_begin(p);
        break;
    case PS_EXCHANGE_RESULTS: {
        p->phase = state;
        test_stop(p);
        char *j = results_json(p);
        if (!j) {
            finish(p, 1);
            return;
        }
        ctrl_json(p, j);
        free(j);
        p->expect_json = true;
        break;
    }
    case PS_DISPLAY_RESULTS:
        p->phase = state;
        final_report(p);
        fprintf(p->io.out, "\niperf Done.\n");
        fflush(p->io.out);
        ctrl_state(p, PS_IPERF_DONE);
        for (unsigned i = 0; i < p->nst; i++)
            if (p->st[i]->sk) {
                tern_sock_set_handler(p->st[i]->sk, 0, NULL, NULL);
                tern_sock_close(p->st[i]->sk);
                p->st[i]->sk = NULL;
            }
        p->lingering = true;
        p->linger_until = tern_loop_now(p->loop) + LINGER_MAX_US;
        on_linger(&p->linger_timer, p);
        break;
    case PS_ACCESS_DENIED:
        errmsg(p, "the server is busy running a test. try again later");
        finish(p, 1);
        break;
    case PS_SERVER_ERROR:
        errmsg(p, "the server reported an error");
        finish(p, 1);
        break;
    case PS_SERVER_TERMINATE:
        errmsg(p, "the server has terminated");
        finish(p, 1);
        break;
    default: {
        char m[64];
        snprintf(m, sizeof m, "unexpected state %d from the server", state);
        errmsg(p, m);
        finish(p, 1);
    }
    }
}

/* ---- control events ------------------------------------------------- */

static void ctrl_event(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct tern_perf *p = ctx;
    if (p->finished || sk != p->ctrl)
        return;
    if (!p->server && p->phase == 0) {
        if (ev & TERN_POLLERR) {
            int e = tern_sock_error(sk);
            char m[128];
            snprintf(m, sizeof m, "unable to connect to server: %s",
                     e == TERN_E_TIMEDOUT ? "connection timed out"
                                          : tern_strerror(e ? e : TERN_E_CONNREFUSED));
            errmsg(p, m);
            finish(p, 1);
            return;
        }
        if (!(ev & TERN_POLLOUT))
            return;
        /* connected: the cookie first */
        p->phase = -100; /* cookie sent */
        ctrl_write(p, p->cookie, COOKIE_LEN);
    }
    if (ev & TERN_POLLOUT)
        ctrl_flush(p);
    /* read what there is */
    for (;;) {
        if (p->rlen == p->rcap) {
            if (p->rcap >= CTRL_MAX + 8)
                break;
            size_t cap = p->rcap ? p->rcap * 2 : 4096;
            uint8_t *b = realloc(p->rbuf, cap);
            if (!b)
                break;
            p->rbuf = b;
            p->rcap = cap;
        }
        ssize_t n = tern_sock_recv(sk, p->rbuf + p->rlen, p->rcap - p->rlen, 0);
        if (n == 0)
            p->ctrl_eof = true;
        if (n <= 0)
            break;
        p->rlen += (size_t)n;
    }
    size_t off = 0;
    while (!p->finished && p->ctrl == sk) {
        size_t avail = p->rlen - off;
        if (p->server && p->expect_cookie) {
            if (avail < COOKIE_LEN)
                break;
            memcpy(p->cookie, p->rbuf + off, COOKIE_LEN);
            off += COOKIE_LEN;
            p->expect_cookie = false;
            ctrl_state(p, PS_PARAM_EXCHANGE);
            p->expect_json = true;
            continue;
        }
        if (p->expect_json) {
            if (avail < 4)
                break;
            uint32_t n = get_be32(p->rbuf + off);
            if (n > CTRL_MAX) {
                errmsg(p, "control message too long");
                if (p->server) {
                    p->tests++;
                    server_reset(p);
                } else {
                    finish(p, 1);
                }
                return;
            }
            if (avail < 4 + (size_t)n)
                break;
            p->expect_json = false;
            const uint8_t *d = p->rbuf + off + 4;
            off += 4 + n;
            if (p->server) {
                server_json(p, d, n);
            } else if (take_results(p, (const char *)d, n) < 0) {
                errmsg(p, "bad results from the server");
                finish(p, 1);
            }
            continue;
        }
        if (avail < 1)
            break;
        int state = (int8_t)p->rbuf[off++];
        if (p->server)
            server_state(p, state);
        else
            client_state(p, state);
    }
    if (p->ctrl != sk)
        return; /* reset or finished: the buffer was dropped with the connection */
    memmove(p->rbuf, p->rbuf + off, p->rlen - off);
    p->rlen -= off;
    if (p->lingering && (p->ctrl_eof || (ev & TERN_POLLERR))) {
        p->lingering = false; /* the server had IPERF_DONE and closed */
        tern_timer_cancel(p->loop, &p->linger_timer);
        finish(p, 0);
        return;
    }
    if (p->ctrl_eof && !p->finished) {
        if (p->server) {
            /* after DISPLAY_RESULTS the test is over: a client that closes
             * without IPERF_DONE has lost nothing */
            if (p->phase != 0 && p->phase != PS_DISPLAY_RESULTS)
                fprintf(p->io.out, "iperf3: the client has unexpectedly closed the connection\n");
            test_stop(p);
            p->tests++;
            server_reset(p);
        } else {
            errmsg(p, "the control connection closed unexpectedly");
            finish(p, 1);
        }
    } else if ((ev & TERN_POLLERR) && !p->finished) {
        int e = tern_sock_error(sk);
        if (!e)
            return;
        if (p->server) {
            p->tests++;
            server_reset(p);
        } else {
            char m[128];
            snprintf(m, sizeof m, "control connection: %s", tern_strerror(e));
            errmsg(p, m);
            finish(p, 1);
        }
    }
}

/* ---- lifecycle ------------------------------------------------------- */

static void finish(struct tern_perf *p, int status)
{
    if (p->finished)
        return;
    p->finished = true;
    tern_timer_cancel(p->loop, &p->end_timer);
    tern_timer_cancel(p->loop, &p->tick_timer);
    tern_timer_cancel(p->loop, &p->iv_timer);
    p->running = false;
    if (p->io.done)
        p->io.done(p->io.ctx, status);
}

static void make_cookie(struct tern_perf *p)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567"; /* as iperf3's */
    for (int i = 0; i < COOKIE_LEN - 1; i++)
        p->cookie[i] = alphabet[tern_stack_random(p->stack) % 32];
    p->cookie[COOKIE_LEN - 1] = 0;
}

struct tern_perf *tern_perf_start(struct tern_stack *s, struct tern_loop *loop,
                                  const struct tern_perf_opts *o, const struct tern_perf_io *io,
                                  int *err)
{
    int e = TERN_E_NOMEM;
    struct tern_perf *p = calloc(1, sizeof *p);
    if (!p)
        goto fail;
    p->stack = s;
    p->loop = loop;
    p->o = *o;
    p->io = *io;
    p->server = o->server;
    if (!p->o.port)
        p->o.port = TERN_PERF_PORT;
    tern_timer_init(&p->end_timer, on_end, p);
    tern_timer_init(&p->iv_timer, on_iv, p);
    tern_timer_init(&p->tick_timer, on_tick, p);
    tern_timer_init(&p->linger_timer, on_linger, p);
    if (p->server) {
        p->listener = tern_sock_open(s, TERN_SOCK_STREAM, &e);
        if (!p->listener)
            goto fail;
        tern_sock_setopt(p->listener, TERN_SO_REUSEADDR, 1);
        struct tern_sockaddr la = {.port = p->o.port};
        if ((e = tern_sock_bind(p->listener, &la)) < 0 ||
            (e = tern_sock_listen(p->listener, 16)) < 0)
            goto fail;
        tern_sock_set_handler(p->listener, TERN_POLLIN, on_accept, p);
        fprintf(p->io.out, "-----------------------------------------------------------\n"
                           "Server listening on %u (test #1)\n"
                           "-----------------------------------------------------------\n",
                p->o.port);
        fflush(p->io.out);
    } else {
        p->udp_test = o->udp;
        p->reverse = o->reverse;
        p->sender = !o->reverse;
        p->duration_us = o->duration_us ? o->duration_us : DEF_DURATION_US;
        p->interval_us = o->interval_set ? o->interval_us : 1000000;
        p->parallel = o->parallel ? o->parallel : 1;
        if (p->parallel > TERN_PERF_MAX_STREAMS) {
            e = TERN_E_INVAL;
            goto fail;
        }
        p->len = o->len ? o->len : o->udp ? DEF_UDP_LEN : DEF_TCP_LEN;
        if (o->udp && (p->len < 16 || p->len > 65507)) {
            e = TERN_E_INVAL;
            goto fail;
        }
        p->bps = o->bandwidth_bps ? o->bandwidth_bps : o->udp ? DEF_UDP_BPS : 0;
        if (alloc_buf(p) < 0)
            goto fail;
        make_cookie(p);
        p->ctrl = tern_sock_open(s, TERN_SOCK_STREAM, &e);
        if (!p->ctrl)
            goto fail;
        tern_sock_set_handler(p->ctrl, TERN_POLLIN | TERN_POLLOUT, ctrl_event, p);
        struct tern_sockaddr to = {.addr = o->addr, .port = p->o.port};
        char a[16];
        fprintf(p->io.out, "Connecting to host %s, port %u\n", tern_ipv4_ntoa(o->addr, a),
                p->o.port);
        if (o->reverse)
            fprintf(p->io.out, "Reverse mode, remote host %s is sending\n", a);
        fflush(p->io.out);
        e = tern_sock_connect(p->ctrl, &to);
        if (e < 0 && e != TERN_E_INPROGRESS)
            goto fail;
        if (o->connect_timeout_us)
            tern_timer_arm(loop, &p->end_timer, tern_loop_now(loop) + o->connect_timeout_us);
    }
    if (err)
        *err = TERN_OK;
    return p;
fail:
    if (err)
        *err = e;
    if (p) {
        if (p->listener)
            tern_sock_close(p->listener);
        if (p->ctrl)
            tern_sock_close(p->ctrl);
        free(p->buf);
        free(p);
    }
    return NULL;
}

void tern_perf_stop(struct tern_perf *p)
{
    if (p->finished)
        return;
    if (!p->server && p->ctrl && p->phase != 0 && p->phase != -100) {
        test_stop(p);
        ctrl_state(p, PS_CLIENT_TERMINATE);
    }
    if (p->server) {
        test_stop(p);
        if (p->ctrl)
            ctrl_state(p, PS_SERVER_TERMINATE);
    }
    finish(p, 1);
}

void tern_perf_get_result(const struct tern_perf *p, struct tern_perf_result *r)
{
    *r = p->res;
}

void tern_perf_free(struct tern_perf *p)
{
    if (!p)
        return;
    tern_timer_cancel(p->loop, &p->end_timer);
    tern_timer_cancel(p->loop, &p->tick_timer);
    tern_timer_cancel(p->loop, &p->iv_timer);
    tern_timer_cancel(p->loop, &p->linger_timer);
    streams_close(p);
    if (p->ctrl) {
        tern_sock_set_handler(p->ctrl, 0, NULL, NULL);
        tern_sock_close(p->ctrl);
    }
    if (p->listener) {
        tern_sock_set_handler(p->listener, 0, NULL, NULL);
        tern_sock_close(p->listener);
    }
    free(p->rbuf);
    free(p->wbuf);
    free(p->buf);
    free(p);
}
