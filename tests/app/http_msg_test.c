/*
 * Tests for src/app/http_msg.c and http_text.c: the HTTP/1.1 request and
 * response parsers (valid and hostile input, every input also fed one byte
 * at a time), URLs, request-target to path mapping (traversal attempts),
 * response heads. Expected values from RFC 9110/9112 text; dates checked
 * against GNU date -u -d @T.
 */
#include <stdlib.h>

#include "app/http_msg.h"
#include "harness.h"

struct req_out {
    int state, status;
    char body[256];
    size_t body_len, used;
};

/* Feeds s in pieces of `step` bytes (0 = all at once) until the parser
 * finishes; records the state, status, body and the bytes consumed. */
static void req_run(struct tern_http_req *r, const char *s, size_t len, size_t step,
                    uint64_t max_body, struct req_out *o)
{
    http_req_init(r, max_body);
    memset(o, 0, sizeof *o);
    const uint8_t *p = (const uint8_t *)s;
    size_t off = 0;
    while (off < len && r->state != TERN_HTTP_DONE && r->state != TERN_HTTP_ERROR) {
        size_t n = len - off;
        if (step && n > step)
            n = step;
        const uint8_t *b;
        size_t bl;
        size_t k = http_req_feed(r, p + off, n, &b, &bl);
        if (bl && o->body_len + bl < sizeof o->body) {
            memcpy(o->body + o->body_len, b, bl);
            o->body_len += bl;
        }
        if (k == 0)
            break;
        off += k;
    }
    o->used = off;
    o->state = r->state;
    o->status = r->status;
}

static struct tern_http_req *req_new(void)
{
    return malloc(sizeof(struct tern_http_req));
}

/* The status a request gets (0 = parsed fine), checked to be the same when
 * fed one byte at a time and in 7-byte pieces. */
static int req_status(const char *s, uint64_t max_body)
{
    struct tern_http_req *r = req_new();
    struct req_out a, b, c;
    req_run(r, s, strlen(s), 0, max_body, &a);
    req_run(r, s, strlen(s), 1, max_body, &b);
    req_run(r, s, strlen(s), 7, max_body, &c);
    free(r);
    if (a.state != b.state || a.status != b.status || a.state != c.state || a.status != c.status)
        return -1;
    if (a.state == TERN_HTTP_ERROR)
        return a.status;
    return a.state == TERN_HTTP_DONE ? 0 : -2;
}

TEST(http_req_simple_get)
{
    struct tern_http_req *r = req_new();
    struct req_out o;
    const char *s = "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent:  x/1 \r\n\r\n";
    req_run(r, s, strlen(s), 1, 0, &o);
    CHECK_EQ(o.state, TERN_HTTP_DONE);
    CHECK_EQ(o.used, strlen(s));
    CHECK_STR(r->method, "GET");
    CHECK_STR(r->target, "/index.html");
    CHECK_EQ(r->version_minor, 1);
    CHECK_STR(r->host, "www.example.com");
    CHECK(r->keep_alive); /* RFC 9112 s9.3: HTTP/1.1 persists by default */
    CHECK_STR(http_req_field(r, "user-agent"), "x/1"); /* OWS trimmed, RFC 9110 s5.5 */
    CHECK(http_req_field(r, "Accept") == NULL);
    free(r);
}

