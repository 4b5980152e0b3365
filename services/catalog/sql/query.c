/* Parses Flask-Restless's search parameter q (see query.h) into the tree of
 * query_int.h: every name is checked against the schema (hidden columns and
 * relations are unknown), every value is typed for its column, and every
 * limit is enforced here, so writing the SQL cannot fail on the request. */
#include "sql/query.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/values.h"
#include "sql/query_int.h"

/* Sets p's error and is WR_EINVAL: an expression, so that the analysers
 * see the non-zero result (wr_err_set's body is in another file). */
#define INVALID(p, ...) (wr_err_set((p)->err, WR_EINVAL, __VA_ARGS__), WR_EINVAL)

#define NAME_CLIP 64 /* bytes of a request's name quoted in a message */

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
    {"has", QOP_HAS},       {"any", QOP_ANY},
};

static const char *const functions[] = {"count", "sum", "avg", "min", "max"};

struct parser {
    query *q;
    struct query_limits lim;
    size_t nfilters;
    const bool *mask; /* inside has / any: the columns the relation hides, or NULL */
    struct wr_err *err;
};

/* A filter's name, resolved in the collection it applies to. */
struct name {
    enum { NAME_NONE, NAME_COLUMN, NAME_RELATION, NAME_REL_FIELD } kind;
    size_t col; /* NAME_COLUMN: of the collection; NAME_REL_FIELD: of the target */
    size_t rel; /* NAME_RELATION, NAME_REL_FIELD */
    const struct collection *target;
};

/* The length of s cut to at most NAME_CLIP bytes at a UTF-8 character
 * boundary, for quoting request text in messages as "%.*s". */
static int clip(const char *s)
{
    size_t n = strlen(s);
    if (n <= NAME_CLIP)
        return (int)n;
    n = NAME_CLIP;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

static int nomem(struct parser *p)
{
    (void)wr_err_set(p->err, WR_ENOMEM, "q: out of memory");
    return WR_ENOMEM;
}

/* --- storage: nodes, values and strings, all freed by query_free --- */

/* A new node, its index in *out. Pointers into q->nodes do not survive
 * this call: nodes are referred to by index. */
static int new_node(struct parser *p, enum qnode_kind kind, const struct collection *scope,
                    size_t *out)
{
    query *q = p->q;
    if (q->nnodes == q->nodes_cap) {
        size_t cap = q->nodes_cap ? 2 * q->nodes_cap : 16;
        struct qnode *more = realloc(q->nodes, cap * sizeof(*more));
        if (more == NULL)
            return nomem(p);
        q->nodes = more;
        q->nodes_cap = cap;
    }
    q->nodes[q->nnodes] = (struct qnode){.kind = kind,
                                         .coll = scope,
                                         .col = QNONE,
                                         .col2 = QNONE,
                                         .rel = QNONE,
                                         .val = QNONE,
                                         .child = QNONE,
                                         .next = QNONE};
    *out = q->nnodes++;
    return 0;
}

static size_t add_value(struct parser *p, const struct value *v)
{
    query *q = p->q;
    if (q->nvals == q->vals_cap) {
        size_t cap = q->vals_cap ? 2 * q->vals_cap : 16;
        struct value *more = realloc(q->vals, cap * sizeof(*more));
        if (more == NULL) {
            nomem(p);
            return QNONE;
        }
        q->vals = more;
        q->vals_cap = cap;
    }
    q->vals[q->nvals] = *v;
    return q->nvals++;
}

/* Keeps s (malloc'd, or NULL after a failed allocation) until query_free;
 * NULL when out of memory, with s freed. */
static char *keep(struct parser *p, char *s)
{
    query *q = p->q;
    if (s != NULL && q->nowned == q->owned_cap) {
        size_t cap = q->owned_cap ? 2 * q->owned_cap : 8;
        char **more = realloc(q->owned, cap * sizeof(*more));
        if (more == NULL) {
            free(s);
            s = NULL;
        } else {
            q->owned = more;
            q->owned_cap = cap;
        }
    }
    if (s == NULL) {
        nomem(p);
        return NULL;
    }
    q->owned[q->nowned++] = s;
    return s;
}

/* The first member of object o not among allowed (NULL-terminated), or
 * NULL when all are known. */
static const char *unknown_key(const json_t *o, const char *const *allowed)
{
    for (void *it = json_object_iter((json_t *)o); it != NULL;
         it = json_object_iter_next((json_t *)o, it)) {
        const char *key = json_object_iter_key(it);
        size_t i = 0;
        while (allowed[i] != NULL && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed[i] == NULL)
            return key;
    }
    return NULL;
}

/* --- names --- */

static size_t find_col(const struct collection *c, const char *attr, size_t n)
{
    for (size_t i = 0; i < c->ncols; i++)
        if (!c->cols[i].hidden && strlen(c->cols[i].attr) == n &&
            memcmp(c->cols[i].attr, attr, n) == 0)
            return i;
    return QNONE;
}

static size_t find_rel(const struct collection *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->nrels; i++)
        if (!c->rels[i].hidden && strlen(c->rels[i].name) == n &&
            memcmp(c->rels[i].name, name, n) == 0)
            return i;
    return QNONE;
}

