/* The audit trail (see audit.h): records formatted here, spooled by
 * spool.c, shipped by a thread of this file through sink_mongo.c. */
#include "audit.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docscan.h"
#include "sink.h"
#include "spool.h"
#include "warren/clock.h"
#include "warren/json.h"
#include "warren/log.h"
#include "warren/rpc.h"

#define BATCH_LINES 500
#define BATCH_BYTES (1u << 20)
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* Records held in memory while the disk is full: the worker stops taking
 * requests at the first, so this is only what was already delivered. */
#define HELD_MAX ((size_t)64 << 20)
/* Looking for spools stopped workers left: soon after start, then now and
 * then (a scan is a few opens of the spool directory). */
#define ADOPT_FIRST_MS 1000
#define ADOPT_EVERY_MS 10000

struct wr_audit {
    wr_spool *spool;
    char *spool_dir; /* where stranded spools are looked for */
    wr_sink *sink;
    char *worker;
    struct wr_buf line;
    struct wr_buf held; /* lines the full disk refused, each ending in '\n' (worker thread) */
    size_t nheld;
    unsigned long long numbered; /* records numbered: appended + held (worker thread) */
    size_t max_bytes, keep_bytes;
    long sync_ms;     /* a group commit waits this long after the last for more records */
    pthread_t thread; /* the shipper */
    pthread_t syncer;
    bool started, syncer_started;
    pthread_mutex_t lock;     /* guards what follows */
    pthread_cond_t cond;      /* wakes the shipper */
    pthread_cond_t sync_cond; /* wakes the syncer */
    bool stop;
    bool wake;
    unsigned long long appended; /* records spooled */
    unsigned long long wanted;   /* records the worker wants durable */
    unsigned long long durable;  /* records known durable */
    bool now;                    /* the worker cannot wait for sync_ms (wr_audit_sync_soon) */
    bool syncer_idle;            /* the syncer waits for work, not for its next commit */
    bool committing;             /* the syncer's fsync runs */
    long long last_sync;         /* when the syncer's last commit began (mono_ms) */
    int failed;
    struct wr_audit_stats stats;
};

/* Waits up to ms for a wake-up or a stop; false when stopping. */
static bool nap(wr_audit *a, long ms)
{
    struct timespec until = wr_steady_timespec(ms);
    pthread_mutex_lock(&a->lock);
    while (!a->stop && !a->wake)
        if (pthread_cond_timedwait(&a->cond, &a->lock, &until) != 0)
            break;
    a->wake = false;
    bool go_on = !a->stop;
    pthread_mutex_unlock(&a->lock);
    return go_on;
}

static long long mono_ms(void);

/* Keeps the lines of rejected in sp's dead-letter file; *kept gets their
 * number. */
static int keep_rejected(wr_audit *a, wr_spool *sp, const struct wr_buf *rejected, size_t *kept,
                         struct wr_err *err)
{
    *kept = 0;
    if (rejected->len == 0)
        return 0;
    int rc = wr_buf_error(rejected) != 0
                 ? wr_err_set(err, WR_ENOMEM, "audit: out of memory keeping rejected records")
                 : wr_spool_dead_letter(sp, rejected->data, rejected->len, err);
    if (rc != 0)
        return rc;
    size_t n = 0;
    const char *end = rejected->data + rejected->len;
    for (const char *p = rejected->data; p < end; p++)
        n += *p == '\n';
    *kept = n;
    pthread_mutex_lock(&a->lock);
    a->stats.dead += (long long)n;
    long long total = a->stats.dead;
    pthread_mutex_unlock(&a->lock);
    char path[4200];
    wr_spool_dead_path(sp, path, sizeof(path));
    wr_warn(NULL, "audit: %zu records MongoDB cannot take kept in %s (%lld in all)", n, path,
            total);
    return 0;
}

/* Without MONGO_URI and with keep_bytes: the older records go, by the
 * operator's choice, counted and logged. 0, or -1 when it failed. */
