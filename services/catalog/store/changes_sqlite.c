/* The change log's SQLite side (see store.h, "Change log"): the writer's
 * outbox (each write transaction's changes as a changeset, recorded by
 * SQLite's session extension in the same transaction), the replica's
 * applying of changesets with its position, and snapshots. */
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "warren/buf.h"
#include "warren/log.h"
#include "warren/rpc.h"

/* A transaction's change events at most: past it the write fails (a
 * write of many rows answers 413 rather than an event lost). */
#define EVENTS_MAX (256 << 20)

static int sql_error(sqlite3 *db, int rc, const char *what, struct wr_err *err)
{
    int code = (rc & 0xff) == SQLITE_BUSY ? WR_EBUSY : WR_EIO;
    return wr_err_set(err, code, "sqlite: %s: %s", what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* One statement with integer binds (and a blob when data is not NULL,
 * bound last); *out (may be NULL) gets the first column of the first row. */
static int run(sqlite3 *db, const char *sql, const long long *ints, int nints, const void *data,
               size_t len, long long *out, struct wr_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    for (int i = 0; rc == SQLITE_OK && i < nints; i++)
        rc = sqlite3_bind_int64(s, i + 1, ints[i]);
    if (rc == SQLITE_OK && data != NULL)
        rc = sqlite3_bind_blob64(s, nints + 1, data, len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && out != NULL)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_error(db, rc, sql, err);
}

/* ---- the writer's outbox ---- */

/* The outbox holds the changesets; recording it would record itself. */
static int record_table(void *arg, const char *table)
{
    (void)arg;
    return strcmp(table, "warren_outbox") != 0 && strcmp(table, "warren_log") != 0 &&
           strncmp(table, "sqlite_", 7) != 0;
}

/* Warns about the tables a changeset cannot carry: the session extension
 * ignores tables without a primary key. */
static void warn_keyless(sqlite3 *db)
{
    static const char sql[] =
        "SELECT name FROM sqlite_schema s WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND NOT EXISTS (SELECT 1 FROM pragma_table_info(s.name) WHERE pk > 0)";
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(s) == SQLITE_ROW)
        wr_warn(NULL, "table %s has no primary key: replicas never see its changes",
                (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
}

/* The log's id: made once per writer file, so that positions from
 * another file's log (a restored backup, a file replaced) are never taken
 * for this one's. */
static int make_log_id(sqlite3 *db, struct wr_err *err)
{
    static const char ddl[] = "CREATE TABLE IF NOT EXISTS warren_log ("
                              "id INTEGER PRIMARY KEY CHECK (id = 1), log_id TEXT NOT NULL)";
    char id[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(id);
    sqlite3_stmt *s = NULL;
    int rc = run(db, ddl, NULL, 0, NULL, 0, NULL, err);
    if (rc != 0)
        return rc;
    rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO warren_log VALUES (1, ?)", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : sql_error(db, rc, "making the log's id", err);
}

/* The first text column of sql's first row into out ("" when none). */
static int read_text(sqlite3 *db, const char *sql, char *out, size_t cap, struct wr_err *err)
{
    sqlite3_stmt *s = NULL;
    out[0] = '\0';
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
        (void)snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_error(db, rc, sql, err);
}

int store_log_id(store *st, char *out, size_t cap, struct wr_err *err)
{
    return read_text(store__db(st), "SELECT log_id FROM warren_log WHERE id = 1", out, cap, err);
}

/* An outbox made before change events gets their column (NULL: the
 * entry has none), so a file of the previous version still opens. */
static int add_events_column(sqlite3 *db, struct wr_err *err)
{
    sqlite3_stmt *probe = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT events FROM warren_outbox LIMIT 0", -1, &probe, NULL);
    sqlite3_finalize(probe);
    if (rc == SQLITE_OK)
        return 0;
    wr_info(NULL, "sqlite: adding the events column to warren_outbox");
    return run(db, "ALTER TABLE warren_outbox ADD COLUMN events TEXT", NULL, 0, NULL, 0, NULL, err);
}

int store_outbox_enable(store *st, struct wr_err *err)
{
    static const char ddl[] = "CREATE TABLE IF NOT EXISTS warren_outbox ("
                              "position INTEGER PRIMARY KEY, at INTEGER NOT NULL, "
                              "changeset BLOB NOT NULL, published INTEGER NOT NULL DEFAULT 0, "
                              "events TEXT)";
    sqlite3 *db = store__db(st);
    int rc = make_log_id(db, err);
    if (rc == 0)
        rc = run(db, ddl, NULL, 0, NULL, 0, NULL, err);
    if (rc == 0)
        rc = add_events_column(db, err);
    struct store_changes *ch = store__changes(st);
    if (rc == 0)
        rc = run(db, "SELECT coalesce(max(position), 0) FROM warren_outbox", NULL, 0, NULL, 0,
                 &ch->position, err);
    if (rc != 0)
        return rc;
    warn_keyless(db);
    ch->outbox = true;
    return 0;
}

long long store_position(store *st)
{
    return st != NULL ? store__changes(st)->position : 0;
}

int store__changes_begin(store *st, struct wr_err *err)
{
    struct store_changes *ch = store__changes(st);
    if (!ch->outbox)
        return 0;
    sqlite3 *db = store__db(st);
    sqlite3_session *s = NULL;
    int rc = sqlite3session_create(db, "main", &s);
    if (rc == SQLITE_OK) {
        sqlite3session_table_filter(s, record_table, NULL);
        rc = sqlite3session_attach(s, NULL);
    }
    if (rc != SQLITE_OK) {
        sqlite3session_delete(s);
        return sql_error(db, rc, "recording changes", err);
    }
    ch->session = s;
    return 0;
}

/* The open transaction's outbox entry: its changeset, and its events
 * (NULL when none). */
static int insert_entry(sqlite3 *db, const struct store_changes *ch, const void *data, size_t len,
                        const struct wr_buf *events, struct wr_err *err)
{
    static const char sql[] =
        "INSERT INTO warren_outbox (position, at, changeset, events) VALUES (?, ?, ?, ?)";
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, ch->pending);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, ch->pending_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob64(s, 3, data, len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = events->len > 0
                 ? sqlite3_bind_text64(s, 4, events->data, events->len, SQLITE_STATIC, SQLITE_UTF8)
                 : sqlite3_bind_null(s, 4);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : sql_error(db, rc, sql, err);
}

int store__changes_record(store *st, struct wr_err *err)
{
    struct store_changes *ch = store__changes(st);
    if (ch->session == NULL)
        return 0;
    sqlite3 *db = store__db(st);
    int n = 0;
    void *data = NULL;
    int rc = sqlite3session_changeset(ch->session, &n, &data);
    if (rc != SQLITE_OK) {
        sqlite3_free(data);
        return sql_error(db, rc, "reading the changes", err);
    }
    /* One position per committed transaction, one more than the last, so
     * a reader can tell a gap from a repeat. */
    rc = run(db, "SELECT coalesce(max(position), 0) + 1 FROM warren_outbox", NULL, 0, NULL, 0,
             &ch->pending, err);
    ch->pending_at = wr_now_ms();
    /* the events see the rows as this transaction leaves them */
    struct wr_buf events;
    wr_buf_init(&events, EVENTS_MAX);
    if (rc == 0)
        rc = store__events_render(st, data, (size_t)n, &events, err);
    if (rc == 0 && wr_buf_error(&events) != 0)
        rc = wr_err_set(err, WR_ETOOBIG, "the transaction's change events exceed %d bytes",
                        EVENTS_MAX);
    if (rc == 0)
        rc = insert_entry(db, ch, data != NULL ? data : "", (size_t)n, &events, err);
    wr_buf_release(&events);
    sqlite3_free(data);
    return rc;
}

void store__changes_end(store *st, bool committed)
{
    struct store_changes *ch = store__changes(st);
    if (ch->session == NULL)
        return;
    sqlite3session_delete(ch->session);
    ch->session = NULL;
    if (!committed)
        return;
    ch->position = ch->pending;
    if (ch->on_commit != NULL)
        ch->on_commit(ch->on_commit_arg, ch->position);
}

void store_on_commit(store *st, store_commit_fn fn, void *arg)
{
    struct store_changes *ch = store__changes(st);
    ch->on_commit = fn;
    ch->on_commit_arg = arg;
}

int store_outbox_read(store *st, long long after, int max, store_change_fn fn, void *arg,
                      struct wr_err *err)
{
    sqlite3 *db = store__db(st);
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT position, at, changeset, events FROM warren_outbox "
                                "WHERE published = 0 AND position > ? ORDER BY position LIMIT ?",
                                -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, after);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 2, max);
    int result = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_change c = {.position = sqlite3_column_int64(s, 0),
                                 .at_ms = sqlite3_column_int64(s, 1),
                                 .data = sqlite3_column_blob(s, 2),
                                 .len = (size_t)sqlite3_column_bytes(s, 2),
                                 .events = (const char *)sqlite3_column_text(s, 3),
                                 .events_len = (size_t)sqlite3_column_bytes(s, 3)};
        result = fn(arg, &c);
        rc = result == 0 ? SQLITE_OK : SQLITE_DONE;
    }
    if (rc != SQLITE_DONE && result == 0)
        result = sql_error(db, rc, "reading the outbox", err);
    sqlite3_finalize(s);
    return result;
}

int store_outbox_mark(store *st, long long upto, struct wr_err *err)
{
    sqlite3 *db = store__db(st);
    /* Published entries are dropped but the newest, which keeps the next
     * position counting on from it. */
    int rc = run(db, "BEGIN IMMEDIATE", NULL, 0, NULL, 0, NULL, err);
    if (rc == 0)
        rc = run(db, "UPDATE warren_outbox SET published = 1 WHERE position <= ? AND published = 0",
                 &upto, 1, NULL, 0, NULL, err);
    if (rc == 0)
        rc = run(db,
                 "DELETE FROM warren_outbox WHERE published = 1 AND position < "
                 "(SELECT max(position) FROM warren_outbox)",
                 NULL, 0, NULL, 0, NULL, err);
    if (rc == 0)
        rc = run(db, "COMMIT", NULL, 0, NULL, 0, NULL, err);
    if (rc != 0 && !sqlite3_get_autocommit(db))
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- the replica's side ---- */

store *store_open_replica(const char *uri, struct store_replica_pos *pos, struct wr_err *err)
{
    store *st = store__open(uri, true, err);
    if (st == NULL)
        return NULL;
    sqlite3 *db = store__db(st);
    /* readers (the worker's requests) never wait for the changes applied */
    if (sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK)
        wr_warn(NULL, "sqlite: cannot switch to WAL, readers wait for changes: %s",
                sqlite3_errmsg(db));
    if (store_replica_position(st, pos, err) != 0) {
        store_free(st);
        return NULL;
    }
    return st;
}

int store_replica_position(store *st, struct store_replica_pos *pos, struct wr_err *err)
{
    sqlite3 *db = store__db(st);
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(
        db, "SELECT position, stream_offset, at, log_id FROM warren_replica WHERE id = 1", -1, &s,
        NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(s);
        return wr_err_set(err, WR_EINVAL,
                          "the database is no replica's (no warren_replica table): start a "
                          "replica from a snapshot (warren-catalog --snapshot PATH)");
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *pos = (struct store_replica_pos){.position = sqlite3_column_int64(s, 0),
                                          .stream_offset = sqlite3_column_int64(s, 1),
                                          .at_ms = sqlite3_column_int64(s, 2)};
        const unsigned char *id = sqlite3_column_text(s, 3);
        (void)snprintf(pos->log_id, sizeof(pos->log_id), "%s", id ? (const char *)id : "");
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? wr_err_set(err, WR_EINVAL, "warren_replica has no row")
                                 : sql_error(db, rc, "reading the position", err);
    return 0;
}

/* What a conflicting changeset met, for the message. */
struct conflict {
    char what[200];
};

/* A change to a table the replica lacks would be skipped silently by
 * SQLite: it is a divergence like any conflict (schema changes are not in
 * changesets: they need a new snapshot). */
struct filter_arg {
    sqlite3 *db;
    struct conflict *c;
};

static int table_exists(void *arg, const char *table)
{
    const struct filter_arg *f = arg;
    if (sqlite3_table_column_metadata(f->db, "main", table, NULL, NULL, NULL, NULL, NULL, NULL) ==
        SQLITE_OK)
        return 1;
    if (f->c->what[0] == '\0')
        (void)snprintf(f->c->what, sizeof(f->c->what), "table %s is missing here", table);
    return 0;
}

static int on_conflict(void *arg, int kind, sqlite3_changeset_iter *it)
{
    struct conflict *c = ((struct filter_arg *)arg)->c;
    const char *table = "?";
    int ncols = 0, op = 0, indirect = 0;
    (void)sqlite3changeset_op(it, &table, &ncols, &op, &indirect);
    const char *why = kind == SQLITE_CHANGESET_DATA         ? "a changed row differs here"
                      : kind == SQLITE_CHANGESET_NOTFOUND   ? "a changed row is missing here"
                      : kind == SQLITE_CHANGESET_CONFLICT   ? "an inserted key exists here"
                      : kind == SQLITE_CHANGESET_CONSTRAINT ? "a constraint refused a change"
                                                            : "a foreign key refused a change";
    (void)snprintf(c->what, sizeof(c->what), "%s (table %s)", why, table);
    return SQLITE_CHANGESET_ABORT;
}

int store_apply(store *st, const struct store_replica_pos *pos, const void *data, size_t len,
                struct wr_err *err)
{
    sqlite3 *db = store__db(st);
    struct conflict c = {""};
    int rc = run(db, "BEGIN IMMEDIATE", NULL, 0, NULL, 0, NULL, err);
    if (rc != 0)
        return rc;
    struct filter_arg f = {db, &c};
    int src = sqlite3changeset_apply(db, (int)len, (void *)data, table_exists, on_conflict, &f);
    if (src == SQLITE_OK && c.what[0] != '\0')
        src = SQLITE_ABORT; /* a table was missing */
    if (src != SQLITE_OK) {
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        if (c.what[0] != '\0' || (src & 0xff) == SQLITE_ABORT)
            return wr_err_set(err, WR_ECONFLICT, "change %lld does not apply: %s", pos->position,
                              c.what[0] ? c.what : "aborted");
        return sql_error(db, src, "applying a change", err);
    }
    long long v[3] = {pos->position, pos->stream_offset, pos->at_ms};
    rc = run(db, "UPDATE warren_replica SET position = ?, stream_offset = ?, at = ? WHERE id = 1",
             v, 3, NULL, 0, NULL, err);
    if (rc == 0)
        rc = run(db, "COMMIT", NULL, 0, NULL, 0, NULL, err);
    if (rc != 0 && !sqlite3_get_autocommit(db))
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* In the snapshot at path: the position the copy holds (the newest
 * outbox entry it copied), recorded in warren_replica; the outbox itself
 * is the writer's and goes. */
static int make_replica(const char *path, long long *position, struct wr_err *err)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        rc = sql_error(db, rc, path, err);
        sqlite3_close(db);
        return rc;
    }
    *position = 0;
    rc = run(db, "BEGIN IMMEDIATE", NULL, 0, NULL, 0, NULL, err);
    sqlite3_stmt *probe = NULL;
    bool outbox = sqlite3_prepare_v2(db, "SELECT max(position) FROM warren_outbox", -1, &probe,
                                     NULL) == SQLITE_OK;
    sqlite3_finalize(probe);
    if (rc == 0 && !outbox)
        rc = wr_err_set(err, WR_EIO, "the copy has no outbox");
    if (rc == 0)
        rc = run(db, "SELECT coalesce(max(position), 0) FROM warren_outbox", NULL, 0, NULL, 0,
                 position, err);
    char log_id[WR_REQUEST_ID_LEN + 1] = "";
    if (rc == 0)
        rc = read_text(db, "SELECT log_id FROM warren_log WHERE id = 1", log_id, sizeof(log_id),
                       err);
    if (rc == 0)
        rc = run(db, "DROP TABLE IF EXISTS warren_outbox", NULL, 0, NULL, 0, NULL, err);
    if (rc == 0)
        rc = run(db, "DROP TABLE IF EXISTS warren_log", NULL, 0, NULL, 0, NULL, err);
    if (rc == 0)
        rc = run(db,
                 "CREATE TABLE warren_replica (id INTEGER PRIMARY KEY CHECK (id = 1), "
                 "position INTEGER NOT NULL, stream_offset INTEGER NOT NULL, at INTEGER NOT NULL, "
                 "log_id TEXT NOT NULL)",
                 NULL, 0, NULL, 0, NULL, err);
    sqlite3_stmt *ins = NULL;
    if (rc == 0 && sqlite3_prepare_v2(db, "INSERT INTO warren_replica VALUES (1, ?, -1, ?, ?)", -1,
                                      &ins, NULL) == SQLITE_OK) {
        (void)sqlite3_bind_int64(ins, 1, *position);
        (void)sqlite3_bind_int64(ins, 2, wr_now_ms());
        (void)sqlite3_bind_text(ins, 3, log_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(ins) == SQLITE_DONE ? 0 : sql_error(db, SQLITE_ERROR, "snapshot", err);
    }
    sqlite3_finalize(ins);
    if (rc == 0)
        rc = run(db, "COMMIT", NULL, 0, NULL, 0, NULL, err);
    if (rc == 0)
        rc = run(db, "PRAGMA journal_mode = WAL", NULL, 0, NULL, 0, NULL, err);
    sqlite3_close(db);
    return rc;
}

int store_snapshot(const char *uri, const char *path, long long *position, struct wr_err *err)
{
    struct wr_err local = {0};
    err = err != NULL ? err : &local;
    /* the writer's file gets its tables (warren_applied, its log and its
     * id) first, if it has none yet: a changeset to a table the copy lacks
     * would not apply */
    store *st = store_open_writer(uri, err);
    if (st == NULL || store_outbox_enable(st, err) != 0) {
        store_free(st);
        return err->code != 0 ? err->code : WR_EIO;
    }
    sqlite3 *db = store__db(st);
    sqlite3_stmt *s = NULL;
    /* VACUUM INTO copies one consistent read of the file, outbox included,
     * so the copy's newest outbox entry is the position its data is at. */
    int rc = sqlite3_prepare_v2(db, "VACUUM INTO ?", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    int result = rc == SQLITE_DONE ? 0 : sql_error(db, rc, "VACUUM INTO", err);
    sqlite3_finalize(s);
    store_free(st);
    if (result == 0)
        result = make_replica(path, position, err);
    return result;
}