/* An attribute, a relation, or relation__field (split at the first "__"
 * that leaves a relation and one of its target's attributes). */
static struct name resolve(const query *q, const struct collection *c, const char *name)
{
    struct name r = {.kind = NAME_NONE, .col = QNONE, .rel = QNONE};
    size_t n = strlen(name);
    r.col = find_col(c, name, n);
    if (r.col != QNONE) {
        r.kind = NAME_COLUMN;
        return r;
    }
    r.rel = find_rel(c, name, n);
    if (r.rel != QNONE) {
        r.kind = NAME_RELATION;
        r.target = schema_at(q->s, c->rels[r.rel].target);
        return r;
    }
    for (const char *u = strstr(name, "__"); u != NULL; u = strstr(u + 1, "__")) {
        size_t rel = find_rel(c, name, (size_t)(u - name));
        if (rel == QNONE)
            continue;
        const struct collection *t = schema_at(q->s, c->rels[rel].target);
        size_t col = find_col(t, u + 2, strlen(u + 2));
        /* a column the relation hides (dotted EXCLUDE / INCLUDE) is unknown */
        if (col != QNONE && schema_rel_col_visible(q->s, &c->rels[rel], col))
            return (struct name){.kind = NAME_REL_FIELD, .col = col, .rel = rel, .target = t};
    }
    return r;
}

static int unknown_field(struct parser *p, const struct collection *c, const char *name)
{
    return INVALID(p, "q: unknown field \"%.*s\" in %s", clip(name), name, c->name);
}

/* --- values --- */

/* The value v (a JSON scalar other than null) as column col takes it, by
 * the rule writes use too (model/values.h); a pattern (like / ilike) is
 * kept as given. Returns its index in q->vals. */
static int make_value(struct parser *p, const struct column *col, const json_t *v, bool pattern,
                      const char *name, size_t *out)
{
    struct value val;
    if (pattern && !json_is_string(v))
        return INVALID(p, "q: filter on \"%.*s\": like and ilike take a string", clip(name), name);
    if (pattern) {
        val = (struct value){.kind = V_TEXT, .s = json_string_value(v), .n = json_string_length(v)};
    } else {
        char scratch[VALUE_SCRATCH];
        const char *why = value_from_json(col->type, v, VALUE_COMPARE, &val, scratch);
        if (why != NULL && json_is_string(v))
            return INVALID(p, "q: filter on \"%.*s\": \"%.*s\" %s", clip(name), name,
                           clip(json_string_value(v)), json_string_value(v), why);
        if (why != NULL)
            return INVALID(p, "q: filter on \"%.*s\": %s", clip(name), name, why);
        if (val.s == scratch) { /* a normalised date: kept with the query */
            val.s = keep(p, strdup(scratch));
            if (val.s == NULL)
                return WR_ENOMEM;
        }
    }
    *out = add_value(p, &val);
    return *out == QNONE ? WR_ENOMEM : 0;
}

/* --- filters --- */

static int parse_filter(struct parser *p, const json_t *f, const struct collection *scope,
                        int depth, size_t *out);

/* The filters of array a, linked as siblings; *first is QNONE when a is
 * empty. */
