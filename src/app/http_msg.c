/*
 * src/app/http_msg.c - incremental HTTP/1.1 request and response parsers
 * (see http_msg.h). Pure: no I/O, no allocation.
 *
 * RFC 9112 s2.2 (message parsing), s3 (request line), s4 (status line),
 * s5 (field lines), s6 (body length), s7.1 (chunked), s9.3 (persistence);
 * RFC 9110 s5.5 (field values), s8.6 (Content-Length).
 * Lines end in CRLF; a bare LF is accepted as a line end (RFC 9112 s2.2
 * MAY), a bare CR anywhere in a head or chunk line is an error (s2.2).
 * URLs, paths and response heads: http_text.c.
 */
#include "app/http_msg.h"

#include <string.h>
#include <strings.h>

#define MAX_LEADING_CRLF 8   /* s2.2: ignore empty lines before a request line */
#define MAX_INTERIM 8        /* 1xx responses skipped before the final one */

/* tchar (RFC 9110 s5.6.2) */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return false;
    return true;
}

/* ---- the head: lines into hd->head, fields split ---- */

enum line_result { LINE_MORE, LINE_DONE, LINE_ERR };

/* Parses "name: value" at hd->head + off (NUL-terminated). 0, or -1 invalid,
 * -2 too many fields. RFC 9112 s5.1: no whitespace between name and colon;
 * RFC 9110 s5.5: value octets VCHAR / obs-text / SP / HTAB only. */
