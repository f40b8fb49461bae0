/*
 * Tests for src/wire/tcp_opts.c: the raw option iterator, the parser
 * (ATTACKS 24, 25, 26) and the emitter's Linux layout. Layout byte arrays
 * come from scapy (expression above each) and from Linux loopback captures.
 */
#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/tcp.h"

static struct tern_tcp_opts parse_opts(const uint8_t *b, size_t len)
{
    struct tern_tcp_opts o;
    memset(&o, 0xa5, sizeof o); /* parse must initialise everything */
    tern_tcp_opts_parse(b, len, &o);
    return o;
}

static void emit_is_(const char *file, int line, const struct tern_tcp_opts *o,
                     const uint8_t *want, size_t wlen)
{
    uint8_t out[48];
    memset(out, 0xee, sizeof out);
    int n = tern_tcp_opts_emit(o, out, sizeof out);
    if (n != (int)wlen) {
        test_fail(file, line, "emit returned %d, want %zu", n, wlen);
        return;
    }
    if (memcmp(out, want, wlen) != 0) {
        char ha[200], hb[200];
        test_hex(out, wlen, ha, sizeof ha);
        test_hex(want, wlen, hb, sizeof hb);
        test_fail(file, line, "emit:\n    %s\n != %s", ha, hb);
    }
    if (out[wlen] != 0xee)
        test_fail(file, line, "wrote past the returned length");
    /* Exactly wlen bytes of room is enough; one less is not. */
    if (tern_tcp_opts_emit(o, out, wlen) != (int)wlen)
        test_fail(file, line, "emit with cap == len failed");
    if (wlen && tern_tcp_opts_emit(o, out, wlen - 1) != TERN_E_NOSPC)
        test_fail(file, line, "emit with cap == len-1 did not fail");
}
#define EMIT_IS(o, want) emit_is_(__FILE__, __LINE__, o, want, sizeof(want))

/* ---- iterator --------------------------------------------------------- */

TEST(tcp_opt_next_walks_nop_eol_and_options)
{
    /* NOP, MSS 1460, unknown kind 99 len 2, NOP, EOL, garbage after EOL. */
    const uint8_t b[] = {1, 2, 4, 0x05, 0xb4, 99, 2, 1, 0, 0xff, 0x00, 0x01};
    size_t pos = 0;
    struct tern_tcp_opt o;
    REQUIRE_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 1);
    CHECK_EQ(o.kind, 1);
    CHECK_EQ(o.len, 1);
    CHECK(o.data == NULL);
    CHECK_EQ(pos, 1);
    REQUIRE_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 1);
    CHECK_EQ(o.kind, 2);
    CHECK_EQ(o.len, 4);
    CHECK(o.data == b + 3);
    CHECK_EQ(pos, 5);
    REQUIRE_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 1);
    CHECK_EQ(o.kind, 99);
    CHECK_EQ(o.len, 2);
    CHECK_EQ(pos, 7);
    REQUIRE_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 1);
    CHECK_EQ(o.kind, 1);
    CHECK_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 0); /* EOL */
    CHECK_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 0); /* still EOL */
}

TEST(tcp_opt_next_empty_and_exact_end)
{
    size_t pos = 0;
    struct tern_tcp_opt o;
    CHECK_EQ(tern_tcp_opt_next(NULL, 0, &pos, &o), 0);
    const uint8_t b[] = {8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
    REQUIRE_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 1);
    CHECK_EQ(pos, 10);
    CHECK_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 0);
    pos = 99; /* a position past the end is simply the end */
    CHECK_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 0);
}

/* ---- ATTACKS 24: length 0 or 1, length byte missing, running past ---- */

TEST(attack_24_unknown_kind_length_0_or_1_stops_walk)
{
    for (uint8_t l = 0; l < 2; l++) {
        /* NOP, kind 99 len l, then a valid MSS that must not be reached. */
        const uint8_t b[] = {1, 99, l, 2, 4, 0x05, 0xb4, 0};
        size_t pos = 0;
        struct tern_tcp_opt o;
        CHECK_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 1);
        CHECK_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), TERN_E_BAD_OPT);
        /* The walk is over: a caller that keeps calling sees the end. */
        CHECK_EQ(pos, sizeof b);
        CHECK_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 0);
        struct tern_tcp_opts p = parse_opts(b, sizeof b);
        CHECK(!p.has_mss);
    }
}

