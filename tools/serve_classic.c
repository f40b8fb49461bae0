/* tools/serve_classic.c - classic services and netstat for `tern serve`. */
#include "serve_classic.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "app/netstat.h"
#include "servport.h"
#include "tern/err.h"

const struct option serve_classic_longopts[] = {
    {"echo", optional_argument, NULL, SERVE_CLASSIC_BASE + TERN_SVC_ECHO},
    {"discard", optional_argument, NULL, SERVE_CLASSIC_BASE + TERN_SVC_DISCARD},
    {"daytime", optional_argument, NULL, SERVE_CLASSIC_BASE + TERN_SVC_DAYTIME},
    {"qotd", optional_argument, NULL, SERVE_CLASSIC_BASE + TERN_SVC_QOTD},
    {"chargen", optional_argument, NULL, SERVE_CLASSIC_BASE + TERN_SVC_CHARGEN},
    {"time", optional_argument, NULL, SERVE_CLASSIC_BASE + TERN_SVC_TIME},
    {"all-classic", no_argument, NULL, SERVE_CLASSIC_BASE + 6},
    {"quote", required_argument, NULL, SERVE_CLASSIC_BASE + 7},
    {"netstat", no_argument, NULL, SERVE_CLASSIC_BASE + 8},
    {"netstat-info", no_argument, NULL, SERVE_CLASSIC_BASE + 9},
    {"numeric", no_argument, NULL, 'n'},
    {NULL, 0, NULL, 0},
};

const char serve_classic_help[] =
    "classic services, each on UDP and TCP (PORT: a number or a name from /etc/services;\n"
    "TCP: at most 32 connections per service at once, a newcomer closes the one\n"
    "longest without a byte moved; 60 s without a byte either way closes one):\n"
    "  --echo[=PORT]      echo, RFC 862 (port 7)\n"
    "  --discard[=PORT]   discard, RFC 863 (port 9)\n"
    "  --daytime[=PORT]   daytime, RFC 867 (port 13): \"Saturday, November 21, 2026 12:34:56-UTC\"\n"
    "  --qotd[=PORT]      quote of the day, RFC 865 (port 17)\n"
    "  --chargen[=PORT]   character generator, RFC 864 (port 19)\n"
    "  --time[=PORT]      time, RFC 868 (port 37): seconds since 1900, 32 bits\n"
    "  --all-classic      all six on their usual ports\n"
    "  --quote TEXT       the quote qotd sends (at most 511 bytes)\n"
    "socket table:\n"
    "  --netstat          print the socket table (netstat -a style) at exit;\n"
    "                     SIGUSR1 prints it at any time\n"
    "  --netstat-info     under each TCP connection of the table, its details as\n"
    "                     `ss -ti` prints them (cc, wscale, rto, rtt, mss, cwnd, ...)\n"
    "  -n, --numeric      port numbers in the table, not service names\n"
    "\n";

static struct serve_classic *active; /* for SIGUSR1 */

void serve_classic_merge(struct option *out, size_t cap, const struct option *cmd)
{
    size_t n = 0;
    for (; cmd && cmd->name && n + 1 < cap; cmd++)
        out[n++] = *cmd;
    for (const struct option *s = serve_classic_longopts; s->name && n + 1 < cap; s++)
        out[n++] = *s;
    memset(&out[n], 0, sizeof out[n]);
}

int serve_classic_handle(struct serve_classic *c, int opt, const char *arg)
{
    if (opt == 'n') {
        c->numeric = true;
        return 1;
    }
    int k = opt - SERVE_CLASSIC_BASE;
    if (k < 0 || k > 9)
        return 0;
    if (k < TERN_SVC_COUNT) {
        c->o.enable |= 1u << k;
        if (arg) {
            uint16_t port;
            if (tool_parse_port(arg, TERN_SERVDB_UDP, "tern serve", &port) < 0)
                return -1;
            if (port == 0) {
                fprintf(stderr, "tern serve: --%s: port 0 is not a port to serve on\n",
                        classic_name((enum tern_svc)k));
                return -1;
            }
            c->o.port[k] = port;
        }
    } else if (k == 6) {
        c->o.enable |= (1u << TERN_SVC_COUNT) - 1;
    } else if (k == 7) {
        if (strlen(arg) > TERN_SVC_QOTD_MAX) {
            fprintf(stderr, "tern serve: --quote: at most %d bytes (RFC 865)\n", TERN_SVC_QOTD_MAX);
            return -1;
        }
        c->o.quote = arg;
    } else if (k == 8) {
        c->netstat_at_exit = true;
    } else {
        c->netstat_info = true;
    }
    return 1;
}

