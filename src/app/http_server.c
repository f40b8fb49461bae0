/*
 * src/app/http_server.c - static file server on the socket API (see
 * http_server.h). Per connection: READ (parse a request) -> WRITE (head,
 * then the body from memory or a file, as send space allows: POLLOUT) ->
 * READ again (keep-alive) or LINGER (after a close-type response: shut
 * down our side, read and discard until EOF or 2 s, then close - so the
 * client sees the response before any RST, RFC 9112 s9.6).
 * RFC 9112 s9.3 (persistence), RFC 9110 s15 (status codes), s9.3.2 (HEAD).
 */
#include "app/http_server.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/http_msg.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/wire/ipv4.h"

#define OUT_MAX 16384
#define IN_MAX 4096
#define MAX_BODY 65536              /* request bodies are read and dropped; more: 413 */
#define LINGER_US 2000000ull
#define LISTING_MAX_ENTRIES 4096

enum phase { P_READ, P_WRITE, P_LINGER };

struct conn {
    struct tern_http_server *srv;
    struct tern_sock *sk;
    struct tern_sockaddr peer;
    enum phase phase;
    struct tern_timer timer;
    bool close_after, busy;
    uint8_t in[IN_MAX];
    size_t in_off, in_len;       /* input not yet fed to the parser */
    char out[OUT_MAX];
    size_t out_off, out_len;
    char *mem;                   /* a generated body (listing, error page) */
    size_t mem_off, mem_len;
    FILE *file;
    uint64_t file_left;
    int status;
    uint64_t sent_body;
    struct tern_http_req req;    /* large: last */
};

struct tern_http_server {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_http_server_opts o;
    char root[PATH_MAX];         /* realpath of o.root */
    struct tern_sock *listener;
    struct conn **conns;
    unsigned nconns;
    struct tern_http_server_stats st;
};

/* ---- file access: the only OS calls of this app (DEVIATION, see the header) ---- */

enum fs_kind { FS_FILE, FS_DIR, FS_NOTFOUND, FS_FORBIDDEN, FS_ERROR };

struct fs_entry {
    FILE *f;
    uint64_t size;
    int64_t mtime;
};

/* Opens root/rel (rel from tern_http_target_to_path). A directory is
 * reported as FS_DIR (nothing opened). The real path must stay in root. */
