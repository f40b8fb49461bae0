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
 *
 * `tern dump --control PATH [-w FILE] [EXPRESSION]` prints (or writes to a
 * pcap FILE) the frames of a running daemon's stack as they pass, until
 * interrupted: the daemon sends each frame its trace wrapper sees over the
 * control socket (CTL_OP_DUMP, src/ctl/ctl.h); the lines are the same.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef TERN_HAVE_LIBPCAP
#include <pcap/pcap.h>
#endif

#include "ctl/ctl.h"
#include "tern/pcap.h"
#include "tern/print.h"
#include "tools.h"

static void dump_usage(FILE *f)
{
    fprintf(f,
            "usage: tern dump [-S] [-e] [-n] [-c COUNT] [-r] FILE [EXPRESSION]\n"
            "       tern dump --control PATH [-w FILE] [-S] [-e] [-n] [-c COUNT] [EXPRESSION]\n"
            "  Print a capture file exactly as `tcpdump -n -r FILE [EXPRESSION]` does.\n"
            "  FILE is a pcap or pcapng file ('-' for standard input).\n"
            "  --control PATH  instead, print the frames of the running stack daemon\n"
            "                  (`tern serve --control PATH`, `tern run`) live, both\n"
            "                  directions, until interrupted (or COUNT frames)\n"
            "  -w FILE   with --control: write the frames to the pcap FILE instead\n"
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

/* ---- live: --control PATH ---- */

static volatile sig_atomic_t dump_stop;
static void dump_on_signal(int sig)
{
    (void)sig;
    dump_stop = 1;
}

static int dump_live(const char *path, const char *wfile, const char *expr, long long count)
{
#ifndef TERN_HAVE_LIBPCAP
    if (expr) {
        fprintf(stderr, "tern dump: filter expressions need libpcap; this tern was built without "
                        "it (install libpcap-dev and rebuild)\n");
        return 2;
    }
#endif
    int fd = tool_ctl_connect(path, "tern dump");
    if (fd < 0)
        return 1;
    static uint8_t buf[sizeof(struct ctl_resp) + CTL_MAX_MSG];
    struct ctl_req q = {.magic = CTL_MAGIC, .op = CTL_OP_HELLO, .a = CTL_VERSION};
    struct ctl_resp r;
    for (int step = 0; step < 2; step++) {
        if (send(fd, &q, sizeof q, 0) < 0 || recv(fd, buf, sizeof buf, 0) < (ssize_t)sizeof r) {
            fprintf(stderr, "tern dump: %s: no answer\n", path);
            close(fd);
            return 1;
        }
        memcpy(&r, buf, sizeof r);
        if (r.ret < 0) {
            fprintf(stderr, "tern dump: %s: %s\n", path,
                    step == 0 ? "the daemon speaks another protocol version"
                              : "the daemon cannot dump (no trace wrapper)");
            close(fd);
            return 1;
        }
        q.op = CTL_OP_DUMP;
    }
    uint32_t lt = (uint32_t)r.val;
#ifdef TERN_HAVE_LIBPCAP
    pcap_t *dead = NULL;
    struct bpf_program prog;
    if (expr) {
        /* DLT_RAW is 12 in libpcap's API (the files' 101) */
        dead = pcap_open_dead(lt == TERN_LINKTYPE_RAW ? 12 : (int)lt, 65535);
        if (!dead || pcap_compile(dead, &prog, expr, 1, 0) < 0) {
            fprintf(stderr, "tern dump: bad filter expression '%s': %s\n", expr,
                    dead ? pcap_geterr(dead) : "pcap_open_dead failed");
            if (dead)
                pcap_close(dead);
            close(fd);
            return 2;
        }
    }
#endif
    FILE *wf = NULL;
    struct tern_pcap_writer pw;
    if (wfile) {
        wf = !strcmp(wfile, "-") ? stdout : fopen(wfile, "wb");
        if (!wf || tern_pcap_writer_init(&pw, wf, lt, 0) < 0) {
            fprintf(stderr, "tern dump: cannot write %s: %s\n", wfile, strerror(errno));
            close(fd);
            return 1;
        }
        tern_pcap_writer_flush(&pw);
    }
    fprintf(stderr, "listening on %s, link-type %s, snapshot length 65535 bytes\n", path,
            tern_pcap_linktype_name(lt));
    struct sigaction sa = {.sa_handler = dump_on_signal}; /* no SA_RESTART: recv returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    long long got = 0;
    int status = 0;
    while (count < 0 || got < count) {
        /* after a signal: what the daemon already sent, then stop */
        ssize_t n = recv(fd, buf, sizeof buf, dump_stop ? MSG_DONTWAIT : 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && dump_stop)
            break;
        if (n < (ssize_t)sizeof r) {
            fprintf(stderr, "tern dump: %s: the daemon went away\n", path);
            status = 1;
            break;
        }
        memcpy(&r, buf, sizeof r);
        uint32_t caplen = r.len, wirelen = r.id;
        const uint8_t *frame = buf + sizeof r;
        uint64_t ts = (uint64_t)r.val;
#ifdef TERN_HAVE_LIBPCAP
        if (dead) {
            struct pcap_pkthdr h = {.caplen = caplen, .len = wirelen};
            h.ts.tv_sec = (time_t)(ts / 1000000u);
            h.ts.tv_usec = (suseconds_t)(ts % 1000000u);
            if (!pcap_offline_filter(&prog, &h, frame))
                continue;
        }
#endif
        if (wf) {
            tern_pcap_write(&pw, ts, frame, caplen, wirelen);
            tern_pcap_writer_flush(&pw);
        } else {
            print_one(lt, ts, frame, caplen, wirelen);
            fflush(stdout);
        }
        got++;
    }
    close(fd);
#ifdef TERN_HAVE_LIBPCAP
    if (dead) {
        pcap_freecode(&prog);
        pcap_close(dead);
    }
#endif
    if (wf && tern_pcap_writer_flush(&pw) < 0)
        status = 1;
    if (wf && wf != stdout && fclose(wf) != 0)
        status = 1;
    fprintf(stderr, "%lld packet%s captured\n", got, got == 1 ? "" : "s");
    return status;
}

int cmd_dump(int argc, char **argv)
{
    struct tern_print_opts opts = {0};
    long long count = -1;
    const char *path = NULL, *control = NULL, *wfile = NULL;
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
        } else if (!strcmp(a, "--control") || !strcmp(a, "-w")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tern dump: %s needs %s (try 'tern dump --help')\n", a,
                        a[1] == 'w' ? "a FILE" : "a PATH");
                return 2;
            }
            if (a[1] == 'w')
                wfile = argv[++i];
            else
                control = argv[++i];
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
        } else if (!path && !control) {
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
    if (control && path) {
        fprintf(stderr, "tern dump: give FILE or --control PATH, not both (try 'tern dump --help')\n");
        return 2;
    }
    if (wfile && !control) {
        fprintf(stderr, "tern dump: -w needs --control PATH (try 'tern dump --help')\n");
        return 2;
    }
    if (!path && !control) {
        fprintf(stderr, "tern dump: missing FILE (try 'tern dump --help')\n");
        return 2;
    }
    tern_printer_init(&pr, &opts);
    if (control) {
        int st = dump_live(control, wfile, elen ? expr : NULL, count);
        if (fflush(stdout) != 0)
            st = 1;
        return st;
    }
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
