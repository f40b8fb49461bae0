/*
 * fuzz/reasm_fuzz.c - libFuzzer target for src/core/reasm.c (ATTACKS 10-15).
 * The input is a sequence of 8-byte records, each one fragment fed to one
 * reassembler with small limits (4 datagrams, 4 KiB):
 *   [0]    time step: the clock advances by b * 250 ms (up to ~64 s)
 *   [1]    key: bits 0-1 src, bit 2 dst, bits 3-4 protocol (TCP, UDP,
 *          ICMP, 99), bits 5-7 id
 *   [2..3] flags and offset as on the wire (MF 0x2000, offset in 8-byte
 *          units); bits 14-15 pick the header length (20, 24, 44, 60)
 *   [4..5] data length (taken modulo 8192)
 *   [6]    bit 0: corrupt the data (xor with [7]); bit 1: run expire first
 *   [7]    corruption byte
 * Data bytes are a function of (key, offset in the datagram) unless
 * corrupted, so a completed datagram of a never-corrupted key must match
 * that function exactly. After every step: bytes held <= max_bytes and
 * datagrams <= max_datagrams, else abort. Also checks output and quotes.
 * Not a wire-format fuzzer (reprs are built directly; ipv4_fuzz covers parse).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/reasm.h"
#include "tern/wire/ipv4.h"

#define MAXB 4096u
#define MAXD 4u

static uint8_t pattern(unsigned key, uint32_t pos)
{
    return (uint8_t)(pos * 13u + key * 101u + (pos >> 8));
}

static void on_expired(void *ctx, const uint8_t *quote, size_t quote_len)
{
    (void)ctx;
    /* RFC 792 quote: a whole header (20..60 bytes) + exactly 8 data bytes. */
    if (quote_len < 28 || quote_len > 68 || quote[0] >> 4 != 4 ||
        (size_t)(quote[0] & 0x0f) * 4 + 8 != quote_len)
        abort();
    /* The offset-0 fragment is never final: MF set, offset 0. */
    if ((quote[6] & 0x3f) != 0x20 || quote[7] != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[65536 + 8192];
    static uint8_t opts[40];
    struct tern_reasm_config cfg = {.max_bytes = MAXB, .max_datagrams = MAXD,
                                    .timeout_us = 30000000};
    struct tern_reasm *r = ip_reasm_new(&cfg);
    if (!r)
        abort();
    memset(opts, TERN_IPOPT_NOP, sizeof opts);
    bool tainted[256] = {false};
    uint64_t now = 0;
    for (size_t i = 0; i + 8 <= size && i < 8 * 4096; i += 8) {
        const uint8_t *rec = data + i;
        now += (uint64_t)rec[0] * 250000u;
        unsigned key = rec[1];
        static const uint8_t protos[4] = {TERN_IPPROTO_TCP, TERN_IPPROTO_UDP, TERN_IPPROTO_ICMP, 99};
        static const uint8_t hlens[4] = {20, 24, 44, 60};
        uint16_t fl = (uint16_t)(rec[2] << 8 | rec[3]);
        size_t len = (size_t)(rec[4] << 8 | rec[5]) % 8192;
        struct tern_ipv4_repr ip = {0};
        ip.hdr_len = hlens[fl >> 14];
        ip.opts_len = (uint8_t)(ip.hdr_len - 20);
        ip.opts = ip.opts_len ? opts : NULL;
        ip.mf = (fl & 0x2000) != 0;
        ip.frag_off = (uint16_t)((fl & 0x1fff) * 8);
        ip.total_len = (uint16_t)(ip.hdr_len + len);
        ip.id = (uint16_t)(key >> 5);
        ip.ttl = 64;
        ip.proto = protos[(key >> 3) & 3];
        ip.src = 0x0a000000u | (key & 3);
        ip.dst = 0x0a000100u | ((key >> 2) & 1);
        ip.payload_len = (uint16_t)len;
        for (size_t j = 0; j < len; j++)
            buf[j] = pattern(key, ip.frag_off + (uint32_t)j);
        if (rec[6] & 1 && len > 0) {
            buf[rec[7] % len] ^= rec[7] | 1;
            tainted[key] = true;
        }
        if (rec[6] & 2)
            ip_reasm_expire(r, now, on_expired, NULL);

        const uint8_t *out = NULL;
        size_t out_len = 0;
        struct tern_ipv4_repr out_ip;
        int rc = ip_reasm_input(r, &ip, buf, len, now, &out, &out_len, &out_ip);
        if (rc == 1) {
            if (out_len != out_ip.payload_len || out_len + out_ip.hdr_len > 65535 ||
                out_ip.mf || out_ip.frag_off != 0 || out_ip.id != ip.id || out_ip.src != ip.src)
                abort();
            if (!tainted[key])
                for (size_t j = 0; j < out_len; j++)
                    if (out[j] != pattern(key, (uint32_t)j))
                        abort();
        } else if (rc != 0 && rc != TERN_E_BAD_LEN && rc != TERN_E_BAD_FIELD &&
                   rc != TERN_E_NOMEM && rc != TERN_E_INVAL) {
            abort();
        }
        if (ip_reasm_bytes_held(r) > MAXB || ip_reasm_datagrams_held(r) > MAXD)
            abort();
    }
    /* Everything times out eventually and nothing stays held. */
    ip_reasm_expire(r, now + 30000001u, on_expired, NULL);
    if (ip_reasm_bytes_held(r) != 0 || ip_reasm_datagrams_held(r) != 0)
        abort();
    ip_reasm_free(r);
    return 0;
}
