/*
 * tern/wire/dns.h - DNS message codec (RFC 1035 s4, RFC 2181, RFC 3596).
 *
 * Pure, like every codec under tern/wire/: no state, no allocation, no time.
 * Reading is a cursor the caller holds (struct tern_dns_reader) over the
 * caller's buffer; writing is a cursor over the caller's output buffer
 * (struct tern_dns_writer) that compresses names (RFC 1035 s4.1.4).
 *
 * Names are handled in uncompressed wire form (struct tern_dns_name: length
 * octets and labels, ending with the root's zero octet; at most 255 octets,
 * RFC 1035 s2.3.4). Decoding a compressed name follows only strictly
 * backward pointers, a bounded number of times, and never writes more than
 * 255 octets (ATTACKS 40-43). Text conversion escapes every octet that is
 * not printable ASCII, and '.' and '\\' inside labels (RFC 2181 s11: a
 * label may hold any octet).
 *
 * Not: EDNS(0) option parsing (OPT records are kept raw), DNSSEC, TCP
 * framing (the 2-octet length prefix is the transport's business).
 */
#ifndef TERN_WIRE_DNS_H
#define TERN_WIRE_DNS_H

#include "tern/api.h"
#include "tern/wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_DNS_HLEN 12
#define TERN_DNS_PORT 53
#define TERN_DNS_UDP_MAX 512      /* RFC 1035 s2.3.4: UDP messages without EDNS */
#define TERN_DNS_NAME_MAX 255     /* octets of a name in wire form, RFC 1035 s2.3.4 */
#define TERN_DNS_LABEL_MAX 63     /* octets of a label */
#define TERN_DNS_TEXT_MAX 1024    /* a name as text, worst case every octet "\DDD" */
#define TERN_DNS_MAX_HOPS 64      /* compression pointers followed per name (ATTACKS 40) */
#define TERN_DNS_COMP_MAX 64      /* name offsets a writer remembers for compression */

/* TYPE values (RFC 1035 s3.2.2, RFC 3596 s2.1, RFC 6891 s6.1.1) */
enum {
    TERN_DNS_T_A = 1,
    TERN_DNS_T_NS = 2,
    TERN_DNS_T_CNAME = 5,
    TERN_DNS_T_SOA = 6,
    TERN_DNS_T_PTR = 12,
    TERN_DNS_T_MX = 15,
    TERN_DNS_T_TXT = 16,
    TERN_DNS_T_AAAA = 28,
    TERN_DNS_T_OPT = 41,
    TERN_DNS_T_ANY = 255
};
#define TERN_DNS_C_IN 1 /* CLASS IN */

/* OPCODE and RCODE values (RFC 1035 s4.1.1) */
#define TERN_DNS_OP_QUERY 0
enum {
    TERN_DNS_R_NOERROR = 0,
    TERN_DNS_R_FORMERR = 1,
    TERN_DNS_R_SERVFAIL = 2,
    TERN_DNS_R_NXDOMAIN = 3,
    TERN_DNS_R_NOTIMP = 4,
    TERN_DNS_R_REFUSED = 5
};

/* Sections, in message order */
enum tern_dns_section {
    TERN_DNS_SEC_QUESTION = 0,
    TERN_DNS_SEC_ANSWER = 1,
    TERN_DNS_SEC_AUTHORITY = 2,
    TERN_DNS_SEC_ADDITIONAL = 3
};

struct tern_dns_header {
    uint16_t id;
    bool qr;          /* response */
    uint8_t opcode;   /* 4 bits */
    bool aa, tc, rd, ra;
    uint8_t z;        /* the 3 bits between RA and RCODE (Z, AD, CD), kept as is */
    uint8_t rcode;    /* 4 bits */
    uint16_t qdcount, ancount, nscount, arcount;
};

/* A name in uncompressed wire form: wire[0..len), len 1..255, the last
 * octet is the root's 0. */
struct tern_dns_name {
    uint16_t len;
    uint8_t wire[TERN_DNS_NAME_MAX];
};

struct tern_dns_question {
    struct tern_dns_name name;
    uint16_t qtype, qclass;
};

struct tern_dns_soa {
    struct tern_dns_name mname, rname;
    uint32_t serial, refresh, retry, expire, minimum;
};

struct tern_dns_rr {
    struct tern_dns_name name;
    uint16_t type, rclass;
    uint32_t ttl;             /* RFC 2181 s8: a value with the top bit set reads as 0 */
    uint16_t rdlength;
    const uint8_t *rdata;     /* parse: into the message; emit: used for raw types */
    union {
        uint32_t a;           /* A: host order */
        uint8_t aaaa[16];     /* AAAA */
        struct tern_dns_name target; /* CNAME, NS, PTR */
        struct tern_dns_soa soa;     /* SOA */
    } u;                      /* other types: only rdata/rdlength */
};

/* Header: returns TERN_DNS_HLEN or TERN_E_SHORT. */
TERN_API int tern_dns_header_parse(const uint8_t *msg, size_t len, struct tern_dns_header *h);
/* Writes 12 octets (counts from h); TERN_E_NOSPC. */
TERN_API int tern_dns_header_emit(const struct tern_dns_header *h, uint8_t *buf, size_t cap);

