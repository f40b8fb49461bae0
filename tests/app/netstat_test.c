/*
 * Tests for src/app/netstat.c. The expected tables are Linux's: the same
 * eleven UDP sockets were opened in a network namespace (python3 socket
 * module; addresses 10.0.0.1/24 and 192.168.200.201/24 on a veth) and
 * `netstat -anu` / `netstat -au` (net-tools 2.10, Debian netbase 6.4
 * /etc/services) captured into tests/data/netstat_anu.txt and
 * netstat_au.txt. Linux lists rows in hash order and tern sorted, so rows
 * are compared as sets; the header lines and every byte of each row must
 * match (padding, "0.0.0.0:*", ESTABLISHED, the cut of long addresses).
 * The TCP details line (ss -ti) is checked on a live connection between
 * two stacks, against values derived from the link and the RFCs.
 */
#include <stdlib.h>

#include "app/netstat.h"
#include "common/net2.h"
#include "harness.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"

struct ns_world {
    struct tern_loop *loop;
    struct tern_device *d[4];
    struct tern_stack *s;
    struct tern_sock *sk[16];
    int nsk;
};

static int open_sock(struct ns_world *w, uint32_t laddr, uint16_t lport, uint32_t paddr,
                     uint16_t pport)
{
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    if (!sk)
        return -1;
    w->sk[w->nsk++] = sk;
    struct tern_sockaddr l = {laddr, lport}, p = {paddr, pport};
    if (tern_sock_setopt(sk, TERN_SO_PRIVILEGED, 1) < 0 || tern_sock_bind(sk, &l) < 0)
        return -1;
    if (pport && tern_sock_connect(sk, &p) < 0)
        return -1;
    return 0;
}

static int ns_open(struct ns_world *w)
{
    memset(w, 0, sizeof *w);
    w->loop = tern_loop_virtual_new(0);
    if (!w->loop || tern_memlink_pair(w->loop, TERN_LINK_ETHERNET, 1500, 16, &w->d[0], &w->d[1]) < 0 ||
        tern_memlink_pair(w->loop, TERN_LINK_ETHERNET, 1500, 16, &w->d[2], &w->d[3]) < 0)
        return -1;
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    w->s = tern_stack_new(&cfg, w->loop);
    if (!w->s)
        return -1;
    struct tern_iface_config c1 = {.addr = 0x0a000001, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 1}};
    struct tern_iface_config c2 = {.addr = 0xc0a8c8c9, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 3}};
    if (tern_stack_add_iface(w->s, w->d[0], &c1) < 0 || tern_stack_add_iface(w->s, w->d[2], &c2) < 0)
        return -1;
    /* the sockets of the Linux capture */
    const uint32_t a10 = 0x0a000001, p10 = 0x0a000002, a192 = 0xc0a8c8c9, p192 = 0xc0a8c8ca;
    if (open_sock(w, 0, 7, 0, 0) || open_sock(w, 0, 17, 0, 0) || open_sock(w, a10, 53, 0, 0) ||
        open_sock(w, a10, 40000, p10, 53) || open_sock(w, 0, 65000, 0, 0) ||
        open_sock(w, a10, 123, 0, 0) || open_sock(w, a10, 49152, p10, 9999) ||
        open_sock(w, 0, 19, 0, 0) || open_sock(w, a192, 546, 0, 0) ||
        open_sock(w, a192, 60001, p192, 546) || open_sock(w, a192, 137, 0, 0))
        return -1;
    /* an unbound socket: not listed, as Linux does not list one */
    w->sk[w->nsk] = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    if (!w->sk[w->nsk++])
        return -1;
    return 0;
}

static void ns_close(struct ns_world *w)
{
    for (int i = 0; i < w->nsk; i++)
        if (w->sk[i])
            tern_sock_close(w->sk[i]);
    tern_stack_free(w->s);
    for (int i = 0; i < 4; i++)
        tern_device_destroy(w->d[i]);
    tern_loop_destroy(w->loop);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 8192);
    size_t n = buf ? fread(buf, 1, 8191, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits text into lines (in place); returns the count. */
static size_t lines(char *text, char **out, size_t cap)
{
    size_t n = 0;
    for (char *p = text; *p && n < cap;) {
        char *nl = strchr(p, '\n');
        out[n++] = p;
        if (!nl)
            break;
        *nl = 0;
        p = nl + 1;
    }
    return n;
}

static void compare_tables(const char *got_text, const char *want_path)
{
    char *want = slurp(want_path);
    REQUIRE(want != NULL);
    char *got = strdup(got_text);
    char *gl[32], *wl[32];
    size_t ng = lines(got, gl, 32), nw = lines(want, wl, 32);
    CHECK_EQ(ng, nw);
    if (ng == nw && ng >= 2) {
        CHECK_STR(gl[0], wl[0]);
        CHECK_STR(gl[1], wl[1]);
        qsort(gl + 2, ng - 2, sizeof gl[0], cmp_str);
        qsort(wl + 2, nw - 2, sizeof wl[0], cmp_str);
        for (size_t i = 2; i < ng; i++)
            CHECK_STR(gl[i], wl[i]);
    }
    free(got);
    free(want);
}

/* noinline: gcc 12 mistakes the open_memstream buffer for a dangling local */
__attribute__((noinline)) static char *print_table(struct ns_world *w, const struct tern_servdb *db,
                                                  unsigned flags, int *rows)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *rows = netstat_print(f, w->s, db, flags);
    fclose(f);
    return buf;
}

