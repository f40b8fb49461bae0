/*
 * src/trace/print.c - the tcpdump-identical printer: output buffer, bounded
 * getters' failure path, link-layer dispatch (Ethernet, raw IP), ARP
 * (RFC 826, RFC 903 RARP, RFC 2390 InARP), tcpdump's hex dump, timestamps.
 *
 * Not a parser: broken frames are shown the way tcpdump 4.99.3 shows them,
 * never rejected. Expected output was learnt by running `tcpdump -n -r` on
 * crafted pcaps (tests/scripts/gen_mix.py); no tcpdump code is copied.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tern/wire/eth.h"
#include "trace/print_ctx.h"

void pc_printf(struct pc *c, const char *fmt, ...)
{
    if (c->trunc || c->cap == 0 || c->len >= c->cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->out + c->len, c->cap - c->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    c->len += (size_t)n;
    if (c->len > c->cap - 1)
        c->len = c->cap - 1;
}

void pc_fail(struct pc *c)
{
    if (!c->trunc) {
        c->trunc = true;
        c->trunc_proto = c->proto;
    }
}

void pc_print_trunc(struct pc *c)
{
    pc_printf(c, " [|%s]", c->proto);
}

const char *pc_ip(struct pc *c, const uint8_t *p, char buf[16])
{
    uint32_t a = pc_u32(c, p);
    snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    return buf;
}

/* tcpdump's default printer for payloads it has no dissector for: per 16
 * bytes "\n\t0xOOOO:  hhhh hhhh ...  ascii", captured bytes only, then
 * " [|proto]" if the frame was longer than the capture. */
void pc_hexdump(struct pc *c, const uint8_t *p, size_t len)
{
    size_t avail = p <= c->end ? (size_t)(c->end - p) : 0;
    bool cut = false;
    if (len > avail) {
        len = avail;
        cut = true;
    }
    for (size_t off = 0; off < len; off += 16) {
        char hex[48], asc[17];
        size_t h = 0, a = 0, n = len - off < 16 ? len - off : 16;
        for (size_t i = 0; i < n; i++) {
            uint8_t b = p[off + i];
            h += (size_t)snprintf(hex + h, sizeof hex - h, i % 2 ? "%02x" : " %02x", b);
            asc[a++] = b > 0x20 && b < 0x7f ? (char)b : '.';
        }
        asc[a] = '\0';
        pc_printf(c, "\n\t0x%04zx: %-40s  %s", off, hex, asc);
    }
    if (cut)
        pc_print_trunc(c);
}

/* ---- ARP ---------------------------------------------------------------- */

static void print_mac(struct pc *c, const uint8_t *p, unsigned n)
{
    /* tcpdump prints 6-byte addresses as aa:bb:..; others as hex with ':' */
    if (n == 0) {
        pc_printf(c, "<empty>");
        return;
    }
    for (unsigned i = 0; i < n; i++)
        pc_printf(c, i ? ":%02x" : "%02x", pc_u8(c, p + i));
}

/* Names tcpdump 4.99.3 prints for ARP hardware types and for ethertypes,
 * read off its output for every 16-bit value (ARP frames with each hrd and
 * each ptype, tcpdump -n -r); NULL: tcpdump prints "Unknown...". */
static const char *arp_hrd_name(uint16_t h)
{
    switch (h) {
    case 1: return "Ethernet";
    case 6: return "TokenRing";
    case 7: return "ArcNet";
    case 15: return "FrameRelay";
    case 19: return "ATM";
    case 23: return "Strip";
    case 24: return "IEEE 1394";
    case 32: return "InfiniBand";
    default: return NULL;
    }
}

