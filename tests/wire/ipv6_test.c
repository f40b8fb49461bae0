/* Tests for src/wire/ipv6.c, icmpv6.c and igmp.c: scapy known answers both
 * ways (tests/wire/ipv6_vectors.h), RFC 8200 extension-header rules and
 * their bounds (ATTACKS: chains past the bound, headers past the packet,
 * RH0), RFC 4861 receiver validation, RFC 5952 text. */
#include <string.h>

#include "harness.h"
#include "ipv6_vectors.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/icmpv6.h"
#include "tern/wire/igmp.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/ipv6.h"

static struct tern_ipv6_addr A(const char *s)
{
    struct tern_ipv6_addr a;
    if (tern_ipv6_aton(s, &a) != TERN_OK)
        memset(&a, 0xee, sizeof a);
    return a;
}

static bool addr_eq(const struct tern_ipv6_addr *a, const char *s)
{
    struct tern_ipv6_addr b = A(s);
    return memcmp(a->b, b.b, 16) == 0;
}

TEST(ipv6_parse_echo_known_answer)
{
    struct tern_ipv6_repr ip;
    REQUIRE_EQ(tern_ipv6_parse(v6_echo, sizeof v6_echo, 0, &ip), 40);
    CHECK_EQ(ip.tclass, 0xb8);
    CHECK_EQ(ip.flow, 0x12345u);
    CHECK_EQ(ip.hop_limit, 64);
    CHECK_EQ(ip.next, TERN_IPPROTO_ICMPV6);
    CHECK_EQ(ip.payload_len, sizeof v6_echo - 40);
    CHECK(addr_eq(&ip.src, "2001:db8:1::10"));
    CHECK(addr_eq(&ip.dst, "2001:db8:1::20"));
    struct tern_icmpv6_repr m;
    REQUIRE_EQ(tern_icmpv6_parse(v6_echo + 40, ip.payload_len, &ip.src, &ip.dst, 0, &m), 8);
    CHECK_EQ(m.type, TERN_ICMPV6_ECHO_REQUEST);
    CHECK_EQ(m.rest, 0x42420007u);
    CHECK_EQ(m.data_len, 15u);
    CHECK_MEM(m.data, "tern ping6 data", 15);
    /* emit both layers again: scapy's bytes */
    uint8_t buf[128];
    REQUIRE_EQ(tern_ipv6_emit(&ip, buf, sizeof buf), 40);
    struct tern_icmpv6_repr e = {.type = m.type, .code = 0, .rest = m.rest,
                                 .data = m.data, .data_len = m.data_len};
    REQUIRE_EQ(tern_icmpv6_emit(&e, &ip.src, &ip.dst, buf + 40, sizeof buf - 40),
               (int)ip.payload_len);
    CHECK_MEM(buf, v6_echo, sizeof v6_echo);
}

TEST(ipv6_parse_rejects)
{
    uint8_t p[sizeof v6_echo];
    struct tern_ipv6_repr ip;
    CHECK_EQ(tern_ipv6_parse(v6_echo, 39, 0, &ip), TERN_E_SHORT);
    memcpy(p, v6_echo, sizeof p);
    p[0] = 0x45;
    CHECK_EQ(tern_ipv6_parse(p, sizeof p, 0, &ip), TERN_E_BAD_VERSION);
    /* payload length past the bytes present; clipped with TRUNC_OK */
    CHECK_EQ(tern_ipv6_parse(v6_echo, sizeof v6_echo - 1, 0, &ip), TERN_E_BAD_LEN);
    REQUIRE_EQ(tern_ipv6_parse(v6_echo, sizeof v6_echo - 1, TERN_WIRE_TRUNC_OK, &ip), 40);
    CHECK_EQ(ip.payload_len, sizeof v6_echo - 41);
    /* payload length 0 (a jumbogram) is not supported */
    memcpy(p, v6_echo, sizeof p);
    tern_put16(p + 4, 0);
    CHECK_EQ(tern_ipv6_parse(p, sizeof p, 0, &ip), TERN_E_BAD_LEN);
    /* a bit flipped: the ICMPv6 checksum (over the pseudo-header) fails */
    memcpy(p, v6_echo, sizeof p);
    p[20] ^= 1; /* in the source address */
    REQUIRE_EQ(tern_ipv6_parse(p, sizeof p, 0, &ip), 40);
    struct tern_icmpv6_repr m;
    CHECK_EQ(tern_icmpv6_parse(p + 40, ip.payload_len, &ip.src, &ip.dst, 0, &m), TERN_E_BAD_CSUM);
    CHECK_EQ(tern_icmpv6_parse(p + 40, ip.payload_len, &ip.src, &ip.dst, TERN_WIRE_NO_CSUM, &m), 8);
    ip.flow = 0x100000;
    CHECK_EQ(tern_ipv6_emit(&ip, p, sizeof p), TERN_E_INVAL);
}

