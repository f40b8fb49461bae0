/* tools/serve_dns.c - `tern serve --dns ZONEFILE` (see serve_dns.h). */
#include "serve_dns.h"

#include <stdio.h>

#include "app/dns_server.h"

const char serve_dns_help[] =
    "DNS server options:\n"
    "  --dns ZONEFILE   answer authoritatively for the zone in ZONEFILE on UDP and TCP\n"
    "                   port 53 (A, AAAA, CNAME, NS, SOA; format: docs/dns.md); UDP\n"
    "                   answers over 512 octets are cut with TC (no EDNS), TCP ones not;\n"
    "                   TCP: at most 16 connections (a 17th closes the one longest\n"
    "                   without a query), 10 s without a complete query closes one\n";

int serve_dns_start(struct serve_dns *d, struct tern_env *env)
{
    if (!d->zonefile)
        return 0;
    char err[512];
    d->zone = dns_zone_load(d->zonefile, err, sizeof err);
    if (!d->zone) {
        fprintf(stderr, "tern serve: --dns: %s\n", err);
        return 2;
    }
    int e;
    d->srv = dns_server_start(env->stack, env->loop, d->zone, 0, &e);
    if (!d->srv) {
        fprintf(stderr, "tern serve: --dns: port 53: %s\n", tern_strerror(e));
        dns_zone_free(d->zone);
        d->zone = NULL;
        return 1;
    }
    char apex[TERN_DNS_TEXT_MAX];
    tern_dns_name_to_text(dns_zone_apex(d->zone), apex, sizeof apex);
    fprintf(stderr, "tern serve: dns: zone %s (%zu records) on udp and tcp port 53\n", apex,
            dns_zone_count(d->zone));
    return 0;
}

void serve_dns_stop(struct serve_dns *d)
{
    if (d->srv) {
        const struct dns_server_stats *s = dns_server_stats(d->srv);
        fprintf(stderr,
                "tern serve: dns queries %llu, answers %llu, nxdomain %llu, nodata %llu, "
                "refused %llu, formerr %llu, dropped %llu, truncated %llu, tcp queries %llu "
                "(%llu connections, %llu idle ones closed to make room)\n",
                (unsigned long long)s->queries, (unsigned long long)s->answers,
                (unsigned long long)s->nxdomain, (unsigned long long)s->nodata,
                (unsigned long long)s->refused, (unsigned long long)s->formerr,
                (unsigned long long)s->dropped, (unsigned long long)s->truncated,
                (unsigned long long)s->tcp_queries, (unsigned long long)s->tcp_conns,
                (unsigned long long)s->tcp_evicted);
    }
    dns_server_free(d->srv);
    dns_zone_free(d->zone);
    d->srv = NULL;
    d->zone = NULL;
}
