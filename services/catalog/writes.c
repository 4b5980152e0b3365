/* Create, update and delete (see writes.h). SQL is built from the schema's
 * identifiers only; every value from the body is bound. */
#include "writes.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan.h"
#include "render.h"
#include "warren/log.h"

#define MAX_VALUES 256

/* Whether c's METHODS (default "GET") lists method. */
static bool allowed(const struct handler_env *env, const struct collection *c, const char *method)
{
    const char *list = wr_cfg_coll_get(env->cfg, c->config_name, "METHODS");
    size_t n = strlen(method);
    for (const char *p = list; p && *p;) {
        p += strspn(p, ", ");
        size_t len = strcspn(p, ", ");
        if (len == n && strncasecmp(p, method, n) == 0)
            return true;
        p += len;
    }
    return false;
}

/* 405 or 503 when the write cannot happen here; false then. */
static bool can_write(const struct handler_env *env, const struct collection *c, const char *method,
                      const char *method2, struct reply *out)
{
    if (!allowed(env, c, method) && !(method2 && allowed(env, c, method2))) {
        const char *list = wr_cfg_coll_get(env->cfg, c->config_name, "METHODS");
        reply_error(out, 405, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
        (void)snprintf(out->allow, sizeof(out->allow), "%s", list ? list : "GET");
        return false;
    }
    if (env->writer == NULL) {
        reply_error(out, 503, WR_CODE_UNAVAILABLE, "the database cannot be written here");
        return false;
    }
    return true;
}

/* The columns and values a body sets, checked against the collection. */
struct assignment {
    json_t *root;
    const struct column *cols[MAX_VALUES];
    size_t idx[MAX_VALUES];
    struct value values[MAX_VALUES];
    size_t n;
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

/* A JSON value as a bound value; DATETIME text in SQLite's stored form. */
static bool to_value(const struct column *col, json_t *v, struct value *out, char *scratch,
                     size_t cap)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        *out = (struct value){.kind = V_NULL};
        return true;
    case JSON_TRUE:
        *out = (struct value){.kind = V_INT, .i = 1};
        return true;
    case JSON_FALSE:
        *out = (struct value){.kind = V_INT, .i = 0};
        return true;
    case JSON_INTEGER:
        *out = (struct value){.kind = V_INT, .i = json_integer_value(v)};
        return true;
    case JSON_REAL:
        *out = (struct value){.kind = V_REAL, .d = json_real_value(v)};
        return true;
    case JSON_STRING:
        break;
    default:
        return false;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    *out = (struct value){.kind = V_TEXT, .s = s, .n = n};
    /* "2009-01-01T00:00:00" is stored as SQLite and Chinook write it. */
    if (col->type == COL_DATETIME && n >= 19 && n < cap && s[10] == 'T') {
        memcpy(scratch, s, n + 1);
        scratch[10] = ' ';
        out->s = scratch;
    }
    return true;
}

/* scratch holds one datetime text (19 to 32 bytes) a value; to_value checks
 * the length against the 40 it gets. */
static int parse_body(const struct collection *c, const char *body, bool update,
                      struct assignment *a,
                      char (*scratch)[40], /* Flawfinder: ignore - bounded, see above */
                      struct reply *out)
{
    json_error_t jerr;
    a->root = json_loads(body, JSON_REJECT_DUPLICATES, &jerr);
    a->n = 0;
    char msg[300];
    if (!json_is_object(a->root)) {
        reply_error(out, 400, WR_CODE_BAD_REQUEST, "body: must be one JSON object");
        return WR_EINVAL;
    }
    const char *name;
    json_t *v;
    json_object_foreach(a->root, name, v) {
        size_t idx = 0;
        const struct column *col = find_column(c, name, &idx);
        bool is_key = false;
        for (size_t k = 0; col != NULL && k < c->npk; k++)
            is_key = is_key || c->pk[k] == idx;
        if (col == NULL || (update && is_key)) {
            (void)snprintf(msg, sizeof(msg), "body: %.64s %s", name,
                           col == NULL
                               ? (schema_relation(c, name)
                                      ? "is a relation: writing relations is not supported yet"
                                      : "is not an attribute of this collection")
                               : "is the primary key, which cannot change");
            reply_error(out, 400, WR_CODE_BAD_PARAMETER, msg);
            return WR_EINVAL;
        }
        if (a->n == MAX_VALUES || !to_value(col, v, &a->values[a->n], scratch[a->n], 40)) {
            (void)snprintf(msg, sizeof(msg),
                           "body: %.64s must be a string, number, boolean or null", name);
            reply_error(out, 400, WR_CODE_BAD_PARAMETER, msg);
            return WR_EINVAL;
        }
        a->cols[a->n] = col;
        a->idx[a->n++] = idx;
    }
    return 0;
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
static int write_failed(int rc, const struct wr_err *err, struct reply *out)
{
    if (rc == WR_ECONFLICT) {
        reply_error(out, 409, WR_CODE_CONFLICT, err->msg);
        return 0;
    }
    if (rc == WR_EBUSY) {
        reply_error(out, 503, WR_CODE_UNAVAILABLE, "the database is locked by another writer");
        return 0;
    }
    return rc;
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
                      const char *base_url, int status, struct reply *out)
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

/* Begins, or answers a duplicate delivery from its record. 1: answered. */
static int begin_once(const struct handler_env *env, const struct collection *c,
                      const struct wr_request *req, const char *base_url, struct reply *out,
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
        reply_reset(out);
        out->status = 204;
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
                  struct reply *out, struct wr_err *err)
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

int write_create(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct reply *out,
                 struct wr_err *err)
{
    char scratch[MAX_VALUES][40];
    struct assignment a = {0};
    if (!can_write(env, c, "POST", NULL, out) ||
        parse_body(c, req->body, false, &a, scratch, out) != 0) {
        json_decref(a.root);
        return 0;
    }
    int rc = begin_once(env, c, req, base_url, out, err);
    if (rc != 0) {
        json_decref(a.root);
        return rc > 0 ? 0 : rc;
    }
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)64 * 1024);
    insert_sql(&sql, c, &a);
    rc = store_exec(env->writer, sql.data, a.values, a.n, NULL, err);
    wr_buf_release(&sql);
    struct value keys[SCHEMA_MAX_KEY_COLS];
    char key[1100] = "", location[1280] = "";
    if (rc == 0 && !new_key(env, c, &a, keys)) {
        store_rollback(env->writer);
        reply_error(out, 400, WR_CODE_BAD_PARAMETER, "body: every primary key column is needed");
        json_decref(a.root);
        return 0;
    }
    if (rc == 0) {
        key_text(c, keys, key, sizeof(key));
        location_of(c, base_url, key, location, sizeof(location));
        rc = finish(env, c, req, 201, key, location, out, err);
    } else {
        store_rollback(env->writer);
        rc = write_failed(rc, err, out);
    }
    json_decref(a.root);
    if (rc == 0 && out->status == 0) {
        read_back(env, c, key, base_url, 201, out);
        (void)snprintf(out->location, sizeof(out->location), "%s", location);
    }
    return rc;
}

