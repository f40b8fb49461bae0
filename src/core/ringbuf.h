/*
 * src/core/ringbuf.h - a bounded byte ring for the TCP send and receive
 * queues, stored in fixed-size chunks taken from a per-stack pool on demand
 * (internal to the stack).
 *
 * What it is: `len` readable bytes starting at the head, then `cap - len`
 * free bytes. The byte positions map onto a circle of nslot chunk slots
 * (nslot = ceil(cap / chunk) + 1, so the head's slot is never also the
 * window's last); a slot holds a chunk only while some byte in it may hold
 * data. Chunks come from the pool as bytes are written (write, write_at,
 * free_spans) and go back as they are consumed; a ring with nothing
 * readable and nothing parked holds no chunk and no slot table. Reads at an
 * offset without consuming (peek_at) serve retransmission from the send
 * queue; writes at an offset into the free area without making the bytes
 * readable (write_at, then commit) serve the TCP out-of-order queue, which
 * parks data at offset (SEG.SEQ - RCV.NXT) past the readable bytes (see
 * tcp_ooo.h). Only the chunks actually written are taken, so a parked byte
 * far ahead costs one chunk, not the span before it.
 * Memory budget: the pool counts the chunk bytes held (`used`); with
 * `max` set, an allocation that would pass it asks the pool's reclaim
 * callback to free memory elsewhere (TCP prunes out-of-order queues), and
 * then fails unless its class is RING_MUST (bytes already promised: data
 * inside an advertised window).
 * What it is not: thread-safe or aware of sequence numbers.
 * Capacity may be any size from 1 to TERN_RINGBUF_MAX.
 */
#ifndef TERN_CORE_RINGBUF_H
#define TERN_CORE_RINGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kept below 2^31 so byte counts also fit a TCP window and an int. */
#define TERN_RINGBUF_MAX ((size_t)1 << 30)

/* Chunk size (docs/architecture.md "Buffers on demand" says why 16 KiB). */
#ifndef TERN_RING_CHUNK_SHIFT
#define TERN_RING_CHUNK_SHIFT 14
#endif
#define TERN_RING_CHUNK ((size_t)1 << TERN_RING_CHUNK_SHIFT)
#define TERN_RING_SLAB_CHUNKS 64   /* chunks per slab allocation */
/* Spans covering any n <= 65535 bytes (one IP datagram's payload). */
#define TERN_RINGBUF_SPANS ((65535 + TERN_RING_CHUNK - 1) / TERN_RING_CHUNK + 1)

/* Who asks for a chunk (what happens beyond the pool's max). */
enum ring_alloc {
    RING_OPT = 0,  /* out-of-order data: fails beyond max, reclaims nothing */
    RING_WANT,     /* new data to queue (send): reclaims, then fails beyond max */
    RING_MUST,     /* data we already promised room for: reclaims, then goes beyond max */
};

struct tern_ringbuf;

struct tern_ring_pool {
    void *free;            /* free chunks, linked through their first word */
    size_t nfree;
    size_t used;           /* bytes of chunks held by rings */
    size_t peak;           /* highest `used` seen */
    size_t max;            /* 0: no budget; else see enum ring_alloc */
    size_t tab_bytes;      /* bytes of slot tables held by rings */
    uint8_t **slabs;
    size_t nslabs, slabs_cap;
    /* Rings with bytes parked beyond their readable data by write_at
     * (ringbuf_parked), which reclaim may trim. */
    struct tern_ringbuf **parked;
    uint32_t nparked, parked_cap;
    /* Over max: free memory, never from `except` (the ring asking). */
    void (*reclaim)(void *ctx, struct tern_ringbuf *except);
    void *reclaim_ctx;
    uint64_t refused;      /* allocations refused for the budget */
    /* Slot tables given back, kept for reuse (linked through their first
     * entry): only tables of tab_nslot entries, at most
     * TERN_RING_TAB_CACHE of them, so a ring that drains and refills
     * calls no allocator. */
    uint8_t **tab_free;
    uint32_t tab_nslot, tab_nfree;
};
#define TERN_RING_TAB_CACHE 256

void ring_pool_init(struct tern_ring_pool *p);
/* Frees every slab: every ring of the pool must be finished first. */
void ring_pool_fini(struct tern_ring_pool *p);

struct tern_ringbuf {
    struct tern_ring_pool *pool;
    uint8_t **tab;     /* nslot chunk pointers (NULL: no chunk held) */
    uint32_t cap;      /* the byte limit */
    uint32_t head;     /* circle index of the first readable byte */
    uint32_t len;      /* readable bytes, <= cap */
    uint32_t resv;     /* bytes from the head that may hold data (>= len) */
    uint32_t nslot;
    uint32_t park;     /* index + 1 in pool->parked (0: not parked) */
};

