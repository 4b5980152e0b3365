/* The single-flight table (see flights.h): chained buckets by the key's
 * FNV-1a hash, doubled when the entries outnumber them. */
#include "flights.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warren/codec.h"
#include "warren/err.h"

#define INITIAL_BUCKETS 64

struct entry {
    struct entry *next;
    uint64_t hash;
    void *leader;
    size_t len;
    char key[]; /* len bytes */
};

struct flights {
    struct entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
};

flights *flights_new(void)
{
    flights *f = calloc(1, sizeof(*f));
    if (f != NULL)
        f->buckets = calloc(INITIAL_BUCKETS, sizeof(struct entry *));
    if (f == NULL || f->buckets == NULL) {
        free(f);
        return NULL;
    }
    f->nbuckets = INITIAL_BUCKETS;
    return f;
}

void flights_free(flights *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->nbuckets; i++) {
        struct entry *e = f->buckets[i];
        while (e != NULL) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(f->buckets);
    free(f);
}

static struct entry **slot_of(const flights *f, uint64_t h, const char *key, size_t len)
{
    struct entry **p = &f->buckets[h & (f->nbuckets - 1)];
    while (*p != NULL && !((*p)->hash == h && (*p)->len == len && memcmp((*p)->key, key, len) == 0))
        p = &(*p)->next;
    return p;
}

void *flights_find(const flights *f, const char *key, size_t len)
{
    struct entry *e = *slot_of(f, wr_fnv1a64(WR_FNV1A64_INIT, key, len), key, len);
    return e != NULL ? e->leader : NULL;
}

/* Doubles the buckets; on failure the table stays as it is (only slower). */
static void grow(flights *f)
{
    size_t n = f->nbuckets * 2;
    struct entry **b = calloc(n, sizeof(struct entry *));
    if (b == NULL)
        return;
    for (size_t i = 0; i < f->nbuckets; i++) {
        struct entry *e = f->buckets[i];
        while (e != NULL) {
            struct entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(f->buckets);
    f->buckets = b;
    f->nbuckets = n;
}

int flights_put(flights *f, const char *key, size_t len, void *leader)
{
    if (f->count >= f->nbuckets)
        grow(f);
    uint64_t h = wr_fnv1a64(WR_FNV1A64_INIT, key, len);
    struct entry **p = slot_of(f, h, key, len);
    if (*p != NULL)
        return WR_EINVAL;
    struct entry *e = malloc(sizeof(*e) + len);
    if (e == NULL)
        return WR_ENOMEM;
    e->next = NULL;
    e->hash = h;
    e->leader = leader;
    e->len = len;
    memcpy(e->key, key, len);
    *p = e;
    f->count++;
    return 0;
}

void flights_remove(flights *f, const char *key, size_t len, const void *leader)
{
    struct entry **p = slot_of(f, wr_fnv1a64(WR_FNV1A64_INIT, key, len), key, len);
    struct entry *e = *p;
    if (e == NULL || e->leader != leader)
        return;
    *p = e->next;
    free(e);
    f->count--;
}

size_t flights_count(const flights *f)
{
    return f->count;
}
