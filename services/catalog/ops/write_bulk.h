/* POST /api/<c> with a list of objects (a bulk create, at most MAX_BULK),
 * or with a Prefer of return or resolution: every object checked first
 * (any problem: 400 validation_failed naming the object's index and its
 * members, nothing written), then all written in one transaction on the
 * writer, recorded in the applied-once ledger with the keys written (so a
 * redelivery answers again, write_bulk_again), cache generations bumped
 * once per table after the commit. resolution=merge-duplicates makes each
 * an upsert by primary key (INSERT ... ON CONFLICT DO UPDATE), which
 * needs PATCH or PUT in METHODS besides POST. The answer: 201 with the
 * objects as GET renders each (a list for a list), or with return=minimal
 * {"num_created": n} (and "num_updated" for an upsert). One object with a
 * Prefer answers as a create does (its Location too; 200 when an upsert
 * updated it). */
#ifndef CATALOG_WRITE_BULK_H
#define CATALOG_WRITE_BULK_H

#include <stdbool.h>

#include "ops/op.h"

/* Whether a create is this module's: a list body, or a Prefer. */
bool write_bulk_wanted(const struct wr_request *req);

/* The op_fn of such a create. Problems of the request are answered (400,
 * 405, 409, 413, 503; returns 0); other errors are returned. */
int write_bulk(const struct handler_env *env, const struct collection *c,
               const struct wr_request *req, const char *base_url, struct wr_answer *out,
               struct wr_err *err);

/* A redelivery of such a create, applied before with status: answers as
 * the first delivery did, from record (the ledger's text of it: the keys
 * written and the counts), the objects read as they are now. */
void write_bulk_again(const struct handler_env *env, const struct collection *c,
                      const struct wr_request *req, const char *base_url, int status,
                      const char *record, struct wr_answer *out);

#endif
