/*
 * src/wire/igmp.c - IGMP v1/v2 (RFC 2236) and v3 (RFC 3376) codec
 * (tern/wire/igmp.h).
 */
#include "tern/wire/igmp.h"

#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"

/* RFC 3376 s4.1.1 / s4.1.7: codes from 128 are floating point */
static uint32_t igmp3_float(uint8_t c)
{
    return c < 128 ? c : (uint32_t)((c & 0xfu) | 0x10u) << (((c >> 4) & 7u) + 3);
}

int tern_igmp_parse(const uint8_t *buf, size_t len, unsigned flags, struct tern_igmp_repr *out)
{
    if (len < 8)
        return TERN_E_SHORT;
    /* RFC 2236 s2.3 / RFC 3376 s4.1.2: the checksum of the whole message */
    if (!(flags & TERN_WIRE_NO_CSUM) && tern_csum(buf, len) != 0)
        return TERN_E_BAD_CSUM;
    *out = (struct tern_igmp_repr){.type = buf[0], .group = tern_get32(buf + 4)};
    switch (buf[0]) {
    case TERN_IGMP_QUERY:
        /* RFC 3376 s7.1: 8 bytes and code 0 = v1, 8 bytes = v2, >= 12 = v3,
         * any other length is ignored */
        if (len == 8) {
            out->version = buf[1] ? 2 : 1;
            out->max_resp_ms = buf[1] ? buf[1] * 100u : 10000u; /* v1: 10 s (RFC 2236 s4) */
            return 8;
        }
        if (len < 12)
            return TERN_E_BAD_LEN;
        out->version = 3;
        out->max_resp_ms = igmp3_float(buf[1]) * 100u;
        out->s_flag = buf[8] & 0x08;
        out->qrv = buf[8] & 0x07;
        out->qqi_s = igmp3_float(buf[9]);
        out->nsources = tern_get16(buf + 10);
        if ((size_t)out->nsources * 4 > len - 12)
            return TERN_E_BAD_LEN;
        out->sources = buf + 12;
        out->sources_len = (size_t)out->nsources * 4;
        return 8;
    case TERN_IGMP_V1_REPORT:
        out->version = 1;
        return 8;
    case TERN_IGMP_V2_REPORT:
    case TERN_IGMP_V2_LEAVE:
        out->version = 2;
        return 8;
    case TERN_IGMP_V3_REPORT:
        /* RFC 3376 s4.2: reserved 16 bits, then the number of group records */
        out->version = 3;
        out->group = 0;
        out->nsources = tern_get16(buf + 6);
        out->sources = buf + 8;
        out->sources_len = len - 8;
        return 8;
    default: /* unknown types are ignored by the caller (RFC 3376 s4) */
        out->version = 0;
        return 8;
    }
}

int tern_igmp3_record_next(const struct tern_igmp_repr *r, size_t *pos, size_t *index,
                           struct tern_igmp3_record *rec)
{
    if (r->type != TERN_IGMP_V3_REPORT)
        return TERN_E_INVAL;
    if (*index >= r->nsources)
        return *pos == r->sources_len ? 0 : TERN_E_BAD_LEN;
    if (r->sources_len - *pos < 8)
        return TERN_E_SHORT;
    const uint8_t *p = r->sources + *pos;
    /* s4.2.4: type, aux data length (32-bit words), number of sources,
     * multicast address, sources, auxiliary data */
    size_t nsrc = tern_get16(p + 2);
    size_t need = 8 + 4 * nsrc + 4 * (size_t)p[1];
    if (need > r->sources_len - *pos)
        return TERN_E_SHORT;
    rec->type = p[0];
    rec->group = tern_get32(p + 4);
    rec->nsources = (uint16_t)nsrc;
    rec->sources = p + 8;
    *pos += need;
    (*index)++;
    return 1;
}

int tern_igmp_v2_emit(uint8_t type, uint32_t group, uint8_t *buf, size_t cap)
{
    if (cap < 8)
        return TERN_E_NOSPC;
    buf[0] = type;
    buf[1] = 0; /* max response time: 0 in reports (RFC 2236 s2.2) */
    tern_put16(buf + 2, 0);
    tern_put32(buf + 4, group);
    tern_put16(buf + 2, tern_csum(buf, 8));
    return 8;
}

int tern_igmp3_report_emit(const struct tern_igmp3_record *recs, size_t n, uint8_t *buf,
                           size_t cap)
{
    if (n > 0xffff || cap < 8 || n > (cap - 8) / 8)
        return TERN_E_NOSPC;
    size_t len = 8 + 8 * n;
    buf[0] = TERN_IGMP_V3_REPORT;
    buf[1] = 0;
    tern_put16(buf + 2, 0);
    tern_put16(buf + 4, 0);
    tern_put16(buf + 6, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf + 8 + 8 * i;
        p[0] = recs[i].type;
        p[1] = 0;
        tern_put16(p + 2, 0);
        tern_put32(p + 4, recs[i].group);
    }
    tern_put16(buf + 2, tern_csum(buf, len));
    return (int)len;
}
