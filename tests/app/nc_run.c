/* tests/app/nc_run.c - see nc_run.h. */
#include "nc_run.h"

#include <stdlib.h>
#include <string.h>

static void want(void *ctx, bool on)
{
    struct run *r = ctx;
    r->wanting = on;
    if (on)
        r->want_on++;
    else
        r->want_off++;
}

static void done(void *ctx, int status)
{
    struct run *r = ctx;
    r->status = status;
    r->done_calls++;
    r->done_at = tern_loop_now(r->loop);
    if (r->stop_on_done)
        tern_loop_stop(r->loop);
}

void run_init(struct run *r, struct tern_loop *loop, struct tern_nc_io *io, bool stop_on_done)
{
    memset(r, 0, sizeof *r);
    r->loop = loop;
    r->status = -1;
    r->stop_on_done = stop_on_done;
    r->fo = open_memstream(&r->out, &r->out_len);
    r->fe = open_memstream(&r->err, &r->err_len);
    *io = (struct tern_nc_io){.out = r->fo, .err = r->fe, .want_input = want, .done = done,
                              .ctx = r};
}

void run_fini(struct run *r)
{
    fclose(r->fo);
    fclose(r->fe);
    free(r->out);
    free(r->err);
}
