/* Builds the catalog's SQL (see plan.h). Identifiers are quoted with double
 * quotes, embedded quotes doubled, and come only from the introspected
 * schema. */
#include "sql/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "warren/buf.h"

#define SQL_MAX ((size_t)64 * 1024)

struct plan {
    struct plan_coll *colls;
    size_t n;
};

void plan_ident(struct wr_buf *b, const char *name)
{
    wr_buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            wr_buf_putc(b, '"');
        wr_buf_putc(b, *p);
    }
    wr_buf_putc(b, '"');
}

static void select_from(struct wr_buf *b, const struct collection *c)
{
    wr_buf_puts(b, "SELECT ");
    for (size_t i = 0; i < c->ncols; i++) {
        if (i > 0)
            wr_buf_putc(b, ',');
        plan_ident(b, c->cols[i].sql);
    }
    wr_buf_puts(b, " FROM ");
    plan_ident(b, c->table);
}

static void where(struct wr_buf *b, const struct collection *c, const size_t *cols, size_t n)
{
    if (n > 0) {
        wr_buf_puts(b, " WHERE ");
        plan_cond(b, c, cols, n);
    }
}

static void order_by_key(struct wr_buf *b, const struct collection *c)
{
    if (c->npk > 0) {
        wr_buf_puts(b, " ORDER BY ");
        plan_idents(b, c, c->pk, c->npk);
    }
}

/* A page from a remembered key on (cache/pagepos.h): FROM its row
 * (key >= ?), AFTER it (key > ?). */
enum shape { ROWS, PAGE, PAGE_FROM, PAGE_AFTER, COUNT };

/* ` AND ` (or ` WHERE ` with no filter) and c's key compared to ? by op:
 * `"k">=?`, or a row value for a composite key, `("a","b")>=(?,?)`, which
 * SQLite compares in the order ORDER BY "a","b" gives and seeks by the
 * key's index. */
static void key_from(struct wr_buf *b, const struct collection *c, size_t nfilter, const char *op)
{
    wr_buf_puts(b, nfilter > 0 ? " AND " : " WHERE ");
    wr_buf_puts(b, c->npk > 1 ? "(" : "");
    plan_idents(b, c, c->pk, c->npk);
    wr_buf_puts(b, c->npk > 1 ? ")" : "");
    wr_buf_puts(b, op);
    for (size_t k = 0; k < c->npk; k++)
        wr_buf_puts(b, k == 0 ? (c->npk > 1 ? "(?" : "?") : ",?");
    wr_buf_puts(b, c->npk > 1 ? ")" : "");
}

/* SELECT (or COUNT) over c, filtered by cols = ?, in key order. A keyset
 * shape with no key to seek by (npk 0) is NULL. */
static char *statement(const struct collection *c, const size_t *cols, size_t n, enum shape s)
{
    if ((s == PAGE_FROM || s == PAGE_AFTER) && c->npk == 0)
        return NULL;
    struct wr_buf b;
    wr_buf_init(&b, SQL_MAX);
    if (s == COUNT) {
        wr_buf_puts(&b, "SELECT COUNT(*) FROM ");
        plan_ident(&b, c->table);
    } else {
        select_from(&b, c);
    }
    where(&b, c, cols, n);
    if (s == PAGE_FROM || s == PAGE_AFTER)
        key_from(&b, c, n, s == PAGE_FROM ? ">=" : ">");
    if (s != COUNT)
        order_by_key(&b, c);
    if (s == PAGE || s == PAGE_FROM || s == PAGE_AFTER)
        wr_buf_puts(&b, " LIMIT ? OFFSET ?");
    return wr_buf_detach(&b, NULL);
}

static void free_coll(struct plan_coll *pc, size_t nrels)
{
    free(pc->list);
    free(pc->list_from);
    free(pc->list_after);
    free(pc->count);
    free(pc->get);
    for (size_t i = 0; i < nrels; i++) {
        if (pc->rel_all)
            free(pc->rel_all[i]);
        if (pc->rel_page)
            free(pc->rel_page[i]);
        if (pc->rel_from)
            free(pc->rel_from[i]);
        if (pc->rel_after)
            free(pc->rel_after[i]);
        if (pc->rel_count)
            free(pc->rel_count[i]);
    }
    free(pc->rel_all);
    free(pc->rel_page);
    free(pc->rel_from);
    free(pc->rel_after);
    free(pc->rel_count);
}

