/* The catalog worker: serves every table of a SQLite database as a
 * collection on the worker runtime. main() is the table of contents:
 * config, logging, database and schema, change log, cache, metrics, op
 * table, run, teardown. */
#include <stdio.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/pagepos.h"
#include "changes/events.h"
#include "changes/publisher.h"
#include "changes/replica.h"
#include "model/schema.h"
#include "ops/cursor.h"
#include "ops/service.h"
#include "sql/plan.h"
#include "store/store.h"
#include "warren/log.h"

/* Page positions a worker remembers (cache/pagepos.h): a walk of Tracks
 * by ten a page keeps two a page, 702 in all. */
#define PAGE_POSITIONS 4096

/* What main owns (ctx.env holds the stores and the cache it owns too). */
struct catalog {
    struct wr_cfg cfg;
    schema *schema;
    plan *plan;
    struct cursor_key cursor_key;
    struct catalog_ctx ctx;   /* what the ops answer with */
    wr_metrics *metrics;      /* the catalog's own, and the runtime's */
    publisher *pub;           /* the writer's: the outbox to the change stream */
    struct events_ctx events; /* the writer's: renders each commit's change events */
    replica *rep;             /* a replica's: the change stream to its file */
};

/* CURSOR_SECRET, or with DEBUG and none the public development secret;
 * 0, or 2 when production runs without a secret (a forgeable cursor would
 * let a client probe hidden key columns, and a per-process secret would
 * break every walk that moves to another worker). */
static int open_cursor_key(struct catalog *c)
{
    const char *secret = c->cfg.cursor_secret;
    size_t n = strlen(secret);
    if (n == 0 && c->cfg.debug) {
        wr_warn(NULL, "CURSOR_SECRET is not set: DEBUG signs cursors with the public development "
                      "secret; anyone can forge them");
        secret = CURSOR_DEV_SECRET;
        n = strlen(secret);
    } else if (n < CURSOR_SECRET_MIN) {
        wr_error(NULL,
                 "CURSOR_SECRET %s: give every worker the same secret of %d or more characters "
                 "(WARREN_CURSOR_SECRET_FILE), or DEBUG = True for development",
                 n == 0 ? "is not set" : "is too short", CURSOR_SECRET_MIN);
        return 2;
    }
    cursor_key_init(&c->cursor_key, secret, n);
    c->ctx.env.cursor_key = &c->cursor_key;
    return 0;
}

/* The writer's change log: every commit's changes and change events into
 * the outbox, and the publisher that sends them to the streams. 0, or 2 when it cannot be
 * kept (then nothing is written: a write the log missed would be lost to
 * every replica). */
static int open_change_log(struct catalog *c)
{
    struct wr_err err = {0};
    store *writer = c->ctx.env.writer;
    int rc = store_outbox_enable(writer, &err);
    c->pub = rc == 0 ? publisher_start(&c->cfg, &err) : NULL;
    if (c->pub == NULL) {
        wr_error(NULL, "cannot keep the change log: %s", err.msg);
        return 2;
    }
    store_on_commit(writer, publisher_kick, c->pub);
    /* env is filled by open_cache, before the first write */
    c->events = (struct events_ctx){.env = &c->ctx.env};
    store_on_events(writer, events_render, &c->events);
    return 0;
}

