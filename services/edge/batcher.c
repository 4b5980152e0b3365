/* Proto v2 batches on the edge (see batcher.h). Per queue a slot: the
 * first request is held as a copy (sent alone as v1 when no other joins
 * it), the second starts the v2 body. Slots are sent when the loop runs
 * out of work: an event of the loop's lowest priority, which libevent
 * runs only in a turn where nothing else is ready, so a batch takes every
 * read that arrives while the loop is busy (answers going out, replies
 * coming in). A slot whose queue already has EDGE_BATCH_WINDOW reads out
 * waits on for replies (each reply lets the slot go again), and a timer
 * sends everything EDGE_BATCH_WAIT_US after the first read began to wait
 * (1 ms by default: a small part of the 10 ms p99 the edge aims at, and
 * ~30 reads at the rate one loop serves). */
#include "batcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "warren/buf.h"
#include "warren/clock.h"
#include "warren/log.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "warren/rpc_batch.h"

#define SLOTS 16 /* queues batched at once: SERVICE and a few of SERVICES */
#define ID_SIZE (WR_REQUEST_ID_LEN + 1)

/* A request held as a copy: its strings live in arena. */
struct held {
    struct wr_msg m;
    struct wr_buf arena;
};

struct slot {
    bool used;
    char service[WR_SERVICE_NAME_MAX + 1]; /* "" for SERVICE's queue */
    struct held first;
    struct wr_batch_enc enc; /* from the second request on */
    size_t n;                /* requests queued */
    long out;                /* queued or published, not yet done (batcher_done) */
    long long deadline_ms;   /* the latest of theirs */
    char *ids;               /* theirs (ID_SIZE bytes each), for the unsent callback */
};

struct batcher {
    const struct wr_cfg *cfg;
    bus *bus;
    metrics *metrics;
    batcher_unsent_fn unsent;
    void *arg;
    struct event *idle;  /* activated by hand, of the lowest priority */
    struct event *bound; /* EDGE_BATCH_WAIT_US after the first read waiting */
    struct slot slot[SLOTS];
};

/* Copies m's strings into h's arena; false when out of memory. */
static bool hold(struct held *h, const struct wr_msg *m)
{
    wr_buf_reset(&h->arena);
    const char *src[4 + 2 * WR_AMQP_MAX_HDRS] = {m->message_id, m->correlation_id, m->reply_to,
                                                 m->type};
    size_t n = 4;
    for (size_t i = 0; i < m->nhdrs; i++) {
        src[n++] = m->hdrs[i].name;
        src[n++] = m->hdrs[i].value;
    }
    size_t at[4 + 2 * WR_AMQP_MAX_HDRS];
    for (size_t i = 0; i < n; i++) {
        at[i] = h->arena.len;
        const char *s = src[i] != NULL ? src[i] : "";
        wr_buf_append(&h->arena, s, strlen(s) + 1);
    }
    size_t body = h->arena.len;
    wr_buf_append(&h->arena, m->body, m->len);
    if (wr_buf_error(&h->arena) != 0)
        return false;
    /* pointers after the last append: appends may move the buffer */
    const char *base = h->arena.data;
    h->m = *m;
    const char **dst[4] = {&h->m.message_id, &h->m.correlation_id, &h->m.reply_to, &h->m.type};
    for (size_t i = 0; i < 4; i++)
        *dst[i] = src[i] != NULL ? base + at[i] : NULL;
    for (size_t i = 0; i < m->nhdrs; i++)
        h->m.hdrs[i] = (struct wr_amqp_hdr){base + at[4 + 2 * i], base + at[5 + 2 * i]};
    h->m.body = base + body;
    return true;
}

static void slot_reset(struct slot *s)
{
    s->n = 0;
    s->deadline_ms = 0;
    wr_batch_enc_reset(&s->enc);
}

/* Tells the caller that s's requests did not go out. */
static void unsent(batcher *bt, struct slot *s)
{
    for (size_t i = 0; i < s->n; i++)
        bt->unsent(bt->arg, s->ids + i * ID_SIZE);
}

