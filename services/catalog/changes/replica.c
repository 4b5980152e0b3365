/* A replica's applier (see replica.h). The thread's loop: connect,
 * consume the stream from the file's offset, and for each delivery skip
 * (a position already applied), apply (the next one), or judge a gap: the
 * first delivery after subscribing that is past the next position means
 * the stream no longer keeps what the file needs; a later gap is a change
 * the writer sends again (its publish was not confirmed), so it waits. */
#include "changes/replica.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "warren/amqp.h"
#include "warren/clock.h"
#include "warren/log.h"
#include "warren/proto.h"
#include "warren/rpc.h"

#define PREFETCH 64
#define RETRY_MS 50 /* a locked file: how soon to apply again */

struct replica {
    const struct wr_cfg *cfg;
    char stream[160];
    store *st;
    wr_amqp *amqp;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t moved; /* the position moved, or the replica stopped */
    /* under lock: */
    bool stopping;
    struct store_replica_pos pos;
    bool diverged;          /* for good: why says so */
    char why[600];          /* an error message (512) and the advice */
    long long behind_since; /* epoch ms since which the file is behind; 0 when current */
    bool lagging;           /* past MAX_REPLICA_LAG_MS at the last check */
    /* the thread's own: */
    bool first;           /* no delivery yet since subscribing */
    long long gap_warned; /* the position a gap was last logged for */
    bool foreign_warned;  /* another log's changes were logged */
    struct wr_err err;
};

static bool stopping(replica *r)
{
    pthread_mutex_lock(&r->lock);
    bool v = r->stopping;
    pthread_mutex_unlock(&r->lock);
    return v;
}

static void nap(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

/* Sets the time since which the file is behind (0: current), unless it
 * is behind already. */
static void behind(replica *r, long long since)
{
    pthread_mutex_lock(&r->lock);
    if (since == 0 || r->behind_since == 0 || since < r->behind_since)
        r->behind_since = since;
    pthread_mutex_unlock(&r->lock);
}

/* Stops following the stream for good, for the reason what. */
static void diverge(replica *r, const char *what)
{
    pthread_mutex_lock(&r->lock);
    r->diverged = true;
    (void)snprintf(r->why, sizeof(r->why), "%s; start from a new snapshot", what);
    pthread_cond_broadcast(&r->moved);
    pthread_mutex_unlock(&r->lock);
    wr_error(NULL, "replica stopped: %s", r->why);
}

static long long int_header(const struct wr_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nihdrs; i++)
        if (strcmp(m->ihdrs[i].name, name) == 0)
            return m->ihdrs[i].value;
    return -1;
}

static const char *str_header(const struct wr_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nhdrs; i++)
        if (strcmp(m->hdrs[i].name, name) == 0)
            return m->hdrs[i].value;
    return "";
}

static int subscribe(replica *r)
{
    pthread_mutex_lock(&r->lock);
    long long offset = r->pos.stream_offset;
    pthread_mutex_unlock(&r->lock);
    int rc = wr_amqp_connect(r->amqp, &r->err);
    if (rc == 0)
        rc = wr_amqp_declare_stream(r->amqp, r->stream, r->cfg->changes_max_bytes,
                                    r->cfg->changes_max_age, &r->err);
    if (rc == 0)
        rc = wr_amqp_consume_stream(r->amqp, r->stream, PREFETCH, offset >= 0 ? offset + 1 : -1,
                                    &r->err);
    if (rc != 0)
        wr_amqp_close(r->amqp);
    r->first = true;
    return rc;
}

/* Applies the delivery that is the next position, retrying while the
 * file is locked. 0 (applied, or a stop came), WR_ECONFLICT (diverged),
 * or another WR_E* (give the delivery back: reconnect). */
