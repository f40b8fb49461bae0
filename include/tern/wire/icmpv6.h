/*
 * tern/wire/icmpv6.h - ICMPv6 (RFC 4443), Neighbor Discovery messages and
 * options (RFC 4861, RDNSS from RFC 8106) and MLD (RFC 2710 v1, RFC 3810
 * v2). The checksum covers the IPv6 pseudo-header (RFC 4443 s2.3), so
 * parse and emit take the source and destination addresses.
 *
 * Conventions of tern/wire/wire.h: pure, no state, no allocation,
 * thread-safe; parsed pointers point into the caller's buffer.
 */
#ifndef TERN_WIRE_ICMPV6_H
#define TERN_WIRE_ICMPV6_H

#include "tern/api.h"
#include "tern/wire/ipv6.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_ICMPV6_HLEN 8

/* Types (RFC 4443 s2.1; RFC 4861 s4; RFC 2710; RFC 3810) */
#define TERN_ICMPV6_DST_UNREACH 1
#define TERN_ICMPV6_PKT_TOO_BIG 2
#define TERN_ICMPV6_TIME_EXCEEDED 3
#define TERN_ICMPV6_PARAM_PROB 4
#define TERN_ICMPV6_ECHO_REQUEST 128
#define TERN_ICMPV6_ECHO_REPLY 129
#define TERN_ICMPV6_MLD_QUERY 130
#define TERN_ICMPV6_MLD_REPORT 131 /* MLDv1 */
#define TERN_ICMPV6_MLD_DONE 132   /* MLDv1 */
#define TERN_ICMPV6_ROUTER_SOLICIT 133
#define TERN_ICMPV6_ROUTER_ADVERT 134
#define TERN_ICMPV6_NEIGHBOR_SOLICIT 135
#define TERN_ICMPV6_NEIGHBOR_ADVERT 136
#define TERN_ICMPV6_REDIRECT 137
#define TERN_ICMPV6_MLD2_REPORT 143

/* An error message is any type below 128 (RFC 4443 s2.1). */
static inline bool tern_icmpv6_is_error(uint8_t type) { return type < 128; }

struct tern_icmpv6_repr {
    uint8_t type, code;
    uint16_t csum;        /* as received; emit computes its own */
    uint32_t rest;        /* the 4 bytes after the checksum: the MTU (Packet
                           * Too Big), the Pointer (Parameter Problem),
                           * identifier << 16 | sequence (Echo), or the
                           * message-specific fields (ND, MLD) */
    const uint8_t *data;  /* what follows those 8 bytes */
    size_t data_len;
};

/* Parses the ICMPv6 message buf[0..len) (the whole upper-layer payload)
 * sent from src to dst. Returns 8; errors TERN_E_SHORT, TERN_E_BAD_CSUM
 * (unless TERN_WIRE_NO_CSUM). */
TERN_API int tern_icmpv6_parse(const uint8_t *buf, size_t len, const struct tern_ipv6_addr *src,
                               const struct tern_ipv6_addr *dst, unsigned flags,
                               struct tern_icmpv6_repr *out);

/* Writes the 8-byte header and copies data_len bytes of data after it (data
 * may already be in place at buf + 8), with the checksum for src -> dst.
 * Returns 8 + data_len or TERN_E_NOSPC. */
TERN_API int tern_icmpv6_emit(const struct tern_icmpv6_repr *r, const struct tern_ipv6_addr *src,
                              const struct tern_ipv6_addr *dst, uint8_t *buf, size_t cap);

/* ---- Neighbor Discovery (RFC 4861) ---- */

#define TERN_ND_OPT_SRC_LLADDR 1
#define TERN_ND_OPT_TGT_LLADDR 2
#define TERN_ND_OPT_PREFIX 3
#define TERN_ND_OPT_REDIRECTED 4
#define TERN_ND_OPT_MTU 5
#define TERN_ND_OPT_RDNSS 25 /* RFC 8106 s5.1 */

/* The options a tern node uses, collected from one message. A repeated
 * option keeps its first instance, except prefixes and RDNSS servers, which
 * are counted and reached again with tern_nd_opt_next. */
struct tern_nd_opts {
    bool have_src_ll, have_tgt_ll, have_mtu;
    uint8_t src_ll[6], tgt_ll[6]; /* Ethernet link-layer addresses (RFC 2464 s8) */
    uint32_t mtu;
    unsigned prefixes, rdnss; /* how many Prefix Information / RDNSS options */
    const uint8_t *redirected; /* the Redirected Header option's packet bytes */
    size_t redirected_len;
};

/* One option of the walk (tern_nd_opt_next). */
struct tern_nd_opt {
    uint8_t type;
    size_t len;         /* whole option, bytes (the length field * 8) */
    const uint8_t *p;   /* the option, from its type byte */
};

/* Option walk over opts[0..len). Returns 1 with *opt set and *pos advanced,
 * 0 at the end, TERN_E_BAD_OPT for a zero length field (RFC 4861 s4.6: the
 * whole packet is discarded) or an option running past the end. */
TERN_API int tern_nd_opt_next(const uint8_t *opts, size_t len, size_t *pos, struct tern_nd_opt *opt);

