/*
 * src/app/pop3.c - the POP3 server (see pop3.h). RFC 1939 section numbers
 * in the comments.
 */
#include "app/pop3.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tern/err.h"
#include "tern/socket.h"
#include "tern/wire/ipv4.h"

#define LINE_MAX_IN 255
#define MSG_MAX (16u << 20)
#define MSGS_MAX 4096
#define OUT_CHUNK 16384

struct msg {
    char *data; /* CRLF line ends */
    size_t len;
    char uid[72];
    bool deleted;
};

enum state { S_AUTH, S_TRANS, S_DONE };

struct sess {
    struct tern_pop3 *srv;
    struct tern_sock *sk;
    struct tern_sockaddr peer;
    enum state st;
    bool user_ok, discarding;
    char line[LINE_MAX_IN + 2];
    size_t line_len;
    struct msg *msgs;
    size_t nmsgs;
    char *out;  /* queued response bytes */
    size_t out_len, out_off, out_cap;
    struct tern_timer timer;
    struct sess *prev, *next;
};

struct tern_pop3 {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_pop3_opts o;
    struct tern_sock *lsk;
    struct sess *sessions;
    unsigned nsess;
    struct pop3_stats st;
    char *drop, *user, *pass; /* copies of the options' strings */
};

/* ---- the maildrop ---- */

static void free_msgs(struct msg *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(m[i].data);
    free(m);
}

/* Appends text with LF (or CRLF) line ends as CRLF; the message ends with
 * CRLF. */
static int add_msg(struct msg **m, size_t *n, const char *p, size_t len, const char *uid)
{
    if (*n >= MSGS_MAX)
        return 0;
    if (len > MSG_MAX)
        len = MSG_MAX;
    size_t lf = 0;
    for (size_t i = 0; i < len; i++)
        lf += p[i] == '\n';
    char *d = malloc(len + lf + 3);
    if (!d)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            d[o++] = '\r';
        d[o++] = p[i];
    }
    if (o < 2 || d[o - 2] != '\r' || d[o - 1] != '\n') {
        d[o++] = '\r';
        d[o++] = '\n';
    }
    struct msg *nm = realloc(*m, (*n + 1) * sizeof **m);
    if (!nm) {
        free(d);
        return -1;
    }
    *m = nm;
    struct msg *x = &nm[(*n)++];
    memset(x, 0, sizeof *x);
    x->data = d;
    x->len = o;
    /* s7 UIDL: 1 to 70 characters in 0x21..0x7E */
    size_t u = 0;
    for (; uid[u] && u < 70; u++)
        x->uid[u] = (uid[u] >= 0x21 && uid[u] <= 0x7e) ? uid[u] : '_';
    x->uid[u] = 0;
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n == cap) {
            if (cap > MSG_MAX * 4u)
                break;
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        if (k == 0)
            break;
        n += k;
    }
    fclose(f);
    *len = n;
    return b;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t fnv(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

/* Loads the maildrop; -1 if it cannot be read. */
static int load(const char *path, struct msg **m, size_t *n)
{
    *m = NULL;
    *n = 0;
    struct stat sb;
    if (stat(path, &sb) < 0)
        return -1;
    if (S_ISREG(sb.st_mode)) { /* mbox */
        size_t len;
        char *b = read_file(path, &len);
        if (!b)
            return -1;
        size_t i = 0;
        while (i < len) {
            /* a message starts after a "From " line */
            size_t eol = i;
            while (eol < len && b[eol] != '\n')
                eol++;
            if (strncmp(b + i, "From ", 5) != 0) {
                i = eol + 1;
                continue;
            }
            size_t start = eol + 1, end = start;
            while (end < len && !(strncmp(b + end, "From ", 5) == 0 && b[end - 1] == '\n')) {
                while (end < len && b[end] != '\n')
                    end++;
                end++;
            }
            if (end > len)
                end = len;
            /* RFC 4155: the empty line before the next "From " line is
             * the separator's, not the message's */
            size_t mend = end;
            if (mend - start >= 2 && b[mend - 1] == '\n' && b[mend - 2] == '\n')
                mend--;
            char uid[24];
            snprintf(uid, sizeof uid, "%016llx", (unsigned long long)fnv(b + start, mend - start));
            if (add_msg(m, n, b + start, mend - start, uid) < 0)
                break;
            i = end;
        }
        free(b);
        return 0;
    }
    if (!S_ISDIR(sb.st_mode))
        return -1;
    const char *subs[] = {"cur", "new"};
    int found = 0;
    for (int s = 0; s < 2; s++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", path, subs[s]);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        found++;
        char **names = NULL;
        size_t nn = 0;
        struct dirent *e;
        while ((e = readdir(d)) && nn < MSGS_MAX) {
            if (e->d_name[0] == '.')
                continue;
            char **x = realloc(names, (nn + 1) * sizeof *names);
            if (!x)
                break;
            names = x;
            if (!(names[nn] = strdup(e->d_name)))
                break;
            nn++;
        }
        closedir(d);
        if (nn) /* an empty cur/ or new/: names is NULL */
            qsort(names, nn, sizeof *names, cmp_str);
        for (size_t i = 0; i < nn; i++) {
            char fp[8192];
            snprintf(fp, sizeof fp, "%s/%s", dir, names[i]);
            size_t len;
            char *b = names[i] ? read_file(fp, &len) : NULL;
            if (b) {
                char uid[72];
                snprintf(uid, sizeof uid, "%s", names[i]);
                char *colon = strchr(uid, ':'); /* maildir info suffix */
                if (colon)
                    *colon = 0;
                add_msg(m, n, b, len, uid);
                free(b);
            }
            free(names[i]);
        }
        free(names);
    }
    return found ? 0 : -1;
}

/* ---- sessions ---- */

static void out_add(struct sess *s, const char *p, size_t n)
{
    if (s->out_len + n > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : 1024;
        while (cap < s->out_len + n)
            cap *= 2;
        char *x = realloc(s->out, cap);
        if (!x)
            return;
        s->out = x;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, p, n);
    s->out_len += n;
}

__attribute__((format(printf, 2, 3))) static void reply(struct sess *s, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof buf - 3)
        n = (int)sizeof buf - 3;
    buf[n++] = '\r';
    buf[n++] = '\n';
    out_add(s, buf, (size_t)n);
}

