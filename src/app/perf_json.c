/*
 * src/app/perf_json.c - the little JSON (RFC 8259) `tern perf` needs to
 * read iperf3's parameter and results objects: find a member of an object,
 * walk an array, read a number, a boolean or a string. Values are found in
 * place, without building a tree; a malformed text makes every lookup fail.
 */
#include <stdlib.h>
#include <string.h>

#include "app/perf_impl.h"

#define MAX_DEPTH 16

static const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* RFC 8259 s7: a string; returns the position after the closing quote. */
static const char *skip_string(const char *p, const char *end)
{
    if (p >= end || *p != '"')
        return NULL;
    for (p++; p < end; p++) {
        if (*p == '"')
            return p + 1;
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\' && ++p >= end)
            return NULL;
    }
    return NULL;
}

static const char *skip_value(const char *p, const char *end, int depth)
{
    p = ws(p, end);
    if (p >= end || depth > MAX_DEPTH)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = ws(p + 1, end);
        if (p < end && *p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = skip_string(ws(p, end), end);
                if (!p)
                    return NULL;
                p = ws(p, end);
                if (p >= end || *p != ':')
                    return NULL;
                p++;
            }
            p = skip_value(p, end, depth + 1);
            if (!p)
                return NULL;
            p = ws(p, end);
            if (p >= end)
                return NULL;
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return NULL;
            p++;
        }
    }
    if (end - p >= 4 && !strncmp(p, "true", 4))
        return p + 4;
    if (end - p >= 5 && !strncmp(p, "false", 5))
        return p + 5;
    if (end - p >= 4 && !strncmp(p, "null", 4))
        return p + 4;
    const char *q = p;
    if (q < end && *q == '-')
        q++;
    const char *digits = q;
    while (q < end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
                       *q == '+' || *q == '-'))
        q++;
    return q > digits ? q : NULL;
}

bool pj_valid(const char *text, size_t len)
{
    const char *end = text + len;
    const char *p = skip_value(text, end, 0);
    return p && ws(p, end) == end && *ws(text, end) == '{';
}

struct pj pj_member(struct pj obj, const char *key)
{
    struct pj none = {NULL, NULL};
    const char *p = ws(obj.p, obj.end);
    if (!p || p >= obj.end || *p != '{')
        return none;
    p = ws(p + 1, obj.end);
    if (p < obj.end && *p == '}')
        return none;
    size_t klen = strlen(key);
    for (;;) {
        const char *ks = ws(p, obj.end);
        const char *ke = skip_string(ks, obj.end);
        if (!ke)
            return none;
        p = ws(ke, obj.end);
        if (p >= obj.end || *p != ':')
            return none;
        const char *v = ws(p + 1, obj.end);
        const char *ve = skip_value(v, obj.end, 1);
        if (!ve)
            return none;
        if ((size_t)(ke - ks) == klen + 2 && !memcmp(ks + 1, key, klen))
            return (struct pj){v, ve};
        p = ws(ve, obj.end);
        if (p >= obj.end || *p != ',')
            return none;
        p++;
    }
}

struct pj pj_index(struct pj arr, size_t i)
{
    struct pj none = {NULL, NULL};
    const char *p = ws(arr.p, arr.end);
    if (!p || p >= arr.end || *p != '[')
        return none;
    p = ws(p + 1, arr.end);
    if (p < arr.end && *p == ']')
        return none;
    for (size_t k = 0;; k++) {
        const char *v = ws(p, arr.end);
        const char *ve = skip_value(v, arr.end, 1);
        if (!ve)
            return none;
        if (k == i)
            return (struct pj){v, ve};
        p = ws(ve, arr.end);
        if (p >= arr.end || *p != ',')
            return none;
        p++;
    }
}

bool pj_number(struct pj v, double *out)
{
    if (!v.p || v.p >= v.end || !((*v.p >= '0' && *v.p <= '9') || *v.p == '-'))
        return false;
    char buf[64];
    size_t n = (size_t)(v.end - v.p);
    if (n >= sizeof buf)
        return false;
    memcpy(buf, v.p, n);
    buf[n] = 0;
    char *e;
    *out = strtod(buf, &e);
    return *e == 0;
}

bool pj_bool(struct pj v, bool *out)
{
    if (!v.p)
        return false;
    if (v.end - v.p == 4 && !memcmp(v.p, "true", 4))
        *out = true;
    else if (v.end - v.p == 5 && !memcmp(v.p, "false", 5))
        *out = false;
    else
        return false;
    return true;
}

bool pj_true(struct pj obj, const char *key)
{
    bool b = false;
    double d;
    struct pj v = pj_member(obj, key);
    if (pj_bool(v, &b))
        return b;
    return pj_number(v, &d) && d != 0; /* iperf3 writes some flags as 1 */
}
