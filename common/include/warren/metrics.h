/* Prometheus metrics, written by hand (Debian packages no C client): a
 * registry of metrics (counters, gauges, duration histograms), each with
 * up to WR_METRIC_MAX_LABELS label names and, per combination of label
 * values, one series; and the text exposition format 0.0.4 that
 * Prometheus scrapes. Names follow Prometheus's naming guide: counters end
 * in _total, durations are histograms in seconds (_seconds), sizes in bytes.
 * Threads: register every metric at start-up, before other threads use the
 * registry. After that, wr_metric_series and every update are safe from any
 * thread and never wait for a writer (values are atomics; a new series is
 * published with one atomic store), and wr_metrics_write may run on another
 * thread at the same time. */
#ifndef WARREN_METRICS_H
#define WARREN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "warren/buf.h"

typedef struct wr_metrics wr_metrics; /* a registry */
typedef struct wr_metric wr_metric;   /* one metric: a name, its help, label names */
typedef struct wr_series wr_series;   /* one metric's value for one set of label values */

#define WR_METRIC_MAX_LABELS 3
/* Series one metric holds at most (label values are meant to come from a
 * fixed set: ops, routes, statuses); past it wr_metric_series answers NULL
 * and the update is dropped, so a mistake cannot grow memory without end. */
#define WR_METRIC_MAX_SERIES 256
#define WR_METRIC_LABEL_MAX 63 /* bytes of one label value; longer ones are cut */

/* The Content-Type of wr_metrics_write's text. */
#define WR_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Every histogram is of durations, with the same buckets (le, seconds):
 * 0.0001 0.00025 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1
 * 2.5 5 10 +Inf: sub-millisecond first (a cached read takes tens of
 * microseconds), and nothing warren answers lasts beyond its deadline. */
#define WR_METRIC_BUCKETS 16 /* +Inf aside */

/* An empty registry; NULL when out of memory. */
wr_metrics *wr_metrics_new(void);
/* Frees the registry, its metrics and series. NULL-safe. Nothing may use
 * them afterwards. */
void wr_metrics_free(wr_metrics *m);

/* Registers a metric. name: [a-zA-Z_:][a-zA-Z0-9_:]*, unique in the
 * registry; a counter's must end in _total, a histogram's in _seconds.
 * help: one line. labels: NULL, or up to WR_METRIC_MAX_LABELS names of
 * [a-zA-Z_][a-zA-Z0-9_]* (not starting "__", not "le") ending with NULL.
 * The strings are copied. Returns the metric, owned by the registry, or
 * NULL for a name or label that breaks these rules (a programming error)
 * or when out of memory. */
wr_metric *wr_metrics_counter(wr_metrics *m, const char *name, const char *help,
                              const char *const *labels);
wr_metric *wr_metrics_gauge(wr_metrics *m, const char *name, const char *help,
                            const char *const *labels);
/* A histogram of durations (the buckets above). */
wr_metric *wr_metrics_histogram(wr_metrics *m, const char *name, const char *help,
                                const char *const *labels);

/* The series of metric for these label values (as many as its label names,
 * in their order; NULL for a metric without labels), created at first use
 * with the value 0. Values are copied (cut at WR_METRIC_LABEL_MAX bytes).
 * Returns NULL when metric is NULL, the metric already holds
 * WR_METRIC_MAX_SERIES series, or memory ran out: every update below
 * accepts NULL and then does nothing. A series lives as long as its
 * registry, so callers may keep the pointer. */
wr_series *wr_metric_series(wr_metric *metric, const char *const *values);

/* A counter's series goes up by n. */
void wr_series_add(wr_series *s, uint64_t n);
/* A gauge's series is set to v, or moved by delta. */
void wr_series_set(wr_series *s, int64_t v);
void wr_series_move(wr_series *s, int64_t delta);
/* A histogram's series counts one duration of ns nanoseconds. */
void wr_series_observe_ns(wr_series *s, uint64_t ns);
/* The current value of a counter's or gauge's series (tests, hooks). */
int64_t wr_series_value(const wr_series *s);

/* A hook wr_metrics_write calls first, on the thread that writes, to bring
 * gauges up to date from state they mirror (e.g. a backlog). Up to 8 hooks;
 * 0 or WR_ETOOBIG. Register them at start-up, like metrics. */
typedef void (*wr_metrics_hook)(void *arg);
int wr_metrics_on_write(wr_metrics *m, wr_metrics_hook fn, void *arg);
/* Removes that hook (before arg goes away), while nothing writes. */
void wr_metrics_hook_remove(wr_metrics *m, wr_metrics_hook fn, const void *arg);

/* Calls the hooks, then appends every metric in the text format 0.0.4
 * (HELP and TYPE lines, one line per series; for histograms the cumulative
 * _bucket lines up to le="+Inf", _sum in seconds and _count) to out.
 * Metrics without a series yet are written with their HELP and TYPE only.
 * Returns 0 or the buffer's error. */
int wr_metrics_write(wr_metrics *m, struct wr_buf *out);

/* A monotonic clock in nanoseconds, for durations. */
uint64_t wr_metrics_now_ns(void);

#endif
