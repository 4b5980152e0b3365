/* The SQLite adapter (see store.h): opening, statements and their cache,
 * transactions, deadlines and budgets. A store's SQLite result codes are
 * translated to WR_E* by store__db_error, here (the change log's own
 * connections, which have no store, by changes_sqlite.c). */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"
#include "warren/clock.h"
#include "warren/log.h"
#include "warren/rpc.h"
#include "warren/analyzer.h"

#define CACHE_SLOTS 256 /* statement cache: open addressing by SQL text */
#define MAX_COLS 256

struct cached {
    char *sql;
    sqlite3_stmt *stmt;
};

struct store {
    sqlite3 *db;
    struct cached cache[CACHE_SLOTS];
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
    struct store_defs defs;       /* store_introspect's (introspect_sqlite.c) */
    long long deadline_ms;        /* statements past it are interrupted; 0: none */
    long long budget_ticks;       /* progress calls allowed (store_set_budget); 0: none */
    long long ticks;              /* progress calls since the budget was set */
    bool over_budget;             /* the last interruption was the budget's */
    long long busy_since;         /* when the current wait for a lock began */
    wr_series *timing;            /* each statement's time in SQLite, or NULL */
    struct store_changes changes; /* a writer's change log (changes_sqlite.c) */
};

sqlite3 *store__db(store *st)
{
    return st->db;
}

struct store_changes *store__changes(store *st)
{
    return &st->changes;
}

struct store_defs *store__defs(store *st)
{
    return &st->defs;
}

#define BUSY_TIMEOUT_MS 5000
#define BUSY_MARGIN_MS 100 /* time left for the reply to reach the caller */

/* Waits for a lock another connection holds, in 5 ms naps, at most
 * BUSY_TIMEOUT_MS and never past the request's deadline (less the time
 * its reply needs): the caller then answers 503 while someone still waits
 * for it, instead of a reply nobody reads. */
static int busy_wait(void *arg, int count)
{
    store *st = arg;
    long long now = wr_steady_ms();
    if (count == 0)
        st->busy_since = now;
    if (now - st->busy_since >= BUSY_TIMEOUT_MS ||
        (st->deadline_ms > 0 && now + BUSY_MARGIN_MS >= st->deadline_ms))
        return 0;
    struct timespec ts = {0, 5 * 1000000L};
    (void)nanosleep(&ts, NULL);
    return 1;
}

#define PROGRESS_STEPS 10000 /* VM steps between two calls of the progress handler */

/* SQLite calls this every PROGRESS_STEPS VM steps, the one place that cuts
 * a statement short (SQLITE_INTERRUPT): past the step budget of a search
 * (store_set_budget: a cost that depends on the query, not on the load,
 * so well under the deadline), or still running at the request's deadline,
 * so no search can hold a worker (and its heartbeats) past the time anyone
 * waits for it. */
static int progress(void *arg)
{
    store *st = arg;
    if (st->budget_ticks > 0 && ++st->ticks > st->budget_ticks) {
        st->over_budget = true;
        return 1;
    }
    return st->deadline_ms > 0 && wr_steady_ms() > st->deadline_ms;
}

