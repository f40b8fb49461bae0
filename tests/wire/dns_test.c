/* Tests for src/wire/dns.c and src/wire/dns_name.c: scapy known answers
 * both ways (uncompressed messages parsed; our compressed output equal to
 * the RFC 1035 s4.1.4 compression that scapy decodes identically - see
 * tests/scripts/gen_dns_vectors.py), names as text. ATTACKS 40-45:
 * tests/wire/dns_attack_test.c. */
#include <stdlib.h>

#include "dns_util.h"
#include "dns_vectors.h"
#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/dns.h"

static struct tern_dns_name nm(const char *text)
{
    struct tern_dns_name n;
    memset(&n, 0, sizeof n);
    if (tern_dns_name_from_text(text, &n) < 0)
        n.len = 0;
    return n;
}

static struct tern_dns_rr rr_a(const char *name, uint32_t ttl, uint32_t a)
{
    struct tern_dns_rr r = {.name = nm(name), .type = TERN_DNS_T_A, .rclass = TERN_DNS_C_IN,
                            .ttl = ttl};
    r.u.a = a;
    return r;
}

static struct tern_dns_rr rr_name(const char *name, uint16_t type, uint32_t ttl, const char *target)
{
    struct tern_dns_rr r = {.name = nm(name), .type = type, .rclass = TERN_DNS_C_IN, .ttl = ttl};
    r.u.target = nm(target);
    return r;
}

TEST(dns_query_known_answer_both_ways)
{
    struct parsed p;
    parse_msg(q_www_a, sizeof q_www_a, &p);
    CHECK_EQ(p.err, 0);
    CHECK_EQ(p.h.id, 0x1234);
    CHECK(!p.h.qr && p.h.rd && !p.h.aa && !p.h.tc && !p.h.ra);
    CHECK_EQ(p.h.opcode, 0);
    CHECK_EQ(p.h.rcode, 0);
    CHECK_EQ(p.h.qdcount, 1);
    REQUIRE_EQ(p.nq, 1);
    NAME_IS(&p.q[0].name, "www.example.test");
    CHECK_EQ(p.q[0].name.len, 18);
    CHECK_EQ(p.q[0].qtype, TERN_DNS_T_A);
    CHECK_EQ(p.q[0].qclass, TERN_DNS_C_IN);
    CHECK_EQ(p.nrr, 0);
    CHECK(!p.short_count);
    free(p.copy);

    uint8_t buf[512];
    struct tern_dns_writer w;
    REQUIRE_EQ(tern_dns_writer_init(&w, buf, sizeof buf), 0);
    struct tern_dns_question q = {.name = nm("www.example.test."), .qtype = 1, .qclass = 1};
    REQUIRE_EQ(tern_dns_put_question(&w, &q), 0);
    struct tern_dns_header h = {.id = 0x1234, .rd = true};
    REQUIRE_EQ(tern_dns_writer_finish(&w, &h), sizeof q_www_a);
    CHECK_MEM(buf, q_www_a, sizeof q_www_a);
}

