/*
 * fuzz/print_fuzz.c - libFuzzer target for the tcpdump-format printer.
 * Input: [1 byte: bit 0 selects the link type (Ethernet / raw IP), bits
 * 1-7 how many bytes the frame claims beyond caplen][frame bytes]. Each
 * frame is printed with the default options and with -S -e, into a small
 * buffer (so output truncation is exercised too) and a large one; the
 * printers persist across inputs so the conversation table fills up.
 */
#include <stdint.h>
#include <string.h>

#include "tern/print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tern_printer plain, all;
    static int ready;
    if (!ready) {
        struct tern_print_opts o = {.abs_seq = true, .link_hdr = true};
        tern_printer_init(&plain, NULL);
        tern_printer_init(&all, &o);
        ready = 1;
    }
    if (size < 1)
        return 0;
    uint32_t lt = data[0] & 1 ? TERN_LINKTYPE_RAW : TERN_LINKTYPE_ETHERNET;
    size_t extra = data[0] >> 1;
    const uint8_t *f = data + 1;
    size_t n = size - 1;
    char small[40], big[4096];
    size_t r = tern_print_frame(&plain, lt, f, n, n + extra, small, sizeof small);
    if (r >= sizeof small || strlen(small) != r)
        __builtin_trap();
    r = tern_print_frame(&all, lt, f, n, n + extra, big, sizeof big);
    if (r >= sizeof big || strlen(big) != r)
        __builtin_trap();
    r = tern_print_frame(&plain, lt, f, n, n, big, sizeof big);
    if (r >= sizeof big || strlen(big) != r)
        __builtin_trap();
    return 0;
}
