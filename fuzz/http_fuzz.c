/*
 * fuzz/http_fuzz.c - libFuzzer target for the HTTP/1.1 parsers
 * (src/app/http_msg.c) and the target-to-path mapping (http_text.c).
 * Input: byte 0 = split seed and flags, then a request or response stream.
 *
 * Checks: no read outside the input (ASan); every feed call consumes at
 * least one byte until the parser finishes; the request parser and the
 * response parser reach the same state, status, consumed count and body
 * (length and hash) whether fed at once or in random chunk splits; a
 * mapped path never starts with '/' and has no "." or ".." segment and no
 * NUL. abort() on any violation.
 */
#include <stdlib.h>
#include <string.h>

#include "app/http_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(c)        \
    do {                       \
        if (!(c))              \
            abort();           \
    } while (0)

struct result {
    int state, status;
    size_t used;
    uint64_t body_len, hash;
};

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static size_t piece(uint64_t *rng, size_t left)
{
    if (!*rng)
        return left;
    size_t k = (size_t)(next(rng) % 17) + 1;
    return k < left ? k : left;
}

static void hash_in(struct result *r, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        r->hash = (r->hash ^ b[i]) * 1099511628211ull;
    r->body_len += n;
}

static struct tern_http_req req;
static struct tern_http_resp resp;

static void run_req(const uint8_t *d, size_t n, uint64_t seed, struct result *r)
{
    memset(r, 0, sizeof *r);
    r->hash = 14695981039346656037ull;
    http_req_init(&req, 4096);
    size_t off = 0;
    while (off < n && req.state != TERN_HTTP_DONE && req.state != TERN_HTTP_ERROR) {
        const uint8_t *b;
        size_t bl;
        size_t k = http_req_feed(&req, d + off, piece(&seed, n - off), &b, &bl);
        CHECK_OR_DIE(k >= 1);
        CHECK_OR_DIE(bl <= k);
        if (bl)
            CHECK_OR_DIE(b >= d + off && b + bl <= d + off + k);
        hash_in(r, b, bl);
        off += k;
    }
    r->used = off;
    r->state = req.state;
    r->status = req.status;
    if (req.state == TERN_HTTP_DONE) {
        CHECK_OR_DIE(req.method && req.target);
        char path[512];
        bool dir;
        if (http_path_of_target(req.target, path, sizeof path, &dir) == 0) {
            CHECK_OR_DIE(path[0] != '/');
            CHECK_OR_DIE(strlen(path) < sizeof path);
            for (char *s = path; *s;) {
                size_t l = strcspn(s, "/");
                CHECK_OR_DIE(l > 0);
                CHECK_OR_DIE(!(l == 1 && s[0] == '.') && !(l == 2 && s[0] == '.' && s[1] == '.'));
                s += l;
                if (*s)
                    s++;
            }
        }
    }
}

static void run_resp(const uint8_t *d, size_t n, uint64_t seed, bool head, struct result *r)
{
    memset(r, 0, sizeof *r);
    r->hash = 14695981039346656037ull;
    http_resp_init(&resp, head);
    size_t off = 0;
    while (off < n && resp.state != TERN_HTTP_DONE && resp.state != TERN_HTTP_ERROR) {
        const uint8_t *b;
        size_t bl;
        size_t k = http_resp_feed(&resp, d + off, piece(&seed, n - off), &b, &bl);
        CHECK_OR_DIE(k >= 1);
        CHECK_OR_DIE(bl <= k);
        hash_in(r, b, bl);
        off += k;
    }
    r->used = off;
    http_resp_eof(&resp);
    r->state = resp.state;
    r->status = resp.status;
    CHECK_OR_DIE(resp.state == TERN_HTTP_DONE || resp.state == TERN_HTTP_ERROR);
    if (resp.state == TERN_HTTP_ERROR)
        CHECK_OR_DIE(resp.error != NULL);
    if (resp.state == TERN_HTTP_DONE && resp.body.framing == TERN_HTTP_LENGTH)
        CHECK_OR_DIE(r->body_len == resp.content_length);
}

static bool same(const struct result *a, const struct result *b)
{
    return a->state == b->state && a->status == b->status && a->used == b->used &&
           a->body_len == b->body_len && a->hash == b->hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint64_t seed = (uint64_t)data[0] * 0x9E3779B97F4A7C15ull + 1;
    bool head = data[0] & 1;
    data++;
    size--;
    struct result a, b;
    run_req(data, size, 0, &a);
    run_req(data, size, seed, &b);
    CHECK_OR_DIE(same(&a, &b));
    if (a.state == TERN_HTTP_ERROR)
        CHECK_OR_DIE(a.status >= 400 && a.status <= 505 && req.why);
    run_resp(data, size, 0, head, &a);
    run_resp(data, size, seed, head, &b);
    CHECK_OR_DIE(same(&a, &b));
    return 0;
}
