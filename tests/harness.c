/* tests/harness.c - registry and runner for TEST() functions. */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>

#define MAX_TESTS 4096

struct entry {
    const char *name;
    tern_test_fn fn;
    const char *file;
};

static struct entry tests[MAX_TESTS];
static int ntests;
static int cur_failed;
static int sub_passed, sub_failed; /* test_result, this test */
int test_argc;
char **test_argv;
static uint64_t rng_state;

void test_register(const char *name, tern_test_fn fn, const char *file)
{
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "harness: too many tests\n");
        abort();
    }
    tests[ntests++] = (struct entry){name, fn, file};
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    cur_failed++;
    if (cur_failed > 20)
        return; /* one broken loop should not flood the log */
    fprintf(stdout, "#   %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

int test_failed_now(void) { return cur_failed; }

void test_result(bool ok, const char *fmt, ...)
{
    va_list ap;
    fputs(ok ? "ok - " : "not ok - ", stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    if (ok)
        sub_passed++;
    else
        sub_failed++;
}

uint64_t test_rand(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void test_hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%02x%s", p[i], (i % 4 == 3) ? " " : "");
    if (o + 4 >= cap && cap > 4)
        snprintf(out + cap - 4, 4, "...");
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
    return h ? h : 1;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_argc = argc > 2 ? argc - 2 : 0;
    test_argv = argv + (argc > 2 ? 2 : argc);
    for (int i = 0; i < ntests; i++) {
        if (argc > 1 && strncmp(tests[i].name, argv[1], strlen(argv[1])) != 0)
            continue;
        cur_failed = 0;
        sub_passed = sub_failed = 0;
        rng_state = hash_name(tests[i].name);
        tests[i].fn();
        passed += sub_passed;
        failed += sub_failed;
        if ((sub_passed || sub_failed) && !cur_failed)
            continue; /* counted by its results */
        if (cur_failed) {
            failed++;
            printf("not ok - %s (%s)\n", tests[i].name, tests[i].file);
        } else {
            passed++;
            printf("ok - %s\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
