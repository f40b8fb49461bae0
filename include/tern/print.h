/*
 * tern/print.h - a frame printer whose output is identical to tcpdump 4.99.3
 * `tcpdump -n -r FILE` (and `-S`, `-e`), one line per frame.
 *
 * Covered: Ethernet (unknown ethertypes as tcpdump's hex dump), ARP/RARP,
 * IPv4 (truncation, bad lengths, fragments; options are only printed by
 * tcpdump -v, so never), ICMP (echo, unreachable, time exceeded, redirect,
 * parameter problem, timestamp, mask, ...), UDP and TCP (flags, relative
 * sequence numbers, options, SACK), and by port as tcpdump chooses: DNS
 * (UDP and TCP 53, mDNS 5353: queries and answers), BOOTP/DHCP (67/68), NTP
 * (123), HTTP request and status lines (TCP 80, 8080). IPv6 gets its header
 * line with UDP, TCP, ICMPv6 echo and neighbor discovery.
 * DEVIATIONS (from tcpdump; each marked in the source): other application
 * protocols (TFTP, SNMP, SSH, FTP, ...), IPv6 extension headers and other
 * ICMPv6 types, VLAN, LLC, and IP protocols such as GRE or OSPF are printed
 * generically; the generic part matches tcpdump, the dissector's is missing.
 *
 * The printer shows broken frames instead of rejecting them: it never uses
 * the strict wire parsers, reads every field through bounds-checked getters
 * and never reads past caplen.
 *
 * Not thread-safe per printer (the conversation table changes as frames are
 * printed); separate printers are independent. No allocation, no I/O, no
 * time or time-zone calls: the caller passes the UTC offset for timestamps.
 */
#ifndef TERN_PRINT_H
#define TERN_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/api.h"
#include "tern/pcap.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tern_print_opts {
    bool abs_seq;  /* -S: absolute TCP sequence numbers */
    bool link_hdr; /* -e: print the link-level header */
};

/* tcpdump remembers the initial sequence numbers of every TCP conversation
 * it has seen (to print relative numbers) in a table that grows without
 * bound. DEVIATION (from tcpdump): ours is a fixed set-associative table of
 * BUCKETS x WAYS entries (about 96 KiB); when a bucket is full the least
 * recently used conversation is forgotten, and its next ACK segment is
 * printed with absolute numbers (it starts a new entry), as tcpdump does
 * for a conversation it has not seen before. Output differs from tcpdump
 * only when more than WAYS live conversations share a bucket. */
#ifndef TERN_PRINT_CONV_BUCKETS /* build-time override; must match library and users */
#define TERN_PRINT_CONV_BUCKETS 1024
#endif
#define TERN_PRINT_CONV_WAYS 4

struct tern_print_conv {
    uint32_t a, b;     /* addresses in tcpdump's collating order */
    uint32_t ports;    /* port_a << 16 | port_b */
    uint32_t seq, ack; /* initial numbers of the a->b and b->a directions */
    uint32_t stamp;    /* last use (LRU order), 0 = free */
};

struct tern_printer {
    struct tern_print_opts opts;
    uint32_t clock; /* use counter for LRU eviction */
    struct tern_print_conv conv[TERN_PRINT_CONV_BUCKETS * TERN_PRINT_CONV_WAYS];
};

/* opts may be NULL (defaults: relative seq, no link header). */
TERN_API void tern_printer_init(struct tern_printer *p, const struct tern_print_opts *opts);

/* Renders one frame into out[0..cap) without the timestamp and without a
 * trailing newline (a few lines, like tcpdump's hex dump of an unknown
 * ethertype, contain embedded "\n\t" lines). linktype is
 * TERN_LINKTYPE_ETHERNET or TERN_LINKTYPE_RAW (others print a one-line
 * notice). caplen: bytes present at frame; wirelen: original length (taken
 * as caplen if smaller). A frame with caplen 0 prints tcpdump's
 * "[Invalid header: caplen==0]", which tcpdump shows without a timestamp.
 * Output longer than cap - 1 is cut; out is always
 * NUL-terminated when cap > 0. Returns the number of characters written. */
TERN_API size_t tern_print_frame(struct tern_printer *p, uint32_t linktype, const uint8_t *frame,
                                 size_t caplen, size_t wirelen, char *out, size_t cap);

/* tcpdump's default timestamp "HH:MM:SS.uuuuuu " (with the trailing space)
 * for ts_us microseconds since the epoch shifted by utc_offset seconds
 * (local time = UTC + offset; the caller computes it, e.g. with
 * localtime_r's tm_gmtoff). Returns the length written (16) or 0 if
 * cap < 17. */
TERN_API size_t tern_print_ts(uint64_t ts_us, long utc_offset, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
