/* The state of the search parser, shared by query.c (storage, names and
 * the members other than filters) and query_filter.c (the filters) and by
 * nothing else. Errors: each function returning int gives 0, WR_EINVAL
 * (the parser's err says why, fit for a 400) or WR_ENOMEM. */
#ifndef CATALOG_QUERY_PARSE_H
#define CATALOG_QUERY_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sql/query_int.h"

/* Sets p's error and is WR_EINVAL: an expression, so that the analysers
 * see the non-zero result (wr_err_set's body is in another file). */
#define INVALID(p, ...) (wr_err_set((p)->err, WR_EINVAL, __VA_ARGS__), WR_EINVAL)
/* The same for a search over a cost limit (query.h): WR_ETOOBIG. */
#define TOO_COSTLY(p, ...) (wr_err_set((p)->err, WR_ETOOBIG, __VA_ARGS__), WR_ETOOBIG)

struct parser {
    query *q;
    struct query_limits lim;
    size_t nfilters;
    int rel_depth;      /* relation filters around the one being parsed */
    size_t nsubqueries; /* relation filters so far */
    const bool *mask;   /* inside has / any: the columns the relation hides, or NULL */
    struct wr_err *err;
};

/* A filter's name, resolved in the collection it applies to. */
struct name {
    enum { NAME_NONE, NAME_COLUMN, NAME_RELATION, NAME_REL_FIELD } kind;
    size_t col; /* NAME_COLUMN: of the collection; NAME_REL_FIELD: of the target */
    size_t rel; /* NAME_RELATION, NAME_REL_FIELD */
    const struct collection *target;
};

/* The length of s cut to at most 64 bytes at a UTF-8 character boundary,
 * for quoting request text in messages as "%.*s". */
int query__clip(const char *s);
/* Sets p's error to out of memory; WR_ENOMEM. */
int query__nomem(struct parser *p);

/* A new node of kind in scope, its index in *out. Pointers into q->nodes
 * do not survive this call: nodes are referred to by index. */
int query__new_node(struct parser *p, enum qnode_kind kind, const struct collection *scope,
                    size_t *out);
/* Appends v to q->vals: its index, or QNONE when out of memory. */
size_t query__add_value(struct parser *p, const struct value *v);
/* Keeps s (malloc'd, or NULL after a failed allocation) until query_free;
 * NULL when out of memory, with s freed. */
char *query__keep(struct parser *p, char *s);
/* The first member of object o not among allowed (NULL-terminated), or
 * NULL when all are known. */
const char *query__unknown_key(const json_t *o, const char *const *allowed);

/* The visible column of c whose attribute is the n bytes at attr, or
 * QNONE. */
size_t query__find_col(const struct collection *c, const char *attr, size_t n);
/* An attribute, a relation, or relation__field (split at the first "__"
 * that leaves a relation and one of its target's visible attributes). */
struct name query__resolve(const query *q, const struct collection *c, const char *name);
/* WR_EINVAL: name is no field of c. */
int query__unknown_field(struct parser *p, const struct collection *c, const char *name);

/* The filters of array a in scope (at nesting depth), linked as siblings;
 * *first is QNONE when a is empty. */
int query__filters(struct parser *p, const json_t *a, const struct collection *scope, int depth,
                   size_t *first);

#endif
