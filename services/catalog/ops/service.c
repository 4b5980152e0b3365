/* The catalog's op table (see service.h). proto v1's envelope names the
 * op and the AMQP type only repeats it, so every row, and the fallback for
 * a message without a type, runs the same handler: the envelope decides.
 * The rows tell the runtime which ops write (write queue, uncorked). */
#include "ops/service.h"

#include <string.h>

#include "store/store.h"
#include "warren/json.h"
#include "warren/rpc.h"

/* The audit record's detail of a read: the cursor (after or before: which
 * way a keyset walk went), count, depth, fields and q (what was searched,
 * a full-text match among it) it asked for, those given only, keys in
 * sorted order (a write's op writes its own). */
static void describe_read(const struct wr_request *req, struct wr_answer *out)
{
    if (out->detail.len > 0 || (req->count == NULL && !req->depth_given && req->fields == NULL &&
                                req->q == NULL && req->after == NULL && req->before == NULL))
        return;
    struct wr_buf *d = &out->detail;
    const char *const names[] = {"after", "before", "count", "depth", "fields", "q"};
    const char *const values[] = {req->after, req->before, req->count, "", req->fields, req->q};
    char sep = '{';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        bool depth = strcmp(names[i], "depth") == 0;
        if (depth ? !req->depth_given : values[i] == NULL)
            continue;
        wr_buf_printf(d, "%c\"%s\":", sep, names[i]);
        if (depth)
            wr_buf_printf(d, "%d", req->depth);
        else
            wr_json_cstr(d, values[i]);
        sep = ',';
    }
    wr_buf_putc(d, '}');
}

#define STALE_MARGIN_MS 100 /* time left for the 504 to reach the caller */

/* Read your writes: whether this worker's data is at call->min_position.
 * A replica waits for it until shortly before the deadline; any other
 * worker reads the writer's file itself, which holds every commit whose
 * position a client could know. */
static bool fresh_enough(const struct catalog_ctx *c, const struct wr_call *call)
{
    if (call->min_position <= 0 || c->rep == NULL)
        return true;
    return replica_wait(c->rep, call->min_position, call->deadline_ms - STALE_MARGIN_MS);
}

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
    (void)wr_str_copy(req.id, sizeof(req.id), call->id);
    req.principal = call->principal;
    /* MAX_DEPTH caps ?depth= as MAX_RESULTS_PER_PAGE caps page sizes: before
     * the cache key is made, so the two spellings share it */
    if (req.depth_given && req.depth > c->env.max_depth)
        req.depth = (int)c->env.max_depth;
    /* No statement outlives the request. */
    store_set_deadline(c->env.store, call->deadline_ms);
    store_set_deadline(c->env.writer, call->deadline_ms);
    bool write = wr_op_is_write(req.op);
    if (!write && !fresh_enough(c, call))
        wr_answer_error(out, 504, WR_CODE_STALE,
                        "this replica is not yet at X-Warren-Min-Position: try again");
    else
        /* read your writes: its own read of the data version, after the
         * replica was found fresh enough */
        cached_answer(c->cached, &c->env, &req, call->base_url,
                      call->min_position > 0 ? 0 : call->delivery, out);
    describe_read(&req, out);
    if (out->cache != NULL) /* one of cache_outcome_name's constants */
        wr_series_add(wr_metric_series(c->cache_lookups, (const char *const[]){out->cache}), 1);
    /* the position a client can ask later reads to be at or past */
    if (write && out->status < 300 && c->env.writer != NULL)
        out->position = store_position(c->env.writer);
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
    {.name = WR_OP_BATCH, .writes = true, .fn = answer},
};
/* A message without a type (or an unknown one) may hold any op: it runs
 * uncorked, as a write would. */
static const struct wr_op fallback = {.writes = true, .fn = answer};

void catalog_service_init(struct wr_service *svc, const struct wr_cfg *cfg, struct catalog_ctx *ctx)
{
    ctx->env.cfg = cfg;
    ctx->env.default_per_page = cfg->results_per_page;
    ctx->env.max_per_page = cfg->max_results_per_page;
    ctx->env.count_max = cfg->count_max;
    ctx->env.max_bulk = cfg->max_bulk;
    ctx->env.max_depth = cfg->max_depth;
    *svc = (struct wr_service){.name = cfg->service,
                               .ops = ops,
                               .nops = sizeof(ops) / sizeof(ops[0]),
                               .fallback = &fallback,
                               .ctx = ctx};
}
