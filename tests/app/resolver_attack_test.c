/*
 * Tests for src/app/resolver.c in the state world (tests/core/world.h):
 * the resolver's query is popped off the wire and crafted replies are
 * injected - spoofed ones (wrong ID, source port, source address,
 * question, QR=0) are ignored (ATTACKS 46), TC is reported, a CNAME-only
 * answer is asked again with a new ID, CNAME loops are bounded, and done
 * may free the lookup. The two-stack tests are in resolver_test.c.
 */
#include <stdlib.h>

#include "app/resolver.h"
#include "core/world.h"
#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"
#include "tern/wire/udp.h"

/* ---- crafted replies in the state world ---- */

struct wq {
    uint16_t sport, id;
    struct tern_dns_question q;
};

/* Pops the resolver's next query off the wire (skipping other frames,
 * such as ICMP errors about crafted datagrams). */
static bool pop_query(struct world *w, struct wq *out)
{
    size_t len;
    const uint8_t *f;
    while ((f = world_pop_ip(w, &len)) != NULL &&
           (len < TERN_ETH_HLEN + 20 + 8 || f[TERN_ETH_HLEN + 9] != 17))
        ;
    if (!f)
        return false;
    const uint8_t *ip = f + TERN_ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    const uint8_t *udp = ip + ihl;
    if (ip[9] != 17 || tern_get16(udp + 2) != 53 || tern_get32(ip + 16) != W_PEER)
        return false;
    out->sport = tern_get16(udp);
    struct tern_dns_reader r;
    size_t ulen = tern_get16(udp + 4);
    if (tern_dns_reader_init(&r, udp + 8, ulen - 8) < 0 || r.h.qr || !r.h.rd)
        return false;
    out->id = r.h.id;
    return tern_dns_next_question(&r, &out->q) == 1 && r.h.qdcount == 1;
}

struct craft {
    uint32_t src;
    uint16_t sport, dport, id;
    bool qr, tc, no_question;
    const char *qname; /* NULL = the query's */
    uint16_t qtype;    /* 0 = the query's */
    const char *cname; /* an answer CNAME from the question name */
    bool cname_back;   /* and one from its target back to the question name */
    uint32_t a;        /* an answer A (0 = none) for the question name, or the CNAME target */
};

static void inject_reply(struct world *w, const struct wq *q, const struct craft *c)
{
    uint8_t dns[512], udp[600], frame[700];
    struct tern_dns_writer wr;
    tern_dns_writer_init(&wr, dns, sizeof dns);
    struct tern_dns_question qq = q->q;
    if (c->qname)
        tern_dns_name_from_text(c->qname, &qq.name);
    if (c->qtype)
        qq.qtype = c->qtype;
    if (!c->no_question)
        tern_dns_put_question(&wr, &qq);
    struct tern_dns_name owner = qq.name;
    if (c->cname) {
        struct tern_dns_rr rr = {.name = owner, .type = TERN_DNS_T_CNAME,
                                 .rclass = TERN_DNS_C_IN, .ttl = 60};
        tern_dns_name_from_text(c->cname, &rr.u.target);
        tern_dns_put_rr(&wr, TERN_DNS_SEC_ANSWER, &rr);
        owner = rr.u.target;
        if (c->cname_back) {
            rr.name = owner;
            rr.u.target = qq.name;
            tern_dns_put_rr(&wr, TERN_DNS_SEC_ANSWER, &rr);
        }
    }
    if (c->a) {
        struct tern_dns_rr rr = {.name = owner, .type = TERN_DNS_T_A, .rclass = TERN_DNS_C_IN,
                                 .ttl = 60};
        rr.u.a = c->a;
        tern_dns_put_rr(&wr, TERN_DNS_SEC_ANSWER, &rr);
    }
    struct tern_dns_header h = {.id = c->id, .qr = c->qr, .tc = c->tc, .rd = true, .ra = true};
    int n = tern_dns_writer_finish(&wr, &h);
    struct tern_udp_repr u = {.sport = c->sport, .dport = c->dport, .payload = dns,
                              .payload_len = (uint16_t)n};
    int ul = tern_udp_emit(&u, c->src, W_US, udp, sizeof udp);
    struct tern_ipv4_repr ip = w_ip(c->src, W_US, 17, 77);
    size_t fl = w_ip_frame(frame, &ip, udp, (size_t)ul);
    world_inject(w, frame, fl);
    world_run(w, 1000);
}

/* The genuine reply's fields for query q. */
static struct craft genuine(const struct wq *q, uint32_t a)
{
    struct craft c = {.src = W_PEER, .sport = 53, .dport = q->sport, .id = q->id, .qr = true,
                      .a = a};
    return c;
}

struct wdone {
    struct tern_resolve_result res;
    int calls;
};

static void on_wdone(void *ctx, const struct tern_resolve_result *r)
{
    struct wdone *d = ctx;
    d->res = *r;
    d->calls++;
}

