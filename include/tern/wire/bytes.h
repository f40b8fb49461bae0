/*
 * tern/wire/bytes.h - explicit big-endian (network order) getters and setters.
 *
 * DESIGN.md principle 3: header fields are read byte by byte through these
 * helpers, never by casting a pointer to a packed struct. Callers check that
 * the bytes exist before calling; these helpers do no bounds checking.
 * Pure, header-only, thread-safe.
 */
#ifndef TERN_WIRE_BYTES_H
#define TERN_WIRE_BYTES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline uint16_t tern_get16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t tern_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void tern_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void tern_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#ifdef __cplusplus
}
#endif
#endif
