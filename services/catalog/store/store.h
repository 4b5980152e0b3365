/* The SQLite adapter: the only catalog file that includes sqlite3.h. Opens
 * the database read-only, reads its schema, and runs the plan's statements
 * with bound values, handing each row to a callback. Prepared statements are
 * cached by SQL text for the life of the store. */
#ifndef CATALOG_STORE_H
#define CATALOG_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"
#include "warren/err.h"
#include "warren/metrics.h"

typedef struct store store;

/* Opens the database a DATABASE_URI names: 'sqlite:///relative/path' or
 * 'sqlite:////absolute/path' (SQLAlchemy's forms). NULL on error, with err. */
store *store_open(const char *uri, struct wr_err *err);
void store_free(store *st);

/* The same database opened for writing (READWRITE, no create), with
 * foreign keys enforced and warren's tables of applied writes in place
 * (warren_applied, warren_applied_many).
 * Its store_begin is BEGIN IMMEDIATE. */
store *store_open_writer(const char *uri, struct wr_err *err);

/* Reads every table's columns, foreign keys and CREATE text (virtual
 * tables included, their shadow tables not). On success *tables holds n
 * definitions that stay valid until store_free. */
int store_introspect(store *st, const struct schema_table_def **tables, size_t *n,
                     struct wr_err *err);

/* A request runs inside one read transaction: one lock for all its
 * statements and one consistent snapshot, ended before the next request so
 * later writes are seen. */
int store_begin(store *st, struct wr_err *err);
void store_end(store *st);

/* Ends a write transaction: COMMIT (rolled back when it fails), or
 * ROLLBACK (a no-op outside a transaction). */
int store_commit(store *st, struct wr_err *err);
void store_rollback(store *st);
/* Runs one INSERT/UPDATE/DELETE with binds; *changes (may be NULL) gets the
 * rows it changed. WR_ECONFLICT when a constraint refused it, WR_EBUSY when
 * the database stayed locked. */
int store_exec(store *st, const char *sql, const struct value *binds, size_t nbinds,
               long long *changes, struct wr_err *err);
/* Statements running past deadline_ms (epoch ms; 0: no limit) stop with
 * WR_ETIMEDOUT. Set before each request. NULL-safe. */
void store_set_deadline(store *st, long long deadline_ms);
/* Gives the statements st runs from now on steps SQLite VM steps in all
 * (counted every 10,000, so to within that; rows' nested statements
 * included); past them a statement stops with WR_ETOOBIG and
 * store_over_budget is true until the next call. 0: no budget. NULL-safe. */
void store_set_budget(store *st, long long steps);
/* Whether the step budget cut a statement short since store_set_budget. */
bool store_over_budget(const store *st);

/* Every statement's time inside SQLite (its steps; the rows' callbacks,
 * and so the statements they nest, are timed apart) goes to series, a
 * duration histogram's series; NULL: not timed. NULL-safe. */
void store_set_metrics(store *st, wr_series *series);

/* A number that changes whenever the committed data st reads may have
 * (another connection's commit, or st's own writes), for caches kept in
 * memory: equal numbers mean equal data. Read outside a transaction it
 * starts a read of its own; the next transaction's snapshot is then this
 * version or newer. -1 when it cannot be read (cache nothing then). */
long long store_data_version(store *st);

/* The rowid of the last INSERT. */
long long store_last_rowid(store *st);

/* Called for each row; row[i] is column i, valid during the call. A
 * non-zero return stops the query and is returned by store_query. */
typedef int (*store_row_fn)(void *arg, const struct value *row, size_t ncols);

/* Runs sql with binds. Queries may nest (a callback may query again, even
 * the same statement). 0, a callback's code, WR_EINVAL when FTS5 refused
 * the text bound to a ` MATCH ?` (err holds SQLite's message, which names
 * the problem), or WR_EIO with err. */
int store_query(store *st, const char *sql, const struct value *binds, size_t nbinds,
                store_row_fn fn, void *arg, struct wr_err *err);
/* Runs a statement whose first column of its first row is an integer. */
int store_count(store *st, const char *sql, const struct value *binds, size_t nbinds,
                long long *out, struct wr_err *err);

/* ---- Change log (changes_sqlite.c) ----
 * A writer records each committed write transaction as one changeset in
 * its file's warren_outbox, in the same transaction, at the next position
 * (1, 2, ...); a publisher sends the entries to the change stream and
 * marks them published. A replica applies them in order to its own file,
 * which keeps the position it is at in warren_replica, in the same
 * transaction as each change. */

/* Makes st (a store_open_writer) record its transactions in
 * warren_outbox, created when missing. 0 or WR_E*. */
int store_outbox_enable(store *st, struct wr_err *err);
/* The position of st's last committed transaction (its outbox's newest
 * entry); 0 when none, or st NULL. */
long long store_position(store *st);

