/*
 * dns.c - DNS message codec: header, questions, resource records
 * (RFC 1035 s4.1, RFC 2181, RFC 3596 AAAA), reading and writing with name
 * compression. Names themselves: dns_name.c.
 *
 * Reading checks every length against the octets present: RDLENGTH must
 * fit the message, fixed-size RDATA must have its exact size, names and SOA
 * fields must fill RDATA exactly (ATTACKS 44); counts larger than the
 * records present end the walk where the message ends (ATTACKS 45).
 * Not: the resolver's answer validation (src/app/resolver.c) or zone data.
 */
#include "tern/wire/dns.h"

#include <string.h>

#include "tern/wire/bytes.h"

int tern_dns_header_parse(const uint8_t *msg, size_t len, struct tern_dns_header *h)
{
    if (len < TERN_DNS_HLEN)
        return TERN_E_SHORT;
    /* RFC 1035 s4.1.1: ID, then QR|Opcode(4)|AA|TC|RD|RA|Z(3)|RCODE(4). */
    uint16_t f = tern_get16(msg + 2);
    h->id = tern_get16(msg);
    h->qr = f >> 15;
    h->opcode = (uint8_t)(f >> 11 & 0xf);
    h->aa = f >> 10 & 1;
    h->tc = f >> 9 & 1;
    h->rd = f >> 8 & 1;
    h->ra = f >> 7 & 1;
    h->z = (uint8_t)(f >> 4 & 7);
    h->rcode = (uint8_t)(f & 0xf);
    h->qdcount = tern_get16(msg + 4);
    h->ancount = tern_get16(msg + 6);
    h->nscount = tern_get16(msg + 8);
    h->arcount = tern_get16(msg + 10);
    return TERN_DNS_HLEN;
}

int tern_dns_header_emit(const struct tern_dns_header *h, uint8_t *buf, size_t cap)
{
    if (cap < TERN_DNS_HLEN)
        return TERN_E_NOSPC;
    uint16_t f = (uint16_t)((unsigned)h->qr << 15 | (h->opcode & 0xfu) << 11 |
                            (unsigned)h->aa << 10 | (unsigned)h->tc << 9 | (unsigned)h->rd << 8 |
                            (unsigned)h->ra << 7 | (h->z & 7u) << 4 | (h->rcode & 0xfu));
    tern_put16(buf, h->id);
    tern_put16(buf + 2, f);
    tern_put16(buf + 4, h->qdcount);
    tern_put16(buf + 6, h->ancount);
    tern_put16(buf + 8, h->nscount);
    tern_put16(buf + 10, h->arcount);
    return TERN_DNS_HLEN;
}

/* ---- reading ---- */

static void reader_advance_section(struct tern_dns_reader *r)
{
    while (r->left == 0 && r->section < 4) {
        r->section++;
        switch (r->section) {
        case TERN_DNS_SEC_ANSWER: r->left = r->h.ancount; break;
        case TERN_DNS_SEC_AUTHORITY: r->left = r->h.nscount; break;
        case TERN_DNS_SEC_ADDITIONAL: r->left = r->h.arcount; break;
        default: r->left = 0; break;
        }
    }
}

int tern_dns_reader_init(struct tern_dns_reader *r, const uint8_t *msg, size_t len)
{
    memset(r, 0, sizeof *r);
    int n = tern_dns_header_parse(msg, len, &r->h);
    if (n < 0) {
        r->section = 4;
        return n;
    }
    r->msg = msg;
    r->len = len;
    r->off = TERN_DNS_HLEN;
    r->section = TERN_DNS_SEC_QUESTION;
    r->left = r->h.qdcount;
    reader_advance_section(r);
    return 0;
}

/* Done with errors: no further items. */
static int reader_fail(struct tern_dns_reader *r, int err)
{
    r->section = 4;
    r->left = 0;
    return err;
}

/* ATTACKS 45: counts promise more than the message holds. */
static bool reader_at_end(struct tern_dns_reader *r)
{
    if (r->off < r->len)
        return false;
    r->short_count = true;
    r->section = 4;
    r->left = 0;
    return true;
}

