/* A row written as an object, as deep as asked: its visible columns and
 * (at depth 1, the default) its visible relations, each related object
 * read by its own query for the row at hand and written flat; at depth 2
 * those related objects carry their own relations, flat. A shape narrows
 * what is written (fields=, dotted EXCLUDE / INCLUDE entries); fields
 * come in the schema's sorted order, so no key is ever sorted here. */
#ifndef CATALOG_OBJECTS_H
#define CATALOG_OBJECTS_H

#include <stdbool.h>

#include "ops/op.h"

/* What is written of one collection's objects. Every member may be NULL
 * (or false): nothing more hidden than the collection hides itself. */
struct objects_shape {
    const bool *hide_cols; /* per column of the collection: left out */
    const bool *hide_rels; /* per relation of the collection: left out */
    bool no_rels;          /* no relation at all (a relation INCLUDE narrowed) */
    /* per relation of the collection: the shape of its objects; NULL: as
     * the relation's own config has it (its col_hidden, narrowed) */
    const struct objects_shape *sub;
};

/* Writes row (every column of c, in table order) into out at depth (0:
 * columns only) in shape (NULL: c's visible fields). Returns 0, the
 * buffer's error, or a store error of a relation's query. */
int objects_write(const struct handler_env *env, const struct collection *c,
                  const struct value *row, int depth, const struct objects_shape *shape,
                  struct wr_buf *out, struct wr_err *err);

#endif
