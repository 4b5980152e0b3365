/* The writer's publisher (see publisher.h): one round reads a batch of
 * unpublished outbox entries, publishes them in order, waits for their
 * confirms, and marks the confirmed prefix published. A nack, a return or
 * a lost connection ends the round; the next one sends again from the
 * first entry not confirmed. */
#include "changes/publisher.h"

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

#define BATCH 256
#define CONFIRM_WAIT_MS 10000 /* a round's confirms; past it, reconnect */
#define STOP_FLUSH_MS 3000    /* what a stop gives the last entries */

struct publisher {
    const struct wr_cfg *cfg;
    char stream[160];
    char log_id[40]; /* the writer file's log (store_log_id) */
    store *st;
    wr_amqp *amqp;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;              /* under lock */
    long long newest;           /* the newest committed position announced, under lock */
    long long confirmed;        /* the newest position confirmed and marked, under lock */
    long long seq;              /* publishes on this channel since confirm.select */
    long long positions[BATCH]; /* the round's positions, by seq - first_seq */
    bool acked[BATCH];          /* the round's confirms, likewise */
    long long first_seq;
    int sent;
    struct wr_err err;
};

static long long get_confirmed(publisher *p)
{
    pthread_mutex_lock(&p->lock);
    long long v = p->confirmed;
    pthread_mutex_unlock(&p->lock);
    return v;
}

long long publisher_confirmed(publisher *p)
{
    return p != NULL ? get_confirmed(p) : 0;
}

void publisher_kick(void *arg, long long position)
{
    publisher *p = arg;
    pthread_mutex_lock(&p->lock);
    if (position > p->newest)
        p->newest = position;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

static bool stopping(publisher *p)
{
    pthread_mutex_lock(&p->lock);
    bool v = p->stopping;
    pthread_mutex_unlock(&p->lock);
    return v;
}

/* Sleeps up to ms, or until a kick or a stop. */
static void nap(publisher *p, long ms)
{
    struct timespec ts = wr_steady_timespec(ms);
    pthread_mutex_lock(&p->lock);
    if (!p->stopping && p->newest <= p->confirmed)
        (void)pthread_cond_timedwait(&p->wake, &p->lock, &ts);
    pthread_mutex_unlock(&p->lock);
}

static int connect_broker(publisher *p)
{
    struct wr_err *err = &p->err;
    int rc = wr_amqp_connect(p->amqp, err);
    if (rc == 0)
        rc = wr_amqp_declare_stream(p->amqp, p->stream, p->cfg->changes_max_bytes,
                                    p->cfg->changes_max_age, err);
    if (rc == 0)
        rc = wr_amqp_confirm(p->amqp, err);
    p->seq = 0;
    if (rc != 0)
        wr_amqp_close(p->amqp);
    return rc;
}

static int publish_one(void *arg, const struct store_change *c)
{
    publisher *p = arg;
    struct wr_msg m = {.type = WR_MSG_TYPE_CHANGE,
                       .content_type = WR_CHANGE_CONTENT_TYPE,
                       .expiration_ms = -1,
                       .body = c->data,
                       .len = c->len,
                       .nhdrs = 1,
                       .nihdrs = 2};
    m.hdrs[0] = (struct wr_amqp_hdr){WR_HDR_LOG_ID, p->log_id};
    m.ihdrs[0] = (struct wr_amqp_ihdr){WR_HDR_POSITION, c->position};
    m.ihdrs[1] = (struct wr_amqp_ihdr){WR_HDR_COMMITTED, c->at_ms};
    int rc = wr_amqp_publish(p->amqp, p->stream, &m, true, &p->err);
    if (rc != 0)
        return rc;
    p->positions[p->sent++] = c->position;
    p->seq++;
    return 0;
}

/* Marks the round's publishes confirmed: seq, or every one up to it. */
static void take_ack(publisher *p, long long seq, bool multiple)
{
    for (long long s = multiple ? p->first_seq : seq; s <= seq; s++)
        if (s >= p->first_seq && s < p->first_seq + p->sent)
            p->acked[s - p->first_seq] = true;
}

/* How many of the round's first publishes are confirmed, in a row. */
static int acked_prefix(const publisher *p)
{
    int n = 0;
    while (n < p->sent && p->acked[n])
        n++;
    return n;
}

/* Waits for the round's confirms; returns the count of its first
 * entries confirmed (all of them, or fewer after a nack, a return, a lost
 * connection or the wait's end). */
static int await_confirms(publisher *p)
{
    memset(p->acked, 0, sizeof(p->acked));
    bool failed = false;
    long long until = wr_steady_ms() + CONFIRM_WAIT_MS;
    while (!failed && acked_prefix(p) < p->sent && wr_steady_ms() < until) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        if (wr_amqp_poll(p->amqp, 100, &ev, &m, &p->err) != 0)
            break;
        if (ev == WR_AMQP_ACKED)
            take_ack(p, (long long)m.delivery_tag, m.multiple);
        else if (ev == WR_AMQP_NACKED || ev == WR_AMQP_RETURNED)
            failed = true;
    }
    int ok = acked_prefix(p);
    if (ok < p->sent)
        wr_warn(NULL, "changes: %d of %d published not confirmed, sending them again", p->sent - ok,
                p->sent);
    return ok;
}

