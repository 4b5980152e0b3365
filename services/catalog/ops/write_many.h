/* PATCH / PUT and DELETE of /api/<c>?q=...: every object the search's
 * filters find (its order, limit and offset do not apply) is changed or
 * deleted in one transaction, answered {"num_modified": n} or
 * {"num_deleted": n}. METHODS opts in with PATCH_MANY / DELETE_MANY;
 * relations cannot be changed this way. */
#ifndef CATALOG_WRITE_MANY_H
#define CATALOG_WRITE_MANY_H

#include "ops/op.h"
#include "ops/write_body.h"

/* Changes every object of c that req's q finds (no q: every object): an
 * update with the body parsed into a (a zeroed assignment the caller
 * frees with write_body_release), a delete when a is NULL. Answers into
 * out (400 for a bad body or q); returns 0 or an error for a 500. */
int write_many(const struct handler_env *env, const struct collection *c,
               const struct wr_request *req, struct assignment *a, struct wr_answer *out,
               struct wr_err *err);

#endif
