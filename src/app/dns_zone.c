/*
 * src/app/dns_zone.c - zone files: the subset of RFC 1035 s5 master-file
 * syntax that docs/dns.md documents, parsed into records.
 *
 * Supported: $ORIGIN, $TTL (RFC 2308 s4), "owner [ttl] [class] TYPE data"
 * with ttl and class in either order (RFC 1035 s5.1), a blank owner meaning
 * the previous one, '@' for the origin, relative names completed with the
 * origin, ( ) spanning lines, ';' comments, TTLs in seconds or with BIND's
 * s/m/h/d/w units. Types A, AAAA, CNAME, NS, SOA; class IN only.
 * Checked: exactly one SOA (its owner is the zone apex), every owner at or
 * below the apex, no CNAME beside other data or twice at one name
 * (RFC 1034 s3.6.2, RFC 2181 s10.1). Not: $INCLUDE, $GENERATE, quoted
 * strings, escapes beyond those of names, other types or classes.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/dns_server.h"

struct tern_dns_zone {
    struct tern_dns_name apex;
    struct tern_dns_rr *rr;
    size_t n, cap;
};

#define MAX_TOKENS 16
#define LINE_MAX_CHARS 4096

struct zparse {
    struct tern_dns_zone *z;
    const char *fname;
    char *err;
    size_t errcap;
    unsigned line;           /* line where the current entry began */
    bool have_origin, have_owner, have_ttl;
    struct tern_dns_name origin, owner;
    uint32_t ttl;
};

