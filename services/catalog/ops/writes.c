/* Create, update and delete (see writes.h). SQL is built from the schema's
 * identifiers only; every value from the body is bound. */
#include "ops/writes.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/values.h"
#include "ops/apidoc.h"
#include "sql/plan.h"
#include "sql/query.h"
#include "ops/render.h"
#include "warren/json.h"
#include "warren/log.h"

#define MAX_VALUES 256

/* The Allow header of a 405: the HTTP methods METHODS lists (not its
 * PATCH_MANY / DELETE_MANY opt-ins), GET always. */
static void allow_header(const struct collection *c, struct wr_answer *out)
{
    static const unsigned http = METHOD_POST | METHOD_PATCH | METHOD_PUT | METHOD_DELETE;
    size_t n = (size_t)snprintf(out->allow, sizeof(out->allow), "GET");
    for (size_t i = 1; i < METHOD_COUNT && n < sizeof(out->allow); i++)
        if ((1u << i) & http & c->methods)
            n += (size_t)snprintf(out->allow + n, sizeof(out->allow) - n, ", %s",
                                  schema_method_name(i));
}

/* 405 or 503 when none of the methods in mask may write c here; false
 * then. */
static bool can_write(const struct handler_env *env, const struct collection *c, unsigned mask,
                      struct wr_answer *out)
{
    if (!schema_allows(c, mask)) {
        wr_answer_error(out, 405, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
        allow_header(c, out);
        return false;
    }
    if (env->writer == NULL) {
        wr_answer_error(out, 503, WR_CODE_UNAVAILABLE, "the database cannot be written here");
        return false;
    }
    return true;
}

/* A relation member of a body, applied after (to-many) or before (to-one)
 * the row itself. */
struct rel_member {
    const struct relation *rel;
    json_t *v;
};

#define MAX_REL_MEMBERS 32

/* The columns and values a body sets, checked against the collection. */
struct assignment {
    json_t *root;
    const struct column *cols[MAX_VALUES];
    size_t idx[MAX_VALUES];
    struct value values[MAX_VALUES];
    size_t n;
    struct rel_member rels[MAX_REL_MEMBERS];
    size_t nrels;
    /* one normalised date per value (model/values.h) */
    char scratch[MAX_VALUES][VALUE_SCRATCH]; /* Flawfinder: ignore - bounded by value_from_json */
};

static const struct column *find_column(const struct collection *c, const char *attr, size_t *idx)
{
    for (size_t i = 0; i < c->ncols; i++) {
        if (!c->cols[i].hidden && strcmp(c->cols[i].attr, attr) == 0) {
            *idx = i;
            return &c->cols[i];
        }
    }
    return NULL;
}

/* Whether v has the shape a relation member takes: to-one an object or
 * null; to-many a list of objects (set) or {"add": [...], "remove": [...]}. */
static const char *rel_shape(const struct relation *r, json_t *v)
{
    if (!r->to_many)
        return json_is_object(v) || json_is_null(v) ? NULL : "must be an object or null";
    json_t *lists[2] = {v, NULL};
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (strcmp(k, "add") != 0 && strcmp(k, "remove") != 0)
                return "takes only add and remove";
        }
        lists[0] = json_object_get(v, "add");
        lists[1] = json_object_get(v, "remove");
    } else if (!json_is_array(v)) {
        return "must be a list of objects, or {\"add\": [...], \"remove\": [...]}";
    }
    for (size_t l = 0; l < 2; l++) {
        if (lists[l] == NULL)
            continue;
        size_t i;
        json_t *o;
        if (!json_is_array(lists[l]))
            return "add and remove must be lists of objects";
        json_array_foreach(lists[l], i, o) {
            if (!json_is_object(o))
                return "must hold objects";
        }
    }
    return NULL;
}

/* Records one problem of a body under its member's name. */
static void invalid(json_t *errors, const char *name, const char *why)
{
    if (json_object_get(errors, name) == NULL)
        (void)json_object_set_new(errors, name, json_string(why));
}

/* Checks obj's members against c into a. Relations are taken when rels is
 * true (a top-level body), refused inside a nested object. */
static void parse_object(const struct collection *c, json_t *obj, bool update, bool rels,
                         struct assignment *a, json_t *errors)
{
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v) {
        size_t idx = 0;
        const struct column *col = find_column(c, name, &idx);
        const struct relation *rel = col == NULL ? schema_relation(c, name) : NULL;
        bool is_key = false;
        for (size_t k = 0; col != NULL && k < c->npk; k++)
            is_key = is_key || c->pk[k] == idx;
        if (rel != NULL && !rel->hidden && rels) {
            const char *why = rel_shape(rel, v);
            if (why != NULL)
                invalid(errors, name, why);
            else if (a->nrels == MAX_REL_MEMBERS)
                invalid(errors, name, "too many relations in one body");
            else
                a->rels[a->nrels++] = (struct rel_member){rel, v};
            continue;
        }
        if (col == NULL) {
            invalid(errors, name,
                    rel != NULL && !rel->hidden ? "relations can be nested one level only"
                                                : "is not an attribute of this collection");
            continue;
        }
        if (update && is_key) {
            invalid(errors, name, "is the primary key, which cannot change");
            continue;
        }
        if (a->n == MAX_VALUES) {
            invalid(errors, name, "too many members");
            continue;
        }
        const char *why =
            value_from_json(col->type, v, VALUE_STORE, &a->values[a->n], a->scratch[a->n]);
        if (why != NULL) {
            invalid(errors, name, why);
            continue;
        }
        a->cols[a->n] = col;
        a->idx[a->n++] = idx;
    }
}

