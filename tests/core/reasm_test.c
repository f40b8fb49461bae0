/* Tests for src/core/reasm.c: reassembly in any order (byte-exact), keys,
 * ATTACKS 10-15 (bounds, overlap, duplicates, bad lengths, tiny TCP
 * fragments, many incomplete datagrams, timeout and the ICMP quote), and
 * that nothing stays held once datagrams complete or expire. */
#include <stdlib.h>

#include "core/reasm.h"
#include "harness.h"
#include "tern/wire/ipv4.h"

#define SEC 1000000ull
#define KIB 1024u

static struct tern_reasm *mk(uint32_t max_bytes, uint32_t max_dg)
{
    struct tern_reasm_config c = {.max_bytes = max_bytes, .max_datagrams = max_dg,
                                  .timeout_us = 30 * SEC};
    return ip_reasm_new(&c);
}

struct key {
    uint32_t src, dst;
    uint8_t proto;
    uint16_t id;
};

static const struct key K1 = {0x0a000001, 0x0a000002, TERN_IPPROTO_UDP, 0x1234};

static struct tern_ipv4_repr frag_repr(struct key k, uint32_t off, size_t len, int mf)
{
    struct tern_ipv4_repr ip = {0};
    ip.hdr_len = 20;
    ip.total_len = (uint16_t)(20 + len);
    ip.id = k.id;
    ip.mf = mf != 0;
    ip.frag_off = (uint16_t)off;
    ip.ttl = 64;
    ip.proto = k.proto;
    ip.src = k.src;
    ip.dst = k.dst;
    ip.payload_len = (uint16_t)len;
    return ip;
}

struct result {
    const uint8_t *out;
    size_t out_len;
    struct tern_ipv4_repr ip;
};

/* Feeds payload[off, off+len) of a datagram as one fragment. */
static int feed(struct tern_reasm *r, struct key k, const uint8_t *data, uint32_t off, size_t len,
                int mf, uint64_t now, struct result *res)
{
    struct tern_ipv4_repr ip = frag_repr(k, off, len, mf);
    struct result dummy;
    if (!res)
        res = &dummy;
    return ip_reasm_input(r, &ip, data + off, len, now, &res->out, &res->out_len, &res->ip);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 131 + seed * 7 + (i >> 8));
}

