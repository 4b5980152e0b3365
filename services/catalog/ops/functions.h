/* GET /api/eval/<collection>?q={"functions": [...]}: Flask-Restless's
 * count, sum, avg, min and max over the rows a search's filters leave
 * (Flask-Restless ignored the filters), as one object with sorted keys:
 * {"count__invoice_id": 412, "sum__total": 2328.6}. */
#ifndef CATALOG_FUNCTIONS_H
#define CATALOG_FUNCTIONS_H

#include "ops/op.h"

/* The op_fn of WR_OP_FUNCTIONS: 400 (answered, returns 0) for a q that
 * does not parse or has no functions, or more than 64. Runs inside the
 * caller's read transaction. */
int functions_eval(const struct handler_env *env, const struct collection *c,
                   const struct wr_request *req, const char *base_url, struct wr_answer *out,
                   struct wr_err *err);

#endif
