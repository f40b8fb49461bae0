/* Tests for src/wire/icmp.c: scapy known answers both ways (echo, port
 * unreachable, time exceeded, frag needed, parameter problem, redirect),
 * quoted-datagram parsing, ATTACKS 16-17, round trip. */
#include <stdlib.h>

#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/icmp.h"

/* scapy: raw(ICMP(type=8, code=0, id=0x1234, seq=1)/b"hello, tern!") */
static const uint8_t icmp_echo[20] = {
    0x08, 0x00, 0xad, 0xc4, 0x12, 0x34, 0x00, 0x01, 0x68, 0x65, 0x6c, 0x6c,
    0x6f, 0x2c, 0x20, 0x74, 0x65, 0x72, 0x6e, 0x21,
};

/* scapy: raw(ICMP(type=0, code=0, id=0x1234, seq=1)/b"hello, tern!") */
static const uint8_t icmp_echo_reply[20] = {
    0x00, 0x00, 0xb5, 0xc4, 0x12, 0x34, 0x00, 0x01, 0x68, 0x65, 0x6c, 0x6c,
    0x6f, 0x2c, 0x20, 0x74, 0x65, 0x72, 0x6e, 0x21,
};

/* scapy: raw(ICMP(type=3, code=3)/raw(IP(src="10.0.0.1", dst="10.0.0.2", id=0x5555, ttl=64)/UDP(sport=40000, dport=53)/b"queryqueryquery")[:28]) */
static const uint8_t icmp_port_unreach[36] = {
    0x03, 0x03, 0x99, 0x48, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x2b,
    0x55, 0x55, 0x00, 0x00, 0x40, 0x11, 0x11, 0x6b, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x17, 0xc7, 0x27,
};

/* scapy: raw(ICMP(type=11, code=0)/raw(IP(src="10.0.0.1", dst="93.184.216.34", id=0x0102, ttl=1, flags="DF")/TCP(sport=51000, dport=80, seq=0xdeadbeef, flags="S"))[:28]) */
static const uint8_t icmp_time_exceeded[36] = {
    0x0b, 0x00, 0x8f, 0xd9, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x28,
    0x01, 0x02, 0x40, 0x00, 0x01, 0x06, 0x38, 0xf3, 0x0a, 0x00, 0x00, 0x01,
    0x5d, 0xb8, 0xd8, 0x22, 0xc7, 0x38, 0x00, 0x50, 0xde, 0xad, 0xbe, 0xef,
};

/* scapy: raw(ICMP(type=3, code=4, nexthopmtu=1400)/raw(IP(src="10.0.0.1", dst="10.0.0.2", id=0x7777, flags="DF", ttl=64)/TCP(sport=443, dport=55555, seq=1000, ack=2000, flags="A")/(b"x"*1460))[:48]) */
static const uint8_t icmp_frag_needed[56] = {
    0x03, 0x04, 0xb6, 0xfa, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x05, 0xdc,
    0x77, 0x77, 0x40, 0x00, 0x40, 0x06, 0xa9, 0xa2, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02, 0x01, 0xbb, 0xd9, 0x03, 0x00, 0x00, 0x03, 0xe8,
    0x00, 0x00, 0x07, 0xd0, 0x50, 0x10, 0x20, 0x00, 0x08, 0x20, 0x00, 0x00,
    0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
};

/* scapy: raw(ICMP(type=12, code=0, ptr=20)/raw(IP(src="10.0.0.1", dst="10.0.0.2", id=9, options=[IPOption_Router_Alert()])/UDP(sport=1, dport=2))[:32]) */
static const uint8_t icmp_paramprob[40] = {
    0x0c, 0x00, 0xf4, 0x1b, 0x14, 0x00, 0x00, 0x00, 0x46, 0x00, 0x00, 0x20,
    0x00, 0x09, 0x00, 0x00, 0x40, 0x11, 0xd1, 0xbd, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02, 0x94, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02,
    0x00, 0x08, 0xeb, 0xd8,
};

