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

#include "acks.h"
#include "audit.h"
#include "cache/cache.h"
#include "ops/cached.h"
#include "ops/handlers.h"
#include "sql/plan.h"
#include "model/schema.h"
#include "sink.h"
#include "store/store.h"
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
    store *writer; /* NULL unless some collection takes writes */
    schema *schema;
    plan *plan;
    wr_amqp *amqp;
    struct handler_env env;
    cache *cache;
    cached *cached;
    audit *audit;
    struct acks acks;
    bool fatal;     /* the audit trail failed: stop without acknowledging */
    char name[300]; /* host:pid, in audit records */
    struct wr_answer reply;
    char queue[160];
    char write_queue[200];
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
    bool writes = schema_writable(w->schema);
    w->writer = writes ? store_open_writer(w->cfg.database_uri, &err) : NULL;
    if (writes && w->writer == NULL)
        wr_warn(NULL, "writes are configured but the database cannot be written: %s", err.msg);
    w->env = (struct handler_env){.schema = w->schema,
                                  .plan = w->plan,
                                  .store = w->store,
                                  .writer = w->writer,
                                  .cfg = &w->cfg,
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
        /* Every worker consumes the write queue; single-active-consumer
         * lets one of them at a time take its messages, in order. */
        if (rc == 0)
            rc = wr_amqp_consume(w->amqp, w->write_queue, false, (unsigned)w->cfg.prefetch, &err);
        /* The edge's audit records, spooled like the worker's own. */
        if (rc == 0)
            rc = wr_amqp_consume(w->amqp, WR_AUDIT_QUEUE, false, (unsigned)w->cfg.prefetch, &err);
        if (rc == 0) {
            wr_info(NULL, "consuming %s", w->queue);
            return;
        }
        wr_amqp_close(w->amqp);
        /* Flawfinder: ignore - random() only jitters the backoff, no secret */
        long jitter = (long)((unsigned long)random() % (unsigned long)(backoff / 2 + 1));
        long sleep_ms = backoff / 2 + jitter;
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

/* Who asked, for the audit record: the edge's x-principal (an API key's
 * name, or "anonymous"). The worker takes it on trust: only users the
 * broker authenticated can publish to its queue. A request without one
 * (the client API) or with a malformed one is recorded as "anonymous". */
static const char *principal(const struct wr_msg *m)
{
    const char *p = header(m, WR_HDR_PRINCIPAL);
    size_t n = p != NULL ? strlen(p) : 0;
    if (n == 0 || n > 64 ||
        strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
        return "anonymous";
    return p;
}

/* Answers one delivery into w->reply and fills what the audit record says
 * of it. Returns false when no reply is due: the requester's deadline has
 * passed, so it has already answered 504. */
static bool answer(struct worker *w, const struct wr_msg *m, struct wr_request *req,
                   struct wr_audit_rec *rec)
{
    wr_answer_reset(&w->reply);
    if (m->deadline_ms > 0 && wr_now_ms() > m->deadline_ms) {
        static const char note[] = "deadline passed while queued: not executed";
        rec->error = note;
        rec->error_len = sizeof(note) - 1;
        return false;
    }
    struct wr_err err = {0};
    int rc = wr_request_decode(req, m->body, m->len, &err);
    if (rc != 0)
        wr_answer_error(&w->reply, 400, wr_err_http(rc).code, err.msg);
    else if (m->message_id == NULL || !wr_request_id_valid(m->message_id))
        /* the id makes writes idempotent and names the audit record */
        wr_answer_error(&w->reply, 400, WR_CODE_BAD_REQUEST,
                        "message_id: a request id is required");
    else {
        (void)snprintf(req->id, sizeof(req->id), "%s", m->message_id);
        /* No statement outlives the request (10 s for one without a deadline). */
        long long deadline = m->deadline_ms > 0 ? m->deadline_ms : wr_now_ms() + 10000;
        store_set_deadline(w->store, deadline);
        store_set_deadline(w->writer, deadline);
        /* One line per execution (debug only): the fault suite counts them
         * to tell a request executed twice from one recorded twice. */
        wr_debug(req->id, "executing %s %s", req->op, req->collection);
        /* A write may wait for the database lock (up to its deadline): the
         * burst's replies so far must not wait corked with it (the kernel
         * holds a corked segment up to 200 ms). The burst goes on uncorked. */
        if (wr_op_is_write(req->op))
            wr_amqp_cork(w->amqp, false);
        cached_answer(w->cached, &w->env, req, header(m, WR_HDR_BASE_URL), &w->reply);
    }
    *rec = (struct wr_audit_rec){.id = rec->id,
                                 .time_ms = rec->time_ms,
                                 .principal = rec->principal,
                                 .op = req->op,
                                 .collection = req->collection,
                                 .key = req->key,
                                 .relation = req->relation,
                                 .page = req->page,
                                 .per_page = req->results_per_page,
                                 .status = w->reply.status,
                                 .cache = w->reply.cache != NULL ? w->reply.cache : "off",
                                 .rows = w->reply.status < 400 ? w->reply.rows : -1};
    if (w->reply.status >= 400) {
        rec->error = w->reply.body.data;
        rec->error_len = w->reply.body.len > 0 ? w->reply.body.len - 1 : 0; /* no '\n' */
        rec->error_is_json = true;
    }
    return true;
}

static int publish_reply(struct worker *w, const struct wr_msg *m, struct wr_err *err)
{
    struct wr_msg out = {.correlation_id = m->correlation_id,
                         .expiration_ms = -1,
                         .status = w->reply.status,
                         .body = w->reply.body.data,
                         .len = w->reply.body.len};
    if (w->reply.link.len > 0)
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_LINK, w->reply.link.data};
    if (w->reply.location[0] != '\0')
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){"location", w->reply.location};
    if (w->reply.allow[0] != '\0')
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){"allow", w->reply.allow};
    if (w->reply.cache != NULL)
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_CACHE, w->reply.cache};
    return wr_amqp_publish(w->amqp, m->reply_to, &out, false, err);
}

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Spools an edge's audit record from warren.audit. One that is not a valid
 * document is recorded as a failed request of op "audit" instead, so that
 * every delivery is acknowledged the same way (after its record). */
