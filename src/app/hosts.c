/* src/app/hosts.c - see hosts.h. */
#include "app/hosts.h"

#include <string.h>
#include <strings.h>

#include "tern/wire/ipv4.h"

int hosts_lookup(FILE *f, const char *name, uint32_t *addr)
{
    char line[1024];
    size_t nlen = strlen(name);
    if (nlen && name[nlen - 1] == '.')
        nlen--; /* "host." is the same name, fully qualified */
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
        uint32_t a;
        if (!tok || tern_ipv4_aton(tok, &a) < 0)
            continue; /* IPv6 or junk */
        while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
            if (strlen(tok) == nlen && !strncasecmp(tok, name, nlen)) {
                *addr = a;
                return 0;
            }
        }
    }
    return -1;
}

int hosts_lookup_path(const char *path, const char *name, uint32_t *addr)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int r = hosts_lookup(f, name, addr);
    fclose(f);
    return r;
}
