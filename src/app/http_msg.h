/*
 * src/app/http_msg.h - HTTP/1.1 messages without I/O: an incremental
 * request parser (server side), an incremental response parser (client
 * side, with Content-Length, chunked and close-delimited bodies), URL
 * parsing for http://host[:port]/path, request-target to file path
 * mapping for a static file server, and response head generation.
 *
 * RFC 9112 (HTTP/1.1 message syntax), RFC 9110 (semantics), RFC 3986 (URI).
 * Strict by design (request smuggling, ATTACKS-style hostile input): every
 * buffer is bounded, obs-fold and bare CR are rejected, Content-Length must
 * be digits only without overflow, differing duplicates are rejected, and
 * Transfer-Encoding together with Content-Length in a request is rejected.
 * Not: HTTP/2, trailers kept (they are parsed and dropped), multi-line
 * values, request bodies kept (a request body is framed and discarded).
 *
 * Incremental use (both parsers): call feed() in a loop; each call consumes
 * at least one byte unless the parser is finished (DONE or ERROR), and
 * returns at most one span of body bytes, which points into the input:
 *     while (n > 0 && !finished) {
 *         size_t k = http_resp_feed(&p, in, n, &body, &blen);
 *         if (blen) write(body, blen);
 *         in += k; n -= k;
 *     }
 * The result never depends on how the input was split (fuzz/http_fuzz.c).
 * Implemented in http_msg.c (the parsers), http_fields.c (head lines and
 * fields), http_body.c (body decoding) and http_text.c (URLs, paths,
 * response heads).
 */
#ifndef TERN_APP_HTTP_MSG_H
#define TERN_APP_HTTP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERN_HTTP_HEAD_MAX 16384  /* start line + all field lines (else 431/414) */
#define TERN_HTTP_LINE_MAX 8192   /* the start line (else 414 for a request) */
#define TERN_HTTP_FIELDS_MAX 64   /* field lines per message (else 431) */
#define TERN_HTTP_CHUNK_LINE_MAX 1024 /* a chunk-size line with extensions */
#define TERN_HTTP_HOST_MAX 253

enum tern_http_state {
    TERN_HTTP_HEAD = 0,  /* reading the start line and header section */
    TERN_HTTP_BODY,      /* head complete; reading the body */
    TERN_HTTP_DONE,      /* one whole message read */
    TERN_HTTP_ERROR      /* invalid: see .status (request) / .error (response) */
};

struct tern_http_field {
    uint16_t name, name_len, value, value_len; /* offsets into head[] */
};

/* Body framing state shared by both parsers. */
enum tern_http_framing { TERN_HTTP_NOBODY, TERN_HTTP_LENGTH, TERN_HTTP_CHUNKED, TERN_HTTP_CLOSE };

struct tern_http_body {
    enum tern_http_framing framing;
    uint64_t remaining;  /* LENGTH: bytes left; CHUNKED: bytes left in this chunk */
    uint64_t received;   /* body bytes delivered so far */
    int cstate;          /* chunked decoder state */
    uint32_t linelen;    /* bytes of the current chunk-size or trailer line */
    unsigned ndigits;
    unsigned trailers;   /* trailer field lines seen */
};

/* Common head storage. */
struct tern_http_head {
    size_t len;           /* bytes stored */
    size_t line_start;    /* offset of the line being read */
    unsigned leading_crlf;
    bool cr;              /* the last byte stored was CR */
    unsigned nfields;
    struct tern_http_field fields[TERN_HTTP_FIELDS_MAX];
    char head[TERN_HTTP_HEAD_MAX + 1]; /* the head as received, NUL-terminated lines (last) */
};

struct tern_http_req {
    enum tern_http_state state;
    int status;           /* ERROR: the status to answer (400, 413, 414, 431, 501, 505) */
    const char *why;      /* ERROR: a short reason (for logs and tests) */
    /* DONE/BODY: the request */
    const char *method;   /* NUL-terminated, inside hd.head */
    const char *target;
    int version_minor;    /* HTTP/1.<minor> */
    const char *host;     /* the Host field value, or NULL */
    bool keep_alive;      /* persistence per RFC 9112 s9.3 */
    bool has_length;
    uint64_t content_length;
    uint64_t max_body;    /* larger bodies -> 413; set before feeding (0 = none allowed) */
    struct tern_http_body body;
    struct tern_http_head hd;
};

