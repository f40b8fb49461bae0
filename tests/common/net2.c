/* tests/common/net2.c - see net2.h. */
#include "common/net2.h"

#include <string.h>

int net2_open(struct net2 *n, uint64_t seed, const struct tern_impair *imp)
{
    memset(n, 0, sizeof *n);
    n->loop = tern_loop_virtual_new(0);
    if (!n->loop || tern_memlink_pair(n->loop, TERN_LINK_ETHERNET, 1500, 256, &n->a, &n->b) < 0)
        return -1;
    if (imp) {
        struct tern_impair ia = *imp, ib = *imp;
        ia.seed = seed * 2 + 1;
        ib.seed = seed * 2 + 2;
        n->a = tern_impair_wrap(n->loop, n->a, &ia);
        n->b = tern_impair_wrap(n->loop, n->b, &ib);
        if (!n->a || !n->b)
            return -1;
    }
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = seed;
    n->sa = tern_stack_new(&cfg, n->loop);
    cfg.seed = seed + 1000;
    n->sb = tern_stack_new(&cfg, n->loop);
    if (!n->sa || !n->sb)
        return -1;
    struct tern_iface_config ca = {.addr = NET2_A, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 1}};
    struct tern_iface_config cb = {.addr = NET2_B, .prefix_len = 24, .up = true,
                                   .mac = {2, 0, 0, 0, 0, 2}};
    if (tern_stack_add_iface(n->sa, n->a, &ca) < 0 || tern_stack_add_iface(n->sb, n->b, &cb) < 0)
        return -1;
    return 0;
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
