/* The catalog's handlers (see handlers.h). An object is written field by
 * field in the schema's sorted order; a relation field runs its own query
 * for the row at hand, so objects carry relations one level deep. */
#include "ops/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/apidoc.h"
#include "ops/cursor.h"
#include "sql/query.h"
#include "ops/render.h"
#include "ops/reqkey.h"
#include "ops/writes.h"
#include "warren/json.h"
#include "warren/log.h"

/* Values one search may bind: under SQLite's limit of 32,766 parameters. */
#define SEARCH_MAX_BINDS 30000

/* What a row callback needs to write the rows of one query. */
struct rows {
    const struct handler_env *env;
    const struct collection *coll;
    struct wr_buf *out;
    size_t count;
    int depth;          /* 1: objects with their relations; 0: columns only */
    const bool *hidden; /* columns hidden inside a relation (depth 0), or NULL */
    size_t limit;       /* write at most this many rows (0: all); one more sets more */
    bool more;
    /* keyset: the cursor of the page after the last row written, from
     * the row's values of the keyset columns */
    struct wr_buf *cursor;
    const size_t *keyset;
    size_t nkeyset;
    const char *q;
    long per_page;
    long next_page;
    struct wr_err *err;
};

static int write_object(const struct handler_env *env, const struct collection *c,
                        const struct value *row, struct wr_buf *out, struct wr_err *err);

/* The cursor that starts after row: its sort key and the next page. */
static void remember(struct rows *x, const struct value *row)
{
    struct value key[QUERY_KEYSET_MAX];
    for (size_t k = 0; k < x->nkeyset; k++)
        key[k] = row[x->keyset[k]];
    wr_buf_reset(x->cursor);
    if (cursor_encode(x->cursor, x->coll, x->q, x->per_page, key, x->nkeyset, x->next_page) != 0)
        wr_buf_reset(x->cursor); /* a BLOB in the key: no cursor, offset links instead */
}

static int on_row(void *arg, const struct value *row, size_t ncols)
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

static size_t coll_index(const schema *s, const struct collection *c)
{
    return (size_t)(c - schema_at(s, 0));
}

/* The values of a relation's local key columns in row; false when any is
 * NULL (the relation is empty). */
static bool relation_key(const struct relation *r, const struct value *row, struct value *key)
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
    bool any = relation_key(r, row, key);
    struct rows x = {.env = env, .coll = target, .out = out, .hidden = r->col_hidden, .err = err};
    const char *sql = plan_coll_at(env->plan, coll_index(env->schema, c))->rel_all[ri];
    if (r->to_many)
        wr_buf_putc(out, '[');
    int rc = any ? store_query(env->store, sql, key, r->nkeys, on_row, &x, err) : 0;
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

static long per_page_of(const struct handler_env *env, const struct wr_request *req)
{
    return reqkey_per_page(req, env->default_per_page, env->max_per_page);
}

/* A page of target's rows: the count (unless uncounted), then the rows of
 * the page; uncounted pages read one row more to learn whether a next
 * page exists. */
static int write_page(const struct handler_env *env, const struct collection *target,
                      const char *count_sql, const char *page_sql, struct value *binds,
                      size_t nbinds, const struct wr_request *req, struct page *pg,
                      struct wr_answer *out, struct wr_err *err)
{
    long long total = 0;
    bool uncounted = reqkey_uncounted(target, req);
    int rc = uncounted ? 0 : store_count(env->store, count_sql, binds, nbinds, &total, err);
    if (rc != 0)
        return rc;
    plan_page(pg, total, req->page ? req->page : 1, per_page_of(env, req));
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
        rc = store_query(env->store, page_sql, binds, nbinds + 2, on_row, &x, err);
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
    wr_buf_puts(path, "/api/");
    render_path_segment(path, c->name);
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

static void write_link(struct wr_answer *out, const char *base_url, const struct collection *c,
                       const struct wr_request *req, const struct page *pg)
{
    struct wr_buf path;
    wr_buf_init(&path, 4096 + (req->q ? 3 * strlen(req->q) : 0));
    link_path(&path, c, req);
    render_link(&out->link, base_url, path.data, pg);
    wr_buf_release(&path);
}

static int op_search(const struct handler_env *env, const struct collection *c,
                     const struct wr_request *req, const char *base_url, struct wr_answer *out,
                     struct wr_err *err);

static int op_list(const struct handler_env *env, const struct collection *c,
                   const struct wr_request *req, const char *base_url, struct wr_answer *out,
                   struct wr_err *err)
{
    if (req->q != NULL || req->after != NULL)
        return op_search(env, c, req, base_url, out, err);
    const struct plan_coll *pc = plan_coll_at(env->plan, coll_index(env->schema, c));
    struct value binds[2];
    struct page pg;
    int rc = write_page(env, c, pc->count, pc->list, binds, 0, req, &pg, out, err);
    write_link(out, base_url, c, req, &pg);
    out->status = 200;
    return rc;
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
        rc = store_query(env->store, sql.data, binds, nbinds + 2, on_row, x, err);
    } else {
        rc = wr_err_set(err, rc, "search too large");
    }
    free(binds);
    wr_buf_release(&sql);
    return rc;
}