static int walk(const uint8_t *pkt, size_t len, struct tern_ipv6_ext *x)
{
    struct tern_ipv6_repr ip;
    if (tern_ipv6_parse(pkt, len, 0, &ip) != 40)
        return -100;
    return tern_ipv6_ext_walk(pkt + 40, ip.payload_len, ip.next, x);
}

TEST(ipv6_ext_walk_known_answers)
{
    struct tern_ipv6_ext x;
    REQUIRE_EQ(walk(v6_mld2_report, sizeof v6_mld2_report, &x), TERN_OK);
    CHECK_EQ(x.proto, TERN_IPPROTO_ICMPV6);
    CHECK_EQ(x.off, 8);
    CHECK(x.hbh && x.router_alert && !x.frag);
    CHECK_EQ(x.next_ptr, 40); /* the Hop-by-Hop header's Next Header byte */

    REQUIRE_EQ(walk(v6_dst_tcp, sizeof v6_dst_tcp, &x), TERN_OK);
    CHECK_EQ(x.proto, TERN_IPPROTO_TCP);
    CHECK_EQ(x.off, 8);
    CHECK(!x.hbh && !x.router_alert);
    CHECK_EQ(tern_get32(v6_dst_tcp + 40 + x.off + 4), 1000u); /* the SYN's sequence number */

    REQUIRE_EQ(walk(v6_frag_udp, sizeof v6_frag_udp, &x), TERN_OK);
    CHECK(x.frag && x.more && !x.atomic);
    CHECK_EQ(x.frag_off, 0);
    CHECK_EQ(x.frag_id, 0xdeadbeefu);
    CHECK_EQ(x.proto, TERN_IPPROTO_UDP);
    CHECK_EQ(x.off, 8);
    CHECK_EQ(tern_get16(v6_frag_udp + 48), 5000);

    REQUIRE_EQ(walk(v6_frag_later, sizeof v6_frag_later, &x), TERN_OK);
    CHECK(x.frag && !x.more);
    CHECK_EQ(x.frag_off, 32);
    CHECK_EQ(x.proto, TERN_IPPROTO_UDP); /* what the fragments reassemble to */
    CHECK_EQ(x.off, 8);                  /* the data starts after the Fragment header */

    /* the Fragment header tern emits is scapy's */
    uint8_t fh[8];
    struct tern_ipv6_frag_repr f = {.next = 17, .frag_off = 32, .more = false, .id = 0xdeadbeef};
    REQUIRE_EQ(tern_ipv6_frag_emit(&f, fh, sizeof fh), 8);
    CHECK_MEM(fh, v6_frag_later + 40, 8);
    f.frag_off = 33;
    CHECK_EQ(tern_ipv6_frag_emit(&f, fh, sizeof fh), TERN_E_INVAL);

    /* RFC 5095: RH0 with segments left is refused, Parameter Problem code 0
     * at the Routing Type; with Segments Left 0 it is ignored */
    CHECK_EQ(walk(v6_rh0, sizeof v6_rh0, &x), TERN_E_BAD_FIELD);
    CHECK(x.icmp && !x.icmp_if_unicast);
    CHECK_EQ(x.icmp_code, 0);
    CHECK_EQ(x.icmp_ptr, 42u);
    REQUIRE_EQ(walk(v6_rh0_done, sizeof v6_rh0_done, &x), TERN_OK);
    CHECK_EQ(x.proto, TERN_IPPROTO_UDP);
    CHECK_EQ(x.off, 24);
}

/* An IPv6 packet with the given extension-header bytes and a UDP header. */
static size_t build(uint8_t *buf, uint8_t first, const uint8_t *ext, size_t ext_len)
{
    struct tern_ipv6_repr ip = {.next = first, .hop_limit = 64,
                                .payload_len = (uint16_t)(ext_len + 8)};
    ip.src = A("2001:db8::1");
    ip.dst = A("2001:db8::2");
    tern_ipv6_emit(&ip, buf, 40);
    memcpy(buf + 40, ext, ext_len);
    memset(buf + 40 + ext_len, 0, 8);
    return 48 + ext_len;
}

