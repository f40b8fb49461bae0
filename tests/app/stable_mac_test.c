/* Tests for src/app/stable_mac.c: the tools' default MAC per interface. */
#include <string.h>

#include "app/stable_mac.h"
#include "harness.h"

TEST(stable_mac_same_inputs_same_address_unicast_local)
{
    uint8_t a[6], b[6], c[6], d[6];
    stable_mac("0123456789abcdef0123456789abcdef", "tap0", a);
    stable_mac("0123456789abcdef0123456789abcdef", "tap0", b);
    stable_mac("0123456789abcdef0123456789abcdef", "tap1", c);
    stable_mac("fedcba9876543210fedcba9876543210", "tap0", d);
    CHECK_MEM(a, b, 6);              /* a second run: the same client */
    CHECK(memcmp(a, c, 6) != 0);     /* another interface: another client */
    CHECK(memcmp(a, d, 6) != 0);     /* another machine: another client */
    CHECK_EQ(a[0] & 0x01, 0);        /* unicast */
    CHECK_EQ(a[0] & 0x02, 0x02);     /* locally administered */
    CHECK_EQ(c[0] & 0x03, 0x02);
    static const uint8_t zero[6] = {0};
    CHECK(memcmp(a, zero, 6) != 0);
}
