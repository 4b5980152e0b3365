/* Relation members of a write's body (see write_relations.h). Statement
 * texts are sql/write_sql.h's; every value is bound. */
#include "ops/write_relations.h"

#include <stdio.h>
#include <stdlib.h>

#include "ops/write_ledger.h"
#include "ops/write_tx.h"
#include "sql/write_sql.h"

#define MAX_LIST 1000 /* objects in one relation member's list */

int write_insert(const struct handler_env *env, const struct collection *c,
                 const struct assignment *a, struct value *keys, json_t *errors, struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)64 * 1024);
    write_sql_insert(&sql, c, a->idx, a->n);
    int rc = store_exec(env->writer, sql.data, a->values, a->n, NULL, err);
    wr_buf_release(&sql);
    for (size_t k = 0; rc == 0 && k < c->npk; k++) {
        bool given = false;
        for (size_t i = 0; i < a->n && !given; i++) {
            given = a->idx[i] == c->pk[k];
            if (given)
                keys[k] = a->values[i];
        }
        if (!given && c->npk == 1 && c->cols[c->pk[0]].type == COL_INTEGER) {
            keys[k] = (struct value){.kind = V_INT, .i = store_last_rowid(env->writer)};
        } else if (!given) {
            write_invalid(errors, "", "every primary key column is needed");
            rc = WR_EINVAL;
        }
    }
    return rc;
}

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
    write_invalid(errors, name, why);
    return false;
}

/* Inserts a nested object into t, its columns fk forced to fkv; its key
 * goes to keys. Its problems are recorded as an object under name. */
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
    write_body_object(t, obj, false, false, n, sub);
    for (size_t k = 0; k < nfk && n->n < WRITE_MAX_VALUES; k++) {
        for (size_t i = 0; i < n->n; i++)
            if (n->idx[i] == fk[k])
                write_invalid(sub, t->cols[fk[k]].attr, "is set by the relation");
        n->idx[n->n] = fk[k];
        n->values[n->n++] = fkv[k];
    }
    int rc = json_object_size(sub) > 0 ? WR_EINVAL : 0;
    if (rc == 0)
        rc = write_insert(env, t, n, keys, sub, err);
    if (rc == WR_EINVAL)
        (void)json_object_set(errors, name, sub);
    json_decref(sub);
    free(n);
    return rc;
}

/* Whether r's remote columns are its target's key (so a new object can be
 * made for it). */
static bool remote_is_key(const struct relation *r, const struct collection *t)
{
    bool is_key = r->nkeys == t->npk;
    for (size_t k = 0; is_key && k < r->nkeys; k++)
        is_key = r->remote[k] == t->pk[k];
    return is_key;
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
    int rc = 0;
    if (given < 0) {
        write_invalid(errors, r->name, "give every column of the related object's key, or none");
        return WR_EINVAL;
    }
    if (given == 0 && !remote_is_key(r, t)) {
        write_invalid(errors, r->name, "cannot create an object for this relation");
        return WR_EINVAL;
    }
    if (given == 0) {
        rc = create_nested(env, t, m->v, NULL, NULL, 0, vals, errors, r->name, err);
    } else if (!json_is_null(m->v)) {
        /* the plan's count of r's target rows with these referenced values */
        const struct plan_coll *pc = plan_coll_at(env->plan, schema_index(env->schema, c));
        long long found = 0;
        rc = store_count(env->writer, pc->rel_count[r - c->rels], vals, r->nkeys, &found, err);
        if (rc == 0 && found == 0) {
            write_invalid(errors, r->name, "no such object");
            rc = WR_EINVAL;
        }
    }
    for (size_t k = 0; rc == 0 && k < r->nkeys; k++) {
        for (size_t i = 0; i < a->n; i++)
            if (a->idx[i] == r->local[k]) {
                write_invalid(errors, c->cols[r->local[k]].attr, "is also set by a relation");
                rc = WR_EINVAL;
            }
        if (rc == 0 && a->n < WRITE_MAX_VALUES) {
            a->idx[a->n] = r->local[k];
            a->values[a->n++] = vals[k];
        }
    }
    return rc;
}

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

/* Runs sql (built into a buffer of cap bytes by the caller's build) with
 * binds; *changed (may be NULL) gets the rows changed. */
static int exec_sql(const struct handler_env *env, const struct wr_buf *sql,
                    const struct value *binds, size_t n, long long *changed, struct wr_err *err)
{
    if (wr_buf_error(sql) != 0)
        return wr_err_set(err, WR_ETOOBIG, "too many objects");
    return store_exec(env->writer, sql->data, binds, n, changed, err);
}

/* What change_related does to an object of a relation's target. */
enum related_change {
    RELATED_LINK,   /* point it at this row */
    RELATED_UNLINK, /* point it away from this row, if it points at it */
    RELATED_DELETE, /* delete it, if it points at this row */
};

/* Changes the object of t with key tk (how); *changed gets the rows
 * changed, 0 when it does not exist (or, unlinking and deleting, is not
 * related to this row, whose values of r's referenced columns are thisv). */
static int change_related(const struct handler_env *env, const struct collection *t,
                          const struct relation *r, const struct value *tk,
                          const struct value *thisv, enum related_change how, long long *changed,
                          struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, 4096);
    if (how == RELATED_DELETE)
        write_sql_delete_related(&sql, t, r);
    else
        write_sql_relink(&sql, t, r, how == RELATED_UNLINK);
    struct value binds[2 * SCHEMA_MAX_KEY_COLS];
    size_t n = 0;
    for (size_t k = 0; how == RELATED_LINK && k < r->nkeys; k++)
        binds[n++] = thisv[k];
    for (size_t k = 0; k < t->npk; k++)
        binds[n++] = tk[k];
    for (size_t k = 0; how != RELATED_LINK && k < r->nkeys; k++)
        binds[n++] = thisv[k];
    int rc = exec_sql(env, &sql, binds, n, changed, err);
    wr_buf_release(&sql);
    return rc;
}