struct tern_nd_prefix {
    uint8_t len;                /* prefix length, bits */
    bool on_link, autonomous;   /* L and A flags */
    uint32_t valid, preferred;  /* lifetimes, seconds (0xffffffff: infinity) */
    struct tern_ipv6_addr prefix;
};
/* A Prefix Information option (32 bytes); TERN_E_BAD_OPT if malformed. */
TERN_API int tern_nd_prefix_parse(const struct tern_nd_opt *o, struct tern_nd_prefix *out);

/* An RDNSS option (RFC 8106 s5.1): the lifetime and the i-th address;
 * TERN_E_BAD_OPT if i is past its addresses or the option is malformed. */
TERN_API int tern_nd_rdnss_get(const struct tern_nd_opt *o, size_t i, uint32_t *lifetime,
                               struct tern_ipv6_addr *out);

/* A Neighbor Discovery message, validated as RFC 4861 requires of a
 * receiver (s6.1.1 RS, s6.1.2 RA, s7.1.1 NS, s7.1.2 NA, s8.1 Redirect). */
struct tern_nd_repr {
    uint8_t type;
    /* RA */
    uint8_t cur_hop_limit;
    bool managed, other;        /* M and O flags */
    uint16_t router_lifetime;   /* seconds */
    uint32_t reachable_ms, retrans_ms;
    /* NA */
    bool router, solicited, override;
    /* NS, NA, Redirect */
    struct tern_ipv6_addr target;
    /* Redirect */
    struct tern_ipv6_addr dest;
    struct tern_nd_opts opts;
    const uint8_t *opt_bytes;   /* the raw option list, for tern_nd_opt_next */
    size_t opt_len;
};

/* Validates and parses m (a parsed ICMPv6 message of an ND type) carried in
 * the IPv6 header ip. Returns TERN_OK; TERN_E_BAD_FIELD when a receiver must
 * silently discard it (hop limit not 255, code not 0, a source that is not
 * link-local where required, a multicast target, an unspecified source with
 * a source link-layer option or to a non-solicited-node group, a solicited
 * NA to a multicast address, ...), TERN_E_SHORT, TERN_E_BAD_OPT (see
 * tern_nd_opt_next), TERN_E_UNSUPPORTED (not an ND type). */
TERN_API int tern_nd_parse(const struct tern_ipv6_repr *ip, const struct tern_icmpv6_repr *m,
                           struct tern_nd_repr *out);

/* Emits the body of an ND message (what follows the 8-byte ICMPv6 header,
 * its "rest" word included) for tern_icmpv6_emit: returns the rest word in
 * *rest and writes the target etc. and the options to buf. Supported for
 * RS, NS and NA; a non-NULL ll (6 bytes) adds the Source (RS, NS) or
 * Target (NA) Link-Layer Address option. Returns the bytes written,
 * TERN_E_NOSPC or TERN_E_INVAL. */
TERN_API int tern_nd_emit(const struct tern_nd_repr *r, const uint8_t *ll, uint32_t *rest, uint8_t *buf,
                          size_t cap);

/* ---- MLD (RFC 2710 v1, RFC 3810 v2) ---- */

#define TERN_MLD2_MODE_IS_INCLUDE 1
#define TERN_MLD2_MODE_IS_EXCLUDE 2
#define TERN_MLD2_CHANGE_TO_INCLUDE 3
#define TERN_MLD2_CHANGE_TO_EXCLUDE 4
#define TERN_MLD2_ALLOW_NEW_SOURCES 5
#define TERN_MLD2_BLOCK_OLD_SOURCES 6

/* A Multicast Listener Query (type 130): v1 when the body is 24 bytes, v2
 * (RFC 3810 s5.1) when it is 28 or more. */
struct tern_mld_query {
    bool v2;
    uint32_t max_resp_ms;       /* decoded (RFC 3810 s5.1.3) */
    struct tern_ipv6_addr group; /* :: for a general query */
    bool s_flag;
    uint8_t qrv;
    uint32_t qqi_s;             /* decoded (s5.1.9) */
    uint16_t nsources;
    const uint8_t *sources;     /* nsources * 16 bytes */
};
/* Validates (hop limit 1, link-local source: RFC 3810 s5.1.14/s6.2;
 * RFC 2710 s3/s5) and parses a query; TERN_E_BAD_FIELD / TERN_E_SHORT. */
TERN_API int tern_mld_query_parse(const struct tern_ipv6_repr *ip, const struct tern_icmpv6_repr *m,
                                  struct tern_mld_query *out);

/* One multicast address record of an MLDv2 report (RFC 3810 s5.2.4). */
struct tern_mld2_record {
    uint8_t type;
    struct tern_ipv6_addr group;
    uint16_t nsources;
    const uint8_t *sources;
};
/* Walks the records of a parsed MLDv2 report m: returns 1 with *rec set
 * (pos starts at 0), 0 after the last, TERN_E_SHORT / TERN_E_BAD_LEN if a
 * record runs past the message or the count does not match. */
TERN_API int tern_mld2_record_next(const struct tern_icmpv6_repr *m, size_t *pos, size_t *index,
                                   struct tern_mld2_record *rec);
/* An MLDv2 report body (after the 8-byte header: "rest" holds the record
 * count) with the given records, each without sources (tern joins and
 * leaves whole groups: MODE_IS_EXCLUDE {} / CHANGE_TO_INCLUDE {}). Returns
 * bytes written (20 per record) or TERN_E_NOSPC; *rest gets the rest word. */
TERN_API int tern_mld2_report_emit(const struct tern_mld2_record *recs, size_t n, uint32_t *rest,
                                   uint8_t *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
