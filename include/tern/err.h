/*
 * tern/err.h - error codes shared by every tern module.
 *
 * Functions that can fail return a negative enum tern_err value (or a
 * non-negative result on success). The POSIX facade (a later module) maps
 * these onto -1 + errno instead. Thread-safe: tern_strerror returns static
 * strings.
 */
#ifndef TERN_ERR_H
#define TERN_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

enum tern_err {
    TERN_OK = 0,
    TERN_E_SHORT = -1,       /* fewer bytes than a header (or a length field) needs */
    TERN_E_BAD_LEN = -2,     /* a length field is inconsistent (too small, too large) */
    TERN_E_BAD_VERSION = -3, /* version / hardware / protocol type we do not speak */
    TERN_E_BAD_CSUM = -4,    /* checksum mismatch */
    TERN_E_BAD_OPT = -5,     /* malformed option list */
    TERN_E_BAD_FLAGS = -6,   /* forbidden flag combination */
    TERN_E_BAD_FIELD = -7,   /* some other field holds a forbidden value */
    TERN_E_NOSPC = -8,       /* output buffer too small */
    TERN_E_INVAL = -9,       /* invalid argument from the caller */
    TERN_E_NOMEM = -10,      /* a bounded table or allocation is full */
    TERN_E_IO = -11,         /* an OS-level I/O call failed (errno has details) */
    TERN_E_FORMAT = -12,     /* a file is not in the expected format */
    TERN_E_EOF = -13,        /* end of input */
    TERN_E_UNSUPPORTED = -14 /* valid input we do not handle */
};

/* A short English description of err (negative or zero); never NULL. */
const char *tern_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