TEST(attack_24_known_kind_length_0_or_1_stops_walk)
{
    const uint8_t kinds[] = {2, 3, 4, 5, 8};
    for (size_t k = 0; k < sizeof kinds; k++)
        for (uint8_t l = 0; l < 2; l++) {
            /* WS 7 before the bad option is kept; TS after it is not. */
            const uint8_t b[] = {1, 3, 3, 7, kinds[k], l, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
            struct tern_tcp_opts p = parse_opts(b, sizeof b);
            CHECK(p.has_wscale);
            CHECK_EQ(p.wscale, 7);
            CHECK(!p.has_ts);
            CHECK(!p.has_mss && !p.sack_perm && p.sack_count == 0);
        }
}

TEST(attack_24_length_byte_missing)
{
    /* The last byte is a kind that needs a length octet. */
    const uint8_t b[] = {1, 1, 1, 2};
    size_t pos = 0;
    struct tern_tcp_opt o;
    for (int i = 0; i < 3; i++)
        CHECK_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), 1);
    CHECK_EQ(tern_tcp_opt_next(b, sizeof b, &pos, &o), TERN_E_BAD_OPT);
    struct tern_tcp_opts p = parse_opts(b, sizeof b);
    CHECK(!p.has_mss);
}

TEST(attack_24_length_running_past_end)
{
    /* TS claiming 10 bytes with 9 present; SACK claiming 34 with 10. */
    const uint8_t ts[] = {1, 8, 10, 0, 0, 0, 1, 0, 0, 0};
    const uint8_t sack[] = {1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2};
    size_t pos = 1;
    struct tern_tcp_opt o;
    CHECK_EQ(tern_tcp_opt_next(ts, sizeof ts, &pos, &o), TERN_E_BAD_OPT);
    CHECK(!parse_opts(ts, sizeof ts).has_ts);
    CHECK_EQ(parse_opts(sack, sizeof sack).sack_count, 0);
    /* Length 255 on a 40-byte option area. */
    uint8_t big[40] = {2, 4, 0x05, 0xb4, 200, 255};
    struct tern_tcp_opts p = parse_opts(big, sizeof big);
    CHECK(p.has_mss); /* before the bad option: kept */
    CHECK_EQ(p.mss, 1460);
}

TEST(attack_24_every_kind_and_length_terminates)
{
    /* Exhaustive: every kind and length byte at every position of a
     * 40-byte area filled with that pair. Each step must advance, and the
     * walk must end within 40 steps (ATTACKS G2). */
    uint8_t b[40];
    for (unsigned kind = 0; kind < 256; kind++)
        for (unsigned len = 0; len < 256; len++) {
            for (size_t i = 0; i < sizeof b; i += 2)
                b[i] = (uint8_t)kind, b[i + 1] = (uint8_t)len;
            size_t pos = 0, steps = 0;
            struct tern_tcp_opt o;
            int r;
            while ((r = tern_tcp_opt_next(b, sizeof b, &pos, &o)) == 1) {
                size_t before = pos - o.len;
                if (o.len < 1 || pos > sizeof b || (o.kind != 1 && o.len < 2) ||
                    (o.kind != 1 && o.data != b + before + 2))
                    test_fail(__FILE__, __LINE__, "kind %u len %u: bad step", kind, len);
                if (++steps > sizeof b) {
                    test_fail(__FILE__, __LINE__, "kind %u len %u: no progress", kind, len);
                    return;
                }
            }
            if (r != 0 && r != TERN_E_BAD_OPT)
                test_fail(__FILE__, __LINE__, "kind %u len %u: returned %d", kind, len, r);
            struct tern_tcp_opts p = parse_opts(b, sizeof b); /* must not hang */
            CHECK(p.sack_count <= TERN_TCP_SACK_MAX);
            if (test_failed_now())
                return;
        }
}

