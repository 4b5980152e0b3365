/* The applied-once ledger of writes (see write_ledger.h). */
#include "ops/write_ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/reads.h"
#include "ops/write_replay.h"
#include "warren/log.h"

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

int write_failed(int rc, const struct wr_err *err, struct wr_answer *out)
{
    if (rc != WR_ECONFLICT && rc != WR_EBUSY)
        return rc;
    struct wr_http_error h = wr_err_http(rc);
    /* a constraint's own words name the column; they are the client's data */
    wr_answer_error(out, h.status, h.code, rc == WR_ECONFLICT ? err->msg : h.message);
    return 0;
}

void write_reply_many(struct wr_answer *out, const char *op, long long n)
{
    wr_answer_reset(out);
    out->status = 200;
    out->rows = n;
    wr_buf_printf(&out->body, "{\"%s\":%lld}\n",
                  strcmp(op, WR_OP_DELETE) == 0 ? "num_deleted" : "num_modified", n);
}

/* A redelivery of req, applied before as a: the answer it got. */
static void answer_again(const struct handler_env *env, const struct collection *c,
                         const struct wr_request *req, const char *base_url,
                         const struct applied *a, struct wr_answer *out)
{
    wr_info(req->id, "%s delivered again: applied once, answered %d", req->op, a->status);
    if (write_replay_answer(env, c, req, base_url, a->status, out))
        return; /* a bulk create or a batch: its own record */
    if (a->status == 204) {
        wr_answer_reset(out);
        out->status = 204;
    } else if (req->key == NULL && strcmp(req->op, WR_OP_CREATE) != 0) { /* many: the count */
        write_reply_many(out, req->op, strtoll(a->key, NULL, 10));
    } else {
        reads_object(env, c, a->key[0] ? a->key : req->key, base_url, a->status, req->id, out);
        (void)snprintf(out->location, sizeof(out->location), "%s", a->location);
    }
}

int write_begin_once(const struct handler_env *env, const struct collection *c,
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
    answer_again(env, c, req, base_url, &a, out);
    return 1;
}

int write_finish(const struct handler_env *env, const struct collection *c,
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
    cache_bump(env->cache, c->table);
    return 0;
}