/* One round; 0 (also when the outbox had nothing), or WR_E* when the
 * connection must be made again. *published gets the entries sent. */
static int round_trip(publisher *p, int *published)
{
    long long after = get_confirmed(p);
    p->sent = 0;
    p->first_seq = p->seq + 1;
    int rc = store_outbox_read(p->st, after, BATCH, publish_one, p, &p->err);
    *published = p->sent;
    if (p->sent == 0)
        return rc;
    int ok = await_confirms(p);
    if (ok > 0) {
        long long upto = p->positions[ok - 1];
        struct wr_err merr = {0};
        /* unmarked, the entries are sent again after a restart: harmless */
        if (store_outbox_mark(p->st, upto, &merr) != 0)
            wr_warn(NULL, "changes: cannot mark published: %s", merr.msg);
        pthread_mutex_lock(&p->lock);
        p->confirmed = upto;
        if (p->newest < upto)
            p->newest = upto;
        pthread_mutex_unlock(&p->lock);
    }
    if (ok < p->sent)
        return rc != 0 ? rc : wr_err_set(&p->err, WR_EIO, "not every publish was confirmed");
    return rc;
}

static void *run(void *arg)
{
    publisher *p = arg;
    long backoff = 100;
    long long flush_until = 0;
    for (;;) {
        bool stop = stopping(p);
        if (stop && flush_until == 0)
            flush_until = wr_steady_ms() + STOP_FLUSH_MS;
        if (stop && (wr_steady_ms() > flush_until || !wr_amqp_is_open(p->amqp)))
            break;
        if (!wr_amqp_is_open(p->amqp) && connect_broker(p) != 0) {
            wr_warn(NULL, "changes: broker unavailable, retrying in %ld ms: %s", backoff,
                    p->err.msg);
            nap(p, backoff);
            backoff =
                backoff * 2 > p->cfg->reconnect_max_ms ? p->cfg->reconnect_max_ms : backoff * 2;
            continue;
        }
        backoff = 100;
        int published = 0;
        if (round_trip(p, &published) != 0) {
            wr_warn(NULL, "changes: %s", p->err.msg);
            wr_amqp_close(p->amqp);
            continue;
        }
        if (published > 0)
            continue;
        if (stop)
            break;
        nap(p, 1000);
        /* services heartbeats and notices a closed connection while idle */
        enum wr_amqp_event ev;
        struct wr_msg m;
        if (wr_amqp_poll(p->amqp, 0, &ev, &m, &p->err) != 0)
            wr_amqp_close(p->amqp);
    }
    return NULL;
}

publisher *publisher_start(const struct wr_cfg *cfg, struct wr_err *err)
{
    publisher *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        wr_err_set(err, WR_ENOMEM, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    (void)snprintf(p->stream, sizeof(p->stream), WR_QUEUE_PREFIX "%s" WR_CHANGES_SUFFIX,
                   cfg->service);
    pthread_mutex_init(&p->lock, NULL);
    wr_cond_init_steady(&p->wake);
    char name[200];
    (void)snprintf(name, sizeof(name), "warren-%s-changes", cfg->service);
    struct wr_amqp_opts ao = {.url = cfg->amqp_url,
                              .heartbeat_s = cfg->heartbeat_s,
                              .connect_timeout_ms = cfg->connect_timeout_ms,
                              .name = name};
    p->st = store_open_writer(cfg->database_uri, err);
    if (p->st != NULL && store_log_id(p->st, p->log_id, sizeof(p->log_id), err) != 0) {
        store_free(p->st);
        p->st = NULL;
    }
    p->amqp = p->st != NULL ? wr_amqp_new(&ao) : NULL;
    if (p->st != NULL && p->amqp == NULL)
        wr_err_set(err, WR_ENOMEM, "out of memory");
    if (p->amqp == NULL || pthread_create(&p->thread, NULL, run, p) != 0) {
        if (p->amqp != NULL)
            wr_err_set(err, WR_EIO, "cannot start the publisher's thread");
        wr_amqp_free(p->amqp);
        store_free(p->st);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

void publisher_stop(publisher *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    wr_amqp_free(p->amqp);
    store_free(p->st);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
