/* tests/common/net2.c - see net2.h. */
#include "common/net2.h"

#include <string.h>

int net2_impair_pair(struct tern_loop *loop, struct tern_device **a, struct tern_device **b,
                     const struct tern_impair *imp, uint64_t seed)
{
    if (!imp)
        return 0;
    struct tern_impair ia = *imp, ib = *imp;
    ia.seed = seed * 2 + 1;
    ib.seed = seed * 2 + 2;
    *a = tern_impair_wrap(loop, *a, &ia);
    *b = tern_impair_wrap(loop, *b, &ib);
    return *a && *b ? 0 : -1;
}

int net2_add_stacks(struct tern_loop *loop, struct tern_device *a, struct tern_device *b,
                    const struct tern_config *cfg, uint64_t seed, struct tern_stack **sa,
                    struct tern_stack **sb)
{
    struct tern_config c;
    if (cfg)
        c = *cfg;
    else
        tern_config_defaults(&c);
    c.seed = seed;
    *sa = tern_stack_new(&c, loop);
    c.seed = seed + 1000;
    *sb = tern_stack_new(&c, loop);
    if (!*sa || !*sb)
        return -1;
    struct tern_iface_config ca = {.addr = NET2_A, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 1}};
    struct tern_iface_config cb = {.addr = NET2_B, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 2}};
    if (tern_stack_add_iface(*sa, a, &ca) < 0 || tern_stack_add_iface(*sb, b, &cb) < 0)
        return -1;
    return 0;
}

int net2_open(struct net2 *n, uint64_t seed, const struct tern_impair *imp)
{
    memset(n, 0, sizeof *n);
    n->loop = tern_loop_virtual_new(0);
    if (!n->loop || tern_memlink_pair(n->loop, TERN_LINK_ETHERNET, 1500, 256, &n->a, &n->b) < 0)
        return -1;
    if (net2_impair_pair(n->loop, &n->a, &n->b, imp, seed) < 0)
        return -1;
    return net2_add_stacks(n->loop, n->a, n->b, NULL, seed, &n->sa, &n->sb);
}

void net2_close(struct net2 *n)
{
    tern_stack_free(n->sa);
    tern_stack_free(n->sb);
    tern_device_destroy(n->a);
    tern_device_destroy(n->b);
    tern_loop_destroy(n->loop);
    memset(n, 0, sizeof *n);
}
