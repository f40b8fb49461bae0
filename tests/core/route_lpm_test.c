/*
 * tests/core/route_lpm_test.c - the longest-prefix-match structure of
 * src/core/route.c against a brute-force reference: random routes of
 * every prefix length (default route and /32 included), random and
 * boundary lookups, deletes, the table growing past its first arrays and
 * back to empty.
 */
#include <string.h>

#include "harness.h"
#include "world.h"

#define REF_MAX 6000

struct ref_route {
    uint32_t dst, gw;
    uint8_t len;
};

struct ref {
    struct ref_route r[REF_MAX];
    int n;
};

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    /* xorshift64*: deterministic, independent of the stack's generator */
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return (uint32_t)((rnd_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t mask_of(uint8_t len)
{
    return len ? 0xffffffffu << (32 - len) : 0;
}

static int ref_find(const struct ref *f, uint32_t dst, uint8_t len)
{
    for (int i = 0; i < f->n; i++)
        if (f->r[i].dst == dst && f->r[i].len == len)
            return i;
    return -1;
}

/* The reference: the longest matching prefix, scanning everything. */
static int ref_lookup(const struct ref *f, uint32_t a, uint32_t *nh)
{
    int best = -1;
    for (int i = 0; i < f->n; i++)
        if ((a & mask_of(f->r[i].len)) == f->r[i].dst &&
            (best < 0 || f->r[i].len > f->r[best].len))
            best = i;
    if (best < 0)
        return TERN_E_INVAL;
    *nh = f->r[best].gw ? f->r[best].gw : a;
    return TERN_OK;
}

static uint8_t rnd_len(void)
{
    /* Mostly the common lengths, every length possible. */
    static const uint8_t common[] = {0, 8, 16, 24, 32, 32, 24, 24};
    uint32_t x = rnd();
    return (x & 1) ? common[(x >> 1) % 8] : (uint8_t)((x >> 1) % 33);
}

static int compare(struct world *w, const struct ref *f, uint32_t a)
{
    uint32_t nh = 0, want = 0;
    int ifi = -1;
    int got = tern_route_lookup(w->s, a, &nh, &ifi);
    int exp = ref_lookup(f, a, &want);
    if (got != exp || (got == TERN_OK && (nh != want || ifi != w->ifindex))) {
        CHECK_EQ(got, exp);
        CHECK_EQ(nh, want);
        return 1;
    }
    return 0;
}

static int check_all(struct world *w, const struct ref *f, int lookups)
{
    int bad = 0;
    for (int i = 0; i < lookups && bad < 3; i++)
        bad += compare(w, f, rnd());
    /* The edges of every prefix, and one step outside them. */
    for (int i = 0; i < f->n && bad < 3; i++) {
        uint32_t lo = f->r[i].dst, hi = lo | ~mask_of(f->r[i].len);
        bad += compare(w, f, lo) + compare(w, f, hi) + compare(w, f, lo - 1) +
               compare(w, f, hi + 1);
    }
    return bad;
}

TEST(core_route_lpm_random_routes_match_reference)
{
    struct world *w = world_new(NULL);
    static struct ref f;
    memset(&f, 0, sizeof f);
    rnd_state = 0x9e3779b97f4a7c15ull;
    /* The connected route the interface installed. */
    f.r[f.n++] = (struct ref_route){.dst = W_US & 0xffffff00u, .gw = 0, .len = 24};
    CHECK_EQ(route_count(w->s), 1u);
    CHECK_EQ(check_all(w, &f, 2000), 0);
    for (int round = 0; round < 6; round++) {
        /* Adds: 900 per round, each with its own gateway (no ECMP). */
        for (int i = 0; i < 900 && f.n < REF_MAX; i++) {
            uint8_t len = rnd_len();
            uint32_t dst = rnd() & mask_of(len);
            if (ref_find(&f, dst, len) >= 0)
                continue;
            uint32_t gw = (rnd() & 1) ? 0 : 0x0b000000u + (uint32_t)f.n + 1;
            REQUIRE(tern_route_add(w->s, dst, len, gw, w->ifindex) == TERN_OK);
            f.r[f.n++] = (struct ref_route){.dst = dst, .gw = gw, .len = len};
            /* Adding it again changes nothing. */
            if (i % 97 == 0)
                REQUIRE(tern_route_add(w->s, dst, len, gw, w->ifindex) == TERN_OK);
        }
        CHECK_EQ(route_count(w->s), (size_t)f.n);
        CHECK_EQ(check_all(w, &f, 3000), 0);
        /* Deletes: a third of what is there (the connected route too,
         * now and then), and a prefix that is not there. */
        for (int i = f.n / 3; i > 0 && f.n > 0; i--) {
            int k = (int)(rnd() % (uint32_t)f.n);
            CHECK_EQ(tern_route_del(w->s, f.r[k].dst, f.r[k].len), TERN_OK);
            CHECK_EQ(tern_route_del(w->s, f.r[k].dst, f.r[k].len), TERN_E_INVAL);
            f.r[k] = f.r[--f.n];
        }
        CHECK_EQ(route_count(w->s), (size_t)f.n);
        CHECK_EQ(check_all(w, &f, 3000), 0);
    }
    /* Everything deleted: no route at all, then a default route alone
     * matches every address. */
    while (f.n > 0) {
        CHECK_EQ(tern_route_del(w->s, f.r[f.n - 1].dst, f.r[f.n - 1].len), TERN_OK);
        f.n--;
    }
    CHECK_EQ(route_count(w->s), 0u);
    CHECK_EQ(check_all(w, &f, 200), 0);
    CHECK_EQ(tern_route_add(w->s, 0, 0, 0x0a0000feu, w->ifindex), TERN_OK);
    f.r[f.n++] = (struct ref_route){.dst = 0, .gw = 0x0a0000feu, .len = 0};
    CHECK_EQ(check_all(w, &f, 500), 0);
    world_end(w);
}

TEST(core_route_lpm_host_routes_default_and_fallback)
{
    struct world *w = world_new(NULL);
    uint32_t nh;
    int ifi;
    /* /32 beside its /31, /30 ... /0, each with its own gateway: every
     * length answers for the addresses only it covers. */
    for (int len = 0; len <= 32; len++)
        CHECK_EQ(tern_route_add(w->s, 0xc6336405u, (uint8_t)len, 0x0a000100u + (uint32_t)len,
                                w->ifindex),
                 TERN_OK);
    for (int len = 32; len >= 1; len--) {
        /* The address that differs from 198.51.100.5 in bit (32 - len):
         * matched by every prefix shorter than len, not by len. */
        uint32_t a = 0xc6336405u ^ (1u << (32 - len));
        CHECK_EQ(tern_route_lookup(w->s, a, &nh, &ifi), TERN_OK);
        CHECK_EQ(nh, 0x0a000100u + (uint32_t)len - 1);
    }
    CHECK_EQ(tern_route_lookup(w->s, 0xc6336405u, &nh, &ifi), TERN_OK);
    CHECK_EQ(nh, 0x0a000120u);
    /* Deleting from the longest down falls back one length at a time. */
    for (int len = 32; len >= 0; len--) {
        CHECK_EQ(tern_route_lookup(w->s, 0xc6336405u, &nh, &ifi), TERN_OK);
        CHECK_EQ(nh, 0x0a000100u + (uint32_t)len);
        CHECK_EQ(tern_route_del(w->s, 0xc6336405u, (uint8_t)len), TERN_OK);
    }
    CHECK_EQ(tern_route_lookup(w->s, 0xc6336405u, &nh, &ifi), TERN_E_INVAL);
    /* The connected route is still there. */
    CHECK_EQ(tern_route_lookup(w->s, W_PEER, &nh, &ifi), TERN_OK);
    CHECK_EQ(nh, W_PEER);
    world_end(w);
}

static int sink(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx, (void)frame, (void)len;
    return 0;
}

TEST(core_route_lpm_down_iface_falls_back_to_shorter_prefix)
{
    struct world *w = world_new(NULL);
    static const uint8_t mac2[6] = {0x02, 0, 0, 0, 1, 1};
    struct tern_device *d2 = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac2, sink, NULL);
    REQUIRE(d2 != NULL);
    struct tern_iface_config ic;
    memset(&ic, 0, sizeof ic);
    ic.addr = 0xc0a80001u;
    ic.prefix_len = 24;
    ic.up = true;
    ic.mtu = 1500;
    int if2 = tern_stack_add_iface(w->s, d2, &ic);
    REQUIRE(if2 >= 0);
    CHECK_EQ(tern_route_add(w->s, 0, 0, 0x0a0000feu, w->ifindex), TERN_OK);
    CHECK_EQ(tern_route_add(w->s, 0x08000000u, 8, 0xc0a800feu, if2), TERN_OK);
    uint32_t nh;
    int ifi;
    CHECK_EQ(tern_route_lookup(w->s, 0x08080808u, &nh, &ifi), TERN_OK);
    CHECK_EQ(ifi, if2);
    CHECK_EQ(tern_iface_set_up(w->s, if2, false), TERN_OK);
    CHECK_EQ(tern_route_lookup(w->s, 0x08080808u, &nh, &ifi), TERN_OK);
    CHECK_EQ(ifi, w->ifindex);
    CHECK_EQ(nh, 0x0a0000feu);
    world_end(w);
    tern_device_destroy(d2);
}
