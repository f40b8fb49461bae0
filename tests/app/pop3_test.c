/*
 * Tests for src/app/pop3.c (RFC 1939): the server on stack B (10.0.0.2:110),
 * a raw TCP client on A, in virtual time; every command's responses are
 * checked against the RFC's wording of what they must carry.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/pop3.h"
#include "common/net2.h"
#include "harness.h"
#include "tern/err.h"
#include "tern/socket.h"

struct pc {
    struct net2 n;
    struct tern_pop3 *srv;
    struct tern_sock *sk;
    char dir[64];
    char rx[65536];
    size_t rxlen;
};

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

#define M1 "From: alice@example.test\nSubject: one\n\nhello\n.dot line\n"
#define M2 "From: bob@example.test\nSubject: two\n\nline 1\nline 2\nline 3\n"

static void drain(struct pc *p)
{
    tern_loop_run(p->n.loop, tern_loop_now(p->n.loop) + 500000);
    for (;;) {
        ssize_t k = tern_sock_recv(p->sk, p->rx + p->rxlen, sizeof p->rx - 1 - p->rxlen, 0);
        if (k <= 0)
            break;
        p->rxlen += (size_t)k;
    }
    p->rx[p->rxlen] = 0;
}

/* Sends a command line (CRLF added) and returns everything answered. */
static const char *cmd(struct pc *p, const char *line)
{
    p->rxlen = 0;
    tern_sock_send(p->sk, line, strlen(line), 0);
    tern_sock_send(p->sk, "\r\n", 2, 0);
    drain(p);
    return p->rx;
}

