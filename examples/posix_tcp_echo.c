/*
 * examples/posix_tcp_echo.c - a threaded TCP echo server (RFC 862) and its
 * client, written as ordinary BSD sockets programs, running on tern instead
 * of the kernel.
 *
 * The port from kernel sockets is mechanical: create a runtime (tern's
 * stack on a TAP device, driven by a thread of its own), then prefix each
 * socket call with tern_ and pass the runtime first:
 *     socket(AF_INET, SOCK_STREAM, 0)  -> tern_socket(rt, AF_INET, SOCK_STREAM, 0)
 *     bind / listen / accept           -> tern_bind(rt, ...) / tern_listen / tern_accept
 *     connect / read / write           -> tern_connect(rt, ...) / tern_read / tern_write
 *     shutdown(fd, SHUT_WR) / close    -> tern_shutdown(rt, fd, SHUT_WR) / tern_close
 * Types, flags and errno values are the POSIX ones; calls block; any
 * number of threads may block in them at once (the server runs one thread
 * per connection, exactly as it would on the kernel).
 * One difference: the stack lives in this process. After close() the
 * kernel goes on sending what was queued even once the program has
 * exited; here tern_runtime_free() would end that (with a RST), so before
 * it the program waits for its closed connections to finish (drain()
 * below, the only other tern-specific code).
 *
 * Build against an installed tern:
 *     cc -std=c11 -pthread posix_tcp_echo.c $(pkg-config --cflags --libs tern) -o posix_tcp_echo
 * Run (needs CAP_NET_ADMIN for the TAP device):
 *     posix_tcp_echo server TAP ADDR/PREFIX [PORT [COUNT]]
 *         echoes on PORT (default 7), one thread per connection, until COUNT
 *         connections have finished (0 = until SIGINT/SIGTERM)
 *     posix_tcp_echo client TAP ADDR/PREFIX HOST PORT [BYTES]
 *         sends BYTES (default 100000) of a pattern, half-closes, reads the
 *         echo to the end and checks it byte for byte; exit 0 if equal
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/posix.h>
#include <tern/socket.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Waits (at most 10 s) until no TCP connection of the stack still has
 * data or a FIN to deliver: every one gone or in TIME_WAIT, only
 * listeners left. */
static void drain(struct tern_runtime *rt)
{
    for (int i = 0; i < 1000; i++) {
        struct tern_sock_info rows[64];
        tern_runtime_lock(rt);
        size_t n = tern_sock_list(tern_runtime_stack(rt), rows, 64);
        tern_runtime_unlock(rt);
        bool busy = false;
        for (size_t k = 0; k < n && k < 64; k++)
            if (rows[k].type == TERN_SOCK_STREAM && strcmp(rows[k].state, "TIME_WAIT") != 0 &&
                strcmp(rows[k].state, "LISTEN") != 0 && strcmp(rows[k].state, "CLOSED") != 0)
                busy = true;
        if (!busy)
            return;
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    }
}

/* ---- server: one thread per connection ---- */

struct conn {
    struct tern_runtime *rt;
    int fd;
    struct sockaddr_in peer;
    pthread_mutex_t *mu;
    pthread_cond_t *done_cv;
    long *done;
};

static void *echo_conn(void *arg)
{
    struct conn *c = arg;
    char buf[16384];
    long long total = 0;
    for (;;) {
        ssize_t n = tern_read(c->rt, c->fd, buf, sizeof buf);
        if (n == 0)
            break; /* the client half-closed: all its bytes are echoed */
        if (n < 0) {
            perror("read");
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = tern_write(c->rt, c->fd, buf + off, (size_t)(n - off));
            if (w < 0) {
                perror("write");
                goto out;
            }
            off += w;
        }
        total += n;
    }
out:;
    char who[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &c->peer.sin_addr, who, sizeof who);
    printf("%lld bytes from %s:%u echoed\n", total, who, ntohs(c->peer.sin_port));
    fflush(stdout);
    tern_close(c->rt, c->fd);
    pthread_mutex_lock(c->mu);
    (*c->done)++;
    pthread_cond_signal(c->done_cv);
    pthread_mutex_unlock(c->mu);
    free(c);
    return NULL;
}

static int server(struct tern_runtime *rt, int port, long count)
{
    int lfd = tern_socket(rt, AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        perror("socket");
        return 1;
    }
    int one = 1;
    tern_setsockopt(rt, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in local;
    memset(&local, 0, sizeof local);
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_ANY);
    local.sin_port = htons((uint16_t)port);
    if (tern_bind(rt, lfd, (struct sockaddr *)&local, sizeof local) < 0 ||
        tern_listen(rt, lfd, 16) < 0) {
        perror("bind/listen");
        tern_close(rt, lfd);
        return 1;
    }
    printf("echo server on port %d\n", port);
    fflush(stdout);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
    long started = 0, done = 0;
    while (!stop && (count == 0 || started < count)) {
        /* poll with a timeout so SIGINT/SIGTERM is seen (no EINTR in tern) */
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        int n = tern_poll(rt, &p, 1, 200);
        if (n < 0) {
            perror("poll");
            break;
        }
        if (n == 0)
            continue;
        struct conn *c = calloc(1, sizeof *c);
        if (!c)
            break;
        socklen_t plen = sizeof c->peer;
        c->fd = tern_accept(rt, lfd, (struct sockaddr *)&c->peer, &plen);
        if (c->fd < 0) {
            perror("accept");
            free(c);
            continue;
        }
        c->rt = rt;
        c->mu = &mu;
        c->done_cv = &done_cv;
        c->done = &done;
        pthread_t t;
        if (pthread_create(&t, NULL, echo_conn, c) != 0) {
            tern_close(rt, c->fd);
            free(c);
            continue;
        }
        pthread_detach(t);
        started++;
    }
    /* wait for the connections still being echoed */
    pthread_mutex_lock(&mu);
    while (done < started)
        pthread_cond_wait(&done_cv, &mu);
    pthread_mutex_unlock(&mu);
    printf("%ld connections echoed\n", done);
    tern_close(rt, lfd);
    return 0;
}

