/* The catalog's handlers (see handlers.h). An object is written field by
 * field in the schema's sorted order; a relation field runs its own query
 * for the row at hand, so objects carry relations one level deep. */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "writes.h"
#include "render.h"
#include "warren/json.h"
#include "warren/log.h"

/* Values one search may bind: under SQLite's limit of 32,766 parameters. */
#define SEARCH_MAX_BINDS 30000

void reply_init(struct reply *r, size_t max_body)
{
    r->status = 0;
    wr_buf_init(&r->body, max_body);
    /* a search's q rides in its links, up to 3 bytes a character, twice */
    wr_buf_init(&r->link, (size_t)512 * 1024);
}

void reply_reset(struct reply *r)
{
    r->location[0] = '\0';
    r->allow[0] = '\0';
    r->status = 0;
    r->cache = CACHE_OFF;
    r->rows = 0;
    wr_buf_reset(&r->body);
    wr_buf_reset(&r->link);
}

void reply_release(struct reply *r)
{
    wr_buf_release(&r->body);
    wr_buf_release(&r->link);
}

void reply_error(struct reply *r, int status, const char *code, const char *message)
{
    reply_reset(r);
    r->status = status;
    render_error(&r->body, code, message);
    wr_buf_putc(&r->body, '\n');
}

/* What a row callback needs to write the rows of one query. */
struct rows {
    const struct handler_env *env;
    const struct collection *coll;
    struct wr_buf *out;
    size_t count;
    bool deep; /* depth 1: with relations */
    struct wr_err *err;
};

static int write_object(const struct handler_env *env, const struct collection *c,
                        const struct value *row, struct wr_buf *out, struct wr_err *err);

static int on_row(void *arg, const struct value *row, size_t ncols)
{
    struct rows *x = arg;
    (void)ncols;
    if (x->count++ > 0)
        wr_buf_putc(x->out, ',');
    if (x->deep)
        return write_object(x->env, x->coll, row, x->out, x->err);
    render_flat(x->out, x->coll, row);
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
    struct rows x = {.env = env, .coll = target, .out = out, .err = err};
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

/* A page of target's rows: the count, then the rows of the page. */
static int write_page(const struct handler_env *env, const struct collection *target,
                      const char *count_sql, const char *page_sql, struct value *binds,
                      size_t nbinds, const struct wr_request *req, struct page *pg,
                      struct reply *out, struct wr_err *err)
{
    long long total = 0;
    int rc = store_count(env->store, count_sql, binds, nbinds, &total, err);
    if (rc != 0)
        return rc;
    long per_page = req->results_per_page ? req->results_per_page : env->default_per_page;
    if (per_page > env->max_per_page)
        per_page = env->max_per_page;
    plan_page(pg, total, req->page ? req->page : 1, per_page);
    binds[nbinds] = (struct value){.kind = V_INT, .i = pg->per_page};
    binds[nbinds + 1] = (struct value){.kind = V_INT, .i = pg->offset};
    render_page_head(&out->body, pg);
    struct rows x = {.env = env, .coll = target, .out = &out->body, .deep = true, .err = err};
    if (pg->page <= pg->total_pages)
        rc = store_query(env->store, page_sql, binds, nbinds + 2, on_row, &x, err);
    out->rows = (long long)x.count;
    render_page_tail(&out->body, pg);
    return rc;
}

static void link_path(struct wr_buf *path, const struct collection *c, const char *key,
                      const char *relation)
{
    wr_buf_puts(path, "/api/");
    render_path_segment(path, c->name);
    if (key) {
        wr_buf_putc(path, '/');
        render_path_segment(path, key);
        wr_buf_putc(path, '/');
        render_path_segment(path, relation);
    }
}

static int op_search(const struct handler_env *env, const struct collection *c,
                     const struct wr_request *req, const char *base_url, struct reply *out,
                     struct wr_err *err);

static int op_list(const struct handler_env *env, const struct collection *c,
                   const struct wr_request *req, const char *base_url, struct reply *out,
                   struct wr_err *err)
{
    if (req->q != NULL)
        return op_search(env, c, req, base_url, out, err);
    const struct plan_coll *pc = plan_coll_at(env->plan, coll_index(env->schema, c));
    struct value binds[2];
    struct page pg;
    int rc = write_page(env, c, pc->count, pc->list, binds, 0, req, &pg, out, err);
    struct wr_buf path;
    wr_buf_init(&path, 4096);
    link_path(&path, c, NULL, NULL);
    render_link(&out->link, base_url, path.data, &pg);
    wr_buf_release(&path);
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

/* Runs a search's SELECT over rows [offset, offset + n) of its matches. */
static int search_rows(const struct handler_env *env, const struct collection *c, const query *q,
                       long long offset, long long n, struct wr_buf *out, size_t *count,
                       struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)256 * 1024);
    size_t nbinds = 0;
    struct value *binds = calloc(SEARCH_MAX_BINDS + 2, sizeof(*binds));
    int rc = binds ? query_select_sql(q, &sql, binds, &nbinds, SEARCH_MAX_BINDS) : WR_ENOMEM;
    wr_buf_puts(&sql, " LIMIT ? OFFSET ?");
    if (rc == 0 && wr_buf_error(&sql) != 0)
        rc = wr_buf_error(&sql);
    struct rows x = {.env = env, .coll = c, .out = out, .deep = true, .err = err};
    if (rc == 0) {
        binds[nbinds] = (struct value){.kind = V_INT, .i = n};
        binds[nbinds + 1] = (struct value){.kind = V_INT, .i = offset};
        rc = store_query(env->store, sql.data, binds, nbinds + 2, on_row, &x, err);
    } else {
        rc = wr_err_set(err, rc, "search too large");
    }
    *count = x.count;
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
    struct value *binds = calloc(SEARCH_MAX_BINDS, sizeof(*binds));
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
                         long long n, struct reply *out, struct wr_err *err)
{
    if (n != 1) {
        reply_error(out, n == 0 ? 404 : 400, n == 0 ? WR_CODE_NOT_FOUND : WR_CODE_BAD_PARAMETER,
                    n == 0 ? "No result found" : "Multiple results found");
        return 0;
    }
    size_t rows = 0;
    int rc = search_rows(env, c, q, query_offset(q), 1, &out->body, &rows, err);
    out->rows = (long long)rows;
    out->status = 200;
    return rc;
}

