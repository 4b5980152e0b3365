/* Searches: a list with Flask-Restless's `q` (filters, order_by, group_by,
 * limit, offset, single) or a keyset cursor (`after`), answered as a page
 * whose Link header keeps q; and the parsing of q with the configured
 * limits, which functions and the writes of many share. */
#ifndef CATALOG_SEARCH_H
#define CATALOG_SEARCH_H

#include "ops/op.h"
#include "sql/query.h"

/* Values one search may bind: under SQLite's limit of 32,766 parameters. */
#define SEARCH_MAX_BINDS 30000

/* Parses a search (text, NUL-terminated) for c with env's limits
 * (MAX_IN_VALUES, SEARCH_MAX_RELATION_DEPTH, SEARCH_MAX_SUBQUERIES). The
 * query, freed with query_free; NULL after answering into out 400
 * bad_parameter (naming the problem), 400 search_too_complex (naming the
 * limit) or 500 (out of memory). */
query *handlers_parse_q(const struct handler_env *env, const struct collection *c, const char *text,
                        struct wr_answer *out);

/* When rc is WR_EINVAL from running q's statements (store.h: FTS5 refused
 * a match filter's text), answers out 400 naming it and SQLite's reason,
 * and is true; else false (rc is the caller's to handle). */
bool search_match_refused(const query *q, int rc, const struct wr_err *err, struct wr_answer *out);

/* The op_fn of a list with q or after (req->q NULL: every row): the page
 * of what the search leaves, or with `single` the one object (404 with
 * none, 400 with several); 400 for a q that does not parse or a cursor
 * that is not this list's. Runs inside the caller's read transaction. */
int search_list(const struct handler_env *env, const struct collection *c,
                const struct wr_request *req, const char *base_url, struct wr_answer *out,
                struct wr_err *err);

#endif