static void shuffle(uint32_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(test_rand() % i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

static void check_empty(const struct tern_reasm *r)
{
    CHECK_EQ(ip_reasm_bytes_held(r), 0);
    CHECK_EQ(ip_reasm_datagrams_held(r), 0);
}

enum order { IN_ORDER, REVERSE, RANDOM };

/* Splits a size-byte datagram into fsz-byte fragments fed in `order`;
 * requires exactly the last one to complete it, byte-exact. */
static void run_datagram(struct tern_reasm *r, struct key k, size_t size, uint32_t fsz,
                         enum order order)
{
    static uint8_t data[65535];
    fill(data, size, k.id);
    uint32_t n = (uint32_t)((size + fsz - 1) / fsz), idx[64];
    REQUIRE(n >= 2 && n <= 64);
    for (uint32_t i = 0; i < n; i++)
        idx[i] = order == REVERSE ? n - 1 - i : i;
    if (order == RANDOM)
        shuffle(idx, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t off = idx[i] * fsz;
        size_t len = idx[i] == n - 1 ? size - off : fsz;
        struct result res;
        int rc = feed(r, k, data, off, len, idx[i] != n - 1, 1000 + i, &res);
        if (i + 1 < n) {
            REQUIRE_EQ(rc, 0);
            continue;
        }
        REQUIRE_EQ(rc, 1);
        REQUIRE_EQ(res.out_len, size);
        CHECK_MEM(res.out, data, size);
        CHECK_EQ(res.ip.mf, 0);
        CHECK_EQ(res.ip.frag_off, 0);
        CHECK_EQ(res.ip.payload_len, size);
        CHECK_EQ(res.ip.total_len, 20 + size);
        CHECK_EQ(res.ip.hdr_len, 20);
        CHECK(res.ip.opts == NULL);
        CHECK_EQ(res.ip.opts_len, 0);
        CHECK_EQ(res.ip.src, k.src);
        CHECK_EQ(res.ip.dst, k.dst);
        CHECK_EQ(res.ip.proto, k.proto);
        CHECK_EQ(res.ip.id, k.id);
    }
}

TEST(reasm_orders_and_sizes_byte_exact)
{
    static const size_t sizes[] = {9, 16, 17, 100, 577, 1480, 1481, 2960, 4000, 8191, 20000, 65515};
    static const uint32_t fszs[] = {8, 16, 64, 552, 1480, 1488};
    struct tern_reasm *r = mk(256 * KIB, 64);
    REQUIRE(r);
    int runs = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (size_t fi = 0; fi < sizeof fszs / sizeof fszs[0]; fi++) {
            size_t n = (sizes[si] + fszs[fi] - 1) / fszs[fi];
            if (n < 2 || n > 64)
                continue;
            for (int o = IN_ORDER; o <= RANDOM; o++) {
                struct key k = K1;
                k.id = (uint16_t)(runs++);
                run_datagram(r, k, sizes[si], fszs[fi], (enum order)o);
                check_empty(r);
            }
        }
    }
    CHECK(runs > 60);
    CHECK_EQ(ip_reasm_stats(r)->completed, runs);
    CHECK_EQ(ip_reasm_stats(r)->dropped_bad + ip_reasm_stats(r)->dropped_overlap, 0);
    ip_reasm_free(r);
}

TEST(reasm_random_order_many_seeds)
{
    struct tern_reasm *r = mk(128 * KIB, 8);
    REQUIRE(r);
    for (int i = 0; i < 200; i++) {
        uint32_t fsz = (uint32_t)(1 + test_rand() % 200) * 8;
        size_t size = fsz + 1 + (size_t)(test_rand() % (63 * fsz));
        if (size > 65515)
            size = 65515;
        struct key k = K1;
        k.id = (uint16_t)i;
        run_datagram(r, k, size, fsz, RANDOM);
        check_empty(r);
    }
    ip_reasm_free(r);
}

TEST(reasm_interleaved_ids)
{
    enum { N = 6, FSZ = 64, SIZE = 1000 };
    static uint8_t data[N][SIZE];
    struct tern_reasm *r = mk(64 * KIB, 16);
    REQUIRE(r);
    uint32_t nf = (SIZE + FSZ - 1) / FSZ, order[N * 16];
    for (uint32_t d = 0; d < N; d++) {
        fill(data[d], SIZE, d + 100);
        for (uint32_t f = 0; f < nf; f++)
            order[d * nf + f] = d << 8 | f;
    }
    shuffle(order, N * nf);
    int done = 0;
    for (uint32_t i = 0; i < N * nf; i++) {
        uint32_t d = order[i] >> 8, f = order[i] & 0xff, off = f * FSZ;
        struct key k = K1;
        k.id = (uint16_t)(0x100 + d);
        struct result res;
        size_t len = f == nf - 1 ? SIZE - off : FSZ;
        int rc = feed(r, k, data[d], off, len, f != nf - 1, i, &res);
        REQUIRE(rc >= 0);
        if (rc == 1) {
            done++;
            CHECK_EQ(res.ip.id, k.id);
            REQUIRE_EQ(res.out_len, SIZE);
            CHECK_MEM(res.out, data[d], SIZE);
        }
    }
    CHECK_EQ(done, N);
    check_empty(r);
    ip_reasm_free(r);
}

/* Same id and offsets, keys differing in one of src, dst, proto: four
 * separate datagrams, never an overlap between them (RFC 791 s3.2 BUFID). */
TEST(reasm_key_is_src_dst_proto_id)
{
    struct key keys[4] = {K1, K1, K1, K1};
    keys[1].src = 0x0a000003;
    keys[2].dst = 0x0a000004;
    keys[3].proto = TERN_IPPROTO_ICMP;
    static uint8_t data[4][48];
    struct tern_reasm *r = mk(64 * KIB, 8);
    REQUIRE(r);
    for (int i = 0; i < 4; i++) {
        fill(data[i], 48, (unsigned)i + 1);
        CHECK_EQ(feed(r, keys[i], data[i], 0, 24, 1, 0, NULL), 0);
    }
    CHECK_EQ(ip_reasm_datagrams_held(r), 4);
    for (int i = 3; i >= 0; i--) {
        struct result res;
        REQUIRE_EQ(feed(r, keys[i], data[i], 24, 24, 0, 1, &res), 1);
        CHECK_EQ(res.ip.src, keys[i].src);
        CHECK_EQ(res.ip.dst, keys[i].dst);
        CHECK_EQ(res.ip.proto, keys[i].proto);
        REQUIRE_EQ(res.out_len, 48);
        CHECK_MEM(res.out, data[i], 48);
    }
    CHECK_EQ(ip_reasm_stats(r)->dropped_overlap, 0);
    check_empty(r);
    ip_reasm_free(r);
}

/* The offset-0 fragment supplies the header; a later fragment's header
 * (other TTL, no options) does not. */
TEST(reasm_header_from_first_fragment)
{
    static const uint8_t opts[4] = {0x94, 0x04, 0x00, 0x00};
    uint8_t data[40];
    fill(data, sizeof data, 9);
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    struct tern_ipv4_repr last = frag_repr(K1, 32, 8, 0);
    last.ttl = 3;
    struct result res;
    REQUIRE_EQ(ip_reasm_input(r, &last, data + 32, 8, 0, &res.out, &res.out_len, &res.ip), 0);
    struct tern_ipv4_repr first = frag_repr(K1, 0, 32, 1);
    first.hdr_len = 24;
    first.opts = opts;
    first.opts_len = 4;
    first.ttl = 77;
    first.tos = 0xb8;
    first.df = false;
    REQUIRE_EQ(ip_reasm_input(r, &first, data, 32, 0, &res.out, &res.out_len, &res.ip), 1);
    CHECK_EQ(res.ip.ttl, 77);
    CHECK_EQ(res.ip.tos, 0xb8);
    CHECK_EQ(res.ip.hdr_len, 24);
    CHECK_EQ(res.ip.total_len, 24 + 40);
    CHECK_EQ(res.ip.payload_len, 40);
    CHECK(res.ip.opts == NULL);
    CHECK_EQ(res.ip.opts_len, 0);
    CHECK_EQ(res.ip.mf, 0);
    CHECK_MEM(res.out, data, 40);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(reasm_rejects_non_fragment_and_bad_repr)
{
    uint8_t data[16] = {0};
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    CHECK_EQ(feed(r, K1, data, 0, 16, 0, 0, NULL), TERN_E_INVAL); /* whole datagram */
    struct tern_ipv4_repr ip = frag_repr(K1, 0, 16, 1);
    struct result res;
    CHECK_EQ(ip_reasm_input(r, &ip, data, 8, 0, &res.out, &res.out_len, &res.ip), TERN_E_INVAL);
    ip.opts_len = 4; /* hdr_len says 20 */
    CHECK_EQ(ip_reasm_input(r, &ip, data, 16, 0, &res.out, &res.out_len, &res.ip), TERN_E_INVAL);
    CHECK_EQ(ip_reasm_stats(r)->dropped_bad, 3);
    CHECK_EQ(ip_reasm_stats(r)->frags_in, 3);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(reasm_bad_config)
{
    struct tern_reasm_config c = {.max_bytes = 64 * KIB, .max_datagrams = 0, .timeout_us = SEC};
    CHECK(ip_reasm_new(&c) == NULL);
    c.max_datagrams = 4;
    c.max_bytes = 10; /* below one chunk */
    CHECK(ip_reasm_new(&c) == NULL);
    c.max_bytes = 64 * KIB;
    c.timeout_us = 0;
    CHECK(ip_reasm_new(&c) == NULL);
    CHECK(ip_reasm_new(NULL) == NULL);
    ip_reasm_free(NULL);
}

/* DEVIATION check: more than 64 fragments abandons the datagram. */
TEST(reasm_fragment_count_cap)
{
    static uint8_t data[8 * 70];
    fill(data, sizeof data, 3);
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    for (uint32_t i = 0; i < 64; i++)
        REQUIRE_EQ(feed(r, K1, data, i * 8, 8, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 64 * 8, 8, 1, 0, NULL), TERN_E_NOMEM);
    check_empty(r);
    ip_reasm_free(r);
}

/* ---- ATTACKS 10: offset*8 + length > 65535 ---- */

TEST(attack_10_offset_65528_len_16)
{
    static uint8_t data[65536 + 16];
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    CHECK_EQ(feed(r, K1, data, 65528, 16, 1, 0, NULL), TERN_E_BAD_LEN);
    CHECK_EQ(feed(r, K1, data, 65528, 16, 0, 0, NULL), TERN_E_BAD_LEN);
    check_empty(r);
    /* A datagram in progress is dropped whole. */
    REQUIRE_EQ(feed(r, K1, data, 0, 8, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 65520, 16, 0, 0, NULL), TERN_E_BAD_LEN);
    check_empty(r);
    CHECK_EQ(ip_reasm_stats(r)->dropped_bad, 3);
    ip_reasm_free(r);
}

TEST(attack_10_exact_limit_accepted)
{
    /* 65515 bytes of payload + 20 bytes of header = 65535: the largest legal
     * datagram. One byte more is dropped. */
    static uint8_t data[65536];
    fill(data, sizeof data, 5);
    struct tern_reasm *r = mk(128 * KIB, 4);
    REQUIRE(r);
    CHECK_EQ(feed(r, K1, data, 65512, 4, 0, 0, NULL), TERN_E_BAD_LEN); /* ends at 65516 */
    struct result res;
    for (uint32_t off = 0; off < 65512; off += 1488)
        REQUIRE_EQ(feed(r, K1, data, off, off + 1488 > 65512 ? 65512 - off : 1488, 1, 0, NULL), 0);
    REQUIRE_EQ(feed(r, K1, data, 65512, 3, 0, 0, &res), 1);
    CHECK_EQ(res.out_len, 65515);
    CHECK_EQ(res.ip.total_len, 65535);
    CHECK_MEM(res.out, data, 65515);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(attack_10_late_first_fragment_with_long_header)
{
    /* Data up to 65515 is fine under a 20-byte header; when the offset-0
     * fragment shows a 60-byte header the datagram would exceed 65535. */
    static uint8_t data[65536];
    static const uint8_t opts[40] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                     1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    REQUIRE_EQ(feed(r, K1, data, 65504, 11, 0, 0, NULL), 0);
    struct tern_ipv4_repr first = frag_repr(K1, 0, 8, 1);
    first.hdr_len = 60;
    first.opts = opts;
    first.opts_len = 40;
    struct result res;
    CHECK_EQ(ip_reasm_input(r, &first, data, 8, 0, &res.out, &res.out_len, &res.ip),
             TERN_E_BAD_LEN);
    check_empty(r);
    /* With the long first header known, the bound is 65535 - 60. */
    REQUIRE_EQ(ip_reasm_input(r, &first, data, 8, 0, &res.out, &res.out_len, &res.ip), 0);
    CHECK_EQ(feed(r, K1, data, 65472, 8, 0, 0, NULL), TERN_E_BAD_LEN); /* 65480 > 65475 */
    check_empty(r);
    ip_reasm_free(r);
}

/* ---- ATTACKS 11: overlaps abandon the datagram ---- */

/* Holds fragments [a0,a1) and [b0,b1) (b may be empty), then sends [n0,n1)
 * of `other` bytes; requires the overlap drop, then that the rest of the
 * datagram can no longer complete from stale data. */
static void overlap_case(uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1, uint32_t n0,
                         uint32_t n1, int n_mf)
{
    uint8_t data[128], other[128];
    fill(data, sizeof data, 1);
    fill(other, sizeof other, 2);
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    REQUIRE_EQ(feed(r, K1, data, a0, a1 - a0, 1, 0, NULL), 0);
    if (b1 > b0)
        REQUIRE_EQ(feed(r, K1, data, b0, b1 - b0, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, other, n0, n1 - n0, n_mf, 0, NULL), TERN_E_BAD_FIELD);
    CHECK_EQ(ip_reasm_stats(r)->dropped_overlap, 1);
    check_empty(r);
    /* Neither "first wins" nor "last wins": a complete set of the remaining
     * pieces starts a fresh datagram, which stays incomplete. */
    CHECK_EQ(feed(r, K1, data, 120, 8, 0, 0, NULL), 0);
    CHECK_EQ(ip_reasm_datagrams_held(r), 1);
    CHECK_EQ(ip_reasm_stats(r)->completed, 0);
    ip_reasm_free(r);
}

TEST(attack_11_overlap_at_start)
{
    overlap_case(16, 48, 0, 0, 8, 24, 1);
}

TEST(attack_11_overlap_at_end)
{
    overlap_case(16, 48, 0, 0, 40, 56, 1);
}

TEST(attack_11_overlap_in_middle_spanning_two)
{
    overlap_case(0, 32, 48, 80, 24, 56, 1);
}

TEST(attack_11_contained_overlap)
{
    overlap_case(0, 64, 0, 0, 16, 24, 1);
}

TEST(attack_11_containing_overlap)
{
    overlap_case(16, 24, 0, 0, 8, 40, 1);
}

TEST(attack_11_same_offset_different_bytes)
{
    overlap_case(16, 32, 0, 0, 16, 32, 1);
}

TEST(attack_11_same_offset_longer)
{
    overlap_case(16, 32, 0, 0, 16, 40, 1);
}

TEST(attack_11_final_overlapping_held)
{
    overlap_case(16, 48, 0, 0, 40, 53, 0);
}

TEST(attack_11_one_byte_differs)
{
    uint8_t data[64], evil[64];
    fill(data, sizeof data, 1);
    memcpy(evil, data, sizeof evil);
    evil[63] ^= 1;
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    REQUIRE_EQ(feed(r, K1, data, 0, 64, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, evil, 0, 64, 1, 0, NULL), TERN_E_BAD_FIELD);
    check_empty(r);
    ip_reasm_free(r);
}

/* ---- ATTACKS 12: exact duplicates ---- */

TEST(attack_12_exact_duplicates_ignored)
{
    static uint8_t data[300];
    fill(data, sizeof data, 4);
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    struct result res;
    /* Every fragment twice, the final and the offset-0 ones included. */
    CHECK_EQ(feed(r, K1, data, 256, 44, 0, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 256, 44, 0, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 0, 128, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 0, 128, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 256, 44, 0, 0, NULL), 0);
    CHECK_EQ(ip_reasm_bytes_held(r) <= 64 * KIB, 1);
    CHECK_EQ(feed(r, K1, data, 128, 128, 1, 0, &res), 1);
    REQUIRE_EQ(res.out_len, 300);
    CHECK_MEM(res.out, data, 300);
    CHECK_EQ(ip_reasm_stats(r)->duplicates, 3);
    CHECK_EQ(ip_reasm_stats(r)->dropped_overlap, 0);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(attack_12_duplicate_does_not_grow_memory)
{
    uint8_t data[64];
    fill(data, sizeof data, 4);
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    REQUIRE_EQ(feed(r, K1, data, 0, 64, 1, 0, NULL), 0);
    size_t held = ip_reasm_bytes_held(r);
    for (int i = 0; i < 1000; i++)
        REQUIRE_EQ(feed(r, K1, data, 0, 64, 1, (uint64_t)i, NULL), 0);
    CHECK_EQ(ip_reasm_bytes_held(r), held);
    CHECK_EQ(ip_reasm_stats(r)->duplicates, 1000);
    ip_reasm_free(r);
}

/* ---- ATTACKS 13: bad lengths, conflicting ends ---- */

TEST(attack_13_non_final_not_multiple_of_8)
{
    uint8_t data[64] = {0};
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    CHECK_EQ(feed(r, K1, data, 0, 12, 1, 0, NULL), TERN_E_BAD_LEN);
    check_empty(r);
    REQUIRE_EQ(feed(r, K1, data, 0, 16, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 16, 15, 1, 0, NULL), TERN_E_BAD_LEN);
    check_empty(r); /* the datagram in progress is abandoned */
    ip_reasm_free(r);
}

TEST(attack_13_zero_length_fragment)
{
    uint8_t data[64] = {0};
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    CHECK_EQ(feed(r, K1, data, 8, 0, 1, 0, NULL), TERN_E_BAD_LEN);
    REQUIRE_EQ(feed(r, K1, data, 0, 16, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 16, 0, 0, 0, NULL), TERN_E_BAD_LEN); /* empty final */
    check_empty(r);
    CHECK_EQ(ip_reasm_stats(r)->dropped_bad, 2);
    ip_reasm_free(r);
}

TEST(attack_13_two_different_finals)
{
    uint8_t data[64] = {0};
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    REQUIRE_EQ(feed(r, K1, data, 24, 8, 0, 0, NULL), 0);   /* end 32 */
    CHECK_EQ(feed(r, K1, data, 32, 8, 0, 0, NULL), TERN_E_BAD_LEN); /* end 40 */
    check_empty(r);
    REQUIRE_EQ(feed(r, K1, data, 24, 8, 0, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 8, 8, 0, 0, NULL), TERN_E_BAD_LEN); /* end 16 */
    check_empty(r);
    ip_reasm_free(r);
}

TEST(attack_13_data_past_known_end)
{
    uint8_t data[64] = {0};
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    REQUIRE_EQ(feed(r, K1, data, 16, 8, 0, 0, NULL), 0); /* end 24 */
    CHECK_EQ(feed(r, K1, data, 24, 8, 1, 0, NULL), TERN_E_BAD_LEN);
    check_empty(r);
    /* The same, data first: a final ending before data already held. */
    REQUIRE_EQ(feed(r, K1, data, 32, 16, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, K1, data, 16, 8, 0, 0, NULL), TERN_E_BAD_LEN);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(attack_13_final_flag_conflict_on_same_range)
{
    /* Same offset, length and bytes, but one says "last" and one "more":
     * not an exact duplicate. */
    uint8_t data[64] = {0};
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    REQUIRE_EQ(feed(r, K1, data, 16, 8, 1, 0, NULL), 0);
    CHECK(feed(r, K1, data, 16, 8, 0, 0, NULL) < 0);
    check_empty(r);
    REQUIRE_EQ(feed(r, K1, data, 16, 8, 0, 0, NULL), 0);
    CHECK(feed(r, K1, data, 16, 8, 1, 0, NULL) < 0);
    check_empty(r);
    ip_reasm_free(r);
}

/* ---- ATTACKS 14: tiny TCP fragments (RFC 1858 s3, RFC 3128) ---- */

TEST(attack_14_tcp_first_fragment_too_short)
{
    uint8_t data[64] = {0};
    struct key k = K1;
    k.proto = TERN_IPPROTO_TCP;
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    CHECK_EQ(feed(r, k, data, 0, 8, 1, 0, NULL), TERN_E_BAD_FIELD);
    CHECK_EQ(feed(r, k, data, 0, 16, 1, 0, NULL), TERN_E_BAD_FIELD);
    check_empty(r);
    /* Arriving after other fragments: the datagram is dropped. */
    REQUIRE_EQ(feed(r, k, data, 32, 8, 0, 0, NULL), 0);
    CHECK_EQ(feed(r, k, data, 0, 16, 1, 0, NULL), TERN_E_BAD_FIELD);
    check_empty(r);
    /* The same sizes are fine for UDP. */
    k.proto = TERN_IPPROTO_UDP;
    CHECK_EQ(feed(r, k, data, 0, 8, 1, 0, NULL), 0);
    ip_reasm_free(r);
}

TEST(attack_14_tcp_fragment_at_offset_8)
{
    uint8_t data[64];
    fill(data, sizeof data, 8);
    struct key k = K1;
    k.proto = TERN_IPPROTO_TCP;
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    REQUIRE_EQ(feed(r, k, data, 0, 24, 1, 0, NULL), 0);
    CHECK_EQ(feed(r, k, data, 8, 8, 1, 0, NULL), TERN_E_BAD_FIELD);
    check_empty(r);
    CHECK_EQ(feed(r, k, data, 8, 40, 0, 0, NULL), TERN_E_BAD_FIELD);
    check_empty(r);
    /* A normal TCP datagram: first fragment >= 20 bytes, next at 24. */
    struct result res;
    REQUIRE_EQ(feed(r, k, data, 0, 24, 1, 0, NULL), 0);
    REQUIRE_EQ(feed(r, k, data, 24, 40, 0, 0, &res), 1);
    CHECK_MEM(res.out, data, 64);
    CHECK_EQ(ip_reasm_stats(r)->dropped_bad, 2);
    check_empty(r);
    ip_reasm_free(r);
}

/* ---- ATTACKS 15: many incomplete datagrams, memory cap, timeout ---- */

struct expired {
    int calls;
    int bad_quotes;
    size_t last_len;
    uint8_t last[68];
};

static void on_expired(void *ctx, const uint8_t *quote, size_t quote_len)
{
    struct expired *e = ctx;
    e->calls++;
    if (quote_len != 28 || quote[0] != 0x45 || quote_len > sizeof e->last) {
        e->bad_quotes++;
        return;
    }
    e->last_len = quote_len;
    memcpy(e->last, quote, quote_len);
}

TEST(attack_15_ten_thousand_incomplete_datagrams)
{
    enum { MAXB = 32 * KIB, MAXD = 64, N = 10000 };
    static uint8_t data[1024];
    fill(data, sizeof data, 15);
    struct tern_reasm *r = mk(MAXB, MAXD);
    REQUIRE(r);
    int bad = 0;
    uint64_t t0 = 1000 * SEC;
    for (uint32_t i = 0; i < N; i++) {
        struct key k = K1;
        k.src = 0xc0000000u + i; /* 10,000 distinct senders */
        k.id = (uint16_t)i;
        /* Even: the offset-0 fragment; odd: a middle fragment. Sizes vary. */
        uint32_t off = i % 2 ? 512 : 0;
        size_t len = 8 * (1 + i % 64);
        if (feed(r, k, data, off, len, 1, t0 + i, NULL) != 0)
            bad++;
        if (ip_reasm_bytes_held(r) > MAXB || ip_reasm_datagrams_held(r) > MAXD)
            bad++;
    }
    CHECK_EQ(bad, 0);
    size_t held = ip_reasm_datagrams_held(r);
    CHECK(held > 0 && held <= MAXD);
    const struct ip_reasm_stats *st = ip_reasm_stats(r);
    CHECK_EQ(st->evicted, N - held);
    /* The oldest were evicted: the newest survives, the very first not. */
    struct key newest = K1, oldest = K1;
    newest.src = 0xc0000000u + N - 1;
    newest.id = (uint16_t)(N - 1);
    oldest.src = 0xc0000000u;
    oldest.id = 0;
    /* datagram N-1 is odd: holds [512, 512+8*(1+(N-1)%64)) */
    CHECK_EQ(feed(r, newest, data, 0, 8, 1, t0 + N, NULL), 0);
    CHECK_EQ(st->dropped_overlap, 0);
    CHECK_EQ(ip_reasm_datagrams_held(r), held);
    (void)oldest;

    /* 30 s timeout from each datagram's first fragment. Before it, nothing. */
    struct expired e = {0};
    uint64_t next = ip_reasm_expire(r, t0 + N - held, on_expired, &e);
    CHECK_EQ(e.calls, 0);
    CHECK(next >= t0 + 30 * SEC && next != UINT64_MAX);
    /* Count held datagrams with their offset-0 fragment: every even one,
     * plus `newest`, which just got one. */
    int with_first = 0;
    for (uint32_t i = N - (uint32_t)held; i < N; i++)
        with_first += i % 2 == 0 || i == N - 1;
    next = ip_reasm_expire(r, t0 + N + 30 * SEC, on_expired, &e);
    CHECK_EQ(next, UINT64_MAX);
    CHECK_EQ(e.calls, with_first);
    CHECK_EQ(e.bad_quotes, 0);
    CHECK_EQ(st->timeouts, held);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(attack_15_byte_cap_evicts_oldest)
{
    static uint8_t data[20000];
    fill(data, sizeof data, 6);
    struct tern_reasm *r = mk(16 * KIB, 64);
    REQUIRE(r);
    struct key a = K1, b = K1, c = K1;
    b.id = 2;
    c.id = 3;
    REQUIRE_EQ(feed(r, a, data, 0, 6000, 1, 0, NULL), 0);
    REQUIRE_EQ(feed(r, b, data, 0, 6000, 1, 1, NULL), 0);
    CHECK_EQ(ip_reasm_datagrams_held(r), 2);
    REQUIRE_EQ(feed(r, c, data, 0, 6000, 1, 2, NULL), 0); /* evicts a */
    CHECK(ip_reasm_bytes_held(r) <= 16 * KIB);
    CHECK_EQ(ip_reasm_datagrams_held(r), 2);
    CHECK_EQ(ip_reasm_stats(r)->evicted, 1);
    /* b completes: it was kept; a was not (its tail starts a new one). */
    struct result res;
    CHECK_EQ(feed(r, b, data, 6000, 100, 0, 3, &res), 1);
    CHECK_MEM(res.out, data, 6100);
    CHECK_EQ(feed(r, a, data, 6000, 100, 0, 4, NULL), 0);
    /* A datagram too large for the whole pool can never be held. */
    struct key d = K1;
    d.id = 4;
    REQUIRE_EQ(feed(r, d, data, 0, 8000, 1, 5, NULL), 0);
    REQUIRE_EQ(feed(r, d, data, 8000, 9000, 1, 5, NULL), TERN_E_NOMEM);
    CHECK(ip_reasm_bytes_held(r) <= 16 * KIB);
    struct expired e = {0};
    ip_reasm_expire(r, 100 * SEC, on_expired, &e);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(attack_15_datagram_cap_evicts_oldest)
{
    uint8_t data[64];
    fill(data, sizeof data, 7);
    struct tern_reasm *r = mk(64 * KIB, 3);
    REQUIRE(r);
    for (uint16_t id = 1; id <= 4; id++) {
        struct key k = K1;
        k.id = id;
        REQUIRE_EQ(feed(r, k, data, 0, 32, 1, id, NULL), 0);
        CHECK(ip_reasm_datagrams_held(r) <= 3);
    }
    CHECK_EQ(ip_reasm_stats(r)->evicted, 1);
    /* ids 2..4 are held and complete; id 1 was the oldest and is gone. */
    for (uint16_t id = 2; id <= 4; id++) {
        struct key k = K1;
        k.id = id;
        struct result res;
        CHECK_EQ(feed(r, k, data, 32, 32, 0, 10, &res), 1);
    }
    struct key k1 = K1;
    k1.id = 1;
    CHECK_EQ(feed(r, k1, data, 32, 32, 0, 10, NULL), 0);
    ip_reasm_expire(r, 100 * SEC, NULL, NULL);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(attack_15_timeout_counts_from_first_arrived_fragment)
{
    uint8_t data[64];
    fill(data, sizeof data, 8);
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    uint64_t t = 5 * SEC;
    REQUIRE_EQ(feed(r, K1, data, 32, 8, 1, t, NULL), 0);
    /* Later fragments do not extend the timer. */
    REQUIRE_EQ(feed(r, K1, data, 0, 8, 1, t + 29 * SEC, NULL), 0);
    struct expired e = {0};
    CHECK_EQ(ip_reasm_expire(r, t + 30 * SEC - 1, on_expired, &e), t + 30 * SEC);
    CHECK_EQ(e.calls, 0);
    CHECK_EQ(ip_reasm_datagrams_held(r), 1);
    CHECK_EQ(ip_reasm_expire(r, t + 30 * SEC, on_expired, &e), UINT64_MAX);
    CHECK_EQ(e.calls, 1);
    CHECK_EQ(ip_reasm_stats(r)->timeouts, 1);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(attack_15_no_time_exceeded_without_first_fragment)
{
    uint8_t data[64];
    fill(data, sizeof data, 9);
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    REQUIRE_EQ(feed(r, K1, data, 8, 16, 1, 0, NULL), 0);
    REQUIRE_EQ(feed(r, K1, data, 40, 8, 0, 0, NULL), 0);
    struct expired e = {0};
    CHECK_EQ(ip_reasm_expire(r, 31 * SEC, on_expired, &e), UINT64_MAX);
    CHECK_EQ(e.calls, 0);
    CHECK_EQ(ip_reasm_stats(r)->timeouts, 1);
    check_empty(r);
    ip_reasm_free(r);
}

/* scapy: raw(IP(src="10.0.0.1", dst="10.0.0.2", id=0x777, flags="MF", ttl=5, proto=17, options=[IPOption_Router_Alert()])/bytes(range(16))) */
static const uint8_t first_frag_ra[40] = {
    0x46, 0x00, 0x00, 0x28, 0x07, 0x77, 0x20, 0x00, 0x05, 0x11, 0xe5, 0x47,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x94, 0x04, 0x00, 0x00,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void keep_quote(void *ctx, const uint8_t *quote, size_t quote_len)
{
    struct expired *e = ctx;
    e->calls++;
    e->last_len = quote_len;
    if (quote_len <= sizeof e->last)
        memcpy(e->last, quote, quote_len);
}

TEST(attack_15_quote_is_received_header_plus_8_bytes)
{
    struct tern_ipv4_repr ip;
    REQUIRE_EQ(tern_ipv4_parse(first_frag_ra, sizeof first_frag_ra, 0, &ip), 24);
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    struct result res;
    REQUIRE_EQ(ip_reasm_input(r, &ip, first_frag_ra + 24, ip.payload_len, 7, &res.out,
                                &res.out_len, &res.ip),
               0);
    struct expired e = {0};
    ip_reasm_expire(r, 7 + 30 * SEC, keep_quote, &e);
    REQUIRE_EQ(e.calls, 1);
    REQUIRE_EQ(e.last_len, 24 + 8);
    CHECK_MEM(e.last, first_frag_ra, 24 + 8);
    check_empty(r);
    ip_reasm_free(r);
}

TEST(reasm_expire_empty_and_next_deadline)
{
    uint8_t data[64] = {0};
    struct tern_reasm *r = mk(64 * KIB, 4);
    REQUIRE(r);
    CHECK_EQ(ip_reasm_expire(r, 0, NULL, NULL), UINT64_MAX);
    struct key a = K1, b = K1;
    b.id = 99;
    REQUIRE_EQ(feed(r, a, data, 8, 8, 1, 10 * SEC, NULL), 0);
    REQUIRE_EQ(feed(r, b, data, 8, 8, 1, 12 * SEC, NULL), 0);
    CHECK_EQ(ip_reasm_expire(r, 11 * SEC, NULL, NULL), 40 * SEC);
    CHECK_EQ(ip_reasm_expire(r, 40 * SEC, NULL, NULL), 42 * SEC);
    CHECK_EQ(ip_reasm_datagrams_held(r), 1);
    CHECK_EQ(ip_reasm_expire(r, 42 * SEC, NULL, NULL), UINT64_MAX);
    check_empty(r);
    ip_reasm_free(r);
}
