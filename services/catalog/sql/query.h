/* The search parameter `q` of Flask-Restless 0.17: a JSON object with
 * filters, order_by, group_by, limit, offset, single and functions, parsed
 * against the schema and turned into SQL for SQLite. Every identifier in the
 * SQL comes from the schema, every request value is a bound `?`. Pure: no
 * I/O.
 *
 * Filters: {"name","op","val"}, {"name","op","field"} (column against
 * column), {"or":[...]}, {"and":[...]}, {"not":filter}. A name is an
 * attribute of the collection, a relation (ops has / any), or
 * `relation__field` (true when a related row matches; for a to-many relation
 * that is "any related row", as Flask-Restless does). Operators:
 *   == eq equals equal_to | != ne neq not_equal_to does_not_equal |
 *   > gt | < lt | >= ge gte geq | <= le lte leq | like | ilike |
 *   in | not_in | is_null | is_not_null | has (to-one) | any (to-many) |
 *   match (full text, see below).
 * `like` is SQLite's LIKE, which ignores ASCII case (as Flask-Restless on
 * SQLite does); `ilike` is lower(x) LIKE lower(?), also ASCII-only. Strings
 * compared with DATETIME / DATE columns are normalised to SQLite's stored
 * text ("2009-01-01", "2009-01-01T00:00:00" -> "2009-01-01 00:00:00"); a
 * like / ilike pattern is left as given. `functions` is parsed with the
 * rest but used only by query_functions_sql.
 *
 * Full text: {"name":"Name","op":"match","val":"rock OR roll"} keeps the
 * rows whose column matches an FTS5 query, through the FTS5 table that
 * covers the collection (model/fts.h); the name "*" searches every column
 * it indexes (refused when one of them is hidden). A column it does not
 * index, or a collection without one, is a 400 at parse; a val FTS5 cannot
 * read fails when the statement runs (store.h: WR_EINVAL). order_by
 * {"field":"_rank"} orders by the FTS5 rank of the first top-level match
 * filter (ascending: best first); such a q has no keyset. */
#ifndef CATALOG_QUERY_H
#define CATALOG_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"
#include "warren/err.h"

typedef struct query query;

/* Bounds on what one q may ask for. A zero field (or a NULL pointer) means
 * the default:
 *   max_depth 16: filter objects inside filter objects (and, or, not, has /
 *     any with a filter as val); a top-level filter is at depth 1;
 *   max_in 500: values in one in / not_in list;
 *   max_filters 100: filter objects in all, nested ones included; also the
 *     most entries order_by, group_by and functions may each hold;
 *   max_rel_depth 4: relation filters (has, any, relation__field) inside
 *     relation filters: each is a correlated subquery run once per row of
 *     the scope around it, so the work grows with the rows at every level;
 *     one at the top level is at depth 1;
 *   max_subqueries 16: relation filters in all, at any depth.
 * Going over max_rel_depth or max_subqueries is WR_ETOOBIG (the search's
 * cost, not its syntax: HTTP's search_too_complex); every other limit is
 * WR_EINVAL.
 * Note for callers: the number of bound values is at most about
 * max_filters * max_in (50,000 with the defaults), more than SQLite's
 * default limit of 32,766 host parameters; size binds below that and treat
 * WR_ETOOBIG from the *_sql functions as a 400. */
struct query_limits {
    int max_depth;
    size_t max_in;
    size_t max_filters;
    int max_rel_depth;
    size_t max_subqueries;
};

#define QUERY_DEFAULT_MAX_DEPTH 16
#define QUERY_DEFAULT_MAX_IN 500
#define QUERY_DEFAULT_MAX_FILTERS 100
#define QUERY_DEFAULT_MAX_REL_DEPTH 4
#define QUERY_DEFAULT_MAX_SUBQUERIES 16

/* Parses q (len bytes of JSON) for collection c of schema s. NULL on error
 * with err (WR_EINVAL) whose message names the problem and the offending
 * name or member, fit for a 400 (WR_ETOOBIG: over max_rel_depth or
 * max_subqueries, the message naming the limit; WR_ENOMEM when out of
 * memory). Rejects
 * duplicate JSON keys, invalid UTF-8, NUL, unknown members, and names of
 * hidden columns or relations. s and c must outlive the query. Free with
 * query_free. */
