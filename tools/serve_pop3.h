/*
 * tools/serve_pop3.h - the POP3 part of `tern serve` (src/app/pop3.h):
 *   --pop3 MAILDROP[:PORT]   serve a maildir or mbox read-only (default port 110)
 *   --pop3-user USER:PASS    the account (required with --pop3)
 */
#ifndef TERN_TOOLS_SERVE_POP3_H
#define TERN_TOOLS_SERVE_POP3_H

#include <stdint.h>

#include "stackopts.h"

#define SERVE_POP3_OPT_DROP 1300
#define SERVE_POP3_OPT_USER 1301
#define SERVE_POP3_COUNT 2

struct tern_pop3;

struct serve_pop3 {
    char drop[4096]; /* "" = no POP3 server */
    uint16_t port;
    char user[256], pass[256];
    struct tern_pop3 *srv;
};

extern const char serve_pop3_help[];
/* 1: ours (stored), 0: not ours, -1: bad value (message printed). */
int serve_pop3_opt(struct serve_pop3 *p, int opt, const char *arg);
/* 0, or one line printed and 2 (bad setup) or 1 (e.g. port in use). */
int serve_pop3_start(struct serve_pop3 *p, struct tern_env *env);
void serve_pop3_stop(struct serve_pop3 *p);

#endif