/* A message's lines, byte-stuffed (s3: a line starting with "." gets
 * another), then the terminating ".". body_lines < 0: all of it (RETR);
 * otherwise the headers, the blank line and that many body lines (TOP). */
static void send_msg(struct sess *s, const struct msg *m, long body_lines)
{
    const char *p = m->data, *end = m->data + m->len;
    bool in_body = false;
    long left = body_lines;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl + 1 : end;
        if (in_body && body_lines >= 0) {
            if (left <= 0)
                break;
            left--;
        }
        if (*p == '.')
            out_add(s, ".", 1);
        out_add(s, p, (size_t)(le - p));
        if (!in_body && le - p == 2 && p[0] == '\r')
            in_body = true;
        p = le;
    }
    out_add(s, ".\r\n", 3);
}

static void sess_free(struct sess *s, bool abort)
{
    struct tern_pop3 *srv = s->srv;
    tern_timer_cancel(srv->loop, &s->timer);
    if (s->sk) {
        if (abort)
            tern_sock_abort(s->sk);
        else
            tern_sock_close(s->sk);
    }
    if (s->prev)
        s->prev->next = s->next;
    else
        srv->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    srv->nsess--;
    free_msgs(s->msgs, s->nmsgs);
    free(s->out);
    free(s);
}

