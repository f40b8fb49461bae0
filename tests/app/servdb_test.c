/*
 * Tests for src/app/servdb.c: the fixture tests/data/services (a services(5)
 * file with malformed lines), the real /etc/services when present (Debian's
 * netbase: values checked against IANA's registry), the built-in table, and
 * bounded reading of hostile input.
 */
#include <stdlib.h>

#include "app/servdb.h"
#include "harness.h"
#include "tern/err.h"

static struct tern_servdb *from_text(const char *text, size_t len)
{
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f)
        return NULL;
    int err = 1;
    struct tern_servdb *db = servdb_read(f, &err);
    fclose(f);
    return db;
}

TEST(servdb_fixture_lookups)
{
    int err = 1;
    struct tern_servdb *db = servdb_open("tests/data/services", &err);
    REQUIRE(db != NULL);
    CHECK_EQ(err, TERN_OK);
    struct servdb_stats st;
    servdb_stats(db, &st);
    CHECK_EQ(st.entries, 15);
    CHECK_EQ(st.malformed, 8);
    CHECK_EQ(st.dropped, 0);
    CHECK(!st.builtin);
    CHECK_EQ(servdb_port(db, "domain", TERN_SERVDB_UDP), 53);
    CHECK_EQ(servdb_port(db, "domain", TERN_SERVDB_TCP), 53);
    CHECK_EQ(servdb_port(db, "www", TERN_SERVDB_TCP), 80);         /* alias */
    CHECK_EQ(servdb_port(db, "www", TERN_SERVDB_UDP), TERN_E_NOTFOUND);
    CHECK_EQ(servdb_port(db, "sink", TERN_SERVDB_UDP), 9);
    CHECK_EQ(servdb_port(db, "mysvc", TERN_SERVDB_UDP), 4242);     /* second alias */
    CHECK_EQ(servdb_port(db, "ntp", TERN_SERVDB_UDP), 123);
    CHECK_EQ(servdb_port(db, "daytime", 0), 13);
    CHECK_EQ(servdb_port(db, "echo", 0), 7);                       /* file order, not ddp */
    CHECK_EQ(servdb_port(db, "echo", TERN_SERVDB_DDP), 4);
    CHECK_EQ(servdb_port(db, "Domain", TERN_SERVDB_UDP), TERN_E_NOTFOUND); /* exact case */
    CHECK_EQ(servdb_port(db, "bad", 0), TERN_E_NOTFOUND);
    CHECK_EQ(servdb_port(db, "toomany", 0), TERN_E_NOTFOUND);
    CHECK_EQ(servdb_port(db, "a1", 0), TERN_E_NOTFOUND);
    CHECK_STR(servdb_name(db, 53, TERN_SERVDB_UDP), "domain");
    CHECK_STR(servdb_name(db, 80, TERN_SERVDB_TCP), "http");
    CHECK_STR(servdb_name(db, 7, TERN_SERVDB_UDP), "echo");
    CHECK(servdb_name(db, 80, TERN_SERVDB_UDP) == NULL);
    CHECK(servdb_name(db, 4, TERN_SERVDB_UDP) == NULL);
    CHECK(servdb_name(db, 4, 0) == NULL);
    CHECK(servdb_name(db, 70000 & 0xffff, 0) == NULL);
    servdb_free(db);
}

