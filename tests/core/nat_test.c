/*
 * tests/core/nat_test.c - the NAPT engine (src/core/nat.c) on crafted
 * datagrams: translation of TCP, UDP, ICMP queries and ICMP errors quoting
 * each (every checksum verified afterwards by the wire layer's parsers,
 * which recompute them in full), the RFC 4787 mapping and filtering
 * behaviours, timers, quotas and eviction (ATTACKS 48), hairpinning,
 * port forwarding and firewall rules. Then a router stack with NAT in a
 * chain (tests/common/chain.h): ping, a TCP transfer byte-exact, and a
 * fragmented datagram, reassembled at the NAT and refragmented.
 *
 * Addresses: inside hosts 192.168.1.10 and .11, the NAT's outside address
 * 203.0.113.1, remote hosts 198.51.100.7 and .8.
 */
#include <string.h>

#include "common/chain.h"
#include "core/nat.h"
#include "core/stack_impl.h"
#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/icmp.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/tcp.h"
#include "tern/wire/udp.h"

#define IN_A 0xc0a8010au  /* 192.168.1.10 */
#define IN_B 0xc0a8010bu  /* 192.168.1.11 */
#define EXT 0xcb007101u   /* 203.0.113.1 */
#define REM 0xc6336407u   /* 198.51.100.7 */
#define REM2 0xc6336408u  /* 198.51.100.8 */
#define HOP 0xc6336401u   /* 198.51.100.1: a router beyond the NAT */
#define T0 1000000000ull
#define SEC 1000000ull

static size_t ip_wrap(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, size_t l4len)
{
    struct tern_ipv4_repr ip = {.ttl = 64, .proto = proto, .src = src, .dst = dst, .id = 0x1234,
                                .payload_len = (uint16_t)l4len};
    int h = tern_ipv4_emit(&ip, buf, 60);
    return (size_t)h + l4len;
}

static size_t udp_dgram(uint8_t *buf, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                        const char *data)
{
    struct tern_udp_repr u = {.sport = sp, .dport = dp, .payload = (const uint8_t *)data,
                              .payload_len = (uint16_t)strlen(data)};
    int n = tern_udp_emit(&u, src, dst, buf + 20, 2000);
    return ip_wrap(buf, src, dst, 17, (size_t)n);
}

static size_t tcp_seg(uint8_t *buf, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                      uint16_t flags, uint32_t seq, const char *data)
{
    struct tern_tcp_repr t = {.sport = sp, .dport = dp, .seq = seq, .ack = 1, .flags = flags,
                              .win = 1000, .payload = (const uint8_t *)data,
                              .payload_len = data ? strlen(data) : 0};
    int n = tern_tcp_emit(&t, src, dst, buf + 20, 2000);
    return ip_wrap(buf, src, dst, 6, (size_t)n);
}

static size_t echo(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type, uint16_t id,
                   uint16_t seq)
{
    static const uint8_t pl[12] = "ping payload";
    struct tern_icmp_repr r = {.type = type, .id = id, .seq = seq, .data = pl, .data_len = 12};
    int n = tern_icmp_emit(&r, buf + 20, 2000);
    return ip_wrap(buf, src, dst, 1, (size_t)n);
}

/* An ICMP error from `from` to `to` quoting q[0..qlen). */
static size_t icmp_err(uint8_t *buf, uint32_t from, uint32_t to, uint8_t type, uint8_t code,
                       const uint8_t *q, size_t qlen)
{
    struct tern_icmp_repr r = {.type = type, .code = code, .data = q, .data_len = qlen};
    int n = tern_icmp_emit(&r, buf + 20, 2000);
    return ip_wrap(buf, from, to, 1, (size_t)n);
}

/* The IP header and transport checksums of d are right (full recompute). */
static bool sums_ok(const uint8_t *d, size_t len)
{
    struct tern_ipv4_repr ip;
    int h = tern_ipv4_parse(d, len, 0, &ip);
    if (h < 0)
        return false;
    if (ip.proto == 17) {
        struct tern_udp_repr u;
        return tern_udp_parse(d + h, ip.payload_len, ip.src, ip.dst, 0, &u) >= 0;
    }
    if (ip.proto == 6) {
        struct tern_tcp_repr t;
        return tern_tcp_parse(d + h, ip.payload_len, ip.src, ip.dst, 0, &t) >= 0;
    }
    if (ip.proto == 1) {
        struct tern_icmp_repr r;
        return tern_icmp_parse(d + h, ip.payload_len, 0, &r) >= 0;
    }
    return false;
}

static uint32_t src_of(const uint8_t *d) { return tern_get32(d + 12); }
static uint32_t dst_of(const uint8_t *d) { return tern_get32(d + 16); }
static uint16_t sport_of(const uint8_t *d) { return tern_get16(d + 20); }
static uint16_t dport_of(const uint8_t *d) { return tern_get16(d + 22); }

static struct nat *mk(enum tern_nat_behavior map, enum tern_nat_behavior filt)
{
    struct tern_nat_config c;
    tern_nat_config_defaults(&c);
    c.mapping = map;
    c.filtering = filt;
    return nat_new(&c, 7);
}

