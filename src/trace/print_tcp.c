/*
 * src/trace/print_tcp.c - TCP segments (RFC 9293 s3.1; options RFC 7323,
 * RFC 2018, RFC 7413 TFO, RFC 5482 UTO, RFC 2385 MD5) as tcpdump 4.99.3 -n
 * prints them: "Flags [S.], seq 1:101, ack 1, win 502, urg 3,
 * options [...], length 100", with relative sequence numbers unless -S.
 *
 * Relative numbers (learnt by experiment with tcpdump -n -r): a segment
 * with ACK set looks its conversation up (both directions share one entry,
 * keyed in a fixed collating order: the side with the smaller port first,
 * on equal ports the smaller address). A segment that is not found, or that
 * carries SYN, (re)starts the entry with this segment's seq as its
 * direction's base and ack - 1 as the other's, and is printed with absolute
 * numbers; later ACK segments print seq/ack (and SACK blocks) minus the
 * bases. Segments without ACK are printed absolute and not looked up.
 * The table is bounded: see TERN_PRINT_CONV_* in tern/print.h.
 *
 * The option walk follows tcpdump, not RFC validity: a length < 2 or past
 * the header prints "[bad opt]"; a known option of the wrong length prints
 * its fixed-size value plus "[len N]" and the walk continues after the
 * bytes printed (not after N). So it deliberately does not use
 * tern_tcp_opt_next, which stops at such options.
 * DEVIATION (from tcpdump): MPTCP options are printed generically
 * (name + hex), and of the payloads tcpdump dissects by port only HTTP
 * (80, 8080: the request or status line) and DNS (53) are dissected here
 * (not SMB, BGP, SSH, FTP, ...).
 */
#include <stdio.h>

#include "tern/wire/tcp.h"
#include "trace/print_ctx.h"

static uint32_t conv_hash(uint32_t a, uint32_t b, uint32_t ports)
{
    uint32_t h = a * 0x9e3779b1u ^ b * 0x85ebca6bu ^ ports * 0xc2b2ae35u;
    h ^= h >> 15;
    return h % TERN_PRINT_CONV_BUCKETS;
}

/* Finds or (re)starts the conversation; adjusts seq and ack; returns bases. */
static void conv_update(struct tern_printer *p, const uint8_t *ip, uint16_t sport, uint16_t dport,
                        bool syn, uint32_t *seq, uint32_t *ack, uint32_t *bseq, uint32_t *back,
                        bool *rev)
{
    uint32_t src = pc_addr_key(ip, 0), dst = pc_addr_key(ip, 1);
    *rev = sport > dport || (sport == dport && src > dst);
    uint32_t a = *rev ? dst : src, b = *rev ? src : dst;
    uint32_t ports = *rev ? (uint32_t)dport << 16 | sport : (uint32_t)sport << 16 | dport;
    struct tern_print_conv *set = &p->conv[conv_hash(a, b, ports) * TERN_PRINT_CONV_WAYS];
    struct tern_print_conv *e = NULL, *victim = &set[0];
    for (int i = 0; i < TERN_PRINT_CONV_WAYS; i++) {
        struct tern_print_conv *x = &set[i];
        if (x->stamp && x->a == a && x->b == b && x->ports == ports) {
            e = x;
            e->stamp = ++p->clock; /* least recently used goes first */
            break;
        }
        if (victim->stamp && (!x->stamp || x->stamp < victim->stamp))
            victim = x;
    }
    if (!e || syn) {
        if (!e) {
            e = victim; /* a free way, else the least recently used */
            e->a = a, e->b = b, e->ports = ports;
            e->stamp = ++p->clock;
        }
        if (*rev)
            e->ack = *seq, e->seq = *ack - 1;
        else
            e->seq = *seq, e->ack = *ack - 1;
    } else if (*rev) {
        *seq -= e->ack;
        *ack -= e->seq;
    } else {
        *seq -= e->seq;
        *ack -= e->ack;
    }
    *bseq = e->seq;
    *back = e->ack;
    if (p->clock >= UINT32_MAX - 1) { /* renumber instead of wrapping */
        for (size_t i = 0; i < sizeof p->conv / sizeof p->conv[0]; i++)
            p->conv[i].stamp = p->conv[i].stamp ? 1 : 0;
        e->stamp = p->clock = 2;
    }
}

