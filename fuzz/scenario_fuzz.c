/*
 * fuzz/scenario_fuzz.c - libFuzzer target for the scenario parser
 * (src/sim/scenario*.c). Input: the text of a scenario file.
 *
 * Checks: the parser never reads outside the input or crashes (ASan/UBSan)
 * and always ends; an error is one line "t.scn:LINE: what" with LINE within
 * the input's line count, NUL-terminated inside the buffer; a success
 * keeps every count within its cap and every cross-reference (links'
 * interfaces, actions' nodes) in range (abort() if not). The network is
 * not built: building touches the file system (zone files, directories).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(c)        \
    do {                       \
        if (!(c))              \
            abort();           \
    } while (0)

static struct scenario sc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[300];
    memset(err, 'x', sizeof err);
    int rc = scenario_parse(&sc, (const char *)data, size, "t.scn", err, sizeof err);
    if (rc < 0) {
        CHECK_OR_DIE(rc == -1);
        CHECK_OR_DIE(memchr(err, 0, sizeof err) != NULL);
        CHECK_OR_DIE(strncmp(err, "t.scn:", 6) == 0);
        long line = strtol(err + 6, NULL, 10);
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        CHECK_OR_DIE(line >= 0 && (size_t)line <= lines);
        CHECK_OR_DIE(strchr(err, '\n') == NULL);
        return 0;
    }
    CHECK_OR_DIE(sc.nnodes <= SCN_MAX_NODES && sc.nlinks <= SCN_MAX_LINKS &&
                 sc.nactions <= SCN_MAX_ACTIONS);
    for (unsigned i = 0; i < sc.nnodes; i++) {
        const struct scn_node *n = &sc.nodes[i];
        CHECK_OR_DIE(n->nifaces >= 1 && n->nifaces <= SCN_MAX_IFACES);
        CHECK_OR_DIE(n->nroutes <= SCN_MAX_ROUTES && n->nrecords <= SCN_MAX_RECORDS);
        for (unsigned f = 0; f < n->nifaces; f++)
            CHECK_OR_DIE(n->ifaces[f].link >= 0 && (unsigned)n->ifaces[f].link < sc.nlinks);
        CHECK_OR_DIE(!n->dhcpd.on || (n->dhcpd.iface >= 0 && (unsigned)n->dhcpd.iface < n->nifaces));
    }
    for (unsigned i = 0; i < sc.nlinks; i++)
        for (int e = 0; e < 2; e++) {
            const struct scn_link *l = &sc.links[i];
            CHECK_OR_DIE(l->node[e] >= 0 && (unsigned)l->node[e] < sc.nnodes);
            CHECK_OR_DIE(l->iface[e] >= 0 && (unsigned)l->iface[e] < sc.nodes[l->node[e]].nifaces);
            CHECK_OR_DIE(l->dir[e].loss >= 0 && l->dir[e].loss <= 1);
        }
    for (unsigned i = 0; i < sc.nactions; i++) {
        const struct scn_action *a = &sc.actions[i];
        CHECK_OR_DIE(a->at_us <= SCN_MAX_TIME_US);
        if (a->kind != SCN_ACT_LINK && a->kind != SCN_ACT_TRACE && a->kind != SCN_ACT_SAY)
            CHECK_OR_DIE(a->node >= 0 && (unsigned)a->node < sc.nnodes);
    }
    return 0;
}