static const char *ethertype_name(uint16_t t)
{
    switch (t) {
    case 0x00fe: return "GRE-OSI";
    case 0x0200: return "PUP";
    case 0x0500: return "Sprite";
    case 0x0600: return "NS";
    case 0x0707: return "GeoNet (old)";
    case 0x0800: return "IPv4";
    case 0x0806: return "ARP";
    case 0x1000: return "Trail";
    case 0x1111: return "CALM FAST";
    case 0x6001: return "MOP DL";
    case 0x6002: return "MOP RC";
    case 0x6003: return "DN";
    case 0x6004: return "LAT";
    case 0x6007: return "SCA";
    case 0x6558: return "TEB";
    case 0x8035: return "Reverse ARP";
    case 0x8038: return "Lanbridge";
    case 0x803c: return "DEC DNS";
    case 0x803e: return "DEC DTS";
    case 0x805b: return "VEXP";
    case 0x805c: return "VPROD";
    case 0x809b: return "Appletalk";
    case 0x80f3: return "Appletalk ARP";
    case 0x8100: return "802.1Q";
    case 0x8137: return "IPX";
    case 0x86dd: return "IPv6";
    case 0x8808: return "MPCP";
    case 0x8809: return "Slow Protocols";
    case 0x880b: return "PPP";
    case 0x8847: return "MPLS unicast";
    case 0x8848: return "MPLS multicast";
    case 0x8863: return "PPPoE D";
    case 0x8864: return "PPPoE S";
    case 0x886f: return "MS NLB heartbeat";
    case 0x8870: return "Jumbo";
    case 0x888e: return "EAPOL";
    case 0x8899: return "Realtek protocols";
    case 0x88a2: return "AoE";
    case 0x88a8: return "802.1Q-QinQ";
    case 0x88ca: return "TIPC";
    case 0x88cc: return "LLDP";
    case 0x88e5: return "802.1AE MACsec";
    case 0x88f7: return "PTP";
    case 0x8902: return "CFM";
    case 0x893a: return "IEEE1905.1";
    case 0x8947: return "GeoNet";
    case 0x894f: return "NSH";
    case 0x9000: return "Loopback";
    case 0x9100: return "802.1Q-9100";
    case 0x9200: return "802.1Q-9200";
    case 0xabcd: return "CFM (old)";
    case 0xd28b: return "Arista Vendor Specific Protocol";
    case 0xfefe: return "OSI";
    default: return NULL;
    }
}

static const char *arp_op_name(uint16_t op)
{
    switch (op) {
    case 1: return "Request";
    case 2: return "Reply";
    case 3: return "Reverse Request";
    case 4: return "Reverse Reply";
    case 8: return "Inverse Request";
    case 9: return "Inverse Reply";
    case 10: return "NACK Reply";
    default: return NULL;
    }
}

static void arp_print(struct pc *c, const uint8_t *bp, uint32_t length, bool hdr)
{
    c->proto = "arp";
    if (!pc_has(c, bp, 8)) {
        pc_print_trunc(c);
        return;
    }
    uint16_t hrd = tern_get16(bp), pro = tern_get16(bp + 2), op = tern_get16(bp + 6);
    unsigned hln = bp[4], pln = bp[5];
    const uint8_t *sha = bp + 8, *spa = sha + hln, *tha = spa + pln, *tpa = tha + hln;
    /* DEVIATION (from tcpdump): ATM ARP (hrd 19, RFC 2225) has its own
     * layout in tcpdump; tern prints it as a plain ARP packet. */
    if (!pc_has(c, tpa, pln)) {
        pc_print_trunc(c);
        return;
    }
    if (hdr)
        pc_printf(c, "ARP, ");
    if ((pro != 0x0800 && pro != 0x1000) || pln != 4 || hln == 0) {
        const char *hn = arp_hrd_name(hrd), *pn = ethertype_name(pro);
        char hb[40], pb[40];
        if (!hn)
            snprintf(hb, sizeof hb, "Unknown Hardware (%u)", hrd);
        if (!pn)
            snprintf(pb, sizeof pb, "Unknown Protocol (0x%04x)", pro);
        pc_printf(c, "%s (len %u), %s (len %u)", hn ? hn : hb, hln, pn ? pn : pb, pln);
        goto out;
    }
    const char *on = arp_op_name(op);
    char ob[24];
    if (!on)
        snprintf(ob, sizeof ob, "Unknown (%u)", op);
    pc_printf(c, "%s ", on ? on : ob);
    char ip[16];
    switch (op) {
    case 1: {
        pc_printf(c, "who-has %s", pc_ip(c, tpa, ip));
        bool nz = false;
        for (unsigned i = 0; i < hln; i++)
            nz |= pc_u8(c, tha + i) != 0;
        if (nz) {
            pc_printf(c, " (");
            print_mac(c, tha, hln);
            pc_printf(c, ")");
        }
        pc_printf(c, " tell %s", pc_ip(c, spa, ip));
        break;
    }
    case 2:
        pc_printf(c, "%s is-at ", pc_ip(c, spa, ip));
        print_mac(c, sha, hln);
        break;
    case 3:
    case 8:
        pc_printf(c, "who-is ");
        print_mac(c, tha, hln);
        pc_printf(c, " tell ");
        print_mac(c, sha, hln);
        break;
    case 4:
        print_mac(c, tha, hln);
        pc_printf(c, " at %s", pc_ip(c, tpa, ip));
        break;
    case 9:
        print_mac(c, sha, hln);
        pc_printf(c, " at %s", pc_ip(c, spa, ip));
        break;
    default:
        pc_hexdump(c, bp, length);
        return;
    }
out:
    pc_printf(c, ", length %u", length);
}

