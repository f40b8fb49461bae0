/*
 * src/sim/scenario_node.c - the property lines of a host or router in a
 * scenario file (docs/scenarios.md, "Nodes"): iface, route, gateway, dns,
 * ecmp, service, http, dns-zone, record, dhcp-server. Every value is
 * checked here; what needs the file system (zone files, directories) is
 * checked when the network is built.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario_priv.h"

/* ---- node properties ---- */

static int p_iface(struct scn_parser *p, struct scn_node *n)
{
    if (p->nw < 3)
        return scn_fail(p, "iface: expected 'iface NAME ADDRESS/PREFIX|dhcp [mtu N]'");
    if (!scn_is_name(p->w[1]))
        return scn_fail(p, "iface: bad name '%s' (letters, digits, '-', '_')", p->w[1]);
    for (unsigned i = 0; i < n->nifaces; i++)
        if (!strcmp(n->ifaces[i].name, p->w[1]))
            return scn_fail(p, "iface %s: defined twice on %s", p->w[1], n->name);
    if (n->nifaces >= SCN_MAX_IFACES)
        return scn_fail(p, "too many interfaces on %s (at most %d)", n->name, SCN_MAX_IFACES);
    struct scn_iface *f = &n->ifaces[n->nifaces];
    memset(f, 0, sizeof *f);
    strcpy(f->name, p->w[1]);
    f->line = p->line;
    f->link = -1;
    if (!strcmp(p->w[2], "dhcp")) {
        f->dhcp = true;
    } else if (scn_prefix(p, p->w[2], &f->addr, &f->prefix, "iface") < 0) {
        return -1;
    } else if (f->prefix == 0 || f->prefix > 30) {
        return scn_fail(p, "iface %s: prefix /%u leaves no room for hosts (use /1../30)",
                        f->name, f->prefix);
    }
    for (int i = 3; i < p->nw; i += 2) {
        unsigned long v;
        if (strcmp(p->w[i], "mtu"))
            return scn_fail(p, "iface: unknown option '%s' (expected mtu)", p->w[i]);
        if (scn_uint(p, i + 1 < p->nw ? p->w[i + 1] : NULL, 576, 9000, &v, "iface mtu") < 0)
            return -1;
        f->mtu = (uint16_t)v;
    }
    n->nifaces++;
    return 0;
}

static int p_route(struct scn_parser *p, struct scn_node *n)
{
    if (n->nroutes >= SCN_MAX_ROUTES)
        return scn_fail(p, "too many routes on %s (at most %d)", n->name, SCN_MAX_ROUTES);
    struct scn_route *r = &n->routes[n->nroutes];
    memset(r, 0, sizeof *r);
    r->line = p->line;
    if (p->nw < 4)
        return scn_fail(p, "route: expected 'route DST/PREFIX via GATEWAY [via GATEWAY...]'");
    if (!strcmp(p->w[1], "default")) {
        r->dst = 0;
        r->prefix = 0;
    } else if (scn_prefix(p, p->w[1], &r->dst, &r->prefix, "route") < 0) {
        return -1;
    }
    for (int i = 2; i < p->nw; i += 2) {
        if (strcmp(p->w[i], "via"))
            return scn_fail(p, "route: unknown word '%s' (expected via)", p->w[i]);
        if (r->nvia >= SCN_MAX_VIA)
            return scn_fail(p, "route: too many next hops (at most %d)", SCN_MAX_VIA);
        if (scn_addr(p, i + 1 < p->nw ? p->w[i + 1] : NULL, &r->via[r->nvia], "route via") < 0)
            return -1;
        r->nvia++;
    }
    n->nroutes++;
    return 0;
}

static const char *const svc_names[] = {"echo", "discard", "daytime", "qotd", "chargen", "time"};

