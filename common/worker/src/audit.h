/* The audit trail: one record per request, read or write, answered or not.
 * Records go to a local spool first (spool.h), made durable before the
 * request is acknowledged, and a shipper thread sends them to MongoDB in
 * unordered batches, in spool order, retrying with backoff while MongoDB is
 * down or slow. So a line can be sent twice (a crash after the insert but
 * before the spool's offset moved) but MongoDB keeps one: each record has
 * its own _id, made when it is spooled. A request executed twice (a
 * redelivery after a crash) has two records, one per execution, both with
 * its request_id. Without MONGO_URI records stay in the spool. */
#ifndef WARREN_WORKER_AUDIT_H
#define WARREN_WORKER_AUDIT_H

#include <stddef.h>

#include "warren/auditdoc.h"
#include "warren/buf.h"
#include "warren/err.h"

typedef struct wr_audit wr_audit;

struct wr_audit_opts {
    const char *mongo_uri; /* "" or NULL: spool only */
    const char *db;
    const char *collection;
    const char *spool_dir;
    const char *worker;  /* host:pid */
    const char *appname; /* the MongoDB client's name */
};

struct wr_audit_stats {
    long long recorded, shipped, duplicates, failures;
    long long dead; /* records MongoDB cannot take, kept in the spool's .dead file */
    size_t backlog; /* bytes spooled, not yet shipped */
};

/* Claims a spool and starts the shipper. NULL with err on failure. */
wr_audit *wr_audit_new(const struct wr_audit_opts *o, struct wr_err *err);
/* Stops the shipper (after one last attempt to ship, bounded by the
 * driver's timeouts) and closes the spool; what is left ships on the next
 * start. NULL-safe. */
void wr_audit_free(wr_audit *a);

/* Spools r (not yet durable) under a fresh _id (r->audit_id is ignored);
 * *recno gets its number (1, 2, ...). */
int wr_audit_record(wr_audit *a, const struct wr_audit_rec *r, unsigned long long *recno,
                    struct wr_err *err);
/* Spools an audit document another process formatted (the edge's records,
 * from warren.audit) after checking it is one line holding a JSON object
 * with a string _id: WR_EINVAL otherwise, nothing spooled. */
int wr_audit_record_doc(wr_audit *a, const char *doc, size_t len, unsigned long long *recno,
                        struct wr_err *err);
/* The check alone. Pure. */
int wr_audit_check_doc(const char *doc, size_t len, struct wr_err *err);
/* Asks the syncer thread to make every record so far durable (one fsync
 * for many records), without waiting. */
void wr_audit_sync_soon(wr_audit *a);
/* The number of records known durable: requests whose records are numbered
 * up to it may be acknowledged. */
unsigned long long wr_audit_durable(wr_audit *a);
/* Makes every record so far durable before returning (at shutdown). */
int wr_audit_sync(wr_audit *a, struct wr_err *err);
/* 0, or the error that made a sync fail: the worker must stop, leaving its
 * unacknowledged requests to others. */
int wr_audit_failed(wr_audit *a);
void wr_audit_get_stats(wr_audit *a, struct wr_audit_stats *out);

#endif
