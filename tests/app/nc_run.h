/*
 * tests/app/nc_run.h - the test side of a `tern nc` app run: stdout and
 * stderr captured in memory, want_input/done callbacks recorded.
 */
#ifndef TERN_TESTS_NC_RUN_H
#define TERN_TESTS_NC_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/nc.h"
#include "tern/loop.h"

struct run {
    struct tern_loop *loop;
    char *out, *err;
    size_t out_len, err_len;
    FILE *fo, *fe;
    int status, done_calls, want_on, want_off;
    bool wanting;
    bool stop_on_done; /* done() stops the loop */
    uint64_t done_at;
};

/* Fills *io with r's streams and callbacks. */
void run_init(struct run *r, struct tern_loop *loop, struct tern_nc_io *io, bool stop_on_done);
void run_fini(struct run *r);

#endif
