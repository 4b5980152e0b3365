/* The row writer (see rows.h). An object is written field by field in the
 * schema's sorted order; a relation field runs its own query for the row
 * at hand, so objects carry relations one level deep. */
#include "ops/rows.h"

#include <string.h>

#include "ops/cursor.h"
#include "ops/render.h"
#include "ops/reqkey.h"
#include "sql/query.h"
#include "warren/json.h"

static int write_object(const struct handler_env *env, const struct collection *c,
                        const struct value *row, struct wr_buf *out, struct wr_err *err);

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

int rows_on_row(void *arg, const struct value *row, size_t ncols)
{
    struct rows *x = arg;
    (void)ncols;
    if (x->limit > 0 && x->count >= x->limit) {
        x->more = true;
        return 0;
    }
    if (x->count++ > 0)
        wr_buf_putc(x->out, ',');
    if (x->cursor != NULL)
        remember(x, row);
    if (x->depth > 0)
        return write_object(x->env, x->coll, row, x->out, x->err);
    render_flat_in(x->out, x->coll, row, x->hidden);
    return wr_buf_error(x->out);
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

static int write_relation(const struct handler_env *env, const struct collection *c, size_t ri,
                          const struct value *row, struct wr_buf *out, struct wr_err *err)
{
    const struct relation *r = &c->rels[ri];
    const struct collection *target = schema_at(env->schema, r->target);
    struct value key[SCHEMA_MAX_KEY_COLS] = {{.kind = V_NULL}};
    bool any = rows_relation_key(r, row, key);
    struct rows x = {.env = env, .coll = target, .out = out, .hidden = r->col_hidden, .err = err};
    const char *sql = plan_coll_at(env->plan, schema_index(env->schema, c))->rel_all[ri];
    if (r->to_many)
        wr_buf_putc(out, '[');
    int rc = any ? store_query(env->store, sql, key, r->nkeys, rows_on_row, &x, err) : 0;
    if (r->to_many)
        wr_buf_putc(out, ']');
    else if (x.count == 0)
        wr_json_null(out);
    return rc;
}

static int write_object(const struct handler_env *env, const struct collection *c,
                        const struct value *row, struct wr_buf *out, struct wr_err *err)
{
    wr_buf_putc(out, '{');
    for (size_t i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        if (i > 0)
            wr_buf_putc(out, ',');
        wr_json_key(out, f->name);
        if (!f->is_relation) {
            render_value(out, c->cols[f->index].type, &row[f->index]);
            continue;
        }
        int rc = write_relation(env, c, f->index, row, out, err);
        if (rc != 0)
            return rc;
    }
    wr_buf_putc(out, '}');
    return wr_buf_error(out);
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
    long long total = 0;
    bool uncounted = reqkey_uncounted(target, req);
    int rc = uncounted ? 0 : store_count(env->store, count_sql, binds, nbinds, &total, err);
    if (rc != 0)
        return rc;
    plan_page(pg, total, req->page ? req->page : 1, rows_per_page(env, req));
    pg->uncounted = uncounted;
    binds[nbinds] = (struct value){.kind = V_INT, .i = pg->per_page + (uncounted ? 1 : 0)};
    binds[nbinds + 1] = (struct value){.kind = V_INT, .i = pg->offset};
    render_page_head(&out->body, pg);
    struct rows x = {.env = env,
                     .coll = target,
                     .out = &out->body,
                     .depth = reqkey_depth(target, req),
                     .limit = (size_t)pg->per_page,
                     .err = err};
    if (uncounted || pg->page <= pg->total_pages)
        rc = store_query(env->store, page_sql, binds, nbinds + 2, rows_on_row, &x, err);
    pg->more = x.more;
    out->rows = (long long)x.count;
    render_page_tail(&out->body, pg);
    return rc;
}

/* A list's URL as its links repeat it: the path, then q, count and depth
 * as the request gave them (page, results_per_page and after are the
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
    if (req->depth_given)
        wr_buf_printf(path, "%cdepth=%d", sep, req->depth);
}

void rows_link(struct wr_answer *out, const char *base_url, const struct collection *c,
               const struct wr_request *req, const struct page *pg)
{
    struct wr_buf path;
    wr_buf_init(&path, 4096 + (req->q ? 3 * strlen(req->q) : 0));
    link_path(&path, c, req);
    render_link(&out->link, base_url, path.data, pg);
    wr_buf_release(&path);
}
