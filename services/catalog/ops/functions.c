/* Functions over a search's rows (see functions.h). */
#include "ops/functions.h"

#include <stdlib.h>
#include <string.h>

#include "ops/render.h"
#include "ops/search.h"
#include "warren/json.h"

#define MAX_FUNCTIONS 64

/* A functions result row, written as one object with sorted keys. */
struct aggregates {
    const char *const *names;
    size_t n;
    struct wr_buf *out;
};

static int write_aggregates(void *arg, const struct value *row, size_t ncols)
{
    struct aggregates *a = arg;
    size_t order[MAX_FUNCTIONS];
    for (size_t i = 0; i < a->n && i < ncols; i++)
        order[i] = i;
    /* insertion sort: a handful of names, sorted as JSON keys are */
    for (size_t i = 1; i < a->n && i < ncols; i++)
        for (size_t j = i; j > 0 && strcmp(a->names[order[j - 1]], a->names[order[j]]) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    wr_buf_putc(a->out, '{');
    for (size_t i = 0; i < a->n && i < ncols; i++) {
        if (i > 0)
            wr_buf_putc(a->out, ',');
        wr_json_key(a->out, a->names[order[i]]);
        render_value(a->out, COL_ANY, &row[order[i]]);
    }
    wr_buf_putc(a->out, '}');
    return wr_buf_error(a->out);
}

int functions_eval(const struct handler_env *env, const struct collection *c,
                   const struct wr_request *req, const char *base_url, struct wr_answer *out,
                   struct wr_err *err)
{
    (void)base_url;
    query *q = handlers_parse_q(env, c, req->q, out);
    if (q == NULL)
        return 0;
    const char *names[MAX_FUNCTIONS];
    size_t nnames = 0, nbinds = 0;
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)256 * 1024);
    /* malloc: only the slots the statement binds are written, then read */
    struct value *binds = malloc(SEARCH_MAX_BINDS * sizeof(*binds));
    int rc = binds == NULL ? WR_ENOMEM : 0;
    if (rc == 0)
        rc = query_functions_sql(q, &sql, binds, &nbinds, SEARCH_MAX_BINDS, names, &nnames,
                                 MAX_FUNCTIONS);
    if (rc == WR_EINVAL || rc == WR_ETOOBIG) {
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER, "q: functions needs 1 to 64 functions");
        rc = 0;
    } else if (rc == 0) {
        struct aggregates a = {.names = names, .n = nnames, .out = &out->body};
        rc = store_query(env->store, sql.data, binds, nbinds, write_aggregates, &a, err);
        out->status = 200;
        out->rows = 1;
        if (search_match_refused(q, rc, err, out))
            rc = 0;
    } else {
        rc = wr_err_set(err, rc, "functions: out of memory");
    }
    free(binds);
    wr_buf_release(&sql);
    query_free(q);
    return rc;
}