static int fail(struct zparse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct zparse *p, const char *fmt, ...)
{
    if (!p->err || !p->errcap)
        return -1;
    int k = snprintf(p->err, p->errcap, "%s:%u: ", p->fname, p->line);
    if (k >= 0 && (size_t)k < p->errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + k, p->errcap - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A name in zone-file form: "@", absolute "a.b.", or relative "a" + origin. */
static int parse_name(struct zparse *p, const char *t, struct tern_dns_name *out)
{
    if (!strcmp(t, "@")) {
        if (!p->have_origin)
            return fail(p, "'@' used before $ORIGIN");
        *out = p->origin;
        return 0;
    }
    size_t l = strlen(t);
    bool absolute = l > 0 && t[l - 1] == '.' && (l < 2 || t[l - 2] != '\\');
    if (tern_dns_name_from_text(t, out) < 0)
        return fail(p, "bad name '%s'", t);
    if (!absolute) {
        if (!p->have_origin)
            return fail(p, "relative name '%s' without $ORIGIN", t);
        if (tern_dns_name_concat(out, &p->origin) < 0)
            return fail(p, "name '%s' too long with the origin", t);
    }
    return 0;
}

/* Seconds, or BIND units: "1h30m", "2d", "300". */
static int parse_ttl(const char *t, uint32_t *out)
{
    uint64_t total = 0, cur = 0;
    bool digits = false;
    if (!isdigit((unsigned char)*t))
        return -1;
    for (; *t; t++) {
        if (isdigit((unsigned char)*t)) {
            cur = cur * 10 + (uint64_t)(*t - '0');
            digits = true;
            if (cur > 0x7fffffffu)
                return -1;
            continue;
        }
        uint64_t mul;
        switch (tolower((unsigned char)*t)) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'd': mul = 86400; break;
        case 'w': mul = 604800; break;
        default: return -1;
        }
        if (!digits)
            return -1;
        total += cur * mul;
        cur = 0;
        digits = false;
    }
    total += cur;
    /* RFC 2181 s8: 0 .. 2^31 - 1 */
    if (total > 0x7fffffffu)
        return -1;
    *out = (uint32_t)total;
    return 0;
}

static int add_rr(struct zparse *p, const struct tern_dns_rr *rr)
{
    struct tern_dns_zone *z = p->z;
    if (z->n == z->cap) {
        if (z->cap >= TERN_DNS_ZONE_MAX_RECORDS)
            return fail(p, "more than %u records", TERN_DNS_ZONE_MAX_RECORDS);
        size_t nc = z->cap ? z->cap * 2 : 16;
        if (nc > TERN_DNS_ZONE_MAX_RECORDS)
            nc = TERN_DNS_ZONE_MAX_RECORDS;
        struct tern_dns_rr *m = realloc(z->rr, nc * sizeof *m);
        if (!m)
            return fail(p, "out of memory");
        z->rr = m;
        z->cap = nc;
    }
    z->rr[z->n++] = *rr;
    return 0;
}

static int directive(struct zparse *p, char **tok, int n)
{
    if (!strcasecmp(tok[0], "$ORIGIN")) {
        if (n != 2)
            return fail(p, "$ORIGIN needs one name");
        struct tern_dns_name o;
        size_t l = strlen(tok[1]);
        if (l == 0 || tok[1][l - 1] != '.') {
            /* relative to the current origin (RFC 1035 s5.1) */
            if (parse_name(p, tok[1], &o) < 0)
                return -1;
        } else if (tern_dns_name_from_text(tok[1], &o) < 0) {
            return fail(p, "bad name '%s'", tok[1]);
        }
        p->origin = o;
        p->have_origin = true;
        return 0;
    }
    if (!strcasecmp(tok[0], "$TTL")) {
        if (n != 2 || parse_ttl(tok[1], &p->ttl) < 0)
            return fail(p, "$TTL needs one TTL (seconds, or units s/m/h/d/w)");
        p->have_ttl = true;
        return 0;
    }
    return fail(p, "unsupported directive '%s'", tok[0]);
}

static int record(struct zparse *p, char **tok, int n, bool blank_owner)
{
    struct tern_dns_rr rr;
    memset(&rr, 0, sizeof rr);
    int i = 0;
    if (blank_owner) {
        if (!p->have_owner)
            return fail(p, "record without an owner name");
        rr.name = p->owner;
    } else {
        if (parse_name(p, tok[i++], &rr.name) < 0)
            return -1;
        p->owner = rr.name;
        p->have_owner = true;
    }
    bool have_ttl = false, have_class = false;
    while (i < n && (!have_ttl || !have_class)) {
        if (!have_ttl && isdigit((unsigned char)tok[i][0])) {
            if (parse_ttl(tok[i], &rr.ttl) < 0)
                return fail(p, "bad TTL '%s'", tok[i]);
            have_ttl = true;
        } else if (!have_class && !strcasecmp(tok[i], "IN")) {
            have_class = true;
        } else if (!have_class && (!strcasecmp(tok[i], "CH") || !strcasecmp(tok[i], "HS") ||
                                   !strcasecmp(tok[i], "CS"))) {
            return fail(p, "class %s is not supported (IN only)", tok[i]);
        } else {
            break;
        }
        i++;
    }
    if (i >= n)
        return fail(p, "record without a type");
    if (!have_ttl) {
        /* RFC 2308 s4: $TTL; before any, 3600 (docs/dns.md) */
        rr.ttl = p->have_ttl ? p->ttl : 3600;
    }
    rr.rclass = TERN_DNS_C_IN;
    const char *type = tok[i++];
    int nd = n - i;
    char **d = tok + i;
    if (!strcasecmp(type, "A")) {
        rr.type = TERN_DNS_T_A;
        if (nd != 1 || tern_ipv4_aton(d[0], &rr.u.a) < 0)
            return fail(p, "A needs one IPv4 address");
    } else if (!strcasecmp(type, "AAAA")) {
        rr.type = TERN_DNS_T_AAAA;
        if (nd != 1 || inet_pton(AF_INET6, d[0], rr.u.aaaa) != 1)
            return fail(p, "AAAA needs one IPv6 address");
    } else if (!strcasecmp(type, "CNAME") || !strcasecmp(type, "NS")) {
        rr.type = toupper((unsigned char)type[0]) == 'C' ? TERN_DNS_T_CNAME : TERN_DNS_T_NS;
        if (nd != 1)
            return fail(p, "%s needs one name", type);
        if (parse_name(p, d[0], &rr.u.target) < 0)
            return -1;
    } else if (!strcasecmp(type, "SOA")) {
        rr.type = TERN_DNS_T_SOA;
        struct tern_dns_soa *s = &rr.u.soa;
        if (nd != 7)
            return fail(p, "SOA needs MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM");
        if (parse_name(p, d[0], &s->mname) < 0 || parse_name(p, d[1], &s->rname) < 0)
            return -1;
        char *end;
        unsigned long serial = strtoul(d[2], &end, 10);
        if (*end || !isdigit((unsigned char)d[2][0]) || serial > 0xffffffffu)
            return fail(p, "bad SOA serial '%s'", d[2]);
        s->serial = (uint32_t)serial;
        if (parse_ttl(d[3], &s->refresh) < 0 || parse_ttl(d[4], &s->retry) < 0 ||
            parse_ttl(d[5], &s->expire) < 0 || parse_ttl(d[6], &s->minimum) < 0)
            return fail(p, "bad SOA timer");
    } else {
        return fail(p, "unsupported type '%s' (A, AAAA, CNAME, NS, SOA)", type);
    }
    return add_rr(p, &rr);
}

/* Splits one line (comment stripped) into tokens; '(' and ')' adjust the
 * depth and are not tokens. */
static int tokenize(struct zparse *p, char *s, char **tok, int *n, int *depth)
{
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        if (*s == '(' || *s == ')') {
            *depth += *s == '(' ? 1 : -1;
            if (*depth < 0 || *depth > 1)
                return fail(p, "unbalanced parentheses");
            *s++ = '\0';
            continue;
        }
        if (*n >= MAX_TOKENS)
            return fail(p, "too many fields");
        tok[(*n)++] = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '(' && *s != ')')
            s++;
        if (*s == '(' || *s == ')')
            continue; /* handled (and cut) on the next turn */
        if (*s)
            *s++ = '\0';
    }
    return 0;
}

