/* Writes: create, update and delete one object (Flask-Restless's POST,
 * PATCH/PUT and DELETE), for collections whose METHODS allow them. Each
 * runs in one BEGIN IMMEDIATE transaction on the writer connection that
 * also records the request id in warren_applied, so a write delivered twice
 * is applied once (the second delivery gets the first one's status). After
 * the commit the table's cache generation is bumped, and the object is read
 * back through the ordinary read path. */
#ifndef CATALOG_WRITES_H
#define CATALOG_WRITES_H

#include "ops/handlers.h"

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
