/*
 * src/sim/scenario_val.c - the value syntaxes of scenario files: times,
 * rates, byte counts, probabilities (docs/scenarios.md, "Values").
 * Pure functions; strict: trailing garbage, overflow, negative or NaN
 * values are errors, never silently clamped.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/scenario.h"

/* A non-negative decimal number (digits, optional fraction) followed by a
 * unit suffix returned in *unit. No exponent, no sign, no hex. */
static int number(const char *s, double *v, const char **unit)
{
    const char *p = s;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return -1;
    double x = 0;
    int digits = 0;
    while (isdigit((unsigned char)*p)) {
        x = x * 10 + (*p++ - '0');
        if (++digits > 15)
            return -1;
    }
    if (*p == '.') {
        p++;
        double f = 0.1;
        int fd = 0;
        while (isdigit((unsigned char)*p)) {
            x += f * (*p++ - '0');
            f /= 10;
            if (++fd > 9)
                return -1;
        }
    }
    *v = x;
    *unit = p;
    return 0;
}

int scn_parse_time(const char *s, uint64_t *us)
{
    double v;
    const char *u;
    if (!s || number(s, &v, &u) < 0)
        return -1;
    double mul;
    if (!*u || !strcmp(u, "s"))
        mul = 1e6;
    else if (!strcmp(u, "ms"))
        mul = 1e3;
    else if (!strcmp(u, "us"))
        mul = 1;
    else if (!strcmp(u, "m") || !strcmp(u, "min"))
        mul = 60e6;
    else if (!strcmp(u, "h"))
        mul = 3600e6;
    else
        return -1;
    double r = v * mul;
    if (r > (double)SCN_MAX_TIME_US)
        return -1;
    *us = (uint64_t)llround(r);
    return 0;
}

int scn_parse_rate(const char *s, uint64_t *bps)
{
    double v;
    const char *u;
    if (!s || number(s, &v, &u) < 0)
        return -1;
    double mul = 1;
    if (*u == 'k' || *u == 'K')
        mul = 1e3, u++;
    else if (*u == 'M')
        mul = 1e6, u++;
    else if (*u == 'G')
        mul = 1e9, u++;
    if (*u && strcasecmp(u, "bit") && strcasecmp(u, "bps") && strcasecmp(u, "b/s"))
        return -1;
    double r = v * mul;
    if (r < 1 || r > 1e12)
        return -1;
    *bps = (uint64_t)llround(r);
    return 0;
}

int scn_parse_bytes(const char *s, uint64_t *bytes)
{
    double v;
    const char *u;
    if (!s || number(s, &v, &u) < 0)
        return -1;
    double mul = 1;
    if (!strcmp(u, "K") || !strcmp(u, "k") || !strcmp(u, "KiB"))
        mul = 1024;
    else if (!strcmp(u, "M") || !strcmp(u, "MiB"))
        mul = 1024.0 * 1024;
    else if (!strcmp(u, "G") || !strcmp(u, "GiB"))
        mul = 1024.0 * 1024 * 1024;
    else if (*u && strcmp(u, "B"))
        return -1;
    double r = v * mul;
    if (r != floor(r) || r > 1e15)
        return -1;
    *bytes = (uint64_t)r;
    return 0;
}

int scn_parse_prob(const char *s, double *p)
{
    double v;
    const char *u;
    if (!s || number(s, &v, &u) < 0)
        return -1;
    if (!strcmp(u, "%"))
        v /= 100;
    else if (*u)
        return -1;
    if (!(v >= 0 && v <= 1))
        return -1;
    *p = v;
    return 0;
}
