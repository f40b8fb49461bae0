/*
 * src/trace/print_udp_icmp.c - UDP (RFC 768) and ICMP (RFC 792, RFC 1191
 * next-hop MTU, RFC 950 address mask) lines as tcpdump 4.99.3 -n prints
 * them. Without -v tcpdump shows no checksum and does not print the
 * datagram quoted in an ICMP error beyond the fields named in the line
 * (destination, protocol, port), so neither do we.
 *
 * UDP payloads on ports 53 (DNS), 5353 (mDNS), 67/68 (BOOTP/DHCP) and 123
 * (NTP) go to their dissectors, as in tcpdump.
 * DEVIATION (from tcpdump): the other ports tcpdump hands to an
 * application dissector (69 TFTP, 161 SNMP, 500 ISAKMP, 4789 VXLAN, ...)
 * are printed as plain "UDP, length N" here; tests/scripts/gen_mix.py
 * avoids those ports.
 */
#include <stdio.h>
#include <string.h>

#include "tern/wire/icmp.h"
#include "tern/wire/ipv4.h"
#include "trace/print_ctx.h"

static void udp_addrs(struct pc *c, const uint8_t *ip, int sport, int dport)
{
    char s[PC_ADDR_MAX], d[PC_ADDR_MAX];
    if (c->ports_only) { /* tcpdump: the IPv6 header's next header is not UDP */
        if (sport >= 0)
            pc_printf(c, "%d > %d: ", sport, dport);
        return;
    }
    pc_addrs(c, ip, s, d);
    if (sport < 0)
        pc_printf(c, "%s > %s: ", s, d);
    else
        pc_printf(c, "%s.%d > %s.%d: ", s, sport, d, dport);
}

enum udp_app { APP_NONE, APP_DNS, APP_MDNS, APP_BOOTP, APP_NTP };

/* tcpdump 4.99.3 tries the ports in a fixed order (learnt by sending each
 * pair): 53, 5353, 525, 69, 67/68, 520, 654, 500, 4500, 7500, 8500, 161,
 * 162, 123, ...; the first port either side matches wins. The ones tern
 * does not dissect keep the generic line. */
static enum udp_app udp_app(int sport, int dport)
{
    static const int other[] = {525, 69, 520, 654, 500, 4500, 7500, 8500, 161, 162};
#define EITHER(p) (sport == (p) || dport == (p))
    if (EITHER(53))
        return APP_DNS; /* RFC 1035 s4.2.1 */
    if (EITHER(5353))
        return APP_MDNS; /* RFC 6762 */
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        if (EITHER(other[i]))
            return APP_NONE;
        if (other[i] == 69 && (EITHER(67) || EITHER(68)))
            return APP_BOOTP; /* RFC 951 s3 */
    }
    if (EITHER(123))
        return APP_NTP; /* RFC 5905 */
    return APP_NONE;
#undef EITHER
}

void pc_udp_print(struct pc *c, const uint8_t *bp, uint32_t length, const uint8_t *ip,
                  bool fragmented)
{
    c->proto = "udp";
    if (!pc_has(c, bp, 4)) {
        udp_addrs(c, ip, -1, -1);
        pc_print_trunc(c);
        return;
    }
    int sport = tern_get16(bp), dport = tern_get16(bp + 2);
    if (length < 8) {
        udp_addrs(c, ip, sport, dport);
        pc_printf(c, "truncated-udp %u", length);
        return;
    }
    if (!pc_has(c, bp + 4, 2)) {
        udp_addrs(c, ip, sport, dport);
        pc_print_trunc(c);
        return;
    }
    uint32_t ulen = tern_get16(bp + 4);
    if (ulen == 0 && length > 65535)
        ulen = length;
    if (ulen < 8) {
        udp_addrs(c, ip, sport, dport);
        pc_printf(c, "truncated-udplength %u", ulen);
        return;
    }
    ulen -= 8;
    length -= 8;
    if (ulen < length)
        length = ulen;
    if (!pc_has(c, bp, 8)) {
        udp_addrs(c, ip, sport, dport);
        pc_print_trunc(c);
        return;
    }
    udp_addrs(c, ip, sport, dport);
    const uint8_t *cp = bp + 8;
    switch (udp_app(sport, dport)) {
    case APP_DNS:
        pc_dns_print(c, cp, length, false, false);
        return;
    case APP_MDNS:
        pc_dns_print(c, cp, length, false, true);
        return;
    case APP_BOOTP:
        pc_bootp_print(c, cp, length);
        return;
    case APP_NTP:
        pc_ntp_print(c, cp, length);
        return;
    default:
        break;
    }
    if (ulen > length && !fragmented)
        pc_printf(c, "UDP, bad length %u > %u", ulen, length);
    else
        pc_printf(c, "UDP, length %u", ulen);
}