static void take_audit_doc(struct worker *w, const struct wr_msg *m, unsigned long long *recno)
{
    struct wr_err err = {0};
    int rc = audit_record_doc(w->audit, m->body, m->len, recno, &err);
    if (rc == WR_EINVAL) {
        char id[WR_REQUEST_ID_LEN + 1];
        wr_request_id_new(id);
        wr_warn(id, "%s", err.msg);
        struct wr_audit_rec rec = {.id = id,
                                   .time_ms = wr_now_ms(),
                                   .op = WR_MSG_TYPE_AUDIT,
                                   .status = 400,
                                   .rows = -1,
                                   .error = err.msg,
                                   .error_len = strlen(err.msg)};
        rc = audit_record(w->audit, &rec, recno, &err);
    }
    if (rc != 0) {
        wr_error(NULL, "stopping: %s", err.msg);
        w->fatal = true;
        *recno = UINT64_MAX;
    }
}

/* Answers one delivery, publishes its reply (none when its deadline passed)
 * and spools its audit record. A record that cannot be spooled stops the
 * worker: its requests stay unacknowledged and go to another worker. */
static int reply(struct worker *w, const struct wr_msg *m, unsigned long long *recno,
                 struct wr_err *err)
{
    if (m->type != NULL && strcmp(m->type, WR_MSG_TYPE_AUDIT) == 0) {
        take_audit_doc(w, m, recno);
        return 0;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct wr_audit_rec rec = {
        .id = m->message_id, .time_ms = wr_now_ms(), .principal = principal(m)};
    struct wr_request req = {0};
    w->served++;
    int rc = 0;
    if (answer(w, m, &req, &rec) && m->reply_to != NULL)
        rc = publish_reply(w, m, err);
    rec.duration_ms = elapsed_ms(&t0);
    struct wr_err aerr = {0};
    if (audit_record(w->audit, &rec, recno, &aerr) != 0) {
        wr_error(m->message_id, "stopping: %s", aerr.msg);
        w->fatal = true;
        *recno = UINT64_MAX; /* never durable: nothing from here on is acknowledged */
    }
    wr_request_release(&req);
    return rc;
}

/* Acknowledges what the audit trail has made durable. */
static int ack_durable(struct worker *w, struct wr_err *err)
{
    uint64_t tag = acks_take(&w->acks, audit_durable(w->audit));
    return tag != 0 ? wr_amqp_ack(w->amqp, tag, true, err) : 0;
}

/* A graceful stop: cancel the consumer, answer what was already delivered,
 * make its audit records durable and acknowledge it all, so a stopping
 * worker returns nothing to the queue (and spends none of a request's
 * delivery limit). */
static void drain(struct worker *w)
{
    struct wr_err err = {0};
    int rc = wr_amqp_cancel(w->amqp, &err);
    uint64_t last_tag = 0;
    unsigned long long last_rec = 0;
    long long answered = 0;
    while (rc == 0) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        rc = wr_amqp_poll(w->amqp, 0, &ev, &m, &err);
        if (rc != 0 || ev == WR_AMQP_NONE)
            break;
        if (ev == WR_AMQP_DELIVERY && reply(w, &m, &last_rec, &err) == 0) {
            last_tag = m.delivery_tag;
            answered++;
        }
    }
    if (last_tag != 0)
        acks_push(&w->acks, last_tag, last_rec);
    if (w->fatal || audit_failed(w->audit) != 0 || audit_sync(w->audit, &err) != 0 ||
        ack_durable(w, &err) != 0)
        wr_warn(NULL, "stopping: unacknowledged requests go back to the queue: %s", err.msg);
    else
        wr_info(NULL, "stopped consuming; answered %lld already delivered", answered);
}