TEST(nat_udp_out_and_back_preserves_port_then_randomizes)
{
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint8_t d[2048];
    size_t len = udp_dgram(d, IN_A, 5000, REM, 53, "query");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    CHECK_EQ(src_of(d), EXT);
    CHECK_EQ(sport_of(d), 5000); /* port preserved while free */
    CHECK_EQ(dst_of(d), REM);
    CHECK(sums_ok(d, len));
    /* Host B with the same source port: a different, random port. */
    len = udp_dgram(d, IN_B, 5000, REM, 53, "query");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    uint16_t pb = sport_of(d);
    CHECK(pb != 5000);
    CHECK(pb >= 1024);
    CHECK(sums_ok(d, len));
    /* The reply to B's port comes back to B. */
    len = udp_dgram(d, REM, 53, EXT, pb, "answer!");
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + SEC), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_B);
    CHECK_EQ(dport_of(d), 5000);
    CHECK_EQ(src_of(d), REM);
    CHECK(sums_ok(d, len));
    /* A UDP datagram without checksum keeps none (RFC 768). */
    len = udp_dgram(d, IN_A, 5000, REM, 53, "x");
    tern_put16(d + 26, 0);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    CHECK_EQ(tern_get16(d + 26), 0);
    CHECK_EQ(nat_stats(n)->out, 3);
    CHECK_EQ(nat_stats(n)->in, 1);
    nat_free(n);
}

TEST(nat_tcp_handshake_states_timers_and_checksums)
{
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint8_t d[2048];
    size_t len = tcp_seg(d, IN_A, 40000, REM, 80, TERN_TCP_SYN, 100, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    CHECK(sums_ok(d, len));
    uint16_t ep = sport_of(d);
    int st = -1;
    REQUIRE(nat_lookup(n, 6, IN_A, 40000, REM, 80, T0, NULL, &st));
    CHECK_EQ(st, NAT_TCP_SYN_SENT);
    len = tcp_seg(d, REM, 80, EXT, ep, TERN_TCP_SYN | TERN_TCP_ACK, 900, NULL);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 1000), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_A);
    CHECK_EQ(dport_of(d), 40000);
    CHECK(sums_ok(d, len));
    len = tcp_seg(d, IN_A, 40000, REM, 80, TERN_TCP_ACK, 101, "GET / HTTP/1.0\r\n\r\n");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0 + 2000), NAT_PASS);
    CHECK(sums_ok(d, len));
    REQUIRE(nat_lookup(n, 6, IN_A, 40000, REM, 80, T0 + 2000, NULL, &st));
    CHECK_EQ(st, NAT_TCP_ESTABLISHED);
    /* RFC 5382 REQ-5: established survives 2 h 4 min idle, not much more. */
    uint64_t t = T0 + 2000 + 7439 * SEC;
    CHECK(nat_lookup(n, 6, IN_A, 40000, REM, 80, t, NULL, NULL));
    CHECK(!nat_lookup(n, 6, IN_A, 40000, REM, 80, t + 2 * SEC, NULL, NULL));
    /* FIN both ways: transitory, 4 minutes. */
    len = tcp_seg(d, IN_A, 40000, REM, 80, TERN_TCP_FIN | TERN_TCP_ACK, 119, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0 + 10 * SEC), NAT_PASS);
    REQUIRE(nat_lookup(n, 6, IN_A, 40000, REM, 80, T0 + 10 * SEC, NULL, &st));
    CHECK_EQ(st, NAT_TCP_FIN_WAIT);
    len = tcp_seg(d, REM, 80, EXT, ep, TERN_TCP_FIN | TERN_TCP_ACK, 901, NULL);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 11 * SEC), NAT_PASS);
    REQUIRE(nat_lookup(n, 6, IN_A, 40000, REM, 80, T0 + 11 * SEC, NULL, &st));
    CHECK_EQ(st, NAT_TCP_TIME_WAIT);
    CHECK(nat_lookup(n, 6, IN_A, 40000, REM, 80, T0 + 250 * SEC, NULL, NULL));
    CHECK(!nat_lookup(n, 6, IN_A, 40000, REM, 80, T0 + 252 * SEC, NULL, NULL));
    nat_free(n);
}

TEST(nat_tcp_simultaneous_open_and_unsolicited_syn)
{
    /* RFC 5382 REQ-2: both ends send SYN; the inbound SYN matches the
     * session the outbound SYN made. REQ-4: an unsolicited SYN from
     * elsewhere is dropped silently. */
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint8_t d[2048];
    size_t len = tcp_seg(d, IN_A, 4444, REM, 5555, TERN_TCP_SYN, 1, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    uint16_t ep = sport_of(d);
    len = tcp_seg(d, REM, 5555, EXT, ep, TERN_TCP_SYN, 77, NULL);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 10), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_A);
    CHECK(sums_ok(d, len));
    len = tcp_seg(d, IN_A, 4444, REM, 5555, TERN_TCP_SYN | TERN_TCP_ACK, 1, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0 + 20), NAT_PASS);
    len = tcp_seg(d, REM, 5555, EXT, ep, TERN_TCP_ACK, 78, NULL);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 30), NAT_PASS);
    int st;
    REQUIRE(nat_lookup(n, 6, IN_A, 4444, REM, 5555, T0 + 30, NULL, &st));
    CHECK_EQ(st, NAT_TCP_ESTABLISHED);
    len = tcp_seg(d, REM2, 5555, EXT, ep, TERN_TCP_SYN, 5, NULL);
    CHECK_EQ(nat_inbound(n, d, len, 0, 0, T0 + 40), NAT_DROP);
    CHECK_EQ(nat_stats(n)->drop_filter, 1);
    nat_free(n);
}

