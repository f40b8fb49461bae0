/*
 * Tests for src/app/dns_zone.c and the answers of src/app/dns_server.c:
 * the zone format of docs/dns.md (examples/zones/example.test.zone and
 * errors naming their line), and replies checked against scapy-built
 * messages (tests/scripts/gen_dns_vectors.py) and RFC 1034/2308 rules.
 */
#include <stdlib.h>

#include "app/dns_server.h"
#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/dns.h"

#define ZONE_FILE "examples/zones/example.test.zone"

/* scapy: raw(DNS(id=0x1234, qr=1, aa=1, rd=1, qd=DNSQR(qname='web.example.test', qtype='A'), an=DNSRR(rrname='web.example.test', type='CNAME', ttl=300, rdata='www.example.test')/DNSRR(rrname='www.example.test', type='A', ttl=300, rdata='10.0.0.5'))),
 * compressed per RFC 1035 s4.1.4 (scapy decodes both forms identically) */
static const uint8_t r_zone_web_z[68] = {
    0x12, 0x34, 0x85, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x77, 0x65, 0x62, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c,
    0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x06, 0x03, 0x77,
    0x77, 0x77, 0xc0, 0x10, 0xc0, 0x2e, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
    0x01, 0x2c, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x05,
};


/* the NXDOMAIN reply of tests/wire/dns_test.c (r_nxdomain_z): */
/* scapy: DNS(id=0xbeef, qr=1, aa=1, rd=1, rcode=3, qd=DNSQR(qname='nope.example.test', qtype='A'),
 * ns=DNSRRSOA(rrname='example.test', ttl=300, mname='ns1.example.test',
 * rname='hostmaster.example.test', serial=2024010101, refresh=3600, retry=900, expire=604800,
 * minimum=300)), compressed per RFC 1035 s4.1.4 */
static const uint8_t r_nxdomain_z[86] = {
    0xbe, 0xef, 0x85, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x04, 0x6e, 0x6f, 0x70, 0x65, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
    0x65, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0,
    0x11, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x27, 0x03,
    0x6e, 0x73, 0x31, 0xc0, 0x11, 0x0a, 0x68, 0x6f, 0x73, 0x74, 0x6d, 0x61,
    0x73, 0x74, 0x65, 0x72, 0xc0, 0x11, 0x78, 0xa3, 0xf1, 0x75, 0x00, 0x00,
    0x0e, 0x10, 0x00, 0x00, 0x03, 0x84, 0x00, 0x09, 0x3a, 0x80, 0x00, 0x00,
    0x01, 0x2c,
};

static struct tern_dns_zone *load_example(void)
{
    char err[256];
    struct tern_dns_zone *z = dns_zone_load(ZONE_FILE, err, sizeof err);
    if (!z)
        test_fail(__FILE__, __LINE__, "%s", err);
    return z;
}

static int query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype)
{
    struct tern_dns_writer w;
    struct tern_dns_question q = {.qtype = qtype, .qclass = TERN_DNS_C_IN};
    if (tern_dns_name_from_text(name, &q.name) < 0 || tern_dns_writer_init(&w, buf, cap) < 0 ||
        tern_dns_put_question(&w, &q) < 0)
        return -1;
    struct tern_dns_header h = {.id = id, .rd = true};
    return tern_dns_writer_finish(&w, &h);
}

struct reply {
    struct tern_dns_header h;
    int n[4];
    struct tern_dns_rr rr[8];
    int sec[8];
    int nrr, err;
};

/* Asks z; parses the reply. */
static int ask(const struct tern_dns_zone *z, const char *name, uint16_t qtype, struct reply *r)
{
    static uint8_t q[512], out[512];
    memset(r, 0, sizeof *r);
    int ql = query(q, sizeof q, 0x4242, name, qtype);
    if (ql < 0)
        return -1;
    int n = dns_zone_answer(z, q, (size_t)ql, out, sizeof out);
    if (n < 0)
        return n;
    struct tern_dns_reader rd;
    tern_dns_reader_init(&rd, out, (size_t)n);
    r->h = rd.h;
    int k;
    while (r->nrr < 8 && (k = tern_dns_next_rr(&rd, &r->rr[r->nrr], &r->sec[r->nrr])) == 1)
        r->n[r->sec[r->nrr++]]++;
    r->err = k < 0 ? k : 0;
    return n;
}

