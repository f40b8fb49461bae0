/*
 * src/core/assert.h - TERN_ASSERT(expr): an internal invariant of the stack.
 *
 * Compiled in when TERN_ASSERTS is defined (the Makefile defines it for
 * every build it makes unless RELEASE=1: the gcc build the unit tests
 * link, the ASan/TSan builds and the fuzz targets); compiled out (the
 * expression is not evaluated) otherwise. A failed assertion prints
 * "file:line: TERN_ASSERT(expr) failed" on stderr and aborts, so a test,
 * a sanitizer run or a fuzzer stops at the first broken invariant.
 * Not for conditions the network can cause: those are handled, counted
 * and survived (ATTACKS.md); an assertion states what the code itself
 * guarantees.
 */
#ifndef TERN_CORE_ASSERT_H
#define TERN_CORE_ASSERT_H

void assert_fail_at(const char *file, int line, const char *expr);
#ifdef TERN_ASSERTS
#define TERN_ASSERT(e) ((e) ? (void)0 : assert_fail_at(__FILE__, __LINE__, #e))
#define TERN_ASSERTS_ON 1
#else
#define TERN_ASSERT(e) ((void)0)
#define TERN_ASSERTS_ON 0
#endif

#endif
