/*
 * fuzz/udp_sock_fuzz.c - UDP sockets against a scripted peer (fuzz/peer.h)
 * in virtual time: three sockets, the fuzz bytes their calls (bind,
 * connect and disconnect, sendto, recv with PEEK/TRUNC and short buffers,
 * shutdown, close and reopen, options), the peer's datagrams (to bound,
 * connected and unbound ports, to the broadcast address, without a
 * checksum) and ICMP errors quoting what the sockets sent, and time steps.
 * Input: opcode bytes each followed by their parameter bytes (missing
 * bytes read as 0).
 * Oracles (abort): every datagram delivered is one the peer sent, to a
 * socket bound to its port, whole or cut to the buffer (TERN_MSG_TRUNC
 * then set), delivered at most once; every datagram on the wire is one an
 * application sendto accepted, with its bytes and length, from the
 * socket's port, sent at most once; TERN_ASSERT; the livelock bound; at
 * the end, with every socket closed, no socket left and the stack's memory
 * back to baseline.
 */
#include "peer.h"

#include "tern/wire/udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSOCK 3
#define NDGRAM 512

static struct pr g;
static struct tern_sock *sk[NSOCK];
static uint16_t sport_of[NSOCK];          /* bound port (0: not yet) */
/* peer -> us: datagram id, length, destination port, delivered? */
static uint16_t in_len[NDGRAM], in_port[NDGRAM];
static bool in_done[NDGRAM];
static unsigned n_in;
/* us -> peer: datagram id, length, source port, seen on the wire? */
static uint16_t out_len[NDGRAM], out_port[NDGRAM];
static bool out_seen[NDGRAM];
static unsigned n_out;

static uint8_t pat(uint32_t id, uint32_t i)
{
    return (uint8_t)(((id + 1) * 0x9E3779B1u + i * 0x85EBCA6Bu) >> 24);
}

/* A datagram's bytes: a 2-byte id, a direction byte, then the pattern. */
static size_t fill(uint8_t *b, uint32_t id, uint8_t dir, size_t len)
{
    for (size_t i = 0; i < len; i++)
        b[i] = i == 0 ? (uint8_t)(id >> 8) : i == 1 ? (uint8_t)id : i == 2 ? dir : pat(id, (uint32_t)i);
    return len;
}

static void on_udp_out(struct pr *p, const struct tern_ipv4_repr *ip, const uint8_t *u,
                       size_t len)
{
    (void)p;
    struct tern_udp_repr r;
    if (tern_udp_parse(u, len, ip->src, ip->dst, 0, &r) < 0)
        PR_DIE("the stack sent a bad UDP datagram");
    if (r.payload_len < 3 || r.payload[2] != 'o')
        return; /* not one of the app's (or too short to say) */
    uint32_t id = (uint32_t)r.payload[0] << 8 | r.payload[1];
    if (id >= n_out)
        PR_DIE("a datagram on the wire that no application sent");
    if (out_seen[id])
        PR_DIE("a datagram sent twice");
    out_seen[id] = true;
    if (out_port[id] == 0) /* sendto bound an ephemeral port during the call */
        out_port[id] = r.sport;
    if (getenv("TERN_FUZZ_VERBOSE"))
        fprintf(stderr, "out id %u len %u/%u port %u/%u\n", id, r.payload_len, out_len[id], r.sport, out_port[id]);
    if (r.payload_len != out_len[id] || r.sport != out_port[id])
        PR_DIE("a datagram's length or source port changed");
    for (size_t i = 3; i < r.payload_len; i++)
        if (r.payload[i] != pat(id, (uint32_t)i))
            PR_DIE("a datagram's bytes changed on the way out");
}

static void check_in(const uint8_t *b, ssize_t n, int k, size_t buflen, int oflags, bool trunc_flag)
{
    if (n < 3)
        return;
    uint32_t id = (uint32_t)b[0] << 8 | b[1];
    if (b[2] == 'o')
        return; /* our own datagram sent to ourselves */
    if (b[2] != 'i' || id >= n_in)
        PR_DIE("a datagram delivered that the peer never sent");
    if (in_port[id] != sport_of[k])
        PR_DIE("a datagram delivered to a socket not bound to its port");
    size_t got = (size_t)n < buflen ? (size_t)n : buflen;
    if (trunc_flag) {
        if ((size_t)n != in_len[id])
            PR_DIE("MSG_TRUNC did not return the datagram's length");
    } else if ((size_t)n != (in_len[id] < buflen ? in_len[id] : buflen)) {
        PR_DIE("a datagram delivered with the wrong length");
    }
    if (in_len[id] > buflen && !(oflags & TERN_MSG_TRUNC))
        PR_DIE("a cut datagram without TERN_MSG_TRUNC");
    for (size_t i = 3; i < got; i++)
        if (b[i] != pat(id, (uint32_t)i))
            PR_DIE("a datagram's bytes changed on the way in");
}