/* scapy: raw(ICMP(type=5, code=1, gw="10.0.0.254")/raw(IP(src="10.0.0.1", dst="10.0.5.5", id=3)/ICMP(type=8, id=0xabcd, seq=7))[:28]) */
static const uint8_t icmp_redirect[36] = {
    0x05, 0x01, 0xf0, 0x00, 0x0a, 0x00, 0x00, 0xfe, 0x45, 0x00, 0x00, 0x1c,
    0x00, 0x03, 0x00, 0x00, 0x40, 0x01, 0x61, 0xd9, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x05, 0x05, 0x08, 0x00, 0x4c, 0x2b, 0xab, 0xcd, 0x00, 0x07,
};

/* scapy: raw(ICMP(type=11, code=0)/raw(IP(src="10.0.0.1", dst="10.0.0.9", id=4, ttl=1)/ICMP(type=8, id=0x4321, seq=9)/b"pingpingping")) */
static const uint8_t icmp_time_exceeded_echo[48] = {
    0x0b, 0x00, 0xf4, 0xff, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x28,
    0x00, 0x04, 0x00, 0x00, 0x01, 0x01, 0xa5, 0xc8, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x09, 0x08, 0x00, 0x18, 0x63, 0x43, 0x21, 0x00, 0x09,
    0x70, 0x69, 0x6e, 0x67, 0x70, 0x69, 0x6e, 0x67, 0x70, 0x69, 0x6e, 0x67,
};

struct kat {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    struct tern_icmp_repr r; /* expected; data = bytes + 8, data_len = len - 8 */
};

static const struct kat kats[] = {
    {"echo", icmp_echo, sizeof icmp_echo,
     {.type = TERN_ICMP_ECHO, .csum = 0xadc4, .rest = 0x12340001, .id = 0x1234, .seq = 1}},
    {"echo_reply", icmp_echo_reply, sizeof icmp_echo_reply,
     {.type = TERN_ICMP_ECHOREPLY, .csum = 0xb5c4, .rest = 0x12340001, .id = 0x1234, .seq = 1}},
    {"port_unreach", icmp_port_unreach, sizeof icmp_port_unreach,
     {.type = TERN_ICMP_UNREACH, .code = TERN_ICMP_UNREACH_PORT, .csum = 0x9948}},
    {"time_exceeded", icmp_time_exceeded, sizeof icmp_time_exceeded,
     {.type = TERN_ICMP_TIMXCEED, .code = TERN_ICMP_TIMXCEED_TTL, .csum = 0x8fd9}},
    {"frag_needed", icmp_frag_needed, sizeof icmp_frag_needed,
     {.type = TERN_ICMP_UNREACH, .code = TERN_ICMP_UNREACH_NEEDFRAG, .csum = 0xb6fa,
      .rest = 1400, .next_mtu = 1400}},
    {"paramprob", icmp_paramprob, sizeof icmp_paramprob,
     {.type = TERN_ICMP_PARAMPROB, .csum = 0xf41b, .rest = 0x14000000, .pointer = 20}},
    {"redirect", icmp_redirect, sizeof icmp_redirect,
     {.type = TERN_ICMP_REDIRECT, .code = 1, .csum = 0xf000, .rest = 0x0a0000fe,
      .gateway = 0x0a0000fe}},
    {"time_exceeded_echo", icmp_time_exceeded_echo, sizeof icmp_time_exceeded_echo,
     {.type = TERN_ICMP_TIMXCEED, .csum = 0xf4ff}},
};