TEST(attack_24_malformed_options_do_not_fail_segment_parse)
{
    /* A whole segment whose option area holds an unknown kind with length
     * 0: the segment parses (options are advisory), the walk stopped. */
    uint8_t seg[28] = {0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x70, 0x02, 0xfa, 0xf0,
                       0,    0,    0,    0,    2, 4, 5, 0xb4, 99, 0, 3, 3};
    uint32_t s = tern_csum_pseudo_ipv4(0x0a000001, 0x0a000002, 6, sizeof seg);
    tern_put16(seg + 16, tern_csum_fold(tern_csum_add(s, seg, sizeof seg)));
    struct tern_tcp_repr r;
    REQUIRE_EQ(tern_tcp_parse(seg, sizeof seg, 0x0a000001, 0x0a000002, 0, &r), 28);
    CHECK(r.opts.has_mss);
    CHECK(!r.opts.has_wscale);
    CHECK_EQ(r.raw_opts_len, 8);
    CHECK_EQ(r.payload_len, 0);
}

/* ---- ATTACKS 25: wrong lengths -> that option ignored ----------------- */

TEST(attack_25_mss_wrong_length_ignored)
{
    /* MSS len 3 and len 5 (and 6), each followed by a valid WS. */
    const uint8_t l3[] = {2, 3, 0x05, 1, 3, 3, 2};
    const uint8_t l5[] = {2, 5, 0x05, 0xb4, 0, 1, 3, 3, 2};
    const uint8_t l6[] = {2, 6, 0x05, 0xb4, 0, 0, 1, 3, 3, 2};
    struct tern_tcp_opts p = parse_opts(l3, sizeof l3);
    CHECK(!p.has_mss && p.has_wscale && p.wscale == 2);
    p = parse_opts(l5, sizeof l5);
    CHECK(!p.has_mss && p.has_wscale && p.wscale == 2);
    p = parse_opts(l6, sizeof l6);
    CHECK(!p.has_mss && p.has_wscale && p.wscale == 2);
}

TEST(attack_25_wscale_wrong_length_ignored)
{
    const uint8_t l2[] = {3, 2, 2, 4, 5, 0xb4};
    const uint8_t l4[] = {3, 4, 7, 0, 2, 4, 5, 0xb4};
    struct tern_tcp_opts p = parse_opts(l2, sizeof l2);
    CHECK(!p.has_wscale && p.has_mss && p.mss == 1460);
    p = parse_opts(l4, sizeof l4);
    CHECK(!p.has_wscale && p.has_mss && p.mss == 1460);
}

TEST(attack_25_ts_wrong_length_ignored)
{
    const uint8_t l8[] = {8, 8, 0, 0, 0, 1, 0, 0, 4, 2};
    const uint8_t l12[] = {8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 4, 2};
    struct tern_tcp_opts p = parse_opts(l8, sizeof l8);
    CHECK(!p.has_ts && p.sack_perm);
    p = parse_opts(l12, sizeof l12);
    CHECK(!p.has_ts && p.sack_perm);
}

TEST(attack_25_sack_perm_wrong_length_ignored)
{
    const uint8_t l3[] = {4, 3, 0, 1, 1, 1};
    const uint8_t l4[] = {4, 4, 0, 0};
    CHECK(!parse_opts(l3, sizeof l3).sack_perm);
    CHECK(!parse_opts(l4, sizeof l4).sack_perm);
}

TEST(attack_25_sack_wrong_length_ignored)
{
    /* n = 0 (len 2), not 2+8n (len 9, 17), n = 5 (len 42). */
    const uint8_t l2[] = {5, 2, 2, 4, 5, 0xb4};
    uint8_t l9[] = {5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 1};
    uint8_t l17[19] = {5, 17};
    uint8_t l42[44] = {5, 42};
    for (size_t i = 2; i < 42; i += 8) {
        tern_put32(l42 + i, (uint32_t)i);
        tern_put32(l42 + i + 4, (uint32_t)i + 4);
    }
    l17[17] = 1, l17[18] = 1;
    struct tern_tcp_opts p = parse_opts(l2, sizeof l2);
    CHECK(p.sack_count == 0 && p.has_mss);
    p = parse_opts(l9, sizeof l9);
    CHECK_EQ(p.sack_count, 0);
    p = parse_opts(l17, sizeof l17);
    CHECK_EQ(p.sack_count, 0);
    p = parse_opts(l42, sizeof l42);
    CHECK_EQ(p.sack_count, 0);
    /* 4 blocks (len 34) is the maximum and is accepted. */
    l42[1] = 34;
    p = parse_opts(l42, 34);
    CHECK_EQ(p.sack_count, 4);
    CHECK_EQ(p.sack[3].left, 26);
    CHECK_EQ(p.sack[3].right, 30);
}