/* 0, or the exit status: 2 when the database cannot be served. */
static int open_database(struct catalog *c)
{
    struct wr_err err = {0};
    const struct schema_table_def *tables = NULL;
    size_t n = 0;
    struct handler_env *env = &c->ctx.env;
    /* first: it checks the file is a snapshot and puts it in WAL mode */
    c->rep = c->cfg.replica ? replica_start(&c->cfg, &err) : NULL;
    if (c->cfg.replica && c->rep == NULL) {
        wr_error(NULL, "cannot start the replica: %s", err.msg);
        return 2;
    }
    env->store = store_open(c->cfg.database_uri, &err);
    if (env->store == NULL || store_introspect(env->store, &tables, &n, &err) != 0) {
        wr_error(NULL, "cannot open the database: %s", err.msg);
        return 2;
    }
    c->schema = schema_build(tables, n, &c->cfg, &err);
    if (c->schema == NULL) {
        wr_error(NULL, "cannot serve the database: %s", err.msg);
        return 2;
    }
    c->plan = plan_new(c->schema);
    bool writes = schema_writable(c->schema) && !c->cfg.replica; /* a replica's are the writer's */
    env->writer = writes ? store_open_writer(c->cfg.database_uri, &err) : NULL;
    if (writes && env->writer == NULL)
        wr_warn(NULL, "writes are configured but the database cannot be written: %s", err.msg);
    if (env->writer != NULL && open_change_log(c) != 0)
        return 2;
    wr_info(NULL, "serving %zu collections", schema_count(c->schema));
    return c->plan != NULL ? 0 : 1;
}

/* The result cache and the ops' environment; 0, or 1 when out of memory. */
static int open_cache(struct catalog *c)
{
    struct cache_opts co = {.url = c->cfg.redis_url,
                            .timeout_ms = c->cfg.redis_timeout_ms,
                            .ttl_s = c->cfg.cache_ttl_s,
                            .wait_ms = c->cfg.cache_wait_ms};
    struct reqkey_opts ko = {.service = c->cfg.service,
                             .default_per_page = c->cfg.results_per_page,
                             .max_per_page = c->cfg.max_results_per_page,
                             .count_max = c->cfg.count_max};
    reqkey_schema_tag(ko.schema_tag, c->schema);
    cursor_key_mix(&c->cursor_key, ko.schema_tag);
    struct handler_env *env = &c->ctx.env;
    env->schema = c->schema;
    env->plan = c->plan;
    env->cache = cache_new(&co);
    c->ctx.cached =
        env->cache != NULL ? cached_new(env->cache, &ko, c->cfg.cache_min_cost_us) : NULL;
    /* A replica's file may be older than the generations it reads: it
     * stores only answers its file is current for. */
    if (c->ctx.cached != NULL && c->rep != NULL)
        cached_on_replica(c->ctx.cached, c->rep);
    /* the writer's file holds every write: its newest position is at or
     * past each table's last one */
    for (size_t i = 0; env->cache != NULL && env->writer != NULL && i < schema_count(c->schema);
         i++)
        cache_seed(env->cache, schema_at(c->schema, i)->table, store_position(env->writer));
    if (c->ctx.cached != NULL &&
        cached_use_memo(c->ctx.cached, (size_t)c->cfg.local_cache_max_bytes) != 0)
        return 1;
    /* where page-number walks were: a few hundred kB at most, and a deep
     * page costs one page of rows instead of every row before it */
    env->pagepos = pagepos_new(PAGE_POSITIONS);
    if (env->pagepos == NULL)
        return 1;
    return c->ctx.cached != NULL ? 0 : 1;
}

/* The catalog's metrics, beside the runtime's: the cache's lookups by
 * result, and the time each statement spends in SQLite. 0, or 1 when out
 * of memory. */
static int open_metrics(struct catalog *c)
{
    c->metrics = wr_metrics_new();
    if (c->metrics == NULL)
        return 1;
    static const char *const result[] = {"result", NULL};
    static const char *const kind[] = {"kind", NULL};
    c->ctx.cache_lookups =
        wr_metrics_counter(c->metrics, "warren_catalog_cache_lookups_total",
                           "Reads that looked in the result cache, by result: hit, miss, "
                           "bypass (Redis down, slow or full), or behind (a replica's miss "
                           "not stored: its file was older than the generations it read)",
                           result);
    wr_metric *stmt = wr_metrics_histogram(
        c->metrics, "warren_catalog_statement_duration_seconds",
        "Time one SQLite statement spends in SQLite (its rows' rendering aside), by kind: read "
        "or write",
        kind);
    store_set_metrics(c->ctx.env.store, wr_metric_series(stmt, (const char *const[]){"read"}));
    store_set_metrics(c->ctx.env.writer, wr_metric_series(stmt, (const char *const[]){"write"}));
    return 0;
}

