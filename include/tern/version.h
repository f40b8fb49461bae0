/*
 * tern/version.h - the version of tern: the one place it is written.
 *
 * The Makefile reads these three numbers (the shared library's soname, the
 * pkg-config file's Version), `tern --version` prints TERN_VERSION, and
 * tern_version() returns the version of the library a program runs with
 * (which may differ from the TERN_VERSION it was compiled against).
 */
#ifndef TERN_VERSION_H
#define TERN_VERSION_H

#include "tern/api.h"

#define TERN_VERSION_MAJOR 0
#define TERN_VERSION_MINOR 1
#define TERN_VERSION_PATCH 0

#define TERN_VERSION_STR_(x) #x
#define TERN_VERSION_STR(x) TERN_VERSION_STR_(x)
/* "MAJOR.MINOR.PATCH" */
#define TERN_VERSION                                                                     \
    TERN_VERSION_STR(TERN_VERSION_MAJOR) "." TERN_VERSION_STR(TERN_VERSION_MINOR) "."    \
    TERN_VERSION_STR(TERN_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* The library's TERN_VERSION, e.g. "0.1.0" (static storage). */
TERN_API const char *tern_version(void);

#ifdef __cplusplus
}
#endif
#endif