static int p_service(struct scn_parser *p, struct scn_node *n)
{
    if (p->nw < 2)
        return scn_fail(p, "service: expected one or more of echo, discard, daytime, qotd, "
                           "chargen, time");
    for (int i = 1; i < p->nw; i++) {
        unsigned k;
        for (k = 0; k < 6; k++)
            if (!strcmp(p->w[i], svc_names[k]))
                break;
        if (k == 6)
            return scn_fail(p, "unknown service '%s' (expected echo, discard, daytime, qotd, "
                               "chargen, time)", p->w[i]);
        n->services |= 1u << k;
    }
    return 0;
}

static int p_http(struct scn_parser *p, struct scn_node *n)
{
    n->http_port = 80;
    n->http_line = p->line;
    bool have = false;
    for (int i = 1; i < p->nw; i++) {
        unsigned long v;
        if (!strcmp(p->w[i], "port")) {
            if (scn_uint(p, i + 1 < p->nw ? p->w[i + 1] : NULL, 1, 65535, &v, "http port") < 0)
                return -1;
            n->http_port = (uint16_t)v;
            i++;
        } else if (!strcmp(p->w[i], "page")) {
            if (i + 2 >= p->nw)
                return scn_fail(p, "http page: expected 'page PATH BYTES'");
            if (p->w[i + 1][0] != '/' || strstr(p->w[i + 1], "..") || p->w[i + 1][1] == 0)
                return scn_fail(p, "http page: path '%s' must start with '/' and name a file",
                                p->w[i + 1]);
            if (scn_copy(p, n->http_page, sizeof n->http_page, p->w[i + 1], "http page") < 0)
                return -1;
            if (scn_parse_bytes(p->w[i + 2], &n->http_page_bytes) < 0 ||
                n->http_page_bytes > 64u * 1024 * 1024)
                return scn_fail(p, "http page: bad size '%s' (bytes, e.g. 200000 or 64K; at "
                                   "most 64M)", p->w[i + 2]);
            have = true;
            i += 2;
        } else if (!strcmp(p->w[i], "dir")) {
            if (i + 1 >= p->nw)
                return scn_fail(p, "http dir: expected a directory");
            if (scn_copy(p, n->http_dir, sizeof n->http_dir, p->w[i + 1], "http dir") < 0)
                return -1;
            have = true;
            i++;
        } else {
            return scn_fail(p, "http: unknown option '%s' (expected port, page, dir)", p->w[i]);
        }
    }
    if (!have)
        return scn_fail(p, "http: give 'page PATH BYTES' or 'dir DIRECTORY'");
    if (n->http_dir[0] && n->http_page[0])
        return scn_fail(p, "http: give a page or a directory, not both");
    return 0;
}

static int p_zone(struct scn_parser *p, struct scn_node *n)
{
    if (p->nw != 2 && !(p->nw == 4 && !strcmp(p->w[2], "file")))
        return scn_fail(p, "dns-zone: expected 'dns-zone APEX [file PATH]'");
    if (n->zone[0])
        return scn_fail(p, "dns-zone: %s already serves a zone", n->name);
    if (scn_copy(p, n->zone, sizeof n->zone, p->w[1], "dns-zone") < 0)
        return -1;
    if (p->nw == 4 && scn_copy(p, n->zone_file, sizeof n->zone_file, p->w[3], "file") < 0)
        return -1;
    n->zone_line = p->line;
    return 0;
}