static int search_count(const struct handler_env *env, const query *q, long long *count,
                        struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)256 * 1024);
    size_t nbinds = 0;
    struct value *binds = malloc(SEARCH_MAX_BINDS * sizeof(*binds));
    int rc = binds ? query_count_sql(q, &sql, binds, &nbinds, SEARCH_MAX_BINDS) : WR_ENOMEM;
    if (rc == 0)
        rc = store_count(env->store, sql.data, binds, nbinds, count, err);
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

/* The page a request's cursor names (its sort key, for the columns cols,
 * into key), 1 for a walk's start; false after a 400. */
static bool read_cursor(const struct collection *c, const size_t *cols, size_t ncols,
                        const struct wr_request *req, long per_page, struct value *key, long *page,
                        char *scratch, size_t cap, struct wr_answer *out)
{
    *page = req->page ? req->page : 1;
    if (req->after == NULL)
        return true;
    *page = 1;
    if (req->after[0] == '\0')
        return true;
    if (cursor_decode(req->after, c, cols, ncols, req->q, per_page, key, page, scratch, cap))
        return true;
    wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER,
                    "after: not a cursor of this list (take it from a Link header, with the same q "
                    "and results_per_page)");
    return false;
}

/* How many rows a search's page reads: the page, one more when the next
 * page's existence is to be learned, within the search's limit. */
