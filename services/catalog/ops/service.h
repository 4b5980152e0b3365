/* The catalog on the worker runtime: its op table, whose every row goes to
 * one handler that decodes the proto v1 envelope once and answers through
 * the read-through cache. What main() hands wr_worker_run. */
#ifndef CATALOG_SERVICE_H
#define CATALOG_SERVICE_H

#include "changes/replica.h"
#include "ops/cached.h"
#include "ops/handlers.h"
#include "warren/worker.h"

/* What the catalog's ops answer with; main() owns it and what it points to. */
struct catalog_ctx {
    struct handler_env env;
    cached *cached;
    wr_metric *cache_lookups; /* by result: hit, miss, bypass; NULL: not counted */
    replica *rep;             /* a replica's applier, or NULL */
};

/* Fills svc with the catalog's op table and ctx, named after cfg's SERVICE
 * (queue warren.<service>), and ctx->env's settings from cfg (METHODS,
 * page sizes). svc borrows cfg and ctx. */
void catalog_service_init(struct wr_service *svc, const struct wr_cfg *cfg,
                          struct catalog_ctx *ctx);

#endif
