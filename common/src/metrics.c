/* Prometheus metrics (see metrics.h): a registry of metrics, their series
 * found or created by label values without a lock on the way to an
 * existing one, values kept in atomics, and the text format 0.0.4. */
#include "warren/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "warren/codec.h"
#include "warren/err.h"

enum kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };
static const char *const kind_names[] = {"counter", "gauge", "histogram"};

/* The buckets' upper bounds in nanoseconds: 100 us to 10 s. */
static const uint64_t bucket_ns[] = {
    100000,   250000,    500000,    1000000,   2500000,    5000000,     10000000,    25000000,
    50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000u, 5000000000u, 10000000000u};
#define NBUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]))
_Static_assert(NBUCKETS == WR_METRIC_BUCKETS, "metrics.h documents these buckets");

#define MAX_HOOKS 8

struct wr_series {
    const wr_metric *metric;
    uint64_t hash; /* of the label values: most mismatches cost no strcmp */
    char values[WR_METRIC_MAX_LABELS][WR_METRIC_LABEL_MAX + 1];
    _Atomic int64_t value;                  /* a counter's or gauge's */
    _Atomic uint64_t sum_ns;                /* a histogram's sum */
    _Atomic uint64_t buckets[NBUCKETS + 1]; /* a histogram's, not cumulative; last: +Inf */
};

struct wr_metric {
    enum kind kind;
    char *name;
    char *help;
    char *labels[WR_METRIC_MAX_LABELS];
    size_t nlabels;
    pthread_mutex_t lock; /* serialises the creation of series */
    /* Readers see series[0..nseries): a series is fully built before the
     * release store that publishes it, and never moves or goes. */
    _Atomic size_t nseries;
    wr_series *series[WR_METRIC_MAX_SERIES];
};

struct wr_metrics {
    wr_metric **metrics;
    size_t n, cap;
    struct {
        wr_metrics_hook fn;
        void *arg;
    } hooks[MAX_HOOKS];
    size_t nhooks;
};

wr_metrics *wr_metrics_new(void)
{
    return calloc(1, sizeof(wr_metrics));
}

static void metric_free(wr_metric *mt)
{
    size_t n = atomic_load(&mt->nseries);
    for (size_t i = 0; i < n; i++)
        free(mt->series[i]);
    for (size_t i = 0; i < mt->nlabels; i++)
        free(mt->labels[i]);
    free(mt->name);
    free(mt->help);
    pthread_mutex_destroy(&mt->lock);
    free(mt);
}

void wr_metrics_free(wr_metrics *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++)
        metric_free(m->metrics[i]);
    free(m->metrics);
    free(m);
}

static bool name_char(char c, bool first, bool colon)
{
    bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    return alpha || (!first && c >= '0' && c <= '9');
}

/* A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), or with colon false a label
 * name ([a-zA-Z_][a-zA-Z0-9_]*). */
static bool name_ok(const char *s, bool colon)
{
    if (s == NULL || s[0] == '\0')
        return false;
    for (size_t i = 0; s[i] != '\0'; i++)
        if (!name_char(s[i], i == 0, colon))
            return false;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

static bool labels_ok(const char *const *labels, enum kind kind, size_t *n)
{
    *n = 0;
    for (; labels != NULL && labels[*n] != NULL; (*n)++) {
        const char *l = labels[*n];
        if (*n == WR_METRIC_MAX_LABELS || !name_ok(l, false) || strncmp(l, "__", 2) == 0 ||
            (kind == KIND_HISTOGRAM && strcmp(l, "le") == 0))
            return false;
    }
    return true;
}

static wr_metric *add(wr_metrics *m, enum kind kind, const char *name, const char *help,
                      const char *const *labels)
{
    size_t nlabels = 0;
    if (m == NULL || !name_ok(name, true) || help == NULL || strchr(help, '\n') != NULL ||
        !labels_ok(labels, kind, &nlabels) ||
        (kind == KIND_COUNTER && !ends_with(name, "_total")) ||
        (kind == KIND_HISTOGRAM && !ends_with(name, "_seconds")))
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->metrics[i]->name, name) == 0)
            return NULL;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        wr_metric **grown = realloc(m->metrics, cap * sizeof(wr_metric *));
        if (grown == NULL)
            return NULL;
        m->metrics = grown;
        m->cap = cap;
    }
    wr_metric *mt = calloc(1, sizeof(*mt));
    if (mt == NULL)
        return NULL;
    pthread_mutex_init(&mt->lock, NULL);
    mt->kind = kind;
    mt->name = strdup(name);
    mt->help = strdup(help);
    bool ok = mt->name != NULL && mt->help != NULL;
    for (size_t i = 0; i < nlabels; i++) {
        mt->labels[mt->nlabels] = strdup(labels[i]);
        ok = ok && mt->labels[mt->nlabels++] != NULL;
    }
    if (!ok) {
        metric_free(mt);
        return NULL;
    }
    m->metrics[m->n++] = mt;
    return mt;
}

