/*
 * src/app/http_server_impl.h - internal to the static file server: the
 * server and per-connection state shared by http_server.c (connections:
 * accept, read, write, linger, timers) and http_server_files.c (what to
 * answer: files, directory listings, redirects, error pages). Not a public
 * API. RFC 9112, RFC 9110.
 */
#ifndef TERN_APP_HTTP_SERVER_IMPL_H
#define TERN_APP_HTTP_SERVER_IMPL_H

#include <limits.h>
#include <stdio.h>

#include "app/http_msg.h"
#include "app/http_server.h"
#include "tern/loop.h"
#include "tern/socket.h"

#define HTTP_SRV_OUT_MAX 16384
#define HTTP_SRV_IN_MAX 4096

enum http_srv_phase { P_READ, P_WRITE, P_LINGER };

struct http_srv_conn {
    struct tern_http_server *srv;
    struct tern_sock *sk;        /* plain: the socket; NULL with TLS */
    struct tstream *ts;          /* TLS: the stream that owns the socket */
    struct tern_sockaddr peer;
    enum http_srv_phase phase;
    struct tern_timer timer;
    uint64_t since;              /* P_READ: waiting for a request since (accept, last response) */
    bool started;                /* P_READ: a request's first byte is in (request_timeout runs) */
    bool close_after, busy;
    uint8_t in[HTTP_SRV_IN_MAX];
    size_t in_off, in_len;       /* input not yet fed to the parser */
    char out[HTTP_SRV_OUT_MAX];
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
    struct http_srv_conn **conns;
    unsigned nconns;
    struct http_server_stats st;
};

/* http_server_files.c: c->req is complete (or failed): queue the response
 * head (and a generated body or the file to send) and set phase P_WRITE. */
void http_srv_handle(struct http_srv_conn *c);

#endif
