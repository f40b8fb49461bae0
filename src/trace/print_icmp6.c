/*
 * src/trace/print_icmp6.c - ICMPv6 (RFC 4443 errors and echo; RFC 4861
 * neighbor discovery; RFC 2710 / RFC 3810 MLD) and IGMP (RFC 2236, RFC
 * 3376) as tcpdump 4.99.3 -n prints them without -v. The strings and their
 * quirks (no separator before "max resp delay", two spaces before
 * "unreachable prohibited") were learnt by printing scapy-built messages
 * with tcpdump (tests/scripts/gen_apps.py); the code is tern's own.
 */
#include "tern/wire/ipv4.h"
#include "trace/print_ctx.h"

/* tcpdump's hex_print: "\n\t0xOOOO: " and groups of two bytes, no ASCII
 * column, the captured bytes only, no truncation mark. */
static void hex_only(struct pc *c, const uint8_t *p, size_t len)
{
    size_t avail = p <= c->end ? (size_t)(c->end - p) : 0;
    if (len > avail)
        len = avail;
    for (size_t i = 0; i < len; i++) {
        if (i % 16 == 0)
            pc_printf(c, "\n\t0x%04zx: ", i);
        pc_printf(c, i % 2 ? "%02x" : " %02x", p[i]);
    }
}

/* The quoted IPv6 packet of an error message: its addresses as text. */
static bool quoted(struct pc *c, const uint8_t *q, char s[PC_ADDR_MAX], char d[PC_ADDR_MAX])
{
    if (!pc_has(c, q, 40)) {
        pc_fail(c);
        return false;
    }
    pc_ip6_str(q + 8, s, PC_ADDR_MAX);
    pc_ip6_str(q + 24, d, PC_ADDR_MAX);
    return true;
}

/* ICMPv6 (RFC 4443 s3 errors, s4 echo; RFC 4861 s4 ND; MLD).
 * Unknown types and codes print as tcpdump's do, with its hex dump.
 * DEVIATION (from tcpdump): a Port Unreachable whose quoted packet is not
 * TCP or UDP right after its header ends in " [|icmp6]" (tcpdump walks the
 * quoted extension headers first), and the types tcpdump dissects further
 * (router renumbering, node information, RPL) print as unknown types. */