TEST(ipv6_ext_walk_options_and_bounds)
{
    uint8_t pkt[4096], ext[2048];
    struct tern_ipv6_ext x;
    size_t n;
    /* an unknown option type by its two high bits (RFC 8200 s4.2) */
    static const struct {
        uint8_t type;
        int rc;
        bool icmp, if_unicast;
    } act[] = {{0x1e, TERN_OK, false, false},
               {0x5e, TERN_E_BAD_OPT, false, false},
               {0x9e, TERN_E_BAD_OPT, true, false},
               {0xde, TERN_E_BAD_OPT, true, true}};
    for (size_t i = 0; i < sizeof act / sizeof act[0]; i++) {
        uint8_t d[8] = {17, 0, act[i].type, 4, 0, 0, 0, 0};
        n = build(pkt, TERN_IPPROTO_DSTOPTS, d, 8);
        CHECK_EQ(walk(pkt, n, &x), act[i].rc);
        CHECK_EQ(x.icmp, act[i].icmp);
        CHECK_EQ(x.icmp_if_unicast, act[i].if_unicast);
        if (act[i].icmp) {
            CHECK_EQ(x.icmp_code, 2);
            CHECK_EQ(x.icmp_ptr, 42u); /* the option's type byte */
        }
    }
    /* an option running past its header */
    uint8_t bad[8] = {17, 0, 0x1e, 9, 0, 0, 0, 0};
    n = build(pkt, TERN_IPPROTO_DSTOPTS, bad, 8);
    CHECK_EQ(walk(pkt, n, &x), TERN_E_BAD_OPT);
    /* PadN with non-zero padding, and 8 padding bytes in a row */
    uint8_t padx[8] = {17, 0, 1, 4, 0, 0, 1, 0};
    n = build(pkt, TERN_IPPROTO_DSTOPTS, padx, 8);
    CHECK_EQ(walk(pkt, n, &x), TERN_E_BAD_OPT);
    uint8_t pad16[16] = {17, 1, 1, 4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0};
    n = build(pkt, TERN_IPPROTO_DSTOPTS, pad16, 16);
    CHECK_EQ(walk(pkt, n, &x), TERN_E_BAD_OPT);
    uint8_t pad1x14[16] = {17, 1}; /* fourteen Pad1 */
    n = build(pkt, TERN_IPPROTO_DSTOPTS, pad1x14, 16);
    CHECK_EQ(walk(pkt, n, &x), TERN_E_BAD_OPT);
    uint8_t pad1x6[8] = {17, 0}; /* six Pad1: fine */
    n = build(pkt, TERN_IPPROTO_DSTOPTS, pad1x6, 8);
    CHECK_EQ(walk(pkt, n, &x), TERN_OK);
    /* Hop-by-Hop anywhere but first: Parameter Problem code 1 at the Next
     * Header field that named it */
    uint8_t hh2[16] = {0, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0};
    n = build(pkt, TERN_IPPROTO_DSTOPTS, hh2, 16);
    CHECK_EQ(walk(pkt, n, &x), TERN_E_BAD_FIELD);
    CHECK_EQ(x.icmp_code, 1);
    CHECK_EQ(x.icmp_ptr, 40u);
    /* a header that runs past the packet (ATTACKS: length fields) */
    uint8_t longer[8] = {17, 3, 1, 4, 0, 0, 0, 0};
    n = build(pkt, TERN_IPPROTO_DSTOPTS, longer, 8);
    CHECK_EQ(walk(pkt, n, &x), TERN_E_SHORT);
    CHECK_EQ(tern_ipv6_ext_walk(pkt + 40, 7, TERN_IPPROTO_DSTOPTS, &x), TERN_E_SHORT);
    /* chains: TERN_IPV6_EXT_MAX headers pass, one more is refused */
    for (int k = 0; k < TERN_IPV6_EXT_MAX + 1; k++) {
        uint8_t *h = ext + 8 * k;
        h[0] = k < TERN_IPV6_EXT_MAX - 1 ? TERN_IPPROTO_DSTOPTS : 17;
        h[1] = 0;
        h[2] = 1;
        h[3] = 4;
        memset(h + 4, 0, 4);
    }
    n = build(pkt, TERN_IPPROTO_DSTOPTS, ext, 8 * TERN_IPV6_EXT_MAX);
    REQUIRE_EQ(walk(pkt, n, &x), TERN_OK);
    CHECK_EQ(x.count, TERN_IPV6_EXT_MAX);
    CHECK_EQ(x.off, 8 * TERN_IPV6_EXT_MAX);
    ext[8 * (TERN_IPV6_EXT_MAX - 1)] = TERN_IPPROTO_DSTOPTS;
    ext[8 * TERN_IPV6_EXT_MAX] = 17;
    n = build(pkt, TERN_IPPROTO_DSTOPTS, ext, 8 * (TERN_IPV6_EXT_MAX + 1));
    CHECK_EQ(walk(pkt, n, &x), TERN_E_UNSUPPORTED);
    /* two long Destination Options headers: past the byte bound */
    memset(ext, 0, sizeof ext);
    ext[0] = TERN_IPPROTO_DSTOPTS;
    ext[1] = 63; /* 512 bytes */
    ext[512] = 17;
    ext[513] = 63;
    for (size_t off = 2; off < 1024; off += 2) {
        if (off == 512)
            continue;
        ext[off] = 0x1e; /* a skippable unknown option of 0 data bytes */
        ext[off + 1] = 0;
    }
    n = build(pkt, TERN_IPPROTO_DSTOPTS, ext, 1024);
    REQUIRE_EQ(walk(pkt, n, &x), TERN_OK); /* exactly 1024 bytes: allowed */
    ext[513] = 64;
    ext[1024] = 0x1e;
    ext[1025] = 6;
    n = build(pkt, TERN_IPPROTO_DSTOPTS, ext, 1032);
    CHECK_EQ(walk(pkt, n, &x), TERN_E_UNSUPPORTED);
}