static int apply(replica *r, const struct wr_msg *m, const struct store_replica_pos *next)
{
    for (;;) {
        int rc = store_apply(r->st, next, m->body, m->len, &r->err);
        if (rc == 0) {
            pthread_mutex_lock(&r->lock);
            r->pos = *next;
            r->behind_since = 0; /* current up to this change; the next one sets it again */
            pthread_cond_broadcast(&r->moved);
            pthread_mutex_unlock(&r->lock);
            return 0;
        }
        if (rc != WR_EBUSY || stopping(r))
            return rc;
        nap(RETRY_MS); /* someone holds the file's write lock: the lag grows meanwhile */
    }
}

/* One delivery: skip, apply or judge a gap. 0 to go on (ack it), or WR_E*. */
static int take(replica *r, const struct wr_msg *m)
{
    long long position = int_header(m, WR_HDR_POSITION);
    long long offset = int_header(m, WR_HDR_STREAM_OFFSET);
    long long at = int_header(m, WR_HDR_COMMITTED);
    bool first = r->first;
    r->first = false;
    pthread_mutex_lock(&r->lock);
    struct store_replica_pos cur = r->pos;
    pthread_mutex_unlock(&r->lock);
    if (position <= 0) {
        wr_warn(NULL, "replica: a message without x-position in %s, skipped", r->stream);
        return 0;
    }
    /* positions count within one writer file's log: another's (a file
     * replaced, a backup restored) are not this file's history */
    if (strcmp(str_header(m, WR_HDR_LOG_ID), cur.log_id) != 0) {
        if (!r->foreign_warned)
            wr_warn(NULL, "replica: skipping changes of another log than the file's (%s)",
                    cur.log_id);
        r->foreign_warned = true;
        return 0;
    }
    if (position <= cur.position)
        return 0; /* applied already (a repeat, or before the snapshot) */
    if (position > cur.position + 1) {
        if (first && (cur.stream_offset < 0 || offset > cur.stream_offset + 1)) {
            char what[200];
            (void)snprintf(what, sizeof(what),
                           "out of the stream's retention: the file is at position %lld, the "
                           "stream keeps only %lld and later",
                           cur.position, position);
            diverge(r, what);
            return WR_ECONFLICT;
        }
        if (r->gap_warned != position)
            wr_warn(NULL, "replica: position %lld came before %lld: waiting for it", position,
                    cur.position + 1);
        r->gap_warned = position;
        return 0;
    }
    behind(r, at > 0 ? at : wr_now_ms());
    struct store_replica_pos next = cur;
    next.position = position;
    next.stream_offset = offset;
    next.at_ms = at;
    int rc = apply(r, m, &next);
    if (rc == WR_ECONFLICT)
        diverge(r, r->err.msg);
    return rc;
}

static void *run(void *arg)
{
    replica *r = arg;
    long backoff = 100;
    while (!stopping(r)) {
        if (!wr_amqp_is_open(r->amqp) && subscribe(r) != 0) {
            behind(r, wr_now_ms());
            wr_warn(NULL, "replica: broker unavailable, retrying in %ld ms: %s", backoff,
                    r->err.msg);
            nap(backoff);
            backoff =
                backoff * 2 > r->cfg->reconnect_max_ms ? r->cfg->reconnect_max_ms : backoff * 2;
            continue;
        }
        backoff = 100;
        enum wr_amqp_event ev;
        struct wr_msg m;
        int rc = wr_amqp_poll(r->amqp, 200, &ev, &m, &r->err);
        if (rc == 0 && ev == WR_AMQP_NONE && !wr_amqp_has_buffered(r->amqp))
            behind(r, 0); /* the stream showed nothing newer */
        if (rc == 0 && ev == WR_AMQP_DELIVERY) {
            rc = take(r, &m);
            if (rc == WR_ECONFLICT)
                break;
            if (rc == 0)
                rc = wr_amqp_ack(r->amqp, m.delivery_tag, false, &r->err);
        }
        if (rc != 0) {
            wr_warn(NULL, "replica: %s", r->err.msg);
            behind(r, wr_now_ms());
            wr_amqp_close(r->amqp);
        }
    }
    wr_amqp_close(r->amqp);
    return NULL;
}

