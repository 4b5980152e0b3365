/* The edge's metrics (see metrics.h) on the common registry: series kept
 * for the events, gauges refreshed from the parts by a write hook. */
#include "metrics.h"

#include <stdlib.h>

#include "bus.h"
#include "call.h"
#include "trail.h"
#include "warren/codec.h"
#include "warren/err.h"
#include "warren/metrics.h"
#include "warren/version.h"

struct metrics {
    wr_metrics *reg;
    wr_metric *requests, *duration;
    wr_series *events[5];
    wr_series *in_flight, *connected, *blocked, *reconnects, *held, *dropped, *loops_run;
    wr_series *audit_records, *audit_messages;
    wr_series *sse_clients, *sse_events, *sse_read, *sse_catchups;
    wr_series *batches, *batched_reads;
    atomic_long sse_open; /* the gauge's value, moved by every loop */
    const atomic_long *calls_in_flight;
    const bus *bus[METRICS_MAX_LOOPS];
    const trail *trail[METRICS_MAX_LOOPS];
    size_t loops;
};

/* Runs on the loop that writes /metrics: the other loops' buses and trails
 * are read only through their atomic accessors. */
static void refresh(void *arg)
{
    metrics *m = arg;
    wr_series_set(m->in_flight, atomic_load(m->calls_in_flight));
    int64_t connected = m->loops > 0, blocked = 0, reconnects = 0, held = 0, dropped = 0;
    int64_t published = 0, messages = 0;
    for (size_t i = 0; i < m->loops; i++) {
        long long connects = bus_connects(m->bus[i]);
        connected &= bus_ready(m->bus[i]) || bus_blocked(m->bus[i]);
        blocked |= bus_blocked(m->bus[i]);
        reconnects += connects > 1 ? connects - 1 : 0;
        held += (int64_t)trail_held(m->trail[i]);
        dropped += trail_dropped(m->trail[i]);
        published += trail_published(m->trail[i]);
        messages += trail_messages(m->trail[i]);
    }
    wr_series_set(m->connected, connected);
    wr_series_set(m->blocked, blocked);
    wr_series_set(m->reconnects, reconnects);
    wr_series_set(m->held, held);
    wr_series_set(m->dropped, dropped);
    wr_series_set(m->audit_records, published);
    wr_series_set(m->audit_messages, messages);
    wr_series_set(m->sse_clients, atomic_load(&m->sse_open));
}

static wr_series *single(wr_metric *metric)
{
    return wr_metric_series(metric, NULL);
}

metrics *metrics_new(const atomic_long *in_flight)
{
    metrics *m = calloc(1, sizeof(*m));
    wr_metrics *r = m != NULL ? wr_metrics_new() : NULL;
    if (r == NULL) {
        free(m);
        return NULL;
    }
    m->reg = r;
    m->calls_in_flight = in_flight;
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
    static const char *const reason[] = {"reason", NULL};
    wr_metric *limited = wr_metrics_counter(
        r, "warren_edge_rate_limited_total",
        "Requests answered 429, by reason: rate (over RATE_LIMIT_RPS) or searches (over "
        "SEARCH_CONCURRENCY)",
        reason);
    m->events[METRICS_RATE_LIMITED] = wr_metric_series(limited, (const char *const[]){"rate"});
    m->events[METRICS_SEARCHES_LIMITED] =
        wr_metric_series(limited, (const char *const[]){"searches"});
    m->loops_run = single(wr_metrics_gauge(
        r, "warren_edge_event_loops",
        "Event loops the edge runs, each with its broker connection (EDGE_THREADS, or the cores "
        "it is given)",
        NULL));
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
    m->audit_records = single(wr_metrics_counter(
        r, "warren_edge_audit_records_total",
        "Audit records of the edge's own answers published to warren.audit", NULL));
    m->audit_messages = single(wr_metrics_counter(
        r, "warren_edge_audit_messages_total",
        "Messages those records left in: with EDGE_BATCH up to 256 a message, else one each",
        NULL));
    m->sse_clients = single(wr_metrics_gauge(r, "warren_edge_sse_clients",
                                             "Event streams (Server-Sent Events) open", NULL));
    m->sse_events = single(wr_metrics_counter(r, "warren_edge_sse_events_sent_total",
                                              "Change events sent to event streams", NULL));
    m->sse_read = single(wr_metrics_counter(
        r, "warren_edge_sse_catchup_events_read_total",
        "Change events read from the stream for resumes older than the edge's ring", NULL));
    m->sse_catchups = single(wr_metrics_counter(
        r, "warren_edge_sse_catchups_total",
        "Event streams resumed from before the edge's ring: each read the stream itself", NULL));
    m->batches = single(wr_metrics_counter(
        r, "warren_edge_batch_messages_total",
        "Messages of reads the edge published with EDGE_BATCH: a batch, or a read alone", NULL));
    m->batched_reads = single(wr_metrics_counter(
        r, "warren_edge_batch_reads_total",
        "Reads those messages carried: over the messages, the mean batch", NULL));
    atomic_init(&m->sse_open, 0);
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

int metrics_watch(metrics *m, const bus *b, const trail *t)
{
    if (m->loops >= METRICS_MAX_LOOPS)
        return WR_ETOOBIG;
    m->bus[m->loops] = b;
    m->trail[m->loops] = t;
    m->loops++;
    wr_series_set(m->loops_run, (int64_t)m->loops); /* fixed once the loops run */
    return 0;
}

void metrics_answered(metrics *m, const char *route, int status, uint64_t t0_ns)
{
    if (m == NULL || route == NULL)
        return;
    char code[21];
    (void)wr_decimal_signed(code, status);
    wr_series_add(wr_metric_series(m->requests, (const char *const[]){route, code}), 1);
    wr_series_observe_ns(wr_metric_series(m->duration, (const char *const[]){route}),
                         wr_metrics_now_ns() - t0_ns);
}

void metrics_count(metrics *m, enum metrics_event ev)
{
    if (m != NULL)
        wr_series_add(m->events[ev], 1);
}

void metrics_sse(metrics *m, long clients_delta, long events)
{
    if (m == NULL)
        return;
    if (clients_delta != 0)
        atomic_fetch_add(&m->sse_open, clients_delta);
    if (events > 0)
        wr_series_add(m->sse_events, (uint64_t)events);
}

void metrics_batch(metrics *m, size_t reads)
{
    if (m == NULL)
        return;
    wr_series_add(m->batches, 1);
    wr_series_add(m->batched_reads, (uint64_t)reads);
}

void metrics_sse_read(metrics *m, long events)
{
    if (m != NULL && events > 0)
        wr_series_add(m->sse_read, (uint64_t)events);
}

void metrics_sse_catchup(metrics *m)
{
    if (m != NULL)
        wr_series_add(m->sse_catchups, 1);
}

int metrics_write(metrics *m, struct wr_buf *out)
{
    return wr_metrics_write(m->reg, out);
}
