/* The worker runtime's loop (see warren/worker.h): start the audit trail,
 * connect and consume with backoff, take deliveries in bursts (replies
 * corked, acknowledgements held until the burst's audit records are
 * durable), reconnect when the broker goes, drain on a stop. One delivery's
 * life is dispatch.c's. Beside the loop: the admin listener (admin.c), to
 * which the loop reports how long its next step may take and whether it
 * can take requests, and the metrics (wmetrics.c). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "call.h"
#include "runtime.h"
#include "sink.h"
#include "warren/clock.h"
#include "warren/log.h"
#include "warren/proto.h"

/* Waiting for acknowledgements to become sendable: the time an fsync
 * usually takes beyond its due time, and the poll while one runs. */
enum { ACK_FSYNC_MS = 2, ACK_POLL_MS = 10 };

/* The stop flag: one of the two globals the house allows. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void wr_worker_global_init(void)
{
    /* Flawfinder: ignore - random() only jitters reconnect backoffs, no secret */
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    wr_sink_global_init();
    (void)signal(SIGINT, on_signal);
    (void)signal(SIGTERM, on_signal);
    (void)signal(SIGPIPE, SIG_IGN);
}

void wr_worker_global_cleanup(void)
{
    wr_sink_global_cleanup();
}

/* Whether the worker can take requests now (and why not): the service
 * says it is ready, and the audit spool is not full (pace). */
static bool service_ready(struct wr__worker *w, const char **why)
{
    *why = "";
    bool ready = w->svc->ready == NULL || w->svc->ready(w->svc->ready_arg, why);
    wr__health_unready(&w->health, WR__UNREADY_SERVICE, !ready);
    if (ready && w->paused)
        *why = "the audit spool is full";
    return ready && !w->paused;
}

/* Starts the consumers of the queues the service's workers share: its
 * queue and the edge's audit records (spooled like the worker's own),
 * with this worker's priority. */
static int consume_shared(struct wr__worker *w, struct wr_err *err)
{
    unsigned prefetch = (unsigned)w->cfg->prefetch;
    long long priority = wr__share_priority(&w->share);
    int rc = wr_amqp_consume_ranked(w->amqp, w->queue, prefetch, priority, err);
    if (rc == 0)
        rc = wr_amqp_consume_ranked(w->amqp, WR_AUDIT_QUEUE, prefetch, priority, err);
    return rc;
}

/* Starts the consumers: the shared queues, and the write queue. */
static int consume(struct wr__worker *w, struct wr_err *err)
{
    wr__share_started(&w->share, wr_thread_cpu_us());
    int rc = consume_shared(w, err);
    /* Every worker of a service that writes consumes the write queue;
     * single-active-consumer lets one of them at a time take its
     * messages, in order. */
    if (rc == 0 && w->write_queue[0] != '\0')
        rc = wr_amqp_consume(w->amqp, w->write_queue, false, (unsigned)w->cfg->prefetch, err);
    w->consuming = rc == 0;
    return rc;
}

/* Tells share.c that a burst ended, or a wait ran out (more false), and
 * whether input waits already; when it changed the priority, consumes the
 * shared queues again with it (not the write queue, whose one consumer at
 * a time keeps the writes' order). What was delivered before is still
 * answered. Nothing while the consumers are off: consume() starts them with
 * the priority of the day. */
static int share_check(struct wr__worker *w, bool more, struct wr_err *err)
{
    if (!wr__share_on(&w->share) ||
        !wr__share_check(&w->share, more, wr_thread_cpu_us(), wr_steady_ms()) || !w->consuming)
        return 0;
    if (w->share.yielded)
        wr_series_add(w->metrics.yields, 1);
    int rc = wr_amqp_cancel_queue(w->amqp, w->queue, err);
    if (rc == 0)
        rc = wr_amqp_cancel_queue(w->amqp, WR_AUDIT_QUEUE, err);
    return rc == 0 ? consume_shared(w, err) : rc;
}

/* Follows the service's readiness: cancels the consumers when it stops
 * being ready, consumes again when it is. 0 or the broker's error. */