TEST(ipv6_address_text_rfc5952)
{
    char buf[TERN_IPV6_ADDRSTRLEN];
    for (size_t i = 0; i < sizeof v6_text / sizeof v6_text[0]; i++) {
        struct tern_ipv6_addr a;
        memcpy(a.b, v6_text[i].b, 16);
        CHECK_STR(tern_ipv6_ntoa(&a, buf), v6_text[i].text);
        struct tern_ipv6_addr back;
        REQUIRE_EQ(tern_ipv6_aton(v6_text[i].text, &back), TERN_OK);
        CHECK_MEM(back.b, a.b, 16);
    }
    static const struct {
        const char *in, *out;
    } forms[] = {
        {"::", "::"},
        {"::1", "::1"},
        {"1::", "1::"},
        {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* RFC 5952 s4.2.2: one zero group stays */
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          /* s4.2.3: the longest run */
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* s4.2.3: the first of equal runs */
        {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},          /* s5: v4-mapped as a dotted quad */
        {"0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"},
        {"fe80::1:2:3:4", "fe80::1:2:3:4"},
        {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct tern_ipv6_addr a;
        REQUIRE_EQ(tern_ipv6_aton(forms[i].in, &a), TERN_OK);
        CHECK_STR(tern_ipv6_ntoa(&a, buf), forms[i].out);
    }
    static const char *const bad[] = {"", ":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::",
                                       "1:2:3:4:5:6:7", "g::", "1:", "::1:", "1:2:3:4:5:6:7:8::",
                                       "::1.2.3", "::1.2.3.256", "::01.2.3.4", "1.2.3.4::",
                                       "fe80::1%eth0", "::/64", "1:2:3:4:5:6:7:1.2.3.4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tern_ipv6_addr a;
        if (tern_ipv6_aton(bad[i], &a) != TERN_E_INVAL)
            CHECK_STR(bad[i], "(rejected)");
    }
}

TEST(ipv6_address_classes)
{
    struct tern_ipv6_addr a = A("2001:db8::1234:5678"), sn;
    tern_ipv6_solicited_node(&a, &sn);
    CHECK(addr_eq(&sn, "ff02::1:ff34:5678"));
    uint8_t mac[6];
    tern_ipv6_mcast_mac(&sn, mac);
    CHECK_MEM(mac, "\x33\x33\xff\x34\x56\x78", 6);
    struct tern_ipv6_addr u = A("::"), l = A("::1"), m = A("ff02::1"), ll = A("febf::1"),
                          nl = A("fec0::1"), v4 = A("::ffff:10.0.0.1");
    CHECK(tern_ipv6_is_unspecified(&u) && !tern_ipv6_is_unspecified(&l));
    CHECK(tern_ipv6_is_loopback(&l) && !tern_ipv6_is_loopback(&u));
    CHECK(tern_ipv6_is_multicast(&m) && !tern_ipv6_is_multicast(&ll));
    CHECK(tern_ipv6_is_link_local(&ll) && !tern_ipv6_is_link_local(&nl));
    CHECK(tern_ipv6_is_v4mapped(&v4) && !tern_ipv6_is_v4mapped(&l));
    /* the pseudo-header sum equals one over its 40 written-out bytes */
    uint8_t ph[40] = {0};
    memcpy(ph, a.b, 16);
    memcpy(ph + 16, m.b, 16);
    tern_put32(ph + 32, 70000);
    ph[39] = 17;
    CHECK_EQ(tern_csum_fold(tern_ipv6_pseudo_sum(&a, &m, 70000, 17)), tern_csum(ph, 40));
}

static int nd(const uint8_t *pkt, size_t len, struct tern_ipv6_repr *ip, struct tern_icmpv6_repr *m,
              struct tern_nd_repr *r)
{
    if (tern_ipv6_parse(pkt, len, 0, ip) != 40)
        return -100;
    if (tern_icmpv6_parse(pkt + 40, ip->payload_len, &ip->src, &ip->dst, 0, m) != 8)
        return -101;
    return tern_nd_parse(ip, m, r);
}

TEST(nd_known_answers)
{
    struct tern_ipv6_repr ip;
    struct tern_icmpv6_repr m;
    struct tern_nd_repr r;
    REQUIRE_EQ(nd(v6_ns, sizeof v6_ns, &ip, &m, &r), TERN_OK);
    CHECK(addr_eq(&r.target, "fe80::200:ff:fe00:2"));
    CHECK(r.opts.have_src_ll);
    CHECK_MEM(r.opts.src_ll, "\x02\x00\x00\x00\x00\x01", 6);
    /* tern's NS body is scapy's */
    uint8_t body[64], msg[80];
    uint32_t rest;
    int n = tern_nd_emit(&r, r.opts.src_ll, &rest, body, sizeof body);
    REQUIRE_EQ(n, 24);
    struct tern_icmpv6_repr e = {.type = TERN_ICMPV6_NEIGHBOR_SOLICIT, .rest = rest, .data = body,
                                 .data_len = (size_t)n};
    REQUIRE_EQ(tern_icmpv6_emit(&e, &ip.src, &ip.dst, msg, sizeof msg), 32);
    CHECK_MEM(msg, v6_ns + 40, 32);

    REQUIRE_EQ(nd(v6_ns_dad, sizeof v6_ns_dad, &ip, &m, &r), TERN_OK);
    CHECK(!r.opts.have_src_ll);

    REQUIRE_EQ(nd(v6_na, sizeof v6_na, &ip, &m, &r), TERN_OK);
    CHECK(!r.router && r.solicited && r.override);
    CHECK(r.opts.have_tgt_ll);
    n = tern_nd_emit(&r, r.opts.tgt_ll, &rest, body, sizeof body);
    REQUIRE_EQ(n, 24);
    e = (struct tern_icmpv6_repr){.type = TERN_ICMPV6_NEIGHBOR_ADVERT, .rest = rest, .data = body,
                                  .data_len = (size_t)n};
    REQUIRE_EQ(tern_icmpv6_emit(&e, &ip.src, &ip.dst, msg, sizeof msg), 32);
    CHECK_MEM(msg, v6_na + 40, 32);

    REQUIRE_EQ(nd(v6_rs, sizeof v6_rs, &ip, &m, &r), TERN_OK);
    n = tern_nd_emit(&r, r.opts.src_ll, &rest, body, sizeof body);
    REQUIRE_EQ(n, 8);
    e = (struct tern_icmpv6_repr){.type = TERN_ICMPV6_ROUTER_SOLICIT, .rest = rest, .data = body,
                                  .data_len = (size_t)n};
    REQUIRE_EQ(tern_icmpv6_emit(&e, &ip.src, &ip.dst, msg, sizeof msg), 16);
    CHECK_MEM(msg, v6_rs + 40, 16);

    REQUIRE_EQ(nd(v6_ra, sizeof v6_ra, &ip, &m, &r), TERN_OK);
    CHECK_EQ(r.cur_hop_limit, 64);
    CHECK(!r.managed && r.other);
    CHECK_EQ(r.router_lifetime, 1800);
    CHECK_EQ(r.reachable_ms, 30000u);
    CHECK_EQ(r.retrans_ms, 1000u);
    CHECK(r.opts.have_mtu);
    CHECK_EQ(r.opts.mtu, 1480u);
    CHECK_EQ(r.opts.prefixes, 1u);
    CHECK_EQ(r.opts.rdnss, 1u);
    size_t pos = 0;
    struct tern_nd_opt o;
    int got_prefix = 0, got_dns = 0;
    while (tern_nd_opt_next(r.opt_bytes, r.opt_len, &pos, &o) == 1) {
        if (o.type == TERN_ND_OPT_PREFIX) {
            struct tern_nd_prefix p;
            REQUIRE_EQ(tern_nd_prefix_parse(&o, &p), TERN_OK);
            CHECK_EQ(p.len, 64);
            CHECK(p.on_link && p.autonomous);
            CHECK_EQ(p.valid, 86400u);
            CHECK_EQ(p.preferred, 14400u);
            CHECK(addr_eq(&p.prefix, "2001:db8:1::"));
            got_prefix++;
        } else if (o.type == TERN_ND_OPT_RDNSS) {
            uint32_t life;
            struct tern_ipv6_addr d;
            REQUIRE_EQ(tern_nd_rdnss_get(&o, 1, &life, &d), TERN_OK);
            CHECK_EQ(life, 600u);
            CHECK(addr_eq(&d, "2001:db8:2::53"));
            CHECK_EQ(tern_nd_rdnss_get(&o, 2, &life, &d), TERN_E_BAD_OPT);
            got_dns++;
        }
    }
    CHECK_EQ(got_prefix, 1);
    CHECK_EQ(got_dns, 1);
}

/* Re-checksums an ND packet after a field was changed. */
static void resum(uint8_t *pkt, size_t len)
{
    struct tern_ipv6_repr ip;
    tern_ipv6_parse(pkt, len, 0, &ip);
    tern_put16(pkt + 42, 0);
    tern_put16(pkt + 42, tern_csum_fold(tern_csum_add(
                             tern_ipv6_pseudo_sum(&ip.src, &ip.dst, ip.payload_len, 58), pkt + 40,
                             ip.payload_len)));
}

TEST(nd_receiver_validation_rfc4861)
{
    uint8_t p[256];
    struct tern_ipv6_repr ip;
    struct tern_icmpv6_repr m;
    struct tern_nd_repr r;
    /* hop limit below 255: could have crossed a router (s7.1.1) */
    memcpy(p, v6_ns, sizeof v6_ns);
    p[7] = 254;
    CHECK_EQ(nd(p, sizeof v6_ns, &ip, &m, &r), TERN_E_BAD_FIELD);
    /* code not 0 */
    memcpy(p, v6_ns, sizeof v6_ns);
    p[41] = 1;
    resum(p, sizeof v6_ns);
    CHECK_EQ(nd(p, sizeof v6_ns, &ip, &m, &r), TERN_E_BAD_FIELD);
    /* a multicast target */
    memcpy(p, v6_ns, sizeof v6_ns);
    p[48] = 0xff;
    resum(p, sizeof v6_ns);
    CHECK_EQ(nd(p, sizeof v6_ns, &ip, &m, &r), TERN_E_BAD_FIELD);
    /* an option of length 0 (s4.6: discard the packet) */
    memcpy(p, v6_ns, sizeof v6_ns);
    p[40 + 24 + 1] = 0;
    resum(p, sizeof v6_ns);
    CHECK_EQ(nd(p, sizeof v6_ns, &ip, &m, &r), TERN_E_BAD_OPT);
    /* DAD (source ::) with a source link-layer option */
    memcpy(p, v6_ns, sizeof v6_ns);
    memset(p + 8, 0, 16);
    resum(p, sizeof v6_ns);
    CHECK_EQ(nd(p, sizeof v6_ns, &ip, &m, &r), TERN_E_BAD_FIELD);
    /* DAD to a destination that is not the target's solicited-node group */
    memcpy(p, v6_ns_dad, sizeof v6_ns_dad);
    p[24 + 15] = 0x01; /* ff02::1 */
    memset(p + 24 + 11, 0, 3);
    resum(p, sizeof v6_ns_dad);
    CHECK_EQ(nd(p, sizeof v6_ns_dad, &ip, &m, &r), TERN_E_BAD_FIELD);
    /* a solicited NA to a multicast destination */
    memcpy(p, v6_na, sizeof v6_na);
    memcpy(p + 24, "\xff\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    resum(p, sizeof v6_na);
    CHECK_EQ(nd(p, sizeof v6_na, &ip, &m, &r), TERN_E_BAD_FIELD);
    /* an RA from a global (not link-local) source (s6.1.2) */
    memcpy(p, v6_ra, sizeof v6_ra);
    p[8] = 0x20;
    p[9] = 0x01;
    resum(p, sizeof v6_ra);
    CHECK_EQ(nd(p, sizeof v6_ra, &ip, &m, &r), TERN_E_BAD_FIELD);
    /* short fixed part */
    memcpy(p, v6_na, sizeof v6_na);
    tern_put16(p + 4, 20);
    resum(p, 60);
    CHECK_EQ(nd(p, 60, &ip, &m, &r), TERN_E_SHORT);
    /* a Prefix Information option of the wrong size */
    struct tern_nd_opt o = {.type = TERN_ND_OPT_PREFIX, .len = 24, .p = v6_ra};
    struct tern_nd_prefix pr;
    CHECK_EQ(tern_nd_prefix_parse(&o, &pr), TERN_E_BAD_OPT);
}

TEST(mld_known_answers)
{
    struct tern_ipv6_repr ip;
    struct tern_ipv6_ext x;
    struct tern_icmpv6_repr m;
    REQUIRE_EQ(tern_ipv6_parse(v6_mld2_report, sizeof v6_mld2_report, 0, &ip), 40);
    REQUIRE_EQ(tern_ipv6_ext_walk(v6_mld2_report + 40, ip.payload_len, ip.next, &x), TERN_OK);
    REQUIRE_EQ(tern_icmpv6_parse(v6_mld2_report + 40 + x.off, ip.payload_len - x.off, &ip.src,
                                 &ip.dst, 0, &m),
               8);
    CHECK_EQ(m.type, TERN_ICMPV6_MLD2_REPORT);
    size_t pos = 0, idx = 0;
    struct tern_mld2_record rec;
    REQUIRE_EQ(tern_mld2_record_next(&m, &pos, &idx, &rec), 1);
    CHECK_EQ(rec.type, TERN_MLD2_CHANGE_TO_EXCLUDE);
    CHECK(addr_eq(&rec.group, "ff02::1:ff00:1"));
    CHECK_EQ(rec.nsources, 0);
    REQUIRE_EQ(tern_mld2_record_next(&m, &pos, &idx, &rec), 1);
    CHECK_EQ(rec.type, TERN_MLD2_MODE_IS_EXCLUDE);
    CHECK_EQ(rec.nsources, 1);
    CHECK_MEM(rec.sources, A("2001:db8::5").b, 16);
    CHECK_EQ(tern_mld2_record_next(&m, &pos, &idx, &rec), 0);
    /* tern's report of the first record: scapy's bytes for a one-record report */
    struct tern_mld2_record one = {.type = TERN_MLD2_CHANGE_TO_EXCLUDE,
                                   .group = A("ff02::1:ff00:1")};
    uint8_t body[64];
    uint32_t rest;
    REQUIRE_EQ(tern_mld2_report_emit(&one, 1, &rest, body, sizeof body), 20);
    CHECK_EQ(rest, 1u);
    CHECK_MEM(body, m.data, 20);
    /* a record count that promises more than the message holds */
    struct tern_icmpv6_repr lie = m;
    lie.rest = 3;
    pos = idx = 0;
    CHECK_EQ(tern_mld2_record_next(&lie, &pos, &idx, &rec), 1);
    CHECK_EQ(tern_mld2_record_next(&lie, &pos, &idx, &rec), 1);
    CHECK_EQ(tern_mld2_record_next(&lie, &pos, &idx, &rec), TERN_E_SHORT);

    REQUIRE_EQ(tern_ipv6_parse(v6_mld2_query, sizeof v6_mld2_query, 0, &ip), 40);
    REQUIRE_EQ(tern_ipv6_ext_walk(v6_mld2_query + 40, ip.payload_len, ip.next, &x), TERN_OK);
    REQUIRE_EQ(tern_icmpv6_parse(v6_mld2_query + 40 + x.off, ip.payload_len - x.off, &ip.src,
                                 &ip.dst, 0, &m),
               8);
    struct tern_mld_query q;
    REQUIRE_EQ(tern_mld_query_parse(&ip, &m, &q), TERN_OK);
    CHECK(q.v2);
    CHECK_EQ(q.max_resp_ms, 10000u);
    CHECK_EQ(q.qrv, 2);
    CHECK_EQ(q.qqi_s, 125u);
    CHECK(tern_ipv6_is_unspecified(&q.group));
    /* RFC 3810 s5.1.3's floating point: code 0x8000 = 0x1000 << 3 */
    m.rest = 0x80000000u;
    REQUIRE_EQ(tern_mld_query_parse(&ip, &m, &q), TERN_OK);
    CHECK_EQ(q.max_resp_ms, 0x1000u << 3);
    /* hop limit not 1: ignored */
    ip.hop_limit = 2;
    CHECK_EQ(tern_mld_query_parse(&ip, &m, &q), TERN_E_BAD_FIELD);
}

TEST(igmp_known_answers)
{
    struct tern_igmp_repr r;
    REQUIRE_EQ(tern_igmp_parse(igmp_v2_report, sizeof igmp_v2_report, 0, &r), 8);
    CHECK_EQ(r.type, TERN_IGMP_V2_REPORT);
    CHECK_EQ(r.version, 2);
    CHECK_EQ(r.group, 0xef010203u);
    uint8_t b[64];
    REQUIRE_EQ(tern_igmp_v2_emit(TERN_IGMP_V2_REPORT, 0xef010203u, b, sizeof b), 8);
    CHECK_MEM(b, igmp_v2_report, 8);

    REQUIRE_EQ(tern_igmp_parse(igmp_v2_query, sizeof igmp_v2_query, 0, &r), 8);
    CHECK_EQ(r.version, 2);
    CHECK_EQ(r.max_resp_ms, 10000u);
    CHECK_EQ(r.group, 0u);

    REQUIRE_EQ(tern_igmp_parse(igmp_v3_query, sizeof igmp_v3_query, 0, &r), 8);
    CHECK_EQ(r.version, 3);
    CHECK_EQ(r.max_resp_ms, ((0xcu | 0x10u) << 3) * 100u); /* RFC 3376 s4.1.1 */
    CHECK_EQ(r.qrv, 2);
    CHECK_EQ(r.qqi_s, 125u);
    CHECK_EQ(r.nsources, 2);
    CHECK_EQ(tern_get32(r.sources + 4), 0x0a000002u);

    REQUIRE_EQ(tern_igmp_parse(igmp_v3_report, sizeof igmp_v3_report, 0, &r), 8);
    CHECK_EQ(r.version, 3);
    size_t pos = 0, idx = 0;
    struct tern_igmp3_record rec;
    REQUIRE_EQ(tern_igmp3_record_next(&r, &pos, &idx, &rec), 1);
    CHECK_EQ(rec.type, TERN_IGMP3_CHANGE_TO_EXCLUDE);
    CHECK_EQ(rec.group, 0xef010203u);
    REQUIRE_EQ(tern_igmp3_record_next(&r, &pos, &idx, &rec), 1);
    CHECK_EQ(rec.type, TERN_IGMP3_MODE_IS_INCLUDE);
    CHECK_EQ(rec.nsources, 1);
    CHECK_EQ(tern_get32(rec.sources), 0x0a000007u);
    CHECK_EQ(tern_igmp3_record_next(&r, &pos, &idx, &rec), 0);
    /* the emitted one-record report checks out and walks back */
    struct tern_igmp3_record one = {.type = TERN_IGMP3_CHANGE_TO_EXCLUDE, .group = 0xef010203u};
    REQUIRE_EQ(tern_igmp3_report_emit(&one, 1, b, sizeof b), 16);
    REQUIRE_EQ(tern_igmp_parse(b, 16, 0, &r), 8);
    pos = idx = 0;
    REQUIRE_EQ(tern_igmp3_record_next(&r, &pos, &idx, &rec), 1);
    CHECK_EQ(rec.group, 0xef010203u);
    CHECK_MEM(b + 8, igmp_v3_report + 8, 8); /* scapy's first record */

    /* a 10-byte query: RFC 3376 s7.1 says ignore; a bad checksum; short */
    uint8_t q[12];
    memcpy(q, igmp_v3_query, 12);
    CHECK_EQ(tern_igmp_parse(q, 10, TERN_WIRE_NO_CSUM, &r), TERN_E_BAD_LEN);
    q[4] ^= 1;
    CHECK_EQ(tern_igmp_parse(igmp_v2_report, 7, 0, &r), TERN_E_SHORT);
    memcpy(b, igmp_v2_report, 8);
    b[5] ^= 0x40;
    CHECK_EQ(tern_igmp_parse(b, 8, 0, &r), TERN_E_BAD_CSUM);
    /* a source count past the end */
    memcpy(b, igmp_v3_query, sizeof igmp_v3_query);
    tern_put16(b + 10, 3);
    CHECK_EQ(tern_igmp_parse(b, sizeof igmp_v3_query, TERN_WIRE_NO_CSUM, &r), TERN_E_BAD_LEN);
}
