/*
 * src/trace/print_dns.c - DNS messages (RFC 1035 s4.1; EDNS RFC 6891;
 * mDNS RFC 6762 s5.4 / s10.2) as tcpdump 4.99.3 -n prints them without -v:
 *   query:    "ID[op][+][%] [Na] [Nq] [Nn] [Nau] TYPE[ CLASS]? NAME. (LEN)"
 *   response: "ID[op][ rcode][*][-][|][$] [Nq] AN/NS/AR RR, RR, ... (LEN)"
 * where an answer RR is printed as "[CLASS ]TYPE DATA" (A, AAAA, CNAME, NS,
 * PTR, DNAME, MX, SRV, TXT, A6, URI, OPT; other types by name only). The
 * authority and additional sections are only counted (tcpdump shows them
 * with -vv), but an OPT record there extends the response code (RFC 6891
 * s6.1.3). Over TCP the message follows a 2-octet length (RFC 1035 s4.2.2)
 * which must equal the segment's remaining length.
 *
 * Names are printed label by label with tcpdump's character escapes ("^A",
 * "M-x"), compression pointers must point backwards ("<BAD PTR>"), names
 * longer than 255 octets end in "<DOMAIN NAME TOO LONG>", RFC 2673 bit
 * labels print as "\[xHEX/BITS]". Where tcpdump gives up on a truncated or
 * malformed message it appends " [|domain]"; so do we (pc_fail). Every loop
 * is bounded: by the section counts (each step consumes captured octets or
 * fails) and, for names, by the backwards-only pointer rule.
 *
 * The expected output was learnt by running tcpdump -n -r on messages built
 * with scapy (tests/scripts/gen_apps.py); no tcpdump code is copied. tern's
 * own codec (src/wire/dns.c) rejects what it cannot parse, while a printer
 * must show it, so it is not used here.
 */
#include <stdio.h>

#include "trace/print_ctx.h"

#define DNS_MAXCDNAME 255 /* RFC 1035 s3.1: a name is at most 255 octets */

static const char *const dns_ops[16] = {
    "",     " inv_q",    " stat",     " op3",       " notify",   " update",   " op6",      " op7",
    " op8", " updateA", " updateD", " updateDA", " updateM", " updateMA", " zoneInit", " zoneRef",
};

/* Response codes (RFC 1035 s4.1.1, RFC 2136, RFC 6891, RFC 7873) as tcpdump
 * names them; 17 and 21 lack the leading space in tcpdump's table. */
static const char *const dns_rcodes[24] = {
    "",         " FormErr",  " ServFail", " NXDomain", " NotImp",  " Refused",
    " YXDomain", " YXRRSet",  " NXRRSet",  " NotAuth",  " NotZone", " Resp11",
    " Resp12",   " Resp13",   " Resp14",   " NoChange", " BadVers", "Resp17",
    " Resp18",   " Resp19",   " Resp20",   "Resp21",    " Resp22",  " BadCookie",
};

/* RR type names tcpdump 4.99.3 knows (learnt by printing a query of every
 * 16-bit type); others print as "TypeN". */
static const char *dns_type_name(uint16_t t)
{
    static const char *const low[] = {
        NULL,    "A",     "NS",     "MD",       "MF",    "CNAME", "SOA",    "MB",
        "MG",    "MR",    "NULL",   "WKS",      "PTR",   "HINFO", "MINFO",  "MX",
        "TXT",   "RP",    "AFSDB",  "X25",      "ISDN",  "RT",    "NSAP",   "NSAP_PTR",
        "SIG",   "KEY",   "PX",     "GPOS",     "AAAA",  "LOC",   "NXT",    "EID",
        "NIMLOC", "SRV",  "ATMA",   "NAPTR",    "KX",    "CERT",  "A6",     "DNAME",
        "SINK",  "OPT",   "APL",    "DS",       "SSHFP", "IPSECKEY", "RRSIG", "NSEC",
        "DNSKEY",
    };
    static const char *const mid[] = {"SPF", "UINFO", "UID", "GID", "UNSPEC", "UNSPECA"};
    static const char *const high[] = {"TKEY", "TSIG", "IXFR", "AXFR", "MAILB", "MAILA", "ANY", "URI"};
    if (t < sizeof low / sizeof low[0])
        return low[t];
    if (t >= 99 && t < 99 + sizeof mid / sizeof mid[0])
        return mid[t - 99];
    if (t >= 249 && t < 249 + sizeof high / sizeof high[0])
        return high[t - 249];
    return NULL;
}