static long long rows_to_read(const query *q, const struct page *pg, bool keyset, long long n)
{
    if (!pg->uncounted && !keyset) {
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

/* A list with `q` or a cursor: filters, order, grouping, limit and offset,
 * then the page of what they leave; the Link header keeps q (Flask-Restless
 * drops it), and with a cursor its next link carries the next cursor. */
query *handlers_parse_q(const struct handler_env *env, const struct collection *c, const char *text,
                        struct wr_answer *out)
{
    struct wr_err qerr = {0};
    /* MAX_IN_VALUES: the edge checks it too */
    struct query_limits lim = {.max_in = env->cfg ? (size_t)env->cfg->max_in_values : 0};
    query *q = query_parse(env->schema, c, text, strlen(text), &lim, &qerr);
    if (q == NULL)
        wr_answer_error(out, qerr.code == WR_ENOMEM ? 500 : 400,
                        qerr.code == WR_ENOMEM ? WR_CODE_INTERNAL : WR_CODE_BAD_PARAMETER,
                        qerr.msg);
    return q;
}

static int op_search(const struct handler_env *env, const struct collection *c,
                     const struct wr_request *req, const char *base_url, struct wr_answer *out,
                     struct wr_err *err)
{
    query *q = handlers_parse_q(env, c, req->q ? req->q : "{}", out);
    if (q == NULL)
        return 0;
    long per_page = per_page_of(env, req);
    struct value key[QUERY_KEYSET_MAX];
    size_t cols[QUERY_KEYSET_MAX];
    bool desc[QUERY_KEYSET_MAX];
    char scratch[CURSOR_MAX];
    long page = 1;
    if (req->after != NULL && !query_keyset_ok(q)) {
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER,
                        "after: pages a list in key order, or in the order of a q whose order_by "
                        "names the collection's own columns, with no group_by, limit, offset or "
                        "single");
        query_free(q);
        return 0;
    }
    size_t ncols = query_keyset_cols(q, cols, desc, QUERY_KEYSET_MAX);
    if (!read_cursor(c, cols, ncols, req, per_page, key, &page, scratch, sizeof(scratch), out)) {
        query_free(q);
        return 0;
    }
    bool keyset = req->after != NULL && req->after[0] != '\0';
    bool uncounted = reqkey_uncounted(c, req) && !query_single(q);
    long long count = 0;
    int rc = uncounted ? 0 : search_count(env, q, &count, err);
    long long n = search_window(q, count);
    if (rc == 0 && query_single(q)) {
        rc = search_single(env, c, q, n, req, out, err);
        query_free(q);
        return rc;
    }
    struct page pg;
    plan_page(&pg, n, page, per_page);
    pg.uncounted = uncounted;
    render_page_head(&out->body, &pg);
    struct wr_buf cursor;
    wr_buf_init(&cursor, CURSOR_MAX + 1);
    struct rows x = {.env = env,
                     .coll = c,
                     .out = &out->body,
                     .depth = reqkey_depth(c, req),
                     .limit = (size_t)per_page,
                     .cursor = req->after ? &cursor : NULL,
                     .keyset = cols,
                     .nkeyset = ncols,
                     .q = req->q,
                     .per_page = per_page,
                     .next_page = page + 1,
                     .err = err};
    long long want = rows_to_read(q, &pg, keyset || req->after != NULL, n);
    if (rc == 0 && want > 0)
        rc = search_rows(env, q, keyset ? key : NULL, keyset ? 0 : query_offset(q) + pg.offset,
                         want, &x, err);
    pg.more = x.more;
    out->rows = (long long)x.count;
    render_page_tail(&out->body, &pg);
    if (x.more && cursor.len > 0 && wr_buf_error(&cursor) == 0)
        pg.next_after = cursor.data;
    write_link(out, base_url, c, req, &pg);
    wr_buf_release(&cursor);
    out->status = 200;
    query_free(q);
    return rc;
}

/* The row of c with the request's id, as an object; 404 if none. */
struct found {
    const struct handler_env *env;
    const struct collection *coll;
    struct wr_answer *out;
    const struct wr_request *req;
    const char *base_url;
    bool hit;
    struct wr_err *err;
};

static int op_related_row(struct found *f, const struct value *row);

static int on_found(void *arg, const struct value *row, size_t ncols)
{
    struct found *f = arg;
    (void)ncols;
    f->hit = true;
    if (strcmp(f->req->op, WR_OP_GET) == 0) {
        struct rows x = {.env = f->env,
                         .coll = f->coll,
                         .out = &f->out->body,
                         .depth = reqkey_depth(f->coll, f->req),
                         .err = f->err};
        f->out->rows = 1;
        return on_row(&x, row, ncols);
    }
    return op_related_row(f, row);
}

static int op_related_row(struct found *f, const struct value *row)
{
    const struct handler_env *env = f->env;
    const struct relation *r = schema_relation(f->coll, f->req->relation);
    size_t ri = (size_t)(r - f->coll->rels);
    const struct plan_coll *pc = plan_coll_at(env->plan, coll_index(env->schema, f->coll));
    const struct collection *target = schema_at(env->schema, r->target);
    struct value key[SCHEMA_MAX_KEY_COLS + 2] = {{.kind = V_NULL}};
    bool any = relation_key(r, row, key);
    if (!r->to_many) {
        struct rows x = {.env = env,
                         .coll = target,
                         .out = &f->out->body,
                         .depth = reqkey_depth(target, f->req),
                         .err = f->err};
        int rc =
            any ? store_query(env->store, pc->rel_all[ri], key, r->nkeys, on_row, &x, f->err) : 0;
        if (x.count == 0)
            wr_json_null(&f->out->body);
        f->out->rows = (long long)x.count;
        return rc;
    }
    if (!any) /* a NULL referenced key: no rows can match */
        key[0] = (struct value){.kind = V_NULL};
    struct page pg;
    int rc = write_page(env, target, pc->rel_count[ri], pc->rel_page[ri], key, r->nkeys, f->req,
                        &pg, f->out, f->err);
    write_link(f->out, f->base_url, f->coll, f->req, &pg);
    return rc;
}

static int op_get(const struct handler_env *env, const struct collection *c,
                  const struct wr_request *req, const char *base_url, struct wr_answer *out,
                  struct wr_err *err);

/* GET /api/<c>/<id>/<relation>/<related id>: the related object, as GET
 * /api/<target>/<related id> answers it, if it is related; else 404. */
static int related_one(const struct handler_env *env, const struct collection *c,
                       const struct wr_request *req, const char *base_url, struct wr_answer *out,
                       struct wr_err *err)
{
    const struct relation *r = schema_relation(c, req->relation);
    const struct collection *t = schema_at(env->schema, r->target);
    struct value binds[2 * SCHEMA_MAX_KEY_COLS];
    char scratch[2][1100];
    long long n = 0;
    int rc = 0;
    if (plan_parse_key(t, req->related_id, binds, scratch[0], sizeof(scratch[0])) &&
        plan_parse_key(c, req->key, binds + t->npk, scratch[1], sizeof(scratch[1]))) {
        struct wr_buf sql;
        wr_buf_init(&sql, 8192);
        wr_buf_puts(&sql, "SELECT COUNT(*) FROM ");
        plan_ident(&sql, t->table);
        wr_buf_puts(&sql, " WHERE ");
        plan_related_cond(&sql, c, r, t);
        rc = wr_buf_error(&sql) != 0
                 ? wr_err_set(err, WR_ETOOBIG, "statement too long")
                 : store_count(env->store, sql.data, binds, t->npk + c->npk, &n, err);
        wr_buf_release(&sql);
    }
    if (rc != 0 || n == 0) {
        if (rc == 0)
            wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such related object");
        return rc;
    }
    struct wr_request get = *req;
    get.op = WR_OP_GET;
    get.collection = t->name;
    get.key = req->related_id;
    get.relation = NULL;
    get.related_id = NULL;
    return op_get(env, t, &get, base_url, out, err);
}

static int op_get(const struct handler_env *env, const struct collection *c,
                  const struct wr_request *req, const char *base_url, struct wr_answer *out,
                  struct wr_err *err)
{
    if (req->relation && schema_relation(c, req->relation) == NULL) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such relation");
        return 0;
    }
    if (req->related_id != NULL)
        return related_one(env, c, req, base_url, out, err);
    struct value key[SCHEMA_MAX_KEY_COLS];
    char scratch[1100];
    struct found f = {
        .env = env, .coll = c, .out = out, .req = req, .base_url = base_url, .err = err};
    const struct plan_coll *pc = plan_coll_at(env->plan, coll_index(env->schema, c));
    int rc = 0;
    if (plan_parse_key(c, req->key, key, scratch, sizeof(scratch)))
        rc = store_query(env->store, pc->get, key, c->npk, on_found, &f, err);
    if (rc == 0 && !f.hit) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such object");
        return 0;
    }
    out->status = 200;
    return rc;
}

