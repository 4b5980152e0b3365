/* How a page is counted, cheaply on big tables: an exact COUNT(*) that
 * stops at COUNT_MAX rows (beyond it the page says num_results_truncated),
 * or on count=estimated (or COUNT = 'estimated') the row estimate ANALYZE
 * left in sqlite_stat1 (num_results_estimated), for a whole table only;
 * where there is no estimate (a search, a relation's rows, no
 * sqlite_stat1 entry) the capped exact count instead. COUNT none skips
 * counting (reqkey_uncounted), before any of this. */
#ifndef CATALOG_COUNTS_H
#define CATALOG_COUNTS_H

#include <stdbool.h>

#include "cache/pagepos.h"
#include "ops/op.h"

/* What a count found. */
struct counted {
    long long total; /* rows, at most COUNT_MAX when truncated */
    bool estimated;  /* total is sqlite_stat1's estimate */
    bool truncated;  /* more than COUNT_MAX rows: total is COUNT_MAX */
};

/* Whether req asks c's pages for an estimate: count=estimated, or no
 * count and c's COUNT is 'estimated'. */
bool counts_estimate_asked(const struct collection *c, const struct wr_request *req);

/* Counts the rows count_sql (a statement that starts with COUNT_SQL_HEAD)
 * finds with its nbinds binds, which has room for one bind more; for
 * target's pages as req asks (whole: count_sql counts all of target's rows,
 * so an estimate may stand in). Capped at env->count_max (0: no cap). 0 or
 * a store error (a missing sqlite_stat1 is none: the exact count is
 * taken). */
int counts_rows(const struct handler_env *env, const struct collection *target,
                const char *count_sql, struct value *binds, size_t nbinds, bool whole,
                const struct wr_request *req, struct counted *out, struct wr_err *err);

/* counts_rows through memo (may be NULL: none), whose version the caller
 * declared in this read transaction (pagepos_at with store_data_version):
 * its count of the statement and binds when it has one, else counted and
 * remembered. An estimate asked for is neither taken from it nor put in. */
int counts_rows_memo(const struct handler_env *env, const struct collection *target,
                     const char *count_sql, struct value *binds, size_t nbinds, bool whole,
                     const struct wr_request *req, pagepos *memo, struct counted *out,
                     struct wr_err *err);

/* Puts what c found on pg after plan_page (its flags). */
void counts_apply(struct page *pg, const struct counted *c);

#endif
