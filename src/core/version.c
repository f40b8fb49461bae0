/*
 * core/version.c - tern_version(): the version this library was built as.
 */
#include "tern/version.h"

const char *tern_version(void)
{
    return TERN_VERSION;
}