#define MAX_FUNCTIONS 64

/* A functions result row, written as one object with sorted keys. */
struct aggregates {
    const char *const *names;
    size_t n;
    struct wr_buf *out;
};

static int write_aggregates(void *arg, const struct value *row, size_t ncols)
{
    struct aggregates *a = arg;
    size_t order[MAX_FUNCTIONS];
    for (size_t i = 0; i < a->n && i < ncols; i++)
        order[i] = i;
    /* insertion sort: a handful of names, sorted as JSON keys are */
    for (size_t i = 1; i < a->n && i < ncols; i++)
        for (size_t j = i; j > 0 && strcmp(a->names[order[j - 1]], a->names[order[j]]) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    wr_buf_putc(a->out, '{');
    for (size_t i = 0; i < a->n && i < ncols; i++) {
        if (i > 0)
            wr_buf_putc(a->out, ',');
        wr_json_key(a->out, a->names[order[i]]);
        render_value(a->out, COL_ANY, &row[order[i]]);
    }
    wr_buf_putc(a->out, '}');
    return wr_buf_error(a->out);
}

/* /api/eval/<collection>: count, sum, avg, min, max over a search's rows
 * (filters apply, which Flask-Restless ignored), {"sum__total": ...}. */
static int op_functions(const struct handler_env *env, const struct collection *c,
                        const struct wr_request *req, const char *base_url, struct wr_answer *out,
                        struct wr_err *err)
{
    (void)base_url;
    query *q = handlers_parse_q(env, c, req->q, out);
    if (q == NULL)
        return 0;
    const char *names[MAX_FUNCTIONS];
    size_t nnames = 0, nbinds = 0;
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)256 * 1024);
    /* malloc: only the slots the statement binds are written, then read */
    struct value *binds = malloc(SEARCH_MAX_BINDS * sizeof(*binds));
    int rc = binds == NULL ? WR_ENOMEM : 0;
    if (rc == 0)
        rc = query_functions_sql(q, &sql, binds, &nbinds, SEARCH_MAX_BINDS, names, &nnames,
                                 MAX_FUNCTIONS);
    if (rc == WR_EINVAL || rc == WR_ETOOBIG) {
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER, "q: functions needs 1 to 64 functions");
        rc = 0;
    } else if (rc == 0) {
        struct aggregates a = {.names = names, .n = nnames, .out = &out->body};
        rc = store_query(env->store, sql.data, binds, nbinds, write_aggregates, &a, err);
        out->status = 200;
        out->rows = 1;
    } else {
        rc = wr_err_set(err, rc, "functions: out of memory");
    }
    free(binds);
    wr_buf_release(&sql);
    query_free(q);
    return rc;
}

