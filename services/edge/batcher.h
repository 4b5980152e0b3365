/* Proto v2 batches on the edge (EDGE_BATCH; proto/README.md section 13):
 * the read requests a loop publishes for one queue while it is busy, or
 * while the queue has EDGE_BATCH_WINDOW reads out, leave as one message
 * (up to EDGE_BATCH_MAX requests and EDGE_BATCH_BYTES), or as the plain
 * v1 message when only one was waiting.
 * Writes never come here: they stay one per message on the write queue.
 * Replies come back batched too; batcher_unpack hands their items on one
 * by one as if each had come alone. */
#ifndef EDGE_BATCHER_H
#define EDGE_BATCHER_H

#include <event2/event.h>
#include <stdbool.h>

#include "bus.h"
#include "metrics.h"
#include "warren/amqp.h"
#include "warren/cfg.h"

typedef struct batcher batcher;

/* A request that could not be published (the bus refused the batch): the
 * caller answers it (503). */
typedef void (*batcher_unsent_fn)(void *arg, const char *id);

/* A batcher publishing on b from base's loop, counting its messages in m
 * (may be NULL). base should have three priorities or more (loops.c):
 * batches leave at the lowest, the loop's other events run at the middle
 * one, libevent's default. NULL when out of memory. */
batcher *batcher_new(struct event_base *base, const struct wr_cfg *cfg, bus *b, metrics *m,
                     batcher_unsent_fn unsent, void *arg);
/* Frees it; requests still waiting are dropped unsent (the caller answers
 * them itself). NULL-safe. */
void batcher_free(batcher *bt);

/* Queues request m (a v1 request message, message_id its request id) for
 * the queue of service (NULL: SERVICE's), in a batch with the other
 * requests queued for that queue meanwhile. The batch goes out when the
 * loop has nothing else ready, at once when full, and waits on while the
 * queue has EDGE_BATCH_WINDOW reads out besides it; never more than
 * EDGE_BATCH_WAIT_US after its first request. m's strings are copied. 0 with *slot set (hand
 * it to batcher_done when the request is done: answered, timed out,
 * unsent), or WR_ENOMEM (nothing queued). Publish failures come later,
 * through the unsent callback, one per request. */
int batcher_add(batcher *bt, const char *service, const struct wr_msg *m, int *slot);

/* A request batcher_add queued in slot is done: no longer out on its
 * queue. NULL-safe. */
void batcher_done(batcher *bt, int slot);

/* When m is a batch (its AMQP type) of replies (reply true) or of
 * returned requests, calls fn with each item as a message of its own
 * (correlation_id its request id; a reply's status, headers and body) and
 * returns true; a batch that does not decode is logged and dropped. False
 * when m is no batch. */
bool batcher_unpack(const struct wr_msg *m, bool reply,
                    void (*fn)(void *arg, const struct wr_msg *item), void *arg);

#endif
