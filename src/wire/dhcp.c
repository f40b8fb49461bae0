/*
 * dhcp.c - DHCP message codec (RFC 2131 s2/s4.1, RFC 2132, RFC 951).
 * Bounded option walk over the options field and, when option 52 says so,
 * the file and sname fields (ATTACKS 47); see tern/wire/dhcp.h for the
 * rules. Not: DHCP state machines, UDP/IP headers.
 */
#include "tern/wire/dhcp.h"

#include <string.h>

#include "tern/wire/bytes.h"

#define OFF_SNAME 44
#define OFF_FILE 108
#define OFF_COOKIE 236

const char *tern_dhcp_type_name(unsigned type)
{
    static const char *const names[] = {"?", "DISCOVER", "OFFER", "REQUEST", "DECLINE",
                                        "ACK", "NAK", "RELEASE", "INFORM"};
    return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

/* Keeps up to TERN_DHCP_MAX_ADDRS addresses of a list option (len % 4 == 0
 * checked by the caller). */
static uint8_t take_addrs(const uint8_t *v, uint8_t len, uint32_t *out)
{
    uint8_t n = 0;
    for (unsigned i = 0; i + 4 <= len && n < TERN_DHCP_MAX_ADDRS; i += 4)
        out[n++] = tern_get32(v + i);
    return n;
}

/* One option: checks RFC 2132's length rules and stores it (first
 * occurrence wins). Returns 0 or TERN_E_BAD_OPT. */
static int take_opt(uint8_t code, const uint8_t *v, uint8_t len, bool top,
                    struct tern_dhcp_repr *r)
{
    switch (code) {
    case TERN_DHCP_OPT_MASK:      /* RFC 2132 s3.3: length 4 */
    case TERN_DHCP_OPT_REQ_IP:    /* s9.1 */
    case TERN_DHCP_OPT_LEASE:     /* s9.2 */
    case TERN_DHCP_OPT_SERVER_ID: /* s9.7 */
    case TERN_DHCP_OPT_T1:        /* s9.11 */
    case TERN_DHCP_OPT_T2: {      /* s9.12 */
        if (len != 4)
            return TERN_E_BAD_OPT;
        uint32_t x = tern_get32(v);
        bool *has;
        uint32_t *dst;
        switch (code) {
        case TERN_DHCP_OPT_MASK: has = &r->has_mask; dst = &r->mask; break;
        case TERN_DHCP_OPT_REQ_IP: has = &r->has_req_ip; dst = &r->req_ip; break;
        case TERN_DHCP_OPT_LEASE: has = &r->has_lease; dst = &r->lease_s; break;
        case TERN_DHCP_OPT_SERVER_ID: has = &r->has_server_id; dst = &r->server_id; break;
        case TERN_DHCP_OPT_T1: has = &r->has_t1; dst = &r->t1_s; break;
        default: has = &r->has_t2; dst = &r->t2_s; break;
        }
        if (!*has) {
            *has = true;
            *dst = x;
        }
        return 0;
    }
    case TERN_DHCP_OPT_ROUTER: /* s3.5: length >= 4, a multiple of 4 */
    case TERN_DHCP_OPT_DNS:    /* s3.8 */
        if (len < 4 || len % 4)
            return TERN_E_BAD_OPT;
        if (code == TERN_DHCP_OPT_ROUTER && !r->n_routers)
            r->n_routers = take_addrs(v, len, r->routers);
        else if (code == TERN_DHCP_OPT_DNS && !r->n_dns)
            r->n_dns = take_addrs(v, len, r->dns);
        return 0;
    case TERN_DHCP_OPT_MSG_TYPE: /* s9.6: length 1, 1..8 */
        if (len != 1 || v[0] < 1 || v[0] > 8)
            return TERN_E_BAD_OPT;
        if (!r->msg_type)
            r->msg_type = v[0];
        return 0;
    case TERN_DHCP_OPT_OVERLOAD: /* s9.3: length 1, 1..3 */
        if (len != 1 || v[0] < 1 || v[0] > 3)
            return TERN_E_BAD_OPT;
        if (top && !r->overload) /* inside file/sname: ignored, never followed */
            r->overload = v[0];
        return 0;
    case TERN_DHCP_OPT_HOSTNAME: /* s3.14: minimum length 1 */
    case TERN_DHCP_OPT_PRL:      /* s9.8: minimum length 1 */
    case TERN_DHCP_OPT_MESSAGE:  /* s9.9: minimum length 1 */
    case TERN_DHCP_OPT_CLIENT_ID: { /* s9.14: minimum length 2 */
        if (len < (code == TERN_DHCP_OPT_CLIENT_ID ? 2 : 1))
            return TERN_E_BAD_OPT;
        const uint8_t **p;
        uint8_t *l;
        switch (code) {
        case TERN_DHCP_OPT_HOSTNAME: p = &r->hostname; l = &r->hostname_len; break;
        case TERN_DHCP_OPT_PRL: p = &r->prl; l = &r->prl_len; break;
        case TERN_DHCP_OPT_MESSAGE: p = &r->message; l = &r->message_len; break;
        default: p = &r->client_id; l = &r->client_id_len; break;
        }
        if (!*l) {
            *p = v;
            *l = len;
        }
        return 0;
    }
    default:
        return 0; /* unknown: skipped by its length */
    }
}

/* Walks one option area [p, p+len): each step consumes at least one byte,
 * so the loop ends within len steps. Returns the offset just past END, or
 * TERN_E_BAD_OPT (an option past the end, no END, a bad known option). */
static int walk(const uint8_t *p, size_t len, bool top, struct tern_dhcp_repr *r)
{
    size_t i = 0;
    while (i < len) {
        uint8_t code = p[i];
        if (code == TERN_DHCP_OPT_PAD) {
            i++;
            continue;
        }
        if (code == TERN_DHCP_OPT_END)
            return (int)(i + 1);
        /* code and length byte, then len bytes: all must be present */
        if (i + 2 > len || i + 2 + (size_t)p[i + 1] > len)
            return TERN_E_BAD_OPT;
        uint8_t olen = p[i + 1];
        int e = take_opt(code, p + i + 2, olen, top, r);
        if (e < 0)
            return e;
        i += 2 + (size_t)olen;
    }
    return TERN_E_BAD_OPT; /* RFC 2131 s4.1: the options end with END */
}

int tern_dhcp_parse(const uint8_t *buf, size_t len, struct tern_dhcp_repr *out)
{
    if (len < TERN_DHCP_MIN_LEN)
        return TERN_E_SHORT;
    if (tern_get32(buf + OFF_COOKIE) != TERN_DHCP_COOKIE)
        return TERN_E_BAD_VERSION;
    struct tern_dhcp_repr r;
    memset(&r, 0, sizeof r);
    r.op = buf[0];
    r.htype = buf[1];
    r.hlen = buf[2];
    r.hops = buf[3];
    if ((r.op != TERN_DHCP_BOOTREQUEST && r.op != TERN_DHCP_BOOTREPLY) || r.hlen > 16)
        return TERN_E_BAD_FIELD;
    r.xid = tern_get32(buf + 4);
    r.secs = tern_get16(buf + 8);
    r.flags = tern_get16(buf + 10);
    r.ciaddr = tern_get32(buf + 12);
    r.yiaddr = tern_get32(buf + 16);
    r.siaddr = tern_get32(buf + 20);
    r.giaddr = tern_get32(buf + 24);
    memcpy(r.chaddr, buf + 28, 16);
    int used = walk(buf + TERN_DHCP_MIN_LEN, len - TERN_DHCP_MIN_LEN, true, &r);
    if (used < 0)
        return used;
    used += TERN_DHCP_MIN_LEN;
    /* RFC 2131 s4.1: with overload, "file" is read after "options", then
     * "sname"; each overloaded field must end with END too. */
    r.file = buf + OFF_FILE;
    r.sname = buf + OFF_SNAME;
    if (r.overload & 1) {
        int e = walk(buf + OFF_FILE, 128, false, &r);
        if (e < 0)
            return e;
        r.file = NULL;
    }
    if (r.overload & 2) {
        int e = walk(buf + OFF_SNAME, 64, false, &r);
        if (e < 0)
            return e;
        r.sname = NULL;
    }
    *out = r;
    return used;
}

/* Appends code/len/value if it fits. */
static int put_opt(uint8_t *buf, size_t cap, size_t *n, uint8_t code, const void *v, size_t len)
{
    if (len > 255)
        return TERN_E_INVAL;
    if (*n + 2 + len > cap)
        return TERN_E_NOSPC;
    buf[*n] = code;
    buf[*n + 1] = (uint8_t)len;
    if (len)
        memcpy(buf + *n + 2, v, len);
    *n += 2 + len;
    return 0;
}

static int put_u32(uint8_t *buf, size_t cap, size_t *n, uint8_t code, uint32_t x)
{
    uint8_t v[4];
    tern_put32(v, x);
    return put_opt(buf, cap, n, code, v, 4);
}

static int put_addrs(uint8_t *buf, size_t cap, size_t *n, uint8_t code, const uint32_t *a,
                     uint8_t count)
{
    uint8_t v[4 * TERN_DHCP_MAX_ADDRS];
    for (unsigned i = 0; i < count; i++)
        tern_put32(v + 4 * i, a[i]);
    return put_opt(buf, cap, n, code, v, 4u * count);
}

int tern_dhcp_emit(const struct tern_dhcp_repr *r, uint8_t *buf, size_t cap)
{
    if (r->hlen > 16 || r->n_routers > TERN_DHCP_MAX_ADDRS || r->n_dns > TERN_DHCP_MAX_ADDRS ||
        r->client_id_len == 1)
        return TERN_E_INVAL;
    if (cap < TERN_DHCP_MIN_LEN)
        return TERN_E_NOSPC;
    memset(buf, 0, TERN_DHCP_MIN_LEN);
    buf[0] = r->op;
    buf[1] = r->htype;
    buf[2] = r->hlen;
    buf[3] = r->hops;
    tern_put32(buf + 4, r->xid);
    tern_put16(buf + 8, r->secs);
    tern_put16(buf + 10, r->flags);
    tern_put32(buf + 12, r->ciaddr);
    tern_put32(buf + 16, r->yiaddr);
    tern_put32(buf + 20, r->siaddr);
    tern_put32(buf + 24, r->giaddr);
    memcpy(buf + 28, r->chaddr, 16);
    if (r->sname)
        memcpy(buf + OFF_SNAME, r->sname, 64);
    if (r->file)
        memcpy(buf + OFF_FILE, r->file, 128);
    tern_put32(buf + OFF_COOKIE, TERN_DHCP_COOKIE);
    size_t n = TERN_DHCP_MIN_LEN;
    int e = 0;
    if (r->msg_type) {
        uint8_t t = r->msg_type;
        e = put_opt(buf, cap, &n, TERN_DHCP_OPT_MSG_TYPE, &t, 1);
    }
    if (!e && r->client_id_len)
        e = put_opt(buf, cap, &n, TERN_DHCP_OPT_CLIENT_ID, r->client_id, r->client_id_len);
    if (!e && r->has_req_ip)
        e = put_u32(buf, cap, &n, TERN_DHCP_OPT_REQ_IP, r->req_ip);
    if (!e && r->has_server_id)
        e = put_u32(buf, cap, &n, TERN_DHCP_OPT_SERVER_ID, r->server_id);
    if (!e && r->has_lease)
        e = put_u32(buf, cap, &n, TERN_DHCP_OPT_LEASE, r->lease_s);
    if (!e && r->has_t1)
        e = put_u32(buf, cap, &n, TERN_DHCP_OPT_T1, r->t1_s);
    if (!e && r->has_t2)
        e = put_u32(buf, cap, &n, TERN_DHCP_OPT_T2, r->t2_s);
    if (!e && r->has_mask)
        e = put_u32(buf, cap, &n, TERN_DHCP_OPT_MASK, r->mask);
    if (!e && r->n_routers)
        e = put_addrs(buf, cap, &n, TERN_DHCP_OPT_ROUTER, r->routers, r->n_routers);
    if (!e && r->n_dns)
        e = put_addrs(buf, cap, &n, TERN_DHCP_OPT_DNS, r->dns, r->n_dns);
    if (!e && r->hostname_len)
        e = put_opt(buf, cap, &n, TERN_DHCP_OPT_HOSTNAME, r->hostname, r->hostname_len);
    if (!e && r->message_len)
        e = put_opt(buf, cap, &n, TERN_DHCP_OPT_MESSAGE, r->message, r->message_len);
    if (!e && r->prl_len)
        e = put_opt(buf, cap, &n, TERN_DHCP_OPT_PRL, r->prl, r->prl_len);
    if (e)
        return e;
    if (n + 1 > cap)
        return TERN_E_NOSPC;
    buf[n++] = TERN_DHCP_OPT_END;
    /* RFC 1542 s2.1: some BOOTP relays drop messages shorter than 300
     * bytes; pad (PAD options) up to that. */
    if (n < TERN_DHCP_BOOTP_MIN) {
        if (cap < TERN_DHCP_BOOTP_MIN)
            return TERN_E_NOSPC;
        memset(buf + n, 0, TERN_DHCP_BOOTP_MIN - n);
        n = TERN_DHCP_BOOTP_MIN;
    }
    return (int)n;
}
