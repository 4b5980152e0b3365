/* Writes of many (see write_many.h). */
#include "ops/write_many.h"

#include <stdio.h>
#include <stdlib.h>

#include "ops/search.h"
#include "ops/write_ledger.h"
#include "ops/write_tx.h"
#include "sql/write_sql.h"

#define MANY_MAX_BINDS 30000

/* Runs the UPDATE (a set) or DELETE (a NULL) of every row q finds. */
static int change_many(const struct handler_env *env, const struct collection *c, const query *q,
                       const struct assignment *a, long long *changed, struct wr_err *err)
{
    struct value *binds = malloc((MANY_MAX_BINDS + WRITE_MAX_VALUES) * sizeof(*binds));
    struct wr_buf sql, where;
    wr_buf_init(&sql, (size_t)4 << 20);
    wr_buf_init(&where, 4096);
    size_t n = 0;
    int rc = binds ? write_sql_many(&sql, &where, c, q, binds, &n, MANY_MAX_BINDS) : WR_ENOMEM;
    write_sql_change(&sql, c, a == NULL, a ? a->idx : NULL, a ? a->n : 0);
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

int write_many(const struct handler_env *env, const struct collection *c,
               const struct wr_request *req, struct assignment *a, struct wr_answer *out,
               struct wr_err *err)
{
    if (!write_allowed(env, c, a ? METHOD_PATCH_MANY : METHOD_DELETE_MANY, out))
        return 0;
    if (a != NULL && write_body_parse(c, req->body, true, a, out) != 0)
        return 0;
    if (a != NULL && a->nrels > 0) {
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER,
                        "relations cannot be changed by a PATCH of many objects");
        return 0;
    }
    query *q = req->q ? handlers_parse_q(env, c, req->q, out) : NULL;
    if (req->q != NULL && q == NULL)
        return 0;
    int rc = write_tx_begin(env, c, req, NULL, out, err);
    long long changed = 0;
    if (rc == 0) {
        rc = change_many(env, c, q, a, &changed, err);
        char count[24];
        (void)snprintf(count, sizeof(count), "%lld", changed);
        if (rc == 0) {
            rc = write_tx_finish(env, c, req, 200, count, NULL, out, err);
        } else if (rc == WR_ETOOBIG) {
            store_rollback(env->writer);
            wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER, "q: the search is too large");
            rc = 0;
        } else {
            store_rollback(env->writer);
            rc = write_failed(env, rc, err, out);
        }
        if (rc == 0 && out->status == 0)
            write_reply_many(out, a ? WR_OP_UPDATE : WR_OP_DELETE, changed);
    }
    query_free(q);
    return rc > 0 ? 0 : rc;
}
