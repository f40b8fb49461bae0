/*
 * tcp_opts.c - TCP option walker, parser and emitter (pure wire code).
 *
 * Follows RFC 9293 s3.1 and s3.2 (option format: EOL, NOP, kind+length),
 * RFC 7323 s2 (window scale) and s3 (timestamps), RFC 2018 (SACK-permitted,
 * SACK blocks). Not here: anything that needs connection state (whether an
 * option is allowed on a non-SYN segment, SACK blocks against SND.UNA/SND.NXT
 * (ATTACKS 34), PAWS (ATTACKS 37)) - that is the TCP layer's job.
 * Defences: ATTACKS 24 (malformed length stops the walk), 25 (wrong-length
 * option ignored), 26 (MSS and window scale clamped).
 */
#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/tcp.h"

/* Fixed option lengths (RFC 9293 s3.2, RFC 7323 s2.2 and s3.2, RFC 2018 s2/s3). */
#define OLEN_MSS 4
#define OLEN_WSCALE 3
#define OLEN_SACK_PERM 2
#define OLEN_TS 10
#define OLEN_SACK_BASE 2
#define OLEN_SACK_BLOCK 8

/*
 * RFC 9293 s3.1: an option is either a single octet (EOL, NOP) or
 * kind, length, data - where the length counts kind and length octets too,
 * so anything below 2 is malformed. RFC 9293 s3.2 (MUST-64/MUST-68): a
 * receiver must be prepared for any option and must not loop on an illegal
 * length. ATTACKS 24: such an option ends the walk; *pos is set to len so
 * that even a careless caller that keeps calling gets 0 (end) next time.
 */
int tern_tcp_opt_next(const uint8_t *opts, size_t len, size_t *pos, struct tern_tcp_opt *opt)
{
    size_t p = *pos;
    if (p >= len)
        return 0;
    uint8_t kind = opts[p];
    if (kind == TERN_TCPOPT_EOL) /* End of Option List: the rest is padding. */
        return 0;
    if (kind == TERN_TCPOPT_NOP) {
        opt->kind = kind;
        opt->len = 1;
        opt->data = NULL;
        *pos = p + 1;
        return 1;
    }
    /* Any other kind must have its length octet inside opts ... */
    if (len - p < 2) {
        *pos = len;
        return TERN_E_BAD_OPT;
    }
    uint8_t olen = opts[p + 1];
    /* ... and a length of at least 2 that does not run past the end. */
    if (olen < 2 || olen > len - p) {
        *pos = len;
        return TERN_E_BAD_OPT;
    }
    opt->kind = kind;
    opt->len = olen;
    opt->data = opts + p + 2;
    *pos = p + olen; /* olen >= 2: progress guaranteed (ATTACKS G2) */
    return 1;
}

static uint16_t clamp_mss(uint16_t mss)
{
    /* DEVIATION (see tcp.h): raise tiny MSS values to the floor. ATTACKS 26. */
    return mss < TERN_TCP_MSS_FLOOR ? TERN_TCP_MSS_FLOOR : mss;
}

static uint8_t clamp_wscale(uint8_t ws)
{
    /* RFC 7323 s2.3: "If a Window Scale option is received with a shift.cnt
     * value larger than 14, the TCP SHOULD log the error but MUST use 14
     * instead of the specified value." ATTACKS 26. */
    return ws > TERN_TCP_WSCALE_MAX ? TERN_TCP_WSCALE_MAX : ws;
}

/* One understood option into *out; wrong lengths are ignored (ATTACKS 25).
 * A repeated option overrides the earlier one (as Linux does). */
static void take_option(const struct tern_tcp_opt *o, struct tern_tcp_opts *out)
{
    switch (o->kind) {
    case TERN_TCPOPT_MSS: /* RFC 9293 s3.2: kind 2, length 4, 16-bit MSS */
        if (o->len == OLEN_MSS) {
            out->has_mss = true;
            out->mss = clamp_mss(tern_get16(o->data));
        }
        break;
    case TERN_TCPOPT_WSCALE: /* RFC 7323 s2.2: kind 3, length 3, shift.cnt */
        if (o->len == OLEN_WSCALE) {
            out->has_wscale = true;
            out->wscale = clamp_wscale(o->data[0]);
        }
        break;
    case TERN_TCPOPT_SACK_PERM: /* RFC 2018 s2: kind 4, length 2 */
        if (o->len == OLEN_SACK_PERM)
            out->sack_perm = true;
        break;
    case TERN_TCPOPT_TS: /* RFC 7323 s3.2: kind 8, length 10, TSval, TSecr */
        if (o->len == OLEN_TS) {
            out->has_ts = true;
            out->ts_val = tern_get32(o->data);
            out->ts_ecr = tern_get32(o->data + 4);
        }
        break;
    case TERN_TCPOPT_SACK: { /* RFC 2018 s3: kind 5, length 2+8n */
        /* n = 1..4; (a 40-byte option space holds at most 4 blocks). Blocks
         * are stored raw: left < right and SND.UNA..SND.NXT are checked by
         * the TCP layer (ATTACKS 34). */
        if (o->len < OLEN_SACK_BASE + OLEN_SACK_BLOCK || (o->len - OLEN_SACK_BASE) % OLEN_SACK_BLOCK)
            break;
        size_t n = (size_t)(o->len - OLEN_SACK_BASE) / OLEN_SACK_BLOCK;
        if (n > TERN_TCP_SACK_MAX)
            break;
        for (size_t i = 0; i < n; i++) {
            out->sack[i].left = tern_get32(o->data + i * OLEN_SACK_BLOCK);
            out->sack[i].right = tern_get32(o->data + i * OLEN_SACK_BLOCK + 4);
        }
        out->sack_count = (uint8_t)n;
        break;
    }
    default: /* RFC 9293 s3.2 (MUST-64): unknown options are skipped. */
        break;
    }
}

