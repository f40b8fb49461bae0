/*
 * dns_name.c - DNS names: decoding compressed names from a message
 * (RFC 1035 s3.1, s4.1.4), text conversion, comparison.
 *
 * The decoder is where ATTACKS 40-43 live: it follows only compression
 * pointers that point strictly before the start of the label run being
 * read (so every jump goes to a lower offset and loops are impossible),
 * at most TERN_DNS_MAX_HOPS of them, never into the header or past the
 * message, rejects the reserved label types 0x40 and 0x80 (RFC 6891 s5
 * retired the extended label type 0x40), and stops at 255 octets of output.
 * It never assumes a terminating zero: every octet is bounds-checked.
 * Not: the IDNA/punycode layer - names are octets (RFC 2181 s11).
 */
#include <string.h>

#include "tern/wire/dns.h"

int tern_dns_name_read(const uint8_t *msg, size_t len, size_t off, size_t limit,
                       struct tern_dns_name *out)
{
    if (limit > len)
        limit = len;
    size_t pos = off;
    size_t run_start = off; /* where the current run of labels began */
    size_t end = 0;         /* offset after the name in place, once known */
    bool jumped = false;
    unsigned hops = 0;
    size_t o = 0;
    for (;;) {
        size_t lim = jumped ? len : limit;
        if (pos >= lim)
            return TERN_E_SHORT; /* ATTACKS 43: no terminating zero */
        uint8_t c = msg[pos];
        switch (c & 0xc0) {
        case 0x00:
            if (c == 0) {
                out->wire[o++] = 0;
                out->len = (uint16_t)o;
                return (int)(jumped ? end : pos + 1);
            }
            /* c <= 63 here: the top bits are 0 (RFC 1035 s2.3.4). The label
             * octets must be present, and the name including a final zero
             * must stay within 255 octets (ATTACKS 42). */
            if (lim - pos < (size_t)c + 1)
                return TERN_E_SHORT;
            if (o + 1 + c + 1 > TERN_DNS_NAME_MAX)
                return TERN_E_BAD_LEN;
            memcpy(out->wire + o, msg + pos, (size_t)c + 1);
            o += (size_t)c + 1;
            pos += (size_t)c + 1;
            break;
        case 0xc0: {
            if (lim - pos < 2)
                return TERN_E_SHORT;
            size_t ptr = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
            if (!jumped)
                end = pos + 2;
            if (ptr >= len)
                return TERN_E_BAD_LEN; /* ATTACKS 41 */
            /* ATTACKS 40: only strictly backward, bounded. A pointer into the
             * header cannot name anything. */
            if (ptr >= run_start || ptr < TERN_DNS_HLEN || ++hops > TERN_DNS_MAX_HOPS)
                return TERN_E_BAD_FIELD;
            jumped = true;
            pos = run_start = ptr;
            break;
        }
        default:
            return TERN_E_BAD_FIELD; /* 0x40 (extended, RFC 6891 s5) and 0x80: reserved */
        }
    }
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

int tern_dns_name_from_text(const char *text, struct tern_dns_name *out)
{
    size_t o = 0;
    const char *p = text;
    if (!text)
        return TERN_E_INVAL;
    if (p[0] == '.' && p[1] == '\0')
        p++; /* the root */
    while (*p) {
        size_t lenpos = o++;
        size_t n = 0;
        if (o >= TERN_DNS_NAME_MAX)
            return TERN_E_BAD_LEN;
        while (*p && *p != '.') {
            uint8_t c = (uint8_t)*p++;
            if (c == '\\') {
                if (is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2])) {
                    unsigned v = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
                                 (unsigned)(p[2] - '0');
                    if (v > 255)
                        return TERN_E_INVAL;
                    c = (uint8_t)v;
                    p += 3;
                } else if (*p && !is_digit(*p)) {
                    c = (uint8_t)*p++;
                } else {
                    return TERN_E_INVAL;
                }
            }
            if (++n > TERN_DNS_LABEL_MAX || o + 1 >= TERN_DNS_NAME_MAX)
                return TERN_E_BAD_LEN;
            out->wire[o++] = c;
        }
        if (n == 0)
            return TERN_E_BAD_LEN; /* empty label: "a..b" or a leading dot */
        out->wire[lenpos] = (uint8_t)n;
        if (*p == '.')
            p++; /* a final dot just ends the name */
    }
    out->wire[o++] = 0;
    out->len = (uint16_t)o;
    return 0;
}

int tern_dns_name_to_text(const struct tern_dns_name *n, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    if (cap < 2)
        return TERN_E_NOSPC;
    if (n->len <= 1) {
        out[0] = '.';
        out[1] = '\0';
        return 1;
    }
    while (i < n->len && n->wire[i] != 0) {
        size_t l = n->wire[i++];
        if (o > 0) {
            if (o + 1 >= cap)
                return TERN_E_NOSPC;
            out[o++] = '.';
        }
        for (size_t k = 0; k < l && i < n->len; k++, i++) {
            uint8_t c = n->wire[i];
            if (c == '.' || c == '\\') {
                if (o + 2 >= cap)
                    return TERN_E_NOSPC;
                out[o++] = '\\';
                out[o++] = (char)c;
            } else if (c > 0x20 && c < 0x7f) {
                if (o + 1 >= cap)
                    return TERN_E_NOSPC;
                out[o++] = (char)c;
            } else {
                if (o + 4 >= cap)
                    return TERN_E_NOSPC;
                out[o++] = '\\';
                out[o++] = (char)('0' + c / 100);
                out[o++] = (char)('0' + c / 10 % 10);
                out[o++] = (char)('0' + c % 10);
            }
        }
    }
    out[o] = '\0';
    return (int)o;
}

static uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

static bool wire_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    /* Length octets are < 64, so folding them with the labels is harmless. */
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

bool tern_dns_name_eq(const struct tern_dns_name *a, const struct tern_dns_name *b)
{
    return a->len == b->len && wire_eq(a->wire, b->wire, a->len);
}

bool tern_dns_name_in_zone(const struct tern_dns_name *n, const struct tern_dns_name *zone)
{
    /* Walk n's label boundaries; zone must equal the suffix starting at one. */
    size_t i = 0;
    while (i < n->len) {
        if (n->len - i == zone->len)
            return wire_eq(n->wire + i, zone->wire, zone->len);
        if (n->len - i < zone->len || n->wire[i] == 0)
            return false;
        i += (size_t)n->wire[i] + 1;
    }
    return false;
}

unsigned tern_dns_name_labels(const struct tern_dns_name *n)
{
    unsigned k = 0;
    for (size_t i = 0; i < n->len && n->wire[i] != 0; i += (size_t)n->wire[i] + 1)
        k++;
    return k;
}

int tern_dns_name_concat(struct tern_dns_name *n, const struct tern_dns_name *suffix)
{
    if (n->len < 1 || suffix->len < 1)
        return TERN_E_INVAL;
    size_t l = (size_t)n->len - 1 + suffix->len; /* drop n's root zero */
    if (l > TERN_DNS_NAME_MAX)
        return TERN_E_BAD_LEN;
    memcpy(n->wire + n->len - 1, suffix->wire, suffix->len);
    n->len = (uint16_t)l;
    return 0;
}
