/* The op table and the dispatch (see handlers.h). The operations are
 * reads.c, search.c, functions.c and writes.c; the documents apidoc.c. */
#include "ops/handlers.h"

#include <stdio.h>
#include <string.h>

#include "ops/apidoc.h"
#include "ops/batch.h"
#include "ops/fields.h"
#include "ops/functions.h"
#include "ops/reads.h"
#include "ops/reqkey.h"
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

/* The request's fields= over the objects it answers (c's, or for op
 * related its relation's target's) into v; false after answering 400. */
static bool take_view(const struct handler_env *env, const struct collection *c,
                      const struct wr_request *req, struct view *v, struct wr_answer *out)
{
    const struct relation *r = req->relation != NULL ? schema_relation(c, req->relation) : NULL;
    if (req->relation != NULL && r == NULL)
        return true; /* the op answers 404 */
    const struct collection *shown = r != NULL ? schema_at(env->schema, r->target) : c;
    struct wr_err err = {0};
    int rc = view_parse(v, env->schema, shown, req->fields, reqkey_depth(shown, req), &err);
    if (rc == 0)
        return true;
    wr_answer_error(out, rc == WR_ENOMEM ? 500 : 400,
                    rc == WR_ENOMEM ? WR_CODE_INTERNAL : WR_CODE_BAD_PARAMETER, err.msg);
    return false;
}

void handle_request(const struct handler_env *env, const struct wr_request *req,
                    const char *base_url, struct wr_answer *out)
{
    wr_answer_reset(out);
    if (strcmp(req->op, WR_OP_BATCH) == 0) { /* writes of several collections */
        struct wr_err err = {0};
        int rc = batch_run(env, req, base_url, out, &err);
        op_finish(req, rc, &err, out);
        return;
    }
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
    struct handler_env renv = *env; /* this request's: its view */
    struct view view = {0};
    if (!op->write && req->fields != NULL && !take_view(env, c, req, &view, out)) {
        view_release(&view);
        return;
    }
    renv.view = view.c != NULL ? &view : NULL;
    /* A reader's snapshot would hold off the writer's commit: writes take
     * none (they read back in a transaction of their own after committing). */
    /* A read with q (a list, its functions) gets SEARCH_MAX_STEPS: its cost
     * depends on what the client wrote, so it is bounded by work, not time */
    long long steps = !op->write && req->q != NULL && env->cfg ? env->cfg->search_max_steps : 0;
    store_set_budget(env->store, steps);
    int rc = op->write ? 0 : store_begin(env->store, &err);
    if (rc == 0)
        rc = op->fn(&renv, c, req, base_url, out, &err);
    if (!op->write)
        store_end(env->store);
    if (rc != 0 && store_over_budget(env->store)) {
        char msg[160];
        (void)snprintf(msg, sizeof(msg),
                       "q: the search needs more than the limit SEARCH_MAX_STEPS (%lld SQLite "
                       "steps); narrow its filters",
                       steps);
        wr_answer_error(out, 422, WR_CODE_SEARCH_TOO_COSTLY, msg);
        rc = 0;
    }
    store_set_budget(env->store, 0);
    op_finish(req, rc, &err, out);
    view_release(&view);
}
