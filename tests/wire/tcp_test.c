/*
 * Tests for src/wire/tcp.c: segment parse/emit known answers (scapy bytes,
 * checked both ways), checksum, emit edge cases, SEG.LEN, and ATTACKS 23,
 * 27 and 28. Option-level tests (ATTACKS 24-26) are in tcp_opts_test.c.
 * Byte arrays: /usr/bin/python3 with scapy 2.5; the expression is above each.
 */
#include "harness.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/tcp.h"

#define H1 0x0a000001u /* 10.0.0.1 */
#define H2 0x0a000002u /* 10.0.0.2 */

/* ---- helpers ---------------------------------------------------------- */

static int opts_differ(const struct tern_tcp_opts *a, const struct tern_tcp_opts *b)
{
    if (a->has_mss != b->has_mss || (a->has_mss && a->mss != b->mss))
        return 1;
    if (a->has_wscale != b->has_wscale || (a->has_wscale && a->wscale != b->wscale))
        return 2;
    if (a->sack_perm != b->sack_perm)
        return 3;
    if (a->has_ts != b->has_ts || (a->has_ts && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr)))
        return 4;
    if (a->sack_count != b->sack_count)
        return 5;
    for (int i = 0; i < a->sack_count && i < TERN_TCP_SACK_MAX; i++)
        if (a->sack[i].left != b->sack[i].left || a->sack[i].right != b->sack[i].right)
            return 6;
    return 0;
}

/* parse(bytes) == *exp (field by field, payload bytes), and
 * emit(*exp) == bytes. exp->csum and exp->hdr_len are the values parse must
 * report. */
static void kat_(const char *file, int line, const uint8_t *bytes, size_t len, uint32_t src,
                 uint32_t dst, const struct tern_tcp_repr *exp)
{
    struct tern_tcp_repr r;
    int n = tern_tcp_parse(bytes, len, src, dst, 0, &r);
    if (n != exp->hdr_len) {
        test_fail(file, line, "parse returned %d, want %u", n, exp->hdr_len);
        return;
    }
    if (r.sport != exp->sport || r.dport != exp->dport)
        test_fail(file, line, "ports %u>%u, want %u>%u", r.sport, r.dport, exp->sport, exp->dport);
    if (r.seq != exp->seq || r.ack != exp->ack)
        test_fail(file, line, "seq/ack %08x/%08x, want %08x/%08x", r.seq, r.ack, exp->seq, exp->ack);
    if (r.flags != exp->flags)
        test_fail(file, line, "flags %03x, want %03x", r.flags, exp->flags);
    if (r.win != exp->win || r.csum != exp->csum || r.urg != exp->urg)
        test_fail(file, line, "win/csum/urg %u/%04x/%u, want %u/%04x/%u", r.win, r.csum, r.urg,
                       exp->win, exp->csum, exp->urg);
    int d = opts_differ(&r.opts, &exp->opts);
    if (d)
        test_fail(file, line, "options differ (check %d)", d);
    if (r.raw_opts != bytes + 20 || r.raw_opts_len != exp->hdr_len - 20)
        test_fail(file, line, "raw_opts wrong");
    if (r.payload != bytes + exp->hdr_len || r.payload_len != exp->payload_len ||
        (exp->payload_len && memcmp(r.payload, exp->payload, exp->payload_len) != 0))
        test_fail(file, line, "payload wrong");

    uint8_t out[128];
    memset(out, 0xee, sizeof out);
    n = tern_tcp_emit(exp, src, dst, out, sizeof out);
    if (n != (int)len) {
        test_fail(file, line, "emit returned %d, want %zu", n, len);
        return;
    }
    if (memcmp(out, bytes, len) != 0) {
        char ha[200], hb[200];
        test_hex(out, len, ha, sizeof ha);
        test_hex(bytes, len, hb, sizeof hb);
        test_fail(file, line, "emit bytes differ:\n    %s\n != %s", ha, hb);
    }
}
#define KAT(bytes, src, dst, exp) kat_(__FILE__, __LINE__, bytes, sizeof(bytes), src, dst, exp)

/* Parse a 20-byte scapy header with valid checksum; returns parse result. */
static int parse_hex(const char *hex, unsigned flags, struct tern_tcp_repr *r)
{
    uint8_t b[20];
    for (int i = 0; i < 20; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        b[i] = (uint8_t)v;
    }
    return tern_tcp_parse(b, sizeof b, H1, H2, flags, r);
}

/* Store a correct checksum into a hand-made segment (tern_csum is tested
 * against a naive RFC 1071 sum in checksum_test.c). */
static void fix_csum(uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    tern_put16(seg + 16, 0);
    uint32_t s = tern_csum_pseudo_ipv4(src, dst, 6, (uint16_t)len);
    tern_put16(seg + 16, tern_csum_fold(tern_csum_add(s, seg, len)));
}

/* ---- known answers ---------------------------------------------------- */

/* scapy: raw(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=40000,dport=80,seq=0x11223344,
 *   flags="S",window=64240,options=[("MSS",1460),("SAckOK",b""),("Timestamp",(123456,0)),
 *   ("NOP",None),("WScale",7)]))[20:] */
