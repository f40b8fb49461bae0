/*
 * src/app/http_msg_impl.h - internal to the HTTP/1.1 message parsers:
 * what http_fields.c (head lines, field lookup, Content-Length /
 * Transfer-Encoding / Connection) and http_body.c (the body decoder) offer
 * to http_msg.c (the request and response parsers). Not a public API.
 * RFC 9112, RFC 9110.
 */
#ifndef TERN_APP_HTTP_MSG_IMPL_H
#define TERN_APP_HTTP_MSG_IMPL_H

#include "app/http_msg.h"

/* OWS (RFC 9110 s5.6.3): SP or HTAB. */
static inline bool http_is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

/* HEXDIG (RFC 5234 B.1, case-insensitive): its value, or -1. Used by the
 * chunk-size parser (http_body.c) and percent-decoding (http_text.c). */
static inline int http_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* http_fields.c */
enum http_line { HTTP_LINE_MORE, HTTP_LINE_DONE, HTTP_LINE_ERR };

/* A token (RFC 9110 s5.6.2): one or more tchar. */
bool http_is_token(const char *s);
/* Splits the field line at hd->head + off into hd->fields. 0, or -1
 * invalid, -2 too many fields. */
int http_split_field(struct tern_http_head *hd, size_t off);
/* The first value of field `name` (case-insensitive) or NULL; *count (if
 * not NULL) gets the number of such fields. */
const char *http_field_get(const struct tern_http_head *hd, const char *name, unsigned *count);
/* Calls fn for each element of the comma-separated lists of every field
 * `name` (RFC 9110 s5.6.1); stops at fn's first non-zero value, returned. */
int http_list_each(const struct tern_http_head *hd, const char *name,
                   int (*fn)(const char *e, size_t n, void *arg), void *arg);
/* Feeds one byte of the head; on_line(arg, off, first) gets each complete
 * line. HTTP_LINE_ERR sets *err_status (and *why). */
enum http_line http_head_byte(struct tern_http_head *hd, unsigned char c, bool allow_leading,
                              bool *start_line_done, int (*on_line)(void *, size_t, bool),
                              void *arg, int *err_status, const char **why);
/* Content-Length (RFC 9110 s8.6): 0 none, 1 valid (*v), -1 invalid. */
int http_content_length(const struct tern_http_head *hd, uint64_t *v);
/* Transfer-Encoding codings (RFC 9112 s6.1), counted by http_te_elem
 * through http_list_each. */
struct http_te_state {
    unsigned n, chunked;
    bool last_chunked;
};
int http_te_elem(const char *e, size_t n, void *arg);
/* RFC 9112 s9.3: does the connection persist after this message? */
bool http_persistent(const struct tern_http_head *hd, int minor);

/* http_body.c: chunked decoder states (tern_http_body.cstate). */
enum {
    HTTP_C_SIZE, HTTP_C_EXT, HTTP_C_SIZE_LF, HTTP_C_DATA, HTTP_C_DATA_CR, HTTP_C_DATA_LF,
    HTTP_C_TRAILER, HTTP_C_TRAILER_CR, HTTP_C_DONE
};
/* One step of body parsing. Returns bytes consumed; sets *span and *span_len
 * for data, *finished when the body is complete, *err on error. */
size_t http_body_step(struct tern_http_body *b, const uint8_t *in, size_t n, const uint8_t **span,
                      size_t *span_len, bool *finished, const char **err);

#endif
