/*
 * tests/wire/dns_util.h - helpers shared by the DNS codec tests: parse a
 * whole message into arrays (from an exact-size heap copy, so ASan sees any
 * over-read) and compare decoded names with text.
 */
#ifndef TERN_TESTS_DNS_UTIL_H
#define TERN_TESTS_DNS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/wire/dns.h"

struct parsed {
    uint8_t *copy; /* the message in an exact-size heap block: free() it */
    struct tern_dns_header h;
    int nq, nrr, err;
    bool short_count;
    struct tern_dns_question q[4];
    struct tern_dns_rr rr[8];
    int sec[8];
};

void parse_msg(const uint8_t *m, size_t n, struct parsed *p);
void name_is(const struct tern_dns_name *n, const char *want, const char *file, int line);
#define NAME_IS(n, s) name_is((n), (s), __FILE__, __LINE__)

#endif