static void print_type(struct pc *c, uint16_t t)
{
    const char *n = dns_type_name(t);
    if (n)
        pc_printf(c, " %s", n);
    else
        pc_printf(c, " Type%u", t);
}

static void print_class(struct pc *c, uint16_t k)
{
    switch (k) {
    case 3: pc_printf(c, " CHAOS"); break;
    case 4: pc_printf(c, " HS"); break;
    case 255: pc_printf(c, " ANY"); break;
    default: pc_printf(c, " (Class %u)", k); break;
    }
}

/* tcpdump's character escape: bit 7 as "M-", controls as "^X". */
void pc_print_char(struct pc *c, uint8_t ch)
{
    if (ch & 0x80) {
        pc_printf(c, "M-");
        ch &= 0x7f;
    }
    if (ch < 0x20 || ch == 0x7f)
        pc_printf(c, "^%c", ch ^ 0x40);
    else
        pc_printf(c, "%c", ch);
}

/* Prints n escaped octets at p, stopping at the capture's end; true if all
 * n were printed (tcpdump's nd_printn returning 0). */
static bool print_n(struct pc *c, const uint8_t *p, uint32_t n)
{
    while (n > 0 && p < c->end) {
        pc_print_char(c, *p++);
        n--;
    }
    return n == 0;
}

#define LBL_TYPE(b) ((b) & 0xc0)
#define LBL_INDIR 0xc0
#define LBL_EDNS0 0x40 /* RFC 6891 s5 extended label types; 0x41: bit label */
#define LBL_RESERVED 0x80

/* Skips a name; NULL if it runs past the capture or has an unknown label
 * type. Bounded: every step advances cp by >= 1 captured octet. */
static const uint8_t *name_skip(struct pc *c, const uint8_t *cp)
{
    if (!pc_has(c, cp, 1))
        return NULL;
    uint8_t i = *cp++;
    while (i) {
        switch (LBL_TYPE(i)) {
        case LBL_INDIR:
            return cp + 1;
        case LBL_EDNS0: {
            if ((i & 0x3f) != 1)
                return NULL;
            if (!pc_has(c, cp, 1))
                return NULL;
            unsigned bits = *cp ? *cp : 256;
            cp += 1 + (bits + 7) / 8;
            break;
        }
        case LBL_RESERVED:
            return NULL;
        default:
            cp += i;
            break;
        }
        if (!pc_has(c, cp, 1))
            return NULL;
        i = *cp++;
    }
    return cp;
}

/* Length of the label at cp (tcpdump's labellen): -1 if not captured or of
 * an unknown type (printing "<BAD LABEL TYPE>" for type 0x80). */
static long label_len(struct pc *c, const uint8_t *cp)
{
    if (!pc_has(c, cp, 1))
        return -1;
    uint8_t i = *cp;
    switch (LBL_TYPE(i)) {
    case LBL_EDNS0:
        if ((i & 0x3f) != 1) {
            pc_printf(c, "<ELT %d>", i & 0x3f);
            return -1;
        }
        if (!pc_has(c, cp + 1, 1))
            return -1;
        return ((cp[1] ? cp[1] : 256) + 7) / 8 + 1;
    case LBL_RESERVED:
        pc_printf(c, "<BAD LABEL TYPE>");
        return -1;
    default:
        return i;
    }
}

/* RFC 2673 bit label: "\[x" hex "/" bits "]". */
static const uint8_t *bitlabel_print(struct pc *c, const uint8_t *cp)
{
    if (!pc_has(c, cp, 1))
        return NULL;
    unsigned bits = cp[0] ? cp[0] : 256, b = bits;
    const uint8_t *p = cp + 1, *lim = cp + 1 + (bits + 3) / 4;
    pc_printf(c, "\\[x");
    for (; p < lim && b > 7; b -= 8, p++)
        pc_printf(c, "%02x", pc_u8(c, p));
    if (b > 4)
        pc_printf(c, "%02x", pc_u8(c, p) & (0xff << (8 - b)));
    else if (b > 0)
        pc_printf(c, "%1x", ((pc_u8(c, p) >> 4) & 0x0f) & (0x0f << (4 - b)));
    pc_printf(c, "/%u]", bits);
    return c->trunc ? NULL : lim;
}

