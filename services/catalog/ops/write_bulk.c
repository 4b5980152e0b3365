/* Bulk creates and upserts (see write_bulk.h): every object checked, then
 * written one by one inside one transaction with the steps a create
 * takes (to-ones, the row, to-manys), then the answer read after the
 * commit from the record of the keys written. */
#include "ops/write_bulk.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conflict.h"
#include "ops/reads.h"
#include "ops/rows.h"
#include "ops/write_body.h"
#include "ops/write_ledger.h"
#include "ops/write_relations.h"
#include "ops/write_replay.h"
#include "ops/write_tx.h"
#include "ops/writes.h"
#include "sql/write_sql.h"
#include "warren/json.h"

#define RECORD_MAX ((size_t)64 << 20)
#define KEY_TEXT 1100

/* Whether the body is a list: its first character that is no space. */
static bool body_is_list(const struct wr_request *req)
{
    const char *b = req->body != NULL ? req->body : "";
    return b[strspn(b, " \t\r\n")] == '[';
}

bool write_bulk_wanted(const struct wr_request *req)
{
    return req->prefer_return != NULL || req->resolution != NULL || body_is_list(req);
}

/* One bulk create under way. */
struct bulk {
    const struct handler_env *env; /* with the transaction's tx */
    const struct collection *c;
    bool list;            /* the body is a list (else one object) */
    bool upsert;          /* resolution=merge-duplicates */
    struct assignment *a; /* one object's columns and values, reused */
    json_t *errors;       /* validation_errors: by index for a list */
    long long created, updated;
    struct wr_buf keys; /* the record's "keys": JSON strings, comma-separated */
    char key[KEY_TEXT]; /* the last object's id */
    size_t failed_at;   /* the object a write step failed on */
};

/* Where object i's problems go: under its index for a list. */
static json_t *errors_of(struct bulk *b, size_t i)
{
    if (!b->list)
        return b->errors;
    char at[24];
    (void)snprintf(at, sizeof(at), "%zu", i);
    json_t *e = json_object_get(b->errors, at);
    if (e == NULL) {
        e = json_object();
        (void)json_object_set_new(b->errors, at, e);
    }
    return e;
}

/* Object o (index i) read into b->a; its problems recorded. */
static void take(struct bulk *b, json_t *o, size_t i)
{
    b->a->n = 0;
    b->a->nrels = 0;
    if (!json_is_object(o)) {
        char at[24];
        (void)snprintf(at, sizeof(at), "%zu", i);
        write_invalid(b->errors, at, "must be an object");
        return;
    }
    json_t *errs = json_object();
    write_body_object(b->c, o, false, true, b->a, errs);
    if (json_object_size(errs) > 0)
        (void)json_object_update(errors_of(b, i), errs);
    json_decref(errs);
}

/* Every object, checked before anything is written: false when one has a
 * problem (b->errors says which). */
static bool check_all(struct bulk *b, json_t *root)
{
    size_t n = b->list ? json_array_size(root) : 1;
    for (size_t i = 0; i < n; i++)
        take(b, b->list ? json_array_get(root, i) : root, i);
    return json_object_size(b->errors) == 0;
}

/* Whether a sets every key column of c (its values into keys). */
static bool keyed(const struct collection *c, const struct assignment *a, struct value *keys)
{
    for (size_t k = 0; k < c->npk; k++) {
        bool given = false;
        for (size_t i = 0; i < a->n && !given; i++) {
            given = a->idx[i] == c->pk[k];
            if (given)
                keys[k] = a->values[i];
        }
        if (!given)
            return false;
    }
    return true;
}

static int found_row(void *arg, const struct value *row, size_t ncols)
{
    (void)row;
    (void)ncols;
    *(bool *)arg = true;
    return 0;
}

/* An upsert of b->a's row, whose key is keys: whether it existed, then
 * INSERT ... ON CONFLICT DO UPDATE. */
