/* Writes: create, update and delete one object (Flask-Restless's POST,
 * PATCH/PUT and DELETE), and through them the writes of many
 * (write_many.h) and the unlink of a related object (write_relations.h),
 * for collections whose METHODS allow them. Each runs in one
 * BEGIN IMMEDIATE transaction on the writer connection that also records
 * the request id (write_ledger.h), so a write delivered twice is applied
 * once. After the commit the table's cache generation is bumped, and the
 * object is read back through the read path (reads_object). */
#ifndef CATALOG_WRITES_H
#define CATALOG_WRITES_H

#include "ops/op.h"

/* The object's id as the URL has it (composite keys joined by ',') from
 * its key values (c->npk of them), into out (cap bytes, cut to fit). */
void write_key_text(const struct collection *c, const struct value *keys, char *out, size_t cap);
/* The Location of c's object with id key, <base_url>/api/<c>/<key>, into
 * out (cap bytes; "" when it does not fit). */
void write_location(const struct collection *c, const char *base_url, const char *key, char *out,
                    size_t cap);

/* The op_fns of WR_OP_CREATE (201 with the object and Location; a list of
 * objects, or a Prefer of return or resolution, is write_bulk.h's),
 * WR_OP_UPDATE (200 with the object; with no key, a write of many) and
 * WR_OP_DELETE (204; with no key, a write of many; with a related id, an
 * unlink). Problems of the request are answered (400, 404, 405, 409, 503;
 * returns 0); other errors are returned for op_finish's 500. */
int write_create(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err);
int write_update(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err);
int write_delete(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err);

#endif
