/* One chunk of an export (op list with format; proto/README.md,
 * "Exports"): the rows a search leaves after a keyset cursor, in key order
 * (or q's order_by on the collection's own columns), rendered as CSV or
 * NDJSON (export_render.h), at most EXPORT_CHUNK_ROWS rows (fewer when
 * results_per_page asks) and about EXPORT_CHUNK_BYTES. The answer carries
 * the cursor of the next chunk (empty on the last) and its row count; the
 * worker keeps nothing between chunks, so any worker serves the next one. */
#ifndef CATALOG_EXPORT_H
#define CATALOG_EXPORT_H

#include "ops/op.h"

#define EXPORT_CHUNK_ROWS 5000
#define EXPORT_CHUNK_BYTES ((size_t)256 * 1024)

/* The op_fn of a list with req->format: 200 with the chunk (the first one,
 * after NULL or "", starts a CSV with its header row); 400 for a q that
 * does not parse or cannot be walked by a cursor (group_by, limit, offset,
 * single, or an order_by beyond the collection's columns), or a cursor
 * that is not this export's. Runs inside the caller's read transaction:
 * the rows of one chunk are one snapshot, the chunks are not. */
int export_chunk(const struct handler_env *env, const struct collection *c,
                 const struct wr_request *req, const char *base_url, struct wr_answer *out,
                 struct wr_err *err);

#endif