int tern_dns_next_question(struct tern_dns_reader *r, struct tern_dns_question *q)
{
    if (r->section != TERN_DNS_SEC_QUESTION || r->left == 0)
        return 0;
    if (reader_at_end(r))
        return 0;
    int n = tern_dns_name_read(r->msg, r->len, r->off, r->len, &q->name);
    if (n < 0)
        return reader_fail(r, n);
    size_t p = (size_t)n;
    if (r->len - p < 4)
        return reader_fail(r, TERN_E_SHORT);
    q->qtype = tern_get16(r->msg + p);
    q->qclass = tern_get16(r->msg + p + 2);
    r->off = p + 4;
    r->left--;
    reader_advance_section(r);
    return 1;
}

/* RDATA that is exactly one name (CNAME, NS, PTR), RFC 1035 s3.3. */
static int rdata_name(const struct tern_dns_reader *r, size_t p, size_t end,
                      struct tern_dns_name *out)
{
    int n = tern_dns_name_read(r->msg, r->len, p, end, out);
    if (n < 0)
        return n == TERN_E_SHORT ? TERN_E_BAD_LEN : n; /* ran past RDLENGTH */
    return (size_t)n == end ? 0 : TERN_E_BAD_LEN;
}

static int rdata_soa(const struct tern_dns_reader *r, size_t p, size_t end, struct tern_dns_soa *s)
{
    /* RFC 1035 s3.3.13: MNAME, RNAME, then five 32-bit fields. */
    int n = tern_dns_name_read(r->msg, r->len, p, end, &s->mname);
    if (n < 0)
        return n == TERN_E_SHORT ? TERN_E_BAD_LEN : n;
    n = tern_dns_name_read(r->msg, r->len, (size_t)n, end, &s->rname);
    if (n < 0)
        return n == TERN_E_SHORT ? TERN_E_BAD_LEN : n;
    p = (size_t)n;
    if (end - p != 20)
        return TERN_E_BAD_LEN;
    s->serial = tern_get32(r->msg + p);
    s->refresh = tern_get32(r->msg + p + 4);
    s->retry = tern_get32(r->msg + p + 8);
    s->expire = tern_get32(r->msg + p + 12);
    s->minimum = tern_get32(r->msg + p + 16);
    return 0;
}

int tern_dns_next_rr(struct tern_dns_reader *r, struct tern_dns_rr *rr, int *section)
{
    while (r->section == TERN_DNS_SEC_QUESTION && r->left > 0) {
        struct tern_dns_question q;
        int k = tern_dns_next_question(r, &q);
        if (k <= 0)
            return k;
    }
    if (r->section > TERN_DNS_SEC_ADDITIONAL || r->left == 0)
        return 0;
    if (reader_at_end(r))
        return 0;
    int n = tern_dns_name_read(r->msg, r->len, r->off, r->len, &rr->name);
    if (n < 0)
        return reader_fail(r, n);
    size_t p = (size_t)n;
    /* RFC 1035 s4.1.3: TYPE, CLASS, TTL, RDLENGTH, RDATA. */
    if (r->len - p < 10)
        return reader_fail(r, TERN_E_SHORT);
    rr->type = tern_get16(r->msg + p);
    rr->rclass = tern_get16(r->msg + p + 2);
    rr->ttl = tern_get32(r->msg + p + 4);
    /* RFC 2181 s8: TTLs are 0..2^31-1; "a value with the most significant
     * bit set ... should be treated as if the entire value received was zero." */
    if (rr->ttl & 0x80000000u)
        rr->ttl = 0;
    rr->rdlength = tern_get16(r->msg + p + 8);
    p += 10;
    if (r->len - p < rr->rdlength)
        return reader_fail(r, TERN_E_BAD_LEN); /* ATTACKS 44 */
    rr->rdata = r->msg + p;
    size_t end = p + rr->rdlength;
    int err = 0;
    switch (rr->type) {
    case TERN_DNS_T_A:
        if (rr->rdlength != 4)
            err = TERN_E_BAD_LEN; /* ATTACKS 44 */
        else
            rr->u.a = tern_get32(rr->rdata);
        break;
    case TERN_DNS_T_AAAA: /* RFC 3596 s2.2: 16 octets */
        if (rr->rdlength != 16)
            err = TERN_E_BAD_LEN;
        else
            memcpy(rr->u.aaaa, rr->rdata, 16);
        break;
    case TERN_DNS_T_CNAME:
    case TERN_DNS_T_NS:
    case TERN_DNS_T_PTR:
        err = rdata_name(r, p, end, &rr->u.target);
        break;
    case TERN_DNS_T_SOA:
        err = rdata_soa(r, p, end, &rr->u.soa);
        break;
    default:
        break; /* kept raw */
    }
    if (err < 0)
        return reader_fail(r, err);
    if (section)
        *section = r->section;
    r->off = end;
    r->left--;
    reader_advance_section(r);
    return 1;
}

