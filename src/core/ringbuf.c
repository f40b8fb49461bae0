/*
 * ringbuf.c - the chunked byte ring of ringbuf.h and its chunk pool.
 * Byte positions live on a circle of nslot * CHUNK indices; a position's
 * slot is index >> SHIFT, its offset in the chunk index & (CHUNK - 1).
 * nslot = ceil(cap / CHUNK) + 1, so a window of cap bytes starting anywhere
 * never reaches back into its own first slot: the slots wholly behind the
 * head hold nothing and go back to the pool as the head passes them.
 * Chunks are carved from slabs of TERN_RING_SLAB_CHUNKS (a million rings
 * need no million mappings); a free chunk links to the next through its
 * first word. Slabs are kept until the pool is finished: the pool's RSS is
 * its peak use, which the budget (pool->max) bounds.
 * Not: thread-safe. No RFC; the TCP users cite theirs.
 */
#include "core/ringbuf.h"

#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "tern/err.h"

#define CH TERN_RING_CHUNK
#define SH TERN_RING_CHUNK_SHIFT
#define MASK (CH - 1)

/* ---- the pool ---- */

void ring_pool_init(struct tern_ring_pool *p)
{
    memset(p, 0, sizeof *p);
}

void ring_pool_fini(struct tern_ring_pool *p)
{
    TERN_ASSERT(p->used == 0);
    for (size_t i = 0; i < p->nslabs; i++)
        free(p->slabs[i]);
    while (p->tab_free) {
        uint8_t **t = p->tab_free;
        p->tab_free = (uint8_t **)(void *)t[0];
        free(t);
    }
    free(p->slabs);
    free(p->parked);
    memset(p, 0, sizeof *p);
}

static bool pool_grow(struct tern_ring_pool *p)
{
    if (p->nslabs == p->slabs_cap) {
        size_t nc = p->slabs_cap ? p->slabs_cap * 2 : 16;
        uint8_t **ns = realloc(p->slabs, nc * sizeof *ns);
        if (!ns)
            return false;
        p->slabs = ns;
        p->slabs_cap = nc;
    }
    uint8_t *slab = malloc(CH * TERN_RING_SLAB_CHUNKS);
    if (!slab)
        return false;
    p->slabs[p->nslabs++] = slab;
    /* Pushed last to first: pops come out in address order, so a ring
     * filled from a fresh slab gets adjacent chunks (one span, not many). */
    for (size_t i = TERN_RING_SLAB_CHUNKS; i-- > 0;) {
        void *c = slab + i * CH;
        memcpy(c, &p->free, sizeof p->free);
        p->free = c;
    }
    p->nfree += TERN_RING_SLAB_CHUNKS;
    return true;
}

static uint8_t *pool_get(struct tern_ring_pool *p, enum ring_alloc cls, struct tern_ringbuf *rb)
{
    if (p->max && p->used + CH > p->max) {
        if (cls != RING_OPT && p->reclaim)
            p->reclaim(p->reclaim_ctx, rb);
        if (p->used + CH > p->max && cls != RING_MUST) {
            p->refused++;
            return NULL;
        }
    }
    if (!p->free && !pool_grow(p))
        return NULL;
    uint8_t *c = p->free;
    memcpy(&p->free, c, sizeof p->free);
    p->nfree--;
    p->used += CH;
    if (p->used > p->peak)
        p->peak = p->used;
    return c;
}

static void pool_put(struct tern_ring_pool *p, uint8_t *c)
{
    memcpy(c, &p->free, sizeof p->free);
    p->free = c;
    p->nfree++;
    TERN_ASSERT(p->used >= CH);
    p->used -= CH;
}

/* Puts rb on pool->parked or takes it off; false: no memory to list it. */
static bool park_change(struct tern_ringbuf *rb, bool want)
{
    struct tern_ring_pool *p = rb->pool;
    if (want) {
        if (p->nparked == p->parked_cap) {
            uint32_t nc = p->parked_cap ? p->parked_cap * 2 : 64;
            struct tern_ringbuf **np = realloc(p->parked, nc * sizeof *np);
            if (!np)
                return false;
            p->parked = np;
            p->parked_cap = nc;
        }
        p->parked[p->nparked++] = rb;
        rb->park = p->nparked;
    } else {
        uint32_t i = rb->park - 1;
        struct tern_ringbuf *last = p->parked[--p->nparked];
        p->parked[i] = last;
        last->park = i + 1;
        rb->park = 0;
    }
    return true;
}

