/*
 * fuzz/dns_fuzz.c - libFuzzer target for the DNS codec (src/wire/dns.c,
 * src/wire/dns_name.c). Input: one DNS message (UDP payload).
 *
 * Checks: the reader never reads outside the input (ASan) and always ends;
 * every decoded name is well formed (labels 1..63, at most 255 octets, one
 * final zero); a name read at every offset obeys the same; text conversion
 * round-trips each name exactly; everything read re-encodes (with
 * compression) and re-reads to the same items (abort() if not).
 * ATTACKS 40-45.
 */
#include <stdlib.h>
#include <string.h>

#include "tern/wire/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(c)        \
    do {                       \
        if (!(c))              \
            abort();           \
    } while (0)

#define MAX_ITEMS 64

static void check_name(const struct tern_dns_name *n)
{
    CHECK_OR_DIE(n->len >= 1 && n->len <= TERN_DNS_NAME_MAX);
    size_t i = 0;
    while (n->wire[i] != 0) {
        CHECK_OR_DIE(n->wire[i] <= TERN_DNS_LABEL_MAX);
        i += (size_t)n->wire[i] + 1;
        CHECK_OR_DIE(i < n->len);
    }
    CHECK_OR_DIE(i == (size_t)n->len - 1);
    /* text and back: the same octets */
    char t[TERN_DNS_TEXT_MAX];
    int k = tern_dns_name_to_text(n, t, sizeof t);
    CHECK_OR_DIE(k > 0 && (size_t)k < sizeof t);
    struct tern_dns_name b;
    CHECK_OR_DIE(tern_dns_name_from_text(t, &b) == 0);
    CHECK_OR_DIE(b.len == n->len && memcmp(b.wire, n->wire, n->len) == 0);
}

static bool rr_same(const struct tern_dns_rr *a, const struct tern_dns_rr *b)
{
    if (!tern_dns_name_eq(&a->name, &b->name) || a->type != b->type || a->rclass != b->rclass ||
        a->ttl != b->ttl)
        return false;
    switch (a->type) {
    case TERN_DNS_T_A: return a->u.a == b->u.a;
    case TERN_DNS_T_AAAA: return memcmp(a->u.aaaa, b->u.aaaa, 16) == 0;
    case TERN_DNS_T_CNAME:
    case TERN_DNS_T_NS:
    case TERN_DNS_T_PTR: return tern_dns_name_eq(&a->u.target, &b->u.target);
    case TERN_DNS_T_SOA:
        return tern_dns_name_eq(&a->u.soa.mname, &b->u.soa.mname) &&
               tern_dns_name_eq(&a->u.soa.rname, &b->u.soa.rname) &&
               a->u.soa.serial == b->u.soa.serial && a->u.soa.minimum == b->u.soa.minimum &&
               a->u.soa.refresh == b->u.soa.refresh && a->u.soa.retry == b->u.soa.retry &&
               a->u.soa.expire == b->u.soa.expire;
    default:
        return a->rdlength == b->rdlength && memcmp(a->rdata, b->rdata, a->rdlength) == 0;
    }
}

static struct tern_dns_question qs[MAX_ITEMS], qs2[MAX_ITEMS];
static struct tern_dns_rr rrs[MAX_ITEMS], rrs2[MAX_ITEMS];
static int secs[MAX_ITEMS], secs2[MAX_ITEMS];
static uint8_t out[65536];

/* Reads up to MAX_ITEMS questions and records; returns the reader's final
 * status (0 or negative). */
