/* tools/serve_pop3.c - `tern serve --pop3 MAILDROP[:PORT]` (see serve_pop3.h). */
#include "serve_pop3.h"

#include <stdio.h>
#include <string.h>

#include "app/pop3.h"
#include "servport.h"
#include "tern/err.h"

const char serve_pop3_help[] =
    "POP3 server options (RFC 1939, docs/pop3.md):\n"
    "  --pop3 MAILDROP[:PORT]  serve a maildir (its cur/ and new/) or an mbox file,\n"
    "                   read-only, on TCP port PORT (default 110): USER, PASS, STAT,\n"
    "                   LIST, RETR, DELE, NOOP, RSET, QUIT, TOP, UIDL\n"
    "  --pop3-user USER:PASS  the account (required with --pop3)\n";

int serve_pop3_opt(struct serve_pop3 *p, int opt, const char *arg)
{
    if (opt == SERVE_POP3_OPT_USER) {
        const char *c = strchr(arg, ':');
        if (!c || c == arg || !c[1] || (size_t)(c - arg) >= sizeof p->user || strlen(c + 1) >= sizeof p->pass) {
            fprintf(stderr, "tern serve: bad --pop3-user '%s' (want USER:PASS)\n", arg);
            return -1;
        }
        memcpy(p->user, arg, (size_t)(c - arg));
        p->user[c - arg] = 0;
        snprintf(p->pass, sizeof p->pass, "%s", c + 1);
        return 1;
    }
    if (opt != SERVE_POP3_OPT_DROP)
        return 0;
    return tool_path_port("--pop3", "maildrop", arg, p->drop, sizeof p->drop, &p->port, 110);
}

int serve_pop3_start(struct serve_pop3 *p, struct tern_env *env)
{
    if (!p->drop[0]) {
        if (p->user[0]) {
            fprintf(stderr, "tern serve: --pop3-user needs --pop3 MAILDROP\n");
            return 2;
        }
        return 0;
    }
    if (!p->user[0]) {
        fprintf(stderr, "tern serve: --pop3 needs --pop3-user USER:PASS\n");
        return 2;
    }
    struct tern_pop3_opts o = {.maildrop = p->drop, .user = p->user, .pass = p->pass, .port = p->port};
    int e;
    p->srv = pop3_start(env->stack, env->loop, &o, &e);
    if (!p->srv) {
        if (e == TERN_E_INVAL) {
            fprintf(stderr, "tern serve: --pop3: '%s' is not a readable maildir or mbox\n", p->drop);
            return 2;
        }
        fprintf(stderr, "tern serve: --pop3: tcp port %u: %s\n", p->port, tern_strerror(e));
        return 1;
    }
    fprintf(stderr, "tern serve: pop3: %s on tcp port %u (read-only)\n", p->drop, p->port);
    return 0;
}

void serve_pop3_stop(struct serve_pop3 *p)
{
    if (p->srv) {
        const struct pop3_stats *s = pop3_stats(p->srv);
        fprintf(stderr, "tern serve: pop3 sessions %llu, logins %llu, failed logins %llu, messages retrieved %llu\n",
                (unsigned long long)s->sessions, (unsigned long long)s->logins,
                (unsigned long long)s->bad_logins, (unsigned long long)s->retrieved);
    }
    pop3_free(p->srv);
    p->srv = NULL;
}