/* A ring leaves pool->parked when nothing is parked any more (rings join
 * it only through write_at: bytes placed by free_spans are committed or
 * trimmed by the same segment's processing). */
static inline void park_leave(struct tern_ringbuf *rb)
{
    if (rb->park && !ringbuf_parked(rb))
        park_change(rb, false);
}

/* ---- the ring ---- */

int ringbuf_init(struct tern_ringbuf *rb, struct tern_ring_pool *pool, size_t cap)
{
    memset(rb, 0, sizeof *rb);
    if (cap == 0 || cap > TERN_RINGBUF_MAX || !pool)
        return TERN_E_INVAL;
    rb->pool = pool;
    rb->cap = (uint32_t)cap;
    rb->nslot = (uint32_t)((cap + CH - 1) >> SH) + 1;
    return 0;
}

static size_t circle(const struct tern_ringbuf *rb)
{
    return (size_t)rb->nslot << SH;
}

/* Circle index of position pos (relative to the head, pos < circle). */
static size_t ring_idx(const struct tern_ringbuf *rb, size_t pos)
{
    size_t i = rb->head + pos;
    size_t c = circle(rb);
    return i >= c ? i - c : i;
}

static uint8_t **tab_get(struct tern_ring_pool *p, uint32_t nslot)
{
    uint8_t **t;
    if (nslot == p->tab_nslot && p->tab_free) {
        t = p->tab_free;
        p->tab_free = (uint8_t **)(void *)t[0];
        p->tab_nfree--;
        t[0] = NULL; /* the rest was cleared by tab_put's caller */
    } else {
        t = calloc(nslot, sizeof *t);
        if (!t)
            return NULL;
    }
    p->tab_bytes += (size_t)nslot * sizeof *t;
    return t;
}

/* t's entries are all NULL. */
static void tab_put(struct tern_ring_pool *p, uint8_t **t, uint32_t nslot)
{
    p->tab_bytes -= (size_t)nslot * sizeof *t;
    if (!p->tab_nfree)
        p->tab_nslot = nslot; /* the cache takes the size of the first table it keeps */
    if (nslot == p->tab_nslot && p->tab_nfree < TERN_RING_TAB_CACHE) {
        t[0] = (uint8_t *)(void *)p->tab_free;
        p->tab_free = t;
        p->tab_nfree++;
    } else {
        free(t);
    }
}

static void release_all(struct tern_ringbuf *rb)
{
    if (rb->tab) {
        for (uint32_t s = 0; s < rb->nslot; s++)
            if (rb->tab[s]) {
                pool_put(rb->pool, rb->tab[s]);
                rb->tab[s] = NULL;
            }
        tab_put(rb->pool, rb->tab, rb->nslot);
        rb->tab = NULL;
    }
    rb->head = 0;
    rb->len = rb->resv = 0;
    park_leave(rb);
}

void ringbuf_fini(struct tern_ringbuf *rb)
{
    if (rb->pool)
        release_all(rb);
    memset(rb, 0, sizeof *rb);
}

void ringbuf_clear(struct tern_ringbuf *rb)
{
    if (rb->pool)
        release_all(rb);
}

size_t ringbuf_chunks(const struct tern_ringbuf *rb)
{
    size_t n = 0;
    for (uint32_t s = 0; rb->tab && s < rb->nslot; s++)
        n += rb->tab[s] != NULL;
    return n;
}

/* Returns the chunks of the slots that start at or after position a (a >=
 * len: they hold nothing readable), up to the head's slot. */
static void release_from(struct tern_ringbuf *rb, size_t a)
{
    if (!rb->tab)
        return;
    size_t i = ring_idx(rb, a);
    size_t s = i >> SH;
    if (i & MASK)
        s = s + 1 == rb->nslot ? 0 : s + 1;
    size_t h = rb->head >> SH;
    while (s != h) {
        if (rb->tab[s]) {
            pool_put(rb->pool, rb->tab[s]);
            rb->tab[s] = NULL;
        }
        if (++s == rb->nslot)
            s = 0;
    }
}