static int upsert_row(struct bulk *b, const struct value *keys, bool *existed, struct wr_err *err)
{
    const struct handler_env *env = b->env;
    const struct plan_coll *pc = plan_coll_at(env->plan, schema_index(env->schema, b->c));
    *existed = false;
    int rc = store_query(env->writer, pc->get, keys, b->c->npk, found_row, existed, err);
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)64 * 1024);
    write_sql_upsert(&sql, b->c, b->a->idx, b->a->n);
    if (rc == 0)
        rc = store_exec(env->writer, sql.data, b->a->values, b->a->n, NULL, err);
    wr_buf_release(&sql);
    return rc;
}

/* Writes object o (index i) with a create's steps; its key joins the record. */
static int write_one(struct bulk *b, json_t *o, size_t i, struct wr_err *err)
{
    const struct handler_env *env = b->env;
    struct assignment *a = b->a;
    json_t *errs = json_object();
    take(b, o, i); /* checked already: it reads again without a problem */
    struct value keys[SCHEMA_MAX_KEY_COLS];
    int rc = errs != NULL ? write_rel_to_ones(env, b->c, a, errs, err) : WR_ENOMEM;
    bool existed = false;
    if (rc == 0 && b->upsert && keyed(b->c, a, keys))
        rc = upsert_row(b, keys, &existed, err);
    else if (rc == 0)
        rc = write_insert(env, b->c, a, keys, errs, err);
    if (rc == 0)
        rc = write_rel_to_manys(env, b->c, a, keys, errs, err);
    if (rc == WR_EINVAL)
        (void)json_object_update(errors_of(b, i), errs);
    json_decref(errs);
    if (rc != 0) {
        b->failed_at = i;
        return rc;
    }
    write_rel_bump(env, a);
    *(existed ? &b->updated : &b->created) += 1;
    write_key_text(b->c, keys, b->key, sizeof(b->key));
    if (b->keys.len > 0)
        wr_buf_putc(&b->keys, ',');
    wr_json_cstr(&b->keys, b->key);
    return 0;
}

/* A failed write step: rolled back, answered (400, 409 naming the
 * object, 503), or returned for a 500. */
static int failed(struct bulk *b, int rc, const struct wr_err *err, struct wr_answer *out)
{
    store_rollback(b->env->writer);
    if (rc == WR_EINVAL) {
        write_reply_invalid(out, b->errors);
        return 0;
    }
    if (rc == WR_ECONFLICT && b->list) {
        /* SQLite's reason in the API's names, never a hidden column's */
        char words[512], msg[sizeof(words) + 32];
        conflict_message(b->env->schema, err->msg, words, sizeof(words));
        (void)snprintf(msg, sizeof(msg), "object %zu: %s", b->failed_at, words);
        wr_answer_error(out, 409, WR_CODE_CONFLICT, msg);
        return 0;
    }
    return write_failed(b->env, rc, err, out);
}

/* {"num_created": n} (and "num_updated" for an upsert) into out. */
static void reply_count(struct wr_answer *out, const struct wr_request *req, int status,
                        long long created, long long updated)
{
    wr_answer_reset(out);
    out->status = status;
    out->rows = created + updated;
    wr_buf_printf(&out->body, "{\"num_created\":%lld", created);
    if (req->resolution != NULL)
        wr_buf_printf(&out->body, ",\"num_updated\":%lld", updated);
    wr_buf_puts(&out->body, "}\n");
}

