/* Create, update and delete of one object (see writes.h): the steps of a
 * write in its transaction. SQL texts are sql/write_sql.h's, built from the
 * schema's identifiers only; every value from the body is bound. */
#include "ops/writes.h"

#include <stdio.h>
#include <stdlib.h>

#include "ops/reads.h"
#include "ops/render.h"
#include "ops/write_body.h"
#include "ops/write_bulk.h"
#include "ops/write_ledger.h"
#include "ops/write_tx.h"
#include "ops/write_many.h"
#include "ops/write_relations.h"
#include "sql/write_sql.h"

#define KEY_TEXT 1100
#define LOCATION_TEXT 1280

void write_key_text(const struct collection *c, const struct value *keys, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < c->npk && n < cap; k++) {
        const struct value *v = &keys[k];
        int w = v->kind == V_INT ? snprintf(out + n, cap - n, "%s%lld", k ? "," : "", v->i)
                                 : snprintf(out + n, cap - n, "%s%.*s", k ? "," : "", (int)v->n,
                                            v->s ? v->s : "");
        n += w > 0 ? (size_t)w : 0;
    }
}

void write_location(const struct collection *c, const char *base_url, const char *key, char *out,
                    size_t cap)
{
    struct wr_buf b;
    wr_buf_init(&b, cap - 1);
    render_collection_url(&b, base_url, c->name);
    wr_buf_putc(&b, '/');
    render_path_segment(&b, key);
    (void)snprintf(out, cap, "%s", wr_buf_error(&b) == 0 && b.data ? b.data : "");
    wr_buf_release(&b);
}

/* The steps of a create inside its transaction: to-ones, the row, the
 * to-manys, the commit; then the object read back. */
static int create(const struct handler_env *env, const struct collection *c,
                  const struct wr_request *req, const char *base_url, struct assignment *a,
                  json_t *errors, struct wr_answer *out, struct wr_err *err)
{
    struct value keys[SCHEMA_MAX_KEY_COLS];
    char key[KEY_TEXT] = "", location[LOCATION_TEXT] = "";
    int rc = write_rel_to_ones(env, c, a, errors, err);
    if (rc == 0)
        rc = write_insert(env, c, a, keys, errors, err);
    if (rc == 0)
        rc = write_rel_to_manys(env, c, a, keys, errors, err);
    if (rc != 0)
        return write_rel_failed(env, rc, errors, err, out);
    write_key_text(c, keys, key, sizeof(key));
    write_location(c, base_url, key, location, sizeof(location));
    rc = write_tx_finish(env, c, req, 201, key, location, out, err);
    if (rc != 0 || out->status != 0)
        return rc;
    write_rel_bump(env, a);
    reads_object(env, c, key, base_url, 201, req->id, out);
    (void)snprintf(out->location, sizeof(out->location), "%s", location);
    return 0;
}

int write_create(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err)
{
    if (write_bulk_wanted(req))
        return write_bulk(env, c, req, base_url, out, err);
    struct assignment *a = calloc(1, sizeof(*a));
    json_t *errors = json_object();
    int rc = a == NULL || errors == NULL ? wr_err_set(err, WR_ENOMEM, "out of memory") : 0;
    if (rc == 0 && write_allowed(env, c, METHOD_POST, out) &&
        write_body_parse(c, req->body, false, a, out) == 0) {
        rc = write_tx_begin(env, c, req, base_url, out, err);
        if (rc == 0)
            rc = create(env, c, req, base_url, a, errors, out, err);
        else if (rc > 0)
            rc = 0;
    }
    write_body_release(a);
    free(a);
    json_decref(errors);
    return rc;
}

/* The steps of an update (a set) or delete (a NULL) of the object with
 * key keys inside its transaction; 404 when none. */
static int change_steps(const struct handler_env *env, const struct collection *c,
                        const struct wr_request *req, const char *base_url, struct assignment *a,
                        const struct value *keys, json_t *errors, struct wr_answer *out,
                        struct wr_err *err)
{
    bool del = a == NULL;
    int rc = del ? 0 : write_rel_to_ones(env, c, a, errors, err);
    struct value binds[WRITE_MAX_VALUES + SCHEMA_MAX_KEY_COLS];
    size_t n = del ? 0 : a->n;
    for (size_t i = 0; i < n; i++)
        binds[i] = a->values[i];
    for (size_t k = 0; k < c->npk; k++)
        binds[n + k] = keys[k];
    long long changed = 0;
    if (rc == 0) {
        struct wr_buf sql;
        wr_buf_init(&sql, (size_t)64 * 1024);
        write_sql_change_one(&sql, c, del, del ? NULL : a->idx, n);
        rc = store_exec(env->writer, sql.data, binds, n + c->npk, &changed, err);
        wr_buf_release(&sql);
    }
    if (rc == 0 && changed == 0) {
        store_rollback(env->writer);
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such object");
        return 0;
    }
    if (rc == 0 && !del)
        rc = write_rel_to_manys(env, c, a, keys, errors, err);
    if (rc != 0)
        return write_rel_failed(env, rc, errors, err, out);
    rc = write_tx_finish(env, c, req, del ? 204 : 200, req->key, NULL, out, err);
    if (rc != 0 || out->status != 0)
        return rc;
    write_rel_bump(env, a);
    if (del) {
        wr_answer_reset(out);
        out->status = 204;
    } else {
        reads_object(env, c, req->key, base_url, 200, req->id, out);
    }
    return 0;
}

/* UPDATE or DELETE of the object with the request's id: 404 when none. */
static int change(const struct handler_env *env, const struct collection *c,
                  const struct wr_request *req, const char *base_url, struct assignment *a,
                  struct wr_answer *out, struct wr_err *err)
{
    char scratch[KEY_TEXT];
    struct value keys[SCHEMA_MAX_KEY_COLS];
    if (!plan_parse_key(c, req->key, keys, scratch, sizeof(scratch))) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such object");
        return 0;
    }
    int rc = write_tx_begin(env, c, req, base_url, out, err);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    json_t *errors = json_object();
    if (errors == NULL) {
        store_rollback(env->writer);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    rc = change_steps(env, c, req, base_url, a, keys, errors, out, err);
    json_decref(errors);
    return rc;
}

int write_update(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err)
{
    struct assignment *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = 0;
    if (req->key == NULL)
        rc = write_many(env, c, req, a, out, err);
    else if (write_allowed(env, c, METHOD_PATCH | METHOD_PUT, out) &&
             write_body_parse(c, req->body, true, a, out) == 0)
        rc = change(env, c, req, base_url, a, out, err);
    write_body_release(a);
    free(a);
    return rc;
}

int write_delete(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err)
{
    if (req->key == NULL)
        return write_many(env, c, req, NULL, out, err);
    if (req->related_id != NULL)
        return write_unlink_one(env, c, req, base_url, out, err);
    if (!write_allowed(env, c, METHOD_DELETE, out))
        return 0;
    return change(env, c, req, base_url, NULL, out, err);
}
