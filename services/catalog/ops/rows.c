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

int rows_page(const struct handler_env *env, const struct collection *target, const char *count_sql,
              const char *page_sql, struct value *binds, size_t nbinds,
              const struct wr_request *req, struct page *pg, struct wr_answer *out,
              struct wr_err *err)
{
    struct counted n = {0};
    bool uncounted = reqkey_uncounted(target, req);
    int rc = uncounted
                 ? 0
                 : counts_rows(env, target, count_sql, binds, nbinds, nbinds == 0, req, &n, err);
    if (rc != 0)
        return rc;
    plan_page(pg, n.total, req->page ? req->page : 1, rows_per_page(env, req));
    pg->uncounted = uncounted;
    counts_apply(pg, &n);
    bool open = plan_page_open(pg);
    binds[nbinds] = (struct value){.kind = V_INT, .i = pg->per_page + (open ? 1 : 0)};
    binds[nbinds + 1] = (struct value){.kind = V_INT, .i = pg->offset};
    render_page_head(&out->body, pg);
    struct rows x = {.env = env,
                     .coll = target,
                     .out = &out->body,
                     .depth = reqkey_depth(target, req),
                     .limit = (size_t)pg->per_page,
                     .err = err};
    if (open || pg->page <= pg->total_pages)
        rc = store_query(env->store, page_sql, binds, nbinds + 2, rows_on_row, &x, err);
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