TEST(nat_icmp_echo_ids_mapped_per_host)
{
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint8_t d[2048], e[2048];
    size_t len = echo(d, IN_A, REM, TERN_ICMP_ECHO, 77, 1);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    CHECK(sums_ok(d, len));
    uint16_t ida = tern_get16(d + 24);
    size_t elen = echo(e, IN_B, REM, TERN_ICMP_ECHO, 77, 1);
    REQUIRE_EQ(nat_outbound(n, e, elen, EXT, true, T0), NAT_PASS);
    CHECK(sums_ok(e, elen));
    uint16_t idb = tern_get16(e + 24);
    CHECK(ida != idb); /* both pinging at once with the same id */
    /* Replies to each go to their own host with the id restored. */
    len = echo(d, REM, EXT, TERN_ICMP_ECHOREPLY, idb, 1);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 5), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_B);
    CHECK_EQ(tern_get16(d + 24), 77);
    CHECK(sums_ok(d, len));
    len = echo(d, REM, EXT, TERN_ICMP_ECHOREPLY, ida, 1);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 5), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_A);
    CHECK(sums_ok(d, len));
    /* An echo request to the NAT's address is the router's own. */
    len = echo(d, REM, EXT, TERN_ICMP_ECHO, 9, 1);
    CHECK_EQ(nat_inbound(n, d, len, 0, 0, T0 + 5), NAT_NOMATCH);
    /* RFC 5508 REQ-1: the query mapping lives 60 s. */
    len = echo(d, REM, EXT, TERN_ICMP_ECHOREPLY, ida, 2);
    CHECK_EQ(nat_inbound(n, d, len, 0, 0, T0 + 5 + 61 * SEC), NAT_NOMATCH);
    nat_free(n);
}

/* Sends proto's datagram out, then an ICMP error about what left, quoting
 * all of it; checks the translated error. */
static void check_error_in(uint8_t proto)
{
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint8_t d[2048], e[2048];
    size_t len = proto == 17   ? udp_dgram(d, IN_A, 33434, REM, 33435, "traceroute probe")
                 : proto == 6 ? tcp_seg(d, IN_A, 40001, REM, 443, TERN_TCP_SYN, 5, NULL)
                              : echo(d, IN_A, REM, TERN_ICMP_ECHO, 4242, 3);
    /* the inside port, to force a random external one for B first */
    uint8_t b[2048];
    size_t blen = proto == 17  ? udp_dgram(b, IN_B, 33434, REM, 1, "x")
                  : proto == 6 ? tcp_seg(b, IN_B, 40001, REM, 1, TERN_TCP_SYN, 5, NULL)
                               : echo(b, IN_B, REM, TERN_ICMP_ECHO, 4242, 1);
    REQUIRE_EQ(nat_outbound(n, b, blen, EXT, true, T0), NAT_PASS);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    uint16_t ep = proto == 1 ? tern_get16(d + 24) : sport_of(d);
    CHECK(ep != (proto == 1 ? 4242 : proto == 17 ? 33434 : 40001)); /* really translated */
    d[8] = 1; /* the quote shows TTL 1, as a router beyond decremented it */
    tern_put16(d + 10, 0);
    tern_put16(d + 10, tern_csum(d, 20));
    size_t elen = icmp_err(e, HOP, EXT, TERN_ICMP_TIMXCEED, 0, d, len);
    REQUIRE_EQ(nat_inbound(n, e, elen, 0, 0, T0 + 100), NAT_PASS);
    /* Outer: to the inside host, checksums right (RFC 5508 REQ-4). */
    CHECK_EQ(dst_of(e), IN_A);
    CHECK_EQ(src_of(e), HOP);
    CHECK(sums_ok(e, elen));
    CHECK_EQ(e[20], TERN_ICMP_TIMXCEED);
    /* Inner: the datagram as the inside host sent it (TTL aside), with
     * its IP and transport checksums right. */
    const uint8_t *q = e + 28;
    CHECK_EQ(src_of(q), IN_A);
    CHECK_EQ(dst_of(q), REM);
    CHECK(sums_ok(q, len));
    if (proto == 1)
        CHECK_EQ(tern_get16(q + 24), 4242);
    else
        CHECK_EQ(sport_of(q), proto == 17 ? 33434 : 40001);
    CHECK_EQ(nat_stats(n)->icmp_errors, 1);
    /* An error quoting a flow the NAT does not know: dropped (REQ-4). */
    tern_put16(d + 20 + (proto == 1 ? 4 : 0), (uint16_t)(ep + 1));
    elen = icmp_err(e, HOP, EXT, TERN_ICMP_UNREACH, 3, d, 28);
    CHECK_EQ(nat_inbound(n, e, elen, 0, 0, T0 + 100), NAT_DROP);
    nat_free(n);
}

TEST(nat_icmp_error_quoting_udp_translated) { check_error_in(17); }
TEST(nat_icmp_error_quoting_tcp_translated) { check_error_in(6); }
TEST(nat_icmp_error_quoting_icmp_translated) { check_error_in(1); }