static void check_repr(const char *name, const struct tern_icmp_repr *a,
                       const struct tern_icmp_repr *b)
{
    int before = test_failed_now();
    CHECK_EQ(a->type, b->type);
    CHECK_EQ(a->code, b->code);
    CHECK_EQ(a->csum, b->csum);
    CHECK_EQ(a->rest, b->rest);
    CHECK_EQ(a->id, b->id);
    CHECK_EQ(a->seq, b->seq);
    CHECK_EQ(a->next_mtu, b->next_mtu);
    CHECK_EQ(a->pointer, b->pointer);
    CHECK_EQ(a->gateway, b->gateway);
    CHECK_EQ(a->data_len, b->data_len);
    if (a->data_len == b->data_len && a->data_len)
        CHECK_MEM(a->data, b->data, a->data_len);
    if (test_failed_now() != before)
        test_fail(__FILE__, __LINE__, "... in case %s", name);
}

TEST(icmp_parse_known_answers)
{
    for (size_t i = 0; i < sizeof kats / sizeof kats[0]; i++) {
        struct tern_icmp_repr want = kats[i].r, got;
        want.data = kats[i].bytes + 8;
        want.data_len = kats[i].len - 8;
        REQUIRE_EQ(tern_icmp_parse(kats[i].bytes, kats[i].len, 0, &got), TERN_ICMP_HLEN);
        check_repr(kats[i].name, &got, &want);
        CHECK(got.data == kats[i].bytes + 8);
    }
    struct tern_icmp_repr r;
    REQUIRE_EQ(tern_icmp_parse(icmp_echo, sizeof icmp_echo, 0, &r), 8);
    CHECK_MEM(r.data, "hello, tern!", 12);
}

TEST(icmp_emit_known_answers)
{
    for (size_t i = 0; i < sizeof kats / sizeof kats[0]; i++) {
        struct tern_icmp_repr r = kats[i].r;
        r.data = kats[i].bytes + 8;
        r.data_len = kats[i].len - 8;
        r.csum = 0x1111; /* ignored */
        /* Only `rest` of types without their own field reaches the wire. */
        if (r.type == TERN_ICMP_ECHO || r.type == TERN_ICMP_REDIRECT ||
            r.type == TERN_ICMP_PARAMPROB || r.code == TERN_ICMP_UNREACH_NEEDFRAG)
            r.rest = 0xdeadbeef;
        uint8_t buf[128];
        int rc = tern_icmp_emit(&r, buf, sizeof buf);
        if (rc != (int)kats[i].len) {
            test_fail(__FILE__, __LINE__, "%s: emit returned %d", kats[i].name, rc);
            continue;
        }
        CHECK_MEM(buf, kats[i].bytes, kats[i].len);
        for (size_t cap = 0; cap < kats[i].len; cap++)
            CHECK_EQ(tern_icmp_emit(&r, buf, cap), TERN_E_NOSPC);
    }
}

TEST(icmp_emit_data_in_place)
{
    /* An echo reply built in the buffer that holds the request's data. */
    uint8_t buf[sizeof icmp_echo];
    memcpy(buf, icmp_echo, sizeof buf);
    struct tern_icmp_repr r;
    REQUIRE_EQ(tern_icmp_parse(buf, sizeof buf, 0, &r), 8);
    r.type = TERN_ICMP_ECHOREPLY;
    REQUIRE_EQ(tern_icmp_emit(&r, buf, sizeof buf), (int)sizeof icmp_echo_reply);
    CHECK_MEM(buf, icmp_echo_reply, sizeof icmp_echo_reply);
    /* Data overlapping the header area (moved forward by 4). */
    uint8_t b2[40];
    memcpy(b2 + 4, "hello, tern!", 12);
    struct tern_icmp_repr e = {.type = TERN_ICMP_ECHO, .id = 0x1234, .seq = 1,
                               .data = b2 + 4, .data_len = 12};
    REQUIRE_EQ(tern_icmp_emit(&e, b2, sizeof b2), 20);
    CHECK_MEM(b2, icmp_echo, 20);
}

