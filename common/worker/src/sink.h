/* Where audit records end up: a MongoDB collection, through
 * mongo-c-driver. Only sink_mongo.c includes mongoc. Used by the shipper
 * thread alone. */
#ifndef CATALOG_SINK_H
#define CATALOG_SINK_H

#include <stddef.h>

#include "warren/err.h"

typedef struct sink sink;

/* A sink for uri (timeouts added when the URI sets none: connect and server
 * selection 2 s, socket 5 s); NULL with err when the URI is invalid. */
sink *sink_new(const char *uri, const char *db, const char *collection, struct wr_err *err);
void sink_free(sink *k);

/* Inserts n JSON documents (the lines of text, each ending in '\n'),
 * unordered. 0 when every document is now stored, counting those already
 * there (duplicate _id) in *duplicates; WR_EIO when the server could not be
 * reached or refused otherwise (nothing is known to be stored: retry). */
int sink_insert(sink *k, const char *text, size_t len, size_t n, size_t *duplicates,
                struct wr_err *err);

/* Global set-up of the driver: once per process, before any thread. */
void sink_global_init(void);
void sink_global_cleanup(void);

#endif
