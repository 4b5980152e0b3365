/* Cheap counts (see counts.h). */
#include "ops/counts.h"

#include <string.h>

#include "sql/count_sql.h"

bool counts_estimate_asked(const struct collection *c, const struct wr_request *req)
{
    if (req->count != NULL)
        return strcmp(req->count, "estimated") == 0;
    return c->count_estimated;
}

static int take_estimate(void *arg, const struct value *row, size_t ncols)
{
    struct counted *out = arg;
    if (ncols > 0 && row[0].kind == V_INT && row[0].i >= 0) {
        out->total = row[0].i;
        out->estimated = true;
    }
    return 0;
}

/* sqlite_stat1's estimate of c's rows into out (estimated stays false
 * when there is none). A database without sqlite_stat1 fails to prepare
 * the statement: that is no estimate, not an error. */
static void estimate(const struct handler_env *env, const struct collection *c, struct counted *out)
{
    struct value table = {.kind = V_TEXT, .s = c->table, .n = strlen(c->table)};
    struct wr_err ignored = {0};
    (void)store_query(env->store, COUNT_SQL_ESTIMATE, &table, 1, take_estimate, out, &ignored);
}

int counts_rows(const struct handler_env *env, const struct collection *target,
                const char *count_sql, struct value *binds, size_t nbinds, bool whole,
                const struct wr_request *req, struct counted *out, struct wr_err *err)
{
    *out = (struct counted){0};
    if (whole && counts_estimate_asked(target, req)) {
        estimate(env, target, out);
        if (out->estimated)
            return 0;
    }
    if (env->count_max <= 0)
        return store_count(env->store, count_sql, binds, nbinds, &out->total, err);
    struct wr_buf sql;
    wr_buf_init(&sql, strlen(count_sql) + 64);
    int rc = count_sql_capped(&sql, count_sql);
    binds[nbinds] = (struct value){.kind = V_INT, .i = env->count_max + 1};
    if (rc == 0)
        rc = store_count(env->store, sql.data, binds, nbinds + 1, &out->total, err);
    else
        rc = wr_err_set(err, rc, "count: cannot cap %.40s", count_sql);
    wr_buf_release(&sql);
    if (rc == 0 && out->total > env->count_max) {
        out->total = env->count_max;
        out->truncated = true;
    }
    return rc;
}

int counts_rows_memo(const struct handler_env *env, const struct collection *target,
                     const char *count_sql, struct value *binds, size_t nbinds, bool whole,
                     const struct wr_request *req, pagepos *memo, struct counted *out,
                     struct wr_err *err)
{
    if (whole && counts_estimate_asked(target, req))
        memo = NULL; /* the estimate's to answer */
    struct pagepos_count known;
    if (pagepos_count_find(memo, count_sql, binds, nbinds, &known)) {
        *out = (struct counted){.total = known.total, .truncated = known.truncated};
        return 0;
    }
    int rc = counts_rows(env, target, count_sql, binds, nbinds, whole, req, out, err);
    if (rc == 0 && !out->estimated)
        pagepos_count_put(
            memo, count_sql, binds, nbinds,
            &(struct pagepos_count){.total = out->total, .truncated = out->truncated});
    return rc;
}

void counts_apply(struct page *pg, const struct counted *c)
{
    pg->estimated = c->estimated;
    pg->truncated = c->truncated;
}
