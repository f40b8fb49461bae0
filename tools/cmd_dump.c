/*
 * tools/cmd_dump.c - `tern dump [-S] [-e] [-n] [-c COUNT] [-r] FILE
 * [EXPRESSION]`: prints a capture file line for line as `tcpdump -n -r FILE
 * [EXPRESSION]` (4.99.3) does, including the local-time timestamp. The
 * library does no time-zone calls; this tool computes the UTC offset per
 * record with localtime_r (tm_gmtoff).
 *
 * Files are read with libpcap when tern is built with it (the Makefile
 * defines TERN_HAVE_LIBPCAP when Debian's libpcap-dev is installed; only
 * the tern command links it, never libtern): then pcap and pcapng are read
 * and EXPRESSION is compiled by pcap_compile and applied with
 * pcap_offline_filter, exactly as tcpdump does. Without libpcap, tern's own
 * classic-pcap reader (src/trace/pcap.c) is used and an EXPRESSION or a
 * pcapng file is refused with a message saying why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef TERN_HAVE_LIBPCAP
#include <pcap/pcap.h>
#endif

#include "tern/pcap.h"
#include "tern/print.h"
#include "tools.h"

static void dump_usage(FILE *f)
{
    fprintf(f,
            "usage: tern dump [-S] [-e] [-n] [-c COUNT] [-r] FILE [EXPRESSION]\n"
            "  Print a capture file exactly as `tcpdump -n -r FILE [EXPRESSION]` does.\n"
            "  FILE is a pcap or pcapng file ('-' for standard input).\n"
            "  -r FILE   the file to read (as tcpdump's -r; FILE may also come first)\n"
            "  -S        absolute TCP sequence numbers\n"
            "  -e        print the link-level header\n"
            "  -n        accepted for tcpdump compatibility (tern never resolves names)\n"
            "  -c COUNT  stop after COUNT printed frames\n"
            "  EXPRESSION  a tcpdump/pcap-filter(7) expression, e.g. 'udp port 53';\n"
            "              several words are joined with spaces, as tcpdump does\n"
#ifndef TERN_HAVE_LIBPCAP
            "  (this tern was built without libpcap: classic pcap only, no EXPRESSION)\n"
#endif
    );
}

static long utc_offset(uint64_t ts_us)
{
    time_t t = (time_t)(ts_us / 1000000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return tm.tm_gmtoff;
}

static struct tern_printer pr;
static char line[65536];

static void print_one(uint32_t linktype, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
                      uint32_t wirelen)
{
    size_t n = 0;
    if (caplen > 0) /* tcpdump prints no timestamp for an empty record */
        n = tern_print_ts(ts_us, utc_offset(ts_us), line, sizeof line);
    tern_print_frame(&pr, linktype, data, caplen, wirelen, line + n, sizeof line - n);
    puts(line);
}

#ifdef TERN_HAVE_LIBPCAP
static int dump_libpcap(const char *path, const char *expr, long long count)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
    if (!p) {
        fprintf(stderr, "tern dump: %s\n", err);
        return 1;
    }
    struct bpf_program prog;
    int have_prog = 0;
    if (expr) {
        /* tcpdump reading a file compiles with netmask 0 and optimizes. */
        if (pcap_compile(p, &prog, expr, 1, 0) < 0) {
            fprintf(stderr, "tern dump: bad filter expression '%s': %s\n", expr, pcap_geterr(p));
            pcap_close(p);
            return 2;
        }
        have_prog = 1;
    }
    int dlt = pcap_datalink(p);
    const char *dn = pcap_datalink_val_to_name(dlt), *dd = pcap_datalink_val_to_description(dlt);
    if (dn && dd)
        fprintf(stderr, "reading from file %s, link-type %s (%s), snapshot length %d\n", path, dn,
                dd, pcap_snapshot(p));
    else
        fprintf(stderr, "reading from file %s, link-type %d, snapshot length %d\n", path, dlt,
                pcap_snapshot(p));
    if (dlt != TERN_LINKTYPE_ETHERNET && dlt != TERN_LINKTYPE_RAW && dlt != 12 && dlt != 14)
        fprintf(stderr, "tern dump: link type %d is not printed by tern (only Ethernet and raw IP)\n",
                dlt);
    /* DLT_RAW is 12 (or 14 on OpenBSD) in libpcap's API; files say 101. */
    uint32_t lt = dlt == 12 || dlt == 14 ? TERN_LINKTYPE_RAW : (uint32_t)dlt;
    int status = 0;
    long long printed = 0;
    while (count < 0 || printed < count) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(p, &h, &data);
        if (rc == PCAP_ERROR_BREAK)
            break; /* end of file */
        if (rc < 0) {
            fflush(stdout);
            fprintf(stderr, "tern dump: %s: %s\n", path, pcap_geterr(p));
            status = 1;
            break;
        }
        if (have_prog && !pcap_offline_filter(&prog, h, data))
            continue;
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        print_one(lt, ts, data, h->caplen, h->len);
        printed++;
    }
    if (have_prog)
        pcap_freecode(&prog);
    pcap_close(p);
    return status;
}
#endif