TEST(icmp_emit_invalid)
{
    uint8_t buf[16];
    struct tern_icmp_repr r = {.type = TERN_ICMP_ECHO, .data = NULL, .data_len = 4};
    CHECK_EQ(tern_icmp_emit(&r, buf, sizeof buf), TERN_E_INVAL);
    r.data = buf;
    r.data_len = 65535 - 7;
    CHECK_EQ(tern_icmp_emit(&r, buf, sizeof buf), TERN_E_INVAL);
    r.data_len = 0;
    r.data = NULL;
    CHECK_EQ(tern_icmp_emit(&r, buf, sizeof buf), 8);
    CHECK_EQ(tern_csum(buf, 8), 0);
}

TEST(icmp_checksum_odd_length)
{
    /* Checksum over an odd-length message (RFC 1071 s4.1 pad byte). */
    uint8_t buf[64];
    struct tern_icmp_repr r = {.type = TERN_ICMP_ECHO, .id = 7, .seq = 9,
                               .data = (const uint8_t *)"abc", .data_len = 3};
    REQUIRE_EQ(tern_icmp_emit(&r, buf, sizeof buf), 11);
    struct tern_icmp_repr p;
    CHECK_EQ(tern_icmp_parse(buf, 11, 0, &p), 8);
    CHECK_EQ(p.data_len, 3);
}

TEST(attack_16_icmp_shorter_than_header)
{
    for (size_t len = 0; len < TERN_ICMP_HLEN; len++) {
        uint8_t *p = malloc(len ? len : 1);
        REQUIRE(p != NULL);
        memcpy(p, icmp_echo, len);
        struct tern_icmp_repr r;
        memset(&r, 0x3c, sizeof r);
        struct tern_icmp_repr before = r;
        CHECK_EQ(tern_icmp_parse(p, len, 0, &r), TERN_E_SHORT);
        CHECK_EQ(tern_icmp_parse(p, len, TERN_WIRE_NO_CSUM, &r), TERN_E_SHORT);
        CHECK_MEM(&r, &before, sizeof r);
        free(p);
    }
}

TEST(attack_16_icmp_truncated_echo_bad_checksum)
{
    /* An echo request cut short: its checksum no longer verifies, and the
     * reply can only ever use the bytes present (data_len = len - 8). */
    struct tern_icmp_repr r;
    for (size_t len = 8; len < sizeof icmp_echo; len++) {
        uint8_t *p = malloc(len);
        REQUIRE(p != NULL);
        memcpy(p, icmp_echo, len);
        CHECK_EQ(tern_icmp_parse(p, len, 0, &r), TERN_E_BAD_CSUM);
        REQUIRE_EQ(tern_icmp_parse(p, len, TERN_WIRE_NO_CSUM, &r), 8);
        CHECK_EQ(r.data_len, len - 8);
        free(p);
    }
    uint8_t q[sizeof icmp_echo];
    for (size_t i = 0; i < sizeof q; i++) {
        memcpy(q, icmp_echo, sizeof q);
        q[i] ^= 0x40;
        CHECK_EQ(tern_icmp_parse(q, sizeof q, 0, &r), TERN_E_BAD_CSUM);
    }
}

TEST(icmp_quote_udp_port_unreachable)
{
    struct tern_icmp_repr r;
    REQUIRE_EQ(tern_icmp_parse(icmp_port_unreach, sizeof icmp_port_unreach, 0, &r), 8);
    struct tern_icmp_quote q;
    REQUIRE_EQ(tern_icmp_parse_quote(r.data, r.data_len, &q), TERN_OK);
    CHECK_EQ(q.ip.hdr_len, 20);
    CHECK_EQ(q.ip.total_len, 43);   /* more than is quoted */
    CHECK_EQ(q.ip.payload_len, 8);  /* what is quoted */
    CHECK_EQ(q.ip.proto, TERN_IPPROTO_UDP);
    CHECK_EQ(q.ip.id, 0x5555);
    CHECK_EQ(q.ip.src, 0x0a000001);
    CHECK_EQ(q.ip.dst, 0x0a000002);
    CHECK_EQ(q.sport, 40000);
    CHECK_EQ(q.dport, 53);
    CHECK_EQ(q.tcp_seq, 0);
    CHECK(q.l4 == icmp_port_unreach + 28);
    CHECK_EQ(q.l4_len, 8);
}

