/* Proto v2 batch deliveries on the worker (proto/README.md section 13): a
 * batch's items are dispatched one by one like single requests (each its
 * own deadline, op, audit record and metrics) and their replies leave
 * together in one message to the batch's reply_to; a redelivered batch is
 * split into single v1 messages instead, so one poison item cannot take
 * its neighbours past the delivery limit. Internal to the runtime. */
#ifndef WARREN_WORKER_BATCH_H
#define WARREN_WORKER_BATCH_H

#include "runtime.h"

/* Readies w's batch state (the reply collector; the split connection is
 * made when first needed). False when out of memory. */
bool wr__batch_init(struct wr__worker *w);
/* Frees it (closing the split connection). Safe twice. */
void wr__batch_release(struct wr__worker *w);

/* True when m is a batch (its AMQP type). */
bool wr__is_batch(const struct wr_msg *m);

/* Takes batch delivery m. First delivery: each item dispatched (wr__dispatch
 * with w->collect set), *recno the last item's record (UINT64_MAX and
 * w->fatal when one could not be spooled), the replies published in one
 * message (or a few, each at most WR__BATCH_REPLY_BYTES; a reply that
 * cannot travel in a batch byte for byte goes alone as v1). Redelivered
 * (the redelivered flag or x-delivery-count > 0): every item still within
 * its deadline is published back to the queue as a single v1 message on a
 * connection with publisher confirms, and the batch is done once all are
 * confirmed (*recno untouched: it records nothing; items past their
 * deadline are recorded as not executed). A batch that does not decode is
 * answered 400 bad_request as a whole (to its correlation_id) and
 * recorded once. Returns 0, or a broker error (the caller reconnects, so
 * the batch goes back to the queue unacknowledged). */
int wr__batch_dispatch(struct wr__worker *w, const struct wr_msg *m, unsigned long long *recno,
                       struct wr_err *err);

/* Called by dispatch.c instead of publishing while w->collect is set:
 * adds reply out for request m to the batch's replies (flushing first when
 * they would pass their cap). 0 or a publish's error. */
int wr__batch_reply(struct wr__worker *w, const struct wr_msg *m, const struct wr_msg *out,
                    struct wr_err *err);

#define WR__BATCH_REPLY_BYTES ((size_t)1 << 20)

#endif
