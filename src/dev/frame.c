/*
 * frame.c - pools of frame buffers whose ownership moves between layers
 * and devices (frame.h; docs/architecture.md "Frame buffers").
 */
#include "dev/frame.h"

#include <stdbool.h>
#include <stdlib.h>

struct tern_frame_pool {
    struct tern_frame *free; /* given back, ready for frame_get */
    size_t size;             /* bytes of every frame's data */
    size_t max;              /* frames in all, out or free */
    size_t count;            /* frames allocated (out + free) */
    bool released;           /* the owner is gone: free frames as they return */
};

static struct tern_frame *frame_alloc(struct tern_frame_pool *p)
{
    /* The data after the header, rounded so it starts 64-byte aligned
     * relative to the allocation's own (16-byte) alignment. */
    size_t hdr = (sizeof(struct tern_frame) + 63) & ~(size_t)63;
    struct tern_frame *f = malloc(hdr + p->size);
    if (!f)
        return NULL;
    f->pool = p;
    f->next = NULL;
    f->cap = p->size;
    f->data = (uint8_t *)f + hdr;
    p->count++;
    return f;
}

struct tern_frame_pool *frame_pool_new(size_t size, size_t max, size_t prealloc)
{
    struct tern_frame_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->size = size;
    p->max = max;
    for (size_t i = 0; i < prealloc && i < max; i++) {
        struct tern_frame *f = frame_alloc(p);
        if (!f) {
            frame_pool_release(p);
            return NULL;
        }
        f->next = p->free;
        p->free = f;
    }
    return p;
}

struct tern_frame *frame_get(struct tern_frame_pool *p)
{
    struct tern_frame *f = p->free;
    if (f) {
        p->free = f->next;
        f->next = NULL;
        return f;
    }
    return p->count < p->max ? frame_alloc(p) : NULL;
}

void tern_frame_free(struct tern_frame *f)
{
    if (!f)
        return;
    struct tern_frame_pool *p = f->pool;
    if (p->released) {
        free(f);
        if (--p->count == 0)
            free(p);
        return;
    }
    f->next = p->free;
    p->free = f;
}

void frame_pool_release(struct tern_frame_pool *p)
{
    if (!p)
        return;
    while (p->free) {
        struct tern_frame *f = p->free;
        p->free = f->next;
        free(f);
        p->count--;
    }
    p->released = true;
    if (p->count == 0)
        free(p);
}
