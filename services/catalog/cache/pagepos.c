/* The page-position memo (see pagepos.h): a ring of entries in the order
 * they were stored, so the slot written next always holds the oldest. An
 * index by (list, start) finds a position at exactly an offset, the usual
 * case of a walk, and keeps a start from being stored twice, in one probe;
 * the nearest one below is a pass over the entries' list hashes and starts
 * alone, kept in arrays of their own so the pass reads little memory. Each
 * entry's list and key are copied in one allocation, in an encoding that
 * gives the values back as they came. A list's count is one more entry
 * of the list, at start COUNT_AT, its two values (total, truncated) in
 * the key's place. */
#include "cache/pagepos.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warren/analyzer.h"
#include "warren/codec.h"

#define NIL UINT32_MAX
/* The start a list's count is kept at, as the key of an entry: below
 * every position's (positions start at 0). */
#define COUNT_AT (-1LL)

struct entry {
    bool inclusive;
    unsigned char *mem; /* the list's encoding, then the key's; NULL: empty */
    size_t list_len, key_len;
    uint32_t chain; /* the next slot of its index bucket, or NIL */
};

struct pagepos {
    size_t cap;
    size_t n;    /* entries held: slots 0..n-1 until the ring first wraps */
    size_t next; /* the slot the next entry takes: the oldest once full */
    long long version;
    struct pagepos_stats stats;
    uint64_t *hash;   /* per slot: its list's hash */
    long long *start; /* per slot: its start */
    struct entry *e;
    uint32_t *heads; /* per index bucket: its first slot, or NIL */
    size_t nbuckets; /* a power of two, at least twice cap */
};

/* A list's encoding: the statement's address, then its binds. */
struct list_bytes {
    unsigned char bytes[PAGEPOS_BYTES_MAX];
    size_t len;
    uint64_t hash;
};

pagepos *pagepos_new(size_t max_entries)
{
    if (max_entries == 0 || max_entries >= NIL / 4)
        return NULL;
    pagepos *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->nbuckets = 1;
    while (p->nbuckets < 2 * max_entries)
        p->nbuckets *= 2;
    p->hash = calloc(max_entries, sizeof(*p->hash));
    p->start = calloc(max_entries, sizeof(*p->start));
    p->e = calloc(max_entries, sizeof(*p->e));
    p->heads = malloc(p->nbuckets * sizeof(*p->heads));
    if (p->hash == NULL || p->start == NULL || p->e == NULL || p->heads == NULL) {
        pagepos_free(p);
        return NULL;
    }
    memset(p->heads, 0xff, p->nbuckets * sizeof(*p->heads)); /* every one NIL */
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
    if (p->n > 0)
        memset(p->heads, 0xff, p->nbuckets * sizeof(*p->heads));
    p->n = 0;
    p->next = 0;
    p->stats.entries = 0;
}

