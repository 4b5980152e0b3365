/* The edge's metrics (see metrics.h) on the common registry: series kept
 * for the events, gauges refreshed from the parts by a write hook. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include "bus.h"
#include "call.h"
#include "trail.h"
#include "warren/metrics.h"
#include "warren/version.h"

struct metrics {
    wr_metrics *reg;
    wr_metric *requests, *duration;
    wr_series *events[3];
    wr_series *in_flight, *connected, *blocked, *reconnects, *held, *dropped;
    const calls *calls;
    const bus *bus;
    const trail *trail;
};

static void refresh(void *arg)
{
    metrics *m = arg;
    if (m->calls != NULL)
        wr_series_set(m->in_flight, (int64_t)calls_count(m->calls));
    if (m->bus != NULL) {
        long long connects = bus_connects(m->bus);
        wr_series_set(m->connected, bus_ready(m->bus) || bus_blocked(m->bus) ? 1 : 0);
        wr_series_set(m->blocked, bus_blocked(m->bus) ? 1 : 0);
        wr_series_set(m->reconnects, connects > 1 ? connects - 1 : 0);
    }
    if (m->trail != NULL) {
        wr_series_set(m->held, (int64_t)trail_held(m->trail));
        wr_series_set(m->dropped, trail_dropped(m->trail));
    }
}

static wr_series *single(wr_metric *metric)
{
    return wr_metric_series(metric, NULL);
}

metrics *metrics_new(void)
{
    metrics *m = calloc(1, sizeof(*m));
    wr_metrics *r = m != NULL ? wr_metrics_new() : NULL;
    if (r == NULL) {
        free(m);
        return NULL;
    }
    m->reg = r;
    static const char *const version[] = {"version", NULL};
    static const char *const route_status[] = {"route", "status", NULL};
    static const char *const route[] = {"route", NULL};
    wr_metric *build =
        wr_metrics_gauge(r, "warren_build_info", "The warren version running", version);
    wr_series_set(wr_metric_series(build, (const char *const[]){WARREN_VERSION}), 1);
    m->requests = wr_metrics_counter(r, "warren_http_requests_total",
                                     "HTTP requests answered, by route and status", route_status);
    m->duration = wr_metrics_histogram(r, "warren_http_request_duration_seconds",
                                       "Time from request to answer, by route", route);
    m->in_flight = single(wr_metrics_gauge(r, "warren_http_requests_in_flight",
                                           "Requests published and waiting for a reply", NULL));
    m->events[METRICS_DEADLINE_PASSED] = single(
        wr_metrics_counter(r, "warren_edge_deadlines_passed_total",
                           "Requests answered 504: no reply within REQUEST_TIMEOUT_MS", NULL));
    m->events[METRICS_LATE_REPLY] = single(
        wr_metrics_counter(r, "warren_edge_late_replies_total",
                           "Replies that came after their request was answered or gone", NULL));
    m->events[METRICS_RETURNED] = single(
        wr_metrics_counter(r, "warren_amqp_returned_total",
                           "Requests the broker returned as unroutable (answered 503)", NULL));
    m->connected = single(wr_metrics_gauge(r, "warren_amqp_connected",
                                           "1 while connected to the broker, else 0", NULL));
    m->blocked = single(wr_metrics_gauge(
        r, "warren_amqp_blocked", "1 while the broker blocks publishers (an alarm), else 0", NULL));
    m->reconnects = single(wr_metrics_counter(r, "warren_amqp_reconnects_total",
                                              "Broker connections made after the first", NULL));
    m->held = single(wr_metrics_gauge(
        r, "warren_edge_audit_held_records",
        "Audit records of the edge's own answers held in memory until the broker takes them",
        NULL));
    m->dropped = single(wr_metrics_counter(
        r, "warren_edge_audit_dropped_records_total",
        "Audit records of the edge's own answers lost: the memory cap reached", NULL));
    if (wr_metrics_on_write(r, refresh, m) != 0) {
        metrics_free(m);
        return NULL;
    }
    return m;
}

void metrics_free(metrics *m)
{
    if (m == NULL)
        return;
    wr_metrics_free(m->reg);
    free(m);
}

void metrics_watch(metrics *m, const calls *cs, const bus *b, const trail *t)
{
    m->calls = cs;
    m->bus = b;
    m->trail = t;
}

void metrics_answered(metrics *m, const char *route, int status, uint64_t t0_ns)
{
    if (m == NULL || route == NULL)
        return;
    char code[16];
    (void)snprintf(code, sizeof(code), "%d", status);
    wr_series_add(wr_metric_series(m->requests, (const char *const[]){route, code}), 1);
    wr_series_observe_ns(wr_metric_series(m->duration, (const char *const[]){route}),
                         wr_metrics_now_ns() - t0_ns);
}

void metrics_count(metrics *m, enum metrics_event ev)
{
    if (m != NULL)
        wr_series_add(m->events[ev], 1);
}

int metrics_write(metrics *m, struct wr_buf *out)
{
    return wr_metrics_write(m->reg, out);
}
