/*
 * tests/conformance/conformance_test.c - runs every script under
 * tests/conformance/scripts (or the files and directories given after the
 * test name: `unit_tests conformance [-v] PATH...`) and reports each as
 * its own result "ok - conformance AREA/NAME". See README.md beside it.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance/conf.h"
#include "harness.h"

#define CONF_DIR "tests/conformance/scripts"

struct list {
    char **p;
    size_t n, cap;
};

static void add(struct list *l, const char *path)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->p = realloc(l->p, l->cap * sizeof *l->p);
    }
    l->p[l->n++] = strdup(path);
}

/* Every *.pkt under dir, recursively. */
static void walk(struct list *l, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        tern_test_fail(__FILE__, __LINE__, "cannot open %s (run from the repository root)", dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) < 0)
            continue;
        size_t n = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            walk(l, path);
        else if (n > 4 && strcmp(e->d_name + n - 4, ".pkt") == 0)
            add(l, path);
    }
    closedir(d);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The name in the result line: the path below the scripts directory. */
static const char *short_name(const char *path)
{
    const char *s = strstr(path, CONF_DIR "/");
    return s ? s + strlen(CONF_DIR "/") : path;
}

TEST(conformance)
{
    struct list l = {0};
    bool verbose = getenv("CONF_VERBOSE") != NULL;
    int given = 0;
    for (int i = 0; i < tern_test_argc; i++) {
        const char *a = tern_test_argv[i];
        struct stat st;
        if (strcmp(a, "-v") == 0) {
            verbose = true;
        } else if (stat(a, &st) == 0 && S_ISDIR(st.st_mode)) {
            walk(&l, a);
            given++;
        } else {
            add(&l, a);
            given++;
        }
    }
    if (!given)
        walk(&l, CONF_DIR);
    qsort(l.p, l.n, sizeof *l.p, cmp);
    if (!given && l.n == 0)
        tern_test_fail(__FILE__, __LINE__, "no scripts under %s", CONF_DIR);
    int xfails = 0;
    for (size_t i = 0; i < l.n; i++) {
        char *log = NULL;
        size_t loglen = 0;
        FILE *out = verbose ? stdout : open_memstream(&log, &loglen);
        struct conf_result res;
        conf_run_file(l.p[i], out, verbose, &res);
        if (!verbose)
            fclose(out);
        const char *name = short_name(l.p[i]);
        switch (res.verdict) {
        case CONF_PASS:
            tern_test_result(true, "conformance %s", name);
            break;
        case CONF_XFAIL:
            xfails++;
            tern_test_result(true, "conformance %s (expected failure: %s)", name, res.xfail);
            break;
        case CONF_XPASS:
            if (log)
                fputs(log, stdout);
            tern_test_result(false, "conformance %s unexpectedly passed: remove `# xfail: %s`",
                             name, res.xfail);
            break;
        case CONF_FAIL:
            if (log)
                fputs(log, stdout);
            if (res.line)
                tern_test_result(false, "conformance %s (line %d)", name, res.line);
            else
                tern_test_result(false, "conformance %s", name);
            break;
        }
        free(log);
        free(l.p[i]);
    }
    if (l.n)
        printf("# conformance: %zu scripts, %d expected failures\n", l.n, xfails);
    free(l.p);
}
