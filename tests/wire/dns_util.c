/* tests/wire/dns_util.c - see dns_util.h. */
#include "dns_util.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

void parse_msg(const uint8_t *m, size_t n, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    p->copy = malloc(n ? n : 1);
    if (n)
        memcpy(p->copy, m, n);
    struct tern_dns_reader r;
    int k = tern_dns_reader_init(&r, p->copy, n);
    if (k < 0) {
        p->err = k;
        return;
    }
    p->h = r.h;
    while (p->nq < 4 && (k = tern_dns_next_question(&r, &p->q[p->nq])) == 1)
        p->nq++;
    if (k < 0) {
        p->err = k;
        return;
    }
    while (p->nrr < 8 && (k = tern_dns_next_rr(&r, &p->rr[p->nrr], &p->sec[p->nrr])) == 1)
        p->nrr++;
    if (k < 0)
        p->err = k;
    p->short_count = r.short_count;
}

void name_is(const struct tern_dns_name *n, const char *want, const char *file, int line)
{
    char t[TERN_DNS_TEXT_MAX];
    if (tern_dns_name_to_text(n, t, sizeof t) < 0 || strcmp(t, want) != 0)
        test_fail(file, line, "name \"%s\" != \"%s\"", t, want);
}
