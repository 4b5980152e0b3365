/* The audit trail read back: the documents MongoDB holds for one request
 * (the worker's record, the edge's). The runtime's MongoDB adapter
 * (sink_mongo.c, the only file that includes mongoc) does the I/O, so a
 * service never includes mongoc itself. Needs wr_worker_global_init.
 * Not thread-safe: one wr_auditdb per thread. */
#ifndef WARREN_AUDITDB_H
#define WARREN_AUDITDB_H

#include <stddef.h>

#include "warren/buf.h"
#include "warren/err.h"

typedef struct wr_auditdb wr_auditdb;

struct wr_auditdb_opts {
    const char *uri;        /* MONGO_URI; timeouts as the shipper's (2 s, 2 s, 5 s)
                               unless it sets its own */
    const char *db;         /* AUDIT_DB */
    const char *collection; /* AUDIT_COLLECTION */
    const char *appname;    /* the client's name, "warren-<service>" */
};

/* A reader; it connects on first use. NULL with err: WR_EINVAL when the
 * URI is not a MongoDB URI, WR_ENOMEM. The strings are copied. */
wr_auditdb *wr_auditdb_new(const struct wr_auditdb_opts *o, struct wr_err *err);
/* NULL-safe. */
void wr_auditdb_free(wr_auditdb *d);

/* Appends to out the documents whose request_id is request_id, oldest
 * first (by time), at most max of them, each as canonical JSON (keys
 * sorted, common/json.h; dates as relaxed Extended JSON, {"$date":"<ISO
 * 8601>"}) and separated by commas: the inside of a JSON array. *n gets
 * their number (0: none). Returns 0; WR_EIO when MongoDB could not be
 * reached or refused the query, WR_ETOOBIG or WR_ENOMEM when out could
 * not hold them; on error out may hold part of them (discard it). */
int wr_auditdb_find(wr_auditdb *d, const char *request_id, size_t max, struct wr_buf *out,
                    size_t *n, struct wr_err *err);

#endif