/* ---- writing ---- */

int tern_dns_writer_init(struct tern_dns_writer *w, uint8_t *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    if (cap < TERN_DNS_HLEN)
        return TERN_E_NOSPC;
    w->buf = buf;
    w->cap = cap > 0xffff ? 0xffff : cap;
    w->len = TERN_DNS_HLEN;
    memset(buf, 0, TERN_DNS_HLEN);
    return 0;
}

/* Finds an earlier name in the output equal to n's suffix starting at wire
 * offset `at`; returns its message offset or -1. Names in our own output
 * are decoded with the same checked reader. */
static int comp_find(const struct tern_dns_writer *w, const struct tern_dns_name *n, size_t at)
{
    struct tern_dns_name s, cand;
    s.len = (uint16_t)(n->len - at);
    memcpy(s.wire, n->wire + at, s.len);
    for (unsigned i = 0; i < w->ncomp; i++) {
        if (tern_dns_name_read(w->buf, w->len, w->comp[i], w->len, &cand) >= 0 &&
            tern_dns_name_eq(&cand, &s))
            return w->comp[i];
    }
    return -1;
}

/* Writes n at w->len, compressed against earlier names (RFC 1035 s4.1.4). */
static int put_name(struct tern_dns_writer *w, const struct tern_dns_name *n)
{
    if (n->len < 1 || n->len > TERN_DNS_NAME_MAX || n->wire[n->len - 1] != 0)
        return TERN_E_INVAL;
    size_t at = 0;
    while (at < n->len && n->wire[at] != 0) {
        int ptr = comp_find(w, n, at);
        if (ptr >= 0) {
            if (w->cap - w->len < 2)
                return TERN_E_NOSPC;
            tern_put16(w->buf + w->len, (uint16_t)(0xc000 | ptr));
            w->len += 2;
            return 0;
        }
        size_t l = n->wire[at];
        if (l > TERN_DNS_LABEL_MAX || at + 1 + l >= n->len)
            return TERN_E_INVAL;
        if (w->cap - w->len < l + 1)
            return TERN_E_NOSPC;
        /* Remember where this suffix starts, if a pointer can reach it. */
        if (w->len < 0x4000 && w->ncomp < TERN_DNS_COMP_MAX)
            w->comp[w->ncomp++] = (uint16_t)w->len;
        memcpy(w->buf + w->len, n->wire + at, l + 1);
        w->len += l + 1;
        at += l + 1;
    }
    if (w->cap - w->len < 1)
        return TERN_E_NOSPC;
    w->buf[w->len++] = 0;
    return 0;
}

static int put_u16(struct tern_dns_writer *w, uint16_t v)
{
    if (w->cap - w->len < 2)
        return TERN_E_NOSPC;
    tern_put16(w->buf + w->len, v);
    w->len += 2;
    return 0;
}

static int put_u32(struct tern_dns_writer *w, uint32_t v)
{
    if (w->cap - w->len < 4)
        return TERN_E_NOSPC;
    tern_put32(w->buf + w->len, v);
    w->len += 4;
    return 0;
}

