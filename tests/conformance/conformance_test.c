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
#include <unistd.h>

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
        test_fail(__FILE__, __LINE__, "cannot open %s (run from the repository root)", dir);
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
    for (int i = 0; i < test_argc; i++) {
        const char *a = test_argv[i];
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
        test_fail(__FILE__, __LINE__, "no scripts under %s", CONF_DIR);
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
            test_result(true, "conformance %s", name);
            break;
        case CONF_XFAIL:
            xfails++;
            test_result(true, "conformance %s (expected failure: %s)", name, res.xfail);
            break;
        case CONF_XPASS:
            if (log)
                fputs(log, stdout);
            test_result(false, "conformance %s unexpectedly passed: remove `# xfail: %s`",
                             name, res.xfail);
            break;
        case CONF_FAIL:
            if (log)
                fputs(log, stdout);
            if (res.line)
                test_result(false, "conformance %s (line %d)", name, res.line);
            else
                test_result(false, "conformance %s", name);
            break;
        }
        free(log);
        free(l.p[i]);
    }
    if (l.n)
        printf("# conformance: %zu scripts, %d expected failures\n", l.n, xfails);
    free(l.p);
}

/* ---- the runner checks itself: scripts that must fail, and how ---- */

struct selfcase {
    const char *what, *text;
    enum conf_verdict want;
    int line;            /* the failing line (0: the end of the script or none) */
    const char *says;    /* a piece of the diagnostics */
};

#define HS "0 listen 80\n+0 < S 0:0(0) win 65535 <mss 1460>\n" \
           "+0 > S. 0:0(0) ack 1 win * <mss 1460>\n+0.1 < . 1:1(0) ack 1 win 65535\n+0 accept = ok\n"

static const struct selfcase selfcases[] = {
    {"passes", "# rfc: 9293\n" HS "+0 write 10 = 10\n+0 > P. 1:11(10) ack 1 win *\n", CONF_PASS, 0, ""},
    {"no rfc line", "# nothing\n" HS, CONF_FAIL, 0, "x.pkt:1: parse error: no `# rfc:`"},
    {"parse error", "# rfc: 9293\n0 listen 80\n+0 < S 0:0(1) win 1\n", CONF_FAIL, 0,
     "x.pkt:3: parse error: end must be seq + len"},
    {"wrong flags", "# rfc: 9293\n" HS "+0 write 10 = 10\n+0 > . 1:11(10) ack 1 win *\n",
     CONF_FAIL, 8, "flags differ: tern sent P. 1:11(10) ack 1"},
    {"wrong ack", "# rfc: 9293\n" HS "+0 write 10 = 10\n+0 > P. 1:11(10) ack 2 win *\n",
     CONF_FAIL, 8, "ack differs"},
    {"wrong options", "# rfc: 9293\n0 listen 80\n+0 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > S. 0:0(0) ack 1 win * <mss 1400>\n", CONF_FAIL, 4, "option mss differs"},
    {"options where none", "# rfc: 9293\n0 listen 80\n+0 < S 0:0(0) win 65535 <mss 1460>\n"
     "+0 > S. 0:0(0) ack 1 win *\n", CONF_FAIL, 4, "options present, none expected"},
    {"too early", "# rfc: 9293\n" HS "+0 write 10 = 10\n+0.1 > P. 1:11(10) ack 1 win *\n",
     CONF_FAIL, 8, "expected at 0.200000 s"},
    {"nothing sent", "# rfc: 9293\n" HS "+0..+2 > P. 1:11(10) ack 1 win *\n", CONF_FAIL, 7,
     "tern sent nothing by 2.100000 s"},
    {"unexpected before a line", "# rfc: 9293\n" HS "+0 write 10 = 10\n+0 state ESTABLISHED\n",
     CONF_FAIL, 8, "unexpected: tern sent P. 1:11(10)"},
    {"unexpected at the end", "# rfc: 9293\n" HS "+0 write 10 = 10\n", CONF_FAIL, 0,
     "after the last line"},
    {"quiet broken", "# rfc: 9293\n" HS "+0 < P. 1:11(10) ack 1 win 65535\n+1 quiet\n", CONF_FAIL,
     8, "(`quiet` up to this time)"},
    {"call result", "# rfc: 9293\n" HS "+0 read 10 = 10\n", CONF_FAIL, 7, "the call returned EAGAIN"},
    {"state", "# rfc: 9293\n" HS "+0 state CLOSE_WAIT\n", CONF_FAIL, 7, "is in ESTABLISHED"},
    {"wrong seq", "# rfc: 9293\n" HS "+0 write 10 = 10\n+0 > P. 2:12(10) ack 1 win *\n", CONF_FAIL, 8,
     "seq differs"},
    {"xfail that fails", "# rfc: 9293\n# xfail: demo\n" HS "+0 state CLOSED\n", CONF_XFAIL, 8, ""},
    {"xfail that passes", "# rfc: 9293\n# xfail: demo\n" HS, CONF_XPASS, 0, ""},
    {"xfail never hides a parse error", "# rfc: 9293\n# xfail: demo\n0 lisen 80\n", CONF_FAIL, 0,
     "parse error"},
    {"optional absent", "# rfc: 9293\n" HS "+0..+1 >? . 1:1(0) ack 1 win *\n+0 state ESTABLISHED\n",
     CONF_PASS, 0, ""},
};

TEST(conformance_runner_selftest)
{
    char dir[] = "/tmp/tern_conf_XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/x.pkt", dir);
    for (size_t i = 0; i < sizeof selfcases / sizeof selfcases[0]; i++) {
        const struct selfcase *c = &selfcases[i];
        FILE *f = fopen(path, "w");
        REQUIRE(f != NULL);
        fputs(c->text, f);
        fclose(f);
        char *log = NULL;
        size_t loglen = 0;
        FILE *out = open_memstream(&log, &loglen);
        struct conf_result res;
        conf_run_file(path, out, false, &res);
        fclose(out);
        bool ok = res.verdict == c->want && res.line == c->line && strstr(log, c->says);
        if (!ok) {
            test_fail(__FILE__, __LINE__, "case \"%s\": verdict %d line %d (want %d, %d, \"%s\"):\n%s",
                           c->what, res.verdict, res.line, c->want, c->line, c->says, log);
        }
        free(log);
    }
    remove(path);
    rmdir(dir);
}
