/* The per-client limits applied to one request (ratelimit.h holds the
 * table): who the client is (its API key's name, else its connection's
 * address; X-Forwarded-For is never read, as no proxy is trusted), the
 * 429 with Retry-After when it is over a limit, and the hold a search keeps
 * on its client's place until its call ends. */
#ifndef EDGE_LIMITS_H
#define EDGE_LIMITS_H

#include <stdbool.h>

#include "call.h"
#include "ratelimit.h"
#include "respond.h"

/* Admits a's request (a->audit.principal known: after auth_check) from
 * connection, a search when search is true, against rl; false after answering
 * 429 (rate_limited, Retry-After in whole seconds), counted in a->metrics.
 * When a search was counted, spec's ended hook is set to give its place
 * back when its call ends: the caller must hand spec to calls_start, or
 * call limits_release(spec) itself. rl NULL or off: true, nothing set. */
bool limits_admit(ratelimit *rl, const struct ask *a, bool search, struct call_spec *spec);
/* Gives back what limits_admit set in spec (for a request that makes no
 * call after all). NULL-safe; clears the hook. */
void limits_release(struct call_spec *spec);

#endif
