/* Batches of writes (see batch.h): the operations checked, then each run
 * by the write op it names on a copy of the environment whose deferred
 * transaction (write_tx.h) keeps them from beginning, committing or
 * reading back; the batch begins (recording its request id), commits and
 * reads back once. */
#include "ops/batch.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/reads.h"
#include "ops/write_ledger.h"
#include "ops/write_replay.h"
#include "ops/write_tx.h"
#include "ops/writes.h"
#include "warren/codec.h"
#include "warren/json.h"

#define NAME_MAX_LEN 128
#define KEY_MAX_LEN 1024
#define RECORD_MAX ((size_t)64 << 20)

/* One operation of a batch, as checked. */
struct batch_op {
    const char *method; /* POST, PATCH, PUT, DELETE (borrowed from the body) */
    const char *op;     /* the write op it is: WR_OP_CREATE, _UPDATE, _DELETE */
    char collection[NAME_MAX_LEN + 1];
    char key[KEY_MAX_LEN + 1];
    char relation[NAME_MAX_LEN + 1];
    char related[KEY_MAX_LEN + 1];
    char *body; /* its body as JSON text (malloc'd), or NULL */
    const struct collection *c;
};

/* The next path segment at *p, percent-decoded into out (cap bytes):
 * false when it is empty, too long, or decodes to a '/', a NUL, invalid
 * UTF-8, '.' or '..'. */
static bool segment(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    size_t n = strcspn(s, "/");
    *p = s + n + (s[n] == '/' ? 1 : 0);
    if (!wr_pct_decode(s, n, out, cap, false))
        return false;
    size_t j = strlen(out);
    return j > 0 && strchr(out, '/') == NULL && wr_utf8_valid(out, j) && strcmp(out, ".") != 0 &&
           strcmp(out, "..") != 0;
}

/* path into o: /api/<c>[/<id>[/<relation>/<related id>]]; the number of
 * segments, or 0 when it is none of these. */
static int parse_path(const char *path, struct batch_op *o)
{
    if (strncmp(path, "/api/", 5) != 0 || strchr(path, '?') != NULL ||
        path[strlen(path) - 1] == '/')
        return 0;
    const char *p = path + 5;
    char *slots[] = {o->collection, o->key, o->relation, o->related};
    size_t caps[] = {sizeof(o->collection), sizeof(o->key), sizeof(o->relation),
                     sizeof(o->related)};
    int n = 0;
    while (*p != '\0') {
        if (n == 4 || !segment(&p, slots[n], caps[n]))
            return 0;
        n++;
    }
    return n == 3 ? 0 : n;
}

/* The write op of method on a path of nseg segments, or NULL. */
static const char *write_op(const char *method, int nseg)
{
    if (strcmp(method, "POST") == 0)
        return nseg == 1 ? WR_OP_CREATE : NULL;
    if (strcmp(method, "PATCH") == 0 || strcmp(method, "PUT") == 0)
        return nseg <= 2 ? WR_OP_UPDATE : NULL;
    if (strcmp(method, "DELETE") == 0)
        return WR_OP_DELETE;
    return NULL;
}

/* Operation j of the body into o; NULL, or why it cannot be run. */
static const char *check_op(const struct handler_env *env, json_t *j, struct batch_op *o)
{
    if (!json_is_object(j))
        return "must be an object {\"method\", \"path\", \"body\"}";
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (strcmp(k, "method") != 0 && strcmp(k, "path") != 0 && strcmp(k, "body") != 0)
            return "takes only method, path and body";
    }
    o->method = json_string_value(json_object_get(j, "method"));
    const char *path = json_string_value(json_object_get(j, "path"));
    json_t *body = json_object_get(j, "body");
    if (o->method == NULL || path == NULL)
        return "needs a method and a path (strings)";
    if (strcmp(o->method, "GET") == 0 || strcmp(o->method, "HEAD") == 0)
        return "a batch writes: reads are not taken (GET them apart)";
    int nseg = parse_path(path, o);
    if (nseg == 0)
        return "path: not /api/<collection>[/<id>[/<relation>/<related id>]] (no query)";
    o->op = write_op(o->method, nseg);
    if (o->op == NULL)
        return "method: not one that writes this path (POST /api/<c>; PATCH, PUT /api/<c>[/<id>]; "
               "DELETE /api/<c>[/<id>[/<relation>/<related id>]])";
    bool wants_body = strcmp(o->op, WR_OP_DELETE) != 0;
    if (wants_body != json_is_object(body) || (!wants_body && body != NULL))
        return wants_body ? "body: must be one JSON object" : "body: DELETE takes none";
    o->c = schema_find(env->schema, o->collection);
    if (o->c == NULL)
        return "path: no such collection";
    o->body = wants_body ? json_dumps(body, JSON_COMPACT) : NULL;
    return wants_body && o->body == NULL ? "out of memory" : NULL;
}

