/*
 * tests/conformance/conf.c - the scripted TCP conformance runner (see
 * conf.h and tests/conformance/README.md for the script format).
 *
 * A script is parsed whole first (a parse error fails it with FILE:LINE),
 * then run on the state world: one tern stack on a virtual loop whose
 * capture device records the loop's time of every frame. Before each line
 * the runner runs the loop to the line's time; an outbound expectation
 * steps the loop timer by timer until tern sends something or the line's
 * latest time passes, so the matched segment's send time is exact and the
 * next line's `+S` counts from it. Every frame tern sends must be matched by
 * the next `>` line. Test code: allocates and prints freely.
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tcp_impl.h"
#include "core/world.h"
#include "tern/socket.h"
#include "tern/wire/arp.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/eth.h"
#include "tern/wire/icmp.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/tcp.h"

/* The fixed initial sequence numbers the relative numbers count from. */
#define CONF_ISS 0x10000000u  /* tern's (forced with tcp_test_force_iss) */
#define CONF_ISN 0x20000000u  /* the scripted peer's */
#define CONF_TPORT 80
#define CONF_PPORT 40000
#define MAXOPT 12
#define MAXRES 4
#define TRANSCRIPT 24

/* ---- the parsed script ---- */

struct cnum {
    bool any, abs;
    uint32_t v;
};

struct copt {
    uint8_t kind;         /* TERN_TCPOPT_*; NOP and EOL are dropped at parse */
    struct cnum a, b;     /* mss/wscale: a; TS: val a, ecr b */
    bool ecr_ts;          /* inbound `ecr %ts`: tern's latest TSval */
    bool sack_any;
    int nsack;
    struct cnum sl[4], sr[4];
};

struct cseg {
    uint16_t flags;
    bool seq_any;
    struct cnum seq;
    uint32_t len;
    bool has_ack;
    struct cnum ack;
    bool has_win;
    struct cnum win;
    bool has_urg;
    uint32_t urg;
    int opts_mode;        /* 0: none, 1: `<*>` any, 2: the list */
    int nopt;
    struct copt opt[MAXOPT];
};

enum ev_kind { EV_IN, EV_OUT, EV_QUIET, EV_ICMP, EV_CALL };
enum call {
    C_LISTEN, C_CONNECT, C_ACCEPT, C_WRITE, C_READ, C_SHUTDOWN, C_CLOSE, C_ABORT,
    C_SETSOCKOPT, C_STATE, C_ERROR, C_EVENTS
};

struct ctime {
    bool rel;
    int64_t us;
};

struct cres {
    bool err_name;  /* v is a tern_err (or 0 for `ok`) */
    long v;
};

struct event {
    int line;
    char *text;           /* the line as written */
    const char *body;     /* text after the time */
    enum ev_kind kind;
    struct ctime t1, t2;
    bool range;
    bool optional;        /* `>?`: the segment may or may not be sent */
    struct cseg seg;
    /* ICMP */
    uint8_t itype, icode;
    uint32_t mtu;
    bool iseq_given;
    uint32_t iseq;
    /* socket call */
    enum call call;
    long arg, arg2;
    int nres;
    struct cres res[MAXRES];
};

struct script {
    const char *path;
    int nrfc;
    bool xfail;
    char xfail_why[200];
    uint16_t mtu, mss;
    bool nodelay;
    long rcvbuf, sndbuf;
    uint16_t pport;
    struct event *ev;
    int nev, cap;
};

/* ---- the run ---- */

struct run {
    const struct script *sc;
    FILE *out;
    bool verbose;
    struct world *w;
    struct tern_sock *lsk, *sk, *pre;
    struct tern_sock *held[16];   /* every handle the app still holds */
    int nheld;
    uint16_t tport;
    uint64_t t0, last;
    uint32_t last_tsval;
    bool have_tsval;
    uint32_t last_seq;           /* of tern's latest TCP segment */
    /* The IP total length of tern's latest segments, by sequence number, so
     * an ICMP error quotes the datagram that was sent (RFC 1191 s5: a host
     * without a next-hop MTU estimates from the quoted length). */
    struct {
        uint32_t seq;
        uint16_t len;
    } sent[64];
    unsigned nsent;
    uint32_t iss;                /* relative 0 of tern's numbers: its latest SYN's seq */
    uint64_t woff, roff;
    bool failed;
    int fail_line;
    char tr[TRANSCRIPT][240];
    int ntr;
};

