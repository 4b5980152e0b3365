/* The edge's reader of the change events (see sse_feed.h): its thread,
 * the ring and the offset index, all under one mutex. The thread is the
 * only writer; the loops and the catch-ups read. */
#include "sse_feed.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sse_warm.h"
#include "warren/amqp.h"
#include "warren/clock.h"
#include "warren/err.h"
#include "warren/log.h"
#include "warren/proto.h"

#define MAX_WATCH 64
#define PREFETCH 256
#define INDEX_MAX 4096 /* then every other entry goes, and the step doubles */
#define RETRY_MAX_MS 5000

struct index_entry {
    long long pos, offset; /* the offset of pos's first event */
};

struct sse_feed {
    const struct wr_cfg *cfg;
    char stream[160];
    pthread_mutex_t lock;
    pthread_cond_t ended; /* a catch-up ended */
    struct sse_item *ring;
    uint64_t first, next; /* the seqs held: [first, next) */
    size_t bytes;
    struct sse_mark newest; /* the last mark taken (pos -1: none) */
    long long resume;       /* the offset after the last delivery, or -1 */
    long long live_from;    /* every event from this offset on reaches the ring, or -1 */
    struct index_entry index[INDEX_MAX];
    size_t nindex;
    long long step, skipped; /* index one new position in step */
    int wake[MAX_WATCH];
    size_t nwake;
    pthread_t thread;
    bool started;
    bool stop;
    long catchups;
    bool warming;            /* resumes wait (sse_feed_place): see sse_feed.h */
    long long warm_until_ms; /* resumes wait no longer (wr_steady_ms) */
};

sse_feed *sse_feed_new(const struct wr_cfg *cfg)
{
    sse_feed *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->ring = calloc(SSE_RING_EVENTS, sizeof(*f->ring));
    if (f->ring == NULL) {
        free(f);
        return NULL;
    }
    f->cfg = cfg;
    f->first = f->next = SSE_RING_EVENTS; /* seqs count from there */
    (void)snprintf(f->stream, sizeof(f->stream), "warren.%s%s", cfg->service, WR_EVENTS_SUFFIX);
    f->newest = (struct sse_mark){-1, 0};
    f->resume = f->live_from = -1;
    f->step = 1;
    (void)pthread_mutex_init(&f->lock, NULL);
    (void)pthread_cond_init(&f->ended, NULL);
    return f;
}

void sse_feed_free(sse_feed *f)
{
    if (f == NULL)
        return;
    sse_feed_stop(f);
    for (uint64_t s = f->first; s < f->next; s++)
        free(f->ring[s % SSE_RING_EVENTS].text);
    free(f->ring);
    (void)pthread_cond_destroy(&f->ended);
    (void)pthread_mutex_destroy(&f->lock);
    free(f);
}

int sse_feed_watch(sse_feed *f, int fd)
{
    if (f->nwake == MAX_WATCH)
        return WR_ETOOBIG;
    f->wake[f->nwake++] = fd;
    return 0;
}

static long long int_header(const struct wr_msg *m, const char *name, long long absent)
{
    for (size_t i = 0; i < m->nihdrs; i++)
        if (strcmp(m->ihdrs[i].name, name) == 0)
            return m->ihdrs[i].value;
    return absent;
}

int sse__item_of(const struct wr_msg *m, struct sse_item *it)
{
    *it = (struct sse_item){.offset = int_header(m, WR_HDR_STREAM_OFFSET, -1)};
    long long pos = int_header(m, WR_HDR_POSITION, -1);
    long long k = int_header(m, WR_HDR_EVENT_INDEX, 0);
    long long count = int_header(m, WR_HDR_EVENT_COUNT, k + 1);
    if (pos < 0 || k < 0 || k >= count || it->offset < 0)
        return WR_EINVAL;
    it->mark = (struct sse_mark){pos, k};
    json_t *j = json_loadb(m->body, m->len, 0, NULL);
    const char *coll = json_string_value(json_object_get(j, "collection"));
    const char *op = json_string_value(json_object_get(j, "op"));
    int rc = WR_EINVAL;
    if (coll != NULL && op != NULL && strlen(coll) <= SSE_NAME_MAX && strlen(op) < 16 &&
        strspn(op, "abcdefghijklmnopqrstuvwxyz") == strlen(op)) {
        (void)snprintf(it->collection, sizeof(it->collection), "%s", coll);
        struct wr_buf b;
        wr_buf_init(&b, m->len * 2 + 256);
        rc = sse_event_format(&b, op, &it->mark, count, m->body, m->len);
        if (rc == 0) {
            it->text = wr_buf_detach(&b, &it->len);
            rc = it->text != NULL ? 0 : WR_ENOMEM;
        }
        wr_buf_release(&b);
    }
    json_decref(j);
    return rc;
}