static bool name_is(const struct tern_dns_name *n, const char *text)
{
    struct tern_dns_name t;
    return tern_dns_name_from_text(text, &t) == 0 && tern_dns_name_eq(n, &t);
}

TEST(dns_zone_example_file_parses)
{
    struct tern_dns_zone *z = load_example();
    REQUIRE(z != NULL);
    CHECK(name_is(dns_zone_apex(z), "example.test"));
    REQUIRE_EQ(dns_zone_count(z), 11);
    const struct tern_dns_rr *soa = dns_zone_record(z, 0);
    CHECK_EQ(soa->type, TERN_DNS_T_SOA);
    CHECK_EQ(soa->ttl, 300);
    CHECK(name_is(&soa->u.soa.mname, "ns1.example.test"));
    CHECK(name_is(&soa->u.soa.rname, "hostmaster.example.test"));
    CHECK_EQ(soa->u.soa.serial, 2024010101u);
    CHECK_EQ(soa->u.soa.refresh, 3600);
    CHECK_EQ(soa->u.soa.retry, 900);
    CHECK_EQ(soa->u.soa.expire, 604800);
    CHECK_EQ(soa->u.soa.minimum, 300);
    const struct tern_dns_rr *ns = dns_zone_record(z, 1);
    CHECK_EQ(ns->type, TERN_DNS_T_NS);
    CHECK(name_is(&ns->name, "example.test")); /* blank owner after the SOA */
    CHECK_EQ(ns->ttl, 3600);                   /* $TTL */
    const struct tern_dns_rr *aaaa = dns_zone_record(z, 4);
    CHECK_EQ(aaaa->type, TERN_DNS_T_AAAA);
    CHECK(name_is(&aaaa->name, "www.example.test"));
    CHECK_MEM(aaaa->u.aaaa, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x05", 16);
    const struct tern_dns_rr *web = dns_zone_record(z, 5);
    CHECK(name_is(&web->u.target, "www.example.test"));
    const struct tern_dns_rr *deep = dns_zone_record(z, 9);
    CHECK(name_is(&deep->name, "deep.sub.example.test"));
    CHECK_EQ(deep->ttl, 3600); /* 1h */
    CHECK_EQ(deep->u.a, 0x0a000009);
    dns_zone_free(z);
}

static void zone_error(const char *text, const char *want, const char *file, int line)
{
    char err[256];
    struct tern_dns_zone *z = dns_zone_parse(text, strlen(text), "t.zone", err, sizeof err);
    if (z) {
        test_fail(file, line, "zone parsed, expected error \"%s\"", want);
        dns_zone_free(z);
    } else if (strstr(err, want) == NULL) {
        test_fail(file, line, "error \"%s\" does not contain \"%s\"", err, want);
    }
}
#define ZONE_ERROR(text, want) zone_error((text), (want), __FILE__, __LINE__)

#define SOA_LINE "@ IN SOA ns hm 1 2 3 4 5\n"

TEST(dns_zone_errors_name_the_line)
{
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "www IN MX 10 mail\n", "t.zone:3: unsupported type 'MX'");
    ZONE_ERROR("www.t. IN A 1.2.3.4\n", "t.zone:1: no SOA");
    ZONE_ERROR("www IN A 1.2.3.4\n", "t.zone:1: relative name 'www' without $ORIGIN");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "\n; c\nwww IN A 1.2.3\n", "t.zone:5: A needs one IPv4");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "www IN AAAA 1.2.3.4\n", "t.zone:3: AAAA needs");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "a IN CNAME b\na IN A 1.2.3.4\n", "CNAME and other data at a.t");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "x.u. IN A 1.2.3.4\n", "x.u is outside the zone");
    ZONE_ERROR("$ORIGIN t.\n@ IN SOA ns hm ( 1 2 3 4 5\n", "'(' not closed");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "a ) IN A 1.2.3.4\n", "t.zone:3: unbalanced");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "a 5x IN A 1.2.3.4\n", "t.zone:3: bad TTL '5x'");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "a CH A 1.2.3.4\n", "class CH is not supported");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE SOA_LINE, "more than one SOA");
    ZONE_ERROR("$TTL\n", "t.zone:1: $TTL needs");
    ZONE_ERROR("$INCLUDE x\n", "unsupported directive '$INCLUDE'");
    ZONE_ERROR("  IN A 1.2.3.4\n", "t.zone:1: record without an owner");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "a..b IN A 1.2.3.4\n", "bad name 'a..b'");
    ZONE_ERROR("$ORIGIN t.\n" SOA_LINE "a IN\n", "record without a type");
    /* a multi-line SOA reports the line it started on */
    ZONE_ERROR("$ORIGIN t.\n\n@ IN SOA ns hm (\n 1 2\n 3 4 )\n", "t.zone:3: SOA needs");
    /* CRLF line ends and a missing final newline are fine */
    char err[256];
    const char *ok = "$ORIGIN t.\r\n$TTL 1d\r\n@ IN SOA ns hm 1 2 3 4 5\r\nwww 60 IN A 1.2.3.4";
    struct tern_dns_zone *z = dns_zone_parse(ok, strlen(ok), "ok.zone", err, sizeof err);
    REQUIRE(z != NULL);
    CHECK_EQ(dns_zone_count(z), 2);
    CHECK_EQ(dns_zone_record(z, 0)->ttl, 86400);
    CHECK_EQ(dns_zone_record(z, 1)->ttl, 60);
    dns_zone_free(z);
}