static int read_all(const uint8_t *m, size_t n, struct tern_dns_question *q, int *nq,
                    struct tern_dns_rr *rr, int *sec, int *nrr)
{
    struct tern_dns_reader r;
    *nq = *nrr = 0;
    int k = tern_dns_reader_init(&r, m, n);
    if (k < 0)
        return k;
    while (*nq < MAX_ITEMS && (k = tern_dns_next_question(&r, &q[*nq])) == 1) {
        CHECK_OR_DIE(r.off <= n);
        (*nq)++;
    }
    if (k < 0)
        return k;
    while (*nrr < MAX_ITEMS && (k = tern_dns_next_rr(&r, &rr[*nrr], &sec[*nrr])) == 1) {
        CHECK_OR_DIE(r.off <= n);
        const struct tern_dns_rr *x = &rr[*nrr];
        CHECK_OR_DIE(x->rdata >= m && x->rdata + x->rdlength <= m + n);
        CHECK_OR_DIE(sec[*nrr] >= TERN_DNS_SEC_ANSWER && sec[*nrr] <= TERN_DNS_SEC_ADDITIONAL);
        CHECK_OR_DIE(*nrr == 0 || sec[*nrr] >= sec[*nrr - 1]);
        CHECK_OR_DIE(x->ttl <= 0x7fffffffu);
        if (x->type == TERN_DNS_T_A)
            CHECK_OR_DIE(x->rdlength == 4);
        if (x->type == TERN_DNS_T_AAAA)
            CHECK_OR_DIE(x->rdlength == 16);
        (*nrr)++;
    }
    return k < 0 ? k : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535)
        return 0;
    /* A name at every offset: bounded and well formed, or an error. */
    for (size_t off = TERN_DNS_HLEN; off < size; off++) {
        struct tern_dns_name n;
        int k = tern_dns_name_read(data, size, off, size, &n);
        if (k >= 0) {
            CHECK_OR_DIE((size_t)k > off && (size_t)k <= size);
            check_name(&n);
        } else {
            CHECK_OR_DIE(k == TERN_E_SHORT || k == TERN_E_BAD_LEN || k == TERN_E_BAD_FIELD);
        }
    }
    int nq, nrr;
    read_all(data, size, qs, &nq, rrs, secs, &nrr);
    for (int i = 0; i < nq; i++)
        check_name(&qs[i].name);
    for (int i = 0; i < nrr; i++) {
        check_name(&rrs[i].name);
        if (rrs[i].type == TERN_DNS_T_CNAME || rrs[i].type == TERN_DNS_T_NS ||
            rrs[i].type == TERN_DNS_T_PTR)
            check_name(&rrs[i].u.target);
        if (rrs[i].type == TERN_DNS_T_SOA) {
            check_name(&rrs[i].u.soa.mname);
            check_name(&rrs[i].u.soa.rname);
        }
    }

    /* Re-encode what was read (compressed) and read it back. */
    struct tern_dns_writer w;
    CHECK_OR_DIE(tern_dns_writer_init(&w, out, sizeof out) == 0);
    /* (64 records of long uncompressible names and big RDATA may not fit
     * in 64 KiB once expanded: then there is nothing to compare.) */
    for (int i = 0; i < nq; i++) {
        int k = tern_dns_put_question(&w, &qs[i]);
        CHECK_OR_DIE(k == 0 || k == TERN_E_NOSPC);
        if (k)
            return 0;
    }
    for (int i = 0; i < nrr; i++) {
        int k = tern_dns_put_rr(&w, secs[i], &rrs[i]);
        CHECK_OR_DIE(k == 0 || k == TERN_E_NOSPC);
        if (k)
            return 0;
    }
    struct tern_dns_header h = {0};
    if (size >= TERN_DNS_HLEN)
        tern_dns_header_parse(data, size, &h);
    int len = tern_dns_writer_finish(&w, &h);
    CHECK_OR_DIE(len >= TERN_DNS_HLEN && (size_t)len <= sizeof out);
    int nq2, nrr2;
    CHECK_OR_DIE(read_all(out, (size_t)len, qs2, &nq2, rrs2, secs2, &nrr2) == 0);
    CHECK_OR_DIE(nq2 == nq && nrr2 == nrr);
    for (int i = 0; i < nq; i++)
        CHECK_OR_DIE(tern_dns_name_eq(&qs[i].name, &qs2[i].name) && qs[i].qtype == qs2[i].qtype &&
                     qs[i].qclass == qs2[i].qclass);
    for (int i = 0; i < nrr; i++)
        CHECK_OR_DIE(secs[i] == secs2[i] && rr_same(&rrs[i], &rrs2[i]));
    return 0;
}
