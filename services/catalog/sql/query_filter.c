/* The filters of a search (see query.h): {"name","op","val"} and
 * {"name","op","field"}, or/and/not, has/any on relations and
 * relation__field names, parsed into query_int.h's nodes; every name is
 * checked against the schema (hidden columns and relations are unknown)
 * and every value converted by model/values.h's rule, the one writes use. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/values.h"
#include "sql/query_parse.h"

static const struct {
    const char *name;
    enum query_op op;
} op_names[] = {
    {"==", QOP_EQ},         {"eq", QOP_EQ},           {"equals", QOP_EQ},
    {"equal_to", QOP_EQ},   {"!=", QOP_NE},           {"ne", QOP_NE},
    {"neq", QOP_NE},        {"not_equal_to", QOP_NE}, {"does_not_equal", QOP_NE},
    {">", QOP_GT},          {"gt", QOP_GT},           {"<", QOP_LT},
    {"lt", QOP_LT},         {">=", QOP_GE},           {"ge", QOP_GE},
    {"gte", QOP_GE},        {"geq", QOP_GE},          {"<=", QOP_LE},
    {"le", QOP_LE},         {"lte", QOP_LE},          {"leq", QOP_LE},
    {"like", QOP_LIKE},     {"ilike", QOP_ILIKE},     {"in", QOP_IN},
    {"not_in", QOP_NOT_IN}, {"is_null", QOP_IS_NULL}, {"is_not_null", QOP_IS_NOT_NULL},
    {"has", QOP_HAS},       {"any", QOP_ANY},         {"match", QOP_MATCH},
};

/* --- values --- */

/* The value v (a JSON scalar other than null) as column col takes it, by
 * the rule writes use too (model/values.h); a pattern (like / ilike) is
 * kept as given. Returns its index in q->vals. */
static int make_value(struct parser *p, const struct column *col, const json_t *v, bool pattern,
                      const char *name, size_t *out)
{
    struct value val;
    /* a number is a pattern too (SQLite's LIKE reads it as its text), as
     * Flask-Restless lets it through */
    if (pattern && json_is_integer(v)) {
        val = (struct value){.kind = V_INT, .i = json_integer_value(v)};
    } else if (pattern && json_is_real(v)) {
        val = (struct value){.kind = V_REAL, .d = json_real_value(v)};
    } else if (pattern && !json_is_string(v)) {
        return INVALID(p, "q: filter on \"%.*s\": like and ilike take a string or a number",
                       query__clip(name), name);
    } else if (pattern) {
        val = (struct value){.kind = V_TEXT, .s = json_string_value(v), .n = json_string_length(v)};
    } else {
        char scratch[VALUE_SCRATCH];
        const char *why = value_from_json(col->type, v, VALUE_COMPARE, &val, scratch);
        if (why != NULL && json_is_string(v))
            return INVALID(p, "q: filter on \"%.*s\": \"%.*s\" %s", query__clip(name), name,
                           query__clip(json_string_value(v)), json_string_value(v), why);
        if (why != NULL)
            return INVALID(p, "q: filter on \"%.*s\": %s", query__clip(name), name, why);
        if (val.s == scratch) { /* a normalised date: kept with the query */
            val.s = query__keep(p, strdup(scratch));
            if (val.s == NULL)
                return WR_ENOMEM;
        }
    }
    *out = query__add_value(p, &val);
    return *out == QNONE ? WR_ENOMEM : 0;
}

/* --- filters --- */

static int parse_filter(struct parser *p, const json_t *f, const struct collection *scope,
                        int depth, size_t *out);

/* The filters of array a, linked as siblings; *first is QNONE when a is
 * empty. */
int query__filters(struct parser *p, const json_t *a, const struct collection *scope, int depth,
                   size_t *first)
{
    size_t prev = QNONE;
    *first = QNONE;
    for (size_t i = 0; i < json_array_size(a); i++) {
        size_t n = QNONE;
        int rc = parse_filter(p, json_array_get(a, i), scope, depth, &n);
        if (rc != 0)
            return rc;
        if (prev == QNONE)
            *first = n;
        else
            p->q->nodes[prev].next = n;
        prev = n;
    }
    return 0;
}

static const char *op_name(enum query_op op)
{
    for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
        if (op_names[i].op == op)
            return op_names[i].name;
    return "?";
}