static const uint8_t syn_full[] = {
    0x9c, 0x40, 0x00, 0x50, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
    0xfa, 0xf0, 0x75, 0xd4, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};

TEST(tcp_kat_syn_mss_sackok_ts_wscale)
{
    struct tern_tcp_repr e = {.sport = 40000, .dport = 80, .seq = 0x11223344, .hdr_len = 40,
                              .flags = TERN_TCP_SYN, .win = 64240, .csum = 0x75d4};
    e.opts.has_mss = true, e.opts.mss = 1460;
    e.opts.sack_perm = true;
    e.opts.has_ts = true, e.opts.ts_val = 123456, e.opts.ts_ecr = 0;
    e.opts.has_wscale = true, e.opts.wscale = 7;
    KAT(syn_full, H1, H2, &e);
    CHECK_EQ(tern_tcp_seg_len(&e), 1);
}

/* scapy: raw(IP(src="10.0.0.2",dst="10.0.0.1")/TCP(sport=80,dport=40000,seq=0xfedcba98,
 *   ack=0x11223345,flags="SA",window=65160,options=[("MSS",1400),("SAckOK",b""),
 *   ("Timestamp",(999,123456)),("NOP",None),("WScale",9)]))[20:] */
static const uint8_t synack[] = {
    0x00, 0x50, 0x9c, 0x40, 0xfe, 0xdc, 0xba, 0x98, 0x11, 0x22, 0x33, 0x45, 0xa0, 0x12,
    0xfe, 0x88, 0xb5, 0x08, 0x00, 0x00, 0x02, 0x04, 0x05, 0x78, 0x04, 0x02, 0x08, 0x0a,
    0x00, 0x00, 0x03, 0xe7, 0x00, 0x01, 0xe2, 0x40, 0x01, 0x03, 0x03, 0x09};

TEST(tcp_kat_synack)
{
    struct tern_tcp_repr e = {.sport = 80, .dport = 40000, .seq = 0xfedcba98, .ack = 0x11223345,
                              .hdr_len = 40, .flags = TERN_TCP_SYN | TERN_TCP_ACK, .win = 65160,
                              .csum = 0xb508};
    e.opts.has_mss = true, e.opts.mss = 1400;
    e.opts.sack_perm = true;
    e.opts.has_ts = true, e.opts.ts_val = 999, e.opts.ts_ecr = 123456;
    e.opts.has_wscale = true, e.opts.wscale = 9;
    KAT(synack, H2, H1, &e);
    CHECK_EQ(tern_tcp_seg_len(&e), 1);
}

/* scapy: raw(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=40000,dport=80,seq=0x11223345,
 *   ack=0xfedcba99,flags="PA",window=502,options=[("NOP",None),("NOP",None),
 *   ("Timestamp",(123500,999))])/b"GET / HTTP/1.0\r\n\r\n")[20:] */
static const uint8_t data_psh[] = {
    0x9c, 0x40, 0x00, 0x50, 0x11, 0x22, 0x33, 0x45, 0xfe, 0xdc, 0xba, 0x99, 0x80, 0x18, 0x01,
    0xf6, 0x01, 0x48, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x01, 0xe2, 0x6c, 0x00, 0x00,
    0x03, 0xe7, 0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e,
    0x30, 0x0d, 0x0a, 0x0d, 0x0a};

TEST(tcp_kat_data_psh_ts)
{
    static const char body[] = "GET / HTTP/1.0\r\n\r\n";
    struct tern_tcp_repr e = {.sport = 40000, .dport = 80, .seq = 0x11223345, .ack = 0xfedcba99,
                              .hdr_len = 32, .flags = TERN_TCP_PSH | TERN_TCP_ACK, .win = 502,
                              .csum = 0x0148, .payload = (const uint8_t *)body,
                              .payload_len = sizeof body - 1};
    e.opts.has_ts = true, e.opts.ts_val = 123500, e.opts.ts_ecr = 999;
    KAT(data_psh, H1, H2, &e);
    CHECK_EQ(tern_tcp_seg_len(&e), 18);
}

/* scapy: raw(IP(src="10.0.0.2",dst="10.0.0.1")/TCP(sport=80,dport=40000,seq=0xfedcba99,
 *   ack=0x11223357,flags="A",window=1000,options=[("NOP",None),("NOP",None),
 *   ("Timestamp",(1005,123500)),("NOP",None),("NOP",None),("SAck",(0x11224000,0x11224400))]))[20:] */
static const uint8_t ack_sack1[] = {
    0x00, 0x50, 0x9c, 0x40, 0xfe, 0xdc, 0xba, 0x99, 0x11, 0x22, 0x33, 0x57, 0xb0,
    0x10, 0x03, 0xe8, 0x01, 0x9c, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00,
    0x03, 0xed, 0x00, 0x01, 0xe2, 0x6c, 0x01, 0x01, 0x05, 0x0a, 0x11, 0x22, 0x40,
    0x00, 0x11, 0x22, 0x44, 0x00};