/* ---- ICMP --------------------------------------------------------------- */

/* Destination unreachable codes 5-15 (RFC 1122 s3.2.2.1, RFC 1812 s5.2.7.1):
 * the line is pre + quoted destination + post. */
static const struct {
    const char *pre, *post;
} unreach_txt[16] = {
    [5] = {"", " unreachable - source route failed"},
    [6] = {"net ", " unreachable - unknown"},
    [7] = {"host ", " unreachable - unknown"},
    [8] = {"", " unreachable - source host isolated"},
    [9] = {"net ", " unreachable - admin prohibited"},
    [10] = {"host ", " unreachable - admin prohibited"},
    [11] = {"net ", " unreachable - tos prohibited"},
    [12] = {"host ", " unreachable - tos prohibited"},
    [13] = {"host ", " unreachable - admin prohibited filter"},
    [14] = {"host ", " unreachable - host precedence violation"},
    [15] = {"host ", " unreachable - precedence cutoff"},
};

static const char *icmp_type_name(uint8_t type)
{
    switch (type) {
    case TERN_ICMP_SOURCEQUENCH: return "source quench";
    case TERN_ICMP_ECHO: return "echo request";
    case TERN_ICMP_TSTAMP: return "time stamp request";
    case 10: return "router solicitation";
    case 15: return "information request";
    case 16: return "information reply";
    case TERN_ICMP_MASKREQ: return "address mask request";
    default: return NULL;
    }
}

static void tstamp_str(uint32_t t, char *buf, size_t cap)
{
    unsigned ms = t % 1000, sec = t / 1000, min = sec / 60, hrs;
    sec -= min * 60;
    hrs = min / 60;
    min -= hrs * 60;
    snprintf(buf, cap, "%02u:%02u:%02u.%03u", hrs, min, sec, ms);
}