static const char *opt_name(uint8_t k)
{
    switch (k) {
    case 0: return "eol";
    case 1: return "nop";
    case 2: return "mss";
    case 3: return "wscale";
    case 4: return "sackOK";
    case 5: return "sack";
    case 6: return "echo";
    case 7: return "echoreply";
    case 8: return "TS";
    case 11: return "cc";
    case 12: return "ccnew";
    case 13: return "";
    case 19: return "md5";
    case 20: return "scps";
    case 28: return "uto";
    case 29: return "tcp-ao";
    case 30: return "mptcp";
    case 34: return "tfo";
    case 254: return "exp";
    default: return NULL;
    }
}

static void tfo_print(struct pc *c, const uint8_t *cp, uint32_t n, bool exp)
{
    if (exp)
        pc_printf(c, "tfo");
    if (n == 0) {
        pc_printf(c, " cookiereq");
    } else if (n % 2 != 0 || n < 4 || n > 16) {
        pc_printf(c, " (invalid)");
    } else {
        pc_printf(c, " cookie ");
        for (uint32_t i = 0; i < n; i++)
            pc_printf(c, "%02x", pc_u8(c, cp + i));
    }
}

enum opt_end { OPT_OK, OPT_BAD, OPT_TRUNC };

/* Walks the options (hlen bytes at cp). */
static enum opt_end opts_print(struct pc *c, const uint8_t *cp, uint32_t hlen, bool rev,
                               uint32_t bseq, uint32_t back, bool whole, char *ch)
{
    /* Each step consumes >= 1 byte of hlen (<= 40): bounded (ATTACKS G2). */
    while (hlen > 0) {
        if (*ch)
            pc_printf(c, "%c", *ch);
        uint8_t opt = pc_u8(c, cp++);
        uint32_t len = 1, datalen = 0;
        if (c->trunc)
            return OPT_OK;
        if (opt != TERN_TCPOPT_EOL && opt != TERN_TCPOPT_NOP) {
            len = pc_u8(c, cp++);
            if (c->trunc)
                return OPT_OK;
            if (len < 2 || len > hlen)
                return OPT_BAD;
            --hlen;
        }
        --hlen;
        const char *name = opt_name(opt);
        if (name)
            pc_printf(c, "%s", name);
        else
            pc_printf(c, "unknown-%u", opt);
/* tcpdump's rule: l bytes must fit the option space, then be captured. */
#define LENCHECK(l)                                                                    \
    do {                                                                               \
        if ((l) > hlen)                                                                \
            return OPT_BAD;                                                            \
        if (!pc_has(c, cp, (l)))                                                       \
            return OPT_TRUNC;                                                          \
    } while (0)
        switch (opt) {
        case TERN_TCPOPT_EOL:
        case TERN_TCPOPT_NOP:
        case TERN_TCPOPT_SACK_PERM:
            break;
        case TERN_TCPOPT_MSS:
            datalen = 2;
            LENCHECK(datalen);
            pc_printf(c, " %u", tern_get16(cp));
            break;
        case TERN_TCPOPT_WSCALE:
            datalen = 1;
            LENCHECK(datalen);
            pc_printf(c, " %u", cp[0]);
            break;
        case TERN_TCPOPT_SACK:
            datalen = len - 2;
            if (datalen % 8 != 0) {
                pc_printf(c, " invalid sack");
            } else {
                pc_printf(c, " %u ", datalen / 8);
                for (uint32_t i = 0; i < datalen; i += 8) {
                    LENCHECK(i + 4);
                    uint32_t s = tern_get32(cp + i);
                    LENCHECK(i + 8);
                    uint32_t e = tern_get32(cp + i + 4);
                    s -= rev ? bseq : back;
                    e -= rev ? bseq : back;
                    pc_printf(c, "{%u:%u}", s, e);
                }
            }
            break;
        case 6:
        case 7:
        case 11:
        case 12:
        case 13:
            datalen = 4;
            LENCHECK(datalen);
            pc_printf(c, " %u", tern_get32(cp));
            break;
        case TERN_TCPOPT_TS:
            datalen = 8;
            LENCHECK(datalen);
            pc_printf(c, " val %u ecr %u", tern_get32(cp), tern_get32(cp + 4));
            break;
        case 19:
            datalen = 16;
            LENCHECK(datalen);
            /* tcpdump cannot verify without a secret (-M); it says so, or
             * first that the segment was not captured whole. */
            pc_printf(c, " %s, can't check - ",
                      whole ? "shared secret not supplied with -M" : "snaplen too short");
            for (uint32_t i = 0; i < datalen; i++)
                pc_printf(c, "%02x", cp[i]);
            break;
        case 20:
            datalen = 2;
            LENCHECK(datalen);
            pc_printf(c, " cap %02x id %u", cp[0], cp[1]);
            break;
        case 29: /* TCP-AO, RFC 5925 s2.2: KeyID, RNextKeyID, MAC */
            datalen = len - 2;
            if (datalen < 2) {
                pc_printf(c, " (invalid)");
                break;
            }
            LENCHECK(1);
            pc_printf(c, " keyid %u", cp[0]);
            LENCHECK(2);
            pc_printf(c, " rnextkeyid %u", cp[1]);
            if (datalen > 2) {
                pc_printf(c, " mac 0x");
                for (uint32_t i = 2; i < datalen; i++) {
                    LENCHECK(i + 1);
                    pc_printf(c, "%02x", cp[i]);
                }
            }
            break;
        case 28: {
            datalen = 2;
            LENCHECK(datalen);
            uint32_t uto = tern_get16(cp);
            pc_printf(c, " 0x%x", uto);
            uto = uto & 1 ? (uto >> 1) * 60 : uto >> 1;
            pc_printf(c, " %u", uto);
            break;
        }
        case 34:
            datalen = len - 2;
            LENCHECK(datalen);
            pc_printf(c, " ");
            tfo_print(c, cp, datalen, false);
            break;
        case 254: {
            datalen = len - 2;
            LENCHECK(datalen);
            if (datalen < 2)
                return OPT_BAD;
            uint16_t magic = tern_get16(cp);
            pc_printf(c, "-");
            if (magic == 0xf989)
                tfo_print(c, cp + 2, datalen - 2, true);
            else
                pc_printf(c, "%04x", magic);
            break;
        }
        default:
            datalen = len - 2;
            if (datalen)
                pc_printf(c, " 0x");
            for (uint32_t i = 0; i < datalen; i++) {
                LENCHECK(i + 1);
                pc_printf(c, "%02x", cp[i]);
            }
            break;
        }
#undef LENCHECK
        cp += datalen;
        hlen -= datalen;
        datalen += opt == TERN_TCPOPT_EOL || opt == TERN_TCPOPT_NOP ? 1 : 2;
        if (datalen != len)
            pc_printf(c, "[len %u]", len);
        *ch = ',';
        if (opt == TERN_TCPOPT_EOL)
            break;
    }
    return OPT_OK;
}