TEST(http_req_versions_and_connection)
{
    struct tern_http_req *r = req_new();
    struct req_out o;
    const char *s = "GET / HTTP/1.0\r\n\r\n"; /* Host is required only in 1.1 (s3.2) */
    req_run(r, s, strlen(s), 0, 0, &o);
    CHECK_EQ(o.state, TERN_HTTP_DONE);
    CHECK(!r->keep_alive);
    s = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
    req_run(r, s, strlen(s), 0, 0, &o);
    CHECK(r->keep_alive);
    s = "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n";
    req_run(r, s, strlen(s), 0, 0, &o);
    CHECK_EQ(o.state, TERN_HTTP_DONE);
    CHECK(!r->keep_alive);
    free(r);
    CHECK_EQ(req_status("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 0), 505);
    CHECK_EQ(req_status("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / http/1.1\r\nHost: a\r\n\r\n", 0), 400); /* case-sensitive (s2.3) */
    CHECK_EQ(req_status("GET / HTTP/1\r\nHost: a\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET /\r\n\r\n", 0), 400); /* HTTP/0.9 */
}

TEST(http_req_line_rules)
{
    CHECK_EQ(req_status("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0), 0); /* s2.2 */
    CHECK_EQ(req_status("GET / HTTP/1.1\nHost: a\n\n", 0), 0); /* bare LF as line end (s2.2 MAY) */
    CHECK_EQ(req_status("GET / HTTP/1.1\rHost: a\r\n\r\n", 0), 400); /* bare CR (s2.2) */
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 0), 400); /* method is a token */
    CHECK_EQ(req_status("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("\tGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0), 0);
    CHECK_EQ(req_status("PUT /x HTTP/1.1\r\nHost: a\r\n\r\n", 0), 0); /* the server answers 405 */
}

TEST(http_req_fields_rules)
{
    /* s5.1: no whitespace between field name and colon */
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 0), 400);
    /* s5.2: obs-fold rejected; s2.2: whitespace before the first field line */
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fz\r\n\r\n", 0), 400);
    /* RFC 9110 s5.5: NUL in a value is rejected */
    static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
    struct tern_http_req *r = req_new();
    struct req_out o;
    req_run(r, nul, sizeof nul - 1, 1, 0, &o);
    CHECK_EQ(o.status, 400);
    free(r);
    /* s3.2: Host missing in 1.1, twice, or invalid */
    CHECK_EQ(req_status("GET / HTTP/1.1\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 0), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost:\r\n\r\n", 0), 0); /* empty is allowed */
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n\r\n", 0), 0);
}

TEST(http_req_limits)
{
    size_t n = TERN_HTTP_LINE_MAX + 100;
    char *s = malloc(n + 64);
    strcpy(s, "GET /");
    memset(s + 5, 'a', n);
    strcpy(s + 5 + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ(req_status(s, 0), 414); /* RFC 9112 s3 */
    free(s);
    /* a header section over the bound: 431 (RFC 6585 s5) */
    char *h = malloc(TERN_HTTP_HEAD_MAX + 4096);
    strcpy(h, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; strlen(h) < TERN_HTTP_HEAD_MAX + 100; i++) {
        char line[1100];
        snprintf(line, sizeof line, "X-%d: %01000d\r\n", i, 0);
        strcat(h, line);
    }
    strcat(h, "\r\n");
    CHECK_EQ(req_status(h, 0), 431);
    /* too many field lines: 431 */
    strcpy(h, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < TERN_HTTP_FIELDS_MAX; i++)
        strcat(h, "X: 1\r\n");
    strcat(h, "\r\n");
    CHECK_EQ(req_status(h, 0), 431);
    /* the maximum is fine */
    strcpy(h, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 1; i < TERN_HTTP_FIELDS_MAX; i++)
        strcat(h, "X: 1\r\n");
    strcat(h, "\r\n");
    CHECK_EQ(req_status(h, 0), 0);
    free(h);
    /* a stream of empty lines is not ignored forever */
    CHECK_EQ(req_status("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0),
             400);
}

/* RFC 9110 s8.6, RFC 9112 s6.3: framing of request bodies (smuggling) */
TEST(http_req_content_length)
{
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 0), 0);
    CHECK_EQ(req_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 10), 0);
    CHECK_EQ(req_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 4), 413);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 100), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 100), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 100), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 100), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4 4\r\n\r\n", 100), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 100), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
                        100), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551617\r\n\r\n",
                        100), 400);
    /* duplicates: identical values MAY be accepted, differing ones are invalid */
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"
                        "abc", 100), 0);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 100), 0);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
                        "abcd", 100), 400);
    CHECK_EQ(req_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd", 100), 400);
}