/* A list with `q`: filters, order, grouping, limit and offset, then the
 * page of what they leave; the Link header keeps q (Flask-Restless drops it). */
static int op_search(const struct handler_env *env, const struct collection *c,
                     const struct wr_request *req, const char *base_url, struct reply *out,
                     struct wr_err *err)
{
    struct wr_err qerr = {0};
    query *q = query_parse(env->schema, c, req->q, strlen(req->q), NULL, &qerr);
    if (q == NULL) {
        reply_error(out, qerr.code == WR_ENOMEM ? 500 : 400,
                    qerr.code == WR_ENOMEM ? WR_CODE_INTERNAL : WR_CODE_BAD_PARAMETER, qerr.msg);
        return 0;
    }
    long long count = 0;
    int rc = search_count(env, q, &count, err);
    long long n = search_window(q, count);
    if (rc == 0 && query_single(q)) {
        rc = search_single(env, c, q, n, out, err);
        query_free(q);
        return rc;
    }
    long per_page = req->results_per_page ? req->results_per_page : env->default_per_page;
    struct page pg;
    plan_page(&pg, n, req->page ? req->page : 1,
              per_page > env->max_per_page ? env->max_per_page : per_page);
    render_page_head(&out->body, &pg);
    size_t rows = 0;
    long long left = n - pg.offset;
    if (rc == 0 && left > 0)
        rc = search_rows(env, c, q, query_offset(q) + pg.offset,
                         left < pg.per_page ? left : pg.per_page, &out->body, &rows, err);
    out->rows = (long long)rows;
    render_page_tail(&out->body, &pg);
    struct wr_buf path;
    wr_buf_init(&path, 4096 + 3 * strlen(req->q));
    link_path(&path, c, NULL, NULL);
    wr_buf_puts(&path, "?q=");
    render_path_segment(&path, req->q);
    render_link(&out->link, base_url, path.data, &pg);
    wr_buf_release(&path);
    out->status = 200;
    query_free(q);
    return rc;
}