TEST(nat_icmp_error_with_8_byte_quote_keeps_outer_checksum)
{
    /* The classic RFC 792 quote (header + 8 bytes) of a TCP segment holds
     * no TCP checksum: only the inner IP header and the outer checksum
     * change. */
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint8_t b[2048], d[2048], e[2048];
    size_t blen = tcp_seg(b, IN_B, 40001, REM, 1, TERN_TCP_SYN, 5, NULL);
    REQUIRE_EQ(nat_outbound(n, b, blen, EXT, true, T0), NAT_PASS);
    size_t len = tcp_seg(d, IN_A, 40001, REM, 443, TERN_TCP_SYN, 5, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    size_t elen = icmp_err(e, HOP, EXT, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_HOST, d, 28);
    REQUIRE_EQ(nat_inbound(n, e, elen, 0, 0, T0 + 1), NAT_PASS);
    CHECK(sums_ok(e, elen));
    CHECK_EQ(tern_csum(e + 28, 20), 0); /* inner header checksum */
    CHECK_EQ(src_of(e + 28), IN_A);
    CHECK_EQ(sport_of(e + 28), 40001);
    nat_free(n);
}

TEST(nat_icmp_error_from_inside_translated_out)
{
    /* RFC 5508 REQ-5: an inside host's port unreachable about a datagram
     * that came in through the NAT leaves with the external endpoint. */
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_EI);
    REQUIRE(n);
    uint8_t d[2048], e[2048];
    size_t len = udp_dgram(d, IN_B, 6000, REM, 7, "a");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    len = udp_dgram(d, IN_A, 6000, REM, 7, "b");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    uint16_t ep = sport_of(d);
    len = udp_dgram(d, REM, 9, EXT, ep, "unsolicited, passes EIF");
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 1), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_A);
    size_t elen = icmp_err(e, IN_A, REM, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PORT, d, len);
    REQUIRE_EQ(nat_outbound(n, e, elen, EXT, true, T0 + 2), NAT_PASS);
    CHECK_EQ(src_of(e), EXT);
    CHECK(sums_ok(e, elen));
    CHECK_EQ(dst_of(e + 28), EXT);
    CHECK_EQ(dport_of(e + 28), ep);
    CHECK(sums_ok(e + 28, len));
    nat_free(n);
}

/* The external port the NAT gives IN_A:7000 -> rem:rp. */
static uint16_t map_of(struct nat *n, uint32_t rem, uint16_t rp)
{
    uint8_t d[2048];
    size_t len = udp_dgram(d, IN_A, 7000, rem, rp, "m");
    if (nat_outbound(n, d, len, EXT, true, T0) != NAT_PASS)
        return 0;
    return sport_of(d);
}

TEST(nat_mapping_behaviours_rfc4787)
{
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint16_t a = map_of(n, REM, 1), b = map_of(n, REM, 2), c = map_of(n, REM2, 1);
    CHECK(a == b && b == c); /* REQ-1: one port for every remote */
    nat_free(n);
    n = mk(TERN_NAT_AD, TERN_NAT_APD);
    REQUIRE(n);
    a = map_of(n, REM, 1), b = map_of(n, REM, 2), c = map_of(n, REM2, 1);
    CHECK(a == b);
    CHECK(a != c);
    nat_free(n);
    n = mk(TERN_NAT_APD, TERN_NAT_APD);
    REQUIRE(n);
    a = map_of(n, REM, 1), b = map_of(n, REM, 2), c = map_of(n, REM2, 1);
    CHECK(a != b && b != c && a != c);
    nat_free(n);
}

/* What the filter does with a datagram from (src, sp) to A's mapping. */
static int filt(enum tern_nat_behavior f, uint32_t src, uint16_t sp)
{
    struct nat *n = mk(TERN_NAT_EI, f);
    if (!n)
        return 99;
    uint16_t ep = map_of(n, REM, 3478);
    uint8_t d[2048];
    size_t len = udp_dgram(d, src, sp, EXT, ep, "in");
    int v = nat_inbound(n, d, len, 0, 0, T0 + 1);
    if (v == NAT_PASS && (dst_of(d) != IN_A || dport_of(d) != 7000 || !sums_ok(d, len)))
        v = 98;
    nat_free(n);
    return v;
}

TEST(nat_filtering_behaviours_rfc4787)
{
    CHECK_EQ(filt(TERN_NAT_EI, REM, 3478), NAT_PASS);
    CHECK_EQ(filt(TERN_NAT_EI, REM, 3479), NAT_PASS);
    CHECK_EQ(filt(TERN_NAT_EI, REM2, 1), NAT_PASS);
    CHECK_EQ(filt(TERN_NAT_AD, REM, 3478), NAT_PASS);
    CHECK_EQ(filt(TERN_NAT_AD, REM, 3479), NAT_PASS);
    CHECK_EQ(filt(TERN_NAT_AD, REM2, 1), NAT_DROP);
    CHECK_EQ(filt(TERN_NAT_APD, REM, 3478), NAT_PASS);
    CHECK_EQ(filt(TERN_NAT_APD, REM, 3479), NAT_DROP);
    CHECK_EQ(filt(TERN_NAT_APD, REM2, 1), NAT_DROP);
}

