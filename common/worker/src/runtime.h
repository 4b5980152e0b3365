/* The worker runtime's state and the functions its files share (see
 * warren/worker.h for what it does): worker.c runs the loop, connects and
 * drains; dispatch.c answers one delivery. Internal: services never see it. */
#ifndef WARREN_WORKER_RUNTIME_H
#define WARREN_WORKER_RUNTIME_H

#include <stdbool.h>

#include "acks.h"
#include "admin.h"
#include "audit.h"
#include "share.h"
#include "wmetrics.h"
#include "warren/amqp.h"
#include "warren/answer.h"
#include "warren/cfg.h"
#include "warren/rpc_batch.h"
#include "warren/worker.h"

struct wr__worker {
    const struct wr_cfg *cfg;
    const struct wr_service *svc;
    wr_amqp *amqp;
    wr_audit *audit;
    struct wr_acks acks;
    struct wr_answer reply;   /* the answer being built; reset per request */
    bool fatal;               /* the audit trail failed: stop without acknowledging */
    bool paused;              /* the audit spool is full: not consuming (worker.c, pace) */
    char name[300];           /* host:pid, in audit records */
    char program[80];         /* warren-<service>: the connection's and client's name */
    char queue[80];           /* warren.<service> */
    char write_queue[96];     /* warren.<service>.write, or "" when no op writes */
    long long served;         /* requests taken, audit documents aside */
    bool consuming;           /* its consumers run (false while the service is not ready) */
    struct wr__share share;   /* its consumer priority, and whether it stepped out */
    struct wr__health health; /* what the admin listener reports */
    wr__admin *admin;         /* NULL without ADMIN_PORT */
    struct wr__wmetrics metrics;
    uint64_t last_tag;  /* the newest delivery tag taken, and acknowledged, on */
    uint64_t acked_tag; /* this connection: their difference is in flight */
    /* proto v2 batches (batch.c): while collect is set, dispatch.c adds
     * replies to batch_replies instead of publishing them; splitter is
     * the confirming connection a redelivered batch is split on */
    bool collect;
    struct wr_batch_enc batch_replies;
    wr_amqp *splitter;
    uint64_t split_seq;          /* its publishes so far (confirm numbers) */
    unsigned long long delivery; /* deliveries taken: a batch's items share one */
};

/* Answers one delivery, publishes its reply (none when its deadline
 * passed) and spools its audit record; a delivery from warren.audit is
 * spooled as it is. *recno gets the record's number, or UINT64_MAX when it
 * could not be spooled: then w->fatal is set (its request must stay
 * unacknowledged and go to another worker). Returns 0 or the publish's
 * error (the broker connection is gone). */
int wr__dispatch(struct wr__worker *w, const struct wr_msg *m, unsigned long long *recno,
                 struct wr_err *err);
/* Whether m is a delivery of the edge's audit records (type "audit" or
 * "audit_batch"), which no batch of requests may hold. */
bool wr__is_audit(const struct wr_msg *m);

#endif
