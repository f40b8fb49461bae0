/*
 * Tests for src/trace/print*.c: lines for fixed frames. The frames were
 * made with scapy (expression above each array) and written to a pcap; the
 * expected strings are what `TZ=UTC tcpdump -n -r` (and -e, -S) 4.99.3
 * printed for that pcap, minus the timestamp (generator: the same scapy
 * expressions, see tests/scripts/gen_mix.py for the full comparison).
 */
#include "harness.h"
#include "tern/print.h"

/* scapy: Ether(src="02:00:00:00:00:01",dst="02:00:00:00:00:02")/IP(src="10.0.0.1",dst="10.0.0.2",id=1)/ICMP(type=8,id=1,seq=1)/Raw(bytes(range(56))) */
static const uint8_t f0[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x54, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x66, 0xa6, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0xeb, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37};
/* scapy: Ether(src="02:00:00:00:00:01",dst="ff:ff:ff:ff:ff:ff")/ARP(op=1,hwsrc="02:00:00:00:00:01",psrc="10.0.0.1",pdst="10.0.0.2") */
static const uint8_t f1[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02};
/* scapy: Ether(src="02:00:00:00:00:01",dst="02:00:00:00:00:02")/IP(src="10.0.0.1",dst="10.0.0.2",id=2)/TCP(sport=40000,dport=7777,flags="S",seq=1000,window=64240,options=[("MSS",1460),("SAckOK",b""),("Timestamp",(1,0)),("NOP",None),("WScale",7)]) */
static const uint8_t f2[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x02, 0x00, 0x00, 0x40, 0x06, 0x66, 0xb8, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x1e, 0x61, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x7a, 0x82, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
/* scapy: Ether(src="02:00:00:00:00:02",dst="02:00:00:00:00:01")/IP(src="10.0.0.2",dst="10.0.0.1",id=3)/TCP(sport=7777,dport=40000,flags="SA",seq=5000,ack=1001,window=65160) */
static const uint8_t f3[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x03, 0x00, 0x00, 0x40, 0x06, 0x66, 0xcb, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x1e, 0x61, 0x9c, 0x40, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x03, 0xe9, 0x50, 0x12, 0xfe, 0x88, 0xcb, 0x34, 0x00, 0x00};
/* scapy: Ether(src="02:00:00:00:00:01",dst="02:00:00:00:00:02")/IP(src="10.0.0.1",dst="10.0.0.2",id=4)/TCP(sport=40000,dport=7777,flags="PA",seq=1001,ack=5001,window=502)/Raw(b"x"*100) */
static const uint8_t f4[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x8c, 0x00, 0x04, 0x00, 0x00, 0x40, 0x06, 0x66, 0x66, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x1e, 0x61, 0x00, 0x00, 0x03, 0xe9, 0x00, 0x00, 0x13, 0x89, 0x50, 0x18, 0x01, 0xf6, 0x3f, 0xd5, 0x00, 0x00, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78};
/* scapy: Ether(src="02:00:00:00:00:02",dst="02:00:00:00:00:01")/IP(src="10.0.0.2",dst="10.0.0.1",id=5)/TCP(sport=7777,dport=40000,flags="A",seq=5001,ack=1001,window=509,options=[("NOP",None),("NOP",None),("SAck",(1101,1201))]) */
static const uint8_t f5[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x34, 0x00, 0x05, 0x00, 0x00, 0x40, 0x06, 0x66, 0xbd, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x1e, 0x61, 0x9c, 0x40, 0x00, 0x00, 0x13, 0x89, 0x00, 0x00, 0x03, 0xe9, 0x80, 0x10, 0x01, 0xfd, 0x88, 0xac, 0x00, 0x00, 0x01, 0x01, 0x05, 0x0a, 0x00, 0x00, 0x04, 0x4d, 0x00, 0x00, 0x04, 0xb1};
/* scapy: Ether(src="02:00:00:00:00:01",dst="02:00:00:00:00:02")/IP(src="10.0.0.1",dst="10.0.0.2",id=6)/UDP(sport=40000,dport=40001)/Raw(b"hello") */
static const uint8_t f6[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x21, 0x00, 0x06, 0x00, 0x00, 0x40, 0x11, 0x66, 0xc4, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x9c, 0x41, 0x00, 0x0d, 0x6f, 0x7d, 0x68, 0x65, 0x6c, 0x6c, 0x6f};
/* scapy: Ether(src="02:00:00:00:00:03",dst="02:00:00:00:00:01")/IP(src="192.168.7.9",dst="10.0.0.1",id=7)/ICMP(type=3,code=4,nexthopmtu=1280)/bytes(IP(src="10.0.0.1",dst="10.0.0.2")/TCP(sport=40000,dport=7777))[:28] */
static const uint8_t f7[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x45, 0x00, 0x00, 0x38, 0x00, 0x07, 0x00, 0x00, 0x40, 0x01, 0xa9, 0x0c, 0xc0, 0xa8, 0x07, 0x09, 0x0a, 0x00, 0x00, 0x01, 0x03, 0x04, 0x3d, 0x5a, 0x00, 0x00, 0x05, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x66, 0xcd, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x1e, 0x61, 0x00, 0x00, 0x00, 0x00};

static const struct {
    const uint8_t *f;
    size_t len;
    const char *n, *e, *s; /* tcpdump -n, -n -e, -n -S */
} cases[] = {
    {f0, sizeof f0,
     "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64",
     "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 98: 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64",
     "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64"},
    {f1, sizeof f1,
     "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28",
     "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.0.0.2 tell 10.0.0.1, length 28",
     "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28"},
    {f2, sizeof f2,
     "IP 10.0.0.1.40000 > 10.0.0.2.7777: Flags [S], seq 1000, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0",
     "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 74: 10.0.0.1.40000 > 10.0.0.2.7777: Flags [S], seq 1000, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0",
     "IP 10.0.0.1.40000 > 10.0.0.2.7777: Flags [S], seq 1000, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"},
    {f3, sizeof f3,
     "IP 10.0.0.2.7777 > 10.0.0.1.40000: Flags [S.], seq 5000, ack 1001, win 65160, length 0",
     "02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype IPv4 (0x0800), length 54: 10.0.0.2.7777 > 10.0.0.1.40000: Flags [S.], seq 5000, ack 1001, win 65160, length 0",
     "IP 10.0.0.2.7777 > 10.0.0.1.40000: Flags [S.], seq 5000, ack 1001, win 65160, length 0"},
    {f4, sizeof f4,
     "IP 10.0.0.1.40000 > 10.0.0.2.7777: Flags [P.], seq 1:101, ack 1, win 502, length 100",
     "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 154: 10.0.0.1.40000 > 10.0.0.2.7777: Flags [P.], seq 1:101, ack 1, win 502, length 100",
     "IP 10.0.0.1.40000 > 10.0.0.2.7777: Flags [P.], seq 1001:1101, ack 5001, win 502, length 100"},
    {f5, sizeof f5,
     "IP 10.0.0.2.7777 > 10.0.0.1.40000: Flags [.], ack 1, win 509, options [nop,nop,sack 1 {101:201}], length 0",
     "02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype IPv4 (0x0800), length 66: 10.0.0.2.7777 > 10.0.0.1.40000: Flags [.], ack 1, win 509, options [nop,nop,sack 1 {101:201}], length 0",
     "IP 10.0.0.2.7777 > 10.0.0.1.40000: Flags [.], ack 1001, win 509, options [nop,nop,sack 1 {1101:1201}], length 0"},
    {f6, sizeof f6,
     "IP 10.0.0.1.40000 > 10.0.0.2.40001: UDP, length 5",
     "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 47: 10.0.0.1.40000 > 10.0.0.2.40001: UDP, length 5",
     "IP 10.0.0.1.40000 > 10.0.0.2.40001: UDP, length 5"},
    {f7, sizeof f7,
     "IP 192.168.7.9 > 10.0.0.1: ICMP 10.0.0.2 unreachable - need to frag (mtu 1280), length 36",
     "02:00:00:00:00:03 > 02:00:00:00:00:01, ethertype IPv4 (0x0800), length 70: 192.168.7.9 > 10.0.0.1: ICMP 10.0.0.2 unreachable - need to frag (mtu 1280), length 36",
     "IP 192.168.7.9 > 10.0.0.1: ICMP 10.0.0.2 unreachable - need to frag (mtu 1280), length 36"},
};

static void run_all(const struct tern_print_opts *o, int which)
{
    struct tern_printer p;
    char line[1024];
    tern_printer_init(&p, o);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, cases[i].f, cases[i].len,
                                    cases[i].len, line, sizeof line);
        const char *want = which == 0 ? cases[i].n : which == 1 ? cases[i].e : cases[i].s;
        CHECK_STR(line, want);
        CHECK_EQ(n, strlen(want));
    }
}

