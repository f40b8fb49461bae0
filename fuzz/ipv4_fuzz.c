/*
 * fuzz/ipv4_fuzz.c - libFuzzer target for the IPv4, ICMP and UDP codecs
 * (src/wire/ipv4.c, icmp.c, udp.c): IPv4 parse with each flag combination,
 * the option walk, ICMP/UDP parse of the payload (with and without checksum
 * checks), the ICMP quoted-datagram parser and the dotted-quad helpers.
 * Each successful parse is emitted and re-parsed; any disagreement aborts.
 * Not a whole-stack target (ATTACKS 5-8, 16-17, 22 at the codec level).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/icmp.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OUT 65536
static uint8_t out[MAX_OUT + 64];

/* a and b are equal except that the 16-bit checksums at off may be the two
 * ones' complement encodings of zero (0x0000 and 0xffff), both of which
 * verify (RFC 1071 s1); emit always writes the one the sum yields. */
static int same_but_csum(const uint8_t *a, const uint8_t *b, size_t len, size_t off)
{
    if (memcmp(a, b, off) != 0 || memcmp(a + off + 2, b + off + 2, len - off - 2) != 0)
        return 0;
    uint16_t x = tern_get16(a + off), y = tern_get16(b + off);
    return x == y || (x == 0 && y == 0xffff) || (x == 0xffff && y == 0);
}

static void walk_opts(const struct tern_ipv4_repr *r)
{
    size_t pos = 0;
    struct tern_ipv4_opt o;
    int steps = 0;
    for (;;) {
        size_t before = pos;
        int rc = tern_ipv4_opt_next(r->opts, r->opts_len, &pos, &o);
        /* parse accepted the header, so the walk must end cleanly. */
        if (rc < 0)
            abort();
        if (rc == 0)
            break;
        if (pos <= before || pos > r->opts_len || ++steps > 40)
            abort();
        if (o.type == TERN_IPOPT_NOP ? (o.len != 1 || o.data) : (o.len < 2 || pos - before != o.len))
            abort();
    }
}

static int ipv4_eq(const struct tern_ipv4_repr *a, const struct tern_ipv4_repr *b)
{
    return a->hdr_len == b->hdr_len && a->tos == b->tos && a->total_len == b->total_len &&
           a->id == b->id && a->rf == b->rf && a->df == b->df && a->mf == b->mf &&
           a->frag_off == b->frag_off && a->ttl == b->ttl && a->proto == b->proto &&
           a->src == b->src && a->dst == b->dst && a->opts_len == b->opts_len &&
           (a->opts_len == 0 || memcmp(a->opts, b->opts, a->opts_len) == 0) &&
           a->payload_len == b->payload_len;
}

static void check_udp(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, unsigned flags)
{
    struct tern_udp_repr u, v;
    int rc = tern_udp_parse(p, len, src, dst, flags, &u);
    if (rc < 0) {
        if ((rc == TERN_E_SHORT) != (len < 8))
            abort();
        if (rc == TERN_E_BAD_CSUM && (flags & TERN_WIRE_NO_CSUM))
            abort();
        return;
    }
    if (rc != 8 || u.len < 8 || u.len > len || u.payload_len != u.len - 8 || u.payload != p + 8)
        abort();
    int n = tern_udp_emit(&u, src, dst, out, sizeof out);
    if (n != u.len)
        abort();
    /* A verified non-zero checksum is reproduced exactly. */
    if (!(flags & TERN_WIRE_NO_CSUM) && u.csum != 0 && memcmp(out, p, u.len) != 0)
        abort();
    if (tern_udp_parse(out, (size_t)n, src, dst, 0, &v) != 8)
        abort();
    if (v.sport != u.sport || v.dport != u.dport || v.len != u.len || v.csum == 0 ||
        v.payload_len != u.payload_len || memcmp(v.payload, u.payload, u.payload_len) != 0)
        abort();
}

static void check_quote(const uint8_t *p, size_t len)
{
    struct tern_icmp_quote q;
    int rc = tern_icmp_parse_quote(p, len, &q);
    if (rc < 0)
        return;
    if (rc != TERN_OK || q.l4_len < 8 || q.l4 != p + q.ip.hdr_len ||
        q.ip.hdr_len + q.l4_len > len || q.l4_len != q.ip.payload_len)
        abort();
    if (q.ip.frag_off != 0 && (q.sport || q.dport || q.tcp_seq))
        abort();
}

