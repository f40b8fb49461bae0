/*
 * src/dev/frame.h - pools of struct tern_frame (internal; the rules are in
 * docs/architecture.md, "Frame buffers").
 *
 * A pool hands out frames of one size, keeps the ones given back on a free
 * list, and allocates new ones only up to `max` frames in all. The owner
 * (a stack, a memory link) releases the pool when it goes away; frames
 * still out (queued on a memory link, say) keep it alive, and the last one
 * given back frees it. Single-threaded, like everything on one loop.
 */
#ifndef TERN_DEV_FRAME_H
#define TERN_DEV_FRAME_H

#include <stddef.h>

#include "tern/device.h"

/* A pool of frames of `size` bytes, at most `max` of them, `prealloc`
 * allocated now (so a device can promise no allocation after creation).
 * NULL: no memory. */
struct tern_frame_pool *frame_pool_new(size_t size, size_t max, size_t prealloc);
/* A frame from the pool (f->cap == size), or NULL when max are out or
 * malloc fails. */
struct tern_frame *frame_get(struct tern_frame_pool *p);
/* The owner is done with the pool: its free frames are freed now, the
 * rest when they come back, then the pool itself. */
void frame_pool_release(struct tern_frame_pool *p);

#endif
