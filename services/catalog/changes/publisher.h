/* The writer's publisher: a thread of its own, with its own broker
 * connection and its own connection to the writer's file, that sends each
 * outbox entry (store.h, "Change log") to the durable stream
 * warren.<service>.changes, then its change events (changes/events.h) to
 * the exchange warren.events, in position order and with publisher
 * confirms, and marks it published once the broker confirmed all of them.
 * After a crash or a lost connection it sends again, in order, every
 * entry not marked: a position (or an event) can arrive twice, never out
 * of the writer's order nor not at all; readers skip what they have. */
#ifndef CATALOG_PUBLISHER_H
#define CATALOG_PUBLISHER_H

#include "warren/cfg.h"
#include "warren/err.h"

typedef struct publisher publisher;

/* Starts the thread: it publishes what the outbox holds unpublished, then
 * each new entry as publisher_kick announces it. cfg gives DATABASE_URI,
 * SERVICE, AMQP_URL, HEARTBEAT_S, CONNECT_TIMEOUT_MS, RECONNECT_MAX_MS and
 * the stream's retention (CHANGES_MAX_BYTES, CHANGES_MAX_AGE); it is
 * borrowed until publisher_stop. A broker that is down is retried with
 * backoff. NULL with err when the file or the thread cannot be had. */
publisher *publisher_start(const struct wr_cfg *cfg, struct wr_err *err);
/* Announces a commit at position (a store_commit_fn; any thread). */
void publisher_kick(void *p, long long position);
/* Publishes what it can within a few seconds, stops the thread and frees
 * the publisher. NULL-safe. */
void publisher_stop(publisher *p);
/* The newest position the broker confirmed (0: none yet). Any thread. */
long long publisher_confirmed(publisher *p);

#endif