TEST(nat_udp_timer_outbound_refresh_and_expiry)
{
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint8_t d[2048];
    size_t len = udp_dgram(d, IN_A, 5000, REM, 53, "q");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    /* RFC 4787 REQ-6: outbound refresh at 200 s; alive at 200 + 299 s. */
    len = udp_dgram(d, IN_A, 5000, REM, 53, "q");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0 + 200 * SEC), NAT_PASS);
    len = udp_dgram(d, REM, 53, EXT, 5000, "a");
    CHECK_EQ(nat_inbound(n, d, len, 0, 0, T0 + 499 * SEC), NAT_PASS);
    /* inbound refreshed it too; then 301 s of silence: gone. */
    len = udp_dgram(d, REM, 53, EXT, 5000, "a");
    CHECK_EQ(nat_inbound(n, d, len, 0, 0, T0 + 800 * SEC + 1), NAT_NOMATCH);
    CHECK_EQ(nat_expire(n, T0 + 800 * SEC + 1), UINT64_MAX);
    CHECK_EQ(nat_stats(n)->expired, 1);
    CHECK_EQ(nat_stats(n)->entries, 0);
    CHECK_EQ(nat_host_count(n, IN_A), 0);
    nat_free(n);
}

TEST(attack_48_nat_syn_flood_hits_its_own_quota_and_evicts_only_its_own)
{
    /* ATTACKS 48: host A floods SYNs to 10,000 ports; host B's established
     * connection and B's new flows are unaffected. */
    struct tern_nat_config c;
    tern_nat_config_defaults(&c);
    c.max_entries = 300;
    c.max_per_host = 100;
    struct nat *n = nat_new(&c, 3);
    REQUIRE(n);
    uint8_t d[2048];
    size_t len = tcp_seg(d, IN_B, 50000, REM, 80, TERN_TCP_SYN, 1, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    uint16_t eb = sport_of(d);
    len = tcp_seg(d, REM, 80, EXT, eb, TERN_TCP_SYN | TERN_TCP_ACK, 9, NULL);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 1), NAT_PASS);
    len = tcp_seg(d, IN_B, 50000, REM, 80, TERN_TCP_ACK, 2, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0 + 2), NAT_PASS);
    for (uint32_t k = 0; k < 10000; k++) {
        len = tcp_seg(d, IN_A, (uint16_t)(10000 + k), REM, 80, TERN_TCP_SYN, k, NULL);
        CHECK_EQ(nat_outbound(n, d, len, EXT, true, T0 + 10 + k), NAT_PASS);
    }
    CHECK_EQ(nat_host_count(n, IN_A), 100);
    CHECK_EQ(nat_stats(n)->evicted, 9900);
    /* the newest 100 of A's survive, the oldest went */
    CHECK(nat_lookup(n, 6, IN_A, 19999, REM, 80, T0 + 20000, NULL, NULL));
    CHECK(!nat_lookup(n, 6, IN_A, 10000, REM, 80, T0 + 20000, NULL, NULL));
    int st;
    CHECK(nat_lookup(n, 6, IN_B, 50000, REM, 80, T0 + 20000, NULL, &st));
    CHECK_EQ(st, NAT_TCP_ESTABLISHED);
    /* B's data still flows both ways. */
    len = tcp_seg(d, REM, 80, EXT, eb, TERN_TCP_ACK, 10, "data");
    CHECK_EQ(nat_inbound(n, d, len, 0, 0, T0 + 20001), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_B);
    nat_free(n);
}

TEST(attack_48_nat_table_full_never_evicts_established)
{
    /* A table of 50: 40 established (host B), then a flood of UDP from
     * many hosts (not evictable) fills it; the next new flow is refused,
     * the established ones stay. */
    struct tern_nat_config c;
    tern_nat_config_defaults(&c);
    c.max_entries = 50;
    c.max_per_host = 50;
    struct nat *n = nat_new(&c, 3);
    REQUIRE(n);
    uint8_t d[2048];
    for (int k = 0; k < 40; k++) {
        size_t len = tcp_seg(d, IN_B, (uint16_t)(2000 + k), REM, 80, TERN_TCP_SYN, 1, NULL);
        REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
        uint16_t ep = sport_of(d);
        len = tcp_seg(d, REM, 80, EXT, ep, TERN_TCP_SYN | TERN_TCP_ACK, 9, NULL);
        REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0), NAT_PASS);
        len = tcp_seg(d, IN_B, (uint16_t)(2000 + k), REM, 80, TERN_TCP_ACK, 2, NULL);
        REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    }
    int refused = 0;
    for (uint32_t k = 0; k < 20; k++) {
        size_t len = udp_dgram(d, 0x0a000000u + k, 9, REM, 9, "flood");
        if (nat_outbound(n, d, len, EXT, true, T0 + 1) == NAT_DROP)
            refused++;
    }
    CHECK_EQ(refused, 10);
    CHECK_EQ(nat_stats(n)->drop_quota, 10);
    CHECK_EQ(nat_stats(n)->evicted, 0);
    CHECK_EQ(nat_host_count(n, IN_B), 40);
    nat_free(n);
}

TEST(nat_hairpin_udp_rfc4787_req9)
{
    /* B reaches A through A's external endpoint; A sees B's external
     * endpoint as the source (REQ-9a). */
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_EI);
    REQUIRE(n);
    uint16_t ea = map_of(n, REM, 3478);
    uint8_t d[2048];
    size_t len = udp_dgram(d, IN_B, 8000, EXT, ea, "hairpin");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    uint16_t eb = sport_of(d);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, NAT_IN_HAIRPIN, T0), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_A);
    CHECK_EQ(dport_of(d), 7000);
    CHECK_EQ(src_of(d), EXT);
    CHECK_EQ(sport_of(d), eb);
    CHECK(sums_ok(d, len));
    CHECK_EQ(nat_stats(n)->hairpin, 1);
    CHECK(nat_has_mapping(n, 17, EXT, ea, T0));
    CHECK(!nat_has_mapping(n, 17, EXT, (uint16_t)(ea + 1), T0) || ea + 1 == eb);
    nat_free(n);
}