/* 400 validation_failed with {"validation_errors": {member: problem}}. */
static void reply_invalid(struct wr_answer *out, json_t *errors)
{
    wr_answer_reset(out);
    out->status = 400;
    struct wr_buf *b = &out->body;
    wr_buf_puts(b, "{\"code\":\"" WR_CODE_VALIDATION_FAILED "\",\"message\":");
    wr_json_cstr(b, "the body is not valid: see validation_errors");
    wr_buf_puts(b, ",\"validation_errors\":");
    wr_json_value(b, errors);
    wr_buf_puts(b, "}\n");
}

static int parse_body(const struct collection *c, const char *body, bool update,
                      struct assignment *a, struct wr_answer *out)
{
    json_error_t jerr;
    a->root = json_loads(body, JSON_REJECT_DUPLICATES, &jerr);
    a->n = 0;
    a->nrels = 0;
    if (!json_is_object(a->root)) {
        wr_answer_error(out, 400, WR_CODE_BAD_REQUEST, "body: must be one JSON object");
        return WR_EINVAL;
    }
    json_t *errors = json_object();
    parse_object(c, a->root, update, true, a, errors);
    int rc = 0;
    if (errors == NULL || json_object_size(errors) > 0) {
        reply_invalid(out, errors);
        rc = WR_EINVAL;
    }
    json_decref(errors);
    return rc;
}

/* The status a request id already got, when it was applied before. */
struct applied {
    bool found;
    int status;
    char key[1100];
    char location[1280];
};

static int on_applied(void *arg, const struct value *row, size_t ncols)
{
    struct applied *a = arg;
    a->found = true;
    a->status = ncols > 0 && row[0].kind == V_INT ? (int)row[0].i : 200;
    if (ncols > 2 && row[1].kind == V_TEXT)
        (void)snprintf(a->key, sizeof(a->key), "%s", row[1].s);
    if (ncols > 2 && row[2].kind == V_TEXT)
        (void)snprintf(a->location, sizeof(a->location), "%s", row[2].s);
    return 0;
}

static int find_applied(const struct handler_env *env, const char *id, struct applied *a,
                        struct wr_err *err)
{
    struct value key = {.kind = V_TEXT, .s = id, .n = strlen(id)};
    *a = (struct applied){0};
    return store_query(
        env->writer, "SELECT status, object_key, location FROM warren_applied WHERE message_id = ?",
        &key, 1, on_applied, a, err);
}

static struct value text_or_null(const char *s)
{
    return s ? (struct value){.kind = V_TEXT, .s = s, .n = strlen(s)}
             : (struct value){.kind = V_NULL};
}

static int record_applied(const struct handler_env *env, const char *id, int status,
                          const char *key, const char *location, struct wr_err *err)
{
    struct value v[5] = {text_or_null(id),
                         {.kind = V_INT, .i = status},
                         text_or_null(key),
                         text_or_null(location),
                         {.kind = V_INT, .i = wr_now_ms()}};
    return store_exec(env->writer,
                      "INSERT INTO warren_applied (message_id, status, object_key, location, at) "
                      "VALUES (?, ?, ?, ?, ?)",
                      v, 5, NULL, err);
}

/* Maps a failed write to its reply: 409 for a constraint, 503 for a locked
 * database (0: answered), else the error for a 500. */
static int write_failed(int rc, const struct wr_err *err, struct wr_answer *out)
{
    if (rc != WR_ECONFLICT && rc != WR_EBUSY)
        return rc;
    struct wr_http_error h = wr_err_http(rc);
    /* a constraint's own words name the column; they are the client's data */
    wr_answer_error(out, h.status, h.code, rc == WR_ECONFLICT ? err->msg : h.message);
    return 0;
}

/* The object's id as the URL has it (composite keys joined by ','). */
static void key_text(const struct collection *c, const struct value *keys, char *out, size_t cap)
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

/* Reads the object back through the read path, answering with status. */
static void read_back(const struct handler_env *env, const struct collection *c, const char *key,
                      const char *base_url, int status, struct wr_answer *out)
{
    struct wr_request get = {.op = WR_OP_GET, .collection = c->name, .key = key};
    handle_request(env, &get, base_url, out);
    if (out->status == 200)
        out->status = status;
}

/* After a commit: every cached answer holding this table's data is stale. */
static void bump(const struct handler_env *env, const struct collection *c)
{
    cache_bump(env->cache, c->table);
}

/* {"num_modified": n} or {"num_deleted": n}, 200. */
static void reply_many(struct wr_answer *out, const char *op, long long n)
{
    wr_answer_reset(out);
    out->status = 200;
    out->rows = n;
    wr_buf_printf(&out->body, "{\"%s\":%lld}\n",
                  strcmp(op, WR_OP_DELETE) == 0 ? "num_deleted" : "num_modified", n);
}

