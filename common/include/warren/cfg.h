/* Configuration: one table of keys shared by every warren binary.
 * Read from a Flask-style file (`KEY = 'value'` lines with Python literals:
 * quoted strings, integers, True/False; `#` comments) and overridden by the
 * environment (`WARREN_<KEY>`, dots in a key written as `__`). Per-collection
 * settings are dotted keys, `<Collection>.<SETTING>`. Every problem is
 * reported at once; the binaries then exit 2.
 * Threads: parsing is pure (no globals); a loaded struct wr_cfg is only read
 * after start-up and may be shared by any number of threads. */
#ifndef WARREN_CFG_H
#define WARREN_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/buf.h"

/* One `<Collection>.<SETTING> = value` line. The collection part is not
 * checked here (only the catalog knows the schema); the setting part is. */
struct wr_cfg_coll {
    char *collection; /* the default collection name, e.g. "Albums" */
    char *setting;    /* NAME, EXCLUDE, RENAME or METHODS */
    char *value;
};

struct wr_cfg {
    /* data and services */
    char *database_uri;          /* DATABASE_URI, 'sqlite:///relative' or 'sqlite:////absolute' */
    char *collections;           /* COLLECTIONS, comma-separated; '' serves every table */
    char *amqp_url;              /* AMQP_URL */
    char *redis_url;             /* REDIS_URL: the result cache; '' turns it off */
    long redis_timeout_ms;       /* REDIS_TIMEOUT_MS: per cache command */
    long cache_ttl_s;            /* CACHE_TTL_S */
    long cache_wait_ms;          /* CACHE_WAIT_MS: a miss waits for another worker's value */
    long cache_min_cost_us;      /* CACHE_MIN_COST_US: cheaper reads skip the cache */
    long local_cache_max_bytes;  /* LOCAL_CACHE_MAX_BYTES: the in-process tier; 0 off */
    char *mongo_uri;             /* MONGO_URI: the audit trail; '' spools only */
    char *audit_db;              /* AUDIT_DB */
    char *audit_collection;      /* AUDIT_COLLECTION */
    char *audit_spool_dir;       /* AUDIT_SPOOL_DIR */
    long audit_spool_max_bytes;  /* AUDIT_SPOOL_MAX_BYTES: stop taking requests at; 0 none */
    long audit_spool_keep_bytes; /* AUDIT_SPOOL_KEEP_BYTES: without MONGO_URI, keep this */
    long audit_sync_ms;          /* AUDIT_SYNC_MS: a group commit's wait for more records */
    char *service;               /* SERVICE: the queue suffix, warren.<service> */
    char *services;              /* SERVICES: further services the edge forwards /svc/ to */
    /* HTTP edge */
    char *http_host;         /* HTTP_HOST */
    long http_port;          /* HTTP_PORT */
    long request_timeout_ms; /* REQUEST_TIMEOUT_MS: each request's deadline */
    long max_in_flight;      /* MAX_IN_FLIGHT: requests the edge holds at once */
    long http_timeout_s;     /* HTTP_TIMEOUT_S: idle/header/body timeout per connection */
    long max_body_bytes;     /* MAX_BODY_BYTES */
    long max_header_bytes;   /* MAX_HEADER_BYTES: the header block (431 beyond) */
    long max_uri_bytes;      /* MAX_URI_BYTES: the request target (414 beyond) */
    long max_connections;    /* MAX_CONNECTIONS: client connections at once */
    long max_conns_per_addr; /* MAX_CONNECTIONS_PER_ADDRESS: from one IP address */
    long sse_max_clients;    /* SSE_MAX_CLIENTS: event streams open at once */
    long sse_catchup_max;    /* SSE_CATCHUP_MAX: catch-ups reading at once */
    long sse_warm_events;    /* SSE_WARM_EVENTS: events read into the ring at start */
    long sse_heartbeat_s;    /* SSE_HEARTBEAT_S: an idle stream's comment, every so often */
    long edge_threads;       /* EDGE_THREADS: event loops; 0 = one per core */
    long edge_audit_backlog; /* EDGE_AUDIT_BACKLOG: records held while the broker is away */
    bool single_flight;      /* SINGLE_FLIGHT: identical reads in flight share a call */
    bool edge_batch;         /* EDGE_BATCH: a busy loop's reads for a queue in one message */
    long edge_batch_max;     /* EDGE_BATCH_MAX: requests one batch holds at most */
    long edge_batch_bytes;   /* EDGE_BATCH_BYTES: a batch body's size at most */
    long edge_batch_window;  /* EDGE_BATCH_WINDOW: reads out a queue before a batch waits */
    long edge_batch_wait_us; /* EDGE_BATCH_WAIT_US: a read's wait for its batch at most */
    long max_json_depth;     /* MAX_JSON_DEPTH: nesting in q and bodies */
    long max_in_values;      /* MAX_IN_VALUES: values of one in / not_in filter */
    long rate_limit_rps;     /* RATE_LIMIT_RPS: per client per edge; 0 = off */
    long rate_limit_burst;   /* RATE_LIMIT_BURST: the bucket; 0 = 2 x RATE_LIMIT_RPS */
    long search_concurrency; /* SEARCH_CONCURRENCY: searches in flight per client; 0 = off */
    char *api_keys;          /* API_KEYS: 'name:key, ...' for writes; secret */
    char *cors_origins;      /* CORS_ORIGINS: '*', a list, or '' (off) */
    char *cache_control;     /* CACHE_CONTROL: for successful reads, or '' */
    /* worker */
    long prefetch;              /* PREFETCH: unacked deliveries per worker */
    long yield_after_ms;        /* YIELD_AFTER_MS: behind this long, a worker yields its rank */
    char *admin_host;           /* ADMIN_HOST: the admin listener's address */
    long admin_port;            /* ADMIN_PORT: /livez, /readyz, /metrics; 0 = off */
    long results_per_page;      /* RESULTS_PER_PAGE: the default page size */
    long max_results_per_page;  /* MAX_RESULTS_PER_PAGE: larger sizes are clamped */
    char *cursor_secret;        /* CURSOR_SECRET: signs keyset cursors; secret */
    long max_bulk;              /* MAX_BULK: objects one POST of a list creates at most */
    long export_max_rows;       /* EXPORT_MAX_ROWS: rows one export streams at most (edge) */
    long export_timeout_ms;     /* EXPORT_TIMEOUT_MS: one export's deadline (edge) */
    long max_depth;             /* MAX_DEPTH: the deepest ?depth= served (deeper is clamped) */
    long search_max_rel_depth;  /* SEARCH_MAX_RELATION_DEPTH: has/any nesting in q */
    long search_max_subqueries; /* SEARCH_MAX_SUBQUERIES: relation filters in one q */
    long search_max_steps;      /* SEARCH_MAX_STEPS: SQLite VM steps of a read with q; 0 off */
    long count_max;             /* COUNT_MAX: counts stop here (truncated); 0: no cap */
    bool replica;               /* REPLICA: reads from a snapshot fed by the change stream */
    long max_replica_lag_ms;    /* MAX_REPLICA_LAG_MS: stop taking requests past it; 0 none */
    long changes_max_bytes;     /* CHANGES_MAX_BYTES: the change stream's retention */
    char *changes_max_age;      /* CHANGES_MAX_AGE: e.g. '7D'; '' none */
    /* AMQP */
    long heartbeat_s;              /* HEARTBEAT_S */
    long connect_timeout_ms;       /* CONNECT_TIMEOUT_MS */
    long reconnect_max_ms;         /* RECONNECT_MAX_MS: the backoff cap */
    char *amqp_tls_ca_path;        /* AMQP_TLS_CA_PATH: '' = the system's trust store */
    char *amqp_tls_cert_path;      /* AMQP_TLS_CERT_PATH: the client certificate, or '' */
    char *amqp_tls_key_path;       /* AMQP_TLS_KEY_PATH: its key, or '' */
    char *amqp_tls_key_password;   /* AMQP_TLS_KEY_PASSWORD: of an encrypted key; secret */
    bool amqp_tls_verify_peer;     /* AMQP_TLS_VERIFY_PEER */
    bool amqp_tls_verify_hostname; /* AMQP_TLS_VERIFY_HOSTNAME */
    /* process */
    bool debug;       /* DEBUG */
    char *log_level;  /* LOG_LEVEL: debug, info, warn, error */
    char *log_format; /* LOG_FORMAT: text or json */