/* A set: every object related to this row and not in keys is unlinked. */
static int unlink_others(const struct handler_env *env, const struct collection *t,
                         const struct relation *r, const struct value *thisv,
                         const struct elem_key *keys, size_t nkeys, struct wr_err *err)
{
    /* + 1: calloc of 0 bytes may answer NULL */
    struct value *binds = calloc(r->nkeys + nkeys * t->npk + 1, sizeof(*binds));
    if (binds == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)1 << 20);
    write_sql_unlink_others(&sql, t, r, nkeys);
    size_t n = 0;
    for (size_t k = 0; k < r->nkeys; k++)
        binds[n++] = thisv[k];
    for (size_t i = 0; i < nkeys; i++)
        for (size_t k = 0; k < t->npk; k++)
            binds[n++] = keys[i].v[k];
    int rc = exec_sql(env, &sql, binds, n, NULL, err);
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
        write_invalid(errors, r->name, "give every column of each object's key, or none");
        return WR_EINVAL;
    }
    if (given == 0)
        return create_nested(env, t, o, r->remote, thisv, r->nkeys, key->v, errors, r->name, err);
    if (!target_allows(t, METHOD_PATCH, errors, r->name))
        return WR_EINVAL;
    long long changed = 0;
    int rc = change_related(env, t, r, key->v, thisv, RELATED_LINK, &changed, err);
    if (rc == 0 && changed == 0) {
        write_invalid(errors, r->name, "no such object");
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
        write_invalid(errors, r->name, "each object to remove needs its key");
        return WR_EINVAL;
    }
    bool del = json_is_true(json_object_get(o, "__delete__"));
    if (!target_allows(t, del ? METHOD_DELETE : METHOD_PATCH, errors, r->name))
        return WR_EINVAL;
    long long changed = 0;
    int rc = change_related(env, t, r, key.v, thisv, del ? RELATED_DELETE : RELATED_UNLINK,
                            &changed, err);
    if (rc == 0 && changed == 0) {
        write_invalid(errors, r->name, "not related to this object");
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
        write_invalid(errors, r->name, "this relation cannot be changed");
        return WR_EINVAL;
    }
    json_t *add = json_is_array(m->v) ? m->v : json_object_get(m->v, "add");
    json_t *remove = json_is_array(m->v) ? NULL : json_object_get(m->v, "remove");
    size_t nadd = json_array_size(add);
    if (nadd > MAX_LIST || json_array_size(remove) > MAX_LIST) {
        write_invalid(errors, r->name, "at most 1000 objects a list");
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

int write_rel_to_ones(const struct handler_env *env, const struct collection *c,
                      struct assignment *a, json_t *errors, struct wr_err *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->nrels; i++)
        if (!a->rels[i].rel->to_many)
            rc = resolve_to_one(env, c, &a->rels[i], a, errors, err);
    return rc;
}

int write_rel_to_manys(const struct handler_env *env, const struct collection *c,
                       const struct assignment *a, const struct value *keys, json_t *errors,
                       struct wr_err *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->nrels; i++)
        if (a->rels[i].rel->to_many)
            rc = apply_to_many(env, c, &a->rels[i], keys, errors, err);
    return rc;
}

void write_rel_bump(const struct handler_env *env, const struct assignment *a)
{
    for (size_t i = 0; a != NULL && i < a->nrels; i++)
        write_tx_bump(env, schema_at(env->schema, a->rels[i].rel->target)->table);
}

int write_rel_failed(const struct handler_env *env, int rc, json_t *errors,
                     const struct wr_err *err, struct wr_answer *out)
{
    store_rollback(env->writer);
    if (rc == WR_EINVAL) {
        write_reply_invalid(out, errors);
        return 0;
    }
    return write_failed(env, rc, err, out);
}

int write_unlink_one(const struct handler_env *env, const struct collection *c,
                     const struct wr_request *req, const char *base_url, struct wr_answer *out,
                     struct wr_err *err)
{
    const struct relation *r = schema_relation(c, req->relation);
    if (r == NULL || r->hidden) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such relation");
        return 0;
    }
    const struct collection *t = schema_at(env->schema, r->target);
    if (!write_allowed(env, r->to_many ? t : c, METHOD_PATCH | METHOD_PUT, out))
        return 0;
    struct value binds[2 * SCHEMA_MAX_KEY_COLS];
    char scratch[2][1100];
    if (!plan_parse_key(t, req->related_id, binds, scratch[0], sizeof(scratch[0])) ||
        !plan_parse_key(c, req->key, binds + t->npk, scratch[1], sizeof(scratch[1]))) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such related object");
        return 0;
    }
    int rc = write_tx_begin(env, c, req, base_url, out, err);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    struct wr_buf sql;
    wr_buf_init(&sql, 8192);
    write_sql_unlink(&sql, c, r, t);
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
        return write_failed(env, rc, err, out);
    }
    rc = write_tx_finish(env, c, req, 204, req->key, NULL, out, err);
    if (rc == 0 && out->status == 0) {
        write_tx_bump(env, t->table);
        wr_answer_reset(out);
        out->status = 204;
    }
    return rc;
}