void pc_icmp6_print(struct pc *c, const uint8_t *bp, uint32_t length)
{
    c->proto = "icmp6";
    if (length == 0) {
        pc_printf(c, "ICMP6, length 0 (invalid)");
        return;
    }
    uint8_t type = pc_u8(c, bp), code;
    if (c->trunc)
        return;
    char t[PC_ADDR_MAX], s[PC_ADDR_MAX], d[PC_ADDR_MAX];
    const uint8_t *q = bp + 8; /* an error's quoted packet */
    switch (type) {
    case 1: /* RFC 4443 s3.1 */
        pc_printf(c, "ICMP6, destination unreachable");
        code = pc_u8(c, bp + 1);
        if (c->trunc)
            return;
        if (code > 4) {
            pc_printf(c, ", unknown unreach code (%u)", code);
            hex_only(c, bp, length);
            return; /* no length after a hex dump */
        }
        /* tcpdump prints each label, then reads what follows it */
        pc_printf(c, ", ");
        switch (code) {
        case 0: pc_printf(c, "unreachable route"); break;
        case 1: pc_printf(c, " unreachable prohibited"); break;
        case 2: pc_printf(c, "beyond scope"); break;
        case 3: pc_printf(c, "unreachable address"); break;
        case 4: pc_printf(c, "unreachable port"); break;
        }
        if (!quoted(c, q, s, d))
            return;
        if (code == 2) {
            pc_printf(c, " %s, source address %s", d, s);
        } else if (code == 4) {
            uint8_t nh = q[6];
            if (nh != TERN_IPPROTO_TCP && nh != TERN_IPPROTO_UDP) {
                pc_fail(c); /* DEVIATION: tcpdump walks extension headers here */
                return;
            }
            uint16_t port = pc_u16(c, q + 40 + 2);
            pc_printf(c, ", %s %s port %u", d, nh == TERN_IPPROTO_TCP ? "tcp" : "udp", port);
        } else {
            pc_printf(c, " %s", d);
        }
        break;
    case 2: /* s3.2 */
        pc_printf(c, "ICMP6, packet too big");
        pc_printf(c, ", mtu %u", pc_u32(c, bp + 4));
        break;
    case 3: /* s3.3: "for DST" needs the quoted header; the others do not */
        pc_printf(c, "ICMP6, time exceeded in-transit");
        code = pc_u8(c, bp + 1);
        if (c->trunc)
            return;
        if (code == 0) {
            if (!quoted(c, q, s, d))
                return;
            pc_printf(c, " for %s", d);
        } else if (code == 1) {
            pc_printf(c, " (reassembly)");
        } else {
            pc_printf(c, ", unknown code (%u)", code);
        }
        break;
    case 4: { /* s3.4, RFC 7112 code 3 */
        static const char *const what[] = {"erroneous", "next header", "option",
                                           "incomplete header chain"};
        pc_printf(c, "ICMP6, parameter problem");
        code = pc_u8(c, bp + 1);
        if (!quoted(c, q, s, d))
            return;
        if (code > 3) {
            pc_printf(c, ", code-#%u", code);
            break;
        }
        pc_printf(c, ", %s - octet %u", what[code], pc_u32(c, bp + 4));
        break;
    }
    case 128:
    case 129: {
        pc_printf(c, "ICMP6, echo %s", type == 128 ? "request" : "reply");
        uint16_t id = pc_u16(c, bp + 4), seq = pc_u16(c, bp + 6);
        pc_printf(c, ", id %u, seq %u", id, seq);
        break;
    }
    case 130:
    case 131:
    case 132: { /* RFC 2710 s3 (MLDv1), RFC 3810 s5.1 (v2 query) */
        static const char *const mld[] = {"query", "report", "done"};
        if (type == 130 && length >= 28) {
            pc_printf(c, "ICMP6, multicast listener query v2");
            if (!pc_has(c, bp + 8, 16)) {
                pc_fail(c);
                return;
            }
            pc_ip6_str(bp + 8, t, sizeof t);
            pc_printf(c, " [gaddr %s", t);
            uint16_t n = pc_u16(c, bp + 26);
            if (c->trunc)
                return;
            if ((uint32_t)n * 16 > length - 28)
                pc_printf(c, " [invalid number of sources]");
            else if (n)
                pc_printf(c, ", %u source(s)", n);
            pc_printf(c, "]");
            break;
        }
        if (length != 24 && type == 130) {
            pc_printf(c, "ICMP6, unknown icmp6 type (%u), length %u", type, length);
            hex_only(c, bp, length);
            return;
        }
        pc_printf(c, "ICMP6, multicast listener %s", mld[type - 130]);
        if (!pc_has(c, bp, 24))
            break; /* tcpdump skips the fields of a cut MLDv1 message silently */
        pc_ip6_str(bp + 8, t, sizeof t);
        pc_printf(c, "max resp delay: %u addr: %s", tern_get16(bp + 4), t);
        break;
    }
    case 133:
    case 134:
        pc_printf(c, "ICMP6, router %s", type == 133 ? "solicitation" : "advertisement");
        pc_u8(c, bp + 1); /* the code must be captured */
        break;
    case 141:
    case 142: /* RFC 3122 */
        pc_printf(c, "ICMP6, inverse neighbor %s", type == 141 ? "solicitation" : "advertisement");
        break;
    case 144:
    case 146: /* RFC 6275 s6.5, s6.7 */
        pc_printf(c, "ICMP6, %s", type == 144 ? "ha discovery request" : "mobile router solicitation");
        pc_printf(c, ", id 0x%04x", pc_u16(c, bp + 4));
        break;
    case 145:
        pc_printf(c, "ICMP6, ha discovery reply");
        break;
    case 147:
        pc_printf(c, "ICMP6, mobile router advertisement");
        break;
    case 200:
    case 201:
        pc_printf(c, "ICMP6, mtrace %s, length %u", type == 200 ? "response" : "message", length);
        hex_only(c, bp, length);
        return;
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
    case 137: /* RFC 4861 s4.5 */
        pc_printf(c, "ICMP6, redirect");
        if (!pc_has(c, bp + 8, 32)) {
            pc_fail(c);
            return;
        }
        pc_ip6_str(bp + 8, t, sizeof t);
        pc_ip6_str(bp + 24, d, sizeof d);
        pc_printf(c, ", %s to %s", d, t);
        break;
    case 143: /* RFC 3810 s5.2 */
        pc_printf(c, "ICMP6, multicast listener report v2");
        pc_printf(c, ", %u group record(s)", pc_u16(c, bp + 6));
        break;
    default:
        pc_printf(c, "ICMP6, unknown icmp6 type (%u)", type);
        pc_u8(c, bp + 1); /* the code must be captured */
        pc_printf(c, ", length %u", length);
        hex_only(c, bp, length);
        return;
    }
    pc_printf(c, ", length %u", length);
}