TEST(netstat_numeric_matches_linux_netstat_anu)
{
    struct ns_world w;
    REQUIRE(ns_open(&w) == 0);
    int rows;
    char *out = print_table(&w, NULL, TERN_NETSTAT_NUMERIC, &rows);
    CHECK_EQ(rows, 11);
    compare_tables(out, "tests/data/netstat_anu.txt");
    free(out);
    ns_close(&w);
}

TEST(netstat_names_match_linux_netstat_au)
{
    struct ns_world w;
    REQUIRE(ns_open(&w) == 0);
    /* the fixture services file agrees with netbase for these ports */
    struct tern_servdb *db = servdb_open("tests/data/services", NULL);
    REQUIRE(db != NULL);
    int rows;
    char *out = print_table(&w, db, 0, &rows);
    CHECK_EQ(rows, 11);
    compare_tables(out, "tests/data/netstat_au.txt");
    /* sorted by local address, then port */
    CHECK(strstr(out, "0.0.0.0:echo") < strstr(out, "0.0.0.0:17"));
    free(out);
    servdb_free(db);
    ns_close(&w);
}

TEST(netstat_row_format)
{
    /* rows built by hand: queues, a TCP state, and filters */
    struct tern_sock_info r = {.type = TERN_SOCK_DGRAM, .state = "", .recv_q = 832,
                               .local = {0x7f000001, 53}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    netstat_row(f, &r, NULL, 0);
    struct tern_sock_info t = {.type = TERN_SOCK_STREAM, .state = "LISTEN", .local = {0, 80}, .send_q = 128};
    netstat_row(f, &t, NULL, TERN_NETSTAT_NUMERIC);
    fclose(f);
    /* Linux (netstat -anu / -ant, see the file comment) prints exactly: */
    CHECK_STR(buf,
              "udp      832      0 127.0.0.1:53            0.0.0.0:*                          \n"
              "tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN     \n");
    free(buf);
}

TEST(netstat_filters_and_empty)
{
    struct ns_world w;
    REQUIRE(ns_open(&w) == 0);
    int rows;
    char *out = print_table(&w, NULL, TERN_NETSTAT_NUMERIC | TERN_NETSTAT_TCP, &rows);
    CHECK_EQ(rows, 0); /* no TCP sockets */
    CHECK_STR(out, "Active Internet connections (servers and established)\n"
                   "Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n");
    free(out);
    out = print_table(&w, NULL, TERN_NETSTAT_NUMERIC | TERN_NETSTAT_UDP | TERN_NETSTAT_NO_HEADER,
                      &rows);
    CHECK_EQ(rows, 11);
    CHECK(strncmp(out, "udp ", 4) == 0);
    free(out);
    ns_close(&w);
}

/* ---- TCP details (TERN_NETSTAT_INFO, ss -ti) on a live connection ---- */

static bool find_row(struct tern_stack *s, uint16_t peer_port, struct tern_sock_info *out)
{
    struct tern_sock_info rows[8];
    size_t n = tern_sock_list(s, rows, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (rows[i].type == TERN_SOCK_STREAM && rows[i].peer.port == peer_port) {
            *out = rows[i];
            return true;
        }
    return false;
}

__attribute__((noinline)) static char *info_line(const struct tern_sock_info *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    netstat_details(f, r);
    fclose(f);
    return buf;
}

static void run_for(struct net2 *n, uint64_t us)
{
    tern_loop_run(n->loop, tern_loop_now(n->loop) + us);
}

TEST(netstat_info_tcp_connection_like_ss_ti)
{
    /* 10 ms each way: the handshake's RTT sample is 20 ms */
    struct tern_impair imp = {.delay_us = 10000};
    struct net2 n;
    REQUIRE(net2_open(&n, 11, &imp) == 0);
    /* ARP first (a datagram to B's discard port), so the SYN's RTT sample
     * is the path's alone */
    struct tern_sock *u = tern_sock_open(n.sa, TERN_SOCK_DGRAM, NULL);
    struct tern_sockaddr disc = {NET2_B, 9};
    REQUIRE(u && tern_sock_sendto(u, "x", 1, 0, &disc) == 1);
    run_for(&n, 200000);
    tern_sock_close(u);
    struct tern_sock *l = tern_sock_open(n.sb, TERN_SOCK_STREAM, NULL);
    struct tern_sockaddr la = {NET2_B, 5001};
    REQUIRE(l && tern_sock_bind(l, &la) == 0 && tern_sock_listen(l, 4) == 0);
    struct tern_sock *c = tern_sock_open(n.sa, TERN_SOCK_STREAM, NULL);
    REQUIRE(c && tern_sock_connect(c, &la) == TERN_E_INPROGRESS);
    run_for(&n, 1000000);
    struct tern_sock *b = tern_sock_accept(l, NULL, NULL);
    REQUIRE(b != NULL);

    struct tern_sock_info r;
    REQUIRE(find_row(n.sa, 5001, &r));
    CHECK_STR(r.state, "ESTABLISHED");
    /* Expected, derived independently:
     * - ts sack wscale: both stacks offer all three (RFC 7323, 2018);
     *   the shift is the smallest one that fits the default 262144-byte
     *   receive buffer in 16 bits: 262144 >> 3 = 32768 <= 65535 < 65536.
     * - cubic: the default congestion control (RFC 9438).
     * - rtt 20/10: the first sample R = 20 ms gives SRTT = R,
     *   RTTVAR = R/2 (RFC 6298 s2.2).
     * - rto 200: SRTT + 4*RTTVAR = 60 ms, raised to the 200 ms floor
     *   (tern's default, Linux's TCP_RTO_MIN).
     * - advmss 1460: MTU 1500 - 20 (IPv4) - 20 (TCP); mss 1448: the
     *   payload that fits next to the 12 bytes of timestamp option every
     *   segment carries (RFC 6691 s2; Linux's ss shows the same 1448).
     * - cwnd 10: RFC 6928 IW = min(10*MSS, max(2*MSS, 14600)) = 14480 bytes.
     * - no ssthresh (not set before a loss), nothing unacked or resent.
     * - snd_wnd 65535: B's SYN-ACK window, never scaled (RFC 7323 s2.2),
     *   min(262144, 65535). */
    char *line = info_line(&r);
    CHECK_STR(line, "\t ts sack cubic wscale:3,3 rto:200 rtt:20/10 mss:1448 advmss:1460 "
                    "cwnd:10 snd_wnd:65535\n");
    free(line);

    /* The table with details: one line under the connection, none under
     * the listener (Send-Q 0 as netstat prints it from /proc/net/tcp,
     * although tern_sock_info carries the backlog, 4, for ss's view). */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_EQ(netstat_print(f, n.sb, NULL, TERN_NETSTAT_NUMERIC | TERN_NETSTAT_INFO |
                                                   TERN_NETSTAT_NO_HEADER), 2);
    fclose(f);
    const char *want_b_head =
        "tcp        0      0 10.0.0.2:5001           0.0.0.0:*               LISTEN     \n"
        "tcp        0      0 10.0.0.2:5001           10.0.0.1:";
    CHECK(strncmp(buf, want_b_head, strlen(want_b_head)) == 0);
    char *second = strchr(strchr(buf, '\n') + 1, '\n') + 1;
    CHECK(strncmp(second, "\t ts sack cubic wscale:3,3 ", 27) == 0);
    CHECK(strchr(second, '\n')[1] == 0);
    free(buf);

    /* B goes silent; A sends 3000 bytes = 1448 + 1448 + 104: the two full
     * segments go out, Nagle holds the 104-byte tail while data is
     * unacknowledged (RFC 1122 s4.2.3.4). The tail loss probe fires first
     * (PTO = 2*SRTT = 40 ms, RFC 8985 s7.2) and, new data being available,
     * sends the tail (s7.3): 3 segments unacked, nothing left unsent, no
     * retransmission yet. Then the RTO (200 ms) fires once: RFC 6298 s5.5
     * doubles it (backoff 1, rto 400) and resends the first segment
     * (retrans 1/1); RFC 5681 s3.1 sets ssthresh = max(FlightSize/2,
     * 2*SMSS) = 2896 (CUBIC's max(0.7*FlightSize, 2*SMSS), RFC 9438 s4.6,
     * gives the same) = 2 segments, and cwnd = 1 segment. */
    REQUIRE(tern_iface_set_up(n.sb, 0, false) == 0); /* its only interface */
    uint8_t data[3000];
    memset(data, 'x', sizeof data);
    CHECK_EQ(tern_sock_send(c, data, sizeof data, 0), 3000);
    run_for(&n, 300000);
    REQUIRE(find_row(n.sa, 5001, &r));
    CHECK_EQ(r.send_q, 3000);
    CHECK_EQ(r.retransmits, 1);
    CHECK_EQ(r.unacked, 3000);
    line = info_line(&r);
    CHECK_STR(line, "\t ts sack cubic wscale:3,3 rto:400 backoff:1 rtt:20/10 mss:1448 "
                    "advmss:1460 cwnd:1 ssthresh:2 unacked:3 retrans:1/1 snd_wnd:65535\n");
    free(line);

    tern_sock_abort(c);
    tern_sock_abort(b);
    tern_sock_close(l);
    run_for(&n, 1000000);
    CHECK_EQ(tern_sock_list(n.sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(n.sb, NULL, 0), 0);
    net2_close(&n);
}

TEST(netstat_info_skips_udp_and_listeners)
{
    struct tern_sock_info u = {.type = TERN_SOCK_DGRAM, .state = ""};
    struct tern_sock_info t = {.type = TERN_SOCK_STREAM, .state = "LISTEN"};
    char *a = info_line(&u), *b = info_line(&t);
    CHECK_STR(a, "");
    CHECK_STR(b, "");
    free(a);
    free(b);
}