TEST(icmp_quote_tcp_time_exceeded)
{
    struct tern_icmp_repr r;
    REQUIRE_EQ(tern_icmp_parse(icmp_time_exceeded, sizeof icmp_time_exceeded, 0, &r), 8);
    struct tern_icmp_quote q;
    REQUIRE_EQ(tern_icmp_parse_quote(r.data, r.data_len, &q), TERN_OK);
    CHECK_EQ(q.ip.proto, TERN_IPPROTO_TCP);
    CHECK_EQ(q.ip.ttl, 1);
    CHECK(q.ip.df);
    CHECK_EQ(q.ip.dst, 0x5db8d822);
    CHECK_EQ(q.sport, 51000);
    CHECK_EQ(q.dport, 80);
    CHECK_EQ(q.tcp_seq, 0xdeadbeef);
    CHECK_EQ(q.l4_len, 8);
}

TEST(icmp_quote_frag_needed_mtu)
{
    struct tern_icmp_repr r;
    REQUIRE_EQ(tern_icmp_parse(icmp_frag_needed, sizeof icmp_frag_needed, 0, &r), 8);
    CHECK_EQ(r.next_mtu, 1400);
    struct tern_icmp_quote q;
    REQUIRE_EQ(tern_icmp_parse_quote(r.data, r.data_len, &q), TERN_OK);
    CHECK_EQ(q.ip.total_len, 1500);
    CHECK_EQ(q.ip.payload_len, 28);
    CHECK_EQ(q.l4_len, 28);
    CHECK_EQ(q.sport, 443);
    CHECK_EQ(q.dport, 55555);
    CHECK_EQ(q.tcp_seq, 1000);
}

TEST(icmp_quote_inner_options)
{
    struct tern_icmp_repr r;
    REQUIRE_EQ(tern_icmp_parse(icmp_paramprob, sizeof icmp_paramprob, 0, &r), 8);
    CHECK_EQ(r.pointer, 20);
    struct tern_icmp_quote q;
    REQUIRE_EQ(tern_icmp_parse_quote(r.data, r.data_len, &q), TERN_OK);
    CHECK_EQ(q.ip.hdr_len, 24);
    CHECK_EQ(q.ip.opts_len, 4);
    CHECK_EQ(q.ip.opts[0], TERN_IPOPT_RA);
    CHECK_EQ(q.sport, 1);
    CHECK_EQ(q.dport, 2);
    CHECK_EQ(q.l4_len, 8);
}

TEST(icmp_quote_echo_ids)
{
    struct tern_icmp_repr r;
    struct tern_icmp_quote q;
    REQUIRE_EQ(tern_icmp_parse(icmp_redirect, sizeof icmp_redirect, 0, &r), 8);
    CHECK_EQ(r.gateway, 0x0a0000fe);
    REQUIRE_EQ(tern_icmp_parse_quote(r.data, r.data_len, &q), TERN_OK);
    CHECK_EQ(q.ip.proto, TERN_IPPROTO_ICMP);
    CHECK_EQ(q.sport, 0xabcd);
    CHECK_EQ(q.dport, 7);
    /* The whole datagram quoted: l4_len covers all of it. */
    REQUIRE_EQ(tern_icmp_parse(icmp_time_exceeded_echo, sizeof icmp_time_exceeded_echo, 0, &r), 8);
    REQUIRE_EQ(tern_icmp_parse_quote(r.data, r.data_len, &q), TERN_OK);
    CHECK_EQ(q.sport, 0x4321);
    CHECK_EQ(q.dport, 9);
    CHECK_EQ(q.ip.total_len, 40);
    CHECK_EQ(q.l4_len, 20);
}