/* A full-text filter: the rows of scope whose column col (QNONE: "*",
 * every column its fts_table indexes) match the FTS5 query val. Only
 * indexed columns, and "*" only when none of them is hidden: FTS5's own
 * column filters (`Composer: bach`) inside val could otherwise search a
 * hidden column (inside a one-column match they find nothing). */
static int match_filter(struct parser *p, const struct collection *scope, size_t col,
                        const char *name, const json_t *val, const json_t *field, size_t *out)
{
    if (field != NULL)
        return INVALID(p, "q: filter on \"%.*s\": match takes val, not field", query__clip(name),
                       name);
    if (scope->fts_table == NULL)
        return INVALID(p,
                       "q: filter on \"%.*s\": match needs a full-text (FTS5) index, and %s has "
                       "none",
                       query__clip(name), name, scope->name);
    if (col != QNONE && !scope->cols[col].fts)
        return INVALID(p, "q: filter on \"%.*s\": match: %s's full-text index does not cover %s",
                       query__clip(name), name, scope->name, scope->cols[col].attr);
    for (size_t i = 0; col == QNONE && i < scope->ncols; i++)
        if (scope->cols[i].fts && (scope->cols[i].hidden || (p->mask && p->mask[i])))
            return INVALID(p,
                           "q: filter on \"*\": match over every indexed column of %s would "
                           "search hidden ones; name a column",
                           scope->name);
    if (!json_is_string(val) || json_string_length(val) == 0)
        return INVALID(p,
                       "q: filter on \"%.*s\": match needs a val: a full-text query string "
                       "such as \"rock OR roll\"",
                       query__clip(name), name);
    struct value v = {.kind = V_TEXT, .s = json_string_value(val), .n = json_string_length(val)};
    size_t idx = query__add_value(p, &v);
    if (idx == QNONE || query__new_node(p, QN_MATCH, scope, out) != 0)
        return WR_ENOMEM;
    struct qnode *n = &p->q->nodes[*out];
    n->op = QOP_MATCH;
    n->col = col;
    n->val = idx;
    n->nval = 1;
    return 0;
}

/* A filter on column col of scope: against a value, a list, null, or the
 * attribute `field` of fscope (the scope the filter was written in; a
 * different one when name was relation__field). */
static int column_filter(struct parser *p, const struct collection *scope, size_t col,
                         const char *name, enum query_op op, const json_t *val, const json_t *field,
                         const struct collection *fscope, size_t *out)
{
    const struct column *c = &scope->cols[col];
    const char *opn = op_name(op);
    if (op == QOP_MATCH)
        return match_filter(p, scope, col, name, val, field, out);
    if (op == QOP_HAS || op == QOP_ANY)
        return INVALID(p, "q: filter on \"%.*s\": %s needs a relation", query__clip(name), name,
                       opn);
    if (field != NULL) {
        if (op > QOP_ILIKE)
            return INVALID(p, "q: filter on \"%.*s\": %s cannot compare with a field",
                           query__clip(name), name, opn);
        const char *fname = json_string_value(field);
        if (fname == NULL)
            return INVALID(p, "q: filter on \"%.*s\": field must be a string", query__clip(name),
                           name);
        size_t col2 = query__find_col(fscope, fname, strlen(fname));
        if (col2 == QNONE)
            return query__unknown_field(p, fscope, fname);
        if (query__new_node(p, QN_COLUMN, scope, out) != 0)
            return WR_ENOMEM;
        struct qnode *n = &p->q->nodes[*out];
        n->op = op;
        n->col = col;
        n->col2 = col2;
        n->col2_outer = fscope != scope;
        return 0;
    }
    if (op == QOP_IS_NULL || op == QOP_IS_NOT_NULL) {
        /* a val is ignored, as Flask-Restless ignores it */
        if (query__new_node(p, QN_NULL, scope, out) != 0)
            return WR_ENOMEM;
        p->q->nodes[*out].op = op;
        p->q->nodes[*out].col = col;
        return 0;
    }
    if (val == NULL || json_is_null(val))
        return INVALID(p,
                       "q: filter on \"%.*s\": %s needs a val; to compare with null use "
                       "is_null or is_not_null",
                       query__clip(name), name, opn);
    size_t first = p->q->nvals, idx;
    if (op == QOP_IN || op == QOP_NOT_IN) {
        size_t n = json_array_size(val);
        if (!json_is_array(val) || n == 0)
            return INVALID(p, "q: filter on \"%.*s\": %s needs a non-empty array",
                           query__clip(name), name, opn);
        if (n > p->lim.max_in)
            return INVALID(p,
                           "q: filter on \"%.*s\": %s list of %zu values is over the limit "
                           "max_in (%zu)",
                           query__clip(name), name, opn, n, p->lim.max_in);
        for (size_t i = 0; i < n; i++) {
            const json_t *v = json_array_get(val, i);
            if (json_is_null(v))
                return INVALID(p, "q: filter on \"%.*s\": %s list may not hold null",
                               query__clip(name), name, opn);
            int rc = make_value(p, c, v, false, name, &idx);
            if (rc != 0)
                return rc;
        }
    } else {
        int rc = make_value(p, c, val, op == QOP_LIKE || op == QOP_ILIKE, name, &idx);
        if (rc != 0)
            return rc;
    }
    if (query__new_node(p, op >= QOP_IN ? QN_IN : QN_VALUE, scope, out) != 0)
        return WR_ENOMEM;
    struct qnode *n = &p->q->nodes[*out];
    n->op = op;
    n->col = col;
    n->val = first;
    n->nval = p->q->nvals - first;
    return 0;
}

