/*
 * src/app/dhcp_lease.c - a lease from a DHCP ACK/OFFER (RFC 2131 s4.4.5
 * T1/T2 defaults, RFC 1122 classful mask fallback) and the one-line lease
 * text the tools print. Used by dhcp_client.c.
 */
#include "app/dhcp_lease.h"

#include <stdio.h>
#include <string.h>

#define INFINITE_LEASE 0xffffffffu

static uint8_t mask_prefix(bool has, uint32_t mask, uint32_t addr)
{
    if (has) {
        uint8_t p = 0;
        while (p < 32 && (mask & (0x80000000u >> p)))
            p++;
        if (p == 32 || (mask << p) == 0)
            return p; /* contiguous */
    }
    /* no (or a non-contiguous) mask: the classful default, RFC 1122 s3.3.1.1 */
    return addr < 0x80000000u ? 8 : addr < 0xc0000000u ? 16 : 24;
}

void dhcp_lease_from(struct tern_dhcp_lease *l, const struct tern_dhcp_repr *r)
{
    memset(l, 0, sizeof *l);
    l->addr = r->yiaddr;
    l->prefix_len = mask_prefix(r->has_mask, r->mask, r->yiaddr);
    l->server = r->server_id;
    l->router = r->n_routers ? r->routers[0] : 0;
    l->n_dns = r->n_dns;
    memcpy(l->dns, r->dns, sizeof l->dns);
    l->lease_s = r->lease_s;
    /* s4.4.5: T1 defaults to 0.5 and T2 to 0.875 of the lease; values out
     * of order are replaced by the defaults */
    uint32_t t1 = (uint32_t)(r->lease_s / 2), t2 = (uint32_t)((uint64_t)r->lease_s * 7 / 8);
    if (r->has_t2 && r->t2_s < r->lease_s)
        t2 = r->t2_s;
    if (r->has_t1 && r->t1_s < t2)
        t1 = r->t1_s;
    if (t1 > t2)
        t1 = t2;
    l->t1_s = t1;
    l->t2_s = t2;
    if (r->hostname_len) {
        size_t n = r->hostname_len < sizeof l->hostname ? r->hostname_len : sizeof l->hostname - 1;
        memcpy(l->hostname, r->hostname, n);
    }
}

int dhcp_lease_format(const struct tern_dhcp_lease *l, char *buf, size_t cap)
{
    char a[16], s[16], r[16], d[16];
    int n = snprintf(buf, cap, "%s/%u from %s", tern_ipv4_ntoa(l->addr, a), l->prefix_len,
                     tern_ipv4_ntoa(l->server, s));
    if (n >= 0 && l->router && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, ", router %s", tern_ipv4_ntoa(l->router, r));
    for (unsigned i = 0; i < l->n_dns && n >= 0 && (size_t)n < cap; i++)
        n += snprintf(buf + n, cap - (size_t)n, "%s%s", i ? " " : ", dns ",
                      tern_ipv4_ntoa(l->dns[i], d));
    if (n >= 0 && (size_t)n < cap) {
        if (l->lease_s == INFINITE_LEASE)
            n += snprintf(buf + n, cap - (size_t)n, ", infinite");
        else
            n += snprintf(buf + n, cap - (size_t)n, ", %u s", l->lease_s);
    }
    return n;
}
