/* The row writer (see rows.h): each row an object as objects.h writes it,
 * in the shape the request's fields= gives (fields.h). */
#include "ops/rows.h"

#include <string.h>

#include "ops/counts.h"
#include "ops/cursor.h"
#include "ops/fields.h"
#include "ops/objects.h"
#include "ops/render.h"
#include "ops/reqkey.h"
#include "sql/query.h"
#include "store/store.h"
#include "warren/json.h"

/* The cursor that starts after row: its sort key and the next page. */
static void remember(struct rows *x, const struct value *row)
{
    struct value key[QUERY_KEYSET_MAX];
    for (size_t k = 0; k < x->nkeyset; k++)
        key[k] = row[x->keyset[k]];
    wr_buf_reset(x->cursor);
    if (cursor_encode(x->cursor, x->env->cursor_key, x->coll, x->q, x->per_page, key, x->nkeyset,
                      x->next_page) != 0)
        wr_buf_reset(x->cursor); /* a BLOB in the key: no cursor, offset links instead */
}

/* The cursor that leads back from row, a page's first: the page before. */
static void remember_first(struct rows *x, const struct value *row)
{
    struct value key[QUERY_KEYSET_MAX];
    for (size_t k = 0; k < x->nkeyset; k++)
        key[k] = row[x->keyset[k]];
    wr_buf_reset(x->prev_cursor);
    if (cursor_encode_before(x->prev_cursor, x->env->cursor_key, x->coll, x->q, x->per_page, key,
                             x->nkeyset, x->prev_page) != 0)
        wr_buf_reset(x->prev_cursor); /* a BLOB in the key: an offset link instead */
}

/* The key of row (of x's collection) into k. */
static void seen_key(const struct rows *x, struct pagepos_key *k, const struct value *row)
{
    struct value key[SCHEMA_MAX_KEY_COLS];
    for (size_t i = 0; i < x->coll->npk; i++)
        key[i] = row[x->coll->pk[i]];
    pagepos_key_set(k, key, x->coll->npk);
}

int rows_on_row(void *arg, const struct value *row, size_t ncols)
{
    struct rows *x = arg;
    (void)ncols;
    if (x->limit > 0 && x->count >= x->limit) {
        x->more = true;
        return 0;
    }
    if (x->count == 0 && x->prev_cursor != NULL)
        remember_first(x, row);
    if (x->seen != NULL) { /* every row's: the last one's stays */
        if (x->count == 0)
            seen_key(x, &x->seen->first, row);
        seen_key(x, &x->seen->last, row);
    }
    if (x->count++ > 0)
        wr_buf_putc(x->out, ',');
    if (x->cursor != NULL)
        remember(x, row);
    /* the request's fields= shapes the objects it answers */
    const struct view *v = x->env->view;
    struct objects_shape own = {.hide_cols = x->hidden};
    const struct objects_shape *shape = v != NULL && v->c == x->coll ? &v->top : &own;
    return objects_write(x->env, x->coll, row, x->depth, shape, x->out, x->err);
}

bool rows_relation_key(const struct relation *r, const struct value *row, struct value *key)
{
    for (size_t k = 0; k < r->nkeys; k++) {
        key[k] = row[r->local[k]];
        if (key[k].kind == V_NULL)
            return false;
    }
    return true;
}

long rows_per_page(const struct handler_env *env, const struct wr_request *req)
{
    return reqkey_per_page(req, env->default_per_page, env->max_per_page);
}

/* Where a page-number read of list starts: from the nearest position the
 * memo has at or below offset (its statement and key bound into all after
 * the list's binds, *skip the rows past the position), or the list's own
 * statement and offset. The statement to run; *n the binds used. */
static const char *seek(pagepos *memo, const struct collection *target,
                        const struct rows_list *list, struct value *all, size_t *n,
                        long long offset, long long *skip)
{
    struct pagepos_hit hit;
    *skip = offset;
    if (offset == 0 || !pagepos_find(memo, list->page, all, *n, offset, &hit) ||
        hit.nkey != target->npk)
        return list->page;
    memcpy(all + *n, hit.key, hit.nkey * sizeof(hit.key[0]));
    *n += hit.nkey;
    *skip = offset - hit.start;
    return hit.inclusive ? list->from : list->after;
}

