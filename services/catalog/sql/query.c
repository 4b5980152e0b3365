/* Parses Flask-Restless's search parameter q (see query.h) into the tree of
 * query_int.h: the storage of the tree, names, and the members other than
 * the filters (query_filter.c): order_by, group_by, functions, limit,
 * offset and single. Every limit is enforced while parsing, so writing the
 * SQL cannot fail on the request. */
#include "sql/query.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/query_parse.h"
#include "warren/proto.h"
#include "warren/analyzer.h"

#define NAME_CLIP 64 /* bytes of a request's name quoted in a message */

static const char *const functions[] = {"count", "sum", "avg", "min", "max"};

/* The length of s cut to at most NAME_CLIP bytes at a UTF-8 character
 * boundary, for quoting request text in messages as "%.*s". */
int query__clip(const char *s)
{
    size_t n = strlen(s);
    if (n <= NAME_CLIP)
        return (int)n;
    n = NAME_CLIP;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

int query__nomem(struct parser *p)
{
    (void)wr_err_set(p->err, WR_ENOMEM, "q: out of memory");
    return WR_ENOMEM;
}

/* --- storage: nodes, values and strings, all freed by query_free --- */

/* A new node, its index in *out. Pointers into q->nodes do not survive
 * this call: nodes are referred to by index. */
int query__new_node(struct parser *p, enum qnode_kind kind, const struct collection *scope,
                    size_t *out)
{
    query *q = p->q;
    if (q->nnodes == q->nodes_cap) {
        size_t cap = q->nodes_cap ? 2 * q->nodes_cap : 16;
        struct qnode *more = realloc(q->nodes, cap * sizeof(*more));
        if (more == NULL)
            return query__nomem(p);
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

size_t query__add_value(struct parser *p, const struct value *v)
{
    query *q = p->q;
    if (q->nvals == q->vals_cap) {
        size_t cap = q->vals_cap ? 2 * q->vals_cap : 16;
        struct value *more = realloc(q->vals, cap * sizeof(*more));
        if (more == NULL) {
            query__nomem(p);
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
char *query__keep(struct parser *p, char *s)
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
        query__nomem(p);
        return NULL;
    }
    q->owned[q->nowned++] = s;
    return s;
}

/* The first member of object o not among allowed (NULL-terminated), or
 * NULL when all are known. */
const char *query__unknown_key(const json_t *o, const char *const *allowed)
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

size_t query__find_col(const struct collection *c, const char *attr, size_t n)
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
struct name query__resolve(const query *q, const struct collection *c, const char *name)
{
    struct name r = {.kind = NAME_NONE, .col = QNONE, .rel = QNONE};
    size_t n = strlen(name);
    r.col = query__find_col(c, name, n);
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
        size_t col = query__find_col(t, u + 2, strlen(u + 2));
        /* a column the relation hides (dotted EXCLUDE / INCLUDE) is unknown */
        if (col != QNONE && schema_rel_col_visible(q->s, &c->rels[rel], col))
            return (struct name){.kind = NAME_REL_FIELD, .col = col, .rel = rel, .target = t};
    }
    return r;
}

int query__unknown_field(struct parser *p, const struct collection *c, const char *name)
{
    return INVALID(p, "q: unknown field \"%.*s\" in %s", query__clip(name), name, c->name);
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
    const char *key = query__unknown_key(e, allowed);
    if (key != NULL)
        return INVALID(p, "q: unknown member \"%.*s\" in %s", query__clip(key), key, what);
    *field = json_string_value(json_object_get(e, "field"));
    if (*field == NULL)
        return INVALID(p, "q: each entry of %s needs a \"field\" string", what);
    return 0;
}

/* order_by "_rank": the full-text rank of the first match filter among
 * the top-level ones (joined by AND), best first when ascending (FTS5's
 * rank is lower for better matches). */
static int rank_order(struct parser *p, bool desc, struct qorder *out)
{
    query *q = p->q;
    size_t i = q->first;
    while (i != QNONE && !(q->nodes[i].kind == QN_MATCH && q->nodes[i].coll == q->c))
        i = q->nodes[i].next;
    if (i == QNONE)
        return INVALID(p,
                       "q: order_by \"_rank\" needs a match filter on %s at the top level of "
                       "filters",
                       q->c->name);
    if (q->rank_node != QNONE)
        return INVALID(p, "q: order_by \"_rank\" may be given once");
    q->rank_node = i;
    *out = (struct qorder){.rel = QNONE, .col = QNONE, .desc = desc, .rank = true};
    return 0;
}

/* parse_order and parse_group store their arrays in the query (p->q),
 * which query_free frees; gcc's analyzer loses them at that store through
 * a heap pointer. */
WR_ANALYZER_LEAK_FALSE_BEGIN
static int parse_order(struct parser *p, const json_t *root)
{
    static const char *const allowed[] = {"field", "direction", NULL};
    const json_t *a;
    size_t n;
    int rc = get_array(p, root, "order_by", &a, &n);
    if (rc != 0 || n == 0)
        return rc;
    const struct collection *c = p->q->c;
    struct qorder *order = calloc(n, sizeof(*order));
    if (order == NULL)
        return query__nomem(p);
    p->q->order = order;
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
                           query__clip(field), field);
        struct name nm = query__resolve(p->q, c, field);
        if (nm.kind == NAME_NONE && strcmp(field, "_rank") == 0) {
            rc = rank_order(p, d[0] == 'd', &p->q->order[i]);
            if (rc != 0)
                return rc;
            p->q->norder = i + 1;
            continue;
        }
        if (nm.kind == NAME_REL_FIELD && c->rels[nm.rel].to_many)
            return INVALID(p, "q: order_by \"%.*s\": cannot order by a to-many relation's field",
                           query__clip(field), field);
        if (nm.kind != NAME_COLUMN && nm.kind != NAME_REL_FIELD)
            return query__unknown_field(p, c, field);
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
    size_t *group = calloc(n, sizeof(*group));
    if (group == NULL)
        return query__nomem(p);
    p->q->group = group;
    for (size_t i = 0; i < n; i++) {
        const char *field;
        rc = get_entry(p, json_array_get(a, i), "group_by", allowed, &field);
        if (rc != 0)
            return rc;
        size_t col = query__find_col(p->q->c, field, strlen(field));
        if (col == QNONE)
            return query__unknown_field(p, p->q->c, field);
        p->q->group[i] = col;
        p->q->ngroup = i + 1;
    }
    return 0;
}

WR_ANALYZER_LEAK_FALSE_END

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
        return query__nomem(p);
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
                           fn ? query__clip(fn) : 0, fn ? fn : "");
        size_t col = query__find_col(p->q->c, field, strlen(field));
        if (col == QNONE)
            return query__unknown_field(p, p->q->c, field);
        size_t len = strlen(fn) + 2 + strlen(field) + 1;
        char *name = query__keep(p, malloc(len));
        if (name == NULL)
            return WR_ENOMEM;
        (void)snprintf(name, len, "%s__%s", fn, field);
        p->q->funcs[i] = (struct qfunc){.fn = functions[k], .col = col, .name = name};
        p->q->nfuncs = i + 1;
    }
    return 0;
}