static int p_record(struct scn_parser *p, struct scn_node *n)
{
    if (!n->zone[0])
        return scn_fail(p, "record: no dns-zone on %s before it", n->name);
    if (n->zone_file[0])
        return scn_fail(p, "record: the zone of %s comes from a file", n->name);
    if (p->nw < 4)
        return scn_fail(p, "record: expected 'record OWNER TYPE DATA' (e.g. record www A "
                           "10.0.2.80)");
    if (n->nrecords >= SCN_MAX_RECORDS)
        return scn_fail(p, "too many records on %s (at most %d)", n->name, SCN_MAX_RECORDS);
    static const char *const types[] = {"A", "AAAA", "CNAME", "NS"};
    unsigned k;
    for (k = 0; k < 4; k++)
        if (!strcmp(p->w[2], types[k]))
            break;
    if (k == 4)
        return scn_fail(p, "record: unknown type '%s' (expected A, AAAA, CNAME, NS)", p->w[2]);
    struct scn_record *r = &n->records[n->nrecords];
    r->line = p->line;
    for (const char *c = p->w[1]; *c; c++)
        if (*c == ';' || *c == '(' || *c == ')' || *c == '$' || *c == '"')
            return scn_fail(p, "record: bad owner '%s'", p->w[1]);
    if (scn_copy(p, r->owner, sizeof r->owner, p->w[1], "record owner") < 0)
        return -1;
    strcpy(r->type, types[k]);
    size_t off = 0;
    for (int i = 3; i < p->nw; i++) {
        size_t l = strlen(p->w[i]);
        for (const char *c = p->w[i]; *c; c++)
            if (*c == ';' || *c == '(' || *c == ')' || *c == '$' || *c == '"')
                return scn_fail(p, "record: bad data '%s'", p->w[i]);
        if (off + l + 2 > sizeof r->data)
            return scn_fail(p, "record: data too long");
        if (off)
            r->data[off++] = ' ';
        memcpy(r->data + off, p->w[i], l + 1);
        off += l;
    }
    n->nrecords++;
    return 0;
}

static int p_dhcpd(struct scn_parser *p, struct scn_node *n)
{
    struct scn_dhcpd *d = &n->dhcpd;
    if (d->on)
        return scn_fail(p, "dhcp-server: %s already runs one", n->name);
    if (p->nw < 4 || strcmp(p->w[2], "pool"))
        return scn_fail(p, "dhcp-server: expected 'dhcp-server IFACE pool FIRST-LAST [router A] "
                           "[dns A] [lease TIME]'");
    d->iface = -1;
    for (unsigned i = 0; i < n->nifaces; i++)
        if (!strcmp(n->ifaces[i].name, p->w[1]))
            d->iface = (int)i;
    if (d->iface < 0)
        return scn_fail(p, "dhcp-server: %s has no interface '%s' (define it with iface first)",
                        n->name, p->w[1]);
    const struct scn_iface *f = &n->ifaces[d->iface];
    if (f->dhcp)
        return scn_fail(p, "dhcp-server: interface %s has no fixed address", f->name);
    char first[32];
    const char *dash = strchr(p->w[3], '-');
    if (!dash || (size_t)(dash - p->w[3]) >= sizeof first)
        return scn_fail(p, "dhcp-server: pool must be FIRST-LAST, got '%s'", p->w[3]);
    memcpy(first, p->w[3], (size_t)(dash - p->w[3]));
    first[dash - p->w[3]] = 0;
    if (scn_addr(p, first, &d->first, "dhcp-server pool") < 0 ||
        scn_addr(p, dash + 1, &d->last, "dhcp-server pool") < 0)
        return -1;
    uint32_t mask = f->prefix ? ~0u << (32 - f->prefix) : 0;
    if (d->first > d->last || (d->first & mask) != (f->addr & mask) ||
        (d->last & mask) != (f->addr & mask))
        return scn_fail(p, "dhcp-server: pool %s must be an ascending range inside %s's subnet",
                        p->w[3], f->name);
    for (int i = 4; i < p->nw; i += 2) {
        const char *v = i + 1 < p->nw ? p->w[i + 1] : NULL;
        if (!strcmp(p->w[i], "router")) {
            if (scn_addr(p, v, &d->router, "dhcp-server router") < 0)
                return -1;
        } else if (!strcmp(p->w[i], "dns")) {
            if (scn_addr(p, v, &d->dns, "dhcp-server dns") < 0)
                return -1;
        } else if (!strcmp(p->w[i], "lease")) {
            uint64_t us;
            if (!v || scn_parse_time(v, &us) < 0 || us < 10000000 || us > 86400ull * 1000000)
                return scn_fail(p, "dhcp-server lease: bad time '%s' (10s..1d)", v ? v : "");
            d->lease_s = (uint32_t)(us / 1000000);
        } else {
            return scn_fail(p, "dhcp-server: unknown option '%s' (expected router, dns, lease)",
                            p->w[i]);
        }
    }
    d->on = true;
    d->line = p->line;
    return 0;
}