/* Prints the name at cp (message at bp); returns the octet after it in the
 * record, or NULL where tcpdump gives up. Pointers must go backwards, so
 * the walk ends (at most one jump per earlier octet). */
static const uint8_t *name_print(struct pc *c, const uint8_t *cp, const uint8_t *bp)
{
    long l = label_len(c, cp);
    if (l < 0)
        return NULL;
    uint32_t max_off = (uint32_t)(cp - bp), chars = 0;
    const uint8_t *rp = NULL;
    bool compressed = false;
    uint8_t i = *cp++;
    if (LBL_TYPE(i) != LBL_INDIR)
        rp = cp + l;
    if (i == 0) {
        pc_printf(c, ".");
        return rp;
    }
    while (i && cp < c->end) {
        switch (LBL_TYPE(i)) {
        case LBL_INDIR: {
            if (!compressed) {
                rp = cp + 1;
                compressed = true;
            }
            if (!pc_has(c, cp, 1))
                return NULL;
            uint32_t off = (((uint32_t)i << 8) | *cp) & 0x3fff;
            if (off >= max_off) {
                pc_printf(c, "<BAD PTR>");
                return NULL;
            }
            max_off = off;
            cp = bp + off;
            if (!pc_has(c, cp, 1))
                return NULL;
            i = *cp;
            if ((l = label_len(c, cp)) < 0)
                return NULL;
            cp++;
            continue;
        }
        case LBL_EDNS0:
            if ((i & 0x3f) != 1) {
                pc_printf(c, "<ELT %u>", i & 0x3f);
                return NULL;
            }
            if (!bitlabel_print(c, cp))
                return NULL;
            break;
        case LBL_RESERVED:
            pc_printf(c, "<BAD LABEL TYPE>");
            return NULL;
        default:
            if (chars + (uint32_t)l <= DNS_MAXCDNAME) {
                if (!print_n(c, cp, (uint32_t)l))
                    return NULL;
            } else if (chars < DNS_MAXCDNAME) {
                if (!print_n(c, cp, DNS_MAXCDNAME - chars))
                    return NULL;
            }
            chars += (uint32_t)l;
            break;
        }
        cp += l;
        if (chars <= DNS_MAXCDNAME)
            pc_printf(c, ".");
        chars++;
        if (!pc_has(c, cp, 1))
            return NULL;
        i = *cp;
        if ((l = label_len(c, cp)) < 0)
            return NULL;
        cp++;
        if (!compressed)
            rp += l + 1;
    }
    if (chars > DNS_MAXCDNAME)
        pc_printf(c, "<DOMAIN NAME TOO LONG>");
    return rp;
}

/* A question: " TYPE[ CLASS][ (QU|QM)]? NAME." */
static const uint8_t *question_print(struct pc *c, const uint8_t *cp, const uint8_t *bp, bool mdns)
{
    const uint8_t *np = cp;
    cp = name_skip(c, cp);
    if (!cp || !pc_has(c, cp, 4))
        return NULL;
    print_type(c, tern_get16(cp));
    uint16_t k = tern_get16(cp + 2), cls = mdns ? k & 0x7fff : k;
    if (cls != 1)
        print_class(c, cls);
    if (mdns)
        pc_printf(c, k & 0x8000 ? " (QU)" : " (QM)"); /* RFC 6762 s5.4 */
    pc_printf(c, "? ");
    cp = name_print(c, np, bp);
    return cp ? cp + 4 : NULL;
}

static const char *edns_opt_name(uint16_t o)
{
    switch (o) {
    case 1: return "LLQ";
    case 2: return "UL";
    case 3: return "NSID";
    case 5: return "DAU";
    case 6: return "DHU";
    case 7: return "N3U";
    case 8: return "ECS";
    case 9: return "EXPIRE";
    case 10: return "COOKIE";
    case 11: return "KEEPALIVE";
    case 12: return "PADDING";
    case 13: return "CHAIN";
    case 14: return "KEY-TAG";
    default: return NULL;
    }
}