struct tern_http_resp {
    enum tern_http_state state;
    const char *error;    /* ERROR: what was wrong */
    int status;           /* the final status code (1xx are skipped) */
    const char *reason;
    int version_minor;
    bool keep_alive;
    bool has_length;
    uint64_t content_length;
    bool head_request;    /* set before feeding: the request was HEAD (no body) */
    struct tern_http_body body;
    struct tern_http_head hd;
};

void http_req_init(struct tern_http_req *r, uint64_t max_body);
size_t http_req_feed(struct tern_http_req *r, const uint8_t *in, size_t n,
                          const uint8_t **body, size_t *body_len);
/* A field value by name (case-insensitive), the first one; NULL if none. */
const char *http_req_field(const struct tern_http_req *r, const char *name);

void http_resp_init(struct tern_http_resp *r, bool head_request);
size_t http_resp_feed(struct tern_http_resp *r, const uint8_t *in, size_t n,
                           const uint8_t **body, size_t *body_len);
/* The connection closed: completes a close-delimited body (DONE) or makes
 * the parser fail ("connection closed before the end of the response").
 * Returns the new state. */
enum tern_http_state http_resp_eof(struct tern_http_resp *r);
const char *http_resp_field(const struct tern_http_resp *r, const char *name);

/* ---- URLs (RFC 3986 s3, RFC 9110 s4.2.1) ---- */
struct tern_http_url {
    char host[TERN_HTTP_HOST_MAX + 1]; /* lower-cased */
    uint16_t port;        /* default 80, https 443 */
    bool https;           /* https:// (RFC 9110 s4.2.2): the caller needs TLS */
    bool host_is_ipv4;
    uint32_t addr;        /* host order, when host_is_ipv4 */
    char path[4096];      /* path and query, "/" when empty; the fragment is dropped */
};
/* http:// or https:// URLs: 0, or -1 with a one-line reason in err. */
int http_parse_url(const char *url, struct tern_http_url *u, char *err, size_t errcap);

/* ---- request-target -> path under the served directory ---- */
/* Maps an origin-form (or absolute-form) target to a relative path ("" for
 * the root, "a/b.txt"; no leading slash, no "." or ".." segments, no NUL),
 * with *dir set when the target ends in '/'. Returns 0, or an HTTP status:
 * 400 (bad escape, NUL, encoded '/', '..' above the root, not origin-form). */
int http_path_of_target(const char *target, char *out, size_t cap, bool *dir);

/* ---- response heads ---- */
struct tern_http_head_opts {
    int status;
    bool has_date;
    int64_t date;          /* Unix seconds (RFC 9110 s6.6.1: only with a clock) */
    int64_t last_modified; /* Unix seconds, < 0 = none */
    int64_t content_length; /* < 0 = none */
    const char *content_type; /* NULL = none */
    const char *location;  /* NULL = none */
    const char *allow;     /* NULL = none (405 needs it, RFC 9110 s15.5.6) */
    bool close;            /* Connection: close */
    bool keep_alive_token; /* Connection: keep-alive (an HTTP/1.0 client asked for it) */
};
/* Writes the status line and fields, ending with the empty line. Returns the
 * length, or -1 if cap is too small. */
int http_write_head(char *buf, size_t cap, const struct tern_http_head_opts *o);
const char *http_reason(int status);
/* IMF-fixdate (RFC 9110 s5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT"; out >= 30 bytes. */
void http_date(int64_t t, char out[30]);
/* A media type from the file name's extension; "application/octet-stream" otherwise. */
const char *http_content_type(const char *name);
/* HTML-escapes s into out (& < > " '); returns the length, or -1 if it does not fit. */
int http_html_escape(const char *s, char *out, size_t cap);
/* Percent-encodes a file name for a URL path segment (RFC 3986 s2.1). */
int http_path_escape(const char *s, char *out, size_t cap);

#endif
