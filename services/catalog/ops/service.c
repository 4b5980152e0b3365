/* The catalog's op table (see service.h). proto v1's envelope names the
 * op and the AMQP type only repeats it, so every row, and the fallback for
 * a message without a type, runs the same handler: the envelope decides.
 * The rows tell the runtime which ops write (write queue, uncorked). */
#include "ops/service.h"

#include <stdio.h>

#include "store/store.h"
#include "warren/rpc.h"

static int answer(void *ctx, const struct wr_call *call, struct wr_answer *out)
{
    struct catalog_ctx *c = ctx;
    struct wr_request req;
    struct wr_err err = {0};
    int rc = wr_request_decode(&req, call->body, call->len, &err);
    if (rc != 0) {
        wr_answer_error(out, 400, wr_err_http(rc).code, err.msg);
        wr_answer_describe(out, &(struct wr_answer_about){0}); /* nothing known of it */
        return 0;
    }
    (void)snprintf(req.id, sizeof(req.id), "%s", call->id);
    /* No statement outlives the request. */
    store_set_deadline(c->env.store, call->deadline_ms);
    store_set_deadline(c->env.writer, call->deadline_ms);
    cached_answer(c->cached, &c->env, &req, call->base_url, out);
    if (out->cache != NULL) /* one of three constants: hit, miss, bypass */
        wr_series_add(wr_metric_series(c->cache_lookups, (const char *const[]){out->cache}), 1);
    wr_answer_describe(out, &(struct wr_answer_about){.op = req.op,
                                                      .collection = req.collection,
                                                      .key = req.key,
                                                      .relation = req.relation,
                                                      .page = req.page,
                                                      .per_page = req.results_per_page});
    wr_request_release(&req);
    return 0;
}

static const struct wr_op ops[] = {
    {.name = WR_OP_LIST, .fn = answer},
    {.name = WR_OP_GET, .fn = answer},
    {.name = WR_OP_RELATED, .fn = answer},
    {.name = WR_OP_FUNCTIONS, .fn = answer},
    {.name = WR_OP_COLLECTIONS, .fn = answer},
    {.name = WR_OP_OPENAPI, .fn = answer},
    {.name = WR_OP_CREATE, .writes = true, .fn = answer},
    {.name = WR_OP_UPDATE, .writes = true, .fn = answer},
    {.name = WR_OP_DELETE, .writes = true, .fn = answer},
};
/* A message without a type (or an unknown one) may hold any op: it runs
 * uncorked, as a write would. */
static const struct wr_op fallback = {.writes = true, .fn = answer};

void catalog_service_init(struct wr_service *svc, const struct wr_cfg *cfg, struct catalog_ctx *ctx)
{
    ctx->env.cfg = cfg;
    ctx->env.default_per_page = cfg->results_per_page;
    ctx->env.max_per_page = cfg->max_results_per_page;
    *svc = (struct wr_service){.name = cfg->service,
                               .ops = ops,
                               .nops = sizeof(ops) / sizeof(ops[0]),
                               .fallback = &fallback,
                               .ctx = ctx};
}