/* Sends what s holds: alone as v1, or as a batch. */
static void send_slot(batcher *bt, struct slot *s)
{
    if (s->n == 0)
        return;
    const char *service = s->service[0] != '\0' ? s->service : NULL;
    struct wr_err err = {0};
    int rc;
    if (s->n == 1) {
        rc = bus_publish(bt->bus, service, false, &s->first.m, &err);
    } else {
        char id[WR_REQUEST_ID_LEN + 1];
        wr_request_id_new(id);
        size_t len;
        const char *body = wr_batch_enc_finish(&s->enc, &len);
        struct wr_msg m = {.correlation_id = id,
                           .message_id = id,
                           .reply_to = WR_REPLY_TO,
                           .type = WR_MSG_TYPE_RPC_BATCH,
                           .expiration_ms = bt->cfg->request_timeout_ms,
                           .deadline_ms = s->deadline_ms,
                           .body = body,
                           .len = len};
        rc = body != NULL ? bus_publish(bt->bus, service, false, &m, &err) : WR_ENOMEM;
    }
    if (rc != 0)
        unsent(bt, s);
    else
        metrics_batch(bt->metrics, s->n);
    slot_reset(s);
}

/* Sends every slot (the bound passed, or the batcher needs a slot). */
static void send_all(batcher *bt)
{
    (void)event_del(bt->idle);
    (void)event_del(bt->bound);
    for (size_t i = 0; i < SLOTS; i++)
        send_slot(bt, &bt->slot[i]);
}

static void on_bound(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    send_all(arg);
}

/* Whether s's queue has EDGE_BATCH_WINDOW reads out besides s's own. */
static bool window_shut(const batcher *bt, const struct slot *s)
{
    long window = bt->cfg->edge_batch_window;
    return window > 0 && s->out - (long)s->n >= window;
}

/* The loop has nothing else ready: sends the slots whose window is open. */
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    batcher *bt = arg;
    bool waiting = false; /* a slot waits for its window: a reply opens it */
    for (size_t i = 0; i < SLOTS; i++) {
        struct slot *s = &bt->slot[i];
        if (s->n > 0 && window_shut(bt, s))
            waiting = true;
        else
            send_slot(bt, s);
    }
    if (!waiting)
        (void)event_del(bt->bound);
}

/* The slot of service's queue, taking a free one (sending every slot
 * first when none is free). */
static struct slot *slot_of(batcher *bt, const char *service)
{
    const char *name = service != NULL ? service : "";
    struct slot *free_slot = NULL;
    for (size_t i = 0; i < SLOTS; i++) {
        struct slot *s = &bt->slot[i];
        if (s->used && strcmp(s->service, name) == 0)
            return s;
        if (free_slot == NULL && (!s->used || (s->n == 0 && s->out == 0)))
            free_slot = s;
    }
    if (free_slot == NULL) {
        /* every slot has reads out: the first is shared with this queue
         * (its window counts both; only more than SLOTS queues at once) */
        send_all(bt);
        free_slot = &bt->slot[0];
    }
    free_slot->used = true;
    (void)snprintf(free_slot->service, sizeof(free_slot->service), "%s", name);
    slot_reset(free_slot);
    return free_slot;
}

/* Adds m to s's batch, starting it with the held first request. */
static int add_to_batch(batcher *bt, struct slot *s, const struct wr_msg *m)
{
    size_t cap = (size_t)bt->cfg->edge_batch_bytes;
    if (s->n == 1 && wr_batch_enc_add(&s->enc, &s->first.m) != 0)
        return WR_EINVAL; /* the first cannot travel in a batch: it goes alone */
    if (s->n >= (size_t)bt->cfg->edge_batch_max || s->enc.buf.len + wr_batch_item_bytes(m) > cap)
        return WR_ENOMEM;
    return wr_batch_enc_add(&s->enc, m);
}