int store__db_error(store *st, int rc, const char *what, struct wr_err *err)
{
    int code = (rc & 0xff) == SQLITE_BUSY         ? WR_EBUSY
               : (rc & 0xff) == SQLITE_CONSTRAINT ? WR_ECONFLICT
               : (rc & 0xff) == SQLITE_INTERRUPT  ? (st->over_budget ? WR_ETOOBIG : WR_ETIMEDOUT)
                                                  : WR_EIO;
    return wr_err_set(err, code, "sqlite: %s: %s", what,
                      st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
}

static store *store_open_mode(const char *uri, bool writer, struct wr_err *err);

/* A warren_applied table made before write fingerprints gets the column;
 * its old rows keep NULL there (the ledger answers them as before). */
static int add_fingerprint_column(store *st)
{
    sqlite3_stmt *probe = NULL;
    int rc = sqlite3_prepare_v2(st->db, "SELECT fingerprint FROM warren_applied LIMIT 0", -1,
                                &probe, NULL);
    sqlite3_finalize(probe);
    if (rc == SQLITE_OK)
        return SQLITE_OK;
    wr_info(NULL, "sqlite: adding the fingerprint column to warren_applied");
    return sqlite3_exec(st->db, "ALTER TABLE warren_applied ADD COLUMN fingerprint TEXT", NULL,
                        NULL, NULL);
}

store *store__open(const char *uri, bool writer, struct wr_err *err)
{
    return store_open_mode(uri, writer, err);
}

store *store_open(const char *uri, struct wr_err *err)
{
    return store_open_mode(uri, false, err);
}

store *store_open_writer(const char *uri, struct wr_err *err)
{
    store *st = store_open_mode(uri, true, err);
    /* The ids of applied writes, in the same transactions as the writes,
     * so a write delivered twice is applied once. */
    static const char ddl[] = "CREATE TABLE IF NOT EXISTS warren_applied ("
                              "message_id TEXT PRIMARY KEY, status INTEGER NOT NULL, "
                              "object_key TEXT, location TEXT, at INTEGER NOT NULL, "
                              "fingerprint TEXT)";
    /* What a write of many objects (a bulk create, a batch) answered:
     * their keys and counts, to answer a redelivery alike. */
    static const char ddl_many[] = "CREATE TABLE IF NOT EXISTS warren_applied_many ("
                                   "message_id TEXT PRIMARY KEY, answer TEXT NOT NULL)";
    /* Write-ahead logging, so that a writer (ours, or another process
     * holding the write lock) never blocks readers: in the rollback journal
     * mode an exclusive lock stops every read. The mode stays with the file. */
    if (st != NULL && sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != 0)
        wr_warn(NULL, "sqlite: cannot switch to WAL, readers wait for writers: %s",
                sqlite3_errmsg(st->db));
    int rc = st ? sqlite3_exec(st->db, ddl, NULL, NULL, NULL) : SQLITE_OK;
    if (rc == SQLITE_OK && st != NULL)
        rc = add_fingerprint_column(st);
    if (rc == SQLITE_OK && st != NULL)
        rc = sqlite3_exec(st->db, ddl_many, NULL, NULL, NULL);
    if (rc == SQLITE_OK && st != NULL)
        rc = sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store__db_error(st, rc, "preparing for writes", err);
        store_free(st);
        return NULL;
    }
    return st;
}

static store *store_open_mode(const char *uri, bool writer, struct wr_err *err)
{
    static const char prefix[] = "sqlite:///";
    if (uri == NULL || strncmp(uri, prefix, sizeof(prefix) - 1) != 0 ||
        uri[sizeof(prefix) - 1] == '\0') {
        wr_err_set(err, WR_EINVAL, "DATABASE_URI must be sqlite:///path");
        return NULL;
    }
    store *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        wr_err_set(err, WR_ENOMEM, "store: out of memory");
        return NULL;
    }
    const char *path = uri + sizeof(prefix) - 1; /* 'sqlite:////abs' leaves '/abs' */
    int flags = (writer ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
    if (rc == SQLITE_OK)
        sqlite3_progress_handler(st->db, PROGRESS_STEPS, progress, st);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_handler(st->db, busy_wait, st);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(st->db, writer ? "BEGIN IMMEDIATE" : "BEGIN", -1,
                                SQLITE_PREPARE_PERSISTENT, &st->begin, NULL);
    /* Writers take the write lock up front (BEGIN IMMEDIATE): SQLite does not
     * call the busy handler when a read transaction becomes a write one. */
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(st->db, "ROLLBACK", -1, SQLITE_PREPARE_PERSISTENT, &st->rollback,
                                NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(st->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &st->commit, NULL);
    if (rc != SQLITE_OK) {
        store__db_error(st, rc, path, err);
        store_free(st);
        return NULL;
    }
    return st;
}

void store_free(store *st)
{
    if (st == NULL)
        return;
    store__changes_end(st, false); /* a session must go before its connection */
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        sqlite3_finalize(st->cache[i].stmt);
        free(st->cache[i].sql);
    }
    sqlite3_finalize(st->begin);
    sqlite3_finalize(st->commit);
    sqlite3_finalize(st->rollback);
    store__defs_free(&st->defs);
    sqlite3_close(st->db);
    free(st);
}