static void check_cname_chain(const uint8_t *m, size_t n)
{
    struct parsed p;
    parse_msg(m, n, &p);
    CHECK_EQ(p.err, 0);
    CHECK(p.h.qr && p.h.aa && p.h.rd && !p.h.ra && !p.h.tc);
    REQUIRE_EQ(p.nq, 1);
    NAME_IS(&p.q[0].name, "www.example.test");
    REQUIRE_EQ(p.nrr, 4);
    CHECK_EQ(p.sec[0], TERN_DNS_SEC_ANSWER);
    NAME_IS(&p.rr[0].name, "www.example.test");
    CHECK_EQ(p.rr[0].type, TERN_DNS_T_CNAME);
    CHECK_EQ(p.rr[0].ttl, 300);
    NAME_IS(&p.rr[0].u.target, "web.example.test");
    CHECK_EQ(p.sec[1], TERN_DNS_SEC_ANSWER);
    NAME_IS(&p.rr[1].name, "web.example.test");
    CHECK_EQ(p.rr[1].type, TERN_DNS_T_A);
    CHECK_EQ(p.rr[1].rdlength, 4);
    CHECK_EQ(p.rr[1].u.a, 0x0a000005);
    CHECK_EQ(p.sec[2], TERN_DNS_SEC_AUTHORITY);
    NAME_IS(&p.rr[2].name, "example.test");
    CHECK_EQ(p.rr[2].type, TERN_DNS_T_NS);
    CHECK_EQ(p.rr[2].ttl, 3600);
    NAME_IS(&p.rr[2].u.target, "ns1.example.test");
    CHECK_EQ(p.sec[3], TERN_DNS_SEC_ADDITIONAL);
    NAME_IS(&p.rr[3].name, "ns1.example.test");
    CHECK_EQ(p.rr[3].u.a, 0x0a000035);
    CHECK(!p.short_count);
    free(p.copy);
}

TEST(dns_response_cname_chain_parse_plain_and_compressed)
{
    check_cname_chain(r_cname_chain, sizeof r_cname_chain);
    check_cname_chain(r_cname_chain_z, sizeof r_cname_chain_z);
}

TEST(dns_response_cname_chain_emit_compressed)
{
    uint8_t buf[512];
    struct tern_dns_writer w;
    REQUIRE_EQ(tern_dns_writer_init(&w, buf, sizeof buf), 0);
    struct tern_dns_question q = {.name = nm("www.example.test"), .qtype = 1, .qclass = 1};
    REQUIRE_EQ(tern_dns_put_question(&w, &q), 0);
    struct tern_dns_rr c = rr_name("www.example.test", TERN_DNS_T_CNAME, 300, "web.example.test");
    struct tern_dns_rr a = rr_a("web.example.test", 300, 0x0a000005);
    struct tern_dns_rr ns = rr_name("example.test", TERN_DNS_T_NS, 3600, "ns1.example.test");
    struct tern_dns_rr ad = rr_a("ns1.example.test", 3600, 0x0a000035);
    REQUIRE_EQ(tern_dns_put_rr(&w, TERN_DNS_SEC_ANSWER, &c), 0);
    REQUIRE_EQ(tern_dns_put_rr(&w, TERN_DNS_SEC_ANSWER, &a), 0);
    REQUIRE_EQ(tern_dns_put_rr(&w, TERN_DNS_SEC_AUTHORITY, &ns), 0);
    REQUIRE_EQ(tern_dns_put_rr(&w, TERN_DNS_SEC_ADDITIONAL, &ad), 0);
    /* out of order: a question or an answer after the additional section */
    CHECK_EQ(tern_dns_put_question(&w, &q), TERN_E_INVAL);
    CHECK_EQ(tern_dns_put_rr(&w, TERN_DNS_SEC_ANSWER, &a), TERN_E_INVAL);
    struct tern_dns_header h = {.id = 0x1234, .qr = true, .aa = true, .rd = true};
    REQUIRE_EQ(tern_dns_writer_finish(&w, &h), sizeof r_cname_chain_z);
    CHECK_MEM(buf, r_cname_chain_z, sizeof r_cname_chain_z);
}

