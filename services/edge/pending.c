/* The table of requests in flight (see pending.h): linear probing with
 * backward-shift deletion, grown at 50% load so probes stay short. */
#include "pending.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "warren/codec.h"
#include "warren/err.h"
#include "warren/proto.h"

struct slot {
    char id[WR_REQUEST_ID_LEN + 1];
    void *value; /* NULL: empty */
};

struct pending {
    struct slot *slots;
    size_t cap; /* a power of two */
    uint64_t seed;
    size_t count;
};

/* Clients may choose their ids (X-Request-Id): every character counts, and
 * a per-table random seed keeps chosen ids from piling into one run. */
static uint64_t id_hash(const pending *p, const char *id)
{
    uint64_t h = wr_fnv1a64(p->seed, id, strnlen(id, WR_REQUEST_ID_LEN));
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

pending *pending_new(void)
{
    pending *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->cap = 1024;
    if (getrandom(&p->seed, sizeof(p->seed), 0) != (ssize_t)sizeof(p->seed))
        p->seed = 0xcbf29ce484222325ULL ^ (uint64_t)(uintptr_t)p;
    p->slots = calloc(p->cap, sizeof(*p->slots));
    if (p->slots == NULL) {
        free(p);
        return NULL;
    }
    return p;
}

void pending_free(pending *p)
{
    if (p == NULL)
        return;
    free(p->slots);
    free(p);
}

static size_t find(const pending *p, const char *id)
{
    size_t mask = p->cap - 1;
    size_t i = (size_t)id_hash(p, id) & mask;
    while (p->slots[i].value != NULL && strcmp(p->slots[i].id, id) != 0)
        i = (i + 1) & mask;
    return i;
}

static int grow(pending *p)
{
    struct slot *old = p->slots;
    size_t old_cap = p->cap;
    struct slot *slots = calloc(old_cap * 2, sizeof(*slots));
    if (slots == NULL)
        return WR_ENOMEM;
    p->slots = slots;
    p->cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].value != NULL)
            p->slots[find(p, old[i].id)] = old[i];
    free(old);
    return 0;
}

int pending_put(pending *p, const char *id, void *value)
{
    if ((p->count + 1) * 2 > p->cap && grow(p) != 0)
        return WR_ENOMEM;
    size_t i = find(p, id);
    if (p->slots[i].value != NULL)
        return WR_EINVAL;
    memcpy(p->slots[i].id, id, WR_REQUEST_ID_LEN);
    p->slots[i].id[WR_REQUEST_ID_LEN] = '\0';
    p->slots[i].value = value;
    p->count++;
    return 0;
}

/* Empties slot i and shifts later members of its run back, so lookups
 * never stop early at a hole. */
static void remove_at(pending *p, size_t i)
{
    size_t mask = p->cap - 1;
    p->slots[i].value = NULL;
    p->count--;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (p->slots[j].value == NULL)
            return;
        size_t home = (size_t)id_hash(p, p->slots[j].id) & mask;
        /* Move j into the hole at i unless its home lies in (i, j]. */
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        p->slots[i] = p->slots[j];
        p->slots[j].value = NULL;
        i = j;
    }
}

void *pending_remove(pending *p, const char *id)
{
    if (strlen(id) != WR_REQUEST_ID_LEN)
        return NULL;
    size_t i = find(p, id);
    void *value = p->slots[i].value;
    if (value != NULL)
        remove_at(p, i);
    return value;
}

void *pending_get(pending *p, const char *id)
{
    return strlen(id) == WR_REQUEST_ID_LEN ? p->slots[find(p, id)].value : NULL;
}

void *pending_remove_any(pending *p)
{
    for (size_t i = 0; i < p->cap && p->count > 0; i++) {
        if (p->slots[i].value != NULL) {
            void *value = p->slots[i].value;
            remove_at(p, i);
            return value;
        }
    }
    return NULL;
}

size_t pending_count(const pending *p)
{
    return p->count;
}