static int follow_ready(struct wr__worker *w, struct wr_err *err)
{
    const char *why = "";
    bool ready = service_ready(w, &why);
    if (ready == w->consuming)
        return 0;
    if (ready) {
        wr_info(NULL, "ready again: consuming %s", w->queue);
        return consume(w, err);
    }
    wr_warn(NULL, "not taking requests: %s", why);
    w->consuming = false;
    return wr_amqp_cancel(w->amqp, err);
}

/* Connects, declares the topology and starts consuming (when the service
 * is ready), retrying with exponential backoff and jitter until it works
 * or a stop is requested. */
static void connect_broker(struct wr__worker *w)
{
    long backoff = 100;
    while (!stop_requested) {
        struct wr_err err = {0};
        /* a dozen broker round trips, each bounded by the connect timeout */
        wr__health_alive(&w->health, w->cfg->connect_timeout_ms * 16);
        const char *why = "";
        w->consuming = false;
        int rc = wr_amqp_connect(w->amqp, &err);
        if (rc == 0)
            rc = wr_amqp_declare_service(w->amqp, w->svc->name, &err);
        if (rc == 0 && service_ready(w, &why))
            rc = consume(w, &err);
        else if (rc == 0)
            wr_warn(NULL, "connected, not taking requests: %s", why);
        if (rc == 0) {
            /* the queue last: scripts wait for a line ending "consuming <queue>" */
            wr_info(NULL, "connected to the broker at %s, consuming %s", wr_amqp_node(w->amqp),
                    w->queue);
            w->last_tag = w->acked_tag = 0; /* tags count per channel */
            wr__wmetrics_connected(&w->metrics, true);
            wr__health_unready(&w->health, WR__UNREADY_BROKER, false);
            return;
        }
        wr_amqp_close(w->amqp);
        /* Flawfinder: ignore - random() only jitters the backoff, no secret */
        long jitter = (long)((unsigned long)random() % (unsigned long)(backoff / 2 + 1));
        long sleep_ms = backoff / 2 + jitter;
        wr_warn(NULL, "broker unavailable, retrying in %ld ms: %s", sleep_ms, err.msg);
        struct timespec ts = {.tv_sec = sleep_ms / 1000, .tv_nsec = (sleep_ms % 1000) * 1000000L};
        wr__health_alive(&w->health, sleep_ms);
        (void)nanosleep(&ts, NULL);
        long cap = w->cfg->reconnect_max_ms;
        backoff = backoff * 2 > cap ? cap : backoff * 2;
    }
}

/* Deliveries taken and not yet acknowledged, for the metrics. */
static void count_unacked(struct wr__worker *w)
{
    wr_series_set(w->metrics.unacked, (int64_t)(w->last_tag - w->acked_tag));
}

/* Whether half of PREFETCH waits for its acknowledgement: the broker
 * delivers no more at PREFETCH, so the group commit must not wait for more
 * records (with 256 and 50 ms, a worker would otherwise top out at about
 * 5,000 unbatched requests a second). */
static bool prefetch_filling(const struct wr__worker *w)
{
    return w->last_tag - w->acked_tag >= (uint64_t)w->cfg->prefetch / 2;
}

/* How long the loop may wait for a delivery while acknowledgements wait
 * for the disk: until the syncer's next commit is due and a little more
 * for its fsync, or, while it commits, a few ms at a time (under load a
 * delivery comes first and sends them). Not sooner than a few ms:
 * rabbitmq-c spins through a timeout's last millisecond. Waking every few
 * ms instead cost eight workers on two cores 1.3-1.7x the context
 * switches a request (README "Adding workers"). */
static long ack_wait_ms(struct wr__worker *w)
{
    long due = wr_audit_sync_due_ms(w->audit);
    return due > 0 ? due + ACK_FSYNC_MS : ACK_POLL_MS;
}

/* Acknowledges what the audit trail has made durable. */
static int ack_durable(struct wr__worker *w, struct wr_err *err)
{
    uint64_t tag = wr_acks_take(&w->acks, wr_audit_durable(w->audit));
    if (tag == 0)
        return 0;
    int rc = wr_amqp_ack(w->amqp, tag, true, err);
    if (rc == 0) {
        w->acked_tag = tag;
        count_unacked(w);
    }
    return rc;
}

/* Follows the audit spool: w->paused while it is full (its bound, or a
 * full disk holding records in memory), and follow_ready then stops
 * taking requests until it has room: requests wait in the queue, and
 * what was already delivered is still answered and recorded. Writes held
 * records as room comes; an error there stops the worker (w->fatal). */
