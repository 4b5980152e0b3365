/* Reads: a list (GET /api/<c>, a search when it has q or after), one
 * object (GET /api/<c>/<id>), a relation of one (GET /api/<c>/<id>/<rel>,
 * a page for a to-many, the object or null for a to-one) and one related
 * object (GET /api/<c>/<id>/<rel>/<relid>). Each op runs inside the read
 * transaction its caller opened on env->store. Writes read their object
 * back through reads_object, which opens its own. */
#ifndef CATALOG_READS_H
#define CATALOG_READS_H

#include "ops/op.h"

/* The op_fn of WR_OP_LIST (with a format: an export's chunk, export.h). */
int reads_list(const struct handler_env *env, const struct collection *c,
               const struct wr_request *req, const char *base_url, struct wr_answer *out,
               struct wr_err *err);

/* The op_fn of WR_OP_GET and WR_OP_RELATED: 404 (answered, returns 0)
 * for an id that names no row, an unknown relation, or a related id that
 * is not related. */
int reads_get(const struct handler_env *env, const struct collection *c,
              const struct wr_request *req, const char *base_url, struct wr_answer *out,
              struct wr_err *err);

/* Answers out (reset first) as GET /api/<c>/<key> does, in a read
 * transaction of its own, but with status instead of 200 when found: a
 * write's answer after its commit. Errors are answered (op_finish), never
 * returned; id names the request in the log. Inside a batch's transaction
 * (write_tx.h) it only notes the object, to be read after the commit. */
void reads_object(const struct handler_env *env, const struct collection *c, const char *key,
                  const char *base_url, int status, const char *id, struct wr_answer *out);

#endif
