/*
 * Tests for src/app/netstat.c. The expected tables are Linux's: the same
 * eleven UDP sockets were opened in a network namespace (python3 socket
 * module; addresses 10.0.0.1/24 and 192.168.200.201/24 on a veth) and
 * `netstat -anu` / `netstat -au` (net-tools 2.10, Debian netbase 6.4
 * /etc/services) captured into tests/data/netstat_anu.txt and
 * netstat_au.txt. Linux lists rows in hash order and tern sorted, so rows
 * are compared as sets; the header lines and every byte of each row must
 * match (padding, "0.0.0.0:*", ESTABLISHED, the cut of long addresses).
 */
#include <stdlib.h>

#include "app/netstat.h"
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
    *rows = tern_netstat_print(f, w->s, db, flags);
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
    struct tern_servdb *db = tern_servdb_open("tests/data/services", NULL);
    REQUIRE(db != NULL);
    int rows;
    char *out = print_table(&w, db, 0, &rows);
    CHECK_EQ(rows, 11);
    compare_tables(out, "tests/data/netstat_au.txt");
    /* sorted by local address, then port */
    CHECK(strstr(out, "0.0.0.0:echo") < strstr(out, "0.0.0.0:17"));
    free(out);
    tern_servdb_free(db);
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
    tern_netstat_row(f, &r, NULL, 0);
    struct tern_sock_info t = {.type = TERN_SOCK_STREAM, .state = "LISTEN", .local = {0, 80}};
    tern_netstat_row(f, &t, NULL, TERN_NETSTAT_NUMERIC);
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