enum tcp_app { TCP_APP_NONE, TCP_APP_HTTP, TCP_APP_DNS };

/* tcpdump tries the ports in a fixed order; the first port either side
 * matches wins: 23, 25, 43, 179, 1723, 6379, 22, 10288, 6633, 6653, 21
 * (Debian's tcpdump is built without SMB, so not 139, 445), then 80/8080
 * (HTTP), 554/8554 (RTSP), 53 (DNS). Segments whose
 * other port is one of the earlier ones keep the plain line here. */
static enum tcp_app tcp_app(uint16_t sport, uint16_t dport)
{
    static const uint16_t before[] = {23, 25, 43, 179, 1723, 6379, 22, 10288, 6633, 6653, 21};
    for (size_t i = 0; i < sizeof before / sizeof before[0]; i++)
        if (sport == before[i] || dport == before[i])
            return TCP_APP_NONE;
    if (sport == 80 || dport == 80 || sport == 8080 || dport == 8080)
        return TCP_APP_HTTP;
    if (sport == 554 || dport == 554 || sport == 8554 || dport == 8554)
        return TCP_APP_NONE;
    if (sport == 53 || dport == 53)
        return TCP_APP_DNS; /* RFC 1035 s4.2.2 */
    return TCP_APP_NONE;
}

