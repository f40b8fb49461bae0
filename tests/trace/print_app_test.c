/*
 * Tests for the application dissectors (src/trace/print_dns.c, print_app.c)
 * and the IPv6 printer. Byte-identity with tcpdump is checked by
 * tests/scripts/tcpdump_compare.sh against the real tcpdump; these tests
 * check what follows from the formats themselves (RFC 1035 s4.1 fields in
 * tcpdump's documented query/response notation), that hostile messages end
 * (compression loops), and that no input is read past caplen (run under
 * ASan: every frame is copied into a buffer of exactly caplen bytes).
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "harness.h"
#include "tern/print.h"
#include "trace/print_ctx.h"

static const uint8_t eth_ip4[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};

/* Ethernet + IPv4 (10.0.0.1 > 10.0.0.2) + UDP or TCP + payload into f. */
static size_t build(uint8_t *f, uint8_t proto, uint16_t sport, uint16_t dport,
                    const uint8_t *pl, size_t n)
{
    size_t th = proto == 6 ? 20 : 8, ip_len = 20 + th + n;
    memcpy(f, eth_ip4, 14);
    uint8_t *ip = f + 14, *t = ip + 20;
    memset(ip, 0, 20 + th);
    ip[0] = 0x45, ip[2] = (uint8_t)(ip_len >> 8), ip[3] = (uint8_t)ip_len, ip[8] = 64, ip[9] = proto;
    ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
    t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport, t[2] = (uint8_t)(dport >> 8),
    t[3] = (uint8_t)dport;
    if (proto == 6) {
        t[7] = 1, t[12] = 0x50, t[13] = 0x18, t[14] = 0x20; /* seq 1, PSH|ACK, win 8192 */
    } else {
        t[4] = (uint8_t)((8 + n) >> 8), t[5] = (uint8_t)(8 + n);
    }
    memcpy(t + th, pl, n);
    return 14 + ip_len;
}

static const char *print1(const uint8_t *f, size_t len, char *line, size_t cap)
{
    static struct tern_printer p;
    tern_printer_init(&p, NULL);
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f, len, len, line, cap);
    return line;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* RFC 1035 s4.1: id 0x1234, RD, one question example.com A IN. */
static const uint8_t dns_query[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
                                    0, 1, 0, 1};

TEST(print_dns_query_line)
{
    uint8_t f[200];
    char line[512];
    size_t n = build(f, 17, 33333, 53, dns_query, sizeof dns_query);
    /* id in decimal, '+' for RD, "TYPE? NAME." and the message length */
    CHECK_STR(print1(f, n, line, sizeof line),
              "IP 10.0.0.1.33333 > 10.0.0.2.53: 4660+ A? example.com. (29)");
    /* over TCP (RFC 1035 s4.2.2) the 2-octet length comes first */
    uint8_t tcp_pl[2 + sizeof dns_query] = {0, sizeof dns_query};
    memcpy(tcp_pl + 2, dns_query, sizeof dns_query);
    n = build(f, 6, 40000, 53, tcp_pl, sizeof tcp_pl);
    CHECK(ends_with(print1(f, n, line, sizeof line), ", length 31 4660+ A? example.com. (29)"));
    /* a wrong length prefix is reported, not dissected */
    tcp_pl[1] = 5;
    n = build(f, 6, 40000, 53, tcp_pl, sizeof tcp_pl);
    CHECK(ends_with(print1(f, n, line, sizeof line), "[prefix length(5) != length(29)] (invalid)"));
}

TEST(print_dns_answer_line)
{
    /* response, RD RA, one question, answers A 192.0.2.1 and CNAME (a
     * pointer back to the question name at offset 12) */
    static const uint8_t m[] = {0x00, 0x07, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
                                1, 'a', 0, 0, 1, 0, 1,
                                0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
                                0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12};
    uint8_t f[200];
    char line[512];
    size_t n = build(f, 17, 53, 33333, m, sizeof m);
    CHECK(ends_with(print1(f, n, line, sizeof line), ": 7 2/0/0 A 192.0.2.1, CNAME a. (49)"));
}

