/* An export's chunk (see export.h): the search's SELECT after the cursor,
 * one more row than the chunk holds to learn whether another follows. */
#include "ops/export.h"

#include <stdlib.h>
#include <string.h>

#include "ops/cursor.h"
#include "ops/export_render.h"
#include "ops/fields.h"
#include "ops/search.h"
#include "sql/query.h"

/* The page size an export's cursor is signed with: 0, which no page of a
 * list has, so an export's cursor is never a page's nor a page's an
 * export's. */
#define EXPORT_CURSOR_PER_PAGE 0
/* on_row's "enough": stops the query, which then returns it (never a WR_E*) */
#define STOP 1

/* One chunk being written. */
struct chunk {
    const struct handler_env *env;
    const struct collection *c;
    enum export_format format;
    const bool *hide;
    struct wr_buf *out;
    size_t limit; /* rows it holds at most */
    size_t count;
    bool full; /* limit rows, or EXPORT_CHUNK_BYTES: the rest is the next chunk's */
    bool more; /* a row came after it was full */
    const size_t *keyset;
    size_t nkeyset;
    struct value last[QUERY_KEYSET_MAX]; /* the last row's sort key (borrowed: see on_row) */
    struct wr_buf key_text;              /* owns last's text and blob bytes */
};

/* Keeps row's sort key in x->last, copying its bytes: the row is only
 * valid during the callback. */
static void remember(struct chunk *x, const struct value *row)
{
    wr_buf_reset(&x->key_text);
    size_t at[QUERY_KEYSET_MAX];
    for (size_t k = 0; k < x->nkeyset; k++) {
        const struct value *v = &row[x->keyset[k]];
        at[k] = x->key_text.len;
        if (v->kind == V_TEXT || v->kind == V_BLOB) {
            wr_buf_append(&x->key_text, v->s, v->n);
            wr_buf_putc(&x->key_text, '\0');
        }
        x->last[k] = *v;
    }
    for (size_t k = 0; k < x->nkeyset && wr_buf_error(&x->key_text) == 0; k++)
        if (x->last[k].kind == V_TEXT || x->last[k].kind == V_BLOB)
            x->last[k].s = x->key_text.data + at[k];
}

static int on_row(void *arg, const struct value *row, size_t ncols)
{
    struct chunk *x = arg;
    (void)ncols;
    if (x->full) {
        x->more = true;
        return STOP; /* learnt: read no further */
    }
    export_row(x->out, x->format, x->c, row, x->hide);
    remember(x, row);
    x->count++;
    x->full = x->count >= x->limit || x->out->len >= EXPORT_CHUNK_BYTES;
    return wr_buf_error(x->out) != 0 ? wr_buf_error(x->out) : wr_buf_error(&x->key_text);
}

/* Runs q's SELECT (after key, when after) over limit + 1 rows into x. */
static int chunk_rows(const struct handler_env *env, const query *q, const struct value *after,
                      struct chunk *x, struct wr_err *err)
{
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)256 * 1024);
    size_t nbinds = 0;
    struct value *binds = malloc((SEARCH_MAX_BINDS + 1) * sizeof(*binds));
    int rc = binds == NULL ? WR_ENOMEM
             : after ? query_select_after_sql(q, after, &sql, binds, &nbinds, SEARCH_MAX_BINDS)
                     : query_select_sql(q, &sql, binds, &nbinds, SEARCH_MAX_BINDS);
    wr_buf_puts(&sql, " LIMIT ?");
    if (rc == 0 && wr_buf_error(&sql) != 0)
        rc = wr_buf_error(&sql);
    if (rc == 0) {
        binds[nbinds] = (struct value){.kind = V_INT, .i = (long long)x->limit + 1};
        rc = store_query(env->store, sql.data, binds, nbinds + 1, on_row, x, err);
        rc = rc == STOP ? 0 : rc;
    } else {
        rc = wr_err_set(err, rc, "search too large");
    }
    free(binds);
    wr_buf_release(&sql);
    return rc;
}

