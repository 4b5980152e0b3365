/* The auditlog service's one op, records: the audit documents of one
 * request, read back from MongoDB (proto/README.md, "The auditlog
 * service"). */
#ifndef AUDITLOG_RECORDS_H
#define AUDITLOG_RECORDS_H

#include "warren/worker.h"

/* The op: ctx is the service's wr_auditdb, or NULL when MONGO_URI is empty
 * (then every well-formed lookup answers 503). Always answers: returns 0. */
int records_op(void *ctx, const struct wr_call *call, struct wr_answer *out);

#endif