static bool build_coll(struct plan_coll *pc, const schema *s, const struct collection *c)
{
    pc->list = statement(c, NULL, 0, PAGE);
    pc->list_from = statement(c, NULL, 0, PAGE_FROM);
    pc->list_after = statement(c, NULL, 0, PAGE_AFTER);
    pc->count = statement(c, NULL, 0, COUNT);
    pc->get = statement(c, c->pk, c->npk, ROWS);
    pc->rel_all = calloc(c->nrels + 1, sizeof(char *));
    pc->rel_page = calloc(c->nrels + 1, sizeof(char *));
    pc->rel_from = calloc(c->nrels + 1, sizeof(char *));
    pc->rel_after = calloc(c->nrels + 1, sizeof(char *));
    pc->rel_count = calloc(c->nrels + 1, sizeof(char *));
    if (!pc->list || !pc->count || !pc->get || !pc->rel_all || !pc->rel_page || !pc->rel_from ||
        !pc->rel_after || !pc->rel_count || (c->npk > 0 && (!pc->list_from || !pc->list_after)))
        return false;
    for (size_t i = 0; i < c->nrels; i++) {
        const struct relation *r = &c->rels[i];
        const struct collection *t = schema_at(s, r->target);
        pc->rel_all[i] = statement(t, r->remote, r->nkeys, ROWS);
        pc->rel_page[i] = statement(t, r->remote, r->nkeys, PAGE);
        pc->rel_from[i] = statement(t, r->remote, r->nkeys, PAGE_FROM);
        pc->rel_after[i] = statement(t, r->remote, r->nkeys, PAGE_AFTER);
        pc->rel_count[i] = statement(t, r->remote, r->nkeys, COUNT);
        if (!pc->rel_all[i] || !pc->rel_page[i] || !pc->rel_count[i] ||
            (t->npk > 0 && (!pc->rel_from[i] || !pc->rel_after[i])))
            return false;
    }
    return true;
}

plan *plan_new(const schema *s)
{
    plan *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->colls = calloc(schema_count(s) + 1, sizeof(*p->colls));
    if (p->colls == NULL) {
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < schema_count(s); i++) {
        p->n = i + 1;
        if (!build_coll(&p->colls[i], s, schema_at(s, i))) {
            plan_free(p);
            return NULL;
        }
    }
    return p;
}

void plan_free(plan *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        size_t nrels = 0;
        while (p->colls[i].rel_all && p->colls[i].rel_all[nrels])
            nrels++;
        free_coll(&p->colls[i], nrels);
    }
    free(p->colls);
    free(p);
}

const struct plan_coll *plan_coll_at(const plan *p, size_t i)
{
    return i < p->n ? &p->colls[i] : NULL;
}

void plan_page(struct page *pg, long long total, long page, long per_page)
{
    *pg = (struct page){0};
    pg->page = page;
    pg->per_page = per_page;
    pg->total = total;
    pg->total_pages = total == 0 ? 0 : (total - 1) / per_page + 1;
    pg->offset = (long long)(page - 1) * per_page;
}

static bool parse_int(const char *s, size_t n, long long *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    /* Only the canonical decimal text of a number: no spaces, '+', hex,
     * leading zeros or "-0", so one object has one URL. */
    const char *digits = tmp[0] == '-' ? tmp + 1 : tmp;
    if (!(digits[0] >= '0' && digits[0] <= '9') ||
        (digits[0] == '0' && (digits[1] != '\0' || digits != tmp)))
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

bool plan_parse_key(const struct collection *c, const char *key, struct value *out, char *scratch,
                    size_t cap)
{
    const char *p = key;
    size_t used = 0;
    for (size_t k = 0; k < c->npk; k++) {
        bool last = k + 1 == c->npk;
        size_t n = last ? strlen(p) : strcspn(p, ",");
        if (!last && p[n] != ',')
            return false;
        const struct column *col = &c->cols[c->pk[k]];
        if (col->type == COL_INTEGER) {
            out[k] = (struct value){.kind = V_INT};
            if (!parse_int(p, n, &out[k].i))
                return false;
        } else {
            if (n + 1 > cap - used)
                return false;
            memcpy(scratch + used, p, n);
            scratch[used + n] = '\0';
            out[k] = (struct value){.kind = V_TEXT, .s = scratch + used, .n = n};
            used += n + 1;
        }
        p += n + (last ? 0 : 1);
    }
    return true;
}

void plan_idents(struct wr_buf *b, const struct collection *c, const size_t *cols, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        wr_buf_puts(b, k ? "," : "");
        plan_ident(b, c->cols[cols[k]].sql);
    }
}

void plan_cond(struct wr_buf *b, const struct collection *c, const size_t *cols, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        wr_buf_puts(b, k ? " AND " : "");
        plan_ident(b, c->cols[cols[k]].sql);
        wr_buf_puts(b, "=?");
    }
}

void plan_in_key(struct wr_buf *sql, const struct collection *a, const size_t *acols,
                 const struct collection *b, const size_t *bcols, size_t n)
{
    wr_buf_putc(sql, '(');
    plan_idents(sql, a, acols, n);
    wr_buf_puts(sql, ") IN (SELECT ");
    plan_idents(sql, b, bcols, n);
    wr_buf_puts(sql, " FROM ");
    plan_ident(sql, b->table);
    wr_buf_puts(sql, " WHERE ");
    plan_cond(sql, b, b->pk, b->npk);
    wr_buf_putc(sql, ')');
}

void plan_related_cond(struct wr_buf *sql, const struct collection *c, const struct relation *r,
                       const struct collection *t)
{
    plan_cond(sql, t, t->pk, t->npk);
    wr_buf_puts(sql, " AND ");
    plan_in_key(sql, t, r->remote, c, r->local, r->nkeys);
}

void plan_related_count(struct wr_buf *sql, const struct collection *c, const struct relation *r,
                        const struct collection *t)
{
    wr_buf_puts(sql, "SELECT COUNT(*) FROM ");
    plan_ident(sql, t->table);
    wr_buf_puts(sql, " WHERE ");
    plan_related_cond(sql, c, r, t);
}
