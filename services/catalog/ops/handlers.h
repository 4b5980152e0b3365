/* Operations -> replies: the catalog's table of operations (list, get,
 * related, functions, create, update, delete, and the documents of the
 * API) and the dispatch of one request through it. A read runs inside one
 * read transaction; a write runs its own write transaction and reads its
 * object back after the commit. */
#ifndef CATALOG_HANDLERS_H
#define CATALOG_HANDLERS_H

#include "ops/op.h"
#include "ops/search.h"

/* Answers req into out (reset first; never fails: errors are answers).
 * base_url (may be NULL) prefixes the Link header's and Location's URLs.
 * env and req are borrowed. */
void handle_request(const struct handler_env *env, const struct wr_request *req,
                    const char *base_url, struct wr_answer *out);

#endif
