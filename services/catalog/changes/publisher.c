/* The writer's publisher (see publisher.h): one round reads a batch of
 * unpublished outbox entries, publishes each in order (its changeset to
 * the change stream, then its change events to warren.events), waits for
 * their confirms, and marks published the entries whose publishes were
 * all confirmed, in a row from the first. A nack, a return or a lost
 * connection ends the round; the next one sends again from the first
 * entry not wholly confirmed. */
#include "changes/publisher.h"

#include "changes/events.h"
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
#define ROUND_PUBLISHES 4096  /* a round stops after the entry that passes it */
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
    bool stopping;        /* under lock */
    long long newest;     /* the newest committed position announced, under lock */
    long long confirmed;  /* the newest position confirmed and marked, under lock */
    long long seq;        /* publishes on this channel since confirm.select */
    long long *positions; /* the round's publishes' entries, by seq - first_seq */
    bool *acked;          /* the round's confirms, likewise */
    size_t cap;           /* of positions and acked */
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
        rc = wr_amqp_declare_events(p->amqp, p->cfg->service, p->cfg->changes_max_bytes,
                                    p->cfg->changes_max_age, err);
    if (rc == 0)
        rc = wr_amqp_confirm(p->amqp, err);
    p->seq = 0;
    if (rc != 0)
        wr_amqp_close(p->amqp);
    return rc;
}

/* Notes one more publish of the round, of the entry at position. */
static int noted(publisher *p, long long position)
{
    if ((size_t)p->sent == p->cap) {
        size_t cap = p->cap * 2;
        long long *pos = realloc(p->positions, cap * sizeof(*pos));
        if (pos != NULL)
            p->positions = pos;
        bool *acked = pos != NULL ? realloc(p->acked, cap * sizeof(*acked)) : NULL;
        if (acked == NULL)
            return wr_err_set(&p->err, WR_ENOMEM, "out of memory");
        p->acked = acked;
        p->cap = cap;
    }
    p->positions[p->sent++] = position;
    p->seq++;
    return 0;
}

/* Event k (of count) of the entry c to warren.events: message_id
 * <service>:<position>:<k>, routing key <service>.<Collection>.<op>. */
static int publish_event(publisher *p, const struct store_change *c, const struct event_line *e,
                         long long k, long long count)
{
    char id[96], key[256];
    (void)snprintf(id, sizeof(id), "%s:%lld:%lld", p->cfg->service, c->position, k);
    /* AMQP caps a routing key at 255 bytes: a longer name is cut */
    (void)snprintf(key, sizeof(key), "%s.%.*s.%.*s", p->cfg->service, (int)e->collection_len,
                   e->collection, (int)e->op_len, e->op);
    struct wr_msg m = {.type = WR_MSG_TYPE_EVENT,
                       .message_id = id,
                       .content_type = WR_EVENT_CONTENT_TYPE,
                       .expiration_ms = -1,
                       .body = e->body,
                       .len = e->body_len,
                       .exchange = WR_EVENTS_EXCHANGE,
                       .persistent = true,
                       .nhdrs = 1,
                       .nihdrs = 3};
    m.hdrs[0] = (struct wr_amqp_hdr){WR_HDR_SERVICE, p->cfg->service};
    m.ihdrs[0] = (struct wr_amqp_ihdr){WR_HDR_POSITION, c->position};
    m.ihdrs[1] = (struct wr_amqp_ihdr){WR_HDR_EVENT_INDEX, k};
    m.ihdrs[2] = (struct wr_amqp_ihdr){WR_HDR_EVENT_COUNT, count};
    int rc = wr_amqp_publish(p->amqp, key, &m, true, &p->err);
    return rc != 0 ? rc : noted(p, c->position);
}

/* One entry: its changeset, then its events in order. 0, 1 when the
 * round is full, or WR_E*. */
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
    if (rc == 0)
        rc = noted(p, c->position);
    long long count = (long long)events_count(c->events, c->events_len);
    size_t off = 0;
    struct event_line e;
    for (long long k = 0; rc == 0 && events_next(c->events, c->events_len, &off, &e); k++)
        rc = publish_event(p, c, &e, k, count);
    if (rc == 0 && p->sent >= ROUND_PUBLISHES)
        return 1;
    return rc;
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
    memset(p->acked, 0, p->cap * sizeof(*p->acked));
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

/* The newest position whose publishes are all among the first ok of the
 * round (0: none). */
static long long whole_upto(const publisher *p, int ok)
{
    if (ok == p->sent)
        return p->positions[ok - 1];
    long long upto = 0;
    for (int i = 0; i < ok; i++)
        if (p->positions[i] != p->positions[ok])
            upto = p->positions[i];
    return upto;
}

/* One round; 0 (also when the outbox had nothing), or WR_E* when the
 * connection must be made again. *published gets the messages sent. */
static int round_trip(publisher *p, int *published)
{
    long long after = get_confirmed(p);
    p->sent = 0;
    p->first_seq = p->seq + 1;
    int rc = store_outbox_read(p->st, after, BATCH, publish_one, p, &p->err);
    if (rc == 1)
        rc = 0; /* the round is full */
    *published = p->sent;
    if (p->sent == 0)
        return rc;
    int ok = await_confirms(p);
    long long upto = ok > 0 ? whole_upto(p, ok) : 0;
    if (upto > 0) {
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
    struct wr_amqp_opts ao = wr_amqp_opts_from_cfg(cfg, name);
    p->st = store_open_writer(cfg->database_uri, err);
    if (p->st != NULL && store_log_id(p->st, p->log_id, sizeof(p->log_id), err) != 0) {
        store_free(p->st);
        p->st = NULL;
    }
    p->cap = BATCH;
    p->positions = malloc(p->cap * sizeof(*p->positions));
    p->acked = malloc(p->cap * sizeof(*p->acked));
    p->amqp = p->st != NULL && p->positions != NULL && p->acked != NULL ? wr_amqp_new(&ao) : NULL;
    if (p->st != NULL && p->amqp == NULL)
        wr_err_set(err, WR_ENOMEM, "out of memory");
    if (p->amqp == NULL || pthread_create(&p->thread, NULL, run, p) != 0) {
        if (p->amqp != NULL)
            wr_err_set(err, WR_EIO, "cannot start the publisher's thread");
        wr_amqp_free(p->amqp);
        store_free(p->st);
        free(p->positions);
        free(p->acked);
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
    free(p->positions);
    free(p->acked);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
