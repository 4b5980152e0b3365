/* The parsed form of a search (see query.h), shared by the parser
 * (query.c, query_filter.c) and the SQL writer (query_sql.c) and by
 * nothing else. Filters are a tree of nodes in one array, linked by
 * index. */
#ifndef CATALOG_QUERY_INT_H
#define CATALOG_QUERY_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sql/query.h"

#define QNONE ((size_t)-1)

enum query_op {
    QOP_EQ,
    QOP_NE,
    QOP_GT,
    QOP_LT,
    QOP_GE,
    QOP_LE,
    QOP_LIKE,
    QOP_ILIKE,
    QOP_IN,
    QOP_NOT_IN,
    QOP_IS_NULL,
    QOP_IS_NOT_NULL,
    QOP_HAS,
    QOP_ANY,
    QOP_MATCH, /* full text: col MATCH ? through the collection's fts_table */
};

enum qnode_kind {
    QN_AND,
    QN_OR,
    QN_NOT,
    QN_VALUE,  /* col op ?              (QOP_EQ .. QOP_ILIKE) */
    QN_COLUMN, /* col op col2           (QOP_EQ .. QOP_ILIKE) */
    QN_IN,     /* col [NOT] IN (?, ...) */
    QN_NULL,   /* col IS [NOT] NULL */
    QN_EXISTS, /* a row of relation rel of coll, related to this one, matching child */
    QN_MATCH,  /* coll's key among its fts_table's rows matching ? (col, or QNONE: all) */
};

struct qnode {
    enum qnode_kind kind;
    enum query_op op;
    const struct collection *coll; /* the scope: col and rel index into it */
    size_t col;
    size_t col2;     /* QN_COLUMN: a column of coll, or of the enclosing scope */
    bool col2_outer; /* QN_COLUMN: col2 is in the scope enclosing this EXISTS */
    size_t rel;      /* QN_EXISTS */
    size_t val;      /* QN_VALUE, QN_IN: the first of nval values in query.vals */
    size_t nval;
    size_t child; /* first child (AND, OR, NOT, EXISTS), or QNONE */
    size_t next;  /* next sibling, or QNONE */
};

struct qorder {
    size_t rel; /* a to-one relation of the collection, or QNONE for its own column */
    size_t col; /* a column of the relation's target, or of the collection */
    bool desc;
    bool rank; /* "_rank": the full-text rank of query.rank_node (rel, col QNONE) */
};

struct qfunc {
    const char *fn; /* count, sum, avg, min, max */
    size_t col;
    const char *name; /* "sum__total", in owned */
};

struct query {
    const schema *s;
    const struct collection *c;
    json_t *root; /* owns the strings values point to */
    struct qnode *nodes;
    size_t nnodes, nodes_cap;
    size_t first; /* the first top-level filter (joined by AND), or QNONE */
    struct value *vals;
    size_t nvals, vals_cap;
    char **owned; /* strings made while parsing (normalised dates, names) */
    size_t nowned, owned_cap;
    struct qorder *order;
    size_t norder;
    size_t *group; /* columns of the collection */
    size_t ngroup;
    struct qfunc *funcs;
    size_t nfuncs;
    size_t rank_node; /* the top-level QN_MATCH "_rank" orders by, or QNONE */
    bool single;
    long long limit;
    long long offset;
};

#endif