query *query_parse(const schema *s, const struct collection *c, const char *q, size_t len,
                   const struct query_limits *lim, struct wr_err *err);
/* Frees q and the values it holds; NULL-safe. */
void query_free(query *q);

bool query_single(const query *q);
/* The val of q's match filter (borrowed from q) when it has exactly one,
 * else NULL: for naming it in a 400 when FTS5 refuses it. */
const char *query_match_val(const query *q);
/* The length of s cut to at most 64 bytes at a UTF-8 character boundary,
 * for quoting request text in messages as "%.*s". */
int query_clip(const char *s);
/* -1 when absent. A `limit` of 0 is returned as 0 (Flask-Restless treats
 * it as "no limit"; the caller decides). */
long long query_limit(const query *q);
/* 0 when absent. */
long long query_offset(const query *q);

/* Builds a statement over c aliased t0: the SELECT of every column of c in
 * table order (row value i is column i, as in plan.c), FROM, the LEFT JOINs
 * order_by needs, WHERE from the filters, GROUP BY, ORDER BY (the request's,
 * then the primary key so pages are stable; with group_by, the group_by
 * fields instead), and no LIMIT/OFFSET (the caller appends
 * " LIMIT ? OFFSET ?"). Appends to sql; values are appended to binds (at
 * most cap in all; *nbinds counts them) and point into q's storage, valid
 * until query_free. Returns 0, WR_ETOOBIG (binds beyond cap, or sql's cap),
 * or WR_ENOMEM. */
int query_select_sql(const query *q, struct wr_buf *sql, struct value *binds, size_t *nbinds,
                     size_t cap);
/* Whether a keyset cursor can page q's rows: they come in the order of
 * q's order_by (columns of the collection only), then the primary key, and
 * nothing is cut from them (no group_by, limit, offset or single). */
bool query_keyset_ok(const query *q);
/* The most columns a keyset holds: order_by's entries and the key. */
#define QUERY_KEYSET_MAX (QUERY_DEFAULT_MAX_FILTERS + SCHEMA_MAX_KEY_COLS)
/* The columns (of the collection) a keyset_ok q's rows are sorted by, in
 * order, and whether each is descending: order_by's, then the key's not
 * yet among them. Returns how many (at most cap). */
size_t query_keyset_cols(const query *q, size_t *cols, bool *desc, size_t cap);
/* query_select_sql's statement (for a query_keyset_ok q) less the rows up
 * to the one whose keyset columns hold after (one value per column of
 * query_keyset_cols, bound; NULLs sort first ascending, last descending). */
int query_select_after_sql(const query *q, const struct value *after, struct wr_buf *sql,
                           struct value *binds, size_t *nbinds, size_t cap);
/* The rows before the one whose keyset columns hold before, nearest
 * first: query_select_after_sql's statement with every direction of the
 * order (and of the keyset comparison) flipped. A backward walk reads
 * these to find where the page before a cursor starts. */
int query_select_before_sql(const query *q, const struct value *before, struct wr_buf *sql,
                            struct value *binds, size_t *nbinds, size_t cap);
/* SELECT COUNT(*) over the same rows (with group_by: the number of groups).
 * Same returns as query_select_sql. */
int query_count_sql(const query *q, struct wr_buf *sql, struct value *binds, size_t *nbinds,
                    size_t cap);
/* For functions: `SELECT sum(t0."Total"),count(t0."InvoiceId") FROM ...
 * WHERE ...`, one result column per function in request order (group_by and
 * order_by are not applied), and each result's name ("sum__total") in
 * names (borrowed from q; at most names_cap, *nnames counts them). WR_EINVAL
 * when q has no functions, WR_ETOOBIG when they do not fit names_cap; else
 * as query_select_sql. */
int query_functions_sql(const query *q, struct wr_buf *sql, struct value *binds, size_t *nbinds,
                        size_t cap, const char **names, size_t *nnames, size_t names_cap);

#endif