TEST(tcp_kat_ack_ts_sack_1_block)
{
    struct tern_tcp_repr e = {.sport = 80, .dport = 40000, .seq = 0xfedcba99, .ack = 0x11223357,
                              .hdr_len = 44, .flags = TERN_TCP_ACK, .win = 1000, .csum = 0x019c};
    e.opts.has_ts = true, e.opts.ts_val = 1005, e.opts.ts_ecr = 123500;
    e.opts.sack_count = 1;
    e.opts.sack[0] = (struct tern_tcp_sack_block){0x11224000, 0x11224400};
    KAT(ack_sack1, H2, H1, &e);
    CHECK_EQ(tern_tcp_seg_len(&e), 0);
}

/* Blocks stored raw, in order, including one spanning the 2^32 wrap.
 * scapy: raw(IP(src="10.0.0.2",dst="10.0.0.1")/TCP(sport=80,dport=40000,seq=0xfedcba99,
 *   ack=0xfffffff0,flags="A",window=1000,options=[("NOP",None),("NOP",None),
 *   ("Timestamp",(1006,123501)),("NOP",None),("NOP",None),
 *   ("SAck",(0x100,0x200,0x10,0x80,0xfffffff8,0x8))]))[20:] */
static const uint8_t ack_sack3[] = {
    0x00, 0x50, 0x9c, 0x40, 0xfe, 0xdc, 0xba, 0x99, 0xff, 0xff, 0xff, 0xf0, 0xf0, 0x10, 0x03,
    0xe8, 0xa8, 0xb5, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x03, 0xee, 0x00, 0x01,
    0xe2, 0x6d, 0x01, 0x01, 0x05, 0x1a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xf8, 0x00, 0x00, 0x00, 0x08};

TEST(tcp_kat_ack_ts_sack_3_blocks)
{
    struct tern_tcp_repr e = {.sport = 80, .dport = 40000, .seq = 0xfedcba99, .ack = 0xfffffff0,
                              .hdr_len = 60, .flags = TERN_TCP_ACK, .win = 1000, .csum = 0xa8b5};
    e.opts.has_ts = true, e.opts.ts_val = 1006, e.opts.ts_ecr = 123501;
    e.opts.sack_count = 3;
    e.opts.sack[0] = (struct tern_tcp_sack_block){0x100, 0x200};
    e.opts.sack[1] = (struct tern_tcp_sack_block){0x10, 0x80};
    e.opts.sack[2] = (struct tern_tcp_sack_block){0xfffffff8, 0x8};
    KAT(ack_sack3, H2, H1, &e);
}

/* scapy: raw(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=40000,dport=80,seq=0x11223357,
 *   ack=0xfedcba99,flags="FA",window=502))[20:] */
static const uint8_t fin[] = {0x9c, 0x40, 0x00, 0x50, 0x11, 0x22, 0x33, 0x57, 0xfe, 0xdc,
                              0xba, 0x99, 0x50, 0x11, 0x01, 0xf6, 0xff, 0x5a, 0x00, 0x00};

TEST(tcp_kat_fin_ack)
{
    struct tern_tcp_repr e = {.sport = 40000, .dport = 80, .seq = 0x11223357, .ack = 0xfedcba99,
                              .hdr_len = 20, .flags = TERN_TCP_FIN | TERN_TCP_ACK, .win = 502,
                              .csum = 0xff5a};
    KAT(fin, H1, H2, &e);
    CHECK_EQ(tern_tcp_seg_len(&e), 1);
}

/* scapy: raw(IP(src="10.0.0.2",dst="10.0.0.1")/TCP(sport=80,dport=40000,seq=0xfedcba99,
 *   ack=0,flags="R",window=0))[20:] */
static const uint8_t rst[] = {0x00, 0x50, 0x9c, 0x40, 0xfe, 0xdc, 0xba, 0x99, 0x00, 0x00,
                              0x00, 0x00, 0x50, 0x04, 0x00, 0x00, 0x45, 0xd7, 0x00, 0x00};

TEST(tcp_kat_rst)
{
    struct tern_tcp_repr e = {.sport = 80, .dport = 40000, .seq = 0xfedcba99, .hdr_len = 20,
                              .flags = TERN_TCP_RST, .csum = 0x45d7};
    KAT(rst, H2, H1, &e);
    CHECK_EQ(tern_tcp_seg_len(&e), 0);
}

/* ECN-setup SYN (RFC 3168 s6.1.1) with Linux's no-timestamp option layout.
 * scapy: raw(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=40001,dport=443,seq=1,flags="SEC",
 *   window=65535,options=[("MSS",1460),("NOP",None),("NOP",None),("SAckOK",b""),
 *   ("NOP",None),("WScale",14)]))[20:] */
static const uint8_t syn_ece_cwr[] = {
    0x9c, 0x41, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x80, 0xc2, 0xff, 0xff,
    0xbc, 0x4a, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x0e};

TEST(tcp_kat_syn_ece_cwr_no_ts)
{
    struct tern_tcp_repr e = {.sport = 40001, .dport = 443, .seq = 1, .hdr_len = 32,
                              .flags = TERN_TCP_SYN | TERN_TCP_ECE | TERN_TCP_CWR, .win = 65535,
                              .csum = 0xbc4a};
    e.opts.has_mss = true, e.opts.mss = 1460;
    e.opts.sack_perm = true;
    e.opts.has_wscale = true, e.opts.wscale = 14;
    KAT(syn_ece_cwr, H1, H2, &e);
}