/* limit or offset: 0 to WR_Q_COUNT_MAX (proto.h), so that the window's
 * arithmetic (offset plus a page's own offset) never overflows. */
static int get_count(struct parser *p, const json_t *root, const char *key, long long *out)
{
    const json_t *v = json_object_get(root, key);
    if (v == NULL || json_is_null(v)) /* null is absent, as in Flask-Restless */
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > WR_Q_COUNT_MAX)
        return INVALID(p, "q: %s must be a whole number from 0 to %lld", key, WR_Q_COUNT_MAX);
    *out = json_integer_value(v);
    return 0;
}

/* Python's truth of a JSON value, as Flask-Restless reads `single`: false
 * for absent, null, false, 0, 0.0, "", [] and {}; true for the rest. */
static bool truthy(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_TRUE:
        return true;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0.0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    default:
        return false;
    }
}

static int parse_root(struct parser *p, const json_t *root)
{
    static const char *const members[] = {"filters", "order_by", "group_by",  "limit",
                                          "offset",  "single",   "functions", NULL};
    const char *key = query__unknown_key(root, members);
    if (key != NULL)
        return INVALID(p, "q: unknown member \"%.*s\"", query__clip(key), key);
    const json_t *filters;
    size_t n;
    int rc = get_array(p, root, "filters", &filters, &n);
    if (rc == 0 && filters != NULL)
        rc = query__filters(p, filters, p->q->c, 1, &p->q->first);
    if (rc == 0)
        rc = parse_order(p, root);
    if (rc == 0)
        rc = parse_group(p, root);
    if (rc == 0)
        rc = get_count(p, root, "limit", &p->q->limit);
    if (rc == 0)
        rc = get_count(p, root, "offset", &p->q->offset);
    p->q->single = truthy(json_object_get(root, "single"));
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
                               .max_filters = QUERY_DEFAULT_MAX_FILTERS,
                               .max_rel_depth = QUERY_DEFAULT_MAX_REL_DEPTH,
                               .max_subqueries = QUERY_DEFAULT_MAX_SUBQUERIES}};
    if (lim != NULL && lim->max_depth > 0)
        p.lim.max_depth = lim->max_depth;
    if (lim != NULL && lim->max_in > 0)
        p.lim.max_in = lim->max_in;
    if (lim != NULL && lim->max_filters > 0)
        p.lim.max_filters = lim->max_filters;
    if (lim != NULL && lim->max_rel_depth > 0)
        p.lim.max_rel_depth = lim->max_rel_depth;
    if (lim != NULL && lim->max_subqueries > 0)
        p.lim.max_subqueries = lim->max_subqueries;
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
    *p.q = (struct query){
        .s = s, .c = c, .root = root, .first = QNONE, .rank_node = QNONE, .limit = -1};
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

const char *query_match_val(const query *q)
{
    const char *val = NULL;
    for (size_t i = 0; i < q->nnodes; i++) {
        if (q->nodes[i].kind != QN_MATCH)
            continue;
        if (val != NULL)
            return NULL;
        val = q->vals[q->nodes[i].val].s;
    }
    return val;
}

int query_clip(const char *s)
{
    return query__clip(s);
}
