/*
 * src/wire/text.h - small text helpers the codecs share (not public).
 */
#ifndef TERN_WIRE_TEXT_H
#define TERN_WIRE_TEXT_H

/* The value of one hexadecimal digit, or -1. */
static inline int wire_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