static void teardown(struct catalog *c)
{
    struct handler_env *env = &c->ctx.env;
    if (env->cache != NULL) {
        const struct cache_stats *st = cache_stats(env->cache);
        wr_info(
            NULL,
            "cache: %lld hits, %lld misses, %lld bypasses, %lld skips, %lld behind, %lld waits, "
            "%lld errors",
            st->hits, st->misses, st->bypasses, c->ctx.cached ? cached_skips(c->ctx.cached) : 0,
            c->ctx.cached ? cached_behinds(c->ctx.cached) : 0, st->waits, st->errors);
    }
    if (env->pagepos != NULL) {
        const struct pagepos_stats *ps = pagepos_stats(env->pagepos);
        wr_info(NULL,
                "page positions: %lld seeks, %lld misses, %lld kept, %lld evicted, %lld forgotten "
                "with the data version",
                ps->hits, ps->misses, ps->stores, ps->evictions, ps->flushes);
    }
    publisher_stop(c->pub); /* before the writer: it publishes what was committed */
    replica_stop(c->rep);
    cached_free(c->ctx.cached);
    pagepos_free(env->pagepos);
    cache_free(env->cache);
    plan_free(c->plan);
    schema_free(c->schema);
    store_free(env->writer);
    store_free(env->store);
    cursor_key_release(&c->cursor_key);
    wr_metrics_free(c->metrics);
    wr_cfg_release(&c->cfg);
}

/* --snapshot PATH (or --snapshot=PATH): taken out of argv (the rest goes
 * to the config's reader); NULL when absent. */
static const char *take_snapshot_arg(int *argc, char **argv)
{
    const char *path = NULL;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--snapshot") == 0 && i + 1 < *argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--snapshot=", 11) == 0)
            path = argv[i] + 11;
        else
            argv[out++] = argv[i];
    }
    *argc = out;
    return path;
}

/* warren-catalog --snapshot PATH: a replica's starting file, from the
 * writer's DATABASE_URI. The exit status. */
static int snapshot(const struct wr_cfg *cfg, const char *path)
{
    struct wr_err err = {0};
    long long position = 0;
    if (store_snapshot(cfg->database_uri, path, &position, &err) != 0) {
        wr_error(NULL, "cannot make the snapshot %s: %s", path, err.msg);
        return 1;
    }
    wr_info(NULL, "snapshot %s made at position %lld", path, position);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct wr_cfg_prog prog = {"warren-catalog",
                                            "the catalog worker: a SQLite database as collections",
                                            WR_CFG_USE_WORKER | WR_CFG_USE_CATALOG};
    struct catalog c = {0};
    int rc = 0;
    const char *snapshot_path = take_snapshot_arg(&argc, argv);
    if (!wr_cfg_from_args(&c.cfg, &prog, argc, argv, &rc))
        return rc; /* --help, --version, or the problems, printed */
    wr_log_init("catalog", c.cfg.log_level);
    (void)wr_log_format_set(c.cfg.log_format); /* the key table checked the name */
    if (snapshot_path != NULL) {
        rc = snapshot(&c.cfg, snapshot_path);
        wr_cfg_release(&c.cfg);
        return rc;
    }
    wr_worker_global_init();
    rc = open_cursor_key(&c);
    rc = rc == 0 ? open_database(&c) : rc;
    rc = rc == 0 ? open_cache(&c) : rc;
    rc = rc == 0 ? open_metrics(&c) : rc;
    struct wr_service svc;
    catalog_service_init(&svc, &c.cfg, &c.ctx);
    svc.metrics = c.metrics;
    c.ctx.rep = c.rep;
    if (c.rep != NULL) {
        svc.reads_only = true;
        svc.ready = replica_ready;
        svc.ready_arg = c.rep;
    }
    rc = rc == 0 ? wr_worker_run(&c.cfg, &svc) : rc;
    teardown(&c);
    wr_worker_global_cleanup();
    return rc;
}