static int put_bytes(struct tern_dns_writer *w, const uint8_t *p, size_t n)
{
    if (w->cap - w->len < n)
        return TERN_E_NOSPC;
    if (n)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

static int check_order(struct tern_dns_writer *w, int section)
{
    if (section < w->section || section < 0 || section > TERN_DNS_SEC_ADDITIONAL ||
        w->count[section] == 0xffff)
        return TERN_E_INVAL;
    w->section = section;
    return 0;
}

int tern_dns_put_question(struct tern_dns_writer *w, const struct tern_dns_question *q)
{
    if (check_order(w, TERN_DNS_SEC_QUESTION) < 0)
        return TERN_E_INVAL;
    size_t len0 = w->len;
    unsigned ncomp0 = w->ncomp;
    int err = put_name(w, &q->name);
    if (!err)
        err = put_u16(w, q->qtype);
    if (!err)
        err = put_u16(w, q->qclass);
    if (err) {
        w->len = len0;
        w->ncomp = ncomp0;
        return err;
    }
    w->count[TERN_DNS_SEC_QUESTION]++;
    return 0;
}

static int put_rdata(struct tern_dns_writer *w, const struct tern_dns_rr *rr)
{
    int err;
    switch (rr->type) {
    case TERN_DNS_T_A:
        return put_u32(w, rr->u.a);
    case TERN_DNS_T_AAAA:
        return put_bytes(w, rr->u.aaaa, 16);
    case TERN_DNS_T_CNAME:
    case TERN_DNS_T_NS:
    case TERN_DNS_T_PTR:
        return put_name(w, &rr->u.target);
    case TERN_DNS_T_SOA:
        if ((err = put_name(w, &rr->u.soa.mname)) || (err = put_name(w, &rr->u.soa.rname)) ||
            (err = put_u32(w, rr->u.soa.serial)) || (err = put_u32(w, rr->u.soa.refresh)) ||
            (err = put_u32(w, rr->u.soa.retry)) || (err = put_u32(w, rr->u.soa.expire)))
            return err;
        return put_u32(w, rr->u.soa.minimum);
    default:
        if (rr->rdlength && !rr->rdata)
            return TERN_E_INVAL;
        return put_bytes(w, rr->rdata, rr->rdlength);
    }
}

int tern_dns_put_rr(struct tern_dns_writer *w, int section, const struct tern_dns_rr *rr)
{
    if (section == TERN_DNS_SEC_QUESTION || check_order(w, section) < 0)
        return TERN_E_INVAL;
    size_t len0 = w->len;
    unsigned ncomp0 = w->ncomp;
    int err = put_name(w, &rr->name);
    if (!err)
        err = put_u16(w, rr->type);
    if (!err)
        err = put_u16(w, rr->rclass);
    if (!err)
        err = put_u32(w, rr->ttl);
    size_t rdlen_at = w->len;
    if (!err)
        err = put_u16(w, 0);
    if (!err)
        err = put_rdata(w, rr);
    if (!err && w->len - rdlen_at - 2 > 0xffff)
        err = TERN_E_INVAL;
    if (err) {
        w->len = len0;
        w->ncomp = ncomp0;
        return err;
    }
    tern_put16(w->buf + rdlen_at, (uint16_t)(w->len - rdlen_at - 2));
    w->count[section]++;
    return 0;
}

int tern_dns_writer_finish(struct tern_dns_writer *w, const struct tern_dns_header *h)
{
    struct tern_dns_header hh = *h;
    hh.qdcount = w->count[0];
    hh.ancount = w->count[1];
    hh.nscount = w->count[2];
    hh.arcount = w->count[3];
    tern_dns_header_emit(&hh, w->buf, TERN_DNS_HLEN);
    return (int)w->len;
}

const char *tern_dns_type_name(uint16_t type)
{
    switch (type) {
    case TERN_DNS_T_A: return "A";
    case TERN_DNS_T_NS: return "NS";
    case TERN_DNS_T_CNAME: return "CNAME";
    case TERN_DNS_T_SOA: return "SOA";
    case TERN_DNS_T_PTR: return "PTR";
    case TERN_DNS_T_MX: return "MX";
    case TERN_DNS_T_TXT: return "TXT";
    case TERN_DNS_T_AAAA: return "AAAA";
    case TERN_DNS_T_OPT: return "OPT";
    case TERN_DNS_T_ANY: return "ANY";
    default: return NULL;
    }
}

const char *tern_dns_rcode_name(uint8_t rcode)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                                        "NXRRSET", "NOTAUTH", "NOTZONE"};
    return rcode < sizeof names / sizeof names[0] ? names[rcode] : "RESERVED";
}