/* Flushes queued output; false if s was freed. */
static bool flush(struct sess *s)
{
    while (s->out_off < s->out_len) {
        ssize_t n = tern_sock_send(s->sk, s->out + s->out_off, s->out_len - s->out_off, 0);
        if (n == TERN_E_AGAIN)
            return true;
        if (n < 0) {
            sess_free(s, true);
            return false;
        }
        s->out_off += (size_t)n;
    }
    s->out_off = s->out_len = 0;
    if (s->st == S_DONE) {
        sess_free(s, false); /* after +OK to QUIT, the connection closes (s6) */
        return false;
    }
    return true;
}

/* "msg" argument: a message number that exists and is not deleted. */
static struct msg *msg_arg(struct sess *s, const char *arg, unsigned long *num)
{
    char *e;
    if (!arg || !isdigit((unsigned char)*arg)) {
        reply(s, "-ERR a message number is needed");
        return NULL;
    }
    unsigned long k = strtoul(arg, &e, 10);
    if ((*e && *e != ' ') || k == 0 || k > s->nmsgs) {
        reply(s, "-ERR no such message");
        return NULL;
    }
    if (s->msgs[k - 1].deleted) {
        reply(s, "-ERR message %lu already deleted", k);
        return NULL;
    }
    *num = k;
    return &s->msgs[k - 1];
}

static void drop_stat(const struct sess *s, size_t *n, size_t *octets)
{
    *n = *octets = 0;
    for (size_t i = 0; i < s->nmsgs; i++)
        if (!s->msgs[i].deleted) {
            (*n)++;
            *octets += s->msgs[i].len;
        }
}

static void command(struct sess *s, char *line)
{
    struct tern_pop3 *srv = s->srv;
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = 0;
    const char *k = line;
    size_t n, oct;
    unsigned long num;
    struct msg *m;
    if (s->st == S_AUTH) {
        /* s4: the AUTHORIZATION state */
        if (!strcasecmp(k, "USER")) {
            s->user_ok = arg && !strcmp(arg, srv->o.user);
            /* s7 allows -ERR for an unknown name; +OK for any name tells an
             * attacker less, and PASS fails either way. */
            reply(s, "+OK send PASS");
        } else if (!strcasecmp(k, "PASS")) {
            bool ok = s->user_ok && arg && !strcmp(arg, srv->o.pass);
            s->user_ok = false;
            if (!ok) {
                srv->st.bad_logins++;
                reply(s, "-ERR invalid user name or password");
                return;
            }
            if (load(srv->o.maildrop, &s->msgs, &s->nmsgs) < 0) {
                reply(s, "-ERR unable to read the maildrop");
                return;
            }
            srv->st.logins++;
            s->st = S_TRANS;
            drop_stat(s, &n, &oct);
            reply(s, "+OK maildrop has %zu message%s (%zu octets)", n, n == 1 ? "" : "s", oct);
        } else if (!strcasecmp(k, "QUIT")) {
            reply(s, "+OK tern POP3 server signing off");
            s->st = S_DONE;
        } else if (!strcasecmp(k, "APOP")) {
            reply(s, "-ERR APOP is not supported");
        } else {
            reply(s, "-ERR unknown command or not allowed before login");
        }
        return;
    }
    /* s5: the TRANSACTION state */
    if (!strcasecmp(k, "STAT")) {
        drop_stat(s, &n, &oct);
        reply(s, "+OK %zu %zu", n, oct);
    } else if (!strcasecmp(k, "LIST") || !strcasecmp(k, "UIDL")) {
        bool uidl = !strcasecmp(k, "UIDL");
        if (arg) {
            if ((m = msg_arg(s, arg, &num)) != NULL) {
                if (uidl)
                    reply(s, "+OK %lu %s", num, m->uid);
                else
                    reply(s, "+OK %lu %zu", num, m->len);
            }
            return;
        }
        drop_stat(s, &n, &oct);
        if (uidl)
            reply(s, "+OK");
        else
            reply(s, "+OK %zu message%s (%zu octets)", n, n == 1 ? "" : "s", oct);
        for (size_t i = 0; i < s->nmsgs; i++)
            if (!s->msgs[i].deleted) {
                if (uidl)
                    reply(s, "%zu %s", i + 1, s->msgs[i].uid);
                else
                    reply(s, "%zu %zu", i + 1, s->msgs[i].len);
            }
        reply(s, ".");
    } else if (!strcasecmp(k, "RETR")) {
        if ((m = msg_arg(s, arg, &num)) != NULL) {
            srv->st.retrieved++;
            reply(s, "+OK %zu octets", m->len);
            send_msg(s, m, -1);
        }
    } else if (!strcasecmp(k, "TOP")) {
        /* s7: TOP msg n, n non-negative */
        char *sp = arg ? strchr(arg, ' ') : NULL;
        if (!sp || !isdigit((unsigned char)sp[1])) {
            reply(s, "-ERR usage: TOP msg n");
            return;
        }
        long lines = strtol(sp + 1, NULL, 10);
        if ((m = msg_arg(s, arg, &num)) != NULL) {
            reply(s, "+OK top of message follows");
            send_msg(s, m, lines);
        }
    } else if (!strcasecmp(k, "DELE")) {
        if ((m = msg_arg(s, arg, &num)) != NULL) {
            m->deleted = true;
            reply(s, "+OK message %lu deleted", num);
        }
    } else if (!strcasecmp(k, "NOOP")) {
        reply(s, "+OK");
    } else if (!strcasecmp(k, "RSET")) {
        for (size_t i = 0; i < s->nmsgs; i++)
            s->msgs[i].deleted = false;
        drop_stat(s, &n, &oct);
        reply(s, "+OK maildrop has %zu message%s (%zu octets)", n, n == 1 ? "" : "s", oct);
    } else if (!strcasecmp(k, "QUIT")) {
        /* s6: the UPDATE state. The maildrop is read-only here. */
        size_t marked = 0;
        for (size_t i = 0; i < s->nmsgs; i++)
            marked += s->msgs[i].deleted;
        drop_stat(s, &n, &oct);
        if (marked)
            reply(s, "+OK tern POP3 server signing off (%zu message%s left; read-only maildrop: %zu "
                     "deletion%s not kept)", n, n == 1 ? "" : "s", marked, marked == 1 ? "" : "s");
        else
            reply(s, "+OK tern POP3 server signing off (%zu message%s left)", n, n == 1 ? "" : "s");
        s->st = S_DONE;
    } else if (!strcasecmp(k, "USER") || !strcasecmp(k, "PASS") || !strcasecmp(k, "APOP")) {
        reply(s, "-ERR already logged in");
    } else {
        reply(s, "-ERR unknown command");
    }
}