/* A 400 naming operation i: {"code","message","operation"}. */
static void refuse(struct wr_answer *out, size_t i, const char *code, const char *why)
{
    char msg[600];
    (void)snprintf(msg, sizeof(msg), "operation %zu: %s", i, why);
    wr_answer_reset(out);
    out->status = 400;
    wr_buf_puts(&out->body, "{\"code\":");
    wr_json_cstr(&out->body, code);
    wr_buf_puts(&out->body, ",\"message\":");
    wr_json_cstr(&out->body, msg);
    wr_buf_printf(&out->body, ",\"operation\":%zu}\n", i);
}

/* The batch failed at operation i, whose answer is failed: that answer
 * (status, code, its validation_errors...) with "operation": i, and the
 * message saying nothing was applied. But a 405 (the collection's METHODS
 * refuse the operation's method) is a 403 forbidden naming the methods
 * it takes: /api/_batch itself takes the POST, so a 405 there would be
 * false (and its Allow would describe another path). */
static void failed_at(struct wr_answer *out, size_t i, const struct wr_answer *failed)
{
    json_t *e = json_loadb(failed->body.data ? failed->body.data : "", failed->body.len, 0, NULL);
    if (!json_is_object(e))
        e = json_pack("{s:s,s:s}", "code", WR_CODE_INTERNAL, "message", "internal error");
    const char *why = json_string_value(json_object_get(e, "message"));
    char msg[700];
    int status = failed->status;
    if (status == 405) {
        status = 403;
        (void)json_object_set_new(e, "code", json_string(WR_CODE_FORBIDDEN));
        (void)snprintf(msg, sizeof(msg),
                       "operation %zu: the collection does not take this method (it takes %s) "
                       "(no operation was applied)",
                       i, failed->allow);
    } else {
        (void)snprintf(msg, sizeof(msg), "operation %zu: %s (no operation was applied)", i,
                       why != NULL ? why : "failed");
    }
    (void)json_object_set_new(e, "message", json_string(msg));
    (void)json_object_set_new(e, "operation", json_integer((json_int_t)i));
    wr_answer_reset(out);
    out->status = status;
    wr_json_value(&out->body, e);
    wr_buf_putc(&out->body, '\n');
    json_decref(e);
}

/* The outcome of operation o (on collection c) into the record:
 * {"body","collection","key","method","status"}, body the answer's JSON
 * (null for none), collection and key the object to read back after the
 * commit (null for none). */
static void record_op(struct wr_buf *r, const struct batch_op *o, const struct collection *c,
                      const struct wr_answer *a, const struct write_tx *tx)
{
    wr_buf_puts(r, "{\"body\":");
    if (!tx->readback && a->body.len > 1)
        wr_buf_append(r, a->body.data, a->body.len - 1); /* its newline dropped */
    else
        wr_json_null(r);
    wr_buf_puts(r, ",\"collection\":");
    wr_json_cstr(r, c->name);
    wr_buf_puts(r, ",\"key\":");
    if (tx->readback)
        wr_json_cstr(r, tx->readback_key);
    else
        wr_json_null(r);
    wr_buf_puts(r, ",\"method\":");
    wr_json_cstr(r, o->method);
    wr_buf_printf(r, ",\"status\":%d}", a->status);
}

/* Operation o on collection c, answered a, in the audit record's detail:
 * {"collection","id","method","status"}, id the object's (a created one's
 * new key) or null. */
static void detail_op(struct wr_buf *d, const struct batch_op *o, const struct collection *c,
                      const struct wr_answer *a, const struct write_tx *tx)
{
    wr_buf_puts(d, d->len > 0 ? ",{\"collection\":" : "{\"collection\":");
    wr_json_cstr(d, c->name);
    wr_buf_puts(d, ",\"id\":");
    if (tx->readback)
        wr_json_cstr(d, tx->readback_key);
    else if (o->key[0] != '\0')
        wr_json_cstr(d, o->key);
    else
        wr_json_null(d);
    wr_buf_puts(d, ",\"method\":");
    wr_json_cstr(d, o->method);
    wr_buf_printf(d, ",\"status\":%d}", a->status);
}