TEST(servdb_parse_port_numbers_and_names)
{
    struct tern_servdb *db = servdb_open("tests/data/services", NULL);
    REQUIRE(db != NULL);
    CHECK_EQ(servdb_parse_port(db, "53", TERN_SERVDB_UDP), 53);
    CHECK_EQ(servdb_parse_port(db, "0", TERN_SERVDB_UDP), 0);
    CHECK_EQ(servdb_parse_port(db, "65535", TERN_SERVDB_UDP), 65535);
    CHECK_EQ(servdb_parse_port(db, "65536", TERN_SERVDB_UDP), TERN_E_INVAL);
    CHECK_EQ(servdb_parse_port(db, "12x", TERN_SERVDB_UDP), TERN_E_INVAL);
    CHECK_EQ(servdb_parse_port(db, "", TERN_SERVDB_UDP), TERN_E_INVAL);
    CHECK_EQ(servdb_parse_port(db, "-1", TERN_SERVDB_UDP), TERN_E_NOTFOUND);
    CHECK_EQ(servdb_parse_port(db, "domain", TERN_SERVDB_UDP), 53);
    /* qotd is tcp-only in the file: the any-protocol fallback finds it */
    CHECK_EQ(servdb_parse_port(db, "qotd", TERN_SERVDB_UDP), 17);
    CHECK_EQ(servdb_parse_port(db, "quote", TERN_SERVDB_UDP), 17);
    CHECK_EQ(servdb_parse_port(db, "nosuch", TERN_SERVDB_UDP), TERN_E_NOTFOUND);
    CHECK_EQ(servdb_parse_port(NULL, "domain", TERN_SERVDB_UDP), TERN_E_NOTFOUND);
    CHECK_EQ(servdb_parse_port(NULL, "7", TERN_SERVDB_UDP), 7);
    servdb_free(db);
}

TEST(servdb_real_etc_services)
{
    FILE *f = fopen("/etc/services", "r");
    if (!f) {
        printf("skip - servdb_real_etc_services: no /etc/services\n");
        return;
    }
    fclose(f);
    struct tern_servdb *db = servdb_open(NULL, NULL);
    REQUIRE(db != NULL);
    struct servdb_stats st;
    servdb_stats(db, &st);
    CHECK(!st.builtin);
    CHECK(st.entries > 50);
    CHECK_EQ(st.malformed, 0);
    /* IANA's assignments (RFC 6335 registry) */
    CHECK_EQ(servdb_port(db, "domain", TERN_SERVDB_UDP), 53);
    CHECK_EQ(servdb_port(db, "bootps", TERN_SERVDB_UDP), 67);
    CHECK_EQ(servdb_port(db, "bootpc", TERN_SERVDB_UDP), 68);
    CHECK_EQ(servdb_port(db, "ntp", TERN_SERVDB_UDP), 123);
    CHECK_EQ(servdb_port(db, "echo", TERN_SERVDB_UDP), 7);
    CHECK_EQ(servdb_port(db, "time", TERN_SERVDB_UDP), 37);
    CHECK_EQ(servdb_port(db, "ssh", TERN_SERVDB_TCP), 22);
    CHECK_EQ(servdb_port(db, "https", TERN_SERVDB_TCP), 443);
    CHECK_STR(servdb_name(db, 19, TERN_SERVDB_UDP), "chargen");
    CHECK_STR(servdb_name(db, 25, TERN_SERVDB_TCP), "smtp");
    servdb_free(db);
}

