/* Request -> SQL. Every statement's text is built once at start-up from the
 * schema's identifiers (quoted), never from request input; request values
 * reach SQLite only as bound parameters. Also the pagination arithmetic and
 * the parsing of ids. Pure: no I/O. */
#ifndef CATALOG_PLAN_H
#define CATALOG_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/schema.h"
#include "model/value.h"
#include "warren/proto.h"

/* The statements of one collection. Each SELECT lists every column of the
 * table in table order, so a row's value i is column i. */
struct plan_coll {
    char *list;       /* ORDER BY the key, LIMIT ? OFFSET ? */
    char *list_from;  /* the same from a key on: WHERE key >= ?, then LIMIT ? OFFSET ? */
    char *list_after; /* the same past a key: WHERE key > ? (both NULL: no key) */
    char *count;      /* COUNT(*) of the table */
    char *get;        /* WHERE each key column = ? */
    char **rel_all;   /* per relation: the target's rows matching ? (ordered by its key) */
    char **rel_page;  /* per relation: the same, LIMIT ? OFFSET ? */
    char **rel_from;  /* per relation: rel_page from the target's key ? on (>=; NULL: no key) */
    char **rel_after; /* per relation: rel_page past the target's key ? (>) */
    char **rel_count; /* per relation: COUNT(*) of the same */
};

typedef struct plan plan;

/* Builds every statement of s. NULL when out of memory. */
plan *plan_new(const schema *s);
/* Frees p and its statements; NULL-safe. */
void plan_free(plan *p);
/* The statements of the collection at index i of the schema. */
const struct plan_coll *plan_coll_at(const plan *p, size_t i);

/* Appends name as a quoted SQL identifier ("a""b"): for names taken from
 * the schema only. */
void plan_ident(struct wr_buf *b, const char *name);

/* Appends `"a","b"` / `"a"=? AND "b"=?` over columns cols of c. */
void plan_idents(struct wr_buf *b, const struct collection *c, const size_t *cols, size_t n);
void plan_cond(struct wr_buf *b, const struct collection *c, const size_t *cols, size_t n);

/* A page of a list. */
struct page {
    long page;
    long per_page;
    long long total;
    long long total_pages; /* 0 for an empty list */
    long long offset;
    bool uncounted;          /* COUNT none: total and total_pages unknown (written null) */
    bool estimated;          /* total is sqlite_stat1's estimate (num_results_estimated) */
    bool truncated;          /* total stopped at COUNT_MAX (num_results_truncated) */
    bool more;               /* an open page (plan_page_open): a row exists past it */
    const char *next_after;  /* keyset: the next page's cursor (Link next), or NULL */
    const char *prev_before; /* keyset: the previous page's cursor (Link prev), or NULL */
};
/* Whether pg's end is not known from its count (uncounted, estimated or
 * truncated): its rows are read one past the page to learn whether a next
 * page exists, pages past total_pages are still read, and its Link has no
 * rel="last". */
static inline bool plan_page_open(const struct page *pg)
{
    return pg->uncounted || pg->estimated || pg->truncated;
}
/* Fills pg for total rows (>= 0); page and per_page are 1 to WR_PAGE_MAX
 * (checked where they enter: the route, the envelope, the cursor), so the
 * offset is at most (WR_PAGE_MAX - 1) * WR_PAGE_MAX. The other members are
 * cleared. */
void plan_page(struct page *pg, long long total, long page, long per_page);
/* A search adds its own offset (at most WR_Q_COUNT_MAX) to a page's: the
 * sum must fit too. */
_Static_assert(WR_Q_COUNT_MAX <= INT64_MAX - (WR_PAGE_MAX - 1) * WR_PAGE_MAX,
               "a search's offset plus a page's offset overflows");

/* Parses an id from a URL into one value per key column of c (composite
 * keys joined by ','), integers for INTEGER columns. Text values point into
 * key, or into scratch (cap bytes) when a part needs a copy. Returns false
 * when the id cannot name a row (not a number, wrong part count): a 404. */
bool plan_parse_key(const struct collection *c, const char *key, struct value *out, char *scratch,
                    size_t cap);

/* `(a's columns acols) IN (SELECT b's columns bcols FROM b WHERE b's
 * key)`, n columns each: whether a row of a points at the row of b with
 * key ? (b->npk values, bound). */
void plan_in_key(struct wr_buf *sql, const struct collection *a, const size_t *acols,
                 const struct collection *b, const size_t *bcols, size_t n);

/* For /api/<c>/<id>/<relation>/<related id>: appends the condition, over
 * r's target t (the statement's table, unqualified), that the object with
 * key ? (t->npk values) is related to c's object with key ? (c->npk values,
 * bound after those): `t's key AND (r's remote columns) IN (SELECT r's
 * local columns FROM c WHERE c's key)`, which reads the same for to-one and
 * to-many relations. */
void plan_related_cond(struct wr_buf *sql, const struct collection *c, const struct relation *r,
                       const struct collection *t);
/* `SELECT COUNT(*) FROM t WHERE ` and plan_related_cond: 1 when the two
 * objects are related, else 0 (same binds). */
void plan_related_count(struct wr_buf *sql, const struct collection *c, const struct relation *r,
                        const struct collection *t);

#endif