/* Under the lock: it (owned from now on) joins the ring, the oldest events
 * leaving while it holds too many or too much. */
static void ring_push(sse_feed *f, struct sse_item *it)
{
    while (f->next > f->first &&
           (f->next - f->first >= SSE_RING_EVENTS || f->bytes + it->len > SSE_RING_BYTES)) {
        struct sse_item *old = &f->ring[f->first % SSE_RING_EVENTS];
        f->bytes -= old->len;
        free(old->text);
        old->text = NULL;
        f->first++;
    }
    f->ring[f->next % SSE_RING_EVENTS] = *it;
    f->next++;
    f->bytes += it->len;
    f->newest = it->mark;
    /* An entry is the offset of a position's first event: the ring may
     * begin inside a transaction, whose later events do not say where it
     * began. */
    if (it->mark.k != 0 || (f->nindex > 0 && f->index[f->nindex - 1].pos == it->mark.pos))
        return;
    if (++f->skipped < f->step && f->nindex > 0)
        return;
    f->skipped = 0;
    if (f->nindex == INDEX_MAX) { /* keep every other one: coarser, still covering */
        for (size_t i = 0; i < INDEX_MAX / 2; i++)
            f->index[i] = f->index[2 * i + 1];
        f->nindex = INDEX_MAX / 2;
        f->step *= 2;
    }
    f->index[f->nindex++] = (struct index_entry){it->mark.pos, it->offset};
}

static void wake_all(sse_feed *f)
{
    for (size_t i = 0; i < f->nwake; i++) {
        ssize_t w = write(f->wake[i], "e", 1); /* a full pipe has a byte already */
        (void)w;
    }
}

/* One delivery: a new event joins the ring; a repeat (a (position, k) not
 * after the newest, sent again after a writer's reconnect) is dropped. */
static void take(sse_feed *f, const struct wr_msg *m)
{
    struct sse_item it;
    if (sse__item_of(m, &it) != 0) {
        wr_warn(NULL, "sse: dropping a change event without the contract's headers or body");
        return;
    }
    pthread_mutex_lock(&f->lock);
    f->resume = it.offset + 1;
    /* offsets rise along the ring too: the warm-up's events went before */
    bool fresh =
        sse_mark_after(&it.mark, &f->newest) &&
        (f->next == f->first || it.offset > f->ring[(f->next - 1) % SSE_RING_EVENTS].offset);
    if (fresh)
        ring_push(f, &it);
    pthread_mutex_unlock(&f->lock);
    if (fresh)
        wake_all(f);
    else
        free(it.text);
}

/* Sleeps ms, in short naps, unless the feed stops. */
static void nap(sse_feed *f, long ms)
{
    for (long left = ms; left > 0 && !sse__feed_stopping_now(f); left -= 100) {
        struct timespec ts = {0, (left < 100 ? left : 100) * 1000000L};
        (void)nanosleep(&ts, NULL);
    }
}

/* Connects, declares the events' topology, consumes from where the last
 * connection stopped: after its last delivery, or, before any, where the
 * warm-up found the stream's end (from "next" the first time). 0 or WR_E*
 * (err). */
static int subscribe(sse_feed *f, wr_amqp *a, struct wr_err *err)
{
    pthread_mutex_lock(&f->lock);
    long long from = f->resume >= 0 ? f->resume : f->live_from;
    pthread_mutex_unlock(&f->lock);
    int rc = wr_amqp_connect(a, err);
    if (rc == 0)
        rc = wr_amqp_declare_events(a, f->cfg->service, f->cfg->changes_max_bytes,
                                    f->cfg->changes_max_age, err);
    if (rc == 0)
        rc = wr_amqp_consume_stream(a, f->stream, PREFETCH, from >= 0 ? from : WR_AMQP_STREAM_NEXT,
                                    err);
    return rc;
}

/* After the first subscription (so that what the warm-up reads before it,
 * and the ring after it, meet): the warm-up, when it is on. */
static void warm_start(sse_feed *f)
{
    if (f->cfg->sse_warm_events > 0 && sse_warm_start(f, f->cfg->sse_warm_events) != 0) {
        wr_warn(NULL, "sse: cannot warm the ring: out of memory or threads");
        sse__feed_warmed(f, "not warmed");
    }
}

