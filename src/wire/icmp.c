/*
 * icmp.c - ICMPv4 message codec (RFC 792, RFC 1122 s3.2.2, RFC 1191 s4
 * next-hop MTU) and the parser for the datagram quoted in an error.
 * Not: which errors to send, rate limits, or which errors to believe
 * (ATTACKS 18-21) - that is the ICMP layer.
 */
#include "tern/wire/icmp.h"

#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"

static bool is_echo(uint8_t type)
{
    return type == TERN_ICMP_ECHO || type == TERN_ICMP_ECHOREPLY;
}

static bool is_needfrag(uint8_t type, uint8_t code)
{
    return type == TERN_ICMP_UNREACH && code == TERN_ICMP_UNREACH_NEEDFRAG;
}

int tern_icmp_parse(const uint8_t *buf, size_t len, unsigned flags, struct tern_icmp_repr *out)
{
    /* ATTACKS 16: a message shorter than the 8-byte header is dropped. */
    if (len < TERN_ICMP_HLEN)
        return TERN_E_SHORT;
    /* RFC 792: the checksum covers the whole ICMP message; RFC 1122
     * s3.2.2: a message with a bad checksum is discarded. */
    if (!(flags & TERN_WIRE_NO_CSUM) && tern_csum(buf, len) != 0)
        return TERN_E_BAD_CSUM;
    uint8_t type = buf[0], code = buf[1];
    memset(out, 0, sizeof *out);
    out->type = type;
    out->code = code;
    out->csum = tern_get16(buf + 2);
    out->rest = tern_get32(buf + 4);
    /* Bytes 4..7 are decoded only for the types that give them a meaning;
     * the other fields stay 0 and `rest` always holds the raw word. */
    if (is_echo(type)) {
        out->id = tern_get16(buf + 4);  /* RFC 792 "Echo or Echo Reply Message" */
        out->seq = tern_get16(buf + 6);
    } else if (is_needfrag(type, code)) {
        out->next_mtu = tern_get16(buf + 6); /* RFC 1191 s4: low 16 bits */
    } else if (type == TERN_ICMP_PARAMPROB) {
        out->pointer = buf[4];  /* RFC 792 "Parameter Problem Message" */
    } else if (type == TERN_ICMP_REDIRECT) {
        out->gateway = tern_get32(buf + 4); /* RFC 792 "Redirect Message" */
    }
    out->data = buf + TERN_ICMP_HLEN;
    out->data_len = len - TERN_ICMP_HLEN;
    return TERN_ICMP_HLEN;
}

int tern_icmp_emit(const struct tern_icmp_repr *r, uint8_t *buf, size_t cap)
{
    /* No ICMP message can exceed an IPv4 datagram (RFC 791: 65535 bytes). */
    if (r->data_len > TERN_IPV4_MAX_LEN - TERN_ICMP_HLEN || (r->data_len && !r->data))
        return TERN_E_INVAL;
    if (cap < TERN_ICMP_HLEN || r->data_len > cap - TERN_ICMP_HLEN)
        return TERN_E_NOSPC;
    /* Payload first. Apart from the buffer (an echo's data, a quoted
     * datagram), it is copied in the pass that sums it (tern_csum_copy);
     * when it may overlap (or already be at) buf + 8, moved, then summed
     * with the header below. */
    size_t n = TERN_ICMP_HLEN + r->data_len;
    uint32_t dsum = 0;
    bool fused = false;
    if (r->data_len) {
        uintptr_t p = (uintptr_t)r->data, b = (uintptr_t)buf;
        if (p + r->data_len <= b || b + n <= p) {
            dsum = tern_csum_copy(buf + TERN_ICMP_HLEN, r->data, r->data_len, 0);
            fused = true;
        } else {
            memmove(buf + TERN_ICMP_HLEN, r->data, r->data_len);
        }
    }
    buf[0] = r->type;
    buf[1] = r->code;
    tern_put16(buf + 2, 0);
    if (is_echo(r->type)) {
        tern_put16(buf + 4, r->id);
        tern_put16(buf + 6, r->seq);
    } else if (is_needfrag(r->type, r->code)) {
        tern_put16(buf + 4, 0); /* RFC 1191 s4: "unused" high-order 16 bits are zero */
        tern_put16(buf + 6, r->next_mtu);
    } else if (r->type == TERN_ICMP_PARAMPROB) {
        buf[4] = r->pointer; /* RFC 792: followed by 3 unused (zero) bytes */
        buf[5] = buf[6] = buf[7] = 0;
    } else if (r->type == TERN_ICMP_REDIRECT) {
        tern_put32(buf + 4, r->gateway);
    } else {
        tern_put32(buf + 4, r->rest);
    }
    /* RFC 792: the checksum covers the ICMP message from its type; the
     * data joins the header's sum at an even offset (8). */
    uint32_t sum = fused ? tern_csum_add_at(tern_csum_add(0, buf, TERN_ICMP_HLEN), dsum, 0)
                         : tern_csum_add(0, buf, n);
    tern_put16(buf + 2, tern_csum_fold(sum));
    return (int)n;
}

int tern_icmp_parse_quote(const uint8_t *data, size_t len, struct tern_icmp_quote *out)
{
    /* RFC 792 / RFC 1122 s3.2.2: an error carries the offending datagram's
     * internet header plus at least its first 64 bits of data. The inner
     * header is a copy, possibly of a datagram longer than what is quoted
     * (TRUNC_OK), and routers along the way may have changed it, so its
     * checksum is not checked (NO_CSUM). Its IHL and options are still
     * validated like any header (ATTACKS 8, 17). */
    struct tern_ipv4_repr ip;
    int hlen = tern_ipv4_parse(data, len, TERN_WIRE_TRUNC_OK | TERN_WIRE_NO_CSUM, &ip);
    if (hlen < 0)
        return hlen;
    /* ip.payload_len counts the quoted bytes that belong to the inner
     * datagram (clipped to len, excluding any bytes past its total length).
     * ATTACKS 17: fewer than 8 means the transport header is truncated. */
    if (ip.payload_len < 8)
        return TERN_E_SHORT;
    const uint8_t *l4 = data + hlen;
    memset(out, 0, sizeof *out);
    out->ip = ip;
    out->l4 = l4;
    out->l4_len = ip.payload_len;
    /* Only a first fragment (offset 0) carries the transport header; for a
     * later fragment the quoted bytes are data, so ports stay 0. */
    if (ip.frag_off != 0)
        return TERN_OK;
    switch (ip.proto) {
    case TERN_IPPROTO_TCP:
        out->sport = tern_get16(l4);
        out->dport = tern_get16(l4 + 2);
        out->tcp_seq = tern_get32(l4 + 4);
        break;
    case TERN_IPPROTO_UDP:
        out->sport = tern_get16(l4);
        out->dport = tern_get16(l4 + 2);
        break;
    case TERN_IPPROTO_ICMP:
        out->sport = tern_get16(l4 + 4); /* echo identifier */
        out->dport = tern_get16(l4 + 6); /* echo sequence number */
        break;
    default:
        break;
    }
    return TERN_OK;
}

bool tern_icmp_is_error(uint8_t type)
{
    /* RFC 1122 s3.2.2: the error messages; echo, timestamp, information and
     * address mask are queries. */
    switch (type) {
    case TERN_ICMP_UNREACH:
    case TERN_ICMP_SOURCEQUENCH:
    case TERN_ICMP_REDIRECT:
    case TERN_ICMP_TIMXCEED:
    case TERN_ICMP_PARAMPROB:
        return true;
    default:
        return false;
    }
}