/* scapy: raw(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=40001,dport=443,seq=2,ack=77,
 *   flags="PAC",window=1024)/b"abc")[20:]   (odd length: checksum pads a zero byte) */
static const uint8_t data_cwr[] = {0x9c, 0x41, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x02,
                                   0x00, 0x00, 0x00, 0x4d, 0x50, 0x98, 0x04, 0x00,
                                   0x34, 0x99, 0x00, 0x00, 0x61, 0x62, 0x63};

TEST(tcp_kat_data_cwr_odd_length)
{
    struct tern_tcp_repr e = {.sport = 40001, .dport = 443, .seq = 2, .ack = 77, .hdr_len = 20,
                              .flags = TERN_TCP_PSH | TERN_TCP_ACK | TERN_TCP_CWR, .win = 1024,
                              .csum = 0x3499, .payload = (const uint8_t *)"abc", .payload_len = 3};
    KAT(data_cwr, H1, H2, &e);
}

/* AE/NS bit lives in byte 12 (RFC 3540 / AccECN).
 * scapy: raw(IP(src="10.0.0.2",dst="10.0.0.1")/TCP(sport=443,dport=40001,seq=77,ack=5,
 *   flags="AEN",window=1024))[20:] */
static const uint8_t ack_ece_ae[] = {0x01, 0xbb, 0x9c, 0x41, 0x00, 0x00, 0x00, 0x4d, 0x00, 0x00,
                                     0x00, 0x05, 0x51, 0x50, 0x04, 0x00, 0xf8, 0x43, 0x00, 0x00};

TEST(tcp_kat_ack_ece_ae)
{
    struct tern_tcp_repr e = {.sport = 443, .dport = 40001, .seq = 77, .ack = 5, .hdr_len = 20,
                              .flags = TERN_TCP_ACK | TERN_TCP_ECE | TERN_TCP_AE, .win = 1024,
                              .csum = 0xf843};
    KAT(ack_ece_ae, H2, H1, &e);
}

/* Real Linux bytes: the first SYN of a loopback connection on Linux 6.18,
 * captured with `tcpdump -i lo -X` ("Flags [S], seq 4042318828, win 65495,
 * options [mss 65495,sackOK,TS val 1122739077 ecr 0,nop,wscale 10]").
 * Loopback leaves the checksum partial (offload), so parse with NO_CSUM and
 * compare only the header and options on re-emit. */
TEST(tcp_linux_loopback_syn_layout)
{
    static const uint8_t b[] = {0xce, 0x52, 0x15, 0xb3, 0xf0, 0xf0, 0xe3, 0xec, 0x00, 0x00,
                                0x00, 0x00, 0xa0, 0x02, 0xff, 0xd7, 0xfe, 0x30, 0x00, 0x00,
                                0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0x42, 0xeb,
                                0xa3, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a};
    struct tern_tcp_repr r;
    REQUIRE_EQ(tern_tcp_parse(b, sizeof b, 0x7f000001, 0x7f000001, 0, &r), TERN_E_BAD_CSUM);
    REQUIRE_EQ(tern_tcp_parse(b, sizeof b, 0x7f000001, 0x7f000001, TERN_WIRE_NO_CSUM, &r), 40);
    CHECK_EQ(r.seq, 4042318828u);
    CHECK_EQ(r.opts.mss, 65495);
    CHECK_EQ(r.opts.ts_val, 1122739077u);
    CHECK_EQ(r.opts.wscale, 10);
    uint8_t out[64];
    REQUIRE_EQ(tern_tcp_emit(&r, 0x7f000001, 0x7f000001, out, sizeof out), 40);
    CHECK_MEM(out, b, 16);
    CHECK_MEM(out + 18, b + 18, 22);
}

/* ---- checksum --------------------------------------------------------- */

TEST(tcp_checksum_rejects_corruption_and_wrong_pseudo_header)
{
    struct tern_tcp_repr r;
    uint8_t b[sizeof data_psh];
    memcpy(b, data_psh, sizeof b);
    CHECK_EQ(tern_tcp_parse(b, sizeof b, H1, H2, 0, &r), 32);
    /* Every single-bit flip anywhere is caught (a one's-complement sum
     * detects all single-bit errors). */
    for (size_t i = 0; i < sizeof b; i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            int n = tern_tcp_parse(b, sizeof b, H1, H2, 0, &r);
            if (n != TERN_E_BAD_CSUM && n != TERN_E_BAD_LEN && n != TERN_E_BAD_FLAGS)
                test_fail(__FILE__, __LINE__, "byte %zu bit %d: %d", i, bit, n);
            b[i] ^= (uint8_t)(1u << bit);
        }
    /* Pseudo-header: other addresses, swapped addresses, one byte short. */
    CHECK_EQ(tern_tcp_parse(b, sizeof b, H1, 0x0a000003, 0, &r), TERN_E_BAD_CSUM);
    CHECK_EQ(tern_tcp_parse(b, sizeof b, H2 + 1, H2, 0, &r), TERN_E_BAD_CSUM);
    CHECK_EQ(tern_tcp_parse(b, sizeof b - 1, H1, H2, 0, &r), TERN_E_BAD_CSUM);
    /* NO_CSUM skips the check and still reports the stored value. */
    b[16] ^= 0xff;
    CHECK_EQ(tern_tcp_parse(b, sizeof b, H1, H2, 0, &r), TERN_E_BAD_CSUM);
    CHECK_EQ(tern_tcp_parse(b, sizeof b, H1, H2, TERN_WIRE_NO_CSUM, &r), 32);
    CHECK_EQ(r.csum, 0x0148 ^ 0xff00);
}

