/* The catalog worker: serves every table of a SQLite database as a
 * collection, answering RPC requests from its queue. main() is the table of
 * contents: config, logging, database and schema, broker, loop, teardown. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cached.h"
#include "handlers.h"
#include "plan.h"
#include "schema.h"
#include "store.h"
#include "warren/amqp.h"
#include "warren/cfg.h"
#include "warren/log.h"
#include "warren/rpc.h"

/* The stop flag: one of the two globals the house allows. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct worker {
    struct wr_cfg cfg;
    store *store;
    schema *schema;
    plan *plan;
    wr_amqp *amqp;
    struct handler_env env;
    cache *cache;
    cached *cached;
    struct reply reply;
    char queue[160];
    long long served;
};

static int open_database(struct worker *w)
{
    struct wr_err err = {0};
    const struct schema_table_def *tables = NULL;
    size_t n = 0;
    w->store = store_open(w->cfg.database_uri, &err);
    if (w->store == NULL || store_introspect(w->store, &tables, &n, &err) != 0) {
        wr_error(NULL, "cannot open the database: %s", err.msg);
        return 2;
    }
    w->schema = schema_build(tables, n, &w->cfg, &err);
    if (w->schema == NULL) {
        wr_error(NULL, "cannot serve the database: %s", err.msg);
        return 2;
    }
    w->plan = plan_new(w->schema);
    if (w->plan == NULL)
        return 1;
    w->env = (struct handler_env){.schema = w->schema,
                                  .plan = w->plan,
                                  .store = w->store,
                                  .default_per_page = w->cfg.results_per_page,
                                  .max_per_page = w->cfg.max_results_per_page};
    wr_info(NULL, "serving %zu collections", schema_count(w->schema));
    return 0;
}

/* Connects, declares the topology and starts consuming, retrying with
 * exponential backoff and jitter until it works or a stop is requested. */
static void connect_broker(struct worker *w)
{
    long backoff = 100;
    while (!stop_requested) {
        struct wr_err err = {0};
        int rc = wr_amqp_connect(w->amqp, &err);
        if (rc == 0)
            rc = wr_amqp_declare_service(w->amqp, w->cfg.service, &err);
        if (rc == 0)
            rc = wr_amqp_consume(w->amqp, w->queue, false, (unsigned)w->cfg.prefetch, &err);
        if (rc == 0) {
            wr_info(NULL, "consuming %s", w->queue);
            return;
        }
        wr_amqp_close(w->amqp);
        long sleep_ms = backoff / 2 + (long)((unsigned long)random() % (unsigned long)(backoff / 2 + 1));
        wr_warn(NULL, "broker unavailable, retrying in %ld ms: %s", sleep_ms, err.msg);
        struct timespec ts = {.tv_sec = sleep_ms / 1000, .tv_nsec = (sleep_ms % 1000) * 1000000L};
        (void)nanosleep(&ts, NULL);
        backoff = backoff * 2 > w->cfg.reconnect_max_ms ? w->cfg.reconnect_max_ms : backoff * 2;
    }
}

static const char *header(const struct wr_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nhdrs; i++)
        if (strcmp(m->hdrs[i].name, name) == 0)
            return m->hdrs[i].value;
    return NULL;
}

/* Answers one delivery into w->reply. Returns false when no reply is due:
 * the requester's deadline has passed, so it already answered 504. */
static bool answer(struct worker *w, const struct wr_msg *m)
{
    if (m->deadline_ms > 0 && wr_now_ms() > m->deadline_ms) {
        wr_debug(m->message_id, "deadline passed while queued; dropped");
        return false;
    }
    struct wr_request req;
    struct wr_err err = {0};
    int rc = wr_request_decode(&req, m->body, m->len, &err);
    if (rc != 0) {
        reply_error(&w->reply, 400,
                    rc == WR_EPROTO ? WR_CODE_UNSUPPORTED_VERSION : WR_CODE_BAD_REQUEST, err.msg);
        return true;
    }
    if (m->message_id != NULL)
        (void)snprintf(req.id, sizeof(req.id), "%s", m->message_id);
    cached_answer(w->cached, &w->env, &req, header(m, WR_HDR_BASE_URL), &w->reply);
    wr_request_release(&req);
    return true;
}