/* Begins, or answers a duplicate delivery from its record. 1: answered. */
static int begin_once(const struct handler_env *env, const struct collection *c,
                      const struct wr_request *req, const char *base_url, struct wr_answer *out,
                      struct wr_err *err)
{
    int rc = store_begin(env->writer, err);
    struct applied a;
    if (rc == 0)
        rc = find_applied(env, req->id, &a, err);
    if (rc != 0) {
        store_rollback(env->writer);
        return write_failed(rc, err, out) == 0 ? 1 : rc;
    }
    if (!a.found)
        return 0;
    store_rollback(env->writer);
    wr_info(req->id, "%s delivered again: applied once, answered %d", req->op, a.status);
    if (a.status == 204) {
        wr_answer_reset(out);
        out->status = 204;
        return 1;
    }
    if (req->key == NULL && strcmp(req->op, WR_OP_CREATE) != 0) { /* many: the count */
        reply_many(out, req->op, strtoll(a.key, NULL, 10));
        return 1;
    }
    read_back(env, c, a.key[0] ? a.key : req->key, base_url, a.status, out);
    (void)snprintf(out->location, sizeof(out->location), "%s", a.location);
    return 1;
}

/* Commits a write recorded under the request id; on failure rolls back
 * and answers (409, 503) or returns the error. */
static int finish(const struct handler_env *env, const struct collection *c,
                  const struct wr_request *req, int status, const char *key, const char *location,
                  struct wr_answer *out, struct wr_err *err)
{
    int rc = record_applied(env, req->id, status, key, location, err);
    if (rc == 0)
        rc = store_commit(env->writer, err);
    if (rc != 0) {
        store_rollback(env->writer);
        return write_failed(rc, err, out);
    }
    bump(env, c);
    return 0;
}

static void insert_sql(struct wr_buf *sql, const struct collection *c, const struct assignment *a)
{
    wr_buf_puts(sql, "INSERT INTO ");
    plan_ident(sql, c->table);
    if (a->n == 0) {
        wr_buf_puts(sql, " DEFAULT VALUES");
        return;
    }
    wr_buf_puts(sql, " (");
    for (size_t i = 0; i < a->n; i++) {
        if (i > 0)
            wr_buf_putc(sql, ',');
        plan_ident(sql, a->cols[i]->sql);
    }
    wr_buf_puts(sql, ") VALUES (");
    for (size_t i = 0; i < a->n; i++)
        wr_buf_puts(sql, i > 0 ? ",?" : "?");
    wr_buf_putc(sql, ')');
}

/* The new row's key: from the body, or the rowid for an INTEGER PRIMARY KEY
 * the body left out. False when a key column is missing. */
static bool new_key(const struct handler_env *env, const struct collection *c,
                    const struct assignment *a, struct value *keys)
{
    for (size_t k = 0; k < c->npk; k++) {
        bool given = false;
        for (size_t i = 0; i < a->n && !given; i++) {
            given = a->idx[i] == c->pk[k];
            if (given)
                keys[k] = a->values[i];
        }
        if (!given && c->npk == 1 && c->cols[c->pk[0]].type == COL_INTEGER)
            keys[k] = (struct value){.kind = V_INT, .i = store_last_rowid(env->writer)};
        else if (!given)
            return false;
    }
    return true;
}

static void location_of(const struct collection *c, const char *base_url, const char *key,
                        char *out, size_t cap)
{
    struct wr_buf b;
    wr_buf_init(&b, cap - 1);
    wr_buf_puts(&b, base_url ? base_url : "");
    wr_buf_puts(&b, "/api/");
    render_path_segment(&b, c->name);
    wr_buf_putc(&b, '/');
    render_path_segment(&b, key);
    (void)snprintf(out, cap, "%s", wr_buf_error(&b) == 0 && b.data ? b.data : "");
    wr_buf_release(&b);
}

/* `UPDATE "t" SET "a"=?,"b"=?` over columns cols of t, or `=NULL` each. */
static void update_cols(struct wr_buf *sql, const struct collection *t, const size_t *cols,
                        size_t n, bool to_null)
{
    wr_buf_puts(sql, "UPDATE ");
    plan_ident(sql, t->table);
    for (size_t k = 0; k < n; k++) {
        wr_buf_puts(sql, k ? "," : " SET ");
        plan_ident(sql, t->cols[cols[k]].sql);
        wr_buf_puts(sql, to_null ? "=NULL" : "=?");
    }
}

/* `DELETE FROM "c"` (a NULL) or `UPDATE "c" SET` a's columns; an update
 * that sets nothing sets the key to itself, so it still finds (and counts)
 * its rows. */
static void change_head(struct wr_buf *sql, const struct collection *c, const struct assignment *a)
{
    if (a == NULL) {
        wr_buf_puts(sql, "DELETE FROM ");
        plan_ident(sql, c->table);
    } else if (a->n > 0) {
        update_cols(sql, c, a->idx, a->n, false);
    } else {
        wr_buf_puts(sql, "UPDATE ");
        plan_ident(sql, c->table);
        wr_buf_puts(sql, " SET ");
        plan_ident(sql, c->cols[c->pk[0]].sql);
        wr_buf_putc(sql, '=');
        plan_ident(sql, c->cols[c->pk[0]].sql);
    }
}

/* --- relation members (Flask-Restless's relation changes in a body) --- */

/* The values of columns cols of t that obj gives: 1 all, 0 none, -1 some
 * (or a value of the wrong type). */
static int values_in(const struct collection *t, json_t *obj, const size_t *cols, size_t n,
                     struct value *out,
                     char (*scratch)[VALUE_SCRATCH]) /* Flawfinder: ignore - bounded */
{
    size_t given = 0;
    for (size_t k = 0; k < n; k++) {
        json_t *v = json_object_get(obj, t->cols[cols[k]].attr);
        if (v == NULL)
            continue;
        if (json_is_null(v) ||
            value_from_json(t->cols[cols[k]].type, v, VALUE_STORE, &out[k], scratch[k]) != NULL)
            return -1;
        given++;
    }
    return given == n ? 1 : given == 0 ? 0 : -1;
}

