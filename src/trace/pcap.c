/*
 * src/trace/pcap.c - classic libpcap file writer and reader (see
 * tern/pcap.h for the format). Trace code, not the sans-IO core: stdio on
 * a caller-owned FILE*, no allocation (records land in the caller's buffer).
 *
 * The reader treats the file as untrusted: every header field is checked
 * before use, a record is never read past its stated length or the
 * caller's buffer, and a record longer than max(snaplen, 256 KiB) - capped
 * at 256 KiB - or with caplen > wirelen is rejected as corrupt.
 */
#include <string.h>

#include "tern/pcap.h"

static void put32h(uint8_t *p, uint32_t v) /* host byte order, as libpcap writes */
{
    memcpy(p, &v, 4);
}

static void put16h(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static uint32_t get32h(const uint8_t *p, int swapped)
{
    uint32_t v;
    memcpy(&v, p, 4);
    if (swapped)
        v = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    return v;
}

static uint16_t get16h(const uint8_t *p, int swapped)
{
    uint16_t v;
    memcpy(&v, p, 2);
    if (swapped)
        v = (uint16_t)(v >> 8 | v << 8);
    return v;
}

int tern_pcap_writer_init(struct tern_pcap_writer *w, FILE *f, uint32_t linktype,
                          uint32_t snaplen)
{
    uint8_t h[24];
    if (!w || !f)
        return TERN_E_INVAL;
    w->f = f;
    w->snaplen = snaplen ? snaplen : TERN_PCAP_SNAPLEN_DEFAULT;
    put32h(h, TERN_PCAP_MAGIC_US);
    put16h(h + 4, 2);
    put16h(h + 6, 4);
    put32h(h + 8, 0);  /* thiszone: always UTC */
    put32h(h + 12, 0); /* sigfigs */
    put32h(h + 16, w->snaplen);
    put32h(h + 20, linktype);
    return fwrite(h, 1, sizeof h, f) == sizeof h ? TERN_OK : TERN_E_IO;
}

int tern_pcap_write(struct tern_pcap_writer *w, uint64_t ts_us, const uint8_t *data, size_t len,
                    size_t wirelen)
{
    uint8_t h[16];
    if (!w || !w->f || (len && !data) || wirelen < len || wirelen > UINT32_MAX)
        return TERN_E_INVAL;
    size_t cap = len < w->snaplen ? len : w->snaplen;
    put32h(h, (uint32_t)(ts_us / 1000000));
    put32h(h + 4, (uint32_t)(ts_us % 1000000));
    put32h(h + 8, (uint32_t)cap);
    put32h(h + 12, (uint32_t)wirelen);
    if (fwrite(h, 1, sizeof h, w->f) != sizeof h)
        return TERN_E_IO;
    if (cap && fwrite(data, 1, cap, w->f) != cap)
        return TERN_E_IO;
    return TERN_OK;
}

int tern_pcap_writer_flush(struct tern_pcap_writer *w)
{
    if (!w || !w->f)
        return TERN_E_INVAL;
    return fflush(w->f) == 0 ? TERN_OK : TERN_E_IO;
}

/* Reads exactly n bytes: 1 ok, 0 nothing (EOF before the first byte),
 * TERN_E_SHORT partial, TERN_E_IO error. */
static int read_full(FILE *f, uint8_t *buf, size_t n)
{
    size_t got = fread(buf, 1, n, f);
    if (got == n)
        return 1;
    if (ferror(f))
        return TERN_E_IO;
    return got == 0 ? 0 : TERN_E_SHORT;
}

int tern_pcap_reader_init(struct tern_pcap_reader *r, FILE *f)
{
    uint8_t h[24];
    if (!r || !f)
        return TERN_E_INVAL;
    memset(r, 0, sizeof *r);
    r->f = f;
    int rc = read_full(f, h, sizeof h);
    if (rc <= 0)
        return rc == 0 ? TERN_E_SHORT : rc;
    uint32_t magic = get32h(h, 0);
    if (magic == TERN_PCAP_MAGIC_US || magic == TERN_PCAP_MAGIC_NS) {
        r->swapped = 0;
    } else {
        magic = get32h(h, 1);
        if (magic != TERN_PCAP_MAGIC_US && magic != TERN_PCAP_MAGIC_NS)
            return TERN_E_FORMAT;
        r->swapped = 1;
    }
    r->nsec = magic == TERN_PCAP_MAGIC_NS;
    r->version_major = get16h(h + 4, r->swapped);
    r->version_minor = get16h(h + 6, r->swapped);
    if (r->version_major != 2)
        return TERN_E_FORMAT;
    r->snaplen = get32h(h + 16, r->swapped);
    /* libpcap keeps the link type in the low 16 bits (upper: FCS info). */
    r->linktype = get32h(h + 20, r->swapped) & 0xffffu;
    return TERN_OK;
}

int tern_pcap_read(struct tern_pcap_reader *r, struct tern_pcap_rec *rec, uint8_t *buf,
                   size_t cap)
{
    uint8_t h[16];
    if (!r || !r->f || !rec)
        return TERN_E_INVAL;
    int rc = read_full(r->f, h, sizeof h);
    if (rc <= 0)
        return rc; /* 0: clean EOF between records */
    uint32_t sec = get32h(h, r->swapped), frac = get32h(h + 4, r->swapped);
    uint32_t caplen = get32h(h + 8, r->swapped), wirelen = get32h(h + 12, r->swapped);
    /* Like libpcap, a caplen above the header's snaplen is tolerated (some
     * writers lie about snaplen), but never above the 256 KiB cap. */
    if (caplen > TERN_PCAP_MAX_RECORD)
        return TERN_E_BAD_LEN;
    if (caplen > wirelen)
        return TERN_E_BAD_LEN;
    if (caplen > cap || (caplen && !buf))
        return TERN_E_NOSPC;
    if (caplen) {
        rc = read_full(r->f, buf, caplen);
        if (rc <= 0)
            return rc == 0 ? TERN_E_SHORT : rc;
    }
    if (r->nsec)
        frac /= 1000; /* nanoseconds -> microseconds, truncated like libpcap */
    rec->ts_us = (uint64_t)sec * 1000000u + frac;
    rec->caplen = caplen;
    rec->wirelen = wirelen;
    r->records++;
    return 1;
}

const char *tern_pcap_linktype_name(uint32_t linktype)
{
    switch (linktype) {
    case TERN_LINKTYPE_ETHERNET: return "EN10MB (Ethernet)";
    case TERN_LINKTYPE_RAW: return "RAW (Raw IP)";
    default: return "unknown";
    }
}
