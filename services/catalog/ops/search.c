/* Searches (see search.h): count, window, page and cursor of a list with
 * q. The SQL comes from sql/query.h; values are only ever bound. */
#include "ops/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/counts.h"
#include "ops/cursor.h"
#include "ops/render.h"
#include "ops/reqkey.h"
#include "ops/rows.h"
#include "ops/walkback.h"

query *handlers_parse_q(const struct handler_env *env, const struct collection *c, const char *text,
                        struct wr_answer *out)
{
    struct wr_err qerr = {0};
    const struct wr_cfg *cfg = env->cfg;
    /* MAX_IN_VALUES: the edge checks it too; zero: the parser's defaults */
    struct query_limits lim = {
        .max_in = cfg ? (size_t)cfg->max_in_values : 0,
        .max_rel_depth = cfg ? (int)cfg->search_max_rel_depth : 0,
        .max_subqueries = cfg ? (size_t)cfg->search_max_subqueries : 0,
    };
    query *q = query_parse(env->schema, c, text, strlen(text), &lim, &qerr);
    if (q == NULL && qerr.code == WR_ENOMEM)
        wr_answer_error(out, 500, WR_CODE_INTERNAL, qerr.msg);
    else if (q == NULL && qerr.code == WR_ETOOBIG) /* over a cost limit */
        wr_answer_error(out, 400, WR_CODE_SEARCH_TOO_COMPLEX, qerr.msg);
    else if (q == NULL)
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER, qerr.msg);
    return q;
}

bool search_match_refused(const query *q, int rc, const struct wr_err *err, struct wr_answer *out)
{
    if (rc != WR_EINVAL)
        return false;
    const char *val = query_match_val(q);
    char msg[sizeof(err->msg) + 160];
    if (val != NULL)
        (void)snprintf(msg, sizeof(msg), "q: match \"%.*s\" is not a full-text query: %s",
                       query_clip(val), val, err->msg);
    else
        (void)snprintf(msg, sizeof(msg), "q: a match val is not a full-text query: %s", err->msg);
    wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER, msg);
    return true;
}

/* The rows a search's limit and offset leave of count matches. Flask-Restless
 * takes limit 0 as no limit. */
static long long search_window(const query *q, long long count)
{
    long long n = count - query_offset(q);
    if (n < 0)
        n = 0;
    if (query_limit(q) > 0 && n > query_limit(q))
        n = query_limit(q);
    return n;
}

/* Runs a search's SELECT over rows [offset, offset + n) of its matches,
 * or, with a keyset cursor's key after, the n rows after it; x writes them. */
static int search_rows(const struct handler_env *env, const query *q, const struct value *after,
                       long long offset, long long n, struct rows *x, struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)256 * 1024);
    size_t nbinds = 0;
    /* malloc: only the slots the statement binds are written, then read */
    struct value *binds = malloc((SEARCH_MAX_BINDS + 2) * sizeof(*binds));
    int rc = binds == NULL ? WR_ENOMEM
             : after ? query_select_after_sql(q, after, &sql, binds, &nbinds, SEARCH_MAX_BINDS)
                     : query_select_sql(q, &sql, binds, &nbinds, SEARCH_MAX_BINDS);
    wr_buf_puts(&sql, " LIMIT ? OFFSET ?");
    if (rc == 0 && wr_buf_error(&sql) != 0)
        rc = wr_buf_error(&sql);
    if (rc == 0) {
        binds[nbinds] = (struct value){.kind = V_INT, .i = n};
        binds[nbinds + 1] = (struct value){.kind = V_INT, .i = offset};
        rc = store_query(env->store, sql.data, binds, nbinds + 2, rows_on_row, x, err);
    } else {
        rc = wr_err_set(err, rc, "search too large");
    }
    free(binds);
    wr_buf_release(&sql);
    return rc;
}

/* The matches of q, capped at COUNT_MAX (counts.h): a search has no
 * estimate. The worker's memo keeps the count per statement, binds and
 * data version (declared here, in the search's read transaction), so a
 * walk by cursor or by page counts once. */
