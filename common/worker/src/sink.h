/* Where audit records end up: a MongoDB collection, through
 * mongo-c-driver. Only sink_mongo.c includes mongoc; it also reads the
 * trail back (warren/auditdb.h). A sink is used by the shipper thread
 * alone. */
#ifndef WARREN_WORKER_SINK_H
#define WARREN_WORKER_SINK_H

#include <stddef.h>

#include "warren/buf.h"
#include "warren/err.h"

typedef struct wr_sink wr_sink;

/* A sink for uri (timeouts added when the URI sets none: connect and server
 * selection 2 s, socket 5 s), its client named appname; NULL with err when
 * the URI is invalid. */
wr_sink *wr_sink_new(const char *uri, const char *db, const char *collection, const char *appname,
                     struct wr_err *err);
/* NULL-safe. */
void wr_sink_free(wr_sink *k);

/* Inserts n JSON documents (the lines of text, each ending in '\n'),
 * unordered. A line MongoDB could never take (not Extended JSON libbson
 * reads, or a document an insert refuses: a member name with a '.' or a
 * leading '$', invalid UTF-8) is not sent but appended, with its '\n', to
 * rejected, for the caller to keep. 0 when every other document is now
 * stored, counting those already there (duplicate _id) in *duplicates;
 * WR_EIO when the server could not be reached or refused otherwise
 * (nothing is known to be stored: retry). */
int wr_sink_insert(wr_sink *k, const char *text, size_t len, size_t n, size_t *duplicates,
                   struct wr_buf *rejected, struct wr_err *err);

/* Global set-up of the driver: once per process, before any thread. */
void wr_sink_global_init(void);
void wr_sink_global_cleanup(void);

#endif
