/* Per-client limits on one request (see limits.h): the client's key, the
 * verdict of the table, the 429, and the hold of a search in flight. */
#include "limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/clock.h"
#include "warren/proto.h"

/* A search's place among its client's searches in flight. */
struct hold {
    ratelimit *rl;
    struct ratelimit_key key;
};

static void hold_end(void *arg)
{
    struct hold *h = arg;
    ratelimit_leave(h->rl, &h->key);
    free(h);
}

bool limits_admit(ratelimit *rl, const struct ask *a, bool search, struct call_spec *spec)
{
    if (!ratelimit_on(rl))
        return true;
    struct ratelimit_key key;
    /* a client with an API key is its key: one limit wherever it connects
     * from, and apart from everyone else behind its address */
    if (strcmp(a->audit.principal, "anonymous") != 0)
        ratelimit_key_name(&key, a->audit.principal);
    else
        ratelimit_key_addr(&key, hreq_addr(a->req));
    struct hold *h = search ? malloc(sizeof(*h)) : NULL;
    long retry = 0;
    enum ratelimit_verdict v = ratelimit_admit(rl, &key, h != NULL, wr_steady_ms(), &retry);
    if (v == RATELIMIT_OK) {
        if (h != NULL) {
            *h = (struct hold){.rl = rl, .key = key};
            spec->ended = hold_end;
            spec->ended_arg = h;
        }
        return true;
    }
    free(h);
    metrics_count(a->metrics,
                  v == RATELIMIT_RATE ? METRICS_RATE_LIMITED : METRICS_SEARCHES_LIMITED);
    char secs[24];
    (void)snprintf(secs, sizeof(secs), "%ld", retry);
    respond_header(a->req, "Retry-After", secs);
    respond_error(a, 429, WR_CODE_RATE_LIMITED,
                  v == RATELIMIT_RATE
                      ? "too many requests from this client: over RATE_LIMIT_RPS; retry after "
                        "Retry-After seconds"
                      : "too many searches in flight from this client: over SEARCH_CONCURRENCY; "
                        "retry after one ends");
    return false;
}

void limits_release(struct call_spec *spec)
{
    if (spec == NULL || spec->ended == NULL)
        return;
    spec->ended(spec->ended_arg);
    spec->ended = NULL;
    spec->ended_arg = NULL;
}