TEST(http_req_transfer_encoding)
{
    /* TE + CL: rejected (RFC 9112 s6.3 item 3 allows it; smuggling) */
    CHECK_EQ(req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                        "Content-Length: 4\r\n\r\n0\r\n\r\n", 100), 400);
    CHECK_EQ(req_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 100), 400);
    /* chunked not final: 400 (s6.3 item 4); an unknown coding: 501 (s6.1) */
    CHECK_EQ(req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 100),
             400);
    CHECK_EQ(req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 100), 400);
    CHECK_EQ(req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                        "0\r\n\r\n", 100), 501);
    /* chunked twice (s7) */
    CHECK_EQ(req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 100), 400);
    /* HTTP/1.0 with TE: faulty framing (s6.1) */
    CHECK_EQ(req_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 100), 400);
    CHECK_EQ(req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 100), 400);
    /* a chunked body is decoded and the limit applies */
    struct tern_http_req *r = req_new();
    struct req_out o;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
                    "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
    req_run(r, s, strlen(s), 1, 100, &o);
    CHECK_EQ(o.state, TERN_HTTP_DONE);
    CHECK_EQ(o.body_len, 11);
    CHECK_MEM(o.body, "hello world", 11);
    CHECK_EQ(o.used, strlen(s) - 4); /* stops before the next request */
    req_run(r, s, strlen(s), 1, 10, &o);
    CHECK_EQ(o.status, 413);
    free(r);
}

TEST(http_req_pipelined)
{
    struct tern_http_req *r = req_new();
    const char *s = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n";
    http_req_init(r, 0);
    size_t k = http_req_feed(r, (const uint8_t *)s, strlen(s), NULL, NULL);
    CHECK_EQ(r->state, TERN_HTTP_DONE);
    CHECK_STR(r->target, "/a");
    http_req_init(r, 0);
    size_t k2 = http_req_feed(r, (const uint8_t *)s + k, strlen(s) - k, NULL, NULL);
    CHECK_EQ(r->state, TERN_HTTP_DONE);
    CHECK_EQ(k + k2, strlen(s));
    CHECK_STR(r->method, "HEAD");
    CHECK_STR(r->target, "/b");
    free(r);
}

/* ---- responses ---- */

struct resp_out {
    int state, status;
    char body[512];
    size_t body_len;
};

static void resp_run(struct tern_http_resp *r, const char *s, size_t len, size_t step, bool head,
                     bool eof, struct resp_out *o)
{
    http_resp_init(r, head);
    memset(o, 0, sizeof *o);
    size_t off = 0;
    while (off < len && r->state != TERN_HTTP_DONE && r->state != TERN_HTTP_ERROR) {
        size_t n = len - off;
        if (step && n > step)
            n = step;
        const uint8_t *b;
        size_t bl;
        size_t k = http_resp_feed(r, (const uint8_t *)s + off, n, &b, &bl);
        if (bl && o->body_len + bl < sizeof o->body) {
            memcpy(o->body + o->body_len, b, bl);
            o->body_len += bl;
        }
        if (!k)
            break;
        off += k;
    }
    if (eof)
        http_resp_eof(r);
    o->state = r->state;
    o->status = r->status;
}

/* Parses a whole response (byte by byte and at once: same result); returns
 * the state, body in *o. */
static int resp_check(const char *s, bool head, bool eof, struct resp_out *o)
{
    struct tern_http_resp *r = malloc(sizeof *r);
    struct resp_out a;
    resp_run(r, s, strlen(s), 0, head, eof, &a);
    resp_run(r, s, strlen(s), 1, head, eof, o);
    free(r);
    if (a.state != o->state || a.status != o->status || a.body_len != o->body_len ||
        memcmp(a.body, o->body, a.body_len))
        return -1;
    return o->state;
}

