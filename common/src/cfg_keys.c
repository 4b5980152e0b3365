/* The key table (see cfg.h): one X-macro row per key drives the parser's
 * rows, the public documentation (wr_cfg_keys, --help), a compile-time check
 * of each row's type against its field, and wr_cfg_release; plus the
 * settings of the dotted per-collection keys. */
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

#define STR_NAME "str"
#define INT_NAME "int"
#define BOOL_NAME "bool"
#define EDGE WR_CFG_USE_EDGE
#define WORKER WR_CFG_USE_WORKER
#define CATALOG WR_CFG_USE_CATALOG
#define CLI WR_CFG_USE_CLI
#define ALL (WR_CFG_USE_EDGE | WR_CFG_USE_WORKER)

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"text", "json", NULL};

/* The one table: X(NAME, field, type, default as text, min, max, choices,
 * binaries that read it, help). min and max bound int keys; choices
 * (NULL-terminated) limit a str key. It is expanded four times below, so
 * nothing can drift apart. */
#define WR_CFG_TABLE(X)                                                                            \
    X(DATABASE_URI, database_uri, STR, "sqlite:///../shared/data/chinook.db", 0, 0, NULL, CATALOG, \
      "the SQLite database: sqlite:///relative or sqlite:////absolute")                            \
    X(COLLECTIONS, collections, STR, "", 0, 0, NULL, CATALOG,                                      \
      "the tables to serve, comma-separated; empty serves every table")                            \
    X(AMQP_URL, amqp_url, STR, "amqp://guest:guest@127.0.0.1:5672/%2f", 0, 0, NULL, ALL | CLI,     \
      "the RabbitMQ broker: one amqp:// or amqps:// URL, or a cluster's nodes separated by "       \
      "commas, tried in turn")                                                                     \
    X(AMQP_TLS_CA_PATH, amqp_tls_ca_path, STR, "", 0, 0, NULL, ALL | CLI,                          \
      "amqps://: the PEM file of the CA certificates the broker's certificate must chain to; '' "  \
      "uses the system's trust store")                                                             \
    X(AMQP_TLS_CERT_PATH, amqp_tls_cert_path, STR, "", 0, 0, NULL, ALL | CLI,                      \
      "amqps://: the PEM client certificate (chain) shown to the broker, with AMQP_TLS_KEY_PATH; " \
      "'' shows none")                                                                             \
    X(AMQP_TLS_KEY_PATH, amqp_tls_key_path, STR, "", 0, 0, NULL, ALL | CLI,                        \
      "amqps://: the PEM key of AMQP_TLS_CERT_PATH")                                               \
    X(AMQP_TLS_KEY_PASSWORD, amqp_tls_key_password, STR, "", 0, 0, NULL, ALL | CLI,                \
      "amqps://: the password of an encrypted AMQP_TLS_KEY_PATH; secret")                          \
    X(AMQP_TLS_VERIFY_PEER, amqp_tls_verify_peer, BOOL, "True", 0, 0, NULL, ALL | CLI,             \
      "amqps://: refuse a broker whose certificate does not chain to a trusted CA, or has "        \
      "expired; False trusts anyone (tests only)")                                                 \
    X(AMQP_TLS_VERIFY_HOSTNAME, amqp_tls_verify_hostname, BOOL, "True", 0, 0, NULL, ALL | CLI,     \
      "amqps://: refuse a broker whose certificate does not name the URL's host (DNS name or IP "  \
      "address)")                                                                                  \
    X(REDIS_URL, redis_url, STR, "", 0, 0, NULL, CATALOG,                                          \
      "the result cache, redis://host:port[/db]; empty turns caching off")                         \
    X(REDIS_TIMEOUT_MS, redis_timeout_ms, INT, "50", 1, 10000, NULL, CATALOG,                      \
      "the longest a cache command may take before the request bypasses the cache")                \
    X(CACHE_TTL_S, cache_ttl_s, INT, "300", 1, 86400L * 30, NULL, CATALOG,                         \
      "how long a cached reply lives (up to 10% less, at random, so keys expire apart)")           \
    X(CACHE_WAIT_MS, cache_wait_ms, INT, "50", 0, 10000, NULL, CATALOG,                            \
      "on a miss another worker is computing, how long to wait for its value before computing")    \
    X(CACHE_MIN_COST_US, cache_min_cost_us, INT, "250", 0, 10000000, NULL, CATALOG,                \
      "reads that cost less CPU to compute go straight to SQLite, not through Redis; 0: cache "    \
      "every read")                                                                                \
    X(LOCAL_CACHE_MAX_BYTES, local_cache_max_bytes, INT, "8388608", 0, 1L << 30, NULL, CATALOG,    \
      "each worker's in-process cache of replies, exact by the database file's version (any "      \
      "write empties it); 0 turns it off")                                                         \
    X(MONGO_URI, mongo_uri, STR, "", 0, 0, NULL, WORKER,                                           \
      "the audit trail's MongoDB; empty keeps audit records in the local spool")                   \
    X(AUDIT_DB, audit_db, STR, "warren", 0, 0, NULL, WORKER, "the audit trail's database")         \
    X(AUDIT_COLLECTION, audit_collection, STR, "audit", 0, 0, NULL, WORKER,                        \
      "the audit trail's collection")                                                              \
    X(AUDIT_SPOOL_DIR, audit_spool_dir, STR, "audit-spool", 0, 0, NULL, WORKER,                    \
      "where each worker spools audit records until MongoDB has them")                             \
    X(AUDIT_SPOOL_MAX_BYTES, audit_spool_max_bytes, INT, "1073741824", 0, 1L << 50, NULL, WORKER,  \
      "a worker stops taking requests while its spool holds this many bytes not yet shipped, "     \
      "and takes them again below 90%; 0: no bound")                                               \
    X(AUDIT_SPOOL_KEEP_BYTES, audit_spool_keep_bytes, INT, "0", 0, 1L << 50, NULL, WORKER,         \
      "without MONGO_URI: keep only the newest records, about this many bytes, discarding "        \
      "older ones by choice; 0 keeps them all")                                                    \
    X(AUDIT_SYNC_MS, audit_sync_ms, INT, "50", 0, 1000, NULL, WORKER,                              \
      "a group commit of the audit spool waits this long after the last one for more records "     \
      "(sooner when half of PREFETCH waits for it); acknowledgements wait for it; 0: at once")     \
    X(SERVICE, service, STR, "catalog", 0, 0, NULL, ALL | CLI,                                     \
      "the queue suffix: warren.<SERVICE>")                                                        \
    X(SERVICES, services, STR, "", 0, 0, NULL, EDGE,                                               \
      "further services the edge forwards /svc/<service>/<op>[/<id>] to (queue "                   \
      "warren.<service>): names of [a-z][a-z0-9-]{0,31}, comma- or space-separated, not SERVICE")  \
    X(HTTP_HOST, http_host, STR, "127.0.0.1", 0, 0, NULL, EDGE,                                    \
      "the address the HTTP edge listens on")                                                      \
    X(HTTP_PORT, http_port, INT, "8080", 1, 65535, NULL, EDGE,                                     \
      "the port the HTTP edge listens on")                                                         \
    X(CORS_ORIGINS, cors_origins, STR, "", 0, 0, NULL, EDGE,                                       \
      "origins browsers may call from: '*', or a comma-separated list; '' turns CORS off")         \
    X(CACHE_CONTROL, cache_control, STR, "", 0, 0, NULL, EDGE,                                     \
      "the Cache-Control header of successful reads, e.g. 'max-age=60'; '' sends none")            \
    X(REQUEST_TIMEOUT_MS, request_timeout_ms, INT, "5000", 1, 600000, NULL, EDGE | CLI,            \
      "each request's deadline")                                                                   \
    X(MAX_IN_FLIGHT, max_in_flight, INT, "10000", 1, 1000000, NULL, EDGE,                          \
      "the requests the edge holds at once")                                                       \
    X(HTTP_TIMEOUT_S, http_timeout_s, INT, "10", 1, 3600, NULL, EDGE,                              \
      "the idle, header and body timeout per connection")                                          \
    X(MAX_BODY_BYTES, max_body_bytes, INT, "1048576", 0, 1L << 30, NULL, EDGE | CATALOG,           \
      "the largest request body")                                                                  \
    X(MAX_HEADER_BYTES, max_header_bytes, INT, "8192", 256, 1L << 20, NULL, EDGE,                  \
      "the largest block of request headers (431 beyond)")                                         \
    X(MAX_URI_BYTES, max_uri_bytes, INT, "8192", 256, 1L << 20, NULL, EDGE,                        \
      "the longest request target, path and query (414 beyond)")                                   \
    X(MAX_CONNECTIONS, max_connections, INT, "4096", 1, 1000000, NULL, EDGE,                       \
      "the client connections the edge holds at once; beyond, new ones get 503 and are closed")    \
    X(MAX_CONNECTIONS_PER_ADDRESS, max_conns_per_addr, INT, "1024", 1, 1000000, NULL, EDGE,        \
      "the client connections the edge holds at once from one IP address (loopback included); "    \
      "beyond, new ones from it get 503 and are closed")                                           \
    X(SSE_MAX_CLIENTS, sse_max_clients, INT, "1000", 0, 1000000, NULL, EDGE,                       \
      "the event streams (Server-Sent Events of the change events) the edge holds at once, "       \
      "every loop together; beyond, new ones get 503; each also counts as a connection")           \
    X(SSE_CATCHUP_MAX, sse_catchup_max, INT, "16", 1, 10000, NULL, EDGE,                           \
      "event streams resumed from before the edge's ring that read the events stream at once, "    \
      "each on a broker connection of its own; the others wait their turn")                        \
    X(SSE_HEARTBEAT_S, sse_heartbeat_s, INT, "15", 1, 3600, NULL, EDGE,                            \
      "seconds between the comments the edge sends an idle event stream, so that proxies and "     \
      "load balancers in between do not close it as idle; keep it under their idle timeout")       \
    X(SSE_WARM_EVENTS, sse_warm_events, INT, "4096", 0, 8192, NULL, EDGE,                          \
      "the change events the edge reads into its ring at start, from before the stream's end, so " \
      "that event streams resumed after a restart or deploy are served from memory; 0: none")      \
    X(SINGLE_FLIGHT, single_flight, BOOL, "False", 0, 0, NULL, EDGE,                               \
      "an API read identical to one in flight on the same event loop joins it (one message, one "  \
      "execution) instead of publishing its own")                                                  \
    X(EDGE_BATCH, edge_batch, BOOL, "False", 0, 0, NULL, EDGE,                                     \
      "reads an event loop publishes for one queue while busy go out as one proto v2 batch "       \
      "message (workers of this version or later must run first)")                                 \
    X(EDGE_BATCH_MAX, edge_batch_max, INT, "32", 2, 256, NULL, EDGE,                               \
      "the most requests one batch message holds")                                                 \
    X(EDGE_BATCH_BYTES, edge_batch_bytes, INT, "262144", 4096, 16777216, NULL, EDGE,               \
      "the largest batch message body; a request that does not fit goes in the next")              \
    X(EDGE_BATCH_WINDOW, edge_batch_window, INT, "8", 0, 65536, NULL, EDGE,                        \
      "reads one event loop may have out on one queue before its next batch waits for replies "    \
      "(at most EDGE_BATCH_WAIT_US), to fill; 0: no window")                                       \
    X(EDGE_BATCH_WAIT_US, edge_batch_wait_us, INT, "1000", 0, 10000000, NULL, EDGE,                \
      "the longest a read waits for its batch to leave (for the loop to idle, or the window)")     \
    X(EDGE_AUDIT_BACKLOG, edge_audit_backlog, INT, "10000", 1, 10000000, NULL, EDGE,               \
      "the audit records of requests the edge answered itself that it holds in memory while the "  \
      "broker cannot take them, over all its loops (about 1 KiB each); beyond, the oldest go, "    \
      "counted in warren_edge_audit_dropped_records_total")                                        \
    X(EDGE_THREADS, edge_threads, INT, "0", 0, 64, NULL, EDGE,                                     \
      "the edge's event loops on the one port, each a thread with its own broker connection; "     \
      "0: one per core it is given (affinity, cgroup CPU quota)")                                  \
    X(MAX_JSON_DEPTH, max_json_depth, INT, "16", 1, 1000, NULL, EDGE,                              \
      "the deepest nesting of arrays and objects in q and in request bodies")                      \
    X(MAX_IN_VALUES, max_in_values, INT, "500", 1, 30000, NULL, EDGE | CATALOG,                    \
      "the most values one in / not_in filter may list")                                           \
    X(RATE_LIMIT_RPS, rate_limit_rps, INT, "0", 0, 1000000, NULL, EDGE,                            \
      "requests per second one client (its API key's name, else its IP address) may send to one "  \
      "edge process, as a token bucket; beyond, 429 with Retry-After; 0: no limit")                \
    X(RATE_LIMIT_BURST, rate_limit_burst, INT, "0", 0, 1000000, NULL, EDGE,                        \
      "the requests a client may send at once above RATE_LIMIT_RPS (the bucket's size); 0: twice " \
      "RATE_LIMIT_RPS")                                                                            \
    X(SEARCH_CONCURRENCY, search_concurrency, INT, "0", 0, 1000000, NULL, EDGE,                    \
      "the searches (reads with q) one client may have in flight at once through one edge "        \
      "process; beyond, 429 with Retry-After; 0: no limit")                                        \
    X(API_KEYS, api_keys, STR, "", 0, 0, NULL, EDGE,                                               \
      "'name:key, ...': the keys writes need (Authorization: Bearer <key>); secret")               \
    X(PREFETCH, prefetch, INT, "256", 1, 65535, NULL, WORKER,                                      \
      "the unacknowledged deliveries per worker")                                                  \
    X(YIELD_AFTER_MS, yield_after_ms, INT, "20", 0, 60000, NULL, WORKER,                           \
      "workers consume with priorities, the oldest first, so the broker fills one before waking "  \
      "the next; one that spends this many ms of CPU without catching up yields its place and "    \
      "takes turns with the others that did; 0: no priorities, every worker in turn")              \
    X(RESULTS_PER_PAGE, results_per_page, INT, "10", 1, 100000, NULL, CATALOG,                     \
      "the default page size")                                                                     \
    X(MAX_RESULTS_PER_PAGE, max_results_per_page, INT, "100", 1, 100000, NULL, CATALOG,            \
      "the largest page size; larger requests are clamped")                                        \
    X(CURSOR_SECRET, cursor_secret, STR, "", 0, 0, NULL, CATALOG,                                  \
      "signs keyset cursors (HMAC-SHA-256): 32 or more characters, the same for every worker; "    \
      "required unless DEBUG; secret")                                                             \
    X(MAX_BULK, max_bulk, INT, "1000", 1, 100000, NULL, EDGE | CATALOG,                            \
      "the most objects one POST of a JSON list creates (or upserts), in one transaction")         \
    X(EXPORT_MAX_ROWS, export_max_rows, INT, "1000000", 1, 1000000000, NULL, EDGE,                 \
      "the most rows one CSV or NDJSON export streams; past it the export is cut, detectably")     \
    X(EXPORT_TIMEOUT_MS, export_timeout_ms, INT, "300000", 1000, 86400000, NULL, EDGE,             \
      "how long one CSV or NDJSON export may stream; past it the export is cut, detectably")       \
    X(MAX_DEPTH, max_depth, INT, "1", 1, 2, NULL, CATALOG,                                         \
      "the deepest ?depth= served: 2 embeds the related objects' own relations; deeper "           \
      "requests are clamped")                                                                      \
    X(SEARCH_MAX_RELATION_DEPTH, search_max_rel_depth, INT, "4", 1, 16, NULL, CATALOG,             \
      "the deepest nesting of relation filters (has, any, relation__field) in one q; deeper is a " \
      "400 search_too_complex")                                                                    \
    X(SEARCH_MAX_SUBQUERIES, search_max_subqueries, INT, "16", 1, 100, NULL, CATALOG,              \
      "the most relation filters (correlated subqueries) in one q; more is a 400 "                 \
      "search_too_complex")                                                                        \
    X(SEARCH_MAX_STEPS, search_max_steps, INT, "5000000", 0, 1L << 40, NULL, CATALOG,              \
      "the SQLite VM steps one read with q may take; beyond, it is cut and answered 422 "          \
      "search_too_costly; 0: no limit (the deadline still applies)")                               \
    X(COUNT_MAX, count_max, INT, "10000", 0, 1000000000, NULL, CATALOG,                            \
      "counts of pages stop at this many rows (num_results_truncated); 0 counts every row")        \
    X(REPLICA, replica, BOOL, "False", 0, 0, NULL, CATALOG,                                        \
      "a replica: serves reads from its own DATABASE_URI (a snapshot), kept up to date from the "  \
      "change stream; writes are left to the writer")                                              \
    X(MAX_REPLICA_LAG_MS, max_replica_lag_ms, INT, "0", 0, 86400000L, NULL, CATALOG,               \
      "a replica further behind the writer than this stops taking requests until it catches "      \
      "up; 0: no bound")                                                                           \
    X(CHANGES_MAX_BYTES, changes_max_bytes, INT, "1073741824", 1048576, 1L << 50, NULL,            \
      CATALOG | EDGE,                                                                              \
      "the change and events streams' retention in bytes (stream arguments never change once "     \
      "declared)")                                                                                 \
    X(CHANGES_MAX_AGE, changes_max_age, STR, "7D", 0, 0, NULL, CATALOG | EDGE,                     \
      "the change and events streams' retention in time: a number and Y, M, D, h, m or s; '' for " \
      "none")                                                                                      \
    X(HEARTBEAT_S, heartbeat_s, INT, "10", 0, 3600, NULL, ALL | CLI,                               \
      "the AMQP heartbeat; 0 turns it off")                                                        \
    X(CONNECT_TIMEOUT_MS, connect_timeout_ms, INT, "2000", 1, 600000, NULL, ALL | CLI,             \
      "the AMQP connect timeout")                                                                  \
    X(RECONNECT_MAX_MS, reconnect_max_ms, INT, "5000", 1, 600000, NULL, ALL,                       \
      "the cap on the AMQP reconnect backoff")                                                     \
    X(DEBUG, debug, BOOL, "False", 0, 0, NULL, EDGE,                                               \
      "debug mode (only while HTTP_HOST is loopback)")                                             \
    X(LOG_LEVEL, log_level, STR, "info", 0, 0, log_levels, ALL,                                    \
      "the least severe level logged: debug, info, warn or error")                                 \
    X(LOG_FORMAT, log_format, STR, "text", 0, 0, log_formats, ALL,                                 \
      "text (one line per event) or json (one JSON object per line)")                              \
    X(ADMIN_HOST, admin_host, STR, "127.0.0.1", 0, 0, NULL, WORKER,                                \
      "the address of the worker's admin listener (/livez, /readyz, /metrics)")                    \
    X(ADMIN_PORT, admin_port, INT, "0", 0, 65535, NULL, WORKER,                                    \
      "the port of the worker's admin listener; 0 turns it off (one port per worker)")

