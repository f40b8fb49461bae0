/* Tests for src/app/hosts.c: names from a hosts(5) file. */
#include <stdio.h>
#include <string.h>

#include "app/hosts.h"
#include "harness.h"

TEST(hosts_lookup_as_glibc_files)
{
    static const char text[] = "# comment line\n"
                               "127.0.0.1\tlocalhost\n"
                               "::1 localhost ip6-localhost\n"
                               "10.0.0.5  web.test www   # trailing comment\n"
                               "10.0.0.6  web.test\n"
                               "not-an-address bad.test\n"
                               "10.0.0.7 Mixed.Case.Test\n";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
    REQUIRE(f);
    uint32_t a = 0;
    CHECK_EQ(hosts_lookup(f, "web.test", &a), 0);
    CHECK_EQ(a, 0x0a000005u); /* the first line naming it wins */
    rewind(f);
    CHECK_EQ(hosts_lookup(f, "www", &a), 0); /* an alias */
    CHECK_EQ(a, 0x0a000005u);
    rewind(f);
    CHECK_EQ(hosts_lookup(f, "mixed.case.test.", &a), 0); /* case, a final dot */
    CHECK_EQ(a, 0x0a000007u);
    rewind(f);
    CHECK_EQ(hosts_lookup(f, "ip6-localhost", &a), -1); /* IPv6 lines are skipped */
    rewind(f);
    CHECK_EQ(hosts_lookup(f, "bad.test", &a), -1);
    rewind(f);
    CHECK_EQ(hosts_lookup(f, "comment", &a), -1);
    rewind(f);
    CHECK_EQ(hosts_lookup(f, "web", &a), -1); /* whole names only */
    fclose(f);
    CHECK_EQ(hosts_lookup_path("/nonexistent/hosts", "web.test", &a), -1);
}