static void check_icmp(const uint8_t *p, size_t len, unsigned flags)
{
    struct tern_icmp_repr c, d;
    int rc = tern_icmp_parse(p, len, flags, &c);
    if (rc < 0) {
        if ((rc == TERN_E_SHORT) != (len < 8))
            abort();
        if (rc == TERN_E_BAD_CSUM && (flags & TERN_WIRE_NO_CSUM))
            abort();
        return;
    }
    if (rc != 8 || c.data != p + 8 || c.data_len != len - 8)
        abort();
    if (tern_icmp_is_error(c.type))
        check_quote(c.data, c.data_len);
    if (len > MAX_OUT)
        return;
    int n = tern_icmp_emit(&c, out, sizeof out);
    if (n != (int)len)
        abort();
    /* Bytes 4..7 may lose unused bits (needfrag high half, paramprob 5..7);
     * everything else round-trips exactly when the checksum was verified. */
    bool exact = !(c.type == TERN_ICMP_PARAMPROB ||
                   (c.type == TERN_ICMP_UNREACH && c.code == TERN_ICMP_UNREACH_NEEDFRAG));
    if (!(flags & TERN_WIRE_NO_CSUM) && exact && !same_but_csum(out, p, len, 2))
        abort();
    if (tern_icmp_parse(out, (size_t)n, 0, &d) != 8)
        abort();
    if (d.type != c.type || d.code != c.code || d.id != c.id || d.seq != c.seq ||
        d.next_mtu != c.next_mtu || d.pointer != c.pointer || d.gateway != c.gateway ||
        d.data_len != c.data_len || memcmp(d.data, c.data, c.data_len) != 0)
        abort();
    if (exact && d.rest != c.rest)
        abort();
}

static void check_ipv4(const uint8_t *data, size_t size, unsigned flags)
{
    struct tern_ipv4_repr r, s;
    int rc = tern_ipv4_parse(data, size, flags, &r);
    if (rc < 0) {
        if (rc == TERN_E_BAD_CSUM && (flags & TERN_WIRE_NO_CSUM))
            abort();
        return;
    }
    if (rc != r.hdr_len || rc < 20 || rc > 60 || (size_t)rc > size ||
        r.total_len < r.hdr_len || (size_t)r.hdr_len + r.payload_len > size ||
        (size_t)r.hdr_len + r.payload_len > r.total_len)
        abort();
    if (!(flags & TERN_WIRE_TRUNC_OK) && r.hdr_len + r.payload_len != r.total_len)
        abort();
    walk_opts(&r);

    /* Emit the header, copy the payload after it, parse again. */
    int h = tern_ipv4_emit(&r, out, sizeof out);
    if (h != rc)
        abort();
    bool full = (size_t)r.hdr_len + r.payload_len == r.total_len;
    if (full && !(flags & TERN_WIRE_NO_CSUM) && !same_but_csum(out, data, (size_t)h, 10))
        abort();
    memcpy(out + h, data + h, r.payload_len);
    if (tern_ipv4_parse(out, (size_t)h + r.payload_len, 0, &s) != h)
        abort();
    r.total_len = (uint16_t)(r.hdr_len + r.payload_len); /* clipped under TRUNC_OK */
    if (!ipv4_eq(&r, &s))
        abort();

    const uint8_t *pl = data + h;
    if (r.proto == TERN_IPPROTO_ICMP) {
        check_icmp(pl, r.payload_len, flags & TERN_WIRE_NO_CSUM);
    } else if (r.proto == TERN_IPPROTO_UDP) {
        check_udp(pl, r.payload_len, r.src, r.dst, flags & TERN_WIRE_NO_CSUM);
    }
}

static void check_addr_text(const uint8_t *data, size_t size)
{
    char s[24], t[16];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    uint32_t a, b;
    if (tern_ipv4_aton(s, &a) != TERN_OK)
        return;
    /* Strict syntax: only the canonical form is accepted. */
    if (strcmp(tern_ipv4_ntoa(a, t), s) != 0)
        abort();
    if (tern_ipv4_aton(t, &b) != TERN_OK || a != b)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_ipv4(data, size, 0);
    check_ipv4(data, size, TERN_WIRE_NO_CSUM);
    check_ipv4(data, size, TERN_WIRE_TRUNC_OK | TERN_WIRE_NO_CSUM);
    /* The raw input as a quoted datagram, an ICMP message and a UDP datagram. */
    check_quote(data, size);
    check_icmp(data, size, TERN_WIRE_NO_CSUM);
    check_udp(data, size, 0x0a000001, 0x0a000002, TERN_WIRE_NO_CSUM);
    check_addr_text(data, size);
    return 0;
}