static const char *dnssec_alg_name(uint8_t a) /* RFC 8624 s3.1 numbers */
{
    switch (a) {
    case 0: return "DELETE";
    case 1: return "RSAMD5";
    case 2: return "DH";
    case 3: return "DS"; /* DSA; tcpdump's table says "DS" */
    case 5: return "RSASHA1";
    case 6: return "DSA-NSEC3-SHA1";
    case 7: return "RSASHA1-NSEC3-SHA1";
    case 8: return "RSASHA256";
    case 10: return "RSASHA512";
    case 12: return "ECC-GOST";
    case 13: return "ECDSAP256SHA256";
    case 14: return "ECDSAP384SHA384";
    case 15: return "ED25519";
    case 16: return "ED448";
    case 252: return "INDIRECT";
    case 253: return "PRIVATEDNS";
    case 254: return "PRIVATEOID";
    default: return NULL;
    }
}

static const char *ds_hash_name(uint8_t a) /* RFC 8624 s3.3 */
{
    switch (a) {
    case 1: return "SHA-1";
    case 2: return "SHA-256";
    case 3: return "GOST_R_34.11-94";
    case 4: return "SHA-384";
    default: return NULL;
    }
}

/* EDNS Client Subnet, RFC 7871 s6: family, source and scope prefix
 * lengths, then the address cut to the source length. */
static void ecs_print(struct pc *c, const uint8_t *cp, unsigned len)
{
    if (len < 4) {
        pc_printf(c, " (invalid)");
        return;
    }
    unsigned fam = tern_get16(cp), src = cp[2], scope = cp[3], bits;
    if (fam == 1)
        bits = 32;
    else if (fam == 2)
        bits = 128;
    else {
        pc_printf(c, " (invalid)");
        return;
    }
    if (len - 4 > bits / 8 || src > bits || scope > bits || (src + 7) / 8 != len - 4) {
        pc_printf(c, " (invalid)");
        return;
    }
    uint8_t a[16] = {0};
    for (unsigned i = 0; i < len - 4; i++)
        a[i] = cp[4 + i];
    char t[PC_ADDR_MAX];
    if (fam == 1)
        snprintf(t, sizeof t, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    else
        pc_ip6_str(a, t, sizeof t);
    pc_printf(c, "%s/%u/%u", t, src, scope);
}

/* One EDNS option (RFC 6891 s6.1.2): "NAME DATA"; NULL if cut. Only shown
 * for an OPT record in the answer section (tcpdump prints additional
 * records with -vv only). Data as tcpdump decodes it: COOKIE (RFC 7873
 * s4: client and server cookie), ECS (RFC 7871), KEEPALIVE (RFC 7828, in
 * 100 ms units), EXPIRE (RFC 7314), PADDING (RFC 7830: only its length),
 * KEY-TAG (RFC 8145), DAU/DHU/N3U (RFC 6975: algorithm names), CHAIN
 * (RFC 7901: a name), others in hex. */
static const uint8_t *edns_opt_print(struct pc *c, const uint8_t *cp)
{
    if (!pc_has(c, cp, 2))
        return NULL;
    uint16_t o = tern_get16(cp);
    const char *n = edns_opt_name(o);
    if (n)
        pc_printf(c, "%s", n);
    else
        pc_printf(c, "Opt%u", o);
    if (!pc_has(c, cp + 2, 2))
        return NULL;
    unsigned len = tern_get16(cp + 2);
    cp += 4;
    if (!pc_has(c, cp, len))
        return NULL;
    if (len == 0)
        return cp;
    pc_printf(c, " ");
    switch (o) {
    case 8:
        ecs_print(c, cp, len);
        break;
    case 10:
        if (len < 8 || (len > 8 && len < 16) || len > 40) {
            pc_printf(c, " (invalid)");
            break;
        }
        for (unsigned i = 0; i < len; i++)
            pc_printf(c, i == 8 ? " %02x" : "%02x", cp[i]);
        break;
    case 11:
        if (len != 2)
            pc_printf(c, " (invalid)");
        else
            pc_printf(c, "%0.1f sec", tern_get16(cp) / 10.0);
        break;
    case 9:
        if (len != 4)
            pc_printf(c, " (invalid)");
        else
            pc_printf(c, "%u sec", tern_get32(cp));
        break;
    case 12:
        pc_printf(c, "(%u)", len);
        break;
    case 14:
        if (len % 2 != 0) {
            pc_printf(c, " (invalid)");
            break;
        }
        for (unsigned i = 0; i < len; i += 2)
            pc_printf(c, i ? " %u" : "%u", tern_get16(cp + i));
        break;
    case 5:
    case 6:
    case 7:
        for (unsigned i = 0; i < len; i++) {
            const char *an = o == 5 ? dnssec_alg_name(cp[i])
                             : o == 6 ? ds_hash_name(cp[i])
                                      : (cp[i] == 1 ? "SHA-1" : NULL);
            if (i > 0)
                pc_printf(c, " ");
            if (an)
                pc_printf(c, "%s", an);
            else
                pc_printf(c, "Alg_%u", cp[i]);
        }
        break;
    case 13:
        /* tcpdump passes the option's end as the message start, so no
         * compression pointer can be followed (each is "<BAD PTR>") */
        name_print(c, cp, cp + len);
        break;
    default:
        for (unsigned i = 0; i < len; i++)
            pc_printf(c, "%02x", cp[i]);
        break;
    }
    return cp + len;
}

/* RFC 5952-style text of a 16-octet address (as inet_ntop prints it). */
void pc_ip6_str(const uint8_t *a, char *buf, size_t cap)
{
    uint16_t w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
    int best = -1, blen = 0;
    for (int i = 0; i < 8;) {
        if (w[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > blen)
            best = i, blen = j - i;
        i = j;
    }
    if (blen < 2)
        best = -1;
    size_t n = 0;
    bool sep = false; /* a ':' is due before the next group */
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "::");
            i += blen - 1;
            sep = false;
            continue;
        }
        if (i == 6 && best == 0 && (blen == 6 || (blen == 5 && w[5] == 0xffff))) {
            snprintf(buf + n, n < cap ? cap - n : 0, "%s%u.%u.%u.%u", sep ? ":" : "", a[12], a[13],
                     a[14], a[15]);
            return;
        }
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%x", sep ? ":" : "", w[i]);
        sep = true;
    }
}

