/* Writes the SQL of a parsed search (see query.h). Identifiers come only
 * from the schema, double-quoted with embedded quotes doubled as plan.c
 * does; request values only ever become bound `?`. The main table is t0;
 * each LEFT JOIN (for order_by) and each EXISTS (for a relation filter)
 * gets the next alias, in the order they appear in the text. */
#include "sql/query.h"

#include <string.h>

#include "sql/plan.h"
#include "sql/query_int.h"

struct emit {
    const query *q;
    struct wr_buf *b;
    struct value *binds;
    size_t *nbinds;
    size_t cap;
    int alias;    /* the last alias handed out */
    bool rank;    /* a SELECT that orders by "_rank": query.rank_node is joined as tr */
    bool reverse; /* a backward keyset walk: every direction of the order flipped */
    int err;
};

/* t<alias>."Column" */
static void column(struct emit *e, int alias, const struct collection *c, size_t col)
{
    wr_buf_printf(e->b, "t%d.", alias);
    plan_ident(e->b, c->cols[col].sql);
}

static void bind(struct emit *e, const struct value *v)
{
    if (*e->nbinds >= e->cap) {
        e->err = WR_ETOOBIG;
        return;
    }
    e->binds[(*e->nbinds)++] = *v;
    wr_buf_putc(e->b, '?');
}

static const char *const cmp_sql[] = {
    [QOP_EQ] = " = ",  [QOP_NE] = " != ", [QOP_GT] = " > ",      [QOP_LT] = " < ",
    [QOP_GE] = " >= ", [QOP_LE] = " <= ", [QOP_LIKE] = " LIKE ", [QOP_ILIKE] = " LIKE ",
};

/* "t1."A" = t0."B" AND ..." for each key pair of relation r between the
 * alias of its target (inner) and the alias of its source (outer). */
static void key_pairs(struct emit *e, const struct relation *r, const struct collection *src,
                      int inner, int outer)
{
    const struct collection *t = schema_at(e->q->s, r->target);
    for (size_t k = 0; k < r->nkeys; k++) {
        if (k > 0)
            wr_buf_puts(e->b, " AND ");
        column(e, inner, t, r->remote[k]);
        wr_buf_puts(e->b, " = ");
        column(e, outer, src, r->local[k]);
    }
}

/* `<fts>."Name" MATCH ?` (`<fts>."<fts table>"` for every column): the
 * left side names the FTS5 table's hidden column to search them all. */
static void match_expr(struct emit *e, const struct qnode *n)
{
    plan_ident(e->b, n->col == QNONE ? n->coll->fts_table : n->coll->cols[n->col].sql);
    wr_buf_puts(e->b, " MATCH ");
    bind(e, &e->q->vals[n->val]);
}

/* Match node i over alias: the key among the FTS5 table's matching rowids
 * (its content_rowid is the key: model/fts.h); for the node "_rank" orders
 * by, in a SELECT, the condition on the joined tr instead. */
static void match(struct emit *e, size_t i, int alias)
{
    const struct qnode *n = &e->q->nodes[i];
    if (e->rank && i == e->q->rank_node) {
        wr_buf_puts(e->b, "tr.");
        match_expr(e, n);
        return;
    }
    column(e, alias, n->coll, n->coll->pk[0]);
    wr_buf_puts(e->b, " IN (SELECT rowid FROM ");
    plan_ident(e->b, n->coll->fts_table);
    wr_buf_puts(e->b, " WHERE ");
    plan_ident(e->b, n->coll->fts_table);
    wr_buf_putc(e->b, '.');
    match_expr(e, n);
    wr_buf_putc(e->b, ')');
}

/* Node i, whose columns are in alias `alias`; `outer` is the alias of the
 * scope enclosing it and oc its collection (for a column compared across an
 * EXISTS). */