TEST(dns_server_answers_a_with_aa)
{
    struct tern_dns_zone *z = load_example();
    REQUIRE(z != NULL);
    struct reply r;
    REQUIRE(ask(z, "www.example.test", TERN_DNS_T_A, &r) > 0);
    CHECK(r.h.qr && r.h.aa && r.h.rd && !r.h.ra && !r.h.tc);
    CHECK_EQ(r.h.id, 0x4242);
    CHECK_EQ(r.h.rcode, TERN_DNS_R_NOERROR);
    REQUIRE_EQ(r.n[1], 1);
    CHECK_EQ(r.rr[0].type, TERN_DNS_T_A);
    CHECK_EQ(r.rr[0].u.a, 0x0a000005);
    CHECK_EQ(r.rr[0].ttl, 300);
    CHECK_EQ(r.n[2] + r.n[3], 0);
    /* case-insensitive (RFC 4343), AAAA, ANY */
    REQUIRE(ask(z, "WWW.Example.TEST", TERN_DNS_T_AAAA, &r) > 0);
    REQUIRE_EQ(r.n[1], 1);
    CHECK_EQ(r.rr[0].type, TERN_DNS_T_AAAA);
    REQUIRE(ask(z, "www.example.test", TERN_DNS_T_ANY, &r) > 0);
    CHECK_EQ(r.n[1], 2);
    REQUIRE(ask(z, "example.test", TERN_DNS_T_NS, &r) > 0);
    REQUIRE_EQ(r.n[1], 1);
    CHECK(name_is(&r.rr[0].u.target, "ns1.example.test"));
    dns_zone_free(z);
}