int store_begin(store *st, struct wr_err *err)
{
    int rc = sqlite3_step(st->begin);
    sqlite3_reset(st->begin);
    if (rc != SQLITE_DONE)
        return store__db_error(st, rc, "BEGIN", err);
    int result = store__changes_begin(st, err);
    if (result != 0)
        store_rollback(st);
    return result;
}

void store_end(store *st)
{
    /* A read transaction has nothing to lose: COMMIT only ends it. */
    (void)sqlite3_step(st->commit);
    sqlite3_reset(st->commit);
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The cached statement for sql, prepared on first use. When the cached one
 * is running (a nested query of the same text) a fresh one is prepared and
 * *temp is set: the caller finalizes it. */
static sqlite3_stmt *statement(store *st, const char *sql, bool *temp, int *rc)
{
    *temp = false;
    uint32_t h = hash(sql);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct cached *c = &st->cache[(h + i) % CACHE_SLOTS];
        if (c->sql != NULL && strcmp(c->sql, sql) != 0)
            continue;
        if (c->sql != NULL && !sqlite3_stmt_busy(c->stmt))
            return c->stmt;
        if (c->sql == NULL) {
            *rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmt, NULL);
            c->sql = *rc == SQLITE_OK ? strdup(sql) : NULL;
            if (*rc == SQLITE_OK && c->sql == NULL) {
                sqlite3_finalize(c->stmt);
                c->stmt = NULL;
                *rc = SQLITE_NOMEM;
            }
            return c->stmt;
        }
        break; /* cached but busy */
    }
    sqlite3_stmt *s = NULL;
    *rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    *temp = true;
    return s;
}

static int bind_all(sqlite3_stmt *s, const struct value *binds, size_t n)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        const struct value *v = &binds[i];
        int at = (int)i + 1;
        switch (v->kind) {
        case V_NULL:
            rc = sqlite3_bind_null(s, at);
            break;
        case V_INT:
            rc = sqlite3_bind_int64(s, at, v->i);
            break;
        case V_REAL:
            rc = sqlite3_bind_double(s, at, v->d);
            break;
        case V_TEXT:
            rc = sqlite3_bind_text(s, at, v->s, (int)v->n, SQLITE_STATIC);
            break;
        case V_BLOB:
            rc = sqlite3_bind_blob(s, at, v->s, (int)v->n, SQLITE_STATIC);
            break;
        }
    }
    return rc;
}

static void read_row(sqlite3_stmt *s, struct value *row, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        struct value *v = &row[i];
        switch (sqlite3_column_type(s, i)) {
        case SQLITE_INTEGER:
            *v = (struct value){.kind = V_INT, .i = sqlite3_column_int64(s, i)};
            break;
        case SQLITE_FLOAT:
            *v = (struct value){.kind = V_REAL, .d = sqlite3_column_double(s, i)};
            break;
        case SQLITE_TEXT:
            *v = (struct value){.kind = V_TEXT, .s = (const char *)sqlite3_column_text(s, i)};
            v->n = (size_t)sqlite3_column_bytes(s, i);
            break;
        case SQLITE_BLOB:
            *v = (struct value){.kind = V_BLOB, .s = sqlite3_column_blob(s, i)};
            v->n = (size_t)sqlite3_column_bytes(s, i);
            break;
        default:
            *v = (struct value){.kind = V_NULL};
            break;
        }
    }
}