static int iface_of(const struct scn_node *n, const char *name)
{
    for (unsigned i = 0; i < n->nifaces; i++)
        if (!strcmp(n->ifaces[i].name, name))
            return (int)i;
    return -1;
}

static int behavior(const char *v, const char *const names[3])
{
    for (int i = 0; i < 3; i++)
        if (v && !strcmp(v, names[i]))
            return i;
    return -1;
}

/* nat IF [mapping M] [filtering F] [address A] [udp-timeout T] [tcp-timeout T]
 *        [transitory-timeout T] [icmp-timeout T] [max N] [per-host N] */
static int p_nat(struct scn_parser *p, struct scn_node *n)
{
    static const char *const maps[3] = {"eim", "adm", "apdm"};
    static const char *const filts[3] = {"eif", "adf", "apdf"};
    if (!n->router)
        return scn_fail(p, "nat: only a router translates (%s is a host)", n->name);
    if (p->nw < 2)
        return scn_fail(p, "nat: expected 'nat IFACE [mapping eim|adm|apdm] "
                           "[filtering eif|adf|apdf] [address A] [udp-timeout T] ...'");
    int fi = iface_of(n, p->w[1]);
    if (fi < 0)
        return scn_fail(p, "nat: %s has no interface '%s' (define it with iface first)", n->name,
                        p->w[1]);
    if (!n->nat_ifs)
        tern_nat_config_defaults(&n->nat);
    n->nat_ifs |= 1u << fi;
    n->nat_line = p->line;
    for (int i = 2; i < p->nw; i += 2) {
        const char *k = p->w[i], *v = i + 1 < p->nw ? p->w[i + 1] : NULL;
        uint64_t t;
        if (!strcmp(k, "mapping") || !strcmp(k, "filtering")) {
            bool m = !strcmp(k, "mapping");
            int b = behavior(v, m ? maps : filts);
            if (b < 0)
                return scn_fail(p, "nat %s: expected %s, got '%s'", k,
                                m ? "eim, adm or apdm" : "eif, adf or apdf", v ? v : "");
            if (m)
                n->nat.mapping = (enum tern_nat_behavior)b;
            else
                n->nat.filtering = (enum tern_nat_behavior)b;
        } else if (!strcmp(k, "address")) {
            if (scn_addr(p, v, &n->nat_ext[fi], "nat address") < 0)
                return -1;
        } else if (!strcmp(k, "udp-timeout") || !strcmp(k, "tcp-timeout") ||
                   !strcmp(k, "transitory-timeout") || !strcmp(k, "icmp-timeout")) {
            if (!v || scn_parse_time(v, &t) < 0 || t < 1000000 || t > SCN_MAX_TIME_US)
                return scn_fail(p, "nat %s: bad time '%s' (1s..1d)", k, v ? v : "");
            if (k[0] == 'u')
                n->nat.udp_timeout_us = t;
            else if (k[1] == 'c')
                n->nat.tcp_est_timeout_us = t;
            else if (k[0] == 't')
                n->nat.tcp_trans_timeout_us = t;
            else
                n->nat.icmp_timeout_us = t;
        } else if (!strcmp(k, "max") || !strcmp(k, "per-host")) {
            char *end;
            unsigned long x = v ? strtoul(v, &end, 10) : 0;
            if (!v || *end || x < 1 || x > 1000000)
                return scn_fail(p, "nat %s: bad count '%s' (1..1000000)", k, v ? v : "");
            if (k[0] == 'm')
                n->nat.max_entries = (uint32_t)x;
            else
                n->nat.max_per_host = (uint32_t)x;
        } else {
            return scn_fail(p, "nat: unknown option '%s' (expected mapping, filtering, address, "
                               "udp-timeout, tcp-timeout, transitory-timeout, icmp-timeout, max, "
                               "per-host)", k);
        }
    }
    return 0;
}

