/*
 * src/sim/scenario.c - the scenario file parser: global lines, nodes and
 * links (a node's property lines are in scenario_node.c). The timeline ("at ...") is in
 * scenario_act.c. Format: docs/scenarios.md.
 *
 * Line-oriented: '#' starts a comment, words are separated by blanks, a
 * node's property lines follow its `host`/`router` line (indentation is
 * for the reader). Every error stops the parse with "FILE:LINE: what";
 * the input is untrusted (fuzz/scenario_fuzz.c): fixed-size fields, every
 * count checked against its cap, no recursion.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario_priv.h"
#include "tern/wire/ipv4.h"

int scn_fail(struct scn_parser *p, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errcap, "%s:%d: ", p->sc->fname, p->line);
    if (n >= 0 && (size_t)n < p->errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errcap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int scn_copy(struct scn_parser *p, char *dst, size_t cap, const char *src, const char *what)
{
    size_t n = strlen(src);
    if (n >= cap)
        return scn_fail(p, "%s too long (at most %zu characters)", what, cap - 1);
    memcpy(dst, src, n + 1);
    return 0;
}

bool scn_is_name(const char *s)
{
    if (!*s || strlen(s) >= SCN_NAME_MAX)
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-'))
            return false;
    return true;
}

int scn_addr(struct scn_parser *p, const char *s, uint32_t *a, const char *what)
{
    if (!s)
        return scn_fail(p, "%s: missing address", what);
    if (tern_ipv4_aton(s, a) < 0)
        return scn_fail(p, "%s: bad IPv4 address '%s'", what, s);
    return 0;
}

int scn_prefix(struct scn_parser *p, const char *s, uint32_t *a, uint8_t *len, const char *what)
{
    char tmp[32];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!s || !slash || (size_t)(slash - s) >= sizeof tmp)
        return scn_fail(p, "%s: expected ADDRESS/PREFIX, got '%s'", what, s ? s : "");
    memcpy(tmp, s, (size_t)(slash - s));
    tmp[slash - s] = 0;
    unsigned long l;
    char *end;
    errno = 0;
    l = strtoul(slash + 1, &end, 10);
    if (tern_ipv4_aton(tmp, a) < 0 || !slash[1] || *end || l > 32 || slash[1] == '-' ||
        slash[1] == '+' || slash[1] == ' ')
        return scn_fail(p, "%s: expected ADDRESS/PREFIX, got '%s'", what, s);
    *len = (uint8_t)l;
    return 0;
}

int scn_uint(struct scn_parser *p, const char *s, unsigned long lo, unsigned long hi,
             unsigned long *v, const char *what)
{
    if (!s)
        return scn_fail(p, "%s: missing value", what);
    char *end;
    errno = 0;
    unsigned long x = strtoul(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || errno || x < lo || x > hi)
        return scn_fail(p, "%s: bad value '%s' (expected %lu..%lu)", what, s, lo, hi);
    *v = x;
    return 0;
}

int scenario_node(const struct scenario *sc, const char *name)
{
    for (unsigned i = 0; i < sc->nnodes; i++)
        if (!strcmp(sc->nodes[i].name, name))
            return (int)i;
    return -1;
}

int scenario_link(const struct scenario *sc, const char *name)
{
    for (unsigned i = 0; i < sc->nlinks; i++)
        if (!strcmp(sc->links[i].name, name))
            return (int)i;
    return -1;
}

int scenario_endpoint(const struct scenario *sc, const char *spec, int *node, int *iface)
{
    const char *dot = strchr(spec, '.');
    char nn[SCN_NAME_MAX];
    if (!dot || (size_t)(dot - spec) >= sizeof nn)
        return -1;
    memcpy(nn, spec, (size_t)(dot - spec));
    nn[dot - spec] = 0;
    int n = scenario_node(sc, nn);
    if (n < 0)
        return -1;
    const struct scn_node *nd = &sc->nodes[n];
    for (unsigned i = 0; i < nd->nifaces; i++)
        if (!strcmp(nd->ifaces[i].name, dot + 1)) {
            *node = n;
            *iface = (int)i;
            return 0;
        }
    return -1;
}

/* ---- top level ---- */

