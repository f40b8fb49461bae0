/*
 * src/trace/print_ip.c - IPv4 (RFC 791) as tcpdump 4.99.3 -n prints it:
 * "IP src > dst: ..." with the transport printed by the next layer,
 * "bad-hlen", "bad-len", "truncated-ip - N bytes missing!", non-first
 * fragments as "ip-proto-N". IP options are only shown by tcpdump -v,
 * so they are skipped (by IHL) here.
 * Not a validator: see tern/wire/ipv4.h for that.
 */
#include "tern/wire/ipv4.h"
#include "trace/print_ctx.h"

void pc_ip_print(struct pc *c, const uint8_t *bp, uint32_t length)
{
    c->proto = "ip";
    uint8_t v = pc_u8(c, bp);
    if (c->trunc)
        return;
    if (v >> 4 != 4) {
        if (v >> 4 == 6)
            pc_printf(c, "IP6, wrong link-layer encapsulation");
        else
            pc_printf(c, "IP%u", v >> 4);
        pc_printf(c, " (invalid)");
        return;
    }
    if (!c->p->opts.link_hdr)
        pc_printf(c, "IP ");
    if (!pc_has(c, bp, TERN_IPV4_HLEN_MIN)) {
        pc_print_trunc(c);
        return;
    }
    if (length < TERN_IPV4_HLEN_MIN) {
        pc_printf(c, "truncated-ip %u", length);
        return;
    }
    uint32_t hlen = (uint32_t)(v & 0x0f) * 4;
    if (hlen < TERN_IPV4_HLEN_MIN) {
        pc_printf(c, "bad-hlen %u", hlen);
        return;
    }
    uint32_t len = tern_get16(bp + 2);
    if (length < len)
        pc_printf(c, "truncated-ip - %u bytes missing! ", len - length);
    if (len < hlen) {
        pc_printf(c, "bad-len %u", len);
        return;
    }
    /* Like tcpdump, nothing past the IP datagram (link padding) is read. */
    uint32_t keep = length < len ? length : len;
    if (pc_has(c, bp, keep))
        c->end = bp + keep;
    uint16_t off = tern_get16(bp + 6);
    uint8_t proto = bp[9];
    char s[16], d[16];
    if ((off & 0x1fff) != 0) {
        pc_printf(c, "%s > %s:", pc_ip(c, bp + 12, s), pc_ip(c, bp + 16, d));
        pc_printf(c, " ip-proto-%u", proto);
        return;
    }
    const uint8_t *cp = bp + hlen;
    uint32_t plen = len - hlen;
    if (proto != TERN_IPPROTO_TCP && proto != TERN_IPPROTO_UDP && proto != 132 && proto != 33)
        pc_printf(c, "%s > %s: ", pc_ip(c, bp + 12, s), pc_ip(c, bp + 16, d));
    size_t avail = (size_t)(c->end - bp);
    if (avail < hlen) {
        pc_printf(c, " [remaining caplen(%zu) < header length(%u)]", avail, hlen);
        pc_fail(c);
        return;
    }
    switch (proto) {
    case TERN_IPPROTO_TCP:
        pc_tcp_print(c, cp, plen, bp);
        break;
    case TERN_IPPROTO_UDP:
        pc_udp_print(c, cp, plen, bp, (off & 0x2000) != 0);
        break;
    case TERN_IPPROTO_ICMP:
        pc_icmp_print(c, cp, plen);
        break;
    default:
        /* DEVIATION (from tcpdump): protocols tcpdump dissects (IGMP, GRE,
         * ESP, AH, OSPF, PIM, SCTP, ...) are printed generically. */
        pc_printf(c, " ip-proto-%u %u", proto, plen);
        break;
    }
}