TEST(icmp_quote_trailing_bytes_not_counted)
{
    /* Bytes quoted beyond the inner total length are not the datagram's. */
    uint8_t d[40];
    memcpy(d, icmp_time_exceeded_echo + 8, 40);
    uint8_t padded[48] = {0};
    memcpy(padded, d, 40);
    struct tern_icmp_quote q;
    REQUIRE_EQ(tern_icmp_parse_quote(padded, sizeof padded, &q), TERN_OK);
    CHECK_EQ(q.l4_len, 20);
}

TEST(icmp_quote_non_first_fragment_has_no_ports)
{
    uint8_t d[28];
    memcpy(d, icmp_port_unreach + 8, 28);
    tern_put16(d + 6, 185); /* offset 1480: the quoted bytes are data */
    struct tern_icmp_quote q;
    REQUIRE_EQ(tern_icmp_parse_quote(d, sizeof d, &q), TERN_OK);
    CHECK_EQ(q.ip.frag_off, 1480);
    CHECK_EQ(q.sport, 0);
    CHECK_EQ(q.dport, 0);
    CHECK_EQ(q.l4_len, 8);
}

TEST(attack_17_icmp_quote_truncated_inner_header)
{
    struct tern_icmp_quote q;
    const uint8_t *d = icmp_time_exceeded + 8; /* 28 quoted bytes */
    /* Every cut of the inner header and of the 8 transport bytes. */
    for (size_t len = 0; len < 28; len++) {
        uint8_t *p = malloc(len ? len : 1);
        REQUIRE(p != NULL);
        memcpy(p, d, len);
        memset(&q, 0x77, sizeof q);
        struct tern_icmp_quote before = q;
        CHECK_EQ(tern_icmp_parse_quote(p, len, &q), TERN_E_SHORT);
        CHECK_MEM(&q, &before, sizeof q);
        free(p);
    }
    /* Inner header with options (IHL 6): 24 + 8 bytes needed. */
    const uint8_t *po = icmp_paramprob + 8;
    for (size_t len = 0; len < 32; len++) {
        uint8_t *p = malloc(len ? len : 1);
        REQUIRE(p != NULL);
        memcpy(p, po, len);
        CHECK_EQ(tern_icmp_parse_quote(p, len, &q), TERN_E_SHORT);
        free(p);
    }
    /* IHL claims 60 bytes but only 28 are quoted. */
    uint8_t big[28];
    memcpy(big, d, 28);
    big[0] = 0x4f;
    CHECK_EQ(tern_icmp_parse_quote(big, sizeof big, &q), TERN_E_SHORT);
    /* Inner total length leaves fewer than 8 transport bytes. */
    uint8_t tiny[28];
    memcpy(tiny, d, 28);
    tern_put16(tiny + 2, 24);
    CHECK_EQ(tern_icmp_parse_quote(tiny, sizeof tiny, &q), TERN_E_SHORT);
}

TEST(icmp_quote_bad_inner_header)
{
    struct tern_icmp_quote q;
    uint8_t d[28];
    memcpy(d, icmp_time_exceeded + 8, 28);
    d[0] = 0x65; /* version 6 */
    CHECK_EQ(tern_icmp_parse_quote(d, sizeof d, &q), TERN_E_BAD_VERSION);
    d[0] = 0x44; /* IHL 4 */
    CHECK_EQ(tern_icmp_parse_quote(d, sizeof d, &q), TERN_E_BAD_LEN);
    /* Inner option with length 0 (ATTACKS 8: never trusted inside errors either). */
    uint8_t o[32];
    memcpy(o, icmp_paramprob + 8, 32);
    o[21] = 0;
    CHECK_EQ(tern_icmp_parse_quote(o, sizeof o, &q), TERN_E_BAD_OPT);
    /* The inner checksum is not verified. */
    memcpy(d, icmp_time_exceeded + 8, 28);
    d[10] ^= 0xff;
    CHECK_EQ(tern_icmp_parse_quote(d, sizeof d, &q), TERN_OK);
}

