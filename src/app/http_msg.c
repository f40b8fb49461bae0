/*
 * src/app/http_msg.c - incremental HTTP/1.1 request and response parsers
 * (see http_msg.h): start lines, what the header section means for the
 * message (Host, framing, persistence, interim responses), and feeding the
 * body through. Pure: no I/O, no allocation.
 *
 * RFC 9112 s2.2 (message parsing), s3 (request line), s4 (status line),
 * s6 (body length), s9.3 (persistence); RFC 9110 s7.2 (Host), s15.2 (1xx).
 * Lines end in CRLF; a bare LF is accepted as a line end (RFC 9112 s2.2
 * MAY), a bare CR anywhere in a head or chunk line is an error (s2.2).
 * Head lines and fields: http_fields.c; bodies: http_body.c; URLs, paths
 * and response heads: http_text.c.
 */
#include "app/http_msg_impl.h"

#include <string.h>
#include <strings.h>

#define MAX_INTERIM 8        /* 1xx responses skipped before the final one */

/* ---- requests ---- */

void http_req_init(struct tern_http_req *r, uint64_t max_body)
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
        int e = http_split_field(&r->hd, off);
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
    if (!http_is_token(r->method))
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
    r->host = http_field_get(hd, "Host", &nhost);
    /* s3.2: exactly one valid Host in HTTP/1.1 */
    if ((r->version_minor >= 1 && nhost == 0) || nhost > 1 || (r->host && !host_ok(r->host))) {
        req_error(r, 400, nhost > 1 ? "more than one Host" : "missing or bad Host");
        return;
    }
    r->keep_alive = http_persistent(hd, r->version_minor);
    unsigned nte;
    http_field_get(hd, "Transfer-Encoding", &nte);
    int cl = http_content_length(hd, &r->content_length);
    if (nte) {
        struct http_te_state te = {0};
        http_list_each(hd, "Transfer-Encoding", http_te_elem, &te);
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
        r->body.cstate = HTTP_C_SIZE;
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

size_t http_req_feed(struct tern_http_req *r, const uint8_t *in, size_t n,
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
        enum http_line lr =
            http_head_byte(&r->hd, in[used++], true, &started, req_line, r, &st, &why);
        if (lr == HTTP_LINE_ERR) {
            if (r->state != TERN_HTTP_ERROR)
                req_error(r, st, why);
            return used;
        }
        if (lr == HTTP_LINE_DONE)
            req_head_done(r);
    }
    if (used < n && r->state == TERN_HTTP_BODY) {
        bool finished = false;
        const char *err = NULL;
        int cstate = r->body.cstate;
        size_t k = http_body_step(&r->body, in + used, n - used, body, body_len, &finished, &err);
        if (err) {
            req_error(r, 400, err);
            return used + 1;
        }
        used += k;
        /* a chunk size line just completed: enforce the body limit (413) */
        if (r->body.framing == TERN_HTTP_CHUNKED && cstate != HTTP_C_DATA &&
            r->body.cstate == HTTP_C_DATA &&
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

const char *http_req_field(const struct tern_http_req *r, const char *name)
{
    return http_field_get(&r->hd, name, NULL);
}

/* ---- responses ---- */

void http_resp_init(struct tern_http_resp *r, bool head_request)
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
        int e = http_split_field(&r->hd, off);
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
    r->keep_alive = http_persistent(hd, r->version_minor);
    /* s6.3 item 1: no body after HEAD, 204 and 304 */
    if (r->head_request || r->status == 204 || r->status == 304) {
        int cl = http_content_length(hd, &r->content_length);
        r->has_length = cl > 0;
        r->state = TERN_HTTP_DONE;
        return;
    }
    unsigned nte;
    http_field_get(hd, "Transfer-Encoding", &nte);
    int cl = http_content_length(hd, &r->content_length);
    if (nte) {
        struct http_te_state te = {0};
        http_list_each(hd, "Transfer-Encoding", http_te_elem, &te);
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
        r->body.cstate = HTTP_C_SIZE;
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

size_t http_resp_feed(struct tern_http_resp *r, const uint8_t *in, size_t n,
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
        enum http_line lr =
            http_head_byte(&r->hd, in[used++], false, &started, resp_line, r, &st, &why);
        if (lr == HTTP_LINE_ERR) {
            if (r->state != TERN_HTTP_ERROR)
                resp_error(r, st == 414 ? "status line too long"
                              : st == 431 ? "header section too large" : why);
            return used;
        }
        if (lr == HTTP_LINE_DONE)
            resp_head_done(r);
    }
    if (used < n && r->state == TERN_HTTP_BODY) {
        bool finished = false;
        const char *err = NULL;
        size_t k = http_body_step(&r->body, in + used, n - used, body, body_len, &finished, &err);
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

enum tern_http_state http_resp_eof(struct tern_http_resp *r)
{
    if (r->state == TERN_HTTP_BODY && r->body.framing == TERN_HTTP_CLOSE)
        r->state = TERN_HTTP_DONE;
    else if (r->state != TERN_HTTP_DONE && r->state != TERN_HTTP_ERROR)
        resp_error(r, "connection closed before the end of the response");
    return r->state;
}

const char *http_resp_field(const struct tern_http_resp *r, const char *name)
{
    return http_field_get(&r->hd, name, NULL);
}