static int parse_list(struct parser *p, const json_t *a, const struct collection *scope, int depth,
                      size_t *first)
{
    size_t prev = QNONE;
    *first = QNONE;
    for (size_t i = 0; i < json_array_size(a); i++) {
        size_t n;
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

/* A filter on column col of scope: against a value, a list, null, or the
 * attribute `field` of fscope (the scope the filter was written in; a
 * different one when name was relation__field). */
static int column_filter(struct parser *p, const struct collection *scope, size_t col,
                         const char *name, enum query_op op, const json_t *val, const json_t *field,
                         const struct collection *fscope, size_t *out)
{
    const struct column *c = &scope->cols[col];
    const char *opn = op_name(op);
    if (op == QOP_HAS || op == QOP_ANY)
        return INVALID(p, "q: filter on \"%.*s\": %s needs a relation", clip(name), name, opn);
    if (field != NULL) {
        if (op > QOP_ILIKE)
            return INVALID(p, "q: filter on \"%.*s\": %s cannot compare with a field", clip(name),
                           name, opn);
        const char *fname = json_string_value(field);
        if (fname == NULL)
            return INVALID(p, "q: filter on \"%.*s\": field must be a string", clip(name), name);
        size_t col2 = find_col(fscope, fname, strlen(fname));
        if (col2 == QNONE)
            return unknown_field(p, fscope, fname);
        if (new_node(p, QN_COLUMN, scope, out) != 0)
            return WR_ENOMEM;
        struct qnode *n = &p->q->nodes[*out];
        n->op = op;
        n->col = col;
        n->col2 = col2;
        n->col2_outer = fscope != scope;
        return 0;
    }
    if (op == QOP_IS_NULL || op == QOP_IS_NOT_NULL) {
        if (val != NULL && !json_is_null(val))
            return INVALID(p, "q: filter on \"%.*s\": %s takes no val", clip(name), name, opn);
        if (new_node(p, QN_NULL, scope, out) != 0)
            return WR_ENOMEM;
        p->q->nodes[*out].op = op;
        p->q->nodes[*out].col = col;
        return 0;
    }
    if (val == NULL || json_is_null(val))
        return INVALID(p,
                       "q: filter on \"%.*s\": %s needs a val; to compare with null use "
                       "is_null or is_not_null",
                       clip(name), name, opn);
    size_t first = p->q->nvals, idx;
    if (op == QOP_IN || op == QOP_NOT_IN) {
        size_t n = json_array_size(val);
        if (!json_is_array(val) || n == 0)
            return INVALID(p, "q: filter on \"%.*s\": %s needs a non-empty array", clip(name), name,
                           opn);
        if (n > p->lim.max_in)
            return INVALID(p,
                           "q: filter on \"%.*s\": %s list of %zu values is over the limit "
                           "max_in (%zu)",
                           clip(name), name, opn, n, p->lim.max_in);
        for (size_t i = 0; i < n; i++) {
            const json_t *v = json_array_get(val, i);
            if (json_is_null(v))
                return INVALID(p, "q: filter on \"%.*s\": %s list may not hold null", clip(name),
                               name, opn);
            int rc = make_value(p, c, v, false, name, &idx);
            if (rc != 0)
                return rc;
        }
    } else {
        int rc = make_value(p, c, val, op == QOP_LIKE || op == QOP_ILIKE, name, &idx);
        if (rc != 0)
            return rc;
    }
    if (new_node(p, op >= QOP_IN ? QN_IN : QN_VALUE, scope, out) != 0)
        return WR_ENOMEM;
    struct qnode *n = &p->q->nodes[*out];
    n->op = op;
    n->col = col;
    n->val = first;
    n->nval = p->q->nvals - first;
    return 0;
}

/* EXISTS over relation rel of scope; its child is set by the caller. */
static int exists_node(struct parser *p, const struct collection *scope, size_t rel, size_t *out)
{
    if (new_node(p, QN_EXISTS, scope, out) != 0)
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
        return INVALID(p, "q: filter on \"%.*s\": has is for to-one relations; use any", clip(name),
                       name);
    if (op == QOP_ANY && !r->to_many)
        return INVALID(p, "q: filter on \"%.*s\": any is for to-many relations; use has",
                       clip(name), name);
    if (field != NULL)
        return INVALID(p, "q: filter on \"%.*s\": %s takes val, not field", clip(name), name, opn);
    if (val == NULL || json_is_null(val))
        return INVALID(p, "q: filter on \"%.*s\": %s needs a val: a filter or a value", clip(name),
                       name, opn);
    const struct collection *t = nm->target;
    size_t col = nm->col;
    if (json_is_object(val) && nm->kind == NAME_REL_FIELD)
        return INVALID(p, "q: filter on \"%.*s\": a filter as val goes with the relation's name",
                       clip(name), name);
    if (!json_is_object(val) && nm->kind == NAME_RELATION) {
        if (t->npk != 1)
            return INVALID(p, "q: filter on \"%.*s\": %s has a composite key; give a filter",
                           clip(name), name, t->name);
        col = t->pk[0];
    }
    size_t e, child;
    int rc = exists_node(p, scope, nm->rel, &e);
    const bool *outer = p->mask;
    p->mask = r->col_hidden;
    if (rc == 0 && json_is_object(val))
        rc = parse_filter(p, val, t, depth + 1, &child);
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
    size_t n, child;
    int rc;
    if (strcmp(key, "not") == 0) {
        rc = new_node(p, QN_NOT, scope, &n);
        if (rc == 0)
            rc = parse_filter(p, v, scope, depth + 1, &child);
    } else {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return INVALID(p, "q: \"%s\" needs a non-empty array of filters", key);
        rc = new_node(p, key[0] == 'o' ? QN_OR : QN_AND, scope, &n);
        if (rc == 0)
            rc = parse_list(p, v, scope, depth + 1, &child);
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
    const char *key = unknown_key(f, allowed);
    if (key != NULL)
        return INVALID(p, "q: unknown member \"%.*s\" in a filter", clip(key), key);
    const char *name = json_string_value(json_object_get(f, "name"));
    const char *opn = json_string_value(json_object_get(f, "op"));
    if (name == NULL || opn == NULL)
        return INVALID(p, "q: a filter needs \"name\" and \"op\" strings");
    const json_t *val = json_object_get(f, "val"), *field = json_object_get(f, "field");
    size_t i = 0;
    while (i < sizeof(op_names) / sizeof(op_names[0]) && strcmp(op_names[i].name, opn) != 0)
        i++;
    if (i == sizeof(op_names) / sizeof(op_names[0]))
        return INVALID(p, "q: unknown operator \"%.*s\" on \"%.*s\"", clip(opn), opn, clip(name),
                       name);
    enum query_op op = op_names[i].op;
    struct name nm = resolve(p->q, scope, name);
    if (nm.kind == NAME_NONE || (nm.kind == NAME_COLUMN && p->mask && p->mask[nm.col]))
        return unknown_field(p, scope, name);
    if (val != NULL && field != NULL)
        return INVALID(p, "q: filter on \"%.*s\": give val or field, not both", clip(name), name);
    if (nm.kind == NAME_COLUMN)
        return column_filter(p, scope, nm.col, name, op, val, field, scope, out);
    if (nm.kind == NAME_RELATION || op == QOP_HAS || op == QOP_ANY) {
        if (op != QOP_HAS && op != QOP_ANY)
            return INVALID(p, "q: filter on \"%.*s\": a relation takes has or any, not %s",
                           clip(name), name, opn);
        return relation_filter(p, scope, &nm, name, op, val, field, depth, out);
    }
    /* relation__field with another operator: a related row matches. */
    size_t e, child;
    int rc = exists_node(p, scope, nm.rel, &e);
    if (rc == 0)
        rc = column_filter(p, nm.target, nm.col, name, op, val, field, scope, &child);
    if (rc != 0)
        return rc;
    p->q->nodes[e].child = child;
    *out = e;
    return 0;
}

/* --- the other members --- */

/* Array member key of root (absent: n = 0), at most max_filters long. */
static int get_array(struct parser *p, const json_t *root, const char *key, const json_t **a,
                     size_t *n)
{
    *a = json_object_get(root, key);
    *n = 0;
    if (*a == NULL)
        return 0;
    if (!json_is_array(*a))
        return INVALID(p, "q: %s must be an array", key);
    *n = json_array_size(*a);
    if (*n > p->lim.max_filters && strcmp(key, "filters") != 0)
        return INVALID(p, "q: %s has more entries than the limit max_filters (%zu)", key,
                       p->lim.max_filters);
    return 0;
}

/* An entry of array member what: an object whose members are among
 * allowed (NULL-terminated), with a string "field" naming an attribute. */
static int get_entry(struct parser *p, const json_t *e, const char *what,
                     const char *const *allowed, const char **field)
{
    if (!json_is_object(e))
        return INVALID(p, "q: each entry of %s must be an object", what);
    const char *key = unknown_key(e, allowed);
    if (key != NULL)
        return INVALID(p, "q: unknown member \"%.*s\" in %s", clip(key), key, what);
    *field = json_string_value(json_object_get(e, "field"));
    if (*field == NULL)
        return INVALID(p, "q: each entry of %s needs a \"field\" string", what);
    return 0;
}

static int parse_order(struct parser *p, const json_t *root)
{
    static const char *const allowed[] = {"field", "direction", NULL};
    const json_t *a;
    size_t n;
    int rc = get_array(p, root, "order_by", &a, &n);
    if (rc != 0 || n == 0)
        return rc;
    const struct collection *c = p->q->c;
    p->q->order = calloc(n, sizeof(*p->q->order));
    if (p->q->order == NULL)
        return nomem(p);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(a, i);
        const char *field;
        rc = get_entry(p, e, "order_by", allowed, &field);
        if (rc != 0)
            return rc;
        const json_t *dir = json_object_get(e, "direction");
        const char *d = dir ? json_string_value(dir) : "asc";
        if (d == NULL || (strcmp(d, "asc") != 0 && strcmp(d, "desc") != 0))
            return INVALID(p, "q: order_by \"%.*s\": direction must be \"asc\" or \"desc\"",
                           clip(field), field);
        struct name nm = resolve(p->q, c, field);
        if (nm.kind == NAME_REL_FIELD && c->rels[nm.rel].to_many)
            return INVALID(p, "q: order_by \"%.*s\": cannot order by a to-many relation's field",
                           clip(field), field);
        if (nm.kind != NAME_COLUMN && nm.kind != NAME_REL_FIELD)
            return unknown_field(p, c, field);
        p->q->order[i] = (struct qorder){
            .rel = nm.kind == NAME_COLUMN ? QNONE : nm.rel, .col = nm.col, .desc = d[0] == 'd'};
        p->q->norder = i + 1;
    }
    return 0;
}

static int parse_group(struct parser *p, const json_t *root)
{
    static const char *const allowed[] = {"field", NULL};
    const json_t *a;
    size_t n;
    int rc = get_array(p, root, "group_by", &a, &n);
    if (rc != 0 || n == 0)
        return rc;
    p->q->group = calloc(n, sizeof(*p->q->group));
    if (p->q->group == NULL)
        return nomem(p);
    for (size_t i = 0; i < n; i++) {
        const char *field;
        rc = get_entry(p, json_array_get(a, i), "group_by", allowed, &field);
        if (rc != 0)
            return rc;
        size_t col = find_col(p->q->c, field, strlen(field));
        if (col == QNONE)
            return unknown_field(p, p->q->c, field);
        p->q->group[i] = col;
        p->q->ngroup = i + 1;
    }
    return 0;
}

static int parse_functions(struct parser *p, const json_t *root)
{
    static const char *const allowed[] = {"name", "field", NULL};
    const json_t *a;
    size_t n;
    int rc = get_array(p, root, "functions", &a, &n);
    if (rc != 0 || n == 0)
        return rc;
    p->q->funcs = calloc(n, sizeof(*p->q->funcs));
    if (p->q->funcs == NULL)
        return nomem(p);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(a, i);
        const char *field;
        rc = get_entry(p, e, "functions", allowed, &field);
        if (rc != 0)
            return rc;
        const char *fn = json_string_value(json_object_get(e, "name"));
        size_t k = 0;
        while (fn != NULL && k < sizeof(functions) / sizeof(functions[0]) &&
               strcmp(functions[k], fn) != 0)
            k++;
        if (fn == NULL || k == sizeof(functions) / sizeof(functions[0]))
            return INVALID(p, "q: unknown function \"%.*s\" (count, sum, avg, min or max)",
                           fn ? clip(fn) : 0, fn ? fn : "");
        size_t col = find_col(p->q->c, field, strlen(field));
        if (col == QNONE)
            return unknown_field(p, p->q->c, field);
        size_t len = strlen(fn) + 2 + strlen(field) + 1;
        char *name = keep(p, malloc(len));
        if (name == NULL)
            return WR_ENOMEM;
        snprintf(name, len, "%s__%s", fn, field);
        p->q->funcs[i] = (struct qfunc){.fn = functions[k], .col = col, .name = name};
        p->q->nfuncs = i + 1;
    }
    return 0;
}

static int get_count(struct parser *p, const json_t *root, const char *key, long long *out)
{
    const json_t *v = json_object_get(root, key);
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return INVALID(p, "q: %s must be a non-negative integer", key);
    *out = json_integer_value(v);
    return 0;
}

static int parse_root(struct parser *p, const json_t *root)
{
    static const char *const members[] = {"filters", "order_by", "group_by",  "limit",
                                          "offset",  "single",   "functions", NULL};
    const char *key = unknown_key(root, members);
    if (key != NULL)
        return INVALID(p, "q: unknown member \"%.*s\"", clip(key), key);
    const json_t *filters;
    size_t n;
    int rc = get_array(p, root, "filters", &filters, &n);
    if (rc == 0 && filters != NULL)
        rc = parse_list(p, filters, p->q->c, 1, &p->q->first);
    if (rc == 0)
        rc = parse_order(p, root);
    if (rc == 0)
        rc = parse_group(p, root);
    if (rc == 0)
        rc = get_count(p, root, "limit", &p->q->limit);
    if (rc == 0)
        rc = get_count(p, root, "offset", &p->q->offset);
    const json_t *single = json_object_get(root, "single");
    if (rc == 0 && single != NULL && !json_is_boolean(single))
        rc = INVALID(p, "q: single must be true or false");
    p->q->single = json_is_true(single);
    if (rc == 0)
        rc = parse_functions(p, root);
    return rc;
}

query *query_parse(const schema *s, const struct collection *c, const char *text, size_t len,
                   const struct query_limits *lim, struct wr_err *err)
{
    struct parser p = {.err = err,
                       .lim = {.max_depth = QUERY_DEFAULT_MAX_DEPTH,
                               .max_in = QUERY_DEFAULT_MAX_IN,
                               .max_filters = QUERY_DEFAULT_MAX_FILTERS}};
    if (lim != NULL && lim->max_depth > 0)
        p.lim.max_depth = lim->max_depth;
    if (lim != NULL && lim->max_in > 0)
        p.lim.max_in = lim->max_in;
    if (lim != NULL && lim->max_filters > 0)
        p.lim.max_filters = lim->max_filters;
    if (memchr(text, '\0', len) != NULL) {
        wr_err_set(err, WR_EINVAL, "q: contains a NUL byte");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        wr_err_set(err, WR_EINVAL, "q: invalid JSON: %s", jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        wr_err_set(err, WR_EINVAL, "q: must be a JSON object");
        return NULL;
    }
    p.q = calloc(1, sizeof(*p.q));
    if (p.q == NULL) {
        json_decref(root);
        wr_err_set(err, WR_ENOMEM, "q: out of memory");
        return NULL;
    }
    *p.q = (struct query){.s = s, .c = c, .root = root, .first = QNONE, .limit = -1};
    if (parse_root(&p, root) != 0) {
        query_free(p.q);
        return NULL;
    }
    return p.q;
}

void query_free(query *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->nowned; i++)
        free(q->owned[i]);
    free(q->owned);
    free(q->nodes);
    free(q->vals);
    free(q->order);
    free(q->group);
    free(q->funcs);
    json_decref(q->root);
    free(q);
}

bool query_single(const query *q)
{
    return q->single;
}

long long query_limit(const query *q)
{
    return q->limit;
}

long long query_offset(const query *q)
{
    return q->offset;
}
