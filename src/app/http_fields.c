/*
 * src/app/http_fields.c - the header section of an HTTP/1.1 message, shared
 * by the request and response parsers (http_msg.c): bytes into lines
 * (CRLF, a bare LF accepted, a bare CR rejected), field lines split and
 * checked, field lookup and list iteration, and the framing fields:
 * Content-Length, Transfer-Encoding, Connection. Pure: no I/O, no
 * allocation. Not: the start lines and what a message means (http_msg.c),
 * bodies (http_body.c).
 *
 * RFC 9112 s2.2 (message parsing), s5 (field lines), s6.1
 * (Transfer-Encoding), s9.3 (persistence); RFC 9110 s5.5 (field values),
 * s5.6 (tokens, lists), s8.6 (Content-Length).
 */
#include "app/http_msg_impl.h"

#include <string.h>
#include <strings.h>

#define MAX_LEADING_CRLF 8   /* s2.2: ignore empty lines before a request line */

/* tchar (RFC 9110 s5.6.2) */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool http_is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return false;
    return true;
}

/* ---- the head: lines into hd->head, fields split ---- */

/* Parses "name: value" at hd->head + off (NUL-terminated). 0, or -1 invalid,
 * -2 too many fields. RFC 9112 s5.1: no whitespace between name and colon;
 * RFC 9110 s5.5: value octets VCHAR / obs-text / SP / HTAB only. */
int http_split_field(struct tern_http_head *hd, size_t off)
{
    char *line = hd->head + off;
    if (http_is_ows((unsigned char)line[0]))
        return -1; /* obs-fold (s5.2) or whitespace before the first field (s2.2): rejected */
    char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return -1;
    for (char *p = line; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return -1;
    char *v = colon + 1;
    while (http_is_ows((unsigned char)*v))
        v++;
    char *end = v + strlen(v);
    while (end > v && http_is_ows((unsigned char)end[-1]))
        end--;
    for (char *p = v; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 && c != '\t')
            return -1;
        if (c == 0x7f)
            return -1;
    }
    if (hd->nfields >= TERN_HTTP_FIELDS_MAX)
        return -2;
    *colon = '\0';
    *end = '\0';
    struct tern_http_field *f = &hd->fields[hd->nfields++];
    f->name = (uint16_t)off;
    f->name_len = (uint16_t)(colon - line);
    f->value = (uint16_t)(v - hd->head);
    f->value_len = (uint16_t)(end - v);
    return 0;
}

const char *http_field_get(const struct tern_http_head *hd, const char *name,
                           unsigned *count)
{
    const char *first = NULL;
    unsigned k = 0;
    for (unsigned i = 0; i < hd->nfields; i++)
        if (!strcasecmp(hd->head + hd->fields[i].name, name)) {
            if (!first)
                first = hd->head + hd->fields[i].value;
            k++;
        }
    if (count)
        *count = k;
    return first;
}

/* Iterates the comma-separated list elements of every field `name`
 * (RFC 9110 s5.6.1), calling fn(elem, len, arg); empty elements skipped.
 * Stops and returns fn's value when non-zero. */
int http_list_each(const struct tern_http_head *hd, const char *name,
                   int (*fn)(const char *e, size_t n, void *arg), void *arg)
{
    for (unsigned i = 0; i < hd->nfields; i++) {
        if (strcasecmp(hd->head + hd->fields[i].name, name))
            continue;
        const char *p = hd->head + hd->fields[i].value;
        while (*p) {
            while (*p == ',' || http_is_ows((unsigned char)*p))
                p++;
            const char *s = p;
            while (*p && *p != ',')
                p++;
            const char *e = p;
            while (e > s && http_is_ows((unsigned char)e[-1]))
                e--;
            if (e > s) {
                int r = fn(s, (size_t)(e - s), arg);
                if (r)
                    return r;
            }
        }
    }
    return 0;
}

