/*
 * reasm.c - IPv4 fragment reassembly: RFC 791 s3.2 (reassembly procedure),
 * RFC 815 (hole bookkeeping), RFC 1858 s3-s4 and RFC 3128 (tiny and
 * overlapping fragment attacks), RFC 1122 s3.3.2 (timeout, time exceeded).
 * Implements the contract in reasm.h (ATTACKS 10-15).
 * Not: the decision to reassemble (the IPv4 input path calls us only for
 * fragments), sending ICMP (the expire callback gets the quote), or output
 * fragmentation (frag.c).
 *
 * Memory. Everything is allocated in ip_reasm_new and nothing later:
 *  - max_datagrams slots; each holds the key, timers, a sorted array of at
 *    most REASM_MAX_FRAGS (offset, length) fragment records, the first
 *    fragment's header + 8 data bytes (the ICMP quote, <= 68 bytes), and a
 *    chunk map (REASM_MAP_LEN entries);
 *  - a byte pool of max_bytes / REASM_CHUNK chunks of REASM_CHUNK bytes with
 *    a free stack. Chunk k of a datagram's map holds datagram payload bytes
 *    [k*REASM_CHUNK, (k+1)*REASM_CHUNK); a fragment writes into the chunks
 *    its range touches, allocating those not yet present. Adjacent fragments
 *    share chunks, so a complete datagram of N bytes uses ceil(N/CHUNK)
 *    chunks however it was fragmented;
 *  - one 65535-byte output buffer for the assembled payload.
 * "Bytes held" is counted in whole chunks (pool bytes in use), never less
 * than the payload held, so bytes_held <= max_bytes bounds real memory even
 * under an attack of tiny fragments spread over many chunks.
 *
 * Lookup of a datagram by key is a linear scan over the max_datagrams slots
 * (capped; default 64), as is the choice of the oldest slot to evict. Both
 * are O(max_datagrams) per fragment, independent of traffic volume.
 */
#include "core/reasm.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tern/wire/bytes.h"

#define REASM_CHUNK 128u
/* Datagram payload space is at most 65535 - 20 bytes; the map covers 64 KiB. */
#define REASM_MAP_LEN (65536u / REASM_CHUNK)
#define REASM_NO_CHUNK UINT32_MAX
/* DEVIATION: RFC 791 allows up to 8192 fragments per datagram; we abandon a
 * datagram with more than REASM_MAX_FRAGS distinct fragments (pathological
 * fragmentation; FreeBSD's default limit is 16). 64 fragments carry a full
 * 65535-byte datagram at MTU 1280 and above. */
#define REASM_MAX_FRAGS 64u
#define REASM_QUOTE_DATA 8u /* RFC 792: header + first 64 bits of data */
/* Upper bounds on the configuration, to refuse absurd allocations. */
#define REASM_MAX_DATAGRAMS_CAP 65536u
#define REASM_MAX_BYTES_CAP (1u << 30)

struct reasm_frag {
    uint16_t off, len; /* payload bytes [off, off+len) of the datagram */
};

struct reasm_slot {
    bool used;
    bool have_first; /* the offset-0 fragment arrived */
    bool have_last;  /* the MF=0 fragment arrived: total is known */
    uint8_t proto;
    uint16_t id;
    uint32_t src, dst;
    uint64_t created;   /* arrival time of the first-arrived fragment */
    uint64_t seq;       /* creation order, for "evict the oldest" ties */
    uint32_t total;     /* payload length, valid when have_last */
    uint32_t max_end;   /* highest end of any held fragment */
    uint32_t held;      /* payload bytes held (fragments are disjoint) */
    uint32_t nchunks;   /* chunks of the pool this slot uses */
    uint16_t nfrags;
    struct reasm_frag frags[REASM_MAX_FRAGS]; /* sorted by off, disjoint */
    struct tern_ipv4_repr first_ip;           /* offset-0 header (opts NULL) */
    uint8_t quote_len;
    uint8_t quote[TERN_IPV4_HLEN_MAX + REASM_QUOTE_DATA];
    uint32_t *map; /* REASM_MAP_LEN chunk indices into the pool */
};

struct tern_reasm {
    struct tern_reasm_config cfg;
    struct ip_reasm_stats stats;
    struct reasm_slot *slots;
    uint32_t nslots_used;
    uint64_t next_seq;
    uint32_t *maps;       /* max_datagrams * REASM_MAP_LEN */
    uint8_t *pool;        /* pool_chunks * REASM_CHUNK */
    uint32_t pool_chunks;
    uint32_t *free_stack; /* free chunk indices */
    uint32_t free_top;
    uint8_t *out;         /* TERN_IPV4_MAX_LEN bytes */
};

