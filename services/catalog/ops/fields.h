/* fields=: the fields a request shows of the objects it answers,
 * narrowing (never widening) what the config shows. A list of names
 * separated by ',': an attribute or a relation of the collection (the
 * relation whole), or `Relation.name`, which shows that relation with only
 * the named attributes (and, at depth 2, relations) of its objects, as a
 * dotted INCLUDE entry does. A name the collection lacks or hides, a
 * relation at depth 0, or a relation of a relation below depth 2 is a 400
 * that names it. Pure: no I/O. */
#ifndef CATALOG_FIELDS_H
#define CATALOG_FIELDS_H

#include <stdbool.h>

#include "model/schema.h"
#include "ops/objects.h"
#include "warren/err.h"

/* What one request shows of collection c's objects. */
struct view {
    const struct collection *c;
    struct objects_shape top;  /* c's objects */
    struct objects_shape *sub; /* per relation of c: its objects */
    bool *mem;                 /* the shapes' arrays, one allocation */
};

/* Reads fields (NUL-terminated) for c's objects written at depth into v
 * (release it with view_release, even on failure). 0, WR_EINVAL with a
 * message fit for a 400 naming `fields` and the name at fault, or
 * WR_ENOMEM. */
int view_parse(struct view *v, const schema *s, const struct collection *c, const char *fields,
               int depth, struct wr_err *err);
/* Frees what view_parse allocated. NULL-safe. */
void view_release(struct view *v);

#endif