TEST(attack_25_sack_blocks_stored_raw)
{
    /* left >= right and wrapped blocks are the TCP layer's to judge
     * (ATTACKS 34); the codec reports them as they came. */
    const uint8_t b[] = {1, 1, 5, 18, 0, 0, 0, 9, 0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1};
    struct tern_tcp_opts p = parse_opts(b, sizeof b);
    REQUIRE_EQ(p.sack_count, 2);
    CHECK_EQ(p.sack[0].left, 9);
    CHECK_EQ(p.sack[0].right, 9);
    CHECK_EQ(p.sack[1].left, 0xffffffffu);
    CHECK_EQ(p.sack[1].right, 1);
}

TEST(attack_25_option_past_header_ignored_in_segment)
{
    /* Through tern_tcp_parse: the option area ends (data offset) in the
     * middle of a TS option whose remaining bytes are payload. The TS must
     * not be read from the payload. */
    uint8_t seg[32] = {0, 80, 0x9c, 0x40, 0, 0, 0, 1, 0, 0, 0, 2, 0x60, 0x10, 0x01, 0x00,
                       0, 0,  0,    0,    1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
    uint32_t s = tern_csum_pseudo_ipv4(1, 2, 6, sizeof seg);
    tern_put16(seg + 16, tern_csum_fold(tern_csum_add(s, seg, sizeof seg)));
    struct tern_tcp_repr r;
    REQUIRE_EQ(tern_tcp_parse(seg, sizeof seg, 1, 2, 0, &r), 24);
    CHECK(!r.opts.has_ts);
    CHECK_EQ(r.payload_len, 8);
}

TEST(attack_25_last_duplicate_wins)
{
    /* Two MSS options: the later one counts (Linux does the same). */
    const uint8_t b[] = {2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18};
    struct tern_tcp_opts p = parse_opts(b, sizeof b);
    CHECK_EQ(p.mss, 536);
}

/* ---- ATTACKS 26: clamps ------------------------------------------------ */

TEST(attack_26_mss_clamped_to_floor)
{
    const uint16_t in[] = {0, 1, 48, 87, 88, 89, 536, 1460, 65535};
    const uint16_t out[] = {88, 88, 88, 88, 88, 89, 536, 1460, 65535};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        uint8_t b[4] = {2, 4};
        tern_put16(b + 2, in[i]);
        struct tern_tcp_opts p = parse_opts(b, sizeof b);
        CHECK(p.has_mss);
        CHECK_EQ(p.mss, out[i]);
    }
}

TEST(attack_26_wscale_clamped_to_14)
{
    for (unsigned ws = 0; ws < 256; ws++) {
        const uint8_t b[] = {1, 3, 3, (uint8_t)ws};
        struct tern_tcp_opts p = parse_opts(b, sizeof b);
        CHECK(p.has_wscale);
        CHECK_EQ(p.wscale, ws > 14 ? 14 : ws);
    }
}

TEST(attack_26_clamps_apply_in_segment_parse)
{
    /* scapy: raw(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=1,dport=2,seq=3,flags="S",
     *   window=100,options=[("MSS",48),("NOP",None),("WScale",15)]))[20:] */
    const uint8_t seg[] = {0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
                           0x00, 0x00, 0x70, 0x02, 0x00, 0x64, 0x75, 0x28, 0x00, 0x00,
                           0x02, 0x04, 0x00, 0x30, 0x01, 0x03, 0x03, 0x0f};
    struct tern_tcp_repr r;
    REQUIRE_EQ(tern_tcp_parse(seg, sizeof seg, 0x0a000001, 0x0a000002, 0, &r), 28);
    CHECK(r.opts.has_mss && r.opts.mss == 88);
    CHECK(r.opts.has_wscale && r.opts.wscale == 14);
}

/* ---- emit layout ------------------------------------------------------- */

