/* The audit trail: one record per request, read or write, answered or not.
 * Records go to a local spool first (spool.h), made durable before the
 * request is acknowledged, and a shipper thread sends them to MongoDB in
 * unordered batches, in spool order, retrying with backoff while MongoDB is
 * down or slow. So a record can be sent twice (a crash after the insert but
 * before the spool's offset moved, or a request redelivered after a crash)
 * but MongoDB keeps one: the record's _id is the request id. Without
 * MONGO_URI records stay in the spool. */
#ifndef CATALOG_AUDIT_H
#define CATALOG_AUDIT_H

#include <stddef.h>

#include "warren/auditdoc.h"
#include "warren/buf.h"
#include "warren/err.h"

typedef struct audit audit;

struct audit_opts {
    const char *mongo_uri; /* "" or NULL: spool only */
    const char *db;
    const char *collection;
    const char *spool_dir;
    const char *worker; /* host:pid */
};

struct audit_stats {
    long long recorded, shipped, duplicates, failures;
    size_t backlog; /* bytes spooled, not yet shipped */
};

/* Claims a spool and starts the shipper. NULL with err on failure. */
audit *audit_new(const struct audit_opts *o, struct wr_err *err);
/* Stops the shipper (after one last attempt to ship, bounded by the
 * driver's timeouts) and closes the spool; what is left ships on the next
 * start. NULL-safe. */
void audit_free(audit *a);

/* Spools r (not yet durable); *recno gets its number (1, 2, ...). */
int audit_record(audit *a, const struct wr_audit_rec *r, unsigned long long *recno,
                 struct wr_err *err);
/* Spools an audit document another process formatted (the edge's records,
 * from warren.audit) after checking it is one line holding a JSON object
 * with a string _id: WR_EINVAL otherwise, nothing spooled. */
int audit_record_doc(audit *a, const char *doc, size_t len, unsigned long long *recno,
                     struct wr_err *err);
/* The check alone. Pure. */
int audit_check_doc(const char *doc, size_t len, struct wr_err *err);
/* Asks the syncer thread to make every record so far durable (one fsync
 * for many records), without waiting. */
void audit_sync_soon(audit *a);
/* The number of records known durable: requests whose records are numbered
 * up to it may be acknowledged. */
unsigned long long audit_durable(audit *a);
/* Makes every record so far durable before returning (at shutdown). */
int audit_sync(audit *a, struct wr_err *err);
/* 0, or the error that made a sync fail: the worker must stop, leaving its
 * unacknowledged requests to others. */
int audit_failed(audit *a);
void audit_get_stats(audit *a, struct audit_stats *out);

#endif
