/* tools/servport.c - the services database for commands (see servport.h). */
#include "servport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackopts.h"
#include "tern/err.h"

static struct tern_servdb *db;
static int loaded;

static void free_db(void)
{
    servdb_free(db);
    db = NULL;
}

const struct tern_servdb *tool_servdb(void)
{
    if (!loaded) {
        loaded = 1;
        int err = 0;
        db = servdb_open(NULL, &err);
        if (!db)
            fprintf(stderr, "tern: warning: /etc/services: %s\n",
                    err == TERN_E_IO ? strerror(errno) : tern_strerror(err));
        else
            atexit(free_db);
    }
    return db;
}

int tool_parse_port(const char *s, uint8_t proto, const char *prog, uint16_t *port)
{
    int r = servdb_parse_port(tool_servdb(), s, proto);
    if (r >= 0) {
        *port = (uint16_t)r;
        return 0;
    }
    if (r == TERN_E_NOTFOUND)
        fprintf(stderr, "%s: unknown service '%s' (not a port number, not in /etc/services)\n",
                prog, s);
    else
        fprintf(stderr, "%s: bad port '%s' (0..65535 or a service name)\n", prog, s);
    return -1;
}

int tool_path_port(const char *opt, const char *what, const char *arg, char *buf, size_t cap,
                   uint16_t *port, uint16_t defport)
{
    size_t len = strlen(arg);
    *port = defport;
    const char *colon = strrchr(arg, ':');
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        unsigned long p;
        if (parse_ulong(colon + 1, 1, 65535, &p) < 0) {
            fprintf(stderr, "tern serve: bad port in %s '%s'\n", opt, arg);
            return -1;
        }
        *port = (uint16_t)p;
        len = (size_t)(colon - arg);
    }
    if (len == 0 || len >= cap) {
        fprintf(stderr, "tern serve: bad %s in %s '%s'\n", what, opt, arg);
        return -1;
    }
    memcpy(buf, arg, len);
    buf[len] = '\0';
    return 1;
}
