/* The op table and the dispatch (see handlers.h). The operations are
 * reads.c, search.c, functions.c and writes.c; the documents apidoc.c. */
#include "ops/handlers.h"

#include <string.h>

#include "ops/apidoc.h"
#include "ops/functions.h"
#include "ops/reads.h"
#include "ops/writes.h"

struct op {
    const char *name;
    op_fn fn;
    bool write; /* runs its own write transaction, no read snapshot around it */
};

static const struct op ops[] = {
    {WR_OP_LIST, reads_list, false},          {WR_OP_GET, reads_get, false},
    {WR_OP_RELATED, reads_get, false}, /* finds the row, then its relation */
    {WR_OP_FUNCTIONS, functions_eval, false}, {WR_OP_CREATE, write_create, true},
    {WR_OP_UPDATE, write_update, true},       {WR_OP_DELETE, write_delete, true},
};

/* GET /api and /api/openapi.json: documents of the schema alone. */
static void catalog_request(const struct handler_env *env, const struct wr_request *req,
                            const char *base_url, struct wr_answer *out)
{
    bool index = strcmp(req->op, WR_OP_COLLECTIONS) == 0;
    int rc = index ? apidoc_collections(&out->body, env->schema, base_url)
                   : apidoc_openapi(&out->body, env->schema, base_url);
    if (rc != 0) {
        wr_answer_error(out, 500, WR_CODE_INTERNAL, "internal error");
        return;
    }
    out->status = 200;
    out->rows = (long long)schema_count(env->schema);
}

void handle_request(const struct handler_env *env, const struct wr_request *req,
                    const char *base_url, struct wr_answer *out)
{
    wr_answer_reset(out);
    if (req->collection == NULL) { /* the decoder lets only the catalog ops through */
        catalog_request(env, req, base_url, out);
        return;
    }
    const struct collection *c = schema_find(env->schema, req->collection);
    if (c == NULL) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no such collection");
        return;
    }
    const struct op *op = NULL;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && op == NULL; i++)
        if (strcmp(ops[i].name, req->op) == 0)
            op = &ops[i];
    if (op == NULL) {
        wr_answer_error(out, 400, WR_CODE_BAD_REQUEST, "unknown operation");
        return;
    }
    struct wr_err err = {0};
    /* A reader's snapshot would hold off the writer's commit: writes take
     * none (they read back in a transaction of their own after committing). */
    int rc = op->write ? 0 : store_begin(env->store, &err);
    if (rc == 0)
        rc = op->fn(env, c, req, base_url, out, &err);
    if (!op->write)
        store_end(env->store);
    op_finish(req, rc, &err, out);
}