#ifndef TERN_HAVE_LIBPCAP
static int dump_builtin(const char *path, long long count)
{
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tern dump: %s: %s\n", path, strerror(errno));
        return 1;
    }
    static uint8_t buf[TERN_PCAP_MAX_RECORD];
    struct tern_pcap_reader rd;
    int rc = tern_pcap_reader_init(&rd, f);
    if (rc < 0) {
        fprintf(stderr, "tern dump: %s: not a classic pcap file (%s)%s\n", path, tern_strerror(rc),
                rc == TERN_E_FORMAT ? "; pcapng needs a tern built with libpcap" : "");
        if (f != stdin)
            fclose(f);
        return 1;
    }
    fprintf(stderr, "reading from file %s, link-type %s, snapshot length %u\n", path,
            tern_pcap_linktype_name(rd.linktype), rd.snaplen);
    struct tern_pcap_rec rec;
    int status = 0;
    while (count < 0 || (long long)rd.records < count) {
        rc = tern_pcap_read(&rd, &rec, buf, sizeof buf);
        if (rc == 0)
            break;
        if (rc < 0) {
            fflush(stdout);
            fprintf(stderr, "tern dump: %s: corrupt or truncated after %llu records (%s)\n", path,
                    (unsigned long long)rd.records, tern_strerror(rc));
            status = 1;
            break;
        }
        print_one(rd.linktype, rec.ts_us, buf, rec.caplen, rec.wirelen);
    }
    if (f != stdin)
        fclose(f);
    return status;
}
#endif

int cmd_dump(int argc, char **argv)
{
    struct tern_print_opts opts = {0};
    long long count = -1;
    const char *path = NULL;
    static char expr[8192];
    size_t elen = 0;
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            dump_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (!strcmp(a, "-S")) {
            opts.abs_seq = true;
        } else if (!strcmp(a, "-e")) {
            opts.link_hdr = true;
        } else if (!strcmp(a, "-n")) {
            /* tern prints addresses and ports as numbers always */
        } else if (!strcmp(a, "-r") || !strcmp(a, "-c")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tern dump: %s needs %s (try 'tern dump --help')\n", a,
                        a[1] == 'r' ? "a FILE" : "a COUNT");
                return 2;
            }
            if (a[1] == 'r') {
                if (path) {
                    fprintf(stderr, "tern dump: more than one FILE given (try 'tern dump --help')\n");
                    return 2;
                }
                path = argv[++i];
                continue;
            }
            char *end;
            errno = 0;
            count = strtoll(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || count <= 0) {
                fprintf(stderr, "tern dump: invalid count '%s'\n", argv[i]);
                return 2;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tern dump: unknown option '%s' (try 'tern dump --help')\n", a);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            break; /* the filter expression starts here */
        }
    }
    for (; i < argc; i++) { /* tcpdump joins the remaining words with spaces */
        size_t n = strlen(argv[i]);
        if (elen + n + 2 > sizeof expr) {
            fprintf(stderr, "tern dump: filter expression too long\n");
            return 2;
        }
        if (elen)
            expr[elen++] = ' ';
        memcpy(expr + elen, argv[i], n + 1);
        elen += n;
    }
    if (!path) {
        fprintf(stderr, "tern dump: missing FILE (try 'tern dump --help')\n");
        return 2;
    }
    tern_printer_init(&pr, &opts);
    int status;
#ifdef TERN_HAVE_LIBPCAP
    status = dump_libpcap(path, elen ? expr : NULL, count);
#else
    if (elen) {
        fprintf(stderr, "tern dump: filter expressions need libpcap; this tern was built without "
                        "it (install libpcap-dev and rebuild)\n");
        return 2;
    }
    status = dump_builtin(path, count);
#endif
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