int serve_classic_start(struct serve_classic *c, struct tern_env *env)
{
    c->stack = env->stack;
    active = c;
    if (!c->o.enable)
        return 0;
    /* loop time + offset = Unix time (the loop's clock is monotonic) */
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    c->o.epoch_offset_us = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 -
                           (int64_t)tern_loop_now(env->loop);
    int err = 0;
    enum tern_svc failed = TERN_SVC_COUNT;
    c->sv = services_start(env->stack, env->loop, &c->o, &err, &failed);
    if (!c->sv) {
        if (failed < TERN_SVC_COUNT)
            fprintf(stderr, "tern serve: %s on udp port %u: %s\n", classic_name(failed),
                    c->o.port[failed] ? c->o.port[failed] : classic_port(failed),
                    tern_strerror(err));
        else
            fprintf(stderr, "tern serve: classic services: %s\n", tern_strerror(err));
        return 1;
    }
    c->svt = services_tcp_start(env->stack, env->loop, &c->o, &err, &failed);
    if (!c->svt && err != TERN_E_UNSUPPORTED) {
        if (failed < TERN_SVC_COUNT)
            fprintf(stderr, "tern serve: %s on tcp port %u: %s\n", classic_name(failed),
                    c->o.port[failed] ? c->o.port[failed] : classic_port(failed),
                    tern_strerror(err));
        else
            fprintf(stderr, "tern serve: classic services over tcp: %s\n", tern_strerror(err));
        return 1;
    }
    for (int t = 0; t < 2; t++) {
        if (t == 1 && !c->svt)
            break; /* a stack built without TCP */
        fprintf(stderr, "tern serve: %s", t ? "tcp" : "udp");
        for (int i = 0; i < TERN_SVC_COUNT; i++)
            if (c->o.enable & (1u << i))
                fprintf(stderr, " %s/%u", classic_name((enum tern_svc)i),
                        c->o.port[i] ? c->o.port[i] : classic_port((enum tern_svc)i));
        fprintf(stderr, "\n");
    }
    return 0;
}

void serve_classic_netstat(struct serve_classic *c, FILE *out)
{
    if (!c)
        c = active;
    if (!c || !c->stack)
        return;
    netstat_print(out, c->stack, c->numeric ? NULL : tool_servdb(),
                       (c->numeric ? TERN_NETSTAT_NUMERIC : 0) |
                           (c->netstat_info ? TERN_NETSTAT_INFO : 0));
    fflush(out);
}

void serve_classic_stop(struct serve_classic *c)
{
    if (c->netstat_at_exit)
        serve_classic_netstat(c, stdout);
    if (c->sv) {
        struct services_stats st;
        services_stats(c->sv, &st);
        fprintf(stderr, "tern serve: classic services:");
        for (int i = 0; i < TERN_SVC_COUNT; i++)
            if (c->o.enable & (1u << i))
                fprintf(stderr, " %s %llu/%llu", classic_name((enum tern_svc)i),
                        (unsigned long long)st.requests[i], (unsigned long long)st.replies[i]);
        fprintf(stderr, " (requests/replies), %llu ignored, %llu send errors\n",
                (unsigned long long)st.ignored, (unsigned long long)st.send_errors);
    }
    if (c->svt) {
        struct services_tcp_stats st;
        services_tcp_stats(c->svt, &st);
        fprintf(stderr, "tern serve: classic services over tcp:");
        for (int i = 0; i < TERN_SVC_COUNT; i++)
            if (c->o.enable & (1u << i))
                fprintf(stderr, " %s %llu", classic_name((enum tern_svc)i),
                        (unsigned long long)st.accepted[i]);
        fprintf(stderr, " (connections), %llu errors, %llu closed idle, %llu closed for a newcomer\n",
                (unsigned long long)st.errors, (unsigned long long)st.idle_closed,
                (unsigned long long)st.evicted);
    }
    services_tcp_free(c->svt);
    c->svt = NULL;
    services_free(c->sv);
    c->sv = NULL;
    c->stack = NULL;
    if (active == c)
        active = NULL;
}
