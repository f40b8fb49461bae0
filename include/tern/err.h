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

#include "tern/api.h"

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
    TERN_E_UNSUPPORTED = -14, /* valid input we do not handle */
    /* Socket errors (tern/socket.h); the POSIX facade maps each to its errno. */
    TERN_E_AGAIN = -20,        /* EAGAIN: the call would block */
    TERN_E_ADDRINUSE = -21,    /* EADDRINUSE */
    TERN_E_ADDRNOTAVAIL = -22, /* EADDRNOTAVAIL: not one of our addresses */
    TERN_E_ACCES = -23,        /* EACCES: broadcast without SO_BROADCAST, privileged port */
    TERN_E_CONNREFUSED = -24,  /* ECONNREFUSED */
    TERN_E_CONNRESET = -25,    /* ECONNRESET */
    TERN_E_NOTCONN = -26,      /* ENOTCONN */
    TERN_E_ISCONN = -27,       /* EISCONN */
    TERN_E_MSGSIZE = -28,      /* EMSGSIZE */
    TERN_E_INPROGRESS = -29,   /* EINPROGRESS: connect started */
    TERN_E_ALREADY = -30,      /* EALREADY */
    TERN_E_TIMEDOUT = -31,     /* ETIMEDOUT */
    TERN_E_HOSTUNREACH = -32,  /* EHOSTUNREACH */
    TERN_E_NETUNREACH = -33,   /* ENETUNREACH: no route */
    TERN_E_PIPE = -34,         /* EPIPE: sending after shutdown */
    TERN_E_DESTADDRREQ = -35,  /* EDESTADDRREQ */
    TERN_E_OPNOTSUPP = -36,    /* EOPNOTSUPP: not for this socket type */
    TERN_E_NOTFOUND = -37      /* a name, service or record does not exist */
};

/* A short English description of err (negative or zero); never NULL. */
TERN_API const char *tern_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
