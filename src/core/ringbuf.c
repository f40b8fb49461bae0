/*
 * ringbuf.c - the fixed-capacity byte ring of ringbuf.h.
 * Every copy is at most two memcpy calls: the part before the end of the
 * storage and the part wrapped to its start. Indices are reduced with one
 * conditional subtraction (cap need not be a power of two); cap <=
 * TERN_RINGBUF_MAX keeps head + len + off from overflowing a size_t.
 * Not: thread-safe, growable. No RFC; the TCP users cite theirs.
 */
#include "core/ringbuf.h"

#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "tern/err.h"

int ringbuf_init(struct tern_ringbuf *rb, void *storage, size_t cap)
{
    memset(rb, 0, sizeof *rb);
    if (cap == 0 || cap > TERN_RINGBUF_MAX)
        return TERN_E_INVAL;
    if (storage) {
        rb->buf = storage;
    } else {
        rb->buf = malloc(cap);
        if (!rb->buf)
            return TERN_E_NOMEM;
        rb->owned = true;
    }
    rb->cap = cap;
    return 0;
}

void ringbuf_fini(struct tern_ringbuf *rb)
{
    if (rb->owned)
        free(rb->buf);
    memset(rb, 0, sizeof *rb);
}

void ringbuf_clear(struct tern_ringbuf *rb)
{
    rb->head = 0;
    rb->len = 0;
}

/* Storage index of logical position pos (pos < 2 * cap). */
static size_t ring_idx(const struct tern_ringbuf *rb, size_t pos)
{
    size_t i = rb->head + pos;
    return i >= rb->cap ? i - rb->cap : i;
}

/* Copies n bytes in at logical position pos (relative to head). */
static void copy_in(struct tern_ringbuf *rb, size_t pos, const uint8_t *src, size_t n)
{
    if (n == 0)
        return;
    size_t i = ring_idx(rb, pos);
    size_t first = rb->cap - i;
    if (first >= n) {
        memcpy(rb->buf + i, src, n);
    } else {
        memcpy(rb->buf + i, src, first);
        memcpy(rb->buf, src + first, n - first);
    }
}

static void copy_out(const struct tern_ringbuf *rb, size_t pos, uint8_t *dst, size_t n)
{
    if (n == 0)
        return;
    size_t i = ring_idx(rb, pos);
    size_t first = rb->cap - i;
    if (first >= n) {
        memcpy(dst, rb->buf + i, n);
    } else {
        memcpy(dst, rb->buf + i, first);
        memcpy(dst + first, rb->buf, n - first);
    }
}

size_t ringbuf_write(struct tern_ringbuf *rb, const void *src, size_t n)
{
    size_t room = rb->cap - rb->len;
    if (n > room)
        n = room;
    copy_in(rb, rb->len, src, n);
    rb->len += n;
    TERN_ASSERT(rb->len <= rb->cap);
    return n;
}

size_t ringbuf_peek_at(const struct tern_ringbuf *rb, size_t off, void *dst, size_t n)
{
    if (off >= rb->len)
        return 0;
    if (n > rb->len - off)
        n = rb->len - off;
    copy_out(rb, off, dst, n);
    return n;
}

size_t ringbuf_peek(const struct tern_ringbuf *rb, void *dst, size_t n)
{
    return ringbuf_peek_at(rb, 0, dst, n);
}

size_t ringbuf_consume(struct tern_ringbuf *rb, size_t n)
{
    if (n > rb->len)
        n = rb->len;
    rb->head = ring_idx(rb, n);
    rb->len -= n;
    /* head is NOT reset to 0 when the ring empties: bytes parked in the free
     * area (write_at) are placed relative to head + len and must not move. */
    return n;
}

size_t ringbuf_read(struct tern_ringbuf *rb, void *dst, size_t n)
{
    n = ringbuf_peek_at(rb, 0, dst, n);
    return ringbuf_consume(rb, n);
}

size_t ringbuf_write_at(struct tern_ringbuf *rb, size_t off, const void *src, size_t n)
{
    size_t room = rb->cap - rb->len;
    if (off > room || n > room - off)
        return 0;
    copy_in(rb, rb->len + off, src, n);
    return n;
}

size_t ringbuf_commit(struct tern_ringbuf *rb, size_t n)
{
    if (n > rb->cap - rb->len)
        return 0;
    rb->len += n;
    TERN_ASSERT(rb->len <= rb->cap);
    return n;
}

int ringbuf_spans(const struct tern_ringbuf *rb, size_t off, size_t n,
                       struct tern_ringbuf_span out[2])
{
    if (off >= rb->len || n == 0)
        return 0;
    if (n > rb->len - off)
        n = rb->len - off;
    size_t i = ring_idx(rb, off);
    size_t first = rb->cap - i;
    out[0].p = rb->buf + i;
    if (first >= n) {
        out[0].n = n;
        return 1;
    }
    out[0].n = first;
    out[1].p = rb->buf;
    out[1].n = n - first;
    return 2;
}

int ringbuf_free_spans(const struct tern_ringbuf *rb, size_t off, size_t n,
                            struct tern_ringbuf_span out[2])
{
    size_t room = rb->cap - rb->len;
    if (n == 0 || off > room || n > room - off)
        return 0;
    size_t i = ring_idx(rb, rb->len + off);
    size_t first = rb->cap - i;
    out[0].p = rb->buf + i;
    if (first >= n) {
        out[0].n = n;
        return 1;
    }
    out[0].n = first;
    out[1].p = rb->buf;
    out[1].n = n - first;
    return 2;
}