/* forward tcp|udp:EXT=A:PORT */
static int p_forward(struct scn_parser *p, struct scn_node *n)
{
    if (!n->router)
        return scn_fail(p, "forward: only a router forwards ports (%s is a host)", n->name);
    if (n->nfwds >= SCN_MAX_FWDS)
        return scn_fail(p, "forward: at most %d on %s", SCN_MAX_FWDS, n->name);
    struct scn_fwd *f = &n->fwds[n->nfwds];
    char proto[8], addr[32], tail;
    unsigned ext, port;
    if (p->nw != 2 ||
        sscanf(p->w[1], "%7[a-z]:%u=%31[0-9.]:%u%c", proto, &ext, addr, &port, &tail) != 4 ||
        (strcmp(proto, "tcp") && strcmp(proto, "udp")) || ext < 1 || ext > 65535 || port < 1 ||
        port > 65535)
        return scn_fail(p, "forward: expected 'forward tcp|udp:PORT=ADDR:PORT'");
    if (scn_addr(p, addr, &f->addr, "forward") < 0)
        return -1;
    f->proto = proto[0] == 't' ? 6 : 17;
    f->ext = (uint16_t)ext;
    f->port = (uint16_t)port;
    f->line = p->line;
    n->nfwds++;
    return 0;
}

/* firewall IF [allow|deny tcp|udp|icmp|all [from NET] [to NET] [port N[-M]]] */
static int p_firewall(struct scn_parser *p, struct scn_node *n)
{
    static const char usage[] = "firewall: expected 'firewall IFACE [allow|deny tcp|udp|icmp|all "
                                "[from NET] [to NET] [port N[-M]]]'";
    if (!n->router)
        return scn_fail(p, "firewall: only a router filters (%s is a host)", n->name);
    if (n->nfw >= SCN_MAX_FWRULES)
        return scn_fail(p, "firewall: at most %d lines on %s", SCN_MAX_FWRULES, n->name);
    if (p->nw < 2)
        return scn_fail(p, "%s", usage);
    struct scn_fwrule *w = &n->fw[n->nfw];
    memset(w, 0, sizeof *w);
    w->iface = iface_of(n, p->w[1]);
    if (w->iface < 0)
        return scn_fail(p, "firewall: %s has no interface '%s'", n->name, p->w[1]);
    w->line = p->line;
    if (p->nw == 2) {
        n->nfw++;
        return 0;
    }
    struct tern_fw_rule *r = &w->r;
    if (p->nw < 4 || (strcmp(p->w[2], "allow") && strcmp(p->w[2], "deny")))
        return scn_fail(p, "%s", usage);
    r->allow = !strcmp(p->w[2], "allow");
    const char *pr = p->w[3];
    r->proto = !strcmp(pr, "tcp") ? 6 : !strcmp(pr, "udp") ? 17 : !strcmp(pr, "icmp") ? 1 : 0;
    if (!r->proto && strcmp(pr, "all") && strcmp(pr, "any"))
        return scn_fail(p, "%s", usage);
    for (int i = 4; i < p->nw; i += 2) {
        const char *k = p->w[i], *v = i + 1 < p->nw ? p->w[i + 1] : NULL;
        if (!v)
            return scn_fail(p, "%s", usage);
        if (!strcmp(k, "from") || !strcmp(k, "to")) {
            uint32_t a = 0;
            uint8_t pl = 0;
            if (strcmp(v, "any")) {
                if (strchr(v, '/')) {
                    if (scn_prefix(p, v, &a, &pl, "firewall") < 0)
                        return -1;
                } else {
                    if (scn_addr(p, v, &a, "firewall") < 0)
                        return -1;
                    pl = 32;
                }
            }
            uint32_t m = pl ? ~0u << (32 - pl) : 0;
            if (k[0] == 'f') {
                r->src = a;
                r->src_mask = m;
            } else {
                r->dst = a;
                r->dst_mask = m;
            }
        } else if (!strcmp(k, "port")) {
            unsigned lo, hi;
            char tail;
            int c = sscanf(v, "%u-%u%c", &lo, &hi, &tail);
            if (c == 1)
                hi = lo;
            if ((c != 1 && c != 2) || lo < 1 || hi < lo || hi > 65535 ||
                (r->proto != 6 && r->proto != 17))
                return scn_fail(p, "firewall port: expected N or N-M with tcp or udp");
            r->dport_lo = (uint16_t)lo;
            r->dport_hi = (uint16_t)hi;
        } else {
            return scn_fail(p, "%s", usage);
        }
    }
    w->has_rule = true;
    n->nfw++;
    return 0;
}