TEST(dns_nxdomain_soa_both_ways)
{
    struct parsed p;
    parse_msg(r_nxdomain, sizeof r_nxdomain, &p);
    CHECK_EQ(p.err, 0);
    CHECK_EQ(p.h.id, 0xbeef);
    CHECK_EQ(p.h.rcode, TERN_DNS_R_NXDOMAIN);
    CHECK_STR(tern_dns_rcode_name(p.h.rcode), "NXDOMAIN");
    REQUIRE_EQ(p.nrr, 1);
    CHECK_EQ(p.sec[0], TERN_DNS_SEC_AUTHORITY);
    CHECK_EQ(p.rr[0].type, TERN_DNS_T_SOA);
    NAME_IS(&p.rr[0].u.soa.mname, "ns1.example.test");
    NAME_IS(&p.rr[0].u.soa.rname, "hostmaster.example.test");
    CHECK_EQ(p.rr[0].u.soa.serial, 2024010101u);
    CHECK_EQ(p.rr[0].u.soa.refresh, 3600);
    CHECK_EQ(p.rr[0].u.soa.retry, 900);
    CHECK_EQ(p.rr[0].u.soa.expire, 604800);
    CHECK_EQ(p.rr[0].u.soa.minimum, 300);
    struct tern_dns_rr soa = p.rr[0];
    free(p.copy);
    parse_msg(r_nxdomain_z, sizeof r_nxdomain_z, &p);
    CHECK_EQ(p.err, 0);
    REQUIRE_EQ(p.nrr, 1);
    CHECK(tern_dns_name_eq(&p.rr[0].u.soa.rname, &soa.u.soa.rname));
    free(p.copy);

    uint8_t buf[512];
    struct tern_dns_writer w;
    REQUIRE_EQ(tern_dns_writer_init(&w, buf, sizeof buf), 0);
    struct tern_dns_question q = {.name = nm("nope.example.test"), .qtype = 1, .qclass = 1};
    REQUIRE_EQ(tern_dns_put_question(&w, &q), 0);
    REQUIRE_EQ(tern_dns_put_rr(&w, TERN_DNS_SEC_AUTHORITY, &soa), 0);
    struct tern_dns_header h = {.id = 0xbeef, .qr = 1, .aa = 1, .rd = 1, .rcode = 3};
    REQUIRE_EQ(tern_dns_writer_finish(&w, &h), sizeof r_nxdomain_z);
    CHECK_MEM(buf, r_nxdomain_z, sizeof r_nxdomain_z);
}

TEST(dns_aaaa_and_raw_txt_both_ways)
{
    static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 5};
    struct parsed p;
    parse_msg(r_aaaa, sizeof r_aaaa, &p);
    CHECK_EQ(p.err, 0);
    CHECK(p.h.ra && p.h.rd && p.h.qr && !p.h.aa);
    REQUIRE_EQ(p.nrr, 1);
    CHECK_EQ(p.q[0].qtype, TERN_DNS_T_AAAA);
    CHECK_EQ(p.rr[0].type, TERN_DNS_T_AAAA);
    CHECK_EQ(p.rr[0].ttl, 60);
    CHECK_MEM(p.rr[0].u.aaaa, a6, 16);
    struct tern_dns_rr rr = p.rr[0];
    free(p.copy);
    uint8_t buf[512];
    struct tern_dns_writer w;
    REQUIRE_EQ(tern_dns_writer_init(&w, buf, sizeof buf), 0);
    struct tern_dns_question q = {.name = nm("www.example.test"), .qtype = 28, .qclass = 1};
    REQUIRE_EQ(tern_dns_put_question(&w, &q), 0);
    REQUIRE_EQ(tern_dns_put_rr(&w, TERN_DNS_SEC_ANSWER, &rr), 0);
    struct tern_dns_header h = {.id = 7, .qr = 1, .rd = 1, .ra = 1};
    REQUIRE_EQ(tern_dns_writer_finish(&w, &h), sizeof r_aaaa_z);
    CHECK_MEM(buf, r_aaaa_z, sizeof r_aaaa_z);

    /* TXT is kept raw: rdata points into the message */
    parse_msg(r_txt_z, sizeof r_txt_z, &p);
    CHECK_EQ(p.err, 0);
    REQUIRE_EQ(p.nrr, 1);
    CHECK_EQ(p.rr[0].type, TERN_DNS_T_TXT);
    CHECK_EQ(p.rr[0].rdlength, 3);
    CHECK(p.rr[0].rdata == p.copy + sizeof r_txt_z - 3);
    CHECK_MEM(p.rr[0].rdata, "\x02hi", 3);
    REQUIRE_EQ(tern_dns_writer_init(&w, buf, sizeof buf), 0);
    struct tern_dns_question qt = {.name = nm("t.example.test"), .qtype = 16, .qclass = 1};
    REQUIRE_EQ(tern_dns_put_question(&w, &qt), 0);
    REQUIRE_EQ(tern_dns_put_rr(&w, TERN_DNS_SEC_ANSWER, &p.rr[0]), 0);
    struct tern_dns_header ht = {.id = 9, .qr = 1, .rd = 1, .ra = 1}; /* scapy: rd=1 by default */
    REQUIRE_EQ(tern_dns_writer_finish(&w, &ht), sizeof r_txt_z);
    CHECK_MEM(buf, r_txt_z, sizeof r_txt_z);
    free(p.copy);
    /* and the uncompressed forms parse the same */
    parse_msg(r_txt, sizeof r_txt, &p);
    CHECK_EQ(p.err, 0);
    CHECK_EQ(p.nrr, 1);
    free(p.copy);
    parse_msg(r_aaaa_z, sizeof r_aaaa_z, &p);
    CHECK_EQ(p.err, 0);
    CHECK_EQ(p.nrr, 1);
    free(p.copy);
}