TEST(dns_server_cname_chain_exact_bytes)
{
    struct tern_dns_zone *z = load_example();
    REQUIRE(z != NULL);
    uint8_t q[512], out[512];
    int ql = query(q, sizeof q, 0x1234, "web.example.test", TERN_DNS_T_A);
    REQUIRE(ql > 0);
    REQUIRE_EQ(dns_zone_answer(z, q, (size_t)ql, out, sizeof out), sizeof r_zone_web_z);
    CHECK_MEM(out, r_zone_web_z, sizeof r_zone_web_z);
    /* two hops: alias -> web -> www */
    struct reply r;
    REQUIRE(ask(z, "alias.example.test", TERN_DNS_T_A, &r) > 0);
    REQUIRE_EQ(r.n[1], 3);
    CHECK(r.rr[0].type == TERN_DNS_T_CNAME && name_is(&r.rr[0].u.target, "web.example.test"));
    CHECK(r.rr[1].type == TERN_DNS_T_CNAME && name_is(&r.rr[1].u.target, "www.example.test"));
    CHECK(r.rr[2].type == TERN_DNS_T_A && r.rr[2].u.a == 0x0a000005);
    /* asking for the CNAME itself does not chase it */
    REQUIRE(ask(z, "web.example.test", TERN_DNS_T_CNAME, &r) > 0);
    CHECK_EQ(r.n[1], 1);
    /* a chain leaving the zone stops at the alias: NOERROR, AA */
    REQUIRE(ask(z, "ext.example.test", TERN_DNS_T_A, &r) > 0);
    CHECK_EQ(r.h.rcode, TERN_DNS_R_NOERROR);
    CHECK(r.h.aa);
    REQUIRE_EQ(r.n[1], 1);
    CHECK(name_is(&r.rr[0].u.target, "www.example.org"));
    dns_zone_free(z);
}

TEST(dns_server_nxdomain_and_nodata)
{
    struct tern_dns_zone *z = load_example();
    REQUIRE(z != NULL);
    uint8_t q[512], out[512];
    int ql = query(q, sizeof q, 0xbeef, "nope.example.test", TERN_DNS_T_A);
    REQUIRE(ql > 0);
    /* RFC 2308 s3: SOA in authority, TTL min(300, MINIMUM 300) */
    REQUIRE_EQ(dns_zone_answer(z, q, (size_t)ql, out, sizeof out), sizeof r_nxdomain_z);
    CHECK_MEM(out, r_nxdomain_z, sizeof r_nxdomain_z);
    struct reply r;
    /* NODATA: the name exists without AAAA */
    REQUIRE(ask(z, "mail.example.test", TERN_DNS_T_AAAA, &r) > 0);
    CHECK_EQ(r.h.rcode, TERN_DNS_R_NOERROR);
    CHECK(r.h.aa);
    CHECK_EQ(r.n[1], 0);
    REQUIRE_EQ(r.n[2], 1);
    CHECK_EQ(r.rr[0].type, TERN_DNS_T_SOA);
    /* an empty non-terminal is NODATA too (RFC 8020), its child exists */
    REQUIRE(ask(z, "sub.example.test", TERN_DNS_T_A, &r) > 0);
    CHECK_EQ(r.h.rcode, TERN_DNS_R_NOERROR);
    CHECK_EQ(r.n[2], 1);
    REQUIRE(ask(z, "deep.sub.example.test", TERN_DNS_T_A, &r) > 0);
    CHECK_EQ(r.n[1], 1);
    REQUIRE(ask(z, "x.deep.sub.example.test", TERN_DNS_T_A, &r) > 0);
    CHECK_EQ(r.h.rcode, TERN_DNS_R_NXDOMAIN);
    dns_zone_free(z);
}