TEST(icmp_is_error)
{
    CHECK(tern_icmp_is_error(TERN_ICMP_UNREACH));
    CHECK(tern_icmp_is_error(TERN_ICMP_SOURCEQUENCH));
    CHECK(tern_icmp_is_error(TERN_ICMP_REDIRECT));
    CHECK(tern_icmp_is_error(TERN_ICMP_TIMXCEED));
    CHECK(tern_icmp_is_error(TERN_ICMP_PARAMPROB));
    int n = 0;
    for (int t = 0; t < 256; t++)
        n += tern_icmp_is_error((uint8_t)t);
    CHECK_EQ(n, 5);
    CHECK(!tern_icmp_is_error(TERN_ICMP_ECHO));
    CHECK(!tern_icmp_is_error(TERN_ICMP_ECHOREPLY));
    CHECK(!tern_icmp_is_error(TERN_ICMP_TSTAMP));
    CHECK(!tern_icmp_is_error(TERN_ICMP_MASKREQ));
}

TEST(icmp_round_trip_random)
{
    static uint8_t data[2048], buf[2048 + 8];
    const uint8_t types[] = {0, 3, 4, 5, 8, 11, 12, 13, 14, 17, 18, 42};
    for (int trial = 0; trial < 3000; trial++) {
        for (size_t i = 0; i < 64; i++)
            data[test_rand() % sizeof data] = (uint8_t)test_rand();
        struct tern_icmp_repr r = {0}, p;
        r.type = types[test_rand() % sizeof types];
        r.code = (uint8_t)(test_rand() % 6);
        uint32_t w = (uint32_t)test_rand();
        /* Fill only the field emit uses for this type; parse must give it back. */
        if (r.type == 0 || r.type == 8) {
            r.id = (uint16_t)(w >> 16);
            r.seq = (uint16_t)w;
            r.rest = w;
        } else if (r.type == 3 && r.code == 4) {
            r.next_mtu = (uint16_t)w;
            r.rest = (uint16_t)w;
        } else if (r.type == 12) {
            r.pointer = (uint8_t)w;
            r.rest = (uint32_t)r.pointer << 24;
        } else if (r.type == 5) {
            r.gateway = w;
            r.rest = w;
        } else {
            r.rest = w;
        }
        r.data = data;
        r.data_len = test_rand() % sizeof data;
        int n = tern_icmp_emit(&r, buf, sizeof buf);
        REQUIRE_EQ(n, 8 + (int)r.data_len);
        REQUIRE_EQ(tern_icmp_parse(buf, (size_t)n, 0, &p), 8);
        r.csum = tern_get16(buf + 2);
        r.data = buf + 8;
        check_repr("random", &p, &r);
        if (test_failed_now())
            return;
    }
}

TEST(icmp_emit_copy_fused_with_sum_matches_in_place)
{
    /* Data apart from the buffer is copied in the pass that sums it; data
     * already in place is summed after. Same bytes, every length and source
     * alignment, and the message verifies. */
    static uint8_t src[400], a[420], b[420];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 29 + 5);
    for (size_t len = 0; len <= 300; len++) {
        for (size_t off = 0; off < 8; off++) {
            struct tern_icmp_repr e = {.type = TERN_ICMP_ECHO, .id = 0x4242, .seq = (uint16_t)len,
                                       .data = src + off, .data_len = len};
            REQUIRE_EQ(tern_icmp_emit(&e, a, sizeof a), (int)(8 + len));
            memcpy(b + 8, src + off, len);
            e.data = b + 8;
            REQUIRE_EQ(tern_icmp_emit(&e, b, sizeof b), (int)(8 + len));
            CHECK_MEM(a, b, 8 + len);
            CHECK_EQ(tern_csum(a, 8 + len), 0);
        }
    }
}