static void where_key(struct wr_buf *sql, const struct collection *c)
{
    for (size_t k = 0; k < c->npk; k++) {
        wr_buf_puts(sql, k == 0 ? " WHERE " : " AND ");
        plan_ident(sql, c->cols[c->pk[k]].sql);
        wr_buf_puts(sql, "=?");
    }
}

/* UPDATE or DELETE of the object with the request's id: 404 when none. */
static int change(const struct handler_env *env, const struct collection *c,
                  const struct wr_request *req, const char *base_url, struct assignment *a,
                  struct reply *out, struct wr_err *err)
{
    char scratch[1100];
    struct value keys[SCHEMA_MAX_KEY_COLS];
    if (!plan_parse_key(c, req->key, keys, scratch, sizeof(scratch))) {
        reply_error(out, 404, WR_CODE_NOT_FOUND, "no such object");
        return 0;
    }
    int rc = begin_once(env, c, req, base_url, out, err);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    bool del = a == NULL;
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)64 * 1024);
    wr_buf_puts(&sql, del ? "DELETE FROM " : "UPDATE ");
    plan_ident(&sql, c->table);
    for (size_t i = 0; !del && i < a->n; i++) {
        wr_buf_puts(&sql, i == 0 ? " SET " : ",");
        plan_ident(&sql, a->cols[i]->sql);
        wr_buf_puts(&sql, "=?");
    }
    where_key(&sql, c);
    struct value binds[MAX_VALUES + SCHEMA_MAX_KEY_COLS];
    size_t n = del ? 0 : a->n;
    for (size_t i = 0; i < n; i++)
        binds[i] = a->values[i];
    for (size_t k = 0; k < c->npk; k++)
        binds[n + k] = keys[k];
    long long changed = 0;
    /* An update that sets nothing still has to find its row. */
    if (!del && a->n == 0) {
        wr_buf_reset(&sql);
        wr_buf_puts(&sql, "UPDATE ");
        plan_ident(&sql, c->table);
        wr_buf_puts(&sql, " SET ");
        plan_ident(&sql, c->cols[c->pk[0]].sql);
        wr_buf_puts(&sql, "=");
        plan_ident(&sql, c->cols[c->pk[0]].sql);
        where_key(&sql, c);
    }
    rc = store_exec(env->writer, sql.data, binds, n + c->npk, &changed, err);
    wr_buf_release(&sql);
    if (rc == 0 && changed == 0) {
        store_rollback(env->writer);
        reply_error(out, 404, WR_CODE_NOT_FOUND, "no such object");
        return 0;
    }
    if (rc != 0) {
        store_rollback(env->writer);
        return write_failed(rc, err, out);
    }
    rc = finish(env, c, req, del ? 204 : 200, req->key, NULL, out, err);
    if (rc == 0 && out->status == 0 && del) {
        reply_reset(out);
        out->status = 204;
    } else if (rc == 0 && out->status == 0) {
        read_back(env, c, req->key, base_url, 200, out);
    }
    return rc;
}

int write_update(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct reply *out,
                 struct wr_err *err)
{
    char scratch[MAX_VALUES][40];
    struct assignment a = {0};
    int rc = 0;
    if (can_write(env, c, "PATCH", "PUT", out) &&
        parse_body(c, req->body, true, &a, scratch, out) == 0)
        rc = change(env, c, req, base_url, &a, out, err);
    json_decref(a.root);
    return rc;
}

int write_delete(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct reply *out,
                 struct wr_err *err)
{
    if (!can_write(env, c, "DELETE", NULL, out))
        return 0;
    return change(env, c, req, base_url, NULL, out, err);
}
