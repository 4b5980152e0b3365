/* The runtime's pure decisions about one delivery, apart from the I/O so
 * unit tests link them: which op answers it, who asked, whether it is
 * still due, and whether a service's op table is well formed. */
#ifndef WARREN_WORKER_CALL_H
#define WARREN_WORKER_CALL_H

#include <stdbool.h>

#include "warren/err.h"
#include "warren/worker.h"

/* The op of svc named type, else svc->fallback (NULL when it has none).
 * type may be NULL (a message without one). */
const struct wr_op *wr__op_find(const struct wr_service *svc, const char *type);

/* The principal to record for an x-principal header value (NULL when the
 * message has none): the value when it is 1 to 64 of [A-Za-z0-9_.-], else
 * "anonymous". The runtime takes the edge's word: only users the broker
 * authenticated can publish to a service's queue. */
const char *wr__principal(const char *header);
/* The principal of a request: the edge's x-principal header when the
 * message has one (wr__principal's rule), else its AMQP user_id, the broker
 * user that published, which RabbitMQ has verified (same rule), else
 * "anonymous". Either may be NULL. */
const char *wr__principal_of(const char *header, const char *user_id);

/* True when a request with this x-deadline-ms (0: none) is past it at
 * now_ms (wr_steady_ms): nobody waits for its answer any more. */
bool wr__deadline_passed(long long deadline_ms, long long now_ms);
/* The deadline a handler works to (wr_steady_ms's clock): the header's, but
 * never later than now_ms + budget_ms (the message's expiration, the budget
 * it was sent with; <= 0: none); without a header, now_ms + the budget or
 * WR_WORKER_BUDGET_MS. */
long long wr__deadline(long long deadline_ms, long long budget_ms, long long now_ms);

/* Checks svc: a name of 1 to 64 bytes, op names [a-z][a-z0-9_]{0,31}, each
 * once, every op and the fallback with a handler. 0 or WR_EINVAL with err. */
int wr__service_check(const struct wr_service *svc, struct wr_err *err);
/* True when some op of svc writes (the runtime then consumes the write
 * queue). */
bool wr__service_writes(const struct wr_service *svc);

#endif