/* A resource record, name skipped (tcpdump prints it with -v only). Returns
 * the next record, the capture end when the fixed part is cut (the caller's
 * loop then stops), or NULL where tcpdump gives up. */
static const uint8_t *rr_print(struct pc *c, const uint8_t *cp, const uint8_t *bp, bool mdns)
{
    cp = name_skip(c, cp);
    if (!cp || !pc_has(c, cp, 10))
        return c->end;
    uint16_t typ = tern_get16(cp), k = tern_get16(cp + 2);
    uint16_t cls = mdns ? k & 0x7fff : k;
    if (cls != 1 && typ != 41)
        print_class(c, cls);
    if (mdns && (k & 0x8000))
        pc_printf(c, " (Cache flush)"); /* RFC 6762 s10.2 */
    bool dnssec_ok = typ == 41 && (tern_get16(cp + 6) & 0x8000); /* RFC 3225 DO */
    uint16_t len = tern_get16(cp + 8);
    cp += 10;
    const uint8_t *rp = cp + len;
    print_type(c, typ);
    if (!pc_has(c, cp, len))
        return NULL;
    char buf[48];
    switch (typ) {
    case 1: /* A */
        if (!pc_has(c, cp, 4))
            return NULL;
        pc_printf(c, " %u.%u.%u.%u", cp[0], cp[1], cp[2], cp[3]);
        break;
    case 2: /* NS */
    case 5: /* CNAME */
    case 12: /* PTR */
    case 39: /* DNAME */
        pc_printf(c, " ");
        if (!name_print(c, cp, bp))
            return NULL;
        break;
    case 15: /* MX: name then preference */
        pc_printf(c, " ");
        if (!pc_has(c, cp, 2))
            return NULL;
        if (!name_print(c, cp + 2, bp))
            return NULL;
        pc_printf(c, " %u", tern_get16(cp));
        break;
    case 16: /* TXT: each <character-string> quoted */
        while (cp < rp) {
            pc_printf(c, " \"");
            if (!pc_has(c, cp, 1))
                return NULL;
            uint8_t n = *cp++;
            if (!print_n(c, cp, n))
                return NULL;
            cp += n;
            pc_printf(c, "\"");
        }
        break;
    case 33: /* SRV, RFC 2782: target:port priority weight */
        pc_printf(c, " ");
        if (!pc_has(c, cp, 6))
            return NULL;
        if (!name_print(c, cp + 6, bp))
            return NULL;
        pc_printf(c, ":%u %u %u", tern_get16(cp + 4), tern_get16(cp), tern_get16(cp + 2));
        break;
    case 28: /* AAAA */
        if (!pc_has(c, cp, 16))
            return NULL;
        pc_ip6_str(cp, buf, sizeof buf);
        pc_printf(c, " %s", buf);
        break;
    case 38: { /* A6, RFC 2874 s3.1 */
        if (!pc_has(c, cp, 1))
            return NULL;
        unsigned pbit = cp[0], pbyte = (pbit & ~7u) / 8;
        if (pbit > 128) {
            pc_printf(c, " %u(bad plen)", pbit);
            break;
        }
        if (pbit < 128) {
            uint8_t a[16] = {0};
            if (!pc_has(c, cp + 1, 16 - pbyte)) {
                pc_fail(c);
                return NULL;
            }
            for (unsigned j = pbyte; j < 16; j++)
                a[j] = cp[1 + j - pbyte];
            pc_ip6_str(a, buf, sizeof buf);
            pc_printf(c, " %u %s", pbit, buf);
        }
        if (pbit > 0) {
            pc_printf(c, " ");
            if (!name_print(c, cp + 1 + 16 - pbyte, bp))
                return NULL;
        }
        break;
    }
    case 256: /* URI, RFC 7553 */
        if (!pc_has(c, cp, len))
            return NULL;
        pc_printf(c, " %u %u ", pc_u16(c, cp), pc_u16(c, cp + 2));
        /* len < 4 makes the count wrap (as in tcpdump): printed to the end */
        if (c->trunc || !print_n(c, cp + 4, (uint32_t)len - 4u))
            return NULL;
        break;
    case 41: /* OPT, RFC 6891 s6.1.2: CLASS is the UDP payload size */
        pc_printf(c, " UDPsize=%u", cls);
        if (dnssec_ok)
            pc_printf(c, " DO");
        if (cp < rp) {
            pc_printf(c, " [");
            while (cp < rp) { /* each option consumes >= 4 octets */
                cp = edns_opt_print(c, cp);
                if (!cp)
                    return NULL;
                if (cp < rp)
                    pc_printf(c, ",");
            }
            pc_printf(c, "]");
        }
        break;
    case 250: /* TSIG: shown with -v only, but must be captured */
        if (!pc_has(c, cp, len))
            return NULL;
        break;
    default:
        break;
    }
    return rp;
}

