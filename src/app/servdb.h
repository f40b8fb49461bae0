/*
 * src/app/servdb.h - the services database: names <-> ports, as in
 * /etc/services (services(5)).
 *
 * Format, one entry a line: "name port/proto [alias ...] [# comment]".
 * Reading is bounded: lines longer than TERN_SERVDB_MAX_LINE, names longer
 * than TERN_SERVDB_MAX_NAME, more than TERN_SERVDB_MAX_ALIASES aliases and
 * more than TERN_SERVDB_MAX_ENTRIES entries are never stored; a malformed
 * line is skipped and counted (so a hostile or broken file costs at most
 * the caps, and one bad line does not hide the rest).
 * When the file is missing, a built-in table of the classic services (and
 * the ones tern serves) stands in.
 * Not a resolver: no NIS, no nsswitch, no getservbyname(3) call.
 * Thread safety: a database is read-only after it is built; lookups from
 * several threads are safe.
 */
#ifndef TERN_APP_SERVDB_H
#define TERN_APP_SERVDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TERN_SERVDB_MAX_LINE 1024     /* bytes in one line, newline included */
#define TERN_SERVDB_MAX_NAME 63       /* bytes in a name or alias */
#define TERN_SERVDB_MAX_ALIASES 8     /* aliases kept per entry (more: line skipped) */
#define TERN_SERVDB_MAX_ENTRIES 8192  /* entries kept; later lines are counted, not stored */

/* Protocols an entry may name (IP protocol numbers). */
#define TERN_SERVDB_TCP 6
#define TERN_SERVDB_UDP 17
#define TERN_SERVDB_SCTP 132
#define TERN_SERVDB_DDP 255 /* AppleTalk; no IP number, kept so lookups can skip it */

struct tern_servdb;

struct servdb_stats {
    size_t entries;   /* stored */
    size_t malformed; /* lines skipped: no port/proto, bad number, overlong, ... */
    size_t dropped;   /* well-formed lines beyond TERN_SERVDB_MAX_ENTRIES */
    bool builtin;     /* the built-in table (the file was missing) */
};

/* Reads path (NULL = "/etc/services"). A missing file (ENOENT) gives the
 * built-in table; another error (EACCES, EISDIR, ...) gives NULL and
 * *err = TERN_E_IO (errno kept). NULL with TERN_E_NOMEM on no memory. */
struct tern_servdb *servdb_open(const char *path, int *err);
/* Reads an open stream (not closed). NULL with *err = TERN_E_NOMEM or
 * TERN_E_IO (a read error). */
struct tern_servdb *servdb_read(FILE *f, int *err);
/* The built-in table alone. */
struct tern_servdb *servdb_builtin(void);
void servdb_free(struct tern_servdb *db);
void servdb_stats(const struct tern_servdb *db, struct servdb_stats *out);

/* Protocol name -> number ("tcp", "udp", "sctp", "ddp"); 0 if unknown. */
uint8_t servdb_proto(const char *name);

/* The port of service `name` (an entry's name or one of its aliases) over
 * proto (0 = any IP protocol, not ddp: the first entry in file order), or
 * TERN_E_NOTFOUND. Names compare exactly (case-sensitive, as glibc does). */
int servdb_port(const struct tern_servdb *db, const char *name, uint8_t proto);
/* The official name of port/proto (0 = any IP protocol; the first entry
 * in file order), or NULL.
 * The string lives as long as db. */
const char *servdb_name(const struct tern_servdb *db, uint16_t port, uint8_t proto);

/* What commands use wherever they accept a port: "53" (decimal 0..65535)
 * or a service name ("domain"). A name is looked up for proto first, then
 * for any protocol: DEVIATION from getservbyname(3), which fails for
 * "qotd"/udp on Debian (netbase lists qotd only for tcp); the classic
 * services use the same number over both. Returns the port (>= 0) or
 * TERN_E_INVAL (empty, a number out of range, "12x") / TERN_E_NOTFOUND. */
int servdb_parse_port(const struct tern_servdb *db, const char *s, uint8_t proto);

#endif