/* ---- emit ------------------------------------------------------------- */

TEST(tcp_emit_nospc_for_every_short_cap)
{
    struct tern_tcp_repr r;
    REQUIRE_EQ(tern_tcp_parse(data_psh, sizeof data_psh, H1, H2, 0, &r), 32);
    uint8_t out[64];
    for (size_t cap = 0; cap < sizeof data_psh; cap++)
        CHECK_EQ(tern_tcp_emit(&r, H1, H2, out, cap), TERN_E_NOSPC);
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, out, sizeof data_psh), (int)sizeof data_psh);
    CHECK_MEM(out, data_psh, sizeof data_psh);
}

TEST(tcp_emit_too_long_is_inval)
{
    static uint8_t big[65536 + 64];
    struct tern_tcp_repr r = {.sport = 1, .dport = 2, .flags = TERN_TCP_ACK, .payload = big};
    r.payload_len = 65535 - 20;
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, big, sizeof big), 65535);
    r.payload_len = 65535 - 20 + 1;
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, big, sizeof big), TERN_E_INVAL);
    r.opts.has_ts = true; /* 12 option bytes make the header 32 */
    r.payload_len = 65535 - 32;
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, big, sizeof big), 65535);
    r.payload_len = 65535 - 31;
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, big, sizeof big), TERN_E_INVAL);
    r.payload_len = (size_t)-1; /* no overflow in the length arithmetic */
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, big, sizeof big), TERN_E_INVAL);
}

TEST(tcp_emit_options_too_long_is_nospc)
{
    uint8_t out[128];
    struct tern_tcp_repr r = {.flags = TERN_TCP_ACK};
    r.opts.has_ts = true;
    r.opts.sack_count = 4; /* 12 + 4 + 32 = 48 > 40 */
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, out, sizeof out), TERN_E_NOSPC);
    r.opts.sack_count = 3;
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, out, sizeof out), 60);
}

TEST(tcp_emit_payload_in_place_and_overlapping)
{
    static const char body[] = "GET / HTTP/1.0\r\n\r\n";
    struct tern_tcp_repr r;
    REQUIRE_EQ(tern_tcp_parse(data_psh, sizeof data_psh, H1, H2, 0, &r), 32);
    uint8_t buf[128];
    /* In place: the payload already sits at buf + hdr_len. */
    memset(buf, 0, sizeof buf);
    memcpy(buf + 32, body, 18);
    r.payload = buf + 32;
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, buf, sizeof buf), 50);
    CHECK_MEM(buf, data_psh, 50);
    /* Overlapping the header: the payload starts at buf + 20, where the
     * options will be written; it must be moved before they are. */
    memset(buf, 0, sizeof buf);
    memcpy(buf + 20, body, 18);
    r.payload = buf + 20;
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, buf, sizeof buf), 50);
    CHECK_MEM(buf, data_psh, 50);
    /* Payload after its destination (moving down). */
    memset(buf, 0, sizeof buf);
    memcpy(buf + 40, body, 18);
    r.payload = buf + 40;
    CHECK_EQ(tern_tcp_emit(&r, H1, H2, buf, sizeof buf), 50);
    CHECK_MEM(buf, data_psh, 50);
}

TEST(tcp_emit_ignores_hdr_len_raw_opts_and_csum_in_repr)
{
    struct tern_tcp_repr r;
    REQUIRE_EQ(tern_tcp_parse(fin, sizeof fin, H1, H2, 0, &r), 20);
    r.hdr_len = 60;
    r.csum = 0x1234;
    r.raw_opts = syn_full + 20;
    r.raw_opts_len = 20;
    uint8_t out[64];
    REQUIRE_EQ(tern_tcp_emit(&r, H1, H2, out, sizeof out), 20);
    CHECK_MEM(out, fin, 20);
}

TEST(tcp_parse_ignores_reserved_bits)
{
    /* RFC 9293 s3.1: reserved bits must be zero in generated segments but
     * are not checked on receipt. Set all three; emit clears them. */
    uint8_t b[20];
    memcpy(b, fin, 20);
    b[12] |= 0x0e;
    fix_csum(b, sizeof b, H1, H2);
    struct tern_tcp_repr r;
    REQUIRE_EQ(tern_tcp_parse(b, sizeof b, H1, H2, 0, &r), 20);
    CHECK_EQ(r.flags, TERN_TCP_FIN | TERN_TCP_ACK);
    uint8_t out[20];
    REQUIRE_EQ(tern_tcp_emit(&r, H1, H2, out, sizeof out), 20);
    CHECK_MEM(out, fin, 20);
}