TEST(http_resp_bodies)
{
    struct resp_out o;
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", false, false, &o),
             TERN_HTTP_DONE);
    CHECK_EQ(o.status, 200);
    CHECK_EQ(o.body_len, 5);
    CHECK_MEM(o.body, "hello", 5);
    /* chunked with extensions and a trailer section (RFC 9112 s7.1) */
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "4\r\nWiki\r\n5;a=b\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX: y\r\n\r\n",
                        false, false, &o), TERN_HTTP_DONE);
    CHECK_EQ(o.body_len, 23);
    CHECK_MEM(o.body, "Wikipedia in\r\n\r\nchunks.", 23);
    /* close-delimited (s6.3 item 8) */
    CHECK_EQ(resp_check("HTTP/1.0 200 OK\r\n\r\nuntil close", false, true, &o), TERN_HTTP_DONE);
    CHECK_EQ(o.body_len, 11);
    /* no body after HEAD, 204, 304 (s6.3 item 1) */
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true, false, &o),
             TERN_HTTP_DONE);
    CHECK_EQ(o.body_len, 0);
    CHECK_EQ(resp_check("HTTP/1.1 204 No Content\r\n\r\n", false, false, &o), TERN_HTTP_DONE);
    CHECK_EQ(resp_check("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false, false, &o),
             TERN_HTTP_DONE);
    /* interim 1xx responses are skipped (RFC 9110 s15.2) */
    CHECK_EQ(resp_check("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n"
                        "\r\nno", false, false, &o), TERN_HTTP_DONE);
    CHECK_EQ(o.status, 404);
    CHECK_EQ(o.body_len, 2);
    /* a missing reason phrase is tolerated */
    CHECK_EQ(resp_check("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false, false, &o),
             TERN_HTTP_DONE);
    CHECK_EQ(resp_check("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", false, false, &o),
             TERN_HTTP_DONE);
}

TEST(http_resp_hostile)
{
    struct resp_out o;
    /* EOF before the end of a Content-Length or chunked body */
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", false, true, &o),
             TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", false, true,
                        &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nContent-Le", false, true, &o), TERN_HTTP_ERROR);
    /* chunk sizes: overflow, not hex, empty, data not followed by CRLF */
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "FFFFFFFFFFFFFFFFF\r\n", false, false, &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "00000000000000001\r\nx\r\n0\r\n\r\n", false, false, &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, false,
                        &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", false, false,
                        &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", false,
                        false, &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\rabc", false, false,
                        &o), TERN_HTTP_ERROR);
    /* invalid Content-Length (s6.3 item 5), unsupported codings, bad status lines */
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", false, false, &o),
             TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", false,
                        false, &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx", false, true, &o),
             TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/2 200 OK\r\n\r\n", false, false, &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 999 OK\r\n\r\n", false, false, &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 20 OK\r\n\r\n", false, false, &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("SSH-2.0-OpenSSH\r\n", false, false, &o), TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 101 Switching Protocols\r\n\r\n", false, false, &o),
             TERN_HTTP_ERROR);
    CHECK_EQ(resp_check("HTTP/1.1 200 OK\r\nX: 1\r\n  folded\r\n\r\n", false, false, &o),
             TERN_HTTP_ERROR);
    /* endless 1xx responses */
    char many[1024] = "";
    for (int i = 0; i < 20; i++)
        strcat(many, "HTTP/1.1 100 Continue\r\n\r\n");
    CHECK_EQ(resp_check(many, false, false, &o), TERN_HTTP_ERROR);
    /* TE overrides CL, and the connection is not reused (s6.3 item 3) */
    struct tern_http_resp *r = malloc(sizeof *r);
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "2\r\nok\r\n0\r\n\r\n";
    resp_run(r, s, strlen(s), 1, false, false, &o);
    CHECK_EQ(o.state, TERN_HTTP_DONE);
    CHECK_EQ(o.body_len, 2);
    CHECK(!r->keep_alive);
    free(r);
}

/* ---- URLs ---- */