/* Whether t's METHODS let a relation change write its rows with method
 * (PUT stands for PATCH); records why not under name otherwise. */
static bool target_allows(const struct collection *t, enum method method, json_t *errors,
                          const char *name)
{
    unsigned mask = method == METHOD_PATCH ? METHOD_PATCH | METHOD_PUT : (unsigned)method;
    if (schema_allows(t, mask))
        return true;
    const char *word = method == METHOD_POST     ? "POST"
                       : method == METHOD_DELETE ? "DELETE"
                                                 : "PATCH";
    char why[200];
    (void)snprintf(why, sizeof(why), "changing %.64s objects needs %s on %.64s", t->name, word,
                   t->name);
    invalid(errors, name, why);
    return false;
}

/* Inserts a nested object into t, its columns fk forced to fkv; its key
 * goes to keys. 0, WR_EINVAL (recorded under name in errors) or a store
 * error. */
static int create_nested(const struct handler_env *env, const struct collection *t, json_t *obj,
                         const size_t *fk, const struct value *fkv, size_t nfk, struct value *keys,
                         json_t *errors, const char *name, struct wr_err *err)
{
    if (!target_allows(t, METHOD_POST, errors, name))
        return WR_EINVAL;
    struct assignment *n = calloc(1, sizeof(*n));
    json_t *sub = json_object();
    if (n == NULL || sub == NULL) {
        free(n);
        json_decref(sub);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    parse_object(t, obj, false, false, n, sub);
    for (size_t k = 0; k < nfk && n->n < MAX_VALUES; k++) {
        for (size_t i = 0; i < n->n; i++)
            if (n->idx[i] == fk[k])
                invalid(sub, t->cols[fk[k]].attr, "is set by the relation");
        n->cols[n->n] = &t->cols[fk[k]];
        n->idx[n->n] = fk[k];
        n->values[n->n++] = fkv[k];
    }
    int rc = json_object_size(sub) > 0 ? WR_EINVAL : 0;
    if (rc == 0) {
        struct wr_buf sql;
        wr_buf_init(&sql, (size_t)64 * 1024);
        insert_sql(&sql, t, n);
        rc = store_exec(env->writer, sql.data, n->values, n->n, NULL, err);
        wr_buf_release(&sql);
    }
    if (rc == 0 && !new_key(env, t, n, keys)) {
        invalid(sub, "", "every primary key column is needed");
        rc = WR_EINVAL;
    }
    if (rc == WR_EINVAL)
        (void)json_object_set(errors, name, sub);
    json_decref(sub);
    free(n);
    return rc;
}

/* Sets this row's foreign key columns of a to-one member: null, an
 * existing object named by its referenced columns, or a new object. */
static int resolve_to_one(const struct handler_env *env, const struct collection *c,
                          const struct rel_member *m, struct assignment *a, json_t *errors,
                          struct wr_err *err)
{
    const struct relation *r = m->rel;
    const struct collection *t = schema_at(env->schema, r->target);
    struct value vals[SCHEMA_MAX_KEY_COLS];
    char scratch[SCHEMA_MAX_KEY_COLS][VALUE_SCRATCH]; /* Flawfinder: ignore - bounded */
    int given = json_is_null(m->v) ? 1 : values_in(t, m->v, r->remote, r->nkeys, vals, scratch);
    for (size_t k = 0; json_is_null(m->v) && k < r->nkeys; k++)
        vals[k] = (struct value){.kind = V_NULL};
    bool remote_is_key = r->nkeys == t->npk;
    for (size_t k = 0; remote_is_key && k < r->nkeys; k++)
        remote_is_key = r->remote[k] == t->pk[k];
    int rc = 0;
    if (given < 0) {
        invalid(errors, r->name, "give every column of the related object's key, or none");
        return WR_EINVAL;
    }
    if (given == 0 && !remote_is_key) {
        invalid(errors, r->name, "cannot create an object for this relation");
        return WR_EINVAL;
    }
    if (given == 0) {
        rc = create_nested(env, t, m->v, NULL, NULL, 0, vals, errors, r->name, err);
    } else if (!json_is_null(m->v)) {
        struct wr_buf sql;
        wr_buf_init(&sql, 4096);
        wr_buf_puts(&sql, "SELECT COUNT(*) FROM ");
        plan_ident(&sql, t->table);
        wr_buf_puts(&sql, " WHERE ");
        plan_cond(&sql, t, r->remote, r->nkeys);
        long long found = 0;
        rc = store_count(env->writer, sql.data, vals, r->nkeys, &found, err);
        wr_buf_release(&sql);
        if (rc == 0 && found == 0) {
            invalid(errors, r->name, "no such object");
            rc = WR_EINVAL;
        }
    }
    for (size_t k = 0; rc == 0 && k < r->nkeys; k++) {
        for (size_t i = 0; i < a->n; i++)
            if (a->idx[i] == r->local[k]) {
                invalid(errors, c->cols[r->local[k]].attr, "is also set by a relation");
                rc = WR_EINVAL;
            }
        if (rc == 0 && a->n < MAX_VALUES) {
            a->cols[a->n] = &c->cols[r->local[k]];
            a->idx[a->n] = r->local[k];
            a->values[a->n++] = vals[k];
        }
    }
    return rc;
}

#define MAX_LIST 1000 /* objects in one relation member's list */

struct elem_key {
    struct value v[SCHEMA_MAX_KEY_COLS];
    char scratch[SCHEMA_MAX_KEY_COLS][VALUE_SCRATCH]; /* Flawfinder: ignore - bounded */
};

/* This row's values of a to-many relation's referenced columns, which must
 * be among its key columns (they are in every schema Flask-Restless takes). */
static bool local_values(const struct collection *c, const struct relation *r,
                         const struct value *keys, struct value *out)
{
    for (size_t k = 0; k < r->nkeys; k++) {
        bool found = false;
        for (size_t j = 0; j < c->npk && !found; j++)
            if (c->pk[j] == r->local[k]) {
                out[k] = keys[j];
                found = true;
            }
        if (!found)
            return false;
    }
    return true;
}

/* Points the object of t with key tk at this row (or, unlinking, away
 * from it, when it points at it); *changed gets the rows changed. */
static int relink(const struct handler_env *env, const struct collection *t,
                  const struct relation *r, const struct value *tk, const struct value *thisv,
                  bool unlink, long long *changed, struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, 4096);
    update_cols(&sql, t, r->remote, r->nkeys, unlink);
    wr_buf_puts(&sql, " WHERE ");
    plan_cond(&sql, t, t->pk, t->npk);
    struct value binds[2 * SCHEMA_MAX_KEY_COLS];
    size_t n = 0;
    for (size_t k = 0; !unlink && k < r->nkeys; k++)
        binds[n++] = thisv[k];
    for (size_t k = 0; k < t->npk; k++)
        binds[n++] = tk[k];
    if (unlink) {
        wr_buf_puts(&sql, " AND ");
        plan_cond(&sql, t, r->remote, r->nkeys);
        for (size_t k = 0; k < r->nkeys; k++)
            binds[n++] = thisv[k];
    }
    int rc = store_exec(env->writer, sql.data, binds, n, changed, err);
    wr_buf_release(&sql);
    return rc;
}

