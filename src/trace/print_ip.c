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

void pc_addrs(struct pc *c, const uint8_t *ip, char s[PC_ADDR_MAX], char d[PC_ADDR_MAX])
{
    if (pc_has(c, ip, 1) && ip[0] >> 4 == 6) {
        pc_ip6_str(ip + 8, s, PC_ADDR_MAX); /* the IPv6 printer checked all 40 octets */
        pc_ip6_str(ip + 24, d, PC_ADDR_MAX);
        return;
    }
    pc_ip(c, ip + 12, s);
    pc_ip(c, ip + 16, d);
}

uint32_t pc_addr_key(const uint8_t *ip, int which)
{
    if (ip[0] >> 4 != 6)
        return tern_get32(ip + (which ? 16 : 12));
    /* DEVIATION (from tcpdump, which keys IPv6 conversations by the whole
     * addresses): a 32-bit FNV-1a hash; two IPv6 conversations with equal
     * ports whose addresses collide share an entry. */
    const uint8_t *a = ip + (which ? 24 : 8);
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 16777619u;
    return h;
}

/* IPv6 (RFC 8200 s3) as tcpdump 4.99.3 -n prints it: "IP6 src > dst: "
 * then the next header; TCP and UDP print their own "addr.port" pair.
 * DEVIATION (from tcpdump): extension headers (RFC 8200 s4: hop-by-hop,
 * routing, fragment, destination options), AH, ESP and the other upper
 * layers are printed as " ip-proto-N LEN"; so are jumbograms (RFC 2675),
 * whose length is in a hop-by-hop option. */
void pc_ip6_print(struct pc *c, const uint8_t *bp, uint32_t length)
{
    c->proto = "ip6";
    if (!pc_has(c, bp, 40)) {
        pc_print_trunc(c);
        return;
    }
    if (!c->p->opts.link_hdr)
        pc_printf(c, "IP6 ");
    if (length < 40) {
        pc_printf(c, "truncated-ip6 %u", length);
        return;
    }
    if (bp[0] >> 4 != 6) {
        pc_printf(c, "version error: %u != 6", bp[0] >> 4);
        return;
    }
    /* A payload length of 0 announces a jumbogram (RFC 2675) only with a
     * hop-by-hop Jumbo Payload option; otherwise the payload is empty. */
    uint32_t plen = tern_get16(bp + 4), len = plen + 40;
    if (len > length) /* the payload length is still believed */
        pc_printf(c, "truncated-ip6 - %u bytes missing!", len - length);
    if (pc_has(c, bp, len)) /* nothing past the datagram is read */
        c->end = bp + len;
    uint8_t nh = bp[6];
    const uint8_t *cp = bp + 40;
    len -= 40;
    char s[PC_ADDR_MAX], d[PC_ADDR_MAX];
    if (nh != TERN_IPPROTO_TCP && nh != TERN_IPPROTO_UDP && nh != 33 && nh != 132) {
        pc_addrs(c, bp, s, d);
        pc_printf(c, "%s > %s: ", s, d);
    }
    switch (nh) {
    case TERN_IPPROTO_TCP:
        pc_tcp_print(c, cp, len, bp);
        break;
    case TERN_IPPROTO_UDP:
        pc_udp_print(c, cp, len, bp, false);
        break;
    case 58:
        pc_icmp6_print(c, cp, len);
        break;
    case TERN_IPPROTO_ICMP:
        pc_printf(c, "[ICMP requires IPv4] (invalid)");
        break;
    case 59: /* RFC 8200 s4.7 */
        pc_printf(c, "no next header");
        break;
    default:
        pc_printf(c, " ip-proto-%u %u", nh, len);
        break;
    }
}

/* ICMPv6 (RFC 4443 s4.1/4.2 echo; RFC 4861 s4.1-4.4 neighbor discovery)
 * as tcpdump -n prints the common messages without -v.
 * DEVIATION (from tcpdump): other types (errors, redirect, MLD, ...) print
 * as "ICMP6, type N, length LEN". */
void pc_icmp6_print(struct pc *c, const uint8_t *bp, uint32_t length)
{
    c->proto = "icmp6";
    if (length == 0) {
        pc_printf(c, "ICMP6, length 0 (invalid)");
        return;
    }
    uint8_t type = pc_u8(c, bp);
    char t[PC_ADDR_MAX];
    switch (type) {
    case 128:
    case 129: {
        pc_printf(c, "ICMP6, echo %s", type == 128 ? "request" : "reply");
        uint16_t id = pc_u16(c, bp + 4), seq = pc_u16(c, bp + 6);
        pc_printf(c, ", id %u, seq %u", id, seq);
        break;
    }
    case 133:
    case 134:
        pc_printf(c, "ICMP6, router %s", type == 133 ? "solicitation" : "advertisement");
        pc_u8(c, bp + 1); /* the code must be captured */
        break;
    case 135:
    case 136:
        pc_printf(c, "ICMP6, neighbor %s", type == 135 ? "solicitation" : "advertisement");
        if (!pc_has(c, bp + 8, 16)) {
            pc_fail(c);
            return;
        }
        pc_ip6_str(bp + 8, t, sizeof t);
        pc_printf(c, ", %s %s", type == 135 ? "who has" : "tgt is", t);
        break;
    default:
        pc_printf(c, "ICMP6, type %u", type);
        break;
    }
    pc_printf(c, ", length %u", length);
}
