/*
 * src/app/http_body.c - the body decoder shared by the HTTP/1.1 request and
 * response parsers (http_msg.c): Content-Length bodies, the chunked coding
 * with chunk extensions skipped and trailer fields parsed and dropped, and
 * close-delimited bodies. Pure: no I/O, no allocation. Not: choosing the
 * framing (http_msg.c from the fields of http_fields.c).
 *
 * RFC 9112 s6.3 (message body length), s7.1 (chunked transfer coding),
 * s2.2 (a bare CR in a chunk line is an error).
 */
#include "app/http_msg_impl.h"

/* One step of body parsing (see http_msg_impl.h). */
size_t http_body_step(struct tern_http_body *b, const uint8_t *in, size_t n, const uint8_t **span,
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
    if (b->cstate == HTTP_C_DATA) {
        size_t k = n < b->remaining ? n : (size_t)b->remaining;
        *span = in;
        *span_len = k;
        b->remaining -= k;
        b->received += k;
        if (b->remaining == 0)
            b->cstate = HTTP_C_DATA_CR;
        return k;
    }
    unsigned char c = in[0];
    switch (b->cstate) {
    case HTTP_C_SIZE: {
        int h = http_hexval(c);
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
        if (c == ';' || http_is_ows(c)) {
            b->cstate = HTTP_C_EXT;
            b->linelen = b->ndigits + 1;
            return 1;
        }
        if (c == '\r') {
            b->cstate = HTTP_C_SIZE_LF;
            return 1;
        }
        if (c == '\n')
            goto size_line_done;
        *err = "bad chunk size";
        return 0;
    }
    case HTTP_C_EXT:
        /* chunk extensions are ignored (s7.1.1), but bounded */
        if (c == '\r') {
            b->cstate = HTTP_C_SIZE_LF;
            return 1;
        }
        if (c == '\n')
            goto size_line_done;
        if ((c < 0x20 && c != '\t') || c == 0x7f || ++b->linelen > TERN_HTTP_CHUNK_LINE_MAX) {
            *err = "bad chunk extension";
            return 0;
        }
        return 1;
    case HTTP_C_SIZE_LF:
        if (c != '\n') {
            *err = "bare CR in chunk line";
            return 0;
        }
        goto size_line_done;
    case HTTP_C_DATA_CR:
        if (c == '\r') {
            b->cstate = HTTP_C_DATA_LF;
            return 1;
        }
        if (c == '\n') {
            b->cstate = HTTP_C_SIZE;
            b->ndigits = 0;
            return 1;
        }
        *err = "chunk data not followed by CRLF";
        return 0;
    case HTTP_C_DATA_LF:
        if (c != '\n') {
            *err = "chunk data not followed by CRLF";
            return 0;
        }
        b->cstate = HTTP_C_SIZE;
        b->ndigits = 0;
        return 1;
    case HTTP_C_TRAILER:
        /* trailer section (s7.1.2): field lines, dropped; then an empty line */
        if (c == '\n') {
            if (b->linelen == 0) {
                b->cstate = HTTP_C_DONE;
                *finished = true;
                return 1;
            }
            b->linelen = 0;
            return 1;
        }
        if (c == '\r') {
            b->cstate = HTTP_C_TRAILER_CR;
            return 1;
        }
        if (c == '\0' || (b->linelen == 0 && http_is_ows(c)) ||
            ++b->linelen > TERN_HTTP_CHUNK_LINE_MAX) {
            *err = "bad trailer section";
            return 0;
        }
        if (b->linelen == 1 && ++b->trailers > TERN_HTTP_FIELDS_MAX) {
            *err = "too many trailer fields";
            return 0;
        }
        return 1;
    case HTTP_C_TRAILER_CR:
        if (c != '\n') {
            *err = "bare CR in trailer section";
            return 0;
        }
        b->cstate = HTTP_C_TRAILER;
        if (b->linelen == 0) {
            b->cstate = HTTP_C_DONE;
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
    b->cstate = b->remaining ? HTTP_C_DATA : HTTP_C_TRAILER;
    return 1;
}