static void do_recv(int k, size_t buflen, int flags)
{
    static uint8_t b[70000];
    if (!sk[k])
        return;
    int of = 0;
    ssize_t n = tern_sock_recvfrom(sk[k], b, buflen, flags, NULL, &of);
    if (n < 0)
        return;
    check_in(b, n, k, buflen, of, flags & TERN_MSG_TRUNC);
    if (n >= 3 && b[2] == 'i' && !(flags & TERN_MSG_PEEK)) {
        uint32_t id = (uint32_t)b[0] << 8 | b[1];
        if (in_done[id])
            PR_DIE("a datagram delivered twice");
        in_done[id] = true;
    }
}

static void on_sock(struct tern_sock *s, unsigned ev, void *ctx)
{
    (void)ctx;
    pr_event(&g);
    for (int k = 0; k < NSOCK; k++)
        if (sk[k] == s && (ev & TERN_POLLIN))
            do_recv(k, 1 + (pr_pat_in((uint32_t)k) % 2 ? 2000 : 64), 0);
    if (ev & TERN_POLLERR)
        tern_sock_error(s);
}

static void open_sock(int k)
{
    sk[k] = tern_sock_open(g.s, TERN_SOCK_DGRAM, NULL);
    sport_of[k] = 0;
    if (sk[k])
        tern_sock_set_handler(sk[k], TERN_POLLIN, on_sock, NULL);
}

static void learn_port(int k)
{
    struct tern_sockaddr a;
    if (sk[k] && tern_sock_getsockname(sk[k], &a) == 0)
        sport_of[k] = a.port;
}

static const uint16_t ports[4] = {7000, 7001, 53, 9};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&g, 0, sizeof g);
    n_in = n_out = 0;
    memset(in_done, 0, sizeof in_done);
    memset(out_seen, 0, sizeof out_seen);
    g.udp_out = on_udp_out;
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.max_sockets = 8;
    pr_open(&g, &cfg);
    for (int k = 0; k < NSOCK; k++)
        open_sock(k);
    static uint8_t buf[70000];
    size_t pos = 0;