static void node(struct emit *e, size_t i, int alias, int outer, const struct collection *oc)
{
    const struct qnode *n = &e->q->nodes[i];
    switch (n->kind) {
    case QN_AND:
    case QN_OR:
        wr_buf_putc(e->b, '(');
        for (size_t c = n->child; c != QNONE; c = e->q->nodes[c].next) {
            if (c != n->child)
                wr_buf_puts(e->b, n->kind == QN_AND ? " AND " : " OR ");
            node(e, c, alias, outer, oc);
        }
        wr_buf_putc(e->b, ')');
        break;
    case QN_NOT: {
        enum qnode_kind ck = e->q->nodes[n->child].kind;
        bool parens = ck != QN_AND && ck != QN_OR;
        wr_buf_puts(e->b, parens ? "NOT (" : "NOT ");
        node(e, n->child, alias, outer, oc);
        if (parens)
            wr_buf_putc(e->b, ')');
        break;
    }
    case QN_VALUE:
    case QN_COLUMN:
        if (n->op == QOP_ILIKE)
            wr_buf_puts(e->b, "lower(");
        column(e, alias, n->coll, n->col);
        wr_buf_puts(e->b, n->op == QOP_ILIKE ? ")" : "");
        wr_buf_puts(e->b, cmp_sql[n->op]);
        wr_buf_puts(e->b, n->op == QOP_ILIKE ? "lower(" : "");
        if (n->kind == QN_VALUE)
            bind(e, &e->q->vals[n->val]);
        else if (n->col2_outer)
            column(e, outer, oc, n->col2);
        else
            column(e, alias, n->coll, n->col2);
        wr_buf_puts(e->b, n->op == QOP_ILIKE ? ")" : "");
        break;
    case QN_IN:
        column(e, alias, n->coll, n->col);
        wr_buf_puts(e->b, n->op == QOP_IN ? " IN (" : " NOT IN (");
        for (size_t v = 0; v < n->nval; v++) {
            if (v > 0)
                wr_buf_putc(e->b, ',');
            bind(e, &e->q->vals[n->val + v]);
        }
        wr_buf_putc(e->b, ')');
        break;
    case QN_NULL:
        column(e, alias, n->coll, n->col);
        wr_buf_puts(e->b, n->op == QOP_IS_NULL ? " IS NULL" : " IS NOT NULL");
        break;
    case QN_MATCH:
        match(e, i, alias);
        break;
    case QN_EXISTS: {
        const struct relation *r = &n->coll->rels[n->rel];
        int inner = ++e->alias;
        wr_buf_puts(e->b, "EXISTS (SELECT 1 FROM ");
        plan_ident(e->b, schema_at(e->q->s, r->target)->table);
        wr_buf_printf(e->b, " AS t%d WHERE ", inner);
        key_pairs(e, r, n->coll, inner, alias);
        if (n->child != QNONE) {
            wr_buf_puts(e->b, " AND ");
            node(e, n->child, inner, alias, n->coll);
        }
        wr_buf_putc(e->b, ')');
        break;
    }
    }
}

/* " WHERE a AND b" for the top-level filters. */
static void where(struct emit *e)
{
    for (size_t i = e->q->first; i != QNONE; i = e->q->nodes[i].next) {
        wr_buf_puts(e->b, i == e->q->first ? " WHERE " : " AND ");
        node(e, i, 0, 0, e->q->c);
    }
}

static void from(struct emit *e)
{
    wr_buf_puts(e->b, " FROM ");
    plan_ident(e->b, e->q->c->table);
    wr_buf_puts(e->b, " AS t0");
}

/* The alias of order_by entry i's join: one LEFT JOIN per relation, t1, t2,
 * ... in order of first use. 0 for a column of the collection itself. */
static int join_alias(const query *q, size_t i)
{
    if (q->order[i].rel == QNONE)
        return 0;
    int alias = 0;
    for (size_t j = 0; j < q->norder; j++) {
        size_t rel = q->order[j].rel;
        bool seen = rel == QNONE;
        for (size_t k = 0; k < j && !seen; k++)
            seen = q->order[k].rel == rel;
        if (!seen)
            alias++;
        if (rel == q->order[i].rel)
            return alias;
    }
    return alias;
}

static void joins(struct emit *e)
{
    const query *q = e->q;
    if (e->rank) {
        wr_buf_puts(e->b, " JOIN ");
        plan_ident(e->b, q->c->fts_table);
        wr_buf_puts(e->b, " AS tr ON tr.rowid = ");
        column(e, 0, q->c, q->c->pk[0]);
    }
    for (size_t i = 0; i < q->norder; i++) {
        int alias = join_alias(q, i);
        if (alias <= e->alias)
            continue; /* no join, or one already written */
        const struct relation *r = &q->c->rels[q->order[i].rel];
        wr_buf_puts(e->b, " LEFT JOIN ");
        plan_ident(e->b, schema_at(q->s, r->target)->table);
        wr_buf_printf(e->b, " AS t%d ON ", alias);
        key_pairs(e, r, q->c, alias, 0);
        e->alias = alias;
    }
}

static void group_by(struct emit *e)
{
    for (size_t i = 0; i < e->q->ngroup; i++) {
        wr_buf_puts(e->b, i == 0 ? " GROUP BY " : ",");
        column(e, 0, e->q->c, e->q->group[i]);
    }
}

