/* The runtime's own metrics, the same for every service (the names are in
 * the README, "Running in production"): requests by op and status and
 * their durations, deliveries and redeliveries by queue, deadlines passed,
 * unacknowledged deliveries, the broker connection, the audit trail, and
 * the build. The loop's thread updates them; the audit trail's figures are
 * read when the registry is written. */
#ifndef WARREN_WORKER_WMETRICS_H
#define WARREN_WORKER_WMETRICS_H

#include <stdint.h>

#include "audit.h"
#include "warren/metrics.h"

struct wr__wmetrics {
    wr_metrics *reg;
    bool own; /* made here (the service brought none) */
    wr_metric *requests, *duration, *deliveries, *redeliveries;
    wr_series *deadlines, *unacked, *connected, *reconnects, *yields;
    wr_series *audit_records, *audit_shipped, *audit_duplicates, *audit_errors, *audit_backlog;
    wr_series *audit_syncs;
    wr_audit *audit; /* borrowed: read when the registry is written */
    long long connects;
};

/* Registers the runtime's metrics in reg (NULL: a registry of its own).
 * 0, or WR_ENOMEM. Call before the admin thread starts. */
int wr__wmetrics_init(struct wr__wmetrics *wm, wr_metrics *reg);
/* Frees the registry when it is the runtime's own. NULL-safe. */
void wr__wmetrics_release(struct wr__wmetrics *wm);
/* From now on the audit trail's figures are exported (a may be NULL). */
void wr__wmetrics_watch_audit(struct wr__wmetrics *wm, wr_audit *a);

/* One request answered: its op (the table's name, or NULL when no row of
 * the table matched: "other") and status, and how long it took. */
void wr__wmetrics_request(struct wr__wmetrics *wm, const char *op, int status, uint64_t ns);
/* One delivery from queue (its routing key). */
void wr__wmetrics_delivery(struct wr__wmetrics *wm, const char *queue, bool redelivered);
/* The broker connection is up (consuming) or down. */
void wr__wmetrics_connected(struct wr__wmetrics *wm, bool up);

#endif