/* EXISTS over relation rel of scope (a correlated subquery at depth
 * p->rel_depth + 1), within the search's cost limits; its child is set by
 * the caller. */
static int exists_node(struct parser *p, const struct collection *scope, size_t rel, size_t *out)
{
    if (p->rel_depth + 1 > p->lim.max_rel_depth)
        return TOO_COSTLY(p,
                          "q: relation filters (has, any, relation__field) nested deeper than "
                          "the limit SEARCH_MAX_RELATION_DEPTH (%d)",
                          p->lim.max_rel_depth);
    if (++p->nsubqueries > p->lim.max_subqueries)
        return TOO_COSTLY(p,
                          "q: more relation filters (has, any, relation__field) than the limit "
                          "SEARCH_MAX_SUBQUERIES (%zu)",
                          p->lim.max_subqueries);
    if (query__new_node(p, QN_EXISTS, scope, out) != 0)
        return WR_ENOMEM;
    p->q->nodes[*out].rel = rel;
    return 0;
}

/* has / any on a relation (nm.kind NAME_RELATION or NAME_REL_FIELD): val is
 * a filter on the related rows, or a value for their key (for their field). */
static int relation_filter(struct parser *p, const struct collection *scope, const struct name *nm,
                           const char *name, enum query_op op, const json_t *val,
                           const json_t *field, int depth, size_t *out)
{
    const struct relation *r = &scope->rels[nm->rel];
    const char *opn = op_name(op);
    if (op == QOP_HAS && r->to_many)
        return INVALID(p, "q: filter on \"%.*s\": has is for to-one relations; use any",
                       query__clip(name), name);
    if (op == QOP_ANY && !r->to_many)
        return INVALID(p, "q: filter on \"%.*s\": any is for to-many relations; use has",
                       query__clip(name), name);
    if (field != NULL)
        return INVALID(p, "q: filter on \"%.*s\": %s takes val, not field", query__clip(name), name,
                       opn);
    if (val == NULL || json_is_null(val))
        return INVALID(p, "q: filter on \"%.*s\": %s needs a val: a filter or a value",
                       query__clip(name), name, opn);
    const struct collection *t = nm->target;
    size_t col = nm->col;
    if (json_is_object(val) && nm->kind == NAME_REL_FIELD)
        return INVALID(p, "q: filter on \"%.*s\": a filter as val goes with the relation's name",
                       query__clip(name), name);
    if (!json_is_object(val) && nm->kind == NAME_RELATION) {
        if (t->npk != 1)
            return INVALID(p, "q: filter on \"%.*s\": %s has a composite key; give a filter",
                           query__clip(name), name, t->name);
        col = t->pk[0];
    }
    size_t e = QNONE, child = QNONE;
    int rc = exists_node(p, scope, nm->rel, &e);
    const bool *outer = p->mask;
    p->mask = r->col_hidden;
    p->rel_depth++;
    if (rc == 0 && json_is_object(val))
        rc = parse_filter(p, val, t, depth + 1, &child);
    p->rel_depth--;
    p->mask = outer;
    if (rc == 0 && !json_is_object(val))
        rc = column_filter(p, t, col, name, QOP_EQ, val, NULL, scope, &child);
    if (rc != 0)
        return rc;
    p->q->nodes[e].child = child;
    *out = e;
    return 0;
}

