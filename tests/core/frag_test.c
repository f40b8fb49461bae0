/* Tests for src/core/frag.c: scapy known answers for fragments (no options,
 * a copied option, a mix of copied and not-copied options), DF, MTU floor,
 * refragmenting a fragment, and fragment -> parse -> reassemble round trips
 * over many sizes and MTUs 68, 576, 1280, 1500. */
#include <stdlib.h>

#include "core/reasm.h"
#include "harness.h"
#include "tern/wire/ipv4.h"

#define MAXF 1700

/* Collects every emitted fragment. */
struct frags {
    int n;
    size_t len[MAXF];
    uint8_t *buf; /* MAXF * 1500 */
    int fail_at;  /* emit returns an error at this index (-1: never) */
};

static int collect(void *ctx, const uint8_t *frag, size_t len)
{
    struct frags *f = ctx;
    if (f->n == f->fail_at)
        return TERN_E_IO;
    if (f->n >= MAXF || len > 1500)
        return TERN_E_NOSPC;
    memcpy(f->buf + (size_t)f->n * 1500, frag, len);
    f->len[f->n++] = len;
    return 0;
}

static struct frags *frags_new(void)
{
    struct frags *f = calloc(1, sizeof *f);
    if (f) {
        f->buf = malloc((size_t)MAXF * 1500);
        f->fail_at = -1;
    }
    return f;
}

static void frags_free(struct frags *f)
{
    if (f)
        free(f->buf);
    free(f);
}

static const uint8_t *frag_at(const struct frags *f, int i)
{
    return f->buf + (size_t)i * 1500;
}

/* Fragments the datagram in whole[] and compares with the expected byte
 * arrays. */
static void check_kat(const uint8_t *whole, size_t whole_len, uint16_t mtu,
                      const uint8_t *const *exp, const size_t *exp_len, int n)
{
    struct tern_ipv4_repr ip;
    int h = tern_ipv4_parse(whole, whole_len, 0, &ip);
    REQUIRE(h >= 20);
    struct frags *f = frags_new();
    REQUIRE(f && f->buf);
    uint8_t scratch[1500];
    CHECK_EQ(ipv4_fragment(&ip, whole + h, ip.payload_len, mtu, scratch, sizeof scratch,
                                collect, f),
             n);
    REQUIRE_EQ(f->n, n);
    for (int i = 0; i < n; i++) {
        REQUIRE_EQ(f->len[i], exp_len[i]);
        CHECK_MEM(frag_at(f, i), exp[i], exp_len[i]);
    }
    frags_free(f);
}

/* pl = bytes((i*7+3)&0xff for i in range(100))
 * scapy: [raw(x) for x in fragment(IP(src="192.0.2.1", dst="198.51.100.2", id=0x1001, ttl=64, proto=17)/pl, fragsize=48)] */
static const uint8_t kat1_f0[68] = {
    0x45, 0x00, 0x00, 0x44, 0x10, 0x01, 0x20, 0x00, 0x40, 0x11, 0x5e, 0x71,
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x03, 0x0a, 0x11, 0x18,
    0x1f, 0x26, 0x2d, 0x34, 0x3b, 0x42, 0x49, 0x50, 0x57, 0x5e, 0x65, 0x6c,
    0x73, 0x7a, 0x81, 0x88, 0x8f, 0x96, 0x9d, 0xa4, 0xab, 0xb2, 0xb9, 0xc0,
    0xc7, 0xce, 0xd5, 0xdc, 0xe3, 0xea, 0xf1, 0xf8, 0xff, 0x06, 0x0d, 0x14,
    0x1b, 0x22, 0x29, 0x30, 0x37, 0x3e, 0x45, 0x4c,
};
static const uint8_t kat1_f1[68] = {
    0x45, 0x00, 0x00, 0x44, 0x10, 0x01, 0x20, 0x06, 0x40, 0x11, 0x5e, 0x6b,
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x53, 0x5a, 0x61, 0x68,
    0x6f, 0x76, 0x7d, 0x84, 0x8b, 0x92, 0x99, 0xa0, 0xa7, 0xae, 0xb5, 0xbc,
    0xc3, 0xca, 0xd1, 0xd8, 0xdf, 0xe6, 0xed, 0xf4, 0xfb, 0x02, 0x09, 0x10,
    0x17, 0x1e, 0x25, 0x2c, 0x33, 0x3a, 0x41, 0x48, 0x4f, 0x56, 0x5d, 0x64,
    0x6b, 0x72, 0x79, 0x80, 0x87, 0x8e, 0x95, 0x9c,
};
static const uint8_t kat1_f2[24] = {
    0x45, 0x00, 0x00, 0x18, 0x10, 0x01, 0x00, 0x0c, 0x40, 0x11, 0x7e, 0x91,
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0xa3, 0xaa, 0xb1, 0xb8,
};