/* One contiguous piece of the ring (a pointer into a chunk). */
struct tern_ringbuf_span {
    uint8_t *p;
    size_t n;
};

/* Sets the ring up empty; allocates nothing.
 * Returns 0 or TERN_E_INVAL (cap 0 or > TERN_RINGBUF_MAX, no pool). */
int ringbuf_init(struct tern_ringbuf *rb, struct tern_ring_pool *pool, size_t cap);
/* Returns every chunk; the ring is left empty with cap 0. */
void ringbuf_fini(struct tern_ringbuf *rb);
/* Drops all readable and parked bytes and returns every chunk (clear the
 * tcp_ooo queue too). */
void ringbuf_clear(struct tern_ringbuf *rb);

static inline size_t ringbuf_len(const struct tern_ringbuf *rb) { return rb->len; }
static inline size_t ringbuf_cap(const struct tern_ringbuf *rb) { return rb->cap; }
static inline size_t ringbuf_free(const struct tern_ringbuf *rb) { return rb->cap - rb->len; }
/* Chunks held (tests). */
size_t ringbuf_chunks(const struct tern_ringbuf *rb);
/* Bytes are parked beyond the readable data (write_at without commit). */
static inline bool ringbuf_parked(const struct tern_ringbuf *rb) { return rb->resv > rb->len; }

/* Appends min(n, free) bytes, fewer if the pool refuses a chunk
 * (RING_WANT); returns how many. */
size_t ringbuf_write(struct tern_ringbuf *rb, const void *src, size_t n);
/* Bytes a write could take now without asking the pool for more than the
 * budget allows (free room in chunks held, plus what the pool may give). */
size_t ringbuf_writable(const struct tern_ringbuf *rb);
/* Copies min(n, len) bytes out and consumes them; returns how many. */
size_t ringbuf_read(struct tern_ringbuf *rb, void *dst, size_t n);
/* Copies min(n, len) bytes out without consuming; returns how many. */
size_t ringbuf_peek(const struct tern_ringbuf *rb, void *dst, size_t n);
/* Copies up to n bytes starting `off` bytes after the head, without
 * consuming; returns how many (0 when off >= len). */
size_t ringbuf_peek_at(const struct tern_ringbuf *rb, size_t off, void *dst, size_t n);
/* Drops min(n, len) bytes from the head; returns how many. Chunks left
 * wholly behind the head go back to the pool, and all of them once nothing
 * is readable or parked. */
size_t ringbuf_consume(struct tern_ringbuf *rb, size_t n);

/* Free-area access. reserve makes free-area offsets [off, off + n) (0 = the
 * byte just after the readable data) backed by chunks, taken with class
 * `cls`; true if they are (nothing is written). write_at copies n bytes
 * to free-area offset `off`, reserving with RING_MUST; nothing becomes
 * readable. Returns n, or 0 when off + n > free or no chunk could be had
 * (nothing is written then). commit makes the first n free-area bytes
 * readable (n <= free and written, else nothing happens and 0 is
 * returned). Used by tcp_ooo; a plain write() overwrites free-area offsets
 * from 0, so don't mix the two while out-of-order data is parked. */
bool ringbuf_reserve(struct tern_ringbuf *rb, size_t off, size_t n, enum ring_alloc cls);
size_t ringbuf_write_at(struct tern_ringbuf *rb, size_t off, const void *src, size_t n);
size_t ringbuf_commit(struct tern_ringbuf *rb, size_t n);
/* Forgets parked bytes at free-area offsets >= keep and returns the chunks
 * that held only those. */
void ringbuf_trim(struct tern_ringbuf *rb, size_t keep);

/* Zero-copy views: spans covering readable bytes [off, off + n) (clipped
 * to len), at most `max` (adjacent chunks merge into one span); returns the
 * number used (0 if none). TERN_RINGBUF_SPANS spans always cover 65535
 * bytes. The spans stay valid until the next call that changes the ring. */
int ringbuf_spans(const struct tern_ringbuf *rb, size_t off, size_t n,
                  struct tern_ringbuf_span *out, int max);

/* The same for the free area: spans covering free-area offsets [off, off +
 * n) for writing in place, reserved with class cls; 0 spans when off + n >
 * free, n == 0, no chunk could be had or more than max spans would be
 * needed. Nothing becomes readable. */
int ringbuf_free_spans(struct tern_ringbuf *rb, size_t off, size_t n,
                       struct tern_ringbuf_span *out, int max, enum ring_alloc cls);

#endif
