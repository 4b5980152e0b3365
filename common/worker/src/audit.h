/* The audit trail: one record per request, read or write, answered or not.
 * Records go to a local spool first (spool.h), made durable before the
 * request is acknowledged, and a shipper thread sends them to MongoDB in
 * unordered batches, in spool order, retrying with backoff while MongoDB is
 * down or slow. So a line can be sent twice (a crash after the insert but
 * before the spool's offset moved) but MongoDB keeps one: each record has
 * its own _id, made when it is spooled. A request executed twice (a
 * redelivery after a crash) has two records, one per execution, both with
 * its request_id. Without MONGO_URI records stay in the spool (or, with
 * keep_bytes, only the newest of them).
 *
 * The spool is bounded: at max_bytes not yet shipped the worker stops
 * taking requests (wr_audit_should_pause) until the shipper brought it
 * below 90%. A full disk loses no record either: a record the disk has no
 * room for is held in memory, its request unacknowledged, the worker
 * stops taking requests, and wr_audit_retry writes it once there is room. */
#ifndef WARREN_WORKER_AUDIT_H
#define WARREN_WORKER_AUDIT_H

#include <stdbool.h>
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
    size_t max_bytes;    /* AUDIT_SPOOL_MAX_BYTES: 0, no bound */
    size_t keep_bytes;   /* AUDIT_SPOOL_KEEP_BYTES (no mongo_uri only): 0, keep all */
    long sync_ms;        /* AUDIT_SYNC_MS: a group commit's wait for more records */
};

struct wr_audit_stats {
    long long recorded, shipped, duplicates, failures;
    long long dead;            /* records MongoDB cannot take, kept in the spool's .dead file */
    long long syncs;           /* group commits (fsyncs) made */
    long long discarded_bytes; /* of old records, by keep_bytes */
    size_t held;               /* records waiting in memory for room on the disk */
    size_t backlog;            /* bytes spooled, not yet shipped */
};

/* Claims a spool and starts the shipper. NULL with err on failure. */
wr_audit *wr_audit_new(const struct wr_audit_opts *o, struct wr_err *err);
/* Stops the shipper (after one last attempt to ship, bounded by the
 * driver's timeouts) and closes the spool; what is left ships on the next
 * start. NULL-safe. */
void wr_audit_free(wr_audit *a);

/* Spools r (not yet durable) under a fresh _id (r->audit_id is ignored);
 * *recno gets its number (1, 2, ...). A record the disk has no room for
 * is held in memory (not durable until wr_audit_retry writes it): 0 too.
 * An error (the spool failed otherwise, or more than 64 MiB are held)
 * means the worker must stop without acknowledging. */
int wr_audit_record(wr_audit *a, const struct wr_audit_rec *r, unsigned long long *recno,
                    struct wr_err *err);
/* Spools an audit document another process formatted (the edge's records,
 * from warren.audit) after checking it is one line holding a JSON object
 * with a string _id: WR_EINVAL otherwise, nothing spooled. */
int wr_audit_record_doc(wr_audit *a, const char *doc, size_t len, unsigned long long *recno,
                        struct wr_err *err);
/* The check alone. Pure. */
int wr_audit_check_doc(const char *doc, size_t len, struct wr_err *err);
/* Writes the records held for want of room, oldest first, as far as the
 * disk takes them, and asks for a sync when that emptied the hold. 0 (done,
 * or the disk is still full), or the spool's error (the worker must stop). */
int wr_audit_retry(wr_audit *a, struct wr_err *err);
/* Whether the worker should not take requests: records are held for want
 * of room, or max_bytes or more wait to be shipped; once paused (paused
 * true), until none is held and less than 90% of max_bytes waits. */
bool wr_audit_should_pause(wr_audit *a, bool paused);

/* Asks the syncer thread to make every record so far durable, without
 * waiting: one fsync for many records, sync_ms after the last one began
 * (at once after a quiet spell), or at once when now (the caller's
 * deliveries wait for it: PREFETCH is filling up). */
void wr_audit_sync_soon(wr_audit *a, bool now);
/* How long until the syncer begins its next commit of the records the
 * worker wants durable: 0 when none waits, when it commits now or is
 * committing. The worker sleeps that long instead of asking every few ms. */
long wr_audit_sync_due_ms(wr_audit *a);
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