/* Deletes the object of t with key tk if it is related to this row. */
static int delete_related(const struct handler_env *env, const struct collection *t,
                          const struct relation *r, const struct value *tk,
                          const struct value *thisv, long long *changed, struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, 4096);
    wr_buf_puts(&sql, "DELETE FROM ");
    plan_ident(&sql, t->table);
    wr_buf_puts(&sql, " WHERE ");
    plan_cond(&sql, t, t->pk, t->npk);
    wr_buf_puts(&sql, " AND ");
    plan_cond(&sql, t, r->remote, r->nkeys);
    struct value binds[2 * SCHEMA_MAX_KEY_COLS];
    size_t n = 0;
    for (size_t k = 0; k < t->npk; k++)
        binds[n++] = tk[k];
    for (size_t k = 0; k < r->nkeys; k++)
        binds[n++] = thisv[k];
    int rc = store_exec(env->writer, sql.data, binds, n, changed, err);
    wr_buf_release(&sql);
    return rc;
}

/* A set: every object related to this row and not in keys is unlinked. */
static int unlink_others(const struct handler_env *env, const struct collection *t,
                         const struct relation *r, const struct value *thisv,
                         const struct elem_key *keys, size_t nkeys, struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)1 << 20);
    update_cols(&sql, t, r->remote, r->nkeys, true);
    wr_buf_puts(&sql, " WHERE ");
    plan_cond(&sql, t, r->remote, r->nkeys);
    size_t n = r->nkeys + nkeys * t->npk;
    struct value *binds = calloc(n, sizeof(*binds));
    if (binds == NULL) {
        wr_buf_release(&sql);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    n = 0;
    for (size_t k = 0; k < r->nkeys; k++)
        binds[n++] = thisv[k];
    for (size_t i = 0; i < nkeys; i++) {
        wr_buf_puts(&sql, i ? " OR (" : " AND NOT ((");
        plan_cond(&sql, t, t->pk, t->npk);
        wr_buf_putc(&sql, ')');
        for (size_t k = 0; k < t->npk; k++)
            binds[n++] = keys[i].v[k];
    }
    if (nkeys > 0)
        wr_buf_putc(&sql, ')');
    int rc = wr_buf_error(&sql) != 0 ? wr_err_set(err, WR_ETOOBIG, "too many objects")
                                     : store_exec(env->writer, sql.data, binds, n, NULL, err);
    free(binds);
    wr_buf_release(&sql);
    return rc;
}

/* One object of an add or a set: an existing one (named by its key) is
 * pointed at this row, a new one is created pointing at it. */
static int take_element(const struct handler_env *env, const struct collection *t,
                        const struct relation *r, json_t *o, const struct value *thisv,
                        struct elem_key *key, json_t *errors, struct wr_err *err)
{
    int given = values_in(t, o, t->pk, t->npk, key->v, key->scratch);
    if (given < 0) {
        invalid(errors, r->name, "give every column of each object's key, or none");
        return WR_EINVAL;
    }
    if (given == 0)
        return create_nested(env, t, o, r->remote, thisv, r->nkeys, key->v, errors, r->name, err);
    if (!target_allows(t, METHOD_PATCH, errors, r->name))
        return WR_EINVAL;
    long long changed = 0;
    int rc = relink(env, t, r, key->v, thisv, false, &changed, err);
    if (rc == 0 && changed == 0) {
        invalid(errors, r->name, "no such object");
        rc = WR_EINVAL;
    }
    return rc;
}

/* remove: each object (named by its key) must be related to this row; it
 * is unlinked, or deleted when it says "__delete__": true. */