/* pop3-server [port P] user NAME:PASSWORD message TEXT... */
static int p_pop3(struct scn_parser *p, struct scn_node *n)
{
    static const char usage[] = "pop3-server: expected 'pop3-server [port P] user NAME:PASSWORD "
                                "message TEXT...'";
    if (n->pop3_port)
        return scn_fail(p, "pop3-server: %s already runs one", n->name);
    unsigned long port = 110;
    int i = 1;
    if (i + 1 < p->nw && !strcmp(p->w[i], "port")) {
        if (scn_uint(p, p->w[i + 1], 1, 65535, &port, "pop3-server port") < 0)
            return -1;
        i += 2;
    }
    if (i + 3 >= p->nw || strcmp(p->w[i], "user") || strcmp(p->w[i + 2], "message"))
        return scn_fail(p, "%s", usage);
    const char *colon = strchr(p->w[i + 1], ':');
    size_t ul = colon ? (size_t)(colon - p->w[i + 1]) : 0;
    if (!colon || !ul || ul >= SCN_CRED_MAX || !colon[1] || strlen(colon + 1) >= SCN_CRED_MAX)
        return scn_fail(p, "pop3-server user: expected NAME:PASSWORD (each 1..%d characters)",
                        SCN_CRED_MAX - 1);
    memcpy(n->pop3_user, p->w[i + 1], ul);
    n->pop3_user[ul] = 0;
    snprintf(n->pop3_pass, sizeof n->pop3_pass, "%s", colon + 1);
    size_t off = 0;
    for (int k = i + 3; k < p->nw; k++) {
        size_t l = strlen(p->w[k]);
        if (off + l + 2 > sizeof n->pop3_text)
            return scn_fail(p, "pop3-server message: text too long");
        if (off)
            n->pop3_text[off++] = ' ';
        memcpy(n->pop3_text + off, p->w[k], l + 1);
        off += l;
    }
    n->pop3_port = (uint16_t)port;
    n->pop3_line = p->line;
    return 0;
}

/* tunnel LPORT:ADDR:PORT plain | tls-connect name NAME | tls-accept name NAME */
static int p_tunnel(struct scn_parser *p, struct scn_node *n)
{
    static const char usage[] = "tunnel: expected 'tunnel LPORT:ADDRESS:PORT plain', "
                                "'... tls-connect name NAME' or '... tls-accept name NAME'";
    if (n->ntunnels >= SCN_MAX_TUNNELS)
        return scn_fail(p, "tunnel: at most %d on %s", SCN_MAX_TUNNELS, n->name);
    struct scn_tunnel *t = &n->tunnels[n->ntunnels];
    memset(t, 0, sizeof *t);
    t->line = p->line;
    unsigned lp, dp;
    char addr[32], tail;
    if (p->nw < 3 || sscanf(p->w[1], "%u:%31[0-9.]:%u%c", &lp, addr, &dp, &tail) != 3 || !lp ||
        lp > 65535 || !dp || dp > 65535)
        return scn_fail(p, "%s", usage);
    if (scn_addr(p, addr, &t->dst, "tunnel") < 0)
        return -1;
    t->lport = (uint16_t)lp;
    t->dport = (uint16_t)dp;
    const char *m = p->w[2];
    t->mode = !strcmp(m, "plain") ? 0 : !strcmp(m, "tls-connect") ? 1
              : !strcmp(m, "tls-accept") ? 2 : -1;
    if (t->mode < 0)
        return scn_fail(p, "%s", usage);
    if (t->mode == 0 && p->nw != 3)
        return scn_fail(p, "%s", usage);
    if (t->mode) {
        if (p->nw != 5 || strcmp(p->w[3], "name"))
            return scn_fail(p, "%s", usage);
        const char *nm = p->w[4];
        bool ok = *nm && strlen(nm) < sizeof t->name;
        for (const char *c = nm; ok && *c; c++)
            ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.';
        if (!ok)
            return scn_fail(p, "tunnel name: '%s' is no host name (a-z, 0-9, '-', '.')", nm);
        memcpy(t->name, nm, strlen(nm) + 1);
    }
    n->ntunnels++;
    return 0;
}

