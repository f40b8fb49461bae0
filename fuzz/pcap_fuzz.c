/*
 * fuzz/pcap_fuzz.c - libFuzzer target for the pcap reader and the printer:
 * the input is a whole pcap file, read from memory (fmemopen) record by
 * record and each record printed. The reader must end every file with a
 * clean EOF or an error, never over-read or loop.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tern/pcap.h"
#include "tern/print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tern_printer p;
    static uint8_t buf[TERN_PCAP_MAX_RECORD];
    static char line[2048];
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    struct tern_pcap_reader r;
    if (tern_pcap_reader_init(&r, f) == TERN_OK) {
        struct tern_print_opts o = {.abs_seq = size & 1, .link_hdr = size & 2};
        tern_printer_init(&p, &o);
        struct tern_pcap_rec rec;
        int rc, n = 0;
        while ((rc = tern_pcap_read(&r, &rec, buf, sizeof buf)) == 1) {
            if (rec.caplen > rec.wirelen || ++n > (int)size)
                __builtin_trap();
            size_t k = tern_print_ts(rec.ts_us, 0, line, sizeof line);
            tern_print_frame(&p, r.linktype, buf, rec.caplen, rec.wirelen, line + k,
                             sizeof line - k);
        }
        if (rc > 1)
            __builtin_trap();
    }
    fclose(f);
    return 0;
}
