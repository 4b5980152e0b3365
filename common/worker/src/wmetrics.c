/* The runtime's metrics (see wmetrics.h): registered once, updated by the
 * loop's thread, the audit trail's mirrored by a write hook (its figures
 * are kept under the trail's own lock, so the admin thread may read them). */
#include "wmetrics.h"

#include <string.h>

#include "warren/codec.h"
#include "warren/version.h"

static void audit_hook(void *arg)
{
    struct wr__wmetrics *wm = arg;
    if (wm->audit == NULL)
        return;
    struct wr_audit_stats st;
    wr_audit_get_stats(wm->audit, &st);
    /* counters mirrored from the trail's own, which only grow */
    wr_series_set(wm->audit_records, st.recorded);
    wr_series_set(wm->audit_shipped, st.shipped);
    wr_series_set(wm->audit_duplicates, st.duplicates);
    wr_series_set(wm->audit_errors, st.failures);
    wr_series_set(wm->audit_backlog, (int64_t)st.backlog);
    wr_series_set(wm->audit_syncs, st.syncs);
}

int wr__wmetrics_init(struct wr__wmetrics *wm, wr_metrics *reg)
{
    *wm = (struct wr__wmetrics){.reg = reg};
    if (reg == NULL) {
        wm->reg = wr_metrics_new();
        wm->own = true;
    }
    wr_metrics *m = wm->reg;
    if (m == NULL)
        return WR_ENOMEM;
    static const char *const version[] = {"version", NULL};
    static const char *const op_status[] = {"op", "status", NULL};
    static const char *const op[] = {"op", NULL};
    static const char *const queue[] = {"queue", NULL};
    wr_metric *build =
        wr_metrics_gauge(m, "warren_build_info", "The warren version running", version);
    wr_series_set(wr_metric_series(build, (const char *const[]){WARREN_VERSION}), 1);
    wm->requests = wr_metrics_counter(m, "warren_worker_requests_total",
                                      "Requests answered, by op and HTTP status", op_status);
    wm->duration = wr_metrics_histogram(m, "warren_worker_request_duration_seconds",
                                        "Time from delivery to reply, by op", op);
    wm->deliveries = wr_metrics_counter(m, "warren_worker_deliveries_total",
                                        "Messages delivered, by queue", queue);
    wm->redeliveries = wr_metrics_counter(
        m, "warren_worker_redeliveries_total",
        "Messages delivered again (another consumer held them and went away), by queue", queue);
    wm->deadlines = wr_metric_series(
        wr_metrics_counter(m, "warren_worker_deadlines_passed_total",
                           "Requests whose deadline had passed on delivery: not executed", NULL),
        NULL);
    wm->unacked = wr_metric_series(
        wr_metrics_gauge(m, "warren_worker_unacked_deliveries",
                         "Deliveries taken and not yet acknowledged (in flight, or waiting "
                         "for their audit record to be durable)",
                         NULL),
        NULL);
    wm->connected = wr_metric_series(
        wr_metrics_gauge(m, "warren_amqp_connected",
                         "1 while connected to the broker and consuming, else 0", NULL),
        NULL);
    wm->reconnects =
        wr_metric_series(wr_metrics_counter(m, "warren_amqp_reconnects_total",
                                            "Broker connections made after the first", NULL),
                         NULL);
    wm->yields = wr_metric_series(
        wr_metrics_counter(m, "warren_worker_yields_total",
                           "Times the worker, behind for YIELD_AFTER_MS, yielded its place to "
                           "take turns with the others that did",
                           NULL),
        NULL);
    wm->audit_records = wr_metric_series(
        wr_metrics_counter(m, "warren_audit_records_total",
                           "Audit records spooled (this worker's and the edge's)", NULL),
        NULL);
    wm->audit_shipped = wr_metric_series(wr_metrics_counter(m, "warren_audit_shipped_records_total",
                                                            "Audit records MongoDB stored", NULL),
                                         NULL);
    wm->audit_duplicates = wr_metric_series(
        wr_metrics_counter(m, "warren_audit_duplicate_records_total",
                           "Audit records MongoDB already held (shipped again after a crash)",
                           NULL),
        NULL);
    wm->audit_errors = wr_metric_series(
        wr_metrics_counter(m, "warren_audit_ship_errors_total",
                           "Batches the shipper failed to store in MongoDB (retried)", NULL),
        NULL);
    wm->audit_backlog = wr_metric_series(
        wr_metrics_gauge(m, "warren_audit_backlog_bytes",
                         "Bytes of audit records spooled and not yet shipped", NULL),
        NULL);
    wm->audit_syncs = wr_metric_series(
        wr_metrics_counter(m, "warren_audit_syncs_total",
                           "Group commits of the audit spool (fsyncs, each for every record "
                           "spooled before it)",
                           NULL),
        NULL);
    return wr_metrics_on_write(m, audit_hook, wm);
}

void wr__wmetrics_release(struct wr__wmetrics *wm)
{
    if (wm == NULL || wm->reg == NULL)
        return;
    if (wm->own)
        wr_metrics_free(wm->reg);
    else /* the service's registry outlives the runtime */
        wr_metrics_hook_remove(wm->reg, audit_hook, wm);
}

void wr__wmetrics_watch_audit(struct wr__wmetrics *wm, wr_audit *a)
{
    wm->audit = a;
}

void wr__wmetrics_request(struct wr__wmetrics *wm, const char *op, int status, uint64_t ns)
{
    char code[21];
    (void)wr_decimal_signed(code, status);
    const char *name = op != NULL ? op : "other";
    wr_series_add(wr_metric_series(wm->requests, (const char *const[]){name, code}), 1);
    wr_series_observe_ns(wr_metric_series(wm->duration, (const char *const[]){name}), ns);
}

void wr__wmetrics_delivery(struct wr__wmetrics *wm, const char *queue, bool redelivered)
{
    const char *const q[] = {queue != NULL ? queue : "", NULL};
    wr_series_add(wr_metric_series(wm->deliveries, q), 1);
    if (redelivered)
        wr_series_add(wr_metric_series(wm->redeliveries, q), 1);
}

void wr__wmetrics_connected(struct wr__wmetrics *wm, bool up)
{
    wr_series_set(wm->connected, up ? 1 : 0);
    if (up && wm->connects++ > 0)
        wr_series_add(wm->reconnects, 1);
}
