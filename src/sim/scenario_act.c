/*
 * src/sim/scenario_act.c - the timeline lines of a scenario file:
 *   at TIME NODE ping|traceroute|get|nc|stream|resolve|dhcp|perf|pop3 ARGS...
 *   at TIME link NAME up|down
 *   at TIME netstat NODE
 *   at TIME trace TARGET WHAT...
 *   at TIME say TEXT...
 * (docs/scenarios.md, "Timeline"). Names of nodes, links and interfaces
 * may refer to lines further down; they are checked once the whole file is
 * read (scn_check_actions), and the error still names the action's line.
 */
#include <string.h>

#include "sim/scenario_priv.h"
#include "tern/wire/ipv4.h"

/* Options "NAME VALUE" after the fixed words, from word `i`. */
static int act_opts(struct scn_parser *p, struct scn_action *a, int i, const char *verb,
                    const char *expected)
{
    for (; i < p->nw; i++) {
        const char *o = p->w[i], *v = i + 1 < p->nw ? p->w[i + 1] : NULL;
        unsigned long n;
        uint64_t u;
        if (!strcmp(o, "icmp") && a->kind == SCN_ACT_TRACEROUTE) {
            a->icmp = true;
            continue;
        }
        if (!strcmp(o, "noprobe") && a->kind == SCN_ACT_DHCP) {
            a->noprobe = true;
            continue;
        }
        if ((!strcmp(o, "reverse") || !strcmp(o, "udp")) && a->kind == SCN_ACT_PERF) {
            *(o[0] == 'r' ? &a->reverse : &a->udp) = true;
            continue;
        }
        if (!strcmp(o, "count") && a->kind == SCN_ACT_PING) {
            if (scn_uint(p, v, 1, 100000, &n, "ping count") < 0)
                return -1;
            a->count = (uint32_t)n;
        } else if (!strcmp(o, "size") && a->kind == SCN_ACT_PING) {
            if (scn_uint(p, v, 0, 65507, &n, "ping size") < 0)
                return -1;
            a->size = (uint32_t)n;
        } else if (!strcmp(o, "size") && a->kind == SCN_ACT_STREAM) {
            if (scn_uint(p, v, 16, 1472, &n, "stream size") < 0)
                return -1;
            a->size = (uint32_t)n;
        } else if (!strcmp(o, "ttl") && a->kind == SCN_ACT_PING) {
            if (scn_uint(p, v, 1, 255, &n, "ping ttl") < 0)
                return -1;
            a->max_ttl = (uint32_t)n;
        } else if (!strcmp(o, "interval") && a->kind == SCN_ACT_PING) {
            if (!v || scn_parse_time(v, &u) < 0 || u < 1000)
                return scn_fail(p, "ping interval: bad time '%s' (at least 1ms)", v ? v : "");
            a->interval_us = u;
        } else if (!strcmp(o, "max") && a->kind == SCN_ACT_TRACEROUTE) {
            if (scn_uint(p, v, 1, 255, &n, "traceroute max") < 0)
                return -1;
            a->max_ttl = (uint32_t)n;
        } else if (!strcmp(o, "queries") && a->kind == SCN_ACT_TRACEROUTE) {
            if (scn_uint(p, v, 1, 10, &n, "traceroute queries") < 0)
                return -1;
            a->nqueries = (uint32_t)n;
        } else if (!strcmp(o, "rate") && a->kind == SCN_ACT_STREAM) {
            if (!v || scn_parse_rate(v, &a->rate_bps) < 0)
                return scn_fail(p, "stream rate: bad rate '%s' (e.g. 64k)", v ? v : "");
        } else if (!strcmp(o, "rate") && a->kind == SCN_ACT_PERF) {
            if (!v || scn_parse_rate(v, &a->rate_bps) < 0)
                return scn_fail(p, "perf rate: bad rate '%s' (e.g. 10M)", v ? v : "");
        } else if (!strcmp(o, "time") && a->kind == SCN_ACT_PERF) {
            if (!v || scn_parse_time(v, &a->duration_us) < 0 || a->duration_us < 100000)
                return scn_fail(p, "perf time: bad time '%s' (at least 100ms)", v ? v : "");
        } else if (!strcmp(o, "parallel") && a->kind == SCN_ACT_PERF) {
            if (scn_uint(p, v, 1, 128, &n, "perf parallel") < 0)
                return -1;
            a->parallel = (uint32_t)n;
        } else if (!strcmp(o, "port") && a->kind == SCN_ACT_PERF) {
            if (scn_uint(p, v, 1, 65535, &n, "perf port") < 0)
                return -1;
            a->port = (uint16_t)n;
        } else if (!strcmp(o, "length") && a->kind == SCN_ACT_PERF) {
            if (scn_uint(p, v, 16, 1048576, &n, "perf length") < 0)
                return -1;
            a->size = (uint32_t)n;
        } else if (!strcmp(o, "port") && a->kind == SCN_ACT_POP3) {
            if (scn_uint(p, v, 1, 65535, &n, "pop3 port") < 0)
                return -1;
            a->port = (uint16_t)n;
        } else if ((!strcmp(o, "user") || !strcmp(o, "pass")) && a->kind == SCN_ACT_POP3) {
            if (!v)
                return scn_fail(p, "pop3 %s: missing value", o);
            if (scn_copy(p, o[0] == 'u' ? a->user : a->pass, SCN_CRED_MAX, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "members") && a->kind == SCN_ACT_STREAM) {
            /* NODE,NODE...: checked when the stream starts (nodes may be
             * defined further down) */
            if (!v)
                return scn_fail(p, "stream members: expected NODE[,NODE...]");
            if (scn_copy(p, a->members, SCN_TEXT_MAX, v, "stream members") < 0)
                return -1;
        } else if (!strcmp(o, "duration") && a->kind == SCN_ACT_STREAM) {
            if (!v || scn_parse_time(v, &a->duration_us) < 0 || !a->duration_us)
                return scn_fail(p, "stream duration: bad time '%s'", v ? v : "");
        } else {
            return scn_fail(p, "%s: unknown option '%s' (expected %s)", verb, o, expected);
        }
        i++;
    }
    return 0;
}

static const char trace_words[] =
    "all, handshake, close, data N, retrans N, arp, icmp, udp, dns, dhcp, off";

static int trace_what(struct scn_parser *p, struct scn_action *a, int i)
{
    static const struct {
        const char *w;
        unsigned bit;
    } words[] = {{"all", SCN_TR_ALL},   {"handshake", SCN_TR_HANDSHAKE}, {"close", SCN_TR_CLOSE},
                 {"arp", SCN_TR_ARP},   {"icmp", SCN_TR_ICMP},           {"udp", SCN_TR_UDP},
                 {"dns", SCN_TR_DNS},   {"dhcp", SCN_TR_DHCP},           {"off", SCN_TR_OFF}};
    if (i >= p->nw)
        return scn_fail(p, "trace: say what to print (%s)", trace_words);
    for (; i < p->nw; i++) {
        const char *w = p->w[i];
        unsigned long n;
        if (!strcmp(w, "data") || !strcmp(w, "retrans")) {
            if (scn_uint(p, i + 1 < p->nw ? p->w[i + 1] : NULL, 1, 1000000, &n, w) < 0)
                return -1;
            if (w[0] == 'd') {
                a->trace_what |= SCN_TR_DATA;
                a->trace_data = (uint32_t)n;
            } else {
                a->trace_what |= SCN_TR_RETRANS;
                a->trace_retrans = (uint32_t)n;
            }
            i++;
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof words / sizeof words[0]; k++)
            if (!strcmp(w, words[k].w))
                break;
        if (k == sizeof words / sizeof words[0])
            return scn_fail(p, "trace: unknown filter '%s' (expected %s)", w, trace_words);
        a->trace_what |= words[k].bit;
    }
    if ((a->trace_what & SCN_TR_OFF) && a->trace_what != SCN_TR_OFF)
        return scn_fail(p, "trace: 'off' stands alone");
    return 0;
}

static int join_text(struct scn_parser *p, struct scn_action *a, int from)
{
    size_t off = 0;
    for (int i = from; i < p->nw; i++) {
        size_t l = strlen(p->w[i]);
        if (off + l + 2 > sizeof a->text)
            return scn_fail(p, "say: text too long");
        if (off)
            a->text[off++] = ' ';
        memcpy(a->text + off, p->w[i], l + 1);
        off += l;
    }
    return 0;
}

int scn_parse_at(struct scn_parser *p)
{
    struct scenario *sc = p->sc;
    if (sc->nactions >= SCN_MAX_ACTIONS)
        return scn_fail(p, "too many timeline actions (at most %d)", SCN_MAX_ACTIONS);
    struct scn_action *a = &sc->actions[sc->nactions];
    memset(a, 0, sizeof *a);
    a->line = p->line;
    a->node = -1;
    if (p->nw < 3)
        return scn_fail(p, "at: expected 'at TIME NODE ACTION ...' or 'at TIME link|netstat|"
                           "trace|say ...'");
    if (scn_parse_time(p->w[1], &a->at_us) < 0)
        return scn_fail(p, "at: bad time '%s' (e.g. 1.5, 1.5s, 200ms)", p->w[1]);
    const char *k = p->w[2];
    if (!strcmp(k, "link")) {
        a->kind = SCN_ACT_LINK;
        if (p->nw != 5 || (strcmp(p->w[4], "up") && strcmp(p->w[4], "down")))
            return scn_fail(p, "at ... link: expected 'link NAME up|down'");
        a->up = !strcmp(p->w[4], "up");
        if (scn_copy(p, a->target, sizeof a->target, p->w[3], "link name") < 0)
            return -1;
    } else if (!strcmp(k, "netstat")) {
        a->kind = SCN_ACT_NETSTAT;
        if (p->nw != 4)
            return scn_fail(p, "at ... netstat: expected 'netstat NODE'");
        if (scn_copy(p, a->target, sizeof a->target, p->w[3], "node name") < 0)
            return -1;
    } else if (!strcmp(k, "trace")) {
        a->kind = SCN_ACT_TRACE;
        if (p->nw < 4)
            return scn_fail(p, "at ... trace: expected 'trace TARGET WHAT...' (%s)", trace_words);
        if (scn_copy(p, a->target, sizeof a->target, p->w[3], "trace target") < 0 ||
            trace_what(p, a, 4) < 0)
            return -1;
    } else if (!strcmp(k, "say")) {
        a->kind = SCN_ACT_SAY;
        if (join_text(p, a, 3) < 0)
            return -1;
    } else {
        /* A host action: at TIME NODE VERB ARGS */
        if (p->nw < 4)
            return scn_fail(p, "at: expected 'at TIME NODE ACTION ...' (ping, traceroute, get, "
                               "nc, stream, resolve, dhcp, perf)");
        if (scn_copy(p, a->text, sizeof a->text, p->w[2], "node name") < 0)
            return -1;
        const char *v = p->w[3];
        int nargs;
        unsigned long port;
        if (!strcmp(v, "ping")) {
            a->kind = SCN_ACT_PING;
            a->count = 3;
            a->size = 56;
            a->interval_us = 1000000;
            nargs = 1;
        } else if (!strcmp(v, "traceroute")) {
            a->kind = SCN_ACT_TRACEROUTE;
            nargs = 1;
        } else if (!strcmp(v, "get")) {
            a->kind = SCN_ACT_GET;
            nargs = 1;
        } else if (!strcmp(v, "nc")) {
            a->kind = SCN_ACT_NC;
            nargs = 3;
        } else if (!strcmp(v, "stream")) {
            a->kind = SCN_ACT_STREAM;
            a->rate_bps = 64000;
            a->size = 160;
            a->duration_us = 5000000;
            nargs = 2;
        } else if (!strcmp(v, "resolve")) {
            a->kind = SCN_ACT_RESOLVE;
            nargs = 1;
        } else if (!strcmp(v, "dhcp")) {
            a->kind = SCN_ACT_DHCP;
            nargs = 0;
        } else if (!strcmp(v, "perf")) {
            a->kind = SCN_ACT_PERF;
            a->duration_us = 10000000;
            a->port = 5201;
            nargs = 1;
        } else if (!strcmp(v, "pop3")) {
            a->kind = SCN_ACT_POP3;
            a->port = 110;
            nargs = 1;
        } else {
            return scn_fail(p, "unknown action '%s' (expected ping, traceroute, get, nc, stream, "
                               "resolve, dhcp, perf, pop3; or at TIME link|netstat|trace|say)", v);
        }
        if (p->nw < 4 + nargs)
            return scn_fail(p, "%s: missing %s", v,
                            a->kind == SCN_ACT_NC       ? "arguments: nc HOST PORT BYTES"
                            : a->kind == SCN_ACT_STREAM ? "arguments: stream HOST PORT"
                            : a->kind == SCN_ACT_GET    ? "URL"
                                                        : "target");
        if (nargs && scn_copy(p, a->target, sizeof a->target, p->w[4], "target") < 0)
            return -1;
        if (a->kind == SCN_ACT_NC || a->kind == SCN_ACT_STREAM) {
            static const char *const svc[] = {"echo", "discard", "daytime", "qotd", "chargen",
                                              "time"};
            static const uint16_t svc_port[] = {7, 9, 13, 17, 19, 37};
            port = 0;
            for (unsigned i = 0; i < 6; i++)
                if (!strcmp(p->w[5], svc[i]))
                    port = svc_port[i];
            if (!port && scn_uint(p, p->w[5], 1, 65535, &port, "port") < 0)
                return -1;
            a->port = (uint16_t)port;
        }
        if (a->kind == SCN_ACT_NC && scn_parse_bytes(p->w[6], &a->bytes) < 0)
            return scn_fail(p, "nc: bad byte count '%s'", p->w[6]);
        if (a->kind == SCN_ACT_GET && strncmp(a->target, "http://", 7))
            return scn_fail(p, "get: expected an http:// URL, got '%s'", a->target);
        static const char *const expect[] = {
            [SCN_ACT_PING] = "count, size, interval, ttl",
            [SCN_ACT_TRACEROUTE] = "icmp, max, queries",
            [SCN_ACT_GET] = "nothing more",
            [SCN_ACT_NC] = "nothing more",
            [SCN_ACT_STREAM] = "rate, size, duration, members",
            [SCN_ACT_RESOLVE] = "nothing more",
            [SCN_ACT_DHCP] = "noprobe",
            [SCN_ACT_PERF] = "time, reverse, udp, rate, parallel, port, length",
            [SCN_ACT_POP3] = "port, user, pass"};
        if (act_opts(p, a, 4 + nargs, v, expect[a->kind]) < 0)
            return -1;
        if (a->kind == SCN_ACT_POP3 && (!a->user[0] || !a->pass[0]))
            return scn_fail(p, "pop3: expected 'pop3 TARGET [port P] user NAME pass PASSWORD'");
    }
    sc->nactions++;
    return 0;
}

static bool is_addr(const char *s)
{
    uint32_t a;
    return tern_ipv4_aton(s, &a) == 0;
}

int scn_check_actions(struct scn_parser *p)
{
    struct scenario *sc = p->sc;
    for (unsigned i = 0; i < sc->nactions; i++) {
        struct scn_action *a = &sc->actions[i];
        p->line = a->line;
        int n, f;
        switch (a->kind) {
        case SCN_ACT_LINK:
            if (scenario_link(sc, a->target) < 0)
                return scn_fail(p, "link: no link named '%s'", a->target);
            continue;
        case SCN_ACT_NETSTAT:
            if ((a->node = scenario_node(sc, a->target)) < 0)
                return scn_fail(p, "netstat: no node named '%s'", a->target);
            continue;
        case SCN_ACT_TRACE:
            if (strcmp(a->target, "all") && scenario_link(sc, a->target) < 0 &&
                scenario_node(sc, a->target) < 0 && scenario_endpoint(sc, a->target, &n, &f) < 0)
                return scn_fail(p, "trace: '%s' is no link, node or NODE.IFACE", a->target);
            continue;
        case SCN_ACT_SAY:
            continue;
        default:
            break;
        }
        a->node = scenario_node(sc, a->text);
        if (a->node < 0)
            return scn_fail(p, "at: no node named '%s'", a->text);
        const struct scn_node *nd = &sc->nodes[a->node];
        if ((a->kind == SCN_ACT_PING || a->kind == SCN_ACT_TRACEROUTE || a->kind == SCN_ACT_NC ||
             a->kind == SCN_ACT_STREAM || a->kind == SCN_ACT_PERF || a->kind == SCN_ACT_POP3) &&
            !is_addr(a->target) && scenario_node(sc, a->target) < 0)
            return scn_fail(p, "%s: '%s' is no IPv4 address and no node of the scenario",
                            a->kind == SCN_ACT_PING         ? "ping"
                            : a->kind == SCN_ACT_TRACEROUTE ? "traceroute"
                            : a->kind == SCN_ACT_NC         ? "nc"
                            : a->kind == SCN_ACT_PERF       ? "perf"
                            : a->kind == SCN_ACT_POP3       ? "pop3"
                                                            : "stream",
                            a->target);
        if (a->kind == SCN_ACT_DHCP) {
            bool any = false;
            for (unsigned k = 0; k < nd->nifaces; k++)
                any |= nd->ifaces[k].dhcp;
            if (!any)
                return scn_fail(p, "dhcp: %s has no 'iface NAME dhcp'", nd->name);
        }
        a->text[0] = 0;
    }
    return 0;
}