static int remove_element(const struct handler_env *env, const struct collection *t,
                          const struct relation *r, json_t *o, const struct value *thisv,
                          json_t *errors, struct wr_err *err)
{
    struct elem_key key;
    if (values_in(t, o, t->pk, t->npk, key.v, key.scratch) != 1) {
        invalid(errors, r->name, "each object to remove needs its key");
        return WR_EINVAL;
    }
    bool del = json_is_true(json_object_get(o, "__delete__"));
    if (!target_allows(t, del ? METHOD_DELETE : METHOD_PATCH, errors, r->name))
        return WR_EINVAL;
    long long changed = 0;
    int rc = del ? delete_related(env, t, r, key.v, thisv, &changed, err)
                 : relink(env, t, r, key.v, thisv, true, &changed, err);
    if (rc == 0 && changed == 0) {
        invalid(errors, r->name, "not related to this object");
        rc = WR_EINVAL;
    }
    return rc;
}

/* A to-many member after this row is written (keys: its key). */
static int apply_to_many(const struct handler_env *env, const struct collection *c,
                         const struct rel_member *m, const struct value *keys, json_t *errors,
                         struct wr_err *err)
{
    const struct relation *r = m->rel;
    const struct collection *t = schema_at(env->schema, r->target);
    struct value thisv[SCHEMA_MAX_KEY_COLS];
    if (!local_values(c, r, keys, thisv)) {
        invalid(errors, r->name, "this relation cannot be changed");
        return WR_EINVAL;
    }
    json_t *add = json_is_array(m->v) ? m->v : json_object_get(m->v, "add");
    json_t *remove = json_is_array(m->v) ? NULL : json_object_get(m->v, "remove");
    size_t nadd = json_array_size(add);
    if (nadd > MAX_LIST || json_array_size(remove) > MAX_LIST) {
        invalid(errors, r->name, "at most 1000 objects a list");
        return WR_EINVAL;
    }
    struct elem_key *ks = calloc(nadd + 1, sizeof(*ks));
    if (ks == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nadd; i++)
        rc = take_element(env, t, r, json_array_get(add, i), thisv, &ks[i], errors, err);
    /* a set replaces: what it does not list is no longer related */
    if (rc == 0 && json_is_array(m->v) && target_allows(t, METHOD_PATCH, errors, r->name))
        rc = unlink_others(env, t, r, thisv, ks, nadd, err);
    else if (rc == 0 && json_is_array(m->v))
        rc = WR_EINVAL;
    for (size_t i = 0; rc == 0 && i < json_array_size(remove); i++)
        rc = remove_element(env, t, r, json_array_get(remove, i), thisv, errors, err);
    free(ks);
    return rc;
}

/* The to-one members, before the row is written: they set its columns. */
static int resolve_to_ones(const struct handler_env *env, const struct collection *c,
                           struct assignment *a, json_t *errors, struct wr_err *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->nrels; i++)
        if (!a->rels[i].rel->to_many)
            rc = resolve_to_one(env, c, &a->rels[i], a, errors, err);
    return rc;
}

/* The to-many members, after the row (with key keys) is written. */
static int apply_to_manys(const struct handler_env *env, const struct collection *c,
                          const struct assignment *a, const struct value *keys, json_t *errors,
                          struct wr_err *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->nrels; i++)
        if (a->rels[i].rel->to_many)
            rc = apply_to_many(env, c, &a->rels[i], keys, errors, err);
    return rc;
}

/* After a commit: the related tables a body changed are stale too. */
static void bump_related(const struct handler_env *env, const struct assignment *a)
{
    for (size_t i = 0; a != NULL && i < a->nrels; i++)
        bump(env, schema_at(env->schema, a->rels[i].rel->target));
}

/* A relation step failed: roll back, and answer 400 with what was wrong
 * (WR_EINVAL) or map the store's error. */
static int rel_failed(const struct handler_env *env, int rc, json_t *errors,
                      const struct wr_err *err, struct wr_answer *out)
{
    store_rollback(env->writer);
    if (rc == WR_EINVAL) {
        reply_invalid(out, errors);
        return 0;
    }
    return write_failed(rc, err, out);
}