static void pace(struct wr__worker *w)
{
    struct wr_err aerr = {0};
    if (wr_audit_retry(w->audit, &aerr) != 0) {
        wr_error(NULL, "stopping: %s", aerr.msg);
        w->fatal = true;
        return;
    }
    bool full = wr_audit_should_pause(w->audit, w->paused);
    if (full == w->paused)
        return;
    w->paused = full;
    wr__health_unready(&w->health, WR__UNREADY_SPOOL_FULL, full);
    struct wr_audit_stats st;
    wr_audit_get_stats(w->audit, &st);
    if (full)
        wr_warn(NULL,
                "audit spool full (%zu bytes to ship, %zu records wait for disk room): not taking "
                "requests",
                st.backlog, st.held);
    else
        wr_info(NULL, "audit spool has room again (%zu bytes to ship): taking requests",
                st.backlog);
}

/* A graceful stop: cancel the consumer, answer what was already delivered,
 * make its audit records durable and acknowledge it all, so a stopping
 * worker returns nothing to the queue (and spends none of a request's
 * delivery limit). */
static void drain(struct wr__worker *w)
{
    wr__health_unready(&w->health, WR__UNREADY_STOPPING, true);
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
        if (ev == WR_AMQP_DELIVERY && wr__dispatch(w, &m, &last_rec, &err) == 0) {
            last_tag = m.delivery_tag;
            answered++;
        }
    }
    if (last_tag != 0)
        wr_acks_push(&w->acks, last_tag, last_rec);
    if (w->fatal || wr_audit_failed(w->audit) != 0 || wr_audit_sync(w->audit, &err) != 0 ||
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
static void run(struct wr__worker *w)
{
    connect_broker(w);
    uint64_t last_tag = 0;
    unsigned long long last_rec = 0;
    bool burst = false;
    while (!stop_requested && !w->fatal) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        struct wr_err err = {0};
        long wait_ms = !wr_acks_empty(&w->acks) ? ack_wait_ms(w) : w->paused ? 100 : 1000;
        wr__health_alive(&w->health, wait_ms);
        if (!burst)
            pace(w);
        if (w->fatal)
            break; /* held records could not be written: acknowledge nothing more */
        int rc = burst ? 0 : follow_ready(w, &err);
        if (rc == 0)
            rc = wr_amqp_poll(w->amqp, wait_ms, &ev, &m, &err);
        if (rc == 0 && ev == WR_AMQP_DELIVERY) {
            if (!burst)
                wr_amqp_cork(w->amqp, true);
            burst = true;
            rc = wr__dispatch(w, &m, &last_rec, &err);
            last_tag = m.delivery_tag;
            w->last_tag = m.delivery_tag;
            count_unacked(w);
        }
        if (w->fatal)
            break; /* an audit record failed: acknowledge nothing more */
        if (rc == 0 && burst && !wr_amqp_has_buffered(w->amqp)) {
            wr_amqp_cork(w->amqp, false);
            wr_acks_push(&w->acks, last_tag, last_rec);
            wr_audit_sync_soon(w->audit, prefetch_filling(w));
            burst = false;
            /* one poll(2), only when workers rank at all */
            rc = share_check(w, wr__share_on(&w->share) && wr_amqp_readable(w->amqp), &err);
        } else if (rc == 0 && !burst && ev == WR_AMQP_NONE) {
            rc = share_check(w, false, &err);
        }
        if (rc == 0)
            rc = ack_durable(w, &err);
        if (wr_audit_failed(w->audit) != 0)
            w->fatal = true;
        if (rc != 0) {
            /* Unacked deliveries go back to the queue with the connection. */
            wr_warn(NULL, "broker connection lost: %s", err.msg);
            wr__health_unready(&w->health, WR__UNREADY_BROKER, true);
            wr__wmetrics_connected(&w->metrics, false);
            wr_acks_clear(&w->acks);
            w->last_tag = w->acked_tag = 0;
            count_unacked(w);
            burst = false;
            wr_amqp_close(w->amqp);
            connect_broker(w);
        }
    }
    if (w->fatal)
        wr__health_unready(&w->health, WR__UNREADY_AUDIT, true);
    if (!w->fatal && wr_amqp_is_open(w->amqp)) {
        if (burst)
            wr_acks_push(&w->acks, last_tag, last_rec);
        drain(w);
    }
}