/* Feeds one byte of the head. Status on error through *err_status. */
enum http_line http_head_byte(struct tern_http_head *hd, unsigned char c, bool allow_leading,
                              bool *start_line_done, int (*on_line)(void *, size_t, bool),
                              void *arg, int *err_status, const char **why)
{
    if (hd->cr && c != '\n') {
        *err_status = 400;
        *why = "bare CR";
        return HTTP_LINE_ERR;
    }
    if (c == '\r') {
        hd->cr = true;
        return HTTP_LINE_MORE;
    }
    if (c == '\n') {
        hd->cr = false;
        bool empty = hd->len == hd->line_start;
        if (empty && !*start_line_done) {
            if (allow_leading && ++hd->leading_crlf <= MAX_LEADING_CRLF)
                return HTTP_LINE_MORE;
            *err_status = 400;
            *why = "empty start line";
            return HTTP_LINE_ERR;
        }
        if (empty)
            return HTTP_LINE_DONE;
        if (hd->len >= TERN_HTTP_HEAD_MAX) {
            *err_status = 431;
            *why = "header section too large";
            return HTTP_LINE_ERR;
        }
        hd->head[hd->len++] = '\0';
        size_t off = hd->line_start;
        hd->line_start = hd->len;
        bool first = !*start_line_done;
        *start_line_done = true;
        int st = on_line(arg, off, first);
        if (st) {
            *err_status = st;
            return HTTP_LINE_ERR;
        }
        return HTTP_LINE_MORE;
    }
    if (c == '\0') {
        *err_status = 400;
        *why = "NUL in the head";
        return HTTP_LINE_ERR;
    }
    if (!*start_line_done && hd->len - hd->line_start >= TERN_HTTP_LINE_MAX) {
        *err_status = 414;
        *why = "start line too long";
        return HTTP_LINE_ERR;
    }
    if (hd->len >= TERN_HTTP_HEAD_MAX) {
        *err_status = 431;
        *why = "header section too large";
        return HTTP_LINE_ERR;
    }
    hd->head[hd->len++] = (char)c;
    return HTTP_LINE_MORE;
}

/* ---- Content-Length (RFC 9110 s8.6) ---- */

struct cl_state {
    bool seen;
    bool bad;
    uint64_t v;
};

static int cl_elem(const char *e, size_t n, void *arg)
{
    struct cl_state *st = arg;
    uint64_t v = 0;
    if (n == 0 || n > 18) { /* 18 digits < 2^63: no overflow possible */
        st->bad = true;
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (e[i] < '0' || e[i] > '9') {
            st->bad = true;
            return 1;
        }
        v = v * 10 + (uint64_t)(e[i] - '0');
    }
    if (st->seen && v != st->v) { /* differing values: invalid framing */
        st->bad = true;
        return 1;
    }
    st->seen = true;
    st->v = v;
    return 0;
}

/* 0 none, 1 valid (*v), -1 invalid. An empty field value is invalid too. */
int http_content_length(const struct tern_http_head *hd, uint64_t *v)
{
    struct cl_state st = {0};
    unsigned count;
    http_field_get(hd, "Content-Length", &count);
    if (!count)
        return 0;
    http_list_each(hd, "Content-Length", cl_elem, &st);
    if (st.bad || !st.seen)
        return -1;
    *v = st.v;
    return 1;
}

/* ---- Transfer-Encoding (RFC 9112 s6.1) ---- */

int http_te_elem(const char *e, size_t n, void *arg)
{
    struct http_te_state *st = arg;
    st->n++;
    /* a coding may carry parameters (";q=..."): compare the name only */
    size_t k = 0;
    while (k < n && e[k] != ';' && !http_is_ows((unsigned char)e[k]))
        k++;
    st->last_chunked = k == 7 && !strncasecmp(e, "chunked", 7);
    if (st->last_chunked)
        st->chunked++;
    return 0;
}

/* ---- Connection (RFC 9112 s9.3) ---- */

struct conn_state {
    bool close, keep_alive;
};

static int conn_elem(const char *e, size_t n, void *arg)
{
    struct conn_state *st = arg;
    if (n == 5 && !strncasecmp(e, "close", 5))
        st->close = true;
    if (n == 10 && !strncasecmp(e, "keep-alive", 10))
        st->keep_alive = true;
    return 0;
}

bool http_persistent(const struct tern_http_head *hd, int minor)
{
    struct conn_state st = {0};
    http_list_each(hd, "Connection", conn_elem, &st);
    if (st.close)
        return false;
    return minor >= 1 || st.keep_alive;
}