int batcher_add(batcher *bt, const char *service, const struct wr_msg *m, int *slot)
{
    if (strlen(service != NULL ? service : "") > WR_SERVICE_NAME_MAX)
        return WR_EINVAL;
    struct slot *s = slot_of(bt, service);
    if (s->n > 0 && add_to_batch(bt, s, m) != 0) {
        /* full, or a request that cannot travel batched: what the slot
         * holds leaves now, and m starts the next */
        send_slot(bt, s);
        s = slot_of(bt, service);
    }
    if (s->n == 0 && !hold(&s->first, m))
        return WR_ENOMEM;
    (void)snprintf(s->ids + s->n * ID_SIZE, ID_SIZE, "%s", m->message_id ? m->message_id : "");
    s->n++;
    s->out++;
    *slot = (int)(s - bt->slot);
    if (m->deadline_ms > s->deadline_ms)
        s->deadline_ms = m->deadline_ms;
    if (!evtimer_pending(bt->bound, NULL)) { /* the first read to wait */
        long us = bt->cfg->edge_batch_wait_us;
        struct timeval wait = {us / 1000000, us % 1000000};
        if (event_add(bt->bound, &wait) != 0)
            wr_warn(NULL, "batcher: the wait's timer failed: a batch leaves when the loop idles");
    }
    if (!window_shut(bt, s)) /* else a reply opens the window, or the bound passes */
        event_active(bt->idle, EV_TIMEOUT, 0);
    return 0;
}

void batcher_done(batcher *bt, int slot)
{
    if (bt == NULL || slot < 0 || slot >= SLOTS)
        return;
    struct slot *s = &bt->slot[slot];
    if (s->out > 0)
        s->out--;
    if (s->n > 0 && !window_shut(bt, s))
        event_active(bt->idle, EV_TIMEOUT, 0);
}

batcher *batcher_new(struct event_base *base, const struct wr_cfg *cfg, bus *b, metrics *m,
                     batcher_unsent_fn unsent_fn, void *arg)
{
    batcher *bt = calloc(1, sizeof(*bt));
    if (bt == NULL)
        return NULL;
    *bt = (batcher){.cfg = cfg, .bus = b, .metrics = m, .unsent = unsent_fn, .arg = arg};
    bt->idle = event_new(base, -1, 0, on_idle, bt);
    bt->bound = evtimer_new(base, on_bound, bt);
    int lowest = event_base_get_npriorities(base) - 1;
    bool ok = bt->idle != NULL && bt->bound != NULL && event_priority_set(bt->idle, lowest) == 0;
    for (size_t i = 0; i < SLOTS; i++) {
        struct slot *s = &bt->slot[i];
        wr_batch_enc_init(&s->enc, false, (size_t)cfg->edge_batch_bytes + 64);
        wr_buf_init(&s->first.arena, (size_t)cfg->max_body_bytes * 2 + 65536);
        s->ids = calloc((size_t)cfg->edge_batch_max + 1, ID_SIZE);
        ok = ok && s->ids != NULL;
    }
    if (!ok) {
        batcher_free(bt);
        return NULL;
    }
    return bt;
}

void batcher_free(batcher *bt)
{
    if (bt == NULL)
        return;
    if (bt->idle != NULL)
        event_free(bt->idle);
    if (bt->bound != NULL)
        event_free(bt->bound);
    for (size_t i = 0; i < SLOTS; i++) {
        wr_batch_enc_release(&bt->slot[i].enc);
        wr_buf_release(&bt->slot[i].first.arena);
        free(bt->slot[i].ids);
    }
    free(bt);
}

bool batcher_unpack(const struct wr_msg *m, bool reply,
                    void (*fn)(void *arg, const struct wr_msg *item), void *arg)
{
    if (m->type == NULL || strcmp(m->type, WR_MSG_TYPE_RPC_BATCH) != 0)
        return false;
    struct wr_batch b;
    struct wr_err err = {0};
    /* replies: the workers checked their JSON bodies, so the edge takes
     * each by its length (wr_batch_decode_skim) */
    int rc = reply ? wr_batch_decode_skim(m->body, m->len, &b, &err)
                   : wr_batch_decode(m->body, m->len, false, &b, &err);
    if (rc != 0) {
        wr_warn(m->correlation_id, "a %s batch dropped: %s", reply ? "reply" : "returned", err.msg);
        return true;
    }
    for (size_t i = 0; i < b.n; i++)
        fn(arg, &b.items[i]);
    wr_batch_release(&b);
    return true;
}