/* The request's order, then the key (or with group_by the grouped columns)
 * for a stable order, leaving out columns of t0 already ordered by. */
static void order_by(struct emit *e)
{
    const query *q = e->q;
    size_t n = 0;
    for (size_t i = 0; i < q->norder; i++, n++) {
        int alias = join_alias(q, i);
        wr_buf_puts(e->b, n == 0 ? " ORDER BY " : ",");
        bool desc = q->order[i].desc != e->reverse;
        if (q->order[i].rank) {
            wr_buf_puts(e->b, "tr.rank");
            wr_buf_puts(e->b, desc ? " DESC" : " ASC");
            continue;
        }
        const struct collection *c =
            alias == 0 ? q->c : schema_at(q->s, q->c->rels[q->order[i].rel].target);
        column(e, alias, c, q->order[i].col);
        wr_buf_puts(e->b, desc ? " DESC" : " ASC");
    }
    const size_t *tie = q->ngroup > 0 ? q->group : q->c->pk;
    size_t ntie = q->ngroup > 0 ? q->ngroup : q->c->npk;
    for (size_t k = 0; k < ntie; k++) {
        bool done = false;
        for (size_t i = 0; i < q->norder && !done; i++)
            done = q->order[i].rel == QNONE && q->order[i].col == tie[k];
        for (size_t j = 0; j < k && !done; j++)
            done = tie[j] == tie[k];
        if (done)
            continue;
        wr_buf_puts(e->b, n++ == 0 ? " ORDER BY " : ",");
        column(e, 0, q->c, tie[k]);
        wr_buf_puts(e->b, e->reverse ? " DESC" : "");
    }
}

static int finish(struct emit *e)
{
    if (e->err != 0)
        return e->err;
    return wr_buf_error(e->b);
}

/* `SELECT t0."A",t0."B",...`: every column of the collection in table
 * order, so a row's value i is column i (as in plan.c). */
static void select_columns(struct emit *e)
{
    wr_buf_puts(e->b, "SELECT ");
    for (size_t i = 0; i < e->q->c->ncols; i++) {
        if (i > 0)
            wr_buf_putc(e->b, ',');
        column(e, 0, e->q->c, i);
    }
}

int query_select_sql(const query *q, struct wr_buf *sql, struct value *binds, size_t *nbinds,
                     size_t cap)
{
    struct emit e = {.q = q,
                     .b = sql,
                     .binds = binds,
                     .nbinds = nbinds,
                     .cap = cap,
                     .rank = q->rank_node != QNONE};
    *nbinds = 0;
    select_columns(&e);
    from(&e);
    joins(&e);
    where(&e);
    group_by(&e);
    order_by(&e);
    return finish(&e);
}

bool query_keyset_ok(const query *q)
{
    for (size_t i = 0; i < q->norder; i++)
        if (q->order[i].rel != QNONE || q->order[i].rank)
            return false;
    return q->ngroup == 0 && q->limit < 0 && q->offset == 0 && !q->single &&
           q->norder + q->c->npk <= QUERY_KEYSET_MAX;
}

size_t query_keyset_cols(const query *q, size_t *cols, bool *desc, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < q->norder && n < cap; i++) {
        if (q->order[i].rank || q->order[i].rel != QNONE)
            continue; /* no keyset: query_keyset_ok is false */
        cols[n] = q->order[i].col;
        desc[n++] = q->order[i].desc;
    }
    /* the key breaks ties, as order_by() writes it: columns not yet ordered */
    for (size_t k = 0; k < q->c->npk && n < cap; k++) {
        bool done = false;
        for (size_t i = 0; i < n && !done; i++)
            done = cols[i] == q->c->pk[k];
        if (!done) {
            cols[n] = q->c->pk[k];
            desc[n++] = false;
        }
    }
    return n;
}

/* Column i of the keyset comes after value v: SQLite puts NULL first in
 * ascending order and last in descending order. */
static void after_one(struct emit *e, size_t col, bool desc, const struct value *v)
{
    bool null = v->kind == V_NULL;
    if (desc && null) {
        wr_buf_puts(e->b, "0");
        return;
    }
    if (!desc && null) {
        column(e, 0, e->q->c, col);
        wr_buf_puts(e->b, " IS NOT NULL");
        return;
    }
    wr_buf_putc(e->b, '(');
    column(e, 0, e->q->c, col);
    wr_buf_puts(e->b, desc ? " < " : " > ");
    bind(e, v);
    if (desc) {
        wr_buf_puts(e->b, " OR ");
        column(e, 0, e->q->c, col);
        wr_buf_puts(e->b, " IS NULL");
    }
    wr_buf_putc(e->b, ')');
}