/* The response code, extended by an OPT record's high bits (RFC 6891
 * s6.1.3) if one is found before the capture ends. */
static unsigned ext_rcode(struct pc *c, const uint8_t *cp, unsigned rcode, unsigned qd, unsigned an,
                          unsigned ns, unsigned ar)
{
    for (unsigned i = 0; i < qd; i++) {
        if (!(cp = name_skip(c, cp)))
            return rcode;
        cp += 4;
        if (cp >= c->end)
            return rcode;
    }
    for (unsigned i = 0; i < an + ns; i++) {
        if (!(cp = name_skip(c, cp)))
            return rcode;
        cp += 8;
        if (!pc_has(c, cp, 2))
            return rcode;
        cp += 2 + tern_get16(cp);
        if (cp >= c->end)
            return rcode;
    }
    for (unsigned i = 0; i < ar; i++) {
        if (!(cp = name_skip(c, cp)))
            return rcode;
        if (!pc_has(c, cp, 2))
            return rcode;
        uint16_t type = tern_get16(cp);
        cp += 4;
        if (!pc_has(c, cp, 1))
            return rcode;
        if (type == 41)
            return rcode | (unsigned)cp[0] << 4;
        cp += 4;
        if (!pc_has(c, cp, 2))
            return rcode;
        cp += 2 + tern_get16(cp);
        if (cp >= c->end)
            return rcode;
    }
    return rcode;
}

