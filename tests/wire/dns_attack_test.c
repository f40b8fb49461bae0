/* ATTACKS 40-45 against src/wire/dns.c and src/wire/dns_name.c: crafted
 * messages (compression pointers, labels, names, RDLENGTH, counts), each
 * parsed from an exact-size heap copy so ASan sees any read past the end.
 * The valid messages they start from are scapy's (tests/wire/dns_vectors.h,
 * tests/scripts/gen_dns_vectors.py). */
#include <stdlib.h>

#include "dns_util.h"
#include "dns_vectors.h"
#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/dns.h"

/* ---- ATTACKS 40-45: crafted messages ---- */

/* A header with the given counts at m[0..12). */
static void hdr(uint8_t *m, uint16_t qd, uint16_t an)
{
    memset(m, 0, TERN_DNS_HLEN);
    tern_put16(m, 0x4242);
    tern_put16(m + 4, qd);
    tern_put16(m + 6, an);
}

/* The first question's parse result (0 = ok), the message in an exact-size
 * heap copy. */
static int question_of(const uint8_t *m, size_t n)
{
    struct parsed p;
    parse_msg(m, n, &p);
    int r = p.err ? p.err : p.nq == 1 ? 0 : -100;
    free(p.copy);
    return r;
}

/* tern_dns_name_read on an exact-size heap copy. */
static int read_name_at(const uint8_t *m, size_t n, size_t off, struct tern_dns_name *out)
{
    uint8_t *c = malloc(n);
    memcpy(c, m, n);
    int r = tern_dns_name_read(c, n, off, n, out);
    free(c);
    return r;
}

TEST(attack_40_pointer_to_itself)
{
    uint8_t m[18];
    hdr(m, 1, 0);
    memcpy(m + 12, "\xc0\x0c\x00\x01\x00\x01", 6);
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_FIELD);
}

TEST(attack_40_forward_pointer)
{
    uint8_t m[21];
    hdr(m, 1, 0);
    /* the pointer at 12 names offset 18, after itself */
    memcpy(m + 12, "\xc0\x12\x00\x01\x00\x01\x01" "a\x00", 9);
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_FIELD);
    struct tern_dns_name n;
    /* the same name read at 18 is fine */
    CHECK_EQ(read_name_at(m, sizeof m, 18, &n), 21);
}

TEST(attack_40_pointer_loop)
{
    /* Each pointer points below its own position, yet they loop: 12 holds a
     * 20-octet label (13..32), 33 a pointer to 25 - inside that label - where
     * a 4-octet label leads to a pointer at 30 back to 12. Only "strictly
     * before the run being read" stops it. */
    uint8_t m[39];
    hdr(m, 1, 0);
    memset(m + 12, 'x', 21);
    m[12] = 20;
    m[25] = 4;
    m[30] = 0xc0;
    m[31] = 12;
    m[33] = 0xc0;
    m[34] = 25;
    memcpy(m + 35, "\x00\x01\x00\x01", 4);
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_FIELD);
    struct tern_dns_name n;
    CHECK_EQ(read_name_at(m, sizeof m, 30, &n), TERN_E_BAD_FIELD);
    CHECK_EQ(read_name_at(m, sizeof m, 25, &n), TERN_E_BAD_FIELD);
}

TEST(attack_40_too_many_pointers)
{
    /* "a" at 12, then pointers each naming the one before: every jump is
     * backward, but only TERN_DNS_MAX_HOPS of them are followed. */
    uint8_t m[12 + 3 + 2 * 100];
    hdr(m, 0, 0);
    memcpy(m + 12, "\x01" "a\x00", 3);
    size_t prev = 12;
    for (int i = 0; i < 100; i++) {
        size_t at = 15 + 2 * (size_t)i;
        m[at] = (uint8_t)(0xc0 | prev >> 8);
        m[at + 1] = (uint8_t)prev;
        prev = at;
    }
    struct tern_dns_name n;
    size_t at64 = 15 + 2 * (TERN_DNS_MAX_HOPS - 1); /* 64 hops from here */
    CHECK_EQ(read_name_at(m, sizeof m, at64, &n), (int)at64 + 2);
    NAME_IS(&n, "a");
    CHECK_EQ(read_name_at(m, sizeof m, at64 + 2, &n), TERN_E_BAD_FIELD);
    CHECK_EQ(read_name_at(m, sizeof m, sizeof m - 2, &n), TERN_E_BAD_FIELD);
}