TEST(dns_writer_nospc_rolls_back)
{
    /* Every capacity below the full length: each item either fits whole or
     * is refused with nothing written; the result always parses. */
    for (size_t cap = TERN_DNS_HLEN; cap < sizeof r_cname_chain_z; cap++) {
        uint8_t *buf = malloc(cap);
        struct tern_dns_writer w;
        REQUIRE_EQ(tern_dns_writer_init(&w, buf, cap), 0);
        struct tern_dns_question q = {.name = nm("www.example.test"), .qtype = 1, .qclass = 1};
        struct tern_dns_rr c = rr_name("www.example.test", TERN_DNS_T_CNAME, 300, "web.example.test");
        struct tern_dns_rr a = rr_a("web.example.test", 300, 0x0a000005);
        int e1 = tern_dns_put_question(&w, &q);
        int e2 = tern_dns_put_rr(&w, TERN_DNS_SEC_ANSWER, &c);
        int e3 = tern_dns_put_rr(&w, TERN_DNS_SEC_ANSWER, &a);
        CHECK(e1 == 0 || e1 == TERN_E_NOSPC);
        CHECK(e2 == 0 || e2 == TERN_E_NOSPC);
        CHECK(e3 == 0 || e3 == TERN_E_NOSPC);
        struct tern_dns_header h = {.id = 1, .qr = 1, .tc = true};
        int n = tern_dns_writer_finish(&w, &h);
        REQUIRE(n >= TERN_DNS_HLEN && (size_t)n <= cap);
        struct parsed p;
        parse_msg(buf, (size_t)n, &p);
        CHECK_EQ(p.err, 0);
        CHECK_EQ(p.nq + p.nrr, (e1 == 0) + (e2 == 0) + (e3 == 0));
        CHECK(!p.short_count);
        free(p.copy);
        free(buf);
    }
}