int write_create(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err)
{
    struct assignment *a = calloc(1, sizeof(*a));
    json_t *errors = json_object();
    if (a == NULL || errors == NULL) {
        free(a);
        json_decref(errors);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    int rc = 0;
    bool go = can_write(env, c, METHOD_POST, out) && parse_body(c, req->body, false, a, out) == 0;
    if (go) {
        rc = begin_once(env, c, req, base_url, out, err);
        go = rc == 0;
        rc = rc > 0 ? 0 : rc;
    }
    if (go) {
        struct value keys[SCHEMA_MAX_KEY_COLS];
        char key[1100] = "", location[1280] = "";
        rc = resolve_to_ones(env, c, a, errors, err);
        if (rc == 0) {
            struct wr_buf sql;
            wr_buf_init(&sql, (size_t)64 * 1024);
            insert_sql(&sql, c, a);
            rc = store_exec(env->writer, sql.data, a->values, a->n, NULL, err);
            wr_buf_release(&sql);
        }
        if (rc == 0 && !new_key(env, c, a, keys)) {
            invalid(errors, "", "every primary key column is needed");
            rc = WR_EINVAL;
        }
        if (rc == 0)
            rc = apply_to_manys(env, c, a, keys, errors, err);
        if (rc == 0) {
            key_text(c, keys, key, sizeof(key));
            location_of(c, base_url, key, location, sizeof(location));
            rc = finish(env, c, req, 201, key, location, out, err);
            if (rc == 0 && out->status == 0)
                bump_related(env, a);
        } else {
            rc = rel_failed(env, rc, errors, err, out);
        }
        if (rc == 0 && out->status == 0) {
            read_back(env, c, key, base_url, 201, out);
            (void)snprintf(out->location, sizeof(out->location), "%s", location);
        }
    }
    json_decref(a->root);
    free(a);
    json_decref(errors);
    return rc;
}

static void where_key(struct wr_buf *sql, const struct collection *c)
{
    wr_buf_puts(sql, " WHERE ");
    plan_cond(sql, c, c->pk, c->npk);
}

/* The UPDATE (or DELETE) statement of one object by its key. */
static void change_sql(struct wr_buf *sql, const struct collection *c, const struct assignment *a)
{
    change_head(sql, c, a);
    where_key(sql, c);
}

/* UPDATE or DELETE of the object with the request's id: 404 when none. */
static int change(const struct handler_env *env, const struct collection *c,
                  const struct wr_request *req, const char *base_url, struct assignment *a,
                  struct wr_answer *out, struct wr_err *err)
{
    char scratch[1100];
    struct value keys[SCHEMA_MAX_KEY_COLS];
    if (!plan_parse_key(c, req->key, keys, scratch, sizeof(scratch))) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such object");
        return 0;
    }
    int rc = begin_once(env, c, req, base_url, out, err);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    bool del = a == NULL;
    json_t *errors = json_object();
    rc = errors == NULL ? wr_err_set(err, WR_ENOMEM, "out of memory")
         : del          ? 0
                        : resolve_to_ones(env, c, a, errors, err);
    struct value binds[MAX_VALUES + SCHEMA_MAX_KEY_COLS];
    size_t n = del ? 0 : a->n;
    for (size_t i = 0; i < n; i++)
        binds[i] = a->values[i];
    for (size_t k = 0; k < c->npk; k++)
        binds[n + k] = keys[k];
    long long changed = 0;
    if (rc == 0) {
        struct wr_buf sql;
        wr_buf_init(&sql, (size_t)64 * 1024);
        change_sql(&sql, c, a);
        rc = store_exec(env->writer, sql.data, binds, n + c->npk, &changed, err);
        wr_buf_release(&sql);
    }
    if (rc == 0 && changed == 0) {
        store_rollback(env->writer);
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such object");
        json_decref(errors);
        return 0;
    }
    if (rc == 0 && !del)
        rc = apply_to_manys(env, c, a, keys, errors, err);
    if (rc != 0) {
        rc = rel_failed(env, rc, errors, err, out);
        json_decref(errors);
        return rc;
    }
    json_decref(errors);
    rc = finish(env, c, req, del ? 204 : 200, req->key, NULL, out, err);
    if (rc == 0 && out->status == 0)
        bump_related(env, a);
    if (rc == 0 && out->status == 0 && del) {
        wr_answer_reset(out);
        out->status = 204;
    } else if (rc == 0 && out->status == 0) {
        read_back(env, c, req->key, base_url, 200, out);
    }
    return rc;
}

/* --- PATCH and DELETE of many (opt-in: PATCH_MANY, DELETE_MANY) --- */

#define MANY_MAX_BINDS 30000

/* `WITH m(...) AS (<the search>) ` and the condition on c's key that keeps
 * the rows it finds; without a search, every row. */
static int many_sql(struct wr_buf *with, struct wr_buf *where, const struct collection *c,
                    const query *q, struct value *binds, size_t *nbinds)
{
    if (q == NULL)
        return 0;
    wr_buf_puts(with, "WITH m(");
    for (size_t i = 0; i < c->ncols; i++)
        wr_buf_printf(with, "%s\"c%zu\"", i ? "," : "", i);
    wr_buf_puts(with, ") AS (");
    int rc = query_select_sql(q, with, binds, nbinds, MANY_MAX_BINDS);
    wr_buf_puts(with, ") ");
    wr_buf_puts(where, " WHERE (");
    plan_idents(where, c, c->pk, c->npk);
    wr_buf_puts(where, ") IN (SELECT ");
    for (size_t k = 0; k < c->npk; k++)
        wr_buf_printf(where, "%s\"c%zu\"", k ? "," : "", c->pk[k]);
    wr_buf_puts(where, " FROM m)");
    return rc;
}

/* Runs the UPDATE (a set) or DELETE (a NULL) of every row q finds. */
static int change_many(const struct handler_env *env, const struct collection *c, const query *q,
                       const struct assignment *a, long long *changed, struct wr_err *err)
{
    struct value *binds = malloc((MANY_MAX_BINDS + MAX_VALUES) * sizeof(*binds));
    struct wr_buf sql, where;
    wr_buf_init(&sql, (size_t)4 << 20);
    wr_buf_init(&where, 4096);
    size_t n = 0;
    int rc = binds ? many_sql(&sql, &where, c, q, binds, &n) : WR_ENOMEM;
    change_head(&sql, c, a);
    for (size_t i = 0; binds != NULL && a != NULL && i < a->n; i++)
        binds[n++] = a->values[i];
    if (where.len > 0)
        wr_buf_append(&sql, where.data, where.len);
    if (rc == 0 && (wr_buf_error(&sql) != 0 || wr_buf_error(&where) != 0))
        rc = wr_err_set(err, WR_ETOOBIG, "the search is too large");
    else if (rc == 0)
        rc = store_exec(env->writer, sql.data, binds, n, changed, err);
    else
        (void)wr_err_set(err, rc, "the search is too large");
    wr_buf_release(&sql);
    wr_buf_release(&where);
    free(binds);
    return rc;
}

