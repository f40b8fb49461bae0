/*
 * Tests for src/trace/pcap.c: writer/reader round trip through a memory
 * FILE (fmemopen), both byte orders, the nanosecond magic, and corrupt or
 * truncated files. Header layout per the libpcap file format (magic,
 * version 2.4, thiszone, sigfigs, snaplen, linktype; records ts_sec,
 * ts_usec|nsec, caplen, len).
 */
#include <stdio.h>

#include "harness.h"
#include "tern/pcap.h"

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void be32(uint8_t *p, uint32_t v)
{
    p[3] = (uint8_t)v, p[2] = (uint8_t)(v >> 8), p[1] = (uint8_t)(v >> 16), p[0] = (uint8_t)(v >> 24);
}

/* Builds a one-record file in the given byte order; returns its length. */
static size_t make_file(uint8_t *b, int big, uint32_t magic, uint16_t vmaj, uint32_t snaplen,
                        uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t wirelen,
                        size_t data_len)
{
    void (*put)(uint8_t *, uint32_t) = big ? be32 : le32;
    memset(b, 0, 24 + 16 + data_len);
    put(b, magic);
    if (big)
        b[4] = (uint8_t)(vmaj >> 8), b[5] = (uint8_t)vmaj, b[7] = 4;
    else
        b[4] = (uint8_t)vmaj, b[5] = (uint8_t)(vmaj >> 8), b[6] = 4;
    put(b + 16, snaplen);
    put(b + 20, 101);
    put(b + 24, sec);
    put(b + 28, frac);
    put(b + 32, caplen);
    put(b + 36, wirelen);
    for (size_t i = 0; i < data_len; i++)
        b[40 + i] = (uint8_t)(i * 3);
    return 40 + data_len;
}

static int read_one(uint8_t *file, size_t len, struct tern_pcap_reader *r,
                    struct tern_pcap_rec *rec, uint8_t *buf, size_t cap)
{
    FILE *f = fmemopen(file, len, "rb");
    if (!f)
        return -100;
    int rc = tern_pcap_reader_init(r, f);
    if (rc == TERN_OK)
        rc = tern_pcap_read(r, rec, buf, cap);
    fclose(f);
    return rc;
}

TEST(pcap_round_trip)
{
    static uint8_t mem[4096];
    static uint8_t frame[300], got[300];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (uint8_t)(i * 7 + 1);
    FILE *f = fmemopen(mem, sizeof mem, "w+b");
    REQUIRE(f);
    struct tern_pcap_writer w;
    REQUIRE_EQ(tern_pcap_writer_init(&w, f, TERN_LINKTYPE_ETHERNET, 200), TERN_OK);
    CHECK_EQ(tern_pcap_write(&w, 1700000000123456ull, frame, 60, 60), TERN_OK);
    CHECK_EQ(tern_pcap_write(&w, 1700000001000001ull, frame, 300, 1514), TERN_OK); /* cut to 200 */
    CHECK_EQ(tern_pcap_write(&w, 5, frame, 0, 0), TERN_OK);
    CHECK_EQ(tern_pcap_write(&w, 5, frame, 10, 9), TERN_E_INVAL);
    CHECK_EQ(tern_pcap_writer_flush(&w), TERN_OK);
    long size = ftell(f);
    CHECK_EQ(size, 24 + 16 + 60 + 16 + 200 + 16);
    rewind(f);
    struct tern_pcap_reader r;
    struct tern_pcap_rec rec;
    REQUIRE_EQ(tern_pcap_reader_init(&r, f), TERN_OK);
    CHECK_EQ(r.linktype, TERN_LINKTYPE_ETHERNET);
    CHECK_EQ(r.snaplen, 200);
    CHECK_EQ(r.version_major, 2);
    CHECK_EQ(r.version_minor, 4);
    REQUIRE_EQ(tern_pcap_read(&r, &rec, got, sizeof got), 1);
    CHECK_EQ(rec.ts_us, 1700000000123456ull);
    CHECK_EQ(rec.caplen, 60);
    CHECK_EQ(rec.wirelen, 60);
    CHECK_MEM(got, frame, 60);
    REQUIRE_EQ(tern_pcap_read(&r, &rec, got, sizeof got), 1);
    CHECK_EQ(rec.ts_us, 1700000001000001ull);
    CHECK_EQ(rec.caplen, 200);
    CHECK_EQ(rec.wirelen, 1514);
    CHECK_MEM(got, frame, 200);
    REQUIRE_EQ(tern_pcap_read(&r, &rec, got, sizeof got), 1);
    CHECK_EQ(rec.caplen, 0);
    CHECK_EQ(tern_pcap_read(&r, &rec, got, sizeof got), 0); /* clean EOF */
    CHECK_EQ(r.records, 3);
    fclose(f);
    /* The global header as libpcap writes it (little-endian host). */
    static const uint8_t hdr[] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                  0,    0,    0,    0,    200, 0, 0, 0, 1, 0, 0, 0};
    CHECK_MEM(mem, hdr, sizeof hdr);
}