static int split_field(struct tern_http_head *hd, size_t off)
{
    char *line = hd->head + off;
    if (is_ows((unsigned char)line[0]))
        return -1; /* obs-fold (s5.2) or whitespace before the first field (s2.2): rejected */
    char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return -1;
    for (char *p = line; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return -1;
    char *v = colon + 1;
    while (is_ows((unsigned char)*v))
        v++;
    char *end = v + strlen(v);
    while (end > v && is_ows((unsigned char)end[-1]))
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

static const char *field_get(const struct tern_http_head *hd, const char *name, unsigned *count)
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
static int list_each(const struct tern_http_head *hd, const char *name,
                     int (*fn)(const char *e, size_t n, void *arg), void *arg)
{
    for (unsigned i = 0; i < hd->nfields; i++) {
        if (strcasecmp(hd->head + hd->fields[i].name, name))
            continue;
        const char *p = hd->head + hd->fields[i].value;
        while (*p) {
            while (*p == ',' || is_ows((unsigned char)*p))
                p++;
            const char *s = p;
            while (*p && *p != ',')
                p++;
            const char *e = p;
            while (e > s && is_ows((unsigned char)e[-1]))
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
static enum line_result head_byte(struct tern_http_head *hd, unsigned char c, bool allow_leading,
                                  bool *start_line_done, int (*on_line)(void *, size_t, bool),
                                  void *arg, int *err_status, const char **why)
{
    if (hd->cr && c != '\n') {
        *err_status = 400;
        *why = "bare CR";
        return LINE_ERR;
    }
    if (c == '\r') {
        hd->cr = true;
        return LINE_MORE;
    }
    if (c == '\n') {
        hd->cr = false;
        bool empty = hd->len == hd->line_start;
        if (empty && !*start_line_done) {
            if (allow_leading && ++hd->leading_crlf <= MAX_LEADING_CRLF)
                return LINE_MORE;
            *err_status = 400;
            *why = "empty start line";
            return LINE_ERR;
        }
        if (empty)
            return LINE_DONE;
        if (hd->len >= TERN_HTTP_HEAD_MAX) {
            *err_status = 431;
            *why = "header section too large";
            return LINE_ERR;
        }
        hd->head[hd->len++] = '\0';
        size_t off = hd->line_start;
        hd->line_start = hd->len;
        bool first = !*start_line_done;
        *start_line_done = true;
        int st = on_line(arg, off, first);
        if (st) {
            *err_status = st;
            return LINE_ERR;
        }
        return LINE_MORE;
    }
    if (c == '\0') {
        *err_status = 400;
        *why = "NUL in the head";
        return LINE_ERR;
    }
    if (!*start_line_done && hd->len - hd->line_start >= TERN_HTTP_LINE_MAX) {
        *err_status = 414;
        *why = "start line too long";
        return LINE_ERR;
    }
    if (hd->len >= TERN_HTTP_HEAD_MAX) {
        *err_status = 431;
        *why = "header section too large";
        return LINE_ERR;
    }
    hd->head[hd->len++] = (char)c;
    return LINE_MORE;
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
static int content_length(const struct tern_http_head *hd, uint64_t *v)
{
    struct cl_state st = {0};
    unsigned count;
    field_get(hd, "Content-Length", &count);
    if (!count)
        return 0;
    list_each(hd, "Content-Length", cl_elem, &st);
    if (st.bad || !st.seen)
        return -1;
    *v = st.v;
    return 1;
}

/* ---- Transfer-Encoding (RFC 9112 s6.1) ---- */

struct te_state {
    unsigned n, chunked;
    bool last_chunked;
};

static int te_elem(const char *e, size_t n, void *arg)
{
    struct te_state *st = arg;
    st->n++;
    /* a coding may carry parameters (";q=..."): compare the name only */
    size_t k = 0;
    while (k < n && e[k] != ';' && !is_ows((unsigned char)e[k]))
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

static bool persistent(const struct tern_http_head *hd, int minor)
{
    struct conn_state st = {0};
    list_each(hd, "Connection", conn_elem, &st);
    if (st.close)
        return false;
    return minor >= 1 || st.keep_alive;
}

/* ---- bodies: Content-Length, chunked, close-delimited ---- */

enum { C_SIZE, C_EXT, C_SIZE_LF, C_DATA, C_DATA_CR, C_DATA_LF, C_TRAILER, C_TRAILER_CR, C_DONE };

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One step of body parsing. Returns bytes consumed; sets span and span_len
 * for data, finished when the body is complete, err on error. */
static size_t body_step(struct tern_http_body *b, const uint8_t *in, size_t n, const uint8_t **span,
                        size_t *span_len, bool *finished, const char **err)
{
    if (b->framing == TERN_HTTP_LENGTH) {
        size_t k = n < b->remaining ? n : (size_t)b->remaining;
        *span = in;
        *span_len = k;
        b->remaining -= k;
        b->received += k;
        *finished = b->remaining == 0;
        return k;
    }
    if (b->framing == TERN_HTTP_CLOSE) {
        *span = in;
        *span_len = n;
        b->received += n;
        return n;
    }
    /* chunked (RFC 9112 s7.1) */
    if (b->cstate == C_DATA) {
        size_t k = n < b->remaining ? n : (size_t)b->remaining;
        *span = in;
        *span_len = k;
        b->remaining -= k;
        b->received += k;
        if (b->remaining == 0)
            b->cstate = C_DATA_CR;
        return k;
    }
    unsigned char c = in[0];
    switch (b->cstate) {
    case C_SIZE: {
        int h = hexval(c);
        if (h >= 0) {
            if (b->remaining > (UINT64_MAX >> 4) || ++b->ndigits > 16) {
                *err = "chunk size overflow";
                return 0;
            }
            b->remaining = (b->remaining << 4) | (uint64_t)h;
            return 1;
        }
        if (b->ndigits == 0) {
            *err = "bad chunk size";
            return 0;
        }
        if (c == ';' || is_ows(c)) {
            b->cstate = C_EXT;
            b->linelen = b->ndigits + 1;
            return 1;
        }
        if (c == '\r') {
            b->cstate = C_SIZE_LF;
            return 1;
        }
        if (c == '\n')
            goto size_line_done;
        *err = "bad chunk size";
        return 0;
    }
    case C_EXT:
        /* chunk extensions are ignored (s7.1.1), but bounded */
        if (c == '\r') {
            b->cstate = C_SIZE_LF;
            return 1;
        }
        if (c == '\n')
            goto size_line_done;
        if ((c < 0x20 && c != '\t') || c == 0x7f || ++b->linelen > TERN_HTTP_CHUNK_LINE_MAX) {
            *err = "bad chunk extension";
            return 0;
        }
        return 1;
    case C_SIZE_LF:
        if (c != '\n') {
            *err = "bare CR in chunk line";
            return 0;
        }
        goto size_line_done;
    case C_DATA_CR:
        if (c == '\r') {
            b->cstate = C_DATA_LF;
            return 1;
        }
        if (c == '\n') {
            b->cstate = C_SIZE;
            b->ndigits = 0;
            return 1;
        }
        *err = "chunk data not followed by CRLF";
        return 0;
    case C_DATA_LF:
        if (c != '\n') {
            *err = "chunk data not followed by CRLF";
            return 0;
        }
        b->cstate = C_SIZE;
        b->ndigits = 0;
        return 1;
    case C_TRAILER:
        /* trailer section (s7.1.2): field lines, dropped; then an empty line */
        if (c == '\n') {
            if (b->linelen == 0) {
                b->cstate = C_DONE;
                *finished = true;
                return 1;
            }
            b->linelen = 0;
            return 1;
        }
        if (c == '\r') {
            b->cstate = C_TRAILER_CR;
            return 1;
        }
        if (c == '\0' || (b->linelen == 0 && is_ows(c)) ||
            ++b->linelen > TERN_HTTP_CHUNK_LINE_MAX) {
            *err = "bad trailer section";
            return 0;
        }
        if (b->linelen == 1 && ++b->trailers > TERN_HTTP_FIELDS_MAX) {
            *err = "too many trailer fields";
            return 0;
        }
        return 1;
    case C_TRAILER_CR:
        if (c != '\n') {
            *err = "bare CR in trailer section";
            return 0;
        }
        b->cstate = C_TRAILER;
        if (b->linelen == 0) {
            b->cstate = C_DONE;
            *finished = true;
        }
        b->linelen = 0;
        return 1;
    default:
        *err = "internal";
        return 0;
    }
size_line_done:
    b->linelen = 0;
    b->cstate = b->remaining ? C_DATA : C_TRAILER;
    return 1;
}

/* ---- requests ---- */

void tern_http_req_init(struct tern_http_req *r, uint64_t max_body)
{
    memset(r, 0, offsetof(struct tern_http_req, hd));
    memset(&r->hd, 0, offsetof(struct tern_http_head, head));
    r->hd.head[0] = '\0';
    r->max_body = max_body;
}

static int req_error(struct tern_http_req *r, int status, const char *why)
{
    r->state = TERN_HTTP_ERROR;
    r->status = status;
    r->why = why;
    r->keep_alive = false;
    return status;
}

/* RFC 9112 s3: request-line = method SP request-target SP HTTP-version */
static int req_line(void *arg, size_t off, bool first)
{
    struct tern_http_req *r = arg;
    if (!first) {
        int e = split_field(&r->hd, off);
        if (e == -2)
            return req_error(r, 431, "too many header fields");
        return e ? req_error(r, 400, "bad header field line") : 0;
    }
    char *line = r->hd.head + off;
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strchr(sp2 + 1, ' '))
        return req_error(r, 400, "bad request line");
    *sp1 = *sp2 = '\0';
    r->method = line;
    r->target = sp1 + 1;
    const char *v = sp2 + 1;
    if (!is_token(r->method))
        return req_error(r, 400, "bad method");
    if (!*r->target)
        return req_error(r, 400, "empty request target");
    for (const char *p = r->target; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return req_error(r, 400, "bad request target");
    /* HTTP-version = "HTTP" "/" DIGIT "." DIGIT (s2.3), case-sensitive */
    if (strncmp(v, "HTTP/", 5) || !(v[5] >= '0' && v[5] <= '9') || v[6] != '.' ||
        !(v[7] >= '0' && v[7] <= '9') || v[8])
        return req_error(r, 400, "bad HTTP version");
    if (v[5] != '1')
        return req_error(r, 505, "HTTP major version not supported");
    r->version_minor = v[7] - '0';
    return 0;
}

static bool host_ok(const char *h)
{
    /* uri-host [ ":" port ] (RFC 9110 s7.2): reg-name / IPv4 / IP-literal chars */
    for (; *h; h++)
        if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
              strchr("-._~%!$&'()*+,;=:[]", *h)))
            return false;
    return true;
}

static void req_head_done(struct tern_http_req *r)
{
    const struct tern_http_head *hd = &r->hd;
    unsigned nhost;
    r->host = field_get(hd, "Host", &nhost);
    /* s3.2: exactly one valid Host in HTTP/1.1 */
    if ((r->version_minor >= 1 && nhost == 0) || nhost > 1 || (r->host && !host_ok(r->host))) {
        req_error(r, 400, nhost > 1 ? "more than one Host" : "missing or bad Host");
        return;
    }
    r->keep_alive = persistent(hd, r->version_minor);
    unsigned nte;
    field_get(hd, "Transfer-Encoding", &nte);
    int cl = content_length(hd, &r->content_length);
    if (nte) {
        struct te_state te = {0};
        list_each(hd, "Transfer-Encoding", te_elem, &te);
        if (r->version_minor == 0) { /* s6.1: faulty framing in HTTP/1.0 */
            req_error(r, 400, "Transfer-Encoding in an HTTP/1.0 request");
            return;
        }
        if (cl) { /* s6.3 item 3: smuggling risk; we reject */
            req_error(r, 400, "both Transfer-Encoding and Content-Length");
            return;
        }
        if (!te.last_chunked || te.chunked > 1) { /* s6.3 item 4, s7 */
            req_error(r, 400, "chunked is not the final transfer coding");
            return;
        }
        if (te.n != 1) { /* s6.1: a coding we do not understand */
            req_error(r, 501, "unsupported transfer coding");
            return;
        }
        r->body.framing = TERN_HTTP_CHUNKED;
        r->body.cstate = C_SIZE;
        r->state = TERN_HTTP_BODY;
        return;
    }
    if (cl < 0) { /* s6.3 item 5 */
        req_error(r, 400, "invalid Content-Length");
        return;
    }
    r->has_length = cl > 0;
    if (cl > 0 && r->content_length > r->max_body) {
        req_error(r, 413, "body too large");
        return;
    }
    if (cl > 0 && r->content_length > 0) {
        r->body.framing = TERN_HTTP_LENGTH;
        r->body.remaining = r->content_length;
        r->state = TERN_HTTP_BODY;
        return;
    }
    r->body.framing = TERN_HTTP_NOBODY;
    r->state = TERN_HTTP_DONE;
}

size_t tern_http_req_feed(struct tern_http_req *r, const uint8_t *in, size_t n,
                          const uint8_t **body, size_t *body_len)
{
    const uint8_t *dummy;
    size_t dummy_len;
    if (!body)
        body = &dummy;
    if (!body_len)
        body_len = &dummy_len;
    *body = NULL;
    *body_len = 0;
    size_t used = 0;
    while (used < n && r->state == TERN_HTTP_HEAD) {
        bool started = r->method != NULL;
        int st = 0;
        const char *why = NULL;
        enum line_result lr =
            head_byte(&r->hd, in[used++], true, &started, req_line, r, &st, &why);
        if (lr == LINE_ERR) {
            if (r->state != TERN_HTTP_ERROR)
                req_error(r, st, why);
            return used;
        }
        if (lr == LINE_DONE)
            req_head_done(r);
    }
    if (used < n && r->state == TERN_HTTP_BODY) {
        bool finished = false;
        const char *err = NULL;
        int cstate = r->body.cstate;
        size_t k = body_step(&r->body, in + used, n - used, body, body_len, &finished, &err);
        if (err) {
            req_error(r, 400, err);
            return used + 1;
        }
        used += k;
        /* a chunk size line just completed: enforce the body limit (413) */
        if (r->body.framing == TERN_HTTP_CHUNKED && cstate != C_DATA && r->body.cstate == C_DATA &&
            (r->body.remaining > r->max_body || r->body.received > r->max_body - r->body.remaining)) {
            req_error(r, 413, "body too large");
            *body_len = 0;
            return used;
        }
        if (finished)
            r->state = TERN_HTTP_DONE;
    }
    return used;
}

const char *tern_http_req_field(const struct tern_http_req *r, const char *name)
{
    return field_get(&r->hd, name, NULL);
}

/* ---- responses ---- */

void tern_http_resp_init(struct tern_http_resp *r, bool head_request)
{
    memset(r, 0, offsetof(struct tern_http_resp, hd));
    memset(&r->hd, 0, offsetof(struct tern_http_head, head));
    r->hd.head[0] = '\0';
    r->head_request = head_request;
}

static int resp_error(struct tern_http_resp *r, const char *why)
{
    r->state = TERN_HTTP_ERROR;
    r->error = why;
    r->keep_alive = false;
    return 1;
}

/* RFC 9112 s4: status-line = HTTP-version SP status-code SP [ reason-phrase ] */
static int resp_line(void *arg, size_t off, bool first)
{
    struct tern_http_resp *r = arg;
    if (!first) {
        int e = split_field(&r->hd, off);
        if (e == -2)
            return resp_error(r, "too many header fields");
        return e ? resp_error(r, "bad header field line") : 0;
    }
    char *v = r->hd.head + off;
    if (strncmp(v, "HTTP/", 5) || !(v[5] >= '0' && v[5] <= '9') || v[6] != '.' ||
        !(v[7] >= '0' && v[7] <= '9') || v[8] != ' ')
        return resp_error(r, "bad status line");
    if (v[5] != '1')
        return resp_error(r, "not an HTTP/1.x response");
    r->version_minor = v[7] - '0';
    const char *s = v + 9;
    if (!(s[0] >= '1' && s[0] <= '5') || !(s[1] >= '0' && s[1] <= '9') ||
        !(s[2] >= '0' && s[2] <= '9') || (s[3] && s[3] != ' '))
        return resp_error(r, "bad status code");
    r->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    r->reason = s[3] ? s + 4 : s + 3; /* DEVIATION: the SP before an empty reason may be missing */
    for (const char *p = r->reason; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return resp_error(r, "bad reason phrase");
    return 0;
}

static void resp_head_done(struct tern_http_resp *r)
{
    const struct tern_http_head *hd = &r->hd;
    if (r->status < 200) {
        /* interim response (RFC 9110 s15.2): skip it, read the next head */
        if (r->status == 101) {
            resp_error(r, "unexpected 101 Switching Protocols");
            return;
        }
        unsigned interim = r->hd.leading_crlf >> 8;
        if (++interim > MAX_INTERIM) {
            resp_error(r, "too many interim responses");
            return;
        }
        memset(&r->hd, 0, offsetof(struct tern_http_head, head));
        r->hd.leading_crlf = interim << 8;
        r->status = 0;
        r->reason = NULL;
        return;
    }
    r->keep_alive = persistent(hd, r->version_minor);
    /* s6.3 item 1: no body after HEAD, 204 and 304 */
    if (r->head_request || r->status == 204 || r->status == 304) {
        int cl = content_length(hd, &r->content_length);
        r->has_length = cl > 0;
        r->state = TERN_HTTP_DONE;
        return;
    }
    unsigned nte;
    field_get(hd, "Transfer-Encoding", &nte);
    int cl = content_length(hd, &r->content_length);
    if (nte) {
        struct te_state te = {0};
        list_each(hd, "Transfer-Encoding", te_elem, &te);
        if (r->version_minor == 0) {
            resp_error(r, "Transfer-Encoding in an HTTP/1.0 response");
            return;
        }
        if (!te.last_chunked || te.chunked > 1 || te.n != 1) {
            resp_error(r, "unsupported transfer coding");
            return;
        }
        /* s6.3 item 3: Transfer-Encoding overrides Content-Length; close after */
        if (cl)
            r->keep_alive = false;
        r->body.framing = TERN_HTTP_CHUNKED;
        r->body.cstate = C_SIZE;
        r->state = TERN_HTTP_BODY;
        return;
    }
    if (cl < 0) { /* s6.3 item 5 */
        resp_error(r, "invalid Content-Length");
        return;
    }
    if (cl > 0) {
        r->has_length = true;
        r->body.framing = TERN_HTTP_LENGTH;
        r->body.remaining = r->content_length;
        r->state = r->content_length ? TERN_HTTP_BODY : TERN_HTTP_DONE;
        return;
    }
    /* s6.3 item 8: the body ends when the connection closes */
    r->body.framing = TERN_HTTP_CLOSE;
    r->keep_alive = false;
    r->state = TERN_HTTP_BODY;
}

size_t tern_http_resp_feed(struct tern_http_resp *r, const uint8_t *in, size_t n,
                           const uint8_t **body, size_t *body_len)
{
    const uint8_t *dummy;
    size_t dummy_len;
    if (!body)
        body = &dummy;
    if (!body_len)
        body_len = &dummy_len;
    *body = NULL;
    *body_len = 0;
    size_t used = 0;
    while (used < n && r->state == TERN_HTTP_HEAD) {
        bool started = r->status != 0;
        int st = 0;
        const char *why = NULL;
        enum line_result lr = head_byte(&r->hd, in[used++], false, &started, resp_line, r, &st, &why);
        if (lr == LINE_ERR) {
            if (r->state != TERN_HTTP_ERROR)
                resp_error(r, st == 414 ? "status line too long"
                              : st == 431 ? "header section too large" : why);
            return used;
        }
        if (lr == LINE_DONE)
            resp_head_done(r);
    }
    if (used < n && r->state == TERN_HTTP_BODY) {
        bool finished = false;
        const char *err = NULL;
        size_t k = body_step(&r->body, in + used, n - used, body, body_len, &finished, &err);
        if (err) {
            resp_error(r, err);
            return used + 1;
        }
        used += k;
        if (finished)
            r->state = TERN_HTTP_DONE;
    }
    return used;
}

enum tern_http_state tern_http_resp_eof(struct tern_http_resp *r)
{
    if (r->state == TERN_HTTP_BODY && r->body.framing == TERN_HTTP_CLOSE)
        r->state = TERN_HTTP_DONE;
    else if (r->state != TERN_HTTP_DONE && r->state != TERN_HTTP_ERROR)
        resp_error(r, "connection closed before the end of the response");
    return r->state;
}

const char *tern_http_resp_field(const struct tern_http_resp *r, const char *name)
{
    return field_get(&r->hd, name, NULL);
}
