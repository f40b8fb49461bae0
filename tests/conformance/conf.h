/*
 * tests/conformance/conf.h - the scripted TCP conformance runner: parses a
 * .pkt script (tests/conformance/README.md) and runs it against one tern
 * stack on the state world (tests/core/world.h) in virtual time.
 * Test code.
 */
#ifndef TERN_TESTS_CONFORMANCE_CONF_H
#define TERN_TESTS_CONFORMANCE_CONF_H

#include <stdbool.h>
#include <stdio.h>

enum conf_verdict {
    CONF_PASS,        /* the script passed */
    CONF_FAIL,        /* it failed (or a parse error, always a failure) */
    CONF_XFAIL,       /* it carries `# xfail:` and failed as expected */
    CONF_XPASS        /* it carries `# xfail:` and passed: the mark must go */
};

struct conf_result {
    enum conf_verdict verdict;
    char xfail[200]; /* the xfail reason, if any */
    int line;        /* the line that failed (0: the end, or none) */
};

/* Runs the script at path. The diagnostics of a failure (FILE:LINE, the
 * expected line, what tern did, a transcript of the last events) go to out,
 * each line starting with "# "; with verbose, every event is printed as it
 * runs. */
void conf_run_file(const char *path, FILE *out, bool verbose, struct conf_result *res);

#endif
