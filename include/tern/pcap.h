/*
 * tern/pcap.h - classic libpcap capture files ("pcap", not pcapng).
 *
 * File layout (the format libpcap and tcpdump read and write): a 24-byte
 * global header (magic, version 2.4, thiszone, sigfigs, snaplen, link type)
 * followed by records of a 16-byte header (seconds, microseconds or
 * nanoseconds, captured length, original length) and the captured bytes.
 * The writer always writes magic 0xa1b2c3d4 in host byte order with
 * microsecond timestamps. The reader accepts both byte orders and the
 * nanosecond magic 0xa1b23c4d (timestamps converted to microseconds).
 *
 * This is trace code, not the sans-IO core: it does stdio on a FILE* that
 * the caller owns (opens and closes). No allocation: the reader copies each
 * record into a caller-supplied buffer. Not thread-safe per object.
 */
#ifndef TERN_PCAP_H
#define TERN_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/api.h"
#include "tern/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_LINKTYPE_ETHERNET 1 /* DLT_EN10MB */
#define TERN_LINKTYPE_RAW 101    /* raw IPv4/IPv6, no link header */

#define TERN_PCAP_MAGIC_US 0xa1b2c3d4u
#define TERN_PCAP_MAGIC_NS 0xa1b23c4du
#define TERN_PCAP_SNAPLEN_DEFAULT 262144u /* what tcpdump writes */
#define TERN_PCAP_MAX_RECORD 262144u      /* reader: hard cap on one record's caplen */

struct tern_pcap_writer {
    FILE *f;
    uint32_t snaplen;
};

/* Writes the global header to f (owned by the caller, binary mode).
 * snaplen 0 means TERN_PCAP_SNAPLEN_DEFAULT. TERN_OK or TERN_E_IO. */
TERN_API int tern_pcap_writer_init(struct tern_pcap_writer *w, FILE *f, uint32_t linktype,
                                   uint32_t snaplen);

/* Appends one record: ts_us = microseconds since the epoch, wirelen = the
 * frame's length on the wire (>= len). At most snaplen bytes of data are
 * stored. TERN_OK, TERN_E_INVAL (wirelen < len) or TERN_E_IO. */
TERN_API int tern_pcap_write(struct tern_pcap_writer *w, uint64_t ts_us, const uint8_t *data, size_t len,
                             size_t wirelen);

/* fflush; the caller still owns and closes the FILE*. TERN_OK or TERN_E_IO. */
TERN_API int tern_pcap_writer_flush(struct tern_pcap_writer *w);

struct tern_pcap_reader {
    FILE *f;
    int swapped;      /* file byte order differs from ours */
    int nsec;         /* timestamps are nanoseconds */
    uint32_t snaplen; /* from the header */
    uint32_t linktype;
    uint16_t version_major, version_minor;
    uint64_t records; /* records returned so far */
};

struct tern_pcap_rec {
    uint64_t ts_us;   /* microseconds since the epoch */
    uint32_t caplen;  /* bytes stored in the caller's buffer */
    uint32_t wirelen; /* original length */
};

/* Reads and checks the global header. TERN_OK; TERN_E_FORMAT for an unknown
 * magic or a version other than 2.x; TERN_E_SHORT when the file is shorter
 * than the header; TERN_E_IO on a read error. */
TERN_API int tern_pcap_reader_init(struct tern_pcap_reader *r, FILE *f);

/* Reads the next record into buf[0..cap). Returns 1 with *rec filled, 0 at a
 * clean end of file, or a negative tern_err: TERN_E_SHORT (file ends inside
 * a record), TERN_E_BAD_LEN (caplen > TERN_PCAP_MAX_RECORD, or caplen >
 * wirelen; like libpcap, caplen > the header's snaplen is tolerated up to
 * the cap), TERN_E_NOSPC (caplen > cap), TERN_E_IO.
 * After an error the reader must not be used again. */
TERN_API int tern_pcap_read(struct tern_pcap_reader *r, struct tern_pcap_rec *rec, uint8_t *buf,
                            size_t cap);

/* "EN10MB (Ethernet)" / "RAW (Raw IP)" / "unknown" for the header line. */
TERN_API const char *tern_pcap_linktype_name(uint32_t linktype);

#ifdef __cplusplus
}
#endif
#endif
