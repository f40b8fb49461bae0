/* src/app/stable_mac.c - see stable_mac.h. */
#include "app/stable_mac.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

void stable_mac(const char *machine_id, const char *ifname, uint8_t mac[6])
{
    uint64_t h = fnv1a(0xcbf29ce484222325ull, machine_id);
    h = fnv1a(h, "\x01tern-mac\x01");
    h = fnv1a(h, ifname);
    h ^= h >> 29; /* fold the high bits in: FNV's low octets mix least */
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)(h >> (8 * i));
    mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

void stable_mac_machine_id(char *out, unsigned cap)
{
    static const char *const files[] = {"/etc/machine-id", "/var/lib/dbus/machine-id"};
    out[0] = 0;
    for (unsigned i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "r");
        if (!f)
            continue;
        char *r = fgets(out, (int)cap, f);
        fclose(f);
        if (r) {
            out[strcspn(out, "\r\n")] = 0;
            if (out[0])
                return;
        }
    }
    if (gethostname(out, cap) != 0)
        out[0] = 0;
    out[cap - 1] = 0;
}