#define KEY_ENTRY(name, field, type, def, lo, hi, choices, uses, help)                             \
    {#name, WR__T_##type, def, offsetof(struct wr_cfg, field), lo, hi, choices},
#define KEY_DOC(name, field, type, def, lo, hi, choices, uses, help)                               \
    {#name, type##_NAME, def, help, uses},
/* A table row whose type disagrees with its field fails to compile. */
#define KEY_CHECK(name, field, type, def, lo, hi, choices, uses, help)                             \
    _Static_assert(_Generic(((struct wr_cfg *)NULL)->field, char *: WR__T_STR, long: WR__T_INT,    \
                            bool: WR__T_BOOL) == WR__T_##type,                                     \
                   #name " does not match the type of its field");

const struct wr__key wr__keys[] = {WR_CFG_TABLE(KEY_ENTRY)};
const size_t wr__nkeys = sizeof(wr__keys) / sizeof(wr__keys[0]);
static const struct wr_cfg_key docs[] = {WR_CFG_TABLE(KEY_DOC){NULL, NULL, NULL, NULL, 0}};
WR_CFG_TABLE(KEY_CHECK)

const struct wr__coll_setting wr__coll_settings[] = {
    {"NAME", "serve the collection under another name"},
    {"EXCLUDE", "'col_a, Relation, Relation.col': attributes and relations to hide"},
    {"INCLUDE", "'title, Relation, Relation.col': show only these (not with EXCLUDE)"},
    {"RENAME", "'title:name, Relation:other': rename attributes and relations"},
    {"METHODS", "'GET, POST, PATCH, PUT, DELETE, PATCH_MANY, DELETE_MANY' (default 'GET')"},
    {"DEPTH", "0: objects without their relations (default 1)"},
    {"COUNT", "'none': pages skip COUNT(*); 'estimated': from sqlite_stat1 (default 'exact')"},
    {NULL, NULL},
};

const struct wr_cfg_key *wr_cfg_keys(void)
{
    return docs;
}

const struct wr__key *wr__key_find(const char *name, size_t n)
{
    for (size_t i = 0; i < wr__nkeys; i++)
        if (wr__equals(name, n, wr__keys[i].name))
            return &wr__keys[i];
    return NULL;
}

void *wr__key_slot(struct wr_cfg *cfg, const struct wr__key *k)
{
    return (char *)cfg + k->off;
}

bool wr__coll_setting_known(const char *s, size_t n)
{
    for (const struct wr__coll_setting *c = wr__coll_settings; c->name != NULL; c++)
        if (wr__equals(s, n, c->name))
            return true;
    return false;
}

void wr_cfg_release(struct wr_cfg *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < wr__nkeys; i++) {
        if (wr__keys[i].type == WR__T_STR) {
            char **field = wr__key_slot(cfg, &wr__keys[i]);
            free(*field);
        }
    }
    for (size_t i = 0; i < cfg->ncolls; i++) {
        free(cfg->colls[i].collection);
        free(cfg->colls[i].setting);
        free(cfg->colls[i].value);
    }
    free(cfg->colls);
    *cfg = (struct wr_cfg){0};
}

const char *wr_cfg_coll_get(const struct wr_cfg *cfg, const char *collection, const char *setting)
{
    for (size_t i = cfg->ncolls; i > 0; i--) {
        const struct wr_cfg_coll *c = &cfg->colls[i - 1];
        if (strcmp(c->collection, collection) == 0 && strcmp(c->setting, setting) == 0)
            return c->value;
    }
    return NULL;
}
