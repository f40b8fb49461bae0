/*
 * fuzz/dns_server_fuzz.c - libFuzzer target for the authoritative answer
 * (dns_zone_answer in src/app/dns_server.c) over a fixed zone (the
 * records of examples/zones/example.test.zone, plus a CNAME loop).
 * Input: one query (UDP payload).
 *
 * Checks: no reply to runts or responses (QR=1); every reply fits 512
 * octets, keeps the ID, has QR set, and reads back cleanly with the
 * codec; AA only with NOERROR/NXDOMAIN; REFUSED/FORMERR/NOTIMP carry no
 * records. ATTACKS 40-45 from the server's side.
 */
#include <stdlib.h>
#include <string.h>

#include "app/dns_server.h"
#include "tern/wire/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(c)        \
    do {                       \
        if (!(c))              \
            abort();           \
    } while (0)

static const char zone_text[] =
    "$ORIGIN example.test.\n$TTL 3600\n"
    "@ 300 IN SOA ns1 hostmaster ( 2024010101 3600 900 604800 300 )\n"
    "  IN NS ns1\nns1 IN A 10.0.0.53\n"
    "www 300 IN A 10.0.0.5\n 300 IN AAAA 2001:db8::5\n"
    "web 300 IN CNAME www\nalias IN CNAME web.example.test.\n"
    "ext IN CNAME www.example.org.\ndeep.sub 1h IN A 10.0.0.9\n"
    "loop1 IN CNAME loop2\nloop2 IN CNAME loop1\n";

static struct tern_dns_zone *zone;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!zone) {
        char err[256];
        zone = dns_zone_parse(zone_text, sizeof zone_text - 1, "fuzz", err, sizeof err);
        CHECK_OR_DIE(zone != NULL);
    }
    uint8_t out[1024];
    int n = dns_zone_answer(zone, data, size, out, sizeof out);
    struct tern_dns_header qh;
    if (size < TERN_DNS_HLEN) {
        CHECK_OR_DIE(n == -1);
        return 0;
    }
    tern_dns_header_parse(data, size, &qh);
    if (qh.qr) {
        CHECK_OR_DIE(n == -1);
        return 0;
    }
    CHECK_OR_DIE(n >= TERN_DNS_HLEN && n <= TERN_DNS_UDP_MAX);
    struct tern_dns_reader r;
    CHECK_OR_DIE(tern_dns_reader_init(&r, out, (size_t)n) == 0);
    CHECK_OR_DIE(r.h.qr && r.h.id == qh.id && r.h.opcode == qh.opcode && r.h.rd == qh.rd);
    CHECK_OR_DIE(r.h.qdcount <= 1);
    struct tern_dns_question q;
    int k;
    while ((k = tern_dns_next_question(&r, &q)) == 1)
        ;
    CHECK_OR_DIE(k == 0);
    struct tern_dns_rr rr;
    int sec, nrr = 0;
    while ((k = tern_dns_next_rr(&r, &rr, &sec)) == 1)
        nrr++;
    CHECK_OR_DIE(k == 0 && !r.short_count);
    CHECK_OR_DIE(nrr == r.h.ancount + r.h.nscount + r.h.arcount);
    if (r.h.aa)
        CHECK_OR_DIE(r.h.rcode == TERN_DNS_R_NOERROR || r.h.rcode == TERN_DNS_R_NXDOMAIN);
    if (r.h.rcode != TERN_DNS_R_NOERROR && r.h.rcode != TERN_DNS_R_NXDOMAIN)
        CHECK_OR_DIE(nrr == 0);
    return 0;
}
