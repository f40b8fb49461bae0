/*
 * Tests for src/app/perf.c (`tern perf`, iperf3's protocol) in virtual time:
 * a tern client on stack B against a tern server on stack A
 * (tests/common/net2.h). Linux's iperf3 on both sides of a TAP device:
 * tests/scripts/peer_perf.sh. Also the JSON reader (perf_json.c).
 */
#include <stdlib.h>
#include <string.h>

#include "app/perf.h"
#include "app/perf_impl.h"
#include "common/net2.h"
#include "harness.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/socket.h"

#define SEC 1000000ull

struct prun {
    struct tern_loop *loop;
    char *out, *err;
    size_t out_len, err_len;
    FILE *fo, *fe;
    int status, done_calls;
};

static void pdone(void *ctx, int status)
{
    struct prun *r = ctx;
    r->status = status;
    r->done_calls++;
}

static void prun_init(struct prun *r, struct tern_loop *loop, struct tern_perf_io *io)
{
    memset(r, 0, sizeof *r);
    r->loop = loop;
    r->status = -1;
    r->fo = open_memstream(&r->out, &r->out_len);
    r->fe = open_memstream(&r->err, &r->err_len);
    *io = (struct tern_perf_io){.out = r->fo, .err = r->fe, .done = pdone, .ctx = r};
}

static void prun_fini(struct prun *r)
{
    fclose(r->fo);
    fclose(r->fe);
    free(r->out);
    free(r->err);
}

struct pair {
    struct net2 n;
    struct prun cr, sr;
    struct tern_perf *c, *s;
    struct tern_perf_result cres, sres;
};

/* Runs one test of o between a client on B and a server on A (-1), until
 * the client is done (at most limit_s of virtual time). */
static void run_pair(struct pair *pr, uint64_t seed, const struct tern_impair *imp,
                     struct tern_perf_opts o, unsigned limit_s)
{
    REQUIRE(net2_open(&pr->n, seed, imp) == 0);
    struct tern_perf_io sio, cio;
    prun_init(&pr->sr, pr->n.loop, &sio);
    prun_init(&pr->cr, pr->n.loop, &cio);
    struct tern_perf_opts so = {.server = true, .one_off = true};
    int err = 1;
    pr->s = perf_start(pr->n.sa, pr->n.loop, &so, &sio, &err);
    REQUIRE(pr->s != NULL);
    CHECK_EQ(err, TERN_OK);
    o.addr = NET2_A;
    pr->c = perf_start(pr->n.sb, pr->n.loop, &o, &cio, &err);
    REQUIRE(pr->c != NULL);
    for (unsigned i = 0; i < limit_s * 10 && !(pr->cr.done_calls && pr->sr.done_calls); i++)
        tern_loop_run(pr->n.loop, tern_loop_now(pr->n.loop) + SEC / 10);
    fflush(pr->cr.fo);
    fflush(pr->cr.fe);
    fflush(pr->sr.fo);
    fflush(pr->sr.fe);
    perf_get_result(pr->c, &pr->cres);
    perf_get_result(pr->s, &pr->sres);
}

static void pair_close(struct pair *pr)
{
    perf_free(pr->c);
    perf_free(pr->s);
    tern_loop_run(pr->n.loop, tern_loop_now(pr->n.loop) + 200 * SEC);
    CHECK_EQ(tern_sock_list(pr->n.sa, NULL, 0), 0);
    CHECK_EQ(tern_sock_list(pr->n.sb, NULL, 0), 0);
    prun_fini(&pr->cr);
    prun_fini(&pr->sr);
    net2_close(&pr->n);
}

TEST(perf_tcp_client_to_server_at_a_paced_rate)
{
    struct pair pr;
    struct tern_perf_opts o = {.duration_us = 2 * SEC, .bandwidth_bps = 8000000};
    run_pair(&pr, 71, NULL, o, 30);
    CHECK_EQ(pr.cr.done_calls, 1);
    CHECK_EQ(pr.cr.status, 0);
    CHECK_EQ(pr.sr.done_calls, 1); /* -1: one test, then done */
    CHECK_EQ(pr.sr.status, 0);
    CHECK(pr.cres.valid && pr.sres.valid);
    /* 8 Mbit/s for 2 s = 2 MB sent; the server counted what arrived */
    CHECK(pr.cres.sent_bytes >= 1900000 && pr.cres.sent_bytes <= 2100000);
    CHECK(pr.sres.received_bytes > 1800000 && pr.sres.received_bytes <= pr.cres.sent_bytes);
    /* the client's receiver figure is the server's own, from its JSON results */
    CHECK_EQ(pr.cres.received_bytes, pr.sres.received_bytes);
    CHECK(pr.cr.out && strstr(pr.cr.out, "Connecting to host 10.0.0.1, port 5201\n"));
    CHECK(pr.cr.out && strstr(pr.cr.out, "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n"));
    CHECK(pr.cr.out && strstr(pr.cr.out, "   1.00-2.00   sec"));
    CHECK(pr.cr.out && strstr(pr.cr.out, "8.00 Mbits/sec"));
    CHECK(pr.cr.out && strstr(pr.cr.out, "  sender\n") && strstr(pr.cr.out, "  receiver\n"));
    CHECK(pr.cr.out && strstr(pr.cr.out, "\niperf Done.\n"));
    CHECK(pr.sr.out && strstr(pr.sr.out, "Accepted connection from 10.0.0.2, port "));
    CHECK(pr.sr.out && strstr(pr.sr.out, "  receiver\n") && !strstr(pr.sr.out, "  sender\n"));
    CHECK_EQ(pr.cr.err_len, 0);
    CHECK_EQ(pr.sr.err_len, 0);
    pair_close(&pr);
}

