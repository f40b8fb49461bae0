/*
 * assert.c - the failure path of TERN_ASSERT (assert.h): where the broken
 * invariant is, then abort(). Present in every build (empty use when
 * assertions are compiled out).
 */
#include "core/assert.h"

#include <stdio.h>
#include <stdlib.h>

void assert_fail_at(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: TERN_ASSERT(%s) failed\n", file, line, expr);
    fflush(stderr);
    abort();
}
