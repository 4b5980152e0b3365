/* A Jepsen-style checker for the fault suite: every request a test sends is
 * a call with an id the test chose (X-Request-Id, or the RPC request id);
 * the test records when it was sent and what came back, the checker counts
 * from the workers' logs and spools how often each was executed and
 * recorded, and its verdict says what was lost (no answer), answered
 * twice, answered with a status the scenario does not allow, hung (no
 * answer within the deadline plus a margin), or executed more than once
 * where that is not allowed. */
#ifndef TESTS_FAULTS_CHECKER_H
#define TESTS_FAULTS_CHECKER_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/proto.h"

struct chk_call {
    char id[WR_REQUEST_ID_LEN + 1];
    long long sent_ms;     /* monotonic; 0: never sent */
    long long answered_ms; /* when the first answer was complete; 0: none */
    int status;            /* the first answer's status; 0: none */
    int answers;           /* complete responses seen for this call */
    bool hung;             /* gave up waiting (deadline + margin) */
    bool refused;          /* the edge could not be reached at all */
    bool misrouted;        /* the answer carried another request's id */
    bool wrong_body;       /* a 2xx whose body lacked what the call expected */
    int executions;        /* "executing" lines in the workers' debug logs */
    int records;           /* audit records in the spools (or MongoDB) */
};

typedef struct checker checker;

/* A checker for n calls, each with a fresh random id. NULL when out of memory. */
checker *chk_new(size_t n);
void chk_free(checker *c);
size_t chk_count(const checker *c);
struct chk_call *chk_at(checker *c, size_t i);
/* After a test has changed calls' ids (a retry reuses the ids of
 * earlier calls), re-indexes them. */
void chk_rekey(checker *c);
/* The call with this id, or NULL. */
struct chk_call *chk_find(checker *c, const char *id);

/* Statuses the scenario allows (any other is "unexpected"). */
void chk_allow(checker *c, int status);
/* Whether a call may be executed more than once (reads after a worker was
 * killed or a connection dropped are redelivered; that is allowed). */
void chk_allow_reexec(checker *c, bool allow);

/* Adds up the "executing" lines for the checker's ids in a worker's log
 * (LOG_LEVEL=debug). Returns the number of lines counted. */
size_t chk_scan_log(checker *c, const char *path);
/* Adds up the audit records (lines with "request_id":"<id>"; each record
 * has an _id of its own) in every spool file of dir. Returns the number of
 * records counted. */
size_t chk_scan_spools(checker *c, const char *dir);

struct chk_totals {
    size_t sent, answered, ok; /* ok: 2xx */
    size_t s503, s504, other;
    size_t lost, dup, unexpected, hung, misrouted, wrong_body, reexec;
    size_t executed, recorded;
    long long max_ms[6]; /* the slowest answer per status class: [2]=2xx .. [5]=5xx */
    long long max503_ms, max504_ms;
};

/* Counts everything, prints one line ("checker[name]: sent=... lost=0 ..."),
 * and returns true when nothing was lost, unexpected, hung, misrouted,
 * answered twice, or executed twice where that is not allowed. */
bool chk_verdict(checker *c, const char *name, struct chk_totals *t);

#endif
