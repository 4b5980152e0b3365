/* The SQLite adapter: the only catalog file that includes sqlite3.h. Opens
 * the database read-only, reads its schema, and runs the plan's statements
 * with bound values, handing each row to a callback. Prepared statements are
 * cached by SQL text for the life of the store. */
#ifndef CATALOG_STORE_H
#define CATALOG_STORE_H

#include <stddef.h>

#include "model/schema.h"
#include "model/value.h"
#include "warren/err.h"
#include "warren/metrics.h"

typedef struct store store;

/* Opens the database a DATABASE_URI names: 'sqlite:///relative/path' or
 * 'sqlite:////absolute/path' (SQLAlchemy's forms). NULL on error, with err. */
store *store_open(const char *uri, struct wr_err *err);
void store_free(store *st);

/* The same database opened for writing (READWRITE, no create), with
 * foreign keys enforced and warren's table of applied writes in place.
 * Its store_begin is BEGIN IMMEDIATE. */
store *store_open_writer(const char *uri, struct wr_err *err);

/* Reads every table's columns and foreign keys. On success *tables holds n
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

/* Every statement's time inside SQLite (its steps; the rows' callbacks,
 * and so the statements they nest, are timed apart) goes to series, a
 * duration histogram's series; NULL: not timed. NULL-safe. */
void store_set_metrics(store *st, wr_series *series);

/* The rowid of the last INSERT. */
long long store_last_rowid(store *st);

/* Called for each row; row[i] is column i, valid during the call. A
 * non-zero return stops the query and is returned by store_query. */
typedef int (*store_row_fn)(void *arg, const struct value *row, size_t ncols);

/* Runs sql with binds. Queries may nest (a callback may query again, even
 * the same statement). 0, a callback's code, or WR_EIO with err. */
int store_query(store *st, const char *sql, const struct value *binds, size_t nbinds,
                store_row_fn fn, void *arg, struct wr_err *err);
/* Runs a statement whose first column of its first row is an integer. */
int store_count(store *st, const char *sql, const struct value *binds, size_t nbinds,
                long long *out, struct wr_err *err);

#endif
