/*
 * src/sim/sim_sniff.c - the sniffer of the simulator: every frame at a
 * link's first end (exactly the frames that link's pcap holds, written or
 * not) is searched for the text of each POP3 server's mailbox, the way an
 * eavesdropper on the path would grep a capture. Per TCP conversation (as
 * its addresses and ports appear on the wire) the summary says on which
 * links it was seen, how many frames and bytes carried data, and whether
 * the text appeared in any byte of them.
 * The text is found inside one frame, or across two frames that are
 * consecutive in one direction's sequence space (the tail of the one
 * before is kept), so a text split between segments is found too.
 * Bounded: SNIFF_FLOWS conversations (more are counted, not searched per
 * conversation), texts of at most SCN_TEXT_MAX bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_impl.h"
#include "tern/wire/ipv4.h"

#define SNIFF_FLOWS 64

struct sniff_flow {
    uint32_t addr[2];
    uint16_t port[2];
    uint64_t links;              /* bit per link index it was seen on */
    uint64_t frames, bytes, hits;
    struct {
        bool have;
        uint32_t next;           /* the sequence number after the kept tail */
        size_t tail_len;
        uint8_t tail[SCN_TEXT_MAX];
    } dir[2];
};

struct sim_sniff {
    unsigned nneedles;
    const char *needle[SCN_MAX_NODES];
    size_t nlen[SCN_MAX_NODES];
    unsigned nflows;
    uint64_t untracked;
    struct sniff_flow flows[SNIFF_FLOWS];
};

static bool found_in(const struct sim_sniff *s, const uint8_t *b, size_t n)
{
    for (unsigned i = 0; i < s->nneedles; i++)
        if (memmem(b, n, s->needle[i], s->nlen[i]))
            return true;
    return false;
}

int sim_sniff_init(struct sim *sim)
{
    struct sim_sniff *s = NULL;
    for (unsigned n = 0; n < sim->nnodes; n++) {
        const struct scn_node *c = &sim->sc->nodes[n];
        if (!c->pop3_port || !c->pop3_text[0])
            continue;
        if (!s && !(s = sim->sniff = calloc(1, sizeof *s)))
            return -1;
        s->needle[s->nneedles] = c->pop3_text;
        s->nlen[s->nneedles++] = strlen(c->pop3_text);
    }
    return 0;
}

void sim_sniff_frame(struct sim *sim, int link, const uint8_t *frame, size_t len, uint32_t src,
                     uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq,
                     const uint8_t *payload, size_t plen)
{
    struct sim_sniff *s = sim->sniff;
    if (!s || !plen)
        return;
    struct sniff_flow *f = NULL;
    int d = 0;
    for (unsigned i = 0; i < s->nflows && !f; i++) {
        struct sniff_flow *g = &s->flows[i];
        for (int k = 0; k < 2 && !f; k++)
            if (g->addr[k] == src && g->port[k] == sport && g->addr[!k] == dst &&
                g->port[!k] == dport)
                f = g, d = k;
    }
    bool hit = found_in(s, frame, len);
    if (!f) {
        if (s->nflows == SNIFF_FLOWS) {
            s->untracked++;
            return;
        }
        f = &s->flows[s->nflows++];
        f->addr[0] = src;
        f->port[0] = sport;
        f->addr[1] = dst;
        f->port[1] = dport;
        d = 0;
    }
    f->links |= UINT64_C(1) << (link & 63);
    f->frames++;
    f->bytes += plen;
    if (!hit && f->dir[d].have && f->dir[d].next == seq) {
        /* across the boundary with the segment before */
        uint8_t join[2 * SCN_TEXT_MAX];
        size_t t = f->dir[d].tail_len, m = plen < SCN_TEXT_MAX ? plen : SCN_TEXT_MAX;
        memcpy(join, f->dir[d].tail, t);
        memcpy(join + t, payload, m);
        hit = found_in(s, join, t + m);
    }
    f->hits += hit;
    size_t keep = plen < SCN_TEXT_MAX - 1 ? plen : SCN_TEXT_MAX - 1;
    memcpy(f->dir[d].tail, payload + plen - keep, keep);
    f->dir[d].tail_len = keep;
    f->dir[d].next = seq + (uint32_t)plen;
    f->dir[d].have = true;
}

void sim_sniff_summary(struct sim *sim, FILE *out)
{
    struct sim_sniff *s = sim->sniff;
    if (!s)
        return;
    fprintf(out, "Sniffer (every frame at each link's first end, as its pcap holds it, searched "
                 "for the mailbox text");
    for (unsigned i = 0; i < s->nneedles; i++)
        fprintf(out, "%s'%s'", i ? ", " : " ", s->needle[i]);
    fprintf(out, "):\n");
    for (unsigned i = 0; i < s->nflows; i++) {
        const struct sniff_flow *f = &s->flows[i];
        if (f->addr[0] == 0)
            continue;
        char a[16], b[16], where[256] = "";
        size_t off = 0;
        for (unsigned l = 0; l < sim->nlinks && l < 64; l++)
            if (f->links >> l & 1)
                off += (size_t)snprintf(where + off, off < sizeof where ? sizeof where - off : 0,
                                        "%s%s", off ? "," : "", sim->sc->links[l].name);
        fprintf(out, "  tcp %s:%u <-> %s:%u  on %s  %llu frames, %llu bytes of data: %s\n",
                tern_ipv4_ntoa(f->addr[0], a), f->port[0], tern_ipv4_ntoa(f->addr[1], b),
                f->port[1], where, (unsigned long long)f->frames, (unsigned long long)f->bytes,
                f->hits ? "TEXT FOUND" : "text not found");
    }
    if (s->untracked)
        fprintf(out, "  (%llu frames of further conversations not tracked)\n",
                (unsigned long long)s->untracked);
}

void sim_sniff_free(struct sim *sim)
{
    free(sim->sniff);
    sim->sniff = NULL;
}