static int pc_open(struct pc *p, int mode) /* 0 maildir, 1 mbox, 2 maildir, cur/ empty */
{
    memset(p, 0, sizeof *p);
    strcpy(p->dir, "/tmp/tern-pop3-XXXXXX");
    if (!mkdtemp(p->dir) || net2_open(&p->n, 5, NULL))
        return -1;
    char path[256], drop[96];
    bool mbox = mode == 1;
    if (mbox) {
        snprintf(drop, sizeof drop, "%s/mbox", p->dir);
        put(drop, "From alice Mon Dec  7 10:00:00 2026\n" M1 "\nFrom bob Mon Dec  7 11:00:00 2026\n" M2);
    } else {
        snprintf(drop, sizeof drop, "%s/Maildir", p->dir);
        mkdir(drop, 0700);
        snprintf(path, sizeof path, "%s/cur", drop);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/new", drop);
        mkdir(path, 0700);
        snprintf(path, sizeof path, mode == 2 ? "%s/new/1000.a.host" : "%s/cur/1000.a.host:2,S", drop);
        put(path, M1);
        snprintf(path, sizeof path, "%s/new/2000.b.host", drop);
        put(path, M2);
    }
    int err;
    struct tern_pop3_opts o = {.maildrop = drop, .user = "alice", .pass = "secret"};
    p->srv = pop3_start(p->n.sb, p->n.loop, &o, &err);
    if (!p->srv)
        return -1;
    p->sk = tern_sock_open(p->n.sa, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr b = {NET2_B, 110};
    tern_sock_connect(p->sk, &b);
    drain(p);
    return 0;
}

static void pc_close(struct pc *p)
{
    if (p->sk)
        tern_sock_abort(p->sk);
    pop3_free(p->srv);
    tern_loop_run(p->n.loop, tern_loop_now(p->n.loop) + 1000000);
    net2_close(&p->n);
    char c[128];
    snprintf(c, sizeof c, "rm -rf '%s'", p->dir);
    if (system(c) != 0)
        fprintf(stderr, "cannot remove %s\n", p->dir);
}

/* CRLF sizes: M1 has 5 lines (61 bytes + 5 CR), M2 6 lines (61 + 6). */
#define S1 (sizeof M1 - 1 + 5)
#define S2 (sizeof M2 - 1 + 6)

static void every_command(bool mbox)
{
    struct pc p;
    REQUIRE(pc_open(&p, mbox ? 1 : 0) == 0);
    CHECK(!strncmp(p.rx, "+OK ", 4)); /* s4: the greeting */
    CHECK(!strncmp(cmd(&p, "STAT"), "-ERR", 4)); /* not in TRANSACTION yet */
    CHECK(!strncmp(cmd(&p, "USER alice"), "+OK", 3));
    CHECK(!strncmp(cmd(&p, "PASS wrong"), "-ERR", 4));
    CHECK(!strncmp(cmd(&p, "USER mallory"), "+OK", 3));
    CHECK(!strncmp(cmd(&p, "PASS secret"), "-ERR", 4)); /* the name was wrong */
    cmd(&p, "user alice"); /* s3: keywords are case-insensitive */
    char want[128];
    snprintf(want, sizeof want, "+OK maildrop has 2 messages (%zu octets)\r\n", S1 + S2);
    CHECK_STR(cmd(&p, "PASS secret"), want);
    snprintf(want, sizeof want, "+OK 2 %zu\r\n", S1 + S2); /* s5 STAT: "+OK nn mm" */
    CHECK_STR(cmd(&p, "STAT"), want);
    snprintf(want, sizeof want, "+OK 2 messages (%zu octets)\r\n1 %zu\r\n2 %zu\r\n.\r\n", S1 + S2, S1, S2);
    CHECK_STR(cmd(&p, "LIST"), want);
    snprintf(want, sizeof want, "+OK 2 %zu\r\n", S2);
    CHECK_STR(cmd(&p, "LIST 2"), want);
    CHECK(!strncmp(cmd(&p, "LIST 3"), "-ERR", 4));
    /* RETR: CRLF lines, the "." line byte-stuffed, "." at the end */
    snprintf(want, sizeof want,
             "+OK %zu octets\r\nFrom: alice@example.test\r\nSubject: one\r\n\r\nhello\r\n..dot line\r\n.\r\n", S1);
    CHECK_STR(cmd(&p, "RETR 1"), want);
    CHECK_STR(cmd(&p, "TOP 2 1"), "+OK top of message follows\r\nFrom: bob@example.test\r\nSubject: two\r\n\r\nline 1\r\n.\r\n");
    CHECK_STR(cmd(&p, "TOP 2 0"), "+OK top of message follows\r\nFrom: bob@example.test\r\nSubject: two\r\n\r\n.\r\n");
    const char *u = cmd(&p, "UIDL");
    CHECK(!strncmp(u, "+OK\r\n1 ", 7) && strstr(u, "\r\n2 ") && strstr(u, "\r\n.\r\n"));
    if (!mbox) {
        CHECK_STR(cmd(&p, "UIDL 1"), "+OK 1 1000.a.host\r\n"); /* the maildir name, info cut */
    }
    CHECK_STR(cmd(&p, "DELE 1"), "+OK message 1 deleted\r\n");
    CHECK_STR(cmd(&p, "DELE 1"), "-ERR message 1 already deleted\r\n");
    CHECK(!strncmp(cmd(&p, "RETR 1"), "-ERR", 4));
    snprintf(want, sizeof want, "+OK 1 %zu\r\n", S2);
    CHECK_STR(cmd(&p, "STAT"), want);
    snprintf(want, sizeof want, "+OK 1 message (%zu octets)\r\n2 %zu\r\n.\r\n", S2, S2);
    CHECK_STR(cmd(&p, "LIST"), want); /* s5: deleted messages are not listed */
    CHECK_STR(cmd(&p, "NOOP"), "+OK\r\n");
    snprintf(want, sizeof want, "+OK maildrop has 2 messages (%zu octets)\r\n", S1 + S2);
    CHECK_STR(cmd(&p, "RSET"), want);
    CHECK(!strncmp(cmd(&p, "XYZZY"), "-ERR", 4));
    CHECK(!strncmp(cmd(&p, "RETR 0"), "-ERR", 4));
    CHECK(!strncmp(cmd(&p, "RETR x"), "-ERR", 4));
    CHECK(!strncmp(cmd(&p, "TOP 1"), "-ERR", 4));
    cmd(&p, "DELE 2");
    const char *q = cmd(&p, "QUIT");
    CHECK(!strncmp(q, "+OK", 3) && strstr(q, "1 message left") && strstr(q, "not kept"));
    /* s6: the server closes after QUIT's answer */
    char x;
    CHECK_EQ(tern_sock_recv(p.sk, &x, 1, 0), 0);
    const struct pop3_stats *st = pop3_stats(p.srv);
    CHECK_EQ(st->logins, 1u);
    CHECK_EQ(st->bad_logins, 2u);
    CHECK_EQ(st->retrieved, 1u);
    pc_close(&p);
}

TEST(pop3_every_command_maildir) { every_command(false); }
TEST(pop3_every_command_mbox) { every_command(true); }

/* A line longer than the bound is refused without growing anything, and
 * the session goes on. */
TEST(pop3_long_line_refused)
{
    struct pc p;
    REQUIRE(pc_open(&p, 0) == 0);
    char big[2000];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_STR(cmd(&p, big), "-ERR line too long\r\n");
    CHECK(!strncmp(cmd(&p, "USER alice"), "+OK", 3));
    pc_close(&p);
}

/* s3: the autologout timer closes an idle session without UPDATE. */
TEST(pop3_autologout_after_ten_minutes)
{
    struct pc p;
    REQUIRE(pc_open(&p, 0) == 0);
    tern_loop_run(p.n.loop, tern_loop_now(p.n.loop) + 590000000ull);
    char x;
    CHECK_EQ(tern_sock_recv(p.sk, &x, 1, 0), TERN_E_AGAIN);
    tern_loop_run(p.n.loop, tern_loop_now(p.n.loop) + 20000000ull);
    CHECK_EQ(tern_sock_recv(p.sk, &x, 1, 0), 0);
    pc_close(&p);
}

/* A maildir whose cur/ is empty (all mail new): both messages are there.
 * (Under UBSan this once stopped at qsort(NULL, 0, ...).) */
TEST(pop3_maildir_with_empty_cur)
{
    struct pc p;
    REQUIRE(pc_open(&p, 2) == 0);
    cmd(&p, "USER alice");
    char want[64];
    snprintf(want, sizeof want, "+OK maildrop has 2 messages (%zu octets)\r\n", S1 + S2);
    CHECK_STR(cmd(&p, "PASS secret"), want);
    CHECK_STR(cmd(&p, "UIDL 1"), "+OK 1 1000.a.host\r\n");
    pc_close(&p);
}
