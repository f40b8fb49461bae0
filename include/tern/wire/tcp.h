/*
 * tern/wire/tcp.h - TCP header and option codec (RFC 9293 s3.1-3.2,
 * RFC 7323 window scale and timestamps, RFC 2018 SACK).
 * Parse-level defences: ATTACKS 23-28. State (RFC 5961, PAWS, ...) is the
 * TCP layer's business, not this codec's.
 */
#ifndef TERN_WIRE_TCP_H
#define TERN_WIRE_TCP_H

#include "tern/api.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_TCP_HLEN_MIN 20
#define TERN_TCP_HLEN_MAX 60
#define TERN_TCP_OPTS_MAX 40

#define TERN_TCP_FIN 0x001
#define TERN_TCP_SYN 0x002
#define TERN_TCP_RST 0x004
#define TERN_TCP_PSH 0x008
#define TERN_TCP_ACK 0x010
#define TERN_TCP_URG 0x020
#define TERN_TCP_ECE 0x040
#define TERN_TCP_CWR 0x080
#define TERN_TCP_AE 0x100 /* RFC 3540 NS / AccECN AE: low bit of byte 12 */

/* Option kinds */
#define TERN_TCPOPT_EOL 0
#define TERN_TCPOPT_NOP 1
#define TERN_TCPOPT_MSS 2
#define TERN_TCPOPT_WSCALE 3
#define TERN_TCPOPT_SACK_PERM 4
#define TERN_TCPOPT_SACK 5
#define TERN_TCPOPT_TS 8

/* DEVIATION: an advertised MSS below 88 is raised to 88 (Linux's historic
 * floor). Any IPv4 host must accept 576-byte datagrams (RFC 1122 s3.3.2), so
 * 88 is always deliverable, and a tiny MSS would let a peer make us send
 * one segment per byte (CVE-2019-11479). ATTACKS 26. */
#define TERN_TCP_MSS_FLOOR 88
#define TERN_TCP_WSCALE_MAX 14 /* RFC 7323 s2.3 */
#define TERN_TCP_SACK_MAX 4

struct tern_tcp_sack_block {
    uint32_t left, right;
};

/* Options as understood (validated and clamped). */
struct tern_tcp_opts {
    bool has_mss;
    uint16_t mss;        /* clamped up to TERN_TCP_MSS_FLOOR on parse */
    bool has_wscale;
    uint8_t wscale;      /* clamped down to 14 on parse */
    bool sack_perm;
    bool has_ts;
    uint32_t ts_val, ts_ecr;
    uint8_t sack_count;  /* 0..4 */
    struct tern_tcp_sack_block sack[TERN_TCP_SACK_MAX];
};

/* One raw option, as the iterator sees it. */
struct tern_tcp_opt {
    uint8_t kind;
    uint8_t len;          /* whole option length; 1 for NOP */
    const uint8_t *data;  /* len - 2 bytes (NULL for NOP) */
};

/* Walks opts[0..len). Returns 1 with *opt set, 0 at EOL or when no bytes are
 * left, TERN_E_BAD_OPT when an option's length is < 2 or runs past the end
 * (the walk must stop there, ATTACKS 24). Advances *pos by >= 1 per option. */
TERN_API int tern_tcp_opt_next(const uint8_t *opts, size_t len, size_t *pos, struct tern_tcp_opt *opt);

/* Fills *out from opts[0..len): an option of the wrong length is ignored
 * (MSS != 4, WS != 3, SACK-permitted != 2, TS != 10, SACK != 2+8n or n > 4,
 * ATTACKS 25), MSS and WS are clamped (ATTACKS 26), a malformed option stops
 * the walk (ATTACKS 24). Never fails. */
TERN_API void tern_tcp_opts_parse(const uint8_t *opts, size_t len, struct tern_tcp_opts *out);

/* Writes the options in the order Linux uses (MSS; SACK-permitted and
 * timestamps; NOP + window scale; NOP NOP + SACK blocks), padded with NOPs
 * to a multiple of 4. Returns the length (0..40) or TERN_E_NOSPC when they
 * do not fit in cap or in 40 bytes. */
TERN_API int tern_tcp_opts_emit(const struct tern_tcp_opts *o, uint8_t *buf, size_t cap);

struct tern_tcp_repr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hdr_len;           /* bytes, 20..60 (set by parse; emit computes) */
    uint16_t flags;            /* TERN_TCP_* bits */
    uint16_t win;              /* raw window field (unscaled) */
    uint16_t csum;             /* as received; emit computes its own */
    uint16_t urg;              /* urgent pointer, raw */
    struct tern_tcp_opts opts; /* parse: understood options; emit: options to write */
    const uint8_t *raw_opts;   /* parse: the option bytes in buf */
    uint8_t raw_opts_len;
    const uint8_t *payload;    /* parse: into buf; emit: copied (memmove) */
    size_t payload_len;
};

/* buf/len: the IP payload; src/dst host order (pseudo-header).
 * Returns hdr_len. TERN_E_SHORT (len < 20), TERN_E_BAD_LEN (data offset < 5
 * or beyond len, ATTACKS 23), TERN_E_BAD_CSUM (unless TERN_WIRE_NO_CSUM),
 * TERN_E_BAD_FLAGS (SYN+FIN, SYN+RST, no flags, or FIN+SYN+RST+PSH+ACK+URG
 * all set, unless TERN_WIRE_LENIENT, ATTACKS 28). The urgent pointer is
 * reported raw and never used to index (ATTACKS 27: tern treats urgent data
 * as ordinary data, as RFC 6093 s6 recommends). */
TERN_API int tern_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, unsigned flags,
                            struct tern_tcp_repr *out);

/* Writes header + options (from r->opts) + payload with checksum.
 * Returns the segment length, TERN_E_NOSPC, or TERN_E_INVAL (> 65535). */
TERN_API int tern_tcp_emit(const struct tern_tcp_repr *r, uint32_t src, uint32_t dst, uint8_t *buf,
                           size_t cap);

/* For segments built in place: writes header + options at buf (checksum
 * 0) for a payload of r->payload_len bytes to be put at buf + the returned
 * header length (20 + options, a multiple of 4); r->payload is not read.
 * Returns the header length, TERN_E_NOSPC or TERN_E_INVAL (> 65535). */
TERN_API int tern_tcp_emit_hdr(const struct tern_tcp_repr *r, uint8_t *buf, size_t cap);
/* Then stores the checksum of the segment at buf (hlen header bytes, plen
 * payload bytes after them) given payload_sum, the payload's partial sum
 * (tern_csum_copy or tern_csum_add from 0); the payload is not read. */
TERN_API void tern_tcp_set_csum(uint8_t *buf, size_t hlen, size_t plen, uint32_t src, uint32_t dst,
                                uint32_t payload_sum);

/* SEG.LEN (RFC 9293 s3.4): payload bytes plus one each for SYN and FIN. */
TERN_API uint32_t tern_tcp_seg_len(const struct tern_tcp_repr *r);

#ifdef __cplusplus
}
#endif
#endif
