/* Per-client limits of one edge process: a token bucket of requests per
 * second (RATE_LIMIT_RPS, RATE_LIMIT_BURST) and a cap on the searches a
 * client has in flight (SEARCH_CONCURRENCY), both per client key: its API
 * key's name when it sent one, else its IP address (an IPv6 client by its
 * /64). Memory is bounded: a fixed table of sets of a few entries each; a
 * new client evicts the least recently seen idle one of its set. */
#ifndef EDGE_RATELIMIT_H
#define EDGE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peers.h"
#include "warren/cfg.h"

typedef struct ratelimit ratelimit;

/* The clients an edge process keeps track of: about 1.5 MB. */
#define RATELIMIT_SLOTS 16384

/* A client as the table keys it: a kind byte ('k' key name, 'a' address)
 * and its bytes. */
#define RATELIMIT_KEY_MAX (1 + WR_API_KEY_NAME_MAX)
struct ratelimit_key {
    uint8_t bytes[RATELIMIT_KEY_MAX];
    uint8_t len;
};

/* The key of an API key's name (cut at WR_API_KEY_NAME_MAX bytes). */
void ratelimit_key_name(struct ratelimit_key *k, const char *name);
/* The key of a client address; IPv6 addresses by their first 64 bits (one
 * host's usual share: a client rotating through its /64 stays one client). */
void ratelimit_key_addr(struct ratelimit_key *k, const struct peer_addr *a);

/* A table for rps requests a second with a bucket of burst (0: 2 x rps)
 * and cap searches in flight per client; rps 0 and cap 0: no limits.
 * slots: entries at most (rounded up to a multiple of the set size; at
 * least one set). NULL when out of memory. */
ratelimit *ratelimit_new(long rps, long burst, long cap, size_t slots);
/* NULL-safe. */
void ratelimit_free(ratelimit *rl);
/* Whether either limit is on. NULL: false. */
bool ratelimit_on(const ratelimit *rl);

enum ratelimit_verdict {
    RATELIMIT_OK,       /* admitted (a search: counted until ratelimit_leave) */
    RATELIMIT_RATE,     /* over the rate */
    RATELIMIT_SEARCHES, /* a search over the cap of searches in flight */
};
/* Admits one request of client k at now_ms (a steady clock): takes a
 * token, and for a search a place among the client's searches in flight.
 * When refused, *retry_s is the whole seconds (at least 1) after which a
 * request would pass; nothing is counted for a refused search. A client
 * the table has no room for (every entry of its set holds searches in
 * flight) is admitted uncounted. Thread-safe. */
enum ratelimit_verdict ratelimit_admit(ratelimit *rl, const struct ratelimit_key *k, bool search,
                                       long long now_ms, long *retry_s);
/* A search of k admitted by ratelimit_admit ended. Thread-safe. */
void ratelimit_leave(ratelimit *rl, const struct ratelimit_key *k);
/* k's searches in flight (0 when the table does not hold k). Thread-safe. */
long ratelimit_searches(ratelimit *rl, const struct ratelimit_key *k);

#endif