static void *feed_main(void *arg)
{
    sse_feed *f = arg;
    struct wr_amqp_opts o = wr_amqp_opts_from_cfg(f->cfg, "warren-edge-events");
    wr_amqp *a = wr_amqp_new(&o);
    long backoff = 100;
    bool down_logged = false, warm_asked = false, warm_due = f->warming;
    while (a != NULL && !sse__feed_stopping_now(f)) {
        struct wr_err err = {0};
        if (warm_due && wr_steady_ms() >= f->warm_until_ms) { /* set before this thread */
            sse__feed_warmed(f, "resumes wait no longer: SSE_WARM_WAIT_MS");
            warm_due = false;
        }
        if (!wr_amqp_is_open(a)) {
            if (subscribe(f, a, &err) != 0) {
                if (!down_logged)
                    wr_warn(NULL, "sse: cannot read %s: %s (retrying)", f->stream, err.msg);
                down_logged = true;
                wr_amqp_close(a);
                nap(f, backoff);
                backoff = backoff * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff * 2;
                continue;
            }
            wr_info(NULL, "sse: reading %s", f->stream);
            down_logged = false;
            backoff = 100;
            if (!warm_asked)
                warm_start(f);
            warm_asked = true;
        }
        enum wr_amqp_event ev = WR_AMQP_NONE;
        struct wr_msg m;
        int rc = wr_amqp_poll(a, 200, &ev, &m, &err);
        if (rc == 0 && ev == WR_AMQP_DELIVERY) {
            take(f, &m);
            rc = wr_amqp_ack(a, m.delivery_tag, false, &err);
        }
        if (rc != 0) {
            wr_warn(NULL, "sse: lost %s: %s (reconnecting)", f->stream, err.msg);
            wr_amqp_close(a);
        }
    }
    if (a == NULL)
        wr_error(NULL, "sse: out of memory: no change events for browsers");
    wr_amqp_free(a);
    return NULL;
}

int sse_feed_start(sse_feed *f)
{
    f->warming = f->cfg->sse_warm_events > 0;
    f->warm_until_ms = wr_steady_ms() + SSE_WARM_WAIT_MS;
    if (pthread_create(&f->thread, NULL, feed_main, f) != 0)
        return WR_EIO;
    f->started = true;
    return 0;
}

void sse_feed_stop(sse_feed *f)
{
    pthread_mutex_lock(&f->lock);
    f->stop = true;
    while (f->catchups > 0)
        (void)pthread_cond_wait(&f->ended, &f->lock);
    pthread_mutex_unlock(&f->lock);
    if (f->started)
        (void)pthread_join(f->thread, NULL);
    f->started = false;
}