static int keep_newest(wr_audit *a, wr_spool *sp)
{
    size_t dropped = 0;
    struct wr_err err = {0};
    if (a->keep_bytes == 0)
        return 0;
    if (wr_spool_keep(sp, a->keep_bytes, &dropped, &err) != 0) {
        wr_warn(NULL, "audit: %s", err.msg);
        return -1;
    }
    if (dropped == 0)
        return 0;
    pthread_mutex_lock(&a->lock);
    a->stats.discarded_bytes += (long long)dropped;
    long long total = a->stats.discarded_bytes;
    pthread_mutex_unlock(&a->lock);
    wr_info(NULL,
            "audit: discarded %zu bytes of the oldest records in %s (AUDIT_SPOOL_KEEP_BYTES; "
            "%lld in all)",
            dropped, wr_spool_path(sp), total);
    return 0;
}

/* Ships one batch of sp. 1 shipped something, 0 nothing to ship, -1 failed. */
static int ship_batch(wr_audit *a, wr_spool *sp, struct wr_buf *batch)
{
    /* Without a sink the records stay in the spool: reading a batch anyway
     * re-read the spool's first 500 lines after every fsync (100 times a
     * second under load) for nothing. Only the newest keep_bytes stay,
     * when asked. */
    if (a->sink == NULL)
        return keep_newest(a, sp);
    size_t taken = 0;
    size_t lines = wr_spool_peek(sp, batch, BATCH_LINES, BATCH_BYTES, &taken);
    if (lines == 0)
        return 0;
    size_t dups = 0, kept = 0;
    struct wr_err err = {0};
    struct wr_buf rejected;
    wr_buf_init(&rejected, BATCH_BYTES + 65536);
    int rc = wr_sink_insert(a->sink, batch->data, batch->len, lines, &dups, &rejected, &err);
    /* kept before the offset moves past them: a crash between the two
     * keeps them twice, never not at all */
    if (rc == 0)
        rc = keep_rejected(a, sp, &rejected, &kept, &err);
    wr_buf_release(&rejected);
    if (rc == 0)
        rc = wr_spool_advance(sp, taken, &err);
    pthread_mutex_lock(&a->lock);
    if (rc == 0) {
        a->stats.shipped += (long long)(lines - dups - kept);
        a->stats.duplicates += (long long)dups;
    } else {
        a->stats.failures++;
    }
    pthread_mutex_unlock(&a->lock);
    if (rc != 0)
        wr_warn(NULL, "audit: %s; %zu bytes wait in %s", err.msg, wr_spool_backlog(sp),
                wr_spool_path(sp));
    return rc == 0 ? 1 : -1;
}

/* Ships a spool no live worker holds any more (its worker stopped for
 * good), when our own is empty; at most every ADOPT_EVERY_MS. */
static int ship_stranded(wr_audit *a, struct wr_buf *batch, long long *next_ms)
{
    if (a->sink == NULL || mono_ms() < *next_ms)
        return 0;
    *next_ms = mono_ms() + ADOPT_EVERY_MS;
    struct wr_err err = {0};
    wr_spool *other = wr_spool_adopt(a->spool_dir, &err);
    if (other == NULL)
        return 0;
    wr_info(NULL, "audit: shipping %zu bytes a stopped worker left in %s", wr_spool_backlog(other),
            wr_spool_path(other));
    int rc;
    while ((rc = ship_batch(a, other, batch)) > 0)
        ;
    wr_spool_close(other);
    return rc < 0 ? -1 : 1;
}