static struct tern_resolve *wstart(struct world *w, const char *name, struct wdone *d)
{
    struct tern_resolve_opts o = {.servers = {W_PEER}, .nservers = 1};
    memset(d, 0, sizeof *d);
    int err;
    world_learn_peer(w);
    struct tern_resolve *q = resolve_start(w->s, w->loop, name, &o, on_wdone, d, &err);
    world_run(w, 0);
    return q;
}

TEST(attack_46_spoofed_replies_ignored)
{
    struct world *w = world_new(NULL);
    REQUIRE(w != NULL);
    struct wdone d;
    struct tern_resolve *r = wstart(w, "www.example.test", &d);
    REQUIRE(r != NULL);
    struct wq q;
    REQUIRE(pop_query(w, &q));
    CHECK(q.sport >= 49152); /* an ephemeral port */
    struct craft c;
    c = genuine(&q, 0x0a060601);
    c.id = (uint16_t)(q.id + 1); /* wrong ID */
    inject_reply(w, &q, &c);
    c = genuine(&q, 0x0a060602);
    c.sport = 5353; /* wrong source port */
    inject_reply(w, &q, &c);
    c = genuine(&q, 0x0a060603);
    c.src = W_OTHER; /* wrong source address */
    inject_reply(w, &q, &c);
    c = genuine(&q, 0x0a060604);
    c.qname = "evil.example.test"; /* another question */
    inject_reply(w, &q, &c);
    c = genuine(&q, 0x0a060605);
    c.qtype = TERN_DNS_T_AAAA; /* another type */
    inject_reply(w, &q, &c);
    c = genuine(&q, 0x0a060606);
    c.qr = false; /* a query, not a response */
    inject_reply(w, &q, &c);
    c = genuine(&q, 0x0a060607);
    c.no_question = true;
    inject_reply(w, &q, &c);
    c = genuine(&q, 0x0a060608);
    c.dport = (uint16_t)(q.sport + 1); /* another port of ours: nobody listens */
    inject_reply(w, &q, &c);
    CHECK_EQ(d.calls, 0);
    /* still waiting: the 1 s timer resends the same question and ID */
    world_run(w, 1000000);
    struct wq q2;
    REQUIRE(pop_query(w, &q2));
    CHECK_EQ(q2.id, q.id);
    CHECK_EQ(q2.sport, q.sport);
    c = genuine(&q, 0x0a000005);
    inject_reply(w, &q, &c);
    REQUIRE_EQ(d.calls, 1);
    CHECK_EQ(d.res.status, TERN_RESOLVE_OK);
    REQUIRE_EQ(d.res.naddr, 1);
    CHECK_EQ(d.res.addr[0], 0x0a000005);
    CHECK_EQ(d.res.ignored, 7); /* the wrong port never reached the socket */
    CHECK_EQ(d.res.queries_sent, 2);
    resolve_free(r);
    world_end(w);
}

/* The next TCP segment to the server's port 53 (other frames skipped). */
static bool pop_tcp53(struct world *w, uint8_t *flags)
{
    size_t len;
    const uint8_t *f;
    while ((f = world_pop_ip(w, &len)) != NULL) {
        const uint8_t *ip = f + TERN_ETH_HLEN;
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        if (len >= TERN_ETH_HLEN + ihl + 20 && ip[9] == 6 && tern_get32(ip + 16) == W_PEER &&
            tern_get16(ip + ihl + 2) == 53) {
            *flags = ip[ihl + 13];
            return true;
        }
    }
    return false;
}

