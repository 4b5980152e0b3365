/* The transaction of one write and its record in warren_applied: a write
 * begins (BEGIN IMMEDIATE on env->writer), and when its request id is
 * recorded already it is answered from the record instead of applied
 * again; a write commits together with its record (request id, status,
 * key, Location, and a fingerprint of who asked what: principal, op,
 * path, q and body), then the cache generation of its table is bumped.
 * So a write delivered twice is applied once, a client that retries with
 * the same X-Request-Id gets the first answer, and one that sends that id
 * with another write is refused (409 request_id_reused) rather than given
 * the first write's answer. */
#ifndef CATALOG_WRITE_LEDGER_H
#define CATALOG_WRITE_LEDGER_H

#include "ops/op.h"

/* Begins req's write transaction. Returns 0 (begun: the caller writes,
 * then calls write_finish or rolls back), 1 (not begun: out holds the
 * answer, from the record of an earlier delivery of the same write, a 409
 * request_id_reused for another write under its id, or a 409 / 503), or a
 * negative WR_E* with err (not begun). base_url prefixes a read-back's
 * URLs. */
int write_begin_once(const struct handler_env *env, const struct collection *c,
                     const struct wr_request *req, const char *base_url, struct wr_answer *out,
                     struct wr_err *err);

/* Records req as applied with status, key (the object's id as the URL has
 * it; for a write of many, the count) and location (both may be NULL),
 * commits, and bumps c's cache generation. On failure rolls back, then
 * answers 409 / 503 into out (returns 0, out->status set) or returns the
 * error. On success returns 0 with out->status still 0: the caller
 * answers. */
int write_finish(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, int status, const char *key, const char *location,
                 struct wr_answer *out, struct wr_err *err);

/* Maps a failed write's rc: a constraint (WR_ECONFLICT) is a 409 with
 * SQLite's reason in the API's names (ops/conflict.h: never a hidden
 * column's), a locked database (WR_EBUSY) a 503, answered into out
 * (returns 0); any other error is returned for a 500. */
int write_failed(const struct handler_env *env, int rc, const struct wr_err *err,
                 struct wr_answer *out);

/* {"num_modified": n} (op WR_OP_UPDATE) or {"num_deleted": n} (WR_OP_DELETE),
 * 200, into out (reset first). */
void write_reply_many(struct wr_answer *out, const char *op, long long n);

#endif