/* Replies, then acks: a crash between the two redelivers the request, so a
 * request is answered at least once and never lost. A burst of deliveries
 * (until none is buffered) is answered with its replies corked into full
 * TCP segments; its acknowledgement waits until the burst's audit records
 * are durable (a group commit on the audit's own thread) and then covers
 * the whole burst at once (multiple). */
static void run(struct worker *w)
{
    connect_broker(w);
    uint64_t last_tag = 0;
    unsigned long long last_rec = 0;
    bool burst = false;
    while (!stop_requested && !w->fatal) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        struct wr_err err = {0};
        /* While acknowledgements wait for the disk, come back soon to send
         * them (under load every delivery does). Not sooner than a few ms:
         * rabbitmq-c spins through a timeout's last millisecond. */
        int rc = wr_amqp_poll(w->amqp, acks_empty(&w->acks) ? 1000 : 10, &ev, &m, &err);
        if (rc == 0 && ev == WR_AMQP_DELIVERY) {
            if (!burst)
                wr_amqp_cork(w->amqp, true);
            burst = true;
            rc = reply(w, &m, &last_rec, &err);
            last_tag = m.delivery_tag;
        }
        if (w->fatal)
            break; /* an audit record failed: acknowledge nothing more */
        if (rc == 0 && burst && !wr_amqp_has_buffered(w->amqp)) {
            wr_amqp_cork(w->amqp, false);
            acks_push(&w->acks, last_tag, last_rec);
            audit_sync_soon(w->audit);
            burst = false;
        }
        if (rc == 0)
            rc = ack_durable(w, &err);
        if (audit_failed(w->audit) != 0)
            w->fatal = true;
        if (rc != 0) {
            /* Unacked deliveries go back to the queue with the connection. */
            wr_warn(NULL, "broker connection lost: %s", err.msg);
            acks_clear(&w->acks);
            burst = false;
            wr_amqp_close(w->amqp);
            connect_broker(w);
        }
    }
    if (!w->fatal && wr_amqp_is_open(w->amqp)) {
        if (burst)
            acks_push(&w->acks, last_tag, last_rec);
        drain(w);
    }
}