TEST(perf_tcp_reverse_parallel_streams)
{
    struct pair pr;
    struct tern_perf_opts o = {.duration_us = 2 * SEC, .bandwidth_bps = 4000000, .reverse = true,
                               .parallel = 3};
    run_pair(&pr, 72, NULL, o, 30);
    CHECK_EQ(pr.cr.status, 0);
    CHECK_EQ(pr.sr.status, 0);
    /* three streams at 4 Mbit/s each: 3 MB from the server */
    CHECK(pr.sres.sent_bytes >= 2850000 && pr.sres.sent_bytes <= 3150000);
    CHECK_EQ(pr.cres.sent_bytes, pr.sres.sent_bytes);
    CHECK(pr.cres.received_bytes > 2700000 && pr.cres.received_bytes <= pr.cres.sent_bytes);
    CHECK(pr.cr.out && strstr(pr.cr.out, "Reverse mode, remote host 10.0.0.1 is sending\n"));
    /* iperf3's stream ids: 1, 3, 4 */
    CHECK(pr.cr.out && strstr(pr.cr.out, "[  1] local") && strstr(pr.cr.out, "[  3] local") &&
          strstr(pr.cr.out, "[  4] local") && !strstr(pr.cr.out, "[  2] local"));
    CHECK(pr.cr.out && strstr(pr.cr.out, "[SUM]   0.00-"));
    CHECK(pr.sr.out && strstr(pr.sr.out, "Retr  Cwnd") && strstr(pr.sr.out, "  sender\n"));
    pair_close(&pr);
}

TEST(perf_udp_counts_loss_and_jitter)
{
    struct pair pr;
    /* 10% loss each way: the control connection recovers, the datagrams do not */
    struct tern_impair imp = {.loss = 0.10, .jitter_us = 2000};
    struct tern_perf_opts o = {.duration_us = 5 * SEC, .udp = true, .bandwidth_bps = 2000000,
                               .len = 1000};
    run_pair(&pr, 73, &imp, o, 60);
    CHECK_EQ(pr.cr.status, 0);
    CHECK_EQ(pr.sr.status, 0);
    /* 2 Mbit/s of 1000-byte datagrams for 5 s = 1250 datagrams */
    uint64_t sent = pr.cres.sent_bytes / 1000;
    CHECK(sent >= 1240 && sent <= 1260);
    CHECK(pr.sres.packets >= sent - 5 && pr.sres.packets <= sent); /* the highest sequence seen */
    /* about 10% lost: more than 5%, fewer than 15% */
    CHECK(pr.sres.lost * 100 > pr.sres.packets * 5 && pr.sres.lost * 100 < pr.sres.packets * 15);
    CHECK_EQ(pr.sres.received_bytes, (pr.sres.packets - pr.sres.lost) * 1000);
    /* the client got the server's counts in the results */
    CHECK_EQ(pr.cres.lost, pr.sres.lost);
    CHECK_EQ(pr.cres.packets, pr.sres.packets);
    /* uniform jitter of 0..2 ms: RFC 3550's estimate is some hundreds of us */
    CHECK(pr.sres.jitter_ms > 0.2 && pr.sres.jitter_ms < 2.0);
    CHECK(pr.cr.out && strstr(pr.cr.out, "Jitter    Lost/Total Datagrams"));
    CHECK(pr.cr.out && strstr(pr.cr.out, "Total Datagrams\n"));
    pair_close(&pr);
}

TEST(perf_udp_reverse)
{
    struct pair pr;
    struct tern_perf_opts o = {.duration_us = 2 * SEC, .udp = true, .reverse = true,
                               .parallel = 2};
    run_pair(&pr, 74, NULL, o, 30);
    CHECK_EQ(pr.cr.status, 0);
    CHECK_EQ(pr.sr.status, 0);
    /* the default 1 Mbit/s per stream, 1460-byte datagrams: 2 x 171 in 2 s;
     * the server sends from its TEST_RUNNING until our TEST_END reaches it */
    CHECK(pr.cres.packets >= 2 * 168 && pr.cres.packets <= 2 * 180);
    CHECK_EQ(pr.cres.lost, 0);
    CHECK_EQ(pr.cres.received_bytes, pr.cres.packets * 1460);
    CHECK_EQ(pr.sres.sent_bytes, pr.cres.sent_bytes);
    pair_close(&pr);
}