int rows_page(const struct handler_env *env, const struct collection *target,
              const struct rows_list *list, const struct value *binds, size_t nbinds,
              const struct wr_request *req, struct page *pg, struct wr_answer *out,
              struct wr_err *err)
{
    struct counted n = {0};
    bool uncounted = reqkey_uncounted(target, req);
    /* the binds (count's), then a remembered key, then LIMIT and OFFSET */
    struct value all[2 * SCHEMA_MAX_KEY_COLS + 2];
    if (nbinds > SCHEMA_MAX_KEY_COLS)
        return wr_err_set(err, WR_EINVAL, "too many binds for a page");
    if (nbinds > 0)
        memcpy(all, binds, nbinds * sizeof(binds[0]));
    /* the memo: only where the order is the key alone, at this
     * transaction's data version (read first: the snapshot's) */
    pagepos *memo = list->from != NULL && list->after != NULL ? env->pagepos : NULL;
    if (memo != NULL)
        pagepos_at(memo, store_data_version(env->store));
    int rc = uncounted ? 0
                       : counts_rows_memo(env, target, list->count, all, nbinds, nbinds == 0, req,
                                          memo, &n, err);
    if (rc != 0)
        return rc;
    plan_page(pg, n.total, req->page ? req->page : 1, rows_per_page(env, req));
    pg->uncounted = uncounted;
    counts_apply(pg, &n);
    bool open = plan_page_open(pg);
    size_t nall = nbinds;
    long long skip = pg->offset;
    const char *sql =
        memo != NULL ? seek(memo, target, list, all, &nall, pg->offset, &skip) : list->page;
    all[nall] = (struct value){.kind = V_INT, .i = pg->per_page + (open ? 1 : 0)};
    all[nall + 1] = (struct value){.kind = V_INT, .i = skip};
    render_page_head(&out->body, pg);
    struct rows_seen seen;
    seen.first.ok = seen.last.ok = false;
    struct rows x = {.env = env,
                     .coll = target,
                     .out = &out->body,
                     .depth = reqkey_depth(target, req),
                     .limit = (size_t)pg->per_page,
                     .seen = memo != NULL ? &seen : NULL,
                     .err = err};
    if (open || pg->page <= pg->total_pages)
        rc = store_query(env->store, sql, all, nall + 2, rows_on_row, &x, err);
    if (rc == 0 && x.count > 0 && memo != NULL) {
        /* the rows from this page's offset are those from its first row,
         * and those past its last follow it */
        pagepos_put(memo, list->page, binds, nbinds, pg->offset, true, &seen.first);
        pagepos_put(memo, list->page, binds, nbinds, pg->offset + (long long)x.count, false,
                    &seen.last);
    }
    pg->more = x.more;
    out->rows = (long long)x.count;
    render_page_tail(&out->body, pg);
    return rc;
}

/* A list's URL as its links repeat it: the path, then q, count, depth and
 * fields as the request gave them (page, results_per_page and after are the
 * links' own). */
static void link_path(struct wr_buf *path, const struct collection *c, const struct wr_request *req)
{
    render_collection_url(path, NULL, c->name);
    if (req->relation != NULL) {
        wr_buf_putc(path, '/');
        render_path_segment(path, req->key);
        wr_buf_putc(path, '/');
        render_path_segment(path, req->relation);
    }
    char sep = '?';
    if (req->q != NULL) {
        wr_buf_puts(path, "?q=");
        render_path_segment(path, req->q);
        sep = '&';
    }
    if (req->count != NULL) {
        wr_buf_printf(path, "%ccount=%s", sep, req->count);
        sep = '&';
    }
    if (req->depth_given) {
        wr_buf_printf(path, "%cdepth=%d", sep, req->depth);
        sep = '&';
    }
    if (req->fields != NULL) {
        wr_buf_printf(path, "%cfields=", sep);
        render_path_segment(path, req->fields);
    }
}

void rows_link(struct wr_answer *out, const char *base_url, const struct collection *c,
               const struct wr_request *req, const struct page *pg)
{
    struct wr_buf path;
    wr_buf_init(&path, 4096 + (req->q ? 3 * strlen(req->q) : 0) +
                           (req->fields ? 3 * strlen(req->fields) : 0));
    link_path(&path, c, req);
    render_link(&out->link, base_url, path.data, pg);
    wr_buf_release(&path);
}
