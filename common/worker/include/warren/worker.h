/* The worker runtime: everything a warren service's worker process does
 * besides answering its operations. A service hands wr_worker_run a const
 * table of operations and a context; the runtime connects to the broker
 * (with backoff), consumes warren.<service> (and its write queue, and the
 * edge's audit queue), drops what passed its deadline, dispatches by op,
 * publishes replies, keeps the audit trail and acknowledges a request only
 * once its audit record is durable, and drains on SIGTERM.
 *
 *     static const struct wr_op ops[] = {{.name = "records", .waits = true, .fn = records}};
 *     struct wr_service svc = {.name = "auditlog", .ops = ops, .nops = 1, .ctx = &ctx};
 *     wr_worker_global_init();
 *     int status = wr_worker_run(&cfg, &svc);
 *     wr_worker_global_cleanup();
 *
 * Threads: wr_worker_run runs the whole consume loop on the thread that
 * calls it, and calls every handler on that thread, one request at a time,
 * never two at once; the audit trail's threads never call service code. So
 * a service's context needs no locks of its own. */
#ifndef WARREN_WORKER_H
#define WARREN_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/answer.h"
#include "warren/cfg.h"
#include "warren/metrics.h"

/* One request as the runtime hands it to an operation. Every pointer is
 * borrowed: valid until the handler returns. */
struct wr_call {
    const char *id;        /* the request id (message_id): 32 lower-case hex, checked */
    const char *op;        /* the table entry's name; for the fallback, the message's
                              AMQP type as sent, or NULL when it had none */
    const char *principal; /* who asked: the edge's x-principal, or without one the
                              AMQP user_id (the publishing broker user), when it is 1
                              to 64 of [A-Za-z0-9_.-], else "anonymous" (never NULL) */
    const char *base_url;  /* x-base-url (scheme://host the client used), or NULL */
    long long deadline_ms; /* epoch ms on wr_steady_ms's clock (compare with
                              wr_steady_ms(), never wr_now_ms()) past which nobody
                              waits for the answer: x-deadline-ms, at most receipt +
                              the message's expiration (the budget it was sent with),
                              or receipt + WR_WORKER_BUDGET_MS without either;
                              always > 0, so a handler can bound its I/O by it */
    const char *body;      /* the envelope's bytes (proto/README.md section 4), not
                              NUL-terminated; the runtime never parses them */
    size_t len;
    /* The request's trace (W3C Trace Context): the caller's, or a new one
     * when it sent no valid traceparent. trace_id is 32 lower-case hex;
     * traceparent names this worker's own span, so a handler that calls
     * another service passes traceparent and tracestate ("" when none) on
     * (struct wr_request's fields of the same names). */
    const char *trace_id;
    const char *traceparent;
    const char *tracestate;
    long long min_position; /* x-min-position: answer from data at or past this
                               position (read your writes); 0 when absent or invalid */
    /* Which delivery the call came in, never 0: the requests of one proto
     * v2 batch share it, every other call has its own. Every request of a
     * delivery was sent before the worker took the delivery, so state a
     * handler reads once per delivery (the catalog: its data version, for
     * its memory cache) is as fresh as any of them can ask for. */
    unsigned long long delivery;
};

/* The budget of a request that carries no deadline (the client API always
 * sends one; other publishers may not): no statement should outlive it. */
#define WR_WORKER_BUDGET_MS 10000

/* An operation: fills out (status, body, headers; see answer.h) for call.
 * out arrives reset. Returns 0 when out holds the answer, or a negative
 * WR_E* when the operation could not answer: the runtime then answers as
 * wr_err_http(rc) says (e.g. WR_EBUSY 503, WR_EIO 500) and logs rc. An
 * answer left with status 0 is answered 500 internal. A handler must not
 * keep call's pointers past its return. */
typedef int (*wr_op_fn)(void *ctx, const struct wr_call *call, struct wr_answer *out);