static const char *const state_rfc[] = {
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"};

static const struct {
    const char *name;
    int err;
} errs[] = {
    {"ok", 0}, {"EAGAIN", TERN_E_AGAIN}, {"ECONNRESET", TERN_E_CONNRESET},
    {"ETIMEDOUT", TERN_E_TIMEDOUT}, {"ECONNREFUSED", TERN_E_CONNREFUSED},
    {"EPIPE", TERN_E_PIPE}, {"ENOTCONN", TERN_E_NOTCONN}, {"EINPROGRESS", TERN_E_INPROGRESS},
    {"EALREADY", TERN_E_ALREADY}, {"EISCONN", TERN_E_ISCONN}, {"EINVAL", TERN_E_INVAL},
    {"EHOSTUNREACH", TERN_E_HOSTUNREACH}, {"ENETUNREACH", TERN_E_NETUNREACH},
    {"EADDRINUSE", TERN_E_ADDRINUSE}, {"EOPNOTSUPP", TERN_E_OPNOTSUPP},
    {"ENOMEM", TERN_E_NOMEM}, {"EMSGSIZE", TERN_E_MSGSIZE}, {"EACCES", TERN_E_ACCES},
};

static const char *err_name(long v)
{
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        if (errs[i].err == v)
            return errs[i].name;
    return NULL;
}

/* Payload bytes: inbound data is a function of the absolute sequence
 * number, outbound of the app's stream offset. */
static uint8_t in_pat(uint32_t seq) { return (uint8_t)((seq * 0x9E3779B1u) >> 24); }
static uint8_t out_pat(uint64_t off) { return (uint8_t)(((uint32_t)off * 0x85EBCA6Bu) >> 24) ^ 0x5a; }

/* ---- parsing ---- */

static int perr(const struct script *sc, int line, FILE *out, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int perr(const struct script *sc, int line, FILE *out, const char *fmt, ...)
{
    va_list ap;
    fprintf(out, "# %s:%d: parse error: ", sc->path, line);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    return -1;
}

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* A word: letters, digits, _ - % . */
static int word(const char **p, char *buf, size_t cap)
{
    skip_ws(p);
    size_t n = 0;
    while (**p && (isalnum((unsigned char)**p) || strchr("_-%.", **p))) {
        if (n + 1 < cap)
            buf[n++] = **p;
        (*p)++;
    }
    buf[n] = 0;
    return (int)n;
}

static bool lit(const char **p, const char *s)
{
    skip_ws(p);
    size_t n = strlen(s);
    if (strncmp(*p, s, n) != 0)
        return false;
    /* a keyword must end there */
    if (isalnum((unsigned char)s[n - 1]) && isalnum((unsigned char)(*p)[n]))
        return false;
    *p += n;
    return true;
}

/* A number: `*` (any, if allowed), `@N` absolute, or a (signed) decimal. */
static bool num(const char **p, struct cnum *n, bool any_ok)
{
    skip_ws(p);
    memset(n, 0, sizeof *n);
    if (**p == '*') {
        if (!any_ok)
            return false;
        n->any = true;
        (*p)++;
        return true;
    }
    if (**p == '@') {
        n->abs = true;
        (*p)++;
    }
    if (!isdigit((unsigned char)**p) && **p != '-')
        return false;
    char *e;
    errno = 0;
    long long v = strtoll(*p, &e, 10);
    if (e == *p || errno)
        return false;
    n->v = (uint32_t)v;
    *p = e;
    return true;
}

static bool plain(const char **p, long *v)
{
    struct cnum n;
    if (!num(p, &n, false) || n.abs)
        return false;
    *v = (long)(int32_t)n.v;
    return true;
}

/* Seconds with up to 6 decimals -> microseconds. */
static bool seconds(const char **p, int64_t *us)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return false;
    int64_t v = 0;
    while (isdigit((unsigned char)*s))
        v = v * 10 + (*s++ - '0');
    v *= 1000000;
    if (*s == '.' && isdigit((unsigned char)s[1])) {
        s++;
        int64_t scale = 100000;
        while (isdigit((unsigned char)*s)) {
            if (scale == 0)
                return false; /* finer than a microsecond */
            v += (*s++ - '0') * scale;
            scale /= 10;
        }
    }
    *us = v;
    *p = s;
    return true;
}

static bool time_point(const char **p, struct ctime *t)
{
    t->rel = false;
    if (**p == '+') {
        t->rel = true;
        (*p)++;
    }
    return seconds(p, &t->us);
}

static bool parse_time(const char **p, struct event *ev)
{
    skip_ws(p);
    if (!time_point(p, &ev->t1))
        return false;
    ev->t2 = ev->t1;
    if ((*p)[0] == '.' && (*p)[1] == '.') {
        *p += 2;
        if (!time_point(p, &ev->t2))
            return false;
        ev->range = true;
    }
    return **p == ' ' || **p == '\t';
}

static bool parse_flags(const char **p, uint16_t *flags)
{
    skip_ws(p);
    *flags = 0;
    const char *s = *p;
    while (*s && *s != ' ' && *s != '\t') {
        switch (*s) {
        case 'S': *flags |= TERN_TCP_SYN; break;
        case 'F': *flags |= TERN_TCP_FIN; break;
        case 'R': *flags |= TERN_TCP_RST; break;
        case 'P': *flags |= TERN_TCP_PSH; break;
        case 'E': *flags |= TERN_TCP_ECE; break;
        case 'W': *flags |= TERN_TCP_CWR; break;
        case 'U': *flags |= TERN_TCP_URG; break;
        case '.': *flags |= TERN_TCP_ACK; break;
        default: return false;
        }
        s++;
    }
    if (s == *p)
        return false;
    *p = s;
    return true;
}

/* The option list between < and > (p after '<'). */
static const char *parse_opts(const char **p, struct cseg *sg, bool out)
{
    skip_ws(p);
    if (**p == '*') {
        (*p)++;
        skip_ws(p);
        if (**p != '>')
            return "`*` must be alone in <...>";
        (*p)++;
        sg->opts_mode = 1;
        return NULL;
    }
    sg->opts_mode = 2;
    for (;;) {
        skip_ws(p);
        if (**p == '>') {
            (*p)++;
            return NULL;
        }
        if (sg->nopt == MAXOPT)
            return "too many options";
        struct copt *o = &sg->opt[sg->nopt];
        memset(o, 0, sizeof *o);
        if (lit(p, "nop") || lit(p, "eol")) {
            o = NULL;
        } else if (lit(p, "mss")) {
            o->kind = TERN_TCPOPT_MSS;
            if (!num(p, &o->a, out))
                return "mss needs a number";
        } else if (lit(p, "wscale")) {
            o->kind = TERN_TCPOPT_WSCALE;
            if (!num(p, &o->a, out))
                return "wscale needs a number";
        } else if (lit(p, "sackOK")) {
            o->kind = TERN_TCPOPT_SACK_PERM;
        } else if (lit(p, "TS")) {
            o->kind = TERN_TCPOPT_TS;
            if (!lit(p, "val") || !num(p, &o->a, out))
                return "TS needs `val N`";
            if (!lit(p, "ecr"))
                return "TS needs `ecr N`";
            if (!out && lit(p, "%ts"))
                o->ecr_ts = true;
            else if (!num(p, &o->b, out))
                return out ? "ecr needs a number or *" : "ecr needs a number or %ts";
        } else if (lit(p, "sack")) {
            o->kind = TERN_TCPOPT_SACK;
            skip_ws(p);
            if (out && **p == '*') {
                (*p)++;
                o->sack_any = true;
            } else {
                while (o->nsack < 4) {
                    skip_ws(p);
                    if (!isdigit((unsigned char)**p) && **p != '@' && **p != '-')
                        break;
                    if (!num(p, &o->sl[o->nsack], false) || **p != ':')
                        return "sack blocks are A:B";
                    (*p)++;
                    if (!num(p, &o->sr[o->nsack], false))
                        return "sack blocks are A:B";
                    o->nsack++;
                }
                if (!o->nsack)
                    return "sack needs blocks";
            }
        } else {
            return "unknown option (mss, wscale, sackOK, TS, sack, nop, eol)";
        }
        if (o)
            sg->nopt++;
        skip_ws(p);
        if (!**p)
            return "missing > after the options";
        if (**p == ',')
            (*p)++;
        else if (**p != '>')
            return "options are separated by ,";
    }
}

static const char *parse_seg(const char **p, struct cseg *sg, bool out)
{
    memset(sg, 0, sizeof *sg);
    if (!parse_flags(p, &sg->flags))
        return "bad flags (S F R P E W U and . for ACK)";
    skip_ws(p);
    if (**p == '*' && out) {
        (*p)++;
        sg->seq_any = true;
    } else {
        struct cnum end;
        long len;
        if (!num(p, &sg->seq, false) || *(*p)++ != ':' || !num(p, &end, false) ||
            *(*p)++ != '(' || !plain(p, &len) || *(*p)++ != ')')
            return "bad seq:end(len)";
        if (len < 0 || end.abs != sg->seq.abs || end.v - sg->seq.v != (uint32_t)len)
            return "end must be seq + len";
        sg->len = (uint32_t)len;
    }
    for (;;) {
        skip_ws(p);
        if (!**p)
            break;
        if (lit(p, "ack")) {
            sg->has_ack = true;
            if (!num(p, &sg->ack, out))
                return "ack needs a number";
        } else if (lit(p, "win")) {
            sg->has_win = true;
            if (!num(p, &sg->win, out) || (!sg->win.any && sg->win.v > 65535))
                return "win is the raw 16-bit field";
        } else if (lit(p, "urg")) {
            long u;
            sg->has_urg = true;
            if (!plain(p, &u) || u < 0 || u > 65535)
                return "urg needs a 16-bit number";
            sg->urg = (uint32_t)u;
        } else if (**p == '<') {
            (*p)++;
            const char *e = parse_opts(p, sg, out);
            if (e)
                return e;
        } else {
            return "unexpected word (ack, win, urg, <options>)";
        }
    }
    if ((sg->flags & TERN_TCP_ACK) && !sg->has_ack)
        return "`.` (ACK) needs `ack N`";
    if (!(sg->flags & TERN_TCP_ACK) && sg->has_ack)
        return "`ack N` without the `.` flag";
    if (!out && !sg->has_win)
        sg->win.v = 65535; /* an inbound default */
    return NULL;
}

static bool parse_results(const char **p, struct event *ev)
{
    skip_ws(p);
    if (**p != '=')
        return false;
    (*p)++;
    for (;;) {
        if (ev->nres == MAXRES)
            return false;
        struct cres *r = &ev->res[ev->nres];
        skip_ws(p);
        char w[32];
        if (isdigit((unsigned char)**p) || **p == '-') {
            if (!plain(p, &r->v))
                return false;
            r->err_name = false;
        } else if (word(p, w, sizeof w)) {
            size_t i;
            for (i = 0; i < sizeof errs / sizeof errs[0]; i++)
                if (strcmp(w, errs[i].name) == 0)
                    break;
            if (i == sizeof errs / sizeof errs[0])
                return false;
            r->err_name = true;
            r->v = errs[i].err;
        } else {
            return false;
        }
        ev->nres++;
        skip_ws(p);
        if (**p != '|')
            return true;
        (*p)++;
    }
}

static const char *parse_call(const char **p, struct event *ev, const char *name)
{
    static const char *const names[] = {
        "listen", "connect", "accept", "write", "read", "shutdown", "close", "abort",
        "setsockopt", "state", "error", "events"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            break;
    if (i == sizeof names / sizeof names[0])
        return "unknown event (<, >, quiet, or a socket call)";
    ev->kind = EV_CALL;
    ev->call = (enum call)i;
    char w[32];
    switch (ev->call) {
    case C_LISTEN:
        if (!plain(p, &ev->arg) || ev->arg <= 0 || ev->arg > 65535)
            return "listen PORT [backlog N]";
        ev->arg2 = 8;
        if (lit(p, "backlog") && !plain(p, &ev->arg2))
            return "backlog needs a number";
        break;
    case C_WRITE:
    case C_READ:
        if (!plain(p, &ev->arg) || ev->arg < 0 || ev->arg > 1 << 20)
            return "write/read N (bytes)";
        break;
    case C_SHUTDOWN:
        word(p, w, sizeof w);
        if (!strcmp(w, "rd"))
            ev->arg = TERN_SHUT_RD;
        else if (!strcmp(w, "wr"))
            ev->arg = TERN_SHUT_WR;
        else if (!strcmp(w, "rdwr"))
            ev->arg = TERN_SHUT_RDWR;
        else
            return "shutdown rd|wr|rdwr";
        break;
    case C_SETSOCKOPT: {
        static const struct {
            const char *n;
            int opt;
        } so[] = {{"nodelay", TERN_TCP_NODELAY}, {"keepalive", TERN_SO_KEEPALIVE},
                  {"keepidle", TERN_TCP_KEEPIDLE}, {"keepintvl", TERN_TCP_KEEPINTVL},
                  {"keepcnt", TERN_TCP_KEEPCNT}, {"maxseg", TERN_TCP_MAXSEG},
                  {"rcvbuf", TERN_SO_RCVBUF}, {"sndbuf", TERN_SO_SNDBUF}};
        word(p, w, sizeof w);
        size_t k;
        for (k = 0; k < sizeof so / sizeof so[0]; k++)
            if (!strcmp(w, so[k].n))
                break;
        if (k == sizeof so / sizeof so[0])
            return "setsockopt nodelay|keepalive|keepidle|keepintvl|keepcnt|maxseg|rcvbuf|sndbuf N";
        ev->arg = so[k].opt;
        if (!plain(p, &ev->arg2))
            return "setsockopt NAME N";
        break;
    }
    case C_STATE: {
        word(p, w, sizeof w);
        size_t k;
        for (k = 0; k < sizeof state_rfc / sizeof state_rfc[0]; k++)
            if (!strcmp(w, state_rfc[k]))
                break;
        if (k == sizeof state_rfc / sizeof state_rfc[0])
            return "state NAME (RFC 9293 names with _, e.g. SYN_RECEIVED, FIN_WAIT_1)";
        ev->arg = (long)k;
        break;
    }
    case C_EVENTS: {
        if (lit(p, "has"))
            ev->arg2 = 1;
        else if (lit(p, "lacks"))
            ev->arg2 = 0;
        else
            return "events has|lacks IN,OUT,HUP,ERR";
        skip_ws(p);
        ev->arg = 0;
        for (;;) {
            word(p, w, sizeof w);
            if (!strcmp(w, "IN"))
                ev->arg |= TERN_POLLIN;
            else if (!strcmp(w, "OUT"))
                ev->arg |= TERN_POLLOUT;
            else if (!strcmp(w, "HUP"))
                ev->arg |= TERN_POLLHUP;
            else if (!strcmp(w, "ERR"))
                ev->arg |= TERN_POLLERR;
            else
                return "events: IN, OUT, HUP, ERR";
            if (**p != ',')
                break;
            (*p)++;
        }
        break;
    }
    default:
        break;
    }
    skip_ws(p);
    if (**p == '=') {
        if (!parse_results(p, ev))
            return "bad result (`= N`, `= ok`, `= EAGAIN`, alternatives with |)";
    }
    skip_ws(p);
    if (**p)
        return "trailing text";
    bool need = ev->call == C_CONNECT || ev->call == C_ACCEPT || ev->call == C_WRITE ||
                ev->call == C_READ || ev->call == C_ERROR;
    if (need && !ev->nres)
        return "this call needs `= RESULT`";
    if ((ev->call == C_STATE || ev->call == C_EVENTS) && ev->nres)
        return "state/events take no result";
    return NULL;
}

static const char *parse_icmp(const char **p, struct event *ev)
{
    ev->kind = EV_ICMP;
    char w[32];
    word(p, w, sizeof w);
    if (!strcmp(w, "unreach")) {
        ev->itype = 3;
        word(p, w, sizeof w);
        static const struct {
            const char *n;
            uint8_t code;
        } c[] = {{"net", 0}, {"host", 1}, {"proto", 2}, {"port", 3}, {"frag-needed", 4},
                 {"admin", 13}};
        size_t k;
        for (k = 0; k < sizeof c / sizeof c[0]; k++)
            if (!strcmp(w, c[k].n))
                break;
        if (k == sizeof c / sizeof c[0])
            return "icmp unreach net|host|proto|port|frag-needed|admin";
        ev->icode = c[k].code;
        if (ev->icode == 4) {
            long m;
            if (!lit(p, "mtu") || !plain(p, &m) || m < 0 || m > 65535)
                return "frag-needed needs `mtu N`";
            ev->mtu = (uint32_t)m;
        }
    } else if (!strcmp(w, "source-quench")) {
        ev->itype = 4;
    } else if (!strcmp(w, "time-exceeded")) {
        ev->itype = 11;
    } else {
        return "icmp unreach|source-quench|time-exceeded";
    }
    if (lit(p, "seq")) {
        long s;
        if (!plain(p, &s))
            return "seq needs a number";
        ev->iseq_given = true;
        ev->iseq = (uint32_t)s;
    }
    skip_ws(p);
    return **p ? "trailing text" : NULL;
}

static int parse_line(struct script *sc, int ln, char *line, FILE *out, bool *events_started)
{
    char *hash = strchr(line, '#');
    if (hash == line + strspn(line, " \t")) {
        const char *h = hash + 1;
        skip_ws(&h);
        if (!strncmp(h, "rfc:", 4)) {
            h += 4;
            skip_ws(&h);
            if (!*h)
                return perr(sc, ln, out, "empty `# rfc:` line");
            sc->nrfc++;
        } else if (!strncmp(h, "xfail:", 6)) {
            h += 6;
            skip_ws(&h);
            if (!*h)
                return perr(sc, ln, out, "`# xfail:` needs a reason");
            sc->xfail = true;
            snprintf(sc->xfail_why, sizeof sc->xfail_why, "%.*s", (int)strcspn(h, "\r\n"), h);
        }
        return 0;
    }
    if (hash)
        *hash = 0;
    size_t n = strlen(line);
    while (n && isspace((unsigned char)line[n - 1]))
        line[--n] = 0;
    const char *p = line;
    skip_ws(&p);
    if (!*p)
        return 0;
    if (*p == '%') {
        if (*events_started)
            return perr(sc, ln, out, "directives come before the first event");
        char w[32];
        long v = 0;
        p++;
        word(&p, w, sizeof w);
        bool needs = strcmp(w, "nodelay") != 0;
        if (needs && !plain(&p, &v))
            return perr(sc, ln, out, "%%%s needs a number", w);
        if (!strcmp(w, "mtu") && v >= 576 && v <= 9000)
            sc->mtu = (uint16_t)v;
        else if (!strcmp(w, "mss") && v > 0 && v < 65536)
            sc->mss = (uint16_t)v;
        else if (!strcmp(w, "nodelay"))
            sc->nodelay = true;
        else if (!strcmp(w, "rcvbuf") && v > 0)
            sc->rcvbuf = v;
        else if (!strcmp(w, "sndbuf") && v > 0)
            sc->sndbuf = v;
        else if (!strcmp(w, "port") && v > 0 && v < 65536)
            sc->pport = (uint16_t)v;
        else
            return perr(sc, ln, out, "unknown directive or bad value (%%mtu %%mss %%nodelay %%rcvbuf %%sndbuf %%port)");
        skip_ws(&p);
        if (*p)
            return perr(sc, ln, out, "trailing text");
        return 0;
    }
    *events_started = true;
    if (sc->nev == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 64;
        sc->ev = realloc(sc->ev, (size_t)sc->cap * sizeof *sc->ev);
    }
    struct event *ev = &sc->ev[sc->nev];
    memset(ev, 0, sizeof *ev);
    ev->line = ln;
    if (!parse_time(&p, ev))
        return perr(sc, ln, out, "a line starts with a time: +S, S, or a range S1..S2");
    skip_ws(&p);
    const char *e = NULL;
    char w[32];
    if (*p == '<' || *p == '>') {
        bool outb = *p == '>';
        p++;
        if (outb && *p == '?') {
            ev->optional = true;
            p++;
        }
        if (!outb && lit(&p, "icmp")) {
            e = parse_icmp(&p, ev);
        } else {
            ev->kind = outb ? EV_OUT : EV_IN;
            e = parse_seg(&p, &ev->seg, outb);
        }
    } else if (lit(&p, "quiet")) {
        ev->kind = EV_QUIET;
        skip_ws(&p);
        if (*p)
            e = "trailing text";
    } else if (word(&p, w, sizeof w)) {
        e = parse_call(&p, ev, w);
    } else {
        e = "unknown event";
    }
    if (e)
        return perr(sc, ln, out, "%s", e);
    if (ev->range && ev->kind != EV_OUT)
        return perr(sc, ln, out, "a time range is only for `>` lines");
    const char *t = line;
    skip_ws(&t);
    ev->text = strdup(t);
    ev->body = ev->text + strcspn(ev->text, " \t");
    ev->body += strspn(ev->body, " \t");
    sc->nev++;
    return 0;
}

static int parse_file(struct script *sc, FILE *out)
{
    FILE *f = fopen(sc->path, "r");
    if (!f)
        return perr(sc, 0, out, "cannot open: %s", strerror(errno));
    char line[1024];
    int ln = 0, rc = 0;
    bool started = false;
    while (fgets(line, sizeof line, f)) {
        ln++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = perr(sc, ln, out, "line too long");
            break;
        }
        if (parse_line(sc, ln, line, out, &started) < 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    if (rc == 0 && sc->nrfc == 0)
        rc = perr(sc, 1, out, "no `# rfc:` line (every script cites the clause it checks)");
    if (rc == 0 && sc->nev == 0)
        rc = perr(sc, ln, out, "no events");
    return rc;
}

/* ---- formatting what tern did ---- */

static double rel_s(const struct run *r, uint64_t t) { return (double)(int64_t)(t - r->t0) / 1e6; }

static void trace(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct run *r, const char *fmt, ...)
{
    char *slot = r->tr[r->ntr % TRANSCRIPT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot, sizeof r->tr[0], fmt, ap);
    va_end(ap);
    r->ntr++;
    if (r->verbose)
        fprintf(r->out, "#   %s\n", slot);
}

static int fmt_flags(uint16_t f, char *b)
{
    int n = 0;
    if (f & TERN_TCP_SYN) b[n++] = 'S';
    if (f & TERN_TCP_FIN) b[n++] = 'F';
    if (f & TERN_TCP_RST) b[n++] = 'R';
    if (f & TERN_TCP_PSH) b[n++] = 'P';
    if (f & TERN_TCP_ECE) b[n++] = 'E';
    if (f & TERN_TCP_CWR) b[n++] = 'W';
    if (f & TERN_TCP_URG) b[n++] = 'U';
    if (f & TERN_TCP_ACK) b[n++] = '.';
    b[n] = 0;
    return n;
}

/* tern's segment in script syntax (relative numbers). */
static void fmt_seg(const struct tern_tcp_repr *t, uint32_t iss, char *b, size_t cap)
{
    char fl[12];
    fmt_flags(t->flags, fl);
    uint32_t s = t->seq - iss;
    size_t n = (size_t)snprintf(b, cap, "%s %u:%u(%zu)", fl, s, s + (uint32_t)t->payload_len,
                                t->payload_len);
    if (t->flags & TERN_TCP_ACK)
        n += (size_t)snprintf(b + n, cap - n, " ack %u", t->ack - CONF_ISN);
    n += (size_t)snprintf(b + n, cap - n, " win %u", t->win);
    if (t->flags & TERN_TCP_URG)
        n += (size_t)snprintf(b + n, cap - n, " urg %u", t->urg);
    if (!t->raw_opts_len || n >= cap)
        return;
    n += (size_t)snprintf(b + n, cap - n, " <");
    size_t pos = 0;
    struct tern_tcp_opt o;
    bool first = true;
    while (n < cap && tern_tcp_opt_next(t->raw_opts, t->raw_opts_len, &pos, &o) == 1) {
        const char *sep = first ? "" : ",";
        first = false;
        switch (o.kind) {
        case TERN_TCPOPT_NOP: n += (size_t)snprintf(b + n, cap - n, "%snop", sep); break;
        case TERN_TCPOPT_MSS:
            n += (size_t)snprintf(b + n, cap - n, "%smss %u", sep, o.len == 4 ? tern_get16(o.data) : 0);
            break;
        case TERN_TCPOPT_WSCALE:
            n += (size_t)snprintf(b + n, cap - n, "%swscale %u", sep, o.len == 3 ? o.data[0] : 0);
            break;
        case TERN_TCPOPT_SACK_PERM: n += (size_t)snprintf(b + n, cap - n, "%ssackOK", sep); break;
        case TERN_TCPOPT_TS:
            if (o.len == 10)
                n += (size_t)snprintf(b + n, cap - n, "%sTS val %u ecr %u", sep,
                                      tern_get32(o.data), tern_get32(o.data + 4));
            break;
        case TERN_TCPOPT_SACK:
            n += (size_t)snprintf(b + n, cap - n, "%ssack", sep);
            for (int i = 0; i + 8 <= o.len - 2 && n < cap; i += 8)
                n += (size_t)snprintf(b + n, cap - n, " %u:%u", tern_get32(o.data + i) - CONF_ISN,
                                      tern_get32(o.data + i + 4) - CONF_ISN);
            break;
        default: n += (size_t)snprintf(b + n, cap - n, "%sopt%u", sep, o.kind); break;
        }
    }
    if (n < cap)
        snprintf(b + n, cap - n, ">");
}

/* A frame tern sent, described (a TCP segment in script syntax). */
static bool frame_tcp(struct run *r, const uint8_t *f, size_t len, struct tern_tcp_repr *t,
                      char *desc, size_t cap)
{
    struct tern_ipv4_repr ip;
    if (len < TERN_ETH_HLEN || f[12] != 0x08 || f[13] != 0x00 ||
        tern_ipv4_parse(f + TERN_ETH_HLEN, len - TERN_ETH_HLEN, 0, &ip) < 0) {
        snprintf(desc, cap, "a non-IPv4 frame of %zu bytes (ethertype %02x%02x)", len,
                 len >= 14 ? f[12] : 0, len >= 14 ? f[13] : 0);
        return false;
    }
    if (ip.proto != TERN_IPPROTO_TCP) {
        snprintf(desc, cap, "an IPv4 packet, protocol %u, %u bytes (type %u code %u if ICMP)",
                 ip.proto, ip.total_len, f[TERN_ETH_HLEN + ip.hdr_len],
                 f[TERN_ETH_HLEN + ip.hdr_len + 1]);
        return false;
    }
    const uint8_t *pl = f + TERN_ETH_HLEN + ip.hdr_len;
    if (tern_tcp_parse(pl, ip.total_len - ip.hdr_len, ip.src, ip.dst, 0, t) < 0) {
        snprintf(desc, cap, "a TCP segment that does not parse (%u bytes)", ip.total_len);
        return false;
    }
    /* Each SYN tern sends starts its numbering: relative 0 is its ISS (the
     * forced one, or what tern chose to reopen a TIME-WAIT connection). */
    if ((t->flags & TERN_TCP_SYN) && t->sport == r->tport)
        r->iss = t->seq;
    fmt_seg(t, r->iss, desc, cap);
    return true;
}

/* ---- failures ---- */

static void fail(struct run *r, const struct event *ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct run *r, const struct event *ev, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    r->fail_line = ev ? ev->line : 0;
    FILE *o = r->out;
    /* The transcript first, the failure last: CI logs show the lines just
     * before "not ok". */
    if (!r->verbose && r->ntr) {
        int first = r->ntr > TRANSCRIPT ? r->ntr - TRANSCRIPT : 0;
        fprintf(o, "#   the events before the failure (time, what happened):\n");
        for (int i = first; i < r->ntr; i++)
            fprintf(o, "#     %s\n", r->tr[i % TRANSCRIPT]);
    }
    if (ev)
        fprintf(o, "# %s:%d: %s\n", r->sc->path, ev->line, ev->text);
    else
        fprintf(o, "# %s: at the end of the script\n", r->sc->path);
    fprintf(o, "#   ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o, fmt, ap);
    va_end(ap);
    fprintf(o, "\n#   (time %.6f s; tern ISS %u and the peer's ISN %u are relative 0)\n",
            rel_s(r, tern_loop_now(r->w->loop)), r->iss, CONF_ISN);
}

/* ---- the world ---- */

/* ARP requests tern sends for the peer are answered at once; every ARP
 * frame is dropped from the capture (scripts are about TCP). */
static void handle_arp(struct run *r)
{
    struct world *w = r->w;
    bool ask = false;
    for (size_t k = 0; k < w->count; k++) {
        size_t i = (w->head + k) % W_MAXF;
        struct tern_arp_repr a;
        if (w->flen[i] >= 14 && w->f[i][12] == 0x08 && w->f[i][13] == 0x06 &&
            tern_arp_parse(w->f[i] + 14, w->flen[i] - 14, &a) >= 0 && a.op == TERN_ARP_REQUEST &&
            a.tpa == W_PEER)
            ask = true;
    }
    world_pending_ip(w);
    if (ask) {
        uint8_t f[64];
        size_t n = w_arp_frame(f, TERN_ARP_REPLY, w_mac_us, w_mac_peer, W_PEER, w_mac_us, W_US);
        world_inject(w, f, n);
        tern_loop_run(w->loop, tern_loop_now(w->loop));
        world_pending_ip(w);
    }
}

/* Fires what is due now. */
static void flush(struct run *r)
{
    tern_loop_run(r->w->loop, tern_loop_now(r->w->loop));
    handle_arp(r);
}

/* Runs the loop to time t, timer by timer. */
static void run_to(struct run *r, uint64_t t)
{
    struct tern_loop *l = r->w->loop;
    uint64_t d;
    while ((d = tern_loop_next_deadline(l)) <= t && d != TERN_TIME_NEVER) {
        tern_loop_run(l, d);
        handle_arp(r);
    }
    tern_loop_run(l, t);
    handle_arp(r);
}

/* The next frame tern sent, parsed into a TCP repr (the frame is copied
 * to keep); it stays queued. */
static bool peek_frame(struct run *r, struct tern_tcp_repr *t, char *desc, size_t cap,
                       uint64_t *at, uint8_t *keep, size_t keepcap)
{
    struct world *w = r->w;
    if (!w->count)
        return false;
    *at = w->at[w->head];
    size_t len = w->flen[w->head];
    if (len > keepcap)
        len = keepcap;
    memcpy(keep, w->f[w->head], len);
    if (!frame_tcp(r, keep, len, t, desc, cap))
        memset(t, 0, sizeof *t);
    return true;
}

/* Takes the peeked frame off the queue. */
static void consume_frame(struct run *r, const struct tern_tcp_repr *t)
{
    size_t len;
    const uint8_t *f = world_pop(r->w, &len);
    if (!t->sport)
        return;
    r->last_seq = t->seq;
    if (f && len >= TERN_ETH_HLEN + 4) {
        unsigned i = r->nsent++ % (sizeof r->sent / sizeof r->sent[0]);
        r->sent[i].seq = t->seq;
        r->sent[i].len = tern_get16(f + TERN_ETH_HLEN + 2);
    }
    if (t->opts.has_ts) {
        r->last_tsval = t->opts.ts_val;
        r->have_tsval = true;
    }
}

static bool pop_frame(struct run *r, struct tern_tcp_repr *t, char *desc, size_t cap, uint64_t *at,
                      uint8_t *keep, size_t keepcap)
{
    if (!peek_frame(r, t, desc, cap, at, keep, keepcap))
        return false;
    consume_frame(r, t);
    return true;
}

static void report_unexpected(struct run *r, const struct event *ev, const char *why)
{
    static uint8_t keep[70000];
    struct tern_tcp_repr t;
    char d[400];
    uint64_t at;
    if (!pop_frame(r, &t, d, sizeof d, &at, keep, sizeof keep))
        return;
    trace(r, "%.6f > %s   (unexpected)", rel_s(r, at), d);
    fail(r, ev, "unexpected: tern sent %s at %.6f s %s", d, rel_s(r, at), why);
}

/* ---- inbound ---- */

static uint32_t in_seq(const struct cnum *n) { return n->abs ? n->v : CONF_ISN + n->v; }
static uint32_t in_ack(const struct run *r, const struct cnum *n)
{
    return n->abs ? n->v : r->iss + n->v;
}

static size_t build_opts(struct run *r, const struct cseg *sg, uint8_t *o)
{
    size_t n = 0;
    for (int i = 0; i < sg->nopt; i++) {
        const struct copt *c = &sg->opt[i];
        switch (c->kind) {
        case TERN_TCPOPT_MSS:
            o[n] = 2, o[n + 1] = 4;
            tern_put16(o + n + 2, (uint16_t)c->a.v);
            n += 4;
            break;
        case TERN_TCPOPT_WSCALE:
            o[n] = 1, o[n + 1] = 3, o[n + 2] = 3, o[n + 3] = (uint8_t)c->a.v;
            n += 4;
            break;
        case TERN_TCPOPT_SACK_PERM:
            o[n] = 1, o[n + 1] = 1, o[n + 2] = 4, o[n + 3] = 2;
            n += 4;
            break;
        case TERN_TCPOPT_TS:
            o[n] = 1, o[n + 1] = 1, o[n + 2] = 8, o[n + 3] = 10;
            tern_put32(o + n + 4, c->a.v);
            tern_put32(o + n + 8, c->ecr_ts ? r->last_tsval : c->b.v);
            n += 12;
            break;
        case TERN_TCPOPT_SACK:
            o[n] = 1, o[n + 1] = 1, o[n + 2] = 5, o[n + 3] = (uint8_t)(2 + 8 * c->nsack);
            n += 4;
            for (int k = 0; k < c->nsack; k++) {
                tern_put32(o + n, in_ack(r, &c->sl[k]));
                tern_put32(o + n + 4, in_ack(r, &c->sr[k]));
                n += 8;
            }
            break;
        }
    }
    return n;
}

static void do_inbound(struct run *r, const struct event *ev)
{
    static uint8_t seg[70000], frame[70000];
    const struct cseg *sg = &ev->seg;
    for (int i = 0; i < sg->nopt; i++)
        if (sg->opt[i].ecr_ts && !r->have_tsval) {
            fail(r, ev, "`ecr %%ts`: tern has sent no timestamp yet");
            return;
        }
    uint8_t *t = seg;
    uint32_t seq = in_seq(&sg->seq);
    size_t ol = build_opts(r, sg, t + 20);
    if (ol > 40) {
        fail(r, ev, "the options take %zu bytes (40 at most)", ol);
        return;
    }
    size_t hl = 20 + ol;
    tern_put16(t, r->sc->pport);
    tern_put16(t + 2, r->tport);
    tern_put32(t + 4, seq);
    tern_put32(t + 8, sg->has_ack ? in_ack(r, &sg->ack) : 0);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = (uint8_t)sg->flags;
    tern_put16(t + 14, (uint16_t)sg->win.v);
    tern_put16(t + 16, 0);
    tern_put16(t + 18, (uint16_t)sg->urg);
    uint32_t first = seq + ((sg->flags & TERN_TCP_SYN) ? 1 : 0);
    for (uint32_t i = 0; i < sg->len; i++)
        t[hl + i] = in_pat(first + i);
    size_t tl = hl + sg->len;
    uint32_t sum = tern_csum_pseudo_ipv4(W_PEER, W_US, TERN_IPPROTO_TCP, (uint16_t)tl);
    tern_put16(t + 16, tern_csum_fold(tern_csum_add(sum, t, tl)));
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_TCP, 1);
    size_t fl = w_ip_frame(frame, &ip, seg, tl);
    if (sg->flags & TERN_TCP_SYN)
        tcp_test_force_iss(r->w->s, CONF_ISS);
    world_inject(r->w, frame, fl);
}

static void do_icmp(struct run *r, const struct event *ev)
{
    static uint8_t frame[1600];
    uint8_t q[28], msg[64];
    struct tern_ipv4_repr qip = w_ip(W_US, W_PEER, TERN_IPPROTO_TCP, 0);
    uint32_t qseq = ev->iseq_given ? r->iss + ev->iseq : r->last_seq;
    qip.payload_len = 40; /* no segment with that seq sent: a header-only quote */
    unsigned cap = sizeof r->sent / sizeof r->sent[0];
    for (unsigned k = 0; k < cap && k < r->nsent; k++) { /* latest first */
        unsigned i = (r->nsent - 1 - k) % cap;
        if (r->sent[i].seq == qseq && r->sent[i].len > 20) {
            qip.payload_len = (uint16_t)(r->sent[i].len - 20);
            break;
        }
    }
    qip.df = true;
    int h = tern_ipv4_emit(&qip, q, sizeof q);
    if (h != 20) {
        fail(r, ev, "runner: cannot build the quoted header");
        return;
    }
    tern_put16(q + 20, r->tport);
    tern_put16(q + 22, r->sc->pport);
    tern_put32(q + 24, qseq);
    uint32_t rest = ev->itype == 3 && ev->icode == 4 ? ev->mtu : 0;
    size_t ml = w_icmp(msg, ev->itype, ev->icode, rest, q, sizeof q);
    struct tern_ipv4_repr ip = w_ip(W_PEER, W_US, TERN_IPPROTO_ICMP, 2);
    size_t fl = w_ip_frame(frame, &ip, msg, ml);
    world_inject(r->w, frame, fl);
}

/* ---- outbound ---- */

static bool num_eq(const struct cnum *n, uint32_t got, uint32_t base)
{
    return n->any || (n->abs ? n->v : base + n->v) == got;
}

/* Compares tern's options with the expected list, ignoring order and
 * NOP/EOL padding. Writes what differs into why. */
static bool opts_match(const struct cseg *sg, const struct tern_tcp_repr *t, char *why, size_t cap)
{
    if (sg->opts_mode == 1)
        return true;
    struct tern_tcp_opt got[MAXOPT];
    bool used[MAXOPT] = {0};
    int ng = 0;
    size_t pos = 0;
    struct tern_tcp_opt o;
    int rc;
    while ((rc = tern_tcp_opt_next(t->raw_opts, t->raw_opts_len, &pos, &o)) == 1)
        if (o.kind != TERN_TCPOPT_NOP && ng < MAXOPT)
            got[ng++] = o;
    if (rc < 0) {
        snprintf(why, cap, "tern's options are malformed");
        return false;
    }
    for (int i = 0; i < sg->nopt; i++) {
        const struct copt *c = &sg->opt[i];
        int k;
        for (k = 0; k < ng; k++)
            if (!used[k] && got[k].kind == c->kind)
                break;
        static const char *const kn[] = {"eol", "nop", "mss", "wscale", "sackOK", "sack",
                                         "", "", "TS"};
        if (k == ng) {
            snprintf(why, cap, "option %s missing", kn[c->kind]);
            return false;
        }
        used[k] = true;
        const struct tern_tcp_opt *g = &got[k];
        bool ok = true;
        switch (c->kind) {
        case TERN_TCPOPT_MSS: ok = g->len == 4 && num_eq(&c->a, tern_get16(g->data), 0); break;
        case TERN_TCPOPT_WSCALE: ok = g->len == 3 && num_eq(&c->a, g->data[0], 0); break;
        case TERN_TCPOPT_SACK_PERM: ok = g->len == 2; break;
        case TERN_TCPOPT_TS:
            ok = g->len == 10 && num_eq(&c->a, tern_get32(g->data), 0) &&
                 num_eq(&c->b, tern_get32(g->data + 4), 0);
            break;
        case TERN_TCPOPT_SACK:
            if (c->sack_any)
                break;
            ok = g->len == 2 + 8 * c->nsack;
            for (int b = 0; ok && b < c->nsack; b++)
                ok = num_eq(&c->sl[b], tern_get32(g->data + 8 * b), CONF_ISN) &&
                     num_eq(&c->sr[b], tern_get32(g->data + 8 * b + 4), CONF_ISN);
            break;
        }
        if (!ok) {
            snprintf(why, cap, "option %s differs", kn[c->kind]);
            return false;
        }
    }
    for (int k = 0; k < ng; k++)
        if (!used[k] && got[k].kind != TERN_TCPOPT_EOL) {
            snprintf(why, cap, "an option not expected (kind %u)", got[k].kind);
            return false;
        }
    return true;
}

static void do_outbound(struct run *r, const struct event *ev, uint64_t t1, uint64_t t2)
{
    static uint8_t keep[70000];
    struct tern_loop *l = r->w->loop;
    for (;;) {
        flush(r);
        if (r->w->count)
            break;
        uint64_t d = tern_loop_next_deadline(l);
        if (d == TERN_TIME_NEVER || d > t2) {
            if (t2 > tern_loop_now(l))
                run_to(r, t2);
            if (r->w->count)
                break;
            if (ev->optional) {
                r->last = tern_loop_now(l);
                trace(r, "%.6f (optional line: nothing sent) %s", rel_s(r, r->last), ev->body);
                return;
            }
            fail(r, ev, "tern sent nothing by %.6f s (%s)", rel_s(r, t2),
                 d == TERN_TIME_NEVER ? "no timer is armed" : "its next timer is later");
            return;
        }
        tern_loop_run(l, d);
        handle_arp(r);
    }
    struct tern_tcp_repr t;
    char d[400], why[160];
    uint64_t at;
    peek_frame(r, &t, d, sizeof d, &at, keep, sizeof keep);
    r->last = at;
    const struct cseg *sg = &ev->seg;
    why[0] = 0;
    if (!t.sport)
        snprintf(why, sizeof why, "not a TCP segment");
    else if (at < t1 || at > t2) {
        if (t1 == t2)
            snprintf(why, sizeof why, "sent at %.6f s, expected at %.6f s", rel_s(r, at), rel_s(r, t1));
        else
            snprintf(why, sizeof why, "sent at %.6f s, expected within %.6f..%.6f s", rel_s(r, at),
                     rel_s(r, t1), rel_s(r, t2));
    } else if (t.sport != r->tport || t.dport != r->sc->pport)
        snprintf(why, sizeof why, "ports %u -> %u, expected %u -> %u", t.sport, t.dport, r->tport,
                 r->sc->pport);
    else if (t.flags != sg->flags)
        snprintf(why, sizeof why, "flags differ");
    else if (!sg->seq_any && !num_eq(&sg->seq, t.seq, r->iss))
        snprintf(why, sizeof why, "seq differs");
    else if (!sg->seq_any && t.payload_len != sg->len)
        snprintf(why, sizeof why, "length differs");
    else if (sg->has_ack && !num_eq(&sg->ack, t.ack, CONF_ISN))
        snprintf(why, sizeof why, "ack differs");
    else if (sg->has_win && !num_eq(&sg->win, t.win, 0))
        snprintf(why, sizeof why, "window differs");
    else if (sg->has_urg && t.urg != sg->urg)
        snprintf(why, sizeof why, "urgent pointer differs");
    else if (!sg->opts_mode && t.raw_opts_len)
        snprintf(why, sizeof why, "options present, none expected");
    else if (sg->opts_mode)
        opts_match(sg, &t, why, sizeof why);
    if (!why[0] && t.payload_len) {
        /* The payload is what the app wrote, by stream offset. */
        uint32_t first = t.seq - r->iss - ((t.flags & TERN_TCP_SYN) ? 0 : 1);
        for (size_t i = 0; i < t.payload_len; i++)
            if (t.payload[i] != out_pat(first + i)) {
                snprintf(why, sizeof why,
                         "payload byte %zu (stream offset %zu) is %02x, the app wrote %02x", i,
                         (size_t)first + i, t.payload[i], out_pat(first + i));
                break;
            }
    }
    if (why[0] && ev->optional) {
        /* Not this optional segment: the frame is left for the next line. */
        trace(r, "%.6f (optional line, not matched: %s) %s", rel_s(r, at), why, ev->body);
        return;
    }
    consume_frame(r, &t);
    trace(r, "%.6f > %s", rel_s(r, at), d);
    if (why[0])
        fail(r, ev, "%s: tern sent %s", why, d);
}

/* ---- socket calls ---- */

static void hold(struct run *r, struct tern_sock *sk)
{
    if (r->nheld < (int)(sizeof r->held / sizeof r->held[0]))
        r->held[r->nheld++] = sk;
}

static void unhold(struct run *r, struct tern_sock *sk)
{
    for (int i = 0; i < r->nheld; i++)
        if (r->held[i] == sk)
            r->held[i] = r->held[--r->nheld];
    if (r->sk == sk)
        r->sk = NULL;
    if (r->lsk == sk)
        r->lsk = NULL;
    if (r->pre == sk)
        r->pre = NULL;
}

static int apply_opts(struct run *r, struct tern_sock *sk)
{
    const struct script *sc = r->sc;
    int rc = 0;
    if (sc->nodelay)
        rc |= tern_sock_setopt(sk, TERN_TCP_NODELAY, 1);
    if (sc->mss)
        rc |= tern_sock_setopt(sk, TERN_TCP_MAXSEG, sc->mss);
    if (sc->rcvbuf)
        rc |= tern_sock_setopt(sk, TERN_SO_RCVBUF, (int)sc->rcvbuf);
    if (sc->sndbuf)
        rc |= tern_sock_setopt(sk, TERN_SO_SNDBUF, (int)sc->sndbuf);
    return rc;
}

static struct tern_sock *new_sock(struct run *r, const struct event *ev)
{
    if (r->pre) {
        struct tern_sock *s = r->pre;
        r->pre = NULL;
        return s;
    }
    int err = 0;
    struct tern_sock *s = tern_sock_open(r->w->s, TERN_SOCK_STREAM, &err);
    if (!s) {
        fail(r, ev, "tern_sock_open failed: %s", tern_strerror(err));
        return NULL;
    }
    hold(r, s);
    if (apply_opts(r, s) != 0)
        fail(r, ev, "a %% directive's socket option was refused");
    return s;
}

/* The socket calls act on: the connection, else the listener. */
static struct tern_sock *target(struct run *r, const struct event *ev, bool create)
{
    if (r->sk)
        return r->sk;
    if (r->lsk)
        return r->lsk;
    if (create) {
        r->pre = new_sock(r, ev);
        return r->pre;
    }
    fail(r, ev, "no socket to act on (the app closed it, or none was made)");
    return NULL;
}

static void fmt_result(long v, bool err, char *b, size_t cap)
{
    const char *n = err || v < 0 ? err_name(v) : NULL;
    if (n)
        snprintf(b, cap, "%s", n);
    else if (v < 0)
        snprintf(b, cap, "%ld (%s)", v, tern_strerror((int)v));
    else
        snprintf(b, cap, "%ld", v);
}

/* A call's result for the transcript: a count or an errno name. */
static const char *rs(long v)
{
    static char b[80];
    fmt_result(v, true, b, sizeof b);
    return b;
}

/* got: a count (>= 0) or a tern_err (< 0); as_err: a 0 means `ok`. */
static void check_result(struct run *r, const struct event *ev, long got, bool as_err)
{
    if (!ev->nres)
        return;
    for (int i = 0; i < ev->nres; i++) {
        const struct cres *c = &ev->res[i];
        if (c->v == got)
            return;
    }
    char b[80];
    fmt_result(got, as_err, b, sizeof b);
    fail(r, ev, "the call returned %s", b);
}

static int conn_state(struct run *r)
{
    if (r->sk)
        return tcp_cb_of(r->sk)->state;
    struct tern_stack *s = r->w->s;
    for (uint32_t i = 0; i < s->sock_cap; i++) {
        struct tern_sock *k = sock_slot(s, i);
        if (!k->used || k->type != TERN_SOCK_STREAM || k == r->lsk)
            continue;
        const struct tcp_cb *cb = tcp_cb_of(k);
        if (cb->state == TCP_CLOSED || cb->state == TCP_LISTEN)
            continue;
        if (k->local.port == r->tport && k->peer.addr == W_PEER && k->peer.port == r->sc->pport)
            return cb->state;
    }
    /* TIME_WAIT whose socket is gone: a record (src/core/tcp_tw.c) */
    if (tcp_tw_busy(s, 0, r->tport, W_PEER, r->sc->pport))
        return TCP_TIME_WAIT;
    /* SYN_RECEIVED in the listener's SYN queue: a record (src/core/tcp_req.c) */
    if (tcp_req_busy(s, 0, r->tport, W_PEER, r->sc->pport))
        return TCP_SYN_RECEIVED;
    return -1; /* no connection: CLOSED, or LISTEN if the script listens */
}

static void do_call(struct run *r, const struct event *ev)
{
    struct tern_sock *sk;
    static uint8_t buf[1 << 20];
    switch (ev->call) {
    case C_LISTEN: {
        if (r->lsk) {
            fail(r, ev, "the script already listens");
            return;
        }
        sk = new_sock(r, ev);
        if (!sk)
            return;
        r->tport = (uint16_t)ev->arg;
        struct tern_sockaddr la = {0, r->tport};
        int rc = tern_sock_bind(sk, &la);
        if (rc == 0)
            rc = tern_sock_listen(sk, (int)ev->arg2);
        r->lsk = sk;
        check_result(r, ev, rc, true);
        if (!ev->nres && rc)
            fail(r, ev, "listen failed: %s", tern_strerror(rc));
        trace(r, "%.6f listen %u = %s", rel_s(r, tern_loop_now(r->w->loop)), r->tport, rs(rc));
        return;
    }
    case C_CONNECT: {
        if (r->sk) {
            fail(r, ev, "connect: the script already has a connection");
            return;
        }
        sk = new_sock(r, ev);
        if (!sk)
            return;
        struct tern_sockaddr la = {0, r->tport}, pa = {W_PEER, r->sc->pport};
        int rc = tern_sock_bind(sk, &la);
        if (rc) {
            fail(r, ev, "bind to port %u failed: %s", r->tport, tern_strerror(rc));
            return;
        }
        tcp_test_force_iss(r->w->s, CONF_ISS);
        rc = tern_sock_connect(sk, &pa);
        r->sk = sk;
        r->woff = r->roff = 0;
        trace(r, "%.6f connect = %s", rel_s(r, tern_loop_now(r->w->loop)), rs(rc));
        check_result(r, ev, rc, true);
        return;
    }
    case C_ACCEPT: {
        if (!r->lsk) {
            fail(r, ev, "accept without listen");
            return;
        }
        int err = 0;
        sk = tern_sock_accept(r->lsk, NULL, &err);
        trace(r, "%.6f accept = %s", rel_s(r, tern_loop_now(r->w->loop)), sk ? "ok" : rs(err));
        check_result(r, ev, sk ? 0 : err, true);
        if (sk) {
            hold(r, sk);
            r->sk = sk;
            r->woff = r->roff = 0;
        }
        return;
    }
    case C_WRITE: {
        if (!(sk = target(r, ev, false)))
            return;
        for (long i = 0; i < ev->arg; i++)
            buf[i] = out_pat(r->woff + (uint64_t)i);
        ssize_t n = tern_sock_send(sk, buf, (size_t)ev->arg, 0);
        trace(r, "%.6f write %ld = %s", rel_s(r, tern_loop_now(r->w->loop)), ev->arg, rs((long)n));
        if (n > 0)
            r->woff += (uint64_t)n;
        check_result(r, ev, (long)n, false);
        return;
    }
    case C_READ: {
        if (!(sk = target(r, ev, false)))
            return;
        ssize_t n = tern_sock_recv(sk, buf, (size_t)ev->arg, 0);
        trace(r, "%.6f read %ld = %s", rel_s(r, tern_loop_now(r->w->loop)), ev->arg, rs((long)n));
        if (n > 0) {
            uint32_t base = tcp_cb_of(sk)->irs + 1 + (uint32_t)r->roff;
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] != in_pat(base + (uint32_t)i)) {
                    fail(r, ev, "read byte %zd (stream offset %llu, relative seq %u) is %02x, the "
                         "peer sent %02x", i, (unsigned long long)r->roff + (unsigned long long)i,
                         base + (uint32_t)i - CONF_ISN, buf[i], in_pat(base + (uint32_t)i));
                    break;
                }
            r->roff += (uint64_t)n;
        }
        check_result(r, ev, (long)n, false);
        return;
    }
    case C_SHUTDOWN: {
        if (!(sk = target(r, ev, false)))
            return;
        int rc = tern_sock_shutdown(sk, (int)ev->arg);
        trace(r, "%.6f shutdown = %s", rel_s(r, tern_loop_now(r->w->loop)), rs(rc));
        check_result(r, ev, rc, true);
        return;
    }
    case C_CLOSE: {
        if (!(sk = target(r, ev, false)))
            return;
        int rc = tern_sock_close(sk);
        unhold(r, sk);
        trace(r, "%.6f close = %s", rel_s(r, tern_loop_now(r->w->loop)), rs(rc));
        check_result(r, ev, rc, true);
        return;
    }
    case C_ABORT: {
        if (!(sk = target(r, ev, false)))
            return;
        tern_sock_abort(sk);
        unhold(r, sk);
        trace(r, "%.6f abort", rel_s(r, tern_loop_now(r->w->loop)));
        return;
    }
    case C_SETSOCKOPT: {
        if (!(sk = target(r, ev, true)))
            return;
        int rc = tern_sock_setopt(sk, (enum tern_sockopt)ev->arg, (int)ev->arg2);
        trace(r, "%.6f setsockopt = %s", rel_s(r, tern_loop_now(r->w->loop)), rs(rc));
        if (ev->nres)
            check_result(r, ev, rc, true);
        else if (rc)
            fail(r, ev, "setsockopt failed: %s", tern_strerror(rc));
        return;
    }
    case C_STATE: {
        int st = conn_state(r);
        const char *name = st >= 0 ? state_rfc[st] : r->lsk ? "none (LISTEN, CLOSED)" : "none (CLOSED)";
        trace(r, "%.6f state %s", rel_s(r, tern_loop_now(r->w->loop)), name);
        bool ok = st >= 0 ? st == ev->arg
                          : ev->arg == TCP_CLOSED || (ev->arg == TCP_LISTEN && r->lsk);
        if (!ok)
            fail(r, ev, "tern's connection is in %s", name);
        return;
    }
    case C_ERROR: {
        if (!(sk = target(r, ev, false)))
            return;
        int e = tern_sock_error(sk);
        trace(r, "%.6f error = %s", rel_s(r, tern_loop_now(r->w->loop)), rs(e));
        check_result(r, ev, e, true);
        return;
    }
    case C_EVENTS: {
        if (!(sk = target(r, ev, false)))
            return;
        unsigned got = tern_sock_poll(sk);
        trace(r, "%.6f events %#x", rel_s(r, tern_loop_now(r->w->loop)), got);
        unsigned want = (unsigned)ev->arg;
        bool ok = ev->arg2 ? (got & want) == want : (got & want) == 0;
        if (!ok)
            fail(r, ev, "readiness is%s%s%s%s%s", got & TERN_POLLIN ? " IN" : "",
                 got & TERN_POLLOUT ? " OUT" : "", got & TERN_POLLHUP ? " HUP" : "",
                 got & TERN_POLLERR ? " ERR" : "", got ? "" : " nothing");
        return;
    }
    }
}

/* ---- the script ---- */

static uint64_t abs_time(const struct run *r, const struct ctime *t)
{
    return t->rel ? r->last + (uint64_t)t->us : r->t0 + (uint64_t)t->us;
}

static void mem_check(struct run *r, const struct tern_stack_mem *m0)
{
    struct tern_stack_mem m;
    stack_mem_usage(r->w->s, &m);
#define MEMEQ(f)                                                                          \
    if (m.f != m0->f)                                                                     \
        fail(r, NULL, "after abort and 200 s: " #f " is %zu, %zu at the start", m.f, m0->f)
    MEMEQ(sockets);
    MEMEQ(tcp_conns);
    MEMEQ(tcp_ring_bytes);
    MEMEQ(tcp_time_wait);
    MEMEQ(tcp_syn_reqs);
    MEMEQ(tcp_cold);
    MEMEQ(reasm_bytes);
    MEMEQ(reasm_datagrams);
    MEMEQ(loop_queued);
    MEMEQ(arp_queued);
#undef MEMEQ
}

static void run_script(struct run *r)
{
    const struct script *sc = r->sc;
    struct world *w = world_new_link(NULL, TERN_LINK_ETHERNET, sc->mtu ? sc->mtu : 1500);
    r->w = w;
    world_drain(w);
    world_learn_peer(w);
    world_drain(w);
    r->tport = CONF_TPORT;
    r->iss = CONF_ISS;
    struct tern_stack_mem m0;
    stack_mem_usage(w->s, &m0);
    r->t0 = r->last = tern_loop_now(w->loop);
    for (int i = 0; i < sc->nev && !r->failed; i++) {
        const struct event *ev = &sc->ev[i];
        uint64_t t1 = abs_time(r, &ev->t1), t2 = abs_time(r, &ev->t2);
        if (t2 < t1) {
            fail(r, ev, "the range ends before it starts");
            break;
        }
        if (ev->kind == EV_OUT) {
            do_outbound(r, ev, t1, t2);
            continue;
        }
        if (t1 < tern_loop_now(w->loop)) {
            fail(r, ev, "time goes backwards: the line is at %.6f s, the clock at %.6f s",
                 rel_s(r, t1), rel_s(r, tern_loop_now(w->loop)));
            break;
        }
        run_to(r, t1);
        r->last = t1;
        if (ev->kind == EV_QUIET) {
            /* Frames sent exactly at t1 are left for the next line. */
            struct world *ww = r->w;
            if (ww->count && ww->at[ww->head] < t1)
                report_unexpected(r, ev, "(`quiet` up to this time)");
            continue;
        }
        if (w->count) {
            report_unexpected(r, ev, "before this line");
            break;
        }
        switch (ev->kind) {
        case EV_IN:
            trace(r, "%.6f %s", rel_s(r, t1), ev->body);
            do_inbound(r, ev);
            break;
        case EV_ICMP:
            trace(r, "%.6f %s", rel_s(r, t1), ev->body);
            do_icmp(r, ev);
            break;
        case EV_CALL:
            do_call(r, ev);
            break;
        default:
            break;
        }
        flush(r);
    }
    if (!r->failed) {
        flush(r);
        if (w->count)
            report_unexpected(r, NULL, "after the last line");
    }
    /* Abort everything, let TIME_WAIT run out, compare the memory. */
    while (r->nheld) {
        struct tern_sock *sk = r->held[r->nheld - 1];
        if (sk == r->lsk)
            tern_sock_close(sk);
        else
            tern_sock_abort(sk);
        unhold(r, sk);
    }
    tern_loop_run(w->loop, tern_loop_now(w->loop) + 200ull * 1000000u);
    world_drain(w);
    if (!r->failed)
        mem_check(r, &m0);
    if (!r->failed && w->s->sock_count)
        fail(r, NULL, "%u sockets left after abort and 200 s", w->s->sock_count);
    tern_stack_free(w->s);
    tern_device_destroy(w->dev);
    tern_loop_destroy(w->loop);
    free(w);
}

void conf_run_file(const char *path, FILE *out, bool verbose, struct conf_result *res)
{
    struct script sc;
    memset(&sc, 0, sizeof sc);
    sc.path = path;
    sc.pport = CONF_PPORT;
    memset(res, 0, sizeof *res);
    if (parse_file(&sc, out) < 0) {
        res->verdict = CONF_FAIL; /* even with xfail: a broken script is never expected */
    } else {
        struct run *r = calloc(1, sizeof *r);
        r->sc = &sc;
        r->out = out;
        r->verbose = verbose;
        run_script(r);
        res->line = r->fail_line;
        if (sc.xfail)
            res->verdict = r->failed ? CONF_XFAIL : CONF_XPASS;
        else
            res->verdict = r->failed ? CONF_FAIL : CONF_PASS;
        free(r);
    }
    snprintf(res->xfail, sizeof res->xfail, "%s", sc.xfail_why);
    for (int i = 0; i < sc.nev; i++)
        free(sc.ev[i].text);
    free(sc.ev);
}
