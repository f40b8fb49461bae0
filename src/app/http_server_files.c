/*
 * src/app/http_server_files.c - what the static file server answers (see
 * http_server.h): a parsed request becomes a response head plus a body
 * from memory (error page, directory listing) or a file: GET and HEAD
 * only (405 otherwise), request-target to a path under the root (never
 * out of it, symbolic links included), a redirect to add a directory's
 * slash, index.html or a listing, 403/404/500. Not: the connections
 * (http_server.c), parsing (http_msg.c), head text (http_text.c).
 * RFC 9110 s15 (status codes), s9.3.2 (HEAD), s15.4.2 (301); RFC 9112 s9.6.
 */
#include "app/http_server_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LISTING_MAX_ENTRIES 4096

/* ---- file access: the only OS calls of this app (DEVIATION, see the header) ---- */

enum fs_kind { FS_FILE, FS_DIR, FS_NOTFOUND, FS_FORBIDDEN, FS_ERROR };

struct fs_entry {
    FILE *f;
    uint64_t size;
    int64_t mtime;
};

/* Opens root/rel (rel from http_path_of_target). A directory is
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
static void respond(struct http_srv_conn *c, const struct tern_http_head_opts *ho, const char *body,
                    size_t body_len, bool head_only)
{
    int n = http_write_head(c->out, HTTP_SRV_OUT_MAX, ho);
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

static void base_head(struct http_srv_conn *c, struct tern_http_head_opts *ho, int status)
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

static void error_page(struct http_srv_conn *c, int status, bool head_only, const char *allow,
                       const char *location)
{
    char body[256];
    int n = snprintf(body, sizeof body, "<!DOCTYPE html>\n<title>%d %s</title>\n<h1>%d %s</h1>\n",
                     status, http_reason(status), status, http_reason(status));
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

static void listing(struct http_srv_conn *c, const char *rel, bool head_only)
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
        if (http_html_escape(c->req.target, esc, sizeof esc) < 0)
            strcpy(esc, "/");
        len += (size_t)snprintf(html + len, cap - len,
                                "<!DOCTYPE html>\n<title>Index of %s</title>\n<h1>Index of %s</h1>\n"
                                "<ul>\n",
                                esc, esc);
        for (size_t i = 0; i < n; i++)
            if (http_path_escape(names[i], url, sizeof url) >= 0 &&
                http_html_escape(names[i], esc, sizeof esc) >= 0) {
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

/* A complete (or failed) request: decide the response (http_server_impl.h). */
void http_srv_handle(struct http_srv_conn *c)
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
    int st = http_path_of_target(r->target, rel, sizeof rel - 16, &dir);
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
    ho.content_type = http_content_type(rel);
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
