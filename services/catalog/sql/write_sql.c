/* The statements of writes (see write_sql.h). */
#include "sql/write_sql.h"

#include "sql/plan.h"

void write_sql_insert(struct wr_buf *sql, const struct collection *c, const size_t *cols, size_t n)
{
    wr_buf_puts(sql, "INSERT INTO ");
    plan_ident(sql, c->table);
    if (n == 0) {
        wr_buf_puts(sql, " DEFAULT VALUES");
        return;
    }
    wr_buf_puts(sql, " (");
    plan_idents(sql, c, cols, n);
    wr_buf_puts(sql, ") VALUES (");
    for (size_t i = 0; i < n; i++)
        wr_buf_puts(sql, i > 0 ? ",?" : "?");
    wr_buf_putc(sql, ')');
}

static bool is_key(const struct collection *c, size_t col)
{
    for (size_t k = 0; k < c->npk; k++)
        if (c->pk[k] == col)
            return true;
    return false;
}

void write_sql_upsert(struct wr_buf *sql, const struct collection *c, const size_t *cols, size_t n)
{
    write_sql_insert(sql, c, cols, n);
    wr_buf_puts(sql, " ON CONFLICT (");
    plan_idents(sql, c, c->pk, c->npk);
    wr_buf_puts(sql, ") DO ");
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (is_key(c, cols[i]))
            continue;
        wr_buf_puts(sql, any ? "," : "UPDATE SET ");
        any = true;
        plan_ident(sql, c->cols[cols[i]].sql);
        wr_buf_puts(sql, "=excluded.");
        plan_ident(sql, c->cols[cols[i]].sql);
    }
    if (!any)
        wr_buf_puts(sql, "NOTHING");
}

void write_sql_update(struct wr_buf *sql, const struct collection *c, const size_t *cols, size_t n,
                      bool to_null)
{
    wr_buf_puts(sql, "UPDATE ");
    plan_ident(sql, c->table);
    for (size_t k = 0; k < n; k++) {
        wr_buf_puts(sql, k ? "," : " SET ");
        plan_ident(sql, c->cols[cols[k]].sql);
        wr_buf_puts(sql, to_null ? "=NULL" : "=?");
    }
}

void write_sql_change(struct wr_buf *sql, const struct collection *c, bool del, const size_t *cols,
                      size_t n)
{
    if (del) {
        wr_buf_puts(sql, "DELETE FROM ");
        plan_ident(sql, c->table);
    } else if (n > 0) {
        write_sql_update(sql, c, cols, n, false);
    } else {
        wr_buf_puts(sql, "UPDATE ");
        plan_ident(sql, c->table);
        wr_buf_puts(sql, " SET ");
        plan_ident(sql, c->cols[c->pk[0]].sql);
        wr_buf_putc(sql, '=');
        plan_ident(sql, c->cols[c->pk[0]].sql);
    }
}

void write_sql_change_one(struct wr_buf *sql, const struct collection *c, bool del,
                          const size_t *cols, size_t n)
{
    write_sql_change(sql, c, del, cols, n);
    wr_buf_puts(sql, " WHERE ");
    plan_cond(sql, c, c->pk, c->npk);
}

int write_sql_many(struct wr_buf *with, struct wr_buf *where, const struct collection *c,
                   const query *q, struct value *binds, size_t *nbinds, size_t cap)
{
    if (q == NULL)
        return 0;
    wr_buf_puts(with, "WITH m(");
    for (size_t i = 0; i < c->ncols; i++)
        wr_buf_printf(with, "%s\"c%zu\"", i ? "," : "", i);
    wr_buf_puts(with, ") AS (");
    int rc = query_select_sql(q, with, binds, nbinds, cap);
    wr_buf_puts(with, ") ");
    wr_buf_puts(where, " WHERE (");
    plan_idents(where, c, c->pk, c->npk);
    wr_buf_puts(where, ") IN (SELECT ");
    for (size_t k = 0; k < c->npk; k++)
        wr_buf_printf(where, "%s\"c%zu\"", k ? "," : "", c->pk[k]);
    wr_buf_puts(where, " FROM m)");
    return rc;
}

void write_sql_unlink(struct wr_buf *sql, const struct collection *c, const struct relation *r,
                      const struct collection *t)
{
    const struct collection *w = r->to_many ? t : c; /* whose row changes */
    const size_t *fk = r->to_many ? r->remote : r->local;
    write_sql_update(sql, w, fk, r->nkeys, true);
    wr_buf_puts(sql, " WHERE ");
    if (r->to_many) {
        plan_related_cond(sql, c, r, t);
        return;
    }
    /* to-one, binds in the same order: t's key, then c's */
    plan_in_key(sql, c, r->local, t, r->remote, r->nkeys);
    wr_buf_puts(sql, " AND ");
    plan_cond(sql, c, c->pk, c->npk);
}

/* ` WHERE <t's key> AND <r's remote columns>`: the object of t with key ?
 * if it points at the row of r's owner whose values are ?. */
static void where_related(struct wr_buf *sql, const struct collection *t, const struct relation *r)
{
    wr_buf_puts(sql, " WHERE ");
    plan_cond(sql, t, t->pk, t->npk);
    wr_buf_puts(sql, " AND ");
    plan_cond(sql, t, r->remote, r->nkeys);
}

void write_sql_relink(struct wr_buf *sql, const struct collection *t, const struct relation *r,
                      bool unlink)
{
    write_sql_update(sql, t, r->remote, r->nkeys, unlink);
    if (unlink) {
        where_related(sql, t, r);
        return;
    }
    wr_buf_puts(sql, " WHERE ");
    plan_cond(sql, t, t->pk, t->npk);
}

void write_sql_delete_related(struct wr_buf *sql, const struct collection *t,
                              const struct relation *r)
{
    wr_buf_puts(sql, "DELETE FROM ");
    plan_ident(sql, t->table);
    where_related(sql, t, r);
}

void write_sql_unlink_others(struct wr_buf *sql, const struct collection *t,
                             const struct relation *r, size_t nkeep)
{
    write_sql_update(sql, t, r->remote, r->nkeys, true);
    wr_buf_puts(sql, " WHERE ");
    plan_cond(sql, t, r->remote, r->nkeys);
    for (size_t i = 0; i < nkeep; i++) {
        wr_buf_puts(sql, i ? " OR (" : " AND NOT ((");
        plan_cond(sql, t, t->pk, t->npk);
        wr_buf_putc(sql, ')');
    }
    if (nkeep > 0)
        wr_buf_putc(sql, ')');
}
