/*
 * src/app/hosts.h - names from a hosts file (/etc/hosts, hosts(5)): one
 * line per address, "ADDRESS NAME [ALIAS...]", '#' to the end of a line
 * is a comment; names compare without regard to case (RFC 4343). Only
 * IPv4 addresses are taken. The first line naming the host wins, as
 * glibc's files backend answers.
 */
#ifndef TERN_APP_HOSTS_H
#define TERN_APP_HOSTS_H

#include <stdint.h>
#include <stdio.h>

/* 0 and *addr (host order) if f names `name`, -1 if not. */
int hosts_lookup(FILE *f, const char *name, uint32_t *addr);
/* The same for the file at path; -1 also when it cannot be read. */
int hosts_lookup_path(const char *path, const char *name, uint32_t *addr);

#endif