static int p_node(struct scn_parser *p, bool router)
{
    struct scenario *sc = p->sc;
    if (p->nw != 2)
        return scn_fail(p, "%s: expected '%s NAME'", p->w[0], p->w[0]);
    if (!scn_is_name(p->w[1]) || !strcmp(p->w[1], "all"))
        return scn_fail(p, "bad node name '%s' (letters, digits, '-', '_'; not 'all')", p->w[1]);
    if (scenario_node(sc, p->w[1]) >= 0 || scenario_link(sc, p->w[1]) >= 0)
        return scn_fail(p, "name '%s' is used twice", p->w[1]);
    if (sc->nnodes >= SCN_MAX_NODES)
        return scn_fail(p, "too many nodes (at most %d)", SCN_MAX_NODES);
    struct scn_node *n = &sc->nodes[sc->nnodes];
    memset(n, 0, sizeof *n);
    strcpy(n->name, p->w[1]);
    n->router = router;
    n->line = p->line;
    p->cur_node = (int)sc->nnodes++;
    return 0;
}

/* "X" or "X/Y": the values for the two directions of a link. */
static int split2(struct scn_parser *p, const char *v, const char *opt, char a[64], char b[64])
{
    if (!v)
        return scn_fail(p, "link option '%s' needs a value", opt);
    const char *s = strchr(v, '/');
    size_t la = s ? (size_t)(s - v) : strlen(v);
    if (la >= 64 || (s && strlen(s + 1) >= 64))
        return scn_fail(p, "link option '%s': value too long", opt);
    memcpy(a, v, la);
    a[la] = 0;
    strcpy(b, s ? s + 1 : a);
    return 0;
}

static int link_opt(struct scn_parser *p, struct scn_link *l, const char *opt, const char *val)
{
    char v[2][64];
    if (split2(p, val, opt, v[0], v[1]) < 0)
        return -1;
    for (int d = 0; d < 2; d++) {
        struct scn_dir *dir = &l->dir[d];
        int bad = 0;
        uint64_t u;
        if (!strcmp(opt, "rate"))
            bad = scn_parse_rate(v[d], &dir->rate_bps);
        else if (!strcmp(opt, "delay"))
            bad = scn_parse_time(v[d], &dir->delay_us);
        else if (!strcmp(opt, "jitter"))
            bad = scn_parse_time(v[d], &dir->jitter_us);
        else if (!strcmp(opt, "gap"))
            bad = scn_parse_time(v[d], &dir->reorder_gap_us);
        else if (!strcmp(opt, "loss"))
            bad = scn_parse_prob(v[d], &dir->loss);
        else if (!strcmp(opt, "dup"))
            bad = scn_parse_prob(v[d], &dir->dup);
        else if (!strcmp(opt, "reorder"))
            bad = scn_parse_prob(v[d], &dir->reorder);
        else if (!strcmp(opt, "corrupt"))
            bad = scn_parse_prob(v[d], &dir->corrupt);
        else if (!strcmp(opt, "queue")) {
            bad = scn_parse_bytes(v[d], &u);
            if (!bad && (u < 1 || u > 100000))
                bad = -1;
            dir->queue_pkts = (uint32_t)u;
        } else if (!strcmp(opt, "drop")) {
            /* N[,N...] (1-based frame numbers in this direction) or "none" */
            memset(dir->drop_at, 0, sizeof dir->drop_at);
            if (strcmp(v[d], "none")) {
                char tmp[64], *save = NULL;
                unsigned k = 0;
                strcpy(tmp, v[d]);
                for (char *t = strtok_r(tmp, ",", &save); t && !bad; t = strtok_r(NULL, ",", &save)) {
                    char *end;
                    errno = 0;
                    unsigned long n = strtoul(t, &end, 10);
                    if (k >= 8 || *t < '1' || *t > '9' || *end || errno || n > 0xffffffffu)
                        bad = -1;
                    else
                        dir->drop_at[k++] = (uint32_t)n;
                }
                if (!k)
                    bad = -1;
            }
        } else if (!strcmp(opt, "queue-bytes")) {
            bad = scn_parse_bytes(v[d], &dir->queue_bytes);
            if (!bad && (dir->queue_bytes < 64 || dir->queue_bytes > (1u << 30)))
                bad = -1;
        } else {
            return scn_fail(p, "unknown link option '%s' (expected rate, delay, jitter, loss, "
                               "dup, reorder, gap, corrupt, drop, mtu, queue, queue-bytes, down)", opt);
        }
        if (bad)
            return scn_fail(p, "link option '%s': bad value '%s'", opt, v[d]);
    }
    return 0;
}

