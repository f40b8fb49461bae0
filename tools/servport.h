/*
 * tools/servport.h - the services database for `tern` commands: every
 * command that takes a port also takes a service name ("53" or "domain").
 * /etc/services is read once, on first use (the built-in table if it is
 * missing), and freed at exit.
 */
#ifndef TERN_TOOLS_SERVPORT_H
#define TERN_TOOLS_SERVPORT_H

#include <stddef.h>
#include <stdint.h>

#include "app/servdb.h"

/* The database, or NULL if /etc/services exists but cannot be read (a
 * warning is printed once; numeric ports still work). */
const struct tern_servdb *tool_servdb(void);

/* "53" / "domain" -> *port for proto (TERN_SERVDB_UDP, ...). On failure
 * prints "PROG: unknown service 'x'" or "PROG: bad port 'x'" and returns -1. */
int tool_parse_port(const char *s, uint8_t proto, const char *prog, uint16_t *port);

/* "PATH[:PORT]" (`tern serve --http DIR:8080`, --https, --pop3): PATH into
 * buf (cap bytes with its NUL), the port or defport into *port. A trailing
 * ":DIGITS" is the port; any other colon belongs to PATH. On failure prints
 * "tern serve: bad port in OPT 'arg'" or "bad WHAT in OPT 'arg'" and
 * returns -1; 1 on success. */
int tool_path_port(const char *opt, const char *what, const char *arg, char *buf, size_t cap,
                   uint16_t *port, uint16_t defport);

#endif
