/* Operations -> replies: the catalog's table of handlers (list, get,
 * related). Each runs inside one read transaction and writes the HTTP
 * status, the body bytes and the Link header into a struct wr_answer. */
#ifndef CATALOG_HANDLERS_H
#define CATALOG_HANDLERS_H

#include "cache/cache.h"
#include "sql/plan.h"
#include "sql/query.h"
#include "model/schema.h"
#include "store/store.h"
#include "warren/buf.h"
#include "warren/cfg.h"
#include "warren/answer.h"
#include "warren/rpc.h"

struct handler_env {
    const schema *schema;
    const plan *plan;
    store *store;
    store *writer;            /* NULL when the database cannot be written */
    cache *cache;             /* for the generation counters writes bump */
    const struct wr_cfg *cfg; /* per-collection METHODS */
    long default_per_page;
    long max_per_page;
};

/* Parses a search for c with the configured limits; NULL after answering
 * 400 (naming the problem) or 500 into out. */
query *handlers_parse_q(const struct handler_env *env, const struct collection *c, const char *text,
                        struct wr_answer *out);

/* Answers req. base_url (may be NULL) prefixes the Link header's URLs. */
void handle_request(const struct handler_env *env, const struct wr_request *req,
                    const char *base_url, struct wr_answer *out);

#endif
