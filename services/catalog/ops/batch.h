/* POST /api/_batch: up to WR_BATCH_MAX writes, applied in order in one
 * transaction on the writer, all or nothing. An operation is
 * {"method", "path", "body"}, with the path of the same request alone
 * (no query): POST /api/<c> creates one object; PATCH or PUT
 * /api/<c>/<id> changes one (on /api/<c>: every object, where METHODS has
 * PATCH_MANY); DELETE /api/<c>/<id> deletes one (on /api/<c>: every
 * object, DELETE_MANY; on /api/<c>/<id>/<relation>/<related id>: takes
 * it out of the relation). Each needs what it needs alone (METHODS, a
 * valid body); reads (GET) are refused: a batch writes. The answer: 200
 * {"results":[{"body":...,"status":201},...]}, each operation's answer
 * as alone (objects read after the commit; null for a 204); or, when an
 * operation fails, nothing is applied and its error is the batch's
 * answer, with "operation": its index. Applied once by request id, as
 * every write; cache generations bumped once per table. */
#ifndef CATALOG_BATCH_H
#define CATALOG_BATCH_H

#include "ops/op.h"

/* Answers op WR_OP_BATCH into out (reset before). Problems are answered
 * (400, 404, 405, 409, 503; returns 0); other errors are returned. */
int batch_run(const struct handler_env *env, const struct wr_request *req, const char *base_url,
              struct wr_answer *out, struct wr_err *err);

/* A redelivery of a batch applied before (with status): the answer from
 * its record (the ledger's text of each operation's outcome), the objects
 * read as they are now. */
void batch_again(const struct handler_env *env, const struct wr_request *req, const char *base_url,
                 int status, const char *record, struct wr_answer *out);

#endif