/* The objects with the ids in keys, as GET renders each, as a list. */
static int reply_objects(const struct handler_env *env, const struct collection *c, json_t *keys,
                         int status, struct wr_answer *out, struct wr_err *err)
{
    const struct plan_coll *pc = plan_coll_at(env->plan, schema_index(env->schema, c));
    struct wr_request get = {.op = WR_OP_GET, .collection = c->name};
    struct rows x = {.env = env, .coll = c, .out = &out->body, .depth = c->depth, .err = err};
    wr_answer_reset(out);
    wr_buf_putc(&out->body, '[');
    int rc = store_begin(env->store, err);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        struct value v[SCHEMA_MAX_KEY_COLS];
        char scratch[KEY_TEXT];
        if (rc == 0 && json_is_string(k) &&
            plan_parse_key(c, json_string_value(k), v, scratch, sizeof(scratch)))
            rc = store_query(env->store, pc->get, v, c->npk, rows_on_row, &x, err);
    }
    store_end(env->store);
    wr_buf_putc(&out->body, ']');
    out->rows = (long long)x.count;
    out->status = status;
    op_finish(&get, rc, err, out);
    return 0;
}

/* The answer of a bulk create from its record (the first one's, or a
 * redelivery's). */
static void answer(const struct handler_env *env, const struct collection *c,
                   const struct wr_request *req, const char *base_url, int status,
                   const char *record, struct wr_answer *out)
{
    json_t *r = json_loads(record, 0, NULL);
    json_t *keys = json_object_get(r, "keys");
    long long created = json_integer_value(json_object_get(r, "created"));
    long long updated = json_integer_value(json_object_get(r, "updated"));
    bool minimal = req->prefer_return != NULL && strcmp(req->prefer_return, "minimal") == 0;
    struct wr_err err = {0};
    if (!json_is_array(keys)) {
        wr_answer_error(out, 500, WR_CODE_INTERNAL, "internal error");
    } else if (body_is_list(req)) {
        if (minimal)
            reply_count(out, req, status, created, updated);
        else
            (void)reply_objects(env, c, keys, status, out, &err);
    } else { /* one object: as a create answers, Location too */
        const char *key = json_string_value(json_array_get(keys, 0));
        char location[1280] = "";
        write_location(c, base_url, key ? key : "", location, sizeof(location));
        if (minimal)
            reply_count(out, req, status, created, updated);
        else
            reads_object(env, c, key ? key : "", base_url, status, req->id, out);
        (void)snprintf(out->location, sizeof(out->location), "%s", location);
    }
    json_decref(r);
}

void write_bulk_again(const struct handler_env *env, const struct collection *c,
                      const struct wr_request *req, const char *base_url, int status,
                      const char *record, struct wr_answer *out)
{
    answer(env, c, req, base_url, status, record, out);
}

/* The objects written, in their transaction, then recorded and committed;
 * 0 with b's record in record, or after answering (out->status set). */
static int write_all(struct bulk *b, const struct wr_request *req, json_t *root, int *status,
                     struct wr_buf *record, struct wr_answer *out, struct wr_err *err)
{
    size_t n = b->list ? json_array_size(root) : 1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = write_one(b, b->list ? json_array_get(root, i) : root, i, err);
    if (rc != 0)
        return failed(b, rc, err, out);
    *status = !b->list && b->updated > 0 ? 200 : 201;
    wr_buf_printf(record, "{\"created\":%lld,\"keys\":[", b->created);
    wr_buf_append(record, b->keys.data ? b->keys.data : "", b->keys.len);
    wr_buf_printf(record, "],\"updated\":%lld}", b->updated);
    if (wr_buf_error(record) != 0) {
        store_rollback(b->env->writer);
        return wr_err_set(err, WR_ETOOBIG, "bulk create: its record is too large");
    }
    rc = write_replay_record(b->env, req->id, record->data, record->len, err);
    if (rc != 0)
        return failed(b, rc, err, out);
    return write_tx_finish(b->env, b->c, req, *status, b->list ? NULL : b->key, NULL, out, err);
}

/* The audit record's detail: {"num_created","num_updated","resolution",
 * "return"}, the last two as the Prefer header gave them. */
