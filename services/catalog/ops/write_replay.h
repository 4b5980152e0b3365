/* The answers of writes of many objects (a bulk create, a batch), kept
 * beside the applied-once ledger (write_ledger.h) in the table
 * warren_applied_many, in the write's transaction: the ledger's one row
 * cannot hold a thousand keys. A redelivery of such a write is answered
 * from its record (write_replay_answer, which the ledger asks first). */
#ifndef CATALOG_WRITE_REPLAY_H
#define CATALOG_WRITE_REPLAY_H

#include <stdbool.h>

#include "ops/op.h"

/* Records record (JSON text, len bytes) as what request id's write did,
 * inside its transaction on env->writer. 0 or the store's error. */
int write_replay_record(const struct handler_env *env, const char *id, const char *record,
                        size_t len, struct wr_err *err);

/* For the ledger: when req is a bulk create (write_bulk_wanted) or a
 * batch, answers its redelivery (applied before with status) from its
 * record into out and is true; false for any other write. */
bool write_replay_answer(const struct handler_env *env, const struct collection *c,
                         const struct wr_request *req, const char *base_url, int status,
                         struct wr_answer *out);

#endif
