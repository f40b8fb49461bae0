/*
 * tcp.c - TCP header codec: parse and emit one segment (pure wire code).
 *
 * Follows RFC 9293 s3.1 (header format, checksum over the IPv4 pseudo-header)
 * and s3.4 (SEG.LEN); RFC 6093 for the urgent pointer; RFC 3168 / RFC 3540
 * for the ECE, CWR and AE/NS bits. Options live in tcp_opts.c.
 * Not here: any connection state (RFC 5961 checks, PAWS, SACK validation,
 * urgent mode) - the TCP layer does that with the repr this returns.
 * Defences: ATTACKS 23 (data offset), 27 (urgent pointer never indexes),
 * 28 (forbidden flag combinations).
 */
#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/tcp.h"

#define IPPROTO_TCP_NUM 6
#define TCP_SEG_MAX 65535u /* what an IPv4 datagram can carry, and what the
                            * 16-bit pseudo-header length can describe */

/* The six RFC 793 control bits; ECE/CWR/AE on their own are not controls. */
#define CTL_BITS (TERN_TCP_FIN | TERN_TCP_SYN | TERN_TCP_RST | TERN_TCP_PSH | TERN_TCP_ACK | TERN_TCP_URG)

/*
 * ATTACKS 28: combinations no correct TCP sends, used for OS fingerprinting
 * and to confuse state machines.
 *  - SYN+FIN and SYN+RST: RFC 9293 s3.10.7 would process the SYN and the
 *    FIN/RST in some order; no legitimate segment carries both.
 *  - no control bit at all ("null scan"): every segment after the SYN
 *    carries ACK (RFC 9293 s3.10.7.4 "if the ACK bit is off drop the
 *    segment"). ECE/CWR/AE alone do not count as control bits.
 *  - FIN+SYN+RST+PSH+ACK+URG ("Christmas tree"), already covered by
 *    SYN+FIN but named for clarity.
 * DEVIATION: RFC 9293 s3.10.7 would process the SYN and then the FIN (or
 * RST) of such a segment; we drop it at parse time (Linux likewise discards
 * SYN+FIN in LISTEN) because no conforming TCP sends one and accepting it
 * only helps scanners and state-confusion attacks. TERN_WIRE_LENIENT lets
 * printers see them.
 */
static bool flags_forbidden(uint16_t f)
{
    if ((f & (TERN_TCP_SYN | TERN_TCP_FIN)) == (TERN_TCP_SYN | TERN_TCP_FIN))
        return true;
    if ((f & (TERN_TCP_SYN | TERN_TCP_RST)) == (TERN_TCP_SYN | TERN_TCP_RST))
        return true;
    if ((f & CTL_BITS) == 0)
        return true;
    if ((f & CTL_BITS) == CTL_BITS)
        return true;
    return false;
}

static uint16_t seg_csum(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    /* RFC 9293 s3.1: the checksum covers a 96-bit pseudo-header (source,
     * destination, zero, PTCL = 6, TCP length) plus header and data; an odd
     * final octet is padded with zero (done by tern_csum_add). */
    uint32_t sum = tern_csum_pseudo_ipv4(src, dst, IPPROTO_TCP_NUM, (uint16_t)len);
    return tern_csum_fold(tern_csum_add(sum, seg, len));
}

int tern_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, unsigned flags,
                   struct tern_tcp_repr *out)
{
    memset(out, 0, sizeof *out);
    if (len < TERN_TCP_HLEN_MIN)
        return TERN_E_SHORT;
    /* A TCP segment rides in one IPv4 datagram; anything longer cannot have
     * a meaningful pseudo-header length (and could not be re-emitted). */
    if (len > TCP_SEG_MAX)
        return TERN_E_BAD_LEN;
    /* RFC 9293 s3.1: Data Offset is the header length in 32-bit words.
     * ATTACKS 23: below 5 (it would overlap the fixed header) or past the
     * bytes we have -> drop. Compared, never subtracted first (G1). */
    size_t hlen = (size_t)(buf[12] >> 4) * 4;
    if (hlen < TERN_TCP_HLEN_MIN || hlen > len)
        return TERN_E_BAD_LEN;
    /* A segment with the right checksum stored sums to 0xffff -> fold is 0. */
    if (!(flags & TERN_WIRE_NO_CSUM) && seg_csum(buf, len, src, dst) != 0)
        return TERN_E_BAD_CSUM;

    /* Byte 12: data offset (4 bits), 3 reserved bits (ignored, RFC 9293
     * s3.1), AE/NS (RFC 3540). Byte 13: CWR ECE URG ACK PSH RST SYN FIN. */
    uint16_t f = (uint16_t)(buf[13] | (uint16_t)(buf[12] & 0x01) << 8);
    if (!(flags & TERN_WIRE_LENIENT) && flags_forbidden(f))
        return TERN_E_BAD_FLAGS;

