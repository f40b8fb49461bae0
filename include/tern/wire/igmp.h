/*
 * tern/wire/igmp.h - IGMP, the IPv4 group membership protocol: v1/v2
 * (RFC 2236) and v3 (RFC 3376) queries and reports.
 *
 * Conventions of tern/wire/wire.h: pure, no state, no allocation,
 * thread-safe; parsed pointers point into the caller's buffer; group
 * addresses host order as in tern/wire/ipv4.h.
 */
#ifndef TERN_WIRE_IGMP_H
#define TERN_WIRE_IGMP_H

#include "tern/api.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_IPPROTO_IGMP 2

#define TERN_IGMP_QUERY 0x11
#define TERN_IGMP_V1_REPORT 0x12
#define TERN_IGMP_V2_REPORT 0x16
#define TERN_IGMP_V2_LEAVE 0x17
#define TERN_IGMP_V3_REPORT 0x22

/* IGMPv3 group record types (RFC 3376 s4.2.12), as MLDv2's */
#define TERN_IGMP3_MODE_IS_INCLUDE 1
#define TERN_IGMP3_MODE_IS_EXCLUDE 2
#define TERN_IGMP3_CHANGE_TO_INCLUDE 3
#define TERN_IGMP3_CHANGE_TO_EXCLUDE 4
#define TERN_IGMP3_ALLOW_NEW_SOURCES 5
#define TERN_IGMP3_BLOCK_OLD_SOURCES 6

struct tern_igmp_repr {
    uint8_t type;
    uint8_t version;        /* queries: 1, 2 or 3 by RFC 3376 s7.1; reports: by type */
    uint32_t max_resp_ms;   /* queries: decoded (v2: tenths of a second; v3 s4.1.1) */
    uint32_t group;         /* host order; 0 in a general query and a v3 report */
    /* v3 query */
    bool s_flag;
    uint8_t qrv;
    uint32_t qqi_s;         /* decoded (s4.1.7) */
    uint16_t nsources;      /* v3 query: sources; v3 report: group records */
    const uint8_t *sources; /* v3 query: nsources * 4 bytes; v3 report: the records */
    size_t sources_len;
};

/* Parses buf[0..len) (the whole IGMP message). Errors: TERN_E_SHORT (< 8),
 * TERN_E_BAD_CSUM (unless TERN_WIRE_NO_CSUM), TERN_E_BAD_LEN (a query of 9
 * to 11 bytes - RFC 3376 s7.1 says ignore it - or counts past the end). */
TERN_API int tern_igmp_parse(const uint8_t *buf, size_t len, unsigned flags, struct tern_igmp_repr *out);

/* One group record of a v3 report (RFC 3376 s4.2.4). */
struct tern_igmp3_record {
    uint8_t type;
    uint32_t group;
    uint16_t nsources;
    const uint8_t *sources;
};
/* Walks a parsed v3 report's records: 1 with *rec set (pos and index start
 * at 0), 0 after the last, TERN_E_SHORT / TERN_E_BAD_LEN when the records
 * and their count disagree. */
TERN_API int tern_igmp3_record_next(const struct tern_igmp_repr *r, size_t *pos, size_t *index,
                                    struct tern_igmp3_record *rec);

/* A v2 report or leave (8 bytes) for group. Returns 8 or TERN_E_NOSPC. */
TERN_API int tern_igmp_v2_emit(uint8_t type, uint32_t group, uint8_t *buf, size_t cap);
/* A v3 report with n records, each without sources. Returns 8 + 8n or
 * TERN_E_NOSPC. */
TERN_API int tern_igmp3_report_emit(const struct tern_igmp3_record *recs, size_t n, uint8_t *buf,
                                    size_t cap);

#ifdef __cplusplus
}
#endif
#endif