TEST(tcp_opts_emit_syn_linux_layout)
{
    /* scapy: raw(TCP(options=[("MSS",1460),("SAckOK",b""),("Timestamp",(123456,0)),
     *   ("NOP",None),("WScale",7)]))[20:] */
    static const uint8_t want[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01,
                                   0xe2, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
    struct tern_tcp_opts o = {.has_mss = true, .mss = 1460, .sack_perm = true, .has_ts = true,
                              .ts_val = 123456, .has_wscale = true, .wscale = 7};
    EMIT_IS(&o, want);
    struct tern_tcp_opts p = parse_opts(want, sizeof want);
    CHECK(p.has_mss && p.mss == 1460 && p.sack_perm && p.has_ts && p.ts_val == 123456 &&
          p.ts_ecr == 0 && p.has_wscale && p.wscale == 7 && p.sack_count == 0);
}

TEST(tcp_opts_emit_matches_linux_capture)
{
    /* Linux 6.18 loopback SYN, tcpdump -X: "options [mss 65495,sackOK,
     * TS val 1122739077 ecr 0,nop,wscale 10]" */
    static const uint8_t syn[] = {0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0x42, 0xeb,
                                  0xa3, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a};
    struct tern_tcp_opts o = {.has_mss = true, .mss = 65495, .sack_perm = true, .has_ts = true,
                              .ts_val = 1122739077, .has_wscale = true, .wscale = 10};
    EMIT_IS(&o, syn);
    /* Same, net.ipv4.tcp_timestamps=0 (in a netns): "options [mss 65495,
     * nop,nop,sackOK,nop,wscale 10]" */
    static const uint8_t syn_nots[] = {0x02, 0x04, 0xff, 0xd7, 0x01, 0x01, 0x04, 0x02,
                                       0x01, 0x03, 0x03, 0x0a};
    o.has_ts = false;
    EMIT_IS(&o, syn_nots);
    /* ACK with TS and one SACK block: "options [nop,nop,TS val 4013603692
     * ecr 2717042938,nop,nop,sack 1 {2890047:2955530}]" (relative seqs;
     * the raw block is aba34024:aba43fef). */
    static const uint8_t ack_sack[] = {0x01, 0x01, 0x08, 0x0a, 0xef, 0x3a, 0xbb, 0x6c,
                                       0xa1, 0xf2, 0xc8, 0xfa, 0x01, 0x01, 0x05, 0x0a,
                                       0xab, 0xa3, 0x40, 0x24, 0xab, 0xa4, 0x3f, 0xef};
    struct tern_tcp_opts a = {.has_ts = true, .ts_val = 4013603692u, .ts_ecr = 2717042938u,
                              .sack_count = 1, .sack = {{0xaba34024, 0xaba43fef}}};
    EMIT_IS(&a, ack_sack);
    /* Without timestamps: "options [nop,nop,sack 1 {...}]" */
    static const uint8_t sack_only[] = {0x01, 0x01, 0x05, 0x0a, 0xc2, 0xf3, 0x9f, 0xe3,
                                        0xc2, 0xf5, 0x9f, 0x91};
    struct tern_tcp_opts s = {.sack_count = 1, .sack = {{0xc2f39fe3, 0xc2f59f91}}};
    EMIT_IS(&s, sack_only);
}

TEST(tcp_opts_emit_single_options)
{
    /* scapy: raw(TCP(options=[("NOP",None),("NOP",None),("Timestamp",(1,2))]))[20:] */
    static const uint8_t ts[] = {0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01,
                                 0x00, 0x00, 0x00, 0x02};
    struct tern_tcp_opts o = {.has_ts = true, .ts_val = 1, .ts_ecr = 2};
    EMIT_IS(&o, ts);
    /* scapy: raw(TCP(options=[("NOP",None),("NOP",None),("SAckOK",b"")]))[20:] */
    static const uint8_t sp[] = {0x01, 0x01, 0x04, 0x02};
    struct tern_tcp_opts o2 = {.sack_perm = true};
    EMIT_IS(&o2, sp);
    /* scapy: raw(TCP(options=[("NOP",None),("WScale",3)]))[20:] */
    static const uint8_t ws[] = {0x01, 0x03, 0x03, 0x03};
    struct tern_tcp_opts o3 = {.has_wscale = true, .wscale = 3};
    EMIT_IS(&o3, ws);
    /* scapy: raw(TCP(options=[("MSS",536)]))[20:] */
    static const uint8_t mss[] = {0x02, 0x04, 0x02, 0x18};
    struct tern_tcp_opts o4 = {.has_mss = true, .mss = 536};
    EMIT_IS(&o4, mss);
    struct tern_tcp_opts none = {0};
    uint8_t out[4];
    CHECK_EQ(tern_tcp_opts_emit(&none, out, 0), 0);
}

TEST(tcp_opts_emit_sack_4_blocks_and_limits)
{
    /* scapy: raw(TCP(options=[("NOP",None),("NOP",None),("SAck",(1,2,3,4,5,6,7,8))]))[20:] */
    static const uint8_t s4[] = {0x01, 0x01, 0x05, 0x22, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                                 0,    0,    0,    4,    0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7,
                                 0,    0,    0,    8};
    struct tern_tcp_opts o = {.sack_count = 4, .sack = {{1, 2}, {3, 4}, {5, 6}, {7, 8}}};
    EMIT_IS(&o, s4);
    uint8_t out[64];
    o.sack_count = 5; /* never fits */
    CHECK_EQ(tern_tcp_opts_emit(&o, out, sizeof out), TERN_E_NOSPC);
    o.sack_count = 255;
    CHECK_EQ(tern_tcp_opts_emit(&o, out, sizeof out), TERN_E_NOSPC);
    /* TS + 3 blocks = 40 exactly; + MSS = 44 -> NOSPC. */
    o.sack_count = 3;
    o.has_ts = true;
    CHECK_EQ(tern_tcp_opts_emit(&o, out, sizeof out), 40);
    o.has_mss = true;
    CHECK_EQ(tern_tcp_opts_emit(&o, out, sizeof out), TERN_E_NOSPC);
}

TEST(tcp_opts_roundtrip_all_combinations)
{
    /* Every combination of options: emit, then parse back the same. */
    for (unsigned m = 0; m < 16 * 5; m++) {
        struct tern_tcp_opts o = {.has_mss = m & 1, .mss = 1200, .has_wscale = (m >> 1) & 1,
                                  .wscale = 5, .sack_perm = (m >> 2) & 1,
                                  .has_ts = (m >> 3) & 1, .ts_val = 0xdeadbeef,
                                  .ts_ecr = 0x01020304, .sack_count = (uint8_t)(m / 16),
                                  .sack = {{1, 2}, {3, 4}, {5, 6}, {7, 8}}};
        uint8_t out[40];
        int n = tern_tcp_opts_emit(&o, out, sizeof out);
        if (n == TERN_E_NOSPC)
            continue;
        REQUIRE(n >= 0 && n <= 40 && n % 4 == 0);
        struct tern_tcp_opts p = parse_opts(out, (size_t)n);
        CHECK_EQ(p.has_mss, o.has_mss);
        CHECK_EQ(p.has_wscale, o.has_wscale);
        CHECK_EQ(p.sack_perm, o.sack_perm);
        CHECK_EQ(p.has_ts, o.has_ts);
        CHECK_EQ(p.sack_count, o.sack_count);
        if (o.has_mss)
            CHECK_EQ(p.mss, 1200);
        if (o.has_ts)
            CHECK(p.ts_val == 0xdeadbeef && p.ts_ecr == 0x01020304);
        for (int i = 0; i < p.sack_count; i++)
            CHECK(p.sack[i].left == o.sack[i].left && p.sack[i].right == o.sack[i].right);
    }
}

/* RFC 7323 Appendix A's NOP, NOP, TS (the fast path of
 * tern_tcp_opts_parse) and its near misses, which take the walk. */
TEST(tcp_opts_parse_nop_nop_ts_and_near_misses)
{
    uint8_t b[12] = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    struct tern_tcp_opts o;
    memset(&o, 0xa5, sizeof o);
    tern_tcp_opts_parse(b, sizeof b, &o);
    CHECK(o.has_ts);
    CHECK_EQ(o.ts_val, 0x11223344u);
    CHECK_EQ(o.ts_ecr, 0x55667788u);
    CHECK(!o.has_mss && !o.has_wscale && !o.sack_perm);
    CHECK_EQ(o.sack_count, 0);
    /* TS with a wrong length: ignored (ATTACKS 25), here as in the walk. */
    b[3] = 9;
    tern_tcp_opts_parse(b, sizeof b, &o);
    CHECK(!o.has_ts);
    /* TS first, then the NOPs: the walk finds it. */
    uint8_t c[12] = {8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1};
    tern_tcp_opts_parse(c, sizeof c, &o);
    CHECK(o.has_ts);
    CHECK_EQ(o.ts_val, 1u);
    CHECK_EQ(o.ts_ecr, 2u);
    /* The layout cut short by the header length: no timestamp. */
    b[3] = 10;
    tern_tcp_opts_parse(b, 11, &o);
    CHECK(!o.has_ts);
}