    out->sport = tern_get16(buf);
    out->dport = tern_get16(buf + 2);
    out->seq = tern_get32(buf + 4);
    out->ack = tern_get32(buf + 8);
    out->hdr_len = (uint8_t)hlen;
    out->flags = f;
    out->win = tern_get16(buf + 14);
    out->csum = tern_get16(buf + 16);
    /* ATTACKS 27: reported raw and never used here to index anything. The
     * pointer may be 0 or point past the data; RFC 6093 s6 recommends that
     * applications not use urgent data, and tern delivers it inline as
     * ordinary data, so payload/payload_len do not depend on it. */
    out->urg = tern_get16(buf + 18);
    out->raw_opts = buf + TERN_TCP_HLEN_MIN;
    out->raw_opts_len = (uint8_t)(hlen - TERN_TCP_HLEN_MIN);
    tern_tcp_opts_parse(out->raw_opts, out->raw_opts_len, &out->opts);
    out->payload = buf + hlen;
    out->payload_len = len - hlen;
    return (int)hlen;
}

/* The header's fields and its option bytes (hlen = 20 + olen), the
 * checksum field zero. */
static void put_hdr(const struct tern_tcp_repr *r, uint8_t *buf, size_t hlen, const uint8_t *opts,
                    int olen)
{
    tern_put16(buf, r->sport);
    tern_put16(buf + 2, r->dport);
    tern_put32(buf + 4, r->seq);
    tern_put32(buf + 8, r->ack);
    buf[12] = (uint8_t)((hlen / 4) << 4 | ((r->flags >> 8) & 0x01)); /* reserved bits 0 */
    buf[13] = (uint8_t)r->flags;
    tern_put16(buf + 14, r->win);
    tern_put16(buf + 16, 0);
    tern_put16(buf + 18, r->urg);
    if (olen)
        memcpy(buf + TERN_TCP_HLEN_MIN, opts, (size_t)olen);
}

int tern_tcp_emit_hdr(const struct tern_tcp_repr *r, uint8_t *buf, size_t cap)
{
    uint8_t opts[TERN_TCP_OPTS_MAX];
    int olen = tern_tcp_opts_emit(&r->opts, opts, sizeof opts);
    if (olen < 0)
        return olen;
    size_t hlen = TERN_TCP_HLEN_MIN + (size_t)olen; /* olen is a multiple of 4 */
    if (r->payload_len > TCP_SEG_MAX - hlen)
        return TERN_E_INVAL;
    if (hlen + r->payload_len > cap)
        return TERN_E_NOSPC;
    put_hdr(r, buf, hlen, opts, olen);
    return (int)hlen;
}

void tern_tcp_set_csum(uint8_t *buf, size_t hlen, size_t plen, uint32_t src, uint32_t dst,
                       uint32_t payload_sum)
{
    /* RFC 9293 s3.1: pseudo-header + header + payload; hlen is a multiple
     * of 4, so the payload's sum joins at an even offset. */
    uint32_t sum = tern_csum_pseudo_ipv4(src, dst, IPPROTO_TCP_NUM, (uint16_t)(hlen + plen));
    tern_put16(buf + 16, 0);
    sum = tern_csum_add(sum, buf, hlen);
    sum = tern_csum_add_at(sum, payload_sum, 0);
    tern_put16(buf + 16, tern_csum_fold(sum));
}

int tern_tcp_emit(const struct tern_tcp_repr *r, uint32_t src, uint32_t dst, uint8_t *buf,
                  size_t cap)
{
    uint8_t opts[TERN_TCP_OPTS_MAX];
    int olen = tern_tcp_opts_emit(&r->opts, opts, sizeof opts);
    if (olen < 0)
        return olen;
    size_t hlen = TERN_TCP_HLEN_MIN + (size_t)olen; /* olen is a multiple of 4 */
    size_t plen = r->payload_len;
    if (plen > TCP_SEG_MAX - hlen)
        return TERN_E_INVAL;
    size_t total = hlen + plen;
    if (total > cap)
        return TERN_E_NOSPC;

    /* Payload first, with memmove: it may already sit inside buf (in place
     * at buf + hlen, or anywhere overlapping the header we are about to
     * write). */
    if (plen)
        memmove(buf + hlen, r->payload, plen);

    put_hdr(r, buf, hlen, opts, olen);
    tern_put16(buf + 16, seg_csum(buf, total, src, dst));
    return (int)total;
}

uint32_t tern_tcp_seg_len(const struct tern_tcp_repr *r)
{
    /* RFC 9293 s3.4: SEG.LEN counts the octets occupied by the data,
     * including SYN and FIN. */
    uint32_t n = (uint32_t)r->payload_len;
    if (r->flags & TERN_TCP_SYN)
        n++;
    if (r->flags & TERN_TCP_FIN)
        n++;
    return n;
}