struct tern_reasm *ip_reasm_new(const struct tern_reasm_config *cfg)
{
    if (!cfg || cfg->max_datagrams == 0 || cfg->max_datagrams > REASM_MAX_DATAGRAMS_CAP ||
        cfg->max_bytes > REASM_MAX_BYTES_CAP || cfg->max_bytes / REASM_CHUNK == 0 ||
        cfg->timeout_us == 0)
        return NULL;
    struct tern_reasm *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->cfg = *cfg;
    r->pool_chunks = cfg->max_bytes / REASM_CHUNK; /* round down: never above max_bytes */
    r->slots = calloc(cfg->max_datagrams, sizeof *r->slots);
    r->maps = calloc((size_t)cfg->max_datagrams * REASM_MAP_LEN, sizeof *r->maps);
    r->pool = calloc(r->pool_chunks, REASM_CHUNK);
    r->free_stack = calloc(r->pool_chunks, sizeof *r->free_stack);
    r->out = calloc(1, TERN_IPV4_MAX_LEN);
    if (!r->slots || !r->maps || !r->pool || !r->free_stack || !r->out) {
        ip_reasm_free(r);
        return NULL;
    }
    for (uint32_t i = 0; i < cfg->max_datagrams; i++) {
        r->slots[i].map = r->maps + (size_t)i * REASM_MAP_LEN;
        for (uint32_t k = 0; k < REASM_MAP_LEN; k++)
            r->slots[i].map[k] = REASM_NO_CHUNK;
    }
    /* Highest index on top, so chunk 0 is handed out first (cosmetic). */
    for (uint32_t i = 0; i < r->pool_chunks; i++)
        r->free_stack[i] = r->pool_chunks - 1 - i;
    r->free_top = r->pool_chunks;
    return r;
}

void ip_reasm_free(struct tern_reasm *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r->maps);
    free(r->pool);
    free(r->free_stack);
    free(r->out);
    free(r);
}

const struct ip_reasm_stats *ip_reasm_stats(const struct tern_reasm *r)
{
    return &r->stats;
}

size_t ip_reasm_bytes_held(const struct tern_reasm *r)
{
    return (size_t)(r->pool_chunks - r->free_top) * REASM_CHUNK;
}

size_t ip_reasm_datagrams_held(const struct tern_reasm *r)
{
    return r->nslots_used;
}

/* Releases every chunk of s and the slot itself. */
static void slot_release(struct tern_reasm *r, struct reasm_slot *s)
{
    if (!s->used)
        return;
    /* Only map entries up to the highest end can be set; max_end bounds the walk. */
    uint32_t last = s->max_end ? (s->max_end - 1) / REASM_CHUNK : 0;
    for (uint32_t k = 0; k <= last && k < REASM_MAP_LEN; k++) {
        if (s->map[k] != REASM_NO_CHUNK) {
            r->free_stack[r->free_top++] = s->map[k];
            s->map[k] = REASM_NO_CHUNK;
        }
    }
    uint32_t *map = s->map;
    memset(s, 0, sizeof *s);
    s->map = map;
    r->nslots_used--;
}

static struct reasm_slot *slot_find(struct tern_reasm *r, const struct tern_ipv4_repr *ip)
{
    /* RFC 791 s3.2: BUFID = source, destination, protocol, identification. */
    for (uint32_t i = 0; i < r->cfg.max_datagrams; i++) {
        struct reasm_slot *s = &r->slots[i];
        if (s->used && s->id == ip->id && s->proto == ip->proto && s->src == ip->src &&
            s->dst == ip->dst)
            return s;
    }
    return NULL;
}

/* The oldest slot in use other than `keep` (may be NULL), or NULL. */
static struct reasm_slot *slot_oldest(struct tern_reasm *r, const struct reasm_slot *keep)
{
    struct reasm_slot *best = NULL;
    for (uint32_t i = 0; i < r->cfg.max_datagrams; i++) {
        struct reasm_slot *s = &r->slots[i];
        if (s->used && s != keep && (!best || s->seq < best->seq))
            best = s;
    }
    return best;
}