TEST(nat_port_parity_kept_when_asked)
{
    struct tern_nat_config c;
    tern_nat_config_defaults(&c);
    c.port_parity = true;
    struct nat *n = nat_new(&c, 11);
    REQUIRE(n);
    uint8_t d[2048];
    for (int k = 0; k < 20; k++) {
        /* same inside port from 20 hosts: 19 random ports, all odd */
        size_t len = udp_dgram(d, IN_A + (uint32_t)k, 5001, REM, 1, "p");
        REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
        CHECK_EQ(sport_of(d) & 1, 1);
    }
    nat_free(n);
}

TEST(nat_port_forward_and_firewall_rules)
{
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    REQUIRE_EQ(nat_forward_add(n, 6, 8080, IN_A, 80), 0);
    REQUIRE_EQ(nat_forward_add(n, 6, 2222, IN_B, 22), 0);
    struct tern_fw_rule deny_rem2 = {.allow = false, .src = REM2, .src_mask = 0xffffffffu};
    struct tern_fw_rule allow_80 = {.allow = true, .proto = 6, .dport_lo = 80, .dport_hi = 80};
    REQUIRE_EQ(nat_fw_rule_add(n, 0, &deny_rem2), 0);
    REQUIRE_EQ(nat_fw_rule_add(n, 0, &allow_80), 0);
    uint8_t d[2048];
    size_t len = tcp_seg(d, REM, 33000, EXT, 8080, TERN_TCP_SYN, 1, NULL);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, NAT_IN_FW, T0), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_A);
    CHECK_EQ(dport_of(d), 80);
    CHECK(sums_ok(d, len));
    /* The server's answer leaves from port 8080 of the NAT. */
    len = tcp_seg(d, IN_A, 80, REM, 33000, TERN_TCP_SYN | TERN_TCP_ACK, 1, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0 + 1), NAT_PASS);
    CHECK_EQ(src_of(d), EXT);
    CHECK_EQ(sport_of(d), 8080);
    CHECK(sums_ok(d, len));
    /* conntrack shows it as the remote host started it. */
    char buf[1024];
    nat_list(n, buf, sizeof buf, T0 + 1);
    CHECK(strstr(buf, "tcp      6 240 SYN_RECV src=198.51.100.7 dst=203.0.113.1 sport=33000 "
                      "dport=8080 src=192.168.1.10 dst=198.51.100.7 sport=80 dport=33000 "
                      "mark=0 use=1\n") != NULL);
    /* REM2 is denied by rule 0; port 22 by the default. */
    len = tcp_seg(d, REM2, 33000, EXT, 8080, TERN_TCP_SYN, 1, NULL);
    CHECK_EQ(nat_inbound(n, d, len, 0, NAT_IN_FW, T0), NAT_DROP);
    len = tcp_seg(d, REM, 33001, EXT, 2222, TERN_TCP_SYN, 1, NULL);
    CHECK_EQ(nat_inbound(n, d, len, 0, NAT_IN_FW, T0), NAT_DROP);
    CHECK_EQ(nat_fw_rule_hits(n, 0), 1);
    CHECK_EQ(nat_fw_rule_hits(n, 1), 1);
    CHECK_EQ(nat_stats(n)->fw_allow, 1);
    CHECK_EQ(nat_stats(n)->fw_deny, 2);
    /* Without the firewall the forward works for 2222 too. */
    len = tcp_seg(d, REM, 33001, EXT, 2222, TERN_TCP_SYN, 1, NULL);
    CHECK_EQ(nat_inbound(n, d, len, 0, 0, T0), NAT_PASS);
    CHECK_EQ(dst_of(d), IN_B);
    /* A forwarded port is never handed out as a mapping. */
    len = tcp_seg(d, IN_B, 8080, REM, 1, TERN_TCP_SYN, 1, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    CHECK(sport_of(d) != 8080);
    nat_free(n);
}

TEST(nat_conntrack_listing)
{
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint8_t d[2048];
    size_t len = tcp_seg(d, IN_A, 55921, REM, 80, TERN_TCP_SYN, 1, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    len = tcp_seg(d, REM, 80, EXT, 55921, TERN_TCP_SYN | TERN_TCP_ACK, 1, NULL);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0), NAT_PASS);
    len = tcp_seg(d, IN_A, 55921, REM, 80, TERN_TCP_ACK, 2, NULL);
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    len = tcp_seg(d, REM, 80, EXT, 55921, TERN_TCP_ACK, 2, "x");
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + SEC), NAT_PASS);
    char buf[512];
    size_t need = nat_list(n, buf, sizeof buf, T0 + SEC);
    CHECK_STR(buf, "tcp      6 7440 ESTABLISHED src=192.168.1.10 dst=198.51.100.7 sport=55921 "
                   "dport=80 src=198.51.100.7 dst=203.0.113.1 sport=80 dport=55921 [ASSURED] "
                   "mark=0 use=1\n");
    CHECK_EQ(need, strlen(buf));
    nat_free(n);
}

/* ---- a router stack with NAT: A -- R(NAT on its right) -- B ---- */