int sse_feed_place(sse_feed *f, const struct sse_mark *after, uint64_t *seq, struct sse_mark *last)
{
    int rc = 0;
    pthread_mutex_lock(&f->lock);
    if (after == NULL) {
        *seq = f->next;
        *last = f->newest;
    } else if (f->next > f->first &&
               !sse_mark_after(&f->ring[f->first % SSE_RING_EVENTS].mark, after)) {
        *seq = f->first;
        *last = *after;
    } else if (f->warming || f->catchups >= f->cfg->sse_catchup_max) {
        rc = WR_EAGAIN;
    } else {
        f->catchups++; /* the place of the client's catch-up */
        rc = WR_ENOTFOUND;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

int sse_feed_read(sse_feed *f, uint64_t *seq, struct sse_mark *last, const struct sse_filter *flt,
                  struct evbuffer *out, size_t cap, long *sent)
{
    int rc = 0;
    pthread_mutex_lock(&f->lock);
    if (*seq < f->first)
        rc = WR_ETOOBIG;
    for (; rc == 0 && *seq < f->next && evbuffer_get_length(out) < cap; (*seq)++) {
        const struct sse_item *it = &f->ring[*seq % SSE_RING_EVENTS];
        if (!sse_mark_after(&it->mark, last))
            continue;
        *last = it->mark;
        if (!sse_filter_has(flt, it->collection))
            continue;
        if (evbuffer_add(out, it->text, it->len) != 0) {
            rc = WR_ENOMEM;
            break;
        }
        (*sent)++;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

const struct wr_cfg *sse__feed_cfg(const sse_feed *f)
{
    return f->cfg;
}

const char *sse__feed_stream(const sse_feed *f)
{
    return f->stream;
}

void sse__feed_lock(sse_feed *f)
{
    pthread_mutex_lock(&f->lock);
}

void sse__feed_unlock(sse_feed *f)
{
    pthread_mutex_unlock(&f->lock);
}

bool sse__feed_stopping(sse_feed *f)
{
    return f->stop;
}

bool sse__feed_stopping_now(sse_feed *f)
{
    pthread_mutex_lock(&f->lock);
    bool stop = f->stop;
    pthread_mutex_unlock(&f->lock);
    return stop;
}

void sse__feed_bounds_for(sse_feed *f, const struct sse_mark *after, long long *lo, long long *hi)
{
    size_t i = 0;
    while (i < f->nindex && f->index[i].pos <= after->pos)
        i++;
    *lo = i > 0 ? f->index[i - 1].offset : -1;
    if (i > 0 && f->index[i - 1].pos == after->pos)
        *hi = *lo; /* that position's first event: exactly where to start */
    else if (i < f->nindex)
        *hi = f->index[i].offset;
    else if (f->next > f->first) /* the ring lacks what comes after `after` */
        *hi = f->ring[f->first % SSE_RING_EVENTS].offset;
    else
        *hi = -1;
}

bool sse__feed_join(sse_feed *f, long long offset, uint64_t *seq)
{
    if (f->next == f->first) { /* nothing read yet: what comes, comes here */
        bool covered = f->live_from >= 0 && offset >= f->live_from;
        if (covered)
            *seq = f->next;
        return covered;
    }
    if (f->ring[f->first % SSE_RING_EVENTS].offset > offset)
        return false;
    uint64_t lo = f->first, hi = f->next; /* the first at or past offset */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (f->ring[mid % SSE_RING_EVENTS].offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    *seq = lo;
    return true;
}

void sse__feed_catchups(sse_feed *f, int delta)
{
    if (delta > 0)
        pthread_mutex_lock(&f->lock);
    f->catchups += delta;
    if (f->catchups == 0)
        (void)pthread_cond_broadcast(&f->ended);
    if (delta < 0) /* a place free: resumes waiting for one ask again */
        wake_all(f);
    if (delta > 0)
        pthread_mutex_unlock(&f->lock);
}

int sse__feed_spawn(sse_feed *f, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t t;
    bool ok = arg != NULL && pthread_attr_init(&attr) == 0;
    if (ok) {
        ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
             pthread_create(&t, &attr, fn, arg) == 0;
        (void)pthread_attr_destroy(&attr);
    }
    if (ok)
        return 0;
    pthread_mutex_lock(&f->lock);
    sse__feed_catchups(f, -1);
    pthread_mutex_unlock(&f->lock);
    return WR_ENOMEM;
}

/* Under the lock: index entries for the ring's events [first, until), just
 * put in front of it, go in front of the index, the newest while there is
 * room. */
static void index_prepend(sse_feed *f, uint64_t until)
{
    size_t k = 0; /* a position's first events (as ring_push), the newest that fit */
    for (uint64_t s = until; s-- > f->first && k < INDEX_MAX - f->nindex;)
        k += f->ring[s % SSE_RING_EVENTS].mark.k == 0;
    memmove(f->index + k, f->index, f->nindex * sizeof(*f->index));
    f->nindex += k;
    for (uint64_t s = until; s-- > f->first && k > 0;) {
        const struct sse_item *it = &f->ring[s % SSE_RING_EVENTS];
        if (it->mark.k == 0)
            f->index[--k] = (struct index_entry){it->mark.pos, it->offset};
    }
}

void sse__feed_prepend(sse_feed *f, struct sse_item *its, size_t n)
{
    uint64_t until = f->first;
    bool empty = f->next == f->first;
    /* newest first: each goes before the ring's first (by offset and by
     * mark: a repeat goes), while the ring has room */
    struct sse_mark before = {INT64_MAX, 0};
    long long below = INT64_MAX;
    if (!empty) {
        before = f->ring[f->first % SSE_RING_EVENTS].mark;
        below = f->ring[f->first % SSE_RING_EVENTS].offset;
    }
    for (size_t i = n; i-- > 0;) {
        struct sse_item it = its[i];
        its[i].text = NULL;
        bool room = f->next - f->first < SSE_RING_EVENTS && f->first > 0 &&
                    f->bytes + it.len <= SSE_RING_BYTES;
        if (!room || it.offset >= below || !sse_mark_after(&before, &it.mark)) {
            free(it.text);
            continue;
        }
        if (f->next == f->first) {
            f->newest = it.mark;
            /* nothing read since "next" yet: a reconnect reads on from here,
             * not from a later "next", so that the ring keeps no gap */
            if (f->resume < 0)
                f->resume = it.offset + 1;
        }
        f->ring[--f->first % SSE_RING_EVENTS] = it;
        f->bytes += it.len;
        before = it.mark;
        below = it.offset;
    }
    index_prepend(f, until);
}

void sse__feed_live_from(sse_feed *f, long long offset)
{
    f->live_from = offset;
}

void sse__feed_warmed(sse_feed *f, const char *how)
{
    pthread_mutex_lock(&f->lock);
    bool ended = f->warming;
    f->warming = false;
    bool any = f->next > f->first;
    if (ended)
        wr_info(NULL, "sse: the ring of %s holds %llu events, positions %lld to %lld (%s)",
                f->stream, (unsigned long long)(f->next - f->first),
                any ? f->ring[f->first % SSE_RING_EVENTS].mark.pos : -1, any ? f->newest.pos : -1,
                how);
    pthread_mutex_unlock(&f->lock);
    if (ended)
        wake_all(f);
}