#define B() (pos < size ? data[pos++] : 0)
    while (pos < size) {
        uint8_t op = B();
        int k = (op >> 4) % NSOCK;
        switch (op % 10) {
        case 0: { /* a datagram from the peer */
            uint8_t d = B(), l = B(), s2 = B();
            size_t len = 3 + (size_t)l * ((d & 0x80) ? 16 : 1);
            if (n_in == NDGRAM)
                break;
            uint32_t id = n_in++;
            in_len[id] = (uint16_t)len;
            in_port[id] = ports[d % 4];
            fill(buf + TERN_UDP_HLEN, id, 'i', len);
            struct tern_udp_repr r = {.sport = (uint16_t)(1000 + s2 % 4), .dport = ports[d % 4],
                                      .payload = buf + TERN_UDP_HLEN,
                                      .payload_len = (uint16_t)len};
            static uint8_t u[70000];
            int n = tern_udp_emit(&r, PR_PEER, (d & 0x10) ? 0x0a0000ffu : PR_US, u, sizeof u);
            if (n < 0)
                break;
            if (d & 0x20) /* no checksum (RFC 768: zero = none) */
                u[6] = u[7] = 0;
            pr_act(&g);
            pr_ip_in_to(&g, (d & 0x10) ? 0x0a0000ffu : PR_US, TERN_IPPROTO_UDP, u, (size_t)n);
            break;
        }
        case 1: { /* sendto */
            uint8_t d = B(), l = B();
            if (!sk[k] || n_out == NDGRAM)
                break;
            size_t len = 3 + (size_t)l * ((d & 0x80) ? 8 : 1);
            uint32_t id = n_out;
            fill(buf, id, 'o', len);
            const struct tern_sockaddr to[4] = {
                {PR_PEER, ports[d % 4]}, {0x0a0000ffu, 67}, {PR_US, ports[(d >> 2) % 4]}, {0, 0}};
            const struct tern_sockaddr *dst = (d & 0x40) ? NULL : &to[(d >> 4) % 4];
            learn_port(k); /* a sendto may bind an ephemeral port first */
            out_len[id] = (uint16_t)len;
            out_port[id] = sport_of[k];
            n_out++;
            ssize_t n = tern_sock_sendto(sk[k], buf, len, 0, dst);
            learn_port(k);
            if (n < 0 && !out_seen[id])
                n_out--; /* refused: not sent */
            else if (out_seen[id] && out_port[id] != sport_of[k])
                PR_DIE("a datagram sent from another port than the socket's");
            break;
        }
        case 2: { /* recv */
            uint8_t l = B();
            do_recv(k, 1 + (size_t)l * 8, (l & 1 ? TERN_MSG_PEEK : 0) | (l & 2 ? TERN_MSG_TRUNC : 0));
            break;
        }
        case 3: { /* connect / disconnect */
            uint8_t d = B();
            if (sk[k]) {
                struct tern_sockaddr a = {PR_PEER, ports[d % 4]};
                tern_sock_connect(sk[k], (d & 0x80) ? NULL : &a);
                learn_port(k);
            }
            break;
        }
        case 4: { /* ICMP port unreachable (or other) quoting our datagram */
            uint8_t d = B();
            if (!sk[k])
                break;
            learn_port(k);
            uint8_t m[8 + 20 + 8];
            memset(m, 0, sizeof m);
            m[0] = (d & 1) ? 11 : 3;
            m[1] = (d & 1) ? 0 : (uint8_t)((d >> 1) % 5);
            struct tern_ipv4_repr q;
            memset(&q, 0, sizeof q);
            q.ttl = 64;
            q.src = PR_US;
            q.dst = PR_PEER;
            q.proto = TERN_IPPROTO_UDP;
            q.payload_len = 100;
            tern_ipv4_emit(&q, m + 8, 20);
            tern_put16(m + 28, sport_of[k]);
            tern_put16(m + 30, ports[(d >> 4) % 4]);
            tern_put16(m + 2, tern_csum(m, sizeof m));
            pr_act(&g);
            pr_ip_in(&g, TERN_IPPROTO_ICMP, m, sizeof m);
            break;
        }
        case 5: { /* an option */
            static const enum tern_sockopt o[] = {TERN_SO_RCVBUF, TERN_SO_BROADCAST,
                                                  TERN_SO_REUSEADDR, TERN_IP_TTL};
            uint8_t d = B(), v = B();
            if (sk[k])
                tern_sock_setopt(sk[k], o[d % 4], (d & 0x80) ? v * 16 : v);
            break;
        }
        case 6: { /* bind */
            uint8_t d = B();
            if (sk[k]) {
                tern_sock_bind(sk[k], &(struct tern_sockaddr){(d & 0x80) ? PR_US : 0,
                                                              (d & 0x40) ? 0 : ports[d % 4]});
                learn_port(k);
            }
            break;
        }
        case 7: /* close and reopen */
            if (sk[k])
                tern_sock_close(sk[k]);
            open_sock(k);
            break;
        case 8: { /* time */
            uint8_t t = B();
            pr_run(&g, (uint64_t)t * 10000u);
            break;
        }
        default: /* shutdown */
            if (sk[k])
                tern_sock_shutdown(sk[k], B() % 3);
            break;
        }
    }
#undef B
    if (getenv("TERN_FUZZ_VERBOSE")) {
        unsigned d = 0, w = 0;
        for (unsigned i = 0; i < n_in; i++)
            d += in_done[i];
        for (unsigned i = 0; i < n_out; i++)
            w += out_seen[i];
        fprintf(stderr, "peer sent %u, delivered %u; app sent %u, on the wire %u\n", n_in, d,
                n_out, w);
    }
    for (int k = 0; k < NSOCK; k++)
        if (sk[k]) {
            tern_sock_close(sk[k]);
            sk[k] = NULL;
        }
    pr_close(&g, NULL);
    return 0;
}