static void *shipper(void *arg)
{
    wr_audit *a = arg;
    struct wr_buf batch;
    wr_buf_init(&batch, BATCH_BYTES + 65536);
    long backoff = BACKOFF_MIN_MS;
    bool running = true;
    long long adopt_at = mono_ms() + ADOPT_FIRST_MS;
    while (running) {
        int rc = ship_batch(a, a->spool, &batch);
        if (rc == 0)
            rc = ship_stranded(a, &batch, &adopt_at);
        if (rc > 0) {
            backoff = BACKOFF_MIN_MS;
            continue;
        }
        /* Flawfinder: ignore - random() only jitters the retry backoff, no secret */
        long jitter = random() % (backoff / 2 + 1);
        long wait = rc < 0 ? backoff / 2 + jitter : 1000;
        if (rc < 0)
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        running = nap(a, wait);
    }
    /* One last round for what the worker recorded before it stopped. */
    while (ship_batch(a, a->spool, &batch) > 0)
        ;
    wr_buf_release(&batch);
    return NULL;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long the syncer still waits before its next fsync (under a->lock):
 * sync_ms after the last one began, unless stopping or asked for now. Each
 * fsync costs the disk's journal a commit whichever the records: with a
 * fsync every 10 ms, eight workers on two cores spent a fifth of their CPU
 * in fdatasync and served 0.8x the requests of one (README "Benchmark"). */
static long long sync_wait_ms(const wr_audit *a, long long last)
{
    return a->stop || a->now ? 0 : last + a->sync_ms - mono_ms();
}

/* After an fsync that began with upto records appended (rc its result;
 * under a->lock): those records are durable, and what is durable may ship. */
static void synced(wr_audit *a, unsigned long long upto, int rc)
{
    if (rc == 0 && upto > a->durable)
        a->durable = upto;
    a->stats.syncs++;
    if (a->sink != NULL) {
        a->wake = true;
        pthread_cond_signal(&a->cond);
    }
}

/* Group commit: one fsync covers every record appended before it began,
 * so the worker never waits for the disk and many requests share a sync. */
static void *syncer(void *arg)
{
    wr_audit *a = arg;
    pthread_mutex_lock(&a->lock);
    while (!a->stop || a->durable < a->wanted) {
        if (a->durable >= a->wanted || a->failed) {
            if (a->stop)
                break;
            a->syncer_idle = true;
            pthread_cond_wait(&a->sync_cond, &a->lock);
            a->syncer_idle = false;
            continue;
        }
        long long wait = sync_wait_ms(a, a->last_sync);
        if (wait > 0) {
            struct timespec until = wr_steady_timespec(wait);
            (void)pthread_cond_timedwait(&a->sync_cond, &a->lock, &until);
            continue;
        }
        a->now = false;
        a->last_sync = mono_ms();
        a->committing = true;
        unsigned long long upto = a->appended;
        pthread_mutex_unlock(&a->lock);
        struct wr_err err = {0};
        int rc = wr_spool_sync(a->spool, &err);
        if (rc != 0)
            wr_error(NULL, "audit: %s", err.msg);
        pthread_mutex_lock(&a->lock);
        a->committing = false;
        a->failed = rc;
        synced(a, upto, rc);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* The start's log line: where the records go, and how many stay. */
static void say_where(const wr_audit *a)
{
    const char *path = wr_spool_path(a->spool);
    if (a->sink != NULL)
        wr_info(NULL, "audit: spooling to %s, shipping to MongoDB", path);
    else if (a->keep_bytes > 0)
        wr_info(NULL,
                "audit: spooling to %s, no MONGO_URI: the newest %zu bytes of records stay in the "
                "spool (AUDIT_SPOOL_KEEP_BYTES)",
                path, a->keep_bytes);
    else
        wr_info(NULL, "audit: spooling to %s, no MONGO_URI: records stay in the spool", path);
}

wr_audit *wr_audit_new(const struct wr_audit_opts *o, struct wr_err *err)
{
    wr_audit *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        wr_err_set(err, WR_ENOMEM, "audit: out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    wr_cond_init_steady(&a->cond);
    wr_cond_init_steady(&a->sync_cond);
    wr_buf_init(&a->line, 1u << 20);
    wr_buf_init(&a->held, HELD_MAX);
    a->max_bytes = o->max_bytes;
    a->sync_ms = o->sync_ms;
    a->last_sync = -a->sync_ms; /* the first records after a quiet spell go at once */
    a->keep_bytes = o->mongo_uri != NULL && o->mongo_uri[0] != '\0' ? 0 : o->keep_bytes;
    a->worker = strdup(o->worker ? o->worker : "");
    a->spool_dir = strdup(o->spool_dir);
    a->spool = a->worker && a->spool_dir ? wr_spool_open(o->spool_dir, err) : NULL;
    bool ok = a->spool != NULL;
    if (ok && o->mongo_uri != NULL && o->mongo_uri[0] != '\0') {
        a->sink = wr_sink_new(o->mongo_uri, o->db, o->collection, o->appname, err);
        ok = a->sink != NULL;
    }
    if (ok) {
        a->started = pthread_create(&a->thread, NULL, shipper, a) == 0;
        a->syncer_started = a->started && pthread_create(&a->syncer, NULL, syncer, a) == 0;
        ok = a->syncer_started;
        if (!ok)
            wr_err_set(err, WR_EIO, "audit: cannot start its threads");
    }
    if (!ok) {
        wr_audit_free(a);
        return NULL;
    }
    say_where(a);
    return a;
}

void wr_audit_free(wr_audit *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_signal(&a->cond);
    pthread_cond_signal(&a->sync_cond);
    pthread_mutex_unlock(&a->lock);
    if (a->syncer_started)
        pthread_join(a->syncer, NULL);
    if (a->started)
        pthread_join(a->thread, NULL);
    wr_sink_free(a->sink);
    wr_spool_close(a->spool);
    if (a->nheld > 0)
        wr_warn(NULL,
                "audit: %zu records held for want of room not written: their requests "
                "were not acknowledged and go to another worker",
                a->nheld);
    wr_buf_release(&a->line);
    wr_buf_release(&a->held);
    free(a->worker);
    free(a->spool_dir);
    pthread_cond_destroy(&a->cond);
    pthread_cond_destroy(&a->sync_cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* Keeps a line the full disk refused, after those already held (records
 * reach the file in their order, so those numbered up to `appended` are
 * exactly the ones in it). */
static int hold(wr_audit *a, const char *line, size_t len, const struct wr_err *why,
                struct wr_err *err)
{
    if (a->nheld == 0)
        wr_warn(NULL,
                "audit: %s: holding records in memory and taking no requests until the "
                "disk has room",
                why->msg);
    wr_buf_append(&a->held, line, len);
    wr_buf_putc(&a->held, '\n');
    if (wr_buf_error(&a->held) != 0)
        return wr_err_set(err, WR_ETOOBIG, "audit: the disk is full and %zu records wait",
                          a->nheld);
    a->nheld++;
    pthread_mutex_lock(&a->lock);
    a->stats.held = a->nheld;
    pthread_mutex_unlock(&a->lock);
    return 0;
}

static int append(wr_audit *a, const char *line, size_t len, unsigned long long *recno,
                  struct wr_err *err)
{
    struct wr_err why = {0};
    int rc = a->nheld > 0 ? WR_EAGAIN : wr_spool_append(a->spool, line, len, &why);
    bool held = rc == WR_EAGAIN;
    if (held)
        rc = hold(a, line, len, &why, err);
    else if (rc != 0)
        *err = why;
    if (rc != 0)
        return rc;
    *recno = ++a->numbered;
    pthread_mutex_lock(&a->lock);
    a->stats.recorded++;
    if (!held)
        a->appended++;
    pthread_mutex_unlock(&a->lock);
    return 0;
}

int wr_audit_retry(wr_audit *a, struct wr_err *err)
{
    if (a->nheld == 0)
        return 0;
    size_t done = 0, written = 0;
    int rc = 0;
    while (a->nheld > 0) {
        const char *line = a->held.data + done;
        const char *nl = memchr(line, '\n', a->held.len - done);
        size_t len = nl != NULL ? (size_t)(nl - line) : a->held.len - done;
        rc = wr_spool_append(a->spool, line, len, err);
        if (rc != 0)
            break;
        done += len + 1;
        written++;
        a->nheld--;
    }
    memmove(a->held.data, a->held.data + done, a->held.len - done);
    a->held.len -= done;
    pthread_mutex_lock(&a->lock);
    a->appended += written;
    a->stats.held = a->nheld;
    if (a->nheld == 0 && written > 0) {
        a->wanted = a->appended; /* nothing else may come to ask for it */
        pthread_cond_signal(&a->sync_cond);
    }
    pthread_mutex_unlock(&a->lock);
    if (a->nheld == 0 && written > 0)
        wr_info(NULL, "audit: the disk has room again: %zu held records written", written);
    return rc == WR_EAGAIN ? 0 : rc;
}

bool wr_audit_should_pause(wr_audit *a, bool paused)
{
    if (a->nheld > 0)
        return true;
    if (a->max_bytes == 0)
        return false;
    size_t backlog = wr_spool_backlog(a->spool);
    return paused ? backlog >= a->max_bytes - a->max_bytes / 10 : backlog >= a->max_bytes;
}

int wr_audit_record(wr_audit *a, const struct wr_audit_rec *r, unsigned long long *recno,
                    struct wr_err *err)
{
    /* Every record its own _id, made here: a request executed twice (a
     * redelivery) leaves two records, and no client id can name one. */
    char audit_id[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(audit_id);
    struct wr_audit_rec rec = *r;
    rec.audit_id = audit_id;
    wr_buf_reset(&a->line);
    wr_audit_format(&a->line, &rec, a->worker);
    if (wr_buf_error(&a->line) != 0)
        return wr_err_set(err, WR_ETOOBIG, "audit: record too large");
    return append(a, a->line.data, a->line.len, recno, err);
}

int wr_audit_check_doc(const char *doc, size_t len, struct wr_err *err)
{
    if (len == 0 || len > WR_AUDIT_DOC_MAX)
        return wr_err_set(err, WR_EINVAL, "audit document: empty or larger than %d bytes",
                          WR_AUDIT_DOC_MAX);
    /* one line of the spool: no line breaks, no NUL */
    if (memchr(doc, '\n', len) != NULL || memchr(doc, '\r', len) != NULL ||
        memchr(doc, '\0', len) != NULL)
        return wr_err_set(err, WR_EINVAL, "audit document: not one line of JSON");
    if (wr__doc_surely_ok(doc, len))
        return 0;
    json_error_t jerr;
    json_t *j = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
    bool ok = json_is_object(j) && json_is_string(json_object_get(j, "_id"));
    json_decref(j);
    if (!ok)
        return wr_err_set(err, WR_EINVAL, "audit document: not a JSON object with a string _id");
    return 0;
}

int wr_audit_record_doc(wr_audit *a, const char *doc, size_t len, unsigned long long *recno,
                        struct wr_err *err)
{
    int rc = wr_audit_check_doc(doc, len, err);
    return rc != 0 ? rc : append(a, doc, len, recno, err);
}

void wr_audit_sync_soon(wr_audit *a, bool now)
{
    pthread_mutex_lock(&a->lock);
    a->wanted = a->appended;
    /* Waiting for its next commit, the syncer finds the new records when
     * it is due: waking it for each burst only to wait again cost every
     * burst two context switches. */
    if (a->syncer_idle || (now && !a->now))
        pthread_cond_signal(&a->sync_cond);
    a->now = a->now || now;
    pthread_mutex_unlock(&a->lock);
}

long wr_audit_sync_due_ms(wr_audit *a)
{
    pthread_mutex_lock(&a->lock);
    /* while an fsync runs, the records it covers are durable when it
     * returns, not when the next commit is due */
    long long wait = a->durable >= a->wanted || a->committing ? 0 : sync_wait_ms(a, a->last_sync);
    pthread_mutex_unlock(&a->lock);
    return wait > 0 ? (long)wait : 0;
}

unsigned long long wr_audit_durable(wr_audit *a)
{
    pthread_mutex_lock(&a->lock);
    unsigned long long n = a->durable;
    pthread_mutex_unlock(&a->lock);
    return n;
}

int wr_audit_failed(wr_audit *a)
{
    pthread_mutex_lock(&a->lock);
    int rc = a->failed;
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int wr_audit_sync(wr_audit *a, struct wr_err *err)
{
    pthread_mutex_lock(&a->lock);
    /* After a failed fsync a second one may report success for pages that
     * were never written: once failed, always failed. */
    int failed = a->failed;
    unsigned long long upto = a->appended;
    pthread_mutex_unlock(&a->lock);
    if (failed != 0)
        return wr_err_set(err, failed, "audit: the spool could not be synced");
    int rc = wr_spool_sync(a->spool, err);
    pthread_mutex_lock(&a->lock);
    synced(a, upto, rc);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

void wr_audit_get_stats(wr_audit *a, struct wr_audit_stats *out)
{
    pthread_mutex_lock(&a->lock);
    *out = a->stats;
    pthread_mutex_unlock(&a->lock);
    out->backlog = wr_spool_backlog(a->spool);
}