TEST(print_dns_compression_loop_ends)
{
    /* the CNAME's data points at itself (offset 31): not backwards */
    static const uint8_t m[] = {0x00, 0x01, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                                1, 'a', 0, 0, 1, 0, 1,
                                0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, 0xc0, 31};
    uint8_t f[200];
    char line[512];
    size_t n = build(f, 17, 53, 1111, m, sizeof m);
    CHECK(ends_with(print1(f, n, line, sizeof line), "CNAME <BAD PTR> [|domain]"));
    /* a chain of 100 pointers, each to the one before it (RFC 1035 s4.1.4
     * allows a pointer to a pointer), carried in a NULL record's data; a
     * CNAME points at the last: the walk follows each once, to "x." */
    uint8_t big[12 + 7 + 12 + 200 + 14] = {0, 2, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
                                           1, 'x', 0, 0, 1, 0, 1};
    size_t o = 19;
    static const uint8_t rr_null[] = {0xc0, 12, 0, 10, 0, 1, 0, 0, 0, 1, 0, 200};
    memcpy(big + o, rr_null, sizeof rr_null);
    o += sizeof rr_null;
    for (int i = 0; i < 100; i++, o += 2) {
        size_t to = i ? o - 2 : 12;
        big[o] = (uint8_t)(0xc0 | to >> 8), big[o + 1] = (uint8_t)to;
    }
    static const uint8_t rr_cname[] = {0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2};
    size_t last = o - 2;
    memcpy(big + o, rr_cname, sizeof rr_cname);
    o += sizeof rr_cname;
    big[o] = (uint8_t)(0xc0 | last >> 8), big[o + 1] = (uint8_t)last;
    o += 2;
    uint8_t f2[400];
    n = build(f2, 17, 53, 1111, big, o);
    CHECK(ends_with(print1(f2, n, line, sizeof line), ": 2 2/0/0 NULL, CNAME x. (245)"));
}

