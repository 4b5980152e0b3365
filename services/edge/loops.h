/* The edge's event loops: EDGE_THREADS threads (0: one per core), each
 * running one edge (edge.h) on its own libevent base, with its own
 * listening socket on the shared port and its own broker connection. What
 * they share is struct edge_shared and the read-only config, nothing else;
 * a metrics registry sums its per-loop figures here. */
#ifndef EDGE_LOOPS_H
#define EDGE_LOOPS_H

#include "warren/cfg.h"

typedef struct loops loops;

/* Creates every loop's base and edge (not yet running); cfg must outlive
 * them. Fails, NULL (logged), when the port is taken by anyone (also by
 * another edge: the loops join a SO_REUSEPORT group only after a plain bind
 * of the port succeeded), or when an edge cannot be created. */
loops *loops_new(const struct wr_cfg *cfg);
/* The number of loops. */
long loops_count(const loops *ls);
/* Starts a thread per loop. 0, or WR_EIO when a thread cannot start (the
 * ones started are stopped and joined). A loop that ends on its own, not
 * asked to, raises SIGTERM so that the whole edge drains. */
int loops_start(loops *ls);
/* Asks every loop to drain (edge_drain); safe from any thread, repeatable. */
void loops_stop(loops *ls);
/* Waits for every started loop to end. 0, or -1 when a loop failed. */
int loops_join(loops *ls);
/* Frees the edges (answering what is still in flight) and their bases,
 * after loops_join. NULL-safe. */
void loops_free(loops *ls);

#endif
