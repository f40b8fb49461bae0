/*
 * tests/common/net2.h - the two-stack test network: stack A 10.0.0.1/24
 * (MAC 02:00:00:00:00:01) and stack B 10.0.0.2/24 (02:00:00:00:00:02) joined
 * by a memory link in virtual time, optionally impaired in both directions.
 * Everything is seeded, so a test replays exactly.
 */
#ifndef TERN_TESTS_NET2_H
#define TERN_TESTS_NET2_H

#include <stdint.h>

#include "tern/device.h"
#include "tern/loop.h"
#include "tern/stack.h"

#define NET2_A 0x0a000001u
#define NET2_B 0x0a000002u

struct net2 {
    struct tern_loop *loop;
    struct tern_device *a, *b; /* A's and B's devices (impairment wrappers if any) */
    struct tern_stack *sa, *sb;
};

/* Stacks are seeded with seed and seed + 1000; with imp, A's side of the
 * link is impaired with seed*2+1 and B's with seed*2+2. 0 or -1. */
int net2_open(struct net2 *n, uint64_t seed, const struct tern_impair *imp);
void net2_close(struct net2 *n);

/* The building blocks net2_open and the TCP test networks share: wrap both
 * ends in imp (seeds seed*2+1 and seed*2+2; imp NULL: nothing), and make the
 * two stacks (cfg NULL: defaults; seeds seed and seed + 1000) with their
 * addresses and MACs on devices a and b. 0 or -1. */
int net2_impair_pair(struct tern_loop *loop, struct tern_device **a, struct tern_device **b,
                     const struct tern_impair *imp, uint64_t seed);
int net2_add_stacks(struct tern_loop *loop, struct tern_device *a, struct tern_device *b,
                    const struct tern_config *cfg, uint64_t seed, struct tern_stack **sa,
                    struct tern_stack **sb);

#endif