/* Backs positions [pos, pos + n) with chunks (pos + n <= cap). */
static bool back(struct tern_ringbuf *rb, size_t pos, size_t n, enum ring_alloc cls)
{
    if (n == 0)
        return true;
    if (!rb->tab && !(rb->tab = tab_get(rb->pool, rb->nslot)))
        return false;
    size_t i = ring_idx(rb, pos);
    if ((i & MASK) + n <= CH && rb->tab[i >> SH]) /* one chunk, held */
        return true;
    size_t s = i >> SH;
    size_t k = ((i & MASK) + n + MASK) >> SH; /* slots touched */
    for (; k; k--) {
        if (!rb->tab[s]) {
            rb->tab[s] = pool_get(rb->pool, cls, rb);
            if (!rb->tab[s]) { /* give back what this call took */
                if (rb->resv == 0)
                    release_all(rb);
                else
                    release_from(rb, rb->resv);
                return false;
            }
        }
        if (++s == rb->nslot)
            s = 0;
    }
    return true;
}

static void copy_in(struct tern_ringbuf *rb, size_t pos, const uint8_t *src, size_t n)
{
    size_t i = ring_idx(rb, pos), c = circle(rb);
    if ((i & MASK) + n <= CH) { /* within one chunk: the common case */
        if (n)
            memcpy(rb->tab[i >> SH] + (i & MASK), src, n);
        return;
    }
    while (n) {
        size_t o = i & MASK, k = CH - o;
        if (k > n)
            k = n;
        memcpy(rb->tab[i >> SH] + o, src, k);
        src += k;
        n -= k;
        i += k;
        if (i == c)
            i = 0;
    }
}

static void copy_out(const struct tern_ringbuf *rb, size_t pos, uint8_t *dst, size_t n)
{
    size_t i = ring_idx(rb, pos), c = circle(rb);
    if ((i & MASK) + n <= CH) {
        if (n)
            memcpy(dst, rb->tab[i >> SH] + (i & MASK), n);
        return;
    }
    while (n) {
        size_t o = i & MASK, k = CH - o;
        if (k > n)
            k = n;
        memcpy(dst, rb->tab[i >> SH] + o, k);
        dst += k;
        n -= k;
        i += k;
        if (i == c)
            i = 0;
    }
}

size_t ringbuf_write(struct tern_ringbuf *rb, const void *src, size_t n)
{
    size_t room = rb->cap - rb->len;
    if (n > room)
        n = room;
    if (n && !back(rb, rb->len, n, RING_WANT)) {
        /* Take what the chunks held can: the run of backed slots. */
        size_t got = 0;
        size_t i = ring_idx(rb, rb->len), c = circle(rb);
        while (got < n && rb->tab && rb->tab[i >> SH]) {
            size_t k = CH - (i & MASK);
            got += k;
            i += k;
            if (i == c)
                i = 0;
        }
        n = got < n ? got : n;
    }
    copy_in(rb, rb->len, src, n);
    rb->len += (uint32_t)n;
    if (rb->resv < rb->len)
        rb->resv = rb->len;
    TERN_ASSERT(rb->len <= rb->cap);
    park_leave(rb);
    return n;
}

size_t ringbuf_writable(const struct tern_ringbuf *rb)
{
    size_t room = rb->cap - rb->len;
    const struct tern_ring_pool *p = rb->pool;
    if (!p || !p->max || p->used + CH <= p->max)
        return room;
    size_t got = 0;
    size_t i = ring_idx(rb, rb->len), c = circle(rb);
    while (got < room && rb->tab && rb->tab[i >> SH]) {
        size_t k = CH - (i & MASK);
        got += k;
        i += k;
        if (i == c)
            i = 0;
    }
    return got < room ? got : room;
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
    if (n == 0)
        return 0;
    rb->len -= (uint32_t)n;
    rb->resv -= (uint32_t)n;
    if (rb->resv == 0 || (rb->len == 0 && !rb->park)) {
        /* nothing readable, nothing parked by write_at (bytes beyond len
         * on an unlisted ring were placed for a segment that was then
         * dropped) */
        release_all(rb);
        return n;
    }
    /* The slots from the old head's up to (not including) the new head's
     * hold only consumed bytes (n <= cap < circle - CHUNK: no wrap-around
     * onto the new head's slot). */
    size_t s = rb->head >> SH;
    rb->head = (uint32_t)ring_idx(rb, n);
    size_t e = rb->head >> SH;
    while (s != e) {
        if (rb->tab[s]) {
            pool_put(rb->pool, rb->tab[s]);
            rb->tab[s] = NULL;
        }
        if (++s == rb->nslot)
            s = 0;
    }
    park_leave(rb);
    return n;
}

size_t ringbuf_read(struct tern_ringbuf *rb, void *dst, size_t n)
{
    n = ringbuf_peek_at(rb, 0, dst, n);
    return ringbuf_consume(rb, n);
}