static int search_count(const struct handler_env *env, const struct collection *c, const query *q,
                        const struct wr_request *req, struct counted *count, struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)256 * 1024);
    size_t nbinds = 0;
    /* one more slot: the cap's bind */
    struct value *binds = malloc((SEARCH_MAX_BINDS + 1) * sizeof(*binds));
    int rc = binds ? query_count_sql(q, &sql, binds, &nbinds, SEARCH_MAX_BINDS) : WR_ENOMEM;
    pagepos *memo = env->pagepos;
    if (rc == 0 && memo != NULL)
        pagepos_at(memo, store_data_version(env->store));
    if (rc == 0)
        rc = counts_rows_memo(env, c, sql.data, binds, nbinds, false, req, memo, count, err);
    else
        rc = wr_err_set(err, rc, "search too large");
    free(binds);
    wr_buf_release(&sql);
    return rc;
}

/* `single`: the one match as an object; 404 with none, 400 with several. */
static int search_single(const struct handler_env *env, const struct collection *c, const query *q,
                         long long n, const struct wr_request *req, struct wr_answer *out,
                         struct wr_err *err)
{
    if (n != 1) {
        wr_answer_error(out, n == 0 ? 404 : 400, n == 0 ? WR_CODE_NOT_FOUND : WR_CODE_BAD_PARAMETER,
                        n == 0 ? "No result found" : "Multiple results found");
        return 0;
    }
    struct rows x = {
        .env = env, .coll = c, .out = &out->body, .depth = reqkey_depth(c, req), .err = err};
    int rc = search_rows(env, q, NULL, query_offset(q), 1, &x, err);
    out->rows = (long long)x.count;
    out->status = 200;
    return rc;
}

/* The page a request's cursor (after or before) names (its sort key, for
 * the columns cols, into key), 1 for a walk's start; false after a 400. */
static bool read_cursor(const struct handler_env *env, const struct collection *c,
                        const size_t *cols, size_t ncols, const struct wr_request *req,
                        long per_page, struct value *key, long *page, char *scratch, size_t cap,
                        struct wr_answer *out)
{
    *page = req->page ? req->page : 1;
    const char *text = req->after != NULL ? req->after : req->before;
    if (text == NULL)
        return true;
    *page = 1;
    if (text[0] == '\0')
        return true;
    bool ok = req->before != NULL ? cursor_decode_before(text, env->cursor_key, c, cols, ncols,
                                                         req->q, per_page, key, page, scratch, cap)
                                  : cursor_decode(text, env->cursor_key, c, cols, ncols, req->q,
                                                  per_page, key, page, scratch, cap);
    if (ok)
        return true;
    char msg[200];
    (void)snprintf(msg, sizeof(msg),
                   "%s: not a cursor of this list (take it from a Link header, with the same q "
                   "and results_per_page)",
                   req->before != NULL ? "before" : "after");
    wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER, msg);
    return false;
}

/* How many rows a search's page reads: the page, one more when the next
 * page's existence is to be learned, within the search's limit. */
static long long rows_to_read(const query *q, const struct page *pg, bool keyset, long long n)
{
    if (!plan_page_open(pg) && !keyset) {
        long long left = n - pg->offset;
        return left < pg->per_page ? (left < 0 ? 0 : left) : pg->per_page;
    }
    long long want = pg->per_page + 1;
    if (!keyset && query_limit(q) > 0) {
        long long left = query_limit(q) - pg->offset;
        want = left < want ? (left < 0 ? 0 : left) : want;
    }
    return want;
}

/* The page of a parsed search q (its cursor's key in key when keyset),
 * with its Link header; a keyset page's next link carries the cursor of
 * its last row, its prev link (past page 1) the backward cursor of its
 * first. A backward page (before) is the rows walkback.h finds. */