/* One row of a service's op table. The replies of a burst of requests
 * leave corked (in full TCP segments); an op that writes or waits runs
 * uncorked, so the replies before it do not wait with it. */
struct wr_op {
    const char *name; /* the AMQP type that selects it: [a-z][a-z0-9_]{0,31} */
    /* It changes data: it arrives on warren.<service>.write (single active
     * consumer, so writes apply in order; the runtime consumes that queue
     * only when some op writes), and it may wait for a lock. */
    bool writes;
    bool waits; /* it may wait on I/O (another server) for a noticeable time */
    wr_op_fn fn;
};

/* What a service gives the runtime. The runtime borrows it for the length
 * of wr_worker_run. */
struct wr_service {
    /* The service: requests come from warren.<name>, writes from
     * warren.<name>.write; the broker connection and the MongoDB client
     * are named "warren-<name>". 1 to 64 bytes. */
    const char *name;
    /* Dispatched by the message's AMQP type, so the runtime never parses
     * the body: the op parses it, once. */
    const struct wr_op *ops;
    size_t nops;
    /* Answers a message whose type names no op of the table, or that has
     * none. NULL: such a message is answered 400 bad_request "unknown
     * operation" (the contract for every service but the catalog, whose
     * proto v1 envelope names its op and whose type is informational). */
    const struct wr_op *fallback;
    void *ctx; /* passed to every handler as is */
    /* The metrics the admin listener (ADMIN_PORT) serves at /metrics: a
     * registry in which the service registered its own metrics (names
     * warren_<service>_...) before wr_worker_run, and which it frees after;
     * the runtime adds its own to it. NULL: the runtime's alone. */
    wr_metrics *metrics;
    /* Serves reads only (a replica): the runtime leaves the write queue
     * to the writer even when some op writes. */
    bool reads_only;
    /* Asked before each wait for a delivery (on the runtime's thread; it
     * must be quick): false makes the runtime stop taking requests (it
     * cancels its consumers, and logs *why) until it answers true again,
     * when it consumes again. NULL: always ready. ready_arg is passed as
     * is. */
    bool (*ready)(void *ready_arg, const char **why);
    void *ready_arg;
};

/* Once per process, first thing in main and before any thread starts:
 * sets up the MongoDB driver, seeds the reconnect jitter, ignores SIGPIPE
 * and installs the SIGTERM and SIGINT handlers that ask wr_worker_run to
 * stop (a stop asked before it runs makes it return at once). */
void wr_worker_global_init(void);
/* Once per process, after wr_worker_run returned and every object of this
 * library (a wr_auditdb) is freed. */
void wr_worker_global_cleanup(void);

/* Runs the worker until SIGTERM or SIGINT, or until the audit trail fails.
 * cfg gives the broker (AMQP_URL, HEARTBEAT_S, CONNECT_TIMEOUT_MS,
 * RECONNECT_MAX_MS, PREFETCH), the audit trail (MONGO_URI, AUDIT_DB,
 * AUDIT_COLLECTION, AUDIT_SPOOL_DIR), the admin listener (ADMIN_HOST,
 * ADMIN_PORT: /livez, /readyz, /metrics on a thread of its own; 0 = none)
 * and the answer cap (16 x MAX_BODY_BYTES); both are borrowed and must not
 * be NULL. A broker that
 * is down is retried with backoff, forever. On a stop it answers what was
 * already delivered, makes the audit records durable and acknowledges
 * them, so a stopping worker returns nothing to the queue.
 * Returns the process's exit status: 0 after a requested stop; 1 when the
 * audit trail failed (what was not acknowledged goes to other workers) or
 * memory ran out; 2 when it could not start (an invalid service or op
 * table, an unusable AUDIT_SPOOL_DIR or MONGO_URI, an admin port it
 * cannot listen on), logged. */
int wr_worker_run(const struct wr_cfg *cfg, const struct wr_service *svc);

#endif