int scn_parse_property(struct scn_parser *p)
{
    static const char *const props[] = {"iface", "route", "gateway", "dns", "ecmp", "service",
                                        "http", "dns-zone", "record", "dhcp-server",
                                        "perf-server", "nat", "forward", "firewall", "cc",
                                        "pop3-server", "tunnel"};
    const char *k = p->w[0];
    bool known = false;
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        known |= !strcmp(k, props[i]);
    if (!known)
        return scn_fail(p, "unknown keyword '%s' (expected host, router, link, at, seed, until, "
                           "title, or a node's iface, gateway, dns, route, ecmp, service, http, "
                           "dns-zone, record, dhcp-server, perf-server, nat, forward, firewall, cc, "
                           "pop3-server, tunnel)", k);
    if (p->cur_node < 0)
        return scn_fail(p, "'%s' outside a host or router (start one with 'host NAME')", k);
    struct scn_node *n = &p->sc->nodes[p->cur_node];
    if (!strcmp(k, "iface"))
        return p_iface(p, n);
    if (!strcmp(k, "route"))
        return p_route(p, n);
    if (!strcmp(k, "gateway") || !strcmp(k, "dns")) {
        if (p->nw != 2)
            return scn_fail(p, "%s: expected one address", k);
        if (!strcmp(k, "gateway"))
            n->gateway_line = p->line;
        return scn_addr(p, p->w[1], !strcmp(k, "dns") ? &n->dns : &n->gateway, k);
    }
    if (!strcmp(k, "cc")) {
        /* The congestion control of the node's TCP connections. */
        if (p->nw != 2 || (strcmp(p->w[1], "cubic") && strcmp(p->w[1], "newreno")))
            return scn_fail(p, "cc: expected 'cc cubic' or 'cc newreno'");
        snprintf(n->cc, sizeof n->cc, "%s", p->w[1]);
        return 0;
    }
    if (!strcmp(k, "ecmp")) {
        if (p->nw != 2 || (strcmp(p->w[1], "flow") && strcmp(p->w[1], "packet")))
            return scn_fail(p, "ecmp: expected 'ecmp flow' or 'ecmp packet'");
        n->ecmp_packet = !strcmp(p->w[1], "packet");
        return 0;
    }
    if (!strcmp(k, "service"))
        return p_service(p, n);
    if (!strcmp(k, "http"))
        return p_http(p, n);
    if (!strcmp(k, "dns-zone"))
        return p_zone(p, n);
    if (!strcmp(k, "record"))
        return p_record(p, n);
    if (!strcmp(k, "dhcp-server"))
        return p_dhcpd(p, n);
    if (!strcmp(k, "perf-server")) {
        unsigned long port = 5201;
        if (p->nw == 3 && !strcmp(p->w[1], "port")) {
            if (scn_uint(p, p->w[2], 1, 65535, &port, "perf-server port") < 0)
                return -1;
        } else if (p->nw != 1) {
            return scn_fail(p, "perf-server: expected 'perf-server [port P]'");
        }
        n->perf_port = (uint16_t)port;
        return 0;
    }
    if (!strcmp(k, "pop3-server"))
        return p_pop3(p, n);
    if (!strcmp(k, "tunnel"))
        return p_tunnel(p, n);
    if (!strcmp(k, "nat"))
        return p_nat(p, n);
    if (!strcmp(k, "forward"))
        return p_forward(p, n);
    if (!strcmp(k, "firewall"))
        return p_firewall(p, n);
    return -1; /* not reached: unknown keywords are caught above */
}