/* ATTACKS 15 / G3: a new datagram when all slots are busy evicts the oldest. */
static struct reasm_slot *slot_new(struct tern_reasm *r, const struct tern_ipv4_repr *ip,
                                   uint64_t now)
{
    if (r->nslots_used >= r->cfg.max_datagrams) {
        struct reasm_slot *old = slot_oldest(r, NULL);
        if (!old)
            return NULL; /* cannot happen: all slots are in use */
        slot_release(r, old);
        r->stats.evicted++;
    }
    for (uint32_t i = 0; i < r->cfg.max_datagrams; i++) {
        struct reasm_slot *s = &r->slots[i];
        if (!s->used) {
            s->used = true;
            s->src = ip->src;
            s->dst = ip->dst;
            s->proto = ip->proto;
            s->id = ip->id;
            s->created = now;
            s->seq = r->next_seq++;
            r->nslots_used++;
            return s;
        }
    }
    return NULL;
}

/* Number of chunks [off, end) needs that s does not have yet. */
static uint32_t chunks_needed(const struct reasm_slot *s, uint32_t off, uint32_t end)
{
    uint32_t n = 0;
    for (uint32_t k = off / REASM_CHUNK; k <= (end - 1) / REASM_CHUNK; k++)
        n += s->map[k] == REASM_NO_CHUNK;
    return n;
}

/* Copies data into s's chunks at [off, off+len); the chunks must be free
 * in the pool (checked by the caller through chunks_needed). */
static void slot_write(struct tern_reasm *r, struct reasm_slot *s, uint32_t off,
                       const uint8_t *data, uint32_t len)
{
    while (len > 0) {
        uint32_t k = off / REASM_CHUNK, in = off % REASM_CHUNK;
        uint32_t n = REASM_CHUNK - in;
        if (n > len)
            n = len;
        if (s->map[k] == REASM_NO_CHUNK) {
            s->map[k] = r->free_stack[--r->free_top];
            s->nchunks++;
        }
        memcpy(r->pool + (size_t)s->map[k] * REASM_CHUNK + in, data, n);
        off += n;
        data += n;
        len -= n;
    }
}

/* Copies [off, off+len) of s into dst. Every byte must be held. */
static void slot_read(const struct tern_reasm *r, const struct reasm_slot *s, uint32_t off,
                      uint8_t *dst, uint32_t len)
{
    while (len > 0) {
        uint32_t k = off / REASM_CHUNK, in = off % REASM_CHUNK;
        uint32_t n = REASM_CHUNK - in;
        if (n > len)
            n = len;
        memcpy(dst, r->pool + (size_t)s->map[k] * REASM_CHUNK + in, n);
        off += n;
        dst += n;
        len -= n;
    }
}

/* True when held bytes [off, off+len) of s equal data. */
static bool slot_equal(const struct tern_reasm *r, const struct reasm_slot *s, uint32_t off,
                       const uint8_t *data, uint32_t len)
{
    while (len > 0) {
        uint32_t k = off / REASM_CHUNK, in = off % REASM_CHUNK;
        uint32_t n = REASM_CHUNK - in;
        if (n > len)
            n = len;
        if (memcmp(data, r->pool + (size_t)s->map[k] * REASM_CHUNK + in, n) != 0)
            return false;
        off += n;
        data += n;
        len -= n;
    }
    return true;
}

/* The header bytes of the offset-0 fragment as received, rebuilt from the
 * parsed repr (every one of the 20 fixed bytes is kept in it, the checksum
 * and total length as received), then the first 8 data bytes. */
static void slot_keep_first(struct reasm_slot *s, const struct tern_ipv4_repr *ip,
                            const uint8_t *payload)
{
    uint8_t *q = s->quote;
    q[0] = (uint8_t)(0x40 | ip->hdr_len / 4);
    q[1] = ip->tos;
    tern_put16(q + 2, ip->total_len);
    tern_put16(q + 4, ip->id);
    uint16_t fl = (uint16_t)(ip->frag_off / 8);
    if (ip->rf)
        fl |= 0x8000u;
    if (ip->df)
        fl |= 0x4000u;
    if (ip->mf)
        fl |= 0x2000u;
    tern_put16(q + 6, fl);
    q[8] = ip->ttl;
    q[9] = ip->proto;
    tern_put16(q + 10, ip->csum);
    tern_put32(q + 12, ip->src);
    tern_put32(q + 16, ip->dst);
    if (ip->opts_len)
        memcpy(q + TERN_IPV4_HLEN_MIN, ip->opts, ip->opts_len);
    /* The offset-0 fragment is never final and so holds >= 8 bytes
     * (non-final length is a non-zero multiple of 8, checked earlier). */
    memcpy(q + ip->hdr_len, payload, REASM_QUOTE_DATA);
    s->quote_len = (uint8_t)(ip->hdr_len + REASM_QUOTE_DATA);
    s->first_ip = *ip;
    s->first_ip.opts = NULL;
    s->first_ip.opts_len = 0;
    s->have_first = true;
}

