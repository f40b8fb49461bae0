/*
 * fuzz/tcp_fuzz.c - libFuzzer target for the TCP codec (src/wire/tcp.c,
 * src/wire/tcp_opts.c). Input: [4 bytes src][4 bytes dst][segment], the
 * addresses big-endian (they feed the pseudo-header checksum).
 *
 * Checks: parse under every flag combination never crashes and returns a
 * self-consistent repr; the raw option walk always makes progress and ends
 * within its bound; opts_parse respects its clamps; a parsed repr re-emits
 * and re-parses to the same repr (abort() if not); emitted options re-parse
 * to the same options. ATTACKS 23-28.
 */
#include <stdlib.h>
#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(c)        \
    do {                       \
        if (!(c))              \
            abort();           \
    } while (0)

static bool opts_same(const struct tern_tcp_opts *a, const struct tern_tcp_opts *b)
{
    if (a->has_mss != b->has_mss || (a->has_mss && a->mss != b->mss))
        return false;
    if (a->has_wscale != b->has_wscale || (a->has_wscale && a->wscale != b->wscale))
        return false;
    if (a->sack_perm != b->sack_perm || a->has_ts != b->has_ts)
        return false;
    if (a->has_ts && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))
        return false;
    if (a->sack_count != b->sack_count)
        return false;
    for (size_t i = 0; i < a->sack_count && i < TERN_TCP_SACK_MAX; i++)
        if (a->sack[i].left != b->sack[i].left || a->sack[i].right != b->sack[i].right)
            return false;
    return true;
}

static void check_opts_invariants(const struct tern_tcp_opts *o)
{
    CHECK_OR_DIE(!o->has_mss || o->mss >= TERN_TCP_MSS_FLOOR);
    CHECK_OR_DIE(!o->has_wscale || o->wscale <= TERN_TCP_WSCALE_MAX);
    CHECK_OR_DIE(o->sack_count <= TERN_TCP_SACK_MAX);
}

/* The raw walk: progress >= 1 per option, at most len steps, every option
 * inside the buffer. */
static void walk(const uint8_t *p, size_t len)
{
    size_t pos = 0, steps = 0;
    struct tern_tcp_opt o;
    int r;
    while ((r = tern_tcp_opt_next(p, len, &pos, &o)) == 1) {
        CHECK_OR_DIE(++steps <= len);
        CHECK_OR_DIE(pos <= len && o.len >= 1);
        if (o.kind == TERN_TCPOPT_NOP)
            CHECK_OR_DIE(o.len == 1 && o.data == NULL);
        else
            CHECK_OR_DIE(o.len >= 2 && o.data == p + pos - o.len + 2);
    }
    CHECK_OR_DIE(r == 0 || r == TERN_E_BAD_OPT);
}

/* Emit the options, parse them back: same options. */
static void opts_roundtrip(const struct tern_tcp_opts *o)
{
    uint8_t buf[TERN_TCP_OPTS_MAX];
    int n = tern_tcp_opts_emit(o, buf, sizeof buf);
    if (n == TERN_E_NOSPC)
        return; /* e.g. TS + 4 SACK blocks: legal to parse, too long to emit */
    CHECK_OR_DIE(n >= 0 && n <= TERN_TCP_OPTS_MAX && n % 4 == 0);
    struct tern_tcp_opts back;
    tern_tcp_opts_parse(buf, (size_t)n, &back);
    CHECK_OR_DIE(opts_same(o, &back));
}

static uint8_t out[65536 + TERN_TCP_HLEN_MAX];

static void segment(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst, unsigned flags)
{
    struct tern_tcp_repr r;
    int n = tern_tcp_parse(seg, len, src, dst, flags, &r);
    if (n < 0) {
        CHECK_OR_DIE(n == TERN_E_SHORT || n == TERN_E_BAD_LEN || n == TERN_E_BAD_CSUM ||
                     n == TERN_E_BAD_FLAGS);
        CHECK_OR_DIE(!(flags & TERN_WIRE_NO_CSUM) || n != TERN_E_BAD_CSUM);
        CHECK_OR_DIE(!(flags & TERN_WIRE_LENIENT) || n != TERN_E_BAD_FLAGS);
        return;
    }
    /* ATTACKS 23: the header is 20..60 bytes and inside the segment. */
    CHECK_OR_DIE(n == r.hdr_len && n >= TERN_TCP_HLEN_MIN && n <= TERN_TCP_HLEN_MAX);
    CHECK_OR_DIE((size_t)n <= len && n % 4 == 0);
    CHECK_OR_DIE(r.raw_opts == seg + TERN_TCP_HLEN_MIN && r.raw_opts_len == n - TERN_TCP_HLEN_MIN);
    /* ATTACKS 27: the payload is exactly the bytes after the header. */
    CHECK_OR_DIE(r.payload == seg + n && r.payload_len == len - (size_t)n);
    CHECK_OR_DIE(r.flags <= 0x1ff);
    check_opts_invariants(&r.opts);
    CHECK_OR_DIE(tern_tcp_seg_len(&r) >= r.payload_len);
    opts_roundtrip(&r.opts);

    /* Re-emit and re-parse (checksum verified this time). */
    int m = tern_tcp_emit(&r, src, dst, out, sizeof out);
    if (m == TERN_E_NOSPC)
        return; /* the understood options don't fit in 40 bytes in Linux's layout */
    CHECK_OR_DIE(m >= TERN_TCP_HLEN_MIN);
    struct tern_tcp_repr b;
    int k = tern_tcp_parse(out, (size_t)m, src, dst, flags & TERN_WIRE_LENIENT, &b);
    CHECK_OR_DIE(k >= TERN_TCP_HLEN_MIN);
    CHECK_OR_DIE(b.sport == r.sport && b.dport == r.dport && b.seq == r.seq && b.ack == r.ack);
    CHECK_OR_DIE(b.flags == r.flags && b.win == r.win && b.urg == r.urg);
    CHECK_OR_DIE(opts_same(&b.opts, &r.opts));
    CHECK_OR_DIE(b.payload_len == r.payload_len);
    CHECK_OR_DIE(memcmp(b.payload, r.payload, r.payload_len) == 0);
    CHECK_OR_DIE(tern_tcp_seg_len(&b) == tern_tcp_seg_len(&r));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint32_t src = tern_get32(data), dst = tern_get32(data + 4);
    const uint8_t *seg = data + 8;
    size_t len = size - 8;

    static const unsigned flag_sets[] = {0, TERN_WIRE_NO_CSUM, TERN_WIRE_LENIENT,
                                         TERN_WIRE_NO_CSUM | TERN_WIRE_LENIENT};
    for (size_t i = 0; i < sizeof flag_sets / sizeof flag_sets[0]; i++)
        segment(seg, len, src, dst, flag_sets[i]);

    /* The option code on its own, over the whole input (any length). */
    walk(seg, len);
    struct tern_tcp_opts o;
    tern_tcp_opts_parse(seg, len, &o);
    check_opts_invariants(&o);
    opts_roundtrip(&o);
    return 0;
}
