/*
 * src/app/netstat.c - the socket table, netstat-style (see netstat.h).
 * Formats are those of net-tools 2.10's netstat.c: the header lines, the
 * row "%-5s %6ld %6ld %-23s %-23s %-11s" (udp_do_one; tcp_do_one prints the
 * same for three-letter protocol names) and the address cut
 * "if ((strlen(addr) + strlen(port)) > 22) addr[22 - strlen(port)] = 0".
 * The details line (TERN_NETSTAT_INFO) is iproute2 6.1 ss's tcp_show_info:
 * a tab, then " name" or " name:value" per field in ss's order.
 * The rows come from tern_sock_list() (public API only).
 */
#include "app/netstat.h"
#include <stdbool.h>

#include <stdlib.h>
#include <string.h>

#include "tern/err.h"
#include "tern/wire/ipv4.h"

static void endpoint(char *out, size_t cap, const struct tern_sockaddr *a, uint8_t proto,
                     const struct tern_servdb *db, unsigned flags)
{
    char host[16], port[TERN_SERVDB_MAX_NAME + 1];
    tern_ipv4_ntoa(a->addr, host);
    const char *name = NULL;
    if (a->port == 0)
        name = "*";
    else if (!(flags & TERN_NETSTAT_NUMERIC))
        name = servdb_name(db, a->port, proto);
    if (name)
        snprintf(port, sizeof port, "%s", name);
    else
        snprintf(port, sizeof port, "%u", a->port);
    size_t pl = strlen(port);
    if (strlen(host) + pl > 22)
        host[pl < 22 ? 22 - pl : 0] = 0;
    snprintf(out, cap, "%s:%s", host, port);
}

void netstat_row(FILE *out, const struct tern_sock_info *row, const struct tern_servdb *db,
                      unsigned flags)
{
    bool udp = row->type == TERN_SOCK_DGRAM;
    uint8_t proto = udp ? TERN_SERVDB_UDP : TERN_SERVDB_TCP;
    char local[96], peer[96];
    endpoint(local, sizeof local, &row->local, proto, db, flags);
    endpoint(peer, sizeof peer, &row->peer, proto, db, flags);
    const char *state = row->state ? row->state : "";
    /* netstat's udp_do_one: a UDP socket with a remote end is ESTABLISHED */
    if (udp && !*state && row->peer.port)
        state = "ESTABLISHED";
    /* A listener's row carries ss's view (Recv-Q = accept queue, Send-Q =
     * backlog); /proc/net/tcp, which netstat reads, has tx_queue 0 for it. */
    unsigned long send_q = !udp && !strcmp(state, "LISTEN") ? 0 : (unsigned long)row->send_q;
    fprintf(out, "%-5s %6lu %6lu %-23s %-23s %-11s\n", udp ? "udp" : "tcp",
            (unsigned long)row->recv_q, send_q, local, peer, state);
}

static uint32_t segs_up(uint32_t bytes, uint32_t mss)
{
    return mss ? (uint32_t)(((uint64_t)bytes + mss - 1) / mss) : 0;
}

void netstat_details(FILE *out, const struct tern_sock_info *r)
{
    if (r->type != TERN_SOCK_STREAM || !r->cc)
        return;
    uint32_t mss = r->mss;
    fputc('\t', out);
    if (r->ts)
        fputs(" ts", out);
    if (r->sack)
        fputs(" sack", out);
    fprintf(out, " %s", r->cc);
    if (r->wscale)
        fprintf(out, " wscale:%u,%u", r->snd_wscale, r->rcv_wscale);
    if (r->rto_us)
        fprintf(out, " rto:%g", r->rto_us / 1000.0);
    if (r->backoff)
        fprintf(out, " backoff:%u", r->backoff);
    if (r->rtt_us)
        fprintf(out, " rtt:%g/%g", r->rtt_us / 1000.0, r->rttvar_us / 1000.0);
    if (mss)
        fprintf(out, " mss:%u", mss);
    if (r->advmss)
        fprintf(out, " advmss:%u", r->advmss);
    uint32_t cwnd = mss ? r->cwnd / mss : 0;
    if (cwnd)
        fprintf(out, " cwnd:%u", cwnd);
    /* ss: only an ssthresh below 0xFFFF (the kernel's "infinite") */
    if (mss && r->ssthresh != UINT32_MAX && r->ssthresh / mss < 0xFFFF && r->ssthresh / mss)
        fprintf(out, " ssthresh:%u", r->ssthresh / mss);
    if (r->unacked)
        fprintf(out, " unacked:%u", mss ? segs_up(r->unacked, mss) : r->unacked);
    if (r->retrans_out || r->retransmits)
        fprintf(out, " retrans:%u/%u", segs_up(r->retrans_out, mss), r->retransmits);
    if (r->notsent)
        fprintf(out, " notsent:%u", r->notsent);
    if (r->snd_wnd)
        fprintf(out, " snd_wnd:%u", r->snd_wnd);
    fputc('\n', out);
}

int netstat_print(FILE *out, struct tern_stack *s, const struct tern_servdb *db,
                       unsigned flags)
{
    size_t n = tern_sock_list(s, NULL, 0);
    struct tern_sock_info *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return TERN_E_NOMEM;
    size_t got = tern_sock_list(s, rows, n);
    if (got > n)
        got = n; /* a socket opened meanwhile: impossible on one thread, harmless */
    if (!(flags & TERN_NETSTAT_NO_HEADER)) {
        fputs("Active Internet connections (servers and established)\n", out);
        fputs("Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n",
              out);
    }
    unsigned want = flags & (TERN_NETSTAT_TCP | TERN_NETSTAT_UDP);
    if (!want)
        want = TERN_NETSTAT_TCP | TERN_NETSTAT_UDP;
    int printed = 0;
    static const struct { enum tern_sock_type type; unsigned flag; } order[2] = {
        {TERN_SOCK_STREAM, TERN_NETSTAT_TCP}, {TERN_SOCK_DGRAM, TERN_NETSTAT_UDP}};
    for (int k = 0; k < 2; k++) {
        if (!(want & order[k].flag))
            continue;
        for (size_t i = 0; i < got; i++) {
            if (rows[i].type != order[k].type || rows[i].local.port == 0)
                continue;
            bool lst = rows[i].type == TERN_SOCK_STREAM ? !strcmp(rows[i].state, "LISTEN")
                                                          : rows[i].peer.port == 0;
            if (((flags & TERN_NETSTAT_LISTENING) && !lst) ||
                ((flags & TERN_NETSTAT_CONNECTED) && lst))
                continue;
            netstat_row(out, &rows[i], db, flags);
            if (flags & TERN_NETSTAT_INFO)
                netstat_details(out, &rows[i]);
            printed++;
        }
    }
    free(rows);
    return printed;
}
