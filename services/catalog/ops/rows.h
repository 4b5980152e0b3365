/* The row writer the read operations share: rows of a query written as
 * objects (objects.h: with their relations, each read by its own query for
 * the row at hand, or flat; narrowed by the request's fields=), a page of
 * them (counted as counts.h says, or not), and the Link header that
 * repeats a list's URL. */
#ifndef CATALOG_ROWS_H
#define CATALOG_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/pagepos.h"
#include "ops/op.h"
#include "sql/plan.h"
#include "warren/buf.h"

/* What the row callback needs to write the rows of one query. Filled by
 * the caller with designated initializers; count and more are outputs. */
struct rows {
    const struct handler_env *env;
    const struct collection *coll;
    struct wr_buf *out;
    size_t count;       /* rows written so far */
    int depth;          /* 0: columns only; 1: with their relations; 2: theirs too */
    const bool *hidden; /* columns hidden inside a relation (depth 0), or NULL */
    size_t limit;       /* write at most this many rows (0: all); one more sets more */
    bool more;
    /* keyset: the cursor of the page after the last row written, from
     * the row's values of the keyset columns (cursor NULL: none) */
    struct wr_buf *cursor;
    const size_t *keyset;
    size_t nkeyset;
    const char *q;
    long per_page;
    long next_page;
    /* a keyset walk's way back: the backward cursor of the first row
     * written, to page prev_page (prev_cursor NULL: none) */
    struct wr_buf *prev_cursor;
    long prev_page;
    /* a page read by number: the keys of its first and last rows, for
     * the page-position memo (NULL: not kept) */
    struct rows_seen *seen;
    struct wr_err *err;
};

/* The keys rows_on_row saw of a page's first and last rows. */
struct rows_seen {
    struct pagepos_key first, last;
};

/* The statements of a paged list (plan.h): its count, its page (LIMIT ?
 * OFFSET ?), and the page from a remembered key on (from: key >= ?, then
 * LIMIT and OFFSET) and past one (after: key > ?); from and after NULL
 * when the list is not in key order alone (no page positions kept). */
struct rows_list {
    const char *count;
    const char *page;
    const char *from;
    const char *after;
};

/* A store_row_fn: writes row (a row of arg's collection, every column in
 * table order) into arg's buffer, a comma before all but the first.
 * Returns 0, the buffer's error, or a store error of a relation's query. */
int rows_on_row(void *arg, const struct value *row, size_t ncols);

/* The values of relation r's local key columns in row into key; false when
 * any is NULL (the relation is empty). */
bool rows_relation_key(const struct relation *r, const struct value *row, struct value *key);

/* The page size req gets (reqkey_per_page with env's defaults). */
long rows_per_page(const struct handler_env *env, const struct wr_request *req);

/* A page of target's rows: the count (list->count, unless the page is
 * uncounted), then the rows of list->page with the nbinds binds (at most
 * SCHEMA_MAX_KEY_COLS) plus LIMIT and OFFSET. Uncounted pages read one row
 * more to learn whether a next page exists. With env's page-position memo
 * (env->pagepos) and list->from and after, a page past the first seeks
 * from the nearest key remembered at or below its offset, at the data
 * version it reads, and offsets only past it (the same rows, without
 * stepping over those before); every page read remembers where its first
 * row and the row past its last are. Fills pg; writes the page envelope
 * into out->body and the rows count into out->rows. 0 or a store error. */
int rows_page(const struct handler_env *env, const struct collection *target,
              const struct rows_list *list, const struct value *binds, size_t nbinds,
              const struct wr_request *req, struct page *pg, struct wr_answer *out,
              struct wr_err *err);

/* The Link header of page pg of a list of c (its URL repeats the request's
 * relation, q, count and depth) into out->link. */
void rows_link(struct wr_answer *out, const char *base_url, const struct collection *c,
               const struct wr_request *req, const struct page *pg);

#endif