static int p_link(struct scn_parser *p)
{
    struct scenario *sc = p->sc;
    p->cur_node = -1;
    if (p->nw < 4)
        return scn_fail(p, "link: expected 'link NAME NODE.IFACE NODE.IFACE [options]'");
    if (!scn_is_name(p->w[1]) || !strcmp(p->w[1], "all"))
        return scn_fail(p, "bad link name '%s' (letters, digits, '-', '_'; not 'all')", p->w[1]);
    if (scenario_node(sc, p->w[1]) >= 0 || scenario_link(sc, p->w[1]) >= 0)
        return scn_fail(p, "name '%s' is used twice", p->w[1]);
    if (sc->nlinks >= SCN_MAX_LINKS)
        return scn_fail(p, "too many links (at most %d)", SCN_MAX_LINKS);
    struct scn_link *l = &sc->links[sc->nlinks];
    memset(l, 0, sizeof *l);
    strcpy(l->name, p->w[1]);
    l->line = p->line;
    l->mtu = 1500;
    /* Two ends, then more while the words name interfaces (a segment). */
    for (int e = 0; 2 + e < p->nw && e < SCN_LINK_ENDS; e++) {
        int nd, fi;
        if (scenario_endpoint(sc, p->w[2 + e], &nd, &fi) < 0) {
            if (e >= 2)
                break; /* the options start */
            return scn_fail(p, "link %s: no interface '%s' (write NODE.IFACE of a node defined "
                               "above)", l->name, p->w[2 + e]);
        }
        struct scn_iface *f = &sc->nodes[nd].ifaces[fi];
        if (f->link >= 0)
            return scn_fail(p, "link %s: %s is already on link %s", l->name, p->w[2 + e],
                            sc->links[f->link].name);
        for (unsigned k = 0; k < l->nends; k++)
            if (l->node[k] == nd && l->iface[k] == fi)
                return scn_fail(p, "link %s: %s is an end twice", l->name, p->w[2 + e]);
        l->node[e] = nd;
        l->iface[e] = fi;
        l->nends++;
    }
    if (l->nends < 2)
        return scn_fail(p, "link: expected 'link NAME NODE.IFACE NODE.IFACE [options]'");
    for (int i = 2 + (int)l->nends; i < p->nw; i++) {
        const char *o = p->w[i], *v = i + 1 < p->nw ? p->w[i + 1] : NULL;
        if (!strcmp(o, "down")) {
            l->down = true;
            continue;
        }
        if (!strcmp(o, "mtu")) {
            unsigned long m;
            if (scn_uint(p, v, 576, 9000, &m, "link mtu") < 0)
                return -1;
            l->mtu = (uint16_t)m;
        } else if (l->nends > 2) {
            return scn_fail(p, "link %s: a segment of %u ends takes mtu and down only (got '%s')",
                            l->name, l->nends, o);
        } else if (link_opt(p, l, o, v) < 0) {
            return -1;
        }
        i++;
    }
    for (unsigned e = 0; e < l->nends; e++)
        sc->nodes[l->node[e]].ifaces[l->iface[e]].link = (int)sc->nlinks;
    sc->nlinks++;
    return 0;
}