static int check_zone(struct zparse *p)
{
    struct tern_dns_zone *z = p->z;
    size_t soa = 0, soa_at = 0;
    for (size_t i = 0; i < z->n; i++)
        if (z->rr[i].type == TERN_DNS_T_SOA) {
            soa++;
            soa_at = i;
        }
    if (soa != 1)
        return fail(p, soa ? "more than one SOA record" : "no SOA record (the zone apex)");
    z->apex = z->rr[soa_at].name;
    char t[TERN_DNS_TEXT_MAX];
    for (size_t i = 0; i < z->n; i++) {
        const struct tern_dns_rr *r = &z->rr[i];
        tern_dns_name_to_text(&r->name, t, sizeof t);
        if (!tern_dns_name_in_zone(&r->name, &z->apex))
            return fail(p, "%s is outside the zone", t);
        if (r->type != TERN_DNS_T_CNAME)
            continue;
        for (size_t j = 0; j < z->n; j++)
            if (j != i && tern_dns_name_eq(&z->rr[j].name, &r->name))
                return fail(p, "CNAME and other data at %s (RFC 1034 s3.6.2)", t);
    }
    return 0;
}

struct tern_dns_zone *dns_zone_parse(const char *text, size_t len, const char *fname,
                                          char *err, size_t errcap)
{
    struct tern_dns_zone *z = calloc(1, sizeof *z);
    char *line = malloc(LINE_MAX_CHARS);
    struct zparse p = {.z = z, .fname = fname ? fname : "zone", .err = err, .errcap = errcap};
    char *tok[MAX_TOKENS];
    int ntok = 0, depth = 0;
    bool blank = false;
    unsigned lineno = 0;
    size_t pos = 0;
    int rc = 0;
    if (err && errcap)
        err[0] = '\0';
    if (!z || !line || len > TERN_DNS_ZONE_MAX_BYTES) {
        rc = fail(&p, !z || !line ? "out of memory" : "zone file too large");
        goto out;
    }
    char *buf = NULL; /* the current entry's text, kept while it spans lines */
    while (pos < len && rc == 0) {
        size_t e = pos;
        while (e < len && text[e] != '\n')
            e++;
        lineno++;
        size_t l = e - pos;
        if (l >= LINE_MAX_CHARS) {
            p.line = lineno;
            rc = fail(&p, "line too long");
            break;
        }
        /* Tokens point into `line`; an entry spanning lines (parentheses)
         * keeps its earlier tokens in `buf`. */
        char *dst = line;
        if (depth > 0) {
            size_t used = 0;
            for (int k = 0; k < ntok; k++)
                used = (size_t)(tok[k] - buf) + strlen(tok[k]) + 1;
            if (used + l + 1 > LINE_MAX_CHARS) {
                rc = fail(&p, "entry too long");
                break;
            }
            dst = buf + used;
        } else {
            buf = line;
            ntok = 0;
        }
        memcpy(dst, text + pos, l);
        dst[l] = '\0';
        for (size_t k = 0; k < l; k++) {
            if (dst[k] == ';' || dst[k] == '\r' || dst[k] == '\0') {
                dst[k] = '\0';
                break;
            }
        }
        if (depth == 0) {
            p.line = lineno;
            blank = dst[0] == ' ' || dst[0] == '\t';
        }
        rc = tokenize(&p, dst, tok, &ntok, &depth);
        pos = e < len ? e + 1 : e;
        if (rc == 0 && depth == 0 && ntok > 0) {
            if (tok[0][0] == '$' && !blank)
                rc = directive(&p, tok, ntok);
            else
                rc = record(&p, tok, ntok, blank);
            ntok = 0;
        }
    }
    if (rc == 0 && depth > 0)
        rc = fail(&p, "'(' not closed");
    if (rc == 0) {
        p.line = lineno;
        rc = check_zone(&p);
    }
out:
    free(line);
    if (rc < 0) {
        dns_zone_free(z);
        return NULL;
    }
    return z;
}

struct tern_dns_zone *dns_zone_load(const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: cannot open", path);
        return NULL;
    }
    char *text = malloc(TERN_DNS_ZONE_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, TERN_DNS_ZONE_MAX_BYTES + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    struct tern_dns_zone *z = NULL;
    if (!text)
        snprintf(err, errcap, "%s: out of memory", path);
    else if (bad)
        snprintf(err, errcap, "%s: read error", path);
    else
        z = dns_zone_parse(text, n, path, err, errcap);
    free(text);
    return z;
}

void dns_zone_free(struct tern_dns_zone *z)
{
    if (!z)
        return;
    free(z->rr);
    free(z);
}

const struct tern_dns_name *dns_zone_apex(const struct tern_dns_zone *z) { return &z->apex; }
size_t dns_zone_count(const struct tern_dns_zone *z) { return z->n; }
const struct tern_dns_rr *dns_zone_record(const struct tern_dns_zone *z, size_t i)
{
    return i < z->n ? &z->rr[i] : NULL;
}