static bool reserve(struct tern_ringbuf *rb, size_t off, size_t n, enum ring_alloc cls)
{
    size_t room = rb->cap - rb->len;
    if (off > room || n > room - off)
        return false;
    return back(rb, rb->len + off, n, cls);
}

bool ringbuf_reserve(struct tern_ringbuf *rb, size_t off, size_t n, enum ring_alloc cls)
{
    return reserve(rb, off, n, cls);
}

size_t ringbuf_write_at(struct tern_ringbuf *rb, size_t off, const void *src, size_t n)
{
    if (n == 0 || !reserve(rb, off, n, RING_MUST))
        return 0;
    if (!rb->park && !park_change(rb, true)) { /* parked bytes are always listed */
        release_from(rb, rb->resv > rb->len ? rb->resv : rb->len);
        if (rb->resv == 0)
            release_all(rb);
        return 0;
    }
    copy_in(rb, rb->len + off, src, n);
    size_t end = rb->len + off + n;
    if (rb->resv < end)
        rb->resv = (uint32_t)end;
    return n;
}

size_t ringbuf_commit(struct tern_ringbuf *rb, size_t n)
{
    if (n > rb->cap - rb->len || rb->len + n > rb->resv)
        return 0;
    rb->len += (uint32_t)n;
    TERN_ASSERT(rb->len <= rb->cap);
    park_leave(rb);
    return n;
}

void ringbuf_trim(struct tern_ringbuf *rb, size_t keep)
{
    size_t a = (size_t)rb->len + keep;
    if (a >= rb->resv)
        return;
    rb->resv = (uint32_t)a;
    if (rb->resv == 0) {
        release_all(rb);
        return;
    }
    release_from(rb, a);
    park_leave(rb);
}

/* Spans over positions [pos, pos + n), all backed. */
static int make_spans(const struct tern_ringbuf *rb, size_t pos, size_t n,
                      struct tern_ringbuf_span *out, int max)
{
    size_t i = ring_idx(rb, pos), c = circle(rb);
    if ((i & MASK) + n <= CH) { /* one chunk */
        out[0].p = rb->tab[i >> SH] + (i & MASK);
        out[0].n = n;
        return 1;
    }
    int k = 0;
    while (n) {
        size_t o = i & MASK, m = CH - o;
        if (m > n)
            m = n;
        uint8_t *p = rb->tab[i >> SH] + o;
        if (k && out[k - 1].p + out[k - 1].n == p) {
            out[k - 1].n += m;
        } else {
            if (k == max)
                break;
            out[k].p = p;
            out[k].n = m;
            k++;
        }
        n -= m;
        i += m;
        if (i == c)
            i = 0;
    }
    return n ? -k - 1 : k; /* ran out of spans: -(k + 1) */
}

int ringbuf_spans(const struct tern_ringbuf *rb, size_t off, size_t n,
                  struct tern_ringbuf_span *out, int max)
{
    if (off >= rb->len || n == 0 || max <= 0)
        return 0;
    if (n > rb->len - off)
        n = rb->len - off;
    size_t i = ring_idx(rb, off);
    if ((i & MASK) + n <= CH) { /* within one chunk: the common case */
        out[0].p = rb->tab[i >> SH] + (i & MASK);
        out[0].n = n;
        return 1;
    }
    int k = make_spans(rb, off, n, out, max);
    return k < 0 ? -k - 1 : k;
}

int ringbuf_free_spans(struct tern_ringbuf *rb, size_t off, size_t n,
                       struct tern_ringbuf_span *out, int max, enum ring_alloc cls)
{
    size_t room = rb->cap - rb->len;
    if (n == 0 || max <= 0 || off > room || n > room - off)
        return 0;
    size_t pos = rb->len + off;
    size_t i = ring_idx(rb, pos);
    uint8_t *c;
    if ((i & MASK) + n <= CH && rb->tab && (c = rb->tab[i >> SH])) { /* one chunk, held */
        out[0].p = c + (i & MASK);
        out[0].n = n;
        if (rb->resv < pos + n)
            rb->resv = (uint32_t)(pos + n);
        return 1;
    }
    if (!back(rb, pos, n, cls))
        return 0;
    int k = make_spans(rb, rb->len + off, n, out, max);
    size_t end = rb->len + off + n;
    if (rb->resv < end) /* bytes may be written there: hold the chunks */
        rb->resv = (uint32_t)end;
    return k < 0 ? 0 : k;
}
