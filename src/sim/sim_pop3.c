/*
 * src/sim/sim_pop3.c - the `pop3` timeline action: a scripted POP3 client
 * (RFC 1939) on the socket API, as a user at `telnet HOST 110` would type
 * it: USER, PASS, RETR 1, QUIT, each sent after the previous reply's
 * "+OK" line (s3: one command, one response). It prints what a telnet
 * user sees (the commands, the server's lines, the password masked) and
 * hashes every byte received (the whole transcript) and the message of
 * RETR 1 (dot-unstuffed, s3: "any line beginning with a termination octet
 * is byte-stuffed"), so a run can show that a tunnel delivered exactly
 * what a plain session does.
 * Bounded: a 4 KiB line buffer (longer lines fail the session), a 30 s
 * timer on each reply.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_impl.h"
#include "tern/err.h"

#define REPLY_TIMEOUT_US 30000000

enum step { S_GREETING, S_USER, S_PASS, S_RETR, S_RETR_BODY, S_QUIT, S_DONE };

struct sim_pop3 {
    struct sim *sim;
    struct sim_act *a;
    struct tern_sock *sk;
    enum step step;
    char line[4096];
    size_t len;
    uint64_t received, msg_bytes, start_us;
    struct tern_sha256 all, msg;
    struct tern_timer timer;
    bool over;
};

static void pop3_end(struct sim_pop3 *p, int status, const char *why)
{
    if (p->over)
        return;
    p->over = true;
    struct sim_act *a = p->a;
    tern_timer_cancel(p->sim->loop, &p->timer);
    if (why)
        fprintf(a->out, "pop3: %s\n", why);
    fprintf(a->out, "pop3: exit %d, received %llu bytes in %.3f s, message %llu bytes\n", status,
            (unsigned long long)p->received,
            (double)(tern_loop_now(p->sim->loop) - p->start_us) / 1e6,
            (unsigned long long)p->msg_bytes);
    uint8_t d[32];
    char hex[65];
    struct tern_sha256 c = p->all;
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, hex);
    fprintf(a->out, "pop3: received sha256 %s\n", hex);
    c = p->msg;
    sim_sha256_final(&c, d);
    sim_sha256_hex(d, hex);
    fprintf(a->out, "pop3: message sha256 %s\n", hex);
    if (p->sk) {
        if (status == 0)
            tern_sock_close(p->sk);
        else
            tern_sock_abort(p->sk);
        p->sk = NULL;
    }
    sim_act_finish(a, status);
}

static void command(struct sim_pop3 *p, const char *cmd, const char *shown)
{
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%s\r\n", cmd);
    fprintf(p->a->out, "> %s\n", shown);
    if (tern_sock_send(p->sk, buf, (size_t)n, 0) != n)
        return pop3_end(p, 1, "cannot send a command");
    tern_timer_arm(p->sim->loop, &p->timer, tern_loop_now(p->sim->loop) + REPLY_TIMEOUT_US);
}

/* One line from the server, without its CRLF. */
static void on_line(struct sim_pop3 *p, const char *l, size_t n)
{
    struct sim_act *a = p->a;
    if (p->step == S_RETR_BODY) {
        /* RFC 1939 s3: the multi-line response ends with "." alone; a
         * line starting with "." had one more prepended. */
        if (n == 1 && l[0] == '.') {
            fprintf(a->out, "< .\n");
            p->step = S_QUIT;
            command(p, "QUIT", "QUIT");
            return;
        }
        if (n && l[0] == '.')
            l++, n--;
        fprintf(a->out, "< %.*s\n", (int)n, l);
        sim_sha256_update(&p->msg, l, n);
        sim_sha256_update(&p->msg, "\r\n", 2);
        p->msg_bytes += n + 2;
        return;
    }
    fprintf(a->out, "< %.*s\n", (int)n, l);
    if (n < 3 || memcmp(l, "+OK", 3) != 0)
        return pop3_end(p, 1, "the server said no");
    char cmd[80], shown[80];
    switch (p->step) {
    case S_GREETING:
        snprintf(cmd, sizeof cmd, "USER %s", a->cfg->user);
        p->step = S_USER;
        return command(p, cmd, cmd);
    case S_USER:
        snprintf(cmd, sizeof cmd, "PASS %s", a->cfg->pass);
        snprintf(shown, sizeof shown, "PASS %.*s", (int)strlen(a->cfg->pass), "********************************");
        p->step = S_PASS;
        return command(p, cmd, shown);
    case S_PASS:
        p->step = S_RETR;
        return command(p, "RETR 1", "RETR 1");
    case S_RETR:
        p->step = S_RETR_BODY;
        return;
    case S_QUIT:
        p->step = S_DONE;
        return pop3_end(p, 0, NULL);
    default:
        return;
    }
}

static void on_sock(struct tern_sock *sk, unsigned ev, void *ctx)
{
    struct sim_pop3 *p = ctx;
    (void)ev;
    uint8_t buf[4096];
    ssize_t r;
    while (!p->over && (r = tern_sock_recv(sk, buf, sizeof buf, 0)) > 0) {
        p->received += (uint64_t)r;
        sim_sha256_update(&p->all, buf, (size_t)r);
        for (ssize_t i = 0; i < r && !p->over; i++) {
            if (buf[i] == '\n') {
                size_t n = p->len && p->line[p->len - 1] == '\r' ? p->len - 1 : p->len;
                p->len = 0;
                on_line(p, p->line, n);
            } else if (p->len == sizeof p->line) {
                return pop3_end(p, 1, "line too long");
            } else {
                p->line[p->len++] = (char)buf[i];
            }
        }
    }
    if (p->over)
        return;
    if (r == 0)
        return pop3_end(p, 1, "connection closed by the server");
    int e = tern_sock_error(sk);
    if (r != TERN_E_AGAIN || e)
        return pop3_end(p, 1, tern_strerror(e ? e : (int)r));
}

static void on_timeout(struct tern_timer *t, void *arg)
{
    (void)t;
    pop3_end(arg, 1, "no reply in 30 s");
}

struct sim_pop3 *sim_pop3_start(struct sim *sim, struct sim_act *a, struct tern_stack *s,
                                uint32_t dst, uint16_t port, int *err)
{
    struct sim_pop3 *p = calloc(1, sizeof *p);
    if (!p) {
        *err = TERN_E_NOMEM;
        return NULL;
    }
    p->sim = sim;
    p->a = a;
    p->start_us = tern_loop_now(sim->loop);
    sim_sha256_init(&p->all);
    sim_sha256_init(&p->msg);
    tern_timer_init(&p->timer, on_timeout, p);
    p->sk = tern_sock_open(s, TERN_SOCK_STREAM, err);
    if (!p->sk) {
        free(p);
        return NULL;
    }
    tern_sock_set_handler(p->sk, TERN_POLLIN, on_sock, p);
    struct tern_sockaddr to = {.addr = dst, .port = port};
    int r = tern_sock_connect(p->sk, &to);
    if (r < 0 && r != TERN_E_INPROGRESS) {
        *err = r;
        tern_sock_abort(p->sk);
        free(p);
        return NULL;
    }
    tern_timer_arm(sim->loop, &p->timer, p->start_us + REPLY_TIMEOUT_US);
    return p;
}

void sim_pop3_free(struct sim_pop3 *p)
{
    if (!p)
        return;
    tern_timer_cancel(p->sim->loop, &p->timer);
    if (p->sk)
        tern_sock_abort(p->sk);
    free(p);
}
