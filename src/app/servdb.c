/*
 * src/app/servdb.c - the services database (see servdb.h).
 *
 * Storage: one array of small entries and one pool of names; each entry's
 * official name and aliases sit back to back in the pool, NUL-separated.
 * Both grow by doubling while the file is read (never afterwards) and stop
 * at the caps. Lookups scan in file order (a few hundred entries; they run
 * when a command starts or a netstat row is printed, never per packet).
 * Not a copy of glibc's parser: a line with a bad port, an unknown protocol,
 * an overlong name or too many aliases is skipped whole and counted.
 */
#include "app/servdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tern/err.h"

#define POOL_MAX (1u << 20) /* bytes of names kept in all */

struct entry {
    uint32_t off;   /* first name in the pool */
    uint16_t port;
    uint8_t proto;
    uint8_t nnames; /* official name + aliases */
};

struct tern_servdb {
    struct entry *e;
    size_t n, cap;
    char *pool;
    size_t used, pool_cap;
    struct servdb_stats st;
};

/* The classic services plus the ones tern serves, in /etc/services format
 * (ports and names from IANA's registry and Debian's netbase 6.4). qotd is
 * listed for udp too: tern serves it there (RFC 865 defines both). */
static const char builtin_text[] =
    "tcpmux\t1/tcp\n"
    "echo\t7/tcp\n"
    "echo\t7/udp\n"
    "discard\t9/tcp\tsink null\n"
    "discard\t9/udp\tsink null\n"
    "systat\t11/tcp\tusers\n"
    "daytime\t13/tcp\n"
    "daytime\t13/udp\n"
    "netstat\t15/tcp\n"
    "qotd\t17/tcp\tquote\n"
    "qotd\t17/udp\tquote\n"
    "chargen\t19/tcp\tttytst source\n"
    "chargen\t19/udp\tttytst source\n"
    "ftp-data\t20/tcp\n"
    "ftp\t21/tcp\n"
    "ssh\t22/tcp\n"
    "telnet\t23/tcp\n"
    "smtp\t25/tcp\tmail\n"
    "time\t37/tcp\ttimserver\n"
    "time\t37/udp\ttimserver\n"
    "whois\t43/tcp\tnicname\n"
    "domain\t53/tcp\n"
    "domain\t53/udp\n"
    "bootps\t67/udp\n"
    "bootpc\t68/udp\n"
    "tftp\t69/udp\n"
    "gopher\t70/tcp\n"
    "finger\t79/tcp\n"
    "http\t80/tcp\twww\n"
    "kerberos\t88/tcp\tkerberos5 krb5 kerberos-sec\n"
    "kerberos\t88/udp\tkerberos5 krb5 kerberos-sec\n"
    "pop3\t110/tcp\tpop-3\n"
    "sunrpc\t111/tcp\tportmapper\n"
    "sunrpc\t111/udp\tportmapper\n"
    "auth\t113/tcp\tauthentication tap ident\n"
    "nntp\t119/tcp\treadnews untp\n"
    "ntp\t123/udp\n"
    "netbios-ns\t137/udp\n"
    "imap2\t143/tcp\timap\n"
    "snmp\t161/udp\n"
    "snmp-trap\t162/udp\tsnmptrap\n"
    "ldap\t389/tcp\n"
    "https\t443/tcp\n"
    "https\t443/udp\n"
    "syslog\t514/udp\n"
    "submission\t587/tcp\n"
    "ldaps\t636/tcp\n"
    "imaps\t993/tcp\n"
    "pop3s\t995/tcp\n";

uint8_t servdb_proto(const char *name)
{
    if (!name)
        return 0;
    if (!strcmp(name, "tcp"))
        return TERN_SERVDB_TCP;
    if (!strcmp(name, "udp"))
        return TERN_SERVDB_UDP;
    if (!strcmp(name, "sctp"))
        return TERN_SERVDB_SCTP;
    if (!strcmp(name, "ddp"))
        return TERN_SERVDB_DDP;
    return 0;
}