TEST(attack_41_pointer_past_message)
{
    uint8_t m[18];
    hdr(m, 1, 0);
    memcpy(m + 12, "\xc0\xff\x00\x01\x00\x01", 6);
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_LEN);
    memcpy(m + 12, "\xff\xff", 2);
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_LEN);
    /* a pointer into the header names nothing */
    memcpy(m + 12, "\xc0\x02", 2);
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_FIELD);
    /* a pointer cut in half by the end of the message */
    uint8_t h[13];
    hdr(h, 1, 0);
    h[12] = 0xc0;
    CHECK_EQ(question_of(h, sizeof h), TERN_E_SHORT);
}

TEST(attack_42_label_over_63_and_reserved_types)
{
    uint8_t m[12 + 1 + 64 + 1 + 4];
    hdr(m, 1, 0);
    memset(m + 13, 'x', 64);
    m[77] = 0;
    memcpy(m + 78, "\x00\x01\x00\x01", 4);
    m[12] = 64; /* a 64-octet label is the 0x40 label type */
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_FIELD);
    m[12] = 0x80;
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_FIELD);
    m[12] = 0x7f;
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_FIELD);
    m[12] = 0xbf;
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_FIELD);
    /* 63 is fine: the label then ends at 76, the name at 77 = 0 */
    m[12] = 63;
    m[76] = 0;
    CHECK_EQ(question_of(m, sizeof m), 0);
}

TEST(attack_42_name_over_255_octets)
{
    /* plain: 4 labels of 63 = 257 octets with the root */
    uint8_t m[12 + 4 * 64 + 1 + 4];
    hdr(m, 1, 0);
    for (int i = 0; i < 4; i++) {
        m[12 + i * 64] = 63;
        memset(m + 13 + i * 64, 'a' + i, 63);
    }
    m[12 + 256] = 0;
    memcpy(m + 12 + 257, "\x00\x01\x00\x01", 4);
    CHECK_EQ(question_of(m, sizeof m), TERN_E_BAD_LEN);
    /* exactly 255: 3 labels of 63 and one of 61 */
    uint8_t ok[12 + 255 + 4];
    hdr(ok, 1, 0);
    memcpy(ok + 12, m + 12, 3 * 64);
    ok[12 + 192] = 61;
    memset(ok + 13 + 192, 'd', 61);
    ok[12 + 254] = 0;
    memcpy(ok + 12 + 255, "\x00\x01\x00\x01", 4);
    struct parsed p;
    parse_msg(ok, sizeof ok, &p);
    CHECK_EQ(p.err, 0);
    REQUIRE_EQ(p.nq, 1);
    CHECK_EQ(p.q[0].name.len, 255);
    free(p.copy);
    /* compressed: 3 labels of 63 at 12 (193 octets), then a name of 2
     * labels of 63 pointing at it expands to 321 octets */
    uint8_t c[12 + 193 + 128 + 2];
    hdr(c, 0, 0);
    memcpy(c + 12, m + 12, 192);
    c[12 + 192] = 0;
    memcpy(c + 205, m + 12, 128);
    c[333] = 0xc0;
    c[334] = 12;
    struct tern_dns_name n;
    CHECK_EQ(read_name_at(c, sizeof c, 12, &n), 205);
    CHECK_EQ(read_name_at(c, sizeof c, 205, &n), TERN_E_BAD_LEN);
}

TEST(attack_43_no_terminating_zero)
{
    uint8_t m[16];
    hdr(m, 1, 0);
    memcpy(m + 12, "\x03www", 4); /* the message ends after the label */
    CHECK_EQ(question_of(m, sizeof m), TERN_E_SHORT);
    m[12] = 5; /* a label longer than what is left */
    CHECK_EQ(question_of(m, sizeof m), TERN_E_SHORT);
    /* a name, then not enough octets for QTYPE/QCLASS */
    uint8_t q[sizeof q_www_a - 1];
    memcpy(q, q_www_a, sizeof q);
    CHECK_EQ(question_of(q, sizeof q), TERN_E_SHORT);
    /* every prefix of a valid response fails cleanly, never past its end */
    for (size_t n = 0; n < sizeof r_cname_chain_z; n++) {
        struct parsed p;
        parse_msg(r_cname_chain_z, n, &p);
        CHECK(p.err < 0 || p.short_count);
        free(p.copy);
    }
}

static int rr_err(const uint8_t *m, size_t n, int *nrr)
{
    struct parsed p;
    parse_msg(m, n, &p);
    *nrr = p.nrr;
    free(p.copy);
    return p.err;
}