void pagepos_free(pagepos *p)
{
    if (p == NULL)
        return;
    forget(p);
    free(p->hash);
    free(p->start);
    free(p->e);
    free(p->heads);
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

/* A count's list: the count statement's text (NUL included), then its
 * binds. (It never meets a position's list: a count is kept at COUNT_AT,
 * where no position is.) */
static bool text_list_set(struct list_bytes *l, const char *sql, const struct value *binds,
                          size_t nbinds)
{
    size_t n = strlen(sql) + 1;
    if (n > PAGEPOS_BYTES_MAX)
        return false;
    memcpy(l->bytes, sql, n);
    l->len = n;
    if (!encode(l->bytes, &l->len, binds, nbinds))
        return false;
    l->hash = wr_fnv1a64(WR_FNV1A64_INIT, l->bytes, l->len);
    return true;
}

static bool same_list(const pagepos *p, size_t i, const struct list_bytes *l)
{
    return p->hash[i] == l->hash && p->e[i].list_len == l->len &&
           memcmp(p->e[i].mem, l->bytes, l->len) == 0;
}

/* The index bucket of a list's hash and a start. */
static size_t bucket(const pagepos *p, uint64_t hash, long long start)
{
    uint64_t x = hash ^ ((uint64_t)start * 0x9e3779b97f4a7c15ULL);
    x ^= x >> 29;
    return (size_t)(x & (p->nbuckets - 1));
}

/* The slot of list l's position at start, or NIL. */
static uint32_t exact(const pagepos *p, const struct list_bytes *l, long long start)
{
    uint32_t i = p->heads[bucket(p, l->hash, start)];
    while (i != NIL && !(p->start[i] == start && same_list(p, i, l)))
        i = p->e[i].chain;
    return i;
}

static void unlink_slot(pagepos *p, uint32_t slot)
{
    uint32_t *at = &p->heads[bucket(p, p->hash[slot], p->start[slot])];
    while (*at != NIL && *at != slot)
        at = &p->e[*at].chain;
    if (*at == slot)
        *at = p->e[slot].chain;
}

/* The slot of the list's position with the greatest start at or below
 * offset, or NIL; by the hash alone unless checked (a list whose hash
 * another shares is then compared byte for byte). */
static uint32_t below(const pagepos *p, const struct list_bytes *l, long long offset, bool checked)
{
    uint32_t best = NIL;
    for (size_t i = 0; i < p->n; i++)
        if (p->hash[i] == l->hash && p->start[i] >= 0 && p->start[i] <= offset &&
            (best == NIL || p->start[i] > p->start[best]) && (!checked || same_list(p, i, l)))
            best = (uint32_t)i;
    return best;
}

bool pagepos_find(pagepos *p, const void *stmt, const struct value *binds, size_t nbinds,
                  long long offset, struct pagepos_hit *hit)
{
    struct list_bytes l;
    if (p == NULL || p->version < 0 || p->n == 0 || !list_set(&l, stmt, binds, nbinds))
        return false;
    uint32_t best = exact(p, &l, offset);
    if (best == NIL)
        best = below(p, &l, offset, false);
    if (best != NIL && !same_list(p, best, &l))
        best = below(p, &l, offset, true); /* two lists share a hash */
    if (best == NIL) {
        p->stats.misses++;
        return false;
    }
    const struct entry *e = &p->e[best];
    p->stats.hits++;
    hit->start = p->start[best];
    hit->inclusive = e->inclusive;
    hit->nkey = decode(e->mem + e->list_len, e->key_len, hit->key, SCHEMA_MAX_KEY_COLS);
    return true;
}

/* Keeps list l's entry at start (a position, or COUNT_AT) with its key
 * bytes, unless the list has one there already. The entry owns the
 * allocation, stored through a computed slot: gcc 12's -fanalyzer loses
 * it there and reports a leak in the callers (warren/analyzer.h); the ASan
 * build's LeakSanitizer still checks them. */
WR_ANALYZER_LEAK_FALSE_BEGIN
static void keep(pagepos *p, const struct list_bytes *l, long long start, bool inclusive,
                 const struct pagepos_key *k)
{
    if (exact(p, l, start) != NIL) /* one there says the same */
        return;
    unsigned char *mem = malloc(l->len + k->len);
    if (mem == NULL)
        return;
    memcpy(mem, l->bytes, l->len);
    memcpy(mem + l->len, k->bytes, k->len);
    uint32_t slot = (uint32_t)p->next;
    if (p->e[slot].mem != NULL) {
        unlink_slot(p, slot);
        free(p->e[slot].mem);
        p->stats.evictions++;
    } else {
        p->n++;
    }
    size_t b = bucket(p, l->hash, start);
    p->hash[slot] = l->hash;
    p->start[slot] = start;
    p->e[slot] = (struct entry){.inclusive = inclusive,
                                .mem = mem,
                                .list_len = l->len,
                                .key_len = k->len,
                                .chain = p->heads[b]};
    p->heads[b] = slot;
    p->next = (p->next + 1) % p->cap;
    p->stats.stores++;
    p->stats.entries = p->n;
}

void pagepos_put(pagepos *p, const void *stmt, const struct value *binds, size_t nbinds,
                 long long start, bool inclusive, const struct pagepos_key *k)
{
    struct list_bytes l;
    if (p == NULL || p->version < 0 || !k->ok || start < 0 || !list_set(&l, stmt, binds, nbinds))
        return;
    keep(p, &l, start, inclusive, k);
}

WR_ANALYZER_LEAK_FALSE_END

bool pagepos_count_find(pagepos *p, const char *sql, const struct value *binds, size_t nbinds,
                        struct pagepos_count *c)
{
    struct list_bytes l;
    if (p == NULL || p->version < 0 || p->n == 0 || !text_list_set(&l, sql, binds, nbinds))
        return false;
    uint32_t at = exact(p, &l, COUNT_AT);
    struct value v[2];
    if (at == NIL || decode(p->e[at].mem + p->e[at].list_len, p->e[at].key_len, v, 2) != 2) {
        p->stats.count_misses++;
        return false;
    }
    p->stats.count_hits++;
    *c = (struct pagepos_count){.total = v[0].i, .truncated = v[1].i != 0};
    return true;
}

WR_ANALYZER_LEAK_FALSE_BEGIN
void pagepos_count_put(pagepos *p, const char *sql, const struct value *binds, size_t nbinds,
                       const struct pagepos_count *c)
{
    struct list_bytes l;
    if (p == NULL || p->version < 0 || !text_list_set(&l, sql, binds, nbinds))
        return;
    struct value v[2] = {{.kind = V_INT, .i = c->total}, {.kind = V_INT, .i = c->truncated}};
    struct pagepos_key k;
    pagepos_key_set(&k, v, 2);
    keep(p, &l, COUNT_AT, false, &k);
}

WR_ANALYZER_LEAK_FALSE_END

const struct pagepos_stats *pagepos_stats(const pagepos *p)
{
    return &p->stats;
}
