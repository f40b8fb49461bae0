/*
 * frag.c - IPv4 output fragmentation (RFC 791 s3.2 "Fragmentation" and the
 * fragmentation procedure; option copy flag per RFC 791 s3.1).
 * Not: path MTU discovery or the ICMP "fragmentation needed" reply for DF
 * datagrams (the caller's job when this returns TERN_E_INVAL), reassembly
 * (reasm.c). No state, no allocation: fragments are built in the caller's
 * scratch buffer one at a time and handed to the emit callback.
 */
#include "core/reasm.h"

#include <string.h>

#define FRAG_OPT_COPY 0x80u /* RFC 791 s3.1: option type bit "copied flag" */
#define FRAG_MIN_MTU 68u    /* RFC 791 s3.2: every module forwards 68 octets */
#define FRAG_MAX_OPT_STEPS (TERN_IPV4_HLEN_MAX - TERN_IPV4_HLEN_MIN)

/* RFC 791 s3.2 step 10: "selectively copy the internet header (some options
 * are not copied)": keeps options whose copied flag is set, pads to a 32-bit
 * boundary with zeros (EOL then padding, RFC 791 s3.1). Returns the new
 * option length or TERN_E_INVAL for a malformed list. */
static int copied_options(const struct tern_ipv4_repr *ip, uint8_t *dst)
{
    size_t pos = 0, n = 0;
    struct tern_ipv4_opt opt;
    for (int step = 0; step < FRAG_MAX_OPT_STEPS; step++) { /* ATTACKS G2 */
        int rc = tern_ipv4_opt_next(ip->opts, ip->opts_len, &pos, &opt);
        if (rc < 0)
            return TERN_E_INVAL;
        if (rc == 0)
            break;
        /* NOP has no copied flag; it is alignment only and not kept. */
        if (!(opt.type & FRAG_OPT_COPY))
            continue;
        dst[n++] = opt.type;
        dst[n++] = opt.len; /* opt.len >= 2 here: NOP (type 1) has no copy bit */
        memcpy(dst + n, opt.data, (size_t)opt.len - 2);
        n += (size_t)opt.len - 2;
    }
    while (n % 4 != 0)
        dst[n++] = TERN_IPOPT_EOL;
    return (int)n;
}

int ipv4_fragment(const struct tern_ipv4_repr *ip, const uint8_t *payload, size_t len,
                       uint16_t mtu, uint8_t *scratch, size_t scratch_cap, tern_frag_emit_fn emit,
                       void *ctx)
{
    if (!ip || !emit || !scratch || (len && !payload) || mtu < FRAG_MIN_MTU || scratch_cap < mtu ||
        ip->opts_len > TERN_IPV4_HLEN_MAX - TERN_IPV4_HLEN_MIN || ip->opts_len % 4 != 0 ||
        (ip->opts_len && !ip->opts) || ip->frag_off % 8 != 0)
        return TERN_E_INVAL;
    size_t hlen1 = TERN_IPV4_HLEN_MIN + (size_t)ip->opts_len;
    /* The original offset plus this datagram must stay inside 65535 bytes:
     * every fragment's offset must be representable, and no fragment may
     * describe data past the largest datagram (ATTACKS 10 on the receiver). */
    if (len > TERN_IPV4_MAX_LEN - hlen1 || (size_t)ip->frag_off + len > TERN_IPV4_MAX_LEN)
        return TERN_E_INVAL;

    struct tern_ipv4_repr h = *ip;
    int rc;
    /* Procedure step (1): it fits, send it unchanged (DF does not matter). */
    if (hlen1 + len <= mtu) {
        h.payload_len = (uint16_t)len;
        rc = tern_ipv4_emit(&h, scratch, scratch_cap);
        if (rc < 0)
            return rc;
        if (len)
            memcpy(scratch + rc, payload, len);
        rc = emit(ctx, scratch, (size_t)rc + len);
        return rc < 0 ? rc : 1;
    }
    /* Step (2): DF set and too big - the caller answers with ICMP
     * "fragmentation needed" (RFC 792, RFC 1191). */
    if (ip->df)
        return TERN_E_INVAL;

    uint8_t later_opts[TERN_IPV4_HLEN_MAX - TERN_IPV4_HLEN_MIN];
    int later_len = 0;
    if (ip->opts_len) {
        later_len = copied_options(ip, later_opts);
        if (later_len < 0)
            return later_len;
    }

    int count = 0;
    size_t pos = 0;
    /* Each step emits one fragment and advances pos by >= 8 bytes (mtu >=
     * 68 and a header <= 60 leave >= 8 bytes of data), so the loop ends. */
    while (pos < len) {
        if (count > 0) {
            /* Steps (10)-(12): later fragments carry only copied options. */
            h.opts = later_len ? later_opts : NULL;
            h.opts_len = (uint8_t)later_len;
        }
        size_t hlen = TERN_IPV4_HLEN_MIN + (size_t)h.opts_len;
        size_t room = ((size_t)mtu - hlen) / 8 * 8; /* step (6): NFB*8 */
        size_t chunk = len - pos;
        bool last = true;
        if (hlen + chunk > mtu) {
            chunk = room;
            last = false;
        }
        /* Step (8)/(12): MF on all but the last; the last keeps the
         * original MF (refragmenting a fragment); FO = OFO + NFB. */
        h.mf = last ? ip->mf : true;
        h.frag_off = (uint16_t)(ip->frag_off + pos);
        h.payload_len = (uint16_t)chunk;
        rc = tern_ipv4_emit(&h, scratch, scratch_cap);
        if (rc < 0)
            return rc;
        memcpy(scratch + rc, payload + pos, chunk);
        rc = emit(ctx, scratch, (size_t)rc + chunk);
        if (rc < 0)
            return rc;
        pos += chunk;
        count++;
    }
    return count;
}