TEST(print_bootp_ntp_http_lines)
{
    uint8_t pl[300] = {0}, f[400];
    char line[512];
    /* RFC 951: op 1 (request), htype 1, hlen 6, chaddr at 28 */
    pl[0] = 1, pl[1] = 1, pl[2] = 6;
    memcpy(pl + 28, "\x02\x00\x00\x00\x00\x09", 6);
    size_t n = build(f, 17, 68, 67, pl, 240);
    CHECK(ends_with(print1(f, n, line, sizeof line),
                    ": BOOTP/DHCP, Request from 02:00:00:00:00:09, length 240"));
    pl[0] = 2; /* a reply names no client */
    n = build(f, 17, 67, 68, pl, 240);
    CHECK(ends_with(print1(f, n, line, sizeof line), ": BOOTP/DHCP, Reply, length 240"));
    /* RFC 5905: LI 0, VN 4, mode 3 (client) */
    memset(pl, 0, 48);
    pl[0] = 4 << 3 | 3;
    n = build(f, 17, 123, 123, pl, 48);
    CHECK(ends_with(print1(f, n, line, sizeof line), ": NTPv4, Client, length 48"));
    /* HTTP (RFC 9112 s4): the status line, without its CRLF */
    static const char st[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    n = build(f, 6, 80, 40000, (const uint8_t *)st, sizeof st - 1);
    CHECK(ends_with(print1(f, n, line, sizeof line), ": HTTP: HTTP/1.1 200 OK"));
    static const char rq[] = "GET /x HTTP/1.1\r\n";
    n = build(f, 6, 40000, 8080, (const uint8_t *)rq, sizeof rq - 1);
    CHECK(ends_with(print1(f, n, line, sizeof line), ": HTTP: GET /x HTTP/1.1"));
    n = build(f, 6, 40000, 80, (const uint8_t *)"\x01\x02\x03", 3); /* not a request */
    CHECK(ends_with(print1(f, n, line, sizeof line), "length 3: HTTP"));
}

/* The text of an IPv6 address parses back to the same address and is in
 * RFC 5952 s4 form: lower case, no leading zeros, at most one "::", which
 * replaces the longest run of two or more zero groups. */
TEST(print_ip6_text_round_trips)
{
    for (int i = 0; i < 20000; i++) {
        uint8_t a[16], back[16];
        for (int w = 0; w < 8; w++) {
            unsigned r = test_rand();
            uint16_t v = r % 3 == 0 ? 0 : r % 3 == 1 ? (uint16_t)(r >> 8) : (uint16_t)(r >> 20 & 0xf);
            a[2 * w] = (uint8_t)(v >> 8), a[2 * w + 1] = (uint8_t)v;
        }
        char s[PC_ADDR_MAX];
        pc_ip6_str(a, s, sizeof s);
        REQUIRE(inet_pton(AF_INET6, s, back) == 1);
        CHECK_MEM(a, back, 16);
        const char *dc = strstr(s, "::");
        CHECK(!dc || !strstr(dc + 1, "::"));
        for (const char *p = s; *p; p++)
            CHECK(!(*p >= 'A' && *p <= 'F'));
        int zrun = 0, best = 0;
        for (int w = 0; w < 8; w++) {
            zrun = a[2 * w] == 0 && a[2 * w + 1] == 0 ? zrun + 1 : 0;
            best = zrun > best ? zrun : best;
        }
        CHECK((best >= 2) == (dc != NULL));
    }
}

/* Every dissector, every caplen, and random mutations: the frame sits in a
 * heap buffer of exactly caplen bytes, so a read past it is an ASan error;
 * the line is always terminated and within its buffer. */
TEST(print_app_frames_never_read_past_caplen)
{
    uint8_t pl[300], frames[8][400];
    size_t lens[8], nf = 0;
    lens[nf] = build(frames[nf], 17, 33333, 53, dns_query, sizeof dns_query), nf++;
    static const uint8_t ans[] = {0x00, 0x07, 0x81, 0xa0, 0, 1, 0, 6, 0, 0, 0, 1,
                                  1, 'a', 0, 0, 1, 0, 1,
                                  0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
                                  0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0x20, 1, 0x0d, 0xb8,
                                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                                  0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 0xc0, 12,
                                  0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 6, 2, 'h', 'i', 2, 0x01, 0xff,
                                  0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 1, 0, 2, 0, 80, 0xc0, 12,
                                  0xc0, 12, 0, 41, 2, 0, 0, 0, 0x80, 0, 0, 8, 0, 10, 0, 4, 1, 2, 3, 4,
                                  0, 0, 41, 16, 0, 1, 0, 0, 0, 0, 0};
    lens[nf] = build(frames[nf], 17, 53, 33333, ans, sizeof ans), nf++;
    uint8_t tpl[2 + sizeof ans] = {0, sizeof ans};
    memcpy(tpl + 2, ans, sizeof ans);
    lens[nf] = build(frames[nf], 6, 53, 40000, tpl, sizeof tpl), nf++;
    memset(pl, 0, sizeof pl);
    pl[0] = 1, pl[1] = 1, pl[2] = 6;
    lens[nf] = build(frames[nf], 17, 68, 67, pl, 240), nf++;
    pl[0] = 0x23;
    lens[nf] = build(frames[nf], 17, 123, 123, pl, 48), nf++;
    static const char rq[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    lens[nf] = build(frames[nf], 6, 40000, 80, (const uint8_t *)rq, sizeof rq - 1), nf++;
    lens[nf] = build(frames[nf], 17, 5353, 5353, ans, sizeof ans), nf++;
    /* IPv6 neighbor solicitation (RFC 4861 s4.3) */
    uint8_t *v6 = frames[nf];
    memset(v6, 0, 14 + 40 + 24);
    memcpy(v6, eth_ip4, 12);
    v6[12] = 0x86, v6[13] = 0xdd, v6[14] = 0x60, v6[19] = 24, v6[20] = 58, v6[21] = 255;
    v6[22] = 0xfe, v6[23] = 0x80, v6[37] = 1, v6[38] = 0xff, v6[39] = 2, v6[53] = 2;
    v6[54] = 135, v6[62] = 0xfe, v6[63] = 0x80, v6[77] = 2;
    lens[nf] = 14 + 40 + 24, nf++;
    char line[256], small[24];
    struct tern_printer p;
    tern_printer_init(&p, NULL);
    for (size_t i = 0; i < nf; i++) {
        for (size_t cap = 0; cap <= lens[i]; cap++) {
            uint8_t *b = malloc(cap ? cap : 1);
            REQUIRE(b != NULL);
            memcpy(b, frames[i], cap);
            size_t n = tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, b, cap, lens[i], line, sizeof line);
            REQUIRE(n < sizeof line && strlen(line) == n);
            n = tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, b, cap, lens[i], small, sizeof small);
            REQUIRE(n < sizeof small && strlen(small) == n);
            free(b);
        }
    }
    for (int r = 0; r < 20000; r++) {
        size_t i = test_rand() % nf, len = lens[i];
        uint8_t m[400];
        memcpy(m, frames[i], len);
        for (int k = 0; k < 1 + (int)(test_rand() % 6); k++) {
            size_t pos = 34 + test_rand() % (len - 34);
            m[pos] = (uint8_t)test_rand();
        }
        size_t cap = test_rand() % 4 ? len : 14 + test_rand() % (len - 13);
        uint8_t *b = malloc(cap);
        REQUIRE(b != NULL);
        memcpy(b, m, cap);
        size_t n = tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, b, cap, len, line, sizeof line);
        REQUIRE(n < sizeof line && strlen(line) == n);
        free(b);
    }
}
