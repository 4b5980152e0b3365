/* Relation members of a write's body, as Flask-Restless 0.17 takes them,
 * applied inside the write's transaction: a to-one set to an existing
 * object (by its key), to a new object (created, one level deep) or to
 * null; a to-many set to a list (the related set becomes exactly that:
 * listed objects linked, new ones created, the rest unlinked) or changed
 * by {"add": [...], "remove": [...]}, where a removed object with
 * "__delete__": true is deleted. Changing a related collection's rows
 * needs its METHODS (POST to create, PATCH to link or unlink, DELETE for
 * __delete__). Also the row inserts the writes share, and
 * DELETE /api/<c>/<id>/<relation>/<relid>.
 *
 * The functions returning int give 0, WR_EINVAL (what was wrong recorded
 * in errors under the member's name, for write_rel_failed's 400) or the
 * store's error. */
#ifndef CATALOG_WRITE_RELATIONS_H
#define CATALOG_WRITE_RELATIONS_H

#include <jansson.h>

#include "ops/op.h"
#include "ops/write_body.h"

/* Inserts a's row into c and puts its key (c->npk values) into keys: from
 * a's values, or the rowid for an INTEGER PRIMARY KEY left out (WR_EINVAL,
 * recorded under "" in errors, when another key column is missing). */
int write_insert(const struct handler_env *env, const struct collection *c,
                 const struct assignment *a, struct value *keys, json_t *errors,
                 struct wr_err *err);

/* The to-one members of a, before c's row is written: each sets the row's
 * foreign key columns (appended to a's values). */
int write_rel_to_ones(const struct handler_env *env, const struct collection *c,
                      struct assignment *a, json_t *errors, struct wr_err *err);

/* The to-many members of a, after c's row (whose key is keys) is written. */
int write_rel_to_manys(const struct handler_env *env, const struct collection *c,
                       const struct assignment *a, const struct value *keys, json_t *errors,
                       struct wr_err *err);

/* After the commit: bumps the cache generation of every table a's
 * relation members changed. a may be NULL (nothing to bump). */
void write_rel_bump(const struct handler_env *env, const struct assignment *a);

/* A write step failed with rc: rolls back, then answers 400
 * validation_failed with errors (WR_EINVAL) or maps rc as write_failed
 * does. */
int write_rel_failed(const struct handler_env *env, int rc, json_t *errors,
                     const struct wr_err *err, struct wr_answer *out);

/* DELETE /api/<c>/<id>/<relation>/<related id>: takes the object out of
 * the relation, as a `remove` in a PATCH does: 204, or 404 when either
 * object is missing or they are not related (answered; returns 0), in a
 * write transaction of its own. An op_fn's returns. */
int write_unlink_one(const struct handler_env *env, const struct collection *c,
                     const struct wr_request *req, const char *base_url, struct wr_answer *out,
                     struct wr_err *err);

#endif