TEST(frag_kat_no_options_mtu_68)
{
    uint8_t whole[120];
    struct tern_ipv4_repr ip = {0};
    ip.id = 0x1001;
    ip.ttl = 64;
    ip.proto = TERN_IPPROTO_UDP;
    ip.src = 0xc0000201;
    ip.dst = 0xc6336402;
    ip.payload_len = 100;
    REQUIRE_EQ(tern_ipv4_emit(&ip, whole, sizeof whole), 20);
    for (int i = 0; i < 100; i++)
        whole[20 + i] = (uint8_t)(i * 7 + 3);
    const uint8_t *exp[] = {kat1_f0, kat1_f1, kat1_f2};
    const size_t len[] = {sizeof kat1_f0, sizeof kat1_f1, sizeof kat1_f2};
    check_kat(whole, 120, 68, exp, len, 3);
}

/* Loose source route has the copied flag: every fragment carries it.
 * pl2 = bytes((i*5+1)&0xff for i in range(90))
 * pk2 = IP(src="192.0.2.1", dst="198.51.100.2", id=0x1002, ttl=64, proto=17, options=[IPOption_LSRR(routers=["1.2.3.4"])])/pl2
 * scapy: raw(pk2), then [raw(x) for x in fragment(pk2, fragsize=40)] */