/* Names the process and its queues, and starts the audit trail. 0, or the
 * exit status when it cannot start. */
static int start(struct wr__worker *w)
{
    const struct wr_cfg *cfg = w->cfg;
    const char *svc = w->svc->name;
    char host[256] = "unknown";
    (void)gethostname(host, sizeof(host) - 1);
    (void)snprintf(w->name, sizeof(w->name), "%s:%ld", host, (long)getpid());
    (void)snprintf(w->program, sizeof(w->program), "warren-%s", svc);
    (void)snprintf(w->queue, sizeof(w->queue), WR_QUEUE_PREFIX "%s", svc);
    if (wr__service_writes(w->svc) && !w->svc->reads_only)
        (void)snprintf(w->write_queue, sizeof(w->write_queue),
                       WR_QUEUE_PREFIX "%s" WR_QUEUE_WRITE_SUFFIX, svc);
    struct wr_audit_opts o = {.mongo_uri = cfg->mongo_uri,
                              .db = cfg->audit_db,
                              .collection = cfg->audit_collection,
                              .spool_dir = cfg->audit_spool_dir,
                              .worker = w->name,
                              .appname = w->program,
                              .max_bytes = (size_t)cfg->audit_spool_max_bytes,
                              .keep_bytes = (size_t)cfg->audit_spool_keep_bytes,
                              .sync_ms = cfg->audit_sync_ms};
    struct wr_err err = {0};
    w->audit = wr_audit_new(&o, &err);
    if (w->audit == NULL) {
        wr_error(NULL, "cannot start the audit trail: %s", err.msg);
        return 2;
    }
    if (wr__wmetrics_init(&w->metrics, w->svc->metrics) != 0)
        return 1;
    wr__wmetrics_watch_audit(&w->metrics, w->audit);
    wr__health_init(&w->health);
    if (cfg->admin_port > 0) {
        w->admin =
            wr__admin_start(cfg->admin_host, cfg->admin_port, &w->health, w->metrics.reg, &err);
        if (w->admin == NULL) {
            wr_error(NULL, "cannot start the admin listener: %s", err.msg);
            return 2;
        }
    }
    wr__share_init(&w->share, cfg->yield_after_ms, wr_now_us());
    if (!wr_acks_init(&w->acks, (size_t)cfg->prefetch + 1))
        return 1;
    struct wr_amqp_opts ao = wr_amqp_opts_from_cfg(cfg, w->program);
    w->amqp = wr_amqp_new(&ao);
    return w->amqp != NULL ? 0 : 1;
}

static void stop(struct wr__worker *w)
{
    wr__admin_stop(w->admin); /* first: its thread reads the audit trail's figures */
    w->admin = NULL;
    if (w->audit != NULL) {
        struct wr_audit_stats st;
        wr_audit_get_stats(w->audit, &st);
        wr_info(NULL,
                "audit: %lld recorded, %lld shipped, %lld duplicates, %lld kept in .dead, %lld "
                "bytes discarded, %zu bytes spooled",
                st.recorded, st.shipped, st.duplicates, st.dead, st.discarded_bytes, st.backlog);
    }
    wr_audit_free(w->audit);
    wr__wmetrics_release(&w->metrics);
    wr_acks_release(&w->acks);
    wr_amqp_free(w->amqp);
    wr_answer_release(&w->reply);
    wr__batch_release(w);
}

int wr_worker_run(const struct wr_cfg *cfg, const struct wr_service *svc)
{
    struct wr_err err = {0};
    if (wr__service_check(svc, &err) != 0) {
        wr_error(NULL, "cannot run: %s", err.msg);
        return 2;
    }
    struct wr__worker w = {.cfg = cfg, .svc = svc};
    wr_answer_init(&w.reply, (size_t)cfg->max_body_bytes * 16);
    int rc = wr__batch_init(&w) ? start(&w) : 1;
    if (rc == 0)
        run(&w);
    wr_info(NULL, "stopping after %lld requests", w.served);
    stop(&w);
    return rc != 0 ? rc : (w.fatal ? 1 : 0);
}