/* Abandons the datagram s (if any) and returns err. */
static int abandon(struct tern_reasm *r, struct reasm_slot *s, int err, uint64_t *counter)
{
    if (s)
        slot_release(r, s);
    (*counter)++;
    return err;
}

/* Largest payload end the datagram may have (ATTACKS 10): the whole
 * datagram, header included, must fit in 65535 bytes. Until the offset-0
 * fragment shows the real header length we assume the 20-byte minimum,
 * the most permissive bound; it is tightened when that fragment arrives.
 * (A duplicate offset-0 fragment is held to its own header length.) */
static uint32_t payload_limit(const struct reasm_slot *s, const struct tern_ipv4_repr *ip)
{
    uint32_t hlen = TERN_IPV4_HLEN_MIN;
    if (ip->frag_off == 0)
        hlen = ip->hdr_len; /* this fragment's own header is the datagram's */
    else if (s && s->have_first)
        hlen = s->first_ip.hdr_len;
    return TERN_IPV4_MAX_LEN - hlen;
}

int ip_reasm_input(struct tern_reasm *r, const struct tern_ipv4_repr *ip, const uint8_t *payload,
                     size_t len, uint64_t now, const uint8_t **out, size_t *out_len,
                     struct tern_ipv4_repr *out_ip)
{
    r->stats.frags_in++;
    /* Caller errors: not a fragment, a repr that parse could not produce. */
    if ((!ip->mf && ip->frag_off == 0) || len != ip->payload_len || (len && !payload) ||
        ip->hdr_len < TERN_IPV4_HLEN_MIN || ip->hdr_len > TERN_IPV4_HLEN_MAX ||
        ip->hdr_len != TERN_IPV4_HLEN_MIN + ip->opts_len || (ip->opts_len && !ip->opts) ||
        ip->frag_off % 8 != 0) {
        r->stats.dropped_bad++;
        return TERN_E_INVAL;
    }

    struct reasm_slot *s = slot_find(r, ip);
    uint32_t off = ip->frag_off;
    uint32_t end = off + (uint32_t)len; /* <= 65528 + 65535, no overflow */

    /* ATTACKS 13: a zero-length fragment, or a non-final fragment whose data
     * is not a multiple of 8 (RFC 791 s3.2: fragments other than the last
     * break on 8-octet boundaries), can only be forged. */
    if (len == 0 || (ip->mf && len % 8 != 0))
        return abandon(r, s, TERN_E_BAD_LEN, &r->stats.dropped_bad);

    /* ATTACKS 10: offset*8 + length beyond the largest datagram. */
    if (end > payload_limit(s, ip))
        return abandon(r, s, TERN_E_BAD_LEN, &r->stats.dropped_bad);

    /* ATTACKS 14, RFC 1858 s3.1 / RFC 3128 s2: for TCP, "if FO=1 then drop
     * packet" (it could rewrite the flags of the first fragment's header),
     * and a first fragment too short to hold the whole 20-byte TCP header
     * ("tiny fragment") is dropped. The datagram is abandoned too: without
     * those fragments it can never complete. */
    if (ip->proto == TERN_IPPROTO_TCP && (off == 8 || (off == 0 && len < 20)))
        return abandon(r, s, TERN_E_BAD_FIELD, &r->stats.dropped_bad);

    if (s) {
        /* ATTACKS 13: the final fragment fixes the end (RFC 791 s3.2 step
         * 10, TDL); a second, different final or data past it is forged. */
        if (!ip->mf && s->have_last && end != s->total)
            return abandon(r, s, TERN_E_BAD_LEN, &r->stats.dropped_bad);
        if (!ip->mf && end < s->max_end)
            return abandon(r, s, TERN_E_BAD_LEN, &r->stats.dropped_bad);
        if (s->have_last && end > s->total)
            return abandon(r, s, TERN_E_BAD_LEN, &r->stats.dropped_bad);
        /* ATTACKS 10 again: a late offset-0 fragment with a longer header
         * can push data already held past 65535. */
        if (off == 0 && s->max_end > TERN_IPV4_MAX_LEN - (uint32_t)ip->hdr_len)
            return abandon(r, s, TERN_E_BAD_LEN, &r->stats.dropped_bad);

        /* ATTACKS 11/12. DEVIATION: RFC 791 s3.2 and RFC 815 accept
         * overlapping fragments (the later copy wins). Following RFC 1858 s4,
         * RFC 3128 and the rule RFC 5722 made for IPv6, any overlap abandons
         * the datagram; only an exact duplicate (same offset, length, MF and
         * bytes, e.g. a link-layer retransmission) is ignored. */
        for (uint32_t i = 0; i < s->nfrags; i++) {
            const struct reasm_frag *f = &s->frags[i];
            uint32_t fend = (uint32_t)f->off + f->len;
            if (off >= fend || end <= f->off)
                continue;
            bool held_final = s->have_last && fend == s->total;
            if (off == f->off && end == fend && held_final == !ip->mf &&
                slot_equal(r, s, off, payload, (uint32_t)len)) {
                r->stats.duplicates++;
                return 0;
            }
            return abandon(r, s, TERN_E_BAD_FIELD, &r->stats.dropped_overlap);
        }
        if (s->nfrags >= REASM_MAX_FRAGS)
            return abandon(r, s, TERN_E_NOMEM, &r->stats.dropped_bad);
    } else {
        s = slot_new(r, ip, now);
        if (!s)
            return abandon(r, NULL, TERN_E_NOMEM, &r->stats.dropped_bad);
    }

