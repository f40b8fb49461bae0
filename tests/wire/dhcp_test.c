/* Tests for src/wire/dhcp.c: scapy known answers both ways (DISCOVER,
 * OFFER, REQUEST, NAK), parse-only cases (unknown options and PADs, option
 * overload), and ATTACKS 47 (options past the end, missing END, bad
 * lengths, overload bounds). */
#include <stdlib.h>

#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/dhcp.h"

#include "wire/dhcp_vectors.h"

static const uint8_t mac2[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t cid[7] = {1, 2, 0, 0, 0, 0, 2};

static struct tern_dhcp_repr base(uint8_t op, uint32_t xid)
{
    struct tern_dhcp_repr r;
    memset(&r, 0, sizeof r);
    r.op = op;
    r.htype = 1;
    r.hlen = 6;
    r.xid = xid;
    memcpy(r.chaddr, mac2, 6);
    return r;
}

TEST(dhcp_parse_discover)
{
    struct tern_dhcp_repr r;
    REQUIRE_EQ(tern_dhcp_parse(discover, sizeof discover, &r), 240 + 28);
    CHECK_EQ(r.op, 1);
    CHECK_EQ(r.htype, 1);
    CHECK_EQ(r.hlen, 6);
    CHECK_EQ(r.xid, 0x12345678);
    CHECK_EQ(r.flags, TERN_DHCP_FLAG_BROADCAST);
    CHECK_MEM(r.chaddr, mac2, 6);
    CHECK_EQ(r.msg_type, TERN_DHCP_DISCOVER);
    REQUIRE_EQ(r.client_id_len, 7);
    CHECK_MEM(r.client_id, cid, 7);
    REQUIRE_EQ(r.hostname_len, 4);
    CHECK_MEM(r.hostname, "tern", 4);
    REQUIRE_EQ(r.prl_len, 7);
    CHECK_EQ(r.prl[6], 59);
    CHECK(!r.has_server_id && !r.has_req_ip && !r.has_lease);
    CHECK(r.sname == discover + 44 && r.file == discover + 108);
}

TEST(dhcp_emit_discover)
{
    struct tern_dhcp_repr r = base(1, 0x12345678);
    static const uint8_t prl[] = {1, 3, 6, 12, 51, 58, 59};
    r.flags = TERN_DHCP_FLAG_BROADCAST;
    r.msg_type = TERN_DHCP_DISCOVER;
    r.client_id = cid;
    r.client_id_len = 7;
    r.hostname = (const uint8_t *)"tern";
    r.hostname_len = 4;
    r.prl = prl;
    r.prl_len = sizeof prl;
    uint8_t buf[600];
    REQUIRE_EQ(tern_dhcp_emit(&r, buf, sizeof buf), 300);
    CHECK_MEM(buf, discover, 300);
    CHECK_EQ(tern_dhcp_emit(&r, buf, 299), TERN_E_NOSPC);
    CHECK_EQ(tern_dhcp_emit(&r, buf, 200), TERN_E_NOSPC);
}

TEST(dhcp_offer_both_ways)
{
    struct tern_dhcp_repr r;
    REQUIRE_EQ(tern_dhcp_parse(offer, sizeof offer, &r), 240 + 50);
    CHECK_EQ(r.op, 2);
    CHECK_EQ(r.msg_type, TERN_DHCP_OFFER);
    CHECK_EQ(r.yiaddr, 0x0a000032);
    CHECK_EQ(r.siaddr, 0x0a000001);
    CHECK(r.has_server_id && r.server_id == 0x0a000001);
    CHECK(r.has_lease && r.lease_s == 3600);
    CHECK(r.has_t1 && r.t1_s == 1800);
    CHECK(r.has_t2 && r.t2_s == 3150);
    CHECK(r.has_mask && r.mask == 0xffffff00);
    REQUIRE_EQ(r.n_routers, 1);
    CHECK_EQ(r.routers[0], 0x0a000001);
    REQUIRE_EQ(r.n_dns, 2);
    CHECK_EQ(r.dns[0], 0x0a000001);
    CHECK_EQ(r.dns[1], 0x0a000002);
    /* and back: emit from a fresh repr */
    struct tern_dhcp_repr e = base(2, 0x12345678);
    e.flags = TERN_DHCP_FLAG_BROADCAST;
    e.yiaddr = 0x0a000032;
    e.siaddr = 0x0a000001;
    e.msg_type = TERN_DHCP_OFFER;
    e.has_server_id = e.has_lease = e.has_t1 = e.has_t2 = e.has_mask = true;
    e.server_id = 0x0a000001;
    e.lease_s = 3600;
    e.t1_s = 1800;
    e.t2_s = 3150;
    e.mask = 0xffffff00;
    e.n_routers = 1;
    e.routers[0] = 0x0a000001;
    e.n_dns = 2;
    e.dns[0] = 0x0a000001;
    e.dns[1] = 0x0a000002;
    uint8_t buf[576];
    REQUIRE_EQ(tern_dhcp_emit(&e, buf, sizeof buf), 300);
    CHECK_MEM(buf, offer, 300);
}

TEST(dhcp_request_both_ways)
{
    struct tern_dhcp_repr r;
    REQUIRE(tern_dhcp_parse(request, sizeof request, &r) > 0);
    CHECK_EQ(r.msg_type, TERN_DHCP_REQUEST);
    CHECK_EQ(r.secs, 3);
    CHECK(r.has_req_ip && r.req_ip == 0x0a000032);
    CHECK(r.has_server_id && r.server_id == 0x0a000001);
    uint8_t buf[576];
    REQUIRE_EQ(tern_dhcp_emit(&r, buf, sizeof buf), 300); /* parsed repr re-emits */
    CHECK_MEM(buf, request, 300);
}

TEST(dhcp_nak_both_ways)
{
    struct tern_dhcp_repr r;
    REQUIRE(tern_dhcp_parse(nak, sizeof nak, &r) > 0);
    CHECK_EQ(r.msg_type, TERN_DHCP_NAK);
    CHECK_EQ(r.xid, 0xcafe0001);
    REQUIRE_EQ(r.message_len, 13);
    CHECK_MEM(r.message, "wrong address", 13);
    struct tern_dhcp_repr e = base(2, 0xcafe0001);
    e.msg_type = TERN_DHCP_NAK;
    e.has_server_id = true;
    e.server_id = 0x0a000001;
    e.message = (const uint8_t *)"wrong address";
    e.message_len = 13;
    uint8_t buf[400];
    REQUIRE_EQ(tern_dhcp_emit(&e, buf, sizeof buf), 300);
    CHECK_MEM(buf, nak, 300);
}

TEST(dhcp_parse_unknown_options_and_pads)
{
    struct tern_dhcp_repr r;
    REQUIRE_EQ(tern_dhcp_parse(ack_unknown_opts, sizeof ack_unknown_opts, &r), 272);
    CHECK_EQ(r.msg_type, TERN_DHCP_ACK);
    CHECK_EQ(r.ciaddr, 0x0a000032);
    CHECK(r.has_server_id && r.server_id == 0x0a000001);
    CHECK(r.has_lease && r.lease_s == 60);
    CHECK(!r.has_mask && r.n_routers == 0);
}

TEST(dhcp_parse_overload_file_and_sname)
{
    /* RFC 2131 s4.1 / RFC 2132 s9.3: option 52 = 3, file carries the server
     * id, sname the lease time. */
    struct tern_dhcp_repr r;
    REQUIRE(tern_dhcp_parse(overload, sizeof overload, &r) > 0);
    CHECK_EQ(r.overload, 3);
    CHECK_EQ(r.msg_type, TERN_DHCP_OFFER);
    CHECK(r.has_server_id && r.server_id == 0x0a000001);
    CHECK(r.has_lease && r.lease_s == 120);
    CHECK(r.sname == NULL && r.file == NULL);
}

TEST(dhcp_header_errors)
{
    struct tern_dhcp_repr r;
    uint8_t m[300];
    CHECK_EQ(tern_dhcp_parse(offer, 239, &r), TERN_E_SHORT);
    CHECK_EQ(tern_dhcp_parse(offer, 0, &r), TERN_E_SHORT);
    memcpy(m, offer, 300);
    m[236] = 0; /* no magic cookie: BOOTP without vendor extensions */
    CHECK_EQ(tern_dhcp_parse(m, 300, &r), TERN_E_BAD_VERSION);
    memcpy(m, offer, 300);
    m[0] = 3;
    CHECK_EQ(tern_dhcp_parse(m, 300, &r), TERN_E_BAD_FIELD);
    memcpy(m, offer, 300);
    m[2] = 17; /* hlen > 16 would run past chaddr */
    CHECK_EQ(tern_dhcp_parse(m, 300, &r), TERN_E_BAD_FIELD);
    CHECK_STR(tern_dhcp_type_name(TERN_DHCP_ACK), "ACK");
    CHECK_STR(tern_dhcp_type_name(200), "?");
}

/* Copies offer's fixed part and cookie, then the given option bytes. */
static size_t with_opts(uint8_t *m, const uint8_t *opts, size_t n)
{
    memcpy(m, offer, 240);
    memcpy(m + 240, opts, n);
    return 240 + n;
}

TEST(attack_47_option_past_end)
{
    struct tern_dhcp_repr r;
    uint8_t m[600];
    /* the DISCOVER cut inside its client id option (7 bytes announced) */
    CHECK_EQ(tern_dhcp_parse(discover, 248, &r), TERN_E_BAD_OPT);
    /* a length byte that is itself missing */
    static const uint8_t o1[] = {53, 1, 2, 54};
    CHECK_EQ(tern_dhcp_parse(m, with_opts(m, o1, sizeof o1), &r), TERN_E_BAD_OPT);
    /* length 255 with 10 bytes left */
    static const uint8_t o2[] = {53, 1, 2, 12, 255, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 255};
    CHECK_EQ(tern_dhcp_parse(m, with_opts(m, o2, sizeof o2), &r), TERN_E_BAD_OPT);
    /* an unknown option running past the end */
    static const uint8_t o3[] = {53, 1, 2, 200, 20, 0, 0, 255};
    CHECK_EQ(tern_dhcp_parse(m, with_opts(m, o3, sizeof o3), &r), TERN_E_BAD_OPT);
}

TEST(attack_47_missing_end)
{
    struct tern_dhcp_repr r;
    uint8_t m[600];
    static const uint8_t o1[] = {53, 1, 2, 54, 4, 10, 0, 0, 1};
    CHECK_EQ(tern_dhcp_parse(m, with_opts(m, o1, sizeof o1), &r), TERN_E_BAD_OPT);
    /* only PADs after the options: still no END */
    uint8_t o2[40] = {53, 1, 2};
    CHECK_EQ(tern_dhcp_parse(m, with_opts(m, o2, sizeof o2), &r), TERN_E_BAD_OPT);
    /* no options at all (240 bytes) */
    CHECK_EQ(tern_dhcp_parse(offer, 240, &r), TERN_E_BAD_OPT);
    /* bytes after END are ignored (padding, junk) */
    static const uint8_t o3[] = {53, 1, 5, 255, 77, 99};
    CHECK_EQ(tern_dhcp_parse(m, with_opts(m, o3, sizeof o3), &r), 244);
    CHECK_EQ(r.msg_type, TERN_DHCP_ACK);
}

TEST(attack_47_bad_option_lengths)
{
    struct tern_dhcp_repr r;
    uint8_t m[600];
    static const uint8_t bad[][8] = {
        {53, 2, 1, 1, 255},          /* message type of 2 bytes */
        {53, 1, 0, 255},             /* message type 0 */
        {53, 1, 9, 255},             /* message type 9 */
        {1, 3, 255, 255, 255, 255},  /* mask of 3 bytes */
        {51, 5, 0, 0, 0, 1, 0, 255}, /* lease of 5 bytes */
        {3, 6, 10, 0, 0, 1, 0, 0},   /* router list not a multiple of 4 */
        {6, 0, 255},                 /* empty DNS list */
        {61, 1, 1, 255},             /* client id of 1 byte (minimum 2) */
        {12, 0, 255},                /* empty host name */
        {52, 1, 4, 255},             /* overload 4 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 2 + (size_t)bad[i][1] + 1;
        if (n > 8)
            n = 8;
        int got = tern_dhcp_parse(m, with_opts(m, bad[i], n), &r);
        if (got != TERN_E_BAD_OPT)
            test_fail(__FILE__, __LINE__, "case %zu: %d", i, got);
    }
    /* a list longer than we keep: the first TERN_DHCP_MAX_ADDRS are kept */
    uint8_t o[2 + 24 + 1] = {6, 24};
    for (int i = 0; i < 6; i++)
        tern_put32(o + 2 + 4 * i, 0x0a000001u + (uint32_t)i);
    o[26] = 255;
    REQUIRE(tern_dhcp_parse(m, with_opts(m, o, sizeof o), &r) > 0);
    CHECK_EQ(r.n_dns, TERN_DHCP_MAX_ADDRS);
    CHECK_EQ(r.dns[3], 0x0a000004);
    /* a repeated option keeps its first value */
    static const uint8_t rep[] = {53, 1, 2, 51, 4, 0, 0, 0, 10, 51, 4, 0, 0, 0, 20, 53, 1, 6, 255};
    REQUIRE(tern_dhcp_parse(m, with_opts(m, rep, sizeof rep), &r) > 0);
    CHECK_EQ(r.lease_s, 10);
    CHECK_EQ(r.msg_type, TERN_DHCP_OFFER);
}

TEST(attack_47_overload_bounded)
{
    struct tern_dhcp_repr r;
    uint8_t m[300];
    /* overload says "file", but file has no END: rejected */
    memcpy(m, overload, sizeof overload);
    memset(m + 108, 0, 128); /* all PAD, no END */
    CHECK_EQ(tern_dhcp_parse(m, sizeof overload, &r), TERN_E_BAD_OPT);
    /* an option in file running past file's 128 bytes (into sname) */
    memcpy(m, overload, sizeof overload);
    memset(m + 108, 0, 128);
    m[108 + 126] = 12;
    m[108 + 127] = 10;
    CHECK_EQ(tern_dhcp_parse(m, sizeof overload, &r), TERN_E_BAD_OPT);
    /* an overload option inside file is ignored: sname (overload 1 only) is
     * not walked, though it holds garbage */
    static const uint8_t o[] = {53, 1, 2, 52, 1, 1, 255};
    memcpy(m, overload, 240);
    memcpy(m + 240, o, sizeof o);
    memset(m + 44, 0xee, 64);
    memset(m + 108, 0, 128);
    static const uint8_t f[] = {52, 1, 3, 54, 4, 10, 0, 0, 9, 255};
    memcpy(m + 108, f, sizeof f);
    REQUIRE(tern_dhcp_parse(m, 240 + sizeof o, &r) > 0);
    CHECK_EQ(r.overload, 1);
    CHECK_EQ(r.server_id, 0x0a000009);
    CHECK(r.file == NULL && r.sname == m + 44);
    /* the options field's value wins over one in file (first occurrence) */
    static const uint8_t o2[] = {53, 1, 2, 54, 4, 10, 0, 0, 1, 52, 1, 1, 255};
    memcpy(m + 240, o2, sizeof o2);
    REQUIRE(tern_dhcp_parse(m, 240 + sizeof o2, &r) > 0);
    CHECK_EQ(r.server_id, 0x0a000001);
}

TEST(dhcp_emit_invalid)
{
    struct tern_dhcp_repr r = base(1, 1);
    uint8_t buf[600];
    r.hlen = 17;
    CHECK_EQ(tern_dhcp_emit(&r, buf, sizeof buf), TERN_E_INVAL);
    r.hlen = 6;
    r.n_dns = TERN_DHCP_MAX_ADDRS + 1;
    CHECK_EQ(tern_dhcp_emit(&r, buf, sizeof buf), TERN_E_INVAL);
    r.n_dns = 0;
    r.client_id = cid;
    r.client_id_len = 1;
    CHECK_EQ(tern_dhcp_emit(&r, buf, sizeof buf), TERN_E_INVAL);
}

TEST(dhcp_round_trip_random)
{
    /* random reprs re-parse to the same fields */
    for (int it = 0; it < 200; it++) {
        struct tern_dhcp_repr r = base((uint8_t)(1 + it % 2), (uint32_t)test_rand());
        uint8_t host[64];
        r.msg_type = (uint8_t)(1 + it % 8);
        r.yiaddr = (uint32_t)test_rand();
        r.has_lease = it & 1;
        r.lease_s = (uint32_t)test_rand();
        r.has_mask = it & 2;
        r.mask = 0xffff0000;
        r.n_routers = (uint8_t)(it % (TERN_DHCP_MAX_ADDRS + 1));
        for (int i = 0; i < r.n_routers; i++)
            r.routers[i] = (uint32_t)test_rand();
        r.hostname_len = (uint8_t)(it % 64);
        for (int i = 0; i < r.hostname_len; i++)
            host[i] = (uint8_t)('a' + i % 26);
        r.hostname = host;
        uint8_t buf[576];
        int n = tern_dhcp_emit(&r, buf, sizeof buf);
        REQUIRE(n >= 300);
        struct tern_dhcp_repr p;
        REQUIRE(tern_dhcp_parse(buf, (size_t)n, &p) > 0);
        CHECK_EQ(p.xid, r.xid);
        CHECK_EQ(p.msg_type, r.msg_type);
        CHECK_EQ(p.yiaddr, r.yiaddr);
        CHECK_EQ(p.has_lease, r.has_lease);
        CHECK_EQ(p.has_mask, r.has_mask);
        CHECK_EQ(p.n_routers, r.n_routers);
        for (int i = 0; i < r.n_routers; i++)
            CHECK_EQ(p.routers[i], r.routers[i]);
        CHECK_EQ(p.hostname_len, r.hostname_len);
        if (r.hostname_len)
            CHECK_MEM(p.hostname, host, r.hostname_len);
    }
}
