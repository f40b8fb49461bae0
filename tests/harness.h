/*
 * tests/harness.h - tern's small unit-test harness.
 *
 * TEST(name) { ... } defines and registers a test. CHECK* macros record a
 * failure (file:line and the expression) and let the test go on; REQUIRE*
 * stop the test. The runner (tests/harness.c) prints one TAP-like line per
 * test ("ok - name" / "not ok - name") and ends with "N passed, N failed".
 * Run one test or a prefix: `unit_tests NAME_PREFIX`.
 */
#ifndef TERN_TESTS_HARNESS_H
#define TERN_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*tern_test_fn)(void);
void test_register(const char *name, tern_test_fn fn, const char *file);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int test_failed_now(void);
/* A test that runs many cases (e.g. the conformance scripts) reports each
 * as its own counted result: prints "ok - NAME" or "not ok - NAME". The
 * test's own line is then left out unless it failed on its own. */
void test_result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The command line after the test-name prefix (argv[2..]), for tests that
 * take arguments: `unit_tests PREFIX ARG...`. */
extern int test_argc;
extern char **test_argv;
/* Deterministic random numbers for tests (xorshift64*, seeded per test). */
uint64_t test_rand(void);
/* Hex dump helper for failure messages: writes at most cap-1 chars. */
void test_hex(const uint8_t *p, size_t n, char *out, size_t cap);

#define TEST(name)                                                      \
    static void name(void);                                             \
    __attribute__((constructor)) static void name##_register(void)      \
    {                                                                   \
        test_register(#name, name, __FILE__);                      \
    }                                                                   \
    static void name(void)

#define CHECK(cond)                                                     \
    do {                                                                \
        if (!(cond))                                                    \
            test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);     \
    } while (0)

#define REQUIRE(cond)                                                   \
    do {                                                                \
        if (!(cond)) {                                                  \
            test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);   \
            return;                                                     \
        }                                                               \
    } while (0)

#define CHECK_EQ(a, b)                                                  \
    do {                                                                \
        long long va_ = (long long)(a), vb_ = (long long)(b);           \
        if (va_ != vb_)                                                 \
            test_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %lld != %lld", #a, #b, va_, vb_); \
    } while (0)

#define REQUIRE_EQ(a, b)                                                \
    do {                                                                \
        long long va_ = (long long)(a), vb_ = (long long)(b);           \
        if (va_ != vb_) {                                               \
            test_fail(__FILE__, __LINE__, "REQUIRE_EQ(%s, %s): %lld != %lld", #a, #b, va_, vb_); \
            return;                                                     \
        }                                                               \
    } while (0)

#define CHECK_STR(a, b)                                                 \
    do {                                                                \
        const char *sa_ = (a), *sb_ = (b);                              \
        if (strcmp(sa_, sb_) != 0)                                      \
            test_fail(__FILE__, __LINE__, "CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, #b, sa_, sb_); \
    } while (0)

#define CHECK_MEM(a, b, n)                                              \
    do {                                                                \
        const uint8_t *ma_ = (const uint8_t *)(a), *mb_ = (const uint8_t *)(b); \
        size_t n_ = (n);                                                \
        if (memcmp(ma_, mb_, n_) != 0) {                                \
            char ha_[200], hb_[200];                                    \
            test_hex(ma_, n_, ha_, sizeof ha_);                    \
            test_hex(mb_, n_, hb_, sizeof hb_);                    \
            test_fail(__FILE__, __LINE__, "CHECK_MEM(%s, %s, %zu):\n    %s\n != %s", #a, #b, n_, ha_, hb_); \
        }                                                               \
    } while (0)

#endif