static const uint8_t kat2_whole[118] = {
    0x47, 0x00, 0x00, 0x76, 0x10, 0x02, 0x00, 0x00, 0x40, 0x11, 0xef, 0x32,
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x83, 0x07, 0x04, 0x01,
    0x02, 0x03, 0x04, 0x00, 0x01, 0x06, 0x0b, 0x10, 0x15, 0x1a, 0x1f, 0x24,
    0x29, 0x2e, 0x33, 0x38, 0x3d, 0x42, 0x47, 0x4c, 0x51, 0x56, 0x5b, 0x60,
    0x65, 0x6a, 0x6f, 0x74, 0x79, 0x7e, 0x83, 0x88, 0x8d, 0x92, 0x97, 0x9c,
    0xa1, 0xa6, 0xab, 0xb0, 0xb5, 0xba, 0xbf, 0xc4, 0xc9, 0xce, 0xd3, 0xd8,
    0xdd, 0xe2, 0xe7, 0xec, 0xf1, 0xf6, 0xfb, 0x00, 0x05, 0x0a, 0x0f, 0x14,
    0x19, 0x1e, 0x23, 0x28, 0x2d, 0x32, 0x37, 0x3c, 0x41, 0x46, 0x4b, 0x50,
    0x55, 0x5a, 0x5f, 0x64, 0x69, 0x6e, 0x73, 0x78, 0x7d, 0x82, 0x87, 0x8c,
    0x91, 0x96, 0x9b, 0xa0, 0xa5, 0xaa, 0xaf, 0xb4, 0xb9, 0xbe,
};
static const uint8_t kat2_f0[68] = {
    0x47, 0x00, 0x00, 0x44, 0x10, 0x02, 0x20, 0x00, 0x40, 0x11, 0xcf, 0x64,
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x83, 0x07, 0x04, 0x01,
    0x02, 0x03, 0x04, 0x00, 0x01, 0x06, 0x0b, 0x10, 0x15, 0x1a, 0x1f, 0x24,
    0x29, 0x2e, 0x33, 0x38, 0x3d, 0x42, 0x47, 0x4c, 0x51, 0x56, 0x5b, 0x60,
    0x65, 0x6a, 0x6f, 0x74, 0x79, 0x7e, 0x83, 0x88, 0x8d, 0x92, 0x97, 0x9c,
    0xa1, 0xa6, 0xab, 0xb0, 0xb5, 0xba, 0xbf, 0xc4,
};
static const uint8_t kat2_f1[68] = {
    0x47, 0x00, 0x00, 0x44, 0x10, 0x02, 0x20, 0x05, 0x40, 0x11, 0xcf, 0x5f,
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x83, 0x07, 0x04, 0x01,
    0x02, 0x03, 0x04, 0x00, 0xc9, 0xce, 0xd3, 0xd8, 0xdd, 0xe2, 0xe7, 0xec,
    0xf1, 0xf6, 0xfb, 0x00, 0x05, 0x0a, 0x0f, 0x14, 0x19, 0x1e, 0x23, 0x28,
    0x2d, 0x32, 0x37, 0x3c, 0x41, 0x46, 0x4b, 0x50, 0x55, 0x5a, 0x5f, 0x64,
    0x69, 0x6e, 0x73, 0x78, 0x7d, 0x82, 0x87, 0x8c,
};
static const uint8_t kat2_f2[38] = {
    0x47, 0x00, 0x00, 0x26, 0x10, 0x02, 0x00, 0x0a, 0x40, 0x11, 0xef, 0x78,
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x83, 0x07, 0x04, 0x01,
    0x02, 0x03, 0x04, 0x00, 0x91, 0x96, 0x9b, 0xa0, 0xa5, 0xaa, 0xaf, 0xb4,
    0xb9, 0xbe,
};

TEST(frag_kat_copied_option_in_every_fragment)
{
    const uint8_t *exp[] = {kat2_f0, kat2_f1, kat2_f2};
    const size_t len[] = {sizeof kat2_f0, sizeof kat2_f1, sizeof kat2_f2};
    check_kat(kat2_whole, sizeof kat2_whole, 68, exp, len, 3);
}

/* Record route (type 7, not copied) + router alert (type 148, copied): only
 * the first fragment has RR. scapy's fragment() copies every option, so
 * each expected fragment is built on its own:
 * pl = bytes((i*3+9)&0xff for i in range(100)); base = dict(src="192.0.2.7", dst="203.0.113.9", id=0x2468, ttl=32, proto=17)
 * rr = IPOption_RR(pointer=4, routers=["0.0.0.0"])
 * scapy: raw(IP(options=[rr, IPOption_Router_Alert()], **base)/pl) */