    struct wr_cfg_coll *colls; /* dotted keys, file order then environment */
    size_t ncolls;
};

/* Which binaries read a key (struct wr_cfg_key.uses) and which keys a
 * binary reads (struct wr_cfg_prog.uses). */
#define WR_CFG_USE_EDGE 1u    /* the HTTP edge */
#define WR_CFG_USE_WORKER 2u  /* every worker, through the worker runtime */
#define WR_CFG_USE_CATALOG 4u /* the catalog service (and <Collection>.<SETTING>) */
#define WR_CFG_USE_CLI 8u     /* warren, the command-line client */

/* The key table, for documentation (--help) and the docker test: each
 * entry's name, its type ("str", "int", "bool"), its default as text, one
 * line of help and the binaries that read it. The list ends with a NULL
 * name; it is static, never freed. */
struct wr_cfg_key {
    const char *name;
    const char *type;
    const char *def;
    const char *help;
    unsigned uses; /* WR_CFG_USE_* bits */
};
const struct wr_cfg_key *wr_cfg_keys(void);

/* Fills cfg (whatever it held is overwritten, not freed) from defaults, then
 * text (len bytes), then env (a NULL-terminated `NAME=value` array, may be
 * NULL). Returns 0, or WR_EINVAL (WR_ENOMEM when short of memory) with every
 * problem appended to problems (may be NULL), one line each ("config.cfg:3:
 * unknown key FOO"); origin names the text in those lines. On error cfg
 * holds nothing to free. Pure: no I/O. */
