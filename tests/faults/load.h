/* A small non-blocking HTTP load client for the fault suite: many
 * connections in flight at once (one request each, Connection: close),
 * driven by poll(2), optionally paced to a rate so that the load spans a
 * fault. Every outcome goes into the checker: when each call was sent and
 * answered, its status, whether a second response followed, whether the
 * answer carried the call's own X-Request-Id. */
#ifndef TESTS_FAULTS_LOAD_H
#define TESTS_FAULTS_LOAD_H

#include <stddef.h>

#include "checker.h"

struct load_req {
    const char *method; /* "GET" when NULL */
    char path[256];
    const char *body;   /* a JSON body (writes), or NULL */
    const char *expect; /* a substring every 2xx body must hold, or NULL */
};

struct load_opts {
    int port;
    int concurrency; /* connections in flight at most */
    int rate_per_s;  /* requests started per second; 0: as fast as the window allows */
    long give_up_ms; /* a call without an answer after this is "hung" */
};

/* Sends reqs[i] as checker call i (its id as X-Request-Id) for i < n, and
 * returns when every call is answered, closed or given up. */
void load_run(const struct load_opts *o, const struct load_req *reqs, size_t n, checker *c);

#endif
