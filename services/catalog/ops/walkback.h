/* Backward keyset walks (`?before=`, a Link rel="prev"): where the page
 * before a cursor starts. The rows before the cursor's, nearest first
 * (sql/query.h's query_select_before_sql), read at most one past a page:
 * the page is the per_page rows after the row found there, or with fewer
 * rows the list's start. So walking back from any page a forward walk
 * reached gives the forward walk's pages, in reverse. */
#ifndef CATALOG_WALKBACK_H
#define CATALOG_WALKBACK_H

#include <stdbool.h>

#include "ops/op.h"
#include "sql/query.h"

struct walkback {
    /* found: the sort key of the row just before the page (the page is
     * the rows after it), so a page before this one exists too */
    bool found;
    struct value start[QUERY_KEYSET_MAX];
    char *owned[QUERY_KEYSET_MAX]; /* the text of start's values */
    long long rows;                /* rows of the page: per_page, or fewer at the start */
};

/* Reads, for a query_keyset_ok q, the rows before the one whose keyset
 * columns (cols, ncols: query_keyset_cols) hold cursor, into w. 0, a store
 * error (WR_EINVAL: see store.h) or WR_ENOMEM. Release w either way. */
int walkback_find(const struct handler_env *env, const query *q, const struct value *cursor,
                  const size_t *cols, size_t ncols, long per_page, struct walkback *w,
                  struct wr_err *err);
/* Frees what w holds; w may be found again. */
void walkback_release(struct walkback *w);

#endif