    /* ATTACKS 15 / G3: stay within max_bytes by evicting the oldest other
     * datagrams; if the pool cannot hold this one even then, give it up. */
    uint32_t need = chunks_needed(s, off, end);
    while (need > r->free_top) {
        struct reasm_slot *old = slot_oldest(r, s);
        if (!old)
            return abandon(r, s, TERN_E_NOMEM, &r->stats.evicted);
        slot_release(r, old);
        r->stats.evicted++;
    }

    slot_write(r, s, off, payload, (uint32_t)len);
    /* Insert the record keeping frags sorted by offset. */
    uint32_t pos = s->nfrags;
    while (pos > 0 && s->frags[pos - 1].off > off) {
        s->frags[pos] = s->frags[pos - 1];
        pos--;
    }
    s->frags[pos].off = (uint16_t)off;
    s->frags[pos].len = (uint16_t)len; /* end <= 65515, so len fits */
    s->nfrags++;
    s->held += (uint32_t)len;
    if (end > s->max_end)
        s->max_end = end;
    if (!ip->mf) {
        s->have_last = true;
        s->total = end;
    }
    /* RFC 791 s3.2 step 11: the offset-0 fragment supplies the header. */
    if (off == 0)
        slot_keep_first(s, ip, payload);

    /* Complete when the final fragment is in and the disjoint fragments,
     * all inside [0, total), add up to total: no hole is left (RFC 815). */
    if (!s->have_last || !s->have_first || s->held != s->total)
        return 0;

    slot_read(r, s, 0, r->out, s->total);
    *out = r->out;
    *out_len = s->total;
    *out_ip = s->first_ip;
    out_ip->mf = false;
    out_ip->frag_off = 0;
    out_ip->payload_len = (uint16_t)s->total;
    out_ip->total_len = (uint16_t)(out_ip->hdr_len + s->total); /* <= 65535, ATTACKS 10 */
    out_ip->opts = NULL;
    out_ip->opts_len = 0;
    r->stats.completed++;
    slot_release(r, s);
    return 1;
}

uint64_t ip_reasm_expire(struct tern_reasm *r, uint64_t now, tern_reasm_expired_fn fn, void *ctx)
{
    uint64_t next = UINT64_MAX;
    /* DEVIATION: RFC 791 s3.2 raises the timer to each fragment's TTL; we use
     * one fixed timeout counted from the first-arrived fragment, as RFC 1122
     * s3.3.2 allows ("a fixed value"), so an attacker cannot extend it. */
    for (uint32_t i = 0; i < r->cfg.max_datagrams; i++) {
        struct reasm_slot *s = &r->slots[i];
        if (!s->used)
            continue;
        uint64_t deadline = s->created + r->cfg.timeout_us;
        if (deadline < s->created)
            deadline = UINT64_MAX; /* saturate */
        if (now < deadline) {
            if (deadline < next)
                next = deadline;
            continue;
        }
        /* RFC 1122 s3.3.2 / RFC 792: time exceeded (code 1) only when
         * fragment zero is available (ATTACKS 15). Copy the quote out and
         * free the slot first, so fn sees a consistent reassembler. */
        uint8_t quote[sizeof s->quote];
        size_t qlen = 0;
        if (s->have_first) {
            qlen = s->quote_len;
            memcpy(quote, s->quote, qlen);
        }
        slot_release(r, s);
        r->stats.timeouts++;
        if (qlen && fn)
            fn(ctx, quote, qlen);
    }
    return next;
}