TEST(attack_46_truncated_reply_retried_over_tcp_then_reported)
{
    struct world *w = world_new(NULL);
    REQUIRE(w != NULL);
    struct wdone d;
    struct tern_resolve *r = wstart(w, "big.example.test", &d);
    REQUIRE(r != NULL);
    struct wq q;
    REQUIRE(pop_query(w, &q));
    struct craft c = genuine(&q, 0);
    c.tc = true;
    inject_reply(w, &q, &c);
    /* RFC 7766 s5: not the end - the same server is asked over TCP */
    CHECK_EQ(d.calls, 0);
    uint8_t fl = 0;
    REQUIRE(pop_tcp53(w, &fl));
    CHECK_EQ(fl, 0x02); /* SYN */
    /* a second (spoofed or late) UDP reply while TCP runs is ignored */
    struct craft c2 = genuine(&q, 0x0a000009);
    inject_reply(w, &q, &c2);
    CHECK_EQ(d.calls, 0);
    /* the server never answers on TCP: the retry's time limit ends it */
    world_run(w, TERN_RESOLVE_TCP_TIMEOUT_US - 100000);
    CHECK_EQ(d.calls, 0);
    world_run(w, 200000);
    REQUIRE_EQ(d.calls, 1);
    CHECK_EQ(d.res.status, TERN_RESOLVE_TRUNCATED);
    CHECK_EQ(d.res.tcp_queries, 1);
    CHECK_EQ(d.res.naddr, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_EQ(resolve_print(&d.res, "big.example.test", f), 1);
    fclose(f);
    CHECK_STR(buf, ";; Truncated answer for big.example.test, and the retry over TCP failed\n");
    free(buf);
    resolve_free(r);
    world_end(w);
}

TEST(attack_46_ids_differ_per_question_and_cname_target_asked)
{
    struct world *w = world_new(NULL);
    REQUIRE(w != NULL);
    struct wdone d;
    struct tern_resolve *r = wstart(w, "a.example.test", &d);
    REQUIRE(r != NULL);
    struct wq q;
    REQUIRE(pop_query(w, &q));
    struct craft c = genuine(&q, 0);
    c.cname = "b.example.test";
    inject_reply(w, &q, &c);
    CHECK_EQ(d.calls, 0);
    struct wq q2;
    REQUIRE(pop_query(w, &q2));
    struct tern_dns_name b;
    tern_dns_name_from_text("b.example.test", &b);
    CHECK(tern_dns_name_eq(&q2.q.name, &b));
    CHECK(q2.id != q.id);
    /* the old ID no longer counts */
    c = genuine(&q2, 0x0a060601);
    c.id = q.id;
    inject_reply(w, &q2, &c);
    CHECK_EQ(d.calls, 0);
    c = genuine(&q2, 0x0a000007);
    inject_reply(w, &q2, &c);
    REQUIRE_EQ(d.calls, 1);
    CHECK_EQ(d.res.status, TERN_RESOLVE_OK);
    CHECK_EQ(d.res.ncname, 1);
    CHECK_EQ(d.res.addr[0], 0x0a000007);
    CHECK_EQ(d.res.ignored, 1);
    resolve_free(r);
    world_end(w);
}

TEST(resolver_cname_loop_bounded)
{
    struct world *w = world_new(NULL);
    REQUIRE(w != NULL);
    struct wdone d;
    struct tern_resolve *r = wstart(w, "a.example.test", &d);
    REQUIRE(r != NULL);
    struct wq q;
    REQUIRE(pop_query(w, &q));
    struct craft c = genuine(&q, 0);
    c.cname = "b.example.test";
    c.cname_back = true; /* a -> b -> a -> ... */
    inject_reply(w, &q, &c);
    REQUIRE_EQ(d.calls, 1);
    CHECK_EQ(d.res.status, TERN_RESOLVE_LOOP);
    CHECK_EQ(d.res.ncname, TERN_RESOLVE_MAX_CNAMES);
    CHECK_EQ(world_pending_ip(w), 0); /* nothing asked again */
    resolve_free(r);
    world_end(w);
}

struct self_free {
    struct tern_resolve *q;
    int calls;
    enum tern_resolve_status st;
};

static void free_in_done(void *ctx, const struct tern_resolve_result *r)
{
    struct self_free *sf = ctx;
    sf->calls++;
    sf->st = r->status;
    resolve_free(sf->q); /* allowed by resolver.h */
}

TEST(resolver_free_inside_done)
{
    struct world *w = world_new(NULL);
    REQUIRE(w != NULL);
    world_learn_peer(w);
    struct self_free sf = {0};
    struct tern_resolve_opts o = {.servers = {W_PEER}, .nservers = 1};
    int err;
    sf.q = resolve_start(w->s, w->loop, "x.example.test", &o, free_in_done, &sf, &err);
    REQUIRE(sf.q != NULL);
    world_run(w, 0);
    struct wq q;
    REQUIRE(pop_query(w, &q));
    struct craft c = genuine(&q, 0x0a000001);
    inject_reply(w, &q, &c);
    CHECK_EQ(sf.calls, 1);
    CHECK_EQ(sf.st, TERN_RESOLVE_OK);
    /* and from the timer path */
    sf.calls = 0;
    o.rounds = 1;
    o.timeout_us = 1000;
    sf.q = resolve_start(w->s, w->loop, "y.example.test", &o, free_in_done, &sf, &err);
    REQUIRE(sf.q != NULL);
    world_run(w, 10000);
    CHECK_EQ(sf.calls, 1);
    CHECK_EQ(sf.st, TERN_RESOLVE_TIMEOUT);
    world_end(w);
}

TEST(resolver_bad_arguments)
{
    struct world *w = world_new(NULL);
    REQUIRE(w != NULL);
    struct wdone d;
    int err = 0;
    struct tern_resolve_opts none = {.nservers = 0};
    CHECK(resolve_start(w->s, w->loop, "x.test", &none, on_wdone, &d, &err) == NULL);
    CHECK_EQ(err, TERN_E_INVAL);
    struct tern_resolve_opts o = {.servers = {W_PEER}, .nservers = 1};
    CHECK(resolve_start(w->s, w->loop, "a..b", &o, on_wdone, &d, &err) == NULL);
    CHECK(resolve_start(w->s, w->loop, ".", &o, on_wdone, &d, &err) == NULL);
    o.qtype = TERN_DNS_T_ANY; /* not a type host(1)'s -t lines are printed for here */
    CHECK(resolve_start(w->s, w->loop, "x.test", &o, on_wdone, &d, &err) == NULL);
    world_end(w);
}