/* Publishes the reply to one delivery (none when its deadline passed). */
static int reply(struct worker *w, const struct wr_msg *m, struct wr_err *err)
{
    w->served++;
    if (!answer(w, m) || m->reply_to == NULL)
        return 0;
    struct wr_msg out = {.correlation_id = m->correlation_id,
                         .expiration_ms = -1,
                         .status = w->reply.status,
                         .body = w->reply.body.data,
                         .len = w->reply.body.len};
    if (w->reply.link.len > 0)
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_LINK, w->reply.link.data};
    if (w->reply.cache != CACHE_OFF)
        out.hdrs[out.nhdrs++] =
            (struct wr_amqp_hdr){WR_HDR_CACHE, cache_outcome_name(w->reply.cache)};
    return wr_amqp_publish(w->amqp, m->reply_to, &out, false, err);
}

/* Replies, then acks: a crash between the two redelivers the request, so a
 * request is answered at least once and never lost. Acks are sent for a
 * whole burst at once (multiple) when no further delivery is buffered, which
 * spares the broker a frame per request under load. */
static void run(struct worker *w)
{
    connect_broker(w);
    uint64_t unacked = 0;
    while (!stop_requested) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        struct wr_err err = {0};
        int rc = wr_amqp_poll(w->amqp, 1000, &ev, &m, &err);
        if (rc == 0 && ev == WR_AMQP_DELIVERY) {
            if (unacked == 0)
                wr_amqp_cork(w->amqp, true);
            rc = reply(w, &m, &err);
            unacked = rc == 0 ? m.delivery_tag : unacked;
        }
        if (rc == 0 && unacked != 0 && !wr_amqp_has_buffered(w->amqp)) {
            rc = wr_amqp_ack(w->amqp, unacked, true, &err);
            wr_amqp_cork(w->amqp, false);
            unacked = 0;
        }
        if (rc != 0) {
            /* Unacked deliveries go back to the queue with the connection. */
            wr_warn(NULL, "broker connection lost: %s", err.msg);
            unacked = 0;
            wr_amqp_close(w->amqp);
            connect_broker(w);
        }
    }
    struct wr_err err = {0};
    if (unacked != 0)
        (void)wr_amqp_ack(w->amqp, unacked, true, &err);
}

static void teardown(struct worker *w)
{
    if (w->cache != NULL) {
        const struct cache_stats *st = cache_stats(w->cache);
        wr_info(NULL, "cache: %lld hits, %lld misses, %lld bypasses, %lld waits, %lld errors",
                st->hits, st->misses, st->bypasses, st->waits, st->errors);
    }
    cached_free(w->cached);
    cache_free(w->cache);
    wr_amqp_free(w->amqp);
    reply_release(&w->reply);
    plan_free(w->plan);
    schema_free(w->schema);
    store_free(w->store);
    wr_cfg_release(&w->cfg);
}

int main(int argc, char **argv)
{
    struct worker w = {0};
    int rc = wr_cfg_from_args(&w.cfg, argc, argv);
    if (rc != 0)
        return rc;
    enum wr_log_level level = WR_LOG_INFO;
    (void)wr_log_level_parse(w.cfg.log_level, &level);
    wr_log_init("catalog", level);
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    reply_init(&w.reply, (size_t)w.cfg.max_body_bytes * 16);
    (void)snprintf(w.queue, sizeof(w.queue), WR_QUEUE_PREFIX "%s", w.cfg.service);
    struct wr_amqp_opts ao = {.url = w.cfg.amqp_url,
                              .heartbeat_s = w.cfg.heartbeat_s,
                              .connect_timeout_ms = w.cfg.connect_timeout_ms,
                              .name = "warren-catalog"};
    rc = open_database(&w);
    struct cache_opts co = {.url = w.cfg.redis_url,
                            .timeout_ms = w.cfg.redis_timeout_ms,
                            .ttl_s = w.cfg.cache_ttl_s,
                            .wait_ms = 50};
    struct reqkey_opts ko = {.service = w.cfg.service,
                             .default_per_page = w.cfg.results_per_page,
                             .max_per_page = w.cfg.max_results_per_page};
    w.cache = rc == 0 ? cache_new(&co) : NULL;
    w.cached = w.cache ? cached_new(w.cache, &ko) : NULL;
    if (rc == 0 && w.cached == NULL)
        rc = 1;
    if (rc == 0) {
        w.amqp = wr_amqp_new(&ao);
        rc = w.amqp ? 0 : 1;
    }
    if (rc == 0)
        run(&w);
    wr_info(NULL, "stopping after %lld requests", w.served);
    teardown(&w);
    return rc;
}
