/* A replica's applier: a thread of its own, with its own broker
 * connection and its own read-write connection to the replica's file (a
 * snapshot, store.h), that consumes the change stream from the offset the
 * file records and applies each change, in position order, in one
 * transaction with its new position; repeats are skipped. It stops for
 * good, and says why, when the file cannot follow the stream: a change
 * that does not apply cleanly (the file was changed otherwise), or a
 * position the stream no longer keeps (out of its retention). The worker
 * asks it whether to take requests (replica_ready) and waits on it for
 * read-your-writes (replica_wait). */
#ifndef CATALOG_REPLICA_H
#define CATALOG_REPLICA_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/cfg.h"
#include "warren/err.h"

typedef struct replica replica;

/* Opens cfg's DATABASE_URI as a replica's file and starts the thread.
 * cfg (SERVICE, AMQP_URL, HEARTBEAT_S, CONNECT_TIMEOUT_MS,
 * RECONNECT_MAX_MS, CHANGES_MAX_BYTES, CHANGES_MAX_AGE,
 * MAX_REPLICA_LAG_MS) is borrowed until replica_stop. NULL with err when
 * the file is no snapshot or the thread cannot start. */
replica *replica_start(const struct wr_cfg *cfg, struct wr_err *err);
/* Stops the thread (a change being applied is finished or rolled back)
 * and frees r. NULL-safe. */
void replica_stop(replica *r);

/* The position of the newest change applied. Any thread. */
long long replica_position(replica *r);
/* How far behind the writer the file is, in ms: 0 when it has applied
 * everything the stream has shown it; the age of the change it is
 * applying (or retrying); while the broker is away, the time since. */
long long replica_lag_ms(replica *r);
/* Whether the worker should take requests: false for good after a
 * divergence, and while the lag is past MAX_REPLICA_LAG_MS; *why (may be
 * NULL) then gets a static-lifetime reason ("" when ready). Any thread. */
bool replica_ready(void *r, const char **why);
/* Waits until the file is at position min or past it, or until
 * deadline_ms (epoch ms) passes. True when it is. */
bool replica_wait(replica *r, long long min, long long deadline_ms);

#endif
