/*
 * src/app/perf_report.c - `tern perf`'s numbers, interval and final reports
 * as iperf3 prints them, and the JSON results both sides exchange.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/perf.h"
#include "app/perf_impl.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/wire/ipv4.h"

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

/* ---- reports ------------------------------------------------------- */

void perf_print_header(struct tern_perf *p, bool final)
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

uint32_t perf_stream_retrans(struct tern_perf *p, struct pstream *s, struct tern_sock_info *ti,
                               bool *have)
{
    *have = !p->udp_test && p->sender && perf_stream_info(p, s, ti);
    /* the perf_count only grows; a connection the peer has closed reports 0 */
    if (*have && ti->retransmits >= s->retrans_base && ti->retransmits - s->retrans_base > s->retrans)
        s->retrans = ti->retransmits - s->retrans_base;
    return s->retrans;
}

void perf_interval_report(struct tern_perf *p, uint64_t now)
{
    double a = perf_now_s(p, p->iv_start_us), b = perf_now_s(p, now);
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
            uint32_t r = perf_stream_retrans(p, s, &ti, &have);
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

/* A perf_count from either end as an integer; iperf3 sends -1 for "none". */
uint64_t perf_count(double v)
{
    return v > 0 && v < 1.8e19 ? (uint64_t)v : 0;
}

/* The summary: on the client both ends' lines (the peer's from its
 * results), on the server its own. Fills p->res. */
void perf_final_report(struct tern_perf *p)
{
    struct tern_perf_result *r = &p->res;
    memset(r, 0, sizeof *r);
    r->valid = true;
    double secs = perf_now_s(p, p->end_us ? p->end_us : tern_loop_now(p->loop));
    r->seconds = secs;
    if (!p->sep_printed)
        fprintf(p->io.out, "- - - - - - - - - - - - - - - - - - - - - - - - -\n");
    perf_print_header(p, true);
    double s_sum[5] = {0}, r_sum[5] = {0}; /* bytes, retr, jitter, lost, packets */
    double s_secs = secs, r_secs = secs;
    bool retr_col = p->sender ? !p->udp_test : p->peer_retrans && !p->udp_test;
    for (unsigned i = 0; i < p->nst; i++) {
        struct pstream *s = p->st[i];
        struct tern_sock_info ti;
        bool have;
        if (!p->udp_test && p->sender)
            perf_stream_retrans(p, s, &ti, &have);
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
        r->sent_bytes += perf_count(snd[0]);
        r->received_bytes += perf_count(rcv[0]);
        r->retransmits += perf_count(snd[1]); /* -1 from a peer without the perf_count */
        r->lost += perf_count(rcv[3]);
        r->packets += perf_count(rcv[4]);
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
char *perf_results_json(struct tern_perf *p)
{
    size_t cap = 256 + (size_t)p->nst * 256;
    char *j = malloc(cap);
    if (!j)
        return NULL;
    double secs = perf_now_s(p, p->end_us);
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
            perf_stream_retrans(p, s, &ti, &have);
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
int perf_take_results(struct tern_perf *p, const char *text, size_t len)
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