/* IGMP (RFC 2236 s2, RFC 3376 s4): the query's version by its length and
 * code (RFC 3376 s7.1), reports and leaves with their group.
 * DEVIATION (from tcpdump): a v3 query's maximum response time of 60 s or
 * more prints in seconds ("[max resp time 62s]"); tcpdump writes it as a
 * relative time ("1m2s"). */
void pc_igmp_print(struct pc *c, const uint8_t *bp, uint32_t length)
{
    c->proto = "igmp";
    uint8_t type = pc_u8(c, bp);
    if (c->trunc)
        return;
    char g[16];
    switch (type) {
    case 0x11:
        pc_printf(c, "igmp query");
        if (length >= 12) { /* RFC 3376 s7.1: v3 */
            pc_printf(c, " v3");
            if (length & 3) {
                pc_printf(c, " [invalid len %u]", length);
                return;
            }
            uint8_t code = pc_u8(c, bp + 1);
            if (c->trunc)
                return;
            /* s4.1.1: from 128 the code is a floating-point number */
            uint32_t mrt = code < 128 ? code : (uint32_t)((code & 0xfu) | 0x10u)
                                                   << (((code >> 4) & 7u) + 3);
            if (mrt != 100) {
                if (mrt < 600)
                    pc_printf(c, " [max resp time %u.%us]", mrt / 10, mrt % 10);
                else
                    pc_printf(c, " [max resp time %us]", mrt / 10);
            }
            uint32_t group = pc_u32(c, bp + 4);
            if (c->trunc || group == 0)
                return;
            pc_printf(c, " [gaddr %s", pc_ip(c, bp + 4, g));
            uint16_t n = pc_u16(c, bp + 10);
            if (c->trunc)
                return;
            if ((uint32_t)n * 4 > length - 12)
                pc_printf(c, " [invalid number of sources]");
            else if (n)
                pc_printf(c, ", %u source(s)", n);
            pc_printf(c, "]");
            return;
        }
        {
            uint8_t code = pc_u8(c, bp + 1);
            if (c->trunc)
                return;
            pc_printf(c, code ? " v2" : " v1");
            if (code && code != 100)
                pc_printf(c, " [max resp time %u]", code);
            uint32_t group = pc_u32(c, bp + 4);
            if (!c->trunc && group)
                pc_printf(c, " [gaddr %s]", pc_ip(c, bp + 4, g));
        }
        break;
    case 0x12:
    case 0x16:
    case 0x17:
        pc_ip(c, bp + 4, g); /* tcpdump reads the group first */
        if (c->trunc)
            return;
        pc_printf(c, "igmp %s %s", type == 0x12 ? "v1 report" : type == 0x16 ? "v2 report" : "leave",
                  g);
        if (type == 0x12 && length != 8)
            pc_printf(c, " [len %u]", length);
        break;
    case 0x22:
        pc_printf(c, "igmp v3 report");
        pc_printf(c, ", %u group record(s)", pc_u16(c, bp + 6));
        break;
    default:
        pc_printf(c, "igmp-%u", type);
        break;
    }
}