TEST(servdb_missing_file_gives_builtin)
{
    int err = 1;
    struct tern_servdb *db = servdb_open("tests/data/no-such-services-file", &err);
    REQUIRE(db != NULL);
    CHECK_EQ(err, TERN_OK);
    struct servdb_stats st;
    servdb_stats(db, &st);
    CHECK(st.builtin);
    CHECK_EQ(st.malformed, 0);
    static const struct { const char *name; uint8_t proto; int port; } want[] = {
        {"echo", TERN_SERVDB_UDP, 7},     {"discard", TERN_SERVDB_UDP, 9},
        {"daytime", TERN_SERVDB_UDP, 13}, {"qotd", TERN_SERVDB_UDP, 17},
        {"chargen", TERN_SERVDB_UDP, 19}, {"time", TERN_SERVDB_UDP, 37},
        {"ssh", TERN_SERVDB_TCP, 22},     {"smtp", TERN_SERVDB_TCP, 25},
        {"domain", TERN_SERVDB_UDP, 53},  {"domain", TERN_SERVDB_TCP, 53},
        {"bootps", TERN_SERVDB_UDP, 67},  {"bootpc", TERN_SERVDB_UDP, 68},
        {"http", TERN_SERVDB_TCP, 80},    {"www", TERN_SERVDB_TCP, 80},
        {"ntp", TERN_SERVDB_UDP, 123},    {"https", TERN_SERVDB_TCP, 443},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_EQ(servdb_port(db, want[i].name, want[i].proto), want[i].port);
    CHECK_STR(servdb_name(db, 67, TERN_SERVDB_UDP), "bootps");
    servdb_free(db);
    /* a directory is an error, not a silent fallback */
    err = 0;
    CHECK(servdb_open("tests/data", &err) == NULL);
    CHECK_EQ(err, TERN_E_IO);
}

TEST(servdb_bounded_hostile_input)
{
    /* an overlong line, a NUL byte, lines at and over the length cap, no final newline */
    size_t n = 5 * TERN_SERVDB_MAX_LINE + 200;
    char *t = malloc(n);
    REQUIRE(t != NULL);
    size_t k = 0;
    memcpy(t + k, "long\t1/udp\t", 11);
    k += 11;
    while (k < 2 * TERN_SERVDB_MAX_LINE)
        t[k++] = 'x';
    t[k++] = '\n';
    memcpy(t + k, "nul\t2/udp\0\n", 11);
    k += 11;
    memcpy(t + k, "good\t3/udp\n", 11);
    k += 11;
    /* exactly MAX_LINE - 1 bytes + newline: accepted; one more: overlong */
    for (int extra = 0; extra < 2; extra++) {
        size_t start = k;
        memcpy(t + k, extra ? "over\t6/udp #" : "fit\t4/udp #", extra ? 12 : 11);
        k += extra ? 12 : 11;
        while (k - start < (size_t)TERN_SERVDB_MAX_LINE - 1 + (size_t)extra)
            t[k++] = 'y';
        t[k++] = '\n';
    }
    memcpy(t + k, "last\t5/udp", 10); /* no final newline */
    k += 10;
    struct tern_servdb *db = from_text(t, k);
    REQUIRE(db != NULL);
    struct servdb_stats st;
    servdb_stats(db, &st);
    CHECK_EQ(servdb_port(db, "long", 0), TERN_E_NOTFOUND);
    CHECK_EQ(servdb_port(db, "nul", 0), TERN_E_NOTFOUND);
    CHECK_EQ(servdb_port(db, "good", TERN_SERVDB_UDP), 3);
    CHECK_EQ(servdb_port(db, "fit", TERN_SERVDB_UDP), 4);
    CHECK_EQ(servdb_port(db, "over", 0), TERN_E_NOTFOUND);
    CHECK_EQ(servdb_port(db, "last", TERN_SERVDB_UDP), 5);
    CHECK_EQ(st.entries, 3);
    CHECK_EQ(st.malformed, 3);
    servdb_free(db);
    free(t);

    /* a name of 63 bytes is kept, 64 is not */
    char line[200];
    memset(line, 'n', 64);
    memcpy(line + 64, " 9/udp\n", 7);
    db = from_text(line, 71);
    REQUIRE(db != NULL);
    servdb_stats(db, &st);
    CHECK_EQ(st.entries, 0);
    CHECK_EQ(st.malformed, 1);
    servdb_free(db);
    db = from_text(line + 1, 70);
    REQUIRE(db != NULL);
    servdb_stats(db, &st);
    CHECK_EQ(st.entries, 1);
    servdb_free(db);
}

TEST(servdb_entry_cap)
{
    /* more lines than TERN_SERVDB_MAX_ENTRIES: the rest are counted, not kept */
    size_t lines = TERN_SERVDB_MAX_ENTRIES + 10;
    char *t = malloc(lines * 16);
    REQUIRE(t != NULL);
    size_t k = 0;
    for (size_t i = 0; i < lines; i++)
        k += (size_t)snprintf(t + k, 16, "s%zu %zu/udp\n", i, i % 65536);
    struct tern_servdb *db = from_text(t, k);
    REQUIRE(db != NULL);
    struct servdb_stats st;
    servdb_stats(db, &st);
    CHECK_EQ(st.entries, TERN_SERVDB_MAX_ENTRIES);
    CHECK_EQ(st.dropped, 10);
    CHECK_EQ(servdb_port(db, "s8191", 0), 8191);
    CHECK_EQ(servdb_port(db, "s8192", 0), TERN_E_NOTFOUND);
    servdb_free(db);
    free(t);
}