TEST(pcap_both_byte_orders_and_nsec)
{
    static uint8_t file[200], buf[64];
    struct tern_pcap_reader r;
    struct tern_pcap_rec rec;
    for (int big = 0; big < 2; big++) {
        size_t n = make_file(file, big, TERN_PCAP_MAGIC_US, 2, 65535, 10, 999999, 20, 40, 20);
        REQUIRE_EQ(read_one(file, n, &r, &rec, buf, sizeof buf), 1);
        CHECK_EQ(rec.ts_us, 10999999ull);
        CHECK_EQ(rec.caplen, 20);
        CHECK_EQ(rec.wirelen, 40);
        CHECK_EQ(r.linktype, TERN_LINKTYPE_RAW);
        CHECK_EQ(buf[19], (uint8_t)57);
        n = make_file(file, big, TERN_PCAP_MAGIC_NS, 2, 65535, 10, 123456789, 20, 20, 20);
        REQUIRE_EQ(read_one(file, n, &r, &rec, buf, sizeof buf), 1);
        CHECK_EQ(r.nsec, 1);
        CHECK_EQ(rec.ts_us, 10123456ull); /* nanoseconds truncated to microseconds */
    }
}

TEST(pcap_rejects_bad_headers)
{
    static uint8_t file[200], buf[64];
    struct tern_pcap_reader r;
    struct tern_pcap_rec rec;
    size_t n = make_file(file, 0, 0x12345678u, 2, 65535, 1, 1, 20, 20, 20);
    CHECK_EQ(read_one(file, n, &r, &rec, buf, sizeof buf), TERN_E_FORMAT);
    n = make_file(file, 0, TERN_PCAP_MAGIC_US, 3, 65535, 1, 1, 20, 20, 20);
    CHECK_EQ(read_one(file, n, &r, &rec, buf, sizeof buf), TERN_E_FORMAT);
    n = make_file(file, 1, TERN_PCAP_MAGIC_US, 1, 65535, 1, 1, 20, 20, 20);
    CHECK_EQ(read_one(file, n, &r, &rec, buf, sizeof buf), TERN_E_FORMAT);
    CHECK_EQ(read_one(file, 23, &r, &rec, buf, sizeof buf), TERN_E_SHORT);
    CHECK_EQ(read_one(file, 0, &r, &rec, buf, sizeof buf), TERN_E_SHORT);
}

TEST(pcap_rejects_bad_records)
{
    static uint8_t file[200], buf[64];
    struct tern_pcap_reader r;
    struct tern_pcap_rec rec;
    /* caplen > wirelen */
    size_t n = make_file(file, 0, TERN_PCAP_MAGIC_US, 2, 65535, 1, 1, 20, 19, 20);
    CHECK_EQ(read_one(file, n, &r, &rec, buf, sizeof buf), TERN_E_BAD_LEN);
    /* caplen beyond the hard cap (a garbage length must not make us read 4 GB) */
    n = make_file(file, 1, TERN_PCAP_MAGIC_US, 2, 65535, 1, 1, 0xfffffff0u, 0xfffffff0u, 20);
    CHECK_EQ(read_one(file, n, &r, &rec, buf, sizeof buf), TERN_E_BAD_LEN);
    n = make_file(file, 0, TERN_PCAP_MAGIC_US, 2, 65535, 1, 1, TERN_PCAP_MAX_RECORD + 1,
                  TERN_PCAP_MAX_RECORD + 1, 20);
    CHECK_EQ(read_one(file, n, &r, &rec, buf, sizeof buf), TERN_E_BAD_LEN);
    /* caplen above the header's snaplen but under the cap: tolerated like libpcap */
    n = make_file(file, 0, TERN_PCAP_MAGIC_US, 2, 10, 1, 1, 20, 20, 20);
    CHECK_EQ(read_one(file, n, &r, &rec, buf, sizeof buf), 1);
    /* caller's buffer too small */
    CHECK_EQ(read_one(file, n, &r, &rec, buf, 19), TERN_E_NOSPC);
    /* file ends inside the record data, and inside the record header */
    n = make_file(file, 0, TERN_PCAP_MAGIC_US, 2, 65535, 1, 1, 20, 20, 20);
    CHECK_EQ(read_one(file, n - 1, &r, &rec, buf, sizeof buf), TERN_E_SHORT);
    CHECK_EQ(read_one(file, 24 + 7, &r, &rec, buf, sizeof buf), TERN_E_SHORT);
    /* header only: clean EOF */
    CHECK_EQ(read_one(file, 24, &r, &rec, buf, sizeof buf), 0);
}

/* Random bytes after a valid header: every read ends in a record, EOF or an
 * error, within a bounded number of steps, and never writes past cap. */
TEST(pcap_garbage_is_bounded)
{
    static uint8_t file[4096], buf[300];
    for (int round = 0; round < 200; round++) {
        size_t n = make_file(file, round & 1, round & 2 ? TERN_PCAP_MAGIC_NS : TERN_PCAP_MAGIC_US,
                             2, 256, 1, 1, 8, 8, 8);
        for (size_t i = 24; i < sizeof file; i++)
            file[i] = (uint8_t)(test_rand() % (round & 4 ? 4 : 256));
        n = sizeof file;
        FILE *f = fmemopen(file, n, "rb");
        REQUIRE(f);
        struct tern_pcap_reader r;
        struct tern_pcap_rec rec;
        REQUIRE_EQ(tern_pcap_reader_init(&r, f), TERN_OK);
        int rc, steps = 0;
        while ((rc = tern_pcap_read(&r, &rec, buf, sizeof buf)) == 1) {
            REQUIRE(rec.caplen <= sizeof buf && rec.caplen <= rec.wirelen);
            REQUIRE(++steps < 300);
        }
        CHECK(rc == 0 || rc == TERN_E_SHORT || rc == TERN_E_BAD_LEN || rc == TERN_E_NOSPC);
        fclose(f);
    }
}