TEST(perf_busy_server_denies_a_second_client)
{
    struct pair pr;
    struct tern_perf_opts o = {.duration_us = 3 * SEC, .bandwidth_bps = 1000000};
    REQUIRE(net2_open(&pr.n, 75, NULL) == 0);
    struct tern_perf_io sio, cio, c2io;
    struct prun r2;
    prun_init(&pr.sr, pr.n.loop, &sio);
    prun_init(&pr.cr, pr.n.loop, &cio);
    prun_init(&r2, pr.n.loop, &c2io);
    struct tern_perf_opts so = {.server = true};
    pr.s = perf_start(pr.n.sa, pr.n.loop, &so, &sio, NULL);
    o.addr = NET2_A;
    pr.c = perf_start(pr.n.sb, pr.n.loop, &o, &cio, NULL);
    REQUIRE(pr.s && pr.c);
    tern_loop_run(pr.n.loop, tern_loop_now(pr.n.loop) + SEC);
    struct tern_perf *c2 = perf_start(pr.n.sb, pr.n.loop, &o, &c2io, NULL);
    REQUIRE(c2 != NULL);
    tern_loop_run(pr.n.loop, tern_loop_now(pr.n.loop) + SEC);
    CHECK_EQ(r2.done_calls, 1);
    CHECK_EQ(r2.status, 1);
    fflush(r2.fe);
    CHECK(r2.err && strstr(r2.err, "tern perf: the server is busy running a test. try again later\n"));
    for (int i = 0; i < 100 && !pr.cr.done_calls; i++)
        tern_loop_run(pr.n.loop, tern_loop_now(pr.n.loop) + SEC / 10);
    CHECK_EQ(pr.cr.status, 0); /* the first test was not disturbed */
    CHECK_EQ(pr.sr.done_calls, 0); /* no -1: the server waits for the next */
    fflush(pr.sr.fo);
    CHECK(pr.sr.out && strstr(pr.sr.out, "Server listening on 5201 (test #2)"));
    /* and serves it */
    struct tern_perf *c3 = perf_start(pr.n.sb, pr.n.loop, &o, &c2io, NULL);
    r2.done_calls = 0;
    for (int i = 0; i < 100 && !r2.done_calls; i++)
        tern_loop_run(pr.n.loop, tern_loop_now(pr.n.loop) + SEC / 10);
    CHECK_EQ(r2.done_calls, 1);
    CHECK_EQ(r2.status, 0);
    perf_free(c2);
    perf_free(c3);
    prun_fini(&r2);
    pair_close(&pr);
}

TEST(perf_client_connection_refused)
{
    struct net2 n;
    REQUIRE(net2_open(&n, 76, NULL) == 0);
    struct prun r;
    struct tern_perf_io io;
    prun_init(&r, n.loop, &io);
    struct tern_perf_opts o = {.addr = NET2_A, .port = 5999};
    struct tern_perf *c = perf_start(n.sb, n.loop, &o, &io, NULL);
    REQUIRE(c != NULL);
    tern_loop_run(n.loop, tern_loop_now(n.loop) + SEC);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.status, 1);
    fflush(r.fe);
    CHECK(r.err && strstr(r.err, "unable to connect to server: "));
    perf_free(c);
    prun_fini(&r);
    net2_close(&n);
}

TEST(perf_json_reader)
{
    const char *t = "{\"tcp\":true, \"time\":10,\"s\":\"a\\\"b\",\"streams\":[{\"id\":1,"
                    "\"bytes\":1310720},{\"id\":3,\"bytes\":2.5e3}],\"neg\":-1}";
    struct pj root = {t, t + strlen(t)};
    CHECK(pj_valid(t, strlen(t)));
    double d = 0;
    CHECK(pj_true(root, "tcp"));
    CHECK(!pj_true(root, "udp"));
    CHECK(pj_number(pj_member(root, "time"), &d) && d == 10);
    CHECK(pj_number(pj_member(root, "neg"), &d) && d == -1);
    CHECK(!pj_number(pj_member(root, "s"), &d));
    struct pj arr = pj_member(root, "streams");
    CHECK(pj_number(pj_member(pj_index(arr, 1), "bytes"), &d) && d == 2500);
    CHECK(pj_number(pj_member(pj_index(arr, 0), "id"), &d) && d == 1);
    CHECK(pj_index(arr, 2).p == NULL);
    /* a member of a nested object is not one of the root's */
    CHECK(pj_member(root, "bytes").p == NULL);
    static const char *const bad[] = {"", "{", "{\"a\":}", "{\"a\":1,}", "[1]", "{\"a\":1}x",
                                      "{\"a\":\"\x01\"}", "{\"a\":[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
                                      "{a:1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!pj_valid(bad[i], strlen(bad[i])));
}