TEST(dns_names_as_text)
{
    struct tern_dns_name n;
    char t[TERN_DNS_TEXT_MAX];
    REQUIRE_EQ(tern_dns_name_from_text("www.Example.TEST.", &n), 0);
    CHECK_EQ(n.len, 18);
    CHECK_MEM(n.wire, "\x03www\x07" "Example\x04TEST", 18);
    CHECK_EQ(tern_dns_name_to_text(&n, t, sizeof t), 16);
    CHECK_STR(t, "www.Example.TEST");
    CHECK_EQ(tern_dns_name_labels(&n), 3);
    struct tern_dns_name lower = nm("www.example.test");
    CHECK(tern_dns_name_eq(&n, &lower));
    struct tern_dns_name zone = nm("EXAMPLE.test"), other = nm("ample.test"), root = nm(".");
    CHECK(tern_dns_name_in_zone(&n, &zone));
    CHECK(tern_dns_name_in_zone(&zone, &zone));
    CHECK(!tern_dns_name_in_zone(&n, &other)); /* a label boundary, not a string suffix */
    CHECK(!tern_dns_name_in_zone(&zone, &n));
    CHECK(tern_dns_name_in_zone(&n, &root));
    CHECK_EQ(root.len, 1);
    CHECK_EQ(tern_dns_name_labels(&root), 0);
    CHECK_EQ(tern_dns_name_to_text(&root, t, sizeof t), 1);
    CHECK_STR(t, ".");
    CHECK_EQ(tern_dns_name_from_text("", &n), 0);
    CHECK_EQ(n.len, 1);
    /* escapes: a dot inside a label, a backslash, a byte, a space */
    REQUIRE_EQ(tern_dns_name_from_text("a\\.b\\\\\\007\\ .c", &n), 0);
    CHECK_EQ(n.len, 1 + 6 + 2 + 1);
    CHECK_MEM(n.wire, "\x06" "a.b\\\x07 \x01" "c", 10);
    CHECK(tern_dns_name_to_text(&n, t, sizeof t) > 0);
    CHECK_STR(t, "a\\.b\\\\\\007\\032.c");
    CHECK_EQ(tern_dns_name_to_text(&n, t, 5), TERN_E_NOSPC);
    /* bad text */
    CHECK_EQ(tern_dns_name_from_text("a..b", &n), TERN_E_BAD_LEN);
    CHECK_EQ(tern_dns_name_from_text(".a", &n), TERN_E_BAD_LEN);
    CHECK_EQ(tern_dns_name_from_text("a\\9", &n), TERN_E_INVAL);
    CHECK_EQ(tern_dns_name_from_text("a\\256", &n), TERN_E_INVAL);
    CHECK_EQ(tern_dns_name_from_text("a\\", &n), TERN_E_INVAL);
    char big[400];
    memset(big, 'x', 63);
    big[63] = '\0';
    CHECK_EQ(tern_dns_name_from_text(big, &n), 0);
    big[63] = 'x';
    big[64] = '\0';
    CHECK_EQ(tern_dns_name_from_text(big, &n), TERN_E_BAD_LEN);
    /* 4 labels of 63: 4*64 + 1 = 257 octets > 255; 3 of 63 + one of 61 = 255 */
    for (int i = 0; i < 4; i++) {
        memset(big + i * 64, 'y', 63);
        big[i * 64 + 63] = '.';
    }
    big[4 * 64 - 1] = '\0';
    CHECK_EQ(tern_dns_name_from_text(big, &n), TERN_E_BAD_LEN);
    big[4 * 64 - 3] = '\0';
    REQUIRE_EQ(tern_dns_name_from_text(big, &n), 0);
    CHECK_EQ(n.len, 255);
    struct tern_dns_name suf = nm("z");
    CHECK_EQ(tern_dns_name_concat(&n, &suf), TERN_E_BAD_LEN);
    struct tern_dns_name www = nm("www");
    CHECK_EQ(tern_dns_name_concat(&www, &zone), 0);
    NAME_IS(&www, "www.EXAMPLE.test");
    CHECK_STR(tern_dns_type_name(TERN_DNS_T_AAAA), "AAAA");
    CHECK(tern_dns_type_name(999) == NULL);
}

TEST(dns_ttl_top_bit_reads_as_zero)
{
    /* RFC 2181 s8 */
    uint8_t m[sizeof r_aaaa_z];
    memcpy(m, r_aaaa_z, sizeof m);
    tern_put32(m + 40, 0x80000001u);
    struct parsed p;
    parse_msg(m, sizeof m, &p);
    REQUIRE_EQ(p.nrr, 1);
    CHECK_EQ(p.rr[0].ttl, 0);
    free(p.copy);
}