/* Strict decimal 0..65535 of exactly len bytes. */
static int parse_num(const char *s, size_t len)
{
    if (len == 0 || len > 5)
        return -1;
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v > 65535 ? -1 : (int)v;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static struct tern_servdb *db_new(void)
{
    struct tern_servdb *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->cap = 64;
    db->pool_cap = 1024;
    db->e = malloc(db->cap * sizeof *db->e);
    db->pool = malloc(db->pool_cap);
    if (!db->e || !db->pool) {
        servdb_free(db);
        return NULL;
    }
    return db;
}

/* Makes room for one more entry with `bytes` of names. 0 ok, 1 over a cap,
 * -1 no memory. */
static int reserve(struct tern_servdb *db, size_t bytes)
{
    if (db->n >= TERN_SERVDB_MAX_ENTRIES || db->used + bytes > POOL_MAX)
        return 1;
    if (db->n == db->cap) {
        struct entry *ne = realloc(db->e, db->cap * 2 * sizeof *ne);
        if (!ne)
            return -1;
        db->e = ne;
        db->cap *= 2;
    }
    while (db->used + bytes > db->pool_cap) {
        char *np = realloc(db->pool, db->pool_cap * 2);
        if (!np)
            return -1;
        db->pool = np;
        db->pool_cap *= 2;
    }
    return 0;
}

/* One line (no newline, may hold NUL bytes: they make it malformed).
 * Returns 0, or -1 on no memory. */
static int parse_line(struct tern_servdb *db, const char *line, size_t len)
{
    if (memchr(line, '\0', len)) {
        db->st.malformed++;
        return 0;
    }
    const char *hash = memchr(line, '#', len);
    if (hash)
        len = (size_t)(hash - line);
    /* tokens: name, port/proto, aliases */
    const char *tok[2 + TERN_SERVDB_MAX_ALIASES];
    size_t tlen[2 + TERN_SERVDB_MAX_ALIASES];
    size_t nt = 0, i = 0;
    while (i < len) {
        while (i < len && is_space(line[i]))
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && !is_space(line[i]))
            i++;
        if (nt == sizeof tok / sizeof tok[0]) { /* too many aliases */
            db->st.malformed++;
            return 0;
        }
        tok[nt] = line + start;
        tlen[nt++] = i - start;
    }
    if (nt == 0)
        return 0; /* blank or comment-only */
    if (nt < 2) {
        db->st.malformed++;
        return 0;
    }
    const char *slash = memchr(tok[1], '/', tlen[1]);
    if (!slash) {
        db->st.malformed++;
        return 0;
    }
    int port = parse_num(tok[1], (size_t)(slash - tok[1]));
    char pname[8];
    size_t plen = tlen[1] - (size_t)(slash - tok[1]) - 1;
    if (port < 0 || plen == 0 || plen >= sizeof pname) {
        db->st.malformed++;
        return 0;
    }
    memcpy(pname, slash + 1, plen);
    pname[plen] = 0;
    uint8_t proto = servdb_proto(pname);
    if (!proto) {
        db->st.malformed++;
        return 0;
    }
    size_t bytes = 0;
    for (size_t k = 0; k < nt; k++) {
        if (k == 1)
            continue;
        if (tlen[k] > TERN_SERVDB_MAX_NAME) {
            db->st.malformed++;
            return 0;
        }
        bytes += tlen[k] + 1;
    }
    int r = reserve(db, bytes);
    if (r < 0)
        return -1;
    if (r > 0) {
        db->st.dropped++;
        return 0;
    }
    struct entry *e = &db->e[db->n++];
    e->off = (uint32_t)db->used;
    e->port = (uint16_t)port;
    e->proto = proto;
    e->nnames = (uint8_t)(nt - 1);
    for (size_t k = 0; k < nt; k++) {
        if (k == 1)
            continue;
        memcpy(db->pool + db->used, tok[k], tlen[k]);
        db->used += tlen[k];
        db->pool[db->used++] = 0;
    }
    db->st.entries = db->n;
    return 0;
}

