/* src/sim/scenario_priv.h - shared between the scenario parser's files. */
#ifndef TERN_SIM_SCENARIO_PRIV_H
#define TERN_SIM_SCENARIO_PRIV_H

#include <stdarg.h>

#include "sim/scenario.h"

#define SCN_MAX_WORDS 48

struct scn_parser {
    struct scenario *sc;
    int line;
    char *err;
    size_t errcap;
    int cur_node;             /* node whose properties follow, -1 = none */
    char buf[SCN_MAX_LINE + 1];
    char *w[SCN_MAX_WORDS];
    int nw;
};

/* Formats "FILE:LINE: what" into the error buffer; returns -1. */
int scn_fail(struct scn_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Copies a word into a fixed field; -1 (with an error) if too long. */
int scn_copy(struct scn_parser *p, char *dst, size_t cap, const char *src, const char *what);
int scn_addr(struct scn_parser *p, const char *s, uint32_t *a, const char *what);
int scn_prefix(struct scn_parser *p, const char *s, uint32_t *a, uint8_t *len, const char *what);
int scn_uint(struct scn_parser *p, const char *s, unsigned long lo, unsigned long hi,
             unsigned long *v, const char *what);
bool scn_is_name(const char *s);

/* A node's property line (scenario_node.c). */
int scn_parse_property(struct scn_parser *p);
/* Timeline lines ("at TIME ..."), scenario_act.c. */
int scn_parse_at(struct scn_parser *p);
int scn_check_actions(struct scn_parser *p);

#endif