static const uint8_t kat3_whole[132] = {
    0x48, 0x00, 0x00, 0x84, 0x24, 0x68, 0x00, 0x00, 0x20, 0x11, 0x65, 0x55,
    0xc0, 0x00, 0x02, 0x07, 0xcb, 0x00, 0x71, 0x09, 0x07, 0x07, 0x04, 0x00,
    0x00, 0x00, 0x00, 0x94, 0x04, 0x00, 0x00, 0x00, 0x09, 0x0c, 0x0f, 0x12,
    0x15, 0x18, 0x1b, 0x1e, 0x21, 0x24, 0x27, 0x2a, 0x2d, 0x30, 0x33, 0x36,
    0x39, 0x3c, 0x3f, 0x42, 0x45, 0x48, 0x4b, 0x4e, 0x51, 0x54, 0x57, 0x5a,
    0x5d, 0x60, 0x63, 0x66, 0x69, 0x6c, 0x6f, 0x72, 0x75, 0x78, 0x7b, 0x7e,
    0x81, 0x84, 0x87, 0x8a, 0x8d, 0x90, 0x93, 0x96, 0x99, 0x9c, 0x9f, 0xa2,
    0xa5, 0xa8, 0xab, 0xae, 0xb1, 0xb4, 0xb7, 0xba, 0xbd, 0xc0, 0xc3, 0xc6,
    0xc9, 0xcc, 0xcf, 0xd2, 0xd5, 0xd8, 0xdb, 0xde, 0xe1, 0xe4, 0xe7, 0xea,
    0xed, 0xf0, 0xf3, 0xf6, 0xf9, 0xfc, 0xff, 0x02, 0x05, 0x08, 0x0b, 0x0e,
    0x11, 0x14, 0x17, 0x1a, 0x1d, 0x20, 0x23, 0x26, 0x29, 0x2c, 0x2f, 0x32,
};
/* scapy: raw(IP(options=[rr, IPOption_Router_Alert()], flags="MF", frag=0, **base)/pl[:32]) */
static const uint8_t kat3_f0[64] = {
    0x48, 0x00, 0x00, 0x40, 0x24, 0x68, 0x20, 0x00, 0x20, 0x11, 0x45, 0x99,
    0xc0, 0x00, 0x02, 0x07, 0xcb, 0x00, 0x71, 0x09, 0x07, 0x07, 0x04, 0x00,
    0x00, 0x00, 0x00, 0x94, 0x04, 0x00, 0x00, 0x00, 0x09, 0x0c, 0x0f, 0x12,
    0x15, 0x18, 0x1b, 0x1e, 0x21, 0x24, 0x27, 0x2a, 0x2d, 0x30, 0x33, 0x36,
    0x39, 0x3c, 0x3f, 0x42, 0x45, 0x48, 0x4b, 0x4e, 0x51, 0x54, 0x57, 0x5a,
    0x5d, 0x60, 0x63, 0x66,
};
/* scapy: raw(IP(options=[IPOption_Router_Alert()], flags="MF", frag=4, **base)/pl[32:72]) */
static const uint8_t kat3_f1[64] = {
    0x46, 0x00, 0x00, 0x40, 0x24, 0x68, 0x20, 0x04, 0x20, 0x11, 0xc3, 0x2b,
    0xc0, 0x00, 0x02, 0x07, 0xcb, 0x00, 0x71, 0x09, 0x94, 0x04, 0x00, 0x00,
    0x69, 0x6c, 0x6f, 0x72, 0x75, 0x78, 0x7b, 0x7e, 0x81, 0x84, 0x87, 0x8a,
    0x8d, 0x90, 0x93, 0x96, 0x99, 0x9c, 0x9f, 0xa2, 0xa5, 0xa8, 0xab, 0xae,
    0xb1, 0xb4, 0xb7, 0xba, 0xbd, 0xc0, 0xc3, 0xc6, 0xc9, 0xcc, 0xcf, 0xd2,
    0xd5, 0xd8, 0xdb, 0xde,
};
/* scapy: raw(IP(options=[IPOption_Router_Alert()], frag=9, **base)/pl[72:]) */
static const uint8_t kat3_f2[52] = {
    0x46, 0x00, 0x00, 0x34, 0x24, 0x68, 0x00, 0x09, 0x20, 0x11, 0xe3, 0x32,
    0xc0, 0x00, 0x02, 0x07, 0xcb, 0x00, 0x71, 0x09, 0x94, 0x04, 0x00, 0x00,
    0xe1, 0xe4, 0xe7, 0xea, 0xed, 0xf0, 0xf3, 0xf6, 0xf9, 0xfc, 0xff, 0x02,
    0x05, 0x08, 0x0b, 0x0e, 0x11, 0x14, 0x17, 0x1a, 0x1d, 0x20, 0x23, 0x26,
    0x29, 0x2c, 0x2f, 0x32,
};