/* Runs operation o (index i) in the deferred transaction of benv; false
 * when it failed (out answered, the transaction rolled back) or *rc holds
 * an error. Either way it joins the audit detail d. */
static bool run_op(const struct handler_env *benv, const struct wr_request *req,
                   const char *base_url, struct batch_op *o, struct wr_answer *a,
                   struct wr_buf *record, struct wr_buf *d, int *rc, struct wr_err *err)
{
    /* check_op found each operation's collection; kept in a local, which
     * the analysers can follow through the calls below */
    const struct collection *c = o->c;
    if (c == NULL) {
        *rc = wr_err_set(err, WR_EINVAL, "batch: an operation was not checked");
        return false;
    }
    struct wr_request sub = {.op = o->op,
                             .collection = c->name,
                             .key = o->key[0] ? o->key : NULL,
                             .relation = o->relation[0] ? o->relation : NULL,
                             .related_id = o->related[0] ? o->related : NULL,
                             .body = o->body};
    (void)snprintf(sub.id, sizeof(sub.id), "%s", req->id);
    benv->tx->readback = false;
    wr_answer_reset(a);
    *rc = strcmp(o->op, WR_OP_CREATE) == 0   ? write_create(benv, c, &sub, base_url, a, err)
          : strcmp(o->op, WR_OP_UPDATE) == 0 ? write_update(benv, c, &sub, base_url, a, err)
                                             : write_delete(benv, c, &sub, base_url, a, err);
    detail_op(d, o, c, a, benv->tx);
    if (*rc != 0 || a->status >= 400 || a->status == 0)
        return false;
    record_op(record, o, c, a, benv->tx);
    return true;
}

/* One operation's result in the answer: its body (an object read now,
 * or the body recorded) and its status. */
static void answer_op(const struct handler_env *env, const struct wr_request *req,
                      const char *base_url, json_t *op, struct wr_answer *tmp, struct wr_buf *b)
{
    json_t *body = json_object_get(op, "body");
    const char *key = json_string_value(json_object_get(op, "key"));
    const struct collection *c =
        schema_find(env->schema, json_string_value(json_object_get(op, "collection"))
                                     ? json_string_value(json_object_get(op, "collection"))
                                     : "");
    int status = (int)json_integer_value(json_object_get(op, "status"));
    wr_buf_puts(b, "{\"body\":");
    if (key != NULL && c != NULL) {
        reads_object(env, c, key, base_url, status, req->id, tmp);
        /* gone since (a later operation deleted it): null */
        if (tmp->status == status && tmp->body.len > 1)
            wr_buf_append(b, tmp->body.data, tmp->body.len - 1);
        else
            wr_json_null(b);
    } else if (body != NULL && !json_is_null(body)) {
        wr_json_value(b, body);
    } else {
        wr_json_null(b);
    }
    wr_buf_printf(b, ",\"status\":%d}", status);
}

/* The answer of a batch from its record (the first one's or a
 * redelivery's): {"results":[...]}, each object read after the commit. */
static void answer(const struct handler_env *env, const struct wr_request *req,
                   const char *base_url, int status, const char *record, struct wr_answer *out)
{
    json_t *r = json_loads(record, 0, NULL);
    json_t *ops = json_object_get(r, "ops");
    struct wr_answer tmp;
    wr_answer_init(&tmp, out->body.max);
    wr_answer_reset(out);
    if (!json_is_array(ops)) {
        wr_answer_error(out, 500, WR_CODE_INTERNAL, "internal error");
    } else {
        out->status = status;
        out->rows = (long long)json_array_size(ops);
        wr_buf_puts(&out->body, "{\"results\":[");
        size_t i;
        json_t *op;
        json_array_foreach(ops, i, op) {
            if (i > 0)
                wr_buf_putc(&out->body, ',');
            answer_op(env, req, base_url, op, &tmp, &out->body);
        }
        wr_buf_puts(&out->body, "]}\n");
        if (wr_buf_error(&out->body) != 0)
            wr_answer_error(out, 413, WR_CODE_PAYLOAD_TOO_LARGE, "the answer is too large");
    }
    wr_answer_release(&tmp);
    json_decref(r);
}

void batch_again(const struct handler_env *env, const struct wr_request *req, const char *base_url,
                 int status, const char *record, struct wr_answer *out)
{
    answer(env, req, base_url, status, record, out);
}

/* Every operation checked into ops (the list's shape the edge checked
 * too, but not every caller is the edge), their number into *n (1 to
 * WR_BATCH_MAX); false after answering 400 / 413. */
