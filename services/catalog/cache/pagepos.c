/* The page-position memo (see pagepos.h): a ring of entries in the order
 * they were stored, so the slot written next always holds the oldest, and
 * a lookup is one pass over the entries held, comparing a hash and an
 * offset before any bytes. Each entry's list and key are copied in one
 * allocation, in an encoding that gives the values back as they came. */
#include "cache/pagepos.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warren/codec.h"

struct entry {
    uint64_t hash; /* of the list's encoding */
    long long start;
    bool inclusive;
    unsigned char *mem; /* the list's encoding, then the key's; NULL: empty */
    size_t list_len, key_len;
};

struct pagepos {
    size_t cap;
    size_t n;    /* entries held: slots 0..n-1 until the ring first wraps */
    size_t next; /* the slot the next entry takes: the oldest once full */
    long long version;
    struct pagepos_stats stats;
    struct entry *e;
};

/* A list's encoding: the statement's address, then its binds. */
struct list_bytes {
    unsigned char bytes[PAGEPOS_BYTES_MAX];
    size_t len;
    uint64_t hash;
};

pagepos *pagepos_new(size_t max_entries)
{
    if (max_entries == 0)
        return NULL;
    pagepos *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->e = calloc(max_entries, sizeof(*p->e));
    if (p->e == NULL) {
        free(p);
        return NULL;
    }
    p->cap = max_entries;
    p->version = -1;
    return p;
}

static void forget(pagepos *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->e[i].mem);
        p->e[i] = (struct entry){0};
    }
    p->n = 0;
    p->next = 0;
    p->stats.entries = 0;
}

void pagepos_free(pagepos *p)
{
    if (p == NULL)
        return;
    forget(p);
    free(p->e);
    free(p);
}

void pagepos_at(pagepos *p, long long version)
{
    if (p == NULL || version == p->version)
        return;
    if (p->n > 0) {
        forget(p);
        p->stats.flushes++;
    }
    p->version = version < 0 ? -1 : version;
}

/* Appends n values to out (len bytes used of PAGEPOS_BYTES_MAX): a kind
 * byte, then 8 bytes of an integer or a real, or a text's 8-byte length,
 * its bytes and a NUL. false for a NULL or a BLOB, or when they do not fit. */
static bool encode(unsigned char *out, size_t *len, const struct value *v, size_t n)
{
    size_t at = *len;
    for (size_t k = 0; k < n; k++) {
        if (v[k].kind != V_INT && v[k].kind != V_REAL && v[k].kind != V_TEXT)
            return false;
        size_t need = 1 + 8 + (v[k].kind == V_TEXT ? v[k].n + 1 : 0);
        if (need > PAGEPOS_BYTES_MAX - at)
            return false;
        out[at++] = (unsigned char)v[k].kind;
        if (v[k].kind == V_INT) {
            memcpy(out + at, &v[k].i, 8);
        } else if (v[k].kind == V_REAL) {
            memcpy(out + at, &v[k].d, 8);
        } else {
            uint64_t tn = v[k].n;
            memcpy(out + at, &tn, 8);
            memcpy(out + at + 8, v[k].s, v[k].n);
            out[at + 8 + v[k].n] = '\0';
            at += v[k].n + 1;
        }
        at += 8;
    }
    *len = at;
    return true;
}

/* The values encode wrote into bytes, back into v (text pointing into
 * bytes); their number. */
static size_t decode(const unsigned char *bytes, size_t len, struct value *v, size_t max)
{
    size_t n = 0;
    for (size_t at = 0; at < len && n < max; n++) {
        enum value_kind kind = (enum value_kind)bytes[at++];
        v[n] = (struct value){.kind = kind};
        if (kind == V_INT) {
            memcpy(&v[n].i, bytes + at, 8);
        } else if (kind == V_REAL) {
            memcpy(&v[n].d, bytes + at, 8);
        } else {
            uint64_t tn = 0;
            memcpy(&tn, bytes + at, 8);
            v[n].s = (const char *)bytes + at + 8;
            v[n].n = (size_t)tn;
            at += (size_t)tn + 1;
        }
        at += 8;
    }
    return n;
}

void pagepos_key_set(struct pagepos_key *k, const struct value *vals, size_t n)
{
    k->len = 0;
    k->ok = n <= SCHEMA_MAX_KEY_COLS && encode(k->bytes, &k->len, vals, n);
}

static bool list_set(struct list_bytes *l, const void *stmt, const struct value *binds,
                     size_t nbinds)
{
    uintptr_t id = (uintptr_t)stmt;
    memcpy(l->bytes, &id, sizeof(id));
    l->len = sizeof(id);
    if (!encode(l->bytes, &l->len, binds, nbinds))
        return false;
    l->hash = wr_fnv1a64(WR_FNV1A64_INIT, l->bytes, l->len);
    return true;
}

static bool same_list(const struct entry *e, const struct list_bytes *l)
{
    return e->hash == l->hash && e->list_len == l->len && memcmp(e->mem, l->bytes, l->len) == 0;
}

bool pagepos_find(pagepos *p, const void *stmt, const struct value *binds, size_t nbinds,
                  long long offset, struct pagepos_hit *hit)
{
    struct list_bytes l;
    if (p == NULL || p->version < 0 || p->n == 0 || !list_set(&l, stmt, binds, nbinds))
        return false;
    const struct entry *best = NULL;
    for (size_t i = 0; i < p->n; i++) {
        const struct entry *e = &p->e[i];
        if (e->hash != l.hash || e->start > offset || (best != NULL && e->start <= best->start) ||
            !same_list(e, &l))
            continue;
        best = e;
        if (e->start == offset)
            break; /* nothing is nearer */
    }
    if (best == NULL) {
        p->stats.misses++;
        return false;
    }
    p->stats.hits++;
    hit->start = best->start;
    hit->inclusive = best->inclusive;
    hit->nkey = decode(best->mem + best->list_len, best->key_len, hit->key, SCHEMA_MAX_KEY_COLS);
    return true;
}

void pagepos_put(pagepos *p, const void *stmt, const struct value *binds, size_t nbinds,
                 long long start, bool inclusive, const struct pagepos_key *k)
{
    struct list_bytes l;
    if (p == NULL || p->version < 0 || !k->ok || start < 0 || !list_set(&l, stmt, binds, nbinds))
        return;
    for (size_t i = 0; i < p->n; i++)
        if (p->e[i].hash == l.hash && p->e[i].start == start && same_list(&p->e[i], &l))
            return; /* it leads to the same row */
    unsigned char *mem = malloc(l.len + k->len);
    if (mem == NULL)
        return;
    memcpy(mem, l.bytes, l.len);
    memcpy(mem + l.len, k->bytes, k->len);
    struct entry *e = &p->e[p->next];
    if (e->mem != NULL) {
        free(e->mem);
        p->stats.evictions++;
    } else {
        p->n++;
    }
    *e = (struct entry){.hash = l.hash,
                        .start = start,
                        .inclusive = inclusive,
                        .mem = mem,
                        .list_len = l.len,
                        .key_len = k->len};
    p->next = (p->next + 1) % p->cap;
    p->stats.stores++;
    p->stats.entries = p->n;
}

const struct pagepos_stats *pagepos_stats(const pagepos *p)
{
    return &p->stats;
}