/* Decodes the (possibly compressed) name at msg[off]. The octets in place
 * must end before `limit` (<= len: the end of an RDATA, or len); pointers
 * may reach any earlier octet of msg[12..len). Returns the offset just past
 * the name in place, or: TERN_E_SHORT (no terminating zero before limit,
 * ATTACKS 43), TERN_E_BAD_FIELD (label type 0x40/0x80, a pointer that is not
 * strictly backward or points into the header, too many pointers: ATTACKS
 * 40, 42), TERN_E_BAD_LEN (a pointer past the message, ATTACKS 41; a name
 * longer than 255 octets, ATTACKS 42). */
TERN_API int tern_dns_name_read(const uint8_t *msg, size_t len, size_t off, size_t limit,
                                struct tern_dns_name *out);

/* Text <-> name. from_text accepts "www.example.test", "www.example.test."
 * and "." (root); "\X" and "\DDD" escapes; TERN_E_BAD_LEN for an empty
 * label, a label > 63 or a name > 255 octets; TERN_E_INVAL for a bad escape.
 * to_text writes "www.example.test" (no final dot; the root is ".") and
 * returns its length, or TERN_E_NOSPC. */
TERN_API int tern_dns_name_from_text(const char *text, struct tern_dns_name *out);
TERN_API int tern_dns_name_to_text(const struct tern_dns_name *n, char *out, size_t cap);
/* Equal, ignoring ASCII case (RFC 4343 s3). */
TERN_API bool tern_dns_name_eq(const struct tern_dns_name *a, const struct tern_dns_name *b);
/* n is zone or below it. */
TERN_API bool tern_dns_name_in_zone(const struct tern_dns_name *n, const struct tern_dns_name *zone);
/* Number of labels (root: 0). */
TERN_API unsigned tern_dns_name_labels(const struct tern_dns_name *n);
/* n = label.parent (TERN_E_BAD_LEN if too long). Used for relative names. */
TERN_API int tern_dns_name_concat(struct tern_dns_name *n, const struct tern_dns_name *suffix);

/* Reading a message, item by item (RFC 1035 s4.1). */
struct tern_dns_reader {
    const uint8_t *msg;
    size_t len, off;          /* off: the next item */
    struct tern_dns_header h;
    int section;              /* enum tern_dns_section of the next item; 4 = done */
    uint16_t left;            /* items left in that section */
    bool short_count;         /* the message ended before its counts did (ATTACKS 45) */
};
/* Parses the header. Returns 0 or TERN_E_SHORT. */
TERN_API int tern_dns_reader_init(struct tern_dns_reader *r, const uint8_t *msg, size_t len);
/* Next question: 1 (got one), 0 (no question left), or a negative error. */
TERN_API int tern_dns_next_question(struct tern_dns_reader *r, struct tern_dns_question *q);
/* Next resource record of the answer, authority or additional section
 * (skipping any questions not yet read): 1 (got one; *section says where),
 * 0 (no record left: the counts are done, or the message ended exactly
 * where a record would start - r->short_count is then set, ATTACKS 45), or
 * a negative error (the reader is then done). RDATA checks (ATTACKS 44):
 * RDLENGTH past the end -> TERN_E_BAD_LEN; A with RDLENGTH != 4, AAAA with
 * != 16, names or SOA fields not filling RDATA exactly -> TERN_E_BAD_LEN. */
TERN_API int tern_dns_next_rr(struct tern_dns_reader *r, struct tern_dns_rr *rr, int *section);

/* Writing a message. Items must come in section order. */
struct tern_dns_writer {
    uint8_t *buf;
    size_t cap, len;
    int section;
    uint16_t count[4];
    uint16_t comp[TERN_DNS_COMP_MAX]; /* offsets of names written, for compression */
    unsigned ncomp;
};
/* Reserves the header. TERN_E_NOSPC if cap < 12. */
TERN_API int tern_dns_writer_init(struct tern_dns_writer *w, uint8_t *buf, size_t cap);
/* Each returns 0, TERN_E_NOSPC (nothing written: the caller may set TC and
 * finish) or TERN_E_INVAL (out of section order, bad record). */
TERN_API int tern_dns_put_question(struct tern_dns_writer *w, const struct tern_dns_question *q);
/* A, AAAA, CNAME, NS, PTR, SOA from rr->u (names compressed); any other
 * type from rr->rdata/rdlength. rr->rdlength is ignored for the known types. */
TERN_API int tern_dns_put_rr(struct tern_dns_writer *w, int section, const struct tern_dns_rr *rr);
/* Writes the header (flags from h, counts from w). Returns the length. */
TERN_API int tern_dns_writer_finish(struct tern_dns_writer *w, const struct tern_dns_header *h);

/* "A", "AAAA", ... or NULL; "NOERROR", "NXDOMAIN", ... (never NULL). */
TERN_API const char *tern_dns_type_name(uint16_t type);
TERN_API const char *tern_dns_rcode_name(uint8_t rcode);

#ifdef __cplusplus
}
#endif
#endif