static void on_timer(struct tern_timer *t, void *arg)
{
    (void)t;
    struct sess *s = arg;
    /* s3: the autologout timer: close without entering UPDATE */
    sess_free(s, false);
}

static void on_sess(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)sk;
    struct sess *s = ctx;
    if (events & TERN_POLLOUT) {
        if (!flush(s))
            return;
    }
    uint8_t buf[2048];
    while (s->st != S_DONE && s->out_len < 4 * OUT_CHUNK) {
        ssize_t n = tern_sock_recv(s->sk, buf, sizeof buf, 0);
        if (n == TERN_E_AGAIN)
            break;
        if (n <= 0) { /* the client went away: no UPDATE (s6) */
            sess_free(s, n < 0);
            return;
        }
        tern_timer_arm(s->srv->loop, &s->timer, tern_loop_now(s->srv->loop) + s->srv->o.idle_timeout_us);
        for (ssize_t i = 0; i < n && s->st != S_DONE; i++) {
            char c = (char)buf[i];
            if (c == '\n') {
                if (s->discarding) {
                    reply(s, "-ERR line too long");
                    s->discarding = false;
                } else {
                    if (s->line_len && s->line[s->line_len - 1] == '\r')
                        s->line_len--;
                    s->line[s->line_len] = 0;
                    if (s->line_len)
                        command(s, s->line);
                    else
                        reply(s, "-ERR empty command");
                }
                s->line_len = 0;
            } else if (!s->discarding) {
                if (s->line_len >= LINE_MAX_IN)
                    s->discarding = true;
                else
                    s->line[s->line_len++] = c;
            }
        }
    }
    if (!flush(s))
        return;
    if (events & TERN_POLLERR) {
        int e = tern_sock_error(s->sk);
        if (e < 0)
            sess_free(s, true);
    }
}