/* ---- client: send, half-close, read the echo back and compare ---- */

struct sender {
    struct tern_runtime *rt;
    int fd;
    long bytes;
    int err;
};

static unsigned char pattern(long i) { return (unsigned char)((i * 7 + i / 251) & 0xff); }

static void *send_all(void *arg)
{
    struct sender *s = arg;
    unsigned char buf[8192];
    for (long off = 0; off < s->bytes;) {
        long n = s->bytes - off < (long)sizeof buf ? s->bytes - off : (long)sizeof buf;
        for (long i = 0; i < n; i++)
            buf[i] = pattern(off + i);
        ssize_t w = tern_write(s->rt, s->fd, buf, (size_t)n);
        if (w < 0) {
            s->err = errno;
            return NULL;
        }
        off += w; /* a short write: the rest of buf is rebuilt from off */
    }
    if (tern_shutdown(s->rt, s->fd, SHUT_WR) < 0)
        s->err = errno;
    return NULL;
}

static int client(struct tern_runtime *rt, const char *host, int port, long bytes)
{
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1) {
        fprintf(stderr, "bad host %s\n", host);
        return 2;
    }
    int fd = tern_socket(rt, AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || tern_connect(rt, fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("connect");
        if (fd >= 0)
            tern_close(rt, fd);
        return 1;
    }
    /* A writer thread and this reader: neither side's buffers can fill up
     * and deadlock the two, whatever BYTES is. */
    struct sender s = {.rt = rt, .fd = fd, .bytes = bytes};
    pthread_t t;
    if (pthread_create(&t, NULL, send_all, &s) != 0) {
        tern_close(rt, fd);
        return 1;
    }
    long got = 0, bad = -1;
    unsigned char buf[16384];
    for (;;) {
        ssize_t n = tern_read(rt, fd, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            perror("read");
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            if (bad < 0 && buf[i] != pattern(got + i))
                bad = got + i;
        got += n;
    }
    pthread_join(t, NULL);
    tern_close(rt, fd);
    if (s.err)
        fprintf(stderr, "write: %s\n", strerror(s.err));
    if (bad >= 0)
        printf("echo differs at byte %ld\n", bad);
    printf("%ld bytes sent, %ld bytes echoed back%s\n", bytes, got,
           got == bytes && bad < 0 && !s.err ? ", equal" : "");
    return got == bytes && bad < 0 && !s.err ? 0 : 1;
}

int main(int argc, char **argv)
{
    bool is_server = argc > 1 && strcmp(argv[1], "server") == 0;
    bool is_client = argc > 1 && strcmp(argv[1], "client") == 0;
    if ((!is_server && !is_client) || (is_server && (argc < 4 || argc > 6)) ||
        (is_client && (argc < 6 || argc > 7))) {
        fprintf(stderr, "usage: %s server TAP ADDR/PREFIX [PORT [COUNT]]\n"
                        "       %s client TAP ADDR/PREFIX HOST PORT [BYTES]\n", argv[0], argv[0]);
        return 2;
    }
    char addr_s[32];
    snprintf(addr_s, sizeof addr_s, "%s", argv[3]);
    char *slash = strchr(addr_s, '/');
    int prefix = slash ? atoi(slash + 1) : 24;
    if (slash)
        *slash = 0;
    struct in_addr ia;
    if (inet_pton(AF_INET, addr_s, &ia) != 1 || prefix < 0 || prefix > 32) {
        fprintf(stderr, "%s: bad address %s\n", argv[0], argv[3]);
        return 2;
    }

    /* The only tern-specific part: a stack on the TAP device. */
    struct tern_runtime_cfg cfg = {.tap = argv[2], .addr = ntohl(ia.s_addr),
                                   .prefix_len = (uint8_t)prefix};
    struct tern_runtime *rt = tern_runtime_new(&cfg);
    if (!rt) {
        fprintf(stderr, "%s: cannot start tern on %s: %s\n", argv[0], argv[2], strerror(errno));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc;
    if (is_server)
        rc = server(rt, argc > 4 ? atoi(argv[4]) : 7, argc > 5 ? atol(argv[5]) : 0);
    else
        rc = client(rt, argv[4], atoi(argv[5]), argc > 6 ? atol(argv[6]) : 100000);
    drain(rt); /* let closed connections finish sending (see the top) */
    tern_runtime_free(rt);
    return rc;
}