/* ---- link layers -------------------------------------------------------- */

static void ether_type_print(struct pc *c, uint16_t t)
{
    const char *n = ethertype_name(t);
    pc_printf(c, "ethertype %s (0x%04x)", n ? n : "Unknown", t);
}

static void ether_print(struct pc *c, const uint8_t *p, uint32_t length)
{
    bool e = c->p->opts.link_hdr;
    c->proto = "ether";
    if (!pc_has(c, p, TERN_ETH_HLEN) || length < TERN_ETH_HLEN) {
        pc_print_trunc(c);
        return;
    }
    char s[18], d[18];
    snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", p[6], p[7], p[8], p[9], p[10], p[11]);
    snprintf(d, sizeof d, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
    uint16_t type = tern_get16(p + 12);
    if (e) {
        pc_printf(c, "%s > %s, ", s, d);
        ether_type_print(c, type);
        pc_printf(c, ", length %u: ", length);
    }
    const uint8_t *pl = p + TERN_ETH_HLEN;
    uint32_t plen = length - TERN_ETH_HLEN;
    if (type == 0x0800) {
        pc_ip_print(c, pl, plen);
    } else if (type == 0x86dd) {
        pc_ip6_print(c, pl, plen);
    } else if (type == 0x0806) {
        arp_print(c, pl, plen, !e);
    } else {
        /* DEVIATION (from tcpdump): VLAN, LLC (type <= 1500), RARP
         * and the rest are hex-dumped as tcpdump does for unknown types. */
        if (!e) {
            pc_printf(c, "%s > %s, ", s, d);
            ether_type_print(c, type);
            pc_printf(c, ", length %u: ", length);
        }
        pc_hexdump(c, pl, plen);
    }
}

static void raw_print(struct pc *c, const uint8_t *p, uint32_t length)
{
    c->proto = "raw";
    if (c->p->opts.link_hdr)
        pc_printf(c, "ip: ");
    c->proto = "ip";
    uint8_t v = pc_u8(c, p);
    if (c->trunc)
        return;
    if ((v & 0xf0) == 0x40)
        pc_ip_print(c, p, length);
    else if ((v & 0xf0) == 0x60)
        pc_ip6_print(c, p, length);
    else
        pc_printf(c, "unknown ip %u", (v & 0xf0) >> 4);
}

void tern_printer_init(struct tern_printer *p, const struct tern_print_opts *opts)
{
    memset(p, 0, sizeof *p);
    if (opts)
        p->opts = *opts;
}

size_t tern_print_frame(struct tern_printer *p, uint32_t linktype, const uint8_t *frame,
                        size_t caplen, size_t wirelen, char *out, size_t cap)
{
    struct pc c = {.p = p, .out = out, .cap = cap, .end = frame + caplen, .proto = "ether"};
    if (cap > 0)
        out[0] = '\0';
    if (!frame)
        caplen = 0, c.end = NULL;
    if (wirelen < caplen)
        wirelen = caplen;
    uint32_t length = wirelen > UINT32_MAX ? UINT32_MAX : (uint32_t)wirelen;
    if (caplen == 0) /* tcpdump prints this line without a timestamp */
        pc_printf(&c, "[Invalid header: caplen==0]");
    else if (linktype == TERN_LINKTYPE_ETHERNET)
        ether_print(&c, frame, length);
    else if (linktype == TERN_LINKTYPE_RAW)
        raw_print(&c, frame, length);
    else
        pc_printf(&c, "[link type %u not supported by tern]", linktype);
    if (c.trunc) {
        c.trunc = false;
        c.proto = c.trunc_proto;
        pc_print_trunc(&c);
    }
    return c.len;
}

size_t tern_print_ts(uint64_t ts_us, long utc_offset, char *out, size_t cap)
{
    if (cap < 17)
        return 0;
    int64_t sec = (int64_t)(ts_us / 1000000) + utc_offset;
    int64_t day = sec % 86400;
    if (day < 0)
        day += 86400;
    int n = snprintf(out, cap, "%02d:%02d:%02d.%06u ", (int)(day / 3600), (int)(day / 60 % 60),
                     (int)(day % 60), (unsigned)(ts_us % 1000000));
    return n < 0 ? 0 : (size_t)n;
}
