/*
 * tests/posix/rtlink.c - an in-memory Ethernet cable between two runtimes
 * on different threads (see rtlink.h).
 */
#include <stdlib.h>
#include <string.h>

#include "posix/rtlink.h"
#include "tern/err.h"

/* Device send (the sending runtime's lock held): copy into the peer's queue. */
static int end_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct rtlink_end *to = ((struct rtlink_end *)ctx)->peer;
    if (len > RTLINK_FRAME)
        return TERN_E_BAD_LEN;
    pthread_mutex_lock(&to->mu);
    if (to->count == RTLINK_QLEN) {
        to->drops++;
        pthread_mutex_unlock(&to->mu);
        return TERN_E_NOMEM;
    }
    size_t slot = (to->head + to->count++) % RTLINK_QLEN;
    memcpy(to->q[slot], frame, len);
    to->qlen[slot] = len;
    struct tern_runtime *rt = to->rt;
    if (rt)
        tern_runtime_wake(rt); /* thread-safe; rt stays valid while attached */
    pthread_mutex_unlock(&to->mu);
    return 0;
}

/* Runtime pump (this end's runtime thread, its lock held): deliver. */
static void end_pump(void *ctx)
{
    struct rtlink_end *e = ctx;
    uint8_t buf[RTLINK_FRAME];
    for (;;) {
        pthread_mutex_lock(&e->mu);
        if (!e->count) {
            pthread_mutex_unlock(&e->mu);
            return;
        }
        size_t len = e->qlen[e->head];
        memcpy(buf, e->q[e->head], len);
        e->head = (e->head + 1) % RTLINK_QLEN;
        e->count--;
        pthread_mutex_unlock(&e->mu); /* never held while the stack runs */
        tern_device_deliver(e->dev, buf, len);
    }
}

static int end_init(struct rtlink_end *e, struct rtlink_end *peer, uint8_t last)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->mu, NULL);
    e->peer = peer;
    e->q = calloc(RTLINK_QLEN, RTLINK_FRAME);
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};
    e->dev = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, end_send, e);
    return e->q && e->dev ? 0 : -1;
}

static struct tern_runtime *end_open(struct rtlink_end *e, uint32_t addr, unsigned max_fds)
{
    struct tern_runtime_cfg cfg = {.device = e->dev, .addr = addr, .prefix_len = 24,
                                   .max_fds = max_fds, .pump = end_pump, .pump_ctx = e};
    /* The runtime owns e->dev from here on, whatever happens; the pointer
     * stays for the pump. */
    struct tern_runtime *rt = tern_runtime_new(&cfg);
    if (!rt)
        e->dev = NULL;
    pthread_mutex_lock(&e->mu);
    e->rt = rt;
    pthread_mutex_unlock(&e->mu);
    if (rt)
        tern_runtime_wake(rt); /* frames may have queued before rt existed */
    return rt;
}

static void end_detach(struct rtlink_end *e)
{
    pthread_mutex_lock(&e->mu);
    e->rt = NULL;
    pthread_mutex_unlock(&e->mu);
}

static int warm_arp(struct tern_runtime *ra, struct tern_runtime *rb);

int rtlink_open(struct rtlink *l, struct tern_runtime **ra, struct tern_runtime **rb,
                unsigned max_fds)
{
    *ra = *rb = NULL;
    int ea = end_init(&l->a, &l->b, 1), eb = end_init(&l->b, &l->a, 2);
    if (ea || eb) {
        tern_device_destroy(l->a.dev);
        tern_device_destroy(l->b.dev);
        l->a.dev = l->b.dev = NULL;
        rtlink_close(l);
        return -1;
    }
    *ra = end_open(&l->a, 0x0a000001, max_fds);
    if (!*ra)
        tern_device_destroy(l->b.dev);
    else
        *rb = end_open(&l->b, 0x0a000002, max_fds);
    if (!*ra || !*rb || warm_arp(*ra, *rb) < 0) {
        rtlink_close(l);
        *ra = *rb = NULL;
        return -1;
    }
    return 0;
}

/* One datagram each way, so both ARP caches hold the other side: a test's
 * burst is then not cut by ARP's small hold queue (RFC 1122 s2.3.2.2 lets a
 * resolving host drop packets; tern keeps 4 per destination). */
static int warm_arp(struct tern_runtime *ra, struct tern_runtime *rb)
{
    int fa = tern_socket(ra, AF_INET, SOCK_DGRAM, 0), fb = tern_socket(rb, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
    struct timeval tv = {.tv_sec = 5};
    int ok = fa >= 0 && fb >= 0 && tern_bind(rb, fb, (struct sockaddr *)&a, sizeof a) == 0 &&
             tern_setsockopt(ra, fa, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
             tern_setsockopt(rb, fb, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
    a.sin_addr.s_addr = htonl(0x0a000002);
    char c = 'w';
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ok = ok && tern_sendto(ra, fa, &c, 1, 0, (struct sockaddr *)&a, sizeof a) == 1 &&
         tern_recvfrom(rb, fb, &c, 1, 0, (struct sockaddr *)&from, &fl) == 1 &&
         tern_sendto(rb, fb, &c, 1, 0, (struct sockaddr *)&from, fl) == 1 &&
         tern_recv(ra, fa, &c, 1, 0) == 1;
    tern_close(ra, fa);
    tern_close(rb, fb);
    return ok ? 0 : -1;
}

void rtlink_close(struct rtlink *l)
{
    struct tern_runtime *ra = l->a.rt, *rb = l->b.rt;
    /* Detach first: the other runtime may still send (and wake) meanwhile. */
    end_detach(&l->a);
    end_detach(&l->b);
    tern_runtime_free(ra);
    tern_runtime_free(rb);
    for (int i = 0; i < 2; i++) {
        struct rtlink_end *e = i ? &l->b : &l->a;
        free(e->q);
        e->q = NULL;
        pthread_mutex_destroy(&e->mu);
    }
}