/* After each commit that added an outbox entry, st calls fn with its
 * position (on the committing thread: fn must be quick). */
typedef void (*store_commit_fn)(void *arg, long long position);
void store_on_commit(store *st, store_commit_fn fn, void *arg);

/* The id of st's change log (warren_log: made once per writer file by
 * store_outbox_enable), 32 hex characters, into out ("" when none). */
int store_log_id(store *st, char *out, size_t cap, struct wr_err *err);

/* One outbox entry: a committed transaction's changeset. data is
 * borrowed: valid during the callback. */
struct store_change {
    long long position;
    long long at_ms; /* its commit time, epoch ms */
    const void *data;
    size_t len;
    const char *events; /* its events' lines (store_on_events), or NULL */
    size_t events_len;
};
typedef int (*store_change_fn)(void *arg, const struct store_change *c);

/* Hands fn the unpublished entries past position after, oldest first, at
 * most max. 0, fn's non-zero return, or WR_E*. */
int store_outbox_read(store *st, long long after, int max, store_change_fn fn, void *arg,
                      struct wr_err *err);
/* Marks every entry up to position upto published, and drops published
 * entries but the newest. 0 or WR_E* (WR_EBUSY: locked). */
int store_outbox_mark(store *st, long long upto, struct wr_err *err);

/* ---- Change events (changes_events.c) ----
 * With an events hook, each outbox entry also holds its transaction's
 * change events, rendered by the hook inside the transaction, before the
 * commit (the writer's connection sees its own rows), as lines of text. */

/* What an events hook knows of the transaction it renders. */
struct store_tx_info {
    long long position; /* the position the commit takes */
    long long at_ms;    /* its commit time, epoch ms */
    const char *request_id;
    const char *principal; /* NULL: none */
};
/* Renders the events of the transaction whose changes changeset holds
 * into out (nothing: no event). Runs on st's connection inside the
 * transaction: it may query st. 0, or WR_E* with err (the commit fails). */
typedef int (*store_events_fn)(void *arg, store *st, const struct store_tx_info *tx,
                               const void *changeset, size_t len, struct wr_buf *out,
                               struct wr_err *err);
/* Sets st's events hook (NULL: none). */
void store_on_events(store *st, store_events_fn fn, void *arg);
/* Names who writes st's next transaction, for its events: request_id and
 * principal (may be NULL) are copied. Call after store_begin. */
void store_set_writer(store *st, const char *request_id, const char *principal);

/* One row a changeset changed: its table, what happened, and its values
 * in table column order (an insert's new values, a delete's old ones; an
 * update's new value where the column changed, else its old one, which
 * SQLite keeps for the primary key only: others are V_NULL). Borrowed
 * for the callback. */
enum store_row_op { STORE_ROW_INSERT, STORE_ROW_UPDATE, STORE_ROW_DELETE };
struct store_row {
    const char *table;
    enum store_row_op op;
    const struct value *cols;
    size_t ncols;
};
typedef int (*store_row_fn_t)(void *arg, const struct store_row *r);
/* Hands fn each row of changeset (len bytes), in its order: table by
 * table, rows in the order SQLite recorded them. 0, fn's non-zero return,
 * or WR_EINVAL when changeset is not one. Pure. */
int store_changeset_rows(const void *changeset, size_t len, store_row_fn_t fn, void *arg,
                         struct wr_err *err);

/* Where a replica is: the position of its last applied change, that
 * change's stream offset (-1: none yet, a fresh snapshot), and its commit
 * time. */
struct store_replica_pos {
    long long position;
    long long stream_offset;
    long long at_ms;
    char log_id[40]; /* the writer's log it follows (store_log_id) */
};

/* Opens a replica's own file (a snapshot) for applying changes, in WAL
 * mode, and reads its position into *pos. NULL with err when it cannot,
 * or when the file is no snapshot (no warren_replica). Free with
 * store_free. */
store *store_open_replica(const char *uri, struct store_replica_pos *pos, struct wr_err *err);
/* Reads the position st's file is at. 0 or WR_E*. */
int store_replica_position(store *st, struct store_replica_pos *pos, struct wr_err *err);
/* Applies one changeset and records pos, in one transaction. 0;
 * WR_ECONFLICT when the file does not hold what the change expects (it
 * was changed otherwise: nothing is applied); WR_EBUSY or WR_EIO. */
int store_apply(store *st, const struct store_replica_pos *pos, const void *data, size_t len,
                struct wr_err *err);
/* Copies the database uri names into a new file path (VACUUM INTO: one
 * consistent read, the writer may go on) and makes the copy a replica's
 * start: warren_replica records the position its data is at (*position),
 * the outbox is dropped. 0 or WR_E* (path exists: WR_EIO). */
int store_snapshot(const char *uri, const char *path, long long *position, struct wr_err *err);

#endif