static int p_line(struct scn_parser *p)
{
    const char *k = p->w[0];
    if (!strcmp(k, "host") || !strcmp(k, "router"))
        return p_node(p, !strcmp(k, "router"));
    if (!strcmp(k, "link"))
        return p_link(p);
    if (!strcmp(k, "at")) {
        p->cur_node = -1;
        return scn_parse_at(p);
    }
    if (!strcmp(k, "seed")) {
        char *end;
        errno = 0;
        if (p->nw != 2 || p->w[1][0] < '0' || p->w[1][0] > '9')
            return scn_fail(p, "seed: expected a number");
        unsigned long long v = strtoull(p->w[1], &end, 10);
        if (*end || errno)
            return scn_fail(p, "seed: bad number '%s'", p->w[1]);
        p->sc->seed = v;
        p->sc->have_seed = true;
        return 0;
    }
    if (!strcmp(k, "until")) {
        if (p->nw != 2 || scn_parse_time(p->w[1], &p->sc->until_us) < 0 || !p->sc->until_us)
            return scn_fail(p, "until: expected a time (e.g. 30s)");
        return 0;
    }
    if (!strcmp(k, "title")) {
        size_t off = 0;
        for (int i = 1; i < p->nw; i++) {
            size_t l = strlen(p->w[i]);
            if (off + l + 2 > sizeof p->sc->title)
                return scn_fail(p, "title too long");
            if (off)
                p->sc->title[off++] = ' ';
            memcpy(p->sc->title + off, p->w[i], l + 1);
            off += l;
        }
        return 0;
    }
    return scn_parse_property(p);
}

/* After the whole file: what needs every line first. */
static int p_check(struct scn_parser *p)
{
    struct scenario *sc = p->sc;
    for (unsigned i = 0; i < sc->nnodes; i++) {
        const struct scn_node *n = &sc->nodes[i];
        p->line = n->line;
        if (!n->nifaces)
            return scn_fail(p, "%s %s has no interface", n->router ? "router" : "host", n->name);
        for (unsigned f = 0; f < n->nifaces; f++)
            if (n->ifaces[f].link < 0) {
                p->line = n->ifaces[f].line;
                return scn_fail(p, "interface %s.%s is on no link", n->name, n->ifaces[f].name);
            }
        if (n->zone[0] && !n->zone_file[0] && !n->nrecords) {
            p->line = n->zone_line;
            return scn_fail(p, "dns-zone %s has no record", n->zone);
        }
    }
    return scn_check_actions(p);
}

int scenario_parse(struct scenario *sc, const char *text, size_t len, const char *fname,
                   char *err, size_t errcap)
{
    struct scn_parser *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errcap, "%s: out of memory", fname);
        return -1;
    }
    memset(sc, 0, sizeof *sc);
    snprintf(sc->fname, sizeof sc->fname, "%s", fname);
    sc->seed = 1;
    p->sc = sc;
    p->err = err;
    p->errcap = errcap;
    p->cur_node = -1;
    int rc = 0;
    size_t pos = 0;
    if (len > SCN_MAX_BYTES) {
        p->line = 0;
        rc = scn_fail(p, "file larger than %u bytes", SCN_MAX_BYTES);
    }
    while (rc == 0 && pos < len) {
        p->line++;
        size_t e = pos;
        while (e < len && text[e] != '\n')
            e++;
        size_t l = e - pos;
        if (l > SCN_MAX_LINE) {
            rc = scn_fail(p, "line longer than %d characters", SCN_MAX_LINE);
            break;
        }
        memcpy(p->buf, text + pos, l);
        p->buf[l] = 0;
        pos = e + 1;
        if (l && p->buf[l - 1] == '\r')
            p->buf[--l] = 0;
        if (memchr(p->buf, 0, l)) {
            rc = scn_fail(p, "NUL byte in the line");
            break;
        }
        char *hash = strchr(p->buf, '#');
        if (hash)
            *hash = 0;
        p->nw = 0;
        for (char *t = strtok(p->buf, " \t\f\v"); t; t = strtok(NULL, " \t\f\v")) {
            if (p->nw >= SCN_MAX_WORDS) {
                rc = scn_fail(p, "too many words (at most %d)", SCN_MAX_WORDS);
                break;
            }
            p->w[p->nw++] = t;
        }
        if (rc == 0 && p->nw)
            rc = p_line(p);
    }
    if (rc == 0)
        rc = p_check(p);
    free(p);
    return rc;
}

int scenario_load(struct scenario *sc, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(SCN_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, SCN_MAX_BYTES + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errcap, "%s: cannot read", path);
        return -1;
    }
    /* Messages name the file as given, without its directories. */
    const char *base = strrchr(path, '/');
    int rc = scenario_parse(sc, buf, n, base ? base + 1 : path, err, errcap);
    free(buf);
    if (base && (size_t)(base - path) < sizeof sc->dir) {
        memcpy(sc->dir, path, (size_t)(base - path));
        sc->dir[base - path] = 0;
    }
    return rc;
}