/* The cursor after x's last row into out->next; false (a 400 answered)
 * when its key cannot be a cursor (a BLOB). */
static bool next_cursor(const struct chunk *x, const struct wr_request *req, long chunk_no,
                        struct wr_answer *out)
{
    struct wr_buf cur;
    wr_buf_init(&cur, sizeof(out->next));
    bool ok = cursor_encode(&cur, x->env->cursor_key, x->c, req->q, EXPORT_CURSOR_PER_PAGE, x->last,
                            x->nkeyset, chunk_no + 1) == 0 &&
              cur.len > 0 && cur.len < sizeof(out->next);
    if (ok)
        memcpy(out->next, cur.data, cur.len + 1);
    wr_buf_release(&cur);
    if (!ok)
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER,
                        "format: this export's sort key holds a BLOB, which no cursor can carry");
    return ok;
}

/* The chunk number and sort key the request's cursor names (1 and none
 * for the first chunk); false after answering 400. */
static bool read_after(const struct handler_env *env, const struct collection *c,
                       const size_t *cols, size_t ncols, const struct wr_request *req,
                       struct value *key, long *chunk_no, char *scratch, size_t cap,
                       struct wr_answer *out)
{
    *chunk_no = 1;
    if (req->after == NULL || req->after[0] == '\0')
        return true;
    if (cursor_decode(req->after, env->cursor_key, c, cols, ncols, req->q, EXPORT_CURSOR_PER_PAGE,
                      key, chunk_no, scratch, cap))
        return true;
    wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER,
                    "after: not a cursor of this export (take it from the previous chunk, with the "
                    "same q)");
    return false;
}

int export_chunk(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err)
{
    (void)base_url;
    query *q = handlers_parse_q(env, c, req->q ? req->q : "{}", out);
    if (q == NULL)
        return 0;
    int rc = 0;
    if (!query_keyset_ok(q)) {
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER,
                        "q: an export walks in key order, or in the order of an order_by on the "
                        "collection's own columns, with no group_by, limit, offset or single");
        goto free_query;
    }
    size_t cols[QUERY_KEYSET_MAX];
    bool desc[QUERY_KEYSET_MAX];
    size_t ncols = query_keyset_cols(q, cols, desc, QUERY_KEYSET_MAX);
    struct value key[QUERY_KEYSET_MAX];
    char scratch[CURSOR_MAX];
    long chunk_no = 1;
    if (!read_after(env, c, cols, ncols, req, key, &chunk_no, scratch, sizeof(scratch), out))
        goto free_query;
    const struct view *v = env->view;
    struct chunk x = {.env = env,
                      .c = c,
                      .format =
                          strcmp(req->format, WR_FORMAT_CSV) == 0 ? EXPORT_CSV : EXPORT_NDJSON,
                      .hide = v != NULL && v->c == c ? v->top.hide_cols : NULL,
                      .out = &out->body,
                      .limit = EXPORT_CHUNK_ROWS,
                      .keyset = cols,
                      .nkeyset = ncols};
    if (req->results_per_page > 0 && req->results_per_page < EXPORT_CHUNK_ROWS)
        x.limit = (size_t)req->results_per_page;
    wr_buf_init(&x.key_text, (size_t)64 * 1024);
    if (x.format == EXPORT_CSV && chunk_no == 1)
        export_csv_header(&out->body, c, x.hide);
    rc = chunk_rows(env, q, chunk_no > 1 ? key : NULL, &x, err);
    out->status = 200;
    out->chunk = true;
    out->rows = (long long)x.count;
    if (rc == 0 && x.more)
        (void)next_cursor(&x, req, chunk_no, out);
    wr_buf_release(&x.key_text);
    wr_buf_printf(&out->detail, "{\"chunk\":%ld,\"format\":\"%s\"}", chunk_no,
                  x.format == EXPORT_CSV ? WR_FORMAT_CSV : WR_FORMAT_NDJSON);
free_query:
    query_free(q);
    return rc;
}
