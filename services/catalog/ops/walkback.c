/* Backward keyset walks (see walkback.h): one statement, the rows before
 * a cursor nearest first, at most a page and one more. */
#include "ops/walkback.h"

#include <stdlib.h>
#include <string.h>

#include "ops/search.h"
#include "store/store.h"

struct seen {
    struct walkback *w;
    const size_t *cols;
    size_t ncols;
    long per_page;
    int err;
};

/* Counts the page's rows; keeps the key of the one past them. */
static int on_row(void *arg, const struct value *row, size_t ncols)
{
    struct seen *s = arg;
    (void)ncols;
    if (s->w->rows < s->per_page) {
        s->w->rows++;
        return 0;
    }
    for (size_t k = 0; k < s->ncols; k++) {
        struct value v = row[s->cols[k]];
        if (v.kind == V_TEXT || v.kind == V_BLOB) { /* the row's memory is SQLite's */
            char *copy = malloc(v.n + 1);
            if (copy == NULL) {
                s->err = WR_ENOMEM;
                return WR_ENOMEM;
            }
            memcpy(copy, v.s, v.n);
            copy[v.n] = '\0';
            s->w->owned[k] = copy;
            v.s = copy;
        }
        s->w->start[k] = v;
    }
    s->w->found = true;
    return 0;
}

int walkback_find(const struct handler_env *env, const query *q, const struct value *cursor,
                  const size_t *cols, size_t ncols, long per_page, struct walkback *w,
                  struct wr_err *err)
{
    *w = (struct walkback){.found = false};
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)256 * 1024);
    size_t nbinds = 0;
    /* malloc: only the slots the statement binds are written, then read */
    struct value *binds = malloc((SEARCH_MAX_BINDS + 2) * sizeof(*binds));
    int rc = binds == NULL
                 ? WR_ENOMEM
                 : query_select_before_sql(q, cursor, &sql, binds, &nbinds, SEARCH_MAX_BINDS);
    wr_buf_puts(&sql, " LIMIT ? OFFSET 0");
    if (rc == 0)
        rc = wr_buf_error(&sql);
    struct seen s = {.w = w, .cols = cols, .ncols = ncols, .per_page = per_page};
    if (rc == 0) {
        binds[nbinds] = (struct value){.kind = V_INT, .i = (long long)per_page + 1};
        rc = store_query(env->store, sql.data, binds, nbinds + 1, on_row, &s, err);
        if (s.err != 0)
            rc = wr_err_set(err, s.err, "before: out of memory");
    } else {
        rc = wr_err_set(err, rc, "search too large");
    }
    free(binds);
    wr_buf_release(&sql);
    return rc;
}

void walkback_release(struct walkback *w)
{
    for (size_t k = 0; k < QUERY_KEYSET_MAX; k++) {
        free(w->owned[k]);
        w->owned[k] = NULL;
    }
    w->found = false;
}