void pc_tcp_print(struct pc *c, const uint8_t *bp, uint32_t length, const uint8_t *ip)
{
    c->proto = "tcp";
    char s[PC_ADDR_MAX], d[PC_ADDR_MAX], ch = '\0';
    pc_addrs(c, ip, s, d);
    if (!pc_has(c, bp, 4)) {
        pc_printf(c, "%s > %s:", s, d); /* even after extension headers */
        pc_print_trunc(c);
        return;
    }
    uint16_t sport = tern_get16(bp), dport = tern_get16(bp + 2);
    if (c->ports_only) /* tcpdump: the IPv6 header's next header is not TCP */
        pc_printf(c, "%u > %u: ", sport, dport);
    else
        pc_printf(c, "%s.%u > %s.%u: ", s, sport, d, dport);
    if (!pc_has(c, bp, TERN_TCP_HLEN_MIN)) {
        pc_print_trunc(c);
        return;
    }
    uint32_t hlen = (uint32_t)(bp[12] >> 4) * 4;
    if (hlen < TERN_TCP_HLEN_MIN) {
        pc_printf(c, " tcp %u [bad hdr length %u - too short, < %u]", length - hlen, hlen,
                  TERN_TCP_HLEN_MIN);
        return;
    }
    uint32_t seq = tern_get32(bp + 4), ack = tern_get32(bp + 8);
    uint16_t win = tern_get16(bp + 14), urp = tern_get16(bp + 18);
    uint8_t flags = bp[13];
    static const char fl[] = "FSRP.UEW";
    char fs[9];
    int n = 0;
    for (int i = 0; i < 8; i++)
        if (flags & (1u << i))
            fs[n++] = fl[i];
    fs[n] = '\0';
    pc_printf(c, "Flags [%s]", n ? fs : "none");
    uint32_t bseq = 0, back = 0;
    bool rev = false;
    if (!c->p->opts.abs_seq && (flags & TERN_TCP_ACK) && !c->trunc)
        conv_update(c->p, ip, sport, dport, (flags & TERN_TCP_SYN) != 0, &seq, &ack, &bseq, &back,
                    &rev);
    bool whole = pc_has(c, bp, length);
    if (hlen > length) {
        pc_printf(c, " [bad hdr length %u - too long, > %u]", hlen, length);
        return;
    }
    length -= hlen;
    if (length > 0 || (flags & (TERN_TCP_SYN | TERN_TCP_FIN | TERN_TCP_RST))) {
        pc_printf(c, ", seq %u", seq);
        if (length > 0)
            pc_printf(c, ":%u", seq + length);
    }
    if (flags & TERN_TCP_ACK)
        pc_printf(c, ", ack %u", ack);
    pc_printf(c, ", win %u", win);
    if (flags & TERN_TCP_URG)
        pc_printf(c, ", urg %u", urp);
    if (hlen > TERN_TCP_HLEN_MIN) {
        pc_printf(c, ", options [");
        switch (opts_print(c, bp + TERN_TCP_HLEN_MIN, hlen - TERN_TCP_HLEN_MIN, rev, bseq, back,
                           whole, &ch)) {
        case OPT_OK:
            break;
        case OPT_BAD:
            pc_printf(c, "[bad opt]");
            if (ch)
                pc_printf(c, "]");
            return;
        case OPT_TRUNC:
            pc_print_trunc(c);
            if (ch)
                pc_printf(c, ">");
            return;
        }
        pc_printf(c, "]");
    }
    pc_printf(c, ", length %u", length);
    /* tcpdump checks the whole header is captured before it would look at
     * the payload (the options walk may have stopped early at EOL). */
    if (length == 0)
        return;
    if (!pc_has(c, bp, hlen)) {
        pc_printf(c, " [remaining caplen(%zu) < header length(%u)]", (size_t)(c->end - bp), hlen);
        pc_fail(c);
        return;
    }
    switch (tcp_app(sport, dport)) {
    case TCP_APP_HTTP:
        pc_printf(c, ": ");
        pc_http_print(c, bp + hlen, length);
        break;
    case TCP_APP_DNS:
        pc_dns_print(c, bp + hlen, length, true, false);
        break;
    default:
        break;
    }
}
