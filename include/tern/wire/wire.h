/*
 * tern/wire/wire.h - conventions shared by the pure wire codecs.
 *
 * Every codec under tern/wire/ offers
 *     int tern_X_parse(const uint8_t *buf, size_t len, ..., struct tern_X_repr *out)
 *     int tern_X_emit(const struct tern_X_repr *r, ..., uint8_t *buf, size_t cap)
 * parse returns the header length (>= 0) or a negative enum tern_err, and
 * checks every length field against `len` before using it (ATTACKS G1).
 * Pointers in a parsed repr point into the caller's buffer (no copies, no
 * ownership). emit returns the number of bytes written or TERN_E_NOSPC.
 * Addresses and numbers in a repr are in host order. No codec keeps state,
 * allocates memory or reads the time; all are thread-safe.
 */
#ifndef TERN_WIRE_WIRE_H
#define TERN_WIRE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for parse functions. */
#define TERN_WIRE_NO_CSUM 0x1u    /* do not verify checksums (printers, offload) */
#define TERN_WIRE_TRUNC_OK 0x2u   /* IPv4: total length may exceed the bytes present
                                   * (headers quoted inside ICMP errors, snapped captures) */
#define TERN_WIRE_LENIENT 0x4u    /* TCP: accept forbidden flag combinations (printers) */

#ifdef __cplusplus
}
#endif
#endif