int wr_cfg_parse(struct wr_cfg *cfg, const char *origin, const char *text, size_t len,
                 char *const *env, struct wr_buf *problems);

/* Reads path and calls wr_cfg_parse. A missing file is an error only when
 * required is true (the default ./config.cfg may be absent). Before parsing,
 * every WARREN_<KEY>_FILE=/path in env is replaced by WARREN_<KEY> with the
 * file's content (one trailing newline dropped; one line at most, 64 KiB),
 * read once here; setting both is an error. */
int wr_cfg_load(struct wr_cfg *cfg, const char *path, bool required, char *const *env,
                struct wr_buf *problems);

/* A binary, for --help and --version. */
struct wr_cfg_prog {
    const char *name;    /* "warren-edge" */
    const char *purpose; /* one line: what it is for */
    unsigned uses;       /* WR_CFG_USE_* bits: the keys --help lists */
};

/* What the command line asks for. */
struct wr_cfg_args {
    const char *path; /* --config PATH (borrowed from argv), else "config.cfg" */
    bool required;    /* the path was given, so the file must exist */
    bool help;        /* --help */
    bool version;     /* --version */
};

/* Reads argv[1..argc-1]: `--config PATH` or `--config=PATH` (the last one
 * counts), `--help`, `--version`. Returns 0, or WR_EINVAL with one line per
 * bad argument (unknown, or --config without a path) appended to problems
 * (NULL: none). Pure: no I/O. */
int wr_cfg_args_parse(struct wr_cfg_args *a, int argc, char *const *argv, struct wr_buf *problems);

/* Appends --help's text for prog to out: the name, WARREN_VERSION and
 * purpose, the usage and options, and every key prog reads with its type,
 * default and help (the per-collection settings too for the catalog).
 * Returns 0 or the buffer's error. */
int wr_cfg_help(const struct wr_cfg_prog *prog, struct wr_buf *out);

/* For main(), before anything else: reads the arguments, then the config
 * file and the process environment (wr_cfg_load). Returns true with cfg
 * loaded when the program should run. Returns false, cfg holding nothing
 * to free, when main() should return *status at once: 0 after printing
 * --help's text or `<name> <version>` (--version) to stdout; 2 after
 * printing every problem of the arguments, the file and the environment to
 * stderr. */
bool wr_cfg_from_args(struct wr_cfg *cfg, const struct wr_cfg_prog *prog, int argc, char **argv,
                      int *status);

/* One entry of API_KEYS, 'name:key, name:key': pointers into the string. */
struct wr_api_key {
    const char *name;
    size_t name_len;
    const char *key;
    size_t key_len;
    bool ok; /* a name of [A-Za-z0-9_.-]{1,64}, a key of 16 to 256 of 0x21-0x7e but ',' */
};
#define WR_API_KEY_NAME_MAX 64
#define WR_API_KEY_MIN 16
#define WR_API_KEY_MAX 256
/* Reads the entry at p into k; returns where the next one starts, or NULL
 * when no entry is left. wr_cfg_parse refuses a malformed API_KEYS, so after
 * a successful load every entry is ok. */
const char *wr_cfg_api_key_next(const char *p, struct wr_api_key *k);

/* Lists (CORS_ORIGINS, SERVICES) separate their items by these. */
#define WR_CFG_LIST_SEPARATORS ", \t"
/* The list item at or after p: *item and *len are set to it (pointing into
 * the string) and the return value is where the next search starts; NULL
 * when no item is left. */
const char *wr_cfg_list_next(const char *p, const char **item, size_t *len);

/* A service name, as SERVICES lists them: [a-z][a-z0-9-]{0,31}. */
#define WR_SERVICE_NAME_MAX 32
bool wr_cfg_service_name_ok(const char *s, size_t n);
/* Whether SERVICES lists the n bytes of name (wr_cfg_parse has checked
 * that every entry is a service name other than SERVICE). */
bool wr_cfg_service_listed(const struct wr_cfg *cfg, const char *name, size_t n);

/* Frees every string. NULL-safe; cfg may be loaded again. */
void wr_cfg_release(struct wr_cfg *cfg);

/* The value of `<collection>.<setting>`, the last one given; NULL if unset. */
const char *wr_cfg_coll_get(const struct wr_cfg *cfg, const char *collection, const char *setting);

#endif