wr_metric *wr_metrics_counter(wr_metrics *m, const char *name, const char *help,
                              const char *const *labels)
{
    return add(m, KIND_COUNTER, name, help, labels);
}

wr_metric *wr_metrics_gauge(wr_metrics *m, const char *name, const char *help,
                            const char *const *labels)
{
    return add(m, KIND_GAUGE, name, help, labels);
}

wr_metric *wr_metrics_histogram(wr_metrics *m, const char *name, const char *help,
                                const char *const *labels)
{
    return add(m, KIND_HISTOGRAM, name, help, labels);
}

/* The values, cut to size, in key; their hash. */
static uint64_t series_key(const wr_metric *mt, const char *const *values,
                           char key[WR_METRIC_MAX_LABELS][WR_METRIC_LABEL_MAX + 1])
{
    uint64_t h = WR_FNV1A64_INIT;
    for (size_t i = 0; i < mt->nlabels; i++) {
        const char *v = values != NULL && values[i] != NULL ? values[i] : "";
        size_t n = wr_str_copy(key[i], WR_METRIC_LABEL_MAX + 1, v);
        h = wr_fnv1a64(h, key[i], n + 1); /* the NUL separates values */
    }
    return h;
}

static wr_series *find(wr_metric *mt, size_t from, size_t to, uint64_t h,
                       char key[WR_METRIC_MAX_LABELS][WR_METRIC_LABEL_MAX + 1])
{
    for (size_t i = from; i < to; i++) {
        wr_series *s = mt->series[i];
        bool same = s->hash == h;
        for (size_t l = 0; same && l < mt->nlabels; l++)
            same = strcmp(s->values[l], key[l]) == 0;
        if (same)
            return s;
    }
    return NULL;
}

wr_series *wr_metric_series(wr_metric *mt, const char *const *values)
{
    if (mt == NULL)
        return NULL;
    char key[WR_METRIC_MAX_LABELS][WR_METRIC_LABEL_MAX + 1];
    uint64_t h = series_key(mt, values, key);
    size_t n = atomic_load_explicit(&mt->nseries, memory_order_acquire);
    wr_series *s = find(mt, 0, n, h, key);
    if (s != NULL)
        return s;
    pthread_mutex_lock(&mt->lock);
    size_t now = atomic_load_explicit(&mt->nseries, memory_order_relaxed);
    s = find(mt, n, now, h, key); /* made by another thread meanwhile */
    if (s == NULL && now < WR_METRIC_MAX_SERIES) {
        s = calloc(1, sizeof(*s));
        if (s != NULL) {
            s->metric = mt;
            s->hash = h;
            memcpy(s->values, key, sizeof(key));
            mt->series[now] = s;
            atomic_store_explicit(&mt->nseries, now + 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&mt->lock);
    return s;
}

void wr_series_add(wr_series *s, uint64_t n)
{
    if (s != NULL)
        atomic_fetch_add_explicit(&s->value, (int64_t)n, memory_order_relaxed);
}

void wr_series_set(wr_series *s, int64_t v)
{
    if (s != NULL)
        atomic_store_explicit(&s->value, v, memory_order_relaxed);
}

void wr_series_move(wr_series *s, int64_t delta)
{
    if (s != NULL)
        atomic_fetch_add_explicit(&s->value, delta, memory_order_relaxed);
}

void wr_series_observe_ns(wr_series *s, uint64_t ns)
{
    if (s == NULL || s->metric->kind != KIND_HISTOGRAM)
        return;
    size_t i = 0;
    while (i < NBUCKETS && ns > bucket_ns[i])
        i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_ns, ns, memory_order_relaxed);
}

int64_t wr_series_value(const wr_series *s)
{
    return s != NULL ? atomic_load_explicit(&s->value, memory_order_relaxed) : 0;
}

int wr_metrics_on_write(wr_metrics *m, wr_metrics_hook fn, void *arg)
{
    if (m->nhooks == MAX_HOOKS)
        return WR_ETOOBIG;
    m->hooks[m->nhooks].fn = fn;
    m->hooks[m->nhooks++].arg = arg;
    return 0;
}

void wr_metrics_hook_remove(wr_metrics *m, wr_metrics_hook fn, const void *arg)
{
    for (size_t i = 0; i < m->nhooks; i++) {
        if (m->hooks[i].fn == fn && m->hooks[i].arg == arg) {
            memmove(&m->hooks[i], &m->hooks[i + 1], (m->nhooks - i - 1) * sizeof(m->hooks[0]));
            m->nhooks--;
            return;
        }
    }
}

uint64_t wr_metrics_now_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* HELP text: backslash and newline escaped (registration refuses newlines;
 * the escape stays for safety). Label values: the same plus '"', and any
 * byte that is not valid UTF-8 written as U+FFFD. */
static void escaped(struct wr_buf *b, const char *s, bool quote)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = wr_utf8_decode(p + i, n - i, NULL);
        if (len == 0) {
            wr_buf_puts(b, "\xef\xbf\xbd");
            i++;
            continue;
        }
        if (p[i] == '\\')
            wr_buf_puts(b, "\\\\");
        else if (p[i] == '\n')
            wr_buf_puts(b, "\\n");
        else if (quote && p[i] == '"')
            wr_buf_puts(b, "\\\"");
        else
            wr_buf_append(b, p + i, len);
        i += len;
    }
}