void pc_dns_print(struct pc *c, const uint8_t *bp, uint32_t length, bool over_tcp, bool mdns)
{
    c->proto = "domain";
    if (over_tcp) {
        /* RFC 1035 s4.2.2: a 2-octet length, then the message */
        if (length < 2) {
            pc_printf(c, " [DNS over TCP: length %u < 2] (invalid)", length);
            return;
        }
        length -= 2;
        uint16_t pfx = pc_u16(c, bp);
        if (c->trunc)
            return;
        if (pfx != length) {
            pc_printf(c, " [prefix length(%u) != length(%u)] (invalid)", pfx, length);
            return;
        }
        bp += 2;
        pc_printf(c, " ");
    }
    if (length < 12) {
        pc_printf(c, "domain [length %u < 12] (invalid)", length);
        return;
    }
    if (!pc_has(c, bp, 12)) {
        pc_fail(c);
        return;
    }
    uint16_t id = tern_get16(bp), flags = tern_get16(bp + 2);
    unsigned qd = tern_get16(bp + 4), an = tern_get16(bp + 6), ns = tern_get16(bp + 8),
             ar = tern_get16(bp + 10);
    const uint8_t *cp = bp + 12;
    unsigned op = (flags >> 11) & 0xf;
    if (flags & 0x8000) { /* response */
        unsigned rcode = ext_rcode(c, cp, flags & 0xf, qd, an, ns, ar);
        char rb[16];
        const char *rs = rb;
        if (rcode < sizeof dns_rcodes / sizeof dns_rcodes[0])
            rs = dns_rcodes[rcode];
        else
            snprintf(rb, sizeof rb, " Resp%u", rcode & 0xfff);
        pc_printf(c, "%u%s%s%s%s%s%s", id, dns_ops[op], rs, flags & 0x0400 ? "*" : "",
                  flags & 0x0080 ? "" : "-", flags & 0x0200 ? "|" : "", flags & 0x0020 ? "$" : "");
        if (qd != 1)
            pc_printf(c, " [%uq]", qd);
        for (unsigned i = 0; i < qd; i++) {
            if (i != 0)
                pc_printf(c, ",");
            if (!(cp = name_skip(c, cp))) {
                pc_fail(c);
                return;
            }
            cp += 4;
        }
        pc_printf(c, " %u/%u/%u", an, ns, ar);
        if (an) {
            if (!(cp = rr_print(c, cp, bp, mdns))) {
                pc_fail(c);
                return;
            }
            an--;
            while (cp < c->end && an) {
                pc_printf(c, ",");
                if (!(cp = rr_print(c, cp, bp, mdns))) {
                    pc_fail(c);
                    return;
                }
                an--;
            }
        }
        if (an) {
            pc_fail(c);
            return;
        }
    } else { /* query */
        pc_printf(c, "%u%s%s%s", id, dns_ops[op], flags & 0x0100 ? "+" : "",
                  flags & 0x0010 ? "%" : "");
        if (flags & 0x6cf)
            pc_printf(c, " [b2&3=0x%x]", flags);
        if (op == 1) { /* inverse query */
            if (qd)
                pc_printf(c, " [%uq]", qd);
            if (an != 1)
                pc_printf(c, " [%ua]", an);
        } else {
            if (an)
                pc_printf(c, " [%ua]", an);
            if (qd != 1)
                pc_printf(c, " [%uq]", qd);
        }
        if (ns)
            pc_printf(c, " [%un]", ns);
        if (ar)
            pc_printf(c, " [%uau]", ar);
        if (qd) {
            if (!(cp = question_print(c, cp, bp, mdns))) {
                pc_fail(c);
                return;
            }
            qd--;
            while (cp < c->end && qd) {
                if (!(cp = question_print(c, cp, bp, mdns))) {
                    pc_fail(c);
                    return;
                }
                qd--;
            }
        }
        if (qd) {
            pc_fail(c);
            return;
        }
    }
    pc_printf(c, " (%u)", length);
}