TEST(frag_kat_uncopied_option_only_in_first)
{
    const uint8_t *exp[] = {kat3_f0, kat3_f1, kat3_f2};
    const size_t len[] = {sizeof kat3_f0, sizeof kat3_f1, sizeof kat3_f2};
    check_kat(kat3_whole, sizeof kat3_whole, 68, exp, len, 3);
}

static struct tern_ipv4_repr base_repr(size_t len)
{
    struct tern_ipv4_repr ip = {0};
    ip.hdr_len = 20;
    ip.id = 0xabcd;
    ip.ttl = 64;
    ip.proto = TERN_IPPROTO_UDP;
    ip.src = 0x0a000001;
    ip.dst = 0x0a000002;
    ip.payload_len = (uint16_t)len;
    ip.total_len = (uint16_t)(20 + len);
    return ip;
}

TEST(frag_fits_sent_whole_even_with_df)
{
    uint8_t data[1480] = {1, 2, 3};
    uint8_t scratch[1500];
    struct frags *f = frags_new();
    REQUIRE(f && f->buf);
    struct tern_ipv4_repr ip = base_repr(sizeof data);
    ip.df = true;
    REQUIRE_EQ(ipv4_fragment(&ip, data, sizeof data, 1500, scratch, sizeof scratch, collect, f), 1);
    REQUIRE_EQ(f->len[0], 1500);
    struct tern_ipv4_repr p;
    REQUIRE_EQ(tern_ipv4_parse(frag_at(f, 0), 1500, 0, &p), 20);
    CHECK(p.df);
    CHECK(!p.mf);
    CHECK_EQ(p.frag_off, 0);
    CHECK_MEM(frag_at(f, 0) + 20, data, sizeof data);
    /* One byte more and DF forbids splitting: the caller sends "frag needed". */
    CHECK_EQ(ipv4_fragment(&ip, data, sizeof data, 1499, scratch, sizeof scratch, collect, f),
             TERN_E_INVAL);
    CHECK_EQ(f->n, 1);
    frags_free(f);
}

TEST(frag_rejects_bad_arguments)
{
    uint8_t data[200] = {0};
    uint8_t scratch[1500];
    struct frags *f = frags_new();
    REQUIRE(f && f->buf);
    struct tern_ipv4_repr ip = base_repr(sizeof data);
    CHECK_EQ(ipv4_fragment(&ip, data, sizeof data, 67, scratch, sizeof scratch, collect, f),
             TERN_E_INVAL); /* RFC 791: 68 is the floor */
    CHECK_EQ(ipv4_fragment(&ip, data, sizeof data, 576, scratch, 575, collect, f),
             TERN_E_INVAL); /* scratch smaller than the MTU */
    static const uint8_t bad_opts[4] = {0x83, 0x09, 0x04, 0x00}; /* runs past the end */
    ip.opts = bad_opts;
    ip.opts_len = 4;
    CHECK_EQ(ipv4_fragment(&ip, data, sizeof data, 68, scratch, sizeof scratch, collect, f),
             TERN_E_INVAL);
    ip.opts = NULL; /* opts_len without opts */
    CHECK_EQ(ipv4_fragment(&ip, data, sizeof data, 68, scratch, sizeof scratch, collect, f),
             TERN_E_INVAL);
    ip.opts_len = 0;
    ip.frag_off = 65528; /* the rest would lie past 65535 */
    CHECK_EQ(ipv4_fragment(&ip, data, sizeof data, 68, scratch, sizeof scratch, collect, f),
             TERN_E_INVAL);
    CHECK_EQ(f->n, 0);
    frags_free(f);
}

TEST(frag_emit_error_is_returned)
{
    uint8_t data[1000] = {0};
    uint8_t scratch[576];
    struct frags *f = frags_new();
    REQUIRE(f && f->buf);
    f->fail_at = 1;
    struct tern_ipv4_repr ip = base_repr(sizeof data);
    CHECK_EQ(ipv4_fragment(&ip, data, sizeof data, 576, scratch, sizeof scratch, collect, f),
             TERN_E_IO);
    CHECK_EQ(f->n, 1);
    frags_free(f);
}