int store_query(store *st, const char *sql, const struct value *binds, size_t nbinds,
                store_row_fn fn, void *arg, struct wr_err *err)
{
    bool temp;
    int rc = SQLITE_OK;
    sqlite3_stmt *s = statement(st, sql, &temp, &rc);
    if (s == NULL)
        return store__db_error(st, rc, "prepare", err);
    rc = bind_all(s, binds, nbinds);
    int ncols = sqlite3_column_count(s);
    int result = 0;
    struct value row[MAX_COLS];
    if (ncols > MAX_COLS)
        rc = SQLITE_TOOBIG;
    /* only the steps are timed: a row's callback may render or query again */
    uint64_t in_sqlite = 0;
    while (rc == SQLITE_OK) {
        uint64_t t0 = st->timing != NULL ? wr_metrics_now_ns() : 0;
        rc = sqlite3_step(s);
        in_sqlite += st->timing != NULL ? wr_metrics_now_ns() - t0 : 0;
        if (rc != SQLITE_ROW)
            break;
        read_row(s, row, ncols);
        result = fn(arg, row, (size_t)ncols);
        rc = result == 0 ? SQLITE_OK : SQLITE_DONE;
    }
    wr_series_observe_ns(st->timing, in_sqlite);
    /* A statement that prepared fails with SQLITE_ERROR at a step only on
     * what it was given: in our reads, a full-text query FTS5 refused
     * ("fts5: syntax error near ...", "no such column: x"): the request's
     * fault, a 400, never a 500. */
    if (rc == SQLITE_ERROR && result == 0 && strstr(sql, " MATCH ?") != NULL)
        result = wr_err_set(err, WR_EINVAL, "%s", sqlite3_errmsg(st->db));
    else if (rc != SQLITE_DONE && result == 0)
        result = store__db_error(st, rc, "query", err);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (temp)
        sqlite3_finalize(s);
    return result;
}

static int take_count(void *arg, const struct value *row, size_t ncols)
{
    long long *out = arg;
    *out = ncols > 0 && row[0].kind == V_INT ? row[0].i : 0;
    return 0;
}

int store_count(store *st, const char *sql, const struct value *binds, size_t nbinds,
                long long *out, struct wr_err *err)
{
    *out = 0;
    return store_query(st, sql, binds, nbinds, take_count, out, err);
}

int store_commit(store *st, struct wr_err *err)
{
    /* the transaction's changes go to the outbox inside it */
    int result = store__changes_record(st, err);
    if (result != 0) {
        store_rollback(st);
        return result;
    }
    int rc = sqlite3_step(st->commit);
    sqlite3_reset(st->commit);
    if (rc == SQLITE_DONE) {
        store__changes_end(st, true);
        return 0;
    }
    store_rollback(st);
    return store__db_error(st, rc, "COMMIT", err);
}

void store_rollback(store *st)
{
    store__changes_end(st, false);
    if (sqlite3_get_autocommit(st->db))
        return;
    (void)sqlite3_step(st->rollback);
    sqlite3_reset(st->rollback);
}

int store_exec(store *st, const char *sql, const struct value *binds, size_t nbinds,
               long long *changes, struct wr_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = bind_all(s, binds, nbinds);
    if (rc == SQLITE_OK) {
        uint64_t t0 = st->timing != NULL ? wr_metrics_now_ns() : 0;
        rc = sqlite3_step(s);
        if (st->timing != NULL)
            wr_series_observe_ns(st->timing, wr_metrics_now_ns() - t0);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = store__db_error(st, rc, "write", err);
        sqlite3_finalize(s);
        return rc;
    }
    sqlite3_finalize(s);
    if (changes != NULL)
        *changes = sqlite3_changes64(st->db);
    return 0;
}

static int take_version(void *arg, const struct value *row, size_t ncols)
{
    if (ncols > 0 && row[0].kind == V_INT)
        *(long long *)arg = row[0].i;
    return 0;
}

long long store_data_version(store *st)
{
    long long version = -1;
    struct wr_err ignored = {0};
    if (store_query(st, "PRAGMA data_version", NULL, 0, take_version, &version, &ignored) != 0 ||
        version < 0)
        return -1;
    /* data_version moves with other connections' commits only; this
     * connection's own changes are counted apart. Both only grow, so their
     * sum moves whenever either does. */
    return version + (long long)sqlite3_total_changes64(st->db);
}

long long store_last_rowid(store *st)
{
    return sqlite3_last_insert_rowid(st->db);
}

void store_set_metrics(store *st, wr_series *series)
{
    if (st != NULL)
        st->timing = series;
}

void store_set_deadline(store *st, long long deadline_ms)
{
    if (st != NULL)
        st->deadline_ms = deadline_ms;
}

void store_set_budget(store *st, long long steps)
{
    if (st == NULL)
        return;
    st->budget_ticks = steps > 0 ? (steps + PROGRESS_STEPS - 1) / PROGRESS_STEPS : 0;
    st->ticks = 0;
    st->over_budget = false;
}

bool store_over_budget(const store *st)
{
    return st != NULL && st->over_budget;
}
