/* The statements of cheap counts: a COUNT(*) capped at a number of rows
 * (it stops reading there, as Datasette's count does), and the row
 * estimate ANALYZE leaves in sqlite_stat1. Pure: text in, text out. */
#ifndef CATALOG_COUNT_SQL_H
#define CATALOG_COUNT_SQL_H

#include "warren/buf.h"

/* The plan's and the search's counts start so. */
#define COUNT_SQL_HEAD "SELECT COUNT(*)"

/* Appends the capped form of count_sql (a statement that starts with
 * COUNT_SQL_HEAD, as plan.h's and query_count_sql's do) to out:
 * `SELECT COUNT(*) FROM (SELECT 1<the rest> LIMIT ?)`, which counts at most
 * the number bound last (after count_sql's own binds). Returns 0, WR_EINVAL
 * when count_sql does not start with COUNT_SQL_HEAD, or the buffer's
 * error. */
int count_sql_capped(struct wr_buf *out, const char *count_sql);

/* The estimate of a table's rows (bind: the table's name): one row with
 * the largest row count sqlite_stat1 holds for it (the table's own entry
 * or its indexes'), no row when ANALYZE has not counted it; an error when
 * the database has no sqlite_stat1 at all. */
#define COUNT_SQL_ESTIMATE                                                                         \
    "SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE tbl = ? ORDER BY 1 DESC LIMIT 1"

#endif