/* RFC 791 s3.2 steps (5), (12): a fragment refragmented keeps its original
 * offset as base and its MF on the last piece. */
TEST(frag_refragment_a_fragment)
{
    uint8_t data[1000];
    for (int i = 0; i < 1000; i++)
        data[i] = (uint8_t)(i ^ 0x5a);
    uint8_t scratch[576];
    struct frags *f = frags_new();
    REQUIRE(f && f->buf);
    struct tern_ipv4_repr ip = base_repr(sizeof data);
    ip.mf = true;
    ip.frag_off = 1480;
    int n = ipv4_fragment(&ip, data, sizeof data, 576, scratch, sizeof scratch, collect, f);
    REQUIRE_EQ(n, 2);
    struct tern_ipv4_repr p0, p1;
    REQUIRE_EQ(tern_ipv4_parse(frag_at(f, 0), f->len[0], 0, &p0), 20);
    REQUIRE_EQ(tern_ipv4_parse(frag_at(f, 1), f->len[1], 0, &p1), 20);
    CHECK_EQ(p0.frag_off, 1480);
    CHECK(p0.mf);
    CHECK_EQ(p0.payload_len, 552);
    CHECK_EQ(p1.frag_off, 1480 + 552);
    CHECK(p1.mf); /* the input was not the last fragment */
    CHECK_EQ(p1.payload_len, 1000 - 552);
    CHECK_MEM(frag_at(f, 1) + 20, data + 552, 1000 - 552);
    frags_free(f);
}

/* Option sets for the round trip: none; copied only (LSRR + padding);
 * copied and not copied (RR, RA); not copied only (RR, 39 bytes). */
static const uint8_t opt_lsrr[8] = {0x83, 0x07, 0x04, 1, 2, 3, 4, 0};
static const uint8_t opt_mix[12] = {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x94, 0x04, 0, 0, 0};
static const uint8_t opt_rr39[40] = {0x07, 39, 4};
static const uint8_t opt_nop_ra[8] = {1, 1, 1, 1, 0x94, 0x04, 0, 0};

struct optset {
    const uint8_t *opts;
    uint8_t len;
    uint8_t later_len; /* expected option bytes in later fragments */
};

static const struct optset optsets[] = {
    {NULL, 0, 0},
    {opt_lsrr, 8, 8},
    {opt_mix, 12, 4},
    {opt_rr39, 40, 0},
    {opt_nop_ra, 8, 4},
};

/* Fragments, checks every fragment independently (parses with checksum,
 * fits the MTU, 8-byte multiples, contiguous offsets, MF, options), copies
 * each fragment's data into place, then (when there are at most 64
 * fragments) reassembles them in random order through tern_reasm. */
