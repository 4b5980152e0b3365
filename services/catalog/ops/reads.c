/* Reads (see reads.h): lists without a search, objects, relations. Every
 * statement is the plan's, built at start-up. */
#include "ops/reads.h"

#include <stdio.h>
#include <string.h>

#include "ops/export.h"
#include "ops/reqkey.h"
#include "ops/rows.h"
#include "ops/search.h"
#include "ops/write_tx.h"
#include "warren/json.h"

int reads_list(const struct handler_env *env, const struct collection *c,
               const struct wr_request *req, const char *base_url, struct wr_answer *out,
               struct wr_err *err)
{
    if (req->format != NULL)
        return export_chunk(env, c, req, base_url, out, err);
    if (req->q != NULL || req->after != NULL || req->before != NULL)
        return search_list(env, c, req, base_url, out, err);
    const struct plan_coll *pc = plan_coll_at(env->plan, schema_index(env->schema, c));
    struct rows_list list = {
        .count = pc->count, .page = pc->list, .from = pc->list_from, .after = pc->list_after};
    struct page pg;
    int rc = rows_page(env, c, &list, NULL, 0, req, &pg, out, err);
    rows_link(out, base_url, c, req, &pg);
    out->status = 200;
    return rc;
}

/* The row of c with the request's id, as an object or its relation. */
struct found {
    const struct handler_env *env;
    const struct collection *coll;
    struct wr_answer *out;
    const struct wr_request *req;
    const char *base_url;
    bool hit;
    struct wr_err *err;
};

/* The relation the request names, of the row found: a to-one as the
 * object (or null), a to-many as a page. */
static int related_of_row(struct found *f, const struct value *row)
{
    const struct handler_env *env = f->env;
    const struct relation *r = schema_relation(f->coll, f->req->relation);
    size_t ri = (size_t)(r - f->coll->rels);
    const struct plan_coll *pc = plan_coll_at(env->plan, schema_index(env->schema, f->coll));
    const struct collection *target = schema_at(env->schema, r->target);
    struct value key[SCHEMA_MAX_KEY_COLS + 2] = {{.kind = V_NULL}};
    bool any = rows_relation_key(r, row, key);
    if (!r->to_many) {
        struct rows x = {.env = env,
                         .coll = target,
                         .out = &f->out->body,
                         .depth = reqkey_depth(target, f->req),
                         .err = f->err};
        int rc =
            any ? store_query(env->store, pc->rel_all[ri], key, r->nkeys, rows_on_row, &x, f->err)
                : 0;
        if (x.count == 0)
            wr_json_null(&f->out->body);
        f->out->rows = (long long)x.count;
        return rc;
    }
    if (!any) /* a NULL referenced key: no rows can match */
        key[0] = (struct value){.kind = V_NULL};
    struct rows_list list = {.count = pc->rel_count[ri],
                             .page = pc->rel_page[ri],
                             .from = pc->rel_from[ri],
                             .after = pc->rel_after[ri]};
    struct page pg;
    int rc = rows_page(env, target, &list, key, r->nkeys, f->req, &pg, f->out, f->err);
    rows_link(f->out, f->base_url, f->coll, f->req, &pg);
    return rc;
}

static int on_found(void *arg, const struct value *row, size_t ncols)
{
    struct found *f = arg;
    f->hit = true;
    if (strcmp(f->req->op, WR_OP_GET) == 0) {
        struct rows x = {.env = f->env,
                         .coll = f->coll,
                         .out = &f->out->body,
                         .depth = reqkey_depth(f->coll, f->req),
                         .err = f->err};
        f->out->rows = 1;
        return rows_on_row(&x, row, ncols);
    }
    return related_of_row(f, row);
}

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
        plan_related_count(&sql, c, r, t);
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
    return reads_get(env, t, &get, base_url, out, err);
}

int reads_get(const struct handler_env *env, const struct collection *c,
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
    const struct plan_coll *pc = plan_coll_at(env->plan, schema_index(env->schema, c));
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

void reads_object(const struct handler_env *env, const struct collection *c, const char *key,
                  const char *base_url, int status, const char *id, struct wr_answer *out)
{
    if (write_tx_defer_read(env, c, key, status, out))
        return; /* in a batch: read once it committed */
    struct wr_request get = {.op = WR_OP_GET, .collection = c->name, .key = key};
    (void)snprintf(get.id, sizeof(get.id), "%s", id ? id : "");
    struct wr_err err = {0};
    wr_answer_reset(out);
    int rc = store_begin(env->store, &err);
    if (rc == 0)
        rc = reads_get(env, c, &get, base_url, out, &err);
    store_end(env->store);
    op_finish(&get, rc, &err, out);
    if (out->status == 200)
        out->status = status;
}
