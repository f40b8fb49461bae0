/*
 * src/core/ringbuf.h - a fixed-capacity byte ring for the TCP send and
 * receive queues (internal to the stack).
 *
 * What it is: `len` readable bytes starting at `head`, then `cap - len` free
 * bytes. Data is copied in and out with memcpy in at most two pieces (the
 * wrap point). Reads at an offset without consuming (peek_at) serve
 * retransmission from the send queue; writes at an offset into the free area
 * without making the bytes readable (write_at, then commit) serve the TCP
 * out-of-order queue, which parks data at offset (SEG.SEQ - RCV.NXT) past
 * the readable bytes (see tcp_ooo.h).
 * What it is not: thread-safe, growable, or aware of sequence numbers.
 * Memory: caller storage, or one allocation in ringbuf_init; none later.
 * Capacity may be any size from 1 to TERN_RINGBUF_MAX (not only powers of 2).
 */
#ifndef TERN_CORE_RINGBUF_H
#define TERN_CORE_RINGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kept below 2^31 so byte counts also fit a TCP window and an int. */
#define TERN_RINGBUF_MAX ((size_t)1 << 30)

struct tern_ringbuf {
    uint8_t *buf;
    size_t cap;   /* bytes of storage */
    size_t head;  /* index of the first readable byte, < cap */
    size_t len;   /* readable bytes, <= cap */
    bool owned;   /* buf was allocated by init and is freed by fini */
};

/* One contiguous piece of the ring (a pointer into its storage). */
struct tern_ringbuf_span {
    uint8_t *p;
    size_t n;
};

/* storage == NULL: allocate cap bytes now (the only allocation).
 * Returns 0, TERN_E_INVAL (cap 0 or > TERN_RINGBUF_MAX) or TERN_E_NOMEM. */
int ringbuf_init(struct tern_ringbuf *rb, void *storage, size_t cap);
/* Frees allocated storage; the ring is left empty with cap 0. */
void ringbuf_fini(struct tern_ringbuf *rb);
/* Drops all readable bytes and resets head to 0, which also scrambles any
 * bytes parked with write_at (clear the tcp_ooo queue too). */
void ringbuf_clear(struct tern_ringbuf *rb);

static inline size_t ringbuf_len(const struct tern_ringbuf *rb) { return rb->len; }
static inline size_t ringbuf_cap(const struct tern_ringbuf *rb) { return rb->cap; }
static inline size_t ringbuf_free(const struct tern_ringbuf *rb) { return rb->cap - rb->len; }

/* Appends min(n, free) bytes; returns how many. */
size_t ringbuf_write(struct tern_ringbuf *rb, const void *src, size_t n);
/* Copies min(n, len) bytes out and consumes them; returns how many. */
size_t ringbuf_read(struct tern_ringbuf *rb, void *dst, size_t n);
/* Copies min(n, len) bytes out without consuming; returns how many. */
size_t ringbuf_peek(const struct tern_ringbuf *rb, void *dst, size_t n);
/* Copies up to n bytes starting `off` bytes after the head, without
 * consuming; returns how many (0 when off >= len). */
size_t ringbuf_peek_at(const struct tern_ringbuf *rb, size_t off, void *dst, size_t n);
/* Drops min(n, len) bytes from the head; returns how many. */
size_t ringbuf_consume(struct tern_ringbuf *rb, size_t n);

/* Free-area access. write_at copies n bytes to free-area offset `off` (0 =
 * the byte just after the readable data); nothing becomes readable. Returns
 * n, or 0 when off + n > free (nothing is written then). commit makes the
 * first n free-area bytes readable (n <= free, else nothing happens and 0 is
 * returned). Used by tcp_ooo; a plain write() overwrites free-area offsets
 * from 0, so don't mix the two while out-of-order data is parked. */
size_t ringbuf_write_at(struct tern_ringbuf *rb, size_t off, const void *src, size_t n);
size_t ringbuf_commit(struct tern_ringbuf *rb, size_t n);

/* Zero-copy views: up to two spans covering readable bytes [off, off + n)
 * (clipped to len); returns the number of spans used (0, 1 or 2). The spans
 * stay valid until the next call that changes the ring. */
int ringbuf_spans(const struct tern_ringbuf *rb, size_t off, size_t n,
                       struct tern_ringbuf_span out[2]);

/* The same for the free area: up to two spans covering free-area offsets
 * [off, off + n) (0 = the byte after the readable data), for writing in
 * place; 0 spans when off + n > free or n == 0. Nothing becomes readable. */
int ringbuf_free_spans(const struct tern_ringbuf *rb, size_t off, size_t n,
                            struct tern_ringbuf_span out[2]);

#endif