static void round_trip(struct tern_reasm *r, struct frags *f, size_t size, uint16_t mtu,
                       const struct optset *os, uint16_t id)
{
    static uint8_t data[65535], rebuilt[65535];
    static uint8_t scratch[1500];
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(test_rand() >> 11);
    struct tern_ipv4_repr ip = base_repr(size);
    ip.id = id;
    ip.hdr_len = (uint8_t)(20 + os->len);
    ip.opts = os->opts;
    ip.opts_len = os->len;
    f->n = 0;
    int n = ipv4_fragment(&ip, data, size, mtu, scratch, mtu, collect, f);
    REQUIRE(n >= 1);
    REQUIRE_EQ(n, f->n);
    size_t next = 0;
    for (int i = 0; i < n; i++) {
        struct tern_ipv4_repr p;
        int h = tern_ipv4_parse(frag_at(f, i), f->len[i], 0, &p);
        REQUIRE(h >= 20);
        CHECK(f->len[i] <= mtu);
        CHECK_EQ(p.total_len, f->len[i]);
        CHECK_EQ(p.frag_off, next);
        CHECK_EQ(p.mf, i < n - 1);
        CHECK_EQ(p.id, id);
        CHECK_EQ(p.src, ip.src);
        CHECK_EQ(p.dst, ip.dst);
        CHECK_EQ(p.proto, ip.proto);
        CHECK_EQ(p.ttl, ip.ttl);
        CHECK(!p.df);
        if (i < n - 1)
            CHECK_EQ(p.payload_len % 8, 0);
        if (i == 0) {
            REQUIRE_EQ(p.opts_len, os->len);
            if (os->len)
                CHECK_MEM(p.opts, os->opts, os->len);
        } else {
            CHECK_EQ(p.opts_len, os->later_len);
        }
        /* Full use of the MTU: a non-final fragment leaves < 8 bytes unused. */
        if (i < n - 1)
            CHECK(mtu - f->len[i] < 8);
        REQUIRE(next + p.payload_len <= size);
        memcpy(rebuilt + next, frag_at(f, i) + h, p.payload_len);
        next += p.payload_len;
    }
    REQUIRE_EQ(next, size);
    CHECK_MEM(rebuilt, data, size);
    if (n == 1 || n > 64)
        return;

    uint32_t order[64];
    for (int i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    for (int i = n; i > 1; i--) {
        uint32_t j = (uint32_t)(test_rand() % (uint64_t)i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *fr = frag_at(f, (int)order[i]);
        struct tern_ipv4_repr p, out_ip;
        int h = tern_ipv4_parse(fr, f->len[order[i]], 0, &p);
        REQUIRE(h >= 20);
        const uint8_t *out;
        size_t out_len;
        int rc = ip_reasm_input(r, &p, fr + h, p.payload_len, 0, &out, &out_len, &out_ip);
        if (i < n - 1) {
            REQUIRE_EQ(rc, 0);
            continue;
        }
        REQUIRE_EQ(rc, 1);
        REQUIRE_EQ(out_len, size);
        CHECK_MEM(out, data, size);
        CHECK_EQ(out_ip.hdr_len, 20 + os->len);
        CHECK_EQ(out_ip.id, id);
    }
    CHECK_EQ(ip_reasm_bytes_held(r), 0);
    CHECK_EQ(ip_reasm_datagrams_held(r), 0);
}

TEST(frag_round_trip_sizes_mtus_options)
{
    static const uint16_t mtus[] = {68, 576, 1280, 1500};
    static const size_t sizes[] = {0, 1, 7, 8, 9, 27, 47, 48, 49, 100, 511, 548, 552, 553,
                                   1000, 1232, 1260, 1261, 1480, 1481, 2000, 2961, 4096,
                                   9000, 32768, 65475};
    struct tern_reasm_config c = {.max_bytes = 256 * 1024, .max_datagrams = 8,
                                  .timeout_us = 30000000};
    struct tern_reasm *r = ip_reasm_new(&c);
    struct frags *f = frags_new();
    REQUIRE(r && f && f->buf);
    uint16_t id = 1;
    for (size_t m = 0; m < sizeof mtus / sizeof mtus[0]; m++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (size_t o = 0; o < sizeof optsets / sizeof optsets[0]; o++)
                round_trip(r, f, sizes[s], mtus[m], &optsets[o], id++);
    /* Random sizes too. */
    for (int i = 0; i < 300; i++) {
        size_t size = (size_t)(test_rand() % 6000);
        uint16_t mtu = (uint16_t)(68 + test_rand() % (1500 - 68 + 1));
        round_trip(r, f, size, mtu, &optsets[test_rand() % 5], id++);
    }
    const struct ip_reasm_stats *st = ip_reasm_stats(r);
    CHECK_EQ(st->dropped_bad + st->dropped_overlap + st->evicted, 0);
    CHECK(st->completed > 200);
    frags_free(f);
    ip_reasm_free(r);
}