TEST(tcp_seg_len_counts_syn_and_fin)
{
    struct tern_tcp_repr r = {.payload_len = 100};
    CHECK_EQ(tern_tcp_seg_len(&r), 100);
    r.flags = TERN_TCP_SYN;
    CHECK_EQ(tern_tcp_seg_len(&r), 101);
    r.flags = TERN_TCP_SYN | TERN_TCP_FIN; /* only with LENIENT, but still counted */
    CHECK_EQ(tern_tcp_seg_len(&r), 102);
    r.flags = TERN_TCP_FIN | TERN_TCP_ACK | TERN_TCP_PSH | TERN_TCP_URG | TERN_TCP_RST;
    CHECK_EQ(tern_tcp_seg_len(&r), 101);
    r.payload_len = 0;
    r.flags = TERN_TCP_ACK;
    CHECK_EQ(tern_tcp_seg_len(&r), 0);
}

TEST(tcp_roundtrip_random_reprs)
{
    uint8_t buf[200], pl[64];
    for (size_t i = 0; i < sizeof pl; i++)
        pl[i] = (uint8_t)test_rand();
    for (int t = 0; t < 2000; t++) {
        uint64_t x = test_rand(), y = test_rand();
        struct tern_tcp_repr r = {.sport = (uint16_t)x, .dport = (uint16_t)(x >> 16),
                                  .seq = (uint32_t)y, .ack = (uint32_t)(y >> 32),
                                  .flags = TERN_TCP_ACK | (uint16_t)((x >> 32) & 0x1c8),
                                  .win = (uint16_t)(x >> 40), .urg = (uint16_t)(x >> 48),
                                  .payload = pl, .payload_len = test_rand() % 64};
        uint64_t z = test_rand();
        r.opts.has_mss = z & 1, r.opts.mss = (uint16_t)(88 + (z >> 8) % 60000);
        r.opts.has_wscale = (z >> 1) & 1, r.opts.wscale = (uint8_t)((z >> 24) % 15);
        r.opts.sack_perm = (z >> 2) & 1;
        r.opts.has_ts = (z >> 3) & 1, r.opts.ts_val = (uint32_t)(z >> 32),
        r.opts.ts_ecr = (uint32_t)~z;
        r.opts.sack_count = (uint8_t)((z >> 4) % 5);
        for (int i = 0; i < 4; i++)
            r.opts.sack[i] = (struct tern_tcp_sack_block){(uint32_t)test_rand(),
                                                          (uint32_t)test_rand()};
        int n = tern_tcp_emit(&r, H1, H2, buf, sizeof buf);
        if (n == TERN_E_NOSPC)
            continue; /* options over 40 bytes */
        REQUIRE(n >= 20);
        struct tern_tcp_repr p;
        REQUIRE_EQ(tern_tcp_parse(buf, (size_t)n, H1, H2, 0, &p), (int)(n - r.payload_len));
        CHECK(p.sport == r.sport && p.dport == r.dport && p.seq == r.seq && p.ack == r.ack);
        CHECK(p.flags == r.flags && p.win == r.win && p.urg == r.urg);
        CHECK_EQ(opts_differ(&p.opts, &r.opts), 0);
        CHECK_EQ(p.payload_len, r.payload_len);
        CHECK(memcmp(p.payload, pl, r.payload_len) == 0);
        if (test_failed_now())
            return;
    }
}

/* ---- ATTACKS 23: data offset ---------------------------------------- */

TEST(attack_23_shorter_than_fixed_header)
{
    struct tern_tcp_repr r;
    for (size_t len = 0; len < 20; len++) {
        /* Exact-size copies so ASan would see any read past len. */
        uint8_t b[20];
        memcpy(b, fin, len);
        CHECK_EQ(tern_tcp_parse(b, len, H1, H2, TERN_WIRE_NO_CSUM | TERN_WIRE_LENIENT, &r),
                 TERN_E_SHORT);
    }
    CHECK_EQ(tern_tcp_parse(NULL, 0, H1, H2, 0, &r), TERN_E_SHORT);
}

TEST(attack_23_data_offset_below_5)
{
    struct tern_tcp_repr r;
    uint8_t b[sizeof data_psh];
    for (unsigned doff = 0; doff < 5; doff++) {
        memcpy(b, data_psh, sizeof b);
        b[12] = (uint8_t)(doff << 4 | (b[12] & 0x0f));
        fix_csum(b, sizeof b, H1, H2);
        CHECK_EQ(tern_tcp_parse(b, sizeof b, H1, H2, 0, &r), TERN_E_BAD_LEN);
        CHECK_EQ(tern_tcp_parse(b, sizeof b, H1, H2, TERN_WIRE_NO_CSUM | TERN_WIRE_LENIENT, &r),
                 TERN_E_BAD_LEN);
    }
}