static enum fs_kind fs_open(const char *root, const char *rel, struct fs_entry *e)
{
    char path[PATH_MAX], real[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", root, rel) >= sizeof path)
        return FS_NOTFOUND;
    if (!realpath(path, real))
        return errno == EACCES ? FS_FORBIDDEN : FS_NOTFOUND;
    size_t rl = strlen(root);
    if (strncmp(real, root, rl) || (real[rl] != '/' && real[rl] != '\0'))
        return FS_NOTFOUND; /* a symbolic link out of the served directory */
    struct stat sb;
    if (stat(real, &sb) < 0)
        return FS_NOTFOUND;
    if (S_ISDIR(sb.st_mode))
        return FS_DIR;
    if (!S_ISREG(sb.st_mode))
        return FS_NOTFOUND;
    e->f = fopen(real, "rb");
    if (!e->f)
        return errno == EACCES ? FS_FORBIDDEN : FS_ERROR;
    if (fstat(fileno(e->f), &sb) < 0 || !S_ISREG(sb.st_mode)) {
        fclose(e->f);
        return FS_ERROR;
    }
    e->size = (uint64_t)sb.st_size;
    e->mtime = (int64_t)sb.st_mtime;
    return FS_FILE;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in root/rel, sorted, directories with a '/' appended; NULL on error. */
static char **fs_list(const char *root, const char *rel, size_t *count)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", root, rel) >= sizeof path)
        return NULL;
    DIR *d = opendir(path);
    if (!d)
        return NULL;
    char **names = calloc(LISTING_MAX_ENTRIES, sizeof *names);
    size_t n = 0;
    struct dirent *de;
    while (names && n < LISTING_MAX_ENTRIES && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        bool dir = de->d_type == DT_DIR;
        size_t l = strlen(de->d_name);
        if (!(names[n] = malloc(l + 2)))
            break;
        memcpy(names[n], de->d_name, l);
        names[n][l] = dir ? '/' : '\0';
        names[n][l + 1] = '\0';
        n++;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof *names, name_cmp);
    *count = n;
    return names;
}

/* ---- connections ---- */

static void conn_free(struct conn *c, bool abort)
{
    struct tern_http_server *srv = c->srv;
    tern_timer_cancel(srv->loop, &c->timer);
    if (c->file)
        fclose(c->file);
    free(c->mem);
    if (abort)
        tern_sock_abort(c->sk);
    else
        tern_sock_close(c->sk);
    for (unsigned i = 0; i < srv->nconns; i++)
        if (srv->conns[i] == c) {
            srv->conns[i] = srv->conns[--srv->nconns];
            break;
        }
    free(c);
}

static void arm(struct conn *c, uint64_t us)
{
    tern_timer_arm(c->srv->loop, &c->timer, tern_loop_now(c->srv->loop) + us);
}

static void on_timer(struct tern_timer *t, void *arg)
{
    (void)t;
    struct conn *c = arg;
    if (c->phase != P_LINGER)
        c->srv->st.timeouts++;
    conn_free(c, c->phase == P_WRITE);
}

static void count_status(struct tern_http_server *srv, int status)
{
    if (status < 300)
        srv->st.status_2xx++;
    else if (status < 400)
        srv->st.status_3xx++;
    else if (status < 500)
        srv->st.status_4xx++;
    else
        srv->st.status_5xx++;
}

/* Queues the head (and a generated body) for status; body is copied. */
static void respond(struct conn *c, const struct tern_http_head_opts *ho, const char *body,
                    size_t body_len, bool head_only)
{
    int n = tern_http_head_write(c->out, OUT_MAX, ho);
    c->out_len = n > 0 ? (size_t)n : 0;
    c->out_off = 0;
    c->status = ho->status;
    if (body && body_len && !head_only && (c->mem = malloc(body_len))) {
        memcpy(c->mem, body, body_len);
        c->mem_len = body_len;
        c->mem_off = 0;
    }
    c->close_after = ho->close;
    c->phase = P_WRITE;
    count_status(c->srv, ho->status);
}

static void base_head(struct conn *c, struct tern_http_head_opts *ho, int status)
{
    memset(ho, 0, sizeof *ho);
    ho->status = status;
    ho->last_modified = -1;
    ho->content_length = -1;
    if (c->srv->o.wall_clock) {
        ho->has_date = true;
        ho->date = c->srv->o.wall_clock(c->srv->o.clock_ctx);
    }
    bool ka = c->req.state == TERN_HTTP_DONE && c->req.keep_alive;
    ho->close = !ka;
    ho->keep_alive_token = ka && c->req.version_minor == 0;
}

static void error_page(struct conn *c, int status, bool head_only, const char *allow,
                       const char *location)
{
    char body[256];
    int n = snprintf(body, sizeof body, "<!DOCTYPE html>\n<title>%d %s</title>\n<h1>%d %s</h1>\n",
                     status, tern_http_reason(status), status, tern_http_reason(status));
    struct tern_http_head_opts ho;
    base_head(c, &ho, status);
    if (status >= 500 || c->req.state != TERN_HTTP_DONE)
        ho.close = true; /* framing unknown after a parse error: close (RFC 9112 s9.6) */
    ho.content_type = "text/html; charset=utf-8";
    ho.content_length = n;
    ho.allow = allow;
    ho.location = location;
    respond(c, &ho, body, (size_t)n, head_only);
}

static void listing(struct conn *c, const char *rel, bool head_only)
{
    size_t n = 0;
    char **names = fs_list(c->srv->root, rel, &n);
    if (!names) {
        error_page(c, 500, head_only, NULL, NULL);
        return;
    }
    size_t cap = 512 + n * 1600, len = 0;
    char *html = malloc(cap);
    char esc[1200], url[800];
    if (html) {
        if (tern_http_html_escape(c->req.target, esc, sizeof esc) < 0)
            strcpy(esc, "/");
        len += (size_t)snprintf(html + len, cap - len,
                                "<!DOCTYPE html>\n<title>Index of %s</title>\n<h1>Index of %s</h1>\n"
                                "<ul>\n",
                                esc, esc);
        for (size_t i = 0; i < n; i++)
            if (tern_http_path_escape(names[i], url, sizeof url) >= 0 &&
                tern_http_html_escape(names[i], esc, sizeof esc) >= 0) {
                /* the '/' of a directory was escaped as %2F: put it back */
                size_t ul = strlen(url);
                if (ul >= 3 && !strcmp(url + ul - 3, "%2F"))
                    strcpy(url + ul - 3, "/");
                len += (size_t)snprintf(html + len, cap - len, "<li><a href=\"%s\">%s</a></li>\n",
                                        url, esc);
            }
        len += (size_t)snprintf(html + len, cap - len, "</ul>\n");
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!html) {
        error_page(c, 500, head_only, NULL, NULL);
        return;
    }
    struct tern_http_head_opts ho;
    base_head(c, &ho, 200);
    ho.content_type = "text/html; charset=utf-8";
    ho.content_length = (int64_t)len;
    respond(c, &ho, html, len, head_only);
    free(html);
}

/* A complete (or failed) request: decide the response. */
static void handle(struct conn *c)
{
    struct tern_http_server *srv = c->srv;
    srv->st.requests++;
    struct tern_http_req *r = &c->req;
    if (r->state == TERN_HTTP_ERROR) {
        error_page(c, r->status, false, NULL, NULL);
        return;
    }
    bool head = !strcmp(r->method, "HEAD");
    if (!head && strcmp(r->method, "GET")) {
        error_page(c, 405, false, "GET, HEAD", NULL); /* RFC 9110 s15.5.6 */
        return;
    }
    char rel[PATH_MAX];
    bool dir;
    int st = tern_http_target_to_path(r->target, rel, sizeof rel - 16, &dir);
    if (st) {
        error_page(c, st, head, NULL, NULL);
        return;
    }
    struct fs_entry e = {0};
    enum fs_kind k = fs_open(srv->root, rel, &e);
    if (k == FS_DIR) {
        if (!dir) {
            /* RFC 9110 s15.4.2: add the slash so relative links work */
            char loc[PATH_MAX + 2];
            size_t q = strcspn(r->target, "?");
            snprintf(loc, sizeof loc, "%.*s/%s", (int)q, r->target, r->target + q);
            error_page(c, 301, head, NULL, loc);
            return;
        }
        char idx[PATH_MAX + 16];
        snprintf(idx, sizeof idx, "%s%sindex.html", rel, *rel ? "/" : "");
        k = fs_open(srv->root, idx, &e);
        if (k == FS_DIR || k == FS_NOTFOUND) {
            if (srv->o.index)
                listing(c, rel, head);
            else
                error_page(c, 404, head, NULL, NULL);
            return;
        }
        memcpy(rel, idx, strlen(idx) + 1); /* fits: rel was cut 16 bytes short */
    }
    if (k != FS_FILE) {
        error_page(c, k == FS_NOTFOUND ? 404 : k == FS_FORBIDDEN ? 403 : 500, head, NULL, NULL);
        return;
    }
    struct tern_http_head_opts ho;
    base_head(c, &ho, 200);
    ho.content_type = tern_http_content_type(rel);
    ho.content_length = (int64_t)e.size;
    ho.last_modified = e.mtime;
    respond(c, &ho, NULL, 0, head);
    if (head || e.size == 0) {
        fclose(e.f);
    } else {
        c->file = e.f;
        c->file_left = e.size;
    }
}

static void log_response(struct conn *c)
{
    if (!c->srv->o.log)
        return;
    char a[16];
    fprintf(c->srv->o.log, "%s:%u \"%s %s\" %d %llu\n", tern_ipv4_ntoa(c->peer.addr, a),
            c->peer.port, c->req.method ? c->req.method : "-", c->req.target ? c->req.target : "-",
            c->status, (unsigned long long)c->sent_body);
    fflush(c->srv->o.log);
}

enum wr { W_WAIT, W_DONE, W_GONE };

/* Sends as much as the socket takes. W_WAIT: waiting for POLLOUT; W_DONE:
 * the response is complete and c is reading again (next request, or
 * lingering before the close); W_GONE: c was freed. */
static enum wr do_write(struct conn *c)
{
    for (;;) {
        const char *p;
        size_t n;
        bool body = false;
        if (c->out_off < c->out_len) {
            p = c->out + c->out_off;
            n = c->out_len - c->out_off;
        } else if (c->mem_off < c->mem_len) {
            p = c->mem + c->mem_off;
            n = c->mem_len - c->mem_off;
            body = true;
        } else if (c->file && c->file_left) {
            size_t want = c->file_left < OUT_MAX ? (size_t)c->file_left : OUT_MAX;
            size_t got = fread(c->out, 1, want, c->file);
            if (got == 0) { /* the file shrank or failed: the framing is broken, abort */
                log_response(c);
                conn_free(c, true);
                return W_GONE;
            }
            c->file_left -= got;
            c->out_off = 0;
            c->out_len = got;
            c->srv->st.body_bytes += got;
            c->sent_body += got;
            continue;
        } else {
            break;
        }
        ssize_t k = tern_sock_send(c->sk, p, n, 0);
        if (k == TERN_E_AGAIN)
            return W_WAIT; /* POLLOUT will call us again */
        if (k < 0) {
            conn_free(c, true);
            return W_GONE;
        }
        if (body) {
            c->mem_off += (size_t)k;
            c->sent_body += (size_t)k;
        } else {
            c->out_off += (size_t)k;
        }
        arm(c, c->srv->o.idle_timeout_us); /* progress */
    }
    /* the whole response is queued */
    log_response(c);
    if (c->file) {
        fclose(c->file);
        c->file = NULL;
    }
    free(c->mem);
    c->mem = NULL;
    c->mem_len = c->mem_off = c->out_len = c->out_off = 0;
    c->sent_body = 0;
    if (c->close_after) {
        c->phase = P_LINGER;
        tern_sock_shutdown(c->sk, TERN_SHUT_WR);
        arm(c, LINGER_US);
        return W_DONE;
    }
    c->phase = P_READ;
    tern_http_req_init(&c->req, MAX_BODY);
    arm(c, c->srv->o.idle_timeout_us);
    return W_DONE; /* the caller reads on: a pipelined request may be waiting */
}

/* Reads and answers requests until the socket has no more data, a
 * response waits for send space, or c is freed. Iterative (no recursion
 * however many requests are pipelined). */
static void do_read(struct conn *c)
{
    for (;;) {
        if (c->phase == P_WRITE)
            return;
        if (c->in_off == c->in_len) {
            ssize_t n = tern_sock_recv(c->sk, c->in, sizeof c->in, 0);
            if (n == TERN_E_AGAIN)
                return;
            if (n <= 0) { /* EOF or error */
                conn_free(c, n < 0);
                return;
            }
            c->in_off = 0;
            c->in_len = (size_t)n;
        }
        if (c->phase == P_LINGER) {
            c->in_off = c->in_len = 0; /* discarded */
            continue;
        }
        while (c->in_off < c->in_len && c->req.state != TERN_HTTP_DONE &&
               c->req.state != TERN_HTTP_ERROR)
            c->in_off += tern_http_req_feed(&c->req, c->in + c->in_off, c->in_len - c->in_off,
                                            NULL, NULL); /* request bodies are dropped */
        if (c->req.state == TERN_HTTP_DONE || c->req.state == TERN_HTTP_ERROR) {
            handle(c);
            if (do_write(c) != W_DONE)
                return; /* waiting for POLLOUT, or gone */
        }
    }
}

static void on_conn(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)sk;
    struct conn *c = ctx;
    if (c->phase == P_WRITE && (events & TERN_POLLOUT)) {
        if (do_write(c) != W_DONE)
            return;
        do_read(c);
        return;
    }
    if ((events & (TERN_POLLIN | TERN_POLLHUP)) && c->phase != P_WRITE) {
        do_read(c);
        return;
    }
    if (events & TERN_POLLERR) {
        int e = tern_sock_error(c->sk);
        if (e < 0)
            conn_free(c, true);
    }
}

