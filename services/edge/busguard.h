/* A deadline on the edge loop's calls into rabbitmq-c, which has none for
 * writing: after a partial write past the heartbeat, rabbitmq-c 0.11 waits
 * for the broker to send something with no timeout at all, so a node that
 * stops reading (frozen, or cut off without a reset) would hold the loop,
 * and every request deadline on it, until it reads again. A thread of the
 * guard's own shuts the socket down when one call has lasted too long: the
 * call then fails at once and the bus reconnects to another node. */
#ifndef EDGE_BUSGUARD_H
#define EDGE_BUSGUARD_H

#include <stdbool.h>

typedef struct busguard busguard;

/* Starts the guard's thread; a call is cut after stall_ms (it looks about
 * four times as often). NULL when out of memory or out of threads. */
busguard *busguard_new(long stall_ms);
/* Stops the thread and frees the guard. NULL-safe. No call may be inside. */
void busguard_free(busguard *g);

/* Around each call that may write to or wait on the socket fd (called on
 * the loop's thread only): enter before it; leave after it, which returns
 * true when the guard shut fd down during the call (the call then failed
 * because of it, and the caller owes a reconnect, as for any failure). The
 * guard touches fd only between enter and leave, so fd may be closed after
 * leave. */
void busguard_enter(busguard *g, int fd);
bool busguard_leave(busguard *g);

#endif