TEST(print_matches_tcpdump_n)
{
    run_all(NULL, 0);
}

TEST(print_matches_tcpdump_e)
{
    struct tern_print_opts o = {.link_hdr = true};
    run_all(&o, 1);
}

TEST(print_matches_tcpdump_S)
{
    struct tern_print_opts o = {.abs_seq = true};
    run_all(&o, 2);
}

/* The same IPv4 datagram on a raw link (tcpdump -n prints the same line;
 * with -e it adds "ip: "). */
TEST(print_raw_link)
{
    struct tern_printer p;
    char line[256];
    tern_printer_init(&p, NULL);
    tern_print_frame(&p, TERN_LINKTYPE_RAW, f6 + 14, sizeof f6 - 14, sizeof f6 - 14, line,
                     sizeof line);
    CHECK_STR(line, "IP 10.0.0.1.40000 > 10.0.0.2.40001: UDP, length 5");
    struct tern_print_opts o = {.link_hdr = true};
    tern_printer_init(&p, &o);
    tern_print_frame(&p, TERN_LINKTYPE_RAW, f6 + 14, sizeof f6 - 14, sizeof f6 - 14, line,
                     sizeof line);
    CHECK_STR(line, "ip: 10.0.0.1.40000 > 10.0.0.2.40001: UDP, length 5");
}