static void on_listen(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)events;
    struct tern_http_server *srv = ctx;
    for (;;) {
        struct tern_sockaddr peer;
        int err = 0;
        struct tern_sock *nsk = tern_sock_accept(sk, &peer, &err);
        if (!nsk)
            return;
        struct conn *c = srv->nconns < srv->o.max_conns ? calloc(1, sizeof *c) : NULL;
        if (!c) {
            srv->st.refused++;
            tern_sock_abort(nsk);
            continue;
        }
        srv->st.accepted++;
        c->srv = srv;
        c->sk = nsk;
        c->peer = peer;
        c->phase = P_READ;
        tern_http_req_init(&c->req, MAX_BODY);
        tern_timer_init(&c->timer, on_timer, c);
        srv->conns[srv->nconns++] = c;
        arm(c, srv->o.idle_timeout_us);
        tern_sock_set_handler(nsk, TERN_POLLIN | TERN_POLLOUT, on_conn, c);
        do_read(c);
    }
}

struct tern_http_server *tern_http_server_start(struct tern_stack *s, struct tern_loop *loop,
                                                const struct tern_http_server_opts *o, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    *err = TERN_E_INVAL;
    if (!s || !loop || !o || !o->root)
        return NULL;
    struct tern_http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        *err = TERN_E_NOMEM;
        return NULL;
    }
    srv->stack = s;
    srv->loop = loop;
    srv->o = *o;
    if (!srv->o.port)
        srv->o.port = 80;
    if (!srv->o.max_conns)
        srv->o.max_conns = 64;
    if (!srv->o.backlog)
        srv->o.backlog = 16;
    if (!srv->o.idle_timeout_us)
        srv->o.idle_timeout_us = 30000000ull;
    struct stat sb;
    if (!realpath(o->root, srv->root) || stat(srv->root, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        free(srv);
        return NULL;
    }
    if (!(srv->conns = calloc(srv->o.max_conns, sizeof *srv->conns))) {
        free(srv);
        *err = TERN_E_NOMEM;
        return NULL;
    }
    int r = 0;
    srv->listener = tern_sock_open(s, TERN_SOCK_STREAM, &r);
    if (!srv->listener)
        goto fail;
    tern_sock_setopt(srv->listener, TERN_SO_REUSEADDR, 1);
    tern_sock_setopt(srv->listener, TERN_SO_PRIVILEGED, 1); /* the operator chose the port */
    struct tern_sockaddr local = {.addr = o->addr, .port = srv->o.port};
    if ((r = tern_sock_bind(srv->listener, &local)) < 0 ||
        (r = tern_sock_listen(srv->listener, srv->o.backlog)) < 0)
        goto fail;
    tern_sock_set_handler(srv->listener, TERN_POLLIN, on_listen, srv);
    return srv;
fail:
    *err = r;
    if (srv->listener)
        tern_sock_abort(srv->listener);
    free(srv->conns);
    free(srv);
    return NULL;
}

const struct tern_http_server_stats *tern_http_server_stats(const struct tern_http_server *srv)
{
    return &srv->st;
}

unsigned tern_http_server_conns(const struct tern_http_server *srv)
{
    return srv->nconns;
}

void tern_http_server_free(struct tern_http_server *srv)
{
    if (!srv)
        return;
    while (srv->nconns)
        conn_free(srv->conns[srv->nconns - 1], true);
    tern_sock_abort(srv->listener);
    free(srv->conns);
    free(srv);
}