TEST(http_url_parse)
{
    struct tern_http_url u;
    char err[256];
    REQUIRE(http_parse_url("http://www.Example.COM", &u, err, sizeof err) == 0);
    CHECK_STR(u.host, "www.example.com");
    CHECK_EQ(u.port, 80);
    CHECK_STR(u.path, "/");
    CHECK(!u.host_is_ipv4);
    REQUIRE(http_parse_url("HTTP://10.0.0.1:8080/a/b?x=1#frag", &u, err, sizeof err) == 0);
    CHECK(u.host_is_ipv4);
    CHECK_EQ(u.addr, 0x0a000001);
    CHECK_EQ(u.port, 8080);
    CHECK_STR(u.path, "/a/b?x=1");
    REQUIRE(http_parse_url("http://h:/x", &u, err, sizeof err) == 0); /* RFC 3986 s3.2.3 */
    CHECK_EQ(u.port, 80);
    REQUIRE(http_parse_url("http://h?q", &u, err, sizeof err) == 0);
    CHECK_STR(u.path, "/?q");
    REQUIRE(http_parse_url("https://h/", &u, err, sizeof err) == 0); /* RFC 9110 s4.2.2 */
    CHECK(u.https);
    CHECK_EQ(u.port, 443);
    REQUIRE(http_parse_url("HTTPS://h:8443/", &u, err, sizeof err) == 0);
    CHECK(u.https && u.port == 8443);
    REQUIRE(http_parse_url("http://h/", &u, err, sizeof err) == 0);
    CHECK(!u.https);
    CHECK(http_parse_url("ftp://h/", &u, err, sizeof err) < 0);
    CHECK(strstr(err, "unsupported scheme") != NULL);
    CHECK(http_parse_url("www.example.com/", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http://user:pw@h/", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http://[::1]/", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http:///x", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http://h:0/", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http://h:65536/", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http://h:8x/", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http://1.2.3.256/", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http://h/a b", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http://h/a\r\nX: y", &u, err, sizeof err) < 0);
    CHECK(http_parse_url("http://h%41/", &u, err, sizeof err) < 0);
}

/* ---- targets -> paths: never outside the served directory ---- */

static int path_of(const char *target, char *out, bool *dir)
{
    return http_path_of_target(target, out, 256, dir);
}

TEST(http_target_to_path)
{
    char p[256];
    bool dir;
    CHECK_EQ(path_of("/", p, &dir), 0);
    CHECK_STR(p, "");
    CHECK(dir);
    CHECK_EQ(path_of("/a/b.txt", p, &dir), 0);
    CHECK_STR(p, "a/b.txt");
    CHECK(!dir);
    CHECK_EQ(path_of("/a/./b/", p, &dir), 0);
    CHECK_STR(p, "a/b");
    CHECK(dir);
    CHECK_EQ(path_of("/a/b/..", p, &dir), 0);
    CHECK_STR(p, "a");
    CHECK(dir);
    CHECK_EQ(path_of("/a/%2e%2e/b", p, &dir), 0); /* decoded, then resolved inside */
    CHECK_STR(p, "b");
    CHECK_EQ(path_of("/my%20file%21.txt?x=/../..", p, &dir), 0); /* the query is not a path */
    CHECK_STR(p, "my file!.txt");
    CHECK_EQ(path_of("//etc/passwd", p, &dir), 0); /* stays relative to the root */
    CHECK_STR(p, "etc/passwd");
    CHECK_EQ(path_of("http://host:8/x/y", p, &dir), 0); /* absolute-form */
    CHECK_STR(p, "x/y");
    CHECK_EQ(path_of("http://host", p, &dir), 0);
    CHECK_STR(p, "");
}

TEST(http_target_traversal)
{
    char p[256];
    bool dir;
    CHECK_EQ(path_of("/../etc/passwd", p, &dir), 400);
    CHECK_EQ(path_of("/..", p, &dir), 400);
    CHECK_EQ(path_of("/a/../../etc/passwd", p, &dir), 400);
    CHECK_EQ(path_of("/%2e%2e/etc/passwd", p, &dir), 400);
    CHECK_EQ(path_of("/%2E%2E/etc/passwd", p, &dir), 400);
    CHECK_EQ(path_of("/.%2e/x", p, &dir), 400);
    CHECK_EQ(path_of("/..%2fetc%2fpasswd", p, &dir), 400); /* encoded slash */
    CHECK_EQ(path_of("/a%2Fb", p, &dir), 400);
    CHECK_EQ(path_of("/a%00.txt", p, &dir), 400);            /* NUL */
    CHECK_EQ(path_of("/%zz", p, &dir), 400);                 /* bad escape */
    CHECK_EQ(path_of("/%4", p, &dir), 400);
    CHECK_EQ(path_of("/x#frag", p, &dir), 400);
    CHECK_EQ(path_of("*", p, &dir), 400);
    CHECK_EQ(path_of("etc/passwd", p, &dir), 400);           /* not origin-form */
    CHECK_EQ(path_of("example.com:80", p, &dir), 400);       /* authority-form */
    CHECK_EQ(path_of("http://h/../x", p, &dir), 400);
    /* names that merely contain dots are fine */
    CHECK_EQ(path_of("/...", p, &dir), 0);
    CHECK_STR(p, "...");
    CHECK_EQ(path_of("/..a", p, &dir), 0);
    CHECK_STR(p, "..a");
    /* an output buffer too small: 414, never a truncated path */
    char small[4];
    CHECK_EQ(http_path_of_target("/abcdef", small, sizeof small, &dir), 414);
}

/* ---- response heads ---- */

TEST(http_head_write)
{
    char d[30];
    http_date(784111777, d); /* RFC 9110 s5.6.7's example */
    CHECK_STR(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    http_date(0, d);
    CHECK_STR(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    http_date(951782400, d); /* date -u -d @951782400 */
    CHECK_STR(d, "Tue, 29 Feb 2000 00:00:00 GMT");
    http_date(4102444800, d);
    CHECK_STR(d, "Fri, 01 Jan 2100 00:00:00 GMT");
    http_date(-1, d);
    CHECK_STR(d, "Wed, 31 Dec 1969 23:59:59 GMT");

    char buf[512];
    struct tern_http_head_opts o = {.status = 200, .has_date = true, .date = 784111777,
                                    .last_modified = 0, .content_length = 1234,
                                    .content_type = "text/plain"};
    int n = http_write_head(buf, sizeof buf, &o);
    CHECK_STR(buf, "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: tern\r\n"
                   "Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Type: text/plain\r\n"
                   "Content-Length: 1234\r\n\r\n");
    CHECK_EQ(n, (int)strlen(buf));
    struct tern_http_head_opts e = {.status = 405, .last_modified = -1, .content_length = 0,
                                    .allow = "GET, HEAD", .close = true};
    http_write_head(buf, sizeof buf, &e);
    CHECK_STR(buf, "HTTP/1.1 405 Method Not Allowed\r\nServer: tern\r\nContent-Length: 0\r\n"
                   "Allow: GET, HEAD\r\nConnection: close\r\n\r\n");
    CHECK_EQ(http_write_head(buf, 20, &e), -1);
    /* our own heads parse back */
    struct tern_http_resp *r = malloc(sizeof *r);
    http_resp_init(r, false);
    n = http_write_head(buf, sizeof buf, &o);
    http_resp_feed(r, (const uint8_t *)buf, (size_t)n, NULL, NULL);
    CHECK_EQ(r->state, TERN_HTTP_BODY);
    CHECK_EQ(r->content_length, 1234);
    free(r);
    CHECK_STR(http_reason(431), "Request Header Fields Too Large");
    CHECK_STR(http_reason(413), "Content Too Large"); /* RFC 9110 s15.5.14 */
}

TEST(http_content_type_and_escapes)
{
    CHECK_STR(http_content_type("a/index.HTML"), "text/html; charset=utf-8");
    CHECK_STR(http_content_type("x.tar.gz"), "application/gzip");
    CHECK_STR(http_content_type("app.js"), "text/javascript"); /* RFC 9239 */
    CHECK_STR(http_content_type("noext"), "application/octet-stream");
    CHECK_STR(http_content_type(".bashrc"), "application/octet-stream");
    CHECK_STR(http_content_type("dir.txt/file"), "application/octet-stream");
    char out[128];
    CHECK(http_html_escape("<a href=\"x\">&'", out, sizeof out) > 0);
    CHECK_STR(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    CHECK_EQ(http_html_escape("<<<<", out, 8), -1);
    CHECK(http_path_escape("a b/%?#\xc3\xa9.txt", out, sizeof out) > 0);
    CHECK_STR(out, "a%20b%2F%25%3F%23%C3%A9.txt");
}