void pc_icmp_print(struct pc *c, const uint8_t *bp, uint32_t length)
{
    c->proto = "icmp";
    char buf[512], ip[16], ip2[16];
    const uint8_t *oip = bp + 8; /* quoted datagram of an error */
    uint8_t type = pc_u8(c, bp), code = pc_u8(c, bp + 1);
    buf[0] = '\0';
    switch (type) {
    case TERN_ICMP_ECHO:
    case TERN_ICMP_ECHOREPLY: {
        uint16_t id = pc_u16(c, bp + 4), seq = pc_u16(c, bp + 6);
        snprintf(buf, sizeof buf, "echo %s, id %u, seq %u",
                 type == TERN_ICMP_ECHO ? "request" : "reply", id, seq);
        break;
    }
    case TERN_ICMP_UNREACH:
        switch (code) {
        case TERN_ICMP_UNREACH_NET:
            snprintf(buf, sizeof buf, "net %s unreachable", pc_ip(c, oip + 16, ip));
            break;
        case TERN_ICMP_UNREACH_HOST:
            snprintf(buf, sizeof buf, "host %s unreachable", pc_ip(c, oip + 16, ip));
            break;
        case TERN_ICMP_UNREACH_PROTO:
            pc_ip(c, oip + 16, ip);
            snprintf(buf, sizeof buf, "%s protocol %u unreachable", ip, pc_u8(c, oip + 9));
            break;
        case TERN_ICMP_UNREACH_PORT: {
            unsigned hlen = (pc_u8(c, oip) & 0x0f) * 4u;
            uint16_t dport = pc_u16(c, oip + hlen + 2);
            uint8_t p = pc_u8(c, oip + 9);
            pc_ip(c, oip + 16, ip);
            if (p == TERN_IPPROTO_TCP)
                snprintf(buf, sizeof buf, "%s tcp port %u unreachable", ip, dport);
            else if (p == TERN_IPPROTO_UDP)
                snprintf(buf, sizeof buf, "%s udp port %u unreachable", ip, dport);
            else
                snprintf(buf, sizeof buf, "%s protocol %u port %u unreachable", ip, p, dport);
            break;
        }
        case TERN_ICMP_UNREACH_NEEDFRAG: {
            uint16_t mtu = pc_u16(c, bp + 6); /* RFC 1191 s4 */
            pc_ip(c, oip + 16, ip);
            if (mtu)
                snprintf(buf, sizeof buf, "%s unreachable - need to frag (mtu %u)", ip, mtu);
            else
                snprintf(buf, sizeof buf, "%s unreachable - need to frag", ip);
            break;
        }
        default: {
            pc_ip(c, oip + 16, ip);
            if (code < 16 && unreach_txt[code].post)
                snprintf(buf, sizeof buf, "%s%s%s", unreach_txt[code].pre, ip,
                         unreach_txt[code].post);
            else
                snprintf(buf, sizeof buf, "%s unreachable - #%u", ip, code);
            break;
        }
        }
        break;
    case TERN_ICMP_REDIRECT: {
        static const char *const pre[] = {"redirect", "redirect", "redirect-tos", "redirect-tos"};
        static const char *const to[] = {"net", "host", "net", "host"};
        pc_ip(c, oip + 16, ip);
        pc_ip(c, bp + 4, ip2);
        if (code < 4)
            snprintf(buf, sizeof buf, "%s %s to %s %s", pre[code], ip, to[code], ip2);
        else
            snprintf(buf, sizeof buf, "redirect-#%u %s to %s", code, ip, ip2);
        break;
    }
    case 9: { /* router advertisement, RFC 1256 s3 */
        uint8_t num = pc_u8(c, bp + 4), size = pc_u8(c, bp + 5);
        uint16_t life = pc_u16(c, bp + 6);
        size_t n;
        if (life < 60)
            n = (size_t)snprintf(buf, sizeof buf, "router advertisement lifetime %u", life);
        else if (life < 3600)
            n = (size_t)snprintf(buf, sizeof buf, "router advertisement lifetime %u:%02u",
                                 life / 60, life % 60);
        else
            n = (size_t)snprintf(buf, sizeof buf, "router advertisement lifetime %u:%02u:%02u",
                                 life / 3600, life % 3600 / 60, life % 60);
        n += (size_t)snprintf(buf + n, sizeof buf - n, " %u:", num);
        if (size != 2) {
            snprintf(buf + n, sizeof buf - n, " [size %u]", size);
            break;
        }
        /* num <= 255 entries of 8 bytes; the text is cut at buf's size
         * (as tcpdump's is) but every entry must still be captured. */
        for (unsigned i = 0; i < num && !c->trunc; i++) {
            const uint8_t *e = bp + 8 + 8 * i;
            pc_ip(c, e, ip);
            uint32_t pref = pc_u32(c, e + 4);
            if (n < sizeof buf - 1)
                n += (size_t)snprintf(buf + n, sizeof buf - n, " {%s %u}", ip, pref);
        }
        break;
    }
    case TERN_ICMP_TIMXCEED:
        if (!pc_has(c, oip, 20)) /* tcpdump wants the quoted IP header */
            pc_fail(c);
        if (code == TERN_ICMP_TIMXCEED_TTL)
            snprintf(buf, sizeof buf, "time exceeded in-transit");
        else if (code == TERN_ICMP_TIMXCEED_REASS)
            snprintf(buf, sizeof buf, "ip reassembly time exceeded");
        else
            snprintf(buf, sizeof buf, "time exceeded-#%u", code);
        break;
    case TERN_ICMP_PARAMPROB:
        if (code)
            snprintf(buf, sizeof buf, "parameter problem - code %u", code);
        else
            snprintf(buf, sizeof buf, "parameter problem - octet %u", pc_u8(c, bp + 4));
        break;
    case TERN_ICMP_MASKREPLY:
        snprintf(buf, sizeof buf, "address mask is 0x%08x", pc_u32(c, bp + 8));
        break;
    case TERN_ICMP_TSTAMP:
        snprintf(buf, sizeof buf, "time stamp query id %u seq %u", pc_u16(c, bp + 4),
                 pc_u16(c, bp + 6));
        break;
    case TERN_ICMP_TSTAMPREPLY: {
        char o[32], r[32], x[32];
        if (!pc_has(c, bp + 16, 4)) {
            pc_fail(c);
            break;
        }
        tstamp_str(tern_get32(bp + 8), o, sizeof o);
        tstamp_str(tern_get32(bp + 12), r, sizeof r);
        tstamp_str(tern_get32(bp + 16), x, sizeof x);
        snprintf(buf, sizeof buf, "time stamp reply id %u seq %u: org %s, recv %s, xmit %s",
                 tern_get16(bp + 4), tern_get16(bp + 6), o, r, x);
        break;
    }
    default: {
        const char *n = icmp_type_name(type);
        if (n)
            snprintf(buf, sizeof buf, "%s", n);
        else
            snprintf(buf, sizeof buf, "type-#%u", type);
        break;
    }
    }
    pc_printf(c, "ICMP %s, length %u", buf, length);
}
