/*
 * bench/route_bench.c - the cost of one route lookup (tern_route_lookup:
 * longest-prefix match, src/core/route.c) with 1, 64 and 10,000 routes in
 * the table: random prefixes of lengths 8..32 and a default route, looked
 * up with random destinations (most fall to the default route, the
 * longest walk the structure has). CPU time per lookup, in ns and cycles,
 * best of three runs with the spread. Before the hash-per-length table
 * (64-slot linear scan) the table held at most 64 routes.
 *
 *     make bench BENCH=route
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "tern/device.h"
#include "tern/err.h"
#include "tern/loop.h"
#include "tern/stack.h"

#define NADDR 4096
#define LOOKUPS 4000000

static uint64_t st = 88172645463325252ull;

static uint32_t rnd(void)
{
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    return (uint32_t)(st >> 16);
}

static int sink(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx, (void)frame, (void)len;
    return 0;
}

static void run(struct tern_loop *loop, int nroutes, double mhz)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 7;
    struct tern_stack *s = tern_stack_new(&cfg, loop);
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    struct tern_device *d = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, sink, NULL);
    struct tern_iface_config ic = {.addr = 0x0a000001u, .prefix_len = 24, .up = true};
    int ifi = s && d ? tern_stack_add_iface(s, d, &ic) : -1;
    if (ifi < 0) {
        printf("%8d routes: setup failed\n", nroutes);
        return;
    }
    /* The connected route counts as one; then a default route. */
    int have = 1;
    if (have < nroutes && tern_route_add(s, 0, 0, 0x0a0000feu, ifi) == TERN_OK)
        have++;
    while (have < nroutes) {
        uint8_t len = (uint8_t)(8 + rnd() % 25);
        uint32_t dst = rnd() & (0xffffffffu << (32 - len));
        if (tern_route_add(s, dst, len, 0x0a000002u + (uint32_t)(have % 200), ifi) != TERN_OK)
            break;
        have++;
    }
    static uint32_t addr[NADDR];
    for (int i = 0; i < NADDR; i++)
        addr[i] = rnd();
    double best = 1e9, worst = 0;
    uint32_t acc = 0;
    for (int r = 0; r < 3; r++) {
        double c0 = bench_cpu();
        for (int i = 0; i < LOOKUPS; i++) {
            uint32_t nh = 0;
            int ix;
            (void)tern_route_lookup(s, addr[i & (NADDR - 1)], &nh, &ix);
            acc += nh;
        }
        double ns = (bench_cpu() - c0) * 1e9 / LOOKUPS;
        best = ns < best ? ns : best;
        worst = ns > worst ? ns : worst;
    }
    printf("%8d routes (%5d in table) %8.1f ns %8.0f cycles  (3 runs: %.1f..%.1f ns)%s\n",
           nroutes, have, best, best * mhz / 1e3, best, worst, acc == 1 ? " " : "");
    tern_stack_free(s);
    tern_device_destroy(d);
}

int main(void)
{
    double mhz = bench_cpu_mhz();
    struct tern_loop *loop = tern_loop_virtual_new(0);
    printf("route lookup (tern_route_lookup), CPU time per lookup, best of 3; cycles at %.0f MHz\n",
           mhz);
    run(loop, 1, mhz);
    run(loop, 64, mhz);
    run(loop, 10000, mhz);
    tern_loop_destroy(loop);
    return 0;
}