void tern_tcp_opts_parse(const uint8_t *opts, size_t len, struct tern_tcp_opts *out)
{
    memset(out, 0, sizeof *out);
    /* RFC 7323 Appendix A's layout, on every segment of a connection with
     * timestamps: NOP, NOP, TS. The same result as the walk below, without
     * it. */
    if (len == 12 && opts[0] == TERN_TCPOPT_NOP && opts[1] == TERN_TCPOPT_NOP &&
        opts[2] == TERN_TCPOPT_TS && opts[3] == OLEN_TS) {
        out->has_ts = true;
        out->ts_val = tern_get32(opts + 4);
        out->ts_ecr = tern_get32(opts + 8);
        return;
    }
    size_t pos = 0;
    struct tern_tcp_opt o;
    /* Hard bound (ATTACKS G2): every step advances pos by >= 1, so at most
     * len steps; the counter makes that explicit. */
    for (size_t steps = 0; steps < len; steps++) {
        int r = tern_tcp_opt_next(opts, len, &pos, &o);
        if (r <= 0) /* EOL, end, or malformed (ATTACKS 24): stop */
            break;
        take_option(&o, out);
    }
}

/*
 * Linux's layout (net/ipv4/tcp_output.c tcp_options_write), every piece a
 * 32-bit word so no padding is ever needed. Checked against Linux 6.x
 * loopback captures (tcpdump): SYN with everything is
 * "mss,sackOK,TS,nop,wscale"; without timestamps "mss,nop,nop,sackOK,nop,
 * wscale"; ACKs "nop,nop,TS" and "nop,nop,TS,nop,nop,sack N".
 *   MSS                      02 04 mm mm
 *   sackOK + TS              04 02 08 0a TSval TSecr
 *   TS alone                 01 01 08 0a TSval TSecr
 *   sackOK alone             01 01 04 02
 *   window scale             01 03 03 ws
 *   SACK blocks              01 01 05 (2+8n) left right ...
 * The emitter writes what it is given: it does not clamp MSS or window
 * scale and does not judge which options belong on which segment.
 */
int tern_tcp_opts_emit(const struct tern_tcp_opts *o, uint8_t *buf, size_t cap)
{
    size_t need = 0;
    if (o->has_mss)
        need += 4;
    if (o->has_ts)
        need += 12;
    else if (o->sack_perm)
        need += 4;
    if (o->has_wscale)
        need += 4;
    if (o->sack_count) {
        /* 5 or more blocks never fit in 40 bytes (4 + 8*5 = 44). */
        if (o->sack_count > TERN_TCP_SACK_MAX)
            return TERN_E_NOSPC;
        need += 4 + (size_t)o->sack_count * OLEN_SACK_BLOCK;
    }
    if (need > TERN_TCP_OPTS_MAX || need > cap)
        return TERN_E_NOSPC;

    uint8_t *p = buf;
    if (o->has_mss) {
        p[0] = TERN_TCPOPT_MSS;
        p[1] = OLEN_MSS;
        tern_put16(p + 2, o->mss);
        p += 4;
    }
    if (o->has_ts) {
        if (o->sack_perm) {
            p[0] = TERN_TCPOPT_SACK_PERM;
            p[1] = OLEN_SACK_PERM;
        } else {
            p[0] = TERN_TCPOPT_NOP;
            p[1] = TERN_TCPOPT_NOP;
        }
        p[2] = TERN_TCPOPT_TS;
        p[3] = OLEN_TS;
        tern_put32(p + 4, o->ts_val);
        tern_put32(p + 8, o->ts_ecr);
        p += 12;
    } else if (o->sack_perm) {
        p[0] = TERN_TCPOPT_NOP;
        p[1] = TERN_TCPOPT_NOP;
        p[2] = TERN_TCPOPT_SACK_PERM;
        p[3] = OLEN_SACK_PERM;
        p += 4;
    }
    if (o->has_wscale) {
        p[0] = TERN_TCPOPT_NOP;
        p[1] = TERN_TCPOPT_WSCALE;
        p[2] = OLEN_WSCALE;
        p[3] = o->wscale;
        p += 4;
    }
    if (o->sack_count) {
        p[0] = TERN_TCPOPT_NOP;
        p[1] = TERN_TCPOPT_NOP;
        p[2] = TERN_TCPOPT_SACK;
        p[3] = (uint8_t)(OLEN_SACK_BASE + o->sack_count * OLEN_SACK_BLOCK);
        p += 4;
        for (size_t i = 0; i < o->sack_count; i++) {
            tern_put32(p, o->sack[i].left);
            tern_put32(p + 4, o->sack[i].right);
            p += 8;
        }
    }
    return (int)(p - buf);
}