replica *replica_start(const struct wr_cfg *cfg, struct wr_err *err)
{
    replica *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        wr_err_set(err, WR_ENOMEM, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    (void)snprintf(r->stream, sizeof(r->stream), WR_QUEUE_PREFIX "%s" WR_CHANGES_SUFFIX,
                   cfg->service);
    pthread_mutex_init(&r->lock, NULL);
    wr_cond_init_steady(&r->moved);
    char name[200];
    (void)snprintf(name, sizeof(name), "warren-%s-replica", cfg->service);
    struct wr_amqp_opts ao = {.url = cfg->amqp_url,
                              .heartbeat_s = cfg->heartbeat_s,
                              .connect_timeout_ms = cfg->connect_timeout_ms,
                              .name = name};
    r->st = store_open_replica(cfg->database_uri, &r->pos, err);
    r->amqp = r->st != NULL ? wr_amqp_new(&ao) : NULL;
    if (r->st != NULL && r->amqp == NULL)
        wr_err_set(err, WR_ENOMEM, "out of memory");
    r->behind_since = wr_now_ms(); /* until the stream showed what is new */
    if (r->amqp == NULL || pthread_create(&r->thread, NULL, run, r) != 0) {
        if (r->amqp != NULL)
            wr_err_set(err, WR_EIO, "cannot start the replica's thread");
        wr_amqp_free(r->amqp);
        store_free(r->st);
        pthread_cond_destroy(&r->moved);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
    }
    wr_info(NULL, "replica at position %lld, following %s", r->pos.position, r->stream);
    return r;
}

void replica_stop(replica *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_cond_broadcast(&r->moved);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    wr_amqp_free(r->amqp);
    store_free(r->st);
    pthread_cond_destroy(&r->moved);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

long long replica_position(replica *r)
{
    pthread_mutex_lock(&r->lock);
    long long v = r->pos.position;
    pthread_mutex_unlock(&r->lock);
    return v;
}

long long replica_lag_ms(replica *r)
{
    pthread_mutex_lock(&r->lock);
    long long since = r->behind_since;
    pthread_mutex_unlock(&r->lock);
    long long now = wr_now_ms();
    return since > 0 && now > since ? now - since : 0;
}

bool replica_ready(void *arg, const char **why)
{
    replica *r = arg;
    long long lag = replica_lag_ms(r);
    long max = r->cfg->max_replica_lag_ms;
    pthread_mutex_lock(&r->lock);
    bool diverged = r->diverged;
    const char *reason = diverged ? r->why : "";
    bool lagging = !diverged && max > 0 && lag > max;
    if (lagging && !r->lagging)
        wr_warn(NULL,
                "replica %lld ms behind (MAX_REPLICA_LAG_MS %ld): not taking requests until it "
                "catches up",
                lag, max);
    else if (!lagging && r->lagging)
        wr_info(NULL, "replica caught up (%lld ms behind, MAX_REPLICA_LAG_MS %ld)", lag, max);
    r->lagging = lagging;
    pthread_mutex_unlock(&r->lock);
    if (why != NULL)
        *why = diverged ? reason : lagging ? "the replica is behind MAX_REPLICA_LAG_MS" : "";
    return !diverged && !lagging;
}

bool replica_wait(replica *r, long long min, long long deadline_ms)
{
    /* the deadline on the monotonic clock r->moved waits by (no clock step
     * moves it) */
    struct timespec ts = wr_steady_timespec(deadline_ms - wr_steady_ms());
    pthread_mutex_lock(&r->lock);
    while (r->pos.position < min && !r->diverged && !r->stopping && wr_steady_ms() < deadline_ms)
        (void)pthread_cond_timedwait(&r->moved, &r->lock, &ts);
    bool ok = r->pos.position >= min;
    pthread_mutex_unlock(&r->lock);
    return ok;
}