static int open_audit(struct worker *w)
{
    char host[256] = "unknown";
    (void)gethostname(host, sizeof(host) - 1);
    (void)snprintf(w->name, sizeof(w->name), "%s:%ld", host, (long)getpid());
    struct audit_opts o = {.mongo_uri = w->cfg.mongo_uri,
                           .db = w->cfg.audit_db,
                           .collection = w->cfg.audit_collection,
                           .spool_dir = w->cfg.audit_spool_dir,
                           .worker = w->name};
    struct wr_err err = {0};
    w->audit = audit_new(&o, &err);
    if (w->audit == NULL) {
        wr_error(NULL, "cannot start the audit trail: %s", err.msg);
        return 2;
    }
    return 0;
}

static void teardown(struct worker *w)
{
    if (w->cache != NULL) {
        const struct cache_stats *st = cache_stats(w->cache);
        wr_info(NULL, "cache: %lld hits, %lld misses, %lld bypasses, %lld waits, %lld errors",
                st->hits, st->misses, st->bypasses, st->waits, st->errors);
    }
    if (w->audit != NULL) {
        struct audit_stats st;
        audit_get_stats(w->audit, &st);
        wr_info(NULL, "audit: %lld recorded, %lld shipped, %lld duplicates, %zu bytes spooled",
                st.recorded, st.shipped, st.duplicates, st.backlog);
    }
    audit_free(w->audit);
    acks_release(&w->acks);
    sink_global_cleanup();
    cached_free(w->cached);
    cache_free(w->cache);
    wr_amqp_free(w->amqp);
    wr_answer_release(&w->reply);
    plan_free(w->plan);
    schema_free(w->schema);
    store_free(w->writer);
    store_free(w->store);
    wr_cfg_release(&w->cfg);
}

int main(int argc, char **argv)
{
    static const struct wr_cfg_prog prog = {"warren-catalog",
                                            "the catalog worker: a SQLite database as collections",
                                            WR_CFG_USE_WORKER | WR_CFG_USE_CATALOG};
    struct worker w = {0};
    int rc = 0;
    if (!wr_cfg_from_args(&w.cfg, &prog, argc, argv, &rc))
        return rc; /* --help, --version, or the problems, printed */
    enum wr_log_level level = WR_LOG_INFO;
    (void)wr_log_level_parse(w.cfg.log_level, &level);
    wr_log_init("catalog", level);
    /* Flawfinder: ignore - random() only jitters reconnect backoffs, no secret */
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    sink_global_init();
    (void)signal(SIGINT, on_signal);
    (void)signal(SIGTERM, on_signal);
    (void)signal(SIGPIPE, SIG_IGN);

    wr_answer_init(&w.reply, (size_t)w.cfg.max_body_bytes * 16);
    (void)snprintf(w.queue, sizeof(w.queue), WR_QUEUE_PREFIX "%s", w.cfg.service);
    (void)snprintf(w.write_queue, sizeof(w.write_queue), WR_QUEUE_PREFIX "%s" WR_QUEUE_WRITE_SUFFIX,
                   w.cfg.service);
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
    if (w.schema != NULL)
        reqkey_schema_tag(ko.schema_tag, w.schema);
    w.cache = rc == 0 ? cache_new(&co) : NULL;
    w.cached = w.cache ? cached_new(w.cache, &ko) : NULL;
    w.env.cache = w.cache;
    if (rc == 0 && w.cached == NULL)
        rc = 1;
    if (rc == 0)
        rc = open_audit(&w);
    if (rc == 0 && !acks_init(&w.acks, (size_t)w.cfg.prefetch + 1))
        rc = 1;
    if (rc == 0) {
        w.amqp = wr_amqp_new(&ao);
        rc = w.amqp ? 0 : 1;
    }
    if (rc == 0)
        run(&w);
    wr_info(NULL, "stopping after %lld requests", w.served);
    teardown(&w);
    return rc != 0 ? rc : (w.fatal ? 1 : 0);
}