struct tern_servdb *servdb_builtin(void)
{
    struct tern_servdb *db = db_new();
    if (!db)
        return NULL;
    const char *p = builtin_text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (parse_line(db, p, (size_t)(nl - p)) < 0) {
            servdb_free(db);
            return NULL;
        }
        p = nl + 1;
    }
    db->st.builtin = true;
    return db;
}

struct tern_servdb *servdb_read(FILE *f, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    struct tern_servdb *db = db_new();
    if (!db) {
        *err = TERN_E_NOMEM;
        return NULL;
    }
    char buf[TERN_SERVDB_MAX_LINE];
    size_t len = 0;
    bool overlong = false;
    for (;;) {
        int c = getc(f);
        if (c == EOF || c == '\n') {
            if (overlong)
                db->st.malformed++;
            else if ((len > 0 || c == '\n') && parse_line(db, buf, len) < 0) {
                servdb_free(db);
                *err = TERN_E_NOMEM;
                return NULL;
            }
            len = 0;
            overlong = false;
            if (c == EOF)
                break;
            continue;
        }
        /* the newline counts toward the cap, so a line may hold MAX_LINE-1 bytes */
        if (len + 1 >= sizeof buf)
            overlong = true;
        else
            buf[len++] = (char)c;
    }
    if (ferror(f)) {
        servdb_free(db);
        *err = TERN_E_IO;
        return NULL;
    }
    *err = TERN_OK;
    return db;
}

struct tern_servdb *servdb_open(const char *path, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    FILE *f = fopen(path ? path : "/etc/services", "r");
    if (!f) {
        if (errno != ENOENT) {
            *err = TERN_E_IO;
            return NULL;
        }
        struct tern_servdb *db = servdb_builtin();
        *err = db ? TERN_OK : TERN_E_NOMEM;
        return db;
    }
    struct tern_servdb *db = servdb_read(f, err);
    int saved = errno;
    fclose(f);
    errno = saved;
    return db;
}

void servdb_free(struct tern_servdb *db)
{
    if (!db)
        return;
    free(db->e);
    free(db->pool);
    free(db);
}

void servdb_stats(const struct tern_servdb *db, struct servdb_stats *out)
{
    *out = db->st;
}

int servdb_port(const struct tern_servdb *db, const char *name, uint8_t proto)
{
    if (!db || !name)
        return TERN_E_NOTFOUND;
    for (size_t i = 0; i < db->n; i++) {
        const struct entry *e = &db->e[i];
        if (proto ? e->proto != proto : e->proto == TERN_SERVDB_DDP)
            continue;
        const char *p = db->pool + e->off;
        for (unsigned k = 0; k < e->nnames; k++) {
            if (!strcmp(p, name))
                return e->port;
            p += strlen(p) + 1;
        }
    }
    return TERN_E_NOTFOUND;
}

const char *servdb_name(const struct tern_servdb *db, uint16_t port, uint8_t proto)
{
    if (!db)
        return NULL;
    for (size_t i = 0; i < db->n; i++)
        if (db->e[i].port == port &&
            (proto ? db->e[i].proto == proto : db->e[i].proto != TERN_SERVDB_DDP))
            return db->pool + db->e[i].off;
    return NULL;
}

int servdb_parse_port(const struct tern_servdb *db, const char *s, uint8_t proto)
{
    if (!s || !*s)
        return TERN_E_INVAL;
    if (s[0] >= '0' && s[0] <= '9') {
        int v = parse_num(s, strlen(s));
        return v < 0 ? TERN_E_INVAL : v;
    }
    int r = servdb_port(db, s, proto);
    if (r == TERN_E_NOTFOUND && proto)
        r = servdb_port(db, s, 0);
    return r;
}