/* The rows after the cursor's: with the key order a row value,
 * `(t0.pk...) > (?...)`; with an order_by of mixed directions and NULLs,
 * `(a after ?) OR (a IS ? AND b after ?) OR ...`. Reversed, the rows
 * before it: "after" in the order with every direction flipped, which is
 * the forward order backwards, NULLs included (they sort first ascending,
 * last descending). */
static void keyset(struct emit *e, const struct value *after)
{
    const query *q = e->q;
    size_t cols[QUERY_KEYSET_MAX];
    bool desc[QUERY_KEYSET_MAX];
    size_t n = query_keyset_cols(q, cols, desc, QUERY_KEYSET_MAX);
    for (size_t k = 0; k < n; k++)
        desc[k] = desc[k] != e->reverse;
    wr_buf_puts(e->b, q->first == QNONE ? " WHERE (" : " AND (");
    if (q->norder == 0) {
        for (size_t k = 0; k < n; k++) {
            wr_buf_puts(e->b, k > 0 ? "," : "");
            column(e, 0, q->c, cols[k]);
        }
        wr_buf_puts(e->b, e->reverse ? ") < (" : ") > (");
        for (size_t k = 0; k < n; k++) {
            wr_buf_puts(e->b, k > 0 ? "," : "");
            bind(e, &after[k]);
        }
        wr_buf_putc(e->b, ')');
        return;
    }
    for (size_t i = 0; i < n; i++) {
        wr_buf_puts(e->b, i > 0 ? " OR (" : "(");
        for (size_t j = 0; j < i; j++) {
            column(e, 0, q->c, cols[j]);
            wr_buf_puts(e->b, " IS ");
            bind(e, &after[j]);
            wr_buf_puts(e->b, " AND ");
        }
        after_one(e, cols[i], desc[i], &after[i]);
        wr_buf_putc(e->b, ')');
    }
    wr_buf_putc(e->b, ')');
}

int query_select_before_sql(const query *q, const struct value *before, struct wr_buf *sql,
                            struct value *binds, size_t *nbinds, size_t cap)
{
    struct emit e = {
        .q = q, .b = sql, .binds = binds, .nbinds = nbinds, .cap = cap, .reverse = true};
    *nbinds = 0;
    select_columns(&e);
    from(&e);
    where(&e);
    keyset(&e, before);
    order_by(&e);
    return finish(&e);
}

int query_select_after_sql(const query *q, const struct value *after, struct wr_buf *sql,
                           struct value *binds, size_t *nbinds, size_t cap)
{
    struct emit e = {.q = q, .b = sql, .binds = binds, .nbinds = nbinds, .cap = cap};
    *nbinds = 0;
    select_columns(&e);
    from(&e);
    where(&e);
    keyset(&e, after);
    order_by(&e);
    return finish(&e);
}

int query_count_sql(const query *q, struct wr_buf *sql, struct value *binds, size_t *nbinds,
                    size_t cap)
{
    struct emit e = {.q = q, .b = sql, .binds = binds, .nbinds = nbinds, .cap = cap};
    *nbinds = 0;
    wr_buf_puts(sql, q->ngroup > 0 ? "SELECT COUNT(*) FROM (SELECT 1" : "SELECT COUNT(*)");
    from(&e);
    where(&e);
    group_by(&e);
    if (q->ngroup > 0)
        wr_buf_putc(sql, ')');
    return finish(&e);
}

int query_functions_sql(const query *q, struct wr_buf *sql, struct value *binds, size_t *nbinds,
                        size_t cap, const char **names, size_t *nnames, size_t names_cap)
{
    struct emit e = {.q = q, .b = sql, .binds = binds, .nbinds = nbinds, .cap = cap};
    *nbinds = 0;
    *nnames = 0;
    if (q->nfuncs == 0)
        return WR_EINVAL;
    if (q->nfuncs > names_cap)
        return WR_ETOOBIG;
    for (size_t i = 0; i < q->nfuncs; i++) {
        wr_buf_puts(sql, i == 0 ? "SELECT " : ",");
        wr_buf_puts(sql, q->funcs[i].fn);
        wr_buf_putc(sql, '(');
        column(&e, 0, q->c, q->funcs[i].col);
        wr_buf_putc(sql, ')');
        names[i] = q->funcs[i].name;
    }
    *nnames = q->nfuncs;
    from(&e);
    where(&e);
    return finish(&e);
}