TEST(attack_44_rdlength_past_end)
{
    uint8_t m[sizeof r_aaaa_z];
    int nrr;
    memcpy(m, r_aaaa_z, sizeof m);
    tern_put16(m + 44, 17);
    CHECK_EQ(rr_err(m, sizeof m, &nrr), TERN_E_BAD_LEN);
    CHECK_EQ(nrr, 0);
    tern_put16(m + 44, 0xffff);
    CHECK_EQ(rr_err(m, sizeof m, &nrr), TERN_E_BAD_LEN);
    /* AAAA with RDLENGTH 4 */
    tern_put16(m + 44, 4);
    CHECK_EQ(rr_err(m, sizeof m, &nrr), TERN_E_BAD_LEN);
    /* the fixed part (type..rdlength) cut short */
    CHECK_EQ(rr_err(r_aaaa_z, 40, &nrr), TERN_E_SHORT);
}

TEST(attack_44_a_rdlength_not_4)
{
    /* root owner name, type A, class IN, ttl 60, then RDLENGTH 5 / 3 */
    uint8_t m[12 + 11 + 5];
    hdr(m, 0, 1);
    memcpy(m + 12, "\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x05\x0a\x00\x00\x05\xff", 16);
    int nrr;
    CHECK_EQ(rr_err(m, sizeof m, &nrr), TERN_E_BAD_LEN);
    m[22] = 3;
    CHECK_EQ(rr_err(m, sizeof m - 2, &nrr), TERN_E_BAD_LEN);
    m[22] = 4;
    CHECK_EQ(rr_err(m, sizeof m - 1, &nrr), 0);
    CHECK_EQ(nrr, 1);
}

TEST(attack_44_names_past_rdlength)
{
    uint8_t m[sizeof r_cname_chain_z];
    int nrr;
    memcpy(m, r_cname_chain_z, sizeof m);
    /* the CNAME's RDATA is "\3web" + pointer: 6 octets. With RDLENGTH 4
     * the name runs past it. */
    CHECK_EQ(tern_get16(m + 44), 6);
    tern_put16(m + 44, 4);
    CHECK_EQ(rr_err(m, sizeof m, &nrr), TERN_E_BAD_LEN);
    CHECK_EQ(nrr, 0);
    /* A name that ends before RDATA does (junk after it) is no better. */
    memcpy(m, r_aaaa_z, sizeof r_aaaa_z);
    tern_put16(m + 36, TERN_DNS_T_CNAME); /* 16 octets: "\x20\x01..." */
    CHECK_EQ(rr_err(m, sizeof r_aaaa_z, &nrr), TERN_E_BAD_LEN);
    /* SOA one octet short of its five numbers */
    memcpy(m, r_nxdomain_z, sizeof r_nxdomain_z);
    CHECK_EQ(tern_get16(m + 45), 39);
    tern_put16(m + 45, 38);
    CHECK_EQ(rr_err(m, sizeof r_nxdomain_z - 1, &nrr), TERN_E_BAD_LEN);
    tern_put16(m + 45, 40);
    m[sizeof r_nxdomain_z] = 0; /* (the copy below is one longer) */
    uint8_t longer[sizeof r_nxdomain_z + 1];
    memcpy(longer, m, sizeof r_nxdomain_z);
    longer[sizeof r_nxdomain_z] = 0;
    CHECK_EQ(rr_err(longer, sizeof longer, &nrr), TERN_E_BAD_LEN);
}

TEST(attack_45_counts_larger_than_records)
{
    uint8_t m[sizeof r_cname_chain_z];
    memcpy(m, r_cname_chain_z, sizeof m);
    tern_put16(m + 10, 5); /* ARCOUNT 5, one present */
    struct parsed p;
    parse_msg(m, sizeof m, &p);
    CHECK_EQ(p.err, 0);
    CHECK_EQ(p.nrr, 4);
    CHECK(p.short_count);
    free(p.copy);
    tern_put16(m + 10, 1);
    tern_put16(m + 6, 0xffff); /* ANCOUNT 65535: the 4 records present are read as answers */
    parse_msg(m, sizeof m, &p);
    CHECK_EQ(p.err, 0);
    CHECK_EQ(p.nrr, 4);
    CHECK(p.sec[3] == TERN_DNS_SEC_ANSWER);
    CHECK(p.short_count);
    free(p.copy);
    /* QDCOUNT 3 with one question: the question, then the end */
    uint8_t q[sizeof q_www_a];
    memcpy(q, q_www_a, sizeof q);
    tern_put16(q + 4, 3);
    parse_msg(q, sizeof q, &p);
    CHECK_EQ(p.err, 0);
    CHECK_EQ(p.nq, 1);
    CHECK(p.short_count);
    free(p.copy);
    /* a message cut inside its second record: the first is kept, then an error */
    parse_msg(r_cname_chain_z, 60, &p);
    CHECK_EQ(p.nrr, 1);
    CHECK(p.err < 0);
    free(p.copy);
}
