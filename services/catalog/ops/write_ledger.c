/* The applied-once ledger of writes (see write_ledger.h). */
#include "ops/write_ledger.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/codec.h"
#include "warren/json.h"

#include "ops/conflict.h"
#include "ops/reads.h"
#include "ops/write_replay.h"
#include "warren/log.h"

#define FINGERPRINT_HEX ((size_t)2 * WR_SHA256_LEN)

/* The status a request id already got, when it was applied before. */
struct applied {
    bool found;
    int status;
    char key[1100];
    char location[1280];
    char fingerprint[FINGERPRINT_HEX + 1]; /* "" for a row from before fingerprints */
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
    if (ncols > 3 && row[3].kind == V_TEXT)
        (void)snprintf(a->fingerprint, sizeof(a->fingerprint), "%.*s", (int)row[3].n, row[3].s);
    return 0;
}

static int find_applied(const struct handler_env *env, const char *id, struct applied *a,
                        struct wr_err *err)
{
    struct value key = {.kind = V_TEXT, .s = id, .n = strlen(id)};
    *a = (struct applied){0};
    return store_query(env->writer,
                       "SELECT status, object_key, location, fingerprint FROM warren_applied "
                       "WHERE message_id = ?",
                       &key, 1, on_applied, a, err);
}

/* One part of a fingerprint: its length, then its bytes, so no two
 * different sequences of parts hash the same text; NULL is "-". */
static void fp_part(struct wr_sha256 *s, const char *p, size_t n)
{
    char len[32];
    int w = p != NULL ? snprintf(len, sizeof(len), "%zu:", n) : snprintf(len, sizeof(len), "-");
    wr_sha256_update(s, len, w > 0 ? (size_t)w : 0);
    if (p != NULL)
        wr_sha256_update(s, p, n);
}

static void fp_str(struct wr_sha256 *s, const char *p)
{
    fp_part(s, p, p != NULL ? strlen(p) : 0);
}

/* What a write's request id is bound to, as 64 hex digits: SHA-256 over
 * who asked, the op, the path (collection, id, relation, related id), q
 * and the body. The body counts as canonical JSON (members sorted, numbers
 * as the canonical writer prints them), so a retry that serialises the
 * same object anew is the same write; a body that does not parse (the
 * body parser refused it before) counts as its bytes. */
static void fingerprint(const struct wr_request *req, char out[FINGERPRINT_HEX + 1])
{
    struct wr_sha256 s;
    wr_sha256_init(&s);
    fp_str(&s, "warren write v1");
    fp_str(&s, req->principal);
    fp_str(&s, req->op);
    fp_str(&s, req->collection);
    fp_str(&s, req->key);
    fp_str(&s, req->relation);
    fp_str(&s, req->related_id);
    fp_str(&s, req->q);
    json_t *body = req->body ? json_loads(req->body, JSON_REJECT_DUPLICATES, NULL) : NULL;
    struct wr_buf canon;
    wr_buf_init(&canon, req->body ? 4 * strlen(req->body) + 64 : 0);
    if (body != NULL)
        wr_json_value(&canon, body);
    if (body != NULL && wr_buf_error(&canon) == 0)
        fp_part(&s, canon.data, canon.len);
    else
        fp_str(&s, req->body);
    json_decref(body);
    wr_buf_release(&canon);
    unsigned char d[WR_SHA256_LEN];
    wr_sha256_final(&s, d);
    wr_hex_encode(out, d, sizeof(d));
}

static struct value text_or_null(const char *s)
{
    return s ? (struct value){.kind = V_TEXT, .s = s, .n = strlen(s)}
             : (struct value){.kind = V_NULL};
}

static int record_applied(const struct handler_env *env, const struct wr_request *req, int status,
                          const char *key, const char *location, struct wr_err *err)
{
    char fp[FINGERPRINT_HEX + 1];
    fingerprint(req, fp);
    struct value v[6] = {
        text_or_null(req->id),  {.kind = V_INT, .i = status},      text_or_null(key),
        text_or_null(location), {.kind = V_INT, .i = wr_now_ms()}, text_or_null(fp)};
    return store_exec(env->writer,
                      "INSERT INTO warren_applied (message_id, status, object_key, location, at, "
                      "fingerprint) VALUES (?, ?, ?, ?, ?, ?)",
                      v, 6, NULL, err);
}

int write_failed(const struct handler_env *env, int rc, const struct wr_err *err,
                 struct wr_answer *out)
{
    if (rc != WR_ECONFLICT && rc != WR_EBUSY)
        return rc;
    struct wr_http_error h = wr_err_http(rc);
    char words[512];
    if (rc == WR_ECONFLICT)
        conflict_message(env->schema, err->msg, words, sizeof(words));
    wr_answer_error(out, h.status, h.code, rc == WR_ECONFLICT ? words : h.message);
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
    if (rc == 0) {
        store_set_writer(env->writer, req->id, req->principal); /* for its change events */
        rc = find_applied(env, req->id, &a, err);
    }
    if (rc != 0) {
        store_rollback(env->writer);
        return write_failed(env, rc, err, out) == 0 ? 1 : rc;
    }
    if (!a.found)
        return 0;
    store_rollback(env->writer);
    /* A row from before fingerprints binds the id alone: answered as then
     * (a redelivery across the upgrade must not become a 409). */
    char fp[FINGERPRINT_HEX + 1];
    fingerprint(req, fp);
    if (a.fingerprint[0] != '\0' && !wr_bytes_equal(fp, a.fingerprint, FINGERPRINT_HEX)) {
        wr_warn(req->id, "%s refused: its request id was used for another write", req->op);
        wr_answer_error(out, 409, WR_CODE_REQUEST_ID_REUSED,
                        "X-Request-Id: this request id was already used for another write "
                        "(another key, method, path or body): send a new id");
        return 1;
    }
    answer_again(env, c, req, base_url, &a, out);
    return 1;
}

int write_finish(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, int status, const char *key, const char *location,
                 struct wr_answer *out, struct wr_err *err)
{
    int rc = record_applied(env, req, status, key, location, err);
    if (rc == 0)
        rc = store_commit(env->writer, err);
    if (rc != 0) {
        store_rollback(env->writer);
        return write_failed(env, rc, err, out);
    }
    cache_bump(env->cache, c->table, store_position(env->writer));
    return 0;
}
