/* src/app/perf_impl.h - internals shared by perf.c and perf_json.c. */
#ifndef TERN_APP_PERF_IMPL_H
#define TERN_APP_PERF_IMPL_H

#include <stdbool.h>
#include <stddef.h>

/* A JSON value in a text: [p, end); p NULL = absent. */
struct pj {
    const char *p, *end;
};

/* The text is one well-formed JSON object. */
bool pj_valid(const char *text, size_t len);
/* The value of obj's member key (absent if obj is not an object). */
struct pj pj_member(struct pj obj, const char *key);
/* The i-th element of an array. */
struct pj pj_index(struct pj arr, size_t i);
bool pj_number(struct pj v, double *out);
bool pj_bool(struct pj v, bool *out);
/* obj.key is true or a non-zero number. */
bool pj_true(struct pj obj, const char *key);

#endif