static void on_listen(struct tern_sock *lsk, unsigned events, void *ctx)
{
    (void)events;
    struct tern_pop3 *srv = ctx;
    for (;;) {
        struct tern_sockaddr peer;
        int err;
        struct tern_sock *sk = tern_sock_accept(lsk, &peer, &err);
        if (!sk)
            return;
        struct sess *s = srv->nsess < srv->o.max_conns ? calloc(1, sizeof *s) : NULL;
        if (!s) {
            tern_sock_abort(sk);
            continue;
        }
        s->srv = srv;
        s->sk = sk;
        s->peer = peer;
        s->next = srv->sessions;
        if (s->next)
            s->next->prev = s;
        srv->sessions = s;
        srv->nsess++;
        srv->st.sessions++;
        tern_timer_init(&s->timer, on_timer, s);
        tern_timer_arm(srv->loop, &s->timer, tern_loop_now(srv->loop) + srv->o.idle_timeout_us);
        tern_sock_set_handler(sk, TERN_POLLIN | TERN_POLLOUT, on_sess, s);
        /* s4: the greeting */
        reply(s, "+OK tern POP3 server ready");
        flush(s);
    }
}

static void free_strings(struct tern_pop3 *p)
{
    free(p->drop);
    free(p->user);
    free(p->pass);
}

struct tern_pop3 *pop3_start(struct tern_stack *st, struct tern_loop *loop,
                                  const struct tern_pop3_opts *o, int *err)
{
    *err = TERN_E_INVAL;
    if (!o->maildrop || !o->user || !o->pass)
        return NULL;
    struct msg *m;
    size_t n;
    if (load(o->maildrop, &m, &n) < 0)
        return NULL;
    free_msgs(m, n);
    struct tern_pop3 *p = calloc(1, sizeof *p);
    if (!p) {
        *err = TERN_E_NOMEM;
        return NULL;
    }
    p->stack = st;
    p->loop = loop;
    p->o = *o;
    p->o.maildrop = p->drop = strdup(o->maildrop);
    p->o.user = p->user = strdup(o->user);
    p->o.pass = p->pass = strdup(o->pass);
    if (!p->drop || !p->user || !p->pass) {
        free_strings(p);
        free(p);
        *err = TERN_E_NOMEM;
        return NULL;
    }
    if (!p->o.port)
        p->o.port = 110;
    if (!p->o.max_conns)
        p->o.max_conns = 32;
    if (!p->o.idle_timeout_us)
        p->o.idle_timeout_us = 600000000ull;
    p->lsk = tern_sock_open(st, TERN_SOCK_STREAM, err);
    if (!p->lsk) {
        free_strings(p);
        free(p);
        return NULL;
    }
    tern_sock_setopt(p->lsk, TERN_SO_REUSEADDR, 1);
    tern_sock_setopt(p->lsk, TERN_SO_PRIVILEGED, 1);
    struct tern_sockaddr a = {o->addr, p->o.port};
    int r = tern_sock_bind(p->lsk, &a);
    if (!r)
        r = tern_sock_listen(p->lsk, 16);
    if (r < 0) {
        *err = r;
        tern_sock_abort(p->lsk);
        free_strings(p);
        free(p);
        return NULL;
    }
    tern_sock_set_handler(p->lsk, TERN_POLLIN, on_listen, p);
    return p;
}

const struct pop3_stats *pop3_stats(const struct tern_pop3 *p) { return &p->st; }

void pop3_free(struct tern_pop3 *p)
{
    if (!p)
        return;
    while (p->sessions)
        sess_free(p->sessions, true);
    tern_sock_abort(p->lsk);
    free_strings(p);
    free(p);
}
