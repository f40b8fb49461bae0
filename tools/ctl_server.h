/*
 * tools/ctl_server.h - the control socket of `tern serve --control PATH`
 * (and of `tern run`'s private stack): attached processes open, use and
 * close sockets on this stack through it (src/ctl/ctl.h, docs/run.md).
 */
#ifndef TERN_TOOLS_CTL_SERVER_H
#define TERN_TOOLS_CTL_SERVER_H

#include "stackopts.h"

struct ctl_server;

/* Listens on the Unix socket path (an existing socket file there is
 * replaced) on env's loop. NULL with one line printed on failure. */
struct ctl_server *ctl_server_open(struct tern_env *env, const char *path, const char *prog);
/* The DNS servers the attached programs' name lookups go to (getaddrinfo
 * in the shim); without them (and without a DHCP lease's) lookups are
 * refused and the shim falls back to libc. */
struct tern_resolve_opts;
void ctl_server_set_resolver(struct ctl_server *sv, const struct tern_resolve_opts *ro);
/* The sockets still open (a socket a program closed stays until its
 * queued data is in the stack). */
unsigned ctl_server_sockets(const struct ctl_server *sv);
/* Closes every client and socket (reset) and removes the socket file. */
void ctl_server_close(struct ctl_server *sv);

#endif