static int nat_chain(struct chain *c)
{
    if (chain_open(c, 1, NULL) < 0)
        return -1;
    struct tern_nat_config nc;
    tern_nat_config_defaults(&nc);
    return tern_nat_enable(c->node[1], c->link[1].ifindex[0], &nc);
}

struct pings {
    int replies;
    struct tern_echo_event last;
};

static void on_echo(void *ctx, const struct tern_echo_event *ev)
{
    struct pings *p = ctx;
    if (!ev->is_error)
        p->replies++;
    p->last = *ev;
    p->last.data = NULL;
}

TEST(nat_stack_ping_and_tcp_transfer_through_nat)
{
    struct chain c;
    REQUIRE(nat_chain(&c) == 0);
    struct pings p = {0};
    int id = tern_echo_bind(chain_a(&c), 0, on_echo, &p);
    REQUIRE(id > 0);
    struct tern_ip_out o = {.dst = chain_b_addr(&c)};
    REQUIRE_EQ(tern_echo_send(chain_a(&c), &o, (uint16_t)id, 1, (const uint8_t *)"hi", 2), 0);
    chain_run(&c, 100000);
    CHECK_EQ(p.replies, 1);
    char buf[4096];
    tern_nat_list(c.node[1], buf, sizeof buf);
    CHECK(strstr(buf, "icmp     1 ") && strstr(buf, "src=10.0.0.1 dst=10.0.1.2 type=8"));
    CHECK(strstr(buf, "src=10.0.1.2 dst=10.0.1.1 type=0"));
    struct chain_xfer x;
    REQUIRE_EQ(chain_tcp_transfer(&c, chain_a(&c), chain_b(&c), chain_b_addr(&c), 8080, 1000000,
                                  60000000, &x), 0);
    CHECK(x.hash_ok);
    CHECK_EQ(x.got, 1000000);
    const struct tern_nat_stats *ns = tern_nat_stats(c.node[1]);
    REQUIRE(ns);
    CHECK(ns->out > 100 && ns->in > 100);
    CHECK_EQ(ns->drop_filter + ns->drop_quota, 0);
    /* A fragmented echo (3000 bytes over 1500-byte links): reassembled at
     * the NAT, translated, refragmented (RFC 4787 REQ-14). */
    static uint8_t big[3000];
    memset(big, 0x5a, sizeof big);
    uint64_t frag_before = tern_stack_stats(c.node[1])->ip.reasm_ok;
    REQUIRE_EQ(tern_echo_send(chain_a(&c), &o, (uint16_t)id, 2, big, sizeof big), 0);
    chain_run(&c, 100000);
    CHECK_EQ(p.replies, 2);
    CHECK_EQ(p.last.len, sizeof big);
    CHECK(tern_stack_stats(c.node[1])->ip.reasm_ok >= frag_before + 2); /* both ways */
    tern_echo_unbind(chain_a(&c), (uint16_t)id);
    CHECK(chain_settled(&c));
    /* 400 s later the timers have emptied the table (TCP transitory 240 s
     * after the close, ICMP 60 s). */
    CHECK_EQ(ns->entries, 0);
    CHECK_EQ(ns->created, 2); /* one echo id, one TCP connection */
    CHECK_EQ(ns->expired, 2);
    chain_close(&c);
}

TEST(nat_stack_timer_follows_the_shortest_entry)
{
    /* A long-lived ICMP session first arms the expiry timer far away; a
     * TCP session closing later (transitory, 5 s here) must pull it in,
     * in virtual time. */
    struct chain c;
    REQUIRE(chain_open(&c, 1, NULL) == 0);
    struct tern_nat_config nc;
    tern_nat_config_defaults(&nc);
    nc.icmp_timeout_us = 100 * SEC;
    nc.tcp_trans_timeout_us = 5 * SEC;
    REQUIRE_EQ(tern_nat_enable(c.node[1], c.link[1].ifindex[0], &nc), 0);
    struct pings p = {0};
    int id = tern_echo_bind(chain_a(&c), 0, on_echo, &p);
    REQUIRE(id > 0);
    struct tern_ip_out o = {.dst = chain_b_addr(&c)};
    REQUIRE_EQ(tern_echo_send(chain_a(&c), &o, (uint16_t)id, 1, (const uint8_t *)"hi", 2), 0);
    chain_run(&c, 100000);
    REQUIRE_EQ(p.replies, 1);
    struct chain_xfer x;
    REQUIRE_EQ(chain_tcp_transfer(&c, chain_a(&c), chain_b(&c), chain_b_addr(&c), 8080, 10000,
                                  10000000, &x), 0);
    CHECK(x.hash_ok);
    const struct tern_nat_stats *ns = tern_nat_stats(c.node[1]);
    REQUIRE(ns);
    chain_run(&c, 8 * SEC);
    CHECK_EQ(ns->expired, 1); /* the TCP session, not the ICMP one */
    CHECK_EQ(ns->entries, 1);
    tern_echo_unbind(chain_a(&c), (uint16_t)id);
    CHECK(chain_settled(&c));
    CHECK_EQ(ns->entries, 0);
    chain_close(&c);
}

/* ---- ATTACKS 48 end to end: a SYN flood from one inside host ---- */

struct flood {
    struct chain *c;
    struct tern_timer t;
    uint8_t mac_r[6];
    uint32_t sent, total;
};