TEST(attack_23_data_offset_beyond_segment)
{
    struct tern_tcp_repr r;
    /* A bare 20-byte header claiming 6..15 words. */
    for (unsigned doff = 6; doff <= 15; doff++) {
        uint8_t b[20];
        memcpy(b, rst, sizeof b);
        b[12] = (uint8_t)(doff << 4);
        fix_csum(b, sizeof b, H2, H1);
        CHECK_EQ(tern_tcp_parse(b, sizeof b, H2, H1, 0, &r), TERN_E_BAD_LEN);
        CHECK_EQ(tern_tcp_parse(b, sizeof b, H2, H1, TERN_WIRE_NO_CSUM | TERN_WIRE_LENIENT, &r),
                 TERN_E_BAD_LEN);
    }
    /* A 40-byte SYN cut short: every length 20..39 is too short for doff 10,
     * and exactly 40 is fine. */
    for (size_t len = 20; len < sizeof syn_full; len++)
        CHECK_EQ(tern_tcp_parse(syn_full, len, H1, H2, TERN_WIRE_NO_CSUM, &r), TERN_E_BAD_LEN);
    CHECK_EQ(tern_tcp_parse(syn_full, sizeof syn_full, H1, H2, 0, &r), 40);
    CHECK_EQ(r.payload_len, 0);
}

TEST(attack_23_segment_longer_than_ipv4_can_carry)
{
    /* Not in the header's list but the same class: a "segment" over 65535
     * bytes has no valid pseudo-header length. */
    static uint8_t big[65536];
    memcpy(big, fin, 20);
    struct tern_tcp_repr r;
    CHECK_EQ(tern_tcp_parse(big, sizeof big, H1, H2, TERN_WIRE_NO_CSUM, &r), TERN_E_BAD_LEN);
    CHECK_EQ(tern_tcp_parse(big, sizeof big - 1, H1, H2, TERN_WIRE_NO_CSUM, &r), 20);
    CHECK_EQ(r.payload_len, 65535 - 20);
}

/* ---- ATTACKS 27: urgent pointer -------------------------------------- */

/* scapy: raw(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=40000,dport=80,seq=100,ack=200,
 *   flags="PAU",window=512,urgptr=0)/b"urgent!")[20:] */
static const uint8_t urg0[] = {0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x64, 0x00,
                               0x00, 0x00, 0xc8, 0x50, 0x38, 0x02, 0x00, 0x8f, 0x9a,
                               0x00, 0x00, 0x75, 0x72, 0x67, 0x65, 0x6e, 0x74, 0x21};
/* scapy: same with urgptr=0xffff (far beyond the 7 data bytes) */
static const uint8_t urg_ffff[] = {0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x64, 0x00,
                                   0x00, 0x00, 0xc8, 0x50, 0x38, 0x02, 0x00, 0x8f, 0x9a,
                                   0xff, 0xff, 0x75, 0x72, 0x67, 0x65, 0x6e, 0x74, 0x21};
/* scapy: raw(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=40000,dport=80,seq=100,ack=200,
 *   flags="AU",window=512,urgptr=1))[20:]   (URG with no data at all) */
static const uint8_t urg_nodata[] = {0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00,
                                     0x00, 0xc8, 0x50, 0x30, 0x02, 0x00, 0xfb, 0xf4, 0x00, 0x01};

static void check_urg(const char *file, int line, const uint8_t *b, size_t len, uint16_t urg,
                      size_t plen)
{
    struct tern_tcp_repr r;
    int n = tern_tcp_parse(b, len, H1, H2, 0, &r);
    if (n != 20) {
        test_fail(file, line, "parse %d", n);
        return;
    }
    if (!(r.flags & TERN_TCP_URG) || r.urg != urg || r.payload_len != plen ||
        r.payload != b + 20 || (plen && memcmp(r.payload, "urgent!", plen) != 0))
        test_fail(file, line, "urg %u payload_len %zu", r.urg, r.payload_len);
    /* SEG.LEN is the data length: urgent data is ordinary data. */
    if (tern_tcp_seg_len(&r) != plen)
        test_fail(file, line, "seg_len %u", tern_tcp_seg_len(&r));
    uint8_t out[64];
    if (tern_tcp_emit(&r, H1, H2, out, sizeof out) != (int)len || memcmp(out, b, len) != 0)
        test_fail(file, line, "re-emit differs");
}

TEST(attack_27_urgent_pointer_zero)
{
    check_urg(__FILE__, __LINE__, urg0, sizeof urg0, 0, 7);
}

TEST(attack_27_urgent_pointer_beyond_data)
{
    check_urg(__FILE__, __LINE__, urg_ffff, sizeof urg_ffff, 0xffff, 7);
    check_urg(__FILE__, __LINE__, urg_nodata, sizeof urg_nodata, 1, 0);
    /* Every pointer value on a 1-byte payload: parse never depends on it. */
    uint8_t b[21];
    memcpy(b, urg0, 21);
    for (unsigned u = 0; u <= 0xffff; u += 0x101) {
        tern_put16(b + 18, (uint16_t)u);
        fix_csum(b, sizeof b, H1, H2);
        struct tern_tcp_repr r;
        CHECK_EQ(tern_tcp_parse(b, sizeof b, H1, H2, 0, &r), 20);
        CHECK_EQ(r.payload_len, 1);
        CHECK_EQ(r.urg, u);
    }
}