static int junction(struct parser *p, const json_t *f, const struct collection *scope, int depth,
                    size_t *out)
{
    const char *key = json_object_iter_key(json_object_iter((json_t *)f));
    if (json_object_size(f) != 1)
        return INVALID(p, "q: a filter with \"%s\" may have no other member",
                       json_object_get(f, "or")    ? "or"
                       : json_object_get(f, "and") ? "and"
                                                   : "not");
    const json_t *v = json_object_get(f, key);
    size_t n = QNONE, child = QNONE;
    int rc;
    if (strcmp(key, "not") == 0) {
        rc = query__new_node(p, QN_NOT, scope, &n);
        if (rc == 0)
            rc = parse_filter(p, v, scope, depth + 1, &child);
    } else {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return INVALID(p, "q: \"%s\" needs a non-empty array of filters", key);
        rc = query__new_node(p, key[0] == 'o' ? QN_OR : QN_AND, scope, &n);
        if (rc == 0)
            rc = query__filters(p, v, scope, depth + 1, &child);
    }
    if (rc != 0)
        return rc;
    p->q->nodes[n].child = child;
    *out = n;
    return 0;
}

static int parse_filter(struct parser *p, const json_t *f, const struct collection *scope,
                        int depth, size_t *out)
{
    if (depth > p->lim.max_depth)
        return INVALID(p, "q: filters nested deeper than the limit max_depth (%d)",
                       p->lim.max_depth);
    if (++p->nfilters > p->lim.max_filters)
        return INVALID(p, "q: more filters than the limit max_filters (%zu)", p->lim.max_filters);
    if (!json_is_object(f))
        return INVALID(p, "q: a filter must be an object");
    if (json_object_get(f, "or") || json_object_get(f, "and") || json_object_get(f, "not"))
        return junction(p, f, scope, depth, out);
    static const char *const allowed[] = {"name", "op", "val", "field", NULL};
    const char *key = query__unknown_key(f, allowed);
    if (key != NULL)
        return INVALID(p, "q: unknown member \"%.*s\" in a filter", query__clip(key), key);
    const char *name = json_string_value(json_object_get(f, "name"));
    const char *opn = json_string_value(json_object_get(f, "op"));
    if (name == NULL || opn == NULL)
        return INVALID(p, "q: a filter needs \"name\" and \"op\" strings");
    const json_t *val = json_object_get(f, "val"), *field = json_object_get(f, "field");
    size_t i = 0;
    while (i < sizeof(op_names) / sizeof(op_names[0]) && strcmp(op_names[i].name, opn) != 0)
        i++;
    if (i == sizeof(op_names) / sizeof(op_names[0]))
        return INVALID(p, "q: unknown operator \"%.*s\" on \"%.*s\"", query__clip(opn), opn,
                       query__clip(name), name);
    enum query_op op = op_names[i].op;
    /* Flask-Restless's leniency: a field that is null or "" is none, and
     * a field given with a val compares with the field (val is ignored) */
    if (field != NULL &&
        (json_is_null(field) || (json_is_string(field) && json_string_length(field) == 0)))
        field = NULL;
    if (field != NULL && op != QOP_HAS && op != QOP_ANY)
        val = NULL;
    struct name nm = query__resolve(p->q, scope, name);
    if (nm.kind == NAME_NONE && op == QOP_MATCH && strcmp(name, "*") == 0)
        return match_filter(p, scope, QNONE, name, val, field, out);
    if (nm.kind == NAME_NONE || (nm.kind == NAME_COLUMN && p->mask && p->mask[nm.col]))
        return query__unknown_field(p, scope, name);
    if (nm.kind == NAME_COLUMN)
        return column_filter(p, scope, nm.col, name, op, val, field, scope, out);
    if (nm.kind == NAME_RELATION || op == QOP_HAS || op == QOP_ANY) {
        if (op != QOP_HAS && op != QOP_ANY)
            return INVALID(p, "q: filter on \"%.*s\": a relation takes has or any, not %s",
                           query__clip(name), name, opn);
        return relation_filter(p, scope, &nm, name, op, val, field, depth, out);
    }
    /* relation__field with another operator: a related row matches. */
    size_t e = QNONE, child = QNONE;
    int rc = exists_node(p, scope, nm.rel, &e);
    if (rc == 0)
        rc = column_filter(p, nm.target, nm.col, name, op, val, field, scope, &child);
    if (rc != 0)
        return rc;
    p->q->nodes[e].child = child;
    *out = e;
    return 0;
}
