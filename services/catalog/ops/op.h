/* What every operation of the catalog shares: the context it runs in
 * (struct handler_env, which main fills once), its signature (op_fn), and
 * how its outcome becomes the answer (op_finish). The op table itself is
 * handlers.c's. */
#ifndef CATALOG_OP_H
#define CATALOG_OP_H

#include "cache/cache.h"
#include "cache/pagepos.h"
#include "model/schema.h"
#include "sql/plan.h"
#include "store/store.h"
#include "warren/answer.h"
#include "warren/cfg.h"
#include "warren/err.h"
#include "warren/rpc.h"

struct cursor_key;
struct view;
struct write_tx;

/* Borrowed by every operation; its owner (main) outlives them all. A
 * request may run on a copy that sets view or tx (handle_request, a batch,
 * a bulk create). */
struct handler_env {
    const schema *schema;
    const plan *plan;
    store *store;             /* reads: one read transaction per request */
    store *writer;            /* NULL when the database cannot be written */
    cache *cache;             /* for the generation counters writes bump */
    const struct wr_cfg *cfg; /* per-collection METHODS; MAX_IN_VALUES (may be NULL) */
    long default_per_page;
    long max_per_page;
    const struct cursor_key *cursor_key; /* CURSOR_SECRET: signs keyset cursors */
    long count_max;                      /* COUNT_MAX: counts stop there; 0: no cap */
    long max_bulk;                       /* MAX_BULK: objects one create writes at most */
    long max_depth;                      /* MAX_DEPTH: the request's depth is clamped to it */
    /* this request's fields= (fields.h), for the objects of view->c; NULL: none */
    const struct view *view;
    /* the transaction a batch or a bulk create holds (write_tx.h); NULL: none */
    struct write_tx *tx;
    /* the worker's page positions (cache/pagepos.h): page-number reads
     * seek from them; NULL: none (every page an OFFSET) */
    pagepos *pagepos;
};

/* An operation on collection c: writes its status, body bytes and headers
 * into out (reset before the call). Returns 0 when out holds the answer
 * (an error answer too, such as a 404 it chose), or a negative WR_E* with
 * err for op_finish to map (out is then replaced). base_url (may be NULL)
 * prefixes the URLs it writes. */
typedef int (*op_fn)(const struct handler_env *env, const struct collection *c,
                     const struct wr_request *req, const char *base_url, struct wr_answer *out,
                     struct wr_err *err);

/* Completes out after an operation returned rc: a successful answer's
 * body gets its final newline (not an error body, which has one, nor a
 * 204's, which is empty, nor a body that ends with one already); a body over its cap becomes a 413;
 * an error code becomes its HTTP answer (wr_err_http), logged with err's message when it is a 500.
 * req names the request in the log. */
void op_finish(const struct wr_request *req, int rc, const struct wr_err *err,
               struct wr_answer *out);

#endif
