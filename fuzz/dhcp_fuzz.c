/*
 * fuzz/dhcp_fuzz.c - libFuzzer target for the DHCP codec (src/wire/dhcp.c).
 * Input: a UDP payload.
 *
 * Checks: parse never reads past the input (ASan) and its result is in
 * [240, len]; a parsed repr re-emits, and the emitted message re-parses to
 * the same fields (abort() if not). ATTACKS 47.
 */
#include <stdlib.h>
#include <string.h>

#include "tern/wire/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(c)        \
    do {                       \
        if (!(c))              \
            abort();           \
    } while (0)

static bool bytes_same(const uint8_t *a, uint8_t al, const uint8_t *b, uint8_t bl)
{
    return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tern_dhcp_repr r;
    int n = tern_dhcp_parse(data, size, &r);
    if (n < 0)
        return 0;
    CHECK_OR_DIE(n >= TERN_DHCP_MIN_LEN && (size_t)n <= size);
    CHECK_OR_DIE(r.hlen <= 16 && r.n_dns <= TERN_DHCP_MAX_ADDRS &&
                 r.n_routers <= TERN_DHCP_MAX_ADDRS);
    static uint8_t buf[4096];
    int m = tern_dhcp_emit(&r, buf, sizeof buf);
    CHECK_OR_DIE(m >= TERN_DHCP_BOOTP_MIN);
    struct tern_dhcp_repr p;
    CHECK_OR_DIE(tern_dhcp_parse(buf, (size_t)m, &p) > 0);
    CHECK_OR_DIE(p.op == r.op && p.htype == r.htype && p.hlen == r.hlen && p.hops == r.hops);
    CHECK_OR_DIE(p.xid == r.xid && p.secs == r.secs && p.flags == r.flags);
    CHECK_OR_DIE(p.ciaddr == r.ciaddr && p.yiaddr == r.yiaddr && p.siaddr == r.siaddr &&
                 p.giaddr == r.giaddr && memcmp(p.chaddr, r.chaddr, 16) == 0);
    CHECK_OR_DIE(p.msg_type == r.msg_type && p.overload == 0);
    CHECK_OR_DIE(p.has_mask == r.has_mask && (!r.has_mask || p.mask == r.mask));
    CHECK_OR_DIE(p.has_lease == r.has_lease && (!r.has_lease || p.lease_s == r.lease_s));
    CHECK_OR_DIE(p.has_t1 == r.has_t1 && (!r.has_t1 || p.t1_s == r.t1_s));
    CHECK_OR_DIE(p.has_t2 == r.has_t2 && (!r.has_t2 || p.t2_s == r.t2_s));
    CHECK_OR_DIE(p.has_server_id == r.has_server_id && (!r.has_server_id || p.server_id == r.server_id));
    CHECK_OR_DIE(p.has_req_ip == r.has_req_ip && (!r.has_req_ip || p.req_ip == r.req_ip));
    CHECK_OR_DIE(p.n_routers == r.n_routers && p.n_dns == r.n_dns);
    CHECK_OR_DIE(memcmp(p.routers, r.routers, sizeof r.routers[0] * r.n_routers) == 0);
    CHECK_OR_DIE(memcmp(p.dns, r.dns, sizeof r.dns[0] * r.n_dns) == 0);
    CHECK_OR_DIE(bytes_same(p.hostname, p.hostname_len, r.hostname, r.hostname_len));
    CHECK_OR_DIE(bytes_same(p.prl, p.prl_len, r.prl, r.prl_len));
    CHECK_OR_DIE(bytes_same(p.client_id, p.client_id_len, r.client_id, r.client_id_len));
    CHECK_OR_DIE(bytes_same(p.message, p.message_len, r.message, r.message_len));
    /* fields not overloaded carry over byte for byte */
    CHECK_OR_DIE(!r.sname || (p.sname && memcmp(p.sname, r.sname, 64) == 0));
    CHECK_OR_DIE(!r.file || (p.file && memcmp(p.file, r.file, 128) == 0));
    return 0;
}