/* PATCH or DELETE /api/<c>?q=...: every row the search's filters find (its
 * order, limit and offset do not apply). */
static int write_many(const struct handler_env *env, const struct collection *c,
                      const struct wr_request *req, struct assignment *a, struct wr_answer *out,
                      struct wr_err *err)
{
    if (!can_write(env, c, a ? METHOD_PATCH_MANY : METHOD_DELETE_MANY, out))
        return 0;
    if (a != NULL && parse_body(c, req->body, true, a, out) != 0)
        return 0;
    if (a != NULL && a->nrels > 0) {
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER,
                        "relations cannot be changed by a PATCH of many objects");
        return 0;
    }
    query *q = req->q ? handlers_parse_q(env, c, req->q, out) : NULL;
    if (req->q != NULL && q == NULL)
        return 0;
    int rc = begin_once(env, c, req, NULL, out, err);
    long long changed = 0;
    if (rc == 0) {
        rc = change_many(env, c, q, a, &changed, err);
        char count[24];
        (void)snprintf(count, sizeof(count), "%lld", changed);
        if (rc == 0)
            rc = finish(env, c, req, 200, count, NULL, out, err);
        else if (rc == WR_ETOOBIG) {
            store_rollback(env->writer);
            wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER, "q: the search is too large");
            rc = 0;
        } else {
            store_rollback(env->writer);
            rc = write_failed(rc, err, out);
        }
        if (rc == 0 && out->status == 0)
            reply_many(out, a ? WR_OP_UPDATE : WR_OP_DELETE, changed);
    }
    query_free(q);
    return rc > 0 ? 0 : rc;
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
    else if (can_write(env, c, METHOD_PATCH | METHOD_PUT, out) &&
             parse_body(c, req->body, true, a, out) == 0)
        rc = change(env, c, req, base_url, a, out, err);
    json_decref(a->root);
    free(a);
    return rc;
}

/* The UPDATE that takes t's object (key bound first) out of r for c's
 * object (key bound second): a to-many clears t's foreign key, a to-one
 * clears c's. */
static void unlink_sql(struct wr_buf *sql, const struct collection *c, const struct relation *r,
                       const struct collection *t)
{
    const struct collection *w = r->to_many ? t : c; /* whose row changes */
    const size_t *fk = r->to_many ? r->remote : r->local;
    update_cols(sql, w, fk, r->nkeys, true);
    wr_buf_puts(sql, " WHERE ");
    if (r->to_many) {
        plan_related_cond(sql, c, r, t);
        return;
    }
    /* to-one, binds in the same order: t's key, then c's */
    wr_buf_puts(sql, "(");
    plan_idents(sql, c, r->local, r->nkeys);
    wr_buf_puts(sql, ") IN (SELECT ");
    plan_idents(sql, t, r->remote, r->nkeys);
    wr_buf_puts(sql, " FROM ");
    plan_ident(sql, t->table);
    wr_buf_puts(sql, " WHERE ");
    plan_cond(sql, t, t->pk, t->npk);
    wr_buf_puts(sql, ") AND ");
    plan_cond(sql, c, c->pk, c->npk);
}

/* DELETE /api/<c>/<id>/<relation>/<related id>: takes the object out of
 * the relation (Flask-Restless 0.17), as a `remove` in a PATCH does: 204,
 * 404 when either object is missing or they are not related. */
static int unlink_one(const struct handler_env *env, const struct collection *c,
                      const struct wr_request *req, const char *base_url, struct wr_answer *out,
                      struct wr_err *err)
{
    const struct relation *r = schema_relation(c, req->relation);
    if (r == NULL || r->hidden) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such relation");
        return 0;
    }
    const struct collection *t = schema_at(env->schema, r->target);
    if (!can_write(env, r->to_many ? t : c, METHOD_PATCH | METHOD_PUT, out))
        return 0;
    struct value binds[2 * SCHEMA_MAX_KEY_COLS];
    char scratch[2][1100];
    if (!plan_parse_key(t, req->related_id, binds, scratch[0], sizeof(scratch[0])) ||
        !plan_parse_key(c, req->key, binds + t->npk, scratch[1], sizeof(scratch[1]))) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such related object");
        return 0;
    }
    int rc = begin_once(env, c, req, base_url, out, err);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    struct wr_buf sql;
    wr_buf_init(&sql, 8192);
    unlink_sql(&sql, c, r, t);
    long long changed = 0;
    rc = store_exec(env->writer, sql.data, binds, t->npk + c->npk, &changed, err);
    wr_buf_release(&sql);
    if (rc == 0 && changed == 0) {
        store_rollback(env->writer);
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such related object");
        return 0;
    }
    if (rc != 0) {
        store_rollback(env->writer);
        return write_failed(rc, err, out);
    }
    rc = finish(env, c, req, 204, req->key, NULL, out, err);
    if (rc == 0 && out->status == 0) {
        bump(env, t);
        wr_answer_reset(out);
        out->status = 204;
    }
    return rc;
}

int write_delete(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err)
{
    if (req->key == NULL)
        return write_many(env, c, req, NULL, out, err);
    if (req->related_id != NULL)
        return unlink_one(env, c, req, base_url, out, err);
    if (!can_write(env, c, METHOD_DELETE, out))
        return 0;
    return change(env, c, req, base_url, NULL, out, err);
}