/* Snapshot-cut frames: expected lines from tcpdump -n -r on a pcap of the
 * same frames with caplen cut as below (wirelen unchanged). */
TEST(print_truncated_frames)
{
    struct tern_printer p;
    char line[256];
    tern_printer_init(&p, NULL);
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f2, 14 + 20 + 10, sizeof f2, line, sizeof line);
    CHECK_STR(line, "IP 10.0.0.1.40000 > 10.0.0.2.7777:  [|tcp]");
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f2, 14 + 10, sizeof f2, line, sizeof line);
    CHECK_STR(line, "IP  [|ip]");
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f2, 10, sizeof f2, line, sizeof line);
    CHECK_STR(line, " [|ether]");
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f1, 14 + 20, sizeof f1, line, sizeof line);
    CHECK_STR(line, " [|arp]");
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f0, 14 + 20 + 4, sizeof f0, line, sizeof line);
    CHECK_STR(line, "IP 10.0.0.1 > 10.0.0.2:  [|icmp]");
    /* options cut before a kind byte, and inside the timestamps option
     * (where tcpdump marks the open list with '>') */
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f2, 14 + 20 + 20 + 6, sizeof f2, line,
                     sizeof line);
    CHECK_STR(line, "IP 10.0.0.1.40000 > 10.0.0.2.7777: Flags [S], seq 1000, win 64240, "
                    "options [mss 1460,sackOK, [|tcp]");
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f2, 14 + 20 + 20 + 10, sizeof f2, line,
                     sizeof line);
    CHECK_STR(line, "IP 10.0.0.1.40000 > 10.0.0.2.7777: Flags [S], seq 1000, win 64240, "
                    "options [mss 1460,sackOK,TS [|tcp]>");
}