static int search_page(const struct handler_env *env, const struct collection *c, const query *q,
                       const struct wr_request *req, const char *base_url, long long n,
                       bool truncated, long page, const struct value *key, const size_t *cols,
                       size_t ncols, struct wr_answer *out, struct wr_err *err)
{
    long per_page = rows_per_page(env, req);
    bool keyset = req->after != NULL && req->after[0] != '\0';
    bool back = req->before != NULL, walk = back || req->after != NULL;
    struct walkback w = {.found = false};
    if (back) {
        int rc = walkback_find(env, q, key, cols, ncols, per_page, &w, err);
        if (rc != 0) {
            walkback_release(&w);
            return rc;
        }
        if (!w.found)
            page = 1; /* the list's start, whatever the cursor said */
    }
    struct page pg;
    plan_page(&pg, n, page, per_page);
    pg.uncounted = reqkey_uncounted(c, req);
    pg.truncated = truncated;
    render_page_head(&out->body, &pg);
    struct wr_buf cursor, prev;
    wr_buf_init(&cursor, CURSOR_MAX + 1);
    wr_buf_init(&prev, CURSOR_MAX + 1);
    struct rows x = {.env = env,
                     .coll = c,
                     .out = &out->body,
                     .depth = reqkey_depth(c, req),
                     .limit = (size_t)per_page,
                     .cursor = walk ? &cursor : NULL,
                     .keyset = cols,
                     .nkeyset = ncols,
                     .q = req->q,
                     .per_page = per_page,
                     .next_page = page + 1,
                     .prev_cursor = walk && page > 1 ? &prev : NULL,
                     .prev_page = page - 1,
                     .err = err};
    long long want = back ? (w.found ? per_page : w.rows) : rows_to_read(q, &pg, walk, n);
    int rc = 0;
    if (back && want > 0)
        rc = search_rows(env, q, w.found ? w.start : NULL, 0, want, &x, err);
    else if (want > 0)
        /* both offsets are bounded where they enter (plan.h): the sum fits */
        rc = search_rows(env, q, keyset ? key : NULL, keyset ? 0 : query_offset(q) + pg.offset,
                         want, &x, err);
    pg.more = x.more || back; /* a backward page: the cursor's row follows it */
    out->rows = (long long)x.count;
    render_page_tail(&out->body, &pg);
    if (pg.more && cursor.len > 0 && wr_buf_error(&cursor) == 0)
        pg.next_after = cursor.data;
    if (prev.len > 0 && wr_buf_error(&prev) == 0)
        pg.prev_before = prev.data;
    rows_link(out, base_url, c, req, &pg);
    walkback_release(&w);
    wr_buf_release(&cursor);
    wr_buf_release(&prev);
    out->status = 200;
    return rc;
}

int search_list(const struct handler_env *env, const struct collection *c,
                const struct wr_request *req, const char *base_url, struct wr_answer *out,
                struct wr_err *err)
{
    query *q = handlers_parse_q(env, c, req->q ? req->q : "{}", out);
    if (q == NULL)
        return 0;
    struct value key[QUERY_KEYSET_MAX];
    size_t cols[QUERY_KEYSET_MAX];
    bool desc[QUERY_KEYSET_MAX];
    char scratch[CURSOR_MAX];
    long page = 1;
    int rc = 0;
    if (req->after != NULL && req->before != NULL) {
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER, "after and before: give one of them");
        goto free_query;
    }
    if ((req->after != NULL || req->before != NULL) && !query_keyset_ok(q)) {
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER,
                        req->after != NULL
                            ? "after: pages a list in key order, or in the order of a q whose "
                              "order_by names the collection's own columns, with no group_by, "
                              "limit, offset, single or _rank"
                            : "before: pages a list in key order, or in the order of a q whose "
                              "order_by names the collection's own columns, with no group_by, "
                              "limit, offset, single or _rank");
        goto free_query;
    }
    size_t ncols = query_keyset_cols(q, cols, desc, QUERY_KEYSET_MAX);
    if (!read_cursor(env, c, cols, ncols, req, rows_per_page(env, req), key, &page, scratch,
                     sizeof(scratch), out))
        goto free_query;
    bool uncounted = reqkey_uncounted(c, req) && !query_single(q);
    struct counted count = {0};
    rc = uncounted ? 0 : search_count(env, c, q, req, &count, err);
    long long n = search_window(q, count.total);
    /* a limit the capped count covers makes the window exact again */
    bool truncated = count.truncated &&
                     !(query_limit(q) > 0 && query_offset(q) + query_limit(q) <= env->count_max);
    if (rc == 0 && query_single(q))
        rc = search_single(env, c, q, n, req, out, err);
    else if (rc == 0)
        rc = search_page(env, c, q, req, base_url, n, truncated, page, key, cols, ncols, out, err);
    if (search_match_refused(q, rc, err, out))
        rc = 0;
free_query:
    query_free(q);
    return rc;
}