struct op {
    const char *name;
    int (*fn)(const struct handler_env *env, const struct collection *c,
              const struct wr_request *req, const char *base_url, struct wr_answer *out,
              struct wr_err *err);
    bool write; /* runs its own write transaction, no read snapshot around it */
};

static const struct op ops[] = {
    {WR_OP_LIST, op_list, false},           {WR_OP_GET, op_get, false},
    {WR_OP_RELATED, op_get, false}, /* finds the row, then its relation */
    {WR_OP_FUNCTIONS, op_functions, false}, {WR_OP_CREATE, write_create, true},
    {WR_OP_UPDATE, write_update, true},     {WR_OP_DELETE, write_delete, true},
};

/* GET /api and /api/openapi.json: documents of the schema alone. */
static void catalog_request(const struct handler_env *env, const struct wr_request *req,
                            const char *base_url, struct wr_answer *out)
{
    bool index = strcmp(req->op, WR_OP_COLLECTIONS) == 0;
    int rc = index ? apidoc_collections(&out->body, env->schema, base_url)
                   : apidoc_openapi(&out->body, env->schema, base_url);
    if (rc != 0) {
        wr_answer_error(out, 500, WR_CODE_INTERNAL, "internal error");
        return;
    }
    out->status = 200;
    out->rows = (long long)schema_count(env->schema);
}

void handle_request(const struct handler_env *env, const struct wr_request *req,
                    const char *base_url, struct wr_answer *out)
{
    wr_answer_reset(out);
    if (req->collection == NULL) { /* the decoder lets only the catalog ops through */
        catalog_request(env, req, base_url, out);
        return;
    }
    const struct collection *c = schema_find(env->schema, req->collection);
    if (c == NULL) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such collection");
        return;
    }
    const struct op *op = NULL;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && op == NULL; i++)
        if (strcmp(ops[i].name, req->op) == 0)
            op = &ops[i];
    if (op == NULL) {
        wr_answer_error(out, 400, WR_CODE_BAD_REQUEST, "unknown operation");
        return;
    }
    struct wr_err err = {0};
    /* A reader's snapshot would hold off the writer's commit: writes take
     * none (they read back through handle_request after committing). */
    int rc = op->write ? 0 : store_begin(env->store, &err);
    if (rc == 0)
        rc = op->fn(env, c, req, base_url, out, &err);
    if (!op->write)
        store_end(env->store);
    if (rc == 0 && wr_buf_error(&out->body) == 0) {
        /* reply_error ended error bodies already; a 204 has none */
        if (out->status < 400 && out->status != 204)
            wr_buf_putc(&out->body, '\n');
        return;
    }
    if (wr_buf_error(&out->body) == WR_ETOOBIG) {
        wr_answer_error(out, 413, WR_CODE_PAYLOAD_TOO_LARGE, "the answer is too large");
        return;
    }
    struct wr_http_error h = wr_err_http(rc);
    if (h.status == 500)
        wr_error(req->id, "%s %s: %s", req->op, req->collection, err.msg);
    wr_answer_error(out, h.status, h.code, h.message);
}