static void flood_tick(struct tern_timer *t, void *arg)
{
    struct flood *f = arg;
    (void)t;
    static const uint8_t mac_c[6] = {0x02, 0x66, 0, 0, 0, 0x03};
    for (int k = 0; k < 20 && f->sent < f->total; k++, f->sent++) {
        uint8_t fr[14 + 60];
        memcpy(fr, f->mac_r, 6);
        memcpy(fr + 6, mac_c, 6);
        fr[12] = 0x08;
        fr[13] = 0x00;
        /* 10.0.0.3 (another inside host) -> B:80, a new source port each */
        size_t len = tcp_seg(fr + 14, CHAIN_ADDR(0, 3), (uint16_t)(1024 + f->sent),
                             chain_b_addr(f->c), 80, TERN_TCP_SYN, f->sent, NULL);
        tern_device_deliver(f->c->link[0].dev[1], fr, 14 + len);
    }
    if (f->sent < f->total)
        tern_timer_arm(f->c->loop, &f->t, tern_loop_now(f->c->loop) + 1000);
}

TEST(attack_48_nat_flood_of_10000_syns_while_a_transfer_completes)
{
    /* 10,000 SYNs from 10.0.0.3 (20 a millisecond) against a per-host
     * quota of 200 while A moves 2 MB to B through the NAT: the transfer
     * completes byte-exact, the flooder never holds more than its quota,
     * and every session expires by its timer afterwards (virtual time). */
    struct chain c;
    REQUIRE(chain_open(&c, 1, NULL) == 0);
    struct tern_nat_config nc;
    tern_nat_config_defaults(&nc);
    nc.max_entries = 1000;
    nc.max_per_host = 200;
    REQUIRE_EQ(tern_nat_enable(c.node[1], c.link[1].ifindex[0], &nc), 0);
    struct tern_iface_config ic;
    REQUIRE_EQ(tern_iface_get(c.node[1], c.link[0].ifindex[1], &ic), 0);
    struct flood f = {.c = &c, .total = 10000};
    memcpy(f.mac_r, ic.mac, 6);
    tern_timer_init(&f.t, flood_tick, &f);
    tern_timer_arm(c.loop, &f.t, tern_loop_now(c.loop) + 1000);
    struct chain_xfer x;
    REQUIRE_EQ(chain_tcp_transfer(&c, chain_a(&c), chain_b(&c), chain_b_addr(&c), 8080, 2000000,
                                  60000000, &x), 0);
    CHECK(x.hash_ok);
    CHECK_EQ(x.got, 2000000);
    chain_run(&c, 2 * SEC); /* the flood runs to its end */
    CHECK_EQ(f.sent, 10000);
    const struct tern_nat_stats *ns = tern_nat_stats(c.node[1]);
    REQUIRE(ns);
    CHECK(ns->evicted >= 9000); /* the flooder churned through its own quota */
    CHECK_EQ(nat_host_count(c.node[1]->nat, CHAIN_ADDR(0, 3)), 200);
    CHECK(ns->entries <= 1000);
    CHECK(chain_settled(&c));
    CHECK_EQ(ns->entries, 0);
    CHECK_EQ(ns->expired + ns->evicted, ns->created);
    chain_close(&c);
}

TEST(nat_tcp_picked_up_mid_stream_and_rst_is_final)
{
    /* A connection the table does not know (the router restarted, or the
     * session expired) is tracked from its next segment: established once
     * segments went both ways. After a RST it stays closed (RFC 7857
     * s2.2: 4 minutes, then gone), whatever follows. */
    struct nat *n = mk(TERN_NAT_EI, TERN_NAT_APD);
    REQUIRE(n);
    uint8_t d[2048];
    size_t len = tcp_seg(d, IN_A, 41000, REM, 22, TERN_TCP_ACK, 500, "more data");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0), NAT_PASS);
    uint16_t ep = sport_of(d);
    int st;
    REQUIRE(nat_lookup(n, 6, IN_A, 41000, REM, 22, T0, NULL, &st));
    CHECK_EQ(st, NAT_TCP_CLOSE);
    len = tcp_seg(d, REM, 22, EXT, ep, TERN_TCP_ACK, 9, "reply");
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 1), NAT_PASS);
    REQUIRE(nat_lookup(n, 6, IN_A, 41000, REM, 22, T0 + 1, NULL, &st));
    CHECK_EQ(st, NAT_TCP_ESTABLISHED);
    len = tcp_seg(d, REM, 22, EXT, ep, TERN_TCP_RST, 14, NULL);
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 2), NAT_PASS);
    len = tcp_seg(d, IN_A, 41000, REM, 22, TERN_TCP_ACK, 509, "late");
    REQUIRE_EQ(nat_outbound(n, d, len, EXT, true, T0 + 3), NAT_PASS);
    len = tcp_seg(d, REM, 22, EXT, ep, TERN_TCP_ACK, 14, "late too");
    REQUIRE_EQ(nat_inbound(n, d, len, 0, 0, T0 + 4), NAT_PASS);
    REQUIRE(nat_lookup(n, 6, IN_A, 41000, REM, 22, T0 + 4, NULL, &st));
    CHECK_EQ(st, NAT_TCP_CLOSE);
    CHECK(!nat_lookup(n, 6, IN_A, 41000, REM, 22, T0 + 4 + 241 * SEC, NULL, NULL));
    nat_free(n);
}
