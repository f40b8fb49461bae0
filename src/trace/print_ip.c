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
    case 2: /* IGMP */
        pc_igmp_print(c, cp, plen);
        break;
    default:
        /* DEVIATION (from tcpdump): protocols tcpdump dissects (GRE,
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
 * then the next header; TCP and UDP right after the fixed header print
 * their own "addr.port" pair. Extension headers (RFC 8200 s4) print as
 * tcpdump names them - "HBH ", "DSTOPT ", "frag (OFFSET|LEN) ", "RT6 (...)
 * " - and a transport after them prints its ports alone.
 * DEVIATION (from tcpdump): AH, ESP, Mobility and the other upper layers
 * print as " ip-proto-N LEN"; so do jumbograms (RFC 2675) and what
 * follows a Routing header of a type other than 0 and 2 (tcpdump
 * dissects their fields). */
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
    bool more = false, saw_hbh = false;
    for (int hdrs = 0;; hdrs++) {
        uint32_t hl;
        switch (nh) {
        case 0:  /* Hop-by-Hop Options, RFC 8200 s4.3 */
        case 60: /* Destination Options, s4.6 */
            if (nh == 0 && hdrs > 0) { /* RFC 8200 s4.1: only right after the header */
                pc_printf(c, saw_hbh ? "[The Hop-by-Hop Options header was already found] (invalid)"
                                     : "[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)");
                return;
            }
            saw_hbh |= nh == 0;
            /* tcpdump checks the whole captured header before its label
             * ("[|hbhopt]", "[|dstopt]"); one longer than the payload
             * length is the IPv6 printer's ("[|ip6]", below) */
            c->proto = nh == 0 ? "hbhopt" : "dstopt";
            hl = ((uint32_t)pc_u8(c, cp + 1) + 1) * 8;
            if (!c->trunc && !pc_has(c, cp, hl))
                pc_fail(c);
            if (c->trunc)
                return;
            pc_printf(c, nh == 0 ? "HBH " : "DSTOPT ");
            c->proto = "ip6";
            break;
        case 44: { /* Fragment, s4.5 */
            hl = 8;
            c->proto = "frag6";
            uint16_t off = pc_u16(c, cp + 2);
            if (c->trunc)
                return;
            pc_printf(c, "frag (%u|%u)", off & 0xfff8u, len >= 8 ? len - 8 : 0);
            if (off & 0xfff8u)
                return; /* a later fragment: the rest is data */
            pc_printf(c, " ");
            if (!pc_has(c, cp, 9))
                return; /* tcpdump stops quietly when the capture ends with the header */
            more = off & 1u;
            break;
        }
        case 43: { /* Routing, s4.4 (types 0, RFC 5095, and 2, RFC 6275) */
            pc_u8(c, cp); /* tcpdump reads the next header first, as "ip6" */
            if (c->trunc)
                return;
            c->proto = "rt6";
            pc_printf(c, "RT6");
            uint8_t rlen = pc_u8(c, cp + 1);
            pc_printf(c, " (len=%u", rlen);
            uint8_t type = pc_u8(c, cp + 2);
            if (c->trunc)
                return;
            if (type != 0 && type != 2) {
                c->proto = "ip6";
                pc_printf(c, ", type=%u) ", type);
                goto generic;
            }
            pc_printf(c, ", type=%u%s", type, type == 0 ? " [Deprecated]" : "");
            uint8_t left = pc_u8(c, cp + 3);
            pc_printf(c, ", segleft=%u", left);
            if (c->trunc)
                return;
            hl = ((uint32_t)rlen + 1) * 8;
            for (uint32_t i = 0; 8 + 16 * (i + 1) <= hl; i++) {
                if (!pc_has(c, cp + 8 + 16 * i, 16)) {
                    pc_fail(c);
                    return;
                }
                char a[PC_ADDR_MAX];
                pc_ip6_str(cp + 8 + 16 * i, a, sizeof a);
                pc_printf(c, ", [%u]%s", i, a);
            }
            pc_printf(c, ") ");
            break;
        }
        default:
            goto upper;
        }
        if (hl > len) {
            pc_fail(c);
            return;
        }
        nh = pc_u8(c, cp);
        cp += hl;
        len -= hl;
        c->ports_only = true;
    }
upper:
    switch (nh) {
    case TERN_IPPROTO_TCP:
        pc_tcp_print(c, cp, len, bp);
        break;
    case TERN_IPPROTO_UDP:
        pc_udp_print(c, cp, len, bp, more);
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
    generic:
        pc_printf(c, " ip-proto-%u %u", nh, len);
        break;
    }
}