static void describe(const struct bulk *b, const struct wr_request *req, struct wr_answer *out)
{
    struct wr_buf *d = &out->detail;
    wr_buf_printf(d, "{\"num_created\":%lld,\"num_updated\":%lld", b->created, b->updated);
    if (req->resolution != NULL) {
        wr_buf_puts(d, ",\"resolution\":");
        wr_json_cstr(d, req->resolution);
    }
    if (req->prefer_return != NULL) {
        wr_buf_puts(d, ",\"return\":");
        wr_json_cstr(d, req->prefer_return);
    }
    wr_buf_putc(d, '}');
}

/* POST and, for an upsert, PATCH or PUT in c's METHODS; else 405 / 503. */
static bool allowed(const struct handler_env *env, const struct collection *c, bool upsert,
                    struct wr_answer *out)
{
    if (!write_allowed(env, c, METHOD_POST, out))
        return false;
    if (!upsert || write_allowed(env, c, METHOD_PATCH | METHOD_PUT, out))
        return true;
    char allow[sizeof(out->allow)];
    (void)snprintf(allow, sizeof(allow), "%s", out->allow);
    wr_answer_error(out, 405, WR_CODE_METHOD_NOT_ALLOWED,
                    "an upsert (Prefer: resolution=merge-duplicates) updates objects: it needs "
                    "PATCH or PUT in the collection's METHODS too");
    (void)snprintf(out->allow, sizeof(out->allow), "%s", allow);
    return false;
}

/* The body parsed and its length checked; NULL after answering. */
static json_t *parse_body(const struct handler_env *env, const struct wr_request *req,
                          struct wr_answer *out)
{
    json_t *root = json_loads(req->body, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root) && !json_is_array(root)) {
        wr_answer_error(out, 400, WR_CODE_BAD_REQUEST,
                        "body: must be one JSON object or a list of objects");
        json_decref(root);
        return NULL;
    }
    if (json_is_array(root) && json_array_size(root) > (size_t)env->max_bulk) {
        char msg[128];
        (void)snprintf(msg, sizeof(msg), "body: a list of %zu objects, more than MAX_BULK (%ld)",
                       json_array_size(root), env->max_bulk);
        wr_answer_error(out, 413, WR_CODE_PAYLOAD_TOO_LARGE, msg);
        json_decref(root);
        return NULL;
    }
    return root;
}

int write_bulk(const struct handler_env *env, const struct collection *c,
               const struct wr_request *req, const char *base_url, struct wr_answer *out,
               struct wr_err *err)
{
    bool upsert = req->resolution != NULL;
    if (!allowed(env, c, upsert, out))
        return 0;
    json_t *root = parse_body(env, req, out);
    if (root == NULL)
        return 0;
    struct write_tx tx = {0};
    struct handler_env benv = *env;
    benv.tx = &tx;
    struct bulk b = {.env = &benv,
                     .c = c,
                     .list = json_is_array(root),
                     .upsert = upsert,
                     .a = calloc(1, sizeof(*b.a)),
                     .errors = json_object()};
    wr_buf_init(&b.keys, RECORD_MAX);
    struct wr_buf record;
    wr_buf_init(&record, RECORD_MAX);
    bool allocated = b.a != NULL && b.errors != NULL;
    int rc = allocated ? 0 : wr_err_set(err, WR_ENOMEM, "out of memory");
    if (allocated && !check_all(&b, root)) {
        write_reply_invalid(out, b.errors);
    } else if (allocated) {
        int status = 201;
        rc = write_tx_begin(env, c, req, base_url, out, err);
        if (rc == 0)
            rc = write_all(&b, req, root, &status, &record, out, err);
        if (rc == 0 && out->status == 0) {
            write_tx_bump_all(env, &tx, c->table); /* write_finish bumped c's */
            answer(env, c, req, base_url, status, record.data, out);
            describe(&b, req, out);
        }
        rc = rc > 0 ? 0 : rc;
    }
    wr_buf_release(&record);
    wr_buf_release(&b.keys);
    json_decref(b.errors);
    free(b.a);
    json_decref(root);
    return rc;
}