TEST(dns_server_refused_formerr_notimp)
{
    struct tern_dns_zone *z = load_example();
    REQUIRE(z != NULL);
    struct reply r;
    /* outside the zone: REFUSED, no AA, question echoed */
    REQUIRE(ask(z, "www.example.org", TERN_DNS_T_A, &r) > 0);
    CHECK_EQ(r.h.rcode, TERN_DNS_R_REFUSED);
    CHECK(!r.h.aa);
    CHECK_EQ(r.h.qdcount, 1);
    CHECK_EQ(r.nrr, 0);
    REQUIRE(ask(z, "test", TERN_DNS_T_A, &r) > 0);
    CHECK_EQ(r.h.rcode, TERN_DNS_R_REFUSED);
    uint8_t q[512], out[512];
    int ql = query(q, sizeof q, 7, "www.example.test", TERN_DNS_T_A);
    REQUIRE(ql > 0);
    struct tern_dns_header h;
    /* garbage after a header: FORMERR with the ID kept */
    uint8_t bad[20];
    memcpy(bad, q, 12);
    memset(bad + 12, 0xff, 8);
    REQUIRE_EQ(dns_zone_answer(z, bad, sizeof bad, out, sizeof out), 12);
    tern_dns_header_parse(out, 12, &h);
    CHECK_EQ(h.rcode, TERN_DNS_R_FORMERR);
    CHECK_EQ(h.id, 7);
    CHECK(h.qr);
    /* two questions: FORMERR */
    tern_put16(q + 4, 2);
    REQUIRE(dns_zone_answer(z, q, (size_t)ql, out, sizeof out) > 0);
    tern_dns_header_parse(out, 12, &h);
    CHECK_EQ(h.rcode, TERN_DNS_R_FORMERR);
    tern_put16(q + 4, 1);
    /* opcode STATUS (2): NOTIMP */
    q[2] = (uint8_t)(q[2] | 2 << 3);
    REQUIRE(dns_zone_answer(z, q, (size_t)ql, out, sizeof out) > 0);
    tern_dns_header_parse(out, 12, &h);
    CHECK_EQ(h.rcode, TERN_DNS_R_NOTIMP);
    CHECK_EQ(h.opcode, 2);
    /* a response (QR=1) or a runt gets no reply at all */
    q[2] = 0x81;
    CHECK_EQ(dns_zone_answer(z, q, (size_t)ql, out, sizeof out), -1);
    CHECK_EQ(dns_zone_answer(z, q, 11, out, sizeof out), -1);
    dns_zone_free(z);
}

TEST(dns_server_truncates_at_512_with_tc)
{
    /* 40 A records at one name: 12 + 22 (question) + 40 * 16 > 512 */
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "$ORIGIN t.\n@ IN SOA ns hm 1 2 3 4 5\n");
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "many IN A 10.1.0.%d\n", i);
    char err[256];
    struct tern_dns_zone *z = dns_zone_parse(text, o, "big", err, sizeof err);
    REQUIRE(z != NULL);
    struct reply r;
    int n = ask(z, "many.t", TERN_DNS_T_A, &r);
    CHECK(n > 0 && n <= 512);
    CHECK(r.h.tc);
    CHECK_EQ(r.err, 0);
    /* (512 - 12 - 12 question octets) / 16 per compressed A record = 30 */
    CHECK_EQ(r.h.ancount, 30);
    CHECK_EQ(n, 12 + 12 + 30 * 16);
    dns_zone_free(z);
}

TEST(dns_server_tcp_answer_is_whole)
{
    /* The zone of dns_server_truncates_at_512_with_tc asked over TCP
     * (RFC 1035 s4.2.2: no 512-octet limit): all 40 records, no TC,
     * 12 + 12 + 40 * 16 = 664 octets. */
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "$ORIGIN t.\n@ IN SOA ns hm 1 2 3 4 5\n");
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "many IN A 10.1.0.%d\n", i);
    char err[256];
    struct tern_dns_zone *z = dns_zone_parse(text, o, "big", err, sizeof err);
    REQUIRE(z != NULL);
    uint8_t q[512], out[2048];
    int ql = query(q, sizeof q, 0x77, "many.t", TERN_DNS_T_A);
    REQUIRE(ql > 0);
    int n = dns_zone_answer_tcp(z, q, (size_t)ql, out, sizeof out);
    CHECK_EQ(n, 12 + 12 + 40 * 16);
    struct tern_dns_header h;
    REQUIRE(tern_dns_header_parse(out, (size_t)n, &h) == TERN_DNS_HLEN);
    CHECK(!h.tc);
    CHECK_EQ(h.ancount, 40);
    CHECK_EQ(h.id, 0x77);
    /* a smaller buffer still truncates with TC, as over UDP */
    n = dns_zone_answer_tcp(z, q, (size_t)ql, out, 600);
    REQUIRE(tern_dns_header_parse(out, (size_t)n, &h) == TERN_DNS_HLEN);
    CHECK(h.tc);
    CHECK_EQ(h.ancount, (600 - 24) / 16);
    dns_zone_free(z);
}
