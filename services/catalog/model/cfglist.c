/* The config's lists of names (see cfglist.h). */
#include "model/cfglist.h"

#include <string.h>

const char *cfglist_next(const char **cursor, size_t *len)
{
    const char *p = *cursor;
    if (p == NULL)
        return NULL;
    p += strspn(p, ", ");
    *len = strcspn(p, ", ");
    *cursor = p + *len;
    return *len > 0 ? p : NULL;
}

bool cfglist_has(const char *list, const char *name)
{
    size_t n = strlen(name), len;
    const char *p = list;
    for (const char *e = cfglist_next(&p, &len); e != NULL; e = cfglist_next(&p, &len))
        if (len == n && strncmp(e, name, n) == 0)
            return true;
    return false;
}

const char *cfglist_renamed(const char *list, const char *old, char *out, size_t cap)
{
    size_t n = strlen(old);
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        const char *colon = memchr(p, ':', len);
        size_t key_len = colon ? (size_t)(colon - p) : 0;
        while (key_len > 0 && p[key_len - 1] == ' ')
            key_len--;
        if (colon != NULL && key_len == n && strncmp(p, old, n) == 0) {
            const char *v = colon + 1;
            size_t vlen = len - (size_t)(v - p);
            while (vlen > 0 && v[vlen - 1] == ' ')
                vlen--;
            while (vlen > 0 && *v == ' ') {
                v++;
                vlen--;
            }
            if (vlen == 0 || vlen >= cap)
                return NULL;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return out;
        }
        p += len;
    }
    return NULL;
}

bool cfglist_has_dotted(const char *list, const char *rel, const char *col, const char *col2)
{
    size_t n = strlen(rel), len;
    const char *p = list;
    for (const char *e = cfglist_next(&p, &len); e != NULL; e = cfglist_next(&p, &len)) {
        if (len <= n + 1 || strncmp(e, rel, n) != 0 || e[n] != '.')
            continue;
        const char *c = e + n + 1;
        size_t clen = len - n - 1;
        if (col == NULL || (strlen(col) == clen && strncmp(c, col, clen) == 0) ||
            (col2 != NULL && strlen(col2) == clen && strncmp(c, col2, clen) == 0))
            return true;
    }
    return false;
}