/* name{l1="v1",l2="v2"[,le="bound"]}: the braces left out when empty. */
static void series_name(struct wr_buf *b, const wr_metric *mt, const char *suffix,
                        const wr_series *s, const char *le)
{
    wr_buf_puts(b, mt->name);
    wr_buf_puts(b, suffix);
    if (mt->nlabels == 0 && le == NULL)
        return;
    wr_buf_putc(b, '{');
    for (size_t i = 0; i < mt->nlabels; i++) {
        wr_buf_printf(b, "%s%s=\"", i > 0 ? "," : "", mt->labels[i]);
        escaped(b, s->values[i], true);
        wr_buf_putc(b, '"');
    }
    if (le != NULL)
        wr_buf_printf(b, "%sle=\"%s\"", mt->nlabels > 0 ? "," : "", le);
    wr_buf_putc(b, '}');
}

/* ns as decimal seconds, without trailing zeros: 250000 -> "0.00025". */
static void seconds_text(char *out, size_t cap, uint64_t ns)
{
    int n = snprintf(out, cap, "%llu.%09llu", (unsigned long long)(ns / 1000000000u),
                     (unsigned long long)(ns % 1000000000u));
    while (n > 0 && (size_t)n < cap && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && (size_t)n < cap && out[n - 1] == '.')
        out[--n] = '\0';
}

static void write_histogram(struct wr_buf *b, const wr_metric *mt, const wr_series *s)
{
    /* _count is the +Inf bucket read here, so it always agrees with the
     * buckets (a concurrent observation lands in the next scrape). */
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= NBUCKETS; i++) {
        cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        char le[32] = "+Inf";
        if (i < NBUCKETS)
            seconds_text(le, sizeof(le), bucket_ns[i]);
        series_name(b, mt, "_bucket", s, le);
        wr_buf_printf(b, " %llu\n", (unsigned long long)cumulative);
    }
    uint64_t sum = atomic_load_explicit(&s->sum_ns, memory_order_relaxed);
    series_name(b, mt, "_sum", s, NULL);
    wr_buf_printf(b, " %llu.%09llu\n", (unsigned long long)(sum / 1000000000u),
                  (unsigned long long)(sum % 1000000000u));
    series_name(b, mt, "_count", s, NULL);
    wr_buf_printf(b, " %llu\n", (unsigned long long)cumulative);
}

int wr_metrics_write(wr_metrics *m, struct wr_buf *out)
{
    for (size_t i = 0; i < m->nhooks; i++)
        m->hooks[i].fn(m->hooks[i].arg);
    for (size_t i = 0; i < m->n; i++) {
        const wr_metric *mt = m->metrics[i];
        wr_buf_printf(out, "# HELP %s ", mt->name);
        escaped(out, mt->help, false);
        wr_buf_printf(out, "\n# TYPE %s %s\n", mt->name, kind_names[mt->kind]);
        size_t n = atomic_load_explicit(&mt->nseries, memory_order_acquire);
        for (size_t k = 0; k < n; k++) {
            const wr_series *s = mt->series[k];
            if (mt->kind == KIND_HISTOGRAM) {
                write_histogram(out, mt, s);
                continue;
            }
            series_name(out, mt, "", s, NULL);
            wr_buf_printf(out, " %lld\n",
                          (long long)atomic_load_explicit(&s->value, memory_order_relaxed));
        }
    }
    return wr_buf_error(out);
}