/* The row of c with the request's id, as an object at depth 1; 404 if none. */
struct found {
    const struct handler_env *env;
    const struct collection *coll;
    struct reply *out;
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
        f->out->rows = 1;
        return write_object(f->env, f->coll, row, &f->out->body, f->err);
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
        struct rows x = {
            .env = env, .coll = target, .out = &f->out->body, .deep = true, .err = f->err};
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
    struct wr_buf path;
    wr_buf_init(&path, 4096);
    link_path(&path, f->coll, f->req->key, r->name);
    render_link(&f->out->link, f->base_url, path.data, &pg);
    wr_buf_release(&path);
    return rc;
}

static int op_get(const struct handler_env *env, const struct collection *c,
                  const struct wr_request *req, const char *base_url, struct reply *out,
                  struct wr_err *err)
{
    if (req->relation && schema_relation(c, req->relation) == NULL) {
        reply_error(out, 404, WR_CODE_NOT_FOUND, "no such relation");
        return 0;
    }
    struct value key[SCHEMA_MAX_KEY_COLS];
    char scratch[1100];
    struct found f = {
        .env = env, .coll = c, .out = out, .req = req, .base_url = base_url, .err = err};
    const struct plan_coll *pc = plan_coll_at(env->plan, coll_index(env->schema, c));
    int rc = 0;
    if (plan_parse_key(c, req->key, key, scratch, sizeof(scratch)))
        rc = store_query(env->store, pc->get, key, c->npk, on_found, &f, err);
    if (rc == 0 && !f.hit) {
        reply_error(out, 404, WR_CODE_NOT_FOUND, "no such object");
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
                        const struct wr_request *req, const char *base_url, struct reply *out,
                        struct wr_err *err)
{
    (void)base_url;
    struct wr_err qerr = {0};
    query *q = query_parse(env->schema, c, req->q, strlen(req->q), NULL, &qerr);
    const char *names[MAX_FUNCTIONS];
    size_t nnames = 0, nbinds = 0;
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)256 * 1024);
    struct value *binds = q ? calloc(SEARCH_MAX_BINDS, sizeof(*binds)) : NULL;
    int rc = q == NULL ? qerr.code : binds == NULL ? WR_ENOMEM : 0;
    if (rc == 0)
        rc = query_functions_sql(q, &sql, binds, &nbinds, SEARCH_MAX_BINDS, names, &nnames,
                                 MAX_FUNCTIONS);
    if (rc == WR_EINVAL || rc == WR_ETOOBIG) {
        reply_error(out, 400, WR_CODE_BAD_PARAMETER,
                    q == NULL ? qerr.msg : "q: functions needs 1 to 64 functions");
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
              const struct wr_request *req, const char *base_url, struct reply *out,
              struct wr_err *err);
    bool write; /* runs its own write transaction, no read snapshot around it */
};

static const struct op ops[] = {
    {WR_OP_LIST, op_list, false},           {WR_OP_GET, op_get, false},
    {WR_OP_RELATED, op_get, false}, /* finds the row, then its relation */
    {WR_OP_FUNCTIONS, op_functions, false}, {WR_OP_CREATE, write_create, true},
    {WR_OP_UPDATE, write_update, true},     {WR_OP_DELETE, write_delete, true},
};

void handle_request(const struct handler_env *env, const struct wr_request *req,
                    const char *base_url, struct reply *out)
{
    reply_reset(out);
    const struct collection *c = schema_find(env->schema, req->collection);
    if (c == NULL) {
        reply_error(out, 404, WR_CODE_NOT_FOUND, "no such collection");
        return;
    }
    const struct op *op = NULL;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && op == NULL; i++)
        if (strcmp(ops[i].name, req->op) == 0)
            op = &ops[i];
    if (op == NULL) {
        reply_error(out, 400, WR_CODE_BAD_REQUEST, "unknown operation");
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
        reply_error(out, 413, WR_CODE_PAYLOAD_TOO_LARGE, "the answer is too large");
        return;
    }
    if (rc == WR_ETIMEDOUT) {
        reply_error(out, 504, WR_CODE_TIMEOUT, "the query ran past the request's deadline");
        return;
    }
    if (rc == WR_ETOOBIG) {
        reply_error(out, 400, WR_CODE_BAD_PARAMETER, "the request asks for too much at once");
        return;
    }
    wr_error(req->id, "%s %s: %s", req->op, req->collection, err.msg);
    reply_error(out, rc == WR_EBUSY ? 503 : 500,
                rc == WR_EBUSY ? WR_CODE_UNAVAILABLE : WR_CODE_INTERNAL,
                rc == WR_EBUSY ? "the database is busy" : "internal error");
}