static bool check_all(const struct handler_env *env, json_t *list, struct batch_op *ops, size_t *n,
                      struct wr_answer *out)
{
    *n = 0;
    if (!json_is_array(list) || json_array_size(list) == 0) {
        wr_answer_error(out, 400, WR_CODE_BAD_REQUEST,
                        "body: must be a list of 1 to 100 operations");
        return false;
    }
    if (json_array_size(list) > WR_BATCH_MAX) {
        wr_answer_error(out, 413, WR_CODE_PAYLOAD_TOO_LARGE,
                        "body: more than 100 operations in a batch");
        return false;
    }
    size_t i;
    json_t *j;
    json_array_foreach(list, i, j) {
        const char *why = check_op(env, j, &ops[i]);
        if (why != NULL) {
            refuse(out, i, WR_CODE_BAD_REQUEST, why);
            return false;
        }
        *n = i + 1;
    }
    return *n > 0;
}

/* Runs the n checked operations in one transaction and commits it with
 * the batch's record; 0 with the record in record, or after answering
 * (out->status set), or an error (rolled back). */
static int run_all(const struct handler_env *env, const struct wr_request *req,
                   const char *base_url, struct batch_op *ops, size_t n, struct wr_buf *record,
                   struct wr_buf *detail, struct wr_answer *out, struct wr_err *err)
{
    struct write_tx tx = {.deferred = true};
    struct handler_env benv = *env;
    benv.tx = &tx;
    const struct collection *first = n > 0 ? ops[0].c : NULL; /* check_all set it */
    if (first == NULL)
        return wr_err_set(err, WR_EINVAL, "batch: no checked operation");
    int rc = write_begin_once(env, first, req, base_url, out, err);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    struct wr_answer a;
    wr_answer_init(&a, out->body.max);
    wr_buf_puts(record, "{\"ops\":[");
    bool ok = true;
    for (size_t i = 0; i < n && ok && rc == 0; i++) {
        if (i > 0)
            wr_buf_putc(record, ',');
        ok = run_op(&benv, req, base_url, &ops[i], &a, record, detail, &rc, err);
        if (!ok && rc == 0)
            failed_at(out, i, &a);
    }
    wr_answer_release(&a);
    wr_buf_puts(record, "]}");
    if (!ok || rc != 0) {
        store_rollback(env->writer);
        return rc;
    }
    if (wr_buf_error(record) != 0) {
        store_rollback(env->writer);
        return wr_err_set(err, WR_ETOOBIG, "batch: its record is too large");
    }
    rc = write_replay_record(env, req->id, record->data, record->len, err);
    if (rc != 0) {
        store_rollback(env->writer);
        return write_failed(env, rc, err, out);
    }
    rc = write_finish(env, first, req, 200, NULL, NULL, out, err);
    if (rc == 0 && out->status == 0)
        write_tx_bump_all(env, &tx, first->table); /* write_finish bumped that one */
    return rc;
}

int batch_run(const struct handler_env *env, const struct wr_request *req, const char *base_url,
              struct wr_answer *out, struct wr_err *err)
{
    if (env->writer == NULL) {
        wr_answer_error(out, 503, WR_CODE_UNAVAILABLE, "the database cannot be written here");
        return 0;
    }
    json_t *list = json_loads(req->body, JSON_REJECT_DUPLICATES, NULL);
    struct batch_op *ops = calloc(WR_BATCH_MAX, sizeof(*ops));
    struct wr_buf record, detail;
    wr_buf_init(&record, RECORD_MAX);
    wr_buf_init(&detail, WR_ANSWER_DETAIL_MAX - 64);
    int rc = ops != NULL ? 0 : wr_err_set(err, WR_ENOMEM, "out of memory");
    size_t n = 0;
    if (ops != NULL && check_all(env, list, ops, &n, out)) {
        rc = run_all(env, req, base_url, ops, n, &record, &detail, out, err);
        bool applied = rc == 0 && out->status == 0;
        if (applied)
            answer(env, req, base_url, 200, record.data, out);
        /* the audit record lists every operation run (up to a failed one) */
        if (rc == 0 && detail.len > 0) {
            wr_buf_printf(&out->detail, "{\"applied\":%s,\"operations\":[",
                          applied ? "true" : "false");
            wr_buf_append(&out->detail, detail.data, detail.len);
            wr_buf_puts(&out->detail, "]}");
        }
    }
    wr_buf_release(&detail);
    for (size_t i = 0; ops != NULL && i < WR_BATCH_MAX; i++)
        free(ops[i].body);
    free(ops);
    wr_buf_release(&record);
    json_decref(list);
    return rc;
}
