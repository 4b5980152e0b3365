/* The worker's admin listener (ADMIN_HOST:ADMIN_PORT): /livez, /readyz and
 * /metrics over plain HTTP/1.1, one short request per connection, answered
 * by a thread of its own (admin_listen.c) from what admin.c computes. Why
 * a thread rather than a socket polled between deliveries: the loop can be
 * away for long (a statement up to its deadline, a broker connect with its
 * timeout, a reconnect's backoff), and a probe must be answered meanwhile,
 * and truthfully (livez must say "stuck" when the loop is). The thread
 * never touches the loop's state: it reads struct wr__health (atomics the
 * loop stamps) and the metrics registry (atomics too), so nothing the loop
 * does waits for it. */
#ifndef WARREN_WORKER_ADMIN_H
#define WARREN_WORKER_ADMIN_H

#include <stdatomic.h>
#include <stdbool.h>

#include "warren/err.h"
#include "warren/metrics.h"

/* Why a worker is not ready: bits of struct wr__health.unready. */
#define WR__UNREADY_BROKER 1u     /* not connected and consuming */
#define WR__UNREADY_AUDIT 2u      /* the audit trail failed: the worker stops */
#define WR__UNREADY_STOPPING 4u   /* draining after SIGTERM */
#define WR__UNREADY_SPOOL_FULL 8u /* consuming paused: the audit spool is full */
#define WR__UNREADY_SERVICE 16u   /* the service says so (a replica behind or stopped) */

/* What the loop tells the admin thread. */
struct wr__health {
    /* CLOCK_MONOTONIC ms until which the loop is known to be turning: it
     * stamps it before each step that may take long, with that step's
     * bound (wr__health_alive). */
    _Atomic long long alive_until_ms;
    _Atomic unsigned unready; /* WR__UNREADY_* bits; 0 when ready */
};

/* Grace on top of every bound the loop announces. */
#define WR__LIVEZ_GRACE_MS 5000

/* Starts out alive for WR__LIVEZ_GRACE_MS and not ready (broker). */
void wr__health_init(struct wr__health *h);
/* The loop will be back within ms (plus the grace). */
void wr__health_alive(struct wr__health *h, long long ms);
/* Sets or clears one WR__UNREADY_* bit. */
void wr__health_unready(struct wr__health *h, unsigned bit, bool on);

typedef struct wr__admin wr__admin;

/* Listens on host:port and starts the thread that answers; health and
 * metrics are borrowed and must outlive wr__admin_stop. NULL with err
 * when it cannot listen (the port taken, a bad address) or start. */
wr__admin *wr__admin_start(const char *host, long port, struct wr__health *health,
                           wr_metrics *metrics, struct wr_err *err);
/* Stops the thread and closes the socket. NULL-safe. */
void wr__admin_stop(wr__admin *a);
/* The port it listens on (the kernel's pick when started with port 0). */
int wr__admin_port(const wr__admin *a);

/* The answer to one request line's method and target (pure, for tests):
 * fills *status and appends the body to body, and sets *content_type. */
void wr__admin_answer(struct wr__health *health, wr_metrics *metrics, const char *method,
                      const char *target, int *status, const char **content_type,
                      struct wr_buf *body);

/* The largest answer wr__admin_reply writes: /metrics (8 MiB) and its head. */
#define WR__ADMIN_REPLY_MAX ((8u << 20) + 1024)

/* The whole answer, status line to body, to one request head (NUL-ended,
 * its end of head included), appended to out; out's cap should be
 * WR__ADMIN_REPLY_MAX (past it, wr_buf_error(out) says so). A head that is
 * not "METHOD target HTTP/1.x" gets a 400. Pure, for tests. */
void wr__admin_reply(struct wr__health *health, wr_metrics *metrics, const char *head,
                     struct wr_buf *out);

#endif
