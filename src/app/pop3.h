/*
 * src/app/pop3.h - a small POP3 server (RFC 1939) over tern's TCP, written
 * once as an event-driven app: TAP/TUN with the real loop, virtual time in
 * tests and scenarios. `tern serve --pop3 MAILDIR[:PORT] --pop3-user U:P`.
 *
 * The maildrop is read-only: a maildir (the files of MAILDIR/cur and
 * MAILDIR/new, in name order) or an mbox file ("From " lines separate the
 * messages, RFC 4155), read afresh when a session enters the TRANSACTION
 * state. Line ends become CRLF, and sizes count them (RFC 1939 s5, LIST:
 * "the exact size"). DELE marks a message for the session; QUIT's UPDATE
 * state removes nothing on disk and says so.
 * Commands: USER, PASS, QUIT (AUTHORIZATION); STAT, LIST, RETR, DELE,
 * NOOP, RSET, QUIT, and the optional TOP, UIDL (TRANSACTION). APOP is
 * answered -ERR. Keywords are case-insensitive (s3); a command line longer
 * than 255 octets is refused; the autologout timer is 10 minutes (s3, "at
 * least 10 minutes"). Messages larger than 16 MiB and maildrops of more
 * than 4096 messages are cut at those bounds.
 */
#ifndef TERN_APP_POP3_H
#define TERN_APP_POP3_H

#include <stdint.h>
#include <stdio.h>

#include "tern/loop.h"
#include "tern/stack.h"

struct tern_pop3_opts {
    const char *maildrop;  /* maildir directory or mbox file */
    const char *user, *pass; /* the one account */
    uint32_t addr;         /* 0 = any */
    uint16_t port;         /* 0 = 110 */
    unsigned max_conns;    /* 0 = 32 */
    uint64_t idle_timeout_us; /* 0 = 600 s */
    FILE *log;             /* one line per session end; NULL = none */
};

struct pop3_stats {
    uint64_t sessions, logins, bad_logins, retrieved;
};

struct tern_pop3;

/* NULL with *err: TERN_E_INVAL (no maildrop readable, no account), a bind error. */
struct tern_pop3 *pop3_start(struct tern_stack *s, struct tern_loop *loop,
                                  const struct tern_pop3_opts *o, int *err);
const struct pop3_stats *pop3_stats(const struct tern_pop3 *p);
void pop3_free(struct tern_pop3 *p);

#endif
