/*
 * tools/cmd_dump.c - `tern dump [-S] [-e] [-c COUNT] FILE`: prints a pcap
 * file line for line as `tcpdump -n -r FILE` (4.99.3) does, including the
 * local-time timestamp. The library does no time-zone calls; this tool
 * computes the UTC offset per record with localtime_r (tm_gmtoff).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern/pcap.h"
#include "tern/print.h"
#include "tools.h"

static void dump_usage(FILE *f)
{
    fprintf(f, "usage: tern dump [-S] [-e] [-c COUNT] FILE\n"
               "  Print a pcap file exactly as `tcpdump -n -r FILE` does.\n"
               "  -S        absolute TCP sequence numbers\n"
               "  -e        print the link-level header\n"
               "  -c COUNT  stop after COUNT frames\n");
}

static long utc_offset(uint64_t ts_us)
{
    time_t t = (time_t)(ts_us / 1000000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return tm.tm_gmtoff;
}

int cmd_dump(int argc, char **argv)
{
    struct tern_print_opts opts = {0};
    long long count = -1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            dump_usage(stdout);
            return 0;
        } else if (!strcmp(a, "-S")) {
            opts.abs_seq = true;
        } else if (!strcmp(a, "-e")) {
            opts.link_hdr = true;
        } else if (!strcmp(a, "-c")) {
            char *end;
            if (i + 1 >= argc) {
                fprintf(stderr, "tern dump: -c needs a COUNT (try 'tern dump --help')\n");
                return 2;
            }
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
            fprintf(stderr, "tern dump: more than one FILE given (try 'tern dump --help')\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "tern dump: missing FILE (try 'tern dump --help')\n");
        return 2;
    }
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tern dump: %s: %s\n", path, strerror(errno));
        return 2;
    }
    static struct tern_printer pr;
    static uint8_t buf[TERN_PCAP_MAX_RECORD];
    static char line[65536];
    struct tern_pcap_reader rd;
    int rc = tern_pcap_reader_init(&rd, f);
    if (rc < 0) {
        fprintf(stderr, "tern dump: %s: not a pcap file (%s)\n", path, tern_strerror(rc));
        if (f != stdin)
            fclose(f);
        return 1;
    }
    fprintf(stderr, "reading from file %s, link-type %s, snapshot length %u\n", path,
            tern_pcap_linktype_name(rd.linktype), rd.snaplen);
    tern_printer_init(&pr, &opts);
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
        size_t n = 0;
        if (rec.caplen > 0) /* tcpdump prints no timestamp for an empty record */
            n = tern_print_ts(rec.ts_us, utc_offset(rec.ts_us), line, sizeof line);
        tern_print_frame(&pr, rd.linktype, buf, rec.caplen, rec.wirelen, line + n,
                         sizeof line - n);
        puts(line);
    }
    if (fflush(stdout) != 0)
        status = 1;
    if (f != stdin)
        fclose(f);
    return status;
}