TEST(attack_27_urgent_pointer_without_urg_flag)
{
    /* Pointer set, URG clear: reported raw, nothing else changes. */
    uint8_t b[sizeof urg_ffff];
    memcpy(b, urg_ffff, sizeof b);
    b[13] &= (uint8_t)~TERN_TCP_URG;
    fix_csum(b, sizeof b, H1, H2);
    struct tern_tcp_repr r;
    REQUIRE_EQ(tern_tcp_parse(b, sizeof b, H1, H2, 0, &r), 20);
    CHECK_EQ(r.flags, TERN_TCP_PSH | TERN_TCP_ACK);
    CHECK_EQ(r.urg, 0xffff);
    CHECK_EQ(r.payload_len, 7);
}

/* ---- ATTACKS 28: forbidden flag combinations ------------------------ */

/* Each: scapy raw(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=1234,dport=80,seq=1000,
 *   ack=0,flags=F,window=8192))[20:] with F as named, as hex. */
static const struct {
    const char *scapy_flags, *hex;
    uint16_t flags;
    bool forbidden;
} flag_cases[] = {
    {"SF", "04d20050000003e8000000005003200072d50000", 0x003, true},
    {"SR", "04d20050000003e8000000005006200072d20000", 0x006, true},
    {"SRF", "04d20050000003e8000000005007200072d10000", 0x007, true},
    {"", "04d20050000003e8000000005000200072d80000", 0x000, true},
    {"FSRPAU", "04d20050000003e800000000503f200072990000", 0x03f, true},
    {"FSRPAUECN", "04d20050000003e80000000051ff200070d90000", 0x1ff, true},
    {"E", "04d20050000003e8000000005040200072980000", 0x040, true},
    {"C", "04d20050000003e8000000005080200072580000", 0x080, true},
    {"EC", "04d20050000003e80000000050c0200072180000", 0x0c0, true},
    {"N", "04d20050000003e8000000005100200071d80000", 0x100, true},
    {"SA", "04d20050000003e8000000005012200072c60000", 0x012, false},
    {"SAF", "04d20050000003e8000000005013200072c50000", 0x013, true},
};

static void check_flags_case(const char *file, int line, const char *name)
{
    for (size_t i = 0; i < sizeof flag_cases / sizeof flag_cases[0]; i++) {
        if (strcmp(flag_cases[i].scapy_flags, name) != 0)
            continue;
        struct tern_tcp_repr r;
        int n = parse_hex(flag_cases[i].hex, 0, &r);
        int want = flag_cases[i].forbidden ? TERN_E_BAD_FLAGS : 20;
        if (n != want)
            test_fail(file, line, "flags \"%s\": parse %d, want %d", name, n, want);
        /* LENIENT (printers) accepts and reports the bits. */
        n = parse_hex(flag_cases[i].hex, TERN_WIRE_LENIENT, &r);
        if (n != 20 || r.flags != flag_cases[i].flags)
            test_fail(file, line, "flags \"%s\" lenient: %d flags %03x", name, n, r.flags);
        return;
    }
    test_fail(file, line, "no case %s", name);
}
#define FLAGS_CASE(name) check_flags_case(__FILE__, __LINE__, name)

TEST(attack_28_syn_fin)
{
    FLAGS_CASE("SF");
    FLAGS_CASE("SAF");
}

TEST(attack_28_syn_rst)
{
    FLAGS_CASE("SR");
    FLAGS_CASE("SRF");
}

TEST(attack_28_no_flags)
{
    FLAGS_CASE("");
    /* ECE/CWR/AE are not control bits: alone they are still "no flags". */
    FLAGS_CASE("E");
    FLAGS_CASE("C");
    FLAGS_CASE("EC");
    FLAGS_CASE("N");
}

TEST(attack_28_all_flags)
{
    FLAGS_CASE("FSRPAU");
    FLAGS_CASE("FSRPAUECN");
    FLAGS_CASE("SA"); /* control: a normal SYN-ACK passes */
}

TEST(attack_28_every_combination_classified)
{
    /* All 512 flag values: forbidden exactly when SYN+FIN, SYN+RST or no
     * control bit; the error is reported before anything else is trusted. */
    uint8_t b[20];
    memcpy(b, rst, 20);
    for (unsigned f = 0; f < 0x200; f++) {
        b[12] = (uint8_t)(0x50 | (f >> 8));
        b[13] = (uint8_t)f;
        fix_csum(b, sizeof b, H2, H1);
        bool bad = (f & 0x03) == 0x03 || (f & 0x06) == 0x06 || (f & 0x3f) == 0;
        struct tern_tcp_repr r;
        int n = tern_tcp_parse(b, sizeof b, H2, H1, 0, &r);
        if (n != (bad ? TERN_E_BAD_FLAGS : 20))
            test_fail(__FILE__, __LINE__, "flags %03x: %d", f, n);
        n = tern_tcp_parse(b, sizeof b, H2, H1, TERN_WIRE_LENIENT, &r);
        if (n != 20 || r.flags != f)
            test_fail(__FILE__, __LINE__, "flags %03x lenient: %d", f, n);
        if (test_failed_now())
            return;
    }
}
