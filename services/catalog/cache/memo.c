/* The in-process reply memo (see memo.h): a direct-mapped table of copies,
 * emptied whole when the data version moves or the bytes would pass the
 * bound. Direct mapping keeps a lookup one probe; a hot key that collides
 * with another costs both a recompute now and then, not a wrong answer. */
#include "cache/memo.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_SLOTS 1024u

struct slot {
    uint64_t hash;
    char *mem; /* key then value, one allocation; NULL: empty */
    size_t key_len, len;
    bool mark;
};

struct memo {
    size_t max_bytes;
    long long version; /* -1: none declared */
    struct memo_stats stats;
    struct slot slots[MEMO_SLOTS];
};

memo *memo_new(size_t max_bytes)
{
    if (max_bytes == 0)
        return NULL;
    memo *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->max_bytes = max_bytes;
    m->version = -1;
    return m;
}

static void drop(memo *m, struct slot *s)
{
    if (s->mem == NULL)
        return;
    m->stats.bytes -= s->key_len + s->len;
    free(s->mem);
    *s = (struct slot){0};
}

static void flush(memo *m)
{
    for (size_t i = 0; i < MEMO_SLOTS; i++)
        drop(m, &m->slots[i]);
    m->stats.flushes++;
}

void memo_free(memo *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < MEMO_SLOTS; i++)
        free(m->slots[i].mem);
    free(m);
}

void memo_at(memo *m, long long version)
{
    if (m == NULL || version == m->version)
        return;
    if (m->stats.bytes > 0)
        flush(m);
    m->version = version < 0 ? -1 : version;
}

const char *memo_get(memo *m, uint64_t hash, const char *key, size_t key_len, size_t *len,
                     bool *mark)
{
    if (m == NULL || m->version < 0)
        return NULL;
    const struct slot *s = &m->slots[hash % MEMO_SLOTS];
    if (s->mem == NULL || s->hash != hash || s->key_len != key_len ||
        memcmp(s->mem, key, key_len) != 0) {
        m->stats.misses++;
        return NULL;
    }
    m->stats.hits++;
    *len = s->len;
    if (mark != NULL)
        *mark = s->mark;
    return s->mem + key_len;
}

void memo_put(memo *m, uint64_t hash, const char *key, size_t key_len, const char *value,
              size_t len, bool mark)
{
    if (m == NULL || m->version < 0 || key_len > m->max_bytes / 16 ||
        len > m->max_bytes / 16 - key_len)
        return;
    struct slot *s = &m->slots[hash % MEMO_SLOTS];
    drop(m, s);
    if (m->stats.bytes + key_len + len > m->max_bytes)
        flush(m);
    char *mem = malloc(key_len + len);
    if (mem == NULL)
        return;
    memcpy(mem, key, key_len);
    memcpy(mem + key_len, value, len);
    *s = (struct slot){.hash = hash, .mem = mem, .key_len = key_len, .len = len, .mark = mark};
    m->stats.bytes += key_len + len;
    m->stats.stores++;
}

const struct memo_stats *memo_stats(const memo *m)
{
    return &m->stats;
}
