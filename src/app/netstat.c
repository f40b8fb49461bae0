/*
 * src/app/netstat.c - the socket table, netstat-style (see netstat.h).
 * Formats are those of net-tools 2.10's netstat.c: the header lines, the
 * row "%-5s %6ld %6ld %-23s %-23s %-11s" (udp_do_one; tcp_do_one prints the
 * same for three-letter protocol names) and the address cut
 * "if ((strlen(addr) + strlen(port)) > 22) addr[22 - strlen(port)] = 0".
 * The rows come from tern_sock_list() (public API only).
 */
#include "app/netstat.h"

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
        name = tern_servdb_name(db, a->port, proto);
    if (name)
        snprintf(port, sizeof port, "%s", name);
    else
        snprintf(port, sizeof port, "%u", a->port);
    size_t pl = strlen(port);
    if (strlen(host) + pl > 22)
        host[pl < 22 ? 22 - pl : 0] = 0;
    snprintf(out, cap, "%s:%s", host, port);
}

void tern_netstat_row(FILE *out, const struct tern_sock_info *row, const struct tern_servdb *db,
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
    fprintf(out, "%-5s %6lu %6lu %-23s %-23s %-11s\n", udp ? "udp" : "tcp",
            (unsigned long)row->recv_q, (unsigned long)row->send_q, local, peer, state);
}

int tern_netstat_print(FILE *out, struct tern_stack *s, const struct tern_servdb *db,
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
            tern_netstat_row(out, &rows[i], db, flags);
            printed++;
        }
    }
    free(rows);
    return printed;
}
