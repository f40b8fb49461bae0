/*
 * examples/embed.c - tern inside someone else's event loop.
 *
 * The embedder owns the loop (here a plain poll() loop), the clock and the
 * "wire" (here a UNIX socketpair carrying raw IPv4 packets). tern gets:
 *   - a custom device per stack: tern calls our send callback to transmit,
 *     we call tern_device_deliver() for each packet we receive;
 *   - a virtual loop as its timer wheel, which we move forward with
 *     tern_loop_advance(loop, our_clock()) on every turn of our own loop.
 * This is how tern goes onto other platforms: replace the socketpair by a
 * NIC driver and CLOCK_MONOTONIC by the platform's clock.
 *
 * Two stacks, 192.0.2.1 and 192.0.2.2; the first pings the second 3 times.
 *     cc embed.c $(pkg-config --cflags --libs tern) -o embed
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tern/device.h>
#include <tern/loop.h>
#include <tern/stack.h>

static uint64_t my_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Our "driver": a packet goes out by writing it to our end of the pair. */
static int wire_send(void *ctx, const uint8_t *frame, size_t len)
{
    int fd = *(int *)ctx;
    return write(fd, frame, len) == (ssize_t)len ? 0 : -1;
}

static int replies;
static uint64_t sent_at[4];

static void on_echo(void *ctx, const struct tern_echo_event *ev)
{
    struct tern_loop *loop = ctx;
    char a[16];
    if (!ev->is_error && ev->seq < 4) {
        printf("reply from %s: seq=%u ttl=%u time=%llu us\n", tern_ipv4_ntoa(ev->from, a),
               ev->seq, ev->ttl, (unsigned long long)(tern_loop_now(loop) - sent_at[ev->seq]));
        replies++;
    }
}

int main(void)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) < 0)
        return 1;
    uint64_t t0 = my_clock_us();
    struct tern_loop *loop = tern_loop_virtual_new(0); /* tern's timers; we drive it */
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    struct tern_stack *st[2];
    struct tern_device *dev[2];
    for (int i = 0; i < 2; i++) {
        cfg.seed = (uint64_t)t0 + (uint64_t)i; /* a real embedder uses a random seed */
        st[i] = tern_stack_new(&cfg, loop);
        dev[i] = tern_custom_device_new(TERN_LINK_RAW_IP, 1500, NULL, wire_send, &fds[i]);
        struct tern_iface_config ic = {.addr = 0xc0000201u + (uint32_t)i, .prefix_len = 24, .up = true};
        if (!st[i] || !dev[i] || tern_stack_add_iface(st[i], dev[i], &ic) < 0)
            return 1;
    }
    int id = tern_echo_bind(st[0], 0, on_echo, loop);
    if (id < 0)
        return 1;
    struct tern_ip_out o = {.dst = 0xc0000202u, .proto = TERN_IPPROTO_ICMP};
    uint16_t seq = 0;
    uint64_t next_ping = 0;
    while (replies < 3 && my_clock_us() - t0 < 5000000) {
        tern_loop_advance(loop, my_clock_us() - t0); /* fire tern's due timers */
        uint64_t now = tern_loop_now(loop);
        if (seq < 3 && now >= next_ping) {
            sent_at[++seq] = now;
            tern_echo_send(st[0], &o, (uint16_t)id, seq, (const uint8_t *)"embed", 5);
            next_ping = now + 100000;
        }
        /* Our own loop: wait for a packet or tern's next deadline. */
        uint64_t deadline = tern_loop_next_deadline(loop);
        if (seq < 3 && next_ping < deadline)
            deadline = next_ping;
        int timeout_ms = deadline == TERN_TIME_NEVER ? 100
                         : deadline <= now           ? 0
                                                     : (int)((deadline - now + 999) / 1000);
        struct pollfd pfd[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
        if (poll(pfd, 2, timeout_ms > 100 ? 100 : timeout_ms) < 0)
            return 1;
        tern_loop_advance(loop, my_clock_us() - t0);
        for (int i = 0; i < 2; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            uint8_t pkt[2048];
            ssize_t n = read(fds[i], pkt, sizeof pkt);
            if (n > 0)
                tern_device_deliver(dev[i], pkt, (size_t)n); /* into stack i */
        }
    }
    tern_echo_unbind(st[0], (uint16_t)id);
    for (int i = 0; i < 2; i++) {
        tern_stack_free(st[i]);
        tern_device_destroy(dev[i]);
        close(fds[i]);
    }
    tern_loop_destroy(loop);
    printf("%d replies\n", replies);
    return replies == 3 ? 0 : 1;
}