/* A short output buffer: always NUL-terminated, never overrun. */
TEST(print_small_buffer_is_safe)
{
    struct tern_printer p;
    char line[32];
    memset(line, 'X', sizeof line);
    tern_printer_init(&p, NULL);
    size_t n = tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f2, sizeof f2, sizeof f2, line, 20);
    CHECK_EQ(n, 19);
    CHECK_EQ(line[19], '\0');
    CHECK_EQ(line[20], 'X');
    CHECK_EQ(tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f2, sizeof f2, sizeof f2, line, 0), 0);
}

TEST(print_timestamp)
{
    char ts[32];
    /* 1700000000 = 2023-11-14 22:13:20 UTC */
    CHECK_EQ(tern_print_ts(1700000000123456ull, 0, ts, sizeof ts), 16);
    CHECK_STR(ts, "22:13:20.123456 ");
    tern_print_ts(1700000000000001ull, 3600, ts, sizeof ts);
    CHECK_STR(ts, "23:13:20.000001 ");
    tern_print_ts(1700000000000000ull, -23 * 3600, ts, sizeof ts);
    CHECK_STR(ts, "23:13:20.000000 ");
    CHECK_EQ(tern_print_ts(0, 0, ts, 16), 0);
}

/* The conversation table is bounded: 100,000 distinct conversations leave
 * it at its fixed size, and a fresh handshake still prints relative numbers. */
TEST(print_conversation_table_bounded)
{
    static struct tern_printer p;
    char line[512];
    uint8_t fr[sizeof f4];
    tern_printer_init(&p, NULL);
    memcpy(fr, f4, sizeof fr);
    for (uint32_t i = 0; i < 100000; i++) {
        fr[14 + 12] = (uint8_t)(i >> 16); /* vary the source address */
        fr[14 + 13] = (uint8_t)(i >> 8);
        fr[14 + 14] = (uint8_t)i;
        tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, fr, sizeof fr, sizeof fr, line, sizeof line);
    }
    size_t used = 0;
    for (size_t i = 0; i < TERN_PRINT_CONV_BUCKETS * TERN_PRINT_CONV_WAYS; i++)
        used += p.conv[i].stamp != 0;
    CHECK(used <= TERN_PRINT_CONV_BUCKETS * TERN_PRINT_CONV_WAYS);
    CHECK(used > TERN_PRINT_CONV_BUCKETS); /* it is really used */
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f3, sizeof f3, sizeof f3, line, sizeof line);
    tern_print_frame(&p, TERN_LINKTYPE_ETHERNET, f4, sizeof f4, sizeof f4, line, sizeof line);
    CHECK_STR(line, cases[4].n);
}

/* Garbage never crashes and always terminates the line. */
TEST(print_random_garbage)
{
    static uint8_t buf[200];
    char line[128];
    struct tern_printer p;
    for (int round = 0; round < 4; round++) {
        struct tern_print_opts o = {.abs_seq = round & 1, .link_hdr = round & 2};
        tern_printer_init(&p, &o);
        for (int i = 0; i < 5000; i++) {
            size_t len = (size_t)(test_rand() % sizeof buf);
            for (size_t j = 0; j < len; j++)
                buf[j] = (uint8_t)test_rand();
            if (len > 14 && (i & 1)) { /* mostly IPv4 */
                buf[12] = 8, buf[13] = 0, buf[14] = (uint8_t)(0x45 + (i % 3));
            }
            size_t n = tern_print_frame(&p, i & 4 ? TERN_LINKTYPE_RAW : TERN_LINKTYPE_ETHERNET,
                                        buf, len, len + (size_t)(i % 50), line, sizeof line);
            REQUIRE(n < sizeof line);
            REQUIRE(strlen(line) == n);
        }
    }
}
