/* tools/serve_dhcp.c - `tern serve --dhcp-server ...` (see serve_dhcp.h). */
#include "serve_dhcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/dhcp_server.h"

const struct option serve_dhcp_longopts[] = {
    {"dhcp-server", required_argument, NULL, SERVE_DHCP_BASE + 0},
    {"lease-time", required_argument, NULL, SERVE_DHCP_BASE + 1},
    {"lease-file", required_argument, NULL, SERVE_DHCP_BASE + 2},
    {"dhcp-router", required_argument, NULL, SERVE_DHCP_BASE + 3},
    {"dhcp-dns", required_argument, NULL, SERVE_DHCP_BASE + 4},
    {NULL, 0, NULL, 0},
};

const char serve_dhcp_help[] =
    "DHCP server options:\n"
    "  --dhcp-server FIRST-LAST  serve addresses FIRST..LAST by DHCP (within our subnet)\n"
    "  --lease-time S            lease time in seconds (default 3600)\n"
    "  --lease-file F            keep leases in file F (text: ADDRESS EXPIRES KEY)\n"
    "  --dhcp-router A           router option (default: --gw, if given)\n"
    "  --dhcp-dns A              DNS server option (default: none)\n";

int serve_dhcp_opt(struct serve_dhcp *d, int opt, const char *arg)
{
    unsigned long v;
    switch (opt - SERVE_DHCP_BASE) {
    case 0: {
        char a[32];
        const char *dash = strchr(arg, '-');
        size_t n = dash ? (size_t)(dash - arg) : 0;
        if (!dash || n >= sizeof a)
            goto bad;
        memcpy(a, arg, n);
        a[n] = 0;
        if (tern_ipv4_aton(a, &d->first) < 0 || tern_ipv4_aton(dash + 1, &d->last) < 0 ||
            d->first > d->last)
            goto bad;
        d->on = true;
        return 1;
    }
    case 1:
        if (parse_ulong(arg, 10, 0xfffffffeul, &v) < 0)
            goto bad;
        d->lease_s = (uint32_t)v;
        return 1;
    case 2:
        d->lease_file = arg;
        return 1;
    case 3:
        if (tern_ipv4_aton(arg, &d->router) < 0)
            goto bad;
        return 1;
    case 4:
        if (tern_ipv4_aton(arg, &d->dns) < 0)
            goto bad;
        return 1;
    default:
        return 0;
    }
bad:
    fprintf(stderr, "tern serve: bad value '%s' for --%s\n", arg,
            serve_dhcp_longopts[opt - SERVE_DHCP_BASE].name);
    return -1;
}

/* Rewrites the lease file atomically: F.tmp, fsync, rename. */
static void save(void *ctx)
{
    struct serve_dhcp *d = ctx;
    if (!d->lease_file || !d->srv)
        return;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", d->lease_file) >= (int)sizeof tmp)
        return;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "tern serve: cannot write %s: %s\n", tmp, strerror(errno));
        return;
    }
    int r = dhcp_server_save(d->srv, f, (int64_t)time(NULL));
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        r = -1;
    if (fclose(f) != 0)
        r = -1;
    if (r < 0 || rename(tmp, d->lease_file) != 0) {
        fprintf(stderr, "tern serve: cannot write %s: %s\n", d->lease_file, strerror(errno));
        unlink(tmp);
    }
}

int serve_dhcp_start(struct serve_dhcp *d, struct tern_env *env, const struct stack_opts *so)
{
    if (!d->on)
        return 0;
    struct tern_dhcp_server_opts o = {.ifindex = env->ifindex, .first = d->first,
                                      .last = d->last, .lease_s = d->lease_s,
                                      .router = d->router ? d->router : so->gw,
                                      .n_dns = d->dns ? 1 : 0, .dns = {d->dns},
                                      .on_change = save, .ctx = d};
    int err;
    d->srv = dhcp_server_start(env->stack, env->loop, &o, &err);
    if (!d->srv) {
        if (err == TERN_E_INVAL)
            fprintf(stderr, "tern serve: --dhcp-server: the pool must lie in our subnet\n");
        else
            fprintf(stderr, "tern serve: DHCP server: %s\n", tern_strerror(err));
        return err == TERN_E_INVAL ? 2 : 1;
    }
    if (d->lease_file) {
        FILE *f = fopen(d->lease_file, "r");
        if (f) {
            int n = dhcp_server_load(d->srv, f, (int64_t)time(NULL));
            fclose(f);
            fprintf(stderr, "tern serve: %d DHCP lease%s loaded from %s\n", n, n == 1 ? "" : "s",
                    d->lease_file);
        }
    }
    char a[16], b[16];
    fprintf(stderr, "tern serve: DHCP server for %s-%s\n", tern_ipv4_ntoa(d->first, a),
            tern_ipv4_ntoa(d->last, b));
    return 0;
}

void serve_dhcp_stop(struct serve_dhcp *d)
{
    if (d->srv) {
        const struct dhcp_server_stats *st = dhcp_server_stats(d->srv);
        fprintf(stderr, "tern serve: dhcp discovers %llu, offers %llu, acks %llu, naks %llu\n",
                (unsigned long long)st->discovers, (unsigned long long)st->offers,
                (unsigned long long)st->acks, (unsigned long long)st->naks);
    }
    dhcp_server_free(d->srv);
    d->srv = NULL;
}
