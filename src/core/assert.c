/*
 * assert.c - the failure path of TERN_ASSERT (assert.h): where the broken
 * invariant is, then abort(). Present in every build (empty use when
 * assertions are compiled out).
 * The one place the core prints: a broken invariant is a bug in tern, not
 * a network event, and the process ends here (test, sanitizer and fuzz
 * builds; `make RELEASE=1` compiles every TERN_ASSERT out, so a release
 * library never reaches this). Drops and errors caused by input are
 * counted in stats, never printed.
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
